//! What a command says about its own target, before any environment or file is read.

use serde::Serialize;

/// A database the operation names itself. All fields are raw (unredacted): callers
/// must pass them through [`crate::redact`] before showing them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TargetHint {
    /// The tool that will connect (`prisma`, `psql`, `sqlite3`, `rails`...).
    pub tool: Option<String>,
    /// A connection URL given on the command line (`--url`, a positional URL, `-d URL`).
    pub url: Option<String>,
    /// Inline assignments in front of the command (`DATABASE_URL=... npx prisma ...`,
    /// `PGHOST=...`, `RAILS_ENV=production`), in order.
    pub env: Vec<(String, String)>,
    /// psql/pg_dump/mysql-style discrete flags.
    pub host: Option<String>,
    pub port: Option<String>,
    pub user: Option<String>,
    pub dbname: Option<String>,
    /// A database file (sqlite3 FILE, `rm FILE`).
    pub file: Option<String>,
    /// The engine the tool implies, when it does (`psql` -> postgres).
    pub engine: Option<Engine>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Engine {
    Postgres,
    Sqlite,
    Mysql,
    Mongo,
    Redis,
}

impl TargetHint {
    pub fn env_var(&self, name: &str) -> Option<&str> {
        self.env.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}
