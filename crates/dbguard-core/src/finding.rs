//! The vocabulary every door shares: what kind of data loss was found, on what
//! object, where in the text, and how sure we are.

use serde::{Deserialize, Serialize};

use crate::target::TargetHint;

/// What a finding destroys (or might destroy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// A whole database goes away (DROP DATABASE, dropdb, `rails db:drop`).
    DropDatabase,
    /// Every object of the database is dropped and recreated (prisma migrate reset,
    /// `rails db:reset`, `migrate:fresh`, flyway clean...).
    ResetDatabase,
    /// DROP SCHEMA (with CASCADE: everything inside).
    DropSchema,
    DropTable,
    /// DROP OWNED BY: every object a role owns.
    DropOwned,
    /// DROP EXTENSION ... CASCADE: the objects that depend on it.
    DropExtension,
    Truncate,
    /// DELETE without a WHERE, or with one that is always true.
    DeleteAll,
    /// UPDATE without a WHERE, or with one that is always true.
    UpdateAll,
    /// A WITH clause containing INSERT/UPDATE/DELETE (a data-modifying CTE).
    DataModifyingCte,
    DropColumn,
    /// ALTER COLUMN ... TYPE: may truncate or fail to convert values.
    AlterColumnType,
    /// Schema sync that applies whatever drops are needed (drizzle push, typeorm schema:sync,
    /// prisma db push --accept-data-loss): the loss is decided by the tool at run time.
    SchemaSync,
    /// Rolling migrations back (`migrate <app> zero`, `downgrade base`, `migrate:rollback --all`).
    MigrationRollback,
    /// Deleting database files or data directories (`rm app.db`, `rm -rf pgdata`).
    DeleteFiles,
    /// Removing container volumes that hold databases (`docker compose down -v`).
    DeleteVolume,
    /// Non-SQL stores: redis FLUSHALL, mongo dropDatabase.
    FlushStore,
    /// Dynamic SQL, EXECUTE, or a command whose effect cannot be known statically.
    Unknown,
    /// Text that does not parse: treated as risky.
    Unparseable,
    /// Changes dbguard's own settings or records (dbguard.toml, the agents' hook settings,
    /// the data directory): never allowed to an agent, whatever the environment.
    GuardSettings,
    /// A database deleted, emptied or overwritten through its cloud provider or an
    /// infrastructure tool (`aws rds delete-db-instance`, `terraform destroy` of a
    /// configuration with database resources, `neonctl branches delete`, `heroku pg:reset`).
    /// dbguard cannot snapshot it: the provider's own backups are the way back.
    DeleteCloudDatabase,
}

impl FindingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::DropDatabase => "drop_database",
            FindingKind::ResetDatabase => "reset_database",
            FindingKind::DropSchema => "drop_schema",
            FindingKind::DropTable => "drop_table",
            FindingKind::DropOwned => "drop_owned",
            FindingKind::DropExtension => "drop_extension",
            FindingKind::Truncate => "truncate",
            FindingKind::DeleteAll => "delete_all",
            FindingKind::UpdateAll => "update_all",
            FindingKind::DataModifyingCte => "data_modifying_cte",
            FindingKind::DropColumn => "drop_column",
            FindingKind::AlterColumnType => "alter_column_type",
            FindingKind::SchemaSync => "schema_sync",
            FindingKind::MigrationRollback => "migration_rollback",
            FindingKind::DeleteFiles => "delete_files",
            FindingKind::DeleteVolume => "delete_volume",
            FindingKind::FlushStore => "flush_store",
            FindingKind::Unknown => "unknown",
            FindingKind::Unparseable => "unparseable",
            FindingKind::GuardSettings => "guard_settings",
            FindingKind::DeleteCloudDatabase => "delete_cloud_database",
        }
    }

    /// Parse the snake_case name (used by `-- dbguard:allow <kind>` and dbguard.toml).
    pub fn from_name(name: &str) -> Option<FindingKind> {
        ALL_KINDS.iter().copied().find(|k| k.as_str() == name)
    }

    pub fn severity(self) -> Severity {
        match self {
            FindingKind::Unknown | FindingKind::Unparseable => Severity::Unknown,
            _ => Severity::Destructive,
        }
    }
}

pub const ALL_KINDS: &[FindingKind] = &[
    FindingKind::DropDatabase,
    FindingKind::ResetDatabase,
    FindingKind::DropSchema,
    FindingKind::DropTable,
    FindingKind::DropOwned,
    FindingKind::DropExtension,
    FindingKind::Truncate,
    FindingKind::DeleteAll,
    FindingKind::UpdateAll,
    FindingKind::DataModifyingCte,
    FindingKind::DropColumn,
    FindingKind::AlterColumnType,
    FindingKind::SchemaSync,
    FindingKind::MigrationRollback,
    FindingKind::DeleteFiles,
    FindingKind::DeleteVolume,
    FindingKind::FlushStore,
    FindingKind::Unknown,
    FindingKind::Unparseable,
    FindingKind::GuardSettings,
    FindingKind::DeleteCloudDatabase,
];

/// Destructive: data is lost for sure. Unknown: we cannot tell, so it is treated as
/// risky (fail closed). Both make an operation "destructive" for exit codes and policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Destructive,
    Unknown,
}

/// 1-based position of a statement inside the analyzed text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    pub line: u32,
    pub column: u32,
}

/// How much of the database a finding touches: what a snapshot must cover.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scope {
    /// Everything in the database (resets, drop database, unknown effects).
    Database,
    /// Everything in these schemas.
    Schemas { names: Vec<String> },
    /// These tables (schema-qualified where the text qualified them).
    Tables { names: Vec<String> },
    /// Files or volumes outside the database server.
    External,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: FindingKind,
    /// `schema.table.column`, a database name, a file path, a tool command...
    pub object: Option<String>,
    /// One sentence for humans: what would be destroyed and why we think so.
    pub detail: String,
    /// The SQL statement (or the shell command) that produced the finding.
    pub statement: Option<String>,
    /// Where the statement starts in the analyzed text (SQL only).
    pub location: Option<Location>,
    /// The tool that would do it (`prisma`, `psql`, `rails`...), for commands.
    pub tool: Option<String>,
    pub scope: Scope,
    /// CASCADE was given: dependent objects go too.
    pub cascade: bool,
    pub severity: Severity,
}

impl Finding {
    pub fn new(kind: FindingKind, object: Option<String>, detail: impl Into<String>, scope: Scope) -> Self {
        Finding {
            kind,
            object,
            detail: detail.into(),
            statement: None,
            location: None,
            tool: None,
            scope,
            cascade: false,
            severity: kind.severity(),
        }
    }

    pub fn with_statement(mut self, stmt: impl Into<String>, location: Option<Location>) -> Self {
        self.statement = Some(stmt.into());
        self.location = location;
        self
    }

    pub fn with_tool(mut self, tool: impl Into<String>) -> Self {
        self.tool = Some(tool.into());
        self
    }

    pub fn with_cascade(mut self, cascade: bool) -> Self {
        self.cascade = cascade;
        self
    }
}

/// Result of analyzing one operation.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Analysis {
    pub findings: Vec<Finding>,
    /// Which database(s) the operation names itself (inline variables, flags, URLs,
    /// files). Resolution against the environment, `.env` files and ORM config
    /// happens at the edge, starting from these hints.
    pub targets: Vec<TargetHint>,
}

impl Analysis {
    /// True when anything was found, including unknown/unparseable (fail closed).
    pub fn is_destructive(&self) -> bool {
        !self.findings.is_empty()
    }
}
