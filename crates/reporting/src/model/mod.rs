//! The content of a progress report and of a country brief, built from the data: plain structures that every
//! format renders (and that the JSON format is).
//!
//! A document says what the record can know. Where a treaty's record is complete through a date before the
//! document's (or through no date), the document says so near its top ([`PastRecord`]) and names the states whose
//! status is therefore unknown; in the status table and the brief, an uncertain state is shown apart from the
//! certain ones, with why in plain words (the model's reason: "signed between 2001-11-23 and 2004-12-31; the
//! day is in no source"), never counted as if its status were known.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use core_model::{
    Activity, ActivityStatus, ApproxDate, AssistanceMethod, CountryCode, Dataset, Measure, StateStatus,
    StateStatusEntry, StepStatus, Treaty, TreatyNumber,
};
use serde::Serialize;

use crate::{ReportError, Result};

mod brief;

pub use brief::{BriefTreaty, CountryBrief};

/// The Convention on Cybercrime.
const ETS_185: TreatyNumber = TreatyNumber(185);

/// A period, both days included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    /// First day.
    pub start: NaiveDate,
    /// Last day.
    pub end: NaiveDate,
}

impl Period {
    /// A period, checked.
    pub fn new(start: NaiveDate, end: NaiveDate) -> Result<Period> {
        if end < start {
            return Err(ReportError::PeriodEndsBeforeStart { start, end });
        }
        Ok(Period { start, end })
    }

    fn overlaps(&self, a: &Activity) -> bool {
        let (Some(start), Some(end)) = (a.start, a.end_or_start()) else { return false };
        start.earliest().is_none_or(|s| s <= self.end) && end.latest().is_none_or(|e| e >= self.start)
    }
}

/// One activity as a report lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActivityLine {
    /// Its id.
    pub id: String,
    /// The date as the source writes it (or its canonical form).
    pub date: String,
    /// Where.
    pub place: String,
    /// What.
    pub description: String,
    /// Its status (IATI name).
    pub status: String,
    /// The date is to be confirmed.
    pub tentative: bool,
}

fn activity_line(a: &Activity) -> ActivityLine {
    let date = if a.date_text.is_empty() {
        match (a.start, a.end) {
            (Some(s), Some(e)) => format!("{s} – {e}"),
            // Bounds the source gives no day within, in words: "between 2006-09-01 and 2007-11-30".
            (Some(s), None) if s.precision() == core_model::DatePrecision::Bounded => s.describe(),
            (Some(s), None) => s.to_string(),
            _ => "undated".to_owned(),
        }
    } else {
        a.date_text.clone()
    };
    ActivityLine {
        id: a.id.clone(),
        date,
        place: a.place.text.clone(),
        description: a.description.clone(),
        status: a.status.as_str().to_owned(),
        tentative: a.tentative,
    }
}

fn by_date(a: &&Activity) -> (bool, Option<NaiveDate>) {
    (a.start.is_none(), a.start.and_then(|d| d.earliest()))
}

/// A target of an indicator and its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetLine {
    /// What is counted.
    pub label: String,
    /// The target.
    pub target: u32,
    /// The value at the report's date.
    pub value: usize,
    /// The countries that count.
    pub countries: Vec<String>,
}

/// An output with its indicators' values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutputLine {
    /// 1, 2 or 3.
    pub number: u8,
    /// Short title.
    pub title: String,
    /// The expected result.
    pub text: String,
    /// Indicator targets and values.
    pub targets: Vec<TargetLine>,
}

/// Advice on draft laws given to one country (section 3.1 of the report).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdviceLine {
    /// The country's name.
    pub country: String,
    /// What was done, step by step, with dates.
    pub steps: Vec<String>,
}

/// Cooperation with one country in the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CountryCooperation {
    /// The country's name.
    pub country: String,
    /// Its activities in the period.
    pub activities: Vec<ActivityLine>,
    /// Legislative assistance steps dated in the period.
    pub assistance: Vec<String>,
}

/// Cooperation with one organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrganisationCooperation {
    /// The heading.
    pub title: String,
    /// The organisations.
    pub organisations: Vec<String>,
    /// What was done.
    pub summary: String,
}

/// A study.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StudyLine {
    /// Short title.
    pub title: String,
    /// The question.
    pub question: String,
    /// Who.
    pub by: String,
    /// Launched.
    pub launched: String,
    /// Due.
    pub due: String,
}

