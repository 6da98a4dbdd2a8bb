//! Every route × every kind of credential.

use std::time::Duration;

use deputy::model::Phase;
use deputy::wire::*;

use crate::support::{ROLE, TestBroker};
use testkit::on_both;

/// Routes anyone may call.
const PUBLIC: [&str; 4] = ["/healthz", "/readyz", "/metrics", "/v1/openapi.json"];

on_both!(every_route_checks_the_key, |backend| async move {
    let b = TestBroker::start(backend).await;
    let c = b.admin();
    for s in ["net", "other"] {
        c.create_stack(&StackInput {
            id: s.into(),
            ..Default::default()
        })
        .await
        .unwrap();
    }
    let i = c
        .create_integration(&IntegrationInput {
            name: "prod".into(),
            role_arn: ROLE.into(),
            ..Default::default()
        })
        .await
        .unwrap();
    c.attach(
        &i.id,
        &AttachmentInput {
            stack_id: "net".into(),
            read: true,
            write: true,
        },
    )
    .await
    .unwrap();
    let runner_for = |stack: &str, expires: Option<i64>| ApiKeyInput {
        expires_in_seconds: expires,
        ..ApiKeyInput::runner(stack, &[Phase::Read, Phase::Write])
    };
    let runner = c.create_key(&runner_for("net", None)).await.unwrap().token;
    let foreign_runner = c
        .create_key(&runner_for("other", None))
        .await
        .unwrap()
        .token;
    let expired = c
        .create_key(&ApiKeyInput {
            role: KeyRole::Admin,
            space_id: None,
            stack_id: None,
            phases: None,
            description: String::new(),
            expires_in_seconds: Some(1),
        })
        .await
        .unwrap()
        .token;
    let spare = c
        .create_key(&runner_for("other", None))
        .await
        .unwrap()
        .key
        .id;
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let credentials: Vec<(&str, Option<String>, &[u16])> = vec![
        ("no key", None, &[401]),
        ("malformed key", Some("Bearer not-a-key".into()), &[401]),
        (
            "unknown key",
            Some("Bearer dpk_0123456789abcdef_c2VjcmV0".into()),
            &[401],
        ),
        ("expired key", Some(format!("Bearer {expired}")), &[401]),
        (
            "runner key of another stack",
            Some(format!("Bearer {foreign_runner}")),
            &[403],
        ),
        ("runner key", Some(format!("Bearer {runner}")), &[403]),
    ];
    let http = reqwest::Client::new();
    let routes = deputy::broker::http::operations();
    assert!(routes.len() >= 25, "route table looks truncated");
    for (template, method) in routes {
        let template = template.as_str();
        let path = template
            .replace("/v1/keys/{id}", &format!("/v1/keys/{spare}"))
            .replace("/v1/stacks/{id}", "/v1/stacks/net")
            .replace("{id}", &i.id)
            .replace("{stack_id}", "net")
            .replace("{name}", "prod");
        let send = |auth: Option<&str>| {
            let mut req = http
                .request(method.clone(), b.url(&path))
                .json(&serde_json::json!({}));
            if let Some(a) = auth {
                req = req.header("authorization", a);
            }
            req.send()
        };
        if PUBLIC.contains(&template) {
            assert_eq!(send(None).await.unwrap().status(), 200, "{method} {path}");
            continue;
        }
        // The one runner route: credentials for the runner's own stack.
        let runner_route = template == "/v1/credentials";
        for (who, auth, expected) in &credentials {
            let status = send(auth.as_deref()).await.unwrap().status().as_u16();
            if runner_route && *who == "runner key" {
                assert!(
                    ![401, 403].contains(&status),
                    "{method} {path} with {who}: got {status}"
                );
                continue;
            }
            if runner_route && *who == "runner key of another stack" {
                assert_ne!(status, 401, "{method} {path} with {who}");
                continue;
            }
            assert!(
                expected.contains(&status),
                "{method} {path} with {who}: got {status}, want {expected:?}"
            );
        }
        let status = send(Some(&format!("Bearer {}", b.admin_token)))
            .await
            .unwrap()
            .status()
            .as_u16();
        if runner_route {
            assert_eq!(status, 403, "admin keys get no credentials");
        } else {
            assert!(
                ![401, 403].contains(&status),
                "{method} {path} with the admin key: got {status}"
            );
        }
    }
});
