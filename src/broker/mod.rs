//! `deputy serve`: the control plane. It owns the registry (stacks, AWS
//! integrations, attachments, API keys, audit) and answers the provider and
//! the CLI over HTTP.
//!
//! Its floors, each using only those below it (a test in
//! `tests/layering.rs` holds them to it):
//!
//! 1. [`config`], [`error`], [`live`], [`metrics`], [`rate_limit`],
//!    [`failed_auth`], [`tls`], [`request_id`], [`extract`], [`files`],
//!    [`notify`]: settings, the one error type and its problem-details
//!    answers, counters, the per-caller budget, failed authentications
//!    counted per window, the certificate, request ids, request
//!    extractors, private files and systemd's readiness notifications;
//! 2. [`store`]: SQLite or PostgreSQL behind one set of portable SQL;
//!    [`oidc`]: OIDC ID tokens as runner identities;
//! 3. [`state`]: what every request and background task shares;
//! 4. [`auth`]: API keys and who is calling;
//! 5. [`service`]: the operations, each auditing its change in the same
//!    transaction, and verification;
//! 6. [`http`] (the API under `/v1`, routes and OpenAPI document from one
//!    list) and [`console`] (the web console at `/`), side by side, both
//!    on `service`;
//! 7. [`app`]: the two composed, with the middleware every request goes
//!    through;
//! 8. [`server`]: start-up (bootstrap key, listener, graceful shutdown);
//! 9. [`maintenance`]: work on a store beside the broker (migrate, back
//!    up, recover an admin key).

pub mod app;
pub mod auth;
pub mod config;
pub mod console;
pub mod error;
pub mod extract;
pub mod failed_auth;
pub mod files;
pub mod http;
pub mod live;
pub mod maintenance;
pub mod metrics;
pub mod notify;
pub mod oidc;
pub mod rate_limit;
pub mod request_id;
pub mod server;
pub mod service;
pub mod state;
pub mod store;
pub mod tls;
