//! `dbguard doctor`: checks that each installed agent hook works end to end (the installed
//! command is fed a synthetic destructive payload and a benign one, exactly as the agent
//! would), that the configuration loads and the database targets resolve, and says what is
//! missing. Exit 0 when everything is fine, 1 otherwise.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::Context;
use serde::Serialize;
use serde_json::{json, Value};

use crate::commands::init::{self, HookSite};
use crate::hooks::Agent;

#[derive(clap::Args)]
pub struct Args {
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Project directory (default: the current directory).
    #[arg(long)]
    cwd: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    pub detail: String,
}

#[derive(Debug, Serialize)]
struct DoctorReport {
    ok: bool,
    checks: Vec<Check>,
}

/// The probe commands: one that destroys data, one that touches nothing.
pub const PROBE_DESTRUCTIVE: &str = "psql -c 'DROP TABLE dbguard_doctor_probe'";
pub const PROBE_BENIGN: &str = "ls -la";

pub fn run(args: Args) -> anyhow::Result<u8> {
    let project = match &args.cwd {
        Some(c) => c.clone(),
        None => std::env::current_dir().context("reading the current directory")?,
    };
    let mut checks = Vec::new();
    let mut any_hook = false;
    for agent in Agent::ALL {
        for user in [false, true] {
            let Some(site) = init::hook_site(agent, &project, user) else {
                continue;
            };
            let scope = if user { "user" } else { "project" };
            match init::installed_hook_commands(&site) {
                Ok(cmds) if cmds.is_empty() => {}
                Ok(cmds) => {
                    any_hook = true;
                    for cmd in cmds {
                        checks.push(probe_hook(&site, &cmd, &project, scope));
                        checks.extend(probe_edits(&site, &cmd, &project, scope));
                    }
                }
                Err(e) => checks.push(Check {
                    name: format!("{} hook ({scope})", agent.display()),
                    ok: false,
                    detail: format!("{e:#}"),
                }),
            }
        }
    }
    for agent in init::detect_agents(&project) {
        let installed = [false, true].iter().any(|u| {
            init::hook_site(agent, &project, *u)
                .and_then(|s| init::installed_hook_commands(&s).ok())
                .map(|c| !c.is_empty())
                .unwrap_or(false)
        });
        if !installed {
            checks.push(Check {
                name: format!("{} hook", agent.display()),
                ok: false,
                detail: format!(
                    "this project has a {} config folder but no dbguard hook: run `dbguard init --agent {}`",
                    agent.display(),
                    agent.name()
                ),
            });
        }
    }
    // Codex and Gemini CLI run no hooks at all with their hooks switch off.
    for agent in [Agent::Codex, Agent::Gemini] {
        let used = init::detect_agents(&project).contains(&agent)
            || [false, true].iter().any(|u| {
                init::hook_site(agent, &project, *u)
                    .and_then(|s| init::installed_hook_commands(&s).ok())
                    .is_some_and(|c| !c.is_empty())
            });
        if let Some((ok, detail)) = used.then(|| init::hooks_switch(agent, &project)).flatten() {
            checks.push(Check {
                name: format!("{} hooks switch", agent.display()),
                ok,
                detail,
            });
        }
    }
    if !any_hook && init::detect_agents(&project).is_empty() {
        checks.push(Check {
            name: "agent hooks".into(),
            ok: false,
            detail: "no dbguard hook is installed for any agent: run `dbguard init --agent <agent>`".into(),
        });
    }
    checks.push(check_config(&project));
    checks.push(check_target(&project));
    let ok = checks.iter().all(|c| c.ok);
    if args.json {
        crate::output::print_json(&DoctorReport { ok, checks })?;
    } else {
        for c in &checks {
            println!(
                "{} {}: {}",
                if c.ok { "ok  " } else { "FAIL" },
                c.name,
                dbguard_core::redact::redact_text(&c.detail)
            );
        }
        println!(
            "{}",
            if ok {
                "dbguard doctor: all good"
            } else {
                "dbguard doctor: problems found (see above)"
            }
        );
    }
    Ok(if ok { crate::exit::OK } else { crate::exit::ERROR })
}

