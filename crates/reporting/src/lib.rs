//! Progress reports and country briefs generated from the data, instead of written by hand.
//!
//! [`ProgressReport::build`] and [`CountryBrief::build`] gather the content from a [`core_model::Dataset`]
//! (background, the period's activities, cooperation by country and by organisation, studies, results per
//! output with the indicators against their targets, ratifications per year with running totals, the status
//! table with reported figures beside computed ones where they differ, the priorities of the years ahead and the
//! activities proposed);
//! [`render_progress`] and [`render_brief`] write it as Markdown, as self-contained HTML (inline CSS that prints
//! on A4, an SVG chart of ratifications per year with the cumulative line) or as JSON with the same content.
//! Text comes from minijinja templates (`templates/`), the chart from the `svg` crate.
//! [`pdf::Printer`] prints the HTML to PDF on A4 with a headless Chromium (page numbers, contents, outline).
//!
//! Data is never taken for markup: the HTML templates escape every value for HTML, the Markdown templates for
//! Markdown ([`markdown_text`]: line breaks become spaces, control characters and bidi overrides are dropped,
//! and what Markdown would interpret is backslash-escaped), so no value can add a heading, a link, a table row
//! or raw HTML. A document can be capped in size while it is written ([`render_progress_within`]).
//!
//! A document built while the store holds records it cannot read (a bug, or a database edited by hand) says so
//! near its top, naming them with why ([`ProgressReport::with_unreadable`], [`CountryBrief::with_unreadable`]):
//! the readable data is reported, and nothing is left out silently. With none, the document is unchanged.

mod chart;
mod error;
mod model;
pub mod pdf;

use std::str::FromStr;

use minijinja::{AutoEscape, Environment, Value, context};

pub use error::{ReportError, Result};
pub use model::{
    ActivityLine, AdviceLine, BriefTreaty, CountryBrief, CountryCooperation, FundingLine, Heading, MAX_SERVED_LISTED,
    MAX_UNREADABLE_NAMED, OrganisationCooperation, OutputLine, PastRecord, Period, PriorityYear, ProgressReport,
    ServedLine, SourceLine, StatusColumn, StudyLine, TargetLine, TreatySection, UncertainGroup, UnreadableLine,
    YearLine, words,
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

/// The auto-escape mode of the Markdown templates.
const MARKDOWN: AutoEscape = AutoEscape::Custom("markdown");

/// `c` is a bidirectional override or isolate (U+202A–U+202E, U+2066–U+2069), which reorders what follows it on
/// display.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` as one line of Markdown that shows it literally: CR, LF, NEL and the Unicode line and paragraph
/// separators become spaces; other control characters (C0, DEL, C1) and bidi overrides are dropped; and the
/// characters Markdown (CommonMark with GitHub's tables) would interpret are backslash-escaped: `\`, `` ` ``,
/// `*`, `_`, `[`, `]`, `<`, `>`, `&`, `#`, `|`, `!`, `~`. So a value can neither end the line (a table row, a
/// list item, a heading) nor start a block, a link, an image, an entity or raw HTML.
pub fn markdown_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}' => out.push(' '),
            '\t' => out.push(' '),
            c if c.is_control() || is_bidi_control(c) => {}
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '&' | '#' | '|' | '!' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// `text` without what a terminal would act on: control characters other than `\n` and `\t` (C0, DEL, C1:
/// escape sequences that set the window title, clear the screen or hide text) and bidi overrides (which make
/// text display in another order than it is written). For printing a document to a terminal.
pub fn printable(text: &str) -> String {
    text.chars().filter(|&c| c == '\n' || c == '\t' || !(c.is_control() || is_bidi_control(c))).collect()
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_trim_blocks(false);
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".md") { MARKDOWN } else { minijinja::default_auto_escape_callback(name) }
    });
    // Every value printed into a Markdown template goes through `markdown_text` (the HTML ones are escaped for
    // HTML by minijinja itself).
    env.set_formatter(|out, state, value| {
        if state.auto_escape() == MARKDOWN && !value.is_safe() {
            let text = value.to_string();
            return out.write_str(&markdown_text(&text)).map_err(minijinja::Error::from);
        }
        minijinja::escape_formatter(out, state, value)
    });
    // Markdown table cells: kept as a marker of where a value is a cell (the formatter already keeps every value
    // on one line and escapes its pipes).
    env.add_filter("cell", |s: String| s);
    for (name, source) in [
        ("progress.md", include_str!("../templates/progress.md")),
        ("progress.html", include_str!("../templates/progress.html")),
        ("brief.md", include_str!("../templates/brief.md")),
        ("brief.html", include_str!("../templates/brief.html")),
        ("unreadable.md", include_str!("../templates/unreadable.md")),
        ("unreadable.html", include_str!("../templates/unreadable.html")),
        ("record.md", include_str!("../templates/record.md")),
        ("record.html", include_str!("../templates/record.html")),
    ] {
        // The templates are compiled in; a broken one fails the crate's tests.
        if let Err(e) = env.add_template(name, source) {
            panic!("template {name}: {e}");
        }
    }
    env
}

