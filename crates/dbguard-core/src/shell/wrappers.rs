//! Wrappers: commands that run another command (`sudo`, `env`, `npx`, `bundle exec`,
//! `bash -c`, `npm run`...). [`step`] peels one layer; the analyzer loops until the real
//! program is reached.

use super::envload::EnvLoad;
use super::launchers;
use super::packages::{self, npx, package_bin, pnpm_like, Pm};
use super::parse::Word;
use super::tasks;
use super::words::{basename, skip_leading_options, spec, Spec};
use super::workspace::Task;
use crate::lookup::Lookup;

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Not a wrapper: analyze the words as they are.
    Done,
    /// Nothing runs (`command -v psql`, `pnpm add prisma`).
    Nothing,
    /// The wrapped command starts at this index; these assignments apply to it.
    Skip(usize, Vec<(String, String)>),
    /// The program is really `program` (a package bin, `manage.py`...), its arguments
    /// start at this index.
    Rename(String, usize),
    /// Run this text as a shell script (`bash -c`, `eval`, `env -S`); `true` when the text
    /// is computed at run time.
    Shell(String, bool),
    /// A shell runs this script file.
    ScriptFile(String),
    /// A shell reads its commands from standard input.
    ShellStdin,
    /// `xargs`: the command starts at this index, with operands read at run time.
    Xargs(usize),
    /// A package.json script, with extra arguments; `hooks`: npm also runs pre/post scripts.
    PkgScript {
        name: String,
        extra: Vec<Word>,
        hooks: bool,
    },
    /// A launcher loads variables (`dotenv -e FILE`, `env-cmd -f FILE`); the command starts
    /// at `at`, or is this shell text instead (`env-cmd --use-shell`, `sops exec-env`).
    Env {
        at: usize,
        loads: Vec<EnvLoad>,
        shell: Option<(String, bool)>,
    },
    /// Run a task in the workspace packages the selectors pick (`pnpm --filter api
    /// db:reset`, `turbo run X --filter=api`, `nx run api:reset`; no selector: every package).
    Workspace {
        selectors: Vec<String>,
        task: Task,
        extra: Vec<Word>,
    },
}

fn is_assignment(t: &str) -> Option<(String, String)> {
    let (k, v) = t.split_once('=')?;
    let mut chars = k.chars();
    let ok = chars.next().is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric());
    ok.then(|| (k.to_string(), v.to_string()))
}

/// Leading `VAR=value` words from `from`: (index after them, assignments).
fn assignments(words: &[Word], from: usize) -> (usize, Vec<(String, String)>) {
    let mut i = from;
    let mut env = Vec::new();
    while let Some((k, v)) = words.get(i).and_then(|w| is_assignment(&w.text)) {
        env.push((k, v));
        i += 1;
    }
    (i, env)
}

fn skip(words: &[Word], offset: usize, s: &Spec) -> Step {
    let rest = words.get(offset..).unwrap_or(&[]);
    Step::Skip(offset + skip_leading_options(rest, s), Vec::new())
}

