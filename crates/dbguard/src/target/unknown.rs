//! Targets that cannot be known from the command line, and places that are not this
//! machine's shell.
//!
//! A database named through a variable that is set nowhere, a value computed at run time,
//! a file sourced that cannot be read, a directory changed to at run time, or a command run
//! on another machine (`ssh HOST '...'`, `kubectl exec`): dbguard never guesses, and never
//! defaults such a target to development. Its environment is, in order:
//! 1. what the place says (`ssh prod-db`, kube context `prod-eks`, container `prod-db`):
//!    a `[[databases]]` entry matching one of its names, else a name saying prod or
//!    staging (the same rules as host names);
//! 2. otherwise the strictest of: the strictest environment dbguard.toml knows (production
//!    when any entry is production), the strictest database the project's env files name
//!    (`.env*` in the working directory: a database URL there classified like any target, or
//!    a file named for production or staging, `.env.production`, `.env.staging`...), and an
//!    `*_ENV` variable (inline, then the process environment) saying production or staging;
//! 3. otherwise unknown.
//!
//! A local container (`docker exec db psql`) is this machine: its target is resolved as
//! usual, and its names can only raise the environment.

use std::collections::BTreeMap;
use std::path::Path;

use dbguard_core::environment::{is_local_host, managed_provider, name_says_production, name_says_staging, ENV_VARS};
use dbguard_core::target::Place;
use dbguard_core::{Environment, TargetHint};

use super::classify::{self, Facts};
use super::envfiles::EnvFileCache;
use super::ResolvedTarget;
use crate::config::Config;

/// How strict an environment is, for "only raise" decisions.
pub fn rank(e: Environment) -> u8 {
    match e {
        Environment::Development => 0,
        Environment::Unknown => 1,
        Environment::Staging => 2,
        Environment::Production => 3,
    }
}

/// A decided environment, with the rule text and what a `[[databases]]` entry adds.
pub struct Decided {
    pub environment: Environment,
    pub rule: String,
    pub protected: bool,
    pub name: Option<String>,
}

fn config_file(config: &Config) -> String {
    config
        .path
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "dbguard.toml".into())
}

/// What the place a command runs in says about its environment.
pub fn place_environment(config: &Config, place: &Place) -> Option<Decided> {
    let names: Vec<String> = place.names.iter().map(|(_, n)| n.clone()).collect();
    if let Some(entry) = config.match_database(&names) {
        if entry.environment != Environment::Unknown {
            return Some(Decided {
                environment: entry.environment,
                rule: format!(
                    "{}: [[databases]] match = {:?} matches {}",
                    config_file(config),
                    entry.pattern,
                    place.describe()
                ),
                protected: entry.protected,
                name: entry.name.clone(),
            });
        }
    }
    for (role, n) in &place.names {
        let (environment, why) = if let Some(p) = managed_provider(n) {
            (Environment::Production, format!("a managed host ({p})"))
        } else if name_says_production(n) {
            (Environment::Production, "says prod".to_string())
        } else if name_says_staging(n) {
            (Environment::Staging, "says staging".to_string())
        } else {
            continue;
        };
        return Some(Decided {
            environment,
            rule: format!("the {role} {n} of {} {why}", place.via),
            protected: false,
            name: None,
        });
    }
    None
}

/// The strictest environment dbguard.toml names a database in.
fn strictest_configured(config: &Config) -> Option<Decided> {
    [Environment::Production, Environment::Staging]
        .into_iter()
        .find_map(|want| {
            config
                .databases
                .iter()
                .find(|d| d.environment == want)
                .map(|d| Decided {
                    environment: want,
                    rule: format!(
                        "the target is unknown: the strictest environment {} knows ([[databases]] match = {:?} is {})",
                        config_file(config),
                        d.pattern,
                        want.as_str()
                    ),
                    protected: false,
                    name: None,
                })
        })
}

/// Env files looked at for an unknown target, at most, and their largest size.
const MAX_ENV_FILES: usize = 32;
const MAX_ENV_FILE_BYTES: u64 = 256 * 1024;

