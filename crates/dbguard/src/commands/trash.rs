//! `dbguard trash [--json]`, `dbguard trash purge [--older-than 7d] [--dry-run]`,
//! `dbguard undrop NAME|ID [--as NEW]`: the proxy's trash (crate `dbguard-proxy`, module
//! `trash`), over a direct connection to the database: `--url`, else the single upstream of
//! `[proxy]` in dbguard.toml, else the database dbguard resolves as `status` does.
//!
//! Purging destroys data: tables dropped longer ago than the retention (`[trash] retention`,
//! default 7 days) go without a question (a process manager can run it); younger ones only
//! when a person at a terminal types the database name.

use std::time::Duration;

use anyhow::{anyhow, Context};
use dbguard_core::redact::redact_text;
use dbguard_proxy::trash::{self, Entry, PurgeFilter, UndropError};
use serde::Serialize;

use crate::config::Config;
use crate::engine::pg_connect;
use crate::exit;
use crate::target::{resolve, ResolveRequest};

/// Default retention: tables stay in the trash a week.
const DEFAULT_RETENTION: Duration = Duration::from_secs(7 * 86_400);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(clap::Args)]
pub struct Connection {
    /// The database (a direct URL, not the proxy's). Default: the upstream in dbguard.toml's
    /// [proxy], else the database dbguard resolves here (as `dbguard status` does).
    #[arg(long, global = true)]
    pub url: Option<String>,
    /// Which [[proxy.upstreams]] entry (by name), when there are several.
    #[arg(long, global = true)]
    pub upstream: Option<String>,
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(clap::Args)]
pub struct TrashArgs {
    #[command(subcommand)]
    pub action: Option<TrashAction>,
    #[command(flatten)]
    pub conn: Connection,
}

#[derive(clap::Subcommand)]
pub enum TrashAction {
    /// Drop tables from the trash for good.
    Purge(PurgeArgs),
}

