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
}

/// Exit code 0 when the broker answers 200, else 1 with the reason.
pub async fn run(args: HealthcheckArgs) -> anyhow::Result<i32> {
    let url = match args.url {
        Some(url) => url,
        None => {
            // The certificate names the broker's host, not 127.0.0.1.
            let (scheme, host) = if args.tls_cert.is_some() {
                ("https", "localhost")
            } else {
                ("http", "127.0.0.1")
            };
            format!("{scheme}://{host}:{}/readyz", args.listen.port()).parse()?
        }
    };
    let mut http = reqwest::Client::builder().timeout(Duration::from_secs(5));
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
            eprintln!("deputy: {url}: {e}");
            Ok(1)
        }
    }
}
