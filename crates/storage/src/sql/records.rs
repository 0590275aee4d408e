//! The other records (organisations, source documents, plans, studies... [`RecordKind`]): the `records` table,
//! one JSON body per kind and id.
//!
//! The service reads them (a point read, or a list of one kind, always from the database); they are written by
//! an import. Writing one record at a time (`SqlStore::create_record`, `update_record`, `delete_record`) is
//! not part of the [`crate::Store`] trait: no RPC writes records (the server keeps a copy read at start-up),
//! so those methods are built only with the `test-support` feature, where the conformance suite holds them to
//! the rules they would have to keep behind an RPC: the store's records with the change applied must validate
//! as a dataset, and a record still referenced cannot be deleted.
//!
//! Invariant: every document a citation names is a source document of the store ([`Inner::check_sources`]),
//! so that what is written can be exported and imported again.

use sqlx::Row;

use super::{
    Inner,
    activities::Version,
    db_error::{DbResult, is_unique_violation},
    rows::{Param, etag_of},
    writer::WriteConn,
};
use crate::{Page, PageRequest, Record, RecordKind, Result, StorageError, Versioned, resource::Resource};

impl Inner {
    /// One record, read from the database.
    pub(super) async fn get_record(&self, kind: RecordKind, id: &str) -> Result<Versioned<Record>> {
        let row: (i64, String, Option<String>, Option<String>) =
            sqlx::query_as("SELECT etag, body, create_time, update_time FROM records WHERE kind = $1 AND id = $2")
                .bind(kind.as_str())
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .db(self)?
                .ok_or_else(|| StorageError::NotFound { kind: kind.as_str(), id: id.to_owned() })?;
        let record = Record::from_body(kind, &row.1).map_err(|e| StorageError::Unreadable {
            resource: Resource::RecordRow { kind: kind.as_str().to_owned(), id: id.to_owned() }.to_string(),
            reason: e.to_string(),
        })?;
        Ok(Versioned { record, etag: etag_of(row.0), create_time: row.2, update_time: row.3 })
    }

    /// Records of one kind, in the order they were created.
    pub(super) async fn list_records(&self, kind: RecordKind, page: &PageRequest) -> Result<Page<Versioned<Record>>> {
        self.page_readable(
            "SELECT seq, etag, create_time, update_time, body FROM records WHERE kind = $1",
            vec![Param::Text(kind.as_str().to_owned())],
            &format!("records/{}", kind.as_str()),
            page,
            |row| {
                let body: String = row.try_get("body").db(self)?;
                // A record that cannot be decoded is skipped here and named by `find_unreadable`.
                let Ok(record) = Record::from_body(kind, &body) else { return Ok(None) };
                Ok(Some(Versioned {
                    record,
                    etag: etag_of(row.try_get::<i64, _>("etag").db(self)?),
                    create_time: row.try_get("create_time").db(self)?,
                    update_time: row.try_get("update_time").db(self)?,
                }))
            },
        )
        .await
    }

    /// Checks that every document a source cites is a source document of the store (as `Dataset::validate`
    /// does), so that what is written can be exported and imported again.
    pub(super) async fn check_sources(&self, conn: &mut WriteConn, source: &core_model::SourceRef) -> Result<()> {
        let mut documents: Vec<&str> = source.documents().collect();
        documents.sort_unstable();
        documents.dedup();
        for document in documents {
            let found: Option<(i64,)> = sqlx::query_as("SELECT etag FROM records WHERE kind = 'source' AND id = $1")
                .bind(document)
                .fetch_optional(&mut **conn)
                .await
                .db(self)?;
            if found.is_none() {
                return Err(core_model::ModelError::UnknownReference {
                    kind: "source document",
                    id: document.to_owned(),
                }
                .into());
            }
        }
        Ok(())
    }

    /// Inserts a new record's row at `version`; its id must be new within its kind.
    pub(super) async fn insert_record(&self, conn: &mut WriteConn, r: &Record, version: &Version) -> Result<()> {
        let kind = r.kind().as_str();
        let id = r.id();
        sqlx::query(
            "INSERT INTO records (kind, id, seq, etag, body, create_time, update_time) VALUES ($1, $2, \
             (SELECT COALESCE(MAX(seq), 0) + 1 FROM records WHERE kind = $1), $3, $4, $5, $6)",
        )
        .bind(kind)
        .bind(id.as_str())
        .bind(version.etag)
        .bind(r.body()?)
        .bind(version.create_time.as_deref())
        .bind(version.update_time.as_deref())
        .execute(&mut **conn)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StorageError::AlreadyExists { kind: "record", id: format!("{kind}/{id}") }
            } else {
                self.err(e)
            }
        })?;
        Ok(())
    }
}

