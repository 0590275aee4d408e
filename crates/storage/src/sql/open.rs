//! Opening a store: its URL, the connection pool and SQLite's per-connection settings, the checks that the
//! database is ours and not newer than this build, the migrations, and the first load of the bundled dataset.
//!
//! Invariants: a store URL reaches a log line or a message only through [`redact_url`]; a file that is not a
//! SQLite database, a database of another application and one of a newer schema are refused before anything is
//! written to them; a store that cannot be written is refused at open, not at its first write.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex as StdMutex, RwLock},
};

use core_model::Dataset;
use sqlx::{Executor, any::AnyPoolOptions, migrate::Migrator};
use tokio::sync::{broadcast, mpsc};

use super::{
    Inner, SqlStore,
    catch_up::start_listener,
    db_error::{DbResult, error_at, poisoned},
    writer::{MAX_GROUP, writer},
};
use crate::{
    History, Result, Snapshot, StorageError, WriteContext, activity_index::ActivityIndex, quarantine::Quarantine,
    resource::Operation,
};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// The newest schema version this build knows (`meta.schema_version`).
pub const SCHEMA_VERSION: i64 = 5;
/// The application a store's `meta` table names.
const APPLICATION: &str = "coe-cybercrime-store";

/// Counts the rows of the tables an import needs empty.
pub(super) const COUNT_DATA_ROWS: &str = "SELECT (SELECT COUNT(*) FROM treaties) + (SELECT COUNT(*) FROM states) + \
                                          (SELECT COUNT(*) FROM records) + (SELECT COUNT(*) FROM activities)";

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite: one file.
    Sqlite,
    /// PostgreSQL: shared by several replicas.
    Postgres,
}

/// How to open a store.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// Load the bundled 2007 dataset when the store is empty (default: yes).
    pub load_bundled_if_empty: bool,
    /// Connections in the pool (default: 8; 1 for an in-memory SQLite database).
    pub max_connections: u32,
    /// How long a request id is kept (default: 7 days; `None`: for ever). The writer forgets older ones now and
    /// then (at most every hour, or every eighth of this): a write repeated with an id after that is a new
    /// request.
    pub request_id_ttl: Option<std::time::Duration>,
    /// Create a SQLite file that does not exist (default: yes). When not, a missing file is refused
    /// ([`StorageError::NotOurs`]) and nothing is created: no database, no `-wal` or `-shm` file.
    pub create_if_missing: bool,
}

impl OpenOptions {
    /// The default time a request id is kept: 7 days.
    pub const DEFAULT_REQUEST_ID_TTL: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            load_bundled_if_empty: true,
            max_connections: 8,
            request_id_ttl: Some(Self::DEFAULT_REQUEST_ID_TTL),
            create_if_missing: true,
        }
    }
}

/// `url` as logs and messages may show it: without a password. The password of the URL's user
/// (`scheme://user:password@host`) is removed, and so is every query parameter named like a password
/// (`?password=...`, which PostgreSQL URLs accept too). SQLite URLs (a file path, where `:` and `@` are just
/// characters) are returned unchanged.
///
/// ```
/// assert_eq!(
///     storage::redact_url("postgres://cyber:S3cret@db.example:5432/cyber?sslmode=require&password=S3cret"),
///     "postgres://cyber@db.example:5432/cyber?sslmode=require"
/// );
/// ```
pub fn redact_url(url: &str) -> String {
    if url.starts_with("sqlite:") {
        return url.to_owned();
    }
    let (before_query, query) = match url.find(['?', '#']) {
        Some(i) => url.split_at(i),
        None => (url, ""),
    };
    // The user information ends at the last `@` before the query: a password that (wrongly) holds `/` or `@`
    // unencoded is still treated as a password, never as a host or path to show.
    let mut out = match (before_query.find("://"), before_query.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let user = before_query[s + 3..at].split(':').next().unwrap_or_default();
            format!("{}{user}@{}", &before_query[..s + 3], &before_query[at + 1..])
        }
        (Some(s), _) => {
            // No `@` before the query. A `:` in the host part followed by something that is not a port means
            // a malformed URL whose password (wrongly) holds `?` or `#` unencoded: show none of it.
            let authority = before_query[s + 3..].split('/').next().unwrap_or_default();
            let host_port = authority.rsplit_once(']').map_or(authority, |(_, after)| after);
            if host_port.split_once(':').is_some_and(|(_, port)| !port.bytes().all(|b| b.is_ascii_digit())) {
                return format!("{}(a malformed URL, not shown)", &before_query[..s + 3]);
            }
            before_query.to_owned()
        }
        _ => before_query.to_owned(),
    };
    if let Some(rest) = query.strip_prefix('?') {
        let (pairs, fragment) = rest.split_once('#').map_or((rest, None), |(q, f)| (q, Some(f)));
        let kept: Vec<&str> = pairs
            .split('&')
            .filter(|pair| {
                let key = pair.split('=').next().unwrap_or_default().to_ascii_lowercase();
                !pair.is_empty() && !key.contains("password") && !key.contains("passwd")
            })
            .collect();
        if !kept.is_empty() {
            out.push('?');
            out.push_str(&kept.join("&"));
        }
        if let Some(fragment) = fragment {
            out.push('#');
            out.push_str(fragment);
        }
    } else {
        out.push_str(query);
    }
    out
}

