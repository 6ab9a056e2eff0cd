//! Statement by statement: what each statement of a PostgreSQL text destroys, where it sits in
//! the text, and the details a door needs to act on it instead of only judging it (the proxy
//! rewrites a `DROP TABLE` into a move to its trash, and remembers the tables a session
//! created). Same analysis as [`super::analyze_sql`], split per statement; pure.

use std::ops::Range;

use serde::Serialize;

use crate::finding::Finding;

/// A table name as the statement wrote it, folded as PostgreSQL folds identifiers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct TableName {
    /// Empty when the statement did not qualify the name (the search path decides).
    pub schema: String,
    pub name: String,
}

impl TableName {
    /// `schema.name` or `name`, unquoted (for people).
    pub fn display(&self) -> String {
        super::qualified(&self.schema, &self.name)
    }
}

/// A `DROP TABLE` statement, in full.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DropTable {
    /// Every table it names, in order.
    pub tables: Vec<TableName>,
    /// Per table: created earlier in the same text (dropping it loses nothing that existed).
    pub created_here: Vec<bool>,
    pub if_exists: bool,
    pub cascade: bool,
}

/// One statement of a text.
#[derive(Debug, Clone, Serialize)]
pub struct Statement {
    /// Byte range of the statement in the analyzed text, from its first token to the end of
    /// its last one (the `;` is not included).
    pub span: Range<usize>,
    /// What it destroys (or might): the findings [`super::analyze_sql`] reports for it.
    pub findings: Vec<Finding>,
    /// Set when the statement is a `DROP TABLE`.
    pub drop_table: Option<DropTable>,
    /// Tables the statement creates (`CREATE TABLE`, `CREATE TABLE AS`, `SELECT INTO`),
    /// without `IF NOT EXISTS`.
    pub creates: Vec<TableName>,
}

/// Split PostgreSQL text into statements and analyze each, keeping what earlier statements
/// created (a table created and dropped in the same text is not a loss). Text the scanner
/// cannot read makes one last statement, from where it starts to the end, with an
/// `Unparseable` finding.
pub fn pg_statements(text: &str) -> Vec<Statement> {
    super::postgres::statements(text)
}
