//! Treaties, status tables, ratification timelines, treaty actions and reported figures.

use std::collections::HashMap;

use chrono::NaiveDate;
use core_model::{
    ActionKind, ApproxDate, CountryCode, Dataset, DerivedBound, DerivedKind, Measure, Reconciliation, ReportedFigure,
    StateStatus, StateStatusEntry, Treaty, TreatyAction, TreatyNumber, Vocabulary, YearCount, names,
};
use storage::{ActionCorrection, Snapshot};

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
        entry_into_force_rule: rule.describe(),
        eligibility: match t.eligibility {
            core_model::Eligibility::MembersAndParticipants => "members-and-participants".to_owned(),
            core_model::Eligibility::SignatoriesOf { treaty } => format!("signatories-of {}", treaty_name(treaty)),
            core_model::Eligibility::PartiesOf { treaty } => format!("parties-of {}", treaty_name(treaty)),
            core_model::Eligibility::AllStatesAndOrganisations => "all-states-and-organisations".to_owned(),
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

/// Treaty actions at their versions for a response, as [`treaty_actions`] gives them, each with its etag and
/// times.
pub(crate) fn versioned_actions(ds: &Dataset, actions: &[storage::Versioned<TreatyAction>]) -> Vec<pb::TreatyAction> {
    treaty_actions(ds, actions.iter().map(|v| &v.record))
        .into_iter()
        .zip(actions)
        .map(|(m, v)| with_version(m, &v.etag, v.create_time.as_deref(), v.update_time.as_deref()))
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

/// A treaty action for a response, with its name (its version is set by [`with_version`]).
pub(crate) fn treaty_action(a: &TreatyAction) -> pb::TreatyAction {
    pb::TreatyAction {
        name: names::treaty_action(a.treaty, &a.state, a.kind),
        etag: String::new(),
        create_time: None,
        update_time: None,
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

/// `m` with a version's etag and times (AIP-148, AIP-154).
pub(crate) fn with_version(
    mut m: pb::TreatyAction,
    etag: &str,
    create_time: Option<&str>,
    update_time: Option<&str>,
) -> pb::TreatyAction {
    m.etag = etag.to_owned();
    m.create_time = create_time.and_then(super::activity::timestamp);
    m.update_time = update_time.and_then(super::activity::timestamp);
    m
}

/// `m` with the version `snapshot` holds of `a`, if it holds one.
pub(crate) fn with_snapshot_version(m: pb::TreatyAction, a: &TreatyAction, snapshot: &Snapshot) -> pb::TreatyAction {
    match snapshot.action_version(a.treaty, &a.state, a.kind) {
        Some(v) => with_version(m, &v.etag, v.create_time.as_deref(), v.update_time.as_deref()),
        None => m,
    }
}

/// The treaty, state and kind a treaty action's name holds (`treaties/185/actions/AL-ratification`).
pub(crate) fn treaty_action_name(field: &str, name: &str) -> Result<(TreatyNumber, CountryCode, ActionKind)> {
    names::parse_treaty_action(name).ok_or_else(|| {
        ServiceError::invalid(
            field,
            format!(
                "`{name}` is not a treaty action's name: treaties/{{number}}/actions/{{STATE}}-{{kind}}, e.g. \
                 treaties/185/actions/AL-ratification, the kind one of {}",
                ActionKind::names()
            ),
        )
    })
}

/// The correction an UpdateTreatyAction request asks for, and the etag it is conditional on (AIP-134, AIP-154):
/// the action named by `treaty_action.name` (or its country, treaty and kind when the name is empty); the fields
/// of `update_mask` (empty: those set; `*`: all) taken from `treaty_action`.
pub(crate) fn action_correction(r: &pb::UpdateTreatyActionRequest) -> Result<(ActionCorrection, Option<String>)> {
    let a = r.treaty_action.as_ref().ok_or_else(|| ServiceError::invalid("treaty_action", "required"))?;
    let kind_of = |k: i32| match pb::ActionKind::try_from(k) {
        Ok(pb::ActionKind::Signature) => Some(ActionKind::Signature),
        Ok(pb::ActionKind::Ratification) => Some(ActionKind::Ratification),
        Ok(pb::ActionKind::AccessionRequest) => Some(ActionKind::AccessionRequest),
        Ok(pb::ActionKind::Invitation) => Some(ActionKind::Invitation),
        Ok(pb::ActionKind::Accession) => Some(ActionKind::Accession),
        Ok(pb::ActionKind::Denunciation) => Some(ActionKind::Denunciation),
        Ok(pb::ActionKind::Unspecified) | Err(_) => None,
    };
    let (treaty, state, kind) = if a.name.is_empty() {
        let kind = kind_of(a.kind).ok_or_else(|| {
            ServiceError::invalid("treaty_action.name", "required (or treaty_action.country, treaty and kind)")
        })?;
        (treaty_number("treaty_action.treaty", &a.treaty)?, country_code("treaty_action.country", &a.country)?, kind)
    } else {
        let (treaty, state, kind) = treaty_action_name("treaty_action.name", &a.name)?;
        // The name decides; the fields that repeat it may be left unset, not changed.
        if !a.country.is_empty() && a.country != country_name(&state) {
            return Err(ServiceError::invalid(
                "treaty_action.country",
                format!("cannot be updated: `{}` is not the country of `{}`", a.country, a.name),
            ));
        }
        if !a.treaty.is_empty() && a.treaty != treaty_name(treaty) {
            return Err(ServiceError::invalid(
                "treaty_action.treaty",
                format!("cannot be updated: `{}` is not the treaty of `{}`", a.treaty, a.name),
            ));
        }
        if a.kind != 0 && kind_of(a.kind) != Some(kind) {
            return Err(ServiceError::invalid(
                "treaty_action.kind",
                format!(
                    "cannot be updated: {} is not the kind of `{}` (a different kind is a withdrawal and a new record)",
                    a.kind, a.name
                ),
            ));
        }
        (treaty, state, kind)
    };
    const FIELDS: [&str; 4] = ["date", "entry_into_force", "sources", "note"];
    let paths: Vec<&str> = match r.update_mask.as_ref().map(|m| m.paths.as_slice()).unwrap_or_default() {
        [] => FIELDS
            .into_iter()
            .filter(|f| match *f {
                "date" => a.date.is_some(),
                "entry_into_force" => a.entry_into_force.is_some(),
                "sources" => !a.sources.is_empty(),
                _ => !a.note.is_empty(),
            })
            .collect(),
        [all] if all == "*" => FIELDS.to_vec(),
        paths => {
            let mut wanted = Vec::with_capacity(paths.len());
            for (i, path) in paths.iter().enumerate() {
                match path.as_str() {
                    p @ ("date" | "entry_into_force" | "sources" | "note") => wanted.push(p),
                    // Checked against the name above, or output only.
                    "name" | "country" | "treaty" | "kind" | "etag" | "create_time" | "update_time" | "derived" => {}
                    other => {
                        return Err(ServiceError::invalid(
                            format!("update_mask.paths[{i}]"),
                            format!(
                                "`{other}` is not an updatable field of TreatyAction (date, entry_into_force, sources, \
                                 note, or * for all four)"
                            ),
                        ));
                    }
                }
            }
            wanted
        }
    };
    let mut correction =
        ActionCorrection { treaty, state, kind, date: None, entry_into_force: None, source: None, note: None };
    for path in paths {
        match path {
            "date" => {
                let d = a.date.as_ref().ok_or_else(|| ServiceError::invalid("treaty_action.date", "required"))?;
                correction.date = Some(approx_from("treaty_action.date", d)?);
            }
            "entry_into_force" => {
                correction.entry_into_force =
                    Some(opt_full_date("treaty_action.entry_into_force", a.entry_into_force.as_ref())?);
            }
            "sources" => correction.source = Some(source_from("treaty_action.sources", &a.sources)?),
            _ => {
                let note = (!a.note.is_empty()).then(|| a.note.clone());
                if let Some(n) = &note
                    && let Err(e) = core_model::limits::check_lines("note", n, core_model::limits::NOTE)
                {
                    return Err(ServiceError::InvalidArgument(model_violations("treaty_action", &e)));
                }
                correction.note = Some(note);
            }
        }
    }
    let etag = match (r.etag.as_str(), a.etag.as_str()) {
        ("", "") => None,
        (e, "") | ("", e) => Some(e.to_owned()),
        (e, on) if e == on => Some(e.to_owned()),
        (e, on) => {
            return Err(ServiceError::invalid(
                "etag",
                format!("`{e}` differs from treaty_action.etag `{on}`: send one, or the same in both"),
            ));
        }
    };
    Ok((correction, etag))
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
        measure_enum: super::typed(f.measure, "REPORTED_MEASURE_", pb::ReportedMeasure::from_str_name),
        qualifier_enum: super::typed(f.qualifier, "FIGURE_QUALIFIER_", pb::FigureQualifier::from_str_name),
        as_of: Some(approx(&f.as_of)),
        sources: citations(&f.source),
        note: f.note.clone().unwrap_or_default(),
    }
}

/// Whether a GetTreatyStatus request's `view` (request field `field`) asks for the compact table:
/// UNSPECIFIED and FULL give the full table, COMPACT the compact one; another number is refused.
pub(crate) fn compact_view(field: &str, view: i32) -> Result<bool> {
    match pb::TreatyStatusView::try_from(view) {
        Ok(pb::TreatyStatusView::Unspecified | pb::TreatyStatusView::Full) => Ok(false),
        Ok(pb::TreatyStatusView::Compact) => Ok(true),
        Err(_) => Err(ServiceError::invalid(
            field,
            format!(
                "{view} is not a view; the views are TREATY_STATUS_VIEW_FULL (1, the default) and \
                 TREATY_STATUS_VIEW_COMPACT (2)"
            ),
        )),
    }
}

/// The compact view of a status table (TREATY_STATUS_VIEW_COMPACT): every date once, as its text (see the
/// enum's comment in treaty.proto for exactly what is left out).
pub(crate) fn compact(status: &mut pb::TreatyStatus) {
    let text_only = |d: &mut Option<pb::ApproxDate>| {
        if let Some(d) = d {
            d.earliest = None;
            d.latest = None;
            d.precision = 0;
        }
    };
    for entry in status.groups.iter_mut().flat_map(|g| g.states.iter_mut()) {
        entry.signed = None;
        entry.consented = None;
        entry.entry_into_force = None;
        text_only(&mut entry.signed_range);
        text_only(&mut entry.consented_range);
        text_only(&mut entry.entry_into_force_range);
        if let Some(derived) = &mut entry.consented_derived {
            text_only(&mut derived.date);
        }
    }
}
