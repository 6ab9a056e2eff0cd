//! Installing, upgrading and removing the guard, each in one transaction: either all of it
//! is in place afterwards or nothing changed.

use anyhow::{anyhow, bail};
use serde::{Deserialize, Serialize};

use super::status::{self, GuardStatus};
use super::{Session, INSTALL_SQL, LEFTOVERS_SQL, UNINSTALL_SQL, UPGRADE_STEPS, VERSION};

/// How long installing waits for a table's lock (adding a trigger takes a SHARE ROW
/// EXCLUSIVE lock): on a busy table, better a clear error than a queue behind it.
const LOCK_TIMEOUT: &str = "10s";

#[derive(Debug, Clone, Default)]
pub struct InstallOptions {
    /// Replace an older guard version in place.
    pub upgrade: bool,
    /// Create/grant the dbguard_reader role (when the installing role may).
    pub reader: bool,
    /// Roles to grant dbguard_reader to; empty: the non-superuser login roles owning tables.
    pub app_roles: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Installed {
    /// installed | repaired | upgraded
    pub action: &'static str,
    pub previous_version: Option<i32>,
    pub version: i32,
    pub status: GuardStatus,
}

/// What an uninstall left behind: all zeros is the proof that nothing is.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Leftovers {
    pub schema: i64,
    pub event_triggers: i64,
    pub table_triggers: i64,
    pub functions: i64,
    pub tables: i64,
}

impl Leftovers {
    pub fn none(&self) -> bool {
        *self
            == Leftovers {
                schema: 0,
                event_triggers: 0,
                table_triggers: 0,
                functions: 0,
                tables: 0,
            }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Removed {
    pub version: i32,
    pub leftovers: Leftovers,
}

/// A SQL string literal.
fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Install (or repair, or with `upgrade` replace an older version of) the guard.
pub fn install(s: &Session, opts: &InstallOptions) -> anyhow::Result<Installed> {
    let before = s.installed_version()?;
    match before {
        Some(v) if v > VERSION => bail!(
            "the guard installed here is version {v}, newer than this dbguard's (version {VERSION}): use the dbguard release that installed it"
        ),
        Some(v) if v < VERSION && !opts.upgrade => bail!(
            "an older guard (version {v}) is installed: replace it in place with `dbguard protect --upgrade`"
        ),
        None if opts.upgrade => bail!("no guard is installed here, so there is nothing to upgrade: install it with `dbguard protect`"),
        _ => {}
    }
    for role in &opts.app_roles {
        if role.trim().is_empty() || role.contains(',') {
            bail!("--app-role {role:?} is not a role name");
        }
    }
    let mut sql = format!("BEGIN;\nSET LOCAL lock_timeout = {};\n", literal(LOCK_TIMEOUT));
    sql.push_str(&format!(
        "SELECT set_config('dbguard.install_upgrade', {}, true), set_config('dbguard.install_reader', {}, true), set_config('dbguard.install_app_roles', {}, true);\n",
        literal(if opts.upgrade { "on" } else { "off" }),
        literal(if opts.reader { "on" } else { "off" }),
        literal(&opts.app_roles.join(","))
    ));
    if let Some(from) = before.filter(|v| *v < VERSION) {
        for (_, step) in UPGRADE_STEPS.iter().filter(|(v, _)| *v >= from) {
            sql.push_str(step);
            sql.push('\n');
        }
    }
    sql.push_str(INSTALL_SQL);
    sql.push_str("\nCOMMIT;\n");
    if let Err(e) = s.rt.block_on(s.client.batch_execute(&sql)) {
        let _ = s.batch("ROLLBACK");
        return Err(explain_install_error(s, &e));
    }
    let status = status::read(s)?.ok_or_else(|| anyhow!("the guard was installed but cannot be read back"))?;
    let action = match before {
        None => "installed",
        Some(v) if v < VERSION => "upgraded",
        Some(_) => "repaired",
    };
    Ok(Installed {
        action,
        previous_version: before,
        version: VERSION,
        status,
    })
}

fn current_user(s: &Session) -> String {
    s.query("SELECT current_user::text, current_database()::text", &[])
        .ok()
        .and_then(|r| {
            r.first()
                .map(|r| format!("{} in database {}", r.get::<_, String>(0), r.get::<_, String>(1)))
        })
        .unwrap_or_else(|| "this role".into())
}

fn explain_install_error(s: &Session, e: &tokio_postgres::Error) -> anyhow::Error {
    let base = super::pg_message(e);
    match super::sqlstate(e).as_deref() {
        Some("42501") => anyhow!(
            "{base}: the role ({}) may not install the guard: connect as the database owner or a superuser with --url (only a superuser can add the event triggers that refuse DROP); nothing was installed",
            current_user(s)
        ),
        Some("55P03") => anyhow!(
            "{base}: a table stayed locked by another session for {LOCK_TIMEOUT} (installing adds triggers, which waits for running writes); retry when it is quieter; nothing was installed"
        ),
        _ => anyhow!("{base}; nothing was installed (the transaction was rolled back)"),
    }
}

/// Remove the guard; the leftovers query proves nothing stayed.
pub fn uninstall(s: &Session) -> anyhow::Result<Removed> {
    let Some(version) = s.installed_version()? else {
        bail!("no dbguard guard is installed in this database: there is nothing to remove");
    };
    if version > VERSION {
        bail!("the guard installed here is version {version}, newer than this dbguard's (version {VERSION}): remove it with the dbguard release that installed it");
    }
    let sql = format!(
        "BEGIN;\nSET LOCAL lock_timeout = {};\n{UNINSTALL_SQL}\nCOMMIT;\n",
        literal(LOCK_TIMEOUT)
    );
    if let Err(e) = s.rt.block_on(s.client.batch_execute(&sql)) {
        let _ = s.batch("ROLLBACK");
        let base = super::pg_message(&e);
        let owner = s
            .query("SELECT owner::text FROM dbguard.installation", &[])
            .ok()
            .and_then(|r| r.first().map(|r| r.get::<_, String>(0)));
        return Err(match (super::sqlstate(&e).as_deref(), owner) {
            (Some("42501"), Some(owner)) => anyhow!(
                "{base}: the guard was installed by {owner}; remove it as {owner} or a superuser (--url); nothing was removed"
            ),
            _ => anyhow!("{base}; nothing was removed (the transaction was rolled back)"),
        });
    }
    Ok(Removed {
        version,
        leftovers: leftovers(s)?,
    })
}

/// Counts of everything a guard could have left.
pub fn leftovers(s: &Session) -> anyhow::Result<Leftovers> {
    let rows = s.query(LEFTOVERS_SQL.trim().trim_end_matches(';'), &[])?;
    let text: String = rows
        .first()
        .ok_or_else(|| anyhow!("no answer to the leftovers query"))?
        .get(0);
    serde_json::from_str(&text).map_err(|e| anyhow!("reading the leftovers: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_are_quoted() {
        assert_eq!(literal("a'b"), "'a''b'");
        assert_eq!(literal(""), "''");
    }
}
