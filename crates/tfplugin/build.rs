//! Compiles `proto/` into Rust with tonic + prost.
//!
//! The protobuf compiler is `protox`, a pure-Rust implementation, so a fresh
//! machine needs no system `protoc`. Well-known types (Timestamp) map onto
//! `prost-types`.
//!
//! Client stubs are generated only with the `test-support` feature: the
//! provider is only ever a gRPC server, and only tests and benchmarks call it.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = ["proto/tfplugin6.proto", "proto/plugin.proto"];
    for proto in protos {
        println!("cargo:rerun-if-changed={proto}");
    }
    let descriptors = protox::compile(protos, ["proto"])?;
    tonic_prost_build::configure()
        .build_client(std::env::var_os("CARGO_FEATURE_TEST_SUPPORT").is_some())
        .build_server(true)
        .compile_fds(descriptors)?;
    Ok(())
}
