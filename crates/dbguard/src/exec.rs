//! Running the wrapped command: directly, with the terminal and stdio it would have had.
//!
//! Two ways: `replace` execs the command in place of dbguard (the non-destructive fast
//! path: no process stays behind, signals and the exit status are the command's own);
//! `spawn_and_wait_with` runs it as a child while dbguard waits to verify and log afterwards.
//! While the child runs, SIGINT/SIGTERM/SIGHUP/SIGQUIT sent to dbguard are forwarded to
//! it. Signals the terminal generates (Ctrl-C) already reach the whole foreground process
//! group, child included, so those are not sent twice; dbguard itself survives them to
//! verify and record what happened. The exit code is passed through (128+N for a child
//! killed by signal N, as shells report it).

use std::ffi::OsString;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::Command;
use std::sync::atomic::{AtomicI32, Ordering};

use anyhow::anyhow;

/// Exit code shells use for "command not found".
pub const NOT_FOUND: u8 = 127;
/// Exit code shells use for "found but not executable".
pub const NOT_EXECUTABLE: u8 = 126;

const FORWARDED: [libc::c_int; 4] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT];

static CHILD: AtomicI32 = AtomicI32::new(0);
/// A signal that arrived after the handlers were installed but before the child's pid was known.
static PENDING: AtomicI32 = AtomicI32::new(0);

/// How the child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChildExit {
    /// The code to pass through: the child's exit code, or 128+N when killed by signal N.
    pub code: u8,
    pub signal: Option<i32>,
}

/// Why the command could not be started, with the shell's exit code for it.
#[derive(Debug)]
pub struct SpawnError {
    pub code: u8,
    pub message: String,
}

impl std::fmt::Display for SpawnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SpawnError {}

/// `NAME=value` words before the program are variables for it, as in a shell.
fn assignment(word: &OsString) -> Option<(&str, &str)> {
    let s = word.to_str()?;
    let (name, value) = s.split_once('=')?;
    let mut chars = name.chars();
    let first = chars.next()?;
    if (first.is_ascii_alphabetic() || first == '_') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Some((name, value))
    } else {
        None
    }
}

fn command(argv: &[OsString]) -> anyhow::Result<Command> {
    let assignments = argv.iter().take_while(|w| assignment(w).is_some()).count();
    let rest = &argv[assignments..];
    let (program, args) = rest
        .split_first()
        .ok_or_else(|| anyhow!("no command given after `--`"))?;
    let mut c = Command::new(program);
    c.args(args);
    for (name, value) in argv[..assignments].iter().filter_map(assignment) {
        c.env(name, value);
    }
    Ok(c)
}

fn spawn_error(argv: &[OsString], e: std::io::Error) -> SpawnError {
    let name = argv
        .iter()
        .find(|w| assignment(w).is_none())
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let code = match e.kind() {
        std::io::ErrorKind::NotFound => NOT_FOUND,
        _ => NOT_EXECUTABLE,
    };
    SpawnError {
        code,
        message: format!("cannot run `{name}`: {e}"),
    }
}

/// Replace this process with the command. Returns only when exec failed.
pub fn replace(argv: &[OsString]) -> SpawnError {
    match command(argv) {
        Ok(mut c) => spawn_error(argv, c.exec()),
        Err(e) => SpawnError {
            code: crate::exit::USAGE,
            message: e.to_string(),
        },
    }
}

/// Run the command as a child with inherited stdio, forwarding signals, and wait for it.
#[allow(dead_code)] // the plain form, for doors that add nothing to the command
pub fn spawn_and_wait(argv: &[OsString]) -> Result<ChildExit, SpawnError> {
    spawn_and_wait_adjusted(argv, |_| {})
}

/// Run the command as a child with inherited stdio and extra environment variables,
/// forwarding signals, and wait for it.
/// `PGOPTIONS` (the in-database guard's approval, see `guarded::approved_environment`) adds
/// to the command's own `PGOPTIONS=...` word instead of replacing it.
pub fn spawn_and_wait_with(argv: &[OsString], env: &[(String, String)]) -> Result<ChildExit, SpawnError> {
    spawn_and_wait_adjusted(argv, |c| {
        for (k, v) in env {
            let own_word = (k == "PGOPTIONS")
                .then(|| c.get_envs().find(|(n, _)| *n == "PGOPTIONS").and_then(|(_, w)| w))
                .flatten()
                .map(|w| w.to_string_lossy().into_owned());
            match own_word {
                Some(word) => {
                    // `v` is the process's PGOPTIONS plus the addition; the word replaces the former.
                    let process = std::env::var("PGOPTIONS").unwrap_or_default();
                    let added = v.strip_prefix(process.trim()).unwrap_or(v).trim();
                    c.env(k, format!("{} {added}", word.trim()).trim());
                }
                None => {
                    c.env(k, v);
                }
            }
        }
    })
}

