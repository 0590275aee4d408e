//! The change feed end to end (ChangeService.WatchChanges on the real binary): list, then watch from the list's
//! sequence, misses nothing and repeats nothing while a writer writes; a client resumes after a disconnect from
//! the last sequence it saw; an idle stream beats; a sequence the log does not hold is refused.

use std::time::Duration;

use e2e_tests::{
    TestServer, api, builders,
    mirror::{Mirror, watch},
    with_token,
};
use tokio_stream::StreamExt;
use tonic::{Code, transport::Channel};

use api::{activity_service_client::ActivityServiceClient, treaty_service_client::TreatyServiceClient};

/// Creates, updates and deletes activities and records treaty actions through `channel`, as an editor: `n`
/// rounds, each of a create, an update of it, and every third round a delete; a ratification every fifth.
async fn write(channel: Channel, prefix: &str, n: usize, states: Vec<String>) -> usize {
    let mut activities = ActivityServiceClient::new(channel.clone());
    let mut treaties = TreatyServiceClient::new(channel.clone());
    let mut states = states.into_iter();
    let mut writes = 0;
    for i in 0..n {
        let name = format!("activities/{prefix}-{i}");
        let Ok(created) = builders::create_activity(&channel, builders::activity(&name), "").await else { break };
        writes += 1;
        let update = api::UpdateActivityRequest {
            activity: Some(api::Activity { title: format!("Updated {i}"), ..created }),
            ..Default::default()
        };
        if activities.update_activity(with_token(update, "editor-token")).await.is_err() {
            break;
        }
        writes += 1;
        if i % 3 == 0 {
            let delete = api::DeleteActivityRequest { name: name.clone(), ..Default::default() };
            if activities.delete_activity(with_token(delete, "editor-token")).await.is_err() {
                break;
            }
            writes += 1;
        }
        if i % 5 == 0
            && let Some(state) = states.next()
        {
            let action = builders::ratification(&state, &format!("2009-03-{:02}", i % 28 + 1));
            let request = api::RecordTreatyActionRequest { treaty_action: Some(action), request_id: String::new() };
            if treaties.record_treaty_action(with_token(request, "editor-token")).await.is_err() {
                break;
            }
            writes += 1;
        }
    }
    writes
}

