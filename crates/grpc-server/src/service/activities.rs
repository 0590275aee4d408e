//! ActivityService: activities listed (each kept encoded per version, a page put together from the encodings),
//! read, created, updated and deleted, and the plan of a period.

use std::sync::Arc;

use bytes::Bytes;
use core_model::{ActivityPrecision, Expr, Filter};
use prost::Message;
use storage::{PageRequest, Resource, StorageError};
use tonic::Request;

use super::{ANSWER_BYTES, Answer, Services, fitting, page, write_ctx};
use crate::{
    convert::{self as c, activity as convert},
    encoded::{decoded, field_len, page_of_encodings},
    error::{Result, ServiceError},
    method::Method,
    pb::coe::cybercrime::v1::{self as pb, activity_service_server::ActivityService},
};

/// The comparisons of a filter from which its walk is costly: it then waits for its turn and runs off the
/// runtime's worker threads (a cheap list stays on them: a blocking thread costs a micro-read dearly). Each walk
/// is bounded by the store's budget anyway; this keeps a loop of costly filters from slowing point reads.
pub const COSTLY_FILTER: u64 = 8;

/// The comparisons in `e`.
fn comparisons(e: &Expr) -> u64 {
    match e {
        Expr::Cmp(_) => 1,
        Expr::And(a, b) | Expr::Or(a, b) => comparisons(a) + comparisons(b),
        Expr::Not(a) => comparisons(a),
    }
}

/// How many times an update without an etag is merged onto the current version before it gives up (ABORTED):
/// each further attempt follows a write that came between its read and its own write.
pub(crate) const MERGE_ATTEMPTS: u32 = 5;

/// The fingerprint of a request's encoding (SHA-256, hex): what a retry with its request id must repeat.
fn fingerprint(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether an unreadable row is an activity's.
fn is_activity(row: &Resource) -> bool {
    matches!(row, Resource::Activity(_))
}

impl Services {
    /// ListActivities: the page, put together from each activity's encoding (made once per version;
    /// [`crate::encoded`] sends these bytes, the trait's method decodes them).
    pub(crate) async fn list_activities_encoded(&self, request: Request<pb::ListActivitiesRequest>) -> Answer<Bytes> {
        self.serve(Method::ListActivities, request, |_, request| async move {
            let r = request.get_ref();
            if !r.order_by.is_empty() {
                return Err(ServiceError::invalid("order_by", "only \"\" (the order of creation) is supported"));
            }
            let filter = self.parse_filter(&r.filter)?;
            let request = page(r.page_size, &r.page_token)?;
            let message = |v: &storage::Versioned<core_model::Activity>| convert::activity(v);
            let (mut p, mut change_sequence) = self.activities_page(&filter, &request).await?;
            let mut encodings = self.0.activities.encodings(&p.items, message);
            // A page ends early (AIP-158) rather than pass the size a message may have: the same list asked for
            // as many items as fit gives the right token for the next page.
            if let Some(fit) = fitting(encodings.iter().map(|b| field_len(b.len())))
                && fit < p.items.len()
            {
                let shorter = PageRequest { page_size: fit as u32, page_token: request.page_token.clone() };
                (p, change_sequence) = self.activities_page(&filter, &shorter).await?;
                encodings = self.0.activities.encodings(&p.items, message);
            }
            let unreadable = c::unreadable(&self.0.store.unreadable(), is_activity);
            Ok(page_of_encodings(&encodings, &p.next_page_token, &unreadable, change_sequence))
        })
        .await
    }

    /// A page of activities, with the position of the change log it shows: a costly filter's walk one at a time
    /// on a blocking thread, others where they are.
    async fn activities_page(
        &self,
        filter: &Filter,
        page: &PageRequest,
    ) -> Result<(storage::Page<Arc<storage::Versioned<core_model::Activity>>>, i64)> {
        if filter.expr.as_ref().map_or(0, comparisons) < COSTLY_FILTER {
            return Ok(self.0.store.list_activities_at(filter, page).await?);
        }
        let _turn = self.0.costly_walks.acquire().await.map_err(|e| StorageError::Internal(e.to_string()))?;
        let (store, filter, page) = (self.0.store.clone(), filter.clone(), page.clone());
        let runtime = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || runtime.block_on(store.list_activities_at(&filter, &page)))
            .await
            .map_err(|e| StorageError::Internal(format!("a costly filter's walk failed: {e}")))?
            .map_err(ServiceError::from)
    }
}

