//! Everything else the project records: organisations and cooperation, legislative assistance, country
//! profiles, 24/7 contact points, studies, the objective and outputs with their indicators, the priorities set
//! for a year, funding, and the figures the report states that the data cannot rebuild state by state.

use serde::{Deserialize, Serialize};

use crate::{ApproxDate, CountryCode, SourceRef, TreatyNumber, vocabulary::vocabulary};

/// What kind of body an organisation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OrganisationKind {
    /// An intergovernmental organisation or one of its bodies (ITU, Interpol, OAS...).
    Intergovernmental,
    /// A company or an industry body (Microsoft, eBay, ASSOCHAM...).
    PrivateSector,
    /// Anything else: universities, associations, national bodies, networks.
    Other,
}

vocabulary!(OrganisationKind {
    Intergovernmental => "intergovernmental",
    PrivateSector => "private-sector",
    Other => "other",
});

/// An organisation the project works with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organisation {
    /// Identifier, e.g. `itu`.
    pub id: String,
    /// Full name.
    pub name: String,
    /// Acronym, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acronym: Option<String>,
    /// What kind of body.
    pub kind: OrganisationKind,
    /// Where the facts come from.
    pub source: SourceRef,
}

/// A record of cooperation with an organisation (section 2.3 of the report).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CooperationRecord {
    /// Identifier.
    pub id: String,
    /// The [`Organisation::id`]s cooperated with.
    pub organisations: Vec<String>,
    /// Heading as the report gives it.
    pub title: String,
    /// What was done and what came of it.
    pub summary: String,
    /// When, if one date or period is meant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<ApproxDate>,
    /// Activities ([`crate::Activity::id`]) this cooperation took place in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub activities: Vec<String>,
    /// Where the facts come from.
    pub source: SourceRef,
}

/// How legislative advice was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AssistanceMethod {
    /// A written analysis of a draft law.
    WrittenAnalysis,
    /// A workshop reviewing a draft law.
    Workshop,
    /// Meetings with the authorities.
    Meetings,
    /// A conference or discussions following up earlier advice.
    FollowUp,
}

vocabulary!(AssistanceMethod {
    WrittenAnalysis => "written-analysis",
    Workshop => "workshop",
    Meetings => "meetings",
    FollowUp => "follow-up",
});

/// Whether a step of assistance was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepStatus {
    /// Done.
    Done,
    /// Under way at the date of the source.
    Underway,
    /// Planned.
    Planned,
}

vocabulary!(StepStatus {
    Done => "done",
    Underway => "underway",
    Planned => "planned",
});

/// One step of legislative assistance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssistanceStep {
    /// When, as precisely as known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<ApproxDate>,
    /// How.
    pub method: AssistanceMethod,
    /// Done, under way or planned.
    pub status: StepStatus,
    /// What was done.
    pub description: String,
}

/// Legislative assistance to one country on one piece of legislation (sections 2.2 and 3.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegislativeAssistance {
    /// Identifier.
    pub id: String,
    /// The country advised.
    pub country: CountryCode,
    /// What was reviewed, e.g. `draft law on cybercrime`.
    pub subject: String,
    /// The report lists the country under "Specific advice on draft laws was provided to" (section 3.1).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub specific_advice: bool,
    /// The steps, in order.
    pub steps: Vec<AssistanceStep>,
    /// Where the facts come from.
    pub source: SourceRef,
    /// Free text, e.g. where sources disagree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A country profile on cybercrime legislation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountryProfile {
    /// The country.
    pub country: CountryCode,
    /// When it was prepared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prepared: Option<ApproxDate>,
    /// When it was published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<ApproxDate>,
    /// When it was last reviewed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewed: Option<ApproxDate>,
    /// Where the facts come from.
    pub source: SourceRef,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The state of a country's 24/7 point of contact (Article 35 of ETS 185).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ContactPointStatus {
    /// Established.
    Established,
    /// A temporary contact point is designated.
    Temporary,
    /// Its establishment is under way.
    Underway,
    /// None exists.
    None,
}

vocabulary!(ContactPointStatus {
    Established => "established",
    Temporary => "temporary",
    Underway => "underway",
    None => "none",
});

/// What a source says of a country's 24/7 point of contact at a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactPoint {
    /// The country.
    pub country: CountryCode,
    /// Its state.
    pub status: ContactPointStatus,
    /// The date the source speaks of.
    pub as_at: ApproxDate,
    /// Where the facts come from.
    pub source: SourceRef,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A study commissioned by the project (section 2.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Study {
    /// Identifier.
    pub id: String,
    /// Short title.
    pub title: String,
    /// The question it answers (full title).
    pub question: String,
    /// What it is for.
    pub purpose: String,
    /// Who carries it out.
    pub by: String,
    /// When it was launched.
    pub launched: ApproxDate,
    /// When it is due.
    pub due: ApproxDate,
    /// The outputs it serves.
    pub outputs: Vec<u8>,
    /// Where the facts come from.
    pub source: SourceRef,
}

/// A target of an indicator, e.g. "10 European countries".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// What is counted, e.g. `European countries`.
    pub label: String,
    /// At least this many.
    pub value: u32,
    /// The region the count is restricted to, with `outside_region` the rest of the world.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<crate::Region>,
    /// Count the countries outside `region` instead.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub outside_region: bool,
}

/// An indicator of an output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Indicator {
    /// Identifier, e.g. `1.1`.
    pub id: String,
    /// What it measures.
    pub text: String,
    /// Its targets.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<Target>,
    /// Where it is defined.
    pub source: SourceRef,
}

