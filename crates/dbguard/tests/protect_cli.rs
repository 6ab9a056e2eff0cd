//! `dbguard protect` as a command: what install prints and reports, a second install that
//! duplicates nothing, `--status` with the roles that can bypass the guard, `dbguard
//! status`, a role that may not create event triggers (table triggers only, exit 1),
//! versions (older needs --upgrade, newer is refused), bad input with clear messages and
//! nothing half-installed, and snapshots of a guarded database that restore elsewhere.

mod e2e_support;
mod protect_support;

use std::path::Path;

use e2e_support::{describe, World};
use protect_support::{allowed, app_db, install, protect, psql, refused, scalar, Db, APP, OWNER};

const SEED: &str = "CREATE TABLE items (id int PRIMARY KEY, name text); \
    INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 3000) g; \
    CREATE TABLE notes (id serial PRIMARY KEY, body text); INSERT INTO notes (body) VALUES ('a'), ('b');";

fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("no JSON ({e}):\n{}", describe(out)))
}

/// Counts of the guard's objects, to compare two installs.
fn guard_objects(db: &Db) -> String {
    scalar(
        db,
        "SELECT (SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'dbguard\\_%') || ' ' || \
                (SELECT count(*) FROM pg_event_trigger) || ' ' || \
                (SELECT count(*) FROM pg_proc WHERE pronamespace = 'dbguard'::regnamespace) || ' ' || \
                (SELECT count(*) FROM pg_class WHERE relnamespace = 'dbguard'::regnamespace) || ' ' || \
                (SELECT count(*) FROM dbguard.installation) || ' ' || \
                (SELECT count(*) FROM pg_extension)",
    )
}

