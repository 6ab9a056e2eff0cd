//! What an installed guard covers, and what it does not (`sql/guard/v1/status.sql`, one
//! JSON object), with the sentences `protect` and `status` print from it. The same facts
//! go to `--json` (the `covered` / `not_covered` lists are part of the report).

use serde::{Deserialize, Serialize};

use super::Session;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GuardStatus {
    pub version: i32,
    pub installed_at: String,
    pub updated_at: String,
    pub owner: String,
    pub owner_is_superuser: bool,
    pub event_triggers: EventTriggers,
    pub recording: Recording,
    pub reader: Reader,
    pub defaults: Rules,
    pub tables: Tables,
    pub custom_rules: Vec<CustomRule>,
    pub bypass: Bypass,
    pub attempts: AttemptCounts,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventTriggers {
    pub installed: bool,
    pub missing_reason: Option<String>,
    pub triggers: Vec<EventTrigger>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventTrigger {
    pub name: String,
    pub event: String,
    pub enabled: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Recording {
    /// `table` (dbguard.attempts, through a loopback connection) or `server_log`.
    pub mode: String,
    pub missing_reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reader {
    pub role_exists: bool,
    pub granted_to: Vec<String>,
    pub missing_reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rules {
    pub all_rows_over: i64,
    pub share: f64,
    pub share_rows_over: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tables {
    pub total: i64,
    pub guarded: i64,
    pub unguarded: Vec<Unguarded>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Unguarded {
    pub table: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CustomRule {
    pub table: String,
    pub guarded: bool,
    pub all_rows_over: Option<i64>,
    pub share: Option<f64>,
    pub share_rows_over: Option<i64>,
}

/// Roles that can get past the guard, and why.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Bypass {
    /// Can disable the event triggers, set session_replication_role = replica, drop the guard.
    pub superusers: Vec<String>,
    /// Noted: logical replication's apply workers run as replica, where the table triggers do not fire.
    pub replication_roles: Vec<String>,
    /// Members of the guard owner's role: can write approvals (and change the guard).
    pub approval_writers: Vec<String>,
    /// Owners of guarded tables: can disable or drop the table triggers when the event triggers are missing.
    pub table_owners: Vec<String>,
    /// Logical replication subscriptions in this database (their changes bypass the table triggers).
    pub subscriptions: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AttemptCounts {
    pub blocked: i64,
    pub blocked_last_day: i64,
    pub approved: i64,
}

impl GuardStatus {
    /// Event triggers present and every table guarded.
    pub fn complete(&self) -> bool {
        self.event_triggers.installed && self.tables.guarded == self.tables.total
    }

    /// One line for `dbguard status`.
    pub fn summary(&self) -> String {
        let what = if self.event_triggers.installed {
            "DROP, TRUNCATE and mass DELETE/UPDATE refused"
        } else {
            "table triggers only (no event triggers: DROP is NOT refused)"
        };
        format!(
            "installed (version {}, owner {}): {what}; {} of {} table(s) guarded",
            self.version, self.owner, self.tables.guarded, self.tables.total
        )
    }

    /// What the guard refuses now, one sentence each.
    pub fn covered(&self) -> Vec<String> {
        let d = &self.defaults;
        let tables = format!("{} of {} table(s)", self.tables.guarded, self.tables.total);
        let mut out = Vec::new();
        if self.event_triggers.installed {
            out.push(
                "DROP TABLE / SCHEMA / MATERIALIZED VIEW and ALTER TABLE ... DROP COLUMN of permanent objects: refused (event trigger dbguard_sql_drop), also inside DO blocks and functions"
                    .to_string(),
            );
        }
        out.push(format!("TRUNCATE of a table holding rows: refused ({tables})"));
        out.push(format!(
            "DELETE / UPDATE of every row of a table with more than {} rows, or of more than {}% of a table's rows and more than {} rows: refused ({tables}; per table: dbguard.configure)",
            d.all_rows_over,
            (d.share * 100.0).round(),
            d.share_rows_over
        ));
        if self.event_triggers.installed {
            out.push("new tables get the triggers when they are created (event trigger dbguard_ddl_end)".to_string());
            out.push(
                "disabling, renaming, replacing or dropping the guard's triggers: refused for non-superusers"
                    .to_string(),
            );
        }
        out.push(
            "allowed: tables created in the same transaction, temporary tables, bounded statements, sessions a person approved with `dbguard approve`"
                .to_string(),
        );
        out.push(match self.recording.mode.as_str() {
            "table" => "blocked attempts: recorded in dbguard.attempts (`dbguard log --db`)".to_string(),
            _ => format!(
                "blocked attempts: in the server log only{}",
                self.recording
                    .missing_reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            ),
        });
        out
    }

    /// What it does not stop, one sentence each (the honest limits, with names).
    pub fn not_covered(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.event_triggers.installed {
            out.push(format!(
                "DROP TABLE / SCHEMA / COLUMN: NOT refused: the event triggers could not be installed ({}); run `dbguard protect` as a superuser",
                self.event_triggers
                    .missing_reason
                    .as_deref()
                    .unwrap_or("they are missing or disabled")
            ));
            if !self.bypass.table_owners.is_empty() {
                out.push(format!(
                    "table owners can disable or drop the table triggers: {}",
                    self.bypass.table_owners.join(", ")
                ));
            }
        }
        for u in &self.tables.unguarded {
            out.push(format!("table {}: {}", u.table, u.reason));
        }
        out.push(format!(
            "superusers can switch the guard off (ALTER EVENT TRIGGER, session_replication_role = replica, DROP): {}",
            if self.bypass.superusers.is_empty() {
                "none".to_string()
            } else {
                self.bypass.superusers.join(", ")
            }
        ));
        if !self.bypass.approval_writers.is_empty() {
            out.push(format!(
                "members of the owner role {} can write approvals and change the guard: {}",
                self.owner,
                self.bypass.approval_writers.join(", ")
            ));
        }
        if self.bypass.subscriptions > 0 || !self.bypass.replication_roles.is_empty() {
            out.push(format!(
                "logical replication applies changes as replica, where the table triggers do not fire ({} subscription(s) here; replication roles: {})",
                self.bypass.subscriptions,
                if self.bypass.replication_roles.is_empty() {
                    "none".to_string()
                } else {
                    self.bypass.replication_roles.join(", ")
                }
            ));
        }
        out.push("DROP DATABASE (event triggers never see it: the agent hooks and the proxy cover it)".to_string());
        out.push(
            "ALTER COLUMN ... TYPE rewrites, and deletes spread over many statements each under the limits".to_string(),
        );
        out
    }
}

/// The status of the guard in the connected database; None when none is installed.
pub fn read(s: &Session) -> anyhow::Result<Option<GuardStatus>> {
    if s.installed_version()?.is_none() {
        return Ok(None);
    }
    let rows = s.query(super::STATUS_SQL.trim().trim_end_matches(';'), &[])?;
    let text: String = rows
        .first()
        .ok_or_else(|| anyhow::anyhow!("dbguard.installation is empty: the guard is damaged; run `dbguard protect`"))?
        .get(0);
    serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("reading the guard's status: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(events: bool) -> GuardStatus {
        GuardStatus {
            version: 1,
            installed_at: "t".into(),
            updated_at: "t".into(),
            owner: "admin".into(),
            owner_is_superuser: true,
            event_triggers: EventTriggers {
                installed: events,
                missing_reason: (!events).then(|| "permission denied to create event trigger".into()),
                triggers: vec![],
            },
            recording: Recording {
                mode: "table".into(),
                missing_reason: None,
            },
            reader: Reader {
                role_exists: true,
                granted_to: vec![],
                missing_reason: None,
            },
            defaults: Rules {
                all_rows_over: 1000,
                share: 0.5,
                share_rows_over: 10000,
            },
            tables: Tables {
                total: 2,
                guarded: 2,
                unguarded: vec![],
            },
            custom_rules: vec![],
            bypass: Bypass {
                superusers: vec!["postgres".into()],
                replication_roles: vec![],
                approval_writers: vec![],
                table_owners: vec!["app".into()],
                subscriptions: 0,
            },
            attempts: AttemptCounts {
                blocked: 0,
                blocked_last_day: 0,
                approved: 0,
            },
        }
    }

    #[test]
    fn coverage_sentences_follow_what_is_installed() {
        let full = sample(true);
        assert!(full.complete());
        assert!(full.covered().iter().any(|l| l.contains("DROP TABLE")));
        assert!(full
            .not_covered()
            .iter()
            .any(|l| l.contains("superusers") && l.contains("postgres")));
        assert!(full.not_covered().iter().any(|l| l.contains("DROP DATABASE")));
        let partial = sample(false);
        assert!(!partial.complete());
        assert!(!partial.covered().iter().any(|l| l.starts_with("DROP TABLE")));
        assert!(partial.not_covered()[0].contains("NOT refused"));
        assert!(partial
            .not_covered()
            .iter()
            .any(|l| l.contains("table owners") && l.contains("app")));
        assert!(partial.summary().contains("DROP is NOT refused"));
    }
}
