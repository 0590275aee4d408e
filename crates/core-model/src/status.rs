//! The status of states under a treaty at any date, entry into force computed from the treaty's rule, and the
//! consents per year.
//!
//! "Party" means the state has deposited its consent (ratification or accession), as the report's "Ratified"
//! column counts it; when the treaty enters into force for it is given beside.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};

use crate::{
    ActionKind, ApproxDate, CountryCode, Dataset, ModelError, Result, State, Treaty, TreatyAction, TreatyNumber,
    first_day_of_month_after,
};

/// The status of a state under a treaty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StateStatus {
    /// Consent deposited (ratified or acceded).
    Party,
    /// Signed, not ratified.
    Signatory,
    /// Eligible to sign, not signed.
    NotSigned,
    /// Invited to accede, not acceded.
    InvitedToAccede,
    /// Asked to be invited to accede.
    AccessionRequested,
}

impl StateStatus {
    /// Every status, in the order the status table lists them.
    pub const ALL: [StateStatus; 5] = [
        StateStatus::Party,
        StateStatus::Signatory,
        StateStatus::NotSigned,
        StateStatus::InvitedToAccede,
        StateStatus::AccessionRequested,
    ];

    /// The heading the report gives the group.
    pub fn label(self) -> &'static str {
        match self {
            StateStatus::Party => "Ratified",
            StateStatus::Signatory => "Signed",
            StateStatus::NotSigned => "Not signed",
            StateStatus::InvitedToAccede => "Invited to accede",
            StateStatus::AccessionRequested => "Request for accession",
        }
    }
}

/// One state's line in the status table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateStatusEntry {
    /// The state.
    pub state: CountryCode,
    /// Its name as the report writes it.
    pub name: String,
    /// What the sources prove at the date asked (or, when they prove nothing, what it may be).
    pub status: StateStatus,
    /// A bounded date straddles the date asked: the status may be `possibly` instead.
    pub uncertain: bool,
    /// The further status the state may have reached, when uncertain.
    pub possibly: Option<StateStatus>,
    /// Its signature, if it may have signed by the date asked.
    pub signed: Option<ApproxDate>,
    /// Its consent (ratification or accession), if it may have consented by the date asked.
    pub consented: Option<ApproxDate>,
    /// When the treaty entered (or enters) into force for it: as the sources record it, else from the rule.
    pub entry_into_force: Option<ApproxDate>,
}

/// The states with one status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusGroup {
    /// The status.
    pub status: StateStatus,
    /// The states, in the order of their names.
    pub states: Vec<StateStatusEntry>,
}

/// The status of every state under a treaty at a date: the report's status table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreatyStatus {
    /// The treaty.
    pub treaty: TreatyNumber,
    /// The date.
    pub as_of: NaiveDate,
    /// One group per status, in [`StateStatus::ALL`] order, empty ones included.
    pub groups: Vec<StatusGroup>,
}

impl TreatyStatus {
    /// The group of one status.
    pub fn group(&self, status: StateStatus) -> &[StateStatusEntry] {
        self.groups.iter().find(|g| g.status == status).map_or(&[], |g| &g.states)
    }
}

/// Consents deposited in one calendar year, as bounds: the minimum counts only consents certainly in the year,
/// the maximum every consent that may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct YearCount {
    /// The year.
    pub year: i32,
    /// Consents certainly deposited in the year.
    pub added_min: u32,
    /// Consents possibly deposited in the year.
    pub added_max: u32,
    /// Consents certainly deposited by the end of the year.
    pub total_min: u32,
    /// Consents possibly deposited by the end of the year.
    pub total_max: u32,
}

impl YearCount {
    /// The count is known exactly.
    pub fn is_exact(&self) -> bool {
        self.added_min == self.added_max && self.total_min == self.total_max
    }
}

/// A series of reported consents per year held against the data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reconciliation {
    /// Per year: the computed bounds and the reported figure.
    pub years: Vec<(YearCount, i64)>,
    /// Some placing of the consents within their bounds gives exactly the reported series.
    pub consistent: bool,
    /// The consents whose year the data does not fix within the series' years.
    pub undated: Vec<CountryCode>,
}

/// The earliest and latest day a date may be.
type Span = (Option<NaiveDate>, Option<NaiveDate>);

fn sort_key(name: &str) -> String {
    name.replace('"', "").to_lowercase()
}

impl Dataset {
    fn treaty_or_err(&self, number: TreatyNumber) -> Result<&Treaty> {
        self.treaty(number).ok_or(ModelError::UnknownTreaty(number))
    }

    /// Each state's consent to a treaty (its first, should the data hold two).
    fn consents(&self, number: TreatyNumber) -> impl Iterator<Item = &TreatyAction> {
        let mut seen = std::collections::HashSet::new();
        self.treaty_actions.iter().filter(move |a| a.treaty == number && a.kind.is_consent() && seen.insert(&a.state))
    }

