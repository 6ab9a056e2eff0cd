//! Policy: the pure decision of what a destructive operation needs before it may run,
//! given its findings, the target's environment and what is known of its contents.
//!
//! Actions, from least to most strict: `allow` (run, log), `snapshot` (snapshot, then
//! run), `approve` (snapshot and an informed human yes), `block` (never; production
//! can be lifted only by a person at a terminal). Defaults: production `block`;
//! staging, development and unknown `approve`. A `protected` database is always
//! `block`. A database whose every table is empty has nothing to lose and needs no
//! approval (outside production). Unknown/unparseable findings are treated like
//! destructive ones: fail closed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::environment::Environment;
use crate::finding::{Finding, FindingKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Allow,
    Snapshot,
    Approve,
    Block,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Snapshot => "snapshot",
            Action::Approve => "approve",
            Action::Block => "block",
        }
    }
}

/// Per-environment rules: a default action and per-kind overrides.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EnvPolicy {
    /// Action for findings with no per-kind override. `None`: the built-in default.
    pub default: Option<Action>,
    /// Per finding kind (snake_case names), e.g. `delete_all = "snapshot"`.
    pub kinds: BTreeMap<String, Action>,
}

/// The whole policy: one entry per environment name (production, staging, development, unknown).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Policy {
    pub production: EnvPolicy,
    pub staging: EnvPolicy,
    pub development: EnvPolicy,
    pub unknown: EnvPolicy,
}

impl Policy {
    fn for_env(&self, env: Environment) -> &EnvPolicy {
        match env {
            Environment::Production => &self.production,
            Environment::Staging => &self.staging,
            Environment::Development => &self.development,
            Environment::Unknown => &self.unknown,
        }
    }
}

pub fn builtin_default(env: Environment) -> Action {
    match env {
        Environment::Production => Action::Block,
        _ => Action::Approve,
    }
}

/// What is known about the target's contents when deciding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Contents {
    /// Total rows in the whole database (estimate or exact), when measured.
    pub total_rows: Option<i64>,
    /// `total_rows` is an exact count, not a planner estimate. Only an exact zero lets
    /// the "empty database" rule waive approval: a stale estimate of 0 must not.
    pub exact: bool,
}

/// Everything the decision depends on.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    pub findings: &'a [Finding],
    pub environment: Environment,
    pub protected: bool,
    pub contents: Contents,
    pub policy: &'a Policy,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub action: Action,
    /// Why, in one sentence for humans.
    pub reason: String,
    /// Which rule decided (`protected database`, `policy.production.default`, `built-in default for development`...).
    pub rule: String,
    /// A snapshot must be taken before running (snapshot and approve).
    pub needs_snapshot: bool,
}

/// Decide. With no findings the answer is always `allow`.
pub fn decide(ctx: &Context<'_>) -> Verdict {
    if ctx.findings.is_empty() {
        return Verdict {
            action: Action::Allow,
            reason: "nothing destructive found".into(),
            rule: "no findings".into(),
            needs_snapshot: false,
        };
    }
    let env = ctx.environment;
    if ctx.findings.iter().any(|f| f.kind == FindingKind::GuardSettings) {
        return Verdict {
            action: Action::Block,
            reason: "it changes dbguard's own settings or records, which only a person changes, by hand".into(),
            rule: "guard settings".into(),
            needs_snapshot: false,
        };
    }
    if ctx.protected {
        return Verdict {
            action: Action::Block,
            reason: format!(
                "the database is marked protected in dbguard.toml ({} environment)",
                env.as_str()
            ),
            rule: "protected = true".into(),
            needs_snapshot: false,
        };
    }
    let envp = ctx.policy.for_env(env);
    // The strictest action over all findings decides.
    let mut action = Action::Allow;
    let mut rule = String::new();
    for f in ctx.findings {
        let (a, r) = action_for(envp, env, f.kind);
        if a > action || rule.is_empty() {
            action = a.max(action);
            rule = r;
        }
    }
    let empty = ctx.contents.total_rows == Some(0) && ctx.contents.exact;
    if empty && action == Action::Approve {
        return Verdict {
            action: Action::Snapshot,
            reason: format!(
                "every table of this {} database is empty: nothing to lose, so no approval is needed",
                env.as_str()
            ),
            rule: "empty database".into(),
            needs_snapshot: true,
        };
    }
    let reason = match action {
        Action::Block if env == Environment::Production => {
            "destructive operations are blocked on production databases".to_string()
        }
        Action::Block => format!("the policy for {} blocks this kind of operation", env.as_str()),
        Action::Approve => match ctx.contents.total_rows {
            Some(n) if n > 0 => format!(
                "this {} database holds data ({}{n} rows): destroying it needs a human's informed approval",
                env.as_str(),
                if ctx.contents.exact { "" } else { "~" }
            ),
            _ if env == Environment::Unknown => {
                "destructive operations on a database whose environment is unknown need a human's informed approval"
                    .to_string()
            }
            _ => format!(
                "destructive operations on a {} database need a human's informed approval",
                env.as_str()
            ),
        },
        Action::Snapshot => format!("the policy for {} allows this after a snapshot", env.as_str()),
        Action::Allow => format!("the policy for {} allows this", env.as_str()),
    };
    Verdict {
        needs_snapshot: matches!(action, Action::Snapshot | Action::Approve),
        action,
        reason,
        rule,
    }
}

