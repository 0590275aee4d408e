//! The handlers of the four services. Each checks the caller first (a write's role before anything else, so a
//! reader gets PERMISSION_DENIED before NOT_FOUND), validates the request into domain types through
//! [`crate::convert`], asks the store, and logs one line.

use std::{
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll},
    time::{Duration, Instant},
};

use bytes::Bytes;
use chrono::{Datelike, NaiveDate};
use core_model::{ActivityPrecision, Comparison, DateOp, Expr, Filter, Measure, TreatyNumber};
use prost::Message;
use storage::{Change, PageRequest, Record, RecordKind, StorageError, Store, WriteContext};
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use crate::{
    auth::Auth,
    convert::{self as c, serde_name},
    encoded::{EncodedActivities, decoded},
    error::{Result, ServiceError},
    memo::Memo,
    pb::coe::cybercrime::v1::{
        self as pb, activity_service_server::ActivityService, country_service_server::CountryService,
        programme_service_server::ProgrammeService, report_service_server::ReportService,
        treaty_service_server::TreatyService,
    },
    watchers::{WatchLimits, Watchers, peer_of},
};

/// What every handler shares.
#[derive(Debug)]
pub struct AppState {
    /// The store.
    pub store: Arc<dyn Store>,
    /// Who may do what.
    pub auth: Auth,
    /// The states and the records other than activities and treaty actions, read once at start-up (the API
    /// does not change them; `cybercrime import` fills an empty store before a server starts): legislative
    /// assistance, profiles, contact points, studies, the programme, funding, reported figures.
    pub records: core_model::Dataset,
    /// Tells watch streams to end (on shutdown).
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    /// Status tables already computed and encoded, per treaty and date.
    treaty_statuses: Memo<(TreatyNumber, NaiveDate), Bytes>,
    /// Country pages already computed and encoded, per country and date.
    countries: Memo<(core_model::CountryCode, NaiveDate), Bytes>,
    /// The snapshot's treaties, states and actions with the reported figures read at start-up, per snapshot
    /// version: what treaty answers are computed from (a consent's bound derived from a reported series needs
    /// the series).
    treaty_data: Memo<(), core_model::Dataset>,
    /// Activities already encoded, per version.
    activities: EncodedActivities,
    /// What a report may cost ([`ReportLimits`]).
    reports: ReportLimits,
    /// One permit per report being generated.
    report_permits: Arc<tokio::sync::Semaphore>,
    /// One place per open watch stream (bounded in all, per connection and per principal): each holds at most
    /// 16 undelivered events, so watchers, fast or stuck, hold a bounded amount of memory in all.
    pub(crate) watchers: Arc<Watchers>,
    /// One turn for walks of costly filters ([`COSTLY_FILTER`]): they run one at a time, off the runtime's
    /// worker threads, so that however many clients send them, they take one core at most.
    costly_walks: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    /// The state the services share.
    pub fn new(
        store: Arc<dyn Store>,
        auth: Auth,
        records: core_model::Dataset,
        shutdown: tokio::sync::watch::Receiver<bool>,
        max_watchers: usize,
    ) -> Self {
        AppState {
            store,
            auth,
            records,
            shutdown,
            treaty_statuses: Memo::new(1024),
            countries: Memo::new(4096),
            treaty_data: Memo::new(1),
            activities: EncodedActivities::new(20_000, 64 << 20),
            watchers: Watchers::new(WatchLimits::only(max_watchers)),
            costly_walks: Arc::new(tokio::sync::Semaphore::new(1)),
            reports: ReportLimits::default(),
            report_permits: Arc::new(tokio::sync::Semaphore::new(ReportLimits::default().max_concurrent)),
        }
    }

    /// The same state with other limits on reports.
    pub fn with_report_limits(mut self, limits: ReportLimits) -> Self {
        self.report_permits = Arc::new(tokio::sync::Semaphore::new(limits.max_concurrent.max(1)));
        self.reports = limits;
        self
    }

    /// The same, with these limits on watch streams.
    pub fn with_watch_limits(mut self, limits: WatchLimits) -> Self {
        self.watchers = Watchers::new(limits);
        self
    }

    /// Reads the records the services answer from memory.
    pub async fn load_records(store: &dyn Store) -> Result<core_model::Dataset> {
        let mut ds = core_model::Dataset::empty();
        ds.states = store.snapshot().dataset().states.clone();
        for kind in RecordKind::ALL {
            let mut page = PageRequest::first(PageRequest::MAX_SIZE);
            loop {
                let p = store.list_records(kind, &page).await?;
                for v in p.items {
                    v.record.add_to(&mut ds);
                }
                if p.next_page_token.is_empty() {
                    break;
                }
                page.page_token = p.next_page_token;
            }
        }
        Ok(ds)
    }
}

/// The four services over one state.
#[derive(Debug, Clone)]
pub struct Services(pub Arc<AppState>);

/// One request being served: logged once, when it ends.
pub(crate) struct Call {
    method: &'static str,
    started: Instant,
    pub(crate) principal: String,
}

impl Call {
    pub(crate) fn start(method: &'static str) -> Call {
        Call { method, started: Instant::now(), principal: "anonymous".to_owned() }
    }

    pub(crate) fn finish<T>(self, result: Result<T>) -> std::result::Result<Response<T>, Status> {
        let latency_ms = self.started.elapsed().as_secs_f64() * 1000.0;
        let result = result.map(Response::new).map_err(Status::from);
        let code = result.as_ref().map_or_else(|s| s.code(), |_| tonic::Code::Ok);
        tracing::info!(target: "cybercrime::request", method = self.method, code = ?code, latency_ms, principal = %self.principal);
        result
    }
}

/// The hot reads, answered as encoded bytes: what the server sends for them ([`crate::encoded`]), and what the
/// service traits' methods decode.
impl Services {
    /// GetTreatyStatus: the status table, encoded once per treaty, date and snapshot version.
    pub(crate) async fn treaty_status_encoded(
        &self,
        request: Request<pb::GetTreatyStatusRequest>,
    ) -> std::result::Result<Response<Bytes>, Status> {
        let mut call = Call::start("GetTreatyStatus");
        let result = async {
            call.principal = self.0.auth.reader(request.metadata())?.name;
            let r = request.get_ref();
            let as_of = c::opt_full_date("as_of", r.as_of.as_ref())?.unwrap_or_else(today);
            let t = self.treaty("name", &r.name)?;
            let snapshot = self.0.store.snapshot();
            let answer =
                self.0.treaty_statuses.get_or_compute(&(t.number, as_of), snapshot.last_action_seq(), || {
                    Ok::<_, ServiceError>(Bytes::from(self.treaty_status_pb(&snapshot, &t, as_of)?.encode_to_vec()))
                })?;
            Ok(Bytes::clone(&answer))
        }
        .await;
        call.finish(result)
    }