/// Writing one record at a time: built with the `test-support` feature only (see the module's documentation).
#[cfg(any(test, feature = "test-support"))]
mod writes {
    use super::super::{
        Inner, SqlStore,
        activities::Version,
        db_error::{DbResult, is_foreign_key_violation},
        rows::check_etag,
        writer::{Effect, Replay, Stamp, WriteConn, body, fingerprinted},
    };
    use crate::{
        Record, RecordKind, Result, StorageError, Versioned, WriteContext,
        resource::{Operation, Resource},
    };

    impl SqlStore {
        /// Creates a record; its id must be new within its kind.
        pub async fn create_record(&self, ctx: &WriteContext, record: Record) -> Result<Versioned<Record>> {
            let (kind, id) = (record.kind(), record.id());
            let resource = Resource::Record(kind, id.clone());
            let ctx = &fingerprinted(ctx, || Ok(vec![record.body()?]))?;
            let write = body(move |inner, conn, stamp| {
                Box::pin(async move {
                    if inner.current_record(conn, kind, &id).await.is_ok() {
                        return Err(StorageError::AlreadyExists { kind: kind.as_str(), id: id.clone() });
                    }
                    inner.check_record(conn, Some(&record), None).await?;
                    inner.insert_record(conn, &record, &Version::created(&stamp)).await?;
                    let body = record.body()?;
                    Ok::<Effect, StorageError>(Effect::written(None, body, &stamp, Some(stamp.at.clone())))
                })
            });
            replayed_record(kind, self.inner.write(ctx, Operation::Create, resource, write).await?)
        }

        /// Replaces a record; with `etag`, only if it is still at that version.
        pub async fn update_record(
            &self,
            ctx: &WriteContext,
            record: Record,
            etag: Option<&str>,
        ) -> Result<Versioned<Record>> {
            let (kind, id) = (record.kind(), record.id());
            let resource = Resource::Record(kind, id.clone());
            let ctx = &fingerprinted(ctx, || Ok(vec![record.body()?, etag.unwrap_or_default().to_owned()]))?;
            let etag = etag.map(str::to_owned);
            let write = body(move |inner, conn, stamp| {
                Box::pin(async move {
                    let (current, before, created) = inner.current_record(conn, kind, &id).await?;
                    check_etag(kind.as_str(), &id, etag.as_deref(), current)?;
                    inner.check_record(conn, Some(&record), None).await?;
                    inner.replace_record(conn, &record, &stamp).await?;
                    let body = record.body()?;
                    Ok::<Effect, StorageError>(Effect::written(Some(before), body, &stamp, created))
                })
            });
            replayed_record(kind, self.inner.write(ctx, Operation::Update, resource, write).await?)
        }

        /// Deletes a record; with `etag`, only if it is still at that version. A record still referenced (an
        /// organisation an activity names) cannot be deleted.
        pub async fn delete_record(
            &self,
            ctx: &WriteContext,
            kind: RecordKind,
            id: &str,
            etag: Option<&str>,
        ) -> Result<()> {
            let resource = Resource::Record(kind, id.to_owned());
            let ctx = &fingerprinted(ctx, || Ok(vec![etag.unwrap_or_default().to_owned()]))?;
            let (id, etag) = (id.to_owned(), etag.map(str::to_owned));
            let write = body(move |inner, conn, _stamp| {
                Box::pin(async move {
                    let (id, etag) = (id.as_str(), etag.as_deref());
                    let (current, before, _) = inner.current_record(conn, kind, id).await?;
                    check_etag(kind.as_str(), id, etag, current)?;
                    inner.check_record(conn, None, Some((kind, id))).await.map_err(|e| match e {
                        StorageError::Dataset(d) => StorageError::StillReferenced {
                            kind: kind.as_str(),
                            id: id.to_owned(),
                            detail: d.0.first().map(|e| e.to_string()).unwrap_or_default(),
                        },
                        other => other,
                    })?;
                    sqlx::query("DELETE FROM records WHERE kind = $1 AND id = $2")
                        .bind(kind.as_str())
                        .bind(id)
                        .execute(&mut **conn)
                        .await
                        .map_err(|e| {
                            if is_foreign_key_violation(&e) {
                                StorageError::StillReferenced {
                                    kind: kind.as_str(),
                                    id: id.to_owned(),
                                    detail: "named by an activity".to_owned(),
                                }
                            } else {
                                inner.err(e)
                            }
                        })?;
                    Ok::<Effect, StorageError>(Effect::deleted(before))
                })
            });
            self.inner.write(ctx, Operation::Delete, resource, write).await?;
            Ok(())
        }
    }

