//! Word-aware redaction of command lines: the password positions of the tools dbguard knows.
//!
//! Text rules (URLs, `key=value`) cannot see `mysql -pSECRET`, `redis-cli -a SECRET` or
//! `--password SECRET`: the secret is a word whose meaning comes from the word before it. This
//! module reads text as a shell reads it (words, quotes, escapes, `$'...'`, `;` `|` `&&`
//! boundaries, redirections), finds the secret words by each tool's rules, and maps them back to
//! byte ranges of the original text, so a quoted or escaped secret is hidden whole. A word that
//! holds a script of its own (`bash -c "..."`, `ssh host '...'`, `$(...)`) is read again as a
//! command line, to a bounded depth.
//!
//! Positions (the table below is the one list):
//! - every command: `--<name> SECRET` and `--<name>=SECRET` when the option's name says password,
//!   passwd, pass, pwd, token, secret, api key or a credential key (`--admin-key`, `--access-key`...; not `--no-password`, `--password-file`,
//!   `--password-stdin`, `--ask-pass`...), `NAME=SECRET` words whose name is a secret key
//!   (`PGPASSWORD`, `MYSQL_PWD`, `REDISCLI_AUTH`, `*_PASSWORD`...), URL userinfo and
//!   libpq `password=` inside any word;
//! - the MySQL/MariaDB clients: `-pSECRET` (also inside a cluster: `-uroot -vpSECRET`), and a bare
//!   `-p` / `--password` followed by a word (mysql would prompt and read that word as the
//!   database name, but it is far more often a password written in the wrong place);
//! - redis-cli / valkey-cli: `-a SECRET`, `--pass SECRET`, and the commands `AUTH [user] SECRET`,
//!   `AUTH2`, `HELLO ... AUTH user SECRET`, `CONFIG SET requirepass|masterauth SECRET`,
//!   `ACL SETUSER ... >SECRET`;
//! - mongosh, mongo and the mongo tools: `-p SECRET`, `-pSECRET`;
//! - supabase: `-p SECRET`; sqlcmd / bcp: `-P SECRET`; sshpass: `-p SECRET`;
//!   `docker|podman login -p SECRET`; curl: `-u user:SECRET`, `--user`, `--proxy-user`.
//!
//! The psql family's `--password` / `-W` take no value (they force a prompt): the word after them
//! is left alone.

use std::ops::Range;

use super::{credential_ranges, is_secret_key, key_value_ranges, userinfo_ranges, MASK};

/// How deep scripts inside words are read again (`bash -c "ssh h 'mysql -p...'"`).
const MAX_DEPTH: u32 = 4;

/// One word: its value after quote removal, and for each byte of the value the byte range of
/// the original text it came from.
#[derive(Debug, Default)]
struct RawWord {
    value: String,
    spans: Vec<(usize, usize)>,
    /// The word follows a redirection operator (`< file`, `2> log`): never an option's value.
    redirect: bool,
}

impl RawWord {
    fn push(&mut self, c: char, raw: (usize, usize)) {
        self.value.push(c);
        for _ in 0..c.len_utf8() {
            self.spans.push(raw);
        }
    }

    /// The original-text range of value bytes `r`.
    fn raw(&self, r: &Range<usize>) -> Option<Range<usize>> {
        if r.start >= r.end || r.end > self.spans.len() {
            return None;
        }
        Some(self.spans[r.start].0..self.spans[r.end - 1].1)
    }
}

