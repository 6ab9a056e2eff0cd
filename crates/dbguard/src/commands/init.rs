//! `dbguard init`: install the agent hooks, a `dbguard.toml` listing the databases found,
//! and a short note for agents in `AGENTS.md` / `CLAUDE.md`; `--uninstall` removes exactly
//! what was added.
//!
//! Settings files are merged, never replaced: the JSON is parsed with key order preserved,
//! dbguard's entry is added (or updated) next to whatever hooks and settings are there, and
//! a file that already holds the entry is not rewritten (idempotent). What each file looked
//! like before is remembered under the data directory (`<data>/init/`), so that
//! `--uninstall` restores it byte for byte when nothing else changed since; otherwise only
//! dbguard's entries (and containers dbguard created that are now empty) are removed.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::hooks::Agent;

#[derive(clap::Args)]
pub struct Args {
    /// Agents to install for (comma-separated). Default: those whose config folder exists.
    #[arg(long, value_enum, value_delimiter = ',')]
    agent: Vec<Agent>,
    /// Install into the user's global settings (~/.claude, ~/.cursor, ...) instead of the project.
    #[arg(long)]
    user: bool,
    /// Remove what `dbguard init` added.
    #[arg(long)]
    uninstall: bool,
    /// Show what would change, change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Project directory (default: the current directory).
    #[arg(long)]
    cwd: Option<PathBuf>,
    /// The dbguard executable the hooks run (default: `dbguard` when it is on PATH, else this
    /// executable's absolute path).
    #[arg(long)]
    dbguard: Option<String>,
    /// Also add db:migrate:new/plan/apply/status and db:backup scripts to package.json.
    #[arg(long)]
    scripts: bool,
}

/// Markers around the section dbguard adds to AGENTS.md / CLAUDE.md.
pub const NOTE_BEGIN: &str =
    "<!-- dbguard:begin (managed by `dbguard init`; `dbguard init --uninstall` removes it) -->";
pub const NOTE_END: &str = "<!-- dbguard:end -->";

const NOTE_BODY: &str = "## Databases are guarded by dbguard

Every shell command you run is checked by dbguard before it runs. Commands that would
destroy data (DROP/TRUNCATE, DELETE or UPDATE without WHERE, `prisma migrate reset`,
`db push --force-reset`, `drizzle-kit push`, `rails db:drop`, deleting database files or
volumes, ...) are stopped: on production they are blocked, elsewhere they need the
user's approval and a snapshot first.

When a command is stopped:
- Do not retry it and do not work around it (another command, tool, client or script).
- Tell the user what you wanted to do, and pass on the approval sentence dbguard gave you.
  Only the user approves, with `dbguard approve <code>` in their own terminal.
- After approval, run it as `dbguard run -- <command>` (snapshot, run, verify).

Schema changes, never with `migrate dev`, `migrate reset`, `db push` or `drizzle-kit push`:
edit the schema, then `dbguard migrate new <name>` (writes the migration, lists what
it would destroy), `dbguard migrate plan` (rows at stake, rehearsal on a copy),
`dbguard migrate apply` (snapshot, apply; exit 3: refused, or the user's
`dbguard approve <code>` is needed, then run it again), `dbguard migrate status`.
Use `dbguard status` to see which database you are on.";

/// What `init` remembers about one file it changed.
#[derive(Debug, Serialize, Deserialize)]
struct FileState {
    path: PathBuf,
    /// The file before `init` (None: it did not exist).
    original: Option<String>,
    /// The file as `init` left it.
    installed: String,
    /// Directories `init` created for it (removed on uninstall when empty).
    #[serde(default)]
    created_dirs: Vec<PathBuf>,
    /// Gemini CLI: `init` added `hooksConfig.enabled` (and created `hooksConfig` when true).
    #[serde(default)]
    switch_added: Option<bool>,
}

/// Where an agent's hook goes.
#[derive(Debug, Clone)]
pub struct HookSite {
    pub agent: Agent,
    pub path: PathBuf,
}

/// The settings file for an agent, in the project or the user's home.
pub fn hook_site(agent: Agent, project: &Path, user: bool) -> Option<HookSite> {
    let home = dirs::home_dir();
    let base = |dir: &str| -> Option<PathBuf> {
        if user {
            home.as_ref().map(|h| h.join(dir))
        } else {
            Some(project.join(dir))
        }
    };
    let path = match agent {
        Agent::Claude => base(".claude")?.join("settings.json"),
        Agent::Cursor => base(".cursor")?.join("hooks.json"),
        Agent::Codex => {
            if user {
                match std::env::var_os("CODEX_HOME").filter(|v| !v.is_empty()) {
                    Some(h) => PathBuf::from(h).join("hooks.json"),
                    None => base(".codex")?.join("hooks.json"),
                }
            } else {
                base(".codex")?.join("hooks.json")
            }
        }
        Agent::Gemini => base(".gemini")?.join("settings.json"),
        Agent::Copilot => {
            if user {
                base(".copilot")?.join("hooks").join("dbguard.json")
            } else {
                project.join(".github").join("hooks").join("dbguard.json")
            }
        }
    };
    Some(HookSite { agent, path })
}

/// The config folder whose presence says a project uses an agent.
fn agent_folder(agent: Agent) -> &'static str {
    match agent {
        Agent::Claude => ".claude",
        Agent::Cursor => ".cursor",
        Agent::Codex => ".codex",
        Agent::Gemini => ".gemini",
        Agent::Copilot => ".github",
    }
}

/// Agents whose config folder exists in `dir`.
pub fn detect_agents(dir: &Path) -> Vec<Agent> {
    Agent::ALL
        .into_iter()
        .filter(|a| dir.join(agent_folder(*a)).is_dir())
        .collect()
}

/// `dbguard` when the one on PATH is usable, else this executable's absolute path.
pub fn default_dbguard_command() -> String {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join("dbguard").is_file()))
        .unwrap_or(false);
    if on_path {
        return "dbguard".into();
    }
    match std::env::current_exe() {
        Ok(p) => dbguard_core::shell::words::shell_quote(&p.to_string_lossy()),
        Err(_) => "dbguard".into(),
    }
}

/// The hook command line installed for an agent.
pub fn hook_command(dbguard: &str, agent: Agent) -> String {
    format!("{dbguard} hook {}", agent.name())
}

