//! What one client can hold of the server: connections that never start (silent, half a preface, half a TLS
//! ClientHello, a TLS handshake and no preface) are closed after the handshake timeout, and those beyond
//! `--max-connections` at once; running out of file descriptors is logged and passes; a
//! connection that stalls after its preface is closed by HTTP/2 keepalive; watch streams are bounded per
//! connection and per principal and end after their lifetime, resumably; health Watch streams count with them;
//! reflection needs a token when reads do; a costly filter is answered a budget at a time, and paging through
//! it gives exactly the activities of an unbounded scan.

#![allow(clippy::print_stderr)] // the figures are printed for RELIABILITY.md

use std::time::{Duration, Instant};

use e2e_tests::{TestServer, api, builders, with_token};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use tokio_stream::StreamExt;
use tonic::{Code, transport::Channel};

use api::{activity_service_client::ActivityServiceClient, treaty_service_client::TreatyServiceClient};
use grpc_server::pb_health::{HealthCheckRequest, health_client::HealthClient};

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Reads until the server closes the connection (end of file or reset); what it read, and when, or `None`
/// if it was still open after `within`.
async fn closed_by_server(mut s: impl tokio::io::AsyncRead + Unpin, within: Duration) -> Option<(Duration, Vec<u8>)> {
    let started = Instant::now();
    let mut read = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = within.checked_sub(started.elapsed())?;
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some((started.elapsed(), read)),
            Ok(Ok(n)) => read.extend_from_slice(&buf[..n]),
        }
    }
}

async fn get_treaty(ch: Channel) -> Result<api::Treaty, tonic::Status> {
    TreatyServiceClient::new(ch)
        .get_treaty(api::GetTreatyRequest { name: "treaties/185".into() })
        .await
        .map(tonic::Response::into_inner)
}

