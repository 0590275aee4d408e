//! ReportService and `cybercrime report`: the 2007 progress report and a country brief, through gRPC (streamed
//! in chunks) and through the command line, from the store or from a running server.

use std::process::Command;

use api::report_service_client::ReportServiceClient;
use e2e_tests::{TestServer, api, bad_request, binary, date};
use tonic::Code;

async fn collect(mut stream: tonic::Streaming<api::ReportChunk>) -> (String, Vec<api::ReportChunk>) {
    let mut chunks = Vec::new();
    while let Some(c) = stream.message().await.unwrap() {
        chunks.push(c);
    }
    let bytes: Vec<u8> = chunks.iter().flat_map(|c| c.data.clone()).collect();
    (String::from_utf8(bytes).unwrap(), chunks)
}

#[tokio::test]
async fn the_2007_report_and_a_brief_over_grpc() {
    let server = TestServer::start();
    let mut reports = ReportServiceClient::new(server.channel().await);
    let stream = reports
        .generate_progress_report(api::GenerateProgressReportRequest {
            as_of: Some(date(2007, 11, 30)),
            period_start: Some(date(2006, 9, 1)),
            period_end: None,
            format: api::ReportFormat::Markdown as i32,
        })
        .await
        .unwrap()
        .into_inner();
    let (md, chunks) = collect(stream).await;
    assert_eq!(chunks[0].media_type, "text/markdown; charset=utf-8");
    assert!(chunks.last().unwrap().last);
    assert!(md.contains("| Add. ratif. | +2 | +2 | +4 | +3 | +7 | +3 |"), "{md}");
    assert!(md.contains("**Request for accession (1)**"));

    let stream = reports
        .generate_country_brief(api::GenerateCountryBriefRequest {
            country: "countries/PH".into(),
            as_of: Some(date(2007, 11, 30)),
            format: api::ReportFormat::Html as i32,
        })
        .await
        .unwrap()
        .into_inner();
    let (html, chunks) = collect(stream).await;
    assert_eq!(chunks[0].media_type, "text/html; charset=utf-8");
    assert!(html.contains("<h1>Philippines: country brief</h1>"));

    // Bad input.
    let err = reports
        .generate_progress_report(api::GenerateProgressReportRequest {
            as_of: Some(date(2007, 11, 30)),
            period_start: Some(date(2007, 11, 30)),
            period_end: Some(date(2006, 9, 1)),
            format: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(bad_request(&err)[0].0, "period_end");
    let err = reports
        .generate_progress_report(api::GenerateProgressReportRequest {
            as_of: Some(date(1990, 1, 1)),
            period_start: Some(date(1989, 1, 1)),
            period_end: None,
            format: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(err.message(), "as of 1990-01-01 there is no data: the earliest fact is of 2001-11-23");
    let err = reports
        .generate_country_brief(api::GenerateCountryBriefRequest {
            country: "countries/QQ".into(),
            as_of: None,
            format: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let err = reports
        .generate_country_brief(api::GenerateCountryBriefRequest {
            country: "countries/PH".into(),
            as_of: None,
            format: 9,
        })
        .await
        .unwrap_err();
    assert_eq!(bad_request(&err)[0].0, "format");
}

#[tokio::test]
async fn a_report_larger_than_the_message_limit_is_streamed_in_chunks() {
    // A store with 12,000 more activities, loaded with `cybercrime import`.
    let dir = tempfile::tempdir().unwrap();
    let mut ds = core_model::Dataset::bundled();
    let mut synthetic = core_model::synthetic::activities(&ds, 12_000, 5);
    // Long descriptions, as minutes of meetings have: some 3,000 of them are completed and listed.
    for a in &mut synthetic {
        a.description =
            format!("{} {}", a.description, "Discussion of draft legislation and of cooperation. ".repeat(20));
    }
    ds.activities.extend(synthetic);
    let folder = dir.path().join("dataset");
    std::fs::create_dir(&folder).unwrap();
    for (name, text) in ds.to_files() {
        std::fs::write(folder.join(name), text).unwrap();
    }
    let store = format!("sqlite://{}", dir.path().join("big.sqlite").display());
    let out = Command::new(binary()).args(["import", "--store", &store]).arg(&folder).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let server = TestServer::builder().store(&store).start();
    let mut reports = ReportServiceClient::new(server.channel().await);
    let stream = reports
        .generate_progress_report(api::GenerateProgressReportRequest {
            // A report's dates are at most a year from today.
            as_of: Some(date(2027, 11, 30)),
            period_start: Some(date(1990, 1, 1)),
            period_end: None,
            format: api::ReportFormat::Html as i32,
        })
        .await
        .unwrap()
        .into_inner();
    let (html, chunks) = collect(stream).await;
    assert!(html.len() > 4 * 1024 * 1024, "the report is {} bytes", html.len());
    assert!(chunks.len() >= 5);
    assert!(chunks.iter().all(|c| c.data.len() <= 1024 * 1024));
    assert_eq!(chunks[0].data.len(), grpc_server::service::REPORT_CHUNK);
    let indexes: Vec<i32> = chunks.iter().map(|c| c.index).collect();
    assert_eq!(indexes, (0..chunks.len() as i32).collect::<Vec<_>>());
    assert!(chunks.iter().rev().skip(1).all(|c| !c.last) && chunks.last().unwrap().last);
    assert!(html.ends_with("</html>\n") || html.ends_with("</html>"));
}

#[test]
fn the_report_command_from_the_store_and_from_a_server() {
    let server = TestServer::start();
    let store = format!("sqlite://{}", server.dir().join("store.sqlite").display());
    let local = server.dir().join("local.html");
    let remote = server.dir().join("remote.html");
    let run = |extra: &[&str], out: &std::path::Path| {
        let o = Command::new(binary())
            .args(["report", "progress", "--as-of", "2007-11-30", "--from", "2006-09-01", "--format", "html", "-o"])
            .arg(out)
            .args(extra)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    run(&["--store", &store], &local);
    run(&["--server", &format!("http://{}", server.addr)], &remote);
    let (a, b) = (std::fs::read_to_string(&local).unwrap(), std::fs::read_to_string(&remote).unwrap());
    assert_eq!(a, b);
    assert!(a.contains("<td>Add. ratif.</td><td class=\"num\">+2</td>"));

    let o = Command::new(binary())
        .args(["report", "country", "PH", "--as-of", "2007-11-30", "--store", &store])
        .output()
        .unwrap();
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("# Philippines: country brief"));
    let o = Command::new(binary())
        .args(["report", "country", "PH", "--format", "pdf", "--store", &store])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown format `pdf`: use markdown, html or json"));
}
