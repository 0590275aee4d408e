//! Activities: the message of an activity and back, its id, and an update mask applied.

use core_model::{
    Activity, ActivityKind, ActivityStatus, OUTPUTS, Partner, PartnerRole, Place, Region, Vocabulary, names,
};

use super::{
    Violations, approx, approx_from, citations, country_code, country_name, enum_from, model_violations, name_id,
    source_from,
};
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

/// An activity from a request, refused with every bad field at once (each conversion's, then the limits' of
/// [`Activity::check_limits`] on what could be read), not only the first.
pub(crate) fn activity_from(field: &str, a: &pb::Activity) -> Result<Activity> {
    let f = |name: &str| format!("{field}.{name}");
    let mut v = Violations::default();
    let id = v.take(activity_id(&f("name"), &a.name).map(str::to_owned));
    if a.title.trim().is_empty() {
        v.push(f("title"), "required");
    }
    let status = match pb::ActivityStatus::try_from(a.status) {
        Ok(pb::ActivityStatus::Pipeline) => Some(ActivityStatus::Pipeline),
        Ok(pb::ActivityStatus::Implementation) => Some(ActivityStatus::Implementation),
        Ok(pb::ActivityStatus::Completed) => Some(ActivityStatus::Completed),
        Ok(pb::ActivityStatus::Closed) => Some(ActivityStatus::Closed),
        Ok(pb::ActivityStatus::Cancelled) => Some(ActivityStatus::Cancelled),
        Ok(pb::ActivityStatus::Suspended) => Some(ActivityStatus::Suspended),
        Ok(pb::ActivityStatus::Unspecified) | Err(_) => {
            v.push(f("status"), format!("required: a known status (got {})", a.status));
            None
        }
    };
    let kind = match pb::ActivityKind::try_from(a.kind) {
        Ok(pb::ActivityKind::Conference) => Some(ActivityKind::Conference),
        Ok(pb::ActivityKind::Workshop) => Some(ActivityKind::Workshop),
        Ok(pb::ActivityKind::Training) => Some(ActivityKind::Training),
        Ok(pb::ActivityKind::LegislativeAnalysis) => Some(ActivityKind::LegislativeAnalysis),
        Ok(pb::ActivityKind::Meeting) => Some(ActivityKind::Meeting),
        Ok(pb::ActivityKind::Study) => Some(ActivityKind::Study),
        Ok(pb::ActivityKind::Mission) => Some(ActivityKind::Mission),
        Ok(pb::ActivityKind::Unspecified) | Err(_) => {
            v.push(f("kind"), format!("required: a known kind (got {})", a.kind));
            None
        }
    };
    let place = a.place.clone().unwrap_or_default();
    let place = Place {
        text: place.text,
        city: (!place.city.is_empty()).then_some(place.city),
        country: if place.country.is_empty() {
            None
        } else {
            v.take(country_code(&f("place.country"), &place.country))
        },
        region: if place.region.is_empty() {
            None
        } else {
            v.take(enum_from(&f("place.region"), &place.region, &Region::api_names()))
        },
        tentative: place.tentative,
    };
    let countries: Vec<_> = a
        .countries
        .iter()
        .enumerate()
        .filter_map(|(i, c)| v.take(country_code(&format!("{field}.countries[{i}]"), c)))
        .collect();
    let outputs: Vec<u8> = a
        .outputs
        .iter()
        .enumerate()
        .filter_map(|(i, o)| {
            let output = u8::try_from(*o).ok().filter(|o| OUTPUTS.contains(o));
            if output.is_none() {
                v.push(format!("{field}.outputs[{i}]"), format!("output {o} does not exist: 1, 2 or 3"));
            }
            output
        })
        .collect();
    let partners: Vec<Partner> = a
        .partners
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let organisation =
                v.take(name_id(&format!("{field}.partners[{i}].organisation"), &p.organisation, names::ORGANISATIONS));
            let role = v.take(enum_from(&format!("{field}.partners[{i}].role"), &p.role, &PartnerRole::names()));
            Some(Partner { organisation: organisation?.to_owned(), role: role? })
        })
        .collect();
    let start = a.start.as_ref().and_then(|d| v.take(approx_from(&f("start"), d)));
    let end = a.end.as_ref().and_then(|d| v.take(approx_from(&f("end"), d)));
    let source = v.take(source_from(&f("sources"), &a.sources));
    let activity = Activity {
        id: id.clone().unwrap_or_default(),
        title: a.title.clone(),
        description: a.description.clone(),
        date_text: a.date_text.clone(),
        start,
        end,
        tentative: a.tentative,
        place,
        countries,
        kind: kind.unwrap_or(ActivityKind::Conference),
        status: status.unwrap_or(ActivityStatus::Pipeline),
        outputs,
        partners,
        funding: a.funding.clone(),
        plan: (!a.plan.is_empty()).then(|| a.plan.clone()),
        source: source.clone().unwrap_or(core_model::SourceRef(Vec::new())),
        note: (!a.note.is_empty()).then(|| a.note.clone()),
    };
    if let Err(e) = activity.check_limits() {
        // The limits of what could be read; a field refused above (its conversion failed) is not refused twice.
        let refused: Vec<String> = v.fields().map(str::to_owned).collect();
        for violation in model_violations(field, &e) {
            let already = refused.iter().any(|r| {
                violation.field == *r
                    || violation.field.starts_with(&format!("{r}."))
                    || violation.field.starts_with(&format!("{r}["))
            });
            let unread = (violation.field == f("id") && id.is_none())
                || (violation.field.starts_with(&f("sources")) && source.is_none());
            if !already && !unread {
                v.push(violation.field, violation.description);
            }
        }
    }
    v.finish()?;
    Ok(activity)
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
