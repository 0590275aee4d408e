//! ReportService and `cybercrime report`: the 2007 progress report and a country brief, through gRPC (streamed
//! in chunks) and through the command line, from the store or from a running server.

use std::process::Command;

use api::report_service_client::ReportServiceClient;
use e2e_tests::{TestServer, api, bad_request, binary, builders::collect, date};
use tonic::Code;

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
        .args(["report", "country", "PH", "--format", "docx", "--store", &store])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown format `docx`: use markdown, html, json or pdf"));
    // A PDF is written to a file only (`tests/pdf_reports.rs` prints one).
    let o = Command::new(binary())
        .args(["report", "country", "PH", "--format", "pdf", "--store", &store])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(o.stdout.is_empty());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("a PDF is not written to standard output: give -o FILE"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A store with the bundled data whose Manila workshop (an activity) and legislation study (a record) were edited
/// by hand into text that does not decode; returns its folder (kept while the test runs) and its URL.
async fn store_with_two_unreadable_records() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("folder");
    let folder = dir.path().join("dataset");
    std::fs::create_dir(&folder).expect("folder");
    for (name, text) in core_model::Dataset::bundled().to_files() {
        std::fs::write(folder.join(name), text).expect("write");
    }
    let path = dir.path().join("unreadable.sqlite");
    let store = format!("sqlite://{}", path.display());
    let out = Command::new(binary()).args(["import", "--store", &store]).arg(&folder).output().expect("import");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(&store).await.expect("open");
    for (sql, body) in [
        ("UPDATE activities SET body = ?1 WHERE id = '2007-04-23-manila-apec-asean-workshop'", r#"{"id": "2007-04-"#),
        ("UPDATE records SET body = ?1 WHERE kind = 'study' AND id = 'legislation'", r#"{"title": 7}"#),
    ] {
        let edited = sqlx::query(sql).bind(body).execute(&mut conn).await.expect("edit by hand");
        assert_eq!(edited.rows_affected(), 1, "{sql}");
    }
    conn.close().await.expect("close");
    (dir, store)
}

const BAD_ACTIVITY: &str = "activities/2007-04-23-manila-apec-asean-workshop";
const BAD_STUDY: &str = "records/study/legislation";

/// `text`, a document in `format`, names both unreadable records near its top and still holds the readable ones.
fn names_both(what: &str, format: &str, text: &str) {
    match format {
        "json" => {
            let json: serde_json::Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{what}: {e}\n{text}"));
            assert_eq!(json["unreadable_count"], 2, "{what}\n{text}");
            let names: Vec<&str> = json["unreadable"]
                .as_array()
                .expect("unreadable")
                .iter()
                .map(|u| u["name"].as_str().unwrap())
                .collect();
            assert_eq!(names, [BAD_ACTIVITY, BAD_STUDY], "{what}");
            for u in json["unreadable"].as_array().unwrap() {
                assert!(!u["reason"].as_str().unwrap().is_empty(), "{what}: a reason for {}", u["name"]);
            }
        }
        "markdown" => {
            let notice = text.find("**2 stored records could not be read and are left out of this").expect(what);
            assert!(notice < text.find("\n## ").unwrap(), "{what}: near the top\n{text}");
            assert!(text.contains(&format!("\n- {BAD_ACTIVITY} (")), "{what}\n{text}");
            assert!(text.contains(&format!("\n- {BAD_STUDY} (")), "{what}\n{text}");
        }
        "html" => {
            let notice = text.find("<div class=\"unreadable\">").expect(what);
            assert!(notice < text.find("<h2>").unwrap(), "{what}: near the top");
            assert!(text.contains("2 stored records could not be read and are left out of this"), "{what}");
            assert!(text.contains(&format!("<li><code>{}</code> (", BAD_ACTIVITY.replace('/', "&#x2f;"))), "{what}");
            assert!(text.contains(&format!("<li><code>{}</code> (", BAD_STUDY.replace('/', "&#x2f;"))), "{what}");
        }
        other => panic!("format {other}"),
    }
}

#[tokio::test]
async fn reports_name_the_stored_records_that_cannot_be_read() {
    let (_dir, store) = store_with_two_unreadable_records().await;
    let server = TestServer::builder().store(&store).start();
    let mut reports = ReportServiceClient::new(server.channel().await);
    for (format, pb_format) in [
        ("markdown", api::ReportFormat::Markdown),
        ("html", api::ReportFormat::Html),
        ("json", api::ReportFormat::Json),
    ] {
        let progress = reports
            .generate_progress_report(api::GenerateProgressReportRequest {
                as_of: Some(date(2007, 11, 30)),
                period_start: Some(date(2006, 9, 1)),
                period_end: None,
                format: pb_format as i32,
            })
            .await
            .unwrap_or_else(|s| panic!("GenerateProgressReport {format}: {s:?}"))
            .into_inner();
        let (text, _) = collect(progress).await;
        names_both(&format!("progress {format}"), format, &text);
        // Every readable record is there: the other studies, not the unreadable one.
        assert!(text.contains("Cybercrime situation report"), "progress {format}");
        assert!(!text.contains("Study on cybercrime legislation"), "progress {format}");

        let brief = reports
            .generate_country_brief(api::GenerateCountryBriefRequest {
                country: "countries/PH".into(),
                as_of: Some(date(2007, 11, 30)),
                format: pb_format as i32,
            })
            .await
            .unwrap_or_else(|s| panic!("GenerateCountryBrief {format}: {s:?}"))
            .into_inner();
        let (text, _) = collect(brief).await;
        names_both(&format!("brief {format}"), format, &text);
        assert!(text.contains("Philippines"), "brief {format}");
    }

    // `cybercrime report` from the store names them too, and succeeds.
    for format in ["markdown", "html", "json"] {
        let out = Command::new(binary())
            .args(["report", "progress", "--as-of", "2007-11-30", "--from", "2006-09-01", "--format", format])
            .args(["--store", &store])
            .output()
            .expect("cybercrime report");
        assert!(out.status.success(), "{format}: {}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).expect("UTF-8");
        names_both(&format!("report progress --store {format}"), format, &text);
    }
    let out = Command::new(binary())
        .args(["report", "country", "PH", "--as-of", "2007-11-30", "--store", &store])
        .output()
        .expect("cybercrime report");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    names_both("report country --store", "markdown", &String::from_utf8(out.stdout).expect("UTF-8"));
}
