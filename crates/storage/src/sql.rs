//! [`SqlStore`]: the [`Store`] over sqlx's `Any` driver, for SQLite and PostgreSQL alike.
//!
//! The SQL is written once, with `$n` placeholders both backends accept; the two differ only in their
//! migrations, in the per-connection settings of SQLite, and in how writers are serialised (one writer task
//! in this process, plus a transaction-scoped advisory lock on PostgreSQL for writers in other replicas).
//!
//! Writes are committed in groups: every write is sent to the store's writer task, which takes all the writes
//! waiting at that moment, runs each in a savepoint of one transaction (a write that fails is rolled back alone)
//! and commits them together, so concurrent writers share one durable commit (one `fsync` with SQLite's
//! `synchronous = FULL`). A caller is answered only after the commit.
//!
//! Two things are served from memory and kept current after each commit (and, on PostgreSQL, after each
//! notification from another replica): the [`Snapshot`] of treaties, states and treaty actions, and the
//! [`ActivityIndex`] that filtered activity lists are walked from. A point read (`get_activity`, records) and
//! `export` always ask the database.

use std::{
    collections::HashSet,
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex as StdMutex, RwLock, Weak},
};

use async_trait::async_trait;
use core_model::{
    ActionKind, Activity, CountryCode, Dataset, Filter, Region, State, Treaty, TreatyAction, TreatyNumber,
};
use serde::{Serialize, de::DeserializeOwned};
use sqlx::{
    Any, AnyPool, Executor, Row, Transaction,
    any::{AnyPoolOptions, AnyRow},
    migrate::Migrator,
};
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::{
    AuditEntry, Change, History, Page, PageRequest, Record, RecordKind, RequestEntry, Result, Snapshot, StorageError,
    Store, Versioned, WriteContext,
    activity_index::ActivityIndex,
    filter_sql,
    quarantine::{Quarantine, Unreadable, action_resource},
    record, token,
};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// The newest schema version this build knows (`meta.schema_version`).
pub const SCHEMA_VERSION: i64 = 3;
const APPLICATION: &str = "coe-cybercrime-store";
/// The PostgreSQL advisory lock that serialises writers across replicas.
const WRITE_LOCK_KEY: i64 = 0x0C0E_0185;
/// The audit operation of deleting a row that cannot be decoded.
const DELETE_UNREADABLE: &str = "delete_unreadable";

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
        }
    }
}

/// A parameter bound to a query.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Param {
    Text(String),
    OptText(Option<String>),
    Int(i64),
    Bool(bool),
}

type AnyQuery<'q> = sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>;

fn bind_all<'q>(mut q: AnyQuery<'q>, params: &'q [Param]) -> AnyQuery<'q> {
    for p in params {
        q = match p {
            Param::Text(s) => q.bind(s.as_str()),
            Param::OptText(s) => q.bind(s.as_deref()),
            Param::Int(i) => q.bind(*i),
            Param::Bool(b) => q.bind(*b),
        };
    }
    q
}

/// The store over SQLite or PostgreSQL.
#[derive(Debug)]
pub struct SqlStore {
    inner: Arc<Inner>,
    listener: Option<tokio::task::JoinHandle<()>>,
    writer: tokio::task::JoinHandle<()>,
}

#[derive(Debug)]
struct Inner {
    pool: AnyPool,
    backend: Backend,
    location: String,
    snapshot: RwLock<Arc<Snapshot>>,
    /// Serialises catching the snapshot up with the database.
    catching_up: tokio::sync::Mutex<()>,
    changes: broadcast::Sender<Change>,
    /// The last treaty action broadcast to subscribers.
    broadcast_seq: StdMutex<i64>,
    /// One writing transaction at a time in this process.
    write_lock: tokio::sync::Mutex<()>,
    /// Writes waiting for the writer task.
    writes: mpsc::Sender<Job>,
    /// Every activity, for lists.
    activities: RwLock<ActivityIndex>,
    /// Serialises catching the activity index up with the database.
    catching_up_activities: tokio::sync::Mutex<()>,
    /// The index may lack committed writes (catching up after a commit failed): the next list catches up
    /// first.
    activities_stale: std::sync::atomic::AtomicBool,
    /// Rows set aside while loading, because they cannot be decoded.
    quarantine: StdMutex<Quarantine>,
    /// How long request ids are kept, and when the writer last forgot older ones.
    request_id_ttl: Option<std::time::Duration>,
    last_pruned: StdMutex<Option<std::time::Instant>>,
}

impl Drop for SqlStore {
    fn drop(&mut self) {
        if let Some(handle) = self.listener.take() {
            handle.abort();
        }
        self.writer.abort();
    }
}

/// Classifies a database error: constraint violations, read-only, disk full, lost connections.
fn classify(e: &sqlx::Error) -> Option<&'static str> {
    match e {
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            // SQLite reports extended result codes; their low byte is the primary code.
            let sqlite_primary = code.parse::<i64>().ok().map(|c| c & 0xff);
            match (code.as_str(), sqlite_primary) {
                ("787", _) | ("23503", _) => Some("foreign-key"),
                ("2067", _) | ("1555", _) | ("23505", _) => Some("unique"),
                ("275", _) | ("23514", _) => Some("check"),
                (_, Some(8)) | ("25006", _) => Some("read-only"),
                (_, Some(13)) | ("53100", _) => Some("full"),
                (_, Some(10)) => Some("io"),
                (_, Some(26)) => Some("not-a-database"),
                (_, Some(5)) | (_, Some(6)) => Some("busy"),
                (c, _) if c.starts_with("08") || c.starts_with("57P") => Some("unavailable"),
                _ => None,
            }
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed | sqlx::Error::Tls(_) => {
            Some("unavailable")
        }
        _ => None,
    }
}

fn poisoned() -> StorageError {
    StorageError::Internal("a lock was poisoned by a panic".to_owned())
}

fn decode<T: DeserializeOwned>(body: &str) -> Result<T> {
    serde_json::from_str(body).map_err(|e| StorageError::Internal(format!("cannot decode a stored record: {e}")))
}

fn encode<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StorageError::Internal(format!("cannot encode a record: {e}")))
}

/// Encodes a record to be written, after checking that the text decodes back to an equal record: nothing is
/// committed that could not be read again.
fn encode_checked<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: &T) -> Result<String> {
    let body = encode(value)?;
    match serde_json::from_str::<T>(&body) {
        Ok(back) if &back == value => Ok(body),
        Ok(back) => Err(StorageError::Internal(format!(
            "refused to write a record that would read back differently: {value:?} would read back as {back:?}"
        ))),
        Err(e) => Err(StorageError::Internal(format!("refused to write a record that would not read back: {e}"))),
    }
}

/// A stored row decoded, or the reason it cannot be.
fn try_decode<T: DeserializeOwned>(body: &str) -> std::result::Result<T, String> {
    serde_json::from_str(body).map_err(|e| e.to_string())
}

/// The notification channel of one PostgreSQL schema (tests run in schemas of their own).
fn notify_channel(schema: &str) -> String {
    let clean: String = schema.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(40).collect();
    format!("cybercrime_{clean}")
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

/// Splits a store URL into backend, the URL to connect to, a printable location (without a password, see
/// [`redact_url`]), and whether it is in memory.
fn parse_url(url: &str) -> Result<(Backend, String, String, bool)> {
    if url == "sqlite::memory:" {
        return Ok((Backend::Sqlite, url.to_owned(), ":memory:".to_owned(), true));
    }
    if let Some(rest) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        if path.is_empty() {
            return Err(StorageError::BadUrl(url.to_owned()));
        }
        let query = if query.contains("mode=") { query.to_owned() } else { format!("mode=rwc&{query}") };
        let query = query.trim_end_matches('&');
        return Ok((Backend::Sqlite, format!("sqlite://{path}?{query}"), path.to_owned(), false));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok((Backend::Postgres, url.to_owned(), redact_url(url), false));
    }
    Err(StorageError::BadUrl(redact_url(url)))
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

fn once_key(kind: ActionKind) -> &'static str {
    if kind.is_consent() { "consent" } else { kind.noun() }
}

fn kind_name<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

fn etag_of(version: i64) -> String {
    version.to_string()
}

fn check_etag(kind: &'static str, id: &str, given: Option<&str>, current: i64) -> Result<()> {
    match given {
        Some(g) if !g.is_empty() && g != etag_of(current) => {
            Err(StorageError::EtagMismatch { kind, id: id.to_owned(), given: g.to_owned(), current: etag_of(current) })
        }
        _ => Ok(()),
    }
}

/// `ctx` with the fingerprint of the write's input (e.g. the record written and the etag given) when it has a
/// request id: a SHA-256 over the parts, each preceded by its length.
fn fingerprinted(ctx: &WriteContext, input: impl FnOnce() -> Result<Vec<String>>) -> Result<WriteContext> {
    use sha2::Digest;
    let mut ctx = ctx.clone();
    ctx.fingerprint = None;
    if ctx.request_id.is_some() {
        let mut hash = sha2::Sha256::new();
        for part in input()? {
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part.as_bytes());
        }
        ctx.fingerprint = Some(hash.finalize().iter().map(|b| format!("{b:02x}")).collect());
    }
    Ok(ctx)
}

/// What a write stores as its response, to answer a repeated request id the same way.
#[derive(Debug, Serialize, serde::Deserialize)]
struct Replay {
    etag: Option<String>,
    body: Option<String>,
}

impl Effect {
    /// A record written (created, or updated from `before`) at version `etag`.
    fn written(before: Option<String>, body: String, etag: i64) -> Effect {
        Effect {
            before,
            after: Some(body.clone()),
            replay: Replay { etag: Some(etag_of(etag)), body: Some(body) },
            treaty_action: false,
        }
    }

    /// A record deleted.
    fn deleted(before: String) -> Effect {
        Effect { before: Some(before), after: None, replay: Replay { etag: None, body: None }, treaty_action: false }
    }
}

/// The connection a group of writes runs on, inside a transaction the group begins and ends itself (so that a
/// connection whose transaction could not be ended is closed, never returned to the pool still holding it).
type Tx = sqlx::pool::PoolConnection<Any>;
/// The work of one write inside the group's transaction.
type WriteFuture<'t> = Pin<Box<dyn Future<Output = Result<Effect>> + Send + 't>>;
type WriteBody = Box<dyn for<'t> FnOnce(&'t Inner, &'t mut Tx) -> WriteFuture<'t> + Send>;

