//! The content of a progress report and of a country brief, built from the data: plain structures that every
//! format renders (and that the JSON format is).
//!
//! A document says what the record can know. Where a treaty's record is complete through a date before the
//! document's (or through no date), the document says so near its top ([`PastRecord`]) and names the states whose
//! status is therefore unknown; in the status table and the brief, an uncertain state is shown apart from the
//! certain ones, with why in plain words (the model's reason: "signed between 2001-11-23 and 2004-12-31; the
//! day is in no source"), never counted as if its status were known.

use std::collections::BTreeMap;

use chrono::Datelike;
use chrono::NaiveDate;
use core_model::{
    Activity, ActivityStatus, ApproxDate, AssistanceMethod, CountryCode, Dataset, Measure, SourceRef, StateStatus,
    StateStatusEntry, StepStatus, Treaty, TreatyNumber,
};
use serde::Serialize;

use crate::{ReportError, Result};

mod brief;
pub mod words;

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
    /// The date, written the one way every document writes dates (a source's misprint shown `[sic]` before the
    /// correction).
    pub date: String,
    /// Where.
    pub place: String,
    /// Its short title (the results of each output name activities by it).
    pub title: String,
    /// What.
    pub description: String,
    /// Its status (IATI name).
    pub status: String,
    /// The date is to be confirmed.
    pub tentative: bool,
}

fn activity_line(a: &Activity) -> ActivityLine {
    let description = match (a.start.and_then(|d| d.earliest()), a.end_or_start().and_then(|d| d.latest())) {
        (Some(first), Some(last)) => words::mark_misprints(&a.description, first, last),
        _ => a.description.clone(),
    };
    ActivityLine {
        id: a.id.clone(),
        date: words::activity_date(a),
        place: a.place.text.clone(),
        title: a.title.clone(),
        description,
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
    /// How many activities of the period served this output.
    pub activities_count: usize,
    /// The first [`MAX_SERVED_LISTED`] of them, by date (all are in the list of activities).
    pub activities: Vec<ServedLine>,
    /// The studies of the period that serve this output (their titles).
    pub studies: Vec<String>,
}

/// The most activities a result names under its output; the others are counted (all are in the list of activities).
pub const MAX_SERVED_LISTED: usize = 40;

/// An activity named under the output it served: its date, place and short title.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServedLine {
    /// Its id.
    pub id: String,
    /// The date, written the one way.
    pub date: String,
    /// Where.
    pub place: String,
    /// Its short title.
    pub title: String,
}

/// Advice on draft laws given to one country (section 3.1 of the report).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdviceLine {
    /// The country's name.
    pub country: String,
    /// What was done, step by step, with dates.
    pub steps: Vec<String>,
}

/// Cooperation with one country in the period, or with a region or several countries (an activity that served
/// more than three countries).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CountryCooperation {
    /// The country's name, the region's ("Arab region"), or "Several countries".
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
    /// When: the record's date, else the dates of the activities it tells of, else "undated".
    pub dates: String,
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
    /// `complete_through` written as a day, or "no day".
    pub complete_through_text: String,
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
    /// The day it was generated.
    pub generated: NaiveDate,
    /// The header's dates, written the one way: "as_of", "period", "generated".
    pub dates: BTreeMap<&'static str, String>,
    /// What the record covers, in sentences: how far each treaty's record is complete, which activities it holds.
    pub coverage: Vec<String>,
    /// What a date marked † means, said once.
    pub bound_footnote: String,
    /// The headings of the report, in order, for its table of contents.
    pub contents: Vec<Heading>,
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
    /// The heading of the proposed activities: the plan's title when they belong to one.
    pub proposed_title: String,
    /// The last day of the last plan the record holds, written the one way ("30 Jun 2008"), if any.
    pub plans_until: Option<String>,
    /// Cooperation with donors: the contributions of the period's years.
    pub donors: Vec<FundingLine>,
    /// How the period's activities were funded: each funding source with the number of activities it funded.
    pub funded_by: Vec<FundingLine>,
    /// Every document the report cites, with its full reference.
    pub sources: Vec<SourceLine>,
    /// The priorities set for the report's year and the years after it.
    pub priorities: Vec<PriorityYear>,
}

/// A heading of the report, for its table of contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Heading {
    /// "2.1".
    pub number: String,
    /// "List of activities".
    pub title: String,
    /// The anchor the HTML gives it: "s2-1".
    pub anchor: String,
    /// The anchor Markdown renderers give it: "21-list-of-activities".
    pub md_anchor: String,
    /// 1 for a section, 2 for a subsection.
    pub level: u8,
}

