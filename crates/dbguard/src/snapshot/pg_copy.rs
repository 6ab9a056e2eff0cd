//! The `copy` strategy: tables read with binary `COPY ... TO STDOUT` in one REPEATABLE
//! READ READ ONLY transaction (its snapshot exported to a second connection so two
//! tables stream in parallel, still mutually consistent), parsed row by row for the
//! content checksum and written as zstd-compressed segments, plus the DDL to recreate
//! them (pg_dump --schema-only when a suitable pg_dump is installed; always also from the
//! catalog per table, which restore uses for a subset of tables or without pg_dump).
//!
//! Memory stays bounded whatever the table size: chunks flow through a small bounded
//! channel to a blocking worker that parses, hashes and compresses them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, bail, Context};
use bytes::{Bytes, BytesMut};
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio_postgres::Client;

use super::checksum::{CopyBinaryParser, RowSum, SegmentWriter};
use super::manifest::{FileEntry, Manifest, Request, SequenceValue, SnapshotScope, Strategy, TableEntry};
use super::pg::{self, qualified, quote_ident, quote_literal, TableRef};
use super::progress::Progress;
use super::store;
use crate::engine::pg_connect::{self, describe_pg_error};

/// zstd level 1: measured on the 5M-row benchmark table, levels 2-3 gave ~5% smaller
/// files for ~30% more CPU, and the copy is CPU-bound on 2 cores.
pub const ZSTD_LEVEL: i32 = 1;
/// Uncompressed bytes per segment file; restore loads segments in parallel.
pub const SEGMENT_BYTES: u64 = 128 << 20;
const SEND_CHUNK: usize = 256 << 10;
pub const PARALLEL: usize = 2;

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

/// `ddl.json` in a copy snapshot.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct DdlFile {
    pub tables: Vec<TableDdl>,
    /// pg_dump --schema-only output split in sections, when pg_dump was usable.
    pub pg_dump_pre: Option<String>,
    pub pg_dump_post: Option<String>,
    pub pg_dump_version: Option<String>,
}

pub struct StreamedTable {
    pub sum: RowSum,
    pub files: Vec<FileEntry>,
    pub raw_bytes: u64,
}

/// Stream one table out with binary COPY; with `out` = (dir, base name) its rows are
/// written as segments, otherwise only the checksum is computed.
pub async fn stream_table(
    client: &Client,
    schema: &str,
    name: &str,
    out: Option<(PathBuf, String)>,
    progress: &Progress,
) -> anyhow::Result<StreamedTable> {
    let sql = format!("COPY {} TO STDOUT (FORMAT binary)", qualified(schema, name));
    stream_copy(client, &sql, schema, name, out, progress).await
}

/// One unit of reading: a whole table, or one ctid range of a big table.
pub struct CopyJob {
    pub table: usize,
    pub sql: String,
    pub base: String,
    pub weight: i64,
}

/// Tables bigger than this are read as PARALLEL ctid ranges (PostgreSQL 14+ scans TID
/// ranges directly), so both cores work on one big table; row checksums are sums, so the
/// parts combine exactly.
const SPLIT_PAGES: i64 = 8192; // 64 MB

pub async fn copy_jobs(client: &Client, tables: &[TableRef], server_num: u32) -> anyhow::Result<Vec<CopyJob>> {
    let mut jobs = Vec::new();
    for (i, t) in tables.iter().enumerate() {
        let whole = format!("COPY {} TO STDOUT (FORMAT binary)", qualified(&t.schema, &t.name));
        if server_num < 140_000 || t.pages < SPLIT_PAGES {
            jobs.push(CopyJob {
                table: i,
                sql: whole,
                base: format!("t{i:04}"),
                weight: t.bytes,
            });
            continue;
        }
        // The same columns as `COPY table TO` (which leaves out generated columns).
        let cols: Option<String> = client
            .query_one(
                "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute
                 WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped AND attgenerated = ''",
                &[&t.oid],
            )
            .await
            .map_err(|e| anyhow!("listing columns of {}.{}: {}", t.schema, t.name, describe_pg_error(&e)))?
            .get(0);
        let Some(cols) = cols else {
            jobs.push(CopyJob {
                table: i,
                sql: whole,
                base: format!("t{i:04}"),
                weight: t.bytes,
            });
            continue;
        };
        let parts = PARALLEL as i64;
        for p in 0..parts {
            let lo = t.pages * p / parts;
            let cond = if p == parts - 1 {
                format!("ctid >= '({lo},0)'::tid")
            } else {
                format!(
                    "ctid >= '({lo},0)'::tid AND ctid < '({},0)'::tid",
                    t.pages * (p + 1) / parts
                )
            };
            jobs.push(CopyJob {
                table: i,
                sql: format!(
                    "COPY (SELECT {cols} FROM {} WHERE {cond}) TO STDOUT (FORMAT binary)",
                    qualified(&t.schema, &t.name)
                ),
                base: format!("t{i:04}p{p}"),
                weight: t.bytes / parts,
            });
        }
    }
    jobs.sort_by_key(|j| std::cmp::Reverse(j.weight));
    Ok(jobs)
}

