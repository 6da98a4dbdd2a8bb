//! The invariant through changes, cancels, crashes and roles that turn
//! unsafe: a run gets credentials only from a role proven, in its current
//! configuration, to be usable by deputy for that stack and phase and by
//! nobody else through deputy.

use std::time::{Duration, Instant};

use serde_json::json;

use deputy::client::{Client, ClientError};
use deputy::model::{Phase, PrincipalKind};
use deputy::wire::{
    AttachmentInput, AttachmentUpdate, AuditEvent, AuditFilter, CredentialsRequest, Integration,
    IntegrationInput, IssuedCredentials, ProblemCode, StackInput,
};

use crate::broker::{Broker, refuses_to_start};
use crate::fakecloud::{AccessKey, Fakecloud, trust};

/// A role that trusts exactly these External IDs from `principal`.
fn exact(principal: &str, ids: &[String]) -> serde_json::Value {
    trust(
        principal,
        json!({"Condition": {"StringEquals": {"sts:ExternalId": ids}}}),
    )
}

/// Attaching `stack` for both phases.
fn both(stack: &str) -> AttachmentInput {
    AttachmentInput {
        stack_id: stack.into(),
        read: true,
        write: true,
    }
}

fn ids(i: &Integration, stack: &str, phases: &[&str]) -> Vec<String> {
    phases
        .iter()
        .map(|p| format!("acme@{}@{stack}@{p}", i.id))
        .collect()
}

async fn integration(admin: &Client, name: &str, role: &str) -> Integration {
    admin
        .create_integration(&IntegrationInput {
            name: name.into(),
            role_arn: format!("arn:aws:iam::123456789012:role/{role}"),
            ..Default::default()
        })
        .await
        .unwrap()
}

fn code(e: &ClientError) -> Option<ProblemCode> {
    e.code()
}

/// The assumed-role ARN of a vend, or the problem code of its refusal.
async fn vend(runner: &Client, stack: &str, phase: Phase) -> Result<String, ProblemCode> {
    match runner
        .credentials(&CredentialsRequest {
            stack_id: Some(stack.into()),
            phase,
            run_id: "run-1".into(),
        })
        .await
    {
        Ok(IssuedCredentials::Broker(c)) => Ok(c.assumed_role_arn),
        Ok(IssuedCredentials::Worker(_)) => panic!("broker mode expected"),
        Err(e) => Err(code(&e).expect("a problem, not a transport error")),
    }
}

async fn events(admin: &Client, action: &str) -> Vec<AuditEvent> {
    admin
        .audit(&AuditFilter {
            action: Some(action.into()),
            ..Default::default()
        })
        .await
        .unwrap()
}

/// Waits until `check` holds, up to `limit`.
async fn eventually<F: std::future::Future<Output = bool>>(
    limit: Duration,
    mut check: impl FnMut() -> F,
) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    false
}

