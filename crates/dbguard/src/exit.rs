//! Documented exit codes (README "Exit codes"). A wrapped command's own non-zero
//! exit code is passed through by `dbguard run`.

/// Allowed / nothing destructive / success.
pub const OK: u8 = 0;
/// An error: bad URL, unreachable server, I/O failure.
pub const ERROR: u8 = 1;
/// Usage error (bad flags).
pub const USAGE: u8 = 2;
/// Blocked or needs approval: something destructive was found and did not run.
pub const BLOCKED: u8 = 3;
