//! Scratch databases: throwaway PostgreSQL databases for Prisma's shadow, rehearsals and
//! drift checks, made by dbguard itself.
//!
//! Where, in order:
//! 1. `CREATE DATABASE dbguard_scratch_<random>` on the target's own server, when that
//!    server is not production and the role may create databases;
//! 2. otherwise a private temporary cluster: `initdb` + `pg_ctl` from the installed
//!    PostgreSQL of the same major version, in a 0700 folder, on 127.0.0.1 at a free port
//!    with a random password; a watchdog stops it and removes the folder when dbguard
//!    exits, however it exits.
//!
//! Never on a production server; never a database that holds tables (checked after it
//! is made); dropped when done, on errors, and on Ctrl-C (SIGINT/SIGTERM/SIGHUP are
//! caught while scratch databases exist and turn into an error that unwinds through
//! `Drop`). A scratch database left by a process that died (`kill -9`) is dropped by the
//! next run on the same machine: each carries a comment with its pid and host.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::sync::Mutex;

use anyhow::{anyhow, bail, Context};
use dbguard_core::redact::redact_url;
use dbguard_core::Environment;

use super::pg::Pg;
use crate::snapshot::pg::{quote_ident, quote_literal, with_database};
use crate::target::ResolvedTarget;

/// Scratch database names start with this.
pub const PREFIX: &str = "dbguard_scratch_";
const COMMENT_PREFIX: &str = "dbguard scratch";

static INTERRUPTED: AtomicI32 = AtomicI32::new(0);
/// How many holders want signals caught, and the handlers to put back after the last.
static HOLDERS: AtomicUsize = AtomicUsize::new(0);
static SAVED: Mutex<Vec<(libc::c_int, libc::sigaction)>> = Mutex::new(Vec::new());
const CAUGHT: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

extern "C" fn note_signal(sig: libc::c_int) {
    INTERRUPTED.store(sig, Ordering::SeqCst);
}

/// While one of these lives, SIGINT, SIGTERM and SIGHUP no longer kill dbguard at once:
/// they are noted, the next [`check_interrupted`] turns them into an error (so scratch
/// databases and clusters are dropped on the way out), and when the last guard goes the
/// previous handlers come back and a noted signal is raised again, so the process ends
/// the way it was asked to. A tool running in the foreground gets the terminal's Ctrl-C
/// itself and ends.
pub struct InterruptGuard(());

impl InterruptGuard {
    pub fn new() -> InterruptGuard {
        if HOLDERS.fetch_add(1, Ordering::SeqCst) == 0 {
            let mut saved = SAVED.lock().unwrap_or_else(|e| e.into_inner());
            saved.clear();
            for sig in CAUGHT {
                // SAFETY: a handler that only stores to an atomic (async-signal-safe); the
                // previous action is kept to be put back.
                unsafe {
                    let mut action: libc::sigaction = std::mem::zeroed();
                    action.sa_sigaction = note_signal as *const () as usize;
                    action.sa_flags = libc::SA_RESTART;
                    libc::sigemptyset(&mut action.sa_mask);
                    let mut old: libc::sigaction = std::mem::zeroed();
                    if libc::sigaction(sig, &action, &mut old) == 0 {
                        saved.push((sig, old));
                    }
                }
            }
        }
        InterruptGuard(())
    }
}

impl Default for InterruptGuard {
    fn default() -> Self {
        InterruptGuard::new()
    }
}

impl Drop for InterruptGuard {
    fn drop(&mut self) {
        if HOLDERS.fetch_sub(1, Ordering::SeqCst) != 1 {
            return;
        }
        let saved = std::mem::take(&mut *SAVED.lock().unwrap_or_else(|e| e.into_inner()));
        for (sig, old) in saved {
            // SAFETY: putting back the action sigaction gave us.
            unsafe {
                libc::sigaction(sig, &old, std::ptr::null_mut());
            }
        }
        let sig = INTERRUPTED.swap(0, Ordering::SeqCst);
        if sig != 0 {
            // SAFETY: raise(3) with the signal that was delivered to us.
            unsafe {
                libc::raise(sig);
            }
        }
    }
}

/// An error when a signal arrived (see [`InterruptGuard`]), here or while a tool ran.
pub fn check_interrupted() -> anyhow::Result<()> {
    if let Some(sig) = crate::exec::take_received_signal() {
        if HOLDERS.load(Ordering::SeqCst) > 0 {
            INTERRUPTED.store(sig, Ordering::SeqCst);
        }
    }
    let sig = INTERRUPTED.load(Ordering::SeqCst);
    if sig != 0 {
        bail!("interrupted (signal {sig}); scratch databases are being dropped");
    }
    Ok(())
}