/// Words split into simple commands (`;`, `|`, `&`, newlines, parentheses and backticks end one).
fn lex(src: &str) -> Vec<Vec<RawWord>> {
    let mut segments: Vec<Vec<RawWord>> = Vec::new();
    let mut seg: Vec<RawWord> = Vec::new();
    let mut word: Option<RawWord> = None;
    let mut redirect_next = false;
    let chars: Vec<(usize, char)> = src.char_indices().collect();
    let end_of = |i: usize| chars.get(i + 1).map_or(src.len(), |c| c.0);
    let mut i = 0;

    macro_rules! end_word {
        () => {
            if let Some(w) = word.take() {
                seg.push(w);
            }
        };
    }
    macro_rules! end_segment {
        () => {
            end_word!();
            if !seg.is_empty() {
                segments.push(std::mem::take(&mut seg));
            }
        };
    }
    macro_rules! cur {
        () => {
            word.get_or_insert_with(|| RawWord {
                redirect: std::mem::replace(&mut redirect_next, false),
                ..RawWord::default()
            })
        };
    }

    while i < chars.len() {
        let (pos, c) = chars[i];
        let next = chars.get(i + 1).map(|x| x.1);
        match c {
            ' ' | '\t' | '\r' => end_word!(),
            '\n' | ';' | '|' | '(' | ')' | '`' | '{' | '}' => {
                end_segment!();
                redirect_next = false;
            }
            '&' if next == Some('>') => {
                end_word!();
                redirect_next = true;
                i += 1;
            }
            '&' => {
                end_segment!();
                redirect_next = false;
            }
            '<' | '>' => {
                end_word!();
                redirect_next = true;
                // `>&`, `<&`, `>>`, `<<`, `<<<`, `<<-`: one operator.
                while matches!(chars.get(i + 1).map(|x| x.1), Some('&' | '>' | '<' | '-' | '|')) {
                    i += 1;
                }
            }
            '#' if word.is_none() => {
                while i < chars.len() && chars[i].1 != '\n' {
                    i += 1;
                }
                continue;
            }
            '\\' => {
                match chars.get(i + 1) {
                    Some(&(_, '\n')) => {}
                    Some(&(_, n)) => cur!().push(n, (pos, end_of(i + 1))),
                    None => cur!().push('\\', (pos, end_of(i))),
                }
                i += 2;
                continue;
            }
            '\'' => {
                let w = cur!();
                i += 1;
                while i < chars.len() && chars[i].1 != '\'' {
                    w.push(chars[i].1, (chars[i].0, end_of(i)));
                    i += 1;
                }
            }
            '"' => {
                let w = cur!();
                i += 1;
                while i < chars.len() && chars[i].1 != '"' {
                    let (p, ch) = chars[i];
                    if ch == '\\' && matches!(chars.get(i + 1).map(|x| x.1), Some('"' | '\\' | '$' | '`' | '\n')) {
                        let (_, n) = chars[i + 1];
                        if n != '\n' {
                            w.push(n, (p, end_of(i + 1)));
                        }
                        i += 2;
                        continue;
                    }
                    if ch == '$' && chars.get(i + 1).map(|x| x.1) == Some('(') {
                        i = copy_balanced(&chars, i, src.len(), w);
                        continue;
                    }
                    w.push(ch, (p, end_of(i)));
                    i += 1;
                }
            }
            '$' if next == Some('\'') => {
                let w = cur!();
                i = ansi_c(&chars, i + 2, src.len(), w);
                continue;
            }
            // A command substitution is a command line of its own: its words start a new
            // simple command (and the `)` that closes it ends one).
            '$' if next == Some('(') => {
                end_segment!();
                i += 1;
            }
            '$' if next == Some('{') => {
                let w = cur!();
                i = copy_balanced(&chars, i, src.len(), w);
                continue;
            }
            _ => cur!().push(c, (pos, end_of(i))),
        }
        i += 1;
    }
    end_segment!();
    segments
}

