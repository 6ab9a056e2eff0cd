//! Opening PostgreSQL connections: always with a bounded connect timeout, on a
//! small current-thread tokio runtime created only by the commands that need it
//! (so `check` and the hook never pay for a runtime).

use std::time::Duration;

use anyhow::{anyhow, Context};
use dbguard_core::redact::redact_url;

use super::pg_tls;

/// Default connect timeout (status, lint --url); overridable per call.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// A single-threaded runtime for one command's database work.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Parse a PostgreSQL URL or key=value string, with a clear, redacted error.
pub fn parse_config(url: &str) -> anyhow::Result<tokio_postgres::Config> {
    Ok(parse_with_tls(url)?.0)
}

/// The tokio-postgres configuration and the libpq TLS settings (see `pg_tls`).
fn parse_with_tls(url: &str) -> anyhow::Result<(tokio_postgres::Config, pg_tls::Settings)> {
    let invalid = |e: &dyn std::fmt::Display| anyhow!("invalid PostgreSQL connection string {}: {e}", redact_url(url));
    let (rest, tls) = pg_tls::split(url, |k| std::env::var(k).ok()).map_err(|e| invalid(&e))?;
    let mut config = rest.parse::<tokio_postgres::Config>().map_err(|e| invalid(&e))?;
    config.ssl_mode(pg_tls::tokio_mode(tls.mode));
    Ok((config, tls))
}

/// Connect within `timeout`; the connection task is spawned on the current runtime.
pub async fn connect(url: &str, timeout: Duration) -> anyhow::Result<tokio_postgres::Client> {
    let (mut config, tls) = parse_with_tls(url)?;
    config.connect_timeout(timeout);
    if config.get_application_name().is_none() {
        config.application_name("dbguard");
    }
    let result = if tls.mode == pg_tls::Mode::Disable {
        connect_with(&config, tokio_postgres::NoTls, timeout).await
    } else {
        let tls_config =
            pg_tls::client_config(&tls).map_err(|e| anyhow!("cannot connect to {}: {e:#}", redact_url(url)))?;
        connect_with(
            &config,
            tokio_postgres_rustls::MakeRustlsConnect::new(tls_config),
            timeout,
        )
        .await
    };
    match result {
        Ok(client) => Ok(client),
        Err(Some(e)) => Err(anyhow!(
            "cannot connect to {}: {}{}",
            redact_url(url),
            describe_pg_error(&e),
            tls_hint(&e, tls.mode)
        )),
        Err(None) => Err(anyhow!(
            "cannot connect to {}: timed out after {:.1} s",
            redact_url(url),
            timeout.as_secs_f64()
        )),
    }
}

/// Connect with one TLS connector; `Err(None)` is the timeout.
async fn connect_with<T>(
    config: &tokio_postgres::Config,
    tls: T,
    timeout: Duration,
) -> Result<tokio_postgres::Client, Option<tokio_postgres::Error>>
where
    T: tokio_postgres::tls::MakeTlsConnect<tokio_postgres::Socket> + Send + 'static,
    T::Stream: Send + 'static,
    T::TlsConnect: Send,
    <T::TlsConnect as tokio_postgres::tls::TlsConnect<tokio_postgres::Socket>>::Future: Send,
{
    let (client, connection) = match tokio::time::timeout(timeout, config.connect(tls)).await {
        Ok(Ok(pair)) => pair,
        Ok(Err(e)) => return Err(Some(e)),
        Err(_) => return Err(None),
    };
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

/// The next step for the TLS failures people meet (an untrusted or misnamed certificate,
/// a server without TLS, a server that requires it).
fn tls_hint(e: &tokio_postgres::Error, mode: pg_tls::Mode) -> &'static str {
    let text = describe_pg_error(e);
    if text.contains("not valid for name") || text.contains("NotValidForName") {
        " (the certificate is not for this host name: connect by the name it was issued for, or use sslmode=verify-ca to check only the CA)"
    } else if text.contains("invalid peer certificate") {
        " (the server's certificate is not signed by a CA in sslrootcert: point sslrootcert at the CA that signed it; sslmode=require encrypts without checking, as psql does)"
    } else if text.contains("server does not support TLS") {
        " (this server has no TLS: use sslmode=prefer or disable, or enable ssl on the server)"
    } else if mode == pg_tls::Mode::Disable && (text.contains("no encryption") || text.contains("pg_hba.conf")) {
        " (the server may require TLS: try sslmode=require)"
    } else {
        ""
    }
}

/// tokio-postgres' Display for errors is terse ("db error"); include the server's message.
pub fn describe_pg_error(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => {
            let mut s = e.to_string();
            let mut src = std::error::Error::source(e);
            while let Some(inner) = src {
                s.push_str(": ");
                s.push_str(&inner.to_string());
                src = inner.source();
            }
            s
        }
    }
}