/// Peel one wrapper off `words` (non-empty).
pub fn step(words: &[Word], lookup: &dyn Lookup) -> Step {
    let Some(first) = words.first() else {
        return Step::Nothing;
    };
    let prog = basename(&first.text);
    let arg = |i: usize| words.get(i).map_or("", |w| w.text.as_str());
    match prog {
        "env" => env(words),
        "sudo" | "doas" => {
            let s = spec(
                "ughpCDrtUTR",
                &[
                    "user",
                    "group",
                    "host",
                    "prompt",
                    "close-from",
                    "chdir",
                    "role",
                    "type",
                    "other-user",
                    "command-timeout",
                    "chroot",
                ],
            );
            let i = 1 + skip_leading_options(&words[1..], &s);
            if words[1..i].iter().any(|w| {
                matches!(
                    w.text.as_str(),
                    "-e" | "--edit" | "-l" | "--list" | "-v" | "--validate" | "-k" | "-K"
                )
            }) {
                return Step::Nothing;
            }
            let (j, env) = assignments(words, i);
            Step::Skip(j, env)
        }
        "su" => su(words, false),
        "runuser" => su(words, true),
        "trap" => {
            // `trap 'cmd' EXIT`: the action is shell text run later by the same shell.
            let k = if arg(1) == "--" { 2 } else { 1 };
            match words.get(k) {
                Some(w) if !w.text.starts_with('-') && words.len() > k + 1 => Step::Shell(w.text.clone(), w.dynamic),
                _ => Step::Nothing,
            }
        }
        "doppler" | "op" | "infisical" if arg(1) == "run" => secrets_run(words),
        "aws-vault" if arg(1) == "exec" => match words.iter().position(|w| w.text == "--") {
            Some(p) => Step::Skip(p + 1, Vec::new()),
            // `aws-vault exec PROFILE cmd...`
            None => {
                let i = 2 + skip_leading_options(&words[2..], &spec("jd", &["duration", "region", "mfa-token"]));
                Step::Skip(i + 1, Vec::new())
            }
        },
        "chamber" if arg(1) == "exec" => match words.iter().position(|w| w.text == "--") {
            Some(p) => Step::Skip(p + 1, Vec::new()),
            None => Step::Nothing,
        },
        "make" | "gmake" => tasks::make(words, lookup),
        "just" => tasks::just(words, lookup),
        "turbo" => tasks::turbo(words),
        "timeout" => {
            let i = 1 + skip_leading_options(&words[1..], &spec("sk", &["signal", "kill-after"]));
            Step::Skip(i + 1, Vec::new())
        }
        "nice" => {
            // `nice -10 cmd` and `nice -n 10 cmd`
            let mut i = 1;
            if arg(1).starts_with('-') && arg(1)[1..].chars().all(|c| c.is_ascii_digit()) && arg(1).len() > 1 {
                i = 2;
            }
            skip(words, i, &spec("n", &["adjustment"]))
        }
        "nohup" | "chronic" | "unbuffer" | "nocorrect" | "noglob" | "builtin" | "caffeinate" | "then" | "do" => {
            skip(words, 1, &spec("tw", &[]))
        }
        "time" => skip(words, 1, &spec("of", &["output", "format"])),
        "ionice" => skip(words, 1, &spec("cnp", &["class", "classdata", "pid"])),
        "stdbuf" => skip(words, 1, &spec("ioe", &["input", "output", "error"])),
        "command" => {
            if matches!(arg(1), "-v" | "-V") {
                return Step::Nothing;
            }
            skip(words, 1, &spec("", &[]))
        }
        "exec" => skip(words, 1, &spec("a", &[])),
        "xargs" => {
            let s = Spec {
                short: "adEILnPs",
                long: &[
                    "arg-file",
                    "delimiter",
                    "eof",
                    "replace",
                    "max-lines",
                    "max-args",
                    "max-procs",
                    "max-chars",
                    "process-slot-var",
                ],
                single_dash_long: false,
                optional: "iel",
            };
            let i = 1 + skip_leading_options(&words[1..], &s);
            if i >= words.len() {
                return Step::Nothing;
            }
            Step::Xargs(i)
        }
        "bash" | "sh" | "zsh" | "dash" | "ksh" | "ash" | "mksh" | "busybox" => shell(words, prog == "busybox"),
        "eval" => {
            let rest = &words[1..];
            Step::Shell(
                rest.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" "),
                rest.iter().any(|w| w.dynamic),
            )
        }
        "source" | "." => match words.get(1) {
            Some(w) => Step::ScriptFile(w.text.clone()),
            None => Step::Nothing,
        },
        "watch" => {
            let i = 1 + skip_leading_options(&words[1..], &spec("n", &["interval"]));
            if words[1..i].iter().any(|w| w.text == "-x" || w.text == "--exec") {
                return Step::Skip(i, Vec::new());
            }
            // watch joins its operands with spaces and hands them to `sh -c`.
            let rest = &words[i.min(words.len())..];
            Step::Shell(
                rest.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" "),
                rest.iter().any(|w| w.dynamic),
            )
        }
        "flock" => {
            let i = 1 + skip_leading_options(&words[1..], &spec("wEc", &["timeout", "conflict-exit-code", "command"]));
            if let Some(c) = words[1..i].iter().position(|w| w.text == "-c" || w.text == "--command") {
                let cmd = words.get(c + 2);
                return cmd.map_or(Step::Nothing, |w| Step::Shell(w.text.clone(), w.dynamic));
            }
            let i2 = i + 1;
            if matches!(arg(i2), "-c" | "--command") {
                return words
                    .get(i2 + 1)
                    .map_or(Step::Nothing, |w| Step::Shell(w.text.clone(), w.dynamic));
            }
            Step::Skip(i2, Vec::new())
        }
        "npx" | "bunx" | "pnpx" => npx(words, 1),
        "npm" => packages::npm(words),
        "pnpm" => pnpm_like(words, 1, lookup, Pm::Pnpm),
        "yarn" => pnpm_like(words, 1, lookup, Pm::Yarn),
        "bun" => {
            if arg(1) == "x" {
                return npx(words, 2);
            }
            // `bun -e CODE`: inline code, for the inline-code recognizer.
            if matches!(arg(1), "-e" | "--eval" | "-p" | "--print") || arg(1).starts_with("--eval=") {
                return Step::Done;
            }
            pnpm_like(words, 1, lookup, Pm::Bun)
        }
        "bundle" | "bundler" if arg(1) == "exec" => skip(words, 2, &spec("", &["gemfile"])),
        "poetry" | "pipenv" | "pdm" | "hatch" | "rye" if arg(1) == "run" => skip(words, 2, &spec("", &[])),
        "uv" if arg(1) == "run" => {
            let step = skip(
                words,
                2,
                &spec(
                    "pw",
                    &[
                        "with",
                        "python",
                        "project",
                        "directory",
                        "env-file",
                        "group",
                        "extra",
                        "package",
                        "index",
                        "with-requirements",
                    ],
                ),
            );
            // `uv run x.py`: uv runs the file with Python.
            match step {
                Step::Skip(i, _) if i >= 2 && words.get(i).is_some_and(|w| w.text.ends_with(".py")) => {
                    Step::Rename("python".into(), i)
                }
                other => other,
            }
        }
        "uvx" | "pipx" => {
            let from = if arg(1) == "run" { 2 } else { 1 };
            let i = from
                + skip_leading_options(
                    &words[from.min(words.len())..],
                    &spec("p", &["from", "with", "python", "spec"]),
                );
            match words.get(i) {
                Some(w) => Step::Rename(package_bin(&w.text), i + 1),
                None => Step::Nothing,
            }
        }
        p if p == "python"
            || p == "py"
            || p == "pypy3"
            || (p.starts_with("python") && p[6..].chars().all(|c| c.is_ascii_digit() || c == '.')) =>
        {
            python(words)
        }
        "php" if basename(arg(1)) == "artisan" => Step::Rename("artisan".into(), 2),
        "sail" if arg(1) == "artisan" || arg(1) == "art" => Step::Rename("artisan".into(), 2),
        "sail" if matches!(arg(1), "psql" | "mysql" | "mariadb" | "redis") => Step::Skip(1, Vec::new()),
        "node" | "nodejs" | "ts-node" | "ts-node-esm" | "tsx" | "node-ts" | "deno" => node(words),
        "docker" | "podman" => docker(words, false),
        "docker-compose" | "podman-compose" => docker(words, true),
        "kubectl" | "oc" if words.iter().any(|w| w.text == "exec") => match words.iter().position(|w| w.text == "--") {
            Some(p) => Step::Skip(p + 1, Vec::new()),
            None => Step::Nothing,
        },
        "ssh" => ssh(words),
        "cargo" if arg(1) == "sqlx" => Step::Rename("sqlx".into(), 2),
        _ => launchers::step(words, lookup)
            .or_else(|| script_by_path(first, lookup))
            .unwrap_or(Step::Done),
    }
}

