//! GitHub Copilot CLI `preToolUse` hook protocol (`.github/hooks/*.json`,
//! `{"version": 1, "hooks": {"preToolUse": [{"type": "command", "bash": ...}]}}`).
//!
//! Sources (checked for this implementation):
//! - https://docs.github.com/en/copilot/reference/hooks-configuration (input
//!   `{"timestamp", "cwd", "toolName": "bash", "toolArgs": "<JSON string>"}`; output
//!   `{"permissionDecision", "permissionDecisionReason"}`, "only `"deny"` is currently
//!   processed"; no output allows)
//! - https://docs.github.com/en/copilot/reference/copilot-cli-reference/cli-hooks-reference
//!   (configuration format, `.github/hooks/*.json` loaded from the repository)
//!
//! `toolArgs` is a JSON *string*; it is parsed a second time. Newer builds may send an object:
//! both are accepted.

use serde_json::{json, Value};

use super::{cwd_from, parse_json, str_field, Decision, Payload};

/// Copilot's shell tools.
const SHELL_TOOLS: &[&str] = &["bash", "shell", "powershell"];

pub fn parse(raw: &[u8]) -> Result<Payload, String> {
    let v = parse_json(raw)?;
    if !v.is_object() {
        return Err("payload is not a JSON object".into());
    }
    let tool = str_field(&v, "toolName").ok_or("payload has no toolName")?;
    let edit = super::edits::COPILOT_TOOLS.contains(&tool);
    if !SHELL_TOOLS.contains(&tool) && !edit {
        return Ok(Payload::OtherTool);
    }
    let args: Value = match v.get("toolArgs") {
        Some(Value::String(s)) => serde_json::from_str(s).map_err(|e| format!("toolArgs is not valid JSON: {e}"))?,
        Some(o @ Value::Object(_)) => o.clone(),
        _ => return Err("payload has no toolArgs".into()),
    };
    if edit {
        return Ok(Payload::FileEdit {
            tool: tool.to_string(),
            paths: super::edits::paths_of(tool, &args),
            cwd: cwd_from(str_field(&v, "cwd")),
        });
    }
    let command = str_field(&args, "command").ok_or("toolArgs has no command string")?;
    Ok(Payload::Shell {
        command: command.to_string(),
        cwd: cwd_from(str_field(&v, "cwd")),
        tool_input: Some(args.clone()),
    })
}

pub fn render(decision: &Decision) -> Option<String> {
    let (reason, _) = decision.as_deny()?;
    Some(json!({"permissionDecision": "deny", "permissionDecisionReason": reason}).to_string())
}
