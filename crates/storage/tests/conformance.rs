//! The conformance suite: the same tests, run against SQLite and against PostgreSQL.

use std::{collections::BTreeSet, sync::Arc};

use chrono::NaiveDate;
use core_model::{
    ActionKind, Activity, ActivityKind, ActivityStatus, ApproxDate, Dataset, Filter, ModelError, OrganisationKind,
    SourceRef, StateStatus, TreatyNumber,
};
use storage::{
    AuditEntry, Change, History, OpenOptions, PageRequest, Record, RecordKind, SqlStore, StorageError, Store,
    WriteContext, both_backends,
    testing::{self, TestStore, action, activity_pages},
};

both_backends!(
    the_bundled_dataset_is_loaded_on_first_open,
    export_then_import_into_an_empty_store_gives_equal_data,
    a_recorded_action_is_read_at_once_audited_and_announced,
    a_broken_rule_is_rejected_and_nothing_changes,
    activities_have_etags_and_stale_writes_fail,
    a_reference_to_a_missing_record_is_rejected,
    a_referenced_record_cannot_be_deleted,
    a_write_repeated_with_its_request_id_is_applied_once,
    lists_page_in_a_stable_order_with_tokens_bound_to_their_filter,
    filters_select_in_the_database_what_they_select_in_memory,
    lists_from_memory_follow_every_write_page_for_page_with_the_database,
    records_of_other_kinds_are_created_updated_and_deleted,
    the_store_passes_its_integrity_check,
    concurrent_writes_are_committed_together_and_a_failing_one_is_undone_alone,
    what_a_write_stores_reads_back_whole_and_exports_and_imports,
    a_citation_of_an_unknown_source_document_is_rejected,
    a_record_that_cannot_be_decoded_is_set_aside_not_fatal,
    request_ids_belong_to_the_principal_that_sent_them,
    a_restore_keeps_etags_request_ids_and_the_audit_log,
    request_ids_are_forgotten_after_their_time_to_live,
    a_closed_store_keeps_every_write_and_is_one_file,
    etags_never_repeat_across_a_delete_and_a_re_create,
    a_schema_3_store_gets_etags_and_times_from_its_audit_log,
    a_schema_3_store_without_an_audit_log_gets_no_invented_times,
);

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn editor() -> WriteContext {
    WriteContext::by("editor@coe")
}

fn new_activity(id: &str) -> Activity {
    Activity {
        partners: vec![core_model::Partner {
            organisation: "microsoft".to_owned(),
            role: core_model::PartnerRole::Supporter,
        }],
        funding: vec!["project-budget".to_owned()],
        plan: Some("2007-12..2008-06".to_owned()),
        source: SourceRef::new("report-2007-11", Some("§4.2")),
        ..storage::testing::activity(id)
    }
}

/// The position of the audit log's last entry: the write just done.
async fn last_seq(store: &dyn Store) -> i64 {
    whole_audit_log(store).await.last().map_or(0, |e| e.seq)
}

/// The etag of a version made by the write at audit position `seq`: quoted.
fn quoted(seq: i64) -> String {
    format!("\"{seq}\"")
}

/// The audit entry at `seq`.
async fn audit_entry(store: &dyn Store, seq: i64) -> AuditEntry {
    whole_audit_log(store).await.into_iter().find(|e| e.seq == seq).expect("an audit entry at that position")
}

async fn all_activities(store: &dyn Store, filter: &Filter, page_size: u32) -> Vec<String> {
    let mut ids = Vec::new();
    let mut page = PageRequest::first(page_size);
    loop {
        let p = store.list_activities(filter, &page).await.unwrap();
        ids.extend(p.items.into_iter().map(|v| v.record.id.clone()));
        if p.next_page_token.is_empty() {
            return ids;
        }
        page.page_token = p.next_page_token;
    }
}

async fn the_bundled_dataset_is_loaded_on_first_open(t: TestStore) {
    assert_eq!(t.store.export().await.unwrap(), Dataset::bundled());
    let snapshot = t.store.snapshot();
    let status = snapshot.dataset().treaty_status(TreatyNumber(185), day("2007-11-30")).unwrap();
    let counts: Vec<usize> = status.groups.iter().map(|g| g.states.len()).collect();
    assert_eq!(counts, [21, 22, 8, 2, 1]);
    // One audit entry: the load, by the system.
    let audit = t.store.audit_log(&PageRequest::default()).await.unwrap();
    assert_eq!(audit.items.len(), 1);
    assert_eq!(
        (audit.items[0].principal.as_str(), audit.items[0].operation.as_str()),
        ("system", "load-bundled-dataset")
    );
    // Opening again loads nothing twice.
    let again = t.reopen().await;
    assert_eq!(again.export().await.unwrap(), Dataset::bundled());
}

async fn export_then_import_into_an_empty_store_gives_equal_data(t: TestStore) {
    let exported = t.store.export().await.unwrap();
    // Through the dataset's own text format.
    let files = exported.to_files();
    let borrowed: Vec<(&str, &str)> = files.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    let parsed = Dataset::parse(&borrowed).unwrap();
    let empty = t.new_empty().await;
    assert_eq!(empty.store.export().await.unwrap(), Dataset::empty());
    empty.store.import(&editor(), &parsed).await.unwrap();
    assert_eq!(empty.store.export().await.unwrap(), exported);
    let listed = all_activities(&*empty.store, &Filter::default(), 1000).await;
    assert_eq!(listed, exported.activities.iter().map(|a| a.id.clone()).collect::<Vec<_>>(), "the list after import");
    // A store that holds data refuses an import, and keeps its data.
    assert!(matches!(empty.store.import(&editor(), &parsed).await, Err(StorageError::NotEmpty)));
    // An invalid dataset is refused whole.
    let mut broken = Dataset::bundled();
    broken.treaty_actions.push(action("AL", 185, ActionKind::Ratification, "2003-01-01"));
    let fresh = t.new_empty().await;
    let err = fresh.store.import(&editor(), &broken).await.unwrap_err();
    assert!(err.to_string().contains("a second consent of ETS 185"), "{err}");
    assert_eq!(fresh.store.export().await.unwrap(), Dataset::empty());
}

async fn a_recorded_action_is_read_at_once_audited_and_announced(t: TestStore) {
    let mut changes = t.store.subscribe();
    let de = action("DE", 185, ActionKind::Ratification, "2009-03-09");
    let recorded = t.store.record_treaty_action(&editor().with_request_id("r-1"), de.clone()).await.unwrap();
    assert_eq!(recorded.record, de);
    assert!(recorded.create_time.is_some() && recorded.create_time == recorded.update_time, "{recorded:?}");
    // The snapshot has it at once.
    let status = t.store.snapshot().dataset().treaty_status(TreatyNumber(185), day("2009-12-31")).unwrap();
    assert!(status.group(StateStatus::Party).iter().any(|e| e.state.as_str() == "DE"));
    // Watchers hear of it.
    let change = tokio::time::timeout(std::time::Duration::from_secs(10), changes.recv()).await.unwrap().unwrap();
    let Change::TreatyActionRecorded { action: heard, .. } = change;
    assert_eq!(heard, de);
    // It is listed, and audited with who, what and the request id.
    let listed =
        t.store.list_treaty_actions(None, Some(&"DE".parse().unwrap()), &PageRequest::default()).await.unwrap();
    assert_eq!(listed.items.last(), Some(&recorded));
    let audit = t.store.audit_log(&PageRequest::default()).await.unwrap();
    let entry = audit.items.last().unwrap();
    assert_eq!(entry.principal, "editor@coe");
    assert_eq!(entry.operation, "record_treaty_action");
    assert_eq!(entry.resource, "treaties/185/actions/DE-ratification");
    assert_eq!(recorded.etag, storage::testing::etag_at(entry.seq), "the etag is the audit position of its write");
    assert_eq!(entry.request_id.as_deref(), Some("r-1"));
    assert!(entry.after.as_deref().unwrap().contains("2009-03-09"));
    // And it survives a reopen.
    let again = t.reopen().await;
    assert!(again.snapshot().history(&"DE".parse().unwrap()).iter().any(|a| **a == de));
}

