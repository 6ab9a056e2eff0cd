//! Targets that are not connections: a database a command deletes through its provider
//! or an infrastructure tool (`aws rds delete-db-instance`, `terraform destroy`,
//! `kubectl delete pvc`), or a data directory on this machine. The command names the
//! resource (the core's `TargetHint::resource`); there is no URL to find and nothing
//! dbguard can snapshot.
//!
//! Environment, first match wins:
//! 1. `dbguard.toml` `[[databases]]` entries matched against the resource's name, its
//!    context (`prod` profile, `production` stack, namespace...) and `provider/name`;
//! 2. a name or context that says prod (production) or staging, else the working
//!    directory's last two components (`infra/prod`, `envs/staging`);
//! 3. `NODE_ENV`-style variables, inline then the process environment, but only when they
//!    say production or staging: a developer's shell saying `development` says nothing
//!    about a cloud database;
//! 4. on this machine (a data directory, a local Docker volume): development;
//! 5. otherwise unknown (treated as holding real data).

use std::collections::BTreeMap;

use dbguard_core::environment::{name_says_production, name_says_staging, ENV_VARS};
use dbguard_core::target::Resource;
use dbguard_core::{Environment, TargetHint};

use super::ResolvedTarget;
use crate::config::Config;

pub fn resolve(
    res: &Resource,
    hint: &TargetHint,
    config: &Config,
    env: &BTreeMap<String, String>,
    cwd: &std::path::Path,
) -> ResolvedTarget {
    let mut candidates: Vec<String> = Vec::new();
    if let Some(n) = &res.name {
        candidates.push(n.clone());
        candidates.push(format!("{}/{n}", res.provider));
    }
    candidates.extend(res.context.iter().map(|c| last_word(c).to_string()));
    let mut protected = false;
    let mut name = None;
    let mut decided: Option<(Environment, String)> = None;
    if let Some(entry) = config.match_database(&candidates) {
        protected = entry.protected;
        name = entry.name.clone();
        if entry.environment != Environment::Unknown {
            decided = Some((entry.environment, super::classify::entry_rule(config, &entry.pattern)));
        }
    }
    let says = |f: fn(&str) -> bool| -> Option<String> {
        if let Some(n) = res.name.as_deref().filter(|n| f(n)) {
            return Some(format!("its name {n}"));
        }
        res.context.iter().find(|c| f(last_word(c))).cloned()
    };
    if decided.is_none() {
        if let Some(what) = says(name_says_production) {
            decided = Some((Environment::Production, format!("{what} says prod")));
        } else if let Some(what) = says(name_says_staging) {
            decided = Some((Environment::Staging, format!("{what} says staging")));
        }
    }
    if decided.is_none() {
        let tail: Vec<String> = cwd
            .components()
            .rev()
            .take(2)
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let tail = tail.into_iter().rev().collect::<Vec<_>>().join("/");
        if name_says_production(&tail) {
            decided = Some((Environment::Production, format!("working directory {tail} says prod")));
        } else if name_says_staging(&tail) {
            decided = Some((Environment::Staging, format!("working directory {tail} says staging")));
        }
    }
    if decided.is_none() {
        decided = cautious_variable(hint, env);
    }
    let (environment, rule) = decided.unwrap_or_else(|| {
        if res.local {
            (Environment::Development, "on this machine".to_string())
        } else {
            (
                Environment::Unknown,
                format!("{}: nothing in the command says which environment", res.provider),
            )
        }
    });
    ResolvedTarget {
        url: None,
        display: Some(res.describe()),
        engine: hint.engine,
        host: None,
        port: None,
        user: None,
        database: res.name.clone(),
        file: None,
        tool: hint.tool.clone(),
        source: format!(
            "command line: {} names it",
            hint.tool.as_deref().unwrap_or("the command")
        ),
        environment,
        environment_rule: rule,
        protected,
        name,
        related: Vec::new(),
        config_file: None,
        warnings: Vec::new(),
        remembered: None,
        looked_for: Vec::new(),
        resource: Some(res.clone()),
    }
}

/// `profile prod` -> `prod`.
fn last_word(s: &str) -> &str {
    s.rsplit(' ').next().unwrap_or(s)
}

/// Rule 3: an environment variable that raises caution.
fn cautious_variable(hint: &TargetHint, env: &BTreeMap<String, String>) -> Option<(Environment, String)> {
    let strict =
        |v: &str| Environment::from_name(v).filter(|e| matches!(e, Environment::Production | Environment::Staging));
    for var in ENV_VARS {
        if let Some(v) = hint.env_var(var) {
            if let Some(e) = strict(v) {
                return Some((e, format!("{var}={v} (inline on the command line)")));
            }
        }
    }
    for var in ENV_VARS {
        if let Some(v) = env.get(*var) {
            if let Some(e) = strict(v) {
                return Some((e, format!("{var}={v} (process environment)")));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rds(name: &str, context: &[&str]) -> Resource {
        Resource {
            provider: "AWS RDS".into(),
            kind: "DB instance".into(),
            name: Some(name.into()),
            context: context.iter().map(|s| s.to_string()).collect(),
            local: false,
            safeguard: "x".into(),
        }
    }

    fn resolve_in(res: &Resource, hint: &TargetHint, cfg: &Config, env: &BTreeMap<String, String>) -> ResolvedTarget {
        resolve(res, hint, cfg, env, std::path::Path::new("/home/u/shop"))
    }

    #[test]
    fn environment_of_a_resource() {
        let cfg = Config::default();
        let none = BTreeMap::new();
        let hint = TargetHint::default();
        let t = resolve_in(&rds("shop-prod", &[]), &hint, &cfg, &none);
        assert_eq!(t.environment, Environment::Production);
        assert_eq!(t.display.as_deref(), Some("AWS RDS DB instance shop-prod"));
        let t = resolve_in(&rds("shop", &["profile staging"]), &hint, &cfg, &none);
        assert_eq!(
            (t.environment, t.environment_rule.as_str()),
            (Environment::Staging, "profile staging says staging")
        );
        let t = resolve_in(&rds("shop", &[]), &hint, &cfg, &none);
        assert_eq!(t.environment, Environment::Unknown);
        // A shell saying development says nothing about the cloud database...
        let dev = BTreeMap::from([("NODE_ENV".to_string(), "development".to_string())]);
        assert_eq!(
            resolve_in(&rds("shop", &[]), &hint, &cfg, &dev).environment,
            Environment::Unknown
        );
        // ...while one saying production raises caution.
        let prod = BTreeMap::from([("NODE_ENV".to_string(), "production".to_string())]);
        assert_eq!(
            resolve_in(&rds("shop", &[]), &hint, &cfg, &prod).environment,
            Environment::Production
        );
        let cfg =
            Config::parse("[[databases]]\nmatch = \"shop\"\nenvironment = \"production\"\nprotected = true\n").unwrap();
        let t = resolve_in(&rds("shop", &[]), &hint, &cfg, &none);
        assert!(t.protected && t.environment == Environment::Production);
        let local = Resource {
            local: true,
            ..rds("pgdata", &[])
        };
        assert_eq!(
            resolve_in(&local, &hint, &Config::default(), &none).environment,
            Environment::Development
        );
        let infra = std::path::Path::new("/src/infra/prod");
        let t = resolve(&rds("shop", &[]), &hint, &Config::default(), &none, infra);
        assert_eq!(
            (t.environment, t.environment_rule.as_str()),
            (Environment::Production, "working directory infra/prod says prod")
        );
    }
}
