//! What the proxy serves: where it listens, the upstream servers (one per database name
//! clients ask for), and its limits.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use dbguard_core::redact::redact_url;
use dbguard_pg::tls::{self, Mode, Settings};

/// Where clients connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listen {
    Tcp(SocketAddr),
    /// A Unix socket file; libpq clients find it as `DIR/.s.PGSQL.PORT` (`-h DIR -p PORT`).
    Unix(PathBuf),
}

impl Listen {
    /// `127.0.0.1:6432`, `[::1]:6432`, `localhost:6432`, or a socket path (anything with a `/`).
    pub fn parse(s: &str) -> Result<Listen, String> {
        if s.contains('/') {
            return Ok(Listen::Unix(PathBuf::from(s)));
        }
        let local = s.strip_prefix("localhost:").map(|p| format!("127.0.0.1:{p}"));
        let s = local.as_deref().unwrap_or(s);
        s.parse::<SocketAddr>()
            .map(Listen::Tcp)
            .map_err(|e| format!("--listen {s}: {e} (expected HOST:PORT such as 127.0.0.1:6432, or a socket path)"))
    }

    /// For people and for the `DATABASE_URL` line.
    pub fn describe(&self) -> String {
        match self {
            Listen::Tcp(a) => a.to_string(),
            Listen::Unix(p) => p.display().to_string(),
        }
    }
}

impl std::str::FromStr for Listen {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Listen::parse(s)
    }
}

/// How to reach the upstream server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    Tcp {
        host: String,
        port: u16,
    },
    /// The socket file.
    Unix(PathBuf),
}

/// One upstream database.
#[derive(Debug)]
pub struct Upstream {
    /// The database name clients ask for. None: any name, passed on unchanged (an upstream
    /// URL without a database serves every database of its server).
    pub name: Option<String>,
    /// Position in [`Config::upstreams`]; the program's own key for it.
    pub index: usize,
    /// The URL without its password, for people and logs.
    pub display: String,
    /// production, staging, development, unknown (for the log lines; the guard decides).
    pub environment: String,
    pub address: Address,
    /// The database on the server: None means the name the client asked for.
    pub dbname: Option<String>,
    pub tls: Settings,
    /// Built once: the rustls client configuration for `tls` (None when TLS is disabled).
    pub tls_config: Option<Arc<rustls::ClientConfig>>,
    /// The host name used for TLS (server name indication, verify-full).
    pub tls_host: String,
}

