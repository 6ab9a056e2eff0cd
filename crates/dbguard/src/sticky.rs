//! Sticky classification: a database once classified production (or protected) stays so,
//! whatever dbguard.toml says later, until a person lowers it with an approval.
//!
//! Why: the classification comes from a file in the project, which an agent can edit (its
//! file tools are denied on dbguard.toml by the hooks, but a script it writes is not). So
//! every time a door resolves a target that is production or protected, dbguard remembers
//! it under `<data dir>/classifications/<hash of the identity>.json` (signed like
//! approvals, `signing.rs`), keyed by a stable identity: `postgres://host:port/db` (host
//! lower-cased, local addresses and sockets as `localhost`, the default port filled in) or
//! `sqlite:<canonical path>`. Later resolutions that say less are raised back, and say so.
//!
//! Lowering: `dbguard classify <target> <environment>` (or `--unprotect`) creates an
//! approval request carrying the change ([`Lowering`]); `dbguard approve CODE`, typed by a
//! person at a terminal with no agent behind it, applies it.
//!
//! A forged record can only raise a classification (harmless); a deleted one forgets it:
//! a process of the same user can delete files, which is why the README names the
//! in-database guard as what closes the rest.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use dbguard_core::target::Engine;
use dbguard_core::Environment;
use serde::{Deserialize, Serialize};

use crate::signing::{self, Kind};
use crate::target::ResolvedTarget;

/// What is remembered about one database.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Remembered {
    pub identity: String,
    /// Redacted URL or path, for people.
    pub display: String,
    /// `production` when it was seen as production (and not lowered since).
    #[serde(default)]
    pub production: bool,
    #[serde(default)]
    pub protected: bool,
    pub since_unix: i64,
    /// The rule that classified it when it was first remembered.
    pub rule: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
}

/// A person's request to lower what is remembered (carried by an approval record).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lowering {
    pub identity: String,
    pub display: String,
    /// Forget `production` (the environment then comes from dbguard.toml and the rules).
    pub drop_production: bool,
    /// Forget `protected`.
    pub drop_protected: bool,
    /// What the person asked for, for messages (`development`, `--unprotect`...).
    pub asked: String,
}

/// When the remembered classification raised what the rules said, for reports.
#[derive(Debug, Clone, Serialize)]
pub struct Override {
    pub identity: String,
    /// What dbguard.toml and the other rules say now.
    pub rules_say: String,
    pub rules_protected: bool,
    /// Remembered since (RFC 3339).
    pub since: String,
    /// The rule that classified it then.
    pub first_rule: String,
    /// The command that asks a person to lower it.
    pub lower_with: String,
}

/// The stable identity of a target, when it has one.
pub fn identity(t: &ResolvedTarget) -> Option<String> {
    match t.engine? {
        Engine::Sqlite => {
            let f = t.file.as_ref()?;
            let canon = std::fs::canonicalize(f).unwrap_or_else(|_| f.clone());
            Some(format!("sqlite:{}", canon.display()))
        }
        e @ (Engine::Postgres | Engine::Mysql) => {
            let db = t.database.as_deref().filter(|d| !d.is_empty())?;
            let (scheme, default_port) = if e == Engine::Postgres {
                ("postgres", 5432)
            } else {
                ("mysql", 3306)
            };
            let host = t.host.as_deref().unwrap_or("localhost").to_ascii_lowercase();
            let host = if host.starts_with('/') || matches!(host.as_str(), "127.0.0.1" | "::1" | "[::1]") {
                "localhost".to_string()
            } else {
                host
            };
            Some(format!("{scheme}://{host}:{}/{db}", t.port.unwrap_or(default_port)))
        }
        _ => None,
    }
}

/// `<data dir>/classifications`.
pub fn dir() -> PathBuf {
    crate::config::data_dir().join("classifications")
}

fn file_of(dir: &Path, identity: &str) -> PathBuf {
    dir.join(format!("{}.json", &blake3::hash(identity.as_bytes()).to_hex()[..32]))
}

/// The remembered record for an identity, if dbguard wrote it (a record whose signature
/// does not match is ignored).
pub fn load(dir: &Path, identity: &str) -> Option<Remembered> {
    let text = std::fs::read_to_string(file_of(dir, identity)).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    let secret = signing::secret_for(dir).ok()?;
    if !signing::verify_with(&secret, Kind::Classification, &value) {
        return None;
    }
    let r: Remembered = serde_json::from_value(value).ok()?;
    (r.identity == identity).then_some(r)
}

