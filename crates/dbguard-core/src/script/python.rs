//! Python front-end: tree-sitter's Python grammar, one walk collecting call chains, bindings
//! (assignments, `for` targets), parameters, imports and function contexts.

use tree_sitter::{Node, Parser};

use super::ir::{shorten, template, Chain, Ctx, Facts, Import, Piece, Seg, Val, HANDLER_REGISTRATIONS};
use super::lines::Lines;
use crate::sql::Dialect;

const MAX_DEPTH: usize = 400;

pub fn extract(src: &str) -> Facts {
    let mut parser = Parser::new();
    if parser.set_language(&tree_sitter_python::LANGUAGE.into()).is_err() {
        return Facts {
            error: Some("the Python grammar could not be loaded".into()),
            ..Facts::default()
        };
    }
    let Some(tree) = parser.parse(src, None) else {
        return Facts {
            error: Some("the Python parser gave up".into()),
            ..Facts::default()
        };
    };
    let root = tree.root_node();
    let mut w = Walker {
        src,
        lines: Lines::new(src),
        facts: Facts::default(),
        ctx: vec![Ctx::Top],
        consumed: Vec::new(),
        handler_defs: Vec::new(),
    };
    if root.has_error() {
        w.facts.error = Some(first_error(root, &w.lines));
    }
    w.walk(root, 0);
    w.facts
}

pub fn first_error(root: Node<'_>, lines: &Lines) -> String {
    let mut cursor = root.walk();
    let mut stack = vec![root];
    while let Some(n) = stack.pop() {
        if n.is_error() || n.is_missing() {
            let (l, c) = lines.position(n.start_byte());
            return format!("syntax error at line {l}, column {c}");
        }
        if n.has_error() {
            stack.extend(n.children(&mut cursor).collect::<Vec<_>>().into_iter().rev());
        }
    }
    "syntax error".into()
}

struct Walker<'s> {
    src: &'s str,
    lines: Lines,
    facts: Facts,
    ctx: Vec<Ctx>,
    /// Byte ranges of calls already part of a recorded chain.
    consumed: Vec<(usize, usize)>,
    /// Start bytes of functions decorated as route or event handlers.
    handler_defs: Vec<usize>,
}

fn dialect_of(module: &str) -> Option<Dialect> {
    let top = module.split('.').next().unwrap_or("");
    match top {
        "sqlite3" | "aiosqlite" | "apsw" => Some(Dialect::Sqlite),
        "pymysql" | "MySQLdb" | "aiomysql" | "mysql" | "mariadb" => Some(Dialect::Mysql),
        "psycopg" | "psycopg2" | "asyncpg" | "pg8000" => Some(Dialect::Postgres),
        _ => None,
    }
}

