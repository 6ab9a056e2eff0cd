//! The local approval, attacked as an agent would (issue 10): `dbguard approve` driven
//! through a pseudo-terminal with the agent's variables removed, from a process tree whose
//! ancestor is named like an agent (a renamed copy of a shell, `exec -a`, a driver that
//! detached from its parent); approval files edited or written by hand, given to `run`, the
//! hook and the MCP server; the hook against file edits of dbguard's own settings; and a
//! production classification that survives an edit of dbguard.toml until a person lowers
//! it. Real binary, real SQLite files, real pseudo-terminals.

mod e2e_support;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use e2e_support::{bin, clean, describe, json, World, PTY_DRIVER};
use serde_json::{json, Value};

struct Lab {
    w: World,
    dir: tempfile::TempDir,
    driver: PathBuf,
}

impl Lab {
    fn new() -> Lab {
        let w = World::new();
        let dir = tempfile::tempdir().unwrap();
        let driver = dir.path().join("drive.py");
        std::fs::write(&driver, PTY_DRIVER).unwrap();
        let status = Command::new("sqlite3")
            .arg(dir.path().join("app.db"))
            .arg("CREATE TABLE items (id int); INSERT INTO items VALUES (1), (2), (3);")
            .status()
            .expect("sqlite3");
        assert!(status.success());
        Lab { w, dir, driver }
    }

    fn cwd(&self) -> &Path {
        self.dir.path()
    }

