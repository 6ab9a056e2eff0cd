//! Soft-drop and undrop through the real `dbguard proxy`, with psql (simple protocol), on a
//! PostgreSQL 15 cluster with SCRAM logins and a NOSUPERUSER application role: DROP TABLE
//! moves the table to the trash in the client's own transaction; `dbguard undrop` puts back
//! every row, index, constraint, sequence, foreign key and view (the catalog and the rows are
//! compared before and after); the server's own errors for DROP TABLE are kept.

mod e2e_support;
mod proxy_support;

use std::sync::OnceLock;

use e2e_support::{describe, json, rows, World};
use proxy_support::*;

fn cluster() -> &'static testpg::Cluster {
    static C: OnceLock<testpg::Cluster> = OnceLock::new();
    C.get_or_init(scram_cluster)
}

/// SQL as the application role, directly (not through the proxy).
fn direct(db: &str, sql: &str) -> String {
    let out = psql(cluster().port, APP, APP_PW, db, &["-c", sql], None);
    assert!(out.status.success(), "direct SQL failed: {}\n{sql}", stderr(&out));
    stdout(&out)
}

fn direct_url(db: &str) -> String {
    format!("postgres://{APP}:{APP_PW}@127.0.0.1:{}/{db}", cluster().port)
}

fn trash(world: &World, db: &str) -> serde_json::Value {
    let out = world.dbguard(world.dir.path(), &["trash", "--json", "--url", &direct_url(db)]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    json(&out)
}

fn undrop(world: &World, db: &str, args: &[&str]) -> std::process::Output {
    let url = direct_url(db);
    let mut all = vec!["undrop"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--url", &url]);
    world.dbguard(world.dir.path(), &all)
}

/// Every table's rows and every view's rows.
fn contents(db: &str, relations: &[&str]) -> Vec<Vec<String>> {
    relations.iter().map(|r| rows(cluster(), db, r)).collect()
}

const SHOP: &str = r#"
CREATE TABLE customers (id serial PRIMARY KEY, email text NOT NULL UNIQUE, name text, CHECK (email LIKE '%@%'));
COMMENT ON TABLE customers IS 'people who buy';
CREATE TABLE orders (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  customer_id int NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  total numeric(10, 2) NOT NULL DEFAULT 0,
  status text NOT NULL DEFAULT 'new',
  placed_at timestamptz NOT NULL DEFAULT '2026-01-01 00:00:00+00'
);
COMMENT ON TABLE orders IS 'what they bought';
CREATE INDEX orders_customer ON orders (customer_id);
CREATE INDEX orders_open ON orders (placed_at) WHERE status <> 'done';
CREATE TABLE order_items (id serial PRIMARY KEY, order_id bigint NOT NULL REFERENCES orders (id), sku text NOT NULL, qty int NOT NULL);
CREATE FUNCTION orders_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.status := lower(NEW.status); RETURN NEW; END $$;
CREATE TRIGGER orders_touch BEFORE INSERT OR UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION orders_touch();
CREATE VIEW order_totals AS SELECT c.email, sum(o.total) AS spent, count(*) AS n FROM orders o JOIN customers c ON c.id = o.customer_id GROUP BY c.email;
CREATE VIEW big_spenders WITH (security_barrier = true) AS SELECT * FROM order_totals WHERE spent > 1000;
COMMENT ON VIEW big_spenders IS 'the ones to thank';
CREATE MATERIALIZED VIEW monthly AS SELECT date_trunc('month', placed_at) AS month, sum(total) AS total FROM orders GROUP BY 1;
CREATE UNIQUE INDEX monthly_month ON monthly (month);
GRANT SELECT ON orders, order_totals, big_spenders TO PUBLIC;
INSERT INTO customers (email, name) SELECT 'c' || g || '@example.com', 'Customer ' || g FROM generate_series(1, 200) g;
INSERT INTO orders (customer_id, total, status) SELECT 1 + g % 200, (g % 97) * 3.5, CASE WHEN g % 3 = 0 THEN 'DONE' ELSE 'New' END FROM generate_series(1, 2000) g;
INSERT INTO order_items (order_id, sku, qty) SELECT 1 + g % 2000, 'sku-' || (g % 50), 1 + g % 4 FROM generate_series(1, 5000) g;
REFRESH MATERIALIZED VIEW monthly;
ANALYZE;
"#;

const SHOP_RELATIONS: &[&str] = &[
    "customers",
    "orders",
    "order_items",
    "order_totals",
    "big_spenders",
    "monthly",
];

#[test]
fn psql_drop_cascade_then_undrop_brings_back_every_row_index_constraint_sequence_key_and_view() {
    let db = app_db(cluster(), "px_shop");
    direct(&db, SHOP);
    let catalog_before = catalog(cluster(), &db);
    let rows_before = contents(&db, SHOP_RELATIONS);
    assert!(catalog_before.iter().any(|l| l.starts_with("view big_spenders")));
    let world = World::new();
    let proxy = Proxy::start(&world, &format!("postgres://127.0.0.1:{}/{db}", cluster().port));

    // Without CASCADE: the server's own refusal, nothing moved.
    let out = proxy.psql_as(
        APP,
        APP_PW,
        &db,
        &["-v", "VERBOSITY=verbose", "-c", "DROP TABLE orders"],
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("2BP01") && err.contains("cannot drop table orders because other objects depend on it"),
        "{err}"
    );
    assert!(err.contains("Use DROP ... CASCADE"), "{err}");
    assert_same(&catalog(cluster(), &db), &catalog_before);

    // With CASCADE: the client sees DROP TABLE, the application sees no orders, no views
    // on them, no foreign key to them; its other tables work.
    let out = proxy.psql_as(APP, APP_PW, &db, &["-c", "DROP TABLE orders CASCADE"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        stderr(&out).contains("drop cascades to 4 other objects"),
        "{}",
        stderr(&out)
    );
    let out = proxy.psql_as(
        APP,
        APP_PW,
        &db,
        &["-v", "VERBOSITY=verbose", "-c", "SELECT count(*) FROM orders"],
    );
    assert!(stderr(&out).contains("42P01"), "{}", describe(&out));
    let out = proxy.psql(&db, "SELECT count(*) FROM order_totals");
    assert!(stderr(&out).contains("does not exist"), "{}", describe(&out));
    assert_eq!(stdout(&proxy.psql(&db, "SELECT count(*) FROM customers")), "200");
    let out = proxy.psql(
        &db,
        "INSERT INTO customers (id, email) VALUES (100000, 'new@example.com')",
    );
    assert!(out.status.success(), "{}", describe(&out));
    direct(&db, "DELETE FROM customers WHERE email = 'new@example.com'");
    let fks = direct(
        &db,
        "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND confrelid = 'customers'::regclass",
    );
    assert_eq!(fks, "0", "orders' own key to customers went with it");
    assert_eq!(
        direct(
            &db,
            "SELECT count(*) FROM pg_constraint WHERE conname = 'order_items_order_id_fkey'"
        ),
        "0",
        "the key of order_items to orders was detached"
    );

    // The trash lists it with what CASCADE removed.
    let t = trash(&world, &db);
    let entry = &t["tables"][0];
    assert_eq!(entry["schema"], "public", "{t}");
    assert_eq!(entry["table"], "orders", "{t}");
    assert_eq!(entry["role"], APP, "{t}");
    assert_eq!(entry["application_name"], "psql", "{t}");
    assert_eq!(entry["rows_estimate"], 2000, "{t}");
    assert!(entry["size_bytes"].as_i64().unwrap_or(0) > 0, "{t}");
    let keys: Vec<(&str, bool)> = entry["foreign_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["name"].as_str().unwrap_or(""), k["outgoing"] == true))
        .collect();
    assert_eq!(
        keys,
        [("orders_customer_id_fkey", true), ("order_items_order_id_fkey", false)],
        "{t}"
    );
    let mut views: Vec<&str> = entry["views"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v["name"].as_str())
        .collect();
    views.sort();
    assert_eq!(
        views,
        ["public.big_spenders", "public.monthly", "public.order_totals"],
        "{t}"
    );

    // Undrop: the same catalog and the same rows as before.
    let out = undrop(&world, &db, &["orders", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let report = json(&out);
    assert_eq!(report["restored_as"], "public.orders", "{report}");
    assert!(report["warnings"].as_array().unwrap().is_empty(), "{report}");
    assert_same(&catalog(cluster(), &db), &catalog_before);
    assert_rows_same(&contents(&db, SHOP_RELATIONS), &rows_before);
    assert_eq!(trash(&world, &db)["tables"], serde_json::json!([]));
    // The application uses it again, identity and trigger included.
    let out = proxy.psql(
        &db,
        "INSERT INTO orders (customer_id, status) VALUES (1, 'OPEN') RETURNING id, status",
    );
    assert_eq!(stdout(&out), "2001|open", "{}", describe(&out));

    // The audit log has the soft-drop.
    let out = world.dbguard(world.dir.path(), &["log", "--json"]);
    let log: serde_json::Value = serde_json::from_slice(&out.stdout).expect("log json");
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .any(|e| e["door"] == "proxy" && e["outcome"] == "soft_dropped"),
        "{log}"
    );
    let d = proxy.decisions();
    assert!(
        d.iter()
            .any(|e| e["action"] == "soft_drop" && e["objects"][0] == "orders"),
        "{d:?}"
    );
}

#[test]
fn a_rollback_after_a_soft_drop_leaves_the_table_where_it_was() {
    let db = app_db(cluster(), "px_rollback");
    direct(&db, SHOP);
    let catalog_before = catalog(cluster(), &db);
    let world = World::new();
    let proxy = Proxy::start(&world, &format!("postgres://127.0.0.1:{}/{db}", cluster().port));
    let script = b"BEGIN;\nDROP TABLE orders CASCADE;\nSELECT to_regclass('orders') IS NULL;\nROLLBACK;\nSELECT count(*) FROM orders;\n";
    let out = psql(proxy.port, APP, APP_PW, &db, &[], Some(script));
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(stdout(&out), "t\n2000");
    assert_same(&catalog(cluster(), &db), &catalog_before);
    assert_eq!(
        direct(
            &db,
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'dbguard_trash' AND tablename <> 'dropped'"
        ),
        "0"
    );
    // In one simple-protocol Query (an implicit transaction): a later error undoes the move.
    let out = proxy.psql(&db, "DROP TABLE order_items; SELECT 1/0");
    assert!(!out.status.success());
    assert_eq!(direct(&db, "SELECT count(*) FROM order_items"), "5000");
    // Autocommit: each statement on its own.
    let out = proxy.psql(&db, "DROP TABLE order_items");
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(direct(&db, "SELECT to_regclass('order_items') IS NULL"), "t");
}

#[test]
fn temporary_and_session_created_tables_are_really_dropped() {
    let db = app_db(cluster(), "px_session");
    direct(
        &db,
        "CREATE TABLE kept (a int); INSERT INTO kept VALUES (1); CREATE TABLE kept2 (a int)",
    );
    let world = World::new();
    let proxy = Proxy::start(&world, &format!("postgres://127.0.0.1:{}/{db}", cluster().port));
    // One session: each line is its own Query message.
    let script = b"CREATE TEMP TABLE scratch (a int);\nDROP TABLE scratch;\n\
CREATE TABLE mine (a int);\nINSERT INTO mine VALUES (1);\nDROP TABLE mine;\n\
CREATE TABLE both_here (a int); DROP TABLE both_here;\n\
BEGIN;\nCREATE TABLE undone (a int);\nROLLBACK;\n\
CREATE TABLE IF NOT EXISTS kept (a int);\nDROP TABLE kept;\n\
\\set ON_ERROR_STOP 0\nCREATE TABLE kept2 (a int);\n\\set ON_ERROR_STOP 1\nDROP TABLE kept2;\n";
    let out = psql(proxy.port, APP, APP_PW, &db, &[], Some(script));
    assert!(out.status.success(), "{}", describe(&out));
    let t = trash(&world, &db);
    let names: Vec<&str> = t["tables"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["table"].as_str())
        .collect();
    // Only the tables that existed before the session are in the trash.
    assert_eq!(names, ["kept2", "kept"], "{t}");
    assert_eq!(
        direct(
            &db,
            "SELECT count(*) FROM pg_class WHERE relname IN ('mine', 'scratch', 'both_here')"
        ),
        "0"
    );
}

#[test]
fn drop_table_keeps_the_servers_answers_for_missing_names_views_and_several_tables() {
    let db = app_db(cluster(), "px_errors");
    direct(
        &db,
        "CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a (id)); \
         INSERT INTO a VALUES (1), (2); INSERT INTO b VALUES (10, 1); CREATE VIEW v AS SELECT 1 AS one",
    );
    let world = World::new();
    let proxy = Proxy::start(&world, &format!("postgres://127.0.0.1:{}/{db}", cluster().port));
    let verbose = |sql: &str| proxy.psql_as(APP, APP_PW, &db, &["-v", "VERBOSITY=verbose", "-c", sql]);
    let out = verbose("DROP TABLE missing");
    assert!(
        stderr(&out).contains("42P01") && stderr(&out).contains("table \"missing\" does not exist"),
        "{}",
        describe(&out)
    );
    let out = verbose("DROP TABLE IF EXISTS missing");
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        stderr(&out).contains("table \"missing\" does not exist, skipping"),
        "{}",
        describe(&out)
    );
    let out = verbose("DROP TABLE v");
    assert!(
        stderr(&out).contains("42809") && stderr(&out).contains("Use DROP VIEW"),
        "{}",
        describe(&out)
    );
    // Several tables, one referencing the other: both move, the key between them intact.
    let out = proxy.psql(&db, "DROP TABLE a, b");
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(trash(&world, &db)["tables"].as_array().unwrap().len(), 2);
    for t in ["a", "b"] {
        let out = undrop(&world, &db, &[t]);
        assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    }
    assert_eq!(
        direct(
            &db,
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'b_a_id_fkey'"
        ),
        "FOREIGN KEY (a_id) REFERENCES a(id)"
    );
    assert_eq!(rows(cluster(), &db, "b"), ["{\"id\":10,\"a_id\":1}"]);
    // The trash itself is not the application's to drop.
    let out = proxy.psql(&db, "DROP TABLE dbguard_trash.dropped");
    assert!(!out.status.success(), "{}", describe(&out));
}

#[test]
fn undrop_refuses_a_taken_name_with_the_next_step_and_puts_it_back_under_another() {
    let db = app_db(cluster(), "px_taken");
    direct(
        &db,
        "CREATE TABLE t (id serial PRIMARY KEY, v text); INSERT INTO t (v) VALUES ('old1'), ('old2')",
    );
    let world = World::new();
    let proxy = Proxy::start(&world, &format!("postgres://127.0.0.1:{}/{db}", cluster().port));
    assert!(proxy.psql(&db, "DROP TABLE t").status.success());
    assert!(proxy
        .psql(
            &db,
            "CREATE TABLE t (id serial PRIMARY KEY, v text); INSERT INTO t (v) VALUES ('new')"
        )
        .status
        .success());
    let out = undrop(&world, &db, &["t"]);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    let err = stderr(&out);
    assert!(
        err.contains("exists already") && err.contains("--as t_restored"),
        "{err}"
    );
    let id = trash(&world, &db)["tables"][0]["id"].as_i64().expect("id").to_string();
    let out = undrop(&world, &db, &[&id, "--as", "t_restored"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(
        stdout(&out).contains("is taken"),
        "the taken index and sequence names are reported: {}",
        describe(&out)
    );
    assert_eq!(rows(cluster(), &db, "t_restored").len(), 2);
    assert_eq!(rows(cluster(), &db, "t"), ["{\"id\":1,\"v\":\"new\"}"]);
    // Unknown names are an error, not a refusal.
    assert_eq!(undrop(&world, &db, &["nothing_like_it"]).status.code(), Some(1));
}

#[test]
fn a_foreign_key_broken_since_the_drop_comes_back_not_valid_with_a_note() {
    let db = app_db(cluster(), "px_notvalid");
    direct(
        &db,
        "CREATE TABLE parent (id int PRIMARY KEY); CREATE TABLE child (id int, parent_id int REFERENCES parent (id)); \
         INSERT INTO parent VALUES (1); INSERT INTO child VALUES (1, 1)",
    );
    let world = World::new();
    let proxy = Proxy::start(&world, &format!("postgres://127.0.0.1:{}/{db}", cluster().port));
    assert!(proxy.psql(&db, "DROP TABLE parent CASCADE").status.success());
    // The application, which sees no parent any more, writes a child of a parent that never was.
    assert!(proxy.psql(&db, "INSERT INTO child VALUES (2, 99)").status.success());
    let out = undrop(&world, &db, &["parent"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(
        stdout(&out).contains("NOT VALID") && stdout(&out).contains("VALIDATE CONSTRAINT"),
        "{}",
        describe(&out)
    );
    assert_eq!(
        direct(
            &db,
            "SELECT convalidated FROM pg_constraint WHERE conname = 'child_parent_id_fkey'"
        ),
        "f"
    );
}

#[test]
fn partitioned_tables_and_single_partitions() {
    let db = app_db(cluster(), "px_parts");
    direct(
        &db,
        "CREATE TABLE events (id bigserial, at date NOT NULL, what text, PRIMARY KEY (id, at)) PARTITION BY RANGE (at); \
         CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01'); \
         CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01'); \
         INSERT INTO events (at, what) SELECT '2025-06-01'::date + g, 'e' || g FROM generate_series(1, 400) g",
    );
    let catalog_before = catalog(cluster(), &db);
    let rows_before = rows(cluster(), &db, "events");
    let world = World::new();
    let proxy = Proxy::start(&world, &format!("postgres://127.0.0.1:{}/{db}", cluster().port));
    // One partition: detached and moved; the rest of the table works.
    assert!(proxy.psql(&db, "DROP TABLE events_2025").status.success());
    assert!(
        stdout(&proxy.psql(&db, "SELECT count(*) FROM events"))
            .parse::<i64>()
            .unwrap()
            < 400
    );
    let out = undrop(&world, &db, &["events_2025"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_rows_same(&[rows(cluster(), &db, "events")], std::slice::from_ref(&rows_before));
    // The whole partitioned table: its partitions go and come back with it.
    assert!(proxy.psql(&db, "DROP TABLE events").status.success());
    assert_eq!(
        direct(&db, "SELECT count(*) FROM pg_class WHERE relname LIKE 'events%'"),
        "0"
    );
    let out = undrop(&world, &db, &["events"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_same(&catalog(cluster(), &db), &catalog_before);
    assert_rows_same(&[rows(cluster(), &db, "events")], std::slice::from_ref(&rows_before));
}

#[test]
fn purge_respects_the_retention_and_asks_a_person_for_younger_tables() {
    let db = app_db(cluster(), "px_purge");
    direct(
        &db,
        "CREATE TABLE p1 (a int); CREATE TABLE p2 (a int); CREATE TABLE p3 (a int)",
    );
    let world = World::new();
    let proxy = Proxy::start(&world, &format!("postgres://127.0.0.1:{}/{db}", cluster().port));
    assert!(proxy.psql(&db, "DROP TABLE p1, p2").status.success());
    assert!(proxy.psql(&db, "DROP TABLE p3").status.success());
    let url = direct_url(&db);
    let dir = world.dir.path();
    // Dry run: named, nothing removed.
    let out = world.dbguard(
        dir,
        &[
            "trash",
            "purge",
            "--older-than",
            "0s",
            "--dry-run",
            "--json",
            "--url",
            &url,
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(json(&out)["purged"].as_array().unwrap().len(), 3);
    assert_eq!(trash(&world, &db)["tables"].as_array().unwrap().len(), 3);
    // Younger than the retention (7 days by default), without a person: refused.
    let out = world.dbguard(dir, &["trash", "purge", "--older-than", "0s", "--url", &url]);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    assert_eq!(trash(&world, &db)["tables"].as_array().unwrap().len(), 3);
    // Nothing is old enough for the default retention: nothing purged, no question.
    let out = world.dbguard(dir, &["trash", "purge", "--url", &url]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    // A person at a terminal purges one by name, typing the database name.
    let (code, screen) = world.dbguard_pty(dir, &["trash", "purge", "p3", "--url", &url], &[&db], &[]);
    assert_eq!(code, 0, "{screen}");
    assert_eq!(trash(&world, &db)["tables"].as_array().unwrap().len(), 2);
    // A retention of zero in dbguard.toml: routine purging, no question.
    world.set_config("[trash]\nretention = \"0s\"\n");
    let out = world.dbguard(dir, &["trash", "purge", "--url", &url]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(trash(&world, &db)["tables"], serde_json::json!([]));
    assert_eq!(
        direct(
            &db,
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'dbguard_trash' AND tablename <> 'dropped'"
        ),
        "0"
    );
}
