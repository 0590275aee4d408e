//! The mirror test: a partner's client lists everything and follows the change feed while writers on two
//! replicas on one PostgreSQL database create, update and delete activities and treaty actions; the
//! replica it follows is killed with SIGKILL mid-stream and it resumes on the other from its last sequence; at
//! the end its copy equals the store exactly, record by record.

use std::time::Duration;

use e2e_tests::{
    TestServer, api, builders,
    mirror::{Mirror, watch},
    with_token,
};
use storage::testing::PgSchema;
use tokio_stream::StreamExt;
use tonic::transport::Channel;

use api::{activity_service_client::ActivityServiceClient, treaty_service_client::TreatyServiceClient};

/// Writes through `channel` until it fails (its replica is gone) or `rounds` are done: per round a create, an
/// update of it and, every other round, a delete; every fourth round a ratification of one of `states`, its
/// correction and, every eighth, its withdrawal.
async fn writer(channel: Channel, prefix: String, rounds: usize, states: Vec<String>) -> usize {
    let mut activities = ActivityServiceClient::new(channel.clone());
    let mut treaties = TreatyServiceClient::new(channel.clone());
    let mut states = states.into_iter();
    let mut done = 0;
    for i in 0..rounds {
        let name = format!("activities/{prefix}-{i}");
        let Ok(created) = builders::create_activity(&channel, builders::activity(&name), "").await else { break };
        let update = api::UpdateActivityRequest {
            activity: Some(api::Activity { note: format!("round {i}"), ..created }),
            ..Default::default()
        };
        if activities.update_activity(with_token(update, "editor-token")).await.is_err() {
            break;
        }
        if i % 2 == 1 {
            let delete = api::DeleteActivityRequest { name, ..Default::default() };
            if activities.delete_activity(with_token(delete, "editor-token")).await.is_err() {
                break;
            }
        }
        if i % 4 == 0
            && let Some(state) = states.next()
        {
            let action = builders::ratification(&state, &format!("2009-04-{:02}", i % 28 + 1));
            let request = api::RecordTreatyActionRequest { treaty_action: Some(action), request_id: String::new() };
            let Ok(recorded) = treaties.record_treaty_action(with_token(request, "editor-token")).await else {
                break;
            };
            let recorded = recorded.into_inner();
            // A correction of it (its note), and, every other time, its withdrawal.
            let corrected = api::TreatyAction { note: format!("corrected in round {i}"), ..recorded.clone() };
            let update = api::UpdateTreatyActionRequest { treaty_action: Some(corrected), ..Default::default() };
            if treaties.update_treaty_action(with_token(update, "editor-token")).await.is_err() {
                break;
            }
            if i % 8 == 4 {
                let delete = api::DeleteTreatyActionRequest { name: recorded.name.clone(), ..Default::default() };
                if treaties.delete_treaty_action(with_token(delete, "editor-token")).await.is_err() {
                    break;
                }
            }
        }
        done += 1;
        // Paced, so that the writers are still writing when the client lists and when a replica is killed.
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    done
}

/// The sequence the store is at, from a list through `channel`.
async fn current_sequence(channel: &Channel) -> i64 {
    ActivityServiceClient::new(channel.clone())
        .list_activities(api::ListActivitiesRequest { page_size: 1, ..Default::default() })
        .await
        .expect("list")
        .into_inner()
        .change_sequence
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mirror_following_two_replicas_equals_the_store_after_one_is_killed_mid_stream() {
    let Some(schema) = PgSchema::create().await else { return };
    let mut a = TestServer::builder().store(&schema.url).args(&["--change-heartbeat-ms", "500"]).start();
    let b = TestServer::builder().store(&schema.url).args(&["--change-heartbeat-ms", "500"]).start();
    let (ca, cb) = (a.channel().await, b.channel().await);
    let states = e2e_tests::ets185_signatories(ca.clone()).await;
    let (half_a, half_b) = states.split_at(states.len() / 2);

    // Writers on both replicas; the client lists (in small pages, while they write) and follows replica A.
    let start = current_sequence(&ca).await;
    let wa = tokio::spawn(writer(ca.clone(), "2009-a".into(), 60, half_a.to_vec()));
    let wb = tokio::spawn(writer(cb.clone(), "2009-b".into(), 60, half_b.to_vec()));
    while current_sequence(&ca).await < start + 5 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut mirror = Mirror::list(&ca, 7).await;
    let listed_at = mirror.sequence;
    let mut stream = watch(&ca, listed_at).await.expect("watch A");

    // Follow A for a while (both replicas' writes come through it), then kill A mid-stream.
    let killed_after = listed_at + 20;
    mirror.follow_until(&mut stream, killed_after).await.expect("follow A");
    a.kill();
    // The stream ends (with an error, or cut): the client resumes on B from its last sequence.
    let ended = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(Ok(e)) = stream.next().await {
            mirror.apply(e);
        }
    })
    .await;
    assert!(ended.is_ok(), "the stream of the killed replica ends");
    let resumed_at = mirror.sequence;
    let mut stream = watch(&cb, resumed_at).await.expect("watch B from the last sequence");

    let written_a = wa.await.unwrap();
    let written_b = wb.await.unwrap();
    assert!(written_a < 60, "A's writer was cut by the kill ({written_a} rounds)");
    assert_eq!(written_b, 60, "B's writer went on");
    let end = current_sequence(&cb).await;
    assert!(end > resumed_at, "changes came after the resume ({resumed_at}..{end})");
    mirror.follow_until(&mut stream, end).await.expect("follow B");

    // The copy equals the store, record by record (fresh lists, in one page each).
    let fresh = Mirror::list(&cb, 1000).await;
    assert_eq!(fresh.sequence, end);
    let (copy, store) = (mirror.comparable(), fresh.comparable());
    let differ: Vec<&String> = copy.keys().chain(store.keys()).filter(|k| copy.get(*k) != store.get(*k)).collect();
    assert!(differ.is_empty(), "the copy differs from the store at {differ:?}");
    assert_eq!(copy, store);
    let activities = copy.keys().filter(|k| k.starts_with("activities/2009-")).count();
    assert!(activities > 20, "the copy holds the writers' activities ({activities})");
    let corrected = copy
        .values()
        .filter(|v| matches!(v, e2e_tests::mirror::Held::TreatyAction(a) if a.note.starts_with("corrected")))
        .count();
    assert!(corrected >= 3, "the copy holds the corrected treaty actions ({corrected})");
}
