//! Catching up: what the store serves from memory (the [`Snapshot`] of treaties, states and treaty actions, and
//! the [`ActivityIndex`]) brought up to date with the database, after this process's commits and, on
//! PostgreSQL, after the other replicas' (learnt through `LISTEN`/`NOTIFY`).
//!
//! Invariants:
//! - a treaty status query touches no database: the snapshot is swapped in whole after each commit;
//! - subscribers hear of every treaty action once, in commit order (`broadcast_seq` is the last one sent);
//! - the activity index holds every write this process has acknowledged (the writer catches it up before it
//!   answers), and converges to what the database holds whatever order commits and notifications come in: the
//!   audit log names the activities written since the index's position, which are read again. When catching up
//!   fails, the index is marked stale and the next list catches up first or fails;
//! - a row that cannot be decoded is set aside in the quarantine, never fatal.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{Arc, Weak},
};

use core_model::{State, Treaty, TreatyAction};
use sqlx::Row;

use super::{
    Backend, Inner,
    activities::activity_row,
    db_error::{DbResult, poisoned},
    rows::{etag_of, try_decode},
    writer::WriteConn,
};
use crate::{
    Change, Result, Snapshot, StorageError,
    activity_index::ActivityIndex,
    quarantine::Unreadable,
    resource::{Operation, Resource},
    snapshot::ActionVersion,
};

/// The notification channel of one PostgreSQL schema (tests run in schemas of their own).
fn notify_channel(schema: &str) -> String {
    let clean: String = schema.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(40).collect();
    format!("cybercrime_{clean}")
}

/// The resource under which a treaty action's row that cannot be decoded is set aside.
fn action_row(row: &sqlx::any::AnyRow, treaty: usize, seq: usize) -> Resource {
    Resource::ActionRow {
        treaty: row.try_get::<i64, _>(treaty).unwrap_or(0),
        seq: row.try_get::<i64, _>(seq).unwrap_or(0),
    }
}

/// The columns of a treaty action's row the snapshot reads, in this order.
const ACTION_COLUMNS: &str = "seq, treaty, body, etag, create_time, update_time";

/// A treaty action's row read with [`ACTION_COLUMNS`]: the action and its version, or why its body cannot be
/// decoded (and the body).
#[allow(clippy::type_complexity)]
fn action_of(
    inner: &Inner,
    row: &sqlx::any::AnyRow,
) -> Result<std::result::Result<(TreatyAction, ActionVersion), (String, String)>> {
    let body: String = row.try_get(2).db(inner)?;
    let version = ActionVersion {
        etag: etag_of(row.try_get::<i64, _>(3).db(inner)?),
        create_time: row.try_get(4).db(inner)?,
        update_time: row.try_get(5).db(inner)?,
    };
    Ok(match try_decode::<TreatyAction>(&body) {
        Ok(action) => Ok((action, version)),
        Err(reason) => Err((reason, body)),
    })
}

/// Listens for the other replicas' commits (PostgreSQL) and catches up after each notification, and after the
/// notification connection is re-established (something may have been missed meanwhile).
pub(super) async fn start_listener(weak: Weak<Inner>, url: &str) -> Result<tokio::task::JoinHandle<()>> {
    let inner = weak.upgrade().ok_or_else(poisoned)?;
    let schema: (String,) =
        sqlx::query_as("SELECT CAST(current_schema() AS TEXT)").fetch_one(&inner.pool).await.db(&inner)?;
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
            if let Err(e) = inner.refresh_position().await {
                tracing::warn!(error = %e, "could not read the change log's position");
            }
        }
    }))
}

impl Inner {
    /// Tells the other replicas (PostgreSQL) that the group's transaction, once committed, wrote something (their
    /// snapshot, activity index and change feeds catch up); a notification is delivered only if the transaction
    /// commits.
    pub(super) async fn notify_replicas(&self, conn: &mut WriteConn, treaty_actions: bool) -> Result<()> {
        if self.backend != Backend::Postgres {
            return Ok(());
        }
        let schema: (String,) =
            sqlx::query_as("SELECT CAST(current_schema() AS TEXT)").fetch_one(&mut **conn).await.db(self)?;
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(notify_channel(&schema.0))
            .bind(if treaty_actions { "treaty_actions" } else { "activities" })
            .execute(&mut **conn)
            .await
            .db(self)?;
        Ok(())
    }

