//! Clone snapshots record their row counts and content checksums after the clone exists:
//! in the background (`dbguard snapshot-finish`), or on demand by `verify`/`restore`.
//! Real PostgreSQL (testpg), real binary, real background processes.

mod snapshot_support;
use snapshot_support::{checksums, dbguard_env, manifest, ok_json, ok_json_env};

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use testpg::Cluster;

const DELAY_ENV: &str = "DBGUARD_FINISH_DELAY_MS";

/// The snapshot's entry in `dbguard snapshots --json`.
fn entry(home: &Path, id: &str) -> serde_json::Value {
    let list = ok_json(home, &["snapshots", "--json"]);
    list["snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("{id} is not listed: {list}"))
}

fn content(home: &Path, id: &str) -> String {
    manifest(home, id)["content"].as_str().unwrap_or("complete").to_string()
}

fn fill(c: &Cluster, db: &str) {
    c.psql(
        db,
        "CREATE TABLE a (id serial PRIMARY KEY, t text, j jsonb);
         INSERT INTO a (t, j) SELECT 'row ' || g, jsonb_build_object('g', g) FROM generate_series(1, 2000) g;
         CREATE TABLE b (id int PRIMARY KEY, n numeric);
         INSERT INTO b SELECT g, g / 3.0 FROM generate_series(1, 700) g;
         CREATE SCHEMA other;
         CREATE TABLE other.c (x text);
         INSERT INTO other.c SELECT md5(g::text) FROM generate_series(1, 50) g;",
    );
}

/// What a copy snapshot of the same database records (same checksum algorithm).
fn expected(c: &Cluster, home: &Path, url: &str) -> Vec<(String, u64, String)> {
    let _ = c;
    let copy = ok_json(
        home,
        &[
            "snapshot",
            "--url",
            url,
            "--strategy",
            "copy",
            "--keep",
            "100",
            "--json",
        ],
    );
    checksums(&manifest(home, copy["id"].as_str().unwrap()))
}

/// Pids of running `dbguard snapshot-finish <id>` processes.
fn finishers(id: &str) -> Vec<i32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(e.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
        if args.len() >= 3 && args[1] == b"snapshot-finish" && args[2] == id.as_bytes() {
            // A zombie keeps its cmdline empty, so this is a live process.
            out.push(pid);
        }
    }
    out
}

fn kill9(pid: i32) {
    let st = Command::new("kill").args(["-9", &pid.to_string()]).status().unwrap();
    assert!(st.success());
}

fn allow_connections(c: &Cluster, clone: &str) -> String {
    c.psql(
        "postgres",
        &format!("SELECT datallowconn FROM pg_database WHERE datname = '{clone}'"),
    )
}

#[test]
fn clone_lists_at_once_and_its_checksums_are_recorded_in_the_background() {
    let c = Cluster::shared();
    let home = tempfile::tempdir().unwrap();
    let db = c.create_db("cc_bg");
    fill(c, &db);
    let url = c.url(&db);
    let want = expected(c, home.path(), &url);
    assert_eq!(want.len(), 3);

    // The finisher waits a moment so that the pending state is certain to be seen.
    let snap = ok_json_env(
        home.path(),
        &["snapshot", "--url", &url, "--strategy", "clone", "--json"],
        &[(DELAY_ENV, "1500")],
    );
    let id = snap["id"].as_str().unwrap().to_string();
    assert_eq!(snap["content_status"], "pending", "{snap}");
    assert_eq!(snap["verified"], true);
    let clone = snap["clone_database"].as_str().unwrap().to_string();
    assert_eq!(allow_connections(c, &clone), "f", "the clone is locked at once");

    // Usable at once: listed, with the pending state in JSON and on screen.
    let listed = entry(home.path(), &id);
    assert_eq!(listed["content_status"], "pending", "{listed}");
    let screen = dbguard_env(home.path(), &["snapshots"], &[]);
    let screen = String::from_utf8_lossy(&screen.stdout).to_string();
    assert!(screen.contains("checksums pending"), "{screen}");
    assert_eq!(finishers(&id).len(), 1, "one background finisher runs");

    // Recorded by the background process within a few seconds.
    assert!(
        testpg::wait_for(Duration::from_secs(20), || content(home.path(), &id) == "complete"),
        "the background pass did not record the checksums"
    );
    let m = manifest(home.path(), &id);
    assert_eq!(
        checksums(&m),
        want,
        "clone checksums equal those of a copy of the same data"
    );
    assert!(m["content_duration_ms"].as_u64().is_some(), "{m}");
    assert_eq!(
        allow_connections(c, &clone),
        "f",
        "the clone is locked again afterwards"
    );
    let listed = entry(home.path(), &id);
    assert_eq!(listed["content_status"], "complete");
    assert_eq!(listed["rows"], 2750);
    assert!(testpg::wait_for(Duration::from_secs(10), || finishers(&id).is_empty()));
    // No temporary manifest is left behind.
    let names: Vec<String> = std::fs::read_dir(home.path().join("snapshots").join(&id))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    assert!(
        names.iter().all(|n| n == "manifest.json" || n == "content.lock"),
        "{names:?}"
    );

    // --wait-checksums returns with them recorded.
    let waited = ok_json(
        home.path(),
        &[
            "snapshot",
            "--url",
            &url,
            "--strategy",
            "clone",
            "--wait-checksums",
            "--json",
        ],
    );
    assert_eq!(waited["content_status"], "complete", "{waited}");
    assert_eq!(checksums(&manifest(home.path(), waited["id"].as_str().unwrap())), want);
}

