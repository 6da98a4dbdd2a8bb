//! An API tester no one here wrote (Schemathesis) against a live broker:
//! it generates requests from the published OpenAPI document, valid and
//! not, and checks every answer against the document. Zero server errors,
//! zero answers outside the documented statuses, content types and
//! schemas, and no request the document says is invalid accepted.
//!
//! Bounded: a fixed seed and a fixed number of examples per operation.

use std::path::PathBuf;
use std::process::Command;

use deputy::wire::{AttachmentInput, IntegrationInput, StackInput};

use crate::support::{Backend, ROLE, TestBroker};

/// Installed by `scripts/setup` (a venv cached outside the checkout).
fn schemathesis() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/tools/bin/schemathesis");
    assert!(
        path.exists(),
        "{} is missing: run scripts/setup (it installs Schemathesis)",
        path.display()
    );
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn schemathesis_finds_nothing() {
    let tool = schemathesis();
    let b = TestBroker::start(Backend::Sqlite).await;
    let admin = b.admin();
    // Something to read, update and delete, so generated requests reach
    // past the 404s.
    admin
        .create_stack(&StackInput::with_id("net"))
        .await
        .unwrap();
    let i = admin
        .create_integration(&IntegrationInput {
            name: "deploy".into(),
            role_arn: ROLE.into(),
            ..Default::default()
        })
        .await
        .unwrap();
    admin
        .attach(
            &i.id,
            &AttachmentInput {
                stack_id: "net".into(),
                read: true,
                write: false,
            },
        )
        .await
        .unwrap();
    let report_dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(tool);
    cmd.arg("run")
        .arg(b.url("/v1/openapi.json"))
        .args(["--url", b.base.trim_end_matches('/')])
        .args(["-H", &format!("Authorization: Bearer {}", b.admin_token)])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,\
             response_schema_conformance,negative_data_rejection",
        ])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args(["--max-examples", "25", "--seed", "20261123"])
        .args([
            "--generation-deterministic",
            "--suppress-health-check",
            "all",
        ])
        .args(["--request-timeout", "10", "--no-color"])
        .args(["--report", "junit", "--report-dir"])
        .arg(report_dir.path())
        // Its cache of found crashes goes with the reports, not into the checkout.
        .current_dir(report_dir.path())
        .env("SCHEMATHESIS_HOOKS", "")
        .env("NO_COLOR", "1");
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("run schemathesis"))
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "Schemathesis found problems (exit {:?}):\n{stdout}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{stdout}");
}
