//! The `cybercrime` command: serves the system of record over gRPC, and imports, exports and checks datasets.

// A command-line program talks to its user on stdout and stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::{net::SocketAddr, path::PathBuf, process::ExitCode, time::Duration};

use anyhow::Context;
use clap::{Parser, Subcommand};
use grpc_server::{
    connections::ConnectionLimits,
    server::{ServerConfig, TlsFiles},
    watchers::WatchLimits,
};

/// The system of record of the Council of Europe's Project on Cybercrime.
///
/// With no command, serves on 127.0.0.1:50051 from the SQLite file cybercrime.sqlite (created with the 2007
/// data on first run).
#[derive(Debug, Parser)]
#[command(name = "cybercrime", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the gRPC API.
    Serve(ServeArgs),
    /// Load a dataset folder (the format of data/) into an empty store.
    Import {
        /// The store.
        #[arg(long, env = "CYBERCRIME_STORE", default_value = "sqlite://cybercrime.sqlite")]
        store: String,
        /// The dataset folder.
        dir: PathBuf,
    },
    /// Write everything the store holds to a folder, in the dataset's own format.
    Export {
        /// The store.
        #[arg(long, env = "CYBERCRIME_STORE", default_value = "sqlite://cybercrime.sqlite")]
        store: String,
        /// The folder to write (created if missing).
        dir: PathBuf,
    },
    /// Validate a dataset folder and list every problem, each with its file, record and field.
    Check {
        /// The dataset folder (e.g. data/).
        dir: PathBuf,
    },
    /// Generate a progress report or a country brief, from the store or from a running server.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Print the SHA-256 of a token, for the tokens file.
    HashToken {
        /// The token.
        token: String,
    },
}

#[derive(Debug, Subcommand)]
enum ReportCommand {
    /// The progress report "status as at" a date, for a period.
    Progress {
        /// The report's date (YYYY-MM-DD); default: today.
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
        /// First day of the period whose activities are listed.
        #[arg(long = "from")]
        from: chrono::NaiveDate,
        /// Last day of the period; default: the report's date.
        #[arg(long = "to")]
        to: Option<chrono::NaiveDate>,
        #[command(flatten)]
        out: ReportOut,
    },
    /// A brief on one country.
    Country {
        /// ISO 3166-1 alpha-2 code, e.g. PH.
        code: String,
        /// The brief's date (YYYY-MM-DD); default: today.
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
        #[command(flatten)]
        out: ReportOut,
    },
}

#[derive(Debug, clap::Args)]
struct ReportOut {
    /// markdown, html or json.
    #[arg(long, default_value = "markdown")]
    format: String,
    /// The file to write; default: standard output.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// The store to read (ignored with --server).
    #[arg(long, env = "CYBERCRIME_STORE", default_value = "sqlite://cybercrime.sqlite")]
    store: String,
    /// Ask a running server instead, e.g. http://127.0.0.1:50051.
    #[arg(long)]
    server: Option<String>,
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Address to listen on (port 0: a free port, printed at start).
    #[arg(long, env = "CYBERCRIME_ADDR", default_value = "127.0.0.1:50051")]
    addr: SocketAddr,
    /// The store: sqlite://PATH (default) or postgres://USER@HOST/DB.
    #[arg(long, env = "CYBERCRIME_STORE", default_value = "sqlite://cybercrime.sqlite")]
    store: String,
    /// Tokens file: TOML, one `[[token]]` table per token with principal, role (reader, editor or admin) and sha256.
    #[arg(long, env = "CYBERCRIME_TOKENS")]
    tokens: Option<PathBuf>,
    /// Require a token for reads too.
    #[arg(long, env = "CYBERCRIME_REQUIRE_TOKEN_FOR_READS")]
    require_token_for_reads: bool,
    /// TLS certificate chain (PEM); with --tls-key, serves TLS only.
    #[arg(long, env = "CYBERCRIME_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, env = "CYBERCRIME_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// CA certificate clients must present certificates of (mutual TLS).
    #[arg(long, env = "CYBERCRIME_TLS_CLIENT_CA", requires = "tls_cert")]
    tls_client_ca: Option<PathBuf>,
    /// Log format: text or json.
    #[arg(long, env = "CYBERCRIME_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
    /// Longest time a request may take, in seconds.
    #[arg(long, default_value_t = 30)]
    request_timeout_secs: u64,
    /// Longest time shutdown waits for requests and streams, in seconds.
    #[arg(long, default_value_t = 5)]
    shutdown_grace_secs: u64,
    /// How often the health service checks that the store answers, in milliseconds.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(10..=60_000))]
    health_interval_ms: u64,
    /// The most watch streams (WatchTreatyActions and health Watch) open at once.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    max_watchers: u64,
    /// The most watch streams open on one connection.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    max_watchers_per_connection: u64,
    /// The most watch streams open for one principal (anonymous callers: per peer address).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    max_watchers_per_principal: u64,
    /// How long a WatchTreatyActions stream lasts at most, in seconds; it then ends with UNAVAILABLE
    /// (WATCH_EXPIRED) and the client watches again with after_sequence.
    #[arg(long, default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..=604_800))]
    max_watch_lifetime_secs: u64,
    /// The most connections open at once; beyond, new ones are closed at once (and that is logged). Default:
    /// 4096, or fewer when the file-descriptor limit (raised to its hard limit at start) is lower: that limit
    /// less 128.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    max_connections: Option<u64>,
    /// How long a new connection may take to complete its TLS handshake, or its HTTP/2 preface and first
    /// SETTINGS frame, in milliseconds; then it is closed.
    #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u64).range(10..=600_000))]
    handshake_timeout_ms: u64,
    /// HTTP/2 keepalive: a ping after this long without a frame from the client, in milliseconds.
    #[arg(long, default_value_t = 30_000, value_parser = clap::value_parser!(u64).range(10..=3_600_000))]
    keepalive_interval_ms: u64,
    /// HTTP/2 keepalive: the connection is closed when its ping is not answered within this, in milliseconds.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(10..=3_600_000))]
    keepalive_timeout_ms: u64,
}

