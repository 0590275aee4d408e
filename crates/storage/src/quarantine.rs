//! Stored rows that cannot be decoded: set aside, never allowed to take the store down.
//!
//! Every write is checked to read back before it commits, so a row that fails to decode comes from a bug or from
//! a database edited by hand. Such a row is quarantined: loading the snapshot and the activity index skips it and
//! keeps it here, lists and exports answer with every readable record and name the unreadable ones, a point read
//! of it alone fails (with [`StorageError::Unreadable`]), and an admin can delete it
//! ([`crate::Store::delete_unreadable`]) and write it again.

use std::collections::BTreeMap;

use crate::{StorageError, resource::Resource};

/// A stored row that cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// Its resource name: `activities/{id}`, `treaties/{n}/actions/{seq}`, `records/{kind}/{id}`,
    /// `treaties/{n}` or `countries/{code}` (written by the store's one table of resource names).
    pub resource: String,
    /// Why it cannot be decoded.
    pub reason: String,
    /// The text stored, for an admin to rebuild the record from.
    pub body: String,
    /// The row, typed: `resource` is its name.
    row: Resource,
}

impl Unreadable {
    /// The row `row`, which cannot be decoded for `reason`, and the text it stores.
    pub(crate) fn new(row: Resource, reason: String, body: String) -> Unreadable {
        Unreadable { resource: row.to_string(), reason, body, row }
    }

    /// Which row it is (an activity, a treaty action...), typed; [`Unreadable::resource`] is its name.
    pub fn row(&self) -> &Resource {
        &self.row
    }

    /// The error a read of this row alone answers.
    pub fn error(&self) -> StorageError {
        StorageError::Unreadable { resource: self.resource.clone(), reason: self.reason.clone() }
    }
}

/// The unreadable rows this process met while loading into memory, by resource name.
#[derive(Debug, Default)]
pub(crate) struct Quarantine {
    /// Treaties, states and treaty actions (set aside by the snapshot).
    pub(crate) snapshot: BTreeMap<String, Unreadable>,
    /// Activities (set aside by the activity index), by resource name.
    pub(crate) activities: BTreeMap<String, Unreadable>,
}

impl Quarantine {
    /// Every unreadable row known, in resource order.
    pub(crate) fn all(&self) -> Vec<Unreadable> {
        let mut all: Vec<Unreadable> = self.snapshot.values().chain(self.activities.values()).cloned().collect();
        all.sort_by(|a, b| a.resource.cmp(&b.resource));
        all
    }
}