#[derive(clap::Args)]
pub struct PurgeArgs {
    /// Only tables dropped at least this long ago (s, m, h, d, w). Default: [trash] retention, else 7d.
    #[arg(long)]
    pub older_than: Option<String>,
    /// Only this entry (an id, or a name as `dbguard trash` shows it).
    pub which: Option<String>,
    /// Say what would be purged; purge nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(clap::Args)]
pub struct UndropArgs {
    /// The table: its id in `dbguard trash`, its name, or schema.name (the newest when several).
    pub which: String,
    /// Put it back under another name (NAME or SCHEMA.NAME), when its own is taken.
    #[arg(long = "as")]
    pub as_name: Option<String>,
    #[command(flatten)]
    pub conn: Connection,
}

/// The direct URL of the database whose trash is meant.
fn database_url(c: &Connection) -> anyhow::Result<(String, String)> {
    let cwd = std::env::current_dir().context("reading the working directory")?;
    let mut url = c.url.clone();
    if url.is_none() {
        let cfg = Config::load(&cwd)?;
        let ups = super::proxy::configured_upstream_urls(&cfg);
        let chosen: Vec<_> = match &c.upstream {
            Some(name) => ups.iter().filter(|(n, _)| n.as_deref() == Some(name)).collect(),
            None => ups.iter().collect(),
        };
        match chosen.as_slice() {
            [one] => url = Some(one.1.clone()),
            [] if c.upstream.is_some() => {
                return Err(anyhow!(
                    "no [[proxy.upstreams]] entry named {:?} in dbguard.toml",
                    c.upstream.as_deref().unwrap_or_default()
                ))
            }
            [] => {}
            _ => {
                return Err(anyhow!(
                    "dbguard.toml's [proxy] has several upstreams: choose one with --upstream NAME, or give --url"
                ))
            }
        }
    }
    let target = resolve(&ResolveRequest::from_process(url, cwd, None))?;
    let url = target
        .url
        .clone()
        .ok_or_else(|| anyhow!("no PostgreSQL database found: give --url postgres://..."))?;
    Ok((url, target.display.unwrap_or_default()))
}

async fn connect(c: &Connection) -> anyhow::Result<(tokio_postgres::Client, String)> {
    let (url, shown) = database_url(c)?;
    let client = pg_connect::connect(&url, CONNECT_TIMEOUT).await?;
    Ok((client, shown))
}

fn retention(cfg: &Config) -> anyhow::Result<Duration> {
    match cfg.trash.get("retention") {
        None => Ok(DEFAULT_RETENTION),
        Some(v) => {
            let s = v
                .as_str()
                .ok_or_else(|| anyhow!("[trash] retention must be a string like \"7d\""))?;
            crate::config::parse_duration(s).with_context(|| format!("[trash] retention = {s:?}"))
        }
    }
}

pub fn trash(a: TrashArgs) -> anyhow::Result<u8> {
    let rt = pg_connect::runtime()?;
    match a.action {
        None => rt.block_on(list(&a.conn)),
        Some(TrashAction::Purge(p)) => rt.block_on(purge(&a.conn, &p)),
    }
}

fn size(bytes: Option<i64>) -> String {
    match bytes {
        None => "?".into(),
        Some(b) if b >= 1 << 30 => format!("{:.1} GB", b as f64 / (1u64 << 30) as f64),
        Some(b) if b >= 1 << 20 => format!("{:.1} MB", b as f64 / (1u64 << 20) as f64),
        Some(b) if b >= 1 << 10 => format!("{:.1} kB", b as f64 / 1024.0),
        Some(b) => format!("{b} B"),
    }
}

fn describe_entry(e: &Entry) -> String {
    let mut s = format!(
        "  {:>4}  {:<32} dropped {} by {}{}\n        ~{} rows, {}",
        e.id,
        e.original(),
        e.dropped_at,
        e.role,
        e.application_name
            .as_deref()
            .filter(|a| !a.is_empty())
            .map(|a| format!(" ({a})"))
            .unwrap_or_default(),
        e.rows_estimate.map(|r| r.to_string()).unwrap_or_else(|| "?".into()),
        size(e.size_bytes)
    );
    if !e.partitions.is_empty() {
        s.push_str(&format!(", {} partitions", e.partitions.len()));
    }
    if !e.present {
        s.push_str(", MISSING from dbguard_trash (dropped by hand?)");
    }
    s.push('\n');
    if !e.foreign_keys.is_empty() || !e.views.is_empty() {
        let mut cascade: Vec<String> = e
            .foreign_keys
            .iter()
            .map(|f| format!("foreign key {} on {}", f.name, f.table))
            .collect();
        cascade.extend(e.views.iter().map(|v| {
            format!(
                "{} {}",
                if v.kind == "m" { "materialized view" } else { "view" },
                v.name
            )
        }));
        s.push_str(&format!(
            "        CASCADE removed (undrop restores): {}\n",
            cascade.join(", ")
        ));
    }
    s
}

async fn list(c: &Connection) -> anyhow::Result<u8> {
    let (client, shown) = connect(c).await?;
    let entries = trash::list(&client).await.map_err(|e| anyhow!(e))?;
    if c.json {
        #[derive(Serialize)]
        struct Out<'a> {
            database: &'a str,
            tables: &'a [Entry],
        }
        crate::output::print_json(&Out {
            database: &shown,
            tables: &entries,
        })?;
        return Ok(exit::OK);
    }
    if entries.is_empty() {
        println!("The trash of {shown} is empty.");
        return Ok(exit::OK);
    }
    println!("Tables in the trash of {shown} (newest first):");
    for e in &entries {
        print!("{}", describe_entry(e));
    }
    println!("\nPut one back: dbguard undrop ID (or NAME). Drop them for good: dbguard trash purge --older-than 7d");
    Ok(exit::OK)
}