/// Run copy jobs over the given connections (all in the same snapshot); returns one
/// combined result per table.
pub async fn run_jobs(
    clients: &[&Client],
    tables: &[TableRef],
    jobs: Vec<CopyJob>,
    dir: Option<PathBuf>,
    progress: &Progress,
) -> anyhow::Result<Vec<StreamedTable>> {
    let queue = Arc::new(std::sync::Mutex::new(jobs.into_iter()));
    let results = futures_util::future::join_all(clients.iter().map(|c| {
        let queue = queue.clone();
        let dir = dir.clone();
        async move {
            let mut done = Vec::new();
            loop {
                let next = queue
                    .lock()
                    .map_err(|_| anyhow!("internal error: queue poisoned"))?
                    .next();
                let Some(job) = next else { break };
                let t = &tables[job.table];
                let out = dir.as_ref().map(|d| (d.clone(), job.base.clone()));
                let s = stream_copy(c, &job.sql, &t.schema, &t.name, out, progress).await?;
                done.push((job.table, s));
            }
            Ok::<_, anyhow::Error>(done)
        }
    }))
    .await;
    let mut combined: Vec<StreamedTable> = tables
        .iter()
        .map(|_| StreamedTable {
            sum: RowSum::default(),
            files: Vec::new(),
            raw_bytes: 0,
        })
        .collect();
    for r in results {
        for (i, s) in r? {
            let c = &mut combined[i];
            c.sum.rows += s.sum.rows;
            c.sum.sum = c.sum.sum.wrapping_add(s.sum.sum);
            c.files.extend(s.files);
            c.raw_bytes += s.raw_bytes;
        }
    }
    for c in &mut combined {
        c.files.sort_by(|a, b| a.path.cmp(&b.path));
    }
    Ok(combined)
}

async fn stream_copy(
    client: &Client,
    sql: &str,
    schema: &str,
    name: &str,
    out: Option<(PathBuf, String)>,
    progress: &Progress,
) -> anyhow::Result<StreamedTable> {
    let stream = client
        .copy_out(sql)
        .await
        .map_err(|e| anyhow!("reading {schema}.{name}: {}", describe_pg_error(&e)))?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(16);
    let worker = tokio::task::spawn_blocking(move || -> anyhow::Result<StreamedTable> {
        let mut parser = CopyBinaryParser::default();
        let mut sum = RowSum::default();
        let mut writer = out.map(|(dir, base)| SegmentWriter::new(&dir, &base, ZSTD_LEVEL, SEGMENT_BYTES));
        while let Some(chunk) = rx.blocking_recv() {
            parser.feed(&chunk, &mut |header, row| {
                sum.add(row);
                if let Some(w) = writer.as_mut() {
                    w.write_row(header, row)?;
                }
                Ok(())
            })?;
        }
        parser.finish()?;
        let (files, raw_bytes) = match writer {
            Some(w) => w.finish(parser.header())?,
            None => (Vec::new(), 0),
        };
        Ok(StreamedTable { sum, files, raw_bytes })
    });
    let mut stream = std::pin::pin!(stream);
    let mut batch = BytesMut::with_capacity(SEND_CHUNK);
    let mut read_error = None;
    while let Some(item) = stream.next().await {
        match item {
            Ok(chunk) => {
                progress.inc(chunk.len() as u64);
                batch.extend_from_slice(&chunk);
                if batch.len() >= SEND_CHUNK && tx.send(batch.split().freeze()).await.is_err() {
                    break; // the worker failed: its error is reported below
                }
            }
            Err(e) => {
                read_error = Some(anyhow!(
                    "reading {schema}.{name}: {}. {}",
                    describe_pg_error(&e),
                    pg::LOST_SERVER
                ));
                break;
            }
        }
    }
    if read_error.is_none() && !batch.is_empty() {
        let _ = tx.send(batch.freeze()).await;
    }
    drop(tx);
    let result = worker.await.map_err(|e| anyhow!("snapshot worker failed: {e}"))?;
    if let Some(e) = read_error {
        return Err(e);
    }
    result.with_context(|| format!("copying {schema}.{name}"))
}

