//! The subset of ERB that Rails' generated `config/database.yml` files use, evaluated
//! without Ruby: `ENV["X"]`, `ENV['X']`, `ENV.fetch("X")`, `ENV.fetch("X") { "default" }`,
//! `ENV.fetch("X", "default")`, `ENV["X"] || "default"`, and string, integer and `nil`
//! literals. Anything else is unsupported, never guessed: its output tag renders as a
//! marker (see [`UNKNOWN`]) so the caller can tell the value is unknown and say which
//! expression made it so. Control tags (`<% if ... %>`) are an error, since they can change
//! which lines exist. Variables come from a closure: the process environment is the
//! caller's business.

/// Prefix of the marker an unsupported output tag renders as: `__dbguard_erb_unknown_N__`,
/// `N` indexing [`Rendered::exprs`]. A value containing it is unknown.
pub const UNKNOWN: &str = "__dbguard_erb_unknown_";

/// A template with its output tags evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub text: String,
    /// The expressions that could not be evaluated, in the order of their markers.
    pub exprs: Vec<String>,
}

/// An expression outside the supported shapes (or `ENV.fetch` raising for an unset
/// variable: the app would not boot, so there is no value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsupported;

/// Render the ERB tags of `text`. Output tags dbguard can evaluate become their value
/// (Ruby's `nil` renders as nothing); others become a marker, remembered in
/// [`Rendered::exprs`] so a warning can show the expression. Control tags and unclosed
/// tags are an error naming the line (never the content).
pub fn render(text: &str, lookup: &mut dyn FnMut(&str) -> Option<String>) -> Result<Rendered, String> {
    let mut out = String::with_capacity(text.len());
    let mut exprs = Vec::new();
    let mut rest = text;
    // Lines before `rest`, counted as it advances: recounting from the start for each
    // tag would make a file of many tags quadratic.
    let mut line = 1;
    while let Some((before, tag)) = rest.split_once("<%") {
        out.push_str(before);
        line += before.matches('\n').count();
        // `<%%` is a literal `<%`.
        if let Some(after) = tag.strip_prefix('%') {
            out.push_str("<%");
            rest = after;
            continue;
        }
        let (body, after) = tag
            .split_once("%>")
            .ok_or_else(|| format!("an ERB tag on line {line} is not closed"))?;
        let tag_line = line;
        line += body.matches('\n').count();
        rest = after;
        if body.starts_with('#') {
            continue;
        }
        let Some(expr) = body.strip_prefix('=') else {
            if body.trim().trim_matches('-').trim().is_empty() {
                continue;
            }
            return Err(format!(
                "line {tag_line} runs Ruby code in an ERB tag (`<% ... %>`), which dbguard does not run"
            ));
        };
        let expr = expr.trim().trim_end_matches('-').trim();
        match eval(expr, lookup) {
            Ok(v) => out.push_str(&v.unwrap_or_default()),
            Err(Unsupported) => {
                out.push_str(&format!("{UNKNOWN}{}__", exprs.len()));
                exprs.push(expr.to_string());
            }
        }
    }
    out.push_str(rest);
    Ok(Rendered { text: out, exprs })
}

/// Whether `value` (a piece of rendered text) holds the marker of an unsupported tag.
pub fn is_unknown(value: &str) -> bool {
    value.contains(UNKNOWN)
}

/// The expressions behind the markers in `value`, in order; markers that do not name an
/// expression of `exprs` (text that merely looks like one) are skipped.
pub fn unknown_exprs<'a>(value: &str, exprs: &'a [String]) -> Vec<&'a str> {
    value
        .match_indices(UNKNOWN)
        .filter_map(|(i, _)| {
            let rest = value.get(i + UNKNOWN.len()..)?;
            let n: usize = rest.split("__").next()?.parse().ok()?;
            exprs.get(n).map(String::as_str)
        })
        .collect()
}

/// Evaluate one expression of the supported shapes. `Ok(None)` is `nil`.
pub fn eval(expr: &str, lookup: &mut dyn FnMut(&str) -> Option<String>) -> Result<Option<String>, Unsupported> {
    let mut p = Lexer { s: expr, i: 0 };
    let mut value = p.term(lookup)?;
    while p.eat("||") {
        let rhs = p.term(lookup)?;
        // Ruby: only nil (and false) fall through; an empty string is truthy.
        if value.is_none() {
            value = rhs;
        }
    }
    p.skip_ws();
    if !p.rest().is_empty() {
        return Err(Unsupported);
    }
    Ok(value)
}

