//! Report formats, both ways: what a request asks for, and what `cybercrime report --server` sends.

use reporting::pdf::Output;

use crate::{
    error::{Result, ServiceError},
    pb::coe::cybercrime::v1 as pb,
};

/// The format a report request asks for (unspecified is Markdown; PDF is the HTML printed).
pub(crate) fn format_from(format: i32) -> Result<Output> {
    match pb::ReportFormat::try_from(format) {
        Ok(pb::ReportFormat::Unspecified | pb::ReportFormat::Markdown) => {
            Ok(Output::Document(reporting::Format::Markdown))
        }
        Ok(pb::ReportFormat::Html) => Ok(Output::Document(reporting::Format::Html)),
        Ok(pb::ReportFormat::Json) => Ok(Output::Document(reporting::Format::Json)),
        Ok(pb::ReportFormat::Pdf) => Ok(Output::Pdf),
        Err(_) => Err(ServiceError::invalid("format", format!("{format} is not a ReportFormat"))),
    }
}

/// The message's format for a report format.
pub fn format(format: Output) -> pb::ReportFormat {
    match format {
        Output::Document(reporting::Format::Markdown) => pb::ReportFormat::Markdown,
        Output::Document(reporting::Format::Html) => pb::ReportFormat::Html,
        Output::Document(reporting::Format::Json) => pb::ReportFormat::Json,
        Output::Pdf => pb::ReportFormat::Pdf,
    }
}
