//! SQLite and MySQL/MariaDB analysis through sqlparser (see the `sql` module comment for why).
//! The dialect's tokenizer splits the text (so `;` inside strings, comments and backticks never
//! splits), each statement is parsed on its own, and the AST is checked for the same kinds of
//! loss as PostgreSQL where they apply.
//!
//! The text is tokenized in chunks (as `postgres.rs` does), so memory stays bounded on
//! multi-megabyte migrations: a whole-text token vector of 8 MB of SQL takes over 200 MB. A chunk
//! is cut at a line end; only statements whose terminating `;` lies inside the chunk are
//! committed, and the rest is tokenized again with the next chunk. The tokenizer reads left to
//! right, so every token up to that `;` is the one a whole-text pass would produce, and a cut
//! inside a string, comment or trigger body only delays the statement to a later (or larger)
//! chunk. A statement longer than the chunk doubles the chunk until it fits. Token positions are
//! moved from chunk-relative to whole-text line:column before anything reads them, so findings and
//! parser messages are the same as with one pass over the whole text.

use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, BinaryOperator, CascadeOption, Expr, FromTable, JoinConstraint,
    JoinOperator, ObjectName, ObjectType, SetExpr, Statement, TableFactor, TableWithJoins, UnaryOperator, Value,
};
use sqlparser::dialect::{Dialect as SqlDialect, MySqlDialect, SQLiteDialect};
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Location as SpLocation, Token, TokenWithSpan, Tokenizer, Whitespace};

use super::constant::{self, Arith, Cmp, Const};
use super::{display_statement, Created, Cursor, Dialect, Layout};
use crate::finding::{Finding, FindingKind, Location, Scope};

/// First chunk tokenized at once; doubled while a statement does not fit.
const CHUNK: usize = 256 * 1024;

fn dialect_of(d: Dialect) -> Box<dyn SqlDialect> {
    match d {
        Dialect::Mysql => Box::new(MySqlDialect {}),
        _ => Box::new(SQLiteDialect {}),
    }
}

fn engine_name(d: Dialect) -> &'static str {
    match d {
        Dialect::Mysql => "MySQL",
        _ => "SQLite",
    }
}

fn is_trivia(t: &Token) -> bool {
    matches!(t, Token::Whitespace(_))
}

fn is_comment(t: &Token) -> bool {
    matches!(
        t,
        Token::Whitespace(Whitespace::SingleLineComment { .. } | Whitespace::MultiLineComment(_))
    )
}

/// One statement as the splitter delimited it.
struct RawStmt {
    /// From its first to its last significant token, with the whitespace and comments between;
    /// spans are whole-text line:column.
    tokens: Vec<TokenWithSpan>,
    /// Byte offsets of the start of its first token and the end of its last.
    start: usize,
    end: usize,
}

impl RawStmt {
    fn location(&self) -> Location {
        self.tokens
            .first()
            .map(|t| Location {
                line: loc_u32(t.span.start.line),
                column: loc_u32(t.span.start.column),
            })
            .unwrap_or(Location { line: 1, column: 1 })
    }
}

enum Event {
    Statement(RawStmt),
    /// Byte range of a comment.
    Comment(usize, usize),
    /// The tokenizer stopped (unterminated quote or comment...): nothing after this is read.
    Error {
        /// The statement the tokenizer stopped in, when it had begun.
        tail: Option<RawStmt>,
        location: Location,
        offset: usize,
        message: String,
    },
}

/// Token index ranges of the statements of one tokenized chunk.
struct ChunkSplit {
    statements: Vec<std::ops::Range<usize>>,
    /// The last range ends without a `;`.
    open_tail: bool,
    /// Index of the last top-level `;`: everything up to it is final.
    commit: Option<usize>,
}

/// A statement still inside parentheses after this many tokens ends at its next `;` outside
/// a BEGIN ... END body: an unclosed `(` would otherwise make the rest of the text one
/// statement, read into memory whole. The cut statement does not parse (unparseable,
/// never safe), and what follows is analyzed. Counted in tokens from the statement's
/// start, so where the chunks fall changes nothing.
const MAX_STATEMENT_TOKENS: usize = 100_000;

