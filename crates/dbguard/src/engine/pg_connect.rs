//! Opening PostgreSQL connections: always with a bounded connect timeout, on a
//! small current-thread tokio runtime created only by the commands that need it
//! (so `check` and the hook never pay for a runtime).

use std::time::Duration;

use anyhow::{anyhow, Context};
use dbguard_core::redact::redact_url;

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
    url.parse::<tokio_postgres::Config>()
        .map_err(|e| anyhow!("invalid PostgreSQL connection string {}: {e}", redact_url(url)))
}

/// Connect within `timeout`; the connection task is spawned on the current runtime.
pub async fn connect(url: &str, timeout: Duration) -> anyhow::Result<tokio_postgres::Client> {
    let mut config = parse_config(url)?;
    config.connect_timeout(timeout);
    if config.get_application_name().is_none() {
        config.application_name("dbguard");
    }
    let fut = config.connect(tokio_postgres::NoTls);
    let (client, connection) = match tokio::time::timeout(timeout, fut).await {
        Ok(Ok(pair)) => pair,
        Ok(Err(e)) => {
            return Err(anyhow!(
                "cannot connect to {}: {}",
                redact_url(url),
                describe_pg_error(&e)
            ));
        }
        Err(_) => {
            return Err(anyhow!(
                "cannot connect to {}: timed out after {:.1} s",
                redact_url(url),
                timeout.as_secs_f64()
            ));
        }
    };
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
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
