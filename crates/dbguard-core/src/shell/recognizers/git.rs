//! `git reset --hard`, `git checkout -- PATHS` (or `.`, or `-f`), `git restore PATHS` and
//! `git switch --discard-changes`/`-f` put tracked files back to a committed version: a
//! database file that is tracked (an SQLite file committed with the project, which happens)
//! loses everything written to it since. The paths they name are looked through the same way,
//! and only the databases git tracks count (all of them when git cannot say).
//!
//! `git clean`: with `-f` it deletes untracked files (`-x`: ignored ones too; `-X`: only
//! ignored ones), and database files are usually untracked and ignored. The trees it
//! would clean are looked through for databases ([`super::data_tree`]), and git is asked
//! which of them it tracks or ignores ([`crate::lookup::Lookup::git_states`]); when git
//! cannot say, every database found counts as at risk. `-d` is assumed (files in
//! untracked directories too), which can only over-report. `-n`/`--dry-run`, `-i` (git
//! asks), and no `-f` (git refuses by default) are not flagged.

use crate::environment::glob_match;
use crate::lookup::GitState;
use crate::shell::words::{basename, Spec};

use super::data_tree::{DbFound, DbKind, TreeScan};
use super::files::{exists, report_tree, sqlite_file};
use super::{data_tree, Invocation, Outcome, Recognizer};

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "git",
    programs: &["git"],
    engine: None,
    destructive_potential: false,
    recognize,
};

/// `git`'s own options before the subcommand that take a value.
const GLOBAL: Spec = Spec {
    short: "Cc",
    long: &["git-dir", "work-tree", "namespace", "exec-path", "config-env"],
    ..Spec::DEFAULT
};

const CLEAN: Spec = Spec {
    short: "e",
    long: &["exclude"],
    ..Spec::DEFAULT
};

fn recognize(inv: &Invocation) -> Outcome {
    let start = crate::shell::words::skip_leading_options(inv.args, &GLOBAL);
    let chdir = crate::shell::words::Args::parse(&inv.args[..start], &GLOBAL)
        .value(&["-C"])
        .map(str::to_string);
    match inv.args.get(start).map(|w| w.text.as_str()) {
        Some("clean") => clean(inv, start, chdir),
        Some(sub @ ("reset" | "checkout" | "restore" | "switch")) => overwrite(inv, sub, start, chdir.as_deref()),
        _ => Outcome::default(),
    }
}

/// `root` as seen from the working directory, under `git -C DIR`.
fn under(chdir: Option<&str>, root: &str) -> String {
    match (chdir, root) {
        (None | Some("."), _) => root.to_string(),
        (Some(c), ".") => c.to_string(),
        (Some(c), _) => format!("{}/{root}", c.trim_end_matches('/')),
    }
}

const OVERWRITE: Spec = Spec {
    short: "bBsp",
    long: &["source", "conflict", "pathspec-from-file", "orphan", "track"],
    ..Spec::DEFAULT
};

/// The forms that put tracked files in the working tree back to a committed version.
fn overwrite(inv: &Invocation, sub: &str, start: usize, chdir: Option<&str>) -> Outcome {
    let rest = &inv.args[start + 1..];
    let a = crate::shell::words::Args::parse(rest, &OVERWRITE);
    if a.has(&["-h", "--help"]) {
        return Outcome::default();
    }
    let after_dashes: Option<Vec<String>> = rest
        .iter()
        .position(|w| w.text == "--")
        .map(|i| rest[i + 1..].iter().map(|w| w.text.clone()).collect());
    let forced = a.has(&["-f", "--force"]);
    let roots: Vec<String> = match sub {
        "reset" if a.has(&["--hard"]) => vec![".".into()],
        "switch" if forced || a.has(&["--discard-changes"]) => vec![".".into()],
        "checkout" => match after_dashes {
            Some(paths) => paths,
            None if forced => vec![".".into()],
            // Without `--`, an operand may be a branch or a path: each is looked at as a path.
            None => a.pos.iter().map(|w| w.text.clone()).collect(),
        },
        "restore" if (a.has(&["--staged", "-S"]) && !a.has(&["--worktree", "-W"])) => Vec::new(),
        "restore" => after_dashes.unwrap_or_else(|| a.pos.iter().map(|w| w.text.clone()).collect()),
        _ => Vec::new(),
    };
    let action = match sub {
        "reset" => "git reset --hard puts every tracked file back to the commit".to_string(),
        "switch" => "git switch discards the local changes of tracked files".to_string(),
        _ => format!("git {sub} puts tracked files back to their committed version"),
    };
    let mut out = Outcome::default();
    for root in roots.iter().map(|r| under(chdir, r)) {
        if root.contains(['*', '?', '$']) {
            continue;
        }
        let mut scan = match data_tree::scan(&root, inv.lookup) {
            Some(scan) => scan,
            None if sqlite_file(&root, inv.lookup).is_some() && exists(&root, inv.lookup) => TreeScan {
                found: vec![DbFound {
                    path: root.clone(),
                    kind: DbKind::Sqlite,
                }],
                truncated: false,
            },
            None => continue,
        };
        let paths: Vec<String> = scan.found.iter().map(|f| f.path.clone()).collect();
        if let Some(states) = inv.lookup.git_states(&paths).filter(|s| s.len() == paths.len()) {
            let mut keep = states.iter().map(|s| *s == GitState::Tracked);
            scan.found.retain(|_| keep.next().unwrap_or(true));
        }
        // Only tracked files are rewritten: a tree too large to look through is no reason
        // to fail closed here, as for plain `git clean -f`.
        scan.truncated = false;
        report_tree(
            inv,
            &mut out,
            &scan,
            &root,
            &format!("{action}: what was written to a tracked database since is lost"),
        );
    }
    out
}

