//! What the API accepts can always be read back, and a record that cannot be (a database edited by hand) never
//! takes the service down (security review H1, M1, M7, L4): the real binary, a real tonic client, on SQLite and on
//! PostgreSQL.

use std::process::Command;

use api::{
    activity_service_client::ActivityServiceClient, admin_service_client::AdminServiceClient,
    report_service_client::ReportServiceClient, treaty_service_client::TreatyServiceClient,
};
use e2e_tests::{TestServer, api, bad_request, binary, builders, date, with_token};
use storage::testing::{PgSchema, execute_by_hand};
use tonic::{Code, transport::Channel};

fn activity(id: &str) -> api::Activity {
    api::Activity {
        title: "Workshop on cybercrime legislation".into(),
        description: "A workshop.".into(),
        date_text: "June 2007".into(),
        sources: vec![api::Citation { document: "report-2007-11".into(), locator: "§2.1".into() }],
        ..builders::workshop_in_manila(&format!("activities/{id}"), "2007-06")
    }
}

async fn create(channel: Channel, a: api::Activity) -> Result<api::Activity, tonic::Status> {
    ActivityServiceClient::new(channel)
        .create_activity(with_token(
            api::CreateActivityRequest { activity: Some(a), request_id: String::new(), ..Default::default() },
            "editor-token",
        ))
        .await
        .map(tonic::Response::into_inner)
}

/// Every page of ListActivities: the ids and the unreadable records named on the pages.
async fn list_all(channel: Channel, page_size: i32) -> (Vec<String>, Vec<String>, usize) {
    let mut client = ActivityServiceClient::new(channel);
    let (mut ids, mut pages) = (Vec::new(), 0);
    let mut token = String::new();
    loop {
        let p = client
            .list_activities(api::ListActivitiesRequest { page_size, page_token: token, ..Default::default() })
            .await
            .expect("ListActivities")
            .into_inner();
        pages += 1;
        ids.extend(p.activities.into_iter().map(|a| a.name));
        // Every page names the unreadable records; the last page's are returned.
        let unreadable = p.unreadable.into_iter().map(|u| u.name).collect();
        if p.next_page_token.is_empty() {
            return (ids, unreadable, pages);
        }
        token = p.next_page_token;
    }
}

async fn progress_report(channel: Channel) -> Result<String, tonic::Status> {
    let mut stream = ReportServiceClient::new(channel)
        .generate_progress_report(api::GenerateProgressReportRequest {
            as_of: Some(date(2007, 11, 30)),
            period_start: Some(date(2006, 9, 1)),
            format: api::ReportFormat::Markdown as i32,
            ..Default::default()
        })
        .await?
        .into_inner();
    let mut body = Vec::new();
    while let Some(chunk) = stream.message().await? {
        body.extend_from_slice(&chunk.data);
    }
    Ok(String::from_utf8(body).expect("UTF-8"))
}

/// The review's H1: a `;` in a locator. Accepted, read back whole by every path, and the server restarts on the
/// store; the export imports into a new store.
async fn a_semicolon_in_a_locator_is_kept_and_nothing_breaks(store: &str) {
    let semicolons = vec![
        api::Citation { document: "report-2007-11".into(), locator: ";".into() },
        api::Citation { document: "CoE-2015".into(), locator: "§2.1; §2.3 ;; x".into() },
    ];
    {
        let server = TestServer::builder().store(store).start();
        let mut a = activity("poison");
        a.sources = semicolons.clone();
        let created = create(server.channel().await, a).await.expect("accepted");
        assert_eq!(created.sources, semicolons);
        let action = api::TreatyAction {
            country: "countries/PL".into(),
            treaty: "treaties/185".into(),
            kind: api::ActionKind::Ratification as i32,
            date: Some(api::ApproxDate { text: "2012-06-13".into(), ..Default::default() }),
            sources: vec![api::Citation { document: "CoE-2015".into(), locator: ";".into() }],
            ..Default::default()
        };
        TreatyServiceClient::new(server.channel().await)
            .record_treaty_action(with_token(
                api::RecordTreatyActionRequest { treaty_action: Some(action), request_id: String::new() },
                "editor-token",
            ))
            .await
            .expect("the treaty action is recorded");
        let (ids, unreadable, _) = list_all(server.channel().await, 50).await;
        assert!(ids.contains(&"activities/poison".to_owned()) && unreadable.is_empty(), "{unreadable:?}");
        progress_report(server.channel().await).await.expect("the progress report");
    }
    // Restarted on the same store: it starts, and everything reads.
    let server = TestServer::builder().store(store).start();
    let got = ActivityServiceClient::new(server.channel().await)
        .get_activity(api::GetActivityRequest { name: "activities/poison".into() })
        .await
        .expect("GetActivity")
        .into_inner();
    assert_eq!(got.sources, semicolons);
    let actions = TreatyServiceClient::new(server.channel().await)
        .list_treaty_actions(api::ListTreatyActionsRequest { country: "countries/PL".into(), ..Default::default() })
        .await
        .expect("ListTreatyActions")
        .into_inner();
    assert!(actions.treaty_actions.iter().any(|a| a.sources.iter().any(|c| c.locator == ";")));
    assert!(actions.unreadable.is_empty());
    drop(server);
    let dir = tempfile::tempdir().expect("folder");
    let export = dir.path().join("export");
    let out = Command::new(binary()).args(["export", "--store", store]).arg(&export).output().expect("export");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new(binary()).arg("check").arg(&export).output().expect("check");
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let copy = format!("sqlite://{}", dir.path().join("copy.sqlite").display());
    let out = Command::new(binary()).args(["import", "--store", &copy]).arg(&export).output().expect("import");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new(binary()).args(["check", "--store", &copy]).output().expect("check --store");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}

