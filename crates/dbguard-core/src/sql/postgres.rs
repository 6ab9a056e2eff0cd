//! PostgreSQL analysis through libpg_query (the server's own scanner and grammar).
//!
//! Pipeline: the real scanner splits the text into statements (in chunks, so memory stays
//! bounded on multi-megabyte migrations), each statement is classified from its tokens, and every
//! statement not positively known to be harmless gets the full parse and an AST walk.
//!
//! Fast path (`pg_fast`; why: a full protobuf parse of every row of an 8 MB multi-row INSERT
//! costs seconds, the scanner alone costs milliseconds). A statement skips the full parse only
//! when its tokens prove it cannot destroy data: it starts with INSERT, SELECT, COMMENT, GRANT or
//! REVOKE, or is `CREATE [OR REPLACE] [TEMP|UNLOGGED] [UNIQUE] INDEX|SEQUENCE|TYPE|VIEW|EXTENSION`
//! or `CREATE TABLE IF NOT EXISTS` (a plain CREATE TABLE is parsed: the table it creates makes
//! later losses of it harmless, so it must really parse), or `ALTER TABLE` without TYPE/a second
//! ALTER; AND none of its tokens is DROP,
//! TRUNCATE, EXECUTE, a dblink call, or a DELETE/UPDATE keyword other than `ON DELETE`/
//! `ON UPDATE`/`DO UPDATE`/`FOR UPDATE`. A data-modifying CTE needs a DELETE/UPDATE token (or a
//! leading WITH), so it always gets the full parse. Also skipped: `UPDATE|DELETE` ending in a
//! top-level `WHERE column = literal` with no other such token, and `DO` blocks whose
//! dollar-quoted PL/pgSQL body holds none of the tokens a finding needs (see `pg_fast`).
//! Everything else, including anything unrecognised, gets the full parse (fail closed).

use pg_query::protobuf::{
    self, a_const, AExprKind, BoolExprType, BoolTestType, DropBehavior, NullTestType, ObjectType,
};
use pg_query::{Node, NodeEnum};

use super::constant::{self, Arith, Cmp, Const};
use super::pg_fast::fast_path;
use super::pg_scan::{pathological_run, scan_message, split, Event};
use super::statement::{DropTable, Statement, TableName};
use super::{calls, display_statement, plpgsql, qualified, remote, Created, Cursor, Layout};
use crate::finding::{Finding, FindingKind, Location, Scope};

/// Nesting of bodies (function -> EXECUTEd text -> ...) analyzed before giving up as Unknown.
pub(super) const MAX_DEPTH: u32 = 4;

pub(super) fn analyze(text: &str) -> Vec<Finding> {
    let mut an = Analyzer::new(0);
    an.analyze_text(text, None);
    an.out
}

/// [`analyze`] with every statement fully parsed: what the fast path must agree with (tests,
/// fuzzing).
pub(super) fn analyze_without_fast_path(text: &str) -> Vec<Finding> {
    let mut an = Analyzer::new(0);
    an.fast_path = false;
    an.analyze_text(text, None);
    an.out
}

/// Statement and comment positions, for `accepted`.
pub(super) fn layout(text: &str) -> Layout {
    let mut layout = Layout::default();
    split(text, &mut |ev| match ev {
        Event::Statement(s) => layout.statements.push((s.start, s.end)),
        Event::Comment(s, e) => layout.comments.push((s, e)),
        Event::Error { start, .. } => layout.statements.push((start, text.len())),
    });
    layout
}

/// Where a finding comes from: the text itself, or a body that runs later or elsewhere.
#[derive(Debug, Clone)]
pub(super) enum Origin {
    Top,
    /// Inside a DO block (runs now).
    DoBlock,
    /// Inside a function or procedure body: runs when it is called.
    Function(String),
    /// Inside a rule's actions: runs each time the rule's event happens on its table.
    Rule {
        name: String,
        table: String,
        event: &'static str,
    },
    /// Sent by a dblink function to another connection: runs there, outside this transaction.
    Remote {
        via: String,
        connection: Option<String>,
    },
}

impl Origin {
    fn decorate(&self, detail: String) -> String {
        match self {
            Origin::Top => detail,
            Origin::DoBlock => format!(
                "{} (inside a DO block, which runs it immediately).",
                detail.trim_end_matches('.')
            ),
            Origin::Function(name) => {
                format!(
                    "{} (inside function {name}: runs each time it is called).",
                    detail.trim_end_matches('.')
                )
            }
            Origin::Rule { name, table, event } => format!(
                "{} (inside rule {name}: runs each time {event} on {table} happens).",
                detail.trim_end_matches('.')
            ),
            Origin::Remote { via, connection } => {
                let on = match connection {
                    Some(c) => format!(" ({})", crate::redact::redact_text(c)),
                    None => String::new(),
                };
                format!(
                    "{} (sent by {via} to another connection{on}: it runs there on its own, outside this statement's transaction).",
                    detail.trim_end_matches('.')
                )
            }
        }
    }
}

/// The statement currently analyzed: its text and where it starts.
#[derive(Clone, Copy)]
pub(super) struct Stmt<'a> {
    text: &'a str,
    location: Location,
}

pub(super) struct Analyzer {
    pub out: Vec<Finding>,
    created: Created,
    prepared: std::collections::HashSet<String>,
    depth: u32,
    origin: Origin,
    /// Per-statement details for [`statements`]: the top-level DROP TABLE and the tables
    /// created by the statement being analyzed.
    last_drop: Option<DropTable>,
    last_creates: Vec<TableName>,
    /// Statements the fast path proves harmless skip the full parse (off only to test it).
    fast_path: bool,
}

/// Each statement of `text` with its findings and details (see `statement::pg_statements`).
pub(super) fn statements(text: &str) -> Vec<Statement> {
    let mut an = Analyzer::new(0);
    let mut out = Vec::new();
    let mut cursor = Cursor::new(text);
    split(text, &mut |ev| {
        let span = match &ev {
            Event::Comment(..) => return,
            Event::Statement(raw) => raw.start..raw.end,
            Event::Error { start, .. } => *start..text.len(),
        };
        let before = an.out.len();
        an.on_event(ev, text, None, &mut cursor);
        out.push(Statement {
            span,
            findings: an.out.split_off(before),
            drop_table: an.last_drop.take(),
            creates: std::mem::take(&mut an.last_creates),
        });
    });
    out
}

impl Analyzer {
    pub fn new(depth: u32) -> Self {
        Analyzer {
            out: Vec::new(),
            created: Created::default(),
            prepared: Default::default(),
            depth,
            origin: Origin::Top,
            last_drop: None,
            last_creates: Vec::new(),
            fast_path: true,
        }
    }

