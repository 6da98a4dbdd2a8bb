//! `deputy serve` settings: every flag has a `DEPUTY_*` environment
//! fallback, so containers can be configured without a command line.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

use crate::model::{AccountName, PrincipalArn};

/// Where the registry lives when `--store` is not given. Its URL is never
/// shown in `--help` from the environment: it may hold a password.
pub const DEFAULT_STORE: &str = "sqlite://deputy-data/deputy.db";

/// Whether a starting broker brings the store's schema up to date itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Migrate {
    /// Apply pending migrations at start (on PostgreSQL under a lock, so
    /// replicas starting together apply each one once).
    Auto,
    /// Refuse to start while migrations are pending: they are run with
    /// `deputy migrate`, after a backup.
    Never,
}

#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Address and port to listen on. Use 0.0.0.0:8420 to accept
    /// connections from other hosts, with --tls-cert or behind a proxy
    /// that terminates TLS: API keys and credentials cross this link.
    #[arg(long, env = "DEPUTY_LISTEN", default_value = "127.0.0.1:8420")]
    pub listen: SocketAddr,

    /// Serve HTTPS with this certificate (PEM: the server's, then its
    /// chain). SIGHUP reloads it and --tls-key without dropping open
    /// connections.
    #[arg(
        long = "tls-cert",
        env = "DEPUTY_TLS_CERT",
        value_name = "FILE",
        requires = "tls_key"
    )]
    pub tls_cert: Option<PathBuf>,

    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(
        long = "tls-key",
        env = "DEPUTY_TLS_KEY",
        value_name = "FILE",
        requires = "tls_cert"
    )]
    pub tls_key: Option<PathBuf>,

    /// The URL browsers and clients reach the broker at, when it is not the
    /// listener itself: behind a proxy that terminates TLS, give its
    /// https:// URL so the console's cookies are `Secure` and
    /// `__Host-`-prefixed and answers carry HSTS, as with --tls-cert.
    #[arg(long = "public-url", env = "DEPUTY_PUBLIC_URL", value_parser = public_url)]
    pub public_url: Option<url::Url>,

    /// Where the registry lives: a SQLite file path (`sqlite://PATH` or just PATH;
    /// the default, created on first start) or a PostgreSQL URL
    /// (`postgres://user:pass@host/db`) when several brokers share state.
    #[arg(
        long = "store",
        env = "DEPUTY_STORE",
        hide_env_values = true,
        default_value = DEFAULT_STORE
    )]
    pub store_url: String,

    /// Seconds a request waits for a store connection before it is
    /// answered 503 (`store_unavailable`, with Retry-After): a store that
    /// is down or overloaded is said at once instead of after a hang.
    #[arg(
        long,
        env = "DEPUTY_STORE_ACQUIRE_TIMEOUT",
        default_value_t = 2,
        value_parser = clap::value_parser!(u64).range(1..=60)
    )]
    pub store_acquire_timeout: u64,

    /// Store connections per replica [default: 16 on PostgreSQL, 8 on
    /// SQLite, where writes go one at a time anyway].
    #[arg(
        long,
        env = "DEPUTY_STORE_MAX_CONNECTIONS",
        value_parser = clap::value_parser!(u32).range(1..=1000)
    )]
    pub store_max_connections: Option<u32>,

    /// Whether a starting broker applies pending schema migrations (`auto`)
    /// or refuses to start until `deputy migrate` has (`never`, for
    /// upgrades run as their own step, after a backup).
    #[arg(long, env = "DEPUTY_MIGRATE", value_enum, default_value = "auto")]
    pub migrate: Migrate,

    /// The account name: the first field of every External ID. Choose it
    /// once; changing it changes every External ID customers trust.
    #[arg(long, env = "DEPUTY_ACCOUNT")]
    pub account: AccountName,

    /// The AWS principal customer trust policies must allow (for example
    /// arn:aws:iam::123456789012:role/deputy). Discovered with
    /// GetCallerIdentity when left out; set it for roles with a path, which
    /// STS does not report.
    #[arg(long = "principal-arn", env = "DEPUTY_AWS_PRINCIPAL_ARN")]
    pub principal_arn: Option<PrincipalArn>,

    /// Override of the AWS STS endpoint (for an emulator or a VPC endpoint);
    /// AWS credentials come from the default chain (environment, profile,
    /// web identity, instance or container role).
    #[arg(long = "aws-endpoint-url", env = "DEPUTY_AWS_ENDPOINT_URL")]
    pub aws_endpoint_url: Option<String>,

    /// A canary role in the broker's own AWS account (strongly recommended):
    /// its identity policy allows nothing but `sts:AssumeRole`, and it
    /// trusts the broker's principal. Verification assumes it and presents
    /// each role's right External ID as the canary: a role that lets the
    /// canary in trusts deputy's whole account (or any principal), not
    /// deputy, and is refused. Without one, reports say this was not
    /// checked. deploy/aws/ has CloudFormation and Terraform templates that
    /// create the broker's role and its canary.
    #[arg(
        long = "canary-role-arn",
        env = "DEPUTY_CANARY_ROLE_ARN",
        value_name = "ARN"
    )]
    pub canary_role_arn: Option<crate::model::RoleArn>,

    /// How long verification retries AccessDenied on a role's External ID
    /// step: new IAM roles usually become assumable within 10-30 seconds.
    #[arg(
        long = "verify-retry-seconds",
        env = "DEPUTY_VERIFY_RETRY_SECONDS",
        default_value_t = 60
    )]
    pub verify_retry_seconds: u64,

    /// Attach without verifying the role. Verification is what proves a role
    /// cannot be used without its External ID: only skip it where no AWS is
    /// reachable (demos, tests of the registry alone).
    #[arg(long = "skip-verify-on-attach", env = "DEPUTY_SKIP_VERIFY_ON_ATTACH")]
    pub skip_verify_on_attach: bool,

    /// Re-verify every integration whose last verification is older than
    /// this many seconds (default one day; 0 turns it off). A role whose
    /// trust policy became unsafe then stops vending, audited. Replicas
    /// sharing a store re-verify each integration once per interval.
    #[arg(
        long = "reverify-interval",
        env = "DEPUTY_REVERIFY_INTERVAL",
        default_value_t = 86_400,
        value_name = "SECONDS"
    )]
    pub reverify_interval: u64,

    /// Your account's quota for a role trust policy, in characters
    /// (whitespace not counted): AWS's default is 2048, and it grants up to
    /// 4096 on request. Trust policies longer than this are refused where
    /// deputy emits them, and so are attachments that would need one.
    #[arg(
        long = "max-trust-policy-length",
        env = "DEPUTY_MAX_TRUST_POLICY_LENGTH",
        default_value_t = crate::model::trust_policy::DEFAULT_MAX_LENGTH,
        value_parser = trust_policy_length,
        value_name = "CHARACTERS"
    )]
    pub max_trust_policy_length: usize,

    /// Accept an account root (`arn:aws:iam::N:root`) as the broker's
    /// principal. Customer trust policies would then trust every principal
    /// of that account that its own policies allow, not just the broker:
    /// use a role or user instead.
    #[arg(
        long = "allow-account-principal",
        env = "DEPUTY_ALLOW_ACCOUNT_PRINCIPAL"
    )]
    pub allow_account_principal: bool,

    /// Credential requests allowed a minute for each runner key and each
    /// OIDC token subject, per replica; more get 429 with Retry-After.
    /// 0 turns the limit off.
    #[arg(
        long = "credentials-rate-limit",
        env = "DEPUTY_CREDENTIALS_RATE_LIMIT",
        default_value_t = 60,
        value_name = "PER_MINUTE"
    )]
    pub credentials_rate_limit: u32,

    /// Extra CA certificates (PEM) to trust when fetching OIDC issuers'
    /// signing keys, beside the system's: for an issuer behind a private CA
    /// (GitHub Enterprise Server, self-managed GitLab).
    #[arg(
        long = "oidc-ca-file",
        env = "DEPUTY_OIDC_CA_FILE",
        value_name = "FILE"
    )]
    pub oidc_ca_file: Option<PathBuf>,

    /// On SIGTERM or SIGINT, keep serving for this many seconds while
    /// `/readyz` answers 503, so load balancers stop sending requests
    /// before the listener closes (a few seconds behind Kubernetes).
    #[arg(
        long = "shutdown-delay",
        env = "DEPUTY_SHUTDOWN_DELAY",
        default_value_t = 0,
        value_name = "SECONDS"
    )]
    pub shutdown_delay: u64,

    /// Then how long requests in flight may take to finish before the
    /// broker stops anyway. A verification cut short leaves nothing
    /// applied and is audited as interrupted.
    #[arg(
        long = "shutdown-grace",
        env = "DEPUTY_SHUTDOWN_GRACE",
        default_value_t = 30,
        value_name = "SECONDS"
    )]
    pub shutdown_grace: u64,

    /// Lifetime of the bootstrap admin key, in seconds (no expiry when
    /// left out). Until named admin keys exist, every start warns.
    #[arg(
        long = "bootstrap-key-expires-in",
        env = "DEPUTY_BOOTSTRAP_KEY_EXPIRES_IN",
        value_name = "SECONDS",
        value_parser = clap::value_parser!(u64).range(1..=315_360_000)
    )]
    pub bootstrap_key_expires_in: Option<u64>,

    /// Where the first start writes the bootstrap admin key (mode 0600).
    /// Defaults to `admin.key` beside a SQLite database; with PostgreSQL
    /// there is no default, and a first start without it is refused.
    #[arg(long, env = "DEPUTY_BOOTSTRAP_KEY_FILE")]
    pub bootstrap_key_file: Option<PathBuf>,
}

