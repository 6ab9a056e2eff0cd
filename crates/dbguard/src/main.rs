//! The `dbguard` command line: one subcommand per verb, each in `commands/`.
//! Every door turns its input into a `dbguard_core::Operation` and asks the core.

mod commands;
mod config;
mod engine;
mod exit;
mod fs_lookup;
mod impact;
mod output;
mod plan;
mod report;
mod snapshot;
mod target;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "dbguard", version, about = "Stops destructive database commands before they run; snapshots first; restores in one command.")]
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
}

fn main() -> std::process::ExitCode {
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
