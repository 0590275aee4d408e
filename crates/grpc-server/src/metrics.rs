//! Metrics, in Prometheus' text format on an admin address of their own (`serve --metrics-addr`, off by default).
//!
//! What is measured is recorded through the `metrics` facade wherever it happens (the functions below, and
//! `storage`'s writer for its group commits, which knows nothing of the server); without `--metrics-addr` no
//! recorder is installed and every call does nothing. With it, [`install`] installs the Prometheus recorder once
//! per process and serves `GET /metrics` over HTTP/1.1 on that address; anything else there is 404.
//!
//! | metric | kind | labels | what |
//! |---|---|---|---|
//! | `cybercrime_requests_total` | counter | `method`, `code` | calls of the API's methods answered (see below) |
//! | `cybercrime_request_duration_seconds` | histogram | `method` | their latency to the answer |
//! | `cybercrime_requests_in_flight` | gauge | | requests whose answer (a stream's head) is not yet given |
//! | `cybercrime_watch_streams_open` | gauge | | open watch streams (WatchTreatyActions, health Watch) |
//! | `cybercrime_group_commit_writes` | histogram | `result` | writes per group commit (`committed`, `failed`) |
//! | `cybercrime_group_commit_seconds` | histogram | `result` | a group commit's duration, lock to answer |
//! | `cybercrime_store_up` | gauge | | 1 while the store answers the health check, else 0 |
//!
//! A call is counted when it has its access log line: when its handler answers, or when the request timeout ends
//! it. Health checks, reflection, and what tonic refuses before any handler (an unknown method, load shedding) are
//! not counted.

use std::{
    convert::Infallible,
    net::SocketAddr,
    sync::{
        LazyLock, OnceLock,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use anyhow::Context;
use http_body_util::Full;
use hyper::{Request, Response, StatusCode, body::Incoming};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// The buckets of the latency histograms, in seconds.
const SECONDS: [f64; 14] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
/// The buckets of the group-commit sizes, in writes.
const WRITES: [f64; 9] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

/// Whether [`install`] installed the recorder: until then the per-request metrics are not recorded (there is
/// nothing to record them), and their handles are not kept (they would be the facade's no-op handles).
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// The handles of the per-request metrics, registered once each: the facade's macros look a metric up by its
/// name and labels on every call (an allocation, a hash and a lock), a handle is an atomic. They are taken only
/// once the recorder is installed ([`INSTALLED`]), so never the no-op ones.
#[derive(Debug, Default)]
struct MethodMetrics {
    /// `cybercrime_requests_total` by code (`tonic::Code`'s value, 0..=16).
    requests: [OnceLock<metrics::Counter>; 17],
    /// `cybercrime_request_duration_seconds`.
    latency: OnceLock<metrics::Histogram>,
}

/// [`MethodMetrics`] per method of [`Method::ALL`](crate::method::Method::ALL), then one for calls of no known
/// method (`unknown`).
static BY_METHOD: LazyLock<Vec<MethodMetrics>> =
    LazyLock::new(|| (0..=crate::method::Method::ALL.len()).map(|_| MethodMetrics::default()).collect());

/// A call of `method` (`None`: of no known method, labelled `unknown`) answered: counted by method and code, its
/// latency in the method's histogram.
pub(crate) fn request_done(method: Option<crate::method::Method>, code: tonic::Code, latency: Duration) {
    if !INSTALLED.load(Ordering::Relaxed) {
        return;
    }
    let (name, kept) = match method {
        Some(m) => (m.name(), &BY_METHOD[m.index()]),
        None => ("unknown", &BY_METHOD[crate::method::Method::ALL.len()]),
    };
    let counter = kept.requests[code_index(code)]
        .get_or_init(|| metrics::counter!("cybercrime_requests_total", "method" => name, "code" => code_name(code)));
    counter.increment(1);
    let histogram =
        kept.latency.get_or_init(|| metrics::histogram!("cybercrime_request_duration_seconds", "method" => name));
    histogram.record(latency.as_secs_f64());
}

/// A code's place among the 17 (its value).
fn code_index(code: tonic::Code) -> usize {
    usize::try_from(i32::from(code)).unwrap_or(2).min(16)
}

/// The number of requests being answered changed by `delta` (+1 as one starts, -1 as it is answered).
pub(crate) fn in_flight(delta: f64) {
    static GAUGE: OnceLock<metrics::Gauge> = OnceLock::new();
    if INSTALLED.load(Ordering::Relaxed) {
        GAUGE.get_or_init(|| metrics::gauge!("cybercrime_requests_in_flight")).increment(delta);
    }
}

/// The number of open watch streams is now `n`.
pub(crate) fn open_watch_streams(n: usize) {
    metrics::gauge!("cybercrime_watch_streams_open").set(n as f64);
}

/// Whether the store answered the health check.
pub(crate) fn store_up(up: bool) {
    metrics::gauge!("cybercrime_store_up").set(if up { 1.0 } else { 0.0 });
}

/// A code's name as gRPC spells it (`OK`, `DEADLINE_EXCEEDED`), for a label.
pub(crate) fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code as C;
    match code {
        C::Ok => "OK",
        C::Cancelled => "CANCELLED",
        C::Unknown => "UNKNOWN",
        C::InvalidArgument => "INVALID_ARGUMENT",
        C::DeadlineExceeded => "DEADLINE_EXCEEDED",
        C::NotFound => "NOT_FOUND",
        C::AlreadyExists => "ALREADY_EXISTS",
        C::PermissionDenied => "PERMISSION_DENIED",
        C::ResourceExhausted => "RESOURCE_EXHAUSTED",
        C::FailedPrecondition => "FAILED_PRECONDITION",
        C::Aborted => "ABORTED",
        C::OutOfRange => "OUT_OF_RANGE",
        C::Unimplemented => "UNIMPLEMENTED",
        C::Internal => "INTERNAL",
        C::Unavailable => "UNAVAILABLE",
        C::DataLoss => "DATA_LOSS",
        C::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// Installs the Prometheus recorder (once per process: a second call fails) and serves `/metrics` on `addr`
/// until `shutdown` changes; returns the bound address (port 0 picks a free one).
pub async fn install(addr: SocketAddr, mut shutdown: tokio::sync::watch::Receiver<bool>) -> anyhow::Result<SocketAddr> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &SECONDS)?
        .set_buckets_for_metric(Matcher::Full("cybercrime_group_commit_writes".into()), &WRITES)?
        .install_recorder()
        .context("cannot install the metrics recorder")?;
    INSTALLED.store(true, Ordering::Relaxed);
    describe();
    open_watch_streams(0);
    let listener =
        tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen for metrics on {addr}"))?;
    let bound = listener.local_addr()?;
    // Upkeep drains the histograms' samples into their buckets, so that memory stays bounded between scrapes.
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(Duration::from_secs(5));
        loop {
            ticks.tick().await;
            upkeep.run_upkeep();
        }
    });
    tokio::spawn(async move {
        loop {
            let (stream, _) = tokio::select! {
                _ = shutdown.changed() => return,
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot accept a metrics connection");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
            };
            let handle = handle.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| scrape(handle.clone(), request));
                let connection = hyper::server::conn::http1::Builder::new()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(Duration::from_secs(10))
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
                // A scrape takes milliseconds: a connection is not kept longer than a minute.
                if let Ok(Err(e)) = tokio::time::timeout(Duration::from_secs(60), connection).await {
                    tracing::debug!(error = %e, "metrics connection failed");
                }
            });
        }
    });
    Ok(bound)
}