async fn a_broken_rule_is_rejected_and_nothing_changes(t: TestStore) {
    let before = t.store.export().await.unwrap();
    let err = t
        .store
        .record_treaty_action(&editor(), action("IE", 185, ActionKind::Ratification, "2002-01-01"))
        .await
        .unwrap_err();
    assert!(matches!(&err, StorageError::Rule(ModelError::RatificationBeforeSignature { .. })), "{err:?}");
    let err = t
        .store
        .record_treaty_action(&editor(), action("AL", 185, ActionKind::Ratification, "2003-01-01"))
        .await
        .unwrap_err();
    assert!(matches!(&err, StorageError::Rule(ModelError::DuplicateAction { .. })), "{err:?}");
    let err = t
        .store
        .record_treaty_action(&editor(), action("HU", 189, ActionKind::Ratification, "2005-01-01"))
        .await
        .unwrap_err();
    assert!(matches!(&err, StorageError::Rule(ModelError::RatificationWithoutSignature { .. })), "{err:?}");
    let err = t
        .store
        .record_treaty_action(&editor(), action("QQ", 185, ActionKind::Signature, "2005-01-01"))
        .await
        .unwrap_err();
    assert!(matches!(&err, StorageError::Rule(ModelError::UnknownState(_))), "{err:?}");
    let mut bad = new_activity("2008-03-bad");
    bad.end = Some(ApproxDate::Month { year: 2008, month: 1 });
    let err = t.store.create_activity(&editor(), bad).await.unwrap_err();
    assert!(matches!(&err, StorageError::Rule(ModelError::EndBeforeStart { .. })), "{err:?}");
    assert_eq!(t.store.export().await.unwrap(), before);
    assert_eq!(t.store.audit_log(&PageRequest::default()).await.unwrap().items.len(), 1, "nothing audited");
}

async fn activities_have_etags_and_stale_writes_fail(t: TestStore) {
    let created = t.store.create_activity(&editor(), new_activity("2008-03-tirana")).await.unwrap();
    // The etag is the quoted position of the write's audit entry; both times are that entry's.
    let create_entry = audit_entry(&*t.store, last_seq(&*t.store).await).await;
    assert_eq!(create_entry.operation, "create");
    assert_eq!(created.etag, quoted(create_entry.seq));
    assert_eq!(created.create_time.as_deref(), Some(create_entry.at.as_str()));
    assert_eq!(created.update_time, created.create_time);
    assert_eq!(t.store.get_activity("2008-03-tirana").await.unwrap(), created);
    let err = t.store.create_activity(&editor(), new_activity("2008-03-tirana")).await.unwrap_err();
    assert!(matches!(err, StorageError::AlreadyExists { .. }), "{err:?}");

    let mut changed = created.record.clone();
    changed.status = ActivityStatus::Completed;
    let updated = t.store.update_activity(&editor(), changed.clone(), Some(&created.etag)).await.unwrap();
    let update_entry = audit_entry(&*t.store, last_seq(&*t.store).await).await;
    assert_eq!(updated.etag, quoted(update_entry.seq));
    assert_ne!(updated.etag, created.etag);
    // The creation time stays; the update time is the update's.
    assert_eq!(updated.create_time, created.create_time);
    assert_eq!(updated.update_time.as_deref(), Some(update_entry.at.as_str()));
    assert_eq!(t.store.get_activity("2008-03-tirana").await.unwrap(), updated);
    let listed = t.store.list_activities(&Filter::parse("").unwrap(), &PageRequest::first(1000)).await.unwrap();
    assert!(listed.items.iter().any(|v| **v == updated), "the list has the version with its etag and times");
    let mut stale = changed.clone();
    stale.title = "stale".to_owned();
    let err = t.store.update_activity(&editor(), stale.clone(), Some(&created.etag)).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("activity `2008-03-tirana` has changed: etag `{}` is not the current `{}`", created.etag, updated.etag)
    );
    // A bare counter (what etags were before schema version 4) never matches.
    for old in ["1", "2", &update_entry.seq.to_string()] {
        let err = t.store.update_activity(&editor(), stale.clone(), Some(old)).await.unwrap_err();
        assert!(matches!(err, StorageError::EtagMismatch { .. }), "{old}: {err:?}");
    }
    assert_eq!(t.store.get_activity("2008-03-tirana").await.unwrap().record, changed);
    let err = t.store.delete_activity(&editor(), "2008-03-tirana", Some(&created.etag)).await.unwrap_err();
    assert!(matches!(err, StorageError::EtagMismatch { .. }));
    t.store.delete_activity(&editor(), "2008-03-tirana", Some(&updated.etag)).await.unwrap();
    assert!(matches!(t.store.get_activity("2008-03-tirana").await, Err(StorageError::NotFound { .. })));
    let err = t.store.update_activity(&editor(), changed, None).await.unwrap_err();
    assert_eq!(err.to_string(), "activity `2008-03-tirana` not found");
    // The audit log has the before and after of the update.
    let audit = t.store.audit_log(&PageRequest::default()).await.unwrap().items;
    let update = audit.iter().find(|e| e.operation == "update").unwrap();
    assert!(
        update.before.as_deref().unwrap().contains("pipeline")
            && update.after.as_deref().unwrap().contains("completed")
    );
    assert_eq!(audit.iter().filter(|e| e.operation == "delete").count(), 1);
}

async fn a_reference_to_a_missing_record_is_rejected(t: TestStore) {
    let before = t.store.export().await.unwrap();
    let mut a = new_activity("2008-03-ref");
    a.partners[0].organisation = "no-such-organisation".to_owned();
    let err = t.store.create_activity(&editor(), a).await.unwrap_err();
    assert_eq!(err.to_string(), "unknown organisation `no-such-organisation`");
    let mut a = new_activity("2008-03-ref");
    a.countries.push("QQ".parse().unwrap());
    assert_eq!(t.store.create_activity(&editor(), a).await.unwrap_err().to_string(), "unknown state `QQ`");
    let mut a = new_activity("2008-03-ref");
    a.plan = Some("no-plan".to_owned());
    assert_eq!(t.store.create_activity(&editor(), a).await.unwrap_err().to_string(), "unknown plan `no-plan`");
    let mut a = new_activity("2008-03-ref");
    a.outputs = vec![4];
    assert!(matches!(
        t.store.create_activity(&editor(), a).await,
        Err(StorageError::Rule(ModelError::UnknownOutput(4)))
    ));
    assert_eq!(t.store.export().await.unwrap(), before);
}

async fn a_referenced_record_cannot_be_deleted(t: TestStore) {
    let before = t.store.export().await.unwrap();
    // Microsoft is a partner of activities and a donor.
    let err = t.store.delete_record(&editor(), RecordKind::Organisation, "microsoft", None).await.unwrap_err();
    assert!(matches!(err, StorageError::StillReferenced { .. }), "{err:?}");
    // An activity named by a cooperation record.
    let err = t.store.delete_activity(&editor(), "2007-06-11-strasbourg-octopus-conference", None).await.unwrap_err();
    assert!(matches!(err, StorageError::StillReferenced { .. }), "{err:?}");
    assert_eq!(t.store.export().await.unwrap(), before);
}

