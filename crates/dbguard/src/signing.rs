//! Signatures on dbguard's own records (approvals, remembered classifications), so that a
//! file changed or written by anything but dbguard is recognized and ignored.
//!
//! Each record carries `mac`: a keyed BLAKE3 hash of the record's JSON (keys sorted, `mac`
//! itself left out), under a key derived for the record's kind from one 32-byte secret in
//! `<data dir>/keys/records.key` (folder 0700, file 0600, created from getrandom(2) on
//! first use). A MAC rather than a public-key signature: the doors that *create* records
//! (`run`, the hook, MCP create approval requests whose text `approve` shows the person)
//! must sign too, so every dbguard process needs the secret either way.
//!
//! What this stops: an agent's file tools editing `"status": "pending"` into `"approved"`,
//! a script writing an approval or classification JSON from scratch, a record copied under
//! another code, a pending request whose plan text was swapped for a harmless-looking one.
//! What it cannot stop: a process of the same user that reads the key file and computes the
//! MAC itself (the key must be readable by every dbguard process the user runs). Only a
//! secret the agent does not have holds against that: the in-database guard's approvals.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use serde_json::Value;

/// The field holding the signature.
pub const FIELD: &str = "mac";

/// What a record is, mixed into its key: an approval never verifies as a classification.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Approval,
    Classification,
}

impl Kind {
    fn context(self) -> &'static str {
        match self {
            Kind::Approval => "dbguard 2026 approval record v1",
            Kind::Classification => "dbguard 2026 remembered classification v1",
        }
    }
}

/// `<data dir>/keys/records.key`.
pub fn key_path(data_dir: &Path) -> PathBuf {
    data_dir.join("keys").join("records.key")
}

/// The secret for records stored in `records_dir` (a folder of the data directory, such as
/// `<data dir>/approvals`), created on first use.
pub fn secret_for(records_dir: &Path) -> anyhow::Result<[u8; 32]> {
    secret_at(&key_path(records_dir.parent().unwrap_or(records_dir)))
}

fn secret_at(path: &Path) -> anyhow::Result<[u8; 32]> {
    match std::fs::read(path) {
        Ok(bytes) => {
            return bytes.try_into().map_err(|_| {
                anyhow!(
                    "{} is not a dbguard key (32 bytes); remove it to start over (every approval then lapses)",
                    path.display()
                )
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => bail!("cannot read dbguard's signing key {}: {e}", path.display()),
    }
    let dir = path.parent().ok_or_else(|| anyhow!("bad key path"))?;
    crate::audit::private_dir(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut key = [0u8; 32];
    strong_random(&mut key)?;
    let tmp = dir.join(format!(".key-{}", std::process::id()));
    // link(2) fails when the key exists: of two processes creating it at once, one wins.
    let written = write_private(&tmp, &key).and_then(|()| std::fs::hard_link(&tmp, path));
    let _ = std::fs::remove_file(&tmp);
    match written {
        Ok(()) => Ok(key),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => secret_at(path),
        Err(e) => bail!("cannot create dbguard's signing key {}: {e}", path.display()),
    }
}

/// Key material must come from the kernel; there is no fallback.
fn strong_random(buf: &mut [u8]) -> anyhow::Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        // SAFETY: writes at most buf.len() - filled bytes into our own buffer.
        let n = unsafe { libc::getrandom(buf[filled..].as_mut_ptr().cast(), buf.len() - filled, 0) };
        if n <= 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            bail!("getrandom failed: {e}");
        }
        filled += n as usize;
    }
    Ok(())
}

/// The value in a canonical form: object keys sorted, `mac` left out at the top.
fn canonical(v: &Value, top: bool) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().filter(|k| !(top && k.as_str() == FIELD)).collect();
            keys.sort();
            let mut out = serde_json::Map::new();
            for k in keys {
                out.insert(k.clone(), canonical(&m[k], false));
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| canonical(x, false)).collect()),
        other => other.clone(),
    }
}

fn mac_with(secret: &[u8; 32], kind: Kind, v: &Value) -> blake3::Hash {
    let key = blake3::derive_key(kind.context(), secret);
    let body = serde_json::to_vec(&canonical(v, true)).unwrap_or_default();
    blake3::keyed_hash(&key, &body)
}

/// Sign a record (a JSON object): sets its `mac`.
pub fn sign_with(secret: &[u8; 32], kind: Kind, v: &mut Value) -> anyhow::Result<()> {
    let mac = mac_with(secret, kind, v).to_hex().to_string();
    v.as_object_mut()
        .ok_or_else(|| anyhow!("a signed record must be a JSON object"))?
        .insert(FIELD.into(), Value::String(mac));
    Ok(())
}

/// Whether a record's `mac` is dbguard's (constant-time comparison). A record without one,
/// or with any byte of it changed, is not.
pub fn verify_with(secret: &[u8; 32], kind: Kind, v: &Value) -> bool {
    let Some(given) = v.get(FIELD).and_then(|m| m.as_str()) else {
        return false;
    };
    match blake3::Hash::from_hex(given) {
        Ok(h) => h == mac_with(secret, kind, v),
        Err(_) => false,
    }
}

/// A new file, mode 0600, written and synced.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Sign `value` and write it to `path` atomically (a temporary file in the same folder, then
/// rename), mode 0600. The folder's key is used (see [`secret_for`]).
pub fn write_signed(kind: Kind, path: &Path, mut value: Value) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| anyhow!("{} has no folder", path.display()))?;
    sign_with(&secret_for(dir)?, kind, &mut value)?;
    let body = serde_json::to_vec_pretty(&value)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".tmp-{name}-{}", std::process::id()));
    let result = write_private(&tmp, &body).and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        bail!("cannot write {}: {e}", path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tampering_is_seen() {
        let k = [7u8; 32];
        let mut r = json!({"code": "AAA-222", "status": "pending", "n": 1, "nested": {"b": 1, "a": [1, 2]}});
        sign_with(&k, Kind::Approval, &mut r).unwrap();
        assert!(verify_with(&k, Kind::Approval, &r));
        // Key order in the file does not matter; content does.
        let reordered: Value = serde_json::from_str(&r.to_string().replace(
            r#""code":"AAA-222","status":"pending""#,
            r#""status":"pending","code":"AAA-222""#,
        ))
        .unwrap();
        assert!(verify_with(&k, Kind::Approval, &reordered));
        let mut edited = r.clone();
        edited["status"] = json!("approved");
        assert!(!verify_with(&k, Kind::Approval, &edited));
        let mut added = r.clone();
        added["extra"] = json!(true);
        assert!(!verify_with(&k, Kind::Approval, &added));
        // Another kind, another key, no mac: all refused.
        assert!(!verify_with(&k, Kind::Classification, &r));
        assert!(!verify_with(&[8u8; 32], Kind::Approval, &r));
        let mut bare = r.clone();
        bare.as_object_mut().unwrap().remove(FIELD);
        assert!(!verify_with(&k, Kind::Approval, &bare));
        bare[FIELD] = json!("not hex");
        assert!(!verify_with(&k, Kind::Approval, &bare));
    }

    #[test]
    fn key_file_is_created_once_and_private() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("keys").join("records.key");
        let a = secret_at(&path).unwrap();
        let b = secret_at(&path).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, [0u8; 32]);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dmode = std::fs::metadata(path.parent().unwrap()).unwrap().permissions().mode() & 0o777;
        assert_eq!(dmode, 0o700);
        std::fs::write(&path, b"short").unwrap();
        assert!(secret_at(&path).is_err());
    }
}
