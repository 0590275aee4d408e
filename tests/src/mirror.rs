//! A partner's copy of the store, kept with the list-then-watch pattern (ChangeService): list everything, then
//! apply the changes after the lists' `change_sequence` (watching from the smallest, and passing over a change
//! at or before the `change_sequence` of its own collection's list, which shows it already). It checks as it
//! goes that no change comes twice or out of order and, when every list was read in one page (one view of the
//! store at its sequence), that nothing is missed (an update or delete of a record it does not hold) and nothing
//! repeated (a create of a record it holds). A list of several pages may show, on a later page, a state after
//! its first page's sequence: the changes in between then come again, and are applied as the contract says
//! (harmless: the copy converges).

use std::collections::BTreeMap;

use tokio_stream::StreamExt;
use tonic::transport::Channel;

use crate::api;

/// A record the copy holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Held {
    /// An activity (its etag cleared when `compare_etags` is off).
    Activity(Box<api::Activity>),
    /// A treaty action.
    TreatyAction(Box<api::TreatyAction>),
}

/// The key of a treaty action in the copy: its treaty, state and kind (one of each kind per state and treaty).
pub fn action_key(a: &api::TreatyAction) -> String {
    format!("{}/{}/{}", a.treaty, a.country, a.kind)
}

/// A copy of the store's activities and treaty actions.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Mirror {
    /// The records, by name (activities) or [`action_key`] (treaty actions).
    pub records: BTreeMap<String, Held>,
    /// The last sequence applied or gone past.
    pub sequence: i64,
    /// How many changes were applied.
    pub applied: usize,
    /// How many changes were passed over because the list of their collection already showed them.
    pub passed_over: usize,
    /// The `change_sequence` of the activities' list (its first page).
    pub activities_at: i64,
    /// The `change_sequence` of the treaty actions' list (its first page).
    pub actions_at: i64,
    /// Whether activities' etags are compared (only when change events carry them).
    pub compare_etags: bool,
    /// Every list was one page: the copy is the store at `sequence` exactly, and the checks are strict.
    pub strict: bool,
}

impl Mirror {
    /// Lists everything on `channel` (every page of ListActivities and ListTreatyActions, `page_size` at a time)
    /// and answers the copy, at the smallest `change_sequence` of the lists' first pages.
    pub async fn list(channel: &Channel, page_size: i32) -> Mirror {
        Mirror::list_as(channel, page_size, "").await
    }

    /// [`Mirror::list`] with a bearer token (empty: anonymous).
    pub async fn list_as(channel: &Channel, page_size: i32, bearer: &str) -> Mirror {
        let mut m = Mirror { strict: true, compare_etags: true, ..Mirror::default() };
        let mut sequences = Vec::new();
        let mut activities = api::activity_service_client::ActivityServiceClient::new(channel.clone());
        let mut token = String::new();
        loop {
            let page = activities
                .list_activities(as_bearer(
                    api::ListActivitiesRequest { page_size, page_token: token, ..Default::default() },
                    bearer,
                ))
                .await
                .expect("list activities")
                .into_inner();
            if sequences.is_empty() {
                sequences.push(page.change_sequence);
                m.activities_at = page.change_sequence;
            }
            for a in page.activities {
                m.records.insert(a.name.clone(), Held::Activity(Box::new(a)));
            }
            if page.next_page_token.is_empty() {
                break;
            }
            m.strict = false;
            token = page.next_page_token;
        }
        let mut treaties = api::treaty_service_client::TreatyServiceClient::new(channel.clone());
        let mut token = String::new();
        let mut first = true;
        loop {
            let page = treaties
                .list_treaty_actions(as_bearer(
                    api::ListTreatyActionsRequest { page_size, page_token: token, ..Default::default() },
                    bearer,
                ))
                .await
                .expect("list treaty actions")
                .into_inner();
            if first {
                sequences.push(page.change_sequence);
                m.actions_at = page.change_sequence;
                first = false;
            }
            for a in page.treaty_actions {
                m.records.insert(action_key(&a), Held::TreatyAction(Box::new(without_derived(a))));
            }
            if page.next_page_token.is_empty() {
                break;
            }
            m.strict = false;
            token = page.next_page_token;
        }
        m.sequence = sequences.into_iter().min().unwrap_or(0);
        assert!(m.sequence > 0, "a list names the position it shows");
        m
    }

