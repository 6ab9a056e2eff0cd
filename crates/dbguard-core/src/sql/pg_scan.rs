//! The PostgreSQL scanner's view of a text: statements delimited by the server's own scanner
//! (libpg_query), with the facts about their tokens that the fast path (`pg_fast`) decides on.
//! Nothing here parses; the analysis (`postgres`) asks for the full parse when the fast path
//! cannot prove a statement harmless.

use pg_query::protobuf::{KeywordKind, ScanToken, Token};

use super::{remote, Cursor};

/// First chunk scanned at once; doubled while a statement does not fit.
const CHUNK: usize = 256 * 1024;
/// Significant tokens kept per statement for the fast path.
pub(super) const HEAD: usize = 24;

#[derive(Debug, Clone, Copy)]
pub(super) struct Tok {
    pub token: i32,
    pub start: usize,
    pub end: usize,
    /// An identifier or an unreserved keyword: a column reference wherever an expression may
    /// stand (column-name keywords such as BETWEEN are not, there).
    pub column_like: bool,
}

/// One statement as the scanner delimited it.
#[derive(Debug)]
pub(super) struct RawStmt {
    pub start: usize,
    pub end: usize,
    /// The first [`HEAD`] significant tokens.
    pub head: Vec<Tok>,
    /// Every significant token is in `head`.
    pub complete: bool,
    /// Tokens that could mean data loss (see the `postgres` module comment): DROP, TRUNCATE,
    /// EXECUTE, and DELETE/UPDATE other than `ON DELETE`/`ON UPDATE`/`DO UPDATE`/`FOR UPDATE`.
    pub destroying: u32,
    /// An identifier that may name a dblink function (or a Unicode-escaped one).
    pub remote: bool,
    /// TYPE or a second ALTER: an ALTER TABLE that might change a column's type.
    pub alter_type: bool,
    /// An INTO keyword: `SELECT ... INTO new_table` creates a table.
    pub into: bool,
    /// The statement ends with a top-level `WHERE column = literal` (see [`WhereShape`]).
    pub where_eq_literal: bool,
}

impl RawStmt {
    /// A token that could mean data loss appears somewhere.
    pub fn risky(&self) -> bool {
        self.destroying > 0 || self.remote
    }
}

/// How far the tokens after the last top-level WHERE match `name [. name]... = literal`, the
/// end of a statement that touches the rows of one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum WhereShape {
    #[default]
    NoWhere,
    Name,
    AfterName,
    Dot,
    Eq,
    Done,
    Other,
}

impl WhereShape {
    fn next(self, t: &Tok) -> WhereShape {
        use WhereShape::*;
        match self {
            NoWhere => NoWhere,
            Name | Dot if t.column_like => AfterName,
            AfterName if t.token == T_DOT => Dot,
            AfterName if t.token == T_EQ => Eq,
            Eq if LITERALS.contains(&t.token) => Done,
            _ => Other,
        }
    }
}

/// Constants that are never a column: numbers, strings and parameters (`$1`).
const LITERALS: [i32; 4] = [
    Token::Iconst as i32,
    Token::Fconst as i32,
    Token::Sconst as i32,
    Token::Param as i32,
];

pub(super) enum Event {
    Statement(RawStmt),
    Comment(usize, usize),
    /// The scanner rejected the text from `start` on (unterminated quote or comment...).
    Error {
        start: usize,
        message: String,
    },
}

const T_SEMI: i32 = Token::Ascii59 as i32;
const T_LPAREN: i32 = Token::Ascii40 as i32;
const T_RPAREN: i32 = Token::Ascii41 as i32;
pub(super) const T_DOT: i32 = Token::Ascii46 as i32;
const T_EQ: i32 = Token::Ascii61 as i32;

/// Per-statement scanner state while splitting.
struct Splitter {
    started: bool,
    start: usize,
    last_end: usize,
    depth: u32,
    atomic: u32,
    prev: i32,
    head: Vec<Tok>,
    complete: bool,
    destroying: u32,
    remote: bool,
    alter_type: bool,
    into: bool,
    where_shape: WhereShape,
    comments: Vec<(usize, usize)>,
}

