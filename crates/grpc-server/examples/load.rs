//! The load benchmark: a tonic client with many connections and concurrent requests, which checks every
//! response's gRPC status (errors never count as throughput), run in one invocation against a trivial echo
//! service built with the same tonic settings (the transport's limit on this machine) and against the real
//! server's methods, interleaved echo, method, echo, method. It prints requests per second, p50/p99/p99.9 latency
//! and the ratio to the echo service, as a table and as JSON.
//!
//! ```sh
//! cargo run --release -p grpc-server --example load                 # the full run (100,000 activities)
//! cargo run -p grpc-server --example load -- --smoke                # a tiny run, as CI does
//! ```
//! Options: `--seconds S` per round (default 5), `--requests N` at most per round (default 1000000),
//! `--concurrency C` (64), `--connections K` (8),
//! `--activities M` synthetic activities in the store (100000), `--json PATH` (load.json),
//! `--only A,B` only the scenarios whose name contains A or B, `--no-doubling` without the second store of twice
//! the activities.

#![allow(clippy::print_stdout, clippy::print_stderr, missing_docs)]

use std::{
    future::Future,
    net::SocketAddr,
    pin::Pin,
    sync::Arc,
    time::{Duration, Instant},
};

// The contract's messages and clients from the client crate; the echo service is the server crate's own.
use cybercrime_api::{coe::cybercrime::v1 as api, google::r#type::Date};
use grpc_server::pb::coe::cybercrime::bench::v1::{
    EchoMessage,
    echo_client::EchoClient,
    echo_server::{Echo, EchoServer},
};
use tonic::{Request, Response, Status, transport::Channel};

#[derive(Debug, Default)]
struct EchoService;

#[tonic::async_trait]
impl Echo for EchoService {
    async fn echo(&self, request: Request<EchoMessage>) -> Result<Response<EchoMessage>, Status> {
        let m = request.into_inner();
        match usize::try_from(m.answer_size) {
            Ok(n) if n > 0 => Ok(Response::new(EchoMessage { payload: vec![0; n], answer_size: 0 })),
            _ => Ok(Response::new(m)),
        }
    }
}

struct Options {
    seconds: f64,
    requests: usize,
    concurrency: usize,
    connections: usize,
    activities: usize,
    json: String,
    /// Only the scenarios whose name contains one of these (all when empty).
    only: Vec<String>,
    /// Skip the measurement at twice the activities.
    no_doubling: bool,
}

fn options() -> Options {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let get = |name: &str, default: usize| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let smoke = args.iter().any(|a| a == "--smoke");
    Options {
        seconds: get("--seconds", if smoke { 1 } else { 5 }) as f64,
        requests: get("--requests", if smoke { 200 } else { 1_000_000 }),
        concurrency: get("--concurrency", if smoke { 8 } else { 64 }),
        connections: get("--connections", if smoke { 2 } else { 8 }),
        activities: get("--activities", if smoke { 500 } else { 100_000 }),
        json: args
            .iter()
            .position(|a| a == "--json")
            .and_then(|i| args.get(i + 1))
            .cloned()
            .unwrap_or_else(|| "load.json".into()),
        only: args
            .iter()
            .position(|a| a == "--only")
            .and_then(|i| args.get(i + 1))
            .map(|v| v.split(',').map(str::to_owned).collect())
            .unwrap_or_default(),
        no_doubling: args.iter().any(|a| a == "--no-doubling"),
    }
}

/// One measured round.
#[derive(Debug, Clone)]
struct Round {
    ok: usize,
    errors: usize,
    seconds: f64,
    latencies_us: Vec<u64>,
}

impl Round {
    fn rps(&self) -> f64 {
        self.ok as f64 / self.seconds
    }

    fn percentile(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let i = ((self.latencies_us.len() as f64 - 1.0) * p).round() as usize;
        self.latencies_us[i] as f64 / 1000.0
    }
}

type Call = Arc<dyn Fn(Channel, usize) -> Pin<Box<dyn Future<Output = Result<(), Status>> + Send>> + Send + Sync>;

/// Requests issued so far, by every round of this run.
static ISSUED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

async fn round(channels: &[Channel], opts: &Options, call: &Call) -> Round {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(opts.seconds);
    let mut tasks = Vec::new();
    for worker in 0..opts.concurrency {
        let channel = channels[worker % channels.len()].clone();
        let (next, call, total) = (next.clone(), call.clone(), opts.requests);
        tasks.push(tokio::spawn(async move {
            let (mut ok, mut errors, mut lat) = (0, 0, Vec::new());
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if n >= total || Instant::now() >= deadline {
                    break;
                }
                // Numbered across all rounds, so that writes never repeat a name of an earlier round.
                let id = ISSUED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let t = Instant::now();
                match call(channel.clone(), id).await {
                    Ok(()) => {
                        ok += 1;
                        lat.push(t.elapsed().as_micros() as u64);
                    }
                    Err(_) => errors += 1,
                }
            }
            (ok, errors, lat)
        }));
    }
    let mut r = Round { ok: 0, errors: 0, seconds: 0.0, latencies_us: Vec::new() };
    for t in tasks {
        let (ok, errors, lat) = t.await.expect("worker");
        r.ok += ok;
        r.errors += errors;
        r.latencies_us.extend(lat);
    }
    r.seconds = started.elapsed().as_secs_f64();
    r.latencies_us.sort_unstable();
    r
}

