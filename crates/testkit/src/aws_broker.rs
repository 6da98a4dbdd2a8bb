//! A real `deputy serve` process running as an IAM user of the emulator:
//! its principal is discovered with GetCallerIdentity, as in production,
//! and it can be killed with SIGKILL and restarted on the same store.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use deputy::client::Client;
use deputy::model::Phase;
use deputy::wire::{ApiKeyInput, AttachmentInput, Integration, IntegrationInput};

use serde_json::json;

use crate::fakecloud::{AccessKey, Fakecloud, trust};

pub struct Broker {
    child: Option<tokio::process::Child>,
    pub base: String,
    port: u16,
    dir: tempfile::TempDir,
    endpoint: String,
    key_id: String,
    key_secret: String,
    args: Vec<String>,
    /// `--store`: None for a SQLite file in `dir`.
    store: Option<String>,
    /// Run under libfaketime with this offset (`+90s`): a host whose clock
    /// is off.
    clock_offset: Option<String>,
    /// The `deputy` to run: this build's, or another (the benchmark report
    /// compares with an earlier commit's).
    binary: PathBuf,
    pub admin_token: String,
}

impl Broker {
    /// Starts a broker on a fresh SQLite store; `args` are extra flags.
    pub async fn start(fc: &Fakecloud, key: &AccessKey, args: &[&str]) -> Broker {
        Self::start_on(fc, key, args, None).await
    }

    /// On `store` (a PostgreSQL URL), or a fresh SQLite file when None.
    pub async fn start_on(
        fc: &Fakecloud,
        key: &AccessKey,
        args: &[&str],
        store: Option<String>,
    ) -> Broker {
        Self::launch_new(crate::bin("deputy"), fc, key, args, store).await
    }

    /// Another `deputy` binary, on a fresh SQLite store (the benchmark
    /// report's baseline; the tests run this build's).
    pub async fn start_binary(
        binary: &std::path::Path,
        fc: &Fakecloud,
        key: &AccessKey,
        args: &[&str],
    ) -> Broker {
        Self::launch_new(binary.to_path_buf(), fc, key, args, None).await
    }

    async fn launch_new(
        binary: PathBuf,
        fc: &Fakecloud,
        key: &AccessKey,
        args: &[&str],
        store: Option<String>,
    ) -> Broker {
        let mut b = Broker {
            child: None,
            base: String::new(),
            port: 0,
            dir: tempfile::tempdir().unwrap(),
            endpoint: fc.endpoint.clone(),
            key_id: key.id.clone(),
            key_secret: key.secret.clone(),
            args: args.iter().map(|a| a.to_string()).collect(),
            store,
            clock_offset: None,
            binary,
            admin_token: String::new(),
        };
        b.pick_port();
        b.launch().await.expect("deputy serve starts");
        b.admin_token = std::fs::read_to_string(b.dir.path().join("admin.key"))
            .unwrap()
            .trim()
            .to_string();
        b
    }

    /// Another replica on the same PostgreSQL store, with the same flags
    /// and AWS identity, on its own port.
    pub async fn replica(&self) -> Broker {
        self.replica_on_clock(None).await
    }

    /// A replica on a host whose clock is `offset` off (libfaketime's
    /// `faketime -f`, e.g. `+90s`); timers keep the real monotonic clock.
    pub async fn replica_with_clock(&self, offset: &str) -> Broker {
        self.replica_on_clock(Some(offset.to_string())).await
    }

    async fn replica_on_clock(&self, clock_offset: Option<String>) -> Broker {
        assert!(self.store.is_some(), "replicas share a PostgreSQL store");
        let mut b = Broker {
            child: None,
            base: String::new(),
            port: 0,
            dir: tempfile::tempdir().unwrap(),
            endpoint: self.endpoint.clone(),
            key_id: self.key_id.clone(),
            key_secret: self.key_secret.clone(),
            args: self.args.clone(),
            store: self.store.clone(),
            clock_offset,
            binary: self.binary.clone(),
            admin_token: self.admin_token.clone(),
        };
        b.pick_port();
        b.launch().await.expect("the replica starts");
        b
    }

    fn pick_port(&mut self) {
        self.port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        self.base = format!("http://127.0.0.1:{}/", self.port);
    }

