//! How clients reach the server, end to end against the real binary: gzip and zstd compression (tonic client),
//! grpc-web (binary and base64 text) over HTTP/1.1 with a hand-made hyper client, CORS, the HTTP/1.1 connection
//! limits, the request timeout as DEADLINE_EXCEEDED, metrics scraped while calls are made, the W3C `traceparent`
//! in the log lines, and a log without terminal escapes.

use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use e2e_tests::{TestServer, api, builders, date, with_token};
use http_body_util::{BodyExt, Full};
use prost::Message;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::{Code, codec::CompressionEncoding};
use tonic_types::StatusExt;

fn status_request() -> api::GetTreatyStatusRequest {
    api::GetTreatyStatusRequest { name: "treaties/185".into(), as_of: Some(date(2007, 11, 30)), ..Default::default() }
}

// ---- Compression ----

#[tokio::test]
async fn gzip_and_zstd_are_accepted_on_requests_and_sent_on_answers() {
    let server = TestServer::start();
    for encoding in [CompressionEncoding::Gzip, CompressionEncoding::Zstd] {
        let name = format!("{encoding:?}").to_lowercase();
        let mut treaties = api::treaty_service_client::TreatyServiceClient::new(server.channel().await)
            .send_compressed(encoding)
            .accept_compressed(encoding);
        // An answer encoded once (encoded.rs) and one built by the generated server: both compressed.
        let status = treaties.get_treaty_status(status_request()).await.unwrap();
        assert_eq!(
            status.metadata().get("grpc-encoding").map(|v| v.to_str().unwrap().to_owned()),
            Some(name.clone()),
            "GetTreatyStatus answered in {name}"
        );
        assert_eq!(builders::group_counts(status.get_ref()), builders::ets185_on_2007_11_30());
        let treaty = treaties.get_treaty(api::GetTreatyRequest { name: "treaties/185".into() }).await.unwrap();
        assert_eq!(treaty.metadata().get("grpc-encoding").map(|v| v.to_str().unwrap()), Some(name.as_str()));
        assert_eq!(treaty.get_ref().name, "treaties/185");
        let mut activities = api::activity_service_client::ActivityServiceClient::new(server.channel().await)
            .send_compressed(encoding)
            .accept_compressed(encoding);
        let page = activities
            .list_activities(api::ListActivitiesRequest { page_size: 5, ..Default::default() })
            .await
            .unwrap();
        assert_eq!(page.metadata().get("grpc-encoding").map(|v| v.to_str().unwrap()), Some(name.as_str()));
        assert_eq!(page.get_ref().activities.len(), 5);
    }
    // Health checks and reflection too: a client compressing on its channel compresses those calls as well.
    let mut health = grpc_server::pb_health::health_client::HealthClient::new(server.channel().await)
        .send_compressed(CompressionEncoding::Gzip)
        .accept_compressed(CompressionEncoding::Gzip);
    let check = health.check(grpc_server::pb_health::HealthCheckRequest { service: String::new() }).await.unwrap();
    assert_eq!(check.metadata().get("grpc-encoding").map(|v| v.to_str().unwrap()), Some("gzip"));
    let mut reflection =
        tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient::new(server.channel().await)
            .send_compressed(CompressionEncoding::Zstd)
            .accept_compressed(CompressionEncoding::Zstd);
    let request = tonic_reflection::pb::v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(tonic_reflection::pb::v1::server_reflection_request::MessageRequest::ListServices(
            String::new(),
        )),
    };
    let mut answers =
        reflection.server_reflection_info(tokio_stream::iter(vec![request])).await.expect("reflection").into_inner();
    assert!(answers.message().await.unwrap().is_some());

    // A client that accepts nothing compressed gets nothing compressed.
    let mut plain = api::treaty_service_client::TreatyServiceClient::new(server.channel().await);
    let status = plain.get_treaty_status(status_request()).await.unwrap();
    assert!(status.metadata().get("grpc-encoding").is_none());
}

// ---- grpc-web over HTTP/1.1 ----

/// An HTTP/1.1 connection to the server (hyper's client, nothing negotiated).
async fn http1(addr: &str) -> hyper::client::conn::http1::SendRequest<Full<Bytes>> {
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp)).await.expect("HTTP/1.1 handshake");
    tokio::spawn(connection);
    sender
}

/// A grpc-web frame of `message`.
fn frame(message: &impl Message) -> Vec<u8> {
    let bytes = message.encode_to_vec();
    let mut frame = vec![0u8];
    frame.extend((bytes.len() as u32).to_be_bytes());
    frame.extend(bytes);
    frame
}