/// `./reset.sh`, `scripts/nuke`: a path run directly is read as a shell script when its
/// name ends in `.sh` or its first line names a shell (`#!/bin/sh`, `#!/usr/bin/env bash`).
/// Known tools (`./node_modules/.bin/prisma`, `bin/rails`) are left to their recognizers.
fn script_by_path(w: &Word, lookup: &dyn Lookup) -> Option<Step> {
    let t = w.text.as_str();
    if w.dynamic || !t.contains('/') || super::recognizers::find(basename(t)).is_some() {
        return None;
    }
    if t.ends_with(".sh") || t.ends_with(".bash") {
        return Some(Step::ScriptFile(t.to_string()));
    }
    let head = lookup
        .file_head(t)
        .or_else(|| t.strip_prefix("./").and_then(|p| lookup.file_head(p)))?;
    shell_shebang(&head).then(|| Step::ScriptFile(t.to_string()))
}

/// Whether a file starts with `#!` naming a POSIX-like shell.
pub fn shell_shebang(head: &[u8]) -> bool {
    let Some(rest) = head.strip_prefix(b"#!") else {
        return false;
    };
    let line_end = rest.iter().position(|&c| c == b'\n').unwrap_or(rest.len());
    let line = String::from_utf8_lossy(&rest[..line_end]);
    let mut parts = line.split_whitespace();
    let mut interp = parts.next().map(basename).unwrap_or("");
    if interp == "env" {
        interp = parts.find(|p| !p.starts_with('-')).map(basename).unwrap_or("");
    }
    matches!(interp, "sh" | "bash" | "zsh" | "dash" | "ksh" | "ash" | "mksh")
}