#[tonic::async_trait]
impl ActivityService for Services {
    async fn list_activities(&self, request: Request<pb::ListActivitiesRequest>) -> Answer<pb::ListActivitiesResponse> {
        decoded(self.list_activities_encoded(request).await)
    }

    async fn get_activity(&self, request: Request<pb::GetActivityRequest>) -> Answer<pb::Activity> {
        self.serve(Method::GetActivity, request, |_, request| async move {
            let id = convert::activity_id("name", &request.get_ref().name)?;
            let v = self.0.store.get_activity(id).await?;
            Ok(convert::activity(&v))
        })
        .await
    }

    async fn create_activity(&self, request: Request<pb::CreateActivityRequest>) -> Answer<pb::Activity> {
        self.serve(Method::CreateActivity, request, |principal, request| async move {
            let r = request.get_ref();
            let mut a = r.activity.clone().ok_or_else(|| ServiceError::invalid("activity", "required"))?;
            let given = (!r.activity_id.is_empty()).then(|| convert::bare_activity_id("activity_id", &r.activity_id));
            let ctx = write_ctx(&principal.name, &r.request_id)?;
            match (given.transpose()?, a.name.is_empty()) {
                (Some(id), false) => {
                    let named = convert::activity_id("activity.name", &a.name)?;
                    if named != id {
                        return Err(ServiceError::invalid(
                            "activity_id",
                            format!("`{id}` differs from activity.name `{}`: give one, or the same id in both", a.name),
                        ));
                    }
                }
                (Some(id), true) => a.name = core_model::names::activity(id),
                (None, false) => {}
                (None, true) => {
                    // The server picks the id (AIP-133): a new suffix when one is taken already.
                    a.name = core_model::names::activity("activity");
                    let mut activity = convert::activity_from("activity", &a)?;
                    let mut attempts = 0u8;
                    loop {
                        // With a request id, the same request picks the same id again (and gets its answer).
                        let seed = ctx
                            .request_id
                            .as_ref()
                            .map(|id| [principal.name.as_bytes(), &[0], id.as_bytes(), &[0, attempts]].concat());
                        activity.id = convert::new_activity_id(&activity, seed.as_deref())?;
                        match self.0.store.create_activity(&ctx, activity.clone()).await {
                            Err(StorageError::AlreadyExists { .. }) if attempts < 3 => attempts += 1,
                            // A retry whose first attempt took a later id: that attempt's id answers it.
                            Err(StorageError::RequestIdReused { .. }) if seed.is_some() && attempts < 3 => {
                                attempts += 1;
                            }
                            v => return Ok(convert::activity(&v?)),
                        }
                    }
                }
            }
            let activity = convert::activity_from("activity", &a)?;
            let v = self.0.store.create_activity(&ctx, activity).await?;
            Ok(convert::activity(&v))
        })
        .await
    }

    async fn update_activity(&self, request: Request<pb::UpdateActivityRequest>) -> Answer<pb::Activity> {
        self.serve(Method::UpdateActivity, request, |principal, request| async move {
            let r = request.get_ref();
            let a = r.activity.as_ref().ok_or_else(|| ServiceError::invalid("activity", "required"))?;
            let id = convert::activity_id("activity.name", &a.name)?;
            // AIP-154: the etag on the resource counts, the request's is its alias.
            let etag = match (r.etag.as_str(), a.etag.as_str()) {
                ("", "") => None,
                (e, "") | ("", e) => Some(e),
                (e, f) if e == f => Some(e),
                (e, f) => {
                    return Err(ServiceError::invalid(
                        "etag",
                        format!("`{e}` differs from activity.etag `{f}`: give one, or the same etag in both"),
                    ));
                }
            };
            let mask = convert::mask_of(a, r.update_mask.as_ref())?;
            let mut ctx = write_ctx(&principal.name, &r.request_id)?;
            if ctx.request_id.is_some() {
                // What the store writes is merged onto what it holds: the request itself is what a retry repeats.
                ctx.fingerprint = Some(fingerprint(&r.encode_to_vec()));
            }
            if mask == convert::Mask::All && etag.is_none() {
                let activity = convert::activity_from("activity", a)?;
                return Ok(convert::activity(&self.0.store.update_activity(&ctx, activity, None).await?));
            }
            // Merged onto the version read, and written only if it is still the current one; merged again when
            // another write came between, unless the caller named the version (then ABORTED).
            let mut attempt = 1;
            loop {
                let current = self.0.store.get_activity(id).await?;
                let merged = convert::apply_mask(&convert::activity(&current), a, &mask)?;
                let activity = convert::activity_from("activity", &merged)?;
                let condition = etag.unwrap_or(current.etag.as_str());
                match self.0.store.update_activity(&ctx, activity, Some(condition)).await {
                    Err(StorageError::EtagMismatch { .. }) if etag.is_none() && attempt < MERGE_ATTEMPTS => {
                        attempt += 1;
                    }
                    v => return Ok(convert::activity(&v?)),
                }
            }
        })
        .await
    }