    /// GetCountry: the country's page, encoded once per country, date and snapshot version.
    pub(crate) async fn country_encoded(
        &self,
        request: Request<pb::GetCountryRequest>,
    ) -> std::result::Result<Response<Bytes>, Status> {
        let mut call = Call::start("GetCountry");
        let result = async {
            call.principal = self.0.auth.reader(request.metadata())?.name;
            let r = request.get_ref();
            let code = c::country_code("name", &r.name)?;
            let as_of = c::opt_full_date("as_of", r.as_of.as_ref())?.unwrap_or_else(today);
            let snapshot = self.0.store.snapshot();
            let state = snapshot.state(&code).ok_or_else(|| ServiceError::NotFound(c::country_name(&code)))?;
            let answer = self.0.countries.get_or_compute(&(code.clone(), as_of), snapshot.last_action_seq(), || {
                Ok::<_, ServiceError>(Bytes::from(self.country_pb(&snapshot, state, as_of).encode_to_vec()))
            })?;
            Ok(Bytes::clone(&answer))
        }
        .await;
        call.finish(result)
    }

    /// ListActivities: the page, put together from each activity's encoding (made once per version).
    pub(crate) async fn list_activities_encoded(
        &self,
        request: Request<pb::ListActivitiesRequest>,
    ) -> std::result::Result<Response<Bytes>, Status> {
        let mut call = Call::start("ListActivities");
        let result = async {
            call.principal = self.0.auth.reader(request.metadata())?.name;
            let r = request.get_ref();
            if !r.order_by.is_empty() {
                return Err(ServiceError::invalid("order_by", "only \"\" (the order of creation) is supported"));
            }
            let filter = parse_filter(&r.filter)?;
            let request = page(r.page_size, &r.page_token)?;
            let message = |v: &storage::Versioned<core_model::Activity>| c::activity(&v.record, &v.etag);
            let mut p = self.list_activities(&filter, &request).await?;
            let mut encodings = self.0.activities.encodings(&p.items, message);
            // A page ends early (AIP-158) rather than pass the size a message may have: the same list asked for
            // as many items as fit gives the right token for the next page.
            if let Some(fit) = fitting(encodings.iter().map(|b| crate::encoded::field_len(b.len())))
                && fit < p.items.len()
            {
                let shorter = PageRequest { page_size: fit as u32, page_token: request.page_token.clone() };
                p = self.list_activities(&filter, &shorter).await?;
                encodings = self.0.activities.encodings(&p.items, message);
            }
            let unreadable = c::unreadable(&self.0.store.unreadable(), "activities/");
            Ok(crate::encoded::page_of_encodings(&encodings, &p.next_page_token, &unreadable))
        }
        .await;
        call.finish(result)
    }
}

/// The most bytes of items one answer carries (a message may have 4 MiB; the rest is left for the other fields).
pub(crate) const ANSWER_BYTES: usize = 3 * 1024 * 1024 + 512 * 1024;

/// How many of the leading items fit in [`ANSWER_BYTES`] (at least one), given their encoded sizes; `None` when
/// all do.
fn fitting(sizes: impl Iterator<Item = usize>) -> Option<usize> {
    let mut total = 0;
    for (i, size) in sizes.enumerate() {
        total += size;
        if total > ANSWER_BYTES {
            return Some(i.max(1));
        }
    }
    None
}

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

impl Services {
    /// A page of activities: a costly filter's walk one at a time on a blocking thread, others where they are.
    async fn list_activities(
        &self,
        filter: &Filter,
        page: &PageRequest,
    ) -> Result<storage::Page<Arc<storage::Versioned<core_model::Activity>>>> {
        if filter.expr.as_ref().map_or(0, comparisons) < COSTLY_FILTER {
            return Ok(self.0.store.list_activities(filter, page).await?);
        }
        let _turn = self.0.costly_walks.acquire().await.map_err(|e| StorageError::Internal(e.to_string()))?;
        let (store, filter, page) = (self.0.store.clone(), filter.clone(), page.clone());
        let runtime = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || runtime.block_on(store.list_activities(&filter, &page)))
            .await
            .map_err(|e| StorageError::Internal(format!("a costly filter's walk failed: {e}")))?
            .map_err(ServiceError::from)
    }
}

fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

fn page(size: i32, token: &str) -> Result<PageRequest> {
    Ok(PageRequest { page_size: c::page_size(size)?, page_token: token.to_owned() })
}

/// One page of an in-memory list, with a token bound to `scope`.
fn page_of<T: Clone>(items: &[T], scope: &str, size: i32, token: &str) -> Result<(Vec<T>, String)> {
    let req = page(size, token)?;
    let start = storage::token::decode(scope, &req.page_token)?.max(0) as usize;
    let end = (start + req.size() as usize).min(items.len());
    let next = if end < items.len() { storage::token::encode(scope, end as i64) } else { String::new() };
    Ok((items.get(start..end).map(<[T]>::to_vec).unwrap_or_default(), next))
}

pub(crate) fn write_ctx(principal: &str, request_id: &str) -> Result<WriteContext> {
    let ctx = WriteContext::by(principal);
    if request_id.is_empty() {
        return Ok(ctx);
    }
    if request_id.len() > 128 || !request_id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ServiceError::invalid("request_id", "at most 128 printable ASCII characters"));
    }
    Ok(ctx.with_request_id(request_id))
}

fn parse_filter(text: &str) -> Result<Filter> {
    Filter::parse(text).map_err(|e| ServiceError::invalid("filter", e.to_string()))
}

impl Services {
    /// The dataset treaty answers are computed from: the snapshot's treaties, states and actions, and the
    /// reported figures read at start-up (see [`AppState::records`]); kept per snapshot version.
    fn treaty_data(&self, snapshot: &storage::Snapshot) -> Arc<core_model::Dataset> {
        let build = || {
            let mut ds = snapshot.dataset().clone();
            ds.reported_figures = self.0.records.reported_figures.clone();
            Ok::<_, std::convert::Infallible>(ds)
        };
        match self.0.treaty_data.get_or_compute(&(), snapshot.last_action_seq(), build) {
            Ok(ds) => ds,
            Err(never) => match never {},
        }
    }