async fn a_write_repeated_with_its_request_id_is_applied_once(t: TestStore) {
    let ctx = editor().with_request_id("create-tirana-1");
    let first = t.store.create_activity(&ctx, new_activity("2008-03-once")).await.unwrap();
    let second = t.store.create_activity(&ctx, new_activity("2008-03-once")).await.unwrap();
    assert_eq!(first, second);
    let audit = t.store.audit_log(&PageRequest::default()).await.unwrap().items;
    assert_eq!(audit.iter().filter(|e| e.request_id.as_deref() == Some("create-tirana-1")).count(), 1);
    // The same id for another request is refused.
    let err = t.store.create_activity(&ctx, new_activity("2008-03-other")).await.unwrap_err();
    assert!(matches!(err, StorageError::RequestIdReused { .. }), "{err:?}");
    assert!(matches!(t.store.get_activity("2008-03-other").await, Err(StorageError::NotFound { .. })));
    // A repeated treaty action too.
    let ctx = editor().with_request_id("ratify-de");
    let de = action("DE", 185, ActionKind::Ratification, "2009-03-09");
    t.store.record_treaty_action(&ctx, de.clone()).await.unwrap();
    assert_eq!(t.store.record_treaty_action(&ctx, de).await.unwrap().record.state.as_str(), "DE");
}

async fn lists_page_in_a_stable_order_with_tokens_bound_to_their_filter(t: TestStore) {
    let completed = Filter::parse("status = \"COMPLETED\"").unwrap();
    let ids = all_activities(&*t.store, &completed, 7).await;
    assert_eq!(ids.len(), 50);
    assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), 50, "no item twice");
    assert_eq!(ids, all_activities(&*t.store, &completed, 1000).await, "the same order whatever the page size");
    let bundled: Vec<String> = Dataset::bundled()
        .activities
        .into_iter()
        .filter(|a| a.status == ActivityStatus::Completed)
        .map(|a| a.id)
        .collect();
    assert_eq!(ids, bundled, "the order of creation");
    // A token is bound to its filter; a forged one is refused.
    let first = t.store.list_activities(&completed, &PageRequest::first(5)).await.unwrap();
    let other = Filter::parse("status = \"PIPELINE\"").unwrap();
    let err =
        t.store.list_activities(&other, &PageRequest { page_size: 5, page_token: first.next_page_token.clone() }).await;
    assert!(matches!(err, Err(StorageError::PageToken(_))), "{err:?}");
    let err = t.store.list_activities(&completed, &PageRequest { page_size: 5, page_token: "abc".into() }).await;
    assert!(matches!(err, Err(StorageError::PageToken(_))));
    // Page sizes: 0 is the default (50), above 1000 is capped.
    let all = Filter::default();
    assert_eq!(t.store.list_activities(&all, &PageRequest::first(0)).await.unwrap().items.len(), 50);
    assert_eq!(t.store.list_activities(&all, &PageRequest::first(5000)).await.unwrap().items.len(), 76);
    // Treaty actions and records page too.
    let mut n = 0;
    let mut page = PageRequest::first(10);
    loop {
        let p = t.store.list_treaty_actions(Some(TreatyNumber(185)), None, &page).await.unwrap();
        n += p.items.len();
        if p.next_page_token.is_empty() {
            break;
        }
        page.page_token = p.next_page_token;
    }
    let expected = Dataset::bundled().treaty_actions.iter().filter(|a| a.treaty == TreatyNumber(185)).count();
    assert_eq!(n, expected);
    let orgs = t.store.list_records(RecordKind::Organisation, &PageRequest::first(1000)).await.unwrap();
    assert_eq!(orgs.items.len(), Dataset::bundled().organisations.len());
}

async fn filters_select_in_the_database_what_they_select_in_memory(t: TestStore) {
    let ds = Dataset::bundled();
    let region_of = |c: &core_model::CountryCode| ds.state(c).map(|s| s.region);
    for text in [
        "",
        "status = \"COMPLETED\" AND start >= \"2007-03-01\" AND country = \"countries/BR\"",
        "status != \"COMPLETED\"",
        "kind = \"WORKSHOP\" OR kind = \"TRAINING\"",
        "NOT country = \"BR\"",
        "country != \"countries/BR\"",
        "region = \"ASIA_PACIFIC\"",
        "region != \"EUROPE\"",
        "output = 3",
        "output: 2 AND -output: 1",
        "organisation = \"organisations/microsoft\"",
        "funding = \"paco-serbia\" OR funding = \"upic\"",
        "plan = \"2007-12..2008-06\"",
        "plan != \"2007-12..2008-06\"",
        "tentative = true",
        "start = \"2008-02\"",
        "start != \"2008-02\"",
        "start < \"2007\"",
        "start <= \"2007-02\"",
        "end > \"2008-03\"",
        "end >= \"2008-04-01\" AND status = \"PIPELINE\"",
        "NOT (start >= \"2007-01-01\")",
        "(kind = \"MISSION\" OR kind = \"LEGISLATIVE_ANALYSIS\") AND NOT region = \"EUROPE\"",
    ] {
        let filter = Filter::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let expected: Vec<String> =
            ds.activities.iter().filter(|a| filter.matches(a, region_of)).map(|a| a.id.clone()).collect();
        let got = all_activities(&*t.store, &filter, 1000).await;
        assert_eq!(got, expected, "{text} (from memory)");
        let got: Vec<String> =
            activity_pages(&t.store, &filter, 1000, true).await.into_iter().flat_map(|p| p.0).collect();
        // Every bundled activity came with the first load: its etag is that write's position, quoted.
        let expected: Vec<String> = expected.into_iter().map(|id| format!("{id}@\"1\"")).collect();
        assert_eq!(got, expected, "{text} (in the database)");
    }
    // The example selects the Brazil activities from March 2007 on (with the Octopus conference, which
    // Brazil took part in).
    let f = Filter::parse("status = \"COMPLETED\" AND start >= \"2007-03-01\" AND country = \"countries/BR\"").unwrap();
    assert_eq!(all_activities(&*t.store, &f, 10).await.len(), 5);
}

async fn records_of_other_kinds_are_created_updated_and_deleted(t: TestStore) {
    let org = core_model::Organisation {
        id: "afripol".to_owned(),
        name: "African Police Cooperation".to_owned(),
        acronym: None,
        kind: OrganisationKind::Intergovernmental,
        source: SourceRef::new("report-2007-11", None),
    };
    let created = t.store.create_record(&editor(), Record::Organisation(org.clone())).await.unwrap();
    let entry = audit_entry(&*t.store, last_seq(&*t.store).await).await;
    assert_eq!(created.etag, quoted(entry.seq));
    assert_eq!((created.create_time.as_deref(), created.update_time.as_deref()), (Some(&*entry.at), Some(&*entry.at)));
    assert_eq!(t.store.get_record(RecordKind::Organisation, "afripol").await.unwrap(), created);
    let err = t.store.create_record(&editor(), Record::Organisation(org.clone())).await.unwrap_err();
    assert!(matches!(err, StorageError::AlreadyExists { .. }));
    let mut renamed = org.clone();
    renamed.acronym = Some("AFRIPOL".to_owned());
    let updated =
        t.store.update_record(&editor(), Record::Organisation(renamed.clone()), Some(&created.etag)).await.unwrap();
    let entry = audit_entry(&*t.store, last_seq(&*t.store).await).await;
    assert_eq!(updated.etag, quoted(entry.seq));
    assert_eq!(
        (updated.create_time.as_ref(), updated.update_time.as_deref()),
        (created.create_time.as_ref(), Some(&*entry.at))
    );
    assert_eq!(t.store.get_record(RecordKind::Organisation, "afripol").await.unwrap(), updated);
    let listed = t.store.list_records(RecordKind::Organisation, &PageRequest::first(1000)).await.unwrap();
    assert!(listed.items.contains(&updated), "the list has the version with its etag and times");
    assert!(matches!(
        t.store.update_record(&editor(), Record::Organisation(renamed), Some(&created.etag)).await,
        Err(StorageError::EtagMismatch { .. })
    ));
    // A record naming a missing source is refused.
    let mut unsourced = org.clone();
    unsourced.id = "other".to_owned();
    unsourced.source = SourceRef::new("no-such-document", None);
    let err = t.store.create_record(&editor(), Record::Organisation(unsourced)).await.unwrap_err();
    assert!(err.to_string().contains("unknown source `no-such-document`"), "{err}");
    t.store.delete_record(&editor(), RecordKind::Organisation, "afripol", Some(&updated.etag)).await.unwrap();
    assert!(matches!(
        t.store.get_record(RecordKind::Organisation, "afripol").await,
        Err(StorageError::NotFound { .. })
    ));
    // The objective and outputs are records too.
    let objective = t.store.get_record(RecordKind::Objective, "objective").await.unwrap();
    assert!(matches!(objective.record, Record::Objective(_)));
    assert!(matches!(t.store.get_record(RecordKind::Output, "1").await.unwrap().record, Record::Output(_)));
}

