//! The change feed read from the audit log: the log's current position, the changes after a position (each
//! audit entry decoded into the record it wrote, see [`crate::changes`]), and the position every watcher follows
//! (moved after this process's commits and, on PostgreSQL, after each other replica's notification).
//!
//! Invariants: changes are read by position ranges of the log, never taken from a notification's payload, so a
//! reader misses nothing whatever order commits and notifications come in; a position past the log's end, or
//! before its first kept entry, is refused ([`StorageError::SequenceOutOfRange`]), never answered with nothing.

use sqlx::Row;

use super::{Inner, db_error::DbResult, rows::etag_of};
use crate::{
    ChangeBatch, ChangeOp, ChangedRecord, LoggedChange, Record, Result, StorageError,
    resource::{Operation, Resource},
};

/// The most changes one read returns.
pub(super) const MAX_BATCH: usize = 1000;

impl Inner {
    /// The log's position now: its last entry's `seq` (0 when the log is empty).
    pub(super) async fn change_sequence(&self) -> Result<i64> {
        let (seq,): (i64,) =
            sqlx::query_as("SELECT COALESCE(MAX(seq), 0) FROM audit").fetch_one(&self.pool).await.db(self)?;
        Ok(seq)
    }

    /// Reads the log's position and tells watchers when it moved.
    pub(super) async fn refresh_position(&self) -> Result<()> {
        let seq = self.change_sequence().await?;
        self.position.send_if_modified(|known| {
            let moved = seq > *known;
            if moved {
                *known = seq;
            }
            moved
        });
        Ok(())
    }

    /// At most `limit` changes after position `after`, in order.
    pub(super) async fn changes_after(&self, after: i64, limit: usize) -> Result<ChangeBatch> {
        let (first, last): (i64, i64) =
            sqlx::query_as("SELECT COALESCE(MIN(seq), 1), COALESCE(MAX(seq), 0) FROM audit")
                .fetch_one(&self.pool)
                .await
                .db(self)?;
        if after < 0 || after > last || after < first - 1 {
            return Err(StorageError::SequenceOutOfRange { given: after, first: first - 1, last });
        }
        let limit = limit.clamp(1, MAX_BATCH);
        let rows = sqlx::query(
            "SELECT seq, at, operation, resource, before, after FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await
        .db(self)?;
        let mut batch =
            ChangeBatch { changes: Vec::with_capacity(rows.len()), through: after, more: rows.len() == limit };
        for row in &rows {
            let seq: i64 = row.try_get(0).db(self)?;
            let at: String = row.try_get(1).db(self)?;
            let operation: String = row.try_get(2).db(self)?;
            let resource: String = row.try_get(3).db(self)?;
            let before: Option<String> = row.try_get(4).db(self)?;
            let written: Option<String> = row.try_get(5).db(self)?;
            batch.through = seq;
            if let Some(change) = decode_change(seq, at, &operation, &resource, before, written) {
                batch.changes.push(change);
            }
        }
        Ok(batch)
    }
}

/// The change an audit entry records; `None` for an entry that changes nothing a client lists.
fn decode_change(
    seq: i64,
    at: String,
    operation: &str,
    resource: &str,
    before: Option<String>,
    after: Option<String>,
) -> Option<LoggedChange> {
    let reset = |reason: String| LoggedChange {
        seq,
        at: at.clone(),
        op: ChangeOp::Reset,
        record: None,
        reset_reason: Some(reason),
        etag: None,
        create_time: None,
    };
    let (op, body) = match operation {
        o if o == Operation::DeleteUnreadable.as_str() => return None,
        o if o == Operation::Import.as_str() || o == Operation::LoadBundledDataset.as_str() => {
            return Some(reset(format!("the whole store was replaced ({operation}) at change {seq}")));
        }
        o if o == Operation::RecordTreatyAction.as_str() || o == Operation::Create.as_str() => {
            (ChangeOp::Created, after)
        }
        o if o == Operation::Update.as_str() => (ChangeOp::Updated, after),
        o if o == Operation::Delete.as_str() => (ChangeOp::Deleted, before),
        other => return Some(reset(format!("change {seq} is an operation this server does not know ({other})"))),
    };
    let unreadable = |why: String| reset(format!("change {seq} to {resource} cannot be read ({why})"));
    let Some(body) = body else { return Some(unreadable("its record was not kept".into())) };
    let record = match resource.parse::<Resource>() {
        Ok(Resource::Activity(_)) => {
            serde_json::from_str(&body).map(ChangedRecord::Activity).map_err(|e| e.to_string())
        }
        Ok(Resource::TreatyAction { .. }) => {
            serde_json::from_str(&body).map(ChangedRecord::TreatyAction).map_err(|e| e.to_string())
        }
        Ok(Resource::Record(kind, _)) => {
            Record::from_body(kind, &body).map(ChangedRecord::Record).map_err(|e| e.to_string())
        }
        Ok(_) | Err(_) => Err("not a record a client lists".to_owned()),
    };
    Some(match record {
        Ok(record) => LoggedChange {
            seq,
            etag: (op != ChangeOp::Deleted).then(|| etag_of(seq)),
            create_time: (op == ChangeOp::Created).then(|| at.clone()),
            at,
            op,
            record: Some(record),
            reset_reason: None,
        },
        Err(why) => unreadable(why),
    })
}
