//! The plugin process Terraform starts: the go-plugin handshake line
//! ([`handshake`]), AutoMTLS ([`tls`]), hclog-formatted logs on stderr
//! ([`log`]), and serving until Terraform is done or a signal comes
//! ([`serve`]); `launch` (feature `test-support`) is the other side of the
//! handshake, for tests and benchmarks.

pub mod handshake;
#[cfg(feature = "test-support")]
pub mod launch;
pub mod log;
pub mod serve;
pub mod tls;
