//! Fuzz target for shell-command analysis: no input may panic, and the analysis must be
//! deterministic. A lookup that answers every question (files full of the fuzz input,
//! every path a data directory, every package script, env file, variable and workspace
//! package the input itself) drives the paths that read SQL files, follow scripts, load env
//! files, expand variables and recurse, not only the parser.
#![no_main]

use dbguard_core::lookup::{Lookup, WorkspacePackage};
use dbguard_core::shell::analyze_command;
use libfuzzer_sys::fuzz_target;

struct Echo<'a>(&'a str);

impl Lookup for Echo<'_> {
    fn read_file(&self, _path: &str) -> Option<String> {
        Some(self.0.to_string())
    }
    fn file_head(&self, _path: &str) -> Option<Vec<u8>> {
        Some(self.0.as_bytes().iter().take(100).copied().collect())
    }
    fn is_data_dir(&self, path: &str) -> Option<bool> {
        Some(path.len() % 2 == 0)
    }
    fn package_script(&self, _name: &str) -> Option<String> {
        Some(self.0.to_string())
    }
    fn env_var(&self, name: &str) -> Option<String> {
        (name.len() % 2 == 0).then(|| self.0.to_string())
    }
    fn env_file(&self, _path: &str) -> Option<Vec<(String, String)>> {
        Some(dbguard_core::lookup::parse_env_text(self.0))
    }
    fn package_script_names(&self) -> Option<Vec<String>> {
        Some(self.0.split_whitespace().take(8).map(str::to_string).collect())
    }
    fn workspace_packages(&self) -> Option<Vec<WorkspacePackage>> {
        Some(
            self.0
                .split_whitespace()
                .take(4)
                .map(|w| WorkspacePackage {
                    dir: w.to_string(),
                    name: w.to_string(),
                })
                .collect(),
        )
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let a = analyze_command(s, &dbguard_core::NoLookup);
    let b = analyze_command(s, &dbguard_core::NoLookup);
    assert_eq!(a.findings, b.findings);
    let _ = analyze_command(s, &Echo(s));
});
