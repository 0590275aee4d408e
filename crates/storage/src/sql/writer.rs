//! The writer and its group commit: every write of a store goes through here.
//!
//! A write is a [`WriteBody`] sent, with its principal, operation and resource, to the store's one writer task.
//! The task takes every write waiting at that moment (at most [`MAX_GROUP`]) and runs them as one group:
//!
//! 1. **begin** one transaction holding the database's write lock (SQLite's `BEGIN IMMEDIATE`, PostgreSQL's
//!    advisory lock shared by every replica), and forget the request ids past their time to live;
//! 2. **run each write in a savepoint** ([`Inner::run_one`]): its request id checked, its body, its audit entry
//!    and its request id recorded; a write that fails is rolled back to its savepoint alone;
//! 3. **commit, or roll back** when every write failed or the transaction itself failed (then every write of the
//!    group fails with that cause), notifying the other replicas inside the transaction;
//! 4. **catch up** the snapshot (treaty actions) and the activity index (activities) from what was committed;
//! 5. **answer** each write.
//!
//! Architecture invariant: every write either commits whole, with its audit entry (and its request id, when
//! given), or changes nothing. Writes share a transaction only as a group commit: each runs in its own
//! savepoint, a failing one is undone alone, and a caller is answered only after the group's commit, once the
//! activity index holds the write. A connection never returns to the pool inside a transaction.

use std::{future::Future, pin::Pin, sync::Weak};

use serde::Serialize;
use sqlx::Any;
use tokio::sync::{mpsc, oneshot};

use super::{
    Backend, Inner,
    db_error::{DbResult, poisoned},
    rows::{decode, encode, etag_of},
};
use crate::{
    Result, StorageError, Versioned, WriteContext,
    resource::{Operation, Resource},
};

/// The connection a group of writes runs on, inside a transaction the group begins and ends itself (so that a
/// connection whose transaction could not be ended is closed, never returned to the pool still holding it).
pub(super) type WriteConn = sqlx::pool::PoolConnection<Any>;
/// The work of one write inside the group's transaction.
pub(super) type WriteFuture<'t> = Pin<Box<dyn Future<Output = Result<Effect>> + Send + 't>>;
/// A write's body: what it does on the group's connection, once its request id is checked, knowing the
/// [`Stamp`] its audit entry will carry.
pub(super) type WriteBody = Box<dyn for<'t> FnOnce(&'t Inner, &'t mut WriteConn, Stamp) -> WriteFuture<'t> + Send>;

/// A write's body, as the writer task runs it (a function, so that the closure's signature is inferred).
pub(super) fn body<F>(f: F) -> WriteBody
where
    F: for<'t> FnOnce(&'t Inner, &'t mut WriteConn, Stamp) -> WriteFuture<'t> + Send + 'static,
{
    Box::new(f)
}

/// Where a write stands in the store's one change log: the position (`seq`) and the time (`at`, UTC, RFC 3339
/// with microseconds) of the audit entry the write will be committed with. Positions are given under the
/// store's write lock (SQLite's `BEGIN IMMEDIATE`, PostgreSQL's advisory lock shared by every replica), so they
/// grow in commit order across replicas and are never given twice: a version of a record named by the position
/// of the write that made it is unique over the record's whole life, even across a delete and a re-create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Stamp {
    /// The audit entry's position.
    pub(super) seq: i64,
    /// The audit entry's time.
    pub(super) at: String,
}

/// What a write stores as its response, to answer a repeated request id the same way.
#[derive(Debug, Serialize, serde::Deserialize)]
pub(super) struct Replay {
    pub(super) etag: Option<String>,
    pub(super) body: Option<String>,
    /// When the record written was created and last changed (absent from answers stored before schema
    /// version 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) create_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) update_time: Option<String>,
}

impl Replay {
    /// The answer of a write that answers no record.
    pub(super) fn none() -> Replay {
        Replay { etag: None, body: None, create_time: None, update_time: None }
    }
}

/// What a write did, for the audit log and its answer.
pub(super) struct Effect {
    pub(super) before: Option<String>,
    pub(super) after: Option<String>,
    pub(super) replay: Replay,
    /// A treaty action was inserted.
    pub(super) treaty_action: bool,
    /// The audit entry's position when it is not the [`Stamp`]'s: an import with history places the exported
    /// audit log first, and its own entry after it.
    pub(super) audit_seq: Option<i64>,
}

