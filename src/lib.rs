//! deputy: short-lived AWS credentials and confused-deputy-safe trust
//! policies for infrastructure-as-code stacks.

pub mod api;
pub mod broker;
pub mod cli;
pub mod client;
pub mod model;
pub mod provider;
pub mod sts;
pub mod tfplugin;
