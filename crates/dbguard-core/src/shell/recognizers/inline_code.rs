//! Interpreters: inline code (`python -c`, `node -e`/`--eval`/`-p`, `ruby -e`, `deno eval`,
//! `bun -e`), code on standard input (`python - <<EOF`), and the script file they run
//! (`node scripts/cleanup.js`, [`super::script_file`]). The ORM consoles (`rails runner`,
//! `manage.py shell -c`) use [`code`] too.
//!
//! JavaScript, TypeScript, Python and Ruby go through the script analysis
//! ([`crate::script`]): real parsers, SQL handed to raw-SQL calls through the SQL core, the
//! ORMs' bulk destroyers; text that is only printed is data (`python -c "print('DROP TABLE
//! users')"` finds nothing). PHP and Perl (`php -r`, `artisan tinker`, `perl -e`) have no
//! parser here and keep the marker scan ([`scan`]): code that contains a destructive ORM
//! call, destructive SQL keywords, a flush, or deletes a file named like a database is
//! Unknown.

use crate::finding::Finding;
use crate::script::{self, Lang};

use super::{Input, Invocation, Outcome, Recognizer};

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "code",
    programs: &[
        "python", "node", "nodejs", "ts-node", "tsx", "ruby", "deno", "bun", "php", "perl",
    ],
    engine: None,
    destructive_potential: false,
    recognize,
};

/// Markers of data destruction in any language (matched on lower-cased code with
/// whitespace removed).
const DESTRUCTIVE: &[&str] = &[
    // SQL
    "droptable",
    "dropdatabase",
    "dropschema",
    "deletefrom",
    "truncate",
    "dropcollection",
    // ORMs: ActiveRecord, Django, SQLAlchemy, Prisma, Sequelize, TypeORM, Knex, Eloquent, Mongo
    "delete_all",
    "destroy_all",
    ".delete()",
    "->delete()",
    "drop_all",
    "drop_table",
    "deletemany(",
    "destroy({",
    "sync({force:true",
    ".drop()",
    ".del()",
    "schema::drop",
    "dropifexists",
    "forcedelete",
    "call_command('flush'",
    "call_command(\"flush\"",
    "reset_db",
    "purge_all",
    // key-value stores
    "flushall",
    "flushdb",
];

/// File deletions that matter when the code also names a database file.
const FILE_DELETE: &[&str] = &[
    "unlink",
    "os.remove(",
    "rmsync(",
    "rmtree(",
    "rm_rf",
    "rm_f",
    "file.delete(",
    "fileutils.rm",
    "remove(",
    "deno.remove(",
    "fs.rm(",
];

const DB_FILE: &[&str] = &[".db", ".sqlite", "pgdata"];

/// The marker that makes this code destructive, if any.
pub fn scan(code: &str) -> Option<&'static str> {
    let compact: String = code
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect();
    if let Some(m) = DESTRUCTIVE.iter().find(|m| compact.contains(*m)) {
        return Some(m);
    }
    if DB_FILE.iter().any(|d| compact.contains(d)) {
        return FILE_DELETE.iter().find(|m| compact.contains(*m)).copied();
    }
    None
}

/// Findings for code that `runner` runs (`rails runner`, `manage.py shell -c`, `node -e`):
/// parsed when the language is known, else the marker scan.
pub fn code(inv: &Invocation, tool: &str, runner: &str, code: &str, lang: Option<Lang>) -> Vec<Finding> {
    let Some(lang) = lang else {
        return finding(inv, tool, runner, code).into_iter().collect();
    };
    script::nested(|| script::analyze_inline(code, lang, inv.lookup))
        .unwrap_or_default()
        .into_iter()
        .map(|mut f| {
            f.detail = format!("{runner}: {}", f.detail);
            if f.statement.is_none() {
                f.statement = Some(inv.statement.to_string());
            }
            f
        })
        .collect()
}

/// Code a console or interpreter reads on standard input, parsed when the language is known.
pub fn stdin_code(inv: &Invocation, tool: &str, runner: &str, lang: Option<Lang>) -> Vec<Finding> {
    match inv.stdin {
        Input::Text(t) => code(inv, tool, runner, t, lang),
        _ => Vec::new(),
    }
}

/// An Unknown finding for code that runs through `runner` (e.g. "artisan tinker"), by marker.
pub fn finding(inv: &Invocation, tool: &str, runner: &str, code: &str) -> Option<Finding> {
    let marker = scan(code)?;
    Some(inv.unknown(
        tool,
        format!("{runner} runs code that may destroy data (it contains `{marker}`); what it does cannot be known in advance"),
    ))
}

/// Code a console reads on standard input (`echo 'User.delete_all' | rails console`).
pub fn stdin_finding(inv: &Invocation, tool: &str, runner: &str) -> Option<Finding> {
    match inv.stdin {
        Input::Text(t) => finding(inv, tool, runner, t),
        _ => None,
    }
}

