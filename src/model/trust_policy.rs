//! The trust-policy JSON deputy hands to customers, and its size.
//!
//! A statement is meant to be `jsondecode`d straight into an
//! `aws_iam_role`'s `assume_role_policy` `Statement` list, so its key order is
//! fixed (Effect, Principal, Action, Condition, as AWS documents them) and the
//! same inputs always give byte-identical output: a plan must show no diff
//! when nothing changed.
//!
//! IAM refuses a role whose trust policy is longer than the account's quota
//! (2,048 characters by default), so every emitter measures what it emits
//! with [`iam_length`] and refuses, with [`check_length`], what IAM would.

use serde::Serialize;

use super::integration::TrustScope;
use super::{AccountName, ExternalId, IntegrationId, Invalid, Phase, PrincipalArn, StackId};

/// IAM's policy language version; the only one that supports conditions.
const POLICY_VERSION: &str = "2012-10-17";

/// AWS's default quota for a role trust policy (raisable on request), in
/// characters as IAM counts them.
pub const DEFAULT_MAX_LENGTH: usize = 2048;

/// The most AWS raises that quota to.
pub const LARGEST_QUOTA: usize = 4096;

/// A `max_trust_policy_length` setting: 1 to [`LARGEST_QUOTA`].
pub fn max_length(value: i64) -> Result<usize, Invalid> {
    match usize::try_from(value) {
        Ok(n) if (1..=LARGEST_QUOTA).contains(&n) => Ok(n),
        _ => Err(Invalid::new(format!(
            "max_trust_policy_length is {value}: use your account's quota for a role trust policy, \
             from 1 to {LARGEST_QUOTA} (AWS's default is {DEFAULT_MAX_LENGTH}, and {LARGEST_QUOTA} the \
             most it grants)"
        ))),
    }
}

/// A policy's length as IAM counts it against the quota: characters,
/// whitespace not counted.
pub fn iam_length(json: &str) -> usize {
    json.chars().filter(|c| !c.is_whitespace()).count()
}

/// Refuses, before IAM does, a document over `limit` characters: it names
/// the size, the limit, the number of stacks and both fixes. The length
/// when it fits.
pub fn check_length(json: &str, limit: usize, stacks: usize) -> Result<usize, Invalid> {
    let length = iam_length(json);
    if length <= limit {
        return Ok(length);
    }
    // Stacks cost about the same each, so this many fit under the limit.
    let fit = stacks * limit / length;
    Err(Invalid::new(format!(
        "the trust policy is {length} characters for {stacks} stack(s), over the limit of {limit} \
         (AWS's default quota for a role trust policy, whitespace not counted): IAM would refuse \
         the role. Either declare trust_scope = \"integration\" on the integration (one pattern per \
         phase: the same size for any number of stacks, other integrations still refused), or split \
         the stacks over several roles (about {fit} per role at this limit). If your account's quota \
         was raised, set max_trust_policy_length to it"
    )))
}

/// The `StringLike` patterns of an integration-scoped trust policy: one per
/// phase, `<account>@<integration>@*@<phase>`. They match every stack of
/// this integration and no other integration's External IDs (the
/// integration id is fixed in the pattern), and keep plans and applies apart.
pub fn integration_patterns(
    account: &AccountName,
    integration: &IntegrationId,
    phases: &[Phase],
) -> Vec<String> {
    phases
        .iter()
        .map(|phase| format!("{account}@{integration}@*@{phase}"))
        .collect()
}

/// Which External IDs a trust policy accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Accepted {
    /// `StringEquals`: exactly these.
    Exact(Vec<ExternalId>),
    /// `StringLike`: anything these patterns match.
    Like(Vec<String>),
}

impl Accepted {
    /// What the role of an integration must accept for `stacks`, each with
    /// the phases it is used for: every External ID in stack scope (the
    /// custom one, once, in worker mode), or one pattern per phase in use in
    /// integration scope.
    pub fn for_stacks(
        scope: TrustScope,
        account: &AccountName,
        integration: &IntegrationId,
        custom: Option<&ExternalId>,
        stacks: &[(StackId, Vec<Phase>)],
    ) -> Accepted {
        match (scope, custom) {
            (TrustScope::Integration, None) => {
                let used: Vec<Phase> = Phase::ALL
                    .into_iter()
                    .filter(|p| stacks.iter().any(|(_, phases)| phases.contains(p)))
                    .collect();
                Accepted::Like(integration_patterns(account, integration, &used))
            }
            _ => Accepted::Exact(
                stacks
                    .iter()
                    .flat_map(|(stack, phases)| {
                        phases.iter().map(move |phase| {
                            ExternalId::for_phase(account, integration, custom, stack, *phase)
                        })
                    })
                    .collect(),
            ),
        }
    }

