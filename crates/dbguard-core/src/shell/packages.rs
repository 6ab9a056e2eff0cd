//! Package managers: `npx` / `bunx` / `pnpm dlx` / `npm exec` (a package's bin), `npm run`,
//! `pnpm X`, `yarn X`, `bun X` (package.json scripts, bins, builtins), with their workspace
//! options (`pnpm --filter` / `-r`, `npm -w` / `--workspaces`, `yarn workspace NAME`,
//! `yarn workspaces foreach`, `bun --filter`) and directory options (`pnpm -C DIR`,
//! `npm --prefix DIR`, `yarn --cwd DIR`, which run the command as `cd DIR && ...`).

use super::parse::Word;
use super::words::{basename, join_words, shell_quote};
use super::workspace::Task;
use super::wrappers::Step;
use crate::lookup::Lookup;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pm {
    Npm,
    Pnpm,
    Yarn,
    Bun,
}

/// What a package manager's own options select.
#[derive(Debug, Default)]
struct Scope {
    selectors: Vec<String>,
    recursive: bool,
    dir: Option<String>,
    /// Word indices of the directory option (dropped when re-running as `cd DIR && ...`).
    dir_words: Vec<usize>,
}

impl Scope {
    fn workspace(&self) -> bool {
        self.recursive || !self.selectors.is_empty()
    }

    /// Consume the package manager's options from `i`; the index after them.
    fn eat(&mut self, pm: Pm, words: &[Word], mut i: usize) -> usize {
        while let Some(w) = words.get(i) {
            let t = w.text.as_str();
            if !t.starts_with('-') || t == "--" || t == "-" {
                break;
            }
            let (key, inline) = match t.split_once('=') {
                Some((k, v)) => (k, Some(v.to_string())),
                None => (t, None),
            };
            let start = i;
            i += 1;
            let value = |i: &mut usize| {
                inline.clone().or_else(|| {
                    *i += 1;
                    words.get(*i - 1).map(|w| w.text.clone())
                })
            };
            match (pm, key) {
                (Pm::Pnpm | Pm::Bun, "--filter" | "-F" | "--filter-prod") | (Pm::Npm, "--workspace" | "-w") => {
                    self.selectors.extend(value(&mut i));
                }
                (Pm::Pnpm, "-r" | "--recursive") | (Pm::Npm, "--workspaces" | "-ws") => self.recursive = true,
                (Pm::Pnpm, "-w" | "--workspace-root") => self.selectors.push(".".into()),
                (Pm::Pnpm, "-C" | "--dir") | (Pm::Npm, "--prefix" | "-C") | (Pm::Yarn | Pm::Bun, "--cwd") => {
                    self.dir = value(&mut i);
                    self.dir_words.extend(start..i);
                }
                (
                    _,
                    "--workspace-concurrency"
                    | "--reporter"
                    | "--loglevel"
                    | "--resume-from"
                    | "--userconfig"
                    | "--cache"
                    | "--registry"
                    | "--changed-files-ignore-pattern"
                    | "--test-pattern",
                ) => {
                    let _ = value(&mut i);
                }
                _ => {}
            }
        }
        i
    }

    /// `cd DIR && <the same command without the directory option>`.
    fn in_dir(&self, words: &[Word]) -> Option<Step> {
        let dir = self.dir.as_ref()?;
        let rest: Vec<Word> = words
            .iter()
            .enumerate()
            .filter(|(k, _)| !self.dir_words.contains(k))
            .map(|(_, w)| w.clone())
            .collect();
        Some(Step::Shell(
            format!("cd {} && {}", shell_quote(dir), join_words(&rest)),
            rest.iter().any(|w| w.dynamic),
        ))
    }

    fn run(self, task: Task, extra: Vec<Word>) -> Step {
        Step::Workspace {
            selectors: self.selectors,
            task,
            extra,
        }
    }