/// The inline code of an interpreter invocation: the value of its code option.
fn inline_code<'a>(inv: &'a Invocation) -> Option<&'a str> {
    // Options whose value is the next word, per interpreter.
    let values: &[&str] = match inv.program {
        "php" => &["-d", "-c", "-z"],
        "ruby" => &["-r", "-I", "-C"],
        "perl" => &["-I", "-M", "-m"],
        p if p.starts_with("python") || p == "py" || p.starts_with("pypy") => &["-W", "-X"],
        _ => &[
            "-r",
            "--require",
            "--import",
            "--loader",
            "--experimental-loader",
            "-C",
            "--conditions",
            "--input-type",
            "--env-file",
            "--project",
            "-P",
        ],
    };
    let flags: &[&str] = match inv.program {
        "php" => &["-r"],
        "deno" => {
            let i = inv.args.iter().position(|w| w.text == "eval")?;
            return inv.args[i + 1..]
                .iter()
                .find(|w| !w.text.starts_with('-'))
                .map(|w| w.text.as_str());
        }
        p if p.starts_with("python") || p == "py" || p.starts_with("pypy") => &["-c"],
        "ruby" | "perl" => &["-e", "-E"],
        _ => &["-e", "--eval", "-p", "--print"],
    };
    let mut i = 0;
    while let Some(w) = inv.args.get(i) {
        let t = w.text.as_str();
        i += 1;
        if t == "--" || !t.starts_with('-') {
            // Options end at the script (or code) operand.
            return None;
        }
        if let Some((name, v)) = t.split_once('=').filter(|(n, _)| n.starts_with("--")) {
            if flags.contains(&name) {
                return Some(v);
            }
            continue;
        }
        if flags.contains(&t) {
            return inv.args.get(i).map(|w| w.text.as_str());
        }
        if values.contains(&t) {
            i += 1;
            continue;
        }
        // A short cluster ending in the code flag (`python -Bc CODE`, `perl -ne CODE`),
        // or with the code attached (`-eCODE`).
        if !t.starts_with("--") {
            for f in flags.iter().filter(|f| f.len() == 2) {
                let letter = &f[1..];
                if t.ends_with(letter) {
                    return inv.args.get(i).map(|w| w.text.as_str());
                }
                if let Some(at) = t[1..].find(letter) {
                    if at + 2 < t.len() && t[1..at + 1].chars().all(|c| c.is_ascii_alphabetic()) {
                        return Some(&t[at + 2..]);
                    }
                }
            }
        }
    }
    None
}

fn recognize(inv: &Invocation) -> Outcome {
    let mut out = Outcome::default();
    let lang = Lang::of_program(inv.program);
    if let Some(c) = inline_code(inv) {
        let runner = format!("{} inline code", inv.program);
        out.findings.extend(code(inv, inv.program, &runner, c, lang));
    } else if inv.args.iter().all(|w| w.text.starts_with('-')) {
        // No script operand (or `-`): the interpreter runs its standard input
        // (`python - <<EOF ... EOF`).
        let runner = format!("{} (code on standard input)", inv.program);
        out.findings.extend(stdin_code(inv, inv.program, &runner, lang));
    } else {
        out.findings.extend(super::script_file::findings(inv));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::test_support::run;
    use super::*;
    use crate::finding::FindingKind;

    #[test]
    fn markers() {
        assert_eq!(scan("User.objects.all().delete()"), Some(".delete()"));
        assert_eq!(scan("await prisma.user.deleteMany({})"), Some("deletemany("));
        assert_eq!(scan("fs.unlinkSync('prisma/dev.db')"), Some("unlink"));
        assert_eq!(scan("fs.unlinkSync('notes.txt')"), None);
        assert_eq!(scan("print(1)"), None);
    }

    #[test]
    fn interpreters() {
        assert_eq!(
            run(&RECOGNIZER, "python -c 'import os; os.remove(\"app.db\")'"),
            [FindingKind::DeleteFiles]
        );
        assert_eq!(
            run(&RECOGNIZER, "node -e \"db.query('DROP TABLE users')\""),
            [FindingKind::DropTable]
        );
        assert_eq!(run(&RECOGNIZER, "ruby -e 'User.delete_all'"), [FindingKind::DeleteAll]);
        assert_eq!(
            run(&RECOGNIZER, "deno eval 'await kv.delete_all()'"),
            [FindingKind::DeleteAll]
        );
        assert!(run(&RECOGNIZER, "python -c \"print('DROP TABLE users')\"").is_empty());
        assert!(run(&RECOGNIZER, "node -e \"console.log('TRUNCATE users')\"").is_empty());
        assert!(run(&RECOGNIZER, "python -c 'print(1)'").is_empty());
        assert!(run(&RECOGNIZER, "python script.py -c 'DROP TABLE x'").is_empty());
        assert!(run(&RECOGNIZER, "node -e 'console.log(process.version)'").is_empty());
    }
}