    /// Analyze a whole text. `fixed` pins every finding to one statement location (bodies).
    pub fn analyze_text(&mut self, text: &str, fixed: Option<Location>) {
        let mut cursor = Cursor::new(text);
        split(text, &mut |ev| self.on_event(ev, text, fixed, &mut cursor));
    }

    fn on_event(&mut self, ev: Event, text: &str, fixed: Option<Location>, cursor: &mut Cursor) {
        match ev {
            Event::Comment(..) => {}
            Event::Statement(raw) => {
                let location = fixed.unwrap_or_else(|| cursor.locate(raw.start));
                let Some(stmt_text) = text.get(raw.start..raw.end) else {
                    return;
                };
                if !(self.fast_path && fast_path(&raw, text)) {
                    self.analyze_statement(Stmt {
                        text: stmt_text,
                        location,
                    });
                }
            }
            Event::Error { start, message } => {
                let location = fixed.unwrap_or_else(|| cursor.locate(start));
                let rest = text.get(start..).unwrap_or("");
                self.push(
                    FindingKind::Unparseable,
                    None,
                    format!("The SQL from here on cannot be read ({message}), so what it does is unknown."),
                    Scope::Database,
                    false,
                    Stmt { text: rest, location },
                );
            }
        }
    }

    /// A table the text creates (no IF NOT EXISTS): later losses of it are not losses.
    fn add_created(&mut self, schema: &str, table: &str) {
        self.created.add_table(schema, table, "public");
        if self.depth == 0 && matches!(self.origin, Origin::Top) {
            self.last_creates.push(TableName {
                schema: schema.to_string(),
                name: table.to_string(),
            });
        }
    }

    fn push(
        &mut self,
        kind: FindingKind,
        object: Option<String>,
        detail: String,
        scope: Scope,
        cascade: bool,
        s: Stmt,
    ) {
        let detail = self.origin.decorate(detail);
        self.out.push(
            Finding::new(kind, object, detail, scope)
                .with_statement(display_statement(s.text), Some(s.location))
                .with_cascade(cascade),
        );
    }

    fn analyze_statement(&mut self, s: Stmt) {
        match pg_query::parse(s.text, pg_query::ParserOptions::DEFAULT) {
            Err(e) => {
                let msg = scan_message(&e);
                self.push(
                    FindingKind::Unparseable,
                    None,
                    format!("This statement does not parse as PostgreSQL ({msg}), so what it does is unknown."),
                    Scope::Database,
                    false,
                    s,
                );
            }
            Ok(parsed) => {
                for raw in &parsed.protobuf.stmts {
                    if let Some(node) = raw.stmt.as_deref() {
                        self.statement_node(node, s);
                    }
                }
            }
        }
    }

    /// A whole statement: what it does itself, and what it sends to other connections.
    fn statement_node(&mut self, node: &Node, s: Stmt) {
        self.node(node, s);
        if remote::mentions_remote(s.text) {
            self.remote_calls(node, s);
        }
    }

    /// The SQL that dblink calls anywhere in `node` send to another connection, analyzed as SQL
    /// in its own right. Bodies that run at another time (functions, rules) are left to their
    /// own analysis, which gives them their origin.
    fn remote_calls<T: serde::Serialize>(&mut self, node: &T, s: Stmt) {
        for call in calls::named_in(node, calls::DEFERRED).calls {
            let via = call.display();
            match remote::sent_by(&call) {
                None => {}
                Some(remote::Sent::Computed) => self.push(
                    FindingKind::Unknown,
                    None,
                    format!(
                        "{via} sends SQL that is computed at run time (not a literal) to another connection, so what it does is unknown."
                    ),
                    Scope::External,
                    false,
                    s,
                ),
                Some(remote::Sent::Sql { sql, connection }) => {
                    let origin = Origin::Remote { via, connection };
                    for mut f in self.sub_analysis(&sql, origin, s) {
                        // The other connection's database may not be this one: dbguard cannot
                        // snapshot or measure it from here.
                        f.detail = self.origin.decorate(f.detail);
                        f.scope = Scope::External;
                        self.out.push(f);
                    }
                }
            }
        }
    }