/// A synthetic payload in the agent's own shape.
pub fn payload(agent: Agent, command: &str, cwd: &Path) -> Value {
    let cwd = cwd.to_string_lossy().to_string();
    match agent {
        Agent::Claude | Agent::Codex => json!({
            "session_id": "dbguard-doctor", "transcript_path": "", "cwd": cwd, "permission_mode": "default",
            "hook_event_name": "PreToolUse", "tool_name": "Bash",
            "tool_input": {"command": command, "description": "dbguard doctor probe"}, "tool_use_id": "doctor"
        }),
        Agent::Cursor => json!({
            "conversation_id": "dbguard-doctor", "generation_id": "doctor", "hook_event_name": "beforeShellExecution",
            "workspace_roots": [cwd.clone()], "command": command, "cwd": cwd
        }),
        Agent::Gemini => json!({
            "session_id": "dbguard-doctor", "transcript_path": "", "cwd": cwd, "hook_event_name": "BeforeTool",
            "timestamp": "2026-01-01T00:00:00Z", "tool_name": "run_shell_command",
            "tool_input": {"command": command, "description": "dbguard doctor probe"}
        }),
        Agent::Copilot => json!({
            "timestamp": 1_704_614_600_000_i64, "cwd": cwd, "toolName": "bash",
            "toolArgs": json!({"command": command, "description": "dbguard doctor probe"}).to_string()
        }),
    }
}

/// Whether an answer stops the command (deny, or ask for clients that prompt).
pub fn answer_stops(agent: Agent, stdout: &str) -> bool {
    let Ok(v) = serde_json::from_str::<Value>(stdout.trim()) else {
        return false;
    };
    match agent {
        Agent::Claude | Agent::Codex => matches!(
            v.pointer("/hookSpecificOutput/permissionDecision")
                .and_then(|d| d.as_str()),
            Some("deny") | Some("ask")
        ),
        Agent::Cursor => v.get("permission").and_then(|d| d.as_str()) == Some("deny"),
        Agent::Gemini => matches!(v.get("decision").and_then(|d| d.as_str()), Some("deny") | Some("block")),
        Agent::Copilot => v.get("permissionDecision").and_then(|d| d.as_str()) == Some("deny"),
    }
}

fn run_hook(command: &str, input: &str, cwd: &Path) -> anyhow::Result<(i32, String, String)> {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("{command} --probe"))
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting `{command}`"))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A hook that exits without reading (a command that is not found, say) must be
        // reported, not end doctor silently: SIGPIPE is ignored while writing to it (main
        // restores its default action for the `| head` case).
        // SAFETY: signal() swaps a process-wide disposition; doctor is single-threaded here,
        // and an ignored SIGPIPE is discarded, so nothing is pending when it is restored.
        let previous = unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
        let _ = stdin.write_all(input.as_bytes());
        drop(stdin);
        unsafe {
            libc::signal(libc::SIGPIPE, previous);
        }
    }
    let out = child.wait_with_output().context("waiting for the hook")?;
    Ok((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    ))
}

/// Feed the hook a payload it must stop and one it must allow silently; what went wrong.
fn probe_pair(agent: Agent, command: &str, project: &Path, stop: (&str, &str), allow: (&str, &str)) -> Vec<String> {
    let mut problems = Vec::new();
    for (input, problem, must_stop) in [(stop.0, stop.1, true), (allow.0, allow.1, false)] {
        match run_hook(command, input, project) {
            Ok((0, out, _)) if must_stop && answer_stops(agent, &out) => {}
            Ok((0, out, _)) if !must_stop && out.trim().is_empty() => {}
            Ok((code, out, err)) => problems.push(format!(
                "{problem} (exit {code}, stdout {:?}, stderr {:?})",
                out.trim(),
                err.trim()
            )),
            Err(e) => problems.push(format!("{e:#}")),
        }
    }
    problems
}

fn probe_hook(site: &HookSite, command: &str, project: &Path, scope: &str) -> Check {
    let agent = site.agent;
    let name = format!("{} hook ({scope}, {})", agent.display(), site.path.display());
    let bad = payload(agent, PROBE_DESTRUCTIVE, project).to_string();
    let good = payload(agent, PROBE_BENIGN, project).to_string();
    let problems = probe_pair(
        agent,
        command,
        project,
        (&bad, "a destructive command was not stopped"),
        (&good, "a benign command was not allowed silently"),
    );
    if problems.is_empty() {
        Check {
            name,
            ok: true,
            detail: format!("`{command}` stops `{PROBE_DESTRUCTIVE}` and allows `{PROBE_BENIGN}`"),
        }
    } else {
        Check {
            name,
            ok: false,
            detail: problems.join("; "),
        }
    }
}