/// `spawn_and_wait`, with `adjust` applied to the command after its own `NAME=value` words
/// (e.g. the in-database guard's approval token added to PGOPTIONS).
pub fn spawn_and_wait_adjusted(argv: &[OsString], adjust: impl FnOnce(&mut Command)) -> Result<ChildExit, SpawnError> {
    let mut c = command(argv).map_err(|e| SpawnError {
        code: crate::exit::USAGE,
        message: e.to_string(),
    })?;
    adjust(&mut c);
    wait_command(c, argv)
}

/// Run a prepared command as a child (inherited stdio unless the caller set otherwise),
/// forwarding signals, and wait for it.
pub fn wait_command(c: Command, argv: &[OsString]) -> Result<ChildExit, SpawnError> {
    wait_child(c, argv, false).map(|(e, _)| e)
}

/// What a captured child wrote.
#[derive(Debug, Default, Clone)]
pub struct Captured {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Run a prepared command with its stdout and stderr captured (stdin as the caller set),
/// forwarding signals, and wait for it.
pub fn capture_command(c: Command, argv: &[OsString]) -> Result<(ChildExit, Captured), SpawnError> {
    wait_child(c, argv, true).map(|(e, out)| (e, out.unwrap_or_default()))
}

fn wait_child(mut c: Command, argv: &[OsString], capture: bool) -> Result<(ChildExit, Option<Captured>), SpawnError> {
    use std::io::Read;
    if capture {
        c.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
    }
    let guard = ForwardGuard::install();
    let mut child = c.spawn().map_err(|e| spawn_error(argv, e))?;
    let pid = child.id() as i32;
    CHILD.store(pid, Ordering::SeqCst);
    let pending = PENDING.swap(0, Ordering::SeqCst);
    if pending != 0 {
        // SAFETY: kill(2) with a pid we just spawned and a valid signal number.
        unsafe {
            libc::kill(pid, pending);
        }
    }
    // Both pipes are drained while the child runs, so a chatty child never blocks on a full pipe.
    let readers = capture.then(|| {
        let mut out = child.stdout.take();
        let mut err = child.stderr.take();
        (
            std::thread::spawn(move || {
                let mut b = Vec::new();
                if let Some(o) = out.as_mut() {
                    let _ = o.read_to_end(&mut b);
                }
                b
            }),
            std::thread::spawn(move || {
                let mut b = Vec::new();
                if let Some(e) = err.as_mut() {
                    let _ = e.read_to_end(&mut b);
                }
                b
            }),
        )
    });
    let status = child.wait();
    CHILD.store(0, Ordering::SeqCst);
    drop(guard);
    let captured = readers.map(|(o, e)| Captured {
        stdout: o.join().unwrap_or_default(),
        stderr: e.join().unwrap_or_default(),
    });
    let status = status.map_err(|e| SpawnError {
        code: crate::exit::ERROR,
        message: format!("waiting for the command: {e}"),
    })?;
    let exit = match (status.code(), status.signal()) {
        (Some(code), _) => ChildExit {
            code: (code & 0xff) as u8,
            signal: None,
        },
        (None, Some(sig)) => ChildExit {
            code: (128 + sig).clamp(0, 255) as u8,
            signal: Some(sig),
        },
        (None, None) => ChildExit {
            code: crate::exit::ERROR,
            signal: None,
        },
    };
    Ok((exit, captured))
}

/// The last signal that reached dbguard while a child ran (forwarded or not).
static RECEIVED: AtomicI32 = AtomicI32::new(0);

/// The signal that reached dbguard while a child ran, if any (and forget it): a door that
/// holds resources to clean up (scratch databases) stops after the child instead of going on.
pub fn take_received_signal() -> Option<i32> {
    let s = RECEIVED.swap(0, Ordering::SeqCst);
    (s != 0).then_some(s)
}

extern "C" fn forward(sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    RECEIVED.store(sig, Ordering::SeqCst);
    // Terminal-generated signals (si_code SI_KERNEL) went to the child already.
    // SAFETY: the kernel passes a valid siginfo_t for SA_SIGINFO handlers.
    let from_terminal = !info.is_null() && unsafe { (*info).si_code } == libc::SI_KERNEL;
    if from_terminal {
        return;
    }
    let pid = CHILD.load(Ordering::SeqCst);
    if pid > 0 {
        // SAFETY: kill(2) is async-signal-safe.
        unsafe {
            libc::kill(pid, sig);
        }
    } else {
        PENDING.store(sig, Ordering::SeqCst);
    }
}

/// Installs the forwarding handlers; restores the previous ones when dropped.
struct ForwardGuard {
    previous: Vec<(libc::c_int, libc::sigaction)>,
}

impl ForwardGuard {
    fn install() -> ForwardGuard {
        let mut previous = Vec::new();
        for sig in FORWARDED {
            // SAFETY: a zeroed sigaction is a valid starting value; the handler only calls
            // async-signal-safe functions and touches atomics.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = forward as *const () as usize;
                action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
                libc::sigemptyset(&mut action.sa_mask);
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(sig, &action, &mut old) == 0 {
                    previous.push((sig, old));
                }
            }
        }
        ForwardGuard { previous }
    }
}

