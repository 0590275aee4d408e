//! Activities: the message of an activity and back, its id, and an update mask applied.

use core_model::{
    Activity, ActivityKind, ActivityStatus, OUTPUTS, Partner, PartnerRole, Place, Region, Vocabulary, names,
};

use super::{approx, approx_from, checked, citations, country_code, country_name, enum_from, name_id, source_from};
use crate::{
    error::{Result, ServiceError},
    pb::coe::cybercrime::v1 as pb,
};

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
        name: names::activity(&a.id),
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
            region: a.place.region.map(Region::api_name).unwrap_or_default(),
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
                organisation: names::organisation(&p.organisation),
                role: p.role.as_str().to_owned(),
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
    let id = name_id(field, name, names::ACTIVITIES)?;
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
            .then(|| enum_from(&f("place.region"), &place.region, &Region::api_names()))
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
            u8::try_from(*o).ok().filter(|o| OUTPUTS.contains(o)).ok_or_else(|| {
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
                    names::ORGANISATIONS,
                )?
                .to_owned(),
                role: enum_from(&format!("{field}.partners[{i}].role"), &p.role, &PartnerRole::names())?,
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
