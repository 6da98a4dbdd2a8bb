//! Creates retried with their Idempotency-Key: a create whose answer is
//! lost on the way is sent again by the client with the same key and gets
//! the first attempt's object, so there is one object and one audit event;
//! the same key with another body is a 422.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use deputy::client::{Client, ClientError};
use deputy::wire::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::TestBroker;
use testkit::on_both;

/// A TCP proxy in front of the broker that, for the next `drops`
/// connections, passes the request on, waits for the broker's answer and
/// then closes the connection without passing the answer back: the create
/// happened, the client never hears of it.
async fn lossy_proxy(upstream: String, drops: Arc<AtomicUsize>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else {
                return;
            };
            let lose = drops
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            let upstream = upstream.clone();
            tokio::spawn(async move {
                let server = tokio::net::TcpStream::connect(&upstream).await.unwrap();
                let (mut client_read, mut client_write) = client.into_split();
                let (mut server_read, mut server_write) = server.into_split();
                tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
                });
                if lose {
                    let mut first = [0u8; 1];
                    let _ = server_read.read(&mut first).await;
                    // Dropping both halves closes the client's connection.
                    return;
                }
                let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
                let _ = client_write.shutdown().await;
            });
        }
    });
    url
}

/// A client of the broker through `proxy`, with `token`; each its own
/// connection pool, so a dropped connection is not reused.
fn through(proxy: &str, token: &str) -> Client {
    Client::new(
        proxy.parse().unwrap(),
        token.to_string(),
        Duration::from_secs(10),
        &Default::default(),
    )
    .unwrap()
}

/// The successful audit events of `action`.
async fn done(admin: &Client, action: &str) -> usize {
    admin
        .audit(&AuditFilter {
            action: Some(action.into()),
            outcome: Some("ok".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .len()
}

on_both!(
    a_create_whose_answer_is_lost_is_made_once,
    |backend| async move {
        let b = TestBroker::start(backend).await;
        let admin = b.admin();
        let drops = Arc::new(AtomicUsize::new(0));
        let upstream = b
            .base
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let proxy = lossy_proxy(upstream, drops.clone()).await;
        let lossy = || {
            drops.store(1, Ordering::SeqCst);
            through(&proxy, &b.admin_token)
        };

        let space = lossy()
            .create_space(&deputy::wire::SpaceInput {
                id: "team".into(),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(space.id.as_str(), "team");
        assert_eq!(admin.spaces().await.unwrap().len(), 2, "root and team");
        assert_eq!(done(&admin, "space.create").await, 1);

        let stack = lossy()
            .create_stack(&StackInput {
                id: "net".into(),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(stack.id.as_str(), "net");
        assert_eq!(admin.stacks().await.unwrap().len(), 1);
        assert_eq!(done(&admin, "stack.create").await, 1);

        let integration = lossy()
            .create_integration(&IntegrationInput {
                name: "network".into(),
                role_arn: testkit::broker::ROLE.into(),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(
            admin
                .integrations(None, &Default::default())
                .await
                .unwrap()
                .len(),
            1
        );
        assert_eq!(done(&admin, "integration.create").await, 1);

        let attachment = lossy()
            .attach(
                integration.id.as_str(),
                &AttachmentInput {
                    stack_id: "net".into(),
                    read: true,
                    write: true,
                },
            )
            .await
            .unwrap();
        assert_eq!(attachment.stack_id.as_str(), "net");
        assert_eq!(done(&admin, "attachment.create").await, 1);

        // A key's token is given again to the retry that lost it, and works.
        let keys_before = admin.keys().await.unwrap().len();
        let created_before = done(&admin, "key.create").await;
        let key = lossy()
            .create_key(&ApiKeyInput::runner("net", &[deputy::model::Phase::Read]))
            .await
            .unwrap();
        assert_eq!(admin.keys().await.unwrap().len(), keys_before + 1);
        assert_eq!(done(&admin, "key.create").await, created_before + 1);
        let answer = b
            .client(&key.token)
            .credentials(&CredentialsRequest {
                stack_id: None,
                phase: deputy::model::Phase::Read,
                run_id: "run-1".into(),
            })
            .await
            .unwrap_err();
        assert_ne!(
            answer.status(),
            Some(401),
            "the replayed token authenticates: {answer}"
        );

        lossy()
            .create_runner_trust(&RunnerTrustInput {
                stack_id: "net".into(),
                issuer: "https://token.actions.githubusercontent.com".into(),
                audience: "deputy".into(),
                subject: "repo:acme/net:ref:refs/heads/main".into(),
                claims: Default::default(),
                phases: vec![deputy::model::Phase::Write],
                description: String::new(),
                single_use_tokens: false,
            })
            .await
            .unwrap();
        assert_eq!(admin.runner_trusts().await.unwrap().len(), 1);
        assert_eq!(done(&admin, "runner_trust.create").await, 1);
        assert_eq!(
            drops.load(Ordering::SeqCst),
            0,
            "every create lost one answer"
        );
    }
);

on_both!(
    an_idempotency_key_stands_for_one_request,
    |backend| async move {
        let b = TestBroker::start(backend).await;
        let http = reqwest::Client::new();
        let post = |key: &str, id: &str| {
            http.post(b.url("/v1/stacks"))
                .bearer_auth(&b.admin_token)
                .header("Idempotency-Key", key)
                .json(&serde_json::json!({ "id": id }))
                .send()
        };
        let key = "01JF0000000000000000000000";
        let first = post(key, "net").await.unwrap();
        assert_eq!(first.status(), 201);
        assert!(first.headers().get("idempotent-replayed").is_none());
        let first: Stack = first.json().await.unwrap();

        // The same request again: the first answer, marked as such.
        let again = post(key, "net").await.unwrap();
        assert_eq!(again.status(), 201);
        assert_eq!(again.headers()["idempotent-replayed"], "true");
        assert_eq!(again.json::<Stack>().await.unwrap(), first);

        // Another body under the same key.
        let other = post(key, "app").await.unwrap();
        assert_eq!(other.status(), 422);
        let problem: Problem = other.json().await.unwrap();
        assert_eq!(problem.field.as_deref(), Some("Idempotency-Key"));
        assert!(
            problem.detail.contains("another body"),
            "{}",
            problem.detail
        );
        assert!(matches!(
            b.admin().stack("app").await,
            Err(ClientError::Problem(p)) if p.status == 404
        ));

        // The same key from another caller is another key.
        let other_admin = b
            .admin()
            .create_key(&ApiKeyInput {
                role: KeyRole::Admin,
                space_id: None,
                stack_id: None,
                phases: None,
                description: "second admin".into(),
                expires_in_seconds: None,
            })
            .await
            .unwrap()
            .token;
        let theirs = http
            .post(b.url("/v1/stacks"))
            .bearer_auth(&other_admin)
            .header("Idempotency-Key", key)
            .json(&serde_json::json!({ "id": "app" }))
            .send()
            .await
            .unwrap();
        assert_eq!(theirs.status(), 201);

        // A key too short to be random is refused before anything is made.
        let short = post("1", "web").await.unwrap();
        assert_eq!(short.status(), 422);
        let problem: Problem = short.json().await.unwrap();
        assert!(problem.detail.contains("16 to 255"), "{}", problem.detail);
        assert_eq!(b.admin().stacks().await.unwrap().len(), 2);
    }
);