    /// Treaty actions for a response, each consent with the derived bound of its date, if any.
    fn actions_pb<'a>(
        &self,
        ds: &core_model::Dataset,
        actions: impl IntoIterator<Item = &'a core_model::TreatyAction>,
    ) -> Vec<pb::TreatyAction> {
        let mut derived: std::collections::HashMap<TreatyNumber, _> = std::collections::HashMap::new();
        actions
            .into_iter()
            .map(|a| {
                let bounds = derived.entry(a.treaty).or_insert_with(|| ds.derived_bounds(a.treaty).unwrap_or_default());
                let first = a.kind.is_consent()
                    && ds
                        .treaty_actions
                        .iter()
                        .find(|o| o.treaty == a.treaty && o.state == a.state && o.kind.is_consent())
                        == Some(a);
                c::treaty_action_derived(a, bounds.get(&a.state).filter(|_| first))
            })
            .collect()
    }

    fn treaty(&self, field: &str, name: &str) -> Result<core_model::Treaty> {
        let n = c::treaty_number(field, name)?;
        self.0.store.snapshot().treaty(n).cloned().ok_or_else(|| ServiceError::NotFound(c::treaty_name(n)))
    }

    fn treaty_pb(&self, t: &core_model::Treaty) -> pb::Treaty {
        let snapshot = self.0.store.snapshot();
        let rule = &t.entry_into_force_rule;
        pb::Treaty {
            name: c::treaty_name(t.number),
            display_name: t.label(),
            title: t.title.clone(),
            short_title: t.short_title.clone(),
            opened: Some(c::approx(&t.opened)),
            opened_at: t.opened_at.clone().unwrap_or_default(),
            entry_into_force: t.entry_into_force.map(c::date),
            computed_entry_into_force: self
                .treaty_data(&snapshot)
                .treaty_entry_into_force(t.number)
                .as_ref()
                .map(c::approx),
            entry_into_force_rule: format!(
                "{}: {} consents, at least {} by member States, then {} months",
                rule.article, rule.consents, rule.member_states, rule.months
            ),
            eligibility: match t.eligibility {
                core_model::Eligibility::MembersAndParticipants => "members-and-participants".to_owned(),
                core_model::Eligibility::SignatoriesOf { treaty } => {
                    format!("signatories-of {}", c::treaty_name(treaty))
                }
            },
            requires_consent_to: t.requires_consent_to.map(c::treaty_name).unwrap_or_default(),
            sources: c::citations(&t.source),
            note: t.note.clone().unwrap_or_default(),
            coverage: t.coverage.as_ref().map(c::coverage),
        }
    }

    fn treaty_status_pb(
        &self,
        snapshot: &storage::Snapshot,
        t: &core_model::Treaty,
        as_of: NaiveDate,
    ) -> Result<pb::TreatyStatus> {
        let status = self.treaty_data(snapshot).treaty_status(t.number, as_of).map_err(StorageError::from)?;
        let reported_figures = self
            .0
            .records
            .reported_figures
            .iter()
            .filter(|f| f.treaty == Some(t.number) && f.as_of.certainly_on_or_before(as_of))
            .map(c::reported_figure)
            .collect();
        Ok(pb::TreatyStatus {
            name: c::treaty_name(t.number),
            as_of: Some(c::date(as_of)),
            groups: status
                .groups
                .iter()
                .map(|g| pb::StatusGroup {
                    status: c::state_status(g.status) as i32,
                    count: g.states.len() as i32,
                    states: g.states.iter().map(c::status_entry).collect(),
                    certain_count: g.certain() as i32,
                    uncertain_count: g.uncertain() as i32,
                })
                .collect(),
            reported_figures,
            complete_through: status.complete_through.map(c::date),
            past_record: status.past_record,
            record_note: status.record_note.unwrap_or_default(),
        })
    }

    fn country_pb(&self, snapshot: &storage::Snapshot, state: &core_model::State, as_of: NaiveDate) -> pb::Country {
        let data = self.treaty_data(snapshot);
        let ds = &*data;
        let records = &self.0.records;
        let treaty_statuses = ds
            .treaties
            .iter()
            .filter_map(|t| {
                let entry = ds.state_status(t, state, as_of)?;
                Some(pb::CountryTreatyStatus {
                    treaty: c::treaty_name(t.number),
                    status: c::state_status(entry.status) as i32,
                    entry: Some(c::status_entry(&entry)),
                    actions: self.actions_pb(ds, ds.actions_of(&state.code, t.number)),
                    complete_through: t.complete_through().map(c::date),
                    past_record: t.past_record(as_of),
                })
            })
            .collect();
        let legislative_assistance = records
            .legislative_assistance
            .iter()
            .filter(|a| a.country == state.code)
            .map(|a| pb::LegislativeAssistance {
                id: a.id.clone(),
                subject: a.subject.clone(),
                specific_advice: a.specific_advice,
                steps: a
                    .steps
                    .iter()
                    .map(|s| pb::AssistanceStep {
                        date: s.date.as_ref().map(c::approx),
                        method: serde_name(&s.method),
                        status: serde_name(&s.status),
                        description: s.description.clone(),
                    })
                    .collect(),
                sources: c::citations(&a.source),
                note: a.note.clone().unwrap_or_default(),
            })
            .collect();
        let profile = records.profiles.iter().find(|p| p.country == state.code).map(|p| pb::CountryProfile {
            prepared: p.prepared.as_ref().map(c::approx),
            published: p.published.as_ref().map(c::approx),
            reviewed: p.reviewed.as_ref().map(c::approx),
            sources: c::citations(&p.source),
        });
        let contact_point = records.contact_point_at(&state.code, as_of).map(|p| pb::ContactPoint {
            status: serde_name(&p.status),
            as_at: Some(c::approx(&p.as_at)),
            sources: c::citations(&p.source),
            note: p.note.clone().unwrap_or_default(),
        });
        pb::Country {
            name: c::country_name(&state.code),
            display_name: state.name.clone(),
            region: c::region_name(state.region),
            coe_member: state.coe_member,
            participated_in: state.participated_in.iter().map(|t| c::treaty_name(*t)).collect(),
            treaty_statuses,
            legislative_assistance,
            profile,
            contact_point,
            as_of: Some(c::date(as_of)),
            note: state.note.clone().unwrap_or_default(),
        }
    }
}

type WatchStream = Pin<Box<dyn Stream<Item = std::result::Result<pb::TreatyActionEvent, Status>> + Send>>;

#[tonic::async_trait]
impl TreatyService for Services {
    async fn list_treaties(
        &self,
        request: Request<pb::ListTreatiesRequest>,
    ) -> std::result::Result<Response<pb::ListTreatiesResponse>, Status> {
        let mut call = Call::start("ListTreaties");
        let result = async {
            call.principal = self.0.auth.reader(request.metadata())?.name;
            let r = request.get_ref();
            let snapshot = self.0.store.snapshot();
            let mut treaties: Vec<core_model::Treaty> = snapshot.dataset().treaties.clone();
            treaties.sort_by_key(|t| t.number);
            let (items, next_page_token) = page_of(&treaties, "treaties", r.page_size, &r.page_token)?;
            Ok(pb::ListTreatiesResponse {
                treaties: items.iter().map(|t| self.treaty_pb(t)).collect(),
                next_page_token,
            })
        }
        .await;
        call.finish(result)
    }

    async fn get_treaty(
        &self,
        request: Request<pb::GetTreatyRequest>,
    ) -> std::result::Result<Response<pb::Treaty>, Status> {
        let mut call = Call::start("GetTreaty");
        let result = async {
            call.principal = self.0.auth.reader(request.metadata())?.name;
            let t = self.treaty("name", &request.get_ref().name)?;
            Ok(self.treaty_pb(&t))
        }
        .await;
        call.finish(result)
    }

    async fn get_treaty_status(
        &self,
        request: Request<pb::GetTreatyStatusRequest>,
    ) -> std::result::Result<Response<pb::TreatyStatus>, Status> {
        decoded(self.treaty_status_encoded(request).await)
    }

