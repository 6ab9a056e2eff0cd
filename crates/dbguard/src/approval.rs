//! Human approvals of destructive plans, stored under `<data dir>/approvals/` (folder
//! 0700, one `<CODE>.json` file 0600 per approval).
//!
//! Flow: a door that needs a human and has none (an agent, no terminal) calls
//! [`request`]: it gets a short code (`K7Q-4MZ`) bound to the plan's fingerprint (exact
//! command, working directory, target, snapshot scope) and the sentence to pass on.
//! The person runs `dbguard approve CODE` at a terminal (see `commands/approve.rs`:
//! refused when an agent is detected or there is no terminal), sees the plan and types
//! the database name; the approval is then valid for [`ttl`] (15 minutes by default).
//! Rerunning the same command calls [`consume`], which uses the approval up exactly once.
//!
//! Threat model: this stops careless agents and tired people, and raises the bar for one
//! that works around: `approve` refuses agent environments, non-terminals and any process
//! whose ancestors, session or terminal driver is a known agent (`procs.rs`); every record
//! is signed (`signing.rs`), so a file edited or written outside dbguard approves nothing
//! and is reported; a used code leaves a marker so that restoring a copy of its file does
//! not approve twice. A process of the same user that reads the key, or deletes the marker,
//! can still forge; only a secret the agent lacks holds then: the in-database guard.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use serde::{Deserialize, Serialize};

use crate::audit::{fill_random, now_unix, private_dir};
use crate::plan::Plan;

/// How long a code (pending or approved) stays valid, unless `DBGUARD_APPROVAL_TTL` says otherwise.
pub const DEFAULT_TTL: Duration = Duration::from_secs(15 * 60);
const MAX_TTL: Duration = Duration::from_secs(24 * 3600);

/// Code alphabet: no 0/O, 1/I/L, U/V lookalikes; easy to read aloud and type.
const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTWXYZ";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pending,
    Approved,
}

/// One stored approval.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub code: String,
    /// `Plan::fingerprint()` of the plan it was issued for.
    pub fingerprint: String,
    pub status: Status,
    pub created_unix: i64,
    pub expires_unix: i64,
    pub approved_unix: Option<i64>,
    /// The command, redacted.
    pub command: String,
    pub cwd: String,
    pub target: Option<String>,
    pub environment: String,
    /// What the person types to approve (the database name).
    pub confirm: String,
    /// The plan as shown to people (redacted), for `dbguard approve`.
    pub plan_text: String,
    /// The agent that asked, if one was detected.
    pub agent: Option<String>,
    /// A request to lower a remembered classification (`dbguard classify`), applied by
    /// `dbguard approve` itself; None for plans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lower: Option<crate::sticky::Lowering>,
    /// dbguard's signature over the record (`signing.rs`); a record without a valid one is
    /// ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
    /// A one-time token for the in-database guard (`dbguard protect`): once the person has
    /// approved, the command's sessions present it (`crate::protect::approval`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub db_token: Option<String>,
    /// The guarded database the approval must also be written into (with the guard
    /// owner's credentials), when the target has the guard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub db_guard: Option<crate::protect::approval::GuardTarget>,
}

/// A pending approval, as returned to the door that asked.
#[derive(Debug, Clone, Serialize)]
pub struct Pending {
    pub code: String,
    pub expires_unix: i64,
    /// RFC 3339, UTC.
    pub expires_at: String,
    /// The sentence to pass to the person, verbatim.
    pub sentence: String,
}

/// An approval that was just used up.
#[derive(Debug, Clone, Serialize)]
pub struct Approved {
    pub code: String,
    pub approved_unix: i64,
    /// For the in-database guard: what the command's sessions present (only when the
    /// approval was also written into the guarded database).
    #[serde(skip)]
    pub db_token: Option<String>,
}

/// Time-to-live of codes: `DBGUARD_APPROVAL_TTL` ("10m", "90s"...), clamped to 10 s..24 h, else 15 minutes.
pub fn ttl() -> Duration {
    std::env::var("DBGUARD_APPROVAL_TTL")
        .ok()
        .and_then(|v| crate::config::parse_duration(&v).ok())
        .map(|d| d.clamp(Duration::from_secs(10), MAX_TTL))
        .unwrap_or(DEFAULT_TTL)
}

