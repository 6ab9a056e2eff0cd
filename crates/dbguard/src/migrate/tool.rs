//! Running the user's own tool (`prisma`, `drizzle-kit`, the configured apply command):
//! found in the project's `node_modules/.bin` (walking up), else through `npx --no`;
//! never with a terminal, never with Prisma's AI-consent variable, always pointed at the
//! database dbguard means (see [`db_env`]).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{anyhow, bail};

use super::{Project, ToolKind};
use crate::exec::{self, Captured, ChildExit};
use crate::target::jsscan::ConfigValue;

/// What a tool run produced.
pub struct Output {
    pub exit: ChildExit,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn ok(&self) -> bool {
        self.exit.code == 0
    }

    /// Both streams, for messages (redacted).
    pub fn text(&self) -> String {
        dbguard_core::redact::redact_text(&format!("{}{}", self.stdout, self.stderr))
    }

    /// The last lines of stderr (else stdout) that say what went wrong, redacted.
    pub fn error_tail(&self, lines: usize) -> String {
        let src = if self.stderr.trim().is_empty() {
            &self.stdout
        } else {
            &self.stderr
        };
        let kept: Vec<&str> = src
            .lines()
            .map(str::trim_end)
            .filter(|l| {
                !l.trim().is_empty() && !l.contains("Loaded Prisma config") && !l.contains("Prisma config detected")
            })
            .collect();
        let start = kept.len().saturating_sub(lines);
        dbguard_core::redact::redact_text(&kept[start..].join("\n"))
    }
}

/// The executable for a Node tool: `node_modules/.bin/<name>` in the project or a parent.
pub fn node_bin(root: &Path, name: &str) -> Option<PathBuf> {
    root.ancestors()
        .map(|d| d.join("node_modules").join(".bin").join(name))
        .find(|p| p.is_file())
}

/// argv for running a Node tool with `args`.
pub fn node_argv(root: &Path, name: &str, args: &[&str]) -> Vec<OsString> {
    let mut argv: Vec<OsString> = match node_bin(root, name) {
        Some(p) => vec![p.into_os_string()],
        None => vec!["npx".into(), "--no".into(), name.into()],
    };
    argv.extend(args.iter().map(OsString::from));
    argv
}

/// The command a person would type for the same thing (for messages).
pub fn shown(name: &str, args: &[&str]) -> String {
    format!("npx {name} {}", args.join(" "))
}

/// A command with the settings every tool run gets.
fn base_command(argv: &[OsString], root: &Path, env: &[(String, String)]) -> anyhow::Result<Command> {
    let (program, args) = argv.split_first().ok_or_else(|| anyhow!("empty command"))?;
    let mut c = Command::new(program);
    c.args(args).current_dir(root).stdin(Stdio::null());
    // No telemetry or update checks (offline machines wait on them); never consent on
    // anyone's behalf to Prisma's dangerous actions.
    c.env("CHECKPOINT_DISABLE", "1")
        .env("PRISMA_HIDE_UPDATE_MESSAGE", "1")
        .env("NO_COLOR", "1")
        .env_remove("PRISMA_USER_CONSENT_FOR_DANGEROUS_AI_ACTION");
    for (k, v) in env {
        c.env(k, v);
    }
    Ok(c)
}

/// Run with output captured; `echo`: also show it on stderr afterwards (people watching).
pub fn run(argv: &[OsString], root: &Path, env: &[(String, String)], echo: bool) -> anyhow::Result<Output> {
    let c = base_command(argv, root, env)?;
    super::scratch::check_interrupted()?;
    let (exit, Captured { stdout, stderr }) = exec::capture_command(c, argv).map_err(|e| {
        anyhow!(
            "{}{}",
            dbguard_core::redact::redact_text(&e.message),
            if e.code == exec::NOT_FOUND {
                " (install the project's dependencies: `npm install`)"
            } else {
                ""
            }
        )
    })?;
    let out = Output {
        exit,
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    };
    if echo {
        let t = out.text();
        for line in t.lines().filter(|l| !l.trim().is_empty()) {
            eprintln!("  | {line}");
        }
    }
    super::scratch::check_interrupted()?;
    Ok(out)
}

/// The variables that point the tool at `url`: the ones the project's configuration
/// reads the connection from (Prisma's datasource `url` and `directUrl`, drizzle's
/// `dbCredentials.url`), and `DATABASE_URL`. Refuses when the configuration writes the URL
/// literally, since then nothing dbguard sets can point the tool elsewhere.
pub fn db_env(project: &Project, url: &str) -> anyhow::Result<Vec<(String, String)>> {
    let mut vars = vec!["DATABASE_URL".to_string()];
    let mut literal = None;
    let mut consider = |v: Option<&ConfigValue>, origin: &str| match v {
        Some(ConfigValue::Env { var, .. }) if !vars.contains(var) => vars.push(var.clone()),
        Some(ConfigValue::Literal(_)) => literal = Some(origin.to_string()),
        _ => {}
    };
    match project.tool {
        ToolKind::Prisma => {
            if let Some(p) = crate::target::prisma::load(&project.root) {
                for s in [&p.url, &p.direct_url].into_iter().flatten() {
                    consider(Some(&s.value), &s.origin);
                }
            }
        }
        ToolKind::Drizzle | ToolKind::Sql => {}
    }
    if let Some(origin) = literal {
        bail!(
            "{origin} is written literally, so dbguard cannot point the tool at another database (a scratch copy). Read it from \
an environment variable instead (`url = env(\"DATABASE_URL\")`)"
        );
    }
    Ok(vars.into_iter().map(|v| (v, url.to_string())).collect())
}