    async fn get_ratification_timeline(
        &self,
        request: Request<pb::GetRatificationTimelineRequest>,
    ) -> std::result::Result<Response<pb::RatificationTimeline>, Status> {
        let mut call = Call::start("GetRatificationTimeline");
        let result = async {
            call.principal = self.0.auth.reader(request.metadata())?.name;
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
            let rec = ds.reconcile_consents_per_year(t.number, &series).map_err(StorageError::from)?;
            Ok(pb::RatificationTimeline {
                name: c::treaty_name(t.number),
                years: counts
                    .iter()
                    .map(|y| pb::YearCount {
                        year: y.year,
                        added: y.added_min as i32,
                        total: y.total_min as i32,
                        added_max: y.added_max as i32,
                        total_max: y.total_max as i32,
                        reported_added: reported(Measure::ConsentsInYear, y.year).map(|v| v as i32),
                        reported_total: reported(Measure::ConsentsTotal, y.year).map(|v| v as i32),
                        past_record: y.past_record,
                    })
                    .collect(),
                consistent_with_reported: rec.consistent,
                undated_consents: rec.undated.iter().map(c::country_name).collect(),
                complete_through: t.complete_through().map(c::date),
            })
        }
        .await;
        call.finish(result)
    }

    async fn list_treaty_actions(
        &self,
        request: Request<pb::ListTreatyActionsRequest>,
    ) -> std::result::Result<Response<pb::ListTreatyActionsResponse>, Status> {
        let mut call = Call::start("ListTreatyActions");
        let result = async {
            call.principal = self.0.auth.reader(request.metadata())?.name;
            let r = request.get_ref();
            let treaty =
                (!r.treaty.is_empty()).then(|| self.treaty("treaty", &r.treaty).map(|t| t.number)).transpose()?;
            let country = (!r.country.is_empty()).then(|| c::country_code("country", &r.country)).transpose()?;
            if let Some(code) = &country
                && self.0.store.snapshot().state(code).is_none()
            {
                return Err(ServiceError::NotFound(c::country_name(code)));
            }
            let request = page(r.page_size, &r.page_token)?;
            let mut p = self.0.store.list_treaty_actions(treaty, country.as_ref(), &request).await?;
            let data = self.treaty_data(&self.0.store.snapshot());
            let mut actions: Vec<pb::TreatyAction> = self.actions_pb(&data, &p.items);
            if let Some(fit) = fitting(actions.iter().map(|a| crate::encoded::field_len(a.encoded_len())))
                && fit < actions.len()
            {
                let shorter = PageRequest { page_size: fit as u32, page_token: request.page_token.clone() };
                p = self.0.store.list_treaty_actions(treaty, country.as_ref(), &shorter).await?;
                actions = self.actions_pb(&data, &p.items);
            }
            let prefix = treaty.map_or_else(|| "treaties/".to_owned(), |t| format!("treaties/{t}/actions/"));
            Ok(pb::ListTreatyActionsResponse {
                treaty_actions: actions,
                next_page_token: p.next_page_token,
                unreadable: c::unreadable(&self.0.store.unreadable(), &prefix)
                    .into_iter()
                    .filter(|u| u.name.contains("/actions/"))
                    .collect(),
            })
        }
        .await;
        call.finish(result)
    }

    async fn record_treaty_action(
        &self,
        request: Request<pb::RecordTreatyActionRequest>,
    ) -> std::result::Result<Response<pb::TreatyAction>, Status> {
        let mut call = Call::start("RecordTreatyAction");
        let result = async {
            let principal = self.0.auth.editor(request.metadata())?;
            call.principal = principal.name.clone();
            let r = request.get_ref();
            let a = r.treaty_action.as_ref().ok_or_else(|| ServiceError::invalid("treaty_action", "required"))?;
            let action = c::treaty_action_from("treaty_action", a)?;
            let ctx = write_ctx(&principal.name, &r.request_id)?;
            let recorded = self.0.store.record_treaty_action(&ctx, action).await?;
            let data = self.treaty_data(&self.0.store.snapshot());
            Ok(self.actions_pb(&data, [&recorded]).into_iter().next().unwrap_or_else(|| c::treaty_action(&recorded)))
        }
        .await;
        call.finish(result)
    }

    type WatchTreatyActionsStream = WatchStream;

    async fn watch_treaty_actions(
        &self,
        request: Request<pb::WatchTreatyActionsRequest>,
    ) -> std::result::Result<Response<Self::WatchTreatyActionsStream>, Status> {
        let mut call = Call::start("WatchTreatyActions");
        let result = async {
            let principal = self.0.auth.reader(request.metadata())?;
            call.principal = principal.name.clone();
            let r = request.get_ref();
            let treaty: Option<TreatyNumber> =
                (!r.treaty.is_empty()).then(|| self.treaty("treaty", &r.treaty).map(|t| t.number)).transpose()?;
            if r.after_sequence < 0 {
                return Err(ServiceError::invalid(
                    "after_sequence",
                    format!("{} is negative: a sequence received, or 0 for new actions only", r.after_sequence),
                ));
            }
            let named = principal.role.is_some().then_some(principal.name.as_str());
            let slot = self.0.watchers.acquire(peer_of(request.extensions()), named)?;
            let lifetime = self.0.watchers.limits().lifetime;
            // Subscribed before the snapshot is taken: an action missing from the snapshot is broadcast later
            // (the snapshot is swapped in before the broadcast), one in both is sent once (by its sequence).
            let mut changes = self.0.store.subscribe();
            let replay: Vec<(i64, core_model::TreatyAction)> = if r.after_sequence > 0 {
                self.0.store.snapshot().actions_after(r.after_sequence).map(|(seq, a)| (seq, a.clone())).collect()
            } else {
                Vec::new()
            };
            let mut last = r.after_sequence;
            let mut shutdown = self.0.shutdown.clone();
            let stream = async_stream(move |tx| async move {
                // Held until the stream ends (the client went away, fell behind, its lifetime ended, or shutdown).
                let _slot = slot;
                let expiry = tokio::time::sleep(lifetime);
                tokio::pin!(expiry);
                let mut replay = replay.into_iter();
                loop {
                    let (seq, action) = if let Some(next) = replay.next() {
                        next
                    } else {
                        tokio::select! {
                            _ = shutdown.changed() => return,
                            // The client went away: end now, not at the next action (which may never come).
                            _ = tx.closed() => return,
                            _ = &mut expiry => {
                                let expired = Status::from(ServiceError::WatchExpired { lifetime, last_sequence: last });
                                tokio::select! {
                                    _ = tx.send(Err(expired)) => {}
                                    _ = shutdown.changed() => {}
                                }
                                return;
                            }
                            change = changes.recv() => match change {
                                Ok(Change::TreatyActionRecorded { seq, action }) => (seq, action),
                                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                                    let dropped = Status::resource_exhausted(format!(
                                        "this watcher fell {n} actions behind and was dropped: watch again with \
                                         after_sequence = {last}"
                                    ));
                                    tokio::select! {
                                        _ = tx.send(Err(dropped)) => {}
                                        _ = shutdown.changed() => {}
                                    }
                                    return;
                                }
                                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                            }
                        }
                    };
                    if seq <= last {
                        continue;
                    }
                    last = seq;
                    if treaty.is_some_and(|t| t != action.treaty) {
                        continue;
                    }
                    let event = pb::TreatyActionEvent { sequence: seq, treaty_action: Some(c::treaty_action(&action)) };
                    // A client that does not read blocks only its own stream, and not shutdown nor its lifetime.
                    tokio::select! {
                        sent = tx.send(Ok(event)) => if sent.is_err() { return },
                        _ = shutdown.changed() => return,
                        _ = &mut expiry => return,
                    }
                }
            });
            Ok(stream)
        }
        .await;
        call.finish(result)
    }
}