#[tokio::test]
async fn a_semicolon_in_a_locator_is_kept_and_nothing_breaks_sqlite() {
    let dir = tempfile::tempdir().expect("folder");
    a_semicolon_in_a_locator_is_kept_and_nothing_breaks(&format!("sqlite://{}", dir.path().join("s.sqlite").display()))
        .await;
}

#[tokio::test]
async fn a_semicolon_in_a_locator_is_kept_and_nothing_breaks_postgres() {
    if let Some(schema) = PgSchema::create().await {
        a_semicolon_in_a_locator_is_kept_and_nothing_breaks(&schema.url).await;
    }
}

/// M1, M7, L4: what the dataset could not hold, or what breaks lists, is refused, naming the field and the limit.
#[tokio::test]
async fn writes_the_store_could_not_hold_are_refused_naming_the_field() {
    let server = TestServer::start();
    /// What is changed in a valid activity, the field refused ("" for a reference) and the message.
    type Case = (&'static str, Box<dyn Fn(&mut api::Activity)>, &'static str, &'static str);
    let cases: Vec<Case> = vec![
        (
            "unknown document",
            Box::new(|a| a.sources[0].document = "no-such-document".into()),
            "",
            "unknown source document `no-such-document`",
        ),
        (
            "title",
            Box::new(|a| a.title = "x".repeat(301)),
            "activity.title",
            "is 301 characters long; at most 300 are allowed",
        ),
        (
            "description",
            Box::new(|a| a.description = "é".repeat(16_385)),
            "activity.description",
            "at most 16384 are allowed",
        ),
        ("note", Box::new(|a| a.note = "n".repeat(4_097)), "activity.note", "at most 4096 are allowed"),
        (
            "locator",
            Box::new(|a| a.sources[0].locator = "l".repeat(201)),
            "activity.sources[0].locator",
            "at most 200 are allowed",
        ),
        (
            "countries",
            Box::new(|a| a.countries = vec!["countries/PH".into(); 251]),
            "activity.countries",
            "has 251 items; at most 250",
        ),
        (
            "escape",
            Box::new(|a| a.title = "Workshop\u{1b}]0;pwned\u{7}".into()),
            "activity.title",
            "holds a control character",
        ),
        ("bidi", Box::new(|a| a.note = "gnp\u{202e}.exe".into()), "activity.note", "bidirectional override"),
        ("CR", Box::new(|a| a.description = "one\r## two".into()), "activity.description", "carriage return"),
        ("newline in a title", Box::new(|a| a.title = "one\ntwo".into()), "activity.title", "this field is one line"),
        (
            "document with a space",
            Box::new(|a| a.sources[0].document = "report 2007".into()),
            "activity.sources[0].document",
            "is not a source id",
        ),
    ];
    for (what, edit, field, message) in cases {
        let mut a = activity(&format!("refused-{}", what.len()));
        edit(&mut a);
        let status = create(server.channel().await, a).await.expect_err(what);
        if field.is_empty() {
            assert_eq!(status.code(), Code::FailedPrecondition, "{what}: {status:?}");
        } else {
            assert_eq!(status.code(), Code::InvalidArgument, "{what}: {status:?}");
            let violations = bad_request(&status);
            assert_eq!(violations.first().map(|v| v.0.as_str()), Some(field), "{what}: {violations:?}");
        }
        assert!(status.message().contains(message), "{what}: {}", status.message());
    }
    let (ids, _, _) = list_all(server.channel().await, 1000).await;
    assert!(ids.iter().all(|id| !id.starts_with("activities/refused-")), "nothing was written");
}

/// M7: large records within the limits still page: a page ends early rather than pass what a message may hold.
#[tokio::test]
async fn pages_of_large_activities_end_early_and_every_activity_is_listed() {
    let server = TestServer::start();
    let channel = server.channel().await;
    // 60 activities of some 64 KiB each (16,384 four-byte characters): about 3.9 MB in all.
    let mut made = Vec::new();
    for i in 0..60 {
        let mut a = activity(&format!("large-{i:02}"));
        a.description = "𝄞".repeat(16_384);
        create(channel.clone(), a).await.expect("a description at its limit is accepted");
        made.push(format!("activities/large-{i:02}"));
    }
    let (ids, unreadable, pages) = list_all(channel.clone(), 1000).await;
    assert!(unreadable.is_empty());
    assert!(pages >= 2, "one page of 1000 would have passed 4 MiB: {pages}");
    for id in &made {
        assert_eq!(ids.iter().filter(|i| *i == id).count(), 1, "{id} listed once");
    }
    let plan = ActivityServiceClient::new(channel)
        .get_activity_plan(api::GetActivityPlanRequest {
            period_start: Some(date(2007, 6, 1)),
            period_end: Some(date(2007, 6, 30)),
            ..Default::default()
        })
        .await
        .expect_err("the plan would pass what one answer carries");
    assert_eq!(plan.code(), Code::InvalidArgument, "{plan:?}");
    assert!(plan.message().contains("narrow the period or the filter"), "{}", plan.message());
}

/// H1's second half: a record that cannot be decoded (a bug, or a database edited by hand) is set aside. The
/// server starts and logs it, lists and reports answer and name it, a read of it alone answers DATA_LOSS, `check
/// --store` and `export` name it, and an admin deletes it through the API.
#[tokio::test]
async fn a_record_edited_by_hand_into_nonsense_is_set_aside_and_an_admin_deletes_it() {
    let dir = tempfile::tempdir().expect("folder");
    let path = dir.path().join("store.sqlite");
    let store = format!("sqlite://{}", path.display());
    {
        let server = TestServer::builder().store(&store).start();
        create(server.channel().await, activity("poison")).await.expect("created");
    }
    execute_by_hand(
        &store,
        "UPDATE activities SET body = '{\"id\": \"poison\", \"source\": \"report-2007-11 ;\"' WHERE id = 'poison'",
    )
    .await;
    let out = Command::new(binary()).args(["check", "--store", &store]).output().expect("check --store");
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success() && printed.contains("activities/poison: cannot be read"), "{printed}");

    let server = TestServer::builder().store(&store).start();
    assert!(server.log().contains("activities/poison"), "the start-up logs it:\n{}", server.log());
    let (ids, unreadable, _) = list_all(server.channel().await, 50).await;
    assert_eq!(unreadable, ["activities/poison"]);
    assert_eq!(ids.len(), core_model::Dataset::bundled().activities.len());
    let err = ActivityServiceClient::new(server.channel().await)
        .get_activity(api::GetActivityRequest { name: "activities/poison".into() })
        .await
        .expect_err("unreadable");
    assert_eq!(err.code(), Code::DataLoss, "{err:?}");
    progress_report(server.channel().await).await.expect("the report is not INTERNAL for everyone");
    let plan = ActivityServiceClient::new(server.channel().await)
        .get_activity_plan(api::GetActivityPlanRequest {
            period_start: Some(date(2007, 1, 1)),
            period_end: Some(date(2008, 12, 31)),
            ..Default::default()
        })
        .await
        .expect("the plan")
        .into_inner();
    assert_eq!(plan.unreadable.iter().map(|u| u.name.as_str()).collect::<Vec<_>>(), ["activities/poison"]);

    let export = dir.path().join("export");
    let out = Command::new(binary()).args(["export", "--store", &store]).arg(&export).output().expect("export");
    assert!(!out.status.success(), "a backup job must notice");
    assert!(String::from_utf8_lossy(&out.stderr).contains("activities/poison"));
    assert!(std::fs::read_to_string(export.join("unreadable.jsonl")).expect("kept apart").contains("poison"));
    assert!(export.join("activities.toml").exists(), "the rest is exported");

    let mut admin = AdminServiceClient::new(server.channel().await);
    let denied = admin
        .list_unreadable_records(with_token(api::ListUnreadableRecordsRequest {}, "editor-token"))
        .await
        .expect_err("admins only");
    assert_eq!(denied.code(), Code::PermissionDenied);
    let listed = admin
        .list_unreadable_records(with_token(api::ListUnreadableRecordsRequest {}, "admin-token"))
        .await
        .expect("listed")
        .into_inner();
    assert_eq!(listed.records.len(), 1);
    assert!(listed.records[0].stored.contains("report-2007-11 ;"), "the stored text, to rebuild it from");
    let readable = admin
        .delete_unreadable_record(with_token(
            api::DeleteUnreadableRecordRequest {
                name: "activities/2007-06-02-manila-apec-training".into(),
                ..Default::default()
            },
            "admin-token",
        ))
        .await
        .expect_err("a readable record is not deleted this way");
    assert!(matches!(readable.code(), Code::InvalidArgument | Code::NotFound), "{readable:?}");
    admin
        .delete_unreadable_record(with_token(
            api::DeleteUnreadableRecordRequest { name: "activities/poison".into(), ..Default::default() },
            "admin-token",
        ))
        .await
        .expect("deleted");
    let (_, unreadable, _) = list_all(server.channel().await, 50).await;
    assert!(unreadable.is_empty());
    // Written again, it reads.
    create(server.channel().await, activity("poison")).await.expect("created again");
    drop(server);
    let out = Command::new(binary()).args(["check", "--store", &store]).output().expect("check --store");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}
