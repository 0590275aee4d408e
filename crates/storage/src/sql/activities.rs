//! Activities: the `activities` table (a JSON body, with the columns lists filter on projected beside it) and its
//! reference tables (`activity_countries`, `activity_outputs`, `activity_partners`, `activity_funding`), read and
//! written.
//!
//! A write here is a body run by the writer ([`super::writer`]) inside the group's transaction: it checks the
//! activity against its own rules and against the database (every state, record and source document it names
//! must exist), writes the row and its references, and answers the record written. Lists are served from the
//! in-memory [`crate::activity_index::ActivityIndex`], which the writer catches up before it answers; a point
//! read always asks the database.
//!
//! Invariants: the projected columns and the reference tables say what the body says (they are written together,
//! from the same activity); an activity named by a cooperation record cannot be deleted; what is written reads
//! back equal.

use std::sync::Arc;

use core_model::{Activity, CountryCode, Filter, Region};
use sqlx::{Row, any::AnyRow};

use super::{
    Inner,
    db_error::{DbResult, is_foreign_key_violation, is_unique_violation, poisoned},
    rows::{Param, bind_all, check_etag, encode, encode_checked, etag_of, try_decode},
    writer::{Effect, Stamp, WriteConn, body, fingerprinted, replayed},
};
use crate::{
    Page, PageRequest, RecordKind, Result, StorageError, Versioned, WriteContext,
    quarantine::Unreadable,
    resource::{Operation, Resource},
};