    async fn delete_activity(&self, request: Request<pb::DeleteActivityRequest>) -> Answer<()> {
        self.serve(Method::DeleteActivity, request, |principal, request| async move {
            let r = request.get_ref();
            let id = convert::activity_id("name", &r.name)?;
            let etag = (!r.etag.is_empty()).then_some(r.etag.as_str());
            self.0.store.delete_activity(&write_ctx(&principal.name, &r.request_id)?, id, etag).await?;
            Ok(())
        })
        .await
    }

    async fn get_activity_plan(&self, request: Request<pb::GetActivityPlanRequest>) -> Answer<pb::ActivityPlan> {
        self.serve(Method::GetActivityPlan, request, |_, request| async move {
            let r = request.get_ref();
            let start = c::full_date(
                "period_start",
                r.period_start.as_ref().ok_or_else(|| ServiceError::invalid("period_start", "required"))?,
            )?;
            let end = c::full_date(
                "period_end",
                r.period_end.as_ref().ok_or_else(|| ServiceError::invalid("period_end", "required"))?,
            )?;
            if end < start {
                return Err(ServiceError::invalid("period_end", format!("{end} is before period_start {start}")));
            }
            // Dated activities that may fall within the period (or undated ones, sorted out below).
            let filter = (*self.parse_filter(&r.filter)?).clone().and_may_fall_within(start, end);
            let mut found = Vec::new();
            let mut req = PageRequest::first(PageRequest::MAX_SIZE);
            loop {
                let (p, _) = self.activities_page(&filter, &req).await?;
                found.extend(p.items);
                if p.next_page_token.is_empty() {
                    break;
                }
                if found.len() >= 10_000 {
                    return Err(ServiceError::invalid(
                        "filter",
                        "more than 10,000 activities in the period: narrow the period or the filter",
                    ));
                }
                req.page_token = p.next_page_token;
                // A costly filter comes back a budget's worth at a time: let other calls run in between.
                tokio::task::yield_now().await;
            }
            let plans = &self.0.records.plans;
            let overlaps = |plan: &Option<String>| {
                plan.as_ref()
                    .and_then(|id| plans.iter().find(|p| &p.id == id))
                    .is_some_and(|p| p.may_overlap(start, end))
            };
            found.retain(|v| v.record.precision() != ActivityPrecision::Undated || overlaps(&v.record.plan));
            found.sort_by_key(|v| (v.record.start.is_none(), v.record.start.and_then(|d| d.earliest())));
            // Built one by one, and refused as soon as they pass what one answer carries (not after building
            // every message of up to 10,000 activities).
            let mut activities = Vec::with_capacity(found.len());
            let mut bytes = 0;
            for v in &found {
                let message = convert::activity(v);
                bytes += field_len(message.encoded_len());
                if bytes > ANSWER_BYTES {
                    return Err(ServiceError::invalid(
                        "filter",
                        format!(
                            "the {} activities of the period take more than {ANSWER_BYTES} bytes, more than one answer \
                             carries: narrow the period or the filter",
                            found.len(),
                        ),
                    ));
                }
                activities.push(message);
            }
            Ok(pb::ActivityPlan {
                period_start: Some(c::date(start)),
                period_end: Some(c::date(end)),
                activities,
                unreadable: c::unreadable(&self.0.store.unreadable(), is_activity),
            })
        })
        .await
    }
}
