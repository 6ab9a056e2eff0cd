//! The fast path: statements whose tokens prove that they cannot destroy data skip the full
//! parse (see the `postgres` module comment for why and for the exact rules).
//!
//! Two shapes beyond the first-token list are common in migration folders and cost a full
//! parse each otherwise:
//! - `UPDATE|DELETE ... WHERE column = literal` as the statement's end, with no other DROP,
//!   TRUNCATE, EXECUTE, DELETE or UPDATE token and no dblink call: a WHERE that compares a
//!   column with a constant is never constant-true, so the full analysis could not report it.
//! - `DO $tag$ body $tag$ [LANGUAGE plpgsql]` whose body, scanned with the server's scanner,
//!   holds none of the tokens that any finding needs (see [`body_is_harmless`]). Only
//!   dollar-quoted bodies: their text is the body itself, while escapes in `'...'` strings could
//!   spell anything.
//!
//! A statement that passes here and would not parse is rejected by the server too, so it
//! destroys nothing; everything else gets the full parse (fail closed).

use pg_query::protobuf::Token;

use super::pg_scan::{is_pg_space, token_text, RawStmt};
use super::remote;

/// Whether the statement's tokens prove that it cannot destroy data, nor change what later
/// statements do (by creating a table they may drop): then it needs no parse.
pub(super) fn fast_path(stmt: &RawStmt, text: &str) -> bool {
    let h = &stmt.head;
    let tok = |i: usize| h.get(i).map(|t| t.token).unwrap_or(-1);
    let first = tok(0);
    if (first == Token::Update as i32 || first == Token::DeleteP as i32)
        && stmt.destroying == 1
        && !stmt.remote
        && stmt.where_eq_literal
    {
        return true;
    }
    if stmt.risky() {
        return false;
    }
    if first == Token::Do as i32 {
        return do_block(stmt, text);
    }
    if first == Token::Select as i32 && stmt.into {
        return false;
    }
    if [
        Token::Insert,
        Token::Select,
        Token::Comment,
        Token::Grant,
        Token::Revoke,
    ]
    .iter()
    .any(|t| *t as i32 == first)
    {
        return true;
    }
    if first == Token::Alter as i32 && tok(1) == Token::Table as i32 && !stmt.alter_type {
        return true;
    }
    if first != Token::Create as i32 {
        return false;
    }
    let mut i = 1;
    if tok(i) == Token::Or as i32 && tok(i + 1) == Token::Replace as i32 {
        i += 2;
    }
    let skippable = [
        Token::Global,
        Token::Local,
        Token::Temp,
        Token::Temporary,
        Token::Unlogged,
        Token::Unique,
    ];
    while skippable.iter().any(|t| *t as i32 == tok(i)) {
        i += 1;
    }
    let kind = tok(i);
    let harmless = [
        Token::Index,
        Token::Sequence,
        Token::TypeP,
        Token::View,
        Token::Extension,
    ];
    if harmless.iter().any(|t| *t as i32 == kind) {
        return true;
    }
    if kind != Token::Table as i32 {
        return false;
    }
    if tok(i + 1) == Token::IfP as i32 {
        // IF NOT EXISTS: the table may already hold data, so it is not recorded as created.
        return true;
    }
    // A table the text creates makes later losses of it harmless, so the statement must really
    // create it: only the full parse knows that it parses (`CREATE TABLE t (,); DROP TABLE t`
    // would drop the existing table).
    false
}

/// An identifier token as PostgreSQL stores it: quoted kept as written, unquoted ASCII-lowercased.
fn fold_identifier(raw: &str) -> Option<String> {
    if let Some(inner) = raw.strip_prefix('"') {
        return Some(inner.strip_suffix('"')?.replace("\"\"", "\""));
    }
    if raw.starts_with(['U', 'u']) && raw.get(1..2) == Some("&") {
        return None;
    }
    Some(raw.to_ascii_lowercase())
}