    fn node(&mut self, node: &Node, s: Stmt) {
        let Some(n) = node.node.as_ref() else { return };
        match n {
            NodeEnum::DropStmt(d) => self.drop_stmt(d, s),
            NodeEnum::DropdbStmt(d) if !self.created.has_database(&d.dbname) => {
                self.push(
                    FindingKind::DropDatabase,
                    Some(d.dbname.clone()),
                    format!("Drops database {} with every schema, table and row in it.", d.dbname),
                    Scope::Database,
                    false,
                    s,
                );
            }
            NodeEnum::DropOwnedStmt(d) => {
                let roles: Vec<String> = d.roles.iter().filter_map(role_name).collect();
                let who = roles.join(", ");
                self.push(
                    FindingKind::DropOwned,
                    Some(who.clone()),
                    format!("Drops every table, schema and other object owned by {who}, with their data."),
                    Scope::Database,
                    d.behavior == DropBehavior::DropCascade as i32,
                    s,
                );
            }
            NodeEnum::TruncateStmt(t) => {
                let cascade = t.behavior == DropBehavior::DropCascade as i32;
                for rel in &t.relations {
                    let Some(NodeEnum::RangeVar(rv)) = rel.node.as_ref() else {
                        continue;
                    };
                    if self.created.has_table(&rv.schemaname, &rv.relname, "public") {
                        continue;
                    }
                    let name = qualified(&rv.schemaname, &rv.relname);
                    let extra = if cascade {
                        " and, through CASCADE, of every table that references it"
                    } else {
                        ""
                    };
                    self.push(
                        FindingKind::Truncate,
                        Some(name.clone()),
                        format!("Removes every row of {name}{extra}."),
                        Scope::Tables { names: vec![name] },
                        cascade,
                        s,
                    );
                }
            }
            NodeEnum::DeleteStmt(d) => {
                self.with_clause(d.with_clause.as_ref(), s);
                if let Some(rv) = &d.relation {
                    self.unbounded(FindingKind::DeleteAll, rv, d.where_clause.as_deref(), s);
                }
            }
            NodeEnum::UpdateStmt(u) => {
                self.with_clause(u.with_clause.as_ref(), s);
                if let Some(rv) = &u.relation {
                    self.unbounded(FindingKind::UpdateAll, rv, u.where_clause.as_deref(), s);
                }
            }
            NodeEnum::InsertStmt(i) => {
                self.with_clause(i.with_clause.as_ref(), s);
                if let Some(sel) = i.select_stmt.as_deref() {
                    self.node(sel, s);
                }
            }
            NodeEnum::SelectStmt(sel) => {
                self.with_clause(sel.with_clause.as_ref(), s);
                if let Some(into) = sel.into_clause.as_deref().and_then(|i| i.rel.as_ref()) {
                    self.add_created(&into.schemaname, &into.relname);
                }
            }
            NodeEnum::MergeStmt(m) => {
                self.with_clause(m.with_clause.as_ref(), s);
                self.merge(m, s);
            }
            NodeEnum::CopyStmt(c) => {
                if c.is_program {
                    let dir = if c.is_from { "FROM" } else { "TO" };
                    self.push(
                        FindingKind::Unknown,
                        None,
                        format!(
                            "COPY ... {dir} PROGRAM runs a shell command on the database server, so what it does is unknown."
                        ),
                        Scope::Database,
                        false,
                        s,
                    );
                }
                // `COPY (DELETE ... RETURNING ...) TO ...` runs the statement it copies from.
                if let Some(q) = c.query.as_deref() {
                    self.node(q, s);
                }
            }
            NodeEnum::AlterTableStmt(a) => self.alter_table(a, s),
            NodeEnum::CreateStmt(c) => {
                if let (Some(rv), false) = (&c.relation, c.if_not_exists) {
                    self.add_created(&rv.schemaname, &rv.relname);
                }
            }
            NodeEnum::CreateTableAsStmt(c) => {
                if let Some(q) = c.query.as_deref() {
                    self.node(q, s);
                }
                if let (Some(rv), false) = (c.into.as_deref().and_then(|i| i.rel.as_ref()), c.if_not_exists) {
                    self.add_created(&rv.schemaname, &rv.relname);
                }
            }
            NodeEnum::CreateSchemaStmt(c) => {
                if !c.if_not_exists && !c.schemaname.is_empty() {
                    self.created.add_schema(&c.schemaname);
                }
                for elt in &c.schema_elts {
                    self.node(elt, s);
                }
            }
            NodeEnum::CreatedbStmt(c) => self.created.add_database(&c.dbname),
            NodeEnum::ExplainStmt(e) => {
                let analyze = e.options.iter().any(|o| match o.node.as_ref() {
                    Some(NodeEnum::DefElem(d)) => {
                        d.defname == "analyze"
                            && !matches!(d.arg.as_deref().and_then(|a| a.node.as_ref()), Some(NodeEnum::Boolean(b)) if !b.boolval)
                            && !matches!(d.arg.as_deref().and_then(|a| a.node.as_ref()), Some(NodeEnum::String(v)) if matches!(v.sval.as_str(), "false" | "off" | "0"))
                    }
                    _ => false,
                });
                if let (true, Some(q)) = (analyze, e.query.as_deref()) {
                    self.node(q, s);
                }
            }
            NodeEnum::PrepareStmt(p) => {
                self.prepared.insert(p.name.clone());
                if let Some(q) = p.query.as_deref() {
                    self.node(q, s);
                }
            }
            NodeEnum::ExecuteStmt(e) if !self.prepared.contains(&e.name) => {
                self.push(
                    FindingKind::Unknown,
                    Some(e.name.clone()),
                    format!(
                        "Runs prepared statement {} whose SQL is not in this text, so what it does is unknown.",
                        e.name
                    ),
                    Scope::Database,
                    false,
                    s,
                );
            }
            NodeEnum::DoStmt(d) => self.do_stmt(d, s),
            NodeEnum::RuleStmt(r) => self.rule(r, s),
            NodeEnum::CreateFunctionStmt(f) => self.create_function(f, s),
            _ => {}
        }
    }

    fn drop_stmt(&mut self, d: &protobuf::DropStmt, s: Stmt) {
        let cascade = d.behavior == DropBehavior::DropCascade as i32;
        let kind = ObjectType::try_from(d.remove_type).unwrap_or(ObjectType::Undefined);
        match kind {
            ObjectType::ObjectTable => {
                let top = self.depth == 0 && matches!(self.origin, Origin::Top);
                let mut drop = DropTable {
                    tables: Vec::new(),
                    created_here: Vec::new(),
                    if_exists: d.missing_ok,
                    cascade,
                };
                for obj in &d.objects {
                    let parts = name_parts(obj);
                    let (schema, table) = split_name(&parts);
                    let created = self.created.has_table(schema, table, "public");
                    if top && !table.is_empty() {
                        drop.tables.push(TableName {
                            schema: schema.to_string(),
                            name: table.to_string(),
                        });
                        drop.created_here.push(created);
                    }
                    if table.is_empty() || created {
                        continue;
                    }
                    let name = qualified(schema, table);
                    let extra = if cascade {
                        ", and through CASCADE the views and foreign keys that depend on it"
                    } else {
                        ""
                    };
                    self.push(
                        FindingKind::DropTable,
                        Some(name.clone()),
                        format!("Drops table {name} with all its rows{extra}."),
                        Scope::Tables { names: vec![name] },
                        cascade,
                        s,
                    );
                }
                if top {
                    self.last_drop = Some(drop);
                }
            }
            ObjectType::ObjectSchema => {
                for obj in &d.objects {
                    let name = name_parts(obj).join(".");
                    if name.is_empty() || self.created.has_schema(&name) {
                        continue;
                    }
                    let detail = if cascade {
                        format!("Drops schema {name} and, through CASCADE, every table and object inside it with their data.")
                    } else {
                        format!("Drops schema {name} (without CASCADE this fails unless the schema is empty).")
                    };
                    self.push(
                        FindingKind::DropSchema,
                        Some(name.clone()),
                        detail,
                        Scope::Schemas { names: vec![name] },
                        cascade,
                        s,
                    );
                }
            }
            ObjectType::ObjectExtension if cascade => {
                for obj in &d.objects {
                    let name = name_parts(obj).join(".");
                    self.push(
                        FindingKind::DropExtension,
                        Some(name.clone()),
                        format!(
                            "Drops extension {name} and, through CASCADE, every object that depends on it, including columns of its types."
                        ),
                        Scope::Database,
                        true,
                        s,
                    );
                }
            }
            ObjectType::ObjectType | ObjectType::ObjectDomain | ObjectType::ObjectCollation if cascade => {
                let what = match kind {
                    ObjectType::ObjectType => "type",
                    ObjectType::ObjectDomain => "domain",
                    _ => "collation",
                };
                for obj in &d.objects {
                    let name = name_parts(obj).join(".");
                    self.push(
                        FindingKind::Unknown,
                        Some(name.clone()),
                        format!(
                            "Drops {what} {name} and, through CASCADE, every column that uses it with its data; which columns is not visible in the SQL."
                        ),
                        Scope::Database,
                        true,
                        s,
                    );
                }
            }
            _ => {}
        }
    }

