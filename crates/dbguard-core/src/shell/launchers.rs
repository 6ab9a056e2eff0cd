//! Launchers: programs that run another command, analyzed through. Three kinds:
//! - env loaders that also change the target (`dotenv -e .env.production --`, `dotenvx run
//!   -f`, `env-cmd -f` / `-e` with `.env-cmdrc`, `cross-env`, `cross-env-shell`): the
//!   variables of the files they name reach the command, with each tool's precedence;
//! - script runners (`npm-run-all`, `run-s`, `run-p`, `concurrently`, `nx`) and
//!   workspace selectors (`pnpm --filter`, `pnpm -r`, `npm -w`, `yarn workspace[s]`,
//!   `lerna run`, `bun --filter`, `turbo --filter`);
//! - process launchers (`setsid`, `tmux new-session` / `send-keys`, `screen`, `at`,
//!   `script -c`, `chroot`, `chrt`, `taskset`, `numactl`, `systemd-run`, `unshare`,
//!   `strace`, `xvfb-run`, `gosu`, `nix-shell --run`, `mise exec`, `conda run`...).

use serde_json::Value;

use super::parse::Word;
use super::words::{basename, join_words, shell_quote, skip_leading_options, Spec};
use super::workspace::{script_glob, Task};
use super::wrappers::Step;
use crate::lookup::Lookup;

/// Variables a launcher loads before the command runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvLoad {
    /// Where they come from, for reports (`dotenv -e .env.production`).
    pub origin: String,
    /// `None`: the file cannot be read, so any variable may be set. A value may be
    /// unknown (`Err`: an encrypted dotenvx value, a `.js` env file).
    pub vars: Option<Vec<(String, Result<String, String>)>>,
    /// The loaded value replaces one the command already has.
    pub overwrite: bool,
}

fn known(vars: Vec<(String, String)>) -> Vec<(String, Result<String, String>)> {
    vars.into_iter().map(|(k, v)| (k, Ok(v))).collect()
}

fn file_load(lookup: &dyn Lookup, path: &str, origin: String, overwrite: bool) -> EnvLoad {
    let vars = if path.ends_with(".json") {
        lookup
            .read_file(path)
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .and_then(|v| json_vars(&v))
    } else if path.ends_with(".js") || path.ends_with(".cjs") || path.ends_with(".mjs") {
        None
    } else {
        lookup.env_file(path).map(known)
    };
    EnvLoad {
        origin,
        vars,
        overwrite,
    }
}

fn json_vars(v: &Value) -> Option<Vec<(String, Result<String, String>)>> {
    Some(
        v.as_object()?
            .iter()
            .map(|(k, v)| {
                let s = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), Ok(s))
            })
            .collect(),
    )
}