impl ServeConfig {
    /// Whether browsers reach the broker over HTTPS: it serves TLS itself,
    /// or its public URL is https://.
    pub fn serves_https(&self) -> bool {
        self.tls_cert.is_some()
            || self
                .public_url
                .as_ref()
                .is_some_and(|u| u.scheme() == "https")
    }

    /// Where the bootstrap key goes, if anywhere is known: the flag, or
    /// beside a SQLite database. A PostgreSQL store has no directory of
    /// its own, and the working directory of a service is no place for a
    /// key, so it needs the flag.
    pub fn bootstrap_key_path(&self) -> Option<PathBuf> {
        if let Some(path) = &self.bootstrap_key_file {
            return Some(path.clone());
        }
        let url = self.store_url.as_str();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return None;
        }
        let path = url
            .trim_start_matches("sqlite://")
            .trim_start_matches("sqlite:");
        Some(PathBuf::from(path.split('?').next().unwrap_or_default()).with_file_name("admin.key"))
    }
}

/// `--max-trust-policy-length`, checked by the model's rule.
fn trust_policy_length(text: &str) -> Result<usize, String> {
    let value: i64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a whole number of characters"))?;
    crate::model::trust_policy::max_length(value).map_err(|e| e.0)
}

/// `--public-url`: an http(s) URL with a host.
fn public_url(text: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(text).map_err(|e| format!("{text:?} is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!(
            "{text:?} is not an http(s) URL with a host (for example https://deputy.example.com)"
        ));
    }
    Ok(url)
}