    fn unbounded(&mut self, kind: FindingKind, rv: &protobuf::RangeVar, where_clause: Option<&Node>, s: Stmt) {
        if self.created.has_table(&rv.schemaname, &rv.relname, "public") {
            return;
        }
        if let Some(w) = where_clause {
            if matches!(w.node.as_ref(), Some(NodeEnum::CurrentOfExpr(_))) {
                return;
            }
            if eval(w, 0).and_then(|c| c.truthy()) != Some(true) {
                return;
            }
        }
        let name = qualified(&rv.schemaname, &rv.relname);
        let detail = super::unbounded_detail(kind, &name, where_clause.is_some());
        self.push(
            kind,
            Some(name.clone()),
            detail,
            Scope::Tables { names: vec![name] },
            false,
            s,
        );
    }

    /// MERGE: a WHEN MATCHED DELETE/UPDATE (without a bounding AND condition) under a join
    /// condition that is always true reaches every target row, and WHEN NOT MATCHED BY SOURCE
    /// THEN DELETE deletes every target row the source lacks.
    fn merge(&mut self, m: &protobuf::MergeStmt, s: Stmt) {
        let Some(rv) = &m.relation else { return };
        if self.created.has_table(&rv.schemaname, &rv.relname, "public") {
            return;
        }
        let always = |n: Option<&Node>| n.is_none_or(|n| eval(n, 0).and_then(|c| c.truthy()) == Some(true));
        let join_true = m.join_condition.as_deref().is_some_and(|j| always(Some(j)));
        let name = qualified(&rv.schemaname, &rv.relname);
        let mut reported: Vec<FindingKind> = Vec::new();
        for w in &m.merge_when_clauses {
            let Some(NodeEnum::MergeWhenClause(c)) = w.node.as_ref() else {
                continue;
            };
            let cmd = protobuf::CmdType::try_from(c.command_type).unwrap_or(protobuf::CmdType::Undefined);
            let matched =
                protobuf::MergeMatchKind::try_from(c.match_kind).unwrap_or(protobuf::MergeMatchKind::Undefined);
            let found = match (matched, cmd) {
                (protobuf::MergeMatchKind::MergeWhenMatched, protobuf::CmdType::CmdDelete)
                    if join_true && always(c.condition.as_deref()) =>
                {
                    Some((
                        FindingKind::DeleteAll,
                        format!("Deletes every row of {name}: the MERGE join condition is always true, so every row matches."),
                    ))
                }
                (protobuf::MergeMatchKind::MergeWhenMatched, protobuf::CmdType::CmdUpdate)
                    if join_true && always(c.condition.as_deref()) =>
                {
                    Some((
                        FindingKind::UpdateAll,
                        format!("Updates every row of {name}: the MERGE join condition is always true, so every row matches."),
                    ))
                }
                (protobuf::MergeMatchKind::MergeWhenNotMatchedBySource, protobuf::CmdType::CmdDelete) => {
                    let cond = if c.condition.is_some() {
                        " (that also meets its AND condition)"
                    } else {
                        ""
                    };
                    Some((
                        FindingKind::DeleteAll,
                        format!(
                            "WHEN NOT MATCHED BY SOURCE THEN DELETE deletes every row of {name} that has no match in the source{cond}: all of them when the source is empty."
                        ),
                    ))
                }
                _ => None,
            };
            let Some((kind, detail)) = found else { continue };
            if reported.contains(&kind) {
                continue;
            }
            reported.push(kind);
            self.push(
                kind,
                Some(name.clone()),
                detail,
                Scope::Tables {
                    names: vec![name.clone()],
                },
                false,
                s,
            );
        }
    }

    fn with_clause(&mut self, w: Option<&protobuf::WithClause>, s: Stmt) {
        let Some(w) = w else { return };
        for cte in &w.ctes {
            let Some(NodeEnum::CommonTableExpr(c)) = cte.node.as_ref() else {
                continue;
            };
            let Some(q) = c.ctequery.as_deref() else { continue };
            let (verb, rel) = match q.node.as_ref() {
                Some(NodeEnum::DeleteStmt(d)) => ("DELETE", d.relation.as_ref()),
                Some(NodeEnum::UpdateStmt(u)) => ("UPDATE", u.relation.as_ref()),
                Some(NodeEnum::InsertStmt(i)) => ("INSERT", i.relation.as_ref()),
                Some(NodeEnum::MergeStmt(m)) => ("MERGE", m.relation.as_ref()),
                _ => {
                    self.node(q, s);
                    continue;
                }
            };
            let name = rel.map(|r| qualified(&r.schemaname, &r.relname)).unwrap_or_default();
            let created = rel.is_some_and(|r| self.created.has_table(&r.schemaname, &r.relname, "public"));
            if !created {
                self.push(
                    FindingKind::DataModifyingCte,
                    Some(name.clone()),
                    format!(
                        "The WITH clause {} runs a {verb} on {name} as part of this statement.",
                        c.ctename
                    ),
                    Scope::Tables { names: vec![name] },
                    false,
                    s,
                );
            }
            self.node(q, s);
        }
    }

    fn alter_table(&mut self, a: &protobuf::AlterTableStmt, s: Stmt) {
        let Some(rv) = &a.relation else { return };
        if self.created.has_table(&rv.schemaname, &rv.relname, "public") {
            return;
        }
        let table = qualified(&rv.schemaname, &rv.relname);
        for cmd in &a.cmds {
            let Some(NodeEnum::AlterTableCmd(c)) = cmd.node.as_ref() else {
                continue;
            };
            let column = format!("{table}.{}", c.name);
            match protobuf::AlterTableType::try_from(c.subtype) {
                Ok(protobuf::AlterTableType::AtDropColumn) => {
                    let cascade = c.behavior == DropBehavior::DropCascade as i32;
                    self.push(
                        FindingKind::DropColumn,
                        Some(column.clone()),
                        format!("Drops column {column} and the value it holds in every row."),
                        Scope::Tables {
                            names: vec![table.clone()],
                        },
                        cascade,
                        s,
                    );
                }
                Ok(protobuf::AlterTableType::AtAlterColumnType) => {
                    let def = match c.def.as_deref().and_then(|d| d.node.as_ref()) {
                        Some(NodeEnum::ColumnDef(cd)) => Some(cd),
                        _ => None,
                    };
                    if def.is_some_and(|cd| lossless_type_change(cd, &c.name)) {
                        continue;
                    }
                    let ty = def
                        .and_then(|cd| cd.type_name.as_ref())
                        .map(type_name)
                        .unwrap_or_default();
                    let to = if ty.is_empty() {
                        String::new()
                    } else {
                        format!(" to {ty}")
                    };
                    self.push(
                        FindingKind::AlterColumnType,
                        Some(column.clone()),
                        format!(
                            "Changes the type of {column}{to}: a possibly lossy conversion that can truncate, round or reject existing values."
                        ),
                        Scope::Tables { names: vec![table.clone()] },
                        false,
                        s,
                    );
                }
                _ => {}
            }
        }
    }

