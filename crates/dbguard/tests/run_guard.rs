//! `dbguard run`, `approve`, `approvals`, `deny` and `log` with the real binary against
//! throwaway PostgreSQL databases (psql as the wrapped tool) and SQLite files: pass-through,
//! approvals that only a person at a terminal can give, single use, agents never prompted,
//! production blocks, fail-closed snapshot and audit failures, exit codes and signals.

mod e2e_support;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use e2e_support::{describe, json, World};

const PASSWORD: &str = "s3cret-pw";

fn pg_world() -> World {
    let cluster = testpg::Cluster::shared();
    let path = std::env::var("PATH").unwrap_or_default();
    World::new().env("PATH", &format!("{}:{path}", cluster.bin_dir.display()))
}

/// A database with a table `items` of 5 rows; returns (db, url).
fn items_db(prefix: &str) -> (String, String) {
    let cluster = testpg::Cluster::shared();
    let db = cluster.create_db(prefix);
    cluster.psql(&db, "CREATE TABLE items (id int PRIMARY KEY, name text); INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 5) g; CREATE TABLE other (x int); INSERT INTO other VALUES (1);");
    // A password (trust auth ignores it) so that redaction is tested everywhere.
    let url = cluster
        .url(&db)
        .replacen("postgres@", &format!("postgres:{PASSWORD}@"), 1);
    (db, url)
}

fn count(db: &str, table: &str) -> Option<i64> {
    let cluster = testpg::Cluster::shared();
    let exists = cluster.psql(
        db,
        &format!("SELECT count(*) FROM pg_class WHERE relname = '{table}' AND relkind = 'r'"),
    );
    if exists != "1" {
        return None;
    }
    cluster.psql(db, &format!("SELECT count(*) FROM {table}")).parse().ok()
}

fn drop_cmd<'a>(url: &'a str, table: &'a str) -> Vec<String> {
    ["psql", "-X", "-q", url, "-c"]
        .iter()
        .map(|s| s.to_string())
        .chain([format!("DROP TABLE {table}")])
        .collect()
}

