//! Expansion of `$x`, `${x}`, `${x:-default}` (and `-`, `=`, `+`, `?` forms) and command
//! substitutions whose output can be known (`$(cat url.txt)`, `$(echo ... | base64 -d)`),
//! from the shell state of [`super::env`]. Used on every word before wrappers and
//! recognizers see it; what cannot be known keeps its source text and stays `dynamic`.
//!
//! Words that name the target get a second expansion with the process environment
//! ([`Tier::Full`]); an expansion that stays unknown there is wrapped in [`MARK`]s, so the
//! target hint can say that the database it names is unknown.

use super::env::{Got, ShellEnv, Tier, Var};
use super::limits::MAX_EXPANSIONS;
use super::parse::{self, Command, Span, Word};
use super::recognizers::Input;
use super::words::basename;
use super::Analyzer;
use crate::target::TargetHint;

/// Wraps an unknown expansion inside the words used to find the target.
const MARK: char = '\u{1}';
/// Command substitutions followed inside each other.
const MAX_SUBSTITUTION_DEPTH: usize = 6;

/// Programs whose output is shell setup (agents, prompts, completions, version managers),
/// fed to `eval` or `source` by every shell profile: not database commands.
const SETUP_EMITTERS: &[&str] = &[
    "ssh-agent",
    "gpg-agent",
    "keychain",
    "starship",
    "zoxide",
    "fzf",
    "thefuck",
    "dircolors",
    "lesspipe",
    "lesspipe.sh",
    "atuin",
    "mcfly",
    "navi",
    "brew",
    "pyenv",
    "rbenv",
    "nodenv",
    "goenv",
    "jenv",
    "plenv",
    "fnm",
    "opam",
    "luarocks",
    "oh-my-posh",
    "mise",
    "rtx",
    "direnv",
    "conda",
    "micromamba",
    "zellij",
];

/// Emitters whose output also sets project variables (`DATABASE_URL` from `.envrc`).
const ENV_EMITTERS: &[&str] = &["direnv", "mise", "rtx", "conda", "micromamba"];

/// Whether the command text (of a `$(...)` / `<(...)`) prints shell setup code.
pub fn setup_emitter(cmd: &str) -> Option<&'static str> {
    let mut words = cmd.split_whitespace();
    let prog = basename(words.next()?.trim_matches(['"', '\'']));
    let rest: Vec<&str> = words.collect();
    if let Some(p) = SETUP_EMITTERS.iter().find(|p| **p == prog) {
        return Some(p);
    }
    rest.iter()
        .any(|w| matches!(*w, "completion" | "completions" | "--completion" | "shell-completion"))
        .then_some("completion")
}

/// Whether a target hint names its database through an unknown expansion; the fields
/// that do are emptied of the placeholder.
pub fn strip_marks(h: &mut TargetHint) -> bool {
    let mut found = false;
    for f in [
        &mut h.url,
        &mut h.host,
        &mut h.port,
        &mut h.user,
        &mut h.dbname,
        &mut h.file,
    ]
    .into_iter()
    .flatten()
    {
        if f.contains(MARK) {
            found = true;
            *f = f
                .split(MARK)
                .enumerate()
                .filter(|(i, _)| i % 2 == 0)
                .map(|(_, p)| p)
                .collect();
        }
    }
    found
}

