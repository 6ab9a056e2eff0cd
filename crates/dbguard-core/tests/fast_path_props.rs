//! The PostgreSQL fast path (statements proven harmless from their tokens skip the full parse)
//! never hides a finding: for generated texts built from the shapes it skips and from their
//! destructive look-alikes, the analysis gives the same findings with the fast path as with
//! every statement fully parsed. A statement that the server would reject may be skipped (it
//! destroys nothing), so `unparseable` findings are left out of the comparison.

use dbguard_core::sql::fast_path_disagreement;
use proptest::prelude::*;

fn same_with_and_without_fast_path(sql: &str) -> Result<(), TestCaseError> {
    if let Some((fast, full)) = fast_path_disagreement(sql) {
        return Err(TestCaseError::fail(format!(
            "fast path {fast:?} and full parse {full:?} differ on {sql:?}"
        )));
    }
    Ok(())
}

fn set_item() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("a = 1"),
        Just("a = 'x', b = true"),
        Just("a = (SELECT b FROM u WHERE c = 1)"),
        Just("a = dblink_exec('dbname=x', 'DROP TABLE t')"),
        Just("a = U&\"d\\0062link_exec\"('dbname=x', 'TRUNCATE t')"),
        Just("a = CASE WHEN b THEN 1 ELSE 2 END"),
        Just("a = 1 FROM u"),
    ]
}

fn where_clause() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just(""),
        Just(" WHERE id = 5"),
        Just(" WHERE t.id = 'x'"),
        Just(" WHERE public.t.id = $1"),
        Just(" WHERE name = 1.5"),
        Just(" WHERE id = id"),
        Just(" WHERE 1 = 1"),
        Just(" WHERE id = 5 OR true"),
        Just(" WHERE true"),
        Just(" WHERE id = -1"),
        Just(" WHERE id = 5::int"),
        Just(" WHERE id = 5 RETURNING *"),
        Just(" WHERE CURRENT OF c"),
        Just(" WHERE between = 1"),
        Just(" WHERE id = (SELECT 1 WHERE true)"),
        Just(" WHERE id IN (SELECT id FROM t FOR UPDATE) AND x = 1"),
        Just(" WHERE id = 5 AND id = 6"),
        Just(" WHERE \"id\" = E'\\x41'"),
    ]
}

fn dml() -> impl Strategy<Value = String> {
    prop_oneof![
        (set_item(), where_clause()).prop_map(|(s, w)| format!("UPDATE t SET {s}{w}")),
        (set_item(), where_clause()).prop_map(|(s, w)| format!("UPDATE ONLY public.t AS x SET {s}{w}")),
        where_clause().prop_map(|w| format!("DELETE FROM t{w}")),
        where_clause().prop_map(|w| format!("DELETE FROM t USING u{w}")),
        where_clause().prop_map(|w| format!("WITH d AS (DELETE FROM t{w} RETURNING id) SELECT 1")),
    ]
}