impl Splitter {
    fn new() -> Self {
        Splitter {
            started: false,
            start: 0,
            last_end: 0,
            depth: 0,
            atomic: 0,
            prev: 0,
            head: Vec::with_capacity(HEAD),
            complete: true,
            destroying: 0,
            remote: false,
            alter_type: false,
            into: false,
            where_shape: WhereShape::NoWhere,
            comments: Vec::new(),
        }
    }

    /// Feed one token; returns true at a statement boundary (a top-level `;`).
    fn feed(&mut self, t: Tok) -> bool {
        let tok = t.token;
        if tok == Token::SqlComment as i32 || tok == Token::CComment as i32 {
            self.comments.push((t.start, t.end));
            return false;
        }
        if tok == T_SEMI && self.depth == 0 && self.atomic == 0 {
            return true;
        }
        if !self.started {
            self.started = true;
            self.start = t.start;
        }
        self.last_end = t.end;
        if self.head.len() < HEAD {
            self.head.push(t);
        } else {
            self.complete = false;
        }
        self.where_shape = if tok == Token::Where as i32 && self.depth == 0 {
            WhereShape::Name
        } else {
            self.where_shape.next(&t)
        };
        match tok {
            T_LPAREN => self.depth = self.depth.saturating_add(1),
            T_RPAREN => self.depth = self.depth.saturating_sub(1),
            _ => {}
        }
        let first = self.head.first().map(|h| h.token).unwrap_or(0);
        if tok == Token::Atomic as i32 && self.prev == Token::BeginP as i32 && first == Token::Create as i32 {
            self.atomic = 1;
        } else if self.atomic > 0 {
            if tok == Token::Case as i32 {
                self.atomic = self.atomic.saturating_add(1);
            } else if tok == Token::EndP as i32 {
                self.atomic -= 1;
            }
        }
        let benign_prev = [Token::On as i32, Token::Do as i32, Token::For as i32];
        if tok == Token::Drop as i32
            || tok == Token::Truncate as i32
            || tok == Token::Execute as i32
            || ((tok == Token::DeleteP as i32 || tok == Token::Update as i32) && !benign_prev.contains(&self.prev))
        {
            self.destroying = self.destroying.saturating_add(1);
        }
        if tok == Token::TypeP as i32 || (tok == Token::Alter as i32 && self.head.len() > 1) {
            self.alter_type = true;
        }
        if tok == Token::Into as i32 {
            self.into = true;
        }
        self.prev = tok;
        false
    }

    fn take(&mut self) -> Option<RawStmt> {
        let started = self.started;
        let stmt = RawStmt {
            start: self.start,
            end: self.last_end,
            head: std::mem::take(&mut self.head),
            complete: self.complete,
            destroying: self.destroying,
            remote: self.remote,
            alter_type: self.alter_type,
            into: self.into,
            where_eq_literal: self.where_shape == WhereShape::Done,
        };
        let comments = std::mem::take(&mut self.comments);
        *self = Splitter::new();
        self.comments = comments;
        started.then_some(stmt)
    }
}

/// Runs of operator characters longer than this are not handed to the PostgreSQL scanner.
///
/// Why: scan.l's `operator` and `xcstart` (`/*` followed by operator characters) rules match the
/// whole run of operator characters and then give back all but the first token (`yyless`), so
/// a run of n operator characters (`/*/*/*...`, `+-+-...`) costs about n²/4 character steps:
/// 64 KB of `/*` took 2-3 s and 1 MB never finished. Real SQL never holds such a run outside a
/// string or comment, and one inside them (a 1,000-character `-----` rule) only costs a false
/// Unparseable.
pub(super) const MAX_OP_RUN: usize = 1000;
/// Runs longer than this count against [`OP_RUN_BUDGET`]: shorter ones cost at most
/// `LONG_OP_RUN / 4` steps per character, whatever their number.
pub(super) const LONG_OP_RUN: usize = 128;
/// Sum of the squared lengths of long runs scanned per text (64 runs of 1,000; about 0.05 s):
/// without it, a megabyte of runs just under [`MAX_OP_RUN`] still took 1.5 s.
const OP_RUN_BUDGET: usize = 64 * MAX_OP_RUN * MAX_OP_RUN;

