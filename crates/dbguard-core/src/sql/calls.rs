//! Every function call and operator a PostgreSQL parse tree names, found by an exhaustive walk.
//!
//! Why a walk over the serialized tree: libpg_query's protobuf has hundreds of node types, and a
//! function can be called from almost any of them (a target list, a FROM item, a JOIN condition,
//! a LIMIT, a VALUES list, a column default, a CHECK, an index expression...). A hand-written
//! walk over the typed nodes would have to list every field of every node and would silently
//! miss the ones it forgets; the tree's own serde serialization visits every field by
//! construction. The cost (one `serde_json::Value` per statement) is paid only by callers that
//! need it: statements that name a `dblink` function, and the MCP server's one query.

use pg_query::protobuf;
use serde_json::Value;

/// One function call as written: `schema.name(args)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The schema it was qualified with, if any (`pg_catalog`, `public`...).
    pub schema: Option<String>,
    /// The function name as PostgreSQL folds it (unquoted names lowercased).
    pub name: String,
    /// The arguments, for the callers that look at literals.
    pub args: Vec<Arg>,
}

impl Call {
    /// `schema.name` or `name`.
    pub fn display(&self) -> String {
        match &self.schema {
            Some(s) => format!("{s}.{}", self.name),
            None => self.name.clone(),
        }
    }
}

/// What an argument is, as far as a caller needs to know.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// A string literal (possibly with a cast: `'x'::text`).
    Text(String),
    /// A boolean literal.
    Bool(bool),
    /// Anything else: a column, a parameter, an expression, another call.
    Other,
}

/// What a parse tree names: its function calls and its operators.
#[derive(Debug, Default, Clone)]
pub struct Named {
    pub calls: Vec<Call>,
    /// Operators as written (`=`, `||`, `public.###`), schema-qualified ones with their schema.
    pub operators: Vec<String>,
}

/// Node types whose subtrees run at another time (function bodies and defaults, rules): a
/// caller that analyzes them with their own origin asks the walk to step over them.
pub const DEFERRED: &[&str] = &["CreateFunctionStmt", "RuleStmt", "DoStmt"];

/// Every call and operator in a parsed tree (any serializable pg_query node), skipping the
/// subtrees whose node type is in `skip`.
pub fn named_in<T: serde::Serialize>(tree: &T, skip: &[&str]) -> Named {
    let mut out = Named::default();
    // A tree that does not serialize names nothing we can see; callers that must fail closed
    // check the parse itself (this cannot happen for pg_query's own types).
    if let Ok(v) = serde_json::to_value(tree) {
        walk(&v, skip, &mut out, 0);
    }
    out
}

/// Parse `sql` as PostgreSQL and list what it names. Err: the parser's message.
pub fn named(sql: &str) -> Result<(protobuf::ParseResult, Named), String> {
    let parsed = pg_query::parse(sql, pg_query::ParserOptions::DEFAULT).map_err(|e| e.to_string())?;
    let n = named_in(&parsed.protobuf, &[]);
    Ok((parsed.protobuf, n))
}

/// Nesting bound: pg_query itself refuses trees deeper than the server's stack allows, so this
/// is never reached by real input; it keeps the walk's own recursion bounded regardless.
const MAX_DEPTH: u32 = 4096;

fn walk(v: &Value, skip: &[&str], out: &mut Named, depth: u32) {
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                if skip.contains(&k.as_str()) {
                    continue;
                }
                match k.as_str() {
                    "FuncCall" => {
                        if let Some(c) = call_of(child) {
                            out.calls.push(c);
                        }
                    }
                    "AExpr" => {
                        if let Some(op) = child.get("name").and_then(operator_name) {
                            out.operators.push(op);
                        }
                    }
                    _ => {}
                }
                walk(child, skip, out, depth + 1);
            }
        }
        Value::Array(items) => {
            for item in items {
                walk(item, skip, out, depth + 1);
            }
        }
        _ => {}
    }
}

/// The strings of a `[{"node": {"String": {"sval": ...}}}, ...]` name list.
fn name_list(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.pointer("/node/String/sval").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn call_of(f: &Value) -> Option<Call> {
    let mut names = name_list(f.get("funcname")?);
    let name = names.pop()?;
    let schema = names.pop();
    let args = f
        .get("args")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(arg_of).collect())
        .unwrap_or_default();
    Some(Call { schema, name, args })
}

fn operator_name(v: &Value) -> Option<String> {
    let names = name_list(v);
    match names.as_slice() {
        [] => None,
        [op] => Some(op.clone()),
        [.., schema, op] => Some(format!("{schema}.{op}")),
    }
}

fn arg_of(a: &Value) -> Arg {
    let node = match a.get("node") {
        Some(n) => n,
        None => return Arg::Other,
    };
    if let Some(c) = node.get("AConst") {
        if let Some(s) = c.pointer("/val/Sval/sval").and_then(Value::as_str) {
            return Arg::Text(s.to_string());
        }
        if let Some(b) = c.pointer("/val/Boolval/boolval") {
            return Arg::Bool(b.as_bool().unwrap_or(false));
        }
        return Arg::Other;
    }
    if let Some(tc) = node.get("TypeCast") {
        // `'DROP TABLE x'::text`: the cast does not change the text.
        if let Some(inner) = tc.get("arg") {
            return match arg_of(inner) {
                Arg::Text(s) => Arg::Text(s),
                Arg::Bool(b) => Arg::Bool(b),
                Arg::Other => Arg::Other,
            };
        }
    }
    Arg::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_calls_everywhere() {
        let sql = "WITH x AS (SELECT lower(a) FROM t) SELECT public.f('s'::text, true, $1), count(*) \
                   FROM x JOIN generate_series(1, 3) g ON abs(g) = 1 \
                   WHERE exists (SELECT pg_sleep(1)) AND a OPERATOR(public.###) b \
                   GROUP BY 1 HAVING max(a) > 1 LIMIT length('ab')";
        let (_, n) = named(sql).unwrap();
        let mut names: Vec<String> = n.calls.iter().map(Call::display).collect();
        names.sort();
        assert_eq!(
            names,
            vec![
                "abs",
                "count",
                "generate_series",
                "length",
                "lower",
                "max",
                "pg_sleep",
                "public.f"
            ]
        );
        let f = n.calls.iter().find(|c| c.name == "f").unwrap();
        assert_eq!(f.args, vec![Arg::Text("s".into()), Arg::Bool(true), Arg::Other]);
        assert!(n.operators.contains(&"public.###".to_string()), "{:?}", n.operators);
        assert!(n.operators.contains(&"=".to_string()));
    }

    #[test]
    fn skips_deferred_subtrees() {
        let p = pg_query::parse(
            "CREATE FUNCTION f() RETURNS int BEGIN ATOMIC SELECT dblink_exec('x'); END",
            pg_query::ParserOptions::DEFAULT,
        )
        .unwrap();
        assert!(named_in(&p.protobuf, DEFERRED).calls.is_empty());
        assert_eq!(named_in(&p.protobuf, &[]).calls.len(), 1);
    }
}
