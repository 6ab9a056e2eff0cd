//! Restoring a PostgreSQL snapshot without `--url`: the server is the one the snapshot was
//! taken from, written in its manifest without the password. Tried as libpq would: the URL
//! as recorded (trust, peer), with `PGPASSWORD` or a matching `.pgpass` line when there is
//! one; the password is asked only when the server demands one and a person is at the
//! terminal (never an agent). Everything else keeps the old answer: pass `--url`.

use std::path::PathBuf;

use anyhow::{anyhow, bail};
use dbguard_core::redact::redact_url;

use super::manifest::Manifest;
use super::pg;
use crate::engine::pg_connect;

/// The recorded source URL with its redacted password removed; None when something else
/// in it was redacted (an `sslpassword`, say) and it cannot be used as it is.
pub fn without_masked_password(display: &str) -> Option<String> {
    const MASK: &str = "***";
    let lower = display.to_ascii_lowercase();
    let cleaned = if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
        let mut u = url::Url::parse(display).ok()?;
        if u.password() == Some(MASK) {
            u.set_password(None).ok()?;
        }
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .filter(|(k, v)| !(k == "password" && v == MASK))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if pairs.is_empty() {
            u.set_query(None);
        } else {
            u.query_pairs_mut().clear().extend_pairs(pairs);
        }
        u.to_string()
    } else {
        display
            .split_whitespace()
            .filter(|kv| *kv != format!("password={MASK}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    (!cleaned.contains(MASK)).then_some(cleaned)
}

/// `url` (whose user is `user`) with `password` added the way each form of connection
/// string takes it: in a URL's user part, where `pg::tool_command` moves it to PGPASSWORD
/// (a query parameter would reach pg_dump's command line).
fn with_password(url: &str, user: &str, password: &str) -> anyhow::Result<String> {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
        let invalid = || anyhow!("invalid PostgreSQL URL {}", redact_url(url));
        let mut u = url::Url::parse(url).map_err(|_| invalid())?;
        if u.username().is_empty() {
            u.set_username(&pct(user)).map_err(|_| invalid())?;
        }
        u.set_password(Some(&pct(password))).map_err(|_| invalid())?;
        Ok(u.to_string())
    } else {
        Ok(format!(
            "{url} password='{}'",
            password.replace('\\', "\\\\").replace('\'', "\\'")
        ))
    }
}

/// Every byte but unreserved ones percent-encoded (so `+` is never read as a space).
fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The `.pgpass` file libpq reads: `PGPASSFILE`, else `~/.pgpass`; ignored (as libpq does)
/// when others can read it.
fn pgpass_file() -> Option<PathBuf> {
    let path = match std::env::var_os("PGPASSFILE") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(std::env::var_os("HOME")?).join(".pgpass"),
    };
    let meta = std::fs::metadata(&path).ok()?;
    use std::os::unix::fs::PermissionsExt;
    (meta.is_file() && meta.permissions().mode() & 0o077 == 0).then_some(path)
}

/// Split a `.pgpass` line on its unescaped colons, unescaping `\:` and `\\`.
fn pgpass_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => fields.last_mut().unwrap().extend(chars.next()),
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => fields.last_mut().unwrap().push(c),
        }
    }
    fields
}

/// The password of the first `.pgpass` line matching host, port, database and user (`*`
/// matches anything; a socket directory matches `localhost`, as in libpq).
pub fn pgpass_lookup(text: &str, host: &str, port: u16, database: &str, user: &str) -> Option<String> {
    let host = if host.starts_with('/') { "localhost" } else { host };
    let port = port.to_string();
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .map(pgpass_fields)
        .filter(|f| f.len() == 5)
        .find(|f| {
            [host, port.as_str(), database, user]
                .iter()
                .zip(f)
                .all(|(want, field)| field == "*" || field == want)
        })
        .map(|f| f[4].clone())
}

/// Whether a connection error means "the server wants a (right) password".
fn password_demanded(e: &anyhow::Error) -> bool {
    let text = format!("{e:#}");
    text.contains("password missing")
        || text.contains("password authentication failed")
        || text.contains("no password supplied")
}

