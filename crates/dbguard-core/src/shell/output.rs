//! What a command writes to its standard output, when that can be known without running
//! it: `echo`, `printf` (with `%q`), `cat`, `base64 -d`, `xxd -r -p`, `tee`, simple `grep`,
//! `xargs` alone, `pg_dump`. Everything else is [`Input::Unknown`]. Used for pipes into
//! shells and clients (`echo ... | base64 -d | sh`), command substitutions
//! (`psql "$(cat url.txt)"`, `bash -c "$(echo ... | base64 -d)"`), and files written
//! earlier in the same command line.

use base64::Engine as _;

use super::parse::Word;
use super::recognizers::Input;
use super::words::basename;

/// Decoded text larger than this is not followed (the rest of the analysis has its own budget).
const MAX_DECODED: usize = 4 * 1024 * 1024;

/// The output of one command given as expanded words, its standard input, and a reader
/// for the files it names (`None`: cannot be read).
pub fn output_of(words: &[Word], text: &str, input: &Input, read: &dyn Fn(&str) -> Option<String>) -> Input {
    let Some(first) = words.first() else {
        return Input::Unknown("an empty command".into());
    };
    let prog = basename(&first.text);
    let args = &words[1..];
    let unknown = || Input::Unknown(format!("the output of `{text}`"));
    if first.dynamic {
        return unknown();
    }
    match prog {
        "echo" => {
            let rest: Vec<&Word> = args
                .iter()
                .skip_while(|w| matches!(w.text.as_str(), "-n" | "-e" | "-E" | "-ne" | "-en"))
                .collect();
            if rest.iter().any(|w| w.dynamic) {
                return unknown();
            }
            let joined = rest.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" ");
            let joined = if args
                .first()
                .is_some_and(|w| w.text.starts_with('-') && w.text.contains('e'))
            {
                unescape(&joined)
            } else {
                joined
            };
            Input::Text(joined + "\n")
        }
        "printf" => {
            let args: Vec<&Word> = match args.first() {
                Some(w) if w.text == "--" => args[1..].iter().collect(),
                _ => args.iter().collect(),
            };
            if args.iter().any(|w| w.dynamic) || args.is_empty() || args[0].text == "-v" {
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
            let mut out = String::new();
            for f in files {
                if f.text == "-" {
                    match input {
                        Input::Text(t) => out.push_str(t),
                        _ => return unknown(),
                    }
                    continue;
                }
                if f.dynamic {
                    return unknown();
                }
                match read(&f.text) {
                    Some(t) => out.push_str(&t),
                    None => return Input::Unknown(format!("{}, which could not be read", f.text)),
                }
            }
            Input::Text(out)
        }
        "tee" => input.clone(),
        "base64" | "gbase64" => {
            let decode = args.iter().any(|w| {
                matches!(w.text.as_str(), "-d" | "-D" | "--decode")
                    || (w.text.starts_with('-') && w.text[1..].contains('d'))
            });
            let source = match operand_text(args, input, read) {
                Ok(t) => t,
                Err(why) => return Input::Unknown(why),
            };
            if !decode {
                return Input::Text(base64::engine::general_purpose::STANDARD.encode(source.as_bytes()) + "\n");
            }
            match decode_base64(&source) {
                Some(t) => Input::Text(t),
                None => Input::Unknown(format!("`{text}`, which does not decode to text")),
            }
        }
        "openssl"
            if args
                .iter()
                .any(|w| w.text == "base64" || w.text == "-base64" || w.text == "-a")
                && args.iter().any(|w| w.text == "-d") =>
        {
            let source = match input {
                Input::Text(t) => t.clone(),
                _ => return unknown(),
            };
            match decode_base64(&source) {
                Some(t) => Input::Text(t),
                None => unknown(),
            }
        }
        "xxd"
            if args
                .iter()
                .any(|w| w.text == "-r" || w.text == "-revert" || w.text == "-rp") =>
        {
            if !args
                .iter()
                .any(|w| w.text == "-p" || w.text == "-ps" || w.text == "-plain" || w.text == "-rp")
            {
                return unknown();
            }
            let source = match operand_text(args, input, read) {
                Ok(t) => t,
                Err(why) => return Input::Unknown(why),
            };
            match decode_hex(&source) {
                Some(t) => Input::Text(t),
                None => unknown(),
            }
        }
        "grep" | "egrep" => grep(args, input, read).unwrap_or_else(unknown),
        // `xargs` with no command runs `echo` with the items of its input.
        "xargs" if args.iter().all(|w| w.text.starts_with('-')) => match input {
            Input::Text(t) => Input::Text(xargs_items(t).join(" ") + "\n"),
            _ => unknown(),
        },
        "pg_dump" | "pg_dumpall" => {
            let clean = args.iter().any(|w| {
                w.text == "--clean" || (w.text.starts_with('-') && !w.text.starts_with("--") && w.text.contains('c'))
            });
            Input::PgDump { clean }
        }
        "true" | ":" => Input::Text(String::new()),
        _ => unknown(),
    }
}

