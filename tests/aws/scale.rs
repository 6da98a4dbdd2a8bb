//! Trust policies at any scale, against an IAM that enforces the role trust
//! policy quota (fakecloud with `--enforce-quota iam/L-C07B4B0D`: 2,048
//! characters): deputy's length check agrees with IAM at 19, 20, 50 and
//! 1,000 stacks in both scopes; an integration-scoped role serves 1,000
//! attached stacks; a stack-scoped integration refuses the attachment that
//! would outgrow its role; the declared scope is what verification checks;
//! SourceIdentity is passed and recorded; role templates create roles that
//! verify.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use serde_json::{Value, json};

use deputy::client::Client;
use deputy::model::integration::TrustScope;
use deputy::model::trust_policy::{
    Accepted, Actions, DEFAULT_MAX_LENGTH, check_length, document_json, iam_length,
};
use deputy::model::{AccountName, IntegrationId, Phase, PrincipalArn, StackId};
use deputy::wire::{
    AttachmentInput, AuditFilter, CredentialsRequest, Integration, IntegrationInput,
    IssuedCredentials, ProblemCode, RoleTemplateQuery, StackInput,
};

use crate::broker::Broker;
use crate::fakecloud::{ACCOUNT, AccessKey, Fakecloud, trust, xml_field};

/// The emulator, the broker's IAM user, and a broker running as it.
async fn setup() -> (Fakecloud, AccessKey, Broker) {
    let fc = Fakecloud::start();
    let user = fc.user("deputy-broker").await;
    let b = Broker::start(&fc, &user, &["--verify-retry-seconds", "2"]).await;
    (fc, user, b)
}

fn both(stack: &str) -> AttachmentInput {
    AttachmentInput {
        stack_id: stack.into(),
        read: true,
        write: true,
    }
}

async fn integration(admin: &Client, name: &str, role: &str, scope: TrustScope) -> Integration {
    admin
        .create_integration(&IntegrationInput {
            name: name.into(),
            role_arn: format!("arn:aws:iam::{ACCOUNT}:role/{role}"),
            trust_scope: Some(scope.to_string()),
            ..Default::default()
        })
        .await
        .unwrap()
}

