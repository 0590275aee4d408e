//! The read-only status page served at `/` on the gRPC port: one HTML, one JS and one CSS file embedded in the
//! binary (`assets/`), and `/schema.json`, a JSON description of the messages the page sends and reads, derived
//! at start-up from the contract's descriptor set (so the page's generic protobuf codec stays in step with the
//! contract). The page calls the service itself through grpc-web (`application/grpc-web+proto`) from the
//! browser's `fetch`, on the same origin: nothing is fetched from anywhere else, and the Content-Security-Policy
//! says so.
//!
//! [`PageLayer`] sits outside every other layer of [`crate::transport::Transport`]: it answers `GET`/`HEAD`
//! requests that are not gRPC (known paths: the asset; any other path: 404) and passes everything else on
//! untouched. `serve --no-status-page` turns it off (then such requests reach the gRPC router as before).

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::OnceLock,
    task::{Context, Poll},
};

use bytes::Bytes;
use prost_reflect::{DescriptorPool, Kind, MessageDescriptor};
use tonic::{
    body::Body,
    codegen::{BoxFuture, Service, http},
};
use tower::Layer;

/// The page's HTML.
const INDEX_HTML: &str = include_str!("../../assets/index.html");
/// The page's script.
const APP_JS: &str = include_str!("../../assets/app.js");
/// The page's style sheet.
const STYLE_CSS: &str = include_str!("../../assets/style.css");

/// The methods the page calls, by their fully-qualified names: `/schema.json` describes them and every message
/// they reach.
pub const METHODS: [&str; 4] = [
    "coe.cybercrime.v1.TreatyService.ListTreaties",
    "coe.cybercrime.v1.TreatyService.GetTreatyStatus",
    "coe.cybercrime.v1.CountryService.ListCountries",
    "coe.cybercrime.v1.CountryService.GetCountry",
];

/// The Content-Security-Policy of every answer of the page: only this origin, no inline script or style, no
/// frames, no plugins.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; \
                       base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The layer that serves the page (see [the module](self)).
#[derive(Debug, Clone)]
pub struct PageLayer {
    enabled: bool,
}

impl PageLayer {
    /// The page served (`enabled`) or not.
    pub fn new(enabled: bool) -> Self {
        PageLayer { enabled }
    }
}

impl<S> Layer<S> for PageLayer {
    type Service = Page<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Page { inner, enabled: self.enabled }
    }
}

/// The service of [`PageLayer`].
#[derive(Debug, Clone)]
pub struct Page<S> {
    inner: S,
    enabled: bool,
}

impl<S> Service<http::Request<Body>> for Page<S>
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
        if self.enabled && is_page_request(&request) {
            let answer = answer(request.method(), request.uri().path());
            return Box::pin(async move { Ok(answer) });
        }
        Box::pin(self.inner.call(request))
    }
}

/// A `GET` or `HEAD` that is not a gRPC (or grpc-web) call: gRPC calls are `POST`s with a gRPC content type.
fn is_page_request<B>(request: &http::Request<B>) -> bool {
    let method = request.method();
    if method != http::Method::GET && method != http::Method::HEAD {
        return false;
    }
    let grpc = request
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc"));
    !grpc
}

/// The answer to a page request for `path`: the asset, or 404.
pub fn answer(method: &http::Method, path: &str) -> http::Response<Body> {
    let (status, content_type, cache, body): (_, _, _, Bytes) = match path {
        "/" | "/index.html" => (200, "text/html; charset=utf-8", "no-cache", Bytes::from_static(INDEX_HTML.as_bytes())),
        "/app.js" => (200, "text/javascript; charset=utf-8", "no-cache", Bytes::from_static(APP_JS.as_bytes())),
        "/style.css" => (200, "text/css; charset=utf-8", "no-cache", Bytes::from_static(STYLE_CSS.as_bytes())),
        "/schema.json" => (200, "application/json", "no-cache", schema().clone()),
        _ => (404, "text/plain; charset=utf-8", "no-store", Bytes::from_static(b"not found\n")),
    };
    let length = body.len();
    let body = if method == http::Method::HEAD { Bytes::new() } else { body };
    let mut response = http::Response::new(Body::new(http_body_util::Full::new(body)));
    *response.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::NOT_FOUND);
    let headers = response.headers_mut();
    let set = |headers: &mut http::HeaderMap, name: http::HeaderName, value: &str| {
        if let Ok(value) = http::HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    set(headers, http::header::CONTENT_TYPE, content_type);
    set(headers, http::header::CONTENT_LENGTH, &length.to_string());
    // The assets are embedded in the binary: revalidated on every load, so a new binary is seen at once.
    set(headers, http::header::CACHE_CONTROL, cache);
    set(headers, http::header::CONTENT_SECURITY_POLICY, CSP);
    set(headers, http::header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, http::header::REFERRER_POLICY, "no-referrer");
    set(headers, http::header::X_FRAME_OPTIONS, "DENY");
    response
}

