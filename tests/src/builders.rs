//! The messages the end-to-end tests send, built in one place: a valid activity and treaty action to start from
//! (a test changes what it needs with `..`), the call that creates an activity as an editor, a report's chunks
//! read to the end, and the head of a raw gRPC request; and what the 2007 data answers, to compare with.

use tonic::transport::Channel;

use crate::{api, with_token};

/// The groups of ETS 185's status table on 30 November 2007, as the progress report counts them: 21 parties,
/// 22 signatories, 8 member States that had not signed, 2 States invited to accede, 1 that requested accession.
pub const ETS185_ON_2007_11_30: [(api::StateStatus, i32); 5] = [
    (api::StateStatus::Party, 21),
    (api::StateStatus::Signatory, 22),
    (api::StateStatus::NotSigned, 8),
    (api::StateStatus::InvitedToAccede, 2),
    (api::StateStatus::AccessionRequested, 1),
];

/// A status table's groups as `(status, count)`, to compare with [`ETS185_ON_2007_11_30`].
pub fn group_counts(status: &api::TreatyStatus) -> Vec<(i32, i32)> {
    status.groups.iter().map(|g| (g.status, g.count)).collect()
}

/// [`ETS185_ON_2007_11_30`] as [`group_counts`] gives it.
pub fn ets185_on_2007_11_30() -> Vec<(i32, i32)> {
    ETS185_ON_2007_11_30.iter().map(|(s, n)| (*s as i32, *n)).collect()
}

/// A citation of `document` without a locator.
pub fn citation(document: &str) -> api::Citation {
    api::Citation { document: document.to_owned(), locator: String::new() }
}

/// A valid planned activity named `name` (`activities/...`): a meeting in May 2009 serving output 3, citing the
/// 2007 report. Tests add what they need: `api::Activity { title: .., ..activity(name) }`.
pub fn activity(name: &str) -> api::Activity {
    api::Activity {
        name: name.to_owned(),
        title: "Test activity".into(),
        start: Some(api::ApproxDate { text: "2009-05".into(), ..Default::default() }),
        kind: api::ActivityKind::Meeting as i32,
        status: api::ActivityStatus::Pipeline as i32,
        outputs: vec![3],
        sources: vec![citation("report-2007-11")],
        ..Default::default()
    }
}

/// A completed workshop in Manila (the Philippines) at `start` (`2007-06`), serving output 1: an activity the
/// 2007 report's period and the PH brief list.
pub fn workshop_in_manila(name: &str, start: &str) -> api::Activity {
    api::Activity {
        title: "Workshop".into(),
        start: Some(api::ApproxDate { text: start.into(), ..Default::default() }),
        place: Some(api::Place {
            text: "Manila".into(),
            city: "Manila".into(),
            country: "countries/PH".into(),
            ..Default::default()
        }),
        countries: vec!["countries/PH".into()],
        kind: api::ActivityKind::Workshop as i32,
        status: api::ActivityStatus::Completed as i32,
        outputs: vec![1],
        ..activity(name)
    }
}

/// The ratification of ETS 185 by `country` (`countries/..`) on `day` (`2009-03-01`), citing `CoE-2015`.
pub fn ratification(country: &str, day: &str) -> api::TreatyAction {
    api::TreatyAction {
        country: country.to_owned(),
        treaty: "treaties/185".into(),
        kind: api::ActionKind::Ratification as i32,
        date: Some(api::ApproxDate { text: day.to_owned(), ..Default::default() }),
        sources: vec![citation("CoE-2015")],
        ..Default::default()
    }
}

/// Creates `activity` as an editor (`editor-token`), with `request_id` (empty for none).
pub async fn create_activity(
    channel: &Channel,
    activity: api::Activity,
    request_id: &str,
) -> Result<api::Activity, tonic::Status> {
    api::activity_service_client::ActivityServiceClient::new(channel.clone())
        .create_activity(with_token(
            api::CreateActivityRequest {
                activity: Some(activity),
                request_id: request_id.to_owned(),
                ..Default::default()
            },
            "editor-token",
        ))
        .await
        .map(tonic::Response::into_inner)
}

/// Reads a report stream to its end: the document, and its chunks.
pub async fn collect(mut stream: tonic::Streaming<api::ReportChunk>) -> (String, Vec<api::ReportChunk>) {
    let mut chunks = Vec::new();
    while let Some(c) = stream.message().await.expect("a chunk") {
        chunks.push(c);
    }
    let bytes: Vec<u8> = chunks.iter().flat_map(|c| c.data.clone()).collect();
    (String::from_utf8(bytes).expect("UTF-8"), chunks)
}

/// The head of a gRPC request to `path` on `addr`, for a raw HTTP/2 client.
pub fn grpc_head(addr: &str, path: &str) -> http::Request<()> {
    http::Request::builder()
        .method("POST")
        .uri(format!("http://{addr}{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(())
        .expect("request head")
}
