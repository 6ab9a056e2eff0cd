//! Fuzz target for fail-closed wrapping (issue 12, class 5): the input picks a destructive
//! command and a sequence of wrapping layers (nested shells with different quoting,
//! `printf %q`, wrapper and launcher chains, base64, process substitution, `at`, `tmux`);
//! however it is wrapped, the analysis must never find nothing.
#![no_main]

use dbguard_core::shell::analyze_command;
use dbguard_core::shell::wrapping::wrap;
use libfuzzer_sys::fuzz_target;

const DESTRUCTIVE: &[&str] = &[
    "dropdb shop",
    "npx prisma migrate reset --force",
    "psql -c 'DROP TABLE users'",
    "redis-cli FLUSHALL",
    "rails db:drop",
    "mysql -e 'DROP DATABASE shop'",
    "psql \"$DATABASE_URL\" -c \"TRUNCATE orders\"",
];

fuzz_target!(|data: &[u8]| {
    let Some((first, layers)) = data.split_first() else { return };
    let mut cmd = DESTRUCTIVE[*first as usize % DESTRUCTIVE.len()].to_string();
    for l in layers.iter().take(16) {
        let next = wrap(&cmd, *l);
        if next.len() > 100_000 {
            break;
        }
        cmd = next;
    }
    let a = analyze_command(&cmd, &dbguard_core::NoLookup);
    assert!(a.is_destructive(), "lost: {cmd}");
});
