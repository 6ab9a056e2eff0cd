//! The audit log: one JSON object per line in `<data dir>/audit.log`, append-only
//! (O_APPEND, mode 0600, folder 0700). Every door records every verdict on a destructive
//! operation: what, where, who (agent or not), what it would destroy, what was decided,
//! the snapshot, and how it ended.
//!
//! Fail closed: a door must call [`record`] before it lets a destructive operation run
//! and must not run it when that fails. `dbguard run` writes a `started` line before the
//! command and an outcome line after it, both with the same `id`.
//!
//! API for the doors (run, hook, mcp):
//! ```ignore
//! let mut e = audit::Entry::from_plan(&plan, audit::door::HOOK);
//! e.outcome = audit::outcome::BLOCKED.into();
//! audit::record(&e)?;            // Err: do not let the operation run
//! ```

use std::io::{BufRead, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};
use dbguard_core::redact::redact_text;
use serde::{Deserialize, Serialize};

use crate::plan::Plan;

/// File name of the log inside the data directory.
pub const FILE_NAME: &str = "audit.log";

/// The doors that record.
#[allow(dead_code)] // each door uses its own
pub mod door {
    pub const RUN: &str = "run";
    pub const HOOK: &str = "hook";
    pub const MCP: &str = "mcp";
    pub const MIGRATE: &str = "migrate";
    pub const PROXY: &str = "proxy";
}

/// Outcome values (`Entry::outcome`).
#[allow(dead_code)] // shared vocabulary: not every door uses every value
pub mod outcome {
    /// The policy blocks it; it did not run.
    pub const BLOCKED: &str = "blocked";
    /// A human's approval is needed; an approval code was issued; it did not run.
    pub const NEEDS_APPROVAL: &str = "needs_approval";
    /// The person at the terminal did not confirm; it did not run.
    pub const DECLINED: &str = "declined";
    /// A snapshot was required and failed; it did not run.
    pub const SNAPSHOT_FAILED: &str = "snapshot_failed";
    /// About to run (written before the command starts; the outcome line follows).
    pub const STARTED: &str = "started";
    /// It ran; `exit_code` says how it ended.
    pub const RAN: &str = "ran";
    /// It could not be started (not found, not executable).
    pub const SPAWN_FAILED: &str = "spawn_failed";
    /// A door let it through without running it itself (hook: the agent runs it).
    pub const ALLOWED: &str = "allowed";
    /// An approval code came with it that does not approve it (made up, used, expired,
    /// or approved for another statement); it did not run.
    pub const REFUSED: &str = "refused";
    /// The proxy turned a DROP TABLE into a move to its trash (`dbguard undrop` brings it back).
    pub const SOFT_DROPPED: &str = "soft_dropped";
}

/// One finding as logged.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingRecord {
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
}

/// A table and its rows, as measured before the operation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableRows {
    pub table: String,
    pub rows: Option<i64>,
}

/// What the operation would destroy, as measured.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImpactRecord {
    /// Rows the findings destroy (sum), when measured.
    pub rows: Option<i64>,
    /// Rows in the whole database, when measured.
    pub total_rows: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<TableRows>,
}

