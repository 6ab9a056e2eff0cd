//! Least privilege for `db_query` on PostgreSQL: the query runs as a role that can only read,
//! or, where there is none, may call only side-effect-free built-in functions.
//!
//! A READ ONLY transaction is not enough (issue 12, class 9): `dblink_exec` writes through a
//! connection of its own, `pg_terminate_backend` ends other sessions, `pg_read_file` and
//! `lo_import` reach the server's files. Inside the query's READ ONLY transaction, in order:
//!
//! 1. `dbguard_reader` (made by `dbguard protect`: NOLOGIN, `pg_read_all_data`) when the session
//!    user is a member of it, else `[mcp] read_role` from dbguard.toml (the session user must be
//!    a member): checked to be a role that can only read (not a superuser, no replication, no
//!    membership in `pg_write_all_data`, `pg_signal_backend`, `pg_read_server_files`,
//!    `pg_write_server_files` or `pg_execute_server_program`), then `SET LOCAL ROLE`. The server
//!    now refuses what that role may not do, for every function the query reaches, directly or
//!    not. A configured role that fails the check is an error, never a silent fallback.
//! 2. No such role: the allowlist of the core (`dbguard_core::sql::readonly`), decided on the
//!    parse tree; `pg_catalog` goes first on the search path so the names resolve to built-ins.
//!
//! In both modes the families that escape the transaction or the role are refused before any
//! connection is made (`readonly::check_query`), and with a role, a query naming a SECURITY
//! DEFINER function (or an operator implemented by one) is refused: such a function runs with its
//! owner's rights, not the reader's.

use anyhow::{anyhow, bail};
use dbguard_core::sql::readonly::{self, Mode};

use crate::engine::pg_connect::describe_pg_error;

/// The role `dbguard protect` creates for read-only access.
pub const READER_ROLE: &str = "dbguard_reader";

/// Built-in roles whose membership gives more than reading.
const UNSAFE_MEMBERSHIPS: &[&str] = &[
    "pg_write_all_data",
    "pg_signal_backend",
    "pg_read_server_files",
    "pg_write_server_files",
    "pg_execute_server_program",
];

/// How the query runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Privilege {
    /// `SET LOCAL ROLE` to this role; where the role came from.
    Role { role: String, from: &'static str },
    /// The session's own rights, built-in side-effect-free functions only.
    Allowlist,
}

impl Privilege {
    /// For the answer: how the query ran, in one line.
    pub fn describe(&self) -> String {
        match self {
            Privilege::Role { role, from } => format!("as role {role} ({from}), which can only read"),
            Privilege::Allowlist => format!(
                "with the session's own role, limited to side-effect-free built-in functions (no {READER_ROLE} \
membership and no [mcp] read_role: `dbguard protect` creates the role)"
            ),
        }
    }
}

/// Refuse what no mode may run, before connecting.
pub fn precheck(sql: &str) -> anyhow::Result<()> {
    readonly::check_query(sql, Mode::ReaderRole).map_err(|r| refusal(&r))
}

fn refusal(r: &readonly::Refusal) -> anyhow::Error {
    anyhow!(
        "refused: db_query only reads, and {r}. Nothing was run. If the user wants this done, it is theirs to \
run outside dbguard mcp."
    )
}

/// Inside the open READ ONLY transaction: switch to a read-only role or fall back to the
/// allowlist (see the module comment). Errors mean the query must not run.
pub async fn enter(client: &tokio_postgres::Client, sql: &str, configured: Option<&str>) -> anyhow::Result<Privilege> {
    let privilege = match member_of(client, READER_ROLE).await? {
        true => Privilege::Role {
            role: READER_ROLE.to_string(),
            from: "created by dbguard protect",
        },
        false => match configured {
            Some(role) => {
                if !member_of(client, role).await? {
                    bail!(
                        "refused: [mcp] read_role = {role:?} in dbguard.toml, but the session user is not a member of \
that role (or it does not exist), so db_query cannot switch to it. Nothing was run."
                    );
                }
                Privilege::Role {
                    role: role.to_string(),
                    from: "[mcp] read_role in dbguard.toml",
                }
            }
            None => Privilege::Allowlist,
        },
    };
    match &privilege {
        Privilege::Role { role, .. } => {
            check_read_only_role(client, role).await?;
            client
                .batch_execute(&format!("SET LOCAL ROLE {}", quote_ident(role)))
                .await
                .map_err(|e| anyhow!("refused: cannot switch to role {role}: {}", describe_pg_error(&e)))?;
            refuse_security_definer(client, sql).await?;
        }
        Privilege::Allowlist => {
            readonly::check_query(sql, Mode::Allowlist).map_err(|r| refusal(&r))?;
            client
                .batch_execute(
                    "SELECT pg_catalog.set_config('search_path', 'pg_catalog, ' || pg_catalog.current_setting('search_path'), true)",
                )
                .await
                .map_err(|e| anyhow!("setting the search path: {}", describe_pg_error(&e)))?;
        }
    }
    Ok(privilege)
}

