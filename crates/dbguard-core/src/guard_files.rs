//! dbguard's own settings and records: which paths an agent must not change.
//!
//! The guard is only as strong as its configuration: an agent that edits
//! `environment = "production"` into `"development"` in dbguard.toml, removes the hook from
//! `.claude/settings.json`, or writes an approval into the data directory has walked around
//! it. Every door that sees a write asks here: the agents' file-edit hooks (the edge passes
//! the path as given and as resolved on disk) and the shell analysis (`sed -i`, `>`, `tee`,
//! `rm`, `mv`, `cp`... in `shell/recognizers/guard_settings.rs`). Pure: the data directory
//! comes from the caller.

use crate::paths::normalize;

/// Why `path` is one of dbguard's guarded files, if it is. `data_dir` is dbguard's data
/// directory (absolute, `DBGUARD_HOME`), when known; `path` may be relative.
pub fn guarded(path: &str, data_dir: Option<&str>) -> Option<&'static str> {
    let p = normalize(path);
    if p.is_empty() {
        return None;
    }
    let comps: Vec<&str> = p.split('/').filter(|c| !c.is_empty()).collect();
    let name = *comps.last()?;
    let parent = comps.len().checked_sub(2).map(|i| comps[i]);
    if name == "dbguard.toml" {
        return Some("dbguard's configuration (dbguard.toml), which says which databases are production");
    }
    if in_data_dir(&p, data_dir) {
        return Some("dbguard's data directory (approvals, remembered classifications, keys, audit log, snapshots)");
    }
    match (parent, name) {
        (Some(".claude"), n) if n.starts_with("settings") && n.ends_with(".json") => {
            Some("Claude Code's settings, where dbguard's hook is installed")
        }
        (Some(".cursor"), "hooks.json") => Some("Cursor's hooks file, where dbguard's hook is installed"),
        (Some(".codex"), "hooks.json") => Some("Codex's hooks file, where dbguard's hook is installed"),
        (Some(".codex"), "config.toml") => Some("Codex's configuration, which turns its hooks on or off"),
        (Some(".gemini"), "settings.json") => Some("Gemini CLI's settings, where dbguard's hook is installed"),
        (Some("hooks"), n) if n.ends_with(".json") && comps.len() >= 3 => match comps[comps.len() - 3] {
            ".github" | ".copilot" => Some("GitHub Copilot CLI's hooks, where dbguard's hook is installed"),
            _ => None,
        },
        _ => None,
    }
}

/// Why deleting or moving the directory `path` takes guarded files with it, if it does:
/// an agent's settings folder, or the data directory or one of its parents.
pub fn guarded_dir(path: &str, data_dir: Option<&str>) -> Option<&'static str> {
    if let Some(why) = guarded(path, data_dir) {
        return Some(why);
    }
    let p = normalize(path);
    let trimmed = p.trim_end_matches('/');
    let name = trimmed.rsplit('/').next().unwrap_or(trimmed);
    if matches!(name, ".claude" | ".cursor" | ".codex" | ".gemini" | ".copilot") || trimmed.ends_with(".github/hooks") {
        return Some("an agent's settings folder, where dbguard's hook is installed");
    }
    if let Some(d) = data_dir {
        let d = normalize(d);
        if p.starts_with('/') && (d == trimmed || d.starts_with(&format!("{trimmed}/"))) {
            return Some("a folder holding dbguard's data directory (approvals, keys, audit log, snapshots)");
        }
    }
    if trimmed.ends_with("/.local/share") || trimmed.ends_with("/.local") || trimmed == "~" {
        return Some("a folder holding dbguard's data directory (approvals, keys, audit log, snapshots)");
    }
    None
}

/// Inside the data directory: under `data_dir`, under the default location
/// (`~/.local/share/dbguard`, and the user configuration `~/.config/dbguard`), or named
/// through `$DBGUARD_HOME`.
fn in_data_dir(p: &str, data_dir: Option<&str>) -> bool {
    if p.contains("$DBGUARD_HOME") || p.contains("${DBGUARD_HOME}") {
        return true;
    }
    let under = |root: &str| p == root || p.starts_with(&format!("{root}/"));
    if let Some(d) = data_dir {
        let d = normalize(d);
        if d.len() > 1 && under(d.trim_end_matches('/')) {
            return true;
        }
    }
    [".local/share/dbguard", ".config/dbguard"].iter().any(|suffix| {
        p.contains(&format!("/{suffix}/"))
            || p.ends_with(&format!("/{suffix}"))
            || p.starts_with(&format!("~/{suffix}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guarded_paths() {
        let home = Some("/home/u/.local/share/dbguard");
        for p in [
            "dbguard.toml",
            "./dbguard.toml",
            "/srv/app/dbguard.toml",
            "sub/../dbguard.toml",
            ".claude/settings.json",
            ".claude/settings.local.json",
            "/home/u/.claude/settings.json",
            ".cursor/hooks.json",
            ".codex/hooks.json",
            ".codex/config.toml",
            ".gemini/settings.json",
            ".github/hooks/dbguard.json",
            "/home/u/.copilot/hooks/dbguard.json",
            "/home/u/.local/share/dbguard/approvals/AAA-222.json",
            "/home/u/.local/share/dbguard/keys/records.key",
            "~/.local/share/dbguard/audit.log",
            "$DBGUARD_HOME/approvals/X.json",
            "/home/u/.config/dbguard/dbguard.toml",
        ] {
            assert!(guarded(p, home).is_some(), "{p}");
        }
        assert!(guarded("/custom/home/approvals/x.json", Some("/custom/home")).is_some());
        for p in [
            "",
            "src/main.rs",
            "dbguard.toml.example",
            "docs/dbguard.md",
            ".claude/commands/x.md",
            ".claude/agents/settings-helper.md",
            ".github/workflows/ci.json",
            "hooks/x.json",
            "/home/u/.local/share/other/x",
            "/custom/homework/x",
        ] {
            assert!(guarded(p, Some("/custom/home")).is_none(), "{p}");
        }
    }

    #[test]
    fn guarded_dirs() {
        let home = Some("/home/u/.local/share/dbguard");
        for p in [
            ".claude",
            ".claude/",
            "/p/.cursor",
            ".github/hooks",
            "/home/u/.local/share",
            "/home/u",
            "/",
            "~",
        ] {
            assert!(guarded_dir(p, home).is_some(), "{p}");
        }
        for p in ["node_modules", "/tmp/x", ".github", "src"] {
            assert!(guarded_dir(p, home).is_none(), "{p}");
        }
    }
}
