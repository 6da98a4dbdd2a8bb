//! Every trust-policy shape of AWS's documentation for third-party access,
//! accepted or refused by verification as IAM semantics demand, each with
//! the probe that decides and the words of the report.

use serde_json::{Value, json};

use deputy::client::ClientError;
use deputy::model::integration::TrustScope;
use deputy::wire::{AttachmentInput, IntegrationInput, Problem, ProblemCode, StackInput};

use crate::broker::Broker;
use crate::fakecloud::{Fakecloud, trust};

/// What verification must say about a shape: accepted, or refused by the
/// named probe with words that name the fix.
enum Verdict {
    Accept,
    Refuse {
        probe: &'static str,
        says: &'static str,
    },
}

struct Shape {
    name: &'static str,
    /// The trust policy, given the broker's principal, this integration's
    /// id and the stack's two exact External IDs.
    policy: fn(&str, &str, &[String; 2]) -> Value,
    verdict: Verdict,
}

fn shapes() -> Vec<Shape> {
    use Verdict::*;
    vec![
        Shape {
            name: "exact External IDs (StringEquals)",
            policy: |p, _, ids| {
                trust(
                    p,
                    json!({"Condition": {"StringEquals": {"sts:ExternalId": ids}}}),
                )
            },
            verdict: Accept,
        },
        Shape {
            name: "exact External IDs, explicit Deny of any other ID",
            policy: |p, _, ids| {
                json!({"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Principal": {"AWS": p}, "Action": "sts:AssumeRole",
                     "Condition": {"StringEquals": {"sts:ExternalId": ids}}},
                    {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
                     "Condition": {"StringNotEquals": {"sts:ExternalId": ids}}}
                ]})
            },
            verdict: Accept,
        },
        Shape {
            name: "exact External IDs, Deny for every principal but deputy (NotPrincipal)",
            policy: |p, _, ids| {
                json!({"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Principal": {"AWS": p}, "Action": "sts:AssumeRole",
                     "Condition": {"StringEquals": {"sts:ExternalId": ids}}},
                    {"Effect": "Deny", "NotPrincipal": {"AWS": p}, "Action": "sts:AssumeRole"}
                ]})
            },
            verdict: Accept,
        },
        Shape {
            name: "exact External IDs under NotAction (everything but SAML and web identity)",
            policy: |p, _, ids| {
                trust(
                    p,
                    json!({"Action": null,
                    "NotAction": ["sts:AssumeRoleWithSAML", "sts:AssumeRoleWithWebIdentity"],
                    "Condition": {"StringEquals": {"sts:ExternalId": ids}}}),
                )
            },
            verdict: Accept,
        },
        Shape {
            name: "no condition",
            policy: |p, _, _| trust(p, json!({})),
            verdict: Refuse {
                probe: "deny:read:account",
                says: "can be assumed without an External ID",
            },
        },
        Shape {
            name: "NotAction without a condition",
            policy: |p, _, _| {
                trust(
                    p,
                    json!({"Action": null, "NotAction": "sts:AssumeRoleWithSAML"}),
                )
            },
            verdict: Refuse {
                probe: "deny:read:account",
                says: "does not require sts:ExternalId",
            },
        },
        Shape {
            name: "StringEqualsIfExists",
            policy: |p, _, ids| {
                trust(
                    p,
                    json!({"Condition": {"StringEqualsIfExists": {"sts:ExternalId": ids}}}),
                )
            },
            verdict: Refuse {
                probe: "deny:read:no-external-id",
                says: "IfExists",
            },
        },
        Shape {
            name: "StringNotEquals (a value to avoid)",
            policy: |p, _, _| {
                trust(
                    p,
                    json!({"Condition": {"StringNotEquals": {"sts:ExternalId": "forbidden"}}}),
                )
            },
            verdict: Refuse {
                probe: "deny:read:account",
                says: "negated operator",
            },
        },
        Shape {
            name: "exact IDs plus a second statement without a condition",
            policy: |p, _, ids| {
                json!({"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Principal": {"AWS": p}, "Action": "sts:AssumeRole",
                     "Condition": {"StringEquals": {"sts:ExternalId": ids}}},
                    {"Effect": "Allow", "Principal": {"AWS": p}, "Action": "sts:AssumeRole"}
                ]})
            },
            verdict: Refuse {
                probe: "deny:read:account",
                says: "without an External ID",
            },
        },
        Shape {
            name: "Null: any External ID at all",
            policy: |p, _, _| {
                trust(
                    p,
                    json!({"Condition": {"Null": {"sts:ExternalId": "false"}}}),
                )
            },
            verdict: Refuse {
                probe: "deny:read:account",
                says: "wider than this integration",
            },
        },
        Shape {
            name: "StringLike \"*\"",
            policy: |p, _, _| {
                trust(
                    p,
                    json!({"Condition": {"StringLike": {"sts:ExternalId": "*"}}}),
                )
            },
            verdict: Refuse {
                probe: "deny:read:account",
                says: "wider than this integration",
            },
        },
        Shape {
            name: "StringLike \"<account>@*\" (every integration of the account)",
            policy: |p, _, _| {
                trust(
                    p,
                    json!({"Condition": {"StringLike": {"sts:ExternalId": "acme@*"}}}),
                )
            },
            verdict: Refuse {
                probe: "deny:read:integration",
                says: "could attach their own stack",
            },
        },
        Shape {
            name: "StringLike \"*@<stack>@*\" (the stack, any integration)",
            policy: |p, _, ids| {
                let stack = ids[0].split('@').nth(2).unwrap().to_string();
                trust(
                    p,
                    json!({"Condition": {"StringLike": {"sts:ExternalId": format!("*@{stack}@*")}}}),
                )
            },
            verdict: Refuse {
                probe: "deny:read:account",
                says: "wider than this integration",
            },
        },
        Shape {
            name: "StringLike \"<account>@<integration>@*\" (every stack of the integration)",
            policy: |p, i, _| {
                trust(
                    p,
                    json!({"Condition": {"StringLike": {"sts:ExternalId": format!("acme@{i}@*")}}}),
                )
            },
            verdict: Refuse {
                probe: "deny:read:stack",
                says: "trust_scope = \"integration\"",
            },
        },
        Shape {
            name: "StringLike per phase \"<account>@<integration>@*@read\" and \"@write\"",
            policy: |p, i, _| {
                trust(
                    p,
                    json!({"Condition": {"StringLike": {"sts:ExternalId": [format!("acme@{i}@*@read"), format!("acme@{i}@*@write")]}}}),
                )
            },
            verdict: Refuse {
                probe: "deny:read:stack",
                says: "than the attached ones",
            },
        },
        Shape {
            name: "exact read ID, and StringLike \"<account>@*@*@write\" (writes open to every integration)",
            policy: |p, _, ids| {
                trust(
                    p,
                    json!({"Condition": {"StringLike": {"sts:ExternalId": [ids[0].clone(), "acme@*@*@write"]}}}),
                )
            },
            verdict: Refuse {
                probe: "deny:write:integration",
                says: "another integration in place of this one",
            },
        },
        Shape {
            name: "exact read ID, and every stack's write ID in stack scope",
            policy: |p, i, ids| {
                trust(
                    p,
                    json!({"Condition": {"StringLike": {"sts:ExternalId": [ids[0].clone(), format!("acme@{i}@*@write")]}}}),
                )
            },
            verdict: Refuse {
                probe: "deny:write:stack",
                says: "than the attached ones",
            },
        },
        Shape {
            name: "integrations created this year (\"<account>@01K*\", a prefix of the id's time)",
            policy: |p, i, _| {
                trust(
                    p,
                    json!({"Condition": {"StringLike": {"sts:ExternalId": format!("acme@{}*", &i[..3])}}}),
                )
            },
            verdict: Refuse {
                probe: "deny:read:integration-around",
                says: "another integration in place of this one",
            },
        },
        Shape {
            name: "integrations whose id ends like this one's (\"<account>@*X@*\")",
            policy: |p, i, _| {
                trust(
                    p,
                    json!({"Condition": {"StringLike": {"sts:ExternalId": format!("acme@*{}@*", &i[i.len() - 1..])}}}),
                )
            },
            verdict: Refuse {
                probe: "deny:read:integration-around",
                says: "another integration in place of this one",
            },
        },
        Shape {
            name: "only the read phase's External ID",
            policy: |p, _, ids| {
                trust(
                    p,
                    json!({"Condition": {"StringEquals": {"sts:ExternalId": [ids[0].clone()]}}}),
                )
            },
            verdict: Refuse {
                probe: "confirm:",
                says: "denied with the write External ID of stack",
            },
        },
        Shape {
            name: "a foreign principal",
            policy: |_, _, ids| {
                trust(
                    "arn:aws:iam::123456789012:user/someone-else",
                    json!({"Condition": {"StringEquals": {"sts:ExternalId": ids}}}),
                )
            },
            verdict: Refuse {
                probe: "confirm:",
                says: "must allow deputy's principal",
            },
        },
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn trust_policy_shapes_are_judged_as_iam_does() {
    let fc = Fakecloud::start();
    let user = fc.user("deputy-broker").await;
    let b = Broker::start(&fc, &user, &["--verify-retry-seconds", "2"]).await;
    let admin = b.admin();
    let mut table = Vec::new();
    let mut wrong = Vec::new();
    for (n, shape) in shapes().into_iter().enumerate() {
        let stack = format!("s{n:02}");
        admin
            .create_stack(&StackInput::with_id(&stack))
            .await
            .unwrap();
        let integration = admin
            .create_integration(&IntegrationInput {
                name: format!("shape-{n:02}"),
                role_arn: format!("arn:aws:iam::123456789012:role/shape-{n:02}"),
                ..Default::default()
            })
            .await
            .unwrap();
        let id = integration.id.to_string();
        let ids = [
            format!("acme@{id}@{stack}@read"),
            format!("acme@{id}@{stack}@write"),
        ];
        let policy = (shape.policy)(&user.arn, &id, &ids);
        fc.role(&format!("shape-{n:02}"), &policy).await.unwrap();
        let result = admin
            .attach(
                &id,
                &AttachmentInput {
                    stack_id: stack.clone(),
                    read: true,
                    write: true,
                },
            )
            .await;
        let (got, line) = match (&result, &shape.verdict) {
            (Ok(a), Verdict::Accept) => {
                let verified = admin.integration(&id).await.unwrap();
                let report = verified.last_verification.unwrap();
                let ok = report.scope == Some(TrustScope::Stack) && a.external_ids.len() == 2;
                (
                    ok,
                    format!(
                        "accepted ({} STS calls, {} ms)",
                        report.sts_calls, report.millis
                    ),
                )
            }
            (Err(ClientError::Problem(p)), Verdict::Refuse { probe, says }) => {
                let failed = failed_probe(p);
                let ok = p.code == ProblemCode::VerificationFailed
                    && failed.starts_with(probe)
                    && p.detail.contains(says)
                    && p.detail
                        .contains("The statement that trusts deputy should be");
                (
                    ok,
                    format!(
                        "refused by {failed}: {}",
                        p.detail.chars().take(90).collect::<String>()
                    ),
                )
            }
            (other, _) => (false, format!("{other:?}")),
        };
        if !got {
            wrong.push(format!("{}: {line}", shape.name));
        }
        // A refused shape leaves nothing attached.
        if matches!(shape.verdict, Verdict::Refuse { .. }) {
            assert!(
                admin
                    .attachments_of_integration(&id)
                    .await
                    .unwrap()
                    .is_empty(),
                "{}",
                shape.name
            );
        }
        table.push(format!("| {} | {line} |", shape.name));
    }
    println!("| shape | verdict |\n|---|---|\n{}", table.join("\n"));
    assert!(
        wrong.is_empty(),
        "shapes judged wrongly:\n{}\n\nbroker log:\n{}",
        wrong.join("\n"),
        b.log()
    );
}

/// The first probe that failed, from the report in the problem.
fn failed_probe(p: &Problem) -> String {
    p.report
        .as_ref()
        .and_then(|r| {
            r.steps
                .iter()
                .find(|s| s.outcome == deputy::wire::StepOutcome::Failed)
        })
        .map(|s| s.name.clone())
        .unwrap_or_default()
}
