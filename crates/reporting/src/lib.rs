//! Progress reports and country briefs generated from the data, instead of written by hand.
//!
//! [`ProgressReport::build`] and [`CountryBrief::build`] gather the content from a [`core_model::Dataset`]
//! (background, the period's activities, cooperation by country and by organisation, studies, results per
//! output with the indicators against their targets, ratifications per year with running totals, the status
//! table with reported figures beside computed ones where they differ, and the activities proposed);
//! [`render_progress`] and [`render_brief`] write it as Markdown, as self-contained HTML (inline CSS that prints
//! on A4, an SVG chart of ratifications per year with the cumulative line) or as JSON with the same content.
//! Text comes from minijinja templates (`templates/`), the chart from the `svg` crate.

mod chart;
mod error;
mod model;

use std::str::FromStr;

use minijinja::{Environment, Value, context};

pub use error::{ReportError, Result};
pub use model::{
    ActivityLine, AdviceLine, BriefTreaty, CountryBrief, CountryCooperation, FundingLine, OrganisationCooperation,
    OutputLine, Period, ProgressReport, StatusColumn, StudyLine, TargetLine, TreatySection, YearLine,
};

/// The formats of a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Markdown (`text/markdown`).
    Markdown,
    /// Self-contained HTML (`text/html`).
    Html,
    /// JSON with the same content (`application/json`).
    Json,
}

impl Format {
    /// The media type of a document in this format.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Markdown => "text/markdown; charset=utf-8",
            Format::Html => "text/html; charset=utf-8",
            Format::Json => "application/json",
        }
    }
}

impl FromStr for Format {
    type Err = ReportError;

    fn from_str(s: &str) -> Result<Format> {
        match s.to_ascii_lowercase().as_str() {
            "markdown" | "md" => Ok(Format::Markdown),
            "html" => Ok(Format::Html),
            "json" => Ok(Format::Json),
            _ => Err(ReportError::UnknownFormat(s.to_owned())),
        }
    }
}

/// A generated document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// Its media type.
    pub media_type: &'static str,
    /// Its text.
    pub body: String,
}

const CSS: &str = include_str!("../templates/style.css");

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_trim_blocks(false);
    // Markdown table cells: no line breaks or pipes.
    env.add_filter("cell", |s: String| s.replace('|', "\\|").replace('\n', " "));
    for (name, source) in [
        ("progress.md", include_str!("../templates/progress.md")),
        ("progress.html", include_str!("../templates/progress.html")),
        ("brief.md", include_str!("../templates/brief.md")),
        ("brief.html", include_str!("../templates/brief.html")),
    ] {
        // The templates are compiled in; a broken one fails the crate's tests.
        if let Err(e) = env.add_template(name, source) {
            panic!("template {name}: {e}");
        }
    }
    env
}

fn render(template: &str, ctx: Value) -> Result<String> {
    let env = environment();
    let t = env.get_template(template).map_err(|e| ReportError::Template(e.to_string()))?;
    t.render(ctx).map_err(|e| ReportError::Template(format!("{e:#}")))
}

fn json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string_pretty(value).map_err(|e| ReportError::Template(e.to_string()))
}

/// Writes a progress report in a format.
pub fn render_progress(report: &ProgressReport, format: Format) -> Result<Document> {
    let body = match format {
        Format::Json => json(report)?,
        Format::Markdown => render("progress.md", context! { r => report })?,
        Format::Html => {
            let charts: Vec<Value> = report
                .treaties
                .iter()
                .map(|t| {
                    Value::from_safe_string(chart::ratifications(
                        &format!("Ratifications of {} per year", t.label),
                        &t.years,
                    ))
                })
                .collect();
            render(
                "progress.html",
                context! { r => report, charts => charts, css => Value::from_safe_string(CSS.to_owned()) },
            )?
        }
    };
    Ok(Document { media_type: format.media_type(), body })
}

/// Writes a country brief in a format.
pub fn render_brief(brief: &CountryBrief, format: Format) -> Result<Document> {
    let body = match format {
        Format::Json => json(brief)?,
        Format::Markdown => render("brief.md", context! { b => brief })?,
        Format::Html => render("brief.html", context! { b => brief, css => Value::from_safe_string(CSS.to_owned()) })?,
    };
    Ok(Document { media_type: format.media_type(), body })
}
