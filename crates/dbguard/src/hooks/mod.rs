//! Agent hooks: one decision, five dialects.
//!
//! Every coding agent lets a hook decide before it runs a shell command (and most before
//! their file-edit tools write: those edits are decided in `edits.rs`, which denies writes
//! to dbguard's own settings and records). `dbguard hook <agent>` reads the agent's payload
//! on stdin, builds the same [`Plan`] every door builds
//! (without contacting the database by default), and answers in the agent's protocol
//! (one file per protocol: `claude.rs`, `cursor.rs`, `codex.rs`, `gemini.rs`, `copilot.rs`).
//!
//! # Decisions
//!
//! - Nothing destructive: allow silently (no output, exit 0).
//! - Destructive on production or on a protected database: deny, with a reason written for
//!   the agent: what would be destroyed, that it must not retry or work around the block,
//!   the safe alternative, and that only the user can decide.
//! - Destructive elsewhere: never a silent allow. Either
//!   - **deny with the approval path**: dbguard creates an approval code bound to this exact
//!     command and target, and tells the agent the sentence to pass to the user
//!     (`dbguard approve <code>`, typed by the user in their own terminal) and to rerun the
//!     command as `dbguard run -- <command>` afterwards, which takes the snapshot, runs it
//!     and verifies; or
//!   - **ask + rewrite**: where the client itself shows the user an approval prompt, answer
//!     `ask` with the full plan as the prompt text and rewrite the command to
//!     `dbguard run -- <command>`, so that a "yes" runs it through dbguard (snapshot and
//!     verification happen, and `dbguard run` still applies its own policy).
//!
//! # Which path for which agent, and why
//!
//! | agent       | path            | why |
//! |-------------|-----------------|-----|
//! | Claude Code | ask + rewrite   | `permissionDecision: "ask"` shows the reason to the user in Claude Code's own permission prompt, and `updatedInput` is honoured together with `ask` (documented). The agent cannot answer that prompt itself. `dbguard run` does not take a click in an agent's prompt as a human approval, so when the policy needs one the prompt also carries the approval code: the user types `dbguard approve <code>` in a terminal, then allows; `dbguard run` consumes the approval, snapshots, runs, verifies. Allowing without approving just makes `dbguard run` stop with the code again (safe). |
//! | Cursor      | deny + code     | `beforeShellExecution` documents `ask`, but users report that only `deny` is honoured in every run mode (an `ask` on an allow-listed command auto-runs), and there is no documented way to rewrite the command. An `ask` that silently runs would be an allow. |
//! | Codex       | deny + code     | The Codex docs state that `permissionDecision: "allow"`/`"ask"` and `updatedInput` "are parsed but not supported yet, so they fail open": an `ask` would run the command unguarded. Only `deny` is safe. |
//! | Gemini CLI  | deny + code     | `BeforeTool` has only `decision: "allow" | "deny"`; there is no ask. (`hookSpecificOutput.tool_input` could rewrite, but without a user prompt a rewrite would be an allow.) |
//! | Copilot CLI | deny + code     | The hooks reference says only `"deny"` is currently processed for `preToolUse`. |
//!
//! The `dbguard hook claude --no-ask` flag forces the deny + code path for Claude Code too
//! (for unattended `claude -p` runs, where nobody would see the prompt).
//!
//! # Faults
//!
//! Internal errors, panics, deadlines and unreadable payloads never become an allow for a
//! command that touches a database: the hook denies and says what went wrong. Commands
//! that touch no database are never blocked by a dbguard fault (see [`touches_database`]).
//! Every verdict on a destructive command is written to the audit log (allowing a benign
//! command is not logged: the hook runs before every shell command); when the log cannot be
//! written, a destructive command is denied. dbguard's own commands: `dbguard run -- ...`
//! is allowed (it applies the policy itself), `dbguard approve/deny/prune` and
//! `init --uninstall` are denied to agents (they are the user's).

