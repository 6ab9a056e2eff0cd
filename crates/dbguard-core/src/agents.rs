//! AI coding agents, recognized by the environment variables their shells carry and by
//! the processes they run as. The one list dbguard keeps: `run`, `approve`, the hook and
//! `doctor` all ask here.
//!
//! Variables are what an agent's shell carries by default; an agent that wants to pass for
//! a person removes them in one step (`env -i`). Its process cannot: `dbguard approve`
//! started by an agent, however many shells, `env -i` or pseudo-terminals stand between,
//! has the agent among its ancestors. [`detect_process`] matches one process (its `comm`,
//! argv and executable path, as read from `/proc` at the edge, see the binary's
//! `procs.rs`) against the names and command lines the agents really run under.

/// Variables that mark a process as started by an AI coding agent, and the agent's name.
pub const AGENT_VARIABLES: &[(&str, &str)] = &[
    ("CLAUDECODE", "Claude Code"),
    ("CLAUDE_CODE_ENTRYPOINT", "Claude Code"),
    ("CURSOR_AGENT", "Cursor"),
    ("CURSOR_TRACE_ID", "Cursor"),
    ("CODEX_SANDBOX", "Codex"),
    ("CODEX_THREAD_ID", "Codex"),
    ("CODEX_MANAGED_BY_NPM", "Codex"),
    ("GEMINI_CLI", "Gemini CLI"),
    ("COPILOT_CLI", "GitHub Copilot CLI"),
    ("CLINE_ACTIVE", "Cline"),
    ("AUGMENT_AGENT", "Augment"),
    ("OPENCODE", "opencode"),
    ("QWEN_CODE", "Qwen Code"),
    ("AIDER", "aider"),
    ("AI_AGENT", "an AI agent"),
    ("REPLIT_SESSION", "Replit Agent"),
];

/// The first agent whose marker variable is set (non-empty), if any.
pub fn detect<'a, I>(vars: I) -> Option<&'static str>
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    for (k, v) in vars {
        if v.is_empty() {
            continue;
        }
        if let Some((_, name)) = AGENT_VARIABLES.iter().find(|(var, _)| *var == k) {
            return Some(name);
        }
    }
    None
}

/// One process as the edge read it from `/proc/<pid>/{comm,cmdline,exe}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcessFacts {
    /// `/proc/<pid>/comm`: the kernel's name (the executable's file name, at most 15
    /// bytes, or what the process set with `prctl(PR_SET_NAME)` / node's `process.title`).
    pub comm: String,
    /// `/proc/<pid>/cmdline`, split at NULs (a process may rewrite it).
    pub argv: Vec<String>,
    /// The target of `/proc/<pid>/exe`, when readable.
    pub exe: Option<String>,
}

