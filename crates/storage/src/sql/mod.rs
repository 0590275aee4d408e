//! [`SqlStore`]: the [`Store`] over sqlx's `Any` driver, for SQLite and PostgreSQL alike.
//!
//! The SQL is written once, with `$n` placeholders both backends accept; the two differ only in their
//! migrations, in the per-connection settings of SQLite, and in how writers are serialised (one writer task
//! in this process, plus a transaction-scoped advisory lock on PostgreSQL for writers in other replicas).
//!
//! The modules follow the store's seams:
//!
//! | module | what it holds |
//! |---|---|
//! | [`open`] | the URL, the pool, the checks that a database is ours, the migrations, the first load |
//! | [`db_error`] | what a database error means: a constraint broken, or a database that cannot serve |
//! | [`writer`] | the writer task and its group commit: every write goes through it |
//! | [`changes`] | the change feed: the log's position, the changes after a position |
//! | [`catch_up`] | the snapshot and the activity index caught up after commits and other replicas' notifications |
//! | [`treaty_actions`], [`activities`], [`records`] | each kind of record, read and written |
//! | [`dataset`] | import and export, with the history (audit log, request ids, etags) |
//! | [`admin`] | the health of the database, and the rows that cannot be decoded |
//! | [`rows`] | bound parameters, JSON bodies, etags and pages |
//!
//! Writes are committed in groups: every write is sent to the store's writer task, which takes all the writes
//! waiting at that moment, runs each in a savepoint of one transaction (a write that fails is rolled back alone)
//! and commits them together, so concurrent writers share one durable commit (one `fsync` with SQLite's
//! `synchronous = FULL`). A caller is answered only after the commit. A write reads top to bottom in its
//! record's module (what it checks and writes, as a body the writer runs) and in [`writer`].
//!
//! Two things are served from memory and kept current after each commit (and, on PostgreSQL, after each
//! notification from another replica): the [`Snapshot`] of treaties, states and treaty actions, and the
//! [`ActivityIndex`] that filtered activity lists are walked from. A point read (`get_activity`, records) and
//! `export` always ask the database.

mod activities;
mod admin;
mod catch_up;
mod changes;
mod dataset;
mod db_error;
mod open;
mod records;
mod rows;
mod treaty_actions;
mod writer;

use std::sync::{Arc, Mutex as StdMutex, RwLock};

use async_trait::async_trait;
use core_model::{ActionKind, Activity, CountryCode, Dataset, Filter, TreatyAction, TreatyNumber};
use sqlx::AnyPool;
use tokio::sync::{broadcast, mpsc};

pub use self::open::{Backend, OpenOptions, SCHEMA_VERSION, backup, redact_url};
#[cfg(any(test, feature = "test-support"))]
pub(crate) use self::rows::{Param, etag_of};
use crate::{
    ActionCorrection, AuditEntry, Change, ChangeBatch, History, Page, PageRequest, Record, RecordKind, Result,
    Snapshot, StorageError, Store, Versioned, WriteContext, activity_index::ActivityIndex, quarantine::Quarantine,
    quarantine::Unreadable, resource::Operation,
};

/// The store over SQLite or PostgreSQL.
#[derive(Debug)]
pub struct SqlStore {
    inner: Arc<Inner>,
    listener: Option<tokio::task::JoinHandle<()>>,
    writer: tokio::task::JoinHandle<()>,
}

/// The store's state, shared by its handle, its writer task and (on PostgreSQL) its listener.
#[derive(Debug)]
struct Inner {
    pool: AnyPool,
    backend: Backend,
    location: String,
    snapshot: RwLock<Arc<Snapshot>>,
    /// Serialises catching the snapshot up with the database.
    catching_up: tokio::sync::Mutex<()>,
    changes: broadcast::Sender<Change>,
    /// The change log's last position known committed, which watchers follow.
    position: tokio::sync::watch::Sender<i64>,
    /// The last treaty action broadcast to subscribers.
    broadcast_seq: StdMutex<i64>,
    /// The audit position up to which catching the snapshot up has looked for corrections and withdrawals of
    /// treaty actions (at or past the snapshot's version: other writes move it without changing the snapshot).
    actions_checked_to: std::sync::atomic::AtomicI64,
    /// One writing transaction at a time in this process.
    write_lock: tokio::sync::Mutex<()>,
    /// Writes waiting for the writer task.
    writes: mpsc::Sender<writer::Job>,
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

impl Inner {
    /// The store's error for a database error, naming its location.
    fn err(&self, e: sqlx::Error) -> StorageError {
        db_error::error_at(&self.location, e)
    }

    /// The current snapshot.
    fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.read().map_or_else(|p| p.into_inner().clone(), |s| s.clone())
    }
}

