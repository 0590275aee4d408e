//! The editable records other than activities and treaty actions, as one enum the store keeps by kind and id.

use core_model::{
    BudgetLine, ContactPoint, Contribution, CooperationRecord, CountryProfile, Declaration, FundingSource,
    LegislativeAssistance, Objective, Organisation, Output, Plan, Priority, ReportedFigure, SourceDocument, Study,
};
use serde::{Deserialize, Serialize};

use crate::{Result, StorageError};

/// The kinds of [`Record`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordKind {
    /// [`SourceDocument`]
    Source,
    /// [`Plan`]
    Plan,
    /// [`Organisation`]
    Organisation,
    /// [`FundingSource`]
    FundingSource,
    /// [`BudgetLine`]
    Budget,
    /// [`Contribution`]
    Contribution,
    /// [`CooperationRecord`]
    Cooperation,
    /// [`LegislativeAssistance`]
    LegislativeAssistance,
    /// [`CountryProfile`]
    Profile,
    /// [`ContactPoint`]
    ContactPoint,
    /// [`Study`]
    Study,
    /// [`Objective`]
    Objective,
    /// [`Output`]
    Output,
    /// [`ReportedFigure`]
    ReportedFigure,
    /// [`Priority`]
    Priority,
    /// [`Declaration`]
    Declaration,
}

impl RecordKind {
    /// Every kind, in the order an export writes them.
    pub const ALL: [RecordKind; 16] = [
        RecordKind::Source,
        RecordKind::Plan,
        RecordKind::Organisation,
        RecordKind::FundingSource,
        RecordKind::Budget,
        RecordKind::Contribution,
        RecordKind::Cooperation,
        RecordKind::LegislativeAssistance,
        RecordKind::Profile,
        RecordKind::ContactPoint,
        RecordKind::Study,
        RecordKind::Objective,
        RecordKind::Output,
        RecordKind::ReportedFigure,
        RecordKind::Priority,
        RecordKind::Declaration,
    ];

    /// The name stored in the `kind` column (and used by foreign keys).
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Source => "source",
            RecordKind::Plan => "plan",
            RecordKind::Organisation => "organisation",
            RecordKind::FundingSource => "funding_source",
            RecordKind::Budget => "budget",
            RecordKind::Contribution => "contribution",
            RecordKind::Cooperation => "cooperation",
            RecordKind::LegislativeAssistance => "legislative_assistance",
            RecordKind::Profile => "profile",
            RecordKind::ContactPoint => "contact_point",
            RecordKind::Study => "study",
            RecordKind::Objective => "objective",
            RecordKind::Output => "output",
            RecordKind::ReportedFigure => "reported_figure",
            RecordKind::Priority => "priority",
            RecordKind::Declaration => "declaration",
        }
    }
}

/// One editable record of a kind other than activities and treaty actions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum Record {
    Source(SourceDocument),
    Plan(Plan),
    Organisation(Organisation),
    FundingSource(FundingSource),
    Budget(BudgetLine),
    Contribution(Contribution),
    Cooperation(CooperationRecord),
    LegislativeAssistance(LegislativeAssistance),
    Profile(CountryProfile),
    ContactPoint(ContactPoint),
    Study(Study),
    Objective(Objective),
    Output(Output),
    ReportedFigure(ReportedFigure),
    Priority(Priority),
    Declaration(Declaration),
}

impl Record {
    /// Its kind.
    pub fn kind(&self) -> RecordKind {
        match self {
            Record::Source(_) => RecordKind::Source,
            Record::Plan(_) => RecordKind::Plan,
            Record::Organisation(_) => RecordKind::Organisation,
            Record::FundingSource(_) => RecordKind::FundingSource,
            Record::Budget(_) => RecordKind::Budget,
            Record::Contribution(_) => RecordKind::Contribution,
            Record::Cooperation(_) => RecordKind::Cooperation,
            Record::LegislativeAssistance(_) => RecordKind::LegislativeAssistance,
            Record::Profile(_) => RecordKind::Profile,
            Record::ContactPoint(_) => RecordKind::ContactPoint,
            Record::Study(_) => RecordKind::Study,
            Record::Objective(_) => RecordKind::Objective,
            Record::Output(_) => RecordKind::Output,
            Record::ReportedFigure(_) => RecordKind::ReportedFigure,
            Record::Priority(_) => RecordKind::Priority,
            Record::Declaration(_) => RecordKind::Declaration,
        }
    }

    /// Its id within its kind: the record's own id, a profile's country, a contact point's
    /// `country@as_at`, an output's number, `objective`.
    pub fn id(&self) -> String {
        match self {
            Record::Source(r) => r.id.clone(),
            Record::Plan(r) => r.id.clone(),
            Record::Organisation(r) => r.id.clone(),
            Record::FundingSource(r) => r.id.clone(),
            Record::Budget(r) => r.id.clone(),
            Record::Contribution(r) => r.id.clone(),
            Record::Cooperation(r) => r.id.clone(),
            Record::LegislativeAssistance(r) => r.id.clone(),
            Record::Profile(r) => r.country.to_string(),
            Record::ContactPoint(r) => format!("{}@{}", r.country, r.as_at),
            Record::Study(r) => r.id.clone(),
            Record::Objective(_) => "objective".to_owned(),
            Record::Output(r) => r.number.to_string(),
            Record::ReportedFigure(r) => r.id.clone(),
            Record::Priority(r) => r.id.clone(),
            Record::Declaration(r) => r.id.clone(),
        }
    }

