//! Treaty actions as resources (issue 15), on both backends: read one by its name at its version, correct it with
//! an etag, withdraw it, each write rechecking the whole record inside its transaction, audited, reflected at once
//! by the snapshot (and, on PostgreSQL, by another replica's), and kept with its etag across export and import.

use std::time::{Duration, Instant};

use core_model::{ActionKind, CountryCode, ModelError, StateStatus, TreatyAction, TreatyNumber};
use storage::{
    ActionCorrection, AuditEntry, PageRequest, StorageError, Store, WriteContext, both_backends,
    testing::{self, TestStore, action, etag_at},
};

both_backends!(
    an_action_is_read_by_its_name_at_its_version,
    a_correction_with_the_current_etag_is_applied_audited_and_seen_by_the_status,
    a_correction_with_a_stale_etag_is_refused,
    a_correction_that_breaks_a_rule_is_refused_and_nothing_changes,
    a_withdrawal_is_applied_audited_and_seen_by_the_status,
    a_withdrawal_that_breaks_a_rule_is_refused_and_nothing_changes,
    a_correction_repeated_with_its_request_id_is_applied_once,
    a_restore_keeps_the_etags_of_treaty_actions,
    a_store_of_schema_version_4_gets_etags_from_its_audit_log,
    a_place_in_the_log_of_actions_is_never_given_twice,
);

const ETS_185: TreatyNumber = TreatyNumber(185);
const ETS_189: TreatyNumber = TreatyNumber(189);

fn editor() -> WriteContext {
    WriteContext::by("editor@coe")
}

fn code(s: &str) -> CountryCode {
    s.parse().unwrap()
}

/// The status group of `state` under ETS 185 at `day` in the store's snapshot.
fn status_of(store: &dyn Store, state: &str, day: &str) -> Option<StateStatus> {
    let status = store.snapshot().dataset().treaty_status(ETS_185, day.parse().unwrap()).unwrap();
    status.groups.iter().find(|g| g.states.iter().any(|e| e.state.as_str() == state)).map(|g| g.status)
}

async fn last_audit(store: &dyn Store) -> AuditEntry {
    let mut page = PageRequest::first(1000);
    let mut last = None;
    loop {
        let p = store.audit_log(&page).await.unwrap();
        last = p.items.last().cloned().or(last);
        if p.next_page_token.is_empty() {
            return last.unwrap();
        }
        page.page_token = p.next_page_token;
    }
}

/// Germany's ratification of ETS 185 on 9 March 2009 (it signed on the day the Convention opened).
async fn ratify_de(t: &TestStore) -> storage::Versioned<TreatyAction> {
    t.store.record_treaty_action(&editor(), action("DE", 185, ActionKind::Ratification, "2009-03-09")).await.unwrap()
}

async fn an_action_is_read_by_its_name_at_its_version(t: TestStore) {
    // An action that came with the bundled dataset: at the position of the load, made when the load was.
    let al = t.store.get_treaty_action(ETS_185, &code("AL"), ActionKind::Ratification).await.unwrap();
    assert_eq!(al.record.date.to_string(), "2002-06-20");
    let load = t.store.audit_log(&PageRequest::first(1)).await.unwrap().items.remove(0);
    assert_eq!((al.etag.as_str(), al.create_time.as_deref()), (etag_at(load.seq).as_str(), Some(load.at.as_str())));
    assert_eq!(al.update_time, al.create_time);
    // A recorded one: at the position of its own audit entry.
    let de = ratify_de(&t).await;
    let entry = last_audit(&*t.store).await;
    assert_eq!(entry.resource, "treaties/185/actions/DE-ratification");
    assert_eq!(de.etag, etag_at(entry.seq));
    assert_eq!(de.create_time.as_deref(), Some(entry.at.as_str()));
    assert_eq!(t.store.get_treaty_action(ETS_185, &code("DE"), ActionKind::Ratification).await.unwrap(), de);
    // Listed at the same version, and the snapshot holds it.
    let listed = t.store.list_treaty_actions(Some(ETS_185), Some(&code("DE")), &PageRequest::default()).await.unwrap();
    assert_eq!(listed.items.last(), Some(&de));
    let held = t.store.snapshot();
    let v = held.action_version(ETS_185, &code("DE"), ActionKind::Ratification).unwrap();
    assert_eq!((&v.etag, &v.create_time, &v.update_time), (&de.etag, &de.create_time, &de.update_time));
    // An action nobody took is not found, by its name.
    let err = t.store.get_treaty_action(ETS_185, &code("DE"), ActionKind::Accession).await.unwrap_err();
    assert!(matches!(&err, StorageError::NotFound { id, .. } if id == "treaties/185/actions/DE-accession"), "{err:?}");
}