/// The sequence the store is at now, from a fresh list.
async fn current_sequence(channel: &Channel) -> i64 {
    ActivityServiceClient::new(channel.clone())
        .list_activities(api::ListActivitiesRequest { page_size: 1, ..Default::default() })
        .await
        .expect("list")
        .into_inner()
        .change_sequence
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_then_watch_misses_nothing_and_repeats_nothing_while_a_writer_writes() {
    let server = TestServer::start();
    let channel = server.channel().await;
    let start = current_sequence(&channel).await;
    let mut states = e2e_tests::ets185_signatories(channel.clone()).await;
    let later = states.split_off(states.len() / 2);
    let writer = tokio::spawn(write(channel.clone(), "2009-feed", 30, states));
    // List while the writer writes (one page each: each list is one view), once it has written a few, then follow.
    while current_sequence(&channel).await < start + 5 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut mirror = Mirror::list(&channel, 1000).await;
    let listed_at = mirror.sequence;
    assert!(mirror.strict, "one page per list: the strict checks hold");
    let mut stream = watch(&channel, listed_at).await.expect("watch");
    let writes = writer.await.unwrap();
    assert!(writes >= 60, "the writer wrote {writes} changes");
    // And more once it is done, however fast it was: changes after the list, for certain.
    assert!(write(channel.clone(), "2009-feed-later", 10, later).await >= 20);
    let end = current_sequence(&channel).await;
    assert!(end > listed_at, "writes came after the list ({listed_at}..{end})");
    mirror.follow_until(&mut stream, end).await.expect("follow");
    assert_eq!(mirror.sequence, end);
    // The copy is the store, record by record.
    let fresh = Mirror::list(&channel, 1000).await;
    assert_eq!(fresh.sequence, end);
    assert_eq!(mirror.comparable(), fresh.comparable());
    // Every change after the list came once: the events after it are exactly the log's positions after it.
    assert_eq!((mirror.applied + mirror.passed_over) as i64, end - listed_at);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_resumes_after_a_disconnect_from_the_last_sequence_it_saw() {
    let server = TestServer::start();
    let channel = server.channel().await;
    let mut mirror = Mirror::list(&channel, 50).await;
    let mut stream = watch(&channel, mirror.sequence).await.expect("watch");
    write(channel.clone(), "2009-first", 4, Vec::new()).await;
    let middle = current_sequence(&channel).await;
    mirror.follow_until(&mut stream, middle).await.expect("follow");
    // The client goes away; writes go on; it comes back from the last sequence it saw.
    drop(stream);
    write(channel.clone(), "2009-second", 4, Vec::new()).await;
    let end = current_sequence(&channel).await;
    let mut stream = watch(&channel, mirror.sequence).await.expect("watch again");
    mirror.follow_until(&mut stream, end).await.expect("follow again");
    assert_eq!(mirror.comparable(), Mirror::list(&channel, 50).await.comparable());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_stream_beats_with_the_last_sequence_it_went_past() {
    let server = TestServer::builder().args(&["--change-heartbeat-ms", "200"]).start();
    let channel = server.channel().await;
    let at = current_sequence(&channel).await;
    let mut stream = watch(&channel, at).await.expect("watch");
    let beat = next(&mut stream).await;
    assert_eq!((beat.r#type, beat.sequence), (api::ChangeType::Heartbeat as i32, at));
    assert!(beat.record.is_none() && beat.name.is_empty() && beat.commit_time.is_none());
    builders::create_activity(&channel, builders::activity("activities/2009-beat"), "").await.unwrap();
    // More beats may come while the write commits (on a loaded machine), all at the same sequence.
    let mut created = next(&mut stream).await;
    while created.r#type == api::ChangeType::Heartbeat as i32 {
        assert_eq!(created.sequence, at);
        created = next(&mut stream).await;
    }
    assert_eq!((created.r#type, created.sequence), (api::ChangeType::Created as i32, at + 1));
    assert_eq!(created.name, "activities/2009-beat");
    assert!(created.commit_time.is_some());
    let beat = next(&mut stream).await;
    assert_eq!((beat.r#type, beat.sequence), (api::ChangeType::Heartbeat as i32, at + 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sequence_the_log_does_not_hold_is_refused_with_what_to_do() {
    let server = TestServer::builder().require_token_for_reads().start();
    let channel = server.channel().await;
    let at = current_sequence_as_reader(&channel).await;
    let err = watch(&channel, at + 100).await.expect_err("past the end");
    assert_eq!(err.code(), Code::OutOfRange, "{err:?}");
    assert!(err.message().contains("list again"), "{}", err.message());
    let details = tonic_types::StatusExt::get_error_details(&err);
    assert_eq!(details.error_info().map(|i| i.reason.as_str()), Some("CHANGE_SEQUENCE_OUT_OF_RANGE"));
    let err = watch(&channel, -1).await.expect_err("negative");
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(e2e_tests::bad_request(&err)[0].0, "start_after_sequence");
    // The reader role is needed.
    let err = api::change_service_client::ChangeServiceClient::new(channel.clone())
        .watch_changes(api::WatchChangesRequest { start_after_sequence: at })
        .await
        .expect_err("anonymous");
    assert_eq!(err.code(), Code::Unauthenticated);
    // From 0: the store's first load, a reset (list everything).
    let mut stream = watch(&channel, 0).await.expect("from the beginning");
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!((first.sequence, first.r#type), (1, api::ChangeType::Reset as i32));
    assert!(!first.reset_reason.is_empty());
}

/// The next event of `stream`, within 5 s.
async fn next(stream: &mut tonic::Streaming<api::ChangeEvent>) -> api::ChangeEvent {
    let event = tokio::time::timeout(Duration::from_secs(5), stream.next()).await;
    event.expect("an event within 5 s").expect("open").expect("an event")
}

async fn current_sequence_as_reader(channel: &Channel) -> i64 {
    ActivityServiceClient::new(channel.clone())
        .list_activities(with_token(api::ListActivitiesRequest { page_size: 1, ..Default::default() }, "reader-token"))
        .await
        .expect("list")
        .into_inner()
        .change_sequence
}
