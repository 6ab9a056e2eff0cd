//! Shell-command analysis: parse a command line as a shell does ([`parse`]), follow every
//! simple command through pipelines, substitutions and nested shells, keep the shell's
//! variables as it would ([`env`]: assignments, `export`, `source .env`, launchers' env
//! files) and expand them ([`expand`]), peel wrappers and launchers ([`wrappers`],
//! [`launchers`]), and hand each real command to the recognizer of its tool
//! ([`recognizers`]). Standard input is tracked through pipes, heredocs, here-strings and
//! `< file` ([`output`]) so that `echo "DROP TABLE x" | psql` is seen as SQL for psql and
//! `echo ZHJvcGRi... | base64 -d | sh` as the command it decodes to, while the same text
//! given to `echo` alone is just data.
//!
//! Fail closed: text that does not parse and mentions a database tool, a command whose
//! name is computed at run time and looks database-related, SQL whose source cannot be
//! read, shell code that cannot be seen (`curl ... | sh`, `eval "$(...)"`), and every
//! limit reached while the rest could hold a database command ([`limits`]) produce
//! `Unknown` findings. A database named through a variable that cannot be known gives a
//! target hint marked unknown, never a guess.

mod builtins;
pub mod env;
pub mod envload;
mod expand;
pub mod launchers;
pub mod limits;
pub mod output;
pub mod packages;
pub mod parse;
pub mod places;
pub mod recognizers;
pub mod runners;
pub mod tasks;
mod view;
pub mod words;
pub mod workspace;
pub mod wrappers;
pub mod wrapping;

use crate::finding::{Analysis, Finding, FindingKind, Scope};
use crate::lookup::Lookup;

use builtins::{env_options, set_options, value_part};
use env::{ShellEnv, Tier, Var};
use limits::{could_hold, mentions_db_tool, mentions_risky, MAX_BYTES, MAX_COMMANDS, MAX_DEPTH, MAX_WRAPPERS};
use parse::{Command, Redirect, RedirectKind, Script, SimpleCommand, Word};
use recognizers::{Input, Invocation};
use view::View;
use words::{basename, join_words, shell_quote};
use wrappers::Step;

/// Analyze one command line. Pure: files, package.json and the process environment come
/// from `lookup`.
pub fn analyze_command(cmd: &str, lookup: &dyn Lookup) -> Analysis {
    let mut a = Analyzer {
        lookup,
        out: Analysis::default(),
        commands: 0,
        bytes: 0,
        expansions: 0,
        substitution_depth: 0,
        expanded: Vec::new(),
        scripts: Vec::new(),
        written: Vec::new(),
        origin: Vec::new(),
        cut: None,
        reported: Vec::new(),
    };
    let mut env = ShellEnv::default();
    a.text(cmd, &mut env, &Input::Terminal, 0);
    a.out
}