#[test]
fn verify_deep_while_pending_computes_the_checksums_on_demand() {
    let c = Cluster::shared();
    let home = tempfile::tempdir().unwrap();
    let db = c.create_db("cc_deep");
    fill(c, &db);
    let url = c.url(&db);
    let want = expected(c, home.path(), &url);
    // The background pass would only start in a minute.
    let snap = ok_json_env(
        home.path(),
        &["snapshot", "--url", &url, "--strategy", "clone", "--json"],
        &[(DELAY_ENV, "60000")],
    );
    let id = snap["id"].as_str().unwrap().to_string();
    assert_eq!(content(home.path(), &id), "pending");
    let v = ok_json(home.path(), &["verify", &id, "--deep", "--url", &url, "--json"]);
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["tables_checked"], 3, "{v}");
    assert_eq!(v["content_status"], "complete", "{v}");
    assert_eq!(checksums(&manifest(home.path(), &id)), want);
    // The scratch database is gone, the clone locked.
    assert_eq!(
        c.psql(
            "postgres",
            "SELECT count(*) FROM pg_database WHERE datname LIKE 'dbguard_verify_%'"
        ),
        "0"
    );
    assert_eq!(allow_connections(c, snap["clone_database"].as_str().unwrap()), "f");
    for pid in finishers(&id) {
        kill9(pid);
    }
}

#[test]
fn a_killed_finisher_leaves_the_snapshot_usable_and_verify_completes_it() {
    let c = Cluster::shared();
    let home = tempfile::tempdir().unwrap();
    let db = c.create_db("cc_kill");
    fill(c, &db);
    let url = c.url(&db);
    let want = expected(c, home.path(), &url);
    let snap = ok_json_env(
        home.path(),
        &["snapshot", "--url", &url, "--strategy", "clone", "--json"],
        &[(DELAY_ENV, "60000")],
    );
    let id = snap["id"].as_str().unwrap().to_string();
    let pids = finishers(&id);
    assert_eq!(pids.len(), 1, "one background finisher runs");
    kill9(pids[0]);
    assert!(testpg::wait_for(Duration::from_secs(10), || finishers(&id).is_empty()));

    // Still listed and usable, checksums pending.
    let listed = entry(home.path(), &id);
    assert_eq!(listed["content_status"], "pending");
    assert_eq!(content(home.path(), &id), "pending");

    // A plain verify records them.
    let v = ok_json(home.path(), &["verify", &id, "--url", &url, "--json"]);
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["content_status"], "complete", "{v}");
    assert_eq!(checksums(&manifest(home.path(), &id)), want);

    // And it restores.
    c.psql(&db, "DROP TABLE a, b; DROP SCHEMA other CASCADE");
    let out = ok_json(home.path(), &["restore", &id, "--url", &url, "--json"]);
    assert_eq!(out["rows"], 2750, "{out}");
    let restored = out["database"].as_str().unwrap();
    assert_eq!(c.psql(restored, "SELECT count(*) FROM a"), "2000");
    assert_eq!(c.psql(restored, "SELECT count(*) FROM other.c"), "50");
}

