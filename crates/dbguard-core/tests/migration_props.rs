//! Property tests for `dbguard migrate`'s SQL helpers: no input makes them panic, and a
//! column dropped and re-added under another name in any (quoted) table is reported as a
//! probable rename whose RENAME statement names the same table and columns.

use dbguard_core::sql::migration::{probable_renames, touched_tables};
use dbguard_core::sql::Dialect;
use proptest::prelude::*;

fn q(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn never_panics(text in "\\PC{0,200}") {
        for d in [Dialect::Postgres, Dialect::Sqlite, Dialect::Mysql] {
            let _ = touched_tables(&text, d);
            let _ = probable_renames(&text, d, &|_, _| None);
        }
    }

    #[test]
    fn renames_round_trip(table in "[a-zA-Z_\" ]{1,12}", from in "[a-z_\"]{1,10}", to in "[a-z_\"]{1,10}") {
        prop_assume!(from != to);
        let sql = format!(
            "ALTER TABLE {t} DROP COLUMN {f};\nALTER TABLE {t} ADD COLUMN {c} TEXT;",
            t = q(&table), f = q(&from), c = q(&to)
        );
        let r = probable_renames(&sql, Dialect::Postgres, &|_, _| Some("character varying(20)".into()));
        prop_assert_eq!(r.len(), 1);
        prop_assert_eq!(&r[0].table, &table);
        prop_assert_eq!(&r[0].from, &from);
        prop_assert_eq!(&r[0].to, &to);
        // The statement is valid SQL touching exactly that table.
        prop_assert_eq!(touched_tables(&r[0].statement, Dialect::Postgres), Some(vec![table.clone()]));
    }
}
