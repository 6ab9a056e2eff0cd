//! The rules, written once for every language over the front-ends' call chains
//! ([`super::ir`]): SQL handed to raw-SQL calls (through the SQL core), the ORMs' bulk
//! destroyers, commands handed to a shell, and database files deleted.
//!
//! SQL is followed through names bound to literals in the same file, loop variables over
//! literal arrays, `text(...)` / `sql.raw(...)` wrappers and `{ text: ... }` objects. SQL that
//! only exists at run time is `unknown` when it reaches a raw-SQL call, except when it is a
//! parameter passed through (a wrapper such as `query(text, params) => pool.query(text,
//! params)`, or `this.text` inside a driver): the calls of the wrapper are what is checked.

use crate::finding::{Finding, FindingKind, Location, Scope};
use crate::lookup::NoLookup;

use super::ir::{shorten, Chain, Ctx, Facts, Piece, Seg, Val};
use super::sql_text;

/// How deep names are followed (`a = b; b = 'DROP...'`).
const MAX_RESOLVE: usize = 6;

/// What a value holding SQL turned out to be.
enum Resolved {
    Text(Vec<Piece>),
    /// A parameter or `this`/`self` state: checked where the wrapper is called.
    PassThrough,
    /// Built at run time: why.
    Dynamic(String),
}

/// Raw-SQL calls whose first argument is SQL. `strong`: run-time SQL reaching it is unknown.
const SQL_SINKS: &[(&str, bool)] = &[
    ("query", true),
    ("execute", true),
    ("exec", true),
    ("$executeRaw", true),
    ("$executeRawUnsafe", true),
    ("$queryRaw", true),
    ("$queryRawUnsafe", true),
    ("executeRaw", true),
    ("executeRawUnsafe", true),
    ("unsafe", true),
    ("raw", true),
    ("executescript", true),
    ("executemany", true),
    ("exec_driver_sql", true),
    ("exec_query", true),
    ("exec_update", true),
    ("exec_delete", true),
    ("execute_sql", true),
    ("executeMultiple", true),
    ("statement", false),
    ("unprepared", false),
    ("run", false),
    ("prepare", false),
    ("all", false),
    ("get", false),
    ("each", false),
    ("none", false),
    ("any", false),
    ("one", false),
    ("oneOrNone", false),
    ("many", false),
    ("manyOrNone", false),
    ("result", false),
    ("multi", false),
    ("fetch", false),
    ("fetchrow", false),
    ("fetchval", false),
    ("exec_params", false),
    ("find_by_sql", false),
    ("select_all", false),
    ("sql", false),
    ("SQL", false),
    ("text", false),
    ("batch", false),
];

/// Calls whose result is text (so SQL built with them is run-time SQL).
const TEXT_MAKERS: &[&str] = &[
    "format",
    "join",
    "replace",
    "replaceall",
    "concat",
    "tostring",
    "string",
    "str",
    "trim",
    "strip",
    "slice",
    "substring",
    "substr",
    "decode",
    "tolowercase",
    "touppercase",
    "lower",
    "upper",
    "input",
    "getenv",
    "argv",
    "env",
    "open",
    "fetch",
    "text",
    "render",
    "template",
    "sprintf",
    "printf",
];

/// Calls that hand their text to a shell (or run a program with arguments).
const SHELL_SINKS: &[&str] = &[
    "execSync",
    "exec",
    "spawn",
    "spawnSync",
    "execFile",
    "execFileSync",
    "execa",
    "execaSync",
    "execaCommand",
    "execaCommandSync",
    "$",
    "system",
    "popen",
    "run",
    "call",
    "check_call",
    "check_output",
    "Popen",
    "getoutput",
    "getstatusoutput",
    "`",
    "capture2",
    "capture2e",
    "capture3",
    "spawn_sync",
];

/// Receivers whose `exec`/`run`/`call` mean a shell.
const SHELL_RECEIVERS: &[&str] = &[
    "child_process",
    "childProcess",
    "cp",
    "subprocess",
    "sp",
    "os",
    "Open3",
    "Bun",
    "Deno",
    "Kernel",
    "shell",
    "sh",
];

