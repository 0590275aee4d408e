//! Reservations, declarations and designations of authorities ([`core_model::Declaration`]) for ListDeclarations
//! and a Country's page, with their standing at a date; and the kinds a request names.

use chrono::NaiveDate;
use core_model::{Declaration, DeclarationKind, Standing, names};

use super::{Result, approx, citations, country_name, date, treaty_name, typed, untyped};
use crate::{error::ServiceError, pb::coe::cybercrime::v1 as pb};

/// What every answer about declarations says of the record's coverage.
pub(crate) const COVERAGE_NOTE: &str = "The record of reservations, declarations and designations of authorities \
     is not complete: it holds the statements of the sources read (the opening parts of the Council of Europe's and \
     the Dutch treaty database's lists for ETS 185, national gazettes' notices for a few states), not every \
     statement a state made. A state or article with no statement here may well have some.";

/// One statement, with its standing at `at`.
pub(crate) fn declaration(d: &Declaration, standing: Standing, at: NaiveDate) -> pb::Declaration {
    pb::Declaration {
        name: names::declaration(d.treaty, &d.id),
        treaty: treaty_name(d.treaty),
        country: country_name(&d.state),
        kind: typed(d.kind, "DECLARATION_KIND_", pb::DeclarationKind::from_str_name),
        articles: d
            .articles
            .iter()
            .map(|a| pb::Article {
                article: i32::try_from(a.article).unwrap_or(i32::MAX),
                paragraph: a.paragraph.map_or(0, |p| i32::try_from(p).unwrap_or(i32::MAX)),
                display_name: a.to_string(),
            })
            .collect(),
        date: Some(approx(&d.date)),
        withdraws: d.withdraws.as_deref().map(|w| names::declaration(d.treaty, w)).unwrap_or_default(),
        authority: d.authority.clone().unwrap_or_default(),
        summary: d.summary.clone(),
        sources: citations(&d.source),
        note: d.note.clone().unwrap_or_default(),
        standing: typed(standing, "DECLARATION_STANDING_", pb::DeclarationStanding::from_str_name),
        standing_at: Some(date(at)),
    }
}

/// The kinds a request names (`kinds[i]`), each a value of the contract's enum other than UNSPECIFIED.
pub(crate) fn kinds_from(kinds: &[i32]) -> Result<Vec<DeclarationKind>> {
    kinds
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let field = format!("kinds[{i}]");
            untyped(&field, *k, "DECLARATION_KIND_", pb::DeclarationKind::from_str_name)?.ok_or_else(|| {
                ServiceError::invalid(
                    field,
                    "DECLARATION_KIND_UNSPECIFIED is no kind: leave `kinds` empty for every kind",
                )
            })
        })
        .collect()
}