const fn spec(short: &'static str, long: &'static [&'static str]) -> Spec {
    Spec {
        short,
        long,
        single_dash_long: false,
        optional: "",
    }
}

fn arg(words: &[Word], i: usize) -> &str {
    words.get(i).map_or("", |w| w.text.as_str())
}

/// The value of `--name VALUE` / `--name=VALUE` / `-x VALUE` / `-xVALUE` at `i`, and the
/// index after it.
fn opt_value(words: &[Word], i: usize, short: &str, long: &str) -> Option<(String, usize)> {
    let t = arg(words, i);
    if let Some(v) = t.strip_prefix(long).and_then(|r| r.strip_prefix('=')) {
        return Some((v.to_string(), i + 1));
    }
    if t == long || (!short.is_empty() && t == short) {
        return words.get(i + 1).map(|w| (w.text.clone(), i + 2));
    }
    if !short.is_empty() && t.starts_with(short) && t.len() > short.len() && !t.starts_with("--") {
        return Some((t[short.len()..].to_string(), i + 1));
    }
    None
}

/// `dotenv [-e FILE]... [-c [ENV]] [-v K=V]... [-o] [-p VAR] [--] cmd` (dotenv-cli): the
/// first file defining a variable wins, the process environment wins over files unless
/// `-o`; `-v` values win over both.
pub fn dotenv_cli(words: &[Word], lookup: &dyn Lookup) -> Step {
    let mut files: Vec<String> = Vec::new();
    let mut vars: Vec<(String, String)> = Vec::new();
    let mut cascade: Option<Option<String>> = None;
    let mut overwrite = false;
    let mut i = 1;
    while i < words.len() {
        let t = arg(words, i);
        if t == "--" {
            i += 1;
            break;
        }
        if let Some((v, next)) = opt_value(words, i, "-e", "--env-file").filter(|_| t != "-c") {
            files.push(v);
            i = next;
            continue;
        }
        if let Some((v, next)) = opt_value(words, i, "-v", "--variable") {
            if let Some((k, val)) = v.split_once('=') {
                vars.push((k.to_string(), val.to_string()));
            }
            i = next;
            continue;
        }
        match t {
            "-p" => return Step::Nothing,
            "-o" | "--override" => overwrite = true,
            "--debug" | "--quiet" | "--no-expand" => {}
            "-c" => {
                // `-c` takes an optional environment name.
                let next = arg(words, i + 1);
                if !next.is_empty() && !next.starts_with('-') && words.len() > i + 2 {
                    cascade = Some(Some(next.to_string()));
                    i += 1;
                } else {
                    cascade = Some(None);
                }
            }
            _ if t.starts_with('-') => {}
            _ => break,
        }
        i += 1;
    }
    if i >= words.len() {
        return Step::Nothing;
    }
    if files.is_empty() {
        files.push(".env".into());
    }
    let paths: Vec<String> = match &cascade {
        None => files,
        Some(env) => files
            .iter()
            .flat_map(|f| match env {
                Some(e) => vec![
                    format!("{f}.{e}.local"),
                    format!("{f}.local"),
                    format!("{f}.{e}"),
                    f.clone(),
                ],
                None => vec![format!("{f}.local"), f.clone()],
            })
            .collect(),
    };
    let mut loads = Vec::new();
    if !vars.is_empty() {
        loads.push(EnvLoad {
            origin: "dotenv -v".into(),
            vars: Some(known(vars)),
            overwrite: true,
        });
    }
    for p in paths {
        let mut load = file_load(lookup, &p, format!("dotenv -e {p}"), overwrite);
        if cascade.is_some() && load.vars.is_none() {
            // Cascade files are optional: a missing one sets nothing.
            load.vars = Some(Vec::new());
        }
        loads.push(load);
    }
    Step::Env {
        at: i,
        loads,
        shell: None,
    }
}

/// `dotenvx run [-f FILE]... [--overload] [--env K=V] [--convention nextjs|flow] -- cmd`.
pub fn dotenvx(words: &[Word], lookup: &dyn Lookup) -> Step {
    if arg(words, 1) != "run" {
        return Step::Nothing;
    }
    let mut files = Vec::new();
    let mut vars = Vec::new();
    let mut overwrite = false;
    let mut convention = None;
    let mut i = 2;
    while i < words.len() {
        let t = arg(words, i);
        if t == "--" {
            i += 1;
            break;
        }
        if let Some((v, next)) = opt_value(words, i, "-f", "--env-file") {
            files.push(v);
            i = next;
            continue;
        }
        if let Some((v, next)) = opt_value(words, i, "-e", "--env") {
            if let Some((k, val)) = v.split_once('=') {
                vars.push((k.to_string(), val.to_string()));
            }
            i = next;
            continue;
        }
        if let Some((v, next)) = opt_value(words, i, "", "--convention") {
            convention = Some(v);
            i = next;
            continue;
        }
        if let Some((_, next)) = opt_value(words, i, "-fk", "--env-keys-file") {
            i = next;
            continue;
        }
        match t {
            "-o" | "--overload" => overwrite = true,
            _ if t.starts_with('-') => {}
            _ => break,
        }
        i += 1;
    }
    if i >= words.len() {
        return Step::Nothing;
    }
    if files.is_empty() {
        files = match convention.as_deref() {
            Some(_) => {
                let mode = lookup.env_var("NODE_ENV").unwrap_or_else(|| "development".into());
                vec![
                    format!(".env.{mode}.local"),
                    ".env.local".into(),
                    format!(".env.{mode}"),
                    ".env".into(),
                ]
            }
            None => vec![".env".into()],
        };
    }
    let mut loads = vec![EnvLoad {
        origin: "dotenvx run --env".into(),
        vars: Some(known(vars)),
        overwrite: true,
    }];
    for f in files {
        let mut load = file_load(lookup, &f, format!("dotenvx run -f {f}"), overwrite);
        if let Some(vars) = &mut load.vars {
            for (_, v) in vars.iter_mut() {
                if v.as_ref().is_ok_and(|s| s.starts_with("encrypted:")) {
                    *v = Err("encrypted with a key dbguard does not read".into());
                }
            }
        }
        if convention.is_some() && load.vars.is_none() {
            load.vars = Some(Vec::new());
        }
        loads.push(load);
    }
    Step::Env {
        at: i,
        loads,
        shell: None,
    }
}

/// `env-cmd [-f FILE | -r RC -e ENV[,ENV]] [--no-override] [--use-shell] [-x] cmd...`:
/// the file's values override the environment unless `--no-override`.
pub fn env_cmd(words: &[Word], lookup: &dyn Lookup) -> Step {
    let mut file: Option<String> = None;
    let mut rc: Option<String> = None;
    let mut envs: Vec<String> = Vec::new();
    let mut overwrite = true;
    let mut use_shell = false;
    let mut i = 1;
    while i < words.len() {
        let t = arg(words, i);
        if t == "--" {
            i += 1;
            break;
        }
        if let Some((v, next)) = opt_value(words, i, "-f", "--file") {
            file = Some(v);
            i = next;
            continue;
        }
        if let Some((v, next)) = opt_value(words, i, "-r", "--rc-file") {
            rc = Some(v);
            i = next;
            continue;
        }
        if let Some((v, next)) = opt_value(words, i, "-e", "--environments") {
            envs.extend(v.split(',').map(str::to_string));
            i = next;
            continue;
        }
        match t {
            "--no-override" => overwrite = false,
            "--use-shell" => use_shell = true,
            _ if t.starts_with('-') => {}
            _ => break,
        }
        i += 1;
    }
    if i >= words.len() {
        return Step::Nothing;
    }
    let load = if !envs.is_empty() || rc.is_some() {
        let candidates: Vec<String> = match rc {
            Some(r) => vec![r],
            None => vec![".env-cmdrc".into(), ".env-cmdrc.json".into()],
        };
        let parsed = candidates.iter().find_map(|p| {
            lookup
                .read_file(p)
                .map(|t| (p.clone(), serde_json::from_str::<Value>(&t).ok()))
        });
        let vars = match parsed {
            Some((_, Some(v))) => {
                let mut out = Vec::new();
                for e in &envs {
                    out.extend(v.get(e).and_then(json_vars).unwrap_or_default());
                }
                Some(out)
            }
            _ => None,
        };
        EnvLoad {
            origin: format!("env-cmd -e {}", envs.join(",")),
            vars,
            overwrite,
        }
    } else {
        let f = file.unwrap_or_else(|| ".env".into());
        file_load(lookup, &f, format!("env-cmd -f {f}"), overwrite)
    };
    let rest = &words[i..];
    Step::Env {
        at: i,
        loads: vec![load],
        shell: use_shell.then(|| (join_words(rest), rest.iter().any(|w| w.dynamic))),
    }
}

/// `cross-env A=1 cmd`, `cross-env-shell A=1 'cmd && cmd'`.
pub fn cross_env(words: &[Word], shell: bool) -> Step {
    let mut i = 1;
    let mut vars = Vec::new();
    while let Some((k, v)) = arg(words, i).split_once('=').filter(|(k, _)| is_name(k)) {
        vars.push((k.to_string(), v.to_string()));
        i += 1;
    }
    if !shell {
        return Step::Skip(i, vars);
    }
    let rest = &words[i.min(words.len())..];
    // The shell text sees the variables: they become assignments in front of it.
    let prefix: String = vars
        .iter()
        .map(|(k, v)| format!("export {k}={} ; ", shell_quote(v)))
        .collect();
    let text = rest.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" ");
    Step::Shell(format!("{prefix}{text}"), rest.iter().any(|w| w.dynamic))
}

