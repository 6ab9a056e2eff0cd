//! The snapshot store on disk: `DBGUARD_HOME/snapshots/<id>/` folders holding data files
//! and a `manifest.json` written last. A snapshot is built in `snapshots/.tmp-<id>/`
//! (with an `owner.pid` file), fsynced, checked, and renamed into place only when complete,
//! so nothing half-written ever lists. Debris from crashes is removed by the next run.
//!
//! The catalog is the manifests themselves: listing reads `*/manifest.json` (a few KB
//! each), which takes a few milliseconds for hundreds of snapshots and can never
//! disagree with what is on disk.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail};
use serde::{Deserialize, Serialize};

/// One file in a snapshot folder, as its manifest lists it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileEntry {
    pub path: String,
    pub bytes: u64,
    pub blake3: String,
}

pub const TMP_PREFIX: &str = ".tmp-";
pub const TRASH_PREFIX: &str = ".del-";
pub const MANIFEST: &str = "manifest.json";
/// Temp folders younger than this are left alone even without a live owner (it may still
/// be writing its pid file).
const DEBRIS_MIN_AGE: Duration = Duration::from_secs(60);

/// `DBGUARD_HOME`, else the user's data directory + `dbguard`.
pub fn home_dir() -> anyhow::Result<PathBuf> {
    if let Some(h) = std::env::var_os("DBGUARD_HOME").filter(|h| !h.is_empty()) {
        return Ok(PathBuf::from(h));
    }
    dirs::data_dir()
        .map(|d| d.join("dbguard"))
        .ok_or_else(|| anyhow!("cannot find a data directory for snapshots: set DBGUARD_HOME"))
}

/// `[snapshots] dir` from dbguard.toml, else `home/snapshots`; created with mode 0700.
pub fn snapshots_dir() -> anyhow::Result<PathBuf> {
    if let Some(dir) = crate::config::current().snapshots.dir.clone() {
        make_private_dir(&dir)?;
        return Ok(dir);
    }
    let home = home_dir()?;
    let dir = home.join("snapshots");
    make_private_dir(&home)?;
    make_private_dir(&dir)?;
    Ok(dir)
}

/// Create a directory (and parents) with mode 0700 whatever the umask.
pub fn make_private_dir(path: &Path) -> anyhow::Result<()> {
    if !path.exists() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(path)
            .map_err(|e| io_error(e, &format!("creating {}", path.display())))?;
    }
    fs::set_permissions(path, fs::Permissions::from_mode(0o700))
        .map_err(|e| io_error(e, &format!("setting permissions of {}", path.display())))?;
    Ok(())
}

/// Create a new file with mode 0600 (fails if it exists).
pub fn create_private_file(path: &Path) -> anyhow::Result<File> {
    let f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| io_error(e, &format!("creating {}", path.display())))?;
    // The mode passed to open is masked by the umask; set it explicitly.
    f.set_permissions(fs::Permissions::from_mode(0o600))
        .map_err(|e| io_error(e, &format!("setting permissions of {}", path.display())))?;
    Ok(f)
}

/// "no space left" with where and what to do; shared by every writer of the store.
pub fn no_space(doing: &str) -> anyhow::Error {
    let place = snapshots_dir()
        .map(|d| format!(" holding {}", d.display()))
        .unwrap_or_default();
    anyhow!(
        "{doing}: no space left on the device{place}. Nothing was kept. Free some space (`dbguard prune` deletes old snapshots), or set DBGUARD_HOME (or [snapshots] dir in dbguard.toml) to a larger disk, and retry"
    )
}

/// Turn I/O errors into messages that name the cause and the next step.
pub fn io_error(e: std::io::Error, doing: &str) -> anyhow::Error {
    match e.raw_os_error() {
        Some(code) if code == libc::ENOSPC => no_space(doing),
        Some(code) if code == libc::EDQUOT => {
            anyhow!("{doing}: disk quota exceeded. Free some space (`dbguard prune`) or set DBGUARD_HOME elsewhere")
        }
        Some(code) if code == libc::EACCES || code == libc::EPERM => {
            anyhow!(
                "{doing}: permission denied. Check the owner of the folder, or set DBGUARD_HOME to a folder you own"
            )
        }
        _ => anyhow!("{doing}: {e}"),
    }
}