    /// Script `name` in the selected workspace packages, else in the working directory's
    /// package.json (`hooks`: npm also runs its `pre`/`post` scripts).
    fn script(self, name: String, extra: Vec<Word>, hooks: bool) -> Step {
        if self.workspace() {
            self.run(Task::Script(name), extra)
        } else {
            Step::PkgScript { name, extra, hooks }
        }
    }
}

/// `prisma@6.1.0` -> `prisma`, `@mikro-orm/cli@6` -> `mikro-orm`, `sequelize-cli` -> `sequelize`.
pub fn package_bin(spec: &str) -> String {
    let name = if let Some(scoped) = spec.strip_prefix('@') {
        match scoped.find('@') {
            Some(at) => &spec[..at + 1],
            None => spec,
        }
    } else {
        spec.split('@').next().unwrap_or(spec)
    };
    match name {
        "@mikro-orm/cli" => "mikro-orm".into(),
        "@prisma/cli" => "prisma".into(),
        "sequelize-cli" => "sequelize".into(),
        "@sqlx/cli" | "sqlx-cli" => "sqlx".into(),
        "dotenv-cli" => "dotenv".into(),
        "@dotenvx/dotenvx" => "dotenvx".into(),
        "npm-run-all2" => "npm-run-all".into(),
        "nx" | "@nrwl/cli" | "@nx/cli" => "nx".into(),
        other => basename(other).to_string(),
    }
}

/// `npx [--yes] [-p pkg] pkg[@ver] args`, `npm exec`, `bunx`, `pnpm dlx`, `yarn dlx`.
pub fn npx(words: &[Word], from: usize) -> Step {
    let mut i = from;
    let mut package_given = false;
    while let Some(w) = words.get(i) {
        let t = w.text.as_str();
        match t {
            "--" => {
                i += 1;
                break;
            }
            "-c" | "--call" => {
                return words
                    .get(i + 1)
                    .map_or(Step::Nothing, |w| Step::Shell(w.text.clone(), w.dynamic));
            }
            "-p" | "--package" => {
                package_given = true;
                i += 2;
            }
            "-w" | "--workspace" | "--prefix" | "-C" | "--userconfig" | "--cache" | "--registry" | "--loglevel" => {
                i += 2;
            }
            _ if t.starts_with("--call=") => return Step::Shell(t[7..].to_string(), w.dynamic),
            _ if t.starts_with("--package=") => {
                package_given = true;
                i += 1;
            }
            _ if t.starts_with('-') => i += 1,
            _ => break,
        }
    }
    match words.get(i) {
        // With -p the next word is a bin name, not a package spec.
        Some(w) if package_given => Step::Rename(basename(&w.text).to_string(), i + 1),
        Some(w) => Step::Rename(package_bin(&w.text), i + 1),
        None => Step::Nothing,
    }
}

pub const PNPM_BUILTINS: &[&str] = &[
    "install",
    "i",
    "add",
    "remove",
    "rm",
    "uninstall",
    "un",
    "update",
    "up",
    "upgrade",
    "link",
    "ln",
    "unlink",
    "import",
    "publish",
    "pack",
    "store",
    "outdated",
    "list",
    "ls",
    "why",
    "audit",
    "licenses",
    "init",
    "create",
    "setup",
    "env",
    "config",
    "c",
    "server",
    "deploy",
    "prune",
    "fetch",
    "rebuild",
    "rb",
    "patch",
    "patch-commit",
    "root",
    "bin",
    "install-test",
    "it",
    "approve-builds",
    "dedupe",
    "self-update",
    "help",
    "-v",
    "--version",
    "info",
    "view",
];
pub const YARN_BUILTINS: &[&str] = &[
    "install",
    "add",
    "remove",
    "upgrade",
    "up",
    "why",
    "info",
    "init",
    "link",
    "unlink",
    "pack",
    "publish",
    "cache",
    "config",
    "set",
    "plugin",
    "npm",
    "constraints",
    "version",
    "workspaces",
    "dedupe",
    "patch",
    "patch-commit",
    "explain",
    "install-state",
    "import",
    "outdated",
    "list",
    "audit",
    "autoclean",
    "check",
    "global",
    "login",
    "logout",
    "owner",
    "tag",
    "team",
    "licenses",
    "generate-lock-entry",
    "help",
    "--version",
    "-v",
    "node",
    "bin",
    "create",
];
pub const BUN_BUILTINS: &[&str] = &[
    "install",
    "i",
    "add",
    "a",
    "remove",
    "rm",
    "update",
    "outdated",
    "link",
    "unlink",
    "pm",
    "build",
    "init",
    "create",
    "upgrade",
    "repl",
    "publish",
    "patch",
    "audit",
    "info",
    "why",
    "-v",
    "--version",
    "help",
    "--help",
    "test",
];