impl Effect {
    /// A record written (created, or updated from `before`) by the write `stamp`: its version is the stamp's
    /// position (its etag), changed at the stamp's time, created at `create_time` (the stamp's, for a create; the
    /// row's, unknown for a row whose history a migration could not find, for an update).
    pub(super) fn written(before: Option<String>, body: String, stamp: &Stamp, create_time: Option<String>) -> Effect {
        Effect {
            before,
            after: Some(body.clone()),
            replay: Replay {
                etag: Some(etag_of(stamp.seq)),
                body: Some(body),
                create_time,
                update_time: Some(stamp.at.clone()),
            },
            treaty_action: false,
            audit_seq: None,
        }
    }

    /// A record deleted.
    pub(super) fn deleted(before: String) -> Effect {
        Effect { before: Some(before), after: None, replay: Replay::none(), treaty_action: false, audit_seq: None }
    }
}

/// The answer of a write from its replay: the record it wrote, at its etag, with its times.
pub(super) fn replayed<T: serde::de::DeserializeOwned>(replay: Replay) -> Result<Versioned<T>> {
    let mut v = Versioned::new(decode(replay.body.as_deref().unwrap_or("null"))?, replay.etag.unwrap_or_default());
    v.create_time = replay.create_time;
    v.update_time = replay.update_time;
    Ok(v)
}

/// `ctx` with the fingerprint of the write's input (e.g. the record written and the etag given) when it has a
/// request id: a SHA-256 over the parts, each preceded by its length; or the caller's own, when it set one (a
/// write derived from a read, such as a masked update, is fingerprinted by the request it answers).
pub(super) fn fingerprinted(ctx: &WriteContext, input: impl FnOnce() -> Result<Vec<String>>) -> Result<WriteContext> {
    use sha2::Digest;
    let mut ctx = ctx.clone();
    if ctx.request_id.is_none() {
        ctx.fingerprint = None;
    } else if ctx.fingerprint.is_none() {
        let mut hash = sha2::Sha256::new();
        for part in input()? {
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part.as_bytes());
        }
        ctx.fingerprint = Some(hash.finalize().iter().map(|b| format!("{b:02x}")).collect());
    }
    Ok(ctx)
}

/// One write waiting for the writer task.
pub(super) struct Job {
    ctx: WriteContext,
    operation: Operation,
    resource: Resource,
    body: WriteBody,
    reply: oneshot::Sender<Result<Replay>>,
}