fn args<'a>(pre: &[&'a str], cmd: &'a [String]) -> Vec<&'a str> {
    let mut v: Vec<&str> = pre.to_vec();
    v.push("--");
    v.extend(cmd.iter().map(String::as_str));
    v
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

#[test]
fn non_destructive_commands_pass_straight_through() {
    let w = World::new();
    let d = tmp();
    let out = w.dbguard(d.path(), &["run", "--", "true"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty() && out.stderr.is_empty(), "{}", describe(&out));
    let out = w.dbguard(
        d.path(),
        &["run", "--", "sh", "-c", "echo hello; echo oops >&2; exit 7"],
    );
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "oops\n");
    let out = w.dbguard(d.path(), &["run", "--", "dbguard-no-such-command"]);
    assert_eq!(out.status.code(), Some(127), "{}", describe(&out));
    let out = w.dbguard(d.path(), &["run", "--json", "--", "true"]);
    assert_eq!(json(&out)["outcome"], "passed_through");
    // Nothing was logged for a harmless command.
    assert!(!w.home.join("audit.log").exists());
}

#[test]
fn approval_needs_a_person_at_a_terminal_and_is_single_use() {
    let w = pg_world();
    let d = tmp();
    let (db, url) = items_db("run_approve");
    let cmd = drop_cmd(&url, "items");
    let run = args(&["run", "--json"], &cmd);

    let out = w.dbguard(d.path(), &run);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    let v = json(&out);
    assert_eq!(v["outcome"], "needs_approval");
    let code = v["approval"]["code"].as_str().expect("code").to_string();
    assert_eq!(count(&db, "items"), Some(5));
    // The same plan asked again gets the same pending code, not a new one.
    let again = json(&w.dbguard(d.path(), &run));
    assert_eq!(again["approval"]["code"], code.as_str());

    // No terminal: refused. Agent in a terminal: refused. Wrong name: refused.
    let out = w.dbguard(d.path(), &["approve", &code]);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    let (st, screen) = w.dbguard_pty(d.path(), &["approve", &code], &[&db], &[("CLAUDECODE", "1")]);
    assert_eq!(st, 3, "{screen}");
    assert!(!screen.contains("Type the database name"), "{screen}");
    let (st, screen) = w.dbguard_pty(d.path(), &["approve", &code], &["yes"], &[]);
    assert_eq!(st, 3, "{screen}");
    let list = json(&w.dbguard(d.path(), &["approvals", "--json"]));
    assert_eq!(list[0]["status"], "pending", "{list}");
    assert!(!list.to_string().contains(PASSWORD), "password in the approvals list");
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains(PASSWORD),
        "password on stderr"
    );

    // A person types the name: approved.
    let (st, screen) = w.dbguard_pty(
        d.path(),
        &["approve", &code.to_lowercase().replace('-', "")],
        &[&db],
        &[],
    );
    assert_eq!(st, 0, "{screen}");
    assert!(screen.contains("DROP TABLE items"), "plan not shown:\n{screen}");
    assert_eq!(
        json(&w.dbguard(d.path(), &["approvals", "--json"]))[0]["status"],
        "approved"
    );

    // Bound to the exact command: another table is not approved.
    let other = drop_cmd(&url, "other");
    let out = w.dbguard(d.path(), &args(&["run", "--json"], &other));
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(count(&db, "other"), Some(1));
    // Bound to the directory too.
    let d2 = tmp();
    assert_eq!(w.dbguard(d2.path(), &run).status.code(), Some(3));

    // The approved command runs once, after a snapshot, and is verified.
    let out = w.dbguard(d.path(), &run);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let v = json(&out);
    assert_eq!(v["outcome"], "ran");
    assert_eq!(v["approval_used"], code.as_str());
    assert_eq!(count(&db, "items"), None);
    let id = v["snapshot"]["id"].as_str().expect("snapshot");
    assert_eq!(v["verification"]["rows_lost"], 5, "{v}");
    assert!(v["verification"]["tables"].to_string().contains("items"), "{v}");
    assert_eq!(v["restore_command"], format!("dbguard restore {id}").as_str());
    // Human output names the restore line.
    let cluster = testpg::Cluster::shared();
    cluster.psql(&db, "CREATE TABLE items (id int); INSERT INTO items VALUES (1)");
    let out = w.dbguard(d.path(), &run);
    assert_eq!(out.status.code(), Some(3), "approval was reused:\n{}", describe(&out));
    assert_eq!(count(&db, "items"), Some(1));

    // The log has every verdict, redacted; --since filters.
    let log = json(&w.dbguard(d.path(), &["log", "--json"]));
    let outcomes: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["outcome"].as_str())
        .collect();
    assert_eq!(outcomes.first(), Some(&"needs_approval"));
    assert!(
        outcomes.contains(&"started") && outcomes.contains(&"ran"),
        "{outcomes:?}"
    );
    let ran = log.as_array().unwrap().iter().find(|e| e["outcome"] == "ran").unwrap();
    assert_eq!(ran["exit_code"], 0);
    assert_eq!(ran["snapshot"], id);
    assert_eq!(ran["approval"], code.as_str());
    assert!(!log.to_string().contains(PASSWORD), "password in the audit log");
    let future = json(&w.dbguard(d.path(), &["log", "--json", "--since", "2999-01-01"]));
    assert_eq!(future.as_array().map(|a| a.len()), Some(0));
    let human = w.dbguard(d.path(), &["log", "--since", "1h"]);
    assert!(
        String::from_utf8_lossy(&human.stdout).contains("needs_approval"),
        "{}",
        describe(&human)
    );
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(w.home.join("audit.log")).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);

    // deny discards a pending code.
    let code2 = json(&w.dbguard(d.path(), &run))["approval"]["code"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(w.dbguard(d.path(), &["deny", &code2]).status.code(), Some(0));
    assert_eq!(w.dbguard(d.path(), &["deny", &code2]).status.code(), Some(1));
    let (st, _) = w.dbguard_pty(d.path(), &["approve", &code2], &[&db], &[]);
    assert_eq!(st, 1);
}

#[test]
fn an_agent_is_never_prompted_even_in_a_terminal() {
    let w = pg_world();
    let d = tmp();
    let (db, url) = items_db("run_agent");
    let cmd = drop_cmd(&url, "items");
    for var in ["CLAUDECODE", "CURSOR_AGENT", "CODEX_SANDBOX", "GEMINI_CLI", "AI_AGENT"] {
        let (st, screen) = w.dbguard_pty(d.path(), &args(&["run"], &cmd), &[&db], &[(var, "1")]);
        assert_eq!(st, 3, "{var}: {screen}");
        assert!(
            !screen.contains("Type the database name"),
            "{var} was prompted:\n{screen}"
        );
        assert!(screen.contains("dbguard approve "), "{screen}");
        assert_eq!(count(&db, "items"), Some(5));
    }
}

