//! The YAML reader for Rails' `config/database.yml` lives in the pure core
//! (`dbguard_core::config::yaml`), where it is fuzzed and property-tested; this is its
//! place in target resolution.

pub use dbguard_core::config::yaml::{parse, Node};
