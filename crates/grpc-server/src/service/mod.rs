//! The handlers of the seven services, one module each: `treaties`, `activities`, `countries`, `programme`,
//! `reports`, `admin` and `changes` (WatchChanges, the change feed) (and `watch`, the stream of
//! WatchTreatyActions).
//!
//! Every handler is served through `Services::serve`, with its [`Method`]: one place logs the call (one line,
//! when it ends), checks the caller against the role the method table declares (a write's role before anything
//! else, so a reader gets PERMISSION_DENIED before NOT_FOUND) and maps the error to a `Status`. A handler
//! validates the request into domain types and builds its answer through [`crate::convert`], and asks the store.

mod activities;
mod admin;
mod changes;
mod countries;
mod programme;
mod reports;
mod treaties;
mod watch;

use std::{future::Future, sync::Arc, time::Instant};

use bytes::Bytes;
use chrono::NaiveDate;
use core_model::{Filter, TreatyNumber};
use storage::{PageRequest, RecordKind, Store, WriteContext};
use tonic::{Request, Response, Status};

pub use self::{
    activities::COSTLY_FILTER,
    changes::ChangeFeedLimits,
    reports::{EARLIEST_REPORT_DAY, REPORT_CHUNK, ReportLimits},
};
use crate::{
    auth::{Auth, Principal},
    convert as c,
    encoded::EncodedActivities,
    error::{Result, ServiceError},
    memo::Memo,
    method::Method,
    watchers::{WatchLimits, Watchers},
};

