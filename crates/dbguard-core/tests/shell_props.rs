//! Properties of shell-command analysis: no panic on any input, deterministic output, and
//! destructive commands stay destructive inside wrappers and nesting.

mod command_cases;

use dbguard_core::lookup::{MapLookup, NoLookup};
use dbguard_core::shell::analyze_command;
use proptest::prelude::*;

fn destructive_cases() -> Vec<(String, MapLookup)> {
    command_cases::load()
        .into_iter()
        .flat_map(|(_, cases)| cases)
        .filter(|c| !c.expect.is_empty())
        .map(|c| {
            let lookup = c.lookup();
            (c.cmd, lookup)
        })
        .collect()
}

/// Wrapping shapes: any command (`bash -c`, `true &&`), or a plain simple command only
/// (prefix wrappers cannot precede `{`, `if`, `;`-lists...).
fn wrappings(cmd: &str) -> Vec<String> {
    let quoted = format!("'{}'", cmd.replace('\'', r"'\''"));
    let mut v = vec![
        format!("bash -c {quoted}"),
        format!("true && {cmd}"),
        format!("time {cmd}"),
    ];
    let simple = !cmd.contains([';', '&', '|', '\n', '(', '{', '`', '<', '>', '#'])
        && !["if ", "for ", "while ", "case ", "export ", "reset()"]
            .iter()
            .any(|k| cmd.starts_with(k));
    // Only sudo and env take `VAR=value` before the command; `timeout 5 VAR=x cmd` would
    // try to run a program named `VAR=x`.
    let leading_assignment = cmd.split_whitespace().next().is_some_and(|w| w.contains('='));
    if simple {
        let all: &[&str] = &[
            "sudo",
            "env X=1",
            "timeout 5",
            "nohup",
            "sudo -u postgres -E",
            "env -i PATH=/bin timeout 5",
        ];
        for w in all
            .iter()
            .filter(|w| !leading_assignment || !w.contains("timeout") && !w.contains("nohup"))
        {
            v.push(format!("{w} {cmd}"));
        }
    }
    v
}

#[test]
fn wrapped_destructive_commands_stay_destructive() {
    let cases = destructive_cases();
    assert!(cases.len() > 150, "only {} destructive cases", cases.len());
    let mut failures = Vec::new();
    for (cmd, lookup) in &cases {
        for w in wrappings(cmd) {
            if !analyze_command(&w, lookup).is_destructive() {
                failures.push(w);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} wrapped commands lost their findings:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn nesting_is_bounded() {
    // `eval eval ... dropdb shop`: every level is one more nested shell.
    let cmd = format!("{}dropdb shop", "eval ".repeat(40));
    // Deeper than the analyzer follows: still not a silent allow.
    assert!(analyze_command(&cmd, &NoLookup).is_destructive());
    let deep = format!("{}dropdb x{}", "$(".repeat(5000), ")".repeat(5000));
    let _ = analyze_command(&deep, &NoLookup);
    let subshells = format!("{}dropdb x{}", "( ".repeat(5000), ")".repeat(5000));
    assert!(analyze_command(&subshells, &NoLookup).is_destructive());
    let arith = format!("{}dropdb x{}", "(".repeat(5000), ")".repeat(5000));
    assert!(analyze_command(&arith, &NoLookup).is_destructive());
}

fn shellish() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("psql".to_string()),
            Just("prisma".to_string()),
            Just(" -c ".to_string()),
            Just("<<EOF\n".to_string()),
            Just("\nEOF\n".to_string()),
            Just("$(".to_string()),
            Just("`".to_string()),
            Just("bash -c ".to_string()),
            Just("DROP TABLE x".to_string()),
            Just("2>&1".to_string()),
            Just("99999999999999999999>".to_string()),
            "[ a-z$'\"\\\\`(){};|&<>\\n#=*?.-]{0,8}",
        ],
        0..24,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(s in any::<String>()) {
        let _ = analyze_command(&s, &NoLookup);
    }

    #[test]
    fn shellish_text_never_panics_and_is_deterministic(s in shellish()) {
        let a = analyze_command(&s, &NoLookup);
        let b = analyze_command(&s, &NoLookup);
        prop_assert_eq!(a.findings, b.findings);
        prop_assert_eq!(a.targets, b.targets);
    }
}

/// Median in-process time of `analyze_command` (run in release:
/// `cargo test --release -p dbguard-core --test shell_props -- --ignored --nocapture timing`).
#[test]
#[ignore]
fn timing() {
    for cmd in [
        "ls -la",
        "npx prisma migrate reset --force",
        "psql -c \"DROP TABLE users\"",
    ] {
        let mut samples = Vec::with_capacity(20_000);
        for _ in 0..20_000 {
            let t = std::time::Instant::now();
            let a = analyze_command(std::hint::black_box(cmd), &NoLookup);
            samples.push(t.elapsed());
            std::hint::black_box(a);
        }
        samples.sort();
        println!(
            "{cmd:40} median {:?}  p99 {:?}",
            samples[samples.len() / 2],
            samples[samples.len() * 99 / 100]
        );
    }
}