pub mod claude;
pub mod codex;
pub mod copilot;
pub mod cursor;
pub mod edits;
pub mod gemini;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use dbguard_core::policy::Action;
use dbguard_core::redact::redact_text;
use dbguard_core::{Environment, FindingKind};

use crate::plan::{self, Input, Measure, Plan, PlanRequest};
use crate::report;

/// The agents dbguard has a hook for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Agent {
    Claude,
    Cursor,
    Codex,
    Gemini,
    Copilot,
}

impl Agent {
    pub const ALL: [Agent; 5] = [
        Agent::Claude,
        Agent::Cursor,
        Agent::Codex,
        Agent::Gemini,
        Agent::Copilot,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Agent::Claude => "claude",
            Agent::Cursor => "cursor",
            Agent::Codex => "codex",
            Agent::Gemini => "gemini",
            Agent::Copilot => "copilot",
        }
    }

    pub fn display(self) -> &'static str {
        match self {
            Agent::Claude => "Claude Code",
            Agent::Cursor => "Cursor",
            Agent::Codex => "Codex",
            Agent::Gemini => "Gemini CLI",
            Agent::Copilot => "GitHub Copilot CLI",
        }
    }

    /// The client shows the user its own approval prompt for `ask`, and honours a rewritten
    /// command together with it (see the module docs for each agent).
    pub fn can_ask(self) -> bool {
        matches!(self, Agent::Claude)
    }

    /// Parse the agent's payload.
    pub fn parse(self, raw: &[u8]) -> Result<Payload, String> {
        match self {
            Agent::Claude => claude::parse(raw),
            Agent::Codex => codex::parse(raw),
            Agent::Cursor => cursor::parse(raw),
            Agent::Gemini => gemini::parse(raw),
            Agent::Copilot => copilot::parse(raw),
        }
    }

    /// The answer to print on stdout (None: print nothing).
    pub fn render(self, decision: &Decision, payload: Option<&Payload>) -> Option<String> {
        match self {
            Agent::Claude => claude::render(decision, payload),
            Agent::Codex => codex::render(decision),
            Agent::Cursor => cursor::render(decision),
            Agent::Gemini => gemini::render(decision),
            Agent::Copilot => copilot::render(decision),
        }
    }
}

/// What the payload asks about.
#[derive(Debug, Clone)]
pub enum Payload {
    /// A shell command about to run.
    Shell {
        command: String,
        cwd: PathBuf,
        /// The tool's own input object (Claude/Codex), kept to rewrite it faithfully.
        tool_input: Option<serde_json::Value>,
    },
    /// A file edit or write by the agent's own file tools (see `edits.rs`).
    FileEdit {
        tool: String,
        paths: Vec<String>,
        cwd: PathBuf,
    },
    /// Some other tool (the matcher let it through): not dbguard's business.
    OtherTool,
}

/// The hook's answer, before it is put into an agent's dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny {
        /// For the agent: what, why, what not to do, what to do instead.
        agent_message: String,
        /// For the user (clients that show one): one short paragraph.
        user_message: String,
    },
    Ask {
        /// Shown to the user in the client's permission prompt: the full plan.
        reason: String,
        /// The command to run instead if the user says yes.
        rewritten: String,
    },
}

impl Decision {
    /// For clients that can only deny (Cursor, Codex, Gemini CLI, Copilot CLI): the message
    /// for the agent and the one for the user, or None to allow. An `Ask` becomes a deny that
    /// tells the agent to have the person approve and run the rewritten command.
    pub fn as_deny(&self) -> Option<(String, String)> {
        match self {
            Decision::Allow => None,
            Decision::Deny {
                agent_message,
                user_message,
            } => Some((agent_message.clone(), user_message.clone())),
            Decision::Ask { reason, rewritten } => Some((
                format!("{reason}\n\nTo run it, ask the user to approve and run: {rewritten}"),
                reason.clone(),
            )),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Deny { .. } => "deny",
            Decision::Ask { .. } => "ask",
        }
    }
}