fn store(dir: &Path, r: &Remembered) -> anyhow::Result<()> {
    crate::audit::private_dir(dir).with_context(|| format!("creating {}", dir.display()))?;
    signing::write_signed(
        Kind::Classification,
        &file_of(dir, &r.identity),
        serde_json::to_value(r)?,
    )
}

/// Remember what `t` is now, and raise it to what was remembered. Never fails: a data
/// directory that cannot be written only means nothing new is remembered.
pub fn apply(t: &mut ResolvedTarget) {
    apply_in(&dir(), t)
}

pub fn apply_in(dir: &Path, t: &mut ResolvedTarget) {
    let Some(id) = identity(t) else { return };
    let stored = load(dir, &id);
    let is_prod = t.environment == Environment::Production;
    let now_raises = stored.as_ref().map_or(is_prod || t.protected, |s| {
        (is_prod && !s.production) || (t.protected && !s.protected)
    });
    if now_raises {
        let r = Remembered {
            identity: id.clone(),
            display: t.display.clone().unwrap_or_else(|| id.clone()),
            production: is_prod || stored.as_ref().is_some_and(|s| s.production),
            protected: t.protected || stored.as_ref().is_some_and(|s| s.protected),
            since_unix: stored
                .as_ref()
                .map(|s| s.since_unix)
                .unwrap_or_else(crate::snapshot::store::now_unix),
            rule: stored
                .as_ref()
                .map(|s| s.rule.clone())
                .unwrap_or_else(|| t.environment_rule.clone()),
            mac: None,
        };
        let _ = store(dir, &r);
        return;
    }
    let Some(s) = stored else { return };
    let raise_env = s.production && !is_prod;
    let raise_protected = s.protected && !t.protected;
    if !raise_env && !raise_protected {
        return;
    }
    let rules_say = format!("{} ({})", t.environment.as_str(), t.environment_rule);
    let lower_with = lower_command(&id, raise_env.then_some(t.environment), raise_protected);
    let since = crate::snapshot::store::rfc3339(s.since_unix);
    let over = Override {
        identity: id.clone(),
        rules_say: rules_say.clone(),
        rules_protected: t.protected,
        since: since.clone(),
        first_rule: s.rule.clone(),
        lower_with: lower_with.clone(),
    };
    let what = match (raise_env, raise_protected) {
        (true, true) => "production and protected",
        (true, false) => "production",
        _ => "protected",
    };
    if raise_env {
        t.environment = Environment::Production;
        t.environment_rule = format!(
            "remembered: classified production since {since} ({}); only a person can lower it",
            s.rule
        );
    }
    if raise_protected {
        t.protected = true;
    }
    t.warnings.push(format!(
        "dbguard remembers this database as {what} (since {since}), but the rules now say {rules_say}: the \
remembered classification stays until a person lowers it with `{lower_with}` and `dbguard approve <code>`"
    ));
    t.remembered = Some(over);
}

/// `dbguard classify <identity> <env>` (and `--unprotect`).
fn lower_command(identity: &str, env: Option<Environment>, unprotect: bool) -> String {
    let mut s = format!("dbguard classify {}", dbguard_core::shell::words::shell_quote(identity));
    if let Some(e) = env {
        s.push(' ');
        s.push_str(e.as_str());
    }
    if unprotect {
        s.push_str(" --unprotect");
    }
    s
}

/// Raise what is remembered (anyone may: raising only makes dbguard stricter).
pub fn raise(
    identity: &str,
    display: &str,
    production: bool,
    protected: bool,
    rule: &str,
) -> anyhow::Result<Remembered> {
    let dir = dir();
    let old = load(&dir, identity);
    let r = Remembered {
        identity: identity.to_string(),
        display: old
            .as_ref()
            .map(|o| o.display.clone())
            .unwrap_or_else(|| display.to_string()),
        production: production || old.as_ref().is_some_and(|o| o.production),
        protected: protected || old.as_ref().is_some_and(|o| o.protected),
        since_unix: old
            .as_ref()
            .map(|o| o.since_unix)
            .unwrap_or_else(crate::snapshot::store::now_unix),
        rule: old.as_ref().map(|o| o.rule.clone()).unwrap_or_else(|| rule.to_string()),
        mac: None,
    };
    store(&dir, &r)?;
    Ok(r)
}

/// Apply a person's lowering (called by `dbguard approve` after the typed confirmation).
pub fn lower(l: &Lowering) -> anyhow::Result<String> {
    lower_in(&dir(), l)
}

