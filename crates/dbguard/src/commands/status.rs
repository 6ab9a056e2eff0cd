//! `dbguard status`: which database would be hit and why, its environment, and what
//! is in it (tables, rows, sizes, migrations, search_path traps, newest snapshot).
//! Human text by default, the same facts with `--json`.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, bail};
use serde::Serialize;

use crate::engine::{self, MigrationInfo, SearchPath, ServerInfo, TableInfo};
use crate::target::{resolve, ResolveRequest, ResolvedTarget};

#[derive(clap::Args)]
pub struct Args {
    /// Connection URL (postgres://..., an SQLite file); wins over everything else.
    #[arg(long)]
    pub url: Option<String>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Exact row counts (count(*) under a statement timeout) instead of estimates.
    #[arg(long)]
    pub exact: bool,
    /// Directory to resolve from (where .env files and ORM configs are); default: the current one.
    #[arg(long)]
    pub cwd: Option<PathBuf>,
    /// Seconds to wait for the connection.
    #[arg(long, value_name = "SECS", default_value_t = 3.0)]
    pub connect_timeout: f64,
}

/// Per-table timeout for `--exact` counts.
const EXACT_TIMEOUT: Duration = Duration::from_secs(10);
/// Tables listed in text output before "... and N more".
const MAX_TABLES_SHOWN: usize = 50;
/// Schemas that tools create outside the search_path on purpose: not a trap.
const EXPECTED_OUTSIDE: &[&str] = &[
    "drizzle",
    "auth",
    "storage",
    "realtime",
    "_realtime",
    "supabase_functions",
    "supabase_migrations",
    "extensions",
    "graphql",
    "graphql_public",
    "vault",
    "pgsodium",
    "pgsodium_masks",
    "net",
    "cron",
    "pgbouncer",
    "topology",
    "tiger",
    "_analytics",
];

#[derive(Serialize)]
struct Snapshot {
    id: String,
    created_at: String,
    age_seconds: i64,
    strategy: String,
    verified: bool,
}

/// `[freshness]` for the target's environment, and whether the newest snapshot meets it.
#[derive(Serialize)]
struct Freshness {
    /// The required maximum age, as written in dbguard.toml.
    max_age: String,
    max_age_seconds: u64,
    /// The newest snapshot is younger than that.
    met: bool,
}

#[derive(Serialize)]
struct Totals {
    tables: usize,
    /// Sum of known row counts.
    rows: i64,
    bytes: i64,
}

#[derive(Serialize)]
struct Report {
    target: ResolvedTarget,
    server: ServerInfo,
    search_path: Option<SearchPath>,
    /// `schema.table` of user tables not reachable through the search_path.
    tables_outside_search_path: Vec<String>,
    tables: Vec<TableInfo>,
    rows_exact: bool,
    totals: Totals,
    migrations: Vec<MigrationInfo>,
    /// Why the connected database looks like one of dbguard's snapshot clones.
    snapshot_clone: Option<String>,
    /// dbguard snapshot clones on the same server (not listed).
    snapshot_clones_on_server: Option<i64>,
    newest_snapshot: Option<Snapshot>,
    freshness: Option<Freshness>,
    /// The in-database guard (`dbguard protect`), PostgreSQL only; None: not installed or not PostgreSQL.
    guard: Option<crate::protect::status::GuardStatus>,
    /// Everything worth a second look: resolver traps and what the database showed.
    warnings: Vec<String>,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let cwd = match args.cwd {
        Some(d) => {
            if !d.is_dir() {
                bail!("--cwd {} is not a directory", d.display());
            }
            d
        }
        None => std::env::current_dir().map_err(|e| anyhow!("cannot read the current directory: {e}"))?,
    };
    if !(args.connect_timeout.is_finite() && args.connect_timeout > 0.0 && args.connect_timeout <= 3600.0) {
        bail!("--connect-timeout must be between 0 and 3600 seconds");
    }
    let timeout = Duration::from_secs_f64(args.connect_timeout);
    let target = resolve(&ResolveRequest::from_process(args.url.clone(), cwd.clone(), None))?;
    if target.url.is_none() {
        bail!(
            "no database found from {}: pass --url, set DATABASE_URL, or add a .env, prisma/schema.prisma or drizzle.config",
            cwd.display()
        );
    }
    let mut db = engine::open(&target, timeout).map_err(|e| anyhow!(one_line(&format!("{e:#}"))))?;
    let server = db.server_info()?;
    let search_path = db.search_path()?;
    let tables = db.tables(args.exact.then_some(EXACT_TIMEOUT))?;
    let migrations = db.migrations()?;
    let snapshot_clone = db.snapshot_clone();
    let snapshot_clones_on_server = db.snapshot_clones_on_server();

