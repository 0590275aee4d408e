//! The change feed on both backends: the audit log read as changes after a position, in order, each once,
//! deletes included; positions the log does not hold refused; lists that name the position they show; the
//! position watchers follow, moved by this store's commits and, on PostgreSQL, by another replica's.

use std::{sync::Arc, time::Duration};

use core_model::{ActionKind, Activity, ActivityStatus, Filter, OrganisationKind, SourceRef};
use storage::{
    ActionCorrection, Backend, ChangeBatch, ChangeOp, ChangedRecord, LoggedChange, PageRequest, Record, StorageError,
    Store, WriteContext, at_one_sequence, both_backends,
    testing::{TestStore, action},
};

both_backends!(
    changes_after_a_sequence_come_in_order_each_once_deletes_included,
    a_sequence_the_log_does_not_hold_is_refused,
    a_list_names_the_position_it_shows_and_a_watch_from_it_misses_and_repeats_nothing,
    a_reader_following_the_log_while_writers_write_sees_every_change_once_in_order,
    the_position_moves_with_this_stores_commits_and_another_replicas,
    a_corrected_and_withdrawn_treaty_action_is_an_update_then_a_delete,
    an_import_is_a_reset,
);

fn editor() -> WriteContext {
    WriteContext::by("editor@coe")
}

fn activity(id: &str) -> Activity {
    storage::testing::activity(id)
}

/// Every change after `after`, read `limit` at a time.
async fn all_after(store: &dyn Store, mut after: i64, limit: usize) -> Vec<LoggedChange> {
    let mut out = Vec::new();
    loop {
        let ChangeBatch { changes, through, more } = store.changes_after(after, limit).await.unwrap();
        assert!(through >= after, "the cursor never goes back");
        out.extend(changes);
        after = through;
        if !more {
            return out;
        }
    }
}

async fn changes_after_a_sequence_come_in_order_each_once_deletes_included(t: TestStore) {
    let store: &dyn Store = &*t.store;
    let start = store.change_sequence().await.unwrap();
    assert_eq!(start, 1, "a new store's log holds the first load");
    // From the beginning: the first load is a reset (list everything).
    let first = store.changes_after(0, 10).await.unwrap();
    assert_eq!(first.changes.len(), 1);
    assert_eq!((first.changes[0].seq, first.changes[0].op), (1, ChangeOp::Reset));
    assert!(first.changes[0].reset_reason.as_deref().unwrap().contains("load-bundled-dataset"));

    let a = activity("2008-03-tirana-workshop");
    store.create_activity(&editor(), a.clone()).await.unwrap();
    let mut b = a.clone();
    b.status = ActivityStatus::Completed;
    store.update_activity(&editor(), b.clone(), None).await.unwrap();
    let de = action("DE", 185, ActionKind::Ratification, "2009-03-09");
    store.record_treaty_action(&editor(), de.clone()).await.unwrap();
    let org = core_model::Organisation {
        id: "afripol".to_owned(),
        name: "African Police Cooperation".to_owned(),
        acronym: None,
        kind: OrganisationKind::Intergovernmental,
        source: SourceRef::new("report-2007-11", None),
    };
    t.store.create_record(&editor(), Record::Organisation(org.clone())).await.unwrap();
    store.delete_activity(&editor(), &a.id, None).await.unwrap();
    // A refused write changes nothing, and is no change.
    let refused = store.record_treaty_action(&editor(), de.clone()).await;
    assert!(refused.is_err(), "a second ratification is refused");

    let changes = all_after(store, start, 1000).await;
    let got: Vec<(i64, ChangeOp, Option<ChangedRecord>)> =
        changes.iter().map(|c| (c.seq, c.op, c.record.clone())).collect();
    let expected = vec![
        (2, ChangeOp::Created, Some(ChangedRecord::Activity(a.clone()))),
        (3, ChangeOp::Updated, Some(ChangedRecord::Activity(b.clone()))),
        (4, ChangeOp::Created, Some(ChangedRecord::TreatyAction(de.clone()))),
        (5, ChangeOp::Created, Some(ChangedRecord::Record(Record::Organisation(org)))),
        // A delete carries the record as it was.
        (6, ChangeOp::Deleted, Some(ChangedRecord::Activity(b))),
    ];
    assert_eq!(got, expected, "every change once, in order");
    assert!(changes.iter().all(|c| !c.at.is_empty()), "each with its commit time");
    // Read two at a time: the same changes.
    let paged = all_after(store, start, 2).await;
    assert_eq!(paged, changes);
    // From the middle: what follows it, and nothing before.
    let tail = all_after(store, 4, 1000).await;
    assert_eq!(tail.first().map(|c| c.seq), Some(5));
    assert_eq!(tail.len(), changes.len() - 3);
    // At the end: nothing, and the cursor stays.
    let end = store.change_sequence().await.unwrap();
    let none = store.changes_after(end, 10).await.unwrap();
    assert_eq!((none.changes.len(), none.through, none.more), (0, end, false));
}

