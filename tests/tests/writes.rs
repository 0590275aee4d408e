//! Writes a partner can trust (issue 15), through the real binary with a tonic client: update masks as AIP-134
//! defines them, the etag on the resource (AIP-154) and unique over an activity's whole life, masked updates
//! without an etag atomic against the version they merged onto (two concurrent updates of different fields both
//! keep their field, on SQLite and on PostgreSQL), `activity_id` on create (AIP-133), and `create_time` and
//! `update_time` (AIP-148) from the audit log.

use std::collections::BTreeSet;

use api::activity_service_client::ActivityServiceClient;
use e2e_tests::{TestServer, api, bad_request, builders::activity, with_token};
use prost_types::FieldMask;
use storage::testing::PgSchema;
use tonic::{Code, transport::Channel};

fn client(channel: &Channel) -> ActivityServiceClient<Channel> {
    ActivityServiceClient::new(channel.clone())
}

/// Creates `a` as an editor.
async fn create(channel: &Channel, a: api::Activity) -> api::Activity {
    create_with_id(channel, a, "").await.expect("create")
}

/// Creates `a` as an editor, with `activity_id`.
async fn create_with_id(channel: &Channel, a: api::Activity, id: &str) -> Result<api::Activity, tonic::Status> {
    client(channel)
        .create_activity(with_token(
            api::CreateActivityRequest { activity: Some(a), activity_id: id.to_owned(), ..Default::default() },
            "editor-token",
        ))
        .await
        .map(tonic::Response::into_inner)
}

/// Updates as an editor: `a` with `mask` (`None`: no mask) and the request's `etag`.
async fn update(
    channel: &Channel,
    a: api::Activity,
    mask: Option<&[&str]>,
    etag: &str,
) -> Result<api::Activity, tonic::Status> {
    client(channel)
        .update_activity(with_token(
            api::UpdateActivityRequest {
                activity: Some(a),
                update_mask: mask.map(|paths| FieldMask { paths: paths.iter().map(|p| (*p).to_owned()).collect() }),
                etag: etag.to_owned(),
                request_id: String::new(),
            },
            "editor-token",
        ))
        .await
        .map(tonic::Response::into_inner)
}

async fn get(channel: &Channel, name: &str) -> api::Activity {
    client(channel).get_activity(api::GetActivityRequest { name: name.to_owned() }).await.expect("get").into_inner()
}

/// A valid activity with a note and a place, to update field by field.
fn noted(name: &str) -> api::Activity {
    api::Activity {
        note: "a note to keep".into(),
        description: "a description".into(),
        place: Some(api::Place {
            text: "Tirana, Albania".into(),
            city: "Tirana".into(),
            country: "countries/AL".into(),
            ..Default::default()
        }),
        ..activity(name)
    }
}