/// Segment names that bound a bulk operation to some rows.
fn is_filter(name: &str) -> bool {
    let l = name.to_ascii_lowercase();
    l.starts_with("where")
        || l.starts_with("andwhere")
        || l.starts_with("orwhere")
        || l.starts_with("filter")
        || l.starts_with("exclude")
        || l.starts_with("find")
        || l == "get"
        || l == "limit"
        || l == "first"
        || l == "last"
        || l == "take"
        || l == "one"
        || l == "having"
        || l == "search"
}

/// Whether a filter call chooses rows: `filter()`, `where(nil)`, `where({})` and
/// `exclude()` choose every row. `first()`, `last()`, `take()`, `one()` and `get()` need no
/// argument to choose one.
fn bounds(s: &Seg) -> bool {
    let l = s.name.to_ascii_lowercase();
    if matches!(l.as_str(), "first" | "last" | "take" | "one" | "get") {
        return true;
    }
    let empty = |v: &Val| match v {
        Val::Null => true,
        Val::Obj(o) => o.is_empty(),
        Val::Str(t) => t.trim().is_empty(),
        _ => false,
    };
    !s.kwargs.is_empty() || s.args.as_deref().is_some_and(|a| a.iter().any(|v| !empty(v)))
}

const DB_FILE_SUFFIXES: &[&str] = &[".db", ".sqlite", ".sqlite3", ".db3"];

fn looks_like_db_file(s: &str) -> bool {
    let l = s.to_ascii_lowercase();
    DB_FILE_SUFFIXES.iter().any(|x| l.ends_with(x)) || l.contains("pgdata") || l.ends_with("/postgres/data")
}

/// The findings of one file, each with the context it sits in.
pub struct Ruled {
    pub findings: Vec<(Finding, Ctx)>,
    /// The file calls a raw-SQL or bulk API (decides whether a parse error is worth a finding).
    pub db_api: bool,
}

pub fn apply(facts: &Facts, tool: &str, path: &str) -> Ruled {
    let mut r = Rules {
        facts,
        tool,
        path,
        out: Vec::new(),
        db_api: false,
    };
    for c in &facts.chains {
        r.chain(c);
    }
    Ruled {
        findings: r.out,
        db_api: r.db_api,
    }
}

struct Rules<'a> {
    facts: &'a Facts,
    tool: &'a str,
    path: &'a str,
    out: Vec<(Finding, Ctx)>,
    db_api: bool,
}