    /// Applies one event; panics on a gap or a repeat.
    pub fn apply(&mut self, e: api::ChangeEvent) {
        let kind = api::ChangeType::try_from(e.r#type).expect("a known change type");
        if kind == api::ChangeType::Heartbeat {
            assert!(e.sequence >= self.sequence, "a heartbeat never goes back: {} after {}", e.sequence, self.sequence);
            self.sequence = e.sequence;
            return;
        }
        assert!(e.sequence > self.sequence, "change {} repeated or out of order (after {})", e.sequence, self.sequence);
        self.sequence = e.sequence;
        self.applied += 1;
        let (key, held, listed_at) = match e.record {
            Some(api::change_event::Record::Activity(a)) => {
                assert_eq!(e.name, a.name, "the event names its activity");
                (a.name.clone(), Held::Activity(Box::new(a)), self.activities_at)
            }
            Some(api::change_event::Record::TreatyAction(a)) => {
                assert_eq!(e.name, a.name, "the event names its treaty action");
                (action_key(&a), Held::TreatyAction(Box::new(without_derived(a))), self.actions_at)
            }
            other => panic!("unexpected change {kind:?} {} {other:?}", e.name),
        };
        // The list of its collection was read at a later position than the smallest: it shows this change.
        if e.sequence <= listed_at {
            self.applied -= 1;
            self.passed_over += 1;
            return;
        }
        match kind {
            api::ChangeType::Created => {
                let before = self.records.insert(key.clone(), held);
                assert!(!self.strict || before.is_none(), "change {}: {key} created twice (a repeat)", e.sequence);
            }
            api::ChangeType::Updated => {
                // An update's event has no create time: the copy keeps the one it holds.
                let held = match (held, self.records.get(&key)) {
                    (Held::Activity(mut a), Some(Held::Activity(was))) => {
                        a.create_time = was.create_time;
                        Held::Activity(a)
                    }
                    (Held::TreatyAction(mut a), Some(Held::TreatyAction(was))) => {
                        a.create_time = was.create_time;
                        Held::TreatyAction(a)
                    }
                    (held, _) => held,
                };
                let before = self.records.insert(key.clone(), held);
                let seen = !self.strict || before.is_some();
                assert!(seen, "change {}: {key} updated but never seen created (a gap)", e.sequence);
            }
            api::ChangeType::Deleted => {
                let before = self.records.remove(&key);
                let seen = !self.strict || before.is_some();
                assert!(seen, "change {}: {key} deleted but never seen created (a gap)", e.sequence);
            }
            other => panic!("unexpected change type {other:?} at {}", e.sequence),
        }
    }

    /// Follows `stream` until the copy has reached `sequence`, or the stream ends (answers its error, if any).
    pub async fn follow_until(
        &mut self,
        stream: &mut tonic::Streaming<api::ChangeEvent>,
        sequence: i64,
    ) -> Result<(), tonic::Status> {
        while self.sequence < sequence {
            match tokio::time::timeout(std::time::Duration::from_secs(30), stream.next()).await {
                Ok(Some(Ok(e))) => self.apply(e),
                Ok(Some(Err(status))) => return Err(status),
                Ok(None) => return Err(tonic::Status::unavailable("the stream ended")),
                Err(_) => panic!("no event for 30 s at {} (waiting for {sequence})", self.sequence),
            }
        }
        Ok(())
    }

    /// The copy's records, activities' etags cleared unless compared.
    pub fn comparable(&self) -> BTreeMap<String, Held> {
        self.records
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    Held::Activity(a) if !self.compare_etags => {
                        Held::Activity(Box::new(api::Activity { etag: String::new(), ..(**a).clone() }))
                    }
                    other => other.clone(),
                };
                (k.clone(), v)
            })
            .collect()
    }
}

/// `message` as a request with `bearer` (empty: anonymous).
fn as_bearer<T>(message: T, bearer: &str) -> tonic::Request<T> {
    if bearer.is_empty() { tonic::Request::new(message) } else { crate::with_token(message, bearer) }
}

/// Opens a change stream on `channel` from `after` (as a reader, with `reader-token`).
pub async fn watch(channel: &Channel, after: i64) -> Result<tonic::Streaming<api::ChangeEvent>, tonic::Status> {
    api::change_service_client::ChangeServiceClient::new(channel.clone())
        .watch_changes(crate::with_token(api::WatchChangesRequest { start_after_sequence: after }, "reader-token"))
        .await
        .map(tonic::Response::into_inner)
}

/// A treaty action as the feed and the list both give it: the list adds the bound derived from other facts,
/// which the feed (the record as written) does not.
fn without_derived(a: api::TreatyAction) -> api::TreatyAction {
    api::TreatyAction { derived: None, ..a }
}
