//! PostgreSQL helpers shared by the snapshot strategies and restore: URLs with another
//! database name, quoting, server facts, table lists, the pg_dump/pg_restore binaries,
//! and error messages that say what to do next.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{anyhow, bail};
use dbguard_core::redact::redact_url;
use tokio_postgres::Client;

use super::manifest::SnapshotScope;
use crate::engine::pg_connect::{self, describe_pg_error};

pub fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

pub fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

pub fn qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", quote_ident(schema), quote_ident(name))
}

/// The same connection string pointing at another database.
pub fn with_database(url: &str, db: &str) -> anyhow::Result<String> {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
        let mut u = url::Url::parse(url).map_err(|e| anyhow!("invalid PostgreSQL URL {}: {e}", redact_url(url)))?;
        let encoded: String = url::form_urlencoded::byte_serialize(db.as_bytes()).collect();
        u.set_path(&format!("/{}", encoded.replace('+', "%20")));
        // A dbname query parameter would win over the path: drop it.
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .filter(|(k, _)| k != "dbname")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if pairs.is_empty() {
            u.set_query(None);
        } else {
            u.query_pairs_mut().clear().extend_pairs(pairs);
        }
        Ok(u.to_string())
    } else {
        Ok(format!(
            "{url} dbname='{}'",
            db.replace('\\', "\\\\").replace('\'', "\\'")
        ))
    }
}

/// Database name, user, host:port of a connection string.
pub struct ConnFacts {
    pub database: String,
    pub user: String,
    /// Host name or socket directory, and port, as written (`localhost`, 5432 by default).
    pub host: String,
    pub port: u16,
    pub server_key: String,
}

pub fn conn_facts(url: &str) -> anyhow::Result<ConnFacts> {
    let cfg = pg_connect::parse_config(url)?;
    let user = cfg
        .get_user()
        .map(str::to_string)
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_default();
    let database = cfg.get_dbname().map(str::to_string).unwrap_or_else(|| user.clone());
    let host = cfg
        .get_hosts()
        .first()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(s) => s.clone(),
            tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
        })
        .unwrap_or_else(|| "localhost".into());
    let port = cfg.get_ports().first().copied().unwrap_or(5432);
    Ok(ConnFacts {
        database,
        user,
        server_key: format!("{host}:{port}"),
        host,
        port,
    })
}

pub struct ServerInfo {
    pub version: String,
    pub version_num: u32,
}

impl ServerInfo {
    pub fn major(&self) -> u32 {
        self.version_num / 10_000
    }
}

pub async fn server_info(client: &Client) -> anyhow::Result<ServerInfo> {
    let row = client
        .query_one(
            "SELECT current_setting('server_version'), current_setting('server_version_num')::int",
            &[],
        )
        .await
        .map_err(|e| anyhow!("reading the server version: {}", describe_pg_error(&e)))?;
    let version: String = row.get(0);
    let num: i32 = row.get(1);
    Ok(ServerInfo {
        version,
        version_num: num.max(0) as u32,
    })
}

/// Connect to the server's maintenance database (`postgres`, else `template1`).
pub async fn connect_maintenance(url: &str) -> anyhow::Result<Client> {
    let first = pg_connect::connect(&with_database(url, "postgres")?, pg_connect::DEFAULT_CONNECT_TIMEOUT).await;
    match first {
        Ok(c) => Ok(c),
        Err(e) => {
            match pg_connect::connect(&with_database(url, "template1")?, pg_connect::DEFAULT_CONNECT_TIMEOUT).await {
                Ok(c) => Ok(c),
                Err(_) => Err(e),
            }
        }
    }
}

pub async fn database_exists(client: &Client, name: &str) -> anyhow::Result<bool> {
    let row = client
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
        .await
        .map_err(|e| anyhow!("checking database {name}: {}", describe_pg_error(&e)))?;
    Ok(row.is_some())
}

/// After a COPY stream broke off: the likely causes and what to do.
pub const LOST_SERVER: &str = "The server ended the connection (it was shut down or restarted, the session was terminated, or the network dropped); nothing was kept. Check that the server is up and retry";

/// What else can be done when a role may not create databases, by who is asking.
pub mod without_createdb {
    pub const SNAPSHOT: &str = "or use --strategy copy (needs only SELECT on the tables)";
    pub const RESTORE: &str = "or restore into an existing database this role may use with --to-url (tables already there are never overwritten)";
    pub const RESTORE_CLONE: &str =
        "or run the restore as a role that has it (a clone snapshot restores only by CREATE DATABASE ... TEMPLATE)";
}

