//! JavaScript and TypeScript front-end: oxc parses the file (JS, JSX, TS, TSX by extension),
//! and one visitor collects the call chains, bindings, imports and function contexts that
//! the rules need.

use std::collections::HashSet;

use oxc_allocator::Allocator;
use oxc_ast::ast::*;
use oxc_ast_visit::{walk, Visit};
use oxc_span::{GetSpan, SourceType, Span};
use oxc_syntax::scope::ScopeFlags;

use super::ir::{shorten, Chain, Ctx, Facts, Import, Piece, Seg, Val, HANDLER_REGISTRATIONS};
use super::lines::Lines;
use crate::sql::Dialect;

/// How a file is parsed.
fn source_type(path: &str, typescript: bool) -> SourceType {
    let ext = path.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "ts" | "mts" | "cts" => SourceType::ts(),
        "tsx" => SourceType::tsx(),
        "mjs" => SourceType::mjs().with_jsx(true),
        "cjs" => SourceType::cjs().with_jsx(true),
        _ if typescript => SourceType::tsx().with_unambiguous(true),
        _ => SourceType::unambiguous().with_jsx(true),
    }
}

/// Extract the facts of one JavaScript/TypeScript file. `typescript` for inline code given
/// to a TypeScript runner (`tsx -e`, `deno eval`).
pub fn extract(src: &str, path: &str, typescript: bool) -> Facts {
    let alloc = Allocator::default();
    let mut st = source_type(path, typescript);
    let ret = oxc_parser::Parser::new(&alloc, src, st).parse();
    if (ret.panicked || !ret.diagnostics.is_empty()) && !st.is_typescript() {
        // `bun x.js` and friends accept TypeScript syntax too.
        let alloc2 = Allocator::default();
        st = SourceType::tsx().with_unambiguous(true);
        let ret2 = oxc_parser::Parser::new(&alloc2, src, st).parse();
        if !ret2.panicked && ret2.diagnostics.is_empty() {
            return visit(src, &ret2.program, None);
        }
    }
    let error = if ret.panicked || !ret.diagnostics.is_empty() {
        Some(
            ret.diagnostics
                .first()
                .map(|d| d.to_string())
                .unwrap_or_else(|| "the parser gave up".into()),
        )
    } else {
        None
    };
    visit(src, &ret.program, error)
}

fn visit(src: &str, program: &Program<'_>, error: Option<String>) -> Facts {
    let mut v = Visitor {
        src,
        lines: Lines::new(src),
        facts: Facts {
            error,
            ..Facts::default()
        },
        ctx: vec![Ctx::Top],
        pending_name: None,
        iife: false,
        consumed: HashSet::new(),
        depth: 0,
    };
    v.visit_program(program);
    v.facts
}

struct Visitor<'s> {
    src: &'s str,
    lines: Lines,
    facts: Facts,
    ctx: Vec<Ctx>,
    /// The name a function about to be entered is known by (declarator, property, export).
    pending_name: Option<String>,
    /// The function about to be entered is called right away.
    iife: bool,
    /// Calls that belong to a longer chain already recorded.
    consumed: HashSet<(u32, u32)>,
    depth: usize,
}

/// Nesting deeper than this is not descended into (hostile input).
const MAX_DEPTH: usize = 400;

fn key_of(s: Span) -> (u32, u32) {
    (s.start, s.end)
}

fn inner<'b, 'a>(e: &'b Expression<'a>) -> &'b Expression<'a> {
    e.get_inner_expression()
}

fn is_function(e: &Expression<'_>) -> bool {
    matches!(
        inner(e),
        Expression::FunctionExpression(_) | Expression::ArrowFunctionExpression(_)
    )
}

fn dialect_of(spec: &str) -> Option<Dialect> {
    match spec {
        "better-sqlite3" | "sqlite3" | "sqlite" | "bun:sqlite" | "node:sqlite" | "@libsql/client" | "sql.js"
        | "libsql" => Some(Dialect::Sqlite),
        "mysql" | "mysql2" | "mysql2/promise" | "mariadb" | "@planetscale/database" => Some(Dialect::Mysql),
        "pg" | "postgres" | "@neondatabase/serverless" | "@vercel/postgres" | "pg-promise" | "slonik" => {
            Some(Dialect::Postgres)
        }
        _ => None,
    }
}