/// Copy `$(...)` / `${...}` starting at `i` (the `$`) verbatim into `w`; returns the index after
/// the closing bracket (or the end). Quotes inside are skipped over so their brackets do not count.
fn copy_balanced(chars: &[(usize, char)], mut i: usize, len: usize, w: &mut RawWord) -> usize {
    let end_of = |i: usize| chars.get(i + 1).map_or(len, |c| c.0);
    let (open, close) = match chars.get(i + 1).map(|x| x.1) {
        Some('{') => ('{', '}'),
        _ => ('(', ')'),
    };
    let mut depth = 0u32;
    let mut quote: Option<char> = None;
    while i < chars.len() {
        let (p, c) = chars[i];
        w.push(c, (p, end_of(i)));
        i += 1;
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, _) if c == open => depth += 1,
            (None, _) if c == close => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    break;
                }
            }
            _ => {}
        }
    }
    i
}

/// The body of `$'...'` from `i` (after the quote): escapes decoded, each decoded character
/// mapped to its whole escape sequence. Returns the index after the closing quote.
fn ansi_c(chars: &[(usize, char)], mut i: usize, len: usize, w: &mut RawWord) -> usize {
    let end_of = |i: usize| chars.get(i + 1).map_or(len, |c| c.0);
    while i < chars.len() {
        let (p, c) = chars[i];
        if c == '\'' {
            return i + 1;
        }
        if c != '\\' {
            w.push(c, (p, end_of(i)));
            i += 1;
            continue;
        }
        let Some(&(_, e)) = chars.get(i + 1) else {
            w.push('\\', (p, end_of(i)));
            return i + 1;
        };
        let simple = match e {
            'n' => Some('\n'),
            't' => Some('\t'),
            'r' => Some('\r'),
            'a' => Some('\u{7}'),
            'b' => Some('\u{8}'),
            'e' | 'E' => Some('\u{1b}'),
            'f' => Some('\u{c}'),
            'v' => Some('\u{b}'),
            '\\' | '\'' | '"' | '?' => Some(e),
            _ => None,
        };
        if let Some(ch) = simple {
            w.push(ch, (p, end_of(i + 1)));
            i += 2;
            continue;
        }
        // Numeric escapes: \xHH, \uHHHH, \UHHHHHHHH, \NNN (octal).
        let (radix, max, start) = match e {
            'x' => (16, 2, i + 2),
            'u' => (16, 4, i + 2),
            'U' => (16, 8, i + 2),
            '0'..='7' => (8, 3, i + 1),
            _ => (0, 0, i + 1),
        };
        let mut j = start;
        let mut v: u32 = 0;
        while radix > 0 && j < chars.len() && j - start < max {
            match chars[j].1.to_digit(radix) {
                Some(d) => v = v.saturating_mul(radix).saturating_add(d),
                None => break,
            }
            j += 1;
        }
        if radix > 0 && j > start {
            if let Some(ch) = char::from_u32(v) {
                w.push(ch, (p, end_of(j - 1)));
            }
            i = j;
        } else {
            w.push('\\', (p, end_of(i)));
            w.push(e, (chars[i + 1].0, end_of(i + 1)));
            i += 2;
        }
    }
    i
}

/// Whether a value may hold a command line of its own, worth reading again.
fn may_hold_script(v: &str) -> bool {
    v.contains([' ', '\t', '\n', ';', '|', '&', '(', ')', '`'])
}

/// How a tool takes its password.
struct Tool {
    names: &'static [&'static str],
    /// Short option letters whose value is a secret: attached (`-pX`) or the next word.
    short: &'static [char],
    /// Short options may be clustered (`-uroot` stops the scan, `-vp` does not).
    cluster: bool,
    /// Short options that take a (non-secret) value: a cluster scan stops at them.
    short_value: &'static str,
    /// A bare short secret option takes the next word even when it starts with `-`.
    next_always: bool,
    /// The rules apply only after this subcommand (`docker login`).
    after: Option<&'static str>,
    /// Long options that look like secrets but are flags for this tool.
    long_flags: &'static [&'static str],
    positional: Positional,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Positional {
    None,
    Redis,
    Curl,
}