/// Statement boundaries: a `;` outside parentheses and outside the `BEGIN ... END` body of a
/// CREATE TRIGGER/PROCEDURE/FUNCTION/EVENT (or any `;` outside such a body once the
/// statement is longer than `MAX_STATEMENT_TOKENS`). `tokens` must start at a statement
/// boundary.
fn split_tokens(tokens: &[TokenWithSpan]) -> ChunkSplit {
    let mut statements = Vec::new();
    let mut commit = None;
    let mut start: Option<usize> = None;
    let mut last_sig = 0usize;
    let mut depth = 0u32;
    let mut block = 0u32;
    let mut block_mode = false;
    let mut first_word: Option<Keyword> = None;
    let mut length = 0usize;
    for (i, t) in tokens.iter().enumerate() {
        let tok = &t.token;
        if is_trivia(tok) {
            continue;
        }
        if matches!(tok, Token::SemiColon) && block == 0 && (depth == 0 || length > MAX_STATEMENT_TOKENS) {
            if let Some(s) = start.take() {
                statements.push(s..last_sig + 1);
            }
            commit = Some(i);
            first_word = None;
            block_mode = false;
            depth = 0;
            length = 0;
            continue;
        }
        length += 1;
        if start.is_none() {
            start = Some(i);
            first_word = match tok {
                Token::Word(w) => Some(w.keyword),
                _ => None,
            };
        }
        last_sig = i;
        match tok {
            Token::LParen => depth = depth.saturating_add(1),
            Token::RParen => depth = depth.saturating_sub(1),
            Token::Word(w) => {
                let kw = w.keyword;
                if first_word == Some(Keyword::CREATE)
                    && matches!(
                        kw,
                        Keyword::TRIGGER | Keyword::PROCEDURE | Keyword::FUNCTION | Keyword::EVENT
                    )
                {
                    block_mode = true;
                }
                if block_mode {
                    match kw {
                        Keyword::BEGIN | Keyword::CASE => block = block.saturating_add(1),
                        Keyword::END => {
                            let next = tokens[i + 1..].iter().map(|t| &t.token).find(|t| !is_trivia(t));
                            let closes_other = matches!(next, Some(Token::Word(n)) if ["IF", "LOOP", "WHILE", "REPEAT"].iter().any(|k| n.value.eq_ignore_ascii_case(k)));
                            if !closes_other {
                                block = block.saturating_sub(1);
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    let open_tail = start.is_some();
    if let Some(s) = start {
        statements.push(s..last_sig + 1);
    }
    ChunkSplit {
        statements,
        open_tail,
        commit,
    }
}

/// A chunk-relative position made whole-text, given where the chunk starts.
fn rebase(loc: &mut SpLocation, origin: Location) {
    if loc.line == 0 {
        return;
    }
    if loc.line == 1 {
        loc.column = loc.column.saturating_add(u64::from(origin.column)).saturating_sub(1);
    }
    loc.line = loc.line.saturating_add(u64::from(origin.line)).saturating_sub(1);
}

/// Split `text` into statements chunk by chunk (see the module comment), in text order.
/// Comments are reported only when `comments` is set.
fn split(text: &str, dialect: &dyn SqlDialect, chunk: usize, comments: bool, on: &mut dyn FnMut(Event)) {
    let chunk = chunk.max(1);
    // Statement starts and ends, commit points and errors only move forward, and so do comments:
    // one cursor each keeps byte offsets to one pass over the text.
    let mut cursor = Cursor::new(text);
    let mut comment_cursor = Cursor::new(text);
    let mut buf: Vec<TokenWithSpan> = Vec::new();
    let mut base = 0usize;
    let mut size = chunk;
    while base < text.len() {
        let (end, last) = super::chunk_end(text, base, size);
        let slice = &text[base..end];
        if !last && slice.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r')) {
            base = end;
            continue;
        }
        let origin = cursor.locate(base);
        buf.clear();
        let error = Tokenizer::new(dialect, slice)
            .tokenize_with_location_into_buf(&mut buf)
            .err();
        let sp = split_tokens(&buf);
        // Tokens up to here (the committing `;` included) are final.
        let upto = match (last, sp.commit) {
            (true, _) => buf.len(),
            (false, Some(c)) => c + 1,
            (false, None) => {
                size = size.saturating_mul(2);
                continue;
            }
        };
        for t in &mut buf[..upto] {
            rebase(&mut t.span.start, origin);
            rebase(&mut t.span.end, origin);
        }
        if comments {
            for t in buf[..upto].iter().filter(|t| is_comment(&t.token)) {
                let s = comment_cursor.seek(loc_u32(t.span.start.line), loc_u32(t.span.start.column));
                let e = comment_cursor.seek(loc_u32(t.span.end.line), loc_u32(t.span.end.column));
                on(Event::Comment(s, e.max(s)));
            }
        }
        // The `;` that commits this chunk, before its tokens are moved out.
        let next_base = sp.commit.filter(|_| !last).and_then(|c| buf.get(c)).map(|t| t.span.end);
        let n = sp.statements.len();
        let mut tokens = buf.drain(..);
        let mut pos = 0usize;
        for (k, r) in sp.statements.into_iter().enumerate() {
            if !last && k + 1 == n && sp.open_tail {
                // Not terminated inside this chunk: read again with the next one.
                break;
            }
            let own: Vec<TokenWithSpan> = tokens.by_ref().skip(r.start - pos).take(r.len()).collect();
            pos = r.end;
            let (Some(first), Some(final_tok)) = (own.first(), own.last()) else {
                continue;
            };
            let start = cursor.seek(loc_u32(first.span.start.line), loc_u32(first.span.start.column));
            let end = cursor.seek(loc_u32(final_tok.span.end.line), loc_u32(final_tok.span.end.column));
            let stmt = RawStmt {
                tokens: own,
                start,
                end: end.max(start),
            };
            if last && k + 1 == n && sp.open_tail && error.is_some() {
                // The tokenizer stopped inside this statement.
                let (location, message) = error_parts(error.as_ref(), origin);
                let offset = stmt.start;
                on(Event::Error {
                    tail: Some(stmt),
                    location,
                    offset,
                    message,
                });
                return;
            }
            on(Event::Statement(stmt));
        }
        drop(tokens);
        if last {
            if error.is_some() {
                let (location, message) = error_parts(error.as_ref(), origin);
                let offset = cursor.seek(location.line, location.column);
                on(Event::Error {
                    tail: None,
                    location,
                    offset,
                    message,
                });
            }
            return;
        }
        match next_base {
            Some(loc) => {
                let next = cursor.seek(loc_u32(loc.line), loc_u32(loc.column));
                if next > base {
                    base = next;
                    size = chunk;
                } else {
                    // Never expected; growing still ends at the text's end.
                    size = size.saturating_mul(2);
                }
            }
            None => size = size.saturating_mul(2),
        }
    }
}

fn error_parts(error: Option<&sqlparser::tokenizer::TokenizerError>, origin: Location) -> (Location, String) {
    match error {
        Some(e) => {
            let mut loc = e.location;
            rebase(&mut loc, origin);
            (
                Location {
                    line: loc_u32(loc.line),
                    column: loc_u32(loc.column),
                },
                e.message.clone(),
            )
        }
        None => (origin, String::new()),
    }
}

pub(super) fn layout(text: &str, d: Dialect) -> Layout {
    layout_chunked(text, d, CHUNK)
}

fn layout_chunked(text: &str, d: Dialect, chunk: usize) -> Layout {
    let dialect = dialect_of(d);
    let mut layout = Layout::default();
    split(text, &*dialect, chunk, true, &mut |ev| match ev {
        Event::Statement(s) | Event::Error { tail: Some(s), .. } => layout.statements.push((s.start, s.end)),
        Event::Comment(s, e) => layout.comments.push((s, e)),
        Event::Error { tail: None, .. } => {}
    });
    layout
}

/// First words of the statements [`harmless_unparsed`] may accept.
fn might_be_harmless(tokens: &[TokenWithSpan], d: Dialect) -> bool {
    let first: &[&str] = match d {
        Dialect::Sqlite => &["VACUUM", "DETACH", "REINDEX", "ANALYZE", "PRAGMA"],
        Dialect::Mysql => &["OPTIMIZE", "ANALYZE", "CHECK", "CHECKSUM", "ALTER"],
        Dialect::Postgres => &[],
    };
    matches!(tokens.iter().find(|t| !is_trivia(&t.token)), Some(TokenWithSpan { token: Token::Word(w), .. })
        if w.quote_style.is_none() && first.iter().any(|f| w.value.eq_ignore_ascii_case(f)))
}

/// The allowlist of statements that sqlparser cannot parse but that cannot destroy data,
/// recognized by their whole token sequence (documented in the `sql` module comment). Anything
/// that deviates from these exact shapes stays Unparseable.
fn harmless_unparsed(tokens: &[TokenWithSpan], d: Dialect) -> bool {
    let toks: Vec<&Token> = tokens.iter().map(|t| &t.token).filter(|t| !is_trivia(t)).collect();
    let mut m = Shape { toks: &toks, pos: 0 };
    let ok = match d {
        Dialect::Sqlite => sqlite_shape(&mut m),
        Dialect::Mysql => mysql_shape(&mut m),
        Dialect::Postgres => false,
    };
    ok && m.end()
}

fn sqlite_shape(m: &mut Shape) -> bool {
    if m.kw("VACUUM") {
        // VACUUM [schema] [INTO 'file']: INTO writes a new file and fails if it holds data.
        if !m.at_kw("INTO") {
            m.name();
        }
        return !m.kw("INTO") || m.string();
    }
    if m.kw("DETACH") {
        m.kw("DATABASE");
        return m.name();
    }
    if m.kw("REINDEX") || m.kw("ANALYZE") {
        return m.end() || m.qualified();
    }
    if m.kw("PRAGMA") {
        if !m.qualified() {
            return false;
        }
        if m.tok(&Token::Eq) {
            return m.pragma_value();
        }
        if m.tok(&Token::LParen) {
            return m.pragma_value() && m.tok(&Token::RParen);
        }
        return true;
    }
    false
}

fn mysql_shape(m: &mut Shape) -> bool {
    if m.kw("ALTER") {
        if !(m.kw("TABLE") && m.qualified()) {
            return false;
        }
        if m.kw("ENGINE") {
            // Only engines that keep rows: BLACKHOLE discards them, MEMORY loses them on restart.
            m.tok(&Token::Eq);
            return m.kw("InnoDB") || m.kw("MyISAM") || m.kw("Aria");
        }
        // Re-encodes every text column; only utf8mb4 holds every character of every other
        // character set, so converting to anything else may lose characters.
        m.kw("DEFAULT");
        if !(m.kw("CONVERT") && m.kw("TO") && ((m.kw("CHARACTER") && m.kw("SET")) || m.kw("CHARSET"))) {
            return false;
        }
        m.tok(&Token::Eq);
        if !m.kw("utf8mb4") {
            return false;
        }
        if m.kw("COLLATE") {
            m.tok(&Token::Eq);
            return m.name();
        }
        return true;
    }
    let (options, local): (&[&str], bool) = if m.kw("OPTIMIZE") || m.kw("ANALYZE") {
        (&[], true)
    } else if m.kw("CHECKSUM") {
        (&["QUICK", "EXTENDED"], false)
    } else if m.kw("CHECK") {
        (&["QUICK", "FAST", "MEDIUM", "EXTENDED", "CHANGED"], false)
    } else {
        return false;
    };
    if local && !m.kw("NO_WRITE_TO_BINLOG") {
        m.kw("LOCAL");
    }
    if !(m.kw("TABLE") || m.kw("TABLES")) || !m.qualified() {
        return false;
    }
    while m.tok(&Token::Comma) {
        if !m.qualified() {
            return false;
        }
    }
    loop {
        if m.kw("FOR") {
            if !m.kw("UPGRADE") {
                return false;
            }
        } else if !options.iter().any(|o| m.kw(o)) {
            return true;
        }
    }
}

/// A cursor over the significant tokens of one statement, for [`harmless_unparsed`].
struct Shape<'a> {
    toks: &'a [&'a Token],
    pos: usize,
}

impl Shape<'_> {
    fn end(&self) -> bool {
        self.pos >= self.toks.len()
    }

    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.pos).copied()
    }

    fn at_kw(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(word))
    }

    /// Consume the unquoted word `word`.
    fn kw(&mut self, word: &str) -> bool {
        let hit = self.at_kw(word);
        self.pos += usize::from(hit);
        hit
    }

    fn tok(&mut self, t: &Token) -> bool {
        let hit = self.peek() == Some(t);
        self.pos += usize::from(hit);
        hit
    }

    /// Any identifier, quoted or not.
    fn name(&mut self) -> bool {
        let hit = matches!(self.peek(), Some(Token::Word(_)));
        self.pos += usize::from(hit);
        hit
    }

    /// `name` or `schema.name`.
    fn qualified(&mut self) -> bool {
        if !self.name() {
            return false;
        }
        if self.tok(&Token::Period) {
            return self.name();
        }
        true
    }

    fn string(&mut self) -> bool {
        let hit = matches!(
            self.peek(),
            Some(Token::SingleQuotedString(_) | Token::DoubleQuotedString(_))
        );
        self.pos += usize::from(hit);
        hit
    }

    /// A PRAGMA value: a word (`ON`, `WAL`), a string, or an optionally signed number.
    fn pragma_value(&mut self) -> bool {
        if self.name() || self.string() {
            return true;
        }
        if !self.tok(&Token::Minus) {
            self.tok(&Token::Plus);
        }
        let hit = matches!(self.peek(), Some(Token::Number(..)));
        self.pos += usize::from(hit);
        hit
    }
}

