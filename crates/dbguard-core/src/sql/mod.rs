//! SQL analysis: which statements of a SQL text destroy data.
//!
//! # Parsers
//! - PostgreSQL goes through the real PostgreSQL grammar (`pg_query`, libpg_query 18): the same
//!   scanner and parser as the server, so comments, string literals, dollar-quoted bodies and
//!   quoted identifiers are read exactly as the server reads them. PL/pgSQL bodies (`DO` blocks,
//!   `CREATE FUNCTION ... LANGUAGE plpgsql`) go through libpg_query's PL/pgSQL compiler.
//! - SQLite and MySQL/MariaDB go through `sqlparser` with `SQLiteDialect` / `MySqlDialect`.
//!   No embeddable copy of the real SQLite or MySQL grammar exists as a pure library: SQLite's
//!   parser is only reachable by preparing against a live connection (I/O, and it refuses
//!   statements on missing tables), and MySQL's lives inside the server. sqlparser is pure Rust,
//!   well kept, already a dependency, has dialects that know backticks, `#` comments, MySQL's
//!   `/*! ... */` executable comments and `MODIFY/CHANGE COLUMN`, and gives token locations.
//!
//! # Splitting and failure
//! The text is split into statements with the dialect's own tokenizer (never a regex), and each
//! statement is parsed on its own: one statement that does not parse becomes an `Unparseable`
//! finding without hiding the others. Text the tokenizer itself rejects (an unterminated quote or
//! comment) makes the rest of the text one `Unparseable` finding. Unknown and unparseable are
//! findings: they count as risky, never as safe.
//!
//! PostgreSQL text is not handed to the scanner past a run of more than 1,000 operator
//! characters (`/*/*/*...`, `+-+-...`), or past the long runs (over 128 characters) whose squared
//! lengths add up to more than 64 runs of 1,000: the server's scanner takes time quadratic in
//! such runs (64 KB of `/*` took 3 s). The statements that end before the run are analyzed; from
//! the start of the statement holding it, the rest of the text is one `Unparseable` finding (its
//! end cannot be known without scanning the run). A PL/pgSQL body whose unescaped source holds
//! such a run is `Unparseable` too.
//!
//! # Valid SQL that sqlparser rejects
//! A SQLite or MySQL statement that sqlparser cannot parse is `Unparseable`, except these exact
//! token shapes (the dialect's tokenizer, whole statement, nothing else in it), which cannot
//! destroy data:
//! - SQLite: `VACUUM [schema] [INTO 'file']` (INTO fails unless the file is new or empty),
//!   `DETACH [DATABASE] name`, `REINDEX [[schema.]name]`, `ANALYZE [[schema.]name]`,
//!   `PRAGMA [schema.]name [= value | (value)]` with a word, string or signed number as value.
//! - MySQL: `OPTIMIZE|ANALYZE [NO_WRITE_TO_BINLOG|LOCAL] TABLE|TABLES t [, t]...`,
//!   `CHECK TABLE t [, t]... [FOR UPGRADE|QUICK|FAST|MEDIUM|EXTENDED|CHANGED]...`,
//!   `CHECKSUM TABLE t [, t]... [QUICK|EXTENDED]`, `ALTER TABLE t ENGINE [=] InnoDB|MyISAM|Aria`
//!   (not BLACKHOLE, which discards every row, nor MEMORY, which loses them at restart), and
//!   `ALTER TABLE t [DEFAULT] CONVERT TO CHARACTER SET|CHARSET [=] utf8mb4 [COLLATE [=] c]`:
//!   converting text columns is lossless only into utf8mb4, which holds every character of every
//!   other character set; a conversion to any other set can replace characters with `?`, so it
//!   stays `Unparseable`. `REPAIR TABLE` stays `Unparseable` too: it can drop rows it cannot
//!   recover.
//!
//! # What counts as data loss
//! Findings: DROP DATABASE, DROP SCHEMA (always; CASCADE takes everything inside), DROP TABLE
//! (one finding per table), DROP OWNED BY, DROP EXTENSION ... CASCADE, TRUNCATE (each table),
//! DELETE/UPDATE without WHERE or with a constant-true WHERE (`WHERE CURRENT OF` is bounded;
//! MySQL/SQLite `LIMIT n` without a WHERE is not: no condition chooses the rows, and the batch
//! loops it comes from empty the table; a MySQL multi-table DELETE/UPDATE is bounded when the target's FROM
//! item is joined only by inner joins whose ON is not always true, or USING/NATURAL; CTE-prefixed
//! `WITH ... DELETE/UPDATE` counts like the plain form; constant folding knows comparisons,
//! arithmetic, AND/OR/NOT, IN, IS [NOT] NULL/TRUE/DISTINCT FROM, casts and [NOT] BETWEEN
//! [SYMMETRIC]; `x = x` and `x LIKE '%'` count as true: they hold for every row with a value), MERGE whose join condition is always true with a WHEN MATCHED DELETE/UPDATE that
//! has no bounding AND condition (delete_all/update_all of the target), MERGE ... WHEN NOT MATCHED
//! BY SOURCE THEN DELETE (delete_all: every target row missing from the source), `COPY ... FROM/TO
//! PROGRAM` (`Unknown`: it runs a shell command on the server; plain COPY FROM a file or STDIN
//! only adds rows), `COPY (DELETE ... RETURNING ...) TO` (the statement it runs), data-modifying CTEs, ALTER TABLE DROP COLUMN, ALTER COLUMN TYPE /
//! MySQL MODIFY/CHANGE COLUMN (possibly lossy), DROP TYPE/DOMAIN/COLLATION ... CASCADE (drops the
//! columns that use them: `Unknown`, since which columns is not in the text), `EXPLAIN ANALYZE`
//! of a destructive statement (it runs it), PREPARE of a destructive statement, EXECUTE of a
//! prepared statement not prepared in the same text (`Unknown`), dynamic SQL in PL/pgSQL
//! (`Unknown`), and destructive static statements inside `DO` blocks, function bodies and rule
//! actions (`CREATE RULE ... DO [ALSO|INSTEAD] ...`: they run each time the rule's event happens).
//!
//! SQL sent to another connection (`remote`): `dblink_exec`, `dblink`, `dblink_send_query` and
//! `dblink_open` called anywhere in a statement (PL/pgSQL expressions included) with a literal
//! statement: the statement is analyzed as SQL in its own right (it runs outside the caller's
//! transaction, so a READ ONLY transaction does not stop it); findings from it have scope
//! `External` (dbguard cannot snapshot or measure the other side). A non-literal statement is
//! `Unknown`.
//!
//! SQLite: writes to the schema table (`sqlite_master` / `sqlite_schema`, possible under
//! `PRAGMA writable_schema`): a DELETE of a table's entry is `drop_table` (every entry:
//! `drop_database`; entries chosen by another WHERE: `Unknown`), an UPDATE or INSERT is `Unknown`.
//!
//! Type changes that lose nothing are not findings: PostgreSQL `TYPE text` or `varchar` without
//! a length (and arrays of them) without a USING clause that computes something. Widening
//! `varchar(n)` stays a finding (the current type is not in the text), and so does every MySQL
//! MODIFY/CHANGE (TEXT holds 64 KB, MODIFY takes the table's default character set).
//!
//! Low risk, no finding (nothing that cannot be rebuilt from the schema is lost): DROP INDEX,
//! DROP VIEW, DROP MATERIALIZED VIEW (rebuildable from its query), DROP FUNCTION/PROCEDURE/
//! TRIGGER/RULE/POLICY/CONSTRAINT/DEFAULT, DROP SEQUENCE (only the counter value is lost; the rows
//! that used it keep their ids), DROP TYPE/DOMAIN without CASCADE (fails while a column uses it),
//! DROP EXTENSION without CASCADE (fails while anything depends on it), DROP FOREIGN TABLE/SERVER
//! (the data lives elsewhere), DROP ROLE/USER, MySQL DROP TEMPORARY TABLE (the session's own
//! temporary table only), RENAME of tables and columns (nothing is lost,
//! though code that uses the old name breaks), and calls of arbitrary functions (CALL, SELECT f()).
//!
//! A table (schema, database) created earlier in the same text without `IF NOT EXISTS` holds only
//! what the text itself put there, so dropping, truncating or emptying it later is not a loss.
//!
//! # Accepting a finding
//! `-- dbguard:allow <kind> <reason>` (or the same inside `/* */`) on the line of the statement's
//! start, or in the comment lines directly above it, accepts that statement's findings of `kind`
//! (`all` for every kind). The reason is mandatory: a directive without one accepts nothing.

