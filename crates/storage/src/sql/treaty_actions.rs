//! Treaty actions: the `treaty_actions` table, an append-only log (signatures, ratifications, accessions...)
//! that every treaty status is computed from.
//!
//! Recording an action is a body run by the writer ([`super::writer`]): it checks the action against every rule
//! of `core-model` and against every action of its state *in the database*, under the write lock (another
//! replica may have written since this one's snapshot was built), then appends it. The snapshot catches up after
//! the commit, and subscribers hear of it then.
//!
//! Invariants: an action is recorded once (`once_key`: one consent, one signature... per state and treaty, which
//! a unique index holds); an action the rules refuse is not written; reads of statuses never touch this table
//! (they read the snapshot).

use core_model::{ActionKind, CountryCode, TreatyAction, TreatyNumber};
use sqlx::Row;

use super::{
    Inner,
    db_error::{DbResult, is_foreign_key_violation, is_unique_violation},
    rows::{Param, decode, encode, encode_checked, try_decode},
    writer::{Effect, Replay, WriteConn, body, fingerprinted},
};
use crate::{
    Page, PageRequest, Result, StorageError, WriteContext,
    resource::{Operation, Resource},
};

impl Inner {
    /// Records a treaty action after checking it against every rule and every action of its state.
    pub(super) async fn record_treaty_action(&self, ctx: &WriteContext, action: TreatyAction) -> Result<TreatyAction> {
        let resource = Resource::TreatyAction {
            state: action.state.to_string(),
            treaty: action.treaty.0,
            kind: action.kind.as_str().to_owned(),
        };
        let ctx = &fingerprinted(ctx, || Ok(vec![encode(&action)?]))?;
        let write = body(move |inner, conn, _stamp| {
            Box::pin(async move {
                // Check against the actions in the database (another replica may have written since the snapshot
                // was built), under the write lock.
                action.check_limits()?;
                inner.check_sources(conn, &action.source).await?;
                let mine = sqlx::query("SELECT seq, treaty, body FROM treaty_actions WHERE state = $1 ORDER BY seq")
                    .bind(action.state.as_str())
                    .fetch_all(&mut **conn)
                    .await
                    .db(inner)?;
                let mut view = inner.snapshot().dataset().clone();
                view.treaty_actions.retain(|a| a.state != action.state);
                for row in &mine {
                    // The rules need every action of the state: one that cannot be read stops this one.
                    let body: String = row.try_get(2).db(inner)?;
                    view.treaty_actions.push(try_decode(&body).map_err(|reason| {
                        StorageError::Unreadable {
                            resource: Resource::ActionRow {
                                treaty: row.try_get::<i64, _>(1).unwrap_or(0),
                                seq: row.try_get::<i64, _>(0).unwrap_or(0),
                            }
                            .to_string(),
                            reason,
                        }
                    })?);
                }
                view.check_new_action(&action)?;
                inner.insert_action(conn, &action).await?;
                let body = encode(&action)?;
                Ok::<Effect, StorageError>(Effect {
                    before: None,
                    after: Some(body.clone()),
                    replay: Replay { body: Some(body), ..Replay::none() },
                    treaty_action: true,
                    audit_seq: None,
                })
            })
        });
        let replay = self.write(ctx, Operation::RecordTreatyAction, resource, write).await?;
        decode(replay.body.as_deref().unwrap_or("null"))
    }

    /// Treaty actions, optionally of one treaty and/or one state, in the order they were recorded (those that
    /// cannot be decoded are left out).
    pub(super) async fn list_treaty_actions(
        &self,
        treaty: Option<TreatyNumber>,
        state: Option<&CountryCode>,
        page: &PageRequest,
    ) -> Result<Page<TreatyAction>> {
        let mut sql = "SELECT seq, body FROM treaty_actions WHERE 1 = 1".to_owned();
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
        self.page_readable(&sql, params, &scope, page, |row| {
            Ok(try_decode(&row.try_get::<String, _>("body").db(self)?).ok())
        })
        .await
    }

    /// Appends a treaty action to the log, answering its position; a second action of a kind a state takes
    /// once under a treaty is refused (the unique index on `once_key`), as is an unknown state.
    pub(super) async fn insert_action(&self, conn: &mut WriteConn, action: &TreatyAction) -> Result<i64> {
        let seq: (i64,) = sqlx::query_as("SELECT COALESCE(MAX(seq), 0) + 1 FROM treaty_actions")
            .fetch_one(&mut **conn)
            .await
            .db(self)?;
        sqlx::query(
            "INSERT INTO treaty_actions (seq, state, treaty, kind, once_key, date_earliest, date_latest, body) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(seq.0)
        .bind(action.state.as_str())
        .bind(i64::from(action.treaty.0))
        .bind(action.kind.as_str())
        .bind(once_key(action.kind))
        .bind(action.date.earliest().map(|d| d.to_string()))
        .bind(action.date.latest().map(|d| d.to_string()))
        .bind(encode_checked(action)?)
        .execute(&mut **conn)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StorageError::AlreadyExists {
                    kind: "treaty action",
                    id: format!("{} {} of {}", action.state, action.kind.noun(), action.treaty),
                }
            } else if is_foreign_key_violation(&e) {
                StorageError::Rule(core_model::ModelError::UnknownState(action.state.clone()))
            } else {
                self.err(e)
            }
        })?;
        Ok(seq.0)
    }
}

/// What makes an action unique for its state and treaty: one consent (ratification or accession), and one of
/// each other kind.
fn once_key(kind: ActionKind) -> &'static str {
    if kind.is_consent() { "consent" } else { kind.noun() }
}