/// Whether a configured command is dbguard's hook for `agent`.
pub fn is_our_command(cmd: &str, agent: Agent) -> bool {
    let t = cmd.trim();
    t.contains("dbguard")
        && (t.ends_with(&format!(" hook {}", agent.name())) || t.contains(&format!(" hook {} ", agent.name())))
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let project = match &args.cwd {
        Some(c) => c.clone(),
        None => std::env::current_dir().context("reading the current directory")?,
    };
    let agents: Vec<Agent> = if !args.agent.is_empty() {
        args.agent.clone()
    } else if args.uninstall {
        Agent::ALL.to_vec()
    } else if args.user {
        let home = dirs::home_dir().ok_or_else(|| anyhow!("no home directory"))?;
        detect_agents(&home)
    } else {
        detect_agents(&project)
    };
    let dbguard = args.dbguard.clone().unwrap_or_else(default_dbguard_command);
    let mut changes: Vec<String> = Vec::new();
    if args.uninstall {
        for agent in &agents {
            // The Codex switch first: the hook file goes last with the folders init created.
            if *agent == Agent::Codex {
                if let Some(path) = codex_config_path(&project, args.user) {
                    if let Some(c) = uninstall_codex_switch(&path, args.dry_run)? {
                        changes.push(c);
                    }
                }
            }
            if let Some(site) = hook_site(*agent, &project, args.user) {
                if let Some(c) = uninstall_hook(&site, args.dry_run)? {
                    changes.push(c);
                }
            }
        }
        if !args.user {
            for name in ["AGENTS.md", "CLAUDE.md", crate::config::FILE_NAME] {
                if let Some(c) = uninstall_file(&project.join(name), args.dry_run)? {
                    changes.push(c);
                }
            }
            if let Some(c) = super::init_scripts::uninstall(&project, args.dry_run)? {
                changes.push(c);
            }
        }
    } else {
        if agents.is_empty() {
            eprintln!(
                "dbguard init: no agent config folder found (.claude/, .cursor/, .codex/, .gemini/, .github/).\n\
                 Name the agents to install for, e.g. `dbguard init --agent claude,codex`."
            );
            return Ok(crate::exit::USAGE);
        }
        for agent in &agents {
            let Some(site) = hook_site(*agent, &project, args.user) else {
                continue;
            };
            match install_hook(&site, &hook_command(&dbguard, *agent), args.dry_run) {
                Ok(Some(c)) => changes.push(c),
                Ok(None) => changes.push(format!(
                    "{}: hook already installed in {}",
                    agent.display(),
                    site.path.display()
                )),
                Err(e) => eprintln!("dbguard init: {}: {e:#}", agent.display()),
            }
            // After the hook, so that a `.codex/` created for the hook is removed with it.
            if *agent == Agent::Codex {
                if let Some(path) = codex_config_path(&project, args.user) {
                    match install_codex_switch(&path, args.dry_run) {
                        Ok(Some(c)) => changes.push(c),
                        Ok(None) => {}
                        Err(e) => eprintln!("dbguard init: Codex: {e:#}"),
                    }
                }
            }
        }
        if !args.user {
            let claude = agents.contains(&Agent::Claude) || project.join("CLAUDE.md").is_file();
            let others = agents.iter().any(|a| *a != Agent::Claude) || project.join("AGENTS.md").is_file();
            if others {
                if let Some(c) = install_note(&project.join("AGENTS.md"), args.dry_run)? {
                    changes.push(c);
                }
            }
            if claude {
                if let Some(c) = install_note(&project.join("CLAUDE.md"), args.dry_run)? {
                    changes.push(c);
                }
            }
            if let Some(c) = write_config(&project, args.dry_run)? {
                changes.push(c);
            }
            if args.scripts {
                changes.extend(super::init_scripts::install(&project, &dbguard, args.dry_run)?);
            }
        }
    }
    let prefix = if args.dry_run { "would change: " } else { "" };
    if changes.is_empty() {
        println!("dbguard init: nothing to do");
    }
    for c in &changes {
        println!("{prefix}{c}");
    }
    if !args.uninstall && !args.dry_run {
        if agents.contains(&Agent::Codex) {
            println!(
                "Codex: run /hooks in Codex once and trust dbguard's hook (Codex runs a new or changed hook only \
                 after you review it; a project's .codex/ is read only when you trust the project)."
            );
        }
        println!("Next: review dbguard.toml (mark production databases), then run `dbguard doctor`.");
    }
    Ok(crate::exit::OK)
}

// ---------------------------------------------------------------------------------------
// Hooks in JSON settings files

fn read_json(path: &Path) -> anyhow::Result<(Option<String>, Value)> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            if text.trim().is_empty() {
                return Ok((Some(text), Value::Object(Map::new())));
            }
            let v: Value = serde_json::from_str(&text).with_context(|| {
                format!(
                    "{} is not valid JSON; fix it and run `dbguard init` again",
                    path.display()
                )
            })?;
            if !v.is_object() {
                return Err(anyhow!("{} does not hold a JSON object", path.display()));
            }
            Ok((Some(text), v))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((None, Value::Object(Map::new()))),
        Err(e) => Err(anyhow!("reading {}: {e}", path.display())),
    }
}

fn to_text(v: &Value) -> anyhow::Result<String> {
    let mut s = serde_json::to_string_pretty(v)?;
    s.push('\n');
    Ok(s)
}

/// The event array an agent's hook lives in, created when missing.
fn event_array(root: &mut Value, agent: Agent) -> anyhow::Result<&mut Vec<Value>> {
    let obj = root
        .as_object_mut()
        .ok_or_else(|| anyhow!("settings root is not an object"))?;
    if matches!(agent, Agent::Cursor | Agent::Copilot) && !obj.contains_key("version") {
        obj.insert("version".into(), json!(1));
    }
    let hooks = obj.entry("hooks").or_insert_with(|| Value::Object(Map::new()));
    let hooks = hooks
        .as_object_mut()
        .ok_or_else(|| anyhow!("`hooks` is not an object"))?;
    let arr = hooks
        .entry(event_name(agent))
        .or_insert_with(|| Value::Array(Vec::new()));
    arr.as_array_mut()
        .ok_or_else(|| anyhow!("`hooks.{}` is not an array", event_name(agent)))
}

