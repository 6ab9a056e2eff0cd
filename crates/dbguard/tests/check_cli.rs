//! `dbguard check` end to end: exit codes, JSON shape, target and redaction.

use std::process::Command;

fn dbguard(cwd: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_dbguard"));
    c.current_dir(cwd)
        .env_remove("DATABASE_URL")
        .env("DBGUARD_CONFIG", "none");
    for (k, _) in dbguard_agent_vars() {
        c.env_remove(k);
    }
    c
}

fn dbguard_agent_vars() -> Vec<(String, String)> {
    std::env::vars()
        .filter(|(k, _)| k.contains("CLAUDE") || k.contains("CODEX") || k.contains("CURSOR"))
        .collect()
}

#[test]
fn benign_exits_zero_destructive_exits_three() {
    let dir = tempfile::tempdir().unwrap();
    let out = dbguard(dir.path()).args(["check", "ls -la"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let out = dbguard(dir.path())
        .args(["check", "npx prisma migrate reset --force"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("DESTRUCTIVE"), "{text}");
    assert!(text.contains("dbguard run --"), "{text}");
}

#[test]
fn json_has_findings_target_and_environment_without_passwords() {
    let dir = tempfile::tempdir().unwrap();
    let cmd = "DATABASE_URL=postgres://app:hunter2@db.prod.example.com:5432/shop npx prisma migrate reset --force";
    let out = dbguard(dir.path()).args(["check", "--json", cmd]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(!s.contains("hunter2"), "{s}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["destructive"], true);
    assert_eq!(v["findings"][0]["kind"], "reset_database");
    assert!(v["findings"][0]["detail"].as_str().unwrap().len() > 10);
    assert_eq!(v["environment"], "production", "{v:#}");
    assert!(
        v["target"]["display"]
            .as_str()
            .unwrap()
            .contains("app:***@db.prod.example.com"),
        "{v:#}"
    );
}

#[test]
fn sql_mode_and_dialects() {
    let dir = tempfile::tempdir().unwrap();
    let out = dbguard(dir.path())
        .args(["check", "--sql", "--json", "DELETE FROM t WHERE 1=1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["findings"][0]["kind"], "delete_all");
    let out = dbguard(dir.path())
        .args(["check", "--sql", "--dialect", "mysql", "ALTER TABLE t DROP COLUMN c"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let out = dbguard(dir.path())
        .args(["check", "--sql", "SELECT * FROM t"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let out = dbguard(dir.path())
        .args(["check", "--sql", "SELEC oops FROM"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "unparseable SQL is risky, never safe");
}

#[test]
fn reads_package_json_scripts_and_psql_files_from_cwd() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("package.json"),
        r#"{"scripts": {"db:fresh": "prisma migrate reset --force"}}"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("cleanup.sql"), "TRUNCATE audit_log;").unwrap();
    let out = dbguard(dir.path())
        .args(["check", "npm run db:fresh"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stdout));
    let out = dbguard(dir.path())
        .args(["check", "psql -d app -f cleanup.sql"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    std::fs::write(dir.path().join("cleanup.sql"), "SELECT 1;").unwrap();
    let out = dbguard(dir.path())
        .args(["check", "psql -d app -f cleanup.sql"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn usage_errors_exit_two() {
    let dir = tempfile::tempdir().unwrap();
    let out = dbguard(dir.path()).args(["check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = dbguard(dir.path())
        .args(["check", "--dialect", "oracle", "--sql", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
