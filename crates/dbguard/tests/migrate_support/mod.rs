//! Shared helpers for `migrate_*.rs`: dbguard run as an agent would run it (an agent
//! variable set, no terminal), checks that no scratch database was left behind, and
//! schema edits for the tests/e2e projects.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Output, Stdio};

use crate::e2e_support::{describe, World};

/// An apply command like the small runners teams write, for plain SQL folders on
/// PostgreSQL: every file in name order whose version is not in schema_migrations runs in
/// one transaction with its version recorded.
pub const PG_APPLY: &str = r#"set -e
psql "$DATABASE_URL" -qAt -v ON_ERROR_STOP=1 -c 'CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY)'
for f in migrations/*.sql; do
  v=$(basename "$f" .sql); v=${v%%_*}
  if [ -z "$(psql "$DATABASE_URL" -qAt -c "SELECT 1 FROM schema_migrations WHERE version = '$v'")" ]; then
    { echo 'BEGIN;'; cat "$f"; echo ";INSERT INTO schema_migrations VALUES ('$v'); COMMIT;"; } | psql "$DATABASE_URL" -q -v ON_ERROR_STOP=1
  fi
done
"#;

/// `dbguard ARGS` as an AI agent runs it: CLAUDECODE=1, stdin not a terminal.
pub fn agent(world: &World, cwd: &Path, args: &[&str]) -> Output {
    world
        .command(cwd, args)
        .env("CLAUDECODE", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run dbguard")
}

/// Like `agent`, asserting the exit code.
pub fn agent_ok(world: &World, cwd: &Path, args: &[&str], code: i32) -> serde_json::Value {
    let out = agent(world, cwd, args);
    assert_eq!(out.status.code(), Some(code), "dbguard {args:?}:\n{}", describe(&out));
    crate::e2e_support::json(&out)
}

/// Scratch databases on the cluster (there must be none once dbguard is done).
pub fn scratch_dbs(cluster: &testpg::Cluster) -> Vec<String> {
    cluster
        .psql(
            "postgres",
            "SELECT datname FROM pg_database WHERE datname LIKE 'dbguard\\_scratch\\_%' OR datname LIKE 'prisma\\_migrate\\_shadow\\_db\\_%'",
        )
        .lines()
        .map(str::to_string)
        .filter(|l| !l.is_empty())
        .collect()
}

/// Replace `from` with `to` in a project file.
pub fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let p = dir.join(file);
    let text = std::fs::read_to_string(&p).expect("read");
    assert!(text.contains(from), "{file} does not contain {from:?}");
    std::fs::write(&p, text.replacen(from, to, 1)).expect("write");
}

/// The migration folders (or files) in a directory, sorted.
pub fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

pub fn column_exists(cluster: &testpg::Cluster, db: &str, table: &str, column: &str) -> bool {
    cluster.psql(
        db,
        &format!(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = '{table}' AND column_name = '{column}'"
        ),
    ) == "1"
}
