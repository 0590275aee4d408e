//! TreatyService: treaties, their status tables (answered as bytes encoded once per treaty, date and snapshot
//! version), ratification timelines, treaty actions recorded, listed, watched, read by name, corrected and withdrawn;
//! reservations, declarations and designated authorities listed.

use std::sync::Arc;

use bytes::Bytes;
use chrono::{Datelike, NaiveDate};
use core_model::{ArticleParseError, ArticleRef, DeclarationQuery, Measure, ModelError, TreatyNumber};
use prost::Message;
use storage::{PageRequest, Resource, StorageError};
use tonic::Request;

use super::{Answer, Services, fitting, page, page_of, today, watch, write_ctx};
use crate::{
    convert::{self as c, treaty as convert},
    encoded::decoded,
    error::ServiceError,
    method::Method,
    pb::coe::cybercrime::v1::{self as pb, treaty_service_server::TreatyService},
};

impl Services {
    /// The dataset treaty answers are computed from: the snapshot's treaties, states and actions, and the
    /// reported figures read at start-up (see [`super::AppState::records`]); kept per snapshot version.
    pub(crate) fn treaty_data(&self, snapshot: &storage::Snapshot) -> Arc<core_model::Dataset> {
        let build = || {
            let mut ds = snapshot.dataset().clone();
            ds.reported_figures = self.0.records.reported_figures.clone();
            Ok::<_, std::convert::Infallible>(ds)
        };
        match self.0.treaty_data.get_or_compute(&(), snapshot.version(), build) {
            Ok(ds) => ds,
            Err(never) => match never {},
        }
    }

    /// GetTreatyStatus: the status table, encoded once per treaty, date and snapshot version ([`crate::encoded`]
    /// sends these bytes; the trait's method decodes them).
    pub(crate) async fn treaty_status_encoded(&self, request: Request<pb::GetTreatyStatusRequest>) -> Answer<Bytes> {
        self.serve(Method::GetTreatyStatus, request, |_, request| async move {
            let r = request.get_ref();
            let as_of = c::opt_full_date("as_of", r.as_of.as_ref())?.unwrap_or_else(today);
            let snapshot = self.0.store.snapshot();
            let number = self.treaty_number(&snapshot, "name", &r.name)?;
            let compact = convert::compact_view("view", r.view)?;
            let key = (number, as_of, compact);
            let answer = self.0.treaty_statuses.get_or_compute(&key, snapshot.version(), || {
                let status = self.treaty_data(&snapshot).treaty_status(number, as_of).map_err(StorageError::from)?;
                let mut message = convert::treaty_status(number, as_of, &status, self.reported_by(number, as_of));
                if compact {
                    convert::compact(&mut message);
                }
                Ok::<_, ServiceError>(Bytes::from(message.encode_to_vec()))
            })?;
            Ok(Bytes::clone(&answer))
        })
        .await
    }

    /// The figures reported for a treaty by `as_of`, in the order of the records.
    fn reported_by(&self, number: TreatyNumber, as_of: NaiveDate) -> impl Iterator<Item = &core_model::ReportedFigure> {
        self.0
            .records
            .reported_figures
            .iter()
            .filter(move |f| f.treaty == Some(number) && f.as_of.certainly_on_or_before(as_of))
    }

    /// A treaty action's message at its version, with the derived bound of its date the current snapshot gives.
    fn versioned_action(&self, v: &storage::Versioned<core_model::TreatyAction>) -> pb::TreatyAction {
        let data = self.treaty_data(&self.0.store.snapshot());
        convert::versioned_actions(&data, std::slice::from_ref(v))
            .pop()
            .unwrap_or_else(|| convert::treaty_action(&v.record))
    }

    /// A treaty's message, with the entry into force the rules compute from `snapshot`.
    fn treaty_message(&self, snapshot: &storage::Snapshot, t: &core_model::Treaty) -> pb::Treaty {
        convert::treaty(t, self.treaty_data(snapshot).treaty_entry_into_force(t.number))
    }
}

