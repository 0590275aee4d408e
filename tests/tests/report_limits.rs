//! What a report may cost the server (finding H2 of the security review of 2026-12), what its Markdown may carry
//! (L3), what `cybercrime report` prints to a terminal (L4) and how it reaches a secured server (L7): bounded
//! dates and size, a cap on reports generated at once, report streams that are not read ended after a deadline
//! of their own, data that cannot become Markdown structure, and a client with a token, a private CA and a
//! client certificate.

#![allow(clippy::print_stderr)] // the figures (memory held, document sizes) are printed for RELIABILITY.md

use std::{
    process::Command,
    time::{Duration, Instant},
};

use api::report_service_client::ReportServiceClient;
use bytes::Bytes;
use e2e_tests::{
    TestServer, api, bad_request, binary,
    builders::{self, collect},
    date,
};
use prost::Message;
use tonic::Code;

const PROGRESS: &str = "/coe.cybercrime.v1.ReportService/GenerateProgressReport";

fn progress(
    as_of: (i32, i32, i32),
    from: (i32, i32, i32),
    format: api::ReportFormat,
) -> api::GenerateProgressReportRequest {
    api::GenerateProgressReportRequest {
        as_of: Some(date(as_of.0, as_of.1, as_of.2)),
        period_start: Some(date(from.0, from.1, from.2)),
        period_end: None,
        format: format as i32,
    }
}

/// The latest `as_of` a report may have: a year from today (the server allows 366 days).
fn a_year_from_now() -> (i32, i32, i32) {
    let out = Command::new("date").args(["-u", "-d", "+365 days", "+%Y %m %d"]).output().expect("date");
    let text = String::from_utf8_lossy(&out.stdout);
    let v: Vec<i32> = text.split_whitespace().map(|p| p.trim_start_matches('0').parse().expect("number")).collect();
    (v[0], v[1], v[2])
}

