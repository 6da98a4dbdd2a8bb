//! A generic tfplugin6 provider server, with no deputy knowledge in it.
//!
//! Layers, from the wire up:
//! - [`proto`]: generated protocol types;
//! - [`value`]: cty values and their msgpack/JSON encodings;
//! - [`diag`], [`schema`]: diagnostics with attribute paths, schemas;
//! - [`resource`], [`data_source`], [`ephemeral`], [`function`], [`provider`]:
//!   [`list_resource`], [`action`]: the traits a provider implements, and
//!   its registry; [`identity`]: the identity a resource declares;
//! - [`plan`]: schema-driven planning;
//! - [`server`]: the gRPC service dispatching to the registry;
//! - [`process`]: the plugin process that Terraform starts (go-plugin
//!   handshake, AutoMTLS, hclog logs, signals), and (feature
//!   `test-support`) the client side of that handshake, for tests and
//!   benchmarks.

pub mod action;
pub mod data_source;
pub mod diag;
pub mod ephemeral;
pub mod function;
pub mod identity;
pub mod list_resource;
pub mod plan;
pub mod process;
pub mod proto;
pub mod provider;
pub mod resource;
pub mod schema;
pub mod server;
pub mod value;
