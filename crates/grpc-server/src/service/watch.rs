//! The stream of WatchTreatyActions: the actions after a sequence (from the snapshot), then each action as it is
//! recorded, until the client goes away, falls behind, the stream's lifetime ends or the server shuts down.

use std::pin::Pin;

use core_model::TreatyNumber;
use storage::Change;
use tokio_stream::Stream;
use tonic::Status;

use super::AppState;
use crate::{convert::treaty::treaty_action, error::ServiceError, pb::coe::cybercrime::v1 as pb, watchers::WatchSlot};

/// The stream of a watch.
pub(crate) type WatchStream = Pin<Box<dyn Stream<Item = std::result::Result<pb::TreatyActionEvent, Status>> + Send>>;

/// The actions of `treaty` (all when `None`) after sequence `after_sequence`, then as they are recorded; the
/// stream holds `slot` until it ends.
pub(super) fn treaty_actions(
    state: &AppState,
    slot: WatchSlot,
    treaty: Option<TreatyNumber>,
    after_sequence: i64,
) -> WatchStream {
    let lifetime = state.watchers.limits().lifetime;
    // Subscribed before the snapshot is taken: an action missing from the snapshot is broadcast later (the
    // snapshot is swapped in before the broadcast), one in both is sent once (by its sequence).
    let mut changes = state.store.subscribe();
    let replay: Vec<(i64, core_model::TreatyAction)> = if after_sequence > 0 {
        state.store.snapshot().actions_after(after_sequence).map(|(seq, a)| (seq, a.clone())).collect()
    } else {
        Vec::new()
    };
    let mut last = after_sequence;
    let mut shutdown = state.shutdown.clone();
    feed(move |tx| async move {
        // Held until the stream ends (the client went away, fell behind, its lifetime ended, or shutdown).
        let _slot = slot;
        let expiry = tokio::time::sleep(lifetime);
        tokio::pin!(expiry);
        let mut replay = replay.into_iter();
        loop {
            let (seq, action) = if let Some(next) = replay.next() {
                next
            } else {
                tokio::select! {
                    _ = shutdown.changed() => return,
                    // The client went away: end now, not at the next action (which may never come).
                    _ = tx.closed() => return,
                    _ = &mut expiry => {
                        let expired = Status::from(ServiceError::WatchExpired { lifetime, last_sequence: last });
                        tokio::select! {
                            _ = tx.send(Err(expired)) => {}
                            _ = shutdown.changed() => {}
                        }
                        return;
                    }
                    change = changes.recv() => match change {
                        Ok(Change::TreatyActionRecorded { seq, action }) => (seq, action),
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                            let dropped =
                                Status::from(ServiceError::WatcherTooSlow { behind: n, last_sequence: last });
                            tokio::select! {
                                _ = tx.send(Err(dropped)) => {}
                                _ = shutdown.changed() => {}
                            }
                            return;
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                    }
                }
            };
            if seq <= last {
                continue;
            }
            last = seq;
            if treaty.is_some_and(|t| t != action.treaty) {
                continue;
            }
            let event = pb::TreatyActionEvent { sequence: seq, treaty_action: Some(treaty_action(&action)) };
            // A client that does not read blocks only its own stream, and not shutdown nor its lifetime.
            tokio::select! {
                sent = tx.send(Ok(event)) => if sent.is_err() { return },
                _ = shutdown.changed() => return,
                _ = &mut expiry => return,
            }
        }
    })
}

/// A stream fed by a task through a bounded channel: a client that does not read holds at most 16 events.
fn feed<F, Fut>(producer: F) -> WatchStream
where
    F: FnOnce(tokio::sync::mpsc::Sender<std::result::Result<pb::TreatyActionEvent, Status>>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tokio::spawn(producer(tx));
    Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx))
}