/// The role's trust policy from deputy's JSON role template, trusting
/// `stacks` besides the attached ones.
async fn template_trust(admin: &Client, i: &Integration, stacks: &[String]) -> Value {
    let t = admin
        .role_template(
            i.id.as_str(),
            &RoleTemplateQuery {
                format: Some("json".into()),
                stack_id: stacks.to_vec(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let definition: Value = serde_json::from_str(&t.content).unwrap();
    definition["assume_role_policy"].clone()
}

async fn stacks(admin: &Client, prefix: &str, n: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(n);
    for k in 0..n {
        let id = format!("{prefix}-{k:02}");
        admin.create_stack(&StackInput::with_id(&id)).await.unwrap();
        ids.push(id);
    }
    ids
}

#[tokio::test(flavor = "multi_thread")]
async fn deputys_length_check_agrees_with_iam_at_every_scale() {
    let fc = Fakecloud::start();
    let user = fc.user("deputy-broker").await;
    let principal: PrincipalArn = user.arn.parse().unwrap();
    let account: AccountName = "acme".parse().unwrap();
    let integration = IntegrationId::generate();
    let mut table = Vec::new();
    for n in [1, 19, 20, 50, 1000] {
        let stacks: Vec<(StackId, Vec<Phase>)> = (0..n)
            .map(|k| {
                (
                    format!("stack-{k:02}").parse().unwrap(),
                    Phase::ALL.to_vec(),
                )
            })
            .collect();
        for scope in [TrustScope::Stack, TrustScope::Integration] {
            let accepted = Accepted::for_stacks(scope, &account, &integration, None, &stacks);
            let doc = document_json(&principal, &accepted, Actions::ASSUME_ROLE);
            let fits = check_length(&doc, DEFAULT_MAX_LENGTH, n).is_ok();
            let created = fc
                .iam(
                    "CreateRole",
                    &[
                        ("RoleName", &format!("r-{scope}-{n}")),
                        ("AssumeRolePolicyDocument", &doc),
                    ],
                )
                .await;
            assert_eq!(
                created.is_ok(),
                fits,
                "{n} stacks, {scope} scope, {} characters: IAM said {created:?}",
                iam_length(&doc)
            );
            if let Err(e) = &created {
                assert!(
                    e.contains("LimitExceeded") && e.contains("2048"),
                    "IAM's words: {e}"
                );
            }
            table.push((n, scope, iam_length(&doc), created.is_ok()));
        }
    }
    eprintln!("stacks | scope | length | IAM accepts");
    for (n, scope, length, ok) in &table {
        eprintln!("{n} | {scope} | {length} | {ok}");
    }
    let scoped: Vec<usize> = table
        .iter()
        .filter(|r| r.1 == TrustScope::Integration)
        .map(|r| r.2)
        .collect();
    assert!(
        scoped.iter().all(|l| *l == scoped[0]),
        "constant: {scoped:?}"
    );
    assert!(table.iter().all(|r| r.1 == TrustScope::Stack || r.3));
    let refused = |n| {
        table
            .iter()
            .any(|r| r.0 == n && r.1 == TrustScope::Stack && !r.3)
    };
    assert!(!refused(1) && refused(50) && refused(1000));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_integration_scoped_role_serves_a_thousand_stacks_and_no_other_integration() {
    let (fc, _, b) = setup().await;
    let admin = b.admin();
    let shared = integration(&admin, "shared", "shared", TrustScope::Integration).await;
    let exact = integration(&admin, "exact", "exact", TrustScope::Stack).await;
    let ids = stacks(&admin, "stack", 1000).await;

    // The administrative stack: one instance plans the policy for 1,000
    // stacks in integration scope; in stack scope the plan fails.
    let env = [
        ("DEPUTY_ENDPOINT", b.base.clone()),
        ("DEPUTY_TOKEN", b.admin_token.clone()),
    ];
    let config = |integration: &IntegrationId| {
        format!(
            "locals {{\n  stacks = [for n in range(1000) : format(\"stack-%02d\", n)]\n}}\n\
             data \"deputy_aws_integration_trust_policy\" \"all\" {{\n  integration_id = \"{integration}\"\n  stack_ids      = local.stacks\n}}\n\
             output \"json\" {{\n  value = data.deputy_aws_integration_trust_policy.all.json\n}}\n\
             output \"length\" {{\n  value = data.deputy_aws_integration_trust_policy.all.length\n}}\n"
        )
    };
    let (scoped, exact_config) = (config(&shared.id), config(&exact.id));
    let (outputs, refused) = tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let ws = crate::tf::Workspace::with_env(&scoped, &env);
        let outputs = ws.apply_outputs();
        ws.write(&exact_config);
        (outputs, ws.fails(&["plan", "-no-color"]))
    })
    .await
    .unwrap();
    assert!(
        refused.contains("for 1000 stack(s), over the limit of 2048"),
        "{refused}"
    );
    let length = outputs["length"]["value"].as_u64().unwrap() as usize;
    assert!(length < DEFAULT_MAX_LENGTH, "{length}");
    let policy: Value = serde_json::from_str(outputs["json"]["value"].as_str().unwrap()).unwrap();
    assert_eq!(policy, template_trust(&admin, &shared, &[]).await);
    fc.role("shared", &policy).await.unwrap();
    let started = Instant::now();
    for id in &ids {
        admin.attach(&shared.id, &both(id)).await.unwrap();
    }
    eprintln!(
        "1000 attachments verified in {} ms",
        started.elapsed().as_millis()
    );
    let whole = admin.trust_policy(shared.id.as_str()).await.unwrap();
    assert_eq!(whole.stacks, 1000);
    assert!(whole.length < DEFAULT_MAX_LENGTH, "{}", whole.length);
    assert_eq!(
        serde_json::from_str::<Value>(&whole.document).unwrap(),
        policy
    );
    let runner = b.runner("stack-999", &Phase::ALL).await;
    let issued = runner
        .credentials(&CredentialsRequest {
            stack_id: None,
            phase: Phase::Write,
            run_id: "run-1".into(),
        })
        .await
        .unwrap();
    assert!(
        matches!(issued, IssuedCredentials::Broker(c) if c.assumed_role_arn.contains("assumed-role/shared/"))
    );

    // Another integration naming the same role is refused by the role.
    let other = integration(&admin, "other", "shared", TrustScope::Integration).await;
    admin
        .create_stack(&StackInput::with_id("elsewhere"))
        .await
        .unwrap();
    let e = admin
        .attach(&other.id, &both("elsewhere"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(ProblemCode::VerificationFailed), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stack_scoped_role_stops_growing_at_the_quota_and_the_scope_is_verified_as_declared() {
    let (fc, user, b) = setup().await;
    let admin = b.admin();
    let exact = integration(&admin, "exact", "exact", TrustScope::Stack).await;
    let ids = stacks(&admin, "s", 40).await;
    // The most stacks whose stack-scoped policy fits, by deputy's count.
    let principal: PrincipalArn = user.arn.parse().unwrap();
    let fit = (1..=ids.len())
        .take_while(|n| {
            let stacks: Vec<(StackId, Vec<Phase>)> = ids[..*n]
                .iter()
                .map(|s| (s.parse().unwrap(), Phase::ALL.to_vec()))
                .collect();
            let accepted = Accepted::for_stacks(
                TrustScope::Stack,
                &"acme".parse().unwrap(),
                &exact.id,
                None,
                &stacks,
            );
            check_length(
                &document_json(&principal, &accepted, Actions::ASSUME_ROLE),
                DEFAULT_MAX_LENGTH,
                *n,
            )
            .is_ok()
        })
        .count();
    assert!((10..40).contains(&fit), "{fit}");
    let policy = template_trust(&admin, &exact, &ids[..fit]).await;
    fc.role("exact", &policy).await.unwrap();
    for id in &ids[..fit] {
        admin.attach(&exact.id, &both(id)).await.unwrap();
    }
    let e = admin.attach(&exact.id, &both(&ids[fit])).await.unwrap_err();
    assert_eq!(e.code(), Some(ProblemCode::TrustPolicyTooLong), "{e}");
    for says in [
        format!("for {} stack(s), over the limit of 2048", fit + 1),
        "trust_scope = \"integration\"".into(),
        "several roles".into(),
    ] {
        assert!(e.to_string().contains(&says), "{says}: {e}");
    }

    // Declaring integration scope on a role that lists exact IDs fails
    // verification, and the stack-scoped configuration stays in force.
    let input = IntegrationInput {
        name: "exact".into(),
        role_arn: exact.role_arn.to_string(),
        trust_scope: Some("integration".into()),
        ..Default::default()
    };
    let e = admin
        .replace_integration(exact.id.as_str(), &input)
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(ProblemCode::VerificationFailed), "{e}");
    assert!(
        e.to_string()
            .contains("declares trust_scope = \"integration\""),
        "{e}"
    );
    let kept = admin.integration(exact.id.as_str()).await.unwrap();
    assert_eq!(kept.trust_scope, TrustScope::Stack);

    // A pattern without the phase is refused too.
    let no_phase = trust(
        &user.arn,
        json!({"Condition": {"StringLike": {"sts:ExternalId": format!("acme@{}@*", exact.id)}}}),
    );
    fc.set_trust("exact", &no_phase).await.unwrap();
    let e = admin
        .replace_integration(exact.id.as_str(), &input)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("one pattern per phase"), "{e}");

    // With the integration's patterns the change verifies, and the role
    // takes the stack that did not fit.
    let scoped = trust(
        &user.arn,
        json!({"Condition": {"StringLike": {"sts:ExternalId": [
            format!("acme@{}@*@read", exact.id),
            format!("acme@{}@*@write", exact.id)
        ]}}}),
    );
    fc.set_trust("exact", &scoped).await.unwrap();
    let changed = admin
        .replace_integration(exact.id.as_str(), &input)
        .await
        .unwrap();
    assert_eq!(changed.trust_scope, TrustScope::Integration);
    admin.attach(&exact.id, &both(&ids[fit])).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn source_identity_is_passed_recorded_and_in_the_statement() {
    let (fc, _, b) = setup().await;
    let admin = b.admin();
    admin
        .create_stack(&StackInput::with_id("net"))
        .await
        .unwrap();
    let i = admin
        .create_integration(&IntegrationInput {
            name: "traced".into(),
            role_arn: format!("arn:aws:iam::{ACCOUNT}:role/traced"),
            set_source_identity: true,
            ..Default::default()
        })
        .await
        .unwrap();
    let policy = template_trust(&admin, &i, &["net".into()]).await;
    assert_eq!(
        policy["Statement"][0]["Action"],
        json!(["sts:AssumeRole", "sts:SetSourceIdentity"])
    );
    fc.role("traced", &policy).await.unwrap();
    admin.attach(&i.id, &both("net")).await.unwrap();
    let runner = b.runner("net", &Phase::ALL).await;
    let issued = runner
        .credentials(&CredentialsRequest {
            stack_id: None,
            phase: Phase::Read,
            run_id: "github/actions#17".into(),
        })
        .await
        .unwrap();
    let IssuedCredentials::Broker(c) = issued else {
        panic!("broker mode")
    };
    assert_eq!(
        c.session.source_identity.as_deref(),
        Some("github-actions-17")
    );
    let audit = admin
        .audit(&AuditFilter {
            action: Some("credentials.issue".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        audit[0].source_identity.as_deref(),
        Some("github-actions-17")
    );
}

fn tool(name: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target/tools/bin")
        .join(name);
    assert!(
        path.exists(),
        "{} is missing: run scripts/setup",
        path.display()
    );
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn role_templates_lint_format_and_create_a_role_that_verifies() {
    let (fc, _, b) = setup().await;
    let admin = b.admin();
    admin
        .create_stack(&StackInput::with_id("net"))
        .await
        .unwrap();
    let i = admin
        .create_integration(&IntegrationInput {
            name: "launched".into(),
            role_arn: format!("arn:aws:iam::{ACCOUNT}:role/team/launched"),
            duration_seconds: Some(7200),
            trust_scope: Some("integration".into()),
            tag_session: true,
            ..Default::default()
        })
        .await
        .unwrap();
    let created = fc
        .iam(
            "CreatePolicy",
            &[
                ("PolicyName", "deploy-network"),
                (
                    "PolicyDocument",
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}]}"#,
                ),
            ],
        )
        .await
        .unwrap();
    let policy_arn = xml_field(&created, "Arn").unwrap();
    let query = |format: &str| RoleTemplateQuery {
        format: Some(format.into()),
        managed_policy_arn: vec![policy_arn.clone()],
        state_bucket: Some("acme-terraform-state".into()),
        lock_table: Some("acme-terraform-lock".into()),
        template_url: (format == "cloudformation")
            .then(|| "https://acme-templates.s3.amazonaws.com/launched.json".into()),
        ..Default::default()
    };
    let cfn = admin
        .role_template(i.id.as_str(), &query("cloudformation"))
        .await
        .unwrap();
    assert!(
        cfn.quick_create_url.as_deref().unwrap().starts_with(
            "https://us-east-1.console.aws.amazon.com/cloudformation/home?region=us-east-1#/stacks/quickcreate?templateURL=https%3A%2F%2Facme-templates"
        ),
        "{:?}",
        cfn.quick_create_url
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(&cfn.file_name);
    std::fs::write(&file, &cfn.content).unwrap();
    let lint = Command::new(tool("cfn-lint")).arg(&file).output().unwrap();
    assert!(
        lint.status.success(),
        "cfn-lint:\n{}{}",
        String::from_utf8_lossy(&lint.stdout),
        String::from_utf8_lossy(&lint.stderr)
    );

    // CloudFormation creates the role, bucket and table in one step.
    fc.cloudformation(
        "CreateStack",
        &[
            ("StackName", "deputy-launched"),
            ("TemplateBody", &cfn.content),
            ("Capabilities.member.1", "CAPABILITY_NAMED_IAM"),
        ],
    )
    .await
    .unwrap();
    let stack = fc
        .cloudformation("DescribeStacks", &[("StackName", "deputy-launched")])
        .await
        .unwrap();
    assert_eq!(
        xml_field(&stack, "StackStatus").as_deref(),
        Some("CREATE_COMPLETE"),
        "{stack}"
    );
    let role = fc
        .iam("GetRole", &[("RoleName", "launched")])
        .await
        .unwrap();
    assert_eq!(
        xml_field(&role, "MaxSessionDuration").as_deref(),
        Some("7200")
    );
    assert_eq!(xml_field(&role, "Path").as_deref(), Some("/team/"));
    let attached = fc
        .iam("ListAttachedRolePolicies", &[("RoleName", "launched")])
        .await
        .unwrap();
    assert!(attached.contains(&policy_arn), "{attached}");
    admin.attach(&i.id, &both("net")).await.unwrap();
    let runner = b.runner("net", &Phase::ALL).await;
    let issued = runner
        .credentials(&CredentialsRequest {
            stack_id: None,
            phase: Phase::Write,
            run_id: "run-1".into(),
        })
        .await
        .unwrap();
    assert!(matches!(issued, IssuedCredentials::Broker(c) if c.session.duration_seconds == 7200));

    // The Terraform form is formatted as `terraform fmt` wants, and its
    // trust policy is the one the JSON form holds.
    let tf = admin
        .role_template(i.id.as_str(), &query("terraform"))
        .await
        .unwrap();
    let json = admin
        .role_template(i.id.as_str(), &query("json"))
        .await
        .unwrap();
    let tf_dir = tempfile::tempdir().unwrap();
    std::fs::write(tf_dir.path().join(&tf.file_name), &tf.content).unwrap();
    let fmt = Command::new(crate::tf::terraform_binary())
        .args(["fmt", "-check", "-diff"])
        .current_dir(tf_dir.path())
        .output()
        .unwrap();
    assert!(
        fmt.status.success(),
        "terraform fmt -check:\n{}\n{}",
        String::from_utf8_lossy(&fmt.stdout),
        tf.content
    );
    let heredoc = tf
        .content
        .split_once("assume_role_policy = <<-EOT\n")
        .and_then(|(_, rest)| rest.split_once("\n  EOT"))
        .map(|(body, _)| body)
        .unwrap();
    let definition: Value = serde_json::from_str(&json.content).unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(heredoc).unwrap(),
        definition["assume_role_policy"]
    );
    assert_eq!(
        definition["assume_role_policy"]["Statement"][0]["Action"],
        json!(["sts:AssumeRole", "sts:TagSession"])
    );

    // The CLI prints the broker's template, and the trust policy with its
    // length against the limit.
    let cli = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_deputy"))
            .args(args)
            .env("DEPUTY_ENDPOINT", &b.base)
            .env("DEPUTY_TOKEN", &b.admin_token)
            .output()
            .unwrap();
        assert!(out.status.success(), "deputy {args:?}: {out:?}");
        (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (printed, said) = cli(&[
        "role-template",
        "--integration",
        i.id.as_str(),
        "--managed-policy-arn",
        &policy_arn,
        "--state-bucket",
        "acme-terraform-state",
        "--lock-table",
        "acme-terraform-lock",
        "--template-url",
        "https://acme-templates.s3.amazonaws.com/launched.json",
    ]);
    assert_eq!(printed, cfn.content);
    assert!(
        said.contains(cfn.quick_create_url.as_deref().unwrap()),
        "{said}"
    );
    let (printed, said) = cli(&["trust-policy", "--integration", i.id.as_str()]);
    assert_eq!(
        serde_json::from_str::<Value>(&printed).unwrap(),
        definition["assume_role_policy"]
    );
    assert!(
        said.contains("of 2048 allowed, 1 stack(s), trust scope integration"),
        "{said}"
    );
}