impl<'s> Walker<'s> {
    fn text(&self, n: Node<'_>) -> &'s str {
        self.src.get(n.start_byte()..n.end_byte()).unwrap_or("")
    }

    fn cur(&self) -> Ctx {
        self.ctx.last().cloned().unwrap_or(Ctx::Top)
    }

    fn walk(&mut self, n: Node<'_>, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let mut pushed = false;
        match n.kind() {
            "function_definition" | "class_definition" => {
                if self.cur() == Ctx::Top {
                    if let Some(name) = n.child_by_field_name("name") {
                        self.ctx.push(Ctx::Func(self.text(name).to_string()));
                        pushed = true;
                    }
                }
                if let Some(p) = n.child_by_field_name("parameters") {
                    self.params(p);
                }
            }
            "lambda" => {
                if let Some(p) = n.child_by_field_name("parameters") {
                    self.params(p);
                }
            }
            "call" => self.call(n),
            "decorator" => {
                // `@app.route('/x')`, `@app.delete(...)`: the decorated function is a handler.
                let text = self.text(n);
                let tip = text
                    .trim_start_matches('@')
                    .split('(')
                    .next()
                    .unwrap_or("")
                    .rsplit('.')
                    .next()
                    .unwrap_or("");
                if text.contains('.') && (HANDLER_REGISTRATIONS.contains(&tip) || tip == "task" || tip == "receiver") {
                    if let Some(def) = n.parent().and_then(|p| p.child_by_field_name("definition")) {
                        self.handler_defs.push(def.start_byte());
                    }
                }
            }
            "assignment" | "augmented_assignment" => self.assignment(n),
            "for_statement" | "for_in_clause" => {
                if let (Some(l), Some(r)) = (n.child_by_field_name("left"), n.child_by_field_name("right")) {
                    let v = Val::Elem(Box::new(self.val(r, 0)));
                    for name in self.target_names(l) {
                        self.facts.bind(&name, v.clone());
                    }
                }
            }
            "import_statement" | "import_from_statement" => self.import(n),
            _ => {}
        }
        if self.handler_defs.contains(&n.start_byte()) && n.kind() == "function_definition" {
            if pushed {
                self.ctx.pop();
            }
            self.ctx.push(Ctx::Handler);
            pushed = true;
        }
        let mut cursor = n.walk();
        let children: Vec<Node<'_>> = n.children(&mut cursor).collect();
        for c in children {
            self.walk(c, depth + 1);
        }
        if pushed {
            self.ctx.pop();
        }
    }

    fn params(&mut self, p: Node<'_>) {
        let mut cursor = p.walk();
        for c in p.named_children(&mut cursor) {
            let name = match c.kind() {
                "identifier" => Some(c),
                _ => c.child_by_field_name("name").or_else(|| c.named_child(0)),
            };
            if let Some(name) = name.filter(|n| n.kind() == "identifier") {
                self.facts.params.insert(self.text(name).to_string());
            }
        }
    }

    fn target_names(&self, n: Node<'_>) -> Vec<String> {
        match n.kind() {
            "identifier" => vec![self.text(n).to_string()],
            "pattern_list" | "tuple_pattern" | "list_pattern" | "tuple" | "list" => {
                let mut cursor = n.walk();
                n.named_children(&mut cursor)
                    .flat_map(|c| self.target_names(c))
                    .collect()
            }
            _ => Vec::new(),
        }
    }

    fn assignment(&mut self, n: Node<'_>) {
        let (Some(l), Some(r)) = (n.child_by_field_name("left"), n.child_by_field_name("right")) else {
            return;
        };
        let v = if n.kind() == "augmented_assignment" {
            Val::Other(shorten(self.text(n), 40))
        } else {
            self.val(r, 0)
        };
        let names = self.target_names(l);
        if names.len() == 1 {
            self.facts.bind(&names[0], v);
        } else {
            for name in names {
                self.facts.bind(&name, Val::Other(format!("part of {name}")));
            }
        }
    }

    fn import(&mut self, n: Node<'_>) {
        let text = self.text(n);
        if n.kind() == "import_statement" {
            // `import app.db`, `import sqlite3`
            let mut cursor = n.walk();
            for c in n.children_by_field_name("name", &mut cursor) {
                let module = match c.kind() {
                    "aliased_import" => c.child_by_field_name("name").map(|x| self.text(x)).unwrap_or(""),
                    _ => self.text(c),
                };
                if let Some(d) = dialect_of(module) {
                    self.facts.dialect = Some(d);
                }
                let binding = match c.kind() {
                    "aliased_import" => c.child_by_field_name("alias").map(|x| self.text(x).to_string()),
                    _ => Some(module.split('.').next().unwrap_or(module).to_string()),
                };
                self.facts.imports.push(Import {
                    spec: module.to_string(),
                    names: Vec::new(),
                    binding,
                });
            }
            return;
        }
        let Some(m) = n.child_by_field_name("module_name") else {
            return;
        };
        let module = self.text(m).to_string();
        if let Some(d) = dialect_of(&module) {
            self.facts.dialect = Some(d);
        }
        let mut names = Vec::new();
        let mut cursor = n.walk();
        for c in n.children_by_field_name("name", &mut cursor) {
            let name = match c.kind() {
                "aliased_import" => c.child_by_field_name("name").map(|x| self.text(x)).unwrap_or(""),
                _ => self.text(c),
            };
            names.push(name.to_string());
        }
        if text.contains('*') && names.is_empty() {
            names.push("*".into());
        }
        self.facts.imports.push(Import {
            spec: module,
            names,
            binding: None,
        });
    }

    fn string(&self, n: Node<'_>) -> Val {
        match n.kind() {
            "concatenated_string" => {
                let mut pieces = Vec::new();
                let mut cursor = n.walk();
                for c in n.named_children(&mut cursor) {
                    match self.string(c) {
                        Val::Str(s) => pieces.push(Piece::Lit(s)),
                        Val::Template(p) => pieces.extend(p),
                        _ => {}
                    }
                }
                template(pieces)
            }
            _ => {
                let mut pieces = Vec::new();
                let raw = n
                    .child(0)
                    .is_some_and(|s| self.text(s).to_ascii_lowercase().contains('r'));
                let mut cursor = n.walk();
                for c in n.named_children(&mut cursor) {
                    match c.kind() {
                        "string_content" => pieces.push(Piece::Lit(self.text(c).to_string())),
                        "escape_sequence" if !raw => pieces.push(Piece::Lit(unescape(self.text(c)))),
                        "escape_sequence" => pieces.push(Piece::Lit(self.text(c).to_string())),
                        "interpolation" => {
                            let e = c.child_by_field_name("expression").unwrap_or(c);
                            pieces.push(Piece::Hole(shorten(self.text(e), 40)));
                        }
                        _ => {}
                    }
                }
                template(pieces)
            }
        }
    }

    fn val(&self, n: Node<'_>, depth: usize) -> Val {
        if depth > 8 {
            return Val::Other(shorten(self.text(n), 40));
        }
        match n.kind() {
            "string" | "concatenated_string" => self.string(n),
            "identifier" => Val::Ident(self.text(n).to_string()),
            "true" => Val::Bool(true),
            "false" => Val::Bool(false),
            "none" => Val::Null,
            "integer" | "float" => Val::Num,
            "parenthesized_expression" | "await" => n.named_child(0).map_or(Val::Null, |c| self.val(c, depth + 1)),
            "dictionary" => {
                let mut cursor = n.walk();
                Val::Obj(
                    n.named_children(&mut cursor)
                        .filter(|c| c.kind() == "pair")
                        .map(|p| {
                            let k = p
                                .child_by_field_name("key")
                                .map_or(Val::Null, |k| self.val(k, depth + 1));
                            let key = match k {
                                Val::Str(s) => s,
                                _ => String::new(),
                            };
                            (
                                key,
                                p.child_by_field_name("value")
                                    .map_or(Val::Null, |v| self.val(v, depth + 1)),
                            )
                        })
                        .collect(),
                )
            }
            "list" | "tuple" | "set" => {
                let mut cursor = n.walk();
                Val::Arr(n.named_children(&mut cursor).map(|c| self.val(c, depth + 1)).collect())
            }
            "binary_operator" => {
                let op = n.child_by_field_name("operator").map(|o| self.text(o)).unwrap_or("");
                let l = n.child_by_field_name("left");
                let r = n.child_by_field_name("right");
                match (op, l, r) {
                    ("+", Some(l), Some(r)) => {
                        let mut pieces = Vec::new();
                        for side in [l, r] {
                            match self.val(side, depth + 1) {
                                Val::Str(s) => pieces.push(Piece::Lit(s)),
                                Val::Template(p) => pieces.extend(p),
                                _ => pieces.push(Piece::Hole(shorten(self.text(side), 40))),
                            }
                        }
                        template(pieces)
                    }
                    // `"DELETE FROM %s" % table`: `%s` is a parameter marker to the SQL reader.
                    ("%", Some(l), _) => self.val(l, depth + 1),
                    _ => Val::Other(shorten(self.text(n), 40)),
                }
            }
            "conditional_expression" | "boolean_operator" => {
                let mut cursor = n.walk();
                let kids: Vec<Node<'_>> = n.named_children(&mut cursor).collect();
                // `a if cond else b`: the first and last; `a or b`: both.
                let picks: Vec<Val> = match (n.kind(), kids.as_slice()) {
                    ("conditional_expression", [a, _, b]) => vec![self.val(*a, depth + 1), self.val(*b, depth + 1)],
                    (_, ks) => ks.iter().map(|k| self.val(*k, depth + 1)).collect(),
                };
                Val::Arr(picks)
            }
            "lambda" => Val::Func,
            "call" | "attribute" => Val::Call(Box::new(self.chain(n, depth + 1))),
            _ => Val::Other(shorten(self.text(n), 40)),
        }
    }

    fn args(&self, n: Option<Node<'_>>, depth: usize) -> (Vec<Val>, Vec<(String, Val)>) {
        let mut args = Vec::new();
        let mut kwargs = Vec::new();
        let Some(n) = n else { return (args, kwargs) };
        if n.kind() == "generator_expression" {
            return (vec![Val::Other(shorten(self.text(n), 40))], kwargs);
        }
        let mut cursor = n.walk();
        for c in n.named_children(&mut cursor) {
            match c.kind() {
                "keyword_argument" => {
                    let k = c
                        .child_by_field_name("name")
                        .map(|x| self.text(x).to_string())
                        .unwrap_or_default();
                    let v = c
                        .child_by_field_name("value")
                        .map_or(Val::Null, |v| self.val(v, depth + 1));
                    kwargs.push((k, v));
                }
                "comment" => {}
                _ => args.push(self.val(c, depth + 1)),
            }
        }
        (args, kwargs)
    }

    fn chain(&self, n: Node<'_>, depth: usize) -> Chain {
        let mut segs = Vec::new();
        let mut base = None;
        let mut cur = Some(n);
        for _ in 0..256 {
            let Some(c) = cur else { break };
            cur = match c.kind() {
                "call" => {
                    let (args, kwargs) = self.args(c.child_by_field_name("arguments"), depth);
                    let f = c.child_by_field_name("function");
                    match f.map(|f| (f.kind(), f)) {
                        Some(("identifier", f)) => {
                            segs.push(Seg {
                                name: self.text(f).to_string(),
                                args: Some(args),
                                kwargs,
                            });
                            None
                        }
                        Some(("attribute", f)) => {
                            let name = f.child_by_field_name("attribute").map(|a| self.text(a)).unwrap_or("");
                            segs.push(Seg {
                                name: name.to_string(),
                                args: Some(args),
                                kwargs,
                            });
                            f.child_by_field_name("object")
                        }
                        Some((_, f)) => {
                            segs.push(Seg {
                                name: "()".into(),
                                args: Some(args),
                                kwargs,
                            });
                            Some(f)
                        }
                        None => None,
                    }
                }
                "attribute" => {
                    let name = c.child_by_field_name("attribute").map(|a| self.text(a)).unwrap_or("");
                    segs.push(Seg::prop(name));
                    c.child_by_field_name("object")
                }
                "identifier" => {
                    segs.push(Seg::prop(self.text(c)));
                    None
                }
                "parenthesized_expression" | "await" => c.named_child(0),
                "string" | "concatenated_string" => {
                    base = Some(self.string(c));
                    None
                }
                _ => {
                    base = Some(if depth < 8 {
                        self.val(c, depth + 1)
                    } else {
                        Val::Other(shorten(self.text(c), 40))
                    });
                    None
                }
            };
        }
        Chain::from_tip(
            base,
            segs,
            self.lines.position(n.start_byte()),
            self.text(n),
            self.cur(),
        )
    }

    fn call(&mut self, n: Node<'_>) {
        let range = (n.start_byte(), n.end_byte());
        if self.consumed.contains(&range) {
            return;
        }
        let chain = self.chain(n, 0);
        // The calls on the function path belong to this chain.
        let mut f = n.child_by_field_name("function");
        while let Some(x) = f {
            f = match x.kind() {
                "call" => {
                    self.consumed.push((x.start_byte(), x.end_byte()));
                    x.child_by_field_name("function")
                }
                "attribute" => x.child_by_field_name("object"),
                "parenthesized_expression" | "await" => x.named_child(0),
                _ => None,
            };
        }
        self.facts.record(chain);
    }
}

fn unescape(s: &str) -> String {
    match s {
        "\\n" => "\n".into(),
        "\\t" => "\t".into(),
        "\\r" => "\r".into(),
        "\\\\" => "\\".into(),
        "\\'" => "'".into(),
        "\\\"" => "\"".into(),
        other => other.to_string(),
    }
}
