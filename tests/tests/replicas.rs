//! Several `cybercrime serve` replicas on one PostgreSQL database behave as one service, under load; a replica
//! that loses its database reports NOT_SERVING and recovers without a restart when the database returns.

#![allow(clippy::print_stderr)] // the figures (latencies of visibility and recovery) are printed for RELIABILITY.md

use std::{
    collections::BTreeSet,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use e2e_tests::{Proxy, TestServer, api, builders, date, with_token};
use grpc_server::pb_health::health_check_response::ServingStatus;
use storage::testing::PgSchema;
use tokio_stream::StreamExt;
use tonic::{Code, transport::Channel};

use api::{
    activity_service_client::ActivityServiceClient, country_service_client::CountryServiceClient,
    treaty_service_client::TreatyServiceClient,
};

fn activity(name: &str) -> api::Activity {
    api::Activity { title: "Replica test".into(), ..builders::activity(name) }
}

fn ratification(country: &str, day: u32) -> api::TreatyAction {
    builders::ratification(country, &format!("2009-03-{day:02}"))
}

async fn is_party(channel: Channel, country: &str) -> bool {
    let status = TreatyServiceClient::new(channel)
        .get_treaty_status(api::GetTreatyStatusRequest {
            name: "treaties/185".into(),
            as_of: Some(date(2009, 12, 31)),
            ..Default::default()
        })
        .await
        .expect("status")
        .into_inner();
    status
        .groups
        .iter()
        .filter(|g| g.status == api::StateStatus::Party as i32)
        .any(|g| g.states.iter().any(|s| s.country == country))
}

/// Reads a watch stream until `n` events came or 20 s passed.
async fn collect_events(mut stream: tonic::Streaming<api::TreatyActionEvent>, n: usize) -> Vec<(i64, String)> {
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while events.len() < n {
        match tokio::time::timeout_at(deadline, stream.next()).await {
            Ok(Some(Ok(e))) => {
                events.push((e.sequence, e.treaty_action.map(|a| a.country).unwrap_or_default()));
            }
            other => panic!("the watch stream ended or stalled after {} events: {other:?}", events.len()),
        }
    }
    // Nothing more (no duplicate) arrives.
    if let Ok(Some(extra)) = tokio::time::timeout(Duration::from_millis(500), stream.next()).await {
        panic!("an event more than recorded: {extra:?}");
    }
    events
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_on_one_database_behave_as_one_service_under_load() {
    let Some(schema) = PgSchema::create().await else { return };
    let a = TestServer::builder().store(&schema.url).start();
    let b = TestServer::builder().store(&schema.url).start();
    let (ca, cb) = (a.channel().await, b.channel().await);

    // Watchers on both replicas, connected before anything is recorded.
    let watch = |ch: Channel| async move {
        TreatyServiceClient::new(ch)
            .watch_treaty_actions(api::WatchTreatyActionsRequest {
                treaty: "treaties/185".into(),
                ..Default::default()
            })
            .await
            .expect("watch")
            .into_inner()
    };
    let (watch_a, watch_b) = (watch(ca.clone()).await, watch(cb.clone()).await);
    tokio::time::sleep(Duration::from_millis(300)).await;

    // A load on both replicas while treaty actions are recorded: writers creating activities through one
    // replica and reading each back at once through the other, and readers of status tables and countries.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let created = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut load = Vec::new();
    for w in 0..4 {
        let (write_to, read_from) = if w % 2 == 0 { (ca.clone(), cb.clone()) } else { (cb.clone(), ca.clone()) };
        let (stop, created) = (stop.clone(), created.clone());
        load.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let name = format!("activities/replica-{w}-{n}");
                ActivityServiceClient::new(write_to.clone())
                    .create_activity(with_token(
                        api::CreateActivityRequest {
                            activity: Some(activity(&name)),
                            request_id: String::new(),
                            ..Default::default()
                        },
                        "editor-token",
                    ))
                    .await
                    .expect("create through one replica");
                let read = ActivityServiceClient::new(read_from.clone())
                    .get_activity(api::GetActivityRequest { name: name.clone() })
                    .await
                    .expect("read at once through the other");
                assert_eq!(read.into_inner().name, name);
                created.lock().expect("lock").push(name);
                n += 1;
            }
            n
        }));
    }
    for r in 0..4 {
        let ch = if r % 2 == 0 { ca.clone() } else { cb.clone() };
        let stop = stop.clone();
        load.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let s = TreatyServiceClient::new(ch.clone())
                    .get_treaty_status(api::GetTreatyStatusRequest {
                        name: "treaties/185".into(),
                        as_of: Some(date(2007, 11, 30)),
                        ..Default::default()
                    })
                    .await
                    .expect("status under load")
                    .into_inner();
                assert_eq!(s.groups.iter().map(|g| g.count).collect::<Vec<_>>(), [21, 22, 8, 2, 1]);
                CountryServiceClient::new(ch.clone())
                    .get_country(api::GetCountryRequest { name: "countries/PH".into(), as_of: None })
                    .await
                    .expect("country under load");
                n += 1;
            }
            n
        }));
    }

    // Ratifications recorded alternately through each replica: each is visible through the other one.
    let states = e2e_tests::ets185_signatories(ca.clone()).await;
    // The data holds seven signatories of ETS 185 without a consent (the record after 2007 took the others).
    assert!(states.len() >= 6, "signatories: {states:?}");
    let recorded: Vec<String> = states.iter().take(8).cloned().collect();
    let mut slowest = Duration::ZERO;
    for (i, country) in recorded.iter().enumerate() {
        let (via, other) = if i % 2 == 0 { (&ca, &cb) } else { (&cb, &ca) };
        TreatyServiceClient::new(via.clone())
            .record_treaty_action(with_token(
                api::RecordTreatyActionRequest {
                    treaty_action: Some(ratification(country, i as u32 + 1)),
                    request_id: String::new(),
                },
                "editor-token",
            ))
            .await
            .expect("record");
        assert!(is_party(via.clone(), country).await, "{country} is a party through the replica that recorded it");
        // The other replica's snapshot is brought up to date by LISTEN/NOTIFY.
        let started = Instant::now();
        while !is_party(other.clone(), country).await {
            assert!(started.elapsed() < Duration::from_secs(5), "{country} not visible through the other replica");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        slowest = slowest.max(started.elapsed());
    }
    eprintln!("slowest visibility of a treaty action on the other replica: {slowest:?}");

    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut requests = 0;
    for task in load {
        requests += task.await.expect("load task");
    }
    assert!(requests > 0);

    // Each watcher got every action exactly once, in commit order, whichever replica recorded it.
    for (name, stream) in [("A", watch_a), ("B", watch_b)] {
        let events = collect_events(stream, recorded.len()).await;
        let countries: Vec<String> = events.iter().map(|e| e.1.clone()).collect();
        assert_eq!(countries, recorded, "watcher on {name}");
        assert!(events.windows(2).all(|w| w[0].0 < w[1].0), "sequences increase on {name}: {events:?}");
    }

    // Every acknowledged activity is there, through both replicas, once.
    let created = created.lock().expect("lock").clone();
    let unique: BTreeSet<&String> = created.iter().collect();
    assert_eq!(unique.len(), created.len());
    for ch in [&ca, &cb] {
        let mut seen = BTreeSet::new();
        let mut token = String::new();
        loop {
            let page = ActivityServiceClient::new(ch.clone())
                .list_activities(api::ListActivitiesRequest {
                    page_size: 1000,
                    page_token: token,
                    filter: "start >= \"2009-01-01\"".into(),
                    ..Default::default()
                })
                .await
                .expect("list")
                .into_inner();
            seen.extend(page.activities.into_iter().map(|a| a.name));
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token;
        }
        let expected: BTreeSet<String> = created.iter().cloned().collect();
        assert_eq!(seen, expected);
    }
    for server in [&a, &b] {
        assert!(!server.log().contains("panicked"), "{}", server.log());
    }
}

