//! Workspaces: `pnpm --filter api db:reset`, `pnpm -r exec ...`, `turbo run db:reset
//! --filter=api`, `nx run api:db-reset`, `lerna run`, `npm run -w api`, `yarn workspace`.
//! The packages come from [`Lookup::workspace_packages`]; each selected package's own
//! package.json script (or nx target) is analyzed as running in that package's directory,
//! so its files and env files are the ones the target is resolved from.

use serde_json::Value;

use super::env::{normalize, ShellEnv};
use super::limits::mentions_risky;
use super::parse::Word;
use super::recognizers::Input;
use super::words::shell_quote;
use super::Analyzer;
use crate::lookup::{Lookup, WorkspacePackage};

/// Packages followed for one command (a monorepo's `pnpm -r` can name hundreds).
const MAX_PACKAGES: usize = 64;

/// What runs in each selected package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Task {
    /// A package.json script by name.
    Script(String),
    /// The command in the words from this index on (`pnpm -r exec prisma migrate reset`).
    Exec(usize),
    /// A script of that name where a package has one, else the command from this index
    /// (`pnpm -r prisma migrate reset` runs the bin in packages without such a script).
    ScriptOr(String, usize),
    /// An nx target (project.json `targets`, or the package.json script of that name).
    Nx(String),
}

fn json_at(lookup: &dyn Lookup, dir: &str, file: &str) -> Option<Value> {
    let path = if dir.is_empty() || dir == "." {
        file.to_string()
    } else {
        format!("{}/{file}", dir.trim_end_matches('/'))
    };
    serde_json::from_str(&lookup.read_file(&path)?).ok()
}

/// A script of the package.json in `dir` (relative to the working directory).
pub fn script_in(lookup: &dyn Lookup, dir: &str, name: &str) -> Option<String> {
    if dir == "." {
        return lookup.package_script(name);
    }
    json_at(lookup, dir, "package.json")?
        .get("scripts")?
        .get(name)?
        .as_str()
        .map(str::to_string)
}

/// Every script name of the package.json in `dir`.
pub fn script_names_in(lookup: &dyn Lookup, dir: &str) -> Option<Vec<String>> {
    if dir == "." {
        return lookup.package_script_names();
    }
    let pkg = json_at(lookup, dir, "package.json")?;
    Some(pkg.get("scripts")?.as_object()?.keys().cloned().collect())
}

/// npm-run-all / concurrently patterns: `*` within a `:` segment, `**` across them.
pub fn script_glob(pattern: &str, name: &str) -> bool {
    fn go(p: &[u8], n: &[u8]) -> bool {
        match p.first() {
            None => n.is_empty(),
            Some(b'*') if p.get(1) == Some(&b'*') => (0..=n.len()).any(|k| go(&p[2..], &n[k..])),
            Some(b'*') => (0..=n.len())
                .take_while(|k| *k == 0 || n[k - 1] != b':')
                .any(|k| go(&p[1..], &n[k..])),
            Some(c) => n.first() == Some(c) && go(&p[1..], &n[1..]),
        }
    }
    go(pattern.as_bytes(), name.as_bytes())
}

/// A glob where `*` matches anything (package names, paths).
fn name_glob(pattern: &str, text: &str) -> bool {
    crate::environment::glob_match(pattern, text)
}

