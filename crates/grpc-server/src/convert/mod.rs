//! The one conversion layer between the domain model and the protobuf contract: every message the services send
//! is built here, and every request is turned into domain types here. Domain types never see protobuf; every
//! conversion from a request names the field it rejects.
//!
//! This module holds what every service uses (resource names, dates, citations, pages, enum names); each
//! service's messages are in their own module: [`treaty`] (treaties, status tables, timelines, treaty actions,
//! reported figures), [`activity`] (activities, the plan, update masks), [`country`] (a country's page),
//! [`programme`] (the programme, studies, organisations, money), [`report`] (report formats), [`changes`] (the
//! change feed's events) and [`declaration`] (reservations, declarations and designated authorities).

pub mod activity;
pub mod changes;
pub mod country;
pub mod declaration;
pub mod programme;
pub mod report;
pub mod treaty;

use chrono::{Datelike, NaiveDate};
use core_model::{ApproxDate, CountryCode, DatePrecision, SourceRef, TreatyNumber, Vocabulary, names};

use crate::{
    error::{Result, ServiceError, Violation},
    pb::{coe::cybercrime::v1 as pb, google::r#type::Date},
};

/// A domain enum from its name in a request, either spelling (`ASIA_PACIFIC`, `asia-pacific`); `allowed` lists
/// the names for the error.
/// The contract's enum value for a vocabulary value: the one named `{prefix}{api_name}`
/// (`PARTNER_ROLE_` + `CO_ORGANISER`), through prost's `from_str_name`; 0 (`_UNSPECIFIED`) if the contract has no
/// such value, which the test below rules out for every value of every vocabulary typed this way.
pub(crate) fn typed<T: Vocabulary, E: Into<i32>>(value: T, prefix: &str, from_str_name: fn(&str) -> Option<E>) -> i32 {
    from_str_name(&format!("{prefix}{}", value.api_name())).map_or(0, Into::into)
}

/// A vocabulary value from its typed form ([`typed`]): `None` for 0 (`_UNSPECIFIED`), an error naming `field` for a
/// number that is no value of the contract's enum.
pub(crate) fn untyped<T: Vocabulary, E: Into<i32>>(
    field: &str,
    number: i32,
    prefix: &str,
    from_str_name: fn(&str) -> Option<E>,
) -> Result<Option<T>> {
    if number == 0 {
        return Ok(None);
    }
    T::ALL.iter().copied().find(|v| typed(*v, prefix, from_str_name) == number).map(Some).ok_or_else(|| {
        ServiceError::invalid(field, format!("{number} is not a value of {}", prefix.trim_end_matches('_')))
    })
}

/// A region from its typed form; `None` for `REGION_UNSPECIFIED`, an error naming `field` for a number no value has.
pub(crate) fn region_from(field: &str, value: i32) -> Result<Option<core_model::Region>> {
    use core_model::Region as R;
    match pb::Region::try_from(value) {
        Ok(pb::Region::Unspecified) => Ok(None),
        Ok(pb::Region::Europe) => Ok(Some(R::Europe)),
        Ok(pb::Region::Africa) => Ok(Some(R::Africa)),
        Ok(pb::Region::Americas) => Ok(Some(R::Americas)),
        Ok(pb::Region::AsiaPacific) => Ok(Some(R::AsiaPacific)),
        Ok(pb::Region::ArabRegion) => Ok(Some(R::ArabRegion)),
        Err(_) => Err(ServiceError::invalid(field, format!("{value} is not a Region value"))),
    }
}

pub(crate) fn enum_from<T: Vocabulary>(field: &str, text: &str, allowed: &str) -> Result<T> {
    T::from_name(text.trim()).ok_or_else(|| ServiceError::invalid(field, format!("`{text}` is not one of {allowed}")))
}

/// The id after `prefix/` in a resource name; a bare id where the name is expected is refused with the name to
/// write (`PH`: write "countries/PH").
pub(crate) fn name_id<'a>(field: &str, name: &'a str, prefix: &str) -> Result<&'a str> {
    match names::strip(prefix, name) {
        Some(id) if !id.is_empty() && !id.contains('/') => Ok(id),
        _ if name.is_empty() => Err(ServiceError::invalid(field, format!("required: a resource name `{prefix}/...`"))),
        // A bare id (`PH`, `185`) where a name is expected: say how to write it.
        _ if !name.contains('/') && !name.contains(char::is_whitespace) && !name.contains(char::is_control) => {
            Err(ServiceError::invalid(
                field,
                format!("`{name}` is not a resource name `{prefix}/...`: write \"{prefix}/{name}\""),
            ))
        }
        _ => Err(ServiceError::invalid(field, format!("`{name}` is not a resource name `{prefix}/...`"))),
    }
}

/// `treaties/185` → 185.
pub(crate) fn treaty_number(field: &str, name: &str) -> Result<TreatyNumber> {
    let id = name_id(field, name, names::TREATIES)?;
    id.parse::<u32>()
        .ok()
        .filter(|n| *n > 0 && !id.starts_with('0'))
        .map(TreatyNumber)
        .ok_or_else(|| ServiceError::invalid(field, format!("`{id}` is not a treaty number")))
}

/// `countries/PH` → PH.
pub(crate) fn country_code(field: &str, name: &str) -> Result<CountryCode> {
    let id = name_id(field, name, names::COUNTRIES)?;
    id.parse().map_err(|e: String| ServiceError::invalid(field, e))
}

/// `countries/PH`.
pub(crate) fn country_name(code: &CountryCode) -> String {
    names::country(code)
}

