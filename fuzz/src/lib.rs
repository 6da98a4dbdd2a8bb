//! deputy's value codec compiled on its own, for fuzzing.
//!
//! cargo-fuzz instruments every crate in the build. Depending on `deputy`
//! would instrument its ~290 dependencies (tonic, sqlx, aws-lc, ...) for
//! code the fuzzer never reaches, a long build on a small machine. The codec
//! only needs the attribute path type and the tfplugin6 messages, so
//! `tfplugin/mod.rs` mounts those source files at the module paths they have
//! in deputy, and `crate::tfplugin::...` resolves the same way in both.

pub mod tfplugin;