/// How the hook decides.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub measure: Measure,
    /// Force the deny + code path even where the client could ask.
    pub no_ask: bool,
    /// Probe from `dbguard doctor`: decide, but create no approval code and write no audit entry.
    pub probe: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            measure: Measure::Skip,
            no_ask: false,
            probe: false,
        }
    }
}

/// Connect within 1 s, finish within 2 s (`--measure`): then decide without the numbers.
pub const MEASURE_DEADLINE: Duration = Duration::from_secs(2);

/// Decide about one shell command. Never panics outward: a panic inside becomes a fault
/// decision (deny when the command touches a database, allow otherwise).
pub fn decide(agent: Agent, command: &str, cwd: &Path, opts: Options) -> Decision {
    let cmd = command.to_string();
    let dir = cwd.to_path_buf();
    match std::panic::catch_unwind(move || decide_inner(agent, &cmd, &dir, opts)) {
        Ok(d) => d,
        Err(p) => {
            let what = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            fault(command, &format!("internal error in dbguard: {what}"))
        }
    }
}

fn decide_inner(agent: Agent, command: &str, cwd: &Path, opts: Options) -> Decision {
    if let Some(d) = dbguard_self_command(command) {
        return d;
    }
    let plan = plan::build(PlanRequest {
        input: Input::Shell(command.to_string()),
        cwd: cwd.to_path_buf(),
        cli_url: None,
        measure: opts.measure,
        exact: false,
    });
    if !plan.destructive() {
        // An agent has no terminal: `prisma migrate dev` would stop at its first prompt.
        if crate::migrate::doors::runs_prisma_migrate_dev(command) {
            return deny_both(format!("dbguard: {}", crate::migrate::doors::migrate_dev_advice()));
        }
        return Decision::Allow;
    }
    let outcome = match guard_settings_outcome(&plan) {
        Some(o) => o,
        None => decide_destructive(agent, &plan, opts),
    };
    if opts.probe {
        return outcome.decision;
    }
    // Every verdict on a destructive command is logged; when it cannot be, nothing destructive
    // may pass (an `ask` becomes a deny).
    let mut entry = crate::audit::Entry::from_plan(&plan, crate::audit::door::HOOK);
    entry.outcome = outcome.audit_outcome.to_string();
    entry.approval = outcome.code.clone();
    entry.agent = Some(agent.display().to_string());
    entry.detail = Some(format!("hook answer: {}", outcome.decision.kind()));
    match crate::audit::record(&entry) {
        Ok(()) => outcome.decision,
        Err(e) => match outcome.decision {
            d @ Decision::Deny { .. } => d,
            _ => deny_both(format!(
                "dbguard stopped this command: it would destroy data, and dbguard could not write its audit \
log ({}). A destructive command never runs unrecorded. Do not retry it or work around it; tell the user \
that the audit log needs fixing (see `dbguard doctor`).",
                redact_text(&format!("{e:#}"))
            )),
        },
    }
}

/// A shell command that changes dbguard's own settings (sed -i dbguard.toml, rm of the
/// hook settings, writes into the data directory): denied, whatever the environment.
fn guard_settings_outcome(plan: &Plan) -> Option<Outcome> {
    let f = plan
        .analysis
        .findings
        .iter()
        .find(|f| f.kind == FindingKind::GuardSettings)?;
    let msg = format!(
        "dbguard stopped this command: {}.\n\nDo not retry it, and do not work around it (no other command, \
file tool or script that changes the same file). dbguard's own settings and records are changed by the user, \
by hand. If a change is needed, tell the user exactly what you would change and why. To lower a database's \
classification, the user runs `dbguard classify <database> <environment>` and approves it with `dbguard \
approve <code>` in their own terminal.",
        redact_text(&f.detail)
    );
    Some(Outcome {
        decision: deny_both(msg),
        code: None,
        audit_outcome: crate::audit::outcome::BLOCKED,
    })
}

