//! Import and export: a whole dataset loaded into an empty store (with the history it was exported with), and
//! everything the store holds read out, with its audit log.
//!
//! Invariants: an import is one write (one transaction, one audit entry) into a store that holds no data, after
//! the dataset validates; an export reads every table in one transaction (one consistent view, `REPEATABLE
//! READ` on PostgreSQL), leaves out the rows that cannot be decoded (`find_unreadable` names them), and keeps
//! what writes rely on: the etag of every activity and record, the audit log and the request ids, so that
//! export → import keeps a stale etag stale and a retried write applied once.

use core_model::{CountryCode, Dataset, Region};
use serde::de::DeserializeOwned;
use sqlx::{Any, Row, Transaction, any::AnyRow};

use super::{
    Backend, Inner,
    activities::Version,
    db_error::{DbResult, is_unique_violation},
    open::COUNT_DATA_ROWS,
    rows::{encode, try_decode},
    writer::{Effect, Replay, WriteConn, body},
};
use crate::{
    AuditEntry, History, Page, PageRequest, Record, RecordKind, RequestEntry, Result, StorageError, WriteContext,
    record,
    resource::{Operation, Resource},
};

impl Inner {
    /// Loads `dataset` into an empty store with `history` (empty for a new store): every activity and record at
    /// its etag there, else at this import's audit position (the etag of a version is the position of the write
    /// that made it), with its times from the history's audit log, else this import's time; the audit log (at
    /// its positions, after any entry already here) and the request ids, then this import's own audit entry,
    /// after the history's log.
    pub(super) async fn import(
        &self,
        ctx: &WriteContext,
        dataset: &Dataset,
        history: &History,
        operation: Operation,
    ) -> Result<()> {
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
        let dataset = dataset.clone();
        let history = history.clone();
        let write = body(move |inner, conn, stamp| {
            Box::pin(async move {
                let (dataset, history) = (&dataset, &history);
                // The history's log goes after the entries already here (at `stamp.seq - 1` and before), and this
                // import's entry after it: its position names the versions the history gives no etag.
                let own_seq = stamp.seq + history.audit.iter().map(|e| e.seq).max().unwrap_or(0);
                let times = history_times(history);
                let version = |resource: Resource| {
                    let name = resource.to_string();
                    let (create_time, update_time) = times.get(name.as_str()).cloned().unwrap_or_default();
                    let or_import = |t: Option<String>| t.or_else(|| times.get("").and_then(|t| t.1.clone()));
                    Version {
                        etag: history.etags.get(&name).copied().unwrap_or(own_seq),
                        create_time: or_import(create_time).or_else(|| Some(stamp.at.clone())),
                        update_time: or_import(update_time).or_else(|| Some(stamp.at.clone())),
                    }
                };
                if !inner.is_empty_in(conn).await? {
                    return Err(StorageError::NotEmpty);
                }
                for (i, t) in dataset.treaties.iter().enumerate() {
                    sqlx::query("INSERT INTO treaties (number, seq, body) VALUES ($1, $2, $3)")
                        .bind(i64::from(t.number.0))
                        .bind(i as i64 + 1)
                        .bind(encode(t)?)
                        .execute(&mut **conn)
                        .await
                        .db(inner)?;
                }
                for (i, s) in dataset.states.iter().enumerate() {
                    sqlx::query("INSERT INTO states (code, seq, body) VALUES ($1, $2, $3)")
                        .bind(s.code.as_str())
                        .bind(i as i64 + 1)
                        .bind(encode(s)?)
                        .execute(&mut **conn)
                        .await
                        .db(inner)?;
                }
                // A treaty action at its etag in the history (else this import's), recorded when the history's
                // log says (its names of before schema version 5 too), last changed at its etag's entry (else at the
                // import the history ends with, else now).
                let mut recorded: std::collections::HashMap<String, &str> = Default::default();
                for e in history.audit.iter().filter(|e| e.operation == Operation::RecordTreatyAction.as_str()) {
                    if let Ok(r) = e.resource.parse::<Resource>() {
                        recorded.entry(r.to_string()).or_insert(e.at.as_str());
                    }
                }
                let at_seq: std::collections::HashMap<i64, &str> =
                    history.audit.iter().map(|e| (e.seq, e.at.as_str())).collect();
                let imported = times.get("").and_then(|t| t.1.clone()).unwrap_or_else(|| stamp.at.clone());
                for a in &dataset.treaty_actions {
                    let name = Resource::treaty_action(a).to_string();
                    let etag = history.etags.get(&name).copied().unwrap_or(own_seq);
                    let v = Version {
                        etag,
                        create_time: Some(recorded.get(name.as_str()).map_or(imported.clone(), |t| (*t).to_owned())),
                        update_time: Some(at_seq.get(&etag).map_or(imported.clone(), |t| (*t).to_owned())),
                    };
                    inner.insert_action(conn, a, &v).await?;
                }
                for r in record::records_of(dataset) {
                    inner.insert_record(conn, &r, &version(Resource::Record(r.kind(), r.id()))).await?;
                }
                let regions: std::collections::HashMap<&CountryCode, Region> =
                    dataset.states.iter().map(|s| (&s.code, s.region)).collect();
                for a in &dataset.activities {
                    let region = a.region(|c| regions.get(c).copied());
                    inner.insert_activity(conn, a, region, &version(Resource::Activity(a.id.clone()))).await?;
                }
                inner.insert_history(conn, history).await?;
                Ok::<Effect, StorageError>(Effect {
                    before: None,
                    after: Some(summary.clone()),
                    replay: Replay::none(),
                    treaty_action: false,
                    audit_seq: Some(own_seq),
                })
            })
        });
        self.write(ctx, operation, Resource::Dataset, write).await?;
        self.reload_snapshot().await
    }