/// A store URL, understood.
struct Target {
    backend: Backend,
    /// The URL to connect to.
    connect_url: String,
    /// A printable location, without a password (see [`redact_url`]).
    location: String,
    /// An in-memory SQLite database.
    memory: bool,
}

impl Target {
    fn parse(url: &str, create: bool) -> Result<Target> {
        if url == "sqlite::memory:" {
            return Ok(Target {
                backend: Backend::Sqlite,
                connect_url: url.to_owned(),
                location: ":memory:".to_owned(),
                memory: true,
            });
        }
        if let Some(rest) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
            if path.is_empty() {
                return Err(StorageError::BadUrl(url.to_owned()));
            }
            let mode = if create { "rwc" } else { "rw" };
            let query = if query.contains("mode=") { query.to_owned() } else { format!("mode={mode}&{query}") };
            let query = query.trim_end_matches('&');
            return Ok(Target {
                backend: Backend::Sqlite,
                connect_url: format!("sqlite://{path}?{query}"),
                location: path.to_owned(),
                memory: false,
            });
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Target {
                backend: Backend::Postgres,
                connect_url: url.to_owned(),
                location: redact_url(url),
                memory: false,
            });
        }
        Err(StorageError::BadUrl(redact_url(url)))
    }
}

/// Refuses, before SQLite touches it, a file that is not a SQLite database.
fn check_sqlite_file(path: &str) -> Result<()> {
    use std::io::Read;
    let Ok(mut file) = std::fs::File::open(path) else { return Ok(()) };
    let mut header = [0u8; 16];
    let n = file.read(&mut header).unwrap_or(0);
    if n == 0 {
        return Ok(());
    }
    if n < 16 || &header != b"SQLite format 3\0" {
        return Err(StorageError::NotOurs { location: path.to_owned(), detail: "it is not a SQLite database".into() });
    }
    Ok(())
}

/// The connection options of `url`, without sqlx's logging of every statement (an event per query on the hot
/// path; the service logs each request once itself). Slow statements are still logged, as warnings.
fn quiet(url: &str) -> Result<sqlx::any::AnyConnectOptions> {
    use sqlx::ConnectOptions;
    let options: sqlx::any::AnyConnectOptions =
        url.parse().map_err(|e: sqlx::Error| StorageError::BadUrl(format!("{}: {e}", redact_url(url))))?;
    Ok(options
        .log_statements(log::LevelFilter::Off)
        .log_slow_statements(log::LevelFilter::Warn, std::time::Duration::from_secs(1)))
}