impl Inner {
    /// One activity, read from the database.
    pub(super) async fn get_activity(&self, id: &str) -> Result<Versioned<Activity>> {
        let row = sqlx::query("SELECT id, etag, create_time, update_time, body FROM activities WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .db(self)?
            .ok_or_else(|| StorageError::NotFound { kind: "activity", id: id.to_owned() })?;
        activity_row(self, &row)?.map_err(|u| u.error())
    }

    /// Activities matching `filter`, walked from the in-memory index (caught up first if it is known to be
    /// behind).
    pub(super) async fn list_activities(
        &self,
        filter: &Filter,
        page: &PageRequest,
    ) -> Result<Page<Arc<Versioned<Activity>>>> {
        if self.activities_stale.load(std::sync::atomic::Ordering::SeqCst) {
            self.catch_up_activities().await?;
        }
        let snapshot = self.snapshot();
        let region_of = |c: &CountryCode| snapshot.state(c).map(|s| s.region);
        self.activities.read().map_err(|_| poisoned())?.list(filter, page, region_of)
    }

    /// Creates an activity: its id must be new.
    pub(super) async fn create_activity(&self, ctx: &WriteContext, activity: Activity) -> Result<Versioned<Activity>> {
        let resource = Resource::Activity(activity.id.clone());
        let ctx = &fingerprinted(ctx, || Ok(vec![encode(&activity)?]))?;
        let write = body(move |inner, conn, stamp| {
            Box::pin(async move {
                inner.check_activity(conn, &activity).await?;
                let version = Version::created(&stamp);
                inner.insert_activity(conn, &activity, inner.region_of(&activity), &version).await?;
                let body = encode(&activity)?;
                Ok::<Effect, StorageError>(Effect::written(None, body, &stamp, Some(stamp.at.clone())))
            })
        });
        replayed(self.write(ctx, Operation::Create, resource, write).await?)
    }

    /// Replaces an activity; with `etag`, only if it is still at that version. Its new version is named by the
    /// write's audit position (its etag) and time (its `update_time`); its `create_time` is kept.
    pub(super) async fn update_activity(
        &self,
        ctx: &WriteContext,
        activity: Activity,
        etag: Option<&str>,
    ) -> Result<Versioned<Activity>> {
        let resource = Resource::Activity(activity.id.clone());
        let ctx = &fingerprinted(ctx, || Ok(vec![encode(&activity)?, etag.unwrap_or_default().to_owned()]))?;
        let etag = etag.map(str::to_owned);
        let write = body(move |inner, conn, stamp| {
            Box::pin(async move {
                let (current, before, created) = inner.current_activity(conn, &activity.id).await?;
                check_etag("activity", &activity.id, etag.as_deref(), current)?;
                inner.check_activity(conn, &activity).await?;
                let version =
                    Version { etag: stamp.seq, create_time: created.clone(), update_time: Some(stamp.at.clone()) };
                inner.replace_activity(conn, &activity, inner.region_of(&activity), &version).await?;
                let body = encode(&activity)?;
                Ok::<Effect, StorageError>(Effect::written(Some(before), body, &stamp, created))
            })
        });
        replayed(self.write(ctx, Operation::Update, resource, write).await?)
    }

    /// Deletes an activity; with `etag`, only if it is still at that version. One a cooperation record names
    /// is still referenced and is not deleted.
    pub(super) async fn delete_activity(&self, ctx: &WriteContext, id: &str, etag: Option<&str>) -> Result<()> {
        let resource = Resource::Activity(id.to_owned());
        let ctx = &fingerprinted(ctx, || Ok(vec![etag.unwrap_or_default().to_owned()]))?;
        let (id, etag) = (id.to_owned(), etag.map(str::to_owned));
        let write = body(move |inner, conn, _stamp| {
            Box::pin(async move {
                let (id, etag) = (id.as_str(), etag.as_deref());
                let (current, before, _) = inner.current_activity(conn, id).await?;
                check_etag("activity", id, etag, current)?;
                let cooperation: Vec<(String, String)> =
                    sqlx::query_as("SELECT id, body FROM records WHERE kind = 'cooperation'")
                        .fetch_all(&mut **conn)
                        .await
                        .db(inner)?;
                let referenced = cooperation.iter().any(|(_, body)| {
                    serde_json::from_str::<core_model::CooperationRecord>(body)
                        .is_ok_and(|c| c.activities.iter().any(|a| a == id))
                });
                if referenced {
                    return Err(StorageError::StillReferenced {
                        kind: "activity",
                        id: id.to_owned(),
                        detail: "named by a cooperation record".to_owned(),
                    });
                }
                sqlx::query("DELETE FROM activities WHERE id = $1").bind(id).execute(&mut **conn).await.db(inner)?;
                Ok::<Effect, StorageError>(Effect::deleted(before))
            })
        });
        self.write(ctx, Operation::Delete, resource, write).await?;
        Ok(())
    }

    /// Checks an activity's own rules and that every record it names exists.
    async fn check_activity(&self, conn: &mut WriteConn, a: &Activity) -> Result<()> {
        a.check()?;
        self.check_sources(conn, &a.source).await?;
        let snapshot = self.snapshot();
        for c in a.countries.iter().chain(a.place.country.as_ref()) {
            if snapshot.state(c).is_none() {
                return Err(core_model::ModelError::UnknownReference { kind: "state", id: c.to_string() }.into());
            }
        }
        let refs = a
            .partners
            .iter()
            .map(|p| (RecordKind::Organisation, p.organisation.as_str()))
            .chain(a.funding.iter().map(|f| (RecordKind::FundingSource, f.as_str())))
            .chain(a.plan.iter().map(|p| (RecordKind::Plan, p.as_str())));
        for (kind, id) in refs {
            let found: Option<(i64,)> = sqlx::query_as("SELECT etag FROM records WHERE kind = $1 AND id = $2")
                .bind(kind.as_str())
                .bind(id)
                .fetch_optional(&mut **conn)
                .await
                .db(self)?;
            if found.is_none() {
                let kind = match kind {
                    RecordKind::Organisation => "organisation",
                    RecordKind::FundingSource => "funding source",
                    _ => "plan",
                };
                return Err(core_model::ModelError::UnknownReference { kind, id: id.to_owned() }.into());
            }
        }
        Ok(())
    }

    /// The region an activity is listed under: its place's region, or its place's country's.
    fn region_of(&self, activity: &Activity) -> Option<Region> {
        activity.region(|c| self.snapshot().state(c).map(|s| s.region))
    }

    /// Inserts a new activity's row, listed under `region`, at `version`, and its references.
    pub(super) async fn insert_activity(
        &self,
        conn: &mut WriteConn,
        a: &Activity,
        region: Option<Region>,
        version: &Version,
    ) -> Result<()> {
        let params = activity_columns(a, region, version)?;
        let sql = "INSERT INTO activities (id, seq, etag, status, kind, tentative, start_earliest, start_latest, \
                   end_earliest, end_latest, region, plan, body, create_time, update_time) VALUES ($1, (SELECT \
                   COALESCE(MAX(seq), 0) + 1 FROM activities), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";
        bind_all(sqlx::query(sql), &params).execute(&mut **conn).await.map_err(|e| {
            if is_unique_violation(&e) {
                StorageError::AlreadyExists { kind: "activity", id: a.id.clone() }
            } else {
                self.err(e)
            }
        })?;
        self.insert_references(conn, a).await
    }

    /// Replaces an activity's row and its references, at `version`.
    async fn replace_activity(
        &self,
        conn: &mut WriteConn,
        a: &Activity,
        region: Option<Region>,
        version: &Version,
    ) -> Result<()> {
        let params = activity_columns(a, region, version)?;
        let sql = "UPDATE activities SET etag = $2, status = $3, kind = $4, tentative = $5, start_earliest = $6, \
                   start_latest = $7, end_earliest = $8, end_latest = $9, region = $10, plan = $11, body = $12, \
                   create_time = $13, update_time = $14 WHERE id = $1";
        bind_all(sqlx::query(sql), &params).execute(&mut **conn).await.db(self)?;
        for table in ["activity_countries", "activity_outputs", "activity_partners", "activity_funding"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE activity_id = $1"))
                .bind(a.id.as_str())
                .execute(&mut **conn)
                .await
                .db(self)?;
        }
        self.insert_references(conn, a).await
    }

    /// Inserts the rows of an activity's reference tables: its countries, outputs, partners and funding.
    async fn insert_references(&self, conn: &mut WriteConn, a: &Activity) -> Result<()> {
        let mut countries: Vec<&CountryCode> = a.countries().collect();
        countries.sort();
        countries.dedup();
        let id = a.id.as_str();
        let mut refs: Vec<(&str, Vec<Param>)> = Vec::new();
        for c in countries {
            refs.push((
                "INSERT INTO activity_countries (activity_id, country) VALUES ($1, $2)",
                vec![Param::Text(id.to_owned()), Param::Text(c.to_string())],
            ));
        }
        let mut outputs = a.outputs.clone();
        outputs.sort_unstable();
        outputs.dedup();
        for o in outputs {
            refs.push((
                "INSERT INTO activity_outputs (activity_id, output) VALUES ($1, $2)",
                vec![Param::Text(id.to_owned()), Param::Int(i64::from(o))],
            ));
        }
        let mut partners: Vec<(String, String)> =
            a.partners.iter().map(|p| (p.organisation.clone(), p.role.as_str().to_owned())).collect();
        partners.sort();
        partners.dedup();
        for (org, role) in partners {
            refs.push((
                "INSERT INTO activity_partners (activity_id, organisation, role) VALUES ($1, $2, $3)",
                vec![Param::Text(id.to_owned()), Param::Text(org), Param::Text(role)],
            ));
        }
        let mut funding = a.funding.clone();
        funding.sort();
        funding.dedup();
        for f in funding {
            refs.push((
                "INSERT INTO activity_funding (activity_id, funding) VALUES ($1, $2)",
                vec![Param::Text(id.to_owned()), Param::Text(f)],
            ));
        }
        for (sql, params) in &refs {
            bind_all(sqlx::query(sql), params).execute(&mut **conn).await.map_err(|e| {
                if is_foreign_key_violation(&e) {
                    // A safety net: `check_activity` names the missing record first.
                    StorageError::Rule(core_model::ModelError::UnknownReference {
                        kind: "country, organisation or funding source of an activity",
                        id: a.id.clone(),
                    })
                } else {
                    self.err(e)
                }
            })?;
        }
        Ok(())
    }

    /// An activity's current version (its `etag` column), body and creation time, read inside the write's
    /// transaction.
    async fn current_activity(&self, conn: &mut WriteConn, id: &str) -> Result<(i64, String, Option<String>)> {
        sqlx::query_as("SELECT etag, body, create_time FROM activities WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut **conn)
            .await
            .db(self)?
            .ok_or_else(|| StorageError::NotFound { kind: "activity", id: id.to_owned() })
    }
}

/// The parameters of an activity's row, `$1` to `$14`: its id, etag, the columns lists filter on, its body
/// (checked to read back equal), and its times.
fn activity_columns(a: &Activity, region: Option<Region>, version: &Version) -> Result<[Param; 14]> {
    let start = a.start;
    let end = a.end_or_start();
    let region = region.map(|r| r.as_str().to_owned());
    Ok([
        Param::Text(a.id.clone()),
        Param::Int(version.etag),
        Param::Text(a.status.as_str().to_owned()),
        Param::Text(a.kind.as_str().to_owned()),
        Param::Bool(a.tentative),
        Param::OptText(start.and_then(|d| d.earliest()).map(|d| d.to_string())),
        Param::OptText(start.and_then(|d| d.latest()).map(|d| d.to_string())),
        Param::OptText(end.and_then(|d| d.earliest()).map(|d| d.to_string())),
        Param::OptText(end.and_then(|d| d.latest()).map(|d| d.to_string())),
        Param::OptText(region),
        Param::OptText(a.plan.clone()),
        Param::Text(encode_checked(a)?),
        Param::OptText(version.create_time.clone()),
        Param::OptText(version.update_time.clone()),
    ])
}

/// An activity's row (`id`, `etag`, `create_time`, `update_time`, `body`): the activity, or what to set aside
/// when it cannot be decoded.
pub(super) fn activity_row(
    inner: &Inner,
    row: &AnyRow,
) -> Result<std::result::Result<Versioned<Activity>, Unreadable>> {
    let body: String = row.try_get("body").db(inner)?;
    let etag = etag_of(row.try_get::<i64, _>("etag").db(inner)?);
    let (create_time, update_time) = (row.try_get("create_time").db(inner)?, row.try_get("update_time").db(inner)?);
    Ok(match try_decode(&body) {
        Ok(record) => Ok(Versioned { record, etag, create_time, update_time }),
        Err(reason) => {
            let id: String = row.try_get("id").db(inner)?;
            Err(Unreadable::new(Resource::Activity(id), reason, body))
        }
    })
}

/// A version of a row as its columns keep it: the audit position of the write that made it (its etag) and its
/// times (unknown, `None`, only for rows whose history a migration could not find).
#[derive(Debug, Clone)]
pub(super) struct Version {
    pub(super) etag: i64,
    pub(super) create_time: Option<String>,
    pub(super) update_time: Option<String>,
}

impl Version {
    /// The version a create (or an import) by the write `stamp` makes.
    pub(super) fn created(stamp: &Stamp) -> Version {
        Version { etag: stamp.seq, create_time: Some(stamp.at.clone()), update_time: Some(stamp.at.clone()) }
    }
}

#[cfg(any(test, feature = "test-support"))]
impl super::SqlStore {
    /// The same list as [`crate::Store::list_activities`], pages and tokens included, computed by the database's
    /// query (the filter translated to SQL) rather than from memory: the reference the in-memory index is checked
    /// against (by the conformance suite and the `filter_sql` fuzzer), and the filter's meaning in SQL.
    pub async fn list_activities_from_database(
        &self,
        filter: &Filter,
        page: &PageRequest,
    ) -> Result<Page<Arc<Versioned<Activity>>>> {
        let (condition, params) = crate::filter_sql::to_sql(filter);
        let sql = format!("SELECT id, seq, etag, create_time, update_time, body FROM activities a WHERE ({condition})");
        let scope = format!("activities?{filter}");
        let inner = &*self.inner;
        inner.page_readable(&sql, params, &scope, page, |row| Ok(activity_row(inner, row)?.ok().map(Arc::new))).await
    }
}
