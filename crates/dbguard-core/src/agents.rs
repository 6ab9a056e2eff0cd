//! AI coding agents, recognized by the environment variables their shells carry.
//! The one list dbguard keeps: `run`, `approve`, the hook and `doctor` all ask here.

/// Variables that mark a process as started by an AI coding agent, and the agent's name.
pub const AGENT_VARIABLES: &[(&str, &str)] = &[
    ("CLAUDECODE", "Claude Code"),
    ("CLAUDE_CODE_ENTRYPOINT", "Claude Code"),
    ("CURSOR_AGENT", "Cursor"),
    ("CURSOR_TRACE_ID", "Cursor"),
    ("CODEX_SANDBOX", "Codex"),
    ("CODEX_THREAD_ID", "Codex"),
    ("CODEX_MANAGED_BY_NPM", "Codex"),
    ("GEMINI_CLI", "Gemini CLI"),
    ("COPILOT_CLI", "GitHub Copilot CLI"),
    ("CLINE_ACTIVE", "Cline"),
    ("AUGMENT_AGENT", "Augment"),
    ("OPENCODE", "opencode"),
    ("QWEN_CODE", "Qwen Code"),
    ("AIDER", "aider"),
    ("AI_AGENT", "an AI agent"),
    ("REPLIT_SESSION", "Replit Agent"),
];

/// The first agent whose marker variable is set (non-empty), if any.
pub fn detect<'a, I>(vars: I) -> Option<&'static str>
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    for (k, v) in vars {
        if v.is_empty() {
            continue;
        }
        if let Some((_, name)) = AGENT_VARIABLES.iter().find(|(var, _)| *var == k) {
            return Some(name);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_known_agents() {
        assert_eq!(detect([("PATH", "/bin"), ("CLAUDECODE", "1")]), Some("Claude Code"));
        assert_eq!(detect([("CURSOR_AGENT", "1")]), Some("Cursor"));
        assert_eq!(detect([("CLAUDECODE", "")]), None);
        assert_eq!(detect([("HOME", "/root")]), None);
    }
}
