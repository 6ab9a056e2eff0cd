//! `undrop`: a table goes back where it was, in one transaction: moved out of the trash (its
//! rows, indexes, constraints, triggers and owned sequences move with it), renamed back with
//! its indexes and sequences, its partitions back in their schemas, re-attached to the
//! partitioned table it was part of, and the foreign keys and views its DROP ... CASCADE
//! removed created again. Moving and renaming only touch the catalog, so a table of any size
//! comes back in milliseconds (foreign keys are checked against the rows, as when they were
//! first added).

use std::time::Instant;

use postgres_protocol::escape::{escape_identifier as ident, escape_literal as literal};
use serde::Serialize;
use tokio_postgres::{Client, Transaction};

use super::{describe, find, View};

/// What undrop did.
#[derive(Debug, Clone, Serialize)]
pub struct UndropReport {
    pub id: i64,
    /// `schema.table` as it is now.
    pub restored_as: String,
    pub rows_estimate: Option<i64>,
    pub foreign_keys: Vec<String>,
    pub views: Vec<String>,
    /// What could not be put back as it was, and what to do.
    pub warnings: Vec<String>,
    pub elapsed_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UndropError {
    NotFound(String),
    /// The name (or a name the table needs) is taken: the message says what to do.
    NameTaken(String),
    Failed(String),
}

impl std::fmt::Display for UndropError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UndropError::NotFound(m) | UndropError::NameTaken(m) | UndropError::Failed(m) => f.write_str(m),
        }
    }
}

fn failed(e: tokio_postgres::Error) -> UndropError {
    UndropError::Failed(describe(&e))
}

