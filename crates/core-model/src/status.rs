//! The status of states under a treaty at any date, entry into force computed from the treaty's rule, and the
//! consents per year.
//!
//! "Party" means the state has deposited its consent (ratification or accession), as the report's "Ratified"
//! column counts it; when the treaty enters into force for it is given beside.
//!
//! Three things bound what an answer may claim:
//! - a date known only within bounds that straddle the date asked makes the status uncertain;
//! - the treaty's coverage ([`crate::Coverage`]): after `complete_through` (or at any date, for a treaty whose
//!   record is complete through no date) a step the record does not show may have been taken, so every state
//!   that was not a party is uncertain, `possibly` the furthest status it may have reached; a party stays one
//!   unless a recorded denunciation ends it, on the day it takes effect ([`Treaty::denunciation_effect`]);
//! - derived bounds ([`crate::DerivedBound`]): a consent's date narrowed from its recorded entry into force, or
//!   from the consents per year a report states (`derive.rs`); every use of a consent's date here sees them.

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::{
    ActionKind, ApproxDate, CountryCode, CountryKind, Dataset, DerivedBound, DerivedKind, ModelError, Result, State,
    Treaty, TreatyAction, TreatyNumber,
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
    /// The status may be `possibly` instead: a bounded date straddles the date asked, or the date asked is past
    /// what the record covers.
    pub uncertain: bool,
    /// When uncertain, the furthest status the state may have reached; the status itself for a state listed
    /// only because it may have reached it (e.g. invited on a day no source gives, perhaps after the date asked).
    pub possibly: Option<StateStatus>,
    /// When uncertain, why, in plain words: "signed between 2001-11-23 and 2004-12-31; the day is in no source".
    pub reason: Option<String>,
    /// Its signature, if it may have signed by the date asked.
    pub signed: Option<ApproxDate>,
    /// Its consent (ratification or accession), if it may have consented by the date asked: the derived bound
    /// when there is one, else as recorded.
    pub consented: Option<ApproxDate>,
    /// The derived bound `consented` is, when the consent's recorded date was narrowed.
    pub consent_derived: Option<DerivedBound>,
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

impl StatusGroup {
    /// The states whose status is certain.
    pub fn certain(&self) -> usize {
        self.states.iter().filter(|e| !e.uncertain).count()
    }

    /// The states whose status is uncertain.
    pub fn uncertain(&self) -> usize {
        self.states.iter().filter(|e| e.uncertain).count()
    }
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
    /// The last day the treaty's record is complete through; `None`: complete through no date.
    pub complete_through: Option<NaiveDate>,
    /// `as_of` is after `complete_through` (or the record is complete through no date): no status other than
    /// a party's is certain.
    pub past_record: bool,
    /// What the record covers, in plain words, when `past_record`.
    pub record_note: Option<String>,
}

impl TreatyStatus {
    /// The group of one status.
    pub fn group(&self, status: StateStatus) -> &[StateStatusEntry] {
        self.groups.iter().find(|g| g.status == status).map_or(&[], |g| &g.states)
    }
}

/// Consents deposited in one calendar year, as bounds: the minimum counts only consents certainly in the year,
/// the maximum every consent that may be (past the record's coverage, also every state that may have consented
/// without the record showing it).
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
    /// The period counted ends after the record's `complete_through` (or the record is complete through no
    /// date): the maxima count every state that may have consented since.
    pub past_record: bool,
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
    /// Per year: the computed bounds, over the period the reported figure counts (its year, up to its `as_of`
    /// when the dataset holds the figure), and the reported figure.
    pub years: Vec<(YearCount, i64)>,
    /// Some placing of the consents within their bounds gives exactly the reported series.
    pub consistent: bool,
    /// The consents whose year the data does not fix within the series' years.
    pub undated: Vec<CountryCode>,
}

/// What the status of one treaty's states rests on: the treaty, its consents' derived bounds, its own entry into
/// force. Computed once per question.
pub(crate) struct TreatyFacts<'a> {
    pub(crate) treaty: &'a Treaty,
    /// The derived bound of each state's consent.
    pub(crate) derived: HashMap<CountryCode, DerivedBound>,
    /// The treaty's own entry into force by its rule, on the consents' dates as derived.
    general: Option<ApproxDate>,
}

impl TreatyFacts<'_> {
    /// An action's date as every question uses it: a consent's derived bound, else the recorded date.
    pub(crate) fn date(&self, a: &TreatyAction) -> ApproxDate {
        self.derived_of(a).map_or(a.date, |d| d.date)
    }

    fn derived_of(&self, a: &TreatyAction) -> Option<&DerivedBound> {
        if a.kind.is_consent() { self.derived.get(&a.state) } else { None }
    }
}

