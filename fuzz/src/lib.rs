//! What the `requests` fuzz target and its seed generator (`examples/seeds.rs`) share: the methods of the five
//! services in selector order, the callers, and a harness that serves them from a real store.
//!
//! An input of the `requests` target is one selector byte and a protobuf message: the byte picks the method
//! (`byte % n`, n the number of [`METHODS`], in their order) and the caller (`byte / n`: 0 to 7 an admin, 8 an
//! editor, 9 a reader, 10 anonymous, 11 a token that is not valid, which a byte reaches only while n is at most
//! 23); the rest is decoded as that method's request. [`METHODS`] is the server's method table
//! (`grpc_server::method::Method::ALL`) without AdminService's methods, in its order.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, LazyLock, OnceLock},
    time::Duration,
};

pub use grpc_server::method::Method;
use cybercrime_api::coe::cybercrime::v1::{
    self as pb, activity_service_server::ActivityService, change_service_server::ChangeService,
    country_service_server::CountryService, programme_service_server::ProgrammeService,
    report_service_server::ReportService, treaty_service_server::TreatyService,
};
use grpc_server::{
    auth::{Auth, Role, hash_token},
    service::{AppState, Services},
};
use prost::Message;
use tokio_stream::{Stream, StreamExt};
use tonic::{Code, Request, Response, Status};

/// Every method of the five services, in selector order: the server's method table without the admin's methods.
pub static METHODS: LazyLock<Vec<Method>> =
    LazyLock::new(|| Method::ALL.into_iter().filter(|m| m.role() != Role::Admin).collect());

/// Who calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// A token with the admin role.
    Admin,
    /// A token with the editor role.
    Editor,
    /// A token with the reader role.
    Reader,
    /// No `authorization` header.
    Anonymous,
    /// A bearer token the tokens file does not hold.
    BadToken,
}

impl Caller {
    /// The caller a selector byte picks: the byte's quotient by the number of methods (its remainder picks the
    /// method), the highest quotients for the callers that are not admins, so that each stays reachable however
    /// many methods the API has (at most 51).
    pub fn from_selector(byte: u8) -> Caller {
        let top = usize::from(u8::MAX) / METHODS.len();
        match top - (byte as usize / METHODS.len()).min(top) {
            0 => Caller::BadToken,
            1 => Caller::Anonymous,
            2 => Caller::Reader,
            3 => Caller::Editor,
            _ => Caller::Admin,
        }
    }

    /// What to add to a method's selector ([`selector`]) for this caller to call it.
    pub fn selector_offset(self) -> u8 {
        let top = usize::from(u8::MAX) / METHODS.len();
        let below_top = match self {
            Caller::BadToken => 0,
            Caller::Anonymous => 1,
            Caller::Reader => 2,
            Caller::Editor => 3,
            Caller::Admin => top,
        };
        u8::try_from((top - below_top) * METHODS.len()).expect("at most 51 methods")
    }

    fn token(self) -> Option<&'static str> {
        match self {
            Caller::Admin => Some("fuzz-admin-token"),
            Caller::Editor => Some("fuzz-editor-token"),
            Caller::Reader => Some("fuzz-reader-token"),
            Caller::Anonymous => None,
            Caller::BadToken => Some("not-a-token-of-this-server"),
        }
    }
}

/// The selector byte of a method (by its `Service/Method` name), called by an admin.
pub fn selector(method: &str) -> u8 {
    METHODS.iter().position(|m| m.short_name() == method).unwrap_or_else(|| panic!("no method {method}")) as u8
}

/// The codes a handler may answer a client's mistake with. Anything else (INTERNAL, UNKNOWN, UNAVAILABLE...)
/// for a request this harness can make is a finding.
pub const CLIENT_ERRORS: [Code; 9] = [
    Code::InvalidArgument,
    Code::NotFound,
    Code::AlreadyExists,
    Code::FailedPrecondition,
    Code::Aborted,
    Code::PermissionDenied,
    Code::OutOfRange,
    Code::Unauthenticated,
    Code::ResourceExhausted,
];

/// The services over a store on a temporary SQLite file loaded with the bundled 2007 dataset, and the tokio
/// runtime they run on; made once per process.
#[derive(Debug)]
pub struct Harness {
    /// The runtime every call runs on.
    pub runtime: tokio::runtime::Runtime,
    /// The five services.
    pub services: Services,
    /// The folder of the store and the tokens file.
    pub dir: PathBuf,
}