#[tonic::async_trait]
impl TreatyService for Services {
    async fn list_treaties(&self, request: Request<pb::ListTreatiesRequest>) -> Answer<pb::ListTreatiesResponse> {
        self.serve(Method::ListTreaties, request, |_, request| async move {
            let r = request.get_ref();
            let snapshot = self.0.store.snapshot();
            let mut treaties: Vec<core_model::Treaty> = snapshot.dataset().treaties.clone();
            treaties.sort_by_key(|t| t.number);
            let (items, next_page_token) = page_of(&treaties, core_model::names::TREATIES, r.page_size, &r.page_token)?;
            Ok(pb::ListTreatiesResponse {
                treaties: items.iter().map(|t| self.treaty_message(&snapshot, t)).collect(),
                next_page_token,
            })
        })
        .await
    }

    async fn get_treaty(&self, request: Request<pb::GetTreatyRequest>) -> Answer<pb::Treaty> {
        self.serve(Method::GetTreaty, request, |_, request| async move {
            let t = self.treaty("name", &request.get_ref().name)?;
            Ok(self.treaty_message(&self.0.store.snapshot(), &t))
        })
        .await
    }

    async fn get_treaty_status(&self, request: Request<pb::GetTreatyStatusRequest>) -> Answer<pb::TreatyStatus> {
        decoded(self.treaty_status_encoded(request).await)
    }

    async fn get_ratification_timeline(
        &self,
        request: Request<pb::GetRatificationTimelineRequest>,
    ) -> Answer<pb::RatificationTimeline> {
        self.serve(Method::GetRatificationTimeline, request, |_, request| async move {
            let r = request.get_ref();
            let t = self.treaty("name", &r.name)?;
            let from =
                if r.from_year == 0 { t.opened.earliest().map_or(today().year(), |d| d.year()) } else { r.from_year };
            let to = if r.to_year == 0 { today().year() } else { r.to_year };
            if !(1..=9999).contains(&from) {
                return Err(ServiceError::invalid("from_year", format!("{from} is out of range 1-9999")));
            }
            if !(1..=9999).contains(&to) || to < from || to - from > 200 {
                return Err(ServiceError::invalid(
                    "to_year",
                    format!("{to} must be from from_year ({from}) to from_year + 200"),
                ));
            }
            let reported = |m: Measure, year: i32| {
                self.0
                    .records
                    .reported_figures
                    .iter()
                    .find(|f| f.treaty == Some(t.number) && f.measure == m && f.year == Some(year))
                    .map(|f| f.value)
            };
            let series: Vec<(i32, i64)> =
                (from..=to).filter_map(|y| reported(Measure::ConsentsInYear, y).map(|v| (y, v))).collect();
            let snapshot = self.0.store.snapshot();
            let ds = self.treaty_data(&snapshot);
            let counts = ds.consents_per_year(t.number, from, to).map_err(StorageError::from)?;
            let reconciliation = ds.reconcile_consents_per_year(t.number, &series).map_err(StorageError::from)?;
            Ok(convert::ratification_timeline(t.number, t.complete_through(), &counts, reported, &reconciliation))
        })
        .await
    }

