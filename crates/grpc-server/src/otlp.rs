//! Optional export of the request spans to an OpenTelemetry collector over OTLP/gRPC (`serve --otlp-endpoint`, or
//! the standard `OTEL_EXPORTER_OTLP_ENDPOINT`; off by default).
//!
//! [`layer`] builds the `tracing` layer (tracing-opentelemetry) and the exporter (opentelemetry-otlp through the
//! workspace's tonic, spans sent in batches by the SDK's own thread; the SDK's `OTEL_BSP_*` variables tune the
//! batches). With it installed, [`crate::transport`]'s request span becomes an OpenTelemetry server span: its parent
//! is the caller's `traceparent` (when one is sent; its sampled flag is kept), and the trace and span ids on the log
//! lines are the exported span's own, so a log line and its span in the collector's UI name each other.

use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context as _;
use opentelemetry::{
    Context,
    trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState, TracerProvider as _},
};
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Subscriber;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::registry::LookupSpan;

use crate::transport::TraceContext;

/// Whether spans are exported: set once the layer is built.
static ENABLED: AtomicBool = AtomicBool::new(false);

/// The exporter, to flush and stop when the server stops.
#[derive(Debug)]
pub struct Export {
    provider: SdkTracerProvider,
}

impl Export {
    /// Sends the spans not yet sent and stops the exporter (off the async workers: the SDK waits for its thread).
    pub async fn shutdown(self) {
        let provider = self.provider;
        match tokio::task::spawn_blocking(move || provider.shutdown()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "the OTLP exporter did not shut down cleanly"),
            Err(e) => tracing::warn!(error = %e, "the OTLP exporter's shutdown failed"),
        }
    }
}

/// The `tracing` layer that exports spans to the OTLP/gRPC `endpoint` (e.g. `http://127.0.0.1:4317`), and the
/// exporter. Must be called within the tokio runtime (the exporter's channel is bound to it).
pub fn layer<S>(endpoint: &str) -> anyhow::Result<(impl tracing_subscriber::Layer<S> + Send + Sync, Export)>
where
    S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
{
    anyhow::ensure!(
        endpoint.starts_with("http://") || endpoint.starts_with("https://"),
        "--otlp-endpoint {endpoint:?}: a URL of an OTLP/gRPC collector, e.g. http://127.0.0.1:4317"
    );
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()
        .with_context(|| format!("cannot set up the OTLP exporter to {endpoint}"))?;
    let resource = opentelemetry_sdk::Resource::builder().with_service_name("cybercrime").build();
    let provider = SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource).build();
    let tracer = provider.tracer("cybercrime");
    ENABLED.store(true, Ordering::Relaxed);
    Ok((tracing_opentelemetry::OpenTelemetryLayer::new(tracer), Export { provider }))
}

/// Whether spans are exported.
pub(crate) fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// The span of a request named by `path`, for export: a server span whose parent is the caller's, when it sent one,
/// with the exported span's trace and span ids as its log fields.
pub(crate) fn request_span(path: &str, trace: &TraceContext) -> tracing::Span {
    let span = tracing::info_span!(
        "request",
        "otel.name" = %path.trim_start_matches('/'),
        "otel.kind" = "server",
        trace_id = tracing::field::Empty,
        span_id = tracing::field::Empty,
    );
    if let Some(parent) = &trace.parent_id
        && let (Ok(trace_id), Ok(span_id)) = (TraceId::from_hex(&trace.trace_id), SpanId::from_hex(parent))
    {
        let flags = if trace.sampled { TraceFlags::SAMPLED } else { TraceFlags::default() };
        let remote = SpanContext::new(trace_id, span_id, flags, true, TraceState::default());
        let _ = span.set_parent(Context::new().with_remote_span_context(remote));
    }
    let context = span.context();
    let own = context.span().span_context().clone();
    if own.is_valid() {
        span.record("trace_id", tracing::field::display(own.trace_id()));
        span.record("span_id", tracing::field::display(own.span_id()));
    } else {
        span.record("trace_id", tracing::field::display(&trace.trace_id));
        span.record("span_id", tracing::field::display(&trace.span_id));
    }
    span
}