/// A decision about a destructive command, with what the audit log records about it.
struct Outcome {
    decision: Decision,
    code: Option<String>,
    audit_outcome: &'static str,
}

fn decide_destructive(agent: Agent, plan: &Plan, opts: Options) -> Outcome {
    use crate::audit::outcome as o;
    let summary = plan_summary(plan);
    let command = plan.display.trim().to_string();
    let rerun = run_command(plan.input.text());
    match plan.verdict.action {
        Action::Block => {
            let mut msg = String::new();
            let _ = writeln!(msg, "dbguard blocked this command: {}.", plan.verdict.reason);
            msg.push_str(&summary);
            let _ = writeln!(
                msg,
                "\nDo not retry this command, and do not work around the block: no other spelling of it (for \
example DROP SCHEMA or TRUNCATE instead of DROP DATABASE, `prisma db push --force-reset` instead of \
`migrate reset`), no other tool, client, script or connection string. Only the user can decide what \
happens to this database."
            );
            let _ = writeln!(msg, "\nSafe alternative: {}", safe_alternative(plan));
            let _ = write!(msg, "Stop here and explain to the user what you wanted to do and why.");
            Outcome {
                decision: Decision::Deny {
                    user_message: format!(
                        "dbguard blocked a destructive command on {}: {}",
                        target_label(plan),
                        one_line(&command)
                    ),
                    agent_message: msg,
                },
                code: None,
                audit_outcome: o::BLOCKED,
            }
        }
        Action::Approve | Action::Snapshot | Action::Allow => {
            if agent.can_ask() && !opts.no_ask {
                let mut reason = String::new();
                let _ = writeln!(reason, "dbguard: this command destroys data. {}.", plan.verdict.reason);
                reason.push_str(&summary);
                let mut code = None;
                if plan.verdict.action == Action::Approve && !opts.probe {
                    // `dbguard run` does not take a click in the agent's prompt as a human's
                    // approval (an agent environment needs an approval code): the code is
                    // created now, and the prompt says to approve it before allowing.
                    match request_approval(plan) {
                        Ok(a) => {
                            let _ = writeln!(
                                reason,
                                "\nTo let it run: first type `dbguard approve {}` in your own terminal (it shows \
this plan and asks you to confirm), then allow here.",
                                a.code
                            );
                            code = Some(a.code);
                        }
                        Err(e) => {
                            let _ = writeln!(
                                reason,
                                "\n(dbguard could not create an approval code: {})",
                                redact_text(&e)
                            );
                        }
                    }
                }
                match plan.no_snapshot() {
                    Some(why) => {
                        let _ = write!(
                            reason,
                            "\nIf you allow it, it runs as `{}` WITHOUT a snapshot ({}): dbguard cannot undo it. Deny \
to stop it.",
                            one_line(&redact_text(&rerun)),
                            redact_text(why)
                        );
                    }
                    None => {
                        let _ = write!(
                            reason,
                            "\nIf you allow it, it runs as `{}`: dbguard takes a snapshot first, runs it and verifies \
the result (`dbguard restore` undoes it). Deny to stop it.",
                            one_line(&plan.redact(&rerun))
                        );
                    }
                }
                return Outcome {
                    decision: Decision::Ask {
                        reason,
                        rewritten: rerun,
                    },
                    code,
                    audit_outcome: o::NEEDS_APPROVAL,
                };
            }
            if plan.verdict.action == Action::Approve {
                return deny_with_code(plan, &summary, opts);
            }
            let mut msg = String::new();
            let _ = writeln!(
                msg,
                "dbguard stopped this command: it destroys data. {}.",
                plan.verdict.reason
            );
            msg.push_str(&summary);
            let _ = write!(
                msg,
                "\nRun it through dbguard instead, exactly as:\n\n    {}\n\nThat takes a snapshot first, runs the \
command and verifies it. Do not run it any other way.",
                plan.redact(&rerun)
            );
            Outcome {
                decision: deny_both(msg),
                code: None,
                audit_outcome: o::BLOCKED,
            }
        }
    }
}

