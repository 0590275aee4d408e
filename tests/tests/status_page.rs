//! The status page at `/` (grpc-server's `page` module), end to end: the real server serves the page's files with
//! their content types, caching headers and Content-Security-Policy over HTTP/1.1 and HTTP/2 on the gRPC port
//! (gRPC unchanged beside it, unknown paths 404, `--no-status-page` turns it off), and headless Chromium (Debian's
//! `chromium`, installed by scripts/test) renders ETS 185's status table on 2007-11-30 and the Philippines' page
//! from grpc-web calls the page makes itself.
//!
//! The choices are given as the page's URL parameters (`/?treaty=185&date=2007-11-30`, `/?country=PH&cdate=...`),
//! which the page reads at start exactly as it reads its `<input type="date">` and `<select>` on `change`; the
//! rendered DOM is read with `--dump-dom` after a virtual time budget. Screenshots are kept in `target/artefacts/`.

#![allow(clippy::print_stderr)]

use std::{
    io::{Read, Write},
    net::TcpStream,
    path::{Path, PathBuf},
    process::Command,
};

use e2e_tests::{
    TestServer, api,
    api::{country_service_client::CountryServiceClient, treaty_service_client::TreatyServiceClient},
    builders::ETS185_ON_2007_11_30,
    date,
};

/// A raw HTTP/1.1 request (`method path`) to the server; the status, the headers (lowercase names) and the body.
fn http1(addr: &str, method: &str, path: &str, extra: &str) -> (u16, Vec<(String, String)>, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    write!(stream, "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{extra}\r\n").unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read the answer");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, body.to_owned())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn the_page_is_served_beside_grpc_with_its_policy_and_nothing_from_elsewhere() {
    let server = TestServer::start();
    let addr = server.addr.clone();
    let assets = [
        ("/", "text/html; charset=utf-8"),
        ("/app.js", "text/javascript; charset=utf-8"),
        ("/style.css", "text/css; charset=utf-8"),
        ("/schema.json", "application/json"),
    ];
    for (path, content_type) in assets {
        let (status, headers, body) = tokio::task::spawn_blocking({
            let addr = addr.clone();
            move || http1(&addr, "GET", path, "")
        })
        .await
        .unwrap();
        assert_eq!(status, 200, "{path}");
        assert_eq!(header(&headers, "content-type"), Some(content_type), "{path}");
        assert_eq!(header(&headers, "cache-control"), Some("no-cache"), "{path}");
        let csp = header(&headers, "content-security-policy").unwrap_or_default();
        assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self'"), "{path}: {csp}");
        assert!(csp.contains("connect-src 'self'") && !csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(header(&headers, "x-content-type-options"), Some("nosniff"));
        assert!(!body.is_empty(), "{path}");
        // Nothing fetched from any other origin: no absolute URL anywhere in what the page is made of.
        assert!(!body.contains("http://") && !body.contains("https://") && !body.contains("//cdn"), "{path}");
        if path == "/" {
            assert!(!body.contains("<script>") && !body.contains(" style="), "no inline script or style");
            assert!(body.contains(r#"<script src="/app.js" defer></script>"#));
        }
    }
    // The schema describes what the page calls, from the contract's descriptor set.
    let (_, _, schema) = tokio::task::spawn_blocking({
        let addr = addr.clone();
        move || http1(&addr, "GET", "/schema.json", "")
    })
    .await
    .unwrap();
    let schema: serde_json::Value = serde_json::from_str(&schema).expect("JSON");
    assert_eq!(
        schema["methods"]["coe.cybercrime.v1.TreatyService.GetTreatyStatus"]["path"],
        "/coe.cybercrime.v1.TreatyService/GetTreatyStatus"
    );
    // HEAD: the headers without the body; unknown paths: 404.
    let (status, headers, body) = tokio::task::spawn_blocking({
        let addr = addr.clone();
        move || http1(&addr, "HEAD", "/app.js", "")
    })
    .await
    .unwrap();
    assert_eq!((status, body.as_str()), (200, ""));
    assert!(header(&headers, "content-length").is_some_and(|l| l != "0"));
    for path in ["/nope", "/app.js.map", "/coe.cybercrime.v1.TreatyService/GetTreatyStatus"] {
        let (status, _, _) = tokio::task::spawn_blocking({
            let addr = addr.clone();
            move || http1(&addr, "GET", path, "")
        })
        .await
        .unwrap();
        assert_eq!(status, 404, "{path}");
    }
    // Over HTTP/2 (prior knowledge, as gRPC clients speak it) on the same port.
    let (mut h2, connection) =
        h2::client::handshake(tokio::net::TcpStream::connect(&addr).await.unwrap()).await.expect("HTTP/2");
    tokio::spawn(connection);
    let request = http::Request::get(format!("http://{addr}/")).body(()).unwrap();
    let (answer, _) = h2.send_request(request, true).unwrap();
    let answer = answer.await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["content-type"], "text/html; charset=utf-8");
    assert!(answer.headers().contains_key("content-security-policy"));

    // gRPC beside it, unchanged.
    let s = TreatyServiceClient::new(server.channel().await)
        .get_treaty_status(api::GetTreatyStatusRequest { name: "treaties/185".into(), as_of: Some(date(2007, 11, 30)) })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(s.groups[0].count, 21);
}

#[tokio::test]
async fn no_status_page_leaves_get_requests_to_the_grpc_router() {
    let server = TestServer::builder().args(&["--no-status-page"]).start();
    let addr = server.addr.clone();
    let (status, headers, body) = tokio::task::spawn_blocking(move || http1(&addr, "GET", "/", "")).await.unwrap();
    assert!(
        status != 200 || header(&headers, "content-type") != Some("text/html; charset=utf-8"),
        "{status} {headers:?} {body}"
    );
    assert!(!body.contains("<!doctype html>"));
}

fn chromium() -> Option<&'static str> {
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| Command::new(b).arg("--version").output().is_ok_and(|o| o.status.success()));
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is missing: scripts/test installs it (apt-get install chromium)"
        );
        eprintln!(
            "\n!!!!!!!! SKIPPED: chromium is not installed (apt-get install chromium). Under CI this test FAILS. !!!!!!!!\n"
        );
    }
    found
}

