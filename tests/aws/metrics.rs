//! What an operator sees of a broker that vends: `/metrics` counts vends
//! by outcome, verifications, and STS errors by AWS's code; logs can be
//! JSON lines for a shipper.

use std::time::Duration;

use deputy::model::Phase;
use deputy::wire::CredentialsRequest;

use crate::broker::Broker;
use crate::fakecloud::Fakecloud;

/// The sum of every sample of `name` whose labels contain `with`.
fn total(text: &str, name: &str, with: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")) && l.contains(with))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_vends_verifications_and_sts_errors_and_logs_can_be_json() {
    let fc = Fakecloud::start();
    let user = fc.user("deputy-broker").await;
    let b = Broker::start(
        &fc,
        &user,
        &["--verify-retry-seconds", "2", "--log-format", "json"],
    )
    .await;
    b.stack_with_integration(&fc, &user.arn, "net", "deploy")
        .await;
    let runner = b.runner("net", &Phase::ALL).await;
    let request = CredentialsRequest {
        stack_id: Some("net".into()),
        phase: Phase::Read,
        run_id: "run-1".into(),
    };
    runner.credentials(&request).await.unwrap();
    // The role disappears behind deputy's back: STS refuses the vend.
    fc.iam("DeleteRole", &[("RoleName", "deploy")])
        .await
        .unwrap();
    let refused = runner.credentials(&request).await.unwrap_err();
    assert_eq!(
        refused.code(),
        Some(deputy::wire::ProblemCode::AssumeRoleFailed),
        "{refused}"
    );
    // A runner asking for another stack: refused by deputy's rules.
    let other = CredentialsRequest {
        stack_id: Some("app".into()),
        ..request.clone()
    };
    assert_eq!(
        runner.credentials(&other).await.unwrap_err().status(),
        Some(403)
    );

    let text = reqwest::get(format!("{}metrics", b.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let vends = |outcome: &str| {
        total(
            &text,
            "deputy_vend_duration_seconds_count",
            &format!("outcome=\"{outcome}\""),
        )
    };
    assert_eq!(vends("issued"), 1.0, "{text}");
    assert_eq!(vends("failed"), 1.0, "{text}");
    assert_eq!(vends("refused"), 1.0, "{text}");
    assert!(
        total(
            &text,
            "deputy_verification_duration_seconds_count",
            "outcome=\"passed\""
        ) >= 1.0,
        "the attach verified the role: {text}"
    );
    assert_eq!(
        total(&text, "deputy_sts_errors_total", "operation=\"AssumeRole\""),
        1.0,
        "{text}"
    );
    assert_eq!(
        total(
            &text,
            "deputy_http_requests_total",
            "route=\"/v1/credentials\""
        ),
        3.0
    );

    // JSON logs: every line an object, the start-up line among them.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let log = b.log();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["message"] == "deputy broker listening"),
        "{log}"
    );
    assert!(!log.contains(&b.admin_token), "no secret in the logs");
}
