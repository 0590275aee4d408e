//! Persistence of the domain model behind one [`Store`] trait, in domain terms (no SQL leaks out).
//!
//! Two implementations pass one conformance suite: embedded SQLite (the default: one file, WAL,
//! `synchronous=FULL`, foreign keys on) and PostgreSQL (a connection pool; several server replicas share one
//! database and learn of each other's writes through `LISTEN`/`NOTIFY`). Both are [`SqlStore`], over sqlx's
//! `Any` driver, with one set of migrations per backend; `sql/` is split along the store's seams (opening,
//! database errors, the writer, catching up, one module per kind of record, import and export).
//!
//! - On first open of an empty store the bundled 2007 dataset is loaded in one transaction.
//! - Every write commits whole or not at all: writes waiting at the same moment share one transaction (a group
//!   commit, each write in its own savepoint, undone alone if it fails), and a caller is answered after the
//!   commit. A write records an audit entry (who, when, what before and after, request id), checks the
//!   record's etag when one is given, and is applied once per principal and request id.
//! - An export keeps, beside the dataset, the store's [`History`] (audit log, request ids, etags), and an import
//!   restores it: a stale etag stays stale and a retried write stays applied once across a restore.
//! - Treaty reads (status at a date, a state's history) are served from an in-memory [`Snapshot`] swapped in
//!   when a write commits: the hot path of a status query touches no database.
//! - Activity lists are walked from an in-memory index of every activity, kept current the same way.
//! - Lists take a [`Filter`] and a [`PageRequest`]; pages are in a stable order and the page
//!   token is opaque and bound to the filter it was issued for.
//!
//! # The `test-support` feature
//!
//! What only tests use is built with the `test-support` feature (enabled by this crate's own tests and by the
//! end-to-end tests, as dev-dependencies; never by the server):
//! - `SqlStore::list_activities_from_database`, the database's answer to an activity list, which the
//!   in-memory index is checked against (the conformance suite and the `filter_sql` fuzzer compare them);
//! - `SqlStore::create_record`, `update_record` and `delete_record`: writing one record at a time, which no
//!   RPC does yet (the conformance suite holds them to the rules);
//! - `storage::testing`: test stores on a fresh SQLite file or a fresh PostgreSQL schema, and builders.

mod activity_index;
mod changes;
mod error;
#[cfg(any(test, feature = "test-support"))]
mod filter_sql;
mod history;
mod quarantine;
mod record;
mod resource;
mod snapshot;
mod sql;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod token;

use std::{fmt, sync::Arc};

use async_trait::async_trait;
use core_model::{ActionKind, Activity, CountryCode, Dataset, Filter, TreatyAction, TreatyNumber};

pub use changes::{ChangeBatch, ChangeOp, ChangedRecord, LoggedChange, at_one_sequence};
pub use error::{Result, StorageError};
pub use history::{History, RequestEntry};
pub use quarantine::Unreadable;
pub use record::{Record, RecordKind};
pub use resource::{NotAResource, Resource};
pub use snapshot::{ActionVersion, Snapshot};
pub use sql::{Backend, OpenOptions, SCHEMA_VERSION, SqlStore, backup, redact_url};

/// Who writes, and on behalf of which request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteContext {
    /// The principal, e.g. `editor@coe` or `anonymous`.
    pub principal: String,
    /// The caller's request id (AIP-155): a write repeated by the same principal with the same id and the same
    /// input is applied once; the same id with another input is refused. Ids of different principals never meet.
    pub request_id: Option<String>,
    /// A fingerprint of the write's input (SHA-256, hex), stored beside its request id. The store sets it itself,
    /// from the operation's input, when it is `None`; a caller whose write is derived from a read (a masked
    /// update merged onto the current version) sets it to a fingerprint of its own request, so that the request
    /// retried is recognised whatever it merges onto then.
    pub fingerprint: Option<String>,
}

impl WriteContext {
    /// A write by `principal` without a request id.
    pub fn by(principal: &str) -> Self {
        WriteContext { principal: principal.to_owned(), request_id: None, fingerprint: None }
    }

