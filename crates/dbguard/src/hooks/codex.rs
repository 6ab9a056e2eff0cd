//! Codex `PreToolUse` hook protocol (`.codex/hooks.json` / `~/.codex/hooks.json`, the
//! Claude Code shape, matcher `Bash`).
//!
//! Sources (checked for this implementation):
//! - https://developers.openai.com/codex/hooks (hooks.json locations, `PreToolUse` input with
//!   `tool_name: "Bash"` and `tool_input.command`; the deny shape
//!   `hookSpecificOutput.permissionDecision: "deny"` + `permissionDecisionReason`; and:
//!   "`permissionDecision: "allow"` and `"ask"`, legacy `decision: "approve"`,
//!   `updatedInput`, ... are parsed but not supported yet, so they fail open")
//! - https://github.com/openai/codex/blob/main/codex-rs/hooks/schema/generated/pre-tool-use.command.output.schema.json
//! - https://developers.openai.com/codex/hooks ("Hooks are enabled by default"; `[features]
//!   hooks = false` turns them off, `codex_hooks` is the deprecated name) and openai/codex#19012
//!   (stable, on by default, April 2026): `dbguard init` writes `[features] hooks = true` into
//!   config.toml where it is missing (sources and reasons in `commands/init.rs`).
//!
//! Because `ask` and `updatedInput` fail open (the command would run unguarded), Codex only
//! ever gets `deny` (with the approval path) or nothing.

use serde_json::json;

use super::{parse_json, Decision, Payload};

pub fn parse(raw: &[u8]) -> Result<Payload, String> {
    let v = parse_json(raw)?;
    // Codex names its shell tool `Bash` in hooks (exec_command and unified exec included).
    super::claude::parse_value(&v, &["Bash", "shell", "exec_command"], super::edits::CODEX_TOOLS)
}

pub fn render(decision: &Decision) -> Option<String> {
    // Ask is never emitted for Codex (it fails open there); answered as a deny to stay safe.
    let (reason, _) = decision.as_deny()?;
    Some(
        json!({
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": "deny",
                "permissionDecisionReason": reason,
            }
        })
        .to_string(),
    )
}