pub mod calls;
mod constant;
mod generic;
pub mod migration;
mod pg_fast;
mod pg_scan;
mod plpgsql;
mod postgres;
pub mod prefilter;
pub mod readonly;
mod remote;
pub mod statement;

pub use prefilter::{prefilter, Prefilter};
pub use statement::{pg_statements, DropTable, Statement, TableName};

use serde::Serialize;

use crate::finding::{Finding, FindingKind, Location};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Dialect {
    #[default]
    Postgres,
    Sqlite,
    Mysql,
}

/// Analyze SQL text; one finding per destructive (or unknowable) statement part, in text order.
pub fn analyze_sql(text: &str, dialect: Dialect) -> Vec<Finding> {
    match dialect {
        Dialect::Postgres => postgres::analyze(text),
        Dialect::Sqlite | Dialect::Mysql => generic::analyze(text, dialect),
    }
}

/// Kind and object of each finding, as compared by [`fast_path_disagreement`].
pub type FindingKey = (&'static str, Option<String>);

/// Where the PostgreSQL fast path and the full parse of every statement disagree on `text`:
/// the findings of each (kind and object), or None when they agree. `unparseable` findings are
/// left out: a statement the server rejects destroys nothing, and the fast path may skip one.
/// For tests and fuzzing, which check that the fast path never hides a finding.
#[doc(hidden)]
pub fn fast_path_disagreement(text: &str) -> Option<(Vec<FindingKey>, Vec<FindingKey>)> {
    let keys = |found: Vec<Finding>| -> Vec<FindingKey> {
        found
            .into_iter()
            .filter(|f| f.kind != FindingKind::Unparseable)
            .map(|f| (f.kind.as_str(), f.object))
            .collect()
    };
    let fast = keys(postgres::analyze(text));
    let full = keys(postgres::analyze_without_fast_path(text));
    (fast != full).then_some((fast, full))
}

/// For each finding (as returned by [`analyze_sql`] on the same text), the reason of the inline
/// `-- dbguard:allow <kind> <reason>` comment that accepts it, if any.
pub fn accepted(text: &str, dialect: Dialect, findings: &[Finding]) -> Vec<Option<String>> {
    if findings.iter().all(|f| f.location.is_none()) {
        return vec![None; findings.len()];
    }
    let layout = match dialect {
        Dialect::Postgres => postgres::layout(text),
        Dialect::Sqlite | Dialect::Mysql => generic::layout(text, dialect),
    };
    let directives = layout.directives_by_statement(text);
    findings
        .iter()
        .map(|f| {
            let loc = f.location?;
            let list = directives.iter().find(|(l, _)| *l == loc).map(|(_, d)| d)?;
            list.iter()
                .find(|d| d.kind == "all" || FindingKind::from_name(&d.kind) == Some(f.kind))
                .map(|d| d.reason.clone())
        })
        .collect()
}

/// Where statements start and where comments are, as the dialect's lexer sees them.
/// Offsets are byte offsets into the analyzed text.
#[derive(Debug, Default)]
pub(crate) struct Layout {
    /// (start of the statement's first token, end of its last token), in text order.
    pub statements: Vec<(usize, usize)>,
    /// (start, end) of every comment, in text order.
    pub comments: Vec<(usize, usize)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Directive {
    pub kind: String,
    pub reason: String,
}

impl Layout {
    /// The allow-directives that apply to each statement, keyed by the statement's location.
    fn directives_by_statement(&self, text: &str) -> Vec<(Location, Vec<Directive>)> {
        let lines = LineIndex::new(text);
        let comments: Vec<(u32, u32, Option<Directive>)> = self
            .comments
            .iter()
            .map(|&(s, e)| {
                let d = text.get(s..e).and_then(parse_directive);
                (lines.line_of(s), lines.line_of(e.saturating_sub(1).max(s)), d)
            })
            .collect();
        let mut out = Vec::with_capacity(self.statements.len());
        let mut prev_end_line = 0u32;
        let mut prev_end = 0usize;
        let mut cursor = Cursor::new(text);
        for &(start, end) in &self.statements {
            let loc = cursor.locate(start);
            let line = loc.line;
            let mut found = Vec::new();
            // Comments on the statement's first line, wherever they sit on it.
            let first = comments.partition_point(|c| c.0 < line);
            for c in comments[first..].iter().take_while(|c| c.0 == line) {
                found.extend(c.2.clone());
            }
            // The contiguous block of comment lines directly above the statement, not counting a
            // trailing comment of the previous statement.
            let gap_lo = self.comments.partition_point(|c| c.0 < prev_end);
            let gap_hi = self.comments.partition_point(|c| c.1 <= start);
            let mut expect = line.saturating_sub(1);
            for (cs, ce, d) in comments[gap_lo..gap_hi.max(gap_lo)].iter().rev() {
                if *cs == line {
                    continue;
                }
                if *ce != expect || (prev_end > 0 && *cs == prev_end_line) {
                    break;
                }
                found.extend(d.clone());
                expect = cs.saturating_sub(1);
            }
            out.push((loc, found));
            prev_end_line = lines.line_of(end.saturating_sub(1).max(start));
            prev_end = end;
        }
        out
    }
}

/// `dbguard:allow <kind> <reason>` inside a `--`, `#` or `/* */` comment.
pub(crate) fn parse_directive(comment: &str) -> Option<Directive> {
    let body = if let Some(rest) = comment.strip_prefix("--") {
        rest
    } else if let Some(rest) = comment.strip_prefix('#') {
        rest
    } else if let Some(rest) = comment.strip_prefix("/*") {
        rest.strip_suffix("*/").unwrap_or(rest)
    } else {
        return None;
    };
    let rest = body.trim().strip_prefix("dbguard:allow")?;
    if !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let rest = rest.trim_start();
    let (kind, reason) = match rest.find(char::is_whitespace) {
        Some(i) => (&rest[..i], rest[i..].trim()),
        None => (rest, ""),
    };
    if reason.is_empty() || (kind != "all" && FindingKind::from_name(kind).is_none()) {
        return None;
    }
    Some(Directive {
        kind: kind.to_string(),
        reason: reason.to_string(),
    })
}

/// Line starts of a text, for random-access offset -> line:column (used by `accepted`).
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { starts }
    }

    fn line_of(&self, offset: usize) -> u32 {
        let idx = self.starts.partition_point(|&s| s <= offset);
        u32::try_from(idx.max(1)).unwrap_or(u32::MAX)
    }
}

