//! The one conversion layer between the domain model and the protobuf contract. Domain types never see
//! protobuf; every conversion from a request names the field it rejects.

use chrono::{Datelike, NaiveDate};
use core_model::{
    ActionKind, Activity, ActivityKind, ActivityStatus, ApproxDate, CountryCode, DatePrecision, DerivedBound,
    DerivedKind, Partner, PartnerRole, Place, Region, SourceRef, StateStatus, StateStatusEntry, TreatyAction,
    TreatyNumber,
};
use serde::{Serialize, de::DeserializeOwned};

use crate::{
    error::{Result, ServiceError},
    pb::{coe::cybercrime::v1 as pb, google::r#type::Date},
};

/// The kebab-case name a domain enum serialises to (`completed`, `asia-pacific`).
pub(crate) fn serde_name<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// A domain enum from its name in a request: `ASIA_PACIFIC`, `asia-pacific`; `allowed` lists the names.
pub(crate) fn from_serde_name<T: DeserializeOwned>(field: &str, text: &str, allowed: &str) -> Result<T> {
    let name = text.trim().to_lowercase().replace('_', "-");
    serde_json::from_value(serde_json::Value::String(name))
        .map_err(|_| ServiceError::invalid(field, format!("`{text}` is not one of {allowed}")))
}

/// The names of the regions, for error messages.
pub(crate) const REGIONS: &str = "EUROPE, AFRICA, AMERICAS, ASIA_PACIFIC, ARAB_REGION";

/// `EUROPE` from a region.
pub(crate) fn region_name(r: Region) -> String {
    serde_name(&r).to_uppercase().replace('-', "_")
}

/// The id after `prefix/` in a resource name.
pub(crate) fn name_id<'a>(field: &str, name: &'a str, prefix: &str) -> Result<&'a str> {
    match name.strip_prefix(prefix).and_then(|rest| rest.strip_prefix('/')) {
        Some(id) if !id.is_empty() && !id.contains('/') => Ok(id),
        _ if name.is_empty() => Err(ServiceError::invalid(field, format!("required: a resource name `{prefix}/...`"))),
        _ => Err(ServiceError::invalid(field, format!("`{name}` is not a resource name `{prefix}/...`"))),
    }
}

/// `treaties/185` → 185.
pub(crate) fn treaty_number(field: &str, name: &str) -> Result<TreatyNumber> {
    let id = name_id(field, name, "treaties")?;
    id.parse::<u32>()
        .ok()
        .filter(|n| *n > 0 && !id.starts_with('0'))
        .map(TreatyNumber)
        .ok_or_else(|| ServiceError::invalid(field, format!("`{id}` is not a treaty number")))
}

/// `countries/PH` → PH.
pub(crate) fn country_code(field: &str, name: &str) -> Result<CountryCode> {
    let id = name_id(field, name, "countries")?;
    id.parse().map_err(|e: String| ServiceError::invalid(field, e))
}

/// `countries/PH`.
pub(crate) fn country_name(code: &CountryCode) -> String {
    format!("countries/{code}")
}

/// `treaties/185`.
pub(crate) fn treaty_name(n: TreatyNumber) -> String {
    format!("treaties/{n}")
}

/// A full calendar date from a request.
pub(crate) fn full_date(field: &str, date: &Date) -> Result<NaiveDate> {
    if !(1..=9999).contains(&date.year) {
        return Err(ServiceError::invalid(field, format!("year {} is out of range 1-9999", date.year)));
    }
    if !(1..=12).contains(&date.month) {
        return Err(ServiceError::invalid(field, format!("month {} is out of range 1-12", date.month)));
    }
    if date.day < 1 {
        return Err(ServiceError::invalid(field, format!("day {} is out of range: a full date is needed", date.day)));
    }
    NaiveDate::from_ymd_opt(date.year, date.month as u32, date.day as u32).ok_or_else(|| {
        ServiceError::invalid(field, format!("day {} does not exist in {:04}-{:02}", date.day, date.year, date.month))
    })
}

