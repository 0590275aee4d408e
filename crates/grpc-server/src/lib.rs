//! The gRPC service of the Project on Cybercrime's system of record: the contract of `proto/` served with tonic,
//! and what the `cybercrime` command runs.
//!
//! - [`pb`]: the code generated from `proto/` at build time (protox, no system protoc) and its descriptor set.
//! - [`method`]: every method of the API, declared once (service, name, role, encoded or not).
//! - [`convert`]: the one conversion layer between domain types and protobuf messages, a module per service.
//! - [`error`]: the service's error enum and its one exhaustive mapping to `tonic::Status`.
//! - [`auth`]: bearer tokens from a tokens file (stored hashed, compared in constant time) and roles.
//! - [`service`]: the handlers, one module per service, all served through one wrapper (logging, the caller's
//!   role, errors).
//! - `encoded`: the hot reads (GetTreatyStatus, GetCountry, ListActivities) answered with bytes encoded once.
//! - `memo`: status tables and country pages kept encoded per snapshot version.
//! - [`server`]: reflection, health, limits, TLS and graceful shutdown.
//! - [`connections`]: open connections bounded and counted, and the handshake timeout.
//! - [`watchers`]: places for watch streams, in all, per connection and per principal.
//! - [`transport`]: CORS, grpc-web, the request's trace context and the request timeout (DEADLINE_EXCEEDED), and
//!   the access log.
//! - [`page`]: the read-only status page at `/` (grpc-web from the browser) and its `/schema.json`.
//! - [`metrics`]: what is measured, and the Prometheus text served on `serve --metrics-addr`.
//! - [`otlp`]: the optional export of request spans to an OpenTelemetry collector (`serve --otlp-endpoint`).

pub mod access_line;
pub mod auth;
pub mod connections;
pub mod convert;
mod encoded;
pub mod error;
pub mod log_writer;
mod memo;
pub mod method;
pub mod metrics;
pub mod otlp;
pub mod page;
pub mod pb;
pub mod server;
pub mod service;
pub mod transport;
pub mod watchers;

/// The health protocol (`grpc.health.v1`), for clients.
pub use tonic_health::pb as pb_health;