/// `su [-] [-l] USER [-c CMD]` (the command is shell text for the user's shell; without
/// one the shell reads standard input), `runuser -u USER [--] cmd...` (sudo-like) or
/// `runuser [-] USER -c CMD` (su-like). Options may follow the user (GNU getopt).
fn su(words: &[Word], runuser: bool) -> Step {
    let mut i = 1;
    let mut user_flag = false;
    let shell_text = |w: Option<&Word>| w.map_or(Step::Nothing, |w| Step::Shell(w.text.clone(), w.dynamic));
    while let Some(w) = words.get(i) {
        let t = w.text.as_str();
        i += 1;
        if t == "--" {
            break;
        }
        if let Some(v) = t
            .strip_prefix("--command=")
            .or_else(|| t.strip_prefix("--session-command="))
        {
            return Step::Shell(v.to_string(), w.dynamic);
        }
        match t {
            "-c" | "--command" | "--session-command" => return shell_text(words.get(i)),
            "-u" | "--user" => {
                user_flag = true;
                i += 1;
                continue;
            }
            "-s" | "--shell" | "-g" | "--group" | "-G" | "--supp-group" | "-w" | "--whitelist-environment" => {
                i += 1;
                continue;
            }
            "-" => continue,
            _ => {}
        }
        if t.starts_with("--") {
            continue;
        }
        if let Some(cluster) = t.strip_prefix('-') {
            for (idx, ch) in cluster.char_indices() {
                let rest = &cluster[idx + ch.len_utf8()..];
                match ch {
                    'c' if rest.is_empty() => return shell_text(words.get(i)),
                    'c' => return Step::Shell(rest.to_string(), w.dynamic),
                    'u' | 's' | 'g' | 'G' | 'w' => {
                        user_flag |= ch == 'u';
                        if rest.is_empty() {
                            i += 1;
                        }
                        break;
                    }
                    _ => {}
                }
            }
            continue;
        }
        if runuser && user_flag {
            return Step::Skip(i - 1, Vec::new());
        }
    }
    if runuser && user_flag {
        return if i < words.len() {
            Step::Skip(i, Vec::new())
        } else {
            Step::Nothing
        };
    }
    // `su USER -- -c CMD`: arguments after `--` go to the shell.
    if words.get(i).is_some_and(|w| w.text == "-c") {
        return shell_text(words.get(i + 1));
    }
    Step::ShellStdin
}