fn is_name(k: &str) -> bool {
    k.chars().next().is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && k.chars().all(|c| c == '_' || c.is_ascii_alphanumeric())
}

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

/// `tmux [-L sock] new-session [-d] [-s n] ... [command]`, `tmux send-keys -t T 'cmd' Enter`,
/// and several tmux commands separated by `;`.
pub fn tmux(words: &[Word]) -> Step {
    let i = 1 + skip_leading_options(&words[1..], &spec("cfLST", &[]));
    let parts: Vec<&[Word]> = words[i.min(words.len())..]
        .split(|w| w.text == ";" || w.text == "\\;")
        .collect();
    if parts.len() > 1 {
        let text = parts
            .iter()
            .filter(|p| !p.is_empty())
            .map(|p| format!("tmux {}", join_words(p)))
            .collect::<Vec<_>>()
            .join("\n");
        return Step::Shell(text, false);
    }
    let cmd = parts[0];
    let sub = cmd.first().map_or("", |w| w.text.as_str());
    let rest = cmd.get(1..).unwrap_or(&[]);
    match sub {
        "new-session" | "new" | "new-window" | "neww" | "split-window" | "splitw" | "respawn-pane" | "respawnp"
        | "respawn-window" | "respawnw" | "run-shell" | "run" => {
            // Options that take a value (`-d` is a delay only for run-shell; elsewhere "detached").
            let values = if sub.starts_with("run") { "cdt" } else { "cefFnstxylp" };
            let k = skip_leading_options(rest, &spec(values, &[]));
            let operands = &rest[k..];
            match operands {
                [] => Step::Nothing,
                [one] => Step::Shell(one.text.clone(), one.dynamic),
                many => Step::Skip(words.len() - many.len(), Vec::new()),
            }
        }
        "send-keys" | "send" => {
            let k = skip_leading_options(rest, &spec("tNc", &[]));
            let literal = rest[..k].iter().any(|w| w.text.contains('l'));
            let mut text = String::new();
            let mut dynamic = false;
            for w in &rest[k..] {
                match w.text.as_str() {
                    "Enter" | "C-m" | "KPEnter" | "C-j" if !literal => text.push('\n'),
                    "Space" if !literal => text.push(' '),
                    t => {
                        dynamic |= w.dynamic;
                        text.push_str(t);
                    }
                }
            }
            Step::Shell(text, dynamic)
        }
        _ => Step::Nothing,
    }
}

