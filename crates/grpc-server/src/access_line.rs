//! The access log's line written directly: the same bytes `tracing`'s formatter writes for it, without
//! `tracing`'s field visitors.
//!
//! Every answered call has one access line (`transport::access_log`). Through `tracing` it cost about a
//! tenth of the server's time under load (its fields visited and formatted one by one through `fmt`, the
//! request's span looked up for its ids; BENCHMARKS.md, run of 2026-12-04). When the log is plain text or JSON
//! without colours and no OTLP export is on, the server installs a direct writer ([`write_directly`]) and
//! the line is put together here from the call's values and the request's trace context (a task-local value
//! set by `transport::Requests`), and handed to the log's writer in one piece. Otherwise (a terminal's colours,
//! OTLP, tests without the binary's set-up) the line goes through `tracing` as before. Either way the level and
//! `RUST_LOG` decide whether it is written (`tracing::enabled!`).
//!
//! The same set-up also spares each request its `tracing` span (a span registered, its fields formatted into a
//! string, entered and left at each poll: without it GetCountry served 7% more requests per second under load,
//! BENCHMARKS.md). The request's trace
//! context is in the task-local value all the same, and the log's event format ([`InRequest`]) writes the
//! request's span into every other line logged within the request, as `tracing` would have written it had the
//! span existed. With a terminal's colours, OTLP export, or span directives in `RUST_LOG` (which filter on the
//! span), the request has its `tracing` span as before.
//!
//! Invariant: a direct line, and a line written by [`InRequest`] within a request, is the line `tracing`'s
//! formatter would write within the request's span (text: `Format::default()` without ANSI; JSON:
//! `Format::json()`), timestamps apart. The tests hold the two against each other.

use std::{fmt::Write as _, io::Write as _, sync::OnceLock};

use tracing_subscriber::{
    fmt::{FmtContext, FormatEvent, FormatFields, format::Writer},
    registry::LookupSpan,
};

use crate::{log_writer::BatchedLog, transport::TraceContext};

/// The log's format, for the direct line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `tracing_subscriber::fmt`'s default (full) text format, without ANSI colours.
    Text,
    /// `tracing_subscriber::fmt`'s JSON format.
    Json,
}

/// Where direct lines go, and in what format.
#[derive(Debug)]
pub(crate) struct Direct {
    log: BatchedLog,
    format: Format,
}

static DIRECT: OnceLock<Direct> = OnceLock::new();

/// From now on, access lines are written directly to `log` in `format` (once per process; later calls are
/// ignored). Only for a log `tracing` formats in that format, without colours and without OTLP export.
pub fn write_directly(log: BatchedLog, format: Format) {
    let _ = DIRECT.set(Direct { log, format });
}

/// The direct writer, if [`write_directly`] installed one.
pub(crate) fn direct() -> Option<&'static Direct> {
    DIRECT.get()
}

/// The values of one access line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Line<'a> {
    pub(crate) level: tracing::Level,
    pub(crate) method: &'a str,
    pub(crate) code: tonic::Code,
    pub(crate) latency_ms: f64,
    pub(crate) principal: &'a str,
}

impl Direct {
    /// Writes `line`, within the request of `trace` (if any), timestamped now.
    pub(crate) fn write(&self, line: &Line<'_>, trace: Option<&TraceContext>) {
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let text = match self.format {
            Format::Text => text(&now, line, trace),
            Format::Json => json(&now, line, trace),
        };
        // A log that cannot be written has nowhere to say so (as `tracing`'s writer does).
        let _ = (&self.log).write_all(text.as_bytes());
    }
}

/// The line as `tracing_subscriber::fmt`'s default format writes it without ANSI:
/// `TIME LEVEL request{trace_id=.. span_id=..}: cybercrime::request: method="M" code=C latency_ms=L principal=P`.
fn text(now: &str, line: &Line<'_>, trace: Option<&TraceContext>) -> String {
    let mut out = String::with_capacity(200);
    let _ = write!(out, "{now} {:>5} ", line.level.as_str());
    if let Some(t) = trace {
        text_span(&mut out, t);
        out.push(' ');
    }
    // `method` is quoted as its `Debug` would quote it (a method's name has nothing to escape), `code` is its
    // `Debug` name: pushed as they are, which `fmt` would spend a tenth of the line's time on.
    out.push_str("cybercrime::request: method=\"");
    out.push_str(line.method);
    out.push_str("\" code=");
    out.push_str(code_name(line.code));
    let _ = write!(out, " latency_ms={:?} principal=", line.latency_ms);
    out.push_str(line.principal);
    out.push('\n');
    out
}

