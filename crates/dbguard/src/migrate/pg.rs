//! A blocking PostgreSQL session for `dbguard migrate` (its own small runtime), and
//! the URL and server facts the other parts need: Prisma's extra URL parameters taken
//! out, and the server's identity (to tell whether two URLs name the same database no
//! matter how the host is spelled).

use std::time::Duration;

use anyhow::anyhow;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

use crate::engine::pg_connect::{self, describe_pg_error};

/// URL parameters Prisma understands and libpq does not: removed before dbguard connects.
const PRISMA_PARAMS: &[&str] = &[
    "schema",
    "connection_limit",
    "pool_timeout",
    "pgbouncer",
    "socket_timeout",
    "statement_cache_size",
    "sslaccept",
    "sslidentity",
];

/// The URL without Prisma-only parameters, and the `schema` parameter when there was one.
pub fn libpq_url(url: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_string(), None);
    };
    let lower = url.trim_start().to_ascii_lowercase();
    if !(lower.starts_with("postgres://") || lower.starts_with("postgresql://")) {
        return (url.to_string(), None);
    }
    let mut schema = None;
    let mut kept = Vec::new();
    for part in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        if PRISMA_PARAMS.contains(&k) {
            if k == "schema" && !v.is_empty() {
                schema = Some(percent_decode(v));
            }
        } else {
            kept.push(part);
        }
    }
    let out = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    (out, schema)
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_string())
}

/// One connection with its own runtime.
pub struct Pg {
    rt: tokio::runtime::Runtime,
    client: tokio_postgres::Client,
}

impl Pg {
    pub fn connect(url: &str) -> anyhow::Result<Pg> {
        Pg::connect_timeout(url, pg_connect::DEFAULT_CONNECT_TIMEOUT)
    }

    pub fn connect_timeout(url: &str, timeout: Duration) -> anyhow::Result<Pg> {
        let (url, _) = libpq_url(url);
        let rt = pg_connect::runtime()?;
        let client = rt.block_on(pg_connect::connect(&url, timeout))?;
        Ok(Pg { rt, client })
    }

    pub fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> anyhow::Result<Vec<Row>> {
        self.rt
            .block_on(self.client.query(sql, params))
            .map_err(|e| anyhow!("{}", describe_pg_error(&e)))
    }

    pub fn query_opt(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> anyhow::Result<Option<Row>> {
        self.rt
            .block_on(self.client.query_opt(sql, params))
            .map_err(|e| anyhow!("{}", describe_pg_error(&e)))
    }

    pub fn batch(&self, sql: &str) -> Result<(), tokio_postgres::Error> {
        self.rt.block_on(self.client.batch_execute(sql))
    }

    /// `batch`, with the server's message as the error.
    pub fn exec(&self, sql: &str) -> anyhow::Result<()> {
        self.batch(sql).map_err(|e| anyhow!("{}", describe_pg_error(&e)))
    }

    /// The server major version (15, 16...).
    pub fn major(&self) -> anyhow::Result<u32> {
        let row = self
            .query_opt("SELECT current_setting('server_version_num')::int", &[])?
            .ok_or_else(|| anyhow!("no server version"))?;
        let n: i32 = row.get(0);
        Ok(n.max(0) as u32 / 10_000)
    }

    /// Who this session is on which server: the same for every URL naming this database,
    /// whatever the host is called (`localhost`, `127.0.0.1`, `::1`, a DNS alias, a socket).
    pub fn identity(&self) -> anyhow::Result<ServerIdentity> {
        let row = self
            .query_opt(
                "SELECT current_database()::text, current_setting('port'), \
                 extract(epoch FROM pg_postmaster_start_time())::text, \
                 (SELECT oid::bigint FROM pg_database WHERE datname = current_database()), \
                 current_setting('data_directory', true)",
                &[],
            )?
            .ok_or_else(|| anyhow!("no server identity"))?;
        // The system identifier needs pg_control_system(), readable by default only by
        // superusers and pg_monitor: used when readable.
        let system = self
            .query_opt("SELECT system_identifier::text FROM pg_control_system()", &[])
            .ok()
            .flatten()
            .map(|r| r.get::<_, String>(0));
        Ok(ServerIdentity {
            database: row.get(0),
            port: row.get(1),
            started: row.get(2),
            database_oid: row.get(3),
            system,
            data_directory: row.get(4),
        })
    }

    /// User tables (not in system schemas), excluding `except` (qualified names).
    pub fn table_count(&self, except: &[String]) -> anyhow::Result<i64> {
        let rows = self.query(
            "SELECT n.nspname::text || '.' || c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
             AND n.nspname NOT LIKE 'pg\\_%'",
            &[],
        )?;
        Ok(rows.iter().filter(|r| !except.contains(&r.get::<_, String>(0))).count() as i64)
    }
}

/// The identity of a database on a server (see [`Pg::identity`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerIdentity {
    pub database: String,
    pub port: String,
    /// When the postmaster started (epoch seconds with fraction): two servers started in
    /// the same microsecond on the same port are not a real risk.
    pub started: String,
    pub database_oid: i64,
    pub system: Option<String>,
    /// Readable by superusers and pg_read_all_settings members.
    pub data_directory: Option<String>,
}

impl ServerIdentity {
    /// Same database on the same server?
    pub fn same_database(&self, other: &ServerIdentity) -> bool {
        let same_server = match (&self.system, &other.system) {
            (Some(a), Some(b)) if a != b => false,
            _ => self.port == other.port && self.started == other.started,
        };
        same_server && self.database_oid == other.database_oid && self.database == other.database
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prisma_params_removed() {
        assert_eq!(
            libpq_url("postgresql://u:p@h:5432/db?schema=app&sslmode=require&connection_limit=5"),
            (
                "postgresql://u:p@h:5432/db?sslmode=require".to_string(),
                Some("app".to_string())
            )
        );
        assert_eq!(libpq_url("postgres://h/db").0, "postgres://h/db");
        assert_eq!(libpq_url("postgres://h/db?schema=public").0, "postgres://h/db");
        assert_eq!(libpq_url("file:./dev.db?x=1").0, "file:./dev.db?x=1");
    }
}
