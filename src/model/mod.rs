//! deputy's domain rules, pure and free of I/O: the shape of API keys,
//! identifiers (run ids too),
//! External IDs, role ARNs, integration settings (trust scope included),
//! names (of sessions too), trust policies and their length, role
//! templates, timestamps, random secrets and digests, idempotency keys,
//! what an OIDC ID token says of itself before it is verified, and text an
//! outsider chose, made safe to store and print; the audit trail's actions.
//! The provider, the broker and the CLI all validate through here, so a
//! rule is stated once and reads the same everywhere it is enforced: `plan`
//! refuses exactly what the broker would refuse at `apply`, in the same
//! words.

/// What every validated-text type shares, once: its rule is its `FromStr`;
/// serde goes through that rule (`#[serde(try_from = "String", into =
/// "String")]` on the type), and it reads as the `&str` it holds.
macro_rules! text_newtype {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        /// Read access as text: every API that takes text takes it as is.
        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::model::Invalid;
            fn try_from(s: String) -> Result<Self, $crate::model::Invalid> {
                s.parse()
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// A text type whose rule is `$check(what, text)`: the type, its
/// `FromStr`, and the shared impls above.
macro_rules! checked_text {
    ($(#[$doc:meta])* $name:ident, $check:path, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl std::str::FromStr for $name {
            type Err = $crate::model::Invalid;

            fn from_str(s: &str) -> Result<Self, $crate::model::Invalid> {
                $check($what, s)?;
                Ok($name(s.to_string()))
            }
        }

        text_newtype!($name);
    };
}

pub mod api_key;
pub mod arn;
pub mod audit;
pub mod external_id;
pub mod id_token;
pub mod idempotency;
pub mod ids;
pub mod integration;
pub mod names;
pub mod outsider;
pub mod phase;
pub mod role_template;
pub mod runner_trust;
pub mod secret;
pub mod session_names;
pub mod space;
pub mod timestamp;
pub mod trust_policy;
pub mod verification;

pub use arn::{PrincipalArn, PrincipalKind, RoleArn};
pub use external_id::ExternalId;
pub use ids::{AccountName, IntegrationId, RunId, SpaceId, StackId};
pub use integration::{Region, SessionDuration};
pub use names::Name;
pub use phase::Phase;

/// A rule broken by a user-supplied value. `Display` is a full sentence that
/// names the problem and the fix; callers add *where* (argument, attribute,
/// JSON field) in their own terms.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

impl Invalid {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Invalid(message.into())
    }
}