    /// Whether the store holds no data, read inside the write's transaction.
    async fn is_empty_in(&self, conn: &mut WriteConn) -> Result<bool> {
        let row: (i64,) = sqlx::query_as(COUNT_DATA_ROWS).fetch_one(&mut **conn).await.db(self)?;
        Ok(row.0 == 0)
    }

    /// Inserts an exported history's audit log (after any entry already here, keeping its positions' order and
    /// gaps) and request ids.
    async fn insert_history(&self, conn: &mut WriteConn, history: &History) -> Result<()> {
        let (offset,): (i64,) =
            sqlx::query_as("SELECT COALESCE(MAX(seq), 0) FROM audit").fetch_one(&mut **conn).await.db(self)?;
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
            .execute(&mut **conn)
            .await
            .db(self)?;
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
            .execute(&mut **conn)
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    StorageError::AlreadyExists {
                        kind: "request id",
                        id: format!("{} of {}", r.request_id, r.principal),
                    }
                } else {
                    self.err(e)
                }
            })?;
        }
        Ok(())
    }

    /// Everything the store holds, with its history when `with_history`, read in one transaction: one
    /// consistent view even while others write.
    pub(super) async fn export(&self, with_history: bool) -> Result<(Dataset, History)> {
        let mut tx = self.pool.begin().await.db(self)?;
        if self.backend == Backend::Postgres {
            // One snapshot for every statement (READ COMMITTED, the default, takes one per statement).
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ").execute(&mut *tx).await.db(self)?;
        }
        let mut ds = Dataset::empty();
        async fn all<T: DeserializeOwned>(
            inner: &Inner,
            tx: &mut Transaction<'static, Any>,
            sql: &str,
        ) -> Result<Vec<T>> {
            // Rows that cannot be decoded are left out (`find_unreadable` names them).
            let rows = sqlx::query(sql).fetch_all(&mut **tx).await.db(inner)?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                out.extend(try_decode(&r.try_get::<String, _>(0).db(inner)?).ok());
            }
            Ok(out)
        }
        ds.treaties = all(self, &mut tx, "SELECT body FROM treaties ORDER BY seq").await?;
        ds.states = all(self, &mut tx, "SELECT body FROM states ORDER BY seq").await?;
        ds.treaty_actions = all(self, &mut tx, "SELECT body FROM treaty_actions ORDER BY seq").await?;
        ds.activities = all(self, &mut tx, "SELECT body FROM activities ORDER BY seq").await?;
        for kind in RecordKind::ALL {
            let rows = sqlx::query("SELECT body FROM records WHERE kind = $1 ORDER BY seq")
                .bind(kind.as_str())
                .fetch_all(&mut *tx)
                .await
                .db(self)?;
            for row in &rows {
                if let Ok(r) = Record::from_body(kind, &row.try_get::<String, _>(0).db(self)?) {
                    r.add_to(&mut ds);
                }
            }
        }
        let history = if with_history { self.history(&mut tx).await? } else { History::default() };
        tx.rollback().await.db(self)?;
        Ok((ds, history))
    }

    /// The store's history, read on `conn` (inside the export's transaction).
    async fn history(&self, conn: &mut sqlx::AnyConnection) -> Result<History> {
        let mut history = History::default();
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT id, etag FROM activities").fetch_all(&mut *conn).await.db(self)?;
        history.etags.extend(rows.into_iter().map(|(id, etag)| (Resource::Activity(id).to_string(), etag)));
        let rows: Vec<(String, i64, String, i64)> =
            sqlx::query_as("SELECT state, treaty, kind, etag FROM treaty_actions")
                .fetch_all(&mut *conn)
                .await
                .db(self)?;
        history.etags.extend(rows.into_iter().map(|(state, treaty, kind, etag)| {
            (Resource::TreatyAction { state, treaty: treaty as u32, kind }.to_string(), etag)
        }));
        let rows: Vec<(String, String, i64)> =
            sqlx::query_as("SELECT kind, id, etag FROM records").fetch_all(&mut *conn).await.db(self)?;
        // Named as the audit log names them; a kind this build does not know keeps its stored name.
        history.etags.extend(rows.into_iter().map(|(kind, id, etag)| {
            let name = match RecordKind::ALL.into_iter().find(|k| k.as_str() == kind) {
                Some(kind) => Resource::Record(kind, id).to_string(),
                None => format!("{kind}/{id}"),
            };
            (name, etag)
        }));
        let rows = sqlx::query(
            "SELECT seq, at, principal, request_id, operation, resource, before, after FROM audit ORDER BY seq",
        )
        .fetch_all(&mut *conn)
        .await
        .db(self)?;
        history.audit = rows.iter().map(|row| audit_entry(self, row)).collect::<Result<_>>()?;
        let rows = sqlx::query(
            "SELECT principal, request_id, operation, resource, fingerprint, response, at FROM requests \
             ORDER BY at, principal, request_id",
        )
        .fetch_all(&mut *conn)
        .await
        .db(self)?;
        for row in &rows {
            history.requests.push(RequestEntry {
                principal: row.try_get("principal").db(self)?,
                request_id: row.try_get("request_id").db(self)?,
                operation: row.try_get("operation").db(self)?,
                resource: row.try_get("resource").db(self)?,
                fingerprint: row.try_get("fingerprint").db(self)?,
                response: row.try_get("response").db(self)?,
                at: row.try_get("at").db(self)?,
            });
        }
        Ok(history)
    }

    /// The audit log, oldest first.
    pub(super) async fn audit_log(&self, page: &PageRequest) -> Result<Page<AuditEntry>> {
        self.page(
            "SELECT seq, at, principal, request_id, operation, resource, before, after FROM audit WHERE 1 = 1",
            Vec::new(),
            "audit",
            page,
            |row| audit_entry(self, row),
        )
        .await
    }
}

