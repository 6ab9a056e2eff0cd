//! Fail closed at every limit (issue 12, class 5): deep generated wrappings that do not fit
//! in the corpus (ten and twenty `printf %q` layers, 70 wrappers, 10,000 commands, 5,000
//! expansions), property tests that no wrapping of a destructive command is ever "nothing
//! found", and the false-alarm rate of the limits on the corpus's benign commands.

mod command_cases;

use dbguard_core::finding::FindingKind;
use dbguard_core::lookup::{MapLookup, NoLookup};
use dbguard_core::shell::analyze_command;
use dbguard_core::shell::limits::could_hold;
use dbguard_core::shell::output::quote_q;
use dbguard_core::shell::wrapping::{wrap, LAYERS};
use proptest::prelude::*;

const DESTRUCTIVE: &[&str] = &[
    "dropdb shop",
    "npx prisma migrate reset --force",
    "psql -c 'DROP TABLE users'",
    "redis-cli FLUSHALL",
    "rails db:drop",
    "psql \"$DATABASE_URL\" -c \"TRUNCATE orders CASCADE\"",
    "mysql -e 'DROP DATABASE shop'",
];

const BENIGN: &[&str] = &[
    "ls -la",
    "git status",
    "cargo build --release",
    "echo hello",
    "npm install",
];

fn kinds(cmd: &str) -> Vec<FindingKind> {
    analyze_command(cmd, &NoLookup)
        .findings
        .iter()
        .map(|f| f.kind)
        .collect()
}

/// `sh -c` layers quoted with `printf %q`, as a person (or an agent) builds them.
fn printf_q_layers(cmd: &str, n: usize) -> String {
    let mut c = cmd.to_string();
    for _ in 0..n {
        c = format!("sh -c {}", quote_q(&c));
    }
    c
}

#[test]
fn printf_q_layers_are_followed_and_beyond_the_budget_unknown() {
    for cmd in DESTRUCTIVE {
        let ten = kinds(&printf_q_layers(cmd, 10));
        assert!(
            !ten.is_empty() && !ten.contains(&FindingKind::Unknown),
            "{cmd}: {ten:?}"
        );
    }
    assert_eq!(kinds(&printf_q_layers("dropdb shop", 20)), [FindingKind::DropDatabase]);
    // 23 layers are 25 MB of backslashes: past the byte budget, still not a silent allow.
    assert_eq!(kinds(&printf_q_layers("dropdb shop", 23)), [FindingKind::Unknown]);
    for cmd in BENIGN {
        assert!(kinds(&printf_q_layers(cmd, 10)).is_empty(), "{cmd}");
        assert!(kinds(&printf_q_layers(cmd, 20)).is_empty(), "{cmd}");
    }
}

/// A chain of package scripts deeper than the analyzer follows.
fn script_chain(last: &str, n: usize) -> MapLookup {
    let mut l = MapLookup::default();
    for i in 0..n {
        l.scripts.insert(format!("step{i}"), format!("npm run step{}", i + 1));
    }
    l.scripts.insert(format!("step{n}"), last.to_string());
    l
}

#[test]
fn nesting_beyond_the_depth_limit() {
    let deep = script_chain("dropdb shop", 40);
    assert_eq!(analyze_command("npm run step0", &deep).findings.len(), 1);
    assert_eq!(
        analyze_command("npm run step0", &deep).findings[0].kind,
        FindingKind::Unknown
    );
    let shallow = script_chain("dropdb shop", 10);
    assert_eq!(
        analyze_command("npm run step0", &shallow).findings[0].kind,
        FindingKind::DropDatabase
    );
    // A script that runs itself loops, it does not go deeper: nothing new runs.
    let mut l = MapLookup::default();
    l.scripts.insert("a".into(), "npm run b".into());
    l.scripts.insert("b".into(), "tsc && npm run a".into());
    assert!(analyze_command("npm run a", &l).findings.is_empty());
    let evals = format!("{}dropdb shop", "eval ".repeat(30));
    assert_eq!(kinds(&evals), [FindingKind::Unknown]);
    assert!(kinds(&format!("{}ls -la", "eval ".repeat(30))).is_empty());
}

#[test]
fn wrapper_chains_within_and_beyond_the_limit() {
    let wrappers = [
        "nohup",
        "setsid",
        "nice -n 5",
        "ionice -c3",
        "stdbuf -oL",
        "timeout 300",
        "chrt -i 0",
        "taskset -c 0",
        "env A=1",
        "sudo -u postgres -E",
        "command",
        "time",
        "nohup",
        "setsid",
        "flock /tmp/l",
        "dumb-init",
        "tini --",
        "fakeroot",
        "nice",
        "ionice -c2",
    ];
    assert_eq!(wrappers.len(), 20);
    let chain20 = wrappers.join(" ");
    assert_eq!(kinds(&format!("{chain20} dropdb shop")), [FindingKind::DropDatabase]);
    assert!(kinds(&format!("{chain20} ls -la")).is_empty());
    assert_eq!(
        kinds(&format!("{}dropdb shop", "nohup ".repeat(70))),
        [FindingKind::Unknown]
    );
    assert!(kinds(&format!("{}ls -la", "nohup ".repeat(70))).is_empty());
}

