//! The service's one error type and its one, exhaustive mapping to `tonic::Status` (with `ErrorInfo` and
//! `BadRequest` details, AIP-193).

use core_model::ModelError;
use storage::StorageError;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// A result whose error is a [`ServiceError`].
pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// The domain of the `ErrorInfo` details this service returns.
pub const ERROR_DOMAIN: &str = "cybercrime.coe.int";

/// What went wrong with a request.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A field of the request is malformed.
    #[error("{field}: {description}")]
    InvalidArgument {
        /// The field, e.g. `as_of.month` or `treaty_action.date`.
        field: String,
        /// What is wrong with it.
        description: String,
    },
    /// The resource named does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// No credentials, or bad ones.
    #[error("{0}")]
    Unauthenticated(String),
    /// Credentials without the role the method needs.
    #[error("{0}")]
    PermissionDenied(String),
    /// A limit of the server is reached (open watch streams).
    #[error("{0}")]
    ResourceExhausted(String),
    /// A stream was ended because its client did not read it in time.
    #[error("{0}")]
    DeadlineExceeded(String),
    /// The store refused or failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A report cannot be generated.
    #[error(transparent)]
    Report(#[from] reporting::ReportError),
    /// A watch stream reached its maximum lifetime; the client watches again from `last_sequence`.
    #[error(
        "this watch stream reached its maximum lifetime ({} s): watch again with after_sequence = {last_sequence}",
        lifetime.as_secs_f64()
    )]
    WatchExpired {
        /// The lifetime.
        lifetime: std::time::Duration,
        /// The last sequence the stream went past (sent, or not matching its filter).
        last_sequence: i64,
    },
}

impl ServiceError {
    /// A malformed field.
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        ServiceError::InvalidArgument { field: field.into(), description: description.into() }
    }
}

/// The longest message (and field description) an answer carries, in bytes. Messages may quote what the
/// caller sent; a long value quoted whole would go twice into the answer's trailers (the message and the
/// details) and past the header size a client accepts, turning a clear refusal into a protocol error.
pub const MAX_MESSAGE_LEN: usize = 1024;

/// `text`, cut to [`MAX_MESSAGE_LEN`] bytes (at a character boundary) with a note of its full length.
fn bounded(text: &str) -> std::borrow::Cow<'_, str> {
    if text.len() <= MAX_MESSAGE_LEN {
        return text.into();
    }
    let mut end = MAX_MESSAGE_LEN - 64;
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

fn status(code: Code, message: String, reason: &str, bad_field: Option<(&str, &str)>) -> Status {
    let message = bounded(&message).into_owned();
    let bad_field = bad_field.map(|(field, description)| (bounded(field), bounded(description)));
    let bad_field = bad_field.as_ref().map(|(f, d)| (f.as_ref(), d.as_ref()));
    let mut details = ErrorDetails::with_error_info(reason, ERROR_DOMAIN, std::collections::HashMap::new());
    if let Some((field, description)) = bad_field {
        details.add_bad_request_violation(field, description);
    }
    // The refusal quotes what the caller sent: it is logged escaped (no caller's newline starts a log line of
    // its own), and as `detail`, not `message`, which in a JSON log is the event's own message.
    if matches!(code, Code::Internal | Code::Unavailable | Code::Unknown | Code::DataLoss) {
        tracing::warn!(code = ?code, detail = %Escaped(&message), "request failed");
    } else {
        tracing::info!(code = ?code, detail = %Escaped(&message), "request refused");
    }
    Status::with_error_details(code, message, details)
}

fn model_status(e: &ModelError, message: String) -> Status {
    use ModelError as M;
    match e {
        M::UnknownState(_) | M::UnknownTreaty(_) => status(Code::NotFound, message, "NOT_FOUND", None),
        M::EndBeforeStart { .. } => {
            status(Code::InvalidArgument, message.clone(), "END_BEFORE_START", Some(("activity.end", &message)))
        }
        M::EndWithoutStart { .. } => {
            status(Code::InvalidArgument, message.clone(), "END_WITHOUT_START", Some(("activity.start", &message)))
        }
        M::UnknownOutput(_) => {
            status(Code::InvalidArgument, message.clone(), "UNKNOWN_OUTPUT", Some(("activity.outputs", &message)))
        }
        M::DuplicateAction { .. } => status(Code::AlreadyExists, message, "DUPLICATE_ACTION", None),
        M::DuplicateId { .. } => status(Code::AlreadyExists, message, "DUPLICATE_ID", None),
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
        | M::DepositOutsideEntryIntoForce { .. } => status(Code::FailedPrecondition, message, "TREATY_RULE", None),
        M::UnknownReference { .. } => status(Code::FailedPrecondition, message, "UNKNOWN_REFERENCE", None),
        M::Field { field, reason } => {
            status(Code::InvalidArgument, message.clone(), "FIELD_LIMIT", Some((field.as_str(), reason.as_str())))
        }
    }
}

