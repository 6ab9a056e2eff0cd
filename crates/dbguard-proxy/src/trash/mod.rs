//! The trash: tables the proxy soft-dropped, in the `dbguard_trash` schema of their own
//! database, with one row each in `dbguard_trash.dropped` (see `soft_drop.sql` for how they get
//! there). This module reads that catalog and puts tables back ([`undrop`]) or drops them for
//! good ([`purge`]), over a tokio-postgres connection the caller opens (directly to the
//! server: through the proxy, purging is refused like any DROP TABLE).

pub mod soft_drop;
mod undrop;

use serde::{Deserialize, Serialize};
use tokio_postgres::Client;

pub use undrop::{undrop, UndropError, UndropReport};

/// A foreign key removed with the dropped table: one of another table that referenced it, or
/// one of its own that referenced a table that stayed (`outgoing`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ForeignKey {
    /// The referencing table (schema-qualified, quoted as needed).
    pub table: String,
    pub name: String,
    pub definition: String,
    #[serde(default)]
    pub references: String,
    /// A key of the dropped table itself (to a table that stayed), not one pointing at it.
    #[serde(default)]
    pub outgoing: bool,
}

/// A view or materialized view that depended on the dropped table.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct View {
    /// Schema-qualified, quoted as needed.
    pub name: String,
    /// `v` (view) or `m` (materialized view).
    pub kind: String,
    pub definition: String,
    #[serde(default)]
    pub options: Option<Vec<String>>,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub grants: Vec<Grant>,
    #[serde(default)]
    pub indexes: Vec<String>,
    #[serde(default)]
    pub triggers: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Grant {
    pub grantee: String,
    pub privilege: String,
    #[serde(default)]
    pub grantable: bool,
}

/// An index or owned sequence renamed in the trash.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Renamed {
    pub kind: String,
    pub trash_name: String,
    pub name: String,
}

/// A partition moved with its partitioned table.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Partition {
    pub trash_name: String,
    pub schema: String,
    pub name: String,
}

/// The table was a partition of a table that stayed: where it was attached.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PartitionOf {
    pub parent: String,
    pub bound: String,
}

/// One table in the trash.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Entry {
    pub id: i64,
    pub schema: String,
    pub table: String,
    /// Its name inside `dbguard_trash`.
    pub trash_name: String,
    /// RFC 3339, UTC.
    pub dropped_at: String,
    pub age_seconds: i64,
    pub role: String,
    pub application_name: Option<String>,
    pub client: Option<String>,
    pub rows_estimate: Option<i64>,
    pub size_bytes: Option<i64>,
    pub statement: Option<String>,
    pub cascade: bool,
    pub foreign_keys: Vec<ForeignKey>,
    pub views: Vec<View>,
    pub partitions: Vec<Partition>,
    pub partition_of: Option<PartitionOf>,
    #[serde(skip)]
    pub renamed: Vec<Renamed>,
    /// The table is still in the trash schema (someone may have dropped it by hand).
    pub present: bool,
}

impl Entry {
    /// `schema.table` for people.
    pub fn original(&self) -> String {
        format!("{}.{}", self.schema, self.table)
    }
}