/// Consents in one year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct YearLine {
    /// The year.
    pub year: i32,
    /// The figure shown: as reported when a report states it, else as computed.
    pub added: String,
    /// The running total shown.
    pub total: String,
    /// Consents the data dates certainly in the year.
    pub dated: u32,
    /// Consents that may be in the year but whose day no source gives.
    pub undated: u32,
    /// The shown figures are the report's (else computed).
    pub reported: bool,
    /// Added, as a number for the chart (reported, else certain).
    pub added_value: i64,
    /// Total, as a number for the chart.
    pub total_value: i64,
    /// The year ends after the date the treaty's record is complete through (or the record is complete through
    /// no date): its upper figures count every state that may have consented without the record showing it.
    pub past_record: bool,
}

/// Uncertain states of one status column that share what the record can say of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UncertainGroup {
    /// The furthest status they may have reached, in words: "a party", "a signatory"...
    pub possibly: String,
    /// Why their status is uncertain, in plain words (the model's reason).
    pub reason: String,
    /// Their names.
    pub states: Vec<String>,
}

/// One column of the status table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusColumn {
    /// The heading, e.g. "Ratified".
    pub label: String,
    /// How many states the column lists: the certain and the uncertain ones.
    pub count: usize,
    /// How many of them are certainly of this status.
    pub certain: usize,
    /// What a report states, when it differs from the count.
    pub reported: Option<i64>,
    /// The date of the reported figure, when it is not the document's date.
    pub reported_as_of: Option<String>,
    /// The names of the states certainly of this status.
    pub states: Vec<String>,
    /// The states listed here whose status is uncertain (it may be a further one), apart, with why.
    pub uncertain: Vec<UncertainGroup>,
}

/// A treaty whose record ends before a document's date (or is complete through no date): what the record covers
/// and the states whose status is therefore unknown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PastRecord {
    /// "ETS 185".
    pub treaty: String,
    /// "Convention on Cybercrime".
    pub title: String,
    /// The last day the treaty's record is complete through; none: complete through no date.
    pub complete_through: Option<NaiveDate>,
    /// What the record covers, in plain words.
    pub note: String,
    /// The states whose status at the document's date is unknown.
    pub unknown: Vec<String>,
}

/// A treaty's status table and ratifications per year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TreatySection {
    /// "ETS 185".
    pub label: String,
    /// "Convention on Cybercrime".
    pub title: String,
    /// The status table.
    pub columns: Vec<StatusColumn>,
    /// Ratifications per year.
    pub years: Vec<YearLine>,
    /// Some placing of the undated consents gives the reported series exactly.
    pub consistent_with_reported: bool,
    /// The states whose consent's year the data does not fix.
    pub undated: Vec<String>,
    /// The last day the treaty's record is complete through; none: complete through no date.
    pub complete_through: Option<NaiveDate>,
    /// The document's date is after `complete_through` (or the record is complete through no date).
    pub past_record: bool,
    /// The first year of `years` that runs past the record, if any.
    pub first_year_past_record: Option<i32>,
}

/// The priorities set for one year, as "the way ahead" lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PriorityYear {
    /// The year.
    pub year: i32,
    /// The priorities, in the order recorded, in the report's words.
    pub priorities: Vec<String>,
}

/// Money as the report writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FundingLine {
    /// What.
    pub label: String,
    /// How much, e.g. "EUR 270,000 (USD 350,000)".
    pub amount: String,
}

/// The most stored records that cannot be read a document names one by one; it counts the others.
pub const MAX_UNREADABLE_NAMED: usize = 100;

/// The most characters of a reason a document shows (the rest is cut, marked with "…").
const MAX_REASON_CHARS: usize = 200;

/// A stored record the store could not read, so left out of a document, which names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnreadableLine {
    /// Its resource name, e.g. `activities/{id}`, `treaties/185/actions/12` or `records/study/{id}`.
    pub name: String,
    /// Why it could not be read.
    pub reason: String,
}

