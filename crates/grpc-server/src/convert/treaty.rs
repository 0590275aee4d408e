//! Treaties, status tables, ratification timelines, treaty actions and reported figures.

use std::collections::HashMap;

use chrono::NaiveDate;
use core_model::{
    ActionKind, ApproxDate, Dataset, DerivedBound, DerivedKind, Measure, Reconciliation, ReportedFigure, StateStatus,
    StateStatusEntry, Treaty, TreatyAction, TreatyNumber, YearCount,
};

use super::{
    Violations, approx, approx_from, citations, country_code, country_name, date, model_violations, opt_full_date,
    partial_date, source_from, treaty_name, treaty_number,
};
use crate::{
    error::{Result, ServiceError},
    pb::coe::cybercrime::v1 as pb,
};

/// A treaty for a response; `computed_entry_into_force` is what the rules compute from the actions.
pub(crate) fn treaty(t: &Treaty, computed_entry_into_force: Option<ApproxDate>) -> pb::Treaty {
    let rule = &t.entry_into_force_rule;
    pb::Treaty {
        name: treaty_name(t.number),
        display_name: t.label(),
        title: t.title.clone(),
        short_title: t.short_title.clone(),
        opened: Some(approx(&t.opened)),
        opened_at: t.opened_at.clone().unwrap_or_default(),
        entry_into_force: t.entry_into_force.map(date),
        computed_entry_into_force: computed_entry_into_force.as_ref().map(approx),
        entry_into_force_rule: format!(
            "{}: {} consents, at least {} by member States, then {} months",
            rule.article, rule.consents, rule.member_states, rule.months
        ),
        eligibility: match t.eligibility {
            core_model::Eligibility::MembersAndParticipants => "members-and-participants".to_owned(),
            core_model::Eligibility::SignatoriesOf { treaty } => format!("signatories-of {}", treaty_name(treaty)),
        },
        requires_consent_to: t.requires_consent_to.map(treaty_name).unwrap_or_default(),
        sources: citations(&t.source),
        note: t.note.clone().unwrap_or_default(),
        coverage: t.coverage.as_ref().map(coverage),
    }
}

/// A treaty's status table at `as_of` for a response, with the figures reported by then.
pub(crate) fn treaty_status<'a>(
    number: TreatyNumber,
    as_of: NaiveDate,
    status: &core_model::TreatyStatus,
    reported: impl Iterator<Item = &'a ReportedFigure>,
) -> pb::TreatyStatus {
    pb::TreatyStatus {
        name: treaty_name(number),
        as_of: Some(date(as_of)),
        groups: status
            .groups
            .iter()
            .map(|g| pb::StatusGroup {
                status: state_status(g.status) as i32,
                count: g.states.len() as i32,
                states: g.states.iter().map(status_entry).collect(),
                certain_count: g.certain() as i32,
                uncertain_count: g.uncertain() as i32,
            })
            .collect(),
        reported_figures: reported.map(reported_figure).collect(),
        complete_through: status.complete_through.map(date),
        past_record: status.past_record,
        record_note: status.record_note.clone().unwrap_or_default(),
    }
}

/// A treaty's consents per year for a response: the computed counts, the figures `reported` for a measure and a
/// year, how the counts agree with the reported series, and the date through which the record is complete.
pub(crate) fn ratification_timeline(
    number: TreatyNumber,
    complete_through: Option<NaiveDate>,
    counts: &[YearCount],
    reported: impl Fn(Measure, i32) -> Option<i64>,
    reconciliation: &Reconciliation,
) -> pb::RatificationTimeline {
    pb::RatificationTimeline {
        name: treaty_name(number),
        years: counts
            .iter()
            .map(|y| pb::YearCount {
                year: y.year,
                added: y.added_min as i32,
                total: y.total_min as i32,
                added_max: y.added_max as i32,
                total_max: y.total_max as i32,
                reported_added: reported(Measure::ConsentsInYear, y.year).map(|v| v as i32),
                reported_total: reported(Measure::ConsentsTotal, y.year).map(|v| v as i32),
                past_record: y.past_record,
            })
            .collect(),
        consistent_with_reported: reconciliation.consistent,
        undated_consents: reconciliation.undated.iter().map(country_name).collect(),
        complete_through: complete_through.map(date),
    }
}