/// The serve options alone, to give them their defaults (and environment) when no command is given.
#[derive(Debug, Parser)]
struct ServeOnly {
    #[command(flatten)]
    args: ServeArgs,
}

impl Default for ServeArgs {
    fn default() -> Self {
        ServeOnly::parse_from(["cybercrime"]).args
    }
}

fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn read_dir(dir: &std::path::Path) -> anyhow::Result<Vec<(String, String)>> {
    core_model::FILES
        .iter()
        .map(|(name, _)| {
            let path = dir.join(name);
            let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
            Ok(((*name).to_owned(), text))
        })
        .collect()
}

fn parse_dir(dir: &std::path::Path) -> anyhow::Result<core_model::Dataset> {
    let files = read_dir(dir)?;
    let borrowed: Vec<(&str, &str)> = files.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    core_model::Dataset::parse(&borrowed).map_err(|e| anyhow::anyhow!("{e}"))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None => serve(ServeArgs::default(), true).await,
        Some(Command::Serve(args)) => serve(args, false).await,
        Some(Command::Import { store, dir }) => {
            init_logging("text");
            let dataset = parse_dir(&dir)?;
            let s = storage::SqlStore::open(
                &store,
                storage::OpenOptions { load_bundled_if_empty: false, ..Default::default() },
            )
            .await?;
            use storage::Store;
            s.import(&storage::WriteContext::by("cybercrime import"), &dataset).await?;
            println!("imported {} into {store}", dir.display());
            Ok(())
        }
        Some(Command::Export { store, dir }) => {
            init_logging("text");
            let s = storage::open(&store).await?;
            let dataset = s.export().await?;
            std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
            for (name, text) in dataset.to_files() {
                std::fs::write(dir.join(&name), text).with_context(|| format!("cannot write {name}"))?;
            }
            println!("exported {store} to {}", dir.display());
            Ok(())
        }
        Some(Command::Check { dir }) => {
            let dataset = parse_dir(&dir)?;
            println!(
                "{}: valid ({} treaties, {} states, {} treaty actions, {} activities)",
                dir.display(),
                dataset.treaties.len(),
                dataset.states.len(),
                dataset.treaty_actions.len(),
                dataset.activities.len()
            );
            Ok(())
        }
        Some(Command::Report(command)) => report(command).await,
        Some(Command::HashToken { token }) => {
            println!("{}", grpc_server::auth::hash_token(&token));
            Ok(())
        }
    }
}

