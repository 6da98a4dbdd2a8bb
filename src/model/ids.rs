//! Identifiers that end up inside External IDs, and so must never change
//! once issued: account names, stack slugs and integration ids.

use std::fmt;
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

macro_rules! slug_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = Invalid;

            fn from_str(s: &str) -> Result<Self, Invalid> {
                check_slug($what, s)?;
                Ok($name(s.to_string()))
            }
        }

        /// Read access as text: ids are strings with guarantees, and
        /// every API that takes text takes them as they are.
        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = Invalid;
            fn try_from(s: String) -> Result<Self, Invalid> {
                s.parse()
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

slug_type!(
    /// A stack's id: its slug, immutable because it is part of every External
    /// ID issued for the stack.
    StackId,
    "stack id"
);

slug_type!(
    /// The broker account's name, the first field of every External ID.
    AccountName,
    "account name"
);

/// An AWS integration's id: a ULID assigned by the broker (26 characters of
/// Crockford base32, uppercase).
#[derive(
    Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct IntegrationId(String);

impl IntegrationId {
    pub fn generate() -> Self {
        IntegrationId(ulid::Ulid::new().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
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

/// Read access as text, like the slug types.
impl std::ops::Deref for IntegrationId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for IntegrationId {
    type Error = Invalid;
    fn try_from(s: String) -> Result<Self, Invalid> {
        s.parse()
    }
}

impl From<IntegrationId> for String {
    fn from(v: IntegrationId) -> String {
        v.0
    }
}

impl fmt::Display for IntegrationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
