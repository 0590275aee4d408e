//! The service's one error type and its one, exhaustive mapping to `tonic::Status` (AIP-193): every error
//! carries one `ErrorInfo` whose reason is declared beside its variant ([`ServiceError::reason`], and the store's
//! and the model's own), with every value of the message in its metadata, and the standard detail its code calls
//! for: `BadRequest` (every bad field), `PreconditionFailure` (treaty rules, etags, references), `ResourceInfo`
//! (NOT_FOUND, ALREADY_EXISTS) and `RetryInfo` (UNAVAILABLE, RESOURCE_EXHAUSTED when trying again can help). The
//! reasons are listed in `proto/coe/cybercrime/v1/error_reason.proto` (a test holds the two lists equal).

use std::{collections::HashMap, time::Duration};

use core_model::ModelError;
use storage::StorageError;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// A result whose error is a [`ServiceError`].
pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// The domain of the `ErrorInfo` details this service returns.
pub const ERROR_DOMAIN: &str = "cybercrime.coe.int";

/// One bad field of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The field's path in the request, e.g. `activity.title` or `activity.countries[3]`.
    pub field: String,
    /// What is wrong with it.
    pub description: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.description)
    }
}

fn violations_text(violations: &[Violation]) -> String {
    match violations {
        [one] => one.to_string(),
        all => format!(
            "{} fields are invalid: {}",
            all.len(),
            all.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
        ),
    }
}

/// Which limit of watch streams was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchScope {
    /// The server's, in all.
    Server,
    /// One connection's.
    Connection,
    /// One principal's (anonymous callers: one peer address's).
    Principal,
}

/// What went wrong with a request.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// One or more fields of the request are malformed (every one found, not only the first).
    #[error("{}", violations_text(.0))]
    InvalidArgument(Vec<Violation>),
    /// The resource named does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// No credentials, or bad ones.
    #[error("{0}")]
    Unauthenticated(String),
    /// Credentials without the role the method needs.
    #[error("{0}")]
    PermissionDenied(String),
    /// A limit of the server is reached.
    #[error("{0}")]
    ResourceExhausted(String),
    /// As many watch streams are open as a limit allows.
    #[error("{message}")]
    TooManyWatchers {
        /// The limit.
        limit: usize,
        /// Whose limit.
        scope: WatchScope,
        /// What to do.
        message: String,
    },
    /// As many reports are being generated as the server allows at once.
    #[error("{limit} reports are being generated, the server's limit (--max-concurrent-reports): try again later")]
    TooManyReports {
        /// The limit.
        limit: usize,
    },
    /// A document larger than the server's limit.
    #[error(
        "the document would be larger than {limit} bytes ({} MiB), the server's limit (--max-report-bytes): ask \
         for a shorter period",
        limit / (1024 * 1024)
    )]
    DocumentTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// A stream was ended because its client did not read it in time.
    #[error("{0}")]
    DeadlineExceeded(String),
    /// The store refused or failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A report cannot be generated.
    #[error(transparent)]
    Report(#[from] reporting::ReportError),
    /// The server's own request timeout (`serve --request-timeout-secs`) fired before the answer was ready.
    #[error("the request took longer than the server's request timeout ({} s)", timeout.as_secs_f64())]
    RequestTimeout {
        /// The timeout.
        timeout: std::time::Duration,
    },
    /// A watch stream reached its maximum lifetime; the client watches again from `last_sequence`.
    #[error(
        "this watch stream reached its maximum lifetime ({} s): watch again with after_sequence = {last_sequence}",
        lifetime.as_secs_f64()
    )]
    WatchExpired {
        /// The lifetime.
        lifetime: Duration,
        /// The last sequence the stream went past (sent, or not matching its filter).
        last_sequence: i64,
    },
    /// A watcher fell so far behind the changes that it was dropped; it watches again from `last_sequence`.
    #[error(
        "this watcher fell {behind} actions behind and was dropped: watch again with after_sequence = {last_sequence}"
    )]
    WatcherTooSlow {
        /// How many changes it missed.
        behind: u64,
        /// The last sequence it was sent.
        last_sequence: i64,
    },
}

