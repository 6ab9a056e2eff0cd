//! Task runners whose recipes the lookup can read: `make TARGET` (Makefile recipes),
//! `just RECIPE` (justfile recipes) and `turbo run TASK` (package.json scripts). Each
//! becomes the shell text (or package script) it would run, for the analyzer to follow.
//!
//! Deliberately simple: no make variables or functions (`$(X)` stays a run-time value, so
//! a word built from it is dynamic), no pattern rules, no includes. A target that cannot be
//! found, or no readable Makefile, stays silent: make itself would fail.

use std::collections::HashSet;

use super::parse::Word;
use super::words::{basename, shell_quote};
use super::wrappers::Step;
use crate::lookup::Lookup;

/// Upper bound on recipe text followed for one invocation.
const MAX_RECIPE_BYTES: usize = 256 * 1024;

fn shell(lines: Vec<String>) -> Step {
    if lines.is_empty() {
        Step::Nothing
    } else {
        Step::Shell(lines.join("\n"), false)
    }
}

fn read(lookup: &dyn Lookup, dir: Option<&str>, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| {
        let path = match dir {
            Some(d) => format!("{}/{n}", d.trim_end_matches('/')),
            None => (*n).to_string(),
        };
        lookup.read_file(&path)
    })
}

// --- make ---

struct Rule {
    targets: Vec<String>,
    prereqs: Vec<String>,
    recipe: Vec<String>,
}

/// `make [-C dir] [-f file] [VAR=x] [target...]`.
pub fn make(words: &[Word], lookup: &dyn Lookup) -> Step {
    let mut dir: Option<String> = None;
    let mut file: Option<String> = None;
    let mut targets: Vec<String> = Vec::new();
    let mut i = 1;
    while let Some(w) = words.get(i) {
        let t = w.text.as_str();
        i += 1;
        if w.dynamic {
            // A target or option computed at run time: not followed.
            return Step::Nothing;
        }
        match t {
            "-n" | "--dry-run" | "--just-print" | "--recon" | "-q" | "--question" | "-h" | "--help" | "-v"
            | "--version" => return Step::Nothing,
            "-C" | "--directory" => {
                dir = words.get(i).map(|w| w.text.clone());
                i += 1;
            }
            "-f" | "--file" | "--makefile" => {
                file = words.get(i).map(|w| w.text.clone());
                i += 1;
            }
            "-I" | "-o" | "-W" | "--include-dir" | "--old-file" | "--what-if" | "--assume-old" | "--assume-new" => {
                i += 1
            }
            "-j" | "-l" | "--jobs" | "--load-average" => {
                if words
                    .get(i)
                    .is_some_and(|n| n.text.bytes().all(|c| c.is_ascii_digit() || c == b'.'))
                {
                    i += 1;
                }
            }
            _ if t.starts_with("--directory=") => dir = Some(t["--directory=".len()..].to_string()),
            _ if t.starts_with("--file=") || t.starts_with("--makefile=") => {
                file = t.split_once('=').map(|(_, v)| v.to_string());
            }
            _ if t.starts_with("-C") && t.len() > 2 => dir = Some(t[2..].to_string()),
            _ if t.starts_with("-f") && t.len() > 2 => file = Some(t[2..].to_string()),
            _ if t.starts_with('-') => {
                if !t.starts_with("--") && (t.contains('n') || t.contains('q')) {
                    return Step::Nothing;
                }
            }
            _ if t.contains('=') => {}
            _ => targets.push(t.to_string()),
        }
    }
    let text = match &file {
        Some(f) => read(lookup, dir.as_deref(), &[f.as_str()]),
        None => read(lookup, dir.as_deref(), &["GNUmakefile", "makefile", "Makefile"]),
    };
    let Some(text) = text else { return Step::Nothing };
    let rules = parse_makefile(&text);
    if targets.is_empty() {
        // The default goal: the first target that is not special (`.PHONY`) or a pattern.
        match rules
            .iter()
            .flat_map(|r| r.targets.iter())
            .find(|t| !t.starts_with('.') && !t.contains('%'))
        {
            Some(t) => targets.push(t.clone()),
            None => return Step::Nothing,
        }
    }
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut budget = MAX_RECIPE_BYTES;
    for t in &targets {
        make_target(t, &rules, &mut seen, &mut out, &mut budget);
    }
    if let Some(d) = dir.filter(|_| !out.is_empty()) {
        // Recipes run in that directory, recursive `$(MAKE)` calls included (the analyzer
        // follows `cd`).
        out.insert(0, format!("cd {}", shell_quote(&d)));
    }
    shell(out)
}