    /// The record's body as stored (its dataset serde form, as JSON).
    pub(crate) fn body(&self) -> Result<String> {
        let value = match self {
            Record::Source(r) => serde_json::to_string(r),
            Record::Plan(r) => serde_json::to_string(r),
            Record::Organisation(r) => serde_json::to_string(r),
            Record::FundingSource(r) => serde_json::to_string(r),
            Record::Budget(r) => serde_json::to_string(r),
            Record::Contribution(r) => serde_json::to_string(r),
            Record::Cooperation(r) => serde_json::to_string(r),
            Record::LegislativeAssistance(r) => serde_json::to_string(r),
            Record::Profile(r) => serde_json::to_string(r),
            Record::ContactPoint(r) => serde_json::to_string(r),
            Record::Study(r) => serde_json::to_string(r),
            Record::Objective(r) => serde_json::to_string(r),
            Record::Output(r) => serde_json::to_string(r),
            Record::ReportedFigure(r) => serde_json::to_string(r),
            Record::Priority(r) => serde_json::to_string(r),
            Record::Declaration(r) => serde_json::to_string(r),
        };
        let body = value.map_err(|e| StorageError::Internal(format!("cannot encode a record: {e}")))?;
        // Nothing is written that would not read back as it was.
        match Record::from_body(self.kind(), &body) {
            Ok(back) if &back == self => Ok(body),
            _ => Err(StorageError::Internal(format!(
                "refused to write {}/{}: it would not read back as it is",
                self.kind().as_str(),
                self.id()
            ))),
        }
    }

    /// A record of `kind` from its stored body.
    pub(crate) fn from_body(kind: RecordKind, body: &str) -> Result<Record> {
        fn de<T: serde::de::DeserializeOwned>(body: &str) -> Result<T> {
            serde_json::from_str(body)
                .map_err(|e| StorageError::Internal(format!("cannot decode a stored record: {e}")))
        }
        Ok(match kind {
            RecordKind::Source => Record::Source(de(body)?),
            RecordKind::Plan => Record::Plan(de(body)?),
            RecordKind::Organisation => Record::Organisation(de(body)?),
            RecordKind::FundingSource => Record::FundingSource(de(body)?),
            RecordKind::Budget => Record::Budget(de(body)?),
            RecordKind::Contribution => Record::Contribution(de(body)?),
            RecordKind::Cooperation => Record::Cooperation(de(body)?),
            RecordKind::LegislativeAssistance => Record::LegislativeAssistance(de(body)?),
            RecordKind::Profile => Record::Profile(de(body)?),
            RecordKind::ContactPoint => Record::ContactPoint(de(body)?),
            RecordKind::Study => Record::Study(de(body)?),
            RecordKind::Objective => Record::Objective(de(body)?),
            RecordKind::Output => Record::Output(de(body)?),
            RecordKind::ReportedFigure => Record::ReportedFigure(de(body)?),
            RecordKind::Priority => Record::Priority(de(body)?),
            RecordKind::Declaration => Record::Declaration(de(body)?),
        })
    }
}

/// The records of a dataset, in the order an export writes them.
pub(crate) fn records_of(ds: &core_model::Dataset) -> Vec<Record> {
    let mut out = Vec::new();
    out.extend(ds.sources.iter().cloned().map(Record::Source));
    out.extend(ds.plans.iter().cloned().map(Record::Plan));
    out.extend(ds.organisations.iter().cloned().map(Record::Organisation));
    out.extend(ds.funding_sources.iter().cloned().map(Record::FundingSource));
    out.extend(ds.budget.iter().cloned().map(Record::Budget));
    out.extend(ds.contributions.iter().cloned().map(Record::Contribution));
    out.extend(ds.cooperation.iter().cloned().map(Record::Cooperation));
    out.extend(ds.legislative_assistance.iter().cloned().map(Record::LegislativeAssistance));
    out.extend(ds.profiles.iter().cloned().map(Record::Profile));
    out.extend(ds.contact_points.iter().cloned().map(Record::ContactPoint));
    out.extend(ds.studies.iter().cloned().map(Record::Study));
    out.push(Record::Objective(ds.objective.clone()));
    out.extend(ds.outputs.iter().cloned().map(Record::Output));
    out.extend(ds.reported_figures.iter().cloned().map(Record::ReportedFigure));
    out.extend(ds.priorities.iter().cloned().map(Record::Priority));
    out.extend(ds.declarations.iter().cloned().map(Record::Declaration));
    out
}

impl Record {
    /// Adds the record to the collection of its kind in `ds` (the objective replaces the dataset's): the
    /// inverse of listing the records of a dataset.
    pub fn add_to(self, ds: &mut core_model::Dataset) {
        let record = self;
        match record {
            Record::Source(r) => ds.sources.push(r),
            Record::Plan(r) => ds.plans.push(r),
            Record::Organisation(r) => ds.organisations.push(r),
            Record::FundingSource(r) => ds.funding_sources.push(r),
            Record::Budget(r) => ds.budget.push(r),
            Record::Contribution(r) => ds.contributions.push(r),
            Record::Cooperation(r) => ds.cooperation.push(r),
            Record::LegislativeAssistance(r) => ds.legislative_assistance.push(r),
            Record::Profile(r) => ds.profiles.push(r),
            Record::ContactPoint(r) => ds.contact_points.push(r),
            Record::Study(r) => ds.studies.push(r),
            Record::Objective(r) => ds.objective = r,
            Record::Output(r) => ds.outputs.push(r),
            Record::ReportedFigure(r) => ds.reported_figures.push(r),
            Record::Priority(r) => ds.priorities.push(r),
            Record::Declaration(r) => ds.declarations.push(r),
        }
    }
}