/// Load one segment file into a table with binary `COPY ... FROM STDIN`.
/// Reads a file while hashing every byte, for checking a segment as it is loaded.
struct HashingReader {
    inner: std::fs::File,
    hasher: blake3::Hasher,
    bytes: u64,
}

impl std::io::Read for HashingReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = std::io::Read::read(&mut self.inner, buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

/// Decompress one segment file into chunks on `tx`; with `expected`, the file's size and
/// blake3 are compared with the manifest at the end and a mismatch is sent as an error,
/// before the caller ends the COPY, so a corrupted segment never commits.
fn read_segment(path: &Path, expected: Option<&FileEntry>, tx: &tokio::sync::mpsc::Sender<anyhow::Result<Bytes>>) {
    let send_err = |e: anyhow::Error| {
        let _ = tx.blocking_send(Err(e));
    };
    let inner = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => return send_err(store::io_error(e, &format!("reading {}", path.display()))),
    };
    let reader = HashingReader {
        inner,
        hasher: blake3::Hasher::new(),
        bytes: 0,
    };
    let mut dec = match zstd::stream::read::Decoder::new(reader) {
        Ok(d) => d,
        Err(e) => return send_err(anyhow!("reading {}: {e}", path.display())),
    };
    loop {
        let mut buf = vec![0u8; SEND_CHUNK];
        let mut filled = 0;
        while filled < buf.len() {
            match std::io::Read::read(&mut dec, &mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) => return send_err(anyhow!("decompressing {}: {e} (corrupt file?)", path.display())),
            }
        }
        if filled == 0 {
            break;
        }
        buf.truncate(filled);
        if tx.blocking_send(Ok(Bytes::from(buf))).is_err() {
            return;
        }
    }
    let Some(want) = expected else { return };
    // Whatever the decoder left unread (trailing bytes) is part of the file too.
    let mut rest = dec.finish();
    if let Err(e) = std::io::copy(&mut rest, &mut std::io::sink()) {
        return send_err(store::io_error(e, &format!("reading {}", path.display())));
    }
    let reader = rest.into_inner();
    let got = reader.hasher.finalize().to_hex().to_string();
    if reader.bytes != want.bytes || got != want.blake3 {
        send_err(anyhow!(
            "{}: checksum mismatch (the file was modified or corrupted)",
            want.path
        ));
    }
}

/// `COPY target FROM STDIN (FORMAT binary)` of one segment file. With `expected`, the
/// file is checked against its manifest entry as it is read (see `read_segment`).
pub async fn load_segment(
    client: &Client,
    target: &str,
    file: &Path,
    expected: Option<FileEntry>,
    progress: &Progress,
) -> anyhow::Result<u64> {
    let sink = client
        .copy_in(format!("COPY {target} FROM STDIN (FORMAT binary)").as_str())
        .await
        .map_err(|e| anyhow!("loading {target}: {}", describe_pg_error(&e)))?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<anyhow::Result<Bytes>>(8);
    let path = file.to_path_buf();
    let reader = tokio::task::spawn_blocking(move || read_segment(&path, expected.as_ref(), &tx));
    let mut sink = std::pin::pin!(sink);
    while let Some(item) = rx.recv().await {
        // On an error the sink is dropped unfinished, which aborts the COPY.
        let chunk = item?;
        progress.inc(chunk.len() as u64);
        sink.send(chunk)
            .await
            .map_err(|e| anyhow!("loading {target}: {}", describe_pg_error(&e)))?;
    }
    let _ = reader.await;
    let rows = sink
        .finish()
        .await
        .map_err(|e| anyhow!("loading {target}: {}", describe_pg_error(&e)))?;
    Ok(rows)
}

