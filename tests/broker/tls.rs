//! TLS at the broker and at its clients: `deputy serve --tls-cert` serves
//! HTTPS, reloads its certificate on SIGHUP without dropping open
//! connections, keeps the old one when the new files are unusable; the
//! CLI trusts a private CA with --ca-file / DEPUTY_CA_FILE and refuses
//! plain HTTP to another host.

use std::path::Path;
use std::time::Duration;

use deputy::client::{Client, Transport};
use nix::sys::signal::Signal;

use crate::process::{ServeProcess, admin_token, https_client, metrics_of};
use crate::support::test_ca;

/// Two CAs, each with a certificate for localhost: `one/` and `two/`.
fn two_cas(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let (one, two) = (dir.join("one"), dir.join("two"));
    std::fs::create_dir_all(&one).unwrap();
    std::fs::create_dir_all(&two).unwrap();
    (test_ca(&one), test_ca(&two))
}

/// Puts `from`'s certificate and key where the broker reads them.
fn install(from: &Path, live: &Path) {
    std::fs::copy(from.join("server.crt"), live.join("live.crt")).unwrap();
    std::fs::copy(from.join("server.key"), live.join("live.key")).unwrap();
}

async fn answers(client: &reqwest::Client, base: &str) -> Result<u16, String> {
    client
        .get(format!("{base}healthz"))
        .send()
        .await
        .map(|r| r.status().as_u16())
        .map_err(|e| format!("{e:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_a_certificate_reloaded_on_sighup() {
    let dir = tempfile::tempdir().unwrap();
    let (ca_one, ca_two) = two_cas(dir.path());
    install(&dir.path().join("one"), dir.path());
    let store = format!("sqlite://{}/deputy.db", dir.path().display());
    let (cert, key) = (dir.path().join("live.crt"), dir.path().join("live.key"));
    let tls_args = [
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ];
    let broker = ServeProcess::spawn_tls(&store, dir.path(), &tls_args, &ca_one).await;

    // deputy's own client, trusting the private CA.
    let token = admin_token(dir.path());
    let transport = Transport::new(Some(&ca_one), false).unwrap();
    let client = Client::new(
        broker.base.parse().unwrap(),
        token.clone(),
        Duration::from_secs(5),
        &transport,
    )
    .unwrap();
    assert_eq!(client.account().await.unwrap().name.to_string(), "acme");
    // Without it, the certificate is refused, and the message says so.
    let untrusted = Client::new(
        broker.base.parse().unwrap(),
        token.clone(),
        Duration::from_secs(5),
        &Transport::default(),
    )
    .unwrap();
    let e = untrusted.account().await.unwrap_err().to_string();
    assert!(e.contains("certificate"), "{e}");

    // The console's cookies are Secure and `__Host-` when the broker
    // serves TLS, and answers carry HSTS.
    let sign_in = https_client(&ca_one)
        .get(format!("{}sign-in", broker.base))
        .send()
        .await
        .unwrap();
    let cookie = sign_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.starts_with("__Host-deputy_sign_in="), "{cookie}");
    assert!(cookie.ends_with("; Secure"), "{cookie}");
    assert_eq!(
        sign_in.headers()["strict-transport-security"],
        "max-age=31536000"
    );

    // Plain HTTP to the TLS port is told what to use, not dropped.
    let plain = reqwest::get(broker.base.replace("https://", "http://") + "healthz")
        .await
        .expect("an answer to plain HTTP");
    assert_eq!(plain.status(), 400);
    let said = plain.text().await.unwrap();
    assert!(
        said.contains("HTTPS") && said.contains("https://"),
        "{said}"
    );

    // The served certificate's expiry, for alerts.
    let expires = |crt: &Path| {
        let pem = std::fs::read(crt).unwrap();
        let (_, pem) = x509_parser::pem::parse_x509_pem(&pem).unwrap();
        let cert = pem.parse_x509().unwrap();
        cert.validity().not_after.timestamp() as f64
    };
    let metrics = metrics_of(&https_client(&ca_one), &broker.base).await;
    assert_eq!(
        crate::metrics::sample(&metrics, "deputy_tls_certificate_expiry_timestamp_seconds"),
        Some(expires(&cert))
    );

    // A connection opened before the reload, kept alive in the pool.
    let pooled = https_client(&ca_one);
    assert_eq!(answers(&pooled, &broker.base).await, Ok(200));

    install(&dir.path().join("two"), dir.path());
    broker.signal(Signal::SIGHUP);
    let fresh_two = || https_client(&ca_two);
    let mut reloaded = false;
    for _ in 0..100 {
        if answers(&fresh_two(), &broker.base).await == Ok(200) {
            reloaded = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(reloaded, "new connections get the new certificate");
    assert!(
        answers(&https_client(&ca_one), &broker.base).await.is_err(),
        "the old certificate is no longer presented"
    );
    assert_eq!(
        answers(&pooled, &broker.base).await,
        Ok(200),
        "the connection opened before the reload is still served"
    );

    // Unusable files: the certificate in use stays.
    std::fs::write(&cert, "-----BEGIN CERTIFICATE-----\nnot base64\n").unwrap();
    broker.signal(Signal::SIGHUP);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(answers(&fresh_two(), &broker.base).await, Ok(200));

    // The CLI: --ca-file, or DEPUTY_CA_FILE.
    let token_file = dir.path().join("admin.key");
    let cli = |extra: &[&str], env: &[(&str, &Path)]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_deputy"));
        cmd.args(["token", "list", "--endpoint", &broker.base])
            .arg("--token-file")
            .arg(&token_file)
            .args(extra)
            .env_remove("DEPUTY_TOKEN")
            .env_remove("DEPUTY_CA_FILE");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    };
    let out = cli(&["--ca-file", ca_two.to_str().unwrap()], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = cli(&[], &[("DEPUTY_CA_FILE", &ca_two)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = cli(&[], &[]);
    assert!(
        !out.status.success(),
        "the system roots do not know the test CA"
    );
}

#[tokio::test]
async fn a_key_that_does_not_match_the_certificate_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    two_cas(dir.path());
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_deputy"))
        .args(["serve", "--account", "acme", "--listen", "127.0.0.1:0"])
        .args(["--principal-arn", crate::support::PRINCIPAL])
        .arg("--store")
        .arg(format!("sqlite://{}/deputy.db", dir.path().display()))
        .arg("--tls-cert")
        .arg(dir.path().join("one/server.crt"))
        .arg("--tls-key")
        .arg(dir.path().join("two/server.key"))
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--tls-key") && stderr.contains("does not go with --tls-cert"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("deputy.db").exists(),
        "nothing created before the certificate is known to be usable"
    );
}

/// Plain HTTP to another host is refused before anything is sent;
/// --insecure allows it (here the request then fails to connect).
#[test]
fn the_cli_refuses_plain_http_to_another_host() {
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("key");
    std::fs::write(&token_file, "dpk_0123456789abcdef_y\n").unwrap();
    let run = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_deputy"))
            .args(["token", "list", "--endpoint", "http://deputy.invalid:8420"])
            .arg("--token-file")
            .arg(&token_file)
            .args(extra)
            .env_remove("DEPUTY_INSECURE")
            .env_remove("DEPUTY_TOKEN")
            .output()
            .unwrap()
    };
    let out = run(&[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("plain HTTP to another host") && stderr.contains("--insecure"),
        "{stderr}"
    );
    let out = run(&["--insecure"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("cannot reach"), "{stderr}");
}

/// Behind a proxy that terminates TLS, `--public-url https://...` gives
/// the console the same protection as `--tls-cert`: `__Host-` cookies that
/// are `Secure`, and HSTS. Without it, plain HTTP gets neither (a browser
/// would drop a `Secure` cookie there).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_public_https_url_secures_the_console_behind_a_proxy() {
    for (args, secure) in [
        (&["--public-url", "https://deputy.example.com"][..], true),
        (&[][..], false),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let store = format!("sqlite://{}/deputy.db", dir.path().display());
        let broker = ServeProcess::spawn(&store, dir.path(), args).await;
        let sign_in = reqwest::get(format!("{}sign-in", broker.base))
            .await
            .unwrap();
        let cookie = sign_in.headers()["set-cookie"].to_str().unwrap();
        assert_eq!(
            cookie.starts_with("__Host-deputy_sign_in="),
            secure,
            "{cookie}"
        );
        assert_eq!(cookie.ends_with("; Secure"), secure, "{cookie}");
        assert_eq!(
            sign_in.headers().contains_key("strict-transport-security"),
            secure
        );
    }
}