/// Agents whose executable (or the script an interpreter runs) carries one of these names.
///
/// How each runs, from its packages and issue trackers:
/// - Claude Code: the native installer's binary `~/.local/share/claude/versions/<version>`
///   (linked as `~/.local/bin/claude`) names itself `claude` (`ps -o comm`) and may show its
///   version as the process title (anthropics/claude-code#24398, #61856); the npm package
///   runs `node .../@anthropic-ai/claude-code/cli.js` with the title `claude`.
/// - Codex: `codex`, a native binary, started directly or by the npm wrapper
///   `node .../@openai/codex/bin/codex.js`.
/// - Cursor CLI: `cursor-agent` (a launcher script running the bundled `node` from
///   `~/.local/share/cursor-agent/versions/<version>/`).
/// - Gemini CLI: `node .../bin/gemini` or `.../@google/gemini-cli/dist/index.js` (it
///   relaunches itself as a child node with a larger heap: both are matched).
/// - GitHub Copilot CLI: `copilot` (`node .../@github/copilot/index.js`, or its binary).
/// - Aider: the Python entry script `aider` (comm `aider`), or `python -m aider`.
/// - Cline CLI `cline`, Continue CLI `cn` (`@continuedev/cli`), OpenCode `opencode`
///   (`opencode-ai`), Amp `amp` (`@sourcegraph/amp`), Goose `goose`, Qwen Code `qwen`
///   (`@qwen-code/qwen-code`), Augment `auggie` (`@augmentcode/auggie`), Crush `crush`,
///   Factory `droid`, Kiro `kiro-cli`, Amazon Q `qchat`, Windsurf's agent server
///   `language_server_linux_x64`.
pub const AGENT_PROGRAMS: &[(&str, &str)] = &[
    ("claude", "Claude Code"),
    ("claude-code", "Claude Code"),
    ("codex", "Codex"),
    ("codex-exec", "Codex"),
    ("cursor-agent", "Cursor"),
    ("gemini", "Gemini CLI"),
    ("copilot", "GitHub Copilot CLI"),
    ("aider", "aider"),
    ("cline", "Cline"),
    ("opencode", "opencode"),
    ("amp", "Amp"),
    ("goose", "Goose"),
    ("qwen", "Qwen Code"),
    ("auggie", "Augment"),
    ("crush", "Crush"),
    ("droid", "Factory Droid"),
    ("kiro-cli", "Kiro"),
    ("qchat", "Amazon Q Developer"),
    ("language_server_linux_x64", "Windsurf"),
    ("language_server_linux_arm", "Windsurf"),
];

/// Pieces of paths that only an agent's installation has (npm package folders, the
/// native installers' version folders).
pub const AGENT_PATH_MARKERS: &[(&str, &str)] = &[
    ("@anthropic-ai/claude-code", "Claude Code"),
    ("/.local/share/claude/versions/", "Claude Code"),
    ("/.claude/local/", "Claude Code"),
    ("@openai/codex", "Codex"),
    ("/cursor-agent/", "Cursor"),
    ("@google/gemini-cli", "Gemini CLI"),
    ("@github/copilot", "GitHub Copilot CLI"),
    ("/site-packages/aider/", "aider"),
    ("aider-chat", "aider"),
    ("@continuedev/cli", "Continue"),
    ("opencode-ai", "opencode"),
    ("@sourcegraph/amp", "Amp"),
    ("@qwen-code/qwen-code", "Qwen Code"),
    ("@augmentcode/auggie", "Augment"),
    ("/.codeium/windsurf/", "Windsurf"),
];

/// Interpreters whose first operand is the program that really runs.
const INTERPRETERS: &[&str] = &[
    "node", "nodejs", "bun", "deno", "tsx", "ts-node", "python", "pypy", "uv", "uvx",
];

fn base(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn program_name(name: &str) -> Option<&'static str> {
    let n = name.trim_start_matches('-').to_ascii_lowercase();
    let n = n.strip_suffix(".js").or_else(|| n.strip_suffix(".mjs")).unwrap_or(&n);
    AGENT_PROGRAMS.iter().find(|(p, _)| *p == n).map(|(_, a)| *a)
}

fn path_marker(text: &str) -> Option<&'static str> {
    AGENT_PATH_MARKERS
        .iter()
        .find(|(m, _)| text.contains(m))
        .map(|(_, a)| *a)
}

fn is_interpreter(name: &str) -> bool {
    let n = base(name).to_ascii_lowercase();
    INTERPRETERS
        .iter()
        .any(|i| n == *i || (n.starts_with(i) && n[i.len()..].chars().all(|c| c.is_ascii_digit() || c == '.')))
}

