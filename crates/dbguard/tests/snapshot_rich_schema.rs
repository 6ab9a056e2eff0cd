//! A whole-database copy snapshot of an application schema with most of what PostgreSQL
//! offers (enums, domains, composites, citext, partitions, identity and generated columns,
//! a partial unique index, an expression index, a trigger, a view, row-level security,
//! comments, and materialized views, one built on another) restores identical: the same
//! schema as pg_dump sees it, the same rows in every table and materialized view (these
//! refreshed, in dependency order, as pg_restore does), the same sequence positions.

mod snapshot_support;

use snapshot_support::ok_json;
use testpg::Cluster;

const SCHEMA: &str = "
CREATE EXTENSION citext;
CREATE SCHEMA app;
CREATE TYPE app.status AS ENUM ('new', 'paid', 'shipped');
CREATE DOMAIN app.money_amount AS numeric(12,2) CHECK (VALUE >= 0);
CREATE TYPE app.address AS (street text, city text, zip text);
CREATE TABLE app.customers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email citext NOT NULL,
    name text NOT NULL,
    address app.address,
    deleted_at timestamptz,
    name_upper text GENERATED ALWAYS AS (upper(name)) STORED
);
CREATE UNIQUE INDEX customers_email_live ON app.customers (email) WHERE deleted_at IS NULL;
CREATE INDEX customers_lower_name ON app.customers (lower(name));
COMMENT ON TABLE app.customers IS 'people who buy';
COMMENT ON COLUMN app.customers.email IS 'case-insensitive';
CREATE TABLE app.orders (
    id serial,
    customer_id bigint NOT NULL REFERENCES app.customers (id),
    status app.status NOT NULL DEFAULT 'new',
    total app.money_amount NOT NULL,
    placed_on date NOT NULL,
    updated_at timestamptz,
    PRIMARY KEY (id, placed_on)
) PARTITION BY RANGE (placed_on);
CREATE TABLE app.orders_2025 PARTITION OF app.orders FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE app.orders_2026 PARTITION OF app.orders FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.updated_at := '2026-01-01 00:00:00+00'; RETURN NEW; END $$;
CREATE TRIGGER orders_touch BEFORE UPDATE ON app.orders FOR EACH ROW EXECUTE FUNCTION app.touch();
CREATE VIEW app.open_orders AS SELECT * FROM app.orders WHERE status <> 'shipped';
ALTER TABLE app.orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY orders_paid ON app.orders FOR SELECT USING (status <> 'new');
CREATE MATERIALIZED VIEW app.revenue AS
    SELECT customer_id, sum(total) AS total, count(*) AS n FROM app.orders GROUP BY customer_id;
CREATE MATERIALIZED VIEW app.top_customers AS
    SELECT c.email, r.total FROM app.revenue r JOIN app.customers c ON c.id = r.customer_id WHERE r.n >= 2;
CREATE MATERIALIZED VIEW app.never_filled AS SELECT 1 AS one WITH NO DATA;
INSERT INTO app.customers (email, name, address, deleted_at)
    SELECT 'User' || g || '@Example.com', 'name ' || g, ROW(g || ' Main St', 'Town', lpad(g::text, 5, '0'))::app.address,
           CASE WHEN g % 10 = 0 THEN '2026-01-01'::timestamptz END
    FROM generate_series(1, 200) g;
INSERT INTO app.orders (customer_id, status, total, placed_on)
    SELECT 1 + g % 200, (ARRAY['new','paid','shipped']::app.status[])[1 + g % 3], g * 1.25,
           '2025-06-01'::date + (g % 400)
    FROM generate_series(1, 1000) g;
UPDATE app.orders SET status = 'paid' WHERE id % 7 = 0;
REFRESH MATERIALIZED VIEW app.revenue;
REFRESH MATERIALIZED VIEW app.top_customers;
";

/// Every relation's row count and an order-independent digest of its rows, the
/// materialized views' state, and the sequences' positions.
fn contents(c: &Cluster, db: &str) -> String {
    let relations = c.psql(
        db,
        "SELECT string_agg(format('%I.%I', n.nspname, r.relname), ' ' ORDER BY r.relname)
         FROM pg_class r JOIN pg_namespace n ON n.oid = r.relnamespace
         WHERE n.nspname = 'app' AND r.relkind IN ('r', 'v') OR (n.nspname = 'app' AND r.relkind = 'm' AND r.relispopulated)",
    );
    let mut out = String::new();
    for rel in relations.split_whitespace() {
        out += &c.psql(
            db,
            &format!(
                "SELECT '{rel} ' || count(*) || ' ' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') FROM {rel} x"
            ),
        );
        out.push('\n');
    }
    out += &c.psql(
        db,
        "SELECT string_agg(relname || ':' || relispopulated, ' ' ORDER BY relname) FROM pg_class WHERE relkind = 'm'",
    );
    out.push('\n');
    out += &c.psql(
        db,
        "SELECT string_agg(format('%s.%s %s', schemaname, sequencename, coalesce(last_value::text, 'unused')), ' ' ORDER BY sequencename)
         FROM pg_sequences WHERE schemaname = 'app'",
    );
    out
}

fn schema(c: &Cluster, db: &str) -> String {
    let out = c
        .pg_cmd("pg_dump")
        .args(["--schema-only", "--no-owner", "-d", &c.url(db)])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Without the \restrict lines: their key is random in every dump.
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with("\\restrict") && !l.starts_with("\\unrestrict"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn copy_snapshot_restores_a_rich_schema_identical_with_its_materialized_views_populated() {
    let c = Cluster::shared();
    let home = tempfile::tempdir().unwrap();
    let db = c.create_db("rich");
    c.psql(&db, SCHEMA);
    let (schema_before, contents_before) = (schema(c, &db), contents(c, &db));
    assert!(contents_before.contains("app.top_customers "), "{contents_before}");

    let url = c.url(&db);
    let snap = ok_json(
        home.path(),
        &["snapshot", "--url", &url, "--strategy", "copy", "--json"],
    );
    let id = snap["id"].as_str().unwrap();
    let out = ok_json(home.path(), &["restore", id, "--url", &url, "--json"]);
    let restored = out["database"].as_str().unwrap();

    assert_eq!(schema(c, restored), schema_before, "the schema differs after restore");
    assert_eq!(
        contents(c, restored),
        contents_before,
        "rows or sequences differ after restore"
    );
    // What the application sees works: the views answer, the partial unique index and the
    // trigger act.
    assert_eq!(c.psql(restored, "SELECT count(*) > 0 FROM app.top_customers"), "t");
    assert_eq!(
        c.psql(
            restored,
            "SELECT relispopulated FROM pg_class WHERE relname = 'never_filled'"
        ),
        "f",
        "a materialized view that was empty stays unpopulated"
    );
    let dup = c.psql(
        restored,
        "DO $$ BEGIN INSERT INTO app.customers (email, name) VALUES ('user1@example.COM', 'x'); RAISE EXCEPTION 'no unique index';
         EXCEPTION WHEN unique_violation THEN NULL; END $$; SELECT 'unique'",
    );
    assert_eq!(dup, "unique");
    assert_eq!(
        c.psql(
            restored,
            "UPDATE app.orders SET status = 'shipped' WHERE id = 1 RETURNING updated_at = '2026-01-01 00:00:00+00'"
        ),
        "t",
        "the trigger fires"
    );
}