async fn setup(args: &[&str]) -> (Fakecloud, AccessKey, Broker) {
    let fc = Fakecloud::start();
    let user = fc.user("deputy-broker").await;
    let b = Broker::start(&fc, &user, args).await;
    (fc, user, b)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_role_changed_to_an_open_one_is_refused_and_the_old_one_keeps_vending() {
    let (fc, user, b) = setup(&["--verify-retry-seconds", "2"]).await;
    let admin = b.admin();
    admin
        .create_stack(&StackInput::with_id("net"))
        .await
        .unwrap();
    let i = integration(&admin, "deploy", "safe").await;
    fc.role(
        "safe",
        &exact(&user.arn, &ids(&i, "net", &["read", "write"])),
    )
    .await
    .unwrap();
    fc.role("open", &trust(&user.arn, json!({}))).await.unwrap();
    admin.attach(&i.id, &both("net")).await.unwrap();
    let runner = b.runner("net", &Phase::ALL).await;
    assert!(
        vend(&runner, "net", Phase::Write)
            .await
            .unwrap()
            .contains("assumed-role/safe/")
    );

    let change = |role: &str| IntegrationInput {
        name: "deploy".into(),
        role_arn: format!("arn:aws:iam::123456789012:role/{role}"),
        ..Default::default()
    };
    for (role, says) in [
        ("open", "can be assumed without an External ID"),
        ("does-not-exist", "was denied"),
    ] {
        let refused = admin
            .replace_integration(&i.id, &change(role))
            .await
            .unwrap_err();
        let ClientError::Problem(p) = &refused else {
            panic!("{refused}")
        };
        assert_eq!(p.code, ProblemCode::VerificationFailed, "{role}: {refused}");
        assert!(p.detail.contains(says), "{role}: {}", p.detail);
        assert!(p.report.is_some(), "the report comes with the refusal");
        // The previous configuration stays in force.
        let now = admin.integration(&i.id).await.unwrap();
        assert_eq!(now.role_arn.as_str(), "arn:aws:iam::123456789012:role/safe");
        assert!(
            vend(&runner, "net", Phase::Write)
                .await
                .unwrap()
                .contains("assumed-role/safe/")
        );
    }
    // Turning on session tags is a trust-relevant change too: verified (the
    // emulator does not require sts:TagSession, see the notes), then in force.
    let tagged = IntegrationInput {
        tag_session: true,
        ..change("safe")
    };
    assert!(
        admin
            .replace_integration(&i.id, &tagged)
            .await
            .unwrap()
            .tag_session
    );
    let updates = events(&admin, "integration.update").await;
    assert_eq!(
        updates
            .iter()
            .map(|e| e.outcome.as_str())
            .collect::<Vec<_>>(),
        ["ok", "verification_failed", "verification_failed"],
        "newest first"
    );
    // A change that is not trust-relevant needs no verification.
    let renamed = IntegrationInput {
        name: "deploy-2".into(),
        ..tagged
    };
    assert_eq!(
        admin
            .replace_integration(&i.id, &renamed)
            .await
            .unwrap()
            .name,
        "deploy-2"
    );
    assert!(vend(&runner, "net", Phase::Read).await.is_ok());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_added_phase_is_verified_before_it_vends() {
    let (fc, user, b) = setup(&["--verify-retry-seconds", "2"]).await;
    let admin = b.admin();
    admin
        .create_stack(&StackInput::with_id("net"))
        .await
        .unwrap();
    let i = integration(&admin, "deploy", "plans").await;
    fc.role("plans", &exact(&user.arn, &ids(&i, "net", &["read"])))
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
    let both = AttachmentUpdate {
        read: true,
        write: true,
    };
    let refused = admin
        .update_attachment(&i.id, "net", &both)
        .await
        .unwrap_err();
    assert_eq!(
        code(&refused),
        Some(ProblemCode::VerificationFailed),
        "{refused}"
    );
    assert!(
        refused
            .to_string()
            .contains("denied with the write External ID of stack net"),
        "{refused}"
    );
    let a = admin.attachment(&i.id, "net").await.unwrap();
    assert!(a.read && !a.write, "unchanged");
    let runner = b.runner("net", &Phase::ALL).await;
    assert_eq!(
        vend(&runner, "net", Phase::Write).await,
        Err(ProblemCode::NotFound)
    );
    // Once the role trusts the write External ID, the phase is added.
    fc.set_trust(
        "plans",
        &exact(&user.arn, &ids(&i, "net", &["read", "write"])),
    )
    .await
    .unwrap();
    assert!(
        admin
            .update_attachment(&i.id, "net", &both)
            .await
            .unwrap()
            .write
    );
    assert!(vend(&runner, "net", Phase::Write).await.is_ok());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cancelled_attach_ends_verified_or_not_at_all_and_is_audited() {
    let (fc, user, b) = setup(&["--verify-retry-seconds", "6"]).await;
    let admin = b.admin();
    admin
        .create_stack(&StackInput::with_id("net"))
        .await
        .unwrap();
    admin
        .create_stack(&StackInput::with_id("app"))
        .await
        .unwrap();
    // A client that gives up after one second, as Ctrl-C or a proxy would.
    let impatient = b.client(&b.admin_token, Duration::from_secs(1));

    // A role that never trusts the stack: the verification fails after the
    // client left; nothing is attached and the refusal is audited.
    let never = integration(&admin, "never", "never").await;
    fc.role(
        "never",
        &exact(&user.arn, &["acme@nobody@x@read".to_string()]),
    )
    .await
    .unwrap();
    let gone = impatient.attach(&never.id, &both("net")).await.unwrap_err();
    assert!(
        matches!(gone, ClientError::Transport { .. }),
        "the client timed out: {gone}"
    );
    let audited = eventually(Duration::from_secs(20), || async {
        events(&admin, "attachment.create")
            .await
            .iter()
            .any(|e| e.outcome == "verification_failed")
    })
    .await;
    assert!(
        audited,
        "the refusal is audited after the client left:\n{}",
        b.log()
    );
    assert!(
        admin
            .attachments_of_integration(&never.id)
            .await
            .unwrap()
            .is_empty()
    );

    // A role that becomes assumable a few seconds in: the attach completes
    // after the client left, and retrying it adopts the attachment.
    let late = integration(&admin, "late", "late").await;
    fc.role(
        "late",
        &trust(
            &user.arn,
            json!({"Condition": {"StringEquals": {"sts:ExternalId": "nothing-yet"}}}),
        ),
    )
    .await
    .unwrap();
    let attach = AttachmentInput {
        stack_id: "app".into(),
        read: true,
        write: true,
    };
    let cancelled = impatient.attach(&late.id, &attach).await;
    assert!(cancelled.is_err());
    fc.set_trust(
        "late",
        &exact(&user.arn, &ids(&late, "app", &["read", "write"])),
    )
    .await
    .unwrap();
    let attached = eventually(Duration::from_secs(20), || async {
        admin.attachment(&late.id, "app").await.is_ok()
    })
    .await;
    assert!(attached, "verified after the client left:\n{}", b.log());
    let again = admin.attach(&late.id, &attach).await.unwrap();
    assert_eq!(
        again.id,
        format!("{}/app", late.id),
        "a retried attach adopts it"
    );
    let runner = b.runner("app", &Phase::ALL).await;
    assert!(vend(&runner, "app", Phase::Read).await.is_ok());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broker_killed_mid_verification_leaves_nothing_attached_and_an_audit_record() {
    let (fc, user, mut b) = setup(&["--verify-retry-seconds", "60"]).await;
    let admin = b.admin();
    admin
        .create_stack(&StackInput::with_id("net"))
        .await
        .unwrap();
    let i = integration(&admin, "deploy", "slow").await;
    fc.role(
        "slow",
        &exact(&user.arn, &["acme@nobody@x@read".to_string()]),
    )
    .await
    .unwrap();
    let impatient = b.client(&b.admin_token, Duration::from_secs(2));
    let _ = impatient.attach(&i.id, &both("net")).await;
    b.kill().await;
    b.restart().await;
    let admin = b.admin();
    let interrupted = eventually(Duration::from_secs(60), || async {
        events(&admin, "attachment.create")
            .await
            .iter()
            .any(|e| e.outcome == "interrupted")
    })
    .await;
    assert!(
        interrupted,
        "the interrupted attach is audited:\n{}",
        b.log()
    );
    assert!(
        admin
            .attachments_of_integration(&i.id)
            .await
            .unwrap()
            .is_empty()
    );
    let runner = b.runner("net", &Phase::ALL).await;
    assert_eq!(
        vend(&runner, "net", Phase::Read).await,
        Err(ProblemCode::NotFound)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_role_made_open_after_attach_stops_vending_once_reverified() {
    // Re-verification every second, as the background task does daily.
    let (fc, user, b) = setup(&["--verify-retry-seconds", "2", "--reverify-interval", "1"]).await;
    let admin = b.admin();
    admin
        .create_stack(&StackInput::with_id("net"))
        .await
        .unwrap();
    let i = integration(&admin, "deploy", "drifts").await;
    fc.role(
        "drifts",
        &exact(&user.arn, &ids(&i, "net", &["read", "write"])),
    )
    .await
    .unwrap();
    admin.attach(&i.id, &both("net")).await.unwrap();
    let runner = b.runner("net", &Phase::ALL).await;
    assert!(vend(&runner, "net", Phase::Read).await.is_ok());
    // Someone edits the trust policy in the console and drops the condition.
    fc.set_trust("drifts", &trust(&user.arn, json!({})))
        .await
        .unwrap();
    let stopped = eventually(Duration::from_secs(30), || async {
        vend(&runner, "net", Phase::Read).await == Err(ProblemCode::NotVerified)
    })
    .await;
    assert!(stopped, "vending stops after re-verification:\n{}", b.log());
    let verify_all = || {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_deputy"));
        cmd.args(["verify", "--all"])
            .env("DEPUTY_ENDPOINT", &b.base)
            .env("DEPUTY_TOKEN", &b.admin_token);
        cmd.output().unwrap()
    };
    let out = verify_all();
    let printed = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{printed}");
    assert!(
        printed.contains("FAILED (deny:read:account-around:vend)"),
        "{printed}"
    );
    let reverified = events(&admin, "integration.reverify").await;
    assert!(
        reverified
            .iter()
            .any(|e| e.outcome == "verification_failed"),
        "{reverified:?}"
    );
    let shown = admin.integration(&i.id).await.unwrap();
    assert_eq!(
        shown.verification_state,
        deputy::wire::VerificationState::Failed
    );
    // Fixed, and verified on demand: vending resumes.
    fc.set_trust(
        "drifts",
        &exact(&user.arn, &ids(&i, "net", &["read", "write"])),
    )
    .await
    .unwrap();
    let out = verify_all();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(vend(&runner, "net", Phase::Read).await.is_ok());
}

#[tokio::test(flavor = "multi_thread")]
async fn terraform_shows_a_refused_attachment_as_a_diagnostic_and_keeps_nothing() {
    let (fc, user, b) = setup(&["--verify-retry-seconds", "2"]).await;
    let admin = b.admin();
    admin
        .create_stack(&StackInput::with_id("app"))
        .await
        .unwrap();
    let open = integration(&admin, "open", "open").await;
    fc.role("open", &trust(&user.arn, json!({}))).await.unwrap();
    let config = format!(
        "resource \"deputy_aws_integration_attachment\" \"open\" {{\n  integration_id = \"{}\"\n  stack_id = \"app\"\n}}\n",
        open.id
    );
    let env = [
        ("DEPUTY_ENDPOINT", b.base.clone()),
        ("DEPUTY_TOKEN", b.admin_token.clone()),
    ];
    let (errors, state) = tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let ws = crate::tf::Workspace::with_env(&config, &env);
        let errors = ws.fails(&["apply", "-auto-approve", "-no-color"]);
        let state = ws.run(&["state", "list"]);
        (errors, crate::tf::text(&state.stdout))
    })
    .await
    .unwrap();
    crate::tf::assert_contains(&errors, "Error: AWS role verification failed");
    crate::tf::assert_contains(&errors, "can be assumed without an External ID");
    assert!(state.trim().is_empty(), "nothing in state: {state}");
    assert!(
        admin
            .attachments_of_integration(&open.id)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn probes_use_the_vend_duration_and_stop_at_once_on_what_retrying_cannot_fix() {
    let (fc, user, b) = setup(&["--verify-retry-seconds", "30"]).await;
    let admin = b.admin();
    admin
        .create_stack(&StackInput::with_id("net"))
        .await
        .unwrap();
    let i = admin
        .create_integration(&IntegrationInput {
            name: "long".into(),
            role_arn: "arn:aws:iam::123456789012:role/short".into(),
            duration_seconds: Some(7200),
            ..Default::default()
        })
        .await
        .unwrap();
    fc.role_with(
        "short",
        &exact(&user.arn, &ids(&i, "net", &["read", "write"])),
        3600,
    )
    .await
    .unwrap();
    let started = Instant::now();
    let refused = admin.attach(&i.id, &both("net")).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "no retrying a ValidationError"
    );
    let message = refused.to_string();
    assert!(message.contains("MaxSessionDuration"), "{message}");
    // One sentence per cause, and no trust statement: the trust policy was
    // right, the session limit was not.
    assert!(!message.contains(".."), "{message}");
    assert!(
        !message.contains("The statement that trusts deputy should be"),
        "{message}"
    );
    // Verifying a stack that does not exist is refused at once.
    let started = Instant::now();
    let missing = admin.verify(&i.id, Some("ghost")).await.unwrap_err();
    assert_eq!(code(&missing), Some(ProblemCode::NotFound));
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_account_root_is_refused_as_the_broker_principal_unless_allowed() {
    let fc = Fakecloud::start();
    // fakecloud's `test` keys are its account root.
    let root = AccessKey {
        arn: "arn:aws:iam::123456789012:root".into(),
        id: "test".into(),
        secret: "test".into(),
    };
    let said = refuses_to_start(&fc, &root, &[]).await;
    assert!(
        said.contains("a whole account") && said.contains("--allow-account-principal"),
        "{said}"
    );
    let b = Broker::start(&fc, &root, &["--allow-account-principal"]).await;
    let account = b.admin().account().await.unwrap();
    assert_eq!(account.aws_principal_kind, PrincipalKind::Account);
    assert!(
        b.log().contains("account root"),
        "warned at start:\n{}",
        b.log()
    );
    let user = fc.user("deputy-broker").await;
    let b = Broker::start(&fc, &user, &[]).await;
    let account = b.admin().account().await.unwrap();
    assert_eq!(account.aws_principal_arn.as_str(), user.arn);
    assert_eq!(account.aws_principal_kind, PrincipalKind::User);
}

/// A stack detached from a stack-scoped integration whose role still lists
/// its External IDs: verification still passes (the stacks attached now
/// are safe) but says which stack the role trusts for nothing, with the
/// statement to use, through the API, `deputy verify` and the periodic
/// check alike; once the role drops them, the warning goes and the broker
/// stops asking.
#[tokio::test(flavor = "multi_thread")]
async fn trust_left_to_a_detached_stack_is_a_warning_with_the_statement_to_use() {
    let (fc, user, b) = setup(&["--verify-retry-seconds", "5"]).await;
    let admin = b.admin();
    for s in ["net", "gone"] {
        admin.create_stack(&StackInput::with_id(s)).await.unwrap();
    }
    let i = integration(&admin, "tidy", "tidy").await;
    let mut both_stacks = ids(&i, "net", &["read", "write"]);
    both_stacks.extend(ids(&i, "gone", &["read", "write"]));
    fc.role("tidy", &exact(&user.arn, &both_stacks))
        .await
        .unwrap();
    admin.attach(&i.id, &both("net")).await.unwrap();
    admin.attach(&i.id, &both("gone")).await.unwrap();
    let clean = admin.verify(&i.id, None).await.unwrap();
    assert!(
        !clean
            .warnings
            .iter()
            .any(|w| w.contains("no longer attached")),
        "{:?}",
        clean.warnings
    );

    // Detached, then deleted: the role still trusts its IDs.
    admin.detach(&i.id, "gone").await.unwrap();
    admin.delete_stack("gone").await.unwrap();
    let report = admin.verify(&i.id, None).await.unwrap();
    assert!(report.ok, "the attached stack is safe: {}", report.error);
    let stale: Vec<&String> = report
        .warnings
        .iter()
        .filter(|w| w.contains("no longer attached"))
        .collect();
    assert_eq!(stale.len(), 2, "one per phase: {:?}", report.warnings);
    for phase in ["read", "write"] {
        let id = format!("acme@{}@gone@{phase}", i.id);
        assert!(stale.iter().any(|w| w.contains(&id)), "{id}: {stale:?}");
    }
    let net_only = ids(&i, "net", &["read", "write"]);
    assert!(
        stale[0].contains(&format!(
            "\"sts:ExternalId\":[\"{}\",\"{}\"]",
            net_only[0], net_only[1]
        )),
        "the statement to use trusts the attached stack only: {}",
        stale[0]
    );
    // The CLI says the same, and no longer calls the role simply safe.
    let cli = std::process::Command::new(testkit::bin("deputy"))
        .args(["verify", "--integration", &i.id])
        .env("DEPUTY_ENDPOINT", &b.base)
        .env("DEPUTY_TOKEN", &b.admin_token)
        .output()
        .unwrap();
    let (out, err) = (
        String::from_utf8_lossy(&cli.stdout),
        String::from_utf8_lossy(&cli.stderr),
    );
    assert!(cli.status.success(), "{out}{err}");
    assert!(
        err.contains("no longer attached to this integration"),
        "{err}"
    );
    assert!(out.contains("warning(s) above"), "{out}");
    assert!(
        out.contains("former:gone:write"),
        "the probe is a step: {out}"
    );

    // The customer drops them: no warning, and the broker forgets the pair.
    fc.set_trust("tidy", &exact(&user.arn, &net_only))
        .await
        .unwrap();
    let tidy = admin.verify(&i.id, None).await.unwrap();
    assert!(
        !tidy
            .warnings
            .iter()
            .any(|w| w.contains("no longer attached"))
    );
    assert!(tidy.steps.iter().any(|s| s.name == "former:gone:write"));
    let again = admin.verify(&i.id, None).await.unwrap();
    assert!(
        !again.steps.iter().any(|s| s.name.starts_with("former:")),
        "refused once, not asked again"
    );
}

/// One role failing for every stack of a `for_each` in one apply: the full
/// report once, one line for each other stack naming where it is.
#[tokio::test(flavor = "multi_thread")]
async fn one_role_failing_for_many_stacks_in_one_apply_is_reported_once() {
    let (fc, user, b) = setup(&["--verify-retry-seconds", "5"]).await;
    let admin = b.admin();
    let stacks = ["a", "b", "c"];
    for s in stacks {
        admin.create_stack(&StackInput::with_id(s)).await.unwrap();
    }
    let i = admin
        .create_integration(&IntegrationInput {
            name: "long".into(),
            role_arn: "arn:aws:iam::123456789012:role/short".into(),
            duration_seconds: Some(7200),
            ..Default::default()
        })
        .await
        .unwrap();
    let all: Vec<String> = stacks
        .iter()
        .flat_map(|s| ids(&i, s, &["read", "write"]))
        .collect();
    fc.role_with("short", &exact(&user.arn, &all), 3600)
        .await
        .unwrap();
    let config = format!(
        "resource \"deputy_aws_integration_attachment\" \"a\" {{\n  for_each = toset([\"a\", \"b\", \"c\"])\n  integration_id = \"{}\"\n  stack_id = each.value\n}}\n",
        i.id
    );
    let env = [
        ("DEPUTY_ENDPOINT", b.base.clone()),
        ("DEPUTY_TOKEN", b.admin_token.clone()),
    ];
    let err = tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        crate::tf::Workspace::with_env(&config, &env).fails(&[
            "apply",
            "-auto-approve",
            "-input=false",
            "-no-color",
        ])
    })
    .await
    .unwrap();
    let errors: Vec<&str> = err
        .split("Error: AWS role verification failed")
        .skip(1)
        .collect();
    assert_eq!(errors.len(), 3, "one error per stack: {err}");
    assert_eq!(
        errors
            .iter()
            .filter(|e| e.contains("Raise the role's MaxSessionDuration"))
            .count(),
        1,
        "the full report, with the fix, once: {err}"
    );
    assert_eq!(
        err.matches("the full report and the statement to use are in the error for stack")
            .count(),
        2,
        "one line for each other stack: {err}"
    );
}
