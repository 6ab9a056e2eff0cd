//! The listener: accepts clients (TCP or a Unix socket), one task per session, the cancel keys
//! handed to clients, and a clean stop.
//!
//! Stopping (the future given to [`serve`] completes, e.g. on SIGTERM): the listener closes;
//! idle sessions end at once; a session inside a transaction or a query ends at its next
//! ReadyForQuery outside a transaction, or after `shutdown_grace`, when the server is told to
//! terminate it (PostgreSQL rolls back what is open: nothing is left half-done). Each client
//! is told why (57P01).

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::future::Future;
use std::hash::BuildHasher;
use std::io;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::config::{Config, Listen, Upstream};
use crate::guard::Guard;
use crate::log::Logger;
use crate::net::Stream;
use crate::wire::backend::ProxyError;

/// Shutdown levels on the watch channel.
pub(crate) const DRAIN: u8 = 1;
pub(crate) const FORCE: u8 = 2;

struct CancelTarget {
    upstream: Arc<Upstream>,
    pid: i32,
    key: i32,
}

pub(crate) struct Shared {
    pub config: Config,
    pub guard: Arc<dyn Guard>,
    pub log: Logger,
    pub shutdown: watch::Receiver<u8>,
    cancels: Mutex<HashMap<(i32, i32), CancelTarget>>,
    next_pid: AtomicI32,
    random: RandomState,
}

impl Shared {
    /// A cancel key for a new session, remembered with the server's own.
    pub fn register_cancel_key(&self, upstream: Arc<Upstream>, pid: i32, key: i32) -> (i32, i32) {
        let proxy_pid = self.next_pid.fetch_add(1, Ordering::Relaxed) & i32::MAX;
        // Unpredictable: SipHash under the process's random keys, of the pid and the time.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let proxy_key = self.random.hash_one((proxy_pid, nanos)) as i32;
        if let Ok(mut m) = self.cancels.lock() {
            m.insert((proxy_pid, proxy_key), CancelTarget { upstream, pid, key });
        }
        (proxy_pid, proxy_key)
    }

    pub fn forget_cancel_key(&self, key: (i32, i32)) {
        if let Ok(mut m) = self.cancels.lock() {
            m.remove(&key);
        }
    }

    /// A client's CancelRequest: passed to the server of the session it names, if any (an
    /// unknown key is ignored, as the server does).
    pub async fn cancel(&self, pid: i32, key: i32) {
        let target = self
            .cancels
            .lock()
            .ok()
            .and_then(|m| m.get(&(pid, key)).map(|t| (t.upstream.clone(), t.pid, t.key)));
        if let Some((up, pid, key)) = target {
            if let Err(e) = crate::net::cancel(&up, pid, key, self.config.connect_timeout).await {
                self.log.event(
                    "cancel_failed",
                    &format!("could not pass a cancel request to {}: {e}", up.display),
                    &[("upstream", json!(up.label()))],
                );
            }
        }
    }
}

enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener, std::path::PathBuf),
}

impl Listener {
    async fn bind(l: &Listen) -> io::Result<Listener> {
        match l {
            Listen::Tcp(addr) => Ok(Listener::Tcp(TcpListener::bind(addr).await?)),
            Listen::Unix(path) => {
                // A socket file left by a proxy that did not stop cleanly: replaced, but only
                // when nothing answers on it.
                if path.exists() && std::os::unix::net::UnixStream::connect(path).is_err() {
                    let _ = std::fs::remove_file(path);
                }
                Ok(Listener::Unix(UnixListener::bind(path)?, path.clone()))
            }
        }
    }

    async fn accept(&self) -> io::Result<(Stream, String)> {
        match self {
            Listener::Tcp(l) => {
                let (s, peer) = l.accept().await?;
                let _ = s.set_nodelay(true);
                Ok((Stream::Tcp(s), peer.to_string()))
            }
            Listener::Unix(l, _) => {
                let (s, _) = l.accept().await?;
                Ok((Stream::Unix(s), "unix".to_string()))
            }
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Listener::Unix(_, path) = self {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Serve until `stop` completes, then stop cleanly (see the module comment).
pub async fn serve(
    config: Config,
    guard: Arc<dyn Guard>,
    log: Logger,
    stop: impl Future<Output = ()>,
) -> io::Result<()> {
    raise_fd_limit();
    let listener = Listener::bind(&config.listen).await?;
    let (tx, rx) = watch::channel(0u8);
    let grace = config.shutdown_grace;
    let max_clients = config.max_clients;
    let shared = Arc::new(Shared {
        config,
        guard,
        log: log.clone(),
        shutdown: rx,
        cancels: Mutex::new(HashMap::new()),
        next_pid: AtomicI32::new(1_000_000),
        random: RandomState::new(),
    });
    let mut sessions = JoinSet::new();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    while sessions.try_join_next().is_some() {}
                    if sessions.len() >= max_clients {
                        let log = log.clone();
                        tokio::spawn(too_many(stream, peer, max_clients, log));
                        continue;
                    }
                    sessions.spawn(crate::session::run(shared.clone(), stream, peer));
                }
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment rather than spin.
                    log.event("accept_error", &e.to_string(), &[]);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
    drop(listener);
    while sessions.try_join_next().is_some() {}
    log.event(
        "stopping",
        "no new connections; sessions end when idle",
        &[("sessions", json!(sessions.len()))],
    );
    let _ = tx.send(DRAIN);
    let drained = tokio::time::timeout(grace, async { while sessions.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        log.event(
            "stopping",
            "grace period over: the remaining sessions are terminated (the server rolls back their open transactions)",
            &[("sessions", json!(sessions.len()))],
        );
        let _ = tx.send(FORCE);
        if tokio::time::timeout(Duration::from_secs(5), async {
            while sessions.join_next().await.is_some() {}
        })
        .await
        .is_err()
        {
            sessions.abort_all();
        }
    }
    log.event("stopped", "dbguard proxy stopped", &[]);
    Ok(())
}

async fn too_many(mut stream: Stream, peer: String, max: usize, log: Logger) {
    log.event(
        "connection_refused",
        "too many clients",
        &[("client", json!(peer)), ("limit", json!(max))],
    );
    let mut out = BytesMut::new();
    ProxyError::fatal(
        "53300",
        format!("sorry, too many clients already (dbguard proxy serves at most {max})"),
    )
    .encode(&mut out);
    // The client sends its startup packet first; answering at once is fine for libpq.
    let _ = stream.write_all(&out).await;
    let _ = stream.shutdown().await;
}

/// Each session holds two sockets: lift the soft limit on open files to the hard one.
fn raise_fd_limit() {
    // SAFETY: getrlimit/setrlimit with a valid, initialized struct; no memory is shared.
    unsafe {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            let _ = libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}
