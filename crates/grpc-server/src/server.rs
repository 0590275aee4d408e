//! Builds and runs the server: the four services, server reflection (v1 and v1alpha; behind a reader's token when
//! reads need one), health (`Check` open to probes; `Watch` streams counted with watch streams), explicit limits
//! (connections and their handshake in [`crate::connections`], watch streams in [`crate::watchers`]), optional
//! TLS, and a graceful shutdown bounded in time. Every service accepts and sends gzip and zstd; every request passes
//! through [`Transport`] (CORS, grpc-web over HTTP/1.1 or HTTP/2 on the same port, trace context, the request
//! timeout answered DEADLINE_EXCEEDED); metrics are served on an address of their own when one is given
//! ([`crate::metrics`]).

use std::{net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use anyhow::Context;
use tonic::transport::Server;
use tower::layer::util::{Identity, Stack};

use crate::{
    auth::Auth,
    connections::ConnectionLimits,
    encoded::Encoded,
    pb::{
        self,
        coe::cybercrime::v1::{
            activity_service_server::ActivityServiceServer, admin_service_server::AdminServiceServer,
            change_service_server::ChangeServiceServer, country_service_server::CountryServiceServer,
            programme_service_server::ProgrammeServiceServer, report_service_server::ReportServiceServer,
            treaty_service_server::TreatyServiceServer,
        },
    },
    service::{AppState, Services},
    transport::Transport,
    watchers::{CountedHealth, WatchLimits},
};

/// The largest message the server accepts or sends (4 MiB).
pub const MAX_MESSAGE_SIZE: usize = 4 * 1024 * 1024;

/// A generated server with the settings every service of the API has: the message size limits, and gzip and zstd
/// accepted on requests and sent on answers when the client accepts them (`grpc-accept-encoding`). The hot
/// methods that `encoded.rs` serves itself bypass the generated server: a setting given here (a size limit,
/// compression) is given to `encoded::unary`'s `Grpc` too.
macro_rules! configured {
    ($server:expr) => {
        compressed!($server.max_decoding_message_size(MAX_MESSAGE_SIZE).max_encoding_message_size(MAX_MESSAGE_SIZE))
    };
}

/// A generated server that accepts and sends gzip and zstd: every service, health and reflection too (a client
/// that compresses on its channel compresses its health checks as well).
macro_rules! compressed {
    ($server:expr) => {
        $server
            .accept_compressed(tonic::codec::CompressionEncoding::Gzip)
            .accept_compressed(tonic::codec::CompressionEncoding::Zstd)
            .send_compressed(tonic::codec::CompressionEncoding::Gzip)
            .send_compressed(tonic::codec::CompressionEncoding::Zstd)
    };
}

/// The names the health service reports on: the server (`""`) and each service of the method table.
fn health_names() -> Vec<&'static str> {
    let mut names = vec![""];
    names.extend(crate::method::services());
    names
}

/// TLS files.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The server's certificate chain (PEM).
    pub cert: PathBuf,
    /// Its private key (PEM).
    pub key: PathBuf,
    /// A CA whose certificates clients must present (mutual TLS), if any.
    pub client_ca: Option<PathBuf>,
}