/// The packages a list of selectors picks (pnpm/turbo `--filter`, nx `-p`, lerna
/// `--scope`, npm `-w`): names, globs, paths (`./packages/api`, `{packages/api}`,
/// `packages/*`), `name...` / `...name` (dependencies and dependents: the package itself
/// is taken, and every package when it cannot be told which), `!name` to exclude. No
/// selector: every package but the root.
pub fn select<'p>(packages: &'p [WorkspacePackage], selectors: &[String]) -> Vec<&'p WorkspacePackage> {
    let includes: Vec<&str> = selectors
        .iter()
        .map(String::as_str)
        .filter(|s| !s.starts_with('!'))
        .collect();
    let excludes: Vec<&str> = selectors.iter().filter_map(|s| s.strip_prefix('!')).collect();
    let matches = |p: &WorkspacePackage, sel: &str| {
        let sel = sel
            .trim_start_matches("...")
            .trim_start_matches('^')
            .trim_end_matches("...");
        let sel = sel.trim_start_matches("...").trim_start_matches('^');
        if sel.is_empty() || sel.starts_with('[') {
            // `[origin/main]`: changed since a git ref, not knowable here: all of them.
            return true;
        }
        let path = sel.trim_start_matches('{').trim_end_matches('}');
        if sel.starts_with('{')
            || sel.starts_with('.')
            || sel.starts_with('/')
            || sel.contains('/') && !sel.starts_with('@')
        {
            let want = normalize(path.trim_end_matches("/**").trim_end_matches("/*"));
            let dir = normalize(&p.dir);
            return dir == want || dir.starts_with(&format!("{want}/")) || name_glob(&normalize(path), &dir);
        }
        name_glob(sel, &p.name) || p.name.rsplit('/').next() == Some(sel)
    };
    packages
        .iter()
        .filter(|p| {
            if includes.is_empty() {
                p.dir != "."
            } else {
                includes.iter().any(|s| matches(p, s))
            }
        })
        .filter(|p| !excludes.iter().any(|s| matches(p, s)))
        .take(MAX_PACKAGES)
        .collect()
}

/// The commands an nx target runs in a project, each with the directory it runs in
/// (`None`: the workspace root, where `nx:run-commands` runs by default). `None` when
/// the target is not known to be a shell command (another executor, or no such target).
pub fn nx_commands(lookup: &dyn Lookup, dir: &str, target: &str) -> Option<Vec<(Option<String>, String)>> {
    let project = json_at(lookup, dir, "project.json");
    let Some(t) = project.as_ref().and_then(|p| p.get("targets")?.get(target)) else {
        // Inferred targets: the package.json script of that name, in the project; a project
        // without either has no such target (nx skips it).
        return Some(
            script_in(lookup, dir, target)
                .map(|s| vec![(Some(dir.to_string()), s)])
                .unwrap_or_default(),
        );
    };
    let executor = t.get("executor").and_then(Value::as_str).unwrap_or("");
    let mut option_sets = vec![t.get("options")];
    if let Some(confs) = t.get("configurations").and_then(Value::as_object) {
        option_sets.extend(confs.values().map(Some));
    }
    let mut out = Vec::new();
    if executor.ends_with(":run-script") {
        for o in option_sets.into_iter().flatten() {
            if let Some(s) = o.get("script").and_then(Value::as_str) {
                out.push((Some(dir.to_string()), script_in(lookup, dir, s)?));
            }
        }
        return Some(out);
    }
    let run_commands = executor.ends_with(":run-commands") || (executor.is_empty() && t.get("command").is_some());
    if !run_commands {
        return None;
    }
    if let Some(c) = t.get("command").and_then(Value::as_str) {
        out.push((None, c.to_string()));
    }
    for o in option_sets.into_iter().flatten() {
        let cwd = o.get("cwd").and_then(Value::as_str).map(str::to_string);
        if let Some(c) = o.get("command").and_then(Value::as_str) {
            out.push((cwd.clone(), c.to_string()));
        }
        for c in o.get("commands").and_then(Value::as_array).into_iter().flatten() {
            let text = c.as_str().or_else(|| c.get("command").and_then(Value::as_str));
            if let Some(text) = text {
                out.push((cwd.clone(), text.to_string()));
            }
        }
    }
    Some(out)
}