/// At most this many writes share one transaction.
pub(super) const MAX_GROUP: usize = 256;

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
pub(super) async fn writer(weak: Weak<Inner>, mut jobs: mpsc::Receiver<Job>) {
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

/// A group of writes as it runs: each write's answer so far, and what the committed writes changed.
struct Group {
    answers: Vec<(oneshot::Sender<Result<Replay>>, Result<Replay>)>,
    /// A treaty action was inserted: the snapshot catches up.
    treaty_actions: bool,
    /// An activity, a whole dataset or a row set aside was written: the activity index catches up.
    activities: bool,
}

impl Group {
    /// Nothing of the group is committed: every write that had succeeded so far fails with the cause.
    fn failed(&mut self, e: &StorageError) {
        for (_, answer) in &mut self.answers {
            if answer.is_ok() {
                *answer = Err(for_each_write(e));
            }
        }
        self.treaty_actions = false;
        self.activities = false;
        if self.answers.is_empty() {
            tracing::warn!(error = %e, "a group of writes failed before its first write");
        }
        // Writes not reached are answered by their dropped senders ("closed before the write was done") unless
        // answered here.
    }
}

impl Inner {
    /// Runs one write in the next group commit and answers once it is durable (or failed): a write whose
    /// request id was seen before for the same operation and resource gets the answer given then.
    pub(super) async fn write(
        &self,
        ctx: &WriteContext,
        operation: Operation,
        resource: Resource,
        body: WriteBody,
    ) -> Result<Replay> {
        let (reply, answer) = oneshot::channel();
        let job = Job { ctx: ctx.clone(), operation, resource, body, reply };
        self.writes.send(job).await.map_err(|_| StorageError::Unavailable("the store is closed".into()))?;
        answer.await.map_err(|_| {
            StorageError::Unavailable(
                "the write was not done: its group's transaction failed or the store closed".into(),
            )
        })?
    }

    /// Runs a group of writes in one transaction, each in a savepoint (one write alone needs none: it fails
    /// with its transaction), commits once, catches up, and answers each write.
    async fn run_group(&self, jobs: Vec<Job>) {
        let _guard = self.write_lock.lock().await;
        let mut group = Group { answers: Vec::with_capacity(jobs.len()), treaty_actions: false, activities: false };
        let mut conn = match self.pool.acquire().await {
            Ok(conn) => conn,
            Err(e) => {
                let e = self.err(e);
                tracing::warn!(error = %e, "no connection for a group of writes");
                for job in jobs {
                    let _ = job.reply.send(Err(for_each_write(&e)));
                }
                return;
            }
        };
        // Whether the group's transaction is open (begun, not yet committed or rolled back).
        let mut open = false;
        let outcome = self.run_in_transaction(&mut conn, &mut open, jobs, &mut group).await;
        if open {
            // The group failed inside its transaction: end it here, or close the connection (which ends it)
            // rather than return it to the pool holding the write lock and an old snapshot.
            if sqlx::query("ROLLBACK").execute(&mut *conn).await.is_err() {
                let _ = conn.close().await;
            }
        } else {
            drop(conn);
        }
        if let Err(e) = outcome {
            group.failed(&e);
        }
        if group.treaty_actions {
            // SQLite broadcasts here; on PostgreSQL the listener does, for this replica's writes and the others'.
            if let Err(e) = self.catch_up(self.backend == Backend::Sqlite).await {
                tracing::warn!(error = %e, "committed, but could not catch the snapshot up yet");
            }
        }
        if group.activities {
            // Before answering: a caller lists what it has just written. A list that starts meanwhile is
            // concurrent with writes not yet answered, and may miss them.
            if let Err(e) = self.catch_up_activities().await {
                tracing::warn!(error = %e, "committed, but could not catch the activity index up yet");
            }
        }
        for (reply, answer) in group.answers {
            // A caller that went away still had its write done.
            let _ = reply.send(answer);
        }
    }

    /// Steps 1 to 3 of a group: begin, each write in its savepoint, commit or roll back. An error is the
    /// group's: nothing of it is committed (`open` tells whether the transaction is still to be ended).
    async fn run_in_transaction(
        &self,
        conn: &mut WriteConn,
        open: &mut bool,
        jobs: Vec<Job>,
        group: &mut Group,
    ) -> Result<()> {
        self.begin_group(conn).await?;
        *open = true;
        self.prune_request_ids(conn).await?;
        let savepoints = jobs.len() > 1;
        for Job { ctx, operation, resource, body, reply } in jobs {
            if savepoints {
                sqlx::query("SAVEPOINT w").execute(&mut **conn).await.db(self)?;
            }
            match self.run_one(conn, &ctx, operation, &resource, body).await {
                Ok((replay, treaty_action)) => {
                    group.treaty_actions |= treaty_action;
                    group.activities |= resource.touches_activities() || operation == Operation::DeleteUnreadable;
                    if savepoints {
                        sqlx::query("RELEASE SAVEPOINT w").execute(&mut **conn).await.db(self)?;
                    }
                    group.answers.push((reply, Ok(replay)));
                }
                Err(e) if savepoints => {
                    // Some errors end the whole transaction on their own (SQLite rolls back on a full disk or
                    // an I/O error): then its savepoint is gone too, and the group fails with this cause.
                    let undone = async {
                        sqlx::query("ROLLBACK TO SAVEPOINT w").execute(&mut **conn).await?;
                        sqlx::query("RELEASE SAVEPOINT w").execute(&mut **conn).await
                    }
                    .await;
                    if undone.is_err() {
                        group.answers.push((reply, Err(for_each_write(&e))));
                        return Err(e);
                    }
                    group.answers.push((reply, Err(e)));
                }
                Err(e) => {
                    // The only write failed: nothing of it is committed.
                    group.answers.push((reply, Err(e)));
                    sqlx::query("ROLLBACK").execute(&mut **conn).await.db(self)?;
                    *open = false;
                    return Ok(());
                }
            }
        }
        if group.answers.iter().all(|(_, a)| a.is_err()) {
            sqlx::query("ROLLBACK").execute(&mut **conn).await.db(self)?;
            *open = false;
            return Ok(());
        }
        if group.treaty_actions || group.activities {
            self.notify_replicas(conn, group.treaty_actions).await?;
        }
        sqlx::query("COMMIT").execute(&mut **conn).await.db(self)?;
        *open = false;
        Ok(())
    }

    /// Begins the group's transaction with the database's write lock: SQLite's RESERVED lock (`BEGIN
    /// IMMEDIATE`), PostgreSQL's advisory lock shared by every replica.
    async fn begin_group(&self, conn: &mut WriteConn) -> Result<()> {
        /// The PostgreSQL advisory lock that serialises writers across replicas.
        const WRITE_LOCK_KEY: i64 = 0x0C0E_0185;
        match self.backend {
            Backend::Sqlite => sqlx::query("BEGIN IMMEDIATE").execute(&mut **conn).await,
            Backend::Postgres => {
                sqlx::query("BEGIN").execute(&mut **conn).await.db(self)?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(WRITE_LOCK_KEY).execute(&mut **conn).await
            }
        }
        .db(self)?;
        Ok(())
    }

    /// Forgets, inside the group's transaction, the request ids older than their time to live, when it is time
    /// to (at most every hour, or every eighth of that time).
    async fn prune_request_ids(&self, conn: &mut WriteConn) -> Result<()> {
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
        sqlx::query("DELETE FROM requests WHERE at < $1").bind(cutoff.as_str()).execute(&mut **conn).await.db(self)?;
        Ok(())
    }

    /// One write of a group: its request id checked, its body, its audit entry and its request id recorded.
    /// Answers the write's replay and whether it inserted a treaty action. A request id is the principal's own:
    /// sent again with the same operation, resource and input (fingerprint) it gets the answer given then;
    /// with anything else it is refused, without naming the earlier request.
    async fn run_one(
        &self,
        conn: &mut WriteConn,
        ctx: &WriteContext,
        operation: Operation,
        resource: &Resource,
        body: WriteBody,
    ) -> Result<(Replay, bool)> {
        let (operation, resource) = (operation.as_str(), resource.to_string());
        if let Some(request_id) = &ctx.request_id {
            let seen: Option<(String, String, Option<String>, String)> = sqlx::query_as(
                "SELECT operation, resource, fingerprint, response FROM requests WHERE principal = $1 AND request_id = $2",
            )
            .bind(ctx.principal.as_str())
            .bind(request_id.as_str())
            .fetch_optional(&mut **conn)
            .await
            .db(self)?;
            if let Some((op, res, fingerprint, response)) = seen {
                // An id recorded before schema version 3 has no fingerprint: its operation and resource decide.
                let same_input = match (&fingerprint, &ctx.fingerprint) {
                    (Some(then), Some(now)) => then == now,
                    _ => true,
                };
                // A resource recorded under a name of before (a treaty action's before schema version 5) is
                // the same resource.
                let same_resource = res == resource || res.parse::<Resource>().is_ok_and(|r| r.to_string() == resource);
                if op != operation || !same_resource || !same_input {
                    return Err(StorageError::RequestIdReused { request_id: request_id.clone() });
                }
                return Ok((decode(&response)?, false));
            }
        }
        let (seq,): (i64,) =
            sqlx::query_as("SELECT COALESCE(MAX(seq), 0) + 1 FROM audit").fetch_one(&mut **conn).await.db(self)?;
        let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let stamp = Stamp { seq, at: at.clone() };
        let effect = body(self, conn, stamp).await?;
        let seq = effect.audit_seq.unwrap_or(seq);
        sqlx::query(
            "INSERT INTO audit (seq, at, principal, request_id, operation, resource, before, after) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(seq)
        .bind(at.as_str())
        .bind(ctx.principal.as_str())
        .bind(ctx.request_id.as_deref())
        .bind(operation)
        .bind(resource.as_str())
        .bind(effect.before.as_deref())
        .bind(effect.after.as_deref())
        .execute(&mut **conn)
        .await
        .db(self)?;
        if let Some(request_id) = &ctx.request_id {
            sqlx::query(
                "INSERT INTO requests (principal, request_id, operation, resource, fingerprint, response, at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(ctx.principal.as_str())
            .bind(request_id.as_str())
            .bind(operation)
            .bind(resource.as_str())
            .bind(ctx.fingerprint.as_deref())
            .bind(encode(&effect.replay)?)
            .bind(at.as_str())
            .execute(&mut **conn)
            .await
            .db(self)?;
        }
        Ok((effect.replay, effect.treaty_action))
    }
}