pub fn lower_in(dir: &Path, l: &Lowering) -> anyhow::Result<String> {
    let Some(mut r) = load(dir, &l.identity) else {
        bail!("dbguard remembers nothing about {} (nothing to lower)", l.display);
    };
    if l.drop_production {
        r.production = false;
    }
    if l.drop_protected {
        r.protected = false;
    }
    if !r.production && !r.protected {
        let path = file_of(dir, &l.identity);
        std::fs::remove_file(&path).map_err(|e| anyhow!("removing {}: {e}", path.display()))?;
        return Ok(format!(
            "dbguard no longer remembers {} as production or protected: dbguard.toml and the rules decide again",
            l.display
        ));
    }
    r.mac = None;
    store(dir, &r)?;
    Ok(format!(
        "{} is now remembered as{}{}",
        l.display,
        if r.production { " production" } else { "" },
        if r.protected { " protected" } else { "" }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(env: Environment, protected: bool) -> ResolvedTarget {
        ResolvedTarget {
            url: Some("postgres://u:secret@DB.Example.com/app".into()),
            display: Some("postgres://u:***@DB.Example.com/app".into()),
            engine: Some(Engine::Postgres),
            host: Some("DB.Example.com".into()),
            port: None,
            user: Some("u".into()),
            database: Some("app".into()),
            file: None,
            tool: None,
            source: "test".into(),
            environment: env,
            environment_rule: format!("rule says {}", env.as_str()),
            protected,
            name: None,
            related: Vec::new(),
            config_file: None,
            warnings: Vec::new(),
            remembered: None,
            looked_for: Vec::new(),
            resource: None,
        }
    }

    #[test]
    fn production_sticks_until_lowered() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("classifications");
        assert_eq!(
            identity(&target(Environment::Unknown, false)).as_deref(),
            Some("postgres://db.example.com:5432/app")
        );
        // Development, never production: nothing remembered, nothing raised.
        let mut t = target(Environment::Development, false);
        apply_in(&dir, &mut t);
        assert_eq!(t.environment, Environment::Development);
        assert!(!dir.exists());
        // Seen as production once...
        let mut t = target(Environment::Production, false);
        apply_in(&dir, &mut t);
        assert!(t.remembered.is_none());
        // ...then dbguard.toml says development: raised back, and said so.
        let mut t = target(Environment::Development, false);
        apply_in(&dir, &mut t);
        assert_eq!(t.environment, Environment::Production);
        let o = t.remembered.clone().expect("override reported");
        assert!(o.lower_with.contains("dbguard classify") && o.lower_with.contains("development"));
        assert!(t.environment_rule.starts_with("remembered"), "{}", t.environment_rule);
        assert!(!t.warnings.is_empty());
        // Protected sticks too, independently.
        let mut t = target(Environment::Production, true);
        apply_in(&dir, &mut t);
        let mut t = target(Environment::Development, false);
        apply_in(&dir, &mut t);
        assert!(t.protected && t.environment == Environment::Production);
        // A hand-edited record is ignored (it could only have raised anyway).
        let path = file_of(&dir, "postgres://db.example.com:5432/app");
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace("\"protected\": true", "\"protected\": false")).unwrap();
        assert!(load(&dir, "postgres://db.example.com:5432/app").is_none());
        std::fs::write(&path, text).unwrap();
        // Lowered by a person: production forgotten, protected kept.
        let l = Lowering {
            identity: "postgres://db.example.com:5432/app".into(),
            display: "app".into(),
            drop_production: true,
            drop_protected: false,
            asked: "development".into(),
        };
        lower_in(&dir, &l).unwrap();
        let mut t = target(Environment::Development, false);
        apply_in(&dir, &mut t);
        assert_eq!(t.environment, Environment::Development);
        assert!(t.protected);
        let l = Lowering {
            drop_production: false,
            drop_protected: true,
            ..l
        };
        lower_in(&dir, &l).unwrap();
        let mut t = target(Environment::Development, false);
        apply_in(&dir, &mut t);
        assert!(!t.protected && t.remembered.is_none());
        assert!(lower_in(&dir, &l).is_err(), "nothing left to lower");
    }

    #[test]
    fn identities() {
        let mut t = target(Environment::Unknown, false);
        t.host = None;
        t.port = Some(5433);
        assert_eq!(identity(&t).as_deref(), Some("postgres://localhost:5433/app"));
        t.host = Some("/var/run/postgresql".into());
        assert_eq!(identity(&t).as_deref(), Some("postgres://localhost:5433/app"));
        t.database = None;
        assert_eq!(identity(&t), None);
        t.engine = Some(Engine::Mongo);
        assert_eq!(identity(&t), None);
    }
}