    fn do_stmt(&mut self, d: &protobuf::DoStmt, s: Stmt) {
        let language = def_string(&d.args, "language").unwrap_or_else(|| "plpgsql".to_string());
        if !language.eq_ignore_ascii_case("plpgsql") {
            self.push(
                FindingKind::Unknown,
                None,
                format!("Runs a DO block in language {language}, whose effect cannot be analyzed."),
                Scope::Database,
                false,
                s,
            );
            return;
        }
        self.body(plpgsql::Body::Do, def_string(&d.args, "as").as_deref(), s);
    }

    fn create_function(&mut self, f: &protobuf::CreateFunctionStmt, s: Stmt) {
        let name = f.funcname.iter().filter_map(string_of).collect::<Vec<_>>().join(".");
        let language = def_string(&f.options, "language")
            .unwrap_or_else(|| "sql".to_string())
            .to_ascii_lowercase();
        let origin = Origin::Function(name);
        if let Some(body) = f.sql_body.as_deref() {
            let saved = std::mem::replace(&mut self.origin, origin);
            let saved_created = std::mem::take(&mut self.created);
            self.sql_body(body, s);
            self.created = saved_created;
            self.origin = saved;
            return;
        }
        match language.as_str() {
            "plpgsql" => {
                let saved = std::mem::replace(&mut self.origin, origin);
                let returns = f.return_type.as_ref().and_then(|t| t.names.last()).and_then(string_of);
                let src = def_body(&f.options);
                let kind = match (returns.as_deref(), &src) {
                    (Some("trigger" | "event_trigger"), Some(body)) => plpgsql::Body::Trigger(body.clone()),
                    _ => plpgsql::Body::Function,
                };
                self.body(kind, src.as_deref(), s);
                self.origin = saved;
            }
            "sql" => {
                let Some(src) = def_body(&f.options) else { return };
                let saved = std::mem::replace(&mut self.origin, origin);
                self.nested_text(&src, s);
                self.origin = saved;
            }
            // Other languages (C, plpython...) are not analyzed: only a call would run them.
            _ => {}
        }
    }

    fn sql_body(&mut self, body: &Node, s: Stmt) {
        match body.node.as_ref() {
            Some(NodeEnum::List(l)) => {
                for item in &l.items {
                    self.sql_body(item, s);
                }
            }
            Some(_) => self.statement_node(body, s),
            None => {}
        }
    }

    /// `CREATE RULE ... DO [ALSO|INSTEAD] action`: the actions are latent, like a function body:
    /// they run each time the event happens on the table, with their own created-table memory.
    fn rule(&mut self, r: &protobuf::RuleStmt, s: Stmt) {
        let table = r
            .relation
            .as_ref()
            .map(|rv| qualified(&rv.schemaname, &rv.relname))
            .unwrap_or_default();
        let event = match protobuf::CmdType::try_from(r.event) {
            Ok(protobuf::CmdType::CmdSelect) => "a SELECT",
            Ok(protobuf::CmdType::CmdInsert) => "an INSERT",
            Ok(protobuf::CmdType::CmdUpdate) => "an UPDATE",
            Ok(protobuf::CmdType::CmdDelete) => "a DELETE",
            _ => "an event",
        };
        let origin = Origin::Rule {
            name: r.rulename.clone(),
            table,
            event,
        };
        let saved = std::mem::replace(&mut self.origin, origin);
        let saved_created = std::mem::take(&mut self.created);
        for action in &r.actions {
            self.statement_node(action, s);
        }
        if let (Some(w), true) = (r.where_clause.as_deref(), remote::mentions_remote(s.text)) {
            self.remote_calls(w, s);
        }
        self.created = saved_created;
        self.origin = saved;
    }

    /// Analyze the PL/pgSQL body of the current statement (a DO block or CREATE FUNCTION).
    /// `src` is the body's source as the string literal holds it: escapes (`E'\x2f\x2a'`) can
    /// make a run of operator characters that the statement's own text does not show.
    fn body(&mut self, kind: plpgsql::Body, src: Option<&str>, s: Stmt) {
        if let Some((_, len)) = src.and_then(pathological_run) {
            self.push(
                FindingKind::Unparseable,
                None,
                format!(
                    "The body holds a run of {len} operator characters: runs this long, or this many long ones, are not scanned, so what it does is unknown."
                ),
                Scope::Database,
                false,
                s,
            );
            return;
        }
        if kind == plpgsql::Body::Do {
            let saved = std::mem::replace(&mut self.origin, Origin::DoBlock);
            self.body_inner(kind, s);
            self.origin = saved;
        } else {
            self.body_inner(kind, s);
        }
    }

    fn body_inner(&mut self, kind: plpgsql::Body, s: Stmt) {
        let what = if kind == plpgsql::Body::Do {
            "DO block"
        } else {
            "function body"
        };
        let source = match &kind {
            plpgsql::Body::Trigger(body) => match plpgsql::trigger_probe(body) {
                Some(p) => p,
                None => s.text.to_string(),
            },
            _ => s.text.to_string(),
        };
        match plpgsql::statements(&source) {
            Err(msg) => {
                self.push(
                    FindingKind::Unparseable,
                    None,
                    format!("The PL/pgSQL {what} does not parse ({msg}), so what it does is unknown."),
                    Scope::Database,
                    false,
                    s,
                );
            }
            Ok(items) => {
                // One analyzer for the whole body: a table it creates and later drops is its own.
                let mut sub = Analyzer::new(self.depth + 1);
                sub.fast_path = self.fast_path;
                sub.origin = self.origin.clone();
                for item in items {
                    match item {
                        plpgsql::Item::Static(sql) if self.depth < MAX_DEPTH => {
                            sub.analyze_text(&sql, Some(s.location))
                        }
                        plpgsql::Item::Static(_) => sub.push(
                            FindingKind::Unknown,
                            None,
                            "SQL nested too deeply to analyze.".to_string(),
                            Scope::Database,
                            false,
                            s,
                        ),
                        plpgsql::Item::Dynamic(what) => sub.push(
                            FindingKind::Unknown,
                            None,
                            format!("Runs dynamic SQL ({what}) built at run time, so what it does is unknown."),
                            Scope::Database,
                            false,
                            s,
                        ),
                    }
                }
                self.out.append(&mut sub.out);
            }
        }
    }

