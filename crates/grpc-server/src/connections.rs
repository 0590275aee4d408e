//! What a connection may hold of the server before it is useful: open connections are counted and bounded
//! (`--max-connections`; beyond, a new connection is closed at once, and that is logged), a connection must
//! complete its start within the handshake timeout (`--handshake-timeout-ms`: the TLS handshake if any, then
//! the HTTP/2 client preface and the client's first SETTINGS frame; over HTTP/1.1, for grpc-web, the first
//! request's head), and accept errors (file descriptors exhausted) are logged and slow the accept loop down instead
//! of spinning it. The TLS handshake is run here, not by tonic, so that the preface inside the TLS stream is watched
//! too.
//!
//! Once HTTP/2 is established, HTTP/2 keepalive (`--keepalive-interval-ms`, `--keepalive-timeout-ms`) closes a
//! connection whose client stops answering pings, whatever it left half-sent. An HTTP/1.1 connection's later
//! request heads are bounded by hyper (its buffer, and 30 s to send one); HTTP/2 keepalive does not apply to it,
//! TCP keepalive does.

use std::{
    io,
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll},
    time::{Duration, Instant},
};

use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::TcpStream,
    sync::{OwnedSemaphorePermit, Semaphore},
};
use tokio_stream::{Stream, StreamExt};
use tonic::transport::server::{Connected, TcpConnectInfo, TcpIncoming};

/// How many connections, and how long each may take to start.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// The most connections open at once; beyond, a new connection is closed as soon as it is accepted.
    pub max_connections: usize,
    /// How long a new connection may take to complete its TLS handshake or its HTTP/2 preface and SETTINGS.
    pub handshake_timeout: Duration,
}

/// The client connection preface of HTTP/2 (RFC 9113, 3.4), followed by a SETTINGS frame.
const PREFACE: &[u8; PREFACE_LEN] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const PREFACE_LEN: usize = 24;
/// An HTTP/2 frame header.
const FRAME_HEADER_LEN: usize = 9;

/// A connection accepted within the limit: it holds its place (a permit) until it is dropped, and fails its
/// reads once the handshake timeout has passed without the client's preface and SETTINGS.
#[derive(Debug)]
pub struct Connection {
    io: Io,
    _place: OwnedSemaphorePermit,
    handshake: Option<Handshake>,
}

/// Plaintext or TLS.
#[derive(Debug)]
enum Io {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
}

macro_rules! io {
    ($self:expr, $io:ident => $e:expr) => {
        match &mut $self.io {
            Io::Plain($io) => {
                let $io = Pin::new($io);
                $e
            }
            Io::Tls($io) => {
                let $io = Pin::new(&mut **$io);
                $e
            }
        }
    };
}

/// The start of a connection, watched byte by byte as the server reads it: HTTP/2's preface and first frame, or,
/// once the bytes differ from the preface, an HTTP/1.1 request's head (up to its empty line).
#[derive(Debug)]
struct Handshake {
    deadline: Pin<Box<tokio::time::Sleep>>,
    /// Bytes read so far.
    seen: usize,
    /// The first SETTINGS frame's header, as far as read.
    header: [u8; FRAME_HEADER_LEN],
    /// The connection speaks HTTP/1: its bytes are not HTTP/2's preface.
    http1: bool,
    /// The last four bytes read since then (the end of an HTTP/1 head is `\r\n\r\n`).
    tail: [u8; 4],
}

impl Handshake {
    fn new(deadline: tokio::time::Instant) -> Self {
        Handshake {
            deadline: Box::pin(tokio::time::sleep_until(deadline)),
            seen: 0,
            header: [0; FRAME_HEADER_LEN],
            http1: false,
            tail: [0; 4],
        }
    }

    /// Takes note of `bytes`, the next bytes read; true once the preface and the whole first frame are read (or
    /// an HTTP/1 request's whole head).
    fn read(&mut self, bytes: &[u8]) -> bool {
        for &b in bytes {
            if self.seen < PREFACE_LEN && b != PREFACE[self.seen] {
                self.http1 = true;
            }
            if self.http1 {
                self.tail = [self.tail[1], self.tail[2], self.tail[3], b];
            } else if (PREFACE_LEN..PREFACE_LEN + FRAME_HEADER_LEN).contains(&self.seen) {
                self.header[self.seen - PREFACE_LEN] = b;
            }
            self.seen += 1;
            if self.complete() {
                return true;
            }
        }
        self.complete()
    }