/// `<data dir>/approvals`.
pub fn dir() -> PathBuf {
    crate::config::data_dir().join("approvals")
}

/// Normalize what a person typed (`k7q4mz`, `K7Q-4MZ`) to `K7Q-4MZ`; None when it cannot be a code.
pub fn normalize_code(text: &str) -> Option<String> {
    let chars: Vec<u8> = text
        .bytes()
        .filter(|b| b.is_ascii_alphanumeric())
        .map(|b| b.to_ascii_uppercase())
        .collect();
    if chars.len() != 6 || !chars.iter().all(|c| ALPHABET.contains(c)) {
        return None;
    }
    let s = String::from_utf8_lossy(&chars).into_owned();
    Some(format!("{}-{}", &s[..3], &s[3..]))
}

fn new_code() -> String {
    let mut buf = [0u8; 6];
    fill_random(&mut buf);
    let chars: String = buf
        .iter()
        .map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char)
        .collect();
    format!("{}-{}", &chars[..3], &chars[3..])
}

/// The sentence for the person.
pub fn sentence(code: &str) -> String {
    format!(
        "Run `dbguard approve {code}` yourself in a terminal to review and approve this, then rerun the same command."
    )
}

/// Create (or reuse, when the same plan already has one pending) an approval request.
pub fn request(plan: &Plan) -> anyhow::Result<Pending> {
    request_in(&dir(), plan, ttl())
}

fn request_in(dir: &Path, plan: &Plan, ttl: Duration) -> anyhow::Result<Pending> {
    let t = plan.target.as_ref();
    store_request(dir, plan.fingerprint(), |code, now| Record {
        code,
        fingerprint: plan.fingerprint(),
        status: Status::Pending,
        created_unix: now,
        expires_unix: now + ttl.as_secs() as i64,
        approved_unix: None,
        command: plan.display.clone(),
        cwd: dbguard_core::redact::redact_text(&plan.cwd.display().to_string()),
        target: t.and_then(|t| t.display.clone()),
        environment: t.map(|t| t.environment.as_str()).unwrap_or("unknown").to_string(),
        confirm: plan.confirmation_word(),
        plan_text: plan.render_text(),
        agent: plan.agent.map(str::to_string),
        lower: None,
        mac: None,
        db_token: Some(crate::protect::approval::new_token()),
        db_guard: crate::protect::approval::probe_for_request(plan),
    })
}

/// The pending request for `fingerprint` when one is still valid, else a new one (a fresh
/// code, the record built by `make`), stored signed.
fn store_request(dir: &Path, fingerprint: String, make: impl FnOnce(String, i64) -> Record) -> anyhow::Result<Pending> {
    private_dir(dir).context("cannot store the approval request")?;
    let now = now_unix();
    let existing = load_all(dir)?;
    if let Some(r) = existing
        .iter()
        .find(|r| r.status == Status::Pending && r.fingerprint == fingerprint && r.expires_unix > now)
    {
        return Ok(pending_of(r));
    }
    let mut code = new_code();
    while existing.iter().any(|r| r.code == code) {
        code = new_code();
    }
    let record = make(code, now);
    write_record(dir, &record)?;
    Ok(pending_of(&record))
}

/// Create (or reuse) a request to lower a remembered classification; `dbguard approve`
/// applies it. `confirm` is what the person types (the database name).
pub fn request_lowering(l: &crate::sticky::Lowering, confirm: &str, plan_text: &str) -> anyhow::Result<Pending> {
    let fp = format!("classify\0{}\0{}\0{}", l.identity, l.drop_production, l.drop_protected);
    let fp = blake3::hash(fp.as_bytes()).to_hex()[..32].to_string();
    let ttl = ttl();
    store_request(&dir(), fp.clone(), |code, now| Record {
        code,
        fingerprint: fp,
        status: Status::Pending,
        created_unix: now,
        expires_unix: now + ttl.as_secs() as i64,
        approved_unix: None,
        command: format!("dbguard classify {}", l.asked),
        cwd: String::new(),
        target: Some(l.display.clone()),
        environment: "production".into(),
        confirm: confirm.to_string(),
        plan_text: plan_text.to_string(),
        agent: crate::plan::agent_in_env().map(str::to_string),
        lower: Some(l.clone()),
        mac: None,
        db_token: None,
        db_guard: None,
    })
}

