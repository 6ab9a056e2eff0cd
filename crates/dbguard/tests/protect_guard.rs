//! The in-database guard at work: installed by the real `dbguard protect` as a superuser
//! owner, then driven by a NOSUPERUSER application role through psql and node `pg` on a
//! PostgreSQL cluster of the test's own. Every destructive statement of the list
//! is refused with the guard's SQLSTATE and every row stays; bounded statements, temporary
//! tables and tables created and dropped in one transaction go through; the guard's own
//! triggers cannot be switched off by the application; made-up approval tokens pass
//! nothing; blocked attempts are recorded for `dbguard log --db`.

mod e2e_support;
mod protect_support;

use std::path::Path;

use e2e_support::{clean, describe, World};
use protect_support::{allowed, app_db, content, install, psql, refused, scalar, Db};

const SEED: &str = "
CREATE TABLE items (id int PRIMARY KEY, name text, price numeric);
INSERT INTO items SELECT g, 'item ' || g, g FROM generate_series(1, 5000) g;
CREATE TABLE big (id int PRIMARY KEY, v int);
INSERT INTO big SELECT g, g FROM generate_series(1, 30000) g;
CREATE TABLE small (id int PRIMARY KEY, note text);
INSERT INTO small SELECT g, 'n' || g FROM generate_series(1, 10) g;
CREATE TABLE events (id int, at date) PARTITION BY RANGE (id);
CREATE TABLE events_a PARTITION OF events FOR VALUES FROM (0) TO (2000);
CREATE TABLE events_b PARTITION OF events FOR VALUES FROM (2000) TO (4000);
INSERT INTO events SELECT g, date '2026-01-01' + (g % 300) FROM generate_series(0, 3999) g;
CREATE MATERIALIZED VIEW item_totals AS SELECT count(*) AS n, sum(price) AS total FROM items;
CREATE FUNCTION cleanup(t text) RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'DROP TABLE ' || t; END $$;
";

fn guarded(prefix: &str) -> Db {
    let db = app_db(prefix, SEED);
    let report = install(&db);
    assert_eq!(report["complete"], true, "{report}");
    db
}

