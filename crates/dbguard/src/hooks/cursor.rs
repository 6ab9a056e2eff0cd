//! Cursor `beforeShellExecution` hook protocol (`.cursor/hooks.json` /
//! `~/.cursor/hooks.json`, `{"version": 1, "hooks": {"beforeShellExecution": [{"command": ...}]}}`).
//!
//! Sources (checked for this implementation):
//! - https://cursor.com/docs/agent/hooks (events, input `{"command", "cwd"}` plus the common
//!   `conversation_id`, `generation_id`, `hook_event_name`, `workspace_roots`; output
//!   `{"permission": "allow" | "deny" | "ask", "user_message", "agent_message"}`; exit code 2
//!   also blocks, other failures fail open)
//! - https://cupcake.eqtylab.io/reference/harnesses/cursor (payload examples)
//! - Reports that only `deny` is honoured in every run mode (an `ask` on an allow-listed
//!   command runs it): Cursor forum, summarized in public hook adapters (e.g. "Only 'deny'
//!   works correctly in all cases"). Hence deny + approval code, never ask.

use serde_json::json;

use super::{cwd_from, parse_json, str_field, Decision, Payload};

pub fn parse(raw: &[u8]) -> Result<Payload, String> {
    let v = parse_json(raw)?;
    if !v.is_object() {
        return Err("payload is not a JSON object".into());
    }
    if let Some(ev) = str_field(&v, "hook_event_name") {
        if ev != "beforeShellExecution" {
            return Err(format!(
                "unexpected hook event {ev:?} (dbguard answers beforeShellExecution)"
            ));
        }
    }
    let command = str_field(&v, "command").ok_or("payload has no command string")?;
    // `cwd` can be empty; the first workspace root is the next best guess.
    let cwd = str_field(&v, "cwd").filter(|s| !s.is_empty()).or_else(|| {
        v.get("workspace_roots")
            .and_then(|r| r.as_array())
            .and_then(|a| a.first())
            .and_then(|x| x.as_str())
    });
    Ok(Payload::Shell {
        command: command.to_string(),
        cwd: cwd_from(cwd),
        tool_input: None,
    })
}

pub fn render(decision: &Decision) -> Option<String> {
    let (agent, user) = decision.as_deny()?;
    Some(json!({"permission": "deny", "user_message": user, "agent_message": agent}).to_string())
}