/// A code's name as its `Debug` writes it.
fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code::*;
    match code {
        Ok => "Ok",
        Cancelled => "Cancelled",
        Unknown => "Unknown",
        InvalidArgument => "InvalidArgument",
        DeadlineExceeded => "DeadlineExceeded",
        NotFound => "NotFound",
        AlreadyExists => "AlreadyExists",
        PermissionDenied => "PermissionDenied",
        ResourceExhausted => "ResourceExhausted",
        FailedPrecondition => "FailedPrecondition",
        Aborted => "Aborted",
        OutOfRange => "OutOfRange",
        Unimplemented => "Unimplemented",
        Internal => "Internal",
        Unavailable => "Unavailable",
        DataLoss => "DataLoss",
        Unauthenticated => "Unauthenticated",
    }
}

/// The line as `tracing_subscriber::fmt`'s JSON format writes it: timestamp, level, fields, target, the
/// request's span and the list of spans.
fn json(now: &str, line: &Line<'_>, trace: Option<&TraceContext>) -> String {
    let s = |v: &str| serde_json::Value::from(v).to_string();
    let mut out = String::with_capacity(400);
    let _ = write!(
        out,
        "{{\"timestamp\":{},\"level\":{},\"fields\":{{\"method\":{},\"code\":{},\"latency_ms\":{},\"principal\":{}}},\
         \"target\":\"cybercrime::request\"",
        s(now),
        s(line.level.as_str()),
        s(line.method),
        s(code_name(line.code)),
        serde_json::Value::from(line.latency_ms),
        s(line.principal),
    );
    if let Some(t) = trace {
        push_json_spans(&mut out, t);
    }
    out.push_str("}\n");
    out
}

/// The request's span as the text format writes it in a line's list of spans: `request{trace_id=.. span_id=..}:`.
fn text_span(out: &mut String, t: &TraceContext) {
    let _ = write!(out, "request{{trace_id={} span_id={}}}:", t.trace_id, t.span_id);
}

/// The request's span as the JSON format writes it (its fields in order of name, then its name).
fn json_span(t: &TraceContext) -> String {
    let s = |v: &str| serde_json::Value::from(v).to_string();
    format!("{{\"span_id\":{},\"trace_id\":{},\"name\":\"request\"}}", s(&t.span_id), s(&t.trace_id))
}

/// The keys the JSON format adds to a line within the request's span and no other: `,"span":..,"spans":[..]`.
fn push_json_spans(out: &mut String, t: &TraceContext) {
    let span = json_span(t);
    let _ = write!(out, ",\"span\":{span},\"spans\":[{span}]");
}

/// The log's event format when requests have no `tracing` span (see [the module](self)): within a request, the
/// line `inner` writes with the request's span put in as the outermost of the line's spans; elsewhere, `inner`'s
/// line as it is. `inner` is the format of `format` (`Format::default()` or `Format::json()`), without ANSI.
#[derive(Debug, Clone)]
pub struct InRequest<F> {
    inner: F,
    format: Format,
}

impl<F> InRequest<F> {
    /// `inner`, the event format of the log's `format`, with the request's span put in.
    pub fn new(inner: F, format: Format) -> Self {
        InRequest { inner, format }
    }
}

impl<S, N, F> FormatEvent<S, N> for InRequest<F>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    N: for<'w> FormatFields<'w> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        crate::transport::with_trace(|trace| match trace {
            None => self.inner.format_event(ctx, writer, event),
            Some(trace) => {
                let mut line = String::with_capacity(256);
                self.inner.format_event(ctx, Writer::new(&mut line), event)?;
                let in_spans = ctx.event_scope().is_some();
                writer.write_str(&put_in(self.format, &line, trace, in_spans))
            }
        })
    }
}