    /// SQL text found inside a body: analyzed with its own created-table memory (it runs at
    /// another time), findings pinned to the enclosing statement.
    fn nested_text(&mut self, sql: &str, s: Stmt) {
        let found = self.sub_analysis(sql, self.origin.clone(), s);
        self.out.extend(found);
    }

    /// The findings of `sql` analyzed one level deeper with `origin`, pinned to the enclosing
    /// statement; past [`MAX_DEPTH`], an `Unknown` finding is pushed instead and none returned.
    fn sub_analysis(&mut self, sql: &str, origin: Origin, s: Stmt) -> Vec<Finding> {
        if self.depth >= MAX_DEPTH {
            self.push(
                FindingKind::Unknown,
                None,
                "SQL nested too deeply to analyze.".to_string(),
                Scope::Database,
                false,
                s,
            );
            return Vec::new();
        }
        let mut sub = Analyzer::new(self.depth + 1);
        sub.fast_path = self.fast_path;
        sub.origin = origin;
        sub.analyze_text(sql, Some(s.location));
        sub.out
    }
}

/// `ALTER COLUMN c TYPE text` (or `varchar` / `character varying` without a length, or arrays
/// of them), with no USING clause or one that only reads the column (`USING c`, `USING c::text`):
/// every value of every type has a text form, and the conversion never truncates or rounds. A
/// length (`varchar(255)`) is not provably lossless without the current type: PostgreSQL
/// silently drops trailing spaces past the length. Any other USING expression can compute
/// anything, so it stays a finding.
fn lossless_type_change(cd: &protobuf::ColumnDef, column: &str) -> bool {
    let Some(t) = cd.type_name.as_ref() else {
        return false;
    };
    let names: Vec<String> = t.names.iter().filter_map(string_of).collect();
    let base = match names.as_slice() {
        [n] => n.as_str(),
        [schema, n] if schema == "pg_catalog" => n.as_str(),
        _ => return false,
    };
    if !matches!(base, "text" | "varchar") || !t.typmods.is_empty() || t.setof || t.pct_type {
        return false;
    }
    match cd.raw_default.as_deref() {
        None => true,
        Some(using) => reads_only_column(using, column),
    }
}

/// `c`, `t.c`, or a cast of it to text / unbounded varchar.
fn reads_only_column(n: &Node, column: &str) -> bool {
    match n.node.as_ref() {
        Some(NodeEnum::ColumnRef(_)) => column_fields(n).and_then(|f| f.last().cloned()).as_deref() == Some(column),
        Some(NodeEnum::TypeCast(tc)) => {
            let target_ok = tc.type_name.as_ref().is_some_and(|t| {
                let names: Vec<String> = t.names.iter().filter_map(string_of).collect();
                matches!(names.last().map(String::as_str), Some("text" | "varchar")) && t.typmods.is_empty()
            });
            target_ok && tc.arg.as_deref().is_some_and(|a| reads_only_column(a, column))
        }
        _ => false,
    }
}

fn def_string(opts: &[Node], key: &str) -> Option<String> {
    opts.iter().find_map(|o| match o.node.as_ref() {
        Some(NodeEnum::DefElem(d)) if d.defname == key => d.arg.as_deref().and_then(string_of),
        _ => None,
    })
}

/// The `AS '...'` body of a function: a list whose first string is the source.
fn def_body(opts: &[Node]) -> Option<String> {
    opts.iter().find_map(|o| match o.node.as_ref() {
        Some(NodeEnum::DefElem(d)) if d.defname == "as" => match d.arg.as_deref().and_then(|a| a.node.as_ref()) {
            Some(NodeEnum::List(l)) => l.items.first().and_then(string_of),
            Some(NodeEnum::String(v)) => Some(v.sval.clone()),
            _ => None,
        },
        _ => None,
    })
}

fn string_of(n: &Node) -> Option<String> {
    match n.node.as_ref() {
        Some(NodeEnum::String(s)) => Some(s.sval.clone()),
        _ => None,
    }
}

fn role_name(n: &Node) -> Option<String> {
    match n.node.as_ref() {
        Some(NodeEnum::RoleSpec(r)) => Some(match protobuf::RoleSpecType::try_from(r.roletype) {
            Ok(protobuf::RoleSpecType::RolespecCurrentRole) => "CURRENT_ROLE".to_string(),
            Ok(protobuf::RoleSpecType::RolespecCurrentUser) => "CURRENT_USER".to_string(),
            Ok(protobuf::RoleSpecType::RolespecSessionUser) => "SESSION_USER".to_string(),
            _ => r.rolename.clone(),
        }),
        _ => None,
    }
}

/// Name components of a dropped object: a List of Strings, a String, or a TypeName.
fn name_parts(n: &Node) -> Vec<String> {
    match n.node.as_ref() {
        Some(NodeEnum::List(l)) => l.items.iter().filter_map(string_of).collect(),
        Some(NodeEnum::String(s)) => vec![s.sval.clone()],
        Some(NodeEnum::TypeName(t)) => t.names.iter().filter_map(string_of).collect(),
        _ => Vec::new(),
    }
}

/// (schema, table) from `[catalog.]schema.table` or `table`.
fn split_name(parts: &[String]) -> (&str, &str) {
    match parts {
        [] => ("", ""),
        [t] => ("", t),
        [.., s, t] => (s, t),
    }
}

fn type_name(t: &protobuf::TypeName) -> String {
    let names: Vec<String> = t
        .names
        .iter()
        .filter_map(string_of)
        .filter(|n| n != "pg_catalog")
        .collect();
    let mut out = names.join(".");
    let mods: Vec<String> = t
        .typmods
        .iter()
        .filter_map(|m| match eval(m, 0) {
            Some(Const::Int(i)) => Some(i.to_string()),
            _ => None,
        })
        .collect();
    if !mods.is_empty() {
        out.push_str(&format!("({})", mods.join(",")));
    }
    if !t.array_bounds.is_empty() {
        out.push_str("[]");
    }
    out
}

