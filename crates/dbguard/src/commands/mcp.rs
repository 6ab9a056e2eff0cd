//! `dbguard mcp`: the MCP server over stdio (see `crate::mcp`). Agents get safe database
//! tools (status, read-only query, check, plan, snapshots, guarded execute) instead of raw
//! credentials; connection strings come from dbguard's own resolution and never reach the agent.

use std::path::PathBuf;

use anyhow::Context;

#[derive(clap::Args)]
pub struct Args {
    /// Project directory whose database the tools use (default: the server's working directory).
    #[arg(long)]
    cwd: Option<PathBuf>,
    /// Database URL to use instead of resolving one (never shown to the agent).
    #[arg(long, env = "DBGUARD_MCP_URL", hide_env_values = true)]
    url: Option<String>,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let cwd = match args.cwd {
        Some(c) => c,
        None => std::env::current_dir().context("reading the current directory")?,
    };
    crate::mcp::serve(cwd, args.url)?;
    Ok(crate::exit::OK)
}