    let mut warnings = target.warnings.clone();
    let outside: Vec<String> = tables
        .iter()
        .filter(|t| !t.in_search_path)
        .map(TableInfo::qualified)
        .collect();
    let surprising: Vec<&TableInfo> = tables
        .iter()
        .filter(|t| !t.in_search_path && !EXPECTED_OUTSIDE.contains(&t.schema.as_str()))
        .collect();
    if !surprising.is_empty() {
        let mut schemas: Vec<&str> = surprising.iter().map(|t| t.schema.as_str()).collect();
        schemas.dedup();
        let sp = search_path.as_ref().map(|s| s.setting.as_str()).unwrap_or("");
        warnings.push(format!(
            "{} table(s) in schema(s) {} are outside the search_path ({sp}): queries without a schema prefix will not see them",
            surprising.len(),
            schemas.join(", ")
        ));
    }
    if let Some(why) = &snapshot_clone {
        warnings.push(format!(
            "this database is a dbguard snapshot clone ({why}): it holds a snapshot, not live data"
        ));
    }
    for m in &migrations {
        if let Some(f) = m.failed.filter(|f| *f > 0) {
            warnings.push(format!(
                "{}: {f} failed or unfinished migration(s) in {}",
                m.tool, m.table
            ));
        }
    }
    let totals = Totals {
        tables: tables.len(),
        rows: tables.iter().filter_map(|t| t.rows).sum(),
        bytes: tables.iter().filter_map(|t| t.bytes).sum(),
    };
    let newest_snapshot = crate::snapshot::newest_for(&target).map(|s| Snapshot {
        id: s.id,
        created_at: s.created_at,
        age_seconds: s.age_seconds,
        strategy: s.strategy.as_str().to_string(),
        verified: s.verified,
    });
    let freshness = crate::config::Config::load(&cwd).ok().and_then(|cfg| {
        let max = cfg.freshness_for(target.environment)?;
        let written = cfg
            .freshness
            .get(target.environment.as_str())
            .cloned()
            .unwrap_or_default();
        let met = newest_snapshot
            .as_ref()
            .is_some_and(|s| s.age_seconds >= 0 && (s.age_seconds as u64) < max.as_secs());
        Some(Freshness {
            max_age: written,
            max_age_seconds: max.as_secs(),
            met,
        })
    });
    if let Some(f) = freshness.as_ref().filter(|f| !f.met) {
        warnings.push(format!(
            "dbguard.toml requires a snapshot younger than {} for {} databases, and {}: take one with `dbguard snapshot`",
            f.max_age,
            target.environment.as_str(),
            if newest_snapshot.is_some() { "the newest is older" } else { "there is none" }
        ));
    }
    let guard = guard_of(&target, timeout, &mut warnings);
    let report = Report {
        guard,
        target,
        server,
        search_path,
        tables_outside_search_path: outside,
        rows_exact: args.exact,
        tables,
        totals,
        migrations,
        snapshot_clone,
        snapshot_clones_on_server,
        newest_snapshot,
        freshness,
        warnings: warnings.iter().map(|w| dbguard_core::redact::redact_text(w)).collect(),
    };
    if args.json {
        crate::output::print_json(&report)?;
    } else {
        print!("{}", render(&report));
    }
    Ok(crate::exit::OK)
}