/// One of the project's expected outputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Output {
    /// 1, 2 or 3.
    pub number: u8,
    /// Short title, e.g. `Legislation`.
    pub title: String,
    /// The expected result as the report words it.
    pub text: String,
    /// Its indicators.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indicators: Vec<Indicator>,
    /// Where it is defined.
    pub source: SourceRef,
}

/// The objective of the project and its period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Objective {
    /// The objective as the report words it.
    pub text: String,
    /// When the project started.
    pub started: ApproxDate,
    /// When it is expected to end.
    pub ends: ApproxDate,
    /// Where it is defined.
    pub source: SourceRef,
}

/// A priority the project sets itself for a year: one item of a report's "Priorities in 2008" (§4.1 of the
/// progress report of 30 November 2007), in the report's words, with what it names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Priority {
    /// Identifier, e.g. `europe-ratification`.
    pub id: String,
    /// The year it is a priority for.
    pub year: i32,
    /// The output (1, 2 or 3) it serves; none for the project's general approach.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<u8>,
    /// The region it concerns, when the report names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<crate::Region>,
    /// The priority as the report words it.
    pub text: String,
    /// The countries it names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub countries: Vec<CountryCode>,
    /// The organisations it names ([`Organisation::id`]s).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub organisations: Vec<String>,
    /// The treaties it names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub treaties: Vec<TreatyNumber>,
    /// When, if the report dates it ("by April 2008", "in December 2008"), as precisely as it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<ApproxDate>,
    /// Where it is set.
    pub source: SourceRef,
    /// Free text, e.g. how a bound was derived or a misprint of the report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Priority {
    /// Checks the priority on its own: the sizes and characters of its text and lists
    /// ([`limits`](crate::limits)) and its output (1, 2 or 3). References are checked with the dataset.
    pub fn check(&self) -> Result<(), crate::ModelError> {
        use crate::limits::{self, check_count, check_lines, check_reference};
        check_reference("id", &self.id)?;
        if self.text.trim().is_empty() {
            return Err(limits::problem("text", "required"));
        }
        check_lines("text", &self.text, limits::DESCRIPTION)?;
        check_count("countries", self.countries.len(), limits::COUNTRIES)?;
        check_count("organisations", self.organisations.len(), limits::PARTNERS)?;
        for (i, o) in self.organisations.iter().enumerate() {
            check_reference(&format!("organisations[{i}]"), o)?;
        }
        check_count("treaties", self.treaties.len(), limits::PARTNERS)?;
        self.source.check("source")?;
        if let Some(note) = &self.note {
            check_lines("note", note, limits::NOTE)?;
        }
        match self.output {
            Some(o) if !(1..=3).contains(&o) => Err(crate::ModelError::UnknownOutput(o)),
            _ => Ok(()),
        }
    }
}

/// An amount of money in whole units of a currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Money {
    /// Whole units.
    pub amount: u64,
    /// ISO 4217 code, e.g. `EUR`.
    pub currency: String,
}

/// A funding source activities name (`project-budget`, `paco-serbia`, `upic`...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FundingSource {
    /// Identifier.
    pub id: String,
    /// Name.
    pub name: String,
    /// Who pays for it ([`Organisation::id`]s).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub funders: Vec<String>,
    /// Where the facts come from.
    pub source: SourceRef,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A line of the budget (e.g. the budget initially planned).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetLine {
    /// Identifier.
    pub id: String,
    /// What it is.
    pub label: String,
    /// How much.
    pub amount: Money,
    /// Where the facts come from.
    pub source: SourceRef,
}

/// A contribution by a donor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contribution {
    /// Identifier.
    pub id: String,
    /// The donor ([`Organisation::id`]).
    pub donor: String,
    /// The amount as the report counts it.
    pub amount: Money,
    /// The amount in the currency it was given in, when the report gives both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_amount: Option<Money>,
    /// The period it covers, as the report words it.
    pub period: String,
    /// Where the facts come from.
    pub source: SourceRef,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// How a reported figure qualifies its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Qualifier {
    /// Exactly.
    #[default]
    Exact,
    /// "More than".
    MoreThan,
    /// "About", "some".
    About,
}

vocabulary!(Qualifier {
    Exact => "exact",
    MoreThan => "more-than",
    About => "about",
});

/// What a reported figure counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Measure {
    /// States that consented to a treaty (the report's "ratified").
    Parties,
    /// States that signed and did not yet ratify.
    Signatories,
    /// Member states of the Council of Europe that have not signed.
    MemberStatesNotSigned,
    /// States invited to accede.
    InvitedToAccede,
    /// States that requested accession.
    AccessionRequested,
    /// Consents deposited in a calendar year (`year`).
    ConsentsInYear,
    /// Consents deposited by the end of a calendar year (`year`).
    ConsentsTotal,
    /// Anything else; `label` says what.
    Other,
}

vocabulary!(Measure {
    Parties => "parties",
    Signatories => "signatories",
    MemberStatesNotSigned => "member-states-not-signed",
    InvitedToAccede => "invited-to-accede",
    AccessionRequested => "accession-requested",
    ConsentsInYear => "consents-in-year",
    ConsentsTotal => "consents-total",
    Other => "other",
});

/// A figure the report states, kept as reported (with its source) so that a computed figure can be shown
/// beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportedFigure {
    /// Identifier.
    pub id: String,
    /// What it counts.
    pub measure: Measure,
    /// The treaty, for treaty figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub treaty: Option<TreatyNumber>,
    /// The calendar year, for per-year figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    /// What is counted, in words.
    pub label: String,
    /// The number.
    pub value: i64,
    /// Exactly, more than, about.
    #[serde(default)]
    pub qualifier: Qualifier,
    /// The date the figure speaks of.
    pub as_of: ApproxDate,
    /// Where it is stated.
    pub source: SourceRef,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}