async fn a_correction_with_the_current_etag_is_applied_audited_and_seen_by_the_status(t: TestStore) {
    let table_2007 = || t.store.snapshot().dataset().treaty_status(ETS_185, "2007-11-30".parse().unwrap()).unwrap();
    let before_2007 = table_2007();
    let de = ratify_de(&t).await;
    assert_eq!(status_of(&*t.store, "DE", "2009-03-09"), Some(StateStatus::Party));
    let version = t.store.snapshot().version();
    // The ratification was deposited a day later: corrected, with the etag just read.
    let correction = ActionCorrection {
        date: Some("2009-03-10".parse().unwrap()),
        note: Some(Some("deposited the next day".into())),
        ..ActionCorrection::replace(de.record.clone())
    };
    let corrected = t.store.update_treaty_action(&editor(), correction, Some(&de.etag)).await.unwrap();
    assert_eq!(corrected.record.date.to_string(), "2009-03-10");
    assert_eq!(corrected.record.note.as_deref(), Some("deposited the next day"));
    assert_eq!(corrected.record.source, de.record.source, "what the correction does not name is kept");
    let entry = last_audit(&*t.store).await;
    assert_eq!((entry.operation.as_str(), entry.resource.as_str()), ("update", "treaties/185/actions/DE-ratification"));
    assert_eq!(entry.principal, "editor@coe");
    assert!(entry.before.as_deref().unwrap().contains("2009-03-09"), "{entry:?}");
    assert!(entry.after.as_deref().unwrap().contains("2009-03-10"), "{entry:?}");
    assert_eq!(corrected.etag, etag_at(entry.seq));
    assert_ne!(corrected.etag, de.etag);
    assert_eq!(corrected.create_time, de.create_time, "created once");
    assert_eq!(corrected.update_time.as_deref(), Some(entry.at.as_str()));
    assert_eq!(t.store.get_treaty_action(ETS_185, &code("DE"), ActionKind::Ratification).await.unwrap(), corrected);
    // The snapshot reflects it at once, under a new version (the server's answers kept per version are dropped).
    assert!(t.store.snapshot().version() > version);
    assert_eq!(status_of(&*t.store, "DE", "2009-03-09"), Some(StateStatus::Signatory));
    assert_eq!(status_of(&*t.store, "DE", "2009-03-10"), Some(StateStatus::Party));
    let held = t.store.snapshot();
    assert_eq!(held.action_version(ETS_185, &code("DE"), ActionKind::Ratification).unwrap().etag, corrected.etag);
    // And so does a store opened afresh.
    let again = t.reopen().await;
    assert_eq!(status_of(&*again, "DE", "2009-03-09"), Some(StateStatus::Signatory));
    // The 2007 status table is intact.
    assert_eq!(table_2007(), before_2007);
    assert_eq!(before_2007.group(StateStatus::Party).len(), 21, "the report's 21 parties");
}

