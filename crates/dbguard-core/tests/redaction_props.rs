//! Property test: for every password position dbguard recognizes on a command line
//! (`password_positions`), with generated secrets and behind generated wrappers, the secret
//! never appears in the redacted command, in what the core reports about the command (the
//! findings: statement, object, detail), or in the target hints once they are shown. The same
//! positions go through the real binary in `crates/dbguard/tests/redaction_outputs.rs`.

mod password_positions;

use dbguard_core::redact::{redact_text, Secrets};
use dbguard_core::{analyze, NoLookup, Operation};
use password_positions::{leak, POSITIONS, WRAPPERS};
use proptest::prelude::*;

/// A secret with a recognizable alphanumeric core (so a leak cannot hide behind quoting) and a
/// tail with the characters quoting and parsing trip over.
fn secret() -> impl Strategy<Value = String> {
    ("[A-Za-z0-9]{6,10}", "[ -~]{0,12}").prop_map(|(core, tail)| format!("Zq9{core}{tail}"))
}

fn check(cmd: &str, secret: &str) -> Result<(), TestCaseError> {
    let redacted = redact_text(cmd);
    prop_assert!(
        leak(&redacted, secret).is_none(),
        "redact_text leaked {secret:?}: {cmd}\n-> {redacted}"
    );
    let secrets = Secrets::of(cmd);
    let shown = secrets.redact(cmd);
    prop_assert!(
        leak(&shown, secret).is_none(),
        "Secrets::redact leaked {secret:?}: {cmd}\n-> {shown}"
    );
    let mut analysis = analyze(&Operation::Shell(cmd), &NoLookup);
    for h in &mut analysis.targets {
        h.hide_secrets(&secrets);
    }
    let json = serde_json::to_string(&analysis).unwrap();
    prop_assert!(
        leak(&json, secret).is_none(),
        "analysis leaked {secret:?}: {cmd}\n-> {json}"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn secrets_never_appear(
        pos in 0..POSITIONS.len(),
        wrap in 0..WRAPPERS.len(),
        secret in secret(),
    ) {
        let cmd = WRAPPERS[wrap](&(POSITIONS[pos].build)(&secret));
        check(&cmd, &secret)?;
    }
}

/// Every position, every wrapper, a few fixed nasty secrets: failures name the position.
#[test]
fn every_position_and_wrapper() {
    let secrets = [
        "Zq9Plain123",
        "Zq9with space",
        "Zq9quo'te\"s",
        "Zq9back\\slash$x",
        "Zq9;rm -rf /|&",
    ];
    let mut failures = Vec::new();
    for p in POSITIONS {
        for (w, wrap) in WRAPPERS.iter().enumerate() {
            for s in secrets {
                let cmd = wrap(&(p.build)(s));
                if let Err(e) = check(&cmd, s) {
                    failures.push(format!("{} (wrapper {w}): {e}", p.name));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} leaks:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The positions are found, not only hidden by luck: each one's secret is among the secrets.
#[test]
fn every_position_is_recognized() {
    for p in POSITIONS {
        let cmd = (p.build)("Zq9Found42");
        let s = Secrets::of(&cmd);
        assert_eq!(s.mask("x Zq9Found42 y"), "x *** y", "{}: {cmd}", p.name);
    }
}