/// One rung of the ladder a state climbs under a treaty.
struct Rung<'a> {
    status: StateStatus,
    /// The kind of action that reaches it.
    kind: ActionKind,
    action: Option<&'a TreatyAction>,
    /// The rung can be reached only from the one before it (a ratification needs a signature, an accession an
    /// invitation).
    after_previous: bool,
}

/// The verb of a recorded action, for reasons.
fn done(kind: ActionKind) -> &'static str {
    match kind {
        ActionKind::Signature => "signed",
        ActionKind::Ratification => "ratified",
        ActionKind::AccessionRequest => "asked to be invited to accede",
        ActionKind::Invitation => "invited to accede",
        ActionKind::Accession => "acceded",
        ActionKind::Denunciation => "denounced",
    }
}

/// Why a step may or may not have been taken by a date, in plain words.
fn straddles(kind: ActionKind, date: &ApproxDate, derived: Option<&DerivedBound>) -> String {
    let basis = match derived.map(|d| d.kind) {
        Some(DerivedKind::EntryIntoForce) => " (a bound derived from its recorded entry into force)",
        Some(DerivedKind::ReportedSeries) => " (a bound derived from the consents per year the report states)",
        None => "",
    };
    format!("{} {}{basis}; the day is in no source", done(kind), date.describe())
}

/// Why a step of `kind` the record does not show may have been taken by a date, in plain words.
fn record_clause(treaty: &Treaty, kind: ActionKind) -> String {
    match &treaty.coverage {
        Some(c) if c.kinds.is_empty() || c.kinds.contains(&kind) => format!(
            "the record of {} is complete through {} ({}); what the state did after that is in no source here",
            treaty.label(),
            c.complete_through,
            c.source
        ),
        Some(c) => format!(
            "the record of {} is complete through {} for {} only ({}): a {} no source here names may have taken \
             place",
            treaty.label(),
            c.complete_through,
            kinds_words(&c.kinds),
            c.source,
            kind.noun()
        ),
        None => format!(
            "no source here says through which date the record of {} is complete, so the state may have taken a \
             step the record does not show",
            treaty.label()
        ),
    }
}

/// "ratifications and accessions".
fn kinds_words(kinds: &[ActionKind]) -> String {
    let words: Vec<String> = kinds.iter().map(|k| format!("{}s", k.noun())).collect();
    match words.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => "every action".to_owned(),
    }
}

/// The earliest and latest day a date may be.
type Span = (Option<NaiveDate>, Option<NaiveDate>);