async fn a_sequence_the_log_does_not_hold_is_refused(t: TestStore) {
    let store: &dyn Store = &*t.store;
    let end = store.change_sequence().await.unwrap();
    for bad in [end + 1, end + 1000, -1] {
        match store.changes_after(bad, 10).await {
            Err(StorageError::SequenceOutOfRange { given, first, last }) => {
                assert_eq!((given, first, last), (bad, 0, end));
                let message = StorageError::SequenceOutOfRange { given, first, last }.to_string();
                assert!(message.contains("list again"), "{message}");
            }
            other => panic!("{bad}: {other:?}"),
        }
    }
    // An empty store's log is empty: only 0 is a position of it.
    let empty = t.new_empty().await;
    assert_eq!(empty.store.change_sequence().await.unwrap(), 0);
    assert_eq!(empty.store.changes_after(0, 10).await.unwrap(), ChangeBatch::default());
    assert!(matches!(empty.store.changes_after(1, 10).await, Err(StorageError::SequenceOutOfRange { .. })));
}

async fn a_list_names_the_position_it_shows_and_a_watch_from_it_misses_and_repeats_nothing(t: TestStore) {
    let store: &dyn Store = &*t.store;
    let (page, listed_at) = store.list_activities_at(&Filter::default(), &PageRequest::first(1000)).await.unwrap();
    assert_eq!(listed_at, store.change_sequence().await.unwrap(), "the index holds every acknowledged write");
    let before = page.items.len();
    store.create_activity(&editor(), activity("2008-03-a")).await.unwrap();
    store.create_activity(&editor(), activity("2008-03-b")).await.unwrap();
    // Watching from the first list: exactly the two creates.
    let since: Vec<i64> = all_after(store, listed_at, 100).await.iter().map(|c| c.seq).collect();
    assert_eq!(since, [listed_at + 1, listed_at + 2]);
    let (page, at) = store.list_activities_at(&Filter::default(), &PageRequest::first(1000)).await.unwrap();
    assert_eq!((page.items.len(), at), (before + 2, listed_at + 2));
    assert!(all_after(store, at, 100).await.is_empty(), "a watch from the new list repeats nothing");

    // A list read from the database, at one position.
    let all = PageRequest::first(1000);
    let (actions, at) = at_one_sequence(store, || store.list_treaty_actions(None, None, &all)).await.unwrap();
    assert_eq!(at, store.change_sequence().await.unwrap());
    let de = action("DE", 185, ActionKind::Ratification, "2009-03-09");
    store.record_treaty_action(&editor(), de.clone()).await.unwrap();
    let after: Vec<LoggedChange> = all_after(store, at, 100).await;
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].record, Some(ChangedRecord::TreatyAction(de.clone())));
    assert!(!actions.items.iter().any(|v| v.record == de));
}

async fn a_reader_following_the_log_while_writers_write_sees_every_change_once_in_order(t: TestStore) {
    let store: Arc<dyn Store> = t.store.clone();
    let start = store.change_sequence().await.unwrap();
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                for i in 0..10 {
                    let id = format!("2008-w{w}-{i}");
                    store.create_activity(&editor(), activity(&id)).await.unwrap();
                    if i % 3 == 0 {
                        store.delete_activity(&editor(), &id, None).await.unwrap();
                    }
                }
            })
        })
        .collect();
    // Follow while they write, a few at a time.
    let mut seen = Vec::new();
    let mut cursor = start;
    let mut position = store.change_position();
    loop {
        position.borrow_and_update();
        let batch = store.changes_after(cursor, 3).await.unwrap();
        seen.extend(batch.changes.iter().map(|c| c.seq));
        cursor = batch.through;
        if !batch.more {
            if writers.iter().all(|w| w.is_finished()) && cursor == store.change_sequence().await.unwrap() {
                break;
            }
            let _ = tokio::time::timeout(Duration::from_millis(200), position.changed()).await;
        }
    }
    for w in writers {
        w.await.unwrap();
    }
    let end = store.change_sequence().await.unwrap();
    assert_eq!(end - start, 40 + 16, "40 creates and 16 deletes");
    assert_eq!(seen, (start + 1..=end).collect::<Vec<_>>(), "every change once, in commit order, no gap");
}

