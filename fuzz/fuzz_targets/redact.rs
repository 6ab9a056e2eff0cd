//! Fuzz target for the word-aware redaction of command lines (`dbguard_core::redact`): no input
//! may panic, and once a text's own secrets are masked, none of them is left as a whole token.
#![no_main]

use dbguard_core::redact::{redact_text, Secrets};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = redact_text(text);
    let secrets = Secrets::of(text);
    let shown = secrets.redact(text);
    // Masking again finds nothing new to mask in what is already masked.
    assert_eq!(secrets.mask(&shown), shown, "{text:?}");
});