/// A grpc-web POST of `body` to `path`, as `content_type`.
fn web_request(addr: &str, path: &str, content_type: &str, body: Vec<u8>) -> http::Request<Full<Bytes>> {
    http::Request::builder()
        .method("POST")
        .uri(format!("http://{addr}{path}"))
        .header("host", addr)
        .header("content-type", content_type)
        // The answer's encoding (binary or base64 text) follows `accept`, as grpc-web clients send it.
        .header("accept", content_type)
        .header("x-grpc-web", "1")
        .body(Full::new(Bytes::from(body)))
        .expect("request")
}

/// Decodes base64 as grpc-web-text sends it: each frame encoded on its own, so padding may come mid-stream.
fn unbase64(text: &[u8]) -> Vec<u8> {
    let text: Vec<u8> = text.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
    assert_eq!(text.len() % 4, 0, "base64 comes in groups of four: {}", String::from_utf8_lossy(&text));
    text.chunks(4).flat_map(|group| base64::engine::general_purpose::STANDARD.decode(group).expect("base64")).collect()
}

/// The data frames' payloads and the trailers of a grpc-web answer's body.
fn web_frames(body: &[u8]) -> (Vec<Vec<u8>>, String) {
    let (mut messages, mut trailers, mut rest) = (Vec::new(), String::new(), body);
    while !rest.is_empty() {
        assert!(rest.len() >= 5, "a frame header: {rest:?}");
        let len = u32::from_be_bytes([rest[1], rest[2], rest[3], rest[4]]) as usize;
        let payload = rest[5..5 + len].to_vec();
        if rest[0] & 0x80 != 0 {
            trailers.push_str(&String::from_utf8(payload).expect("trailers are text"));
        } else {
            messages.push(payload);
        }
        rest = &rest[5 + len..];
    }
    (messages, trailers)
}

/// Sends a grpc-web request and reads the whole answer: its messages and its trailers (lower-cased).
async fn web_call(
    sender: &mut hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    request: http::Request<Full<Bytes>>,
) -> (http::response::Parts, Vec<Vec<u8>>, String) {
    let text = request.headers()["content-type"].to_str().unwrap().starts_with("application/grpc-web-text");
    sender.ready().await.expect("connection ready");
    let response = sender.send_request(request).await.expect("an answer");
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("the body").to_bytes();
    let body = if text { unbase64(&body) } else { body.to_vec() };
    let (messages, trailers) = web_frames(&body);
    (parts, messages, trailers.to_lowercase())
}

#[tokio::test]
async fn grpc_web_binary_and_text_answer_over_http1_on_the_grpc_port() {
    let server = TestServer::start();
    let mut h1 = http1(&server.addr).await;
    // Binary, an answer encoded once: the status table.
    let (parts, messages, trailers) = web_call(
        &mut h1,
        web_request(
            &server.addr,
            "/coe.cybercrime.v1.TreatyService/GetTreatyStatus",
            "application/grpc-web+proto",
            frame(&status_request()),
        ),
    )
    .await;
    assert_eq!(parts.status, http::StatusCode::OK);
    assert_eq!(parts.version, http::Version::HTTP_11);
    assert!(parts.headers["content-type"].to_str().unwrap().starts_with("application/grpc-web"), "{parts:?}");
    assert!(trailers.contains("grpc-status:0"), "{trailers}");
    let status = api::TreatyStatus::decode(&messages[0][..]).unwrap();
    assert_eq!(builders::group_counts(&status), builders::ets185_on_2007_11_30());

    // Text (base64), on the same connection: a generated server's answer, then a country page (encoded once).
    let body =
        base64::engine::general_purpose::STANDARD.encode(frame(&api::GetTreatyRequest { name: "treaties/185".into() }));
    let (parts, messages, trailers) = web_call(
        &mut h1,
        web_request(
            &server.addr,
            "/coe.cybercrime.v1.TreatyService/GetTreaty",
            "application/grpc-web-text",
            body.into(),
        ),
    )
    .await;
    assert!(parts.headers["content-type"].to_str().unwrap().starts_with("application/grpc-web-text"), "{parts:?}");
    assert!(trailers.contains("grpc-status:0"), "{trailers}");
    assert_eq!(api::Treaty::decode(&messages[0][..]).unwrap().name, "treaties/185");
    let body = base64::engine::general_purpose::STANDARD
        .encode(frame(&api::GetCountryRequest { name: "countries/PH".into(), as_of: Some(date(2007, 11, 30)) }));
    let (_, messages, trailers) = web_call(
        &mut h1,
        web_request(
            &server.addr,
            "/coe.cybercrime.v1.CountryService/GetCountry",
            "application/grpc-web-text",
            body.into(),
        ),
    )
    .await;
    assert!(trailers.contains("grpc-status:0"), "{trailers}");
    assert!(!messages[0].is_empty());

    // An error comes back with its code and message: here trailers-only, in the answer's head, as grpc-web allows.
    let (parts, messages, _) = web_call(
        &mut h1,
        web_request(
            &server.addr,
            "/coe.cybercrime.v1.TreatyService/GetTreaty",
            "application/grpc-web+proto",
            frame(&api::GetTreatyRequest { name: "treaties/999".into() }),
        ),
    )
    .await;
    assert!(messages.is_empty());
    assert_eq!(parts.headers.get("grpc-status").map(|v| v.to_str().unwrap()), Some("5"), "NOT_FOUND: {parts:?}");
    assert!(parts.headers["grpc-message"].to_str().unwrap().contains("treaties/999%20not%20found"), "{parts:?}");

    // Native gRPC on the same port still works.
    let mut native = api::treaty_service_client::TreatyServiceClient::new(server.channel().await);
    let status = native.get_treaty_status(status_request()).await.unwrap().into_inner();
    assert_eq!(builders::group_counts(&status), builders::ets185_on_2007_11_30());
}

