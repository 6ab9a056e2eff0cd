//! `dbguard init` on real project folders: merging into existing settings without
//! disturbing them, idempotency, `--uninstall` restoring the originals byte for byte,
//! dbguard.toml discovery, the agents' note, and `dbguard doctor` probing the installed hooks.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_dbguard")
}

fn dbguard(dir: &Path, home: &Path, args: &[&str]) -> (i32, String, String) {
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .current_dir(dir)
        .env("DBGUARD_HOME", home)
        .env("HOME", home)
        .env_remove("DBGUARD_CONFIG");
    for (k, _) in std::env::vars() {
        if dbguard_core::agents::AGENT_VARIABLES.iter().any(|(v, _)| *v == k)
            || k.starts_with("PG")
            || k == "DATABASE_URL"
        {
            cmd.env_remove(k);
        }
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

const CLAUDE_SETTINGS: &str = r#"{
  "permissions": {
    "allow": ["Bash(npm test)"]
  },
  "hooks": {
    "PreToolUse": [
      {
        "matcher": "Edit|Write",
        "hooks": [{ "type": "command", "command": "npx prettier --write" }]
      }
    ],
    "PostToolUse": [
      { "matcher": "Bash", "hooks": [{ "type": "command", "command": "./log.sh" }] }
    ]
  },
  "model": "opus"
}
"#;

#[test]
fn init_twice_then_uninstall_restores_claude_settings() {
    let project = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let dir = project.path();
    std::fs::create_dir_all(dir.join(".claude")).unwrap();
    std::fs::write(dir.join(".claude/settings.json"), CLAUDE_SETTINGS).unwrap();
    std::fs::write(dir.join("CLAUDE.md"), "# Project\n\nUse pnpm.\n").unwrap();
    std::fs::write(
        dir.join(".env"),
        "DATABASE_URL=postgres://app:s3cret@localhost:5432/app_dev\n",
    )
    .unwrap();
    std::fs::write(
        dir.join(".env.production"),
        "DATABASE_URL=postgres://app:s3cret@db.prod.example.com/app\n",
    )
    .unwrap();

    let (code, out, err) = dbguard(dir, home.path(), &["init", "--dbguard", bin()]);
    assert_eq!(code, 0, "{out}{err}");
    let first = std::fs::read_to_string(dir.join(".claude/settings.json")).unwrap();
    let (code, _, _) = dbguard(dir, home.path(), &["init", "--dbguard", bin()]);
    assert_eq!(code, 0);
    let second = std::fs::read_to_string(dir.join(".claude/settings.json")).unwrap();
    assert_eq!(first, second, "a second init changes nothing");

    let v: Value = serde_json::from_str(&second).unwrap();
    let pre = v["hooks"]["PreToolUse"].as_array().unwrap();
    assert_eq!(pre.len(), 2, "the existing hook and dbguard's: {second}");
    assert_eq!(pre[0]["hooks"][0]["command"], "npx prettier --write");
    assert_eq!(pre[1]["matcher"], "Bash");
    assert_eq!(pre[1]["hooks"][0]["command"], format!("{} hook claude", bin()));
    assert_eq!(v["hooks"]["PostToolUse"][0]["hooks"][0]["command"], "./log.sh");
    assert_eq!(v["model"], "opus");
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["permissions", "hooks", "model"], "key order kept");

    // The note, once, between markers; no AGENTS.md (only Claude Code is used here).
    let md = std::fs::read_to_string(dir.join("CLAUDE.md")).unwrap();
    assert!(md.starts_with("# Project\n\nUse pnpm.\n"));
    assert_eq!(md.matches("dbguard:begin").count(), 1);
    let section = md.split("dbguard:begin").nth(1).unwrap();
    assert!(section.lines().count() <= 22, "short note: {section}");
    assert!(!dir.join("AGENTS.md").exists());

    // dbguard.toml lists both databases, no password, production guessed.
    let toml_text = std::fs::read_to_string(dir.join("dbguard.toml")).unwrap();
    assert!(
        toml_text.contains("localhost/app_dev") && toml_text.contains("db.prod.example.com/app"),
        "{toml_text}"
    );
    assert!(toml_text.contains("environment = \"production\""));
    assert!(!toml_text.contains("s3cret"));
    std::fs::write(dir.join("dbguard.toml"), "# edited by the user\n").unwrap();
    dbguard(dir, home.path(), &["init", "--dbguard", bin()]);
    assert_eq!(
        std::fs::read_to_string(dir.join("dbguard.toml")).unwrap(),
        "# edited by the user\n",
        "never overwritten"
    );

    // doctor feeds the installed hook a destructive and a benign payload.
    let (_, out, err) = dbguard(dir, home.path(), &["doctor", "--json"]);
    let rep: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    let hook_check = rep["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"].as_str().unwrap().starts_with("Claude Code hook (project"));
    let hook_check = hook_check.unwrap_or_else(|| panic!("{out}"));
    assert_eq!(hook_check["ok"], true, "{hook_check}");

    // Uninstall: byte-for-byte originals.
    std::fs::write(
        dir.join("dbguard.toml"),
        std::fs::read_to_string(dir.join("dbguard.toml")).unwrap(),
    )
    .unwrap();
    let (code, out, err) = dbguard(dir, home.path(), &["init", "--uninstall"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        std::fs::read_to_string(dir.join(".claude/settings.json")).unwrap(),
        CLAUDE_SETTINGS
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("CLAUDE.md")).unwrap(),
        "# Project\n\nUse pnpm.\n"
    );
    assert!(
        dir.join("dbguard.toml").exists(),
        "a dbguard.toml the user edited stays"
    );
}

