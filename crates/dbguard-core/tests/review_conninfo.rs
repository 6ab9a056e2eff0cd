//! Review findings on `config::conninfo`: settings libpq refuses or verifies that the
//! splitter turns into an unverified (or weaker) mode. Each was checked against psql 15/libpq
//! or the libpq 16+ documentation.

use dbguard_core::config::conninfo::{split, Mode};

fn none(_: &str) -> Option<String> {
    None
}

/// libpq 16+ documentation: "When using sslrootcert=system, the default sslmode is changed
/// to verify-full, and any weaker setting will result in an error." dbguard keeps the
/// default `prefer` (no certificate check, plain-text fallback).
#[test]
fn sslrootcert_system_defaults_to_verify_full() {
    let (_, s) = split("postgres://h/db?sslrootcert=system", none).unwrap();
    assert_eq!(s.mode, Mode::VerifyFull);
    // The same through the environment.
    let env = |k: &str| (k == "PGSSLROOTCERT").then(|| "system".to_string());
    let (_, s) = split("postgres://h/db", env).unwrap();
    assert_eq!(s.mode, Mode::VerifyFull);
}

/// libpq 16+: a weaker sslmode with sslrootcert=system is an error, because any public CA
/// signs a certificate for a name the attacker controls. dbguard makes it verify-ca: the
/// chain is checked against every public CA and the name is not, so any publicly trusted
/// certificate (for any host name) is accepted.
#[test]
fn weak_modes_with_sslrootcert_system_are_errors() {
    for q in [
        "sslmode=require",
        "sslmode=verify-ca",
        "sslmode=prefer",
        "sslmode=allow",
    ] {
        let r = split(&format!("postgres://h/db?{q}&sslrootcert=system"), none);
        assert!(r.is_err(), "{q}: {:?}", r.map(|(_, s)| s.mode));
    }
}

/// psql 15: `?sslmode=verify-full&sslmode=` and `sslmode=''` are `invalid sslmode value: ""`.
/// dbguard reads the empty value as "not given" and falls back to `prefer`: a string that
/// names verify-full connects without checking anything.
#[test]
fn an_empty_sslmode_is_an_error_not_a_downgrade() {
    let r = split("postgres://h/db?sslmode=verify-full&sslmode=", none);
    assert!(r.is_err(), "{:?}", r.map(|(_, s)| s.mode));
    let r = split("host=h sslmode=verify-full sslmode=''", none);
    assert!(r.is_err(), "{:?}", r.map(|(_, s)| s.mode));
}