    /// The same write, with a request id.
    pub fn with_request_id(mut self, request_id: &str) -> Self {
        self.request_id = Some(request_id.to_owned());
        self
    }
}

/// A record with its etag (AIP-154): the version a later update or delete must name to succeed, and when it was
/// created and last changed (AIP-148), from the audit log. The etag is the position of the audit entry of the
/// write that made the version, quoted (`"4711"`): unique over the record's whole life, across a delete and a
/// re-create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned<T> {
    /// The record.
    pub record: T,
    /// Its current etag.
    pub etag: String,
    /// When it was created (UTC, RFC 3339), if the store knows.
    pub create_time: Option<String>,
    /// When it was last changed (UTC, RFC 3339), if the store knows.
    pub update_time: Option<String>,
}

impl<T> Versioned<T> {
    /// `record` at version `etag`, its times unknown.
    pub fn new(record: T, etag: String) -> Self {
        Versioned { record, etag, create_time: None, update_time: None }
    }
}

/// A correction of a treaty action (UpdateTreatyAction): the action its treaty, state and kind name, and the
/// fields to change, each `None` when kept as stored. The store applies it to the stored version inside the
/// write's transaction, so that a correction of some fields never undoes a concurrent correction of others.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ActionCorrection {
    /// The treaty (part of the name: it cannot change).
    pub treaty: TreatyNumber,
    /// The state (part of the name).
    pub state: CountryCode,
    /// The kind (part of the name).
    pub kind: ActionKind,
    /// The corrected date.
    pub date: Option<core_model::ApproxDate>,
    /// The corrected entry into force (`Some(None)` clears it).
    pub entry_into_force: Option<Option<chrono::NaiveDate>>,
    /// The corrected citations.
    pub source: Option<core_model::SourceRef>,
    /// The corrected note (`Some(None)` clears it).
    pub note: Option<Option<String>>,
}

impl ActionCorrection {
    /// A correction replacing every correctable field with `action`'s.
    pub fn replace(action: TreatyAction) -> Self {
        ActionCorrection {
            treaty: action.treaty,
            state: action.state,
            kind: action.kind,
            date: Some(action.date),
            entry_into_force: Some(action.entry_into_force),
            source: Some(action.source),
            note: Some(action.note),
        }
    }

    /// `stored` with the correction applied.
    pub fn apply(&self, stored: &TreatyAction) -> TreatyAction {
        let mut a = stored.clone();
        if let Some(date) = self.date {
            a.date = date;
        }
        if let Some(eif) = self.entry_into_force {
            a.entry_into_force = eif;
        }
        if let Some(source) = &self.source {
            a.source = source.clone();
        }
        if let Some(note) = &self.note {
            a.note = note.clone();
        }
        a
    }
}

/// Which page of a list to return.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PageRequest {
    /// At most this many items; 0 means the default (50). Capped at 1,000.
    pub page_size: u32,
    /// The `next_page_token` of the previous page; empty for the first page.
    pub page_token: String,
}

impl PageRequest {
    /// The default page size.
    pub const DEFAULT_SIZE: u32 = 50;
    /// The largest page size.
    pub const MAX_SIZE: u32 = 1000;

    /// The first page of `size` items.
    pub fn first(size: u32) -> Self {
        PageRequest { page_size: size, page_token: String::new() }
    }

    /// The effective page size.
    pub fn size(&self) -> u32 {
        match self.page_size {
            0 => Self::DEFAULT_SIZE,
            n => n.min(Self::MAX_SIZE),
        }
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items, in the list's stable order.
    pub items: Vec<T>,
    /// The token of the next page; empty on the last page.
    pub next_page_token: String,
}

/// One audited write.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuditEntry {
    /// Position in the log.
    pub seq: i64,
    /// When (UTC, RFC 3339).
    pub at: String,
    /// Who.
    pub principal: String,
    /// The caller's request id, if any.
    pub request_id: Option<String>,
    /// What: `record_treaty_action`, `create`, `update`, `delete`, `import`.
    pub operation: String,
    /// Which resource, e.g. `activities/2007-03-19-belgrade` or `treaties/185/actions/AL-ratification`
    /// (`countries/AL/treatyActions/185/ratification` before schema version 5).
    pub resource: String,
    /// The record before, as JSON, for updates and deletes.
    pub before: Option<String>,
    /// The record after, as JSON, for creates, updates and recorded actions.
    pub after: Option<String>,
}