/// The status of a state for a response.
pub(crate) fn state_status(s: StateStatus) -> pb::StateStatus {
    match s {
        StateStatus::Party => pb::StateStatus::Party,
        StateStatus::Signatory => pb::StateStatus::Signatory,
        StateStatus::NotSigned => pb::StateStatus::NotSigned,
        StateStatus::InvitedToAccede => pb::StateStatus::InvitedToAccede,
        StateStatus::AccessionRequested => pb::StateStatus::AccessionRequested,
    }
}

/// A status line for a response.
pub(crate) fn status_entry(e: &StateStatusEntry) -> pb::StateStatusEntry {
    pb::StateStatusEntry {
        country: country_name(&e.state),
        display_name: e.name.clone(),
        signed: e.signed.as_ref().and_then(partial_date),
        consented: e.consented.as_ref().and_then(partial_date),
        entry_into_force: e.entry_into_force.as_ref().and_then(partial_date),
        uncertain: e.uncertain,
        signed_range: e.signed.as_ref().map(approx),
        consented_range: e.consented.as_ref().map(approx),
        entry_into_force_range: e.entry_into_force.as_ref().map(approx),
        possibly: e.possibly.map_or(pb::StateStatus::Unspecified, state_status) as i32,
        reason: e.reason.clone().unwrap_or_default(),
        consented_derived: e.consent_derived.as_ref().map(derived_bound),
    }
}

/// A derived bound of a consent's date for a response.
pub(crate) fn derived_bound(d: &DerivedBound) -> pb::DerivedBound {
    pb::DerivedBound {
        date: Some(approx(&d.date)),
        kind: match d.kind {
            DerivedKind::EntryIntoForce => pb::DerivedBoundKind::EntryIntoForce,
            DerivedKind::ReportedSeries => pb::DerivedBoundKind::ReportedSeries,
        } as i32,
        note: d.note.clone(),
    }
}

/// How far a treaty's record is complete, for a response.
pub(crate) fn coverage(c: &core_model::Coverage) -> pb::Coverage {
    pb::Coverage {
        complete_through: Some(date(c.complete_through)),
        sources: citations(&c.source),
        note: c.note.clone().unwrap_or_default(),
        kinds: c.kinds.iter().map(|k| action_kind(*k) as i32).collect(),
    }
}

/// A treaty action for a response, with the derived bound of its date when it has one.
pub(crate) fn treaty_action_derived(a: &TreatyAction, derived: Option<&DerivedBound>) -> pb::TreatyAction {
    pb::TreatyAction { derived: derived.map(derived_bound), ..treaty_action(a) }
}

/// Treaty actions for a response, each state's first consent with the bound of its date that `ds` derives
/// ([`Dataset::derived_bounds`]), if any.
pub(crate) fn treaty_actions<'a>(
    ds: &Dataset,
    actions: impl IntoIterator<Item = &'a TreatyAction>,
) -> Vec<pb::TreatyAction> {
    let mut derived: HashMap<TreatyNumber, _> = HashMap::new();
    actions
        .into_iter()
        .map(|a| {
            let bounds = derived.entry(a.treaty).or_insert_with(|| ds.derived_bounds(a.treaty).unwrap_or_default());
            let first = a.kind.is_consent()
                && ds.treaty_actions.iter().find(|o| o.treaty == a.treaty && o.state == a.state && o.kind.is_consent())
                    == Some(a);
            treaty_action_derived(a, bounds.get(&a.state).filter(|_| first))
        })
        .collect()
}