/// An optional full date; `None` when unset.
pub(crate) fn opt_full_date(field: &str, date: Option<&Date>) -> Result<Option<NaiveDate>> {
    date.map(|d| full_date(field, d)).transpose()
}

/// A day as a `google.type.Date`.
pub fn date(d: NaiveDate) -> Date {
    Date { year: d.year(), month: d.month() as i32, day: d.day() as i32 }
}

/// A date known to the day, month or year as a (partial) `google.type.Date`; `None` for bounds.
pub(crate) fn partial_date(d: &ApproxDate) -> Option<Date> {
    match *d {
        ApproxDate::Day(day) => Some(date(day)),
        ApproxDate::Month { year, month } => Some(Date { year, month: month as i32, day: 0 }),
        ApproxDate::Year(year) => Some(Date { year, month: 0, day: 0 }),
        ApproxDate::Between { .. } => None,
    }
}

/// An approximate date for a response.
pub(crate) fn approx(d: &ApproxDate) -> pb::ApproxDate {
    pb::ApproxDate {
        earliest: d.earliest().map(date),
        latest: d.latest().map(date),
        precision: match d.precision() {
            DatePrecision::Day => pb::DatePrecision::Day,
            DatePrecision::Month => pb::DatePrecision::Month,
            DatePrecision::Year => pb::DatePrecision::Year,
            DatePrecision::Bounded => pb::DatePrecision::Bounded,
        } as i32,
        text: d.to_string(),
    }
}

/// An approximate date from a request: its `text`, or else its `earliest` and `latest`.
pub(crate) fn approx_from(field: &str, d: &pb::ApproxDate) -> Result<ApproxDate> {
    if !d.text.is_empty() {
        return d
            .text
            .parse()
            .map_err(|e: core_model::DateParseError| ServiceError::invalid(format!("{field}.text"), e.reason));
    }
    let earliest = opt_full_date(&format!("{field}.earliest"), d.earliest.as_ref())?;
    let latest = opt_full_date(&format!("{field}.latest"), d.latest.as_ref())?;
    match (earliest, latest) {
        (None, None) => Err(ServiceError::invalid(field, "required: `text`, or `earliest` and/or `latest`")),
        (Some(e), Some(l)) if e > l => {
            Err(ServiceError::invalid(field, format!("the earliest day {e} is after the latest day {l}")))
        }
        (Some(e), Some(l)) if e == l => Ok(ApproxDate::Day(e)),
        (earliest, latest) => Ok(ApproxDate::Between { earliest, latest }),
    }
}

/// Citations for a response.
pub(crate) fn citations(s: &SourceRef) -> Vec<pb::Citation> {
    s.0.iter()
        .map(|c| pb::Citation { document: c.document.clone(), locator: c.locator.clone().unwrap_or_default() })
        .collect()
}

fn source_from(field: &str, c: &[pb::Citation]) -> Result<SourceRef> {
    if c.is_empty() {
        return Err(ServiceError::invalid(field, "required: at least one citation of the source"));
    }
    // The form of each citation is checked with the rest of the record (`limits`), against one set of rules.
    Ok(SourceRef(
        c.iter()
            .map(|c| core_model::Citation {
                document: c.document.trim().to_owned(),
                locator: (!c.locator.trim().is_empty()).then(|| c.locator.trim().to_owned()),
            })
            .collect(),
    ))
}

