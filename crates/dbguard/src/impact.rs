//! Impact: what a finding would destroy on the live database (tables, rows, bytes).
//! Shared by `lint --url`, `run` and the hook. Filled from the engine interface.

use std::path::PathBuf;
use std::time::Duration;

use dbguard_core::redact::redact_url;
use dbguard_core::{Finding, FindingKind, Scope};
use serde::Serialize;

use crate::engine::{self, pg_connect, Database, TableInfo};
use crate::target::{resolve, ResolveRequest, ResolvedTarget};

#[derive(Debug, Clone, Serialize)]
pub struct TableImpact {
    pub table: String,
    pub rows: Option<i64>,
    pub bytes: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Impact {
    pub tables: Vec<TableImpact>,
    /// Rows destroyed or rewritten (sum over tables; planner estimate for DELETE/UPDATE).
    pub rows: Option<i64>,
    pub bytes: Option<i64>,
    /// Exact counts (`--exact`) rather than estimates.
    pub exact: bool,
    pub note: Option<String>,
}

impl Impact {
    pub fn describe(&self) -> String {
        let approx = if self.exact { "" } else { "~" };
        let rows = match self.rows {
            Some(r) => format!("{approx}{r} rows"),
            None => "unknown rows".to_string(),
        };
        let mut s = if self.tables.len() > 1 {
            format!("{rows} in {} tables", self.tables.len())
        } else {
            rows
        };
        if let Some(b) = self.bytes {
            s.push_str(&format!(", {}", human_bytes(b)));
        }
        if let Some(n) = &self.note {
            s.push_str(&format!(" ({n})"));
        }
        s
    }
}

pub fn human_bytes(b: i64) -> String {
    let b = b as f64;
    if b < 1024.0 {
        format!("{b} B")
    } else if b < 1024.0 * 1024.0 {
        format!("{:.1} kB", b / 1024.0)
    } else if b < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.1} MB", b / 1024.0 / 1024.0)
    } else {
        format!("{:.2} GB", b / 1024.0 / 1024.0 / 1024.0)
    }
}

pub struct Measured {
    pub database_display: String,
    pub impacts: Vec<Option<Impact>>,
}

/// Measure each finding on the database at `url` (lint --url). Errors: cannot resolve or connect.
pub fn measure_findings<'a>(
    url: &str,
    findings: impl Iterator<Item = &'a Finding>,
    exact: bool,
) -> anyhow::Result<Measured> {
    let findings: Vec<Finding> = findings.cloned().collect();
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let target = resolve(&ResolveRequest::from_process(Some(url.to_string()), cwd, None))?;
    let mut db = engine::open(&target, pg_connect::DEFAULT_CONNECT_TIMEOUT)?;
    let tables = db.tables(if exact { Some(EXACT_TIMEOUT) } else { None })?;
    let impacts = findings
        .iter()
        .map(|f| impact_of(db.as_mut(), &tables, f, exact))
        .collect();
    Ok(Measured {
        database_display: target.display.unwrap_or_else(|| redact_url(url)),
        impacts,
    })
}

/// Impact of a whole plan: per finding, plus the total rows in the database.
pub struct PlanMeasure {
    pub impacts: Vec<Option<Impact>>,
    pub total_rows: Option<i64>,
    /// Every table was counted exactly.
    pub total_exact: bool,
}

/// Per-table timeout for exact counts.
const EXACT_TIMEOUT: Duration = Duration::from_secs(10);

/// Measure every finding of a plan, giving up at `deadline` (the caller then decides
/// without numbers: never more leniently). Small databases get exact counts, so that
/// "every table is empty" is a fact and not a stale estimate.
pub fn measure_plan(
    target: &ResolvedTarget,
    findings: &[Finding],
    exact: bool,
    deadline: Duration,
) -> anyhow::Result<PlanMeasure> {
    let target = target.clone();
    let findings = findings.to_vec();
    let (tx, rx) = std::sync::mpsc::channel();
    // A thread so the deadline holds even inside a slow query; if it fires, the process
    // goes on without waiting for the thread.
    std::thread::spawn(move || {
        let r = (|| -> anyhow::Result<PlanMeasure> {
            let connect = deadline.min(Duration::from_secs(1));
            let mut db = engine::open(&target, connect)?;
            let mut tables = db.tables(None)?;
            let small = tables.len() <= 200;
            if exact || small {
                let per_table = if exact {
                    EXACT_TIMEOUT
                } else {
                    Duration::from_millis(250)
                };
                tables = db.tables(Some(per_table))?;
            }
            let total_rows = tables.iter().try_fold(0i64, |acc, t| t.rows.map(|r| acc + r.max(0)));
            let total_exact = tables.iter().all(|t| t.rows_exact);
            let impacts = findings
                .iter()
                .map(|f| impact_of(db.as_mut(), &tables, f, exact))
                .collect();
            Ok(PlanMeasure {
                impacts,
                total_rows,
                total_exact,
            })
        })();
        let _ = tx.send(r);
    });
    match rx.recv_timeout(deadline) {
        Ok(r) => r,
        Err(_) => anyhow::bail!("the database did not answer within {:.1} s", deadline.as_secs_f64()),
    }
}