/// The agent a process is, if it is one: by its kernel name, its argv[0], its executable,
/// and for interpreters (node, python, bun...) the script or module they run.
pub fn detect_process(p: &ProcessFacts) -> Option<&'static str> {
    if let Some(a) = program_name(&p.comm) {
        return Some(a);
    }
    if let Some(a) = p
        .argv
        .first()
        .and_then(|a0| program_name(base(a0)).or_else(|| path_marker(a0)))
    {
        return Some(a);
    }
    if let Some(exe) = &p.exe {
        let exe = exe.trim_end_matches(" (deleted)");
        if let Some(a) = program_name(base(exe)).or_else(|| path_marker(exe)) {
            return Some(a);
        }
    }
    let runs_script = is_interpreter(&p.comm)
        || p.argv.first().is_some_and(|a| is_interpreter(a))
        || p.exe.as_deref().is_some_and(is_interpreter);
    if !runs_script {
        return None;
    }
    let mut args = p.argv.iter().skip(1);
    while let Some(a) = args.next() {
        if a == "-m" {
            return args.next().and_then(|m| program_name(m.split('.').next().unwrap_or(m)));
        }
        if a.starts_with('-') {
            continue;
        }
        // The script (or the package runner's target): its name or its install path.
        return program_name(base(a)).or_else(|| path_marker(a));
    }
    None
}

