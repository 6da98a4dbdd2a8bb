//! The broker over real HTTP on loopback, every test on SQLite and on
//! PostgreSQL (see `support`).

mod authz;
mod cli;
mod console;
mod deploy;
mod durability;
mod metrics;
mod oidc;
// Shared with the AWS tests; each uses part of it.
#[allow(dead_code)]
#[path = "../common/oidc_issuer.rs"]
mod oidc_issuer;
mod openapi;
mod pagination;
mod postgres_tls;
mod process;
mod registry;
mod schemathesis;
mod support;
mod tls;