/// Strip identifier quotes for matching: `"Users"` -> `Users`.
fn unquote(s: &str) -> &str {
    s.strip_prefix('"').and_then(|x| x.strip_suffix('"')).unwrap_or(s)
}

/// Find a table by the name a statement used (`users`, `public.users`, `"Users"`):
/// qualified names match exactly; unqualified ones prefer the search_path.
fn find_table<'t>(tables: &'t [TableInfo], name: &str) -> Option<&'t TableInfo> {
    let (schema, table) = match name.rsplit_once('.') {
        Some((s, t)) => (Some(unquote(s)), unquote(t)),
        None => (None, unquote(name)),
    };
    let matches = |t: &&TableInfo, ci: bool| {
        let name_ok = if ci {
            t.name.eq_ignore_ascii_case(table)
        } else {
            t.name == table
        };
        let schema_ok = match schema {
            Some(s) => {
                if ci {
                    t.schema.eq_ignore_ascii_case(s)
                } else {
                    t.schema == s
                }
            }
            None => true,
        };
        name_ok && schema_ok
    };
    for ci in [false, true] {
        let mut candidates: Vec<&TableInfo> = tables.iter().filter(|t| matches(t, ci)).collect();
        candidates.sort_by_key(|t| !t.in_search_path);
        if let Some(t) = candidates.first() {
            return Some(t);
        }
    }
    None
}

fn table_impact(t: &TableInfo) -> TableImpact {
    TableImpact {
        table: t.qualified(),
        rows: t.rows,
        bytes: t.bytes,
    }
}

fn sum_impact(tables: Vec<TableImpact>, exact: bool, note: Option<String>) -> Impact {
    let rows = tables.iter().try_fold(0i64, |acc, t| t.rows.map(|r| acc + r.max(0)));
    let bytes = tables.iter().try_fold(0i64, |acc, t| t.bytes.map(|b| acc + b));
    Impact {
        tables,
        rows,
        bytes,
        exact,
        note,
    }
}

fn impact_of(db: &mut dyn Database, tables: &[TableInfo], f: &Finding, exact: bool) -> Option<Impact> {
    let all_exact = |ts: &[TableImpact]| exact || ts.is_empty();
    match (&f.scope, f.kind) {
        (_, FindingKind::Unknown | FindingKind::Unparseable) => None,
        (Scope::External, _) => None,
        (Scope::Database, _) => {
            let ts: Vec<TableImpact> = tables.iter().map(table_impact).collect();
            let e = all_exact(&ts) || tables.iter().all(|t| t.rows_exact);
            Some(sum_impact(ts, e, Some("every table in the database".into())))
        }
        (Scope::Schemas { names }, _) => {
            let ts: Vec<TableImpact> = tables
                .iter()
                .filter(|t| names.iter().any(|n| unquote(n).eq_ignore_ascii_case(&t.schema)))
                .map(table_impact)
                .collect();
            let e = tables.iter().all(|t| t.rows_exact);
            Some(sum_impact(
                ts,
                e,
                Some(format!("every table in schema {}", names.join(", "))),
            ))
        }
        (Scope::Tables { names }, kind) => {
            let mut ts = Vec::new();
            let mut missing = Vec::new();
            for n in names {
                match find_table(tables, n) {
                    Some(t) => ts.push(table_impact(t)),
                    None => missing.push(n.clone()),
                }
            }
            let note = if missing.is_empty() {
                None
            } else {
                Some(format!("not found on this database: {}", missing.join(", ")))
            };
            if matches!(kind, FindingKind::DeleteAll | FindingKind::UpdateAll) && !exact {
                // The planner's estimate for the statement itself (a constant-true WHERE
                // may still be cheaper to plan than to count).
                if let Some(rows) = f.statement.as_deref().and_then(|s| db.explain_rows(s)) {
                    let mut imp = sum_impact(ts, false, note);
                    imp.rows = Some(rows);
                    return Some(imp);
                }
            }
            let e = exact
                || names
                    .iter()
                    .all(|n| find_table(tables, n).map(|t| t.rows_exact).unwrap_or(false));
            Some(sum_impact(ts, e, note))
        }
    }
}
