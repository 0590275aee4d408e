//! Places for long-lived streams (WatchTreatyActions, WatchChanges and the health service's Watch): at most
//! `--max-watchers` in all, `--max-watchers-per-connection` on one connection, and `--max-watchers-per-principal`
//! for one principal (anonymous callers count per peer address), so that one client cannot hold every place. A
//! place is held by a `WatchSlot` and given back when it is dropped (the stream ended, however).

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    sync::{Arc, Mutex},
    time::Duration,
};

use crate::error::{Result, ServiceError, WatchScope};

/// The limits on long-lived streams.
#[derive(Debug, Clone, Copy)]
pub struct WatchLimits {
    /// The most open at once, in all.
    pub max: usize,
    /// The most on one connection.
    pub per_connection: usize,
    /// The most for one principal (anonymous callers: per peer address).
    pub per_principal: usize,
    /// How long a WatchTreatyActions or WatchChanges stream lasts at most; it then ends with UNAVAILABLE
    /// (`WATCH_EXPIRED`), and the client watches again from the last sequence it received.
    pub lifetime: Duration,
}

impl WatchLimits {
    /// One limit for everything: `max` streams, and an hour per stream.
    pub fn only(max: usize) -> Self {
        WatchLimits { max, per_connection: max, per_principal: max, lifetime: Duration::from_secs(3600) }
    }
}

/// Who holds a place.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Holder {
    Connection(SocketAddr),
    Principal(String),
    AnonymousFrom(IpAddr),
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    by: HashMap<Holder, usize>,
}

/// The places, shared by every stream.
#[derive(Debug)]
pub(crate) struct Watchers {
    limits: WatchLimits,
    counts: Mutex<Counts>,
}

/// One place, given back on drop.
#[derive(Debug)]
pub(crate) struct WatchSlot {
    watchers: Arc<Watchers>,
    holders: Vec<Holder>,
}

impl Drop for WatchSlot {
    fn drop(&mut self) {
        let mut counts = self.watchers.counts.lock().unwrap_or_else(|e| e.into_inner());
        counts.total -= 1;
        crate::metrics::open_watch_streams(counts.total);
        for h in &self.holders {
            if let Some(n) = counts.by.get_mut(h) {
                *n -= 1;
                if *n == 0 {
                    counts.by.remove(h);
                }
            }
        }
    }
}

impl Watchers {
    /// Places within `limits`.
    pub(crate) fn new(limits: WatchLimits) -> Arc<Self> {
        Arc::new(Watchers { limits, counts: Mutex::new(Counts::default()) })
    }

    /// The limits.
    pub(crate) fn limits(&self) -> &WatchLimits {
        &self.limits
    }

    /// A place for a stream of `principal` (`None`: anonymous) on the connection from `peer` (unknown when
    /// the handlers are called without a connection), or RESOURCE_EXHAUSTED naming the limit reached.
    pub(crate) fn acquire(self: &Arc<Self>, peer: Option<SocketAddr>, principal: Option<&str>) -> Result<WatchSlot> {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let l = &self.limits;
        if counts.total >= l.max {
            return Err(ServiceError::TooManyWatchers {
                limit: l.max,
                scope: WatchScope::Server,
                message: format!("{} watch streams are open, the most this server keeps: try again later", l.max),
            });
        }
        let mut holders = Vec::with_capacity(2);
        if let Some(peer) = peer {
            let h = Holder::Connection(peer);
            if counts.by.get(&h).copied().unwrap_or(0) >= l.per_connection {
                return Err(ServiceError::TooManyWatchers {
                    limit: l.per_connection,
                    scope: WatchScope::Connection,
                    message: format!(
                        "{} watch streams are open on this connection, the most one connection may hold: close \
                         one, or watch over another connection",
                        l.per_connection
                    ),
                });
            }
            holders.push(h);
        }
        let who = match (principal, peer) {
            (Some(name), _) => Some((Holder::Principal(name.to_owned()), name.to_owned())),
            (None, Some(peer)) => {
                Some((Holder::AnonymousFrom(peer.ip()), format!("anonymous callers from {}", peer.ip())))
            }
            (None, None) => None,
        };
        if let Some((h, name)) = who {
            if counts.by.get(&h).copied().unwrap_or(0) >= l.per_principal {
                return Err(ServiceError::TooManyWatchers {
                    limit: l.per_principal,
                    scope: WatchScope::Principal,
                    message: format!(
                        "{} watch streams are open for {name}, the most one principal may hold: close one",
                        l.per_principal
                    ),
                });
            }
            holders.push(h);
        }
        counts.total += 1;
        crate::metrics::open_watch_streams(counts.total);
        for h in &holders {
            *counts.by.entry(h.clone()).or_default() += 1;
        }
        Ok(WatchSlot { watchers: self.clone(), holders })
    }
}

