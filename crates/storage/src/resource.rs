//! The names the store gives to what a write concerns and to the rows it keeps, and the operations its audit log
//! records: written and parsed here, and nowhere else.
//!
//! A [`Resource`] is the `resource` of an audit entry and of a request id, the key of an etag in an export's
//! history, and the name of a row set aside as unreadable ([`crate::Unreadable::resource`]). What catches the
//! activity index up reads the audit log's resources back through [`Resource::from_str`]; an admin names the
//! unreadable row to delete the same way. The service reads an unreadable row's kind from it
//! ([`crate::Unreadable::row`]).
//!
//! Invariant: every resource reads back as itself (`r.to_string().parse() == Ok(r)`). An id may hold any
//! character, `/` included: it runs to the end of the name, after a prefix that names its kind.

use std::{fmt, str::FromStr};

use crate::RecordKind;

/// What a write concerns, or which stored row is meant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// A whole dataset, imported: `dataset`.
    Dataset,
    /// A treaty action, by its resource name `treaties/{treaty}/actions/{state}-{kind}`
    /// ([`core_model::names::treaty_action`], the kind as the dataset writes it, e.g. `ratification`). Audit
    /// entries and request ids written before schema version 5 name it
    /// `countries/{state}/treatyActions/{treaty}/{kind}`: that form is still read (as this same resource), never
    /// written.
    TreatyAction {
        /// The state's code.
        state: String,
        /// The treaty's number.
        treaty: u32,
        /// The kind of action.
        kind: String,
    },
    /// An activity: `activities/{id}`.
    Activity(String),
    /// A record of another kind, by kind and id: `{kind}/{id}` (`organisation/microsoft`).
    Record(RecordKind, String),
    /// A stored treaty's row: `treaties/{number}`.
    TreatyRow(String),
    /// A stored state's row: `countries/{code}`.
    StateRow(String),
    /// A stored treaty action's row: `treaties/{treaty}/actions/{seq}`, the row's position in the log of treaty
    /// actions. The form is kept (clients and admins hold these names, and the API documents them): it never meets
    /// a treaty action's name, whose last segment is `{state}-{kind}` (a letter first, a `-` inside), where a
    /// row's is digits only.
    ActionRow {
        /// The treaty's number.
        treaty: i64,
        /// The row's position in the log of treaty actions.
        seq: i64,
    },
    /// A stored record's row: `records/{kind}/{id}`, with the kind as stored (it may be one this build does not
    /// know, which is why the row cannot be read).
    RecordRow {
        /// The `kind` column.
        kind: String,
        /// The `id` column.
        id: String,
    },
}

/// Why a name is not a [`Resource`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotAResource {
    /// `treaties/{treaty}/actions/{id}` that is neither a row (numbers) nor a treaty action's name.
    BadActionRow,
    /// Anything else.
    Unknown,
}

impl Resource {
    /// The resource of a treaty action.
    pub fn treaty_action(action: &core_model::TreatyAction) -> Resource {
        Resource::TreatyAction {
            state: action.state.to_string(),
            treaty: action.treaty.0,
            kind: action.kind.as_str().to_owned(),
        }
    }

    /// Whether a write of this resource changes what the activity index holds: an activity, or a whole dataset.
    pub(crate) fn touches_activities(&self) -> bool {
        matches!(self, Resource::Activity(_) | Resource::Dataset)
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Resource::Dataset => f.write_str("dataset"),
            Resource::TreatyAction { state, treaty, kind } => write!(f, "treaties/{treaty}/actions/{state}-{kind}"),
            Resource::Activity(id) => write!(f, "activities/{id}"),
            Resource::Record(kind, id) => write!(f, "{}/{id}", kind.as_str()),
            Resource::TreatyRow(number) => write!(f, "treaties/{number}"),
            Resource::StateRow(code) => write!(f, "countries/{code}"),
            Resource::ActionRow { treaty, seq } => write!(f, "treaties/{treaty}/actions/{seq}"),
            Resource::RecordRow { kind, id } => write!(f, "records/{kind}/{id}"),
        }
    }
}

impl FromStr for Resource {
    type Err = NotAResource;

    fn from_str(name: &str) -> Result<Resource, NotAResource> {
        if name == "dataset" {
            return Ok(Resource::Dataset);
        }
        let Some((head, rest)) = name.split_once('/') else { return Err(NotAResource::Unknown) };
        match head {
            "activities" if !rest.is_empty() => Ok(Resource::Activity(rest.to_owned())),
            "records" => match rest.split_once('/') {
                Some((kind, id)) if !id.is_empty() => {
                    Ok(Resource::RecordRow { kind: kind.to_owned(), id: id.to_owned() })
                }
                _ => Err(NotAResource::Unknown),
            },
            "treaties" => match rest.split('/').collect::<Vec<_>>().as_slice() {
                [number] => Ok(Resource::TreatyRow((*number).to_owned())),
                [treaty, "actions", id] => match (treaty.parse(), id.parse()) {
                    (Ok(treaty), Ok(seq)) => Ok(Resource::ActionRow { treaty, seq }),
                    _ => match core_model::names::parse_treaty_action(name) {
                        Some((treaty, state, kind)) => Ok(Resource::TreatyAction {
                            state: state.to_string(),
                            treaty: treaty.0,
                            kind: kind.as_str().to_owned(),
                        }),
                        None => Err(NotAResource::BadActionRow),
                    },
                },
                _ => Err(NotAResource::Unknown),
            },
            "countries" => match rest.split('/').collect::<Vec<_>>().as_slice() {
                [code] => Ok(Resource::StateRow((*code).to_owned())),
                [state, "treatyActions", treaty, kind] => match treaty.parse() {
                    Ok(treaty) => {
                        Ok(Resource::TreatyAction { state: (*state).to_owned(), treaty, kind: (*kind).to_owned() })
                    }
                    Err(_) => Err(NotAResource::Unknown),
                },
                _ => Err(NotAResource::Unknown),
            },
            kind if !rest.is_empty() => match RecordKind::ALL.into_iter().find(|k| k.as_str() == kind) {
                Some(kind) => Ok(Resource::Record(kind, rest.to_owned())),
                None => Err(NotAResource::Unknown),
            },
            _ => Err(NotAResource::Unknown),
        }
    }
}