/// Fold a WHERE expression to a constant when it is one (see `constant`).
fn eval(node: &Node, depth: u32) -> Option<Const> {
    if depth > 64 {
        return None;
    }
    let d = depth + 1;
    match node.node.as_ref()? {
        NodeEnum::AConst(c) => {
            if c.isnull {
                return Some(Const::Null);
            }
            match c.val.as_ref()? {
                a_const::Val::Ival(i) => Some(Const::Int(i128::from(i.ival))),
                a_const::Val::Fval(f) => constant::parse_number(&f.fval),
                a_const::Val::Boolval(b) => Some(Const::Bool(b.boolval)),
                a_const::Val::Sval(s) => Some(Const::Str(s.sval.clone())),
                a_const::Val::Bsval(_) => None,
            }
        }
        NodeEnum::TypeCast(tc) => {
            let v = eval(tc.arg.as_deref()?, d)?;
            let names = &tc.type_name.as_ref()?.names;
            let last = names.last().and_then(string_of)?;
            v.cast(&last)
        }
        NodeEnum::BoolExpr(b) => match BoolExprType::try_from(b.boolop).ok()? {
            BoolExprType::AndExpr => constant::and(b.args.iter().map(|a| eval(a, d))),
            BoolExprType::OrExpr => {
                if null_test_pair(&b.args) {
                    return Some(Const::Bool(true));
                }
                constant::or(b.args.iter().map(|a| eval(a, d)))
            }
            BoolExprType::NotExpr => constant::not(eval(b.args.first()?, d)),
            BoolExprType::Undefined => None,
        },
        NodeEnum::AExpr(e) => {
            let kind = AExprKind::try_from(e.kind).ok()?;
            match kind {
                AExprKind::AexprOp => {
                    let op = e.name.last().and_then(string_of)?;
                    let Some(l) = e.lexpr.as_deref() else {
                        let r = eval(e.rexpr.as_deref()?, d)?;
                        return match op.as_str() {
                            "-" => constant::arith(Arith::Sub, &Const::Int(0), &r),
                            "+" => Some(r),
                            _ => None,
                        };
                    };
                    let r = e.rexpr.as_deref()?;
                    if op == "=" && same_column(l, r) {
                        return Some(Const::Bool(true));
                    }
                    let (lv, rv) = (eval(l, d)?, eval(r, d)?);
                    match op.as_str() {
                        "=" => constant::compare(Cmp::Eq, &lv, &rv),
                        "<>" | "!=" => constant::compare(Cmp::NotEq, &lv, &rv),
                        "<" => constant::compare(Cmp::Lt, &lv, &rv),
                        "<=" => constant::compare(Cmp::LtEq, &lv, &rv),
                        ">" => constant::compare(Cmp::Gt, &lv, &rv),
                        ">=" => constant::compare(Cmp::GtEq, &lv, &rv),
                        "+" => constant::arith(Arith::Add, &lv, &rv),
                        "-" => constant::arith(Arith::Sub, &lv, &rv),
                        "*" => constant::arith(Arith::Mul, &lv, &rv),
                        _ => None,
                    }
                }
                // `col LIKE '%'`: every row with a value, as `col = col` is.
                AExprKind::AexprLike | AExprKind::AexprIlike => {
                    let op = e.name.last().and_then(string_of)?;
                    let positive = op == "~~" || op == "~~*";
                    match eval(e.rexpr.as_deref()?, d)? {
                        Const::Str(p) if positive && !p.is_empty() && p.bytes().all(|b| b == b'%') => {
                            Some(Const::Bool(true))
                        }
                        _ => None,
                    }
                }
                AExprKind::AexprNotDistinct | AExprKind::AexprDistinct => {
                    let (lv, rv) = (eval(e.lexpr.as_deref()?, d)?, eval(e.rexpr.as_deref()?, d)?);
                    let eq = constant::compare(Cmp::NullSafeEq, &lv, &rv);
                    if kind == AExprKind::AexprDistinct {
                        constant::not(eq)
                    } else {
                        eq
                    }
                }
                AExprKind::AexprIn => {
                    let op = e.name.last().and_then(string_of)?;
                    let lv = eval(e.lexpr.as_deref()?, d)?;
                    let Some(NodeEnum::List(list)) = e.rexpr.as_deref()?.node.as_ref() else {
                        return None;
                    };
                    let any = constant::or(
                        list.items
                            .iter()
                            .map(|i| eval(i, d).and_then(|iv| constant::compare(Cmp::Eq, &lv, &iv))),
                    );
                    if op == "<>" {
                        constant::not(any)
                    } else {
                        any
                    }
                }
                AExprKind::AexprBetween
                | AExprKind::AexprNotBetween
                | AExprKind::AexprBetweenSym
                | AExprKind::AexprNotBetweenSym => {
                    let v = eval(e.lexpr.as_deref()?, d)?;
                    let Some(NodeEnum::List(bounds)) = e.rexpr.as_deref()?.node.as_ref() else {
                        return None;
                    };
                    let [lo, hi] = bounds.items.as_slice() else {
                        return None;
                    };
                    let (lo, hi) = (eval(lo, d)?, eval(hi, d)?);
                    let negated = matches!(kind, AExprKind::AexprNotBetween | AExprKind::AexprNotBetweenSym);
                    let symmetric = matches!(kind, AExprKind::AexprBetweenSym | AExprKind::AexprNotBetweenSym);
                    constant::between(&v, &lo, &hi, negated, symmetric)
                }
                _ => None,
            }
        }
        NodeEnum::NullTest(t) => {
            let v = eval(t.arg.as_deref()?, d)?;
            let is_null = matches!(v, Const::Null);
            match NullTestType::try_from(t.nulltesttype).ok()? {
                NullTestType::IsNull => Some(Const::Bool(is_null)),
                NullTestType::IsNotNull => Some(Const::Bool(!is_null)),
                NullTestType::Undefined => None,
            }
        }
        NodeEnum::BooleanTest(t) => {
            let v = eval(t.arg.as_deref()?, d)?;
            let b = match v {
                Const::Null => None,
                other => Some(other.truthy()?),
            };
            let r = match BoolTestType::try_from(t.booltesttype).ok()? {
                BoolTestType::IsTrue => b == Some(true),
                BoolTestType::IsNotTrue => b != Some(true),
                BoolTestType::IsFalse => b == Some(false),
                BoolTestType::IsNotFalse => b != Some(false),
                BoolTestType::IsUnknown => b.is_none(),
                BoolTestType::IsNotUnknown => b.is_some(),
                BoolTestType::Undefined => return None,
            };
            Some(Const::Bool(r))
        }
        _ => None,
    }
}

