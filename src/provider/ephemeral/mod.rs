//! Ephemeral resources, one file each.

mod aws_credentials;

pub use aws_credentials::AwsCredentialsEphemeralResource;
