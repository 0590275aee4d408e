//! The project's activities, done and planned, with their imprecise dates.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::{ApproxDate, CountryCode, DatePrecision, Region, SourceRef, vocabulary::vocabulary};

/// What kind of activity it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActivityKind {
    /// A conference, forum or summit.
    Conference,
    /// A workshop or seminar.
    Workshop,
    /// Training of practitioners.
    Training,
    /// Analysis of draft legislation.
    LegislativeAnalysis,
    /// A meeting.
    Meeting,
    /// A study.
    Study,
    /// A mission to a country (meetings with its authorities).
    Mission,
}

vocabulary!(ActivityKind {
    Conference => "conference",
    Workshop => "workshop",
    Training => "training",
    LegislativeAnalysis => "legislative-analysis",
    Meeting => "meeting",
    Study => "study",
    Mission => "mission",
});

/// The status of an activity, after IATI's ActivityStatus code list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActivityStatus {
    /// IATI 1, pipeline/identification: planned.
    Pipeline,
    /// IATI 2: under way.
    Implementation,
    /// IATI 3 (finalisation, formerly "completion"): done; the ✓ of the report.
    Completed,
    /// IATI 4: closed.
    Closed,
    /// IATI 5: cancelled.
    Cancelled,
    /// IATI 6: suspended.
    Suspended,
}

vocabulary!(ActivityStatus {
    Pipeline => "pipeline",
    Implementation => "implementation",
    Completed => "completed",
    Closed => "closed",
    Cancelled => "cancelled",
    Suspended => "suspended",
});

impl ActivityStatus {
    /// The IATI ActivityStatus code.
    pub fn iati_code(self) -> u8 {
        match self {
            ActivityStatus::Pipeline => 1,
            ActivityStatus::Implementation => 2,
            ActivityStatus::Completed => 3,
            ActivityStatus::Closed => 4,
            ActivityStatus::Cancelled => 5,
            ActivityStatus::Suspended => 6,
        }
    }
}

/// The part an organisation played in an activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PartnerRole {
    /// It organised the event (the Council of Europe contributed).
    Organiser,
    /// It organised the event together with the Council of Europe.
    CoOrganiser,
    /// It paid for it.
    Funder,
    /// It hosted it.
    Host,
    /// It supported it otherwise.
    Supporter,
    /// It took part.
    Participant,
}

vocabulary!(PartnerRole {
    Organiser => "organiser",
    CoOrganiser => "co-organiser",
    Funder => "funder",
    Host => "host",
    Supporter => "supporter",
    Participant => "participant",
});

/// An organisation's part in an activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Partner {
    /// The [`crate::Organisation::id`].
    pub organisation: String,
    /// Its role.
    pub role: PartnerRole,
}

/// Where an activity took place: the report's words, and what they name.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Place {
    /// As the report writes it, e.g. `Philippines/ Asia and Pacific`.
    pub text: String,
    /// The city, when one is named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// The country, when one is named or implied by the city.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<CountryCode>,
    /// The region, when only a region is named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
    /// The place is still to be confirmed (the report's "place tbc"), whatever the date; the date's own
    /// tentativeness is [`Activity::tentative`].
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tentative: bool,
}

/// The outputs of the project an activity may serve: 1, 2 and 3.
pub const OUTPUTS: std::ops::RangeInclusive<u8> = 1..=3;

/// How precisely an activity's dates are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActivityPrecision {
    /// One day or a range of days.
    Day,
    /// A month.
    Month,
    /// A range of months.
    MonthRange,
    /// Other bounds.
    Bounded,
    /// No date: somewhere within its plan's period.
    Undated,
}

