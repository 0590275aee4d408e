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
    path::Path,
    process::Command,
};

use e2e_tests::{
    TestServer, api,
    api::{country_service_client::CountryServiceClient, treaty_service_client::TreatyServiceClient},
    artefacts,
    builders::ETS185_ON_2007_11_30,
    date,
};

/// A raw HTTP/1.1 request (`method path`) to the server; the status, the headers (lowercase names) and the body.
fn http1(addr: &str, method: &str, path: &str, extra: &str) -> (u16, Vec<(String, String)>, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    write!(stream, "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{extra}\r\n").unwrap();
    stream.set_read_timeout(Some(std::time::Duration::from_secs(20))).unwrap();
    // Read to the end, or to the end of the body its Content-Length announces (a server may keep the connection).
    let mut raw = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = stream.read(&mut chunk).expect("read the answer");
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&chunk[..n]);
        if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
            let length =
                head.lines().find_map(|l| l.strip_prefix("content-length:")).and_then(|v| v.trim().parse().ok());
            if length.is_some_and(|length: usize| raw.len() >= end + 4 + length) {
                break;
            }
        }
    }
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
        .get_treaty_status(api::GetTreatyStatusRequest {
            name: "treaties/185".into(),
            as_of: Some(date(2007, 11, 30)),
            ..Default::default()
        })
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

/// Headless Chromium, as the other browser tests find it (`e2e_tests::tool`: on PATH, or the test skips loudly
/// and fails under CI).
fn chromium() -> Option<String> {
    e2e_tests::tool("chromium", "chromium").map(|p| p.display().to_string())
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
    let dom = browse(&browser, &dir.path().join("p1"), &["--dump-dom".into()], &url);
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
        &browser,
        &dir.path().join("p2"),
        &[format!("--screenshot={}", artefacts().join("status-page-2007-11-30.png").display())],
        &url,
    );

    // Past the record: said prominently, and the uncertain entries marked in plain words.
    let dom = browse(
        &browser,
        &dir.path().join("p3"),
        &["--dump-dom".into()],
        &format!("{base}/?treaty=185&date=2010-06-30"),
    );
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
    let dom = browse(&browser, &dir.path().join("p4"), &["--dump-dom".into()], &url);
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
        &browser,
        &dir.path().join("p5"),
        &[format!("--screenshot={}", artefacts().join("status-page-country-PH.png").display())],
        &url,
    );
}

/// A headless Chromium driven over the DevTools protocol: a hand-written WebSocket client (RFC 6455 text frames,
/// enough for CDP) on the page target, so the test clicks and types as a reader does.
struct Devtools {
    child: std::process::Child,
    socket: TcpStream,
    next_id: u64,
    _profile: tempfile::TempDir,
}