fn make_target(t: &str, rules: &[Rule], seen: &mut HashSet<String>, out: &mut Vec<String>, budget: &mut usize) {
    if !seen.insert(t.to_string()) {
        return;
    }
    let matching: Vec<&Rule> = rules.iter().filter(|r| r.targets.iter().any(|x| x == t)).collect();
    for r in &matching {
        for p in &r.prereqs {
            make_target(p, rules, seen, out, budget);
        }
    }
    for r in &matching {
        for line in &r.recipe {
            if line.len() > *budget {
                return;
            }
            *budget -= line.len();
            out.push(line.clone());
        }
    }
}

fn parse_makefile(text: &str) -> Vec<Rule> {
    let mut rules: Vec<Rule> = Vec::new();
    let mut cur: Option<usize> = None;
    let mut in_define = false;
    let mut continued = false;
    for raw in text.split('\n') {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let trimmed = line.trim_start();
        if in_define {
            if trimmed.starts_with("endef") {
                in_define = false;
            }
            continue;
        }
        if let Some(recipe) = line.strip_prefix('\t') {
            if let Some(r) = cur {
                let body = if continued {
                    recipe.to_string()
                } else {
                    recipe.trim_start_matches(['@', '-', '+', ' ', '\t']).to_string()
                };
                continued = body.ends_with('\\');
                rules[r].recipe.push(make_vars(&body));
            }
            continue;
        }
        continued = false;
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        cur = None;
        if line.starts_with(' ') {
            continue;
        }
        let first = trimmed.split_whitespace().next().unwrap_or("");
        if first == "define" {
            in_define = true;
            continue;
        }
        if matches!(
            first,
            "include"
                | "-include"
                | "sinclude"
                | "ifeq"
                | "ifneq"
                | "ifdef"
                | "ifndef"
                | "else"
                | "endif"
                | "export"
                | "unexport"
                | "override"
                | "vpath"
        ) {
            continue;
        }
        let Some(colon) = line.find(':') else { continue };
        if line[..colon].contains('=') || line[colon + 1..].starts_with('=') {
            continue; // a variable assignment
        }
        let rest = line[colon + 1..].trim_start_matches(':');
        let (deps, inline) = match rest.split_once(';') {
            Some((d, r)) => (d, Some(r.trim())),
            None => (rest, None),
        };
        if deps.contains('=') {
            continue; // a target-specific variable
        }
        let deps = deps.split('|').next().unwrap_or("");
        let deps = deps.split('#').next().unwrap_or("");
        let mut rule = Rule {
            targets: line[..colon].split_whitespace().map(str::to_string).collect(),
            prereqs: deps.split_whitespace().map(str::to_string).collect(),
            recipe: Vec::new(),
        };
        if let Some(r) = inline.filter(|r| !r.is_empty()) {
            rule.recipe.push(make_vars(r.trim_start_matches(['@', '-', '+'])));
        }
        rules.push(rule);
        cur = Some(rules.len() - 1);
    }
    rules
}

