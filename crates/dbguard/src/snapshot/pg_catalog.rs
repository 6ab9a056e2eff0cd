//! What a copy snapshot reads from the catalog, in one pass for all its tables: each table's
//! DDL (columns, serial sequences, constraints, indexes, the types its columns need), the
//! sequences its columns own with their values, and the populated materialized views in
//! dependency order. A query per kind of thing, never per table: a schema of 5,000 tables took
//! 25,000 round trips when each table was asked on its own.

use std::collections::{HashMap, HashSet};

use anyhow::anyhow;
use serde::{Deserialize, Serialize};
use tokio_postgres::types::Oid;
use tokio_postgres::{Client, Row};

use super::manifest::{SequenceValue, SnapshotScope};
use super::pg::{qualified, quote_ident, TableRef};
use super::pg_types::Prerequisites;
use crate::engine::pg_connect::describe_pg_error;

/// DDL of one table from the catalog, run by restore in two phases around the data.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct TableDdl {
    pub schema: String,
    pub name: String,
    /// Extensions and types the columns need (`pg_types`), run before either DDL source
    /// (pg_dump's or `pre`). Older snapshots have their enums in `pre` instead.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<String>,
    /// Sequences and the CREATE TABLE: before the data.
    pub pre: Vec<String>,
    /// Constraints, indexes, sequence ownership: after the data (faster, and FKs need
    /// their referenced tables).
    pub post: Vec<String>,
}

/// Sequences read per query (`SELECT ... FROM s1 UNION ALL SELECT ... FROM s2 ...`).
const SEQUENCES_PER_QUERY: usize = 500;

fn oids(tables: &[TableRef]) -> Vec<Oid> {
    tables.iter().map(|t| t.oid).collect()
}

/// Rows of `sql` (whose first column is a table oid, `$1` the table oids) grouped by table.
async fn by_table(
    client: &Client,
    sql: &str,
    tables: &[TableRef],
    what: &str,
) -> anyhow::Result<HashMap<Oid, Vec<Row>>> {
    let rows = client
        .query(sql, &[&oids(tables)])
        .await
        .map_err(|e| anyhow!("reading the {what} of the tables: {}", describe_pg_error(&e)))?;
    let mut out: HashMap<Oid, Vec<Row>> = HashMap::new();
    for r in rows {
        out.entry(r.get(0)).or_default().push(r);
    }
    Ok(out)
}

