//! What a language front-end hands to the rules: the file's call chains, what its names are
//! bound to, its imports and which functions call which. The same small vocabulary for every
//! language, so the rules ([`super::rules`]) are written once.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::sql::Dialect;

/// A value as far as the file shows it.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Str(String),
    /// Literal text with holes filled at run time (`${expr}`, f-string `{x}`, `#{x}`).
    Template(Vec<Piece>),
    Ident(String),
    /// An object, dict or hash literal: key and value (a spread is the key `...`).
    Obj(Vec<(String, Val)>),
    Arr(Vec<Val>),
    Bool(bool),
    Null,
    Num,
    /// A call used as a value (`text("...")`, `fs.readFileSync(...)`, `knex("users")`).
    Call(Box<Chain>),
    /// An element of what a loop iterates over (`for (const s of stmts)`).
    Elem(Box<Val>),
    /// A function or lambda.
    Func,
    /// Anything else, with its source text (shortened).
    Other(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    Lit(String),
    /// The source text of the expression in the hole.
    Hole(String),
}

/// One step of a call chain: a property access (`args` None) or a call.
#[derive(Debug, Clone, PartialEq)]
pub struct Seg {
    pub name: String,
    pub args: Option<Vec<Val>>,
    /// Keyword arguments (Python `name=value`), kept apart from positional ones.
    pub kwargs: Vec<(String, Val)>,
}

impl Seg {
    pub fn prop(name: impl Into<String>) -> Seg {
        Seg {
            name: name.into(),
            args: None,
            kwargs: Vec::new(),
        }
    }

    pub fn call(name: impl Into<String>, args: Vec<Val>) -> Seg {
        Seg {
            name: name.into(),
            args: Some(args),
            kwargs: Vec::new(),
        }
    }

    pub fn is_call(&self) -> bool {
        self.args.is_some()
    }

    pub fn argc(&self) -> usize {
        self.args.as_ref().map_or(0, Vec::len) + self.kwargs.len()
    }

    pub fn arg(&self, i: usize) -> Option<&Val> {
        self.args.as_ref().and_then(|a| a.get(i))
    }
}

/// Where a piece of code sits, which decides whether running the file runs it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "name")]
pub enum Ctx {
    /// Module-level code: runs when the file runs or is imported.
    Top,
    /// Inside the named top-level function, method, class or exported binding.
    Func(String),
    /// Inside a callback handed to a route, event or timer registration (`app.delete(...)`,
    /// `on('message', ...)`): runs later, if ever, not because the file ran.
    Handler,
}

/// A maximal call chain: `prisma.user.deleteMany({})`, `knex("users").where(...).del()`.
#[derive(Debug, Clone, PartialEq)]
pub struct Chain {
    /// What the chain starts from when it is not a plain name (a string, `new X()`, an
    /// expression); then `segs` are what follows it.
    pub base: Option<Val>,
    pub segs: Vec<Seg>,
    pub line: u32,
    pub column: u32,
    /// The source text, shortened.
    pub text: String,
    pub ctx: Ctx,
}

impl Chain {
    /// A chain from segments collected tip first (as front-ends walk them).
    pub fn from_tip(base: Option<Val>, mut segs: Vec<Seg>, (line, column): (u32, u32), text: &str, ctx: Ctx) -> Chain {
        segs.reverse();
        Chain {
            base,
            segs,
            line,
            column,
            text: shorten(text, 120),
            ctx,
        }
    }

    /// Names of the segments in order (`["prisma", "user", "deleteMany"]`).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.segs.iter().map(|s| s.name.as_str())
    }

    /// The identifier the chain starts from, if it starts from one.
    pub fn root(&self) -> Option<&str> {
        match &self.base {
            None => self.segs.first().map(|s| s.name.as_str()),
            Some(_) => None,
        }
    }
}

/// A module a file imports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Import {
    /// As written: `./db`, `../lib/wipe.js`, `.models`, `app.models`, `wipe` (require_relative).
    pub spec: String,
    /// Names taken from it (`import { wipe }`); empty with `binding` for a namespace.
    pub names: Vec<String>,
    /// `const db = require('./db')`, `import * as db`, `import db` (default): property names
    /// used on this binding count as used names.
    pub binding: Option<String>,
}

