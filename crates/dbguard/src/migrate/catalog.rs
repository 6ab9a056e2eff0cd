//! A normalized description of a database's schema, for comparing two databases: every
//! table, column (type, nullability, default), constraint, index, view, enum, sequence
//! and extension as one `key -> definition` line, read from the catalogs (PostgreSQL:
//! `format_type`, `pg_get_constraintdef`, `pg_get_indexdef`...; SQLite: `sqlite_master`
//! and `pragma table_info`). Column order and object OIDs do not count; the migration
//! tools' own history tables are left out.

use std::collections::BTreeMap;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::pg::Pg;

/// `key -> definition`, e.g. `column public.User.email -> text NOT NULL`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalog {
    pub items: BTreeMap<String, String>,
}

/// One difference between an expected and an actual catalog.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Difference {
    /// only_expected | only_actual | changed
    pub change: &'static str,
    pub object: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
}

impl Difference {
    /// One line for people: `+ column public.User.nickname text` (in the database, not in
    /// the migrations), `- ...` (the other way), `~ ...` (differs).
    pub fn line(&self, actual_is: &str, expected_is: &str) -> String {
        match self.change {
            "only_actual" => format!(
                "{} in {actual_is}, not in {expected_is}: {}",
                self.object,
                self.actual.as_deref().unwrap_or("")
            ),
            "only_expected" => format!(
                "{} in {expected_is}, not in {actual_is}: {}",
                self.object,
                self.expected.as_deref().unwrap_or("")
            ),
            _ => format!(
                "{}: {expected_is} has `{}`, {actual_is} has `{}`",
                self.object,
                self.expected.as_deref().unwrap_or(""),
                self.actual.as_deref().unwrap_or("")
            ),
        }
    }
}

impl Catalog {
    /// What differs between `expected` (self) and `actual`.
    pub fn diff(&self, actual: &Catalog) -> Vec<Difference> {
        let mut out = Vec::new();
        for (k, v) in &self.items {
            match actual.items.get(k) {
                None => out.push(Difference {
                    change: "only_expected",
                    object: k.clone(),
                    expected: Some(v.clone()),
                    actual: None,
                }),
                Some(a) if a != v => out.push(Difference {
                    change: "changed",
                    object: k.clone(),
                    expected: Some(v.clone()),
                    actual: Some(a.clone()),
                }),
                _ => {}
            }
        }
        for (k, v) in &actual.items {
            if !self.items.contains_key(k) {
                out.push(Difference {
                    change: "only_actual",
                    object: k.clone(),
                    expected: None,
                    actual: Some(v.clone()),
                });
            }
        }
        out
    }

    fn put(&mut self, key: String, value: String) {
        self.items.insert(key, value);
    }
}

/// What to leave out: the migration tools' history tables (`schema.table` or `table`),
/// and whole schemas (drizzle keeps its history in its own `drizzle` schema).
#[derive(Debug, Clone, Default)]
pub struct Exclude {
    pub tables: Vec<String>,
    pub schemas: Vec<String>,
}

impl Exclude {
    fn table(&self, schema: &str, table: &str) -> bool {
        self.schemas.iter().any(|s| s == schema)
            || self
                .tables
                .iter()
                .any(|t| t == table || *t == format!("{schema}.{table}"))
    }
}

const SYSTEM: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%'";

