//! Typed confirmations from a person at a terminal.
//!
//! The one question every door asks before prompting: is there a human here? Only when
//! standard input and standard error are terminals AND no AI agent is detected, neither in
//! the environment nor among the processes behind this one (its ancestors, its terminal
//! session, and the program holding its terminal: see `procs.rs`). No variable can turn a non-terminal into an interactive session, and an
//! agent variable always means "never prompt" (even inside a pseudo-terminal an agent
//! made). Confirmations are typed words (the database name), never y/N: a tired person
//! or a careless agent cannot get through by pressing Enter.

use std::io::{BufRead, IsTerminal, Write};

/// `Ok(())` when a person can be asked at this terminal; else why not, in one sentence.
pub fn interactive_human() -> Result<(), String> {
    if let Some(agent) = crate::plan::agent_in_env() {
        return Err(format!(
            "an AI agent ({agent}) was detected in the environment: dbguard never asks an agent for consent"
        ));
    }
    if !std::io::stdin().is_terminal() {
        return Err("standard input is not a terminal: there is no person to ask".into());
    }
    if !std::io::stderr().is_terminal() {
        return Err("standard error is not a terminal: there is no person to ask".into());
    }
    if let Some(found) = crate::procs::agent_behind_me() {
        return Err(format!(
            "an AI agent ({}, process {}) is {}: dbguard never asks an agent for consent, even with its \
environment variables removed or through a terminal it drives; run it in a terminal of your own that no agent started",
            found.agent, found.pid, found.relation
        ));
    }
    Ok(())
}

/// Print `prompt` on standard error and read one line from standard input; true only when
/// the line is exactly `expected` (surrounding spaces ignored). Whatever was typed before
/// the prompt appeared is discarded first, so keystrokes (or pasted text) sent ahead of
/// the question never answer it.
pub fn typed(prompt: &str, expected: &str) -> bool {
    discard_typeahead();
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{prompt}");
    let _ = err.flush();
    drop(err);
    let mut line = String::new();
    match std::io::stdin().lock().read_line(&mut line) {
        Ok(0) | Err(_) => {
            eprintln!();
            false
        }
        Ok(_) => line.trim() == expected,
    }
}

/// Print `prompt` on standard error and read one line from the terminal without echoing
/// it (a password); None when nothing was typed or the terminal cannot be read.
pub fn secret(prompt: &str) -> Option<String> {
    discard_typeahead();
    eprint!("{prompt}");
    // SAFETY: termios is a plain C struct filled by tcgetattr on fd 0; only its flags change.
    let saved = unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        (libc::tcgetattr(0, &mut t) == 0).then(|| {
            let quiet = libc::termios {
                c_lflag: t.c_lflag & !libc::ECHO,
                ..t
            };
            libc::tcsetattr(0, libc::TCSANOW, &quiet);
            t
        })
    };
    let mut line = String::new();
    let read = std::io::stdin().lock().read_line(&mut line);
    if let Some(t) = saved {
        // SAFETY: restores the flags read above.
        unsafe {
            libc::tcsetattr(0, libc::TCSANOW, &t);
        }
    }
    eprintln!();
    let line = line.trim_end_matches(['\n', '\r']);
    (read.is_ok() && !line.is_empty()).then(|| line.to_string())
}

fn discard_typeahead() {
    if std::io::stdin().is_terminal() {
        // SAFETY: tcflush on fd 0 only drops pending terminal input; no memory is involved.
        unsafe {
            libc::tcflush(0, libc::TCIFLUSH);
        }
    }
}
