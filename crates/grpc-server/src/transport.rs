//! What every request passes through before its service, outermost first ([`Transport`]):
//!
//! 0. **The status page** ([`crate::page`]): a `GET`/`HEAD` that is not a gRPC call is answered there (the page's
//!    files, or 404); everything else passes on untouched. Off with `serve --no-status-page`.
//! 1. **CORS** (tower-http), for browsers calling through grpc-web from another origin: only the origins given
//!    (`serve --cors-origin`, repeatable; `*` for any) are allowed; with none, no cross-origin call is allowed and
//!    a browser can call the API only from a page the server's own origin serves. Preflights (`OPTIONS`) are
//!    answered here; the gRPC headers a client reads (`grpc-status`, `grpc-message`, `grpc-status-details-bin`)
//!    are exposed. Only requests with an `Origin` header pass through it ([`BrowserCors`]): a browser sends one
//!    with every cross-origin request and every `POST`, and gRPC clients send none, so their answers carry no
//!    CORS headers (three `vary` values on every answer, priced in BENCHMARKS.md).
//! 2. **grpc-web** (tonic-web): `application/grpc-web(+proto)` and `application/grpc-web-text` (base64) requests,
//!    over HTTP/1.1 or HTTP/2, translated to gRPC and their answers back; native gRPC passes untouched.
//! 3. **[`Requests`]**: the request's trace context (a W3C `traceparent` header's trace id, or a new one, and a
//!    span id of its own; with OTLP export, [`crate::otlp`]'s span), which every log line of the request carries
//!    (the access log's line too): in a task-local value that the log's format reads ([`crate::access_line`]),
//!    and in a `tracing` span when the log is coloured or exported or `RUST_LOG` filters on spans; the in-flight
//!    gauge; and the server's request timeout, answered DEADLINE_EXCEEDED (ErrorInfo reason `REQUEST_TIMEOUT`),
//!    not tonic's CANCELLED. tonic's own limits (concurrency per connection with load shedding, the client's
//!    `grpc-timeout`) sit outside these layers and apply to HTTP/1.1 connections as well.
//!
//! The access log (one line per call, target `cybercrime::request`, written by `access_log`) is emitted at the
//! level `serve --access-log-level` sets (default `info`; `off` for none).

use std::{
    sync::atomic::{AtomicU8, Ordering},
    task::{Context, Poll},
    time::Duration,
};

use tonic::{
    Status,
    body::Body,
    codegen::{BoxFuture, Service, http},
};
use tower::Layer;
use tower_http::cors::{AllowOrigin, Cors, CorsLayer};
use tracing::Instrument;

use crate::error::ServiceError;

/// The layers of [the module](self), as one layer for tonic's `Server::layer`.
#[derive(Debug, Clone)]
pub struct Transport {
    cors: CorsLayer,
    request_timeout: Duration,
    status_page: bool,
}

impl Transport {
    /// The layers with this request timeout and the origins allowed to call from a browser (`*`: any; none: no
    /// cross-origin call).
    pub fn new(request_timeout: Duration, cors_origins: &[String]) -> anyhow::Result<Self> {
        Ok(Transport { cors: cors(cors_origins)?, request_timeout, status_page: true })
    }

    /// The layers with this request timeout, and no cross-origin caller.
    pub fn same_origin(request_timeout: Duration) -> Self {
        Transport { cors: CorsLayer::new(), request_timeout, status_page: true }
    }

    /// The status page ([`crate::page`]) served outside every other layer (`true`, the default) or not.
    pub fn with_status_page(mut self, enabled: bool) -> Self {
        self.status_page = enabled;
        self
    }
}

impl<S: Clone> Layer<S> for Transport {
    type Service = crate::page::Page<BrowserCors<tonic_web::GrpcWebService<Requests<S>>>>;

    fn layer(&self, inner: S) -> Self::Service {
        let requests = Requests { inner, timeout: self.request_timeout };
        let web = tonic_web::GrpcWebLayer::new().layer(requests);
        let grpc = BrowserCors { cors: self.cors.layer(web.clone()), inner: web };
        crate::page::PageLayer::new(self.status_page).layer(grpc)
    }
}