fn loc_u32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

#[derive(Clone, Copy)]
struct Stmt<'a> {
    text: &'a str,
    location: Location,
}

struct Analyzer {
    out: Vec<Finding>,
    created: Created,
    dialect: Dialect,
    /// SQLite: `PRAGMA writable_schema` was turned on earlier in the text.
    writable_schema: bool,
}

pub(super) fn analyze(text: &str, d: Dialect) -> Vec<Finding> {
    analyze_chunked(text, d, CHUNK)
}

fn analyze_chunked(text: &str, d: Dialect, chunk: usize) -> Vec<Finding> {
    let dialect = dialect_of(d);
    let mut an = Analyzer {
        out: Vec::new(),
        created: Created::default(),
        dialect: d,
        writable_schema: false,
    };
    split(text, &*dialect, chunk, false, &mut |ev| match ev {
        Event::Statement(raw) => an.raw_statement(raw, text, d, &*dialect),
        Event::Error {
            tail,
            location,
            offset,
            message,
        } => {
            // The statement the tokenizer stopped in is reported from its start, with the rest.
            let (location, offset) = match &tail {
                Some(t) => (t.location(), t.start),
                None => (location, offset),
            };
            an.unreadable(
                Stmt {
                    text: text.get(offset..).unwrap_or(""),
                    location,
                },
                &message,
            );
        }
        Event::Comment(..) => {}
    });
    an.out
}