async fn purge(c: &Connection, p: &PurgeArgs) -> anyhow::Result<u8> {
    let cwd = std::env::current_dir().context("reading the working directory")?;
    let cfg = Config::load(&cwd)?;
    let keep = retention(&cfg)?;
    let older_than = match &p.older_than {
        Some(s) => crate::config::parse_duration(s).with_context(|| format!("--older-than {s}"))?,
        None if p.which.is_some() => Duration::ZERO,
        None => keep,
    };
    let (mut client, shown) = connect(c).await?;
    let mut filter = PurgeFilter {
        older_than: Some(older_than.as_secs()),
        ids: Vec::new(),
    };
    if let Some(w) = &p.which {
        let found = trash::find(&client, w).await.map_err(|e| anyhow!(e))?;
        if found.is_empty() {
            eprintln!("dbguard: nothing named {w:?} is in the trash of {shown} (see `dbguard trash`).");
            return Ok(exit::ERROR);
        }
        filter.ids = found.iter().map(|e| e.id).collect();
    }
    let chosen = trash::purge(&mut client, &filter, true).await.map_err(|e| anyhow!(e))?;
    let young: Vec<&Entry> = chosen
        .iter()
        .filter(|e| (e.age_seconds.max(0) as u64) < keep.as_secs())
        .collect();
    if !p.dry_run && !young.is_empty() {
        // Inside the retention period: only a person decides.
        if let Err(why) = crate::confirm::interactive_human() {
            eprintln!(
                "dbguard: {} of these tables were dropped less than {} s ago (the retention), and {why}: not purged.\nA person runs this command in a terminal, or wait until they are older.",
                young.len(),
                keep.as_secs()
            );
            return Ok(exit::BLOCKED);
        }
        for e in &chosen {
            eprint!("{}", describe_entry(e));
        }
        let db = database_name(&shown);
        let prompt = format!(
            "These tables are deleted for good. Type the database name ({db}) to purge them, or anything else to keep them: "
        );
        if !crate::confirm::typed(&prompt, &db) {
            eprintln!("dbguard: not purged.");
            return Ok(exit::BLOCKED);
        }
    }
    let done = if p.dry_run {
        chosen
    } else {
        trash::purge(&mut client, &filter, false)
            .await
            .map_err(|e| anyhow!(e))?
    };
    if c.json {
        #[derive(Serialize)]
        struct Out<'a> {
            database: &'a str,
            dry_run: bool,
            purged: &'a [Entry],
        }
        crate::output::print_json(&Out {
            database: &shown,
            dry_run: p.dry_run,
            purged: &done,
        })?;
        return Ok(exit::OK);
    }
    let verb = if p.dry_run { "would purge" } else { "purged" };
    if done.is_empty() {
        println!("Nothing to purge in {shown} (older than {} s).", older_than.as_secs());
    }
    for e in &done {
        println!("{verb} {} (id {}, dropped {})", e.original(), e.id, e.dropped_at);
    }
    Ok(exit::OK)
}

/// The database name from a redacted URL (what a person types to confirm).
fn database_name(shown: &str) -> String {
    let path = shown.split('?').next().unwrap_or(shown);
    path.rsplit('/')
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or("database")
        .to_string()
}

pub fn undrop(a: UndropArgs) -> anyhow::Result<u8> {
    let rt = pg_connect::runtime()?;
    rt.block_on(async {
        let (mut client, shown) = connect(&a.conn).await?;
        match trash::undrop(&mut client, &a.which, a.as_name.as_deref()).await {
            Ok(r) => {
                if a.conn.json {
                    crate::output::print_json(&r)?;
                } else {
                    println!(
                        "Put back {} in {shown} ({} ms): ~{} rows{}{}.",
                        r.restored_as,
                        r.elapsed_ms,
                        r.rows_estimate.map(|n| n.to_string()).unwrap_or_else(|| "?".into()),
                        if r.foreign_keys.is_empty() {
                            String::new()
                        } else {
                            format!(", foreign keys {}", r.foreign_keys.join(", "))
                        },
                        if r.views.is_empty() {
                            String::new()
                        } else {
                            format!(", views {}", r.views.join(", "))
                        }
                    );
                    for w in &r.warnings {
                        println!("  note: {}", redact_text(w));
                    }
                }
                Ok(exit::OK)
            }
            Err(e) => {
                let code = match &e {
                    UndropError::NameTaken(_) => exit::BLOCKED,
                    UndropError::NotFound(_) | UndropError::Failed(_) => exit::ERROR,
                };
                if a.conn.json {
                    #[derive(Serialize)]
                    struct Out {
                        error: String,
                    }
                    crate::output::print_json(&Out { error: e.to_string() })?;
                } else {
                    eprintln!("dbguard: cannot undrop {}: {e}", a.which);
                }
                Ok(code)
            }
        }
    })
}