/// A connection string for the server snapshot `m` was taken from, checked by connecting.
/// `ask` is called (with the redacted URL) when the server demands a password that neither
/// `PGPASSWORD` nor `.pgpass` supplied; it returns None when nobody can be asked.
pub async fn server_url(m: &Manifest, ask: impl Fn(&str) -> Option<String>) -> anyhow::Result<String> {
    let no_url = || {
        anyhow!(
            "restoring snapshot {} needs a connection to the server it came from ({}): pass --url (or set DATABASE_URL) with the credentials, or --to-url; the manifest keeps no passwords",
            m.id,
            m.source.display
        )
    };
    let base = without_masked_password(&m.source.display).ok_or_else(no_url)?;
    let facts = pg::conn_facts(&base).map_err(|_| no_url())?;
    let known = std::env::var("PGPASSWORD").ok().filter(|p| !p.is_empty()).or_else(|| {
        let text = std::fs::read_to_string(pgpass_file()?).ok()?;
        pgpass_lookup(&text, &facts.host, facts.port, &facts.database, &facts.user)
    });
    let first = match &known {
        Some(pw) => with_password(&base, &facts.user, pw)?,
        None => base.clone(),
    };
    let err = match pg_connect::connect(&first, pg_connect::DEFAULT_CONNECT_TIMEOUT).await {
        Ok(_) => return Ok(first),
        Err(e) => e,
    };
    if !password_demanded(&err) {
        bail!("{err:#}. Pass --url with the server's address and credentials (or set DATABASE_URL)");
    }
    let Some(pw) = ask(&redact_url(&base)) else {
        bail!(
            "{err:#}. The server of snapshot {} asks for a password for user {}: set PGPASSWORD, add a line to ~/.pgpass, or pass --url with the password (or set DATABASE_URL)",
            m.id,
            facts.user
        );
    };
    let url = with_password(&base, &facts.user, &pw)?;
    pg_connect::connect(&url, pg_connect::DEFAULT_CONNECT_TIMEOUT).await?;
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_passwords_are_removed_and_other_secrets_refused() {
        assert_eq!(
            without_masked_password("postgres://app:***@db:5432/shop").as_deref(),
            Some("postgres://app@db:5432/shop")
        );
        assert_eq!(
            without_masked_password("postgres://app@db/shop?password=***&sslmode=require").as_deref(),
            Some("postgres://app@db/shop?sslmode=require")
        );
        assert_eq!(
            without_masked_password("host=db user=app password=*** dbname=shop").as_deref(),
            Some("host=db user=app dbname=shop")
        );
        assert_eq!(without_masked_password("postgres://app@db/shop?sslpassword=***"), None);
        assert_eq!(
            without_masked_password("postgres://postgres@127.0.0.1:5432/x").as_deref(),
            Some("postgres://postgres@127.0.0.1:5432/x")
        );
    }

    #[test]
    fn pgpass_matches_like_libpq() {
        let text = "# comment\nother:5432:*:app:nope\n127.0.0.1:5432:shop:app:pa\\:ss\n*:*:*:*:any\n";
        assert_eq!(
            pgpass_lookup(text, "127.0.0.1", 5432, "shop", "app").as_deref(),
            Some("pa:ss")
        );
        assert_eq!(
            pgpass_lookup(text, "127.0.0.1", 5433, "shop", "app").as_deref(),
            Some("any")
        );
        assert_eq!(
            pgpass_lookup("localhost:5432:*:u:pw", "/run/postgresql", 5432, "d", "u").as_deref(),
            Some("pw")
        );
        assert_eq!(pgpass_lookup("h:5432:*:u:pw", "other", 5432, "d", "u"), None);
    }

    #[test]
    fn passwords_are_added_in_each_form() {
        for url in ["postgres://app@db/shop", "postgres://db/shop"] {
            let u = with_password(url, "app", "p@ss w+rd").unwrap();
            let cfg = pg_connect::parse_config(&u).unwrap();
            assert_eq!(cfg.get_password(), Some(&b"p@ss w+rd"[..]));
            assert_eq!(cfg.get_user(), Some("app"));
            let (cmd, conn) = pg::tool_command(&PathBuf::from("pg_dump"), &u).unwrap();
            assert!(!conn.contains("w+rd") && !conn.contains("w%2Brd"), "{conn}");
            let env: Vec<_> = cmd.get_envs().collect();
            assert_eq!(
                env,
                [(
                    std::ffi::OsStr::new("PGPASSWORD"),
                    Some(std::ffi::OsStr::new("p@ss w+rd"))
                )]
            );
        }
        let k = with_password("host=db user=app dbname=shop", "app", "it's").unwrap();
        let cfg = pg_connect::parse_config(&k).unwrap();
        assert_eq!(cfg.get_password(), Some(&b"it's"[..]));
    }
}
