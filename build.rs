//! Compiles `proto/` into Rust with tonic + prost.
//!
//! The protobuf compiler is `protox`, a pure-Rust implementation, so a fresh
//! machine needs no system `protoc`. Well-known types (Timestamp) map onto
//! `prost-types`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = ["proto/tfplugin6.proto", "proto/plugin.proto"];
    for proto in protos {
        println!("cargo:rerun-if-changed={proto}");
    }
    let descriptors = protox::compile(protos, ["proto"])?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(descriptors)?;
    Ok(())
}
