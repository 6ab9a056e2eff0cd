//! The COPY machinery of the PostgreSQL strategies and of restore.
//!
//! Out: tables read with binary `COPY ... TO STDOUT` over several connections that share one
//! snapshot (big tables split in ctid ranges), every row hashed for the content checksum, the
//! stream written zstd-compressed: big tables as segment files of their own, small tables as
//! frames of shared pack files. One file per small table would make the cost grow with the
//! number of tables instead of the bytes: a file, an fsync and a verify pass each (4-5 ms per
//! fsync on the development machine: 5,000 tables took 25 s of fsyncs alone).
//!
//! In: segments and pack frames loaded with `COPY ... FROM STDIN (FORMAT binary)`, each file
//! checked against the manifest as it is read (a mismatch fails the load before it commits),
//! small tables loaded many to a transaction (one commit, one WAL flush, per batch).
//!
//! Memory stays bounded whatever the table size: big tables flow through a small bounded channel
//! to a blocking worker that parses, hashes and compresses them; a small table's frame is
//! compressed as it streams.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, bail, Context};
use bytes::{Bytes, BytesMut};
use futures_util::{SinkExt, StreamExt};
use tokio_postgres::Client;

use super::checksum::{CopyBinaryParser, HashingWriter, RowSum, SegmentWriter};
use super::manifest::{FileEntry, PackedFrame};
use super::pg::{self, qualified, TableRef};
use super::progress::Progress;
use super::store;
use crate::engine::pg_connect::describe_pg_error;

/// zstd level 1: measured on the 5M-row benchmark table, levels 2-3 gave ~5% smaller
/// files for ~30% more CPU, and the copy is CPU-bound on 2 cores.
pub const ZSTD_LEVEL: i32 = 1;
/// Uncompressed bytes per segment file; restore loads segments in parallel.
pub const SEGMENT_BYTES: u64 = 128 << 20;
const SEND_CHUNK: usize = 256 << 10;
/// Connections that read (and restore) in parallel.
pub const PARALLEL: usize = 2;
/// Tables whose whole size (heap, TOAST and indexes) is at most this are small: their rows go
/// into a frame of a pack file.
pub const PACK_TABLE_MAX: i64 = 1 << 20;
/// A pack file is closed, and the next one opened, past this many compressed bytes.
pub const PACK_FILE_MAX: u64 = 64 << 20;
/// Small tables loaded per transaction by restore.
const FRAMES_PER_TRANSACTION: usize = 256;

/// One table (or part of a table) as read.
#[derive(Default)]
pub struct StreamedTable {
    pub sum: RowSum,
    /// Segment files of its own (big tables).
    pub files: Vec<FileEntry>,
    /// Its frame in a pack file (small tables).
    pub packed: Option<PackedFrame>,
}

/// One unit of reading: a whole table, or one ctid range of a big table.
pub struct CopyJob {
    pub table: usize,
    pub sql: String,
    pub base: String,
    pub weight: i64,
    /// A small table, read whole: its rows go into a pack frame.
    pub small: bool,
}

/// Tables bigger than this are read as PARALLEL ctid ranges (PostgreSQL 14+ scans TID
/// ranges directly), so both cores work on one big table; row checksums are sums, so the
/// parts combine exactly.
const SPLIT_PAGES: i64 = 8192; // 64 MB