/// What a handler answers: its message, or the error's `Status`.
pub(crate) type Answer<T> = std::result::Result<Response<T>, Status>;

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
    /// Keyed by treaty, date and view (`true`: TREATY_STATUS_VIEW_COMPACT).
    treaty_statuses: Memo<(TreatyNumber, NaiveDate, bool), Bytes>,
    /// Country pages already computed and encoded, per country and date.
    countries: Memo<(core_model::CountryCode, NaiveDate), Bytes>,
    /// The snapshot's treaties, states and actions with the reported figures read at start-up, per snapshot
    /// version: what treaty answers are computed from (a consent's bound derived from a reported series needs
    /// the series).
    treaty_data: Memo<(), core_model::Dataset>,
    /// Filters already parsed, per text (a filter's meaning does not depend on the snapshot: the version is
    /// always 0). Only filters that parse are kept.
    filters: Memo<String, Filter>,
    /// Activities already encoded, per version.
    activities: EncodedActivities,
    /// What a report may cost ([`ReportLimits`]).
    reports: ReportLimits,
    /// One permit per report being generated.
    report_permits: Arc<tokio::sync::Semaphore>,
    /// Prints reports asked for as PDF (REPORT_FORMAT_PDF); by default none, which refuses them
    /// ([`AppState::with_pdf_printer`]).
    pub(crate) printer: reporting::pdf::Printer,
    /// One place per open watch stream (bounded in all, per connection and per principal): each holds at most
    /// 16 undelivered events, so watchers, fast or stuck, hold a bounded amount of memory in all.
    pub(crate) watchers: Arc<Watchers>,
    /// One turn for walks of costly filters ([`COSTLY_FILTER`]): they run one at a time, off the runtime's
    /// worker threads, so that however many clients send them, they take one core at most.
    costly_walks: Arc<tokio::sync::Semaphore>,
    /// How change streams (WatchChanges) beat and drop clients that do not read.
    pub(crate) change_feed: ChangeFeedLimits,
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
            filters: Memo::new(1024),
            activities: EncodedActivities::new(20_000, 64 << 20),
            watchers: Watchers::new(WatchLimits::only(max_watchers)),
            costly_walks: Arc::new(tokio::sync::Semaphore::new(1)),
            reports: ReportLimits::default(),
            report_permits: Arc::new(tokio::sync::Semaphore::new(ReportLimits::default().max_concurrent)),
            printer: reporting::pdf::Printer::none("this server is not set up to print PDFs"),
            change_feed: ChangeFeedLimits::default(),
        }
    }

    /// The same state with other limits on reports.
    pub fn with_report_limits(mut self, limits: ReportLimits) -> Self {
        self.report_permits = Arc::new(tokio::sync::Semaphore::new(limits.max_concurrent.max(1)));
        self.reports = limits;
        self
    }

    /// The same, printing PDFs with this printer.
    pub fn with_pdf_printer(mut self, printer: reporting::pdf::Printer) -> Self {
        self.printer = printer;
        self
    }

    /// The same, with these limits on watch streams.
    pub fn with_watch_limits(mut self, limits: WatchLimits) -> Self {
        self.watchers = Watchers::new(limits);
        self
    }

    /// The same, with these heartbeats and send timeout on change streams.
    pub fn with_change_feed(mut self, limits: ChangeFeedLimits) -> Self {
        self.change_feed = limits;
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

/// The seven services (their handlers, [`Method::ALL`]) over one state.
#[derive(Debug, Clone)]
pub struct Services(pub Arc<AppState>);

impl Services {
    /// Serves one call of `method`: checks the caller against the method's role, runs `handler` with the
    /// caller's principal and the request, maps an error to its `Status`, and logs the call once, when it ends.
    pub(crate) async fn serve<R, T, F>(
        &self,
        method: Method,
        request: Request<R>,
        handler: impl FnOnce(Principal, Request<R>) -> F,
    ) -> Answer<T>
    where
        F: Future<Output = Result<T>>,
    {
        let mut call = Call::start(method);
        let result = async {
            let principal = self.0.auth.check(method.role(), request.metadata())?;
            call.principal.clone_from(&principal.name);
            handler(principal, request).await
        }
        .await;
        call.finish(result)
    }
}

/// One request being served: logged once, when it ends.
struct Call {
    method: Method,
    started: Instant,
    principal: String,
}

impl Call {
    fn start(method: Method) -> Call {
        Call { method, started: Instant::now(), principal: "anonymous".to_owned() }
    }

    fn finish<T>(self, result: Result<T>) -> Answer<T> {
        let result = result.map(Response::new).map_err(Status::from);
        let code = result.as_ref().map_or_else(|s| s.code(), |_| tonic::Code::Ok);
        crate::transport::access_log(Some(self.method), code, self.started.elapsed(), &self.principal);
        result
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

/// The context of a write by `principal`, with its request id (AIP-155) when given.
fn write_ctx(principal: &str, request_id: &str) -> Result<WriteContext> {
    let ctx = WriteContext::by(principal);
    if request_id.is_empty() {
        return Ok(ctx);
    }
    if request_id.len() > 128 || !request_id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ServiceError::invalid("request_id", "at most 128 printable ASCII characters"));
    }
    Ok(ctx.with_request_id(request_id))
}

impl Services {
    /// The activity filter of a request's field `filter`; a country it names that is not in the record
    /// (`country = "countries/XX"`) is refused, naming the filter and the value, rather than answered with an
    /// empty page.
    fn parse_filter(&self, text: &str) -> Result<Arc<Filter>> {
        // Clients repeat their filters (a list's pages, a dashboard's refresh): each text is parsed once.
        let filter = self.0.filters.get_or_compute(&text.to_owned(), 0, || {
            Filter::parse(text).map_err(|e| ServiceError::invalid("filter", e.to_string()))
        })?;
        let snapshot = self.0.store.snapshot();
        if let Some(unknown) = filter.countries().into_iter().find(|code| snapshot.state(code).is_none()) {
            return Err(ServiceError::invalid(
                "filter",
                format!("field `country`: \"{}\" is not a country of the record", c::country_name(unknown)),
            ));
        }
        Ok(filter)
    }

    /// The treaty named `name` (a request's field `field`), from the snapshot.
    fn treaty(&self, field: &str, name: &str) -> Result<core_model::Treaty> {
        treaty_in(&self.0.store.snapshot(), field, name).cloned()
    }

    /// The number of the treaty named `name` (a request's field `field`), if `snapshot` holds it: the treaty's
    /// record is not copied.
    fn treaty_number(&self, snapshot: &storage::Snapshot, field: &str, name: &str) -> Result<TreatyNumber> {
        treaty_in(snapshot, field, name).map(|t| t.number)
    }
}

/// The treaty named `name` (a request's field `field`) in `snapshot`: NOT_FOUND when it holds none of that number.
fn treaty_in<'a>(snapshot: &'a storage::Snapshot, field: &str, name: &str) -> Result<&'a core_model::Treaty> {
    let n = c::treaty_number(field, name)?;
    snapshot.treaty(n).ok_or_else(|| ServiceError::NotFound(c::treaty_name(n)))
}
