//! File edits by agents: the hook denies edits of dbguard's own settings and records
//! (`dbguard_core::guard_files`: dbguard.toml, the agents' hook settings, the data
//! directory) and lets every other edit through silently.
//!
//! Which tools each agent's hook sees, and what they carry (sources checked for this):
//! - Claude Code `PreToolUse`, matcher `Bash|Edit|Write|MultiEdit|NotebookEdit`: `Edit`,
//!   `Write`, `MultiEdit` carry `tool_input.file_path` (absolute), `NotebookEdit`
//!   `tool_input.notebook_path` (https://code.claude.com/docs/en/hooks.md#pretooluse,
//!   "PreToolUse input": tool input shapes; the matcher is a regular expression).
//! - Codex `PreToolUse`: `apply_patch` edits run the hooks since openai/codex#18391 (April
//!   2026, fixing #16732), with `tool_name: "apply_patch"` and the whole patch as
//!   `tool_input.command`; its `*** Add File:`, `*** Update File:`, `*** Delete File:` and
//!   `*** Move to:` lines name the files. The matcher `apply_patch|Edit|Write` covers the
//!   aliases #18295 asked for. Known gap: openai/codex#27833 reports a deny not enforced for
//!   `apply_patch` on Windows (the hook fires, the write proceeds).
//! - Gemini CLI `BeforeTool`, matcher `run_shell_command|write_file|replace`: `write_file`
//!   and `replace` carry `tool_input.file_path` (docs/hooks/reference.md and the
//!   "write_file|replace" example in google-gemini/gemini-cli's hooks docs; WriteFileToolParams
//!   in packages/core/src/tools/write-file.ts), newer releases also a `files` list.
//! - Copilot CLI `preToolUse` has no matcher: every tool reaches the hook; file edits are
//!   `toolName` `edit` and `create` with `toolArgs.path`
//!   (https://docs.github.com/en/copilot/reference/hooks-configuration; github/copilot-sdk
//!   docs/hooks, "React when the agent creates or edits files").
//! - Cursor has no hook before its agent's own file edits (`afterFileEdit` runs after the
//!   write and cannot block: https://cursor.com/docs/agent/hooks; cupcake's Cursor
//!   reference lists it as fire-and-forget). What holds there: the shell analysis, signed
//!   approvals, and the remembered (sticky) classification.

use std::path::{Path, PathBuf};

use dbguard_core::guard_files::guarded;
use dbguard_core::paths::normalize;
use serde_json::Value;

use super::{deny_both, Agent, Decision};

/// Claude Code's file tools.
pub const CLAUDE_TOOLS: &[&str] = &["Edit", "Write", "MultiEdit", "NotebookEdit"];
/// Codex: its patch tool, and the names its matcher also accepts.
pub const CODEX_TOOLS: &[&str] = &["apply_patch", "Edit", "Write"];
/// Gemini CLI's file tools.
pub const GEMINI_TOOLS: &[&str] = &["write_file", "replace"];
/// Copilot CLI's file tools.
pub const COPILOT_TOOLS: &[&str] = &["edit", "create", "write", "str_replace_editor"];

/// The files a Claude Code / Codex / Gemini / Copilot tool input says it writes.
pub fn paths_of(tool: &str, input: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for key in ["file_path", "notebook_path", "path", "absolute_path"] {
        if let Some(p) = input.get(key).and_then(|v| v.as_str()) {
            out.push(p.to_string());
        }
    }
    if let Some(files) = input.get("files").and_then(|f| f.as_array()) {
        for f in files {
            if let Some(p) = f.get("file_path").or_else(|| f.get("path")).and_then(|v| v.as_str()) {
                out.push(p.to_string());
            }
        }
    }
    if tool == "apply_patch"
        || input
            .get("command")
            .is_some_and(|c| c.as_str().is_some_and(|s| s.contains("*** Begin Patch")))
    {
        for key in ["command", "patch", "input"] {
            if let Some(text) = input.get(key).and_then(|v| v.as_str()) {
                out.extend(patch_paths(text));
            }
        }
    }
    out
}

/// Files named by a Codex patch (`*** Add File: p`, `*** Update File: p`, `*** Delete File:
/// p`, `*** Move to: p`).
pub fn patch_paths(patch: &str) -> Vec<String> {
    patch
        .lines()
        .filter_map(|l| {
            let l = l.trim_start();
            ["*** Add File:", "*** Update File:", "*** Delete File:", "*** Move to:"]
                .iter()
                .find_map(|m| l.strip_prefix(m))
                .map(|p| p.trim().to_string())
        })
        .filter(|p| !p.is_empty())
        .collect()
}

