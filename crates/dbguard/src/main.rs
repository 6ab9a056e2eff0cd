//! The `dbguard` command line: one subcommand per verb, each in `commands/`.
//! Every door turns its input into a `dbguard_core::Operation` and asks the core.

mod approval;
mod audit;
mod commands;
mod config;
mod confirm;
mod engine;
mod exec;
mod exit;
mod fs_lookup;
mod fs_workspace;
mod guarded;
mod hooks;
mod impact;
mod mcp;
mod migrate;
mod output;
mod plan;
mod procs;
mod protect;
mod report;
mod script_cache;
mod signing;
mod snapshot;
mod sticky;
mod target;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "dbguard",
    version,
    about = "Stops destructive database commands before they run; snapshots first; restores in one command."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Analyze one shell command (default) or SQL text; exit 3 when it destroys data.
    Check(commands::check::Args),
    /// Lint SQL files and migration folders for data-losing statements.
    Lint(commands::lint::Args),
    /// Show which database would be hit, its environment, and what is in it.
    Status(commands::status::Args),
    /// Take a verified snapshot of a database (or some of its tables).
    Snapshot(commands::snapshot::Args),
    /// List snapshots.
    Snapshots(commands::snapshot::ListArgs),
    /// Restore a snapshot, into a new database by default.
    Restore(commands::snapshot::RestoreArgs),
    /// Verify a snapshot's files (and with --deep, its content).
    Verify(commands::snapshot::VerifyArgs),
    /// Apply retention: delete old snapshots.
    Prune(commands::snapshot::PruneArgs),
    /// Run a command under guard: destructive ones are measured, snapshotted, approved by a human, verified.
    Run(commands::run::Args),
    /// Approve a destructive command's plan by its code (a person at a terminal only).
    Approve(commands::approve::ApproveArgs),
    /// List approval codes waiting or approved.
    Approvals(commands::approve::ListArgs),
    /// Discard an approval code.
    Deny(commands::approve::DenyArgs),
    /// Change what dbguard remembers about a database (lowering needs a person's approval).
    Classify(commands::classify::Args),
    /// Show the audit log of destructive operations and verdicts.
    Log(commands::log::Args),
    /// Pre-command hook for coding agents: reads the agent's payload on stdin, answers in its protocol.
    Hook(commands::hook::Args),
    /// Install the agent hooks, a dbguard.toml and the agents' note in this project.
    Init(commands::init::Args),
    /// Check that the installed hooks work end to end and that the databases resolve.
    Doctor(commands::doctor::Args),
    /// Run the MCP server (stdio): safe database tools for agents.
    Mcp(commands::mcp::Args),
    /// Install the in-database guard (PostgreSQL refuses DROP, TRUNCATE, mass DELETE/UPDATE from any client); --status, --uninstall, --upgrade.
    Protect(commands::protect::Args),
    /// Schema changes without prompts: status, new, plan (rehearsed), apply (guarded), baseline.
    Migrate(commands::migrate::Args),
    /// Run the PostgreSQL proxy: every statement checked, DROP TABLE turned into an undoable soft-drop.
    Proxy(commands::proxy::Args),
    /// List the tables in the proxy's trash (soft-dropped), or purge them (`trash purge`).
    Trash(commands::trash::TrashArgs),
    /// Put a soft-dropped table back, with its rows, indexes, foreign keys and views.
    Undrop(commands::trash::UndropArgs),
    /// Internal: record a clone snapshot's row counts and checksums (runs in the background).
    #[command(hide = true)]
    SnapshotFinish(commands::snapshot::FinishArgs),
}

fn main() -> std::process::ExitCode {
    // Like other command-line tools, end quietly when the reader of our output goes away
    // (`dbguard check ... | head`) instead of panicking on EPIPE. Rust ignores SIGPIPE by
    // default; children spawned by `run` get the default disposition back either way.
    // SAFETY: called once at start-up, before any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => exit::OK,
                _ => exit::USAGE,
            };
            let _ = e.print();
            return std::process::ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Check(a) => commands::check::run(a),
        Command::Lint(a) => commands::lint::run(a),
        Command::Status(a) => commands::status::run(a),
        Command::Snapshot(a) => commands::snapshot::run(a),
        Command::Snapshots(a) => commands::snapshot::list(a),
        Command::Restore(a) => commands::snapshot::restore(a),
        Command::Verify(a) => commands::snapshot::verify(a),
        Command::Prune(a) => commands::snapshot::prune(a),
        Command::Run(a) => commands::run::run(a),
        Command::Approve(a) => commands::approve::approve(a),
        Command::Approvals(a) => commands::approve::list(a),
        Command::Deny(a) => commands::approve::deny(a),
        Command::Classify(a) => commands::classify::run(a),
        Command::Log(a) => commands::log::run(a),
        Command::Hook(a) => commands::hook::run(a),
        Command::Init(a) => commands::init::run(a),
        Command::Doctor(a) => commands::doctor::run(a),
        Command::Mcp(a) => commands::mcp::run(a),
        Command::Protect(a) => commands::protect::run(a),
        Command::Migrate(a) => commands::migrate::run(a),
        Command::Proxy(a) => commands::proxy::run(a),
        Command::Trash(a) => commands::trash::trash(a),
        Command::Undrop(a) => commands::trash::undrop(a),
        Command::SnapshotFinish(a) => commands::snapshot::finish(a),
    };
    match result {
        Ok(code) => std::process::ExitCode::from(code),
        Err(e) => {
            // Errors can carry URLs from libraries: redact before printing.
            let msg = dbguard_core::redact::redact_text(&format!("{e:#}"));
            eprintln!("dbguard: error: {msg}");
            std::process::ExitCode::from(exit::ERROR)
        }
    }
}
