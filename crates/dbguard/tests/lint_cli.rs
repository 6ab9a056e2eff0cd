//! `dbguard lint` end to end: the real binary on SQL files and migration folders,
//! with impact measured on a real PostgreSQL started by the test.

use std::process::Command;

fn dbguard() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_dbguard"));
    c.env_remove("DATABASE_URL").env("DBGUARD_CONFIG", "none");
    c
}

fn write(dir: &std::path::Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

#[test]
fn lint_reports_findings_positions_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "prisma/migrations/20240101_init/migration.sql",
        "CREATE TABLE users (id serial primary key, email text);\nINSERT INTO users (email) VALUES ('a');\n",
    );
    write(
        dir.path(),
        "prisma/migrations/20240202_cleanup/migration.sql",
        "-- a cleanup\nALTER TABLE users DROP COLUMN email;\n\nDELETE FROM sessions\n",
    );
    write(dir.path(), "node_modules/pkg/evil.sql", "DROP TABLE ignored;");
    let out = dbguard().args(["lint", "--json"]).arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["files"], 2, "node_modules is skipped");
    let f = v["findings"].as_array().unwrap();
    assert_eq!(f.len(), 2, "{v:#}");
    assert_eq!(f[0]["kind"], "drop_column");
    assert_eq!(f[0]["object"], "users.email");
    assert_eq!(f[0]["line"], 2);
    assert_eq!(f[0]["column"], 1);
    assert_eq!(f[1]["kind"], "delete_all");
    assert_eq!(f[1]["line"], 4);

    // A clean folder exits 0.
    let clean = tempfile::tempdir().unwrap();
    write(
        clean.path(),
        "0001.sql",
        "CREATE TABLE t (id int); ALTER TABLE t ADD COLUMN x int; DROP INDEX IF EXISTS i;",
    );
    let out = dbguard().args(["lint"]).arg(clean.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn allow_comments_accept_findings_but_still_report_them() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "m.sql",
        "-- dbguard:allow drop_table moved to archive db in PR 42\nDROP TABLE legacy;\n",
    );
    let out = dbguard().args(["lint", "--json"]).arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["findings"][0]["accepted"], true);
    assert_eq!(v["findings"][0]["accepted_reason"], "moved to archive db in PR 42");

    // The wrong kind does not accept it.
    write(
        dir.path(),
        "m.sql",
        "-- dbguard:allow truncate nope\nDROP TABLE legacy;\n",
    );
    let out = dbguard().args(["lint"]).arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn github_and_sarif_formats() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.sql", "SELECT 1;\nTRUNCATE orders CASCADE;\n");
    let out = dbguard()
        .args(["lint", "--format", "github"])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("::error file="), "{text}");
    assert!(text.contains("line=2,col=1,title=dbguard truncate::"), "{text}");

    let out = dbguard()
        .args(["lint", "--format", "sarif"])
        .arg(dir.path())
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    assert_eq!(v["runs"][0]["results"][0]["ruleId"], "truncate");
    assert_eq!(
        v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"],
        2
    );
}

#[test]
fn missing_path_is_a_clear_error() {
    let out = dbguard().args(["lint", "/nonexistent/dir/x.sql"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot read /nonexistent/dir/x.sql"), "{err}");
}

#[test]
fn impact_from_a_live_database() {
    let c = testpg::Cluster::shared();
    let db = c.create_db("lint");
    c.psql(
        &db,
        "CREATE TABLE users (id int primary key, name text);
         INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 1000) g;
         CREATE TABLE orders (id int, user_id int);
         INSERT INTO orders SELECT g, g % 10 FROM generate_series(1, 500) g;
         CREATE SCHEMA audit; CREATE TABLE audit.log (x int);
         INSERT INTO audit.log SELECT g FROM generate_series(1, 70) g;
         ANALYZE;",
    );
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "m.sql",
        "DROP TABLE users;\nDELETE FROM orders WHERE 1 = 1;\nDROP SCHEMA audit CASCADE;\nDROP TABLE nosuch;\n",
    );
    let url = format!("postgres://postgres:s3cretpw@127.0.0.1:{}/{db}", c.port);
    let out = dbguard()
        .args(["lint", "--json", "--url", &url])
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!stdout.contains("s3cretpw"), "password leaked: {stdout}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = v["findings"].as_array().unwrap();
    assert_eq!(f[0]["impact"]["rows"], 1000, "{v:#}");
    let delete_rows = f[1]["impact"]["rows"].as_i64().unwrap();
    assert!(
        (400..=600).contains(&delete_rows),
        "planner estimate for DELETE: {delete_rows}"
    );
    assert_eq!(f[2]["impact"]["rows"], 70);
    assert!(f[3]["impact"]["note"].as_str().unwrap().contains("not found"));

    // --exact counts, and the table is still there afterwards.
    let out = dbguard()
        .args(["lint", "--json", "--exact", "--url", &url])
        .arg(dir.path())
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["findings"][1]["impact"]["rows"], 500);
    assert_eq!(v["findings"][1]["impact"]["exact"], true);
    assert_eq!(c.psql(&db, "SELECT count(*) FROM orders"), "500");

    // Human text carries the numbers too.
    let out = dbguard()
        .args(["lint", "--url", &url])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("impact: ~1000 rows"), "{text}");
}

#[test]
fn unreachable_database_is_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "m.sql", "DROP TABLE users;");
    let out = dbguard()
        .args(["lint", "--url", "postgres://u:pw123@127.0.0.1:1/x"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot connect") && !err.contains("pw123"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn files_linted_in_parallel_report_in_file_order() {
    // Files are analyzed on every core; the report must not depend on which finished first.
    let dir = tempfile::tempdir().unwrap();
    for i in 0..40 {
        // Uneven sizes, so that workers finish out of order.
        let filler = "INSERT INTO t VALUES (1);\n".repeat((i * 37) % 200);
        write(
            dir.path(),
            &format!("migrations/{i:03}_m/migration.sql"),
            &format!("{filler}DROP TABLE t_{i:03};\nDO $$ BEGIN DELETE FROM u_{i:03}; END $$;\n"),
        );
    }
    let out = dbguard().args(["lint", "--json"]).arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["files"], 40);
    let objects: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["object"].as_str().unwrap().to_string())
        .collect();
    let expected: Vec<String> = (0..40)
        .flat_map(|i| [format!("t_{i:03}"), format!("u_{i:03}")])
        .collect();
    assert_eq!(objects, expected);

    // An unreadable file is a clear error, whichever worker meets it.
    write(dir.path(), "migrations/999_bad/migration.sql", "");
    std::fs::write(dir.path().join("migrations/999_bad/migration.sql"), [0xff, 0xfe, 0x00]).unwrap();
    let out = dbguard().args(["lint", "--json"]).arg(dir.path()).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("999_bad"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
