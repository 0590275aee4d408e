//! The connect helper: one [`Connection`] to the server (a lazily connected HTTP/2 channel) with TLS, a bearer
//! token, compression, and the service config's timeouts and retries, and the typed clients made from it.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use cybercrime_api::connect::{Compression, Connector};
//!
//! let connection = Connector::new("https://cybercrime.example.org")?
//!     .system_roots()
//!     .bearer_token("a-token")
//!     .compression(Compression::Zstd)
//!     .connect()
//!     .await?;
//! let mut treaties = connection.treaties();
//! # let _ = &mut treaties;
//! # Ok(()) }
//! ```

use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use http_body_util::BodyExt;
use tonic::{
    Status,
    body::Body,
    codec::CompressionEncoding,
    metadata::{AsciiMetadataValue, errors::InvalidMetadataValue},
    service::{Interceptor, interceptor::InterceptedService},
    transport::{Certificate, Channel, ClientTlsConfig, Endpoint},
};

use crate::{
    coe::cybercrime::v1::{
        activity_service_client::ActivityServiceClient, admin_service_client::AdminServiceClient,
        change_service_client::ChangeServiceClient, country_service_client::CountryServiceClient,
        programme_service_client::ProgrammeServiceClient, report_service_client::ReportServiceClient,
        treaty_service_client::TreatyServiceClient,
    },
    service_config::ServiceConfig,
};

/// Why a connection could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The endpoint URL or the TLS settings are not usable.
    #[error("endpoint: {0}")]
    Endpoint(#[from] tonic::transport::Error),
    /// The bearer token cannot be sent in an HTTP header.
    #[error("the bearer token is not a valid header value: {0}")]
    Token(#[from] InvalidMetadataValue),
}

/// The compression of requests (responses are accepted in gzip and zstd either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// No compression of requests.
    None,
    /// gzip.
    Gzip,
    /// zstd.
    Zstd,
}

/// The options of a connection; [`Connector::connect`] or [`Connector::connect_lazy`] make it.
#[derive(Debug, Clone)]
pub struct Connector {
    endpoint: Endpoint,
    tls: Option<ClientTlsConfig>,
    token: Option<String>,
    compression: Compression,
    config: ServiceConfig,
}

impl Connector {
    /// A connector to `url` (`http://host:port` or `https://host`), with the contract's service config, no TLS
    /// unless [`Connector::ca_certificate`] or [`Connector::system_roots`] is called, and no compression.
    pub fn new(url: impl Into<String>) -> Result<Self, ConnectError> {
        let endpoint = Endpoint::from_shared(url.into())?.connect_timeout(Duration::from_secs(5));
        Ok(Self { endpoint, tls: None, token: None, compression: Compression::None, config: ServiceConfig::contract() })
    }

    /// TLS, trusting the given CA certificate (PEM).
    pub fn ca_certificate(mut self, pem: impl AsRef<[u8]>) -> Self {
        let tls = self.tls.take().unwrap_or_default();
        self.tls = Some(tls.ca_certificate(Certificate::from_pem(pem)));
        self
    }

    /// TLS, trusting the system's roots.
    pub fn system_roots(mut self) -> Self {
        let tls = self.tls.take().unwrap_or_default();
        self.tls = Some(tls.with_native_roots());
        self
    }

    /// TLS with the given server name (SNI and certificate check), when it differs from the URL's host.
    pub fn tls_server_name(mut self, name: impl Into<String>) -> Self {
        let tls = self.tls.take().unwrap_or_default();
        self.tls = Some(tls.domain_name(name));
        self
    }

    /// Sends `authorization: Bearer {token}` with every call (a token that is no valid header value is an error
    /// of [`Connector::connect`]).
    pub fn bearer_token(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }

    /// The compression of requests.
    pub fn compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }

    /// The timeout of establishing the connection (5 s by default).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.endpoint = self.endpoint.connect_timeout(timeout);
        self
    }

    /// Another service config than the contract's (e.g. fewer retries in a test).
    pub fn service_config(mut self, config: ServiceConfig) -> Self {
        self.config = config;
        self
    }

    fn endpoint(&self) -> Result<Endpoint, ConnectError> {
        Ok(match &self.tls {
            Some(tls) => self.endpoint.clone().tls_config(tls.clone())?,
            None => self.endpoint.clone(),
        })
    }

    fn finish(self, channel: Channel) -> Result<Connection, ConnectError> {
        let token = match &self.token {
            Some(token) => BearerToken::new(token)?,
            None => BearerToken(None),
        };
        let retrying = RetryChannel { inner: channel, config: Arc::new(self.config) };
        let channel = InterceptedService::new(retrying, token);
        Ok(Connection { channel, compression: self.compression })
    }

    /// Connects now: fails if the server cannot be reached.
    pub async fn connect(self) -> Result<Connection, ConnectError> {
        let channel = self.endpoint()?.connect().await?;
        self.finish(channel)
    }

    /// Connects at the first call (and reconnects when the connection drops): a server that starts a moment later
    /// is reached by the service config's retries.
    pub fn connect_lazy(self) -> Result<Connection, ConnectError> {
        let channel = self.endpoint()?.connect_lazy();
        self.finish(channel)
    }
}

/// An interceptor attaching `authorization: Bearer {token}` to every call (none when the token is absent).
#[derive(Debug, Clone)]
pub struct BearerToken(Option<AsciiMetadataValue>);

