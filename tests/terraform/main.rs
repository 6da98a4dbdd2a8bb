//! End-to-end tests: a real Terraform drives the real provider binary.
//!
//! One test binary (this file and its modules) so the provider and the
//! helpers link once. See `support` for how Terraform is found and how the
//! provider is installed without a registry.

mod broker;
mod edges;
mod functions;
mod matrix;
mod protocol;
mod provider_config;
mod release;
mod resources;
use testkit::terraform as support;
mod trust_policy_document;
