//! `dbguard snapshot`, `snapshots`, `restore`, `verify`, `prune`: argument parsing and
//! what people read. The work is in `crate::snapshot`.

use std::path::PathBuf;

use anyhow::anyhow;
use serde::Serialize;

use crate::exit;
use crate::output::print_json;
use crate::snapshot::{self, manifest::ManifestSummary, prune, store, verify, ContentStatus, SnapshotScope, Strategy};
use crate::target::{resolve, ResolveRequest, ResolvedTarget};

#[derive(clap::Args)]
pub struct Args {
    /// Database URL (default: DATABASE_URL) or SQLite file.
    #[arg(long)]
    pub url: Option<String>,
    /// Only these tables (comma-separated, `schema.table` or `table`).
    #[arg(long, value_delimiter = ',', conflicts_with = "schema")]
    pub tables: Option<Vec<String>>,
    /// Only the tables of these schemas (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub schema: Option<Vec<String>>,
    /// auto, clone (in-cluster copy of the database), copy (binary COPY of tables), dump (pg_dump).
    #[arg(long, default_value = "auto")]
    pub strategy: String,
    /// A note stored with the snapshot.
    #[arg(long)]
    pub label: Option<String>,
    /// End other sessions on the database so that it can be cloned.
    #[arg(long)]
    pub terminate_sessions: bool,
    /// Snapshots to keep per database afterwards (retention; default `[snapshots] keep`
    /// from dbguard.toml, else 10).
    #[arg(long)]
    pub keep: Option<usize>,
    /// Clone snapshots: wait until the per-table row counts and content checksums are
    /// recorded (by default they are computed in the background, right after).
    #[arg(long)]
    pub wait_checksums: bool,
    /// Print the new snapshot's summary as JSON.
    #[arg(long)]
    pub json: bool,
}

/// The hidden `dbguard snapshot-finish ID`: records a clone snapshot's row counts and
/// content checksums in the background (started by `dbguard snapshot`, not by people).
#[derive(clap::Args)]
pub struct FinishArgs {
    pub id: String,
}

