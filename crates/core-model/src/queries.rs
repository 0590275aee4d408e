//! Questions the programme's records answer at a date: a country's page, its 24/7 point of contact, the
//! countries that received legislative advice, and the value of an output's indicator against its targets.

use chrono::NaiveDate;

use crate::{
    AssistanceMethod, ContactPoint, CountryCode, CountryProfile, Dataset, Declaration, Indicator,
    LegislativeAssistance, Standing, State, StateStatusEntry, StepStatus, Target, Treaty, TreatyAction,
};

/// What the system knows of one country at a date: its status under each treaty with the actions it took, the
/// legislative assistance it received, its profile and its 24/7 point of contact. GetCountry answers it, and a
/// country brief is written from it.
#[derive(Debug, Clone)]
pub struct CountryPage<'a> {
    /// The country.
    pub state: &'a State,
    /// The date of the page.
    pub as_of: NaiveDate,
    /// Each treaty the country has a status under at that date, in the dataset's order of treaties (a treaty not
    /// yet opened for signature at that date is left out).
    pub treaties: Vec<CountryTreaty<'a>>,
    /// The treaties opened by that date under which the country has no recorded step on or before it (no
    /// action of any kind), in the dataset's order: beside `treaties`, where it stands under each convention,
    /// e.g. a party to the Budapest Convention with nothing recorded under the UN Convention against Cybercrime.
    /// "No recorded step" is not "no step": past a treaty's coverage the record may miss one.
    pub treaties_without_steps: Vec<&'a Treaty>,
    /// The legislative assistance it received (every step, whatever its date).
    pub legislative_assistance: Vec<&'a LegislativeAssistance>,
    /// Its country profile, if it has one.
    pub profile: Option<&'a CountryProfile>,
    /// What the latest source by `as_of` says of its 24/7 point of contact ([`Dataset::contact_point_at`]).
    pub contact_point: Option<&'a ContactPoint>,
    /// Its reservations, declarations and designations of authorities, and their withdrawals, under every treaty,
    /// each with its standing at `as_of` (from `records`; the record of them is not complete).
    pub declarations: Vec<(&'a Declaration, Standing)>,
}

/// A country's status under one treaty, on its [`CountryPage`].
#[derive(Debug, Clone)]
pub struct CountryTreaty<'a> {
    /// The treaty.
    pub treaty: &'a Treaty,
    /// The country's status under it at the page's date.
    pub entry: StateStatusEntry,
    /// Every action the country took under it, whatever its date, in the dataset's order.
    pub actions: Vec<&'a TreatyAction>,
}

/// The value of an indicator's target at a date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetValue {
    /// The target.
    pub target: Target,
    /// The countries that count towards it.
    pub countries: Vec<CountryCode>,
}

impl Dataset {
    /// The page of `state` at `as_of`: its treaty statuses and actions from this dataset, its legislative
    /// assistance, profile and 24/7 point of contact from `records` (this same dataset, or the records a server
    /// keeps apart from its snapshot of treaties, states and actions).
    pub fn country_page<'a>(&'a self, records: &'a Dataset, state: &'a State, as_of: NaiveDate) -> CountryPage<'a> {
        CountryPage {
            state,
            as_of,
            treaties: self
                .treaties
                .iter()
                .filter(|treaty| treaty.opened.possibly_on_or_before(as_of))
                .filter_map(|treaty| {
                    Some(CountryTreaty {
                        treaty,
                        entry: self.state_status(treaty, state, as_of)?,
                        actions: self.actions_of(&state.code, treaty.number).collect(),
                    })
                })
                .collect(),
            treaties_without_steps: self
                .treaties
                .iter()
                .filter(|t| t.opened.possibly_on_or_before(as_of))
                .filter(|t| !self.actions_of(&state.code, t.number).any(|a| a.date.possibly_on_or_before(as_of)))
                .collect(),
            legislative_assistance: records.legislative_assistance.iter().filter(|a| a.country == state.code).collect(),
            profile: records.profiles.iter().find(|p| p.country == state.code),
            contact_point: records.contact_point_at(&state.code, as_of),
            declarations: records
                .declarations_of(&state.code)
                .map(|d| (d, records.declaration_standing(d, as_of)))
                .collect(),
        }
    }

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
