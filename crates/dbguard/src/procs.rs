//! Which processes stand behind this one: the edge half of agent detection by process
//! (the matching itself is pure: `dbguard_core::agents::detect_process`).
//!
//! Three groups of processes are read from `/proc` and checked, each with its ancestors:
//! 1. this process and its parents, up to PID 1: an agent that runs `dbguard approve`
//!    through any number of shells, `env -i` or a pseudo-terminal it drives is among them;
//! 2. the leader of this process's session: a pty driver that detached from its parent
//!    (double fork) stays in the session its agent started;
//! 3. the processes holding the master side of this process's controlling terminal (found
//!    by the `tty-index` of their `/dev/ptmx` descriptors), and their session leaders: a
//!    person's terminal is held by a terminal emulator, sshd or tmux, an agent's pty by the
//!    script the agent wrote and runs.
//!
//! What it cannot see: a driver that both detached and started a new session (`setsid`
//! plus a double fork) no longer descends from its agent by any record the kernel keeps,
//! and keystrokes sent into the person's own terminal (`tmux send-keys`) come from the
//! person's terminal. The README's threat model says so; the in-database guard is what
//! holds against a process of the same user.

use std::path::Path;

use dbguard_core::agents::{detect_in_chain, ProcessFacts};

/// An agent found in the process tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundAgent {
    pub agent: &'static str,
    pub pid: u32,
    /// How it is related: "an ancestor of this process", ...
    pub relation: &'static str,
}

/// Deepest ancestry followed (a loop guard; real chains are a dozen long).
const MAX_DEPTH: usize = 128;

#[derive(Debug, Clone)]
struct Proc {
    pid: u32,
    ppid: u32,
    sid: u32,
    tty_nr: u32,
    facts: ProcessFacts,
}

/// `/proc/<pid>/stat` fields after the `(comm)`: state ppid pgrp session tty_nr ...
fn read_proc(root: &Path, pid: u32) -> Option<Proc> {
    let dir = root.join(pid.to_string());
    let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
    // comm may hold spaces and parentheses: it ends at the last ')'.
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat.get(open + 1..close)?.to_string();
    let rest: Vec<&str> = stat.get(close + 1..)?.split_whitespace().collect();
    let num = |i: usize| rest.get(i).and_then(|v| v.parse::<i64>().ok());
    let ppid = num(1)? as u32;
    let sid = num(3)? as u32;
    let tty_nr = num(4)? as u32;
    let argv = std::fs::read(dir.join("cmdline"))
        .map(|b| {
            b.split(|c| *c == 0)
                .filter(|a| !a.is_empty())
                .take(64)
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect()
        })
        .unwrap_or_default();
    let exe = std::fs::read_link(dir.join("exe"))
        .ok()
        .map(|p| p.to_string_lossy().into_owned());
    Some(Proc {
        pid,
        ppid,
        sid,
        tty_nr,
        facts: ProcessFacts { comm, argv, exe },
    })
}

/// A process and its ancestors, nearest first.
fn chain(root: &Path, pid: u32) -> Vec<Proc> {
    let mut out: Vec<Proc> = Vec::new();
    let mut next = pid;
    while next > 0 && out.len() < MAX_DEPTH && !out.iter().any(|p| p.pid == next) {
        let Some(p) = read_proc(root, next) else { break };
        next = p.ppid;
        out.push(p);
    }
    out
}

/// The pts number of a controlling terminal (`tty_nr`: majors 136-143 are /dev/pts).
fn pts_index(tty_nr: u32) -> Option<u32> {
    let major = (tty_nr >> 8) & 0xfff;
    let minor = (tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00);
    (136..=143).contains(&major).then(|| (major - 136) * 256 + minor)
}

/// Processes (readable by us) holding the master side of /dev/pts/`index`.
fn pty_masters(root: &Path, index: u32) -> Vec<u32> {
    let want = format!("tty-index:\t{index}");
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(root) else { return out };
    for e in rd.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(e.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            let is_ptmx = std::fs::read_link(fd.path()).is_ok_and(|t| {
                let t = t.to_string_lossy();
                t == "/dev/ptmx" || t == "/dev/pts/ptmx"
            });
            if !is_ptmx {
                continue;
            }
            let info = e.path().join("fdinfo").join(fd.file_name());
            if std::fs::read_to_string(info).is_ok_and(|t| t.lines().any(|l| l.trim_end() == want)) {
                out.push(pid);
                break;
            }
        }
    }
    out
}

