//! The keyword prefilter: one pass over the bytes (aho-corasick, case-insensitive) that says
//! whether a file could hold anything the rules look for, before any parse.
//!
//! Two strengths of marker. Strong markers are specific: SQL that destroys (`DROP TABLE`,
//! `TRUNCATE x`, `DELETE FROM`, `UPDATE x SET`, `ALTER TABLE`, checked word by word after the
//! keyword) and the names of bulk and raw-SQL APIs that ordinary code does not use
//! (`deleteMany`, `delete_all`, `$executeRaw`, `drop_all`...). Weak markers are common method
//! names that are destructive only on a database object (`.delete(`, `.clear(`, `.query(`,
//! `.exec(`, `destroy(`, `unlink`...). A small file (a script someone wrote) is parsed on any
//! marker; a large one (a bundle) only on a strong marker, so `node dist/server.js` on a
//! multi-megabyte bundle costs one scan, not a parse.

use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

/// Files up to this size are parsed on any marker; larger ones only on a strong one.
pub const SMALL_FILE: usize = 256 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Markers {
    None,
    Weak,
    Strong,
}

/// SQL keywords checked against the words that follow them.
const SQL_VERBS: &[&str] = &["drop", "truncate", "delete", "update", "alter"];

/// API names that are strong markers on their own.
const STRONG: &[&str] = &[
    "deletemany",
    "delete_many",
    "updatemany",
    "update_many",
    "delete_all",
    "destroy_all",
    "drop_all",
    "dropall",
    "droptable",
    "drop_table",
    "dropdatabase",
    "drop_database",
    "dropcollection",
    "drop_collection",
    "dropschema",
    "synchronize",
    "flushall",
    "flushdb",
    "bulkdelete",
    "cleartable",
    "truncate_table",
    "executeraw",
    "queryraw",
    "executescript",
    "exec_driver_sql",
    "call_command",
    "force:",
    "truncate:",
];

/// Common names that matter only on database objects.
const WEAK: &[&str] = &[
    ".delete(",
    ".del(",
    ".delete\n",
    ".clear(",
    ".drop(",
    "destroy(",
    ".sync(",
    ".truncate(",
    ".query(",
    ".execute(",
    ".exec(",
    ".raw(",
    ".unsafe(",
    ".run(",
    ".prepare(",
    "sql`",
    "execute ",
    "text(",
    "unlink",
    "rmsync",
    "rmtree",
    "rm_rf",
    "remove(",
    "execsync",
    "spawnsync",
    "execfile",
    "spawn(",
    "exec(",
    "system(",
    "subprocess",
    "popen",
    "`",
    "%x",
];

fn automaton() -> &'static (AhoCorasick, usize, usize) {
    static AC: OnceLock<(AhoCorasick, usize, usize)> = OnceLock::new();
    AC.get_or_init(|| {
        let mut pats: Vec<&str> = SQL_VERBS.to_vec();
        pats.extend_from_slice(STRONG);
        pats.extend_from_slice(WEAK);
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(&pats)
            .expect("prefilter patterns");
        (ac, SQL_VERBS.len(), SQL_VERBS.len() + STRONG.len())
    })
}

/// The strongest marker in `bytes`. Stops at the first strong one.
pub fn scan(bytes: &[u8]) -> Markers {
    let (ac, verbs, strong_end) = automaton();
    let mut best = Markers::None;
    for m in ac.find_overlapping_iter(bytes) {
        let id = m.pattern().as_usize();
        if id < *verbs {
            if sql_follows(bytes, m.start(), m.end(), id) {
                return Markers::Strong;
            }
        } else if id < *strong_end {
            return Markers::Strong;
        } else {
            best = Markers::Weak;
        }
    }
    best
}