pub fn event_name(agent: Agent) -> &'static str {
    match agent {
        Agent::Claude | Agent::Codex => "PreToolUse",
        Agent::Cursor => "beforeShellExecution",
        Agent::Gemini => "BeforeTool",
        Agent::Copilot => "preToolUse",
    }
}

/// The field of a hook handler that holds its command.
fn command_key(agent: Agent) -> &'static str {
    match agent {
        Agent::Copilot => "bash",
        _ => "command",
    }
}

/// The tools dbguard's hook entry matches: shell commands, and the agent's file-edit tools
/// (denied on dbguard's own settings; sources in `hooks/edits.rs`). Cursor and Copilot CLI
/// have no matcher (Copilot sends every tool; Cursor has no hook before its file edits).
pub fn matcher(agent: Agent) -> Option<&'static str> {
    match agent {
        Agent::Claude => Some("Bash|Edit|Write|MultiEdit|NotebookEdit"),
        Agent::Codex => Some("Bash|apply_patch|Edit|Write"),
        Agent::Gemini => Some("run_shell_command|write_file|replace"),
        Agent::Cursor | Agent::Copilot => None,
    }
}

/// The handler entry dbguard installs.
fn our_entry(agent: Agent, command: &str) -> Value {
    let m = matcher(agent).unwrap_or_default();
    match agent {
        Agent::Claude => json!({"matcher": m, "hooks": [{"type": "command", "command": command}]}),
        Agent::Codex => json!({"matcher": m, "hooks": [{"type": "command", "command": command, "timeout": 30}]}),
        Agent::Gemini => json!({"matcher": m, "hooks": [
            {"name": "dbguard", "type": "command", "command": command, "timeout": 10000}
        ]}),
        Agent::Cursor => json!({"command": command}),
        Agent::Copilot => json!({"type": "command", "bash": command, "timeoutSec": 30}),
    }
}

/// Commands of dbguard's handlers found in an event array (for doctor and idempotency).
pub fn installed_commands(root: &Value, agent: Agent) -> Vec<String> {
    let mut out = Vec::new();
    let Some(arr) = root
        .get("hooks")
        .and_then(|h| h.get(event_name(agent)))
        .and_then(|a| a.as_array())
    else {
        return out;
    };
    for entry in arr {
        let handlers: Vec<&Value> = match entry.get("hooks").and_then(|h| h.as_array()) {
            Some(hs) => hs.iter().collect(),
            None => vec![entry],
        };
        for h in handlers {
            if let Some(c) = h.get(command_key(agent)).and_then(|c| c.as_str()) {
                if is_our_command(c, agent) {
                    out.push(c.to_string());
                }
            }
        }
    }
    out
}

/// Add or update dbguard's handler. Returns whether anything changed.
fn merge_hook(root: &mut Value, agent: Agent, command: &str) -> anyhow::Result<bool> {
    let key = command_key(agent);
    let arr = event_array(root, agent)?;
    let mut found = false;
    let mut changed = false;
    for entry in arr.iter_mut() {
        changed |= widen_matcher(entry, agent);
        let nested = entry.get("hooks").map(|h| h.is_array()).unwrap_or(false);
        let handlers: Vec<&mut Value> = if nested {
            entry
                .get_mut("hooks")
                .and_then(|h| h.as_array_mut())
                .map(|v| v.iter_mut().collect())
                .unwrap_or_default()
        } else {
            vec![entry]
        };
        for h in handlers {
            let ours = h
                .get(key)
                .and_then(|c| c.as_str())
                .map(|c| is_our_command(c, agent))
                .unwrap_or(false);
            if ours {
                found = true;
                if h.get(key).and_then(|c| c.as_str()) != Some(command) {
                    h[key] = Value::String(command.to_string());
                    changed = true;
                }
            }
        }
    }
    if !found {
        arr.push(our_entry(agent, command));
        changed = true;
    }
    Ok(changed)
}

/// A group holding only dbguard's handler, installed before file edits were guarded
/// (matcher `Bash`): its matcher becomes [`matcher`]. Groups shared with other hooks are
/// left alone (doctor reports them).
fn widen_matcher(entry: &mut Value, agent: Agent) -> bool {
    let Some(want) = matcher(agent) else { return false };
    let only_ours = entry.get("hooks").and_then(|h| h.as_array()).is_some_and(|hs| {
        !hs.is_empty()
            && hs.iter().all(|h| {
                h.get(command_key(agent))
                    .and_then(|c| c.as_str())
                    .is_some_and(|c| is_our_command(c, agent))
            })
    });
    if !only_ours || entry.get("matcher").and_then(|m| m.as_str()) == Some(want) {
        return false;
    }
    entry["matcher"] = Value::String(want.into());
    true
}

/// The matchers of the groups holding dbguard's handler (for `doctor`).
pub fn installed_matchers(root: &Value, agent: Agent) -> Vec<String> {
    let Some(arr) = root
        .get("hooks")
        .and_then(|h| h.get(event_name(agent)))
        .and_then(|a| a.as_array())
    else {
        return Vec::new();
    };
    arr.iter()
        .filter(|e| {
            e.get("hooks").and_then(|h| h.as_array()).is_some_and(|hs| {
                hs.iter().any(|h| {
                    h.get(command_key(agent))
                        .and_then(|c| c.as_str())
                        .is_some_and(|c| is_our_command(c, agent))
                })
            })
        })
        .map(|e| e.get("matcher").and_then(|m| m.as_str()).unwrap_or("").to_string())
        .collect()
}

/// Remove dbguard's handlers, and the groups/arrays/objects left empty by that.
fn remove_hook(root: &mut Value, agent: Agent) -> bool {
    let key = command_key(agent);
    let event = event_name(agent);
    let Some(hooks) = root.get_mut("hooks").and_then(|h| h.as_object_mut()) else {
        return false;
    };
    let Some(arr) = hooks.get_mut(event).and_then(|a| a.as_array_mut()) else {
        return false;
    };
    let before = arr.clone();
    let is_ours = |h: &Value| {
        h.get(key)
            .and_then(|c| c.as_str())
            .map(|c| is_our_command(c, agent))
            .unwrap_or(false)
    };
    arr.retain_mut(|entry| {
        if let Some(hs) = entry.get_mut("hooks").and_then(|h| h.as_array_mut()) {
            let n = hs.len();
            hs.retain(|h| !is_ours(h));
            // A group that only held dbguard's handler goes with it.
            !(hs.is_empty() && n > 0)
        } else {
            !is_ours(entry)
        }
    });
    let changed = *arr != before;
    if changed && arr.is_empty() {
        hooks.remove(event);
    }
    if changed && hooks.is_empty() {
        if let Some(o) = root.as_object_mut() {
            o.remove("hooks");
        }
    }
    changed
}