async fn a_correction_with_a_stale_etag_is_refused(t: TestStore) {
    let de = ratify_de(&t).await;
    let note =
        |n: &str| ActionCorrection { note: Some(Some(n.into())), ..ActionCorrection::replace(de.record.clone()) };
    let first = t.store.update_treaty_action(&editor(), note("first"), Some(&de.etag)).await.unwrap();
    let err = t.store.update_treaty_action(&editor(), note("second"), Some(&de.etag)).await.unwrap_err();
    assert!(matches!(&err, StorageError::EtagMismatch { current, .. } if *current == first.etag), "{err:?}");
    let err = t
        .store
        .delete_treaty_action(&editor(), ETS_185, &code("DE"), ActionKind::Ratification, Some(&de.etag))
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::EtagMismatch { .. }), "{err:?}");
    let now = t.store.get_treaty_action(ETS_185, &code("DE"), ActionKind::Ratification).await.unwrap();
    assert_eq!(now, first);
    // A correction of an action nobody took is not found.
    let err = t
        .store
        .update_treaty_action(
            &editor(),
            ActionCorrection::replace(action("FR", 185, ActionKind::Accession, "2009")),
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::NotFound { .. }), "{err:?}");
}

async fn a_correction_that_breaks_a_rule_is_refused_and_nothing_changes(t: TestStore) {
    let before = t.store.export().await.unwrap();
    let audit = last_audit(&*t.store).await;
    let store = t.store.clone();
    let al = |kind| {
        let store = store.clone();
        async move { store.get_treaty_action(ETS_185, &code("AL"), kind).await.unwrap() }
    };
    let dated = |a: &storage::Versioned<TreatyAction>, date: &str| ActionCorrection {
        date: Some(date.parse().unwrap()),
        ..ActionCorrection::replace(a.record.clone())
    };
    // Before the Convention opened (23 November 2001).
    let signature = al(ActionKind::Signature).await;
    let err = t.store.update_treaty_action(&editor(), dated(&signature, "2001-01-01"), None).await.unwrap_err();
    assert!(matches!(err, StorageError::Rule(ModelError::ActionBeforeOpening { .. })), "{err:?}");
    // A ratification before its signature.
    let ratification = al(ActionKind::Ratification).await;
    let err = t.store.update_treaty_action(&editor(), dated(&ratification, "2001-11-01"), None).await.unwrap_err();
    assert!(matches!(err, StorageError::Rule(_)), "{err:?}");
    // Albania's ratification of ETS 189 (26 November 2004) needs its consent to ETS 185 no later: moving that
    // consent after it is refused.
    let err = t.store.update_treaty_action(&editor(), dated(&ratification, "2005-01-10"), None).await.unwrap_err();
    assert!(matches!(err, StorageError::Rule(ModelError::ProtocolBeforeConvention { .. })), "{err:?}");
    // A citation of a source document the store does not hold.
    let err = t
        .store
        .update_treaty_action(
            &editor(),
            ActionCorrection {
                source: Some(core_model::SourceRef::new("no-such-document", None)),
                ..ActionCorrection::replace(ratification.record.clone())
            },
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::Rule(ModelError::UnknownReference { .. })), "{err:?}");
    assert_eq!(t.store.export().await.unwrap(), before);
    assert_eq!(last_audit(&*t.store).await, audit, "nothing audited");
    assert_eq!(al(ActionKind::Ratification).await, ratification);
}

