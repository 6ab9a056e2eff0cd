//! Following a script into the local modules it imports, within bounds, and counting only
//! what running it can reach: the entry's top-level code and the functions it calls; in an
//! imported module, its top-level code and the functions the importer uses (by name, through
//! a namespace binding, or all of them for `export *` and side-effect imports). Route and
//! event handlers count nowhere: they run later, if ever.
//!
//! Reaching a bound (depth, files, bytes) stops the walk silently: the modules left out are
//! ordinary application code more often than not, and an alarm on every large project would
//! teach people to ignore it. This is a documented limit.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::finding::Finding;
use crate::lookup::Lookup;

use super::ir::Ctx;
use super::{load, summarize, tool_of, Lang, Summary};

/// Import hops followed from the entry file.
pub const MAX_DEPTH: usize = 4;
/// Files read for one command.
pub const MAX_FILES: usize = 64;
/// Bytes read for one command (the entry file always counts).
pub const MAX_BYTES: u64 = 16 * 1024 * 1024;

/// What of a file counts.
#[derive(Debug, Clone, PartialEq)]
enum Use {
    /// Run as a script: top-level code and what it calls.
    Run,
    /// Imported: top-level code and these names (`*` = everything).
    Names(BTreeSet<String>),
}

struct Walk<'l> {
    lookup: &'l dyn Lookup,
    files: BTreeMap<String, (Lang, Summary, usize)>,
    uses: BTreeMap<String, Use>,
    bytes: u64,
}

/// Findings of running the script at `path` (relative to the working directory).
pub fn analyze_run(path: &str, lang: Lang, lookup: &dyn Lookup) -> Vec<Finding> {
    let mut w = Walk::new(lookup);
    let Some(s) = load(lookup, path, lang) else {
        return Vec::new();
    };
    w.add(path.to_string(), lang, s, 0, Use::Run);
    w.run()
}

/// Findings of modules run by a tool that calls the named functions of each (`seed` of a
/// knex seed file, `up` of a sequelize seeder); an empty list runs the whole file.
pub fn analyze_modules(files: &[(String, Vec<String>)], lookup: &dyn Lookup) -> Vec<Finding> {
    let mut w = Walk::new(lookup);
    for (path, names) in files {
        let Some(lang) = Lang::of_path(path) else { continue };
        if w.files.len() >= MAX_FILES {
            break;
        }
        let Some(s) = load(lookup, path, lang) else {
            continue;
        };
        let u = if names.is_empty() {
            Use::Run
        } else {
            Use::Names(names.iter().cloned().collect())
        };
        w.add(path.clone(), lang, s, 0, u);
    }
    w.run()
}

/// Findings of inline code (`node -e`, `python -c`, `rails runner 'code'`): run as a script
/// from the working directory.
pub fn analyze_inline(code: &str, lang: Lang, lookup: &dyn Lookup) -> Vec<Finding> {
    let s = summarize("", code.as_bytes(), lang, tool_of(lang));
    let mut w = Walk::new(lookup);
    w.add(String::new(), lang, s, 0, Use::Run);
    w.run()
}

impl<'l> Walk<'l> {
    fn new(lookup: &'l dyn Lookup) -> Self {
        Walk {
            lookup,
            files: BTreeMap::new(),
            uses: BTreeMap::new(),
            bytes: 0,
        }
    }

    fn add(&mut self, path: String, lang: Lang, s: Summary, depth: usize, u: Use) {
        self.bytes += s.bytes;
        self.files.insert(path.clone(), (lang, s, depth));
        self.uses.insert(path, u);
    }

    fn run(mut self) -> Vec<Finding> {
        let mut queue: VecDeque<String> = self.files.keys().cloned().collect();
        let mut rounds = 0;
        while let Some(path) = queue.pop_front() {
            rounds += 1;
            if rounds > MAX_FILES * 8 {
                break;
            }
            let Some((lang, summary, depth)) = self.files.get(&path).cloned() else {
                continue;
            };
            if depth >= MAX_DEPTH {
                continue;
            }
            for imp in &summary.imports {
                let mut names: BTreeSet<String> = imp.names.iter().cloned().collect();
                if let Some(b) = &imp.binding {
                    // A module taken as a whole value: what is used on it, and its default.
                    names.extend(summary.member_uses.get(b).cloned().unwrap_or_default());
                    names.insert("default".into());
                    names.insert("exports".into());
                }
                if names.is_empty() {
                    names.insert("*".into());
                }
                if self.files.len() >= MAX_FILES || self.bytes >= MAX_BYTES {
                    continue;
                }
                for (target, loaded) in self.resolve(&path, &imp.spec, &imp.names, lang) {
                    if let Some(s) = loaded {
                        let tlang = Lang::of_path(&target).unwrap_or(lang);
                        self.add(target.clone(), tlang, s, depth + 1, Use::Names(BTreeSet::new()));
                    }
                    if let Some(Use::Names(have)) = self.uses.get_mut(&target) {
                        let before = have.len();
                        have.extend(names.iter().cloned());
                        if have.len() != before {
                            queue.push_back(target.clone());
                        }
                    }
                }
            }
        }
        let mut out = Vec::new();
        for (path, (_, s, _)) in &self.files {
            let u = self.uses.get(path).cloned().unwrap_or(Use::Run);
            let (all, roots) = match &u {
                Use::Run => (false, s.top_calls.clone()),
                Use::Names(n) => (n.contains("*"), s.top_calls.union(n).cloned().collect()),
            };
            let reach = reachable(&roots, &s.fn_calls);
            for f in &s.findings {
                let counts = match &f.ctx {
                    Ctx::Top => true,
                    Ctx::Func(name) => all || reach.contains(name),
                    Ctx::Handler => false,
                };
                if counts {
                    out.push(f.finding.clone());
                }
            }
        }
        out
    }