/// Per-table DDL from the catalog: types used (`pg_types`), owned sequences, columns with types,
/// defaults, NOT NULL, identity and generated columns; then constraints and indexes.
pub async fn table_ddl(client: &Client, tables: &[TableRef]) -> anyhow::Result<Vec<TableDdl>> {
    // Serial sequences (not identity: those come with the column).
    let seqs = by_table(
        client,
        "SELECT d.refobjid, n.nspname::text, s.relname::text, a.attname::text, format_type(sq.seqtypid, NULL),
                sq.seqstart, sq.seqincrement, sq.seqmin, sq.seqmax, sq.seqcycle
         FROM pg_depend d
         JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
         JOIN pg_namespace n ON n.oid = s.relnamespace
         JOIN pg_sequence sq ON sq.seqrelid = s.oid
         JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
         WHERE d.refobjid = ANY($1) AND d.classid = 'pg_class'::regclass AND d.deptype = 'a'
         ORDER BY d.refobjid, s.oid",
        tables,
        "sequences",
    )
    .await?;
    let cols = by_table(
        client,
        "SELECT a.attrelid, a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, a.attgenerated::text,
                CASE WHEN a.attcollation <> ty.typcollation AND a.attcollation <> 0
                     THEN (SELECT quote_ident(cn.nspname) || '.' || quote_ident(c.collname) FROM pg_collation c
                           JOIN pg_namespace cn ON cn.oid = c.collnamespace WHERE c.oid = a.attcollation) END,
                a.atttypid
         FROM pg_attribute a
         JOIN pg_type ty ON ty.oid = a.atttypid
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
         WHERE a.attrelid = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attrelid, a.attnum",
        tables,
        "columns",
    )
    .await?;
    // Constraints: primary key and unique first (FKs may need them), then checks, exclusions, FKs.
    let cons = by_table(
        client,
        "SELECT conrelid, conname::text, pg_get_constraintdef(oid), contype::text FROM pg_constraint
         WHERE conrelid = ANY($1) AND contype IN ('p','u','c','x','f')
         ORDER BY conrelid, CASE contype WHEN 'p' THEN 0 WHEN 'u' THEN 1 WHEN 'c' THEN 2 WHEN 'x' THEN 3 ELSE 4 END, conname",
        tables,
        "constraints",
    )
    .await?;
    let idx = by_table(
        client,
        "SELECT i.indrelid, pg_get_indexdef(i.indexrelid) FROM pg_index i
         WHERE i.indrelid = ANY($1) AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)
         ORDER BY i.indrelid, i.indexrelid",
        tables,
        "indexes",
    )
    .await?;
    let mut types = Prerequisites::default();
    let mut out = Vec::with_capacity(tables.len());
    let none = Vec::new();
    for t in tables {
        let table = qualified(&t.schema, &t.name);
        let mut ddl = TableDdl {
            schema: t.schema.clone(),
            name: t.name.clone(),
            ..Default::default()
        };
        ddl.pre
            .push(format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(&t.schema)));
        let cols = cols.get(&t.oid).unwrap_or(&none);
        let mut roots: Vec<Oid> = Vec::new();
        for c in cols {
            let oid: Oid = c.get(8);
            if !roots.contains(&oid) {
                roots.push(oid);
            }
        }
        ddl.types = types
            .for_types(client, &roots)
            .await
            .map_err(|e| anyhow!("reading the definition of {}.{}: {e:#}", t.schema, t.name))?;
        for s in seqs.get(&t.oid).unwrap_or(&none) {
            let (sn, name, col, ty): (String, String, String, String) = (s.get(1), s.get(2), s.get(3), s.get(4));
            let (start, inc, min, max, cycle): (i64, i64, i64, i64, bool) =
                (s.get(5), s.get(6), s.get(7), s.get(8), s.get(9));
            ddl.pre
                .push(format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(&sn)));
            ddl.pre.push(format!(
                "CREATE SEQUENCE {} AS {ty} START {start} INCREMENT {inc} MINVALUE {min} MAXVALUE {max} {}",
                qualified(&sn, &name),
                if cycle { "CYCLE" } else { "NO CYCLE" }
            ));
            ddl.post.push(format!(
                "ALTER SEQUENCE {} OWNED BY {table}.{}",
                qualified(&sn, &name),
                quote_ident(&col)
            ));
        }
        let mut defs = Vec::new();
        for c in cols {
            let (name, ty, notnull): (String, String, bool) = (c.get(1), c.get(2), c.get(3));
            let default: Option<String> = c.get(4);
            let identity: String = c.get(5);
            let generated: String = c.get(6);
            let collation: Option<String> = c.get(7);
            let mut def = format!("{} {ty}", quote_ident(&name));
            if let Some(coll) = collation {
                def.push_str(&format!(" COLLATE {coll}"));
            }
            match (identity.as_str(), generated.as_str(), default) {
                ("a", _, _) => def.push_str(" GENERATED ALWAYS AS IDENTITY"),
                ("d", _, _) => def.push_str(" GENERATED BY DEFAULT AS IDENTITY"),
                (_, "s", Some(expr)) => def.push_str(&format!(" GENERATED ALWAYS AS ({expr}) STORED")),
                (_, _, Some(expr)) => def.push_str(&format!(" DEFAULT {expr}")),
                _ => {}
            }
            if notnull {
                def.push_str(" NOT NULL");
            }
            defs.push(def);
        }
        ddl.pre
            .push(format!("CREATE TABLE {table} (\n    {}\n)", defs.join(",\n    ")));
        for c in cons.get(&t.oid).unwrap_or(&none) {
            let (name, def): (String, String) = (c.get(1), c.get(2));
            ddl.post.push(format!(
                "ALTER TABLE {table} ADD CONSTRAINT {} {def}",
                quote_ident(&name)
            ));
        }
        for i in idx.get(&t.oid).unwrap_or(&none) {
            ddl.post.push(i.get(1));
        }
        out.push(ddl);
    }
    Ok(out)
}