/// `DO` with a dollar-quoted PL/pgSQL body that cannot destroy data.
fn do_block(stmt: &RawStmt, text: &str) -> bool {
    if !stmt.complete {
        return false;
    }
    let h = &stmt.head;
    let word = |i: usize| h.get(i).and_then(|t| text.get(t.start..t.end));
    let is = |i: usize, token: Token| h.get(i).is_some_and(|t| t.token == token as i32);
    let plpgsql = |i: usize| match word(i) {
        Some(w) if is(i, Token::Ident) => fold_identifier(w).as_deref() == Some("plpgsql"),
        Some(w) if is(i, Token::Sconst) => w == "'plpgsql'",
        _ => false,
    };
    let body_at = match h.len() {
        2 => 1,
        4 if is(2, Token::Language) && plpgsql(3) => 1,
        4 if is(1, Token::Language) && plpgsql(2) => 3,
        _ => return false,
    };
    if !is(body_at, Token::Sconst) {
        return false;
    }
    word(body_at).and_then(dollar_body).is_some_and(body_is_harmless)
}

/// The text between the tags of a dollar-quoted string (`$$...$$`, `$tag$...$tag$`).
fn dollar_body(quoted: &str) -> Option<&str> {
    let rest = quoted.strip_prefix('$')?;
    let tag_len = rest.find('$')? + 2;
    let tag = quoted.get(..tag_len)?;
    if quoted.len() < 2 * tag_len || !quoted.ends_with(tag) {
        return None;
    }
    quoted.get(tag_len..quoted.len() - tag_len)
}

/// Tokens that any finding in a PL/pgSQL body needs, besides DELETE/UPDATE, DO and ALTER
/// (below): DROP, TRUNCATE, EXECUTE (prepared statements and every form of dynamic SQL),
/// FUNCTION/PROCEDURE and RULE (latent bodies and actions), PROGRAM (COPY ... PROGRAM), WITH
/// (data-modifying CTEs) and MERGE.
const BODY_STOP: [Token; 9] = [
    Token::Drop,
    Token::Truncate,
    Token::Execute,
    Token::Function,
    Token::Procedure,
    Token::Rule,
    Token::Program,
    Token::With,
    Token::Merge,
];