/// The stored records that could not be read, as a document names them: the first [`MAX_UNREADABLE_NAMED`], each
/// reason cut to 200 characters.
fn unreadable_lines(records: impl IntoIterator<Item = (String, String)>) -> (Vec<UnreadableLine>, usize) {
    let mut lines = Vec::new();
    let mut count = 0;
    for (name, reason) in records {
        count += 1;
        if lines.len() < MAX_UNREADABLE_NAMED {
            let reason = match reason.char_indices().nth(MAX_REASON_CHARS) {
                Some((cut, _)) => format!("{}…", &reason[..cut]),
                None => reason,
            };
            lines.push(UnreadableLine { name, reason });
        }
    }
    (lines, count)
}

/// A progress report "status as at DATE" for a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProgressReport {
    /// "Project on Cybercrime: progress report".
    pub title: String,
    /// The report's date.
    pub as_of: NaiveDate,
    /// The period its activities cover.
    pub period: Period,
    /// How many stored records could not be read and are left out of the report (absent from the JSON when
    /// none).
    #[serde(skip_serializing_if = "is_zero")]
    pub unreadable_count: usize,
    /// The first [`MAX_UNREADABLE_NAMED`] of them, by name, with why (absent from the JSON when none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<UnreadableLine>,
    /// The treaties whose record ends before the report's date, with the states whose status is therefore
    /// unknown (absent from the JSON when none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub past_record: Vec<PastRecord>,
    /// The objective.
    pub objective: String,
    /// The outputs with indicator values.
    pub outputs: Vec<OutputLine>,
    /// Budget and contributions.
    pub funding: Vec<FundingLine>,
    /// Activities done in the period.
    pub activities: Vec<ActivityLine>,
    /// The period has no activity.
    pub empty_period: bool,
    /// Cooperation by country.
    pub countries: Vec<CountryCooperation>,
    /// Cooperation by organisation.
    pub organisations: Vec<OrganisationCooperation>,
    /// Studies.
    pub studies: Vec<StudyLine>,
    /// Specific advice on draft laws, by country (Output 1).
    pub advice: Vec<AdviceLine>,
    /// The Convention and the other treaties.
    pub treaties: Vec<TreatySection>,
    /// Activities proposed after the report's date.
    pub proposed: Vec<ActivityLine>,
    /// The priorities set for the report's year and the years after it.
    pub priorities: Vec<PriorityYear>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn money(m: &core_model::Money) -> String {
    let digits = m.amount.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{} {grouped}", m.currency)
}

fn step_text(s: &core_model::AssistanceStep) -> String {
    let method = match s.method {
        AssistanceMethod::WrittenAnalysis => "written analysis",
        AssistanceMethod::Workshop => "workshop",
        AssistanceMethod::Meetings => "meetings",
        AssistanceMethod::FollowUp => "follow-up",
    };
    let when = s
        .date
        .map(|d| format!(" ({})", d.describe().trim_start_matches("on ").trim_start_matches("in ")))
        .unwrap_or_default();
    let status = match s.status {
        StepStatus::Done => "",
        StepStatus::Underway => " — under way",
        StepStatus::Planned => " — planned",
    };
    format!("{}{when}: {}{status}", capitalise(method), s.description)
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

/// The earliest date the data speaks of (the opening of the first treaty, or the first activity).
fn earliest_fact(ds: &Dataset) -> Option<NaiveDate> {
    ds.treaties
        .iter()
        .filter_map(|t| t.opened.earliest())
        .chain(ds.activities.iter().filter_map(|a| a.start.and_then(|d| d.earliest())))
        .min()
}

fn name_of(ds: &Dataset, c: &CountryCode) -> String {
    ds.state(c).map_or_else(|| c.to_string(), |s| s.name.clone())
}

/// The furthest status an uncertain state may have reached, in words: "may be a party".
fn status_words(s: StateStatus) -> &'static str {
    match s {
        StateStatus::Party => "a party",
        StateStatus::Signatory => "a signatory",
        StateStatus::NotSigned => "not a signatory",
        StateStatus::InvitedToAccede => "invited to accede",
        StateStatus::AccessionRequested => "asking to accede",
    }
}

/// What may be said instead of an uncertain entry's status, and why.
fn possibly_and_reason(e: &StateStatusEntry) -> (String, String) {
    let possibly = e.possibly.map_or("of another status", status_words).to_owned();
    let reason = e.reason.clone().unwrap_or_else(|| "the day of a step is in no source".to_owned());
    (possibly, reason)
}