/// scan.l `op_chars`.
fn is_op_char(b: u8) -> bool {
    matches!(
        b,
        b'~' | b'!'
            | b'@'
            | b'#'
            | b'^'
            | b'&'
            | b'|'
            | b'`'
            | b'?'
            | b'+'
            | b'-'
            | b'*'
            | b'/'
            | b'%'
            | b'<'
            | b'>'
            | b'='
    )
}

/// Start and length of the first run of operator characters that is too costly to scan: longer
/// than [`MAX_OP_RUN`], or a long one past [`OP_RUN_BUDGET`].
pub(super) fn pathological_run(text: &str) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut spent = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        if !is_op_char(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_op_char(bytes[i]) {
            i += 1;
        }
        let len = i - start;
        if len > LONG_OP_RUN {
            spent = spent.saturating_add(len.saturating_mul(len));
        }
        if len > MAX_OP_RUN || spent > OP_RUN_BUDGET {
            return Some((start, len));
        }
    }
    None
}

/// Split `text` into statements with the PostgreSQL scanner (see [`split_scanned`]). A text
/// holding a run of operator characters too long to scan (see [`MAX_OP_RUN`]) is scanned only
/// up to the run: the statements that end before it are analyzed as usual, and everything from
/// the start of the statement that holds the run is one Unparseable region. Where that statement
/// ends is unknown without scanning the run (it may sit in a comment or string that closes much
/// later, or never), so nothing after it is trusted to be a separate, harmless statement.
pub(super) fn split(text: &str, on: &mut dyn FnMut(Event)) {
    let Some((run, len)) = pathological_run(text) else {
        split_scanned(text, false, on);
        return;
    };
    let done = split_scanned(&text[..run], true, on);
    let start = text[done..]
        .bytes()
        .position(|b| !is_pg_space(b))
        .map_or(run, |p| done + p);
    on(Event::Error {
        start,
        message: format!(
            "a run of {len} operator characters at byte {run}: runs of operator characters this long, or this many long ones, are not scanned"
        ),
    });
}

/// Split `text` into statements with the PostgreSQL scanner, chunk by chunk. A chunk is cut at a
/// line end; only statements that end with a `;` inside the chunk are committed, the rest is
/// scanned again with the next chunk, so a cut inside a string never changes the result.
///
/// With `truncated`, `text` is a prefix cut at an arbitrary point: only statements that end with
/// a `;` are emitted, no error is reported, and the return value says where the unemitted rest
/// begins (otherwise it is `text.len()`).
fn split_scanned(text: &str, truncated: bool, on: &mut dyn FnMut(Event)) -> usize {
    let mut base = 0usize;
    let mut size = CHUNK;
    while base < text.len() {
        let (end, last) = super::chunk_end(text, base, size);
        let slice = &text[base..end];
        // pg_query::scan_tokens builds a slice from a null pointer when there is no token at all
        // (undefined behaviour), so blank chunks never reach it. Only whitespace yields no token:
        // every other character starts a token or is a scan error.
        if slice.bytes().all(is_pg_space) {
            if last {
                return text.len();
            }
            base = end;
            continue;
        }
        let tokens = match pg_query::scan_tokens(slice) {
            Ok(t) => t,
            Err(_) if !last => {
                // Possibly cut inside a string or comment: try again with more text.
                size = size.saturating_mul(2);
                continue;
            }
            Err(e) => {
                // The rest of the text does not scan. Keep the statements before the statement
                // that holds the error, and report the rest as unreadable.
                let mut rest = base;
                if let Some(cut) = salvage_cut(slice) {
                    if let Ok(tokens) = pg_query::scan_tokens(&slice[..cut]) {
                        feed_tokens(&tokens, &slice[..cut], base, true, on);
                        rest = base + cut;
                    }
                }
                if truncated {
                    return rest;
                }
                let tail = &text[rest..];
                if let Some(p) = tail.bytes().position(|b| !is_pg_space(b)) {
                    on(Event::Error {
                        start: rest + p,
                        message: scan_message(&e),
                    });
                }
                return text.len();
            }
        };
        let committed = feed_tokens(&tokens, slice, base, last && !truncated, on);
        if last {
            return if truncated {
                committed.unwrap_or(base)
            } else {
                text.len()
            };
        }
        match committed {
            Some(c) => {
                base = c;
                size = CHUNK;
            }
            None => size = size.saturating_mul(2),
        }
    }
    text.len()
}