    fn drop_items(&self) -> Vec<&'static str> {
        vec!["run", "--json", "--", "sqlite3", "app.db", "DROP TABLE items"]
    }

    fn items_exist(&self) -> bool {
        let out = Command::new("sqlite3")
            .arg(self.cwd().join("app.db"))
            .arg("SELECT count(*) FROM items")
            .output()
            .unwrap();
        out.status.success()
    }

    /// `dbguard run ... DROP TABLE items` without a terminal: (exit code, JSON).
    fn run_drop(&self) -> (i32, Value) {
        let out = self.w.dbguard(self.cwd(), &self.drop_items());
        (out.status.code().unwrap_or(-1), json(&out))
    }

    /// A fresh approval code for the drop.
    fn code(&self) -> String {
        let (code, v) = self.run_drop();
        assert_eq!(code, 3, "{v}");
        v["approval"]["code"].as_str().expect("approval code").to_string()
    }

    /// `dbguard approve CODE` in a pseudo-terminal started by `sh -c SCRIPT` where the script
    /// runs `$DRIVE` (the driver with dbguard approve CODE). `launcher` is the program that
    /// runs the script (a shell, a renamed copy of one...). Returns (exit code, screen).
    fn approve_via(&self, launcher: &[&str], script: &str, code: &str, answer: &str) -> (i32, String) {
        let drive = format!("python3 {} {} approve {}", self.driver.display(), bin().display(), code);
        let mut c = clean(launcher[0]);
        c.args(&launcher[1..]).arg("-c").arg(script).current_dir(self.cwd());
        c.env("DRIVE", &drive).env("PTY_ANSWERS", answer);
        c.env("DBGUARD_HOME", &self.w.home)
            .env("DBGUARD_CONFIG", &self.w.config)
            .env("XDG_CONFIG_HOME", self.w.dir.path().join("xdg"));
        let out = c.stdin(Stdio::null()).output().expect("launch");
        (
            out.status.code().unwrap_or(-1),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    }

    /// A copy of bash named `name` (an agent's process name).
    fn shell_named(&self, name: &str) -> PathBuf {
        let d = self.cwd().join("agent-bin");
        std::fs::create_dir_all(&d).unwrap();
        let p = d.join(name);
        if !p.exists() {
            std::fs::copy("/bin/bash", &p).unwrap();
        }
        p
    }

    fn hook(&self, agent: &str, payload: &Value) -> String {
        self.hook_with(&["hook", agent], payload)
    }

    /// `dbguard ARGS` with the payload on stdin: its stdout.
    fn hook_with(&self, args: &[&str], payload: &Value) -> String {
        let mut c = self.w.command(self.cwd(), args);
        let out = e2e_support::with_stdin(&mut c, &payload.to_string());
        assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

fn wait_for(path: &Path) {
    let start = Instant::now();
    while !path.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn an_agent_in_the_process_tree_cannot_approve_without_its_variables_or_through_a_pty() {
    let lab = Lab::new();
    let code = lab.code();

    // 1. A renamed copy of a shell called `claude` (as Claude Code's process is named) runs
    //    the pty driver; no agent variable is set anywhere.
    let claude = lab.shell_named("claude");
    // (`; exit $?` keeps the shell alive as the driver's parent, as an agent stays alive
    // while its tool runs; bash would otherwise exec the last command in its place.)
    let (st, screen) = lab.approve_via(&[claude.to_str().unwrap()], "$DRIVE; exit $?", &code, "app.db");
    assert_eq!(st, 3, "{screen}");
    assert!(screen.contains("AI agent (Claude Code"), "{screen}");
    assert!(screen.contains("ancestor"), "{screen}");

    // 2. `exec -a codex`: the process keeps bash's name, its argv[0] says codex.
    let (st, screen) = lab.approve_via(
        &["bash"],
        "exec -a codex bash -c \"$DRIVE; exit \\$?\"",
        &code,
        "app.db",
    );
    assert_eq!(st, 3, "{screen}");
    assert!(screen.contains("AI agent (Codex"), "{screen}");

    // 3. Node running Gemini CLI's entry script (a copy of bash stands in for node).
    let node = lab.shell_named("node");
    let gemini_dir = lab.cwd().join("lib/node_modules/@google/gemini-cli/dist");
    std::fs::create_dir_all(&gemini_dir).unwrap();
    let script = gemini_dir.join("index.js");
    std::fs::write(&script, "$DRIVE\nexit $?\n").unwrap();
    let mut c = clean(&node);
    c.arg(&script).current_dir(lab.cwd());
    c.env(
        "DRIVE",
        format!("python3 {} {} approve {code}", lab.driver.display(), bin().display()),
    )
    .env("PTY_ANSWERS", "app.db")
    .env("DBGUARD_HOME", &lab.w.home)
    .env("DBGUARD_CONFIG", &lab.w.config);
    let out = c.stdin(Stdio::null()).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Gemini CLI"),
        "{}",
        describe(&out)
    );

    // 4. The driver detaches (double fork: its parent is no longer the agent) but stays in
    //    the session the agent leads: found through the program holding the terminal.
    let rc = lab.cwd().join("rc.txt");
    let shown = lab.cwd().join("screen.txt");
    let script = format!(
        "sh -c '{{ $DRIVE > {shown} 2>&1; echo $? > {rc}; }} & exit 0'; while [ ! -f {rc} ]; do sleep 0.1; done",
        shown = shown.display(),
        rc = rc.display()
    );
    let (st, _) = lab.approve_via(&["setsid", "-w", claude.to_str().unwrap()], &script, &code, "app.db");
    assert_eq!(st, 0);
    wait_for(&rc);
    let screen = std::fs::read_to_string(&shown).unwrap();
    assert_eq!(std::fs::read_to_string(&rc).unwrap().trim(), "3", "{screen}");
    assert!(screen.contains("AI agent (Claude Code"), "{screen}");
    assert!(screen.contains("driving this terminal"), "{screen}");

    // Nothing was approved: the command is still stopped, the table still there.
    let (st, v) = lab.run_drop();
    assert_eq!(st, 3, "{v}");
    assert!(lab.items_exist());

    // The same pty route with no agent behind it is a person: approved, then used once.
    let (st, screen) = lab.approve_via(&["bash"], "$DRIVE", &code, "app.db");
    assert_eq!(st, 0, "{screen}");
    assert!(screen.contains("approved"), "{screen}");
    let (st, v) = lab.run_drop();
    assert_eq!(st, 0, "{v}");
    assert_eq!(v["outcome"], "ran");
    assert!(!lab.items_exist());
}

#[test]
fn approval_files_changed_outside_dbguard_approve_nothing() {
    let lab = Lab::new();
    let code = lab.code();
    let approvals = lab.w.home.join("approvals");
    let file = approvals.join(format!("{code}.json"));
    let original = std::fs::read_to_string(&file).unwrap();

    // An agent's file tool flips the status.
    std::fs::write(&file, original.replace("\"pending\"", "\"approved\"")).unwrap();
    let out = lab.w.dbguard(lab.cwd(), &lab.drop_items());
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("changed or written outside dbguard"), "{stderr}");
    assert!(lab.items_exist());
    let new_code = json(&out)["approval"]["code"].as_str().unwrap().to_string();
    assert_ne!(new_code, code, "the tampered request is not reused");

    // A script writes an approved record from scratch, for the new code's plan.
    let mut forged: Value =
        serde_json::from_str(&std::fs::read_to_string(approvals.join(format!("{new_code}.json"))).unwrap()).unwrap();
    forged["status"] = json!("approved");
    forged["approved_unix"] = json!(1);
    forged["mac"] = json!("0".repeat(64));
    std::fs::write(approvals.join(format!("{new_code}.json")), forged.to_string()).unwrap();
    let out = lab.w.dbguard(lab.cwd(), &lab.drop_items());
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    assert!(lab.items_exist());

    // `approve` itself refuses to show or approve a tampered record.
    let out = lab.w.dbguard(lab.cwd(), &["approvals"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("approves nothing"),
        "{}",
        describe(&out)
    );

    // The hook: a fresh code, never the tampered one.
    let payload = json!({
        "session_id": "s", "transcript_path": "", "cwd": lab.cwd(), "hook_event_name": "PreToolUse",
        "tool_name": "Bash", "tool_input": {"command": "sqlite3 app.db 'DROP TABLE items'"}, "tool_use_id": "t"
    });
    let answer: Value = serde_json::from_str(&lab.hook_with(&["hook", "claude", "--no-ask"], &payload)).unwrap();
    let reason = answer["hookSpecificOutput"]["permissionDecisionReason"]
        .as_str()
        .unwrap();
    assert_eq!(answer["hookSpecificOutput"]["permissionDecision"], "deny");
    assert!(!reason.contains(&code) && !reason.contains(&new_code), "{reason}");

    // MCP: db_execute with the tampered code is refused and nothing runs.
    let mut server = lab
        .w
        .command(lab.cwd(), &["mcp"])
        .env("DATABASE_URL", "file:./app.db")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = server.stdin.take().unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let mut call = |msg: Value, id: Option<i64>| -> Option<Value> {
        writeln!(stdin, "{msg}").unwrap();
        stdin.flush().unwrap();
        let id = id?;
        for line in lines.by_ref() {
            let v: Value = serde_json::from_str(&line.unwrap()).unwrap();
            if v["id"] == json!(id) {
                return Some(v);
            }
        }
        None
    };
    call(
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}),
        Some(1),
    )
    .expect("initialized");
    call(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}), None);
    let first = call(
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
            "name": "db_execute", "arguments": {"sql": "DROP TABLE items"}}}),
        Some(2),
    )
    .unwrap();
    let text = first["result"]["content"][0]["text"].as_str().unwrap().to_string();
    let v: Value = serde_json::from_str(&text).unwrap();
    let mcp_code = v["approval_code"].as_str().expect("mcp approval code").to_string();
    let f = approvals.join(format!("{mcp_code}.json"));
    let t = std::fs::read_to_string(&f).unwrap();
    std::fs::write(&f, t.replace("\"pending\"", "\"approved\"")).unwrap();
    let second = call(
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {
            "name": "db_execute", "arguments": {"sql": "DROP TABLE items", "approval_code": mcp_code}}}),
        Some(3),
    )
    .unwrap();
    drop(stdin);
    let _ = server.wait();
    let text = second["result"]["content"][0]["text"].as_str().unwrap_or_default();
    assert!(
        !text.contains("\"executed\": true") && !text.contains("\"executed\":true"),
        "{second}"
    );
    assert!(lab.items_exist(), "{second}");
}