fn deny_with_code(plan: &Plan, summary: &str, opts: Options) -> Outcome {
    let rerun = run_command(plan.input.text());
    let mut msg = String::new();
    let _ = writeln!(msg, "dbguard stopped this command: {}.", plan.verdict.reason);
    msg.push_str(summary);
    msg.push('\n');
    let approval = if opts.probe {
        Err("probe: no approval code created".to_string())
    } else {
        request_approval(plan)
    };
    let code = approval.as_ref().ok().map(|a| a.code.clone());
    match approval {
        Ok(a) => {
            let _ = writeln!(
                msg,
                "It needs the user's informed approval. Do not retry it and do not work around it (no other \
command, tool or client that does the same). Tell the user exactly this:\n\n    {}\n\nThe user approves by \
typing `dbguard approve {}` in their own terminal (an agent cannot approve). After the user has approved, \
run it exactly as:\n\n    {}\n\n{}{}",
                a.sentence,
                a.code,
                plan.redact(&rerun),
                match plan.no_snapshot() {
                    Some(why) => format!(
                        "dbguard then runs the command and records it; no snapshot can be taken first ({}).",
                        plan.redact(why)
                    ),
                    None => "dbguard then takes a snapshot, runs the command and verifies it.".to_string(),
                },
                a.expires
                    .map(|e| format!(" The approval expires at {e}."))
                    .unwrap_or_default()
            );
        }
        Err(e) => {
            let _ = writeln!(
                msg,
                "It needs the user's informed approval, and dbguard could not create an approval code ({}). Do not \
retry it and do not work around it. Ask the user to run it themselves, in their own terminal, as: {}",
                redact_text(&e),
                plan.redact(&rerun)
            );
        }
    }
    let _ = write!(msg, "Safe alternative, if the data matters: {}", safe_alternative(plan));
    Outcome {
        decision: deny_both(msg),
        code,
        audit_outcome: crate::audit::outcome::NEEDS_APPROVAL,
    }
}

pub(crate) fn deny_both(agent_message: String) -> Decision {
    let user_message = agent_message
        .lines()
        .next()
        .unwrap_or("dbguard stopped this command")
        .to_string();
    Decision::Deny {
        agent_message,
        user_message,
    }
}

/// An approval code created for a plan, as the hook tells it.
pub struct ApprovalInfo {
    pub code: String,
    pub sentence: String,
    pub expires: Option<String>,
}

/// Request an approval for the plan `dbguard run -- <command>` will build when the agent
/// reruns it (same text after argv normalization, same directory and target), so that the
/// user's approval is the one `dbguard run` consumes.
pub(crate) fn request_approval(plan: &Plan) -> Result<ApprovalInfo, String> {
    let rerun_plan;
    let p = match &plan.input {
        Input::Shell(cmd) => {
            let text = run_argv_text(cmd);
            if text == *cmd {
                plan
            } else {
                rerun_plan = plan::build(PlanRequest {
                    input: Input::Shell(text),
                    cwd: plan.cwd.clone(),
                    cli_url: None,
                    measure: Measure::Skip,
                    exact: false,
                });
                &rerun_plan
            }
        }
        Input::Sql { .. } => plan,
    };
    match crate::approval::request(p) {
        Ok(pending) => Ok(ApprovalInfo {
            code: pending.code,
            sentence: pending.sentence,
            expires: Some(pending.expires_at),
        }),
        Err(e) => Err(format!("{e:#}")),
    }
}

/// The argv `dbguard run -- <command>` receives from the shell, for a command line.
fn run_argv(command: &str) -> Vec<String> {
    match simple_words(command) {
        Some(words) if !words.is_empty() => words,
        // Operators, substitutions, redirections: the whole line must run inside one shell
        // under dbguard, not be split by the agent's shell around `dbguard run`.
        _ => vec!["sh".into(), "-c".into(), command.trim().to_string()],
    }
}

