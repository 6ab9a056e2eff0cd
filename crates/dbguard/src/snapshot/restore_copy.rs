//! Loading a copy snapshot into a database: the types the columns need, the schema (pg_dump's
//! for a whole snapshot, else the catalog's per table), the data (segments and pack frames over
//! the connections given, see `pg_stream`), constraints and indexes, sequence values, and the
//! materialized views refreshed in dependency order.
//!
//! Statements go to the server many to a transaction: on this kind of machine every commit
//! waits 4-5 ms for the WAL to reach the disk, so a schema of 5,000 tables restored one
//! statement per transaction spent most of its time waiting. A batch that fails is rolled back
//! and run again one object at a time, so one bad object (a foreign key to a table outside the
//! snapshot) is reported and skipped as before. Batches stay well inside the server's lock
//! table (`max_locks_per_transaction`): each created relation holds a lock until its commit.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, bail};
use tokio_postgres::Client;

use super::manifest::{FileEntry, PackedFrame, TableEntry};
use super::pg::{qualified, quote_ident, quote_literal};
use super::pg_copy::{self, DdlFile, TableDdl};
use super::pg_stream::{self, Transactions};
use super::progress::Progress;
use super::store;

/// Sequence values set per statement.
const SEQUENCES_PER_STATEMENT: usize = 500;

pub fn read_ddl(dir: &Path) -> anyhow::Result<DdlFile> {
    let text = std::fs::read(dir.join("ddl.json")).map_err(|e| store::io_error(e, "reading ddl.json"))?;
    serde_json::from_slice(&text).map_err(|e| anyhow!("ddl.json is not valid: {e}"))
}

/// The data files that loading `selected` reads from start to end, so that they can be checked
/// as they are read: the segment files of those tables, and the pack files all of whose frames
/// belong to them (`all`: every table of the snapshot). A pack read only in part is checked
/// before loading instead.
pub fn read_whole(all: &[TableEntry], selected: &[TableEntry]) -> Vec<String> {
    let chosen: HashSet<String> = selected.iter().map(|t| t.qualified()).collect();
    let mut partial: HashSet<&str> = HashSet::new();
    for t in all {
        if let Some(p) = &t.packed {
            if !chosen.contains(&t.qualified()) {
                partial.insert(&p.file);
            }
        }
    }
    let mut out: Vec<String> = selected.iter().flat_map(|t| t.files.iter().cloned()).collect();
    for t in selected {
        if let Some(p) = &t.packed {
            if !partial.contains(p.file.as_str()) && !out.contains(&p.file) {
                out.push(p.file.clone());
            }
        }
    }
    out
}

/// Every data file that loading `selected` reads, wholly or in part.
pub fn data_files(selected: &[TableEntry]) -> Vec<String> {
    let mut out: Vec<String> = selected.iter().flat_map(|t| t.files.iter().cloned()).collect();
    for p in selected.iter().filter_map(|t| t.packed.as_ref()) {
        if !out.contains(&p.file) {
            out.push(p.file.clone());
        }
    }
    out
}

/// Where `load_copy` puts the tables.
pub struct Load<'a> {
    pub dir: &'a Path,
    /// Every table of the snapshot (to know which pack files are read whole).
    pub all: &'a [TableEntry],
    /// The tables to load.
    pub tables: &'a [TableEntry],
    pub ddl: &'a DdlFile,
    /// The whole snapshot goes into a new database, so pg_dump's DDL (views, functions...) can
    /// be used when present.
    pub use_pg_dump: bool,
    /// The manifest's file entries, to check the files of `read_whole` as they are loaded.
    pub verify: Option<&'a [FileEntry]>,
    /// `Caller`: one connection, inside a transaction the caller holds (in-place restore).
    pub txn: Transactions,
}

