//! Claude Code `PreToolUse` hook protocol (matcher `Bash|Edit|Write|MultiEdit|NotebookEdit`:
//! shell commands here, file edits in `edits.rs`; configured in
//! `.claude/settings.json` / `~/.claude/settings.json` under `hooks.PreToolUse`).
//!
//! Sources (checked for this implementation):
//! - https://code.claude.com/docs/en/hooks.md#pretooluse (hooks reference: input fields,
//!   `hookSpecificOutput.permissionDecision` allow|deny|ask, `permissionDecisionReason`
//!   shown to Claude on deny and to the user on ask, `updatedInput` rewrites the tool input
//!   and combines with `ask` to show the modified input to the user)
//! - https://docs.anthropic.com/de/docs/claude-code/hooks (settings layout, matchers)
//!
//! Input: `{"session_id", "transcript_path", "cwd", "permission_mode", "hook_event_name":
//! "PreToolUse", "tool_name": "Bash", "tool_input": {"command", "description", "timeout"...},
//! "tool_use_id"}`. Output: nothing for a plain allow; otherwise exit 0 with
//! `{"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": ...,
//! "permissionDecisionReason": ..., "updatedInput": {...}}}`.

use serde_json::{json, Value};

use super::{cwd_from, parse_json, str_field, Decision, Payload};

/// Parse a Claude Code (or Codex, same shape) `PreToolUse` payload.
pub fn parse(raw: &[u8]) -> Result<Payload, String> {
    let v = parse_json(raw)?;
    parse_value(&v, &["Bash"], super::edits::CLAUDE_TOOLS)
}

/// Shared with Codex: `tool_name` must be one of `shell_tools` for the command to be checked,
/// or one of `edit_tools` for the files it writes to be.
pub(crate) fn parse_value(v: &Value, shell_tools: &[&str], edit_tools: &[&str]) -> Result<Payload, String> {
    if !v.is_object() {
        return Err("payload is not a JSON object".into());
    }
    if let Some(ev) = str_field(v, "hook_event_name") {
        if ev != "PreToolUse" {
            return Err(format!("unexpected hook event {ev:?} (dbguard answers PreToolUse)"));
        }
    }
    let tool = str_field(v, "tool_name").ok_or("payload has no tool_name")?;
    if edit_tools.contains(&tool) {
        let input = v.get("tool_input").ok_or("payload has no tool_input")?;
        return Ok(Payload::FileEdit {
            tool: tool.to_string(),
            paths: super::edits::paths_of(tool, input),
            cwd: cwd_from(str_field(v, "cwd")),
        });
    }
    if !shell_tools.contains(&tool) {
        return Ok(Payload::OtherTool);
    }
    let input = v.get("tool_input").ok_or("payload has no tool_input")?;
    let command = str_field(input, "command").ok_or("tool_input has no command string")?;
    Ok(Payload::Shell {
        command: command.to_string(),
        cwd: cwd_from(str_field(v, "cwd")),
        tool_input: Some(input.clone()),
    })
}

/// Claude Code's answer.
pub fn render(decision: &Decision, payload: Option<&Payload>) -> Option<String> {
    let out = match decision {
        Decision::Allow => return None,
        Decision::Deny { agent_message, .. } => json!({
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": "deny",
                "permissionDecisionReason": agent_message,
            }
        }),
        Decision::Ask { reason, rewritten } => {
            // Keep every other field of the tool input (description, timeout...).
            let mut input = match payload {
                Some(Payload::Shell {
                    tool_input: Some(Value::Object(m)),
                    ..
                }) => Value::Object(m.clone()),
                _ => json!({}),
            };
            input["command"] = Value::String(rewritten.clone());
            json!({
                "hookSpecificOutput": {
                    "hookEventName": "PreToolUse",
                    "permissionDecision": "ask",
                    "permissionDecisionReason": reason,
                    "updatedInput": input,
                }
            })
        }
    };
    Some(out.to_string())
}
