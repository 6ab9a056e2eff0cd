//! The types a table's columns need before its CREATE TABLE can run in a new database,
//! read from the catalog for copy snapshots: extensions that own a type (citext, hstore,
//! PostGIS...), enums, domains (with their checks), composite types and ranges, found
//! through arrays, domain bases, composite attributes and range subtypes, and written
//! in dependency order. `pg_dump --table` leaves all of these out, so restore runs them
//! whichever DDL it uses for the table itself.
//!
//! Each statement tolerates an existing object (a restore into a database that has the
//! type already, or two tables needing the same one).

use std::collections::{HashMap, HashSet};

use anyhow::anyhow;
use tokio_postgres::types::Oid;
use tokio_postgres::Client;

use super::pg::{qualified, quote_ident, quote_literal};
use crate::engine::pg_connect::describe_pg_error;

/// Types nested deeper than this are left to fail at CREATE TABLE (with the server's
/// message) rather than followed forever.
const MAX_DEPTH: usize = 16;

struct TypeRow {
    kind: String,
    schema: String,
    name: String,
    base: Oid,
    relid: Oid,
    elem: Oid,
    is_array: bool,
    extension: Option<(String, String)>,
    range_subtype: Option<Oid>,
}

/// The statements each column type needs, computed once per type and shared by every table
/// that uses it (a schema of 5,000 tables has a handful of distinct column types).
#[derive(Default)]
pub struct Prerequisites {
    by_type: HashMap<Oid, Vec<String>>,
}

impl Prerequisites {
    /// Statements creating what columns of types `roots` need, dependencies first, each once.
    pub async fn for_types(&mut self, client: &Client, roots: &[Oid]) -> anyhow::Result<Vec<String>> {
        let mut out: Vec<String> = Vec::new();
        for &oid in roots {
            if let std::collections::hash_map::Entry::Vacant(e) = self.by_type.entry(oid) {
                let mut stmts = Vec::new();
                visit(client, oid, 0, &mut HashSet::new(), &mut HashSet::new(), &mut stmts).await?;
                e.insert(stmts);
            }
            for s in &self.by_type[&oid] {
                if !out.contains(s) {
                    out.push(s.clone());
                }
            }
        }
        Ok(out)
    }
}