#[test]
fn a_person_at_the_terminal_types_the_database_name() {
    let w = pg_world();
    let d = tmp();
    let (db, url) = items_db("run_typed");
    let cmd = drop_cmd(&url, "items");
    let (st, screen) = w.dbguard_pty(d.path(), &args(&["run"], &cmd), &["y"], &[]);
    assert_eq!(st, 3, "{screen}");
    assert!(
        screen.contains("snapshot:") && screen.contains("items"),
        "plan not shown:\n{screen}"
    );
    assert_eq!(count(&db, "items"), Some(5));
    let (st, screen) = w.dbguard_pty(d.path(), &args(&["run"], &cmd), &[&db], &[]);
    assert_eq!(st, 0, "{screen}");
    assert_eq!(count(&db, "items"), None);
    assert!(screen.contains("5 rows -> table gone"), "{screen}");
    assert!(screen.contains("dbguard restore "), "{screen}");
}

#[test]
fn production_is_blocked_and_lifted_only_by_a_person_typing_the_name_twice() {
    let w = pg_world();
    let d = tmp();
    let (db, url) = items_db("run_prod");
    w.set_config(&format!(
        "[[databases]]\nmatch = \"{db}\"\nenvironment = \"production\"\n"
    ));
    let cmd = drop_cmd(&url, "items");
    let out = w.dbguard(d.path(), &args(&["run", "--json"], &cmd));
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    let v = json(&out);
    assert_eq!(v["outcome"], "blocked");
    assert!(v["approval"].is_null(), "production must not hand out approval codes");
    assert!(v["safe_alternative"]
        .as_str()
        .unwrap_or("")
        .contains("dbguard snapshot"));
    let lift = args(&["run", "--allow-production"], &cmd);
    assert_eq!(w.dbguard(d.path(), &lift).status.code(), Some(3));
    let (st, screen) = w.dbguard_pty(d.path(), &lift, &[&db, &db], &[("CLAUDECODE", "1")]);
    assert_eq!(st, 3, "{screen}");
    let (st, screen) = w.dbguard_pty(d.path(), &lift, &[&db, "oops"], &[]);
    assert_eq!(st, 3, "{screen}");
    assert_eq!(count(&db, "items"), Some(5));
    let (st, screen) = w.dbguard_pty(d.path(), &lift, &[&db, &db], &[]);
    assert_eq!(st, 0, "{screen}");
    assert_eq!(count(&db, "items"), None);

    // protected = true: nothing lifts it.
    let (db2, url2) = items_db("run_protected");
    w.set_config(&format!(
        "[[databases]]\nmatch = \"{db2}\"\nenvironment = \"production\"\nprotected = true\n"
    ));
    let cmd2 = drop_cmd(&url2, "items");
    let (st, screen) = w.dbguard_pty(
        d.path(),
        &args(&["run", "--allow-production"], &cmd2),
        &[&db2, &db2],
        &[],
    );
    assert_eq!(st, 3, "{screen}");
    assert_eq!(count(&db2, "items"), Some(5));
}

/// A data directory that cannot exist, even for root: a path under a regular file.
fn impossible_home(d: &Path) -> String {
    let file = d.join("not-a-dir");
    std::fs::write(&file, b"x").expect("write");
    file.join("home").display().to_string()
}

#[test]
fn a_failed_snapshot_means_the_command_does_not_run() {
    let d = tmp();
    let w = pg_world().env("DBGUARD_HOME", &impossible_home(d.path()));
    w.set_config("[policy]\ndevelopment = \"snapshot\"\n");
    let (db, url) = items_db("run_snapfail");
    let cmd = drop_cmd(&url, "items");
    let out = w.dbguard(d.path(), &args(&["run"], &cmd));
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("snapshot failed") && err.contains("did NOT run"), "{err}");
    assert_eq!(count(&db, "items"), Some(5));
}

#[test]
fn an_unwritable_audit_log_means_the_command_does_not_run() {
    let d = tmp();
    let w = pg_world().env("DBGUARD_HOME", &impossible_home(d.path()));
    w.set_config("[policy.development]\ndefault = \"allow\"\n");
    let (db, url) = items_db("run_auditfail");
    let cmd = drop_cmd(&url, "items");
    let out = w.dbguard(d.path(), &args(&["run", "--json"], &cmd));
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert_eq!(json(&out)["outcome"], "audit_failed");
    assert_eq!(count(&db, "items"), Some(5));
}

