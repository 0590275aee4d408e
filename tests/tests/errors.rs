//! Errors a client can act on (AIP-193), through the real server and a tonic client: one `ErrorInfo` reason per
//! rule or failure with every value in its metadata, `PreconditionFailure` for treaty rules and etags,
//! `ResourceInfo` for NOT_FOUND and ALREADY_EXISTS, `RetryInfo` for the watcher limit, and every bad field of a
//! write in one `BadRequest`.

use std::time::Duration;

use e2e_tests::{
    TestServer, api,
    api::{activity_service_client::ActivityServiceClient, treaty_service_client::TreatyServiceClient},
    builders::{activity, citation, create_activity},
    with_token,
};
use tonic::Code;
use tonic_types::StatusExt;

/// A treaty action of `country` (`AD`) under `treaty` (185) of `kind` on `date` (`2009-01-01`).
fn action(country: &str, treaty: u32, kind: api::ActionKind, date: &str) -> api::TreatyAction {
    api::TreatyAction {
        country: format!("countries/{country}"),
        treaty: format!("treaties/{treaty}"),
        kind: kind as i32,
        date: Some(api::ApproxDate { text: date.to_owned(), ..Default::default() }),
        sources: vec![citation("CoE-2015")],
        ..Default::default()
    }
}

async fn record(server: &TestServer, action: api::TreatyAction) -> Result<api::TreatyAction, tonic::Status> {
    TreatyServiceClient::new(server.channel().await)
        .record_treaty_action(with_token(
            api::RecordTreatyActionRequest { treaty_action: Some(action), request_id: String::new() },
            "editor-token",
        ))
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test]
async fn each_treaty_rule_has_its_own_reason_metadata_and_precondition_failure() {
    use api::ActionKind::{Accession, Denunciation, Invitation, Ratification, Signature};
    let server = TestServer::start();
    // An invitation of Brazil with a known day, for an accession dated before it.
    record(&server, action("IN", 185, Invitation, "2009-06-01")).await.expect("the invitation");
    let cases = [
        (action("RU", 185, Signature, "2000-01-01"), "ACTION_BEFORE_OPENING", Code::FailedPrecondition),
        (action("AL", 185, Ratification, "2003-01-01"), "DUPLICATE_ACTION", Code::AlreadyExists),
        (action("RU", 185, Ratification, "2009-01-01"), "RATIFICATION_WITHOUT_SIGNATURE", Code::FailedPrecondition),
        (action("IT", 189, Ratification, "2009-01-01"), "RATIFICATION_BEFORE_SIGNATURE", Code::FailedPrecondition),
        (action("PH", 185, Signature, "2008-01-01"), "SIGNATURE_BY_INELIGIBLE_STATE", Code::FailedPrecondition),
        (action("RU", 185, Accession, "2009-01-01"), "ACCESSION_BY_ELIGIBLE_STATE", Code::FailedPrecondition),
        (action("ID", 185, Accession, "2009-01-01"), "ACCESSION_WITHOUT_INVITATION", Code::FailedPrecondition),
        (action("IN", 185, Accession, "2009-01-01"), "ACCESSION_BEFORE_INVITATION", Code::FailedPrecondition),
        (action("DE", 189, Ratification, "2009-01-01"), "PROTOCOL_WITHOUT_CONVENTION", Code::FailedPrecondition),
        (action("EE", 189, Ratification, "2003-02-01"), "PROTOCOL_BEFORE_CONVENTION", Code::FailedPrecondition),
        (action("PL", 185, Denunciation, "2009-01-01"), "DENUNCIATION_WITHOUT_CONSENT", Code::FailedPrecondition),
    ];
    for (action, reason, code) in cases {
        let country = action.country.clone();
        let treaty = action.treaty.clone();
        let e = record(&server, action).await.expect_err(reason);
        assert_eq!(e.code(), code, "{reason}: {e:?}");
        let details = e.get_error_details();
        let info = details.error_info().unwrap_or_else(|| panic!("{reason}: no ErrorInfo"));
        assert_eq!(info.reason, reason, "{}", e.message());
        assert_eq!(info.domain, "cybercrime.coe.int");
        assert_eq!(info.metadata.get("country"), Some(&country), "{reason}: {:?}", info.metadata);
        assert_eq!(info.metadata.get("treaty"), Some(&treaty), "{reason}: {:?}", info.metadata);
        if code == Code::FailedPrecondition {
            let failure = details.precondition_failure().unwrap_or_else(|| panic!("{reason}: no PreconditionFailure"));
            assert_eq!(failure.violations.len(), 1, "{reason}");
            assert_eq!(failure.violations[0].r#type, "TREATY_RULE");
            assert_eq!(failure.violations[0].subject, treaty);
            assert_eq!(failure.violations[0].description, e.message());
        } else {
            let resource = details.resource_info().unwrap_or_else(|| panic!("{reason}: no ResourceInfo"));
            assert_eq!(resource.resource_type, "coe.cybercrime.v1/TreatyAction");
            assert_eq!(resource.owner, country);
            assert_eq!(resource.description, e.message());
        }
    }
    // A second signature: the one that exists is named.
    let e = record(&server, action("AL", 185, Signature, "2001-11-24")).await.unwrap_err();
    assert_eq!(e.code(), Code::AlreadyExists);
    let resource = e.get_details_resource_info().expect("ResourceInfo");
    assert_eq!(resource.resource_name, "treaties/185/actions/AL-signature");

    // The values the messages name are in the metadata, by key.
    let e = record(&server, action("IT", 189, Ratification, "2009-01-01")).await.unwrap_err();
    let info = e.get_details_error_info().expect("ErrorInfo");
    assert_eq!(info.metadata["signature_date"], "2011-11-09");
    assert_eq!(info.metadata["ratification_date"], "2009-01-01");
    let e = record(&server, action("EE", 189, Ratification, "2003-02-01")).await.unwrap_err();
    let info = e.get_details_error_info().expect("ErrorInfo");
    assert_eq!(info.metadata["convention"], "treaties/185");
    assert_eq!(info.metadata["convention_date"], "2003-05-12");
    assert_eq!(info.metadata["date"], "2003-02-01");
    // A date is given as the dataset writes it, whatever the rule (the message says it in words).
    for (action, words) in [
        (action("RU", 185, Signature, "2000-01-01"), "on 2000-01-01"),
        (action("RU", 185, Ratification, "2009-01"), "in January 2009"),
        (action("ID", 185, Accession, "2009"), "in 2009"),
    ] {
        let date = action.date.as_ref().and_then(|d| (!d.text.is_empty()).then(|| d.text.clone()));
        let e = record(&server, action).await.unwrap_err();
        let info = e.get_details_error_info().expect("ErrorInfo");
        assert_eq!(Some(&info.metadata["date"]), date.as_ref(), "{info:?}");
        assert!(e.message().contains(words), "{}", e.message());
    }
}

#[tokio::test]
async fn etag_not_found_and_already_exists_carry_their_details() {
    let server = TestServer::start();
    let ch = server.channel().await;
    let created = create_activity(&ch, activity("activities/errors-1"), "").await.expect("create");
    // ALREADY_EXISTS, with the resource.
    let e = create_activity(&ch, activity("activities/errors-1"), "").await.unwrap_err();
    assert_eq!(e.code(), Code::AlreadyExists);
    let details = e.get_error_details();
    assert_eq!(details.error_info().expect("ErrorInfo").reason, "ALREADY_EXISTS");
    let resource = details.resource_info().expect("ResourceInfo");
    assert_eq!(resource.resource_type, "coe.cybercrime.v1/Activity");
    assert_eq!(resource.resource_name, "activities/errors-1");
    assert_eq!(details.error_info().unwrap().metadata["resource"], "activities/errors-1");

    // ABORTED on an etag that is not the current one: PreconditionFailure of type ETAG, both etags in metadata.
    let mut activities = ActivityServiceClient::new(ch.clone());
    let stale = "\"999999\"";
    let e = activities
        .update_activity(with_token(
            api::UpdateActivityRequest {
                // The stale etag travels on the resource (AIP-154), as a Get, edit, Update round trip sends it.
                activity: Some(api::Activity { title: "Changed".into(), etag: stale.into(), ..created.clone() }),
                ..Default::default()
            },
            "editor-token",
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::Aborted, "{e:?}");
    let details = e.get_error_details();
    let info = details.error_info().expect("ErrorInfo");
    assert_eq!(info.reason, "ETAG_MISMATCH");
    assert_eq!(info.metadata["etag"], stale);
    assert_eq!(info.metadata["current_etag"], created.etag);
    assert_eq!(info.metadata["resource"], "activities/errors-1");
    let failure = details.precondition_failure().expect("PreconditionFailure");
    assert_eq!(failure.violations[0].r#type, "ETAG");
    assert_eq!(failure.violations[0].subject, "activities/errors-1");

    // NOT_FOUND, with the resource.
    let e = activities.get_activity(api::GetActivityRequest { name: "activities/no-such".into() }).await.unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    let details = e.get_error_details();
    assert_eq!(details.error_info().expect("ErrorInfo").reason, "NOT_FOUND");
    let resource = details.resource_info().expect("ResourceInfo");
    assert_eq!(resource.resource_type, "coe.cybercrime.v1/Activity");
    assert_eq!(resource.resource_name, "activities/no-such");
    let e = TreatyServiceClient::new(ch)
        .get_treaty(api::GetTreatyRequest { name: "treaties/999".into() })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    let resource = e.get_details_resource_info().expect("ResourceInfo");
    assert_eq!(
        (resource.resource_type.as_str(), resource.resource_name.as_str()),
        ("coe.cybercrime.v1/Treaty", "treaties/999")
    );
}

#[tokio::test]
async fn every_bad_field_of_a_write_is_in_one_answer() {
    let server = TestServer::start();
    let ch = server.channel().await;
    let bad = api::Activity {
        title: String::new(),
        countries: vec!["countries/PH".into(), "countries/BR".into(), "countries/AL".into(), "nowhere".into()],
        outputs: vec![7],
        ..activity("activities/errors-2")
    };
    let e = create_activity(&ch, bad, "").await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    let fields: Vec<String> = e2e_tests::bad_request(&e).into_iter().map(|(f, _)| f).collect();
    assert_eq!(fields, ["activity.title", "activity.countries[3]", "activity.outputs[0]"], "{}", e.message());
    let info = e.get_details_error_info().expect("ErrorInfo");
    assert_eq!(info.reason, "INVALID_FIELD");
    assert_eq!(info.metadata["fields"], "activity.title,activity.countries[3],activity.outputs[0]");
    assert!(e.message().starts_with("3 fields are invalid: activity.title: required; "), "{}", e.message());

    // The model's limits too: every field that breaks one, beside the conversion's refusals.
    let bad = api::Activity { title: "x".repeat(301), note: "a\rb".into(), kind: 0, ..activity("activities/errors-3") };
    let e = create_activity(&ch, bad, "").await.unwrap_err();
    let fields: Vec<String> = e2e_tests::bad_request(&e).into_iter().map(|(f, _)| f).collect();
    assert_eq!(fields, ["activity.kind", "activity.title", "activity.note"], "{}", e.message());

    // Many long bad fields: still one readable answer (the trailers stay within what a client accepts), the
    // violations past a size left out and counted.
    let bad = api::Activity {
        countries: (0..250).map(|i| format!("countries/{i}{}", "x".repeat(300))).collect(),
        ..activity("activities/errors-4")
    };
    let e = create_activity(&ch, bad, "").await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    let violations = e2e_tests::bad_request(&e);
    assert!(violations.len() > 1 && violations.len() < 250, "{}", violations.len());
    assert!(violations.last().is_some_and(|(_, d)| d.ends_with("more bad field(s), not listed")), "{violations:?}");
    create_activity(&ch, activity("activities/errors-5"), "").await.expect("the channel still serves");

    // A treaty action with three bad fields.
    let bad = api::TreatyAction {
        country: "countries/xx1".into(),
        treaty: "treaty/185".into(),
        kind: 0,
        ..action("AD", 185, api::ActionKind::Signature, "2009-01-01")
    };
    let e = record(&server, bad).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    let fields: Vec<String> = e2e_tests::bad_request(&e).into_iter().map(|(f, _)| f).collect();
    assert_eq!(fields, ["treaty_action.kind", "treaty_action.country", "treaty_action.treaty"], "{}", e.message());
}

#[tokio::test]
async fn the_watcher_limit_says_when_to_try_again() {
    let server = TestServer::builder().args(&["--max-watchers", "1"]).start();
    let ch = server.channel().await;
    let mut treaties = TreatyServiceClient::new(ch);
    let _held = treaties.watch_treaty_actions(api::WatchTreatyActionsRequest::default()).await.expect("the first");
    let e = tokio::time::timeout(
        Duration::from_secs(10),
        treaties.watch_treaty_actions(api::WatchTreatyActionsRequest::default()),
    )
    .await
    .expect("an answer")
    .unwrap_err();
    assert_eq!(e.code(), Code::ResourceExhausted, "{e:?}");
    let details = e.get_error_details();
    let info = details.error_info().expect("ErrorInfo");
    assert_eq!(info.reason, "TOO_MANY_WATCHERS");
    assert_eq!(info.metadata["limit"], "1");
    assert_eq!(info.metadata["scope"], "server");
    let retry = details.retry_info().expect("RetryInfo");
    assert!(retry.retry_delay.is_some_and(|d| d > Duration::ZERO), "{retry:?}");
}
