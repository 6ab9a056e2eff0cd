//! Sockets: the one stream type for clients and upstreams (TCP, Unix, TLS over TCP), and
//! opening an upstream connection with libpq's `sslmode` (SSLRequest, then rustls).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::BytesMut;
use dbguard_pg::tls::Mode;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpStream, UnixStream};

use crate::config::{Address, Upstream};
use crate::wire::frontend;

/// A connection to a client or a server.
pub enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Unix(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Unix(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Stream::Unix(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Tcp(s) => s.is_write_vectored(),
            Stream::Unix(s) => s.is_write_vectored(),
            Stream::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_flush(cx),
            Stream::Unix(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Unix(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// Open a connection to the upstream server, with TLS as its `sslmode` says, within `timeout`.
pub async fn connect(up: &Upstream, timeout: Duration) -> io::Result<Stream> {
    match tokio::time::timeout(timeout, connect_inner(up)).await {
        Ok(r) => r,
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("no answer within {:.0} s", timeout.as_secs_f64()),
        )),
    }
}

async fn connect_inner(up: &Upstream) -> io::Result<Stream> {
    let tcp = match &up.address {
        Address::Unix(path) => return Ok(Stream::Unix(UnixStream::connect(path).await?)),
        Address::Tcp { host, port } => TcpStream::connect((host.as_str(), *port)).await?,
    };
    let _ = tcp.set_nodelay(true);
    let Some(config) = up.tls_config.clone() else {
        return Ok(Stream::Tcp(tcp));
    };
    tls_upgrade(tcp, config, &up.tls_host, up.tls.mode).await
}

/// Ask the server for TLS (SSLRequest) and do the handshake; `prefer`/`allow` go on without
/// TLS when the server says no, the other modes fail.
async fn tls_upgrade(
    mut tcp: TcpStream,
    config: Arc<rustls::ClientConfig>,
    host: &str,
    mode: Mode,
) -> io::Result<Stream> {
    let mut req = BytesMut::new();
    postgres_protocol::message::frontend::ssl_request(&mut req);
    tcp.write_all(&req).await?;
    let mut answer = [0u8; 1];
    tcp.read_exact(&mut answer).await?;
    match answer[0] {
        b'S' => {}
        b'N' if matches!(mode, Mode::Allow | Mode::Prefer) => return Ok(Stream::Tcp(tcp)),
        b'N' => {
            return Err(io::Error::other(
                "the server does not support TLS, and the upstream URL's sslmode requires it",
            ))
        }
        _ => return Err(io::Error::other("unexpected answer to SSLRequest")),
    }
    let name = rustls::pki_types::ServerName::try_from(host.to_string())
        .map_err(|e| io::Error::other(format!("TLS server name {host}: {e}")))?;
    let tls = tokio_rustls::TlsConnector::from(config).connect(name, tcp).await?;
    Ok(Stream::Tls(Box::new(tls)))
}

/// Send a CancelRequest for a backend of this upstream.
pub async fn cancel(up: &Upstream, pid: i32, key: i32, timeout: Duration) -> io::Result<()> {
    let mut s = connect(up, timeout).await?;
    let mut req = BytesMut::new();
    frontend::encode_cancel(pid, key, &mut req);
    s.write_all(&req).await?;
    let _ = s.shutdown().await;
    // The server closes the connection when it has read the request.
    let mut sink = [0u8; 16];
    let _ = tokio::time::timeout(timeout, s.read(&mut sink)).await;
    Ok(())
}
