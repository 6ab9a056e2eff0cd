//! Facts about migration SQL beyond data loss, for `dbguard migrate`:
//! - [`touched_tables`]: the tables a migration alters, writes or drops (what a snapshot
//!   taken before applying it must cover);
//! - [`probable_renames`]: a column dropped and another of a compatible type added to the
//!   same table. ORMs that diff two schemas cannot tell a rename from a drop plus an add,
//!   so they write the drop, and the column's values are lost. The type of the dropped
//!   column is not in the text: the caller says what it knows (from the database the
//!   migration starts from).
//!
//! PostgreSQL through libpg_query's parse tree; SQLite and MySQL through sqlparser.
//! Text that does not parse gives `None` / no renames: callers treat an unknown set of
//! touched tables as "the whole database".

use pg_query::protobuf::{self, AlterTableType};
use pg_query::NodeEnum;
use serde::Serialize;
use sqlparser::ast::{AlterTableOperation, Statement};

use super::Dialect;

/// A column that is probably being renamed rather than replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProbableRename {
    /// `table` or `schema.table`, as the text names it.
    pub table: String,
    /// The dropped column.
    pub from: String,
    /// The added column.
    pub to: String,
    /// The added column's type, as written.
    pub data_type: String,
    /// The dropped column's type, when the caller knew it.
    pub from_type: Option<String>,
    /// The statement that keeps the values: `ALTER TABLE ... RENAME COLUMN ... TO ...;`.
    pub statement: String,
}

/// Tables (`table` or `schema.table`, as written) that the text creates, alters, writes or
/// drops; `None` when the text cannot be parsed (then assume every table).
pub fn touched_tables(text: &str, dialect: Dialect) -> Option<Vec<String>> {
    let mut out = match dialect {
        Dialect::Postgres => {
            let parsed = pg_query::parse(text, pg_query::ParserOptions::DEFAULT).ok()?;
            let mut t = parsed.ddl_tables();
            t.extend(parsed.dml_tables());
            // libpg_query's table list leaves out the relation of RENAME statements.
            for raw in &parsed.protobuf.stmts {
                if let Some(NodeEnum::RenameStmt(r)) = raw.stmt.as_ref().and_then(|s| s.node.as_ref()) {
                    if let Some(rv) = &r.relation {
                        t.push(if rv.schemaname.is_empty() {
                            rv.relname.clone()
                        } else {
                            format!("{}.{}", rv.schemaname, rv.relname)
                        });
                    }
                }
            }
            t
        }
        Dialect::Sqlite | Dialect::Mysql => {
            let stmts = parse_generic(text, dialect)?;
            let mut t = Vec::new();
            for s in &stmts {
                match s {
                    Statement::AlterTable(a) => t.push(a.name.to_string()),
                    Statement::Drop { names, .. } => t.extend(names.iter().map(|n| n.to_string())),
                    Statement::CreateTable(c) => t.push(c.name.to_string()),
                    Statement::Insert(i) => t.push(i.table.to_string()),
                    Statement::Update(u) => t.push(u.table.relation.to_string()),
                    Statement::Delete(_) | Statement::Truncate { .. } => return None,
                    Statement::CreateIndex(c) => t.push(c.table_name.to_string()),
                    _ => {}
                }
            }
            t.into_iter().map(|n| n.replace(['"', '`'], "")).collect()
        }
    };
    out.sort();
    out.dedup();
    Some(out)
}

/// Columns dropped and added in the same table by the text. `dropped_type(table, column)`
/// gives the dropped column's type when known (`None`: unknown, still reported); a known
/// type that is not compatible with the added column's means no rename.
pub fn probable_renames(
    text: &str,
    dialect: Dialect,
    dropped_type: &dyn Fn(&str, &str) -> Option<String>,
) -> Vec<ProbableRename> {
    let changes = match dialect {
        Dialect::Postgres => pg_changes(text),
        Dialect::Sqlite | Dialect::Mysql => generic_changes(text, dialect),
    };
    let mut out = Vec::new();
    let mut used_adds = Vec::new();
    for (table, dropped) in changes.iter().filter_map(|c| match c {
        Change::Drop { table, column } => Some((table, column)),
        _ => None,
    }) {
        let from_type = dropped_type(table, dropped);
        let candidate = changes.iter().enumerate().find(|(i, c)| match c {
            Change::Add {
                table: t, data_type, ..
            } => {
                t == table && !used_adds.contains(i) && from_type.as_deref().is_none_or(|ft| compatible(ft, data_type))
            }
            _ => false,
        });
        if let Some((i, Change::Add { column, data_type, .. })) = candidate {
            used_adds.push(i);
            let quote = match dialect {
                Dialect::Mysql => '`',
                _ => '"',
            };
            let q = |s: &str| format!("{quote}{}{quote}", s.replace(quote, &format!("{quote}{quote}")));
            let table_sql = table.split('.').map(q).collect::<Vec<_>>().join(".");
            out.push(ProbableRename {
                table: table.clone(),
                from: dropped.clone(),
                to: column.clone(),
                data_type: data_type.clone(),
                from_type,
                statement: format!("ALTER TABLE {table_sql} RENAME COLUMN {} TO {};", q(dropped), q(column)),
            });
        }
    }
    out
}