impl From<ServiceError> for Status {
    fn from(e: ServiceError) -> Status {
        let message = e.to_string();
        match e {
            ServiceError::InvalidArgument { field, description } => {
                status(Code::InvalidArgument, message, "INVALID_ARGUMENT", Some((&field, &description)))
            }
            ServiceError::NotFound(_) => status(Code::NotFound, message, "NOT_FOUND", None),
            ServiceError::Unauthenticated(_) => status(Code::Unauthenticated, message, "UNAUTHENTICATED", None),
            ServiceError::PermissionDenied(_) => status(Code::PermissionDenied, message, "PERMISSION_DENIED", None),
            ServiceError::ResourceExhausted(_) => status(Code::ResourceExhausted, message, "RESOURCE_EXHAUSTED", None),
            ServiceError::DeadlineExceeded(_) => status(Code::DeadlineExceeded, message, "DEADLINE_EXCEEDED", None),
            ServiceError::WatchExpired { last_sequence, .. } => {
                // Expected, and resumable: logged as a refusal is, not as a failure.
                tracing::info!(code = ?Code::Unavailable, %message, "watch stream ended");
                let metadata =
                    std::collections::HashMap::from([("last_sequence".to_owned(), last_sequence.to_string())]);
                let details = ErrorDetails::with_error_info("WATCH_EXPIRED", ERROR_DOMAIN, metadata);
                Status::with_error_details(Code::Unavailable, message, details)
            }
            ServiceError::Report(r) => match &r {
                reporting::ReportError::PeriodEndsBeforeStart { .. } => {
                    status(Code::InvalidArgument, message.clone(), "INVALID_PERIOD", Some(("period_end", &message)))
                }
                reporting::ReportError::BeforeAnyData { .. } => {
                    status(Code::InvalidArgument, message.clone(), "BEFORE_ANY_DATA", Some(("as_of", &message)))
                }
                reporting::ReportError::UnknownCountry(_) => status(Code::NotFound, message, "NOT_FOUND", None),
                reporting::ReportError::UnknownFormat(_) => {
                    status(Code::InvalidArgument, message.clone(), "UNKNOWN_FORMAT", Some(("format", &message)))
                }
                reporting::ReportError::MissingTreaty(_) => {
                    status(Code::FailedPrecondition, message, "MISSING_TREATY", None)
                }
                reporting::ReportError::TooLarge { .. } => {
                    status(Code::ResourceExhausted, message, "DOCUMENT_TOO_LARGE", None)
                }
                reporting::ReportError::Template(_) => status(Code::Internal, message, "INTERNAL", None),
            },
            ServiceError::Storage(s) => match s {
                StorageError::NotFound { .. } => status(Code::NotFound, message, "NOT_FOUND", None),
                StorageError::AlreadyExists { .. } => status(Code::AlreadyExists, message, "ALREADY_EXISTS", None),
                StorageError::EtagMismatch { .. } => status(Code::Aborted, message, "ETAG_MISMATCH", None),
                StorageError::Rule(m) => model_status(&m, message),
                StorageError::Dataset(_) => status(Code::FailedPrecondition, message, "INVALID_DATA", None),
                StorageError::Filter(f) => {
                    status(Code::InvalidArgument, message.clone(), "INVALID_FILTER", Some(("filter", &f.to_string())))
                }
                StorageError::PageToken(_) => {
                    status(Code::InvalidArgument, message.clone(), "INVALID_PAGE_TOKEN", Some(("page_token", &message)))
                }
                StorageError::StillReferenced { .. } => {
                    status(Code::FailedPrecondition, message, "STILL_REFERENCED", None)
                }
                StorageError::RequestIdReused { .. } => {
                    status(Code::InvalidArgument, message.clone(), "REQUEST_ID_REUSED", Some(("request_id", &message)))
                }
                StorageError::NotEmpty => status(Code::FailedPrecondition, message, "STORE_NOT_EMPTY", None),
                StorageError::ReadOnly { .. } => status(Code::Unavailable, message, "STORE_READ_ONLY", None),
                StorageError::Unavailable(_) => status(Code::Unavailable, message, "STORE_UNAVAILABLE", None),
                StorageError::NotOurs { .. } | StorageError::NewerSchema { .. } | StorageError::BadUrl(_) => {
                    status(Code::FailedPrecondition, message, "STORE_UNUSABLE", None)
                }
                StorageError::Unreadable { .. } => status(Code::DataLoss, message, "UNREADABLE_RECORD", None),
                StorageError::SequenceOutOfRange { .. } => status(
                    Code::OutOfRange,
                    message.clone(),
                    "CHANGE_SEQUENCE_OUT_OF_RANGE",
                    Some(("start_after_sequence", &message)),
                ),
                StorageError::Internal(_) => status(Code::Internal, message, "INTERNAL", None),
            },
        }
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
    fn escaped_text_has_no_line_breaks_or_control_characters() {
        let forged = "x\n2026-12-01T00:00:00Z  INFO forged\r\u{1b}[31m\u{2028}\u{202e}\t\0end";
        let shown = Escaped(forged).to_string();
        assert_eq!(shown, r"x\n2026-12-01T00:00:00Z  INFO forged\r\u{1b}[31m\u{2028}\u{202e}\t\u{0}end");
        assert!(!shown.chars().any(|c| c.is_control()), "{shown:?}");
        // Ordinary text, quotes and non-ASCII letters are left as they are.
        assert_eq!(Escaped("name: `Côte d'Ivoire` \"x\"").to_string(), "name: `Côte d'Ivoire` \"x\"");
    }
}