#[tokio::test]
async fn report_dates_are_bounded_and_documents_capped() {
    let server = TestServer::builder().args(&["--max-report-bytes", "20000"]).start();
    let mut reports = ReportServiceClient::new(server.channel().await);
    let client = reports.clone();
    let refused = |r: api::GenerateProgressReportRequest| {
        let mut reports = client.clone();
        async move { reports.generate_progress_report(r).await.expect_err("refused") }
    };

    // The request of the review: 20 bytes that asked for 8,000 years.
    let err = refused(progress((9999, 12, 31), (1, 1, 1), api::ReportFormat::Html)).await;
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert_eq!(bad_request(&err)[0].0, "as_of", "{err:?}");
    assert!(err.message().contains("9999-12-31 is out of range"), "{}", err.message());
    let err = refused(progress((2007, 11, 30), (1, 1, 1), api::ReportFormat::Html)).await;
    assert_eq!(bad_request(&err)[0].0, "period_start", "{err:?}");
    assert!(err.message().contains("from 1949-05-05"), "{}", err.message());
    let mut r = progress((2007, 11, 30), (2007, 1, 1), api::ReportFormat::Html);
    r.period_end = Some(date(3000, 1, 1));
    let err = refused(r).await;
    assert_eq!(bad_request(&err)[0].0, "period_end", "{err:?}");
    let err = reports
        .generate_country_brief(api::GenerateCountryBriefRequest {
            country: "countries/PH".into(),
            as_of: Some(date(9999, 12, 31)),
            format: 0,
        })
        .await
        .expect_err("refused");
    assert_eq!((err.code(), bad_request(&err)[0].0.as_str()), (Code::InvalidArgument, "as_of"), "{err:?}");

    // A document over the server's limit: RESOURCE_EXHAUSTED naming the limit; a smaller one is served.
    let err = refused(progress((2007, 11, 30), (2006, 9, 1), api::ReportFormat::Html)).await;
    assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");
    assert!(
        err.message().contains("larger than 20000 bytes") && err.message().contains("--max-report-bytes"),
        "{err:?}"
    );
    {
        use tonic_types::StatusExt;
        let details = err.get_error_details();
        let info = details.error_info().expect("ErrorInfo");
        assert_eq!((info.reason.as_str(), info.metadata["limit_bytes"].as_str()), ("DOCUMENT_TOO_LARGE", "20000"));
        assert!(details.retry_info().is_none(), "the same request fails again: no RetryInfo");
    }
    let brief = reports
        .generate_country_brief(api::GenerateCountryBriefRequest {
            country: "countries/PH".into(),
            as_of: Some(date(2007, 11, 30)),
            format: api::ReportFormat::Markdown as i32,
        })
        .await
        .expect("a small brief")
        .into_inner();
    let (md, _) = collect(brief).await;
    assert!(md.starts_with("# Philippines: country brief"), "{md}");

    // The largest document one request can ask of the bundled data now: the whole allowed period, in HTML.
    let server = TestServer::start();
    let mut reports = ReportServiceClient::new(server.channel().await);
    let latest = a_year_from_now();
    let mut sizes = Vec::new();
    for format in [api::ReportFormat::Markdown, api::ReportFormat::Html, api::ReportFormat::Json] {
        let stream = reports
            .generate_progress_report(progress(latest, (1949, 5, 5), format))
            .await
            .expect("served")
            .into_inner();
        let (doc, chunks) = collect(stream).await;
        assert!(chunks.last().expect("a chunk").last);
        sizes.push(doc.len());
    }
    eprintln!("report limits: the largest documents of the bundled data (md, html, json): {sizes:?} bytes");
    assert!(sizes.iter().all(|s| *s < 1024 * 1024), "{sizes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_beyond_the_concurrency_limit_are_refused_and_other_calls_answered() {
    let server = TestServer::builder().args(&["--max-concurrent-reports", "1", "--report-queue-wait-ms", "0"]).start();
    let channels = [server.channel().await, server.channel().await, server.channel().await];
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..30 {
        let mut reports = ReportServiceClient::new(channels[i % 3].clone());
        calls.spawn(async move {
            let r =
                reports.generate_progress_report(progress((2007, 11, 30), (2006, 9, 1), api::ReportFormat::Html)).await;
            match r {
                Ok(stream) => Ok(collect(stream.into_inner()).await.0),
                Err(e) => Err(e),
            }
        });
    }
    // Meanwhile, other calls are answered.
    let mut treaties = api::treaty_service_client::TreatyServiceClient::new(server.channel().await);
    let t = tokio::time::timeout(
        Duration::from_secs(10),
        treaties.get_treaty(api::GetTreatyRequest { name: "treaties/185".into() }),
    )
    .await
    .expect("GetTreaty within 10 s while reports are generated")
    .expect("GetTreaty");
    assert_eq!(t.into_inner().name, "treaties/185");
    let (mut served, mut refused) = (0, 0);
    while let Some(r) = calls.join_next().await {
        match r.expect("task") {
            Ok(html) => {
                assert!(html.contains("<td>Add. ratif.</td>"));
                served += 1;
            }
            Err(e) => {
                assert_eq!(e.code(), Code::ResourceExhausted, "{e:?}");
                assert!(e.message().contains("--max-concurrent-reports"), "{}", e.message());
                use tonic_types::StatusExt;
                let details = e.get_error_details();
                assert_eq!(details.error_info().expect("ErrorInfo").reason, "TOO_MANY_REPORTS");
                assert!(details.retry_info().and_then(|r| r.retry_delay).is_some(), "RetryInfo: {details:?}");
                refused += 1;
            }
        }
    }
    eprintln!("report limits: 30 reports at once with --max-concurrent-reports 1: {served} served, {refused} refused");
    assert!(served >= 1 && refused >= 1, "{served} served, {refused} refused");
}

fn resident_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// A completed activity in the Philippines in May 2007 (listed by the 2007 report and the PH brief).
fn activity(id: &str, description: &str, place: &str, date_text: &str) -> api::Activity {
    let manila = builders::workshop_in_manila(&format!("activities/{id}"), "2007-05");
    api::Activity {
        description: description.into(),
        date_text: date_text.into(),
        place: Some(api::Place { text: place.into(), ..manila.place.clone().unwrap_or_default() }),
        ..manila
    }
}

async fn create(server: &TestServer, a: api::Activity) {
    builders::create_activity(&server.channel().await, a, "").await.expect("the activity is created");
}

/// A raw HTTP/2 connection that grants the server a one-byte window per stream until told to open it.
struct StuckConnection {
    send: h2::client::SendRequest<Bytes>,
    open: Option<tokio::sync::oneshot::Sender<()>>,
    driver: tokio::task::JoinHandle<()>,
}

impl StuckConnection {
    async fn connect(addr: &str) -> StuckConnection {
        let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let (send, mut connection) = h2::client::Builder::new()
            .initial_window_size(1)
            // The connection's window is large: only each stream's is held shut.
            .initial_connection_window_size(256 * 1024 * 1024)
            .handshake(tcp)
            .await
            .expect("HTTP/2 handshake");
        let (open, mut opened) = tokio::sync::oneshot::channel::<()>();
        let driver = tokio::spawn(async move {
            tokio::select! {
                _ = &mut connection => return,
                _ = &mut opened => {}
            }
            connection.set_initial_window_size(16 * 1024 * 1024).expect("a larger window");
            let _ = connection.await;
        });
        StuckConnection { send, open: Some(open), driver }
    }

    /// Opens a report stream whose body is never read; the answer's head comes once the report is generated.
    async fn report(&self, addr: &str, request: &api::GenerateProgressReportRequest) -> h2::client::ResponseFuture {
        let head = http::Request::builder()
            .method("POST")
            .uri(format!("http://{addr}{PROGRESS}"))
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .body(())
            .expect("request head");
        let message = request.encode_to_vec();
        let mut frame = vec![0u8];
        frame.extend_from_slice(&(message.len() as u32).to_be_bytes());
        frame.extend_from_slice(&message);
        let mut send = self.send.clone().ready().await.expect("a stream");
        let (response, mut body) = send.send_request(head, false).expect("request");
        body.send_data(Bytes::from(frame), true).expect("body");
        response
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unread_report_streams_hold_bounded_memory_are_ended_and_block_no_one() {
    let mut server =
        TestServer::builder().args(&["--stream-send-timeout-secs", "3", "--max-concurrent-reports", "4"]).start();
    // Sixty activities with minutes of 2.6 KB: the report is some 340 KB of Markdown, several chunks.
    let minutes = "Discussion of draft legislation, of procedural powers and of international cooperation. ".repeat(29);
    for i in 0..60 {
        create(&server, activity(&format!("minutes-{i}"), &format!("{i}: {minutes}"), "Manila, Philippines", "")).await;
    }
    let request = progress((2007, 11, 30), (2007, 1, 1), api::ReportFormat::Markdown);
    let ch = server.channel().await;
    let (whole, chunks) = collect(
        ReportServiceClient::new(ch.clone()).generate_progress_report(request).await.expect("report").into_inner(),
    )
    .await;
    assert!(chunks.len() >= 4, "{} chunks", chunks.len());
    let rss_before = resident_kib(server.pid());

    // 100 report streams on a connection that never reads: each report generated, its first chunk pending.
    let stuck = StuckConnection::connect(&server.addr).await;
    let opened = Instant::now();
    let mut streams = Vec::new();
    for _ in 0..10 {
        let mut batch = Vec::new();
        for _ in 0..10 {
            batch.push(stuck.report(&server.addr, &request).await);
        }
        for response in futures_join(batch).await {
            let response = response.expect("the response head");
            assert_eq!(response.status(), 200);
            assert!(response.headers().get("grpc-status").is_none(), "refused: {:?}", response.headers());
            streams.push(response);
        }
    }
    let rss_held = resident_kib(server.pid());
    let all_open = Instant::now();

    // Meanwhile a reading client gets its report whole, and GetTreaty is answered.
    let (again, chunks) = collect(
        ReportServiceClient::new(ch.clone()).generate_progress_report(request).await.expect("report").into_inner(),
    )
    .await;
    assert_eq!(again, whole);
    assert!(chunks.last().expect("chunks").last);
    let t = api::treaty_service_client::TreatyServiceClient::new(ch.clone())
        .get_treaty(api::GetTreatyRequest { name: "treaties/185".into() })
        .await
        .expect("GetTreaty while 100 report streams are stuck");
    assert_eq!(t.into_inner().name, "treaties/185");

    // Every stuck stream is ended by the server within its send timeout (3 s) and some slack.
    let ended = loop {
        let n = server.log().matches("report stream ended").count();
        if n >= 100 || all_open.elapsed() > Duration::from_secs(10) {
            break n;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let (took, since_last) = (opened.elapsed(), all_open.elapsed());
    assert_eq!(ended, 100, "{ended} of 100 stuck streams ended {since_last:?} after the last was opened");
    assert!(server.log().contains("was not read for 3 s"), "{}", server.log());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_after = resident_kib(server.pid());
    eprintln!(
        "report limits: resident memory {:.1} MiB before, {:.1} MiB with 100 unread report streams of {} bytes, \
         {:.1} MiB once they were ended ({took:?} after the first was opened, {since_last:?} after the last)",
        rss_before as f64 / 1024.0,
        rss_held as f64 / 1024.0,
        whole.len(),
        rss_after as f64 / 1024.0
    );
    assert!(rss_held < rss_before + 256 * 1024, "{rss_before} KiB -> {rss_held} KiB");

    // When the client reads again, each stream gives what was already queued, then DEADLINE_EXCEEDED: the
    // document was not sent whole.
    let mut stuck = stuck;
    stuck.open.take().expect("once").send(()).expect("the driver is running");
    let reads: Vec<_> = streams
        .into_iter()
        .map(|response| async move {
            let mut body = response.into_body();
            let mut received = 0;
            while let Some(data) = body.data().await {
                let data = data.expect("data");
                received += data.len();
                let _ = body.flow_control().release_capacity(data.len());
            }
            let trailers = body.trailers().await.expect("trailers").expect("trailers");
            (received, trailers)
        })
        .collect();
    let ends = tokio::time::timeout(Duration::from_secs(30), futures_join(reads)).await.expect("every stream ends");
    for (received, trailers) in ends {
        assert_eq!(trailers.get("grpc-status").map(|v| v.to_str().unwrap_or_default()), Some("4"), "{trailers:?}");
        assert!(received < whole.len(), "{received} bytes of {}", whole.len());
    }
    stuck.driver.abort();
    let (_, ok) = server.terminate();
    assert!(ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_stream_is_ended_at_its_overall_limit() {
    let server =
        TestServer::builder().args(&["--stream-send-timeout-secs", "600", "--max-report-stream-secs", "2"]).start();
    let minutes = "Discussion of draft legislation, of procedural powers and of international cooperation. ".repeat(29);
    for i in 0..20 {
        create(&server, activity(&format!("minutes-{i}"), &format!("{i}: {minutes}"), "Manila, Philippines", "")).await;
    }
    let request = progress((2007, 11, 30), (2007, 1, 1), api::ReportFormat::Markdown);
    let mut stuck = StuckConnection::connect(&server.addr).await;
    let opened = Instant::now();
    let response = stuck.report(&server.addr, &request).await.await.expect("the response head");
    assert!(response.headers().get("grpc-status").is_none(), "refused: {:?}", response.headers());
    while !server.log().contains("report stream ended") {
        assert!(opened.elapsed() < Duration::from_secs(10), "not ended after {:?}", opened.elapsed());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(server.log().contains("was open longer than its limit of 2 s"), "{}", server.log());
    stuck.open.take().expect("once").send(()).expect("the driver is running");
    let mut body = response.into_body();
    while let Some(data) = tokio::time::timeout(Duration::from_secs(10), body.data()).await.expect("data in time") {
        let _ = body.flow_control().release_capacity(data.expect("data").len());
    }
    let trailers = body.trailers().await.expect("trailers").expect("trailers");
    assert_eq!(trailers.get("grpc-status").map(|v| v.to_str().unwrap_or_default()), Some("4"), "{trailers:?}");
    stuck.driver.abort();
}

/// Awaits every future, concurrently.
async fn futures_join<F: std::future::Future + Send + 'static>(futures: Vec<F>) -> Vec<F::Output>
where
    F::Output: Send,
{
    let mut set = tokio::task::JoinSet::new();
    for (i, f) in futures.into_iter().enumerate() {
        set.spawn(async move { (i, f.await) });
    }
    let mut out: Vec<(usize, F::Output)> = Vec::new();
    while let Some(r) = set.join_next().await {
        out.push(r.expect("task"));
    }
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, o)| o).collect()
}

#[tokio::test]
async fn markdown_reports_keep_data_inert_and_the_report_command_prints_no_control_characters() {
    // Control characters (CR, ESC, BEL, U+202E) are refused by every write and by an import (`core_model::limits`),
    // but a database edited by hand may still hold them: the activity is imported clean, then its stored body is
    // rewritten with them, as such an edit would. The rest comes through the API, as an editor.
    let dir = tempfile::tempdir().expect("folder");
    let mut ds = core_model::Dataset::bundled();
    let mut a = ds
        .activities
        .iter()
        .find(|a| a.id == "2007-04-23-manila-apec-asean-workshop")
        .cloned()
        .expect("the Manila workshop of April 2007");
    a.id = "imported-hostile".into();
    ds.activities.push(a.clone());
    a.description = "Workshop\x1b]0;pwned\x07\x1b[2J\x1b[8mhidden\x1b[0m \u{202e}gnp.exe\r\r## Forged by CR\r\r\
                     <script>alert(3)</script>\r"
        .into();
    a.place.text = "Manila\r## Place heading".into();
    a.date_text = "May 2007\r\r# Date heading".into();
    let folder = dir.path().join("dataset");
    std::fs::create_dir(&folder).expect("folder");
    for (name, text) in ds.to_files() {
        std::fs::write(folder.join(name), text).expect("write");
    }
    let path = dir.path().join("hostile.sqlite");
    let store = format!("sqlite://{}", path.display());
    let out = Command::new(binary()).args(["import", "--store", &store]).arg(&folder).output().expect("import");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.expect("open");
        let edited = sqlx::query("UPDATE activities SET body = ?1 WHERE id = 'imported-hostile'")
            .bind(serde_json::to_string(&a).expect("json"))
            .execute(&mut conn)
            .await
            .expect("edit by hand");
        assert_eq!(edited.rows_affected(), 1);
        conn.close().await.expect("close");
    }
    let server = TestServer::builder().store(&store).start();
    let hostile = "D<script>alert(document.domain)</script><img src=x onerror=alert(1)>\n\n## Forged section\n\n\
                   [click me](javascript:alert(2))\n\n## Another forged section\n| forged | row |";
    create(&server, activity("hostile", hostile, "Manila <b>bold</b>", "May 2007 [tbc](javascript:x)")).await;
    let mut reports = ReportServiceClient::new(server.channel().await);
    let progress_md = collect(
        reports
            .generate_progress_report(progress((2007, 11, 30), (2007, 1, 1), api::ReportFormat::Markdown))
            .await
            .expect("report")
            .into_inner(),
    )
    .await
    .0;
    let brief_md = collect(
        reports
            .generate_country_brief(api::GenerateCountryBriefRequest {
                country: "countries/PH".into(),
                as_of: Some(date(2007, 11, 30)),
                format: api::ReportFormat::Markdown as i32,
            })
            .await
            .expect("brief")
            .into_inner(),
    )
    .await
    .0;
    for (name, md) in [("progress", &progress_md), ("brief", &brief_md)] {
        assert!(md.contains("D\\<script\\>alert(document.domain)\\</script\\>"), "{name}: the payload is shown\n{md}");
        // No raw HTML: every `<` is escaped (the templates have none of their own).
        let raw = md.match_indices('<').filter(|(i, _)| !md[..*i].ends_with('\\')).count();
        assert_eq!(raw, 0, "{name}: raw HTML\n{md}");
        assert!(!md.contains('\r') && !md.contains('\u{1b}') && !md.contains('\u{7}') && !md.contains('\u{202e}'));
        // CommonMark ends a line at CR, LF or CRLF: no line of the document is a heading the data made.
        for line in md.split(['\n', '\r']) {
            let l = line.trim_start();
            assert!(
                !(l.starts_with('#') && (l.contains("Forged") || l.contains("heading"))),
                "{name}: a forged heading: {line}"
            );
            assert!(!l.starts_with("| forged"), "{name}: a forged table row: {line}");
        }
        // The link is shown as text: its brackets are escaped. The only links are the contents' own, to the
        // report's headings (`](#`).
        assert!(md.contains("\\[click me\\](javascript:alert(2))"), "{name}\n{md}");
        let links = md.match_indices("](").filter(|(i, _)| !md[..*i].ends_with('\\') && !md[i + 2..].starts_with('#'));
        assert_eq!(links.count(), 0, "{name}: an active link\n{md}");
    }
    // In the progress report the activity is one row of the table, whole.
    // In the progress report each activity is one row of the table, whole.
    // Its date is written from its start and end, the one way every date is (the date text, whose year is the
    // start's, is not shown), so the hostile date text never reaches the document.
    let row = progress_md.lines().find(|l| l.contains("D\\<script")).expect("the activity's row");
    assert!(row.starts_with("| May 2007 | Manila \\<b\\>bold\\</b\\> | D\\<script"), "{row}");
    assert!(!progress_md.contains("javascript:x"));
    assert!(row.ends_with(" |") && row.contains("\\| forged \\| row \\|"), "{row}");
    let row = progress_md.lines().find(|l| l.contains("Forged by CR")).expect("the imported activity's row");
    assert!(row.starts_with("| 23–24 Apr 2007 | Manila \\#\\# Place heading | Workshop\\]0;pwned"), "{row}");
    assert!(row.ends_with("\\<script\\>alert(3)\\</script\\>  |"), "{row}");

    // HTML stays escaped.
    let html = collect(
        reports
            .generate_progress_report(progress((2007, 11, 30), (2007, 1, 1), api::ReportFormat::Html))
            .await
            .expect("report")
            .into_inner(),
    )
    .await
    .0;
    assert!(html.contains("D&lt;script&gt;alert(document.domain)&lt;&#x2f;script&gt;"), "{html}");
    assert!(!html.contains("<script>") && !html.contains("<img src=x"));

    // `cybercrime report` prints no control characters to standard output, from a server or from the store.
    for source in [["--server".to_owned(), format!("http://{}", server.addr)], ["--store".to_owned(), store]] {
        for format in ["markdown", "json", "html"] {
            let out = Command::new(binary())
                .args(["report", "progress", "--as-of", "2007-11-30", "--from", "2007-01-01", "--format", format])
                .args(&source)
                .output()
                .expect("cybercrime report");
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            let text = String::from_utf8(out.stdout).expect("UTF-8");
            assert!(text.contains("Workshop"), "{text}");
            let bad: Vec<char> =
                text.chars().filter(|c| (c.is_control() && *c != '\n' && *c != '\t') || *c == '\u{202e}').collect();
            assert!(bad.is_empty(), "{format} from {}: control characters {bad:?}", source[0]);
        }
    }
}

#[test]
fn the_report_command_sends_a_token_and_caps_what_it_collects() {
    let server = TestServer::builder().require_token_for_reads().start();
    let dir = tempfile::tempdir().expect("folder");
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "reader-token\n").expect("token file");
    let run = |extra: &[&str], env_token: Option<&str>| {
        let mut cmd = Command::new(binary());
        cmd.args(["report", "country", "PH", "--as-of", "2007-11-30", "--server", &format!("http://{}", server.addr)])
            .args(extra)
            .env_remove("CYBERCRIME_TOKEN");
        if let Some(t) = env_token {
            cmd.env("CYBERCRIME_TOKEN", t);
        }
        let out = cmd.output().expect("cybercrime report");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, _, err) = run(&[], None);
    assert!(!ok && err.contains("requires a token"), "{err}");
    let (ok, out, err) = run(&["--token-file", token_file.to_str().expect("path")], None);
    assert!(ok, "{err}");
    assert!(out.starts_with("# Philippines: country brief"), "{out}");
    let (ok, out, err) = run(&[], Some("reader-token"));
    assert!(ok && out.starts_with("# Philippines: country brief"), "{err}");
    let (ok, _, err) = run(&[], Some("wrong-token"));
    assert!(!ok && err.to_lowercase().contains("token"), "{err}");
    // A document larger than the client's cap is an error, not a truncated document.
    let (ok, out, err) = run(&["--max-bytes", "1000"], Some("reader-token"));
    assert!(!ok && out.is_empty(), "{out}");
    assert!(err.contains("larger than 1000 bytes (--max-bytes)"), "{err}");
}

#[test]
fn the_report_command_speaks_tls_with_a_private_ca_and_a_client_certificate() {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let dir = tempfile::tempdir().expect("folder");
    let ca_key = KeyPair::generate().expect("key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "Test CA");
    let ca = ca_params.self_signed(&ca_key).expect("CA");
    let server_key = KeyPair::generate().expect("key");
    let server_cert = CertificateParams::new(vec!["localhost".to_owned()])
        .expect("params")
        .signed_by(&server_key, &ca, &ca_key)
        .expect("server certificate");
    let client_key = KeyPair::generate().expect("key");
    let client_cert = CertificateParams::new(vec!["operator".to_owned()])
        .expect("params")
        .signed_by(&client_key, &ca, &ca_key)
        .expect("client certificate");
    let write = |name: &str, text: String| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        path.display().to_string()
    };
    let ca_pem = write("ca.pem", ca.pem());
    let (cert, key) = (write("server.pem", server_cert.pem()), write("server.key", server_key.serialize_pem()));
    let (ccert, ckey) = (write("client.pem", client_cert.pem()), write("client.key", client_key.serialize_pem()));
    let server =
        TestServer::builder().args(&["--tls-cert", &cert, "--tls-key", &key, "--tls-client-ca", &ca_pem]).start();
    let port = server.addr.rsplit(':').next().expect("port");
    let run = |extra: &[&str]| {
        let out = Command::new(binary())
            .args([
                "report",
                "country",
                "PH",
                "--as-of",
                "2007-11-30",
                "--server",
                &format!("https://localhost:{port}"),
            ])
            .args(extra)
            .env_remove("CYBERCRIME_TOKEN")
            .output()
            .expect("cybercrime report");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let (ok, out) = run(&["--ca", &ca_pem, "--client-cert", &ccert, "--client-key", &ckey]);
    assert!(ok, "{out}");
    assert!(out.starts_with("# Philippines: country brief"), "{out}");
    // Without the private CA the server's certificate is not trusted; without a client certificate the server
    // refuses.
    let (ok, out) = run(&["--client-cert", &ccert, "--client-key", &ckey]);
    assert!(!ok, "{out}");
    let (ok, out) = run(&["--ca", &ca_pem]);
    assert!(!ok, "{out}");
}