/// Everything a front-end extracted from one file.
#[derive(Debug, Default)]
pub struct Facts {
    pub chains: Vec<Chain>,
    /// Name -> every value assigned to it anywhere in the file.
    pub bindings: HashMap<String, Vec<Val>>,
    /// Names that are function parameters somewhere in the file.
    pub params: HashSet<String>,
    pub imports: Vec<Import>,
    /// The SQL dialect the file's driver speaks, when an import says so.
    pub dialect: Option<Dialect>,
    /// Functions called by top-level code (and the callbacks it hands to calls).
    pub top_calls: BTreeSet<String>,
    /// Function name -> names it calls.
    pub fn_calls: BTreeMap<String, BTreeSet<String>>,
    /// Namespace binding -> property names used on it (`db.wipe()` -> `wipe`).
    pub member_uses: BTreeMap<String, BTreeSet<String>>,
    /// The parser's complaint, when the file does not parse cleanly.
    pub error: Option<String>,
    /// What the module exports as a whole (`module.exports = {...}`, `export default ...`):
    /// configuration files (knexfile, prisma.config.ts, .sequelizerc) are read from it.
    pub exported: Vec<Val>,
}

impl Facts {
    /// Record that code in `ctx` calls `name`.
    pub fn note_call(&mut self, ctx: &Ctx, name: &str) {
        match ctx {
            Ctx::Top => {
                self.top_calls.insert(name.to_string());
            }
            Ctx::Func(f) => {
                self.fn_calls.entry(f.clone()).or_default().insert(name.to_string());
            }
            Ctx::Handler => {}
        }
    }

    /// Keep a chain, noting what it calls (for reachability) and which property of its
    /// root it uses (for namespace imports).
    pub fn record(&mut self, chain: Chain) {
        let ctx = chain.ctx.clone();
        for seg in chain.segs.iter().filter(|s| s.is_call()) {
            self.note_call(&ctx, &seg.name);
            for a in seg.args.iter().flatten() {
                if let Val::Ident(n) = a {
                    self.note_call(&ctx, n);
                }
            }
        }
        if let (Some(root), Some(next)) = (chain.root(), chain.segs.get(1)) {
            self.member_uses
                .entry(root.to_string())
                .or_default()
                .insert(next.name.clone());
        }
        self.chains.push(chain);
    }

    pub fn bind(&mut self, name: &str, v: Val) {
        let vals = self.bindings.entry(name.to_string()).or_default();
        if vals.len() < 16 {
            vals.push(v);
        }
    }
}

/// Literal pieces merged, and a lone literal as a plain string.
pub fn template(pieces: Vec<Piece>) -> Val {
    let mut merged: Vec<Piece> = Vec::new();
    for p in pieces {
        match (merged.last_mut(), p) {
            (Some(Piece::Lit(prev)), Piece::Lit(s)) => prev.push_str(&s),
            (_, p) => merged.push(p),
        }
    }
    match merged.as_slice() {
        [] => Val::Str(String::new()),
        [Piece::Lit(s)] => Val::Str(s.clone()),
        _ => Val::Template(merged),
    }
}

/// Shorten source text for messages: one line, at most `max` characters.
pub fn shorten(text: &str, max: usize) -> String {
    let one: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() <= max {
        return one;
    }
    let mut s: String = one.chars().take(max.saturating_sub(3)).collect();
    s.push_str("...");
    s
}

/// Callee names whose callbacks run later (routes, events, timers, schedules).
pub const HANDLER_REGISTRATIONS: &[&str] = &[
    "get",
    "post",
    "put",
    "patch",
    "delete",
    "del",
    "all",
    "use",
    "route",
    "on",
    "once",
    "addListener",
    "addEventListener",
    "listen",
    "handle",
    "createServer",
    "setInterval",
    "setTimeout",
    "schedule",
    "cron",
    "subscribe",
    "process",
    "register",
    "middleware",
    "command",
    "action",
    "describe",
    "it",
    "test",
    "beforeEach",
    "afterEach",
    "beforeAll",
    "afterAll",
    "before",
    "after",
];