impl ServiceError {
    /// A malformed field.
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        ServiceError::InvalidArgument(vec![Violation { field: field.into(), description: description.into() }])
    }

    /// The reason of its `ErrorInfo`: one per failure, declared here (the store's and the model's are theirs).
    pub fn reason(&self) -> &'static str {
        use reporting::ReportError as R;
        match self {
            ServiceError::InvalidArgument(_) => "INVALID_FIELD",
            ServiceError::NotFound(_) => "NOT_FOUND",
            ServiceError::Unauthenticated(_) => "UNAUTHENTICATED",
            ServiceError::PermissionDenied(_) => "PERMISSION_DENIED",
            ServiceError::ResourceExhausted(_) => "RESOURCE_EXHAUSTED",
            ServiceError::TooManyWatchers { .. } => "TOO_MANY_WATCHERS",
            ServiceError::TooManyReports { .. } => "TOO_MANY_REPORTS",
            ServiceError::DocumentTooLarge { .. } => "DOCUMENT_TOO_LARGE",
            ServiceError::DeadlineExceeded(_) => "DEADLINE_EXCEEDED",
            ServiceError::RequestTimeout { .. } => "REQUEST_TIMEOUT",
            ServiceError::Storage(s) => s.reason(),
            ServiceError::WatchExpired { .. } => "WATCH_EXPIRED",
            ServiceError::WatcherTooSlow { .. } => "WATCHER_TOO_SLOW",
            ServiceError::Report(r) => match r {
                R::PeriodEndsBeforeStart { .. } => "INVALID_PERIOD",
                R::BeforeAnyData { .. } => "BEFORE_ANY_DATA",
                R::UnknownCountry(_) => "UNKNOWN_STATE",
                R::UnknownFormat(_) => "UNKNOWN_FORMAT",
                R::MissingTreaty(_) => "MISSING_TREATY",
                R::TooLarge { .. } => "DOCUMENT_TOO_LARGE",
                R::Template(_) => "INTERNAL",
                R::PrinterMissing(_) => "PDF_PRINTER_MISSING",
                R::PrintTimeout { .. } => "PDF_PRINT_TIMEOUT",
                R::PrintFailed(_) => "PDF_PRINT_FAILED",
            },
        }
    }

    /// Every reason an error of this service can give: its own, the store's and the model's.
    pub fn reasons() -> Vec<&'static str> {
        let own = [
            "INVALID_FIELD",
            "NOT_FOUND",
            "UNAUTHENTICATED",
            "PERMISSION_DENIED",
            "RESOURCE_EXHAUSTED",
            "TOO_MANY_WATCHERS",
            "TOO_MANY_REPORTS",
            "DOCUMENT_TOO_LARGE",
            "DEADLINE_EXCEEDED",
            "REQUEST_TIMEOUT",
            "WATCH_EXPIRED",
            "WATCHER_TOO_SLOW",
            "INVALID_PERIOD",
            "BEFORE_ANY_DATA",
            "UNKNOWN_STATE",
            "UNKNOWN_FORMAT",
            "MISSING_TREATY",
            "INTERNAL",
            "PDF_PRINTER_MISSING",
            "PDF_PRINT_TIMEOUT",
            "PDF_PRINT_FAILED",
        ];
        let mut all: Vec<&str> = own.into_iter().chain(StorageError::reasons()).collect();
        all.sort_unstable();
        all.dedup();
        all
    }

    /// Its gRPC code.
    fn code(&self) -> Code {
        use reporting::ReportError as R;
        match self {
            ServiceError::InvalidArgument(_) => Code::InvalidArgument,
            ServiceError::NotFound(_) => Code::NotFound,
            ServiceError::Unauthenticated(_) => Code::Unauthenticated,
            ServiceError::PermissionDenied(_) => Code::PermissionDenied,
            ServiceError::ResourceExhausted(_)
            | ServiceError::TooManyWatchers { .. }
            | ServiceError::TooManyReports { .. }
            | ServiceError::DocumentTooLarge { .. }
            | ServiceError::WatcherTooSlow { .. } => Code::ResourceExhausted,
            ServiceError::DeadlineExceeded(_) | ServiceError::RequestTimeout { .. } => Code::DeadlineExceeded,
            ServiceError::WatchExpired { .. } => Code::Unavailable,
            ServiceError::Report(r) => match r {
                R::PeriodEndsBeforeStart { .. } | R::BeforeAnyData { .. } | R::UnknownFormat(_) => {
                    Code::InvalidArgument
                }
                R::UnknownCountry(_) => Code::NotFound,
                R::MissingTreaty(_) => Code::FailedPrecondition,
                R::TooLarge { .. } => Code::ResourceExhausted,
                R::Template(_) | R::PrintFailed(_) => Code::Internal,
                R::PrinterMissing(_) => Code::Unavailable,
                R::PrintTimeout { .. } => Code::DeadlineExceeded,
            },
            ServiceError::Storage(s) => match s {
                StorageError::NotFound { .. } => Code::NotFound,
                StorageError::AlreadyExists { .. } => Code::AlreadyExists,
                StorageError::EtagMismatch { .. } => Code::Aborted,
                StorageError::Rule(m) => model_code(m),
                StorageError::Filter(_) | StorageError::PageToken(_) | StorageError::RequestIdReused { .. } => {
                    Code::InvalidArgument
                }
                StorageError::Dataset(_)
                | StorageError::StillReferenced { .. }
                | StorageError::NotEmpty
                | StorageError::NotOurs { .. }
                | StorageError::NewerSchema { .. }
                | StorageError::BadUrl(_) => Code::FailedPrecondition,
                StorageError::ReadOnly { .. } | StorageError::Unavailable(_) => Code::Unavailable,
                StorageError::Unreadable { .. } => Code::DataLoss,
                StorageError::SequenceOutOfRange { .. } => Code::OutOfRange,
                StorageError::Internal(_) => Code::Internal,
            },
        }
    }

    /// The bad fields of the request: each with its path and what is wrong.
    fn violations(&self) -> Vec<Violation> {
        let message = self.to_string();
        let one = |field: &str| vec![Violation { field: field.to_owned(), description: message.clone() }];
        match self {
            ServiceError::InvalidArgument(v) => v.clone(),
            ServiceError::Storage(StorageError::Rule(m)) => model_violations(m),
            ServiceError::Storage(StorageError::Filter(f)) => {
                vec![Violation { field: "filter".into(), description: f.to_string() }]
            }
            ServiceError::Storage(StorageError::PageToken(_)) => one("page_token"),
            ServiceError::Storage(StorageError::RequestIdReused { .. }) => one("request_id"),
            ServiceError::Report(reporting::ReportError::PeriodEndsBeforeStart { .. }) => one("period_end"),
            ServiceError::Report(reporting::ReportError::BeforeAnyData { .. }) => one("as_of"),
            ServiceError::Report(reporting::ReportError::UnknownFormat(_)) => one("format"),
            _ => Vec::new(),
        }
    }

    /// Every value its message names, by key.
    fn metadata(&self) -> HashMap<String, String> {
        let pairs: Vec<(&str, String)> = match self {
            ServiceError::InvalidArgument(v) => {
                let mut m = Vec::new();
                m.extend(v.first().map(|v| ("field", v.field.clone())));
                m.push(("fields", v.iter().map(|v| v.field.as_str()).collect::<Vec<_>>().join(",")));
                m
            }
            ServiceError::NotFound(name) => vec![("resource", name.clone())],
            ServiceError::Unauthenticated(_)
            | ServiceError::PermissionDenied(_)
            | ServiceError::ResourceExhausted(_)
            | ServiceError::DeadlineExceeded(_) => Vec::new(),
            ServiceError::TooManyWatchers { limit, scope, .. } => vec![
                ("limit", limit.to_string()),
                (
                    "scope",
                    match scope {
                        WatchScope::Server => "server",
                        WatchScope::Connection => "connection",
                        WatchScope::Principal => "principal",
                    }
                    .to_owned(),
                ),
            ],
            ServiceError::TooManyReports { limit } => vec![("limit", limit.to_string())],
            ServiceError::RequestTimeout { timeout } => vec![("timeout_ms", timeout.as_millis().to_string())],
            ServiceError::DocumentTooLarge { limit } => vec![("limit_bytes", limit.to_string())],
            ServiceError::Storage(s) => {
                let mut m = s.metadata();
                if let Some((_, name)) = storage_resource(s) {
                    m.push(("resource", name));
                }
                m
            }
            ServiceError::Report(r) => match r {
                reporting::ReportError::UnknownCountry(c) => vec![("country", format!("countries/{c}"))],
                reporting::ReportError::MissingTreaty(t) => vec![("treaty", format!("treaties/{t}"))],
                reporting::ReportError::TooLarge { limit } => vec![("limit_bytes", limit.to_string())],
                reporting::ReportError::PrintTimeout { seconds, .. } => vec![("timeout_secs", seconds.to_string())],
                _ => Vec::new(),
            },
            ServiceError::WatchExpired { last_sequence, .. } => vec![("last_sequence", last_sequence.to_string())],
            ServiceError::WatcherTooSlow { behind, last_sequence } => {
                vec![("behind", behind.to_string()), ("last_sequence", last_sequence.to_string())]
            }
        };
        pairs.into_iter().map(|(k, v)| (k.to_owned(), bounded_to(&v, MAX_DETAIL_LEN).into_owned())).collect()
    }

    /// How long to wait before trying again, when trying again can help.
    fn retry_after(&self) -> Option<Duration> {
        match self {
            ServiceError::WatchExpired { .. } | ServiceError::WatcherTooSlow { .. } => Some(Duration::ZERO),
            ServiceError::TooManyWatchers { .. } | ServiceError::ResourceExhausted(_) => Some(Duration::from_secs(5)),
            ServiceError::TooManyReports { .. } => Some(Duration::from_secs(2)),
            ServiceError::Storage(StorageError::Unavailable(_)) => Some(Duration::from_secs(1)),
            ServiceError::Storage(StorageError::ReadOnly { .. }) => Some(Duration::from_secs(30)),
            _ => None,
        }
    }
}