#[test]
fn destructive_statements_are_refused_and_every_row_stays() {
    let db = guarded("guard_refuse");
    let before = content(&db);
    assert!(before.contains("public.items=5000"), "{before}");
    for (sql, code) in [
        ("DROP TABLE items CASCADE", "DG001"),
        ("DROP TABLE small", "DG001"),
        ("DROP SCHEMA public CASCADE", "DG001"),
        ("ALTER TABLE items DROP COLUMN name", "DG001"),
        ("DROP MATERIALIZED VIEW item_totals", "DG001"),
        ("DROP TABLE events", "DG001"),
        (
            "DO $$ BEGIN EXECUTE 'DROP ' || 'TABLE ' || 'items CASCADE'; END $$",
            "DG001",
        ),
        ("SELECT cleanup('big')", "DG001"),
        ("DROP OWNED BY CURRENT_USER", "DG001"),
        ("TRUNCATE items", "DG002"),
        ("TRUNCATE small", "DG002"),
        ("TRUNCATE events", "DG002"),
        ("TRUNCATE items, big RESTART IDENTITY", "DG002"),
        ("DELETE FROM items", "DG003"),
        ("DELETE FROM items WHERE 1 = 1", "DG003"),
        ("DELETE FROM big WHERE id > 14000", "DG003"),
        ("DELETE FROM events", "DG003"),
        (
            "WITH gone AS (DELETE FROM items RETURNING id) SELECT count(*) FROM gone",
            "DG003",
        ),
        ("UPDATE items SET price = 0", "DG004"),
        ("UPDATE big SET v = 0 WHERE id <= 20000", "DG004"),
        (
            "BEGIN; DELETE FROM items WHERE id <= 10; DELETE FROM items; COMMIT",
            "DG003",
        ),
    ] {
        refused(&db, sql, code);
        assert_eq!(content(&db), before, "rows changed after {sql}");
    }
    // With fresh statistics (the guard then trusts estimates far from a limit), the same.
    allowed(&db, "ANALYZE");
    for (sql, code) in [
        ("DELETE FROM items", "DG003"),
        ("DELETE FROM big WHERE id > 14000", "DG003"),
        ("UPDATE items SET price = 0", "DG004"),
        ("UPDATE big SET v = 0 WHERE id <= 20000", "DG004"),
    ] {
        refused(&db, sql, code);
    }
    allowed(&db, "UPDATE big SET v = v WHERE id <= 9000");
    assert_eq!(content(&db), before);
    // The message names what would have been destroyed and the way to approve it.
    let out = psql(&db.app_url, "DROP TABLE items CASCADE", &[]);
    assert!(out.stderr.contains("table public.items (about"), "{}", out.stderr);
    assert!(
        out.stderr.contains("materialized view public.item_totals"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("dbguard approve"), "{}", out.stderr);
    let out = psql(&db.app_url, "DELETE FROM big WHERE id > 14000", &[]);
    assert!(out.stderr.contains("16,000 of its 30,000 rows (53%)"), "{}", out.stderr);
}

#[test]
fn bounded_statements_temporary_tables_and_own_work_go_through() {
    let db = guarded("guard_allow");
    // Bounded statements, under every threshold.
    allowed(&db, "DELETE FROM items WHERE id <= 900");
    allowed(&db, "UPDATE items SET price = price + 1 WHERE id <= 4000");
    allowed(&db, "DELETE FROM big WHERE id <= 14000");
    allowed(&db, "UPDATE big SET v = 0 WHERE id <= 21000");
    allowed(&db, "DELETE FROM small");
    allowed(&db, "TRUNCATE small");
    allowed(&db, "DELETE FROM events WHERE id < 500");
    allowed(&db, "REFRESH MATERIALIZED VIEW item_totals");
    // Temporary tables: anything.
    allowed(
        &db,
        "CREATE TEMP TABLE scratch AS SELECT g FROM generate_series(1, 5000) g; DELETE FROM scratch; \
         INSERT INTO scratch SELECT generate_series(1, 3000); TRUNCATE scratch; DROP TABLE scratch",
    );
    // Created in this transaction: work tables, schemas and columns come and go.
    allowed(
        &db,
        "BEGIN; CREATE TABLE work AS SELECT g AS id FROM generate_series(1, 5000) g; \
         DELETE FROM work WHERE id > 10; UPDATE work SET id = id + 1; TRUNCATE work; \
         ALTER TABLE work ADD COLUMN note text; ALTER TABLE work DROP COLUMN note; DROP TABLE work; \
         CREATE SCHEMA staging; CREATE TABLE staging.t (x int); DROP SCHEMA staging CASCADE; COMMIT",
    );
    // A table created earlier (another transaction) is guarded from then on.
    allowed(
        &db,
        "CREATE TABLE later (id int); INSERT INTO later SELECT generate_series(1, 2000)",
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'later'::regclass AND tgname LIKE 'dbguard\\_%'"
        ),
        "3"
    );
    refused(&db, "DELETE FROM later", "DG003");
    refused(&db, "DROP TABLE later", "DG001");
    // Partitions added later get the triggers too.
    allowed(
        &db,
        "CREATE TABLE events_c PARTITION OF events FOR VALUES FROM (4000) TO (6000)",
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'events_c'::regclass AND tgname LIKE 'dbguard\\_%'"
        ),
        "3"
    );
    // Per-table thresholds, by the guard's owner: 13,000 of big's 16,000 rows (81%) is
    // refused by default and allowed once big's share is 90%.
    refused(&db, "DELETE FROM big WHERE id <= 27000", "DG003");
    let out = psql(
        &db.owner_url,
        "SELECT dbguard.configure('big', share => 0.9, share_rows_over => 1000)",
        &[],
    );
    assert!(out.ok(), "{}", out.stderr);
    allowed(&db, "DELETE FROM big WHERE id <= 27000");
    refused(&db, "DELETE FROM big", "DG003");
    // ...which the application cannot call.
    let out = psql(&db.app_url, "SELECT dbguard.configure('items', guarded => false)", &[]);
    assert!(out.failed_with("42501"), "{}", out.stderr);
}