/// The uncertain entries, grouped by what may be said of them, in the order they come.
fn uncertain_groups<'a>(entries: impl IntoIterator<Item = &'a StateStatusEntry>) -> Vec<UncertainGroup> {
    let mut groups: Vec<UncertainGroup> = Vec::new();
    for e in entries.into_iter().filter(|e| e.uncertain) {
        let (possibly, reason) = possibly_and_reason(e);
        match groups.iter_mut().find(|g| g.possibly == possibly && g.reason == reason) {
            Some(g) => g.states.push(e.name.clone()),
            None => groups.push(UncertainGroup { possibly, reason, states: vec![e.name.clone()] }),
        }
    }
    groups
}

/// "ratifications and accessions".
fn kinds_words(kinds: &[core_model::ActionKind]) -> String {
    let words: Vec<String> = kinds.iter().map(|k| format!("{}s", k.noun())).collect();
    match words.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => "every action".to_owned(),
    }
}

/// What the record of a treaty covers, for a document about one state dated `as_of` past it.
fn record_sentence(treaty: &Treaty, as_of: NaiveDate) -> String {
    match &treaty.coverage {
        Some(c) if !c.kinds.is_empty() => format!(
            "The record of {} is complete through {} for {} only ({}): another step may have been taken on a day no \
             source here gives{}.",
            treaty.label(),
            c.complete_through,
            kinds_words(&c.kinds),
            c.source,
            if as_of > c.complete_through { format!(", and {as_of} is after that day") } else { String::new() }
        ),
        Some(c) => format!(
            "The record of {} is complete through {} ({}); {as_of} is after it, so a step taken since may be in no \
             source here.",
            treaty.label(),
            c.complete_through,
            c.source
        ),
        None => format!(
            "No source here says through which date the record of {} is complete, so a step taken may be in no \
             source here.",
            treaty.label()
        ),
    }
}

fn treaty_section(ds: &Dataset, number: TreatyNumber, as_of: NaiveDate) -> Result<(TreatySection, Option<PastRecord>)> {
    let treaty = ds.treaty(number).ok_or(ReportError::MissingTreaty(number.0))?;
    let status = ds.treaty_status(number, as_of).map_err(|_| ReportError::MissingTreaty(number.0))?;
    let figure = |m: Measure, year: Option<i32>| {
        ds.reported_figures
            .iter()
            .filter(|f| {
                f.treaty == Some(number) && f.measure == m && f.year == year && f.as_of.certainly_on_or_before(as_of)
            })
            .max_by_key(|f| f.as_of.latest())
    };
    let reported = |m: Measure, year: Option<i32>| figure(m, year).map(|f| f.value);
    let columns = status
        .groups
        .iter()
        .map(|g| {
            let measure = match g.status {
                StateStatus::Party => Measure::Parties,
                StateStatus::Signatory => Measure::Signatories,
                StateStatus::NotSigned => Measure::MemberStatesNotSigned,
                StateStatus::InvitedToAccede => Measure::InvitedToAccede,
                StateStatus::AccessionRequested => Measure::AccessionRequested,
            };
            let label = match g.status {
                StateStatus::NotSigned => "Not signed".to_owned(),
                s => s.label().to_owned(),
            };
            let shown = figure(measure, None).filter(|f| f.value != g.states.len() as i64);
            StatusColumn {
                label,
                count: g.states.len(),
                certain: g.certain(),
                reported: shown.map(|f| f.value),
                reported_as_of: shown.filter(|f| f.as_of != ApproxDate::Day(as_of)).map(|f| f.as_of.to_string()),
                states: g.states.iter().filter(|e| !e.uncertain).map(|e| e.name.clone()).collect(),
                uncertain: uncertain_groups(&g.states),
            }
        })
        .collect();
    // Each year counted up to `as_of` at the latest: the report knows nothing after its own date.
    let first = ds
        .consents_per_year_until(
            number,
            treaty.opened.earliest().map_or(2001, |d| chrono::Datelike::year(&d)),
            chrono::Datelike::year(&as_of),
            as_of,
        )
        .map_err(|_| ReportError::MissingTreaty(number.0))?;
    let years: Vec<YearLine> = first
        .iter()
        .skip_while(|y| y.added_max == 0)
        .map(|y| {
            let (ra, rt) =
                (reported(Measure::ConsentsInYear, Some(y.year)), reported(Measure::ConsentsTotal, Some(y.year)));
            let range = |lo: u32, hi: u32, sign: &str| {
                if lo == hi { format!("{sign}{lo}") } else { format!("{sign}{lo}–{hi}") }
            };
            YearLine {
                year: y.year,
                added: ra.map_or_else(|| range(y.added_min, y.added_max, "+"), |v| format!("+{v}")),
                total: rt.map_or_else(|| range(y.total_min, y.total_max, ""), |v| v.to_string()),
                dated: y.added_min,
                undated: y.added_max - y.added_min,
                reported: ra.is_some(),
                added_value: ra.unwrap_or(i64::from(y.added_min)),
                total_value: rt.unwrap_or(i64::from(y.total_min)),
                past_record: y.past_record,
            }
        })
        .collect();
    let series: Vec<(i32, i64)> = years.iter().filter(|y| y.reported).map(|y| (y.year, y.added_value)).collect();
    let rec = ds.reconcile_consents_per_year(number, &series).map_err(|_| ReportError::MissingTreaty(number.0))?;
    let past = status.past_record.then(|| {
        let mut unknown: Vec<&StateStatusEntry> =
            status.groups.iter().flat_map(|g| &g.states).filter(|e| e.uncertain).collect();
        unknown.sort_by_cached_key(|e| e.name.replace('"', "").to_lowercase());
        PastRecord {
            treaty: treaty.label(),
            title: treaty.short_title.clone(),
            complete_through: status.complete_through,
            note: status.record_note.clone().unwrap_or_else(|| record_sentence(treaty, as_of)),
            unknown: unknown.iter().map(|e| e.name.clone()).collect(),
        }
    });
    let section = TreatySection {
        label: treaty.label(),
        title: treaty.short_title.clone(),
        columns,
        first_year_past_record: years.iter().find(|y| y.past_record).map(|y| y.year),
        years,
        consistent_with_reported: rec.consistent,
        undated: rec.undated.iter().map(|c| name_of(ds, c)).collect(),
        complete_through: status.complete_through,
        past_record: status.past_record,
    };
    Ok((section, past))
}

