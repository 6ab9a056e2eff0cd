//! Fuzz target: the migration helpers of `dbguard migrate` (tables a migration touches,
//! probable column renames) must never panic, in any dialect, on any UTF-8 input.
#![no_main]

use dbguard_core::sql::migration::{probable_renames, touched_tables};
use dbguard_core::sql::Dialect;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for dialect in [Dialect::Postgres, Dialect::Sqlite, Dialect::Mysql] {
        let _ = touched_tables(text, dialect);
        for r in probable_renames(text, dialect, &|_, _| Some("text".into())) {
            assert!(r.statement.starts_with("ALTER TABLE "));
        }
    }
});