async fn the_store_passes_its_integrity_check(t: TestStore) {
    t.store.create_activity(&editor(), new_activity("2008-03-integrity")).await.unwrap();
    t.store.integrity_check().await.unwrap();
}

/// Many writers at once (so that the writer task groups them): valid creations, creations that break a rule,
/// pairs racing for one id, and a request repeated with its id. Each gets its own answer; what failed left
/// nothing behind; what succeeded is stored once and audited once.
async fn concurrent_writes_are_committed_together_and_a_failing_one_is_undone_alone(t: TestStore) {
    let audit_before = t.store.audit_log(&PageRequest::first(1000)).await.unwrap().items.len();
    let mut tasks = Vec::new();
    for i in 0..80 {
        let store = t.store.clone();
        tasks.push(tokio::spawn(async move {
            let (id, ctx, bad_partner) = match i % 4 {
                // Valid and unique.
                0 => (format!("group-ok-{i}"), editor(), None),
                // Unknown partner: refused by a foreign key or the check, after other rows were written.
                1 => (format!("group-bad-{i}"), editor(), Some("no-such-organisation")),
                // Two writers per id: one wins.
                2 => (format!("group-race-{}", i / 8), editor(), None),
                // One request id, sent by two writers: applied once, both answered alike.
                _ => ("group-once".to_owned(), editor().with_request_id("group-once-request"), None),
            };
            let mut activity = new_activity(&id);
            if let Some(org) = bad_partner {
                activity.partners[0].organisation = org.to_owned();
            }
            (i, id, store.create_activity(&ctx, activity).await)
        }));
    }
    let mut created = BTreeSet::new();
    let mut race_wins = std::collections::BTreeMap::<String, usize>::new();
    for task in tasks {
        let (i, id, result) = task.await.unwrap();
        match (i % 4, result) {
            (0, Ok(v)) | (3, Ok(v)) => {
                assert_eq!(v.record.id, id);
                created.insert(id);
            }
            (1, Err(e)) => assert_eq!(e.to_string(), "unknown organisation `no-such-organisation`"),
            (2, Ok(_)) => {
                *race_wins.entry(id.clone()).or_default() += 1;
                created.insert(id);
            }
            (2, Err(StorageError::AlreadyExists { id: lost, .. })) => assert_eq!(lost, id),
            (kind, other) => panic!("writer {i} (kind {kind}) got {other:?}"),
        }
    }
    assert_eq!(race_wins.len(), 10);
    assert!(race_wins.values().all(|n| *n == 1), "{race_wins:?}");
    for id in &created {
        assert_eq!(&t.store.get_activity(id).await.unwrap().record.id, id);
    }
    let stored: BTreeSet<String> = all_activities(&*t.store, &Filter::parse("").unwrap(), 1000)
        .await
        .into_iter()
        .filter(|id| id.starts_with("group-"))
        .collect();
    assert_eq!(stored, created, "no failed write left a row, no successful one is missing");
    // 20 valid + 10 race winners + 1 request applied once.
    assert_eq!(created.len(), 31);
    let audit = t.store.audit_log(&PageRequest::first(1000)).await.unwrap().items;
    assert_eq!(audit.len() - audit_before, 31, "one audit entry per write applied");
    t.store.integrity_check().await.unwrap();
}

/// The lists the index serves, pages and tokens, are the database's after creates, updates, deletes, an id
/// deleted and created again (which moves it to the end), and a write that fails; and, on PostgreSQL, another
/// store on the same database (a replica) catches up with them through its notifications.
#[allow(clippy::print_stderr)] // how long the replica took, for whoever reads the test's output
async fn lists_from_memory_follow_every_write_page_for_page_with_the_database(t: TestStore) {
    let replica = match t.place {
        testing::Place::Postgres(_) => Some(t.reopen().await),
        // One process per SQLite file: nothing tells another of a write.
        testing::Place::Sqlite(_) => None,
    };
    let filters: Vec<Filter> = [
        "",
        "status = \"PIPELINE\"",
        "status = \"COMPLETED\" AND start >= \"2007-03-01\" AND region = \"EUROPE\"",
        "country = \"AL\" OR kind = \"WORKSHOP\"",
        "NOT plan = \"2007-12..2008-06\"",
    ]
    .iter()
    .map(|f| Filter::parse(f).unwrap())
    .collect();
    let agree = |store: Arc<SqlStore>, filters: Vec<Filter>| async move {
        let mut all = Vec::new();
        for f in &filters {
            for size in [1, 7, 1000] {
                let memory = activity_pages(&store, f, size, false).await;
                assert_eq!(memory, activity_pages(&store, f, size, true).await, "{f}, pages of {size}");
                all.push(memory);
            }
        }
        all
    };
    let before = agree(t.store.clone(), filters.clone()).await;

    let store = &t.store;
    let mut etags = Vec::new();
    for id in ["2008-04-a", "2008-04-b", "2008-04-c"] {
        etags.push(store.create_activity(&editor(), new_activity(id)).await.unwrap().etag);
    }
    let mut a = new_activity("2008-04-a");
    a.status = ActivityStatus::Completed;
    a.kind = ActivityKind::Conference;
    store.update_activity(&editor(), a, Some(&etags[0])).await.unwrap();
    store.delete_activity(&editor(), "2008-04-b", None).await.unwrap();
    // An id deleted and created again is at the end of the order of creation.
    let first = Dataset::bundled().activities[0].clone();
    store.delete_activity(&editor(), &first.id, None).await.unwrap();
    store.create_activity(&editor(), first.clone()).await.unwrap();
    // A failed write changes nothing.
    assert!(store.create_activity(&editor(), new_activity("2008-04-c")).await.is_err());
    // Writes of one group commit.
    let group: Vec<_> = (0..20)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move { store.create_activity(&editor(), new_activity(&format!("2008-05-{n}"))).await })
        })
        .collect();
    for w in group {
        w.await.unwrap().unwrap();
    }

    let after = agree(t.store.clone(), filters.clone()).await;
    assert_ne!(before, after, "the writes changed the lists");
    let everything = all_activities(&**store, &Filter::default(), 1000).await;
    assert_eq!(everything.len(), 76 + 3 - 1 + 20);
    assert_eq!(everything[everything.len() - 21], first.id, "created again: after the others");
    assert!(!everything.contains(&"2008-04-b".to_owned()));
    let completed = Filter::parse("status = \"COMPLETED\" AND kind = \"CONFERENCE\"").unwrap();
    assert!(all_activities(&**store, &completed, 1000).await.contains(&"2008-04-a".to_owned()), "updated");

    if let Some(replica) = replica {
        let started = std::time::Instant::now();
        loop {
            let seen = all_activities(&*replica, &Filter::default(), 1000).await;
            if seen == everything {
                break;
            }
            assert!(started.elapsed() < std::time::Duration::from_secs(10), "the replica never caught up: {seen:?}");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        eprintln!("the replica's lists caught up in {:?}", started.elapsed());
        assert_eq!(agree(replica, filters).await, after, "the replica's pages and tokens");
    }
}