const TOOL: Tool = Tool {
    names: &[],
    short: &[],
    cluster: false,
    short_value: "",
    next_always: false,
    after: None,
    long_flags: &[],
    positional: Positional::None,
};

const TOOLS: &[Tool] = &[
    Tool {
        names: &[
            "mysql",
            "mariadb",
            "mysqldump",
            "mariadb-dump",
            "mysqladmin",
            "mariadb-admin",
            "mysqlimport",
            "mariadb-import",
            "mysqlshow",
            "mariadb-show",
            "mysqlcheck",
            "mariadb-check",
            "mysqlpump",
            "mysqlbinlog",
            "mariadb-binlog",
            "mysqlslap",
            "mariadb-slap",
            "mysqlsh",
            "mysql_upgrade",
            "mariadb-upgrade",
        ],
        short: &['p'],
        cluster: true,
        short_value: "DehPSuOT",
        ..TOOL
    },
    Tool {
        names: &["redis-cli", "valkey-cli", "keydb-cli"],
        short: &['a'],
        next_always: true,
        positional: Positional::Redis,
        ..TOOL
    },
    Tool {
        names: &[
            "mongosh",
            "mongo",
            "mongodump",
            "mongorestore",
            "mongoexport",
            "mongoimport",
            "mongofiles",
            "mongostat",
            "mongotop",
        ],
        short: &['p'],
        ..TOOL
    },
    Tool {
        names: &["supabase"],
        short: &['p'],
        next_always: true,
        ..TOOL
    },
    Tool {
        names: &["sqlcmd", "bcp", "osql"],
        short: &['P'],
        next_always: true,
        ..TOOL
    },
    Tool {
        names: &["sshpass"],
        short: &['p'],
        next_always: true,
        ..TOOL
    },
    Tool {
        names: &["docker", "podman", "nerdctl"],
        short: &['p'],
        next_always: true,
        after: Some("login"),
        ..TOOL
    },
    Tool {
        names: &["curl"],
        positional: Positional::Curl,
        ..TOOL
    },
    Tool {
        names: &[
            "psql",
            "pg_dump",
            "pg_dumpall",
            "pg_restore",
            "dropdb",
            "createdb",
            "vacuumdb",
            "reindexdb",
            "clusterdb",
            "pg_basebackup",
            "pgbench",
            "dropuser",
            "createuser",
            "pg_isready",
            "pg_receivewal",
            "pg_recvlogical",
        ],
        long_flags: &["password"],
        ..TOOL
    },
];

fn tool_of(word: &str) -> Option<&'static Tool> {
    let base = word.rsplit('/').next().unwrap_or(word);
    let base = base.strip_suffix(".exe").unwrap_or(base);
    TOOLS.iter().find(|t| t.names.contains(&base))
}

/// Key options whose value is a credential (`convex --admin-key`, `--access-key`...), as
/// opposed to `--primary-key` or `--sort-key`, which name columns.
const SECRET_KEYS: &[&str] = &[
    "admin-key",
    "access-key",
    "secret-key",
    "master-key",
    "service-key",
    "service-role-key",
    "deploy-key",
    "auth-key",
    "private-key",
    "encryption-key",
    "signing-key",
    "account-key",
    "license-key",
];

/// A long option name (without dashes) whose value is a secret, for any command.
fn secret_long_option(name: &str) -> bool {
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return false;
    }
    let n = name.to_ascii_lowercase().replace('_', "-");
    let secretish = n.contains("password")
        || n.contains("passwd")
        || n == "pass"
        || n.ends_with("-pass")
        || n == "pwd"
        || n.ends_with("-pwd")
        || n.ends_with("token")
        || n.ends_with("secret")
        || n.contains("api-key")
        || n.contains("apikey")
        || SECRET_KEYS
            .iter()
            .any(|k| n.strip_suffix(k).is_some_and(|p| p.is_empty() || p.ends_with('-')));
    let not_a_value = n.starts_with("no-")
        || n.starts_with("skip-")
        || n.starts_with("ask")
        || n.starts_with("prompt")
        || [
            "-file", "-stdin", "-env", "-path", "-prompt", "-command", "-cmd", "-policy", "-length", "-id", "-name",
        ]
        .iter()
        .any(|s| n.ends_with(s));
    secretish && !not_a_value
}

