//! `dbguard classify TARGET ENVIRONMENT [--unprotect | --protect]`: change what dbguard
//! remembers about a database (see `sticky.rs`).
//!
//! Raising (`production`, `--protect`) takes effect at once: it only makes dbguard
//! stricter. Lowering (any other environment, `--unprotect`) creates an approval request
//! and exits 3: the person runs `dbguard approve CODE` in their own terminal (no agent
//! behind it, the database name typed), and `approve` applies it.

use serde::Serialize;

use crate::exit;
use crate::sticky::{self, Lowering};

#[derive(clap::Args)]
pub struct Args {
    /// The database: as `dbguard status` names it (`postgres://host:5432/app`,
    /// `sqlite:/path/app.db`), or a connection URL or SQLite file.
    pub target: String,
    /// production | staging | development | unknown. Anything but production lowers a
    /// remembered production classification (with a person's approval).
    pub environment: Option<String>,
    /// Forget a remembered `protected` (with a person's approval).
    #[arg(long, conflicts_with = "protect")]
    pub unprotect: bool,
    /// Remember the database as protected.
    #[arg(long)]
    pub protect: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct Answer {
    identity: String,
    production: bool,
    protected: bool,
    /// What changed now (raising), or what waits for approval (lowering).
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    approval: Option<crate::approval::Pending>,
}

pub fn run(a: Args) -> anyhow::Result<u8> {
    let env = match a.environment.as_deref() {
        None => None,
        Some(e) => match dbguard_core::Environment::from_name(e) {
            Some(env) => Some(env),
            None => {
                eprintln!("dbguard classify: {e:?} is not an environment (production, staging, development, unknown)");
                return Ok(exit::USAGE);
            }
        },
    };
    if env.is_none() && !a.unprotect && !a.protect {
        eprintln!("dbguard classify: say what to change: an environment, --protect or --unprotect");
        return Ok(exit::USAGE);
    }
    let Some((identity, display)) = identify(&a.target)? else {
        eprintln!(
            "dbguard classify: {} names no database dbguard can identify (give it as `dbguard status` shows it, or a \
             PostgreSQL/MySQL URL or SQLite file)",
            dbguard_core::redact::redact_text(&a.target)
        );
        return Ok(exit::USAGE);
    };
    let raise_prod = env == Some(dbguard_core::Environment::Production);
    if raise_prod || a.protect {
        let r = sticky::raise(&identity, &display, raise_prod, a.protect, "dbguard classify")?;
        let message = format!(
            "dbguard now remembers {} as{}{}, whatever dbguard.toml says later",
            r.display,
            if r.production { " production" } else { "" },
            if r.protected { " protected" } else { "" }
        );
        return answer(&a, identity, r.production, r.protected, message, None, exit::OK);
    }
    let remembered = sticky::load(&sticky::dir(), &identity);
    let (prod, prot) = remembered
        .as_ref()
        .map_or((false, false), |r| (r.production, r.protected));
    let drop_production = env.is_some() && prod;
    let drop_protected = a.unprotect && prot;
    if !drop_production && !drop_protected {
        let message = format!(
            "nothing to lower: dbguard remembers {display} as{}; dbguard.toml and the rules decide the rest",
            match (prod, prot) {
                (false, false) => " nothing in particular".to_string(),
                (p, q) => format!(
                    "{}{}",
                    if p { " production" } else { "" },
                    if q { " protected" } else { "" }
                ),
            }
        );
        return answer(&a, identity, prod, prot, message, None, exit::OK);
    }
    let r = remembered.expect("checked above");
    let mut asked = dbguard_core::shell::words::shell_quote(&identity);
    if let Some(e) = env {
        asked.push(' ');
        asked.push_str(e.as_str());
    }
    if a.unprotect {
        asked.push_str(" --unprotect");
    }
    let l = Lowering {
        identity: identity.clone(),
        display: r.display.clone(),
        drop_production,
        drop_protected,
        asked,
    };
    let confirm = identity
        .rsplit(['/', ':'])
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or(&identity)
        .to_string();
    let mut plan_text = format!(
        "  database:    {}\n  remembered:  {}{} since {} ({})\n",
        r.display,
        if r.production { "production" } else { "" },
        if r.protected { " protected" } else { "" },
        crate::snapshot::store::rfc3339(r.since_unix),
        r.rule
    );
    if drop_production {
        plan_text.push_str(
            "  change:      forget production: the environment then comes from dbguard.toml and the rules again,\n               and destructive commands on this database are no longer blocked as production\n",
        );
    }
    if drop_protected {
        plan_text.push_str("  change:      forget protected: the database is no longer always blocked\n");
    }
    let pending = crate::approval::request_lowering(&l, &confirm, &plan_text)?;
    let message = format!(
        "lowering what dbguard remembers about {} needs a person's approval. {}",
        r.display, pending.sentence
    );
    answer(&a, identity, prod, prot, message, Some(pending), exit::BLOCKED)
}

/// The identity of the target as given: a remembered identity, or a URL/file resolved.
fn identify(target: &str) -> anyhow::Result<Option<(String, String)>> {
    if let Some(r) = sticky::load(&sticky::dir(), target) {
        return Ok(Some((r.identity, r.display)));
    }
    let given = target.strip_prefix("sqlite:").unwrap_or(target);
    let cwd = std::env::current_dir()?;
    let req = crate::target::ResolveRequest::from_process(Some(given.to_string()), cwd, None);
    let t = crate::target::resolve(&req)?;
    Ok(sticky::identity(&t).map(|id| (id.clone(), t.display.clone().unwrap_or(id))))
}

fn answer(
    a: &Args,
    identity: String,
    production: bool,
    protected: bool,
    message: String,
    approval: Option<crate::approval::Pending>,
    code: u8,
) -> anyhow::Result<u8> {
    if a.json {
        crate::output::print_json(&Answer {
            identity,
            production,
            protected,
            message,
            approval,
        })?;
    } else {
        println!("dbguard: {message}");
    }
    Ok(code)
}
