//! Rust types generated from `proto/` by `build.rs`.

#[allow(clippy::all, missing_docs)]
pub mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}

#[allow(clippy::all, missing_docs)]
pub mod plugin {
    tonic::include_proto!("plugin");
}