pub fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// (year, month, day, hour, minute, second) in UTC.
pub fn civil(unix: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = if m <= 2 { y + 1 } else { y };
    (
        y,
        m,
        d,
        (secs / 3600) as u32,
        ((secs % 3600) / 60) as u32,
        (secs % 60) as u32,
    )
}

pub fn rfc3339(unix: i64) -> String {
    let (y, mo, d, h, mi, s) = civil(unix);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// `YYYYMMDD_HHMMSS` (UTC), for restored database names.
pub fn compact_timestamp(unix: i64) -> String {
    let (y, mo, d, h, mi, s) = civil(unix);
    format!("{y:04}{mo:02}{d:02}_{h:02}{mi:02}{s:02}")
}

/// A new snapshot id: `YYYYMMDD-HHMMSS-xxxx` (UTC time, 4 hex digits of randomness), so
/// ids sort by time, are short enough to type, and are valid in database names.
pub fn new_id() -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let (y, mo, d, h, mi, s) = civil(now.as_secs() as i64);
    let mut hasher = blake3::Hasher::new();
    hasher.update(&now.as_nanos().to_le_bytes());
    hasher.update(&std::process::id().to_le_bytes());
    let r = hasher.finalize();
    let b = r.as_bytes();
    format!("{y:04}{mo:02}{d:02}-{h:02}{mi:02}{s:02}-{:02x}{:02x}", b[0], b[1])
}

/// A valid id looks like `YYYYMMDD-HHMMSS-xxxx`: also keeps ids safe in paths and SQL.
pub fn is_valid_id(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 15 => *c == b'-',
            16..=19 => c.is_ascii_hexdigit() && !c.is_ascii_uppercase(),
            _ => c.is_ascii_digit(),
        })
}

/// A snapshot under construction. Dropping it without `commit` removes the folder.
pub struct Building {
    pub id: String,
    pub dir: PathBuf,
    root: PathBuf,
    committed: bool,
}