/// Sequences owned by a table's columns (serial and identity).
pub async fn owned_sequences(client: &Client, table_oid: u32) -> anyhow::Result<Vec<SequenceValue>> {
    let rows = client
        .query(
            "SELECT n.nspname::text, s.relname::text FROM pg_depend d
             JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
             JOIN pg_namespace n ON n.oid = s.relnamespace
             WHERE d.refobjid = $1 AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a','i')
             ORDER BY 1, 2",
            &[&table_oid],
        )
        .await
        .map_err(|e| anyhow!("listing sequences: {}", describe_pg_error(&e)))?;
    let mut out = Vec::new();
    for r in rows {
        let schema: String = r.get(0);
        let name: String = r.get(1);
        let v = client
            .query_one(
                &format!("SELECT last_value, is_called FROM {}", qualified(&schema, &name)),
                &[],
            )
            .await
            .map_err(|e| anyhow!("reading sequence {schema}.{name}: {}", describe_pg_error(&e)))?;
        out.push(SequenceValue {
            schema,
            name,
            last_value: v.get(0),
            is_called: v.get(1),
        });
    }
    Ok(out)
}

/// Per-table DDL from the catalog: types used (`pg_types`), owned sequences, columns with types,
/// defaults, NOT NULL, identity and generated columns; then constraints and indexes.
pub async fn catalog_ddl(client: &Client, t: &TableRef) -> anyhow::Result<TableDdl> {
    let q = |e: tokio_postgres::Error| {
        anyhow!(
            "reading the definition of {}.{}: {}",
            t.schema,
            t.name,
            describe_pg_error(&e)
        )
    };
    let mut ddl = TableDdl {
        schema: t.schema.clone(),
        name: t.name.clone(),
        ..Default::default()
    };
    ddl.pre
        .push(format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(&t.schema)));
    ddl.types = super::pg_types::prerequisites(client, t.oid)
        .await
        .map_err(|e| anyhow!("reading the definition of {}.{}: {e:#}", t.schema, t.name))?;
    // Serial sequences (not identity: those come with the column).
    let seqs = client
        .query(
            "SELECT n.nspname::text, s.relname::text, a.attname::text, format_type(sq.seqtypid, NULL),
                    sq.seqstart, sq.seqincrement, sq.seqmin, sq.seqmax, sq.seqcycle
             FROM pg_depend d
             JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
             JOIN pg_namespace n ON n.oid = s.relnamespace
             JOIN pg_sequence sq ON sq.seqrelid = s.oid
             JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
             WHERE d.refobjid = $1 AND d.classid = 'pg_class'::regclass AND d.deptype = 'a'",
            &[&t.oid],
        )
        .await
        .map_err(q)?;
    for s in &seqs {
        let (sn, name, col, ty): (String, String, String, String) = (s.get(0), s.get(1), s.get(2), s.get(3));
        let (start, inc, min, max, cycle): (i64, i64, i64, i64, bool) =
            (s.get(4), s.get(5), s.get(6), s.get(7), s.get(8));
        ddl.pre
            .push(format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(&sn)));
        ddl.pre.push(format!(
            "CREATE SEQUENCE {} AS {ty} START {start} INCREMENT {inc} MINVALUE {min} MAXVALUE {max} {}",
            qualified(&sn, &name),
            if cycle { "CYCLE" } else { "NO CYCLE" }
        ));
        ddl.post.push(format!(
            "ALTER SEQUENCE {} OWNED BY {}.{}",
            qualified(&sn, &name),
            qualified(&t.schema, &t.name),
            quote_ident(&col)
        ));
    }
    let cols = client
        .query(
            "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                    pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, a.attgenerated::text,
                    CASE WHEN a.attcollation <> ty.typcollation AND a.attcollation <> 0
                         THEN (SELECT quote_ident(cn.nspname) || '.' || quote_ident(c.collname) FROM pg_collation c
                               JOIN pg_namespace cn ON cn.oid = c.collnamespace WHERE c.oid = a.attcollation) END
             FROM pg_attribute a
             JOIN pg_type ty ON ty.oid = a.atttypid
             LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
             WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            &[&t.oid],
        )
        .await
        .map_err(q)?;
    let mut defs = Vec::new();
    for c in cols {
        let (name, ty, notnull): (String, String, bool) = (c.get(0), c.get(1), c.get(2));
        let default: Option<String> = c.get(3);
        let identity: String = c.get(4);
        let generated: String = c.get(5);
        let collation: Option<String> = c.get(6);
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
    ddl.pre.push(format!(
        "CREATE TABLE {} (\n    {}\n)",
        qualified(&t.schema, &t.name),
        defs.join(",\n    ")
    ));
    // Constraints: primary key and unique first (FKs may need them), then checks, exclusions, FKs.
    let cons = client
        .query(
            "SELECT conname::text, pg_get_constraintdef(oid), contype::text FROM pg_constraint
             WHERE conrelid = $1 AND contype IN ('p','u','c','x','f')
             ORDER BY CASE contype WHEN 'p' THEN 0 WHEN 'u' THEN 1 WHEN 'c' THEN 2 WHEN 'x' THEN 3 ELSE 4 END, conname",
            &[&t.oid],
        )
        .await
        .map_err(q)?;
    for c in cons {
        let (name, def): (String, String) = (c.get(0), c.get(1));
        ddl.post.push(format!(
            "ALTER TABLE {} ADD CONSTRAINT {} {def}",
            qualified(&t.schema, &t.name),
            quote_ident(&name)
        ));
    }
    let idx = client
        .query(
            "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i
             WHERE i.indrelid = $1 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)
             ORDER BY i.indexrelid",
            &[&t.oid],
        )
        .await
        .map_err(q)?;
    for i in idx {
        ddl.post.push(i.get(0));
    }
    Ok(ddl)
}

