//! Managed resources, one file each.

mod aws_integration;
mod aws_integration_attachment;
mod runner_trust;
mod space;
mod stack;

pub use aws_integration::AwsIntegrationResource;
pub(crate) use aws_integration::{
    attributes as integration_attributes, state as integration_state,
};
pub use aws_integration_attachment::AwsIntegrationAttachmentResource;
pub(crate) use aws_integration_attachment::state as attachment_state;
pub use runner_trust::RunnerTrustResource;
pub use space::SpaceResource;
pub(crate) use space::state as space_state;
pub use stack::StackResource;
pub(crate) use stack::state as stack_state;
