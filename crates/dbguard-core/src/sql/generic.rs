//! SQLite and MySQL/MariaDB analysis through sqlparser (see the `sql` module comment for why).
//! The dialect's tokenizer splits the text (so `;` inside strings, comments and backticks never
//! splits), each statement is parsed on its own, and the AST is checked for the same kinds of
//! loss as PostgreSQL where they apply.

use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, BinaryOperator, CascadeOption, Expr, FromTable, ObjectName, ObjectType,
    Statement, TableFactor, TableWithJoins, UnaryOperator, Value,
};
use sqlparser::dialect::{Dialect as SqlDialect, MySqlDialect, SQLiteDialect};
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer, Whitespace};

use super::constant::{self, Arith, Cmp, Const};
use super::{display_statement, Created, Cursor, Dialect, Layout};
use crate::finding::{Finding, FindingKind, Location, Scope};

fn dialect_of(d: Dialect) -> Box<dyn SqlDialect> {
    match d {
        Dialect::Mysql => Box::new(MySqlDialect {}),
        _ => Box::new(SQLiteDialect {}),
    }
}

fn engine_name(d: Dialect) -> &'static str {
    match d {
        Dialect::Mysql => "MySQL",
        _ => "SQLite",
    }
}

/// Token index ranges of the statements, and the tokenizer's error if it stopped early.
struct Split {
    tokens: Vec<TokenWithSpan>,
    statements: Vec<std::ops::Range<usize>>,
    /// The tokenizer stopped here; the last range (if any) after the last `;` is incomplete.
    error: Option<(sqlparser::tokenizer::Location, String)>,
    /// The last range ended without a `;` (it may be incomplete when `error` is set).
    open_tail: bool,
}

fn is_trivia(t: &Token) -> bool {
    matches!(t, Token::Whitespace(_))
}

