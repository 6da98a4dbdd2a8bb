//! A store that stops answering: the network between a real `deputy serve`
//! and PostgreSQL cut for 20 s (a loopback proxy that drops every
//! connection and refuses new ones) while writes and reads go on. Every
//! request is answered within the acquire budget, as 503
//! `store_unavailable` with `Retry-After`; `/readyz` says so at once and
//! `deputy_store_up` is 0; once the store is back, everything recovers by
//! itself and no acknowledged write is lost.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::metrics::sample;
use crate::process::{ServeProcess, admin_token, metrics_of};

/// A TCP proxy to `target` that can be cut, as a stopped server looks to
/// a client (every connection dropped, new ones refused: nothing listens
/// on the port), and restored on the same port.
struct Proxy {
    port: u16,
    target: u16,
    accepting: Mutex<Option<JoinHandle<()>>>,
    open: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(target: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let proxy = Proxy {
            port,
            target,
            accepting: Mutex::new(None),
            open: Arc::new(Mutex::new(Vec::new())),
        };
        proxy.accept(listener);
        proxy
    }

    fn accept(&self, listener: TcpListener) {
        let (target, open) = (self.target, self.open.clone());
        *self.accepting.lock().unwrap() = Some(tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                open.lock().unwrap().push(tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(("127.0.0.1", target)).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                }));
            }
        }));
    }

    fn cut(&self) {
        if let Some(accepting) = self.accepting.lock().unwrap().take() {
            accepting.abort();
        }
        for conn in self.open.lock().unwrap().drain(..) {
            conn.abort();
        }
    }

    async fn restore(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        self.accept(listener);
    }
}

/// One request's answer and how long it took.
struct Answered {
    status: u16,
    code: String,
    retry_after: bool,
    took: Duration,
}

async fn request(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    token: &str,
    body: Option<serde_json::Value>,
) -> Answered {
    let started = Instant::now();
    let mut req = http.request(method, url).bearer_auth(token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let answer = req.send().await.expect("the broker answers");
    let status = answer.status().as_u16();
    let retry_after = answer.headers().contains_key("retry-after");
    let body: serde_json::Value = answer.json().await.unwrap_or_default();
    Answered {
        status,
        code: body["code"].as_str().unwrap_or_default().to_string(),
        retry_after,
        took: started.elapsed(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_outage_is_answered_at_once_and_heals_by_itself() {
    let db = crate::support::postgres().fresh_database();
    let pg_port: u16 = db
        .split(':')
        .nth(2)
        .and_then(|rest| rest.split('/').next())
        .unwrap()
        .parse()
        .unwrap();
    let proxy = Proxy::start(pg_port).await;
    let store = db.replacen(&format!(":{pg_port}/"), &format!(":{}/", proxy.port), 1);
    let dir = tempfile::tempdir().unwrap();
    let broker = ServeProcess::spawn(&store, dir.path(), &[]).await;
    let token = admin_token(dir.path());
    let base = broker.base.clone();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();

    // Writers and readers for the whole test.
    let running = Arc::new(AtomicBool::new(true));
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let answers = Arc::new(Mutex::new(Vec::<Answered>::new()));
    let mut load = Vec::new();
    for w in 0..2 {
        let (http, base, token) = (http.clone(), base.clone(), token.clone());
        let (running, acked, answers) = (running.clone(), acked.clone(), answers.clone());
        load.push(tokio::spawn(async move {
            let mut n = 0;
            while running.load(Ordering::SeqCst) {
                n += 1;
                let id = format!("w{w}-{n}");
                let created = request(
                    &http,
                    reqwest::Method::POST,
                    &format!("{base}v1/stacks"),
                    &token,
                    Some(serde_json::json!({"id": id})),
                )
                .await;
                if created.status == 201 {
                    acked.lock().unwrap().push(id);
                }
                let listed = request(
                    &http,
                    reqwest::Method::GET,
                    &format!("{base}v1/stacks?limit=5"),
                    &token,
                    None,
                )
                .await;
                answers.lock().unwrap().extend([created, listed]);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;

    proxy.cut();
    let cut_at = Instant::now();
    // Told at once: the health check runs every second.
    let mut first_503 = None;
    while cut_at.elapsed() < Duration::from_secs(20) {
        let started = Instant::now();
        let ready = http.get(format!("{base}readyz")).send().await.unwrap();
        let took = started.elapsed();
        assert!(
            took < Duration::from_secs(1),
            "/readyz took {took:?} with the store down"
        );
        if ready.status() == 503 && first_503.is_none() {
            first_503 = Some(cut_at.elapsed());
            assert_eq!(ready.text().await.unwrap(), "store unreachable\n");
            let metrics = metrics_of(&http, &base).await;
            assert_eq!(sample(&metrics, "deputy_store_up"), Some(0.0), "{metrics}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let first_503 = first_503.expect("/readyz said the store is down");
    assert!(first_503 < Duration::from_secs(3), "{first_503:?}");
    let during = request(
        &http,
        reqwest::Method::GET,
        &format!("{base}v1/stacks"),
        &token,
        None,
    )
    .await;
    assert_eq!(
        (during.status, during.code.as_str(), during.retry_after),
        (503, "store_unavailable", true)
    );

    proxy.restore().await;
    let restored_at = Instant::now();
    loop {
        let answer = request(
            &http,
            reqwest::Method::GET,
            &format!("{base}v1/stacks?limit=1"),
            &token,
            None,
        )
        .await;
        if answer.status == 200 {
            break;
        }
        assert!(
            restored_at.elapsed() < Duration::from_secs(15),
            "no recovery: {} {}",
            answer.status,
            answer.code
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let recovered = restored_at.elapsed();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        http.get(format!("{base}readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    running.store(false, Ordering::SeqCst);
    for task in load {
        task.await.unwrap();
    }

    let answers = std::mem::take(&mut *answers.lock().unwrap());
    let slowest = answers.iter().map(|a| a.took).max().unwrap();
    let refused = answers.iter().filter(|a| a.status == 503).count();
    assert!(refused > 0, "the load saw the outage");
    assert!(
        answers.iter().all(|a| matches!(a.status, 200 | 201)
            || (a.status == 503 && a.code == "store_unavailable" && a.retry_after)),
        "only successes and honest 503s: {:?}",
        answers
            .iter()
            .filter(|a| !matches!(a.status, 200 | 201 | 503))
            .map(|a| (a.status, a.code.clone()))
            .collect::<Vec<_>>()
    );
    assert!(
        slowest < Duration::from_secs(5),
        "a request waited {slowest:?}"
    );
    // Nothing acknowledged is lost.
    let client = deputy::client::Client::new(
        base.parse().unwrap(),
        token.clone(),
        Duration::from_secs(10),
        &Default::default(),
    )
    .unwrap();
    let stored: std::collections::BTreeSet<String> = client
        .stacks()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id.to_string())
        .collect();
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    assert!(
        acked.iter().all(|id| stored.contains(id)),
        "an acknowledged create was lost"
    );
    eprintln!(
        "store outage: /readyz 503 after {first_503:?}; slowest request {slowest:?}; {refused} refused with 503; recovered {recovered:?} after the store returned; {} writes acknowledged, 0 lost",
        acked.len()
    );
    drop(broker);
}
