//! Treaty actions as resources end to end (issue 15): the real binary, a real tonic client and grpcurl. An action
//! is read by its name, corrected with its etag and withdrawn; each answer carries the name, etag and times; the
//! status tables and country pages follow a correction at once; a reader cannot write; bad requests get the right
//! code naming the field.

use std::process::Command;

use api::{country_service_client::CountryServiceClient, treaty_service_client::TreatyServiceClient};
use e2e_tests::{
    TestServer, api, bad_request,
    builders::{ets185_on_2007_11_30, group_counts, ratification},
    date, grpcurl, with_token,
};
use tonic::{Code, transport::Channel};

type Treaties = TreatyServiceClient<Channel>;

const DE_RATIFICATION: &str = "treaties/185/actions/DE-ratification";

async fn get(client: &mut Treaties, name: &str) -> Result<api::TreatyAction, tonic::Status> {
    client.get_treaty_action(api::GetTreatyActionRequest { name: name.into() }).await.map(|r| r.into_inner())
}

/// The status of `country` under ETS 185 on a day, from GetTreatyStatus.
async fn status_of(client: &mut Treaties, country: &str, (y, m, d): (i32, i32, i32)) -> api::StateStatus {
    let s = client
        .get_treaty_status(api::GetTreatyStatusRequest {
            name: "treaties/185".into(),
            as_of: Some(date(y, m, d)),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let group = s.groups.iter().find(|g| g.states.iter().any(|e| e.country == country)).unwrap();
    api::StateStatus::try_from(group.status).unwrap()
}

fn update(action: api::TreatyAction, paths: &[&str], etag: &str) -> api::UpdateTreatyActionRequest {
    api::UpdateTreatyActionRequest {
        treaty_action: Some(action),
        update_mask: Some(prost_types::FieldMask { paths: paths.iter().map(|p| p.to_string()).collect() }),
        etag: etag.into(),
        request_id: String::new(),
    }
}

fn day(text: &str) -> Option<api::ApproxDate> {
    Some(api::ApproxDate { text: text.into(), ..Default::default() })
}

#[tokio::test]
async fn a_treaty_action_is_read_corrected_and_withdrawn_by_its_name() {
    let server = TestServer::start();
    let mut treaties = TreatyServiceClient::new(server.channel().await);

    // Read by its name, anonymously, at its version; the list gives the same.
    let al = get(&mut treaties, "treaties/185/actions/AL-ratification").await.unwrap();
    assert_eq!((al.country.as_str(), al.kind), ("countries/AL", api::ActionKind::Ratification as i32));
    assert_eq!(al.date.as_ref().unwrap().latest, Some(date(2002, 6, 20)));
    assert!(!al.etag.is_empty() && al.create_time.is_some() && al.update_time == al.create_time, "{al:?}");
    let listed = treaties
        .list_treaty_actions(api::ListTreatyActionsRequest { country: "countries/AL".into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    let same = listed.treaty_actions.iter().find(|a| a.name == al.name).unwrap();
    assert_eq!(same, &al);

    // Recorded: named, versioned.
    let recorded = treaties
        .record_treaty_action(with_token(
            api::RecordTreatyActionRequest {
                treaty_action: Some(ratification("countries/DE", "2009-03-09")),
                request_id: String::new(),
            },
            "editor-token",
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(recorded.name, DE_RATIFICATION);
    assert!(!recorded.etag.is_empty() && recorded.create_time.is_some(), "{recorded:?}");
    assert_eq!(status_of(&mut treaties, "countries/DE", (2009, 3, 9)).await, api::StateStatus::Party);

    // Corrected with its etag: only the masked field changes; the status table answers anew at once.
    let corrected = treaties
        .update_treaty_action(with_token(
            update(
                api::TreatyAction { name: DE_RATIFICATION.into(), date: day("2009-03-10"), ..Default::default() },
                &["date"],
                &recorded.etag,
            ),
            "editor-token",
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(corrected.date.as_ref().unwrap().latest, Some(date(2009, 3, 10)));
    assert_eq!(corrected.sources, recorded.sources, "what the mask does not name is kept");
    assert_ne!(corrected.etag, recorded.etag);
    assert_eq!(corrected.create_time, recorded.create_time);
    assert!(corrected.update_time.as_ref().unwrap().seconds >= recorded.update_time.as_ref().unwrap().seconds);
    assert_eq!(get(&mut treaties, DE_RATIFICATION).await.unwrap(), corrected);
    assert_eq!(status_of(&mut treaties, "countries/DE", (2009, 3, 9)).await, api::StateStatus::Signatory);
    assert_eq!(status_of(&mut treaties, "countries/DE", (2009, 3, 10)).await, api::StateStatus::Party);
    // The country page too, with the action's name and version.
    let mut countries = CountryServiceClient::new(server.channel().await);
    let de = countries
        .get_country(api::GetCountryRequest { name: "countries/DE".into(), as_of: Some(date(2010, 1, 1)) })
        .await
        .unwrap()
        .into_inner();
    let on_page = de.treaty_statuses.iter().flat_map(|t| &t.actions).find(|a| a.name == DE_RATIFICATION).unwrap();
    assert_eq!((&on_page.etag, &on_page.update_time), (&corrected.etag, &corrected.update_time));

    // A stale etag is ABORTED; the etag on the resource counts as the request's.
    let stale = treaties
        .update_treaty_action(with_token(
            update(
                api::TreatyAction {
                    name: DE_RATIFICATION.into(),
                    note: "late".into(),
                    etag: recorded.etag.clone(),
                    ..Default::default()
                },
                &[],
                "",
            ),
            "editor-token",
        ))
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::Aborted, "{stale:?}");

    // A reader cannot write; a caller without a token is not known.
    for token in ["reader-token"] {
        let err = treaties
            .update_treaty_action(with_token(
                update(api::TreatyAction { name: DE_RATIFICATION.into(), ..Default::default() }, &["note"], ""),
                token,
            ))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
        let err = treaties
            .delete_treaty_action(with_token(
                api::DeleteTreatyActionRequest { name: DE_RATIFICATION.into(), ..Default::default() },
                token,
            ))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    }
    let err = treaties
        .delete_treaty_action(api::DeleteTreatyActionRequest { name: DE_RATIFICATION.into(), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated, "{err:?}");

    // Withdrawn with its etag: gone, and the status follows.
    treaties
        .delete_treaty_action(with_token(
            api::DeleteTreatyActionRequest {
                name: DE_RATIFICATION.into(),
                etag: corrected.etag.clone(),
                request_id: "withdraw-de".into(),
            },
            "editor-token",
        ))
        .await
        .unwrap();
    let err = get(&mut treaties, DE_RATIFICATION).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");
    assert!(err.message().contains(DE_RATIFICATION), "{err:?}");
    assert_eq!(status_of(&mut treaties, "countries/DE", (2010, 1, 1)).await, api::StateStatus::Signatory);
    // Repeated with its request id: answered as the first time.
    treaties
        .delete_treaty_action(with_token(
            api::DeleteTreatyActionRequest {
                name: DE_RATIFICATION.into(),
                etag: corrected.etag.clone(),
                request_id: "withdraw-de".into(),
            },
            "editor-token",
        ))
        .await
        .unwrap();

    // The 2007 status table is intact.
    let s = treaties
        .get_treaty_status(api::GetTreatyStatusRequest {
            name: "treaties/185".into(),
            as_of: Some(date(2007, 11, 30)),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(group_counts(&s), ets185_on_2007_11_30());
}

#[tokio::test]
async fn bad_corrections_and_withdrawals_get_the_right_code_naming_the_field_or_rule() {
    let server = TestServer::start();
    let mut treaties = TreatyServiceClient::new(server.channel().await);
    let al_signature = "treaties/185/actions/AL-signature";
    let as_editor = |r: api::UpdateTreatyActionRequest| with_token(r, "editor-token");

    // Not a name; a name of no action.
    let err = get(&mut treaties, "treaties/185/actions/AL-signing").await.unwrap_err();
    assert_eq!((err.code(), bad_request(&err)[0].0.as_str()), (Code::InvalidArgument, "name"), "{err:?}");
    let err = get(&mut treaties, "treaties/185/actions/DE-accession").await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");
    assert!(err.message().contains("treaties/185/actions/DE-accession"), "{err:?}");

    // The name's parts cannot change.
    let moved = api::TreatyAction {
        name: al_signature.into(),
        kind: api::ActionKind::Ratification as i32,
        note: "x".into(),
        ..Default::default()
    };
    let err = treaties.update_treaty_action(as_editor(update(moved, &[], ""))).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert_eq!(bad_request(&err)[0].0, "treaty_action.kind");
    let moved = api::TreatyAction { name: al_signature.into(), country: "countries/DE".into(), ..Default::default() };
    let err = treaties.update_treaty_action(as_editor(update(moved, &["note"], ""))).await.unwrap_err();
    assert_eq!(bad_request(&err)[0].0, "treaty_action.country", "{err:?}");
    // A path that is not a correctable field.
    let a = api::TreatyAction { name: al_signature.into(), ..Default::default() };
    let err = treaties.update_treaty_action(as_editor(update(a.clone(), &["note", "colour"], ""))).await.unwrap_err();
    assert_eq!(
        (err.code(), bad_request(&err)[0].0.as_str()),
        (Code::InvalidArgument, "update_mask.paths[1]"),
        "{err:?}"
    );
    // Two different etags.
    let mut r = update(api::TreatyAction { etag: "\"1\"".into(), ..a.clone() }, &["note"], "\"2\"");
    r.request_id = String::new();
    let err = treaties.update_treaty_action(as_editor(r)).await.unwrap_err();
    assert_eq!(bad_request(&err)[0].0, "etag", "{err:?}");
    // "*" clears what is unset: the citations are then required.
    let err = treaties.update_treaty_action(as_editor(update(a.clone(), &["*"], ""))).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");

    // A rule: a signature before the Convention opened; a signature Albania's ratification rests on.
    let early = api::TreatyAction { name: al_signature.into(), date: day("2001-01-01"), ..Default::default() };
    let err = treaties.update_treaty_action(as_editor(update(early, &[], ""))).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    let err = treaties
        .delete_treaty_action(with_token(
            api::DeleteTreatyActionRequest { name: al_signature.into(), ..Default::default() },
            "editor-token",
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert!(err.message().contains("Albania") || err.message().contains("AL"), "{err:?}");
    // Nothing changed.
    let still = get(&mut treaties, al_signature).await.unwrap();
    assert_eq!(still.date.as_ref().unwrap().latest, Some(date(2001, 11, 23)));
    assert!(still.note.is_empty());
}

/// `grpcurl -plaintext FLAGS ADDRESS METHOD`.
fn grpcurl_call(server: &TestServer, flags: &[&str], method: &str) -> (bool, String) {
    let Some(bin) = grpcurl() else { return (true, String::new()) };
    let out = Command::new(bin)
        .arg("-plaintext")
        .args(flags)
        .arg(&server.addr)
        .arg(format!("coe.cybercrime.v1.TreatyService/{method}"))
        .output()
        .expect("grpcurl");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// The README's grpcurl examples: Get, Update with the etag, Delete.
#[test]
fn grpcurl_gets_corrects_and_withdraws_a_treaty_action() {
    if grpcurl().is_none() {
        return;
    }
    let server = TestServer::start();
    let editor = ["-H", "authorization: Bearer editor-token"];
    let name = "treaties/185/actions/AL-ratification";
    let (ok, out) = grpcurl_call(&server, &["-d", &format!(r#"{{"name": "{name}"}}"#)], "GetTreatyAction");
    assert!(ok, "{out}");
    let got: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(got["name"], name);
    let etag = got["etag"].as_str().unwrap().to_owned();
    assert!(got["createTime"].as_str().unwrap().ends_with('Z'), "{out}");

    let body = serde_json::json!({
        // No update_mask: the fields set (AIP-134).
        "treaty_action": {"name": name, "note": "Deposit confirmed by the Treaty Office."},
        "etag": etag,
    })
    .to_string();
    let (ok, out) = grpcurl_call(&server, &[editor[0], editor[1], "-d", &body], "UpdateTreatyAction");
    assert!(ok, "{out}");
    let corrected: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(corrected["note"], "Deposit confirmed by the Treaty Office.");
    assert_ne!(corrected["etag"], got["etag"]);
    // The old etag again: ABORTED.
    let (ok, out) = grpcurl_call(&server, &[editor[0], editor[1], "-d", &body], "UpdateTreatyAction");
    assert!(!ok && out.contains("Code: Aborted"), "{out}");

    // Albania's ratification of ETS 189 rests on it: withdrawing it is refused, naming the rule.
    let body = format!(r#"{{"name": "{name}", "etag": {}}}"#, corrected["etag"]);
    let (ok, out) = grpcurl_call(&server, &[editor[0], editor[1], "-d", &body], "DeleteTreatyAction");
    assert!(!ok && out.contains("Code: FailedPrecondition"), "{out}");
    // Without a token: refused before anything else.
    let (ok, out) = grpcurl_call(&server, &["-d", &body], "DeleteTreatyAction");
    assert!(!ok && out.contains("Code: Unauthenticated"), "{out}");

    // A ratification recorded by mistake is withdrawn.
    let record = concat!(
        r#"{"treaty_action": {"country": "countries/DE", "treaty": "treaties/185", "kind": "ACTION_KIND_RATIFICATION", "#,
        r#""date": {"text": "2009-03-09"}, "sources": [{"document": "CoE-2015"}]}}"#
    );
    let (ok, out) = grpcurl_call(&server, &[editor[0], editor[1], "-d", record], "RecordTreatyAction");
    assert!(ok && out.contains(DE_RATIFICATION), "{out}");
    let body = format!(r#"{{"name": "{DE_RATIFICATION}"}}"#);
    let (ok, out) = grpcurl_call(&server, &[editor[0], editor[1], "-d", &body], "DeleteTreatyAction");
    assert!(ok, "{out}");
    let (ok, out) = grpcurl_call(&server, &["-d", &body], "GetTreatyAction");
    assert!(!ok && out.contains("Code: NotFound"), "{out}");
}

/// Waits until `country`'s status on a day is `wanted` on the server behind `client` (10 s at most).
async fn wait_for_status(client: &mut Treaties, country: &str, day: (i32, i32, i32), wanted: api::StateStatus) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while status_of(client, country, day).await != wanted {
        assert!(std::time::Instant::now() < deadline, "{country} never became {wanted:?} on {day:?}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Two replicas on one PostgreSQL database: a correction through one reaches the other's status tables (which it
/// had kept for the version before), and the other withdraws the action with the etag the first answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correction_and_a_withdrawal_reach_the_other_replica() {
    let Some(schema) = storage::testing::PgSchema::create().await else { return };
    let a = TestServer::builder().store(&schema.url).start();
    let b = TestServer::builder().store(&schema.url).start();
    let (mut on_a, mut on_b) =
        (TreatyServiceClient::new(a.channel().await), TreatyServiceClient::new(b.channel().await));
    let recorded = on_a
        .record_treaty_action(with_token(
            api::RecordTreatyActionRequest {
                treaty_action: Some(ratification("countries/DE", "2009-03-09")),
                request_id: String::new(),
            },
            "editor-token",
        ))
        .await
        .unwrap()
        .into_inner();
    wait_for_status(&mut on_b, "countries/DE", (2009, 3, 9), api::StateStatus::Party).await;
    let corrected = on_a
        .update_treaty_action(with_token(
            update(
                api::TreatyAction { name: DE_RATIFICATION.into(), date: day("2009-03-10"), ..Default::default() },
                &["date"],
                &recorded.etag,
            ),
            "editor-token",
        ))
        .await
        .unwrap()
        .into_inner();
    wait_for_status(&mut on_b, "countries/DE", (2009, 3, 9), api::StateStatus::Signatory).await;
    assert_eq!(get(&mut on_b, DE_RATIFICATION).await.unwrap(), corrected);
    on_b.delete_treaty_action(with_token(
        api::DeleteTreatyActionRequest { name: DE_RATIFICATION.into(), etag: corrected.etag, ..Default::default() },
        "editor-token",
    ))
    .await
    .unwrap();
    wait_for_status(&mut on_a, "countries/DE", (2010, 1, 1), api::StateStatus::Signatory).await;
}