/// The text a filter reads: its file operand, or its standard input.
fn operand_text(args: &[Word], input: &Input, read: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let files: Vec<&Word> = args.iter().filter(|w| !w.text.starts_with('-')).collect();
    match files.as_slice() {
        [] => match input {
            Input::Text(t) => Ok(t.clone()),
            Input::Unknown(why) => Err(why.clone()),
            _ => Err("data that cannot be known".into()),
        },
        [f] if !f.dynamic => read(&f.text).ok_or_else(|| format!("{}, which could not be read", f.text)),
        _ => Err("files named at run time".into()),
    }
}

/// Base64 text (whitespace ignored, padding optional) to UTF-8 text.
pub fn decode_base64(s: &str) -> Option<String> {
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.len() > MAX_DECODED {
        return None;
    }
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let bytes = engine
        .decode(compact.as_bytes())
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(compact.trim_end_matches('=')))
        .ok()?;
    String::from_utf8(bytes).ok()
}

fn decode_hex(s: &str) -> Option<String> {
    let compact: Vec<u8> = s.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    if !compact.len().is_multiple_of(2) || compact.len() > MAX_DECODED {
        return None;
    }
    let bytes: Option<Vec<u8>> = compact
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).ok()?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

/// `grep [-v] [-E] [-i] PATTERN [FILE]` for the patterns env-file one-liners use: a
/// literal, optionally anchored with `^` (and `\s*` / `[[:space:]]*` after it) or `$`.
fn grep(args: &[Word], input: &Input, read: &dyn Fn(&str) -> Option<String>) -> Option<Input> {
    let mut invert = false;
    let mut ignore_case = false;
    let mut patterns: Vec<String> = Vec::new();
    let mut files: Vec<&Word> = Vec::new();
    let mut it = args.iter();
    while let Some(w) = it.next() {
        let t = w.text.as_str();
        if w.dynamic {
            return None;
        }
        match t {
            "-e" => patterns.push(it.next()?.text.clone()),
            "-v" | "--invert-match" => invert = true,
            "-i" | "--ignore-case" => ignore_case = true,
            "-E" | "-G" | "-F" | "--extended-regexp" => {}
            _ if t.starts_with('-') && t.len() > 1 => {
                for c in t[1..].chars() {
                    match c {
                        'v' => invert = true,
                        'i' => ignore_case = true,
                        'E' | 'G' | 'F' | 's' | 'h' => {}
                        _ => return None,
                    }
                }
            }
            _ if patterns.is_empty() && !args.iter().any(|w| w.text == "-e") => patterns.push(t.to_string()),
            _ => files.push(w),
        }
    }
    if patterns.is_empty() {
        return None;
    }
    let text = match files.as_slice() {
        [] => match input {
            Input::Text(t) => t.clone(),
            _ => return None,
        },
        [f] => read(&f.text)?,
        _ => return None,
    };
    let matchers: Vec<Matcher> = patterns
        .iter()
        .map(|p| Matcher::new(p, ignore_case))
        .collect::<Option<_>>()?;
    let mut out = String::new();
    for line in text.lines() {
        if matchers.iter().any(|m| m.matches(line)) != invert {
            out.push_str(line);
            out.push('\n');
        }
    }
    Some(Input::Text(out))
}

struct Matcher {
    start: bool,
    skip_space: bool,
    literal: String,
    end: bool,
    ignore_case: bool,
}

impl Matcher {
    fn new(p: &str, ignore_case: bool) -> Option<Matcher> {
        let (start, rest) = match p.strip_prefix('^') {
            Some(r) => (true, r),
            None => (false, p),
        };
        let (skip_space, rest) = match rest.strip_prefix("\\s*").or_else(|| rest.strip_prefix("[[:space:]]*")) {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let (end, literal) = match rest.strip_suffix('$') {
            Some(r) => (true, r),
            None => (false, rest),
        };
        if literal.contains(['\\', '[', ']', '*', '+', '?', '(', ')', '|', '{', '.', '^', '$']) {
            return None;
        }
        Some(Matcher {
            start,
            skip_space,
            literal: if ignore_case {
                literal.to_ascii_lowercase()
            } else {
                literal.to_string()
            },
            end,
            ignore_case,
        })
    }

    fn matches(&self, line: &str) -> bool {
        let line = if self.ignore_case {
            line.to_ascii_lowercase()
        } else {
            line.to_string()
        };
        let line = if self.skip_space { line.trim_start() } else { &line };
        match (self.start, self.end) {
            (true, true) => line == self.literal,
            (true, false) => line.starts_with(&self.literal),
            (false, true) => line.ends_with(&self.literal),
            (false, false) => line.contains(&self.literal),
        }
    }
}

/// The items `xargs` reads: blank-separated, with its single/double quotes and backslashes.
pub fn xargs_items(text: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut cur = String::new();
    let mut any = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                any = true;
                for d in chars.by_ref() {
                    if d == c {
                        break;
                    }
                    cur.push(d);
                }
            }
            '\\' => {
                any = true;
                if let Some(d) = chars.next() {
                    cur.push(d);
                }
            }
            c if c.is_whitespace() => {
                if any {
                    items.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                any = true;
                cur.push(c);
            }
        }
    }
    if any {
        items.push(cur);
    }
    items
}