/// Every accepted write reads back as written, through every path: a point read, the list from memory and from
/// the database, a second instance, the export and an import of it (H1, M1 of the security review).
async fn what_a_write_stores_reads_back_whole_and_exports_and_imports(t: TestStore) {
    let mut a = new_activity("2008-03-semicolons");
    a.source = SourceRef(vec![
        core_model::Citation { document: "report-2007-11".into(), locator: Some(";".into()) },
        core_model::Citation { document: "CoE-2015".into(), locator: Some("§2.1; §2.3 ;; x".into()) },
    ]);
    a.note = Some("line one\nline two\twith a tab; and \u{e9}\u{301} \u{1F600}".into());
    let written = t.store.create_activity(&editor(), a.clone()).await.expect("create");
    assert_eq!(written.record, a);
    let mut ratified = action("PL", 185, ActionKind::Ratification, "2012-06-13");
    ratified.source = SourceRef(vec![core_model::Citation { document: "CoE-2015".into(), locator: Some(";".into()) }]);
    t.store.record_treaty_action(&editor(), ratified.clone()).await.expect("record");

    assert_eq!(t.store.get_activity(&a.id).await.unwrap().record, a);
    let all = Filter::parse("").unwrap();
    assert!(all_activities(&*t.store, &all, 1000).await.contains(&a.id));
    assert_eq!(activity_pages(&t.store, &all, 7, false).await, activity_pages(&t.store, &all, 7, true).await);
    let again = t.reopen().await;
    assert_eq!(again.get_activity(&a.id).await.unwrap().record, a);
    assert!(again.unreadable().is_empty(), "{:?}", again.unreadable());
    assert!(again.find_unreadable().await.unwrap().is_empty());
    let exported = again.export().await.unwrap();
    assert!(exported.treaty_actions.contains(&ratified));
    // The export, written as files and read back, is a valid dataset equal to what the store holds.
    let files = exported.to_files();
    let borrowed: Vec<(&str, &str)> = files.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    let parsed = Dataset::parse(&borrowed).unwrap_or_else(|e| panic!("the export does not parse back: {e}"));
    assert_eq!(parsed, exported);
    let empty = testing::sqlite(true).await;
    empty.store.import(&editor(), &parsed).await.expect("import");
    assert_eq!(empty.store.get_activity(&a.id).await.unwrap().record, a);
}

async fn a_citation_of_an_unknown_source_document_is_rejected(t: TestStore) {
    let before = t.store.export().await.unwrap();
    let mut a = new_activity("2008-03-unknown-source");
    a.source = SourceRef::new("no-such-document", None);
    let err = t.store.create_activity(&editor(), a).await.unwrap_err();
    assert_eq!(err.to_string(), "unknown source document `no-such-document`");
    let mut ratified = action("PL", 185, ActionKind::Ratification, "2012-06-13");
    ratified.source = SourceRef::new("no-such-document", Some("p. 3"));
    let err = t.store.record_treaty_action(&editor(), ratified).await.unwrap_err();
    assert_eq!(err.to_string(), "unknown source document `no-such-document`");
    let mut a = new_activity("2008-03-control");
    a.title = "Workshop\u{1b}]0;pwned\u{7}".into();
    let err = t.store.create_activity(&editor(), a).await.unwrap_err();
    assert!(err.to_string().starts_with("field `title`: holds a control character"), "{err}");
    assert_eq!(t.store.export().await.unwrap(), before);
}

/// A row that cannot be decoded (a bug, or a database edited by hand) is set aside: the store opens, lists
/// answer with everything else and name it, a read of it alone fails, the export leaves it out, and an admin
/// deletes it; then nothing is unreadable and every read works again.
async fn a_record_that_cannot_be_decoded_is_set_aside_not_fatal(t: TestStore) {
    t.store.create_activity(&editor(), new_activity("2008-03-poison")).await.unwrap();
    t.store.record_treaty_action(&editor(), action("PL", 185, ActionKind::Ratification, "2012-06-13")).await.unwrap();
    let at = "PL".parse().unwrap();
    let listed = t.store.list_treaty_actions(Some(TreatyNumber(185)), Some(&at), &PageRequest::first(9)).await;
    assert_eq!(listed.unwrap().items.len(), 2, "PL's signature and the ratification");
    t.execute_by_hand("UPDATE activities SET body = '{\"id\": 3' WHERE id = '2008-03-poison'").await;
    t.execute_by_hand(
        "UPDATE treaty_actions SET body = '{\"state\": \"PL\", \"nonsense\": true}' \
         WHERE seq = (SELECT MAX(seq) FROM treaty_actions)",
    )
    .await;
    t.execute_by_hand("UPDATE records SET body = 'not json' WHERE kind = 'study' AND id = 'legislation'").await;

    let store = t.reopen().await;
    let names: Vec<String> = store.unreadable().into_iter().map(|u| u.resource).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert_eq!(names[0], "activities/2008-03-poison");
    assert!(names[1].starts_with("treaties/185/actions/"), "{names:?}");
    let found: Vec<String> = store.find_unreadable().await.unwrap().into_iter().map(|u| u.resource).collect();
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(found.contains(&"records/study/legislation".to_owned()), "{found:?}");

    let all = Filter::parse("").unwrap();
    let listed = all_activities(&*store, &all, 50).await;
    assert!(!listed.contains(&"2008-03-poison".to_owned()));
    assert_eq!(listed.len(), Dataset::bundled().activities.len());
    assert_eq!(activity_pages(&store, &all, 7, false).await, activity_pages(&store, &all, 7, true).await);
    assert!(matches!(store.get_activity("2008-03-poison").await, Err(StorageError::Unreadable { .. })));
    assert!(matches!(store.get_record(RecordKind::Study, "legislation").await, Err(StorageError::Unreadable { .. })));
    let exported = store.export().await.expect("the export leaves out what it cannot read");
    assert!(exported.activities.iter().all(|a| a.id != "2008-03-poison"));
    assert_eq!(exported.studies.len(), Dataset::bundled().studies.len() - 1);
    // The rules need every action of a state: a new one for AT is refused while one is unreadable.
    let err = store
        .record_treaty_action(&editor(), action("PL", 189, ActionKind::Signature, "2012-06-14"))
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::Unreadable { .. }), "{err}");
    // Status tables still answer, without the unreadable action.
    let status = store.snapshot().dataset().treaty_status(TreatyNumber(185), day("2013-01-01"));
    assert!(status.is_ok());

    // A readable record is not deleted as unreadable; treaties and states never are.
    let err = store.delete_unreadable(&editor(), "activities/2007-03-19-belgrade-regional-conference").await;
    assert!(err.is_err());
    assert!(store.delete_unreadable(&editor(), "treaties/185").await.is_err());
    for name in &found {
        store.delete_unreadable(&WriteContext::by("admin@coe"), name).await.unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    assert!(store.unreadable().is_empty(), "{:?}", store.unreadable());
    assert!(store.find_unreadable().await.unwrap().is_empty());
    let audit = store.audit_log(&PageRequest::first(1000)).await.unwrap().items;
    let deleted: Vec<&storage::AuditEntry> = audit.iter().filter(|e| e.operation == "delete_unreadable").collect();
    assert_eq!(deleted.len(), 3);
    assert!(deleted.iter().all(|e| e.principal == "admin@coe" && e.before.is_some() && e.after.is_none()));
    // Written again, everything reads.
    store.create_activity(&editor(), new_activity("2008-03-poison")).await.unwrap();
    store.record_treaty_action(&editor(), action("PL", 185, ActionKind::Ratification, "2012-06-13")).await.unwrap();
    assert!(store.get_activity("2008-03-poison").await.is_ok());
    let reopened = t.reopen().await;
    assert!(reopened.unreadable().is_empty());
}