/// Statements of a PL/pgSQL body, harmless and destructive.
fn body_statement() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("CREATE TYPE s AS ENUM ('a', 'b')"),
        Just("ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES u(id) ON DELETE CASCADE ON UPDATE NO ACTION"),
        Just("ALTER TABLE t ALTER COLUMN c TYPE int"),
        Just("ALTER TABLE t ALTER c SET DEFAULT 1"),
        Just("ALTER TABLE t ADD COLUMN c int"),
        Just("ALTER TABLE t DROP COLUMN c"),
        Just("ALTER TABLE t RENAME COLUMN c TO d"),
        Just("ALTER TYPE s ADD VALUE 'c'"),
        Just("UPDATE t SET a = 1"),
        Just("UPDATE t SET a = 1 WHERE id = 1"),
        Just("DELETE FROM t"),
        Just("DELETE FROM t WHERE id = 1"),
        Just("PERFORM dblink_exec('dbname=x', 'DROP TABLE t')"),
        Just("EXECUTE 'DROP TABLE t'"),
        Just("TRUNCATE t"),
        Just("RAISE NOTICE 'DROP TABLE %', 1"),
        Just("SELECT count(*) INTO n FROM t"),
        Just("CREATE INDEX i ON t (a)"),
        Just("INSERT INTO t VALUES (1)"),
        Just("INSERT INTO t VALUES (1) ON CONFLICT (id) DO UPDATE SET a = 2"),
        Just("COPY t TO PROGRAM 'gzip > /tmp/x'"),
        Just("COPY t FROM '/tmp/x'"),
        Just("WITH d AS (DELETE FROM t RETURNING *) SELECT count(*) INTO n FROM d"),
        Just("CREATE TABLE w (id int)"),
        Just("DROP TABLE w"),
        Just("PERFORM 1 FROM t FOR UPDATE"),
        Just("PERFORM f()"),
        Just("CALL p()"),
        Just("CREATE FUNCTION f() RETURNS void LANGUAGE sql AS 'DELETE FROM t'"),
        Just("CREATE RULE r AS ON INSERT TO t DO DELETE FROM u"),
        Just("MERGE INTO t USING u ON true WHEN MATCHED THEN DELETE"),
        Just("IF NOT EXISTS (SELECT 1) THEN CREATE INDEX i ON t (a); END IF"),
        Just("FOR r IN SELECT id FROM t LOOP UPDATE t SET a = 1 WHERE id = r.id; END LOOP"),
        Just("FOR r IN DELETE FROM t RETURNING id LOOP NULL; END LOOP"),
        Just("DO $x$ BEGIN DELETE FROM t; END $x$"),
        Just("OPEN c FOR DELETE FROM t RETURNING id"),
        Just("n := 1"),
        Just("OPEN c FOR UPDATE t SET a = 1 RETURNING id"),
        Just("INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING"),
        Just("PERFORM 1 FROM t FOR DELETE"),
        Just("CREATE RULE r AS ON INSERT TO t DO UPDATE u SET a = 1"),
        Just("CREATE POLICY p ON t FOR DELETE USING (true)"),
        Just("-- DROP TABLE t\nNULL"),
        Just("/* TRUNCATE t; */ NULL"),
        Just("NULL"),
        Just("SELECT 1 INTO n; /* unterminated"),
    ]
}

fn do_block() -> impl Strategy<Value = String> {
    let wrapper = prop_oneof![
        Just(("DO $$ ", " $$")),
        Just(("DO $body$ ", " $body$ LANGUAGE plpgsql")),
        Just(("DO LANGUAGE plpgsql $$ ", " $$")),
        Just(("DO $$ ", " $$ LANGUAGE 'plpgsql'")),
        Just(("DO $$ ", " $$ LANGUAGE sql")),
        Just(("DO '", "'")),
    ];
    let handler = prop_oneof![Just(""), Just(" EXCEPTION WHEN duplicate_object THEN null;")];
    (wrapper, prop::collection::vec(body_statement(), 0..4), handler).prop_map(|((open, close), stmts, handler)| {
        let mut body = String::from("DECLARE n bigint; r record; c refcursor; BEGIN ");
        for s in stmts {
            body.push_str(s);
            body.push_str("; ");
        }
        body.push_str(handler);
        body.push_str(" END");
        if open == "DO '" {
            body = body.replace('\'', "''");
        }
        format!("{open}{body}{close}")
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn bounded_dml_fast_path_agrees_with_full_parse(stmts in prop::collection::vec(dml(), 1..4)) {
        same_with_and_without_fast_path(&stmts.join(";\n"))?;
    }

    #[test]
    fn do_block_fast_path_agrees_with_full_parse(blocks in prop::collection::vec(do_block(), 1..3)) {
        same_with_and_without_fast_path(&blocks.join(";\n"))?;
    }
}