/// Whether the file should be parsed.
pub fn worth_parsing(bytes: &[u8]) -> bool {
    match scan(bytes) {
        Markers::Strong => true,
        Markers::Weak => bytes.len() <= SMALL_FILE,
        Markers::None => false,
    }
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Skip spaces, tabs, newlines and string-breaking characters (`' + '`, `" "`) that split
/// a statement across literals.
fn skip_gap(bytes: &[u8], mut i: usize) -> usize {
    let start = i;
    while i < bytes.len() && i - start < 64 {
        match bytes[i] {
            b' ' | b'\t' | b'\r' | b'\n' | b'\'' | b'"' | b'`' | b'+' | b'\\' => i += 1,
            _ => break,
        }
    }
    i
}

fn word_at(bytes: &[u8], i: usize) -> &[u8] {
    let mut j = i;
    while j < bytes.len() && j - i < 24 && is_word(bytes[j]) {
        j += 1;
    }
    &bytes[i..j]
}

/// After an SQL verb at `start..end`, does SQL follow? `drop table`, `truncate users`,
/// `delete from`, `update users set`, `alter table`.
fn sql_follows(bytes: &[u8], start: usize, end: usize, verb: usize) -> bool {
    if start > 0 && is_word(bytes[start - 1]) {
        return false;
    }
    if end < bytes.len() && is_word(bytes[end]) {
        return false;
    }
    let next = skip_gap(bytes, end);
    if next == end {
        return false;
    }
    let w = word_at(bytes, next).to_ascii_lowercase();
    match SQL_VERBS[verb] {
        "drop" => matches!(
            w.as_slice(),
            b"table" | b"database" | b"schema" | b"owned" | b"extension" | b"column" | b"if" | b"collection"
        ),
        "truncate" => {
            // `TRUNCATE users`, `TRUNCATE TABLE`, `TRUNCATE "users"`, `TRUNCATE ${t}`.
            !w.is_empty()
                && !matches!(
                    w.as_slice(),
                    b"the" | b"a" | b"an" | b"to" | b"it" | b"text" | b"and" | b"or"
                )
                || matches!(bytes.get(next), Some(b'"' | b'$' | b'{' | b'['))
        }
        "delete" => w == b"from",
        "alter" => w == b"table",
        "update" => {
            // `UPDATE <name> SET`: the word after the next one.
            let mut j = next;
            if matches!(bytes.get(j), Some(b'$' | b'{' | b'"' | b'[')) {
                while j < bytes.len() && j - next < 64 && !bytes[j].is_ascii_whitespace() {
                    j += 1;
                }
            } else {
                j += w.len();
                while j < bytes.len() && (bytes[j] == b'.' || is_word(bytes[j])) {
                    j += 1;
                }
            }
            let k = skip_gap(bytes, j);
            k > j && word_at(bytes, k).eq_ignore_ascii_case(b"set")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strong_weak_none() {
        assert_eq!(scan(b"await client.query('TRUNCATE users CASCADE')"), Markers::Strong);
        assert_eq!(scan(b"sql`DROP   TABLE ${t}`"), Markers::Strong);
        assert_eq!(scan(b"q = 'DELETE ' + 'FROM users'"), Markers::Strong);
        assert_eq!(scan(b"UPDATE accounts SET x = 1"), Markers::Strong);
        assert_eq!(scan(b"update \"accounts\" set x = 1"), Markers::Strong);
        assert_eq!(scan(b"prisma.user.deleteMany()"), Markers::Strong);
        assert_eq!(scan(b"User.destroy_all"), Markers::Strong);
        assert_eq!(scan(b"delete obj.key; map.delete(k)"), Markers::Weak);
        assert_eq!(scan(b"function update(x) { return x }"), Markers::None);
        assert_eq!(scan(b"const dropdown = truncated(s)"), Markers::None);
        assert_eq!(scan(b"console.log('hello world')"), Markers::None);
    }

    #[test]
    fn big_files_need_strong_markers() {
        let mut big = b"map.delete(k);\n".repeat(SMALL_FILE / 10);
        assert!(!worth_parsing(&big));
        big.extend_from_slice(b"db.query(\"DROP TABLE users\")");
        assert!(worth_parsing(&big));
        assert!(worth_parsing(b"map.delete(k)"));
    }
}
