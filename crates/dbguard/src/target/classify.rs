//! Which environment a resolved database is in, and the traps worth a warning.
//!
//! Rules, first match wins, and the rule text is recorded:
//! 1. `dbguard.toml` `[[databases]]` entries (an entry with `environment = "unknown"`
//!    only names/protects the database and lets the later rules decide);
//! 2. `NODE_ENV`, `RAILS_ENV`, `RACK_ENV`, `APP_ENV`, `DJANGO_ENV`, `FLASK_ENV`,
//!    `ENVIRONMENT`, `ENV`, `STAGE`: inline on the command line first, then the process
//!    environment; values that are not environment names are skipped. (Variables set
//!    only in `.env` files are not consulted, except one: Laravel's `APP_ENV` from its
//!    env file (`Facts::file_env`), since that file is where Laravel apps set it, and
//!    only to raise caution: `production` decides; `staging` decides unless the URL
//!    says production; `local`/`development` is ignored, so a line in a file never
//!    makes a database look safer than its URL.
//! 3. the URL: SQLite files and local hosts/sockets/compose service names are
//!    development, managed services and names saying prod are production, names
//!    saying staging are staging (see `dbguard_core::environment::classify_host`);
//!    with an unknown host, a database name saying prod or staging decides.
//! 4. otherwise unknown.

use std::collections::BTreeMap;

use dbguard_core::environment::{
    classify_host, host_looks_production, name_says_production, name_says_staging, ENV_VARS,
};
use dbguard_core::{Environment, TargetHint};

use crate::config::Config;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classification {
    pub environment: Environment,
    pub rule: String,
    pub protected: bool,
    pub name: Option<String>,
}

/// What is known about the target, for matching and the URL rule.
#[derive(Debug, Clone, Default)]
pub struct Facts<'a> {
    /// Redacted URL or file path.
    pub display: Option<&'a str>,
    pub host: Option<&'a str>,
    pub port: Option<u16>,
    pub database: Option<&'a str>,
    /// SQLite file (absolute).
    pub file: Option<&'a str>,
    pub is_sqlite: bool,
    /// Whether a target was found at all.
    pub found: bool,
    /// An environment variable read from an env file by the tool itself (Laravel's
    /// `APP_ENV` in `.env`): (variable, value, file).
    pub file_env: Option<(&'a str, &'a str, &'a str)>,
}

pub fn classify(
    config: &Config,
    facts: &Facts<'_>,
    hint: Option<&TargetHint>,
    env: &BTreeMap<String, String>,
) -> Classification {
    let mut protected = false;
    let mut name = None;
    if facts.found {
        let mut candidates: Vec<String> = Vec::new();
        candidates.extend(facts.display.map(str::to_string));
        candidates.extend(facts.host.map(str::to_string));
        candidates.extend(facts.database.map(str::to_string));
        if let (Some(h), Some(d)) = (facts.host, facts.database) {
            candidates.push(format!("{h}/{d}"));
            if let Some(p) = facts.port {
                candidates.push(format!("{h}:{p}/{d}"));
            }
        }
        if let Some(f) = facts.file {
            candidates.push(f.to_string());
            if let Some(n) = std::path::Path::new(f).file_name() {
                candidates.push(n.to_string_lossy().into_owned());
            }
        }
        if let Some(entry) = config.match_database(&candidates) {
            protected = entry.protected;
            name = entry.name.clone();
            if entry.environment != Environment::Unknown {
                return Classification {
                    environment: entry.environment,
                    rule: entry_rule(config, &entry.pattern),
                    protected,
                    name,
                };
            }
        }
    }
    let done = |environment, rule: String| Classification {
        environment,
        rule,
        protected,
        name: name.clone(),
    };
    let inline = hint.map(|h| h.env.as_slice()).unwrap_or(&[]);
    for var in ENV_VARS {
        if let Some((_, v)) = inline.iter().rev().find(|(k, _)| k == var) {
            if let Some(e) = Environment::from_name(v).filter(|e| *e != Environment::Unknown) {
                let from = hint
                    .and_then(|h| h.vars.origin(var))
                    .map_or_else(|| "inline on the command line".to_string(), |o| format!("from {o}"));
                return done(e, format!("{var}={v} ({from})"));
            }
        }
    }
    for var in ENV_VARS {
        if let Some(v) = env.get(*var) {
            if let Some(e) = Environment::from_name(v).filter(|e| *e != Environment::Unknown) {
                return done(e, format!("{var}={v} (process environment)"));
            }
        }
    }
    let mut file_staging = None;
    if let Some((var, v, file)) = facts.file_env {
        match Environment::from_name(v) {
            Some(Environment::Production) => return done(Environment::Production, format!("{var}={v} ({file})")),
            Some(Environment::Staging) => file_staging = Some(format!("{var}={v} ({file})")),
            _ => {}
        }
    }
    let (environment, rule) = by_url(facts);
    match file_staging {
        Some(rule) if environment != Environment::Production => done(Environment::Staging, rule),
        _ => done(environment, rule),
    }
}