const SELECT: &str = "SELECT d.id, d.schema_name, d.table_name, d.trash_name,
        to_char(d.dropped_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
        extract(epoch FROM now() - d.dropped_at)::bigint,
        d.role_name, d.application_name, d.client, d.rows_estimate, d.size_bytes, d.statement, d.cascaded,
        d.foreign_keys::text, d.views::text, d.partitions::text, d.partition_of::text, d.renamed::text,
        to_regclass(format('dbguard_trash.%I', d.trash_name)) IS NOT NULL
   FROM dbguard_trash.dropped d";

fn entry(row: &tokio_postgres::Row) -> Result<Entry, String> {
    fn json<T: for<'de> Deserialize<'de> + Default>(text: Option<String>) -> Result<T, String> {
        match text {
            None => Ok(T::default()),
            Some(t) => serde_json::from_str(&t).map_err(|e| format!("unreadable trash catalog entry: {e}")),
        }
    }
    let get = |e: tokio_postgres::Error| format!("reading the trash catalog: {e}");
    Ok(Entry {
        id: row.try_get(0).map_err(get)?,
        schema: row.try_get(1).map_err(get)?,
        table: row.try_get(2).map_err(get)?,
        trash_name: row.try_get(3).map_err(get)?,
        dropped_at: row.try_get(4).map_err(get)?,
        age_seconds: row.try_get(5).map_err(get)?,
        role: row.try_get(6).map_err(get)?,
        application_name: row.try_get(7).map_err(get)?,
        client: row.try_get(8).map_err(get)?,
        rows_estimate: row.try_get(9).map_err(get)?,
        size_bytes: row.try_get(10).map_err(get)?,
        statement: row.try_get(11).map_err(get)?,
        cascade: row.try_get(12).map_err(get)?,
        foreign_keys: json(row.try_get(13).map_err(get)?)?,
        views: json(row.try_get(14).map_err(get)?)?,
        partitions: json(row.try_get(15).map_err(get)?)?,
        partition_of: match row.try_get::<_, Option<String>>(16).map_err(get)? {
            Some(t) if t != "null" => {
                Some(serde_json::from_str(&t).map_err(|e| format!("unreadable trash catalog entry: {e}"))?)
            }
            _ => None,
        },
        renamed: json(row.try_get(17).map_err(get)?)?,
        present: row.try_get(18).map_err(get)?,
    })
}

/// Whether this database has a trash at all.
pub async fn exists(client: &Client) -> Result<bool, String> {
    let row = client
        .query_one("SELECT to_regclass('dbguard_trash.dropped') IS NOT NULL", &[])
        .await
        .map_err(|e| describe(&e))?;
    Ok(row.get(0))
}

/// Every table in the trash, newest first.
pub async fn list(client: &Client) -> Result<Vec<Entry>, String> {
    if !exists(client).await? {
        return Ok(Vec::new());
    }
    let rows = client
        .query(&format!("{SELECT} ORDER BY d.dropped_at DESC, d.id DESC"), &[])
        .await
        .map_err(|e| describe(&e))?;
    rows.iter().map(entry).collect()
}

/// The entries a name or id selects: `42`, `orders`, `public.orders` (newest first).
pub async fn find(client: &Client, which: &str) -> Result<Vec<Entry>, String> {
    Ok(list(client)
        .await?
        .into_iter()
        .filter(|e| {
            which.parse::<i64>().ok() == Some(e.id)
                || e.table == which
                || e.original() == which
                || e.trash_name == which
        })
        .collect())
}

/// What `purge` selects.
#[derive(Debug, Clone, Default)]
pub struct PurgeFilter {
    /// Only tables dropped at least this long ago (seconds).
    pub older_than: Option<u64>,
    /// Only these entries (ids).
    pub ids: Vec<i64>,
}

/// Drop the selected tables for good (all in one transaction) and forget them. With
/// `dry_run`, only say which.
pub async fn purge(client: &mut Client, filter: &PurgeFilter, dry_run: bool) -> Result<Vec<Entry>, String> {
    let chosen: Vec<Entry> = list(client)
        .await?
        .into_iter()
        .filter(|e| filter.ids.is_empty() || filter.ids.contains(&e.id))
        .filter(|e| filter.older_than.is_none_or(|s| e.age_seconds >= s as i64))
        .collect();
    if dry_run || chosen.is_empty() {
        return Ok(chosen);
    }
    let tx = client.transaction().await.map_err(|e| describe(&e))?;
    let present: Vec<String> = chosen
        .iter()
        .filter(|e| e.present)
        .map(|e| {
            format!(
                "dbguard_trash.{}",
                postgres_protocol::escape::escape_identifier(&e.trash_name)
            )
        })
        .collect();
    if !present.is_empty() {
        // One statement: foreign keys between tables dropped together go with them; anything
        // outside the trash that depends on one of them stops the purge (no CASCADE).
        tx.batch_execute(&format!("DROP TABLE {}", present.join(", ")))
            .await
            .map_err(|e| describe(&e))?;
    }
    let ids: Vec<i64> = chosen.iter().map(|e| e.id).collect();
    tx.execute("DELETE FROM dbguard_trash.dropped WHERE id = ANY($1)", &[&ids])
        .await
        .map_err(|e| describe(&e))?;
    tx.commit().await.map_err(|e| describe(&e))?;
    Ok(chosen)
}

/// A server error with its message, detail and hint.
pub(crate) fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut s = db.message().to_string();
            if let Some(d) = db.detail() {
                s.push_str(&format!(" ({d})"));
            }
            if let Some(h) = db.hint() {
                s.push_str(&format!("; {h}"));
            }
            s
        }
        None => e.to_string(),
    }
}