/// The reading jobs for `tables`, biggest first. Splitting a big table needs its column list
/// (the same columns as `COPY table TO`, which leaves out generated columns): one catalog
/// query for all the big tables.
pub async fn copy_jobs(client: &Client, tables: &[TableRef], server_num: u32) -> anyhow::Result<Vec<CopyJob>> {
    let split: Vec<u32> = if server_num >= 140_000 {
        tables
            .iter()
            .filter(|t| t.pages >= SPLIT_PAGES)
            .map(|t| t.oid)
            .collect()
    } else {
        Vec::new()
    };
    let mut columns = std::collections::HashMap::new();
    if !split.is_empty() {
        let rows = client
            .query(
                "SELECT attrelid, string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute
                 WHERE attrelid = ANY($1) AND attnum > 0 AND NOT attisdropped AND attgenerated = ''
                 GROUP BY attrelid",
                &[&split],
            )
            .await
            .map_err(|e| anyhow!("listing the columns of the big tables: {}", describe_pg_error(&e)))?;
        for r in rows {
            columns.insert(r.get::<_, u32>(0), r.get::<_, String>(1));
        }
    }
    let mut jobs = Vec::new();
    for (i, t) in tables.iter().enumerate() {
        let whole = format!("COPY {} TO STDOUT (FORMAT binary)", qualified(&t.schema, &t.name));
        let Some(cols) = columns.get(&t.oid) else {
            jobs.push(CopyJob {
                table: i,
                sql: whole,
                base: format!("t{i:04}"),
                weight: t.bytes,
                small: t.bytes <= PACK_TABLE_MAX,
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
                small: false,
            });
        }
    }
    jobs.sort_by_key(|j| std::cmp::Reverse(j.weight));
    Ok(jobs)
}

/// What `run_jobs` read: one combined result per table, and the pack files written.
pub struct RunOutput {
    pub tables: Vec<StreamedTable>,
    pub packs: Vec<FileEntry>,
}

/// Run copy jobs over the given connections (all in the same snapshot). With `dir`, the rows
/// are written there (segments and packs); without, only the checksums are computed.
pub async fn run_jobs(
    clients: &[&Client],
    tables: &[TableRef],
    jobs: Vec<CopyJob>,
    dir: Option<PathBuf>,
    progress: &Progress,
) -> anyhow::Result<RunOutput> {
    let queue = Arc::new(std::sync::Mutex::new(jobs.into_iter()));
    let results = futures_util::future::join_all(clients.iter().enumerate().map(|(w, c)| {
        let queue = queue.clone();
        let dir = dir.clone();
        async move {
            let mut done = Vec::new();
            let mut pack = match &dir {
                Some(d) => Some(PackWriter::new(d, w)?),
                None => None,
            };
            loop {
                let next = queue
                    .lock()
                    .map_err(|_| anyhow!("internal error: queue poisoned"))?
                    .next();
                let Some(job) = next else { break };
                let t = &tables[job.table];
                let s = if job.small {
                    stream_small(c, &job.sql, t, pack.as_mut(), progress).await?
                } else {
                    let out = dir.as_ref().map(|d| (d.clone(), job.base.clone()));
                    stream_copy(c, &job.sql, &t.schema, &t.name, out, progress).await?
                };
                done.push((job.table, s));
            }
            let packs = match pack {
                Some(p) => p.finish()?,
                None => Vec::new(),
            };
            Ok::<_, anyhow::Error>((done, packs))
        }
    }))
    .await;
    let mut combined: Vec<StreamedTable> = tables.iter().map(|_| StreamedTable::default()).collect();
    let mut packs = Vec::new();
    for r in results {
        let (done, p) = r?;
        packs.extend(p);
        for (i, s) in done {
            let c = &mut combined[i];
            c.sum.rows += s.sum.rows;
            c.sum.sum = c.sum.sum.wrapping_add(s.sum.sum);
            c.files.extend(s.files);
            if s.packed.is_some() {
                c.packed = s.packed;
            }
        }
    }
    for c in &mut combined {
        c.files.sort_by(|a, b| a.path.cmp(&b.path));
    }
    packs.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(RunOutput {
        tables: combined,
        packs,
    })
}

