//! Deleting database files: `rm`/`unlink`/`shred` of SQLite files (by extension, or by the
//! `SQLite format 3\0` header when the file exists) and `rm -r` of PostgreSQL/MySQL data
//! directories (asked of the lookup, or well-known paths), or of any directory whose tree
//! holds databases ([`super::data_tree`]: SQLite files by header, data directories by their
//! marker files; a tree too large to look through is `unknown`). Also used by the analyzer
//! for `> app.db` truncating redirections.
//!
//! The same loss without `rm`: `find -name '*.db' -delete` / `-exec rm`, `truncate`,
//! `dd of=app.db`, and `cp`/`mv` onto a database file (emptied by `/dev/null`, or an
//! existing one replaced: existence comes from the lookup, so `cp app.db backup.db` to a
//! new file stays silent).

use crate::environment::glob_match;
use crate::finding::{Finding, FindingKind, Scope};
use crate::lookup::Lookup;
use crate::target::{Engine, TargetHint};

use super::{data_tree, Invocation, Outcome, Recognizer};
use crate::shell::parse::Word;
use crate::shell::words::{basename, Spec};

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "rm",
    programs: &["rm", "unlink", "shred", "find", "truncate", "cp", "mv", "dd", "tee"],
    engine: None,
    destructive_potential: false,
    recognize,
};

const SQLITE_EXT: &[&str] = &[".db", ".sqlite", ".sqlite3", ".db3", ".s3db", ".sl3"];
const COMPANIONS: &[&str] = &["", "-wal", "-shm", "-journal"];

/// Whether a file name ends like an SQLite database or one of its companion files.
pub fn has_sqlite_extension(path: &str) -> bool {
    let name = basename(path).trim_end_matches(['*', '?']).to_ascii_lowercase();
    SQLITE_EXT.iter().any(|ext| {
        COMPANIONS
            .iter()
            .any(|c| name.len() > ext.len() + c.len() && name.ends_with(&format!("{ext}{c}")))
    })
}

/// Why this path is an SQLite database file, if it is.
pub fn sqlite_file(path: &str, lookup: &dyn Lookup) -> Option<&'static str> {
    if has_sqlite_extension(path) {
        return Some("an SQLite database file (by its extension)");
    }
    match lookup.file_head(path) {
        Some(head) if head.starts_with(b"SQLite format 3\0") => Some("an SQLite database file (by its header)"),
        _ => None,
    }
}

/// Why this path is (or contains) a PostgreSQL/MySQL data directory, if it is.
pub fn data_dir(path: &str, lookup: &dyn Lookup) -> Option<&'static str> {
    if lookup.is_data_dir(path) == Some(true) {
        return Some("a database data directory");
    }
    let p = path.trim_end_matches('/').to_ascii_lowercase();
    const WELL_KNOWN: &[&str] = &[
        "/var/lib/postgresql",
        "/var/lib/pgsql",
        "/var/lib/mysql",
        "/var/lib/mariadb",
        "/usr/local/var/postgres",
        "/usr/local/var/mysql",
        "/opt/homebrew/var/postgres",
        "/opt/homebrew/var/mysql",
        // Docker/Podman named volumes: where compose databases keep their data.
        "/var/lib/docker/volumes",
        "/.local/share/docker/volumes",
        "/var/lib/containers/storage/volumes",
        "/.local/share/containers/storage/volumes",
    ];
    if WELL_KNOWN.iter().any(|w| p.contains(w)) {
        return Some("a PostgreSQL/MySQL data directory (well-known path)");
    }
    if matches!(
        p.as_str(),
        "" | "/" | "/var" | "/var/lib" | "/usr/local/var" | "/opt/homebrew/var" | "/*" | "/var/lib/docker"
    ) {
        return Some("a directory that contains the PostgreSQL/MySQL data directories");
    }
    let base = basename(&p).trim_start_matches('.');
    let base = base.strip_prefix('$').unwrap_or(base).trim_matches(['{', '}']);
    const NAMES: &[&str] = &[
        "pgdata",
        "pg_data",
        "postgres-data",
        "postgres_data",
        "postgresql-data",
        "postgresql_data",
        "mysql-data",
        "mysql_data",
        "mariadb-data",
        "mariadb_data",
        "postgres",
        "postgresql",
        "mysql",
    ];
    if NAMES.contains(&base) || (base.starts_with("pgdata") && base.len() <= 8) {
        return Some("a database data directory (by its name)");
    }
    None
}

