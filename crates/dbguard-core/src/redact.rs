//! Password redaction for everything dbguard prints, logs or stores.
//!
//! Connection secrets show up in these shapes: the userinfo of a URL
//! (`postgres://u:SECRET@h/db`), a query parameter (`?password=SECRET`), libpq/ADO key=value
//! strings (`password=SECRET host=...`, `Pwd=SECRET;`), an HTTP credential (`Bearer TOKEN`),
//! and the password positions of command-line tools (`mysql -pSECRET`, `redis-cli -a SECRET`,
//! `mongosh -p SECRET`, `--password SECRET`, `PGPASSWORD=...`), which only a word-aware reading
//! of the command line can find ([`command`]). `redact_text` handles all of them anywhere inside
//! a longer text (a command line, an error message, a JSON document), so callers apply it to
//! whatever they are about to emit.
//!
//! A secret can also reappear where it is not in a password position: `mysql --password NAME`
//! makes mysql prompt and read NAME as the database, so the database shown in a report would
//! carry it. [`Secrets`] holds the secrets found in one operation and masks them wherever they
//! occur as a whole token in text derived from it (targets, findings).

mod command;

pub use command::Secrets;

const MASK: &str = "***";

/// Keys whose values are secrets, compared case-insensitively.
const SECRET_KEYS: &[&str] = &[
    "password",
    "pwd",
    "pass",
    "passwd",
    "sslpassword",
    "secret",
    "token",
    "apikey",
    "api_key",
    "pgpassword",
    "mysql_pwd",
    "auth_token",
    "rediscli_auth",
    "secret_access_key",
];

/// Whether a variable or parameter name holds a secret (`PGPASSWORD`, `password`, `*_TOKEN`...).
pub fn is_secret_key(key: &str) -> bool {
    let k = key.trim().trim_start_matches(['-', '?', '&', ';']).to_ascii_lowercase();
    SECRET_KEYS.iter().any(|s| k == *s || k.ends_with(&format!("_{s}")))
}

/// Redact one connection URL or key=value connection string.
pub fn redact_url(url: &str) -> String {
    redact_text(url)
}

/// Redact every secret found anywhere in `text`.
pub fn redact_text(text: &str) -> String {
    let mut ranges = userinfo_ranges(text);
    ranges.extend(key_value_ranges(text));
    ranges.extend(credential_ranges(text));
    ranges.extend(command::secret_ranges(text));
    mask_ranges(text, ranges)
}

/// Replace each byte range (merged where they overlap or touch) with the mask.
fn mask_ranges(text: &str, mut ranges: Vec<std::ops::Range<usize>>) -> String {
    ranges.retain(|r| r.start <= r.end && r.end <= text.len());
    if ranges.is_empty() {
        return text.to_string();
    }
    ranges.sort_by_key(|r| (r.start, r.end));
    let mut out = String::with_capacity(text.len());
    let mut last = 0usize;
    let mut i = 0;
    while i < ranges.len() {
        let start = ranges[i].start;
        let mut end = ranges[i].end;
        i += 1;
        // Ranges apart only by quoting (`$'`, `'`) are one secret as written.
        while i < ranges.len()
            && (ranges[i].start <= end
                || text
                    .get(end..ranges[i].start)
                    .is_some_and(|gap| gap.chars().all(|c| matches!(c, '\'' | '"' | '$'))))
        {
            end = end.max(ranges[i].end);
            i += 1;
        }
        // Ranges come from char positions; a misaligned one is widened, never split a char.
        let (start, end) = (floor_boundary(text, start.max(last)), ceil_boundary(text, end));
        out.push_str(&text[last..start]);
        out.push_str(MASK);
        last = end;
    }
    out.push_str(&text[last..]);
    out
}

fn floor_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_boundary(text: &str, mut i: usize) -> usize {
    while i < text.len() && !text.is_char_boundary(i) {
        i += 1;
    }
    i.min(text.len())
}

/// `scheme://user:secret@host`: the secret, for every URL in the text.
fn userinfo_ranges(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut from = 0usize;
    while let Some(pos) = text[from..].find("://") {
        let auth_start = from + pos + 3;
        let after = &text[auth_start..];
        // The authority ends at the first '/', '?', '#' or whitespace/quote.
        let end = after
            .find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace() || c == '"' || c == '\'')
            .unwrap_or(after.len());
        let authority = &after[..end];
        if let Some(at) = authority.rfind('@') {
            if let Some(colon) = authority[..at].find(':') {
                out.push(auth_start + colon + 1..auth_start + at);
            }
        }
        from = auth_start + end;
    }
    out
}