impl Analyzer<'_> {
    /// Run `task` in each package the selectors pick.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn workspace(
        &mut self,
        selectors: &[String],
        task: &Task,
        words: &[Word],
        extra: &[Word],
        env: &mut ShellEnv,
        input: &Input,
        statement: &str,
        depth: usize,
    ) {
        let packages = self.lookup.workspace_packages();
        let Some(packages) = packages.filter(|p| !p.is_empty()) else {
            // Not a workspace we can read: the working directory's own scripts.
            let root_script = |n: &str| self.lookup.package_script(n).is_some();
            return match task {
                Task::Script(name) => self.package_script(name, extra, false, env, input, statement, depth),
                Task::ScriptOr(name, _) if root_script(name) => {
                    self.package_script(name, extra, false, env, input, statement, depth)
                }
                Task::Exec(i) | Task::ScriptOr(_, i) => {
                    let rest = words.get(*i..).unwrap_or(&[]).to_vec();
                    self.words(rest, env.child(), input, statement, depth, None)
                }
                Task::Nx(target) => match nx_commands(self.lookup, ".", target) {
                    Some(cmds) => {
                        for (_, c) in cmds {
                            self.text(&c, &mut env.child(), input, depth + 1);
                        }
                    }
                    None if mentions_risky(target) || target.contains("db") => self.unknown(
                        statement,
                        format!(
                            "runs the nx target {target}, which could not be read; its name suggests database changes"
                        ),
                    ),
                    None => {}
                },
            };
        };
        let selected = select(&packages, selectors);
        let mut ran = false;
        for pkg in selected {
            let mut child = env.child();
            let dir = normalize(&pkg.dir);
            child.dir = (dir != ".").then(|| dir.clone());
            match task {
                Task::Script(name) => {
                    let Some(mut body) = script_in(self.lookup, &dir, name) else {
                        continue;
                    };
                    for w in extra {
                        body.push(' ');
                        body.push_str(&if w.dynamic {
                            w.text.clone()
                        } else {
                            shell_quote(&w.text)
                        });
                    }
                    ran = true;
                    self.text(&body, &mut child, input, depth + 1);
                }
                Task::Exec(i) => {
                    ran = true;
                    let rest = words.get(*i..).unwrap_or(&[]).to_vec();
                    self.words(rest, child, input, statement, depth + 1, None);
                }
                Task::ScriptOr(name, i) => {
                    ran = true;
                    match script_in(self.lookup, &dir, name) {
                        Some(body) => self.text(&body, &mut child, input, depth + 1),
                        None => {
                            let rest = words.get(*i..).unwrap_or(&[]).to_vec();
                            self.words(rest, child, input, statement, depth + 1, None);
                        }
                    }
                }
                Task::Nx(target) => match nx_commands(self.lookup, &dir, target) {
                    Some(cmds) => {
                        ran = true;
                        for (cwd, c) in cmds {
                            let mut at = env.child();
                            at.dir = cwd.map(|d| normalize(&d)).filter(|d| d != ".");
                            self.text(&c, &mut at, input, depth + 1);
                        }
                    }
                    None => {
                        if mentions_risky(target) || target.contains("db") {
                            self.unknown(
                                statement,
                                format!(
                                    "runs the nx target {target} of {}, whose executor dbguard cannot read; its name suggests database changes",
                                    pkg.name
                                ),
                            );
                        }
                    }
                },
            }
        }
        if !ran {
            if let Task::Script(name) = task {
                if selectors.is_empty() && self.lookup.package_script(name).is_some() {
                    // `turbo run X` with only a root script.
                    self.package_script(name, extra, false, env, input, statement, depth);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkgs() -> Vec<WorkspacePackage> {
        [
            (".", "root"),
            ("packages/api", "@shop/api"),
            ("packages/web", "@shop/web"),
            ("tools/db", "db-tools"),
        ]
        .iter()
        .map(|(d, n)| WorkspacePackage {
            dir: d.to_string(),
            name: n.to_string(),
        })
        .collect()
    }

    fn names(sel: &[&str]) -> Vec<String> {
        let p = pkgs();
        let s: Vec<String> = sel.iter().map(|s| s.to_string()).collect();
        select(&p, &s).iter().map(|p| p.name.clone()).collect()
    }

    #[test]
    fn selectors() {
        assert_eq!(names(&["@shop/api"]), ["@shop/api"]);
        assert_eq!(names(&["api"]), ["@shop/api"]);
        assert_eq!(names(&["@shop/*"]), ["@shop/api", "@shop/web"]);
        assert_eq!(names(&["./tools/db"]), ["db-tools"]);
        assert_eq!(names(&["{packages/**}", "!@shop/web"]), ["@shop/api"]);
        assert_eq!(names(&["@shop/api..."]), ["@shop/api"]);
        assert_eq!(names(&[]), ["@shop/api", "@shop/web", "db-tools"]);
        assert_eq!(names(&["[origin/main]"]).len(), 4);
    }

    #[test]
    fn globs() {
        assert!(script_glob("db:*", "db:reset"));
        assert!(!script_glob("db:*", "db:seed:all"));
        assert!(script_glob("db:**", "db:seed:all"));
        assert!(!script_glob("build", "db:reset"));
    }
}