/// `screen -dmS name cmd...`, `screen -S name -X stuff 'cmd\n'`.
pub fn screen(words: &[Word]) -> Step {
    let mut i = 1;
    while let Some(w) = words.get(i) {
        let t = w.text.as_str();
        if !t.starts_with('-') {
            break;
        }
        i += 1;
        match t {
            "-X" => {
                return match (arg(words, i), words.get(i + 1)) {
                    ("stuff", Some(keys)) => {
                        let text = keys.text.replace("^M", "\n").replace("\\n", "\n").replace("\\r", "\n");
                        Step::Shell(text, keys.dynamic)
                    }
                    _ => Step::Nothing,
                };
            }
            "-Logfile" => i += 1,
            // `-dmS name`: a cluster ending in a letter that takes a value.
            _ if !t.starts_with("--") && t.ends_with(['S', 'c', 'e', 'h', 'p', 'T', 't', 's']) && t != "-ls" => i += 1,
            "-ls" | "-list" | "-wipe" | "-r" | "-R" | "-x" | "-v" | "-version" => {
                if matches!(t, "-ls" | "-list" | "-wipe" | "-v" | "-version") {
                    return Step::Nothing;
                }
            }
            _ => {}
        }
    }
    if i >= words.len() {
        return Step::Nothing;
    }
    Step::Skip(i, Vec::new())
}