enum Place {
    /// On a server dbguard does not own: drop the database through this admin URL.
    Server { admin_url: String },
    /// In dbguard's own temporary cluster: stop it and remove its folder.
    Cluster(TempCluster),
}

/// A scratch database; dropped (or its cluster stopped) when this goes out of scope.
pub struct Scratch {
    /// Connection URL (with credentials: never print it; use `shown`).
    pub url: String,
    pub name: String,
    /// Where it lives, for people.
    pub shown: String,
    place: Place,
    done: bool,
    // Last: dropped after the cleanup, when it may raise a noted signal again.
    _interrupts: InterruptGuard,
}

impl Scratch {
    /// A new, empty scratch database near `target` (see the module comment for where).
    /// `target: None` (or an unreachable one when `allow_unreachable`) means a private cluster
    /// of the newest installed PostgreSQL.
    pub fn create(target: Option<&ResolvedTarget>, allow_unreachable: bool) -> anyhow::Result<Scratch> {
        let guard = InterruptGuard::new();
        let Some(url) = target.and_then(|t| t.url.as_deref()) else {
            return Scratch::in_cluster(None, guard);
        };
        let admin = match admin_for(url) {
            Ok(a) => a,
            Err(_) if allow_unreachable => return Scratch::in_cluster(None, guard),
            Err(e) => return Err(e),
        };
        let major = admin.pg.major()?;
        let production = target.is_some_and(|t| t.environment == Environment::Production);
        if !production && can_create(&admin.pg) {
            drop_orphans(&admin.pg);
            let name = new_name();
            create_db(&admin.pg, &name, None)?;
            let s = Scratch {
                url: with_database(&super::pg::libpq_url(url).0, &name)?,
                shown: format!("{name} on {}", server_of(url)),
                name,
                place: Place::Server {
                    admin_url: admin.url.clone(),
                },
                done: false,
                _interrupts: guard,
            };
            s.ensure_empty()?;
            return Ok(s);
        }
        Scratch::in_cluster(Some(major), guard)
    }

    /// A copy of the target's database made with `CREATE DATABASE ... TEMPLATE` on its own
    /// server, when allowed there (not production, CREATEDB, no other sessions); `Ok(None)`
    /// otherwise (with why).
    pub fn clone_of(target: &ResolvedTarget, name: &str) -> anyhow::Result<Result<Scratch, String>> {
        let guard = InterruptGuard::new();
        let url = target.url.as_deref().ok_or_else(|| anyhow!("no connection URL"))?;
        if target.environment == Environment::Production {
            return Ok(Err(
                "the target is production: no scratch database goes on its server".into()
            ));
        }
        let admin = admin_for(url)?;
        if !can_create(&admin.pg) {
            return Ok(Err("the role may not create databases on the target's server".into()));
        }
        let db = crate::snapshot::pg::conn_facts(&super::pg::libpq_url(url).0)?.database;
        let others = admin.pg.query_opt(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            &[&db],
        )?;
        let n: i64 = others.map(|r| r.get(0)).unwrap_or(1);
        if n > 0 {
            return Ok(Err(format!(
                "{n} other session(s) are connected to {db}, which prevents a TEMPLATE copy"
            )));
        }
        drop_orphans(&admin.pg);
        let name = name.to_string();
        if let Err(e) = create_db(&admin.pg, &name, Some(&db)) {
            return Ok(Err(format!("{e:#}")));
        }
        Ok(Ok(Scratch {
            url: clone_url(target, &name)?,
            shown: format!("{name} (a TEMPLATE copy of {db}) on {}", server_of(url)),
            name,
            place: Place::Server { admin_url: admin.url },
            done: false,
            _interrupts: guard,
        }))
    }

    fn in_cluster(major: Option<u32>, guard: InterruptGuard) -> anyhow::Result<Scratch> {
        let cluster = TempCluster::start(major)?;
        let admin = Pg::connect(&cluster.url("postgres"))?;
        let name = new_name();
        create_db(&admin, &name, None)?;
        Ok(Scratch {
            url: cluster.url(&name),
            shown: format!(
                "{name} in a private temporary cluster (PostgreSQL {}, {})",
                cluster.major,
                cluster.dir.display()
            ),
            name,
            place: Place::Cluster(cluster),
            done: false,
            _interrupts: guard,
        })
    }