/// A writer that refuses to grow past `limit` bytes: a document is cut short as soon as it is too large,
/// instead of being written whole first.
struct Capped {
    text: Vec<u8>,
    limit: usize,
    over: bool,
}

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.text.len() + buf.len() > self.limit {
            self.over = true;
            return Err(std::io::Error::other("the document is over its size limit"));
        }
        self.text.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capped {
    fn new(limit: usize) -> Capped {
        Capped { text: Vec::new(), limit, over: false }
    }

    fn finish(self, result: std::result::Result<(), String>) -> Result<String> {
        if self.over {
            return Err(ReportError::TooLarge { limit: self.limit });
        }
        result.map_err(ReportError::Template)?;
        String::from_utf8(self.text).map_err(|e| ReportError::Template(e.to_string()))
    }
}

fn render(template: &str, ctx: Value, limit: usize) -> Result<String> {
    let env = environment();
    let t = env.get_template(template).map_err(|e| ReportError::Template(e.to_string()))?;
    let mut out = Capped::new(limit);
    let result = t.render_captured_to(ctx, &mut out).map(drop).map_err(|e| format!("{e:#}"));
    out.finish(result)
}

fn json<T: serde::Serialize>(value: &T, limit: usize) -> Result<String> {
    let mut out = Capped::new(limit);
    let result = serde_json::to_writer_pretty(&mut out, value).map_err(|e| e.to_string());
    out.finish(result)
}

/// Writes a progress report in a format.
pub fn render_progress(report: &ProgressReport, format: Format) -> Result<Document> {
    render_progress_within(report, format, usize::MAX)
}

/// Writes a progress report in a format, or fails with [`ReportError::TooLarge`] as soon as the document would
/// exceed `limit` bytes.
pub fn render_progress_within(report: &ProgressReport, format: Format, limit: usize) -> Result<Document> {
    let body = match format {
        Format::Json => json(report, limit)?,
        Format::Markdown => render("progress.md", context! { r => report }, limit)?,
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
                limit,
            )?
        }
    };
    Ok(Document { media_type: format.media_type(), body })
}

/// Writes a country brief in a format.
pub fn render_brief(brief: &CountryBrief, format: Format) -> Result<Document> {
    render_brief_within(brief, format, usize::MAX)
}

/// Writes a country brief in a format, or fails with [`ReportError::TooLarge`] as soon as the document would
/// exceed `limit` bytes.
pub fn render_brief_within(brief: &CountryBrief, format: Format, limit: usize) -> Result<Document> {
    let body = match format {
        Format::Json => json(brief, limit)?,
        Format::Markdown => render("brief.md", context! { b => brief }, limit)?,
        Format::Html => {
            render("brief.html", context! { b => brief, css => Value::from_safe_string(CSS.to_owned()) }, limit)?
        }
    };
    Ok(Document { media_type: format.media_type(), body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_text_keeps_a_value_on_one_line_and_inert() {
        assert_eq!(markdown_text("a\r\r## Forged\nb"), "a  \\#\\# Forged b");
        assert_eq!(markdown_text("[x](javascript:alert(1))"), "\\[x\\](javascript:alert(1))");
        assert_eq!(markdown_text("<script>&amp;"), "\\<script\\>\\&amp;");
        assert_eq!(markdown_text("a|b `c` *d* _e_ \\"), "a\\|b \\`c\\` \\*d\\* \\_e\\_ \\\\");
        assert_eq!(markdown_text("W\u{1b}]0;t\u{7}\u{202e}x\u{2028}y"), "W\\]0;tx y");
        assert_eq!(markdown_text("2007-06-02 – Manila (tbc)"), "2007-06-02 – Manila (tbc)");
    }

    #[test]
    fn printable_drops_terminal_controls_only() {
        assert_eq!(printable("a\u{1b}[2J\u{7}b\n\tc\u{9b}d\u{202e}e\r"), "a[2Jb\n\tcde");
        assert_eq!(printable("Côte d’Ivoire — ok"), "Côte d’Ivoire — ok");
    }

    #[test]
    fn a_document_over_its_limit_is_refused_while_written() {
        let report = ProgressReport::build(
            &core_model::Dataset::bundled(),
            chrono::NaiveDate::from_ymd_opt(2007, 11, 30).expect("date"),
            Period::new(
                chrono::NaiveDate::from_ymd_opt(2006, 9, 1).expect("date"),
                chrono::NaiveDate::from_ymd_opt(2007, 11, 30).expect("date"),
            )
            .expect("period"),
        )
        .expect("report");
        for format in [Format::Markdown, Format::Html, Format::Json] {
            let whole = render_progress(&report, format).expect("whole").body.len();
            assert_eq!(render_progress_within(&report, format, whole).expect("at the limit").body.len(), whole);
            assert_eq!(
                render_progress_within(&report, format, whole - 1),
                Err(ReportError::TooLarge { limit: whole - 1 })
            );
        }
    }
}
