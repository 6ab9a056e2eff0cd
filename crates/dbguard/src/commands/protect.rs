//! `dbguard protect [--url URL] [--json] [--status | --uninstall | --upgrade]`: the
//! in-database guard (see `crate::protect`).
//!
//! Install (the default) is idempotent and runs in one transaction; it prints what is
//! covered now and what is not. Exit codes: 0 installed and complete; 1 an error (nothing
//! installed), or installed with gaps (no event triggers because the role is not a
//! superuser: the table triggers are in place, DROP is not refused; or tables this role
//! may not put triggers on); 2 usage. `--status`: 0 whether installed or not (the report
//! says). `--uninstall`: 0 removed, with the proof that nothing is left; 1 nothing
//! installed or not allowed; 3 refused (an agent asked, or a production database without
//! a person at the terminal to confirm).

use std::path::PathBuf;

use anyhow::{anyhow, bail};
use dbguard_core::target::Engine;
use dbguard_core::Environment;
use serde::Serialize;

use crate::exit;
use crate::protect::install::{self, InstallOptions};
use crate::protect::status::{self, GuardStatus};
use crate::protect::{Session, CONNECT_TIMEOUT};
use crate::target::{resolve, ResolveRequest, ResolvedTarget};

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("mode").args(["status", "uninstall", "upgrade"])))]
pub struct Args {
    /// Database URL; it must log in as a superuser (or the database owner, for the table
    /// triggers only). Default: the project's database, as `dbguard status` finds it.
    #[arg(long)]
    pub url: Option<String>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Report whether the guard is installed, its version, what it covers and who can bypass it.
    #[arg(long)]
    pub status: bool,
    /// Remove everything the guard installed, and prove it.
    #[arg(long)]
    pub uninstall: bool,
    /// Replace an older guard version in place.
    #[arg(long)]
    pub upgrade: bool,
    /// Grant the read-only role dbguard_reader to this role (repeatable; default: the
    /// non-superuser login roles that own tables).
    #[arg(long = "app-role", value_name = "ROLE")]
    pub app_roles: Vec<String>,
    /// Do not create or grant the dbguard_reader role.
    #[arg(long)]
    pub no_reader: bool,
    /// Directory to resolve the database from (default: the current one).
    #[arg(long)]
    pub cwd: Option<PathBuf>,
}

#[derive(Serialize)]
struct Report<'a> {
    action: &'static str,
    database: Option<&'a str>,
    environment: &'static str,
    installed: bool,
    /// Event triggers and every table: nothing the guard is meant to refuse gets through.
    complete: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    previous_version: Option<i32>,
    covered: Vec<String>,
    not_covered: Vec<String>,
    status: Option<&'a GuardStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    leftovers: Option<&'a install::Leftovers>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

pub fn run(a: Args) -> anyhow::Result<u8> {
    let cwd = match &a.cwd {
        Some(d) if !d.is_dir() => bail!("--cwd {} is not a directory", d.display()),
        Some(d) => d.clone(),
        None => std::env::current_dir().map_err(|e| anyhow!("cannot read the current directory: {e}"))?,
    };
    let target = resolve(&ResolveRequest::from_process(a.url.clone(), cwd.clone(), None))?;
    let url = target.url.clone().ok_or_else(|| {
        anyhow!(
            "no database found from {}: pass --url (a superuser's connection string), or set DATABASE_URL",
            cwd.display()
        )
    })?;
    if target.engine.or_else(|| crate::target::engine_of(&url)) != Some(Engine::Postgres) {
        bail!(
            "the in-database guard is for PostgreSQL; {} is not a PostgreSQL database (SQLite files are covered by the hooks and `dbguard run`)",
            target.display.as_deref().unwrap_or("this target")
        );
    }
    if a.uninstall {
        return uninstall(&a, &target, &url);
    }
    let session = Session::connect(&url, CONNECT_TIMEOUT)?;
    if a.status {
        let st = status::read(&session)?;
        let report = report("status", &target, st.as_ref(), None, None);
        if a.json {
            crate::output::print_json(&report)?;
        } else if let Some(st) = &st {
            print!(
                "{}",
                render_status(
                    st,
                    &format!(
                        "the guard is installed in {} ({})",
                        target.display.as_deref().unwrap_or("the database"),
                        target.environment.as_str()
                    )
                )
            );
        } else {
            println!(
                "dbguard: no guard is installed in {}. Install it with `dbguard protect --url <a superuser's URL>`.",
                target.display.as_deref().unwrap_or("this database")
            );
        }
        return Ok(exit::OK);
    }
    let done = install::install(
        &session,
        &InstallOptions {
            upgrade: a.upgrade,
            reader: !a.no_reader,
            app_roles: a.app_roles.clone(),
        },
    )?;
    let complete = done.status.complete();
    let mut r = report(
        done.action,
        &target,
        Some(&done.status),
        Some(done.previous_version),
        None,
    );
    if !complete {
        r.message = Some(
            "the guard is installed with gaps (see not_covered): run `dbguard protect` again as a superuser to close them"
                .into(),
        );
    }
    if a.json {
        crate::output::print_json(&r)?;
    } else {
        let db = target.display.as_deref().unwrap_or("the database");
        let env = target.environment.as_str();
        let headline = match done.action {
            "installed" => format!("installed the guard in {db} ({env})"),
            "upgraded" => format!(
                "upgraded the guard in {db} ({env}) in place from version {}",
                done.previous_version.unwrap_or(0)
            ),
            _ => format!("the guard in {db} ({env}) was already installed: checked and repaired, nothing duplicated"),
        };
        print!("{}", render_status(&done.status, &headline));
        if !complete {
            println!("\nThe guard is in place but has gaps (above); exit code 1. Run `dbguard protect --url <a superuser's URL>` to close them.");
        }
    }
    Ok(if complete { exit::OK } else { exit::ERROR })
}