fn model_code(m: &ModelError) -> Code {
    use ModelError as M;
    match m {
        M::UnknownState(_) | M::UnknownTreaty(_) => Code::NotFound,
        M::EndBeforeStart { .. }
        | M::EndWithoutStart { .. }
        | M::UnknownOutput(_)
        | M::Field { .. }
        | M::ArticleNotInTreaty { .. } => Code::InvalidArgument,
        M::Several(all) if all.iter().all(|m| model_code(m) == Code::InvalidArgument) => Code::InvalidArgument,
        M::Several(_) => Code::FailedPrecondition,
        M::DuplicateAction { .. } | M::DuplicateId { .. } => Code::AlreadyExists,
        M::ActionBeforeOpening { .. }
        | M::RatificationWithoutSignature { .. }
        | M::RatificationBeforeSignature { .. }
        | M::MustAccede { .. }
        | M::MustSign { .. }
        | M::AccessionWithoutInvitation { .. }
        | M::AccessionBeforeInvitation { .. }
        | M::ProtocolWithoutConvention { .. }
        | M::ProtocolBeforeConvention { .. }
        | M::DenunciationWithoutConsent { .. }
        | M::EntryIntoForceMismatch { .. }
        | M::DepositOutsideEntryIntoForce { .. }
        | M::NotPartyOf { .. }
        | M::UnknownReference { .. } => Code::FailedPrecondition,
    }
}

