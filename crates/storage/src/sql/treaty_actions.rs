//! Treaty actions: the `treaty_actions` table (signatures, ratifications, accessions...) that every treaty status
//! is computed from. Each action is a resource named `treaties/{n}/actions/{STATE}-{kind}`
//! ([`core_model::names::treaty_action`]): a state takes each kind of step once under a treaty, so its treaty,
//! state and kind name it. It can be read alone, recorded, corrected (its date, entry into force, sources and
//! note; a different kind is a withdrawal and a new record) and withdrawn.
//!
//! Each write is a body run by the writer ([`super::writer`]): it checks the action against every rule of
//! `core-model` and against every action *in the database*, under the write lock (another replica may have
//! written since this one's snapshot was built). A recording checks the new action against its state's
//! ([`core_model::Dataset::check_new_action`]); a correction or a withdrawal checks the whole record with the
//! change applied ([`core_model::Dataset::treaty_rule_violations`]): it may break no rule the record did not
//! already break (withdrawing a signature a ratification rests on, a date before the treaty opened, an ETS 185
//! consent an ETS 189 consent needs). The snapshot catches up after the commit (reloaded after a correction or a
//! withdrawal), and subscribers hear of recordings then.
//!
//! Invariants: an action is recorded once (`once_key`: one consent, one signature... per state and treaty, which
//! a unique index holds); an action the rules refuse is not written; a version's etag is the audit position of
//! the write that made it (unique over the action's whole life, across a withdrawal and a new record), with its
//! times (`create_time`, `update_time`) from the audit log; a row's `seq` (its place in the log WatchTreatyActions
//! follows) is never given twice, even after a withdrawal; reads of statuses never touch this table (they read
//! the snapshot).

use core_model::{ActionKind, CountryCode, Dataset, TreatyAction, TreatyNumber};
use sqlx::{Row, any::AnyRow};

use super::{
    Inner,
    activities::Version,
    db_error::{DbResult, is_foreign_key_violation, is_unique_violation},
    rows::{Param, check_etag, encode, encode_checked, etag_of, try_decode},
    writer::{Effect, Replay, Stamp, WriteConn, body, fingerprinted, replayed},
};
use crate::{
    ActionCorrection, Page, PageRequest, Result, StorageError, Versioned, WriteContext,
    resource::{Operation, Resource},
};

/// What the errors call a treaty action.
const KIND: &str = "treaty action";
/// The `meta` key of the highest `seq` a withdrawn action's row held: a new row's `seq` is above it.
const HIGH_SEQ_KEY: &str = "treaty_actions_high_seq";

/// The columns a treaty action's version is read from.
const COLUMNS: &str = "seq, treaty, body, etag, create_time, update_time";

/// A treaty action's resource name.
fn name_of(treaty: TreatyNumber, state: &CountryCode, kind: ActionKind) -> String {
    core_model::names::treaty_action(treaty, state, kind)
}

/// A row read with [`COLUMNS`]: the action at its version, or the reason it cannot be read.
fn versioned_row(inner: &Inner, row: &AnyRow) -> Result<std::result::Result<Versioned<TreatyAction>, StorageError>> {
    let body: String = row.try_get("body").db(inner)?;
    let etag: i64 = row.try_get("etag").db(inner)?;
    let create_time: Option<String> = row.try_get("create_time").db(inner)?;
    let update_time: Option<String> = row.try_get("update_time").db(inner)?;
    Ok(match try_decode::<TreatyAction>(&body) {
        Ok(action) => Ok(Versioned { record: action, etag: etag_of(etag), create_time, update_time }),
        Err(reason) => Err(StorageError::Unreadable { resource: action_row(row).to_string(), reason }),
    })
}

/// The resource of a stored row, for naming it when it cannot be read.
fn action_row(row: &AnyRow) -> Resource {
    Resource::ActionRow {
        treaty: row.try_get::<i64, _>("treaty").unwrap_or(0),
        seq: row.try_get::<i64, _>("seq").unwrap_or(0),
    }
}