fn report<'a>(
    action: &'static str,
    t: &'a ResolvedTarget,
    st: Option<&'a GuardStatus>,
    previous: Option<Option<i32>>,
    leftovers: Option<&'a install::Leftovers>,
) -> Report<'a> {
    Report {
        action,
        database: t.display.as_deref(),
        environment: t.environment.as_str(),
        installed: st.is_some(),
        complete: st.is_some_and(GuardStatus::complete),
        previous_version: previous.flatten(),
        covered: st.map(GuardStatus::covered).unwrap_or_default(),
        not_covered: st.map(GuardStatus::not_covered).unwrap_or_default(),
        status: st,
        leftovers,
        message: None,
    }
}

fn render_status(st: &GuardStatus, headline: &str) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    let _ = writeln!(o, "dbguard: {headline}: version {}, owner {}.", st.version, st.owner);
    let _ = writeln!(o, "\nCovered now:");
    for l in st.covered() {
        let _ = writeln!(o, "  + {l}");
    }
    let _ = writeln!(o, "\nNot covered:");
    for l in st.not_covered() {
        let _ = writeln!(o, "  - {l}");
    }
    if !st.custom_rules.is_empty() {
        let _ = writeln!(o, "\nPer-table rules (dbguard.configure):");
        for r in &st.custom_rules {
            if r.guarded {
                let _ = writeln!(
                    o,
                    "  {}: all rows over {}, share {}, share rows over {}",
                    r.table,
                    r.all_rows_over
                        .map(|v| v.to_string())
                        .unwrap_or_else(|| "default".into()),
                    r.share.map(|v| v.to_string()).unwrap_or_else(|| "default".into()),
                    r.share_rows_over
                        .map(|v| v.to_string())
                        .unwrap_or_else(|| "default".into())
                );
            } else {
                let _ = writeln!(o, "  {}: not guarded", r.table);
            }
        }
    }
    let _ = writeln!(
        o,
        "\nApprovals: `dbguard approve CODE` asks for the password of {} and writes the approval into dbguard.approvals (the application cannot read it).",
        st.owner
    );
    if !st.reader.granted_to.is_empty() {
        let _ = writeln!(
            o,
            "Read-only role dbguard_reader (pg_read_all_data) granted to: {}.",
            st.reader.granted_to.join(", ")
        );
    } else if let Some(why) = &st.reader.missing_reason {
        let _ = writeln!(o, "Read-only role dbguard_reader: not set up ({why}).");
    }
    let _ = writeln!(
        o,
        "Blocked attempts so far: {} ({} in the last day); approved: {}.",
        st.attempts.blocked, st.attempts.blocked_last_day, st.attempts.approved
    );
    o
}

fn uninstall(a: &Args, target: &ResolvedTarget, url: &str) -> anyhow::Result<u8> {
    let display = target.display.as_deref().unwrap_or("the database");
    // Removing the guard is what an agent that wants past it would do: never for an agent,
    // and on production or protected databases only with a person typing the name.
    if let Some(agent) = crate::plan::agent_in_env() {
        eprintln!(
            "dbguard: refused: removing the guard from {display} is not something an AI agent ({agent}) may do. Ask the person to run `dbguard protect --uninstall` themselves."
        );
        return Ok(exit::BLOCKED);
    }
    if target.environment == Environment::Production || target.protected {
        let word = target.database.clone().unwrap_or_default();
        match crate::confirm::interactive_human() {
            Ok(()) => {
                let prompt = format!(
                    "Removing the guard from a {} database. Type the database name ({word}) to remove it: ",
                    if target.protected { "protected" } else { "production" }
                );
                if word.is_empty() || !crate::confirm::typed(&prompt, &word) {
                    eprintln!("dbguard: the name did not match: the guard stays.");
                    return Ok(exit::BLOCKED);
                }
            }
            Err(why) => {
                eprintln!("dbguard: refused: removing the guard from a production or protected database needs a person at a terminal typing its name, and {why}.");
                return Ok(exit::BLOCKED);
            }
        }
    }
    let session = Session::connect(url, CONNECT_TIMEOUT)?;
    let removed = install::uninstall(&session)?;
    let clean = removed.leftovers.none();
    let mut r = report(
        "uninstalled",
        target,
        None,
        Some(Some(removed.version)),
        Some(&removed.leftovers),
    );
    r.message = Some(if clean {
        "removed; nothing of the guard is left".into()
    } else {
        "removed, but something of the guard is still there (see leftovers)".into()
    });
    if a.json {
        crate::output::print_json(&r)?;
    } else {
        let l = &removed.leftovers;
        println!(
            "dbguard: removed the guard (version {}) from {display}.\nLeft behind: {} dbguard schema, {} event triggers, {} table triggers, {} functions, {} tables{}",
            removed.version,
            l.schema,
            l.event_triggers,
            l.table_triggers,
            l.functions,
            l.tables,
            if clean { " (nothing)." } else { ": NOT clean." }
        );
        println!("Destructive statements are no longer refused inside this database; the hooks and `dbguard run` still apply.");
    }
    Ok(if clean { exit::OK } else { exit::ERROR })
}
