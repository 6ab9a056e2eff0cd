//! One client session: the startup packet (TLS and GSS encryption requests answered 'N',
//! cancel requests routed to the right upstream backend), the upstream connection,
//! authentication relayed message by message (SCRAM-SHA-256, MD5, cleartext: the client
//! proves itself to the server, the proxy only carries the messages), then the relay.

pub mod expect;
mod relay;

use std::io;
use std::sync::Arc;

use bytes::{Buf, BytesMut};
use serde_json::json;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

use crate::config::Upstream;
use crate::guard::SessionInfo;
use crate::net::{self, Stream};
use crate::server::Shared;
use crate::wire::backend::{self, ProxyError};
use crate::wire::frontend::{self, Startup};
use crate::wire::{header, WireError};

/// Longest message accepted during authentication (SASL messages are a few hundred bytes).
const MAX_AUTH_MESSAGE: usize = 1 << 20;

/// Most room made at once for a message still arriving: the length a peer claims is only
/// allocated as its bytes come (the buffer grows as it fills).
const MAX_AHEAD: usize = 1 << 20;

/// Reads whole messages from a stream into a buffer that the relay takes over afterwards.
pub(crate) struct MsgReader<R> {
    pub io: R,
    pub buf: BytesMut,
}

impl<R: AsyncRead + Unpin> MsgReader<R> {
    pub fn new(io: R) -> Self {
        MsgReader {
            io,
            buf: BytesMut::with_capacity(8192),
        }
    }

    /// Read more; false at end of stream.
    pub async fn fill(&mut self) -> io::Result<bool> {
        if self.buf.capacity() - self.buf.len() < 4096 {
            self.buf.reserve(8192);
        }
        Ok(self.io.read_buf(&mut self.buf).await? > 0)
    }

    /// Make room for a message of `total` bytes of which part is in the buffer: at most
    /// `MAX_AHEAD` more at once, never the whole of a length the peer merely claims.
    pub fn expect(&mut self, total: usize) {
        let missing = total.saturating_sub(self.buf.len());
        self.buf.reserve(missing.min(MAX_AHEAD));
    }

    /// One whole message of at most `max` bytes. None: the stream ended between messages.
    pub async fn message(&mut self, max: usize) -> Result<Option<BytesMut>, SessionError> {
        loop {
            if let Some((_, total)) = header(&self.buf).map_err(SessionError::Wire)? {
                if total > max {
                    return Err(SessionError::Wire(WireError::TooLarge(total)));
                }
                if self.buf.len() >= total {
                    return Ok(Some(self.buf.split_to(total)));
                }
                self.expect(total);
            }
            if !self.fill().await.map_err(|_| SessionError::Io)? {
                return if self.buf.is_empty() {
                    Ok(None)
                } else {
                    Err(SessionError::Io)
                };
            }
        }
    }
}

#[derive(Debug)]
pub(crate) enum SessionError {
    /// The connection broke or ended (nothing to tell the client).
    Io,
    Wire(WireError),
    /// Say this to the client and close.
    Client(ProxyError),
}

/// Run one client connection to its end. Never panics on input; errors end this session only.
pub(crate) async fn run(shared: Arc<Shared>, client: Stream, peer: String) {
    let limit = shared.config.startup_timeout;
    let mut client = MsgReader::new(client);
    let started = tokio::time::timeout(limit, startup(&shared, &mut client, &peer)).await;
    let established = match started {
        Ok(Ok(Some(e))) => e,
        Ok(Ok(None)) => return,
        Ok(Err(e)) => {
            refuse(&shared, &mut client.io, &peer, e).await;
            return;
        }
        Err(_) => {
            let e = ProxyError::fatal(
                "08006",
                "dbguard proxy: the connection was not ready within the startup timeout",
            );
            refuse(&shared, &mut client.io, &peer, SessionError::Client(e)).await;
            return;
        }
    };
    let key = established.proxy_key;
    relay::relay(&shared, client, established).await;
    shared.forget_cancel_key(key);
}

/// Tell the client why (when it can be told) and log it.
async fn refuse(shared: &Shared, client: &mut Stream, peer: &str, e: SessionError) {
    let err = match e {
        SessionError::Client(err) => err,
        SessionError::Wire(w) => ProxyError::fatal("08P01", format!("dbguard proxy: {w}")),
        SessionError::Io => return,
    };
    shared.log.event(
        "connection_refused",
        &err.message,
        &[("client", json!(peer)), ("sqlstate", json!(err.code))],
    );
    let mut out = BytesMut::new();
    err.encode(&mut out);
    let _ = client.write_all(&out).await;
    let _ = client.shutdown().await;
}

