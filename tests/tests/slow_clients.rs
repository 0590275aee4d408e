//! Slow and stuck clients: watch streams that are never read, a request whose body never comes, connections left
//! open. They hold a bounded amount of the server (a capped number of watch streams, each with at most 16 events
//! queued), do not block other clients, and do not hold up shutdown beyond its bound.

#![allow(clippy::print_stderr)] // the figures (memory held, shutdown time) are printed for RELIABILITY.md

use std::time::{Duration, Instant};

use bytes::Bytes;
use e2e_tests::{TestServer, api, builders::grpc_head, date, with_token};
use tokio_stream::StreamExt;
use tonic::Code;

use api::treaty_service_client::TreatyServiceClient;

const WATCH: &str = "/coe.cybercrime.v1.TreatyService/WatchTreatyActions";
const GET_TREATY: &str = "/coe.cybercrime.v1.TreatyService/GetTreaty";

/// An HTTP/2 connection that grants the server a flow-control window of one byte per stream and never more:
/// whatever the server sends on it stays queued in the server.
async fn stuck_connection(addr: &str) -> (h2::client::SendRequest<Bytes>, tokio::task::JoinHandle<()>) {
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (send, connection) =
        h2::client::Builder::new().initial_window_size(1).handshake(tcp).await.expect("HTTP/2 handshake");
    (send, tokio::spawn(async move { drop(connection.await) }))
}

fn resident_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stuck_clients_hold_bounded_memory_block_no_one_and_do_not_hold_up_shutdown() {
    let mut server = TestServer::builder()
        .args(&[
            "--max-watchers",
            "100",
            // One connection may hold them all here (the shares per connection and principal are tested in
            // connections.rs).
            "--max-watchers-per-connection",
            "100",
            "--max-watchers-per-principal",
            "100",
            "--shutdown-grace-secs",
            "2",
        ])
        .start();
    let ch = server.channel().await;
    let rss_before = resident_kib(server.pid());

    // 90 watch streams on a connection that never reads (and never lets the server send).
    let (stuck, stuck_driver) = stuck_connection(&server.addr).await;
    let mut stuck_streams = Vec::new();
    for _ in 0..90 {
        let mut send = stuck.clone().ready().await.expect("a stream");
        let (response, mut body) = send.send_request(grpc_head(&server.addr, WATCH), false).expect("request");
        body.send_data(Bytes::from_static(&[0, 0, 0, 0, 0]), true).expect("body");
        stuck_streams.push((response, body));
    }
    // A request whose body never comes, on a connection left open.
    let (half, half_driver) = stuck_connection(&server.addr).await;
    let mut half_send = half.clone().ready().await.expect("a stream");
    let (_half_response, _half_body) =
        half_send.send_request(grpc_head(&server.addr, GET_TREATY), false).expect("head");

    // One watcher that reads, and nine more: the server's 100.
    let mut reader = TreatyServiceClient::new(ch.clone())
        .watch_treaty_actions(api::WatchTreatyActionsRequest::default())
        .await
        .expect("a reading watcher")
        .into_inner();
    let mut idle = Vec::new();
    for _ in 0..9 {
        idle.push(
            TreatyServiceClient::new(ch.clone())
                .watch_treaty_actions(api::WatchTreatyActionsRequest::default())
                .await
                .expect("a watcher within the cap"),
        );
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let refused = TreatyServiceClient::new(ch.clone())
        .watch_treaty_actions(api::WatchTreatyActionsRequest::default())
        .await
        .expect_err("a watcher beyond the cap");
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert!(refused.message().contains("100 watch streams are open"), "{}", refused.message());

    // Treaty actions recorded meanwhile reach the reading watcher, in order, and other calls are answered.
    // Sixteen valid actions: signatures of the Protocol ETS 189 by states that signed the Convention and have no
    // action under the Protocol in the data (the data holds too few signatories of ETS 185 without a consent).
    let ds = core_model::Dataset::bundled();
    let has = |code: &str, treaty: u32, kind: core_model::ActionKind| {
        ds.treaty_actions
            .iter()
            .any(|a| a.state.as_str() == code && a.treaty.0 == treaty && (a.kind == kind || treaty == 189))
    };
    let mut recorded: Vec<(String, &str, i32)> = ds
        .states
        .iter()
        .map(|st| st.code.as_str())
        .filter(|c| has(c, 185, core_model::ActionKind::Signature) && !has(c, 189, core_model::ActionKind::Signature))
        .map(|c| (format!("countries/{c}"), "treaties/189", api::ActionKind::Signature as i32))
        .take(16)
        .collect();
    // Topped up with ratifications of ETS 185 by its signatories without a consent.
    let signatories = e2e_tests::ets185_signatories(ch.clone()).await;
    for c in signatories.into_iter().take(16 - recorded.len()) {
        recorded.push((c, "treaties/185", api::ActionKind::Ratification as i32));
    }
    assert_eq!(recorded.len(), 16);
    for (i, (country, treaty, kind)) in recorded.iter().enumerate() {
        TreatyServiceClient::new(ch.clone())
            .record_treaty_action(with_token(
                api::RecordTreatyActionRequest {
                    treaty_action: Some(api::TreatyAction {
                        country: country.clone(),
                        treaty: (*treaty).into(),
                        kind: *kind,
                        date: Some(api::ApproxDate { text: format!("2009-04-{:02}", i + 1), ..Default::default() }),
                        sources: vec![api::Citation { document: "CoE-2015".into(), locator: String::new() }],
                        ..Default::default()
                    }),
                    request_id: String::new(),
                },
                "editor-token",
            ))
            .await
            .expect("a write while clients are stuck");
        let event = tokio::time::timeout(Duration::from_secs(5), reader.next())
            .await
            .expect("the reading watcher is not held up by the stuck ones")
            .expect("an event")
            .expect("an event, not an error");
        assert_eq!(event.treaty_action.expect("action").country, *country);
    }
    let status = TreatyServiceClient::new(ch.clone())
        .get_treaty_status(api::GetTreatyStatusRequest {
            name: "treaties/185".into(),
            as_of: Some(date(2007, 11, 30)),
            ..Default::default()
        })
        .await
        .expect("a read while clients are stuck")
        .into_inner();
    assert_eq!(status.groups[0].count, 21);
    let rss_after = resident_kib(server.pid());
    eprintln!(
        "slow clients: resident memory {:.1} MiB before, {:.1} MiB with 90 stuck watchers behind 16 events",
        rss_before as f64 / 1024.0,
        rss_after as f64 / 1024.0
    );
    assert!(rss_after < rss_before + 64 * 1024, "{rss_before} KiB -> {rss_after} KiB");

    // The stuck client goes away: its watch streams end and free their places.
    drop(stuck_streams);
    drop(stuck);
    stuck_driver.abort();
    let started = Instant::now();
    loop {
        match TreatyServiceClient::new(ch.clone()).watch_treaty_actions(api::WatchTreatyActionsRequest::default()).await
        {
            Ok(s) => {
                idle.push(s);
                break;
            }
            Err(e) if e.code() == Code::ResourceExhausted && started.elapsed() < Duration::from_secs(10) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("the places of a client that went away were not freed: {e:?}"),
        }
    }

    // Shutdown, with watchers open and a request still waiting for its body: within the grace period.
    let (took, ok) = server.terminate();
    eprintln!("slow clients: shutdown took {took:?} (grace 2 s)");
    assert!(ok, "exit status");
    assert!(took < Duration::from_secs(6), "shutdown took {took:?}");
    drop(half_send);
    half_driver.abort();
}
