//! deputy: short-lived AWS credentials and confused-deputy-safe trust
//! policies for infrastructure-as-code stacks.
//!
//! # Map of the crate
//!
//! Dependencies point one way: the provider and the CLI use the client,
//! the client uses `api` and `model`, and nothing outside `broker` imports
//! `broker`'s internals (the CLI only starts it: `deputy serve`). A test,
//! `tests/layering.rs`, fails when a file breaks the rule. One crate rather
//! than a workspace: the three faces share nearly all their dependencies,
//! the linker already drops what a binary does not use, and one crate
//! builds once on a 2-core machine instead of once per member; the test
//! gives the compile-error guarantee a workspace would.
//!
//! ```text
//! bin/ ─┬─ provider ──┐
//!       ├─ cli ───────┼─ client ── api ── model
//!       │             └──────────── sts ── model
//!       └─ broker ───────── api, sts, model
//! tfplugin: the plugin protocol, knows nothing of deputy (provider uses it)
//! ```
//!
//! - [`model`]: the domain rules, pure, no I/O: ids, ARNs, External IDs,
//!   names, session durations, regions, trust scopes, session policies,
//!   trust policies and their length as IAM counts it, role templates,
//!   runner trusts (which OIDC tokens act for which stack), timestamps, and
//!   the definition of a safe role with the probes derived from it
//!   (`model/verification.rs`). A new rule
//!   goes here, once, and both the broker and the provider call it.
//! - [`api`]: every type that crosses the broker's HTTP API: requests,
//!   responses, problem codes, reports, credentials. A new route's body
//!   goes here; the OpenAPI document is generated from these types.
//! - [`client`]: the typed HTTP client of the broker, for the provider and
//!   the CLI: it follows list pages and refuses plain HTTP to another host.
//! - [`broker`]: `deputy serve`. A new route is a handler in
//!   `broker/api/<group>.rs` with a `#[utoipa::path]` attribute, listed in
//!   that file's `routes()` and in `broker/api/openapi.rs`; its storage in
//!   `broker/store/<table>.rs`; a schema change is a new numbered file in
//!   `migrations/`. OIDC ID tokens are validated in `broker/oidc.rs`,
//!   credential requests limited per caller in `broker/rate_limit.rs`;
//!   HTTPS and certificate reloads live in `broker/tls.rs`, `/metrics` in
//!   `broker/metrics.rs`, list paging in `broker/api/page.rs` (with keyset
//!   queries through `store::Page`). The web console is `broker/console/`:
//!   one file per page family, templates in `templates/console/`, and it
//!   calls the API's handlers, so a rule is never checked twice.
//! - [`sts`]: the AWS side (the broker's identity, running verification's
//!   probes, the canary principal, vending); the only module that touches
//!   the AWS SDK.
//! - [`tfplugin`]: a generic tfplugin6 provider server (handshake, AutoMTLS,
//!   value codec, schemas, planning, one file per RPC family).
//! - [`provider`]: the deputy Terraform provider. A new resource, data
//!   source, ephemeral resource or function is one file in its directory,
//!   registered in `provider/mod.rs`.
//! - [`cli`]: the `deputy` subcommands, one file each (and `cli/mask.rs`,
//!   the streaming secret masker of `deputy exec`; `cli/id_token.rs`, where
//!   a run's OIDC ID token comes from).

pub mod api;
pub mod broker;
pub mod cli;
pub mod client;
pub mod model;
pub mod provider;
pub mod sts;
pub mod tfplugin;
