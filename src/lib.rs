//! deputy: short-lived AWS credentials and confused-deputy-safe trust
//! policies for infrastructure-as-code stacks.
//!
//! # Map of the crate
//!
//! Dependencies point one way: the provider and the CLI use the client,
//! the client uses `wire` and `model`, and nothing outside `broker` imports
//! `broker`'s internals (the CLI only starts it: `deputy serve`). Inside
//! the broker, floors run one way too: store → state → auth → service →
//! http | console → app → server. A test, `tests/layering.rs`, reads every
//! file's paths (resolved, `super::` included) and fails when a file
//! breaks a rule or files import each other in a circle. The plugin
//! protocol is a crate of its own, `tfplugin` (`crates/tfplugin/`): it
//! knows nothing of deputy and the compiler holds it to that. The rest stays
//! one crate: the three faces share nearly all their dependencies, the
//! linker drops what a binary does not use, and one crate builds once on a
//! 2-core machine instead of once per member.
//!
//! ```text
//! bin/ ─┬─ provider ──┐
//!       ├─ cli ───────┼─ client ── wire ── model
//!       │             └──────────── sts ── model
//!       └─ broker ──────── wire, sts, model
//! tfplugin (crates/tfplugin): the plugin protocol, knows nothing of deputy;
//!   the provider and the provider's binary use it
//!
//! broker: server ─ app ─┬─ http ────┬─ service ─ auth ─ state ─ store
//!                       └─ console ─┘
//! ```
//!
//! - [`model`]: the domain rules, pure, no I/O: ids, ARNs, External IDs,
//!   names, session durations, regions, trust scopes, session policies,
//!   trust policies and their length as IAM counts it, role templates,
//!   runner trusts (which OIDC tokens act for which stack), timestamps, and
//!   the definition of a safe role with the probes derived from it
//!   (`model/verification.rs`). A new rule
//!   goes here, once, and both the broker and the provider call it.
//! - [`wire`]: every type that crosses the broker's HTTP API: requests,
//!   responses, problem codes, reports, credentials. A new route's body
//!   goes here; the OpenAPI document is generated from these types.
//! - [`client`]: the typed HTTP client of the broker, for the provider and
//!   the CLI: it follows list pages and refuses plain HTTP to another host.
//! - [`broker`]: `deputy serve`. A new operation is a function in
//!   `broker/service/<object>.rs` (taking the caller, validating through
//!   `model`, writing with its audit event in one transaction); its route
//!   is a thin handler in `broker/http/<group>.rs` with a
//!   `#[utoipa::path]` attribute, added once to the list in
//!   `broker/http/mod.rs` (which makes both the router and the OpenAPI
//!   document); its storage is in `broker/store/<table>.rs`; a schema
//!   change is a new numbered file in `migrations/`. The web console is
//!   `broker/console/`: one file per page family, templates in
//!   `templates/console/`, calling the same `service` functions as the API,
//!   so a rule is never checked twice. Verification's states and the
//!   background re-verification are in `broker/service/verification.rs`;
//!   OIDC ID tokens are validated in `broker/oidc.rs`, credential requests
//!   limited per caller in `broker/rate_limit.rs`; HTTPS and certificate
//!   reloads live in `broker/tls.rs`, `/metrics` in `broker/metrics.rs`,
//!   list paging in `broker/service/page.rs` (with keyset queries through
//!   `store::Page`).
//! - [`sts`]: the AWS side (the broker's identity, running verification's
//!   probes, the canary principal, vending); the only module that touches
//!   the AWS SDK.
//! - [`provider`]: the deputy Terraform provider, on the `tfplugin` crate (a
//!   generic tfplugin6 provider server: handshake, AutoMTLS, value codec,
//!   schemas, planning, one file per RPC family). A new resource, data
//!   source, ephemeral resource or function is one file in its directory,
//!   registered in `provider/mod.rs`.
//! - [`cli`]: the `deputy` subcommands, one file each (and `cli/mask.rs`,
//!   the streaming secret masker of `deputy exec`; `cli/id_token.rs`, where
//!   a run's OIDC ID token comes from).

/// deputy's version, as the broker reports it (startup log, `/v1/account`,
/// `deputy_build_info`) and the CLI prints it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

pub mod broker;
pub mod cli;
pub mod client;
pub mod model;
pub mod provider;
pub mod sts;
pub mod wire;