async fn a_withdrawal_is_applied_audited_and_seen_by_the_status(t: TestStore) {
    let de = ratify_de(&t).await;
    assert_eq!(status_of(&*t.store, "DE", "2010-01-01"), Some(StateStatus::Party));
    t.store
        .delete_treaty_action(&editor(), ETS_185, &code("DE"), ActionKind::Ratification, Some(&de.etag))
        .await
        .unwrap();
    let entry = last_audit(&*t.store).await;
    assert_eq!((entry.operation.as_str(), entry.resource.as_str()), ("delete", "treaties/185/actions/DE-ratification"));
    assert!(entry.before.as_deref().unwrap().contains("2009-03-09") && entry.after.is_none(), "{entry:?}");
    let err = t.store.get_treaty_action(ETS_185, &code("DE"), ActionKind::Ratification).await.unwrap_err();
    assert!(matches!(err, StorageError::NotFound { .. }), "{err:?}");
    assert_eq!(status_of(&*t.store, "DE", "2010-01-01"), Some(StateStatus::Signatory));
    assert!(t.store.snapshot().action_version(ETS_185, &code("DE"), ActionKind::Ratification).is_none());
    // Recorded again: a new etag, never the withdrawn one's, and a new place in the log of actions.
    let seq_before = t.store.snapshot().last_action_seq();
    let again = ratify_de(&t).await;
    assert_ne!(again.etag, de.etag);
    assert!(t.store.snapshot().last_action_seq() > seq_before);
    assert_eq!(status_of(&*t.store, "DE", "2010-01-01"), Some(StateStatus::Party));
    // Withdrawn twice: not found the second time.
    t.store.delete_treaty_action(&editor(), ETS_185, &code("DE"), ActionKind::Ratification, None).await.unwrap();
    let err = t.store.delete_treaty_action(&editor(), ETS_185, &code("DE"), ActionKind::Ratification, None).await;
    assert!(matches!(err, Err(StorageError::NotFound { .. })), "{err:?}");
    let again = t.reopen().await;
    assert_eq!(status_of(&*again, "DE", "2010-01-01"), Some(StateStatus::Signatory));
}

async fn a_withdrawal_that_breaks_a_rule_is_refused_and_nothing_changes(t: TestStore) {
    let before = t.store.export().await.unwrap();
    // Albania's ratification of ETS 185 rests on its signature.
    let err = t.store.delete_treaty_action(&editor(), ETS_185, &code("AL"), ActionKind::Signature, None).await;
    assert!(matches!(err, Err(StorageError::Rule(ModelError::RatificationWithoutSignature { .. }))), "{err:?}");
    // Its ratification of ETS 189 rests on its consent to ETS 185.
    let err = t.store.delete_treaty_action(&editor(), ETS_185, &code("AL"), ActionKind::Ratification, None).await;
    assert!(matches!(err, Err(StorageError::Rule(ModelError::ProtocolWithoutConvention { .. }))), "{err:?}");
    // Its ratification of ETS 189 is one of the five that brought the Protocol into force on 1 March 2006, as
    // the sources record: without it the rule gives a later date, so it cannot be withdrawn either.
    let err = t.store.delete_treaty_action(&editor(), ETS_189, &code("AL"), ActionKind::Ratification, None).await;
    assert!(matches!(err, Err(StorageError::Rule(ModelError::EntryIntoForceMismatch { .. }))), "{err:?}");
    assert_eq!(t.store.export().await.unwrap(), before);
}

async fn a_correction_repeated_with_its_request_id_is_applied_once(t: TestStore) {
    let de = ratify_de(&t).await;
    let ctx = editor().with_request_id("fix-de");
    let correction =
        ActionCorrection { note: Some(Some("checked".into())), ..ActionCorrection::replace(de.record.clone()) };
    let first = t.store.update_treaty_action(&ctx, correction.clone(), Some(&de.etag)).await.unwrap();
    let audit = last_audit(&*t.store).await;
    let repeated = t.store.update_treaty_action(&ctx, correction, Some(&de.etag)).await.unwrap();
    assert_eq!((repeated.record, repeated.etag), (first.record, first.etag));
    assert_eq!(last_audit(&*t.store).await, audit, "applied once");
    let other = ActionCorrection { note: Some(Some("other".into())), ..ActionCorrection::replace(de.record) };
    let err = t.store.update_treaty_action(&ctx, other, None).await.unwrap_err();
    assert!(matches!(err, StorageError::RequestIdReused { .. }), "{err:?}");
}