/// A document the report cites.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceLine {
    /// Its id, as citations name it: "report-2007-11".
    pub id: String,
    /// Its full reference.
    pub title: String,
    /// Its address, the date it shows, its weaknesses (when recorded).
    pub note: Option<String>,
}

/// The report's headings, in order.
fn contents(outputs: &[OutputLine], priorities: &[PriorityYear], proposed_title: &str) -> Vec<Heading> {
    let h = |number: &str, title: String| Heading {
        number: number.to_owned(),
        anchor: format!("s{}", number.replace('.', "-")),
        md_anchor: format!("{number} {title}")
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-')
            .map(|c| if c == ' ' { '-' } else { c })
            .collect(),
        level: if number.contains('.') { 2 } else { 1 },
        title,
    };
    let mut out = vec![
        h("1", "Background".to_owned()),
        h("2", "Activities".to_owned()),
        h("2.1", "List of activities".to_owned()),
        h("2.2", "Cooperation with countries and regions".to_owned()),
        h("2.3", "Cooperation with other organisations".to_owned()),
        h("2.4", "Studies".to_owned()),
        h("3", "Results".to_owned()),
    ];
    out.extend(outputs.iter().map(|o| h(&format!("3.{}", o.number), format!("Output {}: {}", o.number, o.title))));
    out.extend([
        h("4", "The way ahead".to_owned()),
        h(
            "4.1",
            match priorities {
                [one] => format!("Priorities in {}", one.year),
                _ => "Priorities".to_owned(),
            },
        ),
        h("4.2", proposed_title.to_owned()),
        h("4.3", "Cooperation with donors".to_owned()),
        h("5", "Sources".to_owned()),
    ]);
    out
}

/// What the record covers, for the report's header.
fn coverage(ds: &Dataset, treaties: &[TreatySection], period: Period) -> Vec<String> {
    let mut out = Vec::new();
    for t in treaties {
        let kinds = ds
            .treaties
            .iter()
            .find(|x| x.label() == t.label)
            .and_then(|x| x.coverage.as_ref())
            .filter(|c| !c.kinds.is_empty())
            .map(|c| format!(" for its {} only", kinds_words(&c.kinds)))
            .unwrap_or_default();
        out.push(match t.complete_through {
            Some(d) => format!(
                "{} ({}): the record of signatures and ratifications is complete through {}{kinds}; steps after that \
                 day are recorded only where a source gives them.",
                t.title,
                t.label,
                words::day(d)
            ),
            None => format!(
                "{} ({}): no source says through which day the record of its signatures and ratifications is \
                 complete.",
                t.title, t.label
            ),
        });
    }
    let done: Vec<&Activity> = ds.activities.iter().filter(|a| a.status == ActivityStatus::Completed).collect();
    let first = done.iter().filter_map(|a| a.start.and_then(|d| d.earliest())).min();
    let last = done.iter().filter_map(|a| a.end_or_start().and_then(|d| d.latest())).max();
    let planned = ds
        .activities
        .iter()
        .filter(|a| a.status != ActivityStatus::Completed)
        .filter_map(|a| a.end_or_start().and_then(|d| d.latest()))
        .max();
    if let (Some(first), Some(last)) = (first, last) {
        let mut s = format!(
            "Activities: the record holds {} done, from {} to {}",
            done.len(),
            words::day(first),
            words::day(last)
        );
        if let Some(p) = planned {
            s.push_str(&format!(", and {} planned, up to {}", ds.activities.len() - done.len(), words::day(p)));
        }
        s.push('.');
        if period.start > last {
            s.push_str(" This report's period begins after the last activity recorded, so it lists none.");
        }
        out.push(s);
    }
    out
}

/// The documents cited, with their full references, in the order of `sources.toml`; then any cited document it
/// does not describe.
fn sources(ds: &Dataset, cited: &[&SourceRef]) -> Vec<SourceLine> {
    let ids: std::collections::BTreeSet<&str> =
        cited.iter().flat_map(|r| r.0.iter().map(|c| c.document.as_str())).collect();
    let mut out: Vec<SourceLine> = ds
        .sources
        .iter()
        .filter(|s| ids.contains(s.id.as_str()))
        .map(|s| SourceLine { id: s.id.clone(), title: s.title.clone(), note: s.note.clone() })
        .collect();
    // A citation of a document the record does not describe (a record written before writes were checked) is
    // still listed, as such.
    for id in ids.iter().filter(|id| !ds.sources.iter().any(|s| s.id == **id)) {
        out.push(SourceLine {
            id: (*id).to_owned(),
            title: "a document this record does not describe (it is not in its list of sources)".to_owned(),
            note: None,
        });
    }
    out
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
    let when = s.date.map(|d| format!(" ({})", words::event(d))).unwrap_or_default();
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
        let reason = words::days_in_words(&reason);
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
                reported_as_of: shown.filter(|f| f.as_of != ApproxDate::Day(as_of)).map(|f| words::date(f.as_of)),
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
            note: words::days_in_words(&status.record_note.clone().unwrap_or_else(|| record_sentence(treaty, as_of))),
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
        complete_through_text: status.complete_through.map_or_else(|| "no day".to_owned(), words::day),
        past_record: status.past_record,
    };
    Ok((section, past))
}