/// A change committed to the store, as watchers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A treaty action was recorded (by this store or, on PostgreSQL, by another replica).
    TreatyActionRecorded {
        /// Its position in the store's log of treaty actions.
        seq: i64,
        /// The action.
        action: TreatyAction,
    },
}

/// The one persistence interface the server holds, as `Arc<dyn Store>`.
#[async_trait]
pub trait Store: Send + Sync + fmt::Debug {
    /// Which backend this is.
    fn backend(&self) -> Backend;

    /// The current snapshot of treaties, states and treaty actions: status queries read it without touching
    /// the database.
    fn snapshot(&self) -> Arc<Snapshot>;

    /// Changes as they commit, in commit order.
    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Change>;

    /// Closes the store at a clean shutdown, once nothing more will be written: the writer's last group is
    /// committed, SQLite's write-ahead log is checkpointed into the database file, and the pool is closed.
    async fn close(&self) -> Result<()>;

    /// Records a treaty action after checking it against every rule and every action already recorded; answers
    /// it at its first version.
    async fn record_treaty_action(&self, ctx: &WriteContext, action: TreatyAction) -> Result<Versioned<TreatyAction>>;

    /// Treaty actions, optionally of one treaty and/or one state, in the order they were recorded, each at its
    /// version.
    async fn list_treaty_actions(
        &self,
        treaty: Option<TreatyNumber>,
        state: Option<&CountryCode>,
        page: &PageRequest,
    ) -> Result<Page<Versioned<TreatyAction>>>;

    /// One treaty action, named by its treaty, state and kind (`treaties/185/actions/AL-ratification`), from the
    /// database.
    async fn get_treaty_action(
        &self,
        treaty: TreatyNumber,
        state: &CountryCode,
        kind: ActionKind,
    ) -> Result<Versioned<TreatyAction>>;

    /// Corrects a treaty action: the one the correction's treaty, state and kind name takes its fields (date,
    /// entry into force, sources, note), applied to the stored version inside the write's transaction; with
    /// `etag`, only if it is still at that version. The whole record with the correction is checked against every
    /// rule there: it may break none it did not already.
    async fn update_treaty_action(
        &self,
        ctx: &WriteContext,
        correction: ActionCorrection,
        etag: Option<&str>,
    ) -> Result<Versioned<TreatyAction>>;

    /// Withdraws a treaty action; with `etag`, only if it is still at that version. The whole record without it is
    /// checked against every rule (a signature a ratification rests on cannot be withdrawn).
    async fn delete_treaty_action(
        &self,
        ctx: &WriteContext,
        treaty: TreatyNumber,
        state: &CountryCode,
        kind: ActionKind,
        etag: Option<&str>,
    ) -> Result<()>;

    /// The position of the store's change log now: the last audit entry's `seq` (0 when the log is empty). A read
    /// of the database made between two equal positions shows the store at that position
    /// ([`at_one_sequence`]).
    async fn change_sequence(&self) -> Result<i64>;

    /// At most `limit` (1 to 1,000) changes after position `after` of the change log, in commit order (see
    /// [`ChangeBatch`]); [`StorageError::SequenceOutOfRange`] when `after` is past the log's end or before its
    /// first kept entry.
    async fn changes_after(&self, after: i64, limit: usize) -> Result<ChangeBatch>;

    /// The last position of the change log known committed: it moves after each of this process's commits and,
    /// on PostgreSQL, after each other replica's notification. Watchers wait on it, then read the log by
    /// position ([`Store::changes_after`]).
    fn change_position(&self) -> tokio::sync::watch::Receiver<i64>;

    /// [`Store::list_activities`], with the position of the change log the page shows exactly (the activity
    /// index's: every change at or before it, none after).
    async fn list_activities_at(
        &self,
        filter: &Filter,
        page: &PageRequest,
    ) -> Result<(Page<Arc<Versioned<Activity>>>, i64)>;