/// The metrics' help texts (Prometheus' `# HELP` lines).
fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!("cybercrime_requests_total", "Calls of the API's methods answered, by method and code.");
    describe_histogram!(
        "cybercrime_request_duration_seconds",
        Unit::Seconds,
        "Time to answer a call (a stream's first message), by method."
    );
    describe_gauge!("cybercrime_requests_in_flight", "Requests whose answer (a stream's head) is not yet given.");
    describe_gauge!("cybercrime_watch_streams_open", "Open watch streams (WatchTreatyActions and health Watch).");
    describe_histogram!("cybercrime_group_commit_writes", "Writes per group commit of the store, by result.");
    describe_histogram!(
        "cybercrime_group_commit_seconds",
        Unit::Seconds,
        "Duration of a group commit, from the write lock to the answers, by result."
    );
    describe_gauge!("cybercrime_store_up", "1 while the store answers the health check, else 0.");
}

/// The answer to one request on the metrics address.
async fn scrape(
    handle: PrometheusHandle,
    request: Request<Incoming>,
) -> Result<Response<Full<bytes::Bytes>>, Infallible> {
    let response = if request.uri().path() == "/metrics" && request.method() == hyper::Method::GET {
        Response::builder()
            .header("content-type", "text/plain; version=0.0.4; charset=utf-8")
            .body(Full::new(bytes::Bytes::from(handle.render())))
    } else {
        Response::builder().status(StatusCode::NOT_FOUND).body(Full::new(bytes::Bytes::from_static(b"not found\n")))
    };
    Ok(response.unwrap_or_else(|_| Response::new(Full::new(bytes::Bytes::new()))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_code_has_a_place_of_its_own_among_the_handles() {
        let codes = (0..=16).map(tonic::Code::from_i32);
        let places: std::collections::BTreeSet<usize> = codes.clone().map(code_index).collect();
        assert_eq!(places, (0..17).collect(), "17 codes, 17 places");
        assert!(codes.map(code_name).all(|n| !n.is_empty()));
        assert_eq!(code_index(tonic::Code::Unauthenticated), 16);
    }
}