fn pending_of(r: &Record) -> Pending {
    Pending {
        code: r.code.clone(),
        expires_unix: r.expires_unix,
        expires_at: crate::snapshot::store::rfc3339(r.expires_unix),
        sentence: sentence(&r.code),
    }
}

/// Use up the approval for exactly this plan, if a human gave one and it has not expired.
/// Single use: of two concurrent callers, only one gets it.
pub fn consume(plan: &Plan) -> anyhow::Result<Option<Approved>> {
    consume_in(&dir(), &plan.fingerprint(), None)
}

/// `consume`, but only the approval with this code: for doors where the caller names the
/// code (MCP's `db_execute`), so a made-up code never rides on someone else's approval.
pub fn consume_code(plan: &Plan, code: &str) -> anyhow::Result<Option<Approved>> {
    let Some(code) = normalize_code(code) else {
        return Ok(None);
    };
    consume_in(&dir(), &plan.fingerprint(), Some(&code))
}

fn consume_in(dir: &Path, fingerprint: &str, code: Option<&str>) -> anyhow::Result<Option<Approved>> {
    let now = now_unix();
    for r in load_all(dir)? {
        if r.status != Status::Approved
            || r.fingerprint != fingerprint
            || r.expires_unix <= now
            || r.lower.is_some()
            || code.is_some_and(|c| c != r.code)
            || used_marker(dir, &r.code).exists()
        {
            continue;
        }
        let path = file_of(dir, &r.code);
        let claimed = dir.join(format!(".used-{}-{}", r.code, std::process::id()));
        // rename(2) is atomic: whoever renames the file owns the approval.
        if std::fs::rename(&path, &claimed).is_ok() {
            // A copy of the approved file put back later must not approve a second time.
            let _ = std::fs::write(used_marker(dir, &r.code), r.expires_unix.to_string());
            let _ = std::fs::remove_file(&claimed);
            return Ok(Some(Approved {
                db_token: r.db_token.filter(|_| r.db_guard.is_some()),
                code: r.code,
                approved_unix: r.approved_unix.unwrap_or(now),
            }));
        }
    }
    Ok(None)
}

/// Valid (unexpired) approvals, pending and approved, oldest first. Removes expired ones.
pub fn list() -> anyhow::Result<Vec<Record>> {
    list_in(&dir())
}

fn list_in(dir: &Path) -> anyhow::Result<Vec<Record>> {
    let now = now_unix();
    forget_used_markers(dir, now);
    let mut out = Vec::new();
    for r in load_all(dir)? {
        if r.expires_unix <= now {
            let _ = std::fs::remove_file(file_of(dir, &r.code));
        } else {
            out.push(r);
        }
    }
    out.sort_by_key(|r| r.created_unix);
    Ok(out)
}

/// The unexpired record for a code, if any.
pub fn get(code: &str) -> anyhow::Result<Option<Record>> {
    get_in(&dir(), code)
}

fn get_in(dir: &Path, code: &str) -> anyhow::Result<Option<Record>> {
    let code = normalize_code(code).ok_or_else(|| anyhow!("{code:?} is not an approval code (like K7Q-4MZ)"))?;
    let path = file_of(dir, &code);
    if !path.exists() {
        return Ok(None);
    }
    let r = read_record(&path)?;
    Ok((r.expires_unix > now_unix()).then_some(r))
}

/// Mark a pending code approved (the caller has checked for a person and the typed name).
/// The approval is then valid for [`ttl`] from now.
pub fn mark_approved(code: &str) -> anyhow::Result<Record> {
    mark_approved_in(&dir(), code, ttl())
}

