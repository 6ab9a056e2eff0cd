//! Fuzz target: the PostgreSQL fast path never hides a finding. Every input gives the same
//! findings (leaving out `unparseable`: a statement the server rejects destroys nothing) with
//! the fast path as with every statement fully parsed.
#![no_main]

use dbguard_core::sql::fast_path_disagreement;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Some((fast, full)) = fast_path_disagreement(text) {
        panic!("fast path {fast:?} and full parse {full:?} differ on {text:?}");
    }
});