/// Make's `$$` is a shell `$`; make variables (`$(X)`, `${X}`, `$@`) become shell
/// parameter expansions that fail when unset (`${X:?}`): the Makefile may define them, so
/// only a value from the environment make inherits is taken. `$(MAKE)` is `make`.
fn make_vars(line: &str) -> String {
    if !line.contains('$') {
        return line.to_string();
    }
    let mut out = String::with_capacity(line.len() + 8);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('$') => out.push('$'),
            Some(open @ ('(' | '{')) => {
                let close = if open == '(' { ')' } else { '}' };
                let mut depth = 1;
                let mut inner = String::new();
                for d in chars.by_ref() {
                    if d == open {
                        depth += 1;
                    } else if d == close {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    inner.push(d);
                }
                if inner == "MAKE" {
                    out.push_str("make");
                } else {
                    let name: String = inner.chars().filter(|c| !"(){}$".contains(*c)).collect();
                    out.push_str("${");
                    out.push_str(&name);
                    out.push_str(":?}");
                }
            }
            Some(other) => {
                out.push_str("${");
                out.push(other);
                out.push_str(":?}");
            }
            None => out.push('$'),
        }
    }
    out
}

// --- just ---

struct Recipe {
    name: String,
    params: usize,
    variadic: bool,
    deps: Vec<String>,
    body: Vec<String>,
}

/// `just [options] [VAR=x] [recipe [args]...]`.
pub fn just(words: &[Word], lookup: &dyn Lookup) -> Step {
    let mut file: Option<String> = None;
    let mut dir: Option<String> = None;
    let mut pos: Vec<&Word> = Vec::new();
    let mut i = 1;
    while let Some(w) = words.get(i) {
        let t = w.text.as_str();
        i += 1;
        if !pos.is_empty() {
            pos.push(w);
            continue;
        }
        match t {
            "-n" | "--dry-run" | "-l" | "--list" | "--summary" | "-s" | "--show" | "--dump" | "--evaluate" | "-e"
            | "--edit" | "--init" | "--choose" | "--variables" | "--groups" | "--fmt" | "-h" | "--help" | "-V"
            | "--version" | "--completions" => return Step::Nothing,
            "-f" | "--justfile" => {
                file = words.get(i).map(|w| w.text.clone());
                i += 1;
            }
            "-d" | "--working-directory" => {
                dir = words.get(i).map(|w| w.text.clone());
                i += 1;
            }
            "--set" => i += 2,
            "--dotenv-path" | "--dotenv-filename" | "--shell" | "--shell-arg" | "--color" | "--unstable"
            | "--command-color" | "--list-heading" | "--list-prefix" => i += 1,
            _ if t.starts_with('-') => {}
            _ if t.contains('=') => {}
            _ => pos.push(w),
        }
    }
    if pos.first().is_some_and(|w| w.dynamic) {
        return Step::Nothing;
    }
    let text = match &file {
        Some(f) => lookup.read_file(f),
        None => read(lookup, dir.as_deref(), &["justfile", "Justfile", ".justfile"]),
    };
    let Some(text) = text else { return Step::Nothing };
    let (recipes, aliases) = parse_justfile(&text);
    let resolve = |n: &str| -> String {
        aliases
            .iter()
            .find(|(a, _)| a == n)
            .map_or_else(|| n.to_string(), |(_, t)| t.clone())
    };
    let mut wanted: Vec<String> = Vec::new();
    let mut k = 0;
    while k < pos.len() {
        let name = resolve(&pos[k].text);
        k += 1;
        if let Some(r) = recipes.iter().find(|r| r.name == name) {
            k = if r.variadic {
                pos.len()
            } else {
                (k + r.params).min(pos.len())
            };
        }
        wanted.push(name);
    }
    if wanted.is_empty() {
        match recipes.first() {
            Some(r) => wanted.push(r.name.clone()),
            None => return Step::Nothing,
        }
    }
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut budget = MAX_RECIPE_BYTES;
    for w in &wanted {
        just_recipe(w, &recipes, &mut seen, &mut out, &mut budget);
    }
    if let Some(d) = dir.filter(|_| !out.is_empty()) {
        out.insert(0, format!("cd {}", shell_quote(&d)));
    }
    shell(out)
}