/// Emit the statements of one scanned chunk; returns where the last committed statement ended
/// (after its `;`). Unless `last`, a statement without its `;` is left for the next chunk.
pub(super) fn feed_tokens(
    tokens: &[ScanToken],
    slice: &str,
    base: usize,
    last: bool,
    on: &mut dyn FnMut(Event),
) -> Option<usize> {
    let mut sp = Splitter::new();
    let mut committed: Option<usize> = None;
    for st in tokens {
        let t = to_tok(st, base);
        if (st.token == Token::Ident as i32 || st.token == Token::Uident as i32)
            && remote::may_name_remote_call(token_text(slice, st))
        {
            // A call that sends SQL to another connection needs the full parse.
            sp.remote = true;
        }
        if sp.feed(t) {
            for &(s, e) in &sp.comments {
                on(Event::Comment(s, e));
            }
            sp.comments.clear();
            if let Some(stmt) = sp.take() {
                on(Event::Statement(stmt));
            }
            committed = Some(t.end);
        }
    }
    if last {
        for &(s, e) in &sp.comments {
            on(Event::Comment(s, e));
        }
        sp.comments.clear();
        if let Some(stmt) = sp.take() {
            on(Event::Statement(stmt));
        }
    }
    committed
}

/// Where to cut a text that the PostgreSQL scanner rejects, so that the statements before the
/// faulty one can still be analyzed: just after the last top-level `;` before the error, as
/// sqlparser's PostgreSQL tokenizer (which reports where it failed) sees it. The caller scans
/// the prefix again with the real scanner, so a disagreement only loses the salvage.
fn salvage_cut(slice: &str) -> Option<usize> {
    use sqlparser::tokenizer::{Token as SpToken, Tokenizer};
    let dialect = sqlparser::dialect::PostgreSqlDialect {};
    let mut buf = Vec::new();
    let _ = Tokenizer::new(&dialect, slice).tokenize_with_location_into_buf(&mut buf);
    let mut depth = 0u32;
    let mut last_semi = None;
    for t in &buf {
        match t.token {
            SpToken::LParen => depth = depth.saturating_add(1),
            SpToken::RParen => depth = depth.saturating_sub(1),
            SpToken::SemiColon if depth == 0 => last_semi = Some(t.span.end),
            _ => {}
        }
    }
    let end = last_semi?;
    let line = u32::try_from(end.line).ok()?;
    let column = u32::try_from(end.column).ok()?;
    let cut = Cursor::new(slice).seek(line, column);
    (cut > 0 && cut < slice.len()).then_some(cut)
}

/// The source text of a scanned token (offsets relative to `slice`).
pub(super) fn token_text<'a>(slice: &'a str, st: &ScanToken) -> &'a str {
    let start = usize::try_from(st.start).unwrap_or(0);
    let end = usize::try_from(st.end).unwrap_or(0);
    slice.get(start..end).unwrap_or("")
}

/// The scanner's whitespace (scan.l `space`).
pub(super) fn is_pg_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'\x0b')
}

pub(super) fn to_tok(st: &ScanToken, base: usize) -> Tok {
    Tok {
        token: st.token,
        start: base + usize::try_from(st.start).unwrap_or(0),
        end: base + usize::try_from(st.end).unwrap_or(0),
        column_like: st.token == Token::Ident as i32 || st.keyword_kind == KeywordKind::UnreservedKeyword as i32,
    }
}

pub(super) fn scan_message(e: &pg_query::Error) -> String {
    match e {
        pg_query::Error::Conversion(_) => "the text contains a NUL byte".to_string(),
        pg_query::Error::Scan(m) | pg_query::Error::Parse(m) => m.clone(),
        other => other.to_string(),
    }
}