/// How to run the server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Where to listen; port 0 picks a free port.
    pub addr: SocketAddr,
    /// The store: `sqlite://PATH` or `postgres://...`.
    pub store_url: String,
    /// The tokens file; without one, only anonymous reads are possible.
    pub tokens: Option<PathBuf>,
    /// Reads need a token too.
    pub require_token_for_reads: bool,
    /// TLS, if any.
    pub tls: Option<TlsFiles>,
    /// How long a request may take.
    pub request_timeout: Duration,
    /// How long shutdown waits for requests and streams to end.
    pub shutdown_grace: Duration,
    /// How often the health service asks the store whether it answers.
    pub health_interval: Duration,
    // Reports.
    /// What a report may cost: its size, how many are generated at once, how long its stream may stay open.
    pub reports: crate::service::ReportLimits,
    /// Watch streams (WatchTreatyActions, WatchChanges, health Watch): how many in all, per connection and per
    /// principal (beyond: RESOURCE_EXHAUSTED), and how long a WatchTreatyActions or WatchChanges stream lasts.
    pub watch: WatchLimits,
    /// Change streams (WatchChanges): the heartbeat of an idle stream, and how long a client may take no event.
    pub change_feed: crate::service::ChangeFeedLimits,
    /// How many connections at once, and how long one may take to start.
    pub connections: ConnectionLimits,
    /// HTTP/2 keepalive: a ping after this long without a frame from the client...
    pub keepalive_interval: Duration,
    /// ...and the connection closed if the ping is not answered within this.
    pub keepalive_timeout: Duration,
    /// The origins a browser may call the API from through grpc-web (`*`: any); none: only the server's own.
    pub cors_origins: Vec<String>,
    /// Where to serve metrics (`/metrics`, Prometheus' text format), if anywhere.
    pub metrics_addr: Option<SocketAddr>,
    /// Serve the read-only status page at `/` on the gRPC port ([`crate::page`]).
    pub status_page: bool,
    /// How reports asked for as PDF are printed: the browser (found at start; without one, PDF requests are
    /// UNAVAILABLE and every other format is served), the timeout and how many at once.
    pub pdf: reporting::pdf::PrinterConfig,
}

/// A server with its layers ([`Transport`]).
pub type Layered = Server<Stack<Transport, Identity>>;

/// A server builder with every limit set explicitly (tonic's defaults leave some unlimited), and [`Transport`]
/// with this request timeout and no cross-origin caller: see [`configured_with`].
pub fn configured_builder(request_timeout: Duration) -> Layered {
    configured_with(Transport::same_origin(request_timeout))
}

/// A server builder with every limit set explicitly (tonic's defaults leave some unlimited): concurrency per
/// connection with load shedding, HTTP/2 streams and reset limits, keepalives, header size; HTTP/1.1 accepted (for
/// grpc-web; hyper bounds its request heads and, with tonic's timer, waits 30 s at most for one), and `transport`'s
/// layers, among them the request timeout (tonic's own would answer CANCELLED).
pub fn configured_with(transport: Transport) -> Layered {
    configured_settings().layer(transport)
}

/// The settings of [`configured_with`] without its layers (the load benchmark prices the two apart).
pub fn configured_settings() -> Server {
    Server::builder()
        .accept_http1(true)
        .concurrency_limit_per_connection(256)
        .load_shed(true)
        .max_concurrent_streams(Some(200))
        .http2_max_pending_accept_reset_streams(Some(100))
        .http2_max_local_error_reset_streams(Some(1024))
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .http2_keepalive_timeout(Some(Duration::from_secs(10)))
        .tcp_keepalive(Some(Duration::from_secs(60)))
        .tcp_nodelay(true)
        .http2_max_header_list_size(Some(16 * 1024))
        .max_connection_age(Duration::from_secs(3600))
}

/// Connections from a bound listener, with the TCP settings `configured_builder` cannot apply to a listener it
/// did not bind: no Nagle delay (without it a small response waits for the peer's delayed ACK, some 40 ms), and
/// keepalive.
pub fn incoming(listener: tokio::net::TcpListener) -> tonic::transport::server::TcpIncoming {
    tonic::transport::server::TcpIncoming::from(listener)
        .with_nodelay(Some(true))
        .with_keepalive(Some(Duration::from_secs(60)))
}

/// The PDF printer of `config`, its browser logged (or, when it has none, why PDF requests will be refused).
fn pdf_printer(config: reporting::pdf::PrinterConfig) -> reporting::pdf::Printer {
    let printer = reporting::pdf::Printer::new(config);
    match (printer.browser(), printer.missing()) {
        (Some(browser), _) => tracing::info!(browser = %browser.display(), "PDF reports printed with this browser"),
        (None, why) => {
            tracing::warn!(why = why.unwrap_or_default(), "PDF reports unavailable (other formats are served)")
        }
    }
    printer
}