impl Analyzer {
    fn raw_statement(&mut self, raw: RawStmt, text: &str, d: Dialect, dialect: &dyn SqlDialect) {
        let s = Stmt {
            text: text.get(raw.start..raw.end).unwrap_or(""),
            location: raw.location(),
        };
        if d == Dialect::Sqlite {
            if let Some(on) = writable_schema_pragma(&raw.tokens) {
                self.writable_schema = on;
            }
        }
        // The tokens are moved into the parser; the allowlist needs them only when it fails,
        // which is rare, so only statements that may be on it keep a copy.
        let maybe_harmless = might_be_harmless(&raw.tokens, d).then(|| raw.tokens.clone());
        match Parser::new(dialect)
            .with_tokens_with_locations(raw.tokens)
            .parse_statements()
        {
            Ok(stmts) => {
                for st in &stmts {
                    self.statement(st, s);
                }
            }
            // Valid maintenance statements sqlparser does not know (see `harmless_unparsed`).
            Err(_) if maybe_harmless.is_some_and(|t| harmless_unparsed(&t, d)) => {}
            Err(e) => {
                let msg = e.to_string();
                let engine = engine_name(d);
                self.push(
                    FindingKind::Unparseable,
                    None,
                    format!("This statement does not parse as {engine} ({msg}), so what it does is unknown."),
                    Scope::Database,
                    false,
                    s,
                );
            }
        }
    }

    fn unreadable(&mut self, s: Stmt, msg: &str) {
        self.push(
            FindingKind::Unparseable,
            None,
            format!("The SQL from here on cannot be read ({msg}), so what it does is unknown."),
            Scope::Database,
            false,
            s,
        );
    }

    fn push(
        &mut self,
        kind: FindingKind,
        object: Option<String>,
        detail: String,
        scope: Scope,
        cascade: bool,
        s: Stmt,
    ) {
        self.out.push(
            Finding::new(kind, object, detail, scope)
                .with_statement(display_statement(s.text), Some(s.location))
                .with_cascade(cascade),
        );
    }

