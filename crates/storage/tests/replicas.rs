//! Several store instances on one PostgreSQL database (the replicas of a deployment): each one's snapshot
//! learns of the others' writes through LISTEN/NOTIFY, and watchers hear of every action once, in commit order.

use std::time::{Duration, Instant};

use core_model::{ActionKind, StateStatus, TreatyNumber};
use storage::{
    Change, Store, WriteContext,
    testing::{self, action},
};

async fn party_in(store: &dyn Store, state: &str) -> bool {
    let status = store.snapshot().dataset().treaty_status(TreatyNumber(185), "2030-01-01".parse().unwrap()).unwrap();
    status.group(StateStatus::Party).iter().any(|e| e.state.as_str() == state)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_through_one_instance_reaches_the_other() {
    let Some(t) = testing::postgres(false).await else { return };
    let a = t.store.clone();
    let b = t.reopen().await;
    let mut heard_by_b = b.subscribe();
    let mut heard_by_a = a.subscribe();

    let writes = [
        action("DE", 185, ActionKind::Ratification, "2009-03-09"),
        action("RU", 185, ActionKind::Signature, "2013-04-23"),
        action("RU", 185, ActionKind::Ratification, "2016-11-16"),
    ];
    for w in &writes {
        a.record_treaty_action(&WriteContext::by("replica-a"), w.clone()).await.unwrap();
    }
    assert!(party_in(&*a, "DE").await, "the writer reads its own write at once");

    // The other instance's snapshot learns of them...
    let deadline = Instant::now() + Duration::from_secs(10);
    while !party_in(&*b, "RU").await {
        assert!(Instant::now() < deadline, "replica B never saw replica A's writes");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(party_in(&*b, "DE").await);

    // ...and both instances' watchers hear of each action once, in commit order.
    for heard in [&mut heard_by_a, &mut heard_by_b] {
        let mut got = Vec::new();
        while got.len() < writes.len() {
            let change = tokio::time::timeout(Duration::from_secs(10), heard.recv()).await.unwrap().unwrap();
            let Change::TreatyActionRecorded { action, .. } = change;
            got.push(action);
        }
        assert_eq!(got, writes);
        assert!(tokio::time::timeout(Duration::from_millis(300), heard.recv()).await.is_err(), "heard once only");
    }

    // A write through B checks the rules against what A wrote: a second ratification by Andorra is refused.
    let err = b
        .record_treaty_action(&WriteContext::by("replica-b"), action("RU", 185, ActionKind::Ratification, "2017-01-01"))
        .await;
    assert!(err.is_err());
}