/// A stream fed by a task through a bounded channel: a client that does not read holds at most 16 events.
fn async_stream<F, Fut>(producer: F) -> WatchStream
where
    F: FnOnce(tokio::sync::mpsc::Sender<std::result::Result<pb::TreatyActionEvent, Status>>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tokio::spawn(producer(tx));
    Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx))
}

#[tonic::async_trait]
impl ActivityService for Services {
    async fn list_activities(
        &self,
        request: Request<pb::ListActivitiesRequest>,
    ) -> std::result::Result<Response<pb::ListActivitiesResponse>, Status> {
        decoded(self.list_activities_encoded(request).await)
    }

    async fn get_activity(
        &self,
        request: Request<pb::GetActivityRequest>,
    ) -> std::result::Result<Response<pb::Activity>, Status> {
        let mut call = Call::start("GetActivity");
        let result = async {
            call.principal = self.0.auth.reader(request.metadata())?.name;
            let id = c::activity_id("name", &request.get_ref().name)?;
            let v = self.0.store.get_activity(id).await?;
            Ok(c::activity(&v.record, &v.etag))
        }
        .await;
        call.finish(result)
    }

    async fn create_activity(
        &self,
        request: Request<pb::CreateActivityRequest>,
    ) -> std::result::Result<Response<pb::Activity>, Status> {
        let mut call = Call::start("CreateActivity");
        let result = async {
            let principal = self.0.auth.editor(request.metadata())?;
            call.principal = principal.name.clone();
            let r = request.get_ref();
            let a = r.activity.as_ref().ok_or_else(|| ServiceError::invalid("activity", "required"))?;
            let activity = c::activity_from("activity", a)?;
            let v = self.0.store.create_activity(&write_ctx(&principal.name, &r.request_id)?, activity).await?;
            Ok(c::activity(&v.record, &v.etag))
        }
        .await;
        call.finish(result)
    }

    async fn update_activity(
        &self,
        request: Request<pb::UpdateActivityRequest>,
    ) -> std::result::Result<Response<pb::Activity>, Status> {
        let mut call = Call::start("UpdateActivity");
        let result = async {
            let principal = self.0.auth.editor(request.metadata())?;
            call.principal = principal.name.clone();
            let r = request.get_ref();
            let a = r.activity.as_ref().ok_or_else(|| ServiceError::invalid("activity", "required"))?;
            let id = c::activity_id("activity.name", &a.name)?;
            let merged = match r.update_mask.as_ref().filter(|m| !m.paths.is_empty()) {
                None => a.clone(),
                Some(mask) => {
                    let current = self.0.store.get_activity(id).await?;
                    let mut merged = c::activity(&current.record, &current.etag);
                    c::apply_mask(&mut merged, a, &mask.paths)?;
                    merged
                }
            };
            let activity = c::activity_from("activity", &merged)?;
            let etag = (!r.etag.is_empty()).then_some(r.etag.as_str());
            let v = self.0.store.update_activity(&write_ctx(&principal.name, &r.request_id)?, activity, etag).await?;
            Ok(c::activity(&v.record, &v.etag))
        }
        .await;
        call.finish(result)
    }

    async fn delete_activity(
        &self,
        request: Request<pb::DeleteActivityRequest>,
    ) -> std::result::Result<Response<()>, Status> {
        let mut call = Call::start("DeleteActivity");
        let result = async {
            let principal = self.0.auth.editor(request.metadata())?;
            call.principal = principal.name.clone();
            let r = request.get_ref();
            let id = c::activity_id("name", &r.name)?;
            let etag = (!r.etag.is_empty()).then_some(r.etag.as_str());
            self.0.store.delete_activity(&write_ctx(&principal.name, &r.request_id)?, id, etag).await?;
            Ok(())
        }
        .await;
        call.finish(result)
    }

    async fn get_activity_plan(
        &self,
        request: Request<pb::GetActivityPlanRequest>,
    ) -> std::result::Result<Response<pb::ActivityPlan>, Status> {
        let mut call = Call::start("GetActivityPlan");
        let result = async {
            call.principal = self.0.auth.reader(request.metadata())?.name;
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
            let user = parse_filter(&r.filter)?;
            // Dated activities that may fall within the period (or undated ones, sorted out below).
            let within = Expr::And(
                Box::new(Expr::Not(Box::new(Expr::Cmp(Comparison::Start {
                    op: DateOp::Gt,
                    value: core_model::ApproxDate::Day(end),
                })))),
                Box::new(Expr::Not(Box::new(Expr::Cmp(Comparison::End {
                    op: DateOp::Lt,
                    value: core_model::ApproxDate::Day(start),
                })))),
            );
            let filter = Filter {
                expr: Some(match user.expr {
                    Some(u) => Expr::And(Box::new(u), Box::new(within)),
                    None => within,
                }),
            };
            let mut found = Vec::new();
            let mut req = PageRequest::first(PageRequest::MAX_SIZE);
            loop {
                let p = self.list_activities(&filter, &req).await?;
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
                plan.as_ref().and_then(|id| plans.iter().find(|p| &p.id == id)).is_some_and(|p| {
                    p.period_start.earliest().is_none_or(|s| s <= end)
                        && p.period_end.latest().is_none_or(|e| e >= start)
                })
            };
            found.retain(|v| v.record.precision() != ActivityPrecision::Undated || overlaps(&v.record.plan));
            found.sort_by_key(|v| (v.record.start.is_none(), v.record.start.and_then(|d| d.earliest())));
            // Built one by one, and refused as soon as they pass what one answer carries (not after building
            // every message of up to 10,000 activities).
            let mut activities = Vec::with_capacity(found.len());
            let mut bytes = 0;
            for v in &found {
                let message = c::activity(&v.record, &v.etag);
                bytes += crate::encoded::field_len(message.encoded_len());
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
                unreadable: c::unreadable(&self.0.store.unreadable(), "activities/"),
            })
        }
        .await;
        call.finish(result)
    }
}

/// The filter of ListCountries: `region = "X"` and `coe_member = true|false`, joined with AND.
fn country_filter(text: &str) -> Result<(Option<core_model::Region>, Option<bool>)> {
    let (mut region, mut member) = (None, None);
    if text.trim().is_empty() {
        return Ok((region, member));
    }
    for term in text.split(" AND ") {
        let (field, value) = term
            .split_once('=')
            .ok_or_else(|| ServiceError::invalid("filter", format!("`{}` is not `field = value`", term.trim())))?;
        let value = value.trim();
        match field.trim() {
            "region" => {
                region = Some(c::from_serde_name("filter", value.trim_matches('"'), c::REGIONS)?);
            }
            "coe_member" => {
                member = Some(match value {
                    "true" => true,
                    "false" => false,
                    _ => {
                        return Err(ServiceError::invalid(
                            "filter",
                            format!("coe_member is true or false, not {value}"),
                        ));
                    }
                })
            }
            other => {
                return Err(ServiceError::invalid(
                    "filter",
                    format!("unknown field `{other}`; fields are region, coe_member"),
                ));
            }
        }
    }
    Ok((region, member))
}

