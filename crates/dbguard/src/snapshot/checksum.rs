//! Content checksums and the PostgreSQL binary COPY stream.
//!
//! A table's content checksum is order-independent so that it can be computed while
//! streaming (no sort) and recomputed from any restored copy: each row is encoded
//! canonically and hashed with blake3; the checksum is the sum modulo 2^128 of the first
//! 16 bytes of every row hash (a sum, not XOR, so duplicate rows count). For PostgreSQL the
//! canonical row is its tuple in `COPY ... (FORMAT binary)` form (field count, then per
//! field its length and send-function bytes); for SQLite, per column a type tag, a
//! length and the value bytes.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::bail;

use super::store::{self, FileEntry};

/// Order-independent multiset hash of rows.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RowSum {
    pub rows: u64,
    pub sum: u128,
}

impl RowSum {
    pub fn add(&mut self, row: &[u8]) {
        let h = blake3::hash(row);
        let mut first = [0u8; 16];
        first.copy_from_slice(&h.as_bytes()[..16]);
        self.sum = self.sum.wrapping_add(u128::from_le_bytes(first));
        self.rows += 1;
    }

    pub fn hex(&self) -> String {
        format!("{:032x}", self.sum)
    }
}

pub const COPY_SIGNATURE: &[u8; 11] = b"PGCOPY\n\xff\r\n\0";
pub const COPY_TRAILER: [u8; 2] = [0xff, 0xff];

/// Called with (stream header, one tuple).
pub type RowFn<'a> = dyn FnMut(&[u8], &[u8]) -> anyhow::Result<()> + 'a;

/// Incremental parser of a binary COPY stream, calling back once per complete tuple.
#[derive(Default)]
pub struct CopyBinaryParser {
    buf: Vec<u8>,
    header: Option<Vec<u8>>,
    done: bool,
}

impl CopyBinaryParser {
    pub fn header(&self) -> Option<&[u8]> {
        self.header.as_deref()
    }

    pub fn feed(&mut self, chunk: &[u8], on_row: &mut RowFn<'_>) -> anyhow::Result<()> {
        if self.buf.is_empty() {
            let used = self.parse(chunk, on_row)?;
            self.buf.extend_from_slice(&chunk[used..]);
        } else {
            self.buf.extend_from_slice(chunk);
            let data = std::mem::take(&mut self.buf);
            let used = self.parse(&data, on_row)?;
            self.buf = data;
            self.buf.drain(..used);
        }
        Ok(())
    }

    /// Check the stream ended cleanly.
    pub fn finish(&self) -> anyhow::Result<()> {
        if !self.done || !self.buf.is_empty() {
            bail!(
                "the COPY stream ended early or has trailing bytes. {}",
                super::pg::LOST_SERVER
            );
        }
        Ok(())
    }

    fn parse(&mut self, data: &[u8], on_row: &mut RowFn<'_>) -> anyhow::Result<usize> {
        let mut pos = 0;
        if self.header.is_none() {
            if data.len() < 19 {
                return Ok(0);
            }
            if &data[..11] != COPY_SIGNATURE {
                bail!("not a PostgreSQL binary COPY stream (bad signature)");
            }
            let ext = u32::from_be_bytes([data[15], data[16], data[17], data[18]]) as usize;
            if data.len() < 19 + ext {
                return Ok(0);
            }
            self.header = Some(data[..19 + ext].to_vec());
            pos = 19 + ext;
        }
        let header = self.header.clone().unwrap_or_default();
        while pos < data.len() {
            if self.done {
                bail!("bytes after the end of the COPY stream");
            }
            let rest = &data[pos..];
            if rest.len() < 2 {
                break;
            }
            let nfields = i16::from_be_bytes([rest[0], rest[1]]);
            if nfields == -1 {
                self.done = true;
                pos += 2;
                continue;
            }
            if nfields < 0 {
                bail!("corrupt COPY stream (negative field count)");
            }
            let mut off = 2usize;
            let mut complete = true;
            for _ in 0..nfields {
                if rest.len() < off + 4 {
                    complete = false;
                    break;
                }
                let len = i32::from_be_bytes([rest[off], rest[off + 1], rest[off + 2], rest[off + 3]]);
                off += 4;
                if len > 0 {
                    off += len as usize;
                    if rest.len() < off {
                        complete = false;
                        break;
                    }
                } else if len < -1 {
                    bail!("corrupt COPY stream (bad field length)");
                }
            }
            if !complete {
                break;
            }
            on_row(&header, &rest[..off])?;
            pos += off;
        }
        Ok(pos)
    }
}