impl ProgressReport {
    /// Builds the report of `period`, status as at `as_of`, from a whole dataset.
    pub fn build(ds: &Dataset, as_of: NaiveDate, period: Period) -> Result<ProgressReport> {
        if let Some(earliest) = earliest_fact(ds).filter(|e| as_of < *e) {
            return Err(ReportError::BeforeAnyData { as_of, earliest });
        }
        let mut done: Vec<&Activity> =
            ds.activities.iter().filter(|a| a.status == ActivityStatus::Completed && period.overlaps(a)).collect();
        done.sort_by_key(by_date);
        let plan_after = |a: &Activity| {
            a.plan
                .as_ref()
                .and_then(|p| ds.plans.iter().find(|x| &x.id == p))
                .is_some_and(|p| p.period_end.latest().is_some_and(|e| e > as_of))
        };
        let mut proposed: Vec<&Activity> = ds
            .activities
            .iter()
            .filter(|a| matches!(a.status, ActivityStatus::Pipeline | ActivityStatus::Implementation))
            .filter(|a| match a.end_or_start() {
                Some(d) => d.latest().is_none_or(|l| l > as_of),
                None => plan_after(a),
            })
            .collect();
        proposed.sort_by_key(by_date);

        let advised = ds.countries_advised(as_of);
        let advice = advised
            .iter()
            .map(|c| {
                let steps: Vec<String> = ds
                    .legislative_assistance
                    .iter()
                    .filter(|a| &a.country == c)
                    .flat_map(|a| &a.steps)
                    .filter(|s| s.date.is_none_or(|d| d.possibly_on_or_before(as_of)))
                    .map(step_text)
                    .collect();
                AdviceLine { country: name_of(ds, c), steps }
            })
            .collect();

        let in_period = |d: &Option<ApproxDate>| {
            d.is_some_and(|d| {
                d.earliest().is_none_or(|e| e <= period.end) && d.latest().is_none_or(|l| l >= period.start)
            })
        };
        let mut by_country: BTreeMap<String, CountryCooperation> = BTreeMap::new();
        for a in &done {
            for c in a.countries.iter().chain(a.place.country.as_ref()) {
                let entry = by_country.entry(name_of(ds, c)).or_insert_with(|| CountryCooperation {
                    country: name_of(ds, c),
                    activities: Vec::new(),
                    assistance: Vec::new(),
                });
                if !entry.activities.iter().any(|x| x.id == a.id) {
                    entry.activities.push(activity_line(a));
                }
            }
        }
        for la in &ds.legislative_assistance {
            for s in la.steps.iter().filter(|s| in_period(&s.date) && s.status == StepStatus::Done) {
                let name = name_of(ds, &la.country);
                by_country
                    .entry(name.clone())
                    .or_insert_with(|| CountryCooperation {
                        country: name,
                        activities: Vec::new(),
                        assistance: Vec::new(),
                    })
                    .assistance
                    .push(step_text(s));
            }
        }

        let org_name =
            |id: &str| ds.organisations.iter().find(|o| o.id == id).map_or_else(|| id.to_owned(), |o| o.name.clone());
        let outputs = ds
            .outputs
            .iter()
            .map(|o| OutputLine {
                number: o.number,
                title: o.title.clone(),
                text: o.text.clone(),
                targets: o
                    .indicators
                    .iter()
                    .flat_map(|i| ds.indicator_values(i, as_of))
                    .map(|v| TargetLine {
                        label: v.target.label.clone(),
                        target: v.target.value,
                        value: v.countries.len(),
                        countries: v.countries.iter().map(|c| name_of(ds, c)).collect(),
                    })
                    .collect(),
            })
            .collect();
        let mut funding: Vec<FundingLine> =
            ds.budget.iter().map(|b| FundingLine { label: b.label.clone(), amount: money(&b.amount) }).collect();
        funding.extend(ds.contributions.iter().map(|c| FundingLine {
            label: format!("{} ({})", org_name(&c.donor), c.period),
            amount: match &c.original_amount {
                Some(o) => format!("{} ({})", money(&c.amount), money(o)),
                None => money(&c.amount),
            },
        }));
        let mut sections = vec![treaty_section(ds, ETS_185, as_of)?];
        // A treaty with recorded actions, once it may have been opened for signature (CETS 224 and the UN
        // Convention have no place in a report of 2007).
        for t in ds.treaties.iter().filter(|t| {
            t.number != ETS_185
                && t.opened.possibly_on_or_before(as_of)
                && ds.treaty_actions.iter().any(|a| a.treaty == t.number)
        }) {
            sections.push(treaty_section(ds, t.number, as_of)?);
        }
        let (treaties, past_record): (Vec<TreatySection>, Vec<Option<PastRecord>>) = sections.into_iter().unzip();
        Ok(ProgressReport {
            title: "Project on Cybercrime: progress report".to_owned(),
            as_of,
            period,
            objective: ds.objective.text.clone(),
            outputs,
            funding,
            empty_period: done.is_empty(),
            activities: done.iter().map(|a| activity_line(a)).collect(),
            countries: by_country.into_values().collect(),
            organisations: ds
                .cooperation
                .iter()
                .map(|c| OrganisationCooperation {
                    title: c.title.clone(),
                    organisations: c.organisations.iter().map(|o| org_name(o)).collect(),
                    summary: c.summary.clone(),
                })
                .collect(),
            studies: ds
                .studies
                .iter()
                .map(|s| StudyLine {
                    title: s.title.clone(),
                    question: s.question.clone(),
                    by: s.by.clone(),
                    launched: s.launched.describe().trim_start_matches("in ").to_owned(),
                    due: s.due.describe().to_owned(),
                })
                .collect(),
            advice,
            treaties,
            proposed: proposed.iter().map(|a| activity_line(a)).collect(),
            priorities: {
                let mut years: Vec<PriorityYear> = Vec::new();
                for p in ds.priorities.iter().filter(|p| p.year >= chrono::Datelike::year(&as_of)) {
                    match years.iter_mut().find(|y| y.year == p.year) {
                        Some(y) => y.priorities.push(p.text.clone()),
                        None => years.push(PriorityYear { year: p.year, priorities: vec![p.text.clone()] }),
                    }
                }
                years.sort_by_key(|y| y.year);
                years
            },
            unreadable_count: 0,
            unreadable: Vec::new(),
            past_record: past_record.into_iter().flatten().collect(),
        })
    }

    /// The report naming the stored records that could not be read (resource name, reason), which the dataset it
    /// was built from lacks: the documents say so near their top.
    pub fn with_unreadable(mut self, records: impl IntoIterator<Item = (String, String)>) -> ProgressReport {
        (self.unreadable, self.unreadable_count) = unreadable_lines(records);
        self
    }
}