impl Upstream {
    /// Read an upstream from a PostgreSQL URL (or key=value string) with libpq's TLS keys.
    /// Only the address, database and TLS settings are used: clients log in as themselves.
    pub fn from_url(
        name: Option<&str>,
        url: &str,
        environment: &str,
        index: usize,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Upstream, String> {
        let shown = redact_url(url);
        let (rest, settings) = tls::split(url, env).map_err(|e| format!("upstream {shown}: {e:#}"))?;
        let cfg: tokio_postgres::Config = rest.parse().map_err(|e| format!("upstream {shown}: {e}"))?;
        let port = cfg.get_ports().first().copied().unwrap_or(5432);
        let (address, tls_host) = match cfg.get_hosts().first() {
            Some(tokio_postgres::config::Host::Tcp(h)) => (Address::Tcp { host: h.clone(), port }, h.clone()),
            Some(tokio_postgres::config::Host::Unix(dir)) => {
                (Address::Unix(dir.join(format!(".s.PGSQL.{port}"))), String::new())
            }
            None => {
                let dir = ["/var/run/postgresql", "/tmp"]
                    .into_iter()
                    .map(PathBuf::from)
                    .find(|d| d.is_dir())
                    .unwrap_or_else(|| PathBuf::from("/tmp"));
                (Address::Unix(dir.join(format!(".s.PGSQL.{port}"))), String::new())
            }
        };
        let tls_config = match (&address, settings.mode) {
            (Address::Unix(_), _) | (_, Mode::Disable) => None,
            _ => Some(Arc::new(
                tls::client_config(&settings).map_err(|e| format!("upstream {shown}: {e:#}"))?,
            )),
        };
        let dbname = cfg.get_dbname().map(str::to_string).filter(|d| !d.is_empty());
        let name = name.map(str::to_string).or_else(|| dbname.clone());
        Ok(Upstream {
            name,
            index,
            display: shown,
            environment: environment.to_string(),
            address,
            dbname,
            tls: settings,
            tls_config,
            tls_host,
        })
    }

    /// The name shown in logs: the database name clients use, or `*`.
    pub fn label(&self) -> &str {
        self.name.as_deref().unwrap_or("*")
    }
}

/// Everything the proxy needs to run.
#[derive(Debug)]
pub struct Config {
    pub listen: Listen,
    pub upstreams: Vec<Arc<Upstream>>,
    /// Client connections at once; more are refused with an error (53300).
    pub max_clients: usize,
    /// Largest `Query` or `Parse` the proxy reads whole to analyze (bytes).
    pub max_statement_bytes: usize,
    /// Connecting to an upstream server.
    pub connect_timeout: Duration,
    /// Startup and authentication, from the client's first byte to ReadyForQuery.
    pub startup_timeout: Duration,
    /// After SIGTERM: how long busy sessions may finish their transaction.
    pub shutdown_grace: Duration,
}

impl Config {
    pub fn new(listen: Listen, upstreams: Vec<Arc<Upstream>>) -> Config {
        Config {
            listen,
            upstreams,
            max_clients: 2000,
            max_statement_bytes: 64 << 20,
            connect_timeout: Duration::from_secs(10),
            startup_timeout: Duration::from_secs(60),
            shutdown_grace: Duration::from_secs(30),
        }
    }

    /// The upstream for a database name clients ask for.
    pub fn upstream_for(&self, database: &str) -> Option<&Arc<Upstream>> {
        self.upstreams
            .iter()
            .find(|u| u.name.as_deref() == Some(database))
            .or_else(|| self.upstreams.iter().find(|u| u.name.is_none()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_forms() {
        assert_eq!(
            Listen::parse("127.0.0.1:6432").unwrap(),
            Listen::Tcp("127.0.0.1:6432".parse().unwrap())
        );
        assert_eq!(
            Listen::parse("localhost:7000").unwrap(),
            Listen::Tcp("127.0.0.1:7000".parse().unwrap())
        );
        assert_eq!(
            Listen::parse("/tmp/.s.PGSQL.6432").unwrap(),
            Listen::Unix("/tmp/.s.PGSQL.6432".into())
        );
        assert!(Listen::parse("nonsense").is_err());
    }

    #[test]
    fn upstreams_from_urls() {
        let u = Upstream::from_url(
            None,
            "postgres://app:secret@db.internal:5433/shop?sslmode=disable",
            "production",
            0,
            |_| None,
        )
        .unwrap();
        assert_eq!(u.name.as_deref(), Some("shop"));
        assert_eq!(
            u.address,
            Address::Tcp {
                host: "db.internal".into(),
                port: 5433
            }
        );
        assert!(!u.display.contains("secret"));
        assert!(u.tls_config.is_none());
        let u = Upstream::from_url(Some("app"), "host=/run/pg port=5444", "development", 1, |_| None).unwrap();
        assert_eq!(u.address, Address::Unix("/run/pg/.s.PGSQL.5444".into()));
        assert_eq!(u.name.as_deref(), Some("app"));
        assert_eq!(u.dbname, None);
        let any = Upstream::from_url(None, "postgres://h:1/", "unknown", 2, |_| None).unwrap();
        assert_eq!(any.label(), "*");
        let cfg = Config::new(Listen::parse("127.0.0.1:1").unwrap(), vec![Arc::new(u), Arc::new(any)]);
        assert_eq!(cfg.upstream_for("app").unwrap().index, 1);
        assert_eq!(cfg.upstream_for("other").unwrap().index, 2);
    }
}
