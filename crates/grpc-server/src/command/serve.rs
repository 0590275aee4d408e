//! `cybercrime serve` (and the command with no subcommand): its options, with their defaults and environment
//! variables, turned into a [`ServerConfig`], and the server run until SIGTERM or SIGINT.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use clap::Parser;
use grpc_server::{
    connections::ConnectionLimits,
    server::{ServerConfig, TlsFiles},
    watchers::WatchLimits,
};

use super::store::StoreArgs;
use crate::init_logging_with;

#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on (port 0: a free port, printed at start).
    #[arg(long, env = "CYBERCRIME_ADDR", default_value = "127.0.0.1:50051")]
    addr: SocketAddr,
    #[command(flatten)]
    store: StoreArgs,
    /// Tokens file: TOML, one `[[token]]` table per token with principal, role (reader, editor or admin) and sha256.
    #[arg(long, env = "CYBERCRIME_TOKENS")]
    tokens: Option<PathBuf>,
    /// Require a token for reads too.
    #[arg(long, env = "CYBERCRIME_REQUIRE_TOKEN_FOR_READS")]
    require_token_for_reads: bool,
    /// TLS certificate chain (PEM); with --tls-key, serves TLS only.
    #[arg(long, env = "CYBERCRIME_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, env = "CYBERCRIME_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// CA certificate clients must present certificates of (mutual TLS). A network gate only: who calls (the
    /// principal and its role) still comes from the bearer token, and no revocation list is read.
    #[arg(long, env = "CYBERCRIME_TLS_CLIENT_CA", requires = "tls_cert")]
    tls_client_ca: Option<PathBuf>,
    /// Log format: text or json.
    #[arg(long, env = "CYBERCRIME_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
    /// Longest time a request may take to be answered, in seconds (a stream's first message; its rest has limits of
    /// its own); beyond, DEADLINE_EXCEEDED (reason REQUEST_TIMEOUT).
    #[arg(long, default_value_t = 30)]
    request_timeout_secs: u64,
    /// The same in milliseconds, instead of --request-timeout-secs.
    #[arg(long, conflicts_with = "request_timeout_secs", value_parser = clap::value_parser!(u64).range(1..))]
    request_timeout_ms: Option<u64>,
    /// Longest time shutdown waits for requests and streams, in seconds.
    #[arg(long, default_value_t = 5)]
    shutdown_grace_secs: u64,
    /// How often the health service checks that the store answers, in milliseconds.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(10..=60_000))]
    health_interval_ms: u64,
    /// The most watch streams (WatchTreatyActions, WatchChanges and health Watch) open at once.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    max_watchers: u64,

    // Reports (GenerateProgressReport, GenerateCountryBrief).
    /// The most reports generated at once; a request beyond waits --report-queue-wait-ms for a place, then gets
    /// RESOURCE_EXHAUSTED.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=64))]
    max_concurrent_reports: u64,
    /// How long a report request waits for a place among the reports being generated, in milliseconds.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(0..=60_000))]
    report_queue_wait_ms: u64,
    /// The largest report, in bytes; a larger one gets RESOURCE_EXHAUSTED.
    #[arg(long, default_value_t = 32 * 1024 * 1024, value_parser = clap::value_parser!(u64).range(1024..=1024 * 1024 * 1024))]
    max_report_bytes: u64,
    /// A report stream whose client takes no chunk for this long is ended (DEADLINE_EXCEEDED), in seconds.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    stream_send_timeout_secs: u64,
    /// The longest a report stream may stay open, read or not, in seconds.
    #[arg(long, default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    max_report_stream_secs: u64,
    /// The browser (a Chromium) that prints reports asked for as PDF; default: chromium, chromium-browser or
    /// google-chrome on PATH. Without one, PDF requests get UNAVAILABLE; other formats are served.
    #[arg(long, env = "CYBERCRIME_CHROMIUM")]
    chromium: Option<PathBuf>,
    /// The longest a PDF may take to print, in seconds (a wait for a printer included); beyond, the browser is
    /// killed and the request gets DEADLINE_EXCEEDED. Keep it below the request timeout, which otherwise answers
    /// first while the print goes on to this limit.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=600))]
    pdf_timeout_secs: u64,
    /// The most PDFs printed at once (each runs a browser).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=16))]
    max_concurrent_pdfs: u64,
    /// The most watch streams open on one connection.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    max_watchers_per_connection: u64,
    /// The most watch streams open for one principal (anonymous callers: per peer address).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    max_watchers_per_principal: u64,
    /// How long a WatchTreatyActions or WatchChanges stream lasts at most, in seconds; it then ends with
    /// UNAVAILABLE (WATCH_EXPIRED) and the client watches again from its last sequence.
    #[arg(long, default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..=604_800))]
    max_watch_lifetime_secs: u64,
    /// A WatchChanges stream with nothing to send for this long sends a heartbeat (the last sequence it has gone
    /// past), so that proxies do not cut it, in milliseconds.
    #[arg(long, default_value_t = 15_000, value_parser = clap::value_parser!(u64).range(10..=3_600_000))]
    change_heartbeat_ms: u64,
    /// The most connections open at once; beyond, new ones are closed at once (and that is logged). Default:
    /// 4096, or fewer when the file-descriptor limit (raised to its hard limit at start) is lower: that limit
    /// less 128.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    max_connections: Option<u64>,
    /// How long a new connection may take to complete its TLS handshake, or its HTTP/2 preface and first
    /// SETTINGS frame, in milliseconds; then it is closed.
    #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u64).range(10..=600_000))]
    handshake_timeout_ms: u64,
    /// HTTP/2 keepalive: a ping after this long without a frame from the client, in milliseconds.
    #[arg(long, default_value_t = 30_000, value_parser = clap::value_parser!(u64).range(10..=3_600_000))]
    keepalive_interval_ms: u64,
    /// HTTP/2 keepalive: the connection is closed when its ping is not answered within this, in milliseconds.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(10..=3_600_000))]
    keepalive_timeout_ms: u64,

    // Transport and operations (metrics, logs).
    /// An origin a browser may call the API from through grpc-web (CORS), e.g. `https://partner.example`;
    /// repeatable, or comma-separated in the environment; `*` for any. Default: none (only the server's own).
    #[arg(long = "cors-origin", env = "CYBERCRIME_CORS_ORIGINS", value_delimiter = ',')]
    cors_origins: Vec<String>,
    /// Serve metrics (Prometheus' text format, GET /metrics) on this address, e.g. 127.0.0.1:9464 (port 0: a free
    /// port, logged at start). Default: no metrics. Keep it off the public network.
    #[arg(long, env = "CYBERCRIME_METRICS_ADDR")]
    metrics_addr: Option<SocketAddr>,
    /// Do not serve the read-only status page at `/` on the gRPC port (default: served; it calls the API through
    /// grpc-web like any browser client, with the same tokens).
    #[arg(long)]
    no_status_page: bool,
    /// The level of the access log's lines (one per call, target cybercrime::request), or off. RUST_LOG still
    /// filters them (e.g. RUST_LOG=warn hides access lines at info).
    #[arg(long, env = "CYBERCRIME_ACCESS_LOG_LEVEL", default_value = "info",
          value_parser = ["off", "error", "warn", "info", "debug", "trace"])]
    access_log_level: String,
    /// Export the request spans to this OpenTelemetry collector (OTLP over gRPC), e.g. `http://127.0.0.1:4317`.
    /// Default: no export (trace ids are still on the log lines).
    #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    otlp_endpoint: Option<String>,
}