async fn a_restore_keeps_the_etags_of_treaty_actions(t: TestStore) {
    let de = ratify_de(&t).await;
    let note = ActionCorrection { note: Some(Some("checked".into())), ..ActionCorrection::replace(de.record.clone()) };
    let corrected = t.store.update_treaty_action(&editor(), note, Some(&de.etag)).await.unwrap();
    let al = t.store.get_treaty_action(ETS_185, &code("AL"), ActionKind::Ratification).await.unwrap();
    let (dataset, history) = t.store.export_with_history().await.unwrap();
    assert_eq!(
        history.etags.get("treaties/185/actions/DE-ratification").map(|e| etag_at(*e)),
        Some(corrected.etag.clone())
    );
    let fresh = t.new_empty().await;
    fresh.store.import_with_history(&editor(), &dataset, &history).await.unwrap();
    let restored = fresh.store.get_treaty_action(ETS_185, &code("DE"), ActionKind::Ratification).await.unwrap();
    assert_eq!((&restored.record, &restored.etag), (&corrected.record, &corrected.etag));
    assert_eq!(restored.update_time, corrected.update_time, "made when its audit entry says");
    let restored_al = fresh.store.get_treaty_action(ETS_185, &code("AL"), ActionKind::Ratification).await.unwrap();
    assert_eq!(restored_al.etag, al.etag);
    // A stale etag stays stale across the restore.
    let err = fresh
        .store
        .delete_treaty_action(&editor(), ETS_185, &code("DE"), ActionKind::Ratification, Some(&de.etag))
        .await;
    assert!(matches!(err, Err(StorageError::EtagMismatch { .. })), "{err:?}");
}