#[test]
fn allowed_destructive_commands_pass_exit_codes_and_signals_through() {
    let w = World::new();
    w.set_config("[policy.development]\ndefault = \"allow\"\n");
    let d = tmp();
    std::fs::write(d.path().join("app.db"), b"").expect("write");
    let out = w.dbguard(d.path(), &["run", "--", "sh", "-c", "rm -f app.db; exit 5"]);
    assert_eq!(out.status.code(), Some(5), "{}", describe(&out));
    assert!(!d.path().join("app.db").exists());

    // SIGTERM sent to dbguard reaches the command (which exits 42 from its trap).
    std::fs::write(d.path().join("app.db"), b"").expect("write");
    let marker = d.path().join("started");
    let script = format!(
        "trap 'exit 42' TERM; touch {}; sleep 20 & wait; rm -f app.db",
        marker.display()
    );
    let mut child = w
        .command(d.path(), &["run", "--", "sh", "-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    assert!(
        testpg::wait_for(Duration::from_secs(20), || marker.exists()),
        "command did not start"
    );
    // SAFETY: sending SIGTERM to the dbguard process this test spawned.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(42));
    assert!(d.path().join("app.db").exists(), "the command went on after SIGTERM");
    let log = json(&w.dbguard(d.path(), &["log", "--json"]));
    assert!(log.to_string().contains("\"exit_code\":42"), "{log}");
}

#[test]
fn impact_is_measured_and_an_empty_database_needs_no_approval() {
    let cluster = testpg::Cluster::shared();
    let w = pg_world();
    let d = tmp();

    // Holds rows: the plan names the table and its rows, and asks for approval.
    let (db, url) = items_db("impact");
    let cmd = drop_cmd(&url, "items");
    let out = w.dbguard(d.path(), &args(&["run", "--json"], &cmd));
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    let text = describe(&out);
    assert!(!text.contains(PASSWORD), "{text}");
    let v = json(&out);
    assert_eq!(
        v["plan"]["impacts"][0]["rows"], 5,
        "the plan shows the rows it would destroy: {v:#}"
    );
    assert_eq!(v["plan"]["total_rows"], 6, "{v:#}");
    assert_eq!(count(&db, "items"), Some(5));

    // Every table empty: nothing to lose, so it runs after a snapshot, without approval.
    let empty = cluster.create_db("empty");
    cluster.psql(
        &empty,
        "CREATE TABLE items (id int PRIMARY KEY); CREATE TABLE other (x int);",
    );
    let url = cluster.url(&empty);
    let cmd = drop_cmd(&url, "items");
    let out = w.dbguard(d.path(), &args(&["run"], &cmd));
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(count(&empty, "items"), None, "the command ran");
    let snaps = w.dbguard(d.path(), &["snapshots", "--json"]);
    let v = json(&snaps);
    assert!(
        v["snapshots"].as_array().map(|a| !a.is_empty()).unwrap_or(false),
        "a snapshot was still taken: {v:#}"
    );
}

#[test]
fn freshness_makes_an_allowed_destructive_command_take_a_snapshot_first() {
    let w = World::new();
    w.set_config("[policy]\ndevelopment = \"allow\"\n\n[freshness]\ndevelopment = \"1h\"\n\n[snapshots]\nkeep = 2\n");
    let d = tmp();
    let db = d.path().join("app.db");
    let conn = std::process::Command::new("sqlite3")
        .arg(&db)
        .arg("CREATE TABLE t (x int); INSERT INTO t VALUES (1), (2);")
        .status()
        .expect("sqlite3");
    assert!(conn.success());

    // status reports the unmet requirement.
    let out = w.dbguard(d.path(), &["status", "--json", "--url", db.to_str().unwrap()]);
    let v = json(&out);
    assert_eq!(v["freshness"]["met"], false, "{v:#}");

    // `allow` would run it bare; freshness makes dbguard snapshot first.
    for i in 0..3 {
        let sql = format!("DELETE FROM t WHERE x = {i} OR 1 = 1");
        let out = w.dbguard(
            d.path(),
            &["run", "--json", "--", "sqlite3", db.to_str().unwrap(), &sql],
        );
        assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
        let v = json(&out);
        if i == 0 {
            assert_eq!(v["plan"]["verdict"]["rule"], "freshness.development", "{v:#}");
            assert!(v["snapshot"]["id"].is_string(), "{v:#}");
        } else {
            // A fresh snapshot exists now: the policy's `allow` stands.
            assert_eq!(v["plan"]["verdict"]["action"], "allow", "{v:#}");
        }
    }
    let out = w.dbguard(d.path(), &["status", "--json", "--url", db.to_str().unwrap()]);
    assert_eq!(json(&out)["freshness"]["met"], true);
    // [snapshots] keep = 2 applies to retention.
    for _ in 0..3 {
        let out = w.dbguard(d.path(), &["snapshot", "--url", db.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    }
    let v = json(&w.dbguard(d.path(), &["snapshots", "--json"]));
    assert_eq!(v["snapshots"].as_array().unwrap().len(), 2, "{v:#}");
}
