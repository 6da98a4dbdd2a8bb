//! Data sources, one file each.

mod trust_policy_document;

pub use trust_policy_document::TrustPolicyDocumentDataSource;
