//! Password redaction for everything dbguard prints, logs or stores.
//!
//! Connection secrets show up in three shapes: the userinfo of a URL
//! (`postgres://u:SECRET@h/db`), a query parameter (`?password=SECRET`), and
//! libpq/ADO key=value strings (`password=SECRET host=...`, `Pwd=SECRET;`).
//! `redact_text` handles all three anywhere inside a longer text (a command line,
//! an error message), so callers can apply it to whatever they are about to emit.

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
];

fn is_secret_key(key: &str) -> bool {
    let k = key.trim().trim_start_matches(['-', '?', '&', ';']).to_ascii_lowercase();
    SECRET_KEYS.iter().any(|s| k == *s || k.ends_with(&format!("_{s}")))
}

/// Redact one connection URL or key=value connection string.
pub fn redact_url(url: &str) -> String {
    redact_text(url)
}

/// Redact every secret found anywhere in `text`.
pub fn redact_text(text: &str) -> String {
    let with_userinfo = redact_userinfo(text);
    redact_key_values(&with_userinfo)
}

/// `scheme://user:secret@host` -> `scheme://user:***@host`, for every URL in the text.
fn redact_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        let (before, after) = rest.split_at(pos + 3);
        out.push_str(before);
        // The authority ends at the first '/', '?', '#' or whitespace/quote.
        let end = after
            .find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace() || c == '"' || c == '\'')
            .unwrap_or(after.len());
        let authority = &after[..end];
        match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                match userinfo.find(':') {
                    Some(colon) => {
                        out.push_str(&userinfo[..colon]);
                        out.push(':');
                        out.push_str(MASK);
                    }
                    None => out.push_str(userinfo),
                }
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// `password=secret` (also `PGPASSWORD=secret`, `Pwd=secret;`, `?password=secret&`).
fn redact_key_values(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
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
                out.push_str(&text[last..start]);
                out.push_str(MASK);
                last = v;
                i = v;
                continue;
            }
        }
        i += 1;
    }
    out.push_str(&text[last..]);
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