/// `at [-f FILE] TIME` / `batch`: commands from standard input or the file.
pub fn at(words: &[Word]) -> Step {
    let mut i = 1;
    while let Some(w) = words.get(i) {
        let t = w.text.as_str();
        i += 1;
        match t {
            "-f" => {
                return words.get(i).map_or(Step::Nothing, |f| Step::ScriptFile(f.text.clone()));
            }
            "-l" | "-d" | "-r" | "-c" | "-V" => return Step::Nothing,
            "-q" | "-t" => i += 1,
            _ => {}
        }
    }
    Step::ShellStdin
}

/// `script [-qefa] -c CMD [file]` (util-linux) or `script [-q] FILE CMD...` (BSD).
pub fn script(words: &[Word]) -> Step {
    let mut i = 1;
    let mut operands = Vec::new();
    while let Some(w) = words.get(i) {
        let t = w.text.as_str();
        i += 1;
        if let Some(c) = t.strip_prefix("--command=") {
            return Step::Shell(c.to_string(), w.dynamic);
        }
        if t == "-c" || t == "--command" || (t.starts_with('-') && !t.starts_with("--") && t.ends_with('c')) {
            return words
                .get(i)
                .map_or(Step::Nothing, |c| Step::Shell(c.text.clone(), c.dynamic));
        }
        if matches!(
            t,
            "-T" | "-I" | "-O" | "-B" | "-E" | "-m" | "--log-io" | "--log-in" | "--log-out" | "--log-timing"
        ) {
            i += 1;
            continue;
        }
        if t.starts_with('-') {
            continue;
        }
        operands.push(i - 1);
        if operands.len() == 2 {
            return Step::Skip(i - 1, Vec::new());
        }
    }
    Step::ShellStdin
}

