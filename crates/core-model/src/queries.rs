//! Questions the programme's records answer at a date: a country's 24/7 point of contact, the countries that
//! received legislative advice, and the value of an output's indicator against its targets.

use chrono::NaiveDate;

use crate::{AssistanceMethod, ContactPoint, CountryCode, Dataset, Indicator, StepStatus, Target};

/// The value of an indicator's target at a date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetValue {
    /// The target.
    pub target: Target,
    /// The countries that count towards it.
    pub countries: Vec<CountryCode>,
}

impl Dataset {
    /// What the latest source before or at `as_of` says of a country's 24/7 point of contact; `None` when no
    /// source speaks of it by then.
    pub fn contact_point_at(&self, country: &CountryCode, as_of: NaiveDate) -> Option<&ContactPoint> {
        self.contact_points
            .iter()
            .filter(|c| &c.country == country && c.as_at.certainly_on_or_before(as_of))
            .max_by_key(|c| c.as_at.latest())
    }

    /// The countries that had received specific advice on draft legislation by `as_of`: a written analysis or a
    /// workshop on a draft law, done, and dated on or before `as_of`. In the order of their names.
    pub fn countries_advised(&self, as_of: NaiveDate) -> Vec<CountryCode> {
        let mut countries: Vec<CountryCode> = self
            .legislative_assistance
            .iter()
            .filter(|a| {
                a.steps.iter().any(|s| {
                    s.status == StepStatus::Done
                        && matches!(s.method, AssistanceMethod::WrittenAnalysis | AssistanceMethod::Workshop)
                        && s.date.is_some_and(|d| d.certainly_on_or_before(as_of))
                })
            })
            .map(|a| a.country.clone())
            .collect();
        countries.sort_by_cached_key(|c| self.state(c).map(|s| s.name.to_lowercase()));
        countries.dedup();
        countries
    }

    /// Output 1's indicator (countries with draft laws meeting the standards) against each of its targets: the
    /// countries advised by `as_of` ([`Dataset::countries_advised`]) inside or outside the target's region.
    pub fn indicator_values(&self, indicator: &Indicator, as_of: NaiveDate) -> Vec<TargetValue> {
        let advised = self.countries_advised(as_of);
        indicator
            .targets
            .iter()
            .map(|t| TargetValue {
                target: t.clone(),
                countries: advised
                    .iter()
                    .filter(|c| match t.region {
                        None => true,
                        Some(r) => self.state(c).is_some_and(|s| (s.region == r) != t.outside_region),
                    })
                    .cloned()
                    .collect(),
            })
            .collect()
    }
}
