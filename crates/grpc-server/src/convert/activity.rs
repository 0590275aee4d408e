//! Activities: the message of an activity and back, its id, and an update mask applied.

use core_model::{
    Activity, ActivityKind, ActivityStatus, OUTPUTS, Partner, PartnerRole, Place, Region, Vocabulary, names,
};

use std::sync::LazyLock;

use prost_reflect::{DescriptorPool, DynamicMessage, Kind, MessageDescriptor, ReflectMessage};
use storage::{StorageError, Versioned};

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

/// An activity for a response, at its version: its etag and times.
pub(crate) fn activity(v: &Versioned<Activity>) -> pb::Activity {
    let a = &v.record;
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
            region_enum: a.place.region.map_or(0, |r| super::typed(r, "REGION_", pb::Region::from_str_name)),
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
                role_enum: super::typed(p.role, "PARTNER_ROLE_", pb::PartnerRole::from_str_name),
            })
            .collect(),
        funding: a.funding.clone(),
        plan: a.plan.clone().unwrap_or_default(),
        sources: citations(&a.source),
        note: a.note.clone().unwrap_or_default(),
        etag: v.etag.clone(),
        create_time: v.create_time.as_deref().and_then(timestamp),
        update_time: v.update_time.as_deref().and_then(timestamp),
    }
}

/// A time the store keeps (RFC 3339) as a message; `None` for a text that is not one (never written so).
pub(crate) fn timestamp(rfc3339: &str) -> Option<prost_types::Timestamp> {
    let t = chrono::DateTime::parse_from_rfc3339(rfc3339).ok()?;
    Some(prost_types::Timestamp { seconds: t.timestamp(), nanos: i32::try_from(t.timestamp_subsec_nanos()).ok()? })
}

/// Checks an activity's name and answers its id: lowercase letters, digits, `-` and `.`, 1 to 100 characters.
pub(crate) fn activity_id<'a>(field: &str, name: &'a str) -> Result<&'a str> {
    bare_activity_id(field, name_id(field, name, names::ACTIVITIES)?)
}

/// Checks an activity id (without `activities/`): lowercase letters, digits, `-` and `.`, 1 to 100 characters.
pub(crate) fn bare_activity_id<'a>(field: &str, id: &'a str) -> Result<&'a str> {
    if id.is_empty()
        || id.len() > 100
        || !id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
    {
        return Err(ServiceError::invalid(
            field,
            format!("`{id}`: an activity id is 1-100 lowercase letters, digits, '-' and '.'"),
        ));
    }
    Ok(id)
}

/// A new id for `a` (AIP-133, the server's choice): its start date as far as it is known (`2008-03-15`,
/// `2008-03` or `2008`; `activity` when undated), `-`, and six lowercase letters and digits: random, or, for a
/// request with a request id, drawn from `seed` (the principal, the request id and the attempt), so that the
/// request retried picks the same id and is answered as the first time (AIP-155).
pub(crate) fn new_activity_id(a: &Activity, seed: Option<&[u8]>) -> Result<String> {
    use chrono::Datelike;
    let start = a.start.and_then(|d| d.earliest().zip(d.latest()));
    let prefix = match start {
        Some((e, l)) if e == l => e.format("%Y-%m-%d").to_string(),
        Some((e, l)) if (e.year(), e.month()) == (l.year(), l.month()) => e.format("%Y-%m").to_string(),
        Some((e, l)) if e.year() == l.year() => e.format("%Y").to_string(),
        _ => "activity".to_owned(),
    };
    let mut bytes = [0u8; 6];
    match seed {
        Some(seed) => {
            use sha2::Digest;
            bytes.copy_from_slice(&sha2::Sha256::digest(seed)[..6]);
        }
        None => getrandom::getrandom(&mut bytes)
            .map_err(|e| StorageError::Internal(format!("no random numbers for a new activity id: {e}")))?,
    }
    const ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let suffix: String = bytes.iter().map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()])).collect();
    Ok(format!("{prefix}-{suffix}"))
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
        region: {
            let text = if place.region.is_empty() {
                None
            } else {
                v.take(enum_from(&f("place.region"), &place.region, &Region::api_names()))
            };
            let typed = v.take(super::region_from(&f("place.region_enum"), place.region_enum)).flatten();
            match (text, typed) {
                (Some(t), Some(e)) if t != e => {
                    v.push(
                        f("place.region_enum"),
                        format!("{} does not agree with place.region `{}`", place.region_enum, place.region),
                    );
                    None
                }
                (t, e) => t.or(e),
            }
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
            let at = |name: &str| format!("{field}.partners[{i}].{name}");
            let text = if p.role.is_empty() && p.role_enum != 0 {
                None
            } else {
                Some(v.take(enum_from(&at("role"), &p.role, &PartnerRole::names()))?)
            };
            let typed = v
                .take(super::untyped(&at("role_enum"), p.role_enum, "PARTNER_ROLE_", pb::PartnerRole::from_str_name))
                .flatten();
            let role = match (text, typed) {
                (Some(t), Some(e)) if t != e => {
                    v.push(at("role_enum"), format!("{} does not agree with role `{}`", p.role_enum, p.role));
                    return None;
                }
                (t, e) => t.or(e)?,
            };
            Some(Partner { organisation: organisation?.to_owned(), role })
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

/// The fields of Activity that are output only (AIP-203): ignored on input and in an update mask.
pub(crate) const OUTPUT_ONLY: [&str; 4] = ["name", "etag", "create_time", "update_time"];

/// The descriptor of `Activity`, from the descriptor set the server embeds (checked by a test).
fn activity_descriptor() -> &'static MessageDescriptor {
    static DESCRIPTOR: LazyLock<MessageDescriptor> = LazyLock::new(|| {
        DescriptorPool::decode(crate::pb::FILE_DESCRIPTOR_SET)
            .ok()
            .and_then(|pool| pool.get_message_by_name("coe.cybercrime.v1.Activity"))
            .expect("the embedded descriptor set describes coe.cybercrime.v1.Activity")
    });
    &DESCRIPTOR
}