/// Launchers of the form `prog [options] [N operands] command...`: (program, options that
/// take a value (short letters, long names), operands before the command).
const SIMPLE: &[(&str, &str, &[&str], usize)] = &[
    ("setsid", "", &[], 0),
    ("chroot", "", &["userspec", "groups"], 1),
    ("taskset", "", &[], 1),
    (
        "numactl",
        "ipmNCw",
        &["interleave", "preferred", "membind", "cpunodebind", "physcpubind"],
        0,
    ),
    (
        "systemd-run",
        "upEMHdG",
        &[
            "unit",
            "property",
            "setenv",
            "machine",
            "host",
            "slice",
            "description",
            "working-directory",
            "uid",
            "gid",
            "nice",
            "on-calendar",
            "on-active",
            "on-boot",
            "on-startup",
            "on-unit-active",
            "on-unit-inactive",
            "timer-property",
            "path-property",
            "socket-property",
            "service-type",
        ],
        0,
    ),
    (
        "unshare",
        "SGRw",
        &["setuid", "setgid", "root", "wd", "propagation", "setgroups"],
        0,
    ),
    ("nsenter", "tSG", &["target", "setuid", "setgid"], 0),
    ("firejail", "", &[], 0),
    (
        "xvfb-run",
        "efnpsw",
        &[
            "error-file",
            "auth-file",
            "server-num",
            "xauth-protocol",
            "server-args",
            "wait",
        ],
        0,
    ),
    ("dbus-run-session", "", &["config-file", "dbus-daemon"], 0),
    ("strace", "eEopsSuaXIPbO", &[], 0),
    ("ltrace", "eEopsSuanAlLxX", &[], 0),
    ("valgrind", "", &[], 0),
    ("faketime", "f", &[], 1),
    ("fakeroot", "lsi", &["lib", "faked", "save-file", "load-file"], 0),
    ("torsocks", "upaP", &[], 0),
    ("proxychains", "f", &[], 0),
    ("proxychains4", "f", &[], 0),
    ("gosu", "", &[], 1),
    ("su-exec", "", &[], 1),
    ("s6-setuidgid", "", &[], 1),
    ("chpst", "uUbe/nlLmdopfc", &[], 0),
    (
        "setpriv",
        "",
        &[
            "reuid",
            "regid",
            "ruid",
            "rgid",
            "euid",
            "egid",
            "groups",
            "inh-caps",
            "ambient-caps",
            "bounding-set",
            "securebits",
            "pdeathsig",
            "selinux-label",
            "apparmor-profile",
        ],
        0,
    ),
    ("tini", "pe", &[], 0),
    ("dumb-init", "r", &["rewrite"], 0),
    ("nq", "", &[], 0),
    ("catchsegv", "", &[], 0),
    ("prlimit", "p", &["pid", "output"], 0),
    ("cgexec", "g", &[], 0),
    ("sem", "j", &["id", "jobs"], 0),
    ("envchain", "", &[], 1),
    ("asdf", "", &[], 1),
    ("corepack", "", &[], 0),
    ("direnv", "", &[], 2),
    (
        "fnm",
        "",
        &[
            "using",
            "node-dist-mirror",
            "fnm-dir",
            "log-level",
            "arch",
            "version-file-strategy",
        ],
        1,
    ),
    ("volta", "", &["node", "npm", "pnpm", "yarn", "env"], 1),
    ("stack", "", &["package", "cwd"], 1),
    ("opam", "", &["switch", "root"], 1),
    ("pixi", "e", &["manifest-path", "environment"], 1),
];