/// The command text `dbguard run` plans with (its argv joined back with quoting).
fn run_argv_text(command: &str) -> String {
    let argv: Vec<std::ffi::OsString> = run_argv(command).into_iter().map(Into::into).collect();
    crate::exec::shell_join(&argv)
}

/// `dbguard run -- <command>`, as one shell command line that runs exactly `command`.
pub fn run_command(command: &str) -> String {
    format!("{} run -- {}", dbguard_program(), run_argv_text(command))
}

/// `dbguard` when it is on PATH (readable for the agent and the person), else the
/// absolute path of this executable, so the rewritten command never fails with
/// "command not found".
fn dbguard_program() -> String {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join("dbguard").is_file()))
        .unwrap_or(false);
    if on_path {
        return "dbguard".into();
    }
    match std::env::current_exe() {
        Ok(exe) => {
            let s = exe.to_string_lossy().into_owned();
            if s.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+".contains(c)) {
                s
            } else {
                format!("'{}'", s.replace('\'', "'\\''"))
            }
        }
        Err(_) => "dbguard".into(),
    }
}

/// The command when it is a single `dbguard` invocation (no `;`, `&&`, pipes or
/// substitutions outside quotes), as its words.
fn single_dbguard_words(command: &str) -> Option<Vec<String>> {
    let words = simple_words(command)?;
    let mut it = words.into_iter().skip_while(|w| is_assignment(w));
    let prog = it.next()?;
    if dbguard_core::shell::words::basename(&prog) != "dbguard" {
        return None;
    }
    Some(it.collect())
}

/// What the hook answers for dbguard's own commands: `dbguard run` applies the policy itself
/// (approval codes, snapshots, production blocks), so it is allowed; the commands that only
/// a human may run (approving, deleting snapshots, removing the hooks) are denied.
fn dbguard_self_command(command: &str) -> Option<Decision> {
    let words = single_dbguard_words(command)?;
    let sub = words.iter().find(|w| !w.starts_with('-'))?.as_str();
    match sub {
        "run" | "check" | "lint" | "status" | "snapshots" | "snapshot" | "verify" | "doctor" | "restore"
        | "migrate" => Some(Decision::Allow),
        "approve" | "deny" | "prune" => Some(deny_both(format!(
            "dbguard: `dbguard {sub}` is for the user only; an agent must not run it. Ask the user to run it in \
their own terminal if they want to."
        ))),
        "init" if words.iter().any(|w| w == "--uninstall") => Some(deny_both(
            "dbguard: removing dbguard's hooks is for the user only; an agent must not run it.".into(),
        )),
        _ => None,
    }
}

fn is_assignment(w: &str) -> bool {
    match w.split_once('=') {
        Some((k, _)) => {
            !k.is_empty()
                && k.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
                && !k.as_bytes()[0].is_ascii_digit()
        }
        None => false,
    }
}

/// Split a command line into words when it is one simple command: `None` when it has shell
/// operators, substitutions, redirections or unbalanced quotes outside quotes.
fn simple_words(command: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = command.trim().chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => cur.push(ch),
                        None => return None,
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(ch) => cur.push(ch),
                            None => return None,
                        },
                        Some('$') | Some('`') => return None,
                        Some(ch) => cur.push(ch),
                        None => return None,
                    }
                }
            }
            '\\' => {
                in_word = true;
                cur.push(chars.next()?);
            }
            ' ' | '\t' => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            ';' | '&' | '|' | '<' | '>' | '(' | ')' | '`' | '$' | '\n' | '\r' | '{' | '}' | '#' => return None,
            _ => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Some(words)
}

/// "the production database app (postgres://app@db.prod/app)".
fn target_label(plan: &Plan) -> String {
    match &plan.target {
        Some(t) => {
            let env = t.environment.as_str();
            let db = t.display.clone().unwrap_or_else(|| "(database not resolved)".into());
            format!("the {env} database {db}")
        }
        None => "a database dbguard could not resolve".into(),
    }
}