/// pg_dump --schema-only split into pre-data and post-data, or None when no suitable
/// pg_dump is installed (the catalog DDL is used then).
fn pg_dump_ddl(
    url: &str,
    server_major: u32,
    snapshot: &str,
    scope: &SnapshotScope,
    tables: &[TableRef],
) -> Option<(String, String, String)> {
    let (tool, _, version) = pg::find_tool("pg_dump", server_major).ok()?;
    let section = |sec: &str| -> Option<String> {
        let (mut cmd, conn) = pg::tool_command(&tool, url).ok()?;
        cmd.args([
            "--schema-only",
            "--no-owner",
            "--no-privileges",
            "--section",
            sec,
            "--snapshot",
            snapshot,
        ]);
        match scope {
            SnapshotScope::Database => {
                cmd.arg(format!("--exclude-schema={}", super::guard_ddl::SCHEMA));
            }
            SnapshotScope::Schema(schemas) => {
                for s in schemas {
                    cmd.arg("-n").arg(quote_ident(s));
                }
            }
            SnapshotScope::Tables(_) => {
                for t in tables {
                    cmd.arg("-t").arg(qualified(&t.schema, &t.name));
                }
            }
        }
        cmd.arg("-d").arg(conn);
        let out = pg::run_tool(cmd, "pg_dump --schema-only").ok()?;
        let out = super::guard_ddl::strip_script(&out);
        // Recent pg_dump versions wrap the script in psql-only \restrict lines.
        Some(
            out.lines()
                .filter(|l| !l.starts_with('\\'))
                .collect::<Vec<_>>()
                .join("\n"),
        )
    };
    Some((section("pre-data")?, section("post-data")?, version))
}