impl ProgressReport {
    /// Builds the report of `period`, status as at `as_of`, from a whole dataset, generated today (UTC).
    pub fn build(ds: &Dataset, as_of: NaiveDate, period: Period) -> Result<ProgressReport> {
        ProgressReport::build_on(ds, as_of, period, chrono::Utc::now().date_naive())
    }

    /// Builds the report of `period`, status as at `as_of`, from a whole dataset, generated on `generated`.
    pub fn build_on(ds: &Dataset, as_of: NaiveDate, period: Period, generated: NaiveDate) -> Result<ProgressReport> {
        if let Some(earliest) = earliest_fact(ds).filter(|e| as_of < *e) {
            return Err(ReportError::BeforeAnyData { as_of, earliest });
        }
        let mut cited: Vec<&SourceRef> = Vec::new();
        let mut done: Vec<&Activity> =
            ds.activities.iter().filter(|a| a.status == ActivityStatus::Completed && period.overlaps(a)).collect();
        done.sort_by_key(by_date);
        cited.extend(done.iter().map(|a| &a.source));
        let plan_after = |a: &Activity| {
            a.plan
                .as_ref()
                .and_then(|p| ds.plans.iter().find(|x| &x.id == p))
                .is_some_and(|p| p.period_end.latest().is_some_and(|e| e > as_of))
        };
        let plans_until = ds.plans.iter().filter_map(|p| p.period_end.latest()).max();
        let mut proposed: Vec<&Activity> = ds
            .activities
            .iter()
            .filter(|a| matches!(a.status, ActivityStatus::Pipeline | ActivityStatus::Implementation))
            .filter(|a| match a.end_or_start() {
                // An activity with no last day is ahead only while the record still speaks of plans: up to the end
                // of the last plan it holds (a report of 2025 does not propose what a report of 2007 planned).
                Some(d) => match d.latest() {
                    Some(l) => l > as_of,
                    None => plans_until.is_some_and(|e| e > as_of),
                },
                None => plan_after(a),
            })
            .collect();
        proposed.sort_by_key(by_date);
        cited.extend(proposed.iter().map(|a| &a.source));
        let mut plans: Vec<&core_model::Plan> = proposed
            .iter()
            .filter_map(|a| a.plan.as_ref().and_then(|p| ds.plans.iter().find(|x| &x.id == p)))
            .collect();
        plans.dedup_by_key(|p| p.id.clone());
        let proposed_title = match plans.as_slice() {
            [plan] => {
                cited.push(&plan.source);
                plan.title.clone()
            }
            _ => format!("Activities proposed after {}", words::day(as_of)),
        };

        let in_period = |d: &Option<ApproxDate>| {
            d.is_some_and(|d| {
                d.earliest().is_none_or(|e| e <= period.end) && d.latest().is_none_or(|l| l >= period.start)
            })
        };
        // Specific advice on draft laws (Output 1): the steps taken by the report's date that the period may hold.
        let advice: Vec<AdviceLine> = ds
            .countries_advised(as_of)
            .iter()
            .filter_map(|c| {
                let mut steps = Vec::new();
                for la in ds.legislative_assistance.iter().filter(|a| &a.country == c) {
                    let shown: Vec<String> = la
                        .steps
                        .iter()
                        .filter(|s| {
                            s.date.is_none_or(|d| d.possibly_on_or_before(as_of) && in_period(&Some(d)))
                                && s.status != StepStatus::Planned
                        })
                        .map(step_text)
                        .collect();
                    if !shown.is_empty() {
                        cited.push(&la.source);
                        steps.extend(shown);
                    }
                }
                (!steps.is_empty()).then(|| AdviceLine { country: name_of(ds, c), steps })
            })
            .collect();

        // Each activity of the period as every section lists it, written once.
        let lines: Vec<ActivityLine> = done.iter().map(|a| activity_line(a)).collect();
        // Cooperation with countries and regions: each activity under the countries it served (up to three), or
        // under their region (more), or "Several countries" (more, of several regions); the venue is its place.
        let mut by_country: BTreeMap<String, CountryCooperation> = BTreeMap::new();
        fn under(map: &mut BTreeMap<String, CountryCooperation>, name: String) -> &mut CountryCooperation {
            map.entry(name.clone()).or_insert_with(|| CountryCooperation {
                country: name,
                activities: Vec::new(),
                assistance: Vec::new(),
            })
        }
        for (i, a) in done.iter().enumerate() {
            let headings: Vec<String> = match a.countries.len() {
                0 => a.place.region.map(|r| r.label().to_owned()).into_iter().collect(),
                1..=3 => a.countries.iter().map(|c| name_of(ds, c)).collect(),
                _ => {
                    let mut regions: Vec<core_model::Region> =
                        a.countries.iter().filter_map(|c| ds.state(c).map(|s| s.region)).collect();
                    regions.sort_by_key(|r| r.label());
                    regions.dedup();
                    match regions.as_slice() {
                        [one] => vec![one.label().to_owned()],
                        _ => vec!["Several countries".to_owned()],
                    }
                }
            };
            let mut headings = headings;
            headings.sort();
            headings.dedup();
            for h in headings {
                under(&mut by_country, h).activities.push(lines[i].clone());
            }
        }
        for la in &ds.legislative_assistance {
            let steps: Vec<String> = la
                .steps
                .iter()
                .filter(|s| in_period(&s.date) && s.status != StepStatus::Planned)
                .map(step_text)
                .collect();
            if !steps.is_empty() {
                cited.push(&la.source);
                under(&mut by_country, name_of(ds, &la.country)).assistance.extend(steps);
            }
        }

        let org_name =
            |id: &str| ds.organisations.iter().find(|o| o.id == id).map_or_else(|| id.to_owned(), |o| o.name.clone());
        let activity = |id: &str| ds.activities.iter().find(|a| a.id == id);
        // A narrative belongs to the period of its date, else of the activities it tells of; with neither, it is
        // shown as undated.
        let organisations: Vec<OrganisationCooperation> = ds
            .cooperation
            .iter()
            .filter(|c| match (&c.date, c.activities.is_empty()) {
                (Some(_), _) => in_period(&c.date),
                (None, false) => c.activities.iter().filter_map(|id| activity(id)).any(|a| period.overlaps(a)),
                (None, true) => true,
            })
            .map(|c| {
                cited.push(&c.source);
                let dates = match c.date {
                    Some(d) => words::event(d),
                    None if c.activities.is_empty() => "undated".to_owned(),
                    None => c
                        .activities
                        .iter()
                        .filter_map(|id| activity(id))
                        .map(|a| words::span(a.start, a.end))
                        .collect::<Vec<_>>()
                        .join("; "),
                };
                let summary = match c.date.and_then(|d| Some((d.earliest()?, d.latest()?))) {
                    Some((first, last)) => words::mark_misprints(&c.summary, first, last),
                    None => c.summary.clone(),
                };
                OrganisationCooperation {
                    title: c.title.clone(),
                    organisations: c.organisations.iter().map(|o| org_name(o)).collect(),
                    dates,
                    summary,
                }
            })
            .collect();

        let studies: Vec<&core_model::Study> = ds
            .studies
            .iter()
            .filter(|s| {
                s.launched.earliest().is_none_or(|e| e <= period.end)
                    && s.due.latest().is_none_or(|l| l >= period.start)
            })
            .collect();
        cited.extend(studies.iter().map(|s| &s.source));

        cited.push(&ds.objective.source);
        let outputs = ds
            .outputs
            .iter()
            .map(|o| {
                cited.push(&o.source);
                cited.extend(o.indicators.iter().map(|i| &i.source));
                OutputLine {
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
                    activities_count: done.iter().filter(|a| a.outputs.contains(&o.number)).count(),
                    activities: done
                        .iter()
                        .zip(&lines)
                        .filter(|(a, _)| a.outputs.contains(&o.number))
                        .take(MAX_SERVED_LISTED)
                        .map(|(_, l)| ServedLine {
                            id: l.id.clone(),
                            date: l.date.clone(),
                            place: l.place.clone(),
                            title: l.title.clone(),
                        })
                        .collect(),
                    studies: studies
                        .iter()
                        .filter(|s| s.outputs.contains(&o.number))
                        .map(|s| s.title.clone())
                        .collect(),
                }
            })
            .collect();
        let mut funding: Vec<FundingLine> = ds
            .budget
            .iter()
            .map(|b| {
                cited.push(&b.source);
                FundingLine { label: b.label.clone(), amount: money(&b.amount) }
            })
            .collect();
        let contribution = |c: &core_model::Contribution| FundingLine {
            label: format!("{} ({})", org_name(&c.donor), c.period),
            amount: match &c.original_amount {
                Some(o) => format!("{} ({})", money(&c.amount), money(o)),
                None => money(&c.amount),
            },
        };
        funding.extend(ds.contributions.iter().map(contribution));
        cited.extend(ds.contributions.iter().map(|c| &c.source));
        // Cooperation with donors: the contributions whose years the period shares.
        let (first_year, last_year) = (period.start.year(), period.end.year());
        let donors: Vec<FundingLine> = ds
            .contributions
            .iter()
            .filter(|c| {
                let ys = words::four_digit_numbers(&c.period);
                match (ys.iter().min(), ys.iter().max()) {
                    (Some(lo), Some(hi)) => *lo <= last_year && *hi >= first_year,
                    _ => true,
                }
            })
            .map(contribution)
            .collect();
        let mut funded_by: Vec<FundingLine> = Vec::new();
        for f in &ds.funding_sources {
            let n = done.iter().filter(|a| a.funding.contains(&f.id)).count();
            if n > 0 {
                cited.push(&f.source);
                funded_by.push(FundingLine {
                    label: f.name.clone(),
                    amount: format!("{n} {}", if n == 1 { "activity" } else { "activities" }),
                });
            }
        }

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
        let shown: Vec<TreatyNumber> = ds
            .treaties
            .iter()
            .filter(|t| sections.iter().any(|(s, _)| s.label == t.label()))
            .map(|t| t.number)
            .collect();
        for t in ds.treaties.iter().filter(|t| shown.contains(&t.number)) {
            cited.push(&t.source);
            cited.extend(t.coverage.iter().map(|c| &c.source));
        }
        cited.extend(
            ds.treaty_actions
                .iter()
                .filter(|a| shown.contains(&a.treaty) && a.date.possibly_on_or_before(as_of))
                .map(|a| &a.source),
        );
        cited.extend(
            ds.reported_figures
                .iter()
                .filter(|f| f.treaty.is_some_and(|t| shown.contains(&t)) && f.as_of.certainly_on_or_before(as_of))
                .map(|f| &f.source),
        );
        let (treaties, past_record): (Vec<TreatySection>, Vec<Option<PastRecord>>) = sections.into_iter().unzip();

        let priorities = {
            let mut years: Vec<PriorityYear> = Vec::new();
            for p in ds.priorities.iter().filter(|p| p.year >= as_of.year()) {
                cited.push(&p.source);
                let text = match p.date.and_then(|d| Some((d.earliest()?, d.latest()?))) {
                    Some((first, last)) => words::mark_misprints(&p.text, first, last),
                    None => p.text.clone(),
                };
                match years.iter_mut().find(|y| y.year == p.year) {
                    Some(y) => y.priorities.push(text),
                    None => years.push(PriorityYear { year: p.year, priorities: vec![text] }),
                }
            }
            years.sort_by_key(|y| y.year);
            years
        };

        let outputs: Vec<OutputLine> = outputs;
        let contents = contents(&outputs, &priorities, &proposed_title);
        let mut dates = BTreeMap::new();
        dates.insert("as_of", words::day(as_of));
        dates.insert("period", words::span(Some(ApproxDate::Day(period.start)), Some(ApproxDate::Day(period.end))));
        dates.insert("generated", words::day(generated));
        Ok(ProgressReport {
            title: "Project on Cybercrime: progress report".to_owned(),
            as_of,
            period,
            generated,
            dates,
            coverage: coverage(ds, &treaties, period),
            bound_footnote: words::BOUND_FOOTNOTE.to_owned(),
            contents,
            objective: ds.objective.text.clone(),
            outputs,
            funding,
            empty_period: done.is_empty(),
            activities: lines,
            countries: by_country.into_values().collect(),
            organisations,
            studies: studies
                .iter()
                .map(|s| StudyLine {
                    title: s.title.clone(),
                    question: s.question.clone(),
                    by: s.by.clone(),
                    launched: words::date(s.launched),
                    due: words::date(s.due),
                })
                .collect(),
            advice,
            treaties,
            proposed: proposed.iter().map(|a| activity_line(a)).collect(),
            proposed_title,
            plans_until: plans_until.map(words::day),
            priorities,
            donors,
            funded_by,
            sources: sources(ds, &cited),
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
