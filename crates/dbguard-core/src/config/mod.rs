//! Readers for the configuration a database target is resolved from: Rails'
//! `config/database.yml` (its [`erb`] subset, then [`yaml`]) and PostgreSQL connection
//! strings ([`conninfo`], which takes out the libpq TLS keys tokio-postgres rejects).
//!
//! They live in the core, not in the binary, because they read text written by others:
//! here they are pure (text in, value out; variables come through a closure) and so can
//! be fuzzed and property-tested like the SQL and shell analyzers. Reading the files and
//! the process environment stays in the binary.

pub mod conninfo;
pub mod erb;
pub mod yaml;
