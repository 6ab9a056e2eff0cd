//! A small, lenient bash parser built for analysis, not execution.
//!
//! Why not brush-parser (the bash parser of the brush shell)? It was evaluated: it is fast
//! (about 1-2 µs for a typical command in release mode) and gives heredoc bodies, but it
//! panics on reachable input (`echo 99999999999999999999>x` hits an `unwrap()` on the
//! file-descriptor number in its PEG grammar), keeps global memoization caches, drags
//! `insta`, `cached`, `bon` and `peg` in as run-time dependencies, and hands words back
//! still quoted, so a second word parser would be needed anyway. A library that can panic
//! on a command an agent sends is not acceptable in a guard, so this module does the job
//! itself: one pass over the bytes, bounded recursion, no allocation beyond the result.
//!
//! What it understands: `;` `&&` `||` `&` newlines, pipes (`|`, `|&`), subshells `( )`,
//! groups `{ }`, `if/while/until/for/case/select/function` (their keywords are skipped and
//! every command inside is kept: both branches of a condition count), `[[ ]]`, `(( ))`,
//! comments, single/double/ANSI-C quotes and backslash escapes, `$(...)`, backticks and
//! process substitution (parsed recursively, kept as nested scripts), leading `VAR=value`
//! assignments (arrays skipped), redirections with fd numbers, heredocs (`<<`, `<<-`,
//! quoted delimiters, several per line) and here-strings.
//!
//! Expansions (`$x`, `${x}`, `$(...)`) are kept in a word's text as their source text and
//! flag the word as `dynamic`: the analyzer must not trust its value. Anything the parser
//! cannot make sense of sets `error`, and the analyzer fails closed on it.