    fn statement(&mut self, st: &Statement, s: Stmt) {
        match st {
            Statement::Drop {
                object_type,
                names,
                cascade,
                temporary,
                ..
            } => match object_type {
                // MySQL `DROP TEMPORARY TABLE` only ever drops this session's temporary tables
                // (it fails on a permanent one), which vanish at disconnect anyway.
                ObjectType::Table if *temporary => {}
                ObjectType::Table => {
                    for n in names {
                        let (schema, table) = parts(n);
                        if table.is_empty() || self.created.has_table(&schema, &table, "") {
                            continue;
                        }
                        let name = join(&schema, &table);
                        let extra = if *cascade {
                            ", and through CASCADE what depends on it"
                        } else {
                            ""
                        };
                        self.push(
                            FindingKind::DropTable,
                            Some(name.clone()),
                            format!("Drops table {name} with all its rows{extra}."),
                            Scope::Tables { names: vec![name] },
                            *cascade,
                            s,
                        );
                    }
                }
                ObjectType::Database | ObjectType::Schema => {
                    for n in names {
                        let name = plain(n);
                        if self.created.has_database(&name) {
                            continue;
                        }
                        self.push(
                            FindingKind::DropDatabase,
                            Some(name.clone()),
                            format!("Drops database {name} with every table and row in it."),
                            Scope::Database,
                            *cascade,
                            s,
                        );
                    }
                }
                _ => {}
            },
            Statement::Truncate(t) => {
                let cascade = matches!(t.cascade, Some(CascadeOption::Cascade));
                for target in &t.table_names {
                    let (schema, table) = parts(&target.name);
                    if self.created.has_table(&schema, &table, "") {
                        continue;
                    }
                    let name = join(&schema, &table);
                    self.push(
                        FindingKind::Truncate,
                        Some(name.clone()),
                        format!("Removes every row of {name}."),
                        Scope::Tables { names: vec![name] },
                        cascade,
                        s,
                    );
                }
            }
            // `WITH x AS (...) DELETE/UPDATE ...`: the CTE only feeds the statement.
            Statement::Query(q) => match q.body.as_ref() {
                SetExpr::Delete(inner) | SetExpr::Update(inner) => self.statement(inner, s),
                _ => {}
            },
            Statement::Delete(d) => {
                let limit = Limit::of(d.limit.as_ref(), &d.order_by);
                let from = match &d.from {
                    FromTable::WithFromKeyword(v) | FromTable::WithoutKeyword(v) => v,
                };
                // MySQL multi-table DELETE: `DELETE t FROM t JOIN u ON ...` or
                // `DELETE FROM t USING t JOIN u ON ...`; the targets are named before FROM.
                let sources: Vec<&TableWithJoins> = from.iter().chain(d.using.iter().flatten()).collect();
                let names: Vec<(String, String)> = if !d.tables.is_empty() {
                    d.tables.iter().map(parts).collect()
                } else {
                    from.iter().filter_map(table_of).collect()
                };
                for (schema, table) in names {
                    if self.schema_table(&table) {
                        self.schema_table_delete(d.selection.as_ref(), s);
                        continue;
                    }
                    if join_bounds(&sources, &schema, &table) {
                        continue;
                    }
                    self.unbounded(
                        FindingKind::DeleteAll,
                        &schema,
                        &table,
                        d.selection.as_ref(),
                        limit.as_ref(),
                        s,
                    );
                }
            }
            Statement::Update(u) => {
                let limit = Limit::of(u.limit.as_ref(), &u.order_by);
                if let Some((schema, table)) = table_of(&u.table) {
                    if self.schema_table(&table) {
                        self.schema_table_write("UPDATE", "Rewrites", s);
                        return;
                    }
                    // MySQL multi-table UPDATE: `UPDATE t JOIN u ON ... SET ...`.
                    if join_bounds(&[&u.table], &schema, &table) {
                        return;
                    }
                    self.unbounded(
                        FindingKind::UpdateAll,
                        &schema,
                        &table,
                        u.selection.as_ref(),
                        limit.as_ref(),
                        s,
                    );
                }
            }
            Statement::Insert(i) => {
                if let sqlparser::ast::TableObject::TableName(n) = &i.table {
                    if self.schema_table(&parts(n).1) {
                        self.schema_table_write("INSERT", "Adds entries to", s);
                    }
                }
            }
            Statement::AlterTable(a) => {
                let (schema, table) = parts(&a.name);
                if self.created.has_table(&schema, &table, "") {
                    return;
                }
                let tname = join(&schema, &table);
                for op in &a.operations {
                    match op {
                        AlterTableOperation::DropColumn { column_names, .. } => {
                            for c in column_names {
                                let col = format!("{tname}.{}", c.value);
                                self.push(
                                    FindingKind::DropColumn,
                                    Some(col.clone()),
                                    format!("Drops column {col} and the value it holds in every row."),
                                    Scope::Tables {
                                        names: vec![tname.clone()],
                                    },
                                    false,
                                    s,
                                );
                            }
                        }
                        AlterTableOperation::ModifyColumn {
                            col_name, data_type, ..
                        } => self.type_change(&tname, &col_name.value, &data_type.to_string(), s),
                        AlterTableOperation::ChangeColumn {
                            old_name, data_type, ..
                        } => self.type_change(&tname, &old_name.value, &data_type.to_string(), s),
                        AlterTableOperation::AlterColumn {
                            column_name,
                            op: AlterColumnOperation::SetDataType { data_type, .. },
                        } => self.type_change(&tname, &column_name.value, &data_type.to_string(), s),
                        _ => {}
                    }
                }
            }
            Statement::CreateTable(c) if !c.if_not_exists => {
                let (schema, table) = parts(&c.name);
                self.created.add_table(&schema, &table, "");
            }
            Statement::CreateDatabase {
                db_name,
                if_not_exists: false,
                ..
            } => self.created.add_database(&plain(db_name)),
            _ => {}
        }
    }

    /// SQLite's schema table (`sqlite_master`, or `sqlite_schema` since 3.33), in any attached
    /// database: writable only under `PRAGMA writable_schema`, and editing it bypasses every
    /// check SQLite makes on DROP and ALTER.
    fn schema_table(&self, table: &str) -> bool {
        self.dialect == Dialect::Sqlite
            && (table.eq_ignore_ascii_case("sqlite_master") || table.eq_ignore_ascii_case("sqlite_schema"))
    }

    fn writable_note(&self) -> &'static str {
        if self.writable_schema {
            ""
        } else {
            " It only works under PRAGMA writable_schema = ON, which may have been set outside this text."
        }
    }

    /// `DELETE FROM sqlite_master ...`: the entries it removes take their tables' rows with them
    /// (the pages stay in the file, unreachable).
    fn schema_table_delete(&mut self, selection: Option<&Expr>, s: Stmt) {
        let note = self.writable_note();
        let named = selection.and_then(schema_entry_name);
        let always = selection.is_none_or(|e| eval(e, 0).and_then(|c| c.truthy()) == Some(true));
        let (kind, object, detail, scope) = match (named, always) {
            (Some(t), _) => (
                FindingKind::DropTable,
                Some(t.clone()),
                format!("Deletes the schema entry of {t} from SQLite's schema table: the table and all its rows become unreachable, and the file is left inconsistent.{note}"),
                Scope::Tables { names: vec![t] },
            ),
            (None, true) => (
                FindingKind::DropDatabase,
                None,
                format!("Deletes every entry of SQLite's schema table: every table, index and view of the database disappears with its rows.{note}"),
                Scope::Database,
            ),
            (None, false) => (
                FindingKind::Unknown,
                None,
                format!("Deletes entries of SQLite's schema table: every table its WHERE matches becomes unreachable with its rows, and which ones is not visible in the SQL.{note}"),
                Scope::Database,
            ),
        };
        self.push(kind, object, detail, scope, false, s);
    }

    fn schema_table_write(&mut self, verb: &str, does: &str, s: Stmt) {
        let note = self.writable_note();
        self.push(
            FindingKind::Unknown,
            None,
            format!(
                "{does} SQLite's schema table directly ({verb}): table definitions that no longer match their stored rows make them unreadable or corrupt the file, and what it changes is not visible in the SQL.{note}"
            ),
            Scope::Database,
            false,
            s,
        );
    }

    fn type_change(&mut self, table: &str, column: &str, ty: &str, s: Stmt) {
        let col = format!("{table}.{column}");
        self.push(
            FindingKind::AlterColumnType,
            Some(col.clone()),
            format!(
                "Changes the type of {col} to {ty}: a possibly lossy conversion that can truncate, round or reject existing values."
            ),
            Scope::Tables { names: vec![table.to_string()] },
            false,
            s,
        );
    }

    fn unbounded(
        &mut self,
        kind: FindingKind,
        schema: &str,
        table: &str,
        selection: Option<&Expr>,
        limit: Option<&Limit>,
        s: Stmt,
    ) {
        if table.is_empty() || self.created.has_table(schema, table, "") {
            return;
        }
        if let Some(e) = selection {
            if eval(e, 0).and_then(|c| c.truthy()) != Some(true) {
                return;
            }
        }
        let name = join(schema, table);
        let detail = match limit {
            Some(l) => l.detail(kind, &name, selection.is_some()),
            None => super::unbounded_detail(kind, &name, selection.is_some()),
        };
        self.push(
            kind,
            Some(name.clone()),
            detail,
            Scope::Tables { names: vec![name] },
            false,
            s,
        );
    }
}