/// How a `[[databases]]` entry that decided is named in reports.
pub fn entry_rule(config: &Config, pattern: &str) -> String {
    let file = config
        .path
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "dbguard.toml".into());
    format!("{file}: [[databases]] match = {pattern:?}")
}

/// Rule 3: what the URL (or its absence) says.
fn by_url(facts: &Facts<'_>) -> (Environment, String) {
    if !facts.found {
        return (Environment::Unknown, "no database found".into());
    }
    if facts.is_sqlite {
        return (Environment::Development, "SQLite file (local)".into());
    }
    let host = facts.host.unwrap_or("");
    if let Some(c) = classify_host(host) {
        let shown = if host.is_empty() { "(none)" } else { host };
        return (c.environment, format!("host {shown}: {}", c.reason));
    }
    if let Some(db) = facts.database {
        if name_says_production(db) {
            return (Environment::Production, format!("database name {db} says prod"));
        }
        if name_says_staging(db) {
            return (Environment::Staging, format!("database name {db} says staging"));
        }
    }
    (Environment::Unknown, "no rule matched (host not recognised)".into())
}

/// "development" by configuration or variable, but the target looks like production.
pub fn trap_warnings(c: &Classification, facts: &Facts<'_>) -> Vec<String> {
    let mut out = Vec::new();
    if c.environment != Environment::Development || !facts.found {
        return out;
    }
    if let Some(host) = facts.host.filter(|h| !facts.is_sqlite && host_looks_production(h)) {
        let why = classify_host(host).map(|h| h.reason).unwrap_or_default();
        out.push(format!(
            "environment is development ({}) but the host {host} looks like production ({why})",
            c.rule
        ));
    }
    let name = facts.database.or(facts
        .file
        .and_then(|f| std::path::Path::new(f).file_name().and_then(|n| n.to_str())));
    if let Some(db) = name.filter(|d| name_says_production(d)) {
        out.push(format!(
            "the database name {db} says production, but the environment is development ({})",
            c.rule
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts<'a>(host: &'a str, db: &'a str) -> Facts<'a> {
        Facts {
            display: None,
            host: Some(host),
            port: Some(5432),
            database: Some(db),
            file: None,
            is_sqlite: false,
            found: true,
            file_env: None,
        }
    }

    fn hint(env: &[(&str, &str)]) -> TargetHint {
        TargetHint {
            env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn order_of_rules() {
        let cfg = Config::parse(
            "[[databases]]\nmatch = \"app_main\"\nenvironment = \"production\"\nprotected = true\nname = \"main\"\n",
        )
        .unwrap();
        let none = BTreeMap::new();
        // 1. toml wins over everything.
        let c = classify(
            &cfg,
            &facts("localhost", "app_main"),
            Some(&hint(&[("NODE_ENV", "development")])),
            &none,
        );
        assert_eq!(c.environment, Environment::Production);
        assert!(c.protected && c.name.as_deref() == Some("main"));
        assert!(c.rule.contains("[[databases]]"), "{}", c.rule);
        // 2. inline variable before the process environment.
        let env = BTreeMap::from([("NODE_ENV".to_string(), "production".to_string())]);
        let c = classify(
            &cfg,
            &facts("localhost", "x"),
            Some(&hint(&[("RAILS_ENV", "staging")])),
            &env,
        );
        assert_eq!(c.environment, Environment::Staging);
        assert_eq!(c.rule, "RAILS_ENV=staging (inline on the command line)");
        let c = classify(&cfg, &facts("localhost", "x"), None, &env);
        assert_eq!(
            (c.environment, c.rule.as_str()),
            (Environment::Production, "NODE_ENV=production (process environment)")
        );
        // Values that are no environment are skipped.
        let env = BTreeMap::from([("ENV".to_string(), "/home/u/.shrc".to_string())]);
        assert_eq!(
            classify(&cfg, &facts("localhost", "x"), None, &env).environment,
            Environment::Development
        );
        // 3. the URL.
        let c = classify(&cfg, &facts("ep-x.eu-central-1.aws.neon.tech", "neondb"), None, &none);
        assert_eq!(c.environment, Environment::Production);
        assert!(c.rule.contains("Neon"), "{}", c.rule);
        assert_eq!(
            classify(&cfg, &facts("db.example.com", "shop_prod"), None, &none).environment,
            Environment::Production
        );
        assert_eq!(
            classify(&cfg, &facts("db.example.com", "shop"), None, &none).environment,
            Environment::Unknown
        );
        let sqlite = Facts {
            file: Some("/p/dev.db"),
            is_sqlite: true,
            found: true,
            ..Default::default()
        };
        assert_eq!(
            classify(&cfg, &sqlite, None, &none).environment,
            Environment::Development
        );
        let nothing = Facts::default();
        assert_eq!(classify(&cfg, &nothing, None, &none).environment, Environment::Unknown);
    }

    #[test]
    fn env_file_app_env_only_raises_caution() {
        let cfg = Config::default();
        let none = BTreeMap::new();
        let with = |host: &'static str, v: &'static str| Facts {
            file_env: Some(("APP_ENV", v, ".env")),
            ..facts(host, "app")
        };
        let c = classify(&cfg, &with("localhost", "production"), None, &none);
        assert_eq!(
            (c.environment, c.rule.as_str()),
            (Environment::Production, "APP_ENV=production (.env)")
        );
        assert_eq!(
            classify(&cfg, &with("db.example.com", "staging"), None, &none).environment,
            Environment::Staging
        );
        assert_eq!(
            classify(&cfg, &with("x.abc.eu-west-1.rds.amazonaws.com", "staging"), None, &none).environment,
            Environment::Production
        );
        // `local` in a file does not make an unknown host development.
        assert_eq!(
            classify(&cfg, &with("db.example.com", "local"), None, &none).environment,
            Environment::Unknown
        );
        // The process environment still comes first.
        let env = BTreeMap::from([("APP_ENV".to_string(), "local".to_string())]);
        assert_eq!(
            classify(&cfg, &with("localhost", "production"), None, &env).environment,
            Environment::Development
        );
    }

    #[test]
    fn toml_entry_without_environment_only_protects() {
        let cfg = Config::parse("[[databases]]\nmatch = \"*.internal\"\nprotected = true\n").unwrap();
        let c = classify(&cfg, &facts("db.internal", "app"), None, &BTreeMap::new());
        assert!(c.protected);
        assert_eq!(c.environment, Environment::Unknown);
    }

    #[test]
    fn traps() {
        let cfg = Config::default();
        let env = BTreeMap::from([("NODE_ENV".to_string(), "development".to_string())]);
        let f = facts("mydb.abc.us-east-1.rds.amazonaws.com", "app");
        let c = classify(&cfg, &f, None, &env);
        let w = trap_warnings(&c, &f);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("AWS RDS"), "{w:?}");
        let f = facts("localhost", "app_production");
        let c = classify(&cfg, &f, None, &BTreeMap::new());
        assert_eq!(c.environment, Environment::Development);
        assert_eq!(trap_warnings(&c, &f).len(), 1);
        assert!(trap_warnings(&c, &facts("localhost", "app")).is_empty());
    }
}