/// The serve options alone, to give them their defaults (and environment) when no command is given.
#[derive(Debug, Parser)]
struct ServeOnly {
    #[command(flatten)]
    args: ServeArgs,
}

impl Default for ServeArgs {
    fn default() -> Self {
        ServeOnly::parse_from(["cybercrime"]).args
    }
}

pub(crate) async fn serve(args: ServeArgs, explain: bool) -> anyhow::Result<()> {
    let export = init_logging_with(&args.log_format, args.otlp_endpoint.as_deref())?;
    grpc_server::transport::set_access_log_level(args.access_log_level.parse::<tracing::Level>().ok());
    if args.tokens.is_some() && args.tls_cert.is_none() && !args.addr.ip().is_loopback() {
        tracing::warn!(
            addr = %args.addr,
            "tokens are in use without TLS on an address that is not a loopback address: bearer tokens travel in \
             clear text; serve TLS (--tls-cert, --tls-key) or listen on 127.0.0.1 behind a TLS proxy"
        );
    }
    let tls = match (args.tls_cert, args.tls_key) {
        (Some(cert), Some(key)) => Some(TlsFiles { cert, key, client_ca: args.tls_client_ca }),
        _ => None,
    };
    args.store.refuse_missing(true)?;
    let nofile = raise_file_limit();
    let max_connections = match args.max_connections {
        Some(n) => n as usize,
        None => nofile.map_or(4096, |n| n.saturating_sub(128).clamp(16, 4096) as usize),
    };
    let config = ServerConfig {
        addr: args.addr,
        store_url: args.store.connect_url()?,
        tokens: args.tokens,
        require_token_for_reads: args.require_token_for_reads,
        tls,
        request_timeout: args
            .request_timeout_ms
            .map_or(Duration::from_secs(args.request_timeout_secs), Duration::from_millis),
        shutdown_grace: Duration::from_secs(args.shutdown_grace_secs),
        health_interval: Duration::from_millis(args.health_interval_ms),
        reports: grpc_server::service::ReportLimits {
            max_concurrent: args.max_concurrent_reports as usize,
            max_document_bytes: args.max_report_bytes as usize,
            send_timeout: Duration::from_secs(args.stream_send_timeout_secs),
            max_stream_duration: Duration::from_secs(args.max_report_stream_secs),
            queue_wait: Duration::from_millis(args.report_queue_wait_ms),
        },
        watch: WatchLimits {
            max: args.max_watchers as usize,
            per_connection: args.max_watchers_per_connection as usize,
            per_principal: args.max_watchers_per_principal as usize,
            lifetime: Duration::from_secs(args.max_watch_lifetime_secs),
        },
        change_feed: grpc_server::service::ChangeFeedLimits {
            heartbeat: Duration::from_millis(args.change_heartbeat_ms),
            send_timeout: Duration::from_secs(args.stream_send_timeout_secs),
        },
        connections: ConnectionLimits {
            max_connections,
            handshake_timeout: Duration::from_millis(args.handshake_timeout_ms),
        },
        keepalive_interval: Duration::from_millis(args.keepalive_interval_ms),
        keepalive_timeout: Duration::from_millis(args.keepalive_timeout_ms),
        cors_origins: args.cors_origins,
        metrics_addr: args.metrics_addr,
        status_page: !args.no_status_page,
        pdf: reporting::pdf::PrinterConfig {
            browser: args.chromium,
            timeout: Duration::from_secs(args.pdf_timeout_secs),
            max_concurrent: args.max_concurrent_pdfs as usize,
        },
    };
    tracing::info!(file_limit = ?nofile, max_connections, "connections");
    let served = grpc_server::server::serve(config, grpc_server::server::shutdown_signal(), |addr| {
        // The first line on stdout is the address: tests and scripts read it, and find every log line written
        // until then (the `serving` line with the metrics address among them) already on stderr.
        crate::sync_log();
        println!("cybercrime: serving on {addr}");
        if explain {
            println!(
                "\nExplore it with grpcurl (https://github.com/fullstorydev/grpcurl):\n  \
                 grpcurl -plaintext {addr} list\n  \
                 grpcurl -plaintext {addr} describe coe.cybercrime.v1.TreatyService\n  \
                 grpcurl -plaintext -d '{{\"name\": \"treaties/185\", \"as_of\": {{\"year\": 2007, \"month\": 11, \"day\": 30}}}}' {addr} coe.cybercrime.v1.TreatyService/GetTreatyStatus\n\
                 Stop with Ctrl-C."
            );
        }
    })
    .await;
    if let Some(export) = export {
        // The spans of the last requests are sent before the process ends.
        export.shutdown().await;
    }
    served
}

/// Raises the soft limit on open files to the hard limit (each connection holds one; the common soft limit of
/// 1,024 is far below what the hard limit allows) and returns the limit in force, if known.
#[cfg(unix)]
fn raise_file_limit() -> Option<u64> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let current = limit.current?;
    if limit.maximum.is_none_or(|max| max > current) {
        let raised = Rlimit { current: limit.maximum.or(Some(1 << 20)), maximum: limit.maximum };
        if setrlimit(Resource::Nofile, raised).is_ok() {
            return getrlimit(Resource::Nofile).current;
        }
        tracing::warn!(soft = current, hard = ?limit.maximum, "cannot raise the limit on open files");
    }
    Some(current)
}

#[cfg(not(unix))]
fn raise_file_limit() -> Option<u64> {
    None
}