/// `echo -e` / `printf` escapes.
pub fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('\\') => out.push('\\'),
            Some('x') => {
                let mut v = 0u32;
                let mut n = 0;
                while n < 2 {
                    match it.peek().and_then(|c| c.to_digit(16)) {
                        Some(d) => {
                            v = v * 16 + d;
                            it.next();
                            n += 1;
                        }
                        None => break,
                    }
                }
                match char::from_u32(v).filter(|_| n > 0) {
                    Some(ch) => out.push(ch),
                    None => out.push_str("\\x"),
                }
            }
            Some(o) => {
                out.push('\\');
                out.push(o);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// A small printf: `%s`/`%d` take arguments in turn, `%b` with escapes, `%q` quoted for a
/// shell; escapes in the format apply; the format repeats while arguments remain.
pub fn printf(format: &str, args: &[&Word]) -> String {
    let mut out = String::new();
    let mut idx = 0;
    loop {
        let mut literal = String::new();
        let mut chars = format.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '%' {
                literal.push(c);
                continue;
            }
            let Some(d) = chars.next() else {
                literal.push('%');
                break;
            };
            if d == '%' {
                literal.push('%');
                continue;
            }
            out.push_str(&unescape(&std::mem::take(&mut literal)));
            let arg = args.get(idx).map_or("", |a| a.text.as_str());
            idx += 1;
            match d {
                'q' => out.push_str(&quote_q(arg)),
                'b' => out.push_str(&unescape(arg)),
                _ => out.push_str(arg),
            }
        }
        out.push_str(&unescape(&literal));
        if idx >= args.len() || idx == 0 {
            break;
        }
    }
    out
}

/// Bash's `printf %q`: every character a shell would treat specially gets a backslash.
pub fn quote_q(s: &str) -> String {
    if s.is_empty() {
        return "''".into();
    }
    if s.chars().any(|c| c.is_ascii_control()) {
        // Bash switches to ANSI-C quoting for control characters.
        let mut out = String::from("$'");
        for c in s.chars() {
            match c {
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\'' | '\\' => {
                    out.push('\\');
                    out.push(c);
                }
                c if c.is_ascii_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('\'');
        return out;
    }
    let mut out = String::with_capacity(s.len() * 2);
    for c in s.chars() {
        if !(c.is_ascii_alphanumeric() || "-_./:=@,+%".contains(c) || !c.is_ascii()) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Word {
        Word::lit(s)
    }

    fn out(words: &[&str], input: &Input) -> Input {
        let ws: Vec<Word> = words.iter().map(|s| w(s)).collect();
        output_of(&ws, &words.join(" "), input, &|p| {
            (p == ".env").then(|| "# c\nA=1\nB='x'\n".to_string())
        })
    }

    #[test]
    fn producers() {
        assert_eq!(out(&["echo", "a", "b"], &Input::Terminal), Input::Text("a b\n".into()));
        let t = Input::Text("ZHJvcGRiIHNob3A=\n".into());
        assert_eq!(out(&["base64", "-d"], &t), Input::Text("dropdb shop".into()));
        assert_eq!(
            out(&["base64", "--decode"], &Input::Text("ZHJvcGRiIHNob3A".into())),
            Input::Text("dropdb shop".into())
        );
        assert_eq!(
            out(&["xxd", "-r", "-p"], &Input::Text("6869\n".into())),
            Input::Text("hi".into())
        );
        assert_eq!(
            out(&["grep", "-v", "^#", ".env"], &Input::Terminal),
            Input::Text("A=1\nB='x'\n".into())
        );
        assert_eq!(
            out(&["xargs"], &Input::Text("A=1\nB='x y'\n".into())),
            Input::Text("A=1 B=x y\n".into())
        );
        assert!(matches!(out(&["curl", "x"], &Input::Terminal), Input::Unknown(_)));
        assert!(matches!(
            out(&["grep", "a.*b", ".env"], &Input::Terminal),
            Input::Unknown(_)
        ));
    }

    #[test]
    fn printf_q_round_trips_through_the_parser() {
        let q = printf("%q", &[&w("dropdb 'shop'")]);
        let parsed = crate::shell::parse::parse(&format!("x {q}"));
        let crate::shell::parse::Command::Simple(sc) = &parsed.script.pipelines[0].commands[0] else {
            panic!()
        };
        assert_eq!(sc.words[1].text, "dropdb 'shop'");
    }
}
