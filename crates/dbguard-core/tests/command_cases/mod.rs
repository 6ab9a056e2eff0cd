//! The command corpus (`tests/corpus/commands/*.toml`, format in `command_corpus.rs`), read
//! once for the tests that use it: the corpus test and the shell property tests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use dbguard_core::lookup::MapLookup;
use serde::Deserialize;

#[derive(Deserialize)]
struct File {
    #[serde(default)]
    case: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub cmd: String,
    pub expect: Vec<String>,
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    #[serde(default)]
    pub scripts: BTreeMap<String, String>,
    #[serde(default)]
    pub data_dirs: Vec<String>,
    #[serde(default)]
    pub target: BTreeMap<String, String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub note: Option<String>,
    /// A test project under `tests/corpus/projects/`: its files (relative paths) are what
    /// the lookup reads, in addition to `files`.
    #[serde(default)]
    pub project: Option<String>,
    /// The process environment the command inherits (`Lookup::env_var`).
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// Workspace packages: directory -> package name (their package.json go in `files`).
    #[serde(default)]
    pub workspace: BTreeMap<String, String>,
}

impl Case {
    /// What `Lookup` answers for this case: its files, package.json scripts, data folders.
    pub fn lookup(&self) -> MapLookup {
        let mut files: BTreeMap<String, Vec<u8>> = self
            .files
            .iter()
            .map(|(k, v)| (k.clone(), v.as_bytes().to_vec()))
            .collect();
        if let Some(p) = &self.project {
            let root = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/corpus/projects")
                .join(p);
            assert!(root.is_dir(), "no test project {}", root.display());
            read_tree(&root, &root, &mut files);
        }
        let scripts = if self.scripts.is_empty() {
            files
                .get("package.json")
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
                .and_then(|v| v.get("scripts").cloned())
                .and_then(|s| serde_json::from_value(s).ok())
                .unwrap_or_default()
        } else {
            self.scripts.clone()
        };
        MapLookup {
            files,
            data_dirs: self.data_dirs.clone(),
            scripts,
            env: self.environment.clone(),
            workspace: self.workspace.clone(),
            ..MapLookup::default()
        }
    }
}

/// Every file under `dir`, keyed by its path relative to `root`.
fn read_tree(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("project dir").flatten().collect();
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let p = e.path();
        if p.is_dir() {
            read_tree(root, &p, out);
        } else if let Ok(rel) = p.strip_prefix(root) {
            out.insert(
                rel.to_string_lossy().into_owned(),
                std::fs::read(&p).expect("project file"),
            );
        }
    }
}

/// Every corpus file's name and cases, in file-name order.
pub fn load() -> Vec<(String, Vec<Case>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/commands");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("read corpus file");
            let f: File = toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (name, f.case)
        })
        .collect()
}
