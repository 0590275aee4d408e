//! Hostile clients end to end: bad requests sent by real clients (tonic, a raw tonic codec, the `h2` crate and
//! hand-written HTTP/2 frames) against the real binary. Each bad request must get its proper gRPC error, and
//! after each attack the server must still answer another client correctly (the status table of ETS 185 on
//! 30 November 2007) and must not have panicked.

#![allow(clippy::print_stderr)]

use std::{collections::BTreeSet, future::Future, time::Duration};

use api::{
    activity_service_client::ActivityServiceClient, country_service_client::CountryServiceClient,
    programme_service_client::ProgrammeServiceClient, report_service_client::ReportServiceClient,
    treaty_service_client::TreatyServiceClient,
};
use bytes::{Buf, BufMut, Bytes};
use e2e_tests::{
    TestServer, api, bad_request,
    builders::{ets185_on_2007_11_30, group_counts, grpc_head},
    date,
    pb::google::r#type::Date,
    with_token,
};
use prost::Message;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::{
    Code, Status,
    codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder},
    metadata::{AsciiMetadataValue, MetadataValue},
    transport::Channel,
};

// ---------------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------------

/// How long any one attack may take before the test calls it a hang. Generous: a hang, not a speed, is tested.
const PATIENCE: Duration = Duration::from_secs(120);

/// The future's output, or a failure naming `what` if it takes longer than [`PATIENCE`].
async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, future).await.unwrap_or_else(|_| panic!("{what}: no answer within {PATIENCE:?}"))
}

/// Another client, on its own new connection, still gets the status table of 30 November 2007 (as in `api.rs`),
/// and the server has not panicked.
async fn still_serves(server: &TestServer, after: &str) {
    let check = async {
        let channel = Channel::from_shared(format!("http://{}", server.addr)).expect("uri").connect().await?;
        let s = TreatyServiceClient::new(channel)
            .get_treaty_status(api::GetTreatyStatusRequest {
                name: "treaties/185".into(),
                as_of: Some(date(2007, 11, 30)),
                ..Default::default()
            })
            .await?
            .into_inner();
        Ok::<_, Box<dyn std::error::Error>>(s)
    };
    let s = within(after, check).await.unwrap_or_else(|e| {
        panic!("after {after}, another client is not served: {e:?}\nserver log (end):\n{}", log_tail(server))
    });
    assert_eq!(group_counts(&s), ets185_on_2007_11_30(), "after {after}");
    assert!(!server.log().contains("panicked"), "after {after}, the server panicked:\n{}", log_tail(server));
}

/// The last 20 lines of the server's log, each cut to 500 characters.
fn log_tail(server: &TestServer) -> String {
    let log = server.log();
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(20)..].iter().map(|l| l.chars().take(500).collect::<String>() + "\n").collect()
}

/// The description of the one BadRequest violation of an INVALID_ARGUMENT error, which must name `field`.
fn invalid<T: std::fmt::Debug>(result: Result<T, Status>, field: &str) -> String {
    let err = result.expect_err("a bad request was accepted");
    assert_eq!(err.code(), Code::InvalidArgument, "{field}: {err:?}");
    let violations = bad_request(&err);
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].0, field, "{err:?}");
    violations.into_iter().next().map(|v| v.1).unwrap_or_default()
}