/// `shred -n N -s N`; `-u`/`--remove[=HOW]` and `rm --interactive[=WHEN]` only take an
/// attached value.
const SPEC: Spec = Spec {
    short: "ns",
    long: &["iterations", "size", "random-source"],
    ..Spec::DEFAULT
};

fn recognize(inv: &Invocation) -> Outcome {
    match inv.program {
        "find" => return find(inv),
        "truncate" => return truncate(inv),
        "cp" | "mv" => return copy(inv),
        "dd" => return dd(inv),
        "tee" => return tee(inv),
        _ => {}
    }
    let a = inv.args(&SPEC);
    if a.has(&["--help", "--version"]) {
        return Outcome::default();
    }
    let recursive = inv.program == "rm" && a.has(&["-r", "-R", "--recursive"]);
    let mut out = Outcome::default();
    for w in &a.pos {
        let path = w.text.as_str();
        let (why, hint) = if let Some(why) = sqlite_file(path, inv.lookup) {
            let hint = TargetHint {
                file: Some(path.to_string()),
                engine: Some(Engine::Sqlite),
                ..TargetHint::default()
            };
            (why, hint)
        } else if let Some(why) = recursive.then(|| data_dir(path, inv.lookup)).flatten() {
            (why, data_tree::data_dir_hint(path, None))
        } else if w.dynamic && mentions_db(path) {
            out.findings.push(inv.unknown(
                inv.program,
                format!(
                    "{} deletes {path}, named at run time, which looks like a database path",
                    inv.program
                ),
            ));
            continue;
        } else {
            if recursive && !w.dynamic {
                tree(inv, &mut out, path, &format!("{} -r deletes {path}", inv.program));
            }
            continue;
        };
        out.findings.push(inv.finding(
            inv.program,
            FindingKind::DeleteFiles,
            Some(path.to_string()),
            format!("{} deletes {path}, {why}", inv.program),
            Scope::External,
        ));
        if out.hint.is_none() {
            out.hint = Some(hint);
        }
    }
    out
}

/// Most databases listed one by one for one tree; the rest are counted.
const MAX_LISTED: usize = 10;

/// The directory a path names for a tree walk: `data/*` and `*` stand for their directory.
fn tree_root(path: &str) -> Option<&str> {
    let root = match path {
        "*" | "./*" | ".*" => ".",
        p => p.strip_suffix("/*").unwrap_or(p),
    };
    (!root.contains(['*', '?', '['])).then_some(root)
}

/// Look through the tree at `path` (a command that deletes or replaces it, described by
/// `action`): one finding per database in it, or `unknown` when the tree is too large to
/// look through. Returns whether anything was reported.
pub fn tree(inv: &Invocation, out: &mut Outcome, path: &str, action: &str) -> bool {
    let Some(root) = tree_root(path) else { return false };
    if data_tree::regenerable(root) {
        return false;
    }
    let Some(scan) = data_tree::scan(root, inv.lookup) else {
        return false;
    };
    report_tree(inv, out, &scan, root, action)
}

/// Findings for a scanned tree (see [`tree`]).
pub fn report_tree(inv: &Invocation, out: &mut Outcome, scan: &data_tree::TreeScan, root: &str, action: &str) -> bool {
    for f in scan.found.iter().take(MAX_LISTED) {
        out.findings.push(inv.finding(
            inv.program,
            FindingKind::DeleteFiles,
            Some(f.path.clone()),
            format!("{action}, and with it {}, {}", f.path, f.kind.describe()),
            Scope::External,
        ));
    }
    if scan.found.len() > MAX_LISTED {
        out.findings.push(inv.finding(
            inv.program,
            FindingKind::DeleteFiles,
            Some(root.to_string()),
            format!("{action}, and with it {} more databases", scan.found.len() - MAX_LISTED),
            Scope::External,
        ));
    }
    if out.hint.is_none() {
        out.hint = data_tree::hint(&scan.found);
    }
    if scan.found.is_empty() && scan.truncated {
        out.findings.push(inv.unknown(
            inv.program,
            format!(
                "{action}: a tree too large to look through completely ({} entries or {} levels at most); \
no database was found in the part seen, but the rest cannot be known",
                data_tree::LIMITS.max_entries,
                data_tree::LIMITS.max_depth
            ),
        ));
        return true;
    }
    !scan.found.is_empty()
}

