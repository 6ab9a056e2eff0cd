//! 1,000 connections opened at once through the real `dbguard proxy` against a server that
//! takes 60: each client gets a session or a clear error (the server's "too many clients"),
//! the proxy does not panic, and a session opened before keeps working.

mod e2e_support;
mod proxy_support;

use std::time::Duration;

use e2e_support::World;
use proxy_support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Log in as the trust role; the first message type of the answer (b'R' then more, or b'E').
async fn one(port: u16, db: String) -> Result<u8, String> {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let mut body = 196608i32.to_be_bytes().to_vec();
    for (k, v) in [("user", TRUST_USER), ("database", db.as_str())] {
        body.extend_from_slice(k.as_bytes());
        body.push(0);
        body.extend_from_slice(v.as_bytes());
        body.push(0);
    }
    body.push(0);
    let mut packet = ((body.len() + 4) as i32).to_be_bytes().to_vec();
    packet.extend(body);
    s.write_all(&packet).await.map_err(|e| format!("write: {e}"))?;
    let mut first = [0u8; 1];
    tokio::time::timeout(Duration::from_secs(60), s.read_exact(&mut first))
        .await
        .map_err(|_| "no answer within 60 s".to_string())?
        .map_err(|e| format!("read: {e}"))?;
    // Hold the session a moment so that they overlap.
    tokio::time::sleep(Duration::from_millis(300)).await;
    Ok(first[0])
}

#[test]
fn a_thousand_connections_at_once() {
    let cluster = scram_cluster();
    let db = app_db(&cluster, "px_load");
    let world = World::new();
    let proxy = Proxy::start(&world, &format!("postgres://127.0.0.1:{}/{db}", cluster.port));
    let mut keeper = Raw::connect(proxy.port, TRUST_USER, &db);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let results: Vec<Result<u8, String>> = rt.block_on(async {
        let tasks: Vec<_> = (0..1000).map(|_| tokio::spawn(one(proxy.port, db.clone()))).collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap_or_else(|e| Err(e.to_string())));
        }
        out
    });
    let sessions = results.iter().filter(|r| matches!(r, Ok(b'R'))).count();
    let errors = results.iter().filter(|r| matches!(r, Ok(b'E'))).count();
    let other: Vec<_> = results.iter().filter(|r| !matches!(r, Ok(b'R') | Ok(b'E'))).collect();
    assert!(
        other.is_empty(),
        "clients without a clear answer: {:?}",
        &other[..other.len().min(5)]
    );
    assert_eq!(sessions + errors, 1000);
    assert!(sessions >= 20, "{sessions} sessions, {errors} errors");
    // The session opened before is unaffected; the proxy still accepts.
    keeper.send(&query_msg("SELECT 1"));
    assert_eq!(shape(&keeper.until_ready()).0, "TDCZ");
    let out = proxy.psql(&db, "SELECT 3");
    assert_eq!(stdout(&out), "3", "{}", stderr(&out));
    assert!(!proxy.log_text().contains("panicked"));
}