impl Rules<'_> {
    fn place(&self, c: &Chain) -> String {
        if self.path.is_empty() {
            format!("line {}", c.line)
        } else {
            format!("{}:{}", self.path, c.line)
        }
    }

    fn push(&mut self, c: &Chain, kind: FindingKind, object: Option<String>, detail: String, scope: Scope) {
        let f = Finding::new(kind, object, detail, scope)
            .with_tool(self.tool)
            .with_statement(
                c.text.clone(),
                Some(Location {
                    line: c.line,
                    column: c.column,
                }),
            );
        self.out.push((f, c.ctx.clone()));
    }

    fn chain(&mut self, c: &Chain) {
        for (i, seg) in c.segs.iter().enumerate() {
            if !seg.is_call() {
                continue;
            }
            let before = &c.segs[..i];
            self.sql_sink(c, i, seg, before);
            self.shell_sink(c, i, seg, before);
            self.bulk(c, i, seg);
            self.file_delete(c, seg);
        }
    }

    // --- raw SQL ---

    fn sql_sink(&mut self, c: &Chain, _i: usize, seg: &Seg, before: &[Seg]) {
        let Some(&(_, strong)) = SQL_SINKS.iter().find(|(n, _)| *n == seg.name) else {
            return;
        };
        // `exec`/`run` on a shell receiver are commands, not SQL.
        if matches!(seg.name.as_str(), "exec" | "run" | "call")
            && (before.is_empty() || before.iter().any(|s| SHELL_RECEIVERS.contains(&s.name.as_str())))
        {
            return;
        }
        // `RegExp.exec(str)`, `app.get('/x')`, `map.get(k)`: only text that reads as SQL counts.
        let Some(arg) = seg.arg(0).or_else(|| seg.kwargs.first().map(|(_, v)| v)) else {
            return;
        };
        let mut resolved = Vec::new();
        self.resolve(arg, 0, &mut resolved);
        let callee = shorten(&format!("{}(...)", sink_name(before, seg)), 60);
        for r in resolved {
            match r {
                Resolved::Text(pieces) => {
                    let filled = sql_text::fill(&pieces);
                    if !sql_text::looks_like_sql(&filled.text) {
                        continue;
                    }
                    self.db_api = true;
                    for mut f in sql_text::analyze(&filled, self.facts.dialect) {
                        f.detail = format!(
                            "{} (SQL run by {callee} at {})",
                            f.detail.trim_end_matches('.'),
                            self.place(c)
                        );
                        f.tool = Some(self.tool.to_string());
                        f.location = Some(Location {
                            line: c.line,
                            column: c.column,
                        });
                        self.out.push((f, c.ctx.clone()));
                    }
                }
                Resolved::PassThrough => {}
                Resolved::Dynamic(why) if strong && self.sql_receiver(before, seg) => {
                    self.db_api = true;
                    let detail = format!(
                        "{callee} at {} runs SQL built at run time ({why}); what it destroys cannot be known in advance",
                        self.place(c)
                    );
                    self.push(c, FindingKind::Unknown, None, detail, Scope::Database);
                }
                Resolved::Dynamic(_) => {}
            }
        }
    }

    /// Whether the receiver of a strong sink looks like a database handle, so that run-time
    /// text reaching it is worth an `unknown` (`re.exec(s)` and `cmd.execute(x)` are not).
    fn sql_receiver(&self, before: &[Seg], seg: &Seg) -> bool {
        if seg.name.starts_with('$') || seg.name.contains("Raw") || seg.name.contains("sql") {
            return true;
        }
        let names: Vec<String> = before.iter().map(|s| s.name.to_ascii_lowercase()).collect();
        const DB_WORDS: &[&str] = &[
            "db",
            "database",
            "sql",
            "pg",
            "pool",
            "client",
            "conn",
            "cursor",
            "cur",
            "knex",
            "sequelize",
            "prisma",
            "session",
            "engine",
            "tx",
            "trx",
            "transaction",
            "mysql",
            "sqlite",
            "postgres",
            "connection",
            "queryrunner",
            "manager",
            "datasource",
            "kysely",
            "drizzle",
            "orm",
            "op",
            "migrator",
            "queryinterface",
            "activerecord",
        ];
        names.iter().any(|n| DB_WORDS.iter().any(|w| n == w || n.contains(w)))
    }

    fn resolve(&self, v: &Val, depth: usize, out: &mut Vec<Resolved>) {
        if depth > MAX_RESOLVE || out.len() > 64 {
            out.push(Resolved::Dynamic("names followed too deeply".into()));
            return;
        }
        match v {
            Val::Str(s) => out.push(Resolved::Text(vec![Piece::Lit(s.clone())])),
            Val::Template(pieces) => out.push(Resolved::Text(self.inline_holes(pieces))),
            Val::Ident(n) => self.resolve_name(n, depth, out),
            Val::Elem(inner) => self.resolve_elements(inner, depth, out),
            Val::Arr(items) => {
                for it in items {
                    self.resolve(it, depth + 1, out);
                }
            }
            Val::Obj(props) => {
                let key = props
                    .iter()
                    .find(|(k, _)| matches!(k.as_str(), "text" | "sql" | "query" | "statement"));
                match key {
                    Some((_, v)) => self.resolve(v, depth + 1, out),
                    None => out.push(Resolved::PassThrough),
                }
            }
            Val::Call(ch) => self.resolve_chain(ch, depth, out),
            Val::Bool(_) | Val::Null | Val::Num | Val::Func => out.push(Resolved::PassThrough),
            Val::Other(src) => out.push(Resolved::Dynamic(format!("`{}`", shorten(src, 40)))),
        }
    }

    /// `${table}` where `const table = 'users'`: the literal goes in, for a better message.
    fn inline_holes(&self, pieces: &[Piece]) -> Vec<Piece> {
        pieces
            .iter()
            .map(|p| match p {
                Piece::Hole(src) => match self.facts.bindings.get(src.as_str()).map(Vec::as_slice) {
                    Some([Val::Str(s)]) => Piece::Lit(s.clone()),
                    _ => p.clone(),
                },
                lit => lit.clone(),
            })
            .collect()
    }

    fn resolve_name(&self, n: &str, depth: usize, out: &mut Vec<Resolved>) {
        if matches!(n, "this" | "self") {
            out.push(Resolved::PassThrough);
            return;
        }
        match self.facts.bindings.get(n) {
            Some(vals) => {
                for v in vals {
                    self.resolve(v, depth + 1, out);
                }
            }
            None if self.facts.params.contains(n) => out.push(Resolved::PassThrough),
            // A class or model (`session.query(User)`): not text.
            None if n.starts_with(|c: char| c.is_ascii_uppercase()) && n.chars().any(|c| c.is_ascii_lowercase()) => {
                out.push(Resolved::PassThrough)
            }
            None => out.push(Resolved::Dynamic(format!("`{n}`, defined elsewhere"))),
        }
    }

    /// The elements of what a loop iterates over.
    fn resolve_elements(&self, v: &Val, depth: usize, out: &mut Vec<Resolved>) {
        match v {
            Val::Arr(items) => {
                for it in items {
                    self.resolve(it, depth + 1, out);
                }
            }
            Val::Ident(n) => match self.facts.bindings.get(n.as_str()) {
                Some(vals) => {
                    for v in vals {
                        self.resolve_elements(v, depth + 1, out);
                    }
                }
                None if self.facts.params.contains(n.as_str()) => out.push(Resolved::PassThrough),
                None => out.push(Resolved::Dynamic(format!("the elements of `{n}`"))),
            },
            Val::Obj(props) => {
                // `for key in {...}` / `Object.values({...})`: the values.
                for (_, v) in props {
                    self.resolve(v, depth + 1, out);
                }
            }
            other => {
                let mut inner = Vec::new();
                self.resolve(other, depth + 1, &mut inner);
                for r in inner {
                    match r {
                        Resolved::Text(_) => out.push(Resolved::Dynamic("the elements of a string".into())),
                        r => out.push(r),
                    }
                }
            }
        }
    }

    fn resolve_chain(&self, ch: &Chain, depth: usize, out: &mut Vec<Resolved>) {
        let last = ch.segs.last();
        // SQL wrappers: `text("...")`, `sql.raw("...")`, `Prisma.sql`...`, `sql.SQL("...")`.
        if let Some(seg) = last.filter(|s| {
            s.is_call()
                && matches!(
                    s.name.as_str(),
                    "text" | "sql" | "SQL" | "raw" | "Sql" | "dedent" | "trim" | "strip"
                )
        }) {
            match seg.arg(0) {
                Some(a) => return self.resolve(a, depth + 1, out),
                None => {
                    if let Some(b) = &ch.base {
                        return self.resolve(b, depth + 1, out);
                    }
                }
            }
        }
        // `"DELETE FROM {}".format(t)`: the text with its holes.
        if let (Some(Val::Str(s)), Some(seg)) = (&ch.base, ch.segs.first()) {
            if seg.name == "format" {
                out.push(Resolved::Text(format_holes(s)));
                return;
            }
        }
        // A property path: `this.text`, `config.sql` (a parameter's field), `row.query`.
        if ch.segs.iter().all(|s| !s.is_call()) {
            if let Some(root) = ch.root() {
                if matches!(root, "this" | "self") || self.facts.params.contains(root) {
                    out.push(Resolved::PassThrough);
                    return;
                }
            }
        }
        // Only calls that produce text make run-time SQL; a query builder or ORM statement
        // (`delete(User).where(...)`, `knex('t').select()`) is checked as a chain of its own.
        let texty = ch.segs.is_empty()
            || ch.segs.iter().all(|s| !s.is_call())
            || ch.names().any(|n| {
                let l = n.to_ascii_lowercase();
                TEXT_MAKERS.iter().any(|m| l == *m) || l.starts_with("read") || l.contains("sql") && l != "sql"
            });
        if !texty {
            out.push(Resolved::PassThrough);
            return;
        }
        let what = if ch.names().any(|n| n.to_ascii_lowercase().contains("read")) {
            format!("read at run time by `{}`", shorten(&ch.text, 50))
        } else {
            format!("`{}`", shorten(&ch.text, 50))
        };
        out.push(Resolved::Dynamic(what));
    }

    // --- shell ---

    fn shell_sink(&mut self, c: &Chain, i: usize, seg: &Seg, before: &[Seg]) {
        if !SHELL_SINKS.contains(&seg.name.as_str()) {
            return;
        }
        let receiver_ok = before.is_empty()
            || before.iter().any(|s| SHELL_RECEIVERS.contains(&s.name.as_str()))
            || before.last().is_some_and(|s| s.name == "require" || s.name == "import");
        if !receiver_ok {
            return;
        }
        // Python's `run`/`call` are shell sinks only on subprocess.
        if matches!(
            seg.name.as_str(),
            "run" | "call" | "check_call" | "check_output" | "Popen"
        ) && !before.iter().any(|s| s.name == "subprocess" || s.name == "sp")
        {
            return;
        }
        let _ = i;
        let Some(arg) = seg.arg(0) else { return };
        let command = match arg {
            Val::Arr(items) => {
                // `subprocess.run(['dropdb', 'app'])`: the program and its arguments.
                let words: Option<Vec<String>> = items.iter().map(|w| self.literal_word(w)).collect();
                words.map(|w| {
                    w.iter()
                        .map(|x| crate::shell::words::shell_quote(x))
                        .collect::<Vec<_>>()
                        .join(" ")
                })
            }
            _ => {
                let program = self.literal_word(arg);
                match (program, seg.arg(1)) {
                    // `spawn('dropdb', ['app'])`
                    (Some(p), Some(Val::Arr(items)))
                        if seg.name.starts_with("spawn")
                            || seg.name.starts_with("execFile")
                            || seg.name.starts_with("execa") =>
                    {
                        let rest: Option<Vec<String>> = items.iter().map(|w| self.literal_word(w)).collect();
                        rest.map(|r| {
                            std::iter::once(p)
                                .chain(r)
                                .map(|x| crate::shell::words::shell_quote(&x))
                                .collect::<Vec<_>>()
                                .join(" ")
                        })
                    }
                    (Some(p), _) => Some(p),
                    (None, _) => self.shell_template(arg),
                }
            }
        };
        let Some(command) = command else { return };
        if sql_text::looks_like_sql(&command) {
            return;
        }
        let a = crate::shell::analyze_command(&command, &NoLookup);
        for mut f in a.findings {
            f.detail = format!(
                "{} (a command the script runs at {})",
                f.detail.trim_end_matches('.'),
                self.place(c)
            );
            f.location = Some(Location {
                line: c.line,
                column: c.column,
            });
            self.db_api = true;
            self.out.push((f, c.ctx.clone()));
        }
    }

    fn literal_word(&self, v: &Val) -> Option<String> {
        match v {
            Val::Str(s) => Some(s.clone()),
            Val::Ident(n) => match self.facts.bindings.get(n.as_str()).map(Vec::as_slice) {
                Some([Val::Str(s)]) => Some(s.clone()),
                _ => None,
            },
            _ => None,
        }
    }

    /// A template handed to a shell: holes become run-time expansions.
    fn shell_template(&self, v: &Val) -> Option<String> {
        match v {
            Val::Template(pieces) => Some(
                self.inline_holes(pieces)
                    .iter()
                    .map(|p| match p {
                        Piece::Lit(s) => s.clone(),
                        Piece::Hole(_) => "$DBGUARD_HOLE".to_string(),
                    })
                    .collect(),
            ),
            _ => None,
        }
    }

    // --- ORM bulk destroyers ---

    fn bulk(&mut self, c: &Chain, i: usize, seg: &Seg) {
        let name = seg.name.as_str();
        let filtered = c.segs.iter().any(|s| s.is_call() && is_filter(&s.name) && bounds(s));
        let model = model_name(c, i);
        let args = seg.args.as_deref().unwrap_or(&[]);
        let empty_or_all = |v: Option<&Val>| match v {
            None | Some(Val::Null) => true,
            Some(Val::Obj(p)) => {
                p.is_empty()
                    || p.iter()
                        .all(|(k, v)| k == "where" && matches!(v, Val::Obj(w) if w.is_empty()))
            }
            _ => false,
        };
        let recv = |s: &str| -> bool { c.segs[..i].iter().any(|x| x.name.to_ascii_lowercase().contains(s)) };
        let what = |verb: &str| format!("{} {verb} (at {})", shorten(&c.text, 80), self.place(c));
        use FindingKind::*;
        let hit: Option<(FindingKind, Option<String>, String)> = match name {
            // Prisma, Mongo (JS and Python): no filter, `{}` or `{ where: {} }`.
            "deleteMany" | "delete_many" if empty_or_all(args.first()) && seg.kwargs.is_empty() => {
                Some((DeleteAll, model.clone(), what("deletes every row (no filter)")))
            }
            "updateMany" | "update_many" => match args.first() {
                Some(Val::Obj(p)) if !p.iter().any(|(k, _)| k == "where") && p.iter().any(|(k, _)| k == "data") => {
                    Some((UpdateAll, model.clone(), what("updates every row (no where)")))
                }
                Some(Val::Obj(p)) if p.is_empty() && args.len() > 1 => {
                    Some((UpdateAll, model.clone(), what("updates every document (empty filter)")))
                }
                _ => None,
            },
            "remove" | "deleteAll" if args.len() == 1 && empty_or_all(args.first()) && i > 0 => {
                Some((DeleteAll, model.clone(), what("deletes every row (empty filter)")))
            }
            // knex `.del()`/`.delete()`, TypeORM/Kysely query builders, Django, SQLAlchemy,
            // Objection: a query with no filter.
            "del" | "delete" if args.is_empty() && !filtered && is_query(c, i) => {
                Some((DeleteAll, model.clone(), what("deletes every row (no where)")))
            }
            // Drizzle `db.delete(users)`, SQLAlchemy `delete(User)`: no `.where`.
            "delete" if args.len() == 1 && !filtered && drizzle_like(c, i) => {
                let t = val_name(&args[0]);
                Some((DeleteAll, t, what("deletes every row (no .where)")))
            }
            "update"
                if args.len() == 1
                    && !filtered
                    && drizzle_like(c, i)
                    && c.names().any(|n| n == "set" || n == "values") =>
            {
                let t = val_name(&args[0]);
                Some((UpdateAll, t, what("updates every row (no .where)")))
            }
            "update" if !filtered && is_query(c, i) && c.names().any(|n| n == "objects" || n == "query") => {
                Some((UpdateAll, model.clone(), what("updates every row (no filter)")))
            }
            "truncate" | "truncate_table" | "truncateTable"
                if i > 0 && (args.is_empty() || recv("connection") || recv("queryinterface") || recv("schema")) =>
            {
                let t = args.first().and_then(val_name).or(model.clone());
                Some((Truncate, t, what("empties the table")))
            }
            "clearTable" | "clear_table" | "truncate_tables" => {
                let t = args.first().and_then(val_name);
                Some((Truncate, t, what("empties the table")))
            }
            // TypeORM `repository.clear()`, `manager.clear(Entity)`.
            "clear"
                if (args.is_empty() && (recv("repo") || recv("getrepository")))
                    || (args.len() == 1 && recv("manager")) =>
            {
                let t = args.first().and_then(val_name).or(model.clone());
                Some((Truncate, t, what("empties the table (TRUNCATE)")))
            }
            // Sequelize destroy: `{ truncate: true }` or `{ where: {} }`.
            "destroy" => match args.first() {
                Some(Val::Obj(p)) if p.iter().any(|(k, v)| k == "truncate" && *v == Val::Bool(true)) => {
                    Some((Truncate, model.clone(), what("truncates the table")))
                }
                Some(Val::Obj(p))
                    if p.iter()
                        .any(|(k, v)| k == "where" && matches!(v, Val::Obj(w) if w.is_empty())) =>
                {
                    Some((DeleteAll, model.clone(), what("deletes every row (empty where)")))
                }
                _ => None,
            },
            "delete_all" | "destroy_all" | "destroyAll" if !filtered => {
                Some((DeleteAll, model.clone(), what("deletes every row")))
            }
            // Rails `Model.update_all(...)`: every row, unless a where chooses them.
            "update_all" if !filtered && i > 0 => Some((UpdateAll, model.clone(), what("updates every row"))),
            "bulkDelete" | "bulk_delete" if args.len() >= 2 && empty_or_all(args.get(1)) || args.len() == 1 => {
                let t = args.first().and_then(val_name);
                Some((DeleteAll, t, what("deletes every row (no where)")))
            }
            // Sequelize / TypeORM schema sync.
            "sync" => match args.first() {
                Some(Val::Obj(p)) if p.iter().any(|(k, v)| k == "force" && *v == Val::Bool(true)) => {
                    if model
                        .as_deref()
                        .is_some_and(|m| m.starts_with(|ch: char| ch.is_ascii_uppercase()))
                    {
                        Some((
                            DropTable,
                            model.clone(),
                            what("drops and recreates the table (force: true)"),
                        ))
                    } else {
                        Some((
                            ResetDatabase,
                            None,
                            what("drops and recreates every model's table (force: true)"),
                        ))
                    }
                }
                Some(Val::Obj(p)) if p.iter().any(|(k, v)| k == "alter" && *v == Val::Bool(true)) => Some((
                    SchemaSync,
                    None,
                    what("alters tables to match the models, which may drop columns"),
                )),
                _ => None,
            },
            "synchronize" => match args.first() {
                Some(Val::Bool(true)) => Some((
                    ResetDatabase,
                    None,
                    what("drops every table, then recreates the schema"),
                )),
                None => Some((
                    SchemaSync,
                    None,
                    what("changes the schema to match the entities, which may drop columns"),
                )),
                _ => None,
            },
            // Sequelize `sequelize.drop()` / `Model.drop()`, Mongo `collection.drop()`,
            // SQLAlchemy `table.drop(engine)`.
            "drop" if i > 0 && (args.is_empty() || recv("__table__") || recv("table")) => {
                let whole = model.as_deref().is_some_and(|m| m == "sequelize" || m == "db");
                if whole {
                    Some((DropTable, None, what("drops every model's table")))
                } else {
                    Some((DropTable, model.clone(), what("drops the table (or collection)")))
                }
            }
            "drop_all" | "dropAll" | "dropAllTables" | "drop_tables" | "dropAllSchemas" | "drop_all_tables" => {
                Some((DropTable, None, what("drops every table")))
            }
            "dropTable" | "dropTableIfExists" | "drop_table" | "dropCollection" | "drop_collection" => {
                let t = args.first().and_then(val_name);
                Some((DropTable, t, what("drops the table")))
            }
            "dropSchema" | "drop_schema" | "dropSchemaIfExists" => {
                let t = args.first().and_then(val_name);
                Some((DropSchema, t, what("drops the schema")))
            }
            "dropDatabase" | "drop_database" => {
                let t = args.first().and_then(val_name);
                Some((DropDatabase, t, what("drops the database")))
            }
            "flushall" | "flushdb" | "flushAll" | "flushDb" | "flushDB" | "FLUSHALL" | "FLUSHDB" => {
                Some((FlushStore, None, what("empties the key-value store")))
            }
            // Django `call_command('flush')`.
            "call_command" if matches!(args.first(), Some(Val::Str(s)) if s == "flush" || s == "reset_db") => {
                Some((Truncate, None, what("empties every table (manage.py flush)")))
            }
            _ => None,
        };
        if let Some((kind, object, detail)) = hit {
            self.db_api = true;
            let scope = match (&object, kind) {
                (Some(t), DeleteAll | UpdateAll | Truncate | DropTable) => Scope::Tables { names: vec![t.clone()] },
                _ => Scope::Database,
            };
            self.push(c, kind, object, detail, scope);
        }
    }

    // --- database files ---

    fn file_delete(&mut self, c: &Chain, seg: &Seg) {
        const DELETERS: &[&str] = &[
            "unlink",
            "unlinkSync",
            "rm",
            "rmSync",
            "rmdir",
            "rmdirSync",
            "remove",
            "removeSync",
            "rmtree",
            "rm_rf",
            "rm_r",
            "rm_f",
            "delete",
            "unlink_p",
        ];
        if !DELETERS.contains(&seg.name.as_str()) {
            return;
        }
        // The path is an argument (`fs.rmSync('app.db')`) or where the chain starts
        // (`Path('app.db').unlink()`).
        let mut paths: Vec<String> = seg.args.iter().flatten().filter_map(|a| self.literal_word(a)).collect();
        for s in &c.segs {
            if s.is_call() && matches!(s.name.as_str(), "Path" | "join" | "resolve" | "PurePath" | "Pathname") {
                paths.extend(s.args.iter().flatten().filter_map(|a| self.literal_word(a)));
            }
        }
        if let Some(p) = paths.iter().find(|p| looks_like_db_file(p)) {
            let detail = format!(
                "{} deletes the database file {p} (at {})",
                shorten(&c.text, 60),
                self.place(c)
            );
            self.db_api = true;
            self.push(c, FindingKind::DeleteFiles, Some(p.clone()), detail, Scope::External);
        }
    }
}

