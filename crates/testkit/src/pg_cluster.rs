//! Throwaway PostgreSQL clusters for tests: started once per test process
//! (initdb into a temporary directory, as the `postgres` user when run as
//! root), stopped when the process exits; one database per test. Shared by
//! the broker and AWS test binaries.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

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
    test_ca_for(dir, "localhost")
}

/// [`test_ca`] with a server certificate for `name` instead of localhost.
pub fn test_ca_for(dir: &Path, name: &str) -> PathBuf {
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
    let cert = CertificateParams::new(vec![name.to_string()])
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
        remove_stale_clusters();
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

/// Clusters outlive their test process by design (nothing runs at exit);
/// their directories are removed here, once no server runs in them and
/// they are old enough not to be one another process is still creating.
fn remove_stale_clusters() {
    let hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
    for entry in std::fs::read_dir(std::env::temp_dir())
        .into_iter()
        .flatten()
        .flatten()
    {
        let path = entry.path();
        let named = entry.file_name().to_string_lossy().starts_with("deputy-pg");
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t < hour_ago);
        let running = std::fs::read_to_string(path.join("data/postmaster.pid"))
            .ok()
            .and_then(|pid| pid.lines().next().map(str::to_string))
            .is_some_and(|pid| Path::new("/proc").join(pid.trim()).exists());
        if named && old && !running {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
