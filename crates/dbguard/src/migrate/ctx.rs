//! What every `migrate` subcommand starts from: the project (tool, folder), the
//! configuration, and the target database resolved the way the tool itself would
//! resolve it (or `--url`).

use std::path::PathBuf;

use anyhow::Context;
use dbguard_core::target::TargetHint;

use super::Project;
use crate::config::Config;
use crate::target::{resolve, ResolveRequest, ResolvedTarget};

pub struct Ctx {
    pub cwd: PathBuf,
    pub project: Project,
    pub target: ResolvedTarget,
}

impl Ctx {
    pub fn load(cwd: Option<PathBuf>, cli_url: Option<String>) -> anyhow::Result<Ctx> {
        let cwd = match cwd {
            Some(c) => c,
            None => std::env::current_dir().context("reading the current directory")?,
        };
        let cwd = std::fs::canonicalize(&cwd).with_context(|| format!("{} does not exist", cwd.display()))?;
        let config = Config::load(&cwd)?;
        let mut project = Project::detect(&cwd, &config)?;
        let hint = project.tool.program().map(|p| TargetHint {
            tool: Some(p.to_string()),
            ..TargetHint::default()
        });
        let mut req = ResolveRequest::from_process(cli_url, cwd.clone(), hint);
        req.config = Some(config.clone());
        let target = resolve(&req)?;
        if let Some(url) = target.url.as_deref() {
            // Prisma's `?schema=x`: its tables, history included, live in x.
            if project.tool == super::ToolKind::Prisma {
                if let (_, Some(schema)) = super::pg::libpq_url(url) {
                    project.history.schema = Some(schema);
                }
            }
        }
        Ok(Ctx { cwd, project, target })
    }

    /// The target's URL, or the error that says how to name one.
    pub fn url(&self) -> anyhow::Result<&str> {
        self.target.url.as_deref().ok_or_else(|| {
            anyhow::anyhow!(
                "no database found for {} (looked at {}): set DATABASE_URL or pass --url",
                self.project.tool.as_str(),
                self.target.source
            )
        })
    }
}