async fn the_position_moves_with_this_stores_commits_and_another_replicas(t: TestStore) {
    let mut position = t.store.change_position();
    let at = *position.borrow_and_update();
    assert_eq!(at, t.store.change_sequence().await.unwrap());
    t.store.create_activity(&editor(), activity("2008-03-a")).await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), position.changed()).await.unwrap().unwrap();
    assert_eq!(*position.borrow_and_update(), at + 1);
    if t.store.backend() != Backend::Postgres {
        return;
    }
    // Another replica on the same database writes: this one hears of it and reads the change from the log.
    let other = t.reopen().await;
    other.create_activity(&editor(), activity("2008-03-b")).await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), async {
        while *position.borrow_and_update() < at + 2 {
            position.changed().await.unwrap();
        }
    })
    .await
    .expect("the other replica's commit is heard");
    let changes = t.store.changes_after(at + 1, 10).await.unwrap().changes;
    assert_eq!(changes.len(), 1);
    assert!(matches!(&changes[0].record, Some(ChangedRecord::Activity(a)) if a.id == "2008-03-b"));
    // The other replica's list names the position it shows too.
    let (_, listed_at) = other.list_activities_at(&Filter::default(), &PageRequest::first(10)).await.unwrap();
    assert_eq!(listed_at, at + 2);
}

async fn a_corrected_and_withdrawn_treaty_action_is_an_update_then_a_delete(t: TestStore) {
    let store: &dyn Store = &*t.store;
    let start = store.change_sequence().await.unwrap();
    let de = action("DE", 185, ActionKind::Ratification, "2009-03-09");
    store.record_treaty_action(&editor(), de.clone()).await.unwrap();
    let mut corrected = de.clone();
    corrected.note = Some("Corrected from the treaty office's chart".to_owned());
    store.update_treaty_action(&editor(), ActionCorrection::replace(corrected.clone()), None).await.unwrap();
    store.delete_treaty_action(&editor(), de.treaty, &de.state, de.kind, None).await.unwrap();
    let changes = all_after(store, start, 100).await;
    let got: Vec<(i64, ChangeOp, Option<ChangedRecord>, Option<String>)> =
        changes.iter().map(|c| (c.seq, c.op, c.record.clone(), c.etag.clone())).collect();
    assert_eq!(
        got,
        [
            (start + 1, ChangeOp::Created, Some(ChangedRecord::TreatyAction(de)), Some(format!("\"{}\"", start + 1))),
            (
                start + 2,
                ChangeOp::Updated,
                Some(ChangedRecord::TreatyAction(corrected.clone())),
                Some(format!("\"{}\"", start + 2))
            ),
            // The withdrawn action as it was, without a version of its own.
            (start + 3, ChangeOp::Deleted, Some(ChangedRecord::TreatyAction(corrected)), None),
        ]
    );
    // A create names its create time: its commit time.
    assert_eq!(changes[0].create_time.as_deref(), Some(changes[0].at.as_str()));
}

async fn an_import_is_a_reset(t: TestStore) {
    let (dataset, history) = t.store.export_with_history().await.unwrap();
    let restored = t.new_empty().await;
    restored.store.import_with_history(&editor(), &dataset, &history).await.unwrap();
    let end = restored.store.change_sequence().await.unwrap();
    let last = restored.store.changes_after(end - 1, 10).await.unwrap();
    assert_eq!(last.changes.len(), 1);
    assert_eq!((last.changes[0].seq, last.changes[0].op), (end, ChangeOp::Reset));
    assert!(last.changes[0].reset_reason.as_deref().unwrap().contains("import"), "{last:?}");
}