/// A MySQL/SQLite `LIMIT n` (with or without ORDER BY) on a DELETE/UPDATE that no WHERE bounds.
struct Limit {
    count: String,
    ordered: bool,
}

impl Limit {
    fn of(limit: Option<&Expr>, order_by: &[sqlparser::ast::OrderByExpr]) -> Option<Limit> {
        limit.map(|l| Limit {
            count: l.to_string(),
            ordered: !order_by.is_empty(),
        })
    }

    /// LIMIT caps how many rows one run touches, not which: no condition chooses them, and the
    /// batch loops this shape comes from (`DELETE ... LIMIT 1000` until nothing is left) empty
    /// the table.
    fn detail(&self, kind: FindingKind, name: &str, has_where: bool) -> String {
        let verb = if kind == FindingKind::DeleteAll {
            "Deletes"
        } else {
            "Updates"
        };
        let why = if has_where {
            "its WHERE clause is always true"
        } else {
            "there is no WHERE clause"
        };
        let which = if self.ordered {
            "chosen only by their ORDER BY position"
        } else {
            "in no particular order (whichever the server reads first)"
        };
        format!(
            "{verb} up to {} rows of {name}, {which}: {why}, so no condition protects any row, and repeated runs reach every row.",
            self.count
        )
    }
}

/// SQLite `PRAGMA [schema.]writable_schema = value` (or `(value)`, or no value: a query):
/// Some(on) when it sets it. Unknown values count as on (fail closed).
fn writable_schema_pragma(tokens: &[TokenWithSpan]) -> Option<bool> {
    let toks: Vec<&Token> = tokens.iter().map(|t| &t.token).filter(|t| !is_trivia(t)).collect();
    let word = |t: &Token, w: &str| matches!(t, Token::Word(x) if x.value.eq_ignore_ascii_case(w));
    if !toks.first().is_some_and(|t| word(t, "PRAGMA")) {
        return None;
    }
    let name_at = if toks.get(2).is_some_and(|t| **t == Token::Period) {
        3
    } else {
        1
    };
    if !toks.get(name_at).is_some_and(|t| word(t, "writable_schema")) {
        return None;
    }
    let value = match toks.get(name_at + 1) {
        Some(Token::Eq) | Some(Token::LParen) => toks.get(name_at + 2)?,
        _ => return None,
    };
    let text = match value {
        Token::Word(w) => w.value.to_ascii_lowercase(),
        Token::Number(n, _) => n.clone(),
        Token::SingleQuotedString(s) | Token::DoubleQuotedString(s) => s.to_ascii_lowercase(),
        _ => return Some(true),
    };
    Some(!matches!(text.as_str(), "off" | "false" | "no" | "0" | "reset"))
}

/// (schema, table) of an object name, identifiers unquoted.
fn parts(n: &ObjectName) -> (String, String) {
    let idents: Vec<String> =
        n.0.iter()
            .filter_map(|p| p.as_ident().map(|i| i.value.clone()))
            .collect();
    match idents.as_slice() {
        [] => (String::new(), String::new()),
        [t] => (String::new(), t.clone()),
        [.., s, t] => (s.clone(), t.clone()),
    }
}

fn plain(n: &ObjectName) -> String {
    n.0.iter()
        .filter_map(|p| p.as_ident().map(|i| i.value.clone()))
        .collect::<Vec<_>>()
        .join(".")
}

/// `name = 'x'` / `tbl_name = 'x'` (either side, possibly inside an AND): the table whose
/// schema entry a DELETE on sqlite_master removes.
fn schema_entry_name(e: &Expr) -> Option<String> {
    match e {
        Expr::Nested(inner) => schema_entry_name(inner),
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => schema_entry_name(left).or_else(|| schema_entry_name(right)),
        Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        } => {
            let col = |x: &Expr| match x {
                Expr::Identifier(i) => Some(i.value.to_ascii_lowercase()),
                Expr::CompoundIdentifier(p) => p.last().map(|i| i.value.to_ascii_lowercase()),
                _ => None,
            };
            let lit = |x: &Expr| match eval(x, 0) {
                Some(Const::Str(s)) => Some(s),
                _ => None,
            };
            let (c, v) = match (col(left), col(right)) {
                (Some(c), _) => (c, lit(right)?),
                (None, Some(c)) => (c, lit(left)?),
                _ => return None,
            };
            matches!(c.as_str(), "name" | "tbl_name").then_some(v)
        }
        _ => None,
    }
}

fn join(schema: &str, table: &str) -> String {
    super::qualified(schema, table)
}

fn table_of(t: &TableWithJoins) -> Option<(String, String)> {
    match &t.relation {
        TableFactor::Table { name, .. } => Some(parts(name)),
        _ => None,
    }
}