/// Put `which` (an id, `table` or `schema.table`; the newest when several match) back, as
/// `new_name` (`name` or `schema.name`) when given. With a new name, the foreign keys and
/// views are not recreated (their definitions name the old one): they are listed instead.
pub async fn undrop(client: &mut Client, which: &str, new_name: Option<&str>) -> Result<UndropReport, UndropError> {
    let started = Instant::now();
    let found = find(client, which).await.map_err(UndropError::Failed)?;
    let Some(e) = found.first().cloned() else {
        return Err(UndropError::NotFound(format!(
            "nothing named {which:?} is in the trash (see `dbguard trash`)"
        )));
    };
    let mut warnings = Vec::new();
    if found.len() > 1 && which.parse::<i64>().is_err() {
        let others: Vec<String> = found[1..]
            .iter()
            .map(|o| format!("{} ({})", o.id, o.dropped_at))
            .collect();
        warnings.push(format!(
            "{} tables named {} are in the trash; the newest (id {}, dropped {}) was put back; older ones: {}",
            found.len(),
            e.original(),
            e.id,
            e.dropped_at,
            others.join(", ")
        ));
    }
    if !e.present {
        return Err(UndropError::Failed(format!(
            "table {} (id {}) is no longer in the trash schema: it was dropped from dbguard_trash by hand",
            e.original(),
            e.id
        )));
    }
    let (schema, name) = match new_name {
        Some(n) => match n.split_once('.') {
            Some((s, t)) => (s.to_string(), t.to_string()),
            None => (e.schema.clone(), n.to_string()),
        },
        None => (e.schema.clone(), e.table.clone()),
    };
    let target = format!("{}.{}", ident(&schema), ident(&name));

    let tx = client.transaction().await.map_err(failed)?;
    tx.batch_execute("SET LOCAL search_path = pg_catalog")
        .await
        .map_err(failed)?;
    // Lock the entry so two undrops of the same table do not race.
    let still = tx
        .query_opt("SELECT 1 FROM dbguard_trash.dropped WHERE id = $1 FOR UPDATE", &[&e.id])
        .await
        .map_err(failed)?;
    if still.is_none() {
        return Err(UndropError::NotFound(format!(
            "table {} (id {}) left the trash meanwhile",
            e.original(),
            e.id
        )));
    }
    if !exists(&tx, "SELECT to_regnamespace($1) IS NOT NULL", &schema).await? {
        return Err(UndropError::NameTaken(format!(
            "schema {schema} does not exist any more: create it first (CREATE SCHEMA {}), or put the table elsewhere with --as OTHER_SCHEMA.{name}",
            ident(&schema)
        )));
    }
    if exists(&tx, "SELECT to_regclass($1) IS NOT NULL", &target).await? {
        return Err(UndropError::NameTaken(format!(
            "{schema}.{name} exists already (a new table was created with that name since the drop): rename or drop that table first, or put this one back under another name: dbguard undrop {} --as {name}_restored",
            e.id
        )));
    }
    for p in &e.partitions {
        let t = format!("{}.{}", ident(&p.schema), ident(&p.name));
        if exists(&tx, "SELECT to_regclass($1) IS NOT NULL", &t).await? {
            return Err(UndropError::NameTaken(format!(
                "partition {}.{} of {} exists already: rename or drop that table first",
                p.schema,
                p.name,
                e.original()
            )));
        }
    }

    // The table and its partitions, out of the trash and renamed back.
    let trashed = format!("dbguard_trash.{}", ident(&e.trash_name));
    exec(&tx, &format!("ALTER TABLE {trashed} SET SCHEMA {}", ident(&schema))).await?;
    exec(
        &tx,
        &format!(
            "ALTER TABLE {}.{} RENAME TO {}",
            ident(&schema),
            ident(&e.trash_name),
            ident(&name)
        ),
    )
    .await?;
    for p in &e.partitions {
        exec(
            &tx,
            &format!(
                "ALTER TABLE dbguard_trash.{} SET SCHEMA {}",
                ident(&p.trash_name),
                ident(&p.schema)
            ),
        )
        .await?;
        exec(
            &tx,
            &format!(
                "ALTER TABLE {}.{} RENAME TO {}",
                ident(&p.schema),
                ident(&p.trash_name),
                ident(&p.name)
            ),
        )
        .await?;
    }
    // Indexes and sequences: their old names when free (a new table may have taken them).
    for r in &e.renamed {
        let row = tx
            .query_opt(
                "SELECT c.oid::regclass::text, n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = $1",
                &[&r.trash_name],
            )
            .await
            .map_err(failed)?;
        let Some(row) = row else { continue };
        let (current, nsp): (String, String) = (row.get(0), row.get(1));
        let mut wanted = r.name.clone();
        let free = |n: &str| format!("{}.{}", ident(&nsp), ident(n));
        if exists(&tx, "SELECT to_regclass($1) IS NOT NULL", &free(&wanted)).await? {
            wanted = format!("{}_{}", r.name.chars().take(50).collect::<String>(), e.id);
            warnings.push(format!(
                "the {} name {} is taken in schema {nsp}: it is back as {wanted}",
                r.kind, r.name
            ));
        }
        let what = if r.kind == "sequence" { "SEQUENCE" } else { "INDEX" };
        exec(&tx, &format!("ALTER {what} {current} RENAME TO {}", ident(&wanted))).await?;
    }
    if let Some(p) = &e.partition_of {
        if exists(&tx, "SELECT to_regclass($1) IS NOT NULL", &p.parent).await? {
            let sql = format!("ALTER TABLE {} ATTACH PARTITION {target} {}", p.parent, p.bound);
            if let Err(err) = savepoint(&tx, &sql).await {
                warnings.push(format!(
                    "not attached again as a partition of {} ({err}); to do it yourself: {sql}",
                    p.parent
                ));
            }
        } else {
            warnings.push(format!(
                "it was a partition of {}, which no longer exists: it is back as a table of its own",
                p.parent
            ));
        }
    }

    // What CASCADE had removed.
    let mut fks = Vec::new();
    let mut views = Vec::new();
    let renamed_keys: Vec<super::ForeignKey>;
    let keys = if new_name.is_some() {
        // Its own keys follow it under the new name; keys of other tables name the old one.
        renamed_keys = e
            .foreign_keys
            .iter()
            .filter(|fk| fk.outgoing && fk.table.replace('"', "") == e.original())
            .map(|fk| super::ForeignKey {
                table: target.clone(),
                ..fk.clone()
            })
            .collect();
        &renamed_keys
    } else {
        &e.foreign_keys
    };
    if new_name.is_some() {
        for fk in e.foreign_keys.iter().filter(|fk| !fk.outgoing) {
            warnings.push(format!(
                "foreign key not recreated (it names the old table): ALTER TABLE {} ADD CONSTRAINT {} {};",
                fk.table,
                ident(&fk.name),
                fk.definition
            ));
        }
        for v in &e.views {
            warnings.push(format!(
                "view not recreated (it names the old table): CREATE {}VIEW {} AS {}",
                if v.kind == "m" { "MATERIALIZED " } else { "" },
                v.name,
                v.definition.trim()
            ));
        }
    }
    {
        for fk in keys {
            let present = tx
                .query_one(
                    "SELECT to_regclass($1) IS NOT NULL, EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass($1) AND conname = $2)",
                    &[&fk.table, &fk.name],
                )
                .await
                .map_err(failed)?;
            let (table_there, fk_there): (bool, bool) = (present.get(0), present.get(1));
            if !table_there {
                warnings.push(format!(
                    "foreign key {} not recreated: table {} no longer exists",
                    fk.name, fk.table
                ));
                continue;
            }
            if fk_there {
                continue;
            }
            let sql = format!(
                "ALTER TABLE {} ADD CONSTRAINT {} {}",
                fk.table,
                ident(&fk.name),
                fk.definition
            );
            match savepoint(&tx, &sql).await {
                Ok(()) => fks.push(format!("{}.{}", fk.table, fk.name)),
                Err(err) if !fk.definition.contains("NOT VALID") => {
                    // Rows written since the drop may reference keys the table does not hold:
                    // the key comes back unchecked for them, and says so.
                    match savepoint(&tx, &format!("{sql} NOT VALID")).await {
                        Ok(()) => {
                            fks.push(format!("{}.{} (NOT VALID)", fk.table, fk.name));
                            warnings.push(format!(
                                "foreign key {} on {} is back as NOT VALID: {err}. Fix those rows, then: ALTER TABLE {} VALIDATE CONSTRAINT {};",
                                fk.name, fk.table, fk.table, ident(&fk.name)
                            ));
                        }
                        Err(err) => warnings.push(format!("foreign key {} not recreated ({err}): {sql};", fk.name)),
                    }
                }
                Err(err) => warnings.push(format!("foreign key {} not recreated ({err}): {sql};", fk.name)),
            }
        }
        // Views in the recorded order, again while any succeeds (a view may need another).
        let mut pending: Vec<&View> = if new_name.is_some() {
            Vec::new()
        } else {
            e.views.iter().collect()
        };
        let mut last_error = std::collections::HashMap::new();
        loop {
            let before = pending.len();
            let mut left = Vec::new();
            for v in pending {
                if exists(&tx, "SELECT to_regclass($1) IS NOT NULL", &v.name).await? {
                    continue;
                }
                match create_view(&tx, v, &mut warnings).await {
                    Ok(()) => views.push(v.name.clone()),
                    Err(err) => {
                        last_error.insert(v.name.clone(), err);
                        left.push(v);
                    }
                }
            }
            pending = left;
            if pending.is_empty() || pending.len() == before {
                break;
            }
        }
        for v in pending {
            warnings.push(format!(
                "view {} not recreated ({}); its definition: CREATE {}VIEW {} AS {}",
                v.name,
                last_error.get(&v.name).map(String::as_str).unwrap_or("unknown error"),
                if v.kind == "m" { "MATERIALIZED " } else { "" },
                v.name,
                v.definition.trim()
            ));
        }
    }
    tx.execute("DELETE FROM dbguard_trash.dropped WHERE id = $1", &[&e.id])
        .await
        .map_err(failed)?;
    tx.commit().await.map_err(failed)?;
    Ok(UndropReport {
        id: e.id,
        restored_as: format!("{schema}.{name}"),
        rows_estimate: e.rows_estimate,
        foreign_keys: fks,
        views,
        warnings,
        elapsed_ms: started.elapsed().as_millis() as u64,
    })
}

