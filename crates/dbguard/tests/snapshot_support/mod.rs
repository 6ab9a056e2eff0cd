//! Shared helpers for the snapshot tests (`snapshot_*.rs`): the real `dbguard` binary with
//! its own DBGUARD_HOME and no DATABASE_URL, JSON output, manifests and their checksums.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output, Stdio};

/// `dbguard ARGS` with `home` as DBGUARD_HOME, no terminal, `env` added.
pub fn dbguard_env(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dbguard"));
    cmd.args(args)
        .env("DBGUARD_HOME", home)
        .env_remove("DATABASE_URL")
        .env_remove("DBGUARD_FINISH_DELAY_MS")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run dbguard")
}

pub fn dbguard(home: &Path, args: &[&str]) -> Output {
    dbguard_env(home, args, &[])
}

/// The JSON a successful `dbguard ARGS --json` printed; panics with its output otherwise.
pub fn ok_json_env(home: &Path, args: &[&str], env: &[(&str, &str)]) -> serde_json::Value {
    let out = dbguard_env(home, args, env);
    assert!(
        out.status.success(),
        "dbguard {args:?} failed ({:?}):\n{}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("bad JSON from {args:?}: {e}: {}", String::from_utf8_lossy(&out.stdout)))
}

pub fn ok_json(home: &Path, args: &[&str]) -> serde_json::Value {
    ok_json_env(home, args, &[])
}

pub fn manifest(home: &Path, id: &str) -> serde_json::Value {
    let text = std::fs::read(home.join("snapshots").join(id).join("manifest.json")).expect("manifest");
    serde_json::from_slice(&text).expect("manifest json")
}

/// (table, rows, content checksum) of a manifest, sorted.
pub fn checksums(m: &serde_json::Value) -> Vec<(String, u64, String)> {
    let mut v: Vec<_> = m["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                format!("{}.{}", t["schema"].as_str().unwrap(), t["name"].as_str().unwrap()),
                t["rows"].as_u64().unwrap(),
                t["content_checksum"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}