/// A small table: read in this task (no worker thread: the rows are few), hashed, and with a
/// pack, its COPY stream compressed as one frame.
async fn stream_small(
    client: &Client,
    sql: &str,
    t: &TableRef,
    mut pack: Option<&mut PackWriter>,
    progress: &Progress,
) -> anyhow::Result<StreamedTable> {
    let (schema, name) = (&t.schema, &t.name);
    let stream = client
        .copy_out(sql)
        .await
        .map_err(|e| anyhow!("reading {schema}.{name}: {}", describe_pg_error(&e)))?;
    let mut stream = std::pin::pin!(stream);
    let mut parser = CopyBinaryParser::default();
    let mut sum = RowSum::default();
    if let Some(p) = pack.as_deref_mut() {
        p.begin()?;
    }
    while let Some(item) = stream.next().await {
        let chunk = item.map_err(|e| {
            anyhow!(
                "reading {schema}.{name}: {}. {}",
                describe_pg_error(&e),
                pg::LOST_SERVER
            )
        })?;
        progress.inc(chunk.len() as u64);
        parser
            .feed(&chunk, &mut |_, row| {
                sum.add(row);
                Ok(())
            })
            .with_context(|| format!("copying {schema}.{name}"))?;
        if let Some(p) = pack.as_deref_mut() {
            p.write(&chunk)?;
        }
    }
    parser.finish().with_context(|| format!("copying {schema}.{name}"))?;
    let packed = match pack {
        Some(p) => Some(p.end()?),
        None => None,
    };
    Ok(StreamedTable {
        sum,
        files: Vec::new(),
        packed,
    })
}

/// A big table (or a part): parsed, hashed and compressed by a blocking worker; with `out` =
/// (dir, base name) its rows are written as segments, otherwise only the checksum is computed.
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
        let files = match writer {
            Some(w) => w.finish(parser.header())?.0,
            None => Vec::new(),
        };
        Ok(StreamedTable {
            sum,
            files,
            packed: None,
        })
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

/// Writes small tables' COPY streams as consecutive zstd frames of `pack<W>.<NNN>.copy.zst`
/// files (W: the worker), one frame per table, each a complete binary COPY stream (header,
/// rows, trailer). One compression context serves every frame.
struct PackWriter {
    dir: PathBuf,
    worker: usize,
    index: usize,
    current: Option<(String, HashingWriter<BufWriter<File>>)>,
    encoder: zstd::stream::raw::Encoder<'static>,
    out: Vec<u8>,
    frame_start: u64,
    files: Vec<FileEntry>,
}

impl PackWriter {
    fn new(dir: &Path, worker: usize) -> anyhow::Result<PackWriter> {
        Ok(PackWriter {
            dir: dir.to_path_buf(),
            worker,
            index: 0,
            current: None,
            encoder: zstd::stream::raw::Encoder::new(ZSTD_LEVEL)
                .map_err(|e| anyhow!("starting the compressor: {e}"))?,
            out: vec![0u8; 128 << 10],
            frame_start: 0,
            files: Vec::new(),
        })
    }

    /// Start a frame, in a new pack file when there is none or the current one is full.
    fn begin(&mut self) -> anyhow::Result<()> {
        if self.current.as_ref().is_some_and(|(_, w)| w.bytes() >= PACK_FILE_MAX) {
            self.close()?;
        }
        if self.current.is_none() {
            let name = format!("pack{}.{:03}.copy.zst", self.worker, self.index);
            self.index += 1;
            let file = store::create_private_file(&self.dir.join(&name))?;
            self.current = Some((name, HashingWriter::new(BufWriter::with_capacity(256 << 10, file))));
        }
        self.frame_start = self.current.as_ref().map(|(_, w)| w.bytes()).unwrap_or(0);
        Ok(())
    }

    fn write(&mut self, mut data: &[u8]) -> anyhow::Result<()> {
        use zstd::stream::raw::{InBuffer, Operation, OutBuffer};
        let Some((_, w)) = self.current.as_mut() else {
            bail!("internal error: pack frame not started")
        };
        while !data.is_empty() {
            let mut src = InBuffer::around(data);
            let mut dst = OutBuffer::around(&mut self.out[..]);
            self.encoder
                .run(&mut src, &mut dst)
                .map_err(|e| anyhow!("compressing snapshot data: {e}"))?;
            let produced = dst.pos();
            let used = src.pos;
            w.write_all(&self.out[..produced])
                .map_err(|e| store::io_error(e, "writing snapshot data"))?;
            data = &data[used..];
        }
        Ok(())
    }