/// `doppler run [opts] -- cmd`, `op run --env-file=.env -- cmd`, `infisical run -- cmd`,
/// or their `--command 'text'` form: secret injectors, how production credentials reach
/// a command.
fn secrets_run(words: &[Word]) -> Step {
    for (k, w) in words.iter().enumerate().skip(2) {
        let t = w.text.as_str();
        if t == "--" {
            return Step::Skip(k + 1, Vec::new());
        }
        if t == "--command" {
            return words
                .get(k + 1)
                .map_or(Step::Nothing, |c| Step::Shell(c.text.clone(), c.dynamic));
        }
        if let Some(c) = t.strip_prefix("--command=") {
            return Step::Shell(c.to_string(), w.dynamic);
        }
    }
    let s = spec(
        "pce",
        &[
            "project",
            "config",
            "token",
            "mount",
            "mount-format",
            "mount-template",
            "fallback",
            "name-transformer",
            "env",
            "env-file",
            "environment",
            "path",
            "projectId",
            "domain",
            "account",
            "tags",
        ],
    );
    skip(words, 2, &s)
}

fn env(words: &[Word]) -> Step {
    let mut i = 1;
    let mut vars = Vec::new();
    while let Some(w) = words.get(i) {
        let t = w.text.as_str();
        if t == "--" {
            i += 1;
            break;
        }
        if let Some(s) = t
            .strip_prefix("--split-string=")
            .or_else(|| t.strip_prefix("-S").filter(|s| !s.is_empty()))
        {
            let mut text = s.to_string();
            for r in &words[i + 1..] {
                text.push(' ');
                text.push_str(&r.text);
            }
            return Step::Shell(text, w.dynamic);
        }
        if t == "-S" || t == "--split-string" {
            let rest = &words[i + 1..];
            let text = rest.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" ");
            return Step::Shell(text, rest.iter().any(|w| w.dynamic));
        }
        if matches!(t, "-u" | "-C" | "--unset" | "--chdir" | "-P") {
            i += 2;
            continue;
        }
        if t.starts_with('-') && !t.contains('=') || t.starts_with("--") {
            i += 1;
            continue;
        }
        match is_assignment(t) {
            Some(kv) => {
                vars.push(kv);
                i += 1;
            }
            None => break,
        }
    }
    Step::Skip(i, vars)
}

fn shell(words: &[Word], busybox: bool) -> Step {
    let mut i = 1;
    if busybox {
        // `busybox sh -c ...`
        if !matches!(words.get(1).map(|w| basename(&w.text)), Some("sh" | "ash" | "bash")) {
            return Step::Done;
        }
        i = 2;
    }
    let mut has_c = false;
    let mut has_s = false;
    while let Some(w) = words.get(i) {
        let t = w.text.as_str();
        if t == "--" {
            i += 1;
            break;
        }
        if matches!(t, "--rcfile" | "--init-file") {
            i += 2;
            continue;
        }
        if t.starts_with("--") {
            i += 1;
            continue;
        }
        if (t.starts_with('-') || t.starts_with('+')) && t.len() > 1 {
            if t.starts_with('-') && t.contains('c') {
                has_c = true;
            }
            // `sh -s -- args`: commands from standard input, the words are its arguments.
            has_s |= t.starts_with('-') && t.contains('s') && !t.contains('c');
            // `-o NAME` / `-O NAME`, also inside a cluster (`-euo pipefail`): each takes
            // the next word as an option name.
            let names = t[1..].bytes().filter(|&c| c == b'o' || c == b'O').count();
            i += 1 + names;
            continue;
        }
        break;
    }
    match words.get(i) {
        _ if has_s && !has_c => Step::ShellStdin,
        Some(w) if has_c => Step::Shell(w.text.clone(), w.dynamic),
        // `bash <(curl ...)`, `bash "$SCRIPT"`: the analyzer decides what it can see.
        Some(w) => Step::ScriptFile(w.text.clone()),
        None if has_c => Step::Nothing,
        None => Step::ShellStdin,
    }
}