fn mark_approved_in(dir: &Path, code: &str, ttl: Duration) -> anyhow::Result<Record> {
    let mut r = get_in(dir, code)?.ok_or_else(|| anyhow!("no pending approval {code} (expired, denied or used?)"))?;
    if r.status == Status::Approved {
        return Ok(r);
    }
    let now = now_unix();
    r.status = Status::Approved;
    r.approved_unix = Some(now);
    r.expires_unix = now + ttl.as_secs() as i64;
    write_record(dir, &r)?;
    Ok(r)
}

/// Discard a code. True when there was one.
pub fn deny(code: &str) -> anyhow::Result<bool> {
    deny_in(&dir(), code)
}

fn deny_in(dir: &Path, code: &str) -> anyhow::Result<bool> {
    let code = normalize_code(code).ok_or_else(|| anyhow!("{code:?} is not an approval code (like K7Q-4MZ)"))?;
    match std::fs::remove_file(file_of(dir, &code)) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(anyhow!("cannot remove approval {code}: {e}")),
    }
}

fn file_of(dir: &Path, code: &str) -> PathBuf {
    dir.join(format!("{code}.json"))
}

/// Left by [`consume_in`] when a code is used; holds the code's expiry.
fn used_marker(dir: &Path, code: &str) -> PathBuf {
    dir.join(format!("{code}.used"))
}

/// Markers of codes that expired a day ago or more are no longer needed.
fn forget_used_markers(dir: &Path, now: i64) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".used") {
            continue;
        }
        let expired = std::fs::read_to_string(e.path())
            .ok()
            .and_then(|t| t.trim().parse::<i64>().ok())
            .is_none_or(|exp| exp + MAX_TTL.as_secs() as i64 <= now);
        if expired {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// A record as stored, if dbguard signed it; an error says why not.
fn read_record(path: &Path) -> anyhow::Result<Record> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not a valid approval", path.display()))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let secret = crate::signing::secret_for(dir)?;
    if !crate::signing::verify_with(&secret, crate::signing::Kind::Approval, &value) {
        bail!(
            "{} was changed or written outside dbguard (its signature does not match): it approves nothing",
            path.display()
        );
    }
    serde_json::from_value(value).with_context(|| format!("{} is not a valid approval", path.display()))
}

/// Approval files whose signature does not match (edited or written outside dbguard), for
/// `dbguard approvals` and `dbguard run` to report. They approve nothing.
pub fn rejected() -> Vec<PathBuf> {
    rejected_in(&dir())
}

fn rejected_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter(|p| read_record(p).is_err())
        .collect();
    out.sort();
    out
}

fn load_all(dir: &Path) -> anyhow::Result<Vec<Record>> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => bail!("cannot read {}: {e}", dir.display()),
    };
    let mut out = Vec::new();
    for entry in rd.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(code) = name.strip_suffix(".json") else {
            continue;
        };
        if normalize_code(code).as_deref() != Some(code) {
            continue;
        }
        // A file that cannot be read or parsed approves nothing.
        if let Ok(r) = read_record(&entry.path()) {
            if r.code == code {
                out.push(r);
            }
        }
    }
    Ok(out)
}