#[derive(clap::Args)]
pub struct ListArgs {
    /// Only snapshots of this database.
    #[arg(long)]
    pub url: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
pub struct RestoreArgs {
    /// Snapshot id (or a unique prefix), from `dbguard snapshots`.
    pub id: String,
    /// Server credentials (default: DATABASE_URL): restore happens on that server.
    #[arg(long)]
    pub url: Option<String>,
    /// Name of the new database (default `<db>_restored_<YYYYMMDD_HHMMSS>`).
    #[arg(long, conflicts_with_all = ["to_url", "to_file", "in_place"])]
    pub to_database: Option<String>,
    /// Restore into this database (created if missing; must not hold the tables).
    #[arg(long, conflicts_with_all = ["to_file", "in_place"])]
    pub to_url: Option<String>,
    /// SQLite: restore into this new file.
    #[arg(long, conflicts_with = "in_place")]
    pub to_file: Option<PathBuf>,
    /// Only these tables (copy snapshots).
    #[arg(long, value_delimiter = ',')]
    pub tables: Option<Vec<String>>,
    /// Replace the original database (asks you to type its name; snapshots it first).
    #[arg(long)]
    pub in_place: bool,
    /// Restore even though the snapshot's checksums do not match.
    #[arg(long)]
    pub force_corrupt: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
pub struct VerifyArgs {
    pub id: String,
    /// Also restore into a scratch database and compare rows and content checksums.
    #[arg(long)]
    pub deep: bool,
    /// Server credentials for clone snapshots and --deep (default: DATABASE_URL).
    #[arg(long)]
    pub url: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
pub struct PruneArgs {
    /// Snapshots to keep per database (default 10 when --older-than is not given).
    #[arg(long)]
    pub keep: Option<usize>,
    /// Delete snapshots older than this (7d, 12h, 30m).
    #[arg(long)]
    pub older_than: Option<String>,
    /// Show what would be deleted.
    #[arg(long)]
    pub dry_run: bool,
    /// Credentials to drop clone databases of deleted snapshots (default: DATABASE_URL).
    #[arg(long)]
    pub url: Option<String>,
    #[arg(long)]
    pub json: bool,
}

fn target(url: Option<String>) -> anyhow::Result<ResolvedTarget> {
    resolve(&ResolveRequest::from_process(
        url,
        std::env::current_dir().unwrap_or_default(),
        None,
    ))
}

fn seconds(ms: u64) -> String {
    if ms < 10_000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else {
        format!("{} s", ms / 1000)
    }
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn run(a: Args) -> anyhow::Result<u8> {
    let t = target(a.url)?;
    if t.url.is_none() {
        eprintln!("dbguard: no database to snapshot: pass --url URL or set DATABASE_URL");
        return Ok(exit::USAGE);
    }
    let scope = match (a.tables, a.schema) {
        (Some(t), _) => SnapshotScope::Tables(
            t.into_iter()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
        ),
        (None, Some(s)) => SnapshotScope::Schema(
            s.into_iter()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
        ),
        _ => SnapshotScope::Database,
    };
    let opts = snapshot::TakeOptions {
        scope,
        strategy: Strategy::parse(&a.strategy)?,
        label: a.label,
        operation: None,
        progress: !a.json,
        terminate_sessions: a.terminate_sessions,
        keep: Some(a.keep.unwrap_or(crate::config::current().snapshots.keep)),
        wait_content: a.wait_checksums,
    };
    let m = snapshot::take_with(&t, &opts)?;
    let dir = store::snapshots_dir()?.join(&m.id);
    let summary = m.summary(&dir, store::now_unix());
    if a.json {
        print_json(&summary)?;
        return Ok(exit::OK);
    }
    let what = match &m.scope {
        SnapshotScope::Database => format!("all of {}", m.source.database),
        SnapshotScope::Tables(_) | SnapshotScope::Schema(_) => {
            format!("{} of {}", m.scope.describe(), m.source.database)
        }
    };
    println!("Snapshot {} saved: {what}", m.id);
    println!(
        "  source    {} ({} {})",
        m.source.display,
        m.source.engine,
        m.source.server_version.as_deref().unwrap_or("")
    );
    println!("  strategy  {} ({})", m.strategy.as_str(), m.strategy_reason);
    if m.content_pending() {
        println!("  content   row counts and checksums pending: being computed from the clone in the background");
    } else {
        println!(
            "  content   {} rows in {} table(s)",
            thousands(m.total_rows()),
            m.tables.len()
        );
    }
    match &m.clone_database {
        Some(c) => println!(
            "  stored    as database {c} in the same cluster (no connections allowed), manifest in {}",
            dir.display()
        ),
        None => println!("  stored    {} in {}", store::human_bytes(m.bytes), dir.display()),
    }
    println!("  took      {}", seconds(m.duration_ms));
    if m.content_pending() {
        println!(
            "  checked   the clone is in place and locked; it can be restored now. `dbguard snapshots` shows when its checksums are recorded (`dbguard verify {}` records them at once)",
            m.id
        );
    } else {
        println!(
            "  checked   file checksums re-read after writing; row counts and content checksums recorded per table"
        );
    }
    println!();
    println!("Restore it into a new database with:");
    println!("  dbguard restore {}", m.id);
    Ok(exit::OK)
}

#[derive(Serialize)]
struct ListJson<'a> {
    snapshots: &'a [ManifestSummary],
}

pub fn list(a: ListArgs) -> anyhow::Result<u8> {
    let key = match a.url {
        Some(u) => {
            let t = target(Some(u))?;
            Some(
                snapshot::source_key(&t)
                    .ok_or_else(|| anyhow!("cannot tell which database {} is", t.display.as_deref().unwrap_or("")))?,
            )
        }
        None => None,
    };
    let snaps = snapshot::list(key.as_deref())?;
    if a.json {
        print_json(&ListJson { snapshots: &snaps })?;
        return Ok(exit::OK);
    }
    if snaps.is_empty() {
        println!(
            "No snapshots yet in {}. Take one with `dbguard snapshot`.",
            store::snapshots_dir()?.display()
        );
        return Ok(exit::OK);
    }
    let dbs: Vec<String> = snaps.iter().map(database_column).collect();
    let width = dbs.iter().map(|d| d.chars().count()).max().unwrap_or(0).max(8);
    println!(
        "{:<21} {:<width$} {:<10} {:<8} {:<24} {:>12} {:>9} {:<8} LABEL / OPERATION",
        "ID", "DATABASE", "AGE", "STRATEGY", "SCOPE", "ROWS", "SIZE", "VERIFIED"
    );
    for (s, db) in snaps.iter().zip(dbs) {
        let scope = match &s.scope {
            SnapshotScope::Database => format!("database ({} tables)", s.table_count),
            SnapshotScope::Schema(n) => format!("schema {}", n.join(",")),
            SnapshotScope::Tables(n) => format!("tables {}", n.join(",")),
        };
        let scope: String = scope.chars().take(24).collect();
        let size = if s.clone_database.is_some() {
            "clone".to_string()
        } else {
            store::human_bytes(s.bytes)
        };
        let rows = if s.content_status == ContentStatus::Pending {
            "pending".to_string()
        } else {
            thousands(s.rows)
        };
        let mut note = s.label.clone().or_else(|| s.operation.clone()).unwrap_or_default();
        if s.content_status == ContentStatus::Pending {
            let why = match &s.content_error {
                Some(e) => format!(
                    "checksums pending: the background pass failed ({}); `dbguard verify {}` retries",
                    e.chars().take(80).collect::<String>(),
                    s.id
                ),
                None => "checksums pending".to_string(),
            };
            note = format!("({why}) {note}").trim_end().to_string();
        }
        println!(
            "{:<21} {:<width$} {:<10} {:<8} {:<24} {:>12} {:>9} {:<8} {}",
            s.id,
            db,
            store::human_age(s.age_seconds),
            s.strategy.as_str(),
            scope,
            rows,
            size,
            if s.verified { "yes" } else { "no" },
            note
        );
    }
    println!("\n{} snapshot(s) in {}", snaps.len(), store::snapshots_dir()?.display());
    Ok(exit::OK)
}

/// Without `--url`, `DATABASE_URL` or `--to-url`: the server a PostgreSQL snapshot was taken
/// from, as its manifest records it (see `recorded_url`); None for SQLite.
fn recorded_server_url(id: &str) -> anyhow::Result<Option<String>> {
    let (_, m) = snapshot::manifest::find(id)?;
    if m.source.engine != "postgres" {
        return Ok(None);
    }
    let ask = |display: &str| {
        crate::confirm::interactive_human()
            .ok()
            .and_then(|_| crate::confirm::secret(&format!("Password for {display}: ")))
    };
    let rt = crate::engine::pg_connect::runtime()?;
    rt.block_on(snapshot::recorded_url::server_url(&m, ask)).map(Some)
}

/// Longest SQLite path shown in full in `dbguard snapshots`; longer ones keep their end.
const PATH_COLUMN: usize = 40;

/// The DATABASE column of `dbguard snapshots`: `host:port/db` for PostgreSQL (what tells two
/// databases apart, never cut), the file for SQLite (its end, when the path is long).
fn database_column(s: &ManifestSummary) -> String {
    if let Some(key) = s.source_key.strip_prefix("postgres://") {
        return key.to_string();
    }
    let n = s.source.chars().count();
    if n <= PATH_COLUMN {
        s.source.clone()
    } else {
        let tail: String = s.source.chars().skip(n - (PATH_COLUMN - 1)).collect();
        format!("…{tail}")
    }
}

pub fn restore(a: RestoreArgs) -> anyhow::Result<u8> {
    let mut t = target(a.url.clone())?;
    let mut confirmed = false;
    if a.in_place {
        let (_, m) = snapshot::manifest::find(&a.id)?;
        let name = m.source.database.clone();
        // The same question every door asks: a person at a terminal, and no agent.
        if let Err(why) = crate::confirm::interactive_human() {
            eprintln!(
                "dbguard: refusing to restore {} in place: {why}. --in-place replaces {name} and needs its name typed by a person at an interactive prompt.\n  Safe alternative: `dbguard restore {}` restores into a new database and prints the line to switch to it.",
                m.id, m.id
            );
            return Ok(exit::BLOCKED);
        }
        // Not this snapshot's database: say so before asking anything.
        if let Some(url) = t.url.as_deref() {
            snapshot::restore::in_place_target_matches(&m, url)?;
        }
        // Show what would be replaced (the resolved target), not only where the snapshot came from.
        // (SQLite replaces the snapshot's own file, whatever --url says.)
        let replaced = match (&m.source.engine[..], &t.display) {
            ("postgres", Some(d)) => d.clone(),
            _ => m.source.display.clone(),
        };
        eprintln!(
            "This replaces the current content of {name} at {replaced} with snapshot {} of {} from {}.\nThe current state is snapshotted first.",
            m.id, m.source.display, m.created_at
        );
        if !crate::confirm::typed("Type the database name to confirm: ", &name) {
            eprintln!("dbguard: the name did not match; nothing was changed");
            return Ok(exit::BLOCKED);
        }
        confirmed = true;
    }
    if t.url.is_none() && a.to_url.is_none() {
        t.url = recorded_server_url(&a.id)?;
    }
    let opts = snapshot::RestoreOptions {
        id: a.id,
        to_database: a.to_database,
        to_url: a.to_url,
        to_file: a.to_file,
        tables: a.tables,
        in_place_confirmed: confirmed,
        force_corrupt: a.force_corrupt,
        url: t.url.clone(),
        progress: !a.json,
    };
    let out = snapshot::restore(&opts)?;
    if a.json {
        print_json(&out)?;
        return Ok(exit::OK);
    }
    for w in &out.warnings {
        eprintln!("dbguard: warning: {w}");
    }
    if out.in_place {
        println!(
            "Restored snapshot {} in place into {} ({}).",
            out.id, out.database, out.restored_to
        );
        if let Some(pre) = &out.pre_restore_snapshot {
            println!("The state it replaced is snapshot {pre}: `dbguard restore {pre}` brings it back.");
        }
        if let Some(kept) = &out.replaced_database_kept_as {
            println!("The replaced database is kept as {kept}; drop it when you no longer need it.");
        }
        return Ok(exit::OK);
    }
    println!(
        "Restored snapshot {} ({} table(s), {} rows) into {} in {}.",
        out.id,
        out.tables.len(),
        thousands(out.rows),
        out.restored_to,
        seconds(out.duration_ms)
    );
    println!("The original was not touched. To switch your application to the restored copy, use:");
    println!("  {}", out.switch_line);
    if out.switch_line.contains("***") {
        println!("(put the real password in place of ***)");
    }
    Ok(exit::OK)
}

pub fn verify(a: VerifyArgs) -> anyhow::Result<u8> {
    let (dir, m) = snapshot::manifest::find(&a.id)?;
    let t = target(a.url)?;
    let report = verify::verify(
        &dir,
        &m,
        a.deep,
        t.url.as_deref(),
        &snapshot::progress::Progress::new(!a.json),
    )?;
    if a.json {
        print_json(&report)?;
    } else if report.ok {
        let what = match &m.clone_database {
            Some(c) => format!("its clone database {c} is present"),
            None => format!("{} file(s) match their checksums", report.files_checked),
        };
        println!(
            "Snapshot {} is intact: {what}{}.",
            m.id,
            if a.deep {
                format!(
                    "; restored into a scratch database, {} table(s) match their row counts and content checksums",
                    report.tables_checked
                )
            } else {
                String::new()
            }
        );
    } else {
        eprintln!("dbguard: snapshot {} FAILED verification:", m.id);
        for p in &report.problems {
            eprintln!("  - {p}");
        }
        eprintln!("Do not rely on it: take a new snapshot with `dbguard snapshot`. `dbguard restore` refuses it unless --force-corrupt.");
    }
    Ok(if report.ok { exit::OK } else { exit::ERROR })
}

pub fn prune(a: PruneArgs) -> anyhow::Result<u8> {
    let older_than = a.older_than.as_deref().map(store::parse_duration).transpose()?;
    let keep = match (a.keep, older_than) {
        (Some(k), _) => Some(k),
        (None, Some(_)) => None,
        (None, None) => Some(crate::config::current().snapshots.keep),
    };
    let t = target(a.url)?;
    let rule = prune::PruneRule {
        keep,
        older_than,
        only_key: None,
        dry_run: a.dry_run,
    };
    let plan = prune::apply(&rule, t.url.as_deref())?;
    if a.json {
        print_json(&plan)?;
        return Ok(exit::OK);
    }
    let verb = if a.dry_run { "Would delete" } else { "Deleted" };
    if plan.deleted.is_empty() {
        println!("Nothing to prune ({} snapshot(s) kept).", plan.kept);
    } else {
        println!("{verb} {} snapshot(s), kept {}:", plan.deleted.len(), plan.kept);
        for s in &plan.deleted {
            println!(
                "  {}  {}  {}  {}",
                s.id,
                s.source,
                store::human_age(s.age_seconds),
                s.strategy.as_str()
            );
        }
    }
    for c in &plan.clones_dropped {
        println!("Dropped clone database {c}.");
    }
    for w in &plan.warnings {
        eprintln!("dbguard: warning: {w}");
    }
    Ok(exit::OK)
}

/// Runs detached with stdio on /dev/null: nobody reads its output, so the exit code is all
/// it says. A snapshot pruned meanwhile is not an error worth more than that.
pub fn finish(a: FinishArgs) -> anyhow::Result<u8> {
    let Some(url) = std::env::var(snapshot::content::FINISH_URL_ENV)
        .ok()
        .filter(|u| !u.is_empty())
    else {
        eprintln!("dbguard: snapshot-finish is started by `dbguard snapshot`; use `dbguard verify ID` to record a snapshot's checksums");
        return Ok(exit::USAGE);
    };
    Ok(match snapshot::content::finish(&a.id, &url) {
        Ok(_) => exit::OK,
        Err(_) => exit::ERROR,
    })
}
