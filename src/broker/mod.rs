//! `deputy serve`: the control plane. It owns the registry (stacks, AWS
//! integrations, attachments, API keys, audit) and answers the provider and
//! the CLI over HTTP.
//!
//! - [`config`]: flags and environment;
//! - [`store`]: SQLite or PostgreSQL behind one set of portable SQL;
//! - [`auth`]: API keys and the caller extractors;
//! - [`oidc`]: OIDC ID tokens as runner identities (discovery, keys,
//!   validation);
//! - [`rate_limit`]: the per-caller budget for credential requests;
//! - [`metrics`]: what `/metrics` reports;
//! - [`api`]: routes, one file per group;
//! - [`console`]: the web console at `/`, on the API's handlers;
//! - [`error`]: the one error type and its problem-details answers;
//! - [`live`]: verifications running on this replica, as the console
//!   shows them;
//! - [`verification`]: when roles are verified, what is recorded, and how
//!   a change waits for its verification;
//! - [`server`]: start-up (bootstrap key, listener, graceful shutdown);
//! - [`tls`]: the broker's certificate (reloaded on SIGHUP) and TLS
//!   listener.

pub mod api;
pub mod auth;
pub mod config;
pub mod console;
pub mod error;
pub mod live;
pub mod metrics;
pub mod oidc;
pub mod rate_limit;
pub mod server;
pub mod store;
pub mod tls;
pub mod verification;