/// Take a copy snapshot into `b`. Returns the manifest (not yet committed).
#[allow(clippy::too_many_arguments)]
pub async fn take(url: &str, req: Request<'_>) -> anyhow::Result<Manifest> {
    let (b, progress, source, scope) = (req.building, req.progress, &req.source, &req.scope);
    let main = pg_connect::connect(url, pg_connect::DEFAULT_CONNECT_TIMEOUT).await?;
    pg::prepare_session(&main).await?;
    main.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await
        .map_err(|e| anyhow!("starting the snapshot transaction: {}", describe_pg_error(&e)))?;
    let snap_row = main
        .query_one("SELECT pg_export_snapshot()", &[])
        .await
        .map_err(|e| anyhow!("exporting the snapshot: {}", describe_pg_error(&e)))?;
    let snapshot_name: String = snap_row.get(0);
    let tables = pg::tables_in_scope(&main, scope).await?;
    if tables.is_empty() {
        bail!("nothing to snapshot: {} holds no tables", scope.describe());
    }
    let server_major = source.server_version_num.unwrap_or(0) / 10_000;
    let mut ddl = DdlFile::default();
    for t in &tables {
        ddl.tables.push(catalog_ddl(&main, t).await?);
    }
    // pg_dump runs while our transaction holds the exported snapshot, so its DDL matches the data.
    let dump_url = url.to_string();
    let dump_scope = scope.clone();
    let dump_tables = tables.clone();
    let dump_snap = snapshot_name.clone();
    let dump = tokio::task::spawn_blocking(move || {
        pg_dump_ddl(&dump_url, server_major, &dump_snap, &dump_scope, &dump_tables)
    });
    let total: u64 = tables.iter().map(|t| t.bytes.max(0) as u64).sum();
    progress.phase(&format!("copying {} table(s)", tables.len()), total);

    // PARALLEL connections share the exported snapshot; big tables are split in ctid ranges.
    let mut extra = Vec::new();
    for _ in 1..PARALLEL {
        let c = pg_connect::connect(url, pg_connect::DEFAULT_CONNECT_TIMEOUT).await?;
        pg::prepare_session(&c).await?;
        c.batch_execute(&format!(
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT {}",
            quote_literal(&snapshot_name)
        ))
        .await
        .map_err(|e| anyhow!("joining the snapshot transaction: {}", describe_pg_error(&e)))?;
        extra.push(c);
    }
    let clients: Vec<&Client> = std::iter::once(&main).chain(extra.iter()).collect();
    let jobs = copy_jobs(&main, &tables, source.server_version_num.unwrap_or(0)).await?;
    let streamed = run_jobs(&clients, &tables, jobs, Some(b.dir.clone()), progress).await?;
    let mut entries = Vec::new();
    let mut files = Vec::new();
    for (t, s) in tables.iter().zip(streamed) {
        let sequences = owned_sequences(&main, t.oid).await?;
        entries.push(TableEntry {
            schema: t.schema.clone(),
            name: t.name.clone(),
            rows: s.sum.rows,
            content_checksum: s.sum.hex(),
            files: s.files.iter().map(|f| f.path.clone()).collect(),
            sequences,
        });
        files.extend(s.files);
    }
    let dump = dump.await.ok().flatten();
    let ddl_source = match &dump {
        Some((_, _, v)) => format!("pg_dump {v} --schema-only (catalog DDL kept for partial restores)"),
        None => "catalog (no pg_dump at least as new as the server is installed)".to_string(),
    };
    if let Some((pre, post, v)) = dump {
        ddl.pg_dump_pre = Some(pre);
        ddl.pg_dump_post = Some(post);
        ddl.pg_dump_version = Some(v);
    }
    main.batch_execute("COMMIT")
        .await
        .map_err(|e| anyhow!("ending the snapshot transaction: {}", describe_pg_error(&e)))?;
    for c in &extra {
        let _ = c.batch_execute("COMMIT").await;
    }
    progress.finish();
    let ddl_json = serde_json::to_vec_pretty(&ddl)?;
    {
        use std::io::Write;
        let mut f = store::create_private_file(&b.path("ddl.json"))?;
        f.write_all(&ddl_json)
            .map_err(|e| store::io_error(e, "writing ddl.json"))?;
    }
    files.push(store::file_entry(&b.dir, "ddl.json")?);
    let bytes = files.iter().map(|f| f.bytes).sum();
    Ok(Manifest {
        tables: entries,
        files,
        ddl_source: Some(ddl_source),
        bytes,
        ..req.manifest(Strategy::Copy)
    })
}

/// Split pg_dump output into its objects (at the "-- Name: ...; Type: ..." headers), so
/// that one failing statement (a foreign key to a table outside the snapshot) does not
/// stop the rest.
pub fn split_dump_sections(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut preamble = String::new();
    let mut in_preamble = true;
    for line in sql.lines() {
        if line.starts_with("-- Name: ") || line.starts_with("-- Data for Name: ") {
            if !in_preamble && !cur.trim().is_empty() {
                out.push(format!("{preamble}\n{cur}"));
            }
            in_preamble = false;
            cur.clear();
        }
        if in_preamble {
            // SET statements that every object needs (search_path etc.).
            preamble.push_str(line);
            preamble.push('\n');
        } else {
            cur.push_str(line);
            cur.push('\n');
        }
    }
    if !cur.trim().is_empty() {
        out.push(format!("{preamble}\n{cur}"));
    }
    out
}
