//! Property tests for the SQL analyzer: no input makes it panic, it is deterministic, and a
//! destructive statement appended to any text is never lost (fail closed).

use dbguard_core::sql::{accepted, analyze_sql, Dialect};
use proptest::prelude::*;

const DIALECTS: [Dialect; 3] = [Dialect::Postgres, Dialect::Sqlite, Dialect::Mysql];

/// Fragments that stress the splitter and the parsers: quotes, comments, dollar quotes,
/// parentheses, BEGIN ATOMIC, DO blocks, directives, keywords.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("DROP TABLE users".to_string()),
        Just("DELETE FROM t".to_string()),
        Just("UPDATE t SET a = 1 WHERE 1=1".to_string()),
        Just("TRUNCATE a, b CASCADE".to_string()),
        Just("CREATE TABLE t (id int)".to_string()),
        Just("INSERT INTO t VALUES (1, 'x;y')".to_string()),
        Just("ALTER TABLE t DROP COLUMN c".to_string()),
        Just("ALTER TABLE t ALTER COLUMN c TYPE int".to_string()),
        Just("WITH d AS (DELETE FROM t RETURNING *) SELECT 1".to_string()),
        Just("DO $$ BEGIN EXECUTE 'x'; DELETE FROM t; END $$".to_string()),
        Just("CREATE FUNCTION f() RETURNS void LANGUAGE sql BEGIN ATOMIC SELECT 1; END".to_string()),
        Just("CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$".to_string()),
        Just("-- dbguard:allow all because".to_string()),
        Just("/* comment ; */".to_string()),
        Just("/*".to_string()),
        Just("*/".to_string()),
        Just("'".to_string()),
        Just("\"".to_string()),
        Just("`".to_string()),
        Just("$$".to_string()),
        Just("$tag$".to_string()),
        Just("(".to_string()),
        Just(")".to_string()),
        Just("BEGIN".to_string()),
        Just("END".to_string()),
        Just("CASE".to_string()),
        Just("--".to_string()),
        Just("#".to_string()),
        Just("\\".to_string()),
        Just("E'\\''".to_string()),
        Just("U&\"x\"".to_string()),
        Just("WHERE".to_string()),
        Just("1".to_string()),
        Just("é".to_string()),
        "[a-zA-Z_]{1,8}",
    ]
}

fn separator() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just(" "), Just(";"), Just("\n"), Just("; "), Just(";\n"), Just("")]
}

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec((fragment(), separator()), 0..24).prop_map(|parts| {
        let mut s = String::new();
        for (f, sep) in parts {
            s.push_str(&f);
            s.push_str(sep);
        }
        s
    })
}

fn check_no_panic_and_deterministic(text: &str) {
    for d in DIALECTS {
        let a = analyze_sql(text, d);
        let b = analyze_sql(text, d);
        assert_eq!(a, b, "not deterministic for {d:?}: {text:?}");
        let acc = accepted(text, d, &a);
        assert_eq!(acc.len(), a.len());
    }
}

fn check_appended_drop_is_found(text: &str) {
    let sql = format!("{text}\n;\nDROP TABLE dbguard_prop_victim;");
    for d in DIALECTS {
        let f = analyze_sql(&sql, d);
        assert!(!f.is_empty(), "appended DROP TABLE lost for {d:?}: {sql:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings_never_panic(text in any::<String>()) {
        check_no_panic_and_deterministic(&text);
    }

    #[test]
    fn ascii_soup_never_panics(text in "[ -~\n\t]{0,200}") {
        check_no_panic_and_deterministic(&text);
    }

    #[test]
    fn statement_soups_never_panic(text in soup()) {
        check_no_panic_and_deterministic(&text);
    }

    #[test]
    fn appended_destructive_statement_is_never_lost(text in soup()) {
        check_appended_drop_is_found(&text);
    }

    #[test]
    fn appended_destructive_statement_after_noise_is_never_lost(text in "[ -~\n]{0,120}") {
        check_appended_drop_is_found(&text);
    }
}