fn python(words: &[Word]) -> Step {
    let i = 1 + skip_leading_options(&words[1..], &spec("WXQm", &[]));
    // `-m module` ends the interpreter's options.
    if let Some(m) = words[1..i].iter().position(|w| w.text == "-m") {
        let module = words.get(m + 2).map_or("", |w| w.text.as_str());
        let next = m + 3;
        return match module {
            "django" => Step::Rename("django-admin".into(), next),
            "alembic" => Step::Rename("alembic".into(), next),
            "flask" => Step::Rename("flask".into(), next),
            // Another module: the interpreter recognizer reads it when it is a local file.
            _ => Step::Done,
        };
    }
    if let Some(w) = words
        .iter()
        .skip(1)
        .find(|w| w.text.starts_with("-m") && w.text.len() > 2)
    {
        return match &w.text[2..] {
            "django" => Step::Rename("django-admin".into(), 2),
            _ => Step::Nothing,
        };
    }
    // `python -c CODE`: inline code, for the inline-code recognizer.
    if words[1..i]
        .iter()
        .any(|w| w.text.starts_with('-') && !w.text.starts_with("--") && w.text.ends_with('c'))
    {
        return Step::Done;
    }
    match words.get(i) {
        // Code on standard input, for the inline-code recognizer.
        None => Step::Done,
        Some(w) if w.text == "-" => Step::Done,
        Some(w) if basename(&w.text) == "manage.py" => Step::Rename("manage.py".into(), i + 1),
        Some(w) if basename(&w.text) == "django-admin" || basename(&w.text) == "alembic" => {
            Step::Rename(basename(&w.text).to_string(), i + 1)
        }
        // A script file: the interpreter recognizer reads it.
        _ => Step::Done,
    }
}

fn node(words: &[Word]) -> Step {
    let s = spec(
        "rPOCep",
        &[
            "eval",
            "print",
            "require",
            "project",
            "loader",
            "import",
            "compiler-options",
            "compiler",
            "conditions",
            "experimental-loader",
            "env-file",
        ],
    );
    let i = 1 + skip_leading_options(&words[1..], &s);
    // `node -e CODE`, `deno eval CODE`: inline code, for the inline-code recognizer.
    if words[1..i].iter().any(|w| {
        let t = w.text.as_str();
        matches!(t, "--eval" | "--print")
            || t.starts_with("--eval=")
            || t.starts_with("--print=")
            || (t.starts_with('-')
                && !t.starts_with("--")
                && (t.ends_with('e') || t.ends_with('p'))
                && !t.contains('P'))
    }) {
        return Step::Done;
    }
    // `node` alone (or `node -`) runs its standard input.
    let Some(w) = words.get(i) else { return Step::Done };
    if w.text == "-" {
        return Step::Done;
    }
    if basename(&words[0].text) == "deno" && w.text == "eval" {
        return Step::Done;
    }
    let path = w.text.replace('\\', "/");
    if let Some(rest) = path
        .split("node_modules/")
        .last()
        .filter(|_| path.contains("node_modules/"))
    {
        if let Some(bin) = rest.strip_prefix(".bin/") {
            return Step::Rename(bin.to_string(), i + 1);
        }
        let pkg = if rest.starts_with('@') {
            rest.splitn(3, '/').take(2).collect::<Vec<_>>().join("/")
        } else {
            rest.split('/').next().unwrap_or("").to_string()
        };
        return Step::Rename(package_bin(&pkg), i + 1);
    }
    // A script file (`node scripts/cleanup.js`, `deno run x.ts`): the interpreter recognizer reads it.
    Step::Done
}

fn docker(words: &[Word], compose_prog: bool) -> Step {
    let mut i = 1;
    if !compose_prog {
        i += skip_leading_options(&words[1..], &super::recognizers::docker::GLOBAL);
    }
    let arg = |k: usize| words.get(k).map_or("", |w| w.text.as_str());
    let mut compose = compose_prog;
    if !compose && arg(i) == "compose" {
        compose = true;
        i += 1;
    }
    if compose {
        i += skip_leading_options(&words[i.min(words.len())..], &super::recognizers::docker::COMPOSE);
    }
    let (sub, opts) = match arg(i) {
        "exec" if compose => ("exec", spec("euw", &["env", "user", "workdir", "index"])),
        "run" if compose => (
            "run",
            spec(
                "euwpvl",
                &[
                    "env",
                    "user",
                    "workdir",
                    "name",
                    "entrypoint",
                    "publish",
                    "volume",
                    "label",
                    "pull",
                    "cap-add",
                    "cap-drop",
                ],
            ),
        ),
        "exec" => (
            "exec",
            spec("euw", &["env", "env-file", "user", "workdir", "detach-keys"]),
        ),
        "run" => (
            "run",
            spec(
                "evpwulhm",
                &[
                    "env",
                    "env-file",
                    "volume",
                    "publish",
                    "workdir",
                    "user",
                    "label",
                    "hostname",
                    "memory",
                    "name",
                    "network",
                    "entrypoint",
                    "mount",
                    "platform",
                    "cpus",
                    "restart",
                    "add-host",
                    "link",
                    "volumes-from",
                    "log-driver",
                    "log-opt",
                    "shm-size",
                    "ulimit",
                    "device",
                    "dns",
                    "pull",
                    "cap-add",
                    "cap-drop",
                    "health-cmd",
                ],
            ),
        ),
        _ => return Step::Done,
    };
    let _ = sub;
    let start = i + 1;
    let j = start + skip_leading_options(&words[start.min(words.len())..], &opts);
    let mut env = Vec::new();
    let mut k = start;
    while k < j {
        if matches!(arg(k), "-e" | "--env") {
            if let Some(kv) = is_assignment(arg(k + 1)) {
                env.push(kv);
            }
        }
        k += 1;
    }
    // Past the container / service / image name.
    if j + 1 >= words.len() {
        return Step::Nothing;
    }
    Step::Skip(j + 1, env)
}

