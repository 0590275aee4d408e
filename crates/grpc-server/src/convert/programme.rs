//! The programme (objective, outputs and their indicators' values, budget, contributions, funding sources),
//! studies, organisations and money.

use chrono::NaiveDate;
use core_model::{Dataset, names};

use super::{approx, citations, country_name, date};
use crate::pb::coe::cybercrime::v1 as pb;

/// An amount of money for a response.
pub(crate) fn money(m: &core_model::Money) -> pb::Money {
    pb::Money { currency_code: m.currency.clone(), units: m.amount as i64 }
}

/// A study for a response.
pub(crate) fn study(s: &core_model::Study) -> pb::Study {
    pb::Study {
        name: names::study(&s.id),
        title: s.title.clone(),
        question: s.question.clone(),
        purpose: s.purpose.clone(),
        by: s.by.clone(),
        launched: Some(approx(&s.launched)),
        due: Some(approx(&s.due)),
        outputs: s.outputs.iter().map(|o| i32::from(*o)).collect(),
        sources: citations(&s.source),
    }
}

/// An organisation for a response, with the times of its stored version.
pub(crate) fn organisation<T>(o: &core_model::Organisation, version: &storage::Versioned<T>) -> pb::Organisation {
    pb::Organisation {
        name: names::organisation(&o.id),
        display_name: o.name.clone(),
        acronym: o.acronym.clone().unwrap_or_default(),
        kind: o.kind.as_str().to_owned(),
        kind_enum: super::typed(o.kind, "ORGANISATION_KIND_", pb::OrganisationKind::from_str_name),
        sources: citations(&o.source),
        create_time: version.create_time.as_deref().and_then(super::activity::timestamp),
        update_time: version.update_time.as_deref().and_then(super::activity::timestamp),
    }
}

/// The programme of `ds` for a response, its indicators' values at `as_of`.
pub(crate) fn programme(ds: &Dataset, as_of: NaiveDate) -> pb::Programme {
    let outputs = ds
        .outputs
        .iter()
        .map(|o| pb::Output {
            number: i32::from(o.number),
            title: o.title.clone(),
            text: o.text.clone(),
            indicators: o
                .indicators
                .iter()
                .map(|i| pb::Indicator {
                    id: i.id.clone(),
                    text: i.text.clone(),
                    targets: ds
                        .indicator_values(i, as_of)
                        .iter()
                        .map(|v| pb::TargetValue {
                            label: v.target.label.clone(),
                            target: v.target.value as i32,
                            value: v.countries.len() as i32,
                            countries: v.countries.iter().map(country_name).collect(),
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect();
    pb::Programme {
        objective: ds.objective.text.clone(),
        started: Some(approx(&ds.objective.started)),
        ends: Some(approx(&ds.objective.ends)),
        outputs,
        budget: ds
            .budget
            .iter()
            .map(|b| pb::BudgetLine {
                id: b.id.clone(),
                label: b.label.clone(),
                amount: Some(money(&b.amount)),
                sources: citations(&b.source),
            })
            .collect(),
        contributions: ds
            .contributions
            .iter()
            .map(|x| pb::Contribution {
                id: x.id.clone(),
                donor: names::organisation(&x.donor),
                amount: Some(money(&x.amount)),
                original_amount: x.original_amount.as_ref().map(money),
                period: x.period.clone(),
                sources: citations(&x.source),
                note: x.note.clone().unwrap_or_default(),
            })
            .collect(),
        funding_sources: ds
            .funding_sources
            .iter()
            .map(|f| pb::FundingSource {
                id: f.id.clone(),
                display_name: f.name.clone(),
                funders: f.funders.iter().map(|o| names::organisation(o)).collect(),
                sources: citations(&f.source),
            })
            .collect(),
        as_of: Some(date(as_of)),
        priorities: ds.priorities.iter().map(priority).collect(),
    }
}

/// A priority for a response.
pub(crate) fn priority(p: &core_model::Priority) -> pb::Priority {
    pb::Priority {
        id: p.id.clone(),
        year: p.year,
        output: p.output.map_or(0, i32::from),
        region: p.region.map(core_model::Region::api_name).unwrap_or_default(),
        region_enum: p.region.map_or(0, |r| super::typed(r, "REGION_", pb::Region::from_str_name)),
        text: p.text.clone(),
        countries: p.countries.iter().map(country_name).collect(),
        organisations: p.organisations.iter().map(|o| names::organisation(o)).collect(),
        treaties: p.treaties.iter().copied().map(names::treaty).collect(),
        date: p.date.as_ref().map(approx),
        sources: citations(&p.source),
        note: p.note.clone().unwrap_or_default(),
    }
}
