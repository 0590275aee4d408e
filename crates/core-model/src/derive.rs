//! Derived bounds of consents' dates: what other recorded facts imply about a deposit whose day no source gives,
//! never narrowed to a day.
//!
//! Two inferences, applied in this order:
//! - **entry into force → deposit.** Where a source records the day a treaty entered into force for a state,
//!   that day comes after the treaty's own entry into force, and the rule is "the first day of the month following
//!   N months after the deposit" (ETS 185 Article 36(4), 37(2) for accessions), the deposit lies in one calendar
//!   month: the consent's date is narrowed to that month (intersected with its recorded bounds; bounds that
//!   exclude the month are a validation error).
//! - **the reported series.** Where a report states the consents of each year (the 2007 report's +2 +2 +4 +3 +7
//!   +3 for 2002-2007) and the record is complete through the series' last day, a consent for which, once every
//!   other consent is placed within its bounds, the series admits exactly one year is narrowed to that year.
//!   Where it admits more than one placement, nothing is narrowed.
//!
//! The recorded date ([`crate::TreatyAction::date`]) never changes; the derived one ([`DerivedBound`]) is
//! computed from the dataset each time a question is asked of it, so a later action or figure is always taken into
//! account.

use std::collections::HashMap;

use chrono::{Datelike, Months, NaiveDate};

use crate::{
    ApproxDate, CountryCode, Dataset, DerivedBound, DerivedKind, Measure, Qualifier, Treaty, TreatyNumber,
    status::year_bounds,
};

/// The period a reported count of consents covers: its year, up to the figure's `as_of` when that falls within
/// the year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Period {
    pub(crate) year: i32,
    pub(crate) first: NaiveDate,
    pub(crate) last: NaiveDate,
    pub(crate) value: i64,
}

/// Where a consent may be placed against a series: in one of its periods, or outside all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bin {
    Period(usize),
    Elsewhere,
}

/// Consents (and, past the record, states that may have consented without the record showing it) against the
/// periods of a reported series.
#[derive(Debug)]
pub(crate) struct Placement {
    counts: Vec<i64>,
    /// Per item: the periods it may fall in, and whether it may fall outside all of them.
    items: Vec<(Vec<usize>, bool)>,
    /// The states of the recorded consents (the first items; the rest are unrecorded ones).
    states: Vec<CountryCode>,
}

impl Placement {
    /// `consents` with their dates as every question uses them; `unrecorded` states that may have consented past
    /// the record, each of which may fall in any period that ends after `complete_through`, or outside them.
    pub(crate) fn new(
        periods: &[Period],
        consents: &[(CountryCode, ApproxDate)],
        treaty: &Treaty,
        unrecorded: usize,
    ) -> Placement {
        let floor = treaty.opened.earliest();
        let mut sorted: Vec<&Period> = periods.iter().collect();
        sorted.sort_by_key(|p| p.first);
        let mut items: Vec<(Vec<usize>, bool)> = consents
            .iter()
            .map(|(_, date)| {
                let (e, l) = (date.earliest().max(floor), date.latest());
                let admissible = periods
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| e.is_none_or(|e| e <= p.last) && l.is_none_or(|l| l >= p.first))
                    .map(|(i, _)| i)
                    .collect();
                (admissible, outside_all(&sorted, e, l))
            })
            .collect();
        let past: Vec<usize> = periods
            .iter()
            .enumerate()
            .filter(|(_, p)| !treaty.consents_recorded_through(p.last))
            .map(|(i, _)| i)
            .collect();
        items.extend((0..unrecorded).map(|_| (past.clone(), true)));
        Placement {
            counts: periods.iter().map(|p| p.value).collect(),
            items,
            states: consents.iter().map(|(s, _)| s.clone()).collect(),
        }
    }

    /// Where the `i`th consent may be placed, on its bounds alone.
    pub(crate) fn bins(&self, i: usize) -> Vec<Bin> {
        let (periods, elsewhere) = &self.items[i];
        periods.iter().map(|p| Bin::Period(*p)).chain(elsewhere.then_some(Bin::Elsewhere)).collect()
    }

    /// The consents that may fall in a period of the series and whose period the bounds do not fix.
    pub(crate) fn undated(&self) -> Vec<CountryCode> {
        self.states
            .iter()
            .zip(&self.items)
            .filter(|(_, (periods, elsewhere))| !periods.is_empty() && (periods.len() > 1 || *elsewhere))
            .map(|(s, _)| s.clone())
            .collect()
    }

    /// Whether some placing of every item within its bounds (the `fixed` one where it is put) gives each period
    /// exactly its count: a bipartite matching of items to the periods' places that covers every place and
    /// every item that cannot fall outside the periods.
    pub(crate) fn feasible(&self, fixed: Option<(usize, Bin)>) -> bool {
        if self.counts.iter().any(|c| *c < 0) {
            return false;
        }
        let total: i64 = self.counts.iter().sum();
        if total > self.items.len() as i64 {
            return false;
        }
        let places: Vec<usize> =
            self.counts.iter().enumerate().flat_map(|(p, c)| std::iter::repeat_n(p, *c as usize)).collect();
        let options: Vec<(Vec<usize>, bool)> = self
            .items
            .iter()
            .enumerate()
            .map(|(i, item)| match fixed {
                Some((f, Bin::Period(p))) if f == i => (vec![p], false),
                Some((f, Bin::Elsewhere)) if f == i => (Vec::new(), true),
                _ => item.clone(),
            })
            .collect();
        let mut taken: Vec<Option<usize>> = vec![None; places.len()];
        // Items that must fall in a period first: augmenting paths never unmatch an item once matched.
        let mut order: Vec<usize> = (0..options.len()).collect();
        order.sort_by_key(|i| options[*i].1);
        for i in order {
            let mut visited = vec![false; places.len()];
            if !augment(i, &options, &places, &mut taken, &mut visited) && !options[i].1 {
                return false;
            }
        }
        taken.iter().all(Option::is_some)
    }
}

