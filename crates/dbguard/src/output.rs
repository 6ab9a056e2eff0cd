//! Small helpers shared by commands for printing: JSON to stdout, terminal checks.

use std::io::{IsTerminal, Write};

/// Print a value as pretty JSON on stdout. A closed pipe (`dbguard ... --json | head`)
/// is not an error worth a panic: the reader has what it wanted.
pub fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    let s = serde_json::to_string_pretty(value)?;
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{s}").and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

pub fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}
