//! Laravel (`php artisan ...`): the database its default connection points at.
//!
//! `config/database.php` is PHP and is not read; its stock shape is assumed (Laravel 11
//! and earlier): the connection named by `DB_CONNECTION`, with `DB_URL` (Laravel 11) or
//! `DATABASE_URL` (Laravel 10 and earlier) winning for the fields it gives, else
//! `DB_HOST`, `DB_PORT`, `DB_DATABASE`, `DB_USERNAME`, `DB_PASSWORD` over the stock
//! defaults (127.0.0.1, the driver's port, `laravel`, `root`; SQLite:
//! `database/database.sqlite`). Each variable is looked up inline, then in the process
//! environment, then in the env file (phpdotenv never overrides a variable already
//! set). Without `DB_CONNECTION` or a URL nothing is assumed: Laravel 11 would default to
//! SQLite and older versions to MySQL, and picking one would be a guess.

use std::path::Path;

use super::conn::{self, Fields, Kind};
use super::Layer;

/// The variables Laravel's stock database config reads.
pub const VARS: &[&str] = &[
    "DB_URL",
    "DATABASE_URL",
    "DB_CONNECTION",
    "DB_HOST",
    "DB_PORT",
    "DB_DATABASE",
    "DB_USERNAME",
    "DB_PASSWORD",
];

/// A Laravel app in `root`: its `artisan` script.
pub fn is_project(root: &Path) -> bool {
    root.join("artisan").is_file()
}

#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Raw URL (SQLite as `file:/abs/path`).
    pub url: Option<String>,
    pub source: String,
    /// Warnings, free of secrets.
    pub notes: Vec<String>,
}

fn short(layer: &Layer) -> String {
    match layer {
        Layer::Inline => "inline".into(),
        Layer::Process => "environment".into(),
        Layer::File(f) | Layer::Loaded(f) => f.clone(),
        Layer::Fallback(o) => o.clone(),
    }
}

/// Resolve the default connection. `lookup` finds a variable as artisan would.
pub(super) fn resolve(root: &Path, lookup: &mut dyn FnMut(&str) -> Option<(String, Layer)>) -> Outcome {
    let mut out = Outcome::default();
    if root.join("bootstrap/cache/config.php").is_file() {
        out.notes.push(
            "Laravel's configuration is cached (bootstrap/cache/config.php): artisan takes the database settings from that cache, not from .env; dbguard reads .env (run `php artisan config:clear` if they differ)"
                .into(),
        );
    }
    // Empty values are "not given": Laravel's URL parser skips an empty url.
    let mut get = |name: &str| lookup(name).filter(|(v, _)| !v.trim().is_empty());
    let database = get("DB_DATABASE");
    for var in ["DB_URL", "DATABASE_URL"] {
        if let Some((u, layer)) = get(var) {
            let u = conn::fill_database(
                &conn::normalize_scheme(u.trim()),
                database.as_ref().map(|d| d.0.as_str()),
            );
            out.url = Some(
                match super::sqlite_path(&u).filter(|_| u.starts_with("file:") || u.starts_with("sqlite:")) {
                    Some(p) if p.is_relative() => format!("file:{}", super::normalize(&root.join(p)).display()),
                    _ => u,
                },
            );
            out.source = format!("Laravel {var} ({})", short(&layer));
            return out;
        }
    }
    let Some((connection, conn_layer)) = get("DB_CONNECTION") else {
        out.notes.push(
            "Laravel: neither DB_CONNECTION nor DB_URL is set; the default connection comes from config/database.php, which dbguard does not read (Laravel 11 defaults to SQLite, older versions to MySQL)"
                .into(),
        );
        return out;
    };
    let connection = connection.trim().to_ascii_lowercase();
    let (kind, host, port) = match connection.as_str() {
        "pgsql" => (Kind::Postgres, "127.0.0.1", "5432"),
        "mysql" | "mariadb" => (Kind::Mysql, "127.0.0.1", "3306"),
        "sqlsrv" => (Kind::SqlServer, "localhost", "1433"),
        "sqlite" => (Kind::Sqlite, "", ""),
        other => {
            out.notes.push(format!(
                "Laravel: DB_CONNECTION={other} is not one of the stock connections (pgsql, mysql, mariadb, sqlite, sqlsrv); its settings live in config/database.php, which dbguard does not read"
            ));
            return out;
        }
    };
    let mut given = Vec::new();
    let mut defaults = Vec::new();
    let mut field = |name: &str, default: Option<&str>, found: Option<(String, Layer)>| match found {
        Some((v, layer)) => {
            given.push(format!("{name} ({})", short(&layer)));
            Some(v)
        }
        None => {
            if let Some(d) = default {
                defaults.push(format!("{name}={d}"));
            }
            default.map(str::to_string)
        }
    };
    let fields = if kind == Kind::Sqlite {
        Fields {
            database: field("DB_DATABASE", Some("database/database.sqlite"), database),
            ..Default::default()
        }
    } else {
        Fields {
            host: field("DB_HOST", Some(host), get("DB_HOST")),
            port: field("DB_PORT", Some(port), get("DB_PORT")),
            database: field("DB_DATABASE", Some("laravel"), database),
            username: field("DB_USERNAME", Some("root"), get("DB_USERNAME")),
            password: field("DB_PASSWORD", None, get("DB_PASSWORD")),
        }
    };
    let mut source = format!("Laravel DB_CONNECTION={connection} ({})", short(&conn_layer));
    if !given.is_empty() {
        source.push_str(&format!(", {}", given.join(", ")));
    }
    if !defaults.is_empty() {
        source.push_str(&format!("; stock defaults {}", defaults.join(", ")));
    }
    match conn::build_url(kind, &fields, root) {
        Ok(u) => {
            if u.is_none() {
                out.notes
                    .push("Laravel: DB_DATABASE=:memory: is an in-memory SQLite database".into());
            }
            out.url = u;
            out.source = source;
        }
        Err(why) => out.notes.push(format!("Laravel: {why}; the database is unknown")),
    }
    out
}