/// A record's own checks ([`core_model::limits`]) as a refusal naming the request's field: `field` is the
/// record's path in the request (`activity`), and the model's field names are those of the dataset, which differ
/// from the message's only for the citations (`source` there, `sources` here).
fn checked<T>(field: &str, value: T, check: impl FnOnce(&T) -> core_model::Result<()>) -> Result<T> {
    match check(&value) {
        Ok(()) => Ok(value),
        Err(core_model::ModelError::Field { field: inner, reason }) => {
            let inner = match inner.strip_prefix("source") {
                Some(rest) if rest.is_empty() || rest.starts_with('[') => format!("sources{rest}"),
                _ => inner,
            };
            Err(ServiceError::invalid(format!("{field}.{inner}"), reason))
        }
        Err(other) => Err(ServiceError::Storage(other.into())),
    }
}

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
    let kind = match pb::ActionKind::try_from(a.kind) {
        Ok(pb::ActionKind::Signature) => ActionKind::Signature,
        Ok(pb::ActionKind::Ratification) => ActionKind::Ratification,
        Ok(pb::ActionKind::AccessionRequest) => ActionKind::AccessionRequest,
        Ok(pb::ActionKind::Invitation) => ActionKind::Invitation,
        Ok(pb::ActionKind::Accession) => ActionKind::Accession,
        Ok(pb::ActionKind::Denunciation) => ActionKind::Denunciation,
        Ok(pb::ActionKind::Unspecified) | Err(_) => {
            return Err(ServiceError::invalid(
                format!("{field}.kind"),
                format!("required: a known action kind (got {})", a.kind),
            ));
        }
    };
    let date = a.date.as_ref().ok_or_else(|| ServiceError::invalid(format!("{field}.date"), "required"))?;
    let action = TreatyAction {
        state: country_code(&format!("{field}.country"), &a.country)?,
        treaty: treaty_number(&format!("{field}.treaty"), &a.treaty)?,
        kind,
        date: approx_from(&format!("{field}.date"), date)?,
        entry_into_force: opt_full_date(&format!("{field}.entry_into_force"), a.entry_into_force.as_ref())?,
        source: source_from(&format!("{field}.sources"), &a.sources)?,
        note: (!a.note.is_empty()).then(|| a.note.clone()),
    };
    checked(field, action, TreatyAction::check_limits)
}

fn activity_status(s: ActivityStatus) -> pb::ActivityStatus {
    match s {
        ActivityStatus::Pipeline => pb::ActivityStatus::Pipeline,
        ActivityStatus::Implementation => pb::ActivityStatus::Implementation,
        ActivityStatus::Completed => pb::ActivityStatus::Completed,
        ActivityStatus::Closed => pb::ActivityStatus::Closed,
        ActivityStatus::Cancelled => pb::ActivityStatus::Cancelled,
        ActivityStatus::Suspended => pb::ActivityStatus::Suspended,
    }
}

fn activity_kind(k: ActivityKind) -> pb::ActivityKind {
    match k {
        ActivityKind::Conference => pb::ActivityKind::Conference,
        ActivityKind::Workshop => pb::ActivityKind::Workshop,
        ActivityKind::Training => pb::ActivityKind::Training,
        ActivityKind::LegislativeAnalysis => pb::ActivityKind::LegislativeAnalysis,
        ActivityKind::Meeting => pb::ActivityKind::Meeting,
        ActivityKind::Study => pb::ActivityKind::Study,
        ActivityKind::Mission => pb::ActivityKind::Mission,
    }
}

/// An activity for a response.
pub(crate) fn activity(a: &Activity, etag: &str) -> pb::Activity {
    pb::Activity {
        name: format!("activities/{}", a.id),
        title: a.title.clone(),
        description: a.description.clone(),
        date_text: a.date_text.clone(),
        start: a.start.as_ref().map(approx),
        end: a.end.as_ref().map(approx),
        tentative: a.tentative,
        place: Some(pb::Place {
            text: a.place.text.clone(),
            city: a.place.city.clone().unwrap_or_default(),
            country: a.place.country.as_ref().map(country_name).unwrap_or_default(),
            region: a.place.region.map(region_name).unwrap_or_default(),
            tentative: a.place.tentative,
        }),
        countries: a.countries.iter().map(country_name).collect(),
        kind: activity_kind(a.kind) as i32,
        status: activity_status(a.status) as i32,
        outputs: a.outputs.iter().map(|o| i32::from(*o)).collect(),
        partners: a
            .partners
            .iter()
            .map(|p| pb::Partner {
                organisation: format!("organisations/{}", p.organisation),
                role: serde_name(&p.role),
            })
            .collect(),
        funding: a.funding.clone(),
        plan: a.plan.clone().unwrap_or_default(),
        sources: citations(&a.source),
        note: a.note.clone().unwrap_or_default(),
        etag: etag.to_owned(),
    }
}