#[tokio::test]
async fn grpc_web_answers_over_http2_too() {
    let server = TestServer::start();
    let tcp = tokio::net::TcpStream::connect(&server.addr).await.unwrap();
    let (send, connection) = h2::client::handshake(tcp).await.expect("HTTP/2 handshake");
    tokio::spawn(connection);
    let mut send = send.ready().await.unwrap();
    let head = http::Request::builder()
        .method("POST")
        .uri(format!("http://{}/coe.cybercrime.v1.TreatyService/GetTreatyStatus", server.addr))
        .header("content-type", "application/grpc-web+proto")
        .header("accept", "application/grpc-web+proto")
        .header("x-grpc-web", "1")
        .body(())
        .unwrap();
    let (response, mut stream) = send.send_request(head, false).unwrap();
    stream.send_data(Bytes::from(frame(&status_request())), true).unwrap();
    let response = response.await.unwrap();
    assert_eq!(response.version(), http::Version::HTTP_2);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/grpc-web"));
    let mut body = response.into_body();
    let mut bytes = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.unwrap();
        let _ = body.flow_control().release_capacity(chunk.len());
        bytes.extend_from_slice(&chunk);
    }
    let (messages, trailers) = web_frames(&bytes);
    assert!(trailers.to_lowercase().contains("grpc-status:0"), "{trailers}");
    let status = api::TreatyStatus::decode(&messages[0][..]).unwrap();
    assert_eq!(builders::group_counts(&status), builders::ets185_on_2007_11_30());
}

#[tokio::test]
async fn grpc_web_streams_a_report_and_a_watch_over_http1() {
    let server = TestServer::start();
    // A report: a server-streaming answer, chunk by chunk, to its last chunk.
    let mut h1 = http1(&server.addr).await;
    let request = api::GenerateProgressReportRequest {
        as_of: Some(date(2007, 11, 30)),
        period_start: Some(date(2006, 9, 1)),
        period_end: None,
        format: api::ReportFormat::Markdown as i32,
    };
    let (_, messages, trailers) = web_call(
        &mut h1,
        web_request(
            &server.addr,
            "/coe.cybercrime.v1.ReportService/GenerateProgressReport",
            "application/grpc-web+proto",
            frame(&request),
        ),
    )
    .await;
    assert!(trailers.contains("grpc-status:0"), "{trailers}");
    let chunks: Vec<api::ReportChunk> = messages.iter().map(|m| api::ReportChunk::decode(&m[..]).unwrap()).collect();
    assert!(chunks.last().unwrap().last, "the stream ends with the last chunk");
    let document: Vec<u8> = chunks.iter().flat_map(|c| c.data.clone()).collect();
    assert!(String::from_utf8(document).unwrap().contains("Albania"));

    // A watch: the event of an action recorded meanwhile arrives on the open HTTP/1.1 response.
    let mut h1 = http1(&server.addr).await;
    let watch = api::WatchTreatyActionsRequest { treaty: "treaties/185".into(), ..Default::default() };
    h1.ready().await.unwrap();
    let response = h1
        .send_request(web_request(
            &server.addr,
            "/coe.cybercrime.v1.TreatyService/WatchTreatyActions",
            "application/grpc-web+proto",
            frame(&watch),
        ))
        .await
        .expect("the watch's head");
    assert_eq!(response.status(), http::StatusCode::OK);
    let mut body = response.into_body();
    let recorder = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut treaties = api::treaty_service_client::TreatyServiceClient::new(server.channel().await);
        treaties
            .record_treaty_action(with_token(
                api::RecordTreatyActionRequest {
                    treaty_action: Some(builders::ratification("countries/DE", "2009-03-09")),
                    request_id: String::new(),
                },
                "editor-token",
            ))
            .await
            .expect("recorded");
    };
    let reader = async {
        let mut bytes = Vec::new();
        loop {
            let frame = body.frame().await.expect("the watch stays open").expect("a frame");
            if let Ok(data) = frame.into_data() {
                bytes.extend_from_slice(&data);
            }
            if bytes.len() >= 5 {
                let len = u32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]) as usize;
                if bytes.len() >= 5 + len {
                    assert_eq!(bytes[0], 0, "a message, not the trailers: {bytes:?}");
                    return api::TreatyActionEvent::decode(&bytes[5..5 + len]).expect("an event");
                }
            }
        }
    };
    let ((), event) = tokio::time::timeout(Duration::from_secs(20), async { tokio::join!(recorder, reader) })
        .await
        .expect("the event within 20 s");
    assert_eq!(event.treaty_action.unwrap().country, "countries/DE");
}