    /// The values, duplicates dropped and the first occurrence kept, so the
    /// caller's order is preserved and diffs stay quiet.
    pub fn values(&self) -> Vec<&str> {
        let all: Vec<&str> = match self {
            Accepted::Exact(ids) => ids.iter().map(|id| id.as_str()).collect(),
            Accepted::Like(patterns) => patterns.iter().map(String::as_str).collect(),
        };
        let mut kept: Vec<&str> = Vec::with_capacity(all.len());
        for value in all {
            if !kept.contains(&value) {
                kept.push(value);
            }
        }
        kept
    }

    pub fn is_empty(&self) -> bool {
        match self {
            Accepted::Exact(ids) => ids.is_empty(),
            Accepted::Like(patterns) => patterns.is_empty(),
        }
    }
}

/// What a statement lets the principal do beyond `sts:AssumeRole`. Each
/// extra is needed exactly when a vend passes the matching parameter: AWS
/// refuses the whole AssumeRole call with session tags unless the trust
/// policy allows `sts:TagSession`, and with a SourceIdentity unless it
/// allows `sts:SetSourceIdentity`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Actions {
    pub tag_session: bool,
    pub set_source_identity: bool,
}

impl Actions {
    /// `sts:AssumeRole` alone.
    pub const ASSUME_ROLE: Actions = Actions {
        tag_session: false,
        set_source_identity: false,
    };

    /// A single action is written as a string, several as a list, as AWS's
    /// own examples do.
    fn json(self) -> serde_json::Value {
        let mut list = vec!["sts:AssumeRole"];
        if self.tag_session {
            list.push("sts:TagSession");
        }
        if self.set_source_identity {
            list.push("sts:SetSourceIdentity");
        }
        match list.as_slice() {
            [one] => serde_json::json!(one),
            many => serde_json::json!(many),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Statement<'a> {
    effect: &'static str,
    principal: Principal<'a>,
    action: serde_json::Value,
    condition: Condition<'a>,
}

#[derive(Serialize)]
struct Principal<'a> {
    #[serde(rename = "AWS")]
    aws: &'a str,
}

/// `{"StringEquals": {"sts:ExternalId": [...]}}` or the same with
/// `StringLike`.
#[derive(Serialize)]
struct Condition<'a> {
    #[serde(rename = "StringEquals", skip_serializing_if = "Option::is_none")]
    equals: Option<ExternalIdCondition<'a>>,
    #[serde(rename = "StringLike", skip_serializing_if = "Option::is_none")]
    like: Option<ExternalIdCondition<'a>>,
}

#[derive(Serialize)]
struct ExternalIdCondition<'a> {
    #[serde(rename = "sts:ExternalId")]
    external_ids: Vec<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Document<'a> {
    version: &'static str,
    statement: Vec<Statement<'a>>,
}

fn statement<'a>(
    principal: &'a PrincipalArn,
    accepted: &'a Accepted,
    actions: Actions,
) -> Statement<'a> {
    let values = ExternalIdCondition {
        external_ids: accepted.values(),
    };
    let condition = match accepted {
        Accepted::Exact(_) => Condition {
            equals: Some(values),
            like: None,
        },
        Accepted::Like(_) => Condition {
            equals: None,
            like: Some(values),
        },
    };
    Statement {
        effect: "Allow",
        principal: Principal {
            aws: principal.as_str(),
        },
        action: actions.json(),
        condition,
    }
}

/// One `Allow` statement letting `principal` assume the role with what
/// `accepted` allows, as compact JSON.
pub fn statement_json(principal: &PrincipalArn, accepted: &Accepted, actions: Actions) -> String {
    serde_json::to_string(&statement(principal, accepted, actions)).expect("statement serializes")
}