/// Turn a failed CREATE DATABASE into a message with the next step; `instead` is the
/// alternative to granting CREATEDB (see `without_createdb`).
pub fn create_db_error(e: &tokio_postgres::Error, what: &str, user: &str, instead: &str) -> anyhow::Error {
    let msg = describe_pg_error(e);
    if let Some(db) = e.as_db_error() {
        let code = db.code().code();
        if code == "42501" {
            return anyhow!(
                "{what}: permission denied to create a database ({msg}). Grant it with `ALTER ROLE {} CREATEDB;` as a superuser, {instead}",
                quote_ident(user)
            );
        }
        if code == "55006" {
            return anyhow!(
                "{what}: {msg}. The source database has other sessions; close them, pass --terminate-sessions to end them, or use --strategy copy"
            );
        }
        if code == "53100" {
            return anyhow!("{what}: the database server is out of disk space ({msg}). Nothing was kept; free space on the server and retry");
        }
    }
    anyhow!("{what}: {msg}")
}

/// A table to snapshot.
#[derive(Debug, Clone)]
pub struct TableRef {
    pub oid: u32,
    pub schema: String,
    pub name: String,
    /// On-disk size, for progress and strategy choice.
    pub bytes: i64,
    /// Heap pages, to split big tables into ctid ranges read in parallel.
    pub pages: i64,
}

/// Resolve the tables a scope covers. Names may be `schema.table` or `table` (found
/// through the search_path); an unknown name is an error.
pub async fn tables_in_scope(client: &Client, scope: &SnapshotScope) -> anyhow::Result<Vec<TableRef>> {
    let base = "SELECT c.oid, n.nspname::text, c.relname::text, pg_total_relation_size(c.oid)::bigint, c.relkind::text,
         (pg_relation_size(c.oid) / current_setting('block_size')::bigint)::bigint
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace";
    let mut out = Vec::new();
    let rows = match scope {
        SnapshotScope::Database => client
            .query(
                &format!(
                    "{base} WHERE c.relkind IN ('r','p') AND n.nspname NOT IN ('pg_catalog','information_schema')
                     AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
                     AND n.nspname <> 'dbguard'
                     AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
                     ORDER BY 2, 3"
                ),
                &[],
            )
            .await
            .map_err(|e| anyhow!("listing tables: {}", describe_pg_error(&e)))?,
        SnapshotScope::Schema(schemas) => {
            for s in schemas {
                let found = client
                    .query_opt("SELECT 1 FROM pg_namespace WHERE nspname = $1", &[s])
                    .await
                    .map_err(|e| anyhow!("looking up schema {s}: {}", describe_pg_error(&e)))?;
                if found.is_none() {
                    bail!("schema {s} does not exist in this database");
                }
            }
            client
                .query(
                    &format!("{base} WHERE c.relkind IN ('r','p') AND n.nspname = ANY($1) ORDER BY 2, 3"),
                    &[schemas],
                )
                .await
                .map_err(|e| anyhow!("listing tables: {}", describe_pg_error(&e)))?
        }
        SnapshotScope::Tables(names) => {
            let mut rows = Vec::new();
            for t in names {
                let quoted = if t.contains('"') {
                    t.clone()
                } else {
                    t.split('.').map(quote_ident).collect::<Vec<_>>().join(".")
                };
                let row = client
                    .query_opt(
                        &format!("{base} WHERE c.oid = to_regclass($1) AND c.relkind IN ('r','p')"),
                        &[&quoted],
                    )
                    .await
                    .map_err(|e| anyhow!("looking up table {t}: {}", describe_pg_error(&e)))?;
                match row {
                    Some(r) => rows.push(r),
                    None => bail!(
                        "table {t} does not exist in this database (check the name and the schema: `schema.table`)"
                    ),
                }
            }
            rows
        }
    };
    for r in rows {
        let kind: String = r.get(4);
        let schema: String = r.get(1);
        let name: String = r.get(2);
        if kind == "p" {
            if matches!(scope, SnapshotScope::Tables(_)) {
                bail!("{schema}.{name} is a partitioned table: name its partitions with --tables, or use --strategy dump or clone");
            }
            // Its rows live in the partitions, which are listed themselves.
            continue;
        }
        let oid: u32 = r.get(0);
        if out.iter().any(|t: &TableRef| t.oid == oid) {
            continue;
        }
        out.push(TableRef {
            oid,
            schema,
            name,
            bytes: r.get(3),
            pages: r.get(5),
        });
    }
    Ok(out)
}