fn sort_key(name: &str) -> String {
    name.replace('"', "").to_lowercase()
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl Dataset {
    pub(crate) fn treaty_or_err(&self, number: TreatyNumber) -> Result<&Treaty> {
        self.treaty(number).ok_or(ModelError::UnknownTreaty(number))
    }

    /// Each state's consent to a treaty (its first, should the data hold two).
    pub(crate) fn consents(&self, number: TreatyNumber) -> impl Iterator<Item = &TreatyAction> {
        let mut seen = std::collections::HashSet::new();
        self.treaty_actions.iter().filter(move |a| a.treaty == number && a.kind.is_consent() && seen.insert(&a.state))
    }

    /// The facts every status question of a treaty rests on.
    pub(crate) fn facts(&self, number: TreatyNumber) -> Result<TreatyFacts<'_>> {
        let treaty = self.treaty_or_err(number)?;
        let derived = self.derive_bounds(treaty);
        let general = self.entry_into_force_on(treaty, |a| derived.get(&a.state).map_or(a.date, |d| d.date));
        Ok(TreatyFacts { treaty, derived, general })
    }

    /// When the treaty entered into force by its rule, as bounds when consents are known only within bounds;
    /// `None` when it cannot have entered into force on the data. Consents' derived bounds are used.
    pub fn treaty_entry_into_force(&self, number: TreatyNumber) -> Option<ApproxDate> {
        self.facts(number).ok()?.general
    }

    /// The treaty's entry into force by its rule, with each consent dated by `date`.
    pub(crate) fn entry_into_force_on(
        &self,
        treaty: &Treaty,
        date: impl Fn(&TreatyAction) -> ApproxDate,
    ) -> Option<ApproxDate> {
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
        // An organisation's consent is not counted where the rule says so (UN Convention Article 65(1)).
        let counted = |a: &&TreatyAction| {
            !rule.organisations_not_counted || self.state(&a.state).is_none_or(|s| s.kind != CountryKind::Reio)
        };
        let consents: Vec<(ApproxDate, bool)> =
            self.consents(treaty.number).filter(counted).map(|a| (date(a), member(a))).collect();
        let earliest = threshold(consents.iter().map(|(d, m)| (d.earliest().unwrap_or(floor), *m)).collect())?;
        let latest = threshold(consents.iter().filter_map(|(d, m)| Some((d.latest()?, *m))).collect());
        let e = rule.general_after(earliest)?;
        let l = latest.and_then(|l| rule.general_after(l));
        Some(if l == Some(e) { ApproxDate::Day(e) } else { ApproxDate::Between { earliest: Some(e), latest: l } })
    }

    /// When the treaty enters into force for a state that consented on `consent`, by the rule: the later of the
    /// treaty's own entry into force and the first day of the month after the rule's months from the deposit.
    pub fn state_entry_into_force(&self, number: TreatyNumber, consent: &ApproxDate) -> Option<ApproxDate> {
        let treaty = self.treaty(number)?;
        state_entry_into_force(treaty, self.treaty_entry_into_force(number)?, consent)
    }

    /// The derived bounds of a treaty's consents, by state: see [`DerivedBound`].
    pub fn derived_bounds(&self, number: TreatyNumber) -> Result<HashMap<CountryCode, DerivedBound>> {
        Ok(self.facts(number)?.derived)
    }

    /// The derived bound of one action's date (only consents have one).
    pub fn derived_bound(&self, action: &TreatyAction) -> Option<DerivedBound> {
        if !action.kind.is_consent() {
            return None;
        }
        let first = self.consents(action.treaty).find(|a| a.state == action.state)?;
        (first == action).then(|| self.facts(action.treaty).ok()?.derived.remove(&action.state)).flatten()
    }

    /// The status of one state under a treaty at a date; `None` when the state has no status under it (it may
    /// not sign it and has taken no step towards accession).
    pub fn state_status(&self, treaty: &Treaty, state: &State, as_of: NaiveDate) -> Option<StateStatusEntry> {
        let facts = self.facts(treaty.number).ok()?;
        self.status_in(&facts, state, as_of)
    }

    fn status_in(&self, facts: &TreatyFacts<'_>, state: &State, as_of: NaiveDate) -> Option<StateStatusEntry> {
        let treaty = facts.treaty;
        let actions: Vec<&TreatyAction> = self.actions_of(&state.code, treaty.number).collect();
        let find = |kind: ActionKind| actions.iter().find(|a| a.kind == kind).copied();
        let consent = actions.iter().find(|a| a.kind.is_consent()).copied();
        let denounced = find(ActionKind::Denunciation);
        let rung = |status, kind, action, after_previous| Rung { status, kind, action, after_previous };
        let (base, ladder) = if self.may_sign(state, treaty, Some(as_of)) {
            (
                Some(StateStatus::NotSigned),
                vec![
                    rung(StateStatus::Signatory, ActionKind::Signature, find(ActionKind::Signature), false),
                    rung(StateStatus::Party, ActionKind::Ratification, consent, true),
                ],
            )
        } else {
            let steps = [ActionKind::AccessionRequest, ActionKind::Invitation, ActionKind::Accession];
            if !actions.iter().any(|a| steps.contains(&a.kind)) {
                return None;
            }
            (
                None,
                vec![
                    rung(
                        StateStatus::AccessionRequested,
                        ActionKind::AccessionRequest,
                        find(ActionKind::AccessionRequest),
                        false,
                    ),
                    rung(StateStatus::InvitedToAccede, ActionKind::Invitation, find(ActionKind::Invitation), false),
                    rung(StateStatus::Party, ActionKind::Accession, consent, true),
                ],
            )
        };
        // A step the record does not show may have been taken by `as_of` only past the record's coverage of its
        // kind, and not before the treaty was opened.
        let unrecorded_possible =
            |kind| !treaty.recorded_through(kind, as_of) && treaty.opened.possibly_on_or_before(as_of);
        let (mut certain, mut possible, mut previous) = (None, None, true);
        // For a state with nothing certain and no status by default (one that may only accede), the lowest status
        // it may have reached is the group it is listed in.
        let mut lowest = None;
        let mut reasons: Vec<String> = Vec::new();
        for r in &ladder {
            let date = r.action.map(|a| facts.date(a));
            let surely = date.is_some_and(|d| d.certainly_on_or_before(as_of));
            let maybe = surely
                || ((!r.after_previous || previous)
                    && date.map_or_else(|| unrecorded_possible(r.kind), |d| d.possibly_on_or_before(as_of)));
            if surely {
                certain = Some(r.status);
                reasons.clear();
            }
            if maybe {
                possible = Some(r.status);
                lowest = lowest.or(Some(r.status));
                if !surely {
                    reasons.push(match (r.action, date) {
                        (Some(a), Some(d)) => straddles(a.kind, &d, facts.derived_of(a)),
                        _ => record_clause(treaty, r.kind),
                    });
                }
            }
            previous = maybe;
        }
        if let Some(d) = denounced {
            // The status ends when the denunciation takes effect (ETS 185 Article 47(2)), not on its notification.
            let effect = treaty.denunciation_effect(&d.date);
            if effect.certainly_on_or_before(as_of) {
                certain = base;
                possible = base;
                lowest = base;
                reasons.clear();
            } else if effect.possibly_on_or_before(as_of) && certain == Some(StateStatus::Party) {
                certain = base;
                lowest = base;
                reasons.push(match &treaty.denunciation {
                    Some(rule) => format!(
                        "its denunciation takes effect {} ({}); the day is in no source",
                        effect.describe(),
                        rule.article
                    ),
                    None => straddles(d.kind, &d.date, None),
                });
            }
        }
        let status = certain.or(base).or(lowest)?;
        let uncertain = possible.is_some_and(|p| p != status) || (certain.is_none() && base.is_none());
        reasons.dedup();
        let shown = |a: Option<&TreatyAction>| a.map(|a| facts.date(a)).filter(|d| d.possibly_on_or_before(as_of));
        let consented = shown(consent);
        let entry_into_force = consent.filter(|_| consented.is_some()).and_then(|c| {
            c.entry_into_force
                .map(ApproxDate::Day)
                .or_else(|| state_entry_into_force(treaty, facts.general?, &facts.date(c)))
        });
        Some(StateStatusEntry {
            state: state.code.clone(),
            name: state.name.clone(),
            status,
            uncertain,
            possibly: possible.filter(|_| uncertain),
            reason: uncertain.then(|| reasons.join("; ")),
            signed: shown(find(ActionKind::Signature)),
            consented,
            consent_derived: consent.filter(|_| consented.is_some()).and_then(|c| facts.derived_of(c)).cloned(),
            entry_into_force,
        })
    }

    /// The status of every state under a treaty at a date: the report's status table.
    pub fn treaty_status(&self, number: TreatyNumber, as_of: NaiveDate) -> Result<TreatyStatus> {
        let facts = self.facts(number)?;
        let treaty = facts.treaty;
        let mut groups: HashMap<StateStatus, Vec<StateStatusEntry>> = HashMap::new();
        for state in &self.states {
            if let Some(entry) = self.status_in(&facts, state, as_of) {
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
        let past_record = treaty.past_record(as_of);
        let record_note = past_record.then(|| match &treaty.coverage {
            Some(c) if !c.kinds.is_empty() => format!(
                "The record of {} is complete through {} for {} only ({}): every other step may have been taken \
                 by {as_of} on a day no source here gives, so a state that had not taken it is uncertain{}.",
                treaty.label(),
                c.complete_through,
                kinds_words(&c.kinds),
                c.source,
                if as_of > c.complete_through { ", and after that day only the parties are certain" } else { "" }
            ),
            Some(c) => format!(
                "The record of {} is complete through {} ({}); {as_of} is after it, so only the parties are \
                 certain: every other state may have taken a step since that no source here shows. States that \
                 had taken no step towards the treaty by then and may only accede are not listed.",
                treaty.label(),
                c.complete_through,
                c.source
            ),
            None => format!(
                "No source here says through which date the record of {} is complete: only the parties are \
                 certain, and every other state may have taken a step no source here shows.",
                treaty.label()
            ),
        });
        Ok(TreatyStatus {
            treaty: number,
            as_of,
            groups,
            complete_through: treaty.complete_through(),
            past_record,
            record_note,
        })
    }

    /// The states with no recorded consent that may have consented by `day`, past the record (0 within it).
    fn unrecorded_consents(&self, facts: &TreatyFacts<'_>, day: NaiveDate) -> u32 {
        if facts.treaty.consents_recorded_through(day) {
            return 0;
        }
        let recorded: std::collections::HashSet<&CountryCode> =
            self.consents(facts.treaty.number).map(|a| &a.state).collect();
        count(
            self.states
                .iter()
                .filter(|s| !recorded.contains(&s.code))
                .filter_map(|s| self.status_in(facts, s, day))
                .filter(|e| e.possibly == Some(StateStatus::Party))
                .count(),
        )
    }

    /// The consents deposited from `first` to `last`, and by `last`, as bounds.
    fn count_between(
        &self,
        facts: &TreatyFacts<'_>,
        spans: &[Span],
        year: i32,
        first: NaiveDate,
        last: NaiveDate,
    ) -> YearCount {
        let n = |pred: &dyn Fn(&Span) -> bool| count(spans.iter().filter(|s| pred(s)).count());
        let unrecorded = self.unrecorded_consents(facts, last);
        YearCount {
            year,
            added_min: n(&|(e, l)| e.is_some_and(|e| e >= first) && l.is_some_and(|l| l <= last)),
            added_max: n(&|(e, l)| e.is_none_or(|e| e <= last) && l.is_none_or(|l| l >= first)) + unrecorded,
            total_min: n(&|(_, l)| l.is_some_and(|l| l <= last)),
            total_max: n(&|(e, _)| e.is_none_or(|e| e <= last)) + unrecorded,
            past_record: !facts.treaty.consents_recorded_through(last),
        }
    }

    fn spans(&self, facts: &TreatyFacts<'_>) -> Vec<Span> {
        self.consents(facts.treaty.number).map(|a| facts.date(a)).map(|d| (d.earliest(), d.latest())).collect()
    }

    /// Consents deposited per calendar year, `from_year` to `to_year` inclusive, as bounds.
    pub fn consents_per_year(&self, number: TreatyNumber, from_year: i32, to_year: i32) -> Result<Vec<YearCount>> {
        self.consents_per_year_until(number, from_year, to_year, NaiveDate::MAX)
    }

    /// As [`Dataset::consents_per_year`], each year counted up to `until` at the latest (a report as at
    /// 30 November 2007 counts 2007 up to that day).
    pub fn consents_per_year_until(
        &self,
        number: TreatyNumber,
        from_year: i32,
        to_year: i32,
        until: NaiveDate,
    ) -> Result<Vec<YearCount>> {
        let facts = self.facts(number)?;
        let spans = self.spans(&facts);
        Ok((from_year..=to_year)
            .map(|year| {
                let (first, last) = year_bounds(year);
                self.count_between(&facts, &spans, year, first, last.min(until))
            })
            .collect())
    }

    /// Holds a reported series of consents per year against the data: for each year the computed bounds and
    /// the reported figure, and whether some placing of each consent within its bounds (derived bounds applied)
    /// gives the series exactly. A year is counted up to the `as_of` of the dataset's figure for it, when the
    /// dataset holds one (the report's 2007 counts to the end of November); past the record, states that may
    /// have consented without the record showing it may fill the series too.
    pub fn reconcile_consents_per_year(&self, number: TreatyNumber, reported: &[(i32, i64)]) -> Result<Reconciliation> {
        let facts = self.facts(number)?;
        let spans = self.spans(&facts);
        let periods: Vec<crate::derive::Period> =
            reported.iter().map(|&(year, value)| self.reported_period(number, year, value)).collect();
        let years =
            periods.iter().map(|p| (self.count_between(&facts, &spans, p.year, p.first, p.last), p.value)).collect();
        let consents: Vec<(CountryCode, ApproxDate)> =
            self.consents(number).map(|a| (a.state.clone(), facts.date(a))).collect();
        let unrecorded =
            periods.iter().map(|p| p.last).max().map_or(0, |last| self.unrecorded_consents(&facts, last) as usize);
        let placement = crate::derive::Placement::new(&periods, &consents, facts.treaty, unrecorded);
        let undated = placement.undated();
        Ok(Reconciliation { years, consistent: placement.feasible(None), undated })
    }
}

/// The first and last day of a year.
pub(crate) fn year_bounds(year: i32) -> (NaiveDate, NaiveDate) {
    let first = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(NaiveDate::MIN);
    let last = NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(NaiveDate::MAX);
    (first, last)
}

/// The entry into force for a state that consented on `consent`, given the treaty's own.
pub(crate) fn state_entry_into_force(treaty: &Treaty, general: ApproxDate, consent: &ApproxDate) -> Option<ApproxDate> {
    let rule = &treaty.entry_into_force_rule;
    let e = consent.earliest().and_then(|d| rule.later_after(d)).max(general.earliest());
    let l = match (consent.latest(), general.latest()) {
        (Some(c), Some(g)) => rule.later_after(c).map(|c| c.max(g)),
        _ => None,
    };
    Some(match (e, l) {
        (Some(e), Some(l)) if e == l => ApproxDate::Day(e),
        (earliest, latest) => ApproxDate::Between { earliest, latest },
    })
}