#[tonic::async_trait]
impl CountryService for Services {
    async fn list_countries(
        &self,
        request: Request<pb::ListCountriesRequest>,
    ) -> std::result::Result<Response<pb::ListCountriesResponse>, Status> {
        let mut call = Call::start("ListCountries");
        let result = async {
            call.principal = self.0.auth.reader(request.metadata())?.name;
            let r = request.get_ref();
            let as_of = c::opt_full_date("as_of", r.as_of.as_ref())?.unwrap_or_else(today);
            let (region, member) = country_filter(&r.filter)?;
            let snapshot = self.0.store.snapshot();
            let mut states: Vec<&core_model::State> = snapshot
                .dataset()
                .states
                .iter()
                .filter(|s| region.is_none_or(|r| s.region == r) && member.is_none_or(|m| s.coe_member == m))
                .collect();
            states.sort_by(|a, b| a.code.cmp(&b.code));
            let (items, next_page_token) =
                page_of(&states, &format!("countries?{}", r.filter.trim()), r.page_size, &r.page_token)?;
            Ok(pb::ListCountriesResponse {
                countries: items.iter().map(|s| self.country_pb(&snapshot, s, as_of)).collect(),
                next_page_token,
            })
        }
        .await;
        call.finish(result)
    }

    async fn get_country(
        &self,
        request: Request<pb::GetCountryRequest>,
    ) -> std::result::Result<Response<pb::Country>, Status> {
        decoded(self.country_encoded(request).await)
    }
}

fn money(m: &core_model::Money) -> pb::Money {
    pb::Money { currency_code: m.currency.clone(), units: m.amount as i64 }
}

fn study(s: &core_model::Study) -> pb::Study {
    pb::Study {
        name: format!("studies/{}", s.id),
        title: s.title.clone(),
        question: s.question.clone(),
        purpose: s.purpose.clone(),
        by: s.by.clone(),
        launched: Some(c::approx(&s.launched)),
        due: Some(c::approx(&s.due)),
        outputs: s.outputs.iter().map(|o| i32::from(*o)).collect(),
        sources: c::citations(&s.source),
    }
}

fn organisation(o: &core_model::Organisation) -> pb::Organisation {
    pb::Organisation {
        name: format!("organisations/{}", o.id),
        display_name: o.name.clone(),
        acronym: o.acronym.clone().unwrap_or_default(),
        kind: serde_name(&o.kind),
        sources: c::citations(&o.source),
    }
}

#[tonic::async_trait]
impl ProgrammeService for Services {
    async fn get_programme(
        &self,
        request: Request<pb::GetProgrammeRequest>,
    ) -> std::result::Result<Response<pb::Programme>, Status> {
        let mut call = Call::start("GetProgramme");
        let result = async {
            call.principal = self.0.auth.reader(request.metadata())?.name;
            let as_of = c::opt_full_date("as_of", request.get_ref().as_of.as_ref())?.unwrap_or_else(today);
            let ds = &self.0.records;
            let outputs = ds
                .outputs
                .iter()
                .map(|o| pb::Output {
                    number: i32::from(o.number),
                    title: o.title.clone(),
                    text: o.text.clone(),
                    indicators: o
                        .indicators
                        .iter()
                        .map(|i| pb::Indicator {
                            id: i.id.clone(),
                            text: i.text.clone(),
                            targets: ds
                                .indicator_values(i, as_of)
                                .iter()
                                .map(|v| pb::TargetValue {
                                    label: v.target.label.clone(),
                                    target: v.target.value as i32,
                                    value: v.countries.len() as i32,
                                    countries: v.countries.iter().map(c::country_name).collect(),
                                })
                                .collect(),
                        })
                        .collect(),
                })
                .collect();
            Ok(pb::Programme {
                objective: ds.objective.text.clone(),
                started: Some(c::approx(&ds.objective.started)),
                ends: Some(c::approx(&ds.objective.ends)),
                outputs,
                budget: ds
                    .budget
                    .iter()
                    .map(|b| pb::BudgetLine {
                        id: b.id.clone(),
                        label: b.label.clone(),
                        amount: Some(money(&b.amount)),
                        sources: c::citations(&b.source),
                    })
                    .collect(),
                contributions: ds
                    .contributions
                    .iter()
                    .map(|x| pb::Contribution {
                        id: x.id.clone(),
                        donor: format!("organisations/{}", x.donor),
                        amount: Some(money(&x.amount)),
                        original_amount: x.original_amount.as_ref().map(money),
                        period: x.period.clone(),
                        sources: c::citations(&x.source),
                        note: x.note.clone().unwrap_or_default(),
                    })
                    .collect(),
                funding_sources: ds
                    .funding_sources
                    .iter()
                    .map(|f| pb::FundingSource {
                        id: f.id.clone(),
                        display_name: f.name.clone(),
                        funders: f.funders.iter().map(|o| format!("organisations/{o}")).collect(),
                        sources: c::citations(&f.source),
                    })
                    .collect(),
                as_of: Some(c::date(as_of)),
                priorities: ds.priorities.iter().map(c::priority).collect(),
            })
        }
        .await;
        call.finish(result)
    }

    async fn list_studies(
        &self,
        request: Request<pb::ListStudiesRequest>,
    ) -> std::result::Result<Response<pb::ListStudiesResponse>, Status> {
        let mut call = Call::start("ListStudies");
        let result = async {
            call.principal = self.0.auth.reader(request.metadata())?.name;
            let r = request.get_ref();
            let (items, next_page_token) = page_of(&self.0.records.studies, "studies", r.page_size, &r.page_token)?;
            Ok(pb::ListStudiesResponse { studies: items.iter().map(study).collect(), next_page_token })
        }
        .await;
        call.finish(result)
    }

    async fn get_study(
        &self,
        request: Request<pb::GetStudyRequest>,
    ) -> std::result::Result<Response<pb::Study>, Status> {
        let mut call = Call::start("GetStudy");
        let result = async {
            call.principal = self.0.auth.reader(request.metadata())?.name;
            let name = &request.get_ref().name;
            let id = c::name_id("name", name, "studies")?;
            self.0
                .records
                .studies
                .iter()
                .find(|s| s.id == id)
                .map(study)
                .ok_or_else(|| ServiceError::NotFound(name.clone()))
        }
        .await;
        call.finish(result)
    }

    async fn list_organisations(
        &self,
        request: Request<pb::ListOrganisationsRequest>,
    ) -> std::result::Result<Response<pb::ListOrganisationsResponse>, Status> {
        let mut call = Call::start("ListOrganisations");
        let result = async {
            call.principal = self.0.auth.reader(request.metadata())?.name;
            let r = request.get_ref();
            let p = self.0.store.list_records(RecordKind::Organisation, &page(r.page_size, &r.page_token)?).await?;
            let organisations = p
                .items
                .iter()
                .filter_map(|v| match &v.record {
                    Record::Organisation(o) => Some(organisation(o)),
                    _ => None,
                })
                .collect();
            Ok(pb::ListOrganisationsResponse { organisations, next_page_token: p.next_page_token })
        }
        .await;
        call.finish(result)
    }