#[tokio::test]
async fn update_masks_follow_aip_134() {
    let server = TestServer::start();
    let channel = server.channel().await;
    let name = "activities/2009-05-masks";
    create(&channel, noted(name)).await;

    // No mask: the fields set in the request. The unset note and description are kept.
    let only_title = api::Activity { name: name.into(), title: "A new title".into(), ..Default::default() };
    let v = update(&channel, only_title.clone(), None, "").await.expect("no mask");
    assert_eq!(
        (v.title.as_str(), v.note.as_str(), v.description.as_str()),
        ("A new title", "a note to keep", "a description")
    );
    // An empty mask is the same.
    let v =
        update(&channel, api::Activity { title: "Again".into(), ..only_title.clone() }, Some(&[]), "").await.unwrap();
    assert_eq!((v.title.as_str(), v.note.as_str()), ("Again", "a note to keep"));
    assert_eq!(v.place.as_ref().map(|p| p.city.as_str()), Some("Tirana"));

    // A nested path: only the city changes, the rest of the place stays.
    let moved = api::Activity {
        name: name.into(),
        place: Some(api::Place { city: "Durrës".into(), ..Default::default() }),
        ..Default::default()
    };
    let v = update(&channel, moved, Some(&["place.city"]), "").await.expect("place.city");
    let place = v.place.clone().unwrap_or_default();
    assert_eq!(
        (place.city.as_str(), place.text.as_str(), place.country.as_str()),
        ("Durrës", "Tirana, Albania", "countries/AL")
    );
    assert_eq!(v.note, "a note to keep");
    // A nested path of a date.
    let later = api::Activity {
        name: name.into(),
        start: Some(api::ApproxDate { text: "2009-06".into(), ..Default::default() }),
        ..Default::default()
    };
    let v = update(&channel, later, Some(&["start"]), "").await.expect("start");
    assert_eq!(v.start.as_ref().map(|d| d.text.as_str()), Some("2009-06"));

    // A path named, unset in the request: cleared.
    let v =
        update(&channel, api::Activity { name: name.into(), ..Default::default() }, Some(&["note"]), "").await.unwrap();
    assert_eq!((v.note.as_str(), v.description.as_str()), ("", "a description"));

    // "*": the whole activity replaced; its unset description is cleared.
    let whole = api::Activity { note: "whole".into(), ..activity(name) };
    let v = update(&channel, whole, Some(&["*"]), "").await.expect("*");
    assert_eq!((v.note.as_str(), v.description.as_str(), v.title.as_str()), ("whole", "", "Test activity"));
    assert!(v.place.as_ref().is_none_or(|p| p.city.is_empty()), "{:?}", v.place);
    assert_eq!(get(&channel, name).await, v);

    // Unknown paths, named with their place in the mask.
    for (paths, field, path) in [
        (&["title", "colour"][..], "update_mask.paths[1]", "colour"),
        (&["place.colour"][..], "update_mask.paths[0]", "place.colour"),
        (&["title.length"][..], "update_mask.paths[0]", "title.length"),
        (&["partners.role"][..], "update_mask.paths[0]", "partners.role"),
        (&[""][..], "update_mask.paths[0]", ""),
    ] {
        let err = update(&channel, only_title.clone(), Some(paths), "").await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{paths:?}");
        assert_eq!(
            bad_request(&err),
            [(field.to_owned(), format!("`{path}` is not an updatable field of Activity"))],
            "{paths:?}"
        );
    }
    let err = update(&channel, only_title.clone(), Some(&["*", "title"]), "").await.unwrap_err();
    assert_eq!(bad_request(&err).first().map(|v| v.0.as_str()), Some("update_mask.paths[1]"));

    // Output-only fields in a mask are ignored (AIP-203): the name, etag and times stay the store's.
    let before = get(&channel, name).await;
    let sneaky = api::Activity {
        name: name.into(),
        title: "Output only ignored".into(),
        etag: String::new(),
        create_time: Some(prost_types::Timestamp { seconds: 1, nanos: 0 }),
        ..Default::default()
    };
    let v = update(&channel, sneaky, Some(&["title", "etag", "create_time", "update_time", "name"]), "").await.unwrap();
    assert_eq!((v.title.as_str(), v.create_time), ("Output only ignored", before.create_time));
    assert_ne!(v.etag, before.etag);
}