/// Whether a PL/pgSQL body cannot destroy data, from its tokens alone. Every statement it can
/// run is static SQL or dynamic SQL (which needs EXECUTE), and every static statement that the
/// analysis reports holds one of [`BODY_STOP`], a dblink call, an `ALTER TABLE` that changes a
/// column's type (TYPE or a second ALTER before the next `;`), a nested DO block, or a DELETE or
/// UPDATE keyword other than the referential actions `ON DELETE`/`ON UPDATE` and an upsert's
/// `DO UPDATE SET`. Unlike top-level SQL, `FOR UPDATE`/`FOR DELETE` is not trusted here:
/// `OPEN c FOR DELETE ...` runs the DELETE. The body is scanned by the scanner that PL/pgSQL
/// itself uses; a body that does not scan gets the full analysis.
pub(super) fn body_is_harmless(body: &str) -> bool {
    // scan_tokens misbehaves on text without a token; an empty body does not compile.
    if body.bytes().all(is_pg_space) {
        return true;
    }
    let Ok(scanned) = pg_query::scan_tokens(body) else {
        return false;
    };
    let sig: Vec<_> = scanned
        .iter()
        .filter(|t| t.token != Token::SqlComment as i32 && t.token != Token::CComment as i32)
        .collect();
    let at = |i: Option<usize>| i.and_then(|i| sig.get(i)).map_or(-1, |t| t.token);
    let is = |i: Option<usize>, token: Token| at(i) == token as i32;
    // Inside `ALTER TABLE ...` up to the next `;`.
    let mut alter_table = false;
    for (i, st) in sig.iter().enumerate() {
        let tok = st.token;
        let (prev, next) = (i.checked_sub(1), Some(i + 1));
        if BODY_STOP.iter().any(|t| *t as i32 == tok) || tok == Token::Uident as i32 {
            return false;
        }
        if tok == Token::Ident as i32 && remote::may_name_remote_call(token_text(body, st)) {
            return false;
        }
        let upsert = |u: Option<usize>| is(u, Token::Update) && is(u.map(|u| u + 1), Token::Set);
        if tok == Token::Do as i32 && !(is(next, Token::Nothing) || upsert(next)) {
            return false;
        }
        if tok == Token::DeleteP as i32 && !is(prev, Token::On) {
            return false;
        }
        if tok == Token::Update as i32 && !is(prev, Token::On) && !(is(prev, Token::Do) && upsert(Some(i))) {
            return false;
        }
        if tok == Token::Alter as i32 {
            if alter_table || !is(next, Token::Table) {
                return false;
            }
            alter_table = true;
        } else if alter_table && tok == Token::TypeP as i32 {
            return false;
        }
        if tok == Token::Ascii59 as i32 {
            alter_table = false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::super::pg_scan::{split, Event};
    use super::*;

    /// Whether the fast path settles the (single) statement of `sql` without a parse.
    fn skipped(sql: &str) -> bool {
        let mut out = None;
        split(sql, &mut |ev| {
            if let Event::Statement(raw) = ev {
                out = Some(fast_path(&raw, sql));
            }
        });
        out.expect("one statement")
    }

    #[test]
    fn common_migration_shapes_skip_the_parse() {
        for sql in [
            "UPDATE users SET name = 'x' WHERE id = 42",
            "DELETE FROM sessions WHERE sessions.token = $1",
            "DO $$ BEGIN CREATE TYPE \"public\".\"s\" AS ENUM('a'); EXCEPTION WHEN duplicate_object THEN null; END $$",
            "DO $$ BEGIN ALTER TABLE \"p\" ADD CONSTRAINT \"f\" FOREIGN KEY (\"u\") REFERENCES \"public\".\"u\"(\"id\") \
             ON DELETE cascade ON UPDATE no action; EXCEPTION WHEN duplicate_object THEN null; END $$",
            "DO $b$ DECLARE n int; BEGIN SELECT count(*) INTO n FROM t; RAISE NOTICE '%', n; END $b$ LANGUAGE plpgsql",
            "DO LANGUAGE plpgsql $$ BEGIN INSERT INTO t VALUES (1) ON CONFLICT (id) DO UPDATE SET a = 2; END $$",
        ] {
            assert!(skipped(sql), "{sql}");
        }
    }

    #[test]
    fn look_alikes_get_the_full_parse() {
        for sql in [
            "UPDATE users SET name = 'x'",
            "UPDATE users SET name = 'x' WHERE id = id",
            "UPDATE users SET name = 'x' WHERE id = 1 OR true",
            "UPDATE users SET a = dblink_exec('x', 'DROP TABLE t') WHERE id = 1",
            "DELETE FROM t WHERE id = 1 RETURNING *",
            "DO 'BEGIN NULL; END'",
            "DO $$ BEGIN DELETE FROM t WHERE id = 1; END $$",
            "DO $$ BEGIN ALTER TABLE t ALTER c TYPE int; END $$",
            "DO $$ BEGIN ALTER TABLE t ADD c int; ALTER TABLE t ALTER c SET DEFAULT 1; END $$",
            "DO $$ BEGIN OPEN c FOR DELETE FROM t RETURNING id; END $$",
            "DO $$ BEGIN PERFORM 1 FROM t FOR UPDATE; END $$",
            "DO $$ BEGIN DO $x$ BEGIN NULL; END $x$; END $$",
            "DO $$ BEGIN NULL; END $$ LANGUAGE plperl",
            "DO $$ BEGIN /* unterminated END $$",
        ] {
            assert!(!skipped(sql), "{sql}");
        }
    }

    #[test]
    fn dollar_bodies() {
        assert_eq!(dollar_body("$$ x $$"), Some(" x "));
        assert_eq!(dollar_body("$tag$x$tag$"), Some("x"));
        assert_eq!(dollar_body("$$"), None);
        assert_eq!(dollar_body("$a$x$b$"), None);
        assert_eq!(dollar_body("'x'"), None);
    }
}