/// DDL, data (spread over the given connections), constraints and indexes, sequence values,
/// materialized views. Returns warnings (objects skipped).
pub async fn load_copy(clients: &[&Client], l: &Load<'_>, prog: &Progress) -> anyhow::Result<Vec<String>> {
    let main = clients[0];
    let mut warnings = Vec::new();
    let batch = match l.txn {
        Transactions::Batched => Some(batch_size(main).await),
        Transactions::Caller => None,
    };
    let dump_ddl = match (&l.ddl.pg_dump_pre, &l.ddl.pg_dump_post) {
        (Some(pre), Some(post)) if l.use_pg_dump => {
            Some((pg_copy::split_dump_sections(pre), pg_copy::split_dump_sections(post)))
        }
        _ => None,
    };
    let by_name: HashMap<(&str, &str), &TableDdl> = l
        .ddl
        .tables
        .iter()
        .map(|d| ((d.schema.as_str(), d.name.as_str()), d))
        .collect();
    let catalog = |t: &TableEntry| by_name.get(&(t.schema.as_str(), t.name.as_str())).copied();
    let mut types: Vec<String> = Vec::new();
    let mut seen = HashSet::new();
    for s in l.tables.iter().filter_map(catalog).flat_map(|d| &d.types) {
        if seen.insert(s.as_str()) {
            types.push(s.clone());
        }
    }
    run(main, batch, "", &types, false, &mut warnings).await?;
    if dump_ddl.is_some() {
        // pg_dump --table leaves out CREATE SCHEMA for the tables' own schemas (a
        // `drizzle.__drizzle_migrations` in a table snapshot): create them first.
        let mut schemas: Vec<&str> = l.tables.iter().map(|t| t.schema.as_str()).collect();
        schemas.sort_unstable();
        schemas.dedup();
        let creates: Vec<String> = schemas
            .iter()
            .map(|s| format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(s)))
            .collect();
        run(main, batch, "", &creates, false, &mut warnings).await?;
    }
    match &dump_ddl {
        Some((pre, _)) => run(main, batch, &pre.preamble, &pre.objects, false, &mut warnings).await?,
        None => {
            let mut pre = Vec::new();
            for t in l.tables {
                let d = catalog(t).ok_or_else(|| anyhow!("ddl.json has no definition for {}", t.qualified()))?;
                pre.extend(d.pre.iter().cloned());
            }
            run(main, batch, "", &pre, false, &mut warnings).await?;
        }
    }
    load_data(clients, l, prog).await?;
    prog.phase("creating constraints and indexes", 0);
    // Index builds sort in memory instead of spilling to disk: about 100 bytes per row of
    // the biggest table (a parallel build splits it among its workers), 256 MB to 1 GB of
    // the server's memory, for this session only. 5M rows: 0.85 s with 256 MB, 0.72 s with 512 MB.
    let biggest = l.tables.iter().map(|t| t.rows).max().unwrap_or(0);
    let mwm_mb = (biggest.saturating_mul(100) >> 20).clamp(256, 1024);
    let _ = main
        .batch_execute(&format!("SET maintenance_work_mem = '{mwm_mb}MB'"))
        .await;
    match &dump_ddl {
        Some((_, post)) => run(main, batch, &post.preamble, &post.objects, true, &mut warnings).await?,
        None => {
            let post: Vec<String> = l
                .tables
                .iter()
                .filter_map(catalog)
                .flat_map(|d| d.post.iter().cloned())
                .collect();
            run(main, batch, "", &post, true, &mut warnings).await?;
        }
    }
    set_sequences(main, l.tables).await?;
    if dump_ddl.is_some() {
        for mv in &l.ddl.matviews {
            if let Err(e) = main.batch_execute(&format!("REFRESH MATERIALIZED VIEW {mv}")).await {
                warnings.push(format!(
                    "materialized view {mv} was left empty: refreshing it failed ({}); run `REFRESH MATERIALIZED VIEW {mv}` once what it reads is there",
                    crate::engine::pg_connect::describe_pg_error(&e)
                ));
            }
        }
    }
    Ok(warnings)
}

/// Objects per transaction: a quarter of the server's lock table, at about four locks per
/// object (a table, its TOAST table and index, a sequence), between 16 and 500.
async fn batch_size(client: &Client) -> usize {
    let slots: i64 = client
        .query_one(
            "SELECT current_setting('max_locks_per_transaction')::bigint
                    * (current_setting('max_connections')::bigint + current_setting('max_prepared_transactions')::bigint)",
            &[],
        )
        .await
        .map(|r| r.get(0))
        .unwrap_or(0);
    usize::try_from(slots / 16).unwrap_or(0).clamp(16, 500)
}

/// Run SQL objects (each one or more statements) after `preamble`: in transactions of `batch`
/// objects, or, without a batch size or when a batch fails, one by one (`run_sections`).
async fn run(
    client: &Client,
    batch: Option<usize>,
    preamble: &str,
    objects: &[String],
    tolerate_all: bool,
    warnings: &mut Vec<String>,
) -> anyhow::Result<()> {
    let Some(size) = batch else {
        return run_sections(client, preamble, objects, tolerate_all, warnings).await;
    };
    for chunk in objects.chunks(size) {
        let mut sql = String::with_capacity(chunk.iter().map(|o| o.len() + 2).sum::<usize>() + preamble.len() + 16);
        sql.push_str("BEGIN;\n");
        sql.push_str(preamble);
        for o in chunk {
            sql.push_str(o);
            // Objects are whole statements; a missing final `;` would join two of them (the
            // line break first: an object may end in a `--` comment).
            sql.push_str("\n;\n");
        }
        sql.push_str("COMMIT;");
        if client.batch_execute(&sql).await.is_err() {
            let _ = client.batch_execute("ROLLBACK").await;
            run_sections(client, preamble, chunk, tolerate_all, warnings).await?;
        }
    }
    Ok(())
}