impl SqlStore {
    /// Opens (creating or migrating) the store at `url`.
    pub async fn open(url: &str, options: OpenOptions) -> Result<SqlStore> {
        sqlx::any::install_default_drivers();
        let Target { backend, connect_url, location, memory } = Target::parse(url, options.create_if_missing)?;
        if backend == Backend::Sqlite && !memory {
            if !options.create_if_missing && !std::path::Path::new(&location).exists() {
                return Err(StorageError::NotOurs {
                    location,
                    detail: "no such file (a new store is created only when asked)".into(),
                });
            }
            check_sqlite_file(&location)?;
        }
        let max = if memory { 1 } else { options.max_connections.max(1) };
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .min_connections(u32::from(memory))
            .idle_timeout(if memory { None } else { Some(std::time::Duration::from_secs(600)) })
            .max_lifetime(if memory { None } else { Some(std::time::Duration::from_secs(3600)) })
            .acquire_timeout(std::time::Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                        conn.execute("PRAGMA synchronous = FULL").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(quiet(&connect_url)?)
            .await;
        let pool = pool.map_err(|e| error_at(&location, e))?;
        let (changes, _) = broadcast::channel(4096);
        let (writes, jobs) = mpsc::channel(4 * MAX_GROUP);
        let inner = Arc::new(Inner {
            pool,
            backend,
            location,
            snapshot: RwLock::new(Arc::new(Snapshot::new(Vec::new(), Vec::new(), Vec::new(), 0))),
            catching_up: tokio::sync::Mutex::new(()),
            changes,
            position: tokio::sync::watch::Sender::new(0),
            broadcast_seq: StdMutex::new(0),
            actions_checked_to: std::sync::atomic::AtomicI64::new(0),
            write_lock: tokio::sync::Mutex::new(()),
            writes,
            activities: RwLock::new(ActivityIndex::default()),
            catching_up_activities: tokio::sync::Mutex::new(()),
            activities_stale: std::sync::atomic::AtomicBool::new(false),
            quarantine: StdMutex::new(Quarantine::default()),
            request_id_ttl: options.request_id_ttl,
            last_pruned: StdMutex::new(None),
        });
        let writer = tokio::spawn(writer(Arc::downgrade(&inner), jobs));
        if backend == Backend::Sqlite && !memory {
            inner.use_wal().await?;
        }
        inner.migrate().await?;
        if options.load_bundled_if_empty && inner.is_empty().await? {
            inner
                .import(
                    &WriteContext::by("system"),
                    &Dataset::bundled(),
                    &History::default(),
                    Operation::LoadBundledDataset,
                )
                .await?;
        }
        inner.reload_snapshot().await?;
        inner.reload_activities().await?;
        inner.refresh_position().await?;
        for u in inner.quarantine.lock().map_err(|_| poisoned())?.all() {
            tracing::error!(
                resource = %u.resource,
                reason = %u.reason,
                "a stored record cannot be read: it is set aside (an admin can list and delete it)"
            );
        }
        let listener = if backend == Backend::Postgres {
            Some(start_listener(Arc::downgrade(&inner), &connect_url).await?)
        } else {
            None
        };
        Ok(SqlStore { inner, listener, writer })
    }
}

impl SqlStore {
    /// Closes the store at a clean shutdown: waits for the writer to finish the group it is committing (later
    /// writes fail as the store is closed), folds SQLite's write-ahead log into the database file
    /// (`PRAGMA wal_checkpoint(TRUNCATE)`), closes the pool and every connection, and makes sure the last one
    /// removed the `-wal` and `-shm` files: the store is then its one file.
    pub async fn close(&self) -> Result<()> {
        let _writing = self.inner.write_lock.lock().await;
        let result = if self.inner.backend == Backend::Sqlite && self.inner.location != ":memory:" {
            let row: std::result::Result<(i64, i64, i64), sqlx::Error> =
                sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)").fetch_one(&self.inner.pool).await;
            match row {
                Ok((0, _, _)) => Ok(()),
                Ok((busy, log, done)) => Err(StorageError::Unavailable(format!(
                    "the write-ahead log of {} could not be checkpointed whole (busy {busy}, {done} of {log} pages)",
                    self.inner.location
                ))),
                Err(e) => Err(self.inner.err(e)),
            }
        } else {
            Ok(())
        };
        self.close_pool().await;
        if self.inner.backend == Backend::Sqlite && self.inner.location != ":memory:" {
            // The last connection to close removes the `-wal` and `-shm` files, if it can lock the database
            // alone as it closes. Two connections closing at once on their own threads (an aborted task's and
            // the pool's) can each find the other still there, and then both leave the files behind, though no
            // connection is open any more. One connection of our own, opened and closed alone, then removes them.
            // (A connection whose opening was abandoned is closed by its thread a moment after the pool
            // counts it gone: if that one is last, it removes them.)
            if !self.wal_files_gone()
                && let Err(e) = self.close_alone().await
            {
                tracing::warn!(store = %self.inner.location, error = %e, "could not fold the write-ahead log in");
            }
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
            while !self.wal_files_gone() && std::time::Instant::now() < deadline {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            if !self.wal_files_gone() {
                tracing::warn!(
                    store = %self.inner.location,
                    "the write-ahead log files are still there after closing (is another process using the store?)"
                );
            }
        }
        result
    }
}

impl SqlStore {
    /// Whether the store's `-wal` and `-shm` files are gone.
    fn wal_files_gone(&self) -> bool {
        let gone = |suffix: &str| !std::path::Path::new(&format!("{}{suffix}", self.inner.location)).exists();
        gone("-wal") && gone("-shm")
    }

