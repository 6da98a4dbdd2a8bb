//! Compiles the tfplugin6 messages (no gRPC services) for `src/lib.rs`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto = "../crates/tfplugin/proto/tfplugin6.proto";
    println!("cargo:rerun-if-changed={proto}");
    let descriptors = protox::compile([proto], ["../crates/tfplugin/proto"])?;
    prost_build::Config::new().compile_fds(descriptors)?;
    Ok(())
}