fn sink_name(before: &[Seg], seg: &Seg) -> String {
    let mut parts: Vec<&str> = before.iter().rev().take(2).map(|s| s.name.as_str()).collect();
    parts.reverse();
    parts.push(&seg.name);
    parts.join(".")
}

/// `"DELETE FROM {} WHERE id = {}".format(...)`: `{}` / `{name}` are holes.
fn format_holes(s: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut it = s.chars().peekable();
    while let Some(ch) = it.next() {
        if ch == '{' {
            if it.peek() == Some(&'{') {
                it.next();
                lit.push('{');
                continue;
            }
            let mut name = String::new();
            for n in it.by_ref() {
                if n == '}' {
                    break;
                }
                name.push(n);
            }
            if !lit.is_empty() {
                out.push(Piece::Lit(std::mem::take(&mut lit)));
            }
            out.push(Piece::Hole(if name.is_empty() { "arg".into() } else { name }));
        } else {
            lit.push(ch);
        }
    }
    if !lit.is_empty() {
        out.push(Piece::Lit(lit));
    }
    out
}

/// The table or model a chain works on: the string given to its first call
/// (`knex('users')`, `db.collection('users')`), else the name before the operation
/// (`prisma.user.deleteMany`, `User.objects.all().delete()`, `User.delete_all`).
fn model_name(c: &Chain, i: usize) -> Option<String> {
    for s in &c.segs[..i] {
        if let Some(Val::Str(t)) = s.arg(0) {
            if s.is_call() && !t.is_empty() && t.len() < 80 {
                return Some(t.clone());
            }
        }
    }
    let skip = [
        "objects",
        "all",
        "query",
        "collection",
        "getRepository",
        "createQueryBuilder",
        "in_batches",
        "unscoped",
        "manager",
        "from",
        "model",
        "models",
        "default",
        "table",
        "__table__",
        "$transaction",
        "tx",
        "session",
    ];
    c.segs[..i]
        .iter()
        .rev()
        .map(|s| {
            if let Some(Val::Ident(n)) = s.arg(0) {
                if s.is_call() && matches!(s.name.as_str(), "query" | "getRepository" | "from" | "table") {
                    return n.as_str();
                }
            }
            s.name.as_str()
        })
        .find(|n| !skip.contains(n))
        .map(str::to_string)
}

