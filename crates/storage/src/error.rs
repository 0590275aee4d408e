//! The storage crate's one error type.

use core_model::{DatasetErrors, FilterError, ModelError};

/// A result whose error is a [`StorageError`].
pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// What went wrong in the store. Nothing is written when a write fails.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// No such record.
    #[error("{kind} `{id}` not found")]
    NotFound {
        /// What kind of record.
        kind: &'static str,
        /// Its id.
        id: String,
    },
    /// A record with this id exists already.
    #[error("{kind} `{id}` already exists")]
    AlreadyExists {
        /// What kind of record.
        kind: &'static str,
        /// Its id.
        id: String,
    },
    /// The etag given is not the record's current one (AIP-154).
    #[error("{kind} `{id}` has changed: etag `{given}` is not the current `{current}`")]
    EtagMismatch {
        /// What kind of record.
        kind: &'static str,
        /// Its id.
        id: String,
        /// The etag the caller gave.
        given: String,
        /// The current etag.
        current: String,
    },
    /// The data breaks a rule of the domain model.
    #[error(transparent)]
    Rule(#[from] ModelError),
    /// A dataset to import is invalid.
    #[error(transparent)]
    Dataset(#[from] DatasetErrors),
    /// A list filter is invalid.
    #[error(transparent)]
    Filter(#[from] FilterError),
    /// A page token that this list did not issue (forged, or issued for another filter).
    #[error("invalid page token: {0}")]
    PageToken(String),
    /// A record still referenced by others cannot be deleted.
    #[error("{kind} `{id}` is still referenced ({detail})")]
    StillReferenced {
        /// What kind of record.
        kind: &'static str,
        /// Its id.
        id: String,
        /// Which reference.
        detail: String,
    },
    /// A request id the same principal used before for another request (AIP-155): another operation, resource
    /// or input. The earlier request is not named.
    #[error("request id `{request_id}` was already used for a different request")]
    RequestIdReused {
        /// The request id.
        request_id: String,
    },
    /// Import into a store that already holds data.
    #[error("the store is not empty: import needs an empty store")]
    NotEmpty,
    /// The file or database is not a store of this system.
    #[error("{location} is not a store of this system: {detail}")]
    NotOurs {
        /// The file or database.
        location: String,
        /// What was found.
        detail: String,
    },
    /// The store was written by a newer version of this system.
    #[error("{location} has schema version {found}; this version supports up to {supported}: upgrade the software")]
    NewerSchema {
        /// The file or database.
        location: String,
        /// The version found.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// The store cannot be written.
    #[error("{location} is read-only: {detail}")]
    ReadOnly {
        /// The file or database.
        location: String,
        /// What the database said.
        detail: String,
    },
    /// The database is unreachable or out of resources (disk full, connection lost); the request may succeed
    /// later.
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
    /// A store URL this system does not understand.
    #[error("unsupported store URL `{0}`: use sqlite://PATH, sqlite::memory: or postgres://...")]
    BadUrl(String),
    /// A stored row that cannot be decoded (a bug, or a database edited by hand): it is quarantined, and only
    /// what needs this row fails.
    #[error(
        "{resource} is stored in a form this server cannot read ({reason}); it is set aside: an admin can list it \
         (AdminService.ListUnreadableRecords, `cybercrime check --store`) and delete it, then write it again"
    )]
    Unreadable {
        /// Its resource name.
        resource: String,
        /// Why it cannot be decoded.
        reason: String,
    },
    /// A position of the change log that it does not hold: past its end, or before its first kept entry (a
    /// position of another store, or of this one before it was restored).
    #[error(
        "change sequence {given} is not in this store's change log, which runs from {first} to {last}: list again \
         and watch from the list's change_sequence"
    )]
    SequenceOutOfRange {
        /// The position given.
        given: i64,
        /// The earliest position a watch may start after.
        first: i64,
        /// The log's last position.
        last: i64,
    },
    /// Anything else the database reported; a bug or corruption.
    #[error("internal storage error: {0}")]
    Internal(String),
}