/// Opens the store and serves until `shutdown` resolves (or SIGTERM/SIGINT, when `shutdown` is the signal
/// future). `on_ready` is called with the bound address once the health service reports SERVING.
pub async fn serve(
    config: ServerConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    on_ready: impl FnOnce(SocketAddr),
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let auth = match &config.tokens {
        Some(path) => Auth::load(path, config.require_token_for_reads)?,
        None => Auth::anonymous_only(config.require_token_for_reads),
    };
    let store = storage::open(&config.store_url)
        .await
        .with_context(|| format!("cannot open the store {}", storage::redact_url(&config.store_url)))?;
    let records = AppState::load_records(&*store).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let (stop_streams, shutdown_rx) = tokio::sync::watch::channel(false);
    let services = Services(Arc::new(
        AppState::new(store, auth, records, shutdown_rx, config.watch.max)
            .with_watch_limits(config.watch)
            .with_change_feed(config.change_feed)
            .with_report_limits(config.reports)
            .with_pdf_printer(pdf_printer(config.pdf.clone())),
    ));

    let (health, health_service) = tonic_health::server::health_reporter();
    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .map(|s| compressed!(s))?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()
        .map(|s| compressed!(s))?;
    // Reflection describes the whole API: when reads need a token, so does it.
    let reflection_auth = {
        let services = services.clone();
        move |request: tonic::Request<()>| match services.0.auth.reader(request.metadata()) {
            Ok(_) => Ok(request),
            Err(e) => Err(tonic::Status::from(e)),
        }
    };
    let reflection_v1 = tonic::service::interceptor::InterceptedService::new(reflection_v1, reflection_auth.clone());
    let reflection_v1alpha = tonic::service::interceptor::InterceptedService::new(reflection_v1alpha, reflection_auth);
    let health_service = CountedHealth::new(compressed!(health_service), services.0.watchers.clone());

    let transport = Transport::new(config.request_timeout, &config.cors_origins)?.with_status_page(config.status_page);
    let mut builder = configured_with(transport)
        .http2_keepalive_interval(Some(config.keepalive_interval))
        .http2_keepalive_timeout(Some(config.keepalive_timeout))
        // A connection past its age is asked to go (GOAWAY); its streams then have this long to end (a watch
        // stream ends within its lifetime) before it is closed.
        .max_connection_age_grace(config.watch.lifetime.max(config.request_timeout) + Duration::from_secs(5));
    let tls = config.tls.as_ref().map(tls_config).transpose()?;
    let router = builder
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(Encoded::new(configured!(TreatyServiceServer::new(services.clone())), services.clone()))
        .add_service(Encoded::new(configured!(ActivityServiceServer::new(services.clone())), services.clone()))
        .add_service(Encoded::new(configured!(CountryServiceServer::new(services.clone())), services.clone()))
        .add_service(configured!(ProgrammeServiceServer::new(services.clone())))
        .add_service(configured!(ReportServiceServer::new(services.clone())))
        .add_service(configured!(AdminServiceServer::new(services.clone())))
        .add_service(configured!(ChangeServiceServer::new(services.clone())));

    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .with_context(|| format!("cannot listen on {}", config.addr))?;
    let addr = listener.local_addr()?;
    let metrics_addr = match config.metrics_addr {
        Some(addr) => Some(crate::metrics::install(addr, services.0.shutdown.clone()).await?),
        None => None,
    };
    crate::metrics::store_up(true);
    for name in health_names() {
        health.set_service_status(name, tonic_health::ServingStatus::Serving).await;
    }
    tracing::info!(
        metrics_addr = %metrics_addr.map_or_else(|| "none".to_owned(), |a| a.to_string()),
        %addr,
        store = %storage::redact_url(&config.store_url),
        startup_ms = started.elapsed().as_millis() as u64,
        max_connections = config.connections.max_connections,
        handshake_timeout_ms = config.connections.handshake_timeout.as_millis() as u64,
        "serving"
    );
    on_ready(addr);
    let monitor = tokio::spawn(watch_store(
        services.0.store.clone(),
        health.clone(),
        config.health_interval,
        services.0.shutdown.clone(),
    ));

    let grace = config.shutdown_grace;
    let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
    let health_on_stop = health.clone();
    let signal = async move {
        shutdown.await;
        tracing::info!("shutting down");
        for name in health_names() {
            health_on_stop.set_service_status(name, tonic_health::ServingStatus::NotServing).await;
        }
        let _ = stop_streams.send(true);
        let _ = stopping_tx.send(());
    };
    let incoming = crate::connections::limited(incoming(listener), config.connections, tls);
    let server = router.serve_with_incoming_shutdown(incoming, signal);
    tokio::pin!(server);
    tokio::select! {
        result = &mut server => result?,
        _ = async {
            let _ = stopping_rx.await;
            tokio::time::sleep(grace).await;
        } => tracing::warn!(grace_ms = grace.as_millis() as u64, "requests still running after the grace period: stopping anyway"),
    }
    monitor.abort();
    // The store is left as its one file: the writer's last group committed, the WAL checkpointed into it.
    match services.0.store.close().await {
        Ok(()) => tracing::info!("store closed"),
        Err(e) => tracing::warn!(error = %e, "the store did not close cleanly"),
    }
    Ok(())
}