    async fn get_organisation(
        &self,
        request: Request<pb::GetOrganisationRequest>,
    ) -> std::result::Result<Response<pb::Organisation>, Status> {
        let mut call = Call::start("GetOrganisation");
        let result = async {
            call.principal = self.0.auth.reader(request.metadata())?.name;
            let id = c::name_id("name", &request.get_ref().name, "organisations")?;
            match self.0.store.get_record(RecordKind::Organisation, id).await?.record {
                Record::Organisation(o) => Ok(organisation(&o)),
                _ => Err(ServiceError::NotFound(request.get_ref().name.clone())),
            }
        }
        .await;
        call.finish(result)
    }
}

/// The largest chunk of a streamed document. The contract allows up to 1 MiB (the message limit is 4 MiB); the
/// server sends 64 KiB, which is what a client that stops reading leaves queued in the connection per stream.
pub const REPORT_CHUNK: usize = 64 * 1024;

/// What a report may cost the server (finding H2 of the security review of 2026-12): its dates, its size, how
/// many are generated at once, and how long its stream may stay open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportLimits {
    /// Reports generated at once (`--max-concurrent-reports`); a request beyond waits up to `queue_wait`, then
    /// gets RESOURCE_EXHAUSTED.
    pub max_concurrent: usize,
    /// How long a request waits for a place among the reports being generated.
    pub queue_wait: Duration,
    /// The largest document, in bytes (`--max-report-bytes`); a larger one is RESOURCE_EXHAUSTED.
    pub max_document_bytes: usize,
    /// A report stream whose next chunk is not taken within this time is ended with DEADLINE_EXCEEDED
    /// (`--stream-send-timeout-secs`): tonic's request timeout stops applying once the headers are sent.
    pub send_timeout: Duration,
    /// The longest a report stream may stay open, read or not (`--max-report-stream-secs`).
    pub max_stream_duration: Duration,
}

impl Default for ReportLimits {
    fn default() -> Self {
        ReportLimits {
            max_concurrent: 3,
            queue_wait: Duration::from_secs(2),
            max_document_bytes: 32 * 1024 * 1024,
            send_timeout: Duration::from_secs(30),
            max_stream_duration: Duration::from_secs(600),
        }
    }
}

/// The earliest day a report may name: the Statute of the Council of Europe (5 May 1949), before any of its
/// treaties was opened.
pub const EARLIEST_REPORT_DAY: NaiveDate = match NaiveDate::from_ymd_opt(1949, 5, 5) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

/// The latest day a report may name: a year from today (plans reach that far; the year table and the chart
/// have a column per year up to the report's date).
fn latest_report_day() -> NaiveDate {
    today() + chrono::Days::new(366)
}

/// A date of a report request, within [`EARLIEST_REPORT_DAY`] and a year from today.
fn report_day(field: &str, day: NaiveDate) -> Result<NaiveDate> {
    let latest = latest_report_day();
    if day < EARLIEST_REPORT_DAY || day > latest {
        return Err(ServiceError::invalid(
            field,
            format!(
                "{day} is out of range: a report's dates run from {EARLIEST_REPORT_DAY} (the Statute of the Council \
                 of Europe) to {latest} (a year from today)"
            ),
        ));
    }
    Ok(day)
}

type ReportStream = Pin<Box<dyn Stream<Item = std::result::Result<pb::ReportChunk, Status>> + Send>>;

fn report_format(format: i32) -> Result<reporting::Format> {
    match pb::ReportFormat::try_from(format) {
        Ok(pb::ReportFormat::Unspecified | pb::ReportFormat::Markdown) => Ok(reporting::Format::Markdown),
        Ok(pb::ReportFormat::Html) => Ok(reporting::Format::Html),
        Ok(pb::ReportFormat::Json) => Ok(reporting::Format::Json),
        Err(_) => Err(ServiceError::invalid("format", format!("{format} is not a ReportFormat"))),
    }
}

/// What a report stream and its watchdog share.
#[derive(Debug)]
struct Progress {
    /// The document, until its last chunk is taken or the stream is ended.
    doc: Option<Bytes>,
    /// Why the stream was ended early, to be sent when it is next polled.
    ended: Option<String>,
    /// When the last chunk was taken (or the stream opened).
    last_taken: Instant,
}

/// A document as a stream of chunks of at most [`REPORT_CHUNK`] bytes: each a slice of the one shared buffer,
/// made when the transport asks for it. A watchdog ends the stream (drops the document, and answers
/// DEADLINE_EXCEEDED when the stream is polled again) when a chunk waits longer than the send timeout to be
/// taken, or the stream is open longer than its overall limit: the transport polls a stream only when its
/// client has room for more, so a stream that is not read cannot notice the time by itself.
#[derive(Debug)]
struct Chunks {
    progress: Arc<Mutex<Progress>>,
    media_type: &'static str,
    len: usize,
    offset: usize,
    index: i32,
    finished: bool,
    watchdog: tokio::task::JoinHandle<()>,
}

impl Drop for Chunks {
    fn drop(&mut self) {
        self.watchdog.abort();
    }
}

impl Chunks {
    fn new(doc: reporting::Document, method: &'static str, limits: &ReportLimits) -> Chunks {
        let body = Bytes::from(doc.body);
        let len = body.len();
        let progress = Arc::new(Mutex::new(Progress { doc: Some(body), ended: None, last_taken: Instant::now() }));
        let watchdog = tokio::spawn(watch_report_stream(
            Arc::clone(&progress),
            method,
            limits.send_timeout,
            limits.max_stream_duration,
        ));
        Chunks { progress, media_type: doc.media_type, len, offset: 0, index: 0, finished: false, watchdog }
    }
}

fn lock(progress: &Mutex<Progress>) -> std::sync::MutexGuard<'_, Progress> {
    progress.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Stream for Chunks {
    type Item = std::result::Result<pb::ReportChunk, Status>;

    fn poll_next(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.finished {
            return Poll::Ready(None);
        }
        let mut p = lock(&self.progress);
        if let Some(why) = p.ended.take() {
            drop(p);
            self.finished = true;
            return Poll::Ready(Some(Err(ServiceError::DeadlineExceeded(why).into())));
        }
        let Some(doc) = p.doc.clone() else {
            drop(p);
            self.finished = true;
            return Poll::Ready(None);
        };
        let end = (self.offset + REPORT_CHUNK).min(self.len);
        let last = end == self.len;
        p.last_taken = Instant::now();
        if last {
            // The last chunk: the stream keeps nothing of the document.
            p.doc = None;
        }
        drop(p);
        let chunk = pb::ReportChunk {
            media_type: self.media_type.to_owned(),
            data: doc.slice(self.offset..end),
            index: self.index,
            last,
        };
        self.offset = end;
        self.index += 1;
        self.finished = last;
        Poll::Ready(Some(Ok(chunk)))
    }
}