#[test]
fn command_and_expansion_budgets() {
    let many = format!("{}dropdb shop", "true; ".repeat(10_001));
    assert_eq!(kinds(&many), [FindingKind::Unknown]);
    assert!(kinds(&format!("{}ls", "true; ".repeat(10_001))).is_empty());
    let expansions = format!("X=1; echo {}; dropdb shop", "$X ".repeat(5_000));
    assert!(!kinds(&expansions).is_empty());
    assert!(kinds(&format!("X=1; echo {}; ls", "$X ".repeat(5_000))).is_empty());
    // Substitutions nested past the parser's depth.
    let deep = format!("{}dropdb x{}", "$(".repeat(200), ")".repeat(200));
    assert!(!kinds(&deep).is_empty());
}

/// Shells reading their commands from quoted heredocs: nesting that grows linearly.
fn heredoc_layers(cmd: &str, n: usize) -> String {
    let mut c = cmd.to_string();
    for k in 0..n {
        c = format!("sh <<'DBG_{k}'\n{c}\nDBG_{k}");
    }
    c
}

/// The limits' false alarms on the corpus's benign commands: each is pushed past the depth
/// limit (30 nested shells reading heredocs) and counted when it is then reported.
/// Benign commands that name no database tool and no destructive word must never be;
/// the corpus's look-alikes (`echo 'DROP TABLE users'`, `git commit -m 'prisma migrate
/// reset'`) can be, since beyond a limit data and commands cannot be told apart.
#[test]
fn false_alarms_at_the_limits() {
    let benign: Vec<String> = command_cases::load()
        .into_iter()
        .flat_map(|(_, cases)| cases)
        .filter(|c| c.expect.is_empty() && c.files.is_empty() && c.scripts.is_empty() && c.workspace.is_empty())
        .map(|c| c.cmd)
        .collect();
    let mut alarms = 0;
    let mut plain_alarms = Vec::new();
    for cmd in &benign {
        // Past the depth limit: 30 shells reading their commands from quoted heredocs.
        let reported = !kinds(&heredoc_layers(cmd, 30)).is_empty();
        alarms += usize::from(reported);
        if reported && std::env::var_os("DBGUARD_LIST_ALARMS").is_some() {
            println!("ALARM {cmd}");
        }
        if reported && !could_hold(cmd) {
            plain_alarms.push(cmd.clone());
        }
        assert!(kinds(cmd).is_empty(), "benign corpus command now reported: {cmd}");
    }
    println!(
        "limits: {alarms} of {} benign corpus commands reported past the nesting limit ({:.1}%); look-alikes only",
        benign.len(),
        100.0 * alarms as f64 / benign.len().max(1) as f64
    );
    assert!(
        plain_alarms.is_empty(),
        "benign commands reported at a limit: {plain_alarms:?}"
    );
}

fn layers() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(0..LAYERS, 1..14)
}

/// Apply layers while the text stays reasonably small (`printf %q` doubles it each time).
fn wrapped(base: &str, layers: &[u8]) -> String {
    let mut c = base.to_string();
    for l in layers {
        let next = wrap(&c, *l);
        if next.len() > 200_000 {
            break;
        }
        c = next;
    }
    c
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    /// However a destructive command is wrapped, it is never "nothing found".
    #[test]
    fn wrapped_destructive_commands_are_never_allowed(base in 0..DESTRUCTIVE.len(), ls in layers()) {
        let cmd = wrapped(DESTRUCTIVE[base], &ls);
        let a = analyze_command(&cmd, &NoLookup);
        prop_assert!(a.is_destructive(), "layers {:?} lost the finding: {}", ls, cmd);
    }

    /// Within the limits, wrapping a benign command finds nothing.
    #[test]
    fn shallow_wrappings_of_benign_commands_stay_silent(base in 0..BENIGN.len(), ls in proptest::collection::vec(0..LAYERS, 1..4)) {
        let cmd = wrapped(BENIGN[base], &ls);
        let a = analyze_command(&cmd, &NoLookup);
        prop_assert!(a.findings.is_empty(), "layers {:?}: {} -> {:?}", ls, cmd, a.findings);
    }
}

/// Median in-process time of `analyze_command` for the shapes of classes 4-6 (run in
/// release: `cargo test --release -p dbguard-core --test shell_limits -- --ignored --nocapture timing`).
#[test]
#[ignore]
fn timing() {
    let mut l = MapLookup::default();
    l.files.insert(
        ".env".into(),
        b"DATABASE_URL=postgres://app:pw@db.internal.example/shop\n".to_vec(),
    );
    l.env.insert("HOME".into(), "/home/u".into());
    let q10 = printf_q_layers("dropdb shop", 10);
    for cmd in [
        "ls -la",
        "git status && cargo build --release",
        "source .env && psql \"$DATABASE_URL\" -c \"DROP TABLE x\"",
        "psql \"$UNSET_URL\" -c \"DROP TABLE x\"",
        "echo ZHJvcGRiIHNob3A= | base64 -d | sh",
        "nohup setsid nice -n 5 ionice -c3 stdbuf -oL timeout 300 dropdb shop",
        q10.as_str(),
    ] {
        let mut samples = Vec::with_capacity(5_000);
        for _ in 0..5_000 {
            let t = std::time::Instant::now();
            let a = analyze_command(std::hint::black_box(cmd), &l);
            samples.push(t.elapsed());
            std::hint::black_box(a);
        }
        samples.sort();
        let shown: String = cmd.chars().take(60).collect();
        println!(
            "{shown:62} median {:?}  p99 {:?}",
            samples[samples.len() / 2],
            samples[samples.len() * 99 / 100]
        );
    }
}
