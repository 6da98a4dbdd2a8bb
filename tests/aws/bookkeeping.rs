//! Exact bookkeeping: a verification marks exactly the (stack, phase)
//! pairs it confirmed, under the configuration it verified, whatever runs
//! beside it; leases are read on the database's clock, so a replica whose
//! own clock is off does not audit another's change as interrupted.

use std::time::Duration;

use serde_json::json;

use deputy::client::ClientError;
use deputy::model::Phase;
use deputy::wire::{
    AttachmentInput, AuditFilter, CredentialsRequest, IntegrationInput, ProblemCode, StackInput,
};

use crate::broker::Broker;
use crate::fakecloud::{ACCOUNT, Fakecloud};

fn read_only(stack: &str) -> AttachmentInput {
    AttachmentInput {
        stack_id: stack.into(),
        read: true,
        write: false,
    }
}

/// An attach of stack B raced against a change of the integration that
/// B's confirmation cannot pass (SourceIdentity on, and the role accepts B
/// only without one; fakecloud evaluates `sts:SourceIdentity`, see
/// [`fakecloud_evaluates_these_condition_keys`]). Whichever commits first,
/// B vends only if it was confirmed under the configuration in force: its
/// vend is never an AssumeRole failure, which would mean B's phase was
/// marked verified by a verification that did not confirm it.
async fn attach_races_a_change(store: Option<String>) {
    let fc = Fakecloud::start();
    let user = fc.user("deputy-broker").await;
    let b = Broker::start_on(
        &fc,
        &user,
        &["--verify-retry-seconds", "0", "--reverify-interval", "0"],
        store,
    )
    .await;
    let admin = b.admin();
    let mut marked_unconfirmed = Vec::new();
    let mut interleavings = std::collections::BTreeMap::<String, u32>::new();
    for round in 0..8 {
        let (a, bee) = (format!("a{round}"), format!("b{round}"));
        for s in [&a, &bee] {
            admin.create_stack(&StackInput::with_id(s)).await.unwrap();
        }
        let name = format!("race-{round}");
        let input = IntegrationInput {
            name: name.clone(),
            role_arn: format!("arn:aws:iam::{ACCOUNT}:role/{name}"),
            ..Default::default()
        };
        let integration = admin.create_integration(&input).await.unwrap();
        let id = integration.id.to_string();
        let (id_a, id_b) = (
            format!("acme@{id}@{a}@read"),
            format!("acme@{id}@{bee}@read"),
        );
        fc.role(
            &name,
            &json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": user.arn}, "Action": "sts:AssumeRole",
                 "Condition": {"StringEquals": {"sts:ExternalId": [id_a, id_b]},
                               "Null": {"sts:SourceIdentity": "true"}}},
                {"Effect": "Allow", "Principal": {"AWS": user.arn},
                 "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
                 "Condition": {"StringEquals": {"sts:ExternalId": id_a}}}
            ]}),
        )
        .await
        .unwrap();
        admin.attach(&id, &read_only(&a)).await.unwrap();
        let with_source_identity = IntegrationInput {
            set_source_identity: true,
            ..input.clone()
        };
        let attach_b = read_only(&bee);
        let (changed, attached) = tokio::join!(
            admin.replace_integration(&id, &with_source_identity),
            admin.attach(&id, &attach_b)
        );
        *interleavings
            .entry(format!(
                "change {}, attach {}",
                if changed.is_ok() {
                    "applied"
                } else {
                    "refused"
                },
                if attached.is_ok() {
                    "applied"
                } else {
                    "refused"
                }
            ))
            .or_default() += 1;
        if attached.is_err() {
            continue;
        }
        let runner = b.runner(&bee, &[Phase::Read]).await;
        let vend = runner
            .credentials(&CredentialsRequest {
                stack_id: None,
                phase: Phase::Read,
                run_id: format!("run-{round}"),
            })
            .await;
        match vend {
            Ok(_) => {}
            Err(ClientError::Problem(p)) if p.code == ProblemCode::NotVerified => {}
            Err(e) => marked_unconfirmed.push(format!("round {round}: {e}")),
        }
    }
    println!("interleavings: {interleavings:?}");
    assert!(
        marked_unconfirmed.is_empty(),
        "phases marked verified by a verification that did not confirm them:\n{}",
        marked_unconfirmed.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_attach_racing_a_change_is_marked_only_if_confirmed_sqlite() {
    attach_races_a_change(None).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_attach_racing_a_change_is_marked_only_if_confirmed_postgres() {
    attach_races_a_change(Some(crate::pg_cluster::postgres().fresh_database())).await;
}

/// A replica whose clock runs 90 s ahead (libfaketime) reaps pending
/// changes every few seconds while another replica verifies a change for
/// longer than a lease: the lease is on the database's clock, so nothing is
/// audited as interrupted.
#[tokio::test(flavor = "multi_thread")]
async fn a_replica_with_a_skewed_clock_does_not_interrupt_anothers_change() {
    let fc = Fakecloud::start();
    let user = fc.user("deputy-broker").await;
    let store = crate::pg_cluster::postgres().fresh_database();
    // The confirmation is retried for up to 40 s (about 35 s with its
    // backoff): longer than a 20 s lease.
    let a = Broker::start_on(
        &fc,
        &user,
        &["--verify-retry-seconds", "40", "--reverify-interval", "0"],
        Some(store),
    )
    .await;
    let skewed = a.replica_with_clock("+90s").await;
    let admin = a.admin();
    admin
        .create_stack(&StackInput::with_id("slow"))
        .await
        .unwrap();
    let integration = admin
        .create_integration(&IntegrationInput {
            name: "slow".into(),
            role_arn: format!("arn:aws:iam::{ACCOUNT}:role/slow"),
            ..Default::default()
        })
        .await
        .unwrap();
    // A role that never lets deputy in: AccessDenied, retried until the
    // budget is spent.
    fc.role(
        "slow",
        &crate::fakecloud::trust(&format!("arn:aws:iam::{ACCOUNT}:user/nobody"), json!({})),
    )
    .await
    .unwrap();
    let started = std::time::Instant::now();
    let refused = admin
        .attach(&integration.id, &read_only("slow"))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some(ProblemCode::VerificationFailed));
    assert!(
        started.elapsed() > Duration::from_secs(20),
        "the change outlived a lease"
    );
    let interrupted = admin
        .audit(&AuditFilter {
            outcome: Some("interrupted".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        interrupted.is_empty(),
        "{interrupted:?}\nskewed replica's log:\n{}",
        skewed.log()
    );
    // The skewed replica's own clock was 90 s ahead: its HTTP Date says so.
    let date = reqwest::get(format!("{}healthz", skewed.base))
        .await
        .unwrap()
        .headers()
        .get("date")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let its =
        time::OffsetDateTime::parse(&date, &time::format_description::well_known::Rfc2822).unwrap();
    let ahead = its - time::OffsetDateTime::now_utc();
    assert!(ahead > time::Duration::seconds(60), "{date}: {ahead}");
}

/// A worker's verification expires after the re-verification interval
/// like any other: the broker then hands out no worker parameters until a
/// worker verifies again, audited and shown in `verification_state`.
#[tokio::test(flavor = "multi_thread")]
async fn a_workers_verification_expires() {
    let fc = Fakecloud::start();
    let user = fc.user("deputy-broker").await;
    let worker_user = fc.user("ci-worker").await;
    let b = Broker::start(&fc, &user, &["--reverify-interval", "3"]).await;
    let admin = b.admin();
    admin
        .create_stack(&StackInput::with_id("app"))
        .await
        .unwrap();
    let worker = admin
        .create_integration(&IntegrationInput {
            name: "worker".into(),
            role_arn: format!("arn:aws:iam::{ACCOUNT}:role/worker"),
            generate_credentials_in_worker: true,
            ..Default::default()
        })
        .await
        .unwrap();
    fc.role(
        "worker",
        &crate::fakecloud::trust(
            &worker_user.arn,
            json!({"Condition": {"StringEquals": {"sts:ExternalId": [format!("acme@{}@app@write", worker.id)]}}}),
        ),
    )
    .await
    .unwrap();
    admin
        .attach(
            &worker.id,
            &AttachmentInput {
                stack_id: "app".into(),
                read: false,
                write: true,
            },
        )
        .await
        .unwrap();
    let verify = || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_deputy"))
            .args(["verify", "--integration", worker.id.as_str(), "--as-worker"])
            .env("DEPUTY_ENDPOINT", &b.base)
            .env("DEPUTY_TOKEN", &b.admin_token)
            .env("DEPUTY_AWS_ENDPOINT_URL", &fc.endpoint)
            .env("AWS_ACCESS_KEY_ID", &worker_user.id)
            .env("AWS_SECRET_ACCESS_KEY", &worker_user.secret)
            .env("AWS_REGION", "us-east-1")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let runner = b.runner("app", &[Phase::Write]).await;
    let vend = || async {
        runner
            .credentials(&CredentialsRequest {
                stack_id: None,
                phase: Phase::Write,
                run_id: "w1".into(),
            })
            .await
            .map(|_| ())
            .map_err(|e| e.code())
    };
    verify();
    assert_eq!(vend().await, Ok(()));
    let mut expired = false;
    for _ in 0..60 {
        if vend().await == Err(Some(ProblemCode::NotVerified)) {
            expired = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(expired, "the worker's verification expired:\n{}", b.log());
    let state = admin.integration(&worker.id).await.unwrap();
    assert_eq!(
        state.verification_state,
        deputy::wire::VerificationState::Unverified
    );
    let events = admin
        .audit(&AuditFilter {
            action: Some("integration.verification_expired".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(events[0].detail.contains("--as-worker"), "{events:?}");
    verify();
    assert_eq!(
        vend().await,
        Ok(()),
        "a new worker verification vends again"
    );
}

/// What fakecloud's trust-policy evaluation covers, pinned so that a test
/// relying on a condition key knows whether the emulator checks it:
/// `sts:SourceIdentity` and `sts:RoleSessionName` are evaluated;
/// `aws:RequestTag/*` and `aws:TagKeys` are not (they read as absent, so
/// `Null` on them is always true), where AWS evaluates both. Conditions on
/// session tags in the corpus are therefore checked only as far as
/// fakecloud goes.
#[tokio::test(flavor = "multi_thread")]
async fn fakecloud_evaluates_these_condition_keys() {
    let fc = Fakecloud::start();
    let user = fc.user("deputy-broker").await;
    let allowed = |name: &'static str,
                   condition: serde_json::Value,
                   extra: Vec<(&'static str, &'static str)>| {
        let fc = &fc;
        let user = &user;
        async move {
            fc.role(
                name,
                &json!({"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Principal": {"AWS": user.arn},
                    "Action": ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
                    "Condition": condition
                }]}),
            )
            .await
            .unwrap();
            let role = format!("arn:aws:iam::{ACCOUNT}:role/{name}");
            let mut params = vec![("RoleArn", role.as_str()), ("RoleSessionName", "s1")];
            params.extend(extra);
            fc.assume_as(&user.id, &params).await.is_ok()
        }
    };
    let tag = vec![
        ("Tags.member.1.Key", "deputy:stack"),
        ("Tags.member.1.Value", "a"),
    ];
    let si = vec![("SourceIdentity", "x1")];
    // Evaluated, as AWS does.
    assert!(
        !allowed(
            "si",
            json!({"Null": {"sts:SourceIdentity": "true"}}),
            si.clone()
        )
        .await
    );
    assert!(
        allowed(
            "si-none",
            json!({"Null": {"sts:SourceIdentity": "true"}}),
            vec![]
        )
        .await
    );
    assert!(
        allowed(
            "name",
            json!({"StringLike": {"sts:RoleSessionName": "s*"}}),
            vec![]
        )
        .await
    );
    assert!(
        !allowed(
            "name-no",
            json!({"StringLike": {"sts:RoleSessionName": "gh-*"}}),
            vec![]
        )
        .await
    );
    // Not evaluated: a tag that is sent reads as absent. AWS would deny
    // the first and allow the second.
    assert!(
        allowed(
            "tag-null",
            json!({"Null": {"aws:RequestTag/deputy:stack": "true"}}),
            tag.clone()
        )
        .await
    );
    assert!(
        !allowed(
            "tag-eq",
            json!({"StringEquals": {"aws:RequestTag/deputy:stack": "a"}}),
            tag.clone()
        )
        .await
    );
    assert!(allowed("keys-null", json!({"Null": {"aws:TagKeys": "true"}}), tag).await);
}
