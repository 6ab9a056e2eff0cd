//! The on-disk cache of script summaries (what the core's script analysis found in one file).
//! The hook is a new process for every command, so a repeat of `node dist/server.js` should
//! not read and parse a 5 MB bundle again: one small JSON file per script under
//! `DBGUARD_HOME/cache/scripts/`, named by a hash of the path and language, valid while the
//! file's size, modification time, change time, inode and device are the ones recorded and
//! the analyzer version is the same. The change time cannot be set back by `touch`, so a file
//! edited and given its old mtime again is read afresh.
//!
//! Written atomically (a temporary file in the same folder, then rename), folder 0700, files
//! 0600. A cache that cannot be read or written is skipped: the file is analyzed again. The
//! cache is as trustworthy as the data directory itself (a process that can write there can
//! also write approvals).

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use dbguard_core::script::{Summary, ANALYZER_VERSION};
use serde::{Deserialize, Serialize};

/// Entries kept before older ones are pruned.
const MAX_ENTRIES: usize = 4000;

pub struct ScriptCache {
    dir: PathBuf,
}

/// What identifies one version of one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Key {
    pub path: String,
    pub given: String,
    pub kind: String,
    pub size: u64,
    pub mtime_ns: i128,
    pub ctime_ns: i128,
    pub ino: u64,
    pub dev: u64,
}

impl Key {
    pub fn new(abs: &Path, given: &str, kind: &str, meta: &std::fs::Metadata) -> Key {
        Key {
            path: abs.to_string_lossy().into_owned(),
            given: given.to_string(),
            kind: kind.to_string(),
            size: meta.len(),
            mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
            ctime_ns: i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec()),
            ino: meta.ino(),
            dev: meta.dev(),
        }
    }

    fn file_name(&self) -> String {
        let mut h = blake3::Hasher::new();
        h.update(self.path.as_bytes());
        h.update(&[0]);
        h.update(self.given.as_bytes());
        h.update(&[0]);
        h.update(self.kind.as_bytes());
        format!("{}.json", &h.finalize().to_hex()[..32])
    }
}

#[derive(Serialize, Deserialize)]
struct Entry {
    version: u32,
    key: Key,
    summary: Summary,
}

impl ScriptCache {
    /// The cache under the data directory; `DBGUARD_SCRIPT_CACHE=off` disables it.
    pub fn from_env() -> Option<ScriptCache> {
        if std::env::var("DBGUARD_SCRIPT_CACHE").is_ok_and(|v| v == "off" || v == "0") {
            return None;
        }
        Some(ScriptCache {
            dir: crate::config::data_dir().join("cache").join("scripts"),
        })
    }

    #[cfg(test)]
    pub fn at(dir: PathBuf) -> ScriptCache {
        ScriptCache { dir }
    }

    pub fn get(&self, key: &Key) -> Option<Summary> {
        let bytes = std::fs::read(self.dir.join(key.file_name())).ok()?;
        let e: Entry = serde_json::from_slice(&bytes).ok()?;
        (e.version == ANALYZER_VERSION && e.key == *key).then_some(e.summary)
    }

    pub fn put(&self, key: &Key, summary: &Summary) {
        let _ = self.try_put(key, summary);
    }

    fn try_put(&self, key: &Key, summary: &Summary) -> std::io::Result<()> {
        if !self.dir.is_dir() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&self.dir)?;
        }
        let entry = Entry {
            version: ANALYZER_VERSION,
            key: key.clone(),
            summary: summary.clone(),
        };
        let bytes = serde_json::to_vec(&entry).map_err(std::io::Error::other)?;
        let name = key.file_name();
        let tmp = self.dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        if let Err(e) = f.write_all(&bytes) {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        drop(f);
        if let Err(e) = std::fs::rename(&tmp, self.dir.join(&name)) {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        // Now and then, keep the folder small: drop the least recently written entries.
        if key.mtime_ns % 32 == 0 {
            self.prune();
        }
        Ok(())
    }

    fn prune(&self) {
        let Ok(rd) = std::fs::read_dir(&self.dir) else { return };
        let mut entries: Vec<(std::time::SystemTime, PathBuf)> = rd
            .flatten()
            .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
            .collect();
        if entries.len() <= MAX_ENTRIES {
            return;
        }
        entries.sort();
        for (_, p) in entries.iter().take(entries.len() - MAX_ENTRIES / 2) {
            let _ = std::fs::remove_file(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn round_trip_and_invalidation() {
        let tmp = tempfile::tempdir().unwrap();
        let script = tmp.path().join("x.js");
        std::fs::write(&script, "db.query('TRUNCATE t')").unwrap();
        let cache = ScriptCache::at(tmp.path().join("cache"));
        let meta = std::fs::metadata(&script).unwrap();
        let key = Key::new(&script, "x.js", "js", &meta);
        assert!(cache.get(&key).is_none());
        let s = Summary {
            parsed: true,
            bytes: 22,
            ..Summary::default()
        };
        cache.put(&key, &s);
        assert_eq!(cache.get(&key), Some(s));
        let file = tmp.path().join("cache").join(key.file_name());
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(
            std::fs::metadata(tmp.path().join("cache"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o700
        );
        // Another size (or ctime) is another version of the file.
        let other = Key {
            size: 23,
            ..key.clone()
        };
        assert!(cache.get(&other).is_none());
        let other = Key {
            ctime_ns: key.ctime_ns + 1,
            ..key
        };
        assert!(cache.get(&other).is_none());
    }
}