/// The peer address of a request's connection (plaintext or TLS), when it came over TCP.
pub(crate) fn peer_of(extensions: &http::Extensions) -> Option<SocketAddr> {
    use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};
    extensions
        .get::<TcpConnectInfo>()
        .and_then(TcpConnectInfo::remote_addr)
        .or_else(|| extensions.get::<TlsConnectInfo<TcpConnectInfo>>().and_then(|i| i.get_ref().remote_addr()))
}

/// The health service, with its Watch streams holding places like watch streams do (anonymous, per peer
/// address). `Check` is left as it is: open to probes.
#[derive(Debug, Clone)]
pub(crate) struct CountedHealth<S> {
    inner: S,
    watchers: Arc<Watchers>,
}

impl<S> CountedHealth<S> {
    /// `inner`'s Watch streams counted in `watchers`.
    pub(crate) fn new(inner: S, watchers: Arc<Watchers>) -> Self {
        CountedHealth { inner, watchers }
    }
}

impl<S: tonic::server::NamedService> tonic::server::NamedService for CountedHealth<S> {
    const NAME: &'static str = S::NAME;
}

type Body = tonic::body::Body;
type BoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>>;

impl<S> tonic::codegen::Service<http::Request<Body>> for CountedHealth<S>
where
    S: tonic::codegen::Service<http::Request<Body>, Response = http::Response<Body>, Error = std::convert::Infallible>
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = std::convert::Infallible;
    type Future = BoxFuture<std::result::Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<std::result::Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        if request.uri().path() != "/grpc.health.v1.Health/Watch" {
            return Box::pin(self.inner.call(request));
        }
        match self.watchers.acquire(peer_of(request.extensions()), None) {
            Err(e) => {
                let status = tonic::Status::from(e);
                Box::pin(async move { Ok(status.into_http()) })
            }
            Ok(slot) => {
                let answer = self.inner.call(request);
                Box::pin(async move {
                    let response = answer.await?;
                    Ok(response.map(|body| Body::new(Held { body, _slot: slot })))
                })
            }
        }
    }
}

/// A response body that holds a place until it ends or is dropped.
struct Held {
    body: Body,
    _slot: WatchSlot,
}

impl http_body::Body for Held {
    type Data = bytes::Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<std::result::Result<http_body::Frame<Self::Data>, Self::Error>>> {
        std::pin::Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_bounded_per_connection_principal_and_in_all_and_given_back() {
        let w = Watchers::new(WatchLimits { max: 5, per_connection: 2, per_principal: 3, lifetime: Duration::ZERO });
        let a: SocketAddr = "10.0.0.1:1000".parse().unwrap();
        let a2: SocketAddr = "10.0.0.1:1001".parse().unwrap();
        let b: SocketAddr = "10.0.0.2:1000".parse().unwrap();
        let s1 = w.acquire(Some(a), None).unwrap();
        let _s2 = w.acquire(Some(a), None).unwrap();
        let e = w.acquire(Some(a), None).unwrap_err().to_string();
        assert!(e.contains("2 watch streams are open on this connection"), "{e}");
        let _s3 = w.acquire(Some(a2), None).unwrap();
        let e = w.acquire(Some(a2), None).unwrap_err().to_string();
        assert!(e.contains("3 watch streams are open for anonymous callers from 10.0.0.1"), "{e}");
        // A named principal is counted by name, on whatever connection.
        let _s4 = w.acquire(Some(a2), Some("reader@coe")).unwrap();
        let _s5 = w.acquire(Some(b), None).unwrap();
        let e = w.acquire(Some(b), None).unwrap_err().to_string();
        assert!(e.contains("5 watch streams are open, the most this server keeps"), "{e}");
        drop(s1);
        let _s6 = w.acquire(Some(b), Some("reader@coe")).unwrap();
        assert!(w.acquire(None, None).is_err(), "the total holds without a connection too");
    }
}