impl Devtools {
    /// Chromium opened on `url`, and a connection to its page.
    fn open(browser: &str, url: &str) -> Devtools {
        let profile = tempfile::tempdir().unwrap();
        let child = Command::new(browser)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-port=0",
                "--window-size=1200,2200",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(url)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("run chromium");
        // Chromium writes the port it picked in its profile.
        let port_file = profile.path().join("DevToolsActivePort");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let port = loop {
            if let Some(port) =
                std::fs::read_to_string(&port_file).ok().and_then(|t| t.lines().next()?.parse::<u16>().ok())
            {
                break port;
            }
            assert!(std::time::Instant::now() < deadline, "chromium wrote no DevToolsActivePort");
            std::thread::sleep(std::time::Duration::from_millis(100));
        };
        let addr = format!("127.0.0.1:{port}");
        let ws_path = loop {
            let (_, _, body) = http1(&addr, "GET", "/json/list", "");
            let targets: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            let page = targets.as_array().into_iter().flatten().find(|t| t["type"] == "page");
            if let Some(url) = page.and_then(|p| p["webSocketDebuggerUrl"].as_str()) {
                break url.splitn(4, '/').nth(3).map(|p| format!("/{p}")).unwrap();
            }
            assert!(std::time::Instant::now() < deadline, "no page target: {body}");
            std::thread::sleep(std::time::Duration::from_millis(100));
        };
        let mut socket = TcpStream::connect(&addr).unwrap();
        socket.set_read_timeout(Some(std::time::Duration::from_secs(30))).unwrap();
        write!(
            socket,
            "GET {ws_path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        .unwrap();
        // The handshake's answer, up to its blank line.
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            socket.read_exact(&mut byte).unwrap();
            head.push(byte[0]);
        }
        assert!(head.starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&head));
        Devtools { child, socket, next_id: 0, _profile: profile }
    }

    /// Sends one masked text frame.
    fn send(&mut self, text: &str) {
        let payload = text.as_bytes();
        let mut frame = vec![0x81u8];
        match payload.len() {
            n if n < 126 => frame.push(0x80 | n as u8),
            n if n <= 0xffff => {
                frame.push(0x80 | 126);
                frame.extend((n as u16).to_be_bytes());
            }
            n => {
                frame.push(0x80 | 127);
                frame.extend((n as u64).to_be_bytes());
            }
        }
        let mask = [0x5a, 0x17, 0xc3, 0x09];
        frame.extend(mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.socket.write_all(&frame).unwrap();
    }

    /// Reads one message (continuation frames joined; control frames skipped).
    fn receive(&mut self) -> String {
        let mut message = Vec::new();
        loop {
            let mut head = [0u8; 2];
            self.socket.read_exact(&mut head).unwrap();
            let len = match head[1] & 0x7f {
                126 => {
                    let mut b = [0u8; 2];
                    self.socket.read_exact(&mut b).unwrap();
                    u64::from(u16::from_be_bytes(b))
                }
                127 => {
                    let mut b = [0u8; 8];
                    self.socket.read_exact(&mut b).unwrap();
                    u64::from_be_bytes(b)
                }
                n => u64::from(n),
            };
            let mut payload = vec![0u8; usize::try_from(len).unwrap()];
            self.socket.read_exact(&mut payload).unwrap();
            if head[0] & 0x0f >= 8 {
                continue; // ping, pong, close
            }
            message.extend(payload);
            if head[0] & 0x80 != 0 {
                return String::from_utf8(message).unwrap();
            }
        }
    }

    /// Calls a DevTools method; its result.
    fn call(&mut self, method: &str, params: serde_json::Value) -> serde_json::Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&serde_json::json!({ "id": id, "method": method, "params": params }).to_string());
        loop {
            let answer: serde_json::Value = serde_json::from_str(&self.receive()).unwrap();
            if answer["id"] == id {
                assert!(answer.get("error").is_none(), "{method}: {answer}");
                return answer["result"].clone();
            }
        }
    }

    /// Evaluates `expression` in the page (promises awaited); its value.
    fn eval(&mut self, expression: &str) -> serde_json::Value {
        let r = self.call(
            "Runtime.evaluate",
            serde_json::json!({ "expression": expression, "returnByValue": true, "awaitPromise": true }),
        );
        assert!(r.get("exceptionDetails").is_none(), "{expression}: {r}");
        r["result"]["value"].clone()
    }

    /// Waits until `expression` is true in the page.
    fn wait_for(&mut self, expression: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        // Not yet true, or not yet computable (the document still loading): wait.
        while self.eval(&format!("(() => {{ try {{ return Boolean({expression}); }} catch {{ return false; }} }})()"))
            != true
        {
            assert!(
                std::time::Instant::now() < deadline,
                "{expression} never held; the page says: {}",
                self.eval("document.body.innerText")
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    /// Sets a form control's value and dispatches `change`, as a reader's pick does.
    fn pick(&mut self, id: &str, value: &str) {
        let id = serde_json::Value::from(id);
        let value = serde_json::Value::from(value);
        self.eval(&format!(
            "(() => {{ const e = document.getElementById({id}); e.value = {value}; \
             e.dispatchEvent(new Event('change', {{ bubbles: true }})); return e.value; }})()"
        ));
    }

    /// A PNG of the page as it is.
    fn screenshot(&mut self, path: &Path) {
        use base64::Engine;
        let r = self.call("Page.captureScreenshot", serde_json::json!({ "format": "png" }));
        let png = base64::engine::general_purpose::STANDARD.decode(r["data"].as_str().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }
}

impl Drop for Devtools {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The summary rows of the rendered status table: `[status, cells...]`.
const SUMMARY_ROWS: &str = "JSON.stringify([...document.querySelectorAll('#summary tr[data-status]')]\
                            .map(r => [r.dataset.status, ...[...r.cells].map(c => c.innerText)]))";

#[test]
fn a_reader_picks_a_date_and_a_country_with_a_token_pasted_in_chromium() {
    let Some(browser) = chromium() else { return };
    // Reads need a token: the page asks for one, keeps it in memory, and then answers.
    let server = TestServer::builder().require_token_for_reads().start();
    let mut page = Devtools::open(&browser, &format!("http://{}/", server.addr));
    page.wait_for("document.body?.dataset.ready === 'true'");
    page.wait_for("!document.getElementById('error').hidden");
    let error = page.eval("document.getElementById('error').innerText");
    assert!(
        error.as_str().unwrap().contains("UNAUTHENTICATED") && error.as_str().unwrap().contains("token"),
        "{error}"
    );
    page.pick("token", "reader-token");
    page.wait_for("document.getElementById('treaty').options.length > 0");
    // The date defaults to today.
    let today = page.eval("document.getElementById('treaty-date').value");
    assert_eq!(today.as_str().unwrap().len(), 10, "{today}");

    // Picks ETS 185 and 30 November 2007.
    page.pick("treaty", "treaties/185");
    page.pick("treaty-date", "2007-11-30");
    page.wait_for("document.querySelector('#summary caption')?.innerText.endsWith('2007-11-30')");
    let rows: Vec<Vec<String>> = serde_json::from_str(page.eval(SUMMARY_ROWS).as_str().unwrap()).unwrap();
    let want: Vec<(String, String)> =
        ETS185_ON_2007_11_30.iter().map(|(s, n)| (s.as_str_name().to_owned(), n.to_string())).collect();
    let got: Vec<(String, String)> = rows.iter().map(|r| (r[0].clone(), r[2].clone())).collect();
    assert_eq!(got, want);
    let text = page.eval("document.body.innerText").as_str().unwrap().to_owned();
    assert!(text.contains("is complete through 2007-11-30; the date asked for is within it"), "{text}");
    assert!(page.eval("localStorage.length + sessionStorage.length + document.cookie.length") == 0);
    page.screenshot(&artefacts().join("status-page-picked-2007-11-30.png"));

    // Another treaty, the Protocol (ETS 189): the report's 11 parties and 20 signatories beside its counts.
    page.pick("treaty", "treaties/189");
    page.wait_for("document.querySelector('#summary caption')?.innerText.startsWith('ETS 189')");
    let rows: Vec<Vec<String>> = serde_json::from_str(page.eval(SUMMARY_ROWS).as_str().unwrap()).unwrap();
    let reported: Vec<(&str, &str)> = rows.iter().map(|r| (r[0].as_str(), r[5].as_str())).collect();
    assert!(reported.contains(&("STATE_STATUS_PARTY", "11")), "{rows:?}");
    assert!(reported.contains(&("STATE_STATUS_SIGNATORY", "20")), "{rows:?}");

    // Picks the Philippines: its accession request under ETS 185, dated and sourced.
    page.pick("country-date", "2007-11-30");
    page.pick("country", "countries/PH");
    page.wait_for("document.getElementById('country-title')?.innerText === 'Philippines at 2007-11-30'");
    let text = page.eval("document.getElementById('country-out').innerText").as_str().unwrap().to_owned();
    assert!(text.contains("ETS 185: accession requested"), "{text}");
    assert!(text.contains("accession request\t2007-09"), "{text}");
    assert!(text.contains("report-2007-11 §2.2.9"), "{text}");
}
