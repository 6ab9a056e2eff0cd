//! Statements that destroy data, through the real `dbguard proxy` with psql: refused with a
//! documented SQLSTATE (DGP01 needs approval, DGP02 blocked) and a message that says what
//! would be destroyed, where, why and the next step; the session stays usable and the rows
//! intact; after `dbguard approve CODE` (typed by a person in a pseudo-terminal) the same
//! statement passes once; production follows the policy; every decision is in the audit log.

mod e2e_support;
mod proxy_support;

use std::sync::OnceLock;

use e2e_support::{describe, World};
use proxy_support::*;

fn cluster() -> &'static testpg::Cluster {
    static C: OnceLock<testpg::Cluster> = OnceLock::new();
    C.get_or_init(scram_cluster)
}

fn direct(db: &str, sql: &str) -> String {
    let out = psql(cluster().port, APP, APP_PW, db, &["-c", sql], None);
    assert!(out.status.success(), "direct SQL failed: {}\n{sql}", stderr(&out));
    stdout(&out)
}

fn items_db(prefix: &str) -> String {
    let db = app_db(cluster(), prefix);
    direct(
        &db,
        "CREATE TABLE items (id serial PRIMARY KEY, name text); INSERT INTO items (name) SELECT 'i' || g FROM generate_series(1, 100) g",
    );
    db
}

fn upstream(db: &str) -> String {
    format!("postgres://127.0.0.1:{}/{db}", cluster().port)
}

/// The approval code in a refusal's hint.
fn code_in(text: &str) -> String {
    let at = text
        .find("dbguard approve ")
        .unwrap_or_else(|| panic!("no approval code in:\n{text}"));
    text[at + "dbguard approve ".len()..].chars().take(7).collect()
}

#[test]
fn truncate_delete_and_drop_schema_are_refused_then_pass_once_after_approval() {
    let db = items_db("px_refuse");
    let world = World::new();
    let proxy = Proxy::start(&world, &upstream(&db));
    for (sql, kind) in [
        ("TRUNCATE items", "Removes every row of items"),
        ("DELETE FROM items", "Deletes every row of items"),
        ("UPDATE items SET name = 'x' WHERE 1 = 1", "Updates every row of items"),
        ("DROP SCHEMA public CASCADE", "Drops schema public"),
        ("ALTER TABLE items DROP COLUMN name", "Drops column items.name"),
        ("DO $$ BEGIN EXECUTE 'DROP TABLE items'; END $$", "dynamic SQL"),
    ] {
        let out = proxy.psql_as(APP, APP_PW, &db, &["-v", "VERBOSITY=verbose", "-c", sql]);
        assert!(!out.status.success(), "{sql} ran:\n{}", describe(&out));
        let err = stderr(&out);
        assert!(err.contains("DGP01") && err.contains(kind), "{sql}:\n{err}");
        assert!(
            err.contains("development environment") && err.contains(&db),
            "{sql}:\n{err}"
        );
        assert!(err.contains("dbguard approve"), "{sql}:\n{err}");
        assert_eq!(
            direct(&db, "SELECT count(*) FROM items WHERE name LIKE 'i%'"),
            "100",
            "{sql}"
        );
    }
    // In one Query message (psql -c: an implicit transaction) the statements before a refused
    // one are undone with it and those after it do not run, as after any error there.
    let out = proxy.psql(
        &db,
        "INSERT INTO items (name) VALUES ('a'); TRUNCATE items; INSERT INTO items (name) VALUES ('b')",
    );
    assert!(
        stderr(&out).contains("DGP01") || stderr(&out).contains("dbguard stopped"),
        "{}",
        describe(&out)
    );
    assert_eq!(direct(&db, "SELECT count(*) FROM items"), "100");
    // The same session goes on after a refusal.
    let script =
        b"SELECT 1;\n\\set ON_ERROR_STOP 0\nTRUNCATE items;\n\\set ON_ERROR_STOP 1\nSELECT count(*) FROM items;\n";
    let out = psql(proxy.port, APP, APP_PW, &db, &[], Some(script));
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(stdout(&out), "1\n100");
    // In an explicit transaction the refusal aborts it, as an error would.
    let script = b"BEGIN;\nINSERT INTO items (name) VALUES ('c');\n\\set ON_ERROR_STOP 0\nDELETE FROM items;\nSELECT 1;\n\\set ON_ERROR_STOP 1\nROLLBACK;\nSELECT count(*) FROM items;\n";
    let out = psql(proxy.port, APP, APP_PW, &db, &[], Some(script));
    assert!(
        stderr(&out).contains("current transaction is aborted"),
        "{}",
        describe(&out)
    );
    assert_eq!(stdout(&out), "100");

    // A person approves the TRUNCATE at a terminal: it runs once, then needs a new approval.
    let out = proxy.psql(&db, "TRUNCATE items");
    let code = code_in(&stderr(&out));
    let (status, screen) = world.dbguard_pty(world.dir.path(), &["approve", &code], &[&db], &[]);
    assert_eq!(status, 0, "{screen}");
    assert!(
        screen.contains("TRUNCATE items"),
        "the plan shows the statement:\n{screen}"
    );
    let out = proxy.psql(&db, "TRUNCATE items");
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(direct(&db, "SELECT count(*) FROM items"), "0");
    let out = proxy.psql(&db, "TRUNCATE items");
    assert!(!out.status.success(), "an approval is used once:\n{}", describe(&out));
    assert_ne!(code_in(&stderr(&out)), code);
    // Another statement is not approved by it.
    direct(&db, "INSERT INTO items (name) VALUES ('z')");
    let out = proxy.psql(&db, "DELETE FROM items");
    let code = code_in(&stderr(&out));
    let (status, _) = world.dbguard_pty(world.dir.path(), &["approve", &code], &[&db], &[]);
    assert_eq!(status, 0);
    assert!(!proxy.psql(&db, "DELETE FROM items -- other text").status.success());
    assert!(proxy.psql(&db, "DELETE FROM items").status.success());

    // The audit log has each decision, with the proxy as the door.
    let out = world.dbguard(world.dir.path(), &["log", "--json"]);
    let log: serde_json::Value = serde_json::from_slice(&out.stdout).expect("log json");
    let outcomes: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["door"] == "proxy")
        .filter_map(|e| e["outcome"].as_str())
        .collect();
    assert!(
        outcomes.contains(&"needs_approval") && outcomes.contains(&"allowed"),
        "{outcomes:?}"
    );
    let allowed = log
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["outcome"] == "allowed")
        .expect("allowed entry");
    assert!(allowed["approval"].is_string(), "{allowed}");
    assert!(
        allowed["detail"].as_str().unwrap_or("").contains("role app"),
        "{allowed}"
    );
    // And the proxy logged one JSON line per decision.
    let d = proxy.decisions();
    assert!(
        d.iter()
            .any(|e| e["action"] == "refused" && e["kinds"][0] == "truncate"),
        "{d:?}"
    );
    assert!(
        d.iter().any(|e| e["action"] == "allowed" && e["approval"].is_string()),
        "{d:?}"
    );
}

