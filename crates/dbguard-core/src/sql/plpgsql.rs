//! PL/pgSQL bodies (`DO` blocks, `CREATE FUNCTION ... LANGUAGE plpgsql`) through libpg_query's
//! PL/pgSQL compiler. The compiled tree comes back as JSON; we collect the static SQL statements
//! it would run (analyzed like top-level SQL by the caller: plain statements, FOR loops' queries,
//! and every other place that holds a whole statement, such as CALL, a nested DO, `OPEN ... FOR`
//! and `RETURN QUERY`) and every place that runs SQL built at
//! run time (`EXECUTE`, `FOR ... IN EXECUTE`, `OPEN ... FOR EXECUTE`, `RETURN QUERY EXECUTE`),
//! which cannot be known statically and is reported as Unknown.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Body {
    Do,
    Function,
    /// A trigger function, with its source: analyzed through [`trigger_probe`].
    Trigger(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Item {
    /// A static SQL statement of the body.
    Static(String),
    /// Dynamic SQL: which construct runs it.
    Dynamic(&'static str),
}

/// The statements of the PL/pgSQL body of `stmt` (a DO or CREATE FUNCTION statement), in order.
pub(super) fn statements(stmt: &str) -> Result<Vec<Item>, String> {
    let tree = pg_query::parse_plpgsql(stmt).map_err(|e| match e {
        pg_query::Error::Parse(m) => m,
        other => other.to_string(),
    })?;
    let mut out = Vec::new();
    walk(&tree, &mut out, 0);
    Ok(out)
}

/// libpg_query 18.1 writes invalid JSON for trigger functions (the TG_* "promise" variables are
/// dumped as `{}}`), so a trigger body is compiled inside a stand-in function that returns
/// `record` and declares NEW, OLD and the TG_* variables itself. The statements are the same.
pub(super) fn trigger_probe(body: &str) -> Option<String> {
    // Drop the body's final `;` (after its END), found with the real scanner.
    let tokens = pg_query::scan_tokens(body).ok()?;
    let last = tokens.iter().rev().find(|t| {
        t.token != pg_query::protobuf::Token::SqlComment as i32 && t.token != pg_query::protobuf::Token::CComment as i32
    })?;
    let body = if last.token == pg_query::protobuf::Token::Ascii59 as i32 {
        let (s, e) = (usize::try_from(last.start).ok()?, usize::try_from(last.end).ok()?);
        format!("{}{}", body.get(..s)?, body.get(e..)?)
    } else {
        body.to_string()
    };
    let mut tag = String::from("dbguard");
    while body.contains(&format!("${tag}$")) {
        tag.push('x');
    }
    Some(format!(
        "CREATE FUNCTION dbguard_trigger_probe() RETURNS record LANGUAGE plpgsql AS ${tag}$\n\
         DECLARE new record; old record; tg_name name; tg_when text; tg_level text; tg_op text;\n\
         tg_relid oid; tg_relname name; tg_table_name name; tg_table_schema name; tg_nargs integer;\n\
         tg_argv text[]; tg_event text; tg_tag text;\n\
         BEGIN\n{body}\n;\nEND ${tag}$"
    ))
}

fn walk(v: &Value, out: &mut Vec<Item>, depth: u32) {
    // serde_json already refuses input nested deeper than 128; this is a second guard.
    if depth > 200 {
        return;
    }
    match v {
        Value::Array(items) => {
            for i in items {
                walk(i, out, depth + 1);
            }
        }
        Value::Object(map) => {
            for (key, val) in map {
                // The statement's own query: taken as Static here, so the walk below steps over it.
                let mut own_query = None;
                match key.as_str() {
                    "PLpgSQL_stmt_execsql" => {
                        if let Some(q) = query_of(val.get("sqlstmt")) {
                            out.push(Item::Static(q));
                        }
                        own_query = Some("sqlstmt");
                    }
                    "PLpgSQL_stmt_fors" | "PLpgSQL_stmt_forc" => {
                        if let Some(q) = query_of(val.get("query")) {
                            out.push(Item::Static(q));
                        }
                        own_query = Some("query");
                    }
                    "PLpgSQL_stmt_dynexecute" => out.push(Item::Dynamic("EXECUTE")),
                    "PLpgSQL_stmt_dynfors" => out.push(Item::Dynamic("FOR ... IN EXECUTE")),
                    "dynquery" => out.push(Item::Dynamic("a query given as a string")),
                    "PLpgSQL_expr" => {
                        // A whole statement (parse mode 0) wherever it stands: CALL and nested DO
                        // blocks, OPEN ... FOR, RETURN QUERY, PERFORM, cursor declarations. The
                        // others are expressions, which only a dblink call makes interesting.
                        let statement = val.get("parseMode").and_then(Value::as_i64) == Some(0);
                        match val.get("query").and_then(Value::as_str) {
                            Some(q) if statement => out.push(Item::Static(q.to_string())),
                            _ => out.extend(remote_expression(val).map(Item::Static)),
                        }
                        continue;
                    }
                    _ => {}
                }
                match (own_query, val) {
                    (Some(skip), Value::Object(fields)) => {
                        for (k, v) in fields {
                            if k != skip {
                                walk(v, out, depth + 1);
                            }
                        }
                    }
                    _ => walk(val, out, depth + 1),
                }
            }
        }
        _ => {}
    }
}

/// Any expression of the body (an assignment, an IF condition, RETURN...) that
/// may call a dblink function, as a SELECT the caller can analyze: expressions cannot modify
/// data themselves, but a dblink call in one sends SQL to another connection.
fn remote_expression(expr: &Value) -> Option<String> {
    let query = expr.get("query")?.as_str()?;
    if !super::remote::mentions_remote(query) {
        return None;
    }
    // libpg_query's RawParseMode: 0 a whole statement, 2 an expression, 3-5 `target := expr`.
    match expr.get("parseMode").and_then(Value::as_i64).unwrap_or(0) {
        0 => Some(query.to_string()),
        2 => Some(format!("SELECT {query}")),
        3..=5 => {
            let rhs = assignment_value(query)?;
            Some(format!("SELECT {rhs}"))
        }
        _ => None,
    }
}

/// The value of a PL/pgSQL assignment `target := value` (or `target = value`): after the first
/// `:=`/`=` outside quotes and brackets.
fn assignment_value(query: &str) -> Option<&str> {
    let b = query.as_bytes();
    let mut depth = 0i32;
    let mut quote: Option<u8> = None;
    for (i, &c) in b.iter().enumerate() {
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(c),
            (None, b'[' | b'(') => depth += 1,
            (None, b']' | b')') => depth -= 1,
            (None, b':') if depth == 0 && b.get(i + 1) == Some(&b'=') => return query.get(i + 2..),
            (None, b'=') if depth == 0 => return query.get(i + 1..),
            _ => {}
        }
    }
    None
}

fn query_of(expr: Option<&Value>) -> Option<String> {
    expr?.get("PLpgSQL_expr")?.get("query")?.as_str().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn do_block_statements() {
        let items = statements("DO $$ BEGIN DELETE FROM t; EXECUTE 'drop table ' || 'x'; END $$").unwrap();
        assert_eq!(
            items,
            vec![Item::Static("DELETE FROM t".to_string()), Item::Dynamic("EXECUTE")]
        );
    }
}