#[test]
fn the_hook_denies_edits_of_dbguards_settings_and_allows_ordinary_ones() {
    let lab = Lab::new();
    let cwd = lab.cwd().to_string_lossy().to_string();
    let home = lab.w.home.to_string_lossy().to_string();
    let guarded = [
        format!("{cwd}/dbguard.toml"),
        format!("{cwd}/.claude/settings.json"),
        format!("{cwd}/.claude/settings.local.json"),
        format!("{cwd}/.gemini/settings.json"),
        format!("{home}/approvals/AAA-222.json"),
        format!("{home}/keys/records.key"),
    ];
    let ordinary = format!("{cwd}/src/main.rs");
    let claude = |tool: &str, path: &str| {
        let key = if tool == "NotebookEdit" {
            "notebook_path"
        } else {
            "file_path"
        };
        json!({"session_id": "s", "transcript_path": "", "cwd": cwd, "hook_event_name": "PreToolUse",
               "tool_name": tool, "tool_input": {key: path, "old_string": "a", "new_string": "b", "content": "x"}})
    };
    for tool in ["Edit", "Write", "MultiEdit", "NotebookEdit"] {
        for p in &guarded {
            let out = lab.hook("claude", &claude(tool, p));
            let v: Value = serde_json::from_str(&out).unwrap_or_else(|_| panic!("{tool} {p}: {out:?}"));
            assert_eq!(v["hookSpecificOutput"]["permissionDecision"], "deny", "{tool} {p}");
        }
        assert_eq!(lab.hook("claude", &claude(tool, &ordinary)), "", "{tool}");
    }
    let patch = |path: &str| format!("*** Begin Patch\n*** Update File: {path}\n@@\n-a\n+b\n*** End Patch\n");
    let codex = |path: &str| {
        json!({"session_id": "s", "cwd": cwd, "hook_event_name": "PreToolUse", "tool_name": "apply_patch",
               "tool_input": {"command": patch(path)}})
    };
    assert!(lab.hook("codex", &codex("dbguard.toml")).contains("\"deny\""));
    assert_eq!(lab.hook("codex", &codex("src/main.rs")), "");
    for tool in ["write_file", "replace"] {
        let g = |path: &str| {
            json!({"session_id": "s", "cwd": cwd, "hook_event_name": "BeforeTool", "tool_name": tool,
                   "tool_input": {"file_path": path, "content": "x", "old_string": "a", "new_string": "b"}})
        };
        assert!(
            lab.hook("gemini", &g(".gemini/settings.json")).contains("\"deny\""),
            "{tool}"
        );
        assert_eq!(lab.hook("gemini", &g("src/main.rs")), "", "{tool}");
    }
    for tool in ["edit", "create"] {
        let c = |path: &str| json!({"cwd": cwd, "toolName": tool, "toolArgs": json!({"path": path, "file_text": "x"}).to_string()});
        assert!(
            lab.hook("copilot", &c(".github/hooks/dbguard.json"))
                .contains("\"deny\""),
            "{tool}"
        );
        assert_eq!(lab.hook("copilot", &c("src/lib.rs")), "", "{tool}");
    }
    // A symlink with an innocent name that points at dbguard.toml.
    std::fs::write(lab.cwd().join("dbguard.toml"), "").unwrap();
    std::os::unix::fs::symlink(lab.cwd().join("dbguard.toml"), lab.cwd().join("notes.md")).unwrap();
    assert!(lab
        .hook("claude", &claude("Write", &format!("{cwd}/notes.md")))
        .contains("\"deny\""));
    // Shell commands that write the same files, and their look-alikes.
    let bash = |cmd: &str| {
        json!({"session_id": "s", "cwd": cwd, "hook_event_name": "PreToolUse", "tool_name": "Bash",
               "tool_input": {"command": cmd}})
    };
    for cmd in [
        "sed -i 's/production/development/' dbguard.toml",
        "echo '{}' > .claude/settings.json",
        "rm -rf .claude",
        "cp /tmp/x.json $DBGUARD_HOME/approvals/AAA-222.json",
    ] {
        let out = lab.hook("claude", &bash(cmd));
        assert!(out.contains("\"deny\"") && out.contains("own settings"), "{cmd}: {out}");
    }
    for cmd in [
        "cat dbguard.toml",
        "grep -n production dbguard.toml",
        "cp dbguard.toml /tmp/backup.toml",
        "ls",
    ] {
        assert_eq!(lab.hook("claude", &bash(cmd)), "", "{cmd}");
    }
    // Denied edits are in the audit log.
    let log = std::fs::read_to_string(lab.w.home.join("audit.log")).unwrap();
    assert!(log.contains("guard_settings"), "{log}");
}

