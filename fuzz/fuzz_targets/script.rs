//! Fuzz target for the script analysis (oxc for JavaScript/TypeScript, tree-sitter for
//! Python and Ruby, the rules, SQL extraction): no input may panic, and the analysis must be
//! deterministic. The first byte picks the language; a lookup that answers every file with
//! the input itself drives import following (bounded) as well.
#![no_main]

use dbguard_core::lookup::Lookup;
use dbguard_core::script::{self, Lang};
use libfuzzer_sys::fuzz_target;

struct Echo<'a>(&'a str);

impl Lookup for Echo<'_> {
    fn read_file(&self, _path: &str) -> Option<String> {
        Some(self.0.to_string())
    }
    fn file_head(&self, _path: &str) -> Option<Vec<u8>> {
        Some(self.0.as_bytes().iter().take(100).copied().collect())
    }
    fn is_data_dir(&self, _path: &str) -> Option<bool> {
        Some(false)
    }
    fn package_script(&self, _name: &str) -> Option<String> {
        None
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    let (lang, path) = match sel % 4 {
        0 => (Lang::JavaScript, "scripts/fuzz.js"),
        1 => (Lang::TypeScript, "scripts/fuzz.ts"),
        2 => (Lang::Python, "scripts/fuzz.py"),
        _ => (Lang::Ruby, "scripts/fuzz.rb"),
    };
    let a = script::summarize(path, rest, lang, "node");
    let b = script::summarize(path, rest, lang, "node");
    assert_eq!(a, b);
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let _ = script::analyze_inline(text, lang, &dbguard_core::NoLookup);
    let _ = script::analyze_run(path, lang, &Echo(text));
});