    /// The snapshot as the database holds it now, the rows set aside because they cannot be decoded, and the
    /// `seq` of the last treaty action's row.
    async fn load_snapshot(&self) -> Result<(Snapshot, BTreeMap<String, Unreadable>, i64)> {
        // The audit position first: a write committed while the rows are read is read again by the next
        // catch-up.
        let (version,): (i64,) =
            sqlx::query_as("SELECT COALESCE(MAX(seq), 0) FROM audit").fetch_one(&self.pool).await.db(self)?;
        let mut unreadable = BTreeMap::new();
        let mut set_aside = |row: Resource, reason: String, body: String| {
            let u = Unreadable::new(row, reason, body);
            unreadable.insert(u.resource.clone(), u);
        };
        let mut treaties: Vec<Treaty> = Vec::new();
        for row in sqlx::query("SELECT number, body FROM treaties ORDER BY seq").fetch_all(&self.pool).await.db(self)? {
            let body: String = row.try_get(1).db(self)?;
            match try_decode(&body) {
                Ok(t) => treaties.push(t),
                Err(reason) => {
                    let number = row.try_get::<i64, _>(0).unwrap_or(0).to_string();
                    set_aside(Resource::TreatyRow(number), reason, body);
                }
            }
        }
        let mut states: Vec<State> = Vec::new();
        for row in sqlx::query("SELECT code, body FROM states ORDER BY seq").fetch_all(&self.pool).await.db(self)? {
            let body: String = row.try_get(1).db(self)?;
            match try_decode(&body) {
                Ok(t) => states.push(t),
                Err(reason) => {
                    let code = row.try_get::<String, _>(0).unwrap_or_default();
                    set_aside(Resource::StateRow(code), reason, body);
                }
            }
        }
        let rows = sqlx::query(&format!("SELECT {ACTION_COLUMNS} FROM treaty_actions ORDER BY seq"))
            .fetch_all(&self.pool)
            .await
            .db(self)?;
        let mut actions = Vec::with_capacity(rows.len());
        let mut last = 0;
        for row in &rows {
            let seq = row.try_get::<i64, _>(0).db(self)?;
            last = seq;
            match action_of(self, row)? {
                Ok((action, v)) => actions.push((seq, action, v)),
                Err((reason, body)) => set_aside(action_row(row, 1, 0), reason, body),
            }
        }
        Ok((Snapshot::new(treaties, states, actions, version), unreadable, last))
    }

    /// Builds the snapshot again from the database (at open, and after a whole dataset was imported).
    pub(super) async fn reload_snapshot(&self) -> Result<()> {
        let _guard = self.catching_up.lock().await;
        let (snapshot, unreadable, last) = self.load_snapshot().await?;
        *self.snapshot.write().map_err(|_| poisoned())? = Arc::new(snapshot);
        self.quarantine.lock().map_err(|_| poisoned())?.snapshot = unreadable;
        let mut b = self.broadcast_seq.lock().map_err(|_| poisoned())?;
        *b = (*b).max(last);
        Ok(())
    }

    /// Brings the snapshot up to date with the treaty actions committed since it was built (by this process or,
    /// on PostgreSQL, by another replica): recorded actions are appended; when the audit log names a correction
    /// or a withdrawal since the snapshot's version, it is built again. With `broadcast`, sends subscribers the
    /// recorded actions not sent yet, in order.
    pub(super) async fn catch_up(&self, broadcast: bool) -> Result<()> {
        let _guard = self.catching_up.lock().await;
        let current = self.snapshot();
        let (version,): (i64,) =
            sqlx::query_as("SELECT COALESCE(MAX(seq), 0) FROM audit").fetch_one(&self.pool).await.db(self)?;
        // Corrections and withdrawals of treaty actions (`treaties/{n}/actions/{id}`) since the snapshot's version.
        let (changed,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM audit WHERE seq > $1 AND seq <= $2 AND operation IN ('update', 'delete') \
             AND resource LIKE 'treaties/%/actions/%'",
        )
        .bind(current.version().max(self.actions_checked_to.load(std::sync::atomic::Ordering::SeqCst)))
        .bind(version)
        .fetch_one(&self.pool)
        .await
        .db(self)?;
        if changed > 0 {
            let (snapshot, unreadable, _) = self.load_snapshot().await?;
            *self.snapshot.write().map_err(|_| poisoned())? = Arc::new(snapshot);
            self.quarantine.lock().map_err(|_| poisoned())?.snapshot = unreadable;
        } else {
            let rows = sqlx::query(&format!("SELECT {ACTION_COLUMNS} FROM treaty_actions WHERE seq > $1 ORDER BY seq"))
                .bind(current.last_action_seq())
                .fetch_all(&self.pool)
                .await
                .db(self)?;
            let mut next = (*current).clone();
            let mut added = false;
            for row in &rows {
                let seq: i64 = row.try_get(0).db(self)?;
                match action_of(self, row)? {
                    Ok((action, v)) => {
                        next = next.with_action(seq, action, v, version);
                        added = true;
                    }
                    Err((reason, body)) => {
                        let u = Unreadable::new(action_row(row, 1, 0), reason, body);
                        let mut q = self.quarantine.lock().map_err(|_| poisoned())?;
                        q.snapshot.insert(u.resource.clone(), u);
                    }
                }
            }
            if added {
                *self.snapshot.write().map_err(|_| poisoned())? = Arc::new(next);
            }
        }
        // Under the catching-up lock: the position only grows.
        self.actions_checked_to.fetch_max(version, std::sync::atomic::Ordering::SeqCst);
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

    /// A transaction that only reads, with one view of the database for all its statements (`REPEATABLE READ` on
    /// PostgreSQL, whose default takes a view per statement; SQLite's read transaction in WAL mode keeps one).
    async fn read_transaction(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        let mut tx = self.pool.begin().await.db(self)?;
        if self.backend == Backend::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ").execute(&mut *tx).await.db(self)?;
        }
        Ok(tx)
    }

