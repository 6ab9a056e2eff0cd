//! `dbguard hook <agent>` end to end: the real binary is fed each agent's recorded payload
//! shape (tests/hooks/payloads/) for a corpus of destructive and benign commands, and its
//! answers are checked in each agent's protocol; then the production deny path, the
//! development approval path (deny + code, and Claude's ask + rewrite), unreadable
//! payloads, other tools and dbguard's own commands.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

const AGENTS: [&str; 5] = ["claude", "codex", "cursor", "gemini", "copilot"];

/// Commands that destroy data (or cannot be known not to), across tools and wrappers.
const DESTRUCTIVE: &[&str] = &[
    "psql -c 'DROP TABLE users'",
    "psql -c \"DROP DATABASE app\"",
    "psql -c 'TRUNCATE orders'",
    "psql -c 'DELETE FROM users'",
    "psql -c 'UPDATE users SET email = null'",
    "psql -c 'ALTER TABLE users DROP COLUMN email'",
    "psql -c 'DROP SCHEMA public CASCADE'",
    "psql -c 'DROP OWNED BY app'",
    "echo 'DROP TABLE users;' | psql",
    "psql <<< 'DELETE FROM users WHERE 1=1'",
    "dropdb app",
    "npx prisma migrate reset --force",
    "npx prisma db push --force-reset",
    "npx prisma db push --accept-data-loss",
    "prisma migrate reset",
    "npx drizzle-kit push",
    "rails db:drop",
    "bin/rails db:reset",
    "rake db:schema:load",
    "python manage.py flush --noinput",
    "python manage.py migrate app zero",
    "alembic downgrade base",
    "php artisan migrate:fresh",
    "php artisan db:wipe",
    "flyway clean",
    "npx typeorm schema:drop",
    "npx sequelize-cli db:drop",
    "npx knex migrate:rollback --all",
    "npx mikro-orm schema:drop --run",
    "npx supabase db reset",
    "rm -rf pgdata",
    "rm app.db",
    "docker compose down -v",
    "docker volume rm pgdata",
    "redis-cli FLUSHALL",
    "mongosh --eval 'db.dropDatabase()'",
    "sqlite3 app.db 'DROP TABLE users'",
    "mysql -e 'DROP DATABASE shop'",
    "sudo -u postgres psql -c 'DROP DATABASE app'",
    "bash -c \"psql -c 'DROP TABLE users'\"",
    "sh -c 'dropdb app'",
    "env DATABASE_URL=postgres://x@h/db npx prisma migrate reset --force",
    "cd api && npx prisma migrate reset --force",
    "psql $DATABASE_URL -c 'TRUNCATE users CASCADE'",
    "timeout 60 psql -c 'DROP TABLE users'",
    "pg_restore --clean -d app dump.sql",
];

/// Everyday commands, several of them close to destructive ones.
const BENIGN: &[&str] = &[
    "ls -la",
    "git status",
    "git commit -m 'drop the old table from docs'",
    "cargo build",
    "npm install",
    "npm test",
    "npx prisma generate",
    "npx prisma migrate status",
    "npx prisma migrate deploy",
    "npx prisma migrate diff --from-empty --to-schema-datamodel prisma/schema.prisma --script",
    "psql -c 'SELECT count(*) FROM users'",
    "psql -c 'SELECT * FROM users WHERE id = 1'",
    "psql -c \"UPDATE users SET name = 'a' WHERE id = 1\"",
    "psql -c \"DELETE FROM users WHERE id = 42\"",
    "psql -c 'CREATE TABLE t (id int)'",
    "psql -c 'INSERT INTO t VALUES (1)'",
    "pg_dump app > backup.sql",
    "echo hello",
    "cat README.md",
    "grep -r DROP src/",
    "rm -rf node_modules",
    "rm -rf dist build",
    "docker compose up -d",
    "docker ps",
    "rails db:migrate",
    "bin/rails db:migrate:status",
    "python manage.py migrate",
    "python manage.py makemigrations",
    "alembic upgrade head",
    "php artisan migrate",
    "flyway migrate",
    "npx drizzle-kit generate",
    "npx drizzle-kit migrate",
    "npx typeorm migration:run",
    "npx knex migrate:latest",
    "redis-cli GET key",
    "sqlite3 app.db 'SELECT * FROM users'",
    "mysql -e 'SHOW DATABASES'",
    "dbguard status",
    "make test",
    "pytest -q",
    "go test ./...",
    "echo 'DROP TABLE users' > notes.txt",
    "find . -name '*.sql'",
];

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_dbguard")
}