/// CORS ([`Transport`]'s step 1) for the requests that carry an `Origin` header; others pass straight on.
///
/// A browser sends `Origin` with every cross-origin request (preflights included) and with every `POST`, which
/// every gRPC and grpc-web call is, so no browser call bypasses CORS. A request without one is not a browser's
/// and CORS has nothing to say to it; its answer does not vary by origin either (it is never cached: every call
/// is a `POST`), so it needs no `vary` header.
#[derive(Debug, Clone)]
pub struct BrowserCors<S> {
    cors: Cors<S>,
    inner: S,
}

impl<S> Service<http::Request<Body>> for BrowserCors<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<http::Response<Body>, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        match self.cors.poll_ready(cx) {
            Poll::Ready(Ok(())) => self.inner.poll_ready(cx),
            other => other,
        }
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        if request.headers().contains_key(http::header::ORIGIN) {
            Box::pin(self.cors.call(request))
        } else {
            Box::pin(self.inner.call(request))
        }
    }
}

/// The CORS layer allowing `origins` (`*`: any).
fn cors(origins: &[String]) -> anyhow::Result<CorsLayer> {
    use http::{HeaderName, Method};
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        let list = origins
            .iter()
            .map(|o| {
                let origin = o.trim_end_matches('/');
                anyhow::ensure!(
                    origin.starts_with("http://") || origin.starts_with("https://"),
                    "--cors-origin {o:?}: an origin is a scheme and a host (https://partner.example), or *"
                );
                http::HeaderValue::from_str(origin)
                    .map_err(|_| anyhow::anyhow!("--cors-origin {o:?}: not a header value"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        AllowOrigin::list(list)
    };
    let headers = |names: &[&'static str]| names.iter().map(|n| HeaderName::from_static(n)).collect::<Vec<_>>();
    Ok(CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([Method::POST, Method::OPTIONS])
        .allow_headers(headers(&[
            "content-type",
            "authorization",
            "x-grpc-web",
            "x-user-agent",
            "grpc-timeout",
            "grpc-accept-encoding",
            "traceparent",
            "tracestate",
        ]))
        .expose_headers(headers(&["grpc-status", "grpc-message", "grpc-status-details-bin", "grpc-encoding"]))
        .max_age(Duration::from_secs(3600)))
}

/// The innermost layer of [`Transport`]: trace context, in-flight requests, request timeout.
#[derive(Debug, Clone)]
pub struct Requests<S> {
    inner: S,
    timeout: Duration,
}

impl<S> Service<http::Request<Body>> for Requests<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<http::Response<Body>, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let trace = TraceContext::of(request.headers());
        // The URI's clone shares its bytes (no copy): the path is needed only if the request times out.
        let uri = request.uri().clone();
        // A `tracing` span only when the log needs one: with the access line written directly, the log's lines
        // take the request's ids from the task-local value instead (`access_line::InRequest`).
        let span = if crate::otlp::enabled() {
            Some(crate::otlp::request_span(uri.path(), &trace))
        } else if crate::access_line::direct().is_some() {
            None
        } else {
            Some(tracing::info_span!("request", trace_id = %trace.trace_id, span_id = %trace.span_id))
        };
        let answer = self.inner.call(request);
        let timeout = self.timeout;
        let answer = async move {
            let _in_flight = InFlight::start();
            match tokio::time::timeout(timeout, answer).await {
                Ok(answer) => answer,
                Err(_) => {
                    // The handler was dropped before it logged its call: the line is written here.
                    let method = crate::method::Method::of_path(uri.path());
                    let status = Status::from(ServiceError::RequestTimeout { timeout });
                    access_log(method, status.code(), timeout, "unknown");
                    Ok(status.into_http())
                }
            }
        };
        match span {
            Some(span) => Box::pin(TRACE.scope(trace, answer.instrument(span))),
            None => Box::pin(TRACE.scope(trace, answer)),
        }
    }
}

/// `f` of the trace context of the request being answered (`None` outside a request).
pub(crate) fn with_trace<R>(f: impl FnOnce(Option<&TraceContext>) -> R) -> R {
    let mut f = Some(f);
    if let Ok(r) = TRACE.try_with(|trace| f.take().expect("called once")(Some(trace))) {
        return r;
    }
    f.take().expect("not called: no request")(None)
}

/// `f` as if within a request of `trace` (for tests of the log's lines).
#[cfg(test)]
pub(crate) fn within<R>(trace: TraceContext, f: impl FnOnce() -> R) -> R {
    TRACE.sync_scope(trace, f)
}

tokio::task_local! {
    /// The trace context of the request being answered (set by [`Requests`] around its answer): the access line
    /// written directly ([`crate::access_line`]) takes its ids from here rather than from the `tracing` span.
    static TRACE: TraceContext;
}

/// One request counted in the in-flight gauge until it is answered (or dropped).
struct InFlight;

impl InFlight {
    fn start() -> Self {
        crate::metrics::in_flight(1.0);
        InFlight
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        crate::metrics::in_flight(-1.0);
    }
}

/// A request's place in a trace (W3C Trace Context): the trace it belongs to and its own span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceContext {
    /// 32 lowercase hexadecimal digits: the caller's (from `traceparent`), or a new one.
    pub trace_id: String,
    /// 16 lowercase hexadecimal digits, new for this request.
    pub span_id: String,
    /// The caller's span (`traceparent`'s parent id), if it sent one.
    pub parent_id: Option<String>,
    /// The caller's sampled flag (a request without a `traceparent` is sampled).
    pub sampled: bool,
}

impl TraceContext {
    /// The context of a request with these headers: its `traceparent`'s trace when the header is valid, else a new
    /// trace; a new span either way.
    pub fn of(headers: &http::HeaderMap) -> Self {
        let parent = headers.get("traceparent").and_then(|v| v.to_str().ok()).and_then(parse_traceparent);
        let span_id = random_hex::<8>();
        match parent {
            Some((trace_id, parent_id, sampled)) => {
                TraceContext { trace_id, span_id, parent_id: Some(parent_id), sampled }
            }
            None => TraceContext { trace_id: random_hex::<16>(), span_id, parent_id: None, sampled: true },
        }
    }
}

/// The trace id, the parent id and the sampled flag of a `traceparent` header (`00-<32 hex>-<16 hex>-<2 hex>`; a
/// later version may add fields after a dash), or `None` when it is not valid (then the request starts a trace of
/// its own).
pub fn parse_traceparent(text: &str) -> Option<(String, String, bool)> {
    let text = text.trim();
    let bytes = text.as_bytes();
    if bytes.len() < 55 || (bytes.len() > 55 && bytes[55] != b'-') {
        return None;
    }
    let hex = |s: &str| s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    let (version, trace_id, parent_id, flags) = (&text[0..2], &text[3..35], &text[36..52], &text[53..55]);
    let dashes = bytes[2] == b'-' && bytes[35] == b'-' && bytes[52] == b'-';
    let valid = dashes
        && hex(version)
        && version != "ff"
        && (version != "00" || bytes.len() == 55)
        && hex(trace_id)
        && hex(parent_id)
        && hex(flags)
        && trace_id.bytes().any(|b| b != b'0')
        && parent_id.bytes().any(|b| b != b'0');
    let sampled = u8::from_str_radix(flags, 16).is_ok_and(|f| f & 1 == 1);
    valid.then(|| (trace_id.to_owned(), parent_id.to_owned(), sampled))
}

/// `N` random bytes in lowercase hexadecimal (not all zero), for trace and span ids. They come from a generator
/// per thread (splitmix64) seeded once by the system's randomness: W3C Trace Context asks for ids random and
/// unique, not secret, and a request then pays no system call and no allocation but its string's.
fn random_hex<const N: usize>() -> String {
    use std::cell::Cell;
    thread_local! {
        static STATE: Cell<u64> = Cell::new(seed());
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut bytes = [0u8; N];
    STATE.with(|state| {
        for chunk in bytes.chunks_mut(8) {
            let mut z = state.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
            state.set(z);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
    });
    if bytes.iter().all(|b| *b == 0) {
        bytes[N - 1] = 1;
    }
    let mut out = String::with_capacity(2 * N);
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
    out
}

/// A seed for a thread's id generator: the system's randomness or, without it (never seen on Linux), the clock and
/// the thread, still distinct enough to tell log lines apart.
fn seed() -> u64 {
    let mut bytes = [0u8; 8];
    if getrandom::getrandom(&mut bytes).is_ok() && bytes.iter().any(|b| *b != 0) {
        return u64::from_le_bytes(bytes);
    }
    use std::hash::{BuildHasher, Hash, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    std::time::SystemTime::now().hash(&mut h);
    std::thread::current().id().hash(&mut h);
    h.finish()
}

/// The access log's level: 0 off, 1 error .. 5 trace.
static ACCESS_LOG_LEVEL: AtomicU8 = AtomicU8::new(3);

/// Sets the level of the access log's lines (`None`: no lines). Process-wide, as the log itself is.
pub fn set_access_log_level(level: Option<tracing::Level>) {
    let n = match level {
        None => 0,
        Some(tracing::Level::ERROR) => 1,
        Some(tracing::Level::WARN) => 2,
        Some(tracing::Level::INFO) => 3,
        Some(tracing::Level::DEBUG) => 4,
        Some(tracing::Level::TRACE) => 5,
    };
    ACCESS_LOG_LEVEL.store(n, Ordering::Relaxed);
}

/// One call answered: its access log line (target `cybercrime::request`, within the request's span, so with its
/// trace and span ids) and its metrics.
pub(crate) fn access_log(method: Option<crate::method::Method>, code: tonic::Code, latency: Duration, principal: &str) {
    crate::metrics::request_done(method, code, latency);
    let method = method.map_or("unknown", crate::method::Method::name);
    let latency_ms = latency.as_secs_f64() * 1000.0;
    // Written directly when the server set that up (the same line, for less: `crate::access_line`), else
    // through `tracing`; either way only if the level and `RUST_LOG` let it through.
    macro_rules! line {
        ($level:expr) => {
            match crate::access_line::direct() {
                Some(direct) => {
                    if tracing::enabled!(target: "cybercrime::request", $level) {
                        let line = crate::access_line::Line { level: $level, method, code, latency_ms, principal };
                        // Outside a request (none of the server's calls is), the line has no trace.
                        with_trace(|trace| direct.write(&line, trace));
                    }
                }
                None => tracing::event!(
                    target: "cybercrime::request",
                    $level,
                    method,
                    code = ?code,
                    latency_ms,
                    principal = %principal
                ),
            }
        };
    }
    match ACCESS_LOG_LEVEL.load(Ordering::Relaxed) {
        0 => {}
        1 => line!(tracing::Level::ERROR),
        2 => line!(tracing::Level::WARN),
        3 => line!(tracing::Level::INFO),
        4 => line!(tracing::Level::DEBUG),
        _ => line!(tracing::Level::TRACE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_traceparent_is_read_strictly() {
        let good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(
            parse_traceparent(good),
            Some(("4bf92f3577b34da6a3ce929d0e0e4736".into(), "00f067aa0ba902b7".into(), true))
        );
        assert_eq!(parse_traceparent(&format!("{}00", &good[..53])).map(|t| t.2), Some(false), "not sampled");
        // A later version may carry more fields; version 00 may not.
        assert!(parse_traceparent(&format!("01{}-extra", &good[2..])).is_some());
        assert_eq!(parse_traceparent(&format!("{good}-extra")), None);
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
        ] {
            assert_eq!(parse_traceparent(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_request_without_a_traceparent_starts_a_trace_of_its_own() {
        let mut headers = http::HeaderMap::new();
        let a = TraceContext::of(&headers);
        let b = TraceContext::of(&headers);
        assert_eq!((a.trace_id.len(), a.span_id.len(), a.parent_id.clone()), (32, 16, None));
        assert_ne!(a.trace_id, b.trace_id);
        headers.insert("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".parse().unwrap());
        let c = TraceContext::of(&headers);
        assert_eq!(c.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(c.parent_id.as_deref(), Some("00f067aa0ba902b7"));
        assert_ne!(c.span_id, "00f067aa0ba902b7", "the request's span is its own");
    }

    #[test]
    fn ids_are_lowercase_hex_and_distinct_across_threads() {
        let ids: Vec<String> = (0..4)
            .map(|_| std::thread::spawn(|| (0..2000).map(|_| random_hex::<16>()).collect::<Vec<_>>()))
            .flat_map(|t| t.join().unwrap())
            .collect();
        assert!(
            ids.iter().all(|id| id.len() == 32 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
        );
        let distinct: std::collections::HashSet<&String> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len(), "every id differs, across threads too");
    }

    #[test]
    fn an_origin_must_be_a_scheme_and_a_host() {
        assert!(Transport::new(Duration::from_secs(1), &["https://partner.example".into()]).is_ok());
        assert!(Transport::new(Duration::from_secs(1), &["*".into()]).is_ok());
        assert!(Transport::new(Duration::from_secs(1), &["partner.example".into()]).is_err());
    }
}