fn action_for(envp: &EnvPolicy, env: Environment, kind: FindingKind) -> (Action, String) {
    if let Some(a) = envp.kinds.get(kind.as_str()) {
        return (*a, format!("policy.{}.kinds.{}", env.as_str(), kind.as_str()));
    }
    if let Some(a) = envp.default {
        return (a, format!("policy.{}.default", env.as_str()));
    }
    (builtin_default(env), format!("built-in default for {}", env.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Scope;

    fn drop_table() -> Vec<Finding> {
        vec![Finding::new(
            FindingKind::DropTable,
            Some("users".into()),
            "drops users",
            Scope::Tables {
                names: vec!["users".into()],
            },
        )]
    }

    fn ctx<'a>(f: &'a [Finding], env: Environment, p: &'a Policy) -> Context<'a> {
        Context {
            findings: f,
            environment: env,
            protected: false,
            contents: Contents::default(),
            policy: p,
        }
    }

    #[test]
    fn defaults() {
        let p = Policy::default();
        let f = drop_table();
        assert_eq!(decide(&ctx(&f, Environment::Production, &p)).action, Action::Block);
        for env in [Environment::Staging, Environment::Development, Environment::Unknown] {
            let v = decide(&ctx(&f, env, &p));
            assert_eq!(v.action, Action::Approve);
            assert!(v.needs_snapshot);
        }
        assert_eq!(decide(&ctx(&[], Environment::Production, &p)).action, Action::Allow);
    }

    #[test]
    fn protected_always_blocks() {
        let mut p = Policy::default();
        p.development.default = Some(Action::Allow);
        let f = drop_table();
        let mut c = ctx(&f, Environment::Development, &p);
        c.protected = true;
        assert_eq!(decide(&c).action, Action::Block);
    }

    #[test]
    fn empty_database_needs_no_approval_but_production_stays_blocked() {
        let p = Policy::default();
        let f = drop_table();
        let mut c = ctx(&f, Environment::Development, &p);
        c.contents.total_rows = Some(0);
        assert_eq!(
            decide(&c).action,
            Action::Approve,
            "an estimate of 0 is not proof of emptiness"
        );
        c.contents.exact = true;
        assert_eq!(decide(&c).action, Action::Snapshot);
        c.environment = Environment::Production;
        assert_eq!(decide(&c).action, Action::Block);
        c.environment = Environment::Development;
        c.contents.total_rows = Some(5);
        assert_eq!(decide(&c).action, Action::Approve);
    }

    #[test]
    fn per_kind_overrides_and_strictest_wins() {
        let mut p = Policy::default();
        p.development.kinds.insert("delete_all".into(), Action::Snapshot);
        let mut f = vec![Finding::new(
            FindingKind::DeleteAll,
            Some("t".into()),
            "x",
            Scope::Tables { names: vec![] },
        )];
        assert_eq!(decide(&ctx(&f, Environment::Development, &p)).action, Action::Snapshot);
        f.extend(drop_table());
        let v = decide(&ctx(&f, Environment::Development, &p));
        assert_eq!(v.action, Action::Approve);
        assert_eq!(v.rule, "built-in default for development");
    }
}