fn payload_template(agent: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/hooks/payloads")
        .join(format!("{agent}.json"));
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

fn fill(v: &mut Value, command: &str, cwd: &str) {
    match v {
        Value::String(s) => {
            if s == "__COMMAND__" {
                *s = command.to_string();
            } else if s == "__CWD__" {
                *s = cwd.to_string();
            } else if s.contains("__COMMAND__") {
                // Copilot's toolArgs: a JSON document inside a string.
                let mut inner: Value = serde_json::from_str(s).unwrap();
                fill(&mut inner, command, cwd);
                *s = inner.to_string();
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| fill(x, command, cwd)),
        Value::Object(o) => o.values_mut().for_each(|x| fill(x, command, cwd)),
        _ => {}
    }
}

fn payload(agent: &str, command: &str, cwd: &Path) -> String {
    let mut v = payload_template(agent);
    fill(&mut v, command, &cwd.to_string_lossy());
    v.to_string()
}

/// A project with a dbguard.toml naming one production and one development database.
struct Project {
    dir: tempfile::TempDir,
    home: tempfile::TempDir,
}

impl Project {
    fn new() -> Project {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("dbguard.toml"),
            "[[databases]]\nmatch = \"db.prod.internal\"\nenvironment = \"production\"\n\n\
             [[databases]]\nmatch = \"vault.internal\"\nprotected = true\n\n\
             [[databases]]\nmatch = \"localhost\"\nenvironment = \"development\"\n",
        )
        .unwrap();
        Project {
            dir,
            home: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Run the hook with `DATABASE_URL` set to `url`; (exit code, stdout).
    fn hook(&self, agent: &str, url: &str, stdin: &str, extra: &[&str]) -> (i32, String) {
        let mut cmd = Command::new(bin());
        cmd.arg("hook").arg(agent).args(extra).current_dir(self.path());
        for (k, _) in std::env::vars() {
            if dbguard_core::agents::AGENT_VARIABLES.iter().any(|(v, _)| *v == k) || k.starts_with("PG") {
                cmd.env_remove(k);
            }
        }
        // dbguard on PATH, as after an install: the rewrite then reads `dbguard run -- ...`.
        let bin_dir = Path::new(bin()).parent().unwrap().to_path_buf();
        let path = std::env::var("PATH").unwrap_or_default();
        cmd.env("DBGUARD_HOME", self.home.path())
            .env_remove("DBGUARD_CONFIG")
            .env("PATH", format!("{}:{path}", bin_dir.display()))
            .env("DATABASE_URL", url)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.stderr.is_empty(),
            "hook wrote to stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code().unwrap_or(-1), String::from_utf8(out.stdout).unwrap())
    }
}

const DEV_URL: &str = "postgres://app:devsecret@localhost:5432/app_dev";
const PROD_URL: &str = "postgres://app:prodsecret@db.prod.internal:5432/app";
const PROTECTED_URL: &str = "postgres://app:vaultsecret@vault.internal:5432/vault";

/// What an answer does, whatever the dialect.
#[derive(Debug, PartialEq)]
enum Answer {
    Silent,
    Deny(String),
    Ask { reason: String, command: String },
}

fn answer(agent: &str, out: &str) -> Answer {
    if out.trim().is_empty() {
        return Answer::Silent;
    }
    let v: Value = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{agent}: not JSON ({e}): {out}"));
    match agent {
        "claude" | "codex" => {
            let h = &v["hookSpecificOutput"];
            assert_eq!(h["hookEventName"], "PreToolUse");
            let reason = h["permissionDecisionReason"].as_str().unwrap().to_string();
            match h["permissionDecision"].as_str().unwrap() {
                "deny" => Answer::Deny(reason),
                "ask" => Answer::Ask {
                    reason,
                    command: h["updatedInput"]["command"].as_str().unwrap().to_string(),
                },
                other => panic!("unexpected decision {other}"),
            }
        }
        "cursor" => {
            assert_eq!(v["permission"], "deny");
            assert!(v["user_message"].as_str().is_some());
            Answer::Deny(v["agent_message"].as_str().unwrap().to_string())
        }
        "gemini" => {
            assert_eq!(v["decision"], "deny");
            Answer::Deny(v["reason"].as_str().unwrap().to_string())
        }
        "copilot" => {
            assert_eq!(v["permissionDecision"], "deny");
            Answer::Deny(v["permissionDecisionReason"].as_str().unwrap().to_string())
        }
        _ => unreachable!(),
    }
}

#[test]
fn corpus_every_agent() {
    let p = Project::new();
    assert!(DESTRUCTIVE.len() >= 40 && BENIGN.len() >= 40);
    for agent in AGENTS {
        for cmd in BENIGN {
            let (code, out) = p.hook(agent, DEV_URL, &payload(agent, cmd, p.path()), &[]);
            assert_eq!(code, 0);
            assert_eq!(
                answer(agent, &out),
                Answer::Silent,
                "{agent}: benign `{cmd}` was not allowed silently"
            );
        }
        for cmd in DESTRUCTIVE {
            let (code, out) = p.hook(agent, DEV_URL, &payload(agent, cmd, p.path()), &[]);
            assert_eq!(code, 0);
            match answer(agent, &out) {
                Answer::Silent => panic!("{agent}: destructive `{cmd}` was allowed"),
                Answer::Ask { command, .. } => {
                    assert_eq!(agent, "claude", "only Claude Code gets ask");
                    assert!(command.starts_with("dbguard run -- "), "{command}");
                }
                Answer::Deny(reason) => {
                    assert_ne!(agent, "claude", "Claude Code asks on development databases");
                    assert!(reason.contains("dbguard run -- "), "{agent} `{cmd}`: {reason}");
                    assert!(!reason.contains("devsecret"), "password leaked: {reason}");
                }
            }
        }
    }
}

#[test]
fn production_is_denied_for_every_agent() {
    let p = Project::new();
    for agent in AGENTS {
        // psql reads libpq settings, not DATABASE_URL: it names its URL.
        for cmd in [
            "npx prisma migrate reset --force",
            &format!("psql {PROD_URL} -c 'DROP TABLE users'"),
        ] {
            let (_, out) = p.hook(agent, PROD_URL, &payload(agent, cmd, p.path()), &[]);
            let Answer::Deny(reason) = answer(agent, &out) else {
                panic!("{agent}: production not denied: {out}")
            };
            let cmd: &str = cmd;
            let _ = cmd;
            assert!(reason.contains("production"), "{reason}");
            assert!(reason.contains("db.prod.internal"), "the database is named: {reason}");
            assert!(reason.contains("Do not retry"), "{reason}");
            assert!(reason.contains("DROP SCHEMA"), "work-arounds are named: {reason}");
            assert!(reason.contains("Only the user can decide"), "{reason}");
            assert!(reason.contains("Safe alternative"), "{reason}");
            assert!(!reason.contains("prodsecret"), "password leaked: {reason}");
            assert!(
                !reason.contains("dbguard approve"),
                "no approval path on production: {reason}"
            );
        }
        let (_, out) = p.hook(
            agent,
            PROD_URL,
            &payload(agent, "npx prisma migrate reset --force", p.path()),
            &[],
        );
        let Answer::Deny(reason) = answer(agent, &out) else {
            unreachable!()
        };
        assert!(
            reason.contains("dbguard migrate new <name>` then `dbguard migrate apply")
                && reason.contains("migrate deploy"),
            "{reason}"
        );
    }
    // A protected database is blocked whatever its environment.
    let (_, out) = p.hook(
        "codex",
        PROTECTED_URL,
        &payload("codex", "npx prisma db push --force-reset", p.path()),
        &[],
    );
    let Answer::Deny(reason) = answer("codex", &out) else {
        panic!("protected not denied")
    };
    assert!(reason.contains("protected"), "{reason}");
}

fn approval_files(p: &Project) -> Vec<PathBuf> {
    match std::fs::read_dir(p.home.path().join("approvals")) {
        Ok(rd) => rd
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|x| x.extension().is_some_and(|e| e == "json"))
            .collect(),
        Err(_) => Vec::new(),
    }
}

#[test]
fn development_deny_with_approval_code() {
    let p = Project::new();
    let cmd = "psql -c 'DROP TABLE users'";
    for agent in ["codex", "cursor", "gemini", "copilot"] {
        let (_, out) = p.hook(agent, DEV_URL, &payload(agent, cmd, p.path()), &[]);
        let Answer::Deny(reason) = answer(agent, &out) else {
            panic!("{agent}: not denied")
        };
        assert!(reason.contains("development"), "{reason}");
        assert!(reason.contains("DROP TABLE users"), "{reason}");
        assert!(reason.contains("dbguard approve "), "{reason}");
        assert!(reason.contains("dbguard run -- psql -c 'DROP TABLE users'"), "{reason}");
        assert!(reason.contains("Do not retry"), "{reason}");
    }
    // The same plan reuses its pending code: one approval file for the four answers.
    let files = approval_files(&p);
    assert_eq!(files.len(), 1, "{files:?}");
    let record: Value = serde_json::from_str(&std::fs::read_to_string(&files[0]).unwrap()).unwrap();
    let code = record["code"].as_str().unwrap();
    let (_, out) = p.hook("gemini", DEV_URL, &payload("gemini", cmd, p.path()), &[]);
    assert!(out.contains(code));
    // The verdicts are in the audit log.
    let log = std::fs::read_to_string(p.home.path().join("audit.log")).unwrap();
    assert!(log.lines().count() >= 5, "{log}");
    assert!(log.contains("needs_approval") && log.contains(code));
    assert!(!log.contains("devsecret"));
}

#[test]
fn claude_asks_and_rewrites_or_denies_with_no_ask() {
    let p = Project::new();
    let cmd = "npx prisma migrate reset --force && echo done";
    let (_, out) = p.hook("claude", DEV_URL, &payload("claude", cmd, p.path()), &[]);
    let v: Value = serde_json::from_str(&out).unwrap();
    let h = &v["hookSpecificOutput"];
    assert_eq!(h["permissionDecision"], "ask");
    // The rewrite keeps the other tool_input fields and runs the whole line under dbguard.
    assert_eq!(h["updatedInput"]["description"], "Run the command");
    assert_eq!(h["updatedInput"]["timeout"], 120000);
    assert_eq!(
        h["updatedInput"]["command"],
        "dbguard run -- sh -c 'npx prisma migrate reset --force && echo done'"
    );
    let reason = h["permissionDecisionReason"].as_str().unwrap();
    assert!(
        reason.contains("RESET DATABASE") && reason.contains("localhost"),
        "{reason}"
    );
    assert!(reason.contains("dbguard approve "), "{reason}");
    assert!(!reason.contains("devsecret"));
    // --no-ask: the deny + code path.
    let (_, out) = p.hook("claude", DEV_URL, &payload("claude", cmd, p.path()), &["--no-ask"]);
    let Answer::Deny(reason) = answer("claude", &out) else {
        panic!("--no-ask must deny")
    };
    assert!(reason.contains("dbguard approve "), "{reason}");
}

#[test]
fn unreadable_payloads_are_denied() {
    let p = Project::new();
    for agent in AGENTS {
        for bad in ["", "not json", "[1,2]", "{\"tool_name\": 3}"] {
            let (code, out) = p.hook(agent, DEV_URL, bad, &[]);
            assert_eq!(code, 0);
            let Answer::Deny(reason) = answer(agent, &out) else {
                panic!("{agent}: {bad:?} not denied: {out}")
            };
            assert!(reason.contains("could not read"), "{reason}");
        }
    }
}

#[test]
fn other_tools_and_dbguard_commands() {
    let p = Project::new();
    let read = r#"{"session_id":"s","cwd":"/tmp","hook_event_name":"PreToolUse","tool_name":"Read","tool_input":{"file_path":"/tmp/x"}}"#;
    assert_eq!(p.hook("claude", DEV_URL, read, &[]).1, "");
    let copilot_edit = r#"{"timestamp":1,"cwd":"/tmp","toolName":"edit","toolArgs":"{\"path\":\"x\"}"}"#;
    assert_eq!(p.hook("copilot", DEV_URL, copilot_edit, &[]).1, "");
    let gemini_read =
        r#"{"cwd":"/tmp","hook_event_name":"BeforeTool","tool_name":"read_file","tool_input":{"file_path":"x"}}"#;
    assert_eq!(p.hook("gemini", DEV_URL, gemini_read, &[]).1, "");
    for agent in AGENTS {
        let run = payload(agent, "dbguard run -- npx prisma migrate reset --force", p.path());
        assert_eq!(
            p.hook(agent, DEV_URL, &run, &[]).1,
            "",
            "{agent}: dbguard run is allowed (it guards itself)"
        );
        let approve = payload(agent, "dbguard approve K7Q-4MZ", p.path());
        assert!(
            matches!(answer(agent, &p.hook(agent, DEV_URL, &approve, &[]).1), Answer::Deny(_)),
            "{agent}"
        );
        let smuggle = payload(agent, "dbguard run -- true && dropdb app", p.path());
        assert_ne!(
            answer(agent, &p.hook(agent, DEV_URL, &smuggle, &[]).1),
            Answer::Silent,
            "{agent}"
        );
    }
}

#[test]
fn rewrite_uses_the_absolute_path_when_dbguard_is_not_on_path() {
    let p = Project::new();
    let mut cmd = Command::new(bin());
    cmd.args(["hook", "claude"])
        .current_dir(p.path())
        .env("PATH", "/usr/bin:/bin")
        .env("DBGUARD_HOME", p.home.path())
        .env("DATABASE_URL", DEV_URL)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    for (k, _) in std::env::vars() {
        if dbguard_core::agents::AGENT_VARIABLES.iter().any(|(v, _)| *v == k) {
            cmd.env_remove(k);
        }
    }
    let mut child = cmd.spawn().unwrap();
    let payload = payload("claude", "psql -c 'DROP TABLE users'", p.path());
    child.stdin.take().unwrap().write_all(payload.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rewritten = v["hookSpecificOutput"]["updatedInput"]["command"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(rewritten.starts_with(&format!("{} run -- ", bin())), "{rewritten}");
}