fn install_hook(site: &HookSite, command: &str, dry_run: bool) -> anyhow::Result<Option<String>> {
    let (original, mut root) = read_json(&site.path)?;
    let hook_changed = merge_hook(&mut root, site.agent, command)?;
    let mut switch_added = None;
    if site.agent == Agent::Gemini {
        match gemini_switch(&root) {
            Switch::Missing => switch_added = Some(add_gemini_switch(&mut root)?),
            Switch::Off(why) => eprintln!(
                "dbguard init: Gemini CLI: {why} in {}: Gemini CLI runs no hooks, dbguard's included, until it is \
                 true (left as you set it)",
                site.path.display()
            ),
            Switch::On(_) => {}
        }
    }
    if !hook_changed && switch_added.is_none() {
        return Ok(None);
    }
    let text = to_text(&root)?;
    let mut msg = if hook_changed {
        format!(
            "{}: hook `{command}` added to {}",
            site.agent.display(),
            site.path.display()
        )
    } else {
        format!("{}: {}", site.agent.display(), site.path.display())
    };
    if switch_added.is_some() {
        msg.push_str(&format!(
            " (with `\"{GEMINI_SWITCH}\": {{\"enabled\": true}}`, which turns hooks on)"
        ));
    }
    if dry_run {
        return Ok(Some(msg));
    }
    write_remembering(&site.path, original, &text, switch_added)?;
    Ok(Some(msg))
}

fn uninstall_hook(site: &HookSite, dry_run: bool) -> anyhow::Result<Option<String>> {
    let state = load_state(&site.path);
    let current = match std::fs::read_to_string(&site.path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(anyhow!("reading {}: {e}", site.path.display())),
    };
    let Some(current) = current else {
        forget_state(&site.path);
        return Ok(None);
    };
    let msg = format!("{}: hook removed from {}", site.agent.display(), site.path.display());
    if let Some(st) = &state {
        if st.installed == current {
            if !dry_run {
                restore_original(st)?;
            }
            return Ok(Some(msg));
        }
    }
    let (_, mut root) = read_json(&site.path)?;
    let hook_removed = remove_hook(&mut root, site.agent);
    let switch_removed = match state.as_ref().and_then(|s| s.switch_added) {
        Some(created_table) if site.agent == Agent::Gemini => remove_gemini_switch(&mut root, created_table),
        _ => false,
    };
    if !hook_removed && !switch_removed {
        return Ok(None);
    }
    if dry_run {
        return Ok(Some(msg));
    }
    let empty = root.as_object().map(|o| o.is_empty()).unwrap_or(false);
    let created = state.as_ref().map(|s| s.original.is_none()).unwrap_or(false);
    let only_version = root
        .as_object()
        .map(|o| o.len() == 1 && o.contains_key("version"))
        .unwrap_or(false);
    if (empty || only_version) && (created || state.is_none() && site.agent == Agent::Copilot) {
        remove_file(&site.path)?;
        if let Some(st) = &state {
            remove_created_dirs(st);
        }
    } else {
        std::fs::write(&site.path, to_text(&root)?).with_context(|| format!("writing {}", site.path.display()))?;
    }
    forget_state(&site.path);
    Ok(Some(msg))
}

// ---------------------------------------------------------------------------------------
// The switches that let an agent run hooks at all
//
// Gemini CLI: `hooksConfig.enabled` in settings.json, "Canonical toggle for the hooks system.
// When disabled, no hooks will be executed" (docs/cli/settings.md in google-gemini/gemini-cli,
// https://geminicli.com/docs/cli/settings). Its default became `true` in January 2026
// (google-gemini/gemini-cli#17247, "enable hooks system by default"); stable releases before
// that needed it set ("If you are on the Stable channel, you must explicitly enable the hooks
// system in your settings.json: hooksConfig.enabled"). The older switches are not written:
// `tools.enableHooks` was removed (#17867) and `hooks.enabled: true` is rejected by current
// releases ("Expected array, received boolean", #17831). Workspace settings override user
// settings, so the project's `.gemini/settings.json` is the place (Gemini CLI reads it only
// in trusted folders).
//
// Codex: `[features] hooks = true` in config.toml. Hooks started behind the `codex_hooks`
// feature (v0.114.0), which became stable and on by default in April 2026 (openai/codex#19012,
// "Mark codex_hooks stable"); the key is now `hooks` and `codex_hooks` "still works as a
// deprecated alias" (https://developers.openai.com/codex/hooks: "Hooks are enabled by
// default. If you need to turn them off in `config.toml`, set `[features] hooks = false`"),
// and Codex 0.130 warns at every start when it finds `codex_hooks`. So init writes the
// canonical `hooks`: a no-op where hooks are on by default, the switch where a user config
// turned them off, and an unknown key (a logged warning, nothing more:
// codex-rs/features/src/lib.rs `apply_map`) for the few releases that only knew
// `codex_hooks`. Project `.codex/config.toml` files are read for trusted projects, closest
// wins (https://developers.openai.com/codex/config-basic), so the project's file is the
// place. Codex also runs a new hook only after the user reviews it in `/hooks` ("Non-managed
// command hooks must be reviewed and trusted before they run"); init cannot do that for
// them, and says so.
//
// A switch the user set to false is left alone (init only adds what is missing) and
// reported; `dbguard doctor` checks the effective value.

/// Gemini CLI's settings key holding `enabled`.
pub const GEMINI_SWITCH: &str = "hooksConfig";
/// Marks the lines init adds to a Codex config.toml (uninstall removes exactly those).
pub const CODEX_MARK: &str = "# added by dbguard init";

/// The state of an agent's hooks switch in one settings file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Switch {
    /// Set to on; says how.
    On(String),
    /// Set to off (or unusable); says how.
    Off(String),
    Missing,
}