/// The guarded file among `paths`, and why, if any. Each path is checked as written,
/// against the working directory, and as resolved on disk (a symlink to dbguard.toml).
pub fn first_guarded(paths: &[String], cwd: &Path) -> Option<(String, &'static str)> {
    let home = crate::config::data_dir();
    let home = std::path::absolute(&home)
        .unwrap_or(home)
        .to_string_lossy()
        .into_owned();
    for p in paths {
        let expanded = match p.strip_prefix("~/") {
            Some(rest) => dirs::home_dir()
                .map(|h| h.join(rest))
                .unwrap_or_else(|| PathBuf::from(p)),
            None => PathBuf::from(p),
        };
        let abs = if expanded.is_absolute() {
            expanded
        } else {
            cwd.join(expanded)
        };
        let lexical = normalize(&abs.to_string_lossy());
        let on_disk = crate::fs_lookup::resolve_on_disk(Path::new(&lexical));
        let why = guarded(p, Some(&home))
            .or_else(|| guarded(&lexical, Some(&home)))
            .or_else(|| guarded(&on_disk.to_string_lossy(), Some(&home)));
        if let Some(w) = why {
            return Some((p.clone(), w));
        }
    }
    None
}

/// The hook's answer to a file edit: deny for dbguard's own files (logged), else allow.
pub fn decide(agent: Agent, tool: &str, paths: &[String], cwd: &Path, probe: bool) -> Decision {
    let Some((path, why)) = first_guarded(paths, cwd) else {
        return Decision::Allow;
    };
    let msg = format!(
        "dbguard stopped this edit: {path} is {why}. dbguard's own settings and records are changed by the \
user, by hand, never by an agent: an agent that could edit them could mark a production database as \
development, remove the hook, or approve its own commands.\n\nDo not retry this edit, and do not work \
around it (no other tool, shell command such as sed or a redirection, or script). If a change is needed, \
tell the user exactly what you would change and why. To lower a database's classification, the user runs \
`dbguard classify <database> <environment>` and approves it with `dbguard approve <code>` in their own \
terminal."
    );
    if !probe {
        record(agent, tool, &path, why, cwd);
    }
    deny_both(msg)
}

/// One audit line per denied edit (a denied edit is worth knowing about; failures to log do
/// not turn the deny into an allow).
fn record(agent: Agent, tool: &str, path: &str, why: &str, cwd: &Path) {
    let now = crate::audit::now_unix();
    let entry = crate::audit::Entry {
        time: crate::snapshot::store::rfc3339(now),
        unix: now,
        id: crate::audit::new_id(),
        door: crate::audit::door::HOOK.into(),
        cwd: dbguard_core::redact::redact_text(&cwd.display().to_string()),
        command: format!("{tool} {path}"),
        agent: Some(agent.display().to_string()),
        target: None,
        database: None,
        environment: "unknown".into(),
        findings: vec![crate::audit::FindingRecord {
            kind: dbguard_core::FindingKind::GuardSettings.as_str().into(),
            object: Some(path.to_string()),
            tool: Some(tool.to_string()),
        }],
        impact: None,
        verdict: "block".into(),
        reason: format!("an agent's file edit of {why}"),
        rule: "guard settings".into(),
        approval: None,
        snapshot: None,
        outcome: crate::audit::outcome::BLOCKED.into(),
        exit_code: None,
        detail: Some("hook answer: deny".into()),
    };
    let _ = crate::audit::record(&entry);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_from_each_tool() {
        assert_eq!(
            paths_of("Edit", &json!({"file_path": "/p/dbguard.toml", "old_string": "a"})),
            ["/p/dbguard.toml"]
        );
        assert_eq!(
            paths_of("NotebookEdit", &json!({"notebook_path": "/p/n.ipynb"})),
            ["/p/n.ipynb"]
        );
        assert_eq!(
            paths_of(
                "write_file",
                &json!({"files": [{"file_path": "a"}, {"file_path": "b"}]})
            ),
            ["a", "b"]
        );
        let patch = "*** Begin Patch\n*** Update File: src/a.rs\n@@\n-x\n+y\n*** Add File: dbguard.toml\n+x\n*** Update File: b.rs\n*** Move to: .claude/settings.json\n*** End Patch";
        assert_eq!(
            paths_of("apply_patch", &json!({"command": patch})),
            ["src/a.rs", "dbguard.toml", "b.rs", ".claude/settings.json"]
        );
    }

    #[test]
    fn guarded_edits() {
        let d = tempfile::tempdir().unwrap();
        let cwd = d.path();
        assert!(first_guarded(&["dbguard.toml".into()], cwd).is_some());
        assert!(first_guarded(&["sub/../.claude/settings.json".into()], cwd).is_some());
        assert!(first_guarded(&["src/main.rs".into(), "README.md".into()], cwd).is_none());
        // A symlink to dbguard.toml under another name.
        std::fs::write(cwd.join("dbguard.toml"), "").unwrap();
        std::os::unix::fs::symlink(cwd.join("dbguard.toml"), cwd.join("notes.txt")).unwrap();
        assert!(first_guarded(&["notes.txt".into()], cwd).is_some());
    }
}
