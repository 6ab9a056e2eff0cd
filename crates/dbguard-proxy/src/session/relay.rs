//! The relay: two loops, client to server and server to client, over buffered reads.
//!
//! Each loop walks the message headers in what it has read. A message it needs whole (a
//! `Query` or `Parse` to decide on; on the way back a ReadyForQuery, or an error or completion
//! it rewrites) waits until it is all there; every other message streams through as its bytes
//! arrive, however large (COPY data, a 1 GB row). Writes are batched: one write per read.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::{Buf, BytesMut};
use dbguard_core::sql::prefilter;
use serde_json::json;
use tokio::io::{AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::sync::watch;

use super::expect::{Expect, Handling, Pending, Tag};
use super::{Established, MsgReader};
use crate::decide::{Decider, Protocol, SessionState};
use crate::net::Stream;
use crate::server::{Shared, DRAIN, FORCE};
use crate::wire::backend::{self, Field, ProxyError};
use crate::wire::frontend;
use crate::wire::header;

/// Longest Bind prefix (portal and statement names) or small message read whole.
const MAX_SMALL: usize = 1 << 20;
/// Tables remembered as created by a session.
const MAX_CREATED: usize = 1000;

/// What both loops share.
#[derive(Debug)]
struct State {
    pending: Pending,
    /// The last ReadyForQuery's transaction status.
    status: u8,
    scs_off: bool,
    /// Tables this session created, in committed transactions.
    created: Vec<String>,
    /// Tables created in the transaction still open, and whether it has seen an error.
    created_tx: Vec<String>,
    failed_tx: bool,
}

impl State {
    fn idle(&self) -> bool {
        self.pending.is_empty() && self.status == b'I'
    }
}

/// How a session ended.
#[derive(Debug)]
enum End {
    /// The client closed its connection (or sent Terminate, forwarded).
    Client { terminated: bool },
    /// The server closed, or its bytes could not be read.
    Server(String),
    /// The client broke the protocol: say this and close.
    Protocol(ProxyError),
    /// The proxy is stopping.
    Shutdown,
}

pub(super) async fn relay(shared: &Arc<Shared>, client: MsgReader<Stream>, est: Established) {
    let Established {
        server,
        upstream,
        info,
        backend: backend_key,
        scs_off,
        ..
    } = est;
    let state = Mutex::new(State {
        pending: Pending::default(),
        status: b'I',
        scs_off,
        created: Vec::new(),
        created_tx: Vec::new(),
        failed_tx: false,
    });
    let (c_rd, mut c_wr) = tokio::io::split(client.io);
    let (s_rd, mut s_wr) = tokio::io::split(server.io);
    let mut c_rd = MsgReader {
        io: c_rd,
        buf: client.buf,
    };
    let mut s_rd = MsgReader {
        io: s_rd,
        buf: server.buf,
    };
    let mut decider = Decider::new(shared.guard.clone(), upstream.clone(), info.clone(), shared.log.clone());
    let max = shared.config.max_statement_bytes;
    let end = {
        let up = ClientToServer {
            state: &state,
            decider: &mut decider,
            statements: HashMap::new(),
            portals: HashMap::new(),
            max_statement: max,
        };
        let down = ServerToClient {
            state: &state,
            max_message: max.max(MAX_SMALL),
        };
        let mut sd1 = shared.shutdown.clone();
        let mut sd2 = shared.shutdown.clone();
        tokio::select! {
            e = up.run(&mut c_rd, &mut s_wr, &mut sd1) => e,
            e = down.run(&mut s_rd, &mut c_wr, &mut sd2) => e,
        }
    };
    let busy = !state.lock().map(|s| s.pending.is_empty()).unwrap_or(true);
    let mut to_client = BytesMut::new();
    match &end {
        End::Client { terminated } => {
            // A client that leaves mid-query: the server stops the query instead of running it
            // to its end for nobody.
            if busy && !terminated {
                let _ =
                    crate::net::cancel(&upstream, backend_key.0, backend_key.1, shared.config.connect_timeout).await;
            }
        }
        End::Server(why) => {
            shared.log.event(
                "upstream_closed",
                why,
                &[("upstream", json!(upstream.label())), ("client", json!(info.client))],
            );
            ProxyError::fatal(
                "08006",
                format!(
                    "dbguard proxy: the database server {} closed the connection",
                    upstream.display
                ),
            )
            .encode(&mut to_client);
        }
        End::Protocol(e) => {
            shared.log.event(
                "protocol_error",
                &e.message,
                &[("upstream", json!(upstream.label())), ("client", json!(info.client))],
            );
            e.encode(&mut to_client);
        }
        End::Shutdown => {
            ProxyError::fatal("57P01", "terminating connection: dbguard proxy is shutting down").encode(&mut to_client);
        }
    }
    if !matches!(end, End::Client { terminated: true } | End::Server(_)) {
        // Terminate: the server ends the session (an open transaction is rolled back).
        let _ = s_wr.write_all(&[b'X', 0, 0, 0, 4]).await;
    }
    let _ = s_wr.shutdown().await;
    if !to_client.is_empty() {
        let _ = c_wr.write_all(&to_client).await;
    }
    let _ = c_wr.shutdown().await;
}

struct ClientToServer<'a> {
    state: &'a Mutex<State>,
    decider: &'a mut Decider,
    /// Named (and unnamed) prepared statements that are soft-drops or create tables.
    statements: HashMap<Vec<u8>, Tag>,
    /// Portals bound to them.
    portals: HashMap<Vec<u8>, Tag>,
    max_statement: usize,
}

