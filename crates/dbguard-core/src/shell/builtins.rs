//! The shell builtins and launchers that change the shell's own state rather than run a
//! program: `export` / `declare` (with `export $(cat .env | xargs)`), `source` / `.`,
//! `set -a`, `env -i` / `-u`, launchers' env files, and the files a command line writes
//! (`> file`, `tee`, `curl -o`) that later commands may read or run.

use super::env::{ShellEnv, Tier, Var};
use super::envload::EnvLoad;
use super::expand;
use super::limits::mentions_risky;
use super::parse::{self, RedirectKind, SimpleCommand, Word};
use super::recognizers::{self, Input};
use super::words::basename;
use super::Analyzer;

impl Analyzer<'_> {
    /// `> file` truncates it (a database file?), and what is written there can be read
    /// back later in the same command line (`... > /tmp/x.sh && bash /tmp/x.sh`).
    pub(super) fn redirect_outputs(&mut self, sc: &SimpleCommand, words: &[Word], input: &Input, env: &ShellEnv) {
        for r in &sc.redirects {
            // Any descriptor written into dbguard's own settings rewrites them; a target that
            // is computed (`"$DBGUARD_HOME/..."`) is judged by its text.
            if matches!(r.kind, RedirectKind::Output | RedirectKind::Append) {
                let view = self.view(env);
                let target = if r.target.dynamic {
                    r.target.text.clone()
                } else {
                    env.path(&r.target.text)
                };
                if let Some(f) = recognizers::guard_settings::redirect(&target, &sc.text, &view) {
                    self.push(f);
                }
            }
            if !matches!(r.kind, RedirectKind::Output | RedirectKind::Append) || r.fd.is_some_and(|fd| fd != 1) {
                continue;
            }
            if r.target.dynamic {
                continue;
            }
            if r.kind == RedirectKind::Output {
                let view = self.view(env);
                if let Some(f) = recognizers::files::truncation(&env.path(&r.target.text), &sc.text, &view) {
                    self.push(f);
                }
            }
            let mut content = if words.is_empty() {
                Input::Text(String::new())
            } else {
                self.output_of(words, &sc.text, input, env)
            };
            if r.kind == RedirectKind::Append {
                let before = self.view(env).read_known(&r.target.text).unwrap_or_default();
                content = match content {
                    Input::Text(t) => Input::Text(before + &t),
                    other => other,
                };
            }
            let path = env.path(&r.target.text);
            self.written.retain(|(p, _)| *p != path);
            self.written.push((path, content));
        }
        // `curl -o FILE URL`, `wget -O FILE URL`: the file holds what was downloaded.
        if let Some(prog) = words
            .first()
            .map(|w| basename(&w.text))
            .filter(|p| matches!(*p, "curl" | "wget"))
        {
            let flags: &[&str] = if prog == "curl" {
                &["-o", "--output"]
            } else {
                &["-O", "--output-document"]
            };
            for pair in words.windows(2) {
                if flags.contains(&pair[0].text.as_str()) && !pair[1].dynamic && pair[1].text != "-" {
                    let path = env.path(&pair[1].text);
                    self.written.retain(|(p, _)| *p != path);
                    self.written
                        .push((path, Input::Unknown(format!("a download (`{}`)", sc.text))));
                }
            }
        }
        if words.first().is_some_and(|w| basename(&w.text) == "tee") {
            for w in words[1..].iter().filter(|w| !w.text.starts_with('-') && !w.dynamic) {
                let path = env.path(&w.text);
                self.written.retain(|(p, _)| *p != path);
                self.written.push((path, input.clone()));
            }
        }
    }
    /// `export A=1 B`, `declare -x A=1`, `export $(cat .env | xargs)`.
    pub(super) fn declare(&mut self, words: &[Word], env: &mut ShellEnv, statement: &str) {
        let cmd = words[0].text.as_str();
        let flags: String = words[1..]
            .iter()
            .take_while(|w| w.text.starts_with('-') || w.text.starts_with('+'))
            .map(|w| w.text.as_str())
            .collect();
        if flags.contains('p') || flags.contains('f') || flags.contains('F') {
            return;
        }
        let exported = cmd == "export" || (flags.contains('x') && !flags.starts_with('+'));
        for w in words[1..]
            .iter()
            .skip_while(|w| w.text.starts_with('-') || w.text.starts_with('+'))
        {
            if let Some(eq) = assignment_name(w) {
                let name = w.text[..eq].trim_end_matches('+').to_string();
                let mut v = self.assign_value(&value_part(w, eq), env);
                v.exported = exported;
                env.set(&name, v);
                continue;
            }
            if !w.dynamic {
                if exported {
                    env.export(&w.text);
                }
                continue;
            }
            // `export $(cat .env | xargs)`: the words of an expansion are assignments.
            let expanded = self.expand_one(w, env, Tier::Exact);
            if expanded.dynamic {
                let why = format!("`{statement}` sets variables computed at run time");
                env.opaque.get_or_insert(why);
                continue;
            }
            for item in expanded.text.split_whitespace() {
                let lit = Word::lit(item);
                if let Some(eq) = assignment_name(&lit) {
                    let origin = self
                        .origin
                        .last()
                        .cloned()
                        .or_else(|| Some(format!("set by `{statement}`")));
                    let mut v = Var::known(&item[eq + 1..], origin);
                    v.exported = exported;
                    env.set(&item[..eq], v);
                }
            }
        }
    }
    /// `source FILE` / `. FILE`: its commands run in this shell, so what it sets stays set.
    pub(super) fn source(&mut self, path: &Word, env: &mut ShellEnv, input: &Input, depth: usize, statement: &str) {
        let body = if let Some(inner) = process_substitution(path) {
            if expand::setup_emitter(inner.trim()).is_some() {
                // `source <(kubectl completion bash)`: shell setup, not a database command.
                if expand::sets_project_env(inner.trim()) {
                    env.opaque
                        .get_or_insert(format!("`{statement}` loads variables that cannot be seen"));
                }
                return;
            }
            match self.substitution_text(inner, env) {
                Ok(t) => Some(t),
                Err(why) => {
                    self.opaque_code(&why, statement);
                    env.opaque
                        .get_or_insert(format!("`{statement}` runs code that cannot be seen"));
                    return;
                }
            }
        } else if path.dynamic {
            None
        } else {
            self.view(env).read_known(&path.text).ok()
        };
        let Some(body) = body else {
            let downloaded = !path.dynamic && self.view(env).written_unknown(&path.text);
            if downloaded {
                let why = self.view(env).read_known(&path.text).err().unwrap_or_default();
                self.opaque_code(&why, statement);
            } else if mentions_risky(&path.text) {
                self.unknown(
                    statement,
                    format!(
                        "`{statement}` runs {}, which could not be read; its name suggests database changes",
                        path.text
                    ),
                );
            }
            env.opaque
                .get_or_insert(format!("`{statement}` loads {}, which could not be read", path.text));
            return;
        };
        self.origin.push(format!("sourced from {}", path.text));
        self.text(&body, env, input, depth + 1);
        self.origin.pop();
    }
    /// Variables loaded by a launcher (`dotenv -e FILE`, `env-cmd -f FILE`, `cross-env`).
    pub(super) fn apply_loads(&mut self, loads: &[EnvLoad], env: &mut ShellEnv) {
        for load in loads {
            let Some(vars) = &load.vars else {
                env.opaque
                    .get_or_insert(format!("{}, which could not be read", load.origin));
                continue;
            };
            for (k, v) in vars {
                let inherited = env.get(k).is_some_and(|v| v.exported && !v.unset)
                    || (env.get(k).is_none() && !env.clean && self.lookup.env_var(k).is_some());
                if inherited && !load.overwrite {
                    continue;
                }
                let mut var = match v {
                    Ok(val) => Var::known(val, Some(load.origin.clone())),
                    Err(why) => Var::unknown(format!("{k} from {}: {why}", load.origin)),
                };
                var.exported = true;
                env.set(k, var);
            }
        }
    }
}

