//! No password in any output, through the real binary: every password position dbguard
//! recognizes on a command line (the core's `password_positions`, also property-tested in
//! process with generated secrets and wrappers) is given a secret that holds quotes, spaces and
//! `$`, and the command goes through `check --json`, `check`, the hooks (Cursor's deny + code,
//! Claude's ask + rewrite), `run`'s refusal (text and `--json`), and then the audit log, the
//! approvals store and their listings. None may hold any part of the secret.
//!
//! One place repeats it by design: Claude Code's `updatedInput`, the rewritten command the agent
//! then runs (`dbguard run -- <the command>`), which has to carry the real password to work.

#[path = "../../dbguard-core/tests/password_positions/mod.rs"]
mod password_positions;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use password_positions::{leak, POSITIONS};
use serde_json::Value;

struct Out {
    code: i32,
    text: String,
}

/// `dbguard ARGS` in `cwd`, with a cleared environment (PATH kept), `home` as DBGUARD_HOME,
/// an agent's marker (so nothing ever prompts), and `stdin`.
fn dbguard(cwd: &Path, home: &Path, args: &[&str], stdin: &str) -> Out {
    let mut c = Command::new(env!("CARGO_BIN_EXE_dbguard"));
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("DBGUARD_HOME", home.join("dbguard"))
        .env("CLAUDECODE", "1")
        .current_dir(cwd)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("run dbguard");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let o = child.wait_with_output().unwrap();
    Out {
        code: o.status.code().unwrap_or(-1),
        text: format!(
            "{}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    }
}

fn hook_payload(agent: &str, command: &str, cwd: &Path) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/hooks/payloads")
        .join(format!("{agent}.json"));
    let template = std::fs::read_to_string(p).unwrap();
    let mut v: Value = serde_json::from_str(&template).unwrap();
    fn fill(v: &mut Value, command: &str, cwd: &str) {
        match v {
            Value::String(s) if s == "__COMMAND__" => *s = command.to_string(),
            Value::String(s) if s == "__CWD__" => *s = cwd.to_string(),
            Value::Array(a) => a.iter_mut().for_each(|x| fill(x, command, cwd)),
            Value::Object(o) => o.values_mut().for_each(|x| fill(x, command, cwd)),
            _ => {}
        }
    }
    fill(&mut v, command, &cwd.to_string_lossy());
    v.to_string()
}

/// Claude's answer without the rewritten command (which must run, so it carries the password).
fn without_rewrite(out: &str) -> String {
    match serde_json::from_str::<Value>(out.trim()) {
        Ok(mut v) => {
            if let Some(h) = v.get_mut("hookSpecificOutput").and_then(Value::as_object_mut) {
                h.remove("updatedInput");
            }
            v.to_string()
        }
        Err(_) => out.to_string(),
    }
}

fn all_files(dir: &Path) -> String {
    let mut s = String::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                s.push_str(&all_files(&p));
            } else if let Ok(t) = std::fs::read_to_string(&p) {
                s.push_str(&t);
                s.push('\n');
            }
        }
    }
    s
}

#[test]
fn no_output_holds_a_password() {
    let project = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let cwd = project.path();
    let mut leaks = Vec::new();
    let mut note = |what: &str, name: &str, text: &str, secret: &str| {
        if let Some(f) = leak(text, secret) {
            leaks.push(format!("{name}: {what} shows {f:?}:\n{text}"));
        }
    };
    for (i, p) in POSITIONS.iter().enumerate() {
        let secret = format!("Zq9Bin{i:02}x q'u\"o$te");
        let cmd = (p.build)(&secret);
        let check_json = dbguard(cwd, home.path(), &["check", "--json", &cmd], "");
        assert_eq!(
            check_json.code, 3,
            "{}: not destructive: {cmd}\n{}",
            p.name, check_json.text
        );
        note("check --json", p.name, &check_json.text, &secret);
        note(
            "check",
            p.name,
            &dbguard(cwd, home.path(), &["check", &cmd], "").text,
            &secret,
        );
        let cursor = dbguard(
            cwd,
            home.path(),
            &["hook", "cursor"],
            &hook_payload("cursor", &cmd, cwd),
        );
        note("hook cursor", p.name, &cursor.text, &secret);
        let claude = dbguard(
            cwd,
            home.path(),
            &["hook", "claude"],
            &hook_payload("claude", &cmd, cwd),
        );
        note("hook claude", p.name, &without_rewrite(&claude.text), &secret);
        // `run` never prompts an agent: the refusal, with an approval code. The command is
        // given as one `sh -c` argument, as `dbguard run -- sh -c '...'` would be typed.
        for json in [false, true] {
            let mut args = vec!["run"];
            if json {
                args.push("--json");
            }
            args.extend(["--", "sh", "-c", &cmd]);
            let run = dbguard(cwd, home.path(), &args, "");
            assert_eq!(run.code, 3, "{}: run did not refuse: {cmd}\n{}", p.name, run.text);
            note("run's refusal", p.name, &run.text, &secret);
        }
    }
    let data = home.path().join("dbguard");
    let audit = std::fs::read_to_string(data.join("audit.log")).unwrap_or_default();
    assert!(
        audit.lines().count() >= POSITIONS.len(),
        "the audit log has too few lines"
    );
    let approvals = all_files(&data.join("approvals"));
    assert!(!approvals.is_empty(), "no approval was stored");
    let log = dbguard(cwd, home.path(), &["log", "--json"], "").text;
    let listing = dbguard(cwd, home.path(), &["approvals", "--json"], "").text;
    for (i, p) in POSITIONS.iter().enumerate() {
        let secret = format!("Zq9Bin{i:02}x q'u\"o$te");
        note("the audit log", p.name, &audit, &secret);
        note("the approvals store", p.name, &approvals, &secret);
        note("dbguard log", p.name, &log, &secret);
        note("dbguard approvals", p.name, &listing, &secret);
    }
    assert!(leaks.is_empty(), "{} leaks:\n\n{}", leaks.len(), leaks.join("\n\n"));
}