    fn complete(&self) -> bool {
        if self.http1 {
            return &self.tail == b"\r\n\r\n";
        }
        if self.seen < PREFACE_LEN + FRAME_HEADER_LEN {
            return false;
        }
        let length = u32::from_be_bytes([0, self.header[0], self.header[1], self.header[2]]) as usize;
        self.seen >= PREFACE_LEN + FRAME_HEADER_LEN + length
    }
}

impl Connected for Connection {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        match &self.io {
            Io::Plain(io) => io.connect_info(),
            Io::Tls(io) => io.get_ref().0.connect_info(),
        }
    }
}

impl AsyncRead for Connection {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if let Some(handshake) = &mut this.handshake
            && handshake.deadline.as_mut().poll(cx).is_ready()
        {
            tracing::debug!(read = handshake.seen, "a connection did not complete its HTTP/2 preface in time: closed");
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the HTTP/2 preface and SETTINGS did not come within the handshake timeout",
            )));
        }
        let before = buf.filled().len();
        let result = io!(this, io => io.poll_read(cx, buf));
        if let (Poll::Ready(Ok(())), Some(handshake)) = (&result, &mut this.handshake)
            && handshake.read(&buf.filled()[before..])
        {
            this.handshake = None;
        }
        result
    }
}

impl AsyncWrite for Connection {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        io!(self, io => io.poll_write(cx, buf))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        io!(self, io => io.poll_flush(cx))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        io!(self, io => io.poll_shutdown(cx))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        io!(self, io => io.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        match &self.io {
            Io::Plain(io) => io.is_write_vectored(),
            Io::Tls(io) => io.is_write_vectored(),
        }
    }
}

/// A warning logged at most once per period, with how many times it was due meanwhile.
#[derive(Debug)]
struct RateLimited {
    every: Duration,
    state: Mutex<(Option<Instant>, u64)>,
}

impl RateLimited {
    fn new(every: Duration) -> Self {
        RateLimited { every, state: Mutex::new((None, 0)) }
    }

    /// Counts one occurrence; `Some(n)` (the occurrences since the last time) when it is time to log.
    fn due(&self) -> Option<u64> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.1 += 1;
        let now = Instant::now();
        if state.0.is_some_and(|last| now.duration_since(last) < self.every) {
            return None;
        }
        state.0 = Some(now);
        Some(std::mem::take(&mut state.1))
    }
}

/// Accept errors that concern one connection only (it went away before it was accepted): nothing to wait for.
fn transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
    )
}