/// `NAME=` at the start of a word, with a shell variable name: its length up to `=`.
fn assignment_name(v: &str) -> Option<&str> {
    let eq = v.find('=')?;
    let name = &v[..eq];
    let mut b = name.bytes();
    let first = b.next()?;
    ((first.is_ascii_alphabetic() || first == b'_') && b.all(|c| c.is_ascii_alphanumeric() || c == b'_'))
        .then_some(name)
}

/// Secret ranges of one word's value found by text rules (URLs, key=value, credentials),
/// and by the assignment rule.
fn value_rules(v: &str, hits: &mut Vec<Range<usize>>) {
    if let Some(name) = assignment_name(v) {
        if is_secret_key(name) {
            hits.push(name.len() + 1..v.len());
        }
    }
    hits.extend(userinfo_ranges(v));
    hits.extend(key_value_ranges(v).into_iter().filter(|r| r.start < r.end));
    hits.extend(credential_ranges(v));
}

/// The next word at or after `from` that can be an option's value (not a redirection target).
fn next_value(words: &[RawWord], from: usize) -> Option<usize> {
    (from..words.len()).find(|&j| !words[j].redirect)
}

/// Secret ranges (per word index, in value bytes) of one simple command.
fn segment_hits(words: &[RawWord]) -> Vec<(usize, Range<usize>)> {
    let mut hits: Vec<(usize, Range<usize>)> = Vec::new();
    let mut tool: Option<&Tool> = None;
    let mut tool_active = false;
    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        let v = w.value.as_str();
        let mut local = Vec::new();
        value_rules(v, &mut local);
        hits.extend(local.into_iter().map(|r| (i, r)));
        if let Some(t) = tool_of(v) {
            tool = Some(t);
            tool_active = t.after.is_none();
            if t.positional != Positional::None {
                positional(t.positional, words, i + 1, &mut hits);
            }
            i += 1;
            continue;
        }
        if tool.is_some_and(|t| t.after == Some(v)) {
            tool_active = true;
        }
        // Long options: `--name=SECRET` (value_rules covers `password=` style keys; this covers
        // every secret-looking name), `--name SECRET`, and single-dash `-name=SECRET` (flyway).
        let long = v.strip_prefix("--").map(|b| (b, true)).or_else(|| {
            v.strip_prefix('-').and_then(|b| {
                b.split_once('=')
                    .filter(|(n, _)| secret_long_option(n))
                    .map(|_| (b, false))
            })
        });
        if let Some((body, _)) = long {
            let (name, value) = match body.split_once('=') {
                Some((n, _)) => (n, true),
                None => (body, false),
            };
            let flag = tool.is_some_and(|t| t.long_flags.iter().any(|f| f.eq_ignore_ascii_case(name)));
            if secret_long_option(name) && !flag {
                if value {
                    let start = v.len() - body.len() + name.len() + 1;
                    hits.push((i, start..v.len()));
                } else if let Some(j) = next_value(words, i + 1) {
                    if !words[j].value.starts_with('-') {
                        hits.push((j, 0..words[j].value.len()));
                        i = j + 1;
                        continue;
                    }
                }
            }
            i += 1;
            continue;
        }
        // Short options of the current tool.
        if let (Some(t), true, Some(body)) = (tool, tool_active, v.strip_prefix('-')) {
            if !t.short.is_empty() && !body.is_empty() {
                let mut bare = false;
                for (k, c) in body.char_indices() {
                    if t.short.contains(&c) {
                        let rest = 1 + k + c.len_utf8();
                        if rest < v.len() {
                            hits.push((i, rest..v.len()));
                        } else {
                            bare = true;
                        }
                        break;
                    }
                    if !t.cluster || t.short_value.contains(c) {
                        break;
                    }
                }
                if bare {
                    if let Some(j) = next_value(words, i + 1) {
                        if t.next_always || !words[j].value.starts_with('-') {
                            hits.push((j, 0..words[j].value.len()));
                            i = j + 1;
                            continue;
                        }
                    }
                }
            }
        }
        i += 1;
    }
    hits
}