    async fn list_treaty_actions(
        &self,
        request: Request<pb::ListTreatyActionsRequest>,
    ) -> Answer<pb::ListTreatyActionsResponse> {
        self.serve(Method::ListTreatyActions, request, |_, request| async move {
            let r = request.get_ref();
            let treaty =
                (!r.treaty.is_empty()).then(|| self.treaty_number(&self.0.store.snapshot(), "treaty", &r.treaty)).transpose()?;
            let country = (!r.country.is_empty()).then(|| c::country_code("country", &r.country)).transpose()?;
            if let Some(code) = &country
                && self.0.store.snapshot().state(code).is_none()
            {
                return Err(ServiceError::NotFound(c::country_name(code)));
            }
            let request = page(r.page_size, &r.page_token)?;
            // Read at one position of the change log, which the answer names.
            let store = &*self.0.store;
            let (mut p, mut change_sequence) =
                storage::at_one_sequence(store, || store.list_treaty_actions(treaty, country.as_ref(), &request))
                    .await?;
            let data = self.treaty_data(&self.0.store.snapshot());
            let mut actions: Vec<pb::TreatyAction> = convert::versioned_actions(&data, &p.items);
            if let Some(fit) = fitting(actions.iter().map(|a| crate::encoded::field_len(a.encoded_len())))
                && fit < actions.len()
            {
                let shorter = PageRequest { page_size: fit as u32, page_token: request.page_token.clone() };
                (p, change_sequence) =
                    storage::at_one_sequence(store, || store.list_treaty_actions(treaty, country.as_ref(), &shorter))
                        .await?;
                actions = convert::versioned_actions(&data, &p.items);
            }
            // The actions' rows, of the one treaty asked about if one is.
            let wanted = |row: &Resource| {
                matches!(row, Resource::ActionRow { treaty: of, .. } if treaty.is_none_or(|t| i64::from(t.0) == *of))
            };
            Ok(pb::ListTreatyActionsResponse {
                treaty_actions: actions,
                next_page_token: p.next_page_token,
                unreadable: c::unreadable(&self.0.store.unreadable(), wanted),
                change_sequence,
            })
        })
        .await
    }

    async fn record_treaty_action(&self, request: Request<pb::RecordTreatyActionRequest>) -> Answer<pb::TreatyAction> {
        self.serve(Method::RecordTreatyAction, request, |principal, request| async move {
            let r = request.get_ref();
            let a = r.treaty_action.as_ref().ok_or_else(|| ServiceError::invalid("treaty_action", "required"))?;
            let action = convert::treaty_action_from("treaty_action", a)?;
            let ctx = write_ctx(&principal.name, &r.request_id)?;
            let recorded = self.0.store.record_treaty_action(&ctx, action).await?;
            Ok(self.versioned_action(&recorded))
        })
        .await
    }

    async fn get_treaty_action(&self, request: Request<pb::GetTreatyActionRequest>) -> Answer<pb::TreatyAction> {
        self.serve(Method::GetTreatyAction, request, |_, request| async move {
            let (treaty, state, kind) = convert::treaty_action_name("name", &request.get_ref().name)?;
            let found = self.0.store.get_treaty_action(treaty, &state, kind).await?;
            Ok(self.versioned_action(&found))
        })
        .await
    }

    async fn update_treaty_action(&self, request: Request<pb::UpdateTreatyActionRequest>) -> Answer<pb::TreatyAction> {
        self.serve(Method::UpdateTreatyAction, request, |principal, request| async move {
            let r = request.get_ref();
            let (correction, etag) = convert::action_correction(r)?;
            let ctx = write_ctx(&principal.name, &r.request_id)?;
            let corrected = self.0.store.update_treaty_action(&ctx, correction, etag.as_deref()).await?;
            Ok(self.versioned_action(&corrected))
        })
        .await
    }

    async fn delete_treaty_action(&self, request: Request<pb::DeleteTreatyActionRequest>) -> Answer<()> {
        self.serve(Method::DeleteTreatyAction, request, |principal, request| async move {
            let r = request.get_ref();
            let (treaty, state, kind) = convert::treaty_action_name("name", &r.name)?;
            let etag = (!r.etag.is_empty()).then_some(r.etag.as_str());
            let ctx = write_ctx(&principal.name, &r.request_id)?;
            self.0.store.delete_treaty_action(&ctx, treaty, &state, kind, etag).await?;
            Ok(())
        })
        .await
    }

    type WatchTreatyActionsStream = watch::WatchStream;

