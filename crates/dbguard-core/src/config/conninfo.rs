//! PostgreSQL connection strings (a `postgres://` URL or libpq's `key=value` form) split
//! into what tokio-postgres should parse and the libpq TLS settings it would reject.
//!
//! tokio-postgres knows `sslmode` disable/prefer/require only, and rejects the other
//! libpq TLS keys, so the binary (`engine/pg_tls.rs`) takes them out here and applies them
//! to a rustls configuration. Pure: the `PGSSL*` variables that fill what the string leaves
//! out come through a closure.

/// libpq's `sslmode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl Mode {
    /// libpq's spelling; anything else is an error saying which values exist.
    pub fn parse(v: &str) -> Result<Mode, String> {
        Ok(match v {
            "disable" => Mode::Disable,
            "allow" => Mode::Allow,
            "prefer" => Mode::Prefer,
            "require" => Mode::Require,
            "verify-ca" => Mode::VerifyCa,
            "verify-full" => Mode::VerifyFull,
            other => {
                return Err(format!(
                "sslmode=\"{other}\" is not a PostgreSQL sslmode (disable, allow, prefer, require, verify-ca, verify-full)"
            ))
            }
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Disable => "disable",
            Mode::Allow => "allow",
            Mode::Prefer => "prefer",
            Mode::Require => "require",
            Mode::VerifyCa => "verify-ca",
            Mode::VerifyFull => "verify-full",
        }
    }
}

/// The TLS settings of one connection string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub mode: Mode,
    pub root_cert: Option<String>,
    pub client_cert: Option<String>,
    pub client_key: Option<String>,
}

/// libpq keys that tokio-postgres does not accept and that only concern TLS; the ones
/// not applied by the binary (CRLs, protocol bounds, SNI, key passwords) are dropped, and
/// their defaults are what rustls does anyway except `sslcrl` (not checked).
pub const TLS_KEYS: &[&str] = &[
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "sslcrl",
    "sslcrldir",
    "sslsni",
    "sslpassword",
    "sslcompression",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
    "requiressl",
];

/// Key/value pairs, in the order written.
pub type Pairs = Vec<(String, String)>;

