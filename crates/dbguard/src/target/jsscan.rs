//! A small, forgiving tokenizer for JS/TS configuration files (`drizzle.config.ts`,
//! `prisma.config.ts`): enough to find `key: value` properties whose value is a string
//! literal, `process.env.X` (with `!`, `?? "fallback"`, `|| "fallback"`), `env("X")`,
//! or a `const` holding one of those. It is not a TS parser and never panics: anything
//! it does not recognise comes back as [`ConfigValue::Other`], which callers ignore.

/// A configured connection value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigValue {
    /// A literal URL (or path) written in the file.
    Literal(String),
    /// Read from an environment variable, possibly with a literal fallback.
    Env { var: String, fallback: Option<String> },
    /// Something computed: not followed.
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    Ident(String),
    Str(String),
    /// A template literal containing `${`: its value is computed.
    Template,
    Punct(char),
    Num,
}

/// Tokenize JS/TS text. Regex literals are not recognised (they do not occur in the
/// config files we read; a stray `/` becomes a punctuation token).
pub fn tokenize(src: &str) -> Vec<Tok> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && chars.get(i + 1) == Some(&'/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                i += 1;
            }
            i += 2;
        } else if c == '"' || c == '\'' || c == '`' {
            let (s, computed, next) = read_string(&chars, i);
            out.push(if computed { Tok::Template } else { Tok::Str(s) });
            i = next;
        } else if c.is_alphabetic() || c == '_' || c == '$' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$') {
                i += 1;
            }
            out.push(Tok::Ident(chars[start..i].iter().collect()));
        } else if c.is_ascii_digit() {
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.' || chars[i] == '_') {
                i += 1;
            }
            out.push(Tok::Num);
        } else {
            out.push(Tok::Punct(c));
            i += 1;
        }
    }
    out
}

/// Read a quoted string starting at `start`; returns (value, has `${`, index after).
fn read_string(chars: &[char], start: usize) -> (String, bool, usize) {
    let quote = chars[start];
    let mut s = String::new();
    let mut computed = false;
    let mut i = start + 1;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            if let Some(&n) = chars.get(i + 1) {
                s.push(match n {
                    'n' => '\n',
                    't' => '\t',
                    other => other,
                });
            }
            i += 2;
            continue;
        }
        if c == quote {
            return (s, computed, i + 1);
        }
        if quote == '`' && c == '$' && chars.get(i + 1) == Some(&'{') {
            computed = true;
        }
        s.push(c);
        i += 1;
    }
    (s, computed, i)
}

/// Index of the first token after `key:` (or `"key":`) at or after `from`, before `to`.
pub fn find_property(toks: &[Tok], key: &str, from: usize, to: usize) -> Option<usize> {
    let to = to.min(toks.len());
    (from..to).find_map(|i| {
        let is_key = matches!(&toks[i], Tok::Ident(k) | Tok::Str(k) if k == key);
        let colon = matches!(toks.get(i + 1), Some(Tok::Punct(':')));
        // `a ? key : b` is not a property: the token before a key is `{` or `,`.
        let before_ok = i == 0 || matches!(toks.get(i - 1), Some(Tok::Punct('{' | ',')));
        (is_key && colon && before_ok).then_some(i + 2)
    })
}