impl Building {
    pub fn start(id: &str) -> anyhow::Result<Building> {
        let root = snapshots_dir()?;
        let dir = root.join(format!("{TMP_PREFIX}{id}"));
        make_private_dir(&dir)?;
        let mut f = create_private_file(&dir.join("owner.pid"))?;
        writeln!(f, "{}", std::process::id()).map_err(|e| io_error(e, "writing owner.pid"))?;
        Ok(Building {
            id: id.to_string(),
            dir,
            root,
            committed: false,
        })
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// fsync every file, re-read and check it against `files`, write the manifest
    /// (`manifest_json`, already serialized: the store does not read it), fsync, and rename
    /// the folder into place.
    pub fn commit(mut self, files: &[FileEntry], manifest_json: &[u8]) -> anyhow::Result<PathBuf> {
        for f in files {
            let p = self.dir.join(&f.path);
            let (bytes, hash) = hash_file(&p)?;
            if bytes != f.bytes || hash != f.blake3 {
                bail!(
                    "snapshot file {} changed between writing and checking ({} bytes, expected {}): the disk or filesystem is misbehaving; the snapshot was discarded",
                    f.path,
                    bytes,
                    f.bytes
                );
            }
            File::open(&p)
                .and_then(|f| f.sync_all())
                .map_err(|e| io_error(e, &format!("syncing {}", p.display())))?;
        }
        let mpath = self.dir.join(MANIFEST);
        let mut mf = create_private_file(&mpath)?;
        mf.write_all(manifest_json)
            .map_err(|e| io_error(e, "writing manifest.json"))?;
        mf.sync_all().map_err(|e| io_error(e, "syncing manifest.json"))?;
        drop(mf);
        let _ = fs::remove_file(self.dir.join("owner.pid"));
        sync_dir(&self.dir);
        let final_dir = self.root.join(&self.id);
        fs::rename(&self.dir, &final_dir).map_err(|e| io_error(e, "moving the snapshot into place"))?;
        sync_dir(&self.root);
        self.committed = true;
        Ok(final_dir)
    }
}

impl Drop for Building {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

fn sync_dir(dir: &Path) {
    if let Ok(f) = File::open(dir) {
        let _ = f.sync_all();
    }
}

/// blake3 and size of a file, streamed.
pub fn hash_file(path: &Path) -> anyhow::Result<(u64, String)> {
    let mut f = File::open(path).map_err(|e| io_error(e, &format!("reading {}", path.display())))?;
    let mut hasher = blake3::Hasher::new();
    let n = std::io::copy(&mut f, &mut hasher).map_err(|e| io_error(e, &format!("reading {}", path.display())))?;
    Ok((n, hasher.finalize().to_hex().to_string()))
}

/// Describe a file already written in a building folder.
pub fn file_entry(dir: &Path, rel: &str) -> anyhow::Result<FileEntry> {
    let (bytes, blake3) = hash_file(&dir.join(rel))?;
    Ok(FileEntry {
        path: rel.to_string(),
        bytes,
        blake3,
    })
}

/// Is a process with this pid alive?
pub fn pid_alive(pid: i32) -> bool {
    if pid <= 0 {
        return false;
    }
    // SAFETY: kill with signal 0 only checks for existence and permission.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Remove temp folders of dead builds and half-deleted snapshots. Returns what was removed.
pub fn clean_debris() -> Vec<String> {
    let mut removed = Vec::new();
    let Ok(root) = snapshots_dir() else { return removed };
    let Ok(rd) = fs::read_dir(&root) else { return removed };
    for entry in rd.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let path = entry.path();
        if name.starts_with(TRASH_PREFIX) {
            if fs::remove_dir_all(&path).is_ok() {
                removed.push(name);
            }
            continue;
        }
        if !name.starts_with(TMP_PREFIX) {
            continue;
        }
        let owner: Option<i32> = fs::read_to_string(path.join("owner.pid"))
            .ok()
            .and_then(|s| s.trim().parse().ok());
        if owner.is_some_and(pid_alive) {
            continue;
        }
        let age = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .unwrap_or_default();
        // A dead clone build may have left a database behind: the PostgreSQL side drops it
        // (`pg_clone::drop_orphans`) and then this folder; give up on it after a week.
        if path.join("clone.name").exists() && age < Duration::from_secs(7 * 86_400) {
            continue;
        }
        // A dead owner is certain debris; without a pid file, wait a minute.
        if (owner.is_some() || age >= DEBRIS_MIN_AGE) && fs::remove_dir_all(&path).is_ok() {
            removed.push(name);
        }
    }
    removed
}

/// Temp folders of dead clone builds: (folder, name of the clone database it may have made).
pub fn dead_clone_builds() -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let Ok(root) = snapshots_dir() else { return out };
    let Ok(rd) = fs::read_dir(&root) else { return out };
    for entry in rd.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if !name.starts_with(TMP_PREFIX) {
            continue;
        }
        let owner: Option<i32> = fs::read_to_string(entry.path().join("owner.pid"))
            .ok()
            .and_then(|s| s.trim().parse().ok());
        if owner.is_some_and(pid_alive) {
            continue;
        }
        if let Ok(clone) = fs::read_to_string(entry.path().join("clone.name")) {
            out.push((entry.path(), clone.trim().to_string()));
        }
    }
    out
}

/// Ids of snapshot folders still being built by a live process.
pub fn building_ids() -> Vec<String> {
    let mut ids = Vec::new();
    let Ok(root) = snapshots_dir() else { return ids };
    let Ok(rd) = fs::read_dir(&root) else { return ids };
    for entry in rd.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if let Some(id) = name.strip_prefix(TMP_PREFIX) {
            let owner: Option<i32> = fs::read_to_string(entry.path().join("owner.pid"))
                .ok()
                .and_then(|s| s.trim().parse().ok());
            if owner.is_none_or(pid_alive) {
                ids.push(id.to_string());
            }
        }
    }
    ids
}

/// Folders of complete snapshots (named by a valid id), unsorted: (id, folder).
pub fn snapshot_folders() -> anyhow::Result<Vec<(String, PathBuf)>> {
    let root = snapshots_dir()?;
    let rd = fs::read_dir(&root).map_err(|e| io_error(e, &format!("reading {}", root.display())))?;
    Ok(rd
        .flatten()
        .map(|e| (e.file_name().to_string_lossy().to_string(), e.path()))
        .filter(|(name, _)| !name.starts_with('.') && is_valid_id(name))
        .collect())
}

