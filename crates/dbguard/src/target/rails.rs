//! Rails: the database `config/database.yml` gives for the environment in effect.
//!
//! As Rails reads it: the file goes through ERB first, then YAML (anchors, aliases and
//! `<<: *default` merges, as Psych does). dbguard runs no Ruby, so only the ERB shapes
//! generated apps use are evaluated: `ENV["X"]`, `ENV['X']`, `ENV.fetch("X")`,
//! `ENV.fetch("X") { "default" }`, `ENV.fetch("X", "default")`, `ENV["X"] || "default"`,
//! and literals. Any other output tag makes that value unknown: a field that identifies
//! the database being unknown means no URL at all (a warning says why), never a guess.
//! Control tags (`<% if ... %>`) make the whole file unknown, since they can change
//! which lines exist.
//!
//! The environment is `RAILS_ENV`, else `RACK_ENV`, else `development`. A block whose
//! values are all mappings is a multi-database config; its `primary` (else its first)
//! database is the one used, as Rails does for `DATABASE_URL`. `DATABASE_URL` itself is
//! merged over that config by the resolver (`mod.rs`).

use std::path::Path;

use dbguard_core::config::erb;
use dbguard_core::redact::redact_text;

use super::conn::{self, Fields, Kind};
use super::yaml::{self, Node};

pub const DATABASE_YML: &str = "config/database.yml";
/// A database.yml is a few hundred bytes; anything past this is not one.
const MAX_FILE: u64 = 1 << 20;

/// A Rails app in `root`: its database.yml, with a Gemfile or bin/rails beside it.
pub fn is_project(root: &Path) -> bool {
    root.join(DATABASE_YML).is_file() && (root.join("Gemfile").is_file() || root.join("bin/rails").is_file())
}

/// `Rails.env`: `RAILS_ENV`, else `RACK_ENV`, else development (empty values skipped,
/// as Rails' `.presence` does). Returns the name and the variable that set it.
pub fn rails_env(var: impl Fn(&str) -> Option<String>) -> (String, Option<&'static str>) {
    for name in ["RAILS_ENV", "RACK_ENV"] {
        if let Some(v) = var(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty()) {
            return (v, Some(name));
        }
    }
    ("development".into(), None)
}

/// What database.yml says for one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A connection URL (raw; SQLite as `file:/abs/path`).
    Url(String),
    /// No block for this environment.
    NoBlock,
    /// An in-memory SQLite database.
    Memory,
    /// The file or this block cannot be understood; the reason (no secrets in it).
    Unknown(String),
}

#[derive(Debug, Clone)]
pub struct Outcome {
    /// "config/database.yml (development)", with the database name for multi-database configs.
    pub label: String,
    /// The configuration's name: `primary` for a single-database block.
    pub name: String,
    pub target: Target,
    /// The block's `database` key, which Rails merges into a `DATABASE_URL` lacking one.
    pub database: Option<String>,
    /// Warnings (already free of secrets).
    pub notes: Vec<String>,
}

/// Read `root/config/database.yml` for `env_name`; `None` when there is no such file.
/// `lookup` answers `ENV[...]` as the Rails process would see it.
pub fn read(root: &Path, env_name: &str, lookup: &mut dyn FnMut(&str) -> Option<String>) -> Option<Outcome> {
    let path = root.join(DATABASE_YML);
    let meta = std::fs::metadata(&path).ok().filter(|m| m.is_file())?;
    let label = format!("{DATABASE_YML} ({env_name})");
    let unknown = |why: String| Outcome {
        label: label.clone(),
        name: "primary".into(),
        target: Target::Unknown(why),
        database: None,
        notes: Vec::new(),
    };
    if meta.len() > MAX_FILE {
        return Some(unknown(format!("{DATABASE_YML} is larger than 1 MiB; not read")));
    }
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => return Some(unknown(format!("cannot read {DATABASE_YML}: {e}"))),
    };
    Some(resolve_text(&text, env_name, root, lookup))
}

