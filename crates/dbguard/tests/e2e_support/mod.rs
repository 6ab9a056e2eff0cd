//! Shared helpers for `run_*.rs` and `e2e_*.rs`: the real `dbguard` binary in a controlled
//! environment (no agent variables unless a test sets them, its own DBGUARD_HOME and
//! dbguard.toml), a pseudo-terminal driver for the questions only a person may answer,
//! and the tests/e2e project (real Prisma and drizzle-kit from npm).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Drives a command inside a pseudo-terminal: types PTY_TYPEAHEAD at once if set (keys
/// sent before any question), answers each "Type ..." prompt with the next line of
/// PTY_ANSWERS (only after the prompt appeared), prints everything the command wrote, and
/// exits with its exit code.
pub const PTY_DRIVER: &str = r#"
import os, pty, sys, time, select
answers = [a for a in os.environ.get("PTY_ANSWERS", "").split("\n") if a != ""]
os.environ.pop("PTY_ANSWERS", None)
typeahead = os.environ.pop("PTY_TYPEAHEAD", "")
argv = sys.argv[1:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
if typeahead:
    os.write(fd, typeahead.encode() + b"\r")
out = b""
sent = 0
deadline = time.time() + 300
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.2)
    if fd in r:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        out += data
        if sent < len(answers) and out.count(b"Type ") > sent:
            time.sleep(0.2)
            os.write(fd, answers[sent].encode() + b"\r")
            sent += 1
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
sys.exit(os.waitstatus_to_exitcode(status))
"#;

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_dbguard"))
}

/// Variables that would change what dbguard or the tools decide: removed from every child.
const SCRUBBED: &[&str] = &[
    "DATABASE_URL",
    "DBGUARD_HOME",
    "DBGUARD_CONFIG",
    "DBGUARD_APPROVAL_TTL",
    "NODE_ENV",
    "RAILS_ENV",
    "APP_ENV",
    "PGHOST",
    "PGPORT",
    "PGUSER",
    "PGPASSWORD",
    "PGDATABASE",
    "PGSERVICE",
    "PRISMA_USER_CONSENT_FOR_DANGEROUS_AI_ACTION",
];

/// A command with agent variables and database-selecting variables removed.
pub fn clean(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut c = Command::new(program);
    for (v, _) in dbguard_core::agents::AGENT_VARIABLES {
        c.env_remove(v);
    }
    for v in SCRUBBED {
        c.env_remove(v);
    }
    c.env("CHECKPOINT_DISABLE", "1")
        .env("PRISMA_HIDE_UPDATE_MESSAGE", "1")
        .env("NO_COLOR", "1");
    c
}

/// One isolated dbguard world: a data dir and a dbguard.toml.
pub struct World {
    pub dir: tempfile::TempDir,
    pub home: PathBuf,
    pub config: PathBuf,
    pub env: Vec<(String, String)>,
}

impl World {
    pub fn new() -> World {
        let dir = tempfile::Builder::new()
            .prefix("dbguard-run-")
            .tempdir()
            .expect("temp dir");
        let home = dir.path().join("home");
        let config = dir.path().join("dbguard.toml");
        std::fs::write(&config, "").expect("write dbguard.toml");
        World {
            home,
            config,
            env: Vec::new(),
            dir,
        }
    }

    pub fn set_config(&self, text: &str) {
        std::fs::write(&self.config, text).expect("write dbguard.toml");
    }

    pub fn env(mut self, k: &str, v: &str) -> World {
        self.env.push((k.into(), v.into()));
        self
    }

    /// `dbguard ARGS` in `cwd`, no terminal (stdin null), output captured.
    pub fn dbguard(&self, cwd: &Path, args: &[&str]) -> Output {
        self.command(cwd, args)
            .stdin(Stdio::null())
            .output()
            .expect("run dbguard")
    }

