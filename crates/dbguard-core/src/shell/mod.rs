//! Shell-command analysis: parse a command line as a shell does ([`parse`]), follow every
//! simple command through pipelines, substitutions and nested shells, peel wrappers
//! ([`wrappers`]), and hand each real command to the recognizer of its tool
//! ([`recognizers`]). Standard input is tracked through pipes, heredocs, here-strings and
//! `< file` so that `echo "DROP TABLE x" | psql` is seen as SQL for psql, while the same
//! text given to `echo` alone is just data.
//!
//! Fail closed: text that does not parse and mentions a database tool, a command whose
//! name is computed at run time and looks database-related, SQL whose source cannot be
//! read, and nesting past the depth limit all produce `Unknown` findings.

pub mod parse;
pub mod recognizers;
pub mod tasks;
pub mod words;
pub mod wrappers;

use crate::finding::{Analysis, Finding, FindingKind, Scope};
use crate::lookup::Lookup;

use parse::{Command, Redirect, RedirectKind, Script, SimpleCommand, Word};
use recognizers::{Input, Invocation};
use words::{basename, join_words, shell_quote};
use wrappers::Step;

/// Deepest chain of nested shells and package scripts followed (`bash -c`, `npm run`...).
const MAX_DEPTH: usize = 8;
/// Upper bound on simple commands analyzed for one operation (script files, huge inputs).
const MAX_COMMANDS: usize = 10_000;

/// Analyze one command line. Pure: files and package.json come from `lookup`.
pub fn analyze_command(cmd: &str, lookup: &dyn Lookup) -> Analysis {
    let mut a = Analyzer {
        lookup,
        out: Analysis::default(),
        commands: 0,
    };
    a.text(cmd, &[], &Input::Terminal, 0);
    a.out
}

struct Analyzer<'l> {
    lookup: &'l dyn Lookup,
    out: Analysis,
    commands: usize,
}

/// Destructive-sounding words: a command name computed at run time next to these is
/// treated as Unknown.
const RISKY_WORDS: &[&str] = &[
    "drop",
    "reset",
    "flush",
    "flushall",
    "flushdb",
    "truncate",
    "wipe",
    "purge",
    "fresh",
    "clean",
    "rollback",
    "downgrade",
    "delete",
];

/// Whether text names a database tool in any of its words (fail-closed checks).
fn mentions_db_tool(text: &str) -> Option<String> {
    text.split(|c: char| c.is_whitespace() || "\"'`$();|&<>{}=".contains(c))
        .map(basename)
        .find(|w| recognizers::is_db_program(w) || matches!(*w, "npx" | "artisan" | "dropdb"))
        .map(str::to_string)
}

fn mentions_risky(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    mentions_db_tool(text).is_some()
        || lower
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .any(|w| RISKY_WORDS.contains(&w))
}