/// The first process of a chain (a process and its ancestors, or any related processes)
/// that is an agent: its index and the agent's name.
pub fn detect_in_chain(chain: &[ProcessFacts]) -> Option<(usize, &'static str)> {
    chain
        .iter()
        .enumerate()
        .find_map(|(i, p)| detect_process(p).map(|a| (i, a)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proc(comm: &str, argv: &[&str], exe: Option<&str>) -> ProcessFacts {
        ProcessFacts {
            comm: comm.into(),
            argv: argv.iter().map(|s| s.to_string()).collect(),
            exe: exe.map(str::to_string),
        }
    }

    #[test]
    fn agent_processes() {
        let cases: &[(ProcessFacts, Option<&str>)] = &[
            // Claude Code, native: comm `claude`, title rewritten to its version.
            (
                proc(
                    "claude",
                    &["2.1.144"],
                    Some("/home/u/.local/share/claude/versions/2.1.144"),
                ),
                Some("Claude Code"),
            ),
            (
                proc(
                    "2.1.37",
                    &["2.1.37"],
                    Some("/home/u/.local/share/claude/versions/2.1.37"),
                ),
                Some("Claude Code"),
            ),
            // Claude Code from npm.
            (
                proc(
                    "node",
                    &["node", "/usr/lib/node_modules/@anthropic-ai/claude-code/cli.js", "-p"],
                    Some("/usr/bin/node"),
                ),
                Some("Claude Code"),
            ),
            (
                proc(
                    "codex",
                    &["codex", "exec", "x"],
                    Some("/usr/lib/node_modules/@openai/codex/vendor/x86_64-unknown-linux-musl/codex/codex"),
                ),
                Some("Codex"),
            ),
            (
                proc("node", &["node", "/usr/local/bin/codex"], Some("/usr/bin/node")),
                Some("Codex"),
            ),
            (
                proc(
                    "node",
                    &[
                        "/home/u/.local/share/cursor-agent/versions/2025.09.1/node",
                        "--use-system-ca",
                        "/home/u/.local/share/cursor-agent/versions/2025.09.1/index.js",
                    ],
                    Some("/home/u/.local/share/cursor-agent/versions/2025.09.1/node"),
                ),
                Some("Cursor"),
            ),
            (
                proc(
                    "node",
                    &["node", "--max-old-space-size=8192", "/usr/local/bin/gemini"],
                    Some("/usr/bin/node"),
                ),
                Some("Gemini CLI"),
            ),
            (
                proc(
                    "node",
                    &["node", "/usr/lib/node_modules/@github/copilot/index.js"],
                    None,
                ),
                Some("GitHub Copilot CLI"),
            ),
            (
                proc(
                    "aider",
                    &["/usr/bin/python3", "/home/u/.local/bin/aider", "--model", "x"],
                    Some("/usr/bin/python3.11"),
                ),
                Some("aider"),
            ),
            (
                proc("python3", &["python3", "-m", "aider"], Some("/usr/bin/python3.11")),
                Some("aider"),
            ),
            (proc("opencode", &["opencode"], None), Some("opencode")),
            (proc("bash", &["amp"], Some("/usr/bin/bash")), Some("Amp")),
            // `exec -a claude bash`: comm stays bash, argv[0] says claude.
            (
                proc("bash", &["claude", "-c", "x"], Some("/usr/bin/bash")),
                Some("Claude Code"),
            ),
            // A login shell, a terminal, an editor, a database tool: not agents.
            (proc("bash", &["-bash"], Some("/usr/bin/bash")), None),
            (
                proc("gnome-terminal-", &["/usr/libexec/gnome-terminal-server"], None),
                None,
            ),
            (proc("tmux: server", &["tmux"], Some("/usr/bin/tmux")), None),
            (proc("node", &["node", "server.js"], Some("/usr/bin/node")), None),
            (
                proc(
                    "python3",
                    &["python3", "manage.py", "runserver"],
                    Some("/usr/bin/python3"),
                ),
                None,
            ),
            (proc("vim", &["vim", "codex-notes.md"], None), None),
            (proc("psql", &["psql", "-d", "claude"], None), None),
            (proc("sshd", &["sshd: u@pts/0"], None), None),
        ];
        for (p, want) in cases {
            assert_eq!(detect_process(p), *want, "{p:?}");
        }
        let chain = vec![
            proc("dbguard", &["dbguard", "approve", "X"], None),
            proc("python3", &["python3", "drive.py"], None),
            proc("bash", &["bash", "-c", "x"], None),
            proc("claude", &["claude"], None),
        ];
        assert_eq!(detect_in_chain(&chain), Some((3, "Claude Code")));
        assert_eq!(detect_in_chain(&chain[..3]), None);
    }

    #[test]
    fn detects_known_agents() {
        assert_eq!(detect([("PATH", "/bin"), ("CLAUDECODE", "1")]), Some("Claude Code"));
        assert_eq!(detect([("CURSOR_AGENT", "1")]), Some("Cursor"));
        assert_eq!(detect([("CLAUDECODE", "")]), None);
        assert_eq!(detect([("HOME", "/root")]), None);
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    fn facts() -> impl Strategy<Value = ProcessFacts> {
        (
            "[a-z0-9:. _-]{0,16}",
            proptest::collection::vec("[ -~]{0,40}", 0..6),
            proptest::option::of("(/[a-z0-9._-]{1,12}){1,5}"),
        )
            .prop_map(|(comm, argv, exe)| ProcessFacts { comm, argv, exe })
    }

    proptest! {
        /// Never panics, and the answer depends only on the process itself.
        #[test]
        fn total_and_deterministic(p in facts()) {
            prop_assert_eq!(detect_process(&p), detect_process(&p.clone()));
        }

        /// An agent stays an agent whatever runs above or below it in the chain, and a
        /// chain of non-agents has none.
        #[test]
        fn chains(mut chain in proptest::collection::vec(facts(), 0..6), at in 0usize..6) {
            let clean: Vec<ProcessFacts> = chain.drain(..).filter(|p| detect_process(p).is_none()).collect();
            prop_assert_eq!(detect_in_chain(&clean), None);
            let mut with = clean.clone();
            let at = at.min(with.len());
            with.insert(at, ProcessFacts { comm: "claude".into(), argv: vec!["claude".into()], exe: None });
            prop_assert_eq!(detect_in_chain(&with), Some((at, "Claude Code")));
        }

        /// Renaming the process (argv[0]) or the executable to an agent's name is seen.
        #[test]
        fn renamed(p in facts(), name in proptest::sample::select(AGENT_PROGRAMS.to_vec())) {
            let mut q = p.clone();
            q.argv.insert(0, format!("/tmp/x/{}", name.0));
            prop_assert!(detect_process(&q).is_some());
            let mut r = p;
            r.exe = Some(format!("/opt/{}", name.0));
            prop_assert!(detect_process(&r).is_some());
        }
    }
}