/// What an update mask asks for (AIP-134), checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Mask {
    /// `*`: the whole activity replaced.
    All,
    /// These paths (output-only ones left out): a field, or a field of a message field (`place.city`).
    Paths(Vec<String>),
}

/// The mask of an update: omitted or empty, the fields set in `from` (AIP-134: a non-default value, a non-empty
/// list, a present message); `*` alone, everything; else the paths given, each checked against Activity (an
/// unknown path is INVALID_ARGUMENT naming `update_mask.paths[i]`). Output-only fields are dropped.
pub(crate) fn mask_of(from: &pb::Activity, mask: Option<&prost_types::FieldMask>) -> Result<Mask> {
    let paths = mask.map(|m| m.paths.as_slice()).unwrap_or_default();
    let desc = activity_descriptor();
    if paths.is_empty() {
        let from = dynamic(from);
        return Ok(Mask::Paths(
            desc.fields()
                .filter(|f| !OUTPUT_ONLY.contains(&f.name()) && from.has_field(f))
                .map(|f| f.name().to_owned())
                .collect(),
        ));
    }
    if paths.iter().any(|p| p == "*") {
        if let Some(i) = paths.iter().position(|p| p != "*") {
            return Err(ServiceError::invalid(
                format!("update_mask.paths[{i}]"),
                "\"*\" replaces the whole activity and stands alone in a mask",
            ));
        }
        return Ok(Mask::All);
    }
    let mut kept = Vec::with_capacity(paths.len());
    for (i, path) in paths.iter().enumerate() {
        let field = format!("update_mask.paths[{i}]");
        let first = path.split('.').next().unwrap_or_default();
        if OUTPUT_ONLY.contains(&first) {
            continue;
        }
        let mut message = Some(desc.clone());
        for segment in path.split('.') {
            let found = message.take().and_then(|m| m.get_field_by_name(segment));
            let Some(f) = found else {
                return Err(ServiceError::invalid(field, format!("`{path}` is not an updatable field of Activity")));
            };
            message = match f.kind() {
                Kind::Message(m) if !f.is_list() && !f.is_map() => Some(m),
                _ => None,
            };
        }
        kept.push(path.clone());
    }
    Ok(Mask::Paths(kept))
}

/// `into` with the fields of `mask` taken from `from` (a field unset in `from` is cleared); the output-only
/// fields stay `into`'s.
pub(crate) fn apply_mask(into: &pb::Activity, from: &pb::Activity, mask: &Mask) -> Result<pb::Activity> {
    let paths = match mask {
        Mask::All => {
            let mut merged = from.clone();
            (merged.name, merged.etag) = (into.name.clone(), into.etag.clone());
            (merged.create_time, merged.update_time) = (into.create_time, into.update_time);
            return Ok(merged);
        }
        Mask::Paths(paths) => paths,
    };
    let (mut target, source) = (dynamic(into), dynamic(from));
    for path in paths {
        copy_path(&mut target, &source, &path.split('.').collect::<Vec<_>>());
    }
    target.transcode_to().map_err(|e| StorageError::Internal(format!("an activity merged by its mask: {e}")).into())
}