/// A write's body, as the writer task runs it (a function, so that the closure's signature is inferred).
fn body<F>(f: F) -> WriteBody
where
    F: for<'t> FnOnce(&'t Inner, &'t mut Tx) -> WriteFuture<'t> + Send + 'static,
{
    Box::new(f)
}

/// One write waiting for the writer task.
struct Job {
    ctx: WriteContext,
    operation: String,
    resource: String,
    body: WriteBody,
    reply: oneshot::Sender<Result<Replay>>,
}

/// At most this many writes share one transaction.
const MAX_GROUP: usize = 256;

/// A copy of an error that ends a whole group (the commit failed, the connection was lost), for each write.
fn for_each_write(e: &StorageError) -> StorageError {
    match e {
        StorageError::ReadOnly { location, detail } => {
            StorageError::ReadOnly { location: location.clone(), detail: detail.clone() }
        }
        StorageError::Unavailable(m) => StorageError::Unavailable(m.clone()),
        other => StorageError::Internal(other.to_string()),
    }
}

/// The writer task: takes the writes waiting, runs them as one group, answers each; ends with the store.
async fn writer(weak: Weak<Inner>, mut jobs: mpsc::Receiver<Job>) {
    while let Some(first) = jobs.recv().await {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let Some(inner) = weak.upgrade() else { break };
        inner.run_group(group).await;
    }
}

/// What a write did, for the audit log.
struct Effect {
    before: Option<String>,
    after: Option<String>,
    replay: Replay,
    /// A treaty action was inserted.
    treaty_action: bool,
}

impl SqlStore {
    /// Opens (creating or migrating) the store at `url`.
    pub async fn open(url: &str, options: OpenOptions) -> Result<SqlStore> {
        sqlx::any::install_default_drivers();
        let (backend, connect_url, location, memory) = parse_url(url)?;
        if backend == Backend::Sqlite && !memory {
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
            snapshot: RwLock::new(Arc::new(Snapshot::new(Vec::new(), Vec::new(), Vec::new(), Vec::new()))),
            catching_up: tokio::sync::Mutex::new(()),
            changes,
            broadcast_seq: StdMutex::new(0),
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
        inner.prepare(memory).await?;
        if options.load_bundled_if_empty && inner.is_empty().await? {
            inner
                .import(&WriteContext::by("system"), &Dataset::bundled(), &History::default(), "load-bundled-dataset")
                .await?;
        }
        inner.reload_snapshot().await?;
        inner.reload_activities().await?;
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

fn error_at(location: &str, e: sqlx::Error) -> StorageError {
    match classify(&e) {
        Some("read-only") => StorageError::ReadOnly { location: location.to_owned(), detail: e.to_string() },
        Some("full") => StorageError::Unavailable(format!("the disk is full: {e}")),
        Some("io") => StorageError::Unavailable(format!("the store's disk failed: {e}")),
        Some("busy") | Some("unavailable") => StorageError::Unavailable(e.to_string()),
        Some("not-a-database") => {
            StorageError::NotOurs { location: location.to_owned(), detail: "it is not a SQLite database".into() }
        }
        _ => StorageError::Internal(e.to_string()),
    }
}

async fn start_listener(weak: Weak<Inner>, url: &str) -> Result<tokio::task::JoinHandle<()>> {
    let inner = weak.upgrade().ok_or_else(poisoned)?;
    let schema: (String,) = sqlx::query_as("SELECT CAST(current_schema() AS TEXT)")
        .fetch_one(&inner.pool)
        .await
        .map_err(|e| inner.err(e))?;
    let mut listener =
        sqlx::postgres::PgListener::connect(url).await.map_err(|e| StorageError::Unavailable(e.to_string()))?;
    listener.listen(&notify_channel(&schema.0)).await.map_err(|e| StorageError::Unavailable(e.to_string()))?;
    drop(inner);
    Ok(tokio::spawn(async move {
        loop {
            match listener.try_recv().await {
                // A notification, or (None) a re-established connection after which something may have been
                // missed: either way, catch up with the database.
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "lost the notification connection; retrying");
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                }
            }
            let Some(inner) = weak.upgrade() else { break };
            if let Err(e) = inner.catch_up(true).await {
                tracing::warn!(error = %e, "could not catch up with the database");
            }
            if let Err(e) = inner.catch_up_activities().await {
                tracing::warn!(error = %e, "could not catch the activity index up");
            }
        }
    }))
}

impl Inner {
    fn err(&self, e: sqlx::Error) -> StorageError {
        error_at(&self.location, e)
    }

    fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.read().map_or_else(|p| p.into_inner().clone(), |s| s.clone())
    }

    /// Checks the database is ours (or empty), migrates it, and refuses one that cannot be written.
    async fn prepare(&self, memory: bool) -> Result<()> {
        if self.backend == Backend::Sqlite && !memory {
            // WAL lets readers run beside the writer; the setting persists in the file.
            let mode: (String,) =
                sqlx::query_as("PRAGMA journal_mode = WAL").fetch_one(&self.pool).await.map_err(|e| self.err(e))?;
            if mode.0 != "wal" {
                return Err(StorageError::ReadOnly {
                    location: self.location.clone(),
                    detail: format!("cannot switch the journal to WAL (it is {})", mode.0),
                });
            }
        }
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
        let mut tx = self.pool.begin().await.map_err(|e| self.err(e))?;
        sqlx::query("UPDATE meta SET value = value WHERE key = 'application'")
            .execute(&mut *tx)
            .await
            .map_err(|e| self.err(e))?;
        tx.rollback().await.map_err(|e| self.err(e))
    }

    async fn check_ours(&self) -> Result<()> {
        let tables_sql = match self.backend {
            Backend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            Backend::Postgres => {
                "SELECT CAST(table_name AS TEXT) FROM information_schema.tables WHERE table_schema = current_schema()"
            }
        };
        let tables: Vec<(String,)> = sqlx::query_as(tables_sql).fetch_all(&self.pool).await.map_err(|e| self.err(e))?;
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
            sqlx::query_as("SELECT key, value FROM meta").fetch_all(&self.pool).await.map_err(|e| self.err(e))?;
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

    async fn is_empty(&self) -> Result<bool> {
        let row: (i64,) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM treaties) + (SELECT COUNT(*) FROM states) + (SELECT COUNT(*) FROM records) \
             + (SELECT COUNT(*) FROM activities)",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(|e| self.err(e))?;
        Ok(row.0 == 0)
    }