    /// The SQLite files and the bootstrap key.
    pub fn data_dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("broker.log")
    }

    /// The broker's log so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Runs `deputy serve`; an error holds its log when it did not start.
    async fn launch(&mut self) -> Result<(), String> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .unwrap();
        let mut command = match &self.clock_offset {
            Some(offset) => {
                let mut c = tokio::process::Command::new("faketime");
                c.args(["-f", offset]).arg(&self.binary);
                c
            }
            None => tokio::process::Command::new(&self.binary),
        };
        let mut child = command
            .arg("serve")
            .args(["--account", "acme"])
            .arg("--store")
            .arg(
                self.store
                    .clone()
                    .unwrap_or_else(|| format!("sqlite://{}/deputy.db", self.dir.path().display())),
            )
            .args(["--listen", &format!("127.0.0.1:{}", self.port)])
            .arg("--bootstrap-key-file")
            .arg(self.dir.path().join("admin.key"))
            .args(["--aws-endpoint-url", &self.endpoint])
            .args(&self.args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            // Read by libfaketime only (a replica with a skewed clock):
            // its timers stay on the real monotonic clock.
            .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
            .env("HOME", self.dir.path())
            .env("AWS_ACCESS_KEY_ID", &self.key_id)
            .env("AWS_SECRET_ACCESS_KEY", &self.key_secret)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("DEPUTY_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        for _ in 0..400 {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("deputy serve exited ({status}):\n{}", self.log()));
            }
            let ready = reqwest::get(format!("{}readyz", self.base))
                .await
                .is_ok_and(|r| r.status() == 200);
            if ready {
                self.child = Some(child);
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(format!(
            "deputy serve did not become ready:\n{}",
            self.log()
        ))
    }

    /// SIGKILL: no shutdown, no cleanup, as a crash or an OOM kill.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.start_kill().unwrap();
            child.wait().await.unwrap();
        }
    }

    pub async fn restart(&mut self) {
        self.kill().await;
        self.launch().await.expect("deputy serve restarts");
    }

    pub fn client(&self, token: &str, timeout: Duration) -> Client {
        Client::new(
            self.base.parse().unwrap(),
            token.into(),
            timeout,
            &Default::default(),
        )
        .unwrap()
    }

    pub fn admin(&self) -> Client {
        self.client(&self.admin_token, Duration::from_secs(120))
    }

    /// A runner key for `stack`'s phases.
    pub async fn runner(&self, stack: &str, phases: &[Phase]) -> Client {
        let created = self
            .admin()
            .create_key(&ApiKeyInput::runner(stack, phases))
            .await
            .unwrap();
        self.client(&created.token, Duration::from_secs(60))
    }

    /// Creates `stack`, and an integration `name` (role `name`) attached to
    /// it for both phases, as [`Self::attached_integration`] does.
    pub async fn stack_with_integration(
        &self,
        fc: &Fakecloud,
        principal: &str,
        stack: &str,
        name: &str,
    ) -> Integration {
        self.admin()
            .create_stack(&deputy::wire::StackInput::with_id(stack))
            .await
            .unwrap();
        self.attached_integration(
            fc,
            principal,
            IntegrationInput {
                name: name.into(),
                role_arn: format!("arn:aws:iam::123456789012:role/{name}"),
                ..Default::default()
            },
            stack,
        )
        .await
    }

    /// Registers `input`, creates its role in the emulator trusting
    /// `principal` with the External IDs of `stack`'s two phases, and
    /// attaches it to `stack` for both (verified, as an attach is).
    pub async fn attached_integration(
        &self,
        fc: &Fakecloud,
        principal: &str,
        input: IntegrationInput,
        stack: &str,
    ) -> Integration {
        let admin = self.admin();
        let role = input.role_arn.rsplit('/').next().unwrap().to_string();
        let integration = admin.create_integration(&input).await.unwrap();
        let ids: Vec<String> = ["read", "write"]
            .iter()
            .map(|p| format!("acme@{}@{stack}@{p}", integration.id))
            .collect();
        fc.role(
            &role,
            &trust(
                principal,
                json!({"Condition": {"StringEquals": {"sts:ExternalId": ids}}}),
            ),
        )
        .await
        .unwrap();
        admin
            .attach(
                &integration.id,
                &AttachmentInput {
                    stack_id: stack.into(),
                    read: true,
                    write: true,
                },
            )
            .await
            .unwrap();
        integration
    }
}

/// A command's attempts to start a broker that must refuse to start.
pub async fn refuses_to_start(fc: &Fakecloud, key: &AccessKey, args: &[&str]) -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let out = tokio::process::Command::new(crate::bin("deputy"))
        .arg("serve")
        .args([
            "--account",
            "acme",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .arg("--store")
        .arg(format!("sqlite://{}/deputy.db", dir.path().display()))
        .args(["--aws-endpoint-url", &fc.endpoint])
        .args(args)
        .env_clear()
        .env("HOME", dir.path())
        .env("AWS_ACCESS_KEY_ID", &key.id)
        .env("AWS_SECRET_ACCESS_KEY", &key.secret)
        .env("AWS_REGION", "us-east-1")
        .output()
        .await
        .unwrap();
    assert!(!out.status.success(), "the broker started");
    String::from_utf8_lossy(&out.stderr).into_owned()
}