/// For each table, the sequences its columns own (serial and identity) with their values.
/// Sequences are not transactional: the values are the current ones, read right after the data.
pub async fn owned_sequences(client: &Client, tables: &[TableRef]) -> anyhow::Result<Vec<Vec<SequenceValue>>> {
    // A partition's rows take their serial values from the sequence its partitioned parent
    // owns (the parent holds no rows and is not among the tables): that sequence goes with
    // the first partition listed.
    let owned = by_table(
        client,
        "WITH RECURSIVE owner(tab, rel) AS (
             SELECT t, t FROM unnest($1::oid[]) t
             UNION
             SELECT o.tab, i.inhparent FROM owner o
             JOIN pg_inherits i ON i.inhrelid = o.rel
             JOIN pg_class p ON p.oid = i.inhparent AND p.relkind = 'p')
         SELECT o.tab, n.nspname::text, s.relname::text FROM owner o
         JOIN pg_depend d ON d.refobjid = o.rel AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a','i')
         JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
         JOIN pg_namespace n ON n.oid = s.relnamespace
         ORDER BY 1, 2, 3",
        tables,
        "sequences",
    )
    .await?;
    let mut names: Vec<(usize, String, String)> = Vec::new();
    let mut seen: HashSet<(String, String)> = HashSet::new();
    for (i, t) in tables.iter().enumerate() {
        for r in owned.get(&t.oid).into_iter().flatten() {
            let (schema, name): (String, String) = (r.get(1), r.get(2));
            if seen.insert((schema.clone(), name.clone())) {
                names.push((i, schema, name));
            }
        }
    }
    let mut out: Vec<Vec<SequenceValue>> = tables.iter().map(|_| Vec::new()).collect();
    for chunk in names.chunks(SEQUENCES_PER_QUERY) {
        let sql = chunk
            .iter()
            .enumerate()
            .map(|(k, (_, schema, name))| {
                format!(
                    "SELECT {k}::int, last_value, is_called FROM {}",
                    qualified(schema, name)
                )
            })
            .collect::<Vec<_>>()
            .join(" UNION ALL ");
        let rows = client
            .query(&sql, &[])
            .await
            .map_err(|e| anyhow!("reading the sequences: {}", describe_pg_error(&e)))?;
        for r in rows {
            let k: i32 = r.get(0);
            let Some((table, schema, name)) = chunk.get(k as usize) else {
                continue;
            };
            out[*table].push(SequenceValue {
                schema: schema.clone(),
                name: name.clone(),
                last_value: r.get(1),
                is_called: r.get(2),
            });
        }
    }
    Ok(out)
}

/// The populated materialized views of `scope`, qualified and quoted, each after the
/// materialized views it reads (directly or through views). pg_dump's schema puts them back
/// empty (`WITH NO DATA`); restore refreshes them in this order once the data is in, as
/// `pg_restore` does. Table scopes hold no views.
pub async fn populated_matviews(client: &Client, scope: &SnapshotScope) -> anyhow::Result<Vec<String>> {
    let schemas: Option<Vec<String>> = match scope {
        SnapshotScope::Tables(_) => return Ok(Vec::new()),
        SnapshotScope::Schema(s) => Some(s.clone()),
        SnapshotScope::Database => None,
    };
    let q = |e: tokio_postgres::Error| anyhow!("listing materialized views: {}", describe_pg_error(&e));
    // Views and materialized views, and which of them each one's query reads.
    let rows = client
        .query(
            "SELECT c.oid, c.relkind::text, c.relispopulated, n.nspname::text, c.relname::text,
                    coalesce(array_agg(DISTINCT d.refobjid) FILTER (WHERE d.refobjid IS NOT NULL), '{}')
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             LEFT JOIN pg_rewrite r ON r.ev_class = c.oid
             LEFT JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                  AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> c.oid
                  AND EXISTS (SELECT 1 FROM pg_class v WHERE v.oid = d.refobjid AND v.relkind IN ('v','m'))
             WHERE c.relkind IN ('v','m') AND n.nspname NOT IN ('pg_catalog','information_schema')
               AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.objid = c.oid AND e.deptype = 'e')
             GROUP BY c.oid, c.relkind, c.relispopulated, n.nspname, c.relname
             ORDER BY n.nspname, c.relname",
            &[],
        )
        .await
        .map_err(q)?;
    struct Rel {
        matview: bool,
        populated: bool,
        name: String,
        schema: String,
        reads: Vec<Oid>,
    }
    let rels: HashMap<Oid, Rel> = rows
        .iter()
        .map(|r| {
            let kind: String = r.get(1);
            let schema: String = r.get(3);
            let name: String = r.get(4);
            (
                r.get(0),
                Rel {
                    matview: kind == "m",
                    populated: r.get(2),
                    name: qualified(&schema, &name),
                    schema,
                    reads: r.get(5),
                },
            )
        })
        .collect();
    let order: Vec<Oid> = rows.iter().map(|r| r.get(0)).collect();
    // Depth-first, dependencies first; views are walked through, only materialized views listed.
    fn visit(oid: Oid, rels: &HashMap<Oid, Rel>, seen: &mut HashSet<Oid>, out: &mut Vec<Oid>) {
        if !seen.insert(oid) {
            return;
        }
        let Some(rel) = rels.get(&oid) else { return };
        for r in &rel.reads {
            visit(*r, rels, seen, out);
        }
        if rel.matview {
            out.push(oid);
        }
    }
    let mut seen = HashSet::new();
    let mut sorted = Vec::new();
    for oid in order {
        visit(oid, &rels, &mut seen, &mut sorted);
    }
    Ok(sorted
        .into_iter()
        .filter_map(|oid| rels.get(&oid))
        .filter(|r| r.populated && schemas.as_ref().is_none_or(|s| s.contains(&r.schema)))
        .map(|r| r.name.clone())
        .collect())
}