/// Whether the joins of a multi-table DELETE/UPDATE bound the rows of `table` (a name or an
/// alias): it belongs to a FROM item whose joins are all inner joins with a real condition (ON
/// that is not always true, USING, NATURAL), like PostgreSQL's `DELETE ... USING ... WHERE`.
/// An outer or unconditioned join keeps every row of some side, so it bounds nothing.
fn join_bounds(sources: &[&TableWithJoins], schema: &str, table: &str) -> bool {
    sources.iter().any(|twj| {
        let names_it = std::iter::once(&twj.relation)
            .chain(twj.joins.iter().map(|j| &j.relation))
            .any(|r| factor_named(r, schema, table));
        names_it
            && !twj.joins.is_empty()
            && twj.joins.iter().all(|j| match &j.join_operator {
                JoinOperator::Join(c) | JoinOperator::Inner(c) | JoinOperator::StraightJoin(c) => match c {
                    JoinConstraint::On(e) => eval(e, 0).and_then(|v| v.truthy()) != Some(true),
                    JoinConstraint::Using(cols) => !cols.is_empty(),
                    JoinConstraint::Natural => true,
                    JoinConstraint::None => false,
                },
                _ => false,
            })
    })
}

/// A FROM table named `[schema.]table` or aliased `table`.
fn factor_named(f: &TableFactor, schema: &str, table: &str) -> bool {
    let TableFactor::Table { name, alias, .. } = f else {
        return false;
    };
    if schema.is_empty() && alias.as_ref().is_some_and(|a| a.name.value.eq_ignore_ascii_case(table)) {
        return true;
    }
    let (s, t) = parts(name);
    t.eq_ignore_ascii_case(table) && (schema.is_empty() || s.eq_ignore_ascii_case(schema))
}

fn eval(e: &Expr, depth: u32) -> Option<Const> {
    if depth > 64 {
        return None;
    }
    let n = depth + 1;
    match e {
        Expr::Value(v) => match &v.value {
            Value::Number(s, _) => constant::parse_number(s),
            Value::SingleQuotedString(s) => Some(Const::Str(s.clone())),
            // MySQL reads "..." as a string; SQLite falls back to a string when no column matches.
            Value::DoubleQuotedString(s) => Some(Const::Str(s.clone())),
            Value::Boolean(b) => Some(Const::Bool(*b)),
            Value::Null => Some(Const::Null),
            _ => None,
        },
        Expr::Nested(inner) => eval(inner, n),
        Expr::UnaryOp { op, expr } => {
            let v = eval(expr, n);
            match op {
                UnaryOperator::Not => constant::not(v),
                UnaryOperator::Minus => constant::arith(Arith::Sub, &Const::Int(0), &v?),
                UnaryOperator::Plus => v,
                _ => None,
            }
        }
        Expr::Cast { expr, data_type, .. } => {
            let v = eval(expr, n)?;
            let ty = data_type.to_string();
            let base = ty.split(['(', ' ']).next().unwrap_or("").to_ascii_lowercase();
            v.cast(&base)
        }
        Expr::Between {
            expr,
            negated,
            low,
            high,
        } => {
            let (v, lo, hi) = (eval(expr, n)?, eval(low, n)?, eval(high, n)?);
            constant::between(&v, &lo, &hi, *negated, false)
        }
        // `col LIKE '%'`: every row with a value, as `col = col` is.
        Expr::Like {
            negated: false,
            pattern,
            ..
        }
        | Expr::ILike {
            negated: false,
            pattern,
            ..
        } => match eval(pattern, n)? {
            Const::Str(p) if !p.is_empty() && p.bytes().all(|b| b == b'%') => Some(Const::Bool(true)),
            _ => None,
        },
        Expr::IsNull(x) => eval(x, n).map(|v| Const::Bool(matches!(v, Const::Null))),
        Expr::IsNotNull(x) => eval(x, n).map(|v| Const::Bool(!matches!(v, Const::Null))),
        Expr::IsTrue(x) => eval(x, n).map(|v| Const::Bool(v.truthy() == Some(true) && v != Const::Null)),
        Expr::IsNotFalse(x) => eval(x, n).map(|v| Const::Bool(v == Const::Null || v.truthy() == Some(true))),
        Expr::BinaryOp { left, op, right } => {
            if matches!(op, BinaryOperator::Eq) && same_ident(left, right) {
                return Some(Const::Bool(true));
            }
            match op {
                BinaryOperator::And => constant::and([eval(left, n), eval(right, n)]),
                BinaryOperator::Or => constant::or([eval(left, n), eval(right, n)]),
                _ => {
                    let (l, r) = (eval(left, n)?, eval(right, n)?);
                    match op {
                        BinaryOperator::Eq => constant::compare(Cmp::Eq, &l, &r),
                        BinaryOperator::NotEq => constant::compare(Cmp::NotEq, &l, &r),
                        BinaryOperator::Lt => constant::compare(Cmp::Lt, &l, &r),
                        BinaryOperator::LtEq => constant::compare(Cmp::LtEq, &l, &r),
                        BinaryOperator::Gt => constant::compare(Cmp::Gt, &l, &r),
                        BinaryOperator::GtEq => constant::compare(Cmp::GtEq, &l, &r),
                        BinaryOperator::Spaceship => constant::compare(Cmp::NullSafeEq, &l, &r),
                        BinaryOperator::Plus => constant::arith(Arith::Add, &l, &r),
                        BinaryOperator::Minus => constant::arith(Arith::Sub, &l, &r),
                        BinaryOperator::Multiply => constant::arith(Arith::Mul, &l, &r),
                        _ => None,
                    }
                }
            }
        }
        _ => None,
    }
}