async fn channels(addr: SocketAddr, n: usize) -> Vec<Channel> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(Channel::from_shared(format!("http://{addr}")).expect("uri").connect().await.expect("connect"));
    }
    out
}

fn date(y: i32, m: i32, d: i32) -> Date {
    Date { year: y, month: m, day: d }
}

/// The client's codec: bodies as bytes, encoded once and not decoded (as h2load does), so the client's own
/// decoding of large answers does not take the CPU the server shares with it; the gRPC status is still checked
/// on every answer, and the first answer of each scenario is decoded and checked (see [`check_first`]).
#[derive(Debug, Clone, Copy, Default)]
struct Raw;

#[derive(Debug)]
struct RawCoder;

impl tonic::codec::Codec for Raw {
    type Encode = bytes::Bytes;
    type Decode = bytes::Bytes;
    type Encoder = RawCoder;
    type Decoder = RawCoder;

    fn encoder(&mut self) -> RawCoder {
        RawCoder
    }

    fn decoder(&mut self) -> RawCoder {
        RawCoder
    }
}

impl tonic::codec::Encoder for RawCoder {
    type Item = bytes::Bytes;
    type Error = Status;

    fn encode(&mut self, item: bytes::Bytes, dst: &mut tonic::codec::EncodeBuf<'_>) -> Result<(), Status> {
        bytes::BufMut::put(dst, item);
        Ok(())
    }
}

