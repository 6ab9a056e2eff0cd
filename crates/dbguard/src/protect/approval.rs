//! The database side of approvals: how a person's `dbguard approve` gets a destructive
//! command past the in-database guard, and nothing else does.
//!
//! When a door (`run`, `migrate apply`, MCP, the proxy) needs a human, the local approval
//! request (`crate::approval`) also carries a random one-time token and, when the target
//! has the guard, a [`GuardTarget`] (where it is, the application's role, the guard owner)
//! found by [`probe`]. `dbguard approve CODE`, after the person typed the database name,
//! asks for the guard owner's password (never stored, never echoed) and, logged in as the
//! owner, writes sha256(token), role, database and expiry into `dbguard.approvals` ([`grant`]),
//! a table the application role cannot read. The approved command then runs with
//! `PGOPTIONS=-c dbguard.approval=<token>` (`guarded::approved_environment`; in-process clients:
//! [`apply_to_config`] or [`present`]). The guard hashes the setting, finds the unused,
//! unexpired row for this role and database, binds it to the session (backend pid and
//! start time), and lets that session's destructive statements through until the expiry.
//!
//! A token an agent makes up, or sets itself, passes nothing: its hash is in no row. What
//! this rests on: the owner's password (the agent does not have it) and the table's
//! privileges. What it cannot stop: a process of the same user that reads the approval
//! file between the person's approval and the command's run can use the token first (once,
//! for that role and database, until the expiry).

use std::time::Duration;

use anyhow::{anyhow, bail};
use dbguard_core::config::conninfo;
use dbguard_core::redact::redact_text;
use dbguard_core::target::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Session, CONNECT_TIMEOUT};

/// The setting the approved command's sessions carry.
pub const SETTING: &str = "dbguard.approval";

/// How long looking for the guard may take on the way to an approval code.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// A guarded database an approval must be written into.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct GuardTarget {
    /// The target's connection string with its password redacted (the user name and
    /// password are replaced by the owner's when `approve` connects).
    pub conn: String,
    /// The role the command's sessions log in as (`session_user`).
    pub role: String,
    pub database: String,
    /// The role that installed the guard: its password is what `approve` asks for.
    pub owner: String,
    pub version: i32,
}

/// What one approval grants.
pub struct Grant<'a> {
    pub token: &'a str,
    pub expires_unix: i64,
    /// The local approval code, for the guard's records.
    pub code: &'a str,
    /// The command, redacted.
    pub command: &'a str,
}