/// The first agent among the processes related to `pid` (see the module docs).
pub fn agent_behind(root: &Path, pid: u32) -> Option<FoundAgent> {
    let own = chain(root, pid);
    let me = own.first()?;
    let mut groups: Vec<(&'static str, Vec<Proc>)> = Vec::new();
    let (sid, tty_nr) = (me.sid, me.tty_nr);
    groups.push(("an ancestor of this process", own));
    if sid > 0 && sid != pid {
        groups.push(("the leader of this terminal session, or its ancestor", chain(root, sid)));
    }
    if let Some(index) = pts_index(tty_nr) {
        for holder in pty_masters(root, index) {
            let c = chain(root, holder);
            let holder_sid = c.first().map(|p| p.sid).unwrap_or(0);
            groups.push(("the program driving this terminal, or its ancestor", c));
            if holder_sid > 0 && holder_sid != holder {
                groups.push((
                    "the session leader of the program driving this terminal",
                    chain(root, holder_sid),
                ));
            }
        }
    }
    for (relation, procs) in &groups {
        let facts: Vec<ProcessFacts> = procs.iter().map(|p| p.facts.clone()).collect();
        if let Some((i, agent)) = detect_in_chain(&facts) {
            return Some(FoundAgent {
                agent,
                pid: procs[i].pid,
                relation,
            });
        }
    }
    None
}

/// `agent_behind` for this process, from the real `/proc`.
pub fn agent_behind_me() -> Option<FoundAgent> {
    agent_behind(Path::new("/proc"), std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pts_numbers() {
        assert_eq!(pts_index((136 << 8) | 3), Some(3));
        assert_eq!(pts_index((137 << 8) | 1), Some(257));
        assert_eq!(pts_index(0), None);
        assert_eq!(pts_index(4 << 8), None, "a virtual console is not a pty");
    }

    #[test]
    fn reads_this_process() {
        let me = read_proc(Path::new("/proc"), std::process::id()).expect("own /proc entry");
        assert!(!me.facts.comm.is_empty());
        assert!(!me.facts.argv.is_empty());
        let c = chain(Path::new("/proc"), std::process::id());
        assert_eq!(c.first().map(|p| p.pid), Some(std::process::id()));
        assert!(c.len() >= 2, "{c:?}");
    }

    #[test]
    fn fake_proc_tree() {
        let d = tempfile::tempdir().unwrap();
        let mk = |pid: u32, comm: &str, ppid: u32, sid: u32, argv: &[&str]| {
            let p = d.path().join(pid.to_string());
            std::fs::create_dir_all(&p).unwrap();
            std::fs::write(
                p.join("stat"),
                format!("{pid} ({comm}) S {ppid} {pid} {sid} 0 -1 4194560"),
            )
            .unwrap();
            std::fs::write(p.join("cmdline"), argv.join("\0")).unwrap();
        };
        mk(1, "init", 0, 1, &["/sbin/init"]);
        mk(10, "claude", 1, 10, &["claude"]);
        mk(20, "bash", 10, 10, &["bash", "-c", "python3 drive.py"]);
        mk(30, "python3", 20, 10, &["python3", "drive.py"]);
        mk(40, "dbguard", 30, 40, &["dbguard", "approve", "AAA-222"]);
        let found = agent_behind(d.path(), 40).expect("agent found");
        assert_eq!((found.agent, found.pid), ("Claude Code", 10));
        // The driver detached (reparented to init) but stayed in the agent's session.
        mk(30, "python3", 1, 10, &["python3", "drive.py"]);
        mk(40, "dbguard", 30, 10, &["dbguard", "approve", "AAA-222"]);
        let found = agent_behind(d.path(), 40).expect("agent found through the session");
        assert_eq!(found.pid, 10);
        assert!(found.relation.contains("session"), "{found:?}");
        // A person's shell in a terminal: nothing.
        mk(50, "bash", 1, 50, &["-bash"]);
        mk(60, "dbguard", 50, 50, &["dbguard", "approve", "AAA-222"]);
        assert_eq!(agent_behind(d.path(), 60), None);
        // Parentheses and spaces in comm do not confuse the stat parser.
        mk(70, "we(ird) name", 1, 70, &["x"]);
        assert_eq!(read_proc(d.path(), 70).unwrap().facts.comm, "we(ird) name");
    }
}
