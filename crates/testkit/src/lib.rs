//! What deputy's test binaries and its benchmark report share: real parts
//! started for a test and stopped with it.
//!
//! - [`broker`]: an in-process broker on loopback, on SQLite or on a
//!   database of a throwaway PostgreSQL cluster ([`pg_cluster`]), and the
//!   `on_both!` macro that runs one test body on each;
//! - [`fakecloud`]: the AWS emulator as a child process, and
//!   [`aws_broker`]: a real `deputy serve` running as an IAM user of it;
//! - [`oidc_issuer`]: a local OIDC issuer shaped like GitHub Actions';
//! - [`terraform`]: finding Terraform and installing the provider from a
//!   filesystem mirror;
//! - [`browser`]: headless Chromium behind chromedriver.
//!
//! Paths: a library has no `CARGO_BIN_EXE_*`, so the binaries under test are
//! found next to the running test executable, where cargo builds them
//! ([`bin`]), and the checkout by this crate's place in it ([`workspace`]).

pub mod aws_broker;
pub mod broker;
pub mod browser;
pub mod fakecloud;
pub mod oidc_issuer;
pub mod pg_cluster;
pub mod terraform;

use std::path::{Path, PathBuf};

/// The checkout: this crate lives at `crates/testkit` in it.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/testkit is two levels below the checkout")
        .to_path_buf()
}

/// The profile directory of the running test or bench (`target/debug`,
/// `target/release`): its executable sits in `deps/` below it.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable has a path");
    let deps = exe.parent().expect("the test executable is in a directory");
    let dir = if deps.ends_with("deps") {
        deps.parent().expect("deps/ has a parent")
    } else {
        deps
    };
    dir.to_path_buf()
}

/// A binary of the deputy package (`deputy`, `terraform-provider-deputy`),
/// as cargo built it for the running tests.
pub fn bin(name: &str) -> PathBuf {
    let path = profile_dir().join(name);
    assert!(
        path.exists(),
        "{} is missing: cargo builds it for deputy's tests and benches (run them with cargo test or cargo bench)",
        path.display()
    );
    path
}

/// A directory for files tests leave behind between runs (cargo's
/// `target/tmp`).
pub fn target_tmp() -> PathBuf {
    let dir = profile_dir()
        .parent()
        .expect("the profile directory is in target/")
        .join("tmp");
    std::fs::create_dir_all(&dir).expect("target/tmp can be created");
    dir
}