/// Launchers that take a command only after a subcommand, and those whose command is
/// shell text.
pub fn step(words: &[Word], lookup: &dyn Lookup) -> Option<Step> {
    let prog = basename(&words.first()?.text);
    let sub = arg(words, 1);
    Some(match prog {
        "dotenv" | "dotenv-cli" => dotenv_cli(words, lookup),
        "dotenvx" => dotenvx(words, lookup),
        "env-cmd" => env_cmd(words, lookup),
        "cross-env" => cross_env(words, false),
        "cross-env-shell" => cross_env(words, true),
        "concurrently" | "conc" => concurrently(words, lookup),
        "npm-run-all" | "npm-run-all2" | "run-s" | "run-p" => npm_run_all(words, lookup),
        "nx" => nx(words),
        "lerna" => lerna(words),
        "tmux" => tmux(words),
        "screen" => screen(words),
        "at" | "batch" => at(words),
        "script" => script(words),
        "chrt" => {
            let k = skip_leading_options(
                &words[1..],
                &spec("TPD", &["sched-runtime", "sched-period", "sched-deadline"]),
            );
            if words[1..1 + k]
                .iter()
                .any(|w| matches!(w.text.as_str(), "-p" | "--pid" | "-m" | "--max"))
            {
                return Some(Step::Nothing);
            }
            let mut i = 1 + k;
            if arg(words, i).bytes().all(|b| b.is_ascii_digit()) && !arg(words, i).is_empty() {
                i += 1;
            }
            Step::Skip(i, Vec::new())
        }
        "taskset"
            if words[1..]
                .iter()
                .take_while(|w| w.text.starts_with('-'))
                .any(|w| w.text.contains('p')) =>
        {
            Step::Nothing
        }
        "nix-shell" => {
            for (k, w) in words.iter().enumerate() {
                if matches!(w.text.as_str(), "--run" | "--command") {
                    return Some(
                        words
                            .get(k + 1)
                            .map_or(Step::Nothing, |c| Step::Shell(c.text.clone(), c.dynamic)),
                    );
                }
            }
            Step::Nothing
        }
        "nix" if sub == "develop" || sub == "shell" => {
            match words.iter().position(|w| matches!(w.text.as_str(), "-c" | "--command")) {
                Some(p) => Step::Skip(p + 1, Vec::new()),
                None => Step::Nothing,
            }
        }
        "mise" | "rtx" if matches!(sub, "exec" | "x") => match words.iter().position(|w| w.text == "--") {
            Some(p) => Step::Skip(p + 1, Vec::new()),
            None => Step::Nothing,
        },
        "devbox" if sub == "run" => Step::Skip(2 + usize::from(arg(words, 2) == "--"), Vec::new()),
        "conda" | "mamba" | "micromamba" if sub == "run" => {
            let k = skip_leading_options(&words[2..], &spec("npr", &["name", "prefix", "cwd", "root-prefix"]));
            Step::Skip(2 + k, Vec::new())
        }
        "nvm" if matches!(sub, "exec" | "run") => {
            let v = arg(words, 2);
            let versioned =
                v.starts_with(|c: char| c.is_ascii_digit() || c == 'v') || v.starts_with("lts") || v == "node";
            Step::Skip(if versioned { 3 } else { 2 }, Vec::new())
        }
        "pueue" if sub == "add" => {
            let k = skip_leading_options(
                &words[2..],
                &spec(
                    "wdgaol",
                    &["working-directory", "delay", "group", "after", "priority", "label"],
                ),
            );
            let rest = &words[(2 + k).min(words.len())..];
            Step::Shell(join_words(rest), rest.iter().any(|w| w.dynamic))
        }
        "entr" => {
            let k = skip_leading_options(&words[1..], &spec("", &[]));
            let shell = words[1..1 + k].iter().any(|w| w.text.contains('s'));
            let rest = &words[1 + k..];
            if shell {
                rest.first()
                    .map_or(Step::Nothing, |w| Step::Shell(w.text.clone(), w.dynamic))
            } else {
                Step::Skip(1 + k, Vec::new())
            }
        }
        "sops" if sub == "exec-env" || sub == "exec-file" => {
            let rest = &words[3.min(words.len())..];
            let k = skip_leading_options(rest, &spec("", &["placeholder"]));
            let cmd = rest.get(k);
            let load = EnvLoad {
                origin: format!("sops {sub} {}", arg(words, 2)),
                vars: None,
                overwrite: true,
            };
            return Some(match cmd {
                Some(c) => Step::Env {
                    at: 0,
                    loads: vec![load],
                    shell: Some((c.text.clone(), c.dynamic)),
                },
                None => Step::Nothing,
            });
        }
        _ => {
            let (_, short, long, operands) = SIMPLE.iter().find(|(p, ..)| *p == prog)?;
            if prog == "direnv" && sub != "exec" {
                return Some(Step::Nothing);
            }
            if matches!(prog, "asdf" | "fnm" | "volta" | "stack" | "opam" | "pixi") {
                if !matches!(sub, "exec" | "run") {
                    return Some(Step::Nothing);
                }
                let k = skip_leading_options(&words[2..], &spec(short, long));
                return Some(Step::Skip(2 + k + usize::from(arg(words, 2 + k) == "--"), Vec::new()));
            }
            let k = skip_leading_options(&words[1..], &spec(short, long));
            let at = 1 + k + operands;
            if at >= words.len() {
                // `chroot DIR` alone starts an interactive shell.
                return Some(if prog == "chroot" {
                    Step::ShellStdin
                } else {
                    Step::Nothing
                });
            }
            Step::Skip(at, Vec::new())
        }
    })
}
