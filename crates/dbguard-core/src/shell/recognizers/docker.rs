//! Docker and Compose: removing volumes that hold databases (`compose down -v`,
//! `volume rm|prune`, `system prune --volumes`, `rm -v`). `docker exec` and
//! `compose exec|run` are unwrapped by the wrapper layer, not here.

use crate::finding::{FindingKind, Scope};

use super::{Invocation, Outcome, Recognizer};
use crate::shell::words::{Args, Spec};

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "docker",
    programs: &["docker", "docker-compose", "podman", "podman-compose"],
    engine: None,
    destructive_potential: false,
    recognize,
};

/// Options of `docker` itself, before the subcommand.
pub const GLOBAL: Spec = Spec {
    short: "Hcl",
    long: &[
        "host",
        "context",
        "config",
        "log-level",
        "tlscacert",
        "tlscert",
        "tlskey",
    ],
    ..Spec::DEFAULT
};
/// Options of `docker compose` / `docker-compose`, before its subcommand.
pub const COMPOSE: Spec = Spec {
    short: "fp",
    long: &[
        "file",
        "project-name",
        "profile",
        "env-file",
        "project-directory",
        "ansi",
        "progress",
        "parallel",
        "timeout",
        "rmi",
    ],
    ..Spec::DEFAULT
};

/// Index of the first operand after leading options, per `spec`.
pub fn skip_options(words: &[crate::shell::parse::Word], spec: &Spec) -> usize {
    let mut i = 0;
    while i < words.len() {
        let t = words[i].text.as_str();
        if !t.starts_with('-') || t == "-" {
            break;
        }
        i += 1;
        if t == "--" {
            break;
        }
        let takes = if let Some(l) = t.strip_prefix("--") {
            !l.contains('=') && spec.long.contains(&l)
        } else {
            t.len() == 2 && t[1..].chars().all(|c| spec.short.contains(c))
        };
        if takes {
            i += 1;
        }
    }
    i
}

fn recognize(inv: &Invocation) -> Outcome {
    let words = inv.args;
    let compose_prog = inv.program.ends_with("compose");
    let mut i = 0;
    if !compose_prog {
        i = skip_options(words, &GLOBAL);
    }
    let tool = inv.program;
    let f = |detail: String, object: Option<String>| {
        inv.finding(tool, FindingKind::DeleteVolume, object, detail, Scope::External)
    };
    let sub = |k: usize| words.get(k).map_or("", |w| w.text.as_str());
    let mut findings = Vec::new();
    if compose_prog || sub(i) == "compose" {
        if !compose_prog {
            i += 1;
        }
        i += skip_options(&words[i.min(words.len())..], &COMPOSE);
        let rest = Args::parse(
            words.get(i + 1..).unwrap_or(&[]),
            &Spec {
                short: "t",
                long: &["timeout", "rmi"],
                ..Spec::DEFAULT
            },
        );
        if rest.help() {
            return Outcome::default();
        }
        match sub(i) {
            "down" if rest.has(&["-v", "--volumes"]) => findings.push(f(
                format!(
                    "{tool} down -v removes the project's named and anonymous volumes, with any database data in them"
                ),
                None,
            )),
            "rm" if rest.has(&["-v", "--volumes"]) => findings.push(f(
                format!("{tool} rm -v removes the containers' anonymous volumes"),
                None,
            )),
            _ => {}
        }
        return Outcome { findings, hint: None };
    }
    let rest = Args::parse(
        words.get(i + 1..).unwrap_or(&[]),
        &Spec {
            short: "",
            long: &["filter"],
            ..Spec::DEFAULT
        },
    );
    if rest.help() {
        return Outcome::default();
    }
    match (sub(i), rest.p(0)) {
        ("volume", "rm" | "remove") => {
            let names: Vec<String> = rest.pos.iter().skip(1).map(|w| w.text.clone()).collect();
            let list = names.join(", ");
            findings.push(f(
                format!("{tool} volume rm deletes the volumes {list} and the data in them"),
                Some(list),
            ));
        }
        ("volume", "prune") => findings.push(f(
            format!("{tool} volume prune deletes every unused volume and its data"),
            None,
        )),
        ("system", "prune") if rest.has(&["--volumes"]) => findings.push(f(
            format!("{tool} system prune --volumes deletes every unused volume and its data"),
            None,
        )),
        ("rm", _) | ("container", "rm") if rest.has(&["-v", "--volumes"]) => findings.push(f(
            format!("{tool} rm -v deletes the containers' anonymous volumes"),
            None,
        )),
        _ => {}
    }
    Outcome { findings, hint: None }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::run;
    use super::*;

    #[test]
    fn recognizes() {
        assert_eq!(run(&RECOGNIZER, "docker compose down -v"), [FindingKind::DeleteVolume]);
        assert_eq!(
            run(&RECOGNIZER, "docker-compose -f dev.yml down --volumes"),
            [FindingKind::DeleteVolume]
        );
        assert_eq!(run(&RECOGNIZER, "docker volume rm pgdata"), [FindingKind::DeleteVolume]);
        assert_eq!(run(&RECOGNIZER, "docker volume prune -f"), [FindingKind::DeleteVolume]);
        assert_eq!(
            run(&RECOGNIZER, "docker system prune -af --volumes"),
            [FindingKind::DeleteVolume]
        );
        for c in [
            "docker compose down",
            "docker compose up -d -v",
            "docker volume ls",
            "docker system prune",
            "docker ps",
        ] {
            assert!(run(&RECOGNIZER, c).is_empty(), "{c}");
        }
    }
}
