//! The `cybercrime` command: serves the system of record over gRPC, and imports, exports and checks datasets.

// A command-line program talks to its user on stdout and stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod command;

use std::{io::IsTerminal, path::PathBuf, process::ExitCode};

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::command::{
    report::{ReportCommand, report},
    serve::{ServeArgs, serve},
    store::{StoreArgs, UNREADABLE_FILE, backup, check_store, parse_dir, parse_history},
    token::read_token,
};

/// `cybercrime --version`: the crate's version and the commit it was built from, e.g. `0.0.0 (835bb17 2026-12-03)`
/// (`-dirty` after the hash when tracked files had changes; `unknown` when built without git).
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("CYBERCRIME_COMMIT"), ")");

/// The system of record of the Council of Europe's Project on Cybercrime.
///
/// With no command, serves on 127.0.0.1:50051 from the SQLite file cybercrime.sqlite (created with the 2007
/// data on first run).
#[derive(Debug, Parser)]
#[command(name = "cybercrime", version = VERSION)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the gRPC API.
    Serve(Box<ServeArgs>),
    /// Load a dataset folder (the format of data/) into an empty store, with the history an export wrote beside
    /// it (audit.jsonl, requests.jsonl, versions.toml) when present. A SQLite store that does not exist is
    /// created.
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
    /// Copy a running SQLite store, consistently, into a new file (restore: serve the copy, or copy it back).
    ///
    /// The copy holds every write committed before the backup began (SQLite's `VACUUM INTO`, over a connection
    /// of its own, while the server keeps writing). An existing file is never overwritten. A PostgreSQL store is
    /// backed up with pg_dump.
    Backup {
        /// The store: sqlite://PATH.
        #[arg(long, env = "CYBERCRIME_STORE", hide_env_values = true)]
        store: String,
        /// The new file to write.
        #[arg(long)]
        to: PathBuf,
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

/// The log's writing thread, until the end of `main`: dropped, it writes every line still queued.
static LOG_WRITER: std::sync::Mutex<Option<grpc_server::log_writer::LogFlush>> = std::sync::Mutex::new(None);

/// Writes every log line still queued (at the end of `main`, before its own last words).
fn flush_log() {
    if let Ok(mut kept) = LOG_WRITER.lock() {
        drop(kept.take());
    }
}

/// Waits until every log line written so far is out (at most a second).
pub(crate) fn sync_log() {
    if let Ok(kept) = LOG_WRITER.lock()
        && let Some(flush) = kept.as_ref()
    {
        flush.sync(std::time::Duration::from_secs(1));
    }
}

pub(crate) fn init_logging(format: &str) {
    // Without an exporter, nothing can fail.
    let _ = init_logging_with(format, None);
}

/// The log on stderr (text or JSON; `RUST_LOG` filters it, `info` by default), and with `otlp` (a collector's URL)
/// the export of spans there; returns the exporter, to flush at the end. Called within the runtime.
pub(crate) fn init_logging_with(format: &str, otlp: Option<&str>) -> anyhow::Result<Option<grpc_server::otlp::Export>> {
    use grpc_server::access_line;
    use tracing_subscriber::{Layer, layer::SubscriberExt, util::SubscriberInitExt};
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    // Lines are appended to a buffer that a thread of its own writes out in batches (`log_writer`): a request's
    // worker thread neither takes stderr's lock nor makes a system call for its access log line, and none is
    // dropped.
    let (writer, flush) = grpc_server::log_writer::batched(std::io::stderr())?;
    if let Ok(mut kept) = LOG_WRITER.lock() {
        *kept = Some(flush);
    }
    // Colours only on a terminal: a log written to a file or a pipe holds no escape sequences.
    let log = tracing_subscriber::fmt::layer().with_writer(writer.clone());
    let json = format == "json";
    let ansi = !json && std::io::stderr().is_terminal();
    // The access lines written directly in the same format, and requests without a `tracing` span (their lines
    // take the request's ids from `access_line::InRequest`), unless the log is coloured or exported, or
    // `RUST_LOG` filters on spans (`[span{field}]`: it needs the request's span).
    let span_directives = std::env::var("RUST_LOG").is_ok_and(|v| v.contains('['));
    let log = if otlp.is_none() && !ansi && !span_directives {
        let format = if json { access_line::Format::Json } else { access_line::Format::Text };
        access_line::write_directly(writer, format);
        let fmt = tracing_subscriber::fmt::format();
        if json {
            log.json().event_format(access_line::InRequest::new(fmt.json(), format)).with_ansi(false).boxed()
        } else {
            log.event_format(access_line::InRequest::new(fmt, format)).with_ansi(false).boxed()
        }
    } else if json {
        log.json().with_ansi(false).boxed()
    } else {
        log.with_ansi(ansi).boxed()
    };
    let (otel, export) = match otlp {
        Some(endpoint) => {
            let (layer, export) = grpc_server::otlp::layer(endpoint)?;
            (Some(layer), Some(export))
        }
        None => (None, None),
    };
    tracing_subscriber::registry().with(log).with(otel).with(filter).init();
    Ok(export)
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None => serve(ServeArgs::default(), true).await,
        Some(Command::Serve(args)) => serve(*args, false).await,
        Some(Command::Import { store, dir }) => {
            init_logging("text");
            let dataset = parse_dir(&dir)?;
            let shown = storage::redact_url(&store.store);
            let history = parse_history(&dir)?;
            let s = storage::SqlStore::open(&store.connect_url()?, store.open_options(true))
                .await
                .with_context(|| format!("cannot open the store {shown}"))?;
            use storage::Store;
            s.import_with_history(&storage::WriteContext::by("cybercrime import"), &dataset, &history).await?;
            s.close().await?;
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
            store.refuse_missing(false)?;
            use storage::Store;
            let options = storage::OpenOptions { create_if_missing: store.create, ..Default::default() };
            let s = storage::SqlStore::open(&store.connect_url()?, options)
                .await
                .with_context(|| format!("cannot open the store {shown}"))?;
            let (dataset, history) = s.export_with_history().await?;
            std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
            for (name, text) in dataset.to_files().into_iter().chain(history.to_files()?) {
                std::fs::write(dir.join(&name), text).with_context(|| format!("cannot write {name}"))?;
            }
            let unreadable = s.find_unreadable().await?;
            s.close().await?;
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
        Some(Command::Backup { store, to }) => backup(&store, &to).await,
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

/// A `serve` option given without `serve` (`cybercrime --addr 127.0.0.1:6000`): the command line again with
/// `serve` inserted, for the hint after clap's error; `None` for any other error.
fn serve_hint(error: &clap::Error, args: &[String]) -> Option<String> {
    use clap::{
        CommandFactory,
        error::{ContextKind, ContextValue, ErrorKind},
    };
    if error.kind() != ErrorKind::UnknownArgument || !args.get(1).is_some_and(|a| a.starts_with('-')) {
        return None;
    }
    let Some(ContextValue::String(given)) = error.get(ContextKind::InvalidArg) else { return None };
    let flag = given.split_once('=').map_or(given.as_str(), |(flag, _)| flag);
    let cli = Cli::command();
    let serve = cli.find_subcommand("serve")?;
    let known = serve.get_arguments().any(|a| a.get_long().is_some_and(|long| flag == format!("--{long}")));
    // Quoted for the shell where needed, so that the hint can be pasted back.
    let quote = |a: &String| {
        if !a.is_empty() && a.chars().all(|c| c.is_ascii_alphanumeric() || "_./:=@,+-%".contains(c)) {
            a.clone()
        } else {
            format!("'{}'", a.replace('\'', r"'\''"))
        }
    };
    known.then(|| format!("cybercrime serve {}", args[1..].iter().map(quote).collect::<Vec<_>>().join(" ")))
}

/// mimalloc rather than glibc's malloc: a request allocates and frees a few dozen small blocks across the
/// runtime's threads, where glibc's arenas spent a tenth of the server's time under load (BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let args: Vec<String> = std::env::args().collect();
            let hint = serve_hint(&e, &args);
            let _ = e.print();
            if let Some(hint) = hint {
                eprintln!("\nThe server's options follow the command `serve`: did you mean `{hint}`?");
            }
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cybercrime: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli));
    drop(runtime);
    flush_log();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cybercrime: {e:#}");
            ExitCode::FAILURE
        }
    }
}
