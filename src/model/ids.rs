//! Identifiers that end up inside External IDs, and so must never change
//! once issued: account names, stack slugs and integration ids.

use std::str::FromStr;

use super::Invalid;

/// `[a-z0-9][a-z0-9-]{0,62}`: lowercase so ids compare the same everywhere,
/// no `@` because `@` separates the fields of an External ID.
fn check_slug(what: &str, s: &str) -> Result<(), Invalid> {
    let valid_chars = s
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let valid_start = s
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if s.is_empty() || s.len() > 63 || !valid_chars || !valid_start {
        return Err(Invalid::new(format!(
            "{s:?} is not a valid {what}: use 1 to 63 characters of lowercase letters, digits \
             and '-', starting with a letter or digit (for example \"prod-network\")"
        )));
    }
    Ok(())
}

checked_text!(
    /// A stack's id: its slug, immutable because it is part of every External
    /// ID issued for the stack.
    StackId,
    check_slug,
    "stack id"
);

checked_text!(
    /// The broker account's name, the first field of every External ID.
    AccountName,
    check_slug,
    "account name"
);

checked_text!(
    /// A space's id: its slug, immutable because keys, stacks and
    /// integrations name their space by it.
    SpaceId,
    check_slug,
    "space id"
);

impl SpaceId {
    /// The top of the tree, which every store has.
    pub fn root() -> SpaceId {
        SpaceId(super::space::ROOT.into())
    }
}

impl Default for SpaceId {
    fn default() -> Self {
        SpaceId::root()
    }
}

/// 1 to 256 printable ASCII characters: a run id reaches session names,
/// session tags, SourceIdentity and the audit trail, so nothing that could
/// forge a log line (control characters) or pass for something else
/// (non-ASCII look-alikes).
fn check_run_id(what: &str, s: &str) -> Result<(), Invalid> {
    let printable = s.bytes().all(|b| (0x20..0x7f).contains(&b));
    if s.is_empty() || s.len() > RunId::MAX || !printable {
        let shown: String = s.chars().take(40).collect();
        return Err(Invalid::new(format!(
            "{shown:?}{} is not a valid {what}: use 1 to {} printable ASCII characters (the CI \
             system's run or job id, for example \"github-4242-1\")",
            if s.chars().count() > 40 { "..." } else { "" },
            RunId::MAX
        )));
    }
    Ok(())
}

checked_text!(
    /// A run's id as the CI system names it; it becomes the session name.
    RunId,
    check_run_id,
    "run id"
);

impl RunId {
    pub const MAX: usize = 256;
}

/// An AWS integration's id: a ULID assigned by the broker (26 characters of
/// Crockford base32, uppercase).
#[derive(
    Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct IntegrationId(String);

text_newtype!(IntegrationId);

impl IntegrationId {
    pub fn generate() -> Self {
        IntegrationId(ulid::Ulid::new().to_string())
    }
}

impl FromStr for IntegrationId {
    type Err = Invalid;

    fn from_str(s: &str) -> Result<Self, Invalid> {
        match ulid::Ulid::from_string(s) {
            Ok(id) if id.to_string() == s => Ok(IntegrationId(s.to_string())),
            _ => Err(Invalid::new(format!(
                "{s:?} is not an integration id: integration ids are the 26-character ULIDs \
                 the broker assigns (for example \"01JQ3ZV8T4M5N6P7Q8R9S0T1V2\"); use the \
                 `id` of a deputy_aws_integration"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_are_printable_ascii_and_bounded() {
        for ok in ["1", "run 42/apply", "github/actions#17", &"x".repeat(256)] {
            assert!(ok.parse::<RunId>().is_ok(), "{ok}");
        }
        for bad in [
            "",
            "a\nforged log line",
            "r\u{e9}sum\u{e9}",
            &"x".repeat(257),
        ] {
            let e = bad.parse::<RunId>().unwrap_err().to_string();
            assert!(e.contains("1 to 256 printable ASCII characters"), "{e}");
        }
    }

    #[test]
    fn slugs() {
        for ok in ["a", "prod", "prod-network", "0day", &"a".repeat(63)] {
            assert!(ok.parse::<StackId>().is_ok(), "{ok}");
        }
        for bad in [
            "",
            "-lead",
            "Upper",
            "has space",
            "a@b",
            "under_score",
            &"a".repeat(64),
        ] {
            let err = bad.parse::<StackId>().unwrap_err().to_string();
            assert!(err.contains("is not a valid stack id"), "{bad}: {err}");
        }
    }

    #[test]
    fn integration_ids_are_canonical_ulids() {
        let id = IntegrationId::generate();
        assert_eq!(id.as_str().parse::<IntegrationId>().unwrap(), id);
        assert!(
            "01jq3zv8t4m5n6p7q8r9s0t1v2"
                .parse::<IntegrationId>()
                .is_err()
        );
        assert!("int-1".parse::<IntegrationId>().is_err());
    }
}
