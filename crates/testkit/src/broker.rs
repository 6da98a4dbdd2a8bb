//! A broker per test, in-process on 127.0.0.1:0, on a fresh SQLite file or
//! a fresh database in a throwaway PostgreSQL cluster that this test
//! process starts once and that stops when the process exits.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use deputy::broker::config::ServeConfig;
use deputy::client::Client;

pub use crate::pg_cluster::{postgres, postgres_tls, test_ca};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        })
    }
}

pub struct TestBroker {
    pub base: String,
    pub admin_token: String,
    /// Holds the SQLite file and bootstrap key until the test ends.
    _dir: tempfile::TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    store_url: String,
}

pub const PRINCIPAL: &str = "arn:aws:iam::123456789012:role/deputy-broker";
pub const ROLE: &str = "arn:aws:iam::210987654321:role/deploy";

impl TestBroker {
    pub async fn start(backend: Backend) -> TestBroker {
        Self::start_with(backend, None, 60).await
    }

    /// With AWS at `aws_endpoint` (an STS emulator) and a verification
    /// retry budget.
    pub async fn start_with(
        backend: Backend,
        aws_endpoint: Option<String>,
        verify_retry_seconds: u64,
    ) -> TestBroker {
        Self::start_configured(backend, |config| {
            config.aws_endpoint_url = aws_endpoint;
            config.verify_retry_seconds = verify_retry_seconds;
        })
        .await
    }

    /// With the test defaults changed by `configure`.
    pub async fn start_configured(
        backend: Backend,
        configure: impl FnOnce(&mut ServeConfig),
    ) -> TestBroker {
        let dir = tempfile::tempdir().unwrap();
        let store_url = match backend {
            Backend::Sqlite => format!("sqlite://{}/deputy.db", dir.path().display()),
            Backend::Postgres => postgres().fresh_database(),
        };
        let mut config = config(&store_url, dir.path());
        configure(&mut config);
        // Without AWS, registry tests attach unverified.
        config.skip_verify_on_attach = config.aws_endpoint_url.is_none();
        let state = deputy::broker::server::prepare(&config)
            .await
            .expect("broker starts");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let served = tokio::spawn(deputy::broker::server::serve(listener, state, async {
            let _ = rx.await;
        }));
        // A broker on a store that already has keys (a second replica)
        // writes no bootstrap key: use the first one's admin key.
        let admin_token = std::fs::read_to_string(dir.path().join("admin.key"))
            .map(|key| key.trim().to_string())
            .unwrap_or_default();
        TestBroker {
            base: format!("http://{addr}/"),
            admin_token,
            _dir: dir,
            shutdown: Some(tx),
            served: Some(served),
            store_url,
        }
    }

    pub fn client(&self, token: &str) -> Client {
        Client::new(
            self.base.parse().unwrap(),
            token.to_string(),
            Duration::from_secs(10),
            &Default::default(),
        )
        .unwrap()
    }

    /// The directory holding the SQLite files and the bootstrap key.
    pub fn data_dir(&self) -> &Path {
        self._dir.path()
    }

    /// Shuts the broker down as SIGTERM would and waits until it has
    /// finished (its background work included); the store stays, at
    /// [`TestBroker::store_url`].
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(served) = self.served.take() {
            served.await.unwrap().unwrap();
        }
    }

    /// The bytes of a SQLite store on disk, its write-ahead log included.
    pub fn sqlite_bytes(&self) -> u64 {
        ["deputy.db", "deputy.db-wal"]
            .iter()
            .filter_map(|f| std::fs::metadata(self.data_dir().join(f)).ok())
            .map(|m| m.len())
            .sum()
    }

    /// The store this broker uses (`sqlite://...` or `postgres://...`).
    pub fn store_url(&self) -> &str {
        &self.store_url
    }

    pub fn admin(&self) -> Client {
        self.client(&self.admin_token)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path.trim_start_matches('/'))
    }
}

impl Drop for TestBroker {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub fn config(store_url: &str, dir: &Path) -> ServeConfig {
    ServeConfig {
        listen: "127.0.0.1:0".parse::<SocketAddr>().unwrap(),
        tls_cert: None,
        tls_key: None,
        public_url: None,
        store_url: store_url.to_string(),
        store_acquire_timeout: 2,
        store_max_connections: None,
        migrate: deputy::broker::config::Migrate::Auto,
        account: "acme".parse().unwrap(),
        principal_arn: Some(PRINCIPAL.parse().unwrap()),
        bootstrap_key_file: Some(dir.join("admin.key")),
        aws_endpoint_url: None,
        canary_role_arn: None,
        verify_retry_seconds: 60,
        skip_verify_on_attach: true,
        reverify_interval: 0,
        allow_account_principal: false,
        max_trust_policy_length: deputy::model::trust_policy::DEFAULT_MAX_LENGTH,
        // Tests and benchmarks vend in loops; the limit has its own test.
        credentials_rate_limit: 0,
        oidc_ca_file: None,
        shutdown_delay: 0,
        shutdown_grace: 30,
        bootstrap_key_expires_in: None,
    }
}

/// Defines one test per backend from one async body.
#[macro_export]
macro_rules! on_both {
    ($name:ident, |$backend:ident| $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let $backend = $crate::broker::Backend::Sqlite;
                $body.await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let $backend = $crate::broker::Backend::Postgres;
                $body.await
            }
        }
    };
}