    /// The answer of a record write from its replay.
    fn replayed_record(kind: RecordKind, replay: Replay) -> Result<Versioned<Record>> {
        Ok(Versioned {
            record: Record::from_body(kind, replay.body.as_deref().unwrap_or("null"))?,
            etag: replay.etag.unwrap_or_default(),
            create_time: replay.create_time,
            update_time: replay.update_time,
        })
    }

    impl Inner {
        /// A record's current version (its `etag` column), body and creation time, read inside the write's
        /// transaction.
        async fn current_record(
            &self,
            conn: &mut WriteConn,
            kind: RecordKind,
            id: &str,
        ) -> Result<(i64, String, Option<String>)> {
            sqlx::query_as("SELECT etag, body, create_time FROM records WHERE kind = $1 AND id = $2")
                .bind(kind.as_str())
                .bind(id)
                .fetch_optional(&mut **conn)
                .await
                .db(self)?
                .ok_or_else(|| StorageError::NotFound { kind: kind.as_str(), id: id.to_owned() })
        }

        /// Replaces a record's row with the version the write `stamp` makes (its creation time kept).
        async fn replace_record(&self, conn: &mut WriteConn, r: &Record, stamp: &Stamp) -> Result<()> {
            sqlx::query("UPDATE records SET etag = $3, body = $4, update_time = $5 WHERE kind = $1 AND id = $2")
                .bind(r.kind().as_str())
                .bind(r.id().as_str())
                .bind(stamp.seq)
                .bind(r.body()?)
                .bind(stamp.at.as_str())
                .execute(&mut **conn)
                .await
                .db(self)?;
            Ok(())
        }

        /// Checks a record against every rule and reference: the records of the store (all but activities,
        /// which are checked by id) with the change applied are validated as a dataset.
        async fn check_record(
            &self,
            conn: &mut WriteConn,
            change: Option<&Record>,
            removed: Option<(RecordKind, &str)>,
        ) -> Result<()> {
            use sqlx::Row;
            let rows = sqlx::query("SELECT kind, id, body FROM records ORDER BY kind, seq")
                .fetch_all(&mut **conn)
                .await
                .db(self)?;
            let snapshot = self.snapshot();
            let mut ds = snapshot.dataset().clone();
            let replaced = change.map(|c| (c.kind(), c.id()));
            for row in &rows {
                let kind_s: String = row.try_get(0).db(self)?;
                let id: String = row.try_get(1).db(self)?;
                let Some(kind) = RecordKind::ALL.into_iter().find(|k| k.as_str() == kind_s) else { continue };
                if replaced.as_ref().is_some_and(|(k, i)| *k == kind && *i == id)
                    || removed.is_some_and(|(k, i)| k == kind && i == id)
                {
                    continue;
                }
                Record::from_body(kind, &row.try_get::<String, _>(2).db(self)?)?.add_to(&mut ds);
            }
            if let Some(c) = change {
                c.clone().add_to(&mut ds);
            }
            // Cooperation records name activities, which are not loaded: check those ids here.
            let mut activity_ids = Vec::new();
            for c in &ds.cooperation {
                activity_ids.extend(c.activities.iter().cloned());
            }
            ds.cooperation.iter_mut().for_each(|c| c.activities.clear());
            let errors = ds.validate();
            if let Some(first) = errors.into_iter().next() {
                return Err(StorageError::Dataset(core_model::DatasetErrors(vec![first])));
            }
            for id in activity_ids {
                let found: Option<(i64,)> = sqlx::query_as("SELECT etag FROM activities WHERE id = $1")
                    .bind(id.as_str())
                    .fetch_optional(&mut **conn)
                    .await
                    .db(self)?;
                if found.is_none() {
                    return Err(core_model::ModelError::UnknownReference { kind: "activity", id }.into());
                }
            }
            Ok(())
        }
    }
}