/// `treaties/185`.
pub(crate) fn treaty_name(n: TreatyNumber) -> String {
    names::treaty(n)
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

pub(crate) fn source_from(field: &str, c: &[pb::Citation]) -> Result<SourceRef> {
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

/// The violations of a record's own fields a model error names ([`core_model::limits`]), as paths of the request
/// under `field` (`activity`): the model's field names are those of the dataset, which differ from the message's
/// only for the citations (`source` there, `sources` here).
pub(crate) fn model_violations(field: &str, e: &core_model::ModelError) -> Vec<Violation> {
    e.violations()
        .into_iter()
        .map(|(inner, description)| {
            let inner = match inner.strip_prefix("source") {
                Some(rest) if rest.is_empty() || rest.starts_with('[') => format!("sources{rest}"),
                _ => inner,
            };
            Violation { field: format!("{field}.{inner}"), description }
        })
        .collect()
}

/// The bad fields of one request, gathered: each conversion's refusal is kept, and the request is refused once
/// with every one of them ([`Violations::finish`]), not at the first.
#[derive(Debug, Default)]
pub(crate) struct Violations {
    found: Vec<Violation>,
    /// A refusal that is not about a field (kept, the first one, for when no field is bad).
    other: Option<ServiceError>,
}

impl Violations {
    /// The value, or `None` after keeping its refusal.
    pub(crate) fn take<T>(&mut self, result: Result<T>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(ServiceError::InvalidArgument(v)) => {
                self.found.extend(v);
                None
            }
            Err(other) => {
                self.other.get_or_insert(other);
                None
            }
        }
    }

    /// Keeps a refusal of `field`.
    pub(crate) fn push(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.found.push(Violation { field: field.into(), description: description.into() });
    }

    /// The fields refused so far.
    pub(crate) fn fields(&self) -> impl Iterator<Item = &str> {
        self.found.iter().map(|v| v.field.as_str())
    }

    /// `Ok` when nothing was refused, else every bad field in one refusal (or the other refusal when no field
    /// is bad).
    pub(crate) fn finish(self) -> Result<()> {
        match (self.found.is_empty(), self.other) {
            (true, None) => Ok(()),
            (true, Some(other)) => Err(other),
            (false, _) => Err(ServiceError::InvalidArgument(self.found)),
        }
    }
}

/// The unreadable records whose row `wanted` picks (by its kind: an activity, a treaty action...), for a response.
pub(crate) fn unreadable(
    all: &[storage::Unreadable],
    wanted: impl Fn(&storage::Resource) -> bool,
) -> Vec<pb::UnreadableRecord> {
    all.iter()
        .filter(|u| wanted(u.row()))
        .map(|u| pb::UnreadableRecord { name: u.resource.clone(), reason: u.reason.clone() })
        .collect()
}

/// An unreadable record with what it stores, for an admin's response.
pub(crate) fn stored_unreadable(u: storage::Unreadable) -> pb::StoredUnreadableRecord {
    pb::StoredUnreadableRecord {
        record: Some(pb::UnreadableRecord { name: u.resource, reason: u.reason }),
        stored: u.body,
    }
}

/// A page size from a request: 0 is the default, negative an error.
pub(crate) fn page_size(size: i32) -> Result<u32> {
    u32::try_from(size).map_err(|_| ServiceError::invalid("page_size", format!("{size} is negative")))
}

#[cfg(test)]
mod typed_tests {
    use core_model::{
        AssistanceMethod, ContactPointStatus, DeclarationKind, Measure, OrganisationKind, PartnerRole, Qualifier,
        Region, Standing, StepStatus, Vocabulary,
    };

    use super::{pb, typed, untyped};

    /// Every value of `T` has its enum value, and reads back from it.
    fn all_typed<T: Vocabulary + std::fmt::Debug, E: Into<i32>>(prefix: &str, from: fn(&str) -> Option<E>) {
        for v in T::ALL.iter().copied() {
            let n = typed(v, prefix, from);
            assert_ne!(n, 0, "{v:?} has no {prefix} value");
            assert_eq!(untyped::<T, E>("f", n, prefix, from).unwrap(), Some(v));
        }
        assert_eq!(untyped::<T, E>("f", 0, prefix, from).unwrap(), None);
        let err = untyped::<T, E>("f", 99, prefix, from).unwrap_err();
        assert!(format!("{err:?}").contains("99 is not a value of"), "{err:?}");
    }

    #[test]
    fn every_vocabulary_value_has_its_enum_value() {
        all_typed::<Region, _>("REGION_", pb::Region::from_str_name);
        all_typed::<AssistanceMethod, _>("ASSISTANCE_METHOD_", pb::AssistanceMethod::from_str_name);
        all_typed::<StepStatus, _>("ASSISTANCE_STEP_STATUS_", pb::AssistanceStepStatus::from_str_name);
        all_typed::<ContactPointStatus, _>("CONTACT_POINT_STATUS_", pb::ContactPointStatus::from_str_name);
        all_typed::<PartnerRole, _>("PARTNER_ROLE_", pb::PartnerRole::from_str_name);
        all_typed::<OrganisationKind, _>("ORGANISATION_KIND_", pb::OrganisationKind::from_str_name);
        all_typed::<Measure, _>("REPORTED_MEASURE_", pb::ReportedMeasure::from_str_name);
        all_typed::<Qualifier, _>("FIGURE_QUALIFIER_", pb::FigureQualifier::from_str_name);
        all_typed::<DeclarationKind, _>("DECLARATION_KIND_", pb::DeclarationKind::from_str_name);
        all_typed::<Standing, _>("DECLARATION_STANDING_", pb::DeclarationStanding::from_str_name);
        all_typed::<core_model::CountryKind, _>("COUNTRY_KIND_", pb::CountryKind::from_str_name);
    }
}