/// The violations of a model error reached through the store (the conversion layer names the request's paths
/// itself, `convert::model_violations`): an activity's dates and outputs under `activity.`.
fn model_violations(m: &ModelError) -> Vec<Violation> {
    if let ModelError::Several(all) = m {
        return all.iter().flat_map(model_violations).collect();
    }
    let activity_field = matches!(
        m,
        ModelError::EndBeforeStart { .. } | ModelError::EndWithoutStart { .. } | ModelError::UnknownOutput(_)
    );
    m.violations()
        .into_iter()
        .map(|(field, description)| Violation {
            field: if activity_field { format!("activity.{field}") } else { field },
            description,
        })
        .collect()
}

/// The type and name of the resource a store error is about (`coe.cybercrime.v1/Activity`,
/// `activities/octopus-2007`), for `ResourceInfo` and the `resource` metadata.
fn storage_resource(s: &StorageError) -> Option<(String, String)> {
    let (kind, id) = match s {
        StorageError::NotFound { kind, id }
        | StorageError::AlreadyExists { kind, id }
        | StorageError::EtagMismatch { kind, id, .. }
        | StorageError::StillReferenced { kind, id, .. } => (*kind, id.as_str()),
        _ => return None,
    };
    Some(match kind {
        "activity" => ("coe.cybercrime.v1/Activity".to_owned(), core_model::names::activity(id)),
        "treaty action" => ("coe.cybercrime.v1/TreatyAction".to_owned(), id.to_owned()),
        other => {
            let camel: String = other
                .split(['_', ' '])
                .map(|w| {
                    let mut c = w.chars();
                    c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
                })
                .collect();
            (format!("coe.cybercrime.v1/{camel}"), format!("{other}/{id}"))
        }
    })
}

