//! A country's page ([`core_model::CountryPage`]): its status under each treaty with its actions, the legislative
//! assistance it received, its profile, its 24/7 point of contact, and its reservations, declarations and
//! designated authorities.

use core_model::{CountryPage, Dataset, names};

use super::{
    approx, citations, country_name, date,
    treaty::{state_status, status_entry, treaty_actions, with_snapshot_version},
    treaty_name, typed,
};
use crate::pb::coe::cybercrime::v1 as pb;

/// A country's page for a response; `treaty_data` derives the bounds of consents' dates
/// ([`convert::treaty::treaty_actions`](super::treaty::treaty_actions)), and `snapshot` (which it was built from)
/// holds the actions' versions.
pub(crate) fn country(page: &CountryPage<'_>, treaty_data: &Dataset, snapshot: &storage::Snapshot) -> pb::Country {
    let state = page.state;
    let treaty_statuses = page
        .treaties
        .iter()
        .map(|t| pb::CountryTreatyStatus {
            treaty: treaty_name(t.treaty.number),
            status: state_status(t.entry.status) as i32,
            entry: Some(status_entry(&t.entry)),
            actions: treaty_actions(treaty_data, t.actions.iter().copied())
                .into_iter()
                .zip(&t.actions)
                .map(|(m, a)| with_snapshot_version(m, a, snapshot))
                .collect(),
            complete_through: t.treaty.complete_through().map(date),
            past_record: t.treaty.past_record(page.as_of),
        })
        .collect();
    let legislative_assistance = page
        .legislative_assistance
        .iter()
        .map(|a| pb::LegislativeAssistance {
            id: a.id.clone(),
            subject: a.subject.clone(),
            specific_advice: a.specific_advice,
            steps: a
                .steps
                .iter()
                .map(|s| pb::AssistanceStep {
                    date: s.date.as_ref().map(approx),
                    method: s.method.as_str().to_owned(),
                    status: s.status.as_str().to_owned(),
                    description: s.description.clone(),
                    method_enum: typed(s.method, "ASSISTANCE_METHOD_", pb::AssistanceMethod::from_str_name),
                    status_enum: typed(s.status, "ASSISTANCE_STEP_STATUS_", pb::AssistanceStepStatus::from_str_name),
                })
                .collect(),
            sources: citations(&a.source),
            note: a.note.clone().unwrap_or_default(),
        })
        .collect();
    let profile = page.profile.map(|p| pb::CountryProfile {
        prepared: p.prepared.as_ref().map(approx),
        published: p.published.as_ref().map(approx),
        reviewed: p.reviewed.as_ref().map(approx),
        sources: citations(&p.source),
    });
    let contact_point = page.contact_point.map(|p| pb::ContactPoint {
        status: p.status.as_str().to_owned(),
        as_at: Some(approx(&p.as_at)),
        sources: citations(&p.source),
        note: p.note.clone().unwrap_or_default(),
        status_enum: typed(p.status, "CONTACT_POINT_STATUS_", pb::ContactPointStatus::from_str_name),
    });
    pb::Country {
        name: country_name(&state.code),
        display_name: state.name.clone(),
        region: state.region.api_name(),
        region_enum: typed(state.region, "REGION_", pb::Region::from_str_name),
        coe_member: state.coe_member,
        participated_in: state.participated_in.iter().map(|t| names::treaty(*t)).collect(),
        treaty_statuses,
        legislative_assistance,
        profile,
        contact_point,
        as_of: Some(date(page.as_of)),
        note: state.note.clone().unwrap_or_default(),
        declarations: page
            .declarations
            .iter()
            .map(|(d, standing)| super::declaration::declaration(d, *standing, page.as_of))
            .collect(),
        kind: typed(state.kind, "COUNTRY_KIND_", pb::CountryKind::from_str_name),
        treaties_without_steps: page.treaties_without_steps.iter().map(|t| treaty_name(t.number)).collect(),
    }
}