#[test]
fn a_finisher_killed_mid_pass_holds_nothing_and_restore_records_the_checksums() {
    let c = Cluster::shared();
    let home = tempfile::tempdir().unwrap();
    let db = c.create_db("cc_mid");
    // Big enough that the pass is still reading when it is killed.
    c.psql(
        &db,
        "CREATE TABLE big (id bigint, pad text); INSERT INTO big SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 1500000) g",
    );
    let url = c.url(&db);
    let snap = ok_json(
        home.path(),
        &["snapshot", "--url", &url, "--strategy", "clone", "--json"],
    );
    let id = snap["id"].as_str().unwrap().to_string();
    let clone = snap["clone_database"].as_str().unwrap().to_string();
    let reading = || {
        c.psql(
            "postgres",
            &format!("SELECT count(*) FROM pg_stat_activity WHERE datname = '{clone}'"),
        ) != "0"
    };
    assert!(
        testpg::wait_for(Duration::from_secs(20), reading),
        "the background pass never connected to the clone"
    );
    // Past the moment it connects (and locks the clone again), well before it is done.
    std::thread::sleep(Duration::from_millis(300));
    let pids = finishers(&id);
    assert_eq!(pids.len(), 1);
    kill9(pids[0]);
    assert_eq!(
        content(home.path(), &id),
        "pending",
        "the pass finished before the kill: make the table bigger"
    );
    assert_eq!(
        allow_connections(c, &clone),
        "f",
        "killed after connecting: the clone is locked"
    );
    // The kernel released the lock: restore computes the checksums and clones (waiting
    // for the killed sessions to go away).
    let out = ok_json(home.path(), &["restore", &id, "--url", &url, "--json"]);
    assert_eq!(out["rows"], 1_500_000, "{out}");
    assert_eq!(content(home.path(), &id), "complete");
    let restored = out["database"].as_str().unwrap();
    assert_eq!(c.psql(restored, "SELECT count(*) FROM big"), "1500000");
}

mod e2e_support;

/// `dbguard run` takes a clone before a command that touches tables and a schema, and its
/// after-check gets the row counts (waiting for the background pass or computing them).
#[test]
fn run_after_check_gets_the_row_counts_of_a_clone_snapshot() {
    let c = Cluster::shared();
    let path = std::env::var("PATH").unwrap_or_default();
    let w = e2e_support::World::new().env("PATH", &format!("{}:{path}", c.bin_dir.display()));
    w.set_config("[policy.development]\ndefault = \"snapshot\"\n");
    let d = tempfile::tempdir().unwrap();
    let db = c.create_db("cc_run");
    c.psql(
        &db,
        "CREATE TABLE items (id int PRIMARY KEY); INSERT INTO items SELECT generate_series(1, 5);
         CREATE TABLE keep (x int); INSERT INTO keep VALUES (1), (2);
         CREATE SCHEMA extra; CREATE TABLE extra.t (y int); INSERT INTO extra.t VALUES (1), (2), (3);",
    );
    let url = c.url(&db);
    let out = w.dbguard(
        d.path(),
        &[
            "run",
            "--json",
            "--",
            "psql",
            "-X",
            "-q",
            &url,
            "-c",
            "DROP TABLE items; DROP SCHEMA extra CASCADE",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", e2e_support::describe(&out));
    let v = e2e_support::json(&out);
    assert_eq!(v["outcome"], "ran", "{v}");
    assert_eq!(v["snapshot"]["strategy"], "clone", "{v}");
    assert_eq!(v["snapshot"]["rows"], 10, "{v}");
    assert_eq!(v["verification"]["rows_lost"], 8, "{v}");
    assert!(v["verification"]["note"].is_null(), "{v}");
}

#[test]
fn a_failed_background_pass_is_recorded_and_listed() {
    let c = Cluster::shared();
    let home = tempfile::tempdir().unwrap();
    let db = c.create_db("cc_fail");
    fill(c, &db);
    let url = c.url(&db);
    let snap = ok_json_env(
        home.path(),
        &["snapshot", "--url", &url, "--strategy", "clone", "--json"],
        &[(DELAY_ENV, "1500")],
    );
    let id = snap["id"].as_str().unwrap().to_string();
    // The clone disappears before the pass reads it (someone dropped it by hand).
    let clone = manifest(home.path(), &id)["clone_database"]
        .as_str()
        .unwrap()
        .to_string();
    c.psql("postgres", &format!("DROP DATABASE \"{clone}\""));
    assert!(testpg::wait_for(Duration::from_secs(30), || finishers(&id).is_empty()));
    let err_file = home.path().join("snapshots").join(&id).join("content.error");
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&err_file).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    let listed = entry(home.path(), &id);
    assert_eq!(listed["content_status"], "pending");
    let why = listed["content_error"].as_str().expect("the failure is listed");
    assert!(why.contains(&clone) || why.contains("does not exist"), "{why}");
    let text = dbguard_env(home.path(), &["snapshots"], &[]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("background pass failed") && text.contains(&format!("dbguard verify {id}")),
        "{text}"
    );
    // verify says what is wrong instead of passing.
    let out = dbguard_env(home.path(), &["verify", &id, "--url", &url], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
}