/// 32 random bytes, hex: what the command presents; only its SHA-256 is stored in the database.
pub fn new_token() -> String {
    let mut b = [0u8; 32];
    crate::audit::fill_random(&mut b);
    hex(&b)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn token_sha256(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// PGOPTIONS with the token added to what was there.
pub fn pgoptions(existing: Option<&str>, token: &str) -> String {
    let opt = format!("-c {SETTING}={token}");
    match existing.map(str::trim).filter(|s| !s.is_empty()) {
        Some(e) => format!("{e} {opt}"),
        None => opt,
    }
}

/// For a tokio-postgres connection this process opens itself (child processes get the
/// token through `guarded::approved_environment`).
#[allow(dead_code)] // for migrate apply and the proxy
pub fn apply_to_config(config: &mut tokio_postgres::Config, token: &str) {
    let existing = config.get_options().map(str::to_string);
    config.options(pgoptions(existing.as_deref(), token));
}

/// The same on a session already open (the MCP server's connection).
pub async fn present(client: &tokio_postgres::Client, token: &str) -> anyhow::Result<()> {
    client
        .query("SELECT set_config($1, $2, false)", &[&SETTING, &token])
        .await
        .map(|_| ())
        .map_err(super::pg_error)
}

/// Is the guard installed behind this URL? Connects as the command would (its own
/// credentials); None when there is no guard or the database cannot be reached in time.
pub fn probe(url: &str) -> Option<GuardTarget> {
    let s = Session::connect(url, PROBE_TIMEOUT).ok()?;
    let version = s.installed_version().ok()??;
    let rows = s
        .query(
            "SELECT session_user::text, current_database()::text, (SELECT owner::text FROM dbguard.installation)",
            &[],
        )
        .ok()?;
    let r = rows.first()?;
    Some(GuardTarget {
        conn: redact_text(url),
        role: r.get(0),
        database: r.get(1),
        owner: r.get(2),
        version,
    })
}

/// [`probe`] for a plan's PostgreSQL target.
pub fn probe_plan(plan: &crate::plan::Plan) -> Option<GuardTarget> {
    let t = plan.target.as_ref()?;
    let url = t.url.as_deref()?;
    if t.engine.or_else(|| crate::target::engine_of(url)) != Some(Engine::Postgres) {
        return None;
    }
    probe(url)
}

/// [`probe_plan`] for a new approval request, only when planning already reached the
/// database (the hook plans without touching it, and stays fast: its approvals are checked
/// again by `dbguard run`, which then asks for one that covers the guard).
pub fn probe_for_request(plan: &crate::plan::Plan) -> Option<GuardTarget> {
    plan.total_rows.is_some().then(|| probe_plan(plan)).flatten()
}

/// Percent-encode everything but unreserved characters (tokio-postgres decodes `%XX` only).
fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `conn` logging in as `user` with `password` instead of whoever it named.
pub fn with_credentials(conn: &str, user: &str, password: &str) -> String {
    if conninfo::is_url(conn) {
        let (scheme, rest) = conn.split_once("://").unwrap_or(("postgres", conn));
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        let hosts = authority.rsplit_once('@').map(|(_, h)| h).unwrap_or(authority);
        let (path, query) = tail.split_once('?').unwrap_or((tail, ""));
        let mut params: Vec<String> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .filter(|p| {
                let key = p.split('=').next().unwrap_or("");
                key != "user" && key != "password"
            })
            .map(str::to_string)
            .collect();
        params.push(format!("user={}", pct(user)));
        params.push(format!("password={}", pct(password)));
        format!("{scheme}://{hosts}{path}?{}", params.join("&"))
    } else {
        let q = |v: &str| format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"));
        format!("{conn} user={} password={}", q(user), q(password))
    }
}

/// Ask the person at this terminal for the guard owner's password (or a connection URL
/// that logs in as the owner), without echo. None when nothing was typed.
pub fn ask_credentials(t: &GuardTarget) -> Option<String> {
    let prompt = format!(
        "Type the password of the guard owner `{}` (not shown, never stored), or a postgres:// URL that logs in as a role allowed to write approvals: ",
        t.owner
    );
    let typed = read_hidden(&prompt)?;
    let typed = typed.trim_end_matches(['\r', '\n']).to_string();
    (!typed.is_empty()).then_some(typed)
}

/// Write the approval into the guarded database, logged in with what the person typed.
pub fn grant(t: &GuardTarget, typed: &str, g: &Grant<'_>) -> anyhow::Result<()> {
    let conn = if conninfo::is_url(typed.trim()) {
        typed.trim().to_string()
    } else {
        with_credentials(&t.conn, &t.owner, typed)
    };
    let s = Session::connect(&conn, CONNECT_TIMEOUT).map_err(|e| {
        anyhow!(
            "could not log in as the guard owner: {}",
            redact_text(&format!("{e:#}")).replace(typed, "***")
        )
    })?;
    let db: String = s.query("SELECT current_database()::text", &[])?[0].get(0);
    if db != t.database {
        bail!(
            "that login is for database {db}, not {}: the approval must be written where the command runs",
            t.database
        );
    }
    let inserted = s.query(
        "INSERT INTO dbguard.approvals (token_sha256, role, database, expires_at, code, command) \
         VALUES ($1, $2, $3, to_timestamp($4::float8), $5, $6) RETURNING id",
        &[
            &token_sha256(g.token),
            &t.role,
            &t.database,
            &(g.expires_unix as f64),
            &g.code,
            &g.command,
        ],
    );
    match inserted {
        Ok(_) => {}
        Err(e) => {
            let who = s
                .query("SELECT current_user::text", &[])
                .ok()
                .and_then(|r| r.first().map(|r| r.get::<_, String>(0)))
                .unwrap_or_default();
            bail!(
                "{who} cannot write approvals ({e:#}): log in as the guard owner ({}) or a superuser",
                t.owner
            );
        }
    }
    // Old approvals are of no use to anyone: keep the table small.
    let _ = s.query(
        "DELETE FROM dbguard.approvals WHERE expires_at < now() - interval '1 day'",
        &[],
    );
    Ok(())
}

/// At a terminal: say why, ask for the owner's password, write the approval. Err says why
/// not (and nothing was approved in the database).
pub fn ask_and_grant(t: &GuardTarget, g: &Grant<'_>) -> anyhow::Result<()> {
    eprintln!(
        "dbguard: database {} is guarded in the database itself (dbguard protect, guard owner {}): the approval is also written there, for role {} until {}.",
        t.database,
        t.owner,
        t.role,
        crate::snapshot::store::rfc3339(g.expires_unix)
    );
    let Some(typed) = ask_credentials(t) else {
        bail!("no password was typed");
    };
    grant(t, &typed, g)
}

/// `dbguard approve`, after the person typed the database name: when the request found
/// the guard on its target, write the approval there too. Ok(()) when there is no guard.
pub fn grant_for(r: &crate::approval::Record) -> anyhow::Result<()> {
    let Some(t) = &r.db_guard else {
        return Ok(());
    };
    let Some(token) = r.db_token.as_deref() else {
        bail!("this approval request carries no token for the database's guard: rerun the command for a new code");
    };
    let expires_unix = crate::audit::now_unix() + crate::approval::ttl().as_secs() as i64;
    ask_and_grant(
        t,
        &Grant {
            token,
            expires_unix,
            code: &r.code,
            command: &r.command,
        },
    )
}

/// For a person who confirmed at this terminal (`dbguard run`, typed database name): when
/// the target has the guard, ask for the owner's password and return a token for the
/// command. Ok(None): no guard, nothing to do.
pub fn grant_here(plan: &crate::plan::Plan, expires_unix: i64) -> anyhow::Result<Option<String>> {
    let Some(t) = probe_plan(plan) else {
        return Ok(None);
    };
    let token = new_token();
    ask_and_grant(
        &t,
        &Grant {
            token: &token,
            expires_unix,
            code: "(typed at the terminal)",
            command: &plan.display,
        },
    )?;
    Ok(Some(token))
}

/// Read one line from the terminal with echo off (restored afterwards, also on error).
fn read_hidden(prompt: &str) -> Option<String> {
    use std::io::{BufRead, IsTerminal, Write};
    // Keys typed before the question never answer it.
    let stdin_tty = std::io::stdin().is_terminal();
    // SAFETY: termios calls on fd 0 with a zeroed, then filled, termios struct of our own.
    let saved = unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        if stdin_tty && libc::tcgetattr(0, &mut t) == 0 {
            libc::tcflush(0, libc::TCIFLUSH);
            let mut quiet = t;
            quiet.c_lflag &= !libc::ECHO;
            quiet.c_lflag |= libc::ECHONL;
            libc::tcsetattr(0, libc::TCSANOW, &quiet);
            Some(t)
        } else {
            None
        }
    };
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{prompt}");
    let _ = err.flush();
    drop(err);
    let mut line = String::new();
    let read = std::io::stdin().lock().read_line(&mut line);
    if let Some(t) = saved {
        // SAFETY: restores the settings read above.
        unsafe {
            libc::tcsetattr(0, libc::TCSANOW, &t);
        }
    }
    match read {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_hex_and_hashed() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        // printf %s abc | sha256sum
        assert_eq!(
            token_sha256("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn pgoptions_keep_what_was_there() {
        assert_eq!(pgoptions(None, "t"), "-c dbguard.approval=t");
        assert_eq!(pgoptions(Some("  "), "t"), "-c dbguard.approval=t");
        assert_eq!(
            pgoptions(Some("-c search_path=app"), "t"),
            "-c search_path=app -c dbguard.approval=t"
        );
    }

    #[test]
    fn credentials_replace_the_login() {
        assert_eq!(
            with_credentials(
                "postgres://app:***@db.internal:5432/shop?sslmode=require",
                "admin",
                "p@ss word"
            ),
            "postgres://db.internal:5432/shop?sslmode=require&user=admin&password=p%40ss%20word"
        );
        assert_eq!(
            with_credentials("postgresql:///shop?host=/run/pg&user=app", "admin", "x"),
            "postgresql:///shop?host=/run/pg&user=admin&password=x"
        );
        assert_eq!(
            with_credentials("host=h dbname=shop user=app password=***", "ad'min", "x"),
            "host=h dbname=shop user=app password=*** user='ad\\'min' password='x'"
        );
        // What tokio-postgres makes of them.
        let c: tokio_postgres::Config = with_credentials("postgres://app:***@h:5433/shop", "admin", "p@ss word")
            .parse()
            .unwrap();
        assert_eq!(c.get_user(), Some("admin"));
        assert_eq!(c.get_password(), Some("p@ss word".as_bytes()));
        assert_eq!(c.get_dbname(), Some("shop"));
        let c: tokio_postgres::Config = with_credentials("host=h dbname=shop user=app password=***", "admin", "x'y")
            .parse()
            .unwrap();
        assert_eq!(c.get_user(), Some("admin"));
        assert_eq!(c.get_password(), Some("x'y".as_bytes()));
    }

    proptest::proptest! {
        /// Whatever the owner's name and password, both connection string forms log in as
        /// exactly that, at the same place.
        #[test]
        fn any_credentials_survive_both_forms(user in "[a-zA-Z_][a-zA-Z0-9_ .'@:/?&=%-]{0,20}", password in "\\PC{0,30}") {
            for conn in ["postgres://app:***@db.example:6543/shop?sslmode=prefer", "host=db.example port=6543 dbname=shop user=app password=***"] {
                let c: tokio_postgres::Config = with_credentials(conn, &user, &password).parse().unwrap();
                proptest::prop_assert_eq!(c.get_user(), Some(user.as_str()));
                proptest::prop_assert_eq!(c.get_password(), Some(password.as_bytes()));
                proptest::prop_assert_eq!(c.get_dbname(), Some("shop"));
                proptest::prop_assert_eq!(c.get_ports(), &[6543]);
            }
        }
    }
}