impl Analyzer<'_> {
    /// Expand words as the shell would before running them (an unquoted expansion that is
    /// a whole word is split into words).
    pub(super) fn expand_words(&mut self, words: &[Word], env: &ShellEnv, tier: Tier) -> Vec<Word> {
        if !words.iter().any(|w| w.dynamic) {
            return words.to_vec();
        }
        let mut out = Vec::with_capacity(words.len());
        for w in words {
            self.expand_into(w, env, tier, None, &mut out);
        }
        out
    }

    /// Words for finding the target: the process environment fills in what the command
    /// line does not say; what stays unknown is marked, and why is pushed to `why`.
    pub(super) fn expand_for_target(&mut self, words: &[Word], env: &ShellEnv, why: &mut Vec<String>) -> Vec<Word> {
        let mut out = Vec::with_capacity(words.len());
        for w in words {
            self.expand_into(w, env, Tier::Full, Some(why), &mut out);
        }
        out
    }

    fn expand_into(
        &mut self,
        w: &Word,
        env: &ShellEnv,
        tier: Tier,
        marks: Option<&mut Vec<String>>,
        out: &mut Vec<Word>,
    ) {
        if !w.dynamic {
            out.push(w.clone());
            return;
        }
        let whole = w.exp.len() == 1 && !w.exp[0].quoted && w.exp[0].start == 0 && w.exp[0].end == w.text.len();
        let e = self.expand_text(w, env, tier, marks);
        if whole && !e.dynamic && !e.text.contains(MARK) {
            out.extend(e.text.split_whitespace().map(Word::lit));
        } else {
            out.push(e);
        }
    }

    /// One word, without field splitting (redirect targets, assignment values).
    pub(super) fn expand_one(&mut self, w: &Word, env: &ShellEnv, tier: Tier) -> Word {
        if !w.dynamic {
            return w.clone();
        }
        self.expand_text(w, env, tier, None)
    }

    fn expand_text(&mut self, w: &Word, env: &ShellEnv, tier: Tier, mut marks: Option<&mut Vec<String>>) -> Word {
        let valid = !w.exp.is_empty()
            && w.exp.windows(2).all(|p| p[0].end <= p[1].start)
            && w.exp.iter().all(|s| {
                s.start < s.end
                    && s.end <= w.text.len()
                    && w.text.is_char_boundary(s.start)
                    && w.text.is_char_boundary(s.end)
            });
        if !valid {
            // An expansion we have no span for (arithmetic commands, undecodable bytes).
            if let Some(m) = marks {
                m.push(format!("`{}`", w.text));
                return Word {
                    text: format!("{MARK}{}{MARK}", m.len()),
                    ..w.clone()
                };
            }
            return w.clone();
        }
        let mut text = String::with_capacity(w.text.len());
        let mut exp = Vec::new();
        let mut last = 0;
        for s in &w.exp {
            text.push_str(&w.text[last..s.start]);
            let src = &w.text[s.start..s.end];
            match self.expand_span(src, env, tier) {
                Ok(v) => text.push_str(&v),
                Err(why) => {
                    let start = text.len();
                    match marks.as_deref_mut() {
                        // A plain token in its place: whatever the recognizer makes of the
                        // word (a URL, a host, a conninfo), the unknown part stays visible.
                        Some(m) => {
                            m.push(why);
                            text.push(MARK);
                            text.push_str(&m.len().to_string());
                            text.push(MARK);
                        }
                        None => text.push_str(src),
                    }
                    exp.push(Span {
                        start,
                        end: text.len(),
                        quoted: s.quoted,
                    });
                }
            }
            last = s.end;
        }
        text.push_str(&w.text[last..]);
        Word {
            text,
            dynamic: !exp.is_empty(),
            quoted: w.quoted,
            glob: w.glob,
            exp,
        }
    }

    /// The value of one expansion, or why it cannot be known.
    fn expand_span(&mut self, src: &str, env: &ShellEnv, tier: Tier) -> Result<String, String> {
        self.expansions += 1;
        if self.expansions > MAX_EXPANSIONS {
            self.cut
                .get_or_insert_with(|| format!("more than {MAX_EXPANSIONS} expansions"));
            return Err(format!("`{src}` (beyond the expansion limit)"));
        }
        if src.starts_with("$((") {
            return Err(format!("`{src}`, computed at run time"));
        }
        if let Some(inner) = src.strip_prefix("$(").and_then(|r| r.strip_suffix(')')) {
            return self.substitution(inner, env, tier);
        }
        if let Some(inner) = src.strip_prefix('`').and_then(|r| r.strip_suffix('`')) {
            let inner = inner.replace("\\`", "`").replace("\\$", "$").replace("\\\\", "\\");
            return self.substitution(&inner, env, tier);
        }
        if src.starts_with("<(") || src.starts_with(">(") {
            return Err(format!("`{src}`"));
        }
        let (name, op, word) = if let Some(inner) = src.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
            let n = inner
                .char_indices()
                .find(|(i, c)| !(c.is_ascii_alphanumeric() || *c == '_') || (*i == 0 && c.is_ascii_digit()))
                .map_or(inner.len(), |(i, _)| i);
            let rest = &inner[n..];
            let op_len = if rest.starts_with([':']) && rest[1..].starts_with(['-', '=', '+', '?']) {
                2
            } else if rest.starts_with(['-', '=', '+', '?']) {
                1
            } else {
                0
            };
            if n == 0 || (op_len == 0 && !rest.is_empty()) {
                return Err(format!("`{src}`, computed at run time"));
            }
            (&inner[..n], &rest[..op_len], &rest[op_len..])
        } else {
            let name = &src[1..];
            if name.is_empty()
                || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                || name.starts_with(|c: char| c.is_ascii_digit())
            {
                return Err(format!("`{src}`, a shell parameter set at run time"));
            }
            (name, "", "")
        };
        let got = env.lookup(name, tier, self.lookup);
        if let Got::Value(v) = &got {
            let origin = match env.get(name) {
                Some(var) => var.origin.clone().unwrap_or_else(|| "set on the command line".into()),
                None => "the environment dbguard runs in".into(),
            };
            self.expanded.push((format!("${name}"), origin, v.clone()));
        }
        let colon = op.starts_with(':');
        let empty_counts = |v: &str| colon && v.is_empty();
        match (op.trim_start_matches(':'), got) {
            (_, Got::Unknown(why)) => Err(why),
            ("", Got::Value(v)) => Ok(v),
            ("", Got::Unset) => Ok(String::new()),
            ("", Got::Absent) => Err(format!(
                "${name}, which is set neither on the command line nor in the environment dbguard runs in"
            )),
            ("-" | "=", Got::Value(v)) if !empty_counts(&v) => Ok(v),
            ("-" | "=", _) => self.default_word(word, env, tier),
            ("+", Got::Value(v)) if !empty_counts(&v) => self.default_word(word, env, tier),
            ("+", _) => Ok(String::new()),
            ("?", Got::Value(v)) if !empty_counts(&v) => Ok(v),
            ("?", _) => Err(format!("${name} is not set (the command stops there)")),
            _ => Err(format!("`{src}`, computed at run time")),
        }
    }

    /// The word of `${x:-word}`: expanded like any word, quotes removed.
    fn default_word(&mut self, src: &str, env: &ShellEnv, tier: Tier) -> Result<String, String> {
        if src.is_empty() {
            return Ok(String::new());
        }
        let parsed = parse::parse(&format!(": {src}"));
        let Some(Command::Simple(sc)) = parsed.script.pipelines.first().and_then(|p| p.commands.first()) else {
            return Err(format!("`{src}`"));
        };
        let mut parts = Vec::new();
        for w in sc.words.iter().skip(1) {
            let e = self.expand_one(w, env, tier);
            if e.dynamic {
                return Err(format!("`{src}`, computed at run time"));
            }
            parts.push(e.text);
        }
        Ok(parts.join(" "))
    }

    /// The output of `$(inner)`, trailing newlines removed, or why it cannot be known.
    fn substitution(&mut self, inner: &str, env: &ShellEnv, tier: Tier) -> Result<String, String> {
        if self.substitution_depth >= MAX_SUBSTITUTION_DEPTH {
            return Err(format!("`$({inner})`, nested too deeply"));
        }
        self.substitution_depth += 1;
        let r = self.substitution_text_at(inner, env, tier);
        self.substitution_depth -= 1;
        r.map(|t| t.trim_end_matches('\n').to_string())
    }

    /// The output of a command given as text (a `$(...)` or `<(...)`), or why it cannot be
    /// known.
    pub(super) fn substitution_text(&mut self, inner: &str, env: &ShellEnv) -> Result<String, String> {
        self.substitution_text_at(inner, env, Tier::Exact)
    }

    fn substitution_text_at(&mut self, inner: &str, env: &ShellEnv, tier: Tier) -> Result<String, String> {
        let shown = || format!("the output of `{}`", inner.trim());
        self.bytes = self.bytes.saturating_add(inner.len());
        let parsed = parse::parse(inner);
        if parsed.error.is_some() || parsed.script.pipelines.len() != 1 {
            return Err(shown());
        }
        let mut input = Input::Unknown("the terminal".into());
        for cmd in &parsed.script.pipelines[0].commands {
            let Command::Simple(sc) = cmd else { return Err(shown()) };
            input = self.redirect_input(&sc.redirects, input, env);
            let words = self.expand_words(&sc.words, env, tier);
            input = self.output_of(&words, &sc.text, &input, env);
        }
        match input {
            Input::Text(t) => Ok(t),
            Input::Unknown(why) => Err(why),
            _ => Err(shown()),
        }
    }

    /// An unquoted heredoc body: `$x` and `$(...)` expand as in double quotes.
    pub(super) fn heredoc_text(&mut self, body: &str, env: &ShellEnv) -> Input {
        let w = parse::heredoc_word(body);
        let e = self.expand_one(&w, env, Tier::Exact);
        Input::Text(e.text)
    }

    /// The variable an assignment sets: its value from the command line alone, and with
    /// the process environment.
    pub(super) fn assign_value(&mut self, value: &Word, env: &ShellEnv) -> Var {
        let origin = self.origin.last().cloned();
        if !value.dynamic {
            return Var::known(&value.text, origin);
        }
        let exact = self.expand_one(value, env, Tier::Exact);
        let mut why = Vec::new();
        let full = self.expand_text(value, env, Tier::Full, Some(&mut why));
        Var {
            exact: (!exact.dynamic).then_some(exact.text),
            full: if full.dynamic {
                Err(why.join("; "))
            } else {
                Ok(full.text)
            },
            exported: false,
            unset: false,
            origin,
        }
    }
}