fn delete(inv: &Invocation, out: &mut Outcome, path: &str, detail: String) {
    out.findings.push(inv.finding(
        inv.program,
        FindingKind::DeleteFiles,
        Some(path.to_string()),
        detail,
        Scope::External,
    ));
    if out.hint.is_none() {
        out.hint = Some(TargetHint {
            file: Some(path.to_string()),
            engine: Some(Engine::Sqlite),
            ..TargetHint::default()
        });
    }
}

/// A path read from the lookup as written, or without a leading `./`.
pub fn exists(path: &str, lookup: &dyn Lookup) -> bool {
    lookup.file_head(path).is_some() || path.strip_prefix("./").is_some_and(|p| lookup.file_head(p).is_some())
}

/// `find PATH... [-name PAT] -delete | -exec rm {} +`: deletes every match; flagged when
/// the name pattern or a starting path is a database file or data directory.
fn find(inv: &Invocation) -> Outcome {
    let mut out = Outcome::default();
    let args = inv.args;
    let mut roots = Vec::new();
    let mut patterns: Vec<&str> = Vec::new();
    let mut deletes = false;
    let mut expr = false;
    let mut i = 0;
    while let Some(w) = args.get(i) {
        let t = w.text.as_str();
        i += 1;
        if !expr && matches!(t, "-H" | "-L" | "-P") {
            continue;
        }
        if !(expr || t.starts_with('-') || matches!(t, "(" | "!" | ")")) {
            roots.push(w);
            continue;
        }
        expr = true;
        match t {
            "-name" | "-iname" | "-path" | "-ipath" | "-wholename" | "-iwholename" | "-regex" | "-iregex"
            | "-lname" | "-ilname" => {
                if let Some(v) = args.get(i) {
                    patterns.push(v.text.as_str());
                }
                i += 1;
            }
            "-delete" => deletes = true,
            "-exec" | "-execdir" | "-ok" | "-okdir" => {
                let prog = args.get(i).map_or("", |w| basename(&w.text));
                let end = args[i..]
                    .iter()
                    .position(|w| w.text == ";" || w.text == "+")
                    .map_or(args.len(), |p| i + p);
                let inner = &args[i.min(end)..end];
                let shell_rm = matches!(prog, "sh" | "bash")
                    && inner
                        .iter()
                        .any(|w| w.text.contains("rm ") || w.text.contains("unlink "));
                if matches!(prog, "rm" | "unlink" | "shred" | "truncate") || shell_rm {
                    deletes = true;
                }
                i = end + 1;
            }
            // Other tests and their values (`-type f`, `-mtime +7`) do not matter here.
            _ => {}
        }
    }
    if !deletes {
        return out;
    }
    let root_names: Vec<&str> = roots.iter().map(|w| w.text.as_str()).collect();
    for p in &patterns {
        let plain = p.replace('\\', "");
        let plain = plain.trim_end_matches(['$', '*', '?', ')']);
        if sqlite_file(plain, &crate::lookup::NoLookup).is_some() || data_dir(plain, inv.lookup).is_some() {
            let detail = format!("find deletes every file matching {p}: SQLite database files");
            delete(inv, &mut out, p, detail);
            return out;
        }
    }
    for r in &root_names {
        if let Some(why) = sqlite_file(r, inv.lookup).or_else(|| data_dir(r, inv.lookup)) {
            delete(inv, &mut out, r, format!("find deletes files under {r}, {why}"));
            return out;
        }
    }
    // Databases in the trees it walks: those its name tests can match (all of them when
    // it has none, or negates one).
    let negated = args.iter().any(|w| matches!(w.text.as_str(), "!" | "-not"));
    let starts: Vec<&str> = if roots.is_empty() {
        vec!["."]
    } else {
        root_names.clone()
    };
    for r in starts.iter().filter(|r| !r.contains('$')) {
        if data_tree::regenerable(r) {
            continue;
        }
        let Some(mut scan) = data_tree::scan(r, inv.lookup) else {
            continue;
        };
        if !patterns.is_empty() && !negated {
            scan.found.retain(|f| {
                patterns
                    .iter()
                    .any(|p| glob_match(p, basename(&f.path)) || glob_match(p, &f.path))
            });
            if scan.found.is_empty() {
                // Name tests that no database matches: the rest of the tree is not at risk.
                scan.truncated = false;
            }
        }
        if report_tree(inv, &mut out, &scan, r, &format!("find deletes files under {r}")) {
            return out;
        }
    }
    if roots.iter().any(|w| w.dynamic && mentions_db(&w.text))
        || patterns.iter().any(|p| p.contains('$') && mentions_db(p))
    {
        out.findings.push(inv.unknown(
            "find",
            "find deletes files named at run time, which look like database files".into(),
        ));
    }
    out
}

