//! A broker per test, in-process on 127.0.0.1:0, on a fresh SQLite file or
//! a fresh database in a throwaway PostgreSQL cluster that this test
//! process starts once and that stops when the process exits.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use deputy::broker::config::ServeConfig;
use deputy::client::Client;

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
        tokio::spawn(deputy::broker::server::serve(listener, state, async {
            let _ = rx.await;
        }));
        let admin_token = std::fs::read_to_string(dir.path().join("admin.key"))
            .unwrap()
            .trim()
            .to_string();
        TestBroker {
            base: format!("http://{addr}/"),
            admin_token,
            _dir: dir,
            shutdown: Some(tx),
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
        store_url: store_url.to_string(),
        account: "acme".parse().unwrap(),
        principal_arn: Some(PRINCIPAL.parse().unwrap()),
        bootstrap_key_file: Some(dir.join("admin.key")),
        aws_endpoint_url: None,
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

/// One PostgreSQL cluster per test process.
pub struct Postgres {
    port: u16,
    next_db: AtomicU32,
    /// For a cluster with `ssl=on`: the test CA that signed its
    /// certificate (which names `localhost` only).
    pub ca_file: Option<PathBuf>,
}

pub fn postgres() -> &'static Postgres {
    static PG: OnceLock<Postgres> = OnceLock::new();
    PG.get_or_init(|| Postgres::start(false))
}

/// A second cluster, with `ssl=on` and a certificate from a test CA.
pub fn postgres_tls() -> &'static Postgres {
    static PG: OnceLock<Postgres> = OnceLock::new();
    PG.get_or_init(|| Postgres::start(true))
}

/// A CA and a server certificate for `localhost` signed by it, as PEM
/// files in `dir`: ca.pem, server.crt, server.key.
pub fn test_ca(dir: &Path) -> PathBuf {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let ca_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "deputy test PostgreSQL CA");
    let ca_cert = params.self_signed(&ca_key).unwrap();
    let ca = rcgen::Issuer::new(params, ca_key);
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    std::fs::write(dir.join("ca.pem"), ca_cert.pem()).unwrap();
    std::fs::write(dir.join("server.crt"), cert.pem()).unwrap();
    std::fs::write(dir.join("server.key"), key.serialize_pem()).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            dir.join("server.key"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
    }
    dir.join("ca.pem")
}

fn pg_bin(name: &str) -> PathBuf {
    let on_path = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join(name))
        .find(|p| p.is_file());
    let debian = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin").join(name))
        .find(|p| p.is_file());
    on_path.or(debian).unwrap_or_else(|| {
        panic!("PostgreSQL's {name} was not found: install the `postgresql` package (scripts/setup does)")
    })
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// Runs a PostgreSQL program, as the `postgres` user when we are root
/// (initdb and postgres refuse to run as root).
fn pg_command(program: &Path) -> Command {
    if is_root() {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(program);
        cmd
    } else {
        Command::new(program)
    }
}

impl Postgres {
    fn start(tls: bool) -> Postgres {
        let dir = tempfile::Builder::new()
            .prefix("deputy-pg")
            .tempdir()
            .unwrap()
            .keep();
        let ca_file = tls.then(|| test_ca(&dir));
        if is_root() {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .status()
                .unwrap();
            assert!(
                status.success(),
                "chown of the PostgreSQL test directory failed"
            );
        }
        let data = dir.join("data");
        let out = pg_command(&pg_bin("initdb"))
            .args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"])
            .arg(&data)
            .output()
            .expect("run initdb");
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = free_port();
        // The server lives as long as this process: it is stopped when the
        // pipe on its shell's stdin closes, which happens however we exit.
        let ssl = if tls {
            format!(
                "-c ssl=on -c ssl_cert_file={0}/server.crt -c ssl_key_file={0}/server.key",
                dir.display()
            )
        } else {
            String::new()
        };
        let script = format!(
            "{} -D {} -k {} -p {port} -h 127.0.0.1 {ssl} >{}/log 2>&1 & pid=$!; read _; kill -INT $pid",
            pg_bin("postgres").display(),
            data.display(),
            dir.display(),
            dir.display(),
        );
        let mut shell = pg_command(Path::new("/bin/sh"));
        let child = shell
            .arg("-c")
            .arg(script)
            .stdin(Stdio::piped())
            .spawn()
            .expect("start postgres");
        Box::leak(Box::new(child));
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                std::thread::sleep(Duration::from_millis(200));
                return Postgres {
                    port,
                    next_db: AtomicU32::new(0),
                    ca_file,
                };
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("PostgreSQL did not start; see {}/log", dir.display());
    }

    pub fn fresh_database(&self) -> String {
        let n = self.next_db.fetch_add(1, Ordering::SeqCst);
        let name = format!("t{}_{n}", std::process::id());
        let out = pg_command(&pg_bin("psql"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-c",
            ])
            .arg(format!("CREATE DATABASE {name}"))
            .output()
            .expect("psql");
        assert!(
            out.status.success(),
            "create database: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Defines one test per backend from one async body.
#[macro_export]
macro_rules! on_both {
    ($name:ident, |$backend:ident| $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let $backend = $crate::support::Backend::Sqlite;
                $body.await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let $backend = $crate::support::Backend::Postgres;
                $body.await
            }
        }
    };
}
