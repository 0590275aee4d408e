//! Report formats, both ways: what a request asks for, and what `cybercrime report --server` sends.

use crate::{
    error::{Result, ServiceError},
    pb::coe::cybercrime::v1 as pb,
};

/// The format a report request asks for (unspecified is Markdown).
pub(crate) fn format_from(format: i32) -> Result<reporting::Format> {
    match pb::ReportFormat::try_from(format) {
        Ok(pb::ReportFormat::Unspecified | pb::ReportFormat::Markdown) => Ok(reporting::Format::Markdown),
        Ok(pb::ReportFormat::Html) => Ok(reporting::Format::Html),
        Ok(pb::ReportFormat::Json) => Ok(reporting::Format::Json),
        Err(_) => Err(ServiceError::invalid("format", format!("{format} is not a ReportFormat"))),
    }
}

/// The message's format for a report format.
pub fn format(format: reporting::Format) -> pb::ReportFormat {
    match format {
        reporting::Format::Markdown => pb::ReportFormat::Markdown,
        reporting::Format::Html => pb::ReportFormat::Html,
        reporting::Format::Json => pb::ReportFormat::Json,
    }
}