    /// When the treaty entered into force by its rule, as bounds when consents are known only within bounds;
    /// `None` when it cannot have entered into force on the data.
    pub fn treaty_entry_into_force(&self, number: TreatyNumber) -> Option<ApproxDate> {
        let treaty = self.treaty(number)?;
        let rule = &treaty.entry_into_force_rule;
        let member = |a: &TreatyAction| self.state(&a.state).is_some_and(|s| s.coe_member);
        let threshold = |mut days: Vec<(NaiveDate, bool)>| {
            days.sort();
            let (mut all, mut members) = (0, 0);
            days.into_iter().find_map(|(d, m)| {
                all += 1;
                members += u32::from(m);
                (all >= rule.consents && members >= rule.member_states).then_some(d)
            })
        };
        let floor = treaty.opened.earliest().unwrap_or(NaiveDate::MIN);
        let earliest =
            threshold(self.consents(number).map(|a| (a.date.earliest().unwrap_or(floor), member(a))).collect())?;
        let latest = threshold(self.consents(number).filter_map(|a| Some((a.date.latest()?, member(a)))).collect());
        let e = first_day_of_month_after(earliest, rule.months)?;
        let l = latest.and_then(|l| first_day_of_month_after(l, rule.months));
        Some(if l == Some(e) { ApproxDate::Day(e) } else { ApproxDate::Between { earliest: Some(e), latest: l } })
    }

    /// When the treaty enters into force for a state that consented on `consent`, by the rule: the later of the
    /// treaty's own entry into force and the first day of the month after the rule's months from the deposit.
    pub fn state_entry_into_force(&self, number: TreatyNumber, consent: &ApproxDate) -> Option<ApproxDate> {
        let treaty = self.treaty(number)?;
        let months = treaty.entry_into_force_rule.months;
        let general = self.treaty_entry_into_force(number)?;
        let e = consent.earliest().and_then(|d| first_day_of_month_after(d, months)).max(general.earliest());
        let l = match (consent.latest(), general.latest()) {
            (Some(c), Some(g)) => first_day_of_month_after(c, months).map(|c| c.max(g)),
            _ => None,
        };
        Some(match (e, l) {
            (Some(e), Some(l)) if e == l => ApproxDate::Day(e),
            (earliest, latest) => ApproxDate::Between { earliest, latest },
        })
    }

    /// The status of one state under a treaty at a date; `None` when the state has no status under it (it may
    /// not sign it and has taken no step towards accession).
    pub fn state_status(&self, treaty: &Treaty, state: &State, as_of: NaiveDate) -> Option<StateStatusEntry> {
        let actions: Vec<&TreatyAction> = self.actions_of(&state.code, treaty.number).collect();
        let find = |kind: ActionKind| actions.iter().find(|a| a.kind == kind).copied();
        let consent = actions.iter().find(|a| a.kind.is_consent()).copied();
        let denounced = find(ActionKind::Denunciation);
        let (base, ladder) = if self.may_sign(state, treaty, Some(as_of)) {
            (
                Some(StateStatus::NotSigned),
                vec![(StateStatus::Signatory, find(ActionKind::Signature)), (StateStatus::Party, consent)],
            )
        } else {
            (
                None,
                vec![
                    (StateStatus::AccessionRequested, find(ActionKind::AccessionRequest)),
                    (StateStatus::InvitedToAccede, find(ActionKind::Invitation)),
                    (StateStatus::Party, consent),
                ],
            )
        };
        let reached = |test: fn(&ApproxDate, NaiveDate) -> bool| {
            ladder.iter().rev().find_map(|(status, a)| a.filter(|a| test(&a.date, as_of)).map(|_| *status))
        };
        let mut certain = reached(ApproxDate::certainly_on_or_before);
        let mut possible = reached(ApproxDate::possibly_on_or_before);
        if let Some(d) = denounced {
            if d.date.certainly_on_or_before(as_of) {
                certain = base;
                possible = base;
            } else if d.date.possibly_on_or_before(as_of) && certain == Some(StateStatus::Party) {
                certain = base;
            }
        }
        let status = certain.or(base).or(possible)?;
        let uncertain = possible.is_some_and(|p| p != status) || (certain.is_none() && base.is_none());
        let shown = |a: Option<&TreatyAction>| a.filter(|a| a.date.possibly_on_or_before(as_of)).map(|a| a.date);
        let consented = shown(consent);
        let entry_into_force = consent.filter(|_| consented.is_some()).and_then(|c| {
            c.entry_into_force.map(ApproxDate::Day).or_else(|| self.state_entry_into_force(treaty.number, &c.date))
        });
        Some(StateStatusEntry {
            state: state.code.clone(),
            name: state.name.clone(),
            status,
            uncertain,
            possibly: possible.filter(|p| *p != status),
            signed: shown(find(ActionKind::Signature)),
            consented,
            entry_into_force,
        })
    }

