//! Verification and vending against an IAM no one here wrote (fakecloud):
//! every trust-policy shape accepted or refused as IAM semantics demand,
//! and the invariant held through changes, cancels, crashes and roles that
//! turn unsafe; trust policies IAM accepts at any scale, and role
//! templates. The broker is a real `deputy serve` process running as an IAM
//! user of the emulator.

mod actions;
mod bookkeeping;
use testkit::aws_broker as broker;
mod canary;
use testkit::browser;
mod console;
mod corpus;
use testkit::fakecloud;
mod metrics;
mod oidc;
// Trust policies for the verification corpus.
mod policy_grammar;
use testkit::{oidc_issuer, pg_cluster};
mod replicas;
mod runs;
mod scale;
mod scenarios;
mod shapes;
use testkit::terraform as tf;
