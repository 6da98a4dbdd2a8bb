//! External IDs: the secret-free shared value that closes the confused-deputy
//! hole. deputy derives one per (account, integration, stack, phase), so a
//! role trusted for one stack's plans cannot be assumed on behalf of another
//! stack or for applies.

use std::str::FromStr;

use super::{AccountName, IntegrationId, Invalid, Phase, StackId};

/// STS's limits on `ExternalId`: 2 to 1224 characters of `[\w+=,.@:/-]`.
const MIN_LEN: usize = 2;
const MAX_LEN: usize = 1224;

fn valid_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_+=,.@:/-".contains(c)
}

#[derive(
    Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct ExternalId(String);

impl ExternalId {
    /// `<account>@<integration_id>@<stack_id>@<phase>`. Each part is already
    /// validated, and `@` cannot occur inside any of them, so the result is
    /// always a valid External ID and always parses back into its parts.
    pub fn derive(
        account: &AccountName,
        integration: &IntegrationId,
        stack: &StackId,
        phase: Phase,
    ) -> ExternalId {
        ExternalId(format!("{account}@{integration}@{stack}@{phase}"))
    }

    /// The External ID a run of `stack` in `phase` is assumed with: the
    /// integration's custom one in worker mode, else the derived one.
    pub fn for_phase(
        account: &AccountName,
        integration: &IntegrationId,
        custom: Option<&ExternalId>,
        stack: &StackId,
        phase: Phase,
    ) -> ExternalId {
        match custom {
            Some(id) => id.clone(),
            None => ExternalId::derive(account, integration, stack, phase),
        }
    }
}

text_newtype!(ExternalId);

/// Any External ID STS would accept, such as a custom one a worker-mode
/// integration brings.
impl FromStr for ExternalId {
    type Err = Invalid;

    fn from_str(s: &str) -> Result<Self, Invalid> {
        let len = s.chars().count();
        if !(MIN_LEN..=MAX_LEN).contains(&len) {
            return Err(Invalid::new(format!(
                "{s:?} is not a valid External ID: it has {len} characters and STS accepts \
                 {MIN_LEN} to {MAX_LEN}"
            )));
        }
        if let Some(c) = s.chars().find(|c| !valid_char(*c)) {
            return Err(Invalid::new(format!(
                "{s:?} is not a valid External ID: {c:?} is not allowed; use letters, digits \
                 and _+=,.@:/-"
            )));
        }
        Ok(ExternalId(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_have_the_documented_shape_and_are_valid() {
        let id = ExternalId::derive(
            &"acme".parse().unwrap(),
            &"01JQ3ZV8T4M5N6P7Q8R9S0T1V2".parse().unwrap(),
            &"prod-network".parse().unwrap(),
            Phase::Write,
        );
        assert_eq!(
            id.as_str(),
            "acme@01JQ3ZV8T4M5N6P7Q8R9S0T1V2@prod-network@write"
        );
        assert_eq!(id.as_str().parse::<ExternalId>().unwrap(), id);
    }

    #[test]
    fn custom_ids_follow_sts_rules() {
        assert!("ab".parse::<ExternalId>().is_ok());
        assert!("a".repeat(1224).parse::<ExternalId>().is_ok());
        let too_long = "a"
            .repeat(1225)
            .parse::<ExternalId>()
            .unwrap_err()
            .to_string();
        assert!(too_long.contains("1225 characters"), "{too_long}");
        let short = "a".parse::<ExternalId>().unwrap_err().to_string();
        assert!(short.contains("1 characters"), "{short}");
        let bad = "a b".parse::<ExternalId>().unwrap_err().to_string();
        assert!(bad.contains("' ' is not allowed"), "{bad}");
    }
}