/// Runs headless Chromium on `url` with `args` (e.g. `--dump-dom`), letting the page's calls finish within a
/// virtual time budget; its standard output.
fn browse(browser: &str, profile: &Path, args: &[String], url: &str) -> String {
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=15000",
            "--window-size=1200,2200",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .output()
        .expect("run chromium");
    assert!(out.status.success(), "chromium failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `target/artefacts/`, where the screenshots are kept.
fn artefacts() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    // target/debug/deps/<test> -> target/artefacts
    let dir = exe.ancestors().nth(3).expect("target folder").join("artefacts");
    std::fs::create_dir_all(&dir).expect("artefacts folder");
    dir
}

/// The text of an HTML fragment: tags dropped, entities of the few kinds the DOM writes decoded, spaces collapsed.
fn text_of(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    let out = out.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&nbsp;", " ");
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The cells' texts of the summary row of `status` in the rendered status table.
fn summary_row(dom: &str, status: &str) -> Vec<String> {
    let start = dom.find(&format!(r#"data-status="{status}""#)).unwrap_or_else(|| panic!("no row {status}: {dom}"));
    let row = &dom[start..start + dom[start..].find("</tr>").unwrap()];
    row.split("<td").skip(1).map(|cell| text_of(&format!("<td{cell}"))).collect()
}

#[tokio::test]
async fn chromium_renders_the_status_table_of_30_november_2007_and_a_country_page() {
    let Some(browser) = chromium() else { return };
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let base = format!("http://{}", server.addr);

    // ETS 185 on 2007-11-30: the report's counts, computed, with the report's own figures beside them.
    let url = format!("{base}/?treaty=185&date=2007-11-30");
    let dom = browse(browser, &dir.path().join("p1"), &["--dump-dom".into()], &url);
    assert!(dom.contains(r#"data-ready="true""#), "the page did not finish: {dom}");
    assert!(!dom.contains(r#"id="error" class="error" role="alert">"#) || dom.contains("alert\" hidden"), "{dom}");
    let text = text_of(&dom);
    assert!(text.contains("at 2007-11-30"), "{text}");
    for (status, count) in ETS185_ON_2007_11_30 {
        let cells = summary_row(&dom, status.as_str_name());
        // Status, computed count, certain, uncertain, the report's figure, its source.
        assert_eq!(cells[1], count.to_string(), "{status:?}: {cells:?}");
        assert_eq!(cells[2], count.to_string(), "every count is certain at the report's date: {cells:?}");
        assert_eq!(cells[3], "0", "{cells:?}");
        if status != api::StateStatus::AccessionRequested {
            assert_eq!(cells[4], count.to_string(), "the report's figure beside the count: {cells:?}");
            assert!(cells[5].contains("report-2007-11"), "{cells:?}");
        }
    }
    assert!(text.contains("Albania") && text.contains("United States of America") && text.contains("Philippines"));
    assert!(text.contains("is complete through 2007-11-30; the date asked for is within it"), "{text}");
    browse(
        browser,
        &dir.path().join("p2"),
        &[format!("--screenshot={}", artefacts().join("status-page-2007-11-30.png").display())],
        &url,
    );

    // Past the record: said prominently, and the uncertain entries marked in plain words.
    let dom =
        browse(browser, &dir.path().join("p3"), &["--dump-dom".into()], &format!("{base}/?treaty=185&date=2010-06-30"));
    let text = text_of(&dom);
    assert!(text.contains("The date asked for is past the record"), "{text}");
    assert!(dom.contains(r#"class="coverage past""#));
    assert!(text.contains("Uncertain: possibly"), "{text}");

    // The Philippines' page: its actions under ETS 185 with their dates and sources, as GetCountry gives them.
    let ph = CountryServiceClient::new(server.channel().await)
        .get_country(api::GetCountryRequest { name: "countries/PH".into(), as_of: Some(date(2007, 11, 30)) })
        .await
        .unwrap()
        .into_inner();
    let url = format!("{base}/?country=PH&cdate=2007-11-30");
    let dom = browse(browser, &dir.path().join("p4"), &["--dump-dom".into()], &url);
    let text = text_of(&dom);
    assert!(text.contains("Philippines at 2007-11-30"), "{text}");
    let actions: Vec<&api::TreatyAction> = ph.treaty_statuses.iter().flat_map(|t| &t.actions).collect();
    assert!(!actions.is_empty());
    for a in actions {
        let date = a.date.as_ref().map(|d| d.text.clone()).unwrap_or_default();
        let kind =
            api::ActionKind::try_from(a.kind).unwrap().as_str_name().trim_start_matches("ACTION_KIND_").to_lowercase();
        let kind = kind.replace('_', " ");
        assert!(text.contains(&format!("{kind} {date}")), "{kind} {date} not in {text}");
        assert!(text.contains(&a.sources[0].document), "{text}");
    }
    assert!(text.contains("Legislative assistance") && text.contains(&ph.legislative_assistance[0].subject), "{text}");
    assert!(text.contains("24/7 point of contact"), "{text}");
    browse(
        browser,
        &dir.path().join("p5"),
        &[format!("--screenshot={}", artefacts().join("status-page-country-PH.png").display())],
        &url,
    );
}
