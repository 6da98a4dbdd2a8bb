//! `deputy token create|list|revoke` against a live broker.

use std::process::Command;

use deputy::api::StackInput;

use crate::support::{Backend, TestBroker};

fn deputy(b: &TestBroker, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_deputy"))
        .args(args)
        .env("DEPUTY_ENDPOINT", &b.base)
        .env("DEPUTY_TOKEN", &b.admin_token)
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_commands_create_list_and_revoke() {
    let b = TestBroker::start(Backend::Sqlite).await;
    b.admin()
        .create_stack(&StackInput {
            id: "net".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let out = deputy(
        &b,
        &[
            "token",
            "create",
            "--stack",
            "net",
            "--phase",
            "read",
            "--description",
            "ci runner",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(
        token.starts_with("dpk_"),
        "only the token on stdout: {token}"
    );
    let id = &token[4..20];
    assert!(String::from_utf8_lossy(&out.stderr).contains("shown only once"));

    let list = String::from_utf8(deputy(&b, &["token", "list"]).stdout).unwrap();
    let line = list
        .lines()
        .find(|l| l.starts_with(id))
        .expect("new key listed");
    assert!(
        line.contains("runner")
            && line.contains("net")
            && line.contains("read")
            && line.contains("ci runner"),
        "{line}"
    );
    assert!(!list.contains(&token[21..]), "no secret in the listing");

    assert!(deputy(&b, &["token", "revoke", id]).status.success());
    let again = deputy(&b, &["token", "revoke", id]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("was already revoked"));

    let bad = deputy(&b, &["token", "create", "--role", "runner"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--stack"));
    // A runner key's phases are chosen, never defaulted.
    let unscoped = deputy(&b, &["token", "create", "--stack", "net"]);
    assert!(!unscoped.status.success());
    assert!(String::from_utf8_lossy(&unscoped.stderr).contains("--phase"));

    // Runner trusts: create prints the trust as JSON, list shows it,
    // delete removes it; a rule the broker refuses is explained.
    let out = deputy(
        &b,
        &[
            "runner-trust",
            "create",
            "--stack",
            "net",
            "--issuer",
            "https://token.actions.githubusercontent.com",
            "--subject",
            "repo:acme/net:ref:refs/heads/main",
            "--claim",
            "event_name=push",
            "--phase",
            "write",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let trust: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(trust["audience"], "deputy", "the CLI's default audience");
    assert_eq!(trust["claims"]["event_name"], "push");
    let trust_id = trust["id"].as_str().unwrap();
    let list = String::from_utf8(deputy(&b, &["runner-trust", "list"]).stdout).unwrap();
    assert!(
        list.lines()
            .any(|l| l.starts_with(trust_id) && l.contains("write")),
        "{list}"
    );
    let refused = deputy(
        &b,
        &[
            "runner-trust",
            "create",
            "--stack",
            "net",
            "--issuer",
            "https://gitlab.com",
            "--subject",
            "*",
            "--phase",
            "read",
        ],
    );
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("would accept every token"));
    assert!(
        deputy(&b, &["runner-trust", "delete", trust_id])
            .status
            .success()
    );
    assert!(
        !deputy(&b, &["runner-trust", "show", trust_id])
            .status
            .success()
    );
}
