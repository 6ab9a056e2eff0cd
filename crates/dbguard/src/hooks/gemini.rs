//! Gemini CLI `BeforeTool` hook protocol (matcher `run_shell_command|write_file|replace`:
//! file edits are decided in `edits.rs`; configured in
//! `.gemini/settings.json` / `~/.gemini/settings.json` under `hooks.BeforeTool`).
//!
//! Sources (checked for this implementation):
//! - https://geminicli.com/docs/hooks/reference (and docs/hooks/reference.md in
//!   google-gemini/gemini-cli): base input `session_id`, `transcript_path`, `cwd`,
//!   `hook_event_name`, `timestamp`; `BeforeTool` adds `tool_name`, `tool_input`;
//!   output `decision: "allow" | "deny"` (alias `"block"`), `reason` sent to the agent as
//!   the tool error, `systemMessage` shown to the user; stdout must hold only the JSON.
//! - https://geminicli.com/docs/hooks (events, matchers, `run_shell_command`)
//! - docs/cli/settings.md in google-gemini/gemini-cli: `hooksConfig.enabled`, "Canonical toggle
//!   for the hooks system", default true since google-gemini/gemini-cli#17247 (January 2026):
//!   `dbguard init` sets it where it is missing (sources and reasons in `commands/init.rs`).
//!
//! `run_shell_command` takes `command`, `description` and an optional directory
//! (`dir_path`, formerly `directory`) relative to the project root.

use serde_json::json;

use super::{cwd_from, parse_json, str_field, Decision, Payload};

pub fn parse(raw: &[u8]) -> Result<Payload, String> {
    let v = parse_json(raw)?;
    if !v.is_object() {
        return Err("payload is not a JSON object".into());
    }
    if let Some(ev) = str_field(&v, "hook_event_name") {
        if ev != "BeforeTool" {
            return Err(format!("unexpected hook event {ev:?} (dbguard answers BeforeTool)"));
        }
    }
    let tool = str_field(&v, "tool_name").ok_or("payload has no tool_name")?;
    if super::edits::GEMINI_TOOLS.contains(&tool) {
        let input = v.get("tool_input").ok_or("payload has no tool_input")?;
        return Ok(Payload::FileEdit {
            tool: tool.to_string(),
            paths: super::edits::paths_of(tool, input),
            cwd: cwd_from(str_field(&v, "cwd")),
        });
    }
    if tool != "run_shell_command" {
        return Ok(Payload::OtherTool);
    }
    let input = v.get("tool_input").ok_or("payload has no tool_input")?;
    let command = str_field(input, "command").ok_or("tool_input has no command string")?;
    let mut cwd = cwd_from(str_field(&v, "cwd"));
    if let Some(dir) = str_field(input, "dir_path")
        .or_else(|| str_field(input, "directory"))
        .filter(|d| !d.is_empty())
    {
        cwd = cwd.join(dir);
    }
    Ok(Payload::Shell {
        command: command.to_string(),
        cwd,
        tool_input: Some(input.clone()),
    })
}

pub fn render(decision: &Decision) -> Option<String> {
    let (reason, user) = decision.as_deny()?;
    Some(json!({"decision": "deny", "reason": reason, "systemMessage": user}).to_string())
}
