//! Where the store is (`--store`, `--store-password-file`), and the dataset folders `import`, `export` and `check`
//! read: the dataset's files and the history an export writes beside them.

use std::path::PathBuf;

use anyhow::Context;

/// Where the store is, and the password to reach it with.
#[derive(Debug, clap::Args)]
pub(crate) struct StoreArgs {
    /// The store: sqlite://PATH (default) or postgres://USER@HOST/DB. Give a PostgreSQL password with
    /// --store-password-file or PGPASSWORD (or ~/.pgpass), not in the URL: a URL on the command line shows in
    /// the process list. Logs and messages show the URL without its password.
    #[arg(long, env = "CYBERCRIME_STORE", hide_env_values = true, default_value = DEFAULT_STORE)]
    pub(crate) store: String,
    /// Create a new SQLite store (with the 2007 data) if the file does not exist. Without it, only the default
    /// store (cybercrime.sqlite) is created by `serve`, and `import` creates the store it fills; a missing file
    /// is otherwise refused, so that a mistyped path never starts a new store.
    #[arg(long)]
    pub(crate) create: bool,
    /// A file holding the PostgreSQL password (one line), for a --store URL without one.
    #[arg(long, env = "CYBERCRIME_STORE_PASSWORD_FILE")]
    store_password_file: Option<PathBuf>,
}

/// The store `serve` uses when given none, created on first run.
pub(crate) const DEFAULT_STORE: &str = "sqlite://cybercrime.sqlite";

/// Refuses a SQLite store URL whose file does not exist, unless `create`: nothing is created (no database, no
/// `-wal` or `-shm` file). PostgreSQL databases are created by their administrator, never here.
pub(crate) fn refuse_missing(url: &str, create: bool) -> anyhow::Result<()> {
    let Some(rest) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) else { return Ok(()) };
    let path = rest.split_once('?').map_or(rest, |(p, _)| p);
    if create || url == "sqlite::memory:" || path.is_empty() || std::path::Path::new(path).exists() {
        return Ok(());
    }
    anyhow::bail!("no store at {path}: the file does not exist; pass --create to create a new store there")
}

impl StoreArgs {
    /// Refuses a missing SQLite file unless `--create` is given, or the command may create one: `serve` its
    /// default store (`may_create_default`), `import` any (`may_create`).
    pub(crate) fn refuse_missing(&self, may_create_default: bool) -> anyhow::Result<()> {
        refuse_missing(&self.store, self.create || (may_create_default && self.store == DEFAULT_STORE))
    }

    /// The options to open the store with: a missing SQLite file is created only with `--create` (or
    /// `create`).
    pub(crate) fn open_options(&self, create: bool) -> storage::OpenOptions {
        storage::OpenOptions {
            load_bundled_if_empty: false,
            create_if_missing: create || self.create,
            ..Default::default()
        }
    }

    /// The URL to connect with: `--store`, with the password of `--store-password-file` when one is given.
    pub(crate) fn connect_url(&self) -> anyhow::Result<String> {
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

/// The dataset's files in `dir`; a file added after the first exports (`core_model::OPTIONAL_FILES`) may be
/// missing, and is then read as empty.
fn read_dir(dir: &std::path::Path) -> anyhow::Result<Vec<(String, String)>> {
    let mut files = Vec::new();
    for (name, _) in core_model::FILES {
        let path = dir.join(name);
        match std::fs::read_to_string(&path) {
            Ok(text) => files.push((name.to_owned(), text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && core_model::OPTIONAL_FILES.contains(&name) => {}
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }
    Ok(files)
}

/// The file of an export that holds, as stored, the records that could not be read.
pub(crate) const UNREADABLE_FILE: &str = "unreadable.jsonl";

/// `cybercrime check --store`: every stored record that cannot be read back, and every rule the readable data
/// breaks, as an import would check it.
pub(crate) async fn check_store(url: &str) -> anyhow::Result<()> {
    use storage::Store;
    refuse_missing(url, false)?;
    let shown = storage::redact_url(url);
    let options = storage::OpenOptions { load_bundled_if_empty: false, create_if_missing: false, ..Default::default() };
    let s = storage::SqlStore::open(url, options).await.with_context(|| format!("cannot open the store {shown}"))?;
    let unreadable = s.find_unreadable().await?;
    let problems = s.export().await?.validate();
    // Left as it was found: one file, its WAL checkpointed.
    s.close().await?;
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
pub(crate) fn parse_history(dir: &std::path::Path) -> anyhow::Result<storage::History> {
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

pub(crate) fn parse_dir(dir: &std::path::Path) -> anyhow::Result<core_model::Dataset> {
    let files = read_dir(dir)?;
    let borrowed: Vec<(&str, &str)> = files.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    core_model::Dataset::parse(&borrowed).map_err(|e| anyhow::anyhow!("{e}"))
}

/// `cybercrime backup`: a consistent copy of a SQLite store, taken while it may be serving, into a new file.
pub(crate) async fn backup(url: &str, to: &std::path::Path) -> anyhow::Result<()> {
    let shown = storage::redact_url(url);
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        anyhow::bail!(
            "{shown} is a PostgreSQL store: back it up with pg_dump (pg_dump --format=custom --file=FILE DATABASE) \
             and restore it with pg_restore, or use `cybercrime export` and `cybercrime import`"
        );
    }
    refuse_missing(url, false)?;
    if to.exists() {
        anyhow::bail!("{} exists already: a backup never overwrites a file; name a new one", to.display());
    }
    storage::backup(url, to).await.with_context(|| format!("cannot back up {shown} to {}", to.display()))?;
    println!("backed up {shown} to {}", to.display());
    Ok(())
}