fn column_fields(n: &Node) -> Option<Vec<String>> {
    match n.node.as_ref()? {
        NodeEnum::ColumnRef(c) => c.fields.iter().map(string_of).collect(),
        _ => None,
    }
}

fn same_column(a: &Node, b: &Node) -> bool {
    matches!((column_fields(a), column_fields(b)), (Some(x), Some(y)) if x == y)
}

/// `x IS NULL OR x IS NOT NULL` (in any order) on the same column.
fn null_test_pair(args: &[Node]) -> bool {
    let tests: Vec<(i32, Vec<String>)> = args
        .iter()
        .filter_map(|a| match a.node.as_ref() {
            Some(NodeEnum::NullTest(t)) => Some((t.nulltesttype, column_fields(t.arg.as_deref()?)?)),
            _ => None,
        })
        .collect();
    tests.iter().any(|(k, c)| {
        *k == NullTestType::IsNull as i32
            && tests
                .iter()
                .any(|(k2, c2)| *k2 == NullTestType::IsNotNull as i32 && c2 == c)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::pg_scan::{LONG_OP_RUN, MAX_OP_RUN};

    fn kinds(sql: &str) -> Vec<&'static str> {
        analyze(sql).iter().map(|f| f.kind.as_str()).collect()
    }

    #[test]
    fn basics() {
        assert_eq!(kinds("DROP TABLE a, b"), vec!["drop_table", "drop_table"]);
        assert_eq!(kinds("delete from users"), vec!["delete_all"]);
        assert_eq!(
            kinds("DELETE FROM t WHERE 1=1; DELETE FROM t WHERE id = 3"),
            vec!["delete_all"]
        );
        assert!(kinds("CREATE TABLE t (id int); DROP TABLE t;").is_empty());
    }

    /// `/*` repeated `n` times between a destructive statement before and one after.
    fn comment_openers(n: usize) -> String {
        format!("DROP TABLE before;\nSELECT 1 /{} ;\nDROP TABLE after;", "*/".repeat(n))
    }

    #[test]
    fn long_operator_runs_are_bounded() {
        // 64 KB of `/*`: the scanner alone took about 3 s on it.
        let sql = comment_openers(32_000);
        let start = std::time::Instant::now();
        let f = analyze(&sql);
        let elapsed = start.elapsed();
        assert_eq!(kinds(&sql), vec!["drop_table", "unparseable"]);
        assert_eq!(f[1].location, Some(Location { line: 2, column: 1 }));
        assert!(f[1].detail.contains("operator characters"), "{}", f[1].detail);
        // Generous for debug builds on a loaded machine; the release number is far lower.
        assert!(elapsed.as_secs_f64() < 2.0, "{elapsed:?}");
        // A run at the limit is still scanned, and one past it inside a string is fail-closed.
        let at_limit = format!("SELECT '{}'; DROP TABLE x;", "=".repeat(MAX_OP_RUN));
        assert_eq!(kinds(&at_limit), vec!["drop_table"]);
        let past = format!("SELECT '{}'; DROP TABLE x;", "=".repeat(MAX_OP_RUN + 1));
        assert_eq!(kinds(&past), vec!["unparseable"]);
        // Many long runs exhaust the budget: the statements before the one that does are kept.
        let mut many = String::from("DROP TABLE first;\n");
        for _ in 0..100 {
            many.push_str(&format!("SELECT '{}';\n", "=".repeat(MAX_OP_RUN)));
        }
        let f = analyze(&many);
        assert_eq!(
            f.iter().map(|f| f.kind.as_str()).collect::<Vec<_>>(),
            vec!["drop_table", "unparseable"]
        );
        assert_eq!(f[1].location, Some(Location { line: 66, column: 1 }));
        // Short runs never count: a 120-character rule on every line of a long text is fine.
        let rules = format!("SELECT 1; /* {} */\n", "-".repeat(120)).repeat(20_000);
        assert!(pathological_run(&rules).is_none());
        // Found in the layout too, as one region to the end.
        let l = layout(&sql);
        assert_eq!(l.statements.last().map(|s| s.1), Some(sql.len()));
    }

    #[test]
    fn escaped_operator_runs_in_bodies_are_bounded() {
        let body = "\\x2f\\x2a".repeat(MAX_OP_RUN);
        let sql = format!("DO E'BEGIN PERFORM 1; {body} END'");
        assert!(pathological_run(&sql).is_none());
        assert_eq!(kinds(&sql), vec!["unparseable"]);
    }

    #[test]
    #[ignore = "benchmark: run in release with --ignored"]
    fn bench_1mb_comment_openers() {
        let sql = comment_openers(500_000);
        let start = std::time::Instant::now();
        let f = analyze(&sql);
        let elapsed = start.elapsed();
        eprintln!("1 MB of /*: {} findings in {:.3}s", f.len(), elapsed.as_secs_f64());
        assert_eq!(f.len(), 2);
        assert!(elapsed.as_secs_f64() < 1.0, "{elapsed:?}");
        // The worst case the limit allows: 1 MB of runs just under it.
        let runs = format!("{} x\n", "/*".repeat(MAX_OP_RUN / 2 - 1)).repeat(1_000);
        let start = std::time::Instant::now();
        let f = analyze(&runs);
        let elapsed = start.elapsed();
        eprintln!(
            "{} bytes of {}-character /* runs: {} findings in {:.3}s",
            runs.len(),
            MAX_OP_RUN - 2,
            f.len(),
            elapsed.as_secs_f64()
        );
        assert!(elapsed.as_secs_f64() < 1.0, "{elapsed:?}");
        // And the most short runs can cost: 1 MB of `LONG_OP_RUN`-character runs.
        let short = format!("SELECT 1 {} x;\n", "+-".repeat(LONG_OP_RUN / 2)).repeat(7_500);
        let start = std::time::Instant::now();
        let f = analyze(&short);
        let elapsed = start.elapsed();
        eprintln!(
            "{} bytes of {LONG_OP_RUN}-character +- runs: {} findings in {:.3}s",
            short.len(),
            f.len(),
            elapsed.as_secs_f64()
        );
        assert!(elapsed.as_secs_f64() < 1.0, "{elapsed:?}");
    }

    #[test]
    fn chunking_keeps_statements_whole() {
        let mut sql = String::new();
        for i in 0..20_000 {
            sql.push_str(&format!("INSERT INTO t VALUES ({i}, 'a;b\n--x');\n"));
        }
        sql.push_str("DROP TABLE victim;");
        let f = analyze(&sql);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(
            f[0].location,
            Some(Location {
                line: 40_001,
                column: 1
            })
        );
    }
}