pub(crate) struct Analyzer<'l> {
    lookup: &'l dyn Lookup,
    out: Analysis,
    commands: usize,
    bytes: usize,
    expansions: usize,
    substitution_depth: usize,
    /// Variables expanded for the command at hand: (`$NAME`, origin, value), so that the
    /// target can say where the value naming its database came from.
    expanded: Vec<(String, String, String)>,
    /// Package scripts being followed (`dir:name`), to stop at a script that runs itself.
    scripts: Vec<String>,
    /// Files written earlier in this command line (`> /tmp/x.sh`), with what they hold.
    written: Vec<(String, Input)>,
    /// Where assignments come from while a file is sourced (`sourced from .env`).
    origin: Vec<String>,
    /// A budget ran out (commands, bytes, expansions): what was not analyzed is reported
    /// once, by the innermost text that could hold a database command.
    cut: Option<String>,
    /// Limit findings already reported (one each).
    reported: Vec<String>,
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

    /// A limit was reached: `rest` was not analyzed.
    fn limit(&mut self, statement: &str, rest: &str, what: String) {
        if could_hold(rest) && !self.reported.contains(&what) {
            self.reported.push(what.clone());
            self.unknown(
                statement,
                format!("{what}; what it runs could destroy data, so it counts as risky"),
            );
        }
    }

    /// The lookup as the command at hand sees it: files written earlier in this command
    /// line, paths relative to its directory.
    fn view<'s>(&'s self, env: &'s ShellEnv) -> View<'s> {
        View {
            inner: self.lookup,
            written: &self.written,
            dir: env.dir.as_deref(),
        }
    }

    /// Parse and analyze shell text. `env` is the shell's state, changed in place (the
    /// caller passes a copy for a child process).
    fn text(&mut self, src: &str, env: &mut ShellEnv, stdin: &Input, depth: usize) {
        if depth > MAX_DEPTH {
            let what =
                format!("commands are nested more than {MAX_DEPTH} levels deep (shells, scripts, package scripts)");
            return self.limit(src, src, what);
        }
        if self.cut.is_some() {
            return;
        }
        self.bytes = self.bytes.saturating_add(src.len());
        if self.bytes > MAX_BYTES {
            self.cut = Some(format!("more than {} MB of shell text", MAX_BYTES >> 20));
        } else {
            let parsed = parse::parse(src);
            self.script(&parsed.script, env, stdin, depth);
            if let Some(err) = parsed.error {
                if err.contains("too deep") {
                    self.limit(
                        src,
                        src,
                        "the command line nests more deeply than the parser follows".into(),
                    );
                } else if let Some(tool) = mentions_db_tool(src) {
                    self.unknown(
                        src,
                        format!("the command line does not parse ({err}) and mentions {tool}"),
                    );
                }
            }
        }
        if let Some(what) = self.cut.clone() {
            let what = format!("{what}: the rest was not analyzed");
            if !self.reported.iter().any(|r| r.starts_with("more than")) {
                self.limit(src, src, what);
            }
        }
    }

    fn script(&mut self, s: &Script, env: &mut ShellEnv, stdin: &Input, depth: usize) {
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
                        let input = self.redirect_input(&sc.redirects, input, env);
                        let piped = i + 1 < pl.commands.len();
                        let out = self.simple(sc, env, &input, depth, piped);
                        if piped {
                            prev = Some(out);
                        }
                    }
                    Command::Compound(inner, redirects) => {
                        let input = self.redirect_input(redirects, input, env);
                        let mut inner_env = env.clone();
                        self.script(inner, &mut inner_env, &input, depth);
                        prev = Some(Input::Unknown("the output of a compound command".into()));
                    }
                }
            }
        }
    }

    /// What standard input a command sees after its own redirections.
    fn redirect_input(&mut self, redirects: &[Redirect], mut input: Input, env: &ShellEnv) -> Input {
        for r in redirects {
            if r.fd.is_some_and(|fd| fd != 0) {
                continue;
            }
            input = match &r.kind {
                RedirectKind::HereDoc { body, quoted } => {
                    if !*quoted && body.contains('$') {
                        self.heredoc_text(body, env)
                    } else {
                        Input::Text(body.clone())
                    }
                }
                RedirectKind::HereString | RedirectKind::Input => {
                    let target = self.expand_one(&r.target, env, Tier::Exact);
                    match (&r.kind, target.dynamic) {
                        (RedirectKind::HereString, true) => {
                            Input::Unknown(format!("a here-string computed at run time ({})", r.target.text))
                        }
                        (RedirectKind::HereString, false) => Input::Text(format!("{}\n", target.text)),
                        (_, true) => Input::Unknown(format!("a file named at run time ({})", r.target.text)),
                        (_, false) => self.read_input(&target.text, env),
                    }
                }
                _ => continue,
            };
        }
        input
    }

    /// A file's text as an input, or why it cannot be known.
    fn read_input(&self, path: &str, env: &ShellEnv) -> Input {
        match self.view(env).read_known(path) {
            Ok(t) => Input::Text(t),
            Err(why) => Input::Unknown(why),
        }
    }

    /// The output of a command, as far as it can be known.
    fn output_of(&self, words: &[Word], text: &str, input: &Input, env: &ShellEnv) -> Input {
        let view = self.view(env);
        output::output_of(words, text, input, &|p| view.read_known(p).ok())
    }

    /// One simple command. Returns what it writes to a pipe (computed only when `piped`).
    fn simple(&mut self, sc: &SimpleCommand, env: &mut ShellEnv, input: &Input, depth: usize, piped: bool) -> Input {
        self.commands += 1;
        if self.commands > MAX_COMMANDS {
            self.cut
                .get_or_insert_with(|| format!("more than {MAX_COMMANDS} commands"));
            return Input::Unknown("a command that was not analyzed".into());
        }
        for n in &sc.nested {
            let mut inner_env = env.child();
            self.script(n, &mut inner_env, &Input::Terminal, depth);
        }
        let assigns: Vec<(String, Var)> = sc
            .assigns
            .iter()
            .map(|(k, w)| (k.clone(), self.assign_value(w, env)))
            .collect();
        if sc.words.is_empty() {
            // `X=1` alone sets a shell variable for the commands that follow.
            for (k, v) in assigns {
                env.set(&k, v);
            }
            self.redirect_outputs(sc, &[], input, env);
            return Input::Text(String::new());
        }
        self.expanded.clear();
        let words = self.expand_words(&sc.words, env, Tier::Exact);
        self.redirect_outputs(sc, &words, input, env);
        let out = if piped {
            self.output_of(&words, &sc.text, input, env)
        } else {
            Input::Unknown("not piped".into())
        };
        if let Some(first) = words.first().filter(|w| !w.dynamic && !w.quoted) {
            match first.text.as_str() {
                "export" | "declare" | "typeset" | "local" | "readonly" => {
                    self.declare(&sc.words, env, &sc.text);
                    return out;
                }
                "unset" => {
                    // `unset -f name` removes a function, not a variable.
                    if !words[1..].iter().any(|w| w.text == "-f") {
                        for w in words[1..].iter().filter(|w| !w.text.starts_with('-')) {
                            env.unset(&w.text);
                        }
                    }
                    return out;
                }
                "set" => {
                    set_options(&words[1..], env);
                    return out;
                }
                "cd" | "pushd" => {
                    let target = words.iter().skip(1).find(|w| !w.text.starts_with('-') || w.text == "-");
                    let text = match target {
                        None => Some("~".to_string()),
                        Some(w) if w.dynamic => None,
                        Some(w) => Some(w.text.clone()),
                    };
                    // `cd` and `cd ~/app`: the home directory of the environment it runs in.
                    let home = self.lookup.env_var("HOME").filter(|_| !env.clean);
                    let text = match (text, home) {
                        (Some(t), Some(h)) if t == "~" || t.starts_with("~/") => Some(format!("{h}{}", &t[1..])),
                        (t, _) => t,
                    };
                    env.cd(text.as_deref());
                    return out;
                }
                "source" | "." if words.len() > 1 => {
                    self.source(&words[1], env, input, depth, &sc.text);
                    return out;
                }
                "eval" => {
                    let rest = &words[1..];
                    let code = rest.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" ");
                    self.shell_code(&code, rest.iter().any(|w| w.dynamic), env, input, depth + 1, &sc.text);
                    return out;
                }
                _ => {}
            }
        }
        let mut cmd_env = env.child();
        for (k, mut v) in assigns {
            v.exported = true;
            cmd_env.set(&k, v);
        }
        self.words(words, cmd_env, input, &sc.text, depth, None);
        out
    }

    /// Shell code run by `eval`, `bash -c`, `ssh HOST '...'`: analyzed as a command line;
    /// when part of it is computed at run time and cannot be seen, that is `unknown`.
    fn shell_code(
        &mut self,
        code: &str,
        dynamic: bool,
        env: &mut ShellEnv,
        input: &Input,
        depth: usize,
        statement: &str,
    ) {
        if dynamic {
            let hidden = expand::hidden_code(code);
            if let Some(why) = hidden.code {
                self.opaque_code(&why, statement);
            }
            if hidden.sets_env {
                env.opaque
                    .get_or_insert(format!("`{statement}` loads variables that cannot be seen"));
            }
        }
        self.text(code, env, input, depth);
    }

    /// Code a shell runs that cannot be seen (`curl ... | sh`, `eval "$(...)"`).
    fn opaque_code(&mut self, why: &str, statement: &str) {
        self.unknown(
            statement,
            format!("`{statement}` runs shell code from {why}, which cannot be seen before it runs"),
        );
    }

    /// Analyze a command given as expanded words, peeling wrappers and launchers first.
    fn words(
        &mut self,
        words: Vec<Word>,
        mut env: ShellEnv,
        input: &Input,
        statement: &str,
        depth: usize,
        xargs_input: Option<Input>,
    ) {
        let mut cur = words;
        let mut xargs = xargs_input;
        let mut input = input.clone();
        for _ in 0..MAX_WRAPPERS {
            let Some(first) = cur.first() else { return };
            if first.dynamic {
                return self.dynamic_program(&cur, statement);
            }
            if let Some(place) = places::place_of(&cur, &env) {
                env = env.enter(place);
            }
            let step = wrappers::step(&cur, &self.view(&env));
            match step {
                Step::Done => {
                    let name = basename(&cur[0].text).to_string();
                    return self.recognize(&name, &cur[1..], &env, &input, statement, xargs);
                }
                Step::Nothing => return,
                Step::Skip(n, vars) => {
                    let n = n.clamp(1, cur.len());
                    if basename(&cur[0].text) == "env" {
                        env_options(&cur[1..n], &mut env);
                    }
                    for (k, _) in &vars {
                        if let Some(w) = cur[..n].iter().find(|w| w.text.starts_with(&format!("{k}="))) {
                            let mut v = self.assign_value(&value_part(w, k.len()), &env);
                            v.exported = true;
                            env.set(k, v);
                        }
                    }
                    cur.drain(..n);
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
                    let mut child = env.child();
                    if xargs.is_some() {
                        // `xargs -I{} sh -c '{}'`: the items read at run time are shell code
                        // where `{}` stands in a command's place.
                        let text = text.replace("{}", "$XARGS_ITEM");
                        return self.shell_code(&text, true, &mut child, &input, depth + 1, statement);
                    }
                    return self.shell_code(&text, dynamic, &mut child, &input, depth + 1, statement);
                }
                Step::ScriptFile(path) => {
                    let mut child = env.child();
                    let w = cur
                        .iter()
                        .find(|w| w.text == path)
                        .cloned()
                        .unwrap_or_else(|| Word::lit(&path));
                    return self.source(&w, &mut child, &input, depth, statement);
                }
                Step::ShellStdin => {
                    match &input {
                        Input::Text(t) => {
                            let t = t.clone();
                            let mut child = env.child();
                            self.text(&t, &mut child, &Input::Terminal, depth + 1);
                        }
                        Input::Unknown(why) => {
                            let why = why.clone();
                            self.opaque_code(&why, statement);
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
                    return self.package_script(&name, &extra, hooks, &mut env, &input, statement, depth);
                }
                Step::Env { at, loads, shell } => {
                    self.apply_loads(&loads, &mut env);
                    if let Some((text, dynamic)) = shell {
                        return self.shell_code(&text, dynamic, &mut env, &input, depth + 1, statement);
                    }
                    cur.drain(..at.clamp(1, cur.len()));
                }
                Step::Workspace { selectors, task, extra } => {
                    return self.workspace(&selectors, &task, &cur, &extra, &mut env, &input, statement, depth);
                }
            }
        }
        self.limit(
            statement,
            &join_words(&cur),
            format!("more than {MAX_WRAPPERS} wrappers in a chain: the command they run was not analyzed"),
        );
    }

    fn recognize(
        &mut self,
        name: &str,
        args: &[Word],
        env: &ShellEnv,
        input: &Input,
        statement: &str,
        xargs: Option<Input>,
    ) {
        let guard = recognizers::guard_settings::check(name, args, statement, &self.view(env));
        self.out.findings.extend(guard);
        let Some(rec) = recognizers::find(name) else { return };
        let exact_env = env.exact_pairs();
        let run = |this: &Self, args: &[Word]| {
            let view = this.view(env);
            let inv = Invocation {
                program: name,
                args,
                env: &exact_env,
                stdin: input,
                statement,
                lookup: &view,
                via_xargs: xargs.is_some(),
            };
            (rec.recognize)(&inv)
        };
        let outcome = run(self, args);
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
        let Some(mut hint) = outcome.hint else { return };
        if args.iter().any(|w| w.dynamic) {
            // The database may be named through a variable: the target is decided with
            // the process environment too, and what stays unknown is said.
            let mut unresolved = Vec::new();
            let full = self.expand_for_target(args, env, &mut unresolved);
            if let Some(h) = run(self, &full).hint {
                hint = h;
            }
            if expand::strip_marks(&mut hint) {
                unresolved.dedup();
                hint.unknown = Some(format!(
                    "the command names its database through a value dbguard cannot know: {}",
                    unresolved.join("; ")
                ));
            }
        }
        hint.tool = Some(rec.tool.to_string());
        if hint.engine.is_none() {
            hint.engine = rec.engine;
        }
        let (tool_env, mut facts) = env.for_tool(self.lookup);
        let fields: Vec<&String> = [&hint.url, &hint.host, &hint.port, &hint.user, &hint.dbname, &hint.file]
            .into_iter()
            .flatten()
            .collect();
        for (name, origin, value) in &self.expanded {
            let names_it = !value.is_empty() && fields.iter().any(|f| f.contains(value.as_str()));
            if names_it && !facts.expanded.iter().any(|(n, _)| n == name) {
                facts.expanded.push((name.clone(), origin.clone()));
            }
        }
        hint.env = tool_env;
        hint.vars = facts;
        hint.place = env.place.clone();
        hint.dir = env.dir.clone();
        if let Some(why) = &env.dir_unknown {
            let explicit = hint.url.is_some() || hint.file.is_some() || hint.host.is_some() || hint.dbname.is_some();
            if !explicit && !places::reads_no_project_files(rec.tool) && hint.unknown.is_none() {
                hint.unknown = Some(format!("{why}, so its configuration and env files cannot be known"));
            }
        }
        self.out.targets.push(hint);
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

    /// A package.json script's text, from the directory the command runs in.
    fn script_body(&self, name: &str, env: &ShellEnv) -> Option<String> {
        match &env.dir {
            Some(d) => workspace::script_in(self.lookup, d, name),
            None => self.lookup.package_script(name),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn package_script(
        &mut self,
        name: &str,
        extra: &[Word],
        hooks: bool,
        env: &mut ShellEnv,
        input: &Input,
        statement: &str,
        depth: usize,
    ) {
        // A script that (directly or not) runs itself loops forever: nothing new runs.
        let key = format!("{}:{name}", env.dir.as_deref().unwrap_or("."));
        if self.scripts.contains(&key) {
            return;
        }
        let Some(body) = self.script_body(name, env) else {
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
            if let Some(pre) = self.script_body(&format!("pre{name}"), env) {
                self.text(&pre, &mut env.child(), input, depth + 1);
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
        self.scripts.push(key);
        self.text(&text, &mut env.child(), input, depth + 1);
        self.scripts.pop();
        if hooks {
            if let Some(post) = self.script_body(&format!("post{name}"), env) {
                self.text(&post, &mut env.child(), input, depth + 1);
            }
        }
    }
}

fn mentions_db_file(text: &str) -> bool {
    let l = text.to_ascii_lowercase();
    [".db", ".sqlite", "pgdata", "postgres", "mysql"]
        .iter()
        .any(|k| l.contains(k))
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

    #[test]
    fn variables_name_the_database() {
        let mut l = MapLookup::default();
        l.files.insert(
            ".env".into(),
            b"DATABASE_URL=postgres://app:pw@db.example.com/shop\n".to_vec(),
        );
        let a = analyze_command("source .env && psql \"$DATABASE_URL\" -c \"DROP TABLE x\"", &l);
        assert_eq!(a.findings[0].kind, FindingKind::DropTable);
        let h = &a.targets[0];
        assert_eq!(h.url.as_deref(), Some("postgres://app:pw@db.example.com/shop"));
        assert_eq!(h.unknown, None);
        // Set nowhere: unknown, never a local socket named `$DATABASE_URL`.
        let a = analyze_command("psql \"$DATABASE_URL\" -c \"DROP TABLE x\"", &NoLookup);
        assert!(
            a.targets[0].unknown.as_deref().unwrap().contains("$DATABASE_URL"),
            "{:?}",
            a.targets[0]
        );
        // The process environment names it.
        l.env.insert("PROD_URL".into(), "postgres://u@prod.internal/app".into());
        let a = analyze_command("psql ${PROD_URL} -c 'TRUNCATE t'", &l);
        assert_eq!(a.targets[0].url.as_deref(), Some("postgres://u@prod.internal/app"));
        let a = analyze_command("psql ${NOPE:-postgres://localhost/dev} -c 'TRUNCATE t'", &l);
        assert_eq!(a.targets[0].url.as_deref(), Some("postgres://localhost/dev"));
    }
}