/// The work of [`read`] on the file's text.
pub fn resolve_text(
    text: &str,
    env_name: &str,
    root: &Path,
    lookup: &mut dyn FnMut(&str) -> Option<String>,
) -> Outcome {
    let mut out = Outcome {
        label: format!("{DATABASE_YML} ({env_name})"),
        name: "primary".into(),
        target: Target::NoBlock,
        database: None,
        notes: Vec::new(),
    };
    // The ERB subset is evaluated by the pure core (fuzzed there); `lookup` is the I/O.
    let (rendered, exprs) = match erb::render(text, lookup) {
        Ok(r) => (r.text, r.exprs),
        Err(why) => {
            out.target = Target::Unknown(format!("{DATABASE_YML}: {why}"));
            return out;
        }
    };
    let doc = match yaml::parse(&rendered) {
        Ok(d) => d,
        Err(why) => {
            out.target = Target::Unknown(format!("{DATABASE_YML}: {why}"));
            return out;
        }
    };
    let Some(block) = doc.get(env_name) else {
        if doc.as_map().is_none() && doc != Node::Null {
            out.target = Target::Unknown(format!("{DATABASE_YML} is not a mapping of environments"));
        }
        return out;
    };
    let Some(entries) = block.as_map() else {
        out.target = match block {
            // `production: <%= ENV["DATABASE_URL"] %>`-style blocks are a URL string.
            Node::Scalar(s) if s.contains("://") || erb::is_unknown(s) => {
                return finish_url(out, s, None, &exprs, root);
            }
            Node::Null => Target::NoBlock,
            _ => Target::Unknown(format!("{} is not a mapping", out.label)),
        };
        return out;
    };
    // Rails: a block whose values are all hashes names several databases.
    let config = if !entries.is_empty() && entries.iter().all(|(_, v)| matches!(v, Node::Map(_))) {
        let (name, cfg) = entries.iter().find(|(k, _)| k == "primary").unwrap_or(&entries[0]);
        let names: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
        out.notes.push(format!(
            "{} defines several databases ({}); dbguard follows {name}, the primary one, but `db:drop`, `db:reset` and similar tasks act on all of them",
            out.label,
            names.join(", ")
        ));
        out.label = format!("{DATABASE_YML} ({env_name}, {name})");
        out.name = name.clone();
        cfg
    } else {
        block
    };
    let field = |key: &str| -> Result<Option<String>, String> {
        match config.get(key) {
            None | Some(Node::Null) => Ok(None),
            Some(Node::Scalar(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("{key} is not a single value")),
        }
    };
    let fields = ["url", "adapter", "host", "port", "database", "username", "password"].map(field);
    let [url, adapter, host, port, database, username, password] = fields;
    let mut get = |key: &str, v: Result<Option<String>, String>| -> Result<Option<String>, String> {
        let v = v.map_err(|e| format!("{}: {e}", out.label))?;
        match v {
            Some(s) if erb::is_unknown(&s) => {
                if key == "password" {
                    out.notes.push(format!(
                        "{}: password is computed by ERB that dbguard does not evaluate; it is left out (connecting may fail)",
                        out.label
                    ));
                    Ok(None)
                } else {
                    Err(format!(
                        "{}: {key} is {}, which dbguard does not evaluate; the database is unknown",
                        out.label,
                        describe_unknown(&s, &exprs)
                    ))
                }
            }
            other => Ok(other),
        }
    };
    let parsed = (|| -> Result<_, String> {
        let fields = Fields {
            host: get("host", host)?,
            port: get("port", port)?,
            database: get("database", database)?,
            username: get("username", username)?,
            password: get("password", password)?,
        };
        Ok((get("url", url.clone())?, get("adapter", adapter)?, fields))
    })();
    let (url_value, adapter, fields) = match parsed {
        Ok(p) => p,
        Err(why) => {
            out.target = Target::Unknown(why);
            return out;
        }
    };
    out.database = fields.database.clone();
    if let Some(u) = url_value {
        let db = fields.database.clone();
        return finish_url(out, &u, db.as_deref(), &exprs, root);
    }
    let kind = match adapter.as_deref().map(str::to_ascii_lowercase).as_deref() {
        Some("postgresql" | "postgres" | "postgis") => Kind::Postgres,
        Some("mysql2" | "trilogy" | "mysql") => Kind::Mysql,
        Some("sqlite3" | "sqlite") => Kind::Sqlite,
        Some(other) => {
            out.target = Target::Unknown(format!(
                "{}: adapter {other:?} is not one dbguard reads (postgresql, postgis, mysql2, trilogy, sqlite3)",
                out.label
            ));
            return out;
        }
        None => {
            out.target = Target::Unknown(format!("{}: no adapter and no url", out.label));
            return out;
        }
    };
    out.target = match conn::build_url(kind, &fields, root) {
        Ok(Some(u)) => Target::Url(u),
        Ok(None) => Target::Memory,
        Err(why) => Target::Unknown(format!("{}: {why}", out.label)),
    };
    out
}

fn finish_url(mut out: Outcome, url: &str, database: Option<&str>, exprs: &[String], root: &Path) -> Outcome {
    if erb::is_unknown(url) {
        out.target = Target::Unknown(format!(
            "{}: url is {}, which dbguard does not evaluate; the database is unknown",
            out.label,
            describe_unknown(url, exprs)
        ));
        return out;
    }
    let u = conn::fill_database(&conn::normalize_scheme(url.trim()), database);
    // `sqlite3:db/x.sqlite3` is relative to the app root.
    out.target = match super::sqlite_path(&u).filter(|_| u.starts_with("file:") || u.starts_with("sqlite:")) {
        Some(p) if p.is_relative() => Target::Url(format!("file:{}", super::normalize(&root.join(p)).display())),
        _ => Target::Url(u),
    };
    out
}

/// The ERB expression(s) behind an unknown value, redacted and shortened for a warning.
fn describe_unknown(value: &str, exprs: &[String]) -> String {
    let shown: Vec<String> = erb::unknown_exprs(value, exprs)
        .into_iter()
        .map(|e| {
            let e = redact_text(e);
            let short: String = e.chars().take(60).collect();
            let ell = if e.chars().count() > 60 { "..." } else { "" };
            format!("`<%= {short}{ell} %>`")
        })
        .collect();
    if shown.is_empty() {
        "computed by ERB".into()
    } else {
        shown.join(" + ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The ERB evaluation itself is tested in dbguard_core::config::erb.
    #[test]
    fn mutated_files_never_panic() {
        let base = "default: &default\n  adapter: postgresql\n  host: <%= ENV.fetch(\"H\") { 'x' } %>\n  port: 5432\ndevelopment:\n  <<: *default\n  database: d\n  url: postgres://u:p@h/d\n";
        let alphabet = b"<%=>&*:{}[]\n -'\"\\#|!?,.ENV";
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..3000 {
            let mut bytes = base.as_bytes().to_vec();
            for _ in 0..(next() % 6 + 1) {
                let at = (next() as usize) % bytes.len();
                let c = alphabet[(next() as usize) % alphabet.len()];
                match next() % 3 {
                    0 => bytes[at] = c,
                    1 => bytes.insert(at, c),
                    _ => {
                        bytes.remove(at);
                    }
                }
            }
            let text = String::from_utf8_lossy(&bytes);
            let _ = resolve_text(&text, "development", Path::new("/app"), &mut |_| None);
        }
    }
}
