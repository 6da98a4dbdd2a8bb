//! The canary: a second principal of deputy's own account that presents
//! the right External IDs and must be refused. With it, verification tells
//! a role that trusts deputy's principal from one that trusts deputy's
//! whole account (or any principal); without it, every report says the
//! check was not made. Also the hole issue 23 found in negative probes
//! that did not look like vends (a policy deciding on SourceIdentity).

use serde_json::{Value, json};

use deputy::client::ClientError;
use deputy::model::Phase;
use deputy::wire::{
    AttachmentInput, CredentialsRequest, IntegrationInput, IssuedCredentials, StackInput,
};

use crate::broker::{Broker, refuses_to_start};
use crate::fakecloud::{ACCOUNT, Fakecloud, trust};

/// A role trust policy for `principal` with the stack's two External IDs.
fn exact(principal: Value, ids: &[String; 2]) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": ids}}
    }]})
}

/// Attaches a new integration (role `name` with `policy(ids)`) to a new
/// stack for both phases: the broker's report, or its refusal.
async fn attach(
    fc: &Fakecloud,
    b: &Broker,
    name: &str,
    policy: impl Fn(&[String; 2]) -> Value,
) -> Result<deputy::wire::VerifyReport, deputy::wire::Problem> {
    let admin = b.admin();
    admin
        .create_stack(&StackInput::with_id(name))
        .await
        .unwrap();
    let integration = admin
        .create_integration(&IntegrationInput {
            name: name.into(),
            role_arn: format!("arn:aws:iam::{ACCOUNT}:role/{name}"),
            ..Default::default()
        })
        .await
        .unwrap();
    let id = integration.id.to_string();
    let ids = [
        format!("acme@{id}@{name}@read"),
        format!("acme@{id}@{name}@write"),
    ];
    fc.role(name, &policy(&ids)).await.unwrap();
    match admin
        .attach(
            &id,
            &AttachmentInput {
                stack_id: name.into(),
                read: true,
                write: true,
            },
        )
        .await
    {
        Ok(_) => Ok(admin
            .integration(&id)
            .await
            .unwrap()
            .last_verification
            .unwrap()),
        Err(ClientError::Problem(p)) => Err(*p),
        Err(e) => panic!("{e}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_canary_refuses_roles_that_trust_the_whole_account() {
    let fc = Fakecloud::start();
    let user = fc.user("deputy-broker").await;
    let canary = fc
        .role("deputy-canary", &trust(&user.arn, json!({})))
        .await
        .unwrap();
    let with = Broker::start(&fc, &user, &["--canary-role-arn", &canary]).await;
    let without = Broker::start(&fc, &user, &[]).await;
    let root = json!({"AWS": format!("arn:aws:iam::{ACCOUNT}:root")});
    let own = json!({"AWS": user.arn});

    // Trusting the account root: refused with the canary, with the fix.
    let refused = attach(&fc, &with, "root-c", |ids| exact(root.clone(), ids))
        .await
        .unwrap_err();
    assert!(
        refused.detail.contains("whole account"),
        "{}",
        refused.detail
    );
    assert!(
        refused.detail.contains(&user.arn),
        "the statement to use names the broker's exact principal: {}",
        refused.detail
    );
    let failed = refused.report.as_ref().unwrap();
    assert!(
        failed.steps.iter().any(
            |s| s.name.starts_with("canary:") && s.outcome == deputy::wire::StepOutcome::Failed
        ),
        "{:?}",
        failed.steps
    );
    // Without one, verified, with the warning.
    let passed = attach(&fc, &without, "root-n", |ids| exact(root.clone(), ids))
        .await
        .unwrap();
    assert!(passed.ok);
    assert_eq!(passed.warnings.len(), 1, "{:?}", passed.warnings);
    assert!(passed.warnings[0].contains("not checked (no canary)"));

    // Trusting the broker's exact principal: passes both, warned without.
    let clean = attach(&fc, &with, "own-c", |ids| exact(own.clone(), ids))
        .await
        .unwrap();
    assert!(clean.ok && clean.warnings.is_empty(), "{clean:?}");
    let canary_steps: Vec<_> = clean
        .steps
        .iter()
        .filter(|s| s.name.starts_with("canary:"))
        .collect();
    assert_eq!(canary_steps.len(), 4, "two forms for each phase");
    let warned = attach(&fc, &without, "own-n", |ids| exact(own.clone(), ids))
        .await
        .unwrap();
    assert!(warned.ok && warned.warnings.len() == 1);

    // Any principal, narrowed to deputy's account: refused with the canary.
    let refused = attach(&fc, &with, "any-c", |ids| {
        json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"sts:ExternalId": ids, "aws:PrincipalAccount": ACCOUNT}
            }
        }]})
    })
    .await
    .unwrap_err();
    assert!(
        refused.detail.contains("whole account"),
        "{}",
        refused.detail
    );

    // /readyz says when the check cannot be made.
    let ready = |b: &Broker| {
        let url = format!("{}readyz", b.base);
        async move { reqwest::get(url).await.unwrap().text().await.unwrap() }
    };
    assert_eq!(ready(&with).await, "ready\n");
    let warned = ready(&without).await;
    assert!(
        warned.starts_with("ready\n") && warned.contains("warning: verification:"),
        "{warned}"
    );
    assert!(without.log().contains("no canary role"), "start says so");

    // The canary never vends: a run's credentials come from the broker's
    // own principal (the role trusts nothing else), and the canary's
    // session appears nowhere.
    let runner = with.runner("own-c", &[Phase::Read]).await;
    let IssuedCredentials::Broker(creds) = runner
        .credentials(&CredentialsRequest {
            stack_id: None,
            phase: Phase::Read,
            run_id: "run-1".into(),
        })
        .await
        .unwrap()
    else {
        panic!("broker mode")
    };
    assert_eq!(creds.session.session_name, "run-1");
    let log = with.log();
    let db = std::fs::read(with.data_dir().join("deputy.db")).unwrap();
    let db = String::from_utf8_lossy(&db);
    for text in [&log, &db.to_string()] {
        assert!(!text.contains("assumed-role/deputy-canary"));
        assert!(!text.contains(&creds.secret_access_key));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_canary_must_be_another_principal_of_the_same_account() {
    let fc = Fakecloud::start();
    let user = fc.user("deputy-broker").await;
    // A role the broker cannot assume.
    let closed = fc
        .role(
            "closed-canary",
            &trust("arn:aws:iam::123456789012:user/someone-else", json!({})),
        )
        .await
        .unwrap();
    let err = refuses_to_start(&fc, &user, &["--canary-role-arn", &closed]).await;
    assert!(
        err.contains("cannot assume the canary role") && err.contains(&user.arn),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn probes_look_like_vends_so_a_source_identity_condition_cannot_tell_them_apart() {
    // The hole issue 23 reproduced: a policy that lets in any caller
    // sending a SourceIdentity, whatever its External ID. Negative probes
    // that carried none were all denied and the role passed.
    let fc = Fakecloud::start();
    let user = fc.user("deputy-broker").await;
    let b = Broker::start(&fc, &user, &["--verify-retry-seconds", "1"]).await;
    let admin = b.admin();
    admin
        .create_stack(&StackInput::with_id("si"))
        .await
        .unwrap();
    let integration = admin
        .create_integration(&IntegrationInput {
            name: "si".into(),
            role_arn: format!("arn:aws:iam::{ACCOUNT}:role/si"),
            set_source_identity: true,
            ..Default::default()
        })
        .await
        .unwrap();
    fc.role(
        "si",
        &json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": user.arn},
            "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
            "Condition": {"Null": {"sts:SourceIdentity": "false"}}
        }]}),
    )
    .await
    .unwrap();
    let err = admin
        .attach(
            &integration.id,
            &AttachmentInput {
                stack_id: "si".into(),
                read: true,
                write: false,
            },
        )
        .await
        .unwrap_err();
    let ClientError::Problem(p) = err else {
        panic!("{err}")
    };
    let report = p.report.unwrap();
    let failed: Vec<&str> = report
        .steps
        .iter()
        .filter(|s| s.outcome == deputy::wire::StepOutcome::Failed)
        .map(|s| s.name.as_str())
        .collect();
    assert!(
        failed.iter().all(|n| n.ends_with(":vend")),
        "only the vend-shaped probes get in: {failed:?}"
    );
    assert!(
        failed.contains(&"deny:read:integration-around:vend"),
        "{failed:?}"
    );
    assert!(p.detail.contains("sent as a vend is"), "{}", p.detail);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_broker_template_creates_a_canary_that_works() {
    let template =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/aws/deputy-broker.cfn.json");
    let lint = std::process::Command::new(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tools/bin/cfn-lint"),
    )
    .arg(&template)
    .output()
    .unwrap();
    assert!(
        lint.status.success(),
        "cfn-lint:\n{}{}",
        String::from_utf8_lossy(&lint.stdout),
        String::from_utf8_lossy(&lint.stderr)
    );
    let fc = Fakecloud::start();
    let user = fc.user("deputy-broker").await;
    let body = std::fs::read_to_string(&template).unwrap();
    fc.cloudformation(
        "CreateStack",
        &[
            ("StackName", "deputy-identity"),
            ("TemplateBody", &body),
            ("Parameters.member.1.ParameterKey", "BrokerPrincipalArn"),
            ("Parameters.member.1.ParameterValue", &user.arn),
            ("Capabilities.member.1", "CAPABILITY_NAMED_IAM"),
        ],
    )
    .await
    .unwrap();
    let role = fc
        .iam("GetRole", &[("RoleName", "deputy-canary")])
        .await
        .unwrap();
    let canary = crate::fakecloud::xml_field(&role, "Arn").unwrap();
    assert!(
        fc.iam("GetRole", &[("RoleName", "deputy-broker")])
            .await
            .is_err(),
        "no broker role when the broker's principal is given"
    );
    let b = Broker::start(&fc, &user, &["--canary-role-arn", &canary]).await;
    let root = json!({"AWS": format!("arn:aws:iam::{ACCOUNT}:root")});
    let refused = attach(&fc, &b, "tmpl", |ids| exact(root.clone(), ids))
        .await
        .unwrap_err();
    assert!(
        refused.detail.contains("whole account"),
        "{}",
        refused.detail
    );
}