fn action_kind(k: ActionKind) -> pb::ActionKind {
    match k {
        ActionKind::Signature => pb::ActionKind::Signature,
        ActionKind::Ratification => pb::ActionKind::Ratification,
        ActionKind::AccessionRequest => pb::ActionKind::AccessionRequest,
        ActionKind::Invitation => pb::ActionKind::Invitation,
        ActionKind::Accession => pb::ActionKind::Accession,
        ActionKind::Denunciation => pb::ActionKind::Denunciation,
    }
}

/// A treaty action for a response.
pub(crate) fn treaty_action(a: &TreatyAction) -> pb::TreatyAction {
    pb::TreatyAction {
        country: country_name(&a.state),
        treaty: treaty_name(a.treaty),
        kind: action_kind(a.kind) as i32,
        date: Some(approx(&a.date)),
        entry_into_force: a.entry_into_force.map(date),
        sources: citations(&a.source),
        note: a.note.clone().unwrap_or_default(),
        derived: None,
    }
}

/// A treaty action from a request.
pub(crate) fn treaty_action_from(field: &str, a: &pb::TreatyAction) -> Result<TreatyAction> {
    let f = |name: &str| format!("{field}.{name}");
    let mut v = Violations::default();
    let kind = match pb::ActionKind::try_from(a.kind) {
        Ok(pb::ActionKind::Signature) => Some(ActionKind::Signature),
        Ok(pb::ActionKind::Ratification) => Some(ActionKind::Ratification),
        Ok(pb::ActionKind::AccessionRequest) => Some(ActionKind::AccessionRequest),
        Ok(pb::ActionKind::Invitation) => Some(ActionKind::Invitation),
        Ok(pb::ActionKind::Accession) => Some(ActionKind::Accession),
        Ok(pb::ActionKind::Denunciation) => Some(ActionKind::Denunciation),
        Ok(pb::ActionKind::Unspecified) | Err(_) => {
            v.push(f("kind"), format!("required: a known action kind (got {})", a.kind));
            None
        }
    };
    let state = v.take(country_code(&f("country"), &a.country));
    let treaty = v.take(treaty_number(&f("treaty"), &a.treaty));
    let date = match &a.date {
        None => {
            v.push(f("date"), "required");
            None
        }
        Some(d) => v.take(approx_from(&f("date"), d)),
    };
    let entry_into_force = v.take(opt_full_date(&f("entry_into_force"), a.entry_into_force.as_ref()));
    let source = v.take(source_from(&f("sources"), &a.sources));
    let note = (!a.note.is_empty()).then(|| a.note.clone());
    // The limits of TreatyAction::check_limits, on what could be read, each problem its own violation.
    let mut problems = source.as_ref().map(|s| s.problems("source")).unwrap_or_default();
    if let Some(note) = &note {
        problems.extend(core_model::limits::check_lines("note", note, core_model::limits::NOTE).err());
    }
    for problem in &problems {
        for violation in model_violations(field, problem) {
            v.push(violation.field, violation.description);
        }
    }
    v.finish()?;
    match (kind, state, treaty, date, entry_into_force, source) {
        (Some(kind), Some(state), Some(treaty), Some(date), Some(entry_into_force), Some(source)) => {
            Ok(TreatyAction { state, treaty, kind, date, entry_into_force, source, note })
        }
        _ => Err(ServiceError::invalid(field, "incomplete")),
    }
}

/// A reported figure for a response.
pub(crate) fn reported_figure(f: &ReportedFigure) -> pb::ReportedFigure {
    pb::ReportedFigure {
        id: f.id.clone(),
        measure: f.measure.as_str().to_owned(),
        treaty: f.treaty.map(treaty_name).unwrap_or_default(),
        year: f.year.unwrap_or(0),
        label: f.label.clone(),
        value: f.value,
        qualifier: f.qualifier.as_str().to_owned(),
        as_of: Some(approx(&f.as_of)),
        sources: citations(&f.source),
        note: f.note.clone().unwrap_or_default(),
    }
}