#[tokio::test]
async fn the_etag_on_the_resource_counts_and_conflicting_etags_are_refused() {
    let server = TestServer::start();
    let channel = server.channel().await;
    let name = "activities/2009-05-etags";
    let created = create(&channel, noted(name)).await;
    let v2 =
        update(&channel, api::Activity { name: name.into(), title: "second".into(), ..Default::default() }, None, "")
            .await
            .unwrap();

    // Get, edit, update with the stale activity: its own etag makes the update conditional.
    let stale = api::Activity { title: "a lost update".into(), ..created.clone() };
    let err = update(&channel, stale.clone(), None, "").await.unwrap_err();
    assert_eq!(err.code(), Code::Aborted, "{err:?}");
    let err = update(&channel, stale.clone(), Some(&["*"]), "").await.unwrap_err();
    assert_eq!(err.code(), Code::Aborted, "{err:?}");
    assert_eq!(get(&channel, name).await.title, "second");

    // Both etags given and different: INVALID_ARGUMENT naming both.
    let fresh = api::Activity { title: "third".into(), ..v2.clone() };
    let err = update(&channel, fresh.clone(), None, &created.etag).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    let violations = bad_request(&err);
    assert_eq!(violations.len(), 1);
    assert_eq!(violations[0].0, "etag");
    assert!(violations[0].1.contains("activity.etag") && violations[0].1.contains(&created.etag), "{violations:?}");
    // Both given and equal, or the current one in either place: applied.
    let v3 = update(&channel, fresh.clone(), None, &v2.etag).await.expect("both equal");
    assert_eq!(v3.title, "third");
    let v4 =
        update(&channel, api::Activity { title: "fourth".into(), ..v3.clone() }, None, "").await.expect("resource's");
    let v5 = update(
        &channel,
        api::Activity { name: name.into(), title: "fifth".into(), ..Default::default() },
        Some(&["title"]),
        &v4.etag,
    )
    .await
    .expect("request's");
    assert_eq!(v5.title, "fifth");

    // Delete keeps its etag: a stale one is refused.
    let err = client(&channel)
        .delete_activity(with_token(
            api::DeleteActivityRequest { name: name.into(), etag: v4.etag.clone(), request_id: String::new() },
            "editor-token",
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Aborted);
}

#[tokio::test]
async fn etags_are_never_given_twice_across_a_delete_and_a_re_create() {
    let server = TestServer::start();
    let channel = server.channel().await;
    let name = "activities/2009-05-again";
    let mut seen = BTreeSet::new();
    let mut held: Vec<String> = Vec::new();
    for round in 0..3 {
        let created = create(&channel, noted(name)).await;
        // An etag of an earlier life is refused on this one, on update and on delete.
        for old in &held {
            let err =
                update(&channel, api::Activity { etag: old.clone(), ..created.clone() }, None, "").await.unwrap_err();
            assert_eq!(err.code(), Code::Aborted, "{old}");
            let err = client(&channel)
                .delete_activity(with_token(
                    api::DeleteActivityRequest { name: name.into(), etag: old.clone(), request_id: String::new() },
                    "editor-token",
                ))
                .await
                .unwrap_err();
            assert_eq!(err.code(), Code::Aborted, "{old}");
        }
        let updated = update(
            &channel,
            api::Activity { name: name.into(), title: format!("round {round}"), ..Default::default() },
            None,
            &created.etag,
        )
        .await
        .unwrap();
        for etag in [&created.etag, &updated.etag] {
            assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
            assert!(seen.insert(etag.clone()), "etag {etag} given twice");
            held.push(etag.clone());
        }
        client(&channel)
            .delete_activity(with_token(
                api::DeleteActivityRequest { name: name.into(), etag: updated.etag.clone(), request_id: String::new() },
                "editor-token",
            ))
            .await
            .expect("delete");
    }
}

/// Two writers update different fields of one activity at once, without etags, many rounds: each round both
/// fields must hold what their writer sent.
async fn concurrent_masked_updates_keep_both_fields(channel: Channel) {
    let name = "activities/2009-05-concurrent";
    create(&channel, noted(name)).await;
    for round in 0..40 {
        let title = format!("title {round}");
        let note = format!("note {round}");
        let by_title = {
            let (channel, title) = (channel.clone(), title.clone());
            tokio::spawn(async move {
                let a = api::Activity { name: name.into(), title, ..Default::default() };
                update(&channel, a, Some(&["title"]), "").await
            })
        };
        let by_note = {
            let (channel, note) = (channel.clone(), note.clone());
            tokio::spawn(async move {
                // No mask: the field set (the note) alone.
                let a = api::Activity { name: name.into(), note, ..Default::default() };
                update(&channel, a, None, "").await
            })
        };
        let (a, b) = (by_title.await.expect("task"), by_note.await.expect("task"));
        let (a, b) = (a.expect("the title's update"), b.expect("the note's update"));
        assert_ne!(a.etag, b.etag);
        let now = get(&channel, name).await;
        assert_eq!((now.title.as_str(), now.note.as_str()), (title.as_str(), note.as_str()), "round {round}");
    }
}

#[tokio::test]
async fn two_concurrent_masked_updates_of_different_fields_both_keep_their_field_sqlite() {
    let server = TestServer::start();
    concurrent_masked_updates_keep_both_fields(server.channel().await).await;
}

#[tokio::test]
async fn two_concurrent_masked_updates_of_different_fields_both_keep_their_field_postgres() {
    let Some(schema) = PgSchema::create().await else { return };
    let server = TestServer::builder().store(&schema.url).start();
    concurrent_masked_updates_keep_both_fields(server.channel().await).await;
}

#[tokio::test]
async fn create_takes_an_activity_id_or_picks_one() {
    let server = TestServer::start();
    let channel = server.channel().await;
    // activity_id alone names the activity.
    let a =
        create_with_id(&channel, api::Activity { name: String::new(), ..activity("") }, "2009-05-by-id").await.unwrap();
    assert_eq!(a.name, "activities/2009-05-by-id");
    // Both, agreeing.
    let b = create_with_id(&channel, activity("activities/2009-05-both"), "2009-05-both").await.unwrap();
    assert_eq!(b.name, "activities/2009-05-both");
    // Both, disagreeing: refused, naming the field, nothing created.
    let err = create_with_id(&channel, activity("activities/2009-05-one"), "2009-05-other").await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    let violations = bad_request(&err);
    assert_eq!(violations.len(), 1);
    assert_eq!(violations[0].0, "activity_id");
    assert!(violations[0].1.contains("activities/2009-05-one"), "{violations:?}");
    // A bad id: refused, naming the field.
    for bad in ["Upper", "with space", "slash/inside", &"x".repeat(101)] {
        let err = create_with_id(&channel, activity(""), bad).await.unwrap_err();
        assert_eq!(bad_request(&err).first().map(|v| v.0.as_str()), Some("activity_id"), "{bad}");
    }
    // Neither: the server picks a readable, unique id from the start date and a random suffix.
    let mut picked = BTreeSet::new();
    for _ in 0..5 {
        let c = create_with_id(&channel, activity(""), "").await.unwrap();
        let id = c.name.strip_prefix("activities/").expect("a name").to_owned();
        let (date, suffix) = id.rsplit_once('-').expect("date-suffix");
        assert_eq!(date, "2009-05", "{id}");
        assert!(suffix.len() == 6 && suffix.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()), "{id}");
        assert_eq!(get(&channel, &c.name).await, c);
        assert!(picked.insert(id));
    }
    // Picked for a request with a request id, the id is the same when the request is retried: answered once.
    let with_request_id = || {
        let channel = channel.clone();
        async move {
            client(&channel)
                .create_activity(with_token(
                    api::CreateActivityRequest {
                        activity: Some(activity("")),
                        request_id: "create-picked".into(),
                        activity_id: String::new(),
                    },
                    "editor-token",
                ))
                .await
        }
    };
    let first = with_request_id().await.expect("first").into_inner();
    let again = with_request_id().await.expect("retry").into_inner();
    assert_eq!(again, first);
    assert!(first.name.starts_with("activities/2009-05-"), "{}", first.name);
    let undated = api::Activity { start: None, ..activity("") };
    let c = create_with_id(&channel, undated, "").await.unwrap();
    assert!(c.name.starts_with("activities/activity-"), "{}", c.name);
}

