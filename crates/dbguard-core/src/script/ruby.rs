//! Ruby front-end: tree-sitter's Ruby grammar (seeds, `rails runner` scripts, `ruby x.rb`).
//! In Ruby every method call is a `call` node, with or without parentheses:
//! `User.delete_all`, `execute "TRUNCATE users"`, `` `dropdb app` ``.

use tree_sitter::{Node, Parser};

use super::ir::{shorten, template, Chain, Ctx, Facts, Import, Piece, Seg, Val};
use super::lines::Lines;
use super::python::first_error;
use crate::sql::Dialect;

const MAX_DEPTH: usize = 400;

pub fn extract(src: &str) -> Facts {
    let mut parser = Parser::new();
    if parser.set_language(&tree_sitter_ruby::LANGUAGE.into()).is_err() {
        return Facts {
            error: Some("the Ruby grammar could not be loaded".into()),
            ..Facts::default()
        };
    }
    let Some(tree) = parser.parse(src, None) else {
        return Facts {
            error: Some("the Ruby parser gave up".into()),
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
    };
    if root.has_error() {
        w.facts.error = Some(first_error(root, &w.lines));
    }
    w.walk(root, 0);
    w.facts
}

struct Walker<'s> {
    src: &'s str,
    lines: Lines,
    facts: Facts,
    ctx: Vec<Ctx>,
    consumed: Vec<(usize, usize)>,
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
            "method" | "singleton_method" | "class" | "module" => {
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
            "block_parameters" | "lambda_parameters" => self.params(n),
            "call" => self.call(n),
            "subshell" => {
                // `` `dropdb app` ``: a command for the shell.
                let chain = self.chain_with(Seg::call("`", vec![self.string(n)]), n);
                self.facts.chains.push(chain);
            }
            "assignment" => {
                if let (Some(l), Some(r)) = (n.child_by_field_name("left"), n.child_by_field_name("right")) {
                    if matches!(l.kind(), "identifier" | "constant" | "instance_variable") {
                        let v = self.val(r, 0);
                        self.facts.bind(self.text(l), v);
                    }
                }
            }
            "operator_assignment" => {
                if let Some(l) = n.child_by_field_name("left") {
                    self.facts.bind(self.text(l), Val::Other(shorten(self.text(n), 40)));
                }
            }
            "for" => {
                if let (Some(p), Some(v)) = (n.child_by_field_name("pattern"), n.child_by_field_name("value")) {
                    let v = v.named_child(0).unwrap_or(v);
                    let elems = Val::Elem(Box::new(self.val(v, 0)));
                    self.facts.bind(self.text(p), elems);
                }
            }
            _ => {}
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
            let name = if c.kind() == "identifier" {
                Some(c)
            } else {
                c.child_by_field_name("name")
            };
            if let Some(name) = name {
                self.facts.params.insert(self.text(name).to_string());
            }
        }
    }

    fn string(&self, n: Node<'_>) -> Val {
        let mut pieces = Vec::new();
        let mut cursor = n.walk();
        for c in n.named_children(&mut cursor) {
            match c.kind() {
                "string_content" | "heredoc_content" => pieces.push(Piece::Lit(self.text(c).to_string())),
                "escape_sequence" => pieces.push(Piece::Lit(match self.text(c) {
                    "\\n" => "\n".to_string(),
                    "\\t" => "\t".to_string(),
                    "\\\"" => "\"".to_string(),
                    "\\'" => "'".to_string(),
                    other => other.to_string(),
                })),
                "interpolation" => {
                    let e = c.named_child(0).unwrap_or(c);
                    pieces.push(Piece::Hole(shorten(self.text(e), 40)));
                }
                _ => {}
            }
        }
        template(pieces)
    }

    fn val(&self, n: Node<'_>, depth: usize) -> Val {
        if depth > 8 {
            return Val::Other(shorten(self.text(n), 40));
        }
        match n.kind() {
            "string" | "subshell" => self.string(n),
            "chained_string" => {
                let mut pieces = Vec::new();
                let mut cursor = n.walk();
                for c in n.named_children(&mut cursor) {
                    match self.string(c) {
                        Val::Str(s) => pieces.push(Piece::Lit(s)),
                        Val::Template(p) => pieces.extend(p),
                        _ => {}
                    }
                }
                Val::Template(pieces)
            }
            "heredoc_beginning" => Val::Other("a heredoc".into()),
            "simple_symbol" => Val::Str(self.text(n).trim_start_matches(':').to_string()),
            "identifier" | "constant" | "instance_variable" => Val::Ident(self.text(n).to_string()),
            "true" => Val::Bool(true),
            "false" => Val::Bool(false),
            "nil" => Val::Null,
            "integer" | "float" => Val::Num,
            "parenthesized_statements" => n.named_child(0).map_or(Val::Null, |c| self.val(c, depth + 1)),
            "hash" => {
                let mut cursor = n.walk();
                Val::Obj(
                    n.named_children(&mut cursor)
                        .filter(|c| c.kind() == "pair")
                        .map(|p| self.pair(p, depth))
                        .collect(),
                )
            }
            "array" => {
                let mut cursor = n.walk();
                Val::Arr(n.named_children(&mut cursor).map(|c| self.val(c, depth + 1)).collect())
            }
            "string_array" => {
                let mut cursor = n.walk();
                Val::Arr(
                    n.named_children(&mut cursor)
                        .map(|c| Val::Str(self.text(c).to_string()))
                        .collect(),
                )
            }
            "binary" => {
                let op = n.child_by_field_name("operator").map(|o| self.text(o)).unwrap_or("");
                match (op, n.child_by_field_name("left"), n.child_by_field_name("right")) {
                    ("+", Some(l), Some(r)) => {
                        let mut pieces = Vec::new();
                        for side in [l, r] {
                            match self.val(side, depth + 1) {
                                Val::Str(s) => pieces.push(Piece::Lit(s)),
                                Val::Template(p) => pieces.extend(p),
                                _ => pieces.push(Piece::Hole(shorten(self.text(side), 40))),
                            }
                        }
                        Val::Template(pieces)
                    }
                    _ => Val::Other(shorten(self.text(n), 40)),
                }
            }
            "lambda" | "block" | "do_block" => Val::Func,
            "call" | "scope_resolution" => Val::Call(Box::new(self.chain(n, depth + 1))),
            _ => Val::Other(shorten(self.text(n), 40)),
        }
    }

    fn pair(&self, p: Node<'_>, depth: usize) -> (String, Val) {
        let key = p
            .child_by_field_name("key")
            .map(|k| {
                self.text(k)
                    .trim_start_matches(':')
                    .trim_end_matches(':')
                    .trim_matches('"')
                    .to_string()
            })
            .unwrap_or_default();
        let v = p
            .child_by_field_name("value")
            .map_or(Val::Null, |v| self.val(v, depth + 1));
        (key, v)
    }

    fn args(&self, n: Option<Node<'_>>, depth: usize) -> Vec<Val> {
        let Some(n) = n else { return Vec::new() };
        let mut out = Vec::new();
        let mut kw = Vec::new();
        let mut cursor = n.walk();
        for c in n.named_children(&mut cursor) {
            match c.kind() {
                "pair" => kw.push(self.pair(c, depth)),
                "comment" | "block_argument" => {}
                _ => out.push(self.val(c, depth + 1)),
            }
        }
        if !kw.is_empty() {
            // Ruby keyword arguments are one trailing hash.
            out.push(Val::Obj(kw));
        }
        out
    }

    fn chain_with(&self, first: Seg, n: Node<'_>) -> Chain {
        Chain::from_tip(
            None,
            vec![first],
            self.lines.position(n.start_byte()),
            self.text(n),
            self.cur(),
        )
    }

    fn chain(&self, n: Node<'_>, depth: usize) -> Chain {
        let mut segs = Vec::new();
        let mut base = None;
        let mut cur = Some(n);
        for _ in 0..256 {
            let Some(c) = cur else { break };
            cur = match c.kind() {
                "call" => {
                    let name = c.child_by_field_name("method").map(|m| self.text(m)).unwrap_or("");
                    let args = self.args(c.child_by_field_name("arguments"), depth);
                    segs.push(Seg::call(name, args));
                    c.child_by_field_name("receiver")
                }
                "scope_resolution" => {
                    // `ActiveRecord::Base`: one name.
                    segs.push(Seg::prop(self.text(c)));
                    None
                }
                "identifier" | "constant" | "instance_variable" | "self" => {
                    segs.push(Seg::prop(self.text(c)));
                    None
                }
                "parenthesized_statements" => c.named_child(0),
                "string" => {
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
        let method = n.child_by_field_name("method").map(|m| self.text(m)).unwrap_or("");
        // `require_relative 'lib/wipe'`, `require './wipe'`, `load 'x.rb'`.
        if matches!(method, "require_relative" | "require" | "load") && n.child_by_field_name("receiver").is_none() {
            if let Some(Val::Str(spec)) = self.args(n.child_by_field_name("arguments"), 0).first() {
                match spec.as_str() {
                    "sqlite3" => self.facts.dialect = Some(Dialect::Sqlite),
                    "mysql2" => self.facts.dialect = Some(Dialect::Mysql),
                    "pg" => self.facts.dialect = Some(Dialect::Postgres),
                    _ => {}
                }
                if method == "require_relative" || spec.starts_with('.') {
                    let spec = if method == "require_relative" && !spec.starts_with('.') {
                        format!("./{spec}")
                    } else {
                        spec.clone()
                    };
                    self.facts.imports.push(Import {
                        spec,
                        names: vec!["*".into()],
                        binding: None,
                    });
                }
            }
        }
        let chain = self.chain(n, 0);
        let mut r = n.child_by_field_name("receiver");
        while let Some(x) = r {
            r = match x.kind() {
                "call" => {
                    self.consumed.push((x.start_byte(), x.end_byte()));
                    x.child_by_field_name("receiver")
                }
                "parenthesized_statements" => x.named_child(0),
                _ => None,
            };
        }
        self.facts.record(chain);
    }
}