/// A synthetic file-edit payload in the agent's own shape (None: the agent's hooks do not
/// see file edits).
pub fn edit_payload(agent: Agent, path: &str, cwd: &Path) -> Option<Value> {
    let cwd = cwd.to_string_lossy().to_string();
    Some(match agent {
        Agent::Claude => json!({
            "session_id": "dbguard-doctor", "transcript_path": "", "cwd": cwd, "permission_mode": "default",
            "hook_event_name": "PreToolUse", "tool_name": "Edit",
            "tool_input": {"file_path": path, "old_string": "production", "new_string": "development"},
            "tool_use_id": "doctor"
        }),
        Agent::Codex => json!({
            "session_id": "dbguard-doctor", "transcript_path": "", "cwd": cwd, "hook_event_name": "PreToolUse",
            "tool_name": "apply_patch",
            "tool_input": {"command": format!("*** Begin Patch\n*** Update File: {path}\n@@\n-a\n+b\n*** End Patch\n")},
            "tool_use_id": "doctor"
        }),
        Agent::Gemini => json!({
            "session_id": "dbguard-doctor", "transcript_path": "", "cwd": cwd, "hook_event_name": "BeforeTool",
            "timestamp": "2026-01-01T00:00:00Z", "tool_name": "write_file",
            "tool_input": {"file_path": path, "content": "x"}
        }),
        Agent::Copilot => json!({
            "timestamp": 1_704_614_600_000_i64, "cwd": cwd, "toolName": "edit",
            "toolArgs": json!({"path": path, "old_str": "a", "new_str": "b"}).to_string()
        }),
        Agent::Cursor => return None,
    })
}

/// The file-edit half of a hook: its matcher covers the agent's file tools, an edit of
/// dbguard.toml is denied and an edit of an ordinary file allowed.
fn probe_edits(site: &HookSite, command: &str, project: &Path, scope: &str) -> Option<Check> {
    let agent = site.agent;
    let name = format!("{} file-edit guard ({scope})", agent.display());
    let Some(bad) = edit_payload(agent, "dbguard.toml", project) else {
        return Some(Check {
            name,
            ok: true,
            detail: "Cursor has no hook before its agent's file edits: dbguard.toml and .cursor/hooks.json are \
                     guarded there only by the shell analysis, signed records and remembered classifications"
                .into(),
        });
    };
    let mut problems = Vec::new();
    if let Some(want) = init::matcher(agent) {
        let matchers = init::installed_hook_matchers(site).unwrap_or_default();
        if !matchers.iter().any(|m| m == want) {
            problems.push(format!(
                "the hook's matcher is {matchers:?}, not {want:?}: file edits do not reach dbguard (run `dbguard init \
                 --agent {}`)",
                agent.name()
            ));
        }
    }
    let good = edit_payload(agent, "src/dbguard_doctor_probe.rs", project)?;
    problems.extend(probe_pair(
        agent,
        command,
        project,
        (&bad.to_string(), "an edit of dbguard.toml was not denied"),
        (&good.to_string(), "an ordinary edit was not allowed silently"),
    ));
    Some(if problems.is_empty() {
        Check {
            name,
            ok: true,
            detail: "edits of dbguard.toml are denied, ordinary edits allowed".into(),
        }
    } else {
        Check {
            name,
            ok: false,
            detail: problems.join("; "),
        }
    })
}

fn check_config(project: &Path) -> Check {
    match crate::config::Config::load(project) {
        Ok(cfg) => match &cfg.path {
            Some(p) => Check {
                name: "configuration".into(),
                ok: true,
                detail: format!(
                    "{} ({} database entr{}{})",
                    p.display(),
                    cfg.databases.len(),
                    if cfg.databases.len() == 1 { "y" } else { "ies" },
                    if cfg.warnings.is_empty() {
                        String::new()
                    } else {
                        format!("; {}", cfg.warnings.join("; "))
                    }
                ),
            },
            None => Check {
                name: "configuration".into(),
                ok: false,
                detail: "no dbguard.toml: production databases are not marked (run `dbguard init`)".into(),
            },
        },
        Err(e) => Check {
            name: "configuration".into(),
            ok: false,
            detail: format!("{e:#}"),
        },
    }
}

fn check_target(project: &Path) -> Check {
    let req = crate::target::ResolveRequest::from_process(None, project.to_path_buf(), None);
    match crate::target::resolve(&req) {
        Ok(t) => match &t.display {
            Some(d) => Check {
                name: "database target".into(),
                ok: true,
                detail: format!(
                    "{d} (from {}; {} environment: {})",
                    t.source,
                    t.environment.as_str(),
                    t.environment_rule
                ),
            },
            None => Check {
                name: "database target".into(),
                ok: false,
                detail: format!("no database URL resolved from this directory ({})", t.source),
            },
        },
        Err(e) => Check {
            name: "database target".into(),
            ok: false,
            detail: format!("{e:#}"),
        },
    }
}