/// Secrets a tool takes as operands: redis-cli's AUTH and friends, curl's `user:password`.
fn positional(kind: Positional, words: &[RawWord], from: usize, hits: &mut Vec<(usize, Range<usize>)>) {
    let upper = |j: usize| words.get(j).map(|w| w.value.to_ascii_uppercase());
    let whole = |j: usize| (j, 0..words[j].value.len());
    let mut j = from;
    while j < words.len() {
        let u = upper(j).unwrap_or_default();
        match kind {
            Positional::Redis => match u.as_str() {
                // `AUTH [user] password`, `AUTH2 user password`, `HELLO 3 AUTH user password`,
                // `MIGRATE ... AUTH password`: the words after it (a user name too, harmlessly).
                "AUTH" | "AUTH2" => {
                    for k in j + 1..(j + 3).min(words.len()) {
                        if upper(k).is_some_and(|n| matches!(n.as_str(), "KEYS" | "SETNAME" | "COPY" | "REPLACE")) {
                            break;
                        }
                        hits.push(whole(k));
                    }
                }
                "REQUIREPASS" | "MASTERAUTH" if j + 1 < words.len() => hits.push(whole(j + 1)),
                _ if words[j].value.starts_with('>') && words[j].value.len() > 1 => {
                    hits.push((j, 1..words[j].value.len()));
                }
                _ => {}
            },
            Positional::Curl => {
                let v = words[j].value.as_str();
                let value_at = match v {
                    "-u" | "--user" | "-U" | "--proxy-user" => next_value(words, j + 1).map(|k| (k, 0)),
                    _ if v.starts_with("--user=") => Some((j, "--user=".len())),
                    _ if v.starts_with("--proxy-user=") => Some((j, "--proxy-user=".len())),
                    _ if (v.starts_with("-u") || v.starts_with("-U")) && v.len() > 2 && !v.starts_with("--") => {
                        Some((j, 2))
                    }
                    "--oauth2-bearer" => {
                        if let Some(k) = next_value(words, j + 1) {
                            hits.push(whole(k));
                        }
                        None
                    }
                    _ => None,
                };
                if let Some((k, off)) = value_at {
                    let val = &words[k].value;
                    if let Some(colon) = val.get(off..).and_then(|s| s.find(':')) {
                        hits.push((k, off + colon + 1..val.len()));
                    }
                }
            }
            Positional::None => return,
        }
        j += 1;
    }
}

/// Secret ranges of `src` (byte ranges of `src`), and the secret values found, at any depth.
fn scan(src: &str, depth: u32, ranges: &mut Vec<Range<usize>>, values: &mut Vec<String>) {
    for words in lex(src) {
        for (i, r) in segment_hits(&words) {
            let w = &words[i];
            if let Some(raw) = w.raw(&r) {
                ranges.push(raw);
            }
            if let Some(v) = w.value.get(r.clone()) {
                values.push(v.to_string());
            }
        }
        if depth >= MAX_DEPTH {
            continue;
        }
        for w in &words {
            if !may_hold_script(&w.value) {
                continue;
            }
            let mut inner = Vec::new();
            scan(&w.value, depth + 1, &mut inner, values);
            ranges.extend(inner.iter().filter_map(|r| w.raw(r)));
        }
    }
}