/// Sign and write atomically (temp file, then rename) with mode 0600.
fn write_record(dir: &Path, r: &Record) -> anyhow::Result<()> {
    let value = serde_json::to_value(r)?;
    crate::signing::write_signed(crate::signing::Kind::Approval, &file_of(dir, &r.code), value)
        .with_context(|| format!("cannot store approval {}", r.code))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn record(dir: &Path, code: &str, fp: &str, status: Status, expires: i64) {
        let r = Record {
            code: code.into(),
            fingerprint: fp.into(),
            status,
            created_unix: now_unix(),
            expires_unix: expires,
            approved_unix: None,
            command: "x".into(),
            cwd: "/".into(),
            target: None,
            environment: "development".into(),
            confirm: "db".into(),
            plan_text: String::new(),
            agent: None,
            lower: None,
            mac: None,
            db_token: None,
            db_guard: None,
        };
        write_record(dir, &r).unwrap();
    }

    #[test]
    fn codes() {
        for _ in 0..200 {
            let c = new_code();
            assert_eq!(normalize_code(&c).as_deref(), Some(c.as_str()));
            assert_eq!(c.len(), 7);
        }
        assert_eq!(normalize_code("k7q4mz").as_deref(), Some("K7Q-4MZ"));
        assert_eq!(normalize_code(" K7Q-4MZ ").as_deref(), Some("K7Q-4MZ"));
        assert_eq!(normalize_code("K7Q-4M0"), None);
        assert_eq!(normalize_code("../../x"), None);
    }

    #[test]
    fn single_use_bound_and_expiring() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("approvals");
        private_dir(&dir).unwrap();
        let now = now_unix();
        record(&dir, "AAA-222", "fp1", Status::Pending, now + 600);
        // Pending is not approved.
        assert!(consume_in(&dir, "fp1", None).unwrap().is_none());
        let r = mark_approved_in(&dir, "aaa222", Duration::from_secs(600)).unwrap();
        assert_eq!(r.status, Status::Approved);
        // Naming another code does not use it.
        assert!(consume_in(&dir, "fp1", Some("ZZZ-999")).unwrap().is_none());
        // Another plan does not match.
        assert!(consume_in(&dir, "fp2", None).unwrap().is_none());
        assert_eq!(
            consume_in(&dir, "fp1", None).unwrap().map(|a| a.code).as_deref(),
            Some("AAA-222")
        );
        // Used up.
        assert!(consume_in(&dir, "fp1", None).unwrap().is_none());
        // Expired approvals approve nothing and are cleaned by list.
        record(&dir, "BBB-333", "fp1", Status::Approved, now - 1);
        assert!(consume_in(&dir, "fp1", None).unwrap().is_none());
        assert!(list_in(&dir).unwrap().is_empty());
        assert!(!dir.join("BBB-333.json").exists());
        // Deny removes.
        record(&dir, "CCC-444", "fp3", Status::Pending, now + 600);
        assert!(deny_in(&dir, "CCC-444").unwrap());
        assert!(!deny_in(&dir, "CCC-444").unwrap());
        assert!(mark_approved_in(&dir, "CCC-444", Duration::from_secs(60)).is_err());
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }

    #[test]
    fn edited_or_hand_written_files_approve_nothing() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("approvals");
        private_dir(&dir).unwrap();
        let now = now_unix();
        record(&dir, "EEE-666", "fp", Status::Pending, now + 600);
        // An agent's file tool turns pending into approved.
        let path = dir.join("EEE-666.json");
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace("\"pending\"", "\"approved\"")).unwrap();
        assert!(consume_in(&dir, "fp", None).unwrap().is_none());
        assert!(get_in(&dir, "EEE-666").is_err());
        assert_eq!(rejected_in(&dir), vec![path.clone()]);
        // A script writes a record from scratch (no signature, or a made-up one).
        let mut v: serde_json::Value = serde_json::from_str(&text.replace("\"pending\"", "\"approved\"")).unwrap();
        v["code"] = "FFF-777".into();
        v["mac"] = "00".repeat(32).into();
        std::fs::write(dir.join("FFF-777.json"), v.to_string()).unwrap();
        assert!(consume_in(&dir, "fp", None).unwrap().is_none());
        assert_eq!(rejected_in(&dir).len(), 2);
        // A genuine approval, used once; its file restored afterwards approves nothing.
        record(&dir, "GGG-888", "fp2", Status::Pending, now + 600);
        mark_approved_in(&dir, "GGG-888", Duration::from_secs(600)).unwrap();
        let saved = std::fs::read(dir.join("GGG-888.json")).unwrap();
        assert!(consume_in(&dir, "fp2", None).unwrap().is_some());
        std::fs::write(dir.join("GGG-888.json"), saved).unwrap();
        assert!(consume_in(&dir, "fp2", None).unwrap().is_none());
    }

    #[test]
    fn file_modes() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("approvals");
        private_dir(&dir).unwrap();
        record(&dir, "DDD-555", "fp", Status::Pending, now_unix() + 60);
        let mode = std::fs::metadata(dir.join("DDD-555.json"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
    }
}