/// The TLS configuration of `tls` (what tonic's `ServerTlsConfig` makes of the same files: rustls' defaults,
/// ALPN `h2`, then `http/1.1` for grpc-web, client certificates required and checked against the CA when one is given). The handshakes are
/// run by [`crate::connections::limited`], within the handshake timeout.
fn tls_config(tls: &TlsFiles) -> anyhow::Result<Arc<tokio_rustls::rustls::ServerConfig>> {
    use tokio_rustls::rustls::{
        RootCertStore, ServerConfig,
        pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject},
        server::WebPkiClientVerifier,
    };
    let certs = |path: &std::path::Path| -> anyhow::Result<Vec<CertificateDer<'static>>> {
        let text = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        CertificateDer::pem_slice_iter(&text)
            .collect::<Result<Vec<_>, _>>()
            .with_context(|| format!("{}: not a PEM certificate chain", path.display()))
    };
    let key = std::fs::read(&tls.key).with_context(|| format!("cannot read {}", tls.key.display()))?;
    let key = PrivateKeyDer::from_pem_slice(&key)
        .with_context(|| format!("{}: no PEM private key (PKCS#8, PKCS#1 or SEC1)", tls.key.display()))?;
    let builder = ServerConfig::builder();
    let builder = match &tls.client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            roots.add_parsable_certificates(certs(ca)?);
            builder.with_client_cert_verifier(WebPkiClientVerifier::builder(roots.into()).build()?)
        }
    };
    let mut config = builder.with_single_cert(certs(&tls.cert)?, key).context("the TLS certificate and key")?;
    // HTTP/2 first; HTTP/1.1 for grpc-web clients that offer nothing else.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Reports the store's reachability through the health service: NOT_SERVING while the database does not answer
/// (a replica that lost its PostgreSQL connection, say), SERVING again once it does, without a restart. Ends at
/// shutdown, which reports NOT_SERVING itself.
async fn watch_store(
    store: Arc<dyn storage::Store>,
    health: tonic_health::server::HealthReporter,
    interval: Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let mut serving = true;
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = shutdown.changed() => return,
        }
        let answer = store.ping(interval.max(Duration::from_millis(500))).await;
        if *shutdown.borrow() {
            return;
        }
        let now = answer.is_ok();
        crate::metrics::store_up(now);
        if now == serving {
            continue;
        }
        serving = now;
        let status = if now { tonic_health::ServingStatus::Serving } else { tonic_health::ServingStatus::NotServing };
        match &answer {
            Ok(()) => tracing::info!("the store answers again: SERVING"),
            Err(e) => tracing::warn!(error = %e, "the store does not answer: NOT_SERVING"),
        }
        for name in health_names() {
            health.set_service_status(name, status).await;
        }
    }
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
