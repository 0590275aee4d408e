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

use std::{convert::Infallible, net::SocketAddr, time::Duration};

use anyhow::Context;
use http_body_util::Full;
use hyper::{Request, Response, StatusCode, body::Incoming};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// The buckets of the latency histograms, in seconds.
const SECONDS: [f64; 14] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
/// The buckets of the group-commit sizes, in writes.
const WRITES: [f64; 9] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

/// A call answered: counted by method and code, its latency in the method's histogram.
pub(crate) fn request_done(method: &'static str, code: tonic::Code, latency: Duration) {
    metrics::counter!("cybercrime_requests_total", "method" => method, "code" => code_name(code)).increment(1);
    metrics::histogram!("cybercrime_request_duration_seconds", "method" => method).record(latency.as_secs_f64());
}

/// The number of requests being answered changed by `delta` (+1 as one starts, -1 as it is answered).
pub(crate) fn in_flight(delta: f64) {
    metrics::gauge!("cybercrime_requests_in_flight").increment(delta);
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
