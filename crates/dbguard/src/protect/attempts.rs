//! The guard's record of blocked (and approved) attempts, `dbguard.attempts`, for
//! `dbguard log --db`.

use serde::Serialize;

use super::Session;

#[derive(Debug, Clone, Serialize)]
pub struct Attempt {
    pub id: i64,
    /// RFC 3339, UTC.
    pub time: String,
    /// blocked | approved
    pub outcome: String,
    /// drop | truncate | mass_delete | mass_update | tamper
    pub kind: String,
    pub database: String,
    /// The login role of the session.
    pub role: String,
    pub application_name: Option<String>,
    pub client_addr: Option<String>,
    pub backend_pid: Option<i32>,
    /// What it would have destroyed (tables with their row estimates, columns, schemas).
    pub objects: Vec<String>,
    pub rows_affected: Option<i64>,
    pub rows_total: Option<i64>,
    /// The guard's message.
    pub detail: Option<String>,
    /// The statement as the client sent it (literals kept; passwords redacted).
    pub statement: Option<String>,
}

/// Attempts since `since_unix` (all when None), oldest first.
pub fn read(s: &Session, since_unix: Option<i64>) -> anyhow::Result<Vec<Attempt>> {
    let since = since_unix.unwrap_or(0) as f64;
    let rows = s.query(
        "SELECT id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), outcome, kind, database::text, role::text, \
         application_name, host(client_addr), backend_pid, objects, rows_affected, rows_total, detail, statement \
         FROM dbguard.attempts WHERE at >= to_timestamp($1) ORDER BY id",
        &[&since],
    )?;
    Ok(rows
        .iter()
        .map(|r| Attempt {
            id: r.get(0),
            time: r.get(1),
            outcome: r.get(2),
            kind: r.get(3),
            database: r.get(4),
            role: r.get(5),
            application_name: r.get(6),
            client_addr: r.get(7),
            backend_pid: r.get(8),
            objects: r.get(9),
            rows_affected: r.get(10),
            rows_total: r.get(11),
            detail: r
                .get::<_, Option<String>>(12)
                .map(|d| dbguard_core::redact::redact_text(&d)),
            statement: r
                .get::<_, Option<String>>(13)
                .map(|d| dbguard_core::redact::redact_text(&d)),
        })
        .collect())
}

/// One line for people.
pub fn line(a: &Attempt) -> String {
    let who = match (&a.application_name, &a.client_addr) {
        (Some(app), Some(addr)) if !app.is_empty() => format!("{} ({app}, {addr})", a.role),
        (Some(app), None) if !app.is_empty() => format!("{} ({app})", a.role),
        (_, Some(addr)) => format!("{} ({addr})", a.role),
        _ => a.role.clone(),
    };
    let statement = a
        .statement
        .as_deref()
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    let statement = if statement.chars().count() > 160 {
        format!("{}...", statement.chars().take(160).collect::<String>())
    } else {
        statement
    };
    format!(
        "{}  db    {:<8}  {:<11}  [{}]  {}  by {who}  {statement}",
        a.time,
        a.outcome,
        a.kind,
        a.database,
        a.objects.join(", ")
    )
}