/// A new connection's call, retried for up to 10 s (while the server's places are taken it is refused).
async fn served_on_a_new_connection(addr: &str) -> Duration {
    let started = Instant::now();
    loop {
        let attempt = async {
            let ch = Channel::from_shared(format!("http://{addr}"))
                .unwrap()
                .connect_timeout(Duration::from_secs(2))
                .timeout(Duration::from_secs(2))
                .connect()
                .await
                .map_err(|e| e.to_string())?;
            get_treaty(ch).await.map_err(|e| e.to_string())
        };
        match attempt.await {
            Ok(t) => {
                assert_eq!(t.name, "treaties/185");
                return started.elapsed();
            }
            Err(e) if started.elapsed() < Duration::from_secs(10) => {
                eprintln!("connections: a new client was refused ({e}); retrying");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("no new client was served within 10 s: {e}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_that_never_start_are_closed_and_surplus_ones_refused_while_clients_are_served() {
    let server = TestServer::builder().args(&["--max-connections", "40", "--handshake-timeout-ms", "1000"]).start();
    let ch = server.channel().await;
    get_treaty(ch.clone()).await.expect("served");

    // 30 connections that never complete their start: silent, half the preface, or the preface and a SETTINGS
    // frame header announcing 16 KiB that never come.
    let mut stalled = tokio::task::JoinSet::new();
    for i in 0..30 {
        let mut s = TcpStream::connect(&server.addr).await.expect("connect");
        match i % 3 {
            0 => {}
            1 => s.write_all(&PREFACE[..12]).await.unwrap(),
            _ => {
                s.write_all(PREFACE).await.unwrap();
                s.write_all(&[0, 0x40, 0, 4, 0, 0, 0, 0, 0]).await.unwrap();
            }
        }
        stalled.spawn(closed_by_server(s, Duration::from_secs(10)));
    }
    // Meanwhile, a client is served, on its connection and on a new one.
    get_treaty(ch.clone()).await.expect("served while connections stall");
    served_on_a_new_connection(&server.addr).await;
    let mut slowest = Duration::ZERO;
    while let Some(closed) = stalled.join_next().await {
        let (after, _) = closed.unwrap().expect("a stalled connection was still open after 10 s");
        assert!(after >= Duration::from_millis(900), "closed before the handshake timeout: {after:?}");
        slowest = slowest.max(after);
    }
    eprintln!("connections: 30 stalled connections closed by the server, the last after {slowest:?} (timeout 1 s)");

    // 60 silent connections against a limit of 40, one of them the client's: those without a place are closed
    // at once, the others at the handshake timeout; the client's connection is served throughout.
    let mut flood = tokio::task::JoinSet::new();
    for _ in 0..60 {
        let s = TcpStream::connect(&server.addr).await.expect("connect");
        flood.spawn(closed_by_server(s, Duration::from_secs(10)));
    }
    get_treaty(ch.clone()).await.expect("an established client is served while new connections are refused");
    let (mut at_once, mut later) = (0, 0);
    while let Some(closed) = flood.join_next().await {
        let (after, _) = closed.unwrap().expect("a silent connection was still open after 10 s");
        if after < Duration::from_millis(900) { at_once += 1 } else { later += 1 }
    }
    eprintln!("connections: of 60 silent connections, {at_once} refused at once, {later} closed at the timeout");
    assert!(at_once >= 21, "{at_once} refused at once, {later} later");
    assert!(later <= 39, "{at_once} refused at once, {later} later");
    let took = served_on_a_new_connection(&server.addr).await;
    eprintln!("connections: a new client served {took:?} after the flood");
    let log = server.log();
    assert!(log.contains("the most connections this server keeps are open"), "{log}");
    assert_eq!(log.matches("the most connections this server keeps are open").count(), 1, "rate-limited: {log}");
}

/// The frame types in what the server sent.
fn frame_types(mut bytes: &[u8]) -> Vec<(u8, u8)> {
    let mut types = Vec::new();
    while bytes.len() >= 9 {
        let len = u32::from_be_bytes([0, bytes[0], bytes[1], bytes[2]]) as usize;
        types.push((bytes[3], bytes[4]));
        bytes = bytes.get(9 + len..).unwrap_or_default();
    }
    types
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_stalls_after_its_preface_is_closed_by_keepalive() {
    let server = TestServer::builder()
        .args(&["--keepalive-interval-ms", "500", "--keepalive-timeout-ms", "500", "--handshake-timeout-ms", "60000"])
        .start();
    let mut s = TcpStream::connect(&server.addr).await.expect("connect");
    s.write_all(PREFACE).await.unwrap();
    s.write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0]).await.unwrap(); // SETTINGS, empty
    s.write_all(&[0, 0, 100, 1, 4, 0, 0, 0, 1]).await.unwrap(); // HEADERS announcing 100 bytes...
    s.write_all(&[0; 10]).await.unwrap(); // ...of which 10 come
    let (after, sent) = closed_by_server(s, Duration::from_secs(10)).await.expect("still open after 10 s");
    let types = frame_types(&sent);
    eprintln!("connections: a connection stalled mid-frame closed after {after:?}; the server sent {types:?}");
    assert!(types.contains(&(6, 0)), "the server pinged before closing: {types:?}");
    // A client that answers pings keeps its connection.
    let ch = server.channel().await;
    get_treaty(ch.clone()).await.expect("served");
    tokio::time::sleep(Duration::from_secs(3)).await;
    get_treaty(ch).await.expect("a client answering pings keeps its connection");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_handshakes_that_stall_are_closed() {
    use rcgen::{CertificateParams, KeyPair};
    use tonic::transport::{Certificate, ClientTlsConfig};
    let dir = tempfile::tempdir().unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_owned()]).unwrap().self_signed(&key).unwrap();
    let (cert_path, key_path) = (dir.path().join("server.pem"), dir.path().join("server.key"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    let server = TestServer::builder()
        .args(&[
            "--tls-cert",
            cert_path.to_str().unwrap(),
            "--tls-key",
            key_path.to_str().unwrap(),
            // Long enough for a TLS handshake on a loaded machine, short enough for the test.
            "--handshake-timeout-ms",
            "2000",
        ])
        .start();
    let mut stalled = tokio::task::JoinSet::new();
    for i in 0..20 {
        let mut s = TcpStream::connect(&server.addr).await.expect("connect");
        if i % 2 == 1 {
            // The first 6 bytes of a ClientHello record.
            s.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01]).await.unwrap();
        }
        stalled.spawn(closed_by_server(s, Duration::from_secs(10)));
    }
    // 10 that complete the TLS handshake (ALPN h2), then send nothing, or half the HTTP/2 preface, inside it.
    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    roots.add(cert.der().clone()).unwrap();
    let mut client = tokio_rustls::rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth();
    client.alpn_protocols = vec![b"h2".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(client));
    for i in 0..10 {
        let tcp = TcpStream::connect(&server.addr).await.expect("connect");
        let name = tokio_rustls::rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let mut s = connector.connect(name, tcp).await.expect("a TLS handshake");
        assert_eq!(s.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
        if i % 2 == 1 {
            s.write_all(&PREFACE[..12]).await.unwrap();
            s.flush().await.unwrap();
        }
        stalled.spawn(closed_by_server(s, Duration::from_secs(10)));
    }
    let tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(cert.pem())).domain_name("localhost");
    let ch = Channel::from_shared(format!("https://{}", server.addr)).unwrap().tls_config(tls).unwrap();
    get_treaty(ch.connect().await.expect("a TLS client connects while handshakes stall"))
        .await
        .expect("a TLS client is served while handshakes stall");
    let mut slowest = Duration::ZERO;
    while let Some(closed) = stalled.join_next().await {
        let (after, _) = closed.unwrap().expect("a stalled TLS connection was still open after 10 s");
        slowest = slowest.max(after);
    }
    eprintln!(
        "connections: 20 stalled TLS handshakes and 10 TLS connections without a preface closed, the last after \
         {slowest:?} (timeout 2 s)"
    );
}

async fn watch(
    ch: Channel,
    token: Option<&str>,
    after_sequence: i64,
) -> Result<tonic::Streaming<api::TreatyActionEvent>, tonic::Status> {
    let request = api::WatchTreatyActionsRequest { treaty: String::new(), after_sequence };
    let request = match token {
        Some(t) => with_token(request, t),
        None => tonic::Request::new(request),
    };
    TreatyServiceClient::new(ch).watch_treaty_actions(request).await.map(tonic::Response::into_inner)
}

async fn new_channel(addr: &str) -> Channel {
    Channel::from_shared(format!("http://{addr}")).unwrap().connect().await.expect("connect")
}

/// Records the ratification of ETS 185 by `country`.
async fn ratify(ch: Channel, country: &str, day: u32) -> api::TreatyAction {
    TreatyServiceClient::new(ch)
        .record_treaty_action(with_token(
            api::RecordTreatyActionRequest {
                treaty_action: Some(builders::ratification(country, &format!("2009-04-{day:02}"))),
                request_id: String::new(),
            },
            "editor-token",
        ))
        .await
        .expect("a ratification")
        .into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_cannot_take_every_watch_stream() {
    let server = TestServer::builder()
        .args(&["--max-watchers", "100", "--max-watchers-per-connection", "4", "--max-watchers-per-principal", "6"])
        .start();
    // One connection opens more than its share.
    let hog = new_channel(&server.addr).await;
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(watch(hog.clone(), None, 0).await.expect("a watcher within the connection's share"));
    }
    let refused = watch(hog.clone(), None, 0).await.expect_err("a fifth watcher on one connection");
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert!(refused.message().contains("4 watch streams are open on this connection"), "{}", refused.message());
    // A watcher on another connection is served, and gets what is recorded.
    let other = new_channel(&server.addr).await;
    let mut reader = watch(other.clone(), None, 0).await.expect("a watcher on another connection");
    let country = e2e_tests::ets185_signatories(other.clone()).await.remove(0);
    ratify(other.clone(), &country, 1).await;
    let event = tokio::time::timeout(Duration::from_secs(5), reader.next()).await.expect("in time").unwrap().unwrap();
    assert_eq!(event.treaty_action.unwrap().country, country);
    // Anonymous callers from one address share a principal's share (6): a health Watch counts too.
    let mut health = HealthClient::new(other.clone())
        .watch(HealthCheckRequest { service: String::new() })
        .await
        .expect("a health watcher within the share")
        .into_inner();
    assert!(health.next().await.unwrap().is_ok(), "the health watcher gets the status");
    let third = new_channel(&server.addr).await;
    let refused = watch(third.clone(), None, 0).await.expect_err("a seventh anonymous watcher");
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert!(
        refused.message().contains("6 watch streams are open for anonymous callers from 127.0.0.1"),
        "{}",
        refused.message()
    );
    let refused = HealthClient::new(third.clone())
        .watch(HealthCheckRequest { service: String::new() })
        .await
        .expect_err("a health watcher beyond the share");
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    // Health Check stays open for probes; a named principal has a share of its own.
    let check = HealthClient::new(third.clone()).check(HealthCheckRequest { service: String::new() }).await;
    assert!(check.is_ok(), "{check:?}");
    let _named = watch(third.clone(), Some("reader-token"), 0).await.expect("a reader's own share");
    // A watcher that goes away gives its place back.
    drop(health);
    let started = Instant::now();
    loop {
        match watch(third.clone(), None, 0).await {
            Ok(s) => {
                held.push(s);
                break;
            }
            Err(e) if e.code() == Code::ResourceExhausted && started.elapsed() < Duration::from_secs(10) => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Err(e) => panic!("the place of a health watcher that went away was not given back: {e:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_stream_ends_after_its_lifetime_and_resumes_without_a_gap() {
    let server = TestServer::builder().args(&["--max-watch-lifetime-secs", "2"]).start();
    let ch = server.channel().await;
    let countries = e2e_tests::ets185_signatories(ch.clone()).await;
    let started = Instant::now();
    let mut stream = watch(ch.clone(), None, 0).await.expect("a watcher");
    ratify(ch.clone(), &countries[0], 1).await;
    let first = stream.next().await.expect("an event").expect("an event, not an error");
    assert_eq!(first.treaty_action.as_ref().unwrap().country, countries[0]);
    let ended = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("the stream ended within 10 s")
        .expect("an answer")
        .expect_err("the stream ends with a status");
    let lived = started.elapsed();
    eprintln!("connections: a watch stream with a 2 s lifetime ended after {lived:?}: {}", ended.message());
    assert!(lived >= Duration::from_secs(2), "{lived:?}");
    assert_eq!(ended.code(), Code::Unavailable, "{ended:?}");
    use tonic_types::StatusExt;
    let info = ended.get_error_details().error_info().cloned().expect("ErrorInfo");
    assert_eq!(info.reason, "WATCH_EXPIRED");
    let last: i64 = info.metadata["last_sequence"].parse().unwrap();
    assert_eq!(last, first.sequence);
    // Recorded while no stream was open: a stream resumed from `last_sequence` gets it, and only it, first.
    ratify(ch.clone(), &countries[1], 2).await;
    let mut resumed = watch(ch.clone(), None, last).await.expect("a resumed watcher");
    ratify(ch.clone(), &countries[2], 3).await;
    let mut got = Vec::new();
    for _ in 0..2 {
        let e = tokio::time::timeout(Duration::from_secs(5), resumed.next()).await.expect("in time").unwrap().unwrap();
        got.push((e.sequence, e.treaty_action.unwrap().country));
    }
    assert_eq!(
        got.iter().map(|(_, c)| c.clone()).collect::<Vec<_>>(),
        vec![countries[1].clone(), countries[2].clone()]
    );
    assert!(got[0].0 > last && got[1].0 > got[0].0, "{got:?}");
    let bad = watch(ch, None, -1).await.expect_err("a negative sequence");
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(bad.message().contains("after_sequence"), "{}", bad.message());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflection_needs_a_token_when_reads_do_and_health_check_does_not() {
    use tonic_reflection::pb::v1::{
        ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
    };
    let server = TestServer::builder().require_token_for_reads().start();
    let ch = server.channel().await;
    let list = |token: Option<&'static str>| {
        let ch = ch.clone();
        async move {
            let request = ServerReflectionRequest {
                host: String::new(),
                message_request: Some(MessageRequest::ListServices(String::new())),
            };
            let mut request = tonic::Request::new(tokio_stream::iter(vec![request]));
            if let Some(t) = token {
                request.metadata_mut().insert("authorization", format!("Bearer {t}").parse().unwrap());
            }
            let mut answers = ServerReflectionClient::new(ch).server_reflection_info(request).await?.into_inner();
            let answer = answers.message().await?.expect("an answer");
            match answer.message_response {
                Some(MessageResponse::ListServicesResponse(l)) => {
                    Ok::<Vec<String>, tonic::Status>(l.service.into_iter().map(|s| s.name).collect())
                }
                other => panic!("{other:?}"),
            }
        }
    };
    let refused = list(None).await.expect_err("reflection without a token");
    assert_eq!(refused.code(), Code::Unauthenticated, "{refused:?}");
    let services = list(Some("reader-token")).await.expect("reflection with a reader's token");
    assert!(services.contains(&"coe.cybercrime.v1.TreatyService".to_owned()), "{services:?}");
    let check = server.health().await.expect("health Check without a token");
    assert_eq!(check, grpc_server::pb_health::health_check_response::ServingStatus::Serving);
    // grpcurl, when there is one, sees the same.
    if let Some(grpcurl) = e2e_tests::grpcurl() {
        let out = std::process::Command::new(&grpcurl).args(["-plaintext", &server.addr, "list"]).output().unwrap();
        assert!(!out.status.success(), "grpcurl list without a token: {out:?}");
        let out = std::process::Command::new(&grpcurl)
            .args(["-plaintext", "-H", "authorization: Bearer reader-token", &server.addr, "list"])
            .output()
            .unwrap();
        assert!(String::from_utf8_lossy(&out.stdout).contains("coe.cybercrime.v1.TreatyService"), "{out:?}");
    }
    // Without --require-token-for-reads, reflection stays open.
    let open = TestServer::start();
    let services = {
        let ch = open.channel().await;
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut answers = ServerReflectionClient::new(ch)
            .server_reflection_info(tokio_stream::iter(vec![request]))
            .await
            .expect("open reflection")
            .into_inner();
        answers.message().await.unwrap().unwrap()
    };
    assert!(matches!(services.message_response, Some(MessageResponse::ListServicesResponse(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_costly_filter_is_paged_within_a_budget_and_gives_what_an_unbounded_scan_gives() {
    let server = TestServer::start();
    let ch = server.channel().await;
    // 1,200 activities more, one in three of them completed.
    let mut writers = tokio::task::JoinSet::new();
    for w in 0..8 {
        let ch = ch.clone();
        writers.spawn(async move {
            let mut client = ActivityServiceClient::new(ch);
            for i in 0..150 {
                let n = w * 150 + i;
                let activity = api::Activity {
                    name: format!("activities/load-{n:05}"),
                    title: format!("Activity {n}"),
                    start: Some(api::ApproxDate { text: "2008-03".into(), ..Default::default() }),
                    kind: api::ActivityKind::Workshop as i32,
                    status: if n % 3 == 0 { api::ActivityStatus::Completed } else { api::ActivityStatus::Pipeline }
                        as i32,
                    outputs: vec![1],
                    sources: vec![api::Citation { document: "report-2007-11".into(), locator: String::new() }],
                    ..Default::default()
                };
                client
                    .create_activity(with_token(
                        api::CreateActivityRequest {
                            activity: Some(activity),
                            request_id: String::new(),
                            ..Default::default()
                        },
                        "editor-token",
                    ))
                    .await
                    .expect("an activity");
            }
        });
    }
    while let Some(w) = writers.join_next().await {
        w.unwrap();
    }
    let list = |filter: String, size: i32| {
        let ch = ch.clone();
        async move {
            let mut client = ActivityServiceClient::new(ch);
            let (mut names, mut pages, mut short) = (Vec::new(), 0, 0);
            let mut token = String::new();
            loop {
                let p = client
                    .list_activities(api::ListActivitiesRequest {
                        page_size: size,
                        page_token: token,
                        filter: filter.clone(),
                        ..Default::default()
                    })
                    .await
                    .expect("a page")
                    .into_inner();
                pages += 1;
                if (p.activities.len() as i32) < size && !p.next_page_token.is_empty() {
                    short += 1;
                }
                names.extend(p.activities.into_iter().map(|a| a.name));
                if p.next_page_token.is_empty() {
                    return (names, pages, short);
                }
                token = p.next_page_token;
            }
        }
    };
    // One comparison: within the budget, one page.
    let (expected, pages, short) = list("status = \"COMPLETED\"".into(), 1000).await;
    assert_eq!((pages, short), (1, 0));
    assert!(expected.len() > 400, "{}", expected.len());
    // The same, with 100 comparisons that never hold: the walk is cut into short pages, and paging on gives
    // exactly the same activities.
    let costly = format!("status = \"COMPLETED\"{}", " OR start > \"9999\"".repeat(100));
    assert!(costly.len() <= 2048, "{}", costly.len());
    let (got, pages, short) = list(costly.clone(), 1000).await;
    eprintln!(
        "connections: a filter of 101 comparisons over {} activities: {pages} pages, {short} short",
        expected.len() * 3
    );
    assert!(short >= 1, "the budget cut the walk: {pages} pages");
    assert_eq!(got, expected);
    let (got, _, _) = list(costly.clone(), 7).await;
    assert_eq!(got, expected, "in pages of 7");

    // Point reads while 4 clients loop on the costly filter: figures for RELIABILITY.md.
    let latencies = |n: usize| {
        let ch = ch.clone();
        async move {
            let mut l = Vec::new();
            for _ in 0..n {
                let t = Instant::now();
                get_treaty(ch.clone()).await.unwrap();
                l.push(t.elapsed());
            }
            l.sort();
            l
        }
    };
    let quiet = latencies(200).await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut loops = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let (ch, stop, costly) = (new_channel(&server.addr).await, stop.clone(), costly.clone());
        loops.spawn(async move {
            let mut client = ActivityServiceClient::new(ch);
            let mut calls = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                client
                    .list_activities(api::ListActivitiesRequest {
                        filter: costly.clone(),
                        page_size: 1000,
                        ..Default::default()
                    })
                    .await
                    .unwrap();
                calls += 1;
            }
            calls
        });
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let busy = latencies(200).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut calls = 0;
    while let Some(n) = loops.join_next().await {
        calls += n.unwrap();
    }
    let p = |l: &[Duration], q: f64| l[((l.len() - 1) as f64 * q) as usize];
    eprintln!(
        "connections: GetTreaty p50 {:?} p95 {:?} max {:?} alone; p50 {:?} p95 {:?} max {:?} beside 4 loops of the costly filter ({calls} calls)",
        p(&quiet, 0.5),
        p(&quiet, 0.95),
        quiet[quiet.len() - 1],
        p(&busy, 0.5),
        p(&busy, 0.95),
        busy[busy.len() - 1]
    );
    assert!(p(&busy, 0.5) < Duration::from_secs(1), "GetTreaty p50 {:?}", p(&busy, 0.5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_out_of_file_descriptors_is_logged_and_the_server_recovers() {
    // The server under a limit of 64 open files (soft and hard, so it cannot raise it), with a connection limit
    // above that: accepting fails with EMFILE until the handshake timeout frees descriptors.
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("server.log");
    let store = format!("sqlite://{}", dir.path().join("store.sqlite").display());
    let mut child = std::process::Command::new("sh")
        .args([
            "-c",
            "ulimit -n 64 && exec \"$0\" serve --addr 127.0.0.1:0 --store \"$1\" --max-connections 1000 \
             --handshake-timeout-ms 1000",
        ])
        .arg(e2e_tests::binary())
        .arg(&store)
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .expect("start cybercrime under a file limit");
    let mut first = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut first).unwrap();
    let addr = first.trim().strip_prefix("cybercrime: serving on ").unwrap_or_else(|| {
        panic!("the server did not start: {first:?}\n{}", std::fs::read_to_string(&log_path).unwrap_or_default())
    });
    let addr = addr.to_owned();
    let mut stalled = tokio::task::JoinSet::new();
    for _ in 0..100 {
        let s = TcpStream::connect(&addr).await.expect("connect (the kernel's backlog)");
        stalled.spawn(closed_by_server(s, Duration::from_secs(20)));
    }
    let mut slowest = Duration::ZERO;
    while let Some(closed) = stalled.join_next().await {
        let (after, _) = closed.unwrap().expect("a silent connection was still open after 20 s");
        slowest = slowest.max(after);
    }
    let took = served_on_a_new_connection(&addr).await;
    let _ = child.kill();
    let _ = child.wait();
    let log = std::fs::read_to_string(&log_path).unwrap();
    eprintln!(
        "connections: under 64 open files, 100 silent connections all closed after {slowest:?}; a new client served {took:?} after"
    );
    assert!(log.contains("cannot accept connections"), "the accept errors are logged: {log}");
    assert!(log.contains("os error 24"), "EMFILE, as the limit makes it: {log}");
    assert!(!log.contains("panicked"), "{log}");
}
