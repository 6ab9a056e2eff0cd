//! Scripts an agent writes and runs: `node scripts/cleanup.js`, `npx tsx reset.ts`,
//! `python wipe.py`, `rails runner db/cleanup.rb`, seed files, and inline code
//! (`node -e`, `python -c`).
//!
//! A file goes through a keyword prefilter ([`prefilter`]) and, when it could hold anything,
//! a real parser: oxc for JavaScript and TypeScript ([`js`]), tree-sitter for Python
//! ([`python`]) and Ruby ([`ruby`]). The front-ends reduce the tree to call chains, bindings,
//! imports and function contexts ([`ir`]); one set of rules ([`rules`]) finds SQL handed to
//! raw-SQL calls (analyzed by the SQL core), the ORMs' bulk destroyers, commands handed to a
//! shell, and database files deleted. [`follow`] walks the local modules a script imports,
//! within bounds, counting only code that running the script can reach.
//!
//! Per-file results ([`Summary`]) depend only on the file's path and bytes, so the edge may
//! cache them (the `Lookup::script_summary` hook); text printed or logged is data, never SQL.

pub mod follow;
pub mod ir;
mod js;
mod lines;
pub mod prefilter;
mod python;
mod ruby;
mod rules;
pub mod sql_text;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::finding::{Finding, FindingKind, Scope};
use crate::lookup::Lookup;

pub use follow::{analyze_inline, analyze_modules, analyze_run};
use ir::{Ctx, Import};

/// Bumped whenever the analysis changes: summaries cached by an older version are not used.
pub const ANALYZER_VERSION: u32 = 1;

/// Files larger than this are not parsed; with a strong marker they are `unknown`.
pub const MAX_PARSE_BYTES: usize = 32 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    JavaScript,
    TypeScript,
    Python,
    Ruby,
}

impl Lang {
    /// The language of a file, by its extension.
    pub fn of_path(path: &str) -> Option<Lang> {
        let name = path.rsplit('/').next().unwrap_or(path);
        let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())?;
        Some(match ext.as_str() {
            "js" | "mjs" | "cjs" | "jsx" => Lang::JavaScript,
            "ts" | "mts" | "cts" | "tsx" => Lang::TypeScript,
            "py" | "pyw" => Lang::Python,
            "rb" | "rake" => Lang::Ruby,
            _ => return None,
        })
    }

    /// The language an interpreter runs (`node`, `tsx`, `python3.12`, `ruby`...).
    pub fn of_program(program: &str) -> Option<Lang> {
        Some(match program {
            "node" | "nodejs" => Lang::JavaScript,
            "ts-node" | "ts-node-esm" | "tsx" | "node-ts" | "deno" | "bun" | "esno" | "esrun" | "vite-node" => {
                Lang::TypeScript
            }
            "ruby" | "rails" | "jruby" => Lang::Ruby,
            p if p.starts_with("python") || p.starts_with("pypy") || p == "py" => Lang::Python,
            _ => return None,
        })
    }

    /// A short key for caches and messages.
    pub fn key(self) -> &'static str {
        match self {
            Lang::JavaScript => "js",
            Lang::TypeScript => "ts",
            Lang::Python => "py",
            Lang::Ruby => "rb",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Lang::JavaScript => "JavaScript",
            Lang::TypeScript => "TypeScript",
            Lang::Python => "Python",
            Lang::Ruby => "Ruby",
        }
    }
}

/// A finding and the code context it sits in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Found {
    pub finding: Finding,
    pub ctx: Ctx,
}

/// What one file holds, as far as the rules are concerned. Depends only on the path (for
/// messages) and the bytes, so it can be cached by the edge.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub findings: Vec<Found>,
    pub imports: Vec<Import>,
    pub top_calls: BTreeSet<String>,
    pub fn_calls: BTreeMap<String, BTreeSet<String>>,
    pub member_uses: BTreeMap<String, BTreeSet<String>>,
    /// The file was parsed (the prefilter let it through).
    pub parsed: bool,
    pub bytes: u64,
}

/// Whether a file may import local code (then it is parsed even without markers, to follow them).
fn may_import_local(bytes: &[u8], lang: Lang) -> bool {
    let has = |pat: &[u8]| bytes.windows(pat.len()).any(|w| w == pat);
    match lang {
        Lang::JavaScript | Lang::TypeScript => {
            has(b"'./") || has(b"\"./") || has(b"'../") || has(b"\"../") || has(b"`./")
        }
        Lang::Python => has(b"import"),
        Lang::Ruby => has(b"require") || has(b"load"),
    }
}

/// What [`summarize`] answers for a file larger than [`prefilter::SMALL_FILE`] that holds
/// no strong marker ([`prefilter::StrongScan`]): nothing, without reading it whole.
pub fn unmarked_large_file(len: u64) -> Summary {
    Summary {
        bytes: len,
        ..Summary::default()
    }
}