    /// The files an import names, relative to the importing file, with the summary of each
    /// one not read yet.
    fn resolve(&self, from: &str, spec: &str, names: &[String], lang: Lang) -> Vec<(String, Option<Summary>)> {
        let dir = match from.rfind('/') {
            Some(i) => &from[..i],
            None => "",
        };
        let mut candidates: Vec<String> = Vec::new();
        match lang {
            Lang::JavaScript | Lang::TypeScript => {
                let base = join(dir, spec);
                let exts = ["ts", "tsx", "js", "mjs", "cjs", "jsx", "mts", "cts"];
                if Lang::of_path(&base).is_some() {
                    candidates.push(base.clone());
                    // TypeScript's ESM convention: `./db.js` is `./db.ts` on disk.
                    if let Some(stem) = base
                        .strip_suffix(".js")
                        .or_else(|| base.strip_suffix(".mjs"))
                        .or_else(|| base.strip_suffix(".cjs"))
                    {
                        candidates.extend(["ts", "mts", "cts", "tsx"].iter().map(|e| format!("{stem}.{e}")));
                    }
                }
                candidates.extend(exts.iter().map(|e| format!("{base}.{e}")));
                candidates.extend(exts.iter().map(|e| format!("{base}/index.{e}")));
            }
            Lang::Python => {
                let dots = spec.chars().take_while(|c| *c == '.').count();
                let rest = &spec[dots..];
                let rel = rest.replace('.', "/");
                let bases: Vec<String> = if dots > 0 {
                    let mut d = dir.to_string();
                    for _ in 1..dots {
                        d = match d.rfind('/') {
                            Some(i) => d[..i].to_string(),
                            None => String::new(),
                        };
                    }
                    vec![d]
                } else {
                    // An absolute import: from the script's folder or the working directory.
                    vec![dir.to_string(), String::new()]
                };
                for b in bases {
                    if rel.is_empty() {
                        // `from . import wipe`: the names are modules.
                        for n in names {
                            candidates.push(join(&b, &format!("{n}.py")));
                        }
                        candidates.push(join(&b, "__init__.py"));
                    } else {
                        candidates.push(join(&b, &format!("{rel}.py")));
                        candidates.push(join(&b, &format!("{rel}/__init__.py")));
                    }
                }
            }
            Lang::Ruby => {
                let base = join(dir, spec);
                if base.ends_with(".rb") {
                    candidates.push(base);
                } else {
                    candidates.push(format!("{base}.rb"));
                }
            }
        }
        // The first candidate that exists (or, for Python's `from . import a, b`, each name).
        let mut out = Vec::new();
        let every = lang == Lang::Python && spec.chars().all(|ch| ch == '.');
        for c in candidates {
            let found = if self.files.contains_key(&c) {
                Some(None)
            } else {
                load(self.lookup, &c, Lang::of_path(&c).unwrap_or(lang)).map(Some)
            };
            if let Some(s) = found {
                out.push((c, s));
                if !every {
                    break;
                }
            }
        }
        out
    }
}

/// Function names reachable from `roots` through `calls`.
fn reachable(roots: &BTreeSet<String>, calls: &BTreeMap<String, BTreeSet<String>>) -> BTreeSet<String> {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut stack: Vec<&String> = roots.iter().collect();
    while let Some(n) = stack.pop() {
        if seen.len() > 10_000 || !seen.insert(n.clone()) {
            continue;
        }
        if let Some(next) = calls.get(n) {
            stack.extend(next.iter());
        }
    }
    seen
}

/// `dir` + a relative path, with `.` and `..` resolved.
pub fn join(dir: &str, rel: &str) -> String {
    if rel.starts_with('/') || dir.is_empty() {
        crate::paths::normalize(rel)
    } else {
        crate::paths::normalize(&format!("{dir}/{rel}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins() {
        assert_eq!(join("scripts", "./db"), "scripts/db");
        assert_eq!(join("scripts", "../lib/db"), "lib/db");
        assert_eq!(join("", "./db"), "db");
        assert_eq!(join("", "../db"), "../db");
        assert_eq!(join("/p/scripts", "../db"), "/p/db");
    }
}
