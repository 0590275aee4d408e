//! The `cybercrime` command: serves the system of record over gRPC, and imports, exports and checks datasets.

// A command-line program talks to its user on stdout and stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::{io::IsTerminal, net::SocketAddr, path::PathBuf, process::ExitCode, time::Duration};

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
    /// Load a dataset folder (the format of data/) into an empty store, with the history an export wrote beside
    /// it (audit.jsonl, requests.jsonl, versions.toml) when present.
    Import {
        #[command(flatten)]
        store: StoreArgs,
        /// The dataset folder.
        dir: PathBuf,
    },
    /// Write everything the store holds to a folder, in the dataset's own format, with its history beside it: the
    /// audit log (audit.jsonl), the request ids (requests.jsonl) and the etags (versions.toml).
    Export {
        #[command(flatten)]
        store: StoreArgs,
        /// The folder to write (created if missing).
        dir: PathBuf,
    },
    /// Validate a dataset folder (and the history an export wrote beside it), or a store, and list every problem,
    /// each with its file, record and field; a store's check also lists every stored record that cannot be read
    /// back.
    Check {
        /// The dataset folder (e.g. data/).
        #[arg(required_unless_present = "store", conflicts_with = "store")]
        dir: Option<PathBuf>,
        /// A store to check instead (sqlite://PATH or postgres://...; a PostgreSQL password from PGPASSWORD).
        #[arg(long)]
        store: Option<String>,
    },
    /// Generate a progress report or a country brief, from the store or from a running server.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Print the SHA-256 of a token read from standard input (one line), for the tokens file.
    ///
    /// The token is read from standard input, never from the command line (where the shell's history and the
    /// process list would keep it): `cybercrime hash-token < token.txt`. It must have at least 24 characters,
    /// printable ASCII without spaces; `cybercrime new-token` makes a random one.
    HashToken {
        /// Not accepted: a token on the command line is refused (pipe it to standard input).
        #[arg(hide = true)]
        token: Option<String>,
    },
    /// Make a random 256-bit token and print it, with its `[[token]]` table for the tokens file.
    ///
    /// The first line printed is the token (64 hexadecimal digits): give it to its holder, it is kept nowhere
    /// else. Then comes the table to append to the tokens file, which holds only the token's SHA-256.
    NewToken {
        /// Whose token it is, e.g. editor@coe (what the log and the audit entries name).
        #[arg(long)]
        principal: String,
        /// Its role: reader, editor or admin.
        #[arg(long, default_value = "reader", value_parser = ["reader", "editor", "admin"])]
        role: String,
    },
}

/// Where the store is, and the password to reach it with.
#[derive(Debug, clap::Args)]
struct StoreArgs {
    /// The store: sqlite://PATH (default) or postgres://USER@HOST/DB. Give a PostgreSQL password with
    /// --store-password-file or PGPASSWORD (or ~/.pgpass), not in the URL: a URL on the command line shows in
    /// the process list. Logs and messages show the URL without its password.
    #[arg(long, env = "CYBERCRIME_STORE", hide_env_values = true, default_value = "sqlite://cybercrime.sqlite")]
    store: String,
    /// A file holding the PostgreSQL password (one line), for a --store URL without one.
    #[arg(long, env = "CYBERCRIME_STORE_PASSWORD_FILE")]
    store_password_file: Option<PathBuf>,
}