impl Inner {
    /// Records a treaty action after checking it against every rule and every action of its state.
    pub(super) async fn record_treaty_action(
        &self,
        ctx: &WriteContext,
        action: TreatyAction,
    ) -> Result<Versioned<TreatyAction>> {
        let resource = Resource::treaty_action(&action);
        let ctx = &fingerprinted(ctx, || Ok(vec![encode(&action)?]))?;
        let write = body(move |inner, conn, stamp| {
            Box::pin(async move {
                // Check against the actions in the database (another replica may have written since the snapshot
                // was built), under the write lock.
                action.check_limits()?;
                inner.check_sources(conn, &action.source).await?;
                let mut view = inner.snapshot().dataset().clone();
                view.treaty_actions.retain(|a| a.state != action.state);
                view.treaty_actions.extend(inner.actions_in(conn, Some(&action.state)).await?.into_iter().map(|r| r.1));
                view.check_new_action(&action)?;
                inner.insert_action(conn, &action, &Version::created(&stamp)).await?;
                let body = encode(&action)?;
                Ok::<Effect, StorageError>(Effect {
                    before: None,
                    after: Some(body.clone()),
                    replay: Replay {
                        etag: Some(etag_of(stamp.seq)),
                        body: Some(body),
                        create_time: Some(stamp.at.clone()),
                        update_time: Some(stamp.at.clone()),
                    },
                    treaty_action: true,
                    audit_seq: None,
                })
            })
        });
        replayed(self.write(ctx, Operation::RecordTreatyAction, resource, write).await?)
    }

