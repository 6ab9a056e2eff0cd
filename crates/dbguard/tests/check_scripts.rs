//! Scripts an agent writes and runs, through the real binary: every case of the core's
//! `scripts.toml` corpus that names a test project runs `dbguard check` inside a copy of that
//! project (real files, the real file-system lookup and its cache); the hook answers for a
//! destructive script and a benign one; the on-disk cache is private, survives processes, and
//! notices an edited file even when its size and modification time were put back.

mod e2e_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

fn projects() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../dbguard-core/tests/corpus/projects")
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        let dest = to.join(e.file_name());
        if p.is_dir() {
            copy_tree(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}

/// A copy of a test project and a private DBGUARD_HOME.
struct Project {
    dir: tempfile::TempDir,
    home: tempfile::TempDir,
}

impl Project {
    fn new(name: &str) -> Project {
        let dir = tempfile::tempdir().unwrap();
        copy_tree(&projects().join(name), dir.path());
        Project {
            dir,
            home: tempfile::tempdir().unwrap(),
        }
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_dbguard"));
        c.current_dir(self.dir.path())
            .env("DBGUARD_HOME", self.home.path())
            .env("DBGUARD_CONFIG", "none")
            .env_remove("DBGUARD_SCRIPT_CACHE")
            .env("DATABASE_URL", "postgres://app:devsecret@localhost:5432/app_dev");
        for (k, _) in std::env::vars() {
            if dbguard_core::agents::AGENT_VARIABLES.iter().any(|(v, _)| *v == k) || k.starts_with("PG") {
                c.env_remove(k);
            }
        }
        c
    }

    /// `dbguard check --json CMD`: (exit code, finding kinds).
    fn check(&self, command: &str) -> (i32, Vec<String>) {
        let out = self.cmd().args(["check", "--json", command]).output().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{command}: {e}: {}", String::from_utf8_lossy(&out.stderr)));
        let mut kinds: Vec<String> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["kind"].as_str().unwrap().to_string())
            .collect();
        kinds.sort();
        kinds.dedup();
        (out.status.code().unwrap_or(-1), kinds)
    }

    fn cache_files(&self) -> Vec<PathBuf> {
        let dir = self.home.path().join("cache/scripts");
        std::fs::read_dir(dir)
            .map(|rd| rd.flatten().map(|e| e.path()).collect())
            .unwrap_or_default()
    }
}

#[derive(Deserialize)]
struct Corpus {
    case: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    cmd: String,
    expect: Vec<String>,
    project: Option<String>,
}