    async fn reload_snapshot(&self) -> Result<()> {
        let _guard = self.catching_up.lock().await;
        let mut unreadable = std::collections::BTreeMap::new();
        let mut set_aside = |resource: String, reason: String, body: String| {
            unreadable.insert(resource.clone(), Unreadable { resource, reason, body });
        };
        let mut treaties: Vec<Treaty> = Vec::new();
        for row in sqlx::query("SELECT number, body FROM treaties ORDER BY seq")
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.err(e))?
        {
            let body: String = row.try_get(1).map_err(|e| self.err(e))?;
            match try_decode(&body) {
                Ok(t) => treaties.push(t),
                Err(reason) => set_aside(format!("treaties/{}", row.try_get::<i64, _>(0).unwrap_or(0)), reason, body),
            }
        }
        let mut states: Vec<State> = Vec::new();
        for row in sqlx::query("SELECT code, body FROM states ORDER BY seq")
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.err(e))?
        {
            let body: String = row.try_get(1).map_err(|e| self.err(e))?;
            match try_decode(&body) {
                Ok(t) => states.push(t),
                Err(reason) => {
                    set_aside(format!("countries/{}", row.try_get::<String, _>(0).unwrap_or_default()), reason, body)
                }
            }
        }
        let rows = sqlx::query("SELECT seq, treaty, body FROM treaty_actions ORDER BY seq")
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.err(e))?;
        let (mut actions, mut seqs) = (Vec::with_capacity(rows.len()), Vec::with_capacity(rows.len()));
        let mut last = 0;
        for row in &rows {
            let seq = row.try_get::<i64, _>(0).map_err(|e| self.err(e))?;
            let body: String = row.try_get(2).map_err(|e| self.err(e))?;
            last = seq;
            match try_decode::<TreatyAction>(&body) {
                Ok(a) => {
                    seqs.push(seq);
                    actions.push(a);
                }
                Err(reason) => {
                    set_aside(action_resource(row.try_get::<i64, _>(1).unwrap_or(0), seq), reason, body);
                }
            }
        }
        *self.snapshot.write().map_err(|_| poisoned())? = Arc::new(Snapshot::new(treaties, states, actions, seqs));
        self.quarantine.lock().map_err(|_| poisoned())?.snapshot = unreadable;
        let mut b = self.broadcast_seq.lock().map_err(|_| poisoned())?;
        *b = (*b).max(last);
        Ok(())
    }

    /// Appends to the snapshot the treaty actions committed since it was built (by this process or, on
    /// PostgreSQL, by another replica); with `broadcast`, sends subscribers those not sent yet, in order.
    async fn catch_up(&self, broadcast: bool) -> Result<()> {
        let _guard = self.catching_up.lock().await;
        let current = self.snapshot();
        let rows = sqlx::query("SELECT seq, treaty, body FROM treaty_actions WHERE seq > $1 ORDER BY seq")
            .bind(current.last_action_seq())
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.err(e))?;
        let mut next = (*current).clone();
        let mut added = false;
        for row in &rows {
            let seq: i64 = row.try_get(0).map_err(|e| self.err(e))?;
            let body: String = row.try_get(2).map_err(|e| self.err(e))?;
            match try_decode(&body) {
                Ok(action) => {
                    next = next.with_action(action, seq);
                    added = true;
                }
                Err(reason) => {
                    let resource = action_resource(row.try_get::<i64, _>(1).unwrap_or(0), seq);
                    let mut q = self.quarantine.lock().map_err(|_| poisoned())?;
                    q.snapshot.insert(resource.clone(), Unreadable { resource, reason, body });
                }
            }
        }
        if added {
            *self.snapshot.write().map_err(|_| poisoned())? = Arc::new(next);
        }
        if broadcast {
            let snapshot = self.snapshot();
            let mut sent = self.broadcast_seq.lock().map_err(|_| poisoned())?;
            for (seq, action) in snapshot.actions_after(*sent) {
                // Having no subscriber is not an error.
                let _ = self.changes.send(Change::TreatyActionRecorded { seq, action: action.clone() });
                *sent = seq;
            }
        }
        Ok(())
    }

    /// Rebuilds the activity index from the database.
    async fn reload_activities(&self) -> Result<()> {
        let _guard = self.catching_up_activities.lock().await;
        let rebuilt = async {
            // The audit position first: a write committed while the rows are read is read again by the next
            // catch-up.
            let (audit_seq,): (i64,) = sqlx::query_as("SELECT COALESCE(MAX(seq), 0) FROM audit")
                .fetch_one(&self.pool)
                .await
                .map_err(|e| self.err(e))?;
            let rows = sqlx::query("SELECT id, seq, etag, body FROM activities ORDER BY seq")
                .fetch_all(&self.pool)
                .await
                .map_err(|e| self.err(e))?;
            let mut entries = Vec::with_capacity(rows.len());
            let mut unreadable = std::collections::BTreeMap::new();
            for row in &rows {
                match activity_row(self, row)? {
                    Ok(activity) => {
                        entries.push((row.try_get::<i64, _>("seq").map_err(|e| self.err(e))?, activity));
                    }
                    Err(u) => {
                        unreadable.insert(u.resource.clone(), u);
                    }
                }
            }
            *self.activities.write().map_err(|_| poisoned())? = ActivityIndex::new(entries, audit_seq);
            self.quarantine.lock().map_err(|_| poisoned())?.activities = unreadable;
            Ok(())
        }
        .await;
        self.activities_stale.store(rebuilt.is_err(), std::sync::atomic::Ordering::SeqCst);
        rebuilt
    }

    /// Brings the activity index up to date with the writes committed since it last was (by this process or,
    /// on PostgreSQL, by another replica): the audit log names the activities written, which are read again
    /// (or forgotten, when deleted). A whole dataset imported rebuilds the index, and the snapshot with it.
    /// Until one succeeds after a failure, lists catch up first.
    async fn catch_up_activities(&self) -> Result<()> {
        let guard = self.catching_up_activities.lock().await;
        let outcome = self.apply_audit_tail().await;
        // Set under the lock: the flag tells of the last attempt.
        self.activities_stale.store(!matches!(outcome, Ok(false)), std::sync::atomic::Ordering::SeqCst);
        match outcome {
            Ok(false) => Ok(()),
            Ok(true) => {
                drop(guard);
                self.reload_snapshot().await?;
                self.reload_activities().await
            }
            Err(e) => Err(e),
        }
    }

    /// Applies to the index the activity writes of the audit log after its position; answers whether a whole
    /// dataset was imported instead (the index must be rebuilt).
    async fn apply_audit_tail(&self) -> Result<bool> {
        let from = self.activities.read().map_err(|_| poisoned())?.audit_seq;
        let entries: Vec<(i64, String, String)> =
            sqlx::query_as("SELECT seq, resource, operation FROM audit WHERE seq > $1 ORDER BY seq")
                .bind(from)
                .fetch_all(&self.pool)
                .await
                .map_err(|e| self.err(e))?;
        let Some(last) = entries.last().map(|e| e.0) else { return Ok(false) };
        // A whole dataset imported, or a row of the snapshot deleted: everything is loaded again.
        if entries.iter().any(|(_, resource, operation)| resource == "dataset" || operation == DELETE_UNREADABLE) {
            return Ok(true);
        }
        let ids: std::collections::BTreeSet<&str> =
            entries.iter().filter_map(|(_, resource, _)| resource.strip_prefix("activities/")).collect();
        let ids: Vec<&str> = ids.into_iter().collect();
        let mut found = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|n| format!("${n}")).collect();
            let sql = format!("SELECT id, seq, etag, body FROM activities WHERE id IN ({})", placeholders.join(", "));
            let mut query = sqlx::query(&sql);
            for id in chunk {
                query = query.bind(*id);
            }
            for row in query.fetch_all(&self.pool).await.map_err(|e| self.err(e))? {
                let seq = row.try_get::<i64, _>("seq").map_err(|e| self.err(e))?;
                found.push((seq, activity_row(self, &row)?));
            }
        }
        let mut index = self.activities.write().map_err(|_| poisoned())?;
        let mut quarantine = self.quarantine.lock().map_err(|_| poisoned())?;
        for id in &ids {
            index.remove(id);
            quarantine.activities.remove(&format!("activities/{id}"));
        }
        for (seq, activity) in found {
            match activity {
                Ok(activity) => index.put(seq, activity),
                Err(u) => {
                    quarantine.activities.insert(u.resource.clone(), u);
                }
            }
        }
        index.audit_seq = last;
        Ok(false)
    }

    /// Runs one write in the next group commit and answers once it is durable (or failed): a write whose
    /// request id was seen before for the same operation and resource gets the answer given then.
    async fn write(&self, ctx: &WriteContext, operation: &str, resource: &str, body: WriteBody) -> Result<Replay> {
        let (reply, answer) = oneshot::channel();
        let job = Job { ctx: ctx.clone(), operation: operation.to_owned(), resource: resource.to_owned(), body, reply };
        self.writes.send(job).await.map_err(|_| StorageError::Unavailable("the store is closed".into()))?;
        answer.await.map_err(|_| {
            StorageError::Unavailable(
                "the write was not done: its group's transaction failed or the store closed".into(),
            )
        })?
    }

    /// Begins the group's transaction with the database's write lock: SQLite's RESERVED lock (`BEGIN
    /// IMMEDIATE`), PostgreSQL's advisory lock shared by every replica.
    async fn begin_group(&self, conn: &mut Tx) -> Result<()> {
        match self.backend {
            Backend::Sqlite => sqlx::query("BEGIN IMMEDIATE").execute(&mut **conn).await,
            Backend::Postgres => {
                sqlx::query("BEGIN").execute(&mut **conn).await.map_err(|e| self.err(e))?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(WRITE_LOCK_KEY).execute(&mut **conn).await
            }
        }
        .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Runs a group of writes in one transaction, each in a savepoint (one write alone needs none: it fails
    /// with its transaction), commits once, and answers each write.
    async fn run_group(&self, group: Vec<Job>) {
        let _guard = self.write_lock.lock().await;
        let savepoints = group.len() > 1;
        let mut answers: Vec<(oneshot::Sender<Result<Replay>>, Result<Replay>)> = Vec::with_capacity(group.len());
        let mut treaty_action = false;
        // A write of an activity (or a whole dataset) committed: the activity index catches up.
        let mut activities_written = false;
        let mut conn = match self.pool.acquire().await {
            Ok(conn) => conn,
            Err(e) => {
                let e = self.err(e);
                tracing::warn!(error = %e, "no connection for a group of writes");
                for job in group {
                    let _ = job.reply.send(Err(for_each_write(&e)));
                }
                return;
            }
        };
        // Whether the group's transaction is open (begun, not yet committed or rolled back).
        let mut open = false;
        let fatal = async {
            let tx = &mut conn;
            self.begin_group(tx).await?;
            open = true;
            self.prune_request_ids(tx).await?;
            for job in group {
                let Job { ctx, operation, resource, body, reply } = job;
                if savepoints {
                    sqlx::query("SAVEPOINT w").execute(&mut **tx).await.map_err(|e| self.err(e))?;
                }
                let outcome = self.run_one(tx, &ctx, &operation, &resource, body).await;
                match outcome {
                    Ok((replay, action)) => {
                        treaty_action |= action;
                        activities_written |= resource.starts_with("activities/")
                            || resource == "dataset"
                            || operation == DELETE_UNREADABLE;
                        if savepoints {
                            sqlx::query("RELEASE SAVEPOINT w").execute(&mut **tx).await.map_err(|e| self.err(e))?;
                        }
                        answers.push((reply, Ok(replay)));
                    }
                    Err(e) if savepoints => {
                        // Some errors end the whole transaction on their own (SQLite rolls back on a full disk or
                        // an I/O error): then its savepoint is gone too, and the group fails with this cause.
                        let undone = async {
                            sqlx::query("ROLLBACK TO SAVEPOINT w").execute(&mut **tx).await?;
                            sqlx::query("RELEASE SAVEPOINT w").execute(&mut **tx).await
                        }
                        .await;
                        if undone.is_err() {
                            answers.push((reply, Err(for_each_write(&e))));
                            return Err(e);
                        }
                        answers.push((reply, Err(e)));
                    }
                    Err(e) => {
                        // The only write failed: nothing of it is committed.
                        answers.push((reply, Err(e)));
                        sqlx::query("ROLLBACK").execute(&mut **tx).await.map_err(|e| self.err(e))?;
                        open = false;
                        return Ok(());
                    }
                }
            }
            if answers.iter().all(|(_, a)| a.is_err()) {
                sqlx::query("ROLLBACK").execute(&mut **tx).await.map_err(|e| self.err(e))?;
                open = false;
                return Ok(());
            }
            if (treaty_action || activities_written) && self.backend == Backend::Postgres {
                let schema: (String,) = sqlx::query_as("SELECT CAST(current_schema() AS TEXT)")
                    .fetch_one(&mut **tx)
                    .await
                    .map_err(|e| self.err(e))?;
                sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(notify_channel(&schema.0))
                    .bind(if treaty_action { "treaty_actions" } else { "activities" })
                    .execute(&mut **tx)
                    .await
                    .map_err(|e| self.err(e))?;
            }
            sqlx::query("COMMIT").execute(&mut **tx).await.map_err(|e| self.err(e))?;
            open = false;
            Ok(())
        }
        .await;
        if open {
            // The group failed inside its transaction: end it here, or close the connection (which ends it)
            // rather than return it to the pool holding the write lock and an old snapshot.
            if sqlx::query("ROLLBACK").execute(&mut *conn).await.is_err() {
                let _ = conn.close().await;
            }
        } else {
            drop(conn);
        }
        if let Err(e) = fatal {
            // Nothing of the group is committed: every write that had succeeded so far fails with the cause.
            for (_, answer) in &mut answers {
                if answer.is_ok() {
                    *answer = Err(for_each_write(&e));
                }
            }
            treaty_action = false;
            activities_written = false;
            if answers.is_empty() {
                tracing::warn!(error = %e, "a group of writes failed before its first write");
            }
            // Writes not reached are answered by their dropped senders ("closed before the write was done")
            // unless answered here.
        }
        if treaty_action {
            // SQLite broadcasts here; on PostgreSQL the listener does, for this replica's writes and the others'.
            if let Err(e) = self.catch_up(self.backend == Backend::Sqlite).await {
                tracing::warn!(error = %e, "committed, but could not catch the snapshot up yet");
            }
        }
        if activities_written {
            // Before answering: a caller lists what it has just written. A list that starts meanwhile is
            // concurrent with writes not yet answered, and may miss them.
            if let Err(e) = self.catch_up_activities().await {
                tracing::warn!(error = %e, "committed, but could not catch the activity index up yet");
            }
        }
        for (reply, answer) in answers {
            // A caller that went away still had its write done.
            let _ = reply.send(answer);
        }
    }

    /// Forgets, inside the group's transaction, the request ids older than their time to live, when it is time
    /// to (at most every hour, or every eighth of that time).
    async fn prune_request_ids(&self, tx: &mut Tx) -> Result<()> {
        let Some(ttl) = self.request_id_ttl else { return Ok(()) };
        let now = std::time::Instant::now();
        {
            let mut last = self.last_pruned.lock().map_err(|_| poisoned())?;
            let every = (ttl / 8).min(std::time::Duration::from_secs(3600));
            if last.is_some_and(|at| now.duration_since(at) < every) {
                return Ok(());
            }
            *last = Some(now);
        }
        let cutoff = chrono::Utc::now() - chrono::TimeDelta::from_std(ttl).unwrap_or(chrono::TimeDelta::MAX);
        let cutoff = cutoff.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        sqlx::query("DELETE FROM requests WHERE at < $1")
            .bind(cutoff.as_str())
            .execute(&mut **tx)
            .await
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// One write of a group: its request id checked, its body, its audit entry and its request id recorded.
    /// Answers the write's replay and whether it inserted a treaty action. A request id is the principal's own:
    /// sent again with the same operation, resource and input (fingerprint) it gets the answer given then;
    /// with anything else it is refused, without naming the earlier request.
    async fn run_one(
        &self,
        tx: &mut Tx,
        ctx: &WriteContext,
        operation: &str,
        resource: &str,
        body: WriteBody,
    ) -> Result<(Replay, bool)> {
        if let Some(request_id) = &ctx.request_id {
            let seen: Option<(String, String, Option<String>, String)> = sqlx::query_as(
                "SELECT operation, resource, fingerprint, response FROM requests WHERE principal = $1 AND request_id = $2",
            )
            .bind(ctx.principal.as_str())
            .bind(request_id.as_str())
            .fetch_optional(&mut **tx)
            .await
            .map_err(|e| self.err(e))?;
            if let Some((op, res, fingerprint, response)) = seen {
                // An id recorded before schema version 3 has no fingerprint: its operation and resource decide.
                let same_input = match (&fingerprint, &ctx.fingerprint) {
                    (Some(then), Some(now)) => then == now,
                    _ => true,
                };
                if op != operation || res != resource || !same_input {
                    return Err(StorageError::RequestIdReused { request_id: request_id.clone() });
                }
                return Ok((decode(&response)?, false));
            }
        }
        let effect = body(self, tx).await?;
        let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        sqlx::query(
            "INSERT INTO audit (seq, at, principal, request_id, operation, resource, before, after) \
             VALUES ((SELECT COALESCE(MAX(seq), 0) + 1 FROM audit), $1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(at.as_str())
        .bind(ctx.principal.as_str())
        .bind(ctx.request_id.as_deref())
        .bind(operation)
        .bind(resource)
        .bind(effect.before.as_deref())
        .bind(effect.after.as_deref())
        .execute(&mut **tx)
        .await
        .map_err(|e| self.err(e))?;
        if let Some(request_id) = &ctx.request_id {
            sqlx::query(
                "INSERT INTO requests (principal, request_id, operation, resource, fingerprint, response, at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(ctx.principal.as_str())
            .bind(request_id.as_str())
            .bind(operation)
            .bind(resource)
            .bind(ctx.fingerprint.as_deref())
            .bind(encode(&effect.replay)?)
            .bind(at.as_str())
            .execute(&mut **tx)
            .await
            .map_err(|e| self.err(e))?;
        }
        Ok((effect.replay, effect.treaty_action))
    }

    async fn insert_action(&self, tx: &mut Tx, action: &TreatyAction) -> Result<i64> {
        let seq: (i64,) = sqlx::query_as("SELECT COALESCE(MAX(seq), 0) + 1 FROM treaty_actions")
            .fetch_one(&mut **tx)
            .await
            .map_err(|e| self.err(e))?;
        sqlx::query(
            "INSERT INTO treaty_actions (seq, state, treaty, kind, once_key, date_earliest, date_latest, body) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(seq.0)
        .bind(action.state.as_str())
        .bind(i64::from(action.treaty.0))
        .bind(kind_name(&action.kind))
        .bind(once_key(action.kind))
        .bind(action.date.earliest().map(|d| d.to_string()))
        .bind(action.date.latest().map(|d| d.to_string()))
        .bind(encode_checked(action)?)
        .execute(&mut **tx)
        .await
        .map_err(|e| match classify(&e) {
            Some("unique") => StorageError::AlreadyExists {
                kind: "treaty action",
                id: format!("{} {} of {}", action.state, action.kind.noun(), action.treaty),
            },
            Some("foreign-key") => StorageError::Rule(core_model::ModelError::UnknownState(action.state.clone())),
            _ => self.err(e),
        })?;
        Ok(seq.0)
    }

    /// The region an activity is listed under: its place's region, or its place's country's.
    fn region_of(&self, activity: &Activity) -> Option<Region> {
        activity.place.region.or_else(|| {
            let snapshot = self.snapshot();
            activity.place.country.as_ref().and_then(|c| snapshot.state(c).map(|s| s.region))
        })
    }

    /// Checks an activity's own rules and that every record it names exists.
    async fn check_activity(&self, tx: &mut Tx, a: &Activity) -> Result<()> {
        a.check()?;
        self.check_sources(tx, &a.source).await?;
        let snapshot = self.snapshot();
        for c in a.countries.iter().chain(a.place.country.as_ref()) {
            if snapshot.state(c).is_none() {
                return Err(core_model::ModelError::UnknownReference { kind: "state", id: c.to_string() }.into());
            }
        }
        let refs = a
            .partners
            .iter()
            .map(|p| (RecordKind::Organisation, p.organisation.as_str()))
            .chain(a.funding.iter().map(|f| (RecordKind::FundingSource, f.as_str())))
            .chain(a.plan.iter().map(|p| (RecordKind::Plan, p.as_str())));
        for (kind, id) in refs {
            let found: Option<(i64,)> = sqlx::query_as("SELECT etag FROM records WHERE kind = $1 AND id = $2")
                .bind(kind.as_str())
                .bind(id)
                .fetch_optional(&mut **tx)
                .await
                .map_err(|e| self.err(e))?;
            if found.is_none() {
                let kind = match kind {
                    RecordKind::Organisation => "organisation",
                    RecordKind::FundingSource => "funding source",
                    _ => "plan",
                };
                return Err(core_model::ModelError::UnknownReference { kind, id: id.to_owned() }.into());
            }
        }
        Ok(())
    }

    /// Checks that every document a source cites is a source document of the store (as `Dataset::validate`
    /// does), so that what is written can be exported and imported again.
    async fn check_sources(&self, tx: &mut Tx, source: &core_model::SourceRef) -> Result<()> {
        let mut documents: Vec<&str> = source.documents().collect();
        documents.sort_unstable();
        documents.dedup();
        for document in documents {
            let found: Option<(i64,)> = sqlx::query_as("SELECT etag FROM records WHERE kind = 'source' AND id = $1")
                .bind(document)
                .fetch_optional(&mut **tx)
                .await
                .map_err(|e| self.err(e))?;
            if found.is_none() {
                return Err(core_model::ModelError::UnknownReference {
                    kind: "source document",
                    id: document.to_owned(),
                }
                .into());
            }
        }
        Ok(())
    }

    /// Writes an activity's row and its references (after deleting the old ones, for an update).
    async fn put_activity(
        &self,
        tx: &mut Tx,
        a: &Activity,
        region: Option<Region>,
        etag: i64,
        new: bool,
    ) -> Result<()> {
        let start = a.start;
        let end = a.end_or_start();
        let region = region.map(|r| kind_name(&r));
        let params = [
            Param::Text(a.id.clone()),
            Param::Int(etag),
            Param::Text(kind_name(&a.status)),
            Param::Text(kind_name(&a.kind)),
            Param::Bool(a.tentative),
            Param::OptText(start.and_then(|d| d.earliest()).map(|d| d.to_string())),
            Param::OptText(start.and_then(|d| d.latest()).map(|d| d.to_string())),
            Param::OptText(end.and_then(|d| d.earliest()).map(|d| d.to_string())),
            Param::OptText(end.and_then(|d| d.latest()).map(|d| d.to_string())),
            Param::OptText(region),
            Param::OptText(a.plan.clone()),
            Param::Text(encode_checked(a)?),
        ];
        let sql = if new {
            "INSERT INTO activities (id, seq, etag, status, kind, tentative, start_earliest, start_latest, end_earliest, \
             end_latest, region, plan, body) VALUES ($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM activities), $2, $3, \
             $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        } else {
            "UPDATE activities SET etag = $2, status = $3, kind = $4, tentative = $5, start_earliest = $6, \
             start_latest = $7, end_earliest = $8, end_latest = $9, region = $10, plan = $11, body = $12 WHERE id = $1"
        };
        bind_all(sqlx::query(sql), &params).execute(&mut **tx).await.map_err(|e| match classify(&e) {
            Some("unique") => StorageError::AlreadyExists { kind: "activity", id: a.id.clone() },
            _ => self.err(e),
        })?;
        if !new {
            for table in ["activity_countries", "activity_outputs", "activity_partners", "activity_funding"] {
                sqlx::query(&format!("DELETE FROM {table} WHERE activity_id = $1"))
                    .bind(a.id.as_str())
                    .execute(&mut **tx)
                    .await
                    .map_err(|e| self.err(e))?;
            }
        }
        let mut countries: Vec<&CountryCode> = a.place.country.iter().chain(&a.countries).collect();
        countries.sort();
        countries.dedup();
        let id = a.id.as_str();
        let mut refs: Vec<(&str, Vec<Param>)> = Vec::new();
        for c in countries {
            refs.push((
                "INSERT INTO activity_countries (activity_id, country) VALUES ($1, $2)",
                vec![Param::Text(id.to_owned()), Param::Text(c.to_string())],
            ));
        }
        let mut outputs = a.outputs.clone();
        outputs.sort_unstable();
        outputs.dedup();
        for o in outputs {
            refs.push((
                "INSERT INTO activity_outputs (activity_id, output) VALUES ($1, $2)",
                vec![Param::Text(id.to_owned()), Param::Int(i64::from(o))],
            ));
        }
        let mut partners: Vec<(String, String)> =
            a.partners.iter().map(|p| (p.organisation.clone(), kind_name(&p.role))).collect();
        partners.sort();
        partners.dedup();
        for (org, role) in partners {
            refs.push((
                "INSERT INTO activity_partners (activity_id, organisation, role) VALUES ($1, $2, $3)",
                vec![Param::Text(id.to_owned()), Param::Text(org), Param::Text(role)],
            ));
        }
        let mut funding = a.funding.clone();
        funding.sort();
        funding.dedup();
        for f in funding {
            refs.push((
                "INSERT INTO activity_funding (activity_id, funding) VALUES ($1, $2)",
                vec![Param::Text(id.to_owned()), Param::Text(f)],
            ));
        }
        for (sql, params) in &refs {
            bind_all(sqlx::query(sql), params).execute(&mut **tx).await.map_err(|e| match classify(&e) {
                // A safety net: `check_activity` names the missing record first.
                Some("foreign-key") => StorageError::Rule(core_model::ModelError::UnknownReference {
                    kind: "country, organisation or funding source of an activity",
                    id: a.id.clone(),
                }),
                _ => self.err(e),
            })?;
        }
        Ok(())
    }

    async fn put_record(&self, tx: &mut Tx, r: &Record, etag: i64, new: bool) -> Result<()> {
        let kind = r.kind().as_str();
        let id = r.id();
        let result = if new {
            sqlx::query(
                "INSERT INTO records (kind, id, seq, etag, body) VALUES ($1, $2, \
                 (SELECT COALESCE(MAX(seq), 0) + 1 FROM records WHERE kind = $1), $3, $4)",
            )
            .bind(kind)
            .bind(id.as_str())
            .bind(etag)
            .bind(r.body()?)
            .execute(&mut **tx)
            .await
        } else {
            sqlx::query("UPDATE records SET etag = $3, body = $4 WHERE kind = $1 AND id = $2")
                .bind(kind)
                .bind(id.as_str())
                .bind(etag)
                .bind(r.body()?)
                .execute(&mut **tx)
                .await
        };
        result.map_err(|e| match classify(&e) {
            Some("unique") => StorageError::AlreadyExists { kind: "record", id: format!("{kind}/{id}") },
            _ => self.err(e),
        })?;
        Ok(())
    }

    /// Checks a record against every rule and reference: the records of the store (all but activities, which
    /// are checked by id) with the change applied are validated as a dataset.
    async fn check_record(
        &self,
        tx: &mut Tx,
        change: Option<&Record>,
        removed: Option<(RecordKind, &str)>,
    ) -> Result<()> {
        let rows = sqlx::query("SELECT kind, id, body FROM records ORDER BY kind, seq")
            .fetch_all(&mut **tx)
            .await
            .map_err(|e| self.err(e))?;
        let snapshot = self.snapshot();
        let mut ds = snapshot.dataset().clone();
        let replaced = change.map(|c| (c.kind(), c.id()));
        for row in &rows {
            let kind_s: String = row.try_get(0).map_err(|e| self.err(e))?;
            let id: String = row.try_get(1).map_err(|e| self.err(e))?;
            let Some(kind) = RecordKind::ALL.into_iter().find(|k| k.as_str() == kind_s) else { continue };
            if replaced.as_ref().is_some_and(|(k, i)| *k == kind && *i == id)
                || removed.is_some_and(|(k, i)| k == kind && i == id)
            {
                continue;
            }
            Record::from_body(kind, &row.try_get::<String, _>(2).map_err(|e| self.err(e))?)?.add_to(&mut ds);
        }
        if let Some(c) = change {
            c.clone().add_to(&mut ds);
        }
        // Cooperation records name activities, which are not loaded: check those ids here.
        let mut activity_ids = Vec::new();
        for c in &ds.cooperation {
            activity_ids.extend(c.activities.iter().cloned());
        }
        ds.cooperation.iter_mut().for_each(|c| c.activities.clear());
        let errors = ds.validate();
        if let Some(first) = errors.into_iter().next() {
            return Err(StorageError::Dataset(core_model::DatasetErrors(vec![first])));
        }
        for id in activity_ids {
            let found: Option<(i64,)> = sqlx::query_as("SELECT etag FROM activities WHERE id = $1")
                .bind(id.as_str())
                .fetch_optional(&mut **tx)
                .await
                .map_err(|e| self.err(e))?;
            if found.is_none() {
                return Err(core_model::ModelError::UnknownReference { kind: "activity", id }.into());
            }
        }
        Ok(())
    }

    /// Loads `dataset` into an empty store with `history` (empty for a new store): every activity and record at
    /// its etag there (1 when it names none), the audit log (at its positions, after any entry already here)
    /// and the request ids, then this import's own audit entry.
    async fn import(&self, ctx: &WriteContext, dataset: &Dataset, history: &History, operation: &str) -> Result<()> {
        let errors = dataset.validate();
        if !errors.is_empty() {
            return Err(StorageError::Dataset(core_model::DatasetErrors(errors)));
        }
        history.check_names(dataset)?;
        let summary = format!(
            "{{\"treaties\":{},\"states\":{},\"treaty_actions\":{},\"activities\":{},\"records\":{}}}",
            dataset.treaties.len(),
            dataset.states.len(),
            dataset.treaty_actions.len(),
            dataset.activities.len(),
            record::records_of(dataset).len()
        );
        let inner = self;
        let dataset = dataset.clone();
        let history = history.clone();
        inner
            .write(
                ctx,
                operation,
                "dataset",
                body(move |inner, tx| {
                    Box::pin(async move {
                        let (dataset, history) = (&dataset, &history);
                        let etag = |resource: String| history.etags.get(&resource).copied().unwrap_or(1);
                        if !inner.is_empty_tx(tx).await? {
                            return Err(StorageError::NotEmpty);
                        }
                        for (i, t) in dataset.treaties.iter().enumerate() {
                            sqlx::query("INSERT INTO treaties (number, seq, body) VALUES ($1, $2, $3)")
                                .bind(i64::from(t.number.0))
                                .bind(i as i64 + 1)
                                .bind(encode(t)?)
                                .execute(&mut **tx)
                                .await
                                .map_err(|e| inner.err(e))?;
                        }
                        for (i, s) in dataset.states.iter().enumerate() {
                            sqlx::query("INSERT INTO states (code, seq, body) VALUES ($1, $2, $3)")
                                .bind(s.code.as_str())
                                .bind(i as i64 + 1)
                                .bind(encode(s)?)
                                .execute(&mut **tx)
                                .await
                                .map_err(|e| inner.err(e))?;
                        }
                        for a in &dataset.treaty_actions {
                            inner.insert_action(tx, a).await?;
                        }
                        for r in record::records_of(dataset) {
                            inner.put_record(tx, &r, etag(format!("{}/{}", r.kind().as_str(), r.id())), true).await?;
                        }
                        let regions: std::collections::HashMap<&CountryCode, Region> =
                            dataset.states.iter().map(|s| (&s.code, s.region)).collect();
                        for a in &dataset.activities {
                            let region = a
                                .place
                                .region
                                .or_else(|| a.place.country.as_ref().and_then(|c| regions.get(c).copied()));
                            inner.put_activity(tx, a, region, etag(format!("activities/{}", a.id)), true).await?;
                        }
                        inner.insert_history(tx, history).await?;
                        Ok::<Effect, StorageError>(Effect {
                            before: None,
                            after: Some(summary.clone()),
                            replay: Replay { etag: None, body: None },
                            treaty_action: false,
                        })
                    })
                }),
            )
            .await?;
        self.reload_snapshot().await
    }

    /// Inserts an exported history's audit log (after any entry already here, keeping its positions' order and
    /// gaps) and request ids.
    async fn insert_history(&self, tx: &mut Tx, history: &History) -> Result<()> {
        let (offset,): (i64,) = sqlx::query_as("SELECT COALESCE(MAX(seq), 0) FROM audit")
            .fetch_one(&mut **tx)
            .await
            .map_err(|e| self.err(e))?;
        for e in &history.audit {
            sqlx::query(
                "INSERT INTO audit (seq, at, principal, request_id, operation, resource, before, after) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(offset + e.seq)
            .bind(e.at.as_str())
            .bind(e.principal.as_str())
            .bind(e.request_id.as_deref())
            .bind(e.operation.as_str())
            .bind(e.resource.as_str())
            .bind(e.before.as_deref())
            .bind(e.after.as_deref())
            .execute(&mut **tx)
            .await
            .map_err(|e| self.err(e))?;
        }
        for r in &history.requests {
            sqlx::query(
                "INSERT INTO requests (principal, request_id, operation, resource, fingerprint, response, at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(r.principal.as_str())
            .bind(r.request_id.as_str())
            .bind(r.operation.as_str())
            .bind(r.resource.as_str())
            .bind(r.fingerprint.as_deref())
            .bind(r.response.as_str())
            .bind(r.at.as_str())
            .execute(&mut **tx)
            .await
            .map_err(|e| match classify(&e) {
                Some("unique") => StorageError::AlreadyExists {
                    kind: "request id",
                    id: format!("{} of {}", r.request_id, r.principal),
                },
                _ => self.err(e),
            })?;
        }
        Ok(())
    }

    /// The store's history, read on `conn` (inside the export's transaction).
    async fn history(&self, conn: &mut sqlx::AnyConnection) -> Result<History> {
        let mut history = History::default();
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT id, etag FROM activities").fetch_all(&mut *conn).await.map_err(|e| self.err(e))?;
        history.etags.extend(rows.into_iter().map(|(id, etag)| (format!("activities/{id}"), etag)));
        let rows: Vec<(String, String, i64)> = sqlx::query_as("SELECT kind, id, etag FROM records")
            .fetch_all(&mut *conn)
            .await
            .map_err(|e| self.err(e))?;
        history.etags.extend(rows.into_iter().map(|(kind, id, etag)| (format!("{kind}/{id}"), etag)));
        let rows = sqlx::query(
            "SELECT seq, at, principal, request_id, operation, resource, before, after FROM audit ORDER BY seq",
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| self.err(e))?;
        history.audit = rows.iter().map(|row| audit_entry(self, row)).collect::<Result<_>>()?;
        let rows = sqlx::query(
            "SELECT principal, request_id, operation, resource, fingerprint, response, at FROM requests \
             ORDER BY at, principal, request_id",
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| self.err(e))?;
        let e = |e| self.err(e);
        for row in &rows {
            history.requests.push(RequestEntry {
                principal: row.try_get("principal").map_err(e)?,
                request_id: row.try_get("request_id").map_err(e)?,
                operation: row.try_get("operation").map_err(e)?,
                resource: row.try_get("resource").map_err(e)?,
                fingerprint: row.try_get("fingerprint").map_err(e)?,
                response: row.try_get("response").map_err(e)?,
                at: row.try_get("at").map_err(e)?,
            });
        }
        Ok(history)
    }

    /// Everything the store holds, with its history when `with_history`, read in one transaction: one
    /// consistent view even while others write.
    async fn export(&self, with_history: bool) -> Result<(Dataset, History)> {
        let inner = self;
        let mut tx = inner.pool.begin().await.map_err(|e| inner.err(e))?;
        if inner.backend == Backend::Postgres {
            // One snapshot for every statement (READ COMMITTED, the default, takes one per statement).
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                .execute(&mut *tx)
                .await
                .map_err(|e| inner.err(e))?;
        }
        let mut ds = Dataset::empty();
        async fn all<T: DeserializeOwned>(
            inner: &Inner,
            tx: &mut Transaction<'static, Any>,
            sql: &str,
        ) -> Result<Vec<T>> {
            // Rows that cannot be decoded are left out (`find_unreadable` names them).
            let rows = sqlx::query(sql).fetch_all(&mut **tx).await.map_err(|e| inner.err(e))?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                out.extend(try_decode(&r.try_get::<String, _>(0).map_err(|e| inner.err(e))?).ok());
            }
            Ok(out)
        }
        ds.treaties = all(inner, &mut tx, "SELECT body FROM treaties ORDER BY seq").await?;
        ds.states = all(inner, &mut tx, "SELECT body FROM states ORDER BY seq").await?;
        ds.treaty_actions = all(inner, &mut tx, "SELECT body FROM treaty_actions ORDER BY seq").await?;
        ds.activities = all(inner, &mut tx, "SELECT body FROM activities ORDER BY seq").await?;
        for kind in RecordKind::ALL {
            let rows = sqlx::query("SELECT body FROM records WHERE kind = $1 ORDER BY seq")
                .bind(kind.as_str())
                .fetch_all(&mut *tx)
                .await
                .map_err(|e| inner.err(e))?;
            for row in &rows {
                if let Ok(r) = Record::from_body(kind, &row.try_get::<String, _>(0).map_err(|e| inner.err(e))?) {
                    r.add_to(&mut ds);
                }
            }
        }
        let history = if with_history { inner.history(&mut tx).await? } else { History::default() };
        tx.rollback().await.map_err(|e| inner.err(e))?;
        Ok((ds, history))
    }

    async fn is_empty_tx(&self, tx: &mut Tx) -> Result<bool> {
        let row: (i64,) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM treaties) + (SELECT COUNT(*) FROM states) + (SELECT COUNT(*) FROM records) \
             + (SELECT COUNT(*) FROM activities)",
        )
        .fetch_one(&mut **tx)
        .await
        .map_err(|e| self.err(e))?;
        Ok(row.0 == 0)
    }

    async fn current_activity(&self, tx: &mut Tx, id: &str) -> Result<(i64, String)> {
        sqlx::query_as("SELECT etag, body FROM activities WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await
            .map_err(|e| self.err(e))?
            .ok_or_else(|| StorageError::NotFound { kind: "activity", id: id.to_owned() })
    }

    async fn current_record(&self, tx: &mut Tx, kind: RecordKind, id: &str) -> Result<(i64, String)> {
        sqlx::query_as("SELECT etag, body FROM records WHERE kind = $1 AND id = $2")
            .bind(kind.as_str())
            .bind(id)
            .fetch_optional(&mut **tx)
            .await
            .map_err(|e| self.err(e))?
            .ok_or_else(|| StorageError::NotFound { kind: kind.as_str(), id: id.to_owned() })
    }

    async fn page<T>(
        &self,
        sql_head: &str,
        params: Vec<Param>,
        scope: &str,
        page: &PageRequest,
        mut item: impl FnMut(&AnyRow) -> Result<T>,
    ) -> Result<Page<T>> {
        self.page_readable(sql_head, params, scope, page, |row| item(row).map(Some)).await
    }

    /// A page of rows as [`Inner::page`] reads it, without the rows `item` sets aside (`None`: rows that cannot
    /// be decoded, which lists skip and name apart).
    async fn page_readable<T>(
        &self,
        sql_head: &str,
        mut params: Vec<Param>,
        scope: &str,
        page: &PageRequest,
        mut item: impl FnMut(&AnyRow) -> Result<Option<T>>,
    ) -> Result<Page<T>> {
        let after = token::decode(scope, &page.page_token)?;
        let size = page.size() as usize;
        let n = params.len();
        let sql = format!("{sql_head} AND seq > ${} ORDER BY seq LIMIT ${}", n + 1, n + 2);
        params.push(Param::Int(after));
        params.push(Param::Int(size as i64 + 1));
        // Read until the page and one more readable item are found, or the rows end: rows set aside do not
        // shorten a page, so pages and tokens are those of a list without them.
        let mut items: Vec<(i64, T)> = Vec::with_capacity(size + 1);
        loop {
            let rows = bind_all(sqlx::query(&sql), &params).fetch_all(&self.pool).await.map_err(|e| self.err(e))?;
            let ended = rows.len() <= size;
            for row in &rows {
                let seq = row.try_get::<i64, _>("seq").map_err(|e| self.err(e))?;
                params[n] = Param::Int(seq);
                if let Some(found) = item(row)? {
                    items.push((seq, found));
                    if items.len() > size {
                        break;
                    }
                }
            }
            if ended || items.len() > size {
                break;
            }
        }
        let more = items.len() > size;
        items.truncate(size);
        let last = items.last().map_or(after, |(seq, _)| *seq);
        Ok(Page {
            items: items.into_iter().map(|(_, item)| item).collect(),
            next_page_token: if more { token::encode(scope, last) } else { String::new() },
        })
    }
}

/// An activity's row (`id`, `etag`, `body`): the activity, or what to set aside when it cannot be decoded.
fn activity_row(inner: &Inner, row: &AnyRow) -> Result<std::result::Result<Versioned<Activity>, Unreadable>> {
    let body: String = row.try_get("body").map_err(|e| inner.err(e))?;
    let etag = etag_of(row.try_get::<i64, _>("etag").map_err(|e| inner.err(e))?);
    Ok(match try_decode(&body) {
        Ok(record) => Ok(Versioned { etag, record }),
        Err(reason) => {
            let id: String = row.try_get("id").map_err(|e| inner.err(e))?;
            Err(Unreadable { resource: format!("activities/{id}"), reason, body })
        }
    })
}

fn audit_entry(inner: &Inner, row: &AnyRow) -> Result<AuditEntry> {
    let e = |e| inner.err(e);
    Ok(AuditEntry {
        seq: row.try_get("seq").map_err(e)?,
        at: row.try_get("at").map_err(e)?,
        principal: row.try_get("principal").map_err(e)?,
        request_id: row.try_get("request_id").map_err(e)?,
        operation: row.try_get("operation").map_err(e)?,
        resource: row.try_get("resource").map_err(e)?,
        before: row.try_get("before").map_err(e)?,
        after: row.try_get("after").map_err(e)?,
    })
}

fn replayed_record(kind: RecordKind, replay: Replay) -> Result<Versioned<Record>> {
    Ok(Versioned {
        etag: replay.etag.unwrap_or_default(),
        record: Record::from_body(kind, replay.body.as_deref().unwrap_or("null"))?,
    })
}

fn replayed<T: DeserializeOwned>(replay: Replay) -> Result<Versioned<T>> {
    Ok(Versioned { etag: replay.etag.unwrap_or_default(), record: decode(replay.body.as_deref().unwrap_or("null"))? })
}

#[async_trait]
impl Store for SqlStore {
    fn backend(&self) -> Backend {
        self.inner.backend
    }

    fn snapshot(&self) -> Arc<Snapshot> {
        self.inner.snapshot()
    }

    fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.inner.changes.subscribe()
    }

    async fn record_treaty_action(&self, ctx: &WriteContext, action: TreatyAction) -> Result<TreatyAction> {
        let resource =
            format!("countries/{}/treatyActions/{}/{}", action.state, action.treaty, kind_name(&action.kind));
        let ctx = &fingerprinted(ctx, || Ok(vec![encode(&action)?]))?;
        let inner = &self.inner;
        let replay = inner
            .write(
                ctx,
                "record_treaty_action",
                &resource,
                body(move |inner, tx| {
                    Box::pin(async move {
                        // Check against the actions in the database (another replica may have written since the
                        // snapshot was built), under the write lock.
                        action.check_limits()?;
                        inner.check_sources(tx, &action.source).await?;
                        let mine =
                            sqlx::query("SELECT seq, treaty, body FROM treaty_actions WHERE state = $1 ORDER BY seq")
                                .bind(action.state.as_str())
                                .fetch_all(&mut **tx)
                                .await
                                .map_err(|e| inner.err(e))?;
                        let mut view = inner.snapshot().dataset().clone();
                        view.treaty_actions.retain(|a| a.state != action.state);
                        for row in &mine {
                            // The rules need every action of the state: one that cannot be read stops this one.
                            let body: String = row.try_get(2).map_err(|e| inner.err(e))?;
                            view.treaty_actions.push(try_decode(&body).map_err(|reason| StorageError::Unreadable {
                                resource: action_resource(
                                    row.try_get::<i64, _>(1).unwrap_or(0),
                                    row.try_get::<i64, _>(0).unwrap_or(0),
                                ),
                                reason,
                            })?);
                        }
                        view.check_new_action(&action)?;
                        inner.insert_action(tx, &action).await?;
                        let body = encode(&action)?;
                        Ok::<Effect, StorageError>(Effect {
                            before: None,
                            after: Some(body.clone()),
                            replay: Replay { etag: None, body: Some(body) },
                            treaty_action: true,
                        })
                    })
                }),
            )
            .await?;
        decode(replay.body.as_deref().unwrap_or("null"))
    }

    async fn list_treaty_actions(
        &self,
        treaty: Option<TreatyNumber>,
        state: Option<&CountryCode>,
        page: &PageRequest,
    ) -> Result<Page<TreatyAction>> {
        let mut sql = "SELECT seq, body FROM treaty_actions WHERE 1 = 1".to_owned();
        let mut params = Vec::new();
        if let Some(t) = treaty {
            params.push(Param::Int(i64::from(t.0)));
            sql.push_str(&format!(" AND treaty = ${}", params.len()));
        }
        if let Some(s) = state {
            params.push(Param::Text(s.to_string()));
            sql.push_str(&format!(" AND state = ${}", params.len()));
        }
        let scope = format!("treaty_actions?{treaty:?}&{state:?}");
        let inner = &self.inner;
        inner
            .page_readable(&sql, params, &scope, page, |row| {
                Ok(try_decode(&row.try_get::<String, _>("body").map_err(|e| inner.err(e))?).ok())
            })
            .await
    }

    async fn get_activity(&self, id: &str) -> Result<Versioned<Activity>> {
        let row = sqlx::query("SELECT id, etag, body FROM activities WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.inner.pool)
            .await
            .map_err(|e| self.inner.err(e))?
            .ok_or_else(|| StorageError::NotFound { kind: "activity", id: id.to_owned() })?;
        activity_row(&self.inner, &row)?.map_err(|u| u.error())
    }

    async fn list_activities(&self, filter: &Filter, page: &PageRequest) -> Result<Page<Arc<Versioned<Activity>>>> {
        let inner = &self.inner;
        if inner.activities_stale.load(std::sync::atomic::Ordering::SeqCst) {
            inner.catch_up_activities().await?;
        }
        let snapshot = inner.snapshot();
        let region_of = |c: &CountryCode| snapshot.state(c).map(|s| s.region);
        inner.activities.read().map_err(|_| poisoned())?.list(filter, page, region_of)
    }

    async fn list_activities_from_database(
        &self,
        filter: &Filter,
        page: &PageRequest,
    ) -> Result<Page<Arc<Versioned<Activity>>>> {
        let (condition, params) = filter_sql::to_sql(filter);
        let sql = format!("SELECT id, seq, etag, body FROM activities a WHERE ({condition})");
        let scope = format!("activities?{filter}");
        let inner = &self.inner;
        inner.page_readable(&sql, params, &scope, page, |row| Ok(activity_row(inner, row)?.ok().map(Arc::new))).await
    }

    async fn create_activity(&self, ctx: &WriteContext, activity: Activity) -> Result<Versioned<Activity>> {
        let resource = format!("activities/{}", activity.id);
        let ctx = &fingerprinted(ctx, || Ok(vec![encode(&activity)?]))?;
        let inner = &self.inner;
        let replay = inner
            .write(
                ctx,
                "create",
                &resource,
                body(move |inner, tx| {
                    Box::pin(async move {
                        inner.check_activity(tx, &activity).await?;
                        inner.put_activity(tx, &activity, inner.region_of(&activity), 1, true).await?;
                        let body = encode(&activity)?;
                        Ok::<Effect, StorageError>(Effect::written(None, body, 1))
                    })
                }),
            )
            .await?;
        replayed(replay)
    }

    async fn update_activity(
        &self,
        ctx: &WriteContext,
        activity: Activity,
        etag: Option<&str>,
    ) -> Result<Versioned<Activity>> {
        let resource = format!("activities/{}", activity.id);
        let ctx = &fingerprinted(ctx, || Ok(vec![encode(&activity)?, etag.unwrap_or_default().to_owned()]))?;
        let inner = &self.inner;
        let etag = etag.map(str::to_owned);
        let replay = inner
            .write(
                ctx,
                "update",
                &resource,
                body(move |inner, tx| {
                    Box::pin(async move {
                        let etag = etag.as_deref();
                        let (current, before) = inner.current_activity(tx, &activity.id).await?;
                        check_etag("activity", &activity.id, etag, current)?;
                        inner.check_activity(tx, &activity).await?;
                        inner.put_activity(tx, &activity, inner.region_of(&activity), current + 1, false).await?;
                        let body = encode(&activity)?;
                        Ok::<Effect, StorageError>(Effect::written(Some(before), body, current + 1))
                    })
                }),
            )
            .await?;
        replayed(replay)
    }

    async fn delete_activity(&self, ctx: &WriteContext, id: &str, etag: Option<&str>) -> Result<()> {
        let resource = format!("activities/{id}");
        let ctx = &fingerprinted(ctx, || Ok(vec![etag.unwrap_or_default().to_owned()]))?;
        let inner = &self.inner;
        let (id, etag) = (id.to_owned(), etag.map(str::to_owned));
        inner
            .write(
                ctx,
                "delete",
                &resource,
                body(move |inner, tx| {
                    Box::pin(async move {
                        let (id, etag) = (id.as_str(), etag.as_deref());
                        let (current, before) = inner.current_activity(tx, id).await?;
                        check_etag("activity", id, etag, current)?;
                        let referenced: Vec<(String,)> =
                            sqlx::query_as("SELECT id, body FROM records WHERE kind = 'cooperation'")
                                .fetch_all(&mut **tx)
                                .await
                                .map_err(|e| inner.err(e))?
                                .into_iter()
                                .map(|r: (String, String)| (r.1,))
                                .filter(|(body,)| {
                                    serde_json::from_str::<core_model::CooperationRecord>(body)
                                        .is_ok_and(|c| c.activities.iter().any(|a| a == id))
                                })
                                .collect();
                        if !referenced.is_empty() {
                            return Err(StorageError::StillReferenced {
                                kind: "activity",
                                id: id.to_owned(),
                                detail: "named by a cooperation record".to_owned(),
                            });
                        }
                        sqlx::query("DELETE FROM activities WHERE id = $1")
                            .bind(id)
                            .execute(&mut **tx)
                            .await
                            .map_err(|e| inner.err(e))?;
                        Ok::<Effect, StorageError>(Effect::deleted(before))
                    })
                }),
            )
            .await?;
        Ok(())
    }

    async fn get_record(&self, kind: RecordKind, id: &str) -> Result<Versioned<Record>> {
        let row: (i64, String) = sqlx::query_as("SELECT etag, body FROM records WHERE kind = $1 AND id = $2")
            .bind(kind.as_str())
            .bind(id)
            .fetch_optional(&self.inner.pool)
            .await
            .map_err(|e| self.inner.err(e))?
            .ok_or_else(|| StorageError::NotFound { kind: kind.as_str(), id: id.to_owned() })?;
        let record = Record::from_body(kind, &row.1).map_err(|e| StorageError::Unreadable {
            resource: format!("records/{}/{id}", kind.as_str()),
            reason: e.to_string(),
        })?;
        Ok(Versioned { etag: etag_of(row.0), record })
    }

    async fn list_records(&self, kind: RecordKind, page: &PageRequest) -> Result<Page<Versioned<Record>>> {
        let inner = &self.inner;
        inner
            .page_readable(
                "SELECT seq, etag, body FROM records WHERE kind = $1",
                vec![Param::Text(kind.as_str().to_owned())],
                &format!("records/{}", kind.as_str()),
                page,
                |row| {
                    let body: String = row.try_get("body").map_err(|e| inner.err(e))?;
                    // A record that cannot be decoded is skipped here and named by `find_unreadable`.
                    Ok(Record::from_body(kind, &body)
                        .ok()
                        .map(|record| Versioned { etag: etag_of(row.try_get::<i64, _>("etag").unwrap_or(0)), record }))
                },
            )
            .await
    }

    async fn create_record(&self, ctx: &WriteContext, record: Record) -> Result<Versioned<Record>> {
        let (kind, id) = (record.kind(), record.id());
        let resource = format!("{}/{id}", kind.as_str());
        let ctx = &fingerprinted(ctx, || Ok(vec![record.body()?]))?;
        let inner = &self.inner;
        let replay = inner
            .write(
                ctx,
                "create",
                &resource,
                body(move |inner, tx| {
                    Box::pin(async move {
                        if inner.current_record(tx, kind, &id).await.is_ok() {
                            return Err(StorageError::AlreadyExists { kind: kind.as_str(), id: id.clone() });
                        }
                        inner.check_record(tx, Some(&record), None).await?;
                        inner.put_record(tx, &record, 1, true).await?;
                        let body = record.body()?;
                        Ok::<Effect, StorageError>(Effect::written(None, body, 1))
                    })
                }),
            )
            .await?;
        replayed_record(kind, replay)
    }

    async fn update_record(&self, ctx: &WriteContext, record: Record, etag: Option<&str>) -> Result<Versioned<Record>> {
        let (kind, id) = (record.kind(), record.id());
        let resource = format!("{}/{id}", kind.as_str());
        let ctx = &fingerprinted(ctx, || Ok(vec![record.body()?, etag.unwrap_or_default().to_owned()]))?;
        let inner = &self.inner;
        let etag = etag.map(str::to_owned);
        let replay = inner
            .write(
                ctx,
                "update",
                &resource,
                body(move |inner, tx| {
                    Box::pin(async move {
                        let etag = etag.as_deref();
                        let (current, before) = inner.current_record(tx, kind, &id).await?;
                        check_etag(kind.as_str(), &id, etag, current)?;
                        inner.check_record(tx, Some(&record), None).await?;
                        inner.put_record(tx, &record, current + 1, false).await?;
                        let body = record.body()?;
                        Ok::<Effect, StorageError>(Effect::written(Some(before), body, current + 1))
                    })
                }),
            )
            .await?;
        replayed_record(kind, replay)
    }

    async fn delete_record(&self, ctx: &WriteContext, kind: RecordKind, id: &str, etag: Option<&str>) -> Result<()> {
        let resource = format!("{}/{id}", kind.as_str());
        let ctx = &fingerprinted(ctx, || Ok(vec![etag.unwrap_or_default().to_owned()]))?;
        let inner = &self.inner;
        let (id, etag) = (id.to_owned(), etag.map(str::to_owned));
        inner
            .write(
                ctx,
                "delete",
                &resource,
                body(move |inner, tx| {
                    Box::pin(async move {
                        let (id, etag) = (id.as_str(), etag.as_deref());
                        let (current, before) = inner.current_record(tx, kind, id).await?;
                        check_etag(kind.as_str(), id, etag, current)?;
                        inner.check_record(tx, None, Some((kind, id))).await.map_err(|e| match e {
                            StorageError::Dataset(d) => StorageError::StillReferenced {
                                kind: kind.as_str(),
                                id: id.to_owned(),
                                detail: d.0.first().map(|e| e.to_string()).unwrap_or_default(),
                            },
                            other => other,
                        })?;
                        sqlx::query("DELETE FROM records WHERE kind = $1 AND id = $2")
                            .bind(kind.as_str())
                            .bind(id)
                            .execute(&mut **tx)
                            .await
                            .map_err(|e| match classify(&e) {
                                Some("foreign-key") => StorageError::StillReferenced {
                                    kind: kind.as_str(),
                                    id: id.to_owned(),
                                    detail: "named by an activity".to_owned(),
                                },
                                _ => inner.err(e),
                            })?;
                        Ok::<Effect, StorageError>(Effect::deleted(before))
                    })
                }),
            )
            .await?;
        Ok(())
    }

    async fn export(&self) -> Result<Dataset> {
        Ok(self.inner.export(false).await?.0)
    }

    async fn export_with_history(&self) -> Result<(Dataset, History)> {
        self.inner.export(true).await
    }

    async fn import(&self, ctx: &WriteContext, dataset: &Dataset) -> Result<()> {
        self.inner.import(ctx, dataset, &History::default(), "import").await
    }

    async fn import_with_history(&self, ctx: &WriteContext, dataset: &Dataset, history: &History) -> Result<()> {
        self.inner.import(ctx, dataset, history, "import").await
    }

    async fn audit_log(&self, page: &PageRequest) -> Result<Page<AuditEntry>> {
        let inner = &self.inner;
        inner
            .page(
                "SELECT seq, at, principal, request_id, operation, resource, before, after FROM audit WHERE 1 = 1",
                Vec::new(),
                "audit",
                page,
                |row| audit_entry(inner, row),
            )
            .await
    }

    fn unreadable(&self) -> Vec<Unreadable> {
        self.inner.quarantine.lock().map(|q| q.all()).unwrap_or_default()
    }

    async fn find_unreadable(&self) -> Result<Vec<Unreadable>> {
        let inner = &self.inner;
        let rows = |sql: &'static str| async move {
            let rows: Vec<(String, String)> =
                sqlx::query_as(sql).fetch_all(&inner.pool).await.map_err(|e| inner.err(e))?;
            Ok::<_, StorageError>(rows)
        };
        let mut found = Vec::new();
        let mut check = |resource: String, body: String, reason: Option<String>| {
            if let Some(reason) = reason {
                found.push(Unreadable { resource, reason, body });
            }
        };
        for (key, body) in rows("SELECT CAST(number AS TEXT), body FROM treaties ORDER BY seq").await? {
            let reason = try_decode::<Treaty>(&body).err();
            check(format!("treaties/{key}"), body, reason);
        }
        for (key, body) in rows("SELECT code, body FROM states ORDER BY seq").await? {
            let reason = try_decode::<State>(&body).err();
            check(format!("countries/{key}"), body, reason);
        }
        for (key, body) in rows(
            "SELECT CAST(treaty AS TEXT) || '/actions/' || CAST(seq AS TEXT), body FROM treaty_actions ORDER BY seq",
        )
        .await?
        {
            let reason = try_decode::<TreatyAction>(&body).err();
            check(format!("treaties/{key}"), body, reason);
        }
        for (key, body) in rows("SELECT id, body FROM activities ORDER BY seq").await? {
            let reason = try_decode::<Activity>(&body).err();
            check(format!("activities/{key}"), body, reason);
        }
        let records: Vec<(String, String, String)> =
            sqlx::query_as("SELECT kind, id, body FROM records ORDER BY kind, seq")
                .fetch_all(&inner.pool)
                .await
                .map_err(|e| inner.err(e))?;
        for (kind_name, id, body) in records {
            let reason = match RecordKind::ALL.iter().find(|k| k.as_str() == kind_name) {
                Some(kind) => Record::from_body(*kind, &body).err().map(|e| match e {
                    // The decoder's own words, as for the other tables.
                    StorageError::Internal(m) => m.trim_start_matches("cannot decode a stored record: ").to_owned(),
                    other => other.to_string(),
                }),
                None => Some(format!("unknown kind of record `{kind_name}`")),
            };
            check(format!("records/{kind_name}/{id}"), body, reason);
        }
        Ok(found)
    }

    async fn delete_unreadable(&self, ctx: &WriteContext, resource: &str) -> Result<()> {
        /// Which row a resource name designates.
        enum Row {
            Activity(String),
            Action(i64, i64),
            Record(String, String),
        }
        let refused = |reason: &str| {
            StorageError::Rule(core_model::ModelError::Field { field: "name".to_owned(), reason: reason.to_owned() })
        };
        let parts: Vec<&str> = resource.split('/').collect();
        let row = match parts.as_slice() {
            ["activities", id] if !id.is_empty() => Row::Activity((*id).to_owned()),
            ["treaties", treaty, "actions", seq] => match (treaty.parse(), seq.parse()) {
                (Ok(t), Ok(s)) => Row::Action(t, s),
                _ => return Err(refused(&format!("`{resource}` is not a treaty action's name"))),
            },
            ["records", kind, id] if !id.is_empty() => Row::Record((*kind).to_owned(), (*id).to_owned()),
            ["treaties", _] | ["countries", _] => {
                return Err(refused(&format!(
                    "`{resource}`: treaties and states are not deleted (every status rests on them); import a \
                     dataset that holds them instead"
                )));
            }
            _ => {
                return Err(refused(&format!(
                    "`{resource}` is not the name of a stored record (activities/ID, treaties/N/actions/SEQ, \
                     records/KIND/ID)"
                )));
            }
        };
        let resource_owned = resource.to_owned();
        self.inner
            .write(
                ctx,
                DELETE_UNREADABLE,
                resource,
                body(move |inner, tx| {
                    Box::pin(async move {
                        let (select, delete, params): (&str, &str, Vec<Param>) = match &row {
                            Row::Activity(id) => (
                                "SELECT body FROM activities WHERE id = $1",
                                "DELETE FROM activities WHERE id = $1",
                                vec![Param::Text(id.clone())],
                            ),
                            Row::Action(treaty, seq) => (
                                "SELECT body FROM treaty_actions WHERE treaty = $1 AND seq = $2",
                                "DELETE FROM treaty_actions WHERE treaty = $1 AND seq = $2",
                                vec![Param::Int(*treaty), Param::Int(*seq)],
                            ),
                            Row::Record(kind, id) => (
                                "SELECT body FROM records WHERE kind = $1 AND id = $2",
                                "DELETE FROM records WHERE kind = $1 AND id = $2",
                                vec![Param::Text(kind.clone()), Param::Text(id.clone())],
                            ),
                        };
                        let found = bind_all(sqlx::query(select), &params)
                            .fetch_optional(&mut **tx)
                            .await
                            .map_err(|e| inner.err(e))?;
                        let Some(found) = found else {
                            return Err(StorageError::NotFound { kind: "stored record", id: resource_owned.clone() });
                        };
                        let stored: String = found.try_get(0).map_err(|e| inner.err(e))?;
                        let readable = match &row {
                            Row::Activity(_) => try_decode::<Activity>(&stored).is_ok(),
                            Row::Action(..) => try_decode::<TreatyAction>(&stored).is_ok(),
                            Row::Record(kind, _) => RecordKind::ALL
                                .iter()
                                .find(|k| k.as_str() == kind)
                                .is_some_and(|k| Record::from_body(*k, &stored).is_ok()),
                        };
                        if readable {
                            return Err(StorageError::Rule(core_model::ModelError::Field {
                                field: "name".to_owned(),
                                reason: format!(
                                    "{resource_owned} can be read: delete it with the ordinary method, not as unreadable"
                                ),
                            }));
                        }
                        bind_all(sqlx::query(delete), &params).execute(&mut **tx).await.map_err(|e| {
                            match classify(&e) {
                                Some("foreign-key") => StorageError::StillReferenced {
                                    kind: "record",
                                    id: resource_owned.clone(),
                                    detail: "other records name it".to_owned(),
                                },
                                _ => inner.err(e),
                            }
                        })?;
                        Ok::<Effect, StorageError>(Effect::deleted(stored))
                    })
                }),
            )
            .await?;
        Ok(())
    }

    async fn ping(&self, within: std::time::Duration) -> Result<()> {
        let inner = &self.inner;
        let query = async {
            let mut conn = inner.pool.acquire().await.map_err(|e| inner.err(e))?;
            sqlx::query("SELECT 1").execute(&mut *conn).await.map_err(|e| inner.err(e))?;
            Ok(())
        };
        tokio::time::timeout(within, query).await.map_err(|_| {
            StorageError::Unavailable(format!("{} did not answer within {} ms", inner.location, within.as_millis()))
        })?
    }

    async fn integrity_check(&self) -> Result<()> {
        let inner = &self.inner;
        match inner.backend {
            Backend::Sqlite => {
                let rows: Vec<(String,)> =
                    sqlx::query_as("PRAGMA integrity_check").fetch_all(&inner.pool).await.map_err(|e| inner.err(e))?;
                let fk: Vec<AnyRow> =
                    sqlx::query("PRAGMA foreign_key_check").fetch_all(&inner.pool).await.map_err(|e| inner.err(e))?;
                if rows.len() != 1 || rows[0].0 != "ok" || !fk.is_empty() {
                    return Err(StorageError::Internal(format!(
                        "integrity check failed: {:?}; {} foreign key violation(s)",
                        rows.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(),
                        fk.len()
                    )));
                }
                Ok(())
            }
            Backend::Postgres => {
                sqlx::query("SELECT 1").execute(&inner.pool).await.map_err(|e| inner.err(e))?;
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod redact_tests {
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
