//! The cheap first look at PostgreSQL text, for doors that see every statement (the proxy):
//! one pass over the bytes, no allocation, no parse.
//!
//! Every statement the analysis can report (see the module comment of `sql`) holds one of
//! these words as a keyword: DROP, TRUNCATE, DELETE, UPDATE, ALTER (DROP COLUMN, TYPE),
//! EXECUTE, DO, PROGRAM (COPY ... PROGRAM), FUNCTION / PROCEDURE (bodies), or WITH together
//! with INSERT or MERGE (data-modifying CTEs). Keywords cannot be escaped, quoted or split
//! by comments, so text in which none of them appears as a word cannot destroy data, whatever
//! it parses to: it needs no parse at all. When it does not parse, the server rejects it too.
//!
//! A "word" is a maximal run of letters, `_` and bytes >= 0x80 (what the server's scanner
//! reads as part of an identifier); digits and `$` end a run here, although the scanner keeps
//! them inside identifiers. That only finds more words (`x$drop` counts as `drop`), never
//! fewer, so the scan may send harmless text to the full analysis but never lets a keyword
//! through unseen, in any quoting, string, comment or client encoding.

/// What the scan saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prefilter {
    /// One of the words above appears: the text needs the full analysis.
    pub may_destroy: bool,
    /// `CREATE` and `TABLE` both appear: the text may create tables (a door that remembers
    /// the tables a session created parses it to learn which).
    pub may_create_table: bool,
}

const DESTROY: u16 = 1;
const WITH: u16 = 2;
const INSERT_OR_MERGE: u16 = 4;
const CREATE: u16 = 8;
const TABLE: u16 = 16;

/// Scan `sql` (any bytes; the text need not be valid UTF-8).
pub fn prefilter(sql: &[u8]) -> Prefilter {
    let mut seen = 0u16;
    let mut start = None;
    for (i, &b) in sql.iter().enumerate() {
        let in_word = b.is_ascii_alphabetic() || b == b'_' || b >= 0x80;
        match (in_word, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                seen |= classify(&sql[s..i]);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        seen |= classify(&sql[s..]);
    }
    Prefilter {
        may_destroy: seen & DESTROY != 0 || (seen & WITH != 0 && seen & INSERT_OR_MERGE != 0),
        may_create_table: seen & CREATE != 0 && seen & TABLE != 0,
    }
}

fn classify(word: &[u8]) -> u16 {
    // dblink, dblink_exec, dblink_send_query...: SQL sent to another connection, which the
    // core analyzes as SQL in its own right.
    if word.len() >= 6 && word[..6].eq_ignore_ascii_case(b"dblink") {
        return DESTROY;
    }
    if !(2..=9).contains(&word.len()) {
        return 0;
    }
    let mut buf = [0u8; 9];
    for (d, s) in buf.iter_mut().zip(word) {
        *d = s.to_ascii_lowercase();
    }
    match &buf[..word.len()] {
        b"drop" | b"truncate" | b"delete" | b"update" | b"alter" | b"execute" | b"do" | b"program" | b"function"
        | b"procedure" => DESTROY,
        b"with" => WITH,
        b"insert" | b"merge" => INSERT_OR_MERGE,
        b"create" => CREATE,
        b"table" => TABLE,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn destroys(s: &str) -> bool {
        prefilter(s.as_bytes()).may_destroy
    }

    #[test]
    fn words_not_substrings() {
        assert!(!destroys("SELECT updated_at, dropped, \"doing\" FROM t WHERE id = $1"));
        assert!(!destroys("INSERT INTO t (a) VALUES (1) RETURNING *"));
        assert!(!destroys("SELECT abalance FROM pgbench_accounts WHERE aid = 42;"));
        assert!(destroys("UPDATE t SET a = 1 WHERE id = 2"));
        assert!(destroys("select 1;DrOp TABLE t"));
        assert!(destroys("DO $$BEGIN PERFORM 1; END$$"));
        assert!(destroys("SELECT '$$drop$$'"));
        assert!(destroys("x$delete"));
        assert!(destroys("1truncate"));
        assert!(destroys("SELECT dblink_exec(conn, stmt) FROM pending_jobs"));
        assert!(destroys("select * from DBLINK('x', 'select 1') as t(a int)"));
        assert!(destroys(
            "WITH x AS (INSERT INTO t VALUES (1) RETURNING *) SELECT * FROM x"
        ));
        assert!(!destroys("WITH x AS (SELECT 1) SELECT * FROM x"));
        assert!(destroys("COPY t TO PROGRAM 'gzip > /tmp/x'"));
        assert!(!destroys("SELECT é_drop FROM t"));
        assert!(!destroys(""));
    }

    #[test]
    fn creates() {
        assert!(prefilter(b"create temp table x (a int)").may_create_table);
        assert!(!prefilter(b"create index on t (a)").may_create_table);
        assert!(!prefilter(b"SELECT 1").may_create_table);
    }
}