/// `truncate -s 0 app.db`: empties (or cuts) the file; growing it (`-s +1M`) is harmless.
fn truncate(inv: &Invocation) -> Outcome {
    let spec = Spec {
        short: "sr",
        long: &["size", "reference"],
        ..Spec::DEFAULT
    };
    let a = inv.args(&spec);
    let mut out = Outcome::default();
    if a.value(&["-s", "--size"]).is_some_and(|v| v.starts_with('+')) || a.has(&["--help", "--version"]) {
        return out;
    }
    for w in &a.pos {
        if let Some(why) = sqlite_file(&w.text, inv.lookup) {
            delete(inv, &mut out, &w.text, format!("truncate cuts {}, {why}", w.text));
        }
    }
    out
}

fn is_device(src: &str) -> bool {
    matches!(src, "/dev/null" | "/dev/zero" | "/dev/random" | "/dev/urandom")
}

/// `cp SRC... DEST`, `mv SRC... DEST`, `-t DIR`: the destination database file is replaced.
fn copy(inv: &Invocation) -> Outcome {
    // `--backup`, `--reflink`... take their value only with `=`.
    let spec = Spec {
        short: "tS",
        long: &["target-directory", "suffix"],
        ..Spec::DEFAULT
    };
    let a = inv.args(&spec);
    let mut out = Outcome::default();
    // `-n` keeps the existing file; `-b` backs it up first.
    if a.has(&["--help", "--version", "-n", "--no-clobber", "-b", "--backup"]) {
        return out;
    }
    let (sources, dests): (Vec<&Word>, Vec<String>) = match a.value(&["-t", "--target-directory"]) {
        Some(dir) => {
            let dests = a
                .pos
                .iter()
                .map(|w| format!("{}/{}", dir.trim_end_matches('/'), basename(&w.text)))
                .collect();
            (a.pos.iter().collect(), dests)
        }
        None => {
            let Some((dest, srcs)) = a.pos.split_last() else {
                return out;
            };
            if srcs.is_empty() || dest.dynamic {
                return out;
            }
            let dests = if dest.text.ends_with('/') {
                srcs.iter()
                    .map(|w| format!("{}{}", dest.text, basename(&w.text)))
                    .collect()
            } else {
                vec![dest.text.clone()]
            };
            (srcs.iter().collect(), dests)
        }
    };
    let from_device = sources.iter().any(|w| is_device(&w.text));
    let verb = if inv.program == "mv" { "moves" } else { "copies" };
    for d in &dests {
        if sources.iter().any(|s| &s.text == d) {
            continue;
        }
        if from_device {
            if let Some(why) = sqlite_file(d, inv.lookup) {
                let detail = format!("{} {verb} an empty device onto {d}, emptying {why}", inv.program);
                delete(inv, &mut out, d, detail);
            }
        } else if exists(d, inv.lookup) {
            if let Some(why) = sqlite_file(d, inv.lookup) {
                let detail = format!(
                    "{} {verb} another file over {d}, {why}: its data is replaced",
                    inv.program
                );
                delete(inv, &mut out, d, detail);
            }
        }
    }
    out
}

