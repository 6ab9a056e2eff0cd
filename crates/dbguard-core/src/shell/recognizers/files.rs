//! Deleting database files: `rm`/`unlink`/`shred` of SQLite files (by extension, or by the
//! `SQLite format 3\0` header when the file exists) and `rm -r` of PostgreSQL/MySQL data
//! directories (asked of the lookup, or well-known paths). Also used by the analyzer for
//! `> app.db` truncating redirections.

use crate::finding::{Finding, FindingKind, Scope};
use crate::lookup::Lookup;
use crate::target::{Engine, TargetHint};

use super::{Invocation, Outcome, Recognizer};
use crate::shell::words::{basename, Spec};

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "rm",
    programs: &["rm", "unlink", "shred"],
    engine: None,
    destructive_potential: false,
    recognize,
};

const SQLITE_EXT: &[&str] = &[".db", ".sqlite", ".sqlite3", ".db3", ".s3db", ".sl3"];
const COMPANIONS: &[&str] = &["", "-wal", "-shm", "-journal"];

/// Why this path is an SQLite database file, if it is.
pub fn sqlite_file(path: &str, lookup: &dyn Lookup) -> Option<&'static str> {
    let name = basename(path).trim_end_matches(['*', '?']).to_ascii_lowercase();
    for ext in SQLITE_EXT {
        for c in COMPANIONS {
            if name.len() > ext.len() + c.len() && name.ends_with(&format!("{ext}{c}")) {
                return Some("an SQLite database file (by its extension)");
            }
        }
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
    ];
    if WELL_KNOWN.iter().any(|w| p.contains(w)) {
        return Some("a PostgreSQL/MySQL data directory (well-known path)");
    }
    if matches!(
        p.as_str(),
        "" | "/" | "/var" | "/var/lib" | "/usr/local/var" | "/opt/homebrew/var" | "/*"
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

const SPEC: Spec = Spec {
    short: "nsu",
    long: &["iterations", "size", "random-source", "interactive"],
    ..Spec::DEFAULT
};

fn recognize(inv: &Invocation) -> Outcome {
    let a = inv.args(&SPEC);
    if a.has(&["--help", "--version"]) {
        return Outcome::default();
    }
    let recursive = inv.program == "rm" && a.has(&["-r", "-R", "--recursive"]);
    let mut out = Outcome::default();
    for w in &a.pos {
        let path = w.text.as_str();
        let (why, engine) = if let Some(why) = sqlite_file(path, inv.lookup) {
            (why, Some(Engine::Sqlite))
        } else if let Some(why) = recursive.then(|| data_dir(path, inv.lookup)).flatten() {
            (why, None)
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
            out.hint = Some(TargetHint {
                file: Some(path.to_string()),
                engine,
                ..TargetHint::default()
            });
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
