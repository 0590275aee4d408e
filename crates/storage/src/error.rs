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
    #[error("filter: {0}")]
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

impl StorageError {
    /// The failure, in UPPER_SNAKE_CASE: one per variant (a broken rule gives the model's own reason), the API's
    /// `ErrorInfo.reason`, listed in `proto/coe/cybercrime/v1/error_reason.proto`.
    pub fn reason(&self) -> &'static str {
        match self {
            StorageError::NotFound { .. } => "NOT_FOUND",
            StorageError::AlreadyExists { .. } => "ALREADY_EXISTS",
            StorageError::EtagMismatch { .. } => "ETAG_MISMATCH",
            StorageError::Rule(m) => m.reason(),
            StorageError::Dataset(_) => "INVALID_DATA",
            StorageError::Filter(_) => "INVALID_FILTER",
            StorageError::PageToken(_) => "INVALID_PAGE_TOKEN",
            StorageError::StillReferenced { .. } => "STILL_REFERENCED",
            StorageError::RequestIdReused { .. } => "REQUEST_ID_REUSED",
            StorageError::NotEmpty => "STORE_NOT_EMPTY",
            StorageError::NotOurs { .. } => "STORE_NOT_OURS",
            StorageError::NewerSchema { .. } => "STORE_SCHEMA_NEWER",
            StorageError::ReadOnly { .. } => "STORE_READ_ONLY",
            StorageError::Unavailable(_) => "STORE_UNAVAILABLE",
            StorageError::BadUrl(_) => "STORE_URL_UNSUPPORTED",
            StorageError::Unreadable { .. } => "UNREADABLE_RECORD",
            StorageError::SequenceOutOfRange { .. } => "CHANGE_SEQUENCE_OUT_OF_RANGE",
            StorageError::Internal(_) => "INTERNAL",
        }
    }

    /// Every reason [`StorageError::reason`] can give, the model's included.
    pub fn reasons() -> Vec<&'static str> {
        let own = [
            "NOT_FOUND",
            "ALREADY_EXISTS",
            "ETAG_MISMATCH",
            "INVALID_DATA",
            "INVALID_FILTER",
            "INVALID_PAGE_TOKEN",
            "STILL_REFERENCED",
            "REQUEST_ID_REUSED",
            "STORE_NOT_EMPTY",
            "STORE_NOT_OURS",
            "STORE_SCHEMA_NEWER",
            "STORE_READ_ONLY",
            "STORE_UNAVAILABLE",
            "STORE_URL_UNSUPPORTED",
            "UNREADABLE_RECORD",
            "CHANGE_SEQUENCE_OUT_OF_RANGE",
            "INTERNAL",
        ];
        own.into_iter().chain(ModelError::REASONS.iter().copied()).collect()
    }

    /// Every value the message names, by key (`resource`, `etag`, `current_etag`, `request_id`, ...; a broken
    /// rule's are the model's, [`ModelError::metadata`]). No store location: it may name a server's file.
    pub fn metadata(&self) -> Vec<(&'static str, String)> {
        match self {
            StorageError::NotFound { kind, id } | StorageError::AlreadyExists { kind, id } => {
                vec![("kind", (*kind).to_owned()), ("id", id.clone())]
            }
            StorageError::EtagMismatch { kind, id, given, current } => vec![
                ("kind", (*kind).to_owned()),
                ("id", id.clone()),
                ("etag", given.clone()),
                ("current_etag", current.clone()),
            ],
            StorageError::Rule(m) => m.metadata(),
            StorageError::Dataset(d) => vec![("problems", d.0.len().to_string())],
            StorageError::Filter(_) | StorageError::PageToken(_) => Vec::new(),
            StorageError::StillReferenced { kind, id, detail } => {
                vec![("kind", (*kind).to_owned()), ("id", id.clone()), ("reference", detail.clone())]
            }
            StorageError::RequestIdReused { request_id } => vec![("request_id", request_id.clone())],
            StorageError::NotEmpty
            | StorageError::NotOurs { .. }
            | StorageError::ReadOnly { .. }
            | StorageError::Unavailable(_)
            | StorageError::BadUrl(_)
            | StorageError::Internal(_) => Vec::new(),
            StorageError::NewerSchema { found, supported, .. } => {
                vec![("schema_version", found.to_string()), ("supported_schema_version", supported.to_string())]
            }
            StorageError::Unreadable { resource, .. } => vec![("resource", resource.clone())],
            StorageError::SequenceOutOfRange { given, first, last } => vec![
                ("start_after_sequence", given.to_string()),
                ("first_sequence", first.to_string()),
                ("last_sequence", last.to_string()),
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_lists_every_reason_given() {
        let all = [
            StorageError::NotFound { kind: "activity", id: "a".into() },
            StorageError::AlreadyExists { kind: "activity", id: "a".into() },
            StorageError::EtagMismatch { kind: "activity", id: "a".into(), given: "1".into(), current: "2".into() },
            StorageError::Rule(ModelError::UnknownOutput(4)),
            StorageError::Dataset(DatasetErrors(Vec::new())),
            StorageError::PageToken("x".into()),
            StorageError::StillReferenced { kind: "organisation", id: "a".into(), detail: "x".into() },
            StorageError::RequestIdReused { request_id: "r".into() },
            StorageError::NotEmpty,
            StorageError::NotOurs { location: "x".into(), detail: "x".into() },
            StorageError::NewerSchema { location: "x".into(), found: 9, supported: 3 },
            StorageError::ReadOnly { location: "x".into(), detail: "x".into() },
            StorageError::Unavailable("x".into()),
            StorageError::BadUrl("x".into()),
            StorageError::Unreadable { resource: "x".into(), reason: "x".into() },
            StorageError::SequenceOutOfRange { given: 9, first: 0, last: 3 },
            StorageError::Internal("x".into()),
        ];
        let reasons = StorageError::reasons();
        let mut given: Vec<&str> = all.iter().map(StorageError::reason).collect();
        given.push("INVALID_FILTER"); // a filter error is built by the filter's parser only
        for r in &given {
            assert!(reasons.contains(r), "{r} is not listed");
        }
        let own: Vec<&&str> = reasons.iter().filter(|r| !ModelError::REASONS.contains(r)).collect();
        assert_eq!(own.len(), given.len() - 1, "{own:?}");
    }
}
