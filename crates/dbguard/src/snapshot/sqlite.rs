//! SQLite snapshots: the online backup API (consistent under concurrent writers and in
//! WAL mode) into the snapshot folder, then compressed with zstd (SQLite pages compress
//! 2-5x and decompression runs at GB/s, so restore stays fast). Content checksums are
//! computed on the backup copy, which nothing else writes.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail};
use rusqlite::{Connection, OpenFlags};

use super::checksum::{sqlite_value, RowSum};
use super::manifest::{Manifest, Request, Strategy, TableEntry};
use super::progress::Progress;
use super::store;

pub const DATA_FILE: &str = "database.sqlite.zst";
const ZSTD_LEVEL: i32 = 3;

/// The file a SQLite URL or path names: `sqlite:///abs`, `sqlite:rel.db`, `file:./dev.db`, `dev.db`.
pub fn path_of(url: &str) -> PathBuf {
    let mut s = url;
    for p in ["sqlite://", "sqlite:", "file://", "file:"] {
        if s.len() >= p.len() && s[..p.len()].eq_ignore_ascii_case(p) {
            s = &s[p.len()..];
            break;
        }
    }
    let s = s.split('?').next().unwrap_or(s);
    PathBuf::from(s)
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Row counts and content checksums of every table of a SQLite database file.
pub fn checksum_file(path: &Path) -> anyhow::Result<Vec<TableEntry>> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|e| anyhow!("opening {}: {e}", path.display()))?;
    checksum_conn(&conn)
}

pub fn checksum_conn(conn: &Connection) -> anyhow::Result<Vec<TableEntry>> {
    let mut names: Vec<String> = Vec::new();
    {
        let mut stmt = conn
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name")
            .map_err(|e| anyhow!("listing tables: {e}"))?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(|e| anyhow!("listing tables: {e}"))?;
        for r in rows {
            names.push(r.map_err(|e| anyhow!("listing tables: {e}"))?);
        }
    }
    let mut out = Vec::new();
    let mut buf = Vec::new();
    for name in names {
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM {}", quote(&name)))
            .map_err(|e| anyhow!("reading {name}: {e}"))?;
        let ncols = stmt.column_count();
        let mut rows = stmt.query([]).map_err(|e| anyhow!("reading {name}: {e}"))?;
        let mut sum = RowSum::default();
        while let Some(row) = rows.next().map_err(|e| anyhow!("reading {name}: {e}"))? {
            buf.clear();
            for i in 0..ncols {
                sqlite_value(&mut buf, row.get_ref(i).map_err(|e| anyhow!("reading {name}: {e}"))?);
            }
            sum.add(&buf);
        }
        out.push(TableEntry {
            schema: String::new(),
            name,
            rows: sum.rows,
            content_checksum: sum.hex(),
            files: Vec::new(),
            packed: None,
            sequences: Vec::new(),
        });
    }
    Ok(out)
}

/// A full disk (SQLITE_FULL) says so the way the rest of the store does.
fn sqlite_write_error(e: rusqlite::Error, doing: &str) -> anyhow::Error {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DiskFull) => store::no_space(doing),
        _ => anyhow!("{doing}: {e}"),
    }
}

/// Copy `src` into `dst` (a path that must not exist) with the online backup API.
fn backup_to(src: &Connection, dst: &Path, progress: &Progress) -> anyhow::Result<()> {
    let mut out = Connection::open(dst).map_err(|e| anyhow!("creating {}: {e}", dst.display()))?;
    let backup = rusqlite::backup::Backup::new(src, &mut out).map_err(|e| anyhow!("starting the backup: {e}"))?;
    loop {
        // A few hundred pages per step keeps the source's lock short for concurrent writers.
        match backup
            .step(1024)
            .map_err(|e| sqlite_write_error(e, "backing up the database"))?
        {
            rusqlite::backup::StepResult::Done => break,
            rusqlite::backup::StepResult::More => {
                let p = backup.progress();
                progress.inc(0);
                let _ = p;
            }
            rusqlite::backup::StepResult::Busy | rusqlite::backup::StepResult::Locked => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            _ => std::thread::sleep(std::time::Duration::from_millis(20)),
        }
    }
    Ok(())
}