const DIR_PREFIX: &str = "cybercrime-fuzz-store-";

/// The harness of this process, made on first use.
pub fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let tmp = std::env::temp_dir();
        remove_stale_dirs(&tmp);
        let dir = tmp.join(format!("{DIR_PREFIX}{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));

        let tokens = dir.join("tokens.toml");
        let mut text = String::new();
        for (caller, role) in [(Caller::Admin, "admin"), (Caller::Editor, "editor"), (Caller::Reader, "reader")] {
            let token = caller.token().unwrap_or_default();
            text += &format!(
                "[[token]]\nprincipal = \"{role}@fuzz\"\nrole = \"{role}\"\nsha256 = \"{}\"\n\n",
                hash_token(token)
            );
        }
        std::fs::write(&tokens, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", tokens.display()));
        let auth = Auth::load(&tokens, false).unwrap_or_else(|e| panic!("tokens file: {e:#}"));

        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("cannot build a tokio runtime: {e}"));
        let url = format!("sqlite://{}", dir.join("store.sqlite").display());
        let services = runtime.block_on(async {
            // `storage::open` loads the bundled dataset into the new, empty store, as `cybercrime serve` does.
            let store = storage::open(&url).await.unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
            let records = AppState::load_records(&*store).await.unwrap_or_else(|e| panic!("load_records: {e}"));
            // No sender: a watch stream ends at once instead of waiting for a shutdown that never comes.
            let (_, shutdown) = tokio::sync::watch::channel(false);
            // At most 1024 watch streams, as `cybercrime serve` by default. A printer without a browser: a
            // fuzzed report request for a PDF is refused (PDF_PRINTER_MISSING) and starts no process.
            Services(Arc::new(
                AppState::new(store, auth, records, shutdown, 1024)
                    .with_pdf_printer(reporting::pdf::Printer::none("the fuzz harness prints no PDFs")),
            ))
        });
        Harness { runtime, services, dir }
    })
}

/// Removes the folders earlier processes left (a fuzzer that stops on a crash or a signal does not clean up).
fn remove_stale_dirs(tmp: &Path) {
    let Ok(entries) = std::fs::read_dir(tmp) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(DIR_PREFIX)) else { continue };
        if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// A request from `caller`.
pub fn request<T>(message: T, caller: Caller) -> Request<T> {
    let mut request = Request::new(message);
    if let Some(token) = caller.token() {
        let value = format!("Bearer {token}").parse().unwrap_or_else(|e| panic!("header: {e}"));
        request.metadata_mut().insert("authorization", value);
    }
    request
}

/// Pulls the first two items of a streamed response (an error item counts as the call's error).
async fn first_items<T, S>(response: Result<Response<S>, Status>) -> Result<(), Status>
where
    S: Stream<Item = Result<T, Status>> + Unpin,
{
    let mut stream = response?.into_inner();
    for _ in 0..2 {
        match tokio::time::timeout(Duration::from_secs(5), stream.next()).await {
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(status))) => return Err(status),
            Ok(None) | Err(_) => break,
        }
    }
    Ok(())
}

fn decode<T: Message + Default>(bytes: &[u8]) -> Option<T> {
    T::decode(bytes).ok()
}