/// A message's bytes with a tonic client: sends `Bytes` as they are and returns the response's bytes.
#[derive(Debug, Clone, Copy, Default)]
struct RawCodec;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> RawCodec {
        RawCodec
    }

    fn decoder(&mut self) -> RawCodec {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

/// One unary call whose request message is `body`, as it is.
async fn raw_unary(channel: &Channel, path: &'static str, body: Vec<u8>, token: Option<&str>) -> Result<Bytes, Status> {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready().await.map_err(|e| Status::unknown(format!("not ready: {e}")))?;
    let request = match token {
        Some(t) => with_token(Bytes::from(body), t),
        None => tonic::Request::new(Bytes::from(body)),
    };
    grpc.unary(request, http::uri::PathAndQuery::from_static(path), RawCodec).await.map(tonic::Response::into_inner)
}

/// A protobuf varint.
fn varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// A length-delimited protobuf field (a string, bytes or a message), whatever its bytes.
fn field(number: u32, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    varint(&mut out, u64::from(number) << 3 | 2);
    varint(&mut out, bytes.len() as u64);
    out.extend_from_slice(bytes);
    out
}

/// A gRPC message frame: the compression flag, the length, the bytes.
fn grpc_frame(compressed: u8, declared_len: u32, bytes: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(5 + bytes.len());
    out.push(compressed);
    out.extend_from_slice(&declared_len.to_be_bytes());
    out.extend_from_slice(bytes);
    Bytes::from(out)
}

/// An HTTP/2 connection with the `h2` crate, driven by a task whose result tells how the connection ended.
async fn h2_connect(addr: &str) -> (h2::client::SendRequest<Bytes>, tokio::task::JoinHandle<Result<(), h2::Error>>) {
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (send, connection) = h2::client::handshake(tcp).await.expect("HTTP/2 handshake");
    (send, tokio::spawn(connection))
}

/// Sends a request with the `h2` crate and returns the HTTP status and the gRPC status of its answer (from
/// the headers of a trailers-only answer, or from the trailers).
async fn h2_call(
    send: &h2::client::SendRequest<Bytes>,
    head: http::Request<()>,
    body: Bytes,
) -> Result<(http::StatusCode, Option<Status>), h2::Error> {
    let mut send = send.clone().ready().await?;
    let (response, mut stream) = send.send_request(head, false)?;
    stream.send_data(body, true)?;
    let response = response.await?;
    let http_status = response.status();
    if let Some(status) = Status::from_header_map(response.headers()) {
        return Ok((http_status, Some(status)));
    }
    let mut body = response.into_body();
    while let Some(chunk) = body.data().await {
        let chunk = chunk?;
        let _ = body.flow_control().release_capacity(chunk.len());
    }
    let trailers = body.trailers().await?;
    Ok((http_status, trailers.as_ref().and_then(Status::from_header_map)))
}

/// The server's limit on a message (`MAX_MESSAGE_SIZE` in `server.rs`).
const MAX_MESSAGE: usize = grpc_server::server::MAX_MESSAGE_SIZE;

const GET_TREATY: &str = "/coe.cybercrime.v1.TreatyService/GetTreaty";
const GET_TREATY_STATUS: &str = "/coe.cybercrime.v1.TreatyService/GetTreatyStatus";

// ---------------------------------------------------------------------------------------------------------------
// 1. Oversized messages
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn messages_over_4_mib_are_refused() {
    let server = TestServer::start();
    let channel = server.channel().await;
    let mut activities = ActivityServiceClient::new(channel.clone());

    // A message of 4 MiB + 1 byte (a long filter): refused by the server's decoder before any handler runs.
    let too_long =
        |extra: usize| api::ListActivitiesRequest { filter: "x".repeat(MAX_MESSAGE - 5 + extra), ..Default::default() };
    assert_eq!(too_long(1).encoded_len(), MAX_MESSAGE + 1);
    let err = within("a message of 4 MiB + 1", activities.list_activities(too_long(1))).await.unwrap_err();
    assert_eq!(
        (err.code(), err.message()),
        (Code::OutOfRange, "Error, decoded message length too large: found 4194305 bytes, the limit is: 4194304 bytes")
    );
    still_serves(&server, "a message of 4 MiB + 1").await;

    // Exactly 4 MiB: decoded, then refused by the filter's own limit, naming the field.
    assert_eq!(too_long(0).encoded_len(), MAX_MESSAGE);
    let description = invalid(within("a message of 4 MiB", activities.list_activities(too_long(0))).await, "filter");
    assert_eq!(description, "at position 2048: the filter is 4194299 bytes long; at most 2048 are allowed");
    still_serves(&server, "a message of 4 MiB").await;

    // A 5 MiB activity description from an editor: refused the same way, and nothing is created.
    let activity = api::Activity {
        name: "activities/2008-01-huge".into(),
        title: "Huge".into(),
        kind: api::ActivityKind::Workshop as i32,
        status: api::ActivityStatus::Pipeline as i32,
        description: "x".repeat(5 << 20),
        sources: vec![api::Citation { document: "report-2007-11".into(), locator: String::new() }],
        ..Default::default()
    };
    let request =
        api::CreateActivityRequest { activity: Some(activity), request_id: String::new(), ..Default::default() };
    let expected = format!(
        "Error, decoded message length too large: found {} bytes, the limit is: 4194304 bytes",
        request.encoded_len()
    );
    let err =
        within("5 MiB description", activities.create_activity(with_token(request, "editor-token"))).await.unwrap_err();
    assert_eq!((err.code(), err.message()), (Code::OutOfRange, expected.as_str()));
    let gone =
        activities.get_activity(api::GetActivityRequest { name: "activities/2008-01-huge".into() }).await.unwrap_err();
    assert_eq!(gone.code(), Code::NotFound, "{gone:?}");
    still_serves(&server, "a 5 MiB description").await;

    // A message frame that claims 4 GiB and sends 3 bytes: refused from its length alone.
    let (send, _connection) = h2_connect(&server.addr).await;
    let (http_status, status) =
        within("a 4 GiB claim", h2_call(&send, grpc_head(&server.addr, GET_TREATY), grpc_frame(0, u32::MAX, b"abc")))
            .await
            .expect("an answer");
    assert_eq!(http_status, http::StatusCode::OK);
    let status = status.expect("a gRPC status");
    assert_eq!(status.code(), Code::OutOfRange, "{status:?}");
    assert_eq!(
        status.message(),
        "Error, decoded message length too large: found 4294967295 bytes, the limit is: 4194304 bytes"
    );
    still_serves(&server, "a frame claiming 4 GiB").await;
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Deep and huge filters
// ---------------------------------------------------------------------------------------------------------------

/// The names of every activity a filter selects, paging to the end.
async fn activity_names(activities: &mut ActivityServiceClient<Channel>, filter: &str) -> Result<Vec<String>, Status> {
    let mut names = Vec::new();
    let mut token = String::new();
    loop {
        let page = activities
            .list_activities(api::ListActivitiesRequest {
                page_size: 1000,
                page_token: token,
                filter: filter.to_owned(),
                order_by: String::new(),
            })
            .await?
            .into_inner();
        names.extend(page.activities.into_iter().map(|a| a.name));
        if page.next_page_token.is_empty() {
            return Ok(names);
        }
        token = page.next_page_token;
    }
}

#[tokio::test]
async fn deep_and_huge_filters_are_refused_naming_the_filter() {
    let server = TestServer::start();
    let channel = server.channel().await;
    let mut activities = ActivityServiceClient::new(channel.clone());
    let nested = |depth: usize, prefix: &str| format!("{}tentative = true{}", prefix.repeat(depth), ")".repeat(depth));

    let refused: [(&str, String, &str); 6] = [
        (
            "100,000 nested parentheses",
            nested(100_000, "("),
            "at position 2048: the filter is 200016 bytes long; at most 2048 are allowed",
        ),
        (
            "1,000 nested parentheses (2,016 bytes)",
            nested(1000, "("),
            "at position 32: parentheses nest more than 32 deep",
        ),
        ("500 nested -( (1,516 bytes)", nested(500, "-("), "at position 65: parentheses nest more than 32 deep"),
        (
            "NOT NOT NOT ... (2,016 bytes)",
            format!("{}tentative = true", "NOT ".repeat(500)),
            "at position 4: expected a field or `(` after NOT, found NOT",
        ),
        (
            "300,000 NOTs",
            format!("{}tentative = true", "NOT ".repeat(300_000)),
            "at position 2048: the filter is 1200016 bytes long; at most 2048 are allowed",
        ),
        (
            "1 MiB of OR terms",
            vec!["output = 1"; 75_000].join(" OR "),
            "at position 2048: the filter is 1049996 bytes long; at most 2048 are allowed",
        ),
    ];
    for (what, filter, expected) in refused {
        let result = within(what, activity_names(&mut activities, &filter)).await;
        assert_eq!(invalid(result, "filter"), expected, "{what}");
        still_serves(&server, what).await;
        let result = within(
            what,
            activities.get_activity_plan(api::GetActivityPlanRequest {
                period_start: Some(date(2007, 1, 1)),
                period_end: Some(date(2008, 12, 31)),
                filter: filter.clone(),
            }),
        )
        .await;
        assert_eq!(invalid(result, "filter"), expected, "GetActivityPlan, {what}");
        still_serves(&server, &format!("GetActivityPlan, {what}")).await;
    }

    // What the limits allow is answered, and answered right: 32 levels, and the longest OR chain (2,040 bytes).
    let tentative = activity_names(&mut activities, "tentative = true").await.unwrap();
    assert!(!tentative.is_empty());
    assert_eq!(within("32 levels", activity_names(&mut activities, &nested(32, "("))).await.unwrap(), tentative);
    let output_1 = activity_names(&mut activities, "output = 1").await.unwrap();
    let bundled = core_model::Dataset::bundled().activities.iter().filter(|a| a.outputs.contains(&1)).count();
    assert_eq!(output_1.len(), bundled);
    let chain = vec!["output = 1"; 146].join(" OR ");
    assert_eq!(chain.len(), 2040);
    assert_eq!(within("146 OR terms", activity_names(&mut activities, &chain)).await.unwrap(), output_1);
    let chain = vec!["-(output != 1)"; 107].join(" AND ");
    assert!(chain.len() <= 2048);
    assert_eq!(within("107 AND terms", activity_names(&mut activities, &chain)).await.unwrap(), output_1);
    still_serves(&server, "the longest filters").await;

    // ListCountries speaks the same filter language, with the same limits: a deep filter and a 1 MiB one are
    // refused naming the filter, and the server still serves.
    let mut countries = CountryServiceClient::new(channel.clone());
    let list = |filter: String| api::ListCountriesRequest { page_size: 1000, filter, ..Default::default() };
    let result = within("deep country filter", countries.list_countries(list(nested(1000, "(")))).await;
    assert_eq!(invalid(result, "filter"), "at position 32: parentheses nest more than 32 deep");
    still_serves(&server, "a deep country filter").await;
    let europe = countries.list_countries(list("region = \"EUROPE\"".into())).await.unwrap().into_inner();
    assert!(europe.countries.len() > 40);
    let huge = vec!["region = \"EUROPE\""; 60_000].join(" AND ");
    assert!(huge.len() > 1 << 20);
    let result = within("1 MiB country filter", countries.list_countries(list(huge.clone()))).await;
    assert_eq!(
        invalid(result, "filter"),
        format!("at position 2048: the filter is {} bytes long; at most 2048 are allowed", huge.len())
    );
    still_serves(&server, "a 1 MiB country filter").await;
}

// ---------------------------------------------------------------------------------------------------------------
// 3. Invalid UTF-8 and malformed protobuf
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn invalid_utf8_and_malformed_protobuf_are_refused_at_decoding() {
    let server = TestServer::start();
    let channel = server.channel().await;

    // The control: hand-encoded bytes of a good request are answered.
    let answer = within("a hand-encoded request", raw_unary(&channel, GET_TREATY, field(1, b"treaties/185"), None))
        .await
        .unwrap();
    assert_eq!(api::Treaty::decode(answer).unwrap().display_name, "ETS 185");

    // tonic-prost maps every decode error to INTERNAL (not INVALID_ARGUMENT), with prost's message.
    let cases: Vec<(&str, &'static str, Vec<u8>, &str)> = vec![
        (
            "0xFF 0xFE in GetTreatyRequest.name",
            GET_TREATY,
            field(1, b"treaties/\xFF\xFE"),
            "failed to decode Protobuf message: GetTreatyRequest.name: invalid string value: data is not UTF-8 encoded",
        ),
        (
            "an overlong encoding of `/`",
            GET_TREATY,
            field(1, b"treaties\xC0\xAF185"),
            "failed to decode Protobuf message: GetTreatyRequest.name: invalid string value: data is not UTF-8 encoded",
        ),
        (
            "a lone surrogate",
            GET_TREATY,
            field(1, b"\xED\xA0\x80"),
            "failed to decode Protobuf message: GetTreatyRequest.name: invalid string value: data is not UTF-8 encoded",
        ),
        (
            "0xFF in ListActivitiesRequest.filter",
            "/coe.cybercrime.v1.ActivityService/ListActivities",
            field(3, b"status = \"\xFF\""),
            "failed to decode Protobuf message: ListActivitiesRequest.filter: invalid string value: data is not UTF-8 encoded",
        ),
        (
            "0xFF in a nested CreateActivityRequest.activity.title",
            "/coe.cybercrime.v1.ActivityService/CreateActivity",
            field(1, &[field(1, b"activities/2008-utf8"), field(2, b"\xFF")].concat()),
            "failed to decode Protobuf message: Activity.title: CreateActivityRequest.activity: invalid string value: data is not UTF-8 encoded",
        ),
        (
            "a string that claims 100 bytes and has 3",
            GET_TREATY,
            vec![0x0A, 100, b'a', b'b', b'c'],
            "failed to decode Protobuf message: GetTreatyRequest.name: buffer underflow",
        ),
        (
            "a varint of 11 bytes",
            "/coe.cybercrime.v1.TreatyService/GetRatificationTimeline",
            [&[0x10][..], &[0xFF; 11]].concat(),
            "failed to decode Protobuf message: GetRatificationTimelineRequest.from_year: invalid varint",
        ),
        (
            "a varint where a string is",
            GET_TREATY,
            vec![0x08, 0x01],
            "failed to decode Protobuf message: GetTreatyRequest.name: invalid wire type: Varint (expected LengthDelimited)",
        ),
    ];
    for (what, path, body, message) in cases {
        let err = within(what, raw_unary(&channel, path, body, Some("editor-token"))).await.unwrap_err();
        assert_eq!((err.code(), err.message()), (Code::Internal, message), "{what}");
        still_serves(&server, what).await;
    }

    // An unknown method.
    let err = within("an unknown method", raw_unary(&channel, "/coe.cybercrime.v1.TreatyService/Nope", vec![], None))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unimplemented, "{err:?}");
    still_serves(&server, "an unknown method").await;

    // Bad gRPC framing, with the `h2` crate: a compressed message where no encoding was named, an unknown
    // compression flag, and a message cut short.
    let (send, _connection) = h2_connect(&server.addr).await;
    let good = field(1, b"treaties/185");
    let framing: [(&str, Bytes, &str); 3] = [
        (
            "compression flag 1 without grpc-encoding",
            grpc_frame(1, good.len() as u32, &good),
            "protocol error: received message with compressed-flag but no grpc-encoding was specified",
        ),
        (
            "compression flag 7",
            grpc_frame(7, good.len() as u32, &good),
            "protocol error: received message with invalid compression flag: 7 (valid flags are 0 and 1), while sending request",
        ),
        ("a message cut short", grpc_frame(0, 100, &good), "Unexpected EOF decoding stream."),
    ];
    for (what, body, message) in framing {
        let (http_status, status) =
            within(what, h2_call(&send, grpc_head(&server.addr, GET_TREATY), body)).await.expect("an answer");
        let status = status.unwrap_or_else(|| panic!("{what}: no gRPC status; HTTP {http_status}"));
        assert_eq!((status.code(), status.message()), (Code::Internal, message), "{what}");
        still_serves(&server, what).await;
    }
}

// ---------------------------------------------------------------------------------------------------------------
// 4. Extreme dates and page sizes
// ---------------------------------------------------------------------------------------------------------------

/// Dates no request may carry, with the server's description of each.
fn bad_dates() -> Vec<(Date, String)> {
    vec![
        (date(0, 1, 1), "year 0 is out of range 1-9999".into()),
        (date(10_000, 1, 1), "year 10000 is out of range 1-9999".into()),
        (date(-1, 1, 1), "year -1 is out of range 1-9999".into()),
        (date(i32::MIN, 1, 1), format!("year {} is out of range 1-9999", i32::MIN)),
        (date(i32::MAX, i32::MAX, i32::MAX), format!("year {} is out of range 1-9999", i32::MAX)),
        (date(2007, 13, 1), "month 13 is out of range 1-12".into()),
        (date(2007, 0, 1), "month 0 is out of range 1-12".into()),
        (date(2007, -1, 1), "month -1 is out of range 1-12".into()),
        (date(2007, 1, 32), "day 32 does not exist in 2007-01".into()),
        (date(2007, 1, -5), "day -5 is out of range: a full date is needed".into()),
        (date(2007, 1, i32::MAX), format!("day {} does not exist in 2007-01", i32::MAX)),
    ]
}

#[tokio::test]
async fn extreme_dates_are_refused_naming_the_field() {
    let server = TestServer::start();
    let channel = server.channel().await;
    let mut treaties = TreatyServiceClient::new(channel.clone());
    let mut activities = ActivityServiceClient::new(channel.clone());
    let mut countries = CountryServiceClient::new(channel.clone());
    let mut programme = ProgrammeServiceClient::new(channel.clone());
    let mut reports = ReportServiceClient::new(channel.clone());

    for (d, expected) in bad_dates() {
        let what = format!("{d:?}");
        let r = treaties
            .get_treaty_status(api::GetTreatyStatusRequest {
                name: "treaties/185".into(),
                as_of: Some(d),
                ..Default::default()
            })
            .await;
        assert_eq!(invalid(r, "as_of"), expected, "GetTreatyStatus {what}");
        let r = countries.get_country(api::GetCountryRequest { name: "countries/PH".into(), as_of: Some(d) }).await;
        assert_eq!(invalid(r, "as_of"), expected, "GetCountry {what}");
        let r = countries.list_countries(api::ListCountriesRequest { as_of: Some(d), ..Default::default() }).await;
        assert_eq!(invalid(r, "as_of"), expected, "ListCountries {what}");
        let r = programme.get_programme(api::GetProgrammeRequest { as_of: Some(d) }).await;
        assert_eq!(invalid(r, "as_of"), expected, "GetProgramme {what}");
        let r = activities
            .get_activity_plan(api::GetActivityPlanRequest {
                period_start: Some(d),
                period_end: Some(date(2008, 6, 30)),
                filter: String::new(),
            })
            .await;
        assert_eq!(invalid(r, "period_start"), expected, "GetActivityPlan start {what}");
        let r = activities
            .get_activity_plan(api::GetActivityPlanRequest {
                period_start: Some(date(2007, 12, 1)),
                period_end: Some(d),
                filter: String::new(),
            })
            .await;
        assert_eq!(invalid(r, "period_end"), expected, "GetActivityPlan end {what}");
        let r = reports
            .generate_progress_report(api::GenerateProgressReportRequest {
                as_of: Some(d),
                period_start: Some(date(2007, 1, 1)),
                ..Default::default()
            })
            .await;
        assert_eq!(invalid(r, "as_of"), expected, "GenerateProgressReport {what}");
        let r = reports
            .generate_country_brief(api::GenerateCountryBriefRequest {
                country: "countries/PH".into(),
                as_of: Some(d),
                ..Default::default()
            })
            .await;
        assert_eq!(invalid(r, "as_of"), expected, "GenerateCountryBrief {what}");
    }
    still_serves(&server, "extreme dates").await;

    // Years of the timeline.
    let timeline = |from_year: i32, to_year: i32| api::GetRatificationTimelineRequest {
        name: "treaties/185".into(),
        from_year,
        to_year,
    };
    for (from, to, field, expected) in [
        (-1, 2007, "from_year", "-1 is out of range 1-9999".to_owned()),
        (i32::MIN, 2007, "from_year", format!("{} is out of range 1-9999", i32::MIN)),
        (10_000, 10_001, "from_year", "10000 is out of range 1-9999".to_owned()),
        (2002, i32::MAX, "to_year", format!("{} must be from from_year (2002) to from_year + 200", i32::MAX)),
        (2002, -5, "to_year", "-5 must be from from_year (2002) to from_year + 200".to_owned()),
        (1, 9999, "to_year", "9999 must be from from_year (1) to from_year + 200".to_owned()),
        (2007, 2002, "to_year", "2002 must be from from_year (2007) to from_year + 200".to_owned()),
    ] {
        let r = treaties.get_ratification_timeline(timeline(from, to)).await;
        assert_eq!(invalid(r, field), expected, "GetRatificationTimeline {from}..{to}");
    }
    // A record's date text.
    let record = |text: &str| api::RecordTreatyActionRequest {
        treaty_action: Some(api::TreatyAction {
            country: "countries/DE".into(),
            treaty: "treaties/185".into(),
            kind: api::ActionKind::Ratification as i32,
            date: Some(api::ApproxDate { text: text.into(), ..Default::default() }),
            sources: vec![api::Citation { document: "CoE-2015".into(), locator: String::new() }],
            ..Default::default()
        }),
        request_id: String::new(),
    };
    for (text, expected) in [
        ("10000-01-01", "the year `10000` must be 4 digits"),
        ("99999999999999999999", "the year `99999999999999999999` must be 4 digits"),
        ("-2009-03-09", "`-2009-03-09` is not of the form YYYY-MM-DD"),
        ("2009-13", "month 13 is out of range 1-12"),
        ("2009-02-30", "day 30 does not exist in 2009-02"),
        ("2009-03-32", "day 32 does not exist in 2009-03"),
    ] {
        let r = treaties.record_treaty_action(with_token(record(text), "editor-token")).await;
        assert_eq!(invalid(r, "treaty_action.date.text"), expected, "{text}");
    }
    still_serves(&server, "extreme years and date texts").await;
    // Nothing was recorded: Germany is still a signatory in 2030.
    let s = treaties
        .get_treaty_status(api::GetTreatyStatusRequest {
            name: "treaties/185".into(),
            as_of: Some(date(2030, 1, 1)),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(s.groups[1].states.iter().any(|e| e.country == "countries/DE"));
}

#[tokio::test]
async fn page_sizes_negative_are_refused_and_huge_are_capped() {
    let server = TestServer::start();
    let channel = server.channel().await;
    let mut treaties = TreatyServiceClient::new(channel.clone());
    let mut activities = ActivityServiceClient::new(channel.clone());
    let mut countries = CountryServiceClient::new(channel.clone());
    let mut programme = ProgrammeServiceClient::new(channel.clone());

    for size in [-1, -1000, i32::MIN] {
        let expected = format!("{size} is negative");
        let r = treaties.list_treaties(api::ListTreatiesRequest { page_size: size, ..Default::default() }).await;
        assert_eq!(invalid(r, "page_size"), expected);
        let r =
            treaties.list_treaty_actions(api::ListTreatyActionsRequest { page_size: size, ..Default::default() }).await;
        assert_eq!(invalid(r, "page_size"), expected);
        let r = activities.list_activities(api::ListActivitiesRequest { page_size: size, ..Default::default() }).await;
        assert_eq!(invalid(r, "page_size"), expected);
        let r = countries.list_countries(api::ListCountriesRequest { page_size: size, ..Default::default() }).await;
        assert_eq!(invalid(r, "page_size"), expected);
        let r = programme.list_studies(api::ListStudiesRequest { page_size: size, ..Default::default() }).await;
        assert_eq!(invalid(r, "page_size"), expected);
        let r =
            programme.list_organisations(api::ListOrganisationsRequest { page_size: size, ..Default::default() }).await;
        assert_eq!(invalid(r, "page_size"), expected);
    }
    still_serves(&server, "negative page sizes").await;

    // i32::MAX is capped (at 1000, more than any list here holds): the whole list in one page, the same as
    // paging through it.
    let all = within(
        "page_size i32::MAX",
        activities.list_activities(api::ListActivitiesRequest { page_size: i32::MAX, ..Default::default() }),
    )
    .await
    .unwrap()
    .into_inner();
    assert!(all.next_page_token.is_empty());
    let mut paged = Vec::new();
    let mut token = String::new();
    loop {
        let page = activities
            .list_activities(api::ListActivitiesRequest { page_size: 7, page_token: token, ..Default::default() })
            .await
            .unwrap()
            .into_inner();
        paged.extend(page.activities);
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert!(paged.len() > 50, "more than the default page");
    assert_eq!(all.activities, paged);
    let c = countries
        .list_countries(api::ListCountriesRequest { page_size: i32::MAX, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((c.countries.len(), c.next_page_token.as_str()), (core_model::Dataset::bundled().states.len(), ""));
    let t = treaties
        .list_treaty_actions(api::ListTreatyActionsRequest { page_size: i32::MAX, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert!(t.treaty_actions.len() > 50 && t.next_page_token.is_empty(), "{}", t.treaty_actions.len());
    let t = treaties
        .list_treaties(api::ListTreatiesRequest { page_size: i32::MAX, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(t.treaties.len(), core_model::Dataset::bundled().treaties.len());
    let s = programme
        .list_studies(api::ListStudiesRequest { page_size: i32::MAX, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(s.studies.len(), 5);
    let o = programme
        .list_organisations(api::ListOrganisationsRequest { page_size: i32::MAX, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert!(!o.organisations.is_empty() && o.next_page_token.is_empty());
    still_serves(&server, "page size i32::MAX").await;
}

// ---------------------------------------------------------------------------------------------------------------
// 5. Forged page tokens
// ---------------------------------------------------------------------------------------------------------------

/// A 64-bit FNV-1a hash, as the server's page tokens use (an unkeyed checksum anyone can compute).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

/// A token with a valid checksum for any position, forged by a client that read the server's source.
fn forged_token(scope: &str, seq: u64) -> String {
    let body = format!("{seq:016x}{:016x}", fnv1a(scope.as_bytes()));
    let check = fnv1a(format!("cybercrime-page:{body}").as_bytes());
    format!("{body}{check:016x}")
}

#[tokio::test]
async fn forged_page_tokens_are_refused_naming_the_page_token() {
    let server = TestServer::start();
    let channel = server.channel().await;
    let mut activities = ActivityServiceClient::new(channel.clone());
    let mut countries = CountryServiceClient::new(channel.clone());
    let mut treaties = TreatyServiceClient::new(channel.clone());

    let list = |token: &str, filter: &str| api::ListActivitiesRequest {
        page_size: 2,
        page_token: token.to_owned(),
        filter: filter.to_owned(),
        order_by: String::new(),
    };
    let completed = "status = \"COMPLETED\"";
    let genuine = activities.list_activities(list("", completed)).await.unwrap().into_inner().next_page_token;
    assert_eq!(genuine.len(), 48);
    let second = activities.list_activities(list(&genuine, completed)).await.unwrap().into_inner();
    assert_eq!(second.activities.len(), 2, "the genuine token works");
    let country_token = countries
        .list_countries(api::ListCountriesRequest { page_size: 2, ..Default::default() })
        .await
        .unwrap()
        .into_inner()
        .next_page_token;
    assert!(!country_token.is_empty());

    let mut flipped = genuine.clone().into_bytes();
    flipped[3] = if flipped[3] == b'0' { b'1' } else { b'0' };
    let flipped = String::from_utf8(flipped).unwrap();
    let not_issued = "invalid page token: not a token this service issued";
    let another_list = "invalid page token: issued for another list or filter";
    let cases: Vec<(&str, String, &str, &str)> = vec![
        ("random base64", "SGVsbG8sIHdvcmxkISBJIGFtIGEgcGFnZSB0b2tlbi4=".into(), completed, not_issued),
        ("a truncated token", genuine[..47].to_owned(), completed, not_issued),
        ("a token cut in half", genuine[..24].to_owned(), completed, not_issued),
        ("one digit changed", flipped, completed, not_issued),
        ("48 non-hex characters", "z".repeat(48), completed, not_issued),
        ("48 bytes of UTF-8", "é".repeat(24), completed, not_issued),
        ("a 1 MiB token", "0".repeat(1 << 20), completed, not_issued),
        ("the token of another filter", genuine.clone(), "output = 1", another_list),
        ("the token of ListCountries", country_token.clone(), completed, another_list),
    ];
    for (what, token, filter, expected) in cases {
        let r = within(what, activities.list_activities(list(&token, filter))).await;
        assert_eq!(invalid(r, "page_token"), expected, "{what}");
        still_serves(&server, what).await;
    }
    // Tokens of another list on the in-memory lists and on treaty actions.
    let r =
        countries.list_countries(api::ListCountriesRequest { page_token: genuine.clone(), ..Default::default() }).await;
    assert_eq!(invalid(r, "page_token"), another_list);
    let r = countries
        .list_countries(api::ListCountriesRequest {
            page_token: country_token.clone(),
            filter: "coe_member = true".into(),
            ..Default::default()
        })
        .await;
    assert_eq!(invalid(r, "page_token"), another_list);
    let r = treaties
        .list_treaty_actions(api::ListTreatyActionsRequest { page_token: genuine.clone(), ..Default::default() })
        .await;
    assert_eq!(invalid(r, "page_token"), another_list);
    let r = treaties.list_treaties(api::ListTreatiesRequest { page_token: country_token, ..Default::default() }).await;
    assert_eq!(invalid(r, "page_token"), another_list);

    // A token with a valid checksum for a position far past the end (the checksum is not a secret): an empty
    // last page, or a refusal naming page_token; never an error of the server.
    let far = forged_token(&format!("activities?{completed}"), i64::MAX as u64);
    match activities.list_activities(list(&far, completed)).await {
        Ok(page) => {
            let page = page.into_inner();
            assert!(page.activities.is_empty() && page.next_page_token.is_empty(), "{page:?}");
        }
        Err(err) => assert_eq!(bad_request(&err)[0].0, "page_token", "{err:?}"),
    }
    let far = forged_token("countries?", i64::MAX as u64);
    match countries.list_countries(api::ListCountriesRequest { page_token: far, ..Default::default() }).await {
        Ok(page) => {
            let page = page.into_inner();
            assert!(page.countries.is_empty() && page.next_page_token.is_empty(), "{page:?}");
        }
        Err(err) => assert_eq!(bad_request(&err)[0].0, "page_token", "{err:?}"),
    }
    still_serves(&server, "forged page tokens").await;
}

// ---------------------------------------------------------------------------------------------------------------
// Metadata: a bad authorization header, a header list over 16 KiB
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn bad_authorization_and_huge_metadata_are_refused() {
    let server = TestServer::start();
    let channel = server.channel().await;
    let mut treaties = TreatyServiceClient::new(channel.clone());
    let get = || api::GetTreatyRequest { name: "treaties/185".into() };

    let not_text = AsciiMetadataValue::try_from(&b"Bearer \xFF\xFEeditor-token"[..]).expect("obs-text is allowed");
    let long_token: AsciiMetadataValue = format!("Bearer {}", "a".repeat(8 * 1024)).parse().unwrap();
    let cases: [(&str, AsciiMetadataValue, &str); 5] = [
        ("a header that is not text", not_text, "the authorization header is not text"),
        ("Basic", "Basic ZWRpdG9yOmVkaXRvcg==".parse().unwrap(), "the authorization header must be `Bearer TOKEN`"),
        ("an empty token", "Bearer ".parse().unwrap(), "the token is not valid"),
        ("an 8 KiB token", long_token, "the token is not valid"),
        ("no space", "Bearereditor-token".parse().unwrap(), "the authorization header must be `Bearer TOKEN`"),
    ];
    for (what, value, message) in cases {
        let mut request = tonic::Request::new(get());
        request.metadata_mut().insert("authorization", value);
        let err = within(what, treaties.get_treaty(request)).await.unwrap_err();
        assert_eq!((err.code(), err.message()), (Code::Unauthenticated, message), "{what}");
        still_serves(&server, what).await;
    }

    // A header list over the server's 16 KiB: the request is refused by HTTP/2 with 431, which tonic reports as
    // UNKNOWN (it maps only a few HTTP codes to gRPC codes).
    let mut request = tonic::Request::new(get());
    let pad: MetadataValue<_> = "x".repeat(20 * 1024).parse().unwrap();
    request.metadata_mut().insert("x-padding", pad);
    let err = within("20 KiB of metadata", treaties.get_treaty(request)).await.unwrap_err();
    assert_eq!(
        (err.code(), err.message()),
        (Code::Unknown, "grpc-status header missing, mapped from HTTP status code 431"),
        "{err:?}"
    );
    still_serves(&server, "20 KiB of metadata").await;
    // 1 MiB of headers (64 CONTINUATION frames) is a CONTINUATION flood to h2: the server ends the connection
    // with GOAWAY ENHANCE_YOUR_CALM "too_many_continuations" (RESOURCE_EXHAUSTED to tonic), or, when the client
    // is still writing as the server closes, the client sees the connection broken (UNKNOWN "transport error").
    let mut request = tonic::Request::new(get());
    let pad: MetadataValue<_> = "x".repeat(1 << 20).parse().unwrap();
    request.metadata_mut().insert("x-padding", pad);
    let err = within("1 MiB of metadata", treaties.get_treaty(request)).await.unwrap_err();
    let source = format!("{:?}", std::error::Error::source(&err));
    match err.code() {
        Code::ResourceExhausted => assert!(source.contains("too_many_continuations"), "{err:?}"),
        Code::Unknown => assert!(source.contains("BrokenPipe") || source.contains("ConnectionReset"), "{err:?}"),
        _ => panic!("1 MiB of metadata: {err:?}"),
    }
    still_serves(&server, "1 MiB of metadata").await;
    // The same with the `h2` crate: HTTP status 431.
    let (send, _connection) = h2_connect(&server.addr).await;
    let mut head = grpc_head(&server.addr, GET_TREATY);
    head.headers_mut().insert("x-padding", http::HeaderValue::from_str(&"x".repeat(20 * 1024)).unwrap());
    let (http_status, status) =
        within("20 KiB of headers with h2", h2_call(&send, head, grpc_frame(0, 0, b""))).await.expect("an answer");
    assert_eq!((http_status, status.map(|s| s.code())), (http::StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, None));
    still_serves(&server, "20 KiB of headers with h2").await;
}

// ---------------------------------------------------------------------------------------------------------------
// Server bugs found by these tests (fixed; kept as regression tests)
// ---------------------------------------------------------------------------------------------------------------

/// An error message that quotes the value it refuses, whatever its length, puts that value twice in the answer's
/// trailers (`grpc-message`, and the BadRequest of `grpc-status-details-bin` in base64). From a value of about
/// 6 KB the trailers exceed the 16 KiB header list a tonic (hyper) client accepts: the caller gets INTERNAL "h2
/// protocol error" in place of its INVALID_ARGUMENT; from about 100 KB the client's h2 ends the whole
/// connection (GOAWAY "header_list_way_too_large"), failing every other call and stream on the channel.
#[tokio::test]
async fn long_invalid_values_get_a_readable_error() {
    let server = TestServer::start();
    let channel = server.channel().await;
    let mut treaties = TreatyServiceClient::new(channel.clone());
    let mut countries = CountryServiceClient::new(channel.clone());
    let mut activities = ActivityServiceClient::new(channel.clone());
    let mut programme = ProgrammeServiceClient::new(channel.clone());
    // A stream open on the same channel must not be hurt by another call's error.
    let mut watch =
        treaties.watch_treaty_actions(api::WatchTreatyActionsRequest::default()).await.unwrap().into_inner();
    for n in [10_000, 100_000] {
        let long = "x".repeat(n);
        let what = |call: &str| format!("{call} with a value of {n} bytes");
        let r = treaties.get_treaty(api::GetTreatyRequest { name: format!("treaty/{long}") }).await;
        invalid(r, "name");
        let r = countries.get_country(api::GetCountryRequest { name: format!("countries/{long}"), as_of: None }).await;
        invalid(r, "name");
        let r = activities.get_activity(api::GetActivityRequest { name: format!("activities/{long}") }).await;
        invalid(r, "name");
        let r =
            countries.list_countries(api::ListCountriesRequest { filter: long.clone(), ..Default::default() }).await;
        invalid(r, "filter");
        let r = treaties
            .list_treaty_actions(api::ListTreatyActionsRequest {
                country: format!("countries/{long}"),
                ..Default::default()
            })
            .await;
        invalid(r, "country");
        let err = programme.get_study(api::GetStudyRequest { name: format!("studies/{long}") }).await.unwrap_err();
        assert_eq!(err.code(), Code::NotFound, "{}: {err:?}", what("GetStudy"));
        let err = treaties
            .record_treaty_action(with_token(
                api::RecordTreatyActionRequest {
                    treaty_action: Some(api::TreatyAction {
                        country: "countries/DE".into(),
                        treaty: "treaties/185".into(),
                        kind: api::ActionKind::Ratification as i32,
                        date: Some(api::ApproxDate { text: format!("2009-{long}"), ..Default::default() }),
                        sources: vec![api::Citation { document: "CoE-2015".into(), locator: String::new() }],
                        ..Default::default()
                    }),
                    request_id: String::new(),
                },
                "editor-token",
            ))
            .await;
        invalid(err, "treaty_action.date.text");
        still_serves(&server, &what("long values")).await;
    }
    let quiet = tokio::time::timeout(Duration::from_secs(1), watch.message()).await;
    assert!(quiet.is_err(), "the watch stream on the same channel ended: {quiet:?}");
}

/// The text of an approximate date accepts year 0 (`0000-01-01`, `0000`), which `google.type.Date` cannot carry
/// (year 0 there means "no year") and which the server refuses in every `google.type.Date` field ("year 0 is out
/// of range 1-9999"). A treaty action dated so is refused with FAILED_PRECONDITION (before the treaty opened)
/// instead of INVALID_ARGUMENT; an activity dated so is stored, and its `start.earliest` then comes back as
/// `{year: 0, month: 1, day: 1}`, which a client reads as "1 January, year unknown".
#[tokio::test]

async fn year_zero_in_a_date_text_is_refused() {
    let server = TestServer::start();
    let channel = server.channel().await;
    let mut treaties = TreatyServiceClient::new(channel.clone());
    let mut activities = ActivityServiceClient::new(channel.clone());
    for text in ["0000-01-01", "0000-06", "0000", "0000-02..0001-03"] {
        let r = treaties
            .record_treaty_action(with_token(
                api::RecordTreatyActionRequest {
                    treaty_action: Some(api::TreatyAction {
                        country: "countries/DE".into(),
                        treaty: "treaties/185".into(),
                        kind: api::ActionKind::Ratification as i32,
                        date: Some(api::ApproxDate { text: text.into(), ..Default::default() }),
                        sources: vec![api::Citation { document: "CoE-2015".into(), locator: String::new() }],
                        ..Default::default()
                    }),
                    request_id: String::new(),
                },
                "editor-token",
            ))
            .await;
        invalid(r, "treaty_action.date.text");
        let activity = api::Activity {
            name: format!("activities/year-zero-{}", text.len()),
            title: "Year zero".into(),
            kind: api::ActivityKind::Workshop as i32,
            status: api::ActivityStatus::Completed as i32,
            start: Some(api::ApproxDate { text: text.into(), ..Default::default() }),
            sources: vec![api::Citation { document: "report-2007-11".into(), locator: String::new() }],
            ..Default::default()
        };
        let r = activities
            .create_activity(with_token(
                api::CreateActivityRequest {
                    activity: Some(activity),
                    request_id: String::new(),
                    ..Default::default()
                },
                "editor-token",
            ))
            .await;
        invalid(r, "activity.start.text");
    }
    still_serves(&server, "year 0").await;
}

// ---------------------------------------------------------------------------------------------------------------
// 6. Thousands of streams on one connection
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_thousand_concurrent_calls_on_one_channel_are_queued_or_refused() {
    let server = TestServer::start();
    let channel = server.channel().await;
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..5000 {
        let mut treaties = TreatyServiceClient::new(channel.clone());
        calls.spawn(async move {
            treaties.get_treaty(api::GetTreatyRequest { name: "treaties/185".into() }).await.map(|r| r.into_inner())
        });
    }
    let (mut answered, mut refused) = (0, 0);
    within("5,000 concurrent calls", async {
        while let Some(result) = calls.join_next().await {
            match result.expect("the call's task") {
                Ok(treaty) => {
                    assert_eq!(treaty.display_name, "ETS 185");
                    answered += 1;
                }
                Err(err) if matches!(err.code(), Code::Unavailable | Code::ResourceExhausted) => refused += 1,
                Err(err) => panic!("neither answered nor refused: {err:?}"),
            }
        }
    })
    .await;
    eprintln!("5,000 calls on one channel: {answered} answered, {refused} refused");
    assert_eq!(answered + refused, 5000);
    assert!(answered > 0);
    still_serves(&server, "5,000 concurrent calls on one channel").await;
}

/// An HTTP/2 frame.
fn h2_frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(9 + payload.len());
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes()[1..]);
    out.push(kind);
    out.push(flags);
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// A header field as an HPACK literal without indexing, with a new name and no Huffman coding.
fn hpack_literal(out: &mut Vec<u8>, name: &str, value: &str) {
    assert!(name.len() < 127 && value.len() < 127);
    out.push(0);
    out.push(name.len() as u8);
    out.extend_from_slice(name.as_bytes());
    out.push(value.len() as u8);
    out.extend_from_slice(value.as_bytes());
}

const DATA: u8 = 0x0;
const HEADERS: u8 = 0x1;
const RST_STREAM: u8 = 0x3;
const SETTINGS: u8 = 0x4;
const GOAWAY: u8 = 0x7;
const END_HEADERS: u8 = 0x4;
const ACK: u8 = 0x1;
const REFUSED_STREAM: u32 = 0x7;
const ENHANCE_YOUR_CALM: u32 = 0xb;

/// Reads one frame: its type, flags, stream and payload; `None` at the end of the connection.
async fn read_frame(read: &mut (impl AsyncReadExt + Unpin)) -> Option<(u8, u8, u32, Vec<u8>)> {
    let mut head = [0u8; 9];
    read.read_exact(&mut head).await.ok()?;
    let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
    let mut payload = vec![0; len];
    read.read_exact(&mut payload).await.ok()?;
    let stream = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
    Some((head[3], head[4], stream, payload))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_ignores_max_concurrent_streams_is_refused() {
    let server = TestServer::start();
    let tcp = tokio::net::TcpStream::connect(&server.addr).await.unwrap();
    let (mut read, mut write) = tcp.into_split();
    write.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").await.unwrap();
    write.write_all(&h2_frame(SETTINGS, 0, 0, &[])).await.unwrap();
    // The server's SETTINGS: it announces its limit of 200 streams.
    let mut max_streams = None;
    within("the server's SETTINGS", async {
        loop {
            let (kind, flags, _, payload) = read_frame(&mut read).await.expect("the server's SETTINGS");
            if kind == SETTINGS && flags & ACK == 0 {
                for setting in payload.chunks(6) {
                    if setting[..2] == [0, 3] {
                        max_streams = Some(u32::from_be_bytes([setting[2], setting[3], setting[4], setting[5]]));
                    }
                }
                break;
            }
        }
    })
    .await;
    assert_eq!(max_streams, Some(200));
    write.write_all(&h2_frame(SETTINGS, ACK, 0, &[])).await.unwrap();

    // 5,000 streams at once, each a GetTreaty whose request never ends, so none of them completes and every
    // stream past the 200th is over the limit.
    const STREAMS: u32 = 5000;
    let mut block = Vec::new();
    hpack_literal(&mut block, ":method", "POST");
    hpack_literal(&mut block, ":scheme", "http");
    hpack_literal(&mut block, ":path", GET_TREATY);
    hpack_literal(&mut block, ":authority", &server.addr);
    hpack_literal(&mut block, "content-type", "application/grpc");
    hpack_literal(&mut block, "te", "trailers");
    let mut flood = Vec::new();
    for i in 0..STREAMS {
        flood.extend(h2_frame(HEADERS, END_HEADERS, 2 * i + 1, &block));
        flood.extend(h2_frame(DATA, 0, 2 * i + 1, &grpc_frame(0, 14, b"")));
    }
    let writer = tokio::spawn(async move {
        let _ = write.write_all(&flood).await;
        write
    });
    let (mut refused, mut answered) = (BTreeSet::new(), BTreeSet::new());
    let mut goaway = None;
    within("the answers to 5,000 streams", async {
        while let Some((kind, _, stream, payload)) = read_frame(&mut read).await {
            match kind {
                RST_STREAM if u32::from_be_bytes(payload[..4].try_into().unwrap()) == REFUSED_STREAM => {
                    refused.insert(stream);
                }
                HEADERS => {
                    answered.insert(stream);
                }
                GOAWAY => {
                    let last = u32::from_be_bytes(payload[..4].try_into().unwrap()) & 0x7fff_ffff;
                    let code = u32::from_be_bytes(payload[4..8].try_into().unwrap());
                    goaway = Some((last, code));
                    break;
                }
                _ => {}
            }
            if refused.len() as u32 == STREAMS - 200 {
                break;
            }
        }
    })
    .await;
    eprintln!(
        "5,000 streams ignoring the limit: {} refused, {} answered, GOAWAY {goaway:?}",
        refused.len(),
        answered.len()
    );
    // The streams the server took on: those it neither refused nor left out by its GOAWAY.
    let last = goaway.map_or(2 * STREAMS - 1, |(last, _)| last);
    let taken = (0..STREAMS).map(|i| 2 * i + 1).filter(|id| *id <= last && !refused.contains(id)).count();
    assert_eq!(taken, 200, "streams taken on at once");
    assert!(!refused.is_empty(), "no stream refused");
    assert!(
        goaway.map(|g| g.1) == Some(ENHANCE_YOUR_CALM) || refused.len() as u32 == STREAMS - 200,
        "{goaway:?}, {} refused",
        refused.len()
    );
    drop(read);
    drop(within("the writer", writer).await);
    still_serves(&server, "5,000 streams ignoring the limit").await;
}

// ---------------------------------------------------------------------------------------------------------------
// 7. Rapid stream resets
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rapid_stream_resets_do_not_take_the_server_down() {
    let server = TestServer::start();
    let status_request = {
        let body = api::GetTreatyStatusRequest {
            name: "treaties/185".into(),
            as_of: Some(date(2007, 11, 30)),
            ..Default::default()
        }
        .encode_to_vec();
        grpc_frame(0, body.len() as u32, &body)
    };
    for round in 0..3 {
        let (send, connection) = h2_connect(&server.addr).await;
        let mut sent = 0;
        let outcome = within("10,000 reset streams", async {
            for i in 0..10_000 {
                let mut ready = match send.clone().ready().await {
                    Ok(ready) => ready,
                    Err(e) => return Some(e),
                };
                let (_response, mut stream) =
                    match ready.send_request(grpc_head(&server.addr, GET_TREATY_STATUS), false) {
                        Ok(pair) => pair,
                        Err(e) => return Some(e),
                    };
                // Every other stream is reset after a whole request (the server has work under way), the others
                // straight after their headers.
                if i % 2 == 0 {
                    let _ = stream.send_data(status_request.clone(), false);
                }
                stream.send_reset(h2::Reason::CANCEL);
                sent += 1;
            }
            None
        })
        .await;
        drop(send);
        let ended = within("the connection's end", connection).await.expect("the connection task");
        eprintln!("round {round}: {sent} streams reset; stopped by {outcome:?}; connection ended with {ended:?}");
        if let Some(e) = outcome.as_ref().and_then(h2::Error::reason) {
            assert_eq!(e, h2::Reason::ENHANCE_YOUR_CALM, "{outcome:?}");
        }
        still_serves(&server, &format!("round {round} of rapid resets")).await;
    }
}