pub fn gemini_switch(root: &Value) -> Switch {
    match root.get(GEMINI_SWITCH) {
        None => Switch::Missing,
        Some(Value::Object(o)) => match o.get("enabled") {
            None => Switch::Missing,
            Some(Value::Bool(true)) => Switch::On(format!("`{GEMINI_SWITCH}.enabled` is true")),
            Some(Value::Bool(false)) => Switch::Off(format!("`{GEMINI_SWITCH}.enabled` is false")),
            Some(_) => Switch::Off(format!("`{GEMINI_SWITCH}.enabled` is not a boolean")),
        },
        Some(_) => Switch::Off(format!("`{GEMINI_SWITCH}` is not an object")),
    }
}

/// Set `hooksConfig.enabled = true`; returns whether `hooksConfig` was created.
fn add_gemini_switch(root: &mut Value) -> anyhow::Result<bool> {
    let obj = root
        .as_object_mut()
        .ok_or_else(|| anyhow!("settings root is not an object"))?;
    let created = !obj.contains_key(GEMINI_SWITCH);
    let table = obj
        .entry(GEMINI_SWITCH)
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .ok_or_else(|| anyhow!("`{GEMINI_SWITCH}` is not an object"))?;
    table.insert("enabled".into(), Value::Bool(true));
    Ok(created)
}

/// Remove the `hooksConfig.enabled = true` init added (and `hooksConfig` when init created it
/// and nothing else is in it now).
fn remove_gemini_switch(root: &mut Value, created_table: bool) -> bool {
    let Some(obj) = root.as_object_mut() else {
        return false;
    };
    let Some(table) = obj.get_mut(GEMINI_SWITCH).and_then(|t| t.as_object_mut()) else {
        return false;
    };
    if table.get("enabled") != Some(&Value::Bool(true)) {
        return false;
    }
    table.remove("enabled");
    if created_table && table.is_empty() {
        obj.remove(GEMINI_SWITCH);
    }
    true
}

/// Codex's config.toml: the project's `.codex/config.toml`, or with `--user`
/// `$CODEX_HOME/config.toml` (default `~/.codex/config.toml`).
pub fn codex_config_path(project: &Path, user: bool) -> Option<PathBuf> {
    if !user {
        return Some(project.join(".codex").join("config.toml"));
    }
    match std::env::var_os("CODEX_HOME").filter(|v| !v.is_empty()) {
        Some(h) => Some(PathBuf::from(h).join("config.toml")),
        None => dirs::home_dir().map(|h| h.join(".codex").join("config.toml")),
    }
}

pub fn codex_switch(table: &toml::Table) -> Switch {
    let Some(features) = table.get("features") else {
        return Switch::Missing;
    };
    let Some(features) = features.as_table() else {
        return Switch::Off("`features` is not a table".into());
    };
    for (key, note) in [("hooks", ""), ("codex_hooks", " (the deprecated name of `hooks`)")] {
        match features.get(key) {
            Some(toml::Value::Boolean(true)) => return Switch::On(format!("`[features] {key} = true`{note}")),
            Some(toml::Value::Boolean(false)) => return Switch::Off(format!("`[features] {key} = false`{note}")),
            Some(_) => return Switch::Off(format!("`[features] {key}` is not a boolean")),
            None => {}
        }
    }
    Switch::Missing
}

fn parse_toml(text: &str, path: &Path) -> anyhow::Result<toml::Table> {
    if text.trim().is_empty() {
        return Ok(toml::Table::new());
    }
    toml::from_str(text).map_err(|e| anyhow!("{} is not valid TOML: {e}", path.display()))
}

/// The code of a TOML line without its comment (good enough for table headers and the one
/// key init writes; every edit is checked by parsing the result).
fn toml_code(line: &str) -> String {
    line.split('#').next().unwrap_or("").trim().replace([' ', '\t'], "")
}

/// The line init adds under `[features]`.
fn codex_switch_line() -> String {
    format!("hooks = true  {CODEX_MARK} (Codex runs hooks only with this feature on)")
}

/// `text` with `hooks = true` under `[features]` (an existing `[features]` header, else a new
/// table at the end); None when `features` is written in a form not worth editing by hand
/// (inline or dotted) or the result does not mean exactly "the same plus the switch".
fn codex_with_switch(text: &str, before: &toml::Table) -> Option<String> {
    let line = codex_switch_line();
    let mut out = String::with_capacity(text.len() + 100);
    let mut done = false;
    for l in text.split_inclusive('\n') {
        out.push_str(l);
        if !done && toml_code(l) == "[features]" {
            if !l.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(&line);
            out.push('\n');
            done = true;
        }
    }
    if !done {
        if before.contains_key("features") {
            return None;
        }
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&format!("[features]  {CODEX_MARK}\n{line}\n"));
    }
    // The result must be the original plus `features.hooks = true`, nothing else.
    let mut after: toml::Table = toml::from_str(&out).ok()?;
    if !matches!(codex_switch(&after), Switch::On(_)) {
        return None;
    }
    let features = after.get_mut("features")?.as_table_mut()?;
    features.remove("hooks");
    if features.is_empty() && !before.contains_key("features") {
        after.remove("features");
    }
    (after == *before).then_some(out)
}

fn install_codex_switch(path: &Path, dry_run: bool) -> anyhow::Result<Option<String>> {
    let original = match std::fs::read_to_string(path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(anyhow!("reading {}: {e}", path.display())),
    };
    let text = original.clone().unwrap_or_default();
    let manual = format!(
        "add `hooks = true` under `[features]` in {} yourself (Codex runs no hooks with the feature off)",
        path.display()
    );
    let before = parse_toml(&text, path).map_err(|e| anyhow!("{e:#}; {manual}"))?;
    match codex_switch(&before) {
        Switch::On(_) => return Ok(None),
        Switch::Off(why) => {
            eprintln!(
                "dbguard init: Codex: {why} in {}: Codex runs no hooks, dbguard's included, until it is true (left \
                 as you set it)",
                path.display()
            );
            return Ok(None);
        }
        Switch::Missing => {}
    }
    let Some(new_text) = codex_with_switch(&text, &before) else {
        eprintln!("dbguard init: Codex: {manual}");
        return Ok(None);
    };
    let msg = format!("Codex: `[features] hooks = true` added to {}", path.display());
    if !dry_run {
        write_remembering(path, original, &new_text, None)?;
    }
    Ok(Some(msg))
}