/// The strictest database the project's env files (`.env*` in `cwd`) name: each value that
/// is a database URL, classified like any target, and each file named for production or
/// staging that names a database at all.
fn strictest_env_file(config: &Config, cwd: &Path) -> Option<Decided> {
    let mut names: Vec<String> = std::fs::read_dir(cwd)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| e.metadata().is_ok_and(|m| m.is_file() && m.len() <= MAX_ENV_FILE_BYTES))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".env") && n != ".envrc")
        .collect();
    names.sort();
    names.truncate(MAX_ENV_FILES);
    let mut cache = EnvFileCache::new(cwd);
    let none = BTreeMap::new();
    let mut best: Option<Decided> = None;
    for name in &names {
        let by_name = file_name_says(name);
        let Some(file) = cache.file(&cwd.join(name)) else {
            continue;
        };
        for (var, value) in &file.vars {
            let Ok(url) = url::Url::parse(value) else { continue };
            if !DB_SCHEMES.contains(&url.scheme()) {
                continue;
            }
            // The same parts a resolved target has (libpq's own reading for PostgreSQL).
            let parts = super::parse_parts(value, cwd, None);
            let shown = dbguard_core::redact::redact_url(value);
            let file = parts.file.as_ref().map(|f| f.display().to_string());
            let facts = Facts {
                display: Some(&shown),
                host: parts.host.as_deref(),
                port: parts.port,
                database: parts.database.as_deref(),
                file: file.as_deref(),
                is_sqlite: parts.engine == Some(dbguard_core::target::Engine::Sqlite),
                found: true,
                ..Facts::default()
            };
            let c = classify::classify(config, &facts, None, &none);
            let (environment, why) = match by_name {
                Some(e) if rank(e) > rank(c.environment) => (e, format!("the file's name says {}", e.as_str())),
                _ => (c.environment, c.rule),
            };
            if !matches!(environment, Environment::Production | Environment::Staging) {
                continue;
            }
            if best.as_ref().is_none_or(|b| rank(environment) > rank(b.environment)) {
                best = Some(Decided {
                    environment,
                    rule: format!(
                        "the target is unknown: the strictest database the project's env files name is {} ({name}: {var}={shown}; {why})",
                        environment.as_str()
                    ),
                    protected: false,
                    name: None,
                });
            }
        }
    }
    best
}

/// The environment an env file's name says (`.env.production`, `.env.prod.local`,
/// `.env-staging`), when it says production or staging.
fn file_name_says(name: &str) -> Option<Environment> {
    let rest = name.trim_start_matches(".env").trim_start_matches(['.', '-', '_']);
    let word = rest.split(['.', '-', '_']).next().unwrap_or("");
    Environment::from_name(word).filter(|e| matches!(e, Environment::Production | Environment::Staging))
}

/// URL schemes that make an env file's value a database URL (the engines `engine_of` knows,
/// and SQL Server and libSQL, whose hosts still say where they run).
const DB_SCHEMES: &[&str] = &[
    "postgres",
    "postgresql",
    "mysql",
    "mariadb",
    "mongodb",
    "mongodb+srv",
    "redis",
    "rediss",
    "sqlserver",
    "mssql",
    "libsql",
];

/// An `*_ENV` variable saying production or staging (inline first, then the process).
fn env_var_says(hint: &TargetHint, env: &BTreeMap<String, String>) -> Option<Decided> {
    for var in ENV_VARS {
        let inline = hint.env_var(var).map(|v| (v.to_string(), "on the command line"));
        let process = (!hint.vars.clean)
            .then(|| env.get(*var).map(|v| (v.clone(), "process environment")))
            .flatten();
        for (v, from) in inline.into_iter().chain(process) {
            if let Some(e @ (Environment::Production | Environment::Staging)) = Environment::from_name(&v) {
                return Some(Decided {
                    environment: e,
                    rule: format!("the target is unknown; {var}={v} ({from}) says {}", e.as_str()),
                    protected: false,
                    name: None,
                });
            }
        }
    }
    None
}

/// The environment for a target that cannot be known (never development by default).
pub fn decide(config: &Config, hint: &TargetHint, env: &BTreeMap<String, String>, cwd: Option<&Path>) -> Decided {
    if let Some(d) = hint.place.as_ref().and_then(|p| place_environment(config, p)) {
        return d;
    }
    // Another machine's files are not these: only a local unknown reads the project's.
    let local = hint.place.as_ref().is_none_or(|p| !p.remote);
    let files = cwd.filter(|_| local).and_then(|c| strictest_env_file(config, c));
    let candidates = [strictest_configured(config), files, env_var_says(hint, env)];
    if let Some(d) = candidates.into_iter().flatten().max_by_key(|d| rank(d.environment)) {
        return d;
    }
    Decided {
        environment: Environment::Unknown,
        rule: "the target is unknown, and neither dbguard.toml nor the project's env files name a production or staging database".into(),
        protected: false,
        name: None,
    }
}

/// A command run on another machine names its own database only through a URL or host
/// that means the same there (not `localhost`, a socket or libpq's defaults).
pub fn names_remote_database(hint: &TargetHint) -> bool {
    let url_host = hint
        .url
        .as_deref()
        .and_then(|u| url::Url::parse(u).ok())
        .and_then(|u| u.host_str().map(str::to_string));
    url_host
        .or_else(|| hint.host.clone())
        .is_some_and(|h| !is_local_host(&h) && !h.starts_with('/'))
}