async fn read_type(client: &Client, oid: Oid) -> anyhow::Result<Option<TypeRow>> {
    let row = client
        .query_opt(
            "SELECT t.typtype::text, n.nspname::text, t.typname::text, t.typbasetype, t.typrelid, t.typelem,
                    t.typcategory = 'A',
                    (SELECT e.extname::text FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
                      WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e' LIMIT 1),
                    (SELECT en.nspname::text FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
                      JOIN pg_namespace en ON en.oid = e.extnamespace
                      WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e' LIMIT 1),
                    (SELECT r.rngsubtype FROM pg_range r WHERE r.rngtypid = t.oid)
             FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.oid = $1",
            &[&oid],
        )
        .await
        .map_err(|e| anyhow!("reading type {oid}: {}", describe_pg_error(&e)))?;
    Ok(row.map(|r| {
        let ext: Option<String> = r.get(7);
        let ext_schema: Option<String> = r.get(8);
        TypeRow {
            kind: r.get(0),
            schema: r.get(1),
            name: r.get(2),
            base: r.get(3),
            relid: r.get(4),
            elem: r.get(5),
            is_array: r.get(6),
            extension: ext.zip(ext_schema),
            range_subtype: r.get(9),
        }
    }))
}

/// Depth-first: a type's own needs are written before the type.
async fn visit(
    client: &Client,
    oid: Oid,
    depth: usize,
    done: &mut HashSet<Oid>,
    extensions: &mut HashSet<String>,
    out: &mut Vec<String>,
) -> anyhow::Result<()> {
    if depth > MAX_DEPTH || !done.insert(oid) {
        return Ok(());
    }
    let Some(t) = read_type(client, oid).await? else {
        return Ok(());
    };
    if let Some((ext, schema)) = &t.extension {
        if extensions.insert(ext.clone()) {
            out.push(format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(schema)));
            out.push(format!(
                "CREATE EXTENSION IF NOT EXISTS {} WITH SCHEMA {}",
                quote_ident(ext),
                quote_ident(schema)
            ));
        }
        return Ok(());
    }
    if t.schema == "pg_catalog" || t.schema == "information_schema" {
        return Ok(());
    }
    if t.is_array && t.elem != 0 {
        return Box::pin(visit(client, t.elem, depth + 1, done, extensions, out)).await;
    }
    let name = qualified(&t.schema, &t.name);
    let body = match t.kind.as_str() {
        "e" => {
            let labels: Vec<String> = client
                .query(
                    "SELECT enumlabel::text FROM pg_enum WHERE enumtypid = $1 ORDER BY enumsortorder",
                    &[&oid],
                )
                .await
                .map_err(|e| anyhow!("reading enum {name}: {}", describe_pg_error(&e)))?
                .iter()
                .map(|r| quote_literal(&r.get::<_, String>(0)))
                .collect();
            format!("CREATE TYPE {name} AS ENUM ({})", labels.join(", "))
        }
        "d" => {
            Box::pin(visit(client, t.base, depth + 1, done, extensions, out)).await?;
            domain(client, oid, &name).await?
        }
        "c" => {
            let attrs = client
                .query(
                    "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), a.atttypid FROM pg_attribute a
                     WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
                    &[&t.relid],
                )
                .await
                .map_err(|e| anyhow!("reading composite type {name}: {}", describe_pg_error(&e)))?;
            let mut cols = Vec::new();
            for a in &attrs {
                Box::pin(visit(client, a.get(2), depth + 1, done, extensions, out)).await?;
                cols.push(format!(
                    "{} {}",
                    quote_ident(&a.get::<_, String>(0)),
                    a.get::<_, String>(1)
                ));
            }
            format!("CREATE TYPE {name} AS ({})", cols.join(", "))
        }
        "r" => {
            let Some(sub) = t.range_subtype else { return Ok(()) };
            Box::pin(visit(client, sub, depth + 1, done, extensions, out)).await?;
            let subtype: String = client
                .query_one("SELECT format_type($1, NULL)", &[&sub])
                .await
                .map_err(|e| anyhow!("reading range type {name}: {}", describe_pg_error(&e)))?
                .get(0);
            format!("CREATE TYPE {name} AS RANGE (SUBTYPE = {subtype})")
        }
        // Base types of our own (C functions) cannot be recreated from the catalog; the
        // CREATE TABLE will say which type is missing.
        _ => return Ok(()),
    };
    out.push(format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(&t.schema)));
    // The body holds names, labels and defaults from the source database: the dollar
    // quote's tag must not occur in it, or the block would end early.
    let tag = (0..)
        .map(|n: u32| {
            if n == 0 {
                "$dbguard$".to_string()
            } else {
                format!("$dbguard{n}$")
            }
        })
        .find(|t| !body.contains(t.as_str()))
        .unwrap_or_default();
    out.push(format!(
        "DO {tag} BEGIN {body}; EXCEPTION WHEN duplicate_object THEN NULL; END {tag}"
    ));
    Ok(())
}

async fn domain(client: &Client, oid: Oid, name: &str) -> anyhow::Result<String> {
    let err = |e: tokio_postgres::Error| anyhow!("reading domain {name}: {}", describe_pg_error(&e));
    let d = client
        .query_one(
            "SELECT format_type(t.typbasetype, t.typtypmod), t.typnotnull, t.typdefault,
                    CASE WHEN t.typcollation <> b.typcollation AND t.typcollation <> 0
                         THEN (SELECT quote_ident(cn.nspname) || '.' || quote_ident(c.collname) FROM pg_collation c
                               JOIN pg_namespace cn ON cn.oid = c.collnamespace WHERE c.oid = t.typcollation) END
             FROM pg_type t JOIN pg_type b ON b.oid = t.typbasetype WHERE t.oid = $1",
            &[&oid],
        )
        .await
        .map_err(err)?;
    let (base, notnull): (String, bool) = (d.get(0), d.get(1));
    let default: Option<String> = d.get(2);
    let collation: Option<String> = d.get(3);
    let mut s = format!("CREATE DOMAIN {name} AS {base}");
    if let Some(c) = collation {
        s.push_str(&format!(" COLLATE {c}"));
    }
    if let Some(expr) = default {
        s.push_str(&format!(" DEFAULT {expr}"));
    }
    if notnull {
        s.push_str(" NOT NULL");
    }
    let checks = client
        .query(
            "SELECT conname::text, pg_get_constraintdef(oid) FROM pg_constraint WHERE contypid = $1 AND contype = 'c' ORDER BY conname",
            &[&oid],
        )
        .await
        .map_err(err)?;
    for c in checks {
        s.push_str(&format!(
            " CONSTRAINT {} {}",
            quote_ident(&c.get::<_, String>(0)),
            c.get::<_, String>(1)
        ));
    }
    Ok(s)
}