struct Lexer<'a> {
    s: &'a str,
    /// Byte offset; always on a char boundary (it only moves past whole chars).
    i: usize,
}

impl Lexer<'_> {
    fn rest(&self) -> &str {
        self.s.get(self.i..).unwrap_or("")
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.rest().chars().next().filter(|c| c.is_whitespace()) {
            self.i += c.len_utf8();
        }
    }

    fn eat(&mut self, tok: &str) -> bool {
        self.skip_ws();
        if self.rest().starts_with(tok) {
            self.i += tok.len();
            true
        } else {
            false
        }
    }

    fn word(&mut self, w: &str) -> bool {
        self.skip_ws();
        let after = self.rest().strip_prefix(w);
        if after.is_some_and(|a| a.chars().next().is_none_or(|c| !(c.is_alphanumeric() || c == '_'))) {
            self.i += w.len();
            true
        } else {
            false
        }
    }

    /// `ENV[..]`, `ENV.fetch(..)`, or a literal.
    fn term(&mut self, lookup: &mut dyn FnMut(&str) -> Option<String>) -> Result<Option<String>, Unsupported> {
        if self.word("ENV") {
            if self.eat("[") {
                let name = self.string()?;
                return if self.eat("]") {
                    Ok(lookup(&name))
                } else {
                    Err(Unsupported)
                };
            }
            if !(self.eat(".") && self.word("fetch") && self.eat("(")) {
                return Err(Unsupported);
            }
            let name = self.string()?;
            let default = if self.eat(",") { Some(self.literal()?) } else { None };
            if !self.eat(")") {
                return Err(Unsupported);
            }
            let block = if self.eat("{") {
                let v = if self.eat("}") {
                    None
                } else {
                    let v = self.literal()?;
                    if !self.eat("}") {
                        return Err(Unsupported);
                    }
                    v
                };
                Some(v)
            } else {
                None
            };
            return match (lookup(&name), block, default) {
                (Some(v), _, _) => Ok(Some(v)),
                (None, Some(b), _) => Ok(b),
                (None, None, Some(d)) => Ok(d),
                // KeyError: the app would not start.
                (None, None, None) => Err(Unsupported),
            };
        }
        self.literal()
    }

    /// A string, an integer, or nil.
    fn literal(&mut self) -> Result<Option<String>, Unsupported> {
        self.skip_ws();
        if self.word("nil") {
            return Ok(None);
        }
        // ASCII digits and `_`: one byte each, so the count is a byte length too.
        let digits: String = self
            .rest()
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '_')
            .collect();
        if !digits.is_empty() {
            self.i += digits.len();
            return Ok(Some(digits.replace('_', "")));
        }
        self.string().map(Some)
    }

    fn string(&mut self) -> Result<String, Unsupported> {
        self.skip_ws();
        let rest = self.rest();
        let mut chars = rest.char_indices();
        let quote = match chars.next() {
            Some((_, q @ ('"' | '\''))) => q,
            _ => return Err(Unsupported),
        };
        let mut out = String::new();
        let mut escaped = false;
        for (j, c) in chars {
            if escaped {
                escaped = false;
                match (quote, c) {
                    ('"', 'n') => out.push('\n'),
                    ('"', 't') => out.push('\t'),
                    (_, '\\') => out.push('\\'),
                    (q, c) if c == q => out.push(c),
                    ('\'', c) => {
                        out.push('\\');
                        out.push(c);
                    }
                    // Other escapes in double quotes (\u, \x...): not worth guessing.
                    _ => return Err(Unsupported),
                }
            } else if c == '\\' {
                escaped = true;
            } else if c == quote {
                self.i += j + c.len_utf8();
                return Ok(out);
            } else if quote == '"' && c == '#' && rest.get(j..).is_some_and(|r| r.starts_with("#{")) {
                // Interpolation runs Ruby.
                return Err(Unsupported);
            } else {
                out.push(c);
            }
        }
        Err(Unsupported)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl FnMut(&str) -> Option<String> + 'a {
        move |n: &str| vars.iter().find(|(k, _)| *k == n).map(|(_, v)| v.to_string())
    }

    #[test]
    fn erb_shapes() {
        let vars = [("H", "db.example.com"), ("EMPTY", "")];
        let mut l = env(&vars);
        let mut ev = |e: &str| eval(e, &mut l);
        assert_eq!(ev(r#"ENV["H"]"#), Ok(Some("db.example.com".into())));
        assert_eq!(ev("ENV['NOPE']"), Ok(None));
        assert_eq!(ev(r#"ENV.fetch("NOPE") { "local" }"#), Ok(Some("local".into())));
        assert_eq!(ev(r#"ENV.fetch("H") { "local" }"#), Ok(Some("db.example.com".into())));
        assert_eq!(ev("ENV.fetch('NOPE', 5432)"), Ok(Some("5432".into())));
        assert_eq!(ev(r#"ENV.fetch("NOPE") { 5 }"#), Ok(Some("5".into())));
        assert_eq!(ev(r#"ENV.fetch("NOPE") {}"#), Ok(None));
        assert_eq!(ev(r#"ENV["NOPE"] || "x""#), Ok(Some("x".into())));
        assert_eq!(ev(r#"ENV["EMPTY"] || "x""#), Ok(Some(String::new())));
        assert_eq!(ev(r#"ENV.fetch("NOPE")"#), Err(Unsupported));
        for bad in [
            r#"ENV["H"].presence || "x""#,
            r#"Rails.application.credentials.db"#,
            r#"ENV.fetch("NOPE", "a#{1}")"#,
            r#"ENV.fetch "H""#,
            r#"`cat /etc/passwd`"#,
            r#"ENV["H"#,
            "",
            "ENVX['H']",
        ] {
            assert_eq!(ev(bad), Err(Unsupported), "{bad}");
        }
    }

    #[test]
    fn render_tags() {
        let vars = [("U", "me")];
        let mut l = env(&vars);
        let r = render(
            "<%# comment %>a: <%= ENV['U'] %>\nb: <%= foo.bar %>\nc: <%% x\nd: <%= ENV['U'] -%>\n",
            &mut l,
        )
        .unwrap();
        assert_eq!(r.text, "a: me\nb: __dbguard_erb_unknown_0__\nc: <% x\nd: me\n");
        assert_eq!(r.exprs, ["foo.bar"]);
        assert!(render("<% if x %>\na: 1\n<% end %>", &mut l)
            .unwrap_err()
            .contains("line 1"));
        assert!(render("a: <%= ENV['U']", &mut l).is_err());
        // Line numbers count the lines inside earlier tags too.
        assert!(render("<%#\n\n%>\n<% x %>", &mut l).unwrap_err().contains("line 4"));
        assert!(render("a\n<%= 1 %>\n<%= x", &mut l).unwrap_err().contains("line 3"));
    }

    /// Found by the `erb` fuzz target: literal text after a tag completed a second marker
    /// (`__dbguard_erb_unknown_0__` + `dbguard_erb_unknown_...`). The value is unknown
    /// either way (the safe side); only real markers name an expression.
    #[test]
    fn regression_marker_formed_by_literal_text() {
        let r = render("__>\n<%= E$%>dbguard_erb_unknown_.\u{1}\u{0}1", &mut |_| None).unwrap();
        assert_eq!(r.text.matches(UNKNOWN).count(), 2);
        assert!(is_unknown(&r.text));
        assert_eq!(unknown_exprs(&r.text, &r.exprs), ["E$"]);
    }

    #[test]
    fn markers_name_their_expressions() {
        let r = render("u: <%= a %>-<%= 'x' %>-<%= b %>", &mut |_| None).unwrap();
        assert!(is_unknown(&r.text));
        assert_eq!(unknown_exprs(&r.text, &r.exprs), ["a", "b"]);
        // Text that only looks like a marker names nothing.
        assert!(unknown_exprs("__dbguard_erb_unknown_7__ __dbguard_erb_unknown_x", &r.exprs).is_empty());
    }
}