#[test]
fn install_reports_coverage_and_a_second_install_duplicates_nothing() {
    let db = app_db("cli_install", SEED);
    let world = World::new();
    let out = world.dbguard(Path::new("/"), &["protect", "--url", &db.owner_url]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("installed the guard in"), "{text}");
    assert!(text.contains("Covered now:") && text.contains("Not covered:"), "{text}");
    assert!(text.contains("DROP DATABASE"), "{text}");
    assert!(text.contains("superusers can switch the guard off"), "{text}");
    assert!(
        !text.contains(protect_support::OWNER_PASSWORD),
        "password shown: {text}"
    );
    let first = guard_objects(&db);
    // Again, with JSON: repaired, same objects, nothing twice.
    let v = json(&protect(&world, &db.owner_url, &[]));
    assert_eq!(v["action"], "repaired", "{v}");
    assert_eq!(v["complete"], true);
    assert_eq!(guard_objects(&db), first);
    assert_eq!(v["status"]["tables"]["guarded"], 2);
    assert_eq!(v["status"]["tables"]["total"], 2);
    assert_eq!(v["status"]["event_triggers"]["installed"], true);
    assert_eq!(v["status"]["recording"]["mode"], "table");
    assert_eq!(v["status"]["owner"], OWNER);
    assert!(v["covered"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c.as_str().unwrap().starts_with("DROP TABLE")));
    // The reader role for read-only tools, granted to the application role.
    assert!(
        v["status"]["reader"]["granted_to"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == APP),
        "{v}"
    );
    // --status, as the application role: the same facts, and who can bypass.
    let out = protect(&world, &db.app_url, &["--status"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let s = json(&out);
    assert_eq!(s["installed"], true);
    assert_eq!(s["status"]["version"], 1);
    let supers = s["status"]["bypass"]["superusers"].as_array().unwrap();
    assert!(
        supers.iter().any(|r| r == "postgres") && supers.iter().any(|r| r == OWNER),
        "{s}"
    );
    assert!(s["not_covered"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l.as_str().unwrap().contains(OWNER)));
    // dbguard status shows it, and no longer lists the guard's own tables.
    let out = world.dbguard(Path::new("/"), &["status", "--url", &db.app_url, "--json"]);
    let st = json(&out);
    assert_eq!(st["guard"]["version"], 1, "{st}");
    assert!(
        !st["tables"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["schema"] == "dbguard"),
        "{st}"
    );
    let out = world.dbguard(Path::new("/"), &["status", "--url", &db.app_url]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Guard        installed (version 1"), "{text}");
    let plain = app_db("cli_install_plain", "");
    let out = world.dbguard(Path::new("/"), &["status", "--url", &plain.app_url]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("Guard        not installed"));
    let out = protect(&world, &plain.app_url, &["--status"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json(&out)["installed"], false);
}

#[test]
fn a_role_that_cannot_create_event_triggers_gets_the_table_triggers_and_exit_1() {
    let db = app_db("cli_noevent", SEED);
    let world = World::new();
    let out = protect(&world, &db.app_url, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let v = json(&out);
    assert_eq!(v["installed"], true);
    assert_eq!(v["complete"], false);
    assert_eq!(v["status"]["event_triggers"]["installed"], false);
    assert!(v["status"]["event_triggers"]["missing_reason"]
        .as_str()
        .unwrap()
        .contains("permission denied"));
    let missing = v["not_covered"].as_array().unwrap();
    assert!(missing[0].as_str().unwrap().contains("NOT refused"), "{v}");
    assert!(
        missing
            .iter()
            .any(|l| l.as_str().unwrap().contains("table owners can disable")),
        "{v}"
    );
    let text =
        String::from_utf8_lossy(&world.dbguard(Path::new("/"), &["protect", "--url", &db.app_url]).stdout).to_string();
    assert!(text.contains("exit code 1"), "{text}");
    // The table triggers work; DROP is what is missing.
    refused(&db, "DELETE FROM items", "DG003");
    refused(&db, "TRUNCATE items", "DG002");
    assert_eq!(scalar(&db, "SELECT count(*) FROM items"), "3000");
    // Then a superuser completes it in place.
    let v = json(&protect(&world, &db.owner_url, &[]));
    assert_eq!(v["complete"], true, "{v}");
    refused(&db, "DROP TABLE notes", "DG001");
}

#[test]
fn versions_older_need_upgrade_newer_are_refused() {
    let db = app_db("cli_versions", SEED);
    install(&db);
    let world = World::new();
    // An older guard (pretend: version 0).
    scalar(&db, "UPDATE dbguard.installation SET version = 0");
    let out = protect(&world, &db.owner_url, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("dbguard protect --upgrade"));
    let out = protect(&world, &db.owner_url, &["--upgrade"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let v = json(&out);
    assert_eq!(v["action"], "upgraded");
    assert_eq!(v["previous_version"], 0);
    assert_eq!(scalar(&db, "SELECT version FROM dbguard.installation"), "1");
    // A newer one is left alone.
    scalar(&db, "UPDATE dbguard.installation SET version = 99");
    let out = protect(&world, &db.owner_url, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("newer than this dbguard"));
    let out = protect(&world, &db.owner_url, &["--uninstall"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(scalar(&db, "SELECT version FROM dbguard.installation"), "99");
    scalar(&db, "UPDATE dbguard.installation SET version = 1");
    // --upgrade with nothing installed.
    let plain = app_db("cli_versions_plain", "");
    let out = protect(&world, &plain.owner_url, &["--upgrade"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing to upgrade"));
}

#[test]
fn bad_input_gets_a_clear_message_and_nothing_half_installed() {
    let world = World::new();
    let db = app_db("cli_bad", SEED);
    // Unreachable server.
    let out = protect(&world, "postgres://guard_admin:pw@127.0.0.1:1/nowhere", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot connect") && !err.contains(":pw@"), "{err}");
    // Wrong password: redacted, nothing installed.
    let wrong = db.owner_url.replace(protect_support::OWNER_PASSWORD, "not-it");
    let out = protect(&world, &wrong, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("not-it"));
    // Not PostgreSQL.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.db");
    std::fs::write(&file, "").unwrap();
    let out = protect(&world, &format!("sqlite:{}", file.display()), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("for PostgreSQL"));
    // Usage.
    let out = world.dbguard(Path::new("/"), &["protect", "--status", "--uninstall"]);
    assert_eq!(out.status.code(), Some(2));
    // Uninstall of a guard that is not there.
    let out = protect(&world, &db.owner_url, &["--uninstall"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no dbguard guard is installed"));
    // A schema named dbguard that is not ours: refused, nothing added.
    allowed(&db, "CREATE SCHEMA dbguard");
    let out = protect(&world, &db.owner_url, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not created by dbguard protect"));
    assert_eq!(
        scalar(&db, "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'dbguard\\_%'"),
        "0"
    );
    assert_eq!(scalar(&db, "SELECT count(*) FROM pg_event_trigger"), "0");
    allowed(&db, "DROP SCHEMA dbguard");
    // An application role that does not exist for --app-role: one transaction, nothing left.
    let out = protect(&world, &db.owner_url, &["--app-role", "no_such_role"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no_such_role"));
    assert_eq!(
        scalar(&db, "SELECT count(*) FROM pg_namespace WHERE nspname = 'dbguard'"),
        "0"
    );
    assert_eq!(
        scalar(&db, "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'dbguard\\_%'"),
        "0"
    );
    // The application may not remove the owner's guard.
    install(&db);
    let out = protect(&world, &db.app_url, &["--uninstall"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("installed by {OWNER}")));
    refused(&db, "TRUNCATE items", "DG002");
    // Nor may an agent, whatever its credentials.
    let agent = World::new().env("CLAUDECODE", "1");
    let out = protect(&agent, &db.owner_url, &["--uninstall"]);
    assert_eq!(out.status.code(), Some(3));
    refused(&db, "TRUNCATE items", "DG002");
}

#[test]
fn snapshots_of_a_guarded_database_restore_elsewhere() {
    let db = app_db("cli_snap", SEED);
    install(&db);
    let world = World::new();
    for strategy in ["copy", "dump"] {
        let out = world.dbguard(
            Path::new("/"),
            &["snapshot", "--url", &db.app_url, "--strategy", strategy, "--json"],
        );
        assert_eq!(out.status.code(), Some(0), "{strategy}: {}", describe(&out));
        let id = json(&out)["id"].as_str().expect("id").to_string();
        let target = format!("{}_{strategy}_back", db.name);
        let out = world.dbguard(
            Path::new("/"),
            &[
                "restore",
                &id,
                "--to-url",
                &protect_support::url(&target, OWNER, protect_support::OWNER_PASSWORD),
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{strategy}: {}", describe(&out));
        let back = Db {
            name: target.clone(),
            owner_url: String::new(),
            app_url: String::new(),
        };
        assert_eq!(scalar(&back, "SELECT count(*) FROM items"), "3000", "{strategy}");
        assert_eq!(
            scalar(&back, "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'dbguard\\_%'"),
            "0",
            "{strategy}"
        );
        assert_eq!(
            scalar(&back, "SELECT count(*) FROM pg_namespace WHERE nspname = 'dbguard'"),
            "0"
        );
    }
    // The guarded database itself is unchanged, guard included.
    assert_eq!(
        scalar(&db, "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'dbguard\\_%'"),
        "6"
    );
    let out = psql(&db.app_url, "SELECT count(*) FROM items", &[]);
    assert_eq!(out.stdout, "3000");
}