/// Byte ranges of `text` that hold a secret in a command-line password position.
pub(super) fn secret_ranges(text: &str) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    let mut values = Vec::new();
    scan(text, 0, &mut ranges, &mut values);
    ranges
}

/// Every byte but RFC 3986's unreserved characters as `%XX`, as URLs built from parts show it.
fn percent_encode(s: &str, hex: &[u8; 16]) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(hex[usize::from(b >> 4)]));
            out.push(char::from(hex[usize::from(b & 15)]));
        }
    }
    out
}

/// The secrets of one operation (a command line), to hide wherever they reappear in text
/// derived from it: a database name, a finding's object, a statement.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Secrets {
    values: Vec<String>,
}

impl Secrets {
    /// The secrets in `text`'s password positions (see the module comment).
    pub fn of(text: &str) -> Secrets {
        let mut ranges = Vec::new();
        let mut values = Vec::new();
        scan(text, 0, &mut ranges, &mut values);
        let mut out: Vec<String> = Vec::new();
        for v in values {
            let trimmed = v.trim_matches(|c| c == '\'' || c == '"').to_string();
            // A secret that lands in a URL (mysql's database name) is shown percent-encoded.
            let encoded = percent_encode(&trimmed, b"0123456789ABCDEF");
            let lower = percent_encode(&trimmed, b"0123456789abcdef");
            for s in [v, trimmed, encoded, lower] {
                // A secret made only of `*` would find itself again in every mask.
                if !s.is_empty() && !MASK.contains(s.as_str()) && !out.contains(&s) {
                    out.push(s);
                }
            }
        }
        // Longest first, so a secret that contains another is hidden whole.
        out.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Secrets { values: out }
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// `text` with every whole-token occurrence of a secret masked: not inside a longer word
    /// (so a short password does not blank every word that contains its letters).
    pub fn mask(&self, text: &str) -> String {
        if self.values.is_empty() {
            return text.to_string();
        }
        let mut ranges = Vec::new();
        for s in &self.values {
            let mut from = 0;
            while let Some(p) = text[from..].find(s.as_str()) {
                let start = from + p;
                let end = start + s.len();
                let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
                let first_word = word(s.chars().next());
                let last_word = word(s.chars().next_back());
                let before = text[..start].chars().next_back();
                let after = text[end..].chars().next();
                let inside_a_word = (first_word && word(before)) || (last_word && word(after));
                if !inside_a_word {
                    ranges.push(start..end);
                }
                from = start + s.chars().next().map_or(1, char::len_utf8);
            }
        }
        super::mask_ranges(text, ranges)
    }

    /// [`super::redact_text`], then [`Secrets::mask`].
    pub fn redact(&self, text: &str) -> String {
        self.mask(&super::redact_text(text))
    }
}

#[cfg(test)]
mod tests {
    use super::super::redact_text;
    use super::*;