#[tokio::test]
async fn create_time_stays_and_update_time_moves_with_each_write() {
    let server = TestServer::start();
    let channel = server.channel().await;
    let name = "activities/2009-05-times";
    let before = std::time::SystemTime::now();
    let created = create(&channel, noted(name)).await;
    let (ct, ut) = (created.create_time.expect("create_time"), created.update_time.expect("update_time"));
    assert_eq!(ct, ut);
    let since = |t: &prost_types::Timestamp| std::time::SystemTime::try_from(*t).expect("a time");
    assert!(since(&ct) >= before - std::time::Duration::from_secs(1) && since(&ct) <= std::time::SystemTime::now());
    // Sent on input, the times are ignored.
    let sneaky = api::Activity {
        name: name.into(),
        title: "changed".into(),
        create_time: Some(prost_types::Timestamp { seconds: 1, nanos: 0 }),
        update_time: Some(prost_types::Timestamp { seconds: 2, nanos: 0 }),
        ..Default::default()
    };
    let updated = update(&channel, sneaky, None, "").await.unwrap();
    assert_eq!(updated.create_time, Some(ct));
    let ut2 = updated.update_time.expect("update_time");
    assert!(since(&ut2) > since(&ut), "{ut2:?} after {ut:?}");
    // Read back and listed the same.
    assert_eq!(get(&channel, name).await, updated);
    let listed = client(&channel)
        .list_activities(api::ListActivitiesRequest { page_size: 1000, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert!(listed.activities.contains(&updated));
    // The bundled activities came with the first load: both times are the load's, and an organisation's too.
    let bundled = &listed.activities[0];
    assert!(bundled.create_time.is_some() && bundled.create_time == bundled.update_time, "{bundled:?}");
    let mut programme = api::programme_service_client::ProgrammeServiceClient::new(channel.clone());
    let org = programme
        .get_organisation(api::GetOrganisationRequest { name: "organisations/microsoft".into() })
        .await
        .expect("get organisation")
        .into_inner();
    assert_eq!((org.create_time, org.update_time), (bundled.create_time, bundled.create_time));
    let listed = programme
        .list_organisations(api::ListOrganisationsRequest { page_size: 1000, ..Default::default() })
        .await
        .expect("list organisations")
        .into_inner();
    assert!(listed.organisations.contains(&org));
}

#[tokio::test]
async fn a_masked_update_retried_with_its_request_id_is_applied_once() {
    let server = TestServer::start();
    let channel = server.channel().await;
    let name = "activities/2009-05-retried";
    create(&channel, noted(name)).await;
    let request = |title: &str| api::UpdateActivityRequest {
        activity: Some(api::Activity { name: name.into(), title: title.into(), ..Default::default() }),
        update_mask: Some(FieldMask { paths: vec!["title".into()] }),
        etag: String::new(),
        request_id: "retitle-1".into(),
    };
    let send = |r: api::UpdateActivityRequest| {
        let channel = channel.clone();
        async move { client(&channel).update_activity(with_token(r, "editor-token")).await.map(tonic::Response::into_inner) }
    };
    let first = send(request("retitled once")).await.expect("first");
    // Another write comes between; the retry merges onto a newer version, yet is answered as the first time and
    // applied no second time.
    let between =
        update(&channel, api::Activity { name: name.into(), note: "between".into(), ..Default::default() }, None, "")
            .await
            .unwrap();
    let again = send(request("retitled once")).await.expect("retry");
    assert_eq!(again, first);
    assert_eq!(get(&channel, name).await, between);
    // The same id with another input is refused.
    let err = send(request("another title")).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(err.message(), "request id `retitle-1` was already used for a different request");
}

/// The README's grpcurl example of a write: create with `activity_id`, then a masked update with a quoted etag on
/// the resource and the mask as `{"paths": [...]}`.
#[tokio::test]
async fn the_readme_grpcurl_write_example_works() {
    let Some(grpcurl) = e2e_tests::grpcurl() else { return };
    let server = TestServer::start();
    let call = |method: &str, body: &str| {
        let out = std::process::Command::new(&grpcurl)
            .args(["-plaintext", "-H", "authorization: Bearer editor-token", "-d", body, &server.addr])
            .arg(format!("coe.cybercrime.v1.ActivityService/{method}"))
            .output()
            .expect("grpcurl");
        let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{method}: {text}");
        serde_json::from_str::<serde_json::Value>(&text).unwrap_or_else(|e| panic!("{method}: {e}: {text}"))
    };
    let created = call(
        "CreateActivity",
        r#"{"activity_id": "2009-05-tirana", "activity": {"title": "Workshop", "start": {"text": "2009-05"},
            "kind": "ACTIVITY_KIND_WORKSHOP", "status": "ACTIVITY_STATUS_PIPELINE", "outputs": [1],
            "sources": [{"document": "report-2007-11"}]}}"#,
    );
    assert_eq!(created["name"], "activities/2009-05-tirana");
    let etag = created["etag"].as_str().expect("an etag").to_owned();
    let body = serde_json::json!({
        "activity": {"name": "activities/2009-05-tirana", "place": {"city": "Durres"}, "etag": etag},
        "update_mask": {"paths": ["place.city"]}
    });
    let updated = call("UpdateActivity", &body.to_string());
    assert_eq!((updated["place"]["city"].as_str(), updated["title"].as_str()), (Some("Durres"), Some("Workshop")));
    assert_eq!(updated["createTime"], created["createTime"]);
    assert_ne!(updated["etag"], created["etag"]);
}