/// What a write did, as the audit log and the request ids record it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    /// A treaty action recorded.
    RecordTreatyAction,
    /// An activity or record created.
    Create,
    /// An activity or record replaced.
    Update,
    /// An activity or record deleted.
    Delete,
    /// A dataset imported into an empty store.
    Import,
    /// The bundled dataset loaded into a new, empty store.
    LoadBundledDataset,
    /// A stored row that cannot be decoded deleted by an admin.
    DeleteUnreadable,
}

impl Operation {
    /// Its name in the audit log.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Operation::RecordTreatyAction => "record_treaty_action",
            Operation::Create => "create",
            Operation::Update => "update",
            Operation::Delete => "delete",
            Operation::Import => "import",
            Operation::LoadBundledDataset => "load-bundled-dataset",
            Operation::DeleteUnreadable => "delete_unreadable",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_resource_reads_back_as_itself() {
        let resources = [
            Resource::Dataset,
            Resource::TreatyAction { state: "AL".into(), treaty: 185, kind: "accession-request".into() },
            Resource::Activity("2007-03-19-belgrade".into()),
            Resource::Activity("an id/with a slash".into()),
            Resource::Record(RecordKind::Organisation, "microsoft".into()),
            Resource::Record(RecordKind::Source, "report/2007".into()),
            Resource::Record(RecordKind::ContactPoint, "AL@2007-11-30".into()),
            Resource::TreatyRow("185".into()),
            Resource::StateRow("AL".into()),
            Resource::ActionRow { treaty: 185, seq: 12 },
            Resource::RecordRow { kind: "organisation".into(), id: "a/b".into() },
            Resource::RecordRow { kind: "no_such_kind".into(), id: "x".into() },
        ];
        for r in resources {
            assert_eq!(r.to_string().parse::<Resource>(), Ok(r.clone()), "{r}");
        }
        for kind in RecordKind::ALL {
            let r = Resource::Record(kind, "x".into());
            assert_eq!(r.to_string().parse::<Resource>(), Ok(r.clone()), "{r}");
        }
    }

    #[test]
    fn the_audit_logs_names_are_read_as_they_were_written() {
        assert_eq!("activities/x".parse(), Ok(Resource::Activity("x".into())));
        assert_eq!(
            "organisation/microsoft".parse(),
            Ok(Resource::Record(RecordKind::Organisation, "microsoft".into()))
        );
        // The form of schema versions before 5 reads as the same resource as the name.
        let de = Resource::TreatyAction { state: "DE".into(), treaty: 185, kind: "ratification".into() };
        assert_eq!("countries/DE/treatyActions/185/ratification".parse(), Ok(de.clone()));
        assert_eq!("treaties/185/actions/DE-ratification".parse(), Ok(de.clone()));
        assert_eq!(de.to_string(), "treaties/185/actions/DE-ratification");
        assert_eq!("treaties/185/actions/12".parse(), Ok(Resource::ActionRow { treaty: 185, seq: 12 }));
        assert_eq!("dataset".parse(), Ok(Resource::Dataset));
        assert!(Resource::Activity("x".into()).touches_activities() && Resource::Dataset.touches_activities());
        assert!(!Resource::Record(RecordKind::Plan, "p".into()).touches_activities());
    }

    #[test]
    fn what_is_not_a_name_is_refused() {
        for bad in ["", "activities", "activities/", "records/organisation", "records/organisation/", "treaties/1/x"] {
            assert_eq!(bad.parse::<Resource>(), Err(NotAResource::Unknown), "{bad:?}");
        }
        for bad in ["countries/AL/x", "countries/AL/treatyActions/x/ratification", "plans/x", "organisation/"] {
            assert_eq!(bad.parse::<Resource>(), Err(NotAResource::Unknown), "{bad:?}");
        }
        assert_eq!("treaties/x/actions/1".parse::<Resource>(), Err(NotAResource::BadActionRow));
        assert_eq!("treaties/185/actions/".parse::<Resource>(), Err(NotAResource::BadActionRow));
        assert_eq!("treaties/185/actions/DE-sign".parse::<Resource>(), Err(NotAResource::BadActionRow));
    }
}
