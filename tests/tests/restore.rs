//! A restore through the real binary: `cybercrime export`, `cybercrime import` into a new store, then `serve` on
//! it. An etag held from before the restore is still stale, the current one still works, and a write retried by
//! its principal with its request id is still applied once.

use std::process::Command;

use api::activity_service_client::ActivityServiceClient;
use e2e_tests::{TestServer, api, binary, with_token};
use tonic::{Code, transport::Channel};

fn cli(args: &[&str]) -> String {
    let out = Command::new(binary()).args(args).output().expect("run cybercrime");
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "cybercrime {args:?} failed: {text}");
    text
}

const NAME: &str = "activities/2008-03-restore";

/// A title change through the mask, by `token`, naming `etag` and `request_id`.
async fn retitle(
    channel: &Channel,
    title: &str,
    etag: &str,
    request_id: &str,
    token: &str,
) -> Result<api::Activity, tonic::Status> {
    ActivityServiceClient::new(channel.clone())
        .update_activity(with_token(
            api::UpdateActivityRequest {
                activity: Some(api::Activity { name: NAME.into(), title: title.into(), ..Default::default() }),
                update_mask: Some(prost_types::FieldMask { paths: vec!["title".into()] }),
                etag: etag.into(),
                request_id: request_id.into(),
            },
            token,
        ))
        .await
        .map(tonic::Response::into_inner)
}

async fn etag_of(channel: &Channel) -> String {
    ActivityServiceClient::new(channel.clone())
        .get_activity(api::GetActivityRequest { name: NAME.into() })
        .await
        .expect("get")
        .into_inner()
        .etag
}

#[tokio::test]
async fn after_export_and_import_a_stale_etag_is_refused_and_a_retried_write_is_applied_once() {
    let mut source = TestServer::start();
    let channel = source.channel().await;
    let new = api::Activity {
        name: NAME.into(),
        title: "first version".into(),
        description: "A restore probe".into(),
        start: Some(api::ApproxDate { text: "2008-03".into(), ..Default::default() }),
        place: Some(api::Place {
            text: "Tirana, Albania".into(),
            city: "Tirana".into(),
            country: "countries/AL".into(),
            region: String::new(),
            tentative: false,
            ..Default::default()
        }),
        kind: api::ActivityKind::Workshop as i32,
        status: api::ActivityStatus::Pipeline as i32,
        outputs: vec![1],
        sources: vec![api::Citation { document: "report-2007-11".into(), locator: String::new() }],
        ..Default::default()
    };
    let created = ActivityServiceClient::new(channel.clone())
        .create_activity(with_token(
            api::CreateActivityRequest {
                activity: Some(new),
                request_id: "restore-create".into(),
                ..Default::default()
            },
            "editor-token",
        ))
        .await
        .expect("create")
        .into_inner();
    let second = retitle(&channel, "second version", &created.etag, "", "editor-token").await.expect("second");
    let third =
        retitle(&channel, "third version", &second.etag, "restore-update-3", "editor-token").await.expect("third");
    // An etag is the quoted position of the write that made the version in the store's log.
    let third_seq = third.etag.trim_matches('"');
    assert!(third_seq.parse::<i64>().is_ok() && third.etag == format!("\"{third_seq}\""), "{}", third.etag);
    let (_, clean) = source.terminate();
    assert!(clean, "the server did not stop cleanly");

    // Export, check and import through the binary.
    let dir = tempfile::tempdir().expect("temporary folder");
    let export = dir.path().join("export");
    let store = format!("sqlite://{}", source.dir().join("store.sqlite").display());
    cli(&["export", "--store", &store, export.to_str().expect("path")]);
    for name in ["audit.jsonl", "requests.jsonl", "versions.toml", "activities.toml"] {
        assert!(export.join(name).is_file(), "the export has no {name}");
    }
    let versions = std::fs::read_to_string(export.join("versions.toml")).expect("versions.toml");
    assert!(versions.contains(&format!("\"activities/2008-03-restore\" = {third_seq}")), "{versions}");
    let checked = cli(&["check", export.to_str().expect("path")]);
    assert!(checked.contains("history: valid (") && checked.contains("2 request ids"), "{checked}");
    let restored = format!("sqlite://{}", dir.path().join("restored.sqlite").display());
    let imported = cli(&["import", "--store", &restored, export.to_str().expect("path")]);
    assert!(imported.contains("2 request ids"), "{imported}");

    let server = TestServer::builder().store(&restored).start();
    let channel = server.channel().await;
    assert_eq!(etag_of(&channel).await, third.etag);
    // The etag a client held before the restore is still stale.
    let stale = retitle(&channel, "a lost update", &second.etag, "", "editor-token").await.unwrap_err();
    assert_eq!(stale.code(), Code::Aborted, "{stale:?}");
    // The write retried by its principal with its request id gets the answer given then, and is not applied again.
    let retried =
        retitle(&channel, "third version", &second.etag, "restore-update-3", "editor-token").await.expect("retry");
    assert_eq!(retried, third);
    assert_eq!(etag_of(&channel).await, third.etag);
    // The same id with another body is refused, without naming the earlier request.
    let reused = retitle(&channel, "another title", &third.etag, "restore-update-3", "editor-token").await.unwrap_err();
    assert_eq!(reused.code(), Code::InvalidArgument);
    assert_eq!(reused.message(), "request id `restore-update-3` was already used for a different request");
    // Another principal's same id is a request of its own; the current etag works.
    let fourth =
        retitle(&channel, "fourth version", &third.etag, "restore-update-3", "admin-token").await.expect("fourth");
    assert_eq!(fourth.title, "fourth version");
    // A new etag, never given before (the restored log's positions are all behind it); the creation time stays.
    for earlier in [&created.etag, &second.etag, &third.etag] {
        assert_ne!(&fourth.etag, earlier);
    }
    assert_eq!((fourth.create_time, fourth.update_time.is_some()), (created.create_time, true));
}