fn ssh(words: &[Word]) -> Step {
    let s = spec("BbcDEeFIiJLlmOoPpQRSWw", &[]);
    let i = 1 + skip_leading_options(&words[1..], &s);
    // words[i] is the host. OpenSSH reads options after it too, and `--` ends them; the
    // rest is the remote command line.
    let j = (i + 1).min(words.len());
    let j = j + skip_leading_options(&words[j..], &s);
    let rest = &words[j..];
    if rest.is_empty() {
        // No remote command: the remote shell reads its commands from standard input
        // (unless `-n`/`-N` cut it off, or there is no host at all).
        let no_stdin = words[1..j].iter().any(|w| {
            w.text.starts_with('-') && !w.text.starts_with("--") && (w.text.contains('n') || w.text.contains('N'))
        });
        if i >= words.len() || no_stdin {
            return Step::Nothing;
        }
        return Step::ShellStdin;
    }
    let text = rest.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" ");
    Step::Shell(text, rest.iter().any(|w| w.dynamic))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lookup::NoLookup;
    use crate::shell::parse::parse;
    use crate::shell::parse::Command;

    fn words(s: &str) -> Vec<Word> {
        match parse(s).script.pipelines.first().and_then(|p| p.commands.first()) {
            Some(Command::Simple(sc)) => sc.words.clone(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn peels() {
        assert_eq!(
            step(&words("sudo -u postgres -E dropdb x"), &NoLookup),
            Step::Skip(4, vec![])
        );
        assert_eq!(
            step(&words("env -i A=1 B=2 psql"), &NoLookup),
            Step::Skip(4, vec![("A".into(), "1".into()), ("B".into(), "2".into())])
        );
        assert_eq!(step(&words("timeout -s KILL 5 psql"), &NoLookup), Step::Skip(4, vec![]));
        assert_eq!(
            step(&words("npx --yes prisma@6.1 migrate reset"), &NoLookup),
            Step::Rename("prisma".into(), 3)
        );
        assert_eq!(
            step(&words("npx -p @mikro-orm/cli mikro-orm schema:drop"), &NoLookup),
            Step::Rename("mikro-orm".into(), 4)
        );
        assert_eq!(
            step(&words("bash -lc 'x y'"), &NoLookup),
            Step::Shell("x y".into(), false)
        );
        assert_eq!(
            step(&words("python3 manage.py flush"), &NoLookup),
            Step::Rename("manage.py".into(), 2)
        );
        assert_eq!(
            step(&words("ts-node ./node_modules/typeorm/cli.js schema:drop"), &NoLookup),
            Step::Rename("typeorm".into(), 2)
        );
        assert_eq!(step(&words("pnpm add prisma"), &NoLookup), Step::Nothing);
        assert_eq!(
            step(&words("docker compose exec -T db psql -U x"), &NoLookup),
            Step::Skip(5, vec![])
        );
        assert!(matches!(
            step(&words("npm run db:reset -- --force"), &NoLookup),
            Step::PkgScript { .. }
        ));
    }
}
