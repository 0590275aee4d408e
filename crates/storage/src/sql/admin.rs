//! What the health service and an admin ask of the store: whether its database answers, its integrity, and the
//! stored rows that cannot be decoded (found by reading every table, and deleted one at a time).
//!
//! Invariants: a row is deleted as unreadable only if it cannot be read (the ordinary delete is for the others),
//! with an audit entry holding what it stored; treaties and states are never deleted this way (every status
//! rests on them); deleting one rebuilds the snapshot and the activity index.

use core_model::{Activity, State, Treaty, TreatyAction};
use sqlx::{Row, any::AnyRow};

use super::{
    Backend, Inner,
    db_error::{DbResult, is_foreign_key_violation},
    rows::{Param, bind_all, try_decode},
    writer::{Effect, body},
};
use crate::{
    Record, RecordKind, Result, StorageError, WriteContext,
    quarantine::Unreadable,
    resource::{NotAResource, Operation, Resource},
};

/// The refusal of a name that is not a stored row's.
fn not_a_row(name: &str) -> String {
    format!("`{name}` is not the name of a stored record (activities/ID, treaties/N/actions/SEQ, records/KIND/ID)")
}

/// Which row an unreadable row's name designates.
enum StoredRow {
    Activity(String),
    Action(i64, i64),
    Record(String, String),
}

impl Inner {
    /// Checks that the database answers now, within `within`.
    pub(super) async fn ping(&self, within: std::time::Duration) -> Result<()> {
        let query = async {
            let mut conn = self.pool.acquire().await.db(self)?;
            sqlx::query("SELECT 1").execute(&mut *conn).await.db(self)?;
            Ok(())
        };
        tokio::time::timeout(within, query).await.map_err(|_| {
            StorageError::Unavailable(format!("{} did not answer within {} ms", self.location, within.as_millis()))
        })?
    }

    /// Checks the store's physical integrity (`PRAGMA integrity_check` and foreign keys on SQLite).
    pub(super) async fn integrity_check(&self) -> Result<()> {
        match self.backend {
            Backend::Sqlite => {
                let rows: Vec<(String,)> =
                    sqlx::query_as("PRAGMA integrity_check").fetch_all(&self.pool).await.db(self)?;
                let fk: Vec<AnyRow> = sqlx::query("PRAGMA foreign_key_check").fetch_all(&self.pool).await.db(self)?;
                if rows.len() != 1 || rows[0].0 != "ok" || !fk.is_empty() {
                    return Err(StorageError::Internal(format!(
                        "integrity check failed: {:?}; {} foreign key violation(s)",
                        rows.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(),
                        fk.len()
                    )));
                }
                Ok(())
            }
            Backend::Postgres => {
                sqlx::query("SELECT 1").execute(&self.pool).await.db(self)?;
                Ok(())
            }
        }
    }

    /// Every stored row that cannot be decoded, found by reading every table.
    pub(super) async fn find_unreadable(&self) -> Result<Vec<Unreadable>> {
        let mut found = Vec::new();
        let mut check = |resource: Resource, body: String, reason: Option<String>| {
            if let Some(reason) = reason {
                found.push(Unreadable::new(resource, reason, body));
            }
        };
        let treaties: Vec<(String, String)> =
            sqlx::query_as("SELECT CAST(number AS TEXT), body FROM treaties ORDER BY seq")
                .fetch_all(&self.pool)
                .await
                .db(self)?;
        for (number, body) in treaties {
            let reason = try_decode::<Treaty>(&body).err();
            check(Resource::TreatyRow(number), body, reason);
        }
        let states: Vec<(String, String)> =
            sqlx::query_as("SELECT code, body FROM states ORDER BY seq").fetch_all(&self.pool).await.db(self)?;
        for (code, body) in states {
            let reason = try_decode::<State>(&body).err();
            check(Resource::StateRow(code), body, reason);
        }
        let actions: Vec<(i64, i64, String)> =
            sqlx::query_as("SELECT treaty, seq, body FROM treaty_actions ORDER BY seq")
                .fetch_all(&self.pool)
                .await
                .db(self)?;
        for (treaty, seq, body) in actions {
            let reason = try_decode::<TreatyAction>(&body).err();
            check(Resource::ActionRow { treaty, seq }, body, reason);
        }
        let activities: Vec<(String, String)> =
            sqlx::query_as("SELECT id, body FROM activities ORDER BY seq").fetch_all(&self.pool).await.db(self)?;
        for (id, body) in activities {
            let reason = try_decode::<Activity>(&body).err();
            check(Resource::Activity(id), body, reason);
        }
        let records: Vec<(String, String, String)> =
            sqlx::query_as("SELECT kind, id, body FROM records ORDER BY kind, seq")
                .fetch_all(&self.pool)
                .await
                .db(self)?;
        for (kind_name, id, body) in records {
            let reason = match RecordKind::ALL.iter().find(|k| k.as_str() == kind_name) {
                Some(kind) => Record::from_body(*kind, &body).err().map(|e| match e {
                    // The decoder's own words, as for the other tables.
                    StorageError::Internal(m) => m.trim_start_matches("cannot decode a stored record: ").to_owned(),
                    other => other.to_string(),
                }),
                None => Some(format!("unknown kind of record `{kind_name}`")),
            };
            check(Resource::RecordRow { kind: kind_name, id }, body, reason);
        }
        Ok(found)
    }