    fn ensure_empty(&self) -> anyhow::Result<()> {
        let pg = Pg::connect(&self.url)?;
        let n = pg.table_count(&[])?;
        if n > 0 {
            bail!(
                "the new scratch database {} holds {n} table(s) (copied from template1): dbguard does not use a database that holds tables",
                self.name
            );
        }
        Ok(())
    }

    /// Drop it now, reporting failure (Drop only tries).
    pub fn finish(mut self) -> anyhow::Result<()> {
        self.done = true;
        self.cleanup()
    }

    fn cleanup(&mut self) -> anyhow::Result<()> {
        match &mut self.place {
            Place::Server { admin_url } => {
                let admin = Pg::connect(admin_url)?;
                let force = admin.major().map(|m| m >= 13).unwrap_or(false);
                admin.exec(&format!(
                    "DROP DATABASE IF EXISTS {}{}",
                    quote_ident(&self.name),
                    if force { " WITH (FORCE)" } else { "" }
                ))
            }
            Place::Cluster(c) => {
                c.stop();
                Ok(())
            }
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !self.done {
            self.done = true;
            if let Err(e) = self.cleanup() {
                eprintln!(
                    "dbguard: warning: could not drop the scratch database {}: {}; drop it with `DROP DATABASE \"{}\"` (the next dbguard migrate run on this machine also tries)",
                    self.name,
                    dbguard_core::redact::redact_text(&format!("{e:#}")),
                    self.name
                );
            }
        }
    }
}

struct Admin {
    url: String,
    pg: Pg,
}

/// A connection to the target server's maintenance database.
fn admin_for(url: &str) -> anyhow::Result<Admin> {
    let base = super::pg::libpq_url(url).0;
    let mut last = None;
    for db in ["postgres", "template1"] {
        let u = with_database(&base, db)?;
        match Pg::connect(&u) {
            Ok(pg) => return Ok(Admin { url: u, pg }),
            Err(e) => last = Some(e),
        }
    }
    // Not even the maintenance databases: try the target itself, for the error message.
    match Pg::connect(&base) {
        Ok(pg) => Ok(Admin { url: base, pg }),
        Err(e) => Err(last.map(|l| l.context(format!("{e:#}"))).unwrap_or(e)),
    }
}

fn can_create(pg: &Pg) -> bool {
    pg.query_opt(
        "SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user",
        &[],
    )
    .ok()
    .flatten()
    .map(|r| r.get::<_, bool>(0))
    .unwrap_or(false)
}

/// The URL a TEMPLATE copy named `name` of the target will have.
pub fn clone_url(target: &ResolvedTarget, name: &str) -> anyhow::Result<String> {
    let url = target.url.as_deref().ok_or_else(|| anyhow!("no connection URL"))?;
    with_database(&super::pg::libpq_url(url).0, name)
}

/// A fresh scratch database name.
pub fn new_name() -> String {
    let mut b = [0u8; 6];
    crate::audit::fill_random(&mut b);
    format!("{PREFIX}{}", b.iter().map(|x| format!("{x:02x}")).collect::<String>())
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

fn create_db(admin: &Pg, name: &str, template: Option<&str>) -> anyhow::Result<()> {
    let template_sql = match template {
        Some(t) => {
            let file_copy = admin.major().map(|m| m >= 15).unwrap_or(false);
            format!(
                " TEMPLATE {}{}",
                quote_ident(t),
                if file_copy { " STRATEGY FILE_COPY" } else { "" }
            )
        }
        None => String::new(),
    };
    admin
        .batch(&format!("CREATE DATABASE {}{template_sql}", quote_ident(name)))
        .map_err(|e| {
            let user = admin
                .query_opt("SELECT current_user::text", &[])
                .ok()
                .flatten()
                .map(|r| r.get::<_, String>(0))
                .unwrap_or_default();
            crate::snapshot::pg::create_db_error(
                &e,
                &format!("creating the scratch database {name}"),
                &user,
                "or install the PostgreSQL server programs of the same major version, which dbguard then uses for a private scratch cluster",
            )
        })?;
    let comment = format!(
        "{COMMENT_PREFIX} pid={} host={} (dropped when dbguard migrate is done)",
        std::process::id(),
        hostname()
    );
    admin.exec(&format!(
        "COMMENT ON DATABASE {} IS {}",
        quote_ident(name),
        quote_literal(&comment)
    ))?;
    Ok(())
}

/// Drop scratch databases whose dbguard process on this machine is gone.
fn drop_orphans(admin: &Pg) {
    let Ok(rows) = admin.query(
        "SELECT d.datname::text, coalesce(shobj_description(d.oid, 'pg_database'), '') FROM pg_database d \
         WHERE d.datname LIKE 'dbguard\\_scratch\\_%'",
        &[],
    ) else {
        return;
    };
    let host = hostname();
    for r in rows {
        let (name, comment): (String, String) = (r.get(0), r.get(1));
        if !comment.starts_with(COMMENT_PREFIX) || !comment.contains(&format!(" host={host} ")) {
            continue;
        }
        let pid: Option<i32> = comment
            .split_whitespace()
            .find_map(|w| w.strip_prefix("pid="))
            .and_then(|p| p.parse().ok());
        let Some(pid) = pid else { continue };
        // SAFETY: kill(2) with signal 0 only checks whether the process exists.
        let alive =
            unsafe { libc::kill(pid, 0) } == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
        if !alive {
            let _ = admin.exec(&format!("DROP DATABASE IF EXISTS {}", quote_ident(&name)));
        }
    }
}

/// "host:port" of a URL, redacted.
fn server_of(url: &str) -> String {
    match crate::snapshot::pg::conn_facts(&super::pg::libpq_url(url).0) {
        Ok(f) => f.server_key,
        Err(_) => redact_url(url),
    }
}

/// dbguard's own temporary PostgreSQL cluster.
pub struct TempCluster {
    pub dir: PathBuf,
    pub port: u16,
    pub major: u32,
    password: String,
    bin: PathBuf,
    run_as: Option<String>,
    stopped: bool,
}

impl TempCluster {
    /// Start a cluster of PostgreSQL `major` (None: the newest installed).
    pub fn start(major: Option<u32>) -> anyhow::Result<TempCluster> {
        let (bin, found_major) = server_bin(major)?;
        let mut rnd = [0u8; 16];
        crate::audit::fill_random(&mut rnd);
        let tag: String = rnd[..6].iter().map(|x| format!("{x:02x}")).collect();
        let password: String = rnd[6..].iter().map(|x| format!("{x:02x}")).collect();
        let dir = std::env::temp_dir().join(format!("dbguard-scratch-{}-{tag}", std::process::id()));
        crate::audit::private_dir(&dir)?;
        let run_as = if unsafe { libc::geteuid() } == 0 {
            // initdb refuses to run as root: the cluster belongs to an unprivileged user.
            Some(if user_exists("postgres") { "postgres" } else { "nobody" }.to_string())
        } else {
            None
        };
        let mut c = TempCluster {
            dir: dir.clone(),
            port: 0,
            major: found_major,
            password: password.clone(),
            bin,
            run_as,
            stopped: false,
        };
        if let Some(u) = &c.run_as {
            let st = Command::new("chown").arg(u).arg(&dir).status();
            if !st.map(|s| s.success()).unwrap_or(false) {
                c.remove_dir();
                bail!("cannot hand {} to the user {u} for a scratch cluster", dir.display());
            }
        }
        let pwfile = dir.join("pw");
        let started = (|| -> anyhow::Result<()> {
            write_private(&pwfile, &password)?;
            if let Some(u) = &c.run_as {
                let _ = Command::new("chown").arg(u).arg(&pwfile).status();
            }
            let data = dir.join("data");
            let out = c
                .pg_cmd("initdb")
                .args(["-D"])
                .arg(&data)
                .args([
                    "-U",
                    "dbguard",
                    "--auth=scram-sha-256",
                    "-E",
                    "UTF8",
                    "--no-sync",
                    "--no-locale",
                ])
                .arg(format!("--pwfile={}", pwfile.display()))
                .output()
                .context("running initdb for a scratch cluster")?;
            let _ = std::fs::remove_file(&pwfile);
            if !out.status.success() {
                bail!(
                    "initdb failed for a scratch cluster: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                );
            }
            c.port = free_port()?;
            let opts = format!(
                "-c listen_addresses=127.0.0.1 -p {} -c unix_socket_directories={} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=40",
                c.port,
                dir.display()
            );
            let log = dir.join("log");
            let out = c
                .pg_cmd("pg_ctl")
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(&log)
                .args(["-o", &opts, "-w", "-t", "60", "start"])
                .stdout(Stdio::null())
                .output()
                .context("running pg_ctl for a scratch cluster")?;
            if !out.status.success() {
                bail!(
                    "the scratch cluster did not start: {}\n{}",
                    String::from_utf8_lossy(&out.stderr).trim(),
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            c.spawn_watchdog();
            Ok(())
        })();
        if let Err(e) = started {
            c.stop();
            return Err(e);
        }
        Ok(c)
    }

    pub fn url(&self, db: &str) -> String {
        format!("postgres://dbguard:{}@127.0.0.1:{}/{db}", self.password, self.port)
    }

    fn pg_cmd(&self, name: &str) -> Command {
        let exe = self.bin.join(name);
        match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(exe);
                c
            }
            None => Command::new(exe),
        }
    }

    fn stop_command(&self) -> String {
        let pg_ctl = self.bin.join("pg_ctl");
        let base = format!(
            "{} -D {} -m immediate stop",
            pg_ctl.display(),
            self.dir.join("data").display()
        );
        match &self.run_as {
            Some(u) => format!("runuser -u {u} -- {base}"),
            None => base,
        }
    }

    /// A process that stops the cluster and removes its folder once dbguard is gone, so
    /// that not even `kill -9` leaves a server running.
    fn spawn_watchdog(&self) {
        let script = format!(
            "while kill -0 {} 2>/dev/null; do sleep 0.5; done; {} >/dev/null 2>&1; rm -rf '{}'",
            std::process::id(),
            self.stop_command(),
            self.dir.display()
        );
        let _ = Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
    }

    fn remove_dir(&self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }

    pub fn stop(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        if self.dir.join("data").join("postmaster.pid").exists() {
            let _ = self
                .pg_cmd("pg_ctl")
                .arg("-D")
                .arg(self.dir.join("data"))
                .args(["-m", "immediate", "stop"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        self.remove_dir();
    }
}

impl Drop for TempCluster {
    fn drop(&mut self) {
        self.stop();
    }
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

fn user_exists(u: &str) -> bool {
    Command::new("id")
        .arg(u)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port for a scratch cluster")?;
    Ok(l.local_addr()?.port())
}

/// The server programs (initdb, pg_ctl) of `major`, or the newest installed.
fn server_bin(major: Option<u32>) -> anyhow::Result<(PathBuf, u32)> {
    let mut found: Vec<(u32, PathBuf)> = Vec::new();
    if let Some(dir) = std::env::var_os("DBGUARD_PG_BIN") {
        let d = PathBuf::from(dir);
        if let Some(m) = initdb_major(&d) {
            found.push((m, d));
        }
    }
    if let Ok(rd) = std::fs::read_dir("/usr/lib/postgresql") {
        for e in rd.flatten() {
            let d = e.path().join("bin");
            if let Some(m) = initdb_major(&d) {
                found.push((m, d));
            }
        }
    }
    if let Some(path) = std::env::var_os("PATH") {
        for d in std::env::split_paths(&path) {
            if let Some(m) = initdb_major(&d) {
                found.push((m, d));
            }
        }
    }
    found.sort_by_key(|(m, _)| std::cmp::Reverse(*m));
    let pick = match major {
        Some(m) => found.iter().find(|(fm, _)| *fm == m),
        None => found.first(),
    };
    match pick {
        Some((m, d)) => Ok((d.clone(), *m)),
        None => {
            let want = major
                .map(|m| format!("PostgreSQL {m}"))
                .unwrap_or_else(|| "PostgreSQL".into());
            let have: Vec<String> = found.iter().map(|(m, _)| m.to_string()).collect();
            bail!(
                "dbguard needs a scratch database and may not create one on the target's server (production, or no \
CREATEDB), and the {want} server programs (initdb, pg_ctl) for a private scratch cluster are not installed{}. Install them \
(e.g. `apt-get install postgresql-{}`), or set DBGUARD_PG_BIN to their folder, or grant the role CREATEDB on a development server",
                if have.is_empty() {
                    String::new()
                } else {
                    format!(" (installed: {})", have.join(", "))
                },
                major.map(|m| m.to_string()).unwrap_or_else(|| "<version>".into())
            )
        }
    }
}

fn initdb_major(dir: &Path) -> Option<u32> {
    if !dir.join("initdb").is_file() || !dir.join("pg_ctl").is_file() {
        return None;
    }
    // /usr/lib/postgresql/15/bin: the folder says it; else ask initdb.
    if let Some(m) = dir
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
        .and_then(|n| n.parse().ok())
    {
        return Some(m);
    }
    let out = Command::new(dir.join("initdb")).arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace().nth(2)?.split('.').next()?.parse().ok()
}