/// `dd if=X of=app.db`: overwrites the database file (from a device, or over an existing one).
fn dd(inv: &Invocation) -> Outcome {
    let mut out = Outcome::default();
    let operand = |k: &str| {
        inv.args
            .iter()
            .rev()
            .find_map(|w| w.text.strip_prefix(k).and_then(|r| r.strip_prefix('=')))
    };
    let Some(of) = operand("of") else { return out };
    let from_device = operand("if").is_none_or(is_device);
    if from_device || exists(of, inv.lookup) {
        if let Some(why) = sqlite_file(of, inv.lookup) {
            delete(inv, &mut out, of, format!("dd overwrites {of}, {why}"));
        }
    }
    out
}

/// `tee FILE` (without `-a`) truncates FILE before writing to it.
fn tee(inv: &Invocation) -> Outcome {
    let a = inv.args(&Spec::DEFAULT);
    let mut out = Outcome::default();
    if a.has(&["-a", "--append", "--help", "--version"]) {
        return out;
    }
    for w in a.pos.iter().filter(|w| !w.dynamic) {
        if exists(&w.text, inv.lookup) {
            if let Some(why) = sqlite_file(&w.text, inv.lookup) {
                delete(inv, &mut out, &w.text, format!("tee overwrites {}, {why}", w.text));
            }
        }
    }
    out
}

fn mentions_db(s: &str) -> bool {
    let l = s.to_ascii_lowercase();
    ["db", "database", "sqlite", "pgdata", "postgres", "mysql"]
        .iter()
        .any(|k| l.contains(k))
}

/// `> app.db`: a truncating redirection onto a database file.
pub fn truncation(path: &str, statement: &str, lookup: &dyn Lookup) -> Option<Finding> {
    let why = sqlite_file(path, lookup)?;
    Some(
        Finding::new(
            FindingKind::DeleteFiles,
            Some(path.to_string()),
            format!("the redirection > {path} truncates {why}"),
            Scope::External,
        )
        .with_tool("shell")
        .with_statement(statement, None),
    )
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{run, run_with};
    use super::super::Input;
    use super::*;
    use crate::lookup::MapLookup;

    #[test]
    fn sqlite_files() {
        assert_eq!(run(&RECOGNIZER, "rm -f app.db"), [FindingKind::DeleteFiles]);
        assert_eq!(
            run(&RECOGNIZER, "rm prisma/dev.sqlite3 dev.db-wal"),
            [FindingKind::DeleteFiles, FindingKind::DeleteFiles]
        );
        assert!(run(&RECOGNIZER, "rm notes.txt db.rs").is_empty());
        let mut l = MapLookup::default();
        l.files.insert("data/store".into(), b"SQLite format 3\0rest".to_vec());
        let o = run_with(&RECOGNIZER, "rm data/store", &l, &Input::Terminal);
        assert_eq!(o.findings.len(), 1);
    }

    #[test]
    fn data_dirs() {
        assert_eq!(
            run(&RECOGNIZER, "rm -rf /var/lib/postgresql/16/main"),
            [FindingKind::DeleteFiles]
        );
        assert_eq!(run(&RECOGNIZER, "rm -rf ./pgdata"), [FindingKind::DeleteFiles]);
        assert!(run(&RECOGNIZER, "rm pgdata").is_empty());
        assert!(run(&RECOGNIZER, "rm -rf node_modules build").is_empty());
        let l = MapLookup {
            data_dirs: vec!["srv/cluster".into()],
            ..MapLookup::default()
        };
        assert_eq!(
            run_with(&RECOGNIZER, "rm -r srv/cluster/", &l, &Input::Terminal)
                .findings
                .len(),
            1
        );
    }
}