/// Counts bytes and hashes what passes through to the file.
pub struct HashingWriter<W: Write> {
    inner: W,
    hasher: blake3::Hasher,
    bytes: u64,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: blake3::Hasher::new(),
            bytes: 0,
        }
    }
    /// Bytes written so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
    pub fn finish(self) -> (W, u64, String) {
        (self.inner, self.bytes, self.hasher.finalize().to_hex().to_string())
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

type SegmentEncoder = zstd::stream::write::Encoder<'static, HashingWriter<BufWriter<File>>>;

/// Writes a table's rows as zstd-compressed binary COPY segments (`<base>.NNN.copy.zst`),
/// each a complete COPY stream (header, rows, trailer) of about `segment_bytes`
/// uncompressed, so restore can load segments in parallel.
pub struct SegmentWriter {
    dir: PathBuf,
    base: String,
    level: i32,
    segment_bytes: u64,
    header: Vec<u8>,
    current: Option<(String, SegmentEncoder)>,
    batch: Vec<u8>,
    seg_written: u64,
    index: usize,
    pub files: Vec<FileEntry>,
    pub raw_bytes: u64,
}

const BATCH: usize = 1 << 20;

impl SegmentWriter {
    pub fn new(dir: &Path, base: &str, level: i32, segment_bytes: u64) -> SegmentWriter {
        SegmentWriter {
            dir: dir.to_path_buf(),
            base: base.to_string(),
            level,
            segment_bytes,
            header: Vec::new(),
            current: None,
            batch: Vec::with_capacity(BATCH),
            seg_written: 0,
            index: 0,
            files: Vec::new(),
            raw_bytes: 0,
        }
    }

    fn open_segment(&mut self) -> anyhow::Result<()> {
        let name = format!("{}.{:03}.copy.zst", self.base, self.index);
        self.index += 1;
        let file = store::create_private_file(&self.dir.join(&name))?;
        let w = HashingWriter::new(BufWriter::with_capacity(1 << 20, file));
        let mut enc = zstd::stream::write::Encoder::new(w, self.level)?;
        enc.write_all(&self.header)
            .map_err(|e| store::io_error(e, "writing snapshot data"))?;
        self.current = Some((name, enc));
        self.seg_written = self.header.len() as u64;
        Ok(())
    }

    pub fn write_row(&mut self, header: &[u8], row: &[u8]) -> anyhow::Result<()> {
        if self.header.is_empty() {
            self.header = header.to_vec();
        }
        if self.current.is_none() {
            self.open_segment()?;
        }
        self.batch.extend_from_slice(row);
        self.seg_written += row.len() as u64;
        self.raw_bytes += row.len() as u64;
        if self.batch.len() >= BATCH {
            self.flush_batch()?;
        }
        if self.seg_written >= self.segment_bytes {
            self.close_segment()?;
        }
        Ok(())
    }

    fn flush_batch(&mut self) -> anyhow::Result<()> {
        if let Some((_, enc)) = self.current.as_mut() {
            enc.write_all(&self.batch)
                .map_err(|e| store::io_error(e, "writing snapshot data"))?;
        }
        self.batch.clear();
        Ok(())
    }

    fn close_segment(&mut self) -> anyhow::Result<()> {
        self.flush_batch()?;
        if let Some((name, mut enc)) = self.current.take() {
            enc.write_all(&COPY_TRAILER)
                .map_err(|e| store::io_error(e, "writing snapshot data"))?;
            let w = enc.finish().map_err(|e| store::io_error(e, "writing snapshot data"))?;
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

    /// Close the last segment; a table with no rows still gets one (header + trailer).
    pub fn finish(mut self, header: Option<&[u8]>) -> anyhow::Result<(Vec<FileEntry>, u64)> {
        if self.current.is_none() && self.files.is_empty() {
            self.header = header.map(|h| h.to_vec()).unwrap_or_default();
            self.open_segment()?;
        }
        self.close_segment()?;
        Ok((self.files, self.raw_bytes))
    }
}

/// Canonical encoding of one SQLite value, appended to `out`.
pub fn sqlite_value(out: &mut Vec<u8>, v: rusqlite::types::ValueRef<'_>) {
    use rusqlite::types::ValueRef;
    match v {
        ValueRef::Null => out.push(0),
        ValueRef::Integer(i) => {
            out.push(1);
            out.extend_from_slice(&i.to_le_bytes());
        }
        ValueRef::Real(f) => {
            out.push(2);
            out.extend_from_slice(&f.to_bits().to_le_bytes());
        }
        ValueRef::Text(t) => {
            out.push(3);
            out.extend_from_slice(&(t.len() as u64).to_le_bytes());
            out.extend_from_slice(t);
        }
        ValueRef::Blob(b) => {
            out.push(4);
            out.extend_from_slice(&(b.len() as u64).to_le_bytes());
            out.extend_from_slice(b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parser_handles_split_chunks() {
        let mut stream = Vec::new();
        stream.extend_from_slice(COPY_SIGNATURE);
        stream.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]);
        for i in 0..5i32 {
            stream.extend_from_slice(&2i16.to_be_bytes());
            stream.extend_from_slice(&4i32.to_be_bytes());
            stream.extend_from_slice(&i.to_be_bytes());
            stream.extend_from_slice(&(-1i32).to_be_bytes());
        }
        stream.extend_from_slice(&COPY_TRAILER);
        let mut whole = RowSum::default();
        let mut p = CopyBinaryParser::default();
        p.feed(&stream, &mut |_, r| {
            whole.add(r);
            Ok(())
        })
        .unwrap();
        p.finish().unwrap();
        assert_eq!(whole.rows, 5);
        for step in [1usize, 3, 7] {
            let mut sum = RowSum::default();
            let mut p = CopyBinaryParser::default();
            for c in stream.chunks(step) {
                p.feed(c, &mut |_, r| {
                    sum.add(r);
                    Ok(())
                })
                .unwrap();
            }
            p.finish().unwrap();
            assert_eq!(sum, whole);
        }
    }
}
