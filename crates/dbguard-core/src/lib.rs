//! dbguard-core: the pure decision core of dbguard.
//!
//! An [`Operation`] (a shell command line or SQL text) goes in; an [`Analysis`]
//! (findings, plus hints about which database the operation would hit) comes out.
//! Nothing in this crate touches the file system, the network or the process
//! environment: whatever the analysis needs from the outside world (a file named
//! by `psql -f`, the scripts in `package.json`, the header of a file that `rm`
//! would delete) is asked of a [`Lookup`] supplied by the caller. That keeps the
//! core fast, deterministic, easy to test and safe to fuzz. Every front door
//! (check, lint, run, hook, mcp, proxy) calls [`analyze`].

pub mod agents;
pub mod config;
pub mod environment;
pub mod finding;
pub mod guard_files;
pub mod lookup;
pub mod policy;
pub mod redact;
pub mod script;
pub mod shell;
pub mod sql;
pub mod target;

pub use environment::Environment;
pub use finding::{Analysis, Finding, FindingKind, Location, Scope, Severity};
pub use lookup::{Lookup, NoLookup};
pub use sql::Dialect;
pub use target::TargetHint;

/// What is about to happen.
#[derive(Debug, Clone)]
pub enum Operation<'a> {
    /// A command line as a shell would receive it (`npx prisma migrate reset --force`).
    Shell(&'a str),
    /// SQL text in a given dialect (a migration file, a `psql -c` argument, an MCP query).
    Sql { text: &'a str, dialect: Dialect },
}

/// Analyze an operation. Pure: all outside facts come from `lookup`.
pub fn analyze(op: &Operation<'_>, lookup: &dyn Lookup) -> Analysis {
    match op {
        Operation::Shell(cmd) => shell::analyze_command(cmd, lookup),
        Operation::Sql { text, dialect } => Analysis {
            findings: sql::analyze_sql(text, *dialect),
            targets: Vec::new(),
        },
    }
}