/// A query builder chain: it starts from a call (`knex('t')`, `Model.query()`,
/// `createQueryBuilder()`, `session.query(X)`) or goes through `objects` (Django) or
/// `from`/`table`.
fn is_query(c: &Chain, i: usize) -> bool {
    let before = &c.segs[..i];
    if before.is_empty() {
        return false;
    }
    before.iter().any(|s| {
        (s.is_call() && s.argc() > 0 && before.first().is_some_and(|f| std::ptr::eq(f, s)))
            || matches!(
                s.name.as_str(),
                "objects"
                    | "query"
                    | "createQueryBuilder"
                    | "from"
                    | "table"
                    | "deleteFrom"
                    | "updateTable"
                    | "all"
                    | "unscoped"
            )
    }) || c
        .segs
        .get(i + 1)
        .is_some_and(|n| matches!(n.name.as_str(), "from" | "execute" | "where"))
}

/// `db.delete(users)`, `tx.delete(t)`, SQLAlchemy `delete(User)`: the delete takes the table.
fn drizzle_like(c: &Chain, i: usize) -> bool {
    if i == 0 {
        return true; // `delete(User)` (SQLAlchemy), `update(User)`
    }
    let recv = c.segs[i - 1].name.to_ascii_lowercase();
    recv == "db"
        || recv == "tx"
        || recv == "trx"
        || recv.ends_with("db")
        || recv == "sa"
        || recv == "sqlalchemy"
        || recv == "drizzle"
}

fn val_name(v: &Val) -> Option<String> {
    match v {
        Val::Str(s) => Some(s.clone()),
        Val::Ident(n) => Some(n.clone()),
        Val::Call(c) => c.segs.last().map(|s| s.name.clone()),
        _ => None,
    }
}