#[test]
fn production_blocks_and_protected_databases_refuse_even_soft_drops() {
    let db = items_db("px_prod");
    direct(&db, "CREATE TABLE gone (a int); CREATE TABLE kept (a int)");
    let world = World::new();
    world.set_config(&format!(
        "[[databases]]\nmatch = \"{db}\"\nenvironment = \"production\"\n"
    ));
    let proxy = Proxy::start(&world, &upstream(&db));
    let out = proxy.psql_as(APP, APP_PW, &db, &["-v", "VERBOSITY=verbose", "-c", "TRUNCATE items"]);
    let err = stderr(&out);
    assert!(err.contains("DGP02") && err.contains("production"), "{err}");
    assert!(!err.contains("dbguard approve"), "no approval lifts a block:\n{err}");
    assert_eq!(direct(&db, "SELECT count(*) FROM items"), "100");
    // DROP TABLE loses nothing: soft-dropped in production too (the incident was there).
    assert!(proxy.psql(&db, "DROP TABLE gone").status.success());
    assert_eq!(direct(&db, "SELECT count(*) FROM dbguard_trash.dropped"), "1");
    drop(proxy);

    // dbguard.toml can say otherwise, explicitly.
    world.set_config(&format!(
        "[[databases]]\nmatch = \"{db}\"\nenvironment = \"production\"\n[policy.production]\ndrop_table = \"block\"\n"
    ));
    let proxy = Proxy::start(&world, &upstream(&db));
    let out = proxy.psql_as(APP, APP_PW, &db, &["-v", "VERBOSITY=verbose", "-c", "DROP TABLE kept"]);
    assert!(stderr(&out).contains("DGP02"), "{}", describe(&out));
    assert_eq!(direct(&db, "SELECT to_regclass('kept') IS NOT NULL"), "t");
    drop(proxy);

    // A protected database: nothing destructive, not even into the trash.
    world.set_config(&format!("[[databases]]\nmatch = \"{db}\"\nprotected = true\n"));
    let proxy = Proxy::start(&world, &upstream(&db));
    let out = proxy.psql_as(APP, APP_PW, &db, &["-v", "VERBOSITY=verbose", "-c", "DROP TABLE kept"]);
    let err = stderr(&out);
    assert!(err.contains("DGP02") && err.contains("protected"), "{err}");
    assert_eq!(direct(&db, "SELECT to_regclass('kept') IS NOT NULL"), "t");
    // Harmless statements pass as ever.
    assert_eq!(stdout(&proxy.psql(&db, "SELECT count(*) FROM items")), "100");
}

#[test]
fn an_unwritable_audit_log_refuses_instead_of_letting_through() {
    let db = items_db("px_audit");
    let world = World::new();
    // The data directory is a file: nothing can be written under it.
    std::fs::write(&world.home, "not a directory").expect("block the data dir");
    let proxy = Proxy::start(&world, &upstream(&db));
    let out = proxy.psql_as(APP, APP_PW, &db, &["-v", "VERBOSITY=verbose", "-c", "DROP TABLE items"]);
    let err = stderr(&out);
    assert!(err.contains("DGP02") && err.contains("audit log"), "{err}");
    assert_eq!(direct(&db, "SELECT count(*) FROM items"), "100");
}
