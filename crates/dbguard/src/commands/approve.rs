//! `dbguard approve CODE`, `dbguard approvals`, `dbguard deny CODE`.
//!
//! `approve` is the person's side of an approval: it works only at an interactive
//! terminal with no AI agent detected, shows the plan the code was issued for, and asks
//! for the database name (not y/N). Then the same command, rerun within the approval's
//! lifetime, goes ahead once, after a snapshot.

use serde::Serialize;

use crate::approval::{self, Record, Status};
use crate::confirm;
use crate::exit;

#[derive(clap::Args)]
pub struct ApproveArgs {
    /// The code printed by the blocked command (like K7Q-4MZ).
    pub code: String,
}

#[derive(clap::Args)]
pub struct ListArgs {
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
pub struct DenyArgs {
    /// The code to discard.
    pub code: String,
    #[arg(long)]
    pub json: bool,
}

pub fn approve(a: ApproveArgs) -> anyhow::Result<u8> {
    if let Err(why) = confirm::interactive_human() {
        eprintln!(
            "dbguard: approvals are given by a person at a terminal, and {why}.\nAsk the person to run `dbguard approve {}` themselves in a terminal.",
            a.code.trim()
        );
        return Ok(exit::BLOCKED);
    }
    let Some(r) = approval::get(&a.code)? else {
        eprintln!(
            "dbguard: no approval {} is waiting (expired, denied, already used, or mistyped). Rerun the command to get a new code.",
            a.code.trim()
        );
        return Ok(exit::ERROR);
    };
    if r.status == Status::Approved {
        eprintln!("dbguard: {} is already approved; rerun the command to use it.", r.code);
        return Ok(exit::OK);
    }
    eprintln!("dbguard: approval {} asks to run a command that destroys data.", r.code);
    if let Some(agent) = &r.agent {
        eprintln!("  asked by:    {agent}");
    }
    eprintln!("  directory:   {}", r.cwd);
    eprint!("{}", r.plan_text);
    eprintln!();
    let prompt = format!(
        "Type the database name ({}) to approve it once, or anything else to refuse: ",
        r.confirm
    );
    if !confirm::typed(&prompt, &r.confirm) {
        eprintln!("dbguard: the name did not match: not approved (the code stays pending until it expires; `dbguard deny {}` discards it).", r.code);
        return Ok(exit::BLOCKED);
    }
    if let Some(l) = &r.lower {
        // A request to lower a remembered classification: applied here, by the person.
        let done = crate::sticky::lower(l)?;
        approval::deny(&r.code)?;
        eprintln!("dbguard: approved {}: {done}.", r.code);
        return Ok(exit::OK);
    }
    // A guarded database takes the approval too, written with the guard owner's password.
    if let Err(e) = crate::protect::approval::grant_for(&r) {
        eprintln!(
            "dbguard: {}\ndbguard: not approved: the database's guard would refuse the command without it (the code stays pending until it expires).",
            dbguard_core::redact::redact_text(&format!("{e:#}"))
        );
        return Ok(exit::BLOCKED);
    }
    let done = approval::mark_approved(&r.code)?;
    eprintln!(
        "dbguard: approved {} until {}. Rerun the same command (same directory); dbguard takes the snapshot, runs it once, and verifies.",
        done.code,
        crate::snapshot::store::rfc3339(done.expires_unix)
    );
    Ok(exit::OK)
}

#[derive(Serialize)]
struct Row<'a> {
    code: &'a str,
    status: Status,
    created_at: String,
    expires_at: String,
    command: &'a str,
    cwd: &'a str,
    target: Option<&'a str>,
    environment: &'a str,
    agent: Option<&'a str>,
}

fn row(r: &Record) -> Row<'_> {
    Row {
        code: &r.code,
        status: r.status,
        created_at: crate::snapshot::store::rfc3339(r.created_unix),
        expires_at: crate::snapshot::store::rfc3339(r.expires_unix),
        command: &r.command,
        cwd: &r.cwd,
        target: r.target.as_deref(),
        environment: &r.environment,
        agent: r.agent.as_deref(),
    }
}

pub fn list(a: ListArgs) -> anyhow::Result<u8> {
    let all = approval::list()?;
    for f in approval::rejected() {
        eprintln!(
            "dbguard: warning: {} was changed or written outside dbguard (its signature does not match): it approves nothing",
            f.display()
        );
    }
    if a.json {
        let rows: Vec<Row<'_>> = all.iter().map(row).collect();
        crate::output::print_json(&rows)?;
        return Ok(exit::OK);
    }
    if all.is_empty() {
        println!("No approvals waiting.");
        return Ok(exit::OK);
    }
    for r in &all {
        let status = match r.status {
            Status::Pending => "pending",
            Status::Approved => "approved",
        };
        println!(
            "{}  {:<8}  expires {}  {}  [{}{}]",
            r.code,
            status,
            crate::snapshot::store::rfc3339(r.expires_unix),
            r.command,
            r.target.as_deref().unwrap_or("unknown database"),
            format_args!(", {}", r.environment)
        );
    }
    Ok(exit::OK)
}

pub fn deny(a: DenyArgs) -> anyhow::Result<u8> {
    let removed = approval::deny(&a.code)?;
    if a.json {
        crate::output::print_json(&serde_json::json!({ "code": a.code.trim(), "denied": removed }))?;
    } else if removed {
        println!("Discarded approval {}.", a.code.trim());
    } else {
        println!("No approval {} was waiting.", a.code.trim());
    }
    Ok(if removed { exit::OK } else { exit::ERROR })
}