impl Analyzer<'_> {
    fn push(&mut self, f: Finding) {
        self.out.findings.push(f);
    }

    fn unknown(&mut self, statement: &str, detail: String) {
        let f = Finding::new(FindingKind::Unknown, None, detail, Scope::Database)
            .with_tool("shell")
            .with_statement(statement, None);
        self.push(f);
    }

    /// Parse and analyze shell text.
    fn text(&mut self, src: &str, env: &[(String, String)], stdin: &Input, depth: usize) {
        if depth > MAX_DEPTH {
            if mentions_risky(src) {
                self.unknown(
                    src,
                    "commands are nested too deeply to follow (shells, scripts, package scripts)".into(),
                );
            }
            return;
        }
        if self.commands > MAX_COMMANDS {
            return;
        }
        let parsed = parse::parse(src);
        let mut env = env.to_vec();
        self.script(&parsed.script, &mut env, stdin, depth);
        if let Some(err) = parsed.error {
            if let Some(tool) = mentions_db_tool(src) {
                self.unknown(
                    src,
                    format!("the command line does not parse ({err}) and mentions {tool}"),
                );
            }
        }
    }

    fn script(&mut self, s: &Script, env: &mut Vec<(String, String)>, stdin: &Input, depth: usize) {
        for pl in &s.pipelines {
            let mut prev: Option<Input> = None;
            for (i, cmd) in pl.commands.iter().enumerate() {
                let input = if i == 0 {
                    stdin.clone()
                } else {
                    prev.take().unwrap_or(Input::Unknown("a pipe".into()))
                };
                match cmd {
                    Command::Simple(sc) => {
                        let input = self.redirect_input(&sc.redirects, input);
                        self.simple(sc, env, &input, depth);
                        if i + 1 < pl.commands.len() {
                            prev = Some(self.output_of(sc, &input));
                        }
                    }
                    Command::Compound(inner, redirects) => {
                        let input = self.redirect_input(redirects, input);
                        let mut inner_env = env.clone();
                        self.script(inner, &mut inner_env, &input, depth);
                        prev = Some(Input::Unknown("the output of a compound command".into()));
                    }
                }
            }
        }
    }

    /// What standard input a command sees after its own redirections.
    fn redirect_input(&self, redirects: &[Redirect], mut input: Input) -> Input {
        for r in redirects {
            if r.fd.is_some_and(|fd| fd != 0) {
                continue;
            }
            input = match &r.kind {
                RedirectKind::HereDoc { body, .. } => Input::Text(body.clone()),
                RedirectKind::HereString if r.target.dynamic => {
                    Input::Unknown(format!("a here-string computed at run time ({})", r.target.text))
                }
                RedirectKind::HereString => Input::Text(format!("{}\n", r.target.text)),
                RedirectKind::Input if r.target.dynamic => {
                    Input::Unknown(format!("a file named at run time ({})", r.target.text))
                }
                RedirectKind::Input => match self.lookup.read_file(&r.target.text) {
                    Some(t) => Input::Text(t),
                    None => Input::Unknown(format!("{}, which could not be read", r.target.text)),
                },
                _ => continue,
            };
        }
        input
    }

    /// What a command writes to a pipe, as far as it can be known.
    fn output_of(&self, sc: &SimpleCommand, input: &Input) -> Input {
        let words = &sc.words;
        let Some(first) = words.first() else {
            return Input::Unknown("an empty command".into());
        };
        let prog = basename(&first.text);
        let args = &words[1..];
        let unknown = || Input::Unknown(format!("the output of `{}`", sc.text));
        match prog {
            "echo" => {
                let rest: Vec<&Word> = args
                    .iter()
                    .skip_while(|w| matches!(w.text.as_str(), "-n" | "-e" | "-E" | "-ne" | "-en"))
                    .collect();
                if rest.iter().any(|w| w.dynamic) {
                    return unknown();
                }
                let text = rest.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" ");
                let text = if args.first().is_some_and(|w| w.text.contains('e')) {
                    unescape(&text)
                } else {
                    text
                };
                Input::Text(text + "\n")
            }
            "printf" => {
                if args.iter().any(|w| w.dynamic) || args.is_empty() {
                    return unknown();
                }
                Input::Text(printf(&args[0].text, &args[1..]))
            }
            "cat" => {
                let files: Vec<&Word> = args
                    .iter()
                    .filter(|w| !w.text.starts_with('-') || w.text == "-")
                    .collect();
                if files.is_empty() {
                    return input.clone();
                }
                let mut text = String::new();
                for f in files {
                    if f.text == "-" {
                        match input {
                            Input::Text(t) => text.push_str(t),
                            _ => return unknown(),
                        }
                        continue;
                    }
                    if f.dynamic {
                        return unknown();
                    }
                    match self.lookup.read_file(&f.text) {
                        Some(t) => text.push_str(&t),
                        None => return Input::Unknown(format!("{}, which could not be read", f.text)),
                    }
                }
                Input::Text(text)
            }
            "pg_dump" | "pg_dumpall" => {
                let clean = args.iter().any(|w| {
                    w.text == "--clean"
                        || (w.text.starts_with('-') && !w.text.starts_with("--") && w.text.contains('c'))
                });
                Input::PgDump { clean }
            }
            "true" | ":" => Input::Text(String::new()),
            _ => unknown(),
        }
    }

    fn simple(&mut self, sc: &SimpleCommand, env: &mut Vec<(String, String)>, input: &Input, depth: usize) {
        self.commands += 1;
        if self.commands > MAX_COMMANDS {
            if self.commands == MAX_COMMANDS + 1 {
                self.unknown(
                    &sc.text,
                    format!("more than {MAX_COMMANDS} commands: the rest was not analyzed"),
                );
            }
            return;
        }
        for n in &sc.nested {
            let mut inner_env = env.clone();
            self.script(n, &mut inner_env, &Input::Terminal, depth);
        }
        for r in &sc.redirects {
            if r.kind == RedirectKind::Output && !r.target.dynamic {
                if let Some(f) = recognizers::files::truncation(&r.target.text, &sc.text, self.lookup) {
                    self.push(f);
                }
            }
            if matches!(r.kind, RedirectKind::Output | RedirectKind::Append) {
                if let Some(f) = recognizers::guard_settings::redirect(&r.target.text, &sc.text, self.lookup) {
                    self.push(f);
                }
            }
        }
        let own: Vec<(String, String)> = sc.assigns.iter().map(|(k, v)| (k.clone(), v.text.clone())).collect();
        if sc.words.is_empty() {
            // `X=1` alone sets a shell variable for the commands that follow.
            env.extend(own);
            return;
        }
        if matches!(
            sc.words[0].text.as_str(),
            "export" | "declare" | "typeset" | "local" | "readonly"
        ) && !sc.words[0].quoted
        {
            for w in &sc.words[1..] {
                if let Some((k, v)) = w.text.split_once('=') {
                    if !k.starts_with('-') {
                        env.push((k.to_string(), v.to_string()));
                    }
                }
            }
            return;
        }
        let mut cmd_env = env.clone();
        cmd_env.extend(own);
        self.words(&sc.words, cmd_env, input, &sc.text, depth, None);
    }

    /// Analyze a command given as words, peeling wrappers first.
    fn words(
        &mut self,
        words: &[Word],
        mut env: Vec<(String, String)>,
        input: &Input,
        statement: &str,
        depth: usize,
        xargs_input: Option<Input>,
    ) {
        let mut cur: Vec<Word> = if words.iter().any(|w| w.dynamic) {
            substitute(words, &env)
        } else {
            words.to_vec()
        };
        let mut xargs = xargs_input;
        let mut input = input.clone();
        // Every step consumes a word; the cap is a second guard.
        for _ in 0..64 {
            let Some(first) = cur.first() else { return };
            if first.dynamic {
                return self.dynamic_program(&cur, statement);
            }
            match wrappers::step(&cur, self.lookup) {
                Step::Done => {
                    let name = basename(&cur[0].text).to_string();
                    return self.recognize(&name, &cur[1..], &env, &input, statement, xargs);
                }
                Step::Nothing => return,
                Step::Skip(n, vars) => {
                    env.extend(vars);
                    cur.drain(..n.clamp(1, cur.len()));
                }
                Step::Rename(name, n) => {
                    // The package bin (or `manage.py`) stands in for the words it replaced.
                    if n > cur.len() {
                        return;
                    }
                    cur.drain(..n.max(1) - 1);
                    if let Some(w) = cur.first_mut() {
                        // A package name computed at run time stays unknown.
                        let dynamic = w.dynamic;
                        *w = Word {
                            dynamic,
                            ..Word::lit(&name)
                        };
                    }
                }
                Step::Shell(text, dynamic) => {
                    let lower = text.to_ascii_lowercase();
                    if dynamic
                        && (mentions_risky(&text)
                            || ["base64", "xxd", "openssl", "curl", "wget", "rev ", "tr "]
                                .iter()
                                .any(|k| lower.contains(k)))
                    {
                        self.unknown(statement, format!("`{statement}` runs a command computed at run time"));
                    }
                    return self.text(&text, &env, &input, depth + 1);
                }
                Step::ScriptFile(path) => {
                    let body = self
                        .lookup
                        .read_file(&path)
                        .or_else(|| path.strip_prefix("./").and_then(|p| self.lookup.read_file(p)));
                    if let Some(body) = body {
                        self.text(&body, &env, &input, depth + 1);
                    }
                    return;
                }
                Step::ShellStdin => {
                    match &input {
                        Input::Text(t) => {
                            let t = t.clone();
                            self.text(&t, &env, &Input::Terminal, depth + 1);
                        }
                        Input::Unknown(why) if mentions_risky(why) => {
                            self.unknown(statement, format!("a shell runs commands from {why}"));
                        }
                        _ => {}
                    }
                    return;
                }
                Step::Xargs(n) => {
                    xargs = Some(input.clone());
                    input = Input::Unknown("xargs".into());
                    cur.drain(..n.clamp(1, cur.len()));
                }
                Step::PkgScript { name, extra, hooks } => {
                    return self.package_script(&name, &extra, hooks, &env, &input, statement, depth);
                }
            }
        }
    }

    fn recognize(
        &mut self,
        name: &str,
        args: &[Word],
        env: &[(String, String)],
        input: &Input,
        statement: &str,
        xargs: Option<Input>,
    ) {
        let guard = recognizers::guard_settings::check(name, args, statement, self.lookup);
        self.out.findings.extend(guard);
        let Some(rec) = recognizers::find(name) else { return };
        let inv = Invocation {
            program: name,
            args,
            env,
            stdin: input,
            statement,
            lookup: self.lookup,
            via_xargs: xargs.is_some(),
        };
        let outcome = (rec.recognize)(&inv);
        if let Some(xin) = &xargs {
            let feeds_db_files = matches!(xin, Input::Unknown(why) if mentions_db_file(why))
                || matches!(xin, Input::Text(t) if mentions_db_file(t));
            if rec.destructive_potential || feeds_db_files {
                self.unknown(
                    statement,
                    format!(
                        "xargs runs {} with arguments read at run time; what it destroys cannot be known",
                        rec.tool
                    ),
                );
            }
        }
        self.out.findings.extend(outcome.findings);
        if let Some(mut hint) = outcome.hint {
            hint.tool = Some(rec.tool.to_string());
            if hint.engine.is_none() {
                hint.engine = rec.engine;
            }
            hint.env = env.to_vec();
            self.out.targets.push(hint);
        }
    }

    /// `$TOOL migrate reset`, `$(echo prisma) ...`: the program is computed at run time.
    fn dynamic_program(&mut self, words: &[Word], statement: &str) {
        let all = join_words(words);
        if mentions_risky(&all) {
            self.unknown(
                statement,
                format!("`{statement}` runs a program named at run time, next to database-related words"),
            );
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn package_script(
        &mut self,
        name: &str,
        extra: &[Word],
        hooks: bool,
        env: &[(String, String)],
        input: &Input,
        statement: &str,
        depth: usize,
    ) {
        let Some(body) = self.lookup.package_script(name) else {
            if mentions_risky(name) || name.contains("db") {
                self.unknown(
                    statement,
                    format!(
                        "runs the package script {name}, which could not be read; its name suggests database changes"
                    ),
                );
            }
            return;
        };
        if hooks {
            if let Some(pre) = self.lookup.package_script(&format!("pre{name}")) {
                self.text(&pre, env, input, depth + 1);
            }
        }
        let mut text = body;
        for w in extra {
            text.push(' ');
            text.push_str(&if w.dynamic {
                w.text.clone()
            } else {
                shell_quote(&w.text)
            });
        }
        self.text(&text, env, input, depth + 1);
        if hooks {
            if let Some(post) = self.lookup.package_script(&format!("post{name}")) {
                self.text(&post, env, input, depth + 1);
            }
        }
    }
}

/// `TOOL=prisma; $TOOL migrate reset`: a bare `$NAME` set earlier in the same text takes
/// its value; unquoted, the value is split into words as the shell does
/// (`CMD='dropdb app'; $CMD`).
fn substitute(words: &[Word], env: &[(String, String)]) -> Vec<Word> {
    let mut out = Vec::with_capacity(words.len());
    for w in words {
        let name = w
            .text
            .trim_start_matches('$')
            .trim_start_matches('{')
            .trim_end_matches('}');
        let known = (w.dynamic
            && w.text.starts_with('$')
            && !name.is_empty()
            && name.bytes().all(|c| c == b'_' || c.is_ascii_alphanumeric()))
        .then(|| env.iter().rev().find(|(k, _)| k == name))
        .flatten();
        let Some((_, v)) = known else {
            out.push(w.clone());
            continue;
        };
        let lit = |s: &str| Word {
            // A value that itself holds an expansion is still not known.
            dynamic: s.contains(['$', '`']),
            ..Word::lit(s)
        };
        if w.quoted {
            out.push(lit(v));
        } else {
            out.extend(v.split_whitespace().map(lit));
        }
    }
    out
}

fn mentions_db_file(text: &str) -> bool {
    let l = text.to_ascii_lowercase();
    [".db", ".sqlite", "pgdata", "postgres", "mysql"]
        .iter()
        .any(|k| l.contains(k))
}

/// `echo -e` / `printf` escapes.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('\\') => out.push('\\'),
            Some(o) => {
                out.push('\\');
                out.push(o);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// A small printf: `%s`/`%b`/`%d` take arguments in turn; the format repeats while
/// arguments remain.
fn printf(format: &str, args: &[Word]) -> String {
    let mut out = String::new();
    let mut idx = 0;
    loop {
        let mut chars = format.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '%' {
                match chars.next() {
                    Some('%') => out.push('%'),
                    Some(_) => {
                        if let Some(a) = args.get(idx) {
                            out.push_str(&a.text);
                        }
                        idx += 1;
                    }
                    None => out.push('%'),
                }
            } else {
                out.push(c);
            }
        }
        if idx >= args.len() || idx == 0 {
            break;
        }
    }
    unescape(&out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lookup::{MapLookup, NoLookup};

    fn kinds(cmd: &str) -> Vec<FindingKind> {
        analyze_command(cmd, &NoLookup)
            .findings
            .iter()
            .map(|f| f.kind)
            .collect()
    }

    #[test]
    fn wrappers_and_nesting() {
        assert_eq!(kinds("npx prisma migrate reset --force"), [FindingKind::ResetDatabase]);
        assert_eq!(
            kinds("cd app && sudo -u deploy env RAILS_ENV=production bundle exec rails db:drop"),
            [FindingKind::DropDatabase]
        );
        assert_eq!(
            kinds("bash -c 'sh -c \"npx prisma migrate reset\"'"),
            [FindingKind::ResetDatabase]
        );
        assert_eq!(kinds("echo $(dropdb shop)"), [FindingKind::DropDatabase]);
        assert!(kinds("echo prisma migrate reset").is_empty());
        assert!(kinds("git commit -m 'rails db:drop'").is_empty());
    }

    #[test]
    fn package_scripts() {
        let mut l = MapLookup::default();
        l.scripts.insert("db:reset".into(), "prisma migrate reset".into());
        let a = analyze_command("DATABASE_URL=postgres://x/y npm run db:reset -- --force", &l);
        assert_eq!(a.findings.len(), 1);
        assert_eq!(a.targets[0].env_var("DATABASE_URL"), Some("postgres://x/y"));
    }

    #[test]
    fn unparseable_fails_closed() {
        assert!(kinds("psql -c 'DROP").contains(&FindingKind::Unknown));
        assert!(kinds("echo 'unterminated").is_empty());
        assert_eq!(kinds("$TOOL migrate reset"), [FindingKind::Unknown]);
    }
}
