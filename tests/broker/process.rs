//! `deputy serve` as a real process on loopback, for what only a process
//! shows: signals, `kill -9`, TLS on its listener, several replicas.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use crate::support::PRINCIPAL;

pub struct ServeProcess {
    pub child: tokio::process::Child,
    /// `http://127.0.0.1:PORT/`, or `https://localhost:PORT/` over TLS.
    pub base: String,
}

impl ServeProcess {
    /// Over plain HTTP, with extra `deputy serve` flags; the bootstrap key
    /// goes to `dir/admin.key`, the log to `dir/serve.log`.
    pub async fn spawn(store: &str, dir: &Path, args: &[&str]) -> ServeProcess {
        Self::start(store, dir, args, None).await
    }

    /// Over TLS: `args` name the certificate, `ca` is what the readiness
    /// probe trusts.
    pub async fn spawn_tls(store: &str, dir: &Path, args: &[&str], ca: &Path) -> ServeProcess {
        Self::start(store, dir, args, Some(ca)).await
    }

    async fn start(store: &str, dir: &Path, args: &[&str], ca: Option<&Path>) -> ServeProcess {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_deputy"))
            .args(["serve", "--account", "acme", "--principal-arn", PRINCIPAL])
            .args(["--store", store])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .arg("--bootstrap-key-file")
            .arg(dir.join("admin.key"))
            .args(args)
            .stdout(Stdio::null())
            .stderr(log_file(dir))
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let (base, probe) = match ca {
            None => (format!("http://127.0.0.1:{port}/"), reqwest::Client::new()),
            Some(ca) => (format!("https://localhost:{port}/"), https_client(ca)),
        };
        for _ in 0..200 {
            if probe
                .get(format!("{base}readyz"))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                return ServeProcess { child, base };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("deputy serve did not become ready at {base}");
    }

    pub fn pid(&self) -> nix::unistd::Pid {
        nix::unistd::Pid::from_raw(self.child.id().expect("running") as i32)
    }

    pub fn signal(&self, signal: nix::sys::signal::Signal) {
        nix::sys::signal::kill(self.pid(), signal).unwrap();
    }
}

/// A client trusting only `ca` (not the system's roots), so a test sees
/// which certificate the broker presents.
pub fn https_client(ca: &Path) -> reqwest::Client {
    let pem = std::fs::read(ca).unwrap();
    reqwest::Client::builder()
        .tls_certs_only(reqwest::Certificate::from_pem_bundle(&pem).unwrap())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// `deputy ARGS` run to its end in `dir`, for the commands that work on
/// a store beside the broker (`migrate`, `backup`, `serve` refusing to
/// start).
pub fn deputy(args: &[&str], dir: &Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_deputy"))
        .args(args)
        .env("DEPUTY_LOG", "warn")
        .current_dir(dir)
        .output()
        .unwrap()
}

/// What a finished command printed, both streams.
pub fn said(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Where the processes started in `dir` log (appended, for replicas).
pub fn log_file(dir: &Path) -> std::fs::File {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("serve.log"))
        .unwrap()
}

/// The bootstrap admin key a process wrote.
pub fn admin_token(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("admin.key"))
        .unwrap()
        .trim()
        .to_string()
}

/// A broker's `/metrics` text.
pub async fn metrics_of(http: &reqwest::Client, base: &str) -> String {
    http.get(format!("{base}metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Every stack id a broker lists, page after page.
pub async fn stack_ids(http: &reqwest::Client, base: &str, token: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor = String::new();
    loop {
        let page: serde_json::Value = http
            .get(format!("{base}v1/stacks?limit=1000{cursor}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|s| s["id"].as_str().map(str::to_string)),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => return ids,
        }
    }
}
