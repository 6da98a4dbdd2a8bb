//! List resources for `terraform query` (Terraform 1.14), one file each:
//! existing spaces, stacks, integrations and attachments, found by the filters of
//! a `list` block, as the states their managed resources would read, so
//! `terraform query -generate-config-out` writes configuration that applies
//! with no changes.

mod aws_integration;
mod aws_integration_attachment;
mod space;
mod stack;

pub use aws_integration::AwsIntegrationList;
pub use aws_integration_attachment::AwsIntegrationAttachmentList;
pub use space::SpaceList;
pub use stack::StackList;
