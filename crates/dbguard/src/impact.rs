//! Impact: what a finding would destroy on the live database (tables, rows, bytes).
//! Shared by `lint --url`, `run` and the hook. Filled from the engine interface.

use dbguard_core::Finding;
use serde::Serialize;

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
        let mut s = if self.tables.len() > 1 { format!("{rows} in {} tables", self.tables.len()) } else { rows };
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

/// Measure each finding on the database at `url`. Placeholder until the engine lands.
pub fn measure_findings<'a>(
    url: &str,
    findings: impl Iterator<Item = &'a Finding>,
    _exact: bool,
) -> anyhow::Result<Measured> {
    Ok(Measured { database_display: dbguard_core::redact::redact_url(url), impacts: findings.map(|_| None).collect() })
}

/// Impact of a whole plan: per finding, plus the total rows in the database.
pub struct PlanMeasure {
    pub impacts: Vec<Option<Impact>>,
    pub total_rows: Option<i64>,
}

/// Measure every finding of a plan within `deadline`. Placeholder until the engine lands.
pub fn measure_plan(
    _url: &str,
    _findings: &[Finding],
    _exact: bool,
    _deadline: std::time::Duration,
) -> anyhow::Result<PlanMeasure> {
    anyhow::bail!("impact measurement is not available yet")
}