fn augment(
    item: usize,
    options: &[(Vec<usize>, bool)],
    places: &[usize],
    taken: &mut [Option<usize>],
    visited: &mut [bool],
) -> bool {
    for s in 0..places.len() {
        if visited[s] || !options[item].0.contains(&places[s]) {
            continue;
        }
        visited[s] = true;
        if taken[s].is_none_or(|other| augment(other, options, places, taken, visited)) {
            taken[s] = Some(item);
            return true;
        }
    }
    false
}

/// Whether a span has a day outside every period (`sorted` by their first day).
fn outside_all(sorted: &[&Period], earliest: Option<NaiveDate>, latest: Option<NaiveDate>) -> bool {
    let Some(mut cursor) = earliest else { return true };
    for p in sorted {
        if p.last < cursor {
            continue;
        }
        if p.first > cursor {
            return latest.is_none_or(|l| cursor <= l);
        }
        match p.last.succ_opt() {
            Some(next) => cursor = next,
            None => return false,
        }
    }
    latest.is_none_or(|l| cursor <= l)
}

/// The month a deposit fell in, when the entry into force recorded for the state (`eif`) comes after the
/// treaty's own (whose latest possible day is `general_latest`) and so is "the first day of the month following
/// the rule's months after the deposit".
pub(crate) fn deposit_month(treaty: &Treaty, general_latest: NaiveDate, eif: NaiveDate) -> Option<ApproxDate> {
    if eif.day() != 1 || eif <= general_latest {
        return None;
    }
    // Only a rule counted in months puts the deposit in a month.
    let months = treaty.entry_into_force_rule.months?;
    let month = eif.checked_sub_months(Months::new(months + 1))?;
    Some(ApproxDate::Month { year: month.year(), month: month.month() })
}

impl Dataset {
    /// The period a reported count of consents in `year` covers: the year, up to the `as_of` of the dataset's
    /// figure of that value for it, when that falls within the year.
    pub(crate) fn reported_period(&self, number: TreatyNumber, year: i32, value: i64) -> Period {
        let (first, last) = year_bounds(year);
        let until = self
            .reported_figures
            .iter()
            .find(|f| {
                f.treaty == Some(number)
                    && f.measure == Measure::ConsentsInYear
                    && f.year == Some(year)
                    && f.value == value
            })
            .and_then(|f| f.as_of.latest())
            .filter(|d| first <= *d && *d < last);
        Period { year, first, last: until.unwrap_or(last), value }
    }

    /// The treaty's own entry into force, on the recorded dates: as recorded, else by its rule.
    pub(crate) fn recorded_entry_into_force(&self, treaty: &Treaty) -> Option<ApproxDate> {
        treaty.entry_into_force.map(ApproxDate::Day).or_else(|| self.entry_into_force_on(treaty, |a| a.date))
    }