/// What would be destroyed, for agents and prompts: database, environment, findings, rows.
pub fn plan_summary(plan: &Plan) -> String {
    let mut s = String::new();
    match &plan.target {
        Some(t) => {
            let _ = writeln!(s, "Database: {} (from {})", t.shown(), t.source);
            let _ = writeln!(
                s,
                "Environment: {}{} ({})",
                t.environment.as_str(),
                if t.protected { ", protected" } else { "" },
                t.environment_rule
            );
            if t.environment == Environment::Unknown {
                let _ = writeln!(s, "(an unknown environment is treated as holding real data)");
            }
        }
        None => {
            let _ = writeln!(s, "Database: could not be resolved (treated as holding real data)");
        }
    }
    let _ = writeln!(s, "Command: {}", one_line(&plan.display));
    let _ = writeln!(s, "What it would destroy:");
    for (i, f) in plan.analysis.findings.iter().enumerate() {
        let mut line = format!("  - {}", report::kind_label(f.kind));
        if let Some(o) = &f.object {
            let _ = write!(line, " {}", redact_text(o));
        }
        if f.cascade {
            line.push_str(" (CASCADE: dependent objects too)");
        }
        if let Some(Some(imp)) = plan.impacts.get(i) {
            let _ = write!(line, ": {}", imp.describe());
        }
        let _ = writeln!(line, ". {}", redact_text(&f.detail));
        s.push_str(&line);
    }
    if let Some(n) = plan.total_rows {
        let _ = writeln!(s, "The database holds ~{n} rows in total.");
    }
    if let Some(note) = &plan.measure_note {
        let _ = writeln!(s, "({note})");
    }
    s
}

/// The safe way to reach the same goal, by tool.
fn safe_alternative(plan: &Plan) -> String {
    let kinds: Vec<FindingKind> = plan.analysis.findings.iter().map(|f| f.kind).collect();
    if let Some(keep) = plan.safeguard() {
        return format!("{keep}. Only the user decides whether it goes.");
    }
    let backup = "take a backup first with `dbguard snapshot` (the user may run it)";
    if let Some(a) = crate::migrate::doors::alternative_for(&plan.analysis.findings) {
        return format!("{a}; {backup}.");
    }
    if kinds
        .iter()
        .any(|k| matches!(k, FindingKind::DeleteFiles | FindingKind::DeleteVolume))
    {
        return format!("leave the database files and volumes in place; {backup}.");
    }
    format!(
        "write a new migration that changes the schema while keeping the data (rename or copy instead of drop, \
add instead of replace), review it, and apply it with the project's migration tool; {backup}."
    )
}

fn one_line(s: &str) -> String {
    let t: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if t.chars().count() > 300 {
        format!("{}...", t.chars().take(300).collect::<String>())
    } else {
        t
    }
}

/// Words that make a command possibly touch a database. Used only when dbguard itself
/// failed (panic, deadline, unreadable payload): then a command matching none of these is
/// allowed (a dbguard fault never blocks `ls`), and one matching any is denied.
const DATABASE_WORDS: &[&str] = &[
    "psql",
    "pg_",
    "dropdb",
    "createdb",
    "postgres",
    "mysql",
    "mariadb",
    "sqlite",
    "mongo",
    "redis",
    "prisma",
    "drizzle",
    "typeorm",
    "sequelize",
    "knex",
    "mikro-orm",
    "rails",
    "rake",
    "manage.py",
    "django",
    "alembic",
    "flask",
    "artisan",
    "flyway",
    "liquibase",
    "goose",
    "migrate",
    "dbmate",
    "sqlx",
    "diesel",
    "atlas",
    "supabase",
    "neon",
    "docker",
    "podman",
    "kubectl",
    "helm",
    "terraform",
    "terragrunt",
    "tofu",
    "pulumi",
    "aws",
    "gcloud",
    "az ",
    "heroku",
    "fly",
    "railway",
    "wrangler",
    "turso",
    "pscale",
    "git clean",
    "rsync",
    "mix ",
    "dotnet",
    "rm ",
    "rm\t",
    "drop",
    "truncate",
    "delete",
    "update",
    "alter",
    "database",
    ".db",
    ".sqlite",
    "sql",
    "dbguard",
    "volume",
    "npm",
    "npx",
    "pnpm",
    "yarn",
    "bun",
    "make",
    "python",
    "node",
    "ruby",
    "php",
    "perl",
    "sh ",
    "bash",
    "zsh",
    "eval",
    "exec",
    "xargs",
    "ssh",
    "env ",
];

