//! What a database error means for the store: a constraint a write broke, or a database that cannot serve now.
//!
//! Constraint violations are recognised through sqlx's own [`sqlx::error::DatabaseError::kind`] (unique and
//! foreign-key violations, for SQLite's extended result codes and PostgreSQL's SQLSTATEs alike); each write
//! turns the one it expects into its own error (an id taken, a reference missing, a record still named).
//!
//! sqlx's `ErrorKind` says nothing of a read-only database, a full disk, an I/O error, a file that is not a
//! database, a busy database or a lost connection, so [`cause`] still reads those from the driver's own codes:
//! SQLite's primary result code (the low byte of its extended code) for SQLite's errors, the SQLSTATE for
//! PostgreSQL's. Every other database error is internal: a bug or corruption.

use super::Inner;
use crate::{Result, StorageError};

/// Whether `e` is a unique (or primary key) violation.
pub(super) fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error().is_some_and(|db| db.is_unique_violation())
}

/// Whether `e` is a foreign key violation.
pub(super) fn is_foreign_key_violation(e: &sqlx::Error) -> bool {
    e.as_database_error().is_some_and(|db| db.is_foreign_key_violation())
}

/// Why a database cannot serve a request, beyond what sqlx's `ErrorKind` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cause {
    /// The database or its file cannot be written.
    ReadOnly,
    /// The disk is full.
    DiskFull,
    /// The disk failed.
    Io,
    /// The file is not a SQLite database.
    NotADatabase,
    /// Another connection holds a lock.
    Busy,
    /// The connection was lost, refused or timed out.
    Unavailable,
}

/// SQLite's primary result codes (<https://www.sqlite.org/rescode.html>).
const SQLITE_BUSY: i64 = 5;
const SQLITE_LOCKED: i64 = 6;
const SQLITE_READONLY: i64 = 8;
const SQLITE_IOERR: i64 = 10;
const SQLITE_FULL: i64 = 13;
const SQLITE_NOTADB: i64 = 26;

/// The cause of `e` that the store answers other than as an internal error.
fn cause(e: &sqlx::Error) -> Option<Cause> {
    match e {
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                // SQLite reports extended result codes; their low byte is the primary code.
                match code.parse::<i64>().ok().map(|c| c & 0xff)? {
                    SQLITE_READONLY => Some(Cause::ReadOnly),
                    SQLITE_FULL => Some(Cause::DiskFull),
                    SQLITE_IOERR => Some(Cause::Io),
                    SQLITE_NOTADB => Some(Cause::NotADatabase),
                    SQLITE_BUSY | SQLITE_LOCKED => Some(Cause::Busy),
                    _ => None,
                }
            } else {
                // PostgreSQL: read_only_sql_transaction, disk_full, and the classes of connection exceptions
                // (08) and operator intervention (57P: the server shutting down, the connection ended).
                match code.as_str() {
                    "25006" => Some(Cause::ReadOnly),
                    "53100" => Some(Cause::DiskFull),
                    c if c.starts_with("08") || c.starts_with("57P") => Some(Cause::Unavailable),
                    _ => None,
                }
            }
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed | sqlx::Error::Tls(_) => {
            Some(Cause::Unavailable)
        }
        _ => None,
    }
}

/// The store's error for a database error at `location` (the store's printable location).
pub(super) fn error_at(location: &str, e: sqlx::Error) -> StorageError {
    match cause(&e) {
        Some(Cause::ReadOnly) => StorageError::ReadOnly { location: location.to_owned(), detail: e.to_string() },
        Some(Cause::DiskFull) => StorageError::Unavailable(format!("the disk is full: {e}")),
        Some(Cause::Io) => StorageError::Unavailable(format!("the store's disk failed: {e}")),
        Some(Cause::Busy | Cause::Unavailable) => StorageError::Unavailable(e.to_string()),
        Some(Cause::NotADatabase) => {
            StorageError::NotOurs { location: location.to_owned(), detail: "it is not a SQLite database".into() }
        }
        None => StorageError::Internal(e.to_string()),
    }
}

/// A database result turned into the store's, naming the store's location.
pub(super) trait DbResult<T> {
    /// The result, with a database error turned into a [`StorageError`] by [`error_at`].
    fn db(self, inner: &Inner) -> Result<T>;
}

impl<T> DbResult<T> for std::result::Result<T, sqlx::Error> {
    fn db(self, inner: &Inner) -> Result<T> {
        self.map_err(|e| inner.err(e))
    }
}

/// The error of a lock poisoned by a panic.
pub(super) fn poisoned() -> StorageError {
    StorageError::Internal("a lock was poisoned by a panic".to_owned())
}
