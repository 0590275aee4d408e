//! The change feed in domain terms: the store's audit log read as a sequence of changes to the records a client
//! can list (activities, treaty actions and the other editable records), each with its position in the log.
//!
//! The audit log is the change log: an entry's `seq` is given under the store's write lock (shared by every
//! replica on PostgreSQL), so positions grow in commit order and a reader that sees position `n` committed sees
//! every position before it. Reading the log by position ranges ([`crate::Store::changes_after`]) therefore never
//! skips a change, whatever order notifications arrive in.
//!
//! What an entry becomes:
//! - a create, an update or a recorded treaty action: [`ChangeOp::Created`] or [`ChangeOp::Updated`], with the
//!   record after the write;
//! - a delete: [`ChangeOp::Deleted`], with the record as it was before;
//! - an import or the first load of the bundled dataset (the whole store replaced), or an entry whose record
//!   cannot be decoded: [`ChangeOp::Reset`]: the client lists everything again and watches from that list's
//!   sequence;
//! - an admin's deletion of a stored row that could not be read (never listed, so never mirrored): nothing; the
//!   batch's `through` still moves past it.
//!
//! A list read at one position ([`at_one_sequence`], and [`crate::Store::list_activities_at`] for the activity
//! index) shows every change at or before that position and none after: list, then watch from that position,
//! misses nothing and repeats nothing.

use core_model::{Activity, TreatyAction};

use crate::{Record, Result, Store};

/// What a change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeOp {
    /// A record was created (or a treaty action recorded).
    Created,
    /// A record was replaced.
    Updated,
    /// A record was deleted.
    Deleted,
    /// The whole store was replaced (an import), or an entry cannot be decoded: list everything again.
    Reset,
}

/// The record a change concerns: after the write, or before it for a delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangedRecord {
    /// An activity.
    Activity(Activity),
    /// A treaty action.
    TreatyAction(TreatyAction),
    /// A record of another kind.
    Record(Record),
}

/// One change of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedChange {
    /// Its position in the log (the audit entry's `seq`).
    pub seq: i64,
    /// When it was committed (UTC, RFC 3339).
    pub at: String,
    /// What it did.
    pub op: ChangeOp,
    /// The record; `None` for a reset.
    pub record: Option<ChangedRecord>,
    /// Why the client must list again, for a reset.
    pub reset_reason: Option<String>,
    /// The record's etag after a create or an update: the etag of the version this change made (the quoted
    /// position, as every etag is); `None` for a delete or a reset.
    pub etag: Option<String>,
    /// When the record was created, for a create (its commit time); `None` otherwise (a copy keeps the time of
    /// the create it saw, or listed).
    pub create_time: Option<String>,
}

/// Changes read from the log.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChangeBatch {
    /// The changes, in order.
    pub changes: Vec<LoggedChange>,
    /// The last position read (at least the request's `after`): the next read starts after it. Entries that are
    /// no change a client sees are passed over, so it may be beyond the last change.
    pub through: i64,
    /// The read stopped at its limit: more may follow at once.
    pub more: bool,
}

/// How many times [`at_one_sequence`] reads a list again when writes commit while it reads.
const TRIES: usize = 4;

/// Runs `read` (a list read from the database) at one position of the change log: the position is read before
/// and after, and `read` again while they differ (every write commits with an audit entry, so equal positions
/// mean nothing was committed meanwhile). Answers what `read` answered and that position; when writes keep
/// committing, the position before the last try, which is at or before what `read` saw (a client watching from
/// it may then be sent a change its list already shows, and applies it again: the same record at the same
/// version).
pub async fn at_one_sequence<T, F, Fut>(store: &dyn Store, mut read: F) -> Result<(T, i64)>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut tries = 0;
    loop {
        let before = store.change_sequence().await?;
        let value = read().await?;
        let after = store.change_sequence().await?;
        tries += 1;
        if after == before || tries == TRIES {
            return Ok((value, before));
        }
    }
}
