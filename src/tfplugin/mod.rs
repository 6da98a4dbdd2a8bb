//! A generic tfplugin6 provider server, with no deputy knowledge in it.

pub mod diag;
pub mod proto;
pub mod value;
