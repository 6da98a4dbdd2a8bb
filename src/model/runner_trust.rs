//! Runner trusts: which OIDC ID tokens (a CI system's identity for one
//! job) may get credentials for which stack and phases, instead of a
//! stored runner key.
//!
//! A trust names an issuer, the audience its tokens must carry, a pattern
//! for the token's subject and patterns for any other claims (GitHub's
//! `repository`, `ref`, `event_name`; GitLab's `project_path`,
//! `ref_protected`). A token that passes signature and time checks is
//! matched here against each trust of its issuer. Patterns are exact text
//! except `*`, which stands for any run of characters (`/` and `:`
//! included), as in IAM's `StringLike`.

use std::collections::BTreeMap;

use super::{Invalid, Phase, StackId};

/// Longest issuer URL, audience or pattern accepted: real ones are short,
/// and every one is compared on each request.
const MAX_TEXT: usize = 256;
/// Most claim rules one trust may hold.
const MAX_CLAIM_RULES: usize = 16;

/// Claims checked by the token validation itself, or through `subject`:
/// a claim rule on one of them would be ignored or redundant.
const RESERVED_CLAIMS: [&str; 7] = ["iss", "aud", "exp", "nbf", "iat", "jti", "sub"];

/// An OIDC issuer: the `https://` URL its tokens carry in `iss`, where
/// `/.well-known/openid-configuration` is found.
pub fn check_issuer(issuer: &str) -> Result<(), Invalid> {
    let url = url::Url::parse(issuer).map_err(|e| {
        Invalid(format!(
            "{issuer:?} is not a URL ({e}): use the issuer exactly as tokens carry it in `iss`, \
             e.g. https://token.actions.githubusercontent.com or https://gitlab.com"
        ))
    })?;
    if url.scheme() != "https" {
        return Err(Invalid(format!(
            "{issuer:?} is not https: deputy fetches the issuer's signing keys from it, and only \
             over TLS"
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Invalid(format!(
            "{issuer:?} holds credentials: an issuer URL is public"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Invalid(format!(
            "{issuer:?} has a query or fragment, which an OIDC issuer never has"
        )));
    }
    if issuer.ends_with('/') {
        return Err(Invalid(format!(
            "{issuer:?} ends with `/`: tokens must match the issuer exactly, and issuers such as \
             GitHub's and GitLab's carry none; write {:?}",
            issuer.trim_end_matches('/')
        )));
    }
    check_text("issuer", issuer)
}

/// The audience a trust's tokens must carry in `aud`.
pub fn check_audience(audience: &str) -> Result<(), Invalid> {
    if audience.trim().is_empty() {
        return Err(Invalid(
            "the audience is empty: choose the value your CI job requests its token for, \
             e.g. `deputy` (the CLI's default)"
                .into(),
        ));
    }
    check_text("audience", audience)
}

/// GitHub Actions' issuer, whose subjects name the repository's owner.
pub const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// Literal characters a subject pattern needs before its first `*`, as AWS
/// asks of `sub` conditions on OIDC providers: a wildcard that early would
/// match the tokens of strangers.
pub const MIN_LITERAL_PREFIX: usize = 6;

/// The subject pattern, for tokens of `issuer`. Every issuer's subjects
/// need [`MIN_LITERAL_PREFIX`] literal characters before the first `*`.
/// GitHub's must pin the repository's owner: `repo:OWNER/...`, or, with a
/// customised subject template, `repository_owner:OWNER:...` or
/// `repository_owner_id:ID:...` (the id survives renames); everyone on
/// GitHub holds a token whose subject starts with `repo:`.
pub fn check_subject(issuer: &str, pattern: &str) -> Result<(), Invalid> {
    let literal = pattern.split('*').next().unwrap_or_default();
    if pattern.contains('*') && literal.chars().count() < MIN_LITERAL_PREFIX {
        return Err(Invalid(format!(
            "subject {pattern:?} has a wildcard within its first {MIN_LITERAL_PREFIX} \
             characters, so it would accept tokens from anyone's pipeline: pin it, e.g. \
             repo:ORG/REPO:ref:refs/heads/main (GitHub) or \
             project_path:GROUP/PROJECT:ref_type:branch:ref:main (GitLab)"
        )));
    }
    if issuer == GITHUB_ISSUER && !pins_github_owner(literal) {
        return Err(Invalid(format!(
            "subject {pattern:?} does not pin the repository's owner before its first `*`: \
             every GitHub user can get a token whose subject starts with `repo:`. Start it \
             with repo:OWNER/ (e.g. repo:acme/network:ref:refs/heads/main), or with \
             repository_owner_id:ID: for a customised subject template"
        )));
    }
    check_text("subject", pattern)
}

/// Whether a GitHub subject's literal prefix names the owner in full.
fn pins_github_owner(literal: &str) -> bool {
    let owner_then = |rest: &str, end: char| {
        rest.split_once(end)
            .is_some_and(|(owner, _)| !owner.is_empty())
    };
    if let Some(rest) = literal.strip_prefix("repo:") {
        return owner_then(rest, '/');
    }
    if let Some(rest) = literal.strip_prefix("repository_owner_id:") {
        return owner_then(rest, ':');
    }
    if let Some(rest) = literal.strip_prefix("repository_owner:") {
        return owner_then(rest, ':');
    }
    false
}

/// Claim rules besides the subject: names and patterns.
pub fn check_claims(claims: &BTreeMap<String, String>) -> Result<(), Invalid> {
    if claims.len() > MAX_CLAIM_RULES {
        return Err(Invalid(format!(
            "{} claim rules; at most {MAX_CLAIM_RULES}",
            claims.len()
        )));
    }
    for (name, pattern) in claims {
        let valid_name = !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'));
        if !valid_name {
            return Err(Invalid(format!(
                "claim name {name:?}: use the claim's name as the token carries it (letters, \
                 digits, `_`, `-`, `.`, `:`; at most 64)"
            )));
        }
        if RESERVED_CLAIMS.contains(&name.as_str()) {
            let how = if name == "sub" {
                "set `subject` instead"
            } else {
                "deputy checks it itself"
            };
            return Err(Invalid(format!(
                "claim {name:?} cannot be a claim rule: {how}"
            )));
        }
        check_text(&format!("claim {name:?}"), pattern)?;
    }
    Ok(())
}

fn check_text(what: &str, text: &str) -> Result<(), Invalid> {
    if text.len() > MAX_TEXT {
        return Err(Invalid(format!(
            "{what} is {} characters; at most {MAX_TEXT}",
            text.len()
        )));
    }
    if text.chars().any(char::is_control) {
        return Err(Invalid(format!("{what} holds control characters")));
    }
    Ok(())
}

/// Whether `value` matches `pattern`: exact text, where each `*` stands for
/// any run of characters (none included).
pub fn matches(pattern: &str, value: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = value.strip_prefix(first) else {
        return false;
    };
    let middle: Vec<&str> = parts.collect();
    let Some((last, middle)) = middle.split_last() else {
        // No `*` at all: the whole value must be the pattern.
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// A claim's value as text to match: strings as they are, booleans and
/// numbers as JSON writes them (GitLab's `ref_protected` is the string
/// `"true"`, other issuers use a boolean: both match `true`).
fn claim_text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Why a validated token's claims do not satisfy a trust's rules, or
/// `None` when they do. The subject is checked first, then each claim rule
/// in name order; the first failure is the reason.
pub fn mismatch(
    subject: &str,
    claim_rules: &BTreeMap<String, String>,
    claims: &serde_json::Map<String, serde_json::Value>,
) -> Option<String> {
    let sub = claims.get("sub").and_then(claim_text).unwrap_or_default();
    if !matches(subject, &sub) {
        return Some(format!("subject {sub:?} does not match {subject:?}"));
    }
    for (name, pattern) in claim_rules {
        match claims.get(name).map(|v| (v, claim_text(v))) {
            None => {
                return Some(format!(
                    "the token has no `{name}` claim (wanted {pattern:?})"
                ));
            }
            Some((v, None)) => {
                return Some(format!(
                    "claim `{name}` is {v}, not text to match against {pattern:?}"
                ));
            }
            Some((_, Some(text))) if !matches(pattern, &text) => {
                return Some(format!(
                    "claim `{name}` is {text:?}, which does not match {pattern:?}"
                ));
            }
            Some(_) => {}
        }
    }
    None
}

/// One runner trust as [`choose`] sees it.
pub struct Grant<'a> {
    pub id: &'a str,
    pub stack: &'a StackId,
    /// The pattern for the token's subject, and for its other claims.
    pub subject: &'a str,
    pub claims: &'a BTreeMap<String, String>,
    pub phases: &'a [Phase],
}

/// Why a token gets no credentials.
#[derive(Debug, PartialEq)]
pub enum Refusal {
    /// No trust lets it have these credentials (403).
    Forbidden(String),
    /// It may act for several stacks and the request named none (422 on
    /// `stack_id`).
    Ambiguous(String),
}

/// The one stack a validated ID token may get `phase` credentials for, and
/// the trust that allows it: among `grants` (the trusts of its `issuer`
/// that expect its audience), those for the `requested` stack if the
/// request names one, whose rules its `claims` satisfy and that grant
/// `phase`. A refusal says which rule failed for each trust considered.
pub fn choose<'a>(
    issuer: &str,
    subject: &str,
    claims: &serde_json::Map<String, serde_json::Value>,
    grants: &[Grant<'a>],
    requested: Option<&StackId>,
    phase: Phase,
) -> Result<(StackId, &'a str), Refusal> {
    let who = format!("the ID token of subject {subject:?}");
    if grants.is_empty() {
        return Err(Refusal::Forbidden(format!(
            "{who}: no runner trust of {issuer} expects its audience"
        )));
    }
    let considered: Vec<&Grant<'a>> = grants
        .iter()
        .filter(|g| requested.is_none_or(|s| s == g.stack))
        .collect();
    let matching: Vec<&Grant<'a>> = considered
        .iter()
        .copied()
        .filter(|g| mismatch(g.subject, g.claims, claims).is_none())
        .collect();
    let allowed: Vec<&Grant<'a>> = matching
        .iter()
        .copied()
        .filter(|g| g.phases.contains(&phase))
        .collect();
    let mut stacks: Vec<&StackId> = allowed.iter().map(|g| g.stack).collect();
    stacks.sort();
    stacks.dedup();
    let for_stack = requested.map_or(String::new(), |s| format!(" for stack {s}"));
    match (stacks.as_slice(), allowed.first()) {
        ([stack], Some(grant)) => Ok(((*stack).clone(), grant.id)),
        ([], _) if !matching.is_empty() => {
            let grants: Vec<String> = matching
                .iter()
                .map(|g| {
                    let phases: Vec<&str> = g.phases.iter().map(|p| p.as_str()).collect();
                    format!("{} ({}: {})", g.id, g.stack, phases.join(", "))
                })
                .collect();
            Err(Refusal::Forbidden(format!(
                "{who} may not get {phase} credentials{for_stack}: the runner trusts it matches \
                 grant other phases only: {}",
                grants.join("; ")
            )))
        }
        ([], _) if considered.is_empty() => Err(Refusal::Forbidden(format!(
            "{who}: no runner trust of {issuer}{for_stack} expects its audience"
        ))),
        ([], _) => {
            let reasons: Vec<String> = considered
                .iter()
                .filter_map(|g| {
                    mismatch(g.subject, g.claims, claims)
                        .map(|why| format!("{} ({}): {why}", g.id, g.stack))
                })
                .collect();
            Err(Refusal::Forbidden(format!(
                "{who} matches no runner trust{for_stack}: {}",
                reasons.join("; ")
            )))
        }
        (several, _) => {
            let names: Vec<&str> = several.iter().map(|s| s.as_str()).collect();
            Err(Refusal::Ambiguous(format!(
                "{who} may act for stacks {}: name the one this run is for",
                names.join(", ")
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_are_exact_but_for_stars() {
        assert!(matches(
            "repo:o/r:ref:refs/heads/main",
            "repo:o/r:ref:refs/heads/main"
        ));
        assert!(!matches(
            "repo:o/r:ref:refs/heads/main",
            "repo:o/r:ref:refs/heads/main2"
        ));
        assert!(!matches(
            "repo:o/r:ref:refs/heads/main",
            "xrepo:o/r:ref:refs/heads/main"
        ));
        assert!(matches("repo:o/r:*", "repo:o/r:pull_request"));
        assert!(matches("repo:o/r:*", "repo:o/r:"));
        assert!(!matches("repo:o/r:*", "repo:o/r2:pull_request"));
        assert!(matches("*:main", "a:b:main"));
        assert!(matches("a*b*c", "abc"));
        assert!(matches("a*b*c", "a-b-b-c"));
        assert!(!matches("a*b*c", "a-c-b"));
        assert!(
            !matches("ab*ba", "aba"),
            "prefix and suffix may not overlap"
        );
        assert!(matches("?", "?"), "only `*` is special");
        assert!(!matches("?", "x"));
    }

    #[test]
    fn rules_refuse_what_would_trust_everyone_or_never_match() {
        assert!(check_issuer("https://token.actions.githubusercontent.com").is_ok());
        assert!(check_issuer("https://127.0.0.1:8443/issuer").is_ok());
        for bad in [
            "http://gitlab.com",
            "https://gitlab.com/",
            "https://u:p@gitlab.com",
            "https://gitlab.com?x=1",
            "gitlab.com",
        ] {
            assert!(check_issuer(bad).is_err(), "{bad}");
        }
        assert!(check_subject(GITHUB_ISSUER, "*").is_err());
        assert!(check_subject(GITHUB_ISSUER, "**").is_err());
        assert!(check_subject(GITHUB_ISSUER, "repo:o/r:*").is_ok());
        assert!(check_audience(" ").is_err());
        let rules = |n: &str| BTreeMap::from([(n.to_string(), "x".to_string())]);
        assert!(check_claims(&rules("repository")).is_ok());
        for reserved in RESERVED_CLAIMS {
            assert!(check_claims(&rules(reserved)).is_err(), "{reserved}");
        }
        assert!(check_claims(&rules("a b")).is_err());
    }

    #[test]
    fn mismatch_names_the_first_claim_that_fails() {
        let claims = serde_json::json!({
            "sub": "repo:o/r:pull_request",
            "event_name": "pull_request",
            "ref_protected": true,
            "run_attempt": 2,
            "nested": {"a": 1},
        });
        let claims = claims.as_object().unwrap();
        let rules = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>()
        };
        assert_eq!(mismatch("repo:o/r:*", &rules(&[]), claims), None);
        assert_eq!(
            mismatch(
                "repo:o/r:*",
                &rules(&[("ref_protected", "true"), ("run_attempt", "2")]),
                claims
            ),
            None
        );
        assert!(
            mismatch("repo:o/r:ref:*", &rules(&[]), claims)
                .unwrap()
                .contains("subject \"repo:o/r:pull_request\"")
        );
        let why = mismatch("repo:o/r:*", &rules(&[("event_name", "push")]), claims).unwrap();
        assert!(why.contains("`event_name` is \"pull_request\""), "{why}");
        let why = mismatch("repo:o/r:*", &rules(&[("ref", "refs/heads/main")]), claims).unwrap();
        assert!(why.contains("no `ref` claim"), "{why}");
        assert!(mismatch("repo:o/r:*", &rules(&[("nested", "*")]), claims).is_some());
    }

    #[test]
    fn a_token_gets_the_one_stack_its_trusts_allow() {
        let claims = serde_json::json!({"sub": "repo:acme/net:ref:refs/heads/main"});
        let claims = claims.as_object().unwrap();
        let (net, dns): (StackId, StackId) = ("net".parse().unwrap(), "dns".parse().unwrap());
        let none = BTreeMap::new();
        let grant = |id, stack, subject, phases| Grant {
            id,
            stack,
            subject,
            claims: &none,
            phases,
        };
        let read = [Phase::Read];
        let both = [Phase::Read, Phase::Write];
        let grants = [
            grant("t1", &net, "repo:acme/net:*", &both[..]),
            grant("t2", &dns, "repo:acme/dns:*", &both[..]),
        ];
        let chosen = choose("https://i", "s", claims, &grants, None, Phase::Write);
        assert_eq!(chosen, Ok((net.clone(), "t1")));
        // Another stack's trust does not match the subject: refused, with
        // the reason.
        let Err(Refusal::Forbidden(why)) =
            choose("https://i", "s", claims, &grants, Some(&dns), Phase::Read)
        else {
            panic!("refused expected");
        };
        assert!(why.contains("t2 (dns): subject"), "{why}");
        // A matching trust that grants only other phases says so.
        let reads = [grant("t3", &net, "repo:acme/net:*", &read[..])];
        let Err(Refusal::Forbidden(why)) =
            choose("https://i", "s", claims, &reads, None, Phase::Write)
        else {
            panic!("refused expected");
        };
        assert!(
            why.contains("grant other phases only: t3 (net: read)"),
            "{why}"
        );
        // Two stacks and none named: the caller must choose.
        let wide = [
            grant("t1", &net, "repo:acme/*", &both[..]),
            grant("t2", &dns, "repo:acme/*", &both[..]),
        ];
        assert!(matches!(
            choose("https://i", "s", claims, &wide, None, Phase::Read),
            Err(Refusal::Ambiguous(_))
        ));
        assert!(matches!(
            choose("https://i", "s", claims, &[], None, Phase::Read),
            Err(Refusal::Forbidden(_))
        ));
    }

    #[test]
    fn subjects_pin_their_owner() {
        let github = GITHUB_ISSUER;
        for ok in [
            "repo:acme/net:ref:refs/heads/main",
            "repo:acme/net:*",
            "repo:acme/*",
            "repository_owner_id:4242:*",
            "repository_owner:acme:repository:net:*",
        ] {
            assert!(check_subject(github, ok).is_ok(), "{ok}");
        }
        for (bad, why) in [
            ("*", "wildcard within"),
            ("repo:*", "wildcard within"),
            ("repo:ac*", "does not pin"),
            ("repo:acme*", "does not pin"),
            ("repo:/x:*", "does not pin"),
            ("repository_owner_id:*", "does not pin"),
            ("workflow:deploy:*", "does not pin"),
        ] {
            let e = check_subject(github, bad).unwrap_err().0;
            assert!(e.contains(why), "{bad}: {e}");
        }
        // Other issuers: the literal prefix rule alone.
        let gitlab = "https://gitlab.com";
        assert!(check_subject(gitlab, "project_path:acme/net:*").is_ok());
        assert!(check_subject(gitlab, "proj*").is_err());
        assert!(check_subject(gitlab, "exact").is_ok());
    }
}
