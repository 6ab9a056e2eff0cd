//! Script runners: `concurrently`, `npm-run-all` / `run-s` / `run-p` (scripts matched by
//! pattern), `nx` (targets of workspace projects) and `lerna` (scripts of workspace packages).

use super::parse::Word;
use super::words::{arg, join_words, opt_value, shell_quote};
use super::workspace::{script_glob, Task};
use super::wrappers::Step;
use crate::lookup::Lookup;

/// `concurrently [opts] "cmd" "npm:db:*" ...`: every operand is a command line
/// (`npm:X`, `pnpm:X`, `yarn:X`, `bun:X` run package scripts, with `*` patterns).
pub fn concurrently(words: &[Word], lookup: &dyn Lookup) -> Step {
    const VALUES: &[&str] = &[
        "-n",
        "--names",
        "--name-separator",
        "-c",
        "--prefix-colors",
        "-p",
        "--prefix",
        "-l",
        "--prefix-length",
        "-t",
        "--timestamp-format",
        "-m",
        "--max-processes",
        "-s",
        "--success",
        "--restart-tries",
        "--restart-after",
        "--default-input-target",
        "--kill-signal",
        "--cwd",
        "--hide",
    ];
    let mut commands: Vec<String> = Vec::new();
    let mut dynamic = false;
    let mut i = 1;
    while let Some(w) = words.get(i) {
        let t = w.text.as_str();
        i += 1;
        if t == "--" {
            continue;
        }
        if let Some(v) = t.strip_prefix("--teardown=") {
            commands.push(v.to_string());
            continue;
        }
        if t == "--teardown" {
            commands.extend(words.get(i).map(|w| w.text.clone()));
            i += 1;
            continue;
        }
        if VALUES.contains(&t) {
            i += 1;
            continue;
        }
        if t.starts_with('-') {
            continue;
        }
        dynamic |= w.dynamic;
        commands.push(expand_shorthand(t, lookup));
    }
    if commands.is_empty() {
        return Step::Nothing;
    }
    Step::Shell(commands.join("\n"), dynamic)
}