/// A PostgreSQL client program (pg_dump, pg_restore) whose major version is at least
/// `min_major`: the newest installed one. The error names both versions.
pub fn find_tool(name: &str, min_major: u32) -> anyhow::Result<(PathBuf, u32, String)> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(dir) = std::env::var_os("DBGUARD_PG_BIN") {
        candidates.push(PathBuf::from(dir).join(name));
    }
    if let Ok(rd) = std::fs::read_dir("/usr/lib/postgresql") {
        for e in rd.flatten() {
            candidates.push(e.path().join("bin").join(name));
        }
    }
    if let Some(path) = std::env::var_os("PATH") {
        for p in std::env::split_paths(&path) {
            candidates.push(p.join(name));
        }
    }
    let mut best: Option<(PathBuf, u32, String)> = None;
    let mut seen: Vec<String> = Vec::new();
    for c in candidates {
        if !c.is_file() {
            continue;
        }
        let Ok(out) = Command::new(&c).arg("--version").output() else {
            continue;
        };
        let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
        // "pg_dump (PostgreSQL) 15.4 (Debian 15.4-1)"
        let Some(ver) = text.split_whitespace().nth(2) else {
            continue;
        };
        let major: u32 = ver.split('.').next().and_then(|m| m.parse().ok()).unwrap_or(0);
        seen.push(format!("{} {ver}", c.display()));
        if major >= min_major && best.as_ref().is_none_or(|b| major > b.1) {
            best = Some((c, major, ver.to_string()));
        }
    }
    // The way around a missing or old tool depends on which one it is.
    let instead = if name == "pg_restore" {
        "; a dump snapshot restores only with pg_restore"
    } else {
        ", or use --strategy copy or clone"
    };
    match best {
        Some(b) => Ok(b),
        None if seen.is_empty() => bail!(
            "{name} is not installed: install the PostgreSQL {min_major} client programs (e.g. `apt-get install postgresql-client-{min_major}`){instead}"
        ),
        None => bail!(
            "{name} is too old for this server: the server runs PostgreSQL {min_major} and the installed {name} is {}. Install the PostgreSQL {min_major} client programs (e.g. `apt-get install postgresql-client-{min_major}`) or set DBGUARD_PG_BIN to their folder{instead}",
            seen.join(", ")
        ),
    }
}

/// A command for pg_dump/pg_restore connecting to `url`, with the password passed in the
/// environment (never on the command line, where `ps` would show it).
pub fn tool_command(tool: &PathBuf, url: &str) -> anyhow::Result<(Command, String)> {
    let mut cmd = Command::new(tool);
    let lower = url.to_ascii_lowercase();
    let conn = if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
        let mut u = url::Url::parse(url).map_err(|e| anyhow!("invalid PostgreSQL URL {}: {e}", redact_url(url)))?;
        if let Some(pw) = u.password() {
            let pw = url::form_urlencoded::parse(format!("p={pw}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            cmd.env("PGPASSWORD", pw);
            let _ = u.set_password(None);
        }
        u.to_string()
    } else {
        url.to_string()
    };
    Ok((cmd, conn))
}

/// Run a prepared pg_dump/pg_restore command; the error carries its (redacted) stderr.
pub fn run_tool(mut cmd: Command, what: &str) -> anyhow::Result<String> {
    let out = cmd.output().map_err(|e| anyhow!("{what}: cannot run: {e}"))?;
    let stderr = dbguard_core::redact::redact_text(&String::from_utf8_lossy(&out.stderr));
    if !out.status.success() {
        if stderr.contains("No space left on device") {
            return Err(super::store::no_space(what));
        }
        bail!("{what} failed: {}", stderr.trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).to_string())
}

/// The session settings every checksum and copy connection uses, so the binary
/// output does not depend on client defaults.
pub async fn prepare_session(client: &Client) -> anyhow::Result<()> {
    client
        .batch_execute(
            "SET statement_timeout = 0; SET lock_timeout = '10s'; SET idle_in_transaction_session_timeout = 0",
        )
        .await
        .map_err(|e| anyhow!("preparing the session: {}", describe_pg_error(&e)))
}