    /// Opens one connection to the store, outside the (closed) pool, makes it read the write-ahead log and
    /// closes it: the only connection, it folds the log into the database and removes the `-wal` and `-shm`
    /// files as it closes.
    async fn close_alone(&self) -> std::result::Result<(), sqlx::Error> {
        use sqlx::{ConnectOptions, Connection};
        let mut conn = self.inner.pool.connect_options().connect().await?;
        let checkpoint = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&mut conn).await;
        conn.close().await?;
        checkpoint.map(drop)
    }

    /// Closes the pool and every connection it holds, however late one comes back to it.
    ///
    /// sqlx 0.8's `Pool::close` can return with a connection still open: a connection handed back just before
    /// the pool is marked closed is first tested (a ping to its SQLite thread, which waits behind any statement
    /// still running there, such as an aborted task's), and only then put among the idle ones, after the close
    /// has taken the last of them. It then stays open, and a SQLite store keeps its `-wal` and `-shm` files
    /// after the process ends (`tests/faults.rs` reproduces it under load). So the pool is closed again until no
    /// connection is left: each close takes the idle ones, and none is handed back to an open pool any more.
    async fn close_pool(&self) {
        let pool = &self.inner.pool;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        pool.close().await;
        while pool.size() > 0 {
            if std::time::Instant::now() >= deadline {
                tracing::warn!(
                    store = %self.inner.location,
                    connections = pool.size(),
                    "connections of the store still open 15 s after closing it"
                );
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            pool.close().await;
        }
    }
}

/// Copies the SQLite store at `url` into a new file `to`, consistently, while it may be in use (other processes
/// writing): `VACUUM INTO` over a connection of its own reads one snapshot of the database (what every commit
/// before it wrote, nothing of a later one) and writes it as one file. Refuses an existing `to` (nothing is
/// overwritten), a store that does not exist (nothing is created) and a PostgreSQL store (use `pg_dump`).
pub async fn backup(url: &str, to: &std::path::Path) -> Result<()> {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let Target { backend, connect_url, location, memory } = Target::parse(url, false)?;
    if backend == Backend::Postgres {
        return Err(StorageError::BadUrl(format!(
            "{location}: a PostgreSQL store is backed up with pg_dump (pg_dump --format=custom), not here"
        )));
    }
    if memory {
        return Err(StorageError::BadUrl("sqlite::memory: (an in-memory store has nothing to back up)".into()));
    }
    if !std::path::Path::new(&location).exists() {
        return Err(StorageError::NotOurs { location, detail: "no such file".into() });
    }
    check_sqlite_file(&location)?;
    if to.exists() {
        return Err(StorageError::AlreadyExists { kind: "backup file", id: to.display().to_string() });
    }
    let Some(target) = to.to_str() else {
        return Err(StorageError::BadUrl(format!("{}: not a UTF-8 path", to.display())));
    };
    let mut conn =
        sqlx::AnyConnection::connect_with(&quiet(&connect_url)?).await.map_err(|e| error_at(&location, e))?;
    conn.execute("PRAGMA busy_timeout = 10000").await.map_err(|e| error_at(&location, e))?;
    let result =
        sqlx::query("VACUUM INTO $1").bind(target).execute(&mut conn).await.map_err(|e| error_at(&location, e));
    let _ = conn.close().await;
    result.map(|_| ())
}

impl Inner {
    /// Switches a SQLite file to WAL, which lets readers run beside the writer (the setting persists in the
    /// file); refuses a file that cannot be switched (it cannot be written).
    async fn use_wal(&self) -> Result<()> {
        let mode: (String,) = sqlx::query_as("PRAGMA journal_mode = WAL").fetch_one(&self.pool).await.db(self)?;
        if mode.0 != "wal" {
            return Err(StorageError::ReadOnly {
                location: self.location.clone(),
                detail: format!("cannot switch the journal to WAL (it is {})", mode.0),
            });
        }
        Ok(())
    }