/// `password=secret` (also `PGPASSWORD=secret`, `Pwd=secret;`, `?password=secret&`): the value.
fn key_value_ranges(text: &str) -> Vec<std::ops::Range<usize>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' {
            // Walk back over the key (libpq allows spaces around `=`).
            let mut end = i;
            while end > 0 && matches!(bytes[end - 1], b' ' | b'\t') {
                end -= 1;
            }
            let mut k = end;
            while k > 0 && (bytes[k - 1].is_ascii_alphanumeric() || bytes[k - 1] == b'_') {
                k -= 1;
            }
            if k < end && is_secret_key(&text[k..end]) {
                let mut start = i + 1;
                while start < bytes.len() && matches!(bytes[start], b' ' | b'\t') {
                    start += 1;
                }
                // Value: quoted ('...' or "...", backslash escapes inside) or up to a separator.
                let mut v = start;
                let quote = bytes.get(v).copied().filter(|c| *c == b'\'' || *c == b'"');
                if let Some(q) = quote {
                    v += 1;
                    while v < bytes.len() && bytes[v] != q {
                        v += if bytes[v] == b'\\' { 2 } else { 1 };
                    }
                    v = (v + 1).min(bytes.len());
                } else {
                    while v < bytes.len() && !matches!(bytes[v], b' ' | b'\t' | b'\n' | b'&' | b';' | b'"' | b'\'') {
                        v += if bytes[v] == b'\\' { 2 } else { 1 };
                    }
                    v = v.min(bytes.len());
                }
                // An empty value still shows as masked (an empty range inserts the mask).
                out.push(start..v);
                i = v.max(i + 1);
                continue;
            }
        }
        i += 1;
    }
    out
}

/// HTTP credentials in headers and `curl -u`: `Bearer TOKEN`, `Basic BASE64`, `Token TOKEN`.
fn credential_ranges(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    for scheme in ["Bearer ", "Basic ", "Token "] {
        let mut from = 0usize;
        while let Some(pos) = text[from..].find(scheme) {
            let start = from + pos + scheme.len();
            let end = text[start..]
                .find(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == ',')
                .map_or(text.len(), |e| start + e);
            if end > start {
                out.push(start..end);
            }
            from = end.max(start);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_values_with_spaces_and_escaped_quotes() {
        assert_eq!(
            redact_text("host=h password = hunter2 dbname=x"),
            "host=h password = *** dbname=x"
        );
        assert_eq!(
            redact_text("host=h password='a\\'b tail' dbname=x"),
            "host=h password=*** dbname=x"
        );
        assert_eq!(redact_text("password=a\\ b user=u"), "password=*** user=u");
        assert_eq!(redact_text("password='unterminated"), "password=***");
    }

    #[test]
    fn url_userinfo() {
        assert_eq!(
            redact_text("postgres://app:s3cr3t@db.example.com:5432/app"),
            "postgres://app:***@db.example.com:5432/app"
        );
        assert_eq!(redact_text("postgres://app@h/db"), "postgres://app@h/db");
        assert_eq!(redact_text("mysql://u:p%40ss@h/d?x=1"), "mysql://u:***@h/d?x=1");
    }

    #[test]
    fn inside_a_command() {
        let cmd = "DATABASE_URL='postgresql://a:hunter2@prod/db' npx prisma migrate reset --force";
        let r = redact_text(cmd);
        assert!(!r.contains("hunter2"), "{r}");
        assert!(r.contains("npx prisma migrate reset"));
    }

    #[test]
    fn key_values() {
        assert_eq!(
            redact_text("host=h password=pw dbname=d"),
            "host=h password=*** dbname=d"
        );
        assert_eq!(redact_text("PGPASSWORD=pw psql -h x"), "PGPASSWORD=*** psql -h x");
        assert_eq!(
            redact_text("postgres://h/d?sslmode=require&password=pw"),
            "postgres://h/d?sslmode=require&password=***"
        );
        assert_eq!(redact_text("Server=x;Pwd=pw;Database=d"), "Server=x;Pwd=***;Database=d");
        assert_eq!(redact_text("password='a b c' host=x"), "password=*** host=x");
    }

    #[test]
    fn no_panic_on_odd_input() {
        for s in [
            "://",
            "@",
            "a://@",
            "=",
            "password=",
            "x://a:b@",
            "é://ü:ö@ß",
            "password=\"unterminated",
        ] {
            let _ = redact_text(s);
        }
    }
}