fn just_recipe(name: &str, recipes: &[Recipe], seen: &mut HashSet<String>, out: &mut Vec<String>, budget: &mut usize) {
    if !seen.insert(name.to_string()) {
        return;
    }
    let Some(r) = recipes.iter().find(|r| r.name == name) else {
        return;
    };
    for d in &r.deps {
        just_recipe(d, recipes, seen, out, budget);
    }
    for line in &r.body {
        if line.len() > *budget {
            return;
        }
        *budget -= line.len();
        out.push(line.clone());
    }
}

fn parse_justfile(text: &str) -> (Vec<Recipe>, Vec<(String, String)>) {
    let mut recipes: Vec<Recipe> = Vec::new();
    let mut aliases = Vec::new();
    let mut cur: Option<usize> = None;
    let mut indent: Option<usize> = None;
    let mut shebang_skip = false;
    for raw in text.split('\n') {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim().is_empty() {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            let Some(r) = cur else { continue };
            let lead = line.len() - line.trim_start().len();
            let ind = *indent.get_or_insert(lead);
            let body = line.get(ind.min(lead)..).unwrap_or("");
            if recipes[r].body.is_empty() && body.starts_with("#!") {
                // A shebang recipe is a script for that interpreter: followed only for shells.
                shebang_skip = !super::wrappers::shell_shebang(body.as_bytes());
                continue;
            }
            if shebang_skip {
                continue;
            }
            let body = body.trim_start_matches(['@', '-']);
            recipes[r].body.push(just_vars(body));
            continue;
        }
        cur = None;
        indent = None;
        shebang_skip = false;
        let t = line.trim();
        if t.starts_with('#') || t.starts_with('[') {
            continue;
        }
        if let Some(rest) = t.strip_prefix("alias ") {
            if let Some((a, target)) = rest.split_once(":=") {
                aliases.push((a.trim().to_string(), target.trim().to_string()));
            }
            continue;
        }
        let head = t.trim_start_matches('@');
        let name_len = head
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(head.len());
        let (name, rest) = head.split_at(name_len);
        if name.is_empty() || matches!(name, "set" | "export" | "import" | "mod") {
            continue;
        }
        // Parameters up to the `:` that is not `:=` (an assignment).
        let Some(colon) = rest.find(':') else { continue };
        if rest[colon + 1..].starts_with('=') || rest[..colon].contains(":=") {
            continue;
        }
        let params: Vec<&str> = rest[..colon].split_whitespace().collect();
        let variadic = params.iter().any(|p| p.starts_with(['+', '*']) || p.starts_with("$+"));
        let deps = rest[colon + 1..]
            .split(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == '&')
            .filter(|d| !d.is_empty() && !d.starts_with(['\'', '"', '#']))
            .take_while(|d| !d.starts_with('#'))
            .map(str::to_string)
            .collect();
        recipes.push(Recipe {
            name: name.to_string(),
            params: params.len(),
            variadic,
            deps,
            body: Vec::new(),
        });
        cur = Some(recipes.len() - 1);
    }
    (recipes, aliases)
}

