//! The broker over real HTTP on loopback, every test on SQLite and on
//! PostgreSQL (see `support`).

mod authz;
mod cli;
mod durability;
mod openapi;
mod registry;
mod schemathesis;
mod support;