impl Drop for ForwardGuard {
    fn drop(&mut self) {
        for (sig, old) in &self.previous {
            // SAFETY: restoring the action we saved from sigaction itself.
            unsafe {
                libc::sigaction(*sig, old, std::ptr::null_mut());
            }
        }
    }
}

/// The command line as one shell-quoted string, for analysis and display: each argument
/// quoted only when a shell would otherwise split or expand it.
pub fn shell_join(argv: &[OsString]) -> String {
    let mut out = String::new();
    let mut leading = true;
    for (i, a) in argv.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        match assignment(a).filter(|_| leading) {
            Some((name, value)) => {
                out.push_str(name);
                out.push('=');
                out.push_str(&shell_quote(value));
            }
            None => {
                leading = false;
                out.push_str(&shell_quote(&a.to_string_lossy()));
            }
        }
    }
    out
}

fn shell_quote(s: &str) -> String {
    let safe = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,^".contains(c))
        && !s.starts_with('=');
    if safe {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn quoting() {
        assert_eq!(
            shell_join(&v(&["npx", "prisma", "migrate", "reset", "--force"])),
            "npx prisma migrate reset --force"
        );
        assert_eq!(
            shell_join(&v(&["psql", "-c", "DROP TABLE users;"])),
            "psql -c 'DROP TABLE users;'"
        );
        assert_eq!(shell_join(&v(&["echo", "it's"])), "echo 'it'\\''s'");
        assert_eq!(shell_join(&v(&["echo", ""])), "echo ''");
        assert_eq!(
            shell_join(&v(&["env", "DATABASE_URL=postgres://u@h/db"])),
            "env DATABASE_URL=postgres://u@h/db"
        );
        assert_eq!(shell_join(&v(&["A=x y", "cmd", "B=1"])), "A='x y' cmd B=1");
    }

    #[test]
    fn exit_codes_pass_through() {
        assert_eq!(
            spawn_and_wait_with(&v(&["sh", "-c", "exit 7"]), &[])
                .map(|e| e.code)
                .ok(),
            Some(7)
        );
        let killed = spawn_and_wait_with(&v(&["sh", "-c", "kill -TERM $$"]), &[]).ok();
        assert_eq!(
            killed,
            Some(ChildExit {
                code: 128 + 15,
                signal: Some(15)
            })
        );
        // The guard's PGOPTIONS adds to the command's own word.
        let token = crate::protect::approval::pgoptions(std::env::var("PGOPTIONS").ok().as_deref(), "tok");
        let merged = spawn_and_wait_with(
            &v(&[
                "PGOPTIONS=-c work_mem=64MB",
                "sh",
                "-c",
                "test \"$PGOPTIONS\" = '-c work_mem=64MB -c dbguard.approval=tok'",
            ]),
            &[("PGOPTIONS".into(), token)],
        )
        .unwrap();
        assert_eq!(merged.code, 0);
        let missing = spawn_and_wait_with(&v(&["/nonexistent/dbguard-test-cmd"]), &[])
            .err()
            .map(|e| e.code);
        assert_eq!(missing, Some(NOT_FOUND));
        assert_eq!(
            spawn_and_wait_with(&v(&["X_TEST=5", "sh", "-c", "exit $X_TEST"]), &[])
                .map(|e| e.code)
                .ok(),
            Some(5)
        );
    }
}