impl<'s> Visitor<'s> {
    fn text(&self, span: Span) -> &'s str {
        self.src.get(span.start as usize..span.end as usize).unwrap_or("")
    }

    fn cur(&self) -> Ctx {
        self.ctx.last().cloned().unwrap_or(Ctx::Top)
    }

    /// Entering a function: named at top level, it becomes a context of its own.
    fn enter_fn(&mut self, own: Option<String>) -> bool {
        let name = self.pending_name.take().or(own);
        if std::mem::take(&mut self.iife) {
            return false;
        }
        if self.cur() == Ctx::Top {
            if let Some(n) = name {
                self.ctx.push(Ctx::Func(n));
                return true;
            }
        }
        false
    }

    fn note_import(&mut self, spec: &str, names: Vec<String>, binding: Option<String>) {
        if let Some(d) = dialect_of(spec) {
            self.facts.dialect = Some(d);
        }
        if spec.starts_with('.') || spec.starts_with('/') {
            self.facts.imports.push(Import {
                spec: spec.to_string(),
                names,
                binding,
            });
        }
    }

    fn require_spec(e: &Expression<'_>) -> Option<String> {
        if let Expression::CallExpression(c) = inner(e) {
            if c.callee.is_specific_id("require") {
                if let Some(Argument::StringLiteral(s)) = c.arguments.first() {
                    return Some(s.value.to_string());
                }
            }
        }
        None
    }

    /// A value as far as the source shows it.
    fn val(&self, e: &Expression<'_>, depth: usize) -> Val {
        if depth > 8 {
            return Val::Other(shorten(self.text(e.span()), 40));
        }
        match inner(e) {
            Expression::StringLiteral(s) => Val::Str(s.value.to_string()),
            Expression::TemplateLiteral(t) => self.template(t),
            Expression::Identifier(id) if id.name == "undefined" => Val::Null,
            Expression::Identifier(id) => Val::Ident(id.name.to_string()),
            Expression::BooleanLiteral(b) => Val::Bool(b.value),
            Expression::NullLiteral(_) => Val::Null,
            Expression::NumericLiteral(_) | Expression::BigIntLiteral(_) => Val::Num,
            Expression::BinaryExpression(b) if b.operator == BinaryOperator::Addition => {
                let mut pieces = Vec::new();
                self.concat(e, &mut pieces, depth);
                match pieces.as_slice() {
                    [Piece::Lit(s)] => Val::Str(s.clone()),
                    _ => Val::Template(pieces),
                }
            }
            Expression::ObjectExpression(o) => Val::Obj(
                o.properties
                    .iter()
                    .map(|p| match p {
                        ObjectPropertyKind::ObjectProperty(p) => (
                            p.key.static_name().map(|n| n.to_string()).unwrap_or_default(),
                            self.val(&p.value, depth + 1),
                        ),
                        ObjectPropertyKind::SpreadProperty(s) => {
                            ("...".to_string(), Val::Other(shorten(self.text(s.span), 40)))
                        }
                    })
                    .collect(),
            ),
            Expression::ArrayExpression(a) => Val::Arr(
                a.elements
                    .iter()
                    .filter_map(|el| el.as_expression().map(|x| self.val(x, depth + 1)))
                    .collect(),
            ),
            Expression::ConditionalExpression(c) => Val::Arr(vec![
                self.val(&c.consequent, depth + 1),
                self.val(&c.alternate, depth + 1),
            ]),
            Expression::LogicalExpression(l) => {
                Val::Arr(vec![self.val(&l.left, depth + 1), self.val(&l.right, depth + 1)])
            }
            Expression::AwaitExpression(a) => self.val(&a.argument, depth + 1),
            Expression::FunctionExpression(_) | Expression::ArrowFunctionExpression(_) => Val::Func,
            Expression::CallExpression(_)
            | Expression::StaticMemberExpression(_)
            | Expression::ComputedMemberExpression(_)
            | Expression::TaggedTemplateExpression(_)
            | Expression::NewExpression(_)
            | Expression::ChainExpression(_)
            | Expression::ThisExpression(_) => Val::Call(Box::new(self.chain(e, depth + 1))),
            other => Val::Other(shorten(self.text(other.span()), 40)),
        }
    }

    fn template(&self, t: &TemplateLiteral<'_>) -> Val {
        if t.expressions.is_empty() {
            let s = t
                .quasis
                .first()
                .map(|q| q.value.cooked.as_ref().unwrap_or(&q.value.raw).to_string())
                .unwrap_or_default();
            return Val::Str(s);
        }
        let mut pieces = Vec::new();
        for (i, q) in t.quasis.iter().enumerate() {
            let s = q.value.cooked.as_ref().unwrap_or(&q.value.raw).to_string();
            if !s.is_empty() {
                pieces.push(Piece::Lit(s));
            }
            if let Some(e) = t.expressions.get(i) {
                pieces.push(Piece::Hole(shorten(self.text(e.span()), 40)));
            }
        }
        Val::Template(pieces)
    }

    /// `'DELETE FROM ' + table + ' WHERE ...'` flattened into pieces.
    fn concat(&self, e: &Expression<'_>, out: &mut Vec<Piece>, depth: usize) {
        match inner(e) {
            Expression::BinaryExpression(b) if b.operator == BinaryOperator::Addition && depth < 64 => {
                self.concat(&b.left, out, depth + 1);
                self.concat(&b.right, out, depth + 1);
            }
            Expression::StringLiteral(s) => push_lit(out, &s.value),
            Expression::TemplateLiteral(t) => match self.template(t) {
                Val::Str(s) => push_lit(out, &s),
                Val::Template(p) => out.extend(p),
                _ => {}
            },
            other => out.push(Piece::Hole(shorten(self.text(other.span()), 40))),
        }
    }

    fn args(&self, args: &[Argument<'_>], depth: usize) -> Vec<Val> {
        args.iter()
            .map(|a| match a.as_expression() {
                Some(x) => self.val(x, depth + 1),
                None => Val::Other("...".into()),
            })
            .collect()
    }

    /// One call of a chain; the expression the chain continues with, if any.
    fn call_seg<'b, 'a>(
        &self,
        c: &'b CallExpression<'a>,
        segs: &mut Vec<Seg>,
        depth: usize,
    ) -> Option<&'b Expression<'a>> {
        let args = self.args(&c.arguments, depth);
        let callee = inner(&c.callee);
        match callee {
            Expression::Identifier(id) => {
                segs.push(Seg::call(id.name.as_str(), args));
                None
            }
            _ => match callee.as_member_expression() {
                Some(m) => {
                    segs.push(Seg::call(m.static_property_name().unwrap_or("[]"), args));
                    Some(inner(m.object()))
                }
                None => {
                    segs.push(Seg::call("()", args));
                    Some(callee)
                }
            },
        }
    }

    fn tagged_seg<'b, 'a>(
        &self,
        t: &'b TaggedTemplateExpression<'a>,
        segs: &mut Vec<Seg>,
    ) -> Option<&'b Expression<'a>> {
        let arg = self.template(&t.quasi);
        let tag = inner(&t.tag);
        match tag {
            Expression::Identifier(id) => {
                segs.push(Seg::call(id.name.as_str(), vec![arg]));
                None
            }
            _ => match tag.as_member_expression() {
                Some(m) => {
                    segs.push(Seg::call(m.static_property_name().unwrap_or("[]"), vec![arg]));
                    Some(inner(m.object()))
                }
                None => {
                    segs.push(Seg::call("``", vec![arg]));
                    Some(tag)
                }
            },
        }
    }

    /// The chain an expression is the end of, base first.
    fn chain(&self, e: &Expression<'_>, depth: usize) -> Chain {
        self.chain_from(Some(inner(e)), Vec::new(), e.span(), depth)
    }

    fn chain_from(&self, start: Option<&Expression<'_>>, mut segs: Vec<Seg>, span: Span, depth: usize) -> Chain {
        let mut base = None;
        let mut next = start;
        for _ in 0..256 {
            let Some(cur) = next else { break };
            next = match cur {
                Expression::CallExpression(c) => self.call_seg(c, &mut segs, depth),
                Expression::TaggedTemplateExpression(t) => self.tagged_seg(t, &mut segs),
                Expression::ChainExpression(ch) => match &ch.expression {
                    ChainElement::CallExpression(c) => self.call_seg(c, &mut segs, depth),
                    other => match other.as_member_expression() {
                        Some(m) => {
                            segs.push(Seg::prop(m.static_property_name().unwrap_or("[]")));
                            Some(inner(m.object()))
                        }
                        None => None,
                    },
                },
                Expression::Identifier(id) => {
                    segs.push(Seg::prop(id.name.as_str()));
                    None
                }
                Expression::ThisExpression(_) => {
                    segs.push(Seg::prop("this"));
                    None
                }
                Expression::NewExpression(n) => {
                    let args = self.args(&n.arguments, depth);
                    let name = match inner(&n.callee) {
                        Expression::Identifier(id) => id.name.to_string(),
                        other => other
                            .as_member_expression()
                            .and_then(|m| m.static_property_name())
                            .unwrap_or("new")
                            .to_string(),
                    };
                    segs.push(Seg::call(name, args));
                    None
                }
                Expression::StringLiteral(s) => {
                    base = Some(Val::Str(s.value.to_string()));
                    None
                }
                other => match other.as_member_expression() {
                    Some(m) => {
                        segs.push(Seg::prop(m.static_property_name().unwrap_or("[]")));
                        Some(inner(m.object()))
                    }
                    None => {
                        base = Some(if depth < 8 {
                            self.val(other, depth + 1)
                        } else {
                            Val::Other(shorten(self.text(other.span()), 40))
                        });
                        None
                    }
                },
            };
        }
        Chain::from_tip(
            base,
            segs,
            self.lines.position(span.start as usize),
            self.text(span),
            self.cur(),
        )
    }

    /// Mark the calls on the callee path of `e` as part of its chain.
    fn consume_callee_path(&mut self, e: &Expression<'_>) {
        let mut cur = inner(e);
        for _ in 0..256 {
            let next = match cur {
                Expression::CallExpression(c) => {
                    self.consumed.insert(key_of(c.span));
                    &c.callee
                }
                Expression::TaggedTemplateExpression(t) => {
                    self.consumed.insert(key_of(t.span));
                    &t.tag
                }
                Expression::ChainExpression(ch) => match &ch.expression {
                    ChainElement::CallExpression(c) => {
                        self.consumed.insert(key_of(c.span));
                        &c.callee
                    }
                    _ => break,
                },
                other => match other.as_member_expression() {
                    Some(m) => m.object(),
                    None => break,
                },
            };
            cur = inner(next);
        }
    }

    fn record_chain(&mut self, chain: Chain, callee: &Expression<'_>) {
        self.consume_callee_path(callee);
        self.facts.record(chain);
    }

    fn bind_pattern(&mut self, p: &BindingPattern<'_>, v: Val) {
        match p {
            BindingPattern::BindingIdentifier(id) => self.facts.bind(&id.name, v),
            BindingPattern::AssignmentPattern(a) => self.bind_pattern(&a.left, v),
            _ => {
                for id in p.get_binding_identifiers() {
                    self.facts.bind(&id.name, Val::Other(format!("part of {}", id.name)));
                }
            }
        }
    }
}