enum Change {
    Drop {
        table: String,
        column: String,
    },
    Add {
        table: String,
        column: String,
        data_type: String,
    },
}

fn pg_changes(text: &str) -> Vec<Change> {
    let Ok(parsed) = pg_query::parse(text, pg_query::ParserOptions::DEFAULT) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for raw in &parsed.protobuf.stmts {
        let Some(NodeEnum::AlterTableStmt(a)) = raw.stmt.as_ref().and_then(|s| s.node.as_ref()) else {
            continue;
        };
        let Some(rv) = &a.relation else { continue };
        let table = if rv.schemaname.is_empty() {
            rv.relname.clone()
        } else {
            format!("{}.{}", rv.schemaname, rv.relname)
        };
        for cmd in &a.cmds {
            let Some(NodeEnum::AlterTableCmd(c)) = cmd.node.as_ref() else {
                continue;
            };
            match AlterTableType::try_from(c.subtype) {
                Ok(AlterTableType::AtDropColumn) => out.push(Change::Drop {
                    table: table.clone(),
                    column: c.name.clone(),
                }),
                Ok(AlterTableType::AtAddColumn) => {
                    if let Some(NodeEnum::ColumnDef(cd)) = c.def.as_deref().and_then(|d| d.node.as_ref()) {
                        out.push(Change::Add {
                            table: table.clone(),
                            column: cd.colname.clone(),
                            data_type: cd.type_name.as_ref().map(pg_type_name).unwrap_or_default(),
                        });
                    }
                }
                _ => {}
            }
        }
    }
    out
}

fn pg_type_name(t: &protobuf::TypeName) -> String {
    let names: Vec<&str> = t
        .names
        .iter()
        .filter_map(|n| match n.node.as_ref() {
            Some(NodeEnum::String(s)) => Some(s.sval.as_str()),
            _ => None,
        })
        .filter(|n| *n != "pg_catalog")
        .collect();
    let mut out = names.join(".");
    if !t.array_bounds.is_empty() {
        out.push_str("[]");
    }
    out
}

fn parse_generic(text: &str, dialect: Dialect) -> Option<Vec<Statement>> {
    let d: Box<dyn sqlparser::dialect::Dialect> = match dialect {
        Dialect::Mysql => Box::new(sqlparser::dialect::MySqlDialect {}),
        _ => Box::new(sqlparser::dialect::SQLiteDialect {}),
    };
    // drizzle-kit's `--> statement-breakpoint` lines are comments already.
    sqlparser::parser::Parser::parse_sql(d.as_ref(), text).ok()
}

fn generic_changes(text: &str, dialect: Dialect) -> Vec<Change> {
    let mut out = Vec::new();
    for s in parse_generic(text, dialect).unwrap_or_default() {
        let Statement::AlterTable(a) = s else { continue };
        let table = a.name.to_string().replace(['"', '`'], "");
        for op in &a.operations {
            match op {
                AlterTableOperation::DropColumn { column_names, .. } => {
                    for c in column_names {
                        out.push(Change::Drop {
                            table: table.clone(),
                            column: c.value.clone(),
                        });
                    }
                }
                AlterTableOperation::AddColumn { column_def, .. } => out.push(Change::Add {
                    table: table.clone(),
                    column: column_def.name.value.clone(),
                    data_type: column_def.data_type.to_string(),
                }),
                _ => {}
            }
        }
    }
    out
}

