//! `deputy healthcheck`: asks a broker's `/readyz` and exits 0 when it is
//! ready, 1 otherwise. For container HEALTHCHECKs and service managers on
//! images without curl; it carries no key.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct HealthcheckArgs {
    /// The URL to ask. Defaults to this machine's broker: /readyz on the
    /// port of DEPUTY_LISTEN (8420), over https when DEPUTY_TLS_CERT is set.
    #[arg(long)]
    pub url: Option<reqwest::Url>,

    /// The broker's listen address, for the default URL.
    #[arg(
        long,
        env = "DEPUTY_LISTEN",
        default_value = "127.0.0.1:8420",
        hide = true
    )]
    pub listen: SocketAddr,

    /// Whether the broker serves TLS, for the default URL.
    #[arg(long, env = "DEPUTY_TLS_CERT", hide = true)]
    pub tls_cert: Option<std::path::PathBuf>,

    /// CA certificates (PEM) to trust for an https URL.
    #[arg(long, env = "DEPUTY_CA_FILE", value_name = "FILE")]
    pub ca_file: Option<std::path::PathBuf>,

    /// The name the broker's certificate carries (for example
    /// deputy.example.com), for the default URL over TLS: the check still
    /// connects to this machine, and verifies the certificate against this
    /// name [default: localhost].
    #[arg(long, env = "DEPUTY_HEALTHCHECK_SERVER_NAME", value_name = "NAME")]
    pub server_name: Option<String>,
}

/// Exit code 0 when the broker answers 200, else 1 with the reason.
pub async fn run(args: HealthcheckArgs) -> anyhow::Result<i32> {
    let mut http = reqwest::Client::builder().timeout(Duration::from_secs(5));
    // This machine's broker, by the address it listens on (loopback when it
    // listens on every interface).
    let local = match args.listen.ip() {
        ip if ip.is_unspecified() => SocketAddr::from(([127, 0, 0, 1], args.listen.port())),
        _ => args.listen,
    };
    let url = match args.url {
        Some(url) => url,
        None if args.tls_cert.is_some() => {
            // The certificate names the broker's host, not an address: ask
            // for that name, and reach it here.
            let name = args.server_name.as_deref().unwrap_or("localhost");
            http = http.resolve(name, local);
            format!("https://{name}:{}/readyz", local.port()).parse()?
        }
        None => format!("http://{local}/readyz").parse()?,
    };
    if let Some(path) = &args.ca_file {
        let pem = std::fs::read(path)
            .map_err(|e| anyhow::anyhow!("--ca-file {}: {e}", path.display()))?;
        http = http.tls_certs_merge(reqwest::Certificate::from_pem_bundle(&pem)?);
    }
    match http.build()?.get(url.clone()).send().await {
        Ok(answer) if answer.status().is_success() => Ok(0),
        Ok(answer) => {
            let status = answer.status();
            let body = answer.text().await.unwrap_or_default();
            eprintln!("deputy: {url} answered {status}: {}", body.trim());
            Ok(1)
        }
        Err(e) => {
            let chain = crate::client::describe(&e);
            let hint = if chain.contains("NotValidForName") || chain.contains("not valid for name")
            {
                " (the certificate does not name this host: set DEPUTY_HEALTHCHECK_SERVER_NAME, \
                 or --server-name, to a name it carries)"
            } else if chain.contains("UnknownIssuer") || chain.contains("unknown issuer") {
                " (the certificate's CA is not trusted: set DEPUTY_CA_FILE to it)"
            } else {
                ""
            };
            eprintln!("deputy: {url}: {chain}{hint}");
            Ok(1)
        }
    }
}