/// The resolved target when the database cannot be known.
pub fn target(
    config: &Config,
    hint: &TargetHint,
    env: &BTreeMap<String, String>,
    tool: Option<String>,
    why: &str,
    cwd: &Path,
) -> ResolvedTarget {
    let d = decide(config, hint, env, Some(cwd));
    let warning = format!(
        "dbguard cannot tell which database this command reaches ({why}); it is treated as {} ({})",
        d.environment.as_str(),
        d.rule
    );
    ResolvedTarget {
        url: None,
        display: None,
        engine: hint.engine,
        host: None,
        port: None,
        user: None,
        database: None,
        file: None,
        tool,
        source: format!("unknown: {why}"),
        environment: d.environment,
        environment_rule: d.rule,
        protected: d.protected,
        name: d.name,
        related: Vec::new(),
        config_file: None,
        warnings: vec![warning],
        remembered: None,
        looked_for: Vec::new(),
        resource: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(via: &str, names: &[(&str, &str)]) -> Place {
        Place {
            via: via.into(),
            names: names.iter().map(|(r, n)| (r.to_string(), n.to_string())).collect(),
            remote: true,
        }
    }

    #[test]
    fn never_development_by_default() {
        let none = BTreeMap::new();
        let cfg = Config::default();
        assert_eq!(
            decide(&cfg, &TargetHint::default(), &none, None).environment,
            Environment::Unknown
        );
        let cfg = Config::parse(
            "[[databases]]\nmatch = \"localhost\"\nenvironment = \"development\"\n[[databases]]\nmatch = \"db.internal\"\nenvironment = \"production\"\n",
        )
        .unwrap();
        let d = decide(&cfg, &TargetHint::default(), &none, None);
        assert_eq!(d.environment, Environment::Production);
        assert!(d.rule.contains("strictest"), "{}", d.rule);
        // A place called prod decides; a place dbguard.toml names decides first.
        let h = TargetHint {
            place: Some(place("ssh", &[("host", "prod-bastion")])),
            ..Default::default()
        };
        assert_eq!(
            decide(&Config::default(), &h, &none, None).environment,
            Environment::Production
        );
        let h = TargetHint {
            place: Some(place("kubectl exec", &[("context", "stage-eu"), ("pod", "api-0")])),
            ..Default::default()
        };
        assert_eq!(
            decide(&Config::default(), &h, &none, None).environment,
            Environment::Staging
        );
        let cfg = Config::parse("[[databases]]\nmatch = \"dev-vm\"\nenvironment = \"development\"\n").unwrap();
        let h = TargetHint {
            place: Some(place("ssh", &[("host", "dev-vm")])),
            ..Default::default()
        };
        assert_eq!(decide(&cfg, &h, &none, None).environment, Environment::Development);
        // An environment variable raises, never lowers.
        let env = BTreeMap::from([("NODE_ENV".to_string(), "development".to_string())]);
        assert_eq!(
            decide(&Config::default(), &TargetHint::default(), &env, None).environment,
            Environment::Unknown
        );
        let env = BTreeMap::from([("RAILS_ENV".to_string(), "production".to_string())]);
        assert_eq!(
            decide(&Config::default(), &TargetHint::default(), &env, None).environment,
            Environment::Production
        );
    }

    #[test]
    fn the_project_env_files_decide_an_unknown_target() {
        let none = BTreeMap::new();
        let dir = tempfile::tempdir().unwrap();
        let at = |d: &tempfile::TempDir| decide(&Config::default(), &TargetHint::default(), &none, Some(d.path()));
        std::fs::write(
            dir.path().join(".env"),
            "DATABASE_URL=postgres://app:pw@localhost:5432/app_dev\n",
        )
        .unwrap();
        assert_eq!(at(&dir).environment, Environment::Unknown);
        std::fs::write(
            dir.path().join(".env.production"),
            "DATABASE_URL=postgres://app:pw@db.internal.example.com:5432/app\n",
        )
        .unwrap();
        let d = at(&dir);
        assert_eq!(d.environment, Environment::Production, "{}", d.rule);
        assert!(
            d.rule.contains(".env.production") && !d.rule.contains("pw@"),
            "{}",
            d.rule
        );

        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".env.staging"), "DB_URL=mysql://u@localhost/shop\n").unwrap();
        std::fs::write(dir.path().join(".env.test"), "DATABASE_URL=postgres://prod-db/x\n").unwrap();
        std::fs::write(dir.path().join(".envrc"), "export DATABASE_URL=postgres://prod-db/x\n").unwrap();
        assert_eq!(
            at(&dir).environment,
            Environment::Production,
            "a host named prod decides, in any file"
        );
        std::fs::remove_file(dir.path().join(".env.test")).unwrap();
        assert_eq!(
            at(&dir).environment,
            Environment::Staging,
            ".env.staging names a database"
        );

        // A command run on another machine does not read this project's files.
        let mut remote = TargetHint::default();
        remote.place = Some(Place {
            remote: true,
            ..Place::default()
        });
        assert_eq!(
            decide(&Config::default(), &remote, &none, Some(dir.path())).environment,
            Environment::Unknown
        );
    }
}
