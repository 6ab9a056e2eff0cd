//! Building the statement that stands in for a `DROP TABLE`: `soft_drop.sql`, a PL/pgSQL body
//! with its slots filled by quoted literals, sent as one `DO` statement.

use std::sync::OnceLock;

use dbguard_core::sql::{DropTable, TableName};
use postgres_protocol::escape::{escape_identifier, escape_literal};

const TEMPLATE: &str = include_str!("soft_drop.sql");
/// Longest statement text kept in the trash catalog.
const MAX_STATEMENT: usize = 2000;

/// The template without its comment lines (less to send with every DROP TABLE).
fn body() -> &'static str {
    static BODY: OnceLock<String> = OnceLock::new();
    BODY.get_or_init(|| {
        TEMPLATE
            .lines()
            .filter(|l| !l.trim_start().starts_with("--"))
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// `"schema"."name"` or `"name"`: exactly the relation the statement named.
pub fn quoted_name(t: &TableName) -> String {
    if t.schema.is_empty() {
        escape_identifier(&t.name)
    } else {
        format!("{}.{}", escape_identifier(&t.schema), escape_identifier(&t.name))
    }
}

fn text_array<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let items: Vec<String> = items.map(escape_literal).collect();
    if items.is_empty() {
        "'{}'::text[]".to_string()
    } else {
        format!("ARRAY[{}]::text[]", items.join(", "))
    }
}

/// Replace each `{{slot}}` of `template` in one pass: inserted text is never scanned again, so
/// a table name or statement holding `{{...}}` stays what it is.
fn fill(template: &str, value: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len() + 256);
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        match after
            .find("}}")
            .and_then(|close| Some((close, value(&after[..close])?)))
        {
            Some((close, v)) => {
                out.push_str(&v);
                rest = &after[close + 2..];
            }
            None => {
                out.push_str("{{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// What a soft-drop needs besides the statement itself.
#[derive(Debug, Clone, Default)]
pub struct Context<'a> {
    /// Tables this session created (quoted names): really dropped.
    pub session_created: &'a [String],
    /// The client's address, kept in the catalog.
    pub client: &'a str,
}

/// The `DO` statement that soft-drops what `drop` names. `statement` is the original text.
pub fn do_statement(drop: &DropTable, statement: &str, ctx: &Context<'_>) -> String {
    let names: Vec<String> = drop.tables.iter().map(quoted_name).collect();
    let shown: Vec<String> = drop.tables.iter().map(TableName::display).collect();
    let here: Vec<&str> = drop
        .created_here
        .iter()
        .map(|&b| if b { "true" } else { "false" })
        .collect();
    let here = if here.is_empty() {
        "'{}'::boolean[]".to_string()
    } else {
        format!("ARRAY[{}]::boolean[]", here.join(", "))
    };
    let statement: String = statement.chars().take(MAX_STATEMENT).collect();
    let filled = fill(body(), |slot| match slot {
        "names" => Some(text_array(names.iter().map(String::as_str))),
        "shown" => Some(text_array(shown.iter().map(String::as_str))),
        "created_here" => Some(here.clone()),
        "session_created" => Some(text_array(ctx.session_created.iter().map(String::as_str))),
        "if_exists" => Some(drop.if_exists.to_string()),
        "cascade" => Some(drop.cascade.to_string()),
        "client" => Some(escape_literal(ctx.client)),
        "statement" => Some(escape_literal(&statement)),
        _ => None,
    });
    format!("DO {}", escape_literal(&filled))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_filled_with_literals() {
        let drop = DropTable {
            tables: vec![
                TableName {
                    schema: String::new(),
                    name: "Product{{statement}}".into(),
                },
                TableName {
                    schema: "s".into(),
                    name: "o'x".into(),
                },
            ],
            created_here: vec![false, true],
            if_exists: true,
            cascade: false,
        };
        let sql = do_statement(
            &drop,
            "DROP TABLE \"Product\", s.\"o'x\" -- {{names}} $$",
            &Context {
                session_created: &["\"tmp\"".to_string()],
                client: "127.0.0.1:5000",
            },
        );
        let literal = sql.strip_prefix("DO ").expect("a DO statement").trim_start();
        assert!(literal.starts_with('\'') || literal.starts_with("E'"), "{sql}");
        assert!(
            sql.contains("{{names}} $$"),
            "slot text inside the statement stays literal"
        );
        assert!(!sql.contains("{{shown}}") && !sql.contains("{{cascade}}"));
        // The body is one literal: every quote inside is doubled.
        let inner = literal.trim_start_matches('E');
        assert!(inner.starts_with('\'') && inner.ends_with('\''));
        assert!(!inner[1..inner.len() - 1].replace("''", "").contains('\''));
    }
}
