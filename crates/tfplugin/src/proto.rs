//! Rust types generated from `proto/` by `build.rs`.
//!
//! Servers always; client stubs (`provider_client`, `grpc_controller_client`,
//! ...) only with the `test-support` feature, since only tests and
//! benchmarks act as the client.

#[allow(clippy::all, missing_docs)]
pub mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}

#[allow(clippy::all, missing_docs)]
pub mod plugin {
    tonic::include_proto!("plugin");
}