/// Analyze one file's bytes. Pure.
pub fn summarize(path: &str, bytes: &[u8], lang: Lang, tool: &str) -> Summary {
    let mut s = Summary {
        bytes: bytes.len() as u64,
        ..Summary::default()
    };
    let markers = prefilter::scan_for_size(bytes);
    let small = bytes.len() <= prefilter::SMALL_FILE;
    let parse = match markers {
        prefilter::Markers::Strong => true,
        prefilter::Markers::Weak => small,
        prefilter::Markers::None => small && may_import_local(bytes, lang),
    };
    if !parse {
        return s;
    }
    if bytes.len() > MAX_PARSE_BYTES {
        if markers == prefilter::Markers::Strong {
            let f = Finding::new(
                FindingKind::Unknown,
                None,
                format!(
                    "{path} is too large to read ({} MB) and mentions destructive database operations",
                    bytes.len() / (1024 * 1024)
                ),
                Scope::Database,
            )
            .with_tool(tool)
            .with_statement(path, None);
            s.findings.push(Found {
                finding: f,
                ctx: Ctx::Top,
            });
        }
        return s;
    }
    s.parsed = true;
    let text = String::from_utf8_lossy(bytes);
    let facts = match lang {
        Lang::JavaScript => js::extract(&text, path, false),
        Lang::TypeScript => js::extract(&text, if path.is_empty() { "inline.ts" } else { path }, true),
        Lang::Python => python::extract(&text),
        Lang::Ruby => ruby::extract(&text),
    };
    let ruled = rules::apply(&facts, tool, path);
    let mut seen = BTreeSet::new();
    for (f, ctx) in ruled.findings {
        let key = (f.kind, f.object.clone(), f.location.map(|l| l.line));
        if seen.insert(key) {
            s.findings.push(Found { finding: f, ctx });
        }
    }
    if let Some(err) = &facts.error {
        if ruled.db_api || markers == prefilter::Markers::Strong {
            let name = if path.is_empty() { "the code" } else { path };
            let f = Finding::new(
                FindingKind::Unknown,
                None,
                format!(
                    "{name} does not parse as {} ({err}) and uses database APIs; what it does cannot be fully known",
                    lang.name()
                ),
                Scope::Database,
            )
            .with_tool(tool)
            .with_statement(if path.is_empty() { "inline code" } else { path }, None);
            s.findings.push(Found {
                finding: f,
                ctx: Ctx::Top,
            });
        }
    }
    s.imports = facts.imports;
    s.top_calls = facts.top_calls;
    s.fn_calls = facts.fn_calls;
    s.member_uses = facts.member_uses;
    s
}

thread_local! {
    static NESTING: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// How deep script and command analyses may nest (a script that runs a command that runs a
/// script...).
pub const MAX_NESTING: usize = 4;

/// Run `f` one nesting level deeper; `None` when the limit is reached (callers fail closed).
pub fn nested<T>(f: impl FnOnce() -> T) -> Option<T> {
    let depth = NESTING.with(|n| n.get());
    if depth >= MAX_NESTING {
        return None;
    }
    NESTING.with(|n| n.set(depth + 1));
    let out = f();
    NESTING.with(|n| n.set(depth));
    Some(out)
}

/// The string settings a JavaScript/TypeScript configuration file exports, as dotted key
/// paths (`development.seeds.directory` -> `./db/seeds`). `path.join('db', 'seeds')` and
/// `path.resolve(__dirname, 'seeds')` count as their literal parts joined.
pub fn config_strings(src: &str, path: &str) -> Vec<(String, String)> {
    let facts = js::extract(src, path, path.ends_with(".ts"));
    let mut out = Vec::new();
    for v in &facts.exported {
        flatten(&facts, v, String::new(), &mut out, 0);
    }
    out
}

fn flatten(facts: &ir::Facts, v: &ir::Val, prefix: String, out: &mut Vec<(String, String)>, depth: usize) {
    use ir::Val;
    if depth > 8 || out.len() > 1000 {
        return;
    }
    match v {
        Val::Str(s) => out.push((prefix, s.clone())),
        Val::Obj(props) => {
            for (k, v) in props {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(facts, v, key, out, depth + 1);
            }
        }
        Val::Ident(n) => {
            if let Some(vals) = facts.bindings.get(n) {
                for v in vals.clone() {
                    flatten(facts, &v, prefix.clone(), out, depth + 1);
                }
            }
        }
        Val::Call(ch) => {
            let Some(last) = ch.segs.last() else { return };
            let args = last.args.as_deref().unwrap_or(&[]);
            if matches!(last.name.as_str(), "join" | "resolve") {
                let parts: Vec<&str> = args
                    .iter()
                    .filter_map(|a| match a {
                        Val::Str(s) => Some(s.as_str()),
                        _ => None,
                    })
                    .collect();
                if !parts.is_empty() {
                    out.push((prefix, parts.iter().fold(String::new(), |acc, p| follow::join(&acc, p))));
                }
            } else if let Some(first) = args.first() {
                // `defineConfig({...})`
                flatten(facts, first, prefix, out, depth + 1);
            }
        }
        _ => {}
    }
}

/// The tool name findings are attributed to.
pub fn tool_of(lang: Lang) -> &'static str {
    match lang {
        Lang::JavaScript | Lang::TypeScript => "node",
        Lang::Python => "python",
        Lang::Ruby => "ruby",
    }
}

/// Read and summarize a file through the lookup (which may answer from its cache).
pub(crate) fn load(lookup: &dyn Lookup, path: &str, lang: Lang) -> Option<Summary> {
    let owned = path.to_string();
    lookup.script_summary(path, lang.key(), &move |bytes: &[u8]| {
        summarize(&owned, bytes, lang, tool_of(lang))
    })
}