    /// End the frame; where it is.
    fn end(&mut self) -> anyhow::Result<PackedFrame> {
        use zstd::stream::raw::{Operation, OutBuffer};
        let Some((name, w)) = self.current.as_mut() else {
            bail!("internal error: pack frame not started")
        };
        loop {
            let mut dst = OutBuffer::around(&mut self.out[..]);
            let left = self
                .encoder
                .finish(&mut dst, true)
                .map_err(|e| anyhow!("compressing snapshot data: {e}"))?;
            let produced = dst.pos();
            w.write_all(&self.out[..produced])
                .map_err(|e| store::io_error(e, "writing snapshot data"))?;
            if left == 0 {
                break;
            }
        }
        self.encoder
            .reinit()
            .map_err(|e| anyhow!("compressing snapshot data: {e}"))?;
        Ok(PackedFrame {
            file: name.clone(),
            offset: self.frame_start,
            bytes: w.bytes() - self.frame_start,
        })
    }

    fn close(&mut self) -> anyhow::Result<()> {
        if let Some((name, w)) = self.current.take() {
            let (mut buf, bytes, blake3) = w.finish();
            buf.flush().map_err(|e| store::io_error(e, "writing snapshot data"))?;
            self.files.push(FileEntry {
                path: name,
                bytes,
                blake3,
            });
        }
        Ok(())
    }

    fn finish(mut self) -> anyhow::Result<Vec<FileEntry>> {
        self.close()?;
        Ok(self.files)
    }
}

/// Reads a file while hashing every byte, for checking a file as it is loaded.
struct HashingReader {
    inner: File,
    hasher: blake3::Hasher,
    bytes: u64,
}

impl Read for HashingReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

impl HashingReader {
    fn open(path: &Path) -> anyhow::Result<HashingReader> {
        let inner = File::open(path).map_err(|e| store::io_error(e, &format!("reading {}", path.display())))?;
        Ok(HashingReader {
            inner,
            hasher: blake3::Hasher::new(),
            bytes: 0,
        })
    }

    /// Read to the end (still hashing) and compare size and blake3 with the manifest.
    fn check(mut self, want: &FileEntry, path: &Path) -> anyhow::Result<()> {
        std::io::copy(&mut self, &mut std::io::sink())
            .map_err(|e| store::io_error(e, &format!("reading {}", path.display())))?;
        if self.bytes != want.bytes || self.hasher.finalize().to_hex().as_str() != want.blake3 {
            bail!("{}: checksum mismatch (the file was modified or corrupted)", want.path);
        }
        Ok(())
    }
}