fn compress(src: &Path, dst: &Path) -> anyhow::Result<()> {
    let mut input = std::fs::File::open(src).map_err(|e| store::io_error(e, &format!("reading {}", src.display())))?;
    let out = store::create_private_file(dst)?;
    let mut enc = zstd::stream::write::Encoder::new(std::io::BufWriter::new(out), ZSTD_LEVEL)?;
    std::io::copy(&mut input, &mut enc).map_err(|e| store::io_error(e, "writing the snapshot"))?;
    let mut w = enc.finish().map_err(|e| store::io_error(e, "writing the snapshot"))?;
    w.flush().map_err(|e| store::io_error(e, "writing the snapshot"))?;
    Ok(())
}

/// Decompress the snapshot's database into `dst` (must not exist), fsynced.
pub fn decompress_to(snapshot_dir: &Path, dst: &Path) -> anyhow::Result<()> {
    let input =
        std::fs::File::open(snapshot_dir.join(DATA_FILE)).map_err(|e| store::io_error(e, "reading the snapshot"))?;
    let mut dec = zstd::stream::read::Decoder::new(input).map_err(|e| anyhow!("reading the snapshot: {e}"))?;
    let mut out = store::create_private_file(dst)?;
    std::io::copy(&mut dec, &mut out).map_err(|e| store::io_error(e, &format!("writing {}", dst.display())))?;
    out.sync_all()
        .map_err(|e| store::io_error(e, &format!("writing {}", dst.display())))?;
    Ok(())
}

pub fn take(path: &Path, req: Request<'_>) -> anyhow::Result<Manifest> {
    let (b, progress) = (req.building, req.progress);
    if !path.is_file() {
        bail!("SQLite database {} does not exist", path.display());
    }
    let src = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|e| anyhow!("opening {}: {e}", path.display()))?;
    src.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(|e| anyhow!("opening {}: {e}", path.display()))?;
    let plain = b.path("database.sqlite");
    // Create it 0600 before SQLite opens it.
    drop(store::create_private_file(&plain)?);
    progress.phase(&format!("backing up {}", path.display()), 0);
    backup_to(&src, &plain, progress)?;
    drop(src);
    let tables = checksum_file(&plain)?;
    compress(&plain, &b.path(DATA_FILE))?;
    std::fs::remove_file(&plain).map_err(|e| store::io_error(e, "removing the uncompressed copy"))?;
    let files = vec![store::file_entry(&b.dir, DATA_FILE)?];
    progress.finish();
    Ok(Manifest {
        bytes: files.iter().map(|f| f.bytes).sum(),
        tables,
        files,
        ..req.manifest(Strategy::SqliteBackup)
    })
}

/// Restore into a new file `dst` (refusing to overwrite): decompress next to it under a
/// temporary name, then link it into place (link fails if `dst` exists, unlike rename).
pub fn restore_new_file(snapshot_dir: &Path, dst: &Path) -> anyhow::Result<()> {
    if dst.exists() {
        bail!(
            "{} already exists: dbguard never overwrites a file. Choose another with --to-file",
            dst.display()
        );
    }
    let parent = dst
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = dst
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "restored.db".into());
    let tmp = parent.join(format!(".{name}.dbguard-tmp-{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let result = decompress_to(snapshot_dir, &tmp).and_then(|_| {
        std::fs::hard_link(&tmp, dst).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                anyhow!("{} already exists: dbguard never overwrites a file", dst.display())
            } else {
                store::io_error(e, &format!("creating {}", dst.display()))
            }
        })
    });
    let _ = std::fs::remove_file(&tmp);
    result
}

/// Replace the content of the live database `dst` with the snapshot, through the backup
/// API (so open connections and WAL files stay coherent).
pub fn restore_in_place(snapshot_dir: &Path, dst: &Path) -> anyhow::Result<()> {
    let parent = dst
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = parent.join(format!(".dbguard-restore-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let result = (|| {
        decompress_to(snapshot_dir, &tmp)?;
        let mut conn = Connection::open(dst).map_err(|e| anyhow!("opening {}: {e}", dst.display()))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(|e| anyhow!("{e}"))?;
        conn.restore(rusqlite::MAIN_DB, &tmp, None::<fn(rusqlite::backup::Progress)>)
            .map_err(|e| anyhow!("restoring into {}: {e}", dst.display()))?;
        Ok(())
    })();
    let _ = std::fs::remove_file(&tmp);
    result
}