/// Extra arguments after a script name (`--` dropped), and npm's workspace flags among them.
fn script_args(pm: Pm, words: &[Word], from: usize, scope: &mut Scope) -> Vec<Word> {
    let mut extra = Vec::new();
    let mut i = from;
    let mut passthrough = false;
    while let Some(w) = words.get(i) {
        if !passthrough && w.text == "--" {
            passthrough = true;
            i += 1;
            continue;
        }
        if !passthrough && pm == Pm::Npm && w.text.starts_with('-') {
            let next = scope.eat(pm, words, i);
            if scope.workspace() && next > i {
                i = next;
                continue;
            }
        }
        extra.push(w.clone());
        i += 1;
    }
    extra
}

pub fn npm(words: &[Word]) -> Step {
    let mut scope = Scope::default();
    let i = scope.eat(Pm::Npm, words, 1);
    let sub = words.get(i).map_or("", |w| w.text.as_str());
    if matches!(
        sub,
        "run" | "run-script" | "rum" | "urn" | "test" | "t" | "tst" | "start" | "stop" | "restart" | "exec" | "x"
    ) {
        if let Some(s) = scope.in_dir(words) {
            return s;
        }
    }
    match sub {
        "run" | "run-script" | "rum" | "urn" => {
            let j = scope.eat(Pm::Npm, words, i + 1);
            let Some(name) = words.get(j).map(|w| w.text.clone()) else {
                return Step::Nothing;
            };
            let extra = script_args(Pm::Npm, words, j + 1, &mut scope);
            scope.script(name, extra, true)
        }
        "test" | "t" | "tst" | "start" | "stop" | "restart" => {
            let name = if sub.starts_with('t') { "test" } else { sub };
            let extra = script_args(Pm::Npm, words, i + 1, &mut scope);
            scope.script(name.into(), extra, true)
        }
        "exec" | "x" => {
            let j = scope.eat(Pm::Npm, words, i + 1);
            if scope.workspace() {
                let k = j + usize::from(words.get(j).is_some_and(|w| w.text == "--"));
                scope.run(Task::Exec(k), Vec::new())
            } else {
                npx(words, i + 1)
            }
        }
        _ => Step::Nothing,
    }
}

/// `pnpm X`, `yarn X`, `bun X`: a builtin, `run`/`exec`/`dlx`, or a script/bin name, in
/// the working directory or the workspace packages the options pick.
pub fn pnpm_like(words: &[Word], from: usize, lookup: &dyn Lookup, pm: Pm) -> Step {
    pnpm_scoped(words, from, lookup, pm, Scope::default())
}

