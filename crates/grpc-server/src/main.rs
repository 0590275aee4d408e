//! The `cybercrime` command: serves the system of record over gRPC, and imports, exports and checks datasets.

// A command-line program talks to its user on stdout and stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::{net::SocketAddr, path::PathBuf, process::ExitCode, time::Duration};

use anyhow::Context;
use clap::{Parser, Subcommand};
use grpc_server::server::{ServerConfig, TlsFiles};

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
    /// Ask a running server instead, e.g. http://127.0.0.1:50051 or https://host:50051.
    #[arg(long)]
    server: Option<String>,
    /// A file holding the token to send to the server (`authorization: Bearer`); without it, the token in the
    /// environment variable CYBERCRIME_TOKEN, if set.
    #[arg(long, requires = "server")]
    token_file: Option<PathBuf>,
    /// The CA certificate (PEM) the server's certificate must be signed by (a private CA); https:// only.
    #[arg(long, requires = "server")]
    ca: Option<PathBuf>,
    /// A client certificate (PEM) to present to the server (mutual TLS), with --client-key.
    #[arg(long, requires_all = ["server", "client_key"])]
    client_cert: Option<PathBuf>,
    /// The private key (PEM) of --client-cert.
    #[arg(long, requires = "client_cert")]
    client_key: Option<PathBuf>,
    /// The largest document accepted from the server, in bytes; a larger one is an error.
    #[arg(long, default_value_t = 64 * 1024 * 1024)]
    max_bytes: u64,
}

/// The environment variable that may hold the token `cybercrime report --server` sends.
const TOKEN_ENV: &str = "CYBERCRIME_TOKEN";

impl ReportOut {
    /// The token to send, from --token-file or CYBERCRIME_TOKEN.
    fn token(&self) -> anyhow::Result<Option<String>> {
        let token = match &self.token_file {
            Some(path) => std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the token file {}", path.display()))?
                .trim()
                .to_owned(),
            None => match std::env::var(TOKEN_ENV) {
                Ok(t) => t.trim().to_owned(),
                Err(_) => return Ok(None),
            },
        };
        anyhow::ensure!(!token.is_empty(), "the token is empty");
        Ok(Some(token))
    }

    /// A channel to the server, with TLS when the address is https:// (verified with --ca when given).
    async fn channel(&self, server: &str) -> anyhow::Result<tonic::transport::Channel> {
        use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};
        let mut endpoint =
            Endpoint::from_shared(server.to_owned()).with_context(|| format!("`{server}` is not a server address"))?;
        let tls = server.starts_with("https://");
        anyhow::ensure!(
            tls || (self.ca.is_none() && self.client_cert.is_none()),
            "--ca and --client-cert need an https:// server address, not `{server}`"
        );
        if tls {
            let read = |path: &PathBuf| std::fs::read(path).with_context(|| format!("cannot read {}", path.display()));
            let mut config = ClientTlsConfig::new();
            config = match &self.ca {
                Some(ca) => config.ca_certificate(Certificate::from_pem(read(ca)?)),
                None => config.with_enabled_roots(),
            };
            if let (Some(cert), Some(key)) = (&self.client_cert, &self.client_key) {
                config = config.identity(Identity::from_pem(read(cert)?, read(key)?));
            }
            endpoint = endpoint.tls_config(config).context("TLS settings")?;
        }
        endpoint.connect().await.with_context(|| format!("cannot connect to {server}"))
    }
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
    /// The most watch streams (WatchTreatyActions) open at once.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    max_watchers: u64,

    // Reports (GenerateProgressReport, GenerateCountryBrief).
    /// The most reports generated at once; a request beyond waits --report-queue-wait-ms for a place, then gets
    /// RESOURCE_EXHAUSTED.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=64))]
    max_concurrent_reports: u64,
    /// How long a report request waits for a place among the reports being generated, in milliseconds.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(0..=60_000))]
    report_queue_wait_ms: u64,
    /// The largest report, in bytes; a larger one gets RESOURCE_EXHAUSTED.
    #[arg(long, default_value_t = 32 * 1024 * 1024, value_parser = clap::value_parser!(u64).range(1024..=1024 * 1024 * 1024))]
    max_report_bytes: u64,
    /// A report stream whose client takes no chunk for this long is ended (DEADLINE_EXCEEDED), in seconds.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    stream_send_timeout_secs: u64,
    /// The longest a report stream may stay open, read or not, in seconds.
    #[arg(long, default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    max_report_stream_secs: u64,
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
        let token = out.token()?;
        let mut client = pb::report_service_client::ReportServiceClient::new(out.channel(server).await?);
        let mut metadata = tonic::metadata::MetadataMap::new();
        if let Some(token) = &token {
            let value = format!("Bearer {token}")
                .parse()
                .map_err(|_| anyhow::anyhow!("the token is not a valid header value"))?;
            metadata.insert("authorization", value);
        }
        fn request<T>(message: T, metadata: &tonic::metadata::MetadataMap) -> tonic::Request<T> {
            let mut request = tonic::Request::new(message);
            *request.metadata_mut() = metadata.clone();
            request
        }
        let pb_format = match format {
            reporting::Format::Markdown => pb::ReportFormat::Markdown,
            reporting::Format::Html => pb::ReportFormat::Html,
            reporting::Format::Json => pb::ReportFormat::Json,
        } as i32;
        let mut stream = match &command {
            ReportCommand::Progress { as_of, from, to, .. } => client
                .generate_progress_report(request(
                    pb::GenerateProgressReportRequest {
                        as_of: Some(date(as_of.unwrap_or(today))),
                        period_start: Some(date(*from)),
                        period_end: to.map(date),
                        format: pb_format,
                    },
                    &metadata,
                ))
                .await?
                .into_inner(),
            ReportCommand::Country { code, as_of, .. } => client
                .generate_country_brief(request(
                    pb::GenerateCountryBriefRequest {
                        country: format!("countries/{code}"),
                        as_of: Some(date(as_of.unwrap_or(today))),
                        format: pb_format,
                    },
                    &metadata,
                ))
                .await?
                .into_inner(),
        };
        let mut bytes = Vec::new();
        while let Some(chunk) = stream.message().await? {
            anyhow::ensure!(
                (bytes.len() + chunk.data.len()) as u64 <= out.max_bytes,
                "the server's document is larger than {} bytes (--max-bytes): stopped reading it",
                out.max_bytes
            );
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
        // Standard output is often a terminal: no control characters (escape sequences) nor bidi overrides from
        // the data reach it. A file gets the document as generated.
        None => print!("{}", reporting::printable(&body)),
    }
    Ok(())
}

async fn serve(args: ServeArgs, explain: bool) -> anyhow::Result<()> {
    init_logging(&args.log_format);
    let tls = match (args.tls_cert, args.tls_key) {
        (Some(cert), Some(key)) => Some(TlsFiles { cert, key, client_ca: args.tls_client_ca }),
        _ => None,
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
        max_watchers: args.max_watchers as usize,
        reports: grpc_server::service::ReportLimits {
            max_concurrent: args.max_concurrent_reports as usize,
            max_document_bytes: args.max_report_bytes as usize,
            send_timeout: Duration::from_secs(args.stream_send_timeout_secs),
            max_stream_duration: Duration::from_secs(args.max_report_stream_secs),
            queue_wait: Duration::from_millis(args.report_queue_wait_ms),
        },
    };
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