/// Decodes `bytes` as the request of `METHODS[index]` and calls its handler as `caller`; `None` when the
/// bytes are not such a request (or the method is not one of [`METHODS`]).
pub async fn call(s: &Services, index: usize, bytes: &[u8], caller: Caller) -> Option<Result<(), Status>> {
    // `Service::method(request)`, its response dropped.
    macro_rules! unary {
        ($service:ident :: $method:ident, $request:ty) => {
            $service::$method(s, request(decode::<$request>(bytes)?, caller)).await.map(drop)
        };
    }
    // The same, pulling the first items of the streamed response.
    macro_rules! streamed {
        ($service:ident :: $method:ident, $request:ty) => {
            first_items($service::$method(s, request(decode::<$request>(bytes)?, caller)).await).await
        };
    }
    Some(match *METHODS.get(index)? {
        Method::ListTreaties => unary!(TreatyService::list_treaties, pb::ListTreatiesRequest),
        Method::GetTreaty => unary!(TreatyService::get_treaty, pb::GetTreatyRequest),
        Method::GetTreatyStatus => unary!(TreatyService::get_treaty_status, pb::GetTreatyStatusRequest),
        Method::GetRatificationTimeline => {
            unary!(TreatyService::get_ratification_timeline, pb::GetRatificationTimelineRequest)
        }
        Method::ListTreatyActions => unary!(TreatyService::list_treaty_actions, pb::ListTreatyActionsRequest),
        Method::RecordTreatyAction => unary!(TreatyService::record_treaty_action, pb::RecordTreatyActionRequest),
        Method::WatchTreatyActions => streamed!(TreatyService::watch_treaty_actions, pb::WatchTreatyActionsRequest),
        Method::ListActivities => unary!(ActivityService::list_activities, pb::ListActivitiesRequest),
        Method::GetActivity => unary!(ActivityService::get_activity, pb::GetActivityRequest),
        Method::CreateActivity => unary!(ActivityService::create_activity, pb::CreateActivityRequest),
        Method::UpdateActivity => unary!(ActivityService::update_activity, pb::UpdateActivityRequest),
        Method::DeleteActivity => unary!(ActivityService::delete_activity, pb::DeleteActivityRequest),
        Method::GetActivityPlan => unary!(ActivityService::get_activity_plan, pb::GetActivityPlanRequest),
        Method::ListCountries => unary!(CountryService::list_countries, pb::ListCountriesRequest),
        Method::GetCountry => unary!(CountryService::get_country, pb::GetCountryRequest),
        Method::GetProgramme => unary!(ProgrammeService::get_programme, pb::GetProgrammeRequest),
        Method::ListStudies => unary!(ProgrammeService::list_studies, pb::ListStudiesRequest),
        Method::GetStudy => unary!(ProgrammeService::get_study, pb::GetStudyRequest),
        Method::ListOrganisations => unary!(ProgrammeService::list_organisations, pb::ListOrganisationsRequest),
        Method::GetOrganisation => unary!(ProgrammeService::get_organisation, pb::GetOrganisationRequest),
        Method::GenerateProgressReport => {
            streamed!(ReportService::generate_progress_report, pb::GenerateProgressReportRequest)
        }
        Method::GenerateCountryBrief => {
            streamed!(ReportService::generate_country_brief, pb::GenerateCountryBriefRequest)
        }
        Method::WatchChanges => streamed!(ChangeService::watch_changes, pb::WatchChangesRequest),
        Method::GetTreatyAction => unary!(TreatyService::get_treaty_action, pb::GetTreatyActionRequest),
        Method::UpdateTreatyAction => unary!(TreatyService::update_treaty_action, pb::UpdateTreatyActionRequest),
        Method::DeleteTreatyAction => unary!(TreatyService::delete_treaty_action, pb::DeleteTreatyActionRequest),
        Method::ListDeclarations => unary!(TreatyService::list_declarations, pb::ListDeclarationsRequest),
        // AdminService is not in [`METHODS`].
        Method::ListUnreadableRecords | Method::DeleteUnreadableRecord => return None,
    })
}

/// Checks the outcome of a call: a client error code at most, and the documented order of checks (a bad token
/// is UNAUTHENTICATED everywhere; a write checks the caller's role before anything else).
pub fn check(method: Method, caller: Caller, result: &Result<(), Status>) {
    let name = method.short_name();
    let expected = match caller {
        Caller::BadToken => Some(Code::Unauthenticated),
        Caller::Anonymous if method.writes() => Some(Code::Unauthenticated),
        Caller::Reader if method.writes() => Some(Code::PermissionDenied),
        _ => None,
    };
    match result {
        Ok(()) => {
            if let Some(code) = expected {
                panic!("{name} as {caller:?} succeeded; expected {code:?}");
            }
        }
        Err(status) => {
            let code = status.code();
            if let Some(want) = expected {
                assert_eq!(code, want, "{name} as {caller:?}: {}", status.message());
            }
            // The one server-side refusal expected: a report asked for as PDF, which the harness's printer (it
            // has no browser) cannot print.
            let printer_missing = code == Code::Unavailable && reason(status) == "PDF_PRINTER_MISSING";
            assert!(
                CLIENT_ERRORS.contains(&code) || printer_missing,
                "{name} as {caller:?} answered {code:?}, not a client error: {}",
                status.message()
            );
        }
    }
}

/// The reason of an error's `ErrorInfo`, or "".
fn reason(status: &Status) -> String {
    use tonic_types::StatusExt;
    status.get_error_details().error_info().map(|i| i.reason.clone()).unwrap_or_default()
}