/// `line` (as `format` writes it) with the request's span put in as its outermost span; `in_spans`: the line
/// already has spans of its own. A line not of the expected form is left as it is.
fn put_in(format: Format, line: &str, trace: &TraceContext, in_spans: bool) -> String {
    let mut out = String::with_capacity(line.len() + 128);
    match format {
        // `TIME LEVEL [span{..}:span{..}: ]target: fields`: the spans start after the timestamp's space and the
        // level's five characters and space.
        Format::Text => {
            let at = line.find(' ').map(|i| i + 7).filter(|&at| line.get(at - 1..at) == Some(" "));
            let Some(at) = at else { return line.to_owned() };
            out.push_str(&line[..at]);
            text_span(&mut out, trace);
            if !in_spans {
                out.push(' ');
            }
            out.push_str(&line[at..]);
        }
        // `{..,"target":"..."[,"span":{..},"spans":[{..},..]]}`: the request's span first in the list (a quote
        // within a value is escaped, so the last `,"spans":[` is the list's), or both keys added at the end.
        Format::Json => {
            const LIST: &str = ",\"spans\":[";
            match (in_spans, line.rfind(LIST), line.strip_suffix("}\n")) {
                (true, Some(i), _) => {
                    let i = i + LIST.len();
                    let _ = write!(out, "{}{},{}", &line[..i], json_span(trace), &line[i..]);
                }
                (false, _, Some(head)) => {
                    out.push_str(head);
                    push_json_spans(&mut out, trace);
                    out.push_str("}\n");
                }
                _ => return line.to_owned(),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::{Layer as _, layer::SubscriberExt};

    use super::*;
    use crate::transport;

    /// What a `tracing` formatter wrote.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
        type Writer = Captured;

        fn make_writer(&'a self) -> Captured {
            self.clone()
        }
    }

    fn trace() -> TraceContext {
        TraceContext {
            trace_id: "4bf92f3577b34da6a3ce929d0e0e4736".into(),
            span_id: "00f067aa0ba902b7".into(),
            parent_id: None,
            sampled: true,
        }
    }

    /// A log writing to `out` in `format` without ANSI, with the request's span put in by [`InRequest`] when
    /// `put_in` (as the server sets it up when it writes access lines directly).
    fn subscriber(format: Format, put_in: bool, out: &Captured) -> impl tracing::Subscriber + Send + Sync {
        let layer = tracing_subscriber::fmt::layer().with_writer(out.clone()).with_ansi(false);
        let fmt = tracing_subscriber::fmt::format();
        tracing_subscriber::registry().with(match (format, put_in) {
            (Format::Text, false) => layer.boxed(),
            (Format::Json, false) => layer.json().boxed(),
            (Format::Text, true) => layer.event_format(InRequest::new(fmt, format)).boxed(),
            (Format::Json, true) => layer.json().event_format(InRequest::new(fmt.json(), format)).boxed(),
        })
    }

    /// The line `tracing` writes for `line` in `format`, in the request span of `trace` (if any), as the server
    /// logs it (the same span and event as `transport`'s).
    fn through_tracing(format: Format, line: &Line<'_>, trace: Option<&TraceContext>) -> String {
        let out = Captured::default();
        tracing::subscriber::with_default(subscriber(format, false, &out), || {
            let span = trace.map(|t| tracing::info_span!("request", trace_id = %t.trace_id, span_id = %t.span_id));
            let _entered = span.as_ref().map(tracing::Span::enter);
            let (method, code, latency_ms, principal) = (line.method, line.code, line.latency_ms, line.principal);
            tracing::event!(
                target: "cybercrime::request",
                tracing::Level::WARN,
                method,
                code = ?code,
                latency_ms,
                principal = %principal
            );
        });
        String::from_utf8(out.0.lock().unwrap().clone()).unwrap()
    }

    fn lines() -> Vec<Line<'static>> {
        let line = |method, code, latency_ms, principal| Line {
            level: tracing::Level::WARN,
            method,
            code,
            latency_ms,
            principal,
        };
        vec![
            line("GetCountry", tonic::Code::Ok, 0.709269, "anonymous"),
            line("GetTreaty", tonic::Code::NotFound, 12.0, "editor@coe"),
            line("unknown", tonic::Code::DeadlineExceeded, 1.5e-7, "a \"quoted\" name\\"),
        ]
    }

    #[test]
    fn a_direct_text_line_is_the_line_tracing_writes() {
        for line in lines() {
            for trace in [Some(trace()), None] {
                let expected = through_tracing(Format::Text, &line, trace.as_ref());
                // The timestamp is the first word.
                let (now, rest) = expected.split_once(' ').unwrap();
                assert_eq!(text(now, &line, trace.as_ref()), format!("{now} {rest}"));
            }
        }
    }

    #[test]
    fn a_direct_json_line_is_the_line_tracing_writes() {
        for line in lines() {
            for trace in [Some(trace()), None] {
                let expected = through_tracing(Format::Json, &line, trace.as_ref());
                let value: serde_json::Value = serde_json::from_str(&expected).unwrap();
                let now = value["timestamp"].as_str().unwrap();
                let direct = json(now, &line, trace.as_ref());
                assert!(direct.ends_with('\n') && expected.ends_with('\n'));
                assert_eq!(direct, expected, "byte for byte");
            }
        }
    }

    /// What `tracing` writes, in `format`, for an event of a handler (a refusal) logged within `spans` (names;
    /// "request" is the request's span) and, when `put_in`, with the request's span put in by [`InRequest`]
    /// rather than entered: the timestamp replaced by `TIME`.
    fn handler_line(format: Format, spans: &[&str], put_in: bool) -> String {
        let out = Captured::default();
        tracing::subscriber::with_default(subscriber(format, put_in, &out), || {
            let t = trace();
            // Each span within the one before it.
            let _entered: Vec<_> = spans
                .iter()
                .map(|name| match *name {
                    "request" => tracing::info_span!("request", trace_id = %t.trace_id, span_id = %t.span_id),
                    _ => tracing::info_span!("storage", table = "treaty", rows = 3),
                })
                .map(tracing::Span::entered)
                .collect();
            tracing::warn!(target: "cybercrime::service", field = "name", reason = "a \"quoted\" reason", "request refused");
        });
        let line = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        match format {
            Format::Text => format!("TIME {}", line.split_once(' ').unwrap().1),
            Format::Json => {
                let value: serde_json::Value = serde_json::from_str(&line).unwrap();
                line.replacen(value["timestamp"].as_str().unwrap(), "TIME", 1)
            }
        }
    }

    #[test]
    fn a_line_within_a_request_without_its_span_is_the_line_tracing_writes_within_it() {
        for format in [Format::Text, Format::Json] {
            // Only the request's span, and a span of the handler's within it.
            for (entered, put) in [(&["request"][..], &[][..]), (&["request", "storage"], &["storage"])] {
                let expected = handler_line(format, entered, false);
                let written = transport::within(trace(), || handler_line(format, put, true));
                assert_eq!(written, expected, "{format:?}, within {entered:?}");
                assert!(expected.contains("4bf92f3577b34da6a3ce929d0e0e4736"), "{expected}");
            }
            // Outside a request, the line is left as it is.
            assert_eq!(handler_line(format, &["storage"], true), handler_line(format, &["storage"], false));
            assert!(!handler_line(format, &[], true).contains("request{"), "no request, no request span");
        }
    }

    #[test]
    fn a_codes_name_is_its_debug_and_a_methods_name_needs_no_escape() {
        for n in 0..=16 {
            let code = tonic::Code::from_i32(n);
            assert_eq!(code_name(code), format!("{code:?}"));
        }
        for method in crate::method::Method::ALL.iter().map(|m| m.name()).chain(["unknown"]) {
            assert_eq!(format!("{method:?}"), format!("\"{method}\""));
        }
    }

    #[test]
    fn the_timestamp_has_the_form_tracing_gives_it() {
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        assert_eq!(now.len(), "2026-12-04T19:15:19.061312Z".len(), "{now}");
        assert!(now.ends_with('Z') && now.as_bytes()[10] == b'T', "{now}");
    }
}