    /// The status of every state under a treaty at a date: the report's status table.
    pub fn treaty_status(&self, number: TreatyNumber, as_of: NaiveDate) -> Result<TreatyStatus> {
        let treaty = self.treaty_or_err(number)?;
        let mut groups: HashMap<StateStatus, Vec<StateStatusEntry>> = HashMap::new();
        for state in &self.states {
            if let Some(entry) = self.state_status(treaty, state, as_of) {
                groups.entry(entry.status).or_default().push(entry);
            }
        }
        let groups = StateStatus::ALL
            .into_iter()
            .map(|status| {
                let mut states = groups.remove(&status).unwrap_or_default();
                states.sort_by_cached_key(|e| sort_key(&e.name));
                StatusGroup { status, states }
            })
            .collect();
        Ok(TreatyStatus { treaty: number, as_of, groups })
    }

    /// Consents deposited per calendar year, `from_year` to `to_year` inclusive, as bounds.
    pub fn consents_per_year(&self, number: TreatyNumber, from_year: i32, to_year: i32) -> Result<Vec<YearCount>> {
        self.treaty_or_err(number)?;
        let spans: Vec<Span> = self.consents(number).map(|a| (a.date.earliest(), a.date.latest())).collect();
        Ok((from_year..=to_year)
            .map(|year| {
                let (first, last) = (NaiveDate::from_ymd_opt(year, 1, 1), NaiveDate::from_ymd_opt(year, 12, 31));
                let (first, last) = (first.unwrap_or(NaiveDate::MIN), last.unwrap_or(NaiveDate::MAX));
                let count = |pred: &dyn Fn(&Span) -> bool| {
                    u32::try_from(spans.iter().filter(|s| pred(s)).count()).unwrap_or(u32::MAX)
                };
                YearCount {
                    year,
                    added_min: count(&|(e, l)| e.is_some_and(|e| e >= first) && l.is_some_and(|l| l <= last)),
                    added_max: count(&|(e, l)| e.is_none_or(|e| e <= last) && l.is_none_or(|l| l >= first)),
                    total_min: count(&|(_, l)| l.is_some_and(|l| l <= last)),
                    total_max: count(&|(e, _)| e.is_none_or(|e| e <= last)),
                }
            })
            .collect())
    }

    /// Holds a reported series of consents per year against the data: for each year the computed bounds and
    /// the reported figure, and whether some placing of each consent within its bounds gives the series
    /// exactly (an earliest-deadline-first assignment of the consents whose year is not fixed).
    pub fn reconcile_consents_per_year(&self, number: TreatyNumber, reported: &[(i32, i64)]) -> Result<Reconciliation> {
        let (Some(first), Some(last)) = (reported.iter().map(|r| r.0).min(), reported.iter().map(|r| r.0).max()) else {
            return Ok(Reconciliation { years: Vec::new(), consistent: true, undated: Vec::new() });
        };
        let counts = self.consents_per_year(number, first, last)?;
        let years: Vec<(YearCount, i64)> =
            counts.iter().map(|c| (*c, reported.iter().find(|r| r.0 == c.year).map_or(0, |r| r.1))).collect();
        // Each consent's possible years, clipped to the series; `optional` when it may fall outside it.
        let mut items: Vec<(i32, i32, bool, CountryCode)> = self
            .consents(number)
            .filter_map(|a| {
                let lo = a.date.earliest().map_or(i32::MIN, |d| d.year());
                let hi = a.date.latest().map_or(i32::MAX, |d| d.year());
                (hi >= first && lo <= last)
                    .then(|| (lo.max(first), hi.min(last), lo < first || hi > last, a.state.clone()))
            })
            .collect();
        let undated = items.iter().filter(|i| i.0 != i.1 || i.2).map(|i| i.3.clone()).collect();
        items.sort_by_key(|i| (i.1, i.2));
        let mut assigned = vec![false; items.len()];
        let mut consistent = true;
        for (count, want) in &years {
            let mut need = *want;
            for (i, item) in items.iter().enumerate() {
                if need == 0 {
                    break;
                }
                if !assigned[i] && item.0 <= count.year && count.year <= item.1 {
                    assigned[i] = true;
                    need -= 1;
                }
            }
            consistent &= need == 0;
        }
        consistent &= items.iter().zip(&assigned).all(|(item, done)| *done || item.2);
        Ok(Reconciliation { years, consistent, undated })
    }
}