fn push_lit(out: &mut Vec<Piece>, s: &str) {
    if let Some(Piece::Lit(prev)) = out.last_mut() {
        prev.push_str(s);
    } else {
        out.push(Piece::Lit(s.to_string()));
    }
}

impl<'a> Visit<'a> for Visitor<'_> {
    fn visit_expression(&mut self, it: &Expression<'a>) {
        self.depth += 1;
        if self.depth < MAX_DEPTH {
            walk::walk_expression(self, it);
        }
        self.depth -= 1;
    }

    fn visit_statement(&mut self, it: &Statement<'a>) {
        self.depth += 1;
        if self.depth < MAX_DEPTH {
            walk::walk_statement(self, it);
        }
        self.depth -= 1;
    }

    fn visit_call_expression(&mut self, it: &CallExpression<'a>) {
        // The outermost call of a chain records it; the calls on its callee path are part of it.
        if !self.consumed.contains(&key_of(it.span)) {
            let mut segs = Vec::new();
            let next = self.call_seg(it, &mut segs, 0);
            let chain = self.chain_from(next, segs, it.span, 0);
            self.record_chain(chain, &it.callee);
        }
        let callee = inner(&it.callee);
        let tip = match callee {
            Expression::Identifier(id) => Some(id.name.as_str()),
            other => other.as_member_expression().and_then(|m| m.static_property_name()),
        };
        let registration =
            callee.as_member_expression().is_some() && tip.is_some_and(|t| HANDLER_REGISTRATIONS.contains(&t));
        // `require('./x')` on its own, or `import('./x')`.
        if callee.is_specific_id("require") {
            if let Some(Argument::StringLiteral(s)) = it.arguments.first() {
                let spec = s.value.to_string();
                if !self.facts.imports.iter().any(|i| i.spec == spec) {
                    self.note_import(&spec, vec!["*".into()], None);
                }
            }
        }
        // `stmts.forEach(s => db.query(s))`: the callback's parameter is an element.
        if let (Some(t), Some(m)) = (tip, callee.as_member_expression()) {
            if matches!(
                t,
                "forEach" | "map" | "flatMap" | "every" | "some" | "reduce" | "filter"
            ) {
                let idx = usize::from(t == "reduce");
                if let Some(Expression::ArrowFunctionExpression(f)) =
                    it.arguments.first().and_then(|a| a.as_expression()).map(inner)
                {
                    if let Some(p) = f.params.items.get(idx) {
                        if let BindingPattern::BindingIdentifier(id) = &p.pattern {
                            let elems = Val::Elem(Box::new(self.val(m.object(), 0)));
                            self.facts.bind(&id.name, elems);
                        }
                    }
                }
            }
        }
        self.iife = is_function(callee);
        self.visit_expression(&it.callee);
        self.iife = false;
        for a in &it.arguments {
            let handler = registration && a.as_expression().is_some_and(is_function);
            if handler {
                self.ctx.push(Ctx::Handler);
            }
            self.visit_argument(a);
            if handler {
                self.ctx.pop();
            }
        }
    }

    fn visit_tagged_template_expression(&mut self, it: &TaggedTemplateExpression<'a>) {
        if !self.consumed.contains(&key_of(it.span)) {
            let mut segs = Vec::new();
            let next = self.tagged_seg(it, &mut segs);
            let chain = self.chain_from(next, segs, it.span, 0);
            self.record_chain(chain, &it.tag);
        }
        walk::walk_tagged_template_expression(self, it);
    }

    fn visit_variable_declarator(&mut self, it: &VariableDeclarator<'a>) {
        if let Some(init) = &it.init {
            if let Some(spec) = Self::require_spec(init) {
                match &it.id {
                    BindingPattern::BindingIdentifier(id) => {
                        self.note_import(&spec, Vec::new(), Some(id.name.to_string()))
                    }
                    BindingPattern::ObjectPattern(o) => {
                        let names = o
                            .properties
                            .iter()
                            .filter_map(|p| p.key.static_name().map(|n| n.to_string()))
                            .collect();
                        self.note_import(&spec, names, None);
                    }
                    _ => self.note_import(&spec, vec!["*".into()], None),
                }
            }
            let v = self.val(init, 0);
            self.bind_pattern(&it.id, v);
            if is_function(init) {
                if let BindingPattern::BindingIdentifier(id) = &it.id {
                    self.pending_name = Some(id.name.to_string());
                }
            }
        }
        walk::walk_variable_declarator(self, it);
        self.pending_name = None;
    }

    fn visit_assignment_expression(&mut self, it: &AssignmentExpression<'a>) {
        let v = if it.operator == AssignmentOperator::Assign {
            self.val(&it.right, 0)
        } else {
            Val::Other(shorten(self.text(it.span), 40))
        };
        match &it.left {
            AssignmentTarget::AssignmentTargetIdentifier(id) => self.facts.bind(&id.name, v),
            other => {
                if let Some(m) = other.as_member_expression() {
                    if m.static_property_name() == Some("exports") && m.object().is_specific_id("module") {
                        self.facts.exported.push(self.val(&it.right, 0));
                    }
                    if let Some(n) = m.static_property_name() {
                        if is_function(&it.right) {
                            // `exports.seed = async function () {...}`
                            self.pending_name = Some(n.to_string());
                        }
                        if let Expression::ObjectExpression(_) = inner(&it.right) {
                            // `module.exports = { up() {...} }`: the properties name themselves.
                        }
                    }
                }
            }
        }
        walk::walk_assignment_expression(self, it);
        self.pending_name = None;
    }

    fn visit_object_property(&mut self, it: &ObjectProperty<'a>) {
        if self.cur() == Ctx::Top && is_function(&it.value) {
            self.pending_name = it.key.static_name().map(|n| n.to_string());
        }
        walk::walk_object_property(self, it);
        self.pending_name = None;
    }

    fn visit_method_definition(&mut self, it: &MethodDefinition<'a>) {
        if self.cur() == Ctx::Top {
            self.pending_name = it.key.static_name().map(|n| n.to_string());
        }
        walk::walk_method_definition(self, it);
        self.pending_name = None;
    }

    fn visit_function(&mut self, it: &Function<'a>, flags: ScopeFlags) {
        let pushed = self.enter_fn(it.id.as_ref().map(|i| i.name.to_string()));
        walk::walk_function(self, it, flags);
        if pushed {
            self.ctx.pop();
        }
    }

    fn visit_arrow_function_expression(&mut self, it: &ArrowFunctionExpression<'a>) {
        let pushed = self.enter_fn(None);
        walk::walk_arrow_function_expression(self, it);
        if pushed {
            self.ctx.pop();
        }
    }

    fn visit_class(&mut self, it: &Class<'a>) {
        let pushed = if self.cur() == Ctx::Top {
            match self
                .pending_name
                .take()
                .or_else(|| it.id.as_ref().map(|i| i.name.to_string()))
            {
                Some(n) => {
                    self.ctx.push(Ctx::Func(n));
                    true
                }
                None => false,
            }
        } else {
            false
        };
        walk::walk_class(self, it);
        if pushed {
            self.ctx.pop();
        }
    }

    fn visit_formal_parameter(&mut self, it: &FormalParameter<'a>) {
        for id in it.pattern.get_binding_identifiers() {
            self.facts.params.insert(id.name.to_string());
        }
        walk::walk_formal_parameter(self, it);
    }

    fn visit_for_of_statement(&mut self, it: &ForOfStatement<'a>) {
        let elems = Val::Elem(Box::new(self.val(&it.right, 0)));
        if let ForStatementLeft::VariableDeclaration(d) = &it.left {
            for decl in &d.declarations {
                self.bind_pattern(&decl.id, elems.clone());
            }
        } else if let ForStatementLeft::AssignmentTargetIdentifier(id) = &it.left {
            self.facts.bind(&id.name, elems);
        }
        walk::walk_for_of_statement(self, it);
    }

    fn visit_import_declaration(&mut self, it: &ImportDeclaration<'a>) {
        let spec = it.source.value.to_string();
        let mut names = Vec::new();
        let mut binding = None;
        for s in it.specifiers.iter().flatten() {
            match s {
                ImportDeclarationSpecifier::ImportSpecifier(s) => names.push(s.imported.name().to_string()),
                ImportDeclarationSpecifier::ImportDefaultSpecifier(s) => {
                    names.push("default".into());
                    binding = Some(s.local.name.to_string());
                }
                ImportDeclarationSpecifier::ImportNamespaceSpecifier(s) => binding = Some(s.local.name.to_string()),
            }
        }
        if it.specifiers.is_none() {
            names.push("*".into());
        }
        self.note_import(&spec, names, binding);
        walk::walk_import_declaration(self, it);
    }

    fn visit_import_expression(&mut self, it: &ImportExpression<'a>) {
        if let Expression::StringLiteral(s) = inner(&it.source) {
            self.note_import(s.value.as_ref(), vec!["*".into()], None);
        }
        walk::walk_import_expression(self, it);
    }

    fn visit_export_all_declaration(&mut self, it: &ExportAllDeclaration<'a>) {
        self.note_import(it.source.value.as_ref(), vec!["*".into()], None);
        walk::walk_export_all_declaration(self, it);
    }

    fn visit_export_from_declaration(&mut self, it: &ExportFromDeclaration<'a>) {
        self.note_import(it.source.value.as_ref(), vec!["*".into()], None);
        walk::walk_export_from_declaration(self, it);
    }

    fn visit_export_default_declaration(&mut self, it: &ExportDefaultDeclaration<'a>) {
        if self.cur() == Ctx::Top {
            self.pending_name = Some("default".into());
        }
        if let Some(e) = it.declaration.as_expression() {
            let v = self.val(e, 0);
            self.facts.exported.push(v);
        }
        walk::walk_export_default_declaration(self, it);
        self.pending_name = None;
    }
}