/// Move what is there of a message that streams through (`through` bytes still to come).
fn pass_through(buf: &mut BytesMut, out: &mut BytesMut, through: &mut usize) {
    if *through > 0 && !buf.is_empty() {
        let n = (*through).min(buf.len());
        out.extend_from_slice(&buf[..n]);
        buf.advance(n);
        *through -= n;
    }
}

/// Write what was gathered, in one write; a buffer grown by a large message is let go.
async fn flush(wr: &mut WriteHalf<Stream>, out: &mut BytesMut) -> std::io::Result<()> {
    if out.is_empty() {
        return Ok(());
    }
    wr.write_all(out).await?;
    out.clear();
    if out.capacity() > MAX_SMALL {
        *out = BytesMut::with_capacity(8192);
    }
    Ok(())
}

fn push(state: &Mutex<State>, e: Expect) {
    if let Ok(mut s) = state.lock() {
        s.pending.push(e);
    }
}

fn protocol_error(m: impl Into<String>) -> End {
    End::Protocol(ProxyError::fatal("08P01", format!("dbguard proxy: {}", m.into())))
}

impl ClientToServer<'_> {
    async fn run(
        mut self,
        rd: &mut MsgReader<ReadHalf<Stream>>,
        wr: &mut WriteHalf<Stream>,
        shutdown: &mut watch::Receiver<u8>,
    ) -> End {
        let mut out = BytesMut::with_capacity(8192);
        let mut through = 0usize;
        loop {
            pass_through(&mut rd.buf, &mut out, &mut through);
            while through == 0 {
                let (tag, total) = match header(&rd.buf) {
                    Ok(Some(h)) => h,
                    Ok(None) => break,
                    Err(e) => return protocol_error(e.to_string()),
                };
                match tag {
                    b'Q' | b'P' => {
                        if total > self.max_statement {
                            return End::Protocol(ProxyError::fatal(
                                "54000",
                                format!(
                                    "dbguard proxy: a statement of {total} bytes is larger than the proxy reads to check it ({} bytes)",
                                    self.max_statement
                                ),
                            ));
                        }
                        if rd.buf.len() < total {
                            rd.expect(total);
                            break;
                        }
                        let msg = rd.buf.split_to(total);
                        // A slow decision (the guard writes files) must not hold back what the
                        // client sent before it.
                        if prefilter(&msg[5..]).may_destroy && flush(wr, &mut out).await.is_err() {
                            return End::Server("write to the server failed".into());
                        }
                        let r = if tag == b'Q' {
                            self.query(&msg, &mut out).await
                        } else {
                            self.parse(&msg, &mut out).await
                        };
                        if let Err(e) = r {
                            return protocol_error(e);
                        }
                    }
                    b'B' if !self.statements.is_empty() || !self.portals.is_empty() => {
                        let avail = &rd.buf[5..total.min(rd.buf.len())];
                        match frontend::decode_bind_names(avail) {
                            Some((portal, stmt)) => {
                                match self.statements.get(stmt) {
                                    Some(t) => {
                                        let t = t.clone();
                                        self.portals.insert(portal.to_vec(), t);
                                    }
                                    None => {
                                        self.portals.remove(portal);
                                    }
                                }
                                push(self.state, Expect::Bind);
                                through = total;
                            }
                            None if rd.buf.len() >= total => return protocol_error("malformed Bind"),
                            None if rd.buf.len() > MAX_SMALL => return protocol_error("Bind names too long"),
                            None => break,
                        }
                    }
                    b'E' | b'C' | b'D' => {
                        if total > MAX_SMALL {
                            return protocol_error("Execute, Close or Describe message too long");
                        }
                        if rd.buf.len() < total {
                            break;
                        }
                        let msg = rd.buf.split_to(total);
                        let e = match tag {
                            b'E' => {
                                let Ok(portal) = frontend::decode_execute(&msg[5..]) else {
                                    return protocol_error("malformed Execute");
                                };
                                Expect::Execute(self.portals.get(portal).cloned().unwrap_or(Tag::Plain))
                            }
                            b'C' => {
                                let Ok((kind, name)) = frontend::decode_target(&msg[5..]) else {
                                    return protocol_error("malformed Close");
                                };
                                if kind == b'S' {
                                    self.statements.remove(name);
                                } else {
                                    self.portals.remove(name);
                                }
                                Expect::Close
                            }
                            _ => Expect::Describe,
                        };
                        push(self.state, e);
                        out.extend_from_slice(&msg);
                    }
                    b'X' => {
                        out.extend_from_slice(&rd.buf[..total.min(rd.buf.len())]);
                        let _ = wr.write_all(&out).await;
                        return End::Client { terminated: true };
                    }
                    other => {
                        match other {
                            b'B' => push(self.state, Expect::Bind),
                            b'S' => push(self.state, Expect::Sync),
                            b'F' => push(self.state, Expect::Function),
                            _ => {}
                        }
                        through = total;
                    }
                }
            }
            if through > 0 && !rd.buf.is_empty() {
                continue;
            }
            if flush(wr, &mut out).await.is_err() {
                return End::Server("write to the server failed".into());
            }
            tokio::select! {
                r = rd.fill() => match r {
                    Ok(true) => {}
                    _ => return End::Client { terminated: false },
                },
                changed = shutdown.changed() => {
                    let level = *shutdown.borrow();
                    if changed.is_err() || level >= FORCE {
                        return End::Shutdown;
                    }
                    if level >= DRAIN && self.state.lock().map(|s| s.idle()).unwrap_or(true) {
                        return End::Shutdown;
                    }
                }
            }
        }
    }

    fn session_state(&self) -> SessionState {
        let s = self.state.lock();
        match s {
            Ok(s) => SessionState {
                scs_off: s.scs_off,
                created: s.created.iter().chain(&s.created_tx).cloned().collect(),
            },
            Err(_) => SessionState::default(),
        }
    }

    async fn query(&mut self, msg: &[u8], out: &mut BytesMut) -> Result<(), String> {
        let sql = frontend::decode_query(&msg[5..]).map_err(|e| e.to_string())?;
        let state = self.session_state();
        let d = self.decider.decide(sql, Protocol::Simple, &state).await;
        let tags = if d.tags.iter().all(|t| *t == Tag::Plain) {
            None
        } else {
            Some(Box::new((d.tags, 0)))
        };
        push(self.state, Expect::Query(tags));
        match d.text {
            None => out.extend_from_slice(msg),
            Some(t) => frontend::encode_query(&t, out).map_err(|e| e.to_string())?,
        }
        Ok(())
    }

    async fn parse(&mut self, msg: &[u8], out: &mut BytesMut) -> Result<(), String> {
        let p = frontend::decode_parse(&msg[5..]).map_err(|e| e.to_string())?;
        let state = self.session_state();
        let d = self.decider.decide(p.query, Protocol::Extended, &state).await;
        let tag = d.tags.into_iter().next().unwrap_or(Tag::Plain);
        match &tag {
            Tag::SoftDrop | Tag::Creates(_) => {
                self.statements.insert(p.name.to_vec(), tag.clone());
            }
            _ => {
                if !self.statements.is_empty() {
                    self.statements.remove(p.name);
                }
            }
        }
        push(self.state, Expect::Parse(tag));
        match d.text {
            None => out.extend_from_slice(msg),
            Some(t) => frontend::encode_parse(p.name, &t, p.param_types, out).map_err(|e| e.to_string())?,
        }
        Ok(())
    }
}

