//! `dbguard log [--json] [--since 1h|2026-11-21]`: the audit log, oldest first.

use crate::audit::{self, Entry};
use crate::exit;

#[derive(clap::Args)]
pub struct Args {
    /// Only entries since then: a duration back from now (30m, 1h, 2d) or a date/time
    /// (2026-11-21, 2026-11-21T10:00:00Z; UTC).
    #[arg(long)]
    pub since: Option<String>,
    /// One JSON array on stdout.
    #[arg(long)]
    pub json: bool,
    /// The attempts the in-database guard blocked (and approved sessions' changes), read
    /// from the database's dbguard.attempts instead of the local audit log.
    #[arg(long)]
    pub db: bool,
    /// With --db: the database (default: the project's, as `dbguard status` finds it).
    #[arg(long, requires = "db")]
    pub url: Option<String>,
}

pub fn run(a: Args) -> anyhow::Result<u8> {
    let since = match &a.since {
        Some(s) => Some(audit::parse_since(s, audit::now_unix())?),
        None => None,
    };
    if a.db {
        return from_database(&a, since);
    }
    let (mut entries, bad) = audit::read_all()?;
    if let Some(t) = since {
        entries.retain(|e| e.unix >= t);
    }
    if bad > 0 {
        eprintln!(
            "dbguard: warning: {bad} line(s) of {} could not be read and were skipped",
            audit::log_path().display()
        );
    }
    if a.json {
        crate::output::print_json(&entries)?;
        return Ok(exit::OK);
    }
    if entries.is_empty() {
        println!("No entries in {}.", audit::log_path().display());
        return Ok(exit::OK);
    }
    for e in &entries {
        println!("{}", line(e));
    }
    Ok(exit::OK)
}

fn line(e: &Entry) -> String {
    let mut s = format!("{}  {:<4}  {:<15}", e.time, e.door, e.outcome);
    if let Some(code) = e.exit_code {
        s.push_str(&format!(" exit {code}"));
    }
    s.push_str(&format!(
        "  [{} {}]",
        e.environment,
        e.database.as_deref().or(e.target.as_deref()).unwrap_or("?")
    ));
    s.push_str(&format!("  {}", e.command));
    if let Some(a) = &e.agent {
        s.push_str(&format!("  (agent: {a})"));
    }
    if let Some(snap) = &e.snapshot {
        s.push_str(&format!("  snapshot {snap}"));
    }
    if let Some(code) = &e.approval {
        s.push_str(&format!("  approval {code}"));
    }
    if let Some(d) = &e.detail {
        s.push_str(&format!("  - {d}"));
    }
    s
}

/// `--db`: the guard's own record in the database.
fn from_database(a: &Args, since: Option<i64>) -> anyhow::Result<u8> {
    use crate::protect::{attempts, Session, CONNECT_TIMEOUT};
    let cwd = std::env::current_dir().map_err(|e| anyhow::anyhow!("cannot read the current directory: {e}"))?;
    let target = crate::target::resolve(&crate::target::ResolveRequest::from_process(a.url.clone(), cwd, None))?;
    let url = target
        .url
        .as_deref()
        .ok_or_else(|| anyhow::anyhow!("no database found: pass --url or set DATABASE_URL"))?;
    let display = target.display.as_deref().unwrap_or("the database");
    let s = Session::connect(url, CONNECT_TIMEOUT)?;
    if s.installed_version()?.is_none() {
        anyhow::bail!(
            "no dbguard guard is installed in {display}: nothing to read (install it with `dbguard protect`)"
        );
    }
    let rows = attempts::read(&s, since)?;
    if a.json {
        crate::output::print_json(&rows)?;
    } else if rows.is_empty() {
        println!("No attempts recorded by the guard in {display}.");
    } else {
        for r in &rows {
            println!("{}", attempts::line(r));
        }
    }
    Ok(exit::OK)
}