/// Deepest nesting of subshells, groups and substitutions before giving up.
const MAX_DEPTH: usize = 48;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Script {
    pub pipelines: Vec<Pipeline>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pipeline {
    pub commands: Vec<Command>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Simple(SimpleCommand),
    /// A subshell, group, `case` body...: its commands, and redirections applied to it.
    Compound(Script, Vec<Redirect>),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SimpleCommand {
    pub assigns: Vec<(String, Word)>,
    pub words: Vec<Word>,
    pub redirects: Vec<Redirect>,
    /// Command and process substitutions found in any word, assignment or redirection.
    pub nested: Vec<Script>,
    /// The source text of the command.
    pub text: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Word {
    /// Value after quote removal; expansions are kept as their source text.
    pub text: String,
    /// Contains a parameter, arithmetic or command expansion: the value is not known.
    pub dynamic: bool,
    /// Some part of it was quoted or escaped.
    pub quoted: bool,
    /// Has an unquoted glob character (`*`, `?`, `[`).
    pub glob: bool,
    /// Where each expansion (`$x`, `${x:-d}`, `$(...)`, backquotes, `<(...)`) sits in `text`,
    /// so that it can be expanded later without mistaking a quoted `'$x'` for one.
    pub exp: Vec<Span>,
}

/// Byte range of one expansion inside a word's text; `quoted`: inside double quotes
/// (no field splitting).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub quoted: bool,
}

impl Word {
    pub fn lit(s: &str) -> Word {
        Word {
            text: s.to_string(),
            ..Word::default()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedirectKind {
    /// `<`
    Input,
    /// `>`, `>|`, `&>`: the file is truncated.
    Output,
    /// `>>`, `&>>`
    Append,
    /// `<<` / `<<-`: the body, and whether the delimiter was quoted (no expansion).
    HereDoc { body: String, quoted: bool },
    /// `<<<`
    HereString,
    /// `<&`, `>&`, `<>`: descriptors, not data.
    Dup,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    pub fd: Option<u32>,
    pub kind: RedirectKind,
    pub target: Word,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    pub script: Script,
    /// First syntax problem met (unterminated quote, unbalanced parenthesis...).
    pub error: Option<String>,
}

/// Parse a command line (or a whole script).
pub fn parse(src: &str) -> Parsed {
    parse_at_depth(src, 0)
}

/// An unquoted heredoc body as one word: `$x`, `${x}`, `$(...)` and backquotes are
/// expansions (as inside double quotes), `\` escapes only `$`, `` ` `` and `\`.
pub fn heredoc_word(body: &str) -> Word {
    let mut p = P {
        s: body.as_bytes(),
        i: 0,
        error: None,
        depth: 1,
        hd_newline: None,
        hd_resume: None,
    };
    let mut buf = Vec::new();
    let mut w = Word::default();
    let mut nested = Vec::new();
    while let Some(c) = p.peek() {
        match c {
            b'\\' => match p.peek_at(1) {
                Some(n @ (b'$' | b'`' | b'\\')) => {
                    buf.push(n);
                    p.i += 2;
                }
                _ => {
                    buf.push(c);
                    p.i += 1;
                }
            },
            b'$' => p.dollar(&mut buf, &mut w, &mut nested, true),
            b'`' => p.backtick(&mut buf, &mut w, &mut nested, true),
            _ => {
                buf.push(c);
                p.i += 1;
            }
        }
    }
    w.quoted = true;
    w.text = match String::from_utf8(buf) {
        Ok(t) => t,
        Err(e) => {
            w.exp.clear();
            String::from_utf8_lossy(e.as_bytes()).into_owned()
        }
    };
    w
}

fn parse_at_depth(src: &str, depth: usize) -> Parsed {
    let mut p = P {
        s: src.as_bytes(),
        i: 0,
        error: None,
        depth,
        hd_newline: None,
        hd_resume: None,
    };
    let script = p.list(Term::Eof);
    Parsed { script, error: p.error }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Term {
    Eof,
    Paren,
    Brace,
    Case,
}

struct P<'a> {
    s: &'a [u8],
    i: usize,
    error: Option<String>,
    depth: usize,
    /// Position of the newline after which pending heredoc bodies start...
    hd_newline: Option<usize>,
    /// ...and where parsing resumes once that newline is consumed.
    hd_resume: Option<usize>,
}

fn is_meta(c: u8) -> bool {
    matches!(
        c,
        b' ' | b'\t' | b'\n' | b'\r' | b';' | b'&' | b'|' | b'<' | b'>' | b'(' | b')'
    )
}

fn is_name_start(c: u8) -> bool {
    c == b'_' || c.is_ascii_alphabetic()
}

fn is_name_char(c: u8) -> bool {
    c == b'_' || c.is_ascii_alphanumeric()
}

impl<'a> P<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn peek_at(&self, off: usize) -> Option<u8> {
        self.s.get(self.i + off).copied()
    }

    fn starts(&self, pat: &[u8]) -> bool {
        self.s.get(self.i..).is_some_and(|r| r.starts_with(pat))
    }

    /// Skip past the `close` that balances an `open` already consumed (nesting counted;
    /// with `escapes`, a backslash skips the next byte). False when the text ends first.
    fn skip_balanced(&mut self, open: u8, close: u8, escapes: bool) -> bool {
        let mut depth = 1usize;
        while let Some(c) = self.peek() {
            self.i += 1;
            if c == open {
                depth += 1;
            } else if c == close {
                depth -= 1;
                if depth == 0 {
                    return true;
                }
            } else if escapes && c == b'\\' {
                self.i += 1;
            }
        }
        false
    }

    fn fail(&mut self, msg: &str) {
        if self.error.is_none() {
            self.error = Some(msg.to_string());
        }
    }

    fn text(&self, from: usize, to: usize) -> String {
        let to = to.min(self.s.len());
        let from = from.min(to);
        String::from_utf8_lossy(&self.s[from..to]).trim().to_string()
    }

    /// Consume one newline, jumping over heredoc bodies that start after it.
    fn newline(&mut self) {
        let at = self.i;
        self.i += 1;
        if self.hd_newline == Some(at) {
            if let Some(r) = self.hd_resume.take() {
                self.i = r.max(self.i);
            }
            self.hd_newline = None;
        }
    }

    /// Spaces, tabs, carriage returns and backslash-newline continuations.
    fn blanks(&mut self) {
        while let Some(c) = self.peek() {
            match c {
                b' ' | b'\t' | b'\r' => self.i += 1,
                b'\\' if self.peek_at(1) == Some(b'\n') => self.i += 2,
                _ => break,
            }
        }
    }

    fn skip_comment(&mut self) {
        while let Some(c) = self.peek() {
            if c == b'\n' {
                break;
            }
            self.i += 1;
        }
    }

    /// A reserved word at the current position (only if it stands alone).
    fn keyword(&self) -> Option<&'static str> {
        const KW: &[&str] = &[
            "if", "then", "else", "elif", "fi", "while", "until", "do", "done", "for", "select", "case", "esac",
            "function", "time", "coproc", "!", "{", "}", "[[",
        ];
        let rest = self.s.get(self.i..)?;
        let end = rest.iter().position(|&c| is_meta(c)).unwrap_or(rest.len());
        let w = &rest[..end];
        KW.iter().copied().find(|k| k.as_bytes() == w)
    }

    fn list(&mut self, term: Term) -> Script {
        let mut script = Script::default();
        if self.depth > MAX_DEPTH {
            self.fail("nesting too deep");
            self.i = self.s.len();
            return script;
        }
        self.depth += 1;
        loop {
            self.blanks();
            let Some(c) = self.peek() else {
                if term != Term::Eof {
                    self.fail("unterminated group or substitution");
                }
                break;
            };
            match c {
                b'\n' => self.newline(),
                b'#' => self.skip_comment(),
                b';' if self.starts(b";;") => {
                    if term == Term::Case {
                        break;
                    }
                    self.fail("unexpected ;;");
                    self.i += 2;
                }
                b';' | b'&' => {
                    self.i += if self.starts(b"&&") { 2 } else { 1 };
                }
                b'|' => {
                    // `||` between pipelines, or a stray pipe.
                    if !self.starts(b"||") {
                        self.fail("unexpected |");
                    }
                    self.i += if self.starts(b"||") { 2 } else { 1 };
                }
                b')' => {
                    if term == Term::Paren {
                        self.i += 1;
                        self.depth -= 1;
                        return script;
                    }
                    self.fail("unexpected )");
                    self.i += 1;
                }
                _ => {
                    match self.keyword() {
                        Some("}") if term == Term::Brace => {
                            self.i += 1;
                            self.depth -= 1;
                            return script;
                        }
                        Some("esac") if term == Term::Case => break,
                        _ => {}
                    }
                    let before = self.i;
                    let pl = self.pipeline(term);
                    if !pl.commands.is_empty() {
                        script.pipelines.push(pl);
                    }
                    if self.i == before {
                        // Guarantee progress on anything unexpected.
                        self.fail("unexpected character");
                        self.i += 1;
                    }
                }
            }
        }
        self.depth -= 1;
        script
    }

    fn pipeline(&mut self, term: Term) -> Pipeline {
        let mut pl = Pipeline::default();
        loop {
            if let Some(cmd) = self.command(term) {
                pl.commands.push(cmd);
            }
            self.blanks();
            if self.peek() == Some(b'|') && !self.starts(b"||") {
                self.i += if self.starts(b"|&") { 2 } else { 1 };
                loop {
                    self.blanks();
                    match self.peek() {
                        Some(b'\n') => self.newline(),
                        Some(b'#') => self.skip_comment(),
                        _ => break,
                    }
                }
                continue;
            }
            break;
        }
        pl
    }

    fn command(&mut self, term: Term) -> Option<Command> {
        loop {
            self.blanks();
            match self.peek() {
                None => return None,
                Some(b'(') => {
                    if self.starts(b"((") {
                        let start = self.i;
                        self.skip_arith(2);
                        // Kept whole: if bash re-reads it as nested subshells, the words are here.
                        let text = self.text(start, self.i);
                        let mut sc = SimpleCommand {
                            text: text.clone(),
                            ..SimpleCommand::default()
                        };
                        sc.words.push(Word {
                            text,
                            dynamic: true,
                            ..Word::default()
                        });
                        return Some(Command::Simple(sc));
                    }
                    self.i += 1;
                    let mut inner = self.list(Term::Paren);
                    let redirects = self.trailing_redirects(&mut inner);
                    return Some(Command::Compound(inner, redirects));
                }
                _ => {}
            }
            match self.keyword() {
                Some("{") => {
                    self.i += 1;
                    let mut inner = self.list(Term::Brace);
                    let redirects = self.trailing_redirects(&mut inner);
                    return Some(Command::Compound(inner, redirects));
                }
                Some("}") if term != Term::Brace => {
                    self.i += 1;
                    return None;
                }
                Some("}") => return None,
                Some(k @ ("if" | "then" | "else" | "elif" | "while" | "until" | "do" | "!" | "time" | "coproc")) => {
                    self.i += k.len();
                    if k == "time" {
                        self.blanks();
                        if self.starts(b"-p") && self.peek_at(2).is_none_or(is_meta) {
                            self.i += 2;
                        }
                    }
                }
                Some(k @ ("fi" | "done")) => {
                    self.i += k.len();
                    return None;
                }
                Some("esac") => {
                    if term != Term::Case {
                        self.i += 4;
                    }
                    return None;
                }
                Some(k @ ("for" | "select")) => {
                    self.i += k.len();
                    self.blanks();
                    if self.starts(b"((") {
                        self.skip_arith(2);
                        return None;
                    }
                    // Loop variable and word list: analyzed for substitutions only.
                    let start = self.i;
                    let mut sc = SimpleCommand::default();
                    loop {
                        self.blanks();
                        match self.peek() {
                            None | Some(b'\n' | b';' | b'&' | b'|' | b')') => break,
                            Some(b'<' | b'>' | b'(') => self.i += 1,
                            _ => {
                                let before = self.i;
                                let _ = self.word(&mut sc.nested);
                                if self.i == before {
                                    self.i += 1;
                                }
                            }
                        }
                    }
                    if sc.nested.is_empty() {
                        return None;
                    }
                    sc.text = self.text(start, self.i);
                    sc.words.push(Word {
                        text: "for".into(),
                        ..Word::default()
                    });
                    return Some(Command::Simple(sc));
                }
                Some("function") => {
                    self.i += 8;
                    self.blanks();
                    let mut sink = Vec::new();
                    let _ = self.word(&mut sink);
                    self.blanks();
                    if self.starts(b"()") {
                        self.i += 2;
                    }
                    return None;
                }
                Some("case") => return Some(self.case()),
                Some("[[") => return Some(self.double_bracket()),
                _ => return self.simple().map(Command::Simple),
            }
        }
    }

    fn case(&mut self) -> Command {
        self.i += 4;
        let mut body = Script::default();
        let mut head = SimpleCommand::default();
        self.blanks();
        let _ = self.word(&mut head.nested);
        for n in head.nested {
            body.pipelines.extend(n.pipelines);
        }
        // `in`
        loop {
            self.blanks();
            match self.peek() {
                Some(b'\n') => self.newline(),
                _ => break,
            }
        }
        if self.keyword().is_none() && self.starts(b"in") {
            self.i += 2;
        }
        loop {
            // Pattern list up to `)`.
            loop {
                self.blanks();
                match self.peek() {
                    Some(b'\n') => self.newline(),
                    Some(b'#') => self.skip_comment(),
                    _ => break,
                }
            }
            if self.peek().is_none() {
                self.fail("unterminated case");
                break;
            }
            if self.keyword() == Some("esac") {
                self.i += 4;
                break;
            }
            if self.peek() == Some(b'(') {
                self.i += 1;
            }
            loop {
                self.blanks();
                match self.peek() {
                    None => break,
                    Some(b')') => {
                        self.i += 1;
                        break;
                    }
                    Some(b'|') => self.i += 1,
                    Some(c) if is_meta(c) => self.i += 1,
                    _ => {
                        let mut sink = Vec::new();
                        let before = self.i;
                        let _ = self.word(&mut sink);
                        if self.i == before {
                            self.i += 1;
                        }
                    }
                }
            }
            let item = self.list(Term::Case);
            body.pipelines.extend(item.pipelines);
            if self.starts(b";;&") {
                self.i += 3;
            } else if self.starts(b";;") || self.starts(b";&") {
                self.i += 2;
            }
        }
        let redirects = self.trailing_redirects(&mut body);
        Command::Compound(body, redirects)
    }

    /// `[[ ... ]]`: operators inside are not shell operators; only substitutions matter.
    fn double_bracket(&mut self) -> Command {
        let start = self.i;
        self.i += 2;
        let mut sc = SimpleCommand::default();
        sc.words.push(Word::lit("[["));
        loop {
            self.blanks();
            match self.peek() {
                None => {
                    self.fail("unterminated [[");
                    break;
                }
                Some(b']') if self.starts(b"]]") => {
                    self.i += 2;
                    break;
                }
                Some(b'\n') => self.newline(),
                Some(c) if is_meta(c) => self.i += 1,
                _ => {
                    let before = self.i;
                    if let Some(w) = self.word(&mut sc.nested) {
                        sc.words.push(w);
                    }
                    if self.i == before {
                        self.i += 1;
                    }
                }
            }
        }
        sc.text = self.text(start, self.i);
        Command::Simple(sc)
    }

    /// Skip `((...))` or `$((...))` starting at `self.i + open` (after the opening parens).
    fn skip_arith(&mut self, open: usize) {
        self.i += open;
        let mut depth = 2usize;
        while let Some(c) = self.peek() {
            self.i += 1;
            match c {
                b'(' => depth += 1,
                b')' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return;
                    }
                }
                _ => {}
            }
        }
        self.fail("unterminated arithmetic");
    }

    /// Redirections after a compound command; substitutions in them (or in an unquoted
    /// heredoc body) run too, so their commands join `inner`.
    fn trailing_redirects(&mut self, inner: &mut Script) -> Vec<Redirect> {
        let mut out = Vec::new();
        let mut sink = Vec::new();
        loop {
            self.blanks();
            let fd = self.fd_prefix();
            match self.peek() {
                Some(b'<' | b'>') if !(self.starts(b"<(") || self.starts(b">(")) => {
                    if let Some(r) = self.redirect(fd.map(|(n, _)| n), &mut sink) {
                        out.push(r);
                    }
                }
                Some(b'&') if self.starts(b"&>") => {
                    if let Some(r) = self.redirect(None, &mut sink) {
                        out.push(r);
                    }
                }
                _ => {
                    if let Some((_, len)) = fd {
                        self.i -= len;
                    }
                    for n in sink {
                        inner.pipelines.extend(n.pipelines);
                    }
                    return out;
                }
            }
        }
    }

    /// A run of digits directly followed by `<` or `>`: consumed, with its length.
    fn fd_prefix(&mut self) -> Option<(u32, usize)> {
        let rest = self.s.get(self.i..)?;
        let n = rest.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 || !matches!(rest.get(n), Some(b'<' | b'>')) {
            return None;
        }
        let fd = std::str::from_utf8(&rest[..n]).ok()?.parse::<u32>().unwrap_or(u32::MAX);
        self.i += n;
        Some((fd, n))
    }

    fn simple(&mut self) -> Option<SimpleCommand> {
        let start = self.i;
        let mut sc = SimpleCommand::default();
        loop {
            self.blanks();
            let Some(c) = self.peek() else { break };
            match c {
                b'\n' | b';' | b'|' | b')' => break,
                b'&' if !self.starts(b"&>") => break,
                b'#' => {
                    self.skip_comment();
                    break;
                }
                b'(' => {
                    // `name() { ...; }`: a function definition; its body is parsed next.
                    let save = self.i;
                    self.i += 1;
                    self.blanks();
                    if self.peek() == Some(b')') && sc.words.len() == 1 {
                        self.i += 1;
                        return None;
                    }
                    self.i = save;
                    self.fail("unexpected (");
                    self.i += 1;
                    let inner = self.list(Term::Paren);
                    sc.nested.push(inner);
                }
                b'<' | b'>' if self.peek_at(1) == Some(b'(') => {
                    // Kept as its source text (`<(curl -s URL)`): what a shell reading it
                    // would run is the output of the inner commands.
                    let from = self.i;
                    self.i += 2;
                    let inner = self.list(Term::Paren);
                    sc.nested.push(inner);
                    let text = String::from_utf8_lossy(&self.s[from..self.i.min(self.s.len())]).into_owned();
                    let end = text.len();
                    sc.words.push(Word {
                        text,
                        dynamic: true,
                        exp: vec![Span {
                            start: 0,
                            end,
                            quoted: true,
                        }],
                        ..Word::default()
                    });
                }
                b'<' | b'>' | b'&' => {
                    if let Some(r) = self.redirect(None, &mut sc.nested) {
                        sc.redirects.push(r);
                    }
                }
                _ => {
                    if let Some((fd, _)) = self.fd_prefix() {
                        if let Some(r) = self.redirect(Some(fd), &mut sc.nested) {
                            sc.redirects.push(r);
                        }
                        continue;
                    }
                    let before = self.i;
                    let mut assign_at = None;
                    let w = self.word_inner(&mut sc.nested, &mut assign_at);
                    if self.i == before {
                        self.fail("unexpected character");
                        self.i += 1;
                        continue;
                    }
                    let Some(w) = w else { continue };
                    match assign_at {
                        Some(eq) if sc.words.is_empty() => {
                            let name = w.text.get(..eq).unwrap_or("").trim_end_matches('+').to_string();
                            let exp = w
                                .exp
                                .iter()
                                .filter(|s| s.start > eq)
                                .map(|s| Span {
                                    start: s.start - eq - 1,
                                    end: s.end - eq - 1,
                                    quoted: s.quoted,
                                })
                                .collect();
                            let value = Word {
                                text: w.text.get(eq + 1..).unwrap_or("").to_string(),
                                exp,
                                ..w
                            };
                            if value.text.is_empty() && self.peek() == Some(b'(') {
                                // Array assignment `X=(a b)`: skip the elements.
                                self.i += 1;
                                self.skip_balanced(b'(', b')', false);
                            }
                            sc.assigns.push((name, value));
                        }
                        _ => sc.words.push(w),
                    }
                }
            }
        }
        sc.text = self.text(start, self.i);
        if sc.words.is_empty() && sc.assigns.is_empty() && sc.redirects.is_empty() && sc.nested.is_empty() {
            return None;
        }
        Some(sc)
    }

    fn redirect(&mut self, fd: Option<u32>, nested: &mut Vec<Script>) -> Option<Redirect> {
        let ops: &[(&[u8], u8)] = &[
            (b"<<<", 0),
            (b"<<-", 1),
            (b"<<", 2),
            (b"<&", 3),
            (b"<>", 3),
            (b"<", 4),
            (b"&>>", 5),
            (b"&>", 6),
            (b">>", 5),
            (b">&", 3),
            (b">|", 6),
            (b">", 6),
        ];
        let (op, code) = ops.iter().find(|(op, _)| self.starts(op)).copied()?;
        self.i += op.len();
        self.blanks();
        let target = self.word(nested).unwrap_or_default();
        let kind = match code {
            0 => RedirectKind::HereString,
            1 | 2 => {
                let quoted = target.quoted;
                let body = self.heredoc_body(&target.text, code == 1);
                if !quoted {
                    self.heredoc_substitutions(&body, nested);
                }
                RedirectKind::HereDoc { body, quoted }
            }
            3 => RedirectKind::Dup,
            4 => RedirectKind::Input,
            5 => RedirectKind::Append,
            _ => {
                if target.text == "-" || (code == 6 && op == b">" && target.text.starts_with('&')) {
                    RedirectKind::Dup
                } else {
                    RedirectKind::Output
                }
            }
        };
        Some(Redirect { fd, kind, target })
    }

    /// Read a heredoc body now: it starts after the next newline (or after the body of
    /// an earlier heredoc on the same line) and ends at the delimiter line.
    fn heredoc_body(&mut self, delim: &str, strip_tabs: bool) -> String {
        let start = match self.hd_resume {
            Some(r) => r,
            None => {
                let nl = self.s.get(self.i..).and_then(|r| r.iter().position(|&c| c == b'\n'));
                match nl {
                    Some(off) => {
                        self.hd_newline = Some(self.i + off);
                        self.i + off + 1
                    }
                    None => {
                        self.fail("heredoc without body");
                        return String::new();
                    }
                }
            }
        };
        let mut body = String::new();
        let mut pos = start;
        let mut found = false;
        while pos < self.s.len() {
            let end = self.s[pos..]
                .iter()
                .position(|&c| c == b'\n')
                .map_or(self.s.len(), |o| pos + o);
            let line = String::from_utf8_lossy(&self.s[pos..end]);
            let line = line.strip_suffix('\r').unwrap_or(&line);
            let line = if strip_tabs {
                line.trim_start_matches('\t')
            } else {
                line
            };
            pos = (end + 1).min(self.s.len());
            if line == delim {
                found = true;
                break;
            }
            body.push_str(line);
            body.push('\n');
        }
        if !found {
            self.fail("unterminated heredoc");
        }
        self.hd_resume = Some(pos.max(start));
        body
    }

    /// An unquoted heredoc body is expanded like double-quoted text: its `$(...)` and
    /// backquotes run when the command does (a quoted delimiter keeps the body as data).
    fn heredoc_substitutions(&mut self, body: &str, nested: &mut Vec<Script>) {
        if !body.bytes().any(|c| c == b'$' || c == b'`') {
            return;
        }
        let mut sub = P {
            s: body.as_bytes(),
            i: 0,
            error: None,
            depth: self.depth + 1,
            hd_newline: None,
            hd_resume: None,
        };
        let mut buf = Vec::new();
        let mut w = Word::default();
        while let Some(c) = sub.peek() {
            match c {
                b'\\' => sub.i += 2,
                b'$' => {
                    sub.dollar(&mut buf, &mut w, nested, true);
                    buf.clear();
                }
                b'`' => {
                    sub.backtick(&mut buf, &mut w, nested, true);
                    buf.clear();
                }
                _ => sub.i += 1,
            }
        }
        if let Some(e) = sub.error {
            self.fail(&format!("in a heredoc: {e}"));
        }
    }

    fn word(&mut self, nested: &mut Vec<Script>) -> Option<Word> {
        let mut ignore = None;
        self.word_inner(nested, &mut ignore)
    }

    /// Read one word. `assign_at` receives the byte offset of `=` in the text when the
    /// word starts with an unquoted `NAME=`.
    fn word_inner(&mut self, nested: &mut Vec<Script>, assign_at: &mut Option<usize>) -> Option<Word> {
        let mut buf: Vec<u8> = Vec::new();
        let mut w = Word::default();
        let mut plain_prefix = true;
        let mut any = false;
        while let Some(c) = self.peek() {
            if is_meta(c) {
                break;
            }
            any = true;
            match c {
                b'\\' => {
                    plain_prefix = false;
                    match self.peek_at(1) {
                        Some(b'\n') => self.i += 2,
                        Some(n) => {
                            w.quoted = true;
                            buf.push(n);
                            self.i += 2;
                        }
                        None => {
                            buf.push(b'\\');
                            self.i += 1;
                        }
                    }
                }
                b'\'' => {
                    plain_prefix = false;
                    w.quoted = true;
                    self.i += 1;
                    match self.s.get(self.i..).and_then(|r| r.iter().position(|&c| c == b'\'')) {
                        Some(off) => {
                            buf.extend_from_slice(&self.s[self.i..self.i + off]);
                            self.i += off + 1;
                        }
                        None => {
                            buf.extend_from_slice(&self.s[self.i..]);
                            self.i = self.s.len();
                            self.fail("unterminated single quote");
                        }
                    }
                }
                b'"' => {
                    plain_prefix = false;
                    w.quoted = true;
                    self.i += 1;
                    self.double_quoted(&mut buf, &mut w, nested);
                }
                b'$' => {
                    plain_prefix = false;
                    if self.peek_at(1) == Some(b'\'') {
                        w.quoted = true;
                        self.i += 2;
                        self.ansi_c(&mut buf);
                    } else if self.peek_at(1) == Some(b'"') {
                        w.quoted = true;
                        self.i += 2;
                        self.double_quoted(&mut buf, &mut w, nested);
                    } else {
                        self.dollar(&mut buf, &mut w, nested, false);
                    }
                }
                b'`' => {
                    plain_prefix = false;
                    self.backtick(&mut buf, &mut w, nested, false);
                }
                b'=' if plain_prefix && assign_at.is_none() => {
                    let name = buf.strip_suffix(b"+").unwrap_or(&buf);
                    if name.first().is_some_and(|&c| is_name_start(c)) && name.iter().all(|&c| is_name_char(c)) {
                        *assign_at = Some(buf.len());
                    }
                    plain_prefix = false;
                    buf.push(c);
                    self.i += 1;
                }
                _ => {
                    if matches!(c, b'*' | b'?' | b'[') {
                        w.glob = true;
                    }
                    if !(is_name_char(c) || (c == b'+' && self.peek_at(1) == Some(b'='))) {
                        plain_prefix = false;
                    }
                    buf.push(c);
                    self.i += 1;
                }
            }
        }
        if !any {
            return None;
        }
        w.text = match String::from_utf8(buf) {
            Ok(t) => t,
            Err(e) => {
                // Replacement characters would move the spans: without them the word's
                // expansions stay unknown.
                w.exp.clear();
                String::from_utf8_lossy(e.as_bytes()).into_owned()
            }
        };
        Some(w)
    }

    fn double_quoted(&mut self, buf: &mut Vec<u8>, w: &mut Word, nested: &mut Vec<Script>) {
        loop {
            let Some(c) = self.peek() else {
                self.fail("unterminated double quote");
                return;
            };
            match c {
                b'"' => {
                    self.i += 1;
                    return;
                }
                b'\\' => match self.peek_at(1) {
                    Some(b'\n') => self.i += 2,
                    Some(n @ (b'$' | b'`' | b'"' | b'\\')) => {
                        buf.push(n);
                        self.i += 2;
                    }
                    _ => {
                        buf.push(b'\\');
                        self.i += 1;
                    }
                },
                b'$' => self.dollar(buf, w, nested, true),
                b'`' => self.backtick(buf, w, nested, true),
                b'\n' => {
                    // A newline inside quotes is data, not the heredoc trigger.
                    if self.hd_newline == Some(self.i) {
                        self.hd_newline = None;
                    }
                    buf.push(c);
                    self.i += 1;
                }
                _ => {
                    buf.push(c);
                    self.i += 1;
                }
            }
        }
    }

    fn ansi_c(&mut self, buf: &mut Vec<u8>) {
        while let Some(c) = self.peek() {
            self.i += 1;
            match c {
                b'\'' => return,
                b'\\' => {
                    let Some(n) = self.peek() else { break };
                    self.i += 1;
                    match n {
                        b'n' => buf.push(b'\n'),
                        b't' => buf.push(b'\t'),
                        b'r' => buf.push(b'\r'),
                        b'a' => buf.push(7),
                        b'b' => buf.push(8),
                        b'e' | b'E' => buf.push(27),
                        b'f' => buf.push(12),
                        b'v' => buf.push(11),
                        b'x' => {
                            let v = self.radix_digits(16, 2);
                            buf.push(v.unwrap_or(b'x'));
                        }
                        b'0'..=b'7' => {
                            self.i -= 1;
                            let v = self.radix_digits(8, 3);
                            buf.push(v.unwrap_or(b'0'));
                        }
                        other => buf.push(other),
                    }
                }
                _ => buf.push(c),
            }
        }
        self.fail("unterminated $'...'");
    }

    fn radix_digits(&mut self, radix: u32, max: usize) -> Option<u8> {
        let mut v: u32 = 0;
        let mut n = 0;
        while n < max {
            let Some(d) = self.peek().and_then(|c| (c as char).to_digit(radix)) else {
                break;
            };
            v = v * radix + d;
            self.i += 1;
            n += 1;
        }
        if n == 0 {
            None
        } else {
            Some((v & 0xff) as u8)
        }
    }

    /// `$...` at the current position: the source text goes into the word unchanged.
    fn dollar(&mut self, buf: &mut Vec<u8>, w: &mut Word, nested: &mut Vec<Script>, quoted: bool) {
        let start = self.i;
        let at = buf.len();
        let mut expansion = true;
        match self.peek_at(1) {
            Some(b'(') if self.peek_at(2) == Some(b'(') => {
                self.skip_arith(3);
                w.dynamic = true;
            }
            Some(b'(') => {
                self.i += 2;
                let inner = self.list(Term::Paren);
                nested.push(inner);
                w.dynamic = true;
            }
            Some(b'{') => {
                self.i += 2;
                if !self.skip_balanced(b'{', b'}', true) {
                    self.fail("unterminated ${");
                }
                w.dynamic = true;
            }
            Some(c) if is_name_start(c) => {
                self.i += 1;
                while self.peek().is_some_and(is_name_char) {
                    self.i += 1;
                }
                w.dynamic = true;
            }
            Some(c) if c.is_ascii_digit() || b"@*#?$!-".contains(&c) => {
                self.i += 2;
                w.dynamic = true;
            }
            _ => {
                self.i += 1;
                expansion = false;
            }
        }
        let end = self.i.min(self.s.len());
        buf.extend_from_slice(&self.s[start.min(end)..end]);
        if expansion {
            w.exp.push(Span {
                start: at,
                end: buf.len(),
                quoted,
            });
        }
    }

    fn backtick(&mut self, buf: &mut Vec<u8>, w: &mut Word, nested: &mut Vec<Script>, quoted: bool) {
        let start = self.i;
        let at = buf.len();
        self.i += 1;
        let mut inner: Vec<u8> = Vec::new();
        let mut closed = false;
        while let Some(c) = self.peek() {
            self.i += 1;
            match c {
                b'`' => {
                    closed = true;
                    break;
                }
                b'\\' => match self.peek() {
                    Some(n @ (b'`' | b'\\' | b'$')) => {
                        inner.push(n);
                        self.i += 1;
                    }
                    _ => inner.push(b'\\'),
                },
                _ => inner.push(c),
            }
        }
        if !closed {
            self.fail("unterminated backtick");
        }
        let src = String::from_utf8_lossy(&inner);
        let parsed = parse_at_depth(&src, self.depth + 1);
        if let Some(e) = parsed.error {
            self.fail(&e);
        }
        nested.push(parsed.script);
        w.dynamic = true;
        let end = self.i.min(self.s.len());
        buf.extend_from_slice(&self.s[start.min(end)..end]);
        w.exp.push(Span {
            start: at,
            end: buf.len(),
            quoted,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn simple(src: &str) -> Vec<SimpleCommand> {
        fn walk(s: &Script, out: &mut Vec<SimpleCommand>) {
            for p in &s.pipelines {
                for c in &p.commands {
                    match c {
                        Command::Simple(sc) => {
                            out.push(sc.clone());
                            for n in &sc.nested {
                                walk(n, out);
                            }
                        }
                        Command::Compound(inner, _) => walk(inner, out),
                    }
                }
            }
        }
        let p = parse(src);
        let mut out = Vec::new();
        walk(&p.script, &mut out);
        out
    }

    fn words(sc: &SimpleCommand) -> Vec<&str> {
        sc.words.iter().map(|w| w.text.as_str()).collect()
    }

    #[test]
    fn lists_and_pipes() {
        let cmds = simple("a 1; b 2 && c || d & e | f");
        let names: Vec<_> = cmds.iter().map(|c| c.words[0].text.clone()).collect();
        assert_eq!(names, ["a", "b", "c", "d", "e", "f"]);
        assert_eq!(parse("e | f").script.pipelines[0].commands.len(), 2);
    }

    #[test]
    fn quotes_and_escapes() {
        let cmds = simple(r#"pr"isma" mi'grate' re\set $'a\tb' "x \"y\" \$z""#);
        assert_eq!(words(&cmds[0]), ["prisma", "migrate", "reset", "a\tb", "x \"y\" $z"]);
        assert!(!cmds[0].words[4].dynamic);
    }

    #[test]
    fn assignments_and_redirects() {
        let cmds = simple("A=1 B='x y' cmd arg > out 2>&1 < in");
        assert_eq!(cmds[0].assigns.len(), 2);
        assert_eq!(cmds[0].assigns[1].1.text, "x y");
        assert_eq!(words(&cmds[0]), ["cmd", "arg"]);
        assert_eq!(cmds[0].redirects.len(), 3);
        assert_eq!(cmds[0].redirects[2].kind, RedirectKind::Input);
    }

    #[test]
    fn heredocs() {
        let p = simple("psql db <<'EOF' && echo done\nDROP TABLE x;\nEOF\necho after");
        assert_eq!(
            p[0].redirects[0].kind,
            RedirectKind::HereDoc {
                body: "DROP TABLE x;\n".into(),
                quoted: true
            }
        );
        let names: Vec<_> = p.iter().map(|c| c.words[0].text.clone()).collect();
        assert_eq!(names, ["psql", "echo", "echo"]);
        let two = simple("a <<A; b <<-B\nx\nA\n\ty\n\tB\nc");
        assert_eq!(
            two[1].redirects[0].kind,
            RedirectKind::HereDoc {
                body: "y\n".into(),
                quoted: false
            }
        );
        assert_eq!(two[2].words[0].text, "c");
    }

    #[test]
    fn substitutions_are_nested() {
        let cmds = simple("echo $(psql -c 'DROP TABLE x') `rails db:drop` <(a)");
        let names: Vec<_> = cmds.iter().map(|c| c.words[0].text.clone()).collect();
        assert_eq!(names, ["echo", "psql", "rails", "a"]);
        assert!(cmds[0].words[1].dynamic);
    }

    #[test]
    fn compound_commands() {
        let cmds =
            simple("if true; then (a; { b; }); else c; fi; for x in 1 2; do d; done; case $x in a|b) e;; *) f;; esac");
        let names: Vec<_> = cmds.iter().map(|c| c.words[0].text.clone()).collect();
        assert_eq!(names, ["true", "a", "b", "c", "d", "e", "f"]);
        let cmds = simple("f() { g; }; [[ -f x && $(h) ]]; ((i++)); # j\nk");
        let names: Vec<_> = cmds.iter().map(|c| c.words[0].text.clone()).collect();
        assert_eq!(names, ["g", "[[", "h", "((i++))", "k"]);
    }

    #[test]
    fn errors_do_not_panic() {
        for s in [
            "'",
            "\"",
            "$(",
            "`",
            "((",
            "{",
            ")",
            "a <<",
            "echo 99999999999999999999>x",
            "$'\\x",
            "${",
            "(((((((((((",
        ] {
            let _ = parse(s);
        }
        assert!(parse("echo 'x").error.is_some());
        assert!(parse("echo x").error.is_none());
        let deep = "(".repeat(10_000);
        assert!(parse(&deep).error.is_some());
        let deep = "$(".repeat(10_000);
        assert!(parse(&deep).error.is_some());
    }
}