    pub fn command(&self, cwd: &Path, args: &[&str]) -> Command {
        let mut c = clean(bin());
        c.args(args).current_dir(cwd);
        c.env("DBGUARD_HOME", &self.home).env("DBGUARD_CONFIG", &self.config);
        c.env("XDG_CONFIG_HOME", self.dir.path().join("xdg"));
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    /// `dbguard ARGS` inside a pseudo-terminal, answering prompts with `answers`.
    /// Returns (exit code, everything shown on the terminal).
    pub fn dbguard_pty(
        &self,
        cwd: &Path,
        args: &[&str],
        answers: &[&str],
        extra_env: &[(&str, &str)],
    ) -> (i32, String) {
        let mut c = clean("python3");
        c.arg("-c").arg(PTY_DRIVER).arg(bin()).args(args).current_dir(cwd);
        c.env("DBGUARD_HOME", &self.home).env("DBGUARD_CONFIG", &self.config);
        c.env("XDG_CONFIG_HOME", self.dir.path().join("xdg"));
        for (k, v) in &self.env {
            c.env(k, v);
        }
        for (k, v) in extra_env {
            c.env(k, v);
        }
        c.env("PTY_ANSWERS", answers.join("\n"));
        let out = c.stdin(Stdio::null()).output().expect("run python3 pty driver");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    }
}

pub fn json(out: &Output) -> serde_json::Value {
    let text = String::from_utf8_lossy(&out.stdout);
    if let Ok(v) = serde_json::from_str(&text) {
        return v;
    }
    // The object is the last top-level JSON value on stdout (the child's own output may precede it).
    let start = text
        .rfind("\n{\n")
        .map(|i| i + 1)
        .or_else(|| text.find('{'))
        .unwrap_or(0);
    serde_json::from_str(&text[start..]).unwrap_or_else(|e| {
        panic!(
            "no JSON on stdout ({e}):\n{text}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Run `cmd` with `input` on its stdin (a hook payload), capturing stdout and stderr.
pub fn with_stdin(cmd: &mut Command, input: &str) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning dbguard");
    // A child that exits without reading its stdin is not an error here: its output says why.
    let _ = child.stdin.take().expect("piped stdin").write_all(input.as_bytes());
    child.wait_with_output().expect("waiting for dbguard")
}

pub fn describe(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Every row of a table as JSON text, in a stable order (for comparing content).
pub fn rows(cluster: &testpg::Cluster, db: &str, table: &str) -> Vec<String> {
    let out = cluster.psql(
        db,
        &format!("SELECT row_to_json(t)::text FROM \"{table}\" t ORDER BY 1"),
    );
    out.lines().map(str::to_string).filter(|l| !l.is_empty()).collect()
}

pub fn table_exists(cluster: &testpg::Cluster, db: &str, table: &str) -> bool {
    cluster.psql(
        db,
        &format!("SELECT count(*) FROM pg_class WHERE relname = '{table}' AND relkind = 'r'"),
    ) == "1"
}

/// tests/e2e, with its npm packages installed (runs its idempotent setup.sh when needed).
pub fn e2e_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/e2e");
    let dir = dir.canonicalize().expect("tests/e2e exists");
    static SETUP: std::sync::Once = std::sync::Once::new();
    SETUP.call_once(|| {
        let status = Command::new("bash")
            .arg(dir.join("setup.sh"))
            .status()
            .expect("run tests/e2e/setup.sh");
        assert!(status.success(), "tests/e2e/setup.sh failed");
    });
    dir
}

/// A copy of the e2e project (Prisma or drizzle files) in tests/e2e/work/<name>, so that
/// node resolves tests/e2e/node_modules and concurrent tests share nothing else.
pub struct Project {
    pub dir: PathBuf,
}

impl Project {
    pub fn new(name: &str, entries: &[&str]) -> Project {
        let e2e = e2e_dir();
        let dir = e2e.join("work").join(format!("{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create project dir");
        for entry in entries {
            copy_tree(&e2e.join(entry), &dir.join(entry));
        }
        Project { dir }
    }

    /// `npx ARGS` in the project with DATABASE_URL, outside dbguard (for setting up).
    pub fn npx(&self, url: &str, args: &[&str]) -> Output {
        let out = clean("npx")
            .args(args)
            .current_dir(&self.dir)
            .env("DATABASE_URL", url)
            .stdin(Stdio::null())
            .output()
            .expect("run npx");
        assert!(out.status.success(), "npx {args:?} failed:\n{}", describe(&out));
        out
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn copy_tree(src: &Path, dst: &Path) {
    if src.is_dir() {
        std::fs::create_dir_all(dst).expect("mkdir");
        for e in std::fs::read_dir(src).expect("read dir").flatten() {
            copy_tree(&e.path(), &dst.join(e.file_name()));
        }
    } else {
        if let Some(p) = dst.parent() {
            std::fs::create_dir_all(p).expect("mkdir");
        }
        std::fs::copy(src, dst).unwrap_or_else(|e| panic!("copy {}: {e}", src.display()));
    }
}