/// `/schema.json`, computed once.
fn schema() -> &'static Bytes {
    static SCHEMA: OnceLock<Bytes> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let json = DescriptorPool::decode(crate::pb::FILE_DESCRIPTOR_SET)
            .map(|pool| schema_of(&pool, &METHODS))
            .unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }));
        Bytes::from(json.to_string())
    })
}

/// The JSON description of `methods` (their paths, input and output) and of every message and enum they reach:
/// `{"methods": {NAME: {"path", "input", "output"}}, "messages": {NAME: {"fields": [{"name", "number", "type",
/// "repeated", "message"?, "enum"?}]}}, "enums": {NAME: {NUMBER: VALUE_NAME}}}`. A method missing from the pool is
/// left out (the page says so when it needs it).
pub fn schema_of(pool: &DescriptorPool, methods: &[&str]) -> serde_json::Value {
    let mut out_methods = serde_json::Map::new();
    let mut pending: Vec<MessageDescriptor> = Vec::new();
    for full in methods {
        let Some((service, method)) = full.rsplit_once('.') else { continue };
        let Some(service) = pool.get_service_by_name(service) else { continue };
        let Some(method) = service.methods().find(|m| m.name() == method) else { continue };
        out_methods.insert(
            (*full).to_owned(),
            serde_json::json!({
                "path": format!("/{}/{}", service.full_name(), method.name()),
                "input": method.input().full_name(),
                "output": method.output().full_name(),
            }),
        );
        pending.push(method.input());
        pending.push(method.output());
    }
    let mut seen = BTreeSet::new();
    let mut messages = BTreeMap::new();
    let mut enums = BTreeMap::new();
    while let Some(message) = pending.pop() {
        if !seen.insert(message.full_name().to_owned()) {
            continue;
        }
        let fields: Vec<serde_json::Value> = message
            .fields()
            .map(|field| {
                let mut f = serde_json::json!({
                    "name": field.json_name(),
                    "number": field.number(),
                    "type": kind_name(&field.kind()),
                    "repeated": field.is_list(),
                });
                match field.kind() {
                    Kind::Message(m) => {
                        f["message"] = m.full_name().into();
                        pending.push(m);
                    }
                    Kind::Enum(e) => {
                        f["enum"] = e.full_name().into();
                        let values: serde_json::Map<String, serde_json::Value> =
                            e.values().map(|v| (v.number().to_string(), v.name().into())).collect();
                        enums.insert(e.full_name().to_owned(), serde_json::Value::Object(values));
                    }
                    _ => {}
                }
                f
            })
            .collect();
        messages.insert(message.full_name().to_owned(), serde_json::json!({ "fields": fields }));
    }
    serde_json::json!({ "methods": out_methods, "messages": messages, "enums": enums })
}

/// The protobuf type name of a field's kind, as the page's codec knows it.
fn kind_name(kind: &Kind) -> &'static str {
    match kind {
        Kind::Double => "double",
        Kind::Float => "float",
        Kind::Int32 => "int32",
        Kind::Int64 => "int64",
        Kind::Uint32 => "uint32",
        Kind::Uint64 => "uint64",
        Kind::Sint32 => "sint32",
        Kind::Sint64 => "sint64",
        Kind::Fixed32 => "fixed32",
        Kind::Fixed64 => "fixed64",
        Kind::Sfixed32 => "sfixed32",
        Kind::Sfixed64 => "sfixed64",
        Kind::Bool => "bool",
        Kind::String => "string",
        Kind::Bytes => "bytes",
        Kind::Message(_) => "message",
        Kind::Enum(_) => "enum",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_describes_every_method_the_page_calls() {
        let pool = DescriptorPool::decode(crate::pb::FILE_DESCRIPTOR_SET).unwrap();
        let schema = schema_of(&pool, &METHODS);
        for m in METHODS {
            let method = &schema["methods"][m];
            assert!(method["path"].as_str().is_some_and(|p| p.starts_with("/coe.cybercrime.v1.")), "{m}");
            assert!(schema["messages"][method["output"].as_str().unwrap()].is_object(), "{m}");
        }
        let status = &schema["messages"]["coe.cybercrime.v1.TreatyStatus"]["fields"];
        assert!(status.as_array().unwrap().iter().any(|f| f["name"] == "completeThrough" && f["number"] == 5));
        assert_eq!(schema["enums"]["coe.cybercrime.v1.StateStatus"]["1"], "STATE_STATUS_PARTY");
    }

    #[test]
    fn unknown_paths_are_404_and_every_answer_has_the_policy() {
        for (path, status) in [("/", 200), ("/app.js", 200), ("/style.css", 200), ("/schema.json", 200), ("/x", 404)] {
            let r = answer(&http::Method::GET, path);
            assert_eq!(r.status().as_u16(), status, "{path}");
            assert_eq!(r.headers()[http::header::CONTENT_SECURITY_POLICY], CSP);
        }
    }
}
