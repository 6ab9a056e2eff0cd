//! Fuzz target: the SQL analyzer must never panic, in any dialect, on any UTF-8 input, and
//! `accepted` must answer once per finding.
#![no_main]

use dbguard_core::sql::{accepted, analyze_sql, Dialect};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for dialect in [Dialect::Postgres, Dialect::Sqlite, Dialect::Mysql] {
        let findings = analyze_sql(text, dialect);
        assert_eq!(accepted(text, dialect, &findings).len(), findings.len());
    }
});
