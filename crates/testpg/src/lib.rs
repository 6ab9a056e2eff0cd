//! Throwaway PostgreSQL clusters for tests and benchmarks.
//!
//! `Cluster::start()` runs `initdb` and `pg_ctl start` from the installed PostgreSQL
//! (found on PATH or under `/usr/lib/postgresql/*/bin`) in a fresh temp dir, listening
//! on 127.0.0.1 at a free port with trust authentication for the `postgres` superuser.
//! `initdb` refuses to run as root, so as root the cluster runs as an unprivileged
//! user (`TESTPG_USER`, else `postgres`, else `nobody`) through `runuser`.
//!
//! A watchdog process stops the cluster and removes its directory when the process
//! that started it exits, so a shared cluster held in a `static` never leaks.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub struct Cluster {
    pub port: u16,
    pub bin_dir: PathBuf,
    pub data_dir: PathBuf,
    run_as: Option<String>,
    _dir: tempfile::TempDir,
}

/// Directory holding `initdb`, `pg_ctl`, `psql`, `pg_dump`...
pub fn pg_bin_dir() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("TESTPG_BIN_DIR") {
        return Some(PathBuf::from(dir));
    }
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    // Newest major version first.
    candidates.sort_by_key(|p| {
        std::cmp::Reverse(
            p.parent()
                .and_then(|v| v.file_name())
                .and_then(|v| v.to_str())
                .and_then(|v| v.parse::<u32>().ok())
                .unwrap_or(0),
        )
    });
    for c in candidates {
        if c.join("initdb").exists() && c.join("pg_ctl").exists() {
            return Some(c);
        }
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).find(|p| p.join("initdb").exists() && p.join("pg_ctl").exists())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn pick_user() -> String {
    if let Ok(u) = std::env::var("TESTPG_USER") {
        return u;
    }
    let has = |u: &str| {
        Command::new("id")
            .arg(u)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    };
    if has("postgres") {
        "postgres".into()
    } else {
        "nobody".into()
    }
}

impl Cluster {
    /// Start a new cluster. Panics with a clear message when PostgreSQL is missing.
    pub fn start() -> Cluster {
        Cluster::start_with(false)
    }

    /// A cluster that accepts TCP connections only over TLS (`hostnossl ... reject`), with
    /// a server certificate for `localhost` signed by a throwaway CA (`ca_cert()`), made
    /// with the `openssl` command.
    pub fn start_tls() -> Cluster {
        Cluster::start_with(true)
    }

    /// The CA that signed a `start_tls` cluster's certificate (PEM).
    pub fn ca_cert(&self) -> PathBuf {
        self._dir.path().join("tls").join("ca.crt")
    }