/// What computed shell code hides.
#[derive(Debug, Default)]
pub struct Hidden {
    /// A command that cannot be seen (`$CMD`, `$(curl ...)` where a command goes).
    pub code: Option<String>,
    /// Setup code that also sets project variables (`eval "$(direnv export bash)"`).
    pub sets_env: bool,
}

/// Shell code with expansions in it: is any command of it computed where it cannot be
/// seen? Programs that print shell setup (`ssh-agent`, completions) are not hidden code.
pub fn hidden_code(code: &str) -> Hidden {
    let parsed = parse::parse(code);
    let mut h = Hidden::default();
    let mut visit = |sc: &parse::SimpleCommand| {
        let Some(first) = sc.words.first().filter(|w| w.dynamic) else {
            return;
        };
        // A program built from literal text and an expansion (`$HOME/bin/x`) is visible.
        let covered: usize = first.exp.iter().map(|s| s.end.saturating_sub(s.start)).sum();
        if first.text.len() > covered && !first.exp.is_empty() {
            return;
        }
        if first.exp.is_empty() {
            h.code.get_or_insert_with(|| format!("`{}`", first.text));
        }
        for s in &first.exp {
            let src = first.text.get(s.start..s.end).unwrap_or(&first.text);
            let inner = src
                .strip_prefix("$(")
                .and_then(|r| r.strip_suffix(')'))
                .or_else(|| src.strip_prefix('`').and_then(|r| r.strip_suffix('`')));
            match inner.map(str::trim) {
                Some(i) if setup_emitter(i).is_some() => h.sets_env |= sets_project_env(i),
                _ => {
                    h.code.get_or_insert_with(|| format!("`{src}`"));
                }
            }
        }
    };
    walk(&parsed.script, &mut visit);
    h
}

/// Every simple command of a script, substitutions included.
pub fn walk(s: &parse::Script, f: &mut dyn FnMut(&parse::SimpleCommand)) {
    for p in &s.pipelines {
        for c in &p.commands {
            match c {
                Command::Simple(sc) => {
                    f(sc);
                    for n in &sc.nested {
                        walk(n, f);
                    }
                }
                Command::Compound(inner, _) => walk(inner, f),
            }
        }
    }
}

/// Whether a `$(...)`/`<(...)` prints setup code that also sets project variables.
pub fn sets_project_env(cmd: &str) -> bool {
    setup_emitter(cmd).is_some_and(|p| ENV_EMITTERS.contains(&p))
}