/// Checks an activity id: lowercase letters, digits, `-` and `.`, 1 to 100 characters.
pub(crate) fn activity_id<'a>(field: &str, name: &'a str) -> Result<&'a str> {
    let id = name_id(field, name, "activities")?;
    if id.len() > 100 || !id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.') {
        return Err(ServiceError::invalid(
            field,
            format!("`{id}`: an activity id is 1-100 lowercase letters, digits, '-' and '.'"),
        ));
    }
    Ok(id)
}

/// An activity from a request.
pub(crate) fn activity_from(field: &str, a: &pb::Activity) -> Result<Activity> {
    let f = |name: &str| format!("{field}.{name}");
    let id = activity_id(&f("name"), &a.name)?.to_owned();
    if a.title.trim().is_empty() {
        return Err(ServiceError::invalid(f("title"), "required"));
    }
    let status = match pb::ActivityStatus::try_from(a.status) {
        Ok(pb::ActivityStatus::Pipeline) => ActivityStatus::Pipeline,
        Ok(pb::ActivityStatus::Implementation) => ActivityStatus::Implementation,
        Ok(pb::ActivityStatus::Completed) => ActivityStatus::Completed,
        Ok(pb::ActivityStatus::Closed) => ActivityStatus::Closed,
        Ok(pb::ActivityStatus::Cancelled) => ActivityStatus::Cancelled,
        Ok(pb::ActivityStatus::Suspended) => ActivityStatus::Suspended,
        Ok(pb::ActivityStatus::Unspecified) | Err(_) => {
            return Err(ServiceError::invalid(f("status"), format!("required: a known status (got {})", a.status)));
        }
    };
    let kind = match pb::ActivityKind::try_from(a.kind) {
        Ok(pb::ActivityKind::Conference) => ActivityKind::Conference,
        Ok(pb::ActivityKind::Workshop) => ActivityKind::Workshop,
        Ok(pb::ActivityKind::Training) => ActivityKind::Training,
        Ok(pb::ActivityKind::LegislativeAnalysis) => ActivityKind::LegislativeAnalysis,
        Ok(pb::ActivityKind::Meeting) => ActivityKind::Meeting,
        Ok(pb::ActivityKind::Study) => ActivityKind::Study,
        Ok(pb::ActivityKind::Mission) => ActivityKind::Mission,
        Ok(pb::ActivityKind::Unspecified) | Err(_) => {
            return Err(ServiceError::invalid(f("kind"), format!("required: a known kind (got {})", a.kind)));
        }
    };
    let place = a.place.clone().unwrap_or_default();
    let place = Place {
        text: place.text,
        city: (!place.city.is_empty()).then_some(place.city),
        country: (!place.country.is_empty()).then(|| country_code(&f("place.country"), &place.country)).transpose()?,
        region: (!place.region.is_empty())
            .then(|| from_serde_name(&f("place.region"), &place.region, REGIONS))
            .transpose()?,
        tentative: place.tentative,
    };
    let countries = a
        .countries
        .iter()
        .enumerate()
        .map(|(i, c)| country_code(&format!("{field}.countries[{i}]"), c))
        .collect::<Result<Vec<_>>>()?;
    let outputs = a
        .outputs
        .iter()
        .enumerate()
        .map(|(i, o)| {
            u8::try_from(*o).ok().filter(|o| (1..=3).contains(o)).ok_or_else(|| {
                ServiceError::invalid(format!("{field}.outputs[{i}]"), format!("output {o} does not exist: 1, 2 or 3"))
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let partners = a
        .partners
        .iter()
        .enumerate()
        .map(|(i, p)| {
            Ok(Partner {
                organisation: name_id(
                    &format!("{field}.partners[{i}].organisation"),
                    &p.organisation,
                    "organisations",
                )?
                .to_owned(),
                role: from_serde_name::<PartnerRole>(
                    &format!("{field}.partners[{i}].role"),
                    &p.role,
                    "organiser, co-organiser, funder, host, supporter, participant",
                )?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let activity = Activity {
        id,
        title: a.title.clone(),
        description: a.description.clone(),
        date_text: a.date_text.clone(),
        start: a.start.as_ref().map(|d| approx_from(&f("start"), d)).transpose()?,
        end: a.end.as_ref().map(|d| approx_from(&f("end"), d)).transpose()?,
        tentative: a.tentative,
        place,
        countries,
        kind,
        status,
        outputs,
        partners,
        funding: a.funding.clone(),
        plan: (!a.plan.is_empty()).then(|| a.plan.clone()),
        source: source_from(&f("sources"), &a.sources)?,
        note: (!a.note.is_empty()).then(|| a.note.clone()),
    };
    checked(field, activity, Activity::check_limits)
}

/// Copies the fields of `mask` (proto names) from `from` into `into`; an unknown path is an error.
pub(crate) fn apply_mask(into: &mut pb::Activity, from: &pb::Activity, mask: &[String]) -> Result<()> {
    for (i, path) in mask.iter().enumerate() {
        match path.as_str() {
            "title" => into.title = from.title.clone(),
            "description" => into.description = from.description.clone(),
            "date_text" => into.date_text = from.date_text.clone(),
            "start" => into.start = from.start.clone(),
            "end" => into.end = from.end.clone(),
            "tentative" => into.tentative = from.tentative,
            "place" => into.place = from.place.clone(),
            "countries" => into.countries = from.countries.clone(),
            "kind" => into.kind = from.kind,
            "status" => into.status = from.status,
            "outputs" => into.outputs = from.outputs.clone(),
            "partners" => into.partners = from.partners.clone(),
            "funding" => into.funding = from.funding.clone(),
            "plan" => into.plan = from.plan.clone(),
            "sources" => into.sources = from.sources.clone(),
            "note" => into.note = from.note.clone(),
            other => {
                return Err(ServiceError::invalid(
                    format!("update_mask.paths[{i}]"),
                    format!("`{other}` is not an updatable field of Activity"),
                ));
            }
        }
    }
    Ok(())
}

/// The unreadable records whose names start with `prefix`, for a response.
pub(crate) fn unreadable(all: &[storage::Unreadable], prefix: &str) -> Vec<pb::UnreadableRecord> {
    all.iter()
        .filter(|u| u.resource.starts_with(prefix))
        .map(|u| pb::UnreadableRecord { name: u.resource.clone(), reason: u.reason.clone() })
        .collect()
}

/// A priority for a response.
pub(crate) fn priority(p: &core_model::Priority) -> pb::Priority {
    pb::Priority {
        id: p.id.clone(),
        year: p.year,
        output: p.output.map_or(0, i32::from),
        region: p.region.map(region_name).unwrap_or_default(),
        text: p.text.clone(),
        countries: p.countries.iter().map(country_name).collect(),
        organisations: p.organisations.iter().map(|o| format!("organisations/{o}")).collect(),
        treaties: p.treaties.iter().copied().map(treaty_name).collect(),
        date: p.date.as_ref().map(approx),
        sources: citations(&p.source),
        note: p.note.clone().unwrap_or_default(),
    }
}

/// A reported figure for a response.
pub(crate) fn reported_figure(f: &core_model::ReportedFigure) -> pb::ReportedFigure {
    pb::ReportedFigure {
        id: f.id.clone(),
        measure: serde_name(&f.measure),
        treaty: f.treaty.map(treaty_name).unwrap_or_default(),
        year: f.year.unwrap_or(0),
        label: f.label.clone(),
        value: f.value,
        qualifier: serde_name(&f.qualifier),
        as_of: Some(approx(&f.as_of)),
        sources: citations(&f.source),
        note: f.note.clone().unwrap_or_default(),
    }
}

/// A page size from a request: 0 is the default, negative an error.
pub(crate) fn page_size(size: i32) -> Result<u32> {
    u32::try_from(size).map_err(|_| ServiceError::invalid("page_size", format!("{size} is negative")))
}