impl tonic::codec::Decoder for RawCoder {
    type Item = bytes::Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut tonic::codec::DecodeBuf<'_>) -> Result<Option<bytes::Bytes>, Status> {
        use bytes::Buf;
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

/// One unary call with an encoded body; the encoded answer.
async fn unary(
    ch: Channel,
    path: &'static str,
    body: bytes::Bytes,
    token: Option<&'static str>,
) -> Result<bytes::Bytes, Status> {
    let mut grpc = tonic::client::Grpc::new(ch);
    grpc.ready().await.map_err(|e| Status::unavailable(e.to_string()))?;
    let mut request = Request::new(body);
    if let Some(token) = token {
        request.metadata_mut().insert("authorization", format!("Bearer {token}").parse().expect("header"));
    }
    Ok(grpc.unary(request, http::uri::PathAndQuery::from_static(path), Raw).await?.into_inner())
}

/// A measured method: its name, its path, the body of its `n`th request, the token it needs, and a check of
/// a decoded answer.
struct Scenario {
    name: &'static str,
    path: &'static str,
    body: fn(usize) -> bytes::Bytes,
    token: Option<&'static str>,
    check: fn(&[u8]) -> anyhow::Result<()>,
}

fn encoded(m: &impl prost::Message) -> bytes::Bytes {
    bytes::Bytes::from(m.encode_to_vec())
}

const LIST_FILTER: &str = "status = \"COMPLETED\" AND start >= \"2007-03-01\" AND region = \"EUROPE\"";

fn scenarios() -> Vec<Scenario> {
    use prost::Message;
    vec![
        Scenario {
            name: "GetTreatyStatus",
            path: "/coe.cybercrime.v1.TreatyService/GetTreatyStatus",
            body: |_| {
                encoded(&api::GetTreatyStatusRequest {
                    name: "treaties/185".into(),
                    as_of: Some(date(2007, 11, 30)),
                    ..Default::default()
                })
            },
            token: None,
            check: |b| {
                let s = api::TreatyStatus::decode(b)?;
                let parties = s.groups.iter().find(|g| g.status == api::StateStatus::Party as i32).map(|g| g.count);
                anyhow::ensure!(parties == Some(21), "{parties:?} parties (the report says 21)");
                Ok(())
            },
        },
        Scenario {
            name: "GetCountry",
            path: "/coe.cybercrime.v1.CountryService/GetCountry",
            body: |_| encoded(&api::GetCountryRequest { name: "countries/PH".into(), as_of: Some(date(2007, 11, 30)) }),
            token: None,
            check: |b| {
                let c = api::Country::decode(b)?;
                anyhow::ensure!(c.display_name == "Philippines", "country {:?}", c.display_name);
                Ok(())
            },
        },
        Scenario {
            name: "ListActivities (page 50, filtered)",
            path: "/coe.cybercrime.v1.ActivityService/ListActivities",
            body: |_| {
                encoded(&api::ListActivitiesRequest { page_size: 50, filter: LIST_FILTER.into(), ..Default::default() })
            },
            token: None,
            check: |b| {
                let page = api::ListActivitiesResponse::decode(b)?;
                anyhow::ensure!(!page.activities.is_empty(), "an empty page");
                Ok(())
            },
        },
        Scenario {
            name: "GetActivityPlan",
            path: "/coe.cybercrime.v1.ActivityService/GetActivityPlan",
            body: |_| {
                encoded(&api::GetActivityPlanRequest {
                    period_start: Some(date(2007, 12, 1)),
                    period_end: Some(date(2008, 6, 30)),
                    filter: "plan = \"2007-12..2008-06\"".into(),
                })
            },
            token: None,
            check: |b| {
                let plan = api::ActivityPlan::decode(b)?;
                anyhow::ensure!(!plan.activities.is_empty(), "an empty plan");
                Ok(())
            },
        },
        Scenario {
            name: "CreateActivity (durable write)",
            path: "/coe.cybercrime.v1.ActivityService/CreateActivity",
            body: |n| {
                encoded(&api::CreateActivityRequest {
                    activity: Some(api::Activity {
                        name: format!("activities/load-{}-{n}", std::process::id()),
                        title: "Load test".into(),
                        start: Some(api::ApproxDate { text: "2008-05".into(), ..Default::default() }),
                        kind: api::ActivityKind::Meeting as i32,
                        status: api::ActivityStatus::Pipeline as i32,
                        outputs: vec![3],
                        sources: vec![api::Citation { document: "report-2007-11".into(), locator: String::new() }],
                        ..Default::default()
                    }),
                    request_id: String::new(),
                    activity_id: String::new(),
                })
            },
            token: Some("load-editor"),
            check: |b| {
                let a = api::Activity::decode(b)?;
                anyhow::ensure!(a.name.starts_with("activities/load-"), "created {:?}", a.name);
                Ok(())
            },
        },
    ]
}

/// A scenario's call: its encoded request, its status checked.
fn call_of(s: &Scenario) -> Call {
    let (path, body, token) = (s.path, s.body, s.token);
    Arc::new(move |ch, n| Box::pin(async move { unary(ch, path, body(n), token).await.map(|_| ()) }))
}

/// Rounds of `a` and `b`, interleaved a, b, a, b; the better round of each, with the errors of every round.
async fn interleaved(opts: &Options, a: (&[Channel], &Call), b: (&[Channel], &Call)) -> (Round, Round) {
    let (mut best_a, mut best_b): (Option<Round>, Option<Round>) = (None, None);
    let (mut errors_a, mut errors_b) = (0, 0);
    for _ in 0..2 {
        let ra = round(a.0, opts, a.1).await;
        let rb = round(b.0, opts, b.1).await;
        errors_a += ra.errors;
        errors_b += rb.errors;
        if best_a.as_ref().is_none_or(|x| ra.rps() > x.rps()) {
            best_a = Some(ra);
        }
        if best_b.as_ref().is_none_or(|x| rb.rps() > x.rps()) {
            best_b = Some(rb);
        }
    }
    let (mut best_a, mut best_b) = (best_a.expect("round"), best_b.expect("round"));
    best_a.errors = errors_a;
    best_b.errors = errors_b;
    (best_a, best_b)
}

/// Calls a scenario's method once (with a request number no round uses) and checks its decoded answer; its
/// size in bytes.
async fn check_first(ch: Channel, s: &Scenario) -> anyhow::Result<usize> {
    let answer = unary(ch, s.path, (s.body)(usize::MAX), s.token).await?;
    (s.check)(&answer).map_err(|e| anyhow::anyhow!("{}: unexpected answer: {e}", s.name))?;
    Ok(answer.len())
}

/// The echo service answering `size` bytes: the transport's limit for answers of that size.
fn sized_echo(size: usize) -> Call {
    let body = encoded(&EchoMessage { payload: Vec::new(), answer_size: i32::try_from(size).unwrap_or(i32::MAX) });
    Arc::new(move |ch, _| {
        let body = body.clone();
        Box::pin(async move { unary(ch, "/coe.cybercrime.bench.v1.Echo/Echo", body, None).await.map(|_| ()) })
    })
}

/// A store of the 2007 data plus `activities` synthetic ones (loaded with import), and the real server on it, in
/// this process: its address, what stops it, and its task.
async fn start_real(
    dir: &std::path::Path,
    name: &str,
    activities: usize,
    tokens: &std::path::Path,
) -> anyhow::Result<(SocketAddr, tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<anyhow::Result<()>>)> {
    let url = format!("sqlite://{}", dir.join(format!("{name}.sqlite")).display());
    {
        let store =
            storage::SqlStore::open(&url, storage::OpenOptions { load_bundled_if_empty: false, ..Default::default() })
                .await?;
        let mut ds = core_model::Dataset::bundled();
        let synthetic = core_model::synthetic::activities(&ds, activities, 2007);
        ds.activities.extend(synthetic);
        let t = Instant::now();
        use storage::Store;
        store.import(&storage::WriteContext::by("load"), &ds).await?;
        eprintln!("store {name}: {} activities imported in {:.1?}", ds.activities.len(), t.elapsed());
    }
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let config = grpc_server::server::ServerConfig {
        addr: "127.0.0.1:0".parse()?,
        store_url: url,
        tokens: Some(tokens.to_owned()),
        require_token_for_reads: false,
        tls: None,
        request_timeout: Duration::from_secs(30),
        shutdown_grace: Duration::from_secs(2),
        health_interval: Duration::from_secs(1),
        reports: grpc_server::service::ReportLimits::default(),
        watch: grpc_server::watchers::WatchLimits::only(1024),
        change_feed: grpc_server::service::ChangeFeedLimits::default(),
        connections: grpc_server::connections::ConnectionLimits {
            max_connections: 4096,
            handshake_timeout: Duration::from_secs(5),
        },
        keepalive_interval: Duration::from_secs(30),
        keepalive_timeout: Duration::from_secs(10),
        cors_origins: Vec::new(),
        metrics_addr: None,
        status_page: false,
        pdf: reporting::pdf::PrinterConfig::default(),
    };
    let server = tokio::spawn(grpc_server::server::serve(
        config,
        async {
            let _ = stopped.await;
        },
        move |a| {
            let _ = ready_tx.send(a);
        },
    ));
    Ok((ready_rx.await?, stop, server))
}

/// The mixed load: of every ten requests, one durable write (CreateActivity), three status tables, three
/// country pages and three filtered lists.
fn mixed_call() -> Call {
    let all = scenarios();
    let pick = |name: &str| all.iter().find(|s| s.name.starts_with(name)).map(|s| (s.path, s.body, s.token));
    let parts: Vec<_> =
        ["CreateActivity", "GetTreatyStatus", "GetCountry", "ListActivities"].iter().filter_map(|n| pick(n)).collect();
    Arc::new(move |ch, n| {
        let (path, body, token) = match n % 10 {
            0 => parts[0],
            1..=3 => parts[1],
            4..=6 => parts[2],
            _ => parts[3],
        };
        Box::pin(async move { unary(ch, path, body(n), token).await.map(|_| ()) })
    })
}

/// Watch streams connected to `addr` and read until the end of the run; the events they received.
async fn watchers(
    addr: SocketAddr,
    n: usize,
) -> (Arc<std::sync::atomic::AtomicUsize>, Vec<tokio::task::JoinHandle<()>>) {
    let events = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for ch in channels(addr, n).await {
        let events = events.clone();
        tasks.push(tokio::spawn(async move {
            let Ok(stream) = api::treaty_service_client::TreatyServiceClient::new(ch)
                .watch_treaty_actions(api::WatchTreatyActionsRequest::default())
                .await
            else {
                return;
            };
            let mut stream = stream.into_inner();
            while let Ok(Some(_)) = stream.message().await {
                events.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }));
    }
    (events, tasks)
}

/// Start-up of the `cybercrime` binary of the same build (to SERVING, as its first stdout line says), on a new
/// store (which loads the 2007 data) and again on that store; and its resident memory after a second idle.
fn startup_and_memory(dir: &std::path::Path) -> anyhow::Result<(f64, f64, u64)> {
    use std::io::BufRead;
    let exe = std::env::current_exe()?;
    let bin = exe.parent().and_then(|p| p.parent()).map(|p| p.join("cybercrime")).filter(|p| p.exists());
    let Some(bin) = bin else {
        anyhow::bail!("build the cybercrime binary of this profile first (cargo build --bins)")
    };
    let store = format!("sqlite://{}", dir.join("startup.sqlite").display());
    let start = || -> anyhow::Result<(f64, std::process::Child)> {
        let t = Instant::now();
        let mut child = std::process::Command::new(&bin)
            .args(["serve", "--addr", "127.0.0.1:0", "--create", "--store", &store])
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()?;
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line)?;
        anyhow::ensure!(line.starts_with("cybercrime: serving on"), "unexpected first line {line:?}");
        Ok((t.elapsed().as_secs_f64() * 1000.0, child))
    };
    let (first, mut child) = start()?;
    let _ = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    child.wait()?;
    let (again, mut child) = start()?;
    std::thread::sleep(Duration::from_secs(1));
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
    let rss_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    let _ = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    child.wait()?;
    Ok((first, again, rss_kib))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let opts = options();
    let dir = tempfile::tempdir()?;

    let tokens = dir.path().join("tokens.toml");
    std::fs::write(
        &tokens,
        format!(
            "[[token]]\nprincipal = \"load\"\nrole = \"editor\"\nsha256 = \"{}\"\n",
            grpc_server::auth::hash_token("load-editor")
        ),
    )?;
    let (real, stop, server) = start_real(dir.path(), "load", opts.activities, &tokens).await?;

    // The echo service, with the same settings.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let echo_addr = listener.local_addr()?;
    let echo = tokio::spawn(
        grpc_server::server::configured_builder(Duration::from_secs(30))
            .add_service(EchoServer::new(EchoService))
            .serve_with_incoming(grpc_server::server::incoming(listener)),
    );
    let echo_channels = channels(echo_addr, opts.connections).await;
    let real_channels = channels(real, opts.connections).await;
    // The same client path as the methods: an encoded body, the answer's status checked, not decoded.
    let echo_body = encoded(&EchoMessage { payload: vec![0; 64], answer_size: 0 });
    EchoClient::new(echo_channels[0].clone()).echo(EchoMessage { payload: vec![0; 64], answer_size: 0 }).await?;
    let echo_call: Call = Arc::new(move |ch, _| {
        let body = echo_body.clone();
        Box::pin(async move { unary(ch, "/coe.cybercrime.bench.v1.Echo/Echo", body, None).await.map(|_| ()) })
    });

    // Interleaved: echo, method, echo, method; the better round of each counts.
    let selected = |name: &str| opts.only.is_empty() || opts.only.iter().any(|o| name.contains(o.as_str()));
    let mut rows = Vec::new();
    let mut sizes: Vec<(&str, usize, Round)> = Vec::new();
    for s in scenarios() {
        let name = s.name;
        if !selected(name) {
            continue;
        }
        let size = check_first(real_channels[0].clone(), &s).await?;
        let (e, m) = interleaved(&opts, (&echo_channels, &echo_call), (&real_channels, &call_of(&s))).await;
        // Large answers cost the transport more: the echo service answering as many bytes, interleaved too.
        let (sized, _) = interleaved(&opts, (&echo_channels, &sized_echo(size)), (&real_channels, &call_of(&s))).await;
        sizes.push((name, size, sized));
        rows.push((name, e, m));
    }
    let mixed = "Mixed: 10% writes, 16 watchers";
    if selected(mixed) {
        let (events, watching) = watchers(real, 16).await;
        let (e, m) = interleaved(&opts, (&echo_channels, &echo_call), (&real_channels, &mixed_call())).await;
        for w in &watching {
            anyhow::ensure!(!w.is_finished(), "a watcher ended during the mixed load");
        }
        eprintln!("mixed: the watchers received {} events", events.load(std::sync::atomic::Ordering::Relaxed));
        for w in watching {
            w.abort();
        }
        rows.push((mixed, e, m));
    }

    // Doubling the activities: the same methods against a second server whose store holds twice as many,
    // interleaved; the cost ratio is the time per request at 2M over the time at M.
    let mut doubling = Vec::new();
    if !opts.no_doubling {
        let (double, stop_double, double_server) =
            start_real(dir.path(), "double", 2 * opts.activities, &tokens).await?;
        let double_channels = channels(double, opts.connections).await;
        for s in scenarios() {
            if !["GetTreatyStatus", "ListActivities"].iter().any(|n| s.name.starts_with(n)) || !selected(s.name) {
                continue;
            }
            let call = call_of(&s);
            let (m, m2) = interleaved(&opts, (&real_channels, &call), (&double_channels, &call)).await;
            doubling.push((s.name, m, m2));
        }
        let _ = stop_double.send(());
        let _ = double_server.await;
    }

    println!(
        "\n{:<38} {:>10} {:>8} {:>8} {:>9} {:>8} {:>7}",
        "method", "req/s", "p50 ms", "p99 ms", "p99.9 ms", "errors", "÷ echo"
    );
    let mut json = Vec::new();
    for (name, e, m) in &rows {
        let ratio = m.rps() / e.rps();
        println!(
            "{:<38} {:>10.0} {:>8.2} {:>8.2} {:>9.2} {:>8} {:>7.2}",
            name,
            m.rps(),
            m.percentile(0.5),
            m.percentile(0.99),
            m.percentile(0.999),
            m.errors,
            ratio
        );
        println!(
            "{:<38} {:>10.0} {:>8.2} {:>8.2} {:>9.2} {:>8}",
            "  echo (same round)",
            e.rps(),
            e.percentile(0.5),
            e.percentile(0.99),
            e.percentile(0.999),
            e.errors
        );
        json.push(format!(
            "{{\"method\":{:?},\"rps\":{:.1},\"p50_ms\":{:.3},\"p99_ms\":{:.3},\"p999_ms\":{:.3},\"errors\":{},\"echo_rps\":{:.1},\"ratio_to_echo\":{:.3}}}",
            name, m.rps(), m.percentile(0.5), m.percentile(0.99), m.percentile(0.999), m.errors, e.rps(), ratio
        ));
    }
    println!(
        "\n{:<38} {:>12} {:>16} {:>16}",
        "against an echo of the same size", "answer bytes", "sized echo req/s", "÷ sized echo"
    );
    let mut sized_json = Vec::new();
    for (name, size, sized) in &sizes {
        let Some((_, _, m)) = rows.iter().find(|(n, _, _)| n == name) else { continue };
        let ratio = m.rps() / sized.rps();
        println!("{:<38} {:>12} {:>16.0} {:>16.2}", name, size, sized.rps(), ratio);
        sized_json.push(format!(
            "{{\"method\":{:?},\"answer_bytes\":{},\"sized_echo_rps\":{:.1},\"ratio_to_sized_echo\":{:.3},\"errors\":{}}}",
            name, size, sized.rps(), ratio, sized.errors
        ));
    }
    let mut doubling_json = Vec::new();
    if !doubling.is_empty() {
        println!(
            "\n{:<38} {:>12} {:>12} {:>12}",
            "at twice the activities",
            format!("req/s at {}", opts.activities),
            format!("at {}", 2 * opts.activities),
            "cost ratio"
        );
    }
    for (name, m, m2) in &doubling {
        let cost = m.rps() / m2.rps();
        println!("{:<38} {:>12.0} {:>12.0} {:>12.2}", name, m.rps(), m2.rps(), cost);
        doubling_json.push(format!(
            "{{\"method\":{:?},\"rps\":{:.1},\"rps_at_double\":{:.1},\"cost_ratio\":{:.3},\"errors\":{}}}",
            name,
            m.rps(),
            m2.rps(),
            cost,
            m.errors + m2.errors
        ));
    }
    let text = format!(
        "{{\"seconds_per_round\":{},\"concurrency\":{},\"connections\":{},\"activities\":{},\"results\":[{}],\"same_size\":[{}],\"doubling\":[{}]}}\n",
        opts.seconds,
        opts.concurrency,
        opts.connections,
        opts.activities,
        json.join(","),
        sized_json.join(","),
        doubling_json.join(",")
    );
    let (first_ms, again_ms, rss_kib) = startup_and_memory(dir.path())?;
    println!(
        "\nstart-up to SERVING: {first_ms:.0} ms on a new store (loading the 2007 data), {again_ms:.0} ms on an existing one"
    );
    println!("resident memory after 1 s idle: {:.1} MiB", rss_kib as f64 / 1024.0);
    let text = text.trim_end().trim_end_matches('}').to_owned()
        + &format!(
            ",\"startup_new_store_ms\":{first_ms:.1},\"startup_existing_store_ms\":{again_ms:.1},\"idle_rss_kib\":{rss_kib}}}\n"
        );
    std::fs::write(&opts.json, text)?;
    println!("\nJSON written to {}", opts.json);
    let failed: usize = rows.iter().map(|(_, e, m)| e.errors + m.errors).sum::<usize>()
        + doubling.iter().map(|(_, m, m2)| m.errors + m2.errors).sum::<usize>()
        + sizes.iter().map(|(_, _, s)| s.errors).sum::<usize>();
    let _ = stop.send(());
    let _ = server.await;
    echo.abort();
    if failed > 0 {
        anyhow::bail!("{failed} requests failed");
    }
    Ok(())
}
