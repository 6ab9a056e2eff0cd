//! Connection settings written as separate fields (Rails' database.yml keys, Laravel's
//! `DB_*` variables) turned into the one URL the resolver works with, and the framework
//! spellings of URL schemes (`mysql2://`, `pgsql://`, `sqlite3:`) turned into the ones
//! the rest of dbguard knows. Pure string work, no I/O besides looking for the socket
//! directory libpq would use.

use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Postgres,
    Mysql,
    Sqlite,
    SqlServer,
}

/// One connection's settings; `None` means not given (the driver's default applies).
#[derive(Debug, Clone, Default)]
pub struct Fields {
    pub host: Option<String>,
    pub port: Option<String>,
    pub database: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
}

/// The URL for `fields`, or `Ok(None)` for an in-memory SQLite database (nothing to
/// protect). `root` anchors relative SQLite paths. Errors name the bad field.
pub fn build_url(kind: Kind, f: &Fields, root: &Path) -> Result<Option<String>, String> {
    if let Some(p) = f.port.as_deref().filter(|p| !p.is_empty()) {
        if p.parse::<u16>().is_err() {
            return Err(format!("port {p:?} is not a number"));
        }
    }
    let scheme = match kind {
        Kind::Sqlite => {
            let db = f.database.as_deref().unwrap_or("").trim();
            if db.is_empty() {
                return Err("no database file is given".into());
            }
            if db == ":memory:" || db.contains("mode=memory") {
                return Ok(None);
            }
            let path = db.strip_prefix("file:").unwrap_or(db);
            let path = Path::new(path);
            let abs = if path.is_absolute() {
                path.to_path_buf()
            } else {
                root.join(path)
            };
            return Ok(Some(format!("file:{}", super::normalize(&abs).display())));
        }
        Kind::Postgres => "postgresql",
        Kind::Mysql => "mysql",
        Kind::SqlServer => "sqlserver",
    };
    let mut url = format!("{scheme}://");
    if let Some(u) = f.username.as_deref().filter(|u| !u.is_empty()) {
        url.push_str(&super::pct(u));
        if let Some(p) = f.password.as_deref().filter(|p| !p.is_empty()) {
            url.push(':');
            url.push_str(&super::pct(p));
        }
        url.push('@');
    }
    let host = f.host.as_deref().filter(|h| !h.is_empty());
    // PostgreSQL without a host, or with a directory, is a Unix socket (libpq's rule).
    let socket = match (kind, host) {
        (Kind::Postgres, None) => Some(super::default_pg_socket()),
        (Kind::Postgres, Some(h)) if h.starts_with('/') => Some(h.to_string()),
        _ => None,
    };
    if socket.is_none() {
        let h = host.unwrap_or("localhost");
        if h.contains(':') {
            url.push_str(&format!("[{h}]"));
        } else {
            url.push_str(&super::pct(h));
        }
        if let Some(p) = f.port.as_deref().filter(|p| !p.is_empty()) {
            url.push(':');
            url.push_str(p);
        }
    }
    url.push('/');
    if let Some(d) = f.database.as_deref().filter(|d| !d.is_empty()) {
        url.push_str(&super::pct(d));
    }
    if let Some(s) = socket {
        url.push_str("?host=");
        url.push_str(&super::pct(&s));
        if let Some(p) = f.port.as_deref().filter(|p| !p.is_empty()) {
            url.push_str("&port=");
            url.push_str(p);
        }
    }
    Ok(Some(url))
}

/// Framework URL schemes in the spelling `engine_of` and `sqlite_path` understand:
/// Rails' `postgis`, `mysql2`, `trilogy`, `sqlite3:`; Laravel's `pgsql`, `sqlsrv`,
/// `mssql`. Anything else is returned unchanged.
pub fn normalize_scheme(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once(':') else {
        return url.to_string();
    };
    let mapped = match scheme.to_ascii_lowercase().as_str() {
        "postgis" | "pgsql" => "postgresql",
        "mysql2" | "trilogy" => "mysql",
        "sqlsrv" | "mssql" => "sqlserver",
        "sqlite3" | "sqlite" => {
            // `sqlite3:relative/path` and `sqlite3:///abs/path`.
            return if rest.starts_with("//") {
                format!("sqlite:{rest}")
            } else {
                format!("file:{rest}")
            };
        }
        _ => return url.to_string(),
    };
    format!("{mapped}:{rest}")
}

/// Fill the database name into a URL that has none, as Rails and Laravel merge a URL
/// with the separately given `database`. URLs that do not parse are left alone.
pub fn fill_database(url: &str, database: Option<&str>) -> String {
    let Some(db) = database.filter(|d| !d.is_empty()) else {
        return url.to_string();
    };
    match url::Url::parse(url) {
        Ok(mut u) if !u.cannot_be_a_base() && matches!(u.path(), "" | "/") => {
            u.set_path(&format!("/{}", super::pct(db)));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_from_fields() {
        let f = Fields {
            host: Some("db.internal".into()),
            port: Some("6432".into()),
            database: Some("app prod".into()),
            username: Some("app".into()),
            password: Some("p@ss:w/rd".into()),
        };
        let root = Path::new("/srv/app");
        assert_eq!(
            build_url(Kind::Postgres, &f, root).unwrap().unwrap(),
            "postgresql://app:p%40ss%3Aw%2Frd@db.internal:6432/app%20prod"
        );
        assert_eq!(
            build_url(Kind::Mysql, &Fields::default(), root).unwrap().unwrap(),
            "mysql://localhost/"
        );
        let sock = build_url(
            Kind::Postgres,
            &Fields {
                host: Some("/run/pg".into()),
                database: Some("d".into()),
                ..Default::default()
            },
            root,
        )
        .unwrap()
        .unwrap();
        assert_eq!(sock, "postgresql:///d?host=%2Frun%2Fpg");
        let lite = Fields {
            database: Some("db/../storage/dev.sqlite3".into()),
            ..Default::default()
        };
        assert_eq!(
            build_url(Kind::Sqlite, &lite, root).unwrap().unwrap(),
            "file:/srv/app/storage/dev.sqlite3"
        );
        let mem = Fields {
            database: Some(":memory:".into()),
            ..Default::default()
        };
        assert_eq!(build_url(Kind::Sqlite, &mem, root).unwrap(), None);
        let bad = Fields {
            port: Some("five".into()),
            ..Default::default()
        };
        assert!(build_url(Kind::Postgres, &bad, root).is_err());
    }

    #[test]
    fn schemes_and_fill() {
        assert_eq!(normalize_scheme("mysql2://u@h/d"), "mysql://u@h/d");
        assert_eq!(normalize_scheme("pgsql://u@h/d"), "postgresql://u@h/d");
        assert_eq!(normalize_scheme("sqlite3:db/dev.sqlite3"), "file:db/dev.sqlite3");
        assert_eq!(normalize_scheme("sqlite3:///abs/x.db"), "sqlite:///abs/x.db");
        assert_eq!(normalize_scheme("postgres://h/d"), "postgres://h/d");
        assert_eq!(normalize_scheme("no scheme"), "no scheme");
        assert_eq!(
            fill_database("postgres://u:pw@h:5432", Some("app")),
            "postgres://u:pw@h:5432/app"
        );
        assert_eq!(fill_database("postgres://h/x", Some("app")), "postgres://h/x");
        assert_eq!(fill_database("::", Some("app")), "::");
    }
}
