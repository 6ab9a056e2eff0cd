//! Fuzz target: the PostgreSQL fast path never hides a finding. Every input gives the same
//! findings (leaving out `unparseable`: a statement the server rejects destroys nothing) with
//! the fast path as with every statement fully parsed.
#![no_main]

use dbguard_core::sql::{analyze_postgres_without_fast_path, analyze_sql};
use dbguard_core::{Dialect, Finding};
use libfuzzer_sys::fuzz_target;

fn kinds(findings: &[Finding]) -> Vec<(&'static str, Option<String>)> {
    findings
        .iter()
        .filter(|f| f.kind.as_str() != "unparseable")
        .map(|f| (f.kind.as_str(), f.object.clone()))
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let fast = analyze_sql(text, Dialect::Postgres);
    let full = analyze_postgres_without_fast_path(text);
    assert_eq!(kinds(&fast), kinds(&full), "{text:?}");
});
