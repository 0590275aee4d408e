//! PDF reports (REPORT_FORMAT_PDF) end to end: the real server prints them with the machine's headless Chromium
//! and streams them; they are read back with poppler's tools (pdfinfo, pdftotext, pdftoppm), and their first
//! pages kept as PNG in `target/artefacts/`. `cybercrime report --format pdf -o FILE` writes one from a server
//! and from a store. A server without a browser answers UNAVAILABLE (PDF_PRINTER_MISSING) and serves every other
//! format; one whose browser hangs answers DEADLINE_EXCEEDED (PDF_PRINT_TIMEOUT) at its --pdf-timeout-secs.

#![allow(clippy::print_stderr)]

use std::{
    path::Path,
    process::Command,
    time::{Duration, Instant},
};

use api::report_service_client::ReportServiceClient;
use e2e_tests::{TestServer, api, artefacts, binary, date, tool};
use tonic::Code;
use tonic_types::StatusExt;

fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program).args(args).output().unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(out.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn report_2007(format: api::ReportFormat) -> api::GenerateProgressReportRequest {
    api::GenerateProgressReportRequest {
        as_of: Some(date(2007, 11, 30)),
        period_start: Some(date(2006, 9, 1)),
        period_end: None,
        format: format as i32,
    }
}

/// The whole document of a report stream, and its chunks' media types.
async fn bytes_of(mut stream: tonic::Streaming<api::ReportChunk>) -> (Vec<u8>, Vec<String>) {
    let (mut bytes, mut types) = (Vec::new(), Vec::new());
    while let Some(chunk) = stream.message().await.expect("a chunk") {
        bytes.extend_from_slice(&chunk.data);
        types.push(chunk.media_type);
    }
    (bytes, types)
}

/// pdfinfo's pages and page size, and pdftotext's text with spaces collapsed.
fn read_pdf(pdf: &Path) -> (usize, String, String) {
    let info = run("pdfinfo", &[pdf.to_str().unwrap()]);
    let field = |name: &str| info.lines().find_map(|l| l.strip_prefix(name)).expect(name).trim().to_owned();
    let text = run("pdftotext", &[pdf.to_str().unwrap(), "-"]);
    (field("Pages:").parse().unwrap(), field("Page size:"), text.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// The error's ErrorInfo reason.
fn reason(status: &tonic::Status) -> String {
    status.get_error_details().error_info().map(|i| i.reason.clone()).unwrap_or_default()
}

#[tokio::test]
async fn the_server_prints_the_2007_report_and_a_brief_as_pdf_on_a4() {
    if tool("chromium", "chromium").is_none() || tool("pdftotext", "poppler-utils").is_none() {
        return;
    }
    let server = TestServer::start();
    let mut reports = ReportServiceClient::new(server.channel().await);
    let stream = reports.generate_progress_report(report_2007(api::ReportFormat::Pdf)).await.unwrap().into_inner();
    let (bytes, types) = bytes_of(stream).await;
    assert!(bytes.starts_with(b"%PDF-"), "not a PDF: {:?}", &bytes[..bytes.len().min(16)]);
    assert!(types.len() > 1, "a PDF of {} bytes in one chunk", bytes.len());
    assert!(types.iter().all(|t| t == "application/pdf"), "{types:?}");
    let out = artefacts();
    let pdf = out.join("e2e-report-2007.pdf");
    std::fs::write(&pdf, &bytes).unwrap();
    let (pages, size, text) = read_pdf(&pdf);
    assert!(size.ends_with("(A4)"), "{size}");
    assert!(pages >= 4, "{pages} pages");
    assert!(text.contains(&format!("Page 1 of {pages}")), "{text}");
    assert!(text.contains(&format!("Page {pages} of {pages}")), "{text}");
    assert!(text.contains("Project on Cybercrime: progress report"), "{text}");
    assert!(text.contains("Contents"), "{text}");
    // The same report as HTML, served beside: its first activity is in the PDF.
    let html = String::from_utf8(
        bytes_of(reports.generate_progress_report(report_2007(api::ReportFormat::Html)).await.unwrap().into_inner())
            .await
            .0,
    )
    .unwrap();
    let row = &html[html.find("<table class=\"activities\">").expect("the list of activities")..];
    let first = &row[row.find("<tr><td>").unwrap() + 8..];
    let first_date = &first[..first.find("</td>").unwrap()];
    assert!(text.contains(first_date), "the first activity's date `{first_date}` is not in the PDF");

    let prefix = out.join("e2e-report-2007-page");
    run("pdftoppm", &["-png", "-r", "70", "-f", "1", "-l", "2", pdf.to_str().unwrap(), prefix.to_str().unwrap()]);
    for page in ["e2e-report-2007-page-01.png", "e2e-report-2007-page-02.png"] {
        let path = out.join(page);
        assert!(std::fs::metadata(&path).is_ok_and(|m| m.len() > 10_000), "{} is missing or blank", path.display());
        eprintln!("artefact: {}", path.display());
    }
    eprintln!("artefact: {}", pdf.display());

    let stream = reports
        .generate_country_brief(api::GenerateCountryBriefRequest {
            country: "countries/PH".into(),
            as_of: Some(date(2007, 11, 30)),
            format: api::ReportFormat::Pdf as i32,
        })
        .await
        .unwrap()
        .into_inner();
    let (bytes, _) = bytes_of(stream).await;
    let pdf = out.join("e2e-brief-PH-2007.pdf");
    std::fs::write(&pdf, &bytes).unwrap();
    let (pages, size, text) = read_pdf(&pdf);
    assert!(size.ends_with("(A4)"), "{size}");
    assert!(text.contains("Philippines: country brief"), "{text}");
    assert!(text.contains(&format!("Page {pages} of {pages}")), "{text}");
}

#[tokio::test]
async fn the_command_writes_a_pdf_to_a_file_from_a_server_and_from_a_store() {
    if tool("chromium", "chromium").is_none() || tool("pdftotext", "poppler-utils").is_none() {
        return;
    }
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}", dir.path().join("store.sqlite").display());
    for (name, source) in [
        ("remote.pdf", vec!["--server".to_owned(), format!("http://{}", server.addr)]),
        ("local.pdf", vec!["--store".to_owned(), store.clone(), "--create".to_owned()]),
    ] {
        let file = dir.path().join(name);
        let o = Command::new(binary())
            .args(["report", "country", "PH", "--as-of", "2007-11-30", "--format", "pdf", "-o"])
            .arg(&file)
            .args(&source)
            .output()
            .unwrap();
        assert!(o.status.success(), "{name}: {}", String::from_utf8_lossy(&o.stderr));
        assert!(o.stdout.is_empty());
        let (pages, size, text) = read_pdf(&file);
        assert!(size.ends_with("(A4)"), "{name}: {size}");
        assert!(text.contains("Philippines: country brief") && text.contains(&format!("Page 1 of {pages}")), "{text}");
        // Written whole through a temporary file beside it, which is gone.
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(".cybercrime-report-"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }

    // Printing here with a browser that is not there: the command says so, and writes nothing.
    let file = dir.path().join("none.pdf");
    let o = Command::new(binary())
        .args(["report", "country", "PH", "--format", "pdf", "--chromium", "/nonexistent/chromium", "-o"])
        .arg(&file)
        .args(["--store", &store])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(!file.exists());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains(
            "PDF output is unavailable: the browser /nonexistent/chromium configured for PDF output is not an \
             executable file"
        ),
        "{stderr}"
    );
}

#[tokio::test]
async fn without_a_browser_pdf_is_unavailable_and_the_other_formats_are_served() {
    let server = TestServer::builder().args(&["--chromium", "/nonexistent/chromium"]).start();
    let mut reports = ReportServiceClient::new(server.channel().await);
    let started = Instant::now();
    let err = reports.generate_progress_report(report_2007(api::ReportFormat::Pdf)).await.unwrap_err();
    assert_eq!(err.code(), Code::Unavailable, "{err:?}");
    assert_eq!(reason(&err), "PDF_PRINTER_MISSING");
    assert_eq!(
        err.message(),
        "PDF output is unavailable: the browser /nonexistent/chromium configured for PDF output is not an \
         executable file"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    // No RetryInfo: trying again does not help.
    assert!(err.get_error_details().retry_info().is_none());
    let (md, types) = bytes_of(
        reports.generate_progress_report(report_2007(api::ReportFormat::Markdown)).await.unwrap().into_inner(),
    )
    .await;
    assert_eq!(types[0], "text/markdown; charset=utf-8");
    assert!(String::from_utf8(md).unwrap().contains("Project on Cybercrime: progress report"));
    // The server said at start that PDFs are unavailable, and why.
    let log = server.log();
    assert!(log.contains("PDF reports unavailable") && log.contains("/nonexistent/chromium"), "{log}");
}

#[tokio::test]
async fn a_browser_that_hangs_is_stopped_at_the_pdf_timeout() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let browser = dir.path().join("hanging-chromium");
    std::fs::write(&browser, "#!/bin/sh\nsleep 300 &\nwait\n").unwrap();
    std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).unwrap();
    let server = TestServer::builder()
        .args(&["--chromium", browser.to_str().unwrap(), "--pdf-timeout-secs", "1", "--max-concurrent-pdfs", "1"])
        .start();
    let mut reports = ReportServiceClient::new(server.channel().await);
    let started = Instant::now();
    let err = reports.generate_progress_report(report_2007(api::ReportFormat::Pdf)).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    assert_eq!(err.code(), Code::DeadlineExceeded, "{err:?}");
    assert_eq!(reason(&err), "PDF_PRINT_TIMEOUT");
    assert_eq!(err.message(), "the PDF was not printed within 1 s (the PDF timeout): the browser was stopped");
    let info = err.get_error_details().error_info().cloned().expect("ErrorInfo");
    assert_eq!(info.metadata.get("timeout_secs").map(String::as_str), Some("1"));
    // The printer's place is given back: the next print is tried (and times out) too, not refused as busy.
    let err = reports.generate_progress_report(report_2007(api::ReportFormat::Pdf)).await.unwrap_err();
    assert!(err.message().ends_with("the browser was stopped"), "{}", err.message());
}
