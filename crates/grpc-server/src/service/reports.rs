//! ReportService: progress reports and country briefs generated off the request workers, within the limits of
//! [`ReportLimits`], and streamed in chunks that are slices of one buffer (a watchdog ends a stream that is not
//! read, or is open too long).

use std::{
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll},
    time::{Duration, Instant},
};

use bytes::Bytes;
use chrono::NaiveDate;
use tokio_stream::Stream;
use tonic::{Request, Status};

use super::{Answer, Services, today};
use crate::{
    convert::{self as c, report as convert},
    error::{Result, ServiceError},
    method::Method,
    pb::coe::cybercrime::v1::{self as pb, report_service_server::ReportService},
};

/// The largest chunk of a streamed document. The contract allows up to 1 MiB (the message limit is 4 MiB); the
/// server sends 64 KiB, which is what a client that stops reading leaves queued in the connection per stream.
pub const REPORT_CHUNK: usize = 64 * 1024;

/// What a report may cost the server (finding H2 of the security review of 2026-12): its dates, its size, how
/// many are generated at once, and how long its stream may stay open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportLimits {
    /// Reports generated at once (`--max-concurrent-reports`); a request beyond waits up to `queue_wait`, then
    /// gets RESOURCE_EXHAUSTED.
    pub max_concurrent: usize,
    /// How long a request waits for a place among the reports being generated.
    pub queue_wait: Duration,
    /// The largest document, in bytes (`--max-report-bytes`); a larger one is RESOURCE_EXHAUSTED.
    pub max_document_bytes: usize,
    /// A report stream whose next chunk is not taken within this time is ended with DEADLINE_EXCEEDED
    /// (`--stream-send-timeout-secs`): tonic's request timeout stops applying once the headers are sent.
    pub send_timeout: Duration,
    /// The longest a report stream may stay open, read or not (`--max-report-stream-secs`).
    pub max_stream_duration: Duration,
}

impl Default for ReportLimits {
    fn default() -> Self {
        ReportLimits {
            max_concurrent: 3,
            queue_wait: Duration::from_secs(2),
            max_document_bytes: 32 * 1024 * 1024,
            send_timeout: Duration::from_secs(30),
            max_stream_duration: Duration::from_secs(600),
        }
    }
}

/// The earliest day a report may name: the Statute of the Council of Europe (5 May 1949), before any of its
/// treaties was opened.
pub const EARLIEST_REPORT_DAY: NaiveDate = match NaiveDate::from_ymd_opt(1949, 5, 5) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

/// The latest day a report may name: a year from today (plans reach that far; the year table and the chart
/// have a column per year up to the report's date).
fn latest_report_day() -> NaiveDate {
    today() + chrono::Days::new(366)
}

/// A date of a report request, within [`EARLIEST_REPORT_DAY`] and a year from today.
fn report_day(field: &str, day: NaiveDate) -> Result<NaiveDate> {
    let latest = latest_report_day();
    if day < EARLIEST_REPORT_DAY || day > latest {
        return Err(ServiceError::invalid(
            field,
            format!(
                "{day} is out of range: a report's dates run from {EARLIEST_REPORT_DAY} (the Statute of the Council \
                 of Europe) to {latest} (a year from today)"
            ),
        ));
    }
    Ok(day)
}

type ReportStream = Pin<Box<dyn Stream<Item = std::result::Result<pb::ReportChunk, Status>> + Send>>;

/// What a report stream and its watchdog share.
#[derive(Debug)]
struct Progress {
    /// The document, until its last chunk is taken or the stream is ended.
    doc: Option<Bytes>,
    /// Why the stream was ended early, to be sent when it is next polled.
    ended: Option<String>,
    /// When the last chunk was taken (or the stream opened).
    last_taken: Instant,
}

/// A document as a stream of chunks of at most [`REPORT_CHUNK`] bytes: each a slice of the one shared buffer,
/// made when the transport asks for it. A watchdog ends the stream (drops the document, and answers
/// DEADLINE_EXCEEDED when the stream is polled again) when a chunk waits longer than the send timeout to be
/// taken, or the stream is open longer than its overall limit: the transport polls a stream only when its
/// client has room for more, so a stream that is not read cannot notice the time by itself.
#[derive(Debug)]
struct Chunks {
    progress: Arc<Mutex<Progress>>,
    media_type: &'static str,
    len: usize,
    offset: usize,
    index: i32,
    finished: bool,
    watchdog: tokio::task::JoinHandle<()>,
}

impl Drop for Chunks {
    fn drop(&mut self) {
        self.watchdog.abort();
    }
}