/// Forward-only offset -> 1-based line:column, so locating every statement of a text costs one
/// pass over it (statements come in text order).
pub(crate) struct Cursor<'a> {
    text: &'a str,
    offset: usize,
    line: u32,
    column: u32,
}

impl<'a> Cursor<'a> {
    pub fn new(text: &'a str) -> Self {
        Cursor {
            text,
            offset: 0,
            line: 1,
            column: 1,
        }
    }

    /// Location of `offset`; offsets before the previous one restart from the beginning.
    pub fn locate(&mut self, offset: usize) -> Location {
        if offset < self.offset {
            *self = Cursor::new(self.text);
        }
        let end = offset.min(self.text.len());
        if let Some(bytes) = self.text.as_bytes().get(self.offset..end) {
            for &b in bytes {
                if b == b'\n' {
                    self.line = self.line.saturating_add(1);
                    self.column = 1;
                } else if b & 0xC0 != 0x80 {
                    self.column = self.column.saturating_add(1);
                }
            }
        }
        self.offset = end;
        Location {
            line: self.line,
            column: self.column,
        }
    }

    /// Byte offset of a 1-based line:column at or after the current position.
    pub fn seek(&mut self, line: u32, column: u32) -> usize {
        if (line, column) < (self.line, self.column) {
            *self = Cursor::new(self.text);
        }
        let bytes = self.text.as_bytes();
        while self.offset < bytes.len() && (self.line, self.column) < (line, column) {
            let b = bytes[self.offset];
            if b == b'\n' {
                self.line = self.line.saturating_add(1);
                self.column = 1;
                self.offset += 1;
            } else {
                let ch_len = self.text[self.offset..].chars().next().map(char::len_utf8).unwrap_or(1);
                self.offset += ch_len;
                self.column = self.column.saturating_add(1);
            }
        }
        self.offset
    }
}