/// `NAME=` at the start of a word (outside quotes): the offset of `=`.
pub(super) fn assignment_name(w: &Word) -> Option<usize> {
    let eq = w.text.find('=')?;
    let name = w.text[..eq].trim_end_matches('+');
    let ok = name.chars().next().is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && name.chars().all(|c| c == '_' || c.is_ascii_alphanumeric())
        && w.exp.iter().all(|s| s.start > eq);
    ok.then_some(eq)
}

/// The value part of `NAME=value` as a word of its own (expansion spans moved).
pub(super) fn value_part(w: &Word, eq: usize) -> Word {
    let exp = w
        .exp
        .iter()
        .filter(|s| s.start > eq)
        .map(|s| parse::Span {
            start: s.start - eq - 1,
            end: s.end - eq - 1,
            quoted: s.quoted,
        })
        .collect();
    Word {
        text: w.text.get(eq + 1..).unwrap_or("").to_string(),
        exp,
        ..w.clone()
    }
}

/// `set -a`, `set +a`, `set -o allexport`, `set -eau`.
pub(super) fn set_options(args: &[Word], env: &mut ShellEnv) {
    let mut it = args.iter().peekable();
    while let Some(w) = it.next() {
        let t = w.text.as_str();
        if t == "--" || t == "-" {
            break;
        }
        let on = t.starts_with('-');
        if !(on || t.starts_with('+')) {
            break;
        }
        if t[1..] == *"o" {
            if it.peek().is_some_and(|n| n.text == "allexport") {
                env.allexport = on;
                it.next();
            }
            continue;
        }
        if t[1..].contains('a') {
            env.allexport = on;
        }
    }
}

/// `env -i` (nothing inherited) and `env -u NAME` (one variable removed).
pub(super) fn env_options(opts: &[Word], env: &mut ShellEnv) {
    let mut it = opts.iter();
    while let Some(w) = it.next() {
        match w.text.as_str() {
            "-i" | "--ignore-environment" | "-" => *env = env.cleared(),
            "-u" | "--unset" => {
                if let Some(n) = it.next() {
                    env.unset(&n.text);
                }
            }
            t => {
                if let Some(n) = t.strip_prefix("--unset=") {
                    env.unset(n);
                }
            }
        }
    }
}

/// `<(cmd)` as written: the inner command text.
pub(super) fn process_substitution(w: &Word) -> Option<&str> {
    let t = w.text.strip_prefix("<(")?.strip_suffix(')')?;
    (w.exp.len() == 1 && w.exp[0].start == 0 && w.exp[0].end == w.text.len()).then_some(t)
}