/// The type of the resource `name` names (`countries/PH` → `coe.cybercrime.v1/Country`).
fn resource_type(name: &str) -> String {
    let collection = name.split('/').next().unwrap_or_default();
    let kind = match collection {
        "treaties" if name.contains("/actions/") => "TreatyAction",
        "treaties" => "Treaty",
        "countries" => "Country",
        "activities" => "Activity",
        "organisations" => "Organisation",
        "studies" => "Study",
        _ => "Resource",
    };
    format!("coe.cybercrime.v1/{kind}")
}

/// The longest message (and field description) an answer carries, in bytes. Messages may quote what the
/// caller sent; a long value quoted whole would go twice into the answer's trailers (the message and the
/// details) and past the header size a client accepts, turning a clear refusal into a protocol error.
pub const MAX_MESSAGE_LEN: usize = 1024;

/// `text`, cut to [`MAX_MESSAGE_LEN`] bytes (at a character boundary) with a note of its full length.
fn bounded(text: &str) -> std::borrow::Cow<'_, str> {
    bounded_to(text, MAX_MESSAGE_LEN)
}

/// The longest value of a detail other than the message and a field's description (a metadata value, a resource
/// name, a precondition's subject and description), in bytes: the details are sent beside the message, in the
/// same trailers.
const MAX_DETAIL_LEN: usize = 256;

/// The most bytes of `BadRequest` field violations an answer carries (field paths and descriptions); the
/// violations past it are left out, and the last one kept says how many.
const MAX_VIOLATIONS_LEN: usize = 6 * 1024;

/// `text`, cut to `max` bytes (at a character boundary) with a note of its full length.
fn bounded_to(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if text.len() <= max {
        return text.into();
    }
    let mut end = max.saturating_sub(48).max(16).min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… (cut: {} bytes in all)", &text[..end], text.len()).into()
}

/// Text that may come from a caller, for a log line: control characters (newline, carriage return, escape, ...),
/// the Unicode line and paragraph separators, and the bidirectional overrides are written as escapes
/// (`\n`, `\u{2028}`), so that the text can neither start a log line of its own nor reorder what a terminal shows.
#[derive(Debug, Clone, Copy)]
pub struct Escaped<'a>(pub &'a str);