    #[test]
    fn tool_positions() {
        let cases = [
            ("mysql -pS3CRET -e 'DROP TABLE t'", "mysql -p*** -e 'DROP TABLE t'"),
            ("mysql -uroot -pS3CRET db", "mysql -uroot -p*** db"),
            ("mysql -u root -p'a b c' db", "mysql -u root -p'***' db"),
            ("mysql --password=S3CRET db", "mysql --password=*** db"),
            ("mysql --password S3CRET", "mysql --password ***"),
            ("mysql -p S3CRET", "mysql -p ***"),
            ("mysql -p -e 'SELECT 1'", "mysql -p -e 'SELECT 1'"),
            (
                "mysqldump -h db -P 3306 -pS3CRET app",
                "mysqldump -h db -P 3306 -p*** app",
            ),
            ("redis-cli -a S3CRET FLUSHALL", "redis-cli -a *** FLUSHALL"),
            ("redis-cli --pass S3CRET -h r", "redis-cli --pass *** -h r"),
            ("redis-cli -h r AUTH default S3CRET", "redis-cli -h r AUTH *** ***"),
            (
                "redis-cli CONFIG SET requirepass S3CRET",
                "redis-cli CONFIG SET requirepass ***",
            ),
            (
                "mongosh -u admin -p S3CRET --eval 'db.dropDatabase()'",
                "mongosh -u admin -p *** --eval 'db.dropDatabase()'",
            ),
            ("supabase db push -p S3CRET", "supabase db push -p ***"),
            ("sqlcmd -S h -U sa -P S3CRET", "sqlcmd -S h -U sa -P ***"),
            ("docker login -u me -p S3CRET", "docker login -u me -p ***"),
            ("docker run -p 5432:5432 postgres", "docker run -p 5432:5432 postgres"),
            ("curl -u me:S3CRET https://x", "curl -u me:*** https://x"),
            ("liquibase update --password S3CRET", "liquibase update --password ***"),
            (
                "neonctl branches delete b --api-key S3CRET",
                "neonctl branches delete b --api-key ***",
            ),
            (
                "npx convex import --replace x.zip --admin-key 'prod:shop|S3CRET'",
                "npx convex import --replace x.zip --admin-key '***'",
            ),
            (
                "az storage blob list --account-key S3CRET --primary-key id",
                "az storage blob list --account-key *** --primary-key id",
            ),
            (
                "psql --password -d app -c 'DROP TABLE t'",
                "psql --password -d app -c 'DROP TABLE t'",
            ),
            ("psql --password app", "psql --password app"),
            (
                "REDISCLI_AUTH=S3CRET redis-cli flushall",
                "REDISCLI_AUTH=*** redis-cli flushall",
            ),
            (
                "docker login --password-stdin < pw.txt",
                "docker login --password-stdin < pw.txt",
            ),
            ("psql --no-password -c 'x'", "psql --no-password -c 'x'"),
        ];
        for (input, want) in cases {
            assert_eq!(redact_text(input), want, "{input}");
        }
    }

    #[test]
    fn nested_scripts_and_quoting() {
        for input in [
            "bash -c \"mysql -pS3CRET -e 'DROP TABLE t'\"",
            "ssh prod 'mysql -u root -pS3CRET app'",
            "echo $(redis-cli -a S3CRET info)",
            "sh -c 'sh -c \"mysql -pS3CRET\"'",
            "mysql -pS3\\CRET",
            "MYSQL_PWD=$'S3\\'CRET' mysql",
            "mysql \"-pS3CRET\"",
            "mysql < dump.sql -pS3CRET",
            "mysql 2>&1 -pS3CRET",
            "sudo -u x mysql -pS3CRET",
            "docker exec -it db mysql -uroot -pS3CRET",
            "{\"command\": \"mysql -pS3CRET -e 'DROP TABLE t'\"}",
            "Next step: run it as `dbguard run -- mysql -pS3CRET -e 'DROP TABLE users'`: dbguard ...",
        ] {
            let out = redact_text(input);
            assert!(!out.contains("S3CRET") && !out.contains("CRET"), "{input} -> {out}");
        }
    }

    #[test]
    fn secrets_mask_whole_tokens_only() {
        let s = Secrets::of("mysql --password shop -e 'DROP TABLE shop_items'");
        assert_eq!(s.mask("mysql://localhost/shop"), "mysql://localhost/***");
        assert_eq!(s.mask("shop_items and workshop"), "shop_items and workshop");
        assert!(Secrets::of("psql -c 'DROP TABLE t'").is_empty());
    }

    #[test]
    fn odd_input_never_panics() {
        for s in [
            "$'",
            "$'\\x",
            "$'\\u{",
            "\"$(",
            "'",
            "\\",
            "-p",
            "mysql -p",
            "redis-cli AUTH",
            "curl -u",
            "a\u{e9}\\",
            "$(é",
        ] {
            let _ = redact_text(s);
            let _ = Secrets::of(s).mask(s);
        }
    }
}