struct ServerToClient<'a> {
    state: &'a Mutex<State>,
    /// Largest server message read whole (replies the proxy reads or rewrites; rows and
    /// COPY data stream through at any size).
    max_message: usize,
}

impl ServerToClient<'_> {
    async fn run(
        self,
        rd: &mut MsgReader<ReadHalf<Stream>>,
        wr: &mut WriteHalf<Stream>,
        shutdown: &mut watch::Receiver<u8>,
    ) -> End {
        let mut out = BytesMut::with_capacity(8192);
        let mut through = 0usize;
        // A message being read whole: its type, size, and what to do with it.
        let mut held: Option<(u8, usize, Handling)> = None;
        let mut stop_after_flush = false;
        loop {
            pass_through(&mut rd.buf, &mut out, &mut through);
            while through == 0 {
                let (tag, total, handling) = match held.take() {
                    Some(h) => h,
                    None => {
                        let (tag, total) = match header(&rd.buf) {
                            Ok(Some(h)) => h,
                            Ok(None) => break,
                            Err(e) => return End::Server(format!("unreadable server message: {e}")),
                        };
                        let (handling, whole) = self.classify(tag);
                        if !whole {
                            if tag == b'E' {
                                self.error_seen();
                            }
                            through = total;
                            break;
                        }
                        (tag, total, handling)
                    }
                };
                if total > self.max_message {
                    return End::Server(format!(
                        "a server message of {total} bytes, larger than the proxy reads whole ({} bytes)",
                        self.max_message
                    ));
                }
                if rd.buf.len() < total {
                    rd.expect(total);
                    held = Some((tag, total, handling));
                    break;
                }
                let msg = rd.buf.split_to(total);
                if self.whole(&msg, handling, &mut out) {
                    stop_after_flush = true;
                }
            }
            if through > 0 && !rd.buf.is_empty() {
                continue;
            }
            if flush(wr, &mut out).await.is_err() {
                return End::Client { terminated: false };
            }
            if stop_after_flush && *shutdown.borrow() >= DRAIN {
                return End::Shutdown;
            }
            stop_after_flush = false;
            tokio::select! {
                r = rd.fill() => match r {
                    Ok(true) => {}
                    Ok(false) => return End::Server("the server closed the connection".into()),
                    Err(e) => return End::Server(format!("reading from the server: {e}")),
                },
                changed = shutdown.changed() => {
                    if changed.is_err() || *shutdown.borrow() >= FORCE {
                        return End::Shutdown;
                    }
                }
            }
        }
    }

    /// How to treat a server message of this type, and whether it must be read whole before
    /// it goes on. Rows, COPY data and notifications (the bulk) pass without a lock.
    fn classify(&self, tag: u8) -> (Handling, bool) {
        if matches!(tag, b'D' | b'd' | b'A' | b't' | b'G' | b'H' | b'W' | b'c' | b'V') {
            return (Handling::Pass, false);
        }
        if tag == b'S' {
            return (Handling::Pass, true);
        }
        let Ok(mut s) = self.state.lock() else {
            return (Handling::Pass, false);
        };
        let handling = s.pending.on_message(tag);
        // A ROLLBACK or PREPARE TRANSACTION forgets the tables created in it.
        let whole = handling != Handling::Pass || (tag == b'C' && !s.created_tx.is_empty());
        (handling, whole)
    }

    /// An error went by: tables created in this transaction are not counted as created.
    fn error_seen(&self) {
        if let Ok(mut s) = self.state.lock() {
            if !s.created_tx.is_empty() {
                s.failed_tx = true;
            }
        }
    }

    /// Handle a whole message; true when the session may end here (idle, and shutting down).
    fn whole(&self, msg: &[u8], handling: Handling, out: &mut BytesMut) -> bool {
        let tag = msg[0];
        let body = &msg[5..];
        match handling {
            Handling::Ready => {
                let status = body.first().copied().unwrap_or(b'I');
                out.extend_from_slice(msg);
                let Ok(mut s) = self.state.lock() else { return false };
                s.status = status;
                if status == b'I' {
                    let created = std::mem::take(&mut s.created_tx);
                    if !s.failed_tx {
                        s.created.extend(created);
                        let over = s.created.len().saturating_sub(MAX_CREATED);
                        s.created.drain(..over);
                    }
                    s.failed_tx = false;
                }
                return s.idle();
            }
            Handling::SoftDropComplete => {
                if backend::command_tag(body) == b"DO" {
                    backend::encode_command_complete("DROP TABLE", out);
                } else {
                    out.extend_from_slice(msg);
                }
            }
            Handling::Created(names) => {
                if let Ok(mut s) = self.state.lock() {
                    s.created_tx.extend(names.iter().cloned());
                }
                out.extend_from_slice(msg);
            }
            Handling::Replace(e) => {
                self.error_seen();
                e.encode(out);
            }
            Handling::Clean => {
                if tag == b'E' {
                    self.error_seen();
                }
                let fields: Vec<Field> = backend::fields(body)
                    .into_iter()
                    .filter(|f| !matches!(f.code, b'W' | b'P' | b'p' | b'q'))
                    .collect();
                backend::encode_fields(tag, &fields, out);
            }
            Handling::Pass => {
                match tag {
                    b'S' => {
                        if let Some((name, value)) = backend::parameter_status(body) {
                            if name == b"standard_conforming_strings" {
                                if let Ok(mut s) = self.state.lock() {
                                    s.scs_off = value == b"off";
                                }
                            }
                        }
                    }
                    b'C' => {
                        let t = backend::command_tag(body);
                        if t.starts_with(b"ROLLBACK") || t.starts_with(b"PREPARE TRANSACTION") {
                            if let Ok(mut s) = self.state.lock() {
                                s.created_tx.clear();
                            }
                        }
                    }
                    _ => {}
                }
                out.extend_from_slice(msg);
            }
        }
        false
    }
}