async fn report(command: ReportCommand) -> anyhow::Result<()> {
    use grpc_server::pb::coe::cybercrime::v1 as pb;
    let today = chrono::Utc::now().date_naive();
    let date = |d: chrono::NaiveDate| grpc_server::convert::date(d);
    let out = match &command {
        ReportCommand::Progress { out, .. } | ReportCommand::Country { out, .. } => out,
    };
    let format: reporting::Format = out.format.parse()?;
    let body = if let Some(server) = &out.server {
        let mut client = pb::report_service_client::ReportServiceClient::connect(server.clone())
            .await
            .with_context(|| format!("cannot connect to {server}"))?;
        let pb_format = match format {
            reporting::Format::Markdown => pb::ReportFormat::Markdown,
            reporting::Format::Html => pb::ReportFormat::Html,
            reporting::Format::Json => pb::ReportFormat::Json,
        } as i32;
        let mut stream = match &command {
            ReportCommand::Progress { as_of, from, to, .. } => client
                .generate_progress_report(pb::GenerateProgressReportRequest {
                    as_of: Some(date(as_of.unwrap_or(today))),
                    period_start: Some(date(*from)),
                    period_end: to.map(date),
                    format: pb_format,
                })
                .await?
                .into_inner(),
            ReportCommand::Country { code, as_of, .. } => client
                .generate_country_brief(pb::GenerateCountryBriefRequest {
                    country: format!("countries/{code}"),
                    as_of: Some(date(as_of.unwrap_or(today))),
                    format: pb_format,
                })
                .await?
                .into_inner(),
        };
        let mut bytes = Vec::new();
        while let Some(chunk) = stream.message().await? {
            bytes.extend_from_slice(&chunk.data);
        }
        String::from_utf8(bytes).context("the server sent a document that is not UTF-8")?
    } else {
        let store = storage::open(&out.store).await?;
        let dataset = store.export().await?;
        match &command {
            ReportCommand::Progress { as_of, from, to, .. } => {
                let as_of = as_of.unwrap_or(today);
                let period = reporting::Period::new(*from, to.unwrap_or(as_of))?;
                reporting::render_progress(&reporting::ProgressReport::build(&dataset, as_of, period)?, format)?.body
            }
            ReportCommand::Country { code, as_of, .. } => {
                reporting::render_brief(
                    &reporting::CountryBrief::build(&dataset, code, as_of.unwrap_or(today))?,
                    format,
                )?
                .body
            }
        }
    };
    match &out.output {
        Some(path) => std::fs::write(path, body).with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{body}"),
    }
    Ok(())
}

async fn serve(args: ServeArgs, explain: bool) -> anyhow::Result<()> {
    init_logging(&args.log_format);
    let tls = match (args.tls_cert, args.tls_key) {
        (Some(cert), Some(key)) => Some(TlsFiles { cert, key, client_ca: args.tls_client_ca }),
        _ => None,
    };
    let nofile = raise_file_limit();
    let max_connections = match args.max_connections {
        Some(n) => n as usize,
        None => nofile.map_or(4096, |n| n.saturating_sub(128).clamp(16, 4096) as usize),
    };
    let config = ServerConfig {
        addr: args.addr,
        store_url: args.store,
        tokens: args.tokens,
        require_token_for_reads: args.require_token_for_reads,
        tls,
        request_timeout: Duration::from_secs(args.request_timeout_secs),
        shutdown_grace: Duration::from_secs(args.shutdown_grace_secs),
        health_interval: Duration::from_millis(args.health_interval_ms),
        watch: WatchLimits {
            max: args.max_watchers as usize,
            per_connection: args.max_watchers_per_connection as usize,
            per_principal: args.max_watchers_per_principal as usize,
            lifetime: Duration::from_secs(args.max_watch_lifetime_secs),
        },
        connections: ConnectionLimits {
            max_connections,
            handshake_timeout: Duration::from_millis(args.handshake_timeout_ms),
        },
        keepalive_interval: Duration::from_millis(args.keepalive_interval_ms),
        keepalive_timeout: Duration::from_millis(args.keepalive_timeout_ms),
    };
    tracing::info!(file_limit = ?nofile, max_connections, "connections");
    grpc_server::server::serve(config, grpc_server::server::shutdown_signal(), |addr| {
        // The first line on stdout is the address: tests and scripts read it.
        println!("cybercrime: serving on {addr}");
        if explain {
            println!(
                "\nExplore it with grpcurl (https://github.com/fullstorydev/grpcurl):\n  \
                 grpcurl -plaintext {addr} list\n  \
                 grpcurl -plaintext {addr} describe coe.cybercrime.v1.TreatyService\n  \
                 grpcurl -plaintext -d '{{\"name\": \"treaties/185\", \"as_of\": {{\"year\": 2007, \"month\": 11, \"day\": 30}}}}' {addr} coe.cybercrime.v1.TreatyService/GetTreatyStatus\n\
                 Stop with Ctrl-C."
            );
        }
    })
    .await
}

/// Raises the soft limit on open files to the hard limit (each connection holds one; the common soft limit of
/// 1,024 is far below what the hard limit allows) and returns the limit in force, if known.
#[cfg(unix)]
fn raise_file_limit() -> Option<u64> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let current = limit.current?;
    if limit.maximum.is_none_or(|max| max > current) {
        let raised = Rlimit { current: limit.maximum.or(Some(1 << 20)), maximum: limit.maximum };
        if setrlimit(Resource::Nofile, raised).is_ok() {
            return getrlimit(Resource::Nofile).current;
        }
        tracing::warn!(soft = current, hard = ?limit.maximum, "cannot raise the limit on open files");
    }
    Some(current)
}

#[cfg(not(unix))]
fn raise_file_limit() -> Option<u64> {
    None
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cybercrime: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cybercrime: {e:#}");
            ExitCode::FAILURE
        }
    }
}