    /// Deletes one stored row that cannot be decoded, named by its [`Unreadable::resource`].
    pub(super) async fn delete_unreadable(&self, ctx: &WriteContext, name: &str) -> Result<()> {
        let refused =
            |reason: String| StorageError::Rule(core_model::ModelError::Field { field: "name".to_owned(), reason });
        let resource = match name.parse::<Resource>() {
            Ok(resource) => resource,
            Err(NotAResource::BadActionRow) => return Err(refused(format!("`{name}` is not a treaty action's name"))),
            Err(NotAResource::Unknown) => return Err(refused(not_a_row(name))),
        };
        let row = match &resource {
            Resource::Activity(id) => StoredRow::Activity(id.clone()),
            Resource::ActionRow { treaty, seq } => StoredRow::Action(*treaty, *seq),
            Resource::RecordRow { kind, id } => StoredRow::Record(kind.clone(), id.clone()),
            Resource::TreatyRow(_) | Resource::StateRow(_) => {
                return Err(refused(format!(
                    "`{name}`: treaties and states are not deleted (every status rests on them); import a \
                     dataset that holds them instead"
                )));
            }
            Resource::Dataset | Resource::TreatyAction { .. } | Resource::Record(..) => {
                return Err(refused(not_a_row(name)));
            }
        };
        let shown = resource.to_string();
        let write = body(move |inner, conn, _stamp| {
            Box::pin(async move {
                let (select, delete, params): (&str, &str, Vec<Param>) = match &row {
                    StoredRow::Activity(id) => (
                        "SELECT body FROM activities WHERE id = $1",
                        "DELETE FROM activities WHERE id = $1",
                        vec![Param::Text(id.clone())],
                    ),
                    StoredRow::Action(treaty, seq) => (
                        "SELECT body FROM treaty_actions WHERE treaty = $1 AND seq = $2",
                        "DELETE FROM treaty_actions WHERE treaty = $1 AND seq = $2",
                        vec![Param::Int(*treaty), Param::Int(*seq)],
                    ),
                    StoredRow::Record(kind, id) => (
                        "SELECT body FROM records WHERE kind = $1 AND id = $2",
                        "DELETE FROM records WHERE kind = $1 AND id = $2",
                        vec![Param::Text(kind.clone()), Param::Text(id.clone())],
                    ),
                };
                let found = bind_all(sqlx::query(select), &params).fetch_optional(&mut **conn).await.db(inner)?;
                let Some(found) = found else {
                    return Err(StorageError::NotFound { kind: "stored record", id: shown.clone() });
                };
                let stored: String = found.try_get(0).db(inner)?;
                let readable = match &row {
                    StoredRow::Activity(_) => try_decode::<Activity>(&stored).is_ok(),
                    StoredRow::Action(..) => try_decode::<TreatyAction>(&stored).is_ok(),
                    StoredRow::Record(kind, _) => RecordKind::ALL
                        .iter()
                        .find(|k| k.as_str() == kind)
                        .is_some_and(|k| Record::from_body(*k, &stored).is_ok()),
                };
                if readable {
                    return Err(StorageError::Rule(core_model::ModelError::Field {
                        field: "name".to_owned(),
                        reason: format!("{shown} can be read: delete it with the ordinary method, not as unreadable"),
                    }));
                }
                bind_all(sqlx::query(delete), &params).execute(&mut **conn).await.map_err(|e| {
                    if is_foreign_key_violation(&e) {
                        StorageError::StillReferenced {
                            kind: "record",
                            id: shown.clone(),
                            detail: "other records name it".to_owned(),
                        }
                    } else {
                        inner.err(e)
                    }
                })?;
                if let StoredRow::Action(_, seq) = row {
                    // Its place in the log of actions is not given again (watchers resume after positions).
                    inner.keep_seq_given(conn, seq).await?;
                }
                Ok::<Effect, StorageError>(Effect::deleted(stored))
            })
        });
        self.write(ctx, Operation::DeleteUnreadable, resource, write).await?;
        Ok(())
    }
}