/// Run SQL objects one by one; "already exists" errors are skipped, others returned (or, with
/// `tolerate_all`, recorded as warnings).
async fn run_sections(
    client: &Client,
    preamble: &str,
    objects: &[String],
    tolerate_all: bool,
    warnings: &mut Vec<String>,
) -> anyhow::Result<()> {
    for s in objects {
        let sql = if preamble.is_empty() {
            s.clone()
        } else {
            format!("{preamble}\n{s}")
        };
        if let Err(e) = client.batch_execute(&sql).await {
            let code = e.as_db_error().map(|d| d.code().code().to_string()).unwrap_or_default();
            let first = s
                .lines()
                .find(|l| {
                    !l.trim().is_empty()
                        && !l.starts_with("--")
                        && !l.starts_with("SET ")
                        && !l.starts_with("SELECT pg_catalog.set_config")
                })
                .unwrap_or("")
                .chars()
                .take(100)
                .collect::<String>();
            if code == "42P06" || code == "42710" || code == "42P07" {
                continue;
            }
            let why = crate::engine::pg_connect::describe_pg_error(&e);
            if tolerate_all {
                warnings.push(format!("skipped `{first}`: {why}"));
                continue;
            }
            bail!("recreating the schema failed at `{first}`: {why}");
        }
    }
    Ok(())
}

/// One unit of loading: a segment file of a big table, or a pack file's frames.
enum Job {
    Segment {
        target: String,
        path: PathBuf,
        expected: Option<FileEntry>,
    },
    Pack {
        path: PathBuf,
        frames: Vec<(String, PackedFrame)>,
        expected: Option<FileEntry>,
    },
}

/// Every segment and pack frame of the tables, biggest files first, over the connections.
async fn load_data(clients: &[&Client], l: &Load<'_>, prog: &Progress) -> anyhow::Result<()> {
    let whole = read_whole(l.all, l.tables);
    let expected = |f: &str| -> anyhow::Result<Option<FileEntry>> {
        match l.verify {
            Some(entries) if whole.iter().any(|w| w == f) => {
                Ok(Some(entries.iter().find(|e| e.path == f).cloned().ok_or_else(
                    || anyhow!("{f}: not listed in the manifest (the snapshot was modified?)"),
                )?))
            }
            _ => Ok(None),
        }
    };
    let mut jobs: Vec<(u64, Job)> = Vec::new();
    let mut packs: HashMap<&str, Vec<(String, PackedFrame)>> = HashMap::new();
    for t in l.tables {
        let target = qualified(&t.schema, &t.name);
        for f in &t.files {
            let path = l.dir.join(f);
            let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            jobs.push((
                len,
                Job::Segment {
                    target: target.clone(),
                    path,
                    expected: expected(f)?,
                },
            ));
        }
        if let Some(p) = &t.packed {
            packs.entry(p.file.as_str()).or_default().push((target, p.clone()));
        }
    }
    for (file, mut frames) in packs {
        frames.sort_by_key(|(_, f)| f.offset);
        let len = frames.iter().map(|(_, f)| f.bytes).sum();
        jobs.push((
            len,
            Job::Pack {
                path: l.dir.join(file),
                frames,
                expected: expected(file)?,
            },
        ));
    }
    let files = jobs.len();
    prog.phase(
        &format!("loading {} table(s) from {files} file(s)", l.tables.len()),
        jobs.iter().map(|j| j.0 * 4).sum(),
    );
    jobs.sort_by_key(|j| std::cmp::Reverse(j.0));
    let queue = Arc::new(std::sync::Mutex::new(jobs.into_iter().map(|j| j.1)));
    let txn = l.txn;
    let results = futures_util::future::join_all(clients.iter().map(|c| {
        let queue = queue.clone();
        async move {
            loop {
                let next = queue
                    .lock()
                    .map_err(|_| anyhow!("internal error: queue poisoned"))?
                    .next();
                match next {
                    None => break,
                    Some(Job::Segment { target, path, expected }) => {
                        pg_stream::load_segment(c, &target, &path, expected, prog).await?;
                    }
                    Some(Job::Pack { path, frames, expected }) => {
                        pg_stream::load_pack(c, &path, &frames, expected.as_ref(), txn, prog).await?;
                    }
                }
            }
            Ok::<_, anyhow::Error>(())
        }
    }))
    .await;
    for r in results {
        r?;
    }
    Ok(())
}

/// Put every owned sequence back where the snapshot found it, many per statement.
async fn set_sequences(client: &Client, tables: &[TableEntry]) -> anyhow::Result<()> {
    let all: Vec<_> = tables.iter().flat_map(|t| &t.sequences).collect();
    for chunk in all.chunks(SEQUENCES_PER_STATEMENT) {
        let calls: Vec<String> = chunk
            .iter()
            .map(|s| {
                format!(
                    "setval({}::regclass, {}, {})",
                    quote_literal(&qualified(&s.schema, &s.name)),
                    s.last_value,
                    s.is_called
                )
            })
            .collect();
        if client
            .batch_execute(&format!("SELECT {}", calls.join(", ")))
            .await
            .is_ok()
        {
            continue;
        }
        // Say which one.
        for s in chunk {
            client
                .query_one(
                    "SELECT setval($1::text::regclass, $2, $3)",
                    &[&qualified(&s.schema, &s.name), &s.last_value, &s.is_called],
                )
                .await
                .map_err(|e| {
                    anyhow!(
                        "restoring sequence {}.{}: {}",
                        s.schema,
                        s.name,
                        crate::engine::pg_connect::describe_pg_error(&e)
                    )
                })?;
        }
    }
    Ok(())
}
