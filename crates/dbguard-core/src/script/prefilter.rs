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
    "update_all",
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

/// Only the strong markers, for large files (where a weak one changes nothing): no weak
/// pattern (a backtick in every template literal of a bundle) is matched at all. The search
/// runs case-sensitively over a lowercased copy, which lets aho-corasick use its SIMD
/// prefilter (a case-insensitive automaton walks every byte: 10 ms for a 5 MB bundle, against
/// about 1 ms this way); leftmost-longest, so `delete_all` wins over the verb `delete`.
fn strong_automaton() -> &'static AhoCorasick {
    static AC: OnceLock<AhoCorasick> = OnceLock::new();
    AC.get_or_init(|| {
        let mut pats: Vec<&str> = SQL_VERBS.to_vec();
        pats.extend_from_slice(STRONG);
        AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&pats)
            .expect("strong prefilter patterns")
    })
}

/// Whether `bytes` hold a strong marker (what [`scan`] would answer `Strong` for).
pub fn has_strong(bytes: &[u8]) -> bool {
    let mut scan = StrongScan::default();
    bytes.chunks(64 * 1024).any(|c| scan.feed(c)) || scan.finish()
}

/// The strong-marker search over a file fed in chunks (the edge reads a bundle through a
/// small buffer and reads it whole only when it must be parsed). Each chunk is lowercased
/// behind the bytes carried over from the last one; a match is judged once the bytes after
/// it (`sql_follows`' look-ahead) have arrived.
#[derive(Default)]
pub struct StrongScan {
    buf: Vec<u8>,
    /// `buf[0]` is the byte before the unjudged part, kept only for `sql_follows`.
    carried: bool,
}

/// More than the longest pattern plus `sql_follows`' look-ahead.
const LOOK_AHEAD: usize = 512;

impl StrongScan {
    /// Feed the next chunk; true when a strong marker was found.
    pub fn feed(&mut self, chunk: &[u8]) -> bool {
        self.buf.extend(chunk.iter().map(u8::to_ascii_lowercase));
        if self.buf.len() <= LOOK_AHEAD + 1 {
            return false;
        }
        let settled = self.buf.len() - LOOK_AHEAD;
        if self.search(settled) {
            return true;
        }
        // Keep the unsettled tail and the byte before it (what precedes a verb matters).
        self.buf.drain(..settled - 1);
        self.carried = true;
        false
    }

    /// The end of the file: judge what is left.
    pub fn finish(&mut self) -> bool {
        let all = self.buf.len();
        self.search(all)
    }

    /// Matches starting before `settled` (and not at the carried byte before it).
    fn search(&self, settled: usize) -> bool {
        let buf = &self.buf;
        let first = usize::from(self.carried);
        strong_automaton().find_iter(buf).any(|m| {
            let id = m.pattern().as_usize();
            (first..settled).contains(&m.start()) && (id >= SQL_VERBS.len() || sql_follows(buf, m.start(), m.end(), id))
        })
    }
}

/// The markers that decide a file of this size: all of them for a small file, only
/// whether there is a strong one for a large file (a bundle is parsed only on those).
pub fn scan_for_size(bytes: &[u8]) -> Markers {
    if bytes.len() <= SMALL_FILE {
        scan(bytes)
    } else if has_strong(bytes) {
        Markers::Strong
    } else {
        Markers::None
    }
}

/// Whether the file should be parsed.
pub fn worth_parsing(bytes: &[u8]) -> bool {
    match scan_for_size(bytes) {
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
    fn the_strong_only_search_agrees_with_the_full_scan() {
        let parts: [&[u8]; 14] = [
            b"x = `a ${b}`; ",
            b"delete obj.k; ",
            b"prisma.user.deleteMany() ",
            b"User.delete_all ",
            b"drop_all() ",
            b"'DELETE ' + 'FROM users' ",
            b"update \"t\" set x = 1 ",
            b"update the docs ",
            b"truncate the text ",
            b"TRUNCATE users ",
            b"alter table t ",
            b"map.delete(k); ",
            b"bulkdelete ",
            b"ordinary code; ",
        ];
        // Across window boundaries: the marker at every offset around 64 KB.
        for pad in (64 * 1024 - 40)..(64 * 1024 + 8) {
            let mut text = vec![b'x'; pad];
            text.extend_from_slice(b" TRUNCATE users;");
            assert!(has_strong(&text), "marker at {pad}");
            let mut text = vec![b' '; pad];
            text.extend_from_slice(b"Delete_All");
            assert!(has_strong(&text), "marker at {pad}");
        }
        // Fed in small, odd chunks: the same answers.
        for text in [
            &b"xx drop table t"[..],
            b"xdrop table t",
            b"a.deleteMany()",
            b"update  users  set x=1",
        ] {
            for size in 1..6 {
                let mut padded = vec![b' '; 1000];
                padded.extend_from_slice(text);
                let mut scan = StrongScan::default();
                let found = padded.chunks(size).any(|c| scan.feed(c)) || scan.finish();
                assert_eq!(
                    found,
                    has_strong(&padded),
                    "{} in chunks of {size}",
                    String::from_utf8_lossy(text)
                );
            }
        }
        // Every pair and triple of parts, in order.
        for a in parts {
            for b in parts {
                for c in parts {
                    let text = [a, b, c].concat();
                    assert_eq!(
                        has_strong(&text),
                        scan(&text) == Markers::Strong,
                        "{}",
                        String::from_utf8_lossy(&text)
                    );
                }
            }
        }
    }

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