async fn request_ids_belong_to_the_principal_that_sent_them(t: TestStore) {
    let admin = WriteContext::by("admin@coe").with_request_id("shared-2");
    let same_id = editor().with_request_id("shared-2");
    let created = t.store.create_activity(&editor(), new_activity("2008-03-shared")).await.unwrap();
    let mut by_admin = created.record.clone();
    by_admin.title = "edited by admin".to_owned();
    let first = t.store.update_activity(&admin, by_admin.clone(), Some(&created.etag)).await.unwrap();
    assert_eq!(first.etag, quoted(last_seq(&*t.store).await));
    // The same principal sending the same request again gets the same answer; nothing is applied twice.
    assert_eq!(t.store.update_activity(&admin, by_admin.clone(), Some(&created.etag)).await.unwrap(), first);
    // Another principal's id is another request: applied, on the current version.
    let mut by_editor = by_admin.clone();
    by_editor.title = "second edit by editor, reusing shared-2".to_owned();
    let second = t.store.update_activity(&same_id, by_editor.clone(), Some(&first.etag)).await.unwrap();
    assert_eq!(
        (second.etag.as_str(), second.record.title.as_str()),
        (quoted(last_seq(&*t.store).await).as_str(), by_editor.title.as_str())
    );
    assert_eq!(t.store.get_activity("2008-03-shared").await.unwrap(), second);
    // The same principal, the same id, another input (a body, an etag, another resource or operation): refused,
    // without naming the earlier request.
    let mut other_body = by_editor.clone();
    other_body.title = "a third title".to_owned();
    for err in [
        t.store.update_activity(&same_id, other_body.clone(), Some(&first.etag)).await.unwrap_err(),
        t.store.update_activity(&same_id, by_editor.clone(), Some(&second.etag)).await.unwrap_err(),
        t.store.delete_activity(&same_id, "2008-03-shared", None).await.unwrap_err(),
        t.store.create_activity(&same_id, new_activity("2008-03-shared-other")).await.unwrap_err(),
    ] {
        assert!(matches!(err, StorageError::RequestIdReused { .. }), "{err:?}");
        assert_eq!(err.to_string(), "request id `shared-2` was already used for a different request");
    }
    assert_eq!(t.store.get_activity("2008-03-shared").await.unwrap(), second);
    assert!(matches!(t.store.get_activity("2008-03-shared-other").await, Err(StorageError::NotFound { .. })));
    // Records and treaty actions too: the admin's id on a record is the admin's alone.
    let org = t.store.get_record(RecordKind::Organisation, "microsoft").await.unwrap();
    let Record::Organisation(mut renamed) = org.record.clone() else { panic!("an organisation") };
    renamed.acronym = Some("MS".to_owned());
    let err = t.store.update_record(&admin, Record::Organisation(renamed.clone()), None).await.unwrap_err();
    assert!(matches!(err, StorageError::RequestIdReused { .. }), "{err:?}");
    let by_reader = WriteContext::by("reader-turned-editor@coe").with_request_id("shared-2");
    let updated = t.store.update_record(&by_reader, Record::Organisation(renamed.clone()), None).await.unwrap();
    assert_eq!(updated.etag, quoted(last_seq(&*t.store).await));
    assert_eq!(t.store.update_record(&by_reader, Record::Organisation(renamed), None).await.unwrap(), updated);
    let de = action("DE", 185, ActionKind::Ratification, "2009-03-09");
    let err = t.store.record_treaty_action(&by_reader, de.clone()).await.unwrap_err();
    assert!(matches!(err, StorageError::RequestIdReused { .. }), "{err:?}");
    // Three requests applied under one id, one audit entry each.
    let audit = t.store.audit_log(&PageRequest::first(1000)).await.unwrap().items;
    let with_id: Vec<(&str, &str)> = audit
        .iter()
        .filter(|e| e.request_id.as_deref() == Some("shared-2"))
        .map(|e| (e.principal.as_str(), e.resource.as_str()))
        .collect();
    assert_eq!(
        with_id,
        [
            ("admin@coe", "activities/2008-03-shared"),
            ("editor@coe", "activities/2008-03-shared"),
            ("reader-turned-editor@coe", "organisation/microsoft")
        ]
    );
}

/// Writes a store's export (dataset and history) to `dir` as `cybercrime export` does, and reads back what
/// `cybercrime import` would: the dataset's files, and the history files that are present.
fn write_and_read_export(dir: &std::path::Path, dataset: &Dataset, history: Option<&History>) -> (Dataset, History) {
    std::fs::create_dir_all(dir).unwrap();
    let mut files = dataset.to_files();
    if let Some(h) = history {
        files.extend(h.to_files().unwrap());
    }
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let mut read = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        read.push((name, std::fs::read_to_string(&path).unwrap()));
    }
    let borrowed: Vec<(&str, &str)> = read.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    // The dataset's parser is handed every file of the folder, the history's among them.
    (Dataset::parse(&borrowed).unwrap(), History::parse(&borrowed).unwrap())
}

async fn whole_audit_log(store: &dyn Store) -> Vec<AuditEntry> {
    let mut entries = Vec::new();
    let mut page = PageRequest::first(1000);
    loop {
        let p = store.audit_log(&page).await.unwrap();
        entries.extend(p.items);
        if p.next_page_token.is_empty() {
            return entries;
        }
        page.page_token = p.next_page_token;
    }
}