/// Whether a command might touch a database (coarse, for faults only: errs towards yes).
pub fn touches_database(command: &str) -> bool {
    let lower = command.to_ascii_lowercase();
    DATABASE_WORDS.iter().any(|w| lower.contains(w)) || lower.contains("_url") || lower.contains("://")
}

/// The decision when dbguard itself failed while deciding about `command`.
pub fn fault(command: &str, what: &str) -> Decision {
    if !touches_database(command) {
        return Decision::Allow;
    }
    deny_both(format!(
        "dbguard could not check this command ({}), and it may touch a database, so it was stopped. Do not \
retry it or work around it. Tell the user what you wanted to run; they can check it with `dbguard check -- \
<command>` or run it themselves through `dbguard run -- <command>`.",
        redact_text(what)
    ))
}

/// The decision when the payload itself cannot be read.
pub fn unreadable(agent: Agent, problem: &str) -> Decision {
    deny_both(format!(
        "dbguard could not read the {} hook payload ({}), so it cannot tell whether this command is safe, and \
stopped it. Tell the user: `dbguard doctor` checks the hook installation.",
        agent.display(),
        redact_text(problem)
    ))
}

/// Shared payload helpers.
pub(crate) fn parse_json(raw: &[u8]) -> Result<serde_json::Value, String> {
    if raw.iter().all(|b| b.is_ascii_whitespace()) {
        return Err("empty payload on stdin".into());
    }
    serde_json::from_slice(raw).map_err(|e| format!("payload is not valid JSON: {e}"))
}

pub(crate) fn str_field<'a>(v: &'a serde_json::Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(|x| x.as_str())
}

/// The working directory from the payload, else the process's own.
pub(crate) fn cwd_from(v: Option<&str>) -> PathBuf {
    match v.filter(|s| !s.is_empty()) {
        Some(s) => PathBuf::from(s),
        None => std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_words_refuses_operators() {
        assert_eq!(
            simple_words("dbguard run -- psql -c 'DROP TABLE x; y'").map(|w| w.len()),
            Some(6)
        );
        assert!(simple_words("dbguard run -- true && psql -c 'DROP TABLE x'").is_none());
        assert!(simple_words("dbguard run -- $(evil)").is_none());
        assert!(simple_words("echo 'unterminated").is_none());
    }

    #[test]
    fn dbguard_commands() {
        assert_eq!(
            dbguard_self_command("dbguard run -- npx prisma migrate reset --force"),
            Some(Decision::Allow)
        );
        assert!(matches!(
            dbguard_self_command("dbguard approve ABCD"),
            Some(Decision::Deny { .. })
        ));
        assert!(matches!(
            dbguard_self_command("DBGUARD_HOME=/x /usr/bin/dbguard prune"),
            Some(Decision::Deny { .. })
        ));
        assert_eq!(dbguard_self_command("dbguard run -- x; dropdb prod"), None);
    }

    #[test]
    fn faults_never_block_plain_commands() {
        assert_eq!(fault("ls -la", "boom"), Decision::Allow);
        assert_eq!(fault("git status", "boom"), Decision::Allow);
        assert!(matches!(fault("psql -c 'drop table x'", "boom"), Decision::Deny { .. }));
    }
}
