//! Fail closed at every limit. The analyzer stops following commands somewhere (nesting
//! depth, number of commands, bytes, expansions, a chain of wrappers); what lies beyond is
//! not known. It is reported as `unknown` when it *could* hold a database command, and
//! only then, so that a deep but harmless command line raises no alarm.
//!
//! "Could" is decided on the text itself, after removing every layer of quoting (quotes
//! and backslashes, however many `printf %q` or `sh -c` layers put them there): it names
//! a database tool or a package runner that may start one, uses a destructive word, or
//! carries encoded content (base64, hex escapes) that no reading of the text can rule
//! out. Plain text about other things (`ls`, `git status`, `echo hello`) never could.

use super::recognizers;
use super::words::basename;

/// The analyzer's limits, one place to read them.
pub const MAX_DEPTH: usize = 24;
pub const MAX_COMMANDS: usize = 10_000;
pub const MAX_WRAPPERS: usize = 64;
/// Shell text parsed for one operation (command line, scripts, package scripts, decodes).
pub const MAX_BYTES: usize = 16 * 1024 * 1024;
/// `$x` / `$(...)` expansions evaluated for one operation.
pub const MAX_EXPANSIONS: usize = 4096;

/// Destructive-sounding words: next to a program computed at run time, or in text beyond
/// a limit, they make the command `unknown`.
const RISKY_WORDS: &[&str] = &[
    "drop",
    "dropdb",
    "reset",
    "flush",
    "flushall",
    "flushdb",
    "truncate",
    "wipe",
    "purge",
    "fresh",
    "clean",
    "rollback",
    "downgrade",
    "delete",
    "destroy",
    "nuke",
];

/// Programs that run other code we would have to read (`npx X`, `artisan`).
const RUNNERS: &[&str] = &["npx", "artisan", "dropdb", "bunx", "pnpx"];

/// Quotes and backslashes removed: what any number of quoting layers reduces to.
fn unquoted(text: &str) -> String {
    text.chars().filter(|c| !matches!(c, '\\' | '\'' | '"' | '`')).collect()
}

/// The first database tool named in `text` (any quoting), if any.
pub fn mentions_db_tool(text: &str) -> Option<String> {
    unquoted(text)
        .split(|c: char| c.is_whitespace() || "$();|&<>{}=".contains(c))
        .map(basename)
        .find(|w| recognizers::is_db_program(w) || RUNNERS.contains(w))
        .map(str::to_string)
}

/// A database tool or a destructive word, under any quoting.
pub fn mentions_risky(text: &str) -> bool {
    if mentions_db_tool(text).is_some() {
        return true;
    }
    unquoted(text)
        .to_ascii_lowercase()
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .any(|w| RISKY_WORDS.contains(&w))
}

/// Content that hides what it runs: base64/hex decoding, escapes that spell characters.
pub fn mentions_encoding(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.contains("\\x")
        || lower.contains("\\u00")
        || lower.contains("$'\\")
        || unquoted(&lower)
            .split(|c: char| c.is_whitespace() || "$();|&<>{}=".contains(c))
            .map(basename)
            .any(|w| {
                matches!(
                    w,
                    "base64" | "gbase64" | "xxd" | "openssl" | "uudecode" | "rev" | "tr" | "gunzip" | "zcat"
                )
            })
}

/// Programs that run text dbguard would have to read (package scripts, task files, script
/// files): with a destructive word next to them, what they run could destroy data.
const SCRIPT_RUNNERS: &[&str] = &[
    "npm",
    "pnpm",
    "yarn",
    "bun",
    "npx",
    "bunx",
    "pnpx",
    "make",
    "gmake",
    "just",
    "turbo",
    "nx",
    "lerna",
    "task",
    "run-s",
    "run-p",
    "npm-run-all",
    "concurrently",
    "source",
    ".",
    "composer",
];

fn words_of(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| c.is_whitespace() || "$();|&<>{}=\\'\"`".contains(c))
        .filter(|w| !w.is_empty())
        .map(basename)
}

/// Whether text that was not analyzed could hold a database command: it names a database
/// tool, or a runner of text dbguard has not read there (a package script, a task file, a
/// script file), carries encoded content, names a general tool that destroys database
/// files or volumes next to such words (`rm`, `docker`, `python -c`), or pairs a value
/// computed at run time with a destructive word. Text that only *mentions* destruction
/// (`echo 'DROP TABLE users'`, `grep -r DROP migrations/`) could not.
pub fn could_hold(text: &str) -> bool {
    if mentions_db_tool(text).is_some() || mentions_encoding(text) {
        return true;
    }
    let plain = unquoted(text);
    if words_of(&plain).any(|w| SCRIPT_RUNNERS.contains(&w) || w.ends_with(".sh") || w.ends_with(".bash")) {
        return true;
    }
    let lower = plain.to_ascii_lowercase();
    let general_tool = words_of(&plain).any(|w| recognizers::find(w).is_some());
    let db_things = [
        ".db", ".sqlite", "pgdata", "postgres", "mysql", "mongo", "redis", "volume", "prune", " -v",
    ]
    .iter()
    .any(|k| lower.contains(k));
    (general_tool && db_things) || ((general_tool || plain.contains('$')) && mentions_risky(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_layers_do_not_hide_tools() {
        assert!(could_hold(r"sh -c sh\ -c\ dropdb\\\ shop"));
        assert!(could_hold(r#"bash -c "ps\"ql\" -c 'DR'OP" "#));
        assert!(could_hold("$'\\x64ropdb' shop"));
        assert!(could_hold("echo ZHJvcGRi | base64 -d | sh"));
        assert!(could_hold("npx prisma migrate reset"));
        assert!(!could_hold(r"sh -c sh\ -c\ ls\\\ -la"));
        assert!(!could_hold("git status && cargo build --release"));
        assert!(!could_hold("echo hello world"));
        assert!(!could_hold("echo 'DROP TABLE users'"));
        assert!(could_hold(r"sh -c rm\ -rf\ pgdata"));
        assert!(could_hold("npm run db:reset"));
        assert!(could_hold("$TOOL migrate reset"));
        assert_eq!(mentions_db_tool("/usr/bin/psql -c x").as_deref(), Some("psql"));
    }
}