async fn a_restore_keeps_etags_request_ids_and_the_audit_log(t: TestStore) {
    // A store with updates (three versions), deletes, records updated and request ids.
    let s = &t.store;
    let created =
        s.create_activity(&editor().with_request_id("create-1"), new_activity("2008-03-restore")).await.unwrap();
    let mut a = created.record.clone();
    a.title = "second version".to_owned();
    let second = s.update_activity(&editor(), a.clone(), Some(&created.etag)).await.unwrap();
    a.title = "third version".to_owned();
    let retried = editor().with_request_id("update-3");
    let third = s.update_activity(&retried, a.clone(), Some(&second.etag)).await.unwrap();
    let third_seq = last_seq(&**s).await;
    assert_eq!(third.etag, quoted(third_seq));
    let gone = s.create_activity(&editor(), new_activity("2008-03-gone")).await.unwrap();
    s.delete_activity(&editor().with_request_id("delete-1"), "2008-03-gone", Some(&gone.etag)).await.unwrap();
    let org = s.get_record(RecordKind::Organisation, "microsoft").await.unwrap();
    let Record::Organisation(mut renamed) = org.record.clone() else { panic!("an organisation") };
    renamed.acronym = Some("MS".to_owned());
    let org_updated = s
        .update_record(&WriteContext::by("admin@coe"), Record::Organisation(renamed.clone()), Some(&org.etag))
        .await
        .unwrap();
    let de = action("DE", 185, ActionKind::Ratification, "2009-03-09");
    s.record_treaty_action(&editor().with_request_id("ratify-de"), de.clone()).await.unwrap();

    let (dataset, history) = s.export_with_history().await.unwrap();
    assert_eq!(dataset, s.export().await.unwrap());
    assert_eq!(history.etags.get("activities/2008-03-restore"), Some(&third_seq));
    assert_eq!(history.etags.get("organisation/microsoft").map(|seq| quoted(*seq)), Some(org_updated.etag.clone()));
    assert!(!history.etags.contains_key("activities/2008-03-gone"));
    assert_eq!(history.requests.len(), 4);
    let source_audit = whole_audit_log(&**s).await;
    assert_eq!(history.audit, source_audit);

    let dir = tempfile::tempdir().unwrap();
    let (parsed, parsed_history) = write_and_read_export(&dir.path().join("export"), &dataset, Some(&history));
    assert_eq!((&parsed, &parsed_history), (&dataset, &history));
    let restored = t.new_empty().await;
    let r = &restored.store;
    r.import_with_history(&WriteContext::by("cybercrime import"), &parsed, &parsed_history).await.unwrap();
    assert_eq!(r.export().await.unwrap(), dataset);

    // The audit log: the source's, entry for entry, then the import.
    let audit = whole_audit_log(&**r).await;
    assert_eq!(audit.len(), source_audit.len() + 1);
    assert_eq!(audit[..source_audit.len()], source_audit[..]);
    let last = audit.last().unwrap();
    assert_eq!(
        (last.principal.as_str(), last.operation.as_str(), last.resource.as_str()),
        ("cybercrime import", "import", "dataset")
    );

    // Etags and times: as they were; the stale one is refused, the current one works.
    assert_eq!(r.get_activity("2008-03-restore").await.unwrap(), third);
    assert_eq!(r.get_record(RecordKind::Organisation, "microsoft").await.unwrap(), org_updated);
    let listed = r.list_activities(&Filter::default(), &PageRequest::first(1000)).await.unwrap();
    assert!(listed.items.iter().any(|v| **v == third), "the list after a restore has the etag too");

    // A write retried by its principal with its request id is not applied again: the answer given then.
    assert_eq!(r.update_activity(&retried, a.clone(), Some(&second.etag)).await.unwrap(), third);
    assert_eq!(
        r.create_activity(&editor().with_request_id("create-1"), new_activity("2008-03-restore")).await.unwrap(),
        created
    );
    r.delete_activity(&editor().with_request_id("delete-1"), "2008-03-gone", Some(&gone.etag)).await.unwrap();
    assert_eq!(
        r.record_treaty_action(&editor().with_request_id("ratify-de"), de).await.unwrap().record.state.as_str(),
        "DE"
    );
    assert_eq!(whole_audit_log(&**r).await, audit, "no retried write was applied again");
    // ... and the same id with another input is still refused.
    let mut other = a.clone();
    other.title = "another title".to_owned();
    let err = r.update_activity(&retried, other.clone(), Some(&second.etag)).await.unwrap_err();
    assert!(matches!(err, StorageError::RequestIdReused { .. }), "{err:?}");

    let err = r.update_activity(&editor(), other.clone(), Some(&second.etag)).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("activity `2008-03-restore` has changed: etag `{}` is not the current `{}`", second.etag, third.etag)
    );
    let err = r.update_record(&editor(), Record::Organisation(renamed.clone()), Some(&org.etag)).await.unwrap_err();
    assert!(matches!(err, StorageError::EtagMismatch { .. }), "{err:?}");
    let fourth = r.update_activity(&editor(), other, Some(&third.etag)).await.unwrap();
    // A new version after the restore: past every position of the restored log, so no etag repeats.
    let fourth_seq = last_seq(&**r).await;
    assert!(fourth_seq > last.seq);
    assert_eq!(fourth.etag, quoted(fourth_seq));
    assert_eq!(fourth.create_time, third.create_time);

    // Exported again, the restored store's history holds the source's request ids, and its etags.
    let (_, again) = r.export_with_history().await.unwrap();
    assert_eq!(again.requests, history.requests);
    assert_eq!(again.etags.get("activities/2008-03-restore"), Some(&fourth_seq));

    // A folder without the history files (a hand-made dataset) imports as before, one audit entry, every
    // activity and record at the import's position and time.
    let (bare, no_history) = write_and_read_export(&dir.path().join("bare"), &dataset, None);
    assert!(no_history.is_empty());
    let plain = t.new_empty().await;
    plain.store.import_with_history(&editor(), &bare, &no_history).await.unwrap();
    let import = whole_audit_log(&*plain.store).await;
    assert_eq!(import.len(), 1);
    let plain_restore = plain.store.get_activity("2008-03-restore").await.unwrap();
    assert_eq!(plain_restore.etag, quoted(import[0].seq));
    assert_eq!(plain_restore.create_time.as_deref(), Some(import[0].at.as_str()));

    // Etags of another export are refused, naming the file; nothing is imported.
    let mut foreign = history.clone();
    foreign.etags.insert("activities/not-in-this-export".to_owned(), 2);
    let empty = t.new_empty().await;
    let err = empty.store.import_with_history(&editor(), &dataset, &foreign).await.unwrap_err();
    assert!(err.to_string().contains("versions.toml") && err.to_string().contains("not-in-this-export"), "{err}");
    assert_eq!(empty.store.export().await.unwrap(), Dataset::empty());
}

async fn request_ids_are_forgotten_after_their_time_to_live(t: TestStore) {
    assert_eq!(OpenOptions::default().request_id_ttl, Some(std::time::Duration::from_secs(7 * 24 * 3600)));
    // Another instance on the same database, keeping request ids for one second.
    let ttl = std::time::Duration::from_secs(1);
    let options = OpenOptions { max_connections: 2, request_id_ttl: Some(ttl), ..OpenOptions::default() };
    let store = SqlStore::open(&t.url, options).await.unwrap();
    let created = store.create_activity(&editor(), new_activity("2008-03-ttl")).await.unwrap();
    let mut changed = created.record.clone();
    changed.title = "changed once".to_owned();
    let ctx = editor().with_request_id("ttl-1");
    let first = store.update_activity(&ctx, changed.clone(), None).await.unwrap();
    assert_eq!(first.etag, quoted(last_seq(&store).await));
    // Within its time to live, a repeat is answered from the first time.
    assert_eq!(store.update_activity(&ctx, changed.clone(), None).await.unwrap(), first);
    tokio::time::sleep(ttl + std::time::Duration::from_millis(300)).await;
    // After it, the id is forgotten: the same request is a new one.
    let again = store.update_activity(&ctx, changed, None).await.unwrap();
    assert_eq!(again.etag, quoted(last_seq(&store).await));
    assert_ne!(again.etag, first.etag);
    let audit = whole_audit_log(&store).await;
    assert_eq!(audit.iter().filter(|e| e.request_id.as_deref() == Some("ttl-1")).count(), 2);
    // The default instance keeps the id it has seen again for a week.
    let kept = t.store.update_activity(&ctx, again.record.clone(), None).await.unwrap();
    assert_eq!(kept, again);
}

/// A clean shutdown's close: every acknowledged write is kept, a SQLite store is its one file afterwards (the WAL
/// checkpointed, the `-wal` and `-shm` files gone), and a write after it fails rather than waits.
async fn a_closed_store_keeps_every_write_and_is_one_file(t: TestStore) {
    let created = t.store.create_activity(&editor(), new_activity("2008-03-closed")).await.unwrap();
    if let Some(path) = t.path() {
        assert!(path.with_extension("sqlite-wal").exists(), "a running store has its WAL");
    }
    t.store.close().await.expect("a clean close");
    if let Some(path) = t.path() {
        let dir = path.parent().expect("its folder");
        let names: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        assert_eq!(names, ["store.sqlite"], "one file after close");
    }
    let late = tokio::time::timeout(
        std::time::Duration::from_secs(15),
        t.store.create_activity(&editor(), new_activity("2008-03-late")),
    )
    .await
    .expect("a write after close is answered");
    assert!(late.is_err(), "a write after close fails");
    let reopened = t.reopen().await;
    assert_eq!(reopened.get_activity("2008-03-closed").await.unwrap(), created);
    assert!(matches!(reopened.get_activity("2008-03-late").await, Err(StorageError::NotFound { .. })));
}

async fn etags_never_repeat_across_a_delete_and_a_re_create(t: TestStore) {
    let mut seen = BTreeSet::new();
    let mut etags: Vec<String> = Vec::new();
    for round in 0..3 {
        let created = t.store.create_activity(&editor(), new_activity("2008-03-again")).await.unwrap();
        let mut changed = created.record.clone();
        changed.title = format!("round {round}");
        let updated = t.store.update_activity(&editor(), changed, Some(&created.etag)).await.unwrap();
        // Every etag a client may hold from an earlier life is refused on this one.
        for old in &etags {
            let err = t.store.update_activity(&editor(), updated.record.clone(), Some(old.as_str())).await.unwrap_err();
            assert!(matches!(err, StorageError::EtagMismatch { .. }), "{old}: {err:?}");
            let err = t.store.delete_activity(&editor(), "2008-03-again", Some(old)).await.unwrap_err();
            assert!(matches!(err, StorageError::EtagMismatch { .. }), "{old}: {err:?}");
        }
        for etag in [&created.etag, &updated.etag] {
            assert!(seen.insert(etag.clone()), "etag {etag} given twice");
            etags.push(etag.clone());
        }
        t.store.delete_activity(&editor(), "2008-03-again", Some(&updated.etag)).await.unwrap();
    }
}