    /// One activity.
    async fn get_activity(&self, id: &str) -> Result<Versioned<Activity>>;

    /// Activities matching `filter`, in the order they were created. Served from memory: it holds every write
    /// this process has acknowledged and, on PostgreSQL, those of other replicas as soon as their notification
    /// arrives (a point read, [`Store::get_activity`], always asks the database).
    async fn list_activities(&self, filter: &Filter, page: &PageRequest) -> Result<Page<Arc<Versioned<Activity>>>>;

    /// Creates an activity; its id must be new.
    async fn create_activity(&self, ctx: &WriteContext, activity: Activity) -> Result<Versioned<Activity>>;

    /// Replaces an activity; with `etag`, only if it is still at that version.
    async fn update_activity(
        &self,
        ctx: &WriteContext,
        activity: Activity,
        etag: Option<&str>,
    ) -> Result<Versioned<Activity>>;

    /// Deletes an activity; with `etag`, only if it is still at that version.
    async fn delete_activity(&self, ctx: &WriteContext, id: &str, etag: Option<&str>) -> Result<()>;

    /// One record of another kind.
    async fn get_record(&self, kind: RecordKind, id: &str) -> Result<Versioned<Record>>;

    /// Records of one kind, in the order they were created.
    async fn list_records(&self, kind: RecordKind, page: &PageRequest) -> Result<Page<Versioned<Record>>>;

    /// Everything the store holds, as a dataset ([`Dataset::to_files`] writes it in the dataset's own format).
    async fn export(&self) -> Result<Dataset>;

    /// Everything the store holds, with its history (the audit log, the request ids and the etag of every
    /// activity and record), read in one consistent view: what `cybercrime export` writes, so that a restore
    /// keeps the store's guarantees.
    async fn export_with_history(&self) -> Result<(Dataset, History)>;

    /// Loads a whole dataset into an empty store, in one transaction, after validating it: one audit entry for
    /// the import, whose position is every activity's and record's etag and whose time is their `create_time`
    /// and `update_time`.
    async fn import(&self, ctx: &WriteContext, dataset: &Dataset) -> Result<()>;

    /// Loads a whole dataset into an empty store with the history it was exported with
    /// ([`Store::export_with_history`]), in one transaction: every activity and record at its etag there (with
    /// its times from the exported audit log), the audit log followed by one entry for the import, and the request ids with their answers (a write retried
    /// by its principal with its request id is still applied once). An empty history is [`Store::import`].
    async fn import_with_history(&self, ctx: &WriteContext, dataset: &Dataset, history: &History) -> Result<()>;

    /// The audit log, oldest first.
    async fn audit_log(&self, page: &PageRequest) -> Result<Page<AuditEntry>>;

    /// Checks the store's physical integrity (`PRAGMA integrity_check` on SQLite).
    async fn integrity_check(&self) -> Result<()>;

    /// Checks that the database answers now (a trivial query through the pool, within `within`): what the
    /// server's health service reports.
    async fn ping(&self, within: std::time::Duration) -> Result<()>;

    /// The stored rows this store set aside while loading its snapshot and activity index, because they cannot
    /// be decoded (see [`Unreadable`]); lists and reports name them. From memory.
    fn unreadable(&self) -> Vec<Unreadable>;

    /// Every stored row that cannot be decoded, found by reading every table (for `cybercrime check --store` and
    /// the admin's list).
    async fn find_unreadable(&self) -> Result<Vec<Unreadable>>;

    /// Deletes one stored row that cannot be decoded, named by its [`Unreadable::resource`], with an audit entry
    /// holding what it stored. A row that can be read is not deleted this way (the ordinary delete is for that);
    /// treaties and states are not deleted at all (every status rests on them: import a dataset instead).
    async fn delete_unreadable(&self, ctx: &WriteContext, resource: &str) -> Result<()>;
}

/// Opens the store at `url` (`sqlite://path`, `sqlite::memory:`, `postgres://...`): creates it or migrates it,
/// loads the bundled 2007 dataset into it if it is empty, and builds its snapshot.
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    Ok(Arc::new(SqlStore::open(url, OpenOptions::default()).await?))
}