async fn exists(tx: &Transaction<'_>, sql: &str, arg: &str) -> Result<bool, UndropError> {
    let row = tx.query_one(sql, &[&arg]).await.map_err(failed)?;
    Ok(row.get(0))
}

async fn exec(tx: &Transaction<'_>, sql: &str) -> Result<(), UndropError> {
    tx.batch_execute(sql).await.map_err(failed)
}

/// Run `sql` in a savepoint: on failure the transaction goes on without it.
async fn savepoint(tx: &Transaction<'_>, sql: &str) -> Result<(), String> {
    tx.batch_execute("SAVEPOINT dbguard_undrop")
        .await
        .map_err(|e| describe(&e))?;
    match tx.batch_execute(sql).await {
        Ok(()) => tx
            .batch_execute("RELEASE SAVEPOINT dbguard_undrop")
            .await
            .map_err(|e| describe(&e)),
        Err(err) => {
            tx.batch_execute("ROLLBACK TO SAVEPOINT dbguard_undrop; RELEASE SAVEPOINT dbguard_undrop")
                .await
                .map_err(|e| describe(&e))?;
            Err(describe(&err))
        }
    }
}

/// Create a recorded view again, with its options, owner, grants, comment, indexes, triggers.
async fn create_view(tx: &Transaction<'_>, v: &View, warnings: &mut Vec<String>) -> Result<(), String> {
    let materialized = v.kind == "m";
    let with = match &v.options {
        Some(o) if !o.is_empty() => format!(" WITH ({})", o.join(", ")),
        _ => String::new(),
    };
    let keyword = if materialized { "MATERIALIZED VIEW" } else { "VIEW" };
    let body = v.definition.trim().trim_end_matches(';');
    savepoint(tx, &format!("CREATE {keyword} {}{with} AS {body}", v.name)).await?;
    let mut extras = Vec::new();
    if let Some(owner) = &v.owner {
        extras.push(format!("ALTER {keyword} {} OWNER TO {}", v.name, ident(owner)));
    }
    for g in &v.grants {
        extras.push(format!(
            "GRANT {} ON {} TO {}{}",
            g.privilege,
            v.name,
            g.grantee,
            if g.grantable { " WITH GRANT OPTION" } else { "" }
        ));
    }
    if let Some(c) = &v.comment {
        extras.push(format!("COMMENT ON {keyword} {} IS {}", v.name, literal(c)));
    }
    extras.extend(v.indexes.iter().cloned());
    extras.extend(v.triggers.iter().cloned());
    for sql in extras {
        if let Err(err) = savepoint(tx, &sql).await {
            warnings.push(format!("on view {}: {err} ({sql})", v.name));
        }
    }
    Ok(())
}
