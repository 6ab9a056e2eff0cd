//! Fuzz target for the YAML reader (Rails' database.yml): no input may panic, a tree it
//! returns stays within its node budget and depth limit however aliases expand, and the
//! result is deterministic. Run with `-timeout=2`: an alias bomb must fail fast, not grow.
#![no_main]

use dbguard_core::config::yaml::{parse, MAX_DEPTH, NODE_BUDGET};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let first = parse(text);
    if let Ok(node) = &first {
        assert!(node.count() <= NODE_BUDGET, "{} nodes", node.count());
        assert!(node.height() <= MAX_DEPTH, "{} levels", node.height());
    }
    assert_eq!(first, parse(text));
});
