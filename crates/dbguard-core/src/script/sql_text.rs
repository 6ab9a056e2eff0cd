//! SQL found in code: literal pieces and run-time holes become one SQL text for the SQL core,
//! each hole a placeholder name that parses wherever a name or a value may stand; the
//! findings then show the hole's source again (`${table}`).

use crate::finding::{Finding, FindingKind};
use crate::sql::{analyze_sql, Dialect};

use super::ir::Piece;

/// The stand-in for the `n`th hole: an identifier, valid as a table name and as a value.
fn placeholder(n: usize) -> String {
    format!("dbguard_hole_{n}_")
}

/// SQL statement keywords: text passed to a raw-SQL call is analyzed only when it starts
/// with one (after spaces, comments and parentheses) and has a second word.
const STATEMENT_KEYWORDS: &[&str] = &[
    "select",
    "insert",
    "update",
    "delete",
    "drop",
    "truncate",
    "alter",
    "create",
    "with",
    "begin",
    "commit",
    "rollback",
    "do",
    "grant",
    "revoke",
    "merge",
    "replace",
    "call",
    "set",
    "vacuum",
    "analyze",
    "pragma",
    "attach",
    "detach",
    "comment",
    "copy",
    "lock",
    "start",
    "explain",
    "reindex",
    "cluster",
    "refresh",
    "execute",
    "rename",
    "upsert",
    "values",
    "show",
    "use",
    "savepoint",
    "release",
    "listen",
    "notify",
    "prepare",
];

/// Keywords that make text worth a finding when it does not parse.
const RISKY: &[&str] = &["drop", "truncate", "delete", "update", "alter", "execute", "do"];

/// Text with its holes filled by placeholders.
pub struct Filled {
    pub text: String,
    pub holes: Vec<(String, String)>,
}

pub fn fill(pieces: &[Piece]) -> Filled {
    let mut text = String::new();
    let mut holes = Vec::new();
    for p in pieces {
        match p {
            Piece::Lit(s) => text.push_str(s),
            Piece::Hole(src) => {
                let ph = placeholder(holes.len() + 1);
                text.push_str(&ph);
                holes.push((ph, src.clone()));
            }
        }
    }
    Filled { text, holes }
}

fn first_words(text: &str) -> Vec<String> {
    let mut s = text.trim_start();
    loop {
        if let Some(rest) = s.strip_prefix("--") {
            s = rest.split_once('\n').map_or("", |(_, r)| r).trim_start();
        } else if let Some(rest) = s.strip_prefix("/*") {
            s = rest.split_once("*/").map_or("", |(_, r)| r).trim_start();
        } else if let Some(rest) = s.strip_prefix('(') {
            s = rest.trim_start();
        } else {
            break;
        }
    }
    s.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .take(2)
        .map(str::to_ascii_lowercase)
        .collect()
}

/// Whether text reads as an SQL statement (rather than a log line or a URL).
pub fn looks_like_sql(text: &str) -> bool {
    let w = first_words(text);
    w.len() == 2 && STATEMENT_KEYWORDS.contains(&w[0].as_str())
}

/// Client-side parameter markers (`?`, `%s`, `%(name)s`, `:name`) become placeholders too, so
/// the SQL parsers (which know only `$1`) accept the text. Quotes are respected.
fn normalize_params(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i < b.len() {
        let c = b[i];
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            let ch = text[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
            continue;
        }
        match c {
            b'\'' | b'"' | b'`' => {
                quote = Some(c);
                out.push(c as char);
                i += 1;
            }
            b'?' => {
                out.push_str("dbguard_param_");
                i += 1;
            }
            b'%' if b.get(i + 1) == Some(&b's') => {
                out.push_str("dbguard_param_");
                i += 2;
            }
            b'%' if b.get(i + 1) == Some(&b'(') => match text[i..].find(")s") {
                Some(end) => {
                    out.push_str("dbguard_param_");
                    i += end + 2;
                }
                None => {
                    out.push('%');
                    i += 1;
                }
            },
            b':' if b.get(i + 1).is_some_and(|n| n.is_ascii_alphabetic())
                && (i == 0 || !matches!(b[i - 1], b':' | b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_')) =>
            {
                out.push_str("dbguard_param_");
                i += 1;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
            }
            _ => {
                let ch = text[i..].chars().next().unwrap_or(' ');
                out.push(ch);
                i += ch.len_utf8();
            }
        }
    }
    out
}

/// Findings for SQL text from a script. Text that does not read as SQL yields nothing; text
/// that does not parse in the file's dialect is tried in the others, and counts as
/// unparseable only when it holds a destructive keyword.
pub fn analyze(filled: &Filled, dialect: Option<Dialect>) -> Vec<Finding> {
    if !looks_like_sql(&filled.text) {
        return Vec::new();
    }
    let text = normalize_params(&filled.text);
    let first = dialect.unwrap_or(Dialect::Postgres);
    let order = [first, Dialect::Postgres, Dialect::Sqlite, Dialect::Mysql];
    let mut fallback: Option<Vec<Finding>> = None;
    for (i, d) in order.iter().enumerate() {
        if i > 0 && *d == first {
            continue;
        }
        let found = analyze_sql(&text, *d);
        if !found.iter().any(|f| f.kind == FindingKind::Unparseable) {
            return restore(found, filled);
        }
        fallback.get_or_insert(found);
    }
    let found = fallback.unwrap_or_default();
    let lower = filled.text.to_ascii_lowercase();
    let risky = lower
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .any(|w| RISKY.contains(&w));
    if !risky {
        return Vec::new();
    }
    restore(found, filled)
}

/// Put the holes' source text back where the placeholders went.
fn restore(mut found: Vec<Finding>, filled: &Filled) -> Vec<Finding> {
    let put_back = |s: &str| -> String {
        let mut s = s.replace("dbguard_param_", "?");
        for (ph, src) in &filled.holes {
            s = s.replace(ph, &format!("${{{src}}}"));
        }
        s
    };
    for f in &mut found {
        f.detail = put_back(&f.detail);
        f.object = f.object.as_deref().map(put_back);
        f.statement = f.statement.as_deref().map(put_back);
        if let crate::finding::Scope::Tables { names } = &mut f.scope {
            for n in names.iter_mut() {
                *n = put_back(n);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(pieces: &[Piece]) -> Vec<FindingKind> {
        analyze(&fill(pieces), None).iter().map(|f| f.kind).collect()
    }

    #[test]
    fn holes_and_params() {
        let lit = |s: &str| Piece::Lit(s.into());
        assert_eq!(
            kinds(&[lit("TRUNCATE "), Piece::Hole("t".into()), lit(" CASCADE")]),
            [FindingKind::Truncate]
        );
        assert!(kinds(&[lit("DELETE FROM users WHERE id = "), Piece::Hole("id".into())]).is_empty());
        assert!(kinds(&[lit("DELETE FROM users WHERE id = ?")]).is_empty());
        assert!(kinds(&[lit("DELETE FROM users WHERE id = %s")]).is_empty());
        assert!(kinds(&[lit("DELETE FROM users WHERE id = :id")]).is_empty());
        assert_eq!(kinds(&[lit("DELETE FROM users")]), [FindingKind::DeleteAll]);
        assert!(kinds(&[lit("hello world")]).is_empty());
        assert!(kinds(&[lit("SELEC * FROM x")]).is_empty());
        let f = analyze(&fill(&[lit("DROP TABLE "), Piece::Hole("name".into())]), None);
        assert_eq!(f[0].object.as_deref(), Some("${name}"));
    }
}
