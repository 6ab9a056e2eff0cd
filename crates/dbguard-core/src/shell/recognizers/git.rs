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

use super::files::report_tree;
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
    if inv.args.get(start).map(|w| w.text.as_str()) != Some("clean") {
        return Outcome::default();
    }
    let chdir = crate::shell::words::Args::parse(&inv.args[..start], &GLOBAL)
        .value(&["-C"])
        .map(str::to_string);
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
    if let Some(c) = &chdir {
        roots = roots
            .iter()
            .map(|r| match (c.as_str(), r.as_str()) {
                (".", _) => r.clone(),
                (_, ".") => c.clone(),
                _ => format!("{}/{r}", c.trim_end_matches('/')),
            })
            .collect();
    }
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
}
