//! The change feed's messages: a change of the store's log ([`storage::LoggedChange`]) as a `ChangeEvent` with
//! the record's own message and resource name, and the heartbeat of an idle stream.

use storage::{ChangeOp, ChangedRecord, LoggedChange, Record};

use crate::pb::coe::cybercrime::v1::{self as pb, change_event::Record as Body};

/// The event of a change.
pub(crate) fn change_event(change: &LoggedChange) -> pb::ChangeEvent {
    let r#type = match change.op {
        ChangeOp::Created => pb::ChangeType::Created,
        ChangeOp::Updated => pb::ChangeType::Updated,
        ChangeOp::Deleted => pb::ChangeType::Deleted,
        ChangeOp::Reset => pb::ChangeType::Reset,
    };
    let (name, record) = match &change.record {
        None => (String::new(), None),
        Some(ChangedRecord::Activity(a)) => {
            let v = version(change, a.clone());
            (core_model::names::activity(&a.id), Some(Body::Activity(super::activity::activity(&v))))
        }
        Some(ChangedRecord::TreatyAction(t)) => {
            let v = version(change, ());
            let m = super::treaty::treaty_action(t);
            let m = super::treaty::with_version(m, &v.etag, v.create_time.as_deref(), v.update_time.as_deref());
            (core_model::names::treaty_action(t.treaty, &t.state, t.kind), Some(Body::TreatyAction(m)))
        }
        Some(ChangedRecord::Record(Record::Study(s))) => {
            (core_model::names::study(&s.id), Some(Body::Study(super::programme::study(s))))
        }
        Some(ChangedRecord::Record(Record::Organisation(o))) => (
            core_model::names::organisation(&o.id),
            Some(Body::Organisation(super::programme::organisation(o, &version(change, ())))),
        ),
        Some(ChangedRecord::Record(Record::Declaration(d))) => (core_model::names::declaration(d.treaty, &d.id), None),
        Some(ChangedRecord::Record(r)) => (format!("{}/{}", r.kind().as_str(), r.id()), None),
    };
    pb::ChangeEvent {
        sequence: change.seq,
        r#type: r#type as i32,
        name,
        commit_time: timestamp(&change.at),
        reset_reason: change.reset_reason.clone().unwrap_or_default(),
        record,
    }
}

/// The version a change made of `record`: its etag and update time (and its create time, for a create); a
/// deleted record's last version is not named.
fn version<T>(change: &LoggedChange, record: T) -> storage::Versioned<T> {
    storage::Versioned {
        record,
        etag: change.etag.clone().unwrap_or_default(),
        create_time: change.create_time.clone(),
        update_time: (change.op != ChangeOp::Deleted).then(|| change.at.clone()),
    }
}

/// The heartbeat of a stream that has gone past position `sequence`.
pub(crate) fn heartbeat(sequence: i64) -> pb::ChangeEvent {
    pb::ChangeEvent { sequence, r#type: pb::ChangeType::Heartbeat as i32, ..Default::default() }
}

/// A time of the audit log (UTC, RFC 3339) as a protobuf timestamp; unset when it does not parse.
fn timestamp(at: &str) -> Option<prost_types::Timestamp> {
    let t = chrono::DateTime::parse_from_rfc3339(at).ok()?;
    Some(prost_types::Timestamp { seconds: t.timestamp(), nanos: t.timestamp_subsec_nanos() as i32 })
}