async fn a_schema_3_store_gets_etags_and_times_from_its_audit_log(t: TestStore) {
    // A store's history: the bundled load (position 1), an activity created and updated, another created,
    // deleted and created again, an organisation updated.
    let s = &t.store;
    let x = s.create_activity(&editor(), new_activity("2008-03-x")).await.unwrap();
    let mut changed = x.record.clone();
    changed.title = "changed".to_owned();
    s.update_activity(&editor(), changed, None).await.unwrap();
    let y = s.create_activity(&editor(), new_activity("2008-03-y")).await.unwrap();
    s.delete_activity(&editor(), "2008-03-y", None).await.unwrap();
    s.create_activity(&editor(), new_activity("2008-03-y")).await.unwrap();
    let org = s.get_record(RecordKind::Organisation, "microsoft").await.unwrap();
    s.update_record(&editor(), org.record.clone(), None).await.unwrap();
    let audit = whole_audit_log(&**s).await;
    assert_eq!(audit.len(), 7);
    let (load, x_create, x_update, y_create) = (&audit[0], &audit[1], &audit[2], &audit[5]);
    assert_eq!((load.operation.as_str(), y_create.resource.as_str()), ("load-bundled-dataset", "activities/2008-03-y"));
    assert_ne!(y.etag, quoted(y_create.seq));

    // Taken back to schema version 3 as it was: per-row counters as etags, no times, no index on the audit log.
    t.execute_by_hand("UPDATE activities SET etag = 2 WHERE id = '2008-03-x'").await;
    t.execute_by_hand("UPDATE records SET etag = 2 WHERE kind = 'organisation' AND id = 'microsoft'").await;
    back_to_schema_version_3(&t).await;

    let migrated = t.reopen().await;
    let x = migrated.get_activity("2008-03-x").await.unwrap();
    assert_eq!(
        (x.etag.as_str(), x.create_time.as_deref(), x.update_time.as_deref()),
        (quoted(x_update.seq).as_str(), Some(x_create.at.as_str()), Some(x_update.at.as_str()))
    );
    let y = migrated.get_activity("2008-03-y").await.unwrap();
    assert_eq!(
        (y.etag.as_str(), y.create_time.as_deref(), y.update_time.as_deref()),
        (quoted(y_create.seq).as_str(), Some(y_create.at.as_str()), Some(y_create.at.as_str()))
    );
    let bundled = Dataset::bundled().activities[0].id.clone();
    let b = migrated.get_activity(&bundled).await.unwrap();
    assert_eq!(
        (b.etag.as_str(), b.create_time.as_deref(), b.update_time.as_deref()),
        (quoted(load.seq).as_str(), Some(load.at.as_str()), Some(load.at.as_str()))
    );
    let org = migrated.get_record(RecordKind::Organisation, "microsoft").await.unwrap();
    assert_eq!(
        (org.etag.as_str(), org.create_time.as_deref()),
        (quoted(audit[6].seq).as_str(), Some(load.at.as_str()))
    );
    // The list (the activity index) carries them too.
    let listed = migrated.list_activities(&Filter::default(), &PageRequest::first(1000)).await.unwrap();
    assert!(listed.items.iter().any(|v| **v == x));

    // Every etag given before the migration is refused; the new ones work.
    for (id, old) in [("2008-03-x", "1"), ("2008-03-x", "2"), ("2008-03-y", "1"), (bundled.as_str(), "1")] {
        let current = migrated.get_activity(id).await.unwrap();
        let err = migrated.update_activity(&editor(), current.record.clone(), Some(old)).await.unwrap_err();
        assert!(matches!(err, StorageError::EtagMismatch { .. }), "{id} at {old}: {err:?}");
        let err = migrated.delete_activity(&editor(), id, Some(old)).await.unwrap_err();
        assert!(matches!(err, StorageError::EtagMismatch { .. }), "{id} at {old}: {err:?}");
    }
    let err = migrated.update_record(&editor(), org.record.clone(), Some("2")).await.unwrap_err();
    assert!(matches!(err, StorageError::EtagMismatch { .. }), "{err:?}");
    let next = migrated.update_activity(&editor(), x.record.clone(), Some(&x.etag)).await.unwrap();
    assert_eq!(next.etag, quoted(last_seq(&*migrated).await));
    assert_eq!(next.create_time, x.create_time);
}

/// Takes a store of this version back to schema version 3: every etag a counter at 1 but those set to more
/// before (rows with etag above 2 are set to 1 too), no times, no index on the audit log.
async fn back_to_schema_version_3(t: &TestStore) {
    for sql in [
        "UPDATE activities SET etag = 1 WHERE etag > 2",
        "UPDATE records SET etag = 1 WHERE etag > 2",
        "ALTER TABLE activities DROP COLUMN create_time",
        "ALTER TABLE activities DROP COLUMN update_time",
        "ALTER TABLE records DROP COLUMN create_time",
        "ALTER TABLE records DROP COLUMN update_time",
        "DROP INDEX audit_resource",
        "DELETE FROM _sqlx_migrations WHERE version = 4",
        "UPDATE meta SET value = '3' WHERE key = 'schema_version'",
    ] {
        t.execute_by_hand(sql).await;
    }
}

async fn a_schema_3_store_without_an_audit_log_gets_no_invented_times(t: TestStore) {
    t.store.create_activity(&editor(), new_activity("2008-03-z")).await.unwrap();
    back_to_schema_version_3(&t).await;
    // A log emptied by hand: nothing says when anything was written.
    t.execute_by_hand("DELETE FROM audit").await;
    let migrated = t.reopen().await;
    let z = migrated.get_activity("2008-03-z").await.unwrap();
    assert_eq!((z.etag.as_str(), z.create_time.as_ref(), z.update_time.as_ref()), ("\"0\"", None, None));
    let org = migrated.get_record(RecordKind::Organisation, "microsoft").await.unwrap();
    assert_eq!((org.etag.as_str(), org.create_time.as_ref()), ("\"0\"", None));
    for old in ["1", "2"] {
        let err = migrated.update_activity(&editor(), z.record.clone(), Some(old)).await.unwrap_err();
        assert!(matches!(err, StorageError::EtagMismatch { .. }), "{old}: {err:?}");
    }
    // Updated, it gets a new etag and an update time; its creation time stays unknown, in the answer too.
    let updated = migrated.update_activity(&editor(), z.record.clone(), Some(&z.etag)).await.unwrap();
    let entry = audit_entry(&*migrated, last_seq(&*migrated).await).await;
    assert_eq!(
        (updated.etag.as_str(), updated.create_time.as_ref(), updated.update_time.as_deref()),
        (quoted(entry.seq).as_str(), None, Some(entry.at.as_str()))
    );
    assert_eq!(migrated.get_activity("2008-03-z").await.unwrap(), updated);
    // Exported and imported, the etags stay (`"0"` too).
    let (dataset, history) = migrated.export_with_history().await.unwrap();
    let restored = t.new_empty().await;
    restored.store.import_with_history(&editor(), &dataset, &history).await.unwrap();
    assert_eq!(restored.store.get_record(RecordKind::Organisation, "microsoft").await.unwrap().etag, "\"0\"");
    assert_eq!(restored.store.get_activity("2008-03-z").await.unwrap().etag, updated.etag);
}