/// The statement as shown in a finding: trimmed, capped at about 300 characters.
pub(crate) fn display_statement(stmt: &str) -> String {
    const MAX: usize = 300;
    let s = stmt.trim();
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", s[..i].trim_end()),
        None => s.to_string(),
    }
}

/// Names created by the text itself (without IF NOT EXISTS): losing them loses nothing that
/// existed before the text ran.
#[derive(Debug, Default)]
pub(crate) struct Created {
    tables: std::collections::HashSet<String>,
    schemas: std::collections::HashSet<String>,
    databases: std::collections::HashSet<String>,
}

impl Created {
    fn table_key(schema: &str, table: &str, default_schema: &str) -> String {
        let schema = if schema.is_empty() { default_schema } else { schema };
        format!("{schema}\u{0}{table}")
    }

    pub fn add_table(&mut self, schema: &str, table: &str, default_schema: &str) {
        self.tables.insert(Self::table_key(schema, table, default_schema));
    }

    pub fn has_table(&self, schema: &str, table: &str, default_schema: &str) -> bool {
        self.tables.contains(&Self::table_key(schema, table, default_schema))
            || (!schema.is_empty() && self.schemas.contains(schema))
    }

    pub fn add_schema(&mut self, schema: &str) {
        self.schemas.insert(schema.to_string());
    }