    /// One treaty action, at its current version.
    pub(super) async fn get_treaty_action(
        &self,
        treaty: TreatyNumber,
        state: &CountryCode,
        kind: ActionKind,
    ) -> Result<Versioned<TreatyAction>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM treaty_actions WHERE treaty = $1 AND state = $2 AND kind = $3"
        ))
        .bind(i64::from(treaty.0))
        .bind(state.as_str())
        .bind(kind.as_str())
        .fetch_optional(&self.pool)
        .await
        .db(self)?
        .ok_or_else(|| StorageError::NotFound { kind: KIND, id: name_of(treaty, state, kind) })?;
        versioned_row(self, &row)?
    }

    /// Corrects a treaty action (the one its treaty, state and kind name): the correction is applied to the
    /// stored version; with `etag`, only if it is still at that version. The whole record with the correction is
    /// checked against every rule.
    pub(super) async fn update_treaty_action(
        &self,
        ctx: &WriteContext,
        correction: ActionCorrection,
        etag: Option<&str>,
    ) -> Result<Versioned<TreatyAction>> {
        let (treaty, state, kind) = (correction.treaty, correction.state.clone(), correction.kind);
        let resource =
            Resource::TreatyAction { state: state.to_string(), treaty: treaty.0, kind: kind.as_str().into() };
        let ctx = &fingerprinted(ctx, || Ok(vec![encode(&correction)?, etag.unwrap_or_default().to_owned()]))?;
        let etag = etag.map(str::to_owned);
        let write = body(move |inner, conn, stamp| {
            Box::pin(async move {
                let name = name_of(treaty, &state, kind);
                let (seq, current, before, create_time) = inner.current_action(conn, treaty, &state, kind).await?;
                check_etag(KIND, &name, etag.as_deref(), current)?;
                let stored: TreatyAction = try_decode(&before).map_err(|reason| StorageError::Unreadable {
                    resource: Resource::ActionRow { treaty: i64::from(treaty.0), seq }.to_string(),
                    reason,
                })?;
                let action = correction.apply(&stored);
                action.check_limits()?;
                inner.check_sources(conn, &action.source).await?;
                inner
                    .check_change(conn, |actions| {
                        for a in actions.iter_mut() {
                            if a.treaty == action.treaty && a.state == action.state && a.kind == action.kind {
                                *a = action.clone();
                            }
                        }
                    })
                    .await?;
                sqlx::query(
                    "UPDATE treaty_actions SET date_earliest = $2, date_latest = $3, body = $4, etag = $5, \
                     update_time = $6 WHERE seq = $1",
                )
                .bind(seq)
                .bind(action.date.earliest().map(|d| d.to_string()))
                .bind(action.date.latest().map(|d| d.to_string()))
                .bind(encode_checked(&action)?)
                .bind(stamp.seq)
                .bind(stamp.at.as_str())
                .execute(&mut **conn)
                .await
                .db(inner)?;
                let body = encode(&action)?;
                Ok::<Effect, StorageError>(Effect {
                    before: Some(before),
                    after: Some(body.clone()),
                    replay: Replay {
                        etag: Some(etag_of(stamp.seq)),
                        body: Some(body),
                        create_time,
                        update_time: Some(stamp.at.clone()),
                    },
                    treaty_action: true,
                    audit_seq: None,
                })
            })
        });
        replayed(self.write(ctx, Operation::Update, resource, write).await?)
    }

    /// Withdraws a treaty action; with `etag`, only if it is still at that version. The whole record without it
    /// is checked against every rule (a signature a ratification rests on cannot be withdrawn).
    pub(super) async fn delete_treaty_action(
        &self,
        ctx: &WriteContext,
        treaty: TreatyNumber,
        state: &CountryCode,
        kind: ActionKind,
        etag: Option<&str>,
    ) -> Result<()> {
        let resource =
            Resource::TreatyAction { state: state.to_string(), treaty: treaty.0, kind: kind.as_str().into() };
        let ctx = &fingerprinted(ctx, || Ok(vec![etag.unwrap_or_default().to_owned()]))?;
        let (state, etag) = (state.clone(), etag.map(str::to_owned));
        let write = body(move |inner, conn, _stamp: Stamp| {
            Box::pin(async move {
                let name = name_of(treaty, &state, kind);
                let (seq, current, before, _) = inner.current_action(conn, treaty, &state, kind).await?;
                check_etag(KIND, &name, etag.as_deref(), current)?;
                inner
                    .check_change(conn, |actions| {
                        actions.retain(|a| !(a.treaty == treaty && a.state == state && a.kind == kind));
                    })
                    .await?;
                sqlx::query("DELETE FROM treaty_actions WHERE seq = $1")
                    .bind(seq)
                    .execute(&mut **conn)
                    .await
                    .db(inner)?;
                // The row's `seq` is never given again (WatchTreatyActions resumes after a `seq`).
                inner.keep_seq_given(conn, seq).await?;
                Ok::<Effect, StorageError>(Effect {
                    before: Some(before),
                    after: None,
                    replay: Replay::none(),
                    treaty_action: true,
                    audit_seq: None,
                })
            })
        });
        self.write(ctx, Operation::Delete, resource, write).await?;
        Ok(())
    }

    /// Treaty actions, optionally of one treaty and/or one state, in the order they were recorded, each at its
    /// version (those that cannot be decoded are left out).
    pub(super) async fn list_treaty_actions(
        &self,
        treaty: Option<TreatyNumber>,
        state: Option<&CountryCode>,
        page: &PageRequest,
    ) -> Result<Page<Versioned<TreatyAction>>> {
        let mut sql = format!("SELECT {COLUMNS} FROM treaty_actions WHERE 1 = 1");
        let mut params = Vec::new();
        if let Some(t) = treaty {
            params.push(Param::Int(i64::from(t.0)));
            sql.push_str(&format!(" AND treaty = ${}", params.len()));
        }
        if let Some(s) = state {
            params.push(Param::Text(s.to_string()));
            sql.push_str(&format!(" AND state = ${}", params.len()));
        }
        let scope = format!("treaty_actions?{treaty:?}&{state:?}");
        self.page_readable(&sql, params, &scope, page, |row| Ok(versioned_row(self, row)?.ok())).await
    }

    /// Appends a treaty action at version `v`, answering its position; a second action of a kind a state takes
    /// once under a treaty is refused (the unique index on `once_key`), as is an unknown state.
    pub(super) async fn insert_action(&self, conn: &mut WriteConn, action: &TreatyAction, v: &Version) -> Result<i64> {
        let seq = self.high_seq(conn).await? + 1;
        sqlx::query(
            "INSERT INTO treaty_actions (seq, state, treaty, kind, once_key, date_earliest, date_latest, body, etag, \
             create_time, update_time) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(seq)
        .bind(action.state.as_str())
        .bind(i64::from(action.treaty.0))
        .bind(action.kind.as_str())
        .bind(once_key(action.kind))
        .bind(action.date.earliest().map(|d| d.to_string()))
        .bind(action.date.latest().map(|d| d.to_string()))
        .bind(encode_checked(action)?)
        .bind(v.etag)
        .bind(v.create_time.as_deref())
        .bind(v.update_time.as_deref())
        .execute(&mut **conn)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StorageError::AlreadyExists { kind: KIND, id: name_of(action.treaty, &action.state, action.kind) }
            } else if is_foreign_key_violation(&e) {
                StorageError::Rule(core_model::ModelError::UnknownState(action.state.clone()))
            } else {
                self.err(e)
            }
        })?;
        Ok(seq)
    }

    /// The treaty actions in the database (of one state, or all), with their `seq`, in order, read inside the
    /// write's transaction. The rules need every one: one that cannot be read stops the write.
    async fn actions_in(&self, conn: &mut WriteConn, state: Option<&CountryCode>) -> Result<Vec<(i64, TreatyAction)>> {
        let rows = match state {
            Some(s) => {
                sqlx::query("SELECT seq, treaty, body FROM treaty_actions WHERE state = $1 ORDER BY seq")
                    .bind(s.as_str())
                    .fetch_all(&mut **conn)
                    .await
            }
            None => {
                sqlx::query("SELECT seq, treaty, body FROM treaty_actions ORDER BY seq").fetch_all(&mut **conn).await
            }
        }
        .db(self)?;
        let mut actions = Vec::with_capacity(rows.len());
        for row in &rows {
            let body: String = row.try_get("body").db(self)?;
            let action = try_decode(&body)
                .map_err(|reason| StorageError::Unreadable { resource: action_row(row).to_string(), reason })?;
            actions.push((row.try_get::<i64, _>("seq").db(self)?, action));
        }
        Ok(actions)
    }

    /// The highest `seq` a treaty action's row holds or held (a withdrawn one's is kept in `meta`), read inside
    /// the write's transaction.
    async fn high_seq(&self, conn: &mut WriteConn) -> Result<i64> {
        let (last,): (i64,) =
            sqlx::query_as("SELECT COALESCE(MAX(seq), 0) FROM treaty_actions").fetch_one(&mut **conn).await.db(self)?;
        let held: Option<(String,)> = sqlx::query_as("SELECT value FROM meta WHERE key = $1")
            .bind(HIGH_SEQ_KEY)
            .fetch_optional(&mut **conn)
            .await
            .db(self)?;
        Ok(last.max(held.and_then(|(v,)| v.parse().ok()).unwrap_or(0)))
    }

    /// Keeps the `seq` of a treaty action's row just deleted from being given again: when it was the highest, it is
    /// kept in `meta` (read inside the write's transaction, after the delete).
    pub(super) async fn keep_seq_given(&self, conn: &mut WriteConn, seq: i64) -> Result<()> {
        if seq > self.high_seq(conn).await? {
            sqlx::query(
                "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .bind(HIGH_SEQ_KEY)
            .bind(seq.to_string())
            .execute(&mut **conn)
            .await
            .db(self)?;
        }
        Ok(())
    }

    /// The row (`seq`), version, body and creation time of the action a treaty, state and kind name, read inside
    /// the write's transaction.
    async fn current_action(
        &self,
        conn: &mut WriteConn,
        treaty: TreatyNumber,
        state: &CountryCode,
        kind: ActionKind,
    ) -> Result<(i64, i64, String, Option<String>)> {
        sqlx::query_as(
            "SELECT seq, etag, body, create_time FROM treaty_actions WHERE treaty = $1 AND state = $2 AND kind = $3",
        )
        .bind(i64::from(treaty.0))
        .bind(state.as_str())
        .bind(kind.as_str())
        .fetch_optional(&mut **conn)
        .await
        .db(self)?
        .ok_or_else(|| StorageError::NotFound { kind: KIND, id: name_of(treaty, state, kind) })
    }

    /// Checks the whole record of treaty actions in the database with `change` applied: it may break no rule
    /// the record did not already break (answering the first new one).
    async fn check_change(&self, conn: &mut WriteConn, change: impl FnOnce(&mut Vec<TreatyAction>)) -> Result<()> {
        let mut view: Dataset = self.snapshot().dataset().clone();
        view.treaty_actions = self.actions_in(conn, None).await?.into_iter().map(|(_, a)| a).collect();
        let before = view.treaty_rule_violations();
        change(&mut view.treaty_actions);
        match view.treaty_rule_violations().into_iter().find(|e| !before.contains(e)) {
            Some(broken) => Err(StorageError::Rule(broken)),
            None => Ok(()),
        }
    }
}

/// What makes an action unique for its state and treaty: one consent (ratification or accession), and one of
/// each other kind.
fn once_key(kind: ActionKind) -> &'static str {
    if kind.is_consent() { "consent" } else { kind.noun() }
}