/// `text` without the lines init added: its `hooks = true` line, and its `[features]` header
/// when nothing but blank lines and comments follows it in that table (plus the blank line
/// init put before it).
fn codex_without_switch(text: &str) -> Option<String> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let ours = |l: &str| l.contains(CODEX_MARK);
    let mut keep = vec![true; lines.len()];
    for (i, l) in lines.iter().enumerate() {
        if ours(l) && toml_code(l) == "hooks=true" {
            keep[i] = false;
        }
    }
    for (i, l) in lines.iter().enumerate() {
        if !(ours(l) && toml_code(l) == "[features]") {
            continue;
        }
        let empty = lines[i + 1..]
            .iter()
            .enumerate()
            .take_while(|(_, n)| !toml_code(n).starts_with('['))
            .all(|(j, n)| !keep[i + 1 + j] || toml_code(n).is_empty());
        if empty {
            keep[i] = false;
            if i > 0 && lines[i - 1].trim().is_empty() {
                keep[i - 1] = false;
            }
        }
    }
    if keep.iter().all(|k| *k) {
        return None;
    }
    Some(lines.iter().zip(&keep).filter(|(_, k)| **k).map(|(l, _)| *l).collect())
}

fn uninstall_codex_switch(path: &Path, dry_run: bool) -> anyhow::Result<Option<String>> {
    let state = load_state(path);
    let current = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            forget_state(path);
            return Ok(None);
        }
        Err(e) => return Err(anyhow!("reading {}: {e}", path.display())),
    };
    let msg = format!("Codex: `[features] hooks = true` removed from {}", path.display());
    if let Some(st) = &state {
        if st.installed == current {
            if !dry_run {
                restore_original(st)?;
            }
            return Ok(Some(msg));
        }
    }
    let Some(rest) = codex_without_switch(&current) else {
        return Ok(None);
    };
    parse_toml(&rest, path).map_err(|e| anyhow!("not removing dbguard's lines: {e:#}"))?;
    if dry_run {
        return Ok(Some(msg));
    }
    let created = state.as_ref().map(|s| s.original.is_none()).unwrap_or(false);
    if rest.trim().is_empty() && created {
        remove_file(path)?;
        if let Some(st) = &state {
            remove_created_dirs(st);
        }
    } else {
        std::fs::write(path, rest).with_context(|| format!("writing {}", path.display()))?;
    }
    forget_state(path);
    Ok(Some(msg))
}

/// The effective hooks switch of Codex or Gemini CLI for a project (the project's file wins
/// over the user's), for `dbguard doctor`: (ok, what was found). None for other agents.
pub fn hooks_switch(agent: Agent, project: &Path) -> Option<(bool, String)> {
    let files: Vec<PathBuf> = match agent {
        Agent::Codex => [false, true]
            .iter()
            .filter_map(|u| codex_config_path(project, *u))
            .collect(),
        Agent::Gemini => [false, true]
            .iter()
            .filter_map(|u| hook_site(agent, project, *u).map(|s| s.path))
            .collect(),
        _ => return None,
    };
    let (fix, name) = match agent {
        Agent::Codex => ("`[features] hooks = true`", "Codex"),
        _ => ("`\"hooksConfig\": {\"enabled\": true}`", "Gemini CLI"),
    };
    for path in &files {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Some((false, format!("reading {}: {e}", path.display()))),
        };
        let switch = match agent {
            Agent::Codex => parse_toml(&text, path).map(|t| codex_switch(&t)),
            _ => {
                if text.trim().is_empty() {
                    Ok(Switch::Missing)
                } else {
                    serde_json::from_str::<Value>(&text)
                        .map(|v| gemini_switch(&v))
                        .map_err(|e| anyhow!("{} is not valid JSON: {e}", path.display()))
                }
            }
        };
        match switch {
            Err(e) => return Some((false, format!("{e:#}"))),
            Ok(Switch::Missing) => {}
            Ok(Switch::On(how)) => return Some((true, format!("{how} in {}", path.display()))),
            Ok(Switch::Off(why)) => {
                return Some((
                    false,
                    format!(
                        "{why} in {}: {name} runs no hooks, dbguard's included; set {fix} there",
                        path.display()
                    ),
                ))
            }
        }
    }
    let looked: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    Some((
        false,
        format!(
            "{fix} is not set ({}): releases of {name} from before hooks were on by default run no hooks without \
             it; run `dbguard init --agent {}`",
            looked.join(", "),
            agent.name()
        ),
    ))
}

// ---------------------------------------------------------------------------------------
// AGENTS.md / CLAUDE.md

fn note_section() -> String {
    format!("{NOTE_BEGIN}\n{NOTE_BODY}\n{NOTE_END}\n")
}

fn install_note(path: &Path, dry_run: bool) -> anyhow::Result<Option<String>> {
    let original = match std::fs::read_to_string(path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(anyhow!("reading {}: {e}", path.display())),
    };
    let section = note_section();
    let text = match &original {
        None => section.clone(),
        Some(t) => match (t.find(NOTE_BEGIN), t.find(NOTE_END)) {
            (Some(b), Some(e)) if e > b => {
                let end = e + NOTE_END.len();
                let end = if t[end..].starts_with('\n') { end + 1 } else { end };
                format!("{}{}{}", &t[..b], section, &t[end..])
            }
            _ => {
                let mut s = t.clone();
                if !s.is_empty() && !s.ends_with('\n') {
                    s.push('\n');
                }
                if !s.is_empty() {
                    s.push('\n');
                }
                s.push_str(&section);
                s
            }
        },
    };
    if original.as_deref() == Some(text.as_str()) {
        return Ok(None);
    }
    let msg = format!("note for agents added to {}", path.display());
    if !dry_run {
        write_remembering(path, original, &text, None)?;
    }
    Ok(Some(msg))
}