#[tokio::test]
async fn cors_allows_the_configured_origins_only_and_exposes_the_grpc_headers() {
    let allowed = "https://partner.example";
    let server = TestServer::builder().args(&["--cors-origin", allowed]).start();
    let preflight = |origin: &str| {
        http::Request::builder()
            .method("OPTIONS")
            .uri(format!("http://{}/coe.cybercrime.v1.TreatyService/GetTreatyStatus", server.addr))
            .header("host", &server.addr)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type,x-grpc-web,authorization,traceparent")
            .body(Full::new(Bytes::new()))
            .unwrap()
    };
    let mut h1 = http1(&server.addr).await;
    h1.ready().await.unwrap();
    let answer = h1.send_request(preflight(allowed)).await.unwrap();
    assert!(answer.status().is_success(), "{answer:?}");
    let header = |r: &http::Response<hyper::body::Incoming>, name: &str| {
        r.headers().get(name).map(|v| v.to_str().unwrap().to_lowercase()).unwrap_or_default()
    };
    assert_eq!(header(&answer, "access-control-allow-origin"), allowed);
    assert!(header(&answer, "access-control-allow-methods").contains("post"), "{answer:?}");
    for h in ["content-type", "x-grpc-web", "authorization", "traceparent"] {
        assert!(header(&answer, "access-control-allow-headers").contains(h), "{h}: {answer:?}");
    }
    let _ = answer.into_body().collect().await;
    // Another origin is not allowed: no allow-origin header, so a browser refuses the call.
    h1.ready().await.unwrap();
    let answer = h1.send_request(preflight("https://elsewhere.example")).await.unwrap();
    assert_eq!(header(&answer, "access-control-allow-origin"), "");
    let _ = answer.into_body().collect().await;
    // The call itself, from the allowed origin: the gRPC headers a browser must read are exposed.
    let mut request = web_request(
        &server.addr,
        "/coe.cybercrime.v1.TreatyService/GetTreaty",
        "application/grpc-web+proto",
        frame(&api::GetTreatyRequest { name: "treaties/185".into() }),
    );
    request.headers_mut().insert("origin", allowed.parse().unwrap());
    let (parts, _, trailers) = web_call(&mut h1, request).await;
    assert!(trailers.contains("grpc-status:0"), "{trailers}");
    let exposed = parts.headers["access-control-expose-headers"].to_str().unwrap().to_lowercase();
    for h in ["grpc-status", "grpc-message", "grpc-status-details-bin"] {
        assert!(exposed.contains(h), "{h} exposed: {exposed}");
    }
    let vary: Vec<&str> = parts.headers.get_all("vary").iter().map(|v| v.to_str().unwrap()).collect();
    assert!(vary.iter().any(|v| v.to_lowercase().contains("origin")), "the answer varies by origin: {vary:?}");
    // The same call without an Origin (not a browser's: gRPC clients send none) passes CORS by: its answer carries
    // no CORS header at all.
    let request = web_request(
        &server.addr,
        "/coe.cybercrime.v1.TreatyService/GetTreaty",
        "application/grpc-web+proto",
        frame(&api::GetTreatyRequest { name: "treaties/185".into() }),
    );
    let (parts, _, trailers) = web_call(&mut h1, request).await;
    assert!(trailers.contains("grpc-status:0"), "{trailers}");
    let cors: Vec<&str> = parts
        .headers
        .keys()
        .map(http::HeaderName::as_str)
        .filter(|k| k.starts_with("access-control-") || *k == "vary")
        .collect();
    assert!(cors.is_empty(), "no CORS header without an Origin: {cors:?}");

    // Without --cors-origin, no origin is allowed.
    let closed = TestServer::start();
    let mut h1 = http1(&closed.addr).await;
    h1.ready().await.unwrap();
    let answer = h1
        .send_request(
            http::Request::builder()
                .method("OPTIONS")
                .uri(format!("http://{}/coe.cybercrime.v1.TreatyService/GetTreaty", closed.addr))
                .header("host", &closed.addr)
                .header("origin", allowed)
                .header("access-control-request-method", "POST")
                .body(Full::new(Bytes::new()))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(header(&answer, "access-control-allow-origin"), "");
}

#[tokio::test]
async fn an_http1_connection_is_held_to_the_handshake_timeout_until_its_first_request_head() {
    let server = TestServer::builder().args(&["--handshake-timeout-ms", "300"]).start();
    // A head never finished: the connection is closed after the handshake timeout.
    let mut stalled = tokio::net::TcpStream::connect(&server.addr).await.unwrap();
    stalled.write_all(b"POST /coe.cybercrime.v1.TreatyService/GetTreaty HTTP/1.1\r\nhost: x\r\n").await.unwrap();
    let mut buf = [0u8; 256];
    let read = tokio::time::timeout(Duration::from_secs(10), stalled.read(&mut buf)).await.expect("closed in time");
    assert!(matches!(read, Ok(0) | Err(_)), "closed without an answer: {read:?}");
    // A connection whose first request came in time is not cut later: a second request after the timeout works.
    let mut h1 = http1(&server.addr).await;
    let get_treaty = || {
        web_request(
            &server.addr,
            "/coe.cybercrime.v1.TreatyService/GetTreaty",
            "application/grpc-web+proto",
            frame(&api::GetTreatyRequest { name: "treaties/185".into() }),
        )
    };
    let (_, _, trailers) = web_call(&mut h1, get_treaty()).await;
    assert!(trailers.contains("grpc-status:0"), "{trailers}");
    tokio::time::sleep(Duration::from_millis(800)).await;
    let (_, _, trailers) = web_call(&mut h1, get_treaty()).await;
    assert!(trailers.contains("grpc-status:0"), "{trailers}");
}

// ---- The request timeout ----

#[tokio::test]
async fn the_servers_own_timeout_is_deadline_exceeded_with_its_reason() {
    // A report takes far longer to generate than a millisecond.
    let server = TestServer::builder().args(&["--request-timeout-ms", "1"]).start();
    let mut reports = api::report_service_client::ReportServiceClient::new(server.channel().await);
    let err = reports
        .generate_progress_report(api::GenerateProgressReportRequest {
            as_of: Some(date(2007, 11, 30)),
            period_start: Some(date(2006, 9, 1)),
            period_end: None,
            format: api::ReportFormat::Html as i32,
        })
        .await
        .expect_err("timed out");
    assert_eq!(err.code(), Code::DeadlineExceeded, "{err:?}");
    assert!(err.message().contains("request timeout"), "{}", err.message());
    let info = err.get_error_details().error_info().cloned().expect("ErrorInfo");
    assert_eq!(info.reason, "REQUEST_TIMEOUT");
    assert_eq!(info.metadata.get("timeout_ms").map(String::as_str), Some("1"));
    let timed_out = |log: &str| {
        access_lines(log).iter().any(|l| l.contains("GenerateProgressReport") && l.contains("DeadlineExceeded"))
    };
    let log = log_when(&server, timed_out).await;
    assert!(timed_out(&log), "the timed-out call has its access line:\n{log}");
    // The same over grpc-web on HTTP/1.1: the timeout holds there too.
    let mut h1 = http1(&server.addr).await;
    let request = api::GenerateProgressReportRequest {
        as_of: Some(date(2007, 11, 30)),
        period_start: Some(date(2006, 9, 1)),
        period_end: None,
        format: api::ReportFormat::Html as i32,
    };
    let (parts, messages, trailers) = web_call(
        &mut h1,
        web_request(
            &server.addr,
            "/coe.cybercrime.v1.ReportService/GenerateProgressReport",
            "application/grpc-web+proto",
            frame(&request),
        ),
    )
    .await;
    assert!(messages.is_empty());
    let code = parts.headers.get("grpc-status").map(|v| v.to_str().unwrap().to_owned());
    assert!(
        code.as_deref() == Some("4") || trailers.contains("grpc-status:4"),
        "DEADLINE_EXCEEDED: {parts:?} {trailers}"
    );
}

// ---- Metrics ----

/// The server's log once `ready` holds of it (or after 10 s): its stderr reaches the log file a moment after it is
/// written.
async fn log_when(server: &TestServer, ready: impl Fn(&str) -> bool) -> String {
    for _ in 0..100 {
        let log = server.log();
        if ready(&log) {
            return log;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.log()
}

/// The access lines (target `cybercrime::request`) of a log.
fn access_lines(log: &str) -> Vec<&str> {
    log.lines().filter(|l| l.contains("cybercrime::request")).collect()
}

/// The metrics address the server logged at start (its stderr reaches the log file a moment after it is written).
async fn metrics_addr(server: &TestServer) -> String {
    for _ in 0..100 {
        let log = server.log();
        if let Some(at) = log.find("metrics_addr=") {
            return log[at + "metrics_addr=".len()..].split_whitespace().next().unwrap().to_owned();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no metrics address in the log:\n{}", server.log())
}

/// A scrape of `/metrics`.
async fn scrape(addr: &str) -> String {
    let mut h1 = http1(addr).await;
    h1.ready().await.unwrap();
    let answer = h1
        .send_request(
            http::Request::builder()
                .uri(format!("http://{addr}/metrics"))
                .header("host", addr)
                .body(Full::new(Bytes::new()))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(answer.status(), http::StatusCode::OK);
    assert!(answer.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    String::from_utf8(answer.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
}

/// The value of the sample `name{labels}` (labels as the exporter writes them, sorted as given), or 0.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
        .map_or(0.0, |v| v.trim().parse().expect("a number"))
}

#[tokio::test]
async fn metrics_are_scraped_and_move_with_the_calls() {
    let server = TestServer::builder().args(&["--metrics-addr", "127.0.0.1:0"]).start();
    let addr = metrics_addr(&server).await;
    let channel = server.channel().await;
    let mut treaties = api::treaty_service_client::TreatyServiceClient::new(channel.clone());
    treaties.get_treaty(api::GetTreatyRequest { name: "treaties/185".into() }).await.unwrap();
    let before = scrape(&addr).await;
    let ok = r#"cybercrime_requests_total{method="GetTreaty",code="OK"}"#;
    let not_found = r#"cybercrime_requests_total{method="GetTreaty",code="NOT_FOUND"}"#;
    assert_eq!(sample(&before, ok), 1.0, "{before}");
    assert_eq!(sample(&before, "cybercrime_store_up"), 1.0, "{before}");
    assert!(before.contains("cybercrime_requests_in_flight"), "{before}");

    treaties.get_treaty(api::GetTreatyRequest { name: "treaties/185".into() }).await.unwrap();
    treaties.get_treaty(api::GetTreatyRequest { name: "treaties/999".into() }).await.unwrap_err();
    builders::create_activity(&channel, builders::activity("activities/metrics-1"), "").await.unwrap();
    let mut watch = treaties
        .watch_treaty_actions(api::WatchTreatyActionsRequest { treaty: "treaties/185".into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    let after = scrape(&addr).await;
    assert_eq!(sample(&after, ok), 2.0, "{after}");
    assert_eq!(sample(&after, not_found), 1.0, "{after}");
    let latency = r#"cybercrime_request_duration_seconds_count{method="GetTreaty"}"#;
    assert_eq!(sample(&after, latency), 3.0, "{after}");
    assert!(after.contains(r#"cybercrime_request_duration_seconds_bucket{method="GetTreaty",le="0.005"}"#), "{after}");
    assert_eq!(sample(&after, r#"cybercrime_requests_total{method="CreateActivity",code="OK"}"#), 1.0, "{after}");
    assert!(sample(&after, r#"cybercrime_group_commit_writes_count{result="committed"}"#) >= 1.0, "{after}");
    assert!(sample(&after, r#"cybercrime_group_commit_seconds_sum{result="committed"}"#) > 0.0, "{after}");
    assert_eq!(sample(&after, "cybercrime_watch_streams_open"), 1.0, "{after}");
    // The watch ends: the gauge goes down (the server notices the stream's end a moment later).
    drop(watch.message());
    drop(watch);
    let mut open = 1.0;
    for _ in 0..50 {
        open = sample(&scrape(&addr).await, "cybercrime_watch_streams_open");
        if open == 0.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(open, 0.0);
    // Anything but /metrics is not found there.
    let mut h1 = http1(&addr).await;
    h1.ready().await.unwrap();
    let answer = h1
        .send_request(http::Request::builder().uri("/").header("host", &addr).body(Full::new(Bytes::new())).unwrap())
        .await
        .unwrap();
    assert_eq!(answer.status(), http::StatusCode::NOT_FOUND);
}

// ---- Traces and logs ----

#[tokio::test]
async fn a_traceparent_is_carried_into_every_log_line_of_its_request() {
    let server = TestServer::start();
    let mut treaties = api::treaty_service_client::TreatyServiceClient::new(server.channel().await);
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let traced = |name: &str| {
        let mut request = tonic::Request::new(api::GetTreatyRequest { name: name.into() });
        request.metadata_mut().insert("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01").parse().unwrap());
        request
    };
    treaties.get_treaty(traced("treaties/185")).await.unwrap();
    // A refused request logs two lines (the refusal, the access line): both carry the trace.
    treaties.get_treaty(traced("treaties/999")).await.unwrap_err();
    // Without a traceparent a request still has a trace of its own, another one.
    treaties.get_treaty(api::GetTreatyRequest { name: "treaties/189".into() }).await.unwrap();
    let log = log_when(&server, |log| access_lines(log).len() >= 3).await;
    let lines: Vec<&str> = log.lines().filter(|l| l.contains(trace_id)).collect();
    assert!(
        lines.iter().filter(|l| l.contains("cybercrime::request") && l.contains("GetTreaty")).count() == 2,
        "both access lines carry the trace id:\n{log}"
    );
    assert!(lines.iter().any(|l| l.contains("request refused")), "the refusal carries it too:\n{log}");
    assert!(lines.iter().all(|l| l.contains("span_id=")), "{log}");
    assert!(lines.iter().all(|l| !l.contains("span_id=00f067aa0ba902b7")), "the server's span is its own:\n{log}");
    let access_lines = log.lines().filter(|l| l.contains("cybercrime::request")).count();
    assert_eq!(access_lines, 3, "{log}");
    assert!(log.lines().filter(|l| l.contains("cybercrime::request")).all(|l| l.contains("trace_id=")), "{log}");
}

#[tokio::test]
async fn a_span_directive_in_rust_log_filters_on_the_requests_span() {
    // Requests have a `tracing` span only when the log needs one: a span directive needs it. Here info lines are
    // written only within a request's span (the access lines), none outside (the start-up's).
    let server = TestServer::builder().log_filter("warn,[request]=info").start();
    let mut treaties = api::treaty_service_client::TreatyServiceClient::new(server.channel().await);
    treaties.get_treaty(api::GetTreatyRequest { name: "treaties/185".into() }).await.unwrap();
    let log = log_when(&server, |log| !access_lines(log).is_empty()).await;
    let access = access_lines(&log);
    assert_eq!(access.len(), 1, "the call's access line, within its span:\n{log}");
    assert!(access[0].contains(" INFO request{trace_id="), "{log}");
    assert!(log.lines().filter(|l| l.contains(" INFO ")).all(|l| l.contains("request{")), "{log}");
}

#[tokio::test]
async fn the_log_has_no_terminal_escapes_and_the_access_log_has_its_own_level() {
    let server = TestServer::builder().args(&["--access-log-level", "warn"]).start();
    let mut treaties = api::treaty_service_client::TreatyServiceClient::new(server.channel().await);
    treaties.get_treaty(api::GetTreatyRequest { name: "treaties/185".into() }).await.unwrap();
    treaties.get_treaty(api::GetTreatyRequest { name: "treaties/999".into() }).await.unwrap_err();
    log_when(&server, |log| access_lines(log).len() >= 2).await;
    let log = std::fs::read(server.dir().join("server.log")).unwrap();
    assert!(!log.is_empty());
    assert!(!log.contains(&0x1b), "no ESC byte in a log that is not a terminal:\n{}", String::from_utf8_lossy(&log));
    let log = String::from_utf8(log).unwrap();
    let access: Vec<&str> = log.lines().filter(|l| l.contains("cybercrime::request")).collect();
    assert_eq!(access.len(), 2, "{log}");
    assert!(access.iter().all(|l| l.contains(" WARN ")), "{log}");

    let quiet = TestServer::builder().args(&["--access-log-level", "off"]).start();
    let mut treaties = api::treaty_service_client::TreatyServiceClient::new(quiet.channel().await);
    treaties.get_treaty(api::GetTreatyRequest { name: "treaties/185".into() }).await.unwrap();
    // A refusal is logged (at info, by the error mapping) after the call's own line would have been.
    treaties.get_treaty(api::GetTreatyRequest { name: "treaties/999".into() }).await.unwrap_err();
    let log = log_when(&quiet, |log| log.contains("request refused")).await;
    assert!(log.contains("request refused"), "{log}");
    assert!(!log.contains("cybercrime::request"), "{log}");
}

/// A stand-in OpenTelemetry collector (OTLP over gRPC, with the h2 crate): it answers every call with an empty
/// message and keeps the bodies of the trace exports it receives. Returns its URL and what it received.
async fn collector() -> (String, std::sync::Arc<std::sync::Mutex<Vec<u8>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = received.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let kept = kept.clone();
            tokio::spawn(async move {
                let Ok(mut connection) = h2::server::handshake(tcp).await else { return };
                while let Some(Ok((request, mut respond))) = connection.accept().await {
                    let kept = kept.clone();
                    tokio::spawn(async move {
                        let export =
                            request.uri().path() == "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
                        let mut body = request.into_body();
                        let mut bytes = Vec::new();
                        while let Some(Ok(chunk)) = body.data().await {
                            let _ = body.flow_control().release_capacity(chunk.len());
                            bytes.extend_from_slice(&chunk);
                        }
                        if export {
                            kept.lock().unwrap().extend(bytes);
                        }
                        let head =
                            http::Response::builder().header("content-type", "application/grpc").body(()).unwrap();
                        let mut send = respond.send_response(head, false).unwrap();
                        let _ = send.send_data(Bytes::from_static(&[0, 0, 0, 0, 0]), false);
                        let mut trailers = http::HeaderMap::new();
                        trailers.insert("grpc-status", "0".parse().unwrap());
                        let _ = send.send_trailers(trailers);
                    });
                }
            });
        }
    });
    (url, received)
}

/// Bytes from hexadecimal digits.
fn unhex(hex: &str) -> Vec<u8> {
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect()
}

// The server flushes its spans as it stops, while this test waits for it: the collector needs a thread of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_an_otlp_endpoint_the_request_spans_are_exported_with_the_callers_trace() {
    let (url, received) = collector().await;
    let mut server = TestServer::builder().args(&["--otlp-endpoint", &url]).start();
    let mut treaties = api::treaty_service_client::TreatyServiceClient::new(server.channel().await);
    let (trace_id, parent_id) = ("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331");
    let mut request = tonic::Request::new(api::GetTreatyRequest { name: "treaties/185".into() });
    request.metadata_mut().insert("traceparent", format!("00-{trace_id}-{parent_id}-01").parse().unwrap());
    treaties.get_treaty(request).await.unwrap();
    let (_, stopped) = server.terminate();
    assert!(stopped, "the server stopped cleanly:\n{}", server.log());
    let log = log_when(&server, |log| access_lines(log).iter().any(|l| l.contains(trace_id))).await;
    let line = log
        .lines()
        .find(|l| l.contains("cybercrime::request") && l.contains(trace_id))
        .unwrap_or_else(|| panic!("the access line carries the caller's trace id:\n{log}"));
    let at = line.find("span_id=").expect("a span id") + "span_id=".len();
    let span_id = &line[at..at + 16];
    assert_ne!(span_id, parent_id, "the server's span is its own");
    let exported = received.lock().unwrap().clone();
    let has = |bytes: &[u8]| exported.windows(bytes.len()).any(|w| w == bytes);
    assert!(has(&unhex(trace_id)), "the exported span is in the caller's trace ({} bytes received)", exported.len());
    assert!(has(&unhex(parent_id)), "its parent is the caller's span");
    assert!(has(&unhex(span_id)), "its id is the one on the log line");
    assert!(has(b"coe.cybercrime.v1.TreatyService/GetTreaty"), "named after its method");
    assert!(has(b"cybercrime"), "the service's name");
}

#[tokio::test]
async fn grpc_web_answers_over_tls_with_http1_negotiated() {
    use rcgen::{CertificateParams, KeyPair};
    let dir = tempfile::tempdir().unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_owned()]).unwrap().self_signed(&key).unwrap();
    let (cert_path, key_path) = (dir.path().join("server.pem"), dir.path().join("server.key"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    let server = TestServer::builder()
        .args(&["--tls-cert", cert_path.to_str().unwrap(), "--tls-key", key_path.to_str().unwrap()])
        .start();
    // A client that speaks HTTP/1.1 only, as some grpc-web stacks do.
    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    roots.add(cert.der().clone()).unwrap();
    let mut client = tokio_rustls::rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth();
    client.alpn_protocols = vec![b"http/1.1".to_vec()];
    let tcp = tokio::net::TcpStream::connect(&server.addr).await.unwrap();
    let name = tokio_rustls::rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let tls = tokio_rustls::TlsConnector::from(std::sync::Arc::new(client)).connect(name, tcp).await.expect("TLS");
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    let (mut h1, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls)).await.expect("HTTP/1.1");
    tokio::spawn(connection);
    let (parts, messages, trailers) = web_call(
        &mut h1,
        web_request(
            &server.addr,
            "/coe.cybercrime.v1.TreatyService/GetTreatyStatus",
            "application/grpc-web+proto",
            frame(&status_request()),
        ),
    )
    .await;
    assert_eq!(parts.version, http::Version::HTTP_11);
    assert!(trailers.contains("grpc-status:0"), "{trailers}");
    let status = api::TreatyStatus::decode(&messages[0][..]).unwrap();
    assert_eq!(builders::group_counts(&status), builders::ets185_on_2007_11_30());
}