impl std::fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use std::fmt::Write;
        for c in self.0.chars() {
            let escape = c.is_control()
                || matches!(c, '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
            if escape {
                write!(f, "{}", c.escape_default())?;
            } else {
                f.write_char(c)?;
            }
        }
        Ok(())
    }
}

impl From<ServiceError> for Status {
    fn from(e: ServiceError) -> Status {
        let code = e.code();
        let reason = e.reason();
        let message = bounded(&e.to_string()).into_owned();
        let mut details = ErrorDetails::with_error_info(reason, ERROR_DOMAIN, e.metadata());
        if code == Code::InvalidArgument {
            let violations = e.violations();
            let mut size = 0;
            for (i, v) in violations.iter().enumerate() {
                let (field, description) = (bounded_to(&v.field, MAX_DETAIL_LEN), bounded(&v.description));
                size += field.len() + description.len();
                if size > MAX_VIOLATIONS_LEN && i > 0 {
                    let left = violations.len() - i;
                    details.add_bad_request_violation(field, format!("and {left} more bad field(s), not listed"));
                    break;
                }
                details.add_bad_request_violation(field, description);
            }
        }
        // A detail's short description: the message, cut shorter.
        let described = bounded_to(&message, MAX_DETAIL_LEN).into_owned();
        match &e {
            ServiceError::Storage(StorageError::Rule(m)) if m.is_treaty_rule() => {
                let subject =
                    m.metadata().into_iter().find(|(k, _)| *k == "treaty").map(|(_, v)| v).unwrap_or_default();
                details.add_precondition_failure_violation("TREATY_RULE", subject, described.clone());
            }
            ServiceError::Storage(
                s @ (StorageError::EtagMismatch { .. }
                | StorageError::StillReferenced { .. }
                | StorageError::Rule(ModelError::UnknownReference { .. })),
            ) => {
                let kind = if matches!(s, StorageError::EtagMismatch { .. }) { "ETAG" } else { "REFERENCE" };
                let subject = match s {
                    StorageError::Rule(ModelError::UnknownReference { kind, id }) => format!("{kind}/{id}"),
                    _ => storage_resource(s).map(|(_, name)| name).unwrap_or_default(),
                };
                details.add_precondition_failure_violation(
                    kind,
                    bounded_to(&subject, MAX_DETAIL_LEN),
                    described.clone(),
                );
            }
            _ => {}
        }
        if let ServiceError::Storage(StorageError::Rule(m @ ModelError::DuplicateAction { state, .. })) = &e {
            // The state's action under the treaty: named when its kind is known, else owned by the state.
            let name = m.metadata().into_iter().find(|(k, _)| *k == "resource").map(|(_, v)| v).unwrap_or_default();
            let owner = core_model::names::country(state);
            details.set_resource_info("coe.cybercrime.v1/TreatyAction", name, owner, described.clone());
        } else if matches!(code, Code::NotFound | Code::AlreadyExists) {
            let (resource_type, name) = match &e {
                ServiceError::Storage(s) if storage_resource(s).is_some() => storage_resource(s).unwrap_or_default(),
                ServiceError::NotFound(name) => (resource_type(name), name.clone()),
                other => {
                    let meta = other.metadata();
                    let name = ["country", "treaty", "resource"]
                        .iter()
                        .find_map(|k| meta.get(*k).cloned())
                        .unwrap_or_default();
                    (resource_type(&name), name)
                }
            };
            details.set_resource_info(resource_type, bounded_to(&name, MAX_DETAIL_LEN), "", described.clone());
        }
        if let Some(delay) = e.retry_after() {
            details.set_retry_info(Some(delay));
        }
        // The refusal quotes what the caller sent: it is logged escaped (no caller's newline starts a log line of
        // its own), and as `detail`, not `message`, which in a JSON log is the event's own.
        match code {
            Code::Internal | Code::Unavailable | Code::Unknown | Code::DataLoss
                if !matches!(e, ServiceError::WatchExpired { .. }) =>
            {
                tracing::warn!(code = ?code, reason, detail = %Escaped(&message), "request failed");
            }
            _ => tracing::info!(code = ?code, reason, detail = %Escaped(&message), "request refused"),
        }
        Status::with_error_details(code, message, details)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_quoted_value_is_cut_in_the_message_and_the_details() {
        let long = "é".repeat(50_000);
        let status = Status::from(ServiceError::invalid("name", format!("`{long}` is not a resource name")));
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().len() <= MAX_MESSAGE_LEN, "{}", status.message().len());
        assert!(status.message().starts_with("name: `éé"), "{}", status.message());
        let whole = format!("name: `{long}` is not a resource name").len();
        assert!(status.message().ends_with(&format!("… (cut: {whole} bytes in all)")), "{}", status.message());
        let violations = status.get_error_details().bad_request().expect("BadRequest").field_violations.clone();
        assert_eq!(violations[0].field, "name");
        assert!(violations[0].description.len() <= MAX_MESSAGE_LEN);
        let short = Status::from(ServiceError::invalid("name", "`x` is not a resource name"));
        assert_eq!(short.message(), "name: `x` is not a resource name");
    }

