//! `dbguard init` on real project folders: merging into existing settings without
//! disturbing them, idempotency, `--uninstall` restoring the originals byte for byte,
//! dbguard.toml discovery, the agents' note, and `dbguard doctor` probing the installed hooks;
//! the hooks switches of Codex (`[features] hooks` in config.toml) and Gemini CLI
//! (`hooksConfig.enabled`), added only where missing and removed exactly on uninstall.

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
        .env_remove("CODEX_HOME")
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
    assert_eq!(pre[1]["matcher"], "Bash|Edit|Write|MultiEdit|NotebookEdit");
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
    assert_eq!(
        codex["hooks"]["PreToolUse"][0]["matcher"],
        "Bash|apply_patch|Edit|Write"
    );
    assert_eq!(
        codex["hooks"]["PreToolUse"][0]["hooks"][0]["command"],
        "dbguard hook codex"
    );
    let gemini = read(".gemini/settings.json");
    assert_eq!(
        gemini["hooks"]["BeforeTool"][0]["matcher"],
        "run_shell_command|write_file|replace"
    );
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

const CODEX_CONFIG: &str = r#"# my Codex settings
model = "gpt-5"   # the default model

[features]
# experiments I like
web_search = true

[mcp_servers.docs]
command = "docs-mcp"
"#;

const GEMINI_SETTINGS: &str = r#"{
  "theme": "GitHub",
  "hooksConfig": {
    "notifications": false
  }
}
"#;