/// What an exported audit log says of each resource's times: by resource name, the time of its last create and
/// of its last create or update; under `""`, the time of the last import (its `.1`).
fn history_times(history: &History) -> std::collections::HashMap<&str, (Option<String>, Option<String>)> {
    let mut times: std::collections::HashMap<&str, (Option<String>, Option<String>)> = Default::default();
    for e in &history.audit {
        match e.operation.as_str() {
            "create" => *times.entry(e.resource.as_str()).or_default() = (Some(e.at.clone()), Some(e.at.clone())),
            "update" => times.entry(e.resource.as_str()).or_default().1 = Some(e.at.clone()),
            "import" | "load-bundled-dataset" => times.entry("").or_default().1 = Some(e.at.clone()),
            _ => {}
        }
    }
    times
}

/// An audit entry's row.
fn audit_entry(inner: &Inner, row: &AnyRow) -> Result<AuditEntry> {
    Ok(AuditEntry {
        seq: row.try_get("seq").db(inner)?,
        at: row.try_get("at").db(inner)?,
        principal: row.try_get("principal").db(inner)?,
        request_id: row.try_get("request_id").db(inner)?,
        operation: row.try_get("operation").db(inner)?,
        resource: row.try_get("resource").db(inner)?,
        before: row.try_get("before").db(inner)?,
        after: row.try_get("after").db(inner)?,
    })
}