/// Whether the session user is a member of `role` (false when the role does not exist).
async fn member_of(client: &tokio_postgres::Client, role: &str) -> anyhow::Result<bool> {
    let row = client
        .query_one(
            "SELECT CASE WHEN r.oid IS NULL THEN false ELSE pg_catalog.pg_has_role(session_user, r.oid, 'MEMBER') END \
             FROM (SELECT (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = $1) AS oid) r",
            &[&role],
        )
        .await
        .map_err(|e| anyhow!("looking up role {role}: {}", describe_pg_error(&e)))?;
    Ok(row.get(0))
}

/// A role that may do more than read is not a read-only role, whoever set it up.
async fn check_read_only_role(client: &tokio_postgres::Client, role: &str) -> anyhow::Result<()> {
    let unsafe_roles: Vec<String> = UNSAFE_MEMBERSHIPS.iter().map(|s| s.to_string()).collect();
    let row = client
        .query_one(
            "SELECT r.rolsuper, r.rolreplication, \
             ARRAY(SELECT u FROM pg_catalog.unnest($2::text[]) u \
                   WHERE CASE WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_roles b WHERE b.rolname = u) \
                     THEN pg_catalog.pg_has_role(r.oid, u, 'MEMBER') ELSE false END) \
             FROM pg_catalog.pg_roles r WHERE r.rolname = $1",
            &[&role, &unsafe_roles],
        )
        .await
        .map_err(|e| anyhow!("checking role {role}: {}", describe_pg_error(&e)))?;
    let (superuser, replication, extra): (bool, bool, Vec<String>) = (row.get(0), row.get(1), row.get(2));
    let mut why = Vec::new();
    if superuser {
        why.push("it is a superuser".to_string());
    }
    if replication {
        why.push("it has REPLICATION".to_string());
    }
    if !extra.is_empty() {
        why.push(format!("it is a member of {}", extra.join(", ")));
    }
    if !why.is_empty() {
        bail!(
            "refused: role {role} is meant to only read, but {}; db_query will not run as it. Nothing was run.",
            why.join(" and ")
        );
    }
    Ok(())
}

/// Functions (and operators' functions) the query names that run with their owner's rights.
async fn refuse_security_definer(client: &tokio_postgres::Client, sql: &str) -> anyhow::Result<()> {
    let (_, named) = dbguard_core::sql::calls::named(sql).map_err(|e| anyhow!("refused: {e}"))?;
    let functions: Vec<String> = named.calls.iter().map(|c| c.name.clone()).collect();
    let operators: Vec<String> = named
        .operators
        .iter()
        .map(|o| o.rsplit('.').next().unwrap_or(o).to_string())
        .collect();
    if functions.is_empty() && operators.is_empty() {
        return Ok(());
    }
    let rows = client
        .query(
            "SELECT DISTINCT p.proname::text FROM pg_catalog.pg_proc p WHERE p.prosecdef AND p.proname = ANY($1) \
             UNION SELECT DISTINCT o.oprname::text FROM pg_catalog.pg_operator o \
               JOIN pg_catalog.pg_proc p ON p.oid = o.oprcode WHERE p.prosecdef AND o.oprname = ANY($2)",
            &[&functions, &operators],
        )
        .await
        .map_err(|e| anyhow!("checking the functions the query calls: {}", describe_pg_error(&e)))?;
    let found: Vec<String> = rows.iter().map(|r| r.get::<_, String>(0)).collect();
    if !found.is_empty() {
        bail!(
            "refused: db_query only reads, and the query calls {} defined SECURITY DEFINER (a function of that name is), \
which runs with its owner's rights instead of the read-only role's. Nothing was run.",
            found.join(", ")
        );
    }
    Ok(())
}

/// A PostgreSQL identifier, double-quoted.
fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote_ident("dbguard_reader"), "\"dbguard_reader\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn precheck_refuses_before_connecting() {
        let e = precheck("SELECT pg_terminate_backend(pid) FROM pg_stat_activity").unwrap_err();
        assert!(e.to_string().contains("signals or controls server processes"), "{e}");
        assert!(precheck("SELECT count(*) FROM users").is_ok());
    }
}
