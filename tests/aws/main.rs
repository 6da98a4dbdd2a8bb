//! Verification and vending against an IAM no one here wrote (fakecloud):
//! every trust-policy shape accepted or refused as IAM semantics demand,
//! and the invariant held through changes, cancels, crashes and roles that
//! turn unsafe; trust policies IAM accepts at any scale, and role
//! templates. The broker is a real `deputy serve` process running as an IAM
//! user of the emulator.

mod actions;
mod bookkeeping;
mod broker;
mod canary;
// Shared with the benchmark report, which uses part of it.
#[allow(dead_code)]
#[path = "../common/browser.rs"]
mod browser;
mod console;
mod corpus;
mod fakecloud;
mod metrics;
mod oidc;
// Trust policies for the verification corpus.
mod policy_grammar;
// Shared with the broker tests; each uses part of it.
#[allow(dead_code)]
#[path = "../common/oidc_issuer.rs"]
mod oidc_issuer;
// Shared with the other test binary; each uses part of it.
#[allow(dead_code)]
#[path = "../common/pg_cluster.rs"]
mod pg_cluster;
mod replicas;
mod runs;
mod scale;
mod scenarios;
mod shapes;
#[path = "../terraform/support.rs"]
#[allow(dead_code)]
mod tf;