/// The family of a type name, as written in SQL or as `format_type` prints it.
fn family(t: &str) -> String {
    let base = t
        .trim()
        .to_ascii_lowercase()
        .split('(')
        .next()
        .unwrap_or("")
        .trim()
        .trim_start_matches("pg_catalog.")
        .to_string();
    let f = match base.as_str() {
        "text" | "varchar" | "character varying" | "char" | "character" | "bpchar" | "citext" | "string" => "text",
        "int" | "int4" | "integer" | "serial" | "serial4" | "int2" | "smallint" | "smallserial" | "int8" | "bigint"
        | "bigserial" | "serial8" => "integer",
        "bool" | "boolean" => "boolean",
        "float4" | "real" | "float8" | "double precision" | "double" | "float" | "numeric" | "decimal" => "number",
        "timestamp" | "timestamptz" | "timestamp without time zone" | "timestamp with time zone" | "datetime" => {
            "timestamp"
        }
        "json" | "jsonb" => "json",
        other => other,
    };
    f.to_string()
}

/// Would the values of a column of type `a` fit a column of type `b`?
fn compatible(a: &str, b: &str) -> bool {
    let (fa, fb) = (family(a), family(b));
    fa == fb || fb == "text"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prisma_rename_shape() {
        let sql = "-- AlterTable\nALTER TABLE \"User\" DROP COLUMN \"bio\",\nADD COLUMN     \"about\" TEXT;\n";
        let r = probable_renames(sql, Dialect::Postgres, &|t, c| {
            (t == "User" && c == "bio").then(|| "text".to_string())
        });
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].from, "bio");
        assert_eq!(r[0].to, "about");
        assert_eq!(
            r[0].statement,
            "ALTER TABLE \"User\" RENAME COLUMN \"bio\" TO \"about\";"
        );
        // An incompatible type is no rename.
        let r = probable_renames(
            "ALTER TABLE t DROP COLUMN a; ALTER TABLE t ADD COLUMN b boolean;",
            Dialect::Postgres,
            &|_, _| Some("jsonb".into()),
        );
        assert!(r.is_empty());
        // Unknown type: still reported.
        let r = probable_renames(
            "ALTER TABLE s.t DROP COLUMN a; ALTER TABLE s.t ADD COLUMN b int;",
            Dialect::Postgres,
            &|_, _| None,
        );
        assert_eq!(r[0].statement, "ALTER TABLE \"s\".\"t\" RENAME COLUMN \"a\" TO \"b\";");
        // Different tables: no rename.
        assert!(probable_renames(
            "ALTER TABLE a DROP COLUMN x; ALTER TABLE b ADD COLUMN y text;",
            Dialect::Postgres,
            &|_, _| None
        )
        .is_empty());
    }

    #[test]
    fn drizzle_sqlite_shape() {
        let sql =
            "ALTER TABLE `users` DROP COLUMN `bio`;--> statement-breakpoint\nALTER TABLE `users` ADD `about` text;";
        let r = probable_renames(sql, Dialect::Sqlite, &|_, _| Some("TEXT".into()));
        assert_eq!(r.len(), 1, "{r:?}");
        assert_eq!(r[0].to, "about");
    }

    #[test]
    fn touched() {
        let t = touched_tables(
            "ALTER TABLE \"User\" ADD COLUMN x int; DROP TABLE \"Post\"; CREATE INDEX i ON \"User\"(x); SELECT * FROM other;",
            Dialect::Postgres,
        )
        .unwrap();
        assert_eq!(t, vec!["Post".to_string(), "User".to_string()]);
        assert!(touched_tables("ALTER TABLE (", Dialect::Postgres).is_none());
        let t = touched_tables(
            "DROP TABLE \"posts\" CASCADE;--> statement-breakpoint\nALTER TABLE \"users\" DROP COLUMN \"bio\";",
            Dialect::Postgres,
        );
        assert_eq!(t, Some(vec!["posts".to_string(), "users".to_string()]));
        let t = touched_tables("ALTER TABLE users RENAME COLUMN a TO b;", Dialect::Postgres).unwrap();
        assert_eq!(t, vec!["users".to_string()]);
        let t = touched_tables("ALTER TABLE users ADD x int; DROP TABLE posts;", Dialect::Sqlite).unwrap();
        assert_eq!(t, vec!["posts".to_string(), "users".to_string()]);
    }

    #[test]
    fn families() {
        assert!(compatible("character varying(255)", "TEXT"));
        assert!(compatible("integer", "int4"));
        assert!(compatible("integer", "text"));
        assert!(!compatible("text", "integer"));
        assert!(compatible("timestamp(3) without time zone", "timestamp"));
    }
}