/// Remove a file `init` created or changed (notes, dbguard.toml).
fn uninstall_file(path: &Path, dry_run: bool) -> anyhow::Result<Option<String>> {
    let state = load_state(path);
    let current = std::fs::read_to_string(path).ok();
    let msg = format!("removed dbguard's part of {}", path.display());
    match (state, current) {
        (_, None) => {
            forget_state(path);
            Ok(None)
        }
        (Some(st), Some(cur)) if st.installed == cur => {
            if !dry_run {
                restore_original(&st)?;
            }
            Ok(Some(msg))
        }
        (st, Some(cur)) => {
            // Changed since: only the marked section can be removed (dbguard.toml stays: the
            // user has edited it).
            let (Some(b), Some(e)) = (cur.find(NOTE_BEGIN), cur.find(NOTE_END)) else {
                return Ok(None);
            };
            if e < b {
                return Ok(None);
            }
            let end = e + NOTE_END.len();
            let end = if cur[end..].starts_with('\n') { end + 1 } else { end };
            let mut head = cur[..b].to_string();
            if head.ends_with("\n\n") {
                head.pop();
            }
            let rest = format!("{head}{}", &cur[end..]);
            if dry_run {
                return Ok(Some(msg));
            }
            let created = st.as_ref().map(|s| s.original.is_none()).unwrap_or(false);
            if rest.trim().is_empty() && created {
                remove_file(path)?;
            } else {
                std::fs::write(path, rest).with_context(|| format!("writing {}", path.display()))?;
            }
            forget_state(path);
            Ok(Some(msg))
        }
    }
}

// ---------------------------------------------------------------------------------------
// dbguard.toml

/// A database found in the project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Glob for `[[databases]].match` (no password).
    pub pattern: String,
    pub environment: dbguard_core::Environment,
    /// Where it was found and why the environment was guessed.
    pub note: String,
}