impl Chunks {
    fn new(media_type: &'static str, body: Bytes, method: &'static str, limits: &ReportLimits) -> Chunks {
        let len = body.len();
        let progress = Arc::new(Mutex::new(Progress { doc: Some(body), ended: None, last_taken: Instant::now() }));
        let watchdog = tokio::spawn(watch_report_stream(
            Arc::clone(&progress),
            method,
            limits.send_timeout,
            limits.max_stream_duration,
        ));
        Chunks { progress, media_type, len, offset: 0, index: 0, finished: false, watchdog }
    }
}

fn lock(progress: &Mutex<Progress>) -> std::sync::MutexGuard<'_, Progress> {
    progress.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Stream for Chunks {
    type Item = std::result::Result<pb::ReportChunk, Status>;

    fn poll_next(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.finished {
            return Poll::Ready(None);
        }
        let mut p = lock(&self.progress);
        if let Some(why) = p.ended.take() {
            drop(p);
            self.finished = true;
            return Poll::Ready(Some(Err(ServiceError::DeadlineExceeded(why).into())));
        }
        let Some(doc) = p.doc.clone() else {
            drop(p);
            self.finished = true;
            return Poll::Ready(None);
        };
        let end = (self.offset + REPORT_CHUNK).min(self.len);
        let last = end == self.len;
        p.last_taken = Instant::now();
        if last {
            // The last chunk: the stream keeps nothing of the document.
            p.doc = None;
        }
        drop(p);
        let chunk = pb::ReportChunk {
            media_type: self.media_type.to_owned(),
            data: doc.slice(self.offset..end),
            index: self.index,
            last,
        };
        self.offset = end;
        self.index += 1;
        self.finished = last;
        Poll::Ready(Some(Ok(chunk)))
    }
}

/// Ends a report stream (see [`Chunks`]) whose client stopped taking chunks, or that is open too long.
async fn watch_report_stream(
    progress: Arc<Mutex<Progress>>,
    method: &'static str,
    send_timeout: Duration,
    lifetime: Duration,
) {
    let deadline = Instant::now() + lifetime;
    loop {
        let wake = {
            let p = lock(&progress);
            if p.doc.is_none() {
                return;
            }
            (p.last_taken + send_timeout).min(deadline)
        };
        tokio::time::sleep_until(wake.into()).await;
        let mut p = lock(&progress);
        if p.doc.is_none() {
            return;
        }
        let now = Instant::now();
        let why = if now >= deadline {
            format!("the report stream was open longer than its limit of {} s: ended", lifetime.as_secs())
        } else if now >= p.last_taken + send_timeout {
            format!(
                "the report stream was not read for {} s (the server's send timeout): ended",
                send_timeout.as_secs()
            )
        } else {
            continue;
        };
        tracing::info!(target: "cybercrime::request", method, %why, "report stream ended");
        p.doc = None;
        p.ended = Some(why);
        return;
    }
}

impl Services {
    /// The whole dataset, for a report, and the stored records that cannot be read (resource name, reason), which
    /// it lacks and which the report names: every table is read for them, not only what was set aside at start-up.
    async fn dataset(&self) -> Result<(core_model::Dataset, Vec<(String, String)>)> {
        let ds = self.0.store.export().await?;
        let unreadable = self.0.store.find_unreadable().await?.into_iter().map(|u| (u.resource, u.reason)).collect();
        Ok((ds, unreadable))
    }

    /// Generates a document with `build` off the request workers (`spawn_blocking`), once a place among the
    /// reports being generated is free (waiting [`ReportLimits::queue_wait`] at most), and streams it. `build`
    /// writes the document in the format it is given: for a PDF, HTML, which the server's printer then prints
    /// in the same place (within [`ReportLimits::max_document_bytes`] too).
    async fn generate(
        &self,
        method: &'static str,
        output: reporting::pdf::Output,
        build: impl FnOnce(
            &core_model::Dataset,
            Vec<(String, String)>,
            reporting::Format,
            usize,
        ) -> Result<reporting::Document>
        + Send
        + 'static,
    ) -> Result<ReportStream> {
        let limits = self.0.reports;
        let permit =
            match tokio::time::timeout(limits.queue_wait, Arc::clone(&self.0.report_permits).acquire_owned()).await {
                Ok(Ok(permit)) => permit,
                Ok(Err(_)) | Err(_) => {
                    return Err(ServiceError::TooManyReports { limit: limits.max_concurrent });
                }
            };
        let (ds, unreadable) = self.dataset().await?;
        let printer = self.0.printer.clone();
        let body = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let doc = build(&ds, unreadable, output.written_as(), limits.max_document_bytes)?;
            if output != reporting::pdf::Output::Pdf {
                return Ok(Bytes::from(doc.body));
            }
            let pdf = printer.print(&doc.body)?;
            if pdf.len() > limits.max_document_bytes {
                return Err(ServiceError::DocumentTooLarge { limit: limits.max_document_bytes });
            }
            Ok(Bytes::from(pdf))
        })
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
        .map_err(|e| match e {
            ServiceError::Report(reporting::ReportError::TooLarge { limit }) => {
                ServiceError::DocumentTooLarge { limit }
            }
            other => other,
        })?;
        Ok(Box::pin(Chunks::new(output.media_type(), body, method, &limits)))
    }
}

