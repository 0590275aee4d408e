//! `cybercrime report`: a progress report or a country brief, generated from the store or asked of a running
//! server (with a token, over TLS when the address is https://).

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use reporting::pdf::Output;

#[derive(Debug, Subcommand)]
pub(crate) enum ReportCommand {
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
pub(crate) struct ReportOut {
    /// markdown, html, json or pdf (a PDF needs -o FILE, and a Chromium: --chromium, or the server's).
    #[arg(long, default_value = "markdown")]
    format: String,
    /// The file to write (replaced whole, never left half-written); default: standard output.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// The browser (a Chromium) that prints a PDF here (not with --server, where the server prints it);
    /// default: chromium, chromium-browser or google-chrome on PATH.
    #[arg(long, env = "CYBERCRIME_CHROMIUM")]
    chromium: Option<PathBuf>,
    /// The longest a PDF may take to print here, in seconds; beyond, the browser is killed.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=600))]
    pdf_timeout_secs: u64,
    /// The store to read (ignored with --server).
    #[arg(long, env = "CYBERCRIME_STORE", default_value = "sqlite://cybercrime.sqlite")]
    store: String,
    /// Create a new store (with the 2007 data) if the --store file does not exist; without it, a missing file
    /// is refused.
    #[arg(long)]
    create: bool,
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

pub(crate) async fn report(command: ReportCommand) -> anyhow::Result<()> {
    use grpc_server::pb::coe::cybercrime::v1 as pb;
    let today = chrono::Utc::now().date_naive();
    let date = |d: chrono::NaiveDate| grpc_server::convert::date(d);
    let out = match &command {
        ReportCommand::Progress { out, .. } | ReportCommand::Country { out, .. } => out,
    };
    let output: Output = out.format.parse()?;
    anyhow::ensure!(
        output != Output::Pdf || out.output.is_some(),
        "a PDF is not written to standard output: give -o FILE"
    );
    let format = output.written_as();
    let body: Vec<u8> = if let Some(server) = &out.server {
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
        let pb_format = grpc_server::convert::report::format(output) as i32;
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
        if output == Output::Pdf {
            anyhow::ensure!(bytes.starts_with(b"%PDF-"), "the server sent a document that is not a PDF");
            bytes
        } else {
            String::from_utf8(bytes).context("the server sent a document that is not UTF-8")?.into_bytes()
        }
    } else {
        super::store::refuse_missing(&out.store, out.create)?;
        let store = storage::open(&out.store).await?;
        let dataset = store.export().await?;
        // The stored records that cannot be read are left out of the dataset: the document names them.
        let unreadable: Vec<(String, String)> =
            store.find_unreadable().await?.into_iter().map(|u| (u.resource, u.reason)).collect();
        let text = match &command {
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
        };
        if output == Output::Pdf {
            let printer = reporting::pdf::Printer::new(reporting::pdf::PrinterConfig {
                browser: out.chromium.clone(),
                timeout: std::time::Duration::from_secs(out.pdf_timeout_secs),
                max_concurrent: 1,
            });
            tokio::task::spawn_blocking(move || printer.print(&text)).await??
        } else {
            text.into_bytes()
        }
    };
    match &out.output {
        Some(path) => write_atomically(path, &body)?,
        // Standard output is often a terminal: no control characters (escape sequences) nor bidi overrides from
        // the data reach it. A file gets the document as generated.
        None => print!("{}", reporting::printable(&String::from_utf8_lossy(&body))),
    }
    Ok(())
}

/// Writes `bytes` to a temporary file beside `path`, flushed to disk, then renamed over `path`: a reader (or a
/// crash) sees the old file or the whole new one, never part of it.
fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    let cannot = || format!("cannot write {}", path.display());
    let mut file = tempfile::Builder::new().prefix(".cybercrime-report-").tempfile_in(dir).with_context(cannot)?;
    file.write_all(bytes).with_context(cannot)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // A report is no secret: readable as any file the user writes (the temporary file is 0600).
        file.as_file().set_permissions(std::fs::Permissions::from_mode(0o644)).with_context(cannot)?;
    }
    file.as_file().sync_all().with_context(cannot)?;
    file.persist(path).map_err(|e| e.error).with_context(cannot)?;
    Ok(())
}