    #[test]
    fn the_reasons_are_the_error_reason_enum() {
        use prost::Message;
        let fds = prost_types::FileDescriptorSet::decode(crate::pb::FILE_DESCRIPTOR_SET).expect("the descriptor set");
        let mut in_proto: Vec<String> = fds
            .file
            .iter()
            .flat_map(|f| &f.enum_type)
            .filter(|e| e.name() == "ErrorReason")
            .flat_map(|e| &e.value)
            .map(|v| v.name().to_owned())
            .filter(|n| n != "ERROR_REASON_UNSPECIFIED")
            .collect();
        in_proto.sort();
        let in_code: Vec<String> = ServiceError::reasons().into_iter().map(str::to_owned).collect();
        assert_eq!(in_code, in_proto, "the reasons the code gives and error_reason.proto's ErrorReason differ");
    }

    #[test]
    fn several_bad_fields_are_one_bad_request() {
        let e = ServiceError::InvalidArgument(vec![
            Violation { field: "activity.title".into(), description: "required".into() },
            Violation { field: "activity.countries[3]".into(), description: "`XX` is not a country".into() },
        ]);
        let status = Status::from(e);
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(
            status.message(),
            "2 fields are invalid: activity.title: required; activity.countries[3]: `XX` is not a country"
        );
        let details = status.get_error_details();
        let fields: Vec<_> =
            details.bad_request().expect("BadRequest").field_violations.iter().map(|v| v.field.clone()).collect();
        assert_eq!(fields, ["activity.title", "activity.countries[3]"]);
        let info = details.error_info().expect("ErrorInfo");
        assert_eq!(info.reason, "INVALID_FIELD");
        assert_eq!(info.metadata["fields"], "activity.title,activity.countries[3]");
    }

    #[test]
    fn escaped_text_has_no_line_breaks_or_control_characters() {
        let forged = "x\n2026-12-01T00:00:00Z  INFO forged\r\u{1b}[31m\u{2028}\u{202e}\t\0end";
        let shown = Escaped(forged).to_string();
        assert_eq!(shown, r"x\n2026-12-01T00:00:00Z  INFO forged\r\u{1b}[31m\u{2028}\u{202e}\t\u{0}end");
        assert!(!shown.chars().any(|c| c.is_control()), "{shown:?}");
        // Ordinary text, quotes and non-ASCII letters are left as they are.
        assert_eq!(Escaped("name: `Côte d'Ivoire` \"x\"").to_string(), "name: `Côte d'Ivoire` \"x\"");
    }
}