/// `npm:db:*` -> `npm run db:reset\nnpm run db:seed` (patterns against package.json).
fn expand_shorthand(cmd: &str, lookup: &dyn Lookup) -> String {
    let Some((pm, script)) = cmd
        .split_once(':')
        .filter(|(pm, _)| matches!(*pm, "npm" | "pnpm" | "yarn" | "bun"))
    else {
        return cmd.to_string();
    };
    let (pattern, args) = match script.split_once(' ') {
        Some((p, a)) => (p, format!(" {a}")),
        None => (script, String::new()),
    };
    let names = scripts_matching(pattern, lookup);
    names
        .iter()
        .map(|n| format!("{pm} run {}{args}", shell_quote(n)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Script names matching an npm-run-all / concurrently pattern; a pattern that cannot be
/// matched (no package.json) is kept as the name itself, so its text can still be judged.
fn scripts_matching(pattern: &str, lookup: &dyn Lookup) -> Vec<String> {
    if !pattern.contains('*') {
        return vec![pattern.to_string()];
    }
    match lookup.package_script_names() {
        Some(all) => {
            let (neg, pat) = match pattern.strip_prefix('!') {
                Some(p) => (true, p),
                None => (false, pattern),
            };
            all.into_iter().filter(|n| script_glob(pat, n) != neg).collect()
        }
        None => vec![pattern.to_string()],
    }
}

/// `npm-run-all [-s|-p] patterns... [-- args]`, `run-s`, `run-p`.
pub fn npm_run_all(words: &[Word], lookup: &dyn Lookup) -> Step {
    const VALUES: &[&str] = &["--max-parallel", "--npm-path"];
    let mut patterns: Vec<String> = Vec::new();
    let mut extra = String::new();
    let mut dynamic = false;
    let mut i = 1;
    while let Some(w) = words.get(i) {
        let t = w.text.as_str();
        i += 1;
        if t == "--" {
            extra = format!(" -- {}", join_words(&words[i..]));
            break;
        }
        if VALUES.contains(&t) {
            i += 1;
            continue;
        }
        if t.starts_with('-') {
            continue;
        }
        dynamic |= w.dynamic;
        patterns.push(t.to_string());
    }
    let mut lines = Vec::new();
    for p in &patterns {
        // A pattern may carry arguments: `"test -- --watch"`.
        let (pat, args) = match p.split_once(' ') {
            Some((a, b)) => (a, format!(" {b}")),
            None => (p.as_str(), String::new()),
        };
        let names = scripts_matching(pat, lookup);
        let exclusions: Vec<&String> = patterns.iter().filter(|x| x.starts_with('!')).collect();
        for n in names
            .iter()
            .filter(|n| !exclusions.iter().any(|x| script_glob(&x[1..], n)))
        {
            lines.push(format!("npm run {}{args}{extra}", shell_quote(n)));
        }
    }
    if lines.is_empty() {
        return Step::Nothing;
    }
    Step::Shell(lines.join("\n"), dynamic)
}

const NX_BUILTINS: &[&str] = &[
    "reset",
    "graph",
    "dep-graph",
    "init",
    "list",
    "migrate",
    "report",
    "show",
    "format:check",
    "format:write",
    "format",
    "generate",
    "g",
    "add",
    "release",
    "connect",
    "connect-to-nx-cloud",
    "daemon",
    "sync",
    "sync:check",
    "view-logs",
    "repair",
    "import",
    "login",
    "logout",
    "watch",
    "help",
    "--help",
    "--version",
];

/// `nx run PROJECT:TARGET[:CONF]`, `nx TARGET PROJECT`, `nx run-many -t T [-p P...]`,
/// `nx affected -t T`, `nx exec -- cmd`.
pub fn nx(words: &[Word]) -> Step {
    let sub = arg(words, 1);
    let rest = &words[2.min(words.len())..];
    match sub {
        "" => Step::Nothing,
        "exec" => match words.iter().position(|w| w.text == "--") {
            Some(p) => Step::Skip(p + 1, Vec::new()),
            None => Step::Nothing,
        },
        "run" => {
            let Some(spec) = rest.iter().find(|w| !w.text.starts_with('-')) else {
                return Step::Nothing;
            };
            let mut parts = spec.text.split(':');
            let project = parts.next().unwrap_or("").to_string();
            let target = parts.next().unwrap_or("").to_string();
            workspace_step(vec![project], Task::Nx(target), Vec::new())
        }
        "run-many" | "affected" => {
            let mut targets = Vec::new();
            let mut projects = Vec::new();
            let mut k = 0;
            while k < rest.len() {
                let t = rest[k].text.as_str();
                k += 1;
                let (key, inline) = match t.split_once('=') {
                    Some((a, b)) if a.starts_with('-') => (a, Some(b.to_string())),
                    _ => (t, None),
                };
                let list = match key {
                    "-t" | "--target" | "--targets" => &mut targets,
                    "-p" | "--projects" => &mut projects,
                    "--all" => continue,
                    _ => continue,
                };
                match inline {
                    Some(v) => list.extend(v.split(',').map(str::to_string)),
                    None => {
                        while k < rest.len() && !rest[k].text.starts_with('-') {
                            list.extend(rest[k].text.split(',').map(str::to_string));
                            k += 1;
                        }
                    }
                }
            }
            if targets.is_empty() {
                return Step::Nothing;
            }
            if targets.len() == 1 {
                return workspace_step(projects, Task::Nx(targets.remove(0)), Vec::new());
            }
            let mut sel = String::new();
            if !projects.is_empty() {
                sel = format!(
                    " -p {}",
                    projects.iter().map(|p| shell_quote(p)).collect::<Vec<_>>().join(" ")
                );
            }
            Step::Shell(
                targets
                    .iter()
                    .map(|t| format!("nx run-many -t {}{sel}", shell_quote(t)))
                    .collect::<Vec<_>>()
                    .join("\n"),
                false,
            )
        }
        _ if NX_BUILTINS.contains(&sub) || sub.starts_with('-') => Step::Nothing,
        // `nx affected:build` (old form), `nx PROJECT:TARGET`, `nx TARGET PROJECT`.
        _ => {
            if let Some(t) = sub.strip_prefix("affected:") {
                return workspace_step(Vec::new(), Task::Nx(t.to_string()), Vec::new());
            }
            if let Some((p, t)) = sub.split_once(':') {
                return workspace_step(
                    vec![p.to_string()],
                    Task::Nx(t.split(':').next().unwrap_or(t).to_string()),
                    Vec::new(),
                );
            }
            let project = rest.iter().find(|w| !w.text.starts_with('-')).map(|w| w.text.clone());
            workspace_step(project.into_iter().collect(), Task::Nx(sub.to_string()), Vec::new())
        }
    }
}

fn workspace_step(selectors: Vec<String>, task: Task, extra: Vec<Word>) -> Step {
    Step::Workspace { selectors, task, extra }
}

/// `lerna run SCRIPT [--scope P]...`, `lerna exec [--scope P] -- cmd`.
pub fn lerna(words: &[Word]) -> Step {
    let sub = arg(words, 1);
    let mut scopes = Vec::new();
    let mut positional = None;
    let mut i = 2;
    while i < words.len() {
        let t = arg(words, i);
        if t == "--" {
            i += 1;
            break;
        }
        if let Some((v, next)) = opt_value(words, i, "", "--scope") {
            scopes.push(v);
            i = next;
            continue;
        }
        if let Some((v, next)) = opt_value(words, i, "", "--ignore") {
            scopes.push(format!("!{v}"));
            i = next;
            continue;
        }
        if matches!(t, "--concurrency" | "--since" | "--npm-client" | "--registry") {
            i += 2;
            continue;
        }
        if !t.starts_with('-') && positional.is_none() {
            positional = Some((t.to_string(), i));
        }
        i += 1;
    }
    match sub {
        "run" => match positional {
            Some((name, at)) => workspace_step(
                scopes,
                Task::Script(name),
                words[at + 1..]
                    .iter()
                    .filter(|w| w.text != "--" && !w.text.starts_with("--scope"))
                    .cloned()
                    .collect(),
            ),
            None => Step::Nothing,
        },
        "exec" if i < words.len() => workspace_step(scopes, Task::Exec(i), Vec::new()),
        "exec" => match positional {
            Some((_, at)) => workspace_step(scopes, Task::Exec(at), Vec::new()),
            None => Step::Nothing,
        },
        _ => Step::Nothing,
    }
}
