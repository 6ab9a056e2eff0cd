//! The per-statement analysis (`pg_statements`) and the proxy's prefilter: spans and DROP TABLE
//! details; the same findings as `analyze_sql`; and the prefilter's promise, checked on the
//! whole SQL corpus and on random text: text it lets through without a parse has no finding
//! that could destroy data (only `unparseable`, which the server rejects as well).

use std::path::Path;

use dbguard_core::sql::{analyze_sql, pg_statements, prefilter, Dialect};
use dbguard_core::FindingKind;
use proptest::prelude::*;
use serde::Deserialize;

#[test]
fn spans_and_drop_details() {
    let text = "CREATE TABLE tmp (a int); DROP TABLE IF EXISTS tmp, public.\"Product\" CASCADE;\nSELECT 1";
    let st = pg_statements(text);
    assert_eq!(st.len(), 3);
    assert_eq!(&text[st[0].span.clone()], "CREATE TABLE tmp (a int)");
    assert_eq!(st[0].creates.len(), 1);
    assert_eq!(st[0].creates[0].name, "tmp");
    assert_eq!(
        &text[st[1].span.clone()],
        "DROP TABLE IF EXISTS tmp, public.\"Product\" CASCADE"
    );
    let d = st[1].drop_table.as_ref().expect("drop details");
    assert!(d.if_exists && d.cascade);
    assert_eq!(d.tables.len(), 2);
    assert_eq!(d.tables[1].schema, "public");
    assert_eq!(d.tables[1].name, "Product");
    assert_eq!(d.created_here, vec![true, false]);
    assert_eq!(st[1].findings.len(), 1, "only the table not created here is a loss");
    assert_eq!(st[1].findings[0].kind, FindingKind::DropTable);
    assert!(st[2].findings.is_empty() && st[2].drop_table.is_none());
}

#[test]
fn unreadable_rest_is_one_statement() {
    let text = "SELECT 1; SELECT 'unterminated";
    let st = pg_statements(text);
    assert_eq!(st.len(), 2);
    assert_eq!(st[1].span, 10..text.len());
    assert_eq!(st[1].findings[0].kind, FindingKind::Unparseable);
}

#[test]
fn nested_drops_are_not_statement_drops() {
    let st = pg_statements("DO $$BEGIN DROP TABLE t; END$$");
    assert_eq!(st.len(), 1);
    assert!(st[0].drop_table.is_none());
    assert_eq!(st[0].findings[0].kind, FindingKind::DropTable);
    let st = pg_statements("CREATE FUNCTION f() RETURNS void LANGUAGE sql AS 'CREATE TABLE x (a int)'");
    assert!(st[0].creates.is_empty());
}

/// The per-statement findings, concatenated, are `analyze_sql`'s.
fn same_as_whole(text: &str) -> Result<(), String> {
    let whole: Vec<_> = analyze_sql(text, Dialect::Postgres)
        .into_iter()
        .map(|f| (f.kind, f.object, f.location))
        .collect();
    let split: Vec<_> = pg_statements(text)
        .into_iter()
        .flat_map(|s| s.findings)
        .map(|f| (f.kind, f.object, f.location))
        .collect();
    if whole == split {
        Ok(())
    } else {
        Err(format!("{text:?}: whole {whole:?} vs per statement {split:?}"))
    }
}

/// The prefilter's promise for one text.
fn prefilter_sound(text: &str) -> Result<(), String> {
    if prefilter(text.as_bytes()).may_destroy {
        return Ok(());
    }
    let risky: Vec<_> = analyze_sql(text, Dialect::Postgres)
        .into_iter()
        .filter(|f| f.kind != FindingKind::Unparseable)
        .collect();
    if risky.is_empty() {
        Ok(())
    } else {
        Err(format!("prefilter passed {text:?}, which has {risky:?}"))
    }
}

#[derive(Deserialize)]
struct File {
    #[serde(default)]
    case: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    sql: String,
    #[serde(default)]
    dialect: Option<String>,
}

#[test]
fn corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/sql");
    let mut failures = Vec::new();
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("corpus dir").flatten() {
        let text = std::fs::read_to_string(entry.path()).expect("read corpus");
        let file: File = toml::from_str(&text).expect("corpus toml");
        for case in file.case {
            if !matches!(case.dialect.as_deref(), None | Some("postgres") | Some("postgresql")) {
                continue;
            }
            checked += 1;
            failures.extend(prefilter_sound(&case.sql).err());
            failures.extend(same_as_whole(&case.sql).err());
        }
    }
    assert!(checked > 100, "{checked}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("DROP TABLE users".to_string()),
        Just("drop table if exists a, b cascade".to_string()),
        Just("DELETE FROM t".to_string()),
        Just("UPDATE t SET a = 1 WHERE 1=1".to_string()),
        Just("TRUNCATE a".to_string()),
        Just("CREATE TABLE t (id int)".to_string()),
        Just("INSERT INTO t VALUES (1, 'x;y')".to_string()),
        Just("WITH d AS (INSERT INTO t VALUES (1) RETURNING *) SELECT 1".to_string()),
        Just("ALTER TABLE t DROP COLUMN c".to_string()),
        Just("DO $$ BEGIN EXECUTE 'x'; END $$".to_string()),
        Just("EXECUTE p".to_string()),
        Just("COPY t TO PROGRAM 'x'".to_string()),
        Just("SELECT".to_string()),
        Just("FROM".to_string()),
        Just("WHERE".to_string()),
        Just("'".to_string()),
        Just("\"".to_string()),
        Just("$$".to_string()),
        Just("/*".to_string()),
        Just("*/".to_string()),
        Just("--".to_string()),
        Just("(".to_string()),
        Just(")".to_string()),
        Just("1".to_string()),
        Just("é".to_string()),
        "[a-zA-Z_$0-9]{1,9}",
    ]
}

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (fragment(), prop_oneof![Just(" "), Just(";"), Just("\n"), Just("")]),
        0..16,
    )
    .prop_map(|parts| {
        let mut s = String::new();
        for (f, sep) in parts {
            s.push_str(&f);
            s.push_str(sep);
        }
        s
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn prefilter_never_lets_a_loss_through(text in soup()) {
        prop_assert!(prefilter_sound(&text).is_ok(), "{}", prefilter_sound(&text).unwrap_err());
    }

    #[test]
    fn statements_agree_with_the_whole_text(text in soup()) {
        prop_assert!(same_as_whole(&text).is_ok(), "{}", same_as_whole(&text).unwrap_err());
    }

    #[test]
    fn prefilter_takes_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = prefilter(&bytes);
    }
}
