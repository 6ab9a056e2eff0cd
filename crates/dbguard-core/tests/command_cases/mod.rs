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
}

impl Case {
    /// What `Lookup` answers for this case: its files, package.json scripts, data folders.
    pub fn lookup(&self) -> MapLookup {
        MapLookup {
            files: self
                .files
                .iter()
                .map(|(k, v)| (k.clone(), v.as_bytes().to_vec()))
                .collect(),
            data_dirs: self.data_dirs.clone(),
            scripts: self.scripts.clone(),
            ..MapLookup::default()
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