/// When `toks[at]` opens an object, the index of its closing brace.
pub fn object_end(toks: &[Tok], at: usize) -> Option<usize> {
    if toks.get(at) != Some(&Tok::Punct('{')) {
        return None;
    }
    let mut depth = 0usize;
    for (i, t) in toks.iter().enumerate().skip(at) {
        match t {
            Tok::Punct('{') => depth += 1,
            Tok::Punct('}') => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// The value of the expression starting at `at`, following one level of `const NAME = ...`.
pub fn value_at(toks: &[Tok], at: usize) -> ConfigValue {
    value_at_depth(toks, at, 0)
}

fn value_at_depth(toks: &[Tok], at: usize, depth: u8) -> ConfigValue {
    let ident = |i: usize, name: &str| matches!(toks.get(i), Some(Tok::Ident(n)) if n == name);
    let punct = |i: usize, c: char| toks.get(i) == Some(&Tok::Punct(c));
    let (value, next) = match toks.get(at) {
        Some(Tok::Str(s)) => (ConfigValue::Literal(s.clone()), at + 1),
        // process.env.X, process.env["X"], import.meta.env.X, Bun.env.X
        Some(Tok::Ident(first))
            if matches!(first.as_str(), "process" | "Bun" | "Deno") && punct(at + 1, '.') && ident(at + 2, "env") =>
        {
            match env_member(toks, at + 3) {
                Some((var, next)) => (ConfigValue::Env { var, fallback: None }, next),
                None => return ConfigValue::Other,
            }
        }
        // env("X") from prisma/config, env.X from helpers like t3-env.
        Some(Tok::Ident(first)) if first == "env" => {
            if punct(at + 1, '(') {
                match (toks.get(at + 2), punct(at + 3, ')')) {
                    (Some(Tok::Str(var)), true) => (
                        ConfigValue::Env {
                            var: var.clone(),
                            fallback: None,
                        },
                        at + 4,
                    ),
                    _ => return ConfigValue::Other,
                }
            } else {
                match env_member(toks, at + 1) {
                    Some((var, next)) => (ConfigValue::Env { var, fallback: None }, next),
                    None => return ConfigValue::Other,
                }
            }
        }
        Some(Tok::Ident(name)) if depth < 2 && !punct(at + 1, '(') && !punct(at + 1, '.') => {
            return const_value(toks, name, depth);
        }
        _ => return ConfigValue::Other,
    };
    // Trailing `!` (non-null assertion) and `?? "x"` / `|| "x"` fallbacks.
    let mut i = next;
    if punct(i, '!') {
        i += 1;
    }
    let fallback_op = (punct(i, '?') && punct(i + 1, '?')) || (punct(i, '|') && punct(i + 1, '|'));
    match value {
        ConfigValue::Env { var, .. } if fallback_op => {
            let fallback = match toks.get(i + 2) {
                Some(Tok::Str(s)) => Some(s.clone()),
                _ => None,
            };
            ConfigValue::Env { var, fallback }
        }
        // Anything else after the value (`+ "?x=1"`, `.replace(...)`) means computed.
        v => {
            if matches!(toks.get(i), Some(Tok::Punct('+' | '.' | '(' | '['))) {
                ConfigValue::Other
            } else {
                v
            }
        }
    }
}

/// `.X` or `["X"]` after `env`; returns the name and the index after it.
fn env_member(toks: &[Tok], at: usize) -> Option<(String, usize)> {
    match (toks.get(at), toks.get(at + 1), toks.get(at + 2)) {
        (Some(Tok::Punct('.')), Some(Tok::Ident(v)), _) => Some((v.clone(), at + 2)),
        (Some(Tok::Punct('[')), Some(Tok::Str(v)), Some(Tok::Punct(']'))) => Some((v.clone(), at + 3)),
        _ => None,
    }
}

fn const_value(toks: &[Tok], name: &str, depth: u8) -> ConfigValue {
    for i in 0..toks.len().saturating_sub(3) {
        let decl = matches!(&toks[i], Tok::Ident(k) if k == "const" || k == "let" || k == "var");
        if decl && matches!(&toks[i + 1], Tok::Ident(n) if n == name) && toks[i + 2] == Tok::Punct('=') {
            return value_at_depth(toks, i + 3, depth + 1);
        }
    }
    ConfigValue::Other
}

/// Paths given to dotenv in the file: `import "dotenv/config"` -> `.env`;
/// `config({ path: ".env.local" })` / `dotenv.config({ path: [...] })` -> those paths.
/// `None` when the file does not load dotenv at all.
pub fn dotenv_paths(toks: &[Tok]) -> Option<Vec<String>> {
    let mentions_dotenv = toks
        .iter()
        .any(|t| matches!(t, Tok::Str(s) if s == "dotenv" || s == "dotenv/config" || s.starts_with("@next/env")));
    if !mentions_dotenv {
        return None;
    }
    let mut paths = Vec::new();
    let mut from = 0;
    while let Some(at) = find_property(toks, "path", from, toks.len()) {
        match toks.get(at) {
            Some(Tok::Str(p)) => paths.push(p.clone()),
            Some(Tok::Punct('[')) => {
                let mut j = at + 1;
                while let Some(t) = toks.get(j) {
                    match t {
                        Tok::Str(p) => paths.push(p.clone()),
                        Tok::Punct(']') => break,
                        _ => {}
                    }
                    j += 1;
                }
            }
            _ => {}
        }
        from = at;
    }
    paths.retain(|p| p.contains(".env"));
    if paths.is_empty() {
        paths.push(".env".into());
    }
    Some(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prop(src: &str, key: &str) -> ConfigValue {
        let t = tokenize(src);
        match find_property(&t, key, 0, t.len()) {
            Some(i) => value_at(&t, i),
            None => ConfigValue::Other,
        }
    }

    fn env(v: &str) -> ConfigValue {
        ConfigValue::Env {
            var: v.into(),
            fallback: None,
        }
    }

    #[test]
    fn values() {
        assert_eq!(prop("{ url: process.env.DATABASE_URL! }", "url"), env("DATABASE_URL"));
        assert_eq!(prop("{ url: process.env['DB'] }", "url"), env("DB"));
        assert_eq!(prop("{ url: env('PG_URL') }", "url"), env("PG_URL"));
        assert_eq!(
            prop("{ url: 'file:./dev.db' }", "url"),
            ConfigValue::Literal("file:./dev.db".into())
        );
        assert_eq!(
            prop("{ url: process.env.X ?? \"postgres://localhost/x\" }", "url"),
            ConfigValue::Env {
                var: "X".into(),
                fallback: Some("postgres://localhost/x".into())
            }
        );
        assert_eq!(prop("{ url: `postgres://${host}/db` }", "url"), ConfigValue::Other);
        assert_eq!(prop("{ url: process.env.A + '?x' }", "url"), ConfigValue::Other);
        assert_eq!(prop("{ url: getUrl() }", "url"), ConfigValue::Other);
        assert_eq!(
            prop("const u = process.env.MY_URL!;\nexport default { url: u }", "url"),
            env("MY_URL")
        );
        assert_eq!(
            prop("// url: 'postgres://commented'\n{ url: process.env.REAL }", "url"),
            env("REAL")
        );
        assert_eq!(
            prop("{ \"url\": \"postgres://h/d\" }", "url"),
            ConfigValue::Literal("postgres://h/d".into())
        );
    }

    #[test]
    fn dotenv() {
        assert_eq!(
            dotenv_paths(&tokenize("import 'dotenv/config';")),
            Some(vec![".env".to_string()])
        );
        assert_eq!(
            dotenv_paths(&tokenize(
                "import { config } from 'dotenv'; config({ path: '.env.local' });"
            )),
            Some(vec![".env.local".to_string()])
        );
        assert_eq!(dotenv_paths(&tokenize("export default {}")), None);
    }

    #[test]
    fn no_panic_on_garbage() {
        for s in [
            "",
            "'",
            "`${",
            "/*",
            "{ url: ",
            "{ url: process.env.",
            "url:",
            "const x =",
            "env(",
            "\\",
        ] {
            let t = tokenize(s);
            if let Some(i) = find_property(&t, "url", 0, t.len()) {
                let _ = value_at(&t, i);
            }
            let _ = object_end(&t, 0);
            let _ = dotenv_paths(&t);
        }
    }
}
