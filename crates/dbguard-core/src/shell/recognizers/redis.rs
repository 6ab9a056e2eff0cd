//! `redis-cli FLUSHALL | FLUSHDB` (any case), as arguments or on stdin.

use crate::finding::{FindingKind, Scope};
use crate::target::{Engine, TargetHint};

use super::{Input, Invocation, Outcome, Recognizer};
use crate::shell::words::Spec;

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "redis-cli",
    programs: &["redis-cli", "valkey-cli", "keydb-cli"],
    engine: Some(Engine::Redis),
    destructive_potential: true,
    recognize,
};

const SPEC: Spec = Spec {
    // `-c` is cluster mode, a flag.
    short: "hpsaunridDt",
    long: &[
        "user",
        "pass",
        "cacert",
        "cert",
        "key",
        "sni",
        "rdb",
        "pattern",
        "count",
        "eval",
        "functions-rdb",
        "cacertdir",
        "tls-ciphers",
    ],
    ..Spec::DEFAULT
};

fn is_flush(cmd: &str) -> bool {
    cmd.eq_ignore_ascii_case("flushall") || cmd.eq_ignore_ascii_case("flushdb")
}

fn recognize(inv: &Invocation) -> Outcome {
    let a = inv.args(&SPEC);
    let hint = TargetHint {
        host: a.value(&["-h"]).map(str::to_string),
        port: a.value(&["-p"]).map(str::to_string),
        url: a.value(&["-u"]).map(str::to_string),
        dbname: a.value(&["-n"]).map(str::to_string),
        ..TargetHint::default()
    };
    if a.has(&["--help", "--version"]) {
        return Outcome::db(Vec::new(), hint);
    }
    let t = inv.program;
    let mut cmds: Vec<String> = Vec::new();
    if let Some(w) = a.pos.first() {
        if w.dynamic {
            let f = inv.unknown(t, format!("{t} runs a command named at run time ({})", w.text));
            return Outcome::db(vec![f], hint);
        }
        cmds.push(w.text.clone());
    } else {
        match inv.stdin {
            Input::Text(s) => cmds.extend(
                s.lines()
                    .filter_map(|l| l.split_whitespace().next())
                    .map(str::to_string),
            ),
            Input::Unknown(why) => {
                return Outcome::db(vec![inv.unknown(t, format!("{t} runs commands from {why}"))], hint);
            }
            _ => {}
        }
    }
    let findings = cmds
        .iter()
        .filter(|c| is_flush(c))
        .map(|c| {
            let what = if c.eq_ignore_ascii_case("flushall") {
                "every key of every database"
            } else {
                "every key of the selected database"
            };
            inv.finding(
                t,
                FindingKind::FlushStore,
                None,
                format!("{t} {} deletes {what}", c.to_ascii_uppercase()),
                Scope::Database,
            )
        })
        .collect();
    Outcome::db(findings, hint)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{run, run_with};
    use super::*;
    use crate::lookup::MapLookup;

    #[test]
    fn recognizes() {
        assert_eq!(run(&RECOGNIZER, "redis-cli FLUSHALL"), [FindingKind::FlushStore]);
        assert_eq!(
            run(&RECOGNIZER, "redis-cli -h cache -n 2 flushdb async"),
            [FindingKind::FlushStore]
        );
        assert!(run(&RECOGNIZER, "redis-cli GET key").is_empty());
        let o = run_with(
            &RECOGNIZER,
            "redis-cli",
            &MapLookup::default(),
            &Input::Text("PING\nFlushAll\n".into()),
        );
        assert_eq!(o.findings.len(), 1);
    }
}