impl StoreArgs {
    /// The URL to connect with: `--store`, with the password of `--store-password-file` when one is given.
    fn connect_url(&self) -> anyhow::Result<String> {
        let Some(path) = &self.store_password_file else { return Ok(self.store.clone()) };
        let shown = storage::redact_url(&self.store);
        if !(self.store.starts_with("postgres://") || self.store.starts_with("postgresql://")) {
            anyhow::bail!("--store-password-file is for PostgreSQL stores, and {shown} is not one");
        }
        if shown != self.store {
            anyhow::bail!("the store URL {shown} holds a password already: give it in one place, the password file");
        }
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the store password file {}", path.display()))?;
        if let Some(access) = grpc_server::auth::others_access(path) {
            tracing::warn!(
                file = %path.display(),
                access,
                "the store password file is {access}: restrict it to the server's user (chmod 600)"
            );
        }
        let password = text.strip_suffix('\n').map(|p| p.strip_suffix('\r').unwrap_or(p)).unwrap_or(&text);
        if password.is_empty() || password.contains(['\n', '\r']) {
            anyhow::bail!("the store password file {} must hold one line: the password", path.display());
        }
        let encoded: String = password
            .bytes()
            .map(|b| if b.is_ascii_alphanumeric() { char::from(b).to_string() } else { format!("%{b:02X}") })
            .collect();
        let sep = if self.store.contains('?') { '&' } else { '?' };
        Ok(format!("{}{sep}password={encoded}", self.store))
    }
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
    #[command(flatten)]
    store: StoreArgs,
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
    /// CA certificate clients must present certificates of (mutual TLS). A network gate only: who calls (the
    /// principal and its role) still comes from the bearer token, and no revocation list is read.
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
    // Colours only on a terminal: a log written to a file or a pipe holds no escape sequences.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
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

/// The file of an export that holds, as stored, the records that could not be read.
const UNREADABLE_FILE: &str = "unreadable.jsonl";

/// `cybercrime check --store`: every stored record that cannot be read back, and every rule the readable data
/// breaks, as an import would check it.
async fn check_store(url: &str) -> anyhow::Result<()> {
    use storage::Store;
    let shown = storage::redact_url(url);
    let s = storage::SqlStore::open(url, storage::OpenOptions { load_bundled_if_empty: false, ..Default::default() })
        .await
        .with_context(|| format!("cannot open the store {shown}"))?;
    let unreadable = s.find_unreadable().await?;
    let problems = s.export().await?.validate();
    for u in &unreadable {
        println!("{}: cannot be read: {}", u.resource, u.reason);
    }
    for p in &problems {
        println!("{p}");
    }
    if unreadable.is_empty() && problems.is_empty() {
        println!("{shown}: every stored record reads back and the data is valid");
        Ok(())
    } else {
        anyhow::bail!(
            "{shown}: {} record(s) cannot be read, {} problem(s) in the data",
            unreadable.len(),
            problems.len()
        )
    }
}

/// The history files an export wrote beside the dataset, those present (a hand-made folder has none).
fn parse_history(dir: &std::path::Path) -> anyhow::Result<storage::History> {
    let mut files = Vec::new();
    for name in storage::History::FILES {
        let path = dir.join(name);
        match std::fs::read_to_string(&path) {
            Ok(text) => files.push((name, text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }
    let borrowed: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    storage::History::parse(&borrowed).map_err(|e| anyhow::anyhow!("{e}"))
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
            let shown = storage::redact_url(&store.store);
            let history = parse_history(&dir)?;
            let s = storage::SqlStore::open(
                &store.connect_url()?,
                storage::OpenOptions { load_bundled_if_empty: false, ..Default::default() },
            )
            .await
            .with_context(|| format!("cannot open the store {shown}"))?;
            use storage::Store;
            s.import_with_history(&storage::WriteContext::by("cybercrime import"), &dataset, &history).await?;
            println!(
                "imported {} into {shown} ({} audit entries, {} request ids, {} etags kept)",
                dir.display(),
                history.audit.len(),
                history.requests.len(),
                history.etags.len()
            );
            Ok(())
        }
        Some(Command::Export { store, dir }) => {
            init_logging("text");
            let shown = storage::redact_url(&store.store);
            let s =
                storage::open(&store.connect_url()?).await.with_context(|| format!("cannot open the store {shown}"))?;
            let (dataset, history) = s.export_with_history().await?;
            std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
            for (name, text) in dataset.to_files().into_iter().chain(history.to_files()?) {
                std::fs::write(dir.join(&name), text).with_context(|| format!("cannot write {name}"))?;
            }
            let unreadable = s.find_unreadable().await?;
            if !unreadable.is_empty() {
                // The rest is exported; what cannot be read is kept apart, as stored, and the command fails so
                // that a backup job notices.
                let lines: String = unreadable
                    .iter()
                    .map(|u| {
                        serde_json::json!({ "name": u.resource, "reason": u.reason, "stored": u.body }).to_string()
                            + "\n"
                    })
                    .collect();
                std::fs::write(dir.join(UNREADABLE_FILE), lines)
                    .with_context(|| format!("cannot write {UNREADABLE_FILE}"))?;
                anyhow::bail!(
                    "exported {shown} to {}, but {} stored record(s) cannot be read and are not in the dataset: \
                     they are in {UNREADABLE_FILE} as stored ({}); repair or delete them (AdminService, \
                     `cybercrime check --store`)",
                    dir.display(),
                    unreadable.len(),
                    unreadable.iter().map(|u| u.resource.as_str()).collect::<Vec<_>>().join(", ")
                );
            }
            println!("exported {shown} to {}", dir.display());
            Ok(())
        }
        Some(Command::Check { store: Some(store), .. }) => check_store(&store).await,
        Some(Command::Check { dir: None, store: None }) => anyhow::bail!("check needs a dataset folder or --store"),
        Some(Command::Check { dir: Some(dir), .. }) => {
            let dataset = parse_dir(&dir)?;
            let history = parse_history(&dir)?;
            history.check_names(&dataset).map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "{}: valid ({} treaties, {} states, {} treaty actions, {} activities)",
                dir.display(),
                dataset.treaties.len(),
                dataset.states.len(),
                dataset.treaty_actions.len(),
                dataset.activities.len()
            );
            if !history.is_empty() {
                println!(
                    "history: valid ({} audit entries, {} request ids, {} etags)",
                    history.audit.len(),
                    history.requests.len(),
                    history.etags.len()
                );
            }
            Ok(())
        }
        Some(Command::Report(command)) => report(command).await,
        Some(Command::HashToken { token }) => {
            if token.is_some() {
                anyhow::bail!(
                    "hash-token reads the token from standard input, not from the command line (where the shell's \
                     history and the process list keep it): `cybercrime hash-token < token.txt`, or run \
                     `cybercrime hash-token`, type the token and press Enter; `cybercrime new-token` makes a random one"
                );
            }
            let token = read_token()?;
            println!("{}", grpc_server::auth::hash_token(&token));
            Ok(())
        }
        Some(Command::NewToken { principal, role }) => {
            let mut bytes = [0u8; 32];
            getrandom::getrandom(&mut bytes).map_err(|e| anyhow::anyhow!("no random numbers from the system: {e}"))?;
            let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            println!("{token}");
            println!();
            println!("[[token]]");
            println!("principal = {}", serde_json::to_string(&principal)?);
            println!("role = \"{role}\"");
            println!("sha256 = \"{}\"", grpc_server::auth::hash_token(&token));
            eprintln!(
                "cybercrime: the first line is the token: give it to {principal}, it is kept nowhere else; append the \
                 [[token]] table to the tokens file (readable by the server's user only)"
            );
            Ok(())
        }
    }
}

/// The token of `hash-token`: one line of standard input, its line ending removed; refused when it is not fit
/// for a tokens file (too short, or holding characters an `authorization` header cannot carry as sent).
fn read_token() -> anyhow::Result<String> {
    use std::io::{BufRead, Read};
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprintln!("cybercrime: type the token and press Enter");
    }
    let mut lock = stdin.lock();
    let mut line = String::new();
    lock.read_line(&mut line).context("cannot read the token from standard input")?;
    let mut rest = String::new();
    if !stdin.is_terminal() {
        lock.read_to_string(&mut rest).context("cannot read standard input")?;
    }
    let token = line.strip_suffix('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).unwrap_or(&line);
    if !rest.is_empty() {
        anyhow::bail!("standard input holds more than one line: give the token alone, on one line");
    }
    if token.is_empty() {
        anyhow::bail!("no token on standard input: `cybercrime hash-token < token.txt`");
    }
    if let Some(c) = token.chars().find(|c| !c.is_ascii_graphic()) {
        anyhow::bail!(
            "the token holds {c:?}: a token is printable ASCII without spaces (it travels in an HTTP header, and \
             the server ignores the spaces around it)"
        );
    }
    let n = token.chars().count();
    if n < grpc_server::auth::MIN_TOKEN_CHARS {
        anyhow::bail!(
            "the token has {n} characters: a token needs at least {} (the tokens file keeps only its unsalted \
             SHA-256, which protects long random tokens only); `cybercrime new-token` makes one",
            grpc_server::auth::MIN_TOKEN_CHARS
        );
    }
    Ok(token.to_owned())
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
        let pb_format = grpc_server::convert::report::format(format) as i32;
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
                        country: format!("{}/{code}", core_model::names::COUNTRIES),
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
        // The stored records that cannot be read are left out of the dataset: the document names them.
        let unreadable: Vec<(String, String)> =
            store.find_unreadable().await?.into_iter().map(|u| (u.resource, u.reason)).collect();
        match &command {
            ReportCommand::Progress { as_of, from, to, .. } => {
                let as_of = as_of.unwrap_or(today);
                let period = reporting::Period::new(*from, to.unwrap_or(as_of))?;
                let report = reporting::ProgressReport::build(&dataset, as_of, period)?.with_unreadable(unreadable);
                reporting::render_progress(&report, format)?.body
            }
            ReportCommand::Country { code, as_of, .. } => {
                let brief =
                    reporting::CountryBrief::build(&dataset, code, as_of.unwrap_or(today))?.with_unreadable(unreadable);
                reporting::render_brief(&brief, format)?.body
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
    if args.tokens.is_some() && args.tls_cert.is_none() && !args.addr.ip().is_loopback() {
        tracing::warn!(
            addr = %args.addr,
            "tokens are in use without TLS on an address that is not a loopback address: bearer tokens travel in \
             clear text; serve TLS (--tls-cert, --tls-key) or listen on 127.0.0.1 behind a TLS proxy"
        );
    }
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
        store_url: args.store.connect_url()?,
        tokens: args.tokens,
        require_token_for_reads: args.require_token_for_reads,
        tls,
        request_timeout: Duration::from_secs(args.request_timeout_secs),
        shutdown_grace: Duration::from_secs(args.shutdown_grace_secs),
        health_interval: Duration::from_millis(args.health_interval_ms),
        reports: grpc_server::service::ReportLimits {
            max_concurrent: args.max_concurrent_reports as usize,
            max_document_bytes: args.max_report_bytes as usize,
            send_timeout: Duration::from_secs(args.stream_send_timeout_secs),
            max_stream_duration: Duration::from_secs(args.max_report_stream_secs),
            queue_wait: Duration::from_millis(args.report_queue_wait_ms),
        },
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