/// Ends a report stream (see [`Chunks`]) whose client stopped taking chunks, or that is open too long.
async fn watch_report_stream(
    progress: Arc<Mutex<Progress>>,
    method: &'static str,
    send_timeout: Duration,
    lifetime: Duration,
) {
    let deadline = Instant::now() + lifetime;
    loop {
        let wake = {
            let p = lock(&progress);
            if p.doc.is_none() {
                return;
            }
            (p.last_taken + send_timeout).min(deadline)
        };
        tokio::time::sleep_until(wake.into()).await;
        let mut p = lock(&progress);
        if p.doc.is_none() {
            return;
        }
        let now = Instant::now();
        let why = if now >= deadline {
            format!("the report stream was open longer than its limit of {} s: ended", lifetime.as_secs())
        } else if now >= p.last_taken + send_timeout {
            format!(
                "the report stream was not read for {} s (the server's send timeout): ended",
                send_timeout.as_secs()
            )
        } else {
            continue;
        };
        tracing::info!(target: "cybercrime::request", method, %why, "report stream ended");
        p.doc = None;
        p.ended = Some(why);
        return;
    }
}

impl Services {
    /// The whole dataset, for a report, and the stored records that cannot be read (resource name, reason), which
    /// it lacks and which the report names: every table is read for them, not only what was set aside at start-up.
    async fn dataset(&self) -> Result<(core_model::Dataset, Vec<(String, String)>)> {
        let ds = self.0.store.export().await?;
        let unreadable = self.0.store.find_unreadable().await?.into_iter().map(|u| (u.resource, u.reason)).collect();
        Ok((ds, unreadable))
    }

    /// Generates a document with `build` off the request workers (`spawn_blocking`), once a place among the
    /// reports being generated is free (waiting [`ReportLimits::queue_wait`] at most), and streams it.
    async fn generate(
        &self,
        method: &'static str,
        build: impl FnOnce(&core_model::Dataset, Vec<(String, String)>, usize) -> Result<reporting::Document>
        + Send
        + 'static,
    ) -> Result<ReportStream> {
        let limits = self.0.reports;
        let permit =
            match tokio::time::timeout(limits.queue_wait, Arc::clone(&self.0.report_permits).acquire_owned()).await {
                Ok(Ok(permit)) => permit,
                Ok(Err(_)) | Err(_) => {
                    return Err(ServiceError::ResourceExhausted(format!(
                        "{} reports are being generated, the server's limit (--max-concurrent-reports): try again \
                         later",
                        limits.max_concurrent
                    )));
                }
            };
        let (ds, unreadable) = self.dataset().await?;
        let doc = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            build(&ds, unreadable, limits.max_document_bytes)
        })
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
        .map_err(|e| match e {
            ServiceError::Report(reporting::ReportError::TooLarge { limit }) => {
                ServiceError::ResourceExhausted(format!(
                    "the document would be larger than {limit} bytes ({} MiB), the server's limit \
                     (--max-report-bytes): ask for a shorter period",
                    limit / (1024 * 1024)
                ))
            }
            other => other,
        })?;
        Ok(Box::pin(Chunks::new(doc, method, &limits)))
    }
}

#[tonic::async_trait]
impl ReportService for Services {
    type GenerateProgressReportStream = ReportStream;
    type GenerateCountryBriefStream = ReportStream;

    async fn generate_progress_report(
        &self,
        request: Request<pb::GenerateProgressReportRequest>,
    ) -> std::result::Result<Response<ReportStream>, Status> {
        let mut call = Call::start("GenerateProgressReport");
        let result = async {
            call.principal = self.0.auth.reader(request.metadata())?.name;
            let r = request.get_ref();
            let format = report_format(r.format)?;
            let as_of = report_day("as_of", c::opt_full_date("as_of", r.as_of.as_ref())?.unwrap_or_else(today))?;
            let start = report_day(
                "period_start",
                c::full_date(
                    "period_start",
                    r.period_start.as_ref().ok_or_else(|| ServiceError::invalid("period_start", "required"))?,
                )?,
            )?;
            let end =
                report_day("period_end", c::opt_full_date("period_end", r.period_end.as_ref())?.unwrap_or(as_of))?;
            let period = reporting::Period::new(start, end)?;
            self.generate(call.method, move |ds, unreadable, limit| {
                let report = reporting::ProgressReport::build(ds, as_of, period)?.with_unreadable(unreadable);
                Ok(reporting::render_progress_within(&report, format, limit)?)
            })
            .await
        }
        .await;
        call.finish(result)
    }

    async fn generate_country_brief(
        &self,
        request: Request<pb::GenerateCountryBriefRequest>,
    ) -> std::result::Result<Response<ReportStream>, Status> {
        let mut call = Call::start("GenerateCountryBrief");
        let result = async {
            call.principal = self.0.auth.reader(request.metadata())?.name;
            let r = request.get_ref();
            let format = report_format(r.format)?;
            let code = c::country_code("country", &r.country)?;
            let as_of = report_day("as_of", c::opt_full_date("as_of", r.as_of.as_ref())?.unwrap_or_else(today))?;
            self.generate(call.method, move |ds, unreadable, limit| {
                let brief = reporting::CountryBrief::build(ds, code.as_str(), as_of)
                    .map_err(|e| match e {
                        reporting::ReportError::UnknownCountry(_) => ServiceError::NotFound(c::country_name(&code)),
                        other => other.into(),
                    })?
                    .with_unreadable(unreadable);
                Ok(reporting::render_brief_within(&brief, format, limit)?)
            })
            .await
        }
        .await;
        call.finish(result)
    }
}

#[cfg(test)]
mod tests {
    use tokio_stream::StreamExt;

    use super::*;

    fn document(len: usize) -> reporting::Document {
        reporting::Document { media_type: "text/markdown; charset=utf-8", body: "x".repeat(len) }
    }

    #[tokio::test]
    async fn chunks_are_slices_of_one_buffer_made_when_asked_for() {
        let mut chunks = Chunks::new(document(3 * REPORT_CHUNK + 10), "test", &ReportLimits::default());
        let start = lock(&chunks.progress).doc.as_ref().map(|b| b.as_ptr() as usize).expect("the document");
        let mut n = 0;
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk.expect("a chunk");
            // A slice of the one buffer, not a copy.
            assert_eq!(chunk.data.as_ptr() as usize, start + n * REPORT_CHUNK);
            assert_eq!((chunk.index, chunk.last), (n as i32, n == 3));
            n += 1;
        }
        assert_eq!(n, 4);
        assert!(lock(&chunks.progress).doc.is_none(), "the stream keeps nothing once done");
    }

    #[tokio::test]
    async fn a_stream_whose_chunk_is_not_taken_in_time_is_ended() {
        let limits = ReportLimits { send_timeout: Duration::from_millis(100), ..Default::default() };
        let mut chunks = Chunks::new(document(2 * REPORT_CHUNK), "test", &limits);
        assert!(chunks.next().await.expect("a chunk").is_ok());
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(lock(&chunks.progress).doc.is_none(), "the document is dropped while the stream is not polled");
        let ended = chunks.next().await.expect("an answer").expect_err("ended");
        assert_eq!(ended.code(), tonic::Code::DeadlineExceeded);
        assert!(ended.message().contains("not read for 0 s"), "{}", ended.message());
        assert!(chunks.next().await.is_none());
    }
}
