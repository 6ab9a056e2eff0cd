//! Fuzz target for the PostgreSQL connection-string splitter: no input may panic, what it
//! takes out is only TLS keys, and what it leaves holds none (splitting it again takes
//! nothing out and changes nothing), so tokio-postgres never sees a key it would reject.
#![no_main]

use dbguard_core::config::conninfo::{split, split_pairs, TLS_KEYS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(conn) = std::str::from_utf8(data) else { return };
    let pairs = split_pairs(conn);
    // `split` fails exactly when the pairs do, or on a bad sslmode.
    let settings = split(conn, |_| None);
    match &pairs {
        Err(_) => assert!(settings.is_err()),
        Ok((rest, found)) => {
            assert!(found.iter().all(|(k, _)| TLS_KEYS.contains(&k.as_str())), "{found:?}");
            let again = split_pairs(rest);
            assert_eq!(
                again.as_ref().map(|(r, f)| (r.as_str(), f.len())),
                Ok((rest.as_str(), 0)),
                "{conn:?} -> {rest:?}"
            );
            if let Ok((r, _)) = &settings {
                assert_eq!(r, rest);
            }
        }
    }
});