/// The connections of `incoming` (a bound listener with its TCP settings), within `limits`; with `tls`, each
/// first completes a TLS handshake with that configuration (ALPN `h2`). Each must then send its HTTP/2 preface
/// and SETTINGS, all within the handshake timeout.
pub fn limited(
    mut incoming: TcpIncoming,
    limits: ConnectionLimits,
    tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
) -> impl Stream<Item = io::Result<Connection>> + Send + 'static {
    let tls = tls.map(tokio_rustls::TlsAcceptor::from);
    let (tx, rx) = tokio::sync::mpsc::channel::<io::Result<Connection>>(16);
    let places = Arc::new(Semaphore::new(limits.max_connections));
    tokio::spawn(async move {
        let refused = RateLimited::new(Duration::from_secs(10));
        let failed = RateLimited::new(Duration::from_secs(10));
        loop {
            let next = tokio::select! {
                // The server stopped accepting: close the listener now.
                _ = tx.closed() => return,
                next = incoming.next() => next,
            };
            let io = match next {
                None => return,
                Some(Ok(io)) => io,
                Some(Err(e)) if transient(&e) => continue,
                Some(Err(e)) => {
                    if let Some(n) = failed.due() {
                        tracing::warn!(error = %e, errors = n, "cannot accept connections (file descriptors exhausted?): pausing 100 ms after each error");
                    }
                    // Out of file descriptors (EMFILE, ENFILE) or memory: retrying at once would spin.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let Ok(place) = places.clone().try_acquire_owned() else {
                if let Some(n) = refused.due() {
                    tracing::warn!(
                        max_connections = limits.max_connections,
                        refused = n,
                        peer = ?io.peer_addr().ok(),
                        "the most connections this server keeps are open: new ones are closed at once (--max-connections)"
                    );
                }
                drop(io);
                continue;
            };
            let deadline = tokio::time::Instant::now() + limits.handshake_timeout;
            let handshake = Some(Handshake::new(deadline));
            let Some(acceptor) = &tls else {
                if tx.send(Ok(Connection { io: Io::Plain(io), _place: place, handshake })).await.is_err() {
                    return;
                }
                continue;
            };
            // Handshakes run side by side (each holding its place), each within the timeout.
            let (acceptor, tx) = (acceptor.clone(), tx.clone());
            tokio::spawn(async move {
                match tokio::time::timeout_at(deadline, acceptor.accept(io)).await {
                    Ok(Ok(io)) => {
                        let _ = tx.send(Ok(Connection { io: Io::Tls(Box::new(io)), _place: place, handshake })).await;
                    }
                    Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                    Err(_) => tracing::debug!("a TLS handshake did not complete in time: closed"),
                }
            });
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handshake() -> Handshake {
        Handshake::new(tokio::time::Instant::now() + Duration::from_secs(60))
    }

    #[tokio::test]
    async fn an_http1_handshake_ends_with_the_first_request_head() {
        let head = b"POST /coe.cybercrime.v1.TreatyService/GetTreaty HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n\r\n";
        let mut h = handshake();
        assert!(!h.read(&head[..head.len() - 1]), "the empty line is not complete");
        assert!(h.http1);
        assert!(h.read(&head[head.len() - 1..]));
        // Byte by byte, the same; and a head cut short is never complete.
        let mut h = handshake();
        let done: Vec<bool> = head.iter().map(|b| h.read(std::slice::from_ref(b))).collect();
        assert_eq!(done.iter().position(|d| *d), Some(head.len() - 1));
        let mut h = handshake();
        assert!(!h.read(b"POST / HTTP/1.1\r\nhost: x\r\n"));
        // HTTP/2's preface is not taken for HTTP/1 (it holds an empty line of its own).
        let mut h = handshake();
        assert!(!h.read(PREFACE));
        assert!(!h.http1);
    }

    #[tokio::test]
    async fn the_handshake_ends_with_the_first_frame_after_the_preface() {
        let mut bytes = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
        // SETTINGS with two settings (12 bytes).
        bytes.extend_from_slice(&[0, 0, 12, 4, 0, 0, 0, 0, 0]);
        bytes.extend_from_slice(&[0; 12]);
        let mut h = handshake();
        assert!(!h.read(&bytes[..30]));
        assert!(!h.read(&bytes[30..bytes.len() - 1]), "one byte of the frame is missing");
        assert!(h.read(&bytes[bytes.len() - 1..]));
        // Byte by byte, the same.
        let mut h = handshake();
        let done: Vec<bool> = bytes.iter().map(|b| h.read(std::slice::from_ref(b))).collect();
        assert_eq!(done.iter().position(|d| *d), Some(bytes.len() - 1));
        // An empty SETTINGS frame completes it with its header.
        let mut h = handshake();
        assert!(h.read(&[&bytes[..24], &[0, 0, 0, 4, 0, 0, 0, 0, 0][..]].concat()));
    }

    #[test]
    fn a_rate_limited_warning_counts_what_it_did_not_log() {
        let r = RateLimited::new(Duration::from_secs(3600));
        assert_eq!(r.due(), Some(1));
        assert_eq!(r.due(), None);
        assert_eq!(r.due(), None);
        let r2 = RateLimited::new(Duration::ZERO);
        assert_eq!(r2.due(), Some(1));
        assert_eq!(r2.due(), Some(1));
    }
}
