//! deputy's domain rules, pure and free of I/O: identifiers, External IDs,
//! role ARNs, integration settings, names, trust policies and timestamps.
//! The provider, the broker and the CLI all validate through here, so a
//! rule is stated once and reads the same everywhere it is enforced: `plan`
//! refuses exactly what the broker would refuse at `apply`, in the same
//! words.

pub mod arn;
pub mod external_id;
pub mod ids;
pub mod integration;
pub mod names;
pub mod phase;
pub mod timestamp;
pub mod trust_policy;
pub mod verification;

pub use arn::{PrincipalArn, PrincipalKind, RoleArn};
pub use external_id::ExternalId;
pub use ids::{AccountName, IntegrationId, StackId};
pub use integration::{Region, SessionDuration};
pub use names::{Name, Space};
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
