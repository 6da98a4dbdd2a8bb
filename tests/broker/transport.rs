//! What the client's requests cross (#25, item 3): plain HTTP to a broker
//! on this machine never goes through a proxy, which would read the key and
//! the credentials in clear, and a redirect is reported, never followed
//! with the key.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::support::{Backend, TestBroker};

/// A listener that counts the connections it gets and answers each with
/// `answer` (after reading the request head).
async fn listener(answer: String) -> (String, Arc<AtomicUsize>) {
    let socket = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("127.0.0.1:{}", socket.local_addr().unwrap().port());
    let seen = Arc::new(AtomicUsize::new(0));
    let counted = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = socket.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut head = vec![0u8; 16 * 1024];
                let _ = stream.read(&mut head).await;
                let _ = stream.write_all(answer.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    (address, seen)
}

/// `deputy stack list` against `endpoint`, with every proxy variable
/// pointing at `proxy`.
fn stack_list(endpoint: &str, token: &str, proxy: &str) -> std::process::Output {
    let proxy = format!("http://{proxy}");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_deputy"));
    cmd.args(["stack", "list"])
        .env("DEPUTY_ENDPOINT", endpoint)
        .env("DEPUTY_TOKEN", token);
    for var in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        cmd.env(var, &proxy);
    }
    cmd.env_remove("NO_PROXY").env_remove("no_proxy");
    cmd.output().unwrap()
}

const BAD_GATEWAY: &str =
    "HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_to_this_machine_never_goes_through_a_proxy() {
    let b = TestBroker::start(Backend::Sqlite).await;
    let (proxy, seen) = listener(BAD_GATEWAY.into()).await;
    let out = tokio::task::spawn_blocking({
        let (base, token) = (b.base.clone(), b.admin_token.clone());
        move || stack_list(&base, &token, &proxy)
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(seen.load(Ordering::SeqCst), 0, "the proxy got the request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_is_reported_not_followed_with_the_key() {
    let (target, reached) = listener(BAD_GATEWAY.into()).await;
    let (redirector, _) = listener(format!(
        "HTTP/1.1 307 Temporary Redirect\r\nlocation: http://{target}/v1/stacks\r\n\
         content-length: 0\r\nconnection: close\r\n\r\n"
    ))
    .await;
    let (proxy, _) = listener(BAD_GATEWAY.into()).await;
    let out = tokio::task::spawn_blocking(move || {
        stack_list(
            &format!("http://{redirector}"),
            "dpk_0123456789abcdef_c2VjcmV0",
            &proxy,
        )
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("redirect (HTTP 307"), "{stderr}");
    assert!(
        stderr.contains(&format!("http://{target}/v1/stacks")),
        "{stderr}"
    );
    assert_eq!(
        reached.load(Ordering::SeqCst),
        0,
        "the redirect was followed"
    );
}