/// One line of the log. Every text field is redacted before it is written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// RFC 3339, UTC.
    pub time: String,
    pub unix: i64,
    /// Ties together the lines of one operation (`started` and its outcome).
    pub id: String,
    /// run | hook | mcp.
    pub door: String,
    pub cwd: String,
    pub command: String,
    /// The AI agent detected, if any.
    pub agent: Option<String>,
    /// Redacted URL or file path.
    pub target: Option<String>,
    pub database: Option<String>,
    pub environment: String,
    pub findings: Vec<FindingRecord>,
    pub impact: Option<ImpactRecord>,
    /// allow | snapshot | approve | block.
    pub verdict: String,
    pub reason: String,
    pub rule: String,
    /// The approval code used or issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<String>,
    /// See [`outcome`].
    pub outcome: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Free text: an error, what verification found...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Entry {
    /// An entry describing `plan`, stamped now, with a fresh id; set `outcome` (and the rest) after.
    pub fn from_plan(plan: &Plan, door: &str) -> Entry {
        let now = now_unix();
        let t = plan.target.as_ref();
        let mut tables = Vec::new();
        for imp in plan.impacts.iter().flatten() {
            for tr in &imp.tables {
                tables.push(TableRows {
                    table: redact_text(&tr.table),
                    rows: tr.rows,
                });
            }
        }
        let measured = plan.total_rows.is_some() || plan.impacts.iter().any(|i| i.is_some());
        Entry {
            time: crate::snapshot::store::rfc3339(now),
            unix: now,
            id: new_id(),
            door: door.to_string(),
            cwd: redact_text(&plan.cwd.display().to_string()),
            command: plan.display.clone(),
            agent: plan.agent.map(str::to_string),
            target: t.and_then(|t| t.display.clone()),
            database: t.and_then(|t| t.database.clone()),
            environment: t.map(|t| t.environment.as_str()).unwrap_or("unknown").to_string(),
            findings: plan
                .analysis
                .findings
                .iter()
                .map(|f| FindingRecord {
                    kind: f.kind.as_str().to_string(),
                    object: f.object.as_deref().map(redact_text),
                    tool: f.tool.clone(),
                })
                .collect(),
            impact: measured.then(|| ImpactRecord {
                rows: plan.impact_rows(),
                total_rows: plan.total_rows,
                tables,
            }),
            verdict: plan.verdict.action.as_str().to_string(),
            reason: redact_text(&plan.verdict.reason),
            rule: plan.verdict.rule.clone(),
            ..Entry::default()
        }
    }

    /// The same operation, a later line (outcome after `started`): same id, new time.
    pub fn next(&self) -> Entry {
        let now = now_unix();
        Entry {
            time: crate::snapshot::store::rfc3339(now),
            unix: now,
            exit_code: None,
            detail: None,
            ..self.clone()
        }
    }
}

/// The log file: `<data dir>/audit.log`.
pub fn log_path() -> PathBuf {
    crate::config::data_dir().join(FILE_NAME)
}

/// Append one entry. An error means the entry is not in the log: the caller must not let
/// the destructive operation run.
pub fn record(entry: &Entry) -> anyhow::Result<()> {
    record_to(&log_path(), entry)
}

fn record_to(path: &Path, entry: &Entry) -> anyhow::Result<()> {
    let mut redacted = entry.clone();
    redacted.command = redact_text(&entry.command);
    redacted.detail = entry.detail.as_deref().map(redact_text);
    redacted.target = entry.target.as_deref().map(redact_text);
    let mut line = serde_json::to_string(&redacted).context("encoding the audit entry")?;
    line.push('\n');
    let dir = path
        .parent()
        .ok_or_else(|| anyhow!("audit log path {} has no folder", path.display()))?;
    private_dir(dir).map_err(|e| anyhow!("cannot write the audit log: {e:#}"))?;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| anyhow!("cannot open the audit log {}: {e}", path.display()))?;
    // One write of the whole line: O_APPEND keeps concurrent writers' lines whole.
    f.write_all(line.as_bytes())
        .and_then(|_| f.sync_data())
        .map_err(|e| anyhow!("cannot write the audit log {}: {e}", path.display()))?;
    Ok(())
}

/// Every entry in the log, oldest first. Lines that do not parse are skipped and counted.
pub fn read_all() -> anyhow::Result<(Vec<Entry>, usize)> {
    read_from(&log_path())
}

fn read_from(path: &Path) -> anyhow::Result<(Vec<Entry>, usize)> {
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
        Err(e) => return Err(anyhow!("cannot read the audit log {}: {e}", path.display())),
    };
    let mut entries = Vec::new();
    let mut bad = 0;
    for line in std::io::BufReader::new(f).lines() {
        let line = line.map_err(|e| anyhow!("cannot read the audit log {}: {e}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Entry>(&line) {
            Ok(e) => entries.push(e),
            Err(_) => bad += 1,
        }
    }
    Ok((entries, bad))
}

/// Create `dir` (and parents) with mode 0700.
pub(crate) fn private_dir(dir: &Path) -> anyhow::Result<()> {
    if !dir.is_dir() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| anyhow!("creating {}: {e}", dir.display()))?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| anyhow!("setting permissions of {}: {e}", dir.display()))?;
    }
    Ok(())
}

pub(crate) fn now_unix() -> i64 {
    crate::snapshot::store::now_unix()
}