    /// Rebuilds the activity index from the database.
    pub(super) async fn reload_activities(&self) -> Result<()> {
        let _guard = self.catching_up_activities.lock().await;
        let rebuilt = async {
            // The audit position first: a write committed while the rows are read is read again by the next
            // catch-up.
            // Both in one read transaction: the index is exactly the store at `audit_seq` (lists say so).
            let mut tx = self.read_transaction().await?;
            let (audit_seq,): (i64,) =
                sqlx::query_as("SELECT COALESCE(MAX(seq), 0) FROM audit").fetch_one(&mut *tx).await.db(self)?;
            let rows = sqlx::query("SELECT id, seq, etag, create_time, update_time, body FROM activities ORDER BY seq")
                .fetch_all(&mut *tx)
                .await
                .db(self)?;
            tx.commit().await.db(self)?;
            let mut entries = Vec::with_capacity(rows.len());
            let mut unreadable = BTreeMap::new();
            for row in &rows {
                match activity_row(self, row)? {
                    Ok(activity) => entries.push((row.try_get::<i64, _>("seq").db(self)?, activity)),
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
    pub(super) async fn catch_up_activities(&self) -> Result<()> {
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
        // The log's tail and the activities it names in one read transaction: the index is then exactly the
        // store at the tail's last position (lists say so, and a watch from there repeats nothing).
        let mut tx = self.read_transaction().await?;
        let entries: Vec<(i64, String, String)> =
            sqlx::query_as("SELECT seq, resource, operation FROM audit WHERE seq > $1 ORDER BY seq")
                .bind(from)
                .fetch_all(&mut *tx)
                .await
                .db(self)?;
        let Some(last) = entries.last().map(|e| e.0) else { return Ok(false) };
        let written: Vec<(Result<Resource, _>, &str)> =
            entries.iter().map(|(_, resource, operation)| (resource.parse::<Resource>(), operation.as_str())).collect();
        // A whole dataset imported, or a row of the snapshot deleted: everything is loaded again.
        if written.iter().any(|(resource, operation)| {
            *resource == Ok(Resource::Dataset) || *operation == Operation::DeleteUnreadable.as_str()
        }) {
            return Ok(true);
        }
        let ids: BTreeSet<&str> = written
            .iter()
            .filter_map(|(resource, _)| match resource {
                Ok(Resource::Activity(id)) => Some(id.as_str()),
                _ => None,
            })
            .collect();
        let ids: Vec<&str> = ids.into_iter().collect();
        let mut found = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|n| format!("${n}")).collect();
            let sql = format!(
                "SELECT id, seq, etag, create_time, update_time, body FROM activities WHERE id IN ({})",
                placeholders.join(", ")
            );
            let mut query = sqlx::query(&sql);
            for id in chunk {
                query = query.bind(*id);
            }
            for row in query.fetch_all(&mut *tx).await.db(self)? {
                let seq = row.try_get::<i64, _>("seq").db(self)?;
                found.push((seq, activity_row(self, &row)?));
            }
        }
        tx.commit().await.db(self)?;
        let mut index = self.activities.write().map_err(|_| poisoned())?;
        let mut quarantine = self.quarantine.lock().map_err(|_| poisoned())?;
        for id in &ids {
            index.remove(id);
            quarantine.activities.remove(&Resource::Activity((*id).to_owned()).to_string());
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
}
