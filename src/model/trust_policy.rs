//! The trust-policy JSON deputy hands to customers.
//!
//! A statement is meant to be `jsondecode`d straight into an
//! `aws_iam_role`'s `assume_role_policy` `Statement` list, so its key order is
//! fixed (Effect, Principal, Action, Condition, as AWS documents them) and the
//! same inputs always give byte-identical output: a plan must show no diff
//! when nothing changed.

use serde::Serialize;

use super::{AccountName, ExternalId, IntegrationId, Invalid, Phase, PrincipalArn};

/// IAM's policy language version; the only one that supports conditions.
const POLICY_VERSION: &str = "2012-10-17";

/// AWS's default quota for a role trust policy (raisable on request), in
/// characters as IAM counts them.
pub const DEFAULT_MAX_LENGTH: usize = 2048;

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

#[derive(Serialize)]
struct Condition<'a> {
    #[serde(rename = "StringEquals")]
    string_equals: ExternalIdCondition<'a>,
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
    external_ids: &'a [ExternalId],
    actions: Actions,
) -> Statement<'a> {
    let action = actions.json();
    // Duplicates would be harmless to IAM but make diffs noisy; keep the
    // first occurrence so the caller's order is preserved.
    let mut ids: Vec<&str> = Vec::with_capacity(external_ids.len());
    for id in external_ids {
        if !ids.contains(&id.as_str()) {
            ids.push(id.as_str());
        }
    }
    Statement {
        effect: "Allow",
        principal: Principal {
            aws: principal.as_str(),
        },
        action,
        condition: Condition {
            string_equals: ExternalIdCondition { external_ids: ids },
        },
    }
}

/// One `Allow` statement letting `principal` assume the role with any of
/// `external_ids`, as compact JSON.
pub fn statement_json(
    principal: &PrincipalArn,
    external_ids: &[ExternalId],
    actions: Actions,
) -> String {
    serde_json::to_string(&statement(principal, external_ids, actions))
        .expect("statement serializes")
}

/// A whole trust-policy document holding that one statement, as compact JSON.
pub fn document_json(
    principal: &PrincipalArn,
    external_ids: &[ExternalId],
    actions: Actions,
) -> String {
    let doc = Document {
        version: POLICY_VERSION,
        statement: vec![statement(principal, external_ids, actions)],
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

    fn ids(list: &[&str]) -> Vec<ExternalId> {
        list.iter().map(|s| s.parse().unwrap()).collect()
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
}