#[test]
fn corpus_projects_through_the_binary() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../dbguard-core/tests/corpus/commands/scripts.toml");
    let corpus: Corpus = toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut failures = Vec::new();
    let mut ran = 0;
    let mut copies: std::collections::BTreeMap<String, Project> = Default::default();
    for c in corpus.case.iter().filter(|c| c.project.is_some()) {
        let name = c.project.clone().unwrap();
        let p = copies.entry(name.clone()).or_insert_with(|| Project::new(&name));
        let mut want = c.expect.clone();
        want.sort();
        want.dedup();
        // Twice: the second answer comes from the cache.
        for round in 0..2 {
            ran += 1;
            let (code, got) = p.check(&c.cmd);
            let want_code = if want.is_empty() { 0 } else { 3 };
            if got != want || code != want_code {
                failures.push(format!(
                    "[{name}] `{}` (round {round}): expected {want:?} exit {want_code}, got {got:?} exit {code}",
                    c.cmd
                ));
            }
        }
    }
    assert!(ran >= 100, "only {ran} runs");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn hook(p: &Project, command: &str, url: &str) -> String {
    let payload = serde_json::json!({
        "session_id": "s",
        "cwd": p.dir.path(),
        "hook_event_name": "PreToolUse",
        "tool_name": "Bash",
        "tool_input": { "command": command },
    });
    let out = e2e_support::with_stdin(
        p.cmd().args(["hook", "claude"]).env("DATABASE_URL", url),
        &payload.to_string(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn hook_asks_for_a_destructive_script_and_stays_silent_for_a_benign_one() {
    let p = Project::new("node-pg");
    let dev = "postgres://app:devsecret@localhost:5432/app_dev";
    let out = hook(&p, "node scripts/cleanup.js", dev);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
    let h = &v["hookSpecificOutput"];
    assert_eq!(h["permissionDecision"], "ask", "{v:#}");
    let reason = h["permissionDecisionReason"].as_str().unwrap();
    assert!(reason.contains("orders"), "{reason}");
    assert!(
        h["updatedInput"]["command"]
            .as_str()
            .unwrap()
            .contains("dbguard run --"),
        "{v:#}"
    );
    assert!(!out.contains("devsecret"), "{out}");

    assert_eq!(hook(&p, "node scripts/report.js", dev).trim(), "");
    assert_eq!(hook(&p, "node dist/server.js", dev).trim(), "");

    // On production the same script is denied.
    let prod = "postgres://app:prodsecret@db.abc123.us-east-1.rds.amazonaws.com:5432/app";
    let out = hook(&p, "npm run db:clean", prod);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["hookSpecificOutput"]["permissionDecision"], "deny", "{v:#}");
}

#[test]
fn cache_is_private_and_notices_edits() {
    let p = Project::new("node-pg");
    let script = p.dir.path().join("scripts/edit-me.js");
    // Benign first, then the same size with a destructive statement, mtime put back.
    let benign = "const db = require('pg');\nnew db.Pool().query('SELECT id FROM orders');\n";
    let destructive = "const db = require('pg');\nnew db.Pool().query('DELETE    FROM orders');\n";
    assert_eq!(benign.len(), destructive.len());
    std::fs::write(&script, benign).unwrap();
    assert_eq!(p.check("node scripts/edit-me.js"), (0, vec![]));
    let files = p.cache_files();
    assert!(!files.is_empty(), "nothing cached");
    for f in &files {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(f).unwrap().permissions().mode() & 0o777,
            0o600,
            "{f:?}"
        );
    }
    let reference = p.dir.path().join("reference");
    std::fs::write(&reference, "").unwrap();
    let touch = |args: &[&Path]| {
        let st = Command::new("touch").arg("-r").args(args).status().unwrap();
        assert!(st.success());
    };
    touch(&[&script, &reference]);
    std::fs::write(&script, destructive).unwrap();
    touch(&[&reference, &script]);
    assert_eq!(p.check("node scripts/edit-me.js"), (3, vec!["delete_all".to_string()]));

    // A corrupt cache entry is ignored, not trusted.
    for f in p.cache_files() {
        std::fs::write(&f, "{not json").unwrap();
    }
    assert_eq!(p.check("node scripts/edit-me.js"), (3, vec!["delete_all".to_string()]));
}

/// A large bundle of ordinary code: no parse, nothing found; one destructive call appended
/// (a strong marker) is found.
#[test]
fn big_bundle() {
    let p = Project::new("node-pg");
    let mut bundle = String::from("\"use strict\";\n");
    let mut i = 0;
    while bundle.len() < 3 * 1024 * 1024 {
        bundle.push_str(&format!(
            "function f{i}(a,b){{const m=new Map();m.set(a,b);m.delete(a);delete a.x;return a.update?a.update(b):String(b).slice(0,{i});}}\n"
        ));
        i += 1;
    }
    std::fs::write(p.dir.path().join("dist/bundle.js"), &bundle).unwrap();
    assert_eq!(p.check("node dist/bundle.js"), (0, vec![]));
    bundle.push_str("require('pg').Pool.prototype.connect(); new (require('pg').Pool)().query('TRUNCATE users');\n");
    std::fs::write(p.dir.path().join("dist/bundle.js"), &bundle).unwrap();
    assert_eq!(p.check("node dist/bundle.js"), (3, vec!["truncate".to_string()]));
}
