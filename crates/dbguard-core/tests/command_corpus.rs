//! Table-driven corpus for shell-command analysis: every `tests/corpus/commands/*.toml`.
//!
//! Format, one `[[case]]` per command:
//! ```toml
//! [[case]]
//! cmd = "npx prisma migrate reset --force"
//! expect = ["reset_database"]          # kinds found, as a set (order and repeats ignored); [] = none
//! files = { "schema.sql" = "DROP TABLE x;" }   # optional: what Lookup::read_file/file_head see
//! scripts = { "db:reset" = "prisma migrate reset --force" }  # optional: package.json scripts
//! data_dirs = ["pgdata"]               # optional: paths Lookup::is_data_dir says yes to
//! target = { url = "...", dbname = "...", host = "...", port = "...", user = "...", file = "...", tool = "..." }
//! env = { DATABASE_URL = "..." }       # optional: expected inline variables of the first target
//! note = "why this case exists"
//! ```
//! All failing cases are reported at once, with file and index.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use dbguard_core::lookup::MapLookup;
use dbguard_core::shell::analyze_command;
use serde::Deserialize;

#[derive(Deserialize)]
struct File {
    #[serde(default)]
    case: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    cmd: String,
    expect: Vec<String>,
    #[serde(default)]
    files: BTreeMap<String, String>,
    #[serde(default)]
    scripts: BTreeMap<String, String>,
    #[serde(default)]
    data_dirs: Vec<String>,
    #[serde(default)]
    target: BTreeMap<String, String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
}

#[test]
fn command_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/commands");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus dir")
        .flatten()
        .map(|e| e.path())
        .collect();
    paths.sort();
    let mut failures = Vec::new();
    let mut total = 0;
    for p in paths.into_iter().filter(|p| p.extension().is_some_and(|e| e == "toml")) {
        let text = std::fs::read_to_string(&p).expect("read corpus file");
        let f: File = toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for (i, c) in f.case.iter().enumerate() {
            total += 1;
            let lookup = MapLookup {
                files: c
                    .files
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_bytes().to_vec()))
                    .collect(),
                data_dirs: c.data_dirs.clone(),
                scripts: c.scripts.clone(),
            };
            let a = analyze_command(&c.cmd, &lookup);
            let got: BTreeSet<String> = a.findings.iter().map(|f| f.kind.as_str().to_string()).collect();
            let want: BTreeSet<String> = c.expect.iter().cloned().collect();
            let mut problems = Vec::new();
            if got != want {
                let details: Vec<String> = a
                    .findings
                    .iter()
                    .map(|f| format!("{}: {}", f.kind.as_str(), f.detail))
                    .collect();
                problems.push(format!("expected {want:?}, got {got:?} {details:?}"));
            }
            for f in &a.findings {
                if f.detail.trim().is_empty() || (f.statement.is_none()) {
                    problems.push(format!("finding {} lacks detail or statement", f.kind.as_str()));
                }
            }
            if !c.target.is_empty() || !c.env.is_empty() {
                match a.targets.first() {
                    None => problems.push("expected a target hint, got none".into()),
                    Some(h) => {
                        for (k, v) in &c.target {
                            let got = match k.as_str() {
                                "url" => h.url.clone(),
                                "dbname" => h.dbname.clone(),
                                "host" => h.host.clone(),
                                "port" => h.port.clone(),
                                "user" => h.user.clone(),
                                "file" => h.file.clone(),
                                "tool" => h.tool.clone(),
                                "engine" => h.engine.map(|e| format!("{e:?}").to_lowercase()),
                                other => Some(format!("<unknown target key {other}>")),
                            };
                            if got.as_deref() != Some(v.as_str()) {
                                problems.push(format!("target.{k}: expected {v:?}, got {got:?}"));
                            }
                        }
                        for (k, v) in &c.env {
                            if h.env_var(k) != Some(v.as_str()) {
                                problems.push(format!("env {k}: expected {v:?}, got {:?}", h.env_var(k)));
                            }
                        }
                    }
                }
            }
            if !problems.is_empty() {
                failures.push(format!("{name}[{i}] `{}`:\n    {}", c.cmd, problems.join("\n    ")));
            }
        }
    }
    assert!(total >= 220, "corpus has only {total} command cases");
    assert!(
        failures.is_empty(),
        "{} of {total} command cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    println!("{total} command cases passed");
}