    /// Checks the database is ours (or empty), migrates it, and refuses one that cannot be written.
    async fn migrate(&self) -> Result<()> {
        self.check_ours().await?;
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.pool).await.map_err(|e| match e {
            sqlx::migrate::MigrateError::VersionMissing(v) => {
                StorageError::NewerSchema { location: self.location.clone(), found: v, supported: SCHEMA_VERSION }
            }
            sqlx::migrate::MigrateError::Execute(e) => self.err(e),
            other => StorageError::Internal(format!("migration failed: {other}")),
        })?;
        let mut tx = self.pool.begin().await.db(self)?;
        sqlx::query("UPDATE meta SET value = value WHERE key = 'application'").execute(&mut *tx).await.db(self)?;
        tx.rollback().await.db(self)
    }

    /// Refuses a database that holds tables but is not a store of this system, or is of a newer schema.
    async fn check_ours(&self) -> Result<()> {
        let tables_sql = match self.backend {
            Backend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            Backend::Postgres => {
                "SELECT CAST(table_name AS TEXT) FROM information_schema.tables WHERE table_schema = current_schema()"
            }
        };
        let tables: Vec<(String,)> = sqlx::query_as(tables_sql).fetch_all(&self.pool).await.db(self)?;
        let tables: HashSet<String> = tables.into_iter().map(|t| t.0).collect();
        if tables.is_empty() {
            return Ok(());
        }
        if !tables.contains("meta") {
            let mut names: Vec<&str> = tables.iter().map(String::as_str).collect();
            names.sort_unstable();
            return Err(StorageError::NotOurs {
                location: self.location.clone(),
                detail: format!("it holds tables ({}) but no `meta` table of this system", names.join(", ")),
            });
        }
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT key, value FROM meta").fetch_all(&self.pool).await.db(self)?;
        let get = |k: &str| rows.iter().find(|r| r.0 == k).map(|r| r.1.clone());
        if get("application").as_deref() != Some(APPLICATION) {
            return Err(StorageError::NotOurs {
                location: self.location.clone(),
                detail: format!("its `meta` table names application {:?}", get("application").unwrap_or_default()),
            });
        }
        let version = get("schema_version").and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
        if version > SCHEMA_VERSION {
            return Err(StorageError::NewerSchema {
                location: self.location.clone(),
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        Ok(())
    }

    /// Whether the store holds no data yet (a new store, which the bundled dataset may be loaded into).
    async fn is_empty(&self) -> Result<bool> {
        let row: (i64,) = sqlx::query_as(COUNT_DATA_ROWS).fetch_one(&self.pool).await.db(self)?;
        Ok(row.0 == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_are_removed_from_store_urls() {
        let cases = [
            ("postgres://cyber:S3cret@db:5432/cyber", "postgres://cyber@db:5432/cyber"),
            ("postgresql://cyber:S3cret@db/cyber?sslmode=require", "postgresql://cyber@db/cyber?sslmode=require"),
            ("postgres://cyber@db/cyber?password=S3cret&sslmode=require", "postgres://cyber@db/cyber?sslmode=require"),
            ("postgres://db/cyber?PassWord=S3cret", "postgres://db/cyber"),
            ("postgres://cyber:S3c/r@t@db/cyber", "postgres://cyber@db/cyber"),
            ("postgres://cyber:S3c?ret@db/cyber", "postgres://(a malformed URL, not shown)"),
            ("postgres://cyber:S3c#ret@db/cyber", "postgres://(a malformed URL, not shown)"),
            ("mysql://root:S3cret@db/cyber", "mysql://root@db/cyber"),
            (
                "postgres://[::1]:5432/cyber?options=-c%20search_path%3Dx",
                "postgres://[::1]:5432/cyber?options=-c%20search_path%3Dx",
            ),
            ("postgres://cyber@db:5432/cyber", "postgres://cyber@db:5432/cyber"),
            ("sqlite://data/a:b@c.sqlite", "sqlite://data/a:b@c.sqlite"),
            ("sqlite::memory:", "sqlite::memory:"),
        ];
        for (url, shown) in cases {
            assert_eq!(redact_url(url), shown, "{url}");
            assert!(!redact_url(url).contains("S3c"), "{url}");
        }
    }
}