    fn make_certificates(&self) -> String {
        let tls = self._dir.path().join("tls");
        std::fs::create_dir_all(&tls).expect("tls dir");
        std::fs::write(tls.join("san.ext"), "subjectAltName=DNS:localhost\n").expect("san.ext");
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
        let run = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(&tls)
                .output()
                .expect("run openssl (apt-get install openssl)");
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let mut ca = vec![
            "req",
            "-x509",
            "-days",
            "2",
            "-subj",
            "/CN=testpg CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
        ];
        ca.extend(ec);
        run(&ca);
        let mut req = vec![
            "req",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ];
        req.extend(ec);
        run(&req);
        run(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "san.ext",
            "-out",
            "server.crt",
        ]);
        let key = tls.join("server.key");
        std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).expect("chmod key");
        if let Some(user) = &self.run_as {
            let st = Command::new("chown")
                .arg("-R")
                .arg(user)
                .arg(&tls)
                .status()
                .expect("chown");
            assert!(st.success());
        }
        std::fs::write(
            self.data_dir.join("pg_hba.conf"),
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\n",
        )
        .expect("pg_hba.conf");
        format!(
            " -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
            tls.join("server.crt").display(),
            key.display()
        )
    }

    fn start_with(tls: bool) -> Cluster {
        let bin_dir = pg_bin_dir()
            .expect("PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or in /usr/lib/postgresql/*/bin");
        let dir = tempfile::Builder::new().prefix("testpg-").tempdir().expect("temp dir");
        let run_as = if is_root() { Some(pick_user()) } else { None };
        if let Some(user) = &run_as {
            let status = Command::new("chown")
                .arg("-R")
                .arg(user)
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(status.success(), "chown of the test cluster dir to {user} failed");
        }
        let data_dir = dir.path().join("data");
        let port = free_port();
        let cluster = Cluster {
            port,
            bin_dir,
            data_dir,
            run_as,
            _dir: dir,
        };
        let out = cluster
            .pg_cmd("initdb")
            .args([
                "-D",
                cluster.data_dir.to_str().unwrap(),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--locale=C",
            ])
            .output()
            .expect("run initdb");
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let sock = cluster.socket_dir();
        let mut opts = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=60 -c shared_buffers=64MB",
            sock.display()
        );
        if tls {
            opts.push_str(&cluster.make_certificates());
        }
        let log = cluster._dir.path().join("log");
        let out = cluster
            .pg_cmd("pg_ctl")
            .args([
                "-D",
                cluster.data_dir.to_str().unwrap(),
                "-l",
                log.to_str().unwrap(),
                "-o",
                &opts,
                "-w",
                "-t",
                "60",
                "start",
            ])
            .stdout(Stdio::null())
            .output()
            .expect("run pg_ctl");
        assert!(
            out.status.success(),
            "pg_ctl start failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        cluster.spawn_watchdog();
        cluster
    }

    /// One cluster per test process, started on first use.
    pub fn shared() -> &'static Cluster {
        static SHARED: OnceLock<Cluster> = OnceLock::new();
        SHARED.get_or_init(Cluster::start)
    }

    fn socket_dir(&self) -> PathBuf {
        self._dir.path().to_path_buf()
    }

    /// A command for one of the PostgreSQL binaries, run as the cluster's owner.
    pub fn pg_cmd(&self, name: &str) -> Command {
        let exe = self.bin_dir.join(name);
        match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(exe);
                c
            }
            None => Command::new(exe),
        }
    }

    fn spawn_watchdog(&self) {
        let me = std::process::id();
        let pg_ctl = self.bin_dir.join("pg_ctl");
        let stop = match &self.run_as {
            Some(u) => format!(
                "runuser -u {u} -- {} -D {} -m immediate stop",
                pg_ctl.display(),
                self.data_dir.display()
            ),
            None => format!("{} -D {} -m immediate stop", pg_ctl.display(), self.data_dir.display()),
        };
        let script = format!(
            "while kill -0 {me} 2>/dev/null; do sleep 0.5; done; {stop} >/dev/null 2>&1; rm -rf {}",
            self._dir.path().display()
        );
        let _ = Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
    }

    /// URL of a database in this cluster (does not create it).
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// Run SQL through psql against `db`, panicking with psql's message on error.
    pub fn psql(&self, db: &str, sql: &str) -> String {
        let out = Command::new(self.bin_dir.join("psql"))
            .args([
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                db,
                "-c",
                sql,
            ])
            .output()
            .expect("run psql");
        assert!(
            out.status.success(),
            "psql failed on {db}: {}\nSQL: {sql}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Create a fresh, uniquely named database and return its name.
    pub fn create_db(&self, prefix: &str) -> String {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!("{prefix}_{}_{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst));
        self.psql("postgres", &format!("CREATE DATABASE \"{name}\""));
        name
    }

    pub fn stop(&self) {
        let _ = self
            .pg_cmd("pg_ctl")
            .args(["-D", self.data_dir.to_str().unwrap(), "-m", "immediate", "stop"])
            .output();
    }

    pub fn dir(&self) -> &Path {
        self._dir.path()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Wait until `f` returns true or the timeout passes.
pub fn wait_for(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_and_answers() {
        let c = Cluster::shared();
        let db = c.create_db("t");
        c.psql(&db, "CREATE TABLE x(a int); INSERT INTO x VALUES (1),(2)");
        assert_eq!(c.psql(&db, "SELECT count(*) FROM x"), "2");
    }
}