#[test]
fn production_survives_a_toml_edit_until_a_person_lowers_it() {
    let lab = Lab::new();
    lab.w
        .set_config("[[databases]]\nmatch = \"app.db\"\nenvironment = \"production\"\n");
    let (st, v) = lab.run_drop();
    assert_eq!((st, v["outcome"].as_str()), (3, Some("blocked")), "{v}");

    // The file now says development (an agent's script edited it): still production.
    lab.w
        .set_config("[[databases]]\nmatch = \"app.db\"\nenvironment = \"development\"\n");
    let (st, v) = lab.run_drop();
    assert_eq!((st, v["outcome"].as_str()), (3, Some("blocked")), "{v}");
    assert_eq!(v["plan"]["target"]["environment"], "production", "{v}");
    let rule = v["plan"]["target"]["environment_rule"].as_str().unwrap();
    assert!(rule.starts_with("remembered"), "{rule}");
    let lower_with = v["plan"]["target"]["remembered"]["lower_with"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        lower_with.starts_with("dbguard classify") && lower_with.ends_with("development"),
        "{lower_with}"
    );
    assert!(lab.items_exist());

    // status says so, in text and JSON.
    let out = lab.w.dbguard(lab.cwd(), &["status", "--url", "app.db"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Remembered") && text.contains("dbguard classify"),
        "{}",
        describe(&out)
    );

    // Lowering asks for a person's approval; an agent-named process cannot give it.
    let identity = v["plan"]["target"]["remembered"]["identity"]
        .as_str()
        .unwrap()
        .to_string();
    let out = lab
        .w
        .dbguard(lab.cwd(), &["classify", "--json", &identity, "development"]);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    let code = json(&out)["approval"]["code"].as_str().unwrap().to_string();
    let claude = lab.shell_named("claude");
    let (st, screen) = lab.approve_via(&[claude.to_str().unwrap()], "$DRIVE; exit $?", &code, "app.db");
    assert_eq!(st, 3, "{screen}");
    let (st, v) = lab.run_drop();
    assert_eq!((st, v["outcome"].as_str()), (3, Some("blocked")), "{v}");

    // A person approves: the file decides again (development: an approval, not a block).
    let (st, screen) = lab.approve_via(&["bash"], "$DRIVE", &code, "app.db");
    assert_eq!(st, 0, "{screen}");
    let (st, v) = lab.run_drop();
    assert_eq!((st, v["outcome"].as_str()), (3, Some("needs_approval")), "{v}");
    assert_eq!(v["plan"]["target"]["environment"], "development", "{v}");
    assert!(v["plan"]["target"].get("remembered").is_none(), "{v}");
}