    pub fn has_schema(&self, schema: &str) -> bool {
        self.schemas.contains(schema)
    }

    pub fn add_database(&mut self, db: &str) {
        self.databases.insert(db.to_string());
    }

    pub fn has_database(&self, db: &str) -> bool {
        self.databases.contains(db)
    }
}

/// `schema.table` or `table`.
pub(crate) fn qualified(schema: &str, table: &str) -> String {
    if schema.is_empty() {
        table.to_string()
    } else {
        format!("{schema}.{table}")
    }
}

/// The sentence for a DELETE/UPDATE that touches every row, the same in every dialect.
/// `has_where`: the WHERE clause exists but is always true.
pub(crate) fn unbounded_detail(kind: FindingKind, name: &str, has_where: bool) -> String {
    let verb = if kind == FindingKind::DeleteAll {
        "Deletes"
    } else {
        "Updates"
    };
    if has_where {
        format!("{verb} every row of {name}: its WHERE clause is always true.")
    } else {
        format!("{verb} every row of {name}: there is no WHERE clause.")
    }
}

/// Shared by both splitters (statements are cut in bounded chunks to bound memory).
/// End of the chunk starting at `base`: a line end in the second half of `base + size`, or the
/// text's end (then `true`).
pub(crate) fn chunk_end(text: &str, base: usize, size: usize) -> (usize, bool) {
    let want = base.saturating_add(size);
    if want >= text.len() {
        return (text.len(), true);
    }
    let bytes = text.as_bytes();
    let floor = base + size / 2;
    if let Some(nl) = bytes[floor..want].iter().rposition(|&b| b == b'\n') {
        return (floor + nl + 1, false);
    }
    let mut end = want;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    if end <= base {
        // A chunk smaller than one character: take that character, so the loop always advances.
        end = want;
        while !text.is_char_boundary(end) {
            end += 1;
        }
    }
    (end, end >= text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directive_parsing() {
        let d = parse_directive("-- dbguard:allow drop_table legacy table, unused since 2021").unwrap();
        assert_eq!(d.kind, "drop_table");
        assert_eq!(d.reason, "legacy table, unused since 2021");
        assert!(parse_directive("-- dbguard:allow drop_table").is_none());
        assert!(parse_directive("-- dbguard:allow nonsense reason").is_none());
        assert!(parse_directive("-- dbguard:allowdrop_table x").is_none());
        assert_eq!(parse_directive("/* dbguard:allow all ok */").unwrap().reason, "ok");
    }

    #[test]
    fn cursor_locates_and_seeks() {
        let text = "ab\ncé d\nx";
        let mut c = Cursor::new(text);
        assert_eq!(c.locate(0), Location { line: 1, column: 1 });
        assert_eq!(c.locate(7), Location { line: 2, column: 4 });
        assert_eq!(c.locate(9), Location { line: 3, column: 1 });
        let mut c = Cursor::new(text);
        assert_eq!(c.seek(2, 4), 7);
        assert_eq!(c.seek(3, 1), 9);
    }

    #[test]
    fn display_caps_long_statements() {
        let long = "x".repeat(1000);
        let shown = display_statement(&long);
        assert!(shown.chars().count() <= 301);
        assert!(shown.ends_with('…'));
        assert_eq!(display_statement("  DROP TABLE a \n"), "DROP TABLE a");
    }
}
