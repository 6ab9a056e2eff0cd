//! rsync: `--delete` (and its variants) into a directory that holds databases deletes the
//! files the source lacks and replaces the others; any rsync onto an existing SQLite file
//! replaces its data. `--dry-run` and `--backup` (the replaced files are kept) are not
//! flagged; a remote destination (`host:path`) cannot be seen and is not flagged.

use crate::finding::FindingKind;
use crate::finding::Scope;
use crate::target::{Engine, TargetHint};

use super::files::{data_dir, report_tree, sqlite_file};
use super::{data_tree, Invocation, Outcome, Recognizer};
use crate::shell::words::Spec;

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "rsync",
    programs: &["rsync"],
    engine: None,
    destructive_potential: false,
    recognize,
};

const SPEC: Spec = Spec {
    short: "efBTM",
    long: &[
        "rsh",
        "filter",
        "exclude",
        "include",
        "exclude-from",
        "include-from",
        "files-from",
        "rsync-path",
        "temp-dir",
        "compare-dest",
        "copy-dest",
        "link-dest",
        "backup-dir",
        "suffix",
        "chmod",
        "chown",
        "log-file",
        "partial-dir",
        "password-file",
        "timeout",
        "contimeout",
        "port",
        "max-size",
        "min-size",
        "max-delete",
        "modify-window",
        "bwlimit",
        "out-format",
        "info",
        "debug",
        "compress-level",
        "skip-compress",
        "usermap",
        "groupmap",
        "block-size",
        "checksum-choice",
        "sockopts",
        "iconv",
        "remote-option",
    ],
    ..Spec::DEFAULT
};

fn recognize(inv: &Invocation) -> Outcome {
    let a = inv.args(&SPEC);
    let mut out = Outcome::default();
    if a.has(&[
        "--help",
        "--version",
        "-n",
        "--dry-run",
        "-b",
        "--backup",
        "--list-only",
    ]) {
        return out;
    }
    let Some((dest, srcs)) = a.pos.split_last() else {
        return out;
    };
    if srcs.is_empty() || dest.dynamic || is_remote(&dest.text) {
        return out;
    }
    let dest = dest.text.as_str();
    let deletes = a.opts.iter().any(|o| o.name.starts_with("--del"));
    // Onto one existing SQLite file: its data is replaced.
    if !dest.ends_with('/') && inv.lookup.file_head(dest).is_some() {
        if let Some(why) = sqlite_file(dest, inv.lookup) {
            out.findings.push(inv.finding(
                "rsync",
                FindingKind::DeleteFiles,
                Some(dest.to_string()),
                format!("rsync replaces {dest}, {why}, with another file"),
                Scope::External,
            ));
            out.hint = Some(TargetHint {
                file: Some(dest.to_string()),
                engine: Some(Engine::Sqlite),
                ..TargetHint::default()
            });
            return out;
        }
    }
    if !deletes {
        return out;
    }
    if let Some(why) = data_dir(dest, inv.lookup) {
        out.findings.push(inv.finding(
            "rsync",
            FindingKind::DeleteFiles,
            Some(dest.to_string()),
            format!("rsync --delete into {dest}, {why}, deletes or replaces its files"),
            Scope::External,
        ));
        out.hint = Some(data_tree::data_dir_hint(dest, None));
        return out;
    }
    if data_tree::regenerable(dest) {
        return out;
    }
    if let Some(scan) = data_tree::scan(dest, inv.lookup) {
        report_tree(
            inv,
            &mut out,
            &scan,
            dest,
            &format!("rsync --delete makes {dest} a copy of the source, deleting or replacing what is there"),
        );
    }
    out
}

/// `host:path`, `user@host:path`, `rsync://...`: not on this machine.
fn is_remote(p: &str) -> bool {
    p.contains("://") || p.split('/').next().is_some_and(|first| first.contains(':'))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{kinds_with, run, sqlite_bytes};
    use super::*;
    use crate::lookup::MapLookup;

    #[test]
    fn recognizes() {
        let mut l = MapLookup::default();
        let db = sqlite_bytes();
        l.files.insert("data/app.db".into(), db);
        l.files.insert("pgdata/PG_VERSION".into(), b"16\n".to_vec());
        let k = |c: &str| kinds_with(&RECOGNIZER, c, &l);
        assert_eq!(k("rsync -a --delete backup/ data/"), [FindingKind::DeleteFiles]);
        assert_eq!(
            k("rsync -av --delete-after restore/ pgdata/"),
            [FindingKind::DeleteFiles]
        );
        assert_eq!(k("rsync old.db data/app.db"), [FindingKind::DeleteFiles]);
        for c in [
            "rsync -a --delete src/ dist/",
            "rsync -a backup/ data/",
            "rsync -an --delete backup/ data/",
            "rsync -a --delete data/ host:/backup/",
        ] {
            assert!(k(c).is_empty(), "{c}");
        }
        assert!(run(&RECOGNIZER, "rsync -a --delete a/ b/").is_empty());
    }
}