#[test]
fn the_guard_cannot_be_switched_off_by_the_application() {
    let db = guarded("guard_self");
    for (sql, code) in [
        ("ALTER TABLE items DISABLE TRIGGER dbguard_delete", "DG005"),
        ("ALTER TABLE items DISABLE TRIGGER USER", "DG005"),
        ("ALTER TABLE items ENABLE REPLICA TRIGGER dbguard_truncate", "DG005"),
        ("DROP TRIGGER dbguard_truncate ON items", "DG005"),
        ("ALTER TRIGGER dbguard_update ON items RENAME TO harmless", "DG005"),
        (
            "CREATE OR REPLACE TRIGGER dbguard_delete AFTER DELETE ON items FOR EACH STATEMENT EXECUTE FUNCTION suppress_redundant_updates_trigger()",
            "DG005",
        ),
        ("ALTER EVENT TRIGGER dbguard_sql_drop DISABLE", "42501"),
        ("DROP EVENT TRIGGER dbguard_ddl_end", "42501"),
        ("SET session_replication_role = replica", "42501"),
        ("DROP SCHEMA dbguard CASCADE", "42501"),
        ("DROP FUNCTION dbguard.on_sql_drop()", "42501"),
        ("UPDATE dbguard.installation SET all_rows_over = 1000000000", "42501"),
        ("INSERT INTO dbguard.table_rules (relid, guarded) VALUES ('items'::regclass, false)", "42501"),
        ("DELETE FROM dbguard.attempts", "42501"),
    ] {
        refused(&db, sql, code);
    }
    assert_eq!(
        scalar(&db, "SELECT string_agg(tgname || ':' || tgenabled::text, ',' ORDER BY tgname) FROM pg_trigger WHERE tgrelid = 'items'::regclass"),
        "dbguard_delete:O,dbguard_truncate:O,dbguard_update:O"
    );
    refused(&db, "TRUNCATE items", "DG002");
}

#[test]
fn approval_tokens_nobody_granted_pass_nothing() {
    let db = guarded("guard_token");
    let before = content(&db);
    // Made up, through PGOPTIONS or SET.
    let out = psql(
        &db.app_url,
        "DROP TABLE small",
        &[("PGOPTIONS", "-c dbguard.approval=0123456789abcdef")],
    );
    assert!(out.failed_with("DG001"), "{}", out.stderr);
    refused(&db, "SET dbguard.approval = 'anything'; TRUNCATE items", "DG002");
    // The approvals table is out of the application's reach (reading, even through
    // pg_read_all_data's dbguard_reader, shows nothing; writing is refused).
    assert_eq!(
        psql(&db.app_url, "SELECT count(*) FROM dbguard.approvals", &[]).stdout,
        "0"
    );
    refused(
        &db,
        "INSERT INTO dbguard.approvals (token_sha256, role, database, expires_at) VALUES (encode(sha256('x'), 'hex'), current_user, current_database(), now() + interval '1 hour')",
        "42501",
    );
    // A real approval (written by the owner) binds one session of that role and database.
    let token = "4f1e0d2c3b4a59687766554433221100ffeeddccbbaa99887766554433221100";
    let grant = |role: &str, database: &str, minutes: i32| {
        let out = psql(
            &db.owner_url,
            &format!(
                "INSERT INTO dbguard.approvals (token_sha256, role, database, expires_at) \
                 VALUES (encode(sha256(convert_to('{token}{role}{database}{minutes}', 'UTF8')), 'hex'), '{role}', '{database}', now() + interval '{minutes} minutes')"
            ),
            &[],
        );
        assert!(out.ok(), "{}", out.stderr);
        format!("{token}{role}{database}{minutes}")
    };
    let opts = |t: &str| format!("-c dbguard.approval={t}");
    // For another role, another database, or expired: nothing.
    let other_role = grant("postgres", &db.name, 10);
    let out = psql(&db.app_url, "TRUNCATE items", &[("PGOPTIONS", &opts(&other_role))]);
    assert!(out.failed_with("DG002"), "{}", out.stderr);
    let other_db = grant(protect_support::APP, "postgres", 10);
    let out = psql(&db.app_url, "TRUNCATE items", &[("PGOPTIONS", &opts(&other_db))]);
    assert!(out.failed_with("DG002"), "{}", out.stderr);
    let expired = grant(protect_support::APP, &db.name, -1);
    let out = psql(&db.app_url, "TRUNCATE items", &[("PGOPTIONS", &opts(&expired))]);
    assert!(out.failed_with("DG002"), "{}", out.stderr);
    assert_eq!(content(&db), before);
    // The right one: this session's statements pass (a rolled back one does not use it up).
    let good = grant(protect_support::APP, &db.name, 10);
    let out = psql(
        &db.app_url,
        "BEGIN; DELETE FROM small; DELETE FROM big; ROLLBACK; DELETE FROM big; TRUNCATE items; SELECT count(*) FROM big",
        &[("PGOPTIONS", &opts(&good))],
    );
    assert!(out.ok(), "{}", out.stderr);
    assert_eq!(out.stdout, "0");
    // ...once: another session with the same token is refused.
    let out = psql(&db.app_url, "DROP TABLE small", &[("PGOPTIONS", &opts(&good))]);
    assert!(out.failed_with("DG001"), "{}", out.stderr);
    assert_eq!(
        scalar(&db, "SELECT count(*) FROM dbguard.attempts WHERE outcome = 'approved'"),
        "2"
    );
}