    async fn watch_treaty_actions(
        &self,
        request: Request<pb::WatchTreatyActionsRequest>,
    ) -> Answer<Self::WatchTreatyActionsStream> {
        self.serve(Method::WatchTreatyActions, request, |principal, request| async move {
            let r = request.get_ref();
            let treaty: Option<TreatyNumber> = (!r.treaty.is_empty())
                .then(|| self.treaty_number(&self.0.store.snapshot(), "treaty", &r.treaty))
                .transpose()?;
            if r.after_sequence < 0 {
                return Err(ServiceError::invalid(
                    "after_sequence",
                    format!("{} is negative: a sequence received, or 0 for new actions only", r.after_sequence),
                ));
            }
            let named = principal.role.is_some().then_some(principal.name.as_str());
            let slot = self.0.watchers.acquire(crate::watchers::peer_of(request.extensions()), named)?;
            Ok(watch::treaty_actions(&self.0, slot, treaty, r.after_sequence))
        })
        .await
    }

    async fn list_declarations(
        &self,
        request: Request<pb::ListDeclarationsRequest>,
    ) -> Answer<pb::ListDeclarationsResponse> {
        self.serve(Method::ListDeclarations, request, |_, request| async move {
            let r = request.get_ref();
            let treaty = (!r.treaty.is_empty()).then(|| self.treaty("treaty", &r.treaty)).transpose()?;
            let article = match (r.article.trim(), &treaty) {
                ("", _) => None,
                (_, None) => {
                    return Err(ServiceError::invalid(
                        "article",
                        "an article is one of a treaty's: give `treaty` too (e.g. treaties/185)",
                    ));
                }
                (text, Some(t)) => {
                    let a: ArticleRef =
                        text.parse().map_err(|e: ArticleParseError| ServiceError::invalid("article", e.to_string()))?;
                    if let Some(count) = t.articles.filter(|count| a.article > *count) {
                        return Err(StorageError::from(ModelError::ArticleNotInTreaty {
                            treaty: t.number,
                            article: a.to_string(),
                            articles: count,
                        })
                        .into());
                    }
                    Some(a)
                }
            };
            let country = (!r.country.is_empty()).then(|| c::country_code("country", &r.country)).transpose()?;
            if let Some(code) = &country
                && self.0.store.snapshot().state(code).is_none()
            {
                return Err(StorageError::from(ModelError::UnknownState(code.clone())).into());
            }
            let kinds = c::declaration::kinds_from(&r.kinds)?;
            let standing_at = c::opt_full_date("standing_at", r.standing_at.as_ref())?;
            let records = &self.0.records;
            let query = DeclarationQuery {
                treaty: treaty.as_ref().map(|t| t.number),
                article,
                state: country,
                kinds,
                standing_at,
            };
            let found = records.declarations_matching(&query);
            let scope = format!(
                "declarations?{}|{}|{}|{:?}|{:?}",
                r.treaty,
                r.article.trim(),
                r.country,
                query.kinds,
                standing_at
            );
            let (items, next_page_token) = page_of(&found, &scope, r.page_size, &r.page_token)?;
            let at = standing_at.unwrap_or_else(today);
            let mut coverage_notes = vec![c::declaration::COVERAGE_NOTE.to_owned()];
            if let Some(code) = &query.state
                && records.declarations_of(code).next().is_none()
            {
                coverage_notes.push(format!(
                    "No statement of {} is recorded here: that does not mean it made none.",
                    c::country_name(code)
                ));
            } else if found.is_empty() {
                coverage_notes.push(
                    "No recorded statement matches the request: that does not mean no state made one.".to_owned(),
                );
            }
            Ok(pb::ListDeclarationsResponse {
                declarations: items
                    .iter()
                    .map(|d| c::declaration::declaration(d, records.declaration_standing(d, at), at))
                    .collect(),
                next_page_token,
                coverage_notes,
            })
        })
        .await
    }
}
