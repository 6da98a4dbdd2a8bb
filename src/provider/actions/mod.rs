//! Actions (Terraform 1.14), one file each.

mod verify_integration;

pub use verify_integration::VerifyIntegrationAction;
