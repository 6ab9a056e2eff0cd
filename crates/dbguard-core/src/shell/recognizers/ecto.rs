//! Elixir's Ecto through mix: `ecto.drop`, `ecto.reset` (drop, create, migrate, seed),
//! `ecto.rollback` (one step, `-n`/`--step`/`--to`, or `--all`). Other mix tasks are
//! looked up in the `aliases` of `mix.exs` (the task lists written as string literals, to
//! a bounded depth), since Phoenix projects wrap these tasks in aliases of their own.

use crate::finding::{Finding, FindingKind, Scope};
use crate::target::TargetHint;

use super::{Invocation, Outcome, Recognizer};

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "mix",
    programs: &["mix"],
    engine: None,
    destructive_potential: false,
    recognize,
};

const MAX_ALIAS_DEPTH: usize = 4;

fn recognize(inv: &Invocation) -> Outcome {
    let words: Vec<&str> = inv.args.iter().map(|w| w.text.as_str()).collect();
    let Some(&task) = words.first() else {
        return Outcome::default();
    };
    if matches!(task, "help" | "--help" | "-h") || words.contains(&"--help") {
        return Outcome::default();
    }
    let mut findings = Vec::new();
    let mix_exs = inv.lookup.read_file("mix.exs");
    expand(inv, task, &words[1..], mix_exs.as_deref(), 0, &mut findings);
    if findings.is_empty() && !task.starts_with("ecto.") {
        return Outcome::default();
    }
    Outcome::db(findings, TargetHint::default())
}

fn expand(inv: &Invocation, task: &str, args: &[&str], mix_exs: Option<&str>, depth: usize, out: &mut Vec<Finding>) {
    let f = |kind, detail: String| inv.finding("mix", kind, None, detail, Scope::Database);
    match task {
        "ecto.drop" => out.push(f(
            FindingKind::DropDatabase,
            "mix ecto.drop drops the repository's database".into(),
        )),
        "ecto.reset" => out.push(f(
            FindingKind::ResetDatabase,
            "mix ecto.reset drops the database and recreates it from the migrations and seeds".into(),
        )),
        "ecto.rollback" => {
            let detail = if args.contains(&"--all") {
                "mix ecto.rollback --all reverts every migration, dropping what they created"
            } else {
                "mix ecto.rollback reverts migrations, which usually drops what they created"
            };
            out.push(f(FindingKind::MigrationRollback, detail.into()));
        }
        t if t.starts_with("ecto.") || depth >= MAX_ALIAS_DEPTH => {}
        t => {
            for inner in alias(mix_exs.unwrap_or(""), t) {
                let mut parts = inner.split_whitespace();
                let name = parts.next().unwrap_or("");
                let rest: Vec<&str> = parts.collect();
                let before = out.len();
                expand(inv, name, &rest, mix_exs, depth + 1, out);
                for x in &mut out[before..] {
                    x.detail = format!("{} (mix alias {t})", x.detail);
                }
            }
        }
    }
}

/// The tasks an alias runs: `setup: ["deps.get", "ecto.setup"]`, `"ecto.reset": [...]`.
fn alias(text: &str, name: &str) -> Vec<String> {
    let keys = [format!("\"{name}\":"), format!("{name}:")];
    let Some(at) = keys.iter().find_map(|k| {
        text.match_indices(k.as_str())
            .find(|(i, _)| {
                *i == 0
                    || !text.as_bytes()[i - 1].is_ascii_alphanumeric()
                        && text.as_bytes()[i - 1] != b'_'
                        && text.as_bytes()[i - 1] != b'.'
            })
            .map(|(i, _)| i + k.len())
    }) else {
        return Vec::new();
    };
    let rest = text[at..].trim_start();
    let body = if let Some(list) = rest.strip_prefix('[') {
        &list[..list.find(']').unwrap_or(list.len())]
    } else {
        rest.lines().next().unwrap_or("")
    };
    body.split('"').skip(1).step_by(2).map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{kinds_with, run};
    use super::*;
    use crate::lookup::MapLookup;

    #[test]
    fn recognizes() {
        assert_eq!(run(&RECOGNIZER, "mix ecto.drop"), [FindingKind::DropDatabase]);
        assert_eq!(run(&RECOGNIZER, "mix ecto.reset"), [FindingKind::ResetDatabase]);
        assert_eq!(
            run(&RECOGNIZER, "mix ecto.rollback --all"),
            [FindingKind::MigrationRollback]
        );
        for c in [
            "mix ecto.migrate",
            "mix ecto.setup",
            "mix test",
            "mix phx.server",
            "mix ecto.create",
        ] {
            assert!(run(&RECOGNIZER, c).is_empty(), "{c}");
        }
        let mut l = MapLookup::default();
        l.files.insert(
            "mix.exs".into(),
            b"defp aliases do\n  [\n    setup: [\"deps.get\", \"ecto.setup\"],\n    \"db.fresh\": [\"ecto.drop\", \"ecto.setup\"],\n    test: [\"ecto.create --quiet\", \"test\"]\n  ]\nend\n".to_vec(),
        );
        let k = |c: &str| kinds_with(&RECOGNIZER, c, &l);
        assert_eq!(k("mix db.fresh"), [FindingKind::DropDatabase]);
        assert!(k("mix setup").is_empty());
        assert!(k("mix test").is_empty());
    }
}
