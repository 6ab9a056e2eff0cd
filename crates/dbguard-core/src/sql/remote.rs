//! SQL that a statement sends to another connection: the `dblink` extension's functions.
//!
//! `SELECT dblink_exec('dbname=app user=postgres', 'DROP TABLE users')` looks like a harmless
//! SELECT, yet the DROP runs on a connection of its own: outside the statement's transaction
//! (a READ ONLY transaction does not stop it), as another role, possibly on another server. The
//! text it sends is SQL in its own right, so it is analyzed as such; text that is not a literal
//! (a column, a parameter, a concatenation) cannot be known and counts as `Unknown`.

use super::calls::{Arg, Call};

/// How a dblink function takes the SQL it sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// `f(sql [, fail_on_error])` or `f(connection, sql [, fail_on_error])`: dblink, dblink_exec.
    SqlOrConnSql,
    /// `f(connection, sql)`: dblink_send_query.
    ConnSql,
    /// `f(cursor, sql [, fail])` or `f(connection, cursor, sql [, fail])`: dblink_open.
    Cursor,
}

/// The functions that send SQL text (dblink 1.2). The others (`dblink_connect`, `dblink_fetch`,
/// `dblink_build_sql_*`...) send none of the caller's text.
const SENDERS: &[(&str, Shape)] = &[
    ("dblink", Shape::SqlOrConnSql),
    ("dblink_exec", Shape::SqlOrConnSql),
    ("dblink_send_query", Shape::ConnSql),
    ("dblink_open", Shape::Cursor),
];

/// Whether an identifier token (as written: quoted or not) may name a dblink function, or is a
/// Unicode-escaped identifier whose name the token does not show. Used by the scanner's fast
/// path: such statements always get the full parse.
pub(crate) fn may_name_remote_call(token: &str) -> bool {
    let t = token.trim_start_matches('"');
    let head = t.get(..6).unwrap_or("");
    head.eq_ignore_ascii_case("dblink") || token.starts_with("U&") || token.starts_with("u&")
}

/// Whether a statement's text may call a dblink function: it names `dblink` somewhere (in any
/// case), or holds a Unicode-escaped identifier. Only such statements pay for the tree walk.
pub(crate) fn mentions_remote(text: &str) -> bool {
    let b = text.as_bytes();
    b.windows(6).any(|w| w.eq_ignore_ascii_case(b"dblink")) || b.windows(2).any(|w| w.eq_ignore_ascii_case(b"u&"))
}

/// What a call sends to another connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Sent {
    /// Literal SQL text, and the literal connection (string or name), if given.
    Sql { sql: String, connection: Option<String> },
    /// SQL computed at run time: its text cannot be known.
    Computed,
}

/// What `call` sends to another connection, if it is a dblink function that sends SQL.
pub(crate) fn sent_by(call: &Call) -> Option<Sent> {
    if call.schema.as_deref().is_some_and(|s| s == "pg_catalog") {
        return None;
    }
    let shape = SENDERS.iter().find(|(n, _)| *n == call.name).map(|(_, s)| *s)?;
    let args = &call.args;
    // Drop a trailing boolean (fail_on_error); a trailing non-literal might be either, so it
    // stays and is taken as the SQL (fail closed).
    let args: &[Arg] = match args.split_last() {
        Some((Arg::Bool(_), rest)) if shape != Shape::ConnSql => rest,
        _ => args,
    };
    let (connection, sql) = match (shape, args) {
        (Shape::SqlOrConnSql, [sql]) => (None, sql),
        (Shape::SqlOrConnSql | Shape::ConnSql, [conn, sql]) => (Some(conn), sql),
        (Shape::Cursor, [_cursor, sql]) => (None, sql),
        (Shape::Cursor, [conn, _cursor, sql]) => (Some(conn), sql),
        // A shape dblink does not have: the call fails before sending anything, unless a
        // function of that name with other arguments exists; fail closed.
        _ => return Some(Sent::Computed),
    };
    match sql {
        Arg::Text(s) => Some(Sent::Sql {
            sql: s.clone(),
            connection: connection.and_then(|c| match c {
                Arg::Text(c) => Some(c.clone()),
                _ => None,
            }),
        }),
        _ => Some(Sent::Computed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str, args: Vec<Arg>) -> Call {
        Call {
            schema: None,
            name: name.into(),
            args,
        }
    }

    fn text(s: &str) -> Arg {
        Arg::Text(s.into())
    }

    #[test]
    fn which_argument_is_the_sql() {
        let sql = |s: &str, c: Option<&str>| {
            Some(Sent::Sql {
                sql: s.into(),
                connection: c.map(str::to_string),
            })
        };
        assert_eq!(
            sent_by(&call("dblink_exec", vec![text("DROP TABLE a")])),
            sql("DROP TABLE a", None)
        );
        assert_eq!(
            sent_by(&call(
                "dblink_exec",
                vec![text("c"), text("DROP TABLE a"), Arg::Bool(false)]
            )),
            sql("DROP TABLE a", Some("c"))
        );
        assert_eq!(
            sent_by(&call("dblink_exec", vec![text("DROP TABLE a"), Arg::Bool(true)])),
            sql("DROP TABLE a", None)
        );
        assert_eq!(
            sent_by(&call("dblink", vec![text("c"), Arg::Other])),
            Some(Sent::Computed)
        );
        assert_eq!(
            sent_by(&call("dblink_open", vec![text("c"), text("cur"), text("SELECT 1")])),
            sql("SELECT 1", Some("c"))
        );
        assert_eq!(sent_by(&call("dblink_connect", vec![text("dbname=x")])), None);
        assert_eq!(sent_by(&call("lower", vec![text("x")])), None);
        assert_eq!(sent_by(&call("dblink_exec", vec![])), Some(Sent::Computed));
    }

    #[test]
    fn tokens_that_need_the_full_parse() {
        for t in [
            "dblink_exec",
            "DBLINK",
            "\"dblink_exec\"",
            "U&\"d\\0062link\"",
            "dblinkfoo",
        ] {
            assert!(may_name_remote_call(t), "{t}");
        }
        for t in ["users", "db", "\"dbl\"", "link"] {
            assert!(!may_name_remote_call(t), "{t}");
        }
    }
}