/// Minimal discovery (marked for the lead: the full resolver can replace it): database URLs
/// in `.env*` files and literal URLs in `prisma/schema.prisma`, with an environment guess
/// from the file name and the host.
pub fn discover(project: &Path) -> Vec<Found> {
    let mut out: Vec<Found> = Vec::new();
    // The raw URL of each entry of `out` (never written out): to notice one database
    // written twice under different host names (localhost and 127.0.0.1, say).
    let mut urls: Vec<String> = Vec::new();
    let mut names: Vec<String> = std::fs::read_dir(project)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().to_string())
                .filter(|n| n == ".env" || n.starts_with(".env."))
                .filter(|n| !n.ends_with(".example") && !n.ends_with(".sample") && !n.ends_with(".template"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    for name in names {
        let Ok(iter) = dotenvy::from_path_iter(project.join(&name)) else {
            continue;
        };
        for (key, value) in iter.flatten() {
            if crate::target::engine_of(&value).is_none() || !(value.contains("://") || value.starts_with("file:")) {
                continue;
            }
            if let Some(mut f) = found_from_url(&value, &format!("{name}: {key}"), env_from_file_name(&name)) {
                if !out.iter().any(|o| o.pattern == f.pattern) {
                    if let Some(same) = same_database_as(project, &value, &urls).map(|i| &out[i]) {
                        f.note = format!(
                            "{}; this is the same database as {} ({}), written with another host name: a rule matches only the name it is written with, so both are listed; keep their environments the same",
                            f.note,
                            same.pattern,
                            same.note.split(';').next().unwrap_or_default()
                        );
                    }
                    out.push(f);
                    urls.push(value);
                }
            }
        }
    }
    out
}

/// The index in `urls` of the first one naming the same database as `url` (same server,
/// with local host names taken as one, same port and database).
fn same_database_as(project: &Path, url: &str, urls: &[String]) -> Option<usize> {
    use crate::target::parse_parts;
    let parts = parse_parts(url, project, None);
    parts.engine?;
    urls.iter()
        .position(|u| parse_parts(u, project, None).same_database(&parts))
}

fn env_from_file_name(name: &str) -> Option<dbguard_core::Environment> {
    use dbguard_core::Environment as E;
    let n = name.to_ascii_lowercase();
    if n.contains("prod") {
        Some(E::Production)
    } else if n.contains("stag") {
        Some(E::Staging)
    } else if n.contains("dev") || n.contains("test") || n.contains("local") {
        Some(E::Development)
    } else {
        None
    }
}

fn found_from_url(url: &str, source: &str, file_env: Option<dbguard_core::Environment>) -> Option<Found> {
    use dbguard_core::environment as envm;
    use dbguard_core::Environment as E;
    if url.starts_with("file:") || url.starts_with("sqlite:") {
        let path = url
            .trim_start_matches("file:")
            .trim_start_matches("sqlite:")
            .trim_start_matches("//");
        let file = Path::new(path).file_name()?.to_string_lossy().to_string();
        return Some(Found {
            pattern: file,
            environment: file_env.unwrap_or(E::Development),
            note: format!("{source} (SQLite file)"),
        });
    }
    let parsed = url::Url::parse(url).ok()?;
    let host = parsed.host_str().unwrap_or("").to_string();
    let db = parsed.path().trim_start_matches('/').to_string();
    let (env, why) = if envm::host_looks_production(&host) || envm::name_says_production(&db) {
        (E::Production, "the host or name looks like production")
    } else if envm::name_says_staging(&host) || envm::name_says_staging(&db) {
        (E::Staging, "the host or name looks like staging")
    } else if let Some(e) = file_env {
        (e, "from the file name")
    } else if envm::is_local_host(&host) {
        (E::Development, "the host is local")
    } else {
        (E::Unknown, "nothing tells")
    };
    let pattern = if db.is_empty() {
        host.clone()
    } else {
        format!("{host}/{db}")
    };
    if pattern.is_empty() {
        return None;
    }
    Some(Found {
        pattern,
        environment: env,
        note: format!("{source}; environment guessed: {why}"),
    })
}

pub fn render_config(found: &[Found]) -> String {
    let mut s = String::from(
        "# dbguard configuration, written by `dbguard init`. Review it: mark every production\n\
         # database `environment = \"production\"` (destructive commands are then blocked there)\n\
         # and `protected = true` for any database that must never be touched.\n\
         # Keys and defaults: see the README (\"Configuration\").\n",
    );
    if found.is_empty() {
        s.push_str(
            "\n# No database URL was found in .env files. Example:\n# [[databases]]\n# match = \"*.prod.example.com\"\n\
             # environment = \"production\"\n",
        );
    }
    for f in found {
        s.push_str(&format!(
            "\n# Found in {}. Confirm the environment.\n[[databases]]\nmatch = {}\nenvironment = \"{}\"\n",
            f.note,
            toml_string(&f.pattern),
            f.environment.as_str()
        ));
    }
    s
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn write_config(project: &Path, dry_run: bool) -> anyhow::Result<Option<String>> {
    let path = project.join(crate::config::FILE_NAME);
    if path.exists() {
        return Ok(Some(format!("{} exists: left as it is", path.display())));
    }
    let found = discover(project);
    let text = render_config(&found);
    if !dry_run {
        write_remembering(&path, None, &text, None)?;
    }
    Ok(Some(format!(
        "{} written with {} database(s) for you to confirm",
        path.display(),
        found.len()
    )))
}

// ---------------------------------------------------------------------------------------
// Remembering what was there before

fn state_path(path: &Path) -> PathBuf {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let key = blake3::hash(abs.to_string_lossy().as_bytes()).to_hex()[..24].to_string();
    crate::config::data_dir().join("init").join(format!("{key}.json"))
}

fn load_state(path: &Path) -> Option<FileState> {
    let text = std::fs::read_to_string(state_path(path)).ok()?;
    serde_json::from_str(&text).ok()
}

fn forget_state(path: &Path) {
    let _ = std::fs::remove_file(state_path(path));
}

fn write_remembering(
    path: &Path,
    original: Option<String>,
    text: &str,
    switch_added: Option<bool>,
) -> anyhow::Result<()> {
    let mut created_dirs = Vec::new();
    if let Some(parent) = path.parent() {
        let mut missing = Vec::new();
        let mut p = parent.to_path_buf();
        while !p.as_os_str().is_empty() && !p.exists() {
            missing.push(p.clone());
            match p.parent() {
                Some(q) => p = q.to_path_buf(),
                None => break,
            }
        }
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        created_dirs = missing;
    }
    // Keep the very first original (and what init added since) across repeated installs.
    let (original, created_dirs, switch_added) = match load_state(path) {
        Some(prev) => (prev.original, prev.created_dirs, switch_added.or(prev.switch_added)),
        None => (original, created_dirs, switch_added),
    };
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    let st = FileState {
        path: path.to_path_buf(),
        original,
        installed: text.to_string(),
        created_dirs,
        switch_added,
    };
    let sp = state_path(path);
    if let Some(dir) = sp.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(&sp, serde_json::to_string_pretty(&st)?).with_context(|| format!("writing {}", sp.display()))?;
    Ok(())
}

fn restore_original(st: &FileState) -> anyhow::Result<()> {
    match &st.original {
        Some(orig) => std::fs::write(&st.path, orig).with_context(|| format!("restoring {}", st.path.display()))?,
        None => {
            remove_file(&st.path)?;
            remove_created_dirs(st);
        }
    }
    forget_state(&st.path);
    Ok(())
}

fn remove_created_dirs(st: &FileState) {
    // Innermost first; only empty directories go.
    for d in &st.created_dirs {
        let _ = std::fs::remove_dir(d);
    }
}

fn remove_file(path: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(anyhow!("removing {}: {e}", path.display())),
    }
}

/// The matchers of an installed hook's groups (for `doctor`).
pub fn installed_hook_matchers(site: &HookSite) -> anyhow::Result<Vec<String>> {
    let (_, root) = read_json(&site.path)?;
    Ok(installed_matchers(&root, site.agent))
}

/// Read an installed hook's commands (for `doctor`).
pub fn installed_hook_commands(site: &HookSite) -> anyhow::Result<Vec<String>> {
    let (orig, root) = read_json(&site.path)?;
    if orig.is_none() {
        return Ok(Vec::new());
    }
    Ok(installed_commands(&root, site.agent))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_is_idempotent_and_keeps_other_hooks() {
        let mut root: Value = serde_json::from_str(
            r#"{"model":"x","hooks":{"PreToolUse":[{"matcher":"Edit","hooks":[{"type":"command","command":"fmt"}]}]}}"#,
        )
        .unwrap();
        assert!(merge_hook(&mut root, Agent::Claude, "dbguard hook claude").unwrap());
        assert!(!merge_hook(&mut root, Agent::Claude, "dbguard hook claude").unwrap());
        assert_eq!(root["hooks"]["PreToolUse"].as_array().unwrap().len(), 2);
        assert_eq!(installed_commands(&root, Agent::Claude), vec!["dbguard hook claude"]);
        assert!(remove_hook(&mut root, Agent::Claude));
        assert_eq!(root["hooks"]["PreToolUse"].as_array().unwrap().len(), 1);
        let keys: Vec<&String> = root.as_object().unwrap().keys().collect();
        assert_eq!(keys, vec!["model", "hooks"]);
    }

    #[test]
    fn a_database_under_two_host_names_is_said_to_be_one() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(".env"),
            "DATABASE_URL=postgres://u:pw@localhost:5432/app\n\
             SHADOW_DATABASE_URL=postgres://u:pw@127.0.0.1/app\n\
             OTHER_URL=postgres://u:pw@127.0.0.1:5432/app_shadow\n",
        )
        .unwrap();
        let found = discover(dir.path());
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(!found[0].note.contains("same database"), "{}", found[0].note);
        assert!(
            found[1]
                .note
                .contains("same database as localhost/app (.env: DATABASE_URL)")
                && found[1].note.contains("another host name"),
            "{}",
            found[1].note
        );
        assert!(!found[2].note.contains("same database"), "{}", found[2].note);
        let toml = render_config(&found);
        assert!(
            toml.contains("same database as localhost/app") && !toml.contains("pw@"),
            "{toml}"
        );
    }

    #[test]
    fn environment_guesses() {
        let f = found_from_url(
            "postgres://u:secret@db.prod.example.com/app",
            ".env: DATABASE_URL",
            None,
        )
        .unwrap();
        assert_eq!(f.environment, dbguard_core::Environment::Production);
        assert!(!f.pattern.contains("secret"));
        let f = found_from_url("postgres://u:p@localhost:5432/app_dev", ".env", None).unwrap();
        assert_eq!(f.environment, dbguard_core::Environment::Development);
        assert_eq!(f.pattern, "localhost/app_dev");
    }
}