#[test]
fn uninstall_after_other_changes_removes_only_dbguard() {
    let project = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let dir = project.path();
    std::fs::create_dir_all(dir.join(".claude")).unwrap();
    std::fs::write(dir.join(".claude/settings.json"), CLAUDE_SETTINGS).unwrap();
    dbguard(dir, home.path(), &["init", "--agent", "claude", "--dbguard", "dbguard"]);
    // The user adds a setting afterwards.
    let path = dir.join(".claude/settings.json");
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    v["env"] = serde_json::json!({"FOO": "1"});
    std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    dbguard(dir, home.path(), &["init", "--uninstall"]);
    let after: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let expected: Value = serde_json::from_str(CLAUDE_SETTINGS).unwrap();
    assert_eq!(after["hooks"], expected["hooks"]);
    assert_eq!(after["env"]["FOO"], "1");
    // CLAUDE.md was created by init: it goes.
    assert!(!dir.join("CLAUDE.md").exists());
}

#[test]
fn every_agent_gets_a_valid_file_and_dry_run_writes_nothing() {
    let project = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let dir = project.path();
    for d in [".cursor", ".codex", ".gemini", ".github/workflows"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    std::fs::write(
        dir.join(".cursor/hooks.json"),
        "{\"version\": 1, \"hooks\": {\"afterFileEdit\": [{\"command\": \"fmt\"}]}}",
    )
    .unwrap();
    let (code, out, _) = dbguard(dir, home.path(), &["init", "--dry-run", "--dbguard", "dbguard"]);
    assert_eq!(code, 0);
    assert!(out.contains("would change"), "{out}");
    assert!(!dir.join(".codex/hooks.json").exists() && !dir.join("dbguard.toml").exists());

    dbguard(dir, home.path(), &["init", "--dbguard", "dbguard"]);
    let read = |p: &str| -> Value { serde_json::from_str(&std::fs::read_to_string(dir.join(p)).unwrap()).unwrap() };
    let cursor = read(".cursor/hooks.json");
    assert_eq!(cursor["version"], 1);
    assert_eq!(cursor["hooks"]["afterFileEdit"][0]["command"], "fmt");
    assert_eq!(
        cursor["hooks"]["beforeShellExecution"][0]["command"],
        "dbguard hook cursor"
    );
    let codex = read(".codex/hooks.json");
    assert_eq!(codex["hooks"]["PreToolUse"][0]["matcher"], "Bash");
    assert_eq!(
        codex["hooks"]["PreToolUse"][0]["hooks"][0]["command"],
        "dbguard hook codex"
    );
    let gemini = read(".gemini/settings.json");
    assert_eq!(gemini["hooks"]["BeforeTool"][0]["matcher"], "run_shell_command");
    let copilot = read(".github/hooks/dbguard.json");
    assert_eq!(copilot["version"], 1);
    assert_eq!(copilot["hooks"]["preToolUse"][0]["bash"], "dbguard hook copilot");
    assert!(dir.join("AGENTS.md").exists() && !dir.join("CLAUDE.md").exists());

    dbguard(dir, home.path(), &["init", "--uninstall"]);
    assert_eq!(
        std::fs::read_to_string(dir.join(".cursor/hooks.json")).unwrap(),
        "{\"version\": 1, \"hooks\": {\"afterFileEdit\": [{\"command\": \"fmt\"}]}}"
    );
    for gone in [
        ".codex/hooks.json",
        ".gemini/settings.json",
        ".github/hooks/dbguard.json",
        "AGENTS.md",
        "dbguard.toml",
    ] {
        assert!(!dir.join(gone).exists(), "{gone} should be gone");
    }
    assert!(!dir.join(".github/hooks").exists() && dir.join(".github/workflows").exists());
}