#[tonic::async_trait]
impl ReportService for Services {
    type GenerateProgressReportStream = ReportStream;
    type GenerateCountryBriefStream = ReportStream;

    async fn generate_progress_report(
        &self,
        request: Request<pb::GenerateProgressReportRequest>,
    ) -> Answer<ReportStream> {
        let method = Method::GenerateProgressReport;
        self.serve(method, request, |_, request| async move {
            let r = request.get_ref();
            let format = convert::format_from(r.format)?;
            let as_of = report_day("as_of", c::opt_full_date("as_of", r.as_of.as_ref())?.unwrap_or_else(today))?;
            let start = report_day(
                "period_start",
                c::full_date(
                    "period_start",
                    r.period_start.as_ref().ok_or_else(|| ServiceError::invalid("period_start", "required"))?,
                )?,
            )?;
            let end =
                report_day("period_end", c::opt_full_date("period_end", r.period_end.as_ref())?.unwrap_or(as_of))?;
            let period = reporting::Period::new(start, end)?;
            self.generate(method.name(), format, move |ds, unreadable, format, limit| {
                let report = reporting::ProgressReport::build(ds, as_of, period)?.with_unreadable(unreadable);
                Ok(reporting::render_progress_within(&report, format, limit)?)
            })
            .await
        })
        .await
    }

    async fn generate_country_brief(&self, request: Request<pb::GenerateCountryBriefRequest>) -> Answer<ReportStream> {
        let method = Method::GenerateCountryBrief;
        self.serve(method, request, |_, request| async move {
            let r = request.get_ref();
            let format = convert::format_from(r.format)?;
            let code = c::country_code("country", &r.country)?;
            let as_of = report_day("as_of", c::opt_full_date("as_of", r.as_of.as_ref())?.unwrap_or_else(today))?;
            self.generate(method.name(), format, move |ds, unreadable, format, limit| {
                let brief = reporting::CountryBrief::build(ds, code.as_str(), as_of)
                    .map_err(|e| match e {
                        reporting::ReportError::UnknownCountry(_) => ServiceError::NotFound(c::country_name(&code)),
                        other => other.into(),
                    })?
                    .with_unreadable(unreadable);
                Ok(reporting::render_brief_within(&brief, format, limit)?)
            })
            .await
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use tokio_stream::StreamExt;

    use super::*;

    const MARKDOWN: &str = "text/markdown; charset=utf-8";

    fn document(len: usize) -> Bytes {
        Bytes::from("x".repeat(len))
    }

    #[tokio::test]
    async fn chunks_are_slices_of_one_buffer_made_when_asked_for() {
        let mut chunks = Chunks::new(MARKDOWN, document(3 * REPORT_CHUNK + 10), "test", &ReportLimits::default());
        let start = lock(&chunks.progress).doc.as_ref().map(|b| b.as_ptr() as usize).expect("the document");
        let mut n = 0;
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk.expect("a chunk");
            // A slice of the one buffer, not a copy.
            assert_eq!(chunk.data.as_ptr() as usize, start + n * REPORT_CHUNK);
            assert_eq!((chunk.index, chunk.last), (n as i32, n == 3));
            n += 1;
        }
        assert_eq!(n, 4);
        assert!(lock(&chunks.progress).doc.is_none(), "the stream keeps nothing once done");
    }

    #[tokio::test]
    async fn a_stream_whose_chunk_is_not_taken_in_time_is_ended() {
        let limits = ReportLimits { send_timeout: Duration::from_millis(100), ..Default::default() };
        let mut chunks = Chunks::new(MARKDOWN, document(2 * REPORT_CHUNK), "test", &limits);
        assert!(chunks.next().await.expect("a chunk").is_ok());
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(lock(&chunks.progress).doc.is_none(), "the document is dropped while the stream is not polled");
        let ended = chunks.next().await.expect("an answer").expect_err("ended");
        assert_eq!(ended.code(), tonic::Code::DeadlineExceeded);
        assert!(ended.message().contains("not read for 0 s"), "{}", ended.message());
        assert!(chunks.next().await.is_none());
    }
}