/// A whole trust-policy document holding that one statement, as compact JSON.
pub fn document_json(principal: &PrincipalArn, accepted: &Accepted, actions: Actions) -> String {
    let doc = Document {
        version: POLICY_VERSION,
        statement: vec![statement(principal, accepted, actions)],
    };
    serde_json::to_string(&doc).expect("document serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_counted_as_iam_counts_them() {
        assert_eq!(iam_length("{ \"a\" :\n\t\"b c\" }"), 10);
        let doc = "x".repeat(2048);
        assert_eq!(check_length(&doc, DEFAULT_MAX_LENGTH, 20), Ok(2048));
        let over = "x".repeat(2049);
        let e = check_length(&over, DEFAULT_MAX_LENGTH, 21)
            .unwrap_err()
            .to_string();
        for says in [
            "2049 characters for 21 stack(s)",
            "limit of 2048",
            "trust_scope = \"integration\"",
            "several roles (about 20 per role",
        ] {
            assert!(e.contains(says), "{says}: {e}");
        }
    }

    #[test]
    fn integration_patterns_fix_the_integration_and_the_phase() {
        let integration: IntegrationId = "01JQ3ZV8T4M5N6P7Q8R9S0T1V2".parse().unwrap();
        let got = integration_patterns(&"acme".parse().unwrap(), &integration, &Phase::ALL);
        assert_eq!(
            got,
            [
                "acme@01JQ3ZV8T4M5N6P7Q8R9S0T1V2@*@read",
                "acme@01JQ3ZV8T4M5N6P7Q8R9S0T1V2@*@write"
            ]
        );
    }

    fn ids(list: &[&str]) -> Accepted {
        Accepted::Exact(list.iter().map(|s| s.parse().unwrap()).collect())
    }

    #[test]
    fn integration_scope_is_one_pattern_per_phase_in_use() {
        let account: AccountName = "acme".parse().unwrap();
        let integration: IntegrationId = "01JQ3ZV8T4M5N6P7Q8R9S0T1V2".parse().unwrap();
        let stacks = |n: usize, phases: &[Phase]| -> Vec<(StackId, Vec<Phase>)> {
            (0..n)
                .map(|i| {
                    (
                        format!("prod-payments-api-{i}").parse().unwrap(),
                        phases.to_vec(),
                    )
                })
                .collect()
        };
        let p: PrincipalArn = "arn:aws:iam::123456789012:role/broker".parse().unwrap();
        let scoped = |n, phases: &[Phase]| {
            let accepted = Accepted::for_stacks(
                TrustScope::Integration,
                &account,
                &integration,
                None,
                &stacks(n, phases),
            );
            document_json(&p, &accepted, Actions::ASSUME_ROLE)
        };
        assert_eq!(scoped(1, &Phase::ALL), scoped(1000, &Phase::ALL));
        assert_eq!(
            scoped(3, &[Phase::Read]),
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/broker"},"Action":"sts:AssumeRole","Condition":{"StringLike":{"sts:ExternalId":["acme@01JQ3ZV8T4M5N6P7Q8R9S0T1V2@*@read"]}}}]}"#
        );
        let exact = |n| {
            let accepted = Accepted::for_stacks(
                TrustScope::Stack,
                &account,
                &integration,
                None,
                &stacks(n, &Phase::ALL),
            );
            iam_length(&document_json(&p, &accepted, Actions::ASSUME_ROLE))
        };
        assert!(exact(20) > DEFAULT_MAX_LENGTH, "{}", exact(20));
        // A custom External ID is one value whatever the scope.
        let custom: ExternalId = "shared-id".parse().unwrap();
        let one = Accepted::for_stacks(
            TrustScope::Stack,
            &account,
            &integration,
            Some(&custom),
            &stacks(5, &Phase::ALL),
        );
        assert_eq!(one.values(), ["shared-id"]);
    }

    #[test]
    fn max_lengths() {
        assert_eq!(max_length(2048), Ok(2048));
        assert_eq!(max_length(4096), Ok(4096));
        for bad in [0, -1, 4097] {
            let e = max_length(bad).unwrap_err().to_string();
            assert!(
                e.contains(&format!("max_trust_policy_length is {bad}")),
                "{e}"
            );
        }
    }

    #[test]
    fn statement_has_fixed_shape_and_order() {
        let p: PrincipalArn = "arn:aws:iam::123456789012:role/broker".parse().unwrap();
        let got = statement_json(
            &p,
            &ids(&["a@b@c@read", "a@b@c@write", "a@b@c@read"]),
            Actions::ASSUME_ROLE,
        );
        assert_eq!(
            got,
            r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/broker"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":["a@b@c@read","a@b@c@write"]}}}"#
        );
    }

    #[test]
    fn tagging_sessions_adds_tag_session() {
        let p: PrincipalArn = "arn:aws:iam::123456789012:root".parse().unwrap();
        let got = document_json(
            &p,
            &ids(&["x@y"]),
            Actions {
                tag_session: true,
                set_source_identity: false,
            },
        );
        assert_eq!(
            got,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"StringEquals":{"sts:ExternalId":["x@y"]}}}]}"#
        );
    }

    #[test]
    fn each_extra_action_is_granted_exactly_when_vends_need_it() {
        let p: PrincipalArn = "arn:aws:iam::123456789012:role/broker".parse().unwrap();
        let action = |tag_session, set_source_identity| {
            let json = statement_json(
                &p,
                &ids(&["x@y"]),
                Actions {
                    tag_session,
                    set_source_identity,
                },
            );
            serde_json::from_str::<serde_json::Value>(&json).unwrap()["Action"].clone()
        };
        assert_eq!(action(false, false), serde_json::json!("sts:AssumeRole"));
        assert_eq!(
            action(false, true),
            serde_json::json!(["sts:AssumeRole", "sts:SetSourceIdentity"])
        );
        assert_eq!(
            action(true, true),
            serde_json::json!(["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"])
        );
    }
}