fn read(dir: &Path, p: &str) -> String {
    std::fs::read_to_string(dir.join(p)).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn switch_check(dir: &Path, home: &Path, agent: &str) -> Value {
    let (_, out, err) = dbguard(dir, home, &["doctor", "--json", "--cwd", dir.to_str().unwrap()]);
    let rep: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    rep["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == format!("{agent} hooks switch"))
        .cloned()
        .unwrap_or_else(|| panic!("no {agent} hooks switch check: {out}"))
}

fn codex_features(text: &str) -> toml::Table {
    let t: toml::Table = toml::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"));
    t.get("features")
        .and_then(|f| f.as_table())
        .cloned()
        .unwrap_or_default()
}

#[test]
fn codex_and_gemini_switches_are_added_idempotently_and_removed_exactly() {
    let project = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let dir = project.path();
    std::fs::create_dir_all(dir.join(".codex")).unwrap();
    std::fs::create_dir_all(dir.join(".gemini")).unwrap();
    std::fs::write(dir.join(".codex/config.toml"), CODEX_CONFIG).unwrap();
    std::fs::write(dir.join(".gemini/settings.json"), GEMINI_SETTINGS).unwrap();

    // Not set yet: doctor says so.
    for agent in ["Codex", "Gemini CLI"] {
        let c = switch_check(dir, home.path(), agent);
        assert_eq!(c["ok"], false, "{c}");
        assert!(c["detail"].as_str().unwrap().contains("is not set"), "{c}");
    }

    let (code, out, err) = dbguard(
        dir,
        home.path(),
        &["init", "--agent", "codex,gemini", "--dbguard", bin()],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("/hooks"), "Codex's hook review is mentioned: {out}");
    let codex = read(dir, ".codex/config.toml");
    // One line added under the existing [features] header; every other byte as it was.
    let line = codex
        .lines()
        .find(|l| l.starts_with("hooks = true"))
        .unwrap_or_else(|| panic!("{codex}"));
    assert!(line.contains("# added by dbguard init"), "{line}");
    assert_eq!(codex.replace(&format!("{line}\n"), ""), CODEX_CONFIG);
    assert!(
        codex.contains(&format!("[features]\n{line}\n# experiments I like\n")),
        "{codex}"
    );
    let f = codex_features(&codex);
    assert_eq!(f["hooks"].as_bool(), Some(true));
    assert_eq!(f["web_search"].as_bool(), Some(true));

    let gemini: Value = serde_json::from_str(&read(dir, ".gemini/settings.json")).unwrap();
    assert_eq!(gemini["hooksConfig"]["enabled"], true, "{gemini}");
    assert_eq!(gemini["hooksConfig"]["notifications"], false);
    assert_eq!(gemini["theme"], "GitHub");
    assert_eq!(
        gemini["hooks"]["BeforeTool"][0]["matcher"],
        "run_shell_command|write_file|replace"
    );

    // Twice: nothing changes.
    let (codex1, gemini1) = (codex.clone(), read(dir, ".gemini/settings.json"));
    let (code, _, _) = dbguard(
        dir,
        home.path(),
        &["init", "--agent", "codex,gemini", "--dbguard", bin()],
    );
    assert_eq!(code, 0);
    assert_eq!(read(dir, ".codex/config.toml"), codex1);
    assert_eq!(read(dir, ".gemini/settings.json"), gemini1);

    for agent in ["Codex", "Gemini CLI"] {
        let c = switch_check(dir, home.path(), agent);
        assert_eq!(c["ok"], true, "{c}");
    }

    // Unchanged since: uninstall gives back the originals byte for byte.
    let (code, out, err) = dbguard(dir, home.path(), &["init", "--uninstall"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(read(dir, ".codex/config.toml"), CODEX_CONFIG);
    assert_eq!(read(dir, ".gemini/settings.json"), GEMINI_SETTINGS);

    // Edited since: uninstall removes only what init added.
    dbguard(
        dir,
        home.path(),
        &["init", "--agent", "codex,gemini", "--dbguard", bin()],
    );
    let edited = format!("approval_policy = \"on-request\"\n{}", read(dir, ".codex/config.toml"));
    std::fs::write(dir.join(".codex/config.toml"), &edited).unwrap();
    let mut g: Value = serde_json::from_str(&read(dir, ".gemini/settings.json")).unwrap();
    g["general"] = serde_json::json!({"vimMode": true});
    std::fs::write(
        dir.join(".gemini/settings.json"),
        serde_json::to_string_pretty(&g).unwrap(),
    )
    .unwrap();
    let (code, out, err) = dbguard(dir, home.path(), &["init", "--uninstall"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        read(dir, ".codex/config.toml"),
        format!("approval_policy = \"on-request\"\n{CODEX_CONFIG}")
    );
    let after: Value = serde_json::from_str(&read(dir, ".gemini/settings.json")).unwrap();
    assert_eq!(
        after["hooksConfig"],
        serde_json::json!({"notifications": false}),
        "{after}"
    );
    assert_eq!(after["general"]["vimMode"], true);
    assert_eq!(after["theme"], "GitHub");
    assert!(after.get("hooks").is_none(), "{after}");
}

#[test]
fn switches_in_new_files_and_tables_go_with_uninstall() {
    let project = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let dir = project.path();
    // No .codex/ at all: init creates .codex/hooks.json and .codex/config.toml.
    let (code, out, err) = dbguard(
        dir,
        home.path(),
        &["init", "--agent", "codex,gemini", "--dbguard", "dbguard"],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        codex_features(&read(dir, ".codex/config.toml"))["hooks"].as_bool(),
        Some(true)
    );
    let gemini: Value = serde_json::from_str(&read(dir, ".gemini/settings.json")).unwrap();
    assert_eq!(gemini["hooksConfig"], serde_json::json!({"enabled": true}));
    dbguard(dir, home.path(), &["init", "--uninstall"]);
    assert!(!dir.join(".codex").exists(), "init created .codex/: it goes");
    assert!(!dir.join(".gemini").exists(), "init created .gemini/: it goes");

    // A config.toml without [features]: a table is appended, and removed again even after
    // the user changed something else.
    let original = "model = \"gpt-5\"\n\n[tui]\nnotifications = true";
    std::fs::create_dir_all(dir.join(".codex")).unwrap();
    std::fs::write(dir.join(".codex/config.toml"), original).unwrap();
    dbguard(dir, home.path(), &["init", "--agent", "codex", "--dbguard", "dbguard"]);
    let codex = read(dir, ".codex/config.toml");
    assert!(codex.starts_with(&format!("{original}\n\n[features]")), "{codex}");
    let t: toml::Table = toml::from_str(&codex).unwrap();
    assert_eq!(t["tui"]["notifications"].as_bool(), Some(true), "[tui] keeps its keys");
    assert_eq!(t["features"]["hooks"].as_bool(), Some(true));
    std::fs::write(dir.join(".codex/config.toml"), codex.replace("gpt-5", "o3")).unwrap();
    dbguard(dir, home.path(), &["init", "--uninstall"]);
    assert_eq!(
        read(dir, ".codex/config.toml"),
        format!("{}\n", original.replace("gpt-5", "o3"))
    );

    // The user put a key under init's [features] header: the header stays with it.
    dbguard(dir, home.path(), &["init", "--agent", "codex", "--dbguard", "dbguard"]);
    let with_key = format!("{}web_search = true\n", read(dir, ".codex/config.toml"));
    std::fs::write(dir.join(".codex/config.toml"), &with_key).unwrap();
    dbguard(dir, home.path(), &["init", "--uninstall"]);
    let f = codex_features(&read(dir, ".codex/config.toml"));
    assert!(
        f.get("hooks").is_none() && f["web_search"].as_bool() == Some(true),
        "{f:?}"
    );
}

#[test]
fn switches_turned_off_or_unusual_are_left_alone_and_reported() {
    let home = tempfile::tempdir().unwrap();
    // Hooks that exist (doctor runs them).
    let cases: [(&str, &str, &str); 3] = [
        (
            "[features]\nhooks = false\n",
            "{\"hooksConfig\": {\"enabled\": false}}",
            "false",
        ),
        ("features = { web_search = true }\n", "{}", "yourself"),
        ("[features]\ncodex_hooks = true\n", "{}", ""),
    ];
    for (codex_text, gemini_text, expect) in cases {
        let project = tempfile::tempdir().unwrap();
        let dir = project.path();
        std::fs::create_dir_all(dir.join(".codex")).unwrap();
        std::fs::create_dir_all(dir.join(".gemini")).unwrap();
        std::fs::write(dir.join(".codex/config.toml"), codex_text).unwrap();
        std::fs::write(dir.join(".gemini/settings.json"), gemini_text).unwrap();
        let (code, out, err) = dbguard(
            dir,
            home.path(),
            &["init", "--agent", "codex,gemini", "--dbguard", bin()],
        );
        assert_eq!(code, 0, "{out}{err}");
        assert_eq!(read(dir, ".codex/config.toml"), codex_text, "Codex file untouched");
        let c = switch_check(dir, home.path(), "Codex");
        match expect {
            "false" => {
                assert!(
                    err.contains("hooks = false") && err.contains("left as you set it"),
                    "{err}"
                );
                assert!(err.contains("hooksConfig.enabled` is false"), "{err}");
                assert_eq!(c["ok"], false, "{c}");
                assert!(c["detail"].as_str().unwrap().contains("hooks = false"), "{c}");
                let g = switch_check(dir, home.path(), "Gemini CLI");
                assert_eq!(g["ok"], false, "{g}");
                let gv: Value = serde_json::from_str(&read(dir, ".gemini/settings.json")).unwrap();
                assert_eq!(gv["hooksConfig"]["enabled"], false, "never switched back on by init");
            }
            "yourself" => {
                assert!(err.contains("add `hooks = true` under `[features]`"), "{err}");
                assert_eq!(c["ok"], false, "{c}");
            }
            _ => {
                assert_eq!(c["ok"], true, "the deprecated name still turns hooks on: {c}");
                assert!(c["detail"].as_str().unwrap().contains("deprecated"), "{c}");
            }
        }
        dbguard(dir, home.path(), &["init", "--uninstall"]);
        assert_eq!(read(dir, ".codex/config.toml"), codex_text);
    }
}

#[test]
fn user_scope_writes_the_users_files_only_with_user() {
    let project = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let dir = project.path();
    std::fs::create_dir_all(home.path().join(".codex")).unwrap();
    std::fs::write(home.path().join(".codex/config.toml"), CODEX_CONFIG).unwrap();
    let (code, out, err) = dbguard(
        dir,
        home.path(),
        &["init", "--user", "--agent", "codex,gemini", "--dbguard", bin()],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(!dir.join(".codex").exists() && !dir.join(".gemini").exists());
    let codex = std::fs::read_to_string(home.path().join(".codex/config.toml")).unwrap();
    assert_eq!(codex_features(&codex)["hooks"].as_bool(), Some(true));
    let gemini: Value =
        serde_json::from_str(&std::fs::read_to_string(home.path().join(".gemini/settings.json")).unwrap()).unwrap();
    assert_eq!(gemini["hooksConfig"]["enabled"], true);
    // The project has no switch of its own, the user's turns hooks on.
    assert_eq!(switch_check(dir, home.path(), "Codex")["ok"], true);
    dbguard(dir, home.path(), &["init", "--user", "--uninstall"]);
    assert_eq!(
        std::fs::read_to_string(home.path().join(".codex/config.toml")).unwrap(),
        CODEX_CONFIG
    );
    assert!(!home.path().join(".gemini").exists());
}
