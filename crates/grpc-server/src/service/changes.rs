//! ChangeService: WatchChanges, the store's change log as a stream. It replays the log from the client's
//! sequence, then follows it: it waits for the log's position to move (after this server's commits and, on
//! PostgreSQL, each other replica's notification) and reads the log again from where it is, by position, so it
//! never skips or repeats a change whatever order notifications come in. While nothing changes, a heartbeat
//! carries the last position gone past.
//!
//! Bounded as WatchTreatyActions is: a place among the watch streams (`watchers.rs`), at most 16 events queued,
//! a client that takes no event within the stream send timeout is dropped (DEADLINE_EXCEEDED), the watch
//! lifetime (WATCH_EXPIRED), and shutdown ends it. Each ending says the last sequence to watch again from.

use std::{
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use storage::{ChangeBatch, Store};
use tokio::sync::{mpsc, oneshot};
use tokio_stream::Stream;
use tonic::{Request, Status};

use super::{Answer, AppState, Services};
use crate::{
    convert::changes::{change_event, heartbeat},
    error::ServiceError,
    method::Method,
    pb::coe::cybercrime::v1::{self as pb, change_service_server::ChangeService},
    watchers::{WatchSlot, peer_of},
};

/// How a change feed's streams behave.
#[derive(Debug, Clone, Copy)]
pub struct ChangeFeedLimits {
    /// A heartbeat after this long without an event.
    pub heartbeat: Duration,
    /// A client that takes no event for this long is dropped (DEADLINE_EXCEEDED).
    pub send_timeout: Duration,
}

impl Default for ChangeFeedLimits {
    fn default() -> Self {
        ChangeFeedLimits { heartbeat: Duration::from_secs(15), send_timeout: Duration::from_secs(30) }
    }
}

/// How many changes one read of the log takes.
const BATCH: usize = 256;

/// The stream of WatchChanges.
pub(crate) type ChangeStream = Pin<Box<dyn Stream<Item = Result<pb::ChangeEvent, Status>> + Send>>;

#[tonic::async_trait]
impl ChangeService for Services {
    type WatchChangesStream = ChangeStream;

    async fn watch_changes(&self, request: Request<pb::WatchChangesRequest>) -> Answer<Self::WatchChangesStream> {
        self.serve(Method::WatchChanges, request, |principal, request| async move {
            let after = request.get_ref().start_after_sequence;
            if after < 0 {
                return Err(ServiceError::invalid(
                    "start_after_sequence",
                    format!("{after} is negative: a list's change_sequence, an event's sequence, or 0"),
                ));
            }
            let named = principal.role.is_some().then_some(principal.name.as_str());
            let slot = self.0.watchers.acquire(peer_of(request.extensions()), named)?;
            // The first read here: a sequence the log does not hold is the call's error, not the stream's.
            let position = self.0.store.change_position();
            let first = self.0.store.changes_after(after, BATCH).await?;
            Ok(follow(&self.0, slot, position, first))
        })
        .await
    }
}

/// The stream: `first`, then the log followed from its end; it holds `slot` until it ends.
fn follow(
    state: &AppState,
    slot: WatchSlot,
    position: tokio::sync::watch::Receiver<i64>,
    first: ChangeBatch,
) -> ChangeStream {
    let store = state.store.clone();
    let lifetime = state.watchers.limits().lifetime;
    let limits = state.change_feed;
    let shutdown = state.shutdown.clone();
    let (tx, rx) = mpsc::channel(16);
    let (end, last) = oneshot::channel();
    tokio::spawn(async move {
        let _slot = slot;
        let deadline = tokio::time::Instant::now() + lifetime;
        let mut out = Out { tx, shutdown, deadline, lifetime, send_timeout: limits.send_timeout, sent: first.through };
        if let Some(status) = run(&*store, &mut out, position, first, limits.heartbeat).await {
            let _ = end.send(status);
        }
    });
    Box::pin(Feed { rx, last: Some(last) })
}

/// Sends the changes after `first` as the log grows, and heartbeats, until the stream ends: answers the status
/// it ends with (`None`: the client went away, or shutdown).
async fn run(
    store: &dyn Store,
    out: &mut Out,
    mut position: tokio::sync::watch::Receiver<i64>,
    first: ChangeBatch,
    every: Duration,
) -> Option<Status> {
    let mut cursor = first.through;
    let mut next = Some(first);
    loop {
        // Everything the log holds after the cursor, batch by batch.
        loop {
            let batch = match next.take() {
                Some(b) => b,
                None => {
                    // Marked seen before reading: a commit after this read wakes the wait below.
                    position.borrow_and_update();
                    match store.changes_after(cursor, BATCH).await {
                        Ok(b) => b,
                        Err(e) => return Some(Status::from(ServiceError::Storage(e))),
                    }
                }
            };
            for change in &batch.changes {
                if let Err(end) = out.send(change_event(change), change.seq).await {
                    return end;
                }
            }
            cursor = batch.through;
            if !batch.more {
                break;
            }
        }
        tokio::select! {
            _ = out.shutdown.changed() => return None,
            _ = out.tx.closed() => return None,
            _ = tokio::time::sleep_until(out.deadline) => return Some(out.expired()),
            moved = position.changed() => if moved.is_err() { return None },
            // Idle: a heartbeat (and the log is read again after it, in case a notification was lost).
            _ = tokio::time::sleep(every) => if let Err(end) = out.send(heartbeat(cursor), cursor).await {
                return end;
            },
        }
    }
}

/// The sending end of a stream, with what ends it.
struct Out {
    tx: mpsc::Sender<Result<pb::ChangeEvent, Status>>,
    shutdown: tokio::sync::watch::Receiver<bool>,
    deadline: tokio::time::Instant,
    lifetime: Duration,
    send_timeout: Duration,
    /// The last sequence queued for the client.
    sent: i64,
}

impl Out {
    /// Queues `event` (at `sequence`) for the client; `Err` with the status the stream ends with (`None`: the
    /// client went away or shutdown) when it cannot.
    async fn send(&mut self, event: pb::ChangeEvent, sequence: i64) -> Result<(), Option<Status>> {
        tokio::select! {
            sent = self.tx.send(Ok(event)) => match sent {
                Ok(()) => {
                    self.sent = sequence;
                    Ok(())
                }
                Err(_) => Err(None),
            },
            _ = self.shutdown.changed() => Err(None),
            _ = tokio::time::sleep_until(self.deadline) => Err(Some(self.expired())),
            _ = tokio::time::sleep(self.send_timeout) => Err(Some(Status::from(ServiceError::DeadlineExceeded(format!(
                "this change stream's client took no event for {} s and was dropped: watch again with \
                 start_after_sequence = {}",
                self.send_timeout.as_secs_f64(),
                self.sent
            ))))),
        }
    }

    /// The status of a stream at the end of its lifetime.
    fn expired(&self) -> Status {
        Status::from(ServiceError::WatchExpired { lifetime: self.lifetime, last_sequence: self.sent })
    }
}

/// The events queued, then the status the stream ended with, if any.
struct Feed {
    rx: mpsc::Receiver<Result<pb::ChangeEvent, Status>>,
    last: Option<oneshot::Receiver<Status>>,
}

impl Stream for Feed {
    type Item = Result<pb::ChangeEvent, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.rx.poll_recv(cx) {
            Poll::Ready(None) => {}
            other => return other,
        }
        let Some(last) = self.last.as_mut() else { return Poll::Ready(None) };
        match Pin::new(last).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(status) => {
                self.last = None;
                Poll::Ready(status.ok().map(Err))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use storage::WriteContext;
    use tokio_stream::StreamExt;

    use super::*;
    use crate::{auth::Auth, watchers::WatchLimits};

    /// Services over a new in-memory store, with these limits, and the sender that shuts them down.
    async fn services(feed: ChangeFeedLimits, lifetime: Duration) -> (Services, tokio::sync::watch::Sender<bool>) {
        let store = storage::open("sqlite::memory:").await.expect("store");
        let records = AppState::load_records(&*store).await.expect("records");
        let (stop, shutdown) = tokio::sync::watch::channel(false);
        let state = AppState::new(store, Auth::anonymous_only(false), records, shutdown, 8)
            .with_watch_limits(WatchLimits { lifetime, ..WatchLimits::only(8) })
            .with_change_feed(feed);
        (Services(Arc::new(state)), stop)
    }

    /// Creates `n` activities.
    async fn write(s: &Services, n: usize) {
        let template = core_model::Dataset::bundled().activities[0].clone();
        for i in 0..n {
            let a = core_model::Activity { id: format!("2009-feed-{i}"), ..template.clone() };
            s.0.store.create_activity(&WriteContext::by("editor@test"), a).await.expect("create");
        }
    }

    async fn watch(s: &Services, after: i64) -> ChangeStream {
        let request = Request::new(pb::WatchChangesRequest { start_after_sequence: after });
        s.watch_changes(request).await.expect("a stream").into_inner()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_client_that_takes_no_event_is_dropped_with_the_sequence_to_resume_from() {
        let feed = ChangeFeedLimits { heartbeat: Duration::from_secs(3600), send_timeout: Duration::from_millis(200) };
        let (s, _stop) = services(feed, Duration::from_secs(3600)).await;
        let at = s.0.store.change_sequence().await.unwrap();
        let mut stream = watch(&s, at).await;
        write(&s, 40).await;
        // Not read for longer than the send timeout: at most 16 events wait, then the stream's end.
        tokio::time::sleep(Duration::from_millis(800)).await;
        let mut received = Vec::new();
        let ended = loop {
            match stream.next().await.expect("an event or the end") {
                Ok(e) => received.push(e.sequence),
                Err(status) => break status,
            }
        };
        assert_eq!(received, (at + 1..=at + 16).collect::<Vec<_>>(), "the 16 events queued, in order");
        assert_eq!(ended.code(), tonic::Code::DeadlineExceeded);
        let resume = format!("start_after_sequence = {}", at + 16);
        assert!(ended.message().contains(&resume), "{}", ended.message());
        assert!(stream.next().await.is_none());
        // Resuming from there gives the rest, once each.
        let mut stream = watch(&s, at + 16).await;
        for seq in at + 17..=at + 40 {
            assert_eq!(stream.next().await.expect("an event").expect("ok").sequence, seq);
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stream_ends_at_its_lifetime_with_its_last_sequence_and_at_shutdown() {
        let feed = ChangeFeedLimits { heartbeat: Duration::from_millis(50), ..ChangeFeedLimits::default() };
        let (s, stop) = services(feed, Duration::from_millis(500)).await;
        let at = s.0.store.change_sequence().await.unwrap();
        let mut expiring = watch(&s, 0).await;
        let mut ended = None;
        while let Some(item) = expiring.next().await {
            if let Err(status) = item {
                ended = Some(status);
            }
        }
        let ended = ended.expect("the stream ends with a status");
        assert_eq!(ended.code(), tonic::Code::Unavailable);
        let details = tonic_types::StatusExt::get_error_details(&ended);
        let info = details.error_info().expect("ErrorInfo");
        assert_eq!(info.reason, "WATCH_EXPIRED");
        assert_eq!(info.metadata.get("last_sequence"), Some(&at.to_string()));
        // Shutdown ends a stream at once, with its place given back.
        let mut open = watch(&s, at).await;
        stop.send(true).unwrap();
        let rest = tokio::time::timeout(Duration::from_secs(5), async { while open.next().await.is_some() {} }).await;
        assert!(rest.is_ok(), "the stream ends at shutdown");
    }
}
