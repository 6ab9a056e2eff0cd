//! Launchers: programs that run another command, analyzed through. Env-file loaders are
//! in [`super::envload`] (they change the target too), script runners in
//! [`super::runners`], package managers in [`super::packages`]; this file holds the
//! process launchers (`setsid`, `tmux new-session` / `send-keys`, `screen`, `at`,
//! `script -c`, `chroot`, `chrt`, `taskset`, `numactl`, `systemd-run`, `unshare`, `strace`,
//! `xvfb-run`, `gosu`, `nix-shell --run`, `mise exec`, `conda run`, `parallel`...) and the
//! dispatch for all three.

use super::envload::{self, EnvLoad};
use super::parse::Word;
use super::runners;
use super::words::{arg, basename, join_words, skip_leading_options, spec};
use super::wrappers::Step;
use crate::lookup::Lookup;

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
        "dotenv" | "dotenv-cli" => envload::dotenv_cli(words, lookup),
        "dotenvx" => envload::dotenvx(words, lookup),
        "env-cmd" => envload::env_cmd(words, lookup),
        "cross-env" => envload::cross_env(words, false),
        "cross-env-shell" => envload::cross_env(words, true),
        "concurrently" | "conc" => runners::concurrently(words, lookup),
        "npm-run-all" | "npm-run-all2" | "run-s" | "run-p" => runners::npm_run_all(words, lookup),
        "nx" => runners::nx(words),
        "lerna" => runners::lerna(words),
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
        // `parallel [opts] cmd ::: args` / `cat list | parallel cmd`: operands at run time,
        // as with xargs; one operand with spaces is shell text.
        "parallel" => {
            let k = skip_leading_options(
                &words[1..],
                &spec(
                    "jadSIX",
                    &[
                        "jobs", "arg-file", "colsep", "sshlogin", "joblog", "results", "tmpdir", "delay", "timeout",
                        "retries", "halt",
                    ],
                ),
            );
            let rest = &words[1 + k..];
            match rest {
                [] => Step::Nothing,
                [one, ..] if one.text.contains(' ') => Step::Shell(one.text.replace("{}", "\"$1\""), true),
                _ => Step::Xargs(1 + k),
            }
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