    /// The derived bounds of a treaty's consents, by state.
    pub(crate) fn derive_bounds(&self, treaty: &Treaty) -> HashMap<CountryCode, DerivedBound> {
        let mut derived = HashMap::new();
        self.derive_from_entry_into_force(treaty, &mut derived);
        self.derive_from_series(treaty, &mut derived);
        derived
    }

    fn derive_from_entry_into_force(&self, treaty: &Treaty, derived: &mut HashMap<CountryCode, DerivedBound>) {
        let Some(general) = self.recorded_entry_into_force(treaty) else { return };
        let Some(general_latest) = general.latest() else { return };
        let rule = &treaty.entry_into_force_rule;
        for a in self.consents(treaty.number) {
            let Some(eif) = a.entry_into_force else { continue };
            let Some(month) = deposit_month(treaty, general_latest, eif) else { continue };
            // Bounds that exclude the month are reported by validation; nothing is derived from them.
            let Some(date) = a.date.intersect(&month) else { continue };
            if date == a.date {
                continue;
            }
            let note = format!(
                "Derived from its recorded entry into force, {eif}: that is after the treaty's own ({}), so under \
                 {} it is the first day of the month following {} months after the deposit, which therefore fell \
                 {}. The day is in no source; the recorded date is {}.",
                general.describe().trim_start_matches("on "),
                rule.article,
                rule.months.unwrap_or_default(),
                date.describe(),
                a.date
            );
            derived.insert(a.state.clone(), DerivedBound { date, kind: DerivedKind::EntryIntoForce, note });
        }
    }

    fn derive_from_series(&self, treaty: &Treaty, derived: &mut HashMap<CountryCode, DerivedBound>) {
        let Some(complete_through) = treaty.complete_through() else { return };
        let mut periods: Vec<Period> = Vec::new();
        for f in self.reported_figures.iter().filter(|f| {
            f.treaty == Some(treaty.number) && f.measure == Measure::ConsentsInYear && f.qualifier == Qualifier::Exact
        }) {
            let Some(year) = f.year else { continue };
            if periods.iter().any(|p| p.year == year) {
                continue;
            }
            let period = self.reported_period(treaty.number, year, f.value);
            // Past the record of consents, consents it does not show may fill the period: it pins nothing down.
            if period.last <= complete_through && treaty.consents_recorded_through(period.last) {
                periods.push(period);
            }
        }
        if periods.is_empty() {
            return;
        }
        periods.sort_by_key(|p| p.first);
        let recorded: Vec<(CountryCode, ApproxDate)> =
            self.consents(treaty.number).map(|a| (a.state.clone(), a.date)).collect();
        let consents: Vec<(CountryCode, ApproxDate)> =
            recorded.iter().map(|(s, d)| (s.clone(), derived.get(s).map_or(*d, |b| b.date))).collect();
        let placement = Placement::new(&periods, &consents, treaty, 0);
        let series = periods
            .iter()
            .map(|p| {
                let (_, year_end) = year_bounds(p.year);
                let until = if p.last < year_end { format!(" to {}", p.last) } else { String::new() };
                format!("+{} in {}{until}", p.value, p.year)
            })
            .collect::<Vec<_>>()
            .join(", ");
        for (i, (state, date)) in consents.iter().enumerate() {
            let bins = placement.bins(i);
            if bins.len() < 2 {
                continue;
            }
            let admitted: Vec<Bin> = bins.into_iter().filter(|b| placement.feasible(Some((i, *b)))).collect();
            let [Bin::Period(p)] = admitted[..] else { continue };
            let period = &periods[p];
            let Some(narrowed) = date.intersect(&ApproxDate::from_bounds(Some(period.first), Some(period.last))) else {
                continue;
            };
            if narrowed == *date {
                continue;
            }
            let mut note = format!(
                "Derived from the consents per year the report states ({series}): with every other consent placed \
                 within its bounds, only {} keeps the series exact, so the deposit fell {}. The day is in no source; \
                 the recorded date is {}.",
                period.year,
                narrowed.describe(),
                recorded[i].1
            );
            if let Some(before) = derived.get(state) {
                note = format!("{} {note}", before.note);
            }
            derived.insert(state.clone(), DerivedBound { date: narrowed, kind: DerivedKind::ReportedSeries, note });
        }
    }
}