/// 16 random hex characters.
pub(crate) fn new_id() -> String {
    let mut b = [0u8; 8];
    fill_random(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Fill `buf` from the kernel's random source (getrandom(2)); falls back to time and pid
/// mixed through blake3 if the call fails (ids need uniqueness, not secrecy).
pub(crate) fn fill_random(buf: &mut [u8]) {
    let mut filled = 0;
    while filled < buf.len() {
        // SAFETY: writes at most buf.len() - filled bytes into our own buffer.
        let n = unsafe { libc::getrandom(buf[filled..].as_mut_ptr().cast(), buf.len() - filled, 0) };
        if n <= 0 {
            break;
        }
        filled += n as usize;
    }
    if filled < buf.len() {
        let seed = format!("{:?}{}", std::time::SystemTime::now(), std::process::id());
        let h = blake3::hash(seed.as_bytes());
        for (i, b) in buf.iter_mut().enumerate().skip(filled) {
            *b = h.as_bytes()[i % 32];
        }
    }
}

/// Parse `--since`: a duration back from now ("1h", "2d") or a date ("2026-11-21", UTC
/// midnight) or an RFC 3339 time ("2026-11-21T10:00:00Z"). Returns a unix time.
pub fn parse_since(text: &str, now: i64) -> anyhow::Result<i64> {
    let t = text.trim();
    if t.len() >= 10 && t.as_bytes().get(4) == Some(&b'-') {
        let date = &t[..10];
        let mut parts = date.split('-');
        let (y, m, d) = match (parts.next(), parts.next(), parts.next()) {
            (Some(y), Some(m), Some(d)) => (y.parse::<i64>(), m.parse::<u32>(), d.parse::<u32>()),
            _ => anyhow::bail!("invalid date {t:?}: use YYYY-MM-DD"),
        };
        let (Ok(y), Ok(m), Ok(d)) = (y, m, d) else {
            anyhow::bail!("invalid date {t:?}: use YYYY-MM-DD")
        };
        if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
            anyhow::bail!("invalid date {t:?}");
        }
        let mut unix = days_from_civil(y, m, d) * 86_400;
        let rest = t[10..].trim_start_matches(['T', ' ']);
        if !rest.is_empty() {
            let bad = || anyhow!("invalid time in {t:?}: use YYYY-MM-DDTHH:MM:SSZ (UTC)");
            let mut secs = 0;
            for (i, part) in rest.trim_end_matches('Z').split(':').enumerate() {
                let v: i64 = part.parse().map_err(|_| bad())?;
                secs += v * [3600, 60, 1].get(i).copied().ok_or_else(bad)?;
            }
            unix += secs;
        }
        return Ok(unix);
    }
    let d = crate::config::parse_duration(t)
        .map_err(|e| anyhow!("invalid --since {t:?}: {e} (e.g. 1h, 2d, 2026-11-21)"))?;
    Ok(now - d.as_secs() as i64)
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_and_read_back_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("home/audit.log");
        let e = Entry {
            command: "psql postgres://u:secret@h/db -c 'DROP TABLE x'".into(),
            outcome: outcome::BLOCKED.into(),
            ..Entry::default()
        };
        record_to(&path, &e).unwrap();
        record_to(
            &path,
            &Entry {
                outcome: outcome::RAN.into(),
                exit_code: Some(0),
                ..Entry::default()
            },
        )
        .unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"garbage\n")
            .unwrap();
        let (entries, bad) = read_from(&path).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(bad, 1);
        assert!(!entries[0].command.contains("secret"), "{}", entries[0].command);
        assert_eq!(entries[1].exit_code, Some(0));
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dmode = std::fs::metadata(path.parent().unwrap()).unwrap().permissions().mode() & 0o777;
        assert_eq!(dmode, 0o700);
    }

    #[test]
    fn unwritable_log_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain-file");
        std::fs::write(&file, b"x").unwrap();
        // A folder "under" a regular file cannot exist, even for root.
        assert!(record_to(&file.join("audit.log"), &Entry::default()).is_err());
    }

    #[test]
    fn since() {
        let now = 1_800_000_000;
        assert_eq!(parse_since("1h", now).unwrap(), now - 3600);
        assert_eq!(parse_since("1970-01-02", now).unwrap(), 86_400);
        assert_eq!(parse_since("2026-11-21", now).unwrap(), 1_795_219_200);
        assert_eq!(
            parse_since("2026-11-21T10:30:00Z", now).unwrap(),
            1_795_219_200 + 10 * 3600 + 1800
        );
        assert!(parse_since("yesterday", now).is_err());
        assert!(parse_since("2026-13-01", now).is_err());
    }
}