/// Decompress one segment file into chunks on `tx`; with `expected`, the file's size and
/// blake3 are compared with the manifest at the end and a mismatch is sent as an error,
/// before the caller ends the COPY, so a corrupted segment never commits.
fn read_segment(path: &Path, expected: Option<&FileEntry>, tx: &tokio::sync::mpsc::Sender<anyhow::Result<Bytes>>) {
    let send_err = |e: anyhow::Error| {
        let _ = tx.blocking_send(Err(e));
    };
    let reader = match HashingReader::open(path) {
        Ok(r) => r,
        Err(e) => return send_err(e),
    };
    let mut dec = match zstd::stream::read::Decoder::new(reader) {
        Ok(d) => d,
        Err(e) => return send_err(anyhow!("reading {}: {e}", path.display())),
    };
    loop {
        let mut buf = vec![0u8; SEND_CHUNK];
        let filled = match fill(&mut dec, &mut buf) {
            Ok(n) => n,
            Err(e) => return send_err(anyhow!("decompressing {}: {e} (corrupt file?)", path.display())),
        };
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
    if let Err(e) = dec.finish().into_inner().check(want, path) {
        send_err(e);
    }
}

/// Read until `buf` is full or the input ends; the bytes read.
fn fill(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
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

/// How `load_pack` treats transactions.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Transactions {
    /// Group the tables in transactions of its own (one commit per batch, not per table).
    Batched,
    /// The caller holds a transaction open: load inside it.
    Caller,
}

/// Load frames of one pack file, each into its table (`COPY ... FROM STDIN`), in file order.
/// With `expected` (every frame of the pack, in order), the whole file is hashed as it is read
/// and compared with its manifest entry before the last batch commits.
pub async fn load_pack(
    client: &Client,
    path: &Path,
    frames: &[(String, PackedFrame)],
    expected: Option<&FileEntry>,
    txn: Transactions,
    progress: &Progress,
) -> anyhow::Result<()> {
    let sql = |s: &str| {
        let s = s.to_string();
        async move {
            client
                .batch_execute(&s)
                .await
                .map_err(|e| anyhow!("loading {}: {}", path.display(), describe_pg_error(&e)))
        }
    };
    let mut reader = HashingReader::open(path)?;
    let mut pos = 0u64;
    if txn == Transactions::Batched {
        sql("BEGIN").await?;
    }
    let mut buf = Vec::new();
    for (n, (target, frame)) in frames.iter().enumerate() {
        if frame.offset < pos {
            bail!(
                "{}: overlapping frames in the manifest (the snapshot was modified?)",
                frame.file
            );
        }
        if frame.offset > pos {
            if expected.is_some() {
                bail!("{}: a gap between frames (the snapshot was modified?)", frame.file);
            }
            reader
                .inner
                .seek(SeekFrom::Start(frame.offset))
                .map_err(|e| store::io_error(e, &format!("reading {}", path.display())))?;
        }
        buf.resize(
            usize::try_from(frame.bytes).map_err(|_| anyhow!("{}: frame too large", frame.file))?,
            0,
        );
        reader.read_exact(&mut buf).map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                anyhow!(
                    "{}: shorter than the manifest says (the file was truncated?)",
                    frame.file
                )
            } else {
                store::io_error(e, &format!("reading {}", path.display()))
            }
        })?;
        pos = frame.offset + frame.bytes;
        load_frame(client, target, &buf, &frame.file, progress).await?;
        if txn == Transactions::Batched && (n + 1) % FRAMES_PER_TRANSACTION == 0 && n + 1 < frames.len() {
            sql("COMMIT; BEGIN").await?;
        }
    }
    if let Some(want) = expected {
        reader.check(want, path)?;
    }
    if txn == Transactions::Batched {
        sql("COMMIT").await?;
    }
    Ok(())
}

/// One frame: decompressed as it is sent.
async fn load_frame(
    client: &Client,
    target: &str,
    frame: &[u8],
    file: &str,
    progress: &Progress,
) -> anyhow::Result<()> {
    let mut dec = zstd::stream::read::Decoder::with_buffer(frame)
        .map_err(|e| anyhow!("reading {file}: {e}"))?
        .single_frame();
    let sink = client
        .copy_in(format!("COPY {target} FROM STDIN (FORMAT binary)").as_str())
        .await
        .map_err(|e| anyhow!("loading {target}: {}", describe_pg_error(&e)))?;
    let mut sink = std::pin::pin!(sink);
    loop {
        let mut chunk = vec![0u8; SEND_CHUNK.min(frame.len().saturating_mul(8).max(4096))];
        // On an error the sink is dropped unfinished, which aborts the COPY.
        let n = fill(&mut dec, &mut chunk).map_err(|e| anyhow!("decompressing {file}: {e} (corrupt file?)"))?;
        if n == 0 {
            break;
        }
        chunk.truncate(n);
        progress.inc(n as u64);
        sink.send(Bytes::from(chunk))
            .await
            .map_err(|e| anyhow!("loading {target}: {}", describe_pg_error(&e)))?;
    }
    sink.finish()
        .await
        .map_err(|e| anyhow!("loading {target}: {}", describe_pg_error(&e)))?;
    Ok(())
}