/// One activity of the project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Activity {
    /// Stable identifier, e.g. `2007-03-19-belgrade-regional-conference`.
    pub id: String,
    /// A short title.
    pub title: String,
    /// The description as the report gives it.
    pub description: String,
    /// The date exactly as the report writes it, e.g. `Feb 2008 (tbc)`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub date_text: String,
    /// Start (or the only date); absent when undated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<ApproxDate>,
    /// End, when it differs from the start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<ApproxDate>,
    /// The date is still to be confirmed ("tbc"); a place still to be confirmed is [`Place::tentative`].
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tentative: bool,
    /// Where.
    pub place: Place,
    /// The countries the activity concerns (beneficiaries, participants named by the report).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub countries: Vec<CountryCode>,
    /// What kind of activity.
    pub kind: ActivityKind,
    /// Done, planned, cancelled...
    pub status: ActivityStatus,
    /// The outputs (1, 2, 3) it serves.
    pub outputs: Vec<u8>,
    /// Partner organisations and their roles.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partners: Vec<Partner>,
    /// Funding sources ([`crate::FundingSource::id`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub funding: Vec<String>,
    /// The plan it belongs to ([`crate::Plan::id`]), for planned activities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
    /// Where the facts come from.
    pub source: SourceRef,
    /// Free text, e.g. a correction of the report and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Activity {
    /// Checks the activity on its own: its text and lists keep the [`limits`](crate::limits), it ends no earlier
    /// than it starts, has no end without a start, and serves only outputs 1, 2 and 3. References to other
    /// records are checked where those records are. Every problem is reported ([`ModelError::all`]), not only
    /// the first.
    ///
    /// [`ModelError::all`]: crate::ModelError::all
    pub fn check(&self) -> Result<(), crate::ModelError> {
        crate::ModelError::all(self.problems())
    }

    /// Every problem [`Activity::check`] finds, in the order of the fields.
    pub fn problems(&self) -> Vec<crate::ModelError> {
        let mut problems = self.limit_problems();
        match (self.start, self.end) {
            (None, Some(_)) => problems.push(crate::ModelError::EndWithoutStart { id: self.id.clone() }),
            (Some(start), Some(end)) if end.certainly_before(&start) => {
                problems.push(crate::ModelError::EndBeforeStart { id: self.id.clone(), start, end });
            }
            _ => {}
        }
        problems.extend(
            self.outputs.iter().filter(|o| !OUTPUTS.contains(*o)).map(|o| crate::ModelError::UnknownOutput(*o)),
        );
        problems
    }

    /// Checks the sizes and characters of every field ([`crate::limits`]); errors name the field as the
    /// dataset does (`title`, `place.city`, `source[0].locator`). Every field that breaks a limit is reported.
    pub fn check_limits(&self) -> Result<(), crate::ModelError> {
        crate::ModelError::all(self.limit_problems())
    }

    fn limit_problems(&self) -> Vec<crate::ModelError> {
        use crate::limits::{self, check_count, check_line, check_lines, check_reference};
        let mut problems = Vec::new();
        let mut keep = |r: Result<(), crate::ModelError>| problems.extend(r.err());
        keep(check_line("id", &self.id, limits::REFERENCE));
        if self.title.trim().is_empty() {
            keep(Err(limits::problem("title", "required")));
        } else {
            keep(check_line("title", &self.title, limits::TITLE));
        }
        keep(check_lines("description", &self.description, limits::DESCRIPTION));
        keep(check_line("date_text", &self.date_text, limits::DATE_TEXT));
        keep(check_line("place.text", &self.place.text, limits::PLACE));
        if let Some(city) = &self.place.city {
            keep(check_line("place.city", city, limits::PLACE));
        }
        keep(check_count("countries", self.countries.len(), limits::COUNTRIES));
        keep(check_count("outputs", self.outputs.len(), limits::OUTPUTS));
        keep(check_count("partners", self.partners.len(), limits::PARTNERS));
        for (i, p) in self.partners.iter().enumerate() {
            keep(check_reference(&format!("partners[{i}].organisation"), &p.organisation));
        }
        keep(check_count("funding", self.funding.len(), limits::FUNDING));
        for (i, f) in self.funding.iter().enumerate() {
            keep(check_reference(&format!("funding[{i}]"), f));
        }
        if let Some(plan) = &self.plan {
            keep(check_reference("plan", plan));
        }
        problems.extend(self.source.problems("source"));
        if let Some(note) = &self.note {
            problems.extend(check_lines("note", note, limits::NOTE).err());
        }
        problems
    }

    /// The countries the activity concerns: the country of its place, then the countries it names (one may come
    /// twice). The filter's `country`, the store's index and the country briefs all mean these.
    pub fn countries(&self) -> impl Iterator<Item = &CountryCode> {
        self.place.country.iter().chain(&self.countries)
    }

    /// Whether the activity concerns `country` (one of [`Activity::countries`]).
    pub fn concerns(&self, country: &CountryCode) -> bool {
        self.place.country.as_ref() == Some(country) || self.countries.contains(country)
    }

    /// The region of the activity's place: the region the place names (a workshop "somewhere in Africa"), or else
    /// the region of the place's country, which `region_of` gives. Not the region of the countries it concerns.
    pub fn region(&self, region_of: impl FnOnce(&CountryCode) -> Option<Region>) -> Option<Region> {
        self.place.region.or_else(|| self.place.country.as_ref().and_then(region_of))
    }

    /// The last date of the activity (the end, or the start when it is a single date).
    pub fn end_or_start(&self) -> Option<ApproxDate> {
        self.end.or(self.start)
    }

    /// How precisely the dates are known.
    pub fn precision(&self) -> ActivityPrecision {
        let Some(start) = self.start else { return ActivityPrecision::Undated };
        let end = self.end.unwrap_or(start);
        match (start.precision(), end.precision()) {
            (DatePrecision::Day, DatePrecision::Day) => ActivityPrecision::Day,
            (DatePrecision::Month, DatePrecision::Month) if start == end => ActivityPrecision::Month,
            (DatePrecision::Month, DatePrecision::Month) => ActivityPrecision::MonthRange,
            _ => ActivityPrecision::Bounded,
        }
    }
}

/// A plan: the period a list of proposed activities covers (e.g. section 4.2, December 2007 to June 2008).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// Identifier, e.g. `2007-12..2008-06`.
    pub id: String,
    /// Title as the report gives it.
    pub title: String,
    /// First month of the period.
    pub period_start: ApproxDate,
    /// Last month of the period.
    pub period_end: ApproxDate,
    /// Where the plan is laid down.
    pub source: SourceRef,
}

impl Plan {
    /// Whether the plan's period may overlap the days `start` to `end`: it does not certainly start after `end`
    /// nor certainly end before `start` (an open bound overlaps).
    pub fn may_overlap(&self, start: NaiveDate, end: NaiveDate) -> bool {
        self.period_start.earliest().is_none_or(|s| s <= end) && self.period_end.latest().is_none_or(|e| e >= start)
    }
}