/// Describe the database `pg` is connected to.
pub fn describe_pg(pg: &Pg, ex: &Exclude) -> anyhow::Result<Catalog> {
    let mut c = Catalog::default();
    let q = |sql: &str| pg.query(sql, &[]).with_context(|| "reading the catalog".to_string());
    for r in q(&format!(
        "SELECT n.nspname::text FROM pg_namespace n WHERE {SYSTEM} AND n.nspname <> 'public' \
         AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = n.oid AND d.deptype = 'e')"
    ))? {
        let s: String = r.get(0);
        if !ex.schemas.contains(&s) {
            c.put(format!("schema {s}"), String::new());
        }
    }
    for r in
        q("SELECT e.extname::text, n.nspname::text FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace")?
    {
        let (name, schema): (String, String) = (r.get(0), r.get(1));
        c.put(format!("extension {name}"), format!("in schema {schema}"));
    }
    let owned_by_extension = "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')";
    for r in q(&format!(
        "SELECT n.nspname::text, c.relname::text, c.relkind::text, \
         CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid, true) ELSE '' END \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE {SYSTEM} AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND {owned_by_extension}"
    ))? {
        let (schema, name, kind, def): (String, String, String, String) = (r.get(0), r.get(1), r.get(2), r.get(3));
        if ex.table(&schema, &name) {
            continue;
        }
        let what = match kind.as_str() {
            "v" => "view",
            "m" => "materialized view",
            "f" => "foreign table",
            "p" => "partitioned table",
            _ => "table",
        };
        c.put(format!("{what} {schema}.{name}"), normalize_ws(&def));
    }
    for r in q(&format!(
        "SELECT n.nspname::text, c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull, \
         coalesce(pg_get_expr(d.adbin, d.adrelid), ''), a.attidentity::text, a.attgenerated::text \
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
         WHERE {SYSTEM} AND c.relkind IN ('r', 'p', 'f') AND a.attnum > 0 AND NOT a.attisdropped AND {owned_by_extension}"
    ))? {
        let (schema, table, col, ty, notnull, default, identity, generated): (
            String,
            String,
            String,
            String,
            bool,
            String,
            String,
            String,
        ) = (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5), r.get(6), r.get(7));
        if ex.table(&schema, &table) {
            continue;
        }
        let mut def = ty;
        if notnull {
            def.push_str(" NOT NULL");
        }
        if !default.is_empty() {
            if generated == "s" {
                def.push_str(&format!(" GENERATED ALWAYS AS ({default}) STORED"));
            } else {
                def.push_str(&format!(" DEFAULT {default}"));
            }
        }
        match identity.as_str() {
            "a" => def.push_str(" GENERATED ALWAYS AS IDENTITY"),
            "d" => def.push_str(" GENERATED BY DEFAULT AS IDENTITY"),
            _ => {}
        }
        c.put(format!("column {schema}.{table}.{col}"), def);
    }
    for r in q(&format!(
        "SELECT n.nspname::text, c.relname::text, con.conname::text, pg_get_constraintdef(con.oid, true) \
         FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE {SYSTEM} AND {owned_by_extension}"
    ))? {
        let (schema, table, name, def): (String, String, String, String) = (r.get(0), r.get(1), r.get(2), r.get(3));
        if ex.table(&schema, &table) {
            continue;
        }
        c.put(format!("constraint {schema}.{table}.{name}"), def);
    }
    for r in q(&format!(
        "SELECT n.nspname::text, t.relname::text, i.relname::text, pg_get_indexdef(i.oid) \
         FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid \
         JOIN pg_namespace n ON n.oid = i.relnamespace \
         WHERE {SYSTEM} AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.oid AND con.contype IN ('p', 'u', 'x')) \
         AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = t.oid AND d.deptype = 'e')"
    ))? {
        let (schema, table, name, def): (String, String, String, String) = (r.get(0), r.get(1), r.get(2), r.get(3));
        if ex.table(&schema, &table) {
            continue;
        }
        c.put(format!("index {schema}.{name}"), def);
    }
    for r in q(&format!(
        "SELECT n.nspname::text, t.typname::text, string_agg(e.enumlabel::text, ',' ORDER BY e.enumsortorder) \
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid \
         WHERE {SYSTEM} GROUP BY 1, 2"
    ))? {
        let (schema, name, labels): (String, String, String) = (r.get(0), r.get(1), r.get(2));
        c.put(format!("enum {schema}.{name}"), labels);
    }
    for r in q(&format!(
        "SELECT n.nspname::text, c.relname::text, format_type(s.seqtypid, NULL), s.seqincrement::text \
         FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE {SYSTEM} AND {owned_by_extension}"
    ))? {
        let (schema, name, ty, inc): (String, String, String, String) = (r.get(0), r.get(1), r.get(2), r.get(3));
        if ex.schemas.contains(&schema) || ex.tables.iter().any(|t| name.starts_with(&format!("{t}_"))) {
            continue;
        }
        c.put(format!("sequence {schema}.{name}"), format!("{ty} increment {inc}"));
    }
    for r in q(&format!(
        "SELECT n.nspname::text, p.proname::text, pg_get_function_identity_arguments(p.oid), md5(p.prosrc) \
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
         WHERE {SYSTEM} AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')"
    ))? {
        let (schema, name, args, src): (String, String, String, String) = (r.get(0), r.get(1), r.get(2), r.get(3));
        c.put(format!("function {schema}.{name}({args})"), format!("body md5 {src}"));
    }
    for r in q(&format!(
        "SELECT n.nspname::text, c.relname::text, t.tgname::text, pg_get_triggerdef(t.oid) \
         FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE {SYSTEM} AND NOT t.tgisinternal"
    ))? {
        let (schema, table, name, def): (String, String, String, String) = (r.get(0), r.get(1), r.get(2), r.get(3));
        if ex.table(&schema, &table) {
            continue;
        }
        c.put(format!("trigger {schema}.{table}.{name}"), def);
    }
    Ok(c)
}

