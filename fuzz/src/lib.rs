//! tfplugin's value codec and deputy's domain rules (`src/model/`)
//! compiled on their own, for fuzzing.
//!
//! cargo-fuzz instruments every crate in the build. Depending on `tfplugin`
//! would instrument its gRPC and TLS stack (tonic, rustls, aws-lc, ...) for
//! code the fuzzer never reaches, a long build on a small machine. The codec
//! only needs the attribute path type and the tfplugin6 messages, so this
//! crate mounts those source files at the module paths they have in
//! tfplugin, and `crate::value`, `crate::diag` and `crate::proto` resolve
//! the same way in both. `src/model/` is pure (no I/O, no other module of
//! deputy), so it is mounted whole as `crate::model`.

pub mod proto {
    pub mod tfplugin6 {
        include!(concat!(env!("OUT_DIR"), "/tfplugin6.rs"));
    }
}

#[path = "../../crates/tfplugin/src/diag.rs"]
pub mod diag;

#[path = "../../crates/tfplugin/src/value/mod.rs"]
pub mod value;

#[path = "../../src/model/mod.rs"]
pub mod model;