/// A session ready to relay.
pub(crate) struct Established {
    pub server: MsgReader<Stream>,
    pub upstream: Arc<Upstream>,
    pub info: Arc<SessionInfo>,
    /// The server's own cancel key.
    pub backend: (i32, i32),
    /// The key the client was given.
    pub proxy_key: (i32, i32),
    /// `standard_conforming_strings` is off.
    pub scs_off: bool,
}

async fn startup(
    shared: &Arc<Shared>,
    client: &mut MsgReader<Stream>,
    peer: &str,
) -> Result<Option<Established>, SessionError> {
    let (version, mut params) = loop {
        let Some(body) = read_startup(client).await? else {
            return Ok(None);
        };
        match frontend::decode_startup(&body).map_err(SessionError::Wire)? {
            Startup::Ssl | Startup::GssEnc => {
                // No encryption between client and proxy (the proxy listens on localhost or
                // a Unix socket by default); libpq's sslmode=prefer goes on without it.
                client.io.write_all(b"N").await.map_err(|_| SessionError::Io)?;
            }
            Startup::Cancel { pid, key } => {
                shared.cancel(pid, key).await;
                return Ok(None);
            }
            Startup::Startup { version, params } => break (version, params),
        }
    };
    let get = |params: &[(String, String)], k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let user = get(&params, "user").ok_or_else(|| {
        SessionError::Client(ProxyError::fatal(
            "28000",
            "no PostgreSQL user name specified in startup packet",
        ))
    })?;
    let database = get(&params, "database")
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| user.clone());
    if get(&params, "replication").is_some_and(|r| !matches!(r.as_str(), "false" | "off" | "no" | "0")) {
        return Err(SessionError::Client(ProxyError::fatal(
            "0A000",
            "dbguard proxy does not relay replication connections: connect to the server directly for replication",
        )));
    }
    let Some(upstream) = shared.config.upstream_for(&database).cloned() else {
        let served: Vec<&str> = shared.config.upstreams.iter().map(|u| u.label()).collect();
        return Err(SessionError::Client(ProxyError::fatal(
            "3D000",
            format!(
                "dbguard proxy serves no database \"{database}\" (it serves: {})",
                served.join(", ")
            ),
        )));
    };
    // Protocol extensions (3.x with x > 0, `_pq_.` options) are not relayed: the client is
    // told the proxy speaks 3.0, as a server of that version would.
    let unrecognized: Vec<String> = params
        .iter()
        .filter(|(k, _)| k.starts_with("_pq_."))
        .map(|(k, _)| k.clone())
        .collect();
    params.retain(|(k, _)| !k.starts_with("_pq_."));
    if let Some(db) = &upstream.dbname {
        match params.iter_mut().find(|(k, _)| k == "database") {
            Some(p) => p.1 = db.clone(),
            None => params.push(("database".into(), db.clone())),
        }
    }
    let server = net::connect(&upstream, shared.config.connect_timeout)
        .await
        .map_err(|e| {
            shared.log.event(
                "upstream_error",
                &format!("cannot reach upstream {}: {e}", upstream.display),
                &[("upstream", json!(upstream.label())), ("client", json!(peer))],
            );
            SessionError::Client(ProxyError::fatal(
                "08006",
                format!(
                    "dbguard proxy cannot reach the database server {}: {e}",
                    upstream.display
                ),
            ))
        })?;
    let mut server = MsgReader::new(server);
    let mut packet = BytesMut::new();
    frontend::encode_startup(&params, &mut packet).map_err(SessionError::Wire)?;
    server.io.write_all(&packet).await.map_err(|_| SessionError::Io)?;
    if version != frontend::PROTOCOL_3_0 || !unrecognized.is_empty() {
        let mut v = BytesMut::new();
        backend::encode_negotiate(0, &unrecognized, &mut v);
        client.io.write_all(&v).await.map_err(|_| SessionError::Io)?;
    }

    // Authentication: every server message goes to the client; a request that wants an
    // answer gets the client's next message.
    let mut out = BytesMut::new();
    loop {
        let msg = server
            .message(MAX_AUTH_MESSAGE)
            .await?
            .ok_or_else(|| SessionError::Client(server_closed(&upstream)))?;
        let tag = msg[0];
        client.io.write_all(&msg).await.map_err(|_| SessionError::Io)?;
        match tag {
            b'R' => match backend::auth_code(&msg[5..]) {
                Some(0) => break,
                Some(3 | 5 | 7 | 8 | 9 | 10 | 11) => {
                    let answer = client.message(MAX_AUTH_MESSAGE).await?.ok_or(SessionError::Io)?;
                    if answer[0] != b'p' {
                        return Err(SessionError::Client(ProxyError::fatal(
                            "08P01",
                            "expected a password or SASL response during authentication",
                        )));
                    }
                    server.io.write_all(&answer).await.map_err(|_| SessionError::Io)?;
                }
                Some(12) => {}
                _ => {
                    return Err(SessionError::Client(ProxyError::fatal(
                        "28000",
                        "dbguard proxy does not relay this authentication method (supported: SCRAM-SHA-256, MD5, password, trust)",
                    )))
                }
            },
            b'E' => return Ok(None),
            b'v' | b'N' => {}
            _ => {
                return Err(SessionError::Client(ProxyError::fatal(
                    "08P01",
                    "unexpected message from the server during authentication",
                )))
            }
        }
    }
    // After authentication: parameters, the cancel key (replaced by the proxy's own), and
    // ReadyForQuery.
    let mut backend_key = None;
    let mut proxy_key = (0, 0);
    let mut scs_off = false;
    let mut application_name = get(&params, "application_name").unwrap_or_default();
    loop {
        let msg = server
            .message(MAX_AUTH_MESSAGE)
            .await?
            .ok_or_else(|| SessionError::Client(server_closed(&upstream)))?;
        match msg[0] {
            b'K' => {
                let body = &msg[5..];
                if body.len() != 8 {
                    return Err(SessionError::Client(ProxyError::fatal(
                        "08P01",
                        "unexpected cancel key from the server",
                    )));
                }
                let pid = i32::from_be_bytes([body[0], body[1], body[2], body[3]]);
                let key = i32::from_be_bytes([body[4], body[5], body[6], body[7]]);
                backend_key = Some((pid, key));
                proxy_key = shared.register_cancel_key(upstream.clone(), pid, key);
                backend::encode_key_data(proxy_key.0, proxy_key.1, &mut out);
            }
            b'S' => {
                if let Some((name, value)) = backend::parameter_status(&msg[5..]) {
                    if name == b"standard_conforming_strings" {
                        scs_off = value == b"off";
                    }
                    if name == b"application_name" {
                        application_name = String::from_utf8_lossy(value).into_owned();
                    }
                }
                out.extend_from_slice(&msg);
            }
            b'Z' => {
                out.extend_from_slice(&msg);
                client.io.write_all(&out).await.map_err(|_| SessionError::Io)?;
                break;
            }
            b'E' => {
                client.io.write_all(&out).await.map_err(|_| SessionError::Io)?;
                client.io.write_all(&msg).await.map_err(|_| SessionError::Io)?;
                return Ok(None);
            }
            _ => out.extend_from_slice(&msg),
        }
    }
    let info = Arc::new(SessionInfo {
        user,
        database,
        application_name,
        client: peer.to_string(),
    });
    Ok(Some(Established {
        server,
        upstream,
        info,
        backend: backend_key.unwrap_or((0, 0)),
        proxy_key,
        scs_off,
    }))
}

/// The startup packet's body: a length (which counts itself) and the rest, at most the
/// server's own limit; None when the client left before sending one.
async fn read_startup(client: &mut MsgReader<Stream>) -> Result<Option<BytesMut>, SessionError> {
    while client.buf.len() < 4 {
        if !client.fill().await.map_err(|_| SessionError::Io)? {
            return Ok(None);
        }
    }
    let len = i32::from_be_bytes([client.buf[0], client.buf[1], client.buf[2], client.buf[3]]);
    if !(8..=frontend::MAX_STARTUP as i32).contains(&len) {
        return Err(SessionError::Client(ProxyError::fatal(
            "08P01",
            format!(
                "invalid length of startup packet ({len} bytes; the limit is {})",
                frontend::MAX_STARTUP
            ),
        )));
    }
    let len = len as usize;
    while client.buf.len() < len {
        if !client.fill().await.map_err(|_| SessionError::Io)? {
            return Ok(None);
        }
    }
    let mut packet = client.buf.split_to(len);
    packet.advance(4);
    Ok(Some(packet))
}

fn server_closed(up: &Upstream) -> ProxyError {
    ProxyError::fatal(
        "08006",
        format!("the database server {} closed the connection", up.display),
    )
}