/// Split a URL or key=value string into what tokio-postgres should parse (no TLS keys)
/// and the TLS settings, with `env` (a variable lookup) filling the gaps like libpq.
pub fn split(conn: &str, env: impl Fn(&str) -> Option<String>) -> Result<(String, Settings), String> {
    let (rest, found) = split_pairs(conn)?;
    let get = |k: &str| -> Option<String> {
        found
            .iter()
            .rev()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    let env = |k: &str| env(k).filter(|v| !v.is_empty());
    // An sslmode written empty is an error (libpq: invalid sslmode value ""), never a quiet
    // fall back to the default: `?sslmode=verify-full&sslmode=` must not become `prefer`.
    let written = found
        .iter()
        .rev()
        .find(|(key, _)| key == "sslmode")
        .map(|(_, v)| v.clone());
    let root_cert = get("sslrootcert").or_else(|| env("PGSSLROOTCERT"));
    // libpq 16: sslrootcert=system trusts every public CA, so only verify-full (which also
    // checks the host name) is allowed with it, and it is the default.
    let system = root_cert.as_deref() == Some("system");
    let mode = match written.or_else(|| env("PGSSLMODE")) {
        Some(m) => Mode::parse(&m)?,
        None if get("requiressl").as_deref() == Some("1") => Mode::Require,
        None if system => Mode::VerifyFull,
        None => Mode::Prefer,
    };
    if system && mode != Mode::VerifyFull {
        return Err(format!(
            "weak sslmode \"{}\" may not be used with sslrootcert=system (use \"verify-full\"): any public CA would do for any host name",
            mode.as_str()
        ));
    }
    // libpq: with a root certificate, require verifies the chain (the default file
    // ~/.postgresql/root.crt counts too; the binary checks for it, this core reads no files).
    let mode = if mode == Mode::Require && root_cert.is_some() {
        Mode::VerifyCa
    } else {
        mode
    };
    Ok((
        rest,
        Settings {
            mode,
            root_cert,
            client_cert: get("sslcert").or_else(|| env("PGSSLCERT")),
            client_key: get("sslkey").or_else(|| env("PGSSLKEY")),
        },
    ))
}

/// The string without its TLS keys, and the TLS pairs taken out (decoded, in order).
pub fn split_pairs(conn: &str) -> Result<(String, Pairs), String> {
    if is_url(conn) {
        Ok(split_url(conn))
    } else {
        split_keyword_value(conn)
    }
}

/// Whether `conn` is read as a URL (else as key=value pairs).
pub fn is_url(conn: &str) -> bool {
    let lower = conn.trim_start().to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

/// A URL's query parameters whose decoded key is a TLS key are taken out; the others are
/// kept as written (order and encoding), and so is everything before the query.
///
/// A `#` is not a fragment: libpq and tokio-postgres read it as part of a name or value
/// (`?sslmode=require#x` is an invalid sslmode to psql too). Treating it as a fragment
/// once let `?sslmode=disable#?sslmode=verify-full` keep a TLS key in the string handed on.
pub fn split_url(conn: &str) -> (String, Pairs) {
    let Some((base, query)) = conn.split_once('?') else {
        return (conn.to_string(), Vec::new());
    };
    let mut kept = Vec::new();
    let mut found = Vec::new();
    for part in query.split('&').filter(|p| !p.is_empty()) {
        // Percent-decoding only, as libpq and tokio-postgres do (`+` stays a plus sign).
        let decode = |t: &str| percent_encoding::percent_decode_str(t).decode_utf8_lossy().into_owned();
        let (key_raw, value_raw) = part.split_once('=').unwrap_or((part, ""));
        let key = decode(key_raw);
        if TLS_KEYS.contains(&key.as_str()) {
            let value = decode(value_raw);
            found.push((key, value));
        } else {
            kept.push(part);
        }
    }
    let mut out = base.to_string();
    if !kept.is_empty() {
        out.push('?');
        out.push_str(&kept.join("&"));
    }
    (out, found)
}

/// libpq's keyword/value form: `key = value` pairs separated by spaces; a value may be
/// single-quoted with `\'` and `\\` escapes. The pairs kept are written back quoted.
pub fn split_keyword_value(conn: &str) -> Result<(String, Pairs), String> {
    let mut chars = conn.chars().peekable();
    let mut kept: Vec<String> = Vec::new();
    let mut found = Vec::new();
    let skip_ws = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
    };
    loop {
        skip_ws(&mut chars);
        if chars.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        skip_ws(&mut chars);
        if chars.next_if_eq(&'=').is_none() {
            return Err(format!("invalid connection string: `{key}` is not followed by `=`"));
        }
        skip_ws(&mut chars);
        let mut value = String::new();
        if chars.next_if_eq(&'\'').is_some() {
            loop {
                match chars.next() {
                    None => {
                        return Err(format!(
                            "invalid connection string: unterminated quoted value of `{key}`"
                        ))
                    }
                    Some('\'') => break,
                    // A backslash takes the next character as is (one at the very end: nothing).
                    Some('\\') => value.extend(chars.next()),
                    Some(c) => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                // A backslash before another character escapes it (even a space); a final
                // backslash is itself.
                match c {
                    '\\' => value.push(chars.next().unwrap_or('\\')),
                    c => value.push(c),
                }
            }
        }
        if TLS_KEYS.contains(&key.as_str()) {
            found.push((key, value));
        } else {
            kept.push(format!("{key}='{}'", value.replace('\\', "\\\\").replace('\'', "\\'")));
        }
    }
    let rest = kept.join(" ");
    // `sslmode=x postgres://...`: with the TLS pair gone, the rest would be read as a URL
    // by tokio-postgres (and by a second split), not as the pairs read here. Not a libpq
    // keyword either way; the key is not shown, as a URL there may hold a password.
    if is_url(&rest) {
        return Err("invalid connection string: a URL follows a keyword=value pair".into());
    }
    Ok((rest, found))
}

#[cfg(test)]
mod tests {

    #[test]
    fn plus_is_not_a_space_in_url_values() {
        let (_, found) = split_url("postgres://h/db?sslrootcert=/certs/a+b%20c.pem&x=1+2");
        assert_eq!(found, vec![("sslrootcert".to_string(), "/certs/a+b c.pem".to_string())]);
    }
    use super::*;

    fn none(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn url_tls_keys_are_taken_out() {
        let (rest, s) = split(
            "postgres://u:p@h:5432/db?sslmode=verify-full&application_name=x&sslrootcert=%2Ftmp%2Fca.pem",
            none,
        )
        .unwrap();
        assert_eq!(rest, "postgres://u:p@h:5432/db?application_name=x");
        assert_eq!(s.mode, Mode::VerifyFull);
        assert_eq!(s.root_cert.as_deref(), Some("/tmp/ca.pem"));
        let (rest, s) = split("postgresql://h/db", none).unwrap();
        assert_eq!(rest, "postgresql://h/db");
        assert_eq!(s.mode, Mode::Prefer);
    }

    #[test]
    fn require_with_a_root_certificate_verifies_the_chain() {
        let (_, s) = split("postgres://h/db?sslmode=require&sslrootcert=/x.pem", none).unwrap();
        assert_eq!(s.mode, Mode::VerifyCa);
    }

    #[test]
    fn keyword_value_strings() {
        let (rest, s) = split(
            "host=h dbname='my db' password='it\\'s' sslmode = require sslcert=/c.pem",
            none,
        )
        .unwrap();
        assert_eq!(rest, "host='h' dbname='my db' password='it\\'s'");
        assert_eq!(s.mode, Mode::Require);
        assert_eq!(s.client_cert.as_deref(), Some("/c.pem"));
        assert!(split("host=h dbname='x", none).is_err());
        assert!(split("host", none).is_err());
    }

    /// Found by the `conninfo` fuzz target: the text after a `#` was kept as a fragment, so
    /// the string handed to tokio-postgres still held `sslmode` (splitting it again found it).
    #[test]
    fn regression_fragment_hid_a_tls_key() {
        let conn = "postgres://h/x?sslmode=disable#y?sslmode=verify-full";
        assert!(split(conn, none).unwrap_err().contains("disable#y?sslmode=verify-full"));
        let (rest, found) = split_pairs(conn).unwrap();
        assert_eq!(rest, "postgres://h/x");
        assert_eq!(split_pairs(&rest).unwrap(), (rest.clone(), Vec::new()));
        // A `#` in a kept parameter stays with it, as tokio-postgres reads it.
        let (rest, s) = split("postgres://h/db?application_name=a#b&sslmode=require", none).unwrap();
        assert_eq!(
            (rest.as_str(), s.mode),
            ("postgres://h/db?application_name=a#b", Mode::Require)
        );
        assert_eq!(found.len(), 1);
    }

    /// Found by the `conninfo` fuzz target: a keyword string whose first kept key starts
    /// like a URL was handed on as a URL once its TLS pair was taken out.
    #[test]
    fn regression_keyword_string_turning_into_a_url() {
        let e = split_pairs("sslmode='' postgresql://u:secret@h=t0s o=x?sslrootcert=&h").unwrap_err();
        assert!(e.contains("URL") && !e.contains("secret"), "{e}");
        assert!(split_pairs("sslmode=require  POSTGRES://h=1").is_err());
        // A URL-looking value is only a value.
        assert_eq!(split_pairs("host=postgres://h").unwrap().0, "host='postgres://h'");
    }

    #[test]
    fn backslashes_in_keyword_values() {
        let pairs = |s: &str| split_pairs(s).unwrap();
        // Unquoted: a backslash escapes the next character, a final one is itself.
        assert_eq!(
            pairs(r"password=a\ b sslkey=k\"),
            ("password='a b'".into(), vec![("sslkey".into(), r"k\".into())])
        );
        // Quoted: a final backslash before the end is an unterminated value.
        assert!(split_pairs(r"password='a\'").is_err());
        assert_eq!(
            pairs(r"sslcert='a\\b'").1,
            [("sslcert".to_string(), r"a\b".to_string())]
        );
    }

    /// The last value of a key wins, even an empty one, which means "not given".
    #[test]
    fn an_empty_sslmode_is_an_error_not_the_default() {
        assert!(split("postgres://h/db?sslmode=require&sslmode=", none).is_err());
        assert!(split("sslmode=disable sslmode=''", none).is_err());
        // An empty variable is not set.
        let env = |k: &str| (k == "PGSSLMODE").then(String::new);
        assert_eq!(split("postgres://h/db", env).unwrap().1.mode, Mode::Prefer);
    }

    #[test]
    fn sslrootcert_system_means_verify_full() {
        assert_eq!(
            split("postgres://h/db?sslrootcert=system", none).unwrap().1.mode,
            Mode::VerifyFull
        );
        let env = |k: &str| (k == "PGSSLROOTCERT").then(|| "system".to_string());
        assert_eq!(split("postgres://h/db", env).unwrap().1.mode, Mode::VerifyFull);
        for m in ["disable", "allow", "prefer", "require", "verify-ca"] {
            let e = split(&format!("postgres://h/db?sslmode={m}&sslrootcert=system"), none).unwrap_err();
            assert!(e.contains("verify-full"), "{e}");
        }
    }

    #[test]
    fn environment_fills_the_gaps_and_bad_modes_are_errors() {
        let env = |k: &str| (k == "PGSSLMODE").then(|| "require".to_string());
        assert_eq!(split("postgres://h/db", env).unwrap().1.mode, Mode::Require);
        assert_eq!(
            split("postgres://h/db?sslmode=disable", env).unwrap().1.mode,
            Mode::Disable
        );
        let e = split("postgres://h/db?sslmode=on", none).unwrap_err();
        assert!(e.contains("verify-full"), "{e}");
    }
}