/// Copies the field at `path` (checked by [`mask_of`]) from `from` into `into`, making the messages on the way.
fn copy_path(into: &mut DynamicMessage, from: &DynamicMessage, path: &[&str]) {
    let Some((first, rest)) = path.split_first() else { return };
    let Some(field) = into.descriptor().get_field_by_name(first) else { return };
    if rest.is_empty() {
        if from.has_field(&field) {
            into.set_field(&field, from.get_field(&field).into_owned());
        } else {
            into.clear_field(&field);
        }
        return;
    }
    let inner_from = match from.get_field(&field).as_message() {
        Some(m) => m.clone(),
        None => return,
    };
    if let Some(inner_into) = into.get_field_mut(&field).as_message_mut() {
        copy_path(inner_into, &inner_from, rest);
    }
}

/// An activity's message as a dynamic one.
fn dynamic(a: &pb::Activity) -> DynamicMessage {
    let mut m = DynamicMessage::new(activity_descriptor().clone());
    // The same message, described by the same descriptor set: it cannot fail to decode.
    let _ = m.transcode_from(a);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask(paths: &[&str]) -> prost_types::FieldMask {
        prost_types::FieldMask { paths: paths.iter().map(|p| (*p).to_owned()).collect() }
    }

    #[test]
    fn an_empty_mask_is_the_fields_set_and_output_only_fields_are_left_out() {
        let sent = pb::Activity {
            name: "activities/x".into(),
            title: "t".into(),
            etag: "\"3\"".into(),
            outputs: vec![1],
            place: Some(pb::Place::default()),
            ..Default::default()
        };
        let expected = Mask::Paths(vec!["title".into(), "place".into(), "outputs".into()]);
        assert_eq!(mask_of(&sent, None).unwrap(), expected);
        assert_eq!(mask_of(&sent, Some(&mask(&[]))).unwrap(), expected);
        assert_eq!(mask_of(&sent, Some(&mask(&["*"]))).unwrap(), Mask::All);
        assert_eq!(mask_of(&sent, Some(&mask(&["etag", "note"]))).unwrap(), Mask::Paths(vec!["note".into()]));
    }

    #[test]
    fn nested_paths_merge_into_the_stored_message() {
        let stored = pb::Activity {
            name: "activities/x".into(),
            title: "stored".into(),
            note: "kept".into(),
            etag: "\"7\"".into(),
            place: Some(pb::Place { text: "Tirana".into(), city: "Tirana".into(), ..Default::default() }),
            ..Default::default()
        };
        let sent = pb::Activity {
            place: Some(pb::Place { city: "Durrës".into(), ..Default::default() }),
            start: Some(pb::ApproxDate { text: "2009".into(), ..Default::default() }),
            ..Default::default()
        };
        let merged =
            apply_mask(&stored, &sent, &mask_of(&sent, Some(&mask(&["place.city", "note"]))).unwrap()).unwrap();
        let place = merged.place.clone().unwrap();
        assert_eq!((place.text.as_str(), place.city.as_str()), ("Tirana", "Durrës"));
        assert_eq!((merged.note.as_str(), merged.title.as_str(), merged.start), ("", "stored", None));
        // "*" replaces all but the output-only fields.
        let all = apply_mask(&stored, &sent, &Mask::All).unwrap();
        assert_eq!((all.name.as_str(), all.etag.as_str(), all.title.as_str()), ("activities/x", "\"7\"", ""));
        // Into a place the stored activity lacks.
        let bare = pb::Activity { name: "activities/x".into(), ..Default::default() };
        let merged = apply_mask(&bare, &sent, &mask_of(&sent, Some(&mask(&["place.city"]))).unwrap()).unwrap();
        assert_eq!(merged.place.map(|p| p.city), Some("Durrës".to_owned()));
    }

    #[test]
    fn unknown_paths_are_named() {
        for (paths, field) in
            [(&["title", "x"][..], "update_mask.paths[1]"), (&["place.x"][..], "update_mask.paths[0]")]
        {
            let err = mask_of(&pb::Activity::default(), Some(&mask(paths))).unwrap_err();
            assert!(matches!(&err, ServiceError::InvalidArgument(v) if v.len() == 1 && v[0].field == field), "{err:?}");
        }
    }
}