#[test]
fn node_pg_clients_are_refused_too() {
    let db = guarded("guard_node");
    let before = content(&db);
    let e2e = e2e_support::e2e_dir();
    let script = "const { Client } = require('pg');
(async () => {
  const c = new Client({ connectionString: process.env.URL });
  await c.connect();
  for (const sql of ['DROP TABLE items CASCADE', 'DELETE FROM items', 'TRUNCATE big', 'UPDATE big SET v = 0']) {
    try { await c.query(sql); console.log('ran ' + sql); } catch (e) { console.log(e.code + ' ' + sql); }
  }
  await c.end();
})();";
    let out = clean("node")
        .arg("-e")
        .arg(script)
        .current_dir(&e2e)
        .env("URL", &db.app_url)
        .output()
        .expect("run node");
    assert!(out.status.success(), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        [
            "DG001 DROP TABLE items CASCADE",
            "DG003 DELETE FROM items",
            "DG002 TRUNCATE big",
            "DG004 UPDATE big SET v = 0"
        ],
        "{text}"
    );
    assert_eq!(content(&db), before);
}

#[test]
fn blocked_attempts_are_recorded_for_log_db() {
    let db = guarded("guard_log");
    refused(
        &db,
        "DELETE FROM items WHERE price > -1 AND name <> 'secret literal'",
        "DG003",
    );
    refused(&db, "DROP TABLE small", "DG001");
    let world = World::new();
    let out = world.dbguard(Path::new("/"), &["log", "--db", "--json", "--url", &db.app_url]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let rows = rows.as_array().expect("array");
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0]["outcome"], "blocked");
    assert_eq!(rows[0]["kind"], "mass_delete");
    assert_eq!(rows[0]["role"], protect_support::APP);
    assert_eq!(rows[0]["application_name"], "psql");
    assert_eq!(rows[0]["client_addr"], "127.0.0.1");
    assert_eq!(rows[0]["objects"][0], "public.items");
    assert_eq!(rows[0]["rows_affected"], 5000);
    assert!(rows[0]["statement"].as_str().unwrap().contains("'secret literal'"));
    assert_eq!(rows[1]["kind"], "drop");
    assert!(rows[1]["objects"][0]
        .as_str()
        .unwrap()
        .starts_with("table public.small"));
    let out = world.dbguard(Path::new("/"), &["log", "--db", "--url", &db.app_url]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("blocked") && text.contains("mass_delete") && text.contains(protect_support::APP),
        "{text}"
    );
    // A database without the guard: a clear error.
    let plain = app_db("guard_log_plain", "");
    let out = world.dbguard(Path::new("/"), &["log", "--db", "--url", &plain.app_url]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no dbguard guard is installed"));
}