/// The guard's status (PostgreSQL); a warning when it cannot be read.
fn guard_of(
    target: &ResolvedTarget,
    timeout: Duration,
    warnings: &mut Vec<String>,
) -> Option<crate::protect::status::GuardStatus> {
    let url = target.url.as_deref()?;
    if target.engine.or_else(|| crate::target::engine_of(url)) != Some(dbguard_core::target::Engine::Postgres) {
        return None;
    }
    let read = crate::protect::Session::connect(url, timeout).and_then(|s| crate::protect::status::read(&s));
    match read {
        Ok(g) => g,
        Err(e) => {
            warnings.push(format!(
                "could not read the in-database guard's status: {}",
                one_line(&format!("{e:#}"))
            ));
            None
        }
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// 1234567 -> "1,234,567".
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let groups: Vec<String> = digits
        .as_bytes()
        .rchunks(3)
        .rev()
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    let out = groups.join(",");
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

pub fn human_bytes(b: i64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else if v < 10.0 {
        format!("{v:.1} {}", UNITS[u])
    } else {
        format!("{v:.0} {}", UNITS[u])
    }
}

fn human_age(secs: i64) -> String {
    match secs {
        s if s < 90 => format!("{s} s"),
        s if s < 90 * 60 => format!("{} min", s / 60),
        s if s < 36 * 3600 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86_400),
    }
}

fn render(r: &Report) -> String {
    let t = &r.target;
    let mut o = String::new();
    let label = |o: &mut String, k: &str, v: &str| {
        let _ = writeln!(o, "{k:<13}{v}");
    };
    label(&mut o, "Database", t.display.as_deref().unwrap_or("-"));
    label(&mut o, "  found by", &t.source);
    if let Some(tool) = &t.tool {
        label(&mut o, "  rules of", tool);
    }
    if let Some(n) = &t.name {
        label(&mut o, "  name", n);
    }
    let engine = match r.server.engine.as_str() {
        "postgresql" => "PostgreSQL",
        "sqlite" => "SQLite",
        other => other,
    };
    label(&mut o, "Engine", &format!("{engine} {}", r.server.version));
    match &r.server.user {
        Some(u) => label(
            &mut o,
            "Connected",
            &format!("database {} as user {u}", r.server.database),
        ),
        None => label(&mut o, "Connected", &format!("file {}", r.server.database)),
    }
    label(
        &mut o,
        "Environment",
        &format!("{}  [{}]", t.environment.as_str(), t.environment_rule),
    );
    label(
        &mut o,
        "Protected",
        match (t.protected, t.remembered.as_ref()) {
            (true, Some(r)) if !r.rules_protected => "yes (remembered by dbguard)",
            (true, _) => "yes (dbguard.toml)",
            (false, _) => "no",
        },
    );
    if let Some(r) = &t.remembered {
        label(
            &mut o,
            "Remembered",
            &format!(
                "dbguard remembers this database as stricter than dbguard.toml now says ({}), since {} ({}); \
                 this overrides the file until a person lowers it: `{}`, then `dbguard approve <code>`",
                r.rules_say, r.since, r.first_rule, r.lower_with
            ),
        );
    }
    if let Some(sp) = &r.search_path {
        label(
            &mut o,
            "search_path",
            &format!("{}  (resolves to: {})", sp.setting, sp.effective.join(", ")),
        );
    }
    for rel in &t.related {
        let role = match rel.role.as_str() {
            "shadowDatabaseUrl" => "  shadow db",
            "directUrl" => "  direct url",
            other => other,
        };
        let same = if rel.same_as_target {
            "  SAME DATABASE AS ABOVE"
        } else {
            ""
        };
        label(&mut o, role, &format!("{}{same}  (from {})", rel.display, rel.source));
    }
    match &r.newest_snapshot {
        Some(s) => label(
            &mut o,
            "Snapshot",
            &format!(
                "{} ago  ({}, {}, {})",
                human_age(s.age_seconds),
                s.id,
                s.strategy,
                if s.verified { "verified" } else { "not verified" }
            ),
        ),
        None => label(&mut o, "Snapshot", "none yet (take one: dbguard snapshot)"),
    }
    if let Some(n) = r.snapshot_clones_on_server.filter(|n| *n > 0) {
        label(
            &mut o,
            "  clones",
            &format!("{n} dbguard snapshot clone database(s) on this server (not listed)"),
        );
    }
    if let Some(c) = &t.config_file {
        label(&mut o, "Config", &c.display().to_string());
    }
    if r.server.engine == "postgresql" {
        match &r.guard {
            Some(g) => label(&mut o, "Guard", &g.summary()),
            None => label(
                &mut o,
                "Guard",
                "not installed (`dbguard protect` makes PostgreSQL refuse DROP, TRUNCATE and mass DELETE/UPDATE)",
            ),
        }
    }

    let _ = writeln!(
        o,
        "\nTables: {}, {} rows{}, {}",
        r.totals.tables,
        thousands(r.totals.rows),
        if r.tables.iter().all(|t| t.rows_exact) {
            ""
        } else {
            " (estimated)"
        },
        human_bytes(r.totals.bytes)
    );
    if r.tables.is_empty() {
        let _ = writeln!(o, "  (none)");
    } else {
        let shown = &r.tables[..r.tables.len().min(MAX_TABLES_SHOWN)];
        let names: Vec<String> = shown.iter().map(TableInfo::qualified).collect();
        let rows: Vec<String> = shown
            .iter()
            .map(|t| match t.rows {
                Some(n) if t.rows_exact => thousands(n),
                Some(n) => format!("~{}", thousands(n)),
                None => "?".into(),
            })
            .collect();
        let sizes: Vec<String> = shown
            .iter()
            .map(|t| t.bytes.map(human_bytes).unwrap_or_else(|| "?".into()))
            .collect();
        let w0 = names.iter().map(String::len).max().unwrap_or(0).max(5);
        let w1 = rows.iter().map(String::len).max().unwrap_or(0).max(4);
        let w2 = sizes.iter().map(String::len).max().unwrap_or(0).max(4);
        let _ = writeln!(o, "  {:<w0$}  {:>w1$}  {:>w2$}", "TABLE", "ROWS", "SIZE");
        for (i, t) in shown.iter().enumerate() {
            let note = if t.in_search_path { "" } else { "  outside search_path" };
            let _ = writeln!(o, "  {:<w0$}  {:>w1$}  {:>w2$}{note}", names[i], rows[i], sizes[i]);
        }
        if r.tables.len() > shown.len() {
            let _ = writeln!(o, "  ... and {} more (--json lists all)", r.tables.len() - shown.len());
        }
        if r.tables.iter().any(|t| !t.rows_exact) {
            let _ = writeln!(o, "  ~ planner estimate, ? not analyzed yet: --exact counts rows");
        }
    }

    let _ = writeln!(o, "\nMigrations");
    if r.migrations.is_empty() {
        let _ = writeln!(o, "  (no migration table found)");
    }
    for m in &r.migrations {
        let mut line = format!("  {:<10}{}", m.tool, m.table);
        match (&m.last, &m.error) {
            (Some(last), _) => {
                let _ = write!(line, ": last {last}");
                if let Some(at) = &m.last_at {
                    let _ = write!(line, " ({at})");
                }
            }
            (None, Some(e)) => {
                let _ = write!(line, ": cannot read it ({})", one_line(e));
            }
            (None, None) => line.push_str(": empty"),
        }
        if let Some(n) = m.applied {
            let _ = write!(line, ", {} {}", thousands(n), if n == 1 { "entry" } else { "entries" });
        }
        if let Some(f) = m.failed.filter(|f| *f > 0) {
            let _ = write!(line, ", {f} FAILED");
        }
        let _ = writeln!(o, "{line}");
    }

    if !r.warnings.is_empty() {
        let _ = writeln!(o, "\nWarnings");
        for w in &r.warnings {
            let _ = writeln!(o, "  ! {w}");
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands(-1000), "-1,000");
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(8192), "8.0 kB");
        assert_eq!(human_bytes(5 * 1024 * 1024 * 1024), "5.0 GB");
        assert_eq!(human_age(3600), "60 min");
    }
}