/// `git clean -f`: untracked (and with -x/-X, ignored) files are deleted.
fn clean(inv: &Invocation, start: usize, chdir: Option<String>) -> Outcome {
    let a = crate::shell::words::Args::parse(&inv.args[start + 1..], &CLEAN);
    let forced = a.has(&["-f", "--force"]);
    if !forced || a.has(&["-n", "--dry-run", "-i", "--interactive", "-h", "--help"]) {
        return Outcome::default();
    }
    let ignored_too = a.has(&["-x"]);
    let only_ignored = a.has(&["-X"]);
    let excludes: Vec<&str> = a
        .values(&["-e", "--exclude"])
        .filter_map(|o| o.value.as_deref())
        .collect();
    let mut roots: Vec<String> = a.pos.iter().map(|w| w.text.clone()).collect();
    if roots.is_empty() {
        roots.push(".".into());
    }
    let roots: Vec<String> = roots.iter().map(|r| under(chdir.as_deref(), r)).collect();
    let flags = match (ignored_too, only_ignored) {
        (_, true) => "-X",
        (true, _) => "-x",
        _ => "-f",
    };
    let mut out = Outcome::default();
    for root in &roots {
        if root.contains(['*', '?', '$']) {
            continue;
        }
        let Some(mut scan) = data_tree::scan(root, inv.lookup) else {
            continue;
        };
        scan.found
            .retain(|f| !excludes.iter().any(|e| glob_match(e, basename(&f.path))));
        let paths: Vec<String> = scan.found.iter().map(|f| f.path.clone()).collect();
        match inv.lookup.git_states(&paths) {
            Some(states) if states.len() == paths.len() => {
                let mut keep = states.iter().map(|s| match s {
                    GitState::Tracked => false,
                    GitState::Ignored => ignored_too || only_ignored,
                    GitState::Untracked => !only_ignored,
                });
                scan.found.retain(|_| keep.next().unwrap_or(true));
            }
            _ => {}
        }
        // Without -x/-X, a tree too large to look through is not a reason to fail closed:
        // databases are ignored files in nearly every project, and plain `git clean -f`
        // keeps those.
        if !(ignored_too || only_ignored) {
            scan.truncated = false;
        }
        report_tree(
            inv,
            &mut out,
            &scan,
            root,
            &format!("git clean {flags} deletes untracked files under {root}"),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{kinds_with, run, sqlite_bytes};
    use super::*;
    use crate::finding::FindingKind;
    use crate::lookup::MapLookup;

    #[test]
    fn recognizes() {
        let mut l = MapLookup::default();
        let db = sqlite_bytes();
        l.files.insert("prisma/dev.db".into(), db);
        l.files.insert("src/main.ts".into(), b"x".to_vec());
        let k = |c: &str| kinds_with(&RECOGNIZER, c, &l);
        assert_eq!(k("git clean -fdx"), [FindingKind::DeleteFiles]);
        assert_eq!(k("git -C . clean -f -X prisma"), [FindingKind::DeleteFiles]);
        for c in [
            "git clean -n -x",
            "git clean -dx",
            "git clean -fdx -e '*.db'",
            "git clean -fdx src",
            "git status",
        ] {
            assert!(k(c).is_empty(), "{c}");
        }
        assert!(run(&RECOGNIZER, "git clean -fdx").is_empty());
    }

    #[test]
    fn overwriting_a_tracked_database() {
        let mut l = MapLookup::default();
        l.files.insert("prisma/dev.db".into(), sqlite_bytes());
        l.files.insert("src/main.ts".into(), b"x".to_vec());
        let k = |c: &str| kinds_with(&RECOGNIZER, c, &l);
        for c in [
            "git reset --hard",
            "git reset --hard HEAD~3",
            "git checkout -- prisma/dev.db",
            "git checkout .",
            "git checkout -f main",
            "git checkout HEAD -- prisma",
            "git restore prisma/dev.db",
            "git restore --source=HEAD~1 --worktree .",
            "git switch --discard-changes main",
            "git -C prisma checkout -- dev.db",
        ] {
            assert_eq!(k(c), [FindingKind::DeleteFiles], "{c}");
        }
        for c in [
            "git reset --soft HEAD~1",
            "git reset HEAD prisma/dev.db",
            "git checkout main",
            "git checkout -b feature",
            "git checkout -- src/main.ts",
            "git restore --staged prisma/dev.db",
            "git switch main",
            "git stash",
        ] {
            assert!(k(c).is_empty(), "{c}");
        }
    }
}