/// `{{expr}}` interpolations become run-time values (`${expr:?}`, see `make_vars`).
fn just_vars(line: &str) -> String {
    if !line.contains("{{") {
        return line.to_string();
    }
    let mut out = String::new();
    let mut rest = line;
    while let Some(at) = rest.find("{{") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        match after.find("}}") {
            Some(end) => {
                let name: String = after[..end].chars().filter(|c| !"(){}$".contains(*c)).collect();
                out.push_str("${");
                out.push_str(name.trim());
                out.push_str(":?}");
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(&rest[at..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

// --- turbo ---

const TURBO_BUILTINS: &[&str] = &[
    "prune",
    "login",
    "logout",
    "link",
    "unlink",
    "gen",
    "generate",
    "daemon",
    "ls",
    "info",
    "telemetry",
    "bin",
    "completion",
    "scan",
    "boundaries",
    "query",
    "devtools",
    "help",
    "config",
];

const TURBO_VALUE_OPTS: &[&str] = &[
    "--concurrency",
    "--cache-dir",
    "--output-logs",
    "--env-mode",
    "--log-order",
    "--cache",
    "--ui",
    "--log-prefix",
    "--profile",
    "--team",
    "--token",
    "--api",
    "--cwd",
    "--global-deps",
    "--heap",
    "--cpuprofile",
];

/// `turbo run TASK... [--filter P]` / `turbo TASK...` / `turbo watch TASK`: runs the
/// package.json script of each task name in the workspace packages the filters pick (every
/// package without one; the root's script when the workspace cannot be read).
pub fn turbo(words: &[Word]) -> Step {
    let mut tasks: Vec<&Word> = Vec::new();
    let mut extra: Vec<Word> = Vec::new();
    let mut filters: Vec<String> = Vec::new();
    let mut i = 1;
    while let Some(w) = words.get(i) {
        let t = w.text.as_str();
        i += 1;
        if t == "--" {
            extra = words[i..].to_vec();
            break;
        }
        if let Some(f) = t.strip_prefix("--filter=").or_else(|| t.strip_prefix("-F=")) {
            filters.push(f.to_string());
            continue;
        }
        if matches!(t, "--filter" | "-F") {
            filters.extend(words.get(i).map(|w| w.text.clone()));
            i += 1;
            continue;
        }
        if TURBO_VALUE_OPTS.contains(&t) {
            i += 1;
            continue;
        }
        if t.starts_with('-') {
            if matches!(t, "--help" | "-h" | "--version" | "--dry" | "--dry-run") || t.starts_with("--dry=") {
                return Step::Nothing;
            }
            continue;
        }
        if i == 2 && matches!(t, "run" | "watch") {
            continue;
        }
        if i == 2 && TURBO_BUILTINS.contains(&t) {
            return Step::Nothing;
        }
        tasks.push(w);
    }
    let filter_args: String = filters
        .iter()
        .map(|f| format!(" --filter={}", shell_quote(f)))
        .collect();
    match tasks.as_slice() {
        [] => Step::Nothing,
        [one] => {
            // `api#db:reset`: that package's task.
            if let Some((pkg, _)) = one.text.split_once('#').filter(|(p, _)| !p.is_empty() && *p != "/") {
                filters.push(pkg.to_string());
            }
            Step::Workspace {
                selectors: filters,
                task: super::workspace::Task::Script(basename_task(&one.text)),
                extra,
            }
        }
        many => Step::Shell(
            many.iter()
                .map(|w| format!("turbo run {}{filter_args}", shell_quote(&w.text)))
                .collect::<Vec<_>>()
                .join("\n"),
            many.iter().any(|w| w.dynamic),
        ),
    }
}

/// `api#db:reset` (package#task) -> `db:reset`.
fn basename_task(t: &str) -> String {
    basename(t.rsplit('#').next().unwrap_or(t)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn makefile_rules() {
        let rules = parse_makefile("X := 1\n.PHONY: a\na: b\n\t@echo $(X) $$HOME\nb:\n\t-dropdb app\n\nc: ; rm x.db\n");
        let names: Vec<_> = rules.iter().map(|r| r.targets[0].as_str()).collect();
        assert_eq!(names, [".PHONY", "a", "b", "c"]);
        assert_eq!(rules[1].recipe, ["echo ${X:?} $HOME"]);
        assert_eq!(rules[2].recipe, ["dropdb app"]);
        assert_eq!(rules[3].recipe, ["rm x.db"]);
    }

    #[test]
    fn justfile_recipes() {
        let (r, a) = parse_justfile(
            "set dotenv-load\nalias r := reset\n\ndefault:\n  just --list\n\nreset env='dev': build\n  @dropdb {{env}}\n",
        );
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].params, 1);
        assert_eq!(r[1].deps, ["build"]);
        assert_eq!(r[1].body, ["dropdb ${env:?}"]);
        assert_eq!(a, [("r".to_string(), "reset".to_string())]);
    }
}
