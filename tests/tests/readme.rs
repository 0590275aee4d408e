//! The README's first ten minutes, as a newcomer follows them: the hint for a `serve` option given without
//! `serve`, `--version` with the commit, the example tokens file (each documented token authenticates with its
//! documented role), and the README's grpcurl blocks marked `<!-- tested: NAME -->`, run exactly as written
//! against a real server (only the address is replaced), so that the README cannot rot.

#![allow(clippy::print_stderr)]

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
};

use e2e_tests::{api, binary, builders, grpcurl, with_token};
use tonic::{Code, transport::Channel};

/// The repository's root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A server started with the repository's example tokens file (the test helper's server brings its own tokens).
struct Server {
    addr: String,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start(tokens: &Path) -> Server {
        let dir = tempfile::tempdir().expect("temporary folder");
        let store = format!("sqlite://{}", dir.path().join("store.sqlite").display());
        let mut child = Command::new(binary())
            .args(["serve", "--addr", "127.0.0.1:0", "--create", "--store", &store, "--tokens"])
            .arg(tokens)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start cybercrime");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let first = lines.next().and_then(Result::ok).unwrap_or_default();
        let addr = first.strip_prefix("cybercrime: serving on ").expect("the server did not start").to_owned();
        std::thread::spawn(move || for _ in lines {});
        Server { addr, child, _dir: dir }
    }

    async fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://{}", self.addr)).expect("uri").connect().await.expect("connect")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The code blocks of `text` that follow the line `<!-- tested: NAME -->`.
fn tested_blocks<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
    let marker = format!("<!-- tested: {name} -->\n```sh\n");
    text.match_indices(&marker)
        .map(|(at, _)| {
            let body = &text[at + marker.len()..];
            &body[..body.find("\n```\n").expect("an unclosed block") + 1]
        })
        .collect()
}

#[test]
fn a_serve_option_without_serve_gets_a_hint() {
    let out = Command::new(binary()).args(["--addr", "127.0.0.1:6000"]).output().expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("unexpected argument '--addr' found"), "{err}");
    assert!(err.contains("did you mean `cybercrime serve --addr 127.0.0.1:6000`?"), "{err}");

    let out = Command::new(binary()).args(["--store=sqlite://x.sqlite", "--tokens", "t.toml"]).output().expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("did you mean `cybercrime serve --store=sqlite://x.sqlite --tokens t.toml`?"), "{err}");

    // Quoted where the shell needs it.
    let out = Command::new(binary()).args(["--tokens", "my tokens.toml"]).output().expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("did you mean `cybercrime serve --tokens 'my tokens.toml'`?"), "{err}");

    // An option no command has: clap's error alone, no hint.
    let out = Command::new(binary()).args(["--bogus"]).output().expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("unexpected argument '--bogus'") && !err.contains("did you mean"), "{err}");
    assert!(!Path::new("x.sqlite").exists());
}

#[test]
fn version_names_the_commit() {
    let out = Command::new(binary()).arg("--version").output().expect("run");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.trim_end();
    let rest = line.strip_prefix(&format!("cybercrime {} (", env!("CARGO_PKG_VERSION"))).expect(line);
    let inner = rest.strip_suffix(')').expect(line);
    if inner == "unknown" {
        // Built without git (a tarball): nothing more to check, unless this is a git checkout.
        let git = Command::new("git").args(["-C", env!("CARGO_MANIFEST_DIR"), "rev-parse", "HEAD"]).output();
        assert!(!git.is_ok_and(|o| o.status.success()), "built in a git checkout, yet: {line}");
        return;
    }
    let (hash, date) = inner.split_once(' ').expect(line);
    let hash = hash.strip_suffix("-dirty").unwrap_or(hash);
    assert!(hash.len() >= 7 && hash.chars().all(|c| c.is_ascii_hexdigit()), "{line}");
    // The date is the commit's own.
    let git = Command::new("git")
        .args(["-C", env!("CARGO_MANIFEST_DIR"), "log", "-1", "--format=%cs", hash])
        .output()
        .expect("git");
    assert!(git.status.success(), "{hash} is not a commit of this repository: {line}");
    assert_eq!(String::from_utf8_lossy(&git.stdout).trim(), date, "{line}");
}

