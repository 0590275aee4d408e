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
    #[arg(long, env = "CYBERCRIME_STORE", hide_env_values = true, default_value = "sqlite://cybercrime.sqlite")]
    pub(crate) store: String,
    /// A file holding the PostgreSQL password (one line), for a --store URL without one.
    #[arg(long, env = "CYBERCRIME_STORE_PASSWORD_FILE")]
    store_password_file: Option<PathBuf>,
}

impl StoreArgs {
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
pub(crate) const UNREADABLE_FILE: &str = "unreadable.jsonl";

/// `cybercrime check --store`: every stored record that cannot be read back, and every rule the readable data
/// breaks, as an import would check it.
pub(crate) async fn check_store(url: &str) -> anyhow::Result<()> {
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