/// On PostgreSQL, a correction and a withdrawal through one replica reach the other's snapshot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrections_and_withdrawals_reach_another_replica() {
    let Some(t) = testing::postgres(false).await else { return };
    let b = t.reopen().await;
    let wait_for = |what: &'static str, state: StateStatus, day: &'static str| {
        let b = b.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(10);
            while status_of(&*b, "DE", day) != Some(state) {
                assert!(Instant::now() < deadline, "replica B never saw {what}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    let de = ratify_de(&t).await;
    wait_for("the ratification", StateStatus::Party, "2009-03-09").await;
    let correction =
        ActionCorrection { date: Some("2009-03-10".parse().unwrap()), ..ActionCorrection::replace(de.record.clone()) };
    let corrected = t.store.update_treaty_action(&editor(), correction, Some(&de.etag)).await.unwrap();
    wait_for("the correction", StateStatus::Signatory, "2009-03-09").await;
    let held = b.snapshot();
    assert_eq!(held.action_version(ETS_185, &code("DE"), ActionKind::Ratification).unwrap().etag, corrected.etag);
    // B's write is checked against A's correction: B withdraws with the corrected etag.
    b.delete_treaty_action(&editor(), ETS_185, &code("DE"), ActionKind::Ratification, Some(&corrected.etag))
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while status_of(&*t.store, "DE", "2010-01-01") != Some(StateStatus::Signatory) {
        assert!(Instant::now() < deadline, "replica A never saw B's withdrawal");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A store of schema version 4 (treaty actions without etags; audit entries naming them
/// `countries/{state}/treatyActions/{treaty}/{kind}`), opened by this version: each action takes the position and
/// time of the last audit entry naming it, else those of the dataset's load; old names still read.
async fn a_store_of_schema_version_4_gets_etags_from_its_audit_log(t: TestStore) {
    let de = ratify_de(&t).await;
    let corrected = t
        .store
        .update_treaty_action(
            &editor(),
            ActionCorrection { note: Some(Some("checked".into())), ..ActionCorrection::replace(de.record.clone()) },
            None,
        )
        .await
        .unwrap();
    let audit = {
        let mut page = PageRequest::first(1000);
        let mut all = Vec::new();
        loop {
            let p = t.store.audit_log(&page).await.unwrap();
            all.extend(p.items);
            if p.next_page_token.is_empty() {
                break all;
            }
            page.page_token = p.next_page_token;
        }
    };
    let al = t.store.get_treaty_action(ETS_185, &code("AL"), ActionKind::Ratification).await.unwrap();
    let sign_ad = editor().with_request_id("sign-ad");
    let ad = action("RU", 185, ActionKind::Signature, "2013-04-23");
    let signed = t.store.record_treaty_action(&sign_ad, ad.clone()).await.unwrap();
    let TestStore { store, url, place: _kept } = t;
    drop(store);
    for sql in [
        "UPDATE audit SET resource = 'countries/DE/treatyActions/185/ratification' \
         WHERE resource = 'treaties/185/actions/DE-ratification'",
        "UPDATE audit SET resource = 'countries/RU/treatyActions/185/signature' \
         WHERE resource = 'treaties/185/actions/RU-signature'",
        "UPDATE requests SET resource = 'countries/RU/treatyActions/185/signature' WHERE request_id = 'sign-ad'",
        "ALTER TABLE treaty_actions DROP COLUMN etag",
        "ALTER TABLE treaty_actions DROP COLUMN create_time",
        "ALTER TABLE treaty_actions DROP COLUMN update_time",
        "DELETE FROM _sqlx_migrations WHERE version = 5",
        "UPDATE meta SET value = '4' WHERE key = 'schema_version'",
    ] {
        testing::execute_by_hand(&url, sql).await;
    }
    let store = storage::SqlStore::open(&url, storage::OpenOptions::default()).await.unwrap();
    let migrated = store.get_treaty_action(ETS_185, &code("DE"), ActionKind::Ratification).await.unwrap();
    assert_eq!(migrated, corrected, "the etag and times of its last audit entry, the time of its first");
    assert_eq!(store.get_treaty_action(ETS_185, &code("AL"), ActionKind::Ratification).await.unwrap(), al);
    // The old names read as the new ones.
    let old = audit.iter().filter(|e| e.resource == "treaties/185/actions/DE-ratification").count();
    let reread: Vec<storage::Resource> = {
        let p = store.audit_log(&PageRequest::first(1000)).await.unwrap();
        p.items
            .iter()
            .filter(|e| e.resource.starts_with("countries/DE/"))
            .map(|e| e.resource.parse().unwrap())
            .collect()
    };
    assert_eq!(reread.len(), old);
    assert!(reread.iter().all(|r| r.to_string() == "treaties/185/actions/DE-ratification"));
    // A write retried with its request id, recorded under the old name, is answered as then, not applied again.
    let audited = store.audit_log(&PageRequest::first(1000)).await.unwrap().items.len();
    let again = store.record_treaty_action(&sign_ad, ad).await.unwrap();
    assert_eq!((&again.record, &again.etag), (&signed.record, &signed.etag));
    assert_eq!(store.audit_log(&PageRequest::first(1000)).await.unwrap().items.len(), audited);
    // And a stale etag of before the migration is still stale.
    let err =
        store.delete_treaty_action(&editor(), ETS_185, &code("DE"), ActionKind::Ratification, Some(&de.etag)).await;
    assert!(matches!(err, Err(StorageError::EtagMismatch { .. })), "{err:?}");
}

/// WatchTreatyActions resumes after a row's `seq`: a withdrawn row's, or an unreadable row's an admin deleted, is
/// never given to another action.
async fn a_place_in_the_log_of_actions_is_never_given_twice(t: TestStore) {
    let de = ratify_de(&t).await;
    let first = t.store.snapshot().last_action_seq();
    t.store
        .delete_treaty_action(&editor(), ETS_185, &code("DE"), ActionKind::Ratification, Some(&de.etag))
        .await
        .unwrap();
    ratify_de(&t).await;
    let second = t.store.snapshot().last_action_seq();
    assert!(second > first, "{second} after {first}");
    // The last row made unreadable by hand, deleted by an admin, then another action recorded.
    t.execute_by_hand(&format!("UPDATE treaty_actions SET body = '{{\"nonsense\": 1}}' WHERE seq = {second}")).await;
    let store = t.reopen().await;
    let unreadable = store.unreadable();
    assert_eq!(unreadable.len(), 1, "{unreadable:?}");
    store.delete_unreadable(&WriteContext::by("admin@coe"), &unreadable[0].resource).await.unwrap();
    store.record_treaty_action(&editor(), action("DE", 185, ActionKind::Ratification, "2009-03-09")).await.unwrap();
    let third = store.snapshot().last_action_seq();
    assert!(third > second, "{third} after {second}");
}
