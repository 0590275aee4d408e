//! The reporting crate's one error type.

use chrono::NaiveDate;

/// A result whose error is a [`ReportError`].
pub type Result<T, E = ReportError> = std::result::Result<T, E>;

/// Why a report cannot be generated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    /// The period ends before it starts.
    #[error("the period ends ({end}) before it starts ({start})")]
    PeriodEndsBeforeStart {
        /// First day.
        start: NaiveDate,
        /// Last day.
        end: NaiveDate,
    },
    /// The as-of date is before anything the data holds.
    #[error("as of {as_of} there is no data: the earliest fact is of {earliest}")]
    BeforeAnyData {
        /// The date asked.
        as_of: NaiveDate,
        /// The earliest date in the data.
        earliest: NaiveDate,
    },
    /// No such country.
    #[error("unknown country `{0}`")]
    UnknownCountry(String),
    /// No such format.
    #[error("unknown format `{0}`: use markdown, html, json or pdf")]
    UnknownFormat(String),
    /// The data lacks a treaty the report needs.
    #[error("the data holds no treaty {0}")]
    MissingTreaty(u32),
    /// The document would be larger than the limit it is written within.
    #[error("the document is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// A template failed (a bug).
    #[error("template error: {0}")]
    Template(String),
    /// PDF output needs a browser, and there is none (the message says why: not found, not executable).
    #[error("PDF output is unavailable: {0}")]
    PrinterMissing(String),
    /// The PDF was not printed within the printer's timeout; the browser was killed.
    #[error(
        "the PDF was not printed within {seconds} s (the PDF timeout){}",
        if *waiting { ": every printer stayed busy" } else { ": the browser was stopped" }
    )]
    PrintTimeout {
        /// The timeout, in seconds.
        seconds: u64,
        /// It ran out while waiting for a place among the prints running at once.
        waiting: bool,
    },
    /// The browser failed to print the PDF (the message has the last lines it wrote).
    #[error("printing the PDF failed: {0}")]
    PrintFailed(String),
}