#[tokio::test]
async fn the_example_tokens_authenticate_with_their_documented_roles() {
    let file = root().join("examples/tokens.example.toml");
    let text = std::fs::read_to_string(&file).expect("the example tokens file");
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    // The plaintext tokens as the README's table gives them: | `principal` | role | `token` |.
    let documented: Vec<(String, String, String)> = readme
        .lines()
        .filter(|l| l.starts_with("| `") && l.contains("@local-trial"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(|c| c.trim().trim_matches('`')).collect();
            (cells[1].to_owned(), cells[2].to_owned(), cells[3].to_owned())
        })
        .collect();
    assert_eq!(documented.len(), 3, "{documented:?}");
    for (principal, role, token) in &documented {
        // The file holds the token's hash (the comment with the plaintext is for the reader).
        let hash = grpc_server::auth::hash_token(token);
        assert!(
            text.contains(&format!("principal = \"{principal}\"\nrole = \"{role}\"\nsha256 = \"{hash}\"")),
            "{principal}"
        );
    }
    let server = Server::start(&file);
    let channel = server.channel().await;
    let mut activities = api::activity_service_client::ActivityServiceClient::new(channel.clone());
    let mut admin = api::admin_service_client::AdminServiceClient::new(channel);
    let token = |role: &str| documented.iter().find(|(_, r, _)| r == role).map(|(_, _, t)| t.clone()).unwrap();

    let create = |name: &str, token: &str| {
        with_token(
            api::CreateActivityRequest {
                activity: Some(builders::activity(&format!("activities/{name}"))),
                ..Default::default()
            },
            token,
        )
    };
    let denied = activities.create_activity(create("2009-05-by-reader", &token("reader"))).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");
    assert!(denied.message().contains("reader@local-trial is a reader"), "{denied:?}");
    let created = activities.create_activity(create("2009-05-by-editor", &token("editor"))).await.expect("editor");
    assert_eq!(created.into_inner().name, "activities/2009-05-by-editor");
    let denied = admin
        .list_unreadable_records(with_token(api::ListUnreadableRecordsRequest {}, &token("editor")))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");
    assert!(denied.message().contains("editor@local-trial"), "{denied:?}");
    admin
        .list_unreadable_records(with_token(api::ListUnreadableRecordsRequest {}, &token("admin")))
        .await
        .expect("admin");
    let wrong = activities.create_activity(create("2009-05-x", &"0".repeat(64))).await.unwrap_err();
    assert_eq!(wrong.code(), Code::Unauthenticated, "{wrong:?}");
}

#[tokio::test]
async fn the_readme_grpcurl_writes_run_as_written() {
    let Some(grpcurl) = grpcurl() else { return };
    if Command::new("jq").arg("--version").output().is_err() {
        assert!(std::env::var_os("CI").is_none(), "jq is not installed: scripts/test installs it");
        eprintln!(
            "\n!!!!!!!! SKIPPED: jq is not installed (the README's blocks use it). Under CI this test FAILS. !!!!!!!!\n"
        );
        return;
    }
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let blocks = tested_blocks(&readme, "grpcurl-writes");
    assert_eq!(blocks.len(), 1, "the README's grpcurl-writes block");
    let server = Server::start(&root().join("examples/tokens.example.toml"));
    let script = blocks[0].replace("127.0.0.1:50051", &server.addr);
    let path = format!("{}:{}", grpcurl.parent().expect("folder").display(), std::env::var("PATH").unwrap_or_default());
    let out = Command::new("bash").args(["-euo", "pipefail", "-c", &script]).env("PATH", path).output().expect("bash");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the README's commands failed:\n{stdout}\n{stderr}");
    // Create, then update (the two fields of the mask, nothing else), then delete (an empty answer).
    let json: Vec<serde_json::Value> = serde_json::Deserializer::from_str(&stdout)
        .into_iter::<serde_json::Value>()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(json.len(), 3, "{stdout}");
    assert_eq!(json[0]["name"], "activities/2009-05-tirana", "{stdout}");
    assert_eq!(json[0]["status"], "ACTIVITY_STATUS_PIPELINE", "{stdout}");
    assert_eq!(json[1]["status"], "ACTIVITY_STATUS_COMPLETED", "{stdout}");
    assert_eq!(json[1]["place"]["city"], "Durres", "{stdout}");
    assert_eq!(json[1]["title"], "Workshop", "{stdout}");
    assert_ne!(json[1]["etag"], json[0]["etag"], "{stdout}");
    assert_eq!(json[2], serde_json::json!({}), "{stdout}");
    let gone = api::activity_service_client::ActivityServiceClient::new(server.channel().await)
        .get_activity(api::GetActivityRequest { name: "activities/2009-05-tirana".into() })
        .await
        .unwrap_err();
    assert_eq!(gone.code(), Code::NotFound, "{gone:?}");
}