fn split(text: &str, dialect: &dyn SqlDialect) -> Split {
    let mut tokens = Vec::new();
    let error = Tokenizer::new(dialect, text)
        .tokenize_with_location_into_buf(&mut tokens)
        .err()
        .map(|e| (e.location, e.message));
    let mut statements = Vec::new();
    let mut start: Option<usize> = None;
    let mut last_sig = 0usize;
    let mut depth = 0u32;
    let mut block = 0u32;
    let mut block_mode = false;
    let mut first_word: Option<Keyword> = None;
    let sig: Vec<usize> = (0..tokens.len()).filter(|&i| !is_trivia(&tokens[i].token)).collect();
    for (k, &i) in sig.iter().enumerate() {
        let tok = &tokens[i].token;
        if matches!(tok, Token::SemiColon) && depth == 0 && block == 0 {
            if let Some(s) = start.take() {
                statements.push(s..last_sig + 1);
            }
            first_word = None;
            block_mode = false;
            continue;
        }
        if start.is_none() {
            start = Some(i);
            first_word = match tok {
                Token::Word(w) => Some(w.keyword),
                _ => None,
            };
        }
        last_sig = i;
        match tok {
            Token::LParen => depth = depth.saturating_add(1),
            Token::RParen => depth = depth.saturating_sub(1),
            Token::Word(w) => {
                let kw = w.keyword;
                if first_word == Some(Keyword::CREATE)
                    && matches!(
                        kw,
                        Keyword::TRIGGER | Keyword::PROCEDURE | Keyword::FUNCTION | Keyword::EVENT
                    )
                {
                    block_mode = true;
                }
                if block_mode {
                    match kw {
                        Keyword::BEGIN | Keyword::CASE => block = block.saturating_add(1),
                        Keyword::END => {
                            let next = sig.get(k + 1).map(|&j| &tokens[j].token);
                            let closes_other = matches!(next, Some(Token::Word(n)) if ["IF", "LOOP", "WHILE", "REPEAT"].iter().any(|k| n.value.eq_ignore_ascii_case(k)));
                            if !closes_other {
                                block = block.saturating_sub(1);
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    let open_tail = start.is_some();
    if let Some(s) = start {
        statements.push(s..last_sig + 1);
    }
    Split {
        tokens,
        statements,
        error,
        open_tail,
    }
}

pub(super) fn layout(text: &str, d: Dialect) -> Layout {
    let dialect = dialect_of(d);
    let sp = split(text, &*dialect);
    // Every position of interest, converted to byte offsets in one forward pass.
    let mut points: Vec<(u32, u32)> = Vec::new();
    for r in &sp.statements {
        let (a, b) = (&sp.tokens[r.start].span.start, &sp.tokens[r.end - 1].span.end);
        points.push((loc_u32(a.line), loc_u32(a.column)));
        points.push((loc_u32(b.line), loc_u32(b.column)));
    }
    let n_stmt_points = points.len();
    for t in &sp.tokens {
        if let Token::Whitespace(Whitespace::SingleLineComment { .. } | Whitespace::MultiLineComment(_)) = &t.token {
            points.push((loc_u32(t.span.start.line), loc_u32(t.span.start.column)));
            points.push((loc_u32(t.span.end.line), loc_u32(t.span.end.column)));
        }
    }
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by_key(|&i| points[i]);
    let mut offsets = vec![0usize; points.len()];
    let mut cursor = Cursor::new(text);
    for i in order {
        offsets[i] = cursor.seek(points[i].0, points[i].1);
    }
    let mut layout = Layout::default();
    for pair in offsets[..n_stmt_points].chunks(2) {
        if let [s, e] = pair {
            layout.statements.push((*s, (*e).max(*s)));
        }
    }
    for pair in offsets[n_stmt_points..].chunks(2) {
        if let [s, e] = pair {
            layout.comments.push((*s, (*e).max(*s)));
        }
    }
    layout
}

fn starts_with_word(tokens: &[TokenWithSpan], word: &str) -> bool {
    matches!(tokens.iter().find(|t| !is_trivia(&t.token)), Some(TokenWithSpan { token: Token::Word(w), .. }) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(word))
}

fn loc_u32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

#[derive(Clone, Copy)]
struct Stmt<'a> {
    text: &'a str,
    location: Location,
}

struct Analyzer {
    out: Vec<Finding>,
    created: Created,
}

pub(super) fn analyze(text: &str, d: Dialect) -> Vec<Finding> {
    let dialect = dialect_of(d);
    let sp = split(text, &*dialect);
    let mut an = Analyzer {
        out: Vec::new(),
        created: Created::default(),
    };
    let mut cursor = Cursor::new(text);
    let n = sp.statements.len();
    for (k, r) in sp.statements.iter().enumerate() {
        let first = &sp.tokens[r.start];
        let last = &sp.tokens[r.end - 1];
        let location = Location {
            line: loc_u32(first.span.start.line),
            column: loc_u32(first.span.start.column),
        };
        let s_off = cursor.seek(location.line, location.column);
        let e_off = cursor.seek(loc_u32(last.span.end.line), loc_u32(last.span.end.column));
        let stmt_text = text.get(s_off..e_off.max(s_off)).unwrap_or("");
        let s = Stmt {
            text: stmt_text,
            location,
        };
        if k + 1 == n && sp.open_tail && sp.error.is_some() {
            // The tokenizer stopped inside this statement: report it (and the rest) below.
            let rest = text.get(s_off..).unwrap_or("");
            an.unreadable(
                Stmt { text: rest, location },
                sp.error.as_ref().map(|e| e.1.as_str()).unwrap_or(""),
            );
            return an.out;
        }
        let toks: Vec<TokenWithSpan> = sp.tokens[r.clone()].to_vec();
        match Parser::new(&*dialect)
            .with_tokens_with_locations(toks)
            .parse_statements()
        {
            Ok(stmts) => {
                for st in &stmts {
                    an.statement(st, s);
                }
            }
            // sqlparser does not know every PRAGMA form (`PRAGMA foreign_keys = ON`), and no
            // PRAGMA deletes rows or tables by itself: an unparsed one is not reported.
            Err(_) if d == Dialect::Sqlite && starts_with_word(&sp.tokens[r.clone()], "PRAGMA") => {}
            Err(e) => {
                let msg = e.to_string();
                let engine = engine_name(d);
                an.push(
                    FindingKind::Unparseable,
                    None,
                    format!("This statement does not parse as {engine} ({msg}), so what it does is unknown."),
                    Scope::Database,
                    false,
                    s,
                );
            }
        }
    }
    if let Some((loc, msg)) = &sp.error {
        let location = Location {
            line: loc_u32(loc.line),
            column: loc_u32(loc.column),
        };
        let off = cursor.seek(location.line, location.column);
        an.unreadable(
            Stmt {
                text: text.get(off..).unwrap_or(""),
                location,
            },
            msg,
        );
    }
    an.out
}

impl Analyzer {
    fn unreadable(&mut self, s: Stmt, msg: &str) {
        self.push(
            FindingKind::Unparseable,
            None,
            format!("The SQL from here on cannot be read ({msg}), so what it does is unknown."),
            Scope::Database,
            false,
            s,
        );
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
        self.out.push(
            Finding::new(kind, object, detail, scope)
                .with_statement(display_statement(s.text), Some(s.location))
                .with_cascade(cascade),
        );
    }

    fn statement(&mut self, st: &Statement, s: Stmt) {
        match st {
            Statement::Drop {
                object_type,
                names,
                cascade,
                ..
            } => match object_type {
                ObjectType::Table => {
                    for n in names {
                        let (schema, table) = parts(n);
                        if table.is_empty() || self.created.has_table(&schema, &table, "") {
                            continue;
                        }
                        let name = join(&schema, &table);
                        let extra = if *cascade {
                            ", and through CASCADE what depends on it"
                        } else {
                            ""
                        };
                        self.push(
                            FindingKind::DropTable,
                            Some(name.clone()),
                            format!("Drops table {name} with all its rows{extra}."),
                            Scope::Tables { names: vec![name] },
                            *cascade,
                            s,
                        );
                    }
                }
                ObjectType::Database | ObjectType::Schema => {
                    for n in names {
                        let name = plain(n);
                        if self.created.has_database(&name) {
                            continue;
                        }
                        self.push(
                            FindingKind::DropDatabase,
                            Some(name.clone()),
                            format!("Drops database {name} with every table and row in it."),
                            Scope::Database,
                            *cascade,
                            s,
                        );
                    }
                }
                _ => {}
            },
            Statement::Truncate(t) => {
                let cascade = matches!(t.cascade, Some(CascadeOption::Cascade));
                for target in &t.table_names {
                    let (schema, table) = parts(&target.name);
                    if self.created.has_table(&schema, &table, "") {
                        continue;
                    }
                    let name = join(&schema, &table);
                    self.push(
                        FindingKind::Truncate,
                        Some(name.clone()),
                        format!("Removes every row of {name}."),
                        Scope::Tables { names: vec![name] },
                        cascade,
                        s,
                    );
                }
            }
            Statement::Delete(d) => {
                if d.limit.is_some() {
                    return;
                }
                let names: Vec<(String, String)> = if !d.tables.is_empty() {
                    d.tables.iter().map(parts).collect()
                } else {
                    let from = match &d.from {
                        FromTable::WithFromKeyword(v) | FromTable::WithoutKeyword(v) => v,
                    };
                    from.iter().filter_map(table_of).collect()
                };
                for (schema, table) in names {
                    self.unbounded(FindingKind::DeleteAll, &schema, &table, d.selection.as_ref(), s);
                }
            }
            Statement::Update(u) => {
                if u.limit.is_some() {
                    return;
                }
                if let Some((schema, table)) = table_of(&u.table) {
                    self.unbounded(FindingKind::UpdateAll, &schema, &table, u.selection.as_ref(), s);
                }
            }
            Statement::AlterTable(a) => {
                let (schema, table) = parts(&a.name);
                if self.created.has_table(&schema, &table, "") {
                    return;
                }
                let tname = join(&schema, &table);
                for op in &a.operations {
                    match op {
                        AlterTableOperation::DropColumn { column_names, .. } => {
                            for c in column_names {
                                let col = format!("{tname}.{}", c.value);
                                self.push(
                                    FindingKind::DropColumn,
                                    Some(col.clone()),
                                    format!("Drops column {col} and the value it holds in every row."),
                                    Scope::Tables {
                                        names: vec![tname.clone()],
                                    },
                                    false,
                                    s,
                                );
                            }
                        }
                        AlterTableOperation::ModifyColumn {
                            col_name, data_type, ..
                        } => self.type_change(&tname, &col_name.value, &data_type.to_string(), s),
                        AlterTableOperation::ChangeColumn {
                            old_name, data_type, ..
                        } => self.type_change(&tname, &old_name.value, &data_type.to_string(), s),
                        AlterTableOperation::AlterColumn {
                            column_name,
                            op: AlterColumnOperation::SetDataType { data_type, .. },
                        } => self.type_change(&tname, &column_name.value, &data_type.to_string(), s),
                        _ => {}
                    }
                }
            }
            Statement::CreateTable(c) if !c.if_not_exists => {
                let (schema, table) = parts(&c.name);
                self.created.add_table(&schema, &table, "");
            }
            Statement::CreateDatabase {
                db_name,
                if_not_exists: false,
                ..
            } => self.created.add_database(&plain(db_name)),
            _ => {}
        }
    }

    fn type_change(&mut self, table: &str, column: &str, ty: &str, s: Stmt) {
        let col = format!("{table}.{column}");
        self.push(
            FindingKind::AlterColumnType,
            Some(col.clone()),
            format!(
                "Changes the type of {col} to {ty}: a possibly lossy conversion that can truncate, round or reject existing values."
            ),
            Scope::Tables { names: vec![table.to_string()] },
            false,
            s,
        );
    }

    fn unbounded(&mut self, kind: FindingKind, schema: &str, table: &str, selection: Option<&Expr>, s: Stmt) {
        if table.is_empty() || self.created.has_table(schema, table, "") {
            return;
        }
        let verb = if kind == FindingKind::DeleteAll {
            "Deletes"
        } else {
            "Updates"
        };
        let name = join(schema, table);
        let detail = match selection {
            None => format!("{verb} every row of {name}: there is no WHERE clause."),
            Some(e) => {
                if eval(e, 0).and_then(|c| c.truthy()) != Some(true) {
                    return;
                }
                format!("{verb} every row of {name}: its WHERE clause is always true.")
            }
        };
        self.push(
            kind,
            Some(name.clone()),
            detail,
            Scope::Tables { names: vec![name] },
            false,
            s,
        );
    }
}

/// (schema, table) of an object name, identifiers unquoted.
fn parts(n: &ObjectName) -> (String, String) {
    let idents: Vec<String> =
        n.0.iter()
            .filter_map(|p| p.as_ident().map(|i| i.value.clone()))
            .collect();
    match idents.as_slice() {
        [] => (String::new(), String::new()),
        [t] => (String::new(), t.clone()),
        [.., s, t] => (s.clone(), t.clone()),
    }
}

fn plain(n: &ObjectName) -> String {
    n.0.iter()
        .filter_map(|p| p.as_ident().map(|i| i.value.clone()))
        .collect::<Vec<_>>()
        .join(".")
}

fn join(schema: &str, table: &str) -> String {
    super::qualified(schema, table)
}

fn table_of(t: &TableWithJoins) -> Option<(String, String)> {
    match &t.relation {
        TableFactor::Table { name, .. } => Some(parts(name)),
        _ => None,
    }
}

fn eval(e: &Expr, depth: u32) -> Option<Const> {
    if depth > 64 {
        return None;
    }
    let n = depth + 1;
    match e {
        Expr::Value(v) => match &v.value {
            Value::Number(s, _) => constant::parse_number(s),
            Value::SingleQuotedString(s) => Some(Const::Str(s.clone())),
            // MySQL reads "..." as a string; SQLite falls back to a string when no column matches.
            Value::DoubleQuotedString(s) => Some(Const::Str(s.clone())),
            Value::Boolean(b) => Some(Const::Bool(*b)),
            Value::Null => Some(Const::Null),
            _ => None,
        },
        Expr::Nested(inner) => eval(inner, n),
        Expr::UnaryOp { op, expr } => {
            let v = eval(expr, n);
            match op {
                UnaryOperator::Not => constant::not(v),
                UnaryOperator::Minus => constant::arith(Arith::Sub, &Const::Int(0), &v?),
                UnaryOperator::Plus => v,
                _ => None,
            }
        }
        Expr::Cast { expr, data_type, .. } => {
            let v = eval(expr, n)?;
            let ty = data_type.to_string();
            let base = ty.split(['(', ' ']).next().unwrap_or("").to_ascii_lowercase();
            v.cast(&base)
        }
        Expr::IsNull(x) => eval(x, n).map(|v| Const::Bool(matches!(v, Const::Null))),
        Expr::IsNotNull(x) => eval(x, n).map(|v| Const::Bool(!matches!(v, Const::Null))),
        Expr::IsTrue(x) => eval(x, n).map(|v| Const::Bool(v.truthy() == Some(true) && v != Const::Null)),
        Expr::IsNotFalse(x) => eval(x, n).map(|v| Const::Bool(v == Const::Null || v.truthy() == Some(true))),
        Expr::BinaryOp { left, op, right } => {
            if matches!(op, BinaryOperator::Eq) && same_ident(left, right) {
                return Some(Const::Bool(true));
            }
            match op {
                BinaryOperator::And => constant::and([eval(left, n), eval(right, n)]),
                BinaryOperator::Or => constant::or([eval(left, n), eval(right, n)]),
                _ => {
                    let (l, r) = (eval(left, n)?, eval(right, n)?);
                    match op {
                        BinaryOperator::Eq => constant::compare(Cmp::Eq, &l, &r),
                        BinaryOperator::NotEq => constant::compare(Cmp::NotEq, &l, &r),
                        BinaryOperator::Lt => constant::compare(Cmp::Lt, &l, &r),
                        BinaryOperator::LtEq => constant::compare(Cmp::LtEq, &l, &r),
                        BinaryOperator::Gt => constant::compare(Cmp::Gt, &l, &r),
                        BinaryOperator::GtEq => constant::compare(Cmp::GtEq, &l, &r),
                        BinaryOperator::Spaceship => constant::compare(Cmp::NullSafeEq, &l, &r),
                        BinaryOperator::Plus => constant::arith(Arith::Add, &l, &r),
                        BinaryOperator::Minus => constant::arith(Arith::Sub, &l, &r),
                        BinaryOperator::Multiply => constant::arith(Arith::Mul, &l, &r),
                        _ => None,
                    }
                }
            }
        }
        _ => None,
    }
}

fn same_ident(a: &Expr, b: &Expr) -> bool {
    match (a, b) {
        (Expr::Identifier(x), Expr::Identifier(y)) => x.value.eq_ignore_ascii_case(&y.value),
        (Expr::CompoundIdentifier(x), Expr::CompoundIdentifier(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| p.value.eq_ignore_ascii_case(&q.value))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(sql: &str, d: Dialect) -> Vec<&'static str> {
        analyze(sql, d).iter().map(|f| f.kind.as_str()).collect()
    }

    #[test]
    fn basics() {
        assert_eq!(kinds("DELETE FROM t WHERE 1", Dialect::Sqlite), vec!["delete_all"]);
        assert_eq!(
            kinds("DROP DATABASE shop; DELETE FROM t LIMIT 5", Dialect::Mysql),
            vec!["drop_database"]
        );
        assert_eq!(
            kinds("ALTER TABLE t MODIFY COLUMN c INT", Dialect::Mysql),
            vec!["alter_column_type"]
        );
    }
}
