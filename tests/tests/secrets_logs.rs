//! Secrets and logs: database passwords never printed (M5), callers' text escaped in the log and JSON lines
//! keeping their own `message` (M6), one `authorization` header with a case-insensitive scheme (L2), tokens read
//! from standard input and made at random (L6), warnings about exposed tokens files and tokens in clear off
//! loopback (L10). Every test runs the real `cybercrime` binary.

use std::{
    io::{BufRead, BufReader, Read, Write},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use e2e_tests::{TestServer, api, binary, with_token};
use storage::testing::PgSchema;
use tonic::{Code, metadata::MetadataValue, transport::Channel};

/// A `cybercrime serve` started with exactly the arguments given (no tokens file unless given), its stderr
/// written to a file.
struct Serve {
    child: Child,
    addr: Option<String>,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Serve {
    fn start(args: &[&str], envs: &[(&str, &str)]) -> Serve {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("stderr.log");
        let mut child = Command::new(binary())
            .arg("serve")
            // The tests' stores are fresh files.
            .arg("--create")
            .args(args)
            .envs(envs.iter().copied())
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().and_then(Result::ok).unwrap_or_default();
        let addr = first.strip_prefix("cybercrime: serving on ").map(str::to_owned);
        std::thread::spawn(move || for _ in lines {});
        Serve { child, addr, log, _dir: dir }
    }

    /// Everything written to stderr so far (after the process ended, all of it).
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap()
    }

    /// Waits for the process to end (one that could not start), at most `within`.
    fn wait(&mut self, within: Duration) -> std::process::ExitStatus {
        let started = std::time::Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(started.elapsed() < within, "still running after {within:?}:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `cybercrime ARGS` with `envs` and `stdin`; returns (success, stdout, stderr).
fn cli(args: &[&str], envs: &[(&str, &str)], stdin: &str) -> (bool, String, String) {
    let mut child = Command::new(binary())
        .args(args)
        .envs(envs.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `url` with `password` as its user's password, or, when it holds one already (a test database that needs
/// one), `url` and the password it holds.
fn with_password(url: &str, password: &str) -> (String, String) {
    let s = url.find("://").unwrap() + 3;
    let at = s + url[s..].find('@').expect("a user in the test database URL");
    match url[s..at].split_once(':') {
        Some((_, existing)) => (url.to_owned(), existing.to_owned()),
        None => (format!("{}:{password}{}", &url[..at], &url[at..]), password.to_owned()),
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Asserts that `text` does not hold `secret`, whole or percent-encoded.
fn assert_no_secret(what: &str, text: &str, secret: &str) {
    assert!(!text.contains(secret), "{what} holds the password {secret:?}:\n{text}");
    let encoded: String = secret
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() { char::from(b).to_string() } else { format!("%{b:02X}") })
        .collect();
    assert!(!text.contains(&encoded), "{what} holds the password, percent-encoded:\n{text}");
}

/// M5: a store URL with a password, against the real PostgreSQL: the `serving` line, `export`'s message and
/// `--help` (with the URL in the environment) show the URL without it; `--store-password-file` reaches the same
/// database.
#[tokio::test]
async fn a_store_password_is_not_printed_when_the_store_opens() {
    let Some(schema) = PgSchema::create().await else { return };
    let (url, secret) = with_password(&schema.url, "S3cretPw-m5-7f2c");
    let shown = url.replacen(&format!(":{secret}@"), "@", 1);
    assert_ne!(shown, url);

    let server = Serve::start(&["--addr", "127.0.0.1:0", "--store", &url], &[]);
    let addr = server.addr.clone().unwrap_or_else(|| panic!("did not start:\n{}", server.log()));
    let channel = Channel::from_shared(format!("http://{addr}")).unwrap().connect().await.unwrap();
    let treaty = api::treaty_service_client::TreatyServiceClient::new(channel)
        .get_treaty(api::GetTreatyRequest { name: "treaties/185".into() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(treaty.name, "treaties/185");
    let log = server.log();
    let serving = log.lines().find(|l| l.contains(" serving")).unwrap_or_else(|| panic!("no serving line:\n{log}"));
    assert!(serving.contains(&format!("store={shown}")), "{serving}");
    assert_no_secret("the log", &log, &secret);
    drop(server);

    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("export");
    let (ok, stdout, stderr) = cli(&["export", "--store", &url, out_dir.to_str().unwrap()], &[], "");
    assert!(ok, "{stdout}{stderr}");
    assert!(stdout.contains(&format!("exported {shown} to ")), "{stdout}");
    assert_no_secret("export's output", &(stdout + &stderr), &secret);

    let (ok, help, _) = cli(&["serve", "--help"], &[("CYBERCRIME_STORE", &url)], "");
    assert!(ok && help.contains("--store-password-file"), "{help}");
    assert_no_secret("serve --help", &help, &secret);

    // The same database with the password in a file (and characters a URL must encode).
    if url != schema.url {
        let file = dir.path().join("pgpassword");
        std::fs::write(&file, "S3cret Pw+/&=?#@%\n").unwrap();
        let server = Serve::start(
            &["--addr", "127.0.0.1:0", "--store", &schema.url, "--store-password-file", file.to_str().unwrap()],
            &[],
        );
        assert!(server.addr.is_some(), "did not start with --store-password-file:\n{}", server.log());
        assert_no_secret("the log", &server.log(), "S3cret Pw+/&=?#@%");
        assert!(!server.log().contains("password="), "{}", server.log());
    }
}

/// M5: when the database cannot be reached, the refusals of `serve`, `import`, `export` and `report` name the
/// store without its password (in the URL's user information or in a `password=` parameter).
#[test]
fn a_store_password_is_not_printed_when_the_store_cannot_be_reached() {
    let secret = "S3cretPw-unreachable-91b4";
    let port = free_port();
    let shown = format!("postgres://cyber@127.0.0.1:{port}/cyber");
    let in_user = format!("postgres://cyber:{secret}@127.0.0.1:{port}/cyber");
    let in_query = format!("postgres://cyber@127.0.0.1:{port}/cyber?password={secret}");
    let dir = tempfile::tempdir().unwrap();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().join("data");
    let (data, out) = (data.to_str().unwrap().to_owned(), dir.path().join("out").to_str().unwrap().to_owned());
    let mut runs = Vec::new();
    for url in [&in_user, &in_query] {
        for args in [
            vec!["serve", "--addr", "127.0.0.1:0", "--store", url],
            vec!["import", "--store", url, &data],
            vec!["export", "--store", url, &out],
            vec!["report", "progress", "--from", "2007-01-01", "--store", url],
        ] {
            let args: Vec<String> = args.into_iter().map(str::to_owned).collect();
            runs.push(std::thread::spawn(move || {
                let refs: Vec<&str> = args.iter().map(String::as_str).collect();
                (args.join(" "), cli(&refs, &[], ""))
            }));
        }
    }
    for run in runs {
        let (what, (ok, stdout, stderr)) = run.join().unwrap();
        assert!(!ok, "{what}: succeeded");
        assert!(stderr.contains("pool timed out"), "{what}: {stderr}");
        if !what.starts_with("report") {
            assert!(
                stderr.contains(&format!("cannot open the store {shown}")),
                "{what}: does not name {shown}:\n{stderr}"
            );
        }
        assert_no_secret(&what, &(stdout + &stderr), secret);
    }
    // A URL the store refuses is not echoed with its password either.
    let (ok, _, stderr) = cli(&["export", "--store", &format!("mysql://root:{secret}@db/cyber"), &out], &[], "");
    assert!(!ok && stderr.contains("unsupported store URL `mysql://root@db/cyber`"), "{stderr}");
    assert_no_secret("export with a mysql URL", &stderr, secret);
}

/// A PostgreSQL server that asks for a clear-text password, sends back what it received on `tx`, and refuses
/// the login: it shows which password the client sent.
fn password_catcher() -> (u16, std::sync::mpsc::Receiver<String>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { return };
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let read_startup = |s: &mut std::net::TcpStream| -> std::io::Result<Vec<u8>> {
                let mut len = [0u8; 4];
                s.read_exact(&mut len)?;
                let mut body = vec![0u8; u32::from_be_bytes(len) as usize - 4];
                s.read_exact(&mut body)?;
                Ok(body)
            };
            let Ok(mut body) = read_startup(&mut s) else { continue };
            if body == 80877103u32.to_be_bytes() {
                // SSLRequest: no TLS here.
                let _ = s.write_all(b"N");
                let Ok(startup) = read_startup(&mut s) else { continue };
                body = startup;
            }
            let _ = body;
            // AuthenticationCleartextPassword.
            let _ = s.write_all(&[b'R', 0, 0, 0, 8, 0, 0, 0, 3]);
            let mut tag = [0u8; 1];
            if s.read_exact(&mut tag).is_err() || tag[0] != b'p' {
                continue;
            }
            let Ok(message) = read_startup(&mut s) else { continue };
            let password = String::from_utf8_lossy(message.strip_suffix(&[0]).unwrap_or(&message)).into_owned();
            let _ = tx.send(password);
            let mut error = b"SFATAL\0VFATAL\0C28P01\0Mpassword authentication failed\0\0".to_vec();
            let mut frame = vec![b'E'];
            frame.extend_from_slice(&(error.len() as u32 + 4).to_be_bytes());
            frame.append(&mut error);
            let _ = s.write_all(&frame);
        }
    });
    (port, rx)
}

/// M5: a password given by `PGPASSWORD` or `--store-password-file` is the one sent to the database (a server
/// that asks for it in clear text receives it), and is printed nowhere.
#[test]
fn a_store_password_from_the_environment_or_a_file_reaches_the_database_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "S3cret Pw+/&=?#@%-from-a-file";
    let file = dir.path().join("pgpassword");
    std::fs::write(&file, format!("{secret}\n")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let env_secret = "S3cretPw-from-PGPASSWORD";
    for (args_extra, envs, expected) in [
        (vec![], vec![("PGPASSWORD", env_secret)], env_secret),
        (vec!["--store-password-file", file.to_str().unwrap()], vec![], secret),
    ] {
        let (port, received) = password_catcher();
        let url = format!("postgres://cyber@127.0.0.1:{port}/cyber");
        let mut args = vec!["--addr", "127.0.0.1:0", "--store", &url];
        args.extend(args_extra);
        let mut server = Serve::start(&args, &envs);
        assert!(server.addr.is_none(), "served without a database");
        assert!(!server.wait(Duration::from_secs(30)).success());
        let got = received.recv_timeout(Duration::from_secs(1)).expect("no password was sent");
        assert_eq!(got, expected);
        let log = server.log();
        assert!(log.contains(&format!("cannot open the store {url}")), "{log}");
        assert!(log.contains("password authentication failed"), "{log}");
        assert_no_secret("the log", &log, expected);
        let exposed = "the store password file is readable by group or others";
        assert_eq!(log.contains(exposed), cfg!(unix) && expected == secret, "{log}");
    }
    // A URL with a password and a password file: refused, without printing either.
    let (ok, _, stderr) = cli(
        &["export", "--store", "postgres://cyber:InUrl-S3cret@127.0.0.1:1/cyber", "--store-password-file"],
        &[],
        "",
    );
    assert!(!ok, "{stderr}");
    let (ok, _, stderr) = cli(
        &[
            "export",
            "--store",
            "postgres://cyber:InUrl-S3cret@127.0.0.1:1/cyber",
            "--store-password-file",
            file.to_str().unwrap(),
            dir.path().join("out").to_str().unwrap(),
        ],
        &[],
        "",
    );
    assert!(!ok && stderr.contains("holds a password already"), "{stderr}");
    assert_no_secret("the refusal", &stderr, "InUrl-S3cret");
    assert_no_secret("the refusal", &stderr, secret);
}

const FORGED: &str =
    "2026-12-01T00:00:00.000000Z  INFO cybercrime::request: method=\"DeleteActivity\" code=Ok principal=admin@coe";

/// Requests whose refusals quote a newline, a carriage return and an escape sequence, followed by a forged log
/// line (and, for JSON, a forged `message`).
async fn send_forgeries(channel: Channel) {
    let mut treaties = api::treaty_service_client::TreatyServiceClient::new(channel.clone());
    for name in [format!("treaties/x\n{FORGED}"), format!("treaties/x\r\n{FORGED}\",\"message\":\"forged")] {
        let e = treaties.get_treaty(api::GetTreatyRequest { name }).await.unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    }
    let e = api::activity_service_client::ActivityServiceClient::new(channel)
        .list_activities(api::ListActivitiesRequest {
            filter: "status = \"X\nFORGED-FILTER-LINE\u{1b}[31m\u{2028}\"".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
}

/// M6, text log: a caller's newline starts no line of the log; its text is there, escaped; no ANSI colours in a
/// log that is not a terminal.
#[tokio::test]
async fn a_callers_newlines_do_not_forge_text_log_lines() {
    let server = TestServer::start();
    send_forgeries(server.channel().await).await;
    let log = server.log();
    for line in log.lines() {
        assert!(!line.starts_with("2026-12-01T00:00:00") && !line.starts_with("FORGED"), "a forged line: {line:?}");
    }
    assert!(!log.contains('\r') && !log.contains('\u{1b}') && !log.contains('\u{2028}'), "{log:?}");
    let refusals: Vec<&str> = log.lines().filter(|l| l.contains("request refused")).collect();
    assert_eq!(refusals.len(), 3, "{log}");
    assert!(refusals[0].contains(&format!(r"`x\n{FORGED}`")), "{}", refusals[0]);
    assert!(refusals[1].contains(r"`x\r\n2026-12-01"), "{}", refusals[1]);
    assert!(refusals[2].contains(r"\nFORGED-FILTER-LINE\u{1b}[31m\u{2028}"), "{}", refusals[2]);
}

/// M6, JSON log: every line is one JSON object with at most one `message` key, the event's own (the request
/// lines of `cybercrime::request` have none); the refusal's text is in `detail`.
#[tokio::test]
async fn json_log_lines_keep_their_own_message() {
    let server = TestServer::builder().args(&["--log-format", "json"]).start();
    send_forgeries(server.channel().await).await;
    let log = server.log();
    let mut refusals = 0;
    for line in log.lines() {
        let value: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        // In the raw text: `"message":` at most once, not counting the escaped `\"message\":` inside a quoted
        // value; once when the event has a message.
        let keys = line.match_indices("\"message\":").filter(|(i, _)| !line[..*i].ends_with('\\')).count();
        let message = value["fields"]["message"].as_str();
        assert_eq!(keys, usize::from(message.is_some()), "{line}");
        if message == Some("request refused") {
            refusals += 1;
            let detail = value["fields"]["detail"].as_str().unwrap_or_else(|| panic!("no detail: {line}"));
            assert!(!detail.contains('\n') && !detail.contains('\r'), "{detail:?}");
            assert!(detail.contains("FORGED") || detail.contains(FORGED), "{detail}");
        }
        assert!(!line.contains('\u{1b}'), "{line:?}");
    }
    assert_eq!(refusals, 3, "{log}");
}

fn delete_request(authorization: &[&str]) -> tonic::Request<api::DeleteActivityRequest> {
    let mut request =
        tonic::Request::new(api::DeleteActivityRequest { name: "activities/no-such".into(), ..Default::default() });
    for value in authorization {
        request.metadata_mut().append("authorization", MetadataValue::try_from(*value).unwrap());
    }
    request
}

/// L2: two `authorization` headers are refused whatever they hold; the scheme's case does not matter.
#[tokio::test]
async fn one_authorization_header_with_a_scheme_in_any_case() {
    let server = TestServer::start();
    let mut activities = api::activity_service_client::ActivityServiceClient::new(server.channel().await);
    for values in [
        ["Bearer reader-token", "Bearer editor-token"],
        ["Bearer editor-token", "Bearer reader-token"],
        ["garbage", "Bearer editor-token"],
        ["Bearer editor-token", "Bearer editor-token"],
    ] {
        let e = activities.delete_activity(delete_request(&values)).await.unwrap_err();
        assert_eq!(e.code(), Code::Unauthenticated, "{values:?}: {e:?}");
        assert_eq!(
            e.message(),
            "the request has more than one authorization header: send exactly one, `Bearer TOKEN`",
            "{values:?}"
        );
    }
    // One header, any case of `Bearer`: the editor is recognised (the activity does not exist).
    for value in ["Bearer editor-token", "bearer editor-token", "BEARER editor-token"] {
        let e = activities.delete_activity(delete_request(&[value])).await.unwrap_err();
        assert_eq!(e.code(), Code::NotFound, "{value}: {e:?}");
    }
    let e = activities.delete_activity(delete_request(&["BEARER reader-token"])).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied, "{e:?}");
}

/// L6 and L10: `hash-token` reads standard input and refuses weak tokens; `new-token` makes a token that a
/// server started with its table accepts; the log warns about a tokens file others can read, and about tokens
/// in clear text on an address that is not loopback.
#[tokio::test]
async fn tokens_are_made_and_hashed_off_the_command_line_and_exposures_are_warned_of() {
    let long = "0123456789abcdefghijklmnopqrstuv";
    let (ok, stdout, _) = cli(&["hash-token"], &[], &format!("{long}\n"));
    assert!(ok);
    assert_eq!(stdout.trim_end(), grpc_server::auth::hash_token(long));
    let (ok, stdout, _) = cli(&["hash-token"], &[], &format!("{long}\r\n"));
    assert!(ok);
    assert_eq!(stdout.trim_end(), grpc_server::auth::hash_token(long));
    let (ok, stdout, stderr) = cli(&["hash-token", long], &[], "");
    assert!(!ok && stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("reads the token from standard input, not from the command line"), "{stderr}");
    for (input, refusal) in [
        ("", "no token on standard input"),
        ("editor-secret\n", "the token has 13 characters: a token needs at least 24"),
        ("01234567890123456789012\n", "the token has 23 characters"),
        (&format!("{long}\nsecond line\n"), "more than one line"),
        (&format!("{long} x\n"), "printable ASCII without spaces"),
    ] {
        let (ok, stdout, stderr) = cli(&["hash-token"], &[], input);
        assert!(!ok && stdout.is_empty(), "{input:?}: {stdout}");
        assert!(stderr.contains(refusal), "{input:?}: {stderr}");
    }

    let (ok, stdout, stderr) = cli(&["new-token", "--principal", "new@test", "--role", "editor"], &[], "");
    assert!(ok, "{stderr}");
    let token = stdout.lines().next().unwrap().to_owned();
    assert!(token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()), "{token}");
    let table = &stdout[token.len()..];
    assert!(table.contains(&format!("sha256 = \"{}\"", grpc_server::auth::hash_token(&token))), "{stdout}");
    let (_, again, _) = cli(&["new-token", "--principal", "new@test"], &[], "");
    assert_ne!(again.lines().next().unwrap(), token, "two tokens alike");
    assert!(again.contains("role = \"reader\""), "{again}");

    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens.toml");
    std::fs::write(&tokens, table).unwrap();
    let tokens = tokens.to_str().unwrap();
    let exposed = "the tokens file is readable by group or others";
    let in_clear = "tokens are in use without TLS on an address that is not a loopback address";
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tokens, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let server = Serve::start(&["--addr", "127.0.0.1:0", "--tokens", tokens, "--store", "sqlite::memory:"], &[]);
    let addr = server.addr.clone().unwrap_or_else(|| panic!("{}", server.log()));
    let channel = Channel::from_shared(format!("http://{addr}")).unwrap().connect().await.unwrap();
    let e = api::activity_service_client::ActivityServiceClient::new(channel)
        .delete_activity(with_token(
            api::DeleteActivityRequest { name: "activities/no-such".into(), ..Default::default() },
            &token,
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound, "the new token is not an editor's: {e:?}");
    let log = server.log();
    assert!(!log.contains(exposed) && !log.contains(in_clear), "{log}");
    assert!(!log.contains(&token), "{log}");
    drop(server);

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tokens, std::fs::Permissions::from_mode(0o644)).unwrap();
        let server = Serve::start(&["--addr", "0.0.0.0:0", "--tokens", tokens, "--store", "sqlite::memory:"], &[]);
        assert!(server.addr.is_some(), "{}", server.log());
        let log = server.log();
        assert!(log.contains(exposed) && log.contains("chmod 600"), "{log}");
        assert!(log.contains(in_clear), "{log}");
    }
    // Without tokens, nothing travels in clear that matters: no warning off loopback.
    let server = Serve::start(&["--addr", "0.0.0.0:0", "--store", "sqlite::memory:"], &[]);
    assert!(server.addr.is_some(), "{}", server.log());
    assert!(!server.log().contains(in_clear), "{}", server.log());
}