/// Replace `name` in a complete snapshot folder: written to a temporary name, synced, and
/// renamed over it, so readers see the old file or the new one, never a half-written
/// one. Fails (and writes nothing) when the file is gone (the snapshot was deleted).
pub fn replace_file(dir: &Path, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
    let path = dir.join(name);
    if !path.exists() {
        bail!(
            "{} no longer exists (the snapshot was pruned or deleted)",
            path.display()
        );
    }
    let tmp = dir.join(format!("{name}{TMP_PREFIX}{}", std::process::id()));
    let _ = fs::remove_file(&tmp);
    let written = (|| {
        let mut f = create_private_file(&tmp)?;
        f.write_all(bytes)
            .map_err(|e| io_error(e, &format!("writing {name}")))?;
        f.sync_all().map_err(|e| io_error(e, &format!("syncing {name}")))?;
        fs::rename(&tmp, &path).map_err(|e| io_error(e, &format!("replacing {name}")))
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written?;
    sync_dir(dir);
    Ok(())
}

/// Problems with the files of `files` that `wanted` accepts (by path): missing, wrong
/// size, wrong checksum.
pub fn check_files(dir: &Path, files: &[FileEntry], wanted: impl Fn(&str) -> bool) -> Vec<String> {
    let mut problems = Vec::new();
    for f in files.iter().filter(|f| wanted(&f.path)) {
        let p = dir.join(&f.path);
        match hash_file(&p) {
            Err(_) => problems.push(format!("{}: missing or unreadable", f.path)),
            Ok((bytes, _)) if bytes != f.bytes => {
                problems.push(format!("{}: {} bytes, expected {}", f.path, bytes, f.bytes))
            }
            Ok((_, h)) if h != f.blake3 => problems.push(format!(
                "{}: checksum mismatch (the file was modified or corrupted)",
                f.path
            )),
            Ok(_) => {}
        }
    }
    problems
}

/// Delete a snapshot folder: renamed away first, so a crash mid-delete never leaves a
/// folder that lists as complete.
pub fn delete(dir: &Path) -> anyhow::Result<()> {
    let Some(parent) = dir.parent() else {
        bail!("bad snapshot path {}", dir.display())
    };
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let trash = parent.join(format!("{TRASH_PREFIX}{name}"));
    fs::rename(dir, &trash).map_err(|e| io_error(e, &format!("deleting {}", dir.display())))?;
    fs::remove_dir_all(&trash).map_err(|e| io_error(e, &format!("deleting {}", trash.display())))?;
    Ok(())
}

/// A short fingerprint of this store, written into clone database comments so that
/// orphan clean-up only ever drops clones made by this store.
pub fn store_fingerprint() -> String {
    let home = home_dir().unwrap_or_default();
    let canonical = fs::canonicalize(&home).unwrap_or(home);
    let host = fs::read_to_string("/etc/hostname").unwrap_or_default();
    let mut h = blake3::Hasher::new();
    h.update(canonical.to_string_lossy().as_bytes());
    h.update(host.trim().as_bytes());
    h.finalize().to_hex()[..12].to_string()
}

/// Parse `7d`, `12h`, `30m`, `2w`, `45s`.
pub fn parse_duration(s: &str) -> anyhow::Result<Duration> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| anyhow!("invalid duration {s:?}: use a number and a unit, like 7d, 12h, 30m"))?;
    let secs = match unit.trim() {
        "s" | "sec" | "" => n,
        "m" | "min" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        "w" => n * 7 * 86_400,
        other => bail!("invalid duration unit {other:?} in {s:?}: use s, m, h, d or w"),
    };
    Ok(Duration::from_secs(secs))
}

pub fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = b as f64;
    let mut i = 0;
    while v >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[i])
    }
}

pub fn human_age(secs: i64) -> String {
    match secs {
        s if s < 60 => format!("{s}s ago"),
        s if s < 3600 => format!("{}m ago", s / 60),
        s if s < 86_400 => format!("{}h{:02}m ago", s / 3600, (s % 3600) / 60),
        s => format!("{}d ago", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_time() {
        let id = new_id();
        assert!(is_valid_id(&id), "{id}");
        assert!(!is_valid_id("../etc"));
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_305_599), "2026-11-21T23:59:59Z");
        assert_eq!(compact_timestamp(1_795_305_599), "20261121_235959");
        assert_eq!(parse_duration("7d").unwrap(), Duration::from_secs(7 * 86_400));
        assert!(parse_duration("7x").is_err());
    }
}
