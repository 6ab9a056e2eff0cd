//! `dbguard run [--url URL] [--json] [--allow-production] -- COMMAND [ARGS...]`: guarded
//! execution.
//!
//! Non-destructive commands are exec'd in place of dbguard: no output, no process left
//! behind, the command's own exit status. Destructive ones get a plan (findings, target,
//! impact, verdict) and go through the guarded path shared with `migrate apply`
//! (`guarded.rs`: policy, approval codes, snapshot, verification, audit log).
//!
//! Everything dbguard says goes to stderr (stdout belongs to the command); `--json`
//! prints one object on stdout. A failed snapshot or an unwritable audit log means
//! the command does not run.

use std::ffi::OsString;
use std::time::Duration;

use dbguard_core::redact::redact_text;
use serde::Serialize;

use crate::audit::door;
use crate::exec;
use crate::guarded::{self, Ran};
use crate::plan::{self, Input, Measure, Plan, PlanRequest};

/// How long the impact measurement may take before dbguard decides without numbers.
const MEASURE_DEADLINE: Duration = Duration::from_secs(2);

#[derive(clap::Args)]
pub struct Args {
    /// Database URL (default: what the command itself would use: its flags, DATABASE_URL, .env, ORM config).
    #[arg(long)]
    pub url: Option<String>,
    /// Print the plan and the outcome as one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
    /// Lift the production block for this once: only a person at an interactive terminal,
    /// with no agent detected, typing the database name twice.
    #[arg(long)]
    pub allow_production: bool,
    /// The command to run (after `--`).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        required = true,
        value_name = "COMMAND"
    )]
    pub command: Vec<OsString>,
}

/// The `--json` object.
#[derive(Serialize)]
struct Report<'a> {
    destructive: bool,
    plan: Option<&'a Plan>,
    #[serde(flatten)]
    outcome: guarded::Outcome,
}

pub fn run(a: Args) -> anyhow::Result<u8> {
    let cwd = std::env::current_dir().map_err(|e| anyhow::anyhow!("cannot read the working directory: {e}"))?;
    let text = exec::shell_join(&a.command);
    let plan = plan::build(PlanRequest {
        input: Input::Shell(text),
        cwd,
        cli_url: a.url.clone(),
        measure: Measure::Within(MEASURE_DEADLINE),
        exact: false,
    });
    if !plan.destructive() {
        if a.json {
            #[derive(Serialize)]
            struct Through<'a> {
                destructive: bool,
                outcome: &'static str,
                command: &'a str,
            }
            crate::output::print_json(&Through {
                destructive: false,
                outcome: "passed_through",
                command: &plan.display,
            })?;
        }
        let e = exec::replace(&a.command);
        eprintln!("dbguard: {}", redact_text(&e.message));
        return Ok(e.code);
    }
    let opts = guarded::Options {
        door: door::RUN,
        json: a.json,
        allow_production: a.allow_production,
        what: "this command",
        snapshot: None,
        always_snapshot: false,
        safe_alternative: safe_alternative(&plan),
        lift_command: format!("dbguard run --allow-production -- {}", plan.display),
        label: "dbguard run",
        approval_code: None,
    };
    let mut work = |env: &[(String, String)]| Ran {
        exit: exec::spawn_and_wait_with(&a.command, env),
        detail: None,
    };
    let outcome = guarded::execute(&plan, &opts, &mut work)?;
    let code = outcome.code;
    if a.json {
        crate::output::print_json(&Report {
            destructive: true,
            plan: Some(&plan),
            outcome,
        })?;
    }
    Ok(code)
}

/// The non-destructive way to do what the command wanted, by tool.
pub fn safe_alternative(plan: &Plan) -> String {
    if let Some(keep) = plan.safeguard() {
        return keep;
    }
    let mut s = if let Some(a) = crate::migrate::doors::alternative_for(&plan.analysis.findings) {
        a
    } else {
        "write a new migration that keeps the data (rename or copy instead of drop), and apply it through your migration tool".to_string()
    };
    s.push_str("; take a snapshot first with `dbguard snapshot`");
    s
}
