//! The broker over real HTTP on loopback, every test on SQLite and on
//! PostgreSQL (see `support`).

mod authz;
mod backups;
mod cli;
mod console;
mod deploy;
mod durability;
mod flood;
mod full_disk;
mod idempotency;
mod log_volume;
mod metrics;
mod oidc;
use testkit::oidc_issuer;
mod openapi;
mod outage;
mod pagination;
mod postgres_tls;
mod process;
mod registry;
mod schemathesis;
mod spaces;
use testkit::broker as support;
mod tls;
mod transport;
mod upgrades;
