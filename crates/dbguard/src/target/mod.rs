//! Target resolution: which database an operation would hit, and in which environment.
//!
//! Order: the command's own inline variables and flags (the core's `TargetHint`),
//! then `--url`, then the process environment, then `.env` files (`.env.local`,
//! `.env.<NODE_ENV>`, `.env`), then ORM configuration (prisma/schema.prisma,
//! drizzle.config.*). The environment comes from dbguard.toml first, then `*_ENV`
//! variables, then the URL. Every step records the rule that decided.

use std::collections::BTreeMap;
use std::path::PathBuf;

use dbguard_core::target::{Engine, TargetHint};
use dbguard_core::Environment;
use serde::Serialize;

/// What to resolve.
#[derive(Debug, Clone, Default)]
pub struct ResolveRequest {
    /// `--url` given to dbguard itself.
    pub cli_url: Option<String>,
    /// Working directory of the command (where `.env` files and ORM configs are looked for).
    pub cwd: PathBuf,
    /// What the command says about its own target.
    pub hint: Option<TargetHint>,
    /// The process environment to use (normally `std::env::vars()`).
    pub env: BTreeMap<String, String>,
}

impl ResolveRequest {
    pub fn from_process(cli_url: Option<String>, cwd: PathBuf, hint: Option<TargetHint>) -> Self {
        ResolveRequest { cli_url, cwd, hint, env: std::env::vars().collect() }
    }
}

/// A resolved database target. `url` is raw and must never be printed: use `display`.
#[derive(Debug, Clone, Serialize)]
pub struct ResolvedTarget {
    #[serde(skip)]
    pub url: Option<String>,
    /// Redacted URL, or the SQLite file path.
    pub display: Option<String>,
    pub engine: Option<Engine>,
    pub host: Option<String>,
    pub database: Option<String>,
    /// Which rule found the URL ("--url", "inline DATABASE_URL", ".env.local: DATABASE_URL"...).
    pub source: String,
    pub environment: Environment,
    /// Which rule decided the environment.
    pub environment_rule: String,
    /// `protected = true` in dbguard.toml.
    pub protected: bool,
    /// Traps noticed on the way (DATABASE_URL in the shell differs from .env, ...).
    pub warnings: Vec<String>,
}

/// Resolve a target. Minimal placeholder until the full resolver lands: `--url`,
/// then the hint's URL, then `DATABASE_URL`.
pub fn resolve(req: &ResolveRequest) -> anyhow::Result<ResolvedTarget> {
    let (url, source) = if let Some(u) = &req.cli_url {
        (Some(u.clone()), "--url".to_string())
    } else if let Some(u) = req.hint.as_ref().and_then(|h| h.url.clone()) {
        (Some(u), "command line".to_string())
    } else if let Some(u) = req.env.get("DATABASE_URL") {
        (Some(u.clone()), "environment: DATABASE_URL".to_string())
    } else {
        (None, "none found".to_string())
    };
    let engine = url.as_deref().and_then(engine_of);
    Ok(ResolvedTarget {
        display: url.as_deref().map(dbguard_core::redact::redact_url),
        url,
        engine,
        host: None,
        database: None,
        source,
        environment: Environment::Unknown,
        environment_rule: "no rule matched".into(),
        protected: false,
        warnings: Vec::new(),
    })
}

/// The engine a URL (or a file path) implies.
pub fn engine_of(url: &str) -> Option<Engine> {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
        Some(Engine::Postgres)
    } else if lower.starts_with("mysql://") || lower.starts_with("mariadb://") {
        Some(Engine::Mysql)
    } else if lower.starts_with("sqlite:") || lower.starts_with("file:") || lower.ends_with(".db") || lower.ends_with(".sqlite") || lower.ends_with(".sqlite3") {
        Some(Engine::Sqlite)
    } else {
        None
    }
}