impl BearerToken {
    /// The interceptor for `token`.
    pub fn new(token: &str) -> Result<Self, InvalidMetadataValue> {
        Ok(Self(Some(format!("Bearer {token}").try_into()?)))
    }
}

impl Interceptor for BearerToken {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, Status> {
        if let Some(value) = &self.0 {
            request.metadata_mut().insert("authorization", value.clone());
        }
        Ok(request)
    }
}

/// The channel the clients of a [`Connection`] use: the bearer token, then the service config's retries and
/// timeouts, then the HTTP/2 connection.
pub type ApiChannel = InterceptedService<RetryChannel, BearerToken>;

/// A connection: cheap to clone, one HTTP/2 connection shared by all the clients made from it.
#[derive(Debug, Clone)]
pub struct Connection {
    channel: ApiChannel,
    compression: Compression,
}

macro_rules! client {
    ($(#[$doc:meta] $method:ident -> $client:ident),* $(,)?) => {
        impl Connection {
            $(
                #[$doc]
                pub fn $method(&self) -> $client<ApiChannel> {
                    let client = $client::new(self.channel.clone())
                        .accept_compressed(CompressionEncoding::Gzip)
                        .accept_compressed(CompressionEncoding::Zstd)
                        .max_decoding_message_size(64 * 1024 * 1024);
                    match self.compression {
                        Compression::None => client,
                        Compression::Gzip => client.send_compressed(CompressionEncoding::Gzip),
                        Compression::Zstd => client.send_compressed(CompressionEncoding::Zstd),
                    }
                }
            )*
        }
    };
}

client! {
    /// The treaties, their status and actions.
    treaties -> TreatyServiceClient,
    /// The activities.
    activities -> ActivityServiceClient,
    /// The countries.
    countries -> CountryServiceClient,
    /// The programme, its studies and organisations.
    programme -> ProgrammeServiceClient,
    /// The reports.
    reports -> ReportServiceClient,
    /// The administration of the store.
    admin -> AdminServiceClient,
    /// The change feed.
    changes -> ChangeServiceClient,
}

impl Connection {
    /// The channel, for clients made by hand.
    pub fn channel(&self) -> ApiChannel {
        self.channel.clone()
    }
}

/// The service config applied to a [`Channel`]: each call gets its method's timeout (the `grpc-timeout` header,
/// unless the caller set one) and, for a method with a retry policy, is retried on a retryable status until the
/// server answers with headers (for a stream, its start), with the policy's backoff. The request body of a
/// retried call is buffered (the reads send one message); other calls pass through untouched.
#[derive(Debug, Clone)]
pub struct RetryChannel {
    inner: Channel,
    config: Arc<ServiceConfig>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

fn grpc_status(response: &http::Response<Body>) -> Option<tonic::Code> {
    let value = response.headers().get("grpc-status")?;
    let code: i32 = value.to_str().ok()?.parse().ok()?;
    Some(tonic::Code::from_i32(code))
}

fn grpc_timeout(timeout: Duration) -> http::HeaderValue {
    // At most 8 digits (gRPC's wire format): milliseconds suffice for the contract's timeouts.
    let millis = timeout.as_millis().min(99_999_999);
    http::HeaderValue::from_str(&format!("{millis}m")).expect("digits and a unit")
}

impl tower::Service<http::Request<Body>> for RetryChannel {
    type Response = http::Response<Body>;
    type Error = tonic::transport::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        tower::Service::poll_ready(&mut self.inner, cx)
    }

    fn call(&mut self, mut request: http::Request<Body>) -> Self::Future {
        // The ready inner channel serves this call; a clone serves the retries.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let method = self.config.method(request.uri().path()).cloned();
        if let Some(timeout) = method.as_ref().and_then(|m| m.timeout)
            && !request.headers().contains_key("grpc-timeout")
        {
            request.headers_mut().insert("grpc-timeout", grpc_timeout(timeout));
        }
        let Some(policy) = method.and_then(|m| m.retry_policy).filter(|p| p.max_attempts > 1) else {
            return Box::pin(tower::Service::call(&mut inner, request));
        };
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let bytes = match body.collect().await {
                Ok(collected) => collected.to_bytes(),
                // The request could not even be encoded: send it as it is to get tonic's own error.
                Err(status) => return Ok(status.into_http()),
            };
            let mut attempt = 1;
            loop {
                let mut request = http::Request::new(Body::new(http_body_util::Full::new(bytes.clone())));
                *request.method_mut() = parts.method.clone();
                *request.uri_mut() = parts.uri.clone();
                *request.version_mut() = parts.version;
                *request.headers_mut() = parts.headers.clone();
                *request.extensions_mut() = parts.extensions.clone();
                tower::ServiceExt::ready(&mut inner).await?;
                let result = tower::Service::call(&mut inner, request).await;
                let retryable = match &result {
                    // A transport error (no connection) is UNAVAILABLE for the caller.
                    Err(_) => policy.retries(tonic::Code::Unavailable),
                    Ok(response) => grpc_status(response).is_some_and(|code| policy.retries(code)),
                };
                if !retryable || attempt >= policy.max_attempts {
                    return result;
                }
                tokio::time::sleep(policy.backoff(attempt)).await;
                attempt += 1;
            }
        })
    }
}