/// Describe an SQLite database.
pub fn describe_sqlite(conn: &rusqlite::Connection, ex: &Exclude) -> anyhow::Result<Catalog> {
    let mut c = Catalog::default();
    let mut st = conn.prepare(
        "SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name",
    )?;
    let rows: Vec<(String, String, String, String)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<Result<_, _>>()?;
    for (kind, name, table, sql) in rows {
        if ex.table("main", &table) {
            continue;
        }
        match kind.as_str() {
            "table" => {
                c.put(format!("table main.{name}"), String::new());
                let mut cols = conn.prepare(&format!(
                    "SELECT name, type, \"notnull\", coalesce(dflt_value, ''), pk FROM pragma_table_info({})",
                    crate::snapshot::pg::quote_literal(&name)
                ))?;
                let list: Vec<(String, String, bool, String, i64)> = cols
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
                    .collect::<Result<_, _>>()?;
                for (col, ty, notnull, default, pk) in list {
                    let mut def = ty.to_ascii_uppercase();
                    if notnull {
                        def.push_str(" NOT NULL");
                    }
                    if !default.is_empty() {
                        def.push_str(&format!(" DEFAULT {default}"));
                    }
                    if pk > 0 {
                        def.push_str(&format!(" PRIMARY KEY({pk})"));
                    }
                    c.put(format!("column main.{name}.{col}"), def);
                }
                let mut fks = conn.prepare(&format!(
                    "SELECT \"table\", \"from\", coalesce(\"to\", ''), on_update, on_delete FROM pragma_foreign_key_list({})",
                    crate::snapshot::pg::quote_literal(&name)
                ))?;
                let list: Vec<(String, String, String, String, String)> = fks
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
                    .collect::<Result<_, _>>()?;
                for (to_table, from, to, upd, del) in list {
                    c.put(
                        format!("foreign key main.{name}.{from}"),
                        format!("REFERENCES {to_table}({to}) ON UPDATE {upd} ON DELETE {del}"),
                    );
                }
            }
            "index" if !sql.is_empty() => c.put(format!("index main.{name}"), normalize_ws(&sql)),
            "view" => c.put(format!("view main.{name}"), normalize_ws(&sql)),
            "trigger" => c.put(format!("trigger main.{name}"), normalize_ws(&sql)),
            _ => {}
        }
    }
    Ok(c)
}

fn normalize_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diffs() {
        let mut a = Catalog::default();
        a.put("table public.t".into(), String::new());
        a.put("column public.t.a".into(), "integer".into());
        let mut b = a.clone();
        assert!(a.diff(&b).is_empty());
        b.put("column public.t.a".into(), "text".into());
        b.put("column public.t.b".into(), "text".into());
        let d = a.diff(&b);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].change, "changed");
        assert_eq!(d[1].change, "only_actual");
        assert!(d[1].line("the database", "the migrations").contains("public.t.b"));
    }

    #[test]
    fn sqlite_description() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL); CREATE UNIQUE INDEX ue ON users(email);
             CREATE TABLE schema_migrations (version TEXT);",
        )
        .unwrap();
        let c = describe_sqlite(
            &conn,
            &Exclude {
                tables: vec!["schema_migrations".into()],
                schemas: vec![],
            },
        )
        .unwrap();
        assert_eq!(c.items.get("column main.users.email").unwrap(), "TEXT NOT NULL");
        assert!(c.items.contains_key("index main.ue"));
        assert!(!c.items.keys().any(|k| k.contains("schema_migrations")));
    }
}
