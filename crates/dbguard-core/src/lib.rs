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
pub mod paths;
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
        Operation::Shell(cmd) => {
            let mut analysis = shell::analyze_command(cmd, lookup);
            hide_secrets(&mut analysis, cmd);
            analysis
        }
        Operation::Sql { text, dialect } => Analysis {
            findings: sql::analyze_sql(text, *dialect),
            targets: Vec::new(),
        },
    }
}

/// A password given on the command line can reappear in a finding outside its password
/// position (`mysql --password NAME` reads NAME as the database): findings carry none of the
/// command's secrets, whatever door shows them. Targets keep their raw values for the resolver;
/// the edge masks what it displays of them with the same [`redact::Secrets`].
fn hide_secrets(analysis: &mut Analysis, cmd: &str) {
    if analysis.findings.is_empty() {
        return;
    }
    let secrets = redact::Secrets::of(cmd);
    if secrets.is_empty() {
        return;
    }
    for f in &mut analysis.findings {
        f.statement = f.statement.as_deref().map(|s| secrets.redact(s));
        f.object = f.object.as_deref().map(|o| secrets.mask(o));
        f.detail = secrets.mask(&f.detail);
    }
}