async fn wait_for_health(server: &TestServer, wanted: ServingStatus, within: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let now = server.health().await;
        if now.as_ref().ok() == Some(&wanted) {
            return started.elapsed();
        }
        assert!(started.elapsed() < within, "health is {now:?}, not {wanted:?}, after {within:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_that_loses_its_database_reports_not_serving_and_recovers_without_restart() {
    let Some(schema) = PgSchema::create().await else { return };
    // Replica A reaches PostgreSQL through a proxy the test can cut; replica B directly.
    let mut proxy = Proxy::start("127.0.0.1:5432").await;
    let a = TestServer::builder()
        .store(&schema.url_via(&proxy.addr.to_string()))
        .args(&["--health-interval-ms", "100"])
        .start();
    let b = TestServer::builder().store(&schema.url).start();
    let (ca, cb) = (a.channel().await, b.channel().await);
    wait_for_health(&a, ServingStatus::Serving, Duration::from_secs(5)).await;

    proxy.cut().await;
    let noticed = wait_for_health(&a, ServingStatus::NotServing, Duration::from_secs(10)).await;
    eprintln!("NOT_SERVING reported {noticed:?} after the database went away");
    // Writes fail with UNAVAILABLE, and say why; nothing is half-written (checked below).
    let err = ActivityServiceClient::new(ca.clone())
        .create_activity(with_token(
            api::CreateActivityRequest {
                activity: Some(activity("activities/during-outage")),
                request_id: String::new(),
                ..Default::default()
            },
            "editor-token",
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unavailable, "{err:?}");
    // What is kept in memory is still answered.
    let s = TreatyServiceClient::new(ca.clone())
        .get_treaty_status(api::GetTreatyStatusRequest {
            name: "treaties/185".into(),
            as_of: Some(date(2007, 11, 30)),
            ..Default::default()
        })
        .await
        .expect("status from memory during the outage")
        .into_inner();
    assert_eq!(s.groups[0].count, 21);
    // Meanwhile, the other replica records a treaty action.
    let country = e2e_tests::ets185_signatories(cb.clone()).await.into_iter().next().expect("a signatory");
    TreatyServiceClient::new(cb.clone())
        .record_treaty_action(with_token(
            api::RecordTreatyActionRequest {
                treaty_action: Some(ratification(&country, 2)),
                request_id: String::new(),
            },
            "editor-token",
        ))
        .await
        .expect("record through the other replica");

    proxy.restore().await;
    let recovered = wait_for_health(&a, ServingStatus::Serving, Duration::from_secs(20)).await;
    eprintln!("SERVING again {recovered:?} after the database came back");
    // Without a restart: A writes again, and catches up with what B recorded during the outage.
    ActivityServiceClient::new(ca.clone())
        .create_activity(with_token(
            api::CreateActivityRequest {
                activity: Some(activity("activities/after-outage")),
                request_id: String::new(),
                ..Default::default()
            },
            "editor-token",
        ))
        .await
        .expect("a write after recovery");
    let started = Instant::now();
    while !is_party(ca.clone(), &country).await {
        assert!(started.elapsed() < Duration::from_secs(10), "A never caught up with {country}'s ratification");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let missing = ActivityServiceClient::new(cb.clone())
        .get_activity(api::GetActivityRequest { name: "activities/during-outage".into() })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound, "the refused write left nothing: {missing:?}");
}
