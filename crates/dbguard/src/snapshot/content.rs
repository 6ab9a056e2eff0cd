//! Deferred content of clone snapshots: the per-table row counts and content checksums.
//!
//! Reading every row of a clone takes several times longer than making it, and a clone
//! never changes (it is marked and does not accept connections), so its counts and
//! checksums are the same whenever they are computed. A clone snapshot is therefore
//! committed with `content: pending` as soon as the clone exists, and then:
//! - a detached `dbguard snapshot-finish ID` (own session, stdio on /dev/null, so it
//!   outlives the command that took the snapshot) computes them and rewrites the manifest
//!   atomically;
//! - whoever needs them first (`verify`, `restore`, the after-check of `dbguard run`)
//!   calls `ensure_content`, which waits for a running finisher or does the same work.
//!
//! A failed background pass leaves its error in `<snapshot>/content.error` (the finisher
//! has no terminal to print it on), which `dbguard snapshots` shows until a pass succeeds.
//!
//! Both hold an exclusive `flock` on `<snapshot>/content.lock` while computing, so the
//! work is done once; the kernel releases it when a holder dies (even by kill -9), and the
//! next caller simply computes again. While pending, the snapshot is fully usable for
//! restore: it is the clone itself that restores, not the checksums.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::anyhow;

use super::manifest::{self, ContentStatus, Manifest};
use super::progress::Progress;
use super::{pg_clone, store};

/// The finisher reads the connection string from its environment, never from its
/// command line (which other users can see in `ps`).
pub const FINISH_URL_ENV: &str = "DBGUARD_FINISH_URL";
/// Tests only: milliseconds the finisher waits before starting, so that a test can kill it
/// or race it with `verify`.
pub const FINISH_DELAY_ENV: &str = "DBGUARD_FINISH_DELAY_MS";
const LOCK_FILE: &str = "content.lock";
const ERROR_FILE: &str = super::manifest::CONTENT_ERROR_FILE;

/// Keep a background pass's error where `dbguard snapshots` finds it (0600, replaced atomically).
fn record_error(dir: &Path, message: &str) -> anyhow::Result<()> {
    let tmp = dir.join(format!("{ERROR_FILE}.tmp{}", std::process::id()));
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| store::io_error(e, &format!("writing {}", tmp.display())))?;
    std::io::Write::write_all(&mut f, format!("{message}\n").as_bytes())
        .map_err(|e| store::io_error(e, &format!("writing {}", tmp.display())))?;
    std::fs::rename(&tmp, dir.join(ERROR_FILE)).map_err(|e| store::io_error(e, &format!("renaming {}", tmp.display())))
}

fn open_lock(dir: &Path) -> anyhow::Result<File> {
    let path = dir.join(LOCK_FILE);
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(|e| store::io_error(e, &format!("opening {}", path.display())))?;
    f.set_permissions(std::fs::Permissions::from_mode(0o600))
        .map_err(|e| store::io_error(e, &format!("setting permissions of {}", path.display())))?;
    Ok(f)
}

/// The snapshot's manifest with its row counts and content checksums: at once when they
/// are recorded, else after waiting for a finisher at work, else computed now from the
/// clone (with `url`'s credentials for its server) and recorded.
pub fn ensure_content(id: &str, url: &str, progress: &Progress) -> anyhow::Result<Manifest> {
    let (dir, m) = manifest::find(id)?;
    if !m.content_pending() {
        return Ok(m);
    }
    let lock = open_lock(&dir)?;
    lock.lock()
        .map_err(|e| store::io_error(e, &format!("waiting for the checksums of snapshot {}", m.id)))?;
    // Dropping the file releases the lock, after our sessions on the clone are closed.
    compute_locked(&dir, &m.id, url, progress)
}

fn compute_locked(dir: &Path, id: &str, url: &str, progress: &Progress) -> anyhow::Result<Manifest> {
    let m = manifest::read(dir).map_err(|_| anyhow!("snapshot {id} no longer exists (it was pruned or deleted)"))?;
    if !m.content_pending() {
        return Ok(m);
    }
    let clone = m
        .clone_database
        .clone()
        .ok_or_else(|| anyhow!("snapshot {id} has pending checksums but names no clone database"))?;
    let started = Instant::now();
    let rt = crate::engine::pg_connect::runtime()?;
    let tables = rt
        .block_on(pg_clone::checksum_clone(url, &clone, progress))
        .map_err(|e| anyhow!("computing the row counts and checksums of snapshot {id}: {e:#}"))?;
    drop(rt);
    progress.finish();
    let mut full = m;
    full.tables = tables;
    full.content = ContentStatus::Complete;
    full.content_duration_ms = Some(started.elapsed().as_millis() as u64);
    manifest::rewrite(dir, &full)?;
    let _ = std::fs::remove_file(dir.join(ERROR_FILE));
    Ok(full)
}

/// Start `dbguard snapshot-finish ID` in the background: its own session (no terminal
/// signals, survives our exit), stdio on /dev/null, the URL in its environment.
pub fn spawn_finisher(id: &str, url: &str) -> anyhow::Result<()> {
    let exe = std::env::current_exe().map_err(|e| anyhow!("finding the dbguard binary: {e}"))?;
    let mut cmd = Command::new(exe);
    cmd.arg("snapshot-finish")
        .arg(id)
        .env(FINISH_URL_ENV, url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: setsid is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| anyhow!("starting the background checksum pass: {e}"))?;
    // Reap it if we are still alive when it ends (long-lived callers such as `dbguard mcp`
    // would otherwise collect zombies); if we exit first, init adopts it.
    let _ = std::thread::Builder::new()
        .name("snapshot-finish-reaper".into())
        .spawn(move || {
            let _ = child.wait();
        });
    Ok(())
}

/// The body of the hidden `dbguard snapshot-finish ID`.
pub fn finish(id: &str, url: &str) -> anyhow::Result<Manifest> {
    if let Some(ms) = std::env::var(FINISH_DELAY_ENV).ok().and_then(|v| v.parse::<u64>().ok()) {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
    let result = ensure_content(id, url, &Progress::new(false));
    if let Err(e) = &result {
        if let Ok((dir, _)) = manifest::find(id) {
            let message = dbguard_core::redact::redact_text(&format!("{e:#}"));
            let _ = record_error(&dir, &message);
        }
    }
    result
}
