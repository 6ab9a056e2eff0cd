//! Removing the guard leaves the database (and the cluster's roles) as they were: the
//! catalog is compared before the install and after `dbguard protect --uninstall`, and
//! again after the versioned SQL files themselves were run with psql. One test in its own
//! binary: roles belong to the whole cluster, so no other install may run meanwhile.

mod e2e_support;
mod protect_support;

use std::path::Path;
use std::process::Stdio;

use e2e_support::{clean, describe, World};
use protect_support::{app_db, catalog, cluster, protect, psql, refused, scalar, Db, APP};

fn sql_file(name: &str) -> String {
    format!("{}/sql/guard/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// `psql -1 -f FILE` as `url`.
fn psql_file(url: &str, file: &str) -> (bool, String, String) {
    let out = clean(cluster().bin_dir.join("psql"))
        .args([
            "-X",
            "-q",
            "-A",
            "-t",
            "-1",
            "-v",
            "ON_ERROR_STOP=1",
            "-v",
            "VERBOSITY=verbose",
            url,
            "-f",
            file,
        ])
        .stdin(Stdio::null())
        .output()
        .expect("run psql");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn assert_same(before: &[String], after: &[String]) {
    let gone: Vec<&String> = before.iter().filter(|l| !after.contains(l)).collect();
    let added: Vec<&String> = after.iter().filter(|l| !before.contains(l)).collect();
    assert!(
        gone.is_empty() && added.is_empty(),
        "catalog changed:\n gone: {gone:#?}\n added: {added:#?}"
    );
}

#[test]
fn uninstall_leaves_the_catalog_as_it_was() {
    let db: Db = app_db(
        "uninstall",
        "CREATE TABLE items (id int PRIMARY KEY, name text); INSERT INTO items SELECT g, 'i' || g FROM generate_series(1, 2000) g; \
         CREATE SCHEMA app; CREATE TABLE app.log (at timestamptz DEFAULT now()); CREATE VIEW v AS SELECT count(*) FROM items",
    );
    let before = catalog(&db);
    assert!(
        before.iter().any(|l| l.starts_with("rel public.items r")),
        "{before:#?}"
    );

    // With the binary: install, use, uninstall.
    let world = World::new();
    let out = protect(&world, &db.owner_url, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_ne!(catalog(&db), before);
    refused(&db, "DELETE FROM items", "DG003");
    refused(&db, "DROP TABLE app.log", "DG001");
    let out = psql(
        &db.app_url,
        "BEGIN; CREATE TABLE tmp AS SELECT 1 AS x; DROP TABLE tmp; COMMIT",
        &[],
    );
    assert!(out.ok(), "{}", out.stderr);
    let out = protect(&world, &db.owner_url, &["--uninstall"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["action"], "uninstalled");
    assert_eq!(
        v["leftovers"],
        serde_json::json!({"schema": 0, "event_triggers": 0, "table_triggers": 0, "functions": 0, "tables": 0}),
        "{v}"
    );
    assert_same(&before, &catalog(&db));
    // Unguarded again.
    let out = psql(&db.app_url, "DELETE FROM items WHERE id > 1000", &[]);
    assert!(out.ok(), "{}", out.stderr);
    let before = catalog(&db);
    let out = world.dbguard(Path::new("/"), &["protect", "--url", &db.owner_url, "--uninstall"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));

    // The SQL files themselves, as the owner with psql, in one transaction each.
    let (ok, _, err) = psql_file(&db.owner_url, &sql_file("v1/install.sql"));
    assert!(ok, "{err}");
    let (ok, status, err) = psql_file(&db.app_url, &sql_file("v1/status.sql"));
    assert!(ok, "{err}");
    let status: serde_json::Value = serde_json::from_str(&status).expect("status.sql JSON");
    assert_eq!(status["version"], 1);
    assert_eq!(status["event_triggers"]["installed"], true);
    assert_eq!(status["tables"]["guarded"], 2);
    assert!(status["reader"]["granted_to"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r == APP));
    refused(&db, "TRUNCATE items", "DG002");
    // Installed twice: nothing duplicated.
    let count = || scalar(&db, "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'dbguard\\_%'");
    let n = count();
    let (ok, _, err) = psql_file(&db.owner_url, &sql_file("v1/install.sql"));
    assert!(ok, "{err}");
    assert_eq!(count(), n);
    let (ok, _, err) = psql_file(&db.owner_url, &sql_file("v1/uninstall.sql"));
    assert!(ok, "{err}");
    let (ok, leftovers, err) = psql_file(&db.owner_url, &sql_file("leftovers.sql"));
    assert!(ok, "{err}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&leftovers).unwrap(),
        serde_json::json!({"schema": 0, "event_triggers": 0, "table_triggers": 0, "functions": 0, "tables": 0})
    );
    assert_same(&before, &catalog(&db));
    // Nothing to uninstall: the file says so and changes nothing.
    let (ok, _, err) = psql_file(&db.owner_url, &sql_file("v1/uninstall.sql"));
    assert!(!ok && err.contains("DG020"), "{err}");
    assert_same(&before, &catalog(&db));
}