/// Every method is one of the modules' (this is the table of where each is).
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

    async fn close(&self) -> Result<()> {
        SqlStore::close(self).await
    }

    async fn record_treaty_action(&self, ctx: &WriteContext, action: TreatyAction) -> Result<Versioned<TreatyAction>> {
        self.inner.record_treaty_action(ctx, action).await
    }

    async fn list_treaty_actions(
        &self,
        treaty: Option<TreatyNumber>,
        state: Option<&CountryCode>,
        page: &PageRequest,
    ) -> Result<Page<Versioned<TreatyAction>>> {
        self.inner.list_treaty_actions(treaty, state, page).await
    }

    async fn change_sequence(&self) -> Result<i64> {
        self.inner.change_sequence().await
    }

    async fn changes_after(&self, after: i64, limit: usize) -> Result<ChangeBatch> {
        self.inner.changes_after(after, limit).await
    }

    fn change_position(&self) -> tokio::sync::watch::Receiver<i64> {
        self.inner.position.subscribe()
    }

    async fn list_activities_at(
        &self,
        filter: &Filter,
        page: &PageRequest,
    ) -> Result<(Page<Arc<Versioned<Activity>>>, i64)> {
        self.inner.list_activities(filter, page).await
    }

    async fn get_treaty_action(
        &self,
        treaty: TreatyNumber,
        state: &CountryCode,
        kind: ActionKind,
    ) -> Result<Versioned<TreatyAction>> {
        self.inner.get_treaty_action(treaty, state, kind).await
    }

    async fn update_treaty_action(
        &self,
        ctx: &WriteContext,
        correction: ActionCorrection,
        etag: Option<&str>,
    ) -> Result<Versioned<TreatyAction>> {
        self.inner.update_treaty_action(ctx, correction, etag).await
    }

    async fn delete_treaty_action(
        &self,
        ctx: &WriteContext,
        treaty: TreatyNumber,
        state: &CountryCode,
        kind: ActionKind,
        etag: Option<&str>,
    ) -> Result<()> {
        self.inner.delete_treaty_action(ctx, treaty, state, kind, etag).await
    }

    async fn get_activity(&self, id: &str) -> Result<Versioned<Activity>> {
        self.inner.get_activity(id).await
    }

    async fn list_activities(&self, filter: &Filter, page: &PageRequest) -> Result<Page<Arc<Versioned<Activity>>>> {
        Ok(self.inner.list_activities(filter, page).await?.0)
    }

    async fn create_activity(&self, ctx: &WriteContext, activity: Activity) -> Result<Versioned<Activity>> {
        self.inner.create_activity(ctx, activity).await
    }

    async fn update_activity(
        &self,
        ctx: &WriteContext,
        activity: Activity,
        etag: Option<&str>,
    ) -> Result<Versioned<Activity>> {
        self.inner.update_activity(ctx, activity, etag).await
    }

    async fn delete_activity(&self, ctx: &WriteContext, id: &str, etag: Option<&str>) -> Result<()> {
        self.inner.delete_activity(ctx, id, etag).await
    }

    async fn get_record(&self, kind: RecordKind, id: &str) -> Result<Versioned<Record>> {
        self.inner.get_record(kind, id).await
    }

    async fn list_records(&self, kind: RecordKind, page: &PageRequest) -> Result<Page<Versioned<Record>>> {
        self.inner.list_records(kind, page).await
    }

    async fn export(&self) -> Result<Dataset> {
        Ok(self.inner.export(false).await?.0)
    }

    async fn export_with_history(&self) -> Result<(Dataset, History)> {
        self.inner.export(true).await
    }

    async fn import(&self, ctx: &WriteContext, dataset: &Dataset) -> Result<()> {
        self.inner.import(ctx, dataset, &History::default(), Operation::Import).await
    }

    async fn import_with_history(&self, ctx: &WriteContext, dataset: &Dataset, history: &History) -> Result<()> {
        self.inner.import(ctx, dataset, history, Operation::Import).await
    }

    async fn audit_log(&self, page: &PageRequest) -> Result<Page<AuditEntry>> {
        self.inner.audit_log(page).await
    }

    async fn integrity_check(&self) -> Result<()> {
        self.inner.integrity_check().await
    }

    async fn ping(&self, within: std::time::Duration) -> Result<()> {
        self.inner.ping(within).await
    }

    fn unreadable(&self) -> Vec<Unreadable> {
        self.inner.quarantine.lock().map(|q| q.all()).unwrap_or_default()
    }

    async fn find_unreadable(&self) -> Result<Vec<Unreadable>> {
        self.inner.find_unreadable().await
    }

    async fn delete_unreadable(&self, ctx: &WriteContext, resource: &str) -> Result<()> {
        self.inner.delete_unreadable(ctx, resource).await
    }
}