fn same_ident(a: &Expr, b: &Expr) -> bool {
    match (a, b) {
        (Expr::Identifier(x), Expr::Identifier(y)) => x.value.eq_ignore_ascii_case(&y.value),
        (Expr::CompoundIdentifier(x), Expr::CompoundIdentifier(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| p.value.eq_ignore_ascii_case(&q.value))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(sql: &str, d: Dialect) -> Vec<&'static str> {
        analyze(sql, d).iter().map(|f| f.kind.as_str()).collect()
    }

    #[test]
    fn basics() {
        assert_eq!(kinds("DELETE FROM t WHERE 1", Dialect::Sqlite), vec!["delete_all"]);
        assert_eq!(
            kinds("DROP DATABASE shop; DELETE FROM t WHERE id > 3 LIMIT 5", Dialect::Mysql),
            vec!["drop_database"]
        );
        assert_eq!(
            kinds("ALTER TABLE t MODIFY COLUMN c INT", Dialect::Mysql),
            vec!["alter_column_type"]
        );
    }

    /// Texts whose statements span chunk boundaries in every way: strings and comments holding
    /// `;` and newlines, trigger/procedure bodies, MySQL executable comments, unterminated quotes.
    const TRICKY: &[(&str, Dialect)] = &[
        ("INSERT INTO t VALUES ('a;\nb');\nDROP TABLE x;\n-- c;\n/* d;\n; */ DELETE FROM y;", Dialect::Sqlite),
        ("CREATE TRIGGER trg AFTER INSERT ON a\nBEGIN\n  DELETE FROM b WHERE id = new.id;\n  UPDATE c SET x = 1;\nEND;\nDROP TABLE c;\n", Dialect::Sqlite),
        ("CREATE PROCEDURE p()\nBEGIN\n  IF 1 THEN DELETE FROM b; END IF;\n  WHILE 0 DO UPDATE c SET x = 1; END WHILE;\nEND;\nTRUNCATE t;\n", Dialect::Mysql),
        ("SELECT `a;\nb` FROM t;\n# x;\nDROP TABLE `q\n;`;\n/*!50001 DROP TABLE z */;\nDELETE FROM u", Dialect::Mysql),
        ("CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\nDROP TABLE t;\nDELETE FROM w WHERE 1 = 1;\nSELECT 'unterminated;\nDROP TABLE v;", Dialect::Sqlite),
        ("DELETE FROM a;\n/* never closed; DROP TABLE b;", Dialect::Mysql),
        ("UPDATE t SET x = (1;\nDROP TABLE b;\n", Dialect::Sqlite),
        ("  \n\n  DROP TABLE é;\n   \n\t", Dialect::Sqlite),
        ("INSERT INTO t VALUES (1, 'é; ü'), (2, 'x');DROP TABLE t2;DROP TABLE t3", Dialect::Mysql),
        ("-- dbguard:allow drop_table ok\nDROP TABLE a; -- trailing\n/* dbguard:allow all fine */\nDELETE FROM b;", Dialect::Sqlite),
        ("ALTER TABLE t DROP COLUMN c; DELETE FROM", Dialect::Sqlite),
    ];

    fn same_with_chunks(sql: &str, d: Dialect, chunk: usize) {
        let whole = analyze_chunked(sql, d, usize::MAX);
        let chunked = analyze_chunked(sql, d, chunk);
        assert_eq!(whole, chunked, "chunk {chunk} changed the findings of {sql:?}");
        let (lw, lc) = (layout_chunked(sql, d, usize::MAX), layout_chunked(sql, d, chunk));
        assert_eq!(
            (lw.statements, lw.comments),
            (lc.statements, lc.comments),
            "chunk {chunk} changed the layout of {sql:?}"
        );
    }

    #[test]
    fn chunk_boundaries_change_nothing() {
        for (sql, d) in TRICKY {
            assert!(!analyze_chunked(sql, *d, usize::MAX).is_empty());
            for chunk in 1..=sql.len() + 1 {
                same_with_chunks(sql, *d, chunk);
            }
        }
    }

    /// Every SQLite/MySQL corpus case, cut at every chunk size up to its length.
    #[test]
    fn corpus_is_chunk_independent() {
        let files = [
            include_str!("../../tests/corpus/sql/sqlite.toml"),
            include_str!("../../tests/corpus/sql/mysql.toml"),
        ];
        let mut n = 0;
        for file in files {
            let doc: toml::Table = toml::from_str(file).unwrap();
            for case in doc["case"].as_array().unwrap() {
                let sql = case["sql"].as_str().unwrap();
                let d = match case.get("dialect").and_then(|v| v.as_str()) {
                    Some("mysql") | Some("mariadb") => Dialect::Mysql,
                    _ => Dialect::Sqlite,
                };
                for chunk in 1..=sql.len() + 1 {
                    same_with_chunks(sql, d, chunk);
                }
                n += 1;
            }
        }
        assert!(n > 50, "{n}");
    }

    #[test]
    fn an_unclosed_parenthesis_does_not_swallow_the_rest() {
        let mut sql = String::from("INSERT INTO t VALUES ((1, 2;\n");
        for i in 0..30_000 {
            sql.push_str(&format!("INSERT INTO t VALUES ({i}, 'x');\n"));
        }
        sql.push_str("DROP TABLE users;\nSELECT 1;\n");
        let whole = kinds(&sql, Dialect::Sqlite);
        assert!(whole.contains(&"unparseable"), "{whole:?}");
        assert!(whole.contains(&"drop_table"), "{whole:?}");
        for chunk in [4096, 65_536, 1 << 20] {
            same_with_chunks(&sql, Dialect::Sqlite, chunk);
        }
    }

    #[test]
    fn long_text_keeps_locations() {
        let mut sql = String::new();
        for i in 0..5_000 {
            sql.push_str(&format!("INSERT INTO t VALUES ({i}, 'a;b\n--x');\n"));
        }
        sql.push_str("CREATE TRIGGER g AFTER INSERT ON t BEGIN\n");
        for _ in 0..2_000 {
            sql.push_str("  DELETE FROM u WHERE id = new.id;\n");
        }
        sql.push_str("END;\nDROP TABLE victim;");
        for chunk in [64, 1000, 4096, usize::MAX] {
            let f = analyze_chunked(&sql, Dialect::Sqlite, chunk);
            assert_eq!(f.len(), 1, "{f:?}");
            assert_eq!(f[0].object.as_deref(), Some("victim"));
            assert_eq!(
                f[0].location,
                Some(Location {
                    line: 12_003,
                    column: 1
                })
            );
        }
    }
}