fn pnpm_scoped(words: &[Word], from: usize, lookup: &dyn Lookup, pm: Pm, mut scope: Scope) -> Step {
    let builtins = match pm {
        Pm::Yarn => YARN_BUILTINS,
        Pm::Bun => BUN_BUILTINS,
        _ => PNPM_BUILTINS,
    };
    let i = scope.eat(pm, words, from);
    if let Some(s) = scope.in_dir(words) {
        return s;
    }
    let Some(w) = words.get(i) else { return Step::Nothing };
    let sub = w.text.as_str();
    let script = |scope: Scope, name: String, at: usize| {
        let extra: Vec<Word> = words[at..].iter().skip_while(|w| w.text == "--").cloned().collect();
        scope.script(name, extra, false)
    };
    match sub {
        "run" | "run-script" => {
            let j = scope.eat(pm, words, i + 1);
            match words.get(j) {
                // `bun run seed.ts`: a file, not a package script: the interpreter recognizer reads it.
                Some(n) if pm == Pm::Bun && is_script_file(&n.text) && lookup.package_script(&n.text).is_none() => {
                    Step::Done
                }
                Some(n) => script(scope, n.text.clone(), j + 1),
                None => Step::Nothing,
            }
        }
        "exec" => {
            let j = scope.eat(pm, words, i + 1);
            let j = j + usize::from(words.get(j).is_some_and(|w| w.text == "--"));
            if scope.workspace() {
                scope.run(Task::Exec(j), Vec::new())
            } else {
                Step::Skip(j, Vec::new())
            }
        }
        "dlx" => npx(words, i + 1),
        "workspace" if pm == Pm::Yarn => {
            // `yarn workspace NAME cmd...`: the same grammar after the workspace name.
            let Some(name) = words.get(i + 1) else {
                return Step::Nothing;
            };
            scope.selectors.push(name.text.clone());
            pnpm_scoped(words, i + 2, lookup, pm, scope)
        }
        "workspaces" if pm == Pm::Yarn => yarn_workspaces(words, i + 1, scope),
        "test" | "start" | "t" => script(scope, if sub == "t" { "test".into() } else { sub.into() }, i + 1),
        _ if builtins.contains(&sub) => Step::Nothing,
        // `pnpm -r db:reset`: a script of each package; a bin where none has it.
        _ if scope.workspace() => scope.run(Task::ScriptOr(sub.to_string(), i), Vec::new()),
        _ if lookup.package_script(sub).is_some() => script(scope, sub.to_string(), i + 1),
        // A file (`bun seed.ts`): the interpreter recognizer reads it.
        _ if is_script_file(sub) => Step::Done,
        _ => Step::Rename(basename(sub).to_string(), i + 1),
    }
}

/// A file a JavaScript runtime runs (rather than a package script or bin).
fn is_script_file(s: &str) -> bool {
    [".ts", ".js", ".mjs", ".cjs", ".tsx", ".jsx", ".mts", ".cts"]
        .iter()
        .any(|e| s.ends_with(e))
}

/// `yarn workspaces foreach [-A] [--include P] [--exclude P] run|exec ...` (berry) and
/// `yarn workspaces run SCRIPT` (classic).
fn yarn_workspaces(words: &[Word], from: usize, mut scope: Scope) -> Step {
    let mut i = from;
    if words.get(i).is_some_and(|w| w.text == "foreach") {
        i += 1;
        while let Some(w) = words.get(i) {
            let t = w.text.as_str();
            if !t.starts_with('-') {
                break;
            }
            i += 1;
            let (key, inline) = match t.split_once('=') {
                Some((k, v)) => (k, Some(v.to_string())),
                None => (t, None),
            };
            if matches!(key, "--include" | "--exclude" | "--from" | "--since" | "-j" | "--jobs") {
                let v = inline.or_else(|| {
                    i += 1;
                    words.get(i - 1).map(|w| w.text.clone())
                });
                match (key, v) {
                    ("--include" | "--from", Some(v)) => scope.selectors.push(v),
                    ("--exclude", Some(v)) => scope.selectors.push(format!("!{v}")),
                    _ => {}
                }
            }
        }
    }
    scope.recursive = true;
    match words.get(i).map(|w| w.text.as_str()) {
        Some("run") => match words.get(i + 1) {
            Some(n) => {
                let extra = words[i + 2..].iter().skip_while(|w| w.text == "--").cloned().collect();
                scope.run(Task::Script(n.text.clone()), extra)
            }
            None => Step::Nothing,
        },
        Some("exec") => scope.run(Task::Exec(i + 1), Vec::new()),
        _ => Step::Nothing,
    }
}
