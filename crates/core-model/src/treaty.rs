//! Treaties, their entry-into-force rules, and the actions states take under them.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::{ApproxDate, CountryCode, SourceRef};

/// The number of a treaty in the Council of Europe series (ETS 185, CETS 201).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TreatyNumber(pub u32);

impl fmt::Display for TreatyNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The series a treaty is published in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TreatySeries {
    /// European Treaty Series (up to number 193).
    #[serde(rename = "ETS")]
    Ets,
    /// Council of Europe Treaty Series (from number 194).
    #[serde(rename = "CETS")]
    Cets,
    /// A treaty deposited with the Secretary-General of the United Nations (e.g. the UN Convention against
    /// Cybercrime). It has no Council of Europe number: [`Treaty::number`] is the system's own key for it, and
    /// [`Treaty::depositary_reference`] its reference in the UN's list (e.g. `XVIII-16`).
    #[serde(rename = "UN")]
    Un,
}

/// Who may sign a treaty; everyone else may only accede, once invited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", deny_unknown_fields)]
pub enum Eligibility {
    /// Member states of the Council of Europe and the non-member states that took part in the treaty's
    /// elaboration ([`crate::State::participated_in`]); e.g. ETS 185 Article 36.
    MembersAndParticipants,
    /// The states that signed another treaty; e.g. ETS 189 Article 9(1) (open for signature by the signatories of
    /// the Convention).
    SignatoriesOf {
        /// The other treaty.
        treaty: TreatyNumber,
    },
    /// The Parties to another treaty, at the date of the action; e.g. CETS 224 (open for signature
    /// by the Parties to the Convention, which consent by signature or ratification). A state signs or consents
    /// only while a Party ([`crate::ModelError::NotPartyOf`]); there is no accession of its own.
    PartiesOf {
        /// The other treaty.
        treaty: TreatyNumber,
    },
    /// Every state and every regional economic integration organisation ([`crate::CountryKind::Reio`]); e.g. the
    /// UN Convention against Cybercrime (open for signature by all States and by regional economic integration
    /// organisations, then open for accession by them, without an invitation).
    AllStatesAndOrganisations,
}

/// How long after the deciding consent a treaty enters into force, and after a later state's deposit for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DaysAfter {
    /// Days after the deposit of the deciding consent (the UN Convention against Cybercrime: the 90th day).
    pub first: u32,
    /// Days after a later state's (or organisation's) deposit, or the treaty's own entry into force if that is
    /// later; `None` when no source here gives the period (the treaty's own period is not assumed for it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub later: Option<u32>,
}

/// "This treaty shall enter into force on the first day of the month following the expiration of a period of
/// `months` months after the date on which `consents` States, including at least `member_states` member
/// States of the Council of Europe, have expressed their consent to be bound"; and for each later state, the
/// first day of the month following `months` months after its own deposit. A treaty of another depositary may
/// count in days instead (`days`: "on the ninetieth day after the deposit of the fortieth instrument"). With
/// neither `months` nor `days` the period is unknown: no entry into force is computed, none is invented.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryIntoForceRule {
    /// Consents needed for the treaty to enter into force.
    pub consents: u32,
    /// Of which at least this many by member states of the Council of Europe.
    pub member_states: u32,
    /// Months after the deciding consent (or after a later state's deposit): the first day of the month after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub months: Option<u32>,
    /// Days after the deciding consent and after a later deposit, for a rule counted in days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<DaysAfter>,
    /// A regional economic integration organisation's consent is not counted towards `consents` (UN Convention
    /// against Cybercrime Article 65(1): not "additional to those deposited by member States of that
    /// organization").
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub organisations_not_counted: bool,
    /// The article that lays the rule down, e.g. `Article 36`.
    pub article: String,
}

impl EntryIntoForceRule {
    /// The treaty's own entry into force when the deciding consent was deposited on `day`; `None` when the
    /// period is unknown.
    pub fn general_after(&self, day: NaiveDate) -> Option<NaiveDate> {
        match (self.months, self.days) {
            (Some(months), _) => crate::first_day_of_month_after(day, months),
            (None, Some(days)) => day.checked_add_days(chrono::Days::new(days.first.into())),
            (None, None) => None,
        }
    }

    /// The entry into force for a state that consents on `day` after the treaty's own (which may be later
    /// still); `None` when the period is unknown.
    pub fn later_after(&self, day: NaiveDate) -> Option<NaiveDate> {
        match (self.months, self.days) {
            (Some(months), _) => crate::first_day_of_month_after(day, months),
            (None, Some(days)) => day.checked_add_days(chrono::Days::new(days.later?.into())),
            (None, None) => None,
        }
    }

    /// The rule in a few words, e.g. `Article 36: 5 consents, at least 3 by member States, then 3 months`.
    pub fn describe(&self) -> String {
        let mut s = format!("{}: {} consents", self.article, self.consents);
        if self.member_states > 0 {
            s.push_str(&format!(", at least {} by member States", self.member_states));
        }
        if self.organisations_not_counted {
            s.push_str(" (an organisation's not counted)");
        }
        match (self.months, self.days) {
            (Some(m), _) => s.push_str(&format!(", then {m} months")),
            (None, Some(d)) => {
                s.push_str(&format!(", then the {}th day after", d.first));
                match d.later {
                    Some(later) => s.push_str(&format!("; for a later consent, the {later}th day after it")),
                    None => s.push_str("; for a later consent, a period no source here gives"),
                }
            }
            (None, None) => s.push_str(", then a period no source here gives"),
        }
        s
    }
}

/// A treaty of the Council of Europe the system follows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Treaty {
    /// Number in its series.
    pub number: TreatyNumber,
    /// ETS or CETS.
    pub series: TreatySeries,
    /// Full title.
    pub title: String,
    /// Short title, e.g. `Convention on Cybercrime`.
    pub short_title: String,
    /// When it was opened for signature, as precisely as known.
    pub opened: ApproxDate,
    /// Where it was opened for signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opened_at: Option<String>,
    /// Who may sign it.
    pub eligibility: Eligibility,
    /// How it enters into force.
    pub entry_into_force_rule: EntryIntoForceRule,
    /// The entry into force the sources record (checked against the rule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_into_force: Option<NaiveDate>,
    /// A state must have consented to this treaty before (or when) it consents to this one (a protocol's
    /// parent convention: ETS 189 Article 9).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires_consent_to: Option<TreatyNumber>,
    /// Where the facts above come from.
    pub source: SourceRef,
    /// Free text, e.g. how a bound was derived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// For a treaty of another depositary, its reference there, e.g. `XVIII-16` (the UN Secretary-General's
    /// list of multilateral treaties, chapter XVIII, number 16).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depositary_reference: Option<String>,
    /// The date through which the record of the treaty's actions is known to be complete, as a sourced fact;
    /// `None`: complete through no date (a state the record does not show as having taken a step may have
    /// taken it at any date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage: Option<Coverage>,
    /// How many articles the treaty has (ETS 185: 48), as a sourced fact of its text; a reservation or
    /// declaration names an article from 1 to this. `None`: not recorded, and articles are not checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub articles: Option<u32>,
    /// How a denunciation takes effect (ETS 185 Article 47); `None`: the record holds no rule, and a recorded
    /// denunciation ends the state's status on the day of the notification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denunciation: Option<DenunciationRule>,
}

/// "Such denunciation shall become effective on the first day of the month following the expiration of a period
/// of `months` months after the date of receipt of the notification by the Secretary General" (ETS 185 Article
/// 47(2)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DenunciationRule {
    /// Months after the notification.
    pub months: u32,
    /// The article that lays the rule down, e.g. `Article 47`.
    pub article: String,
}

/// How far the record of a treaty's actions is complete: every action (of `kinds`, when given) taken on or
/// before `complete_through` is recorded. Actions known after it are recorded and used too; they do not extend it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Coverage {
    /// The last day the record is complete through (e.g. the status date of a complete chart).
    pub complete_through: NaiveDate,
    /// The kinds of action the record is complete for; empty: every kind. (ETS 189's record names every
    /// ratification up to 2007-11-30, not every signature.)
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<ActionKind>,
    /// The source that lists every action up to that day.
    pub source: SourceRef,
    /// Free text: what the source is and what would move the date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Treaty {
    /// `ETS 185`, `CETS 201`; for a UN treaty, `UN XVIII-16` (its depositary reference, else its number).
    pub fn label(&self) -> String {
        let series = match self.series {
            TreatySeries::Ets => "ETS",
            TreatySeries::Cets => "CETS",
            TreatySeries::Un => "UN",
        };
        match &self.depositary_reference {
            Some(reference) => format!("{series} {reference}"),
            None => format!("{series} {}", self.number),
        }
    }

    /// The last day the record of its actions is complete through, if any.
    pub fn complete_through(&self) -> Option<NaiveDate> {
        self.coverage.as_ref().map(|c| c.complete_through)
    }

    /// True when the record cannot say everything that happened by `day`: `day` is after `complete_through`,
    /// the record is complete for some kinds of action only, or it is complete through no date.
    pub fn past_record(&self, day: NaiveDate) -> bool {
        self.coverage.as_ref().is_none_or(|c| day > c.complete_through || !c.kinds.is_empty())
    }

    /// True when every action of `kind` taken by `day` is recorded.
    pub fn recorded_through(&self, kind: ActionKind, day: NaiveDate) -> bool {
        self.coverage
            .as_ref()
            .is_some_and(|c| day <= c.complete_through && (c.kinds.is_empty() || c.kinds.contains(&kind)))
    }

    /// The day a denunciation notified on `notified` takes effect, under [`Treaty::denunciation`]: the first day
    /// of the month following its months after the notification (bounds give bounds); the notification's own
    /// date when the treaty has no rule recorded.
    pub fn denunciation_effect(&self, notified: &ApproxDate) -> ApproxDate {
        let Some(rule) = &self.denunciation else { return *notified };
        let shift = |d: Option<NaiveDate>| d.and_then(|d| crate::first_day_of_month_after(d, rule.months));
        ApproxDate::from_bounds(shift(notified.earliest()), shift(notified.latest()))
    }

    /// True when every consent (ratification or accession) deposited by `day` is recorded.
    pub fn consents_recorded_through(&self, day: NaiveDate) -> bool {
        self.recorded_through(ActionKind::Ratification, day) && self.recorded_through(ActionKind::Accession, day)
    }
}

/// What a state did under a treaty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActionKind {
    /// Signature (by a state eligible to sign).
    Signature,
    /// Deposit of the instrument of ratification, acceptance or approval.
    Ratification,
    /// A request to be invited to accede (e.g. the Philippines' letter of September 2007).
    AccessionRequest,
    /// The invitation to accede (Committee of Ministers, after consulting the parties).
    Invitation,
    /// Deposit of the instrument of accession.
    Accession,
    /// Denunciation.
    Denunciation,
}

crate::vocabulary::vocabulary!(ActionKind {
    Signature => "signature",
    Ratification => "ratification",
    AccessionRequest => "accession-request",
    Invitation => "invitation",
    Accession => "accession",
    Denunciation => "denunciation",
});

impl ActionKind {
    /// True for the two ways of consenting to be bound.
    pub fn is_consent(self) -> bool {
        matches!(self, ActionKind::Ratification | ActionKind::Accession)
    }

    /// The noun reports and errors use.
    pub fn noun(self) -> &'static str {
        match self {
            ActionKind::Signature => "signature",
            ActionKind::Ratification => "ratification",
            ActionKind::AccessionRequest => "accession request",
            ActionKind::Invitation => "invitation to accede",
            ActionKind::Accession => "accession",
            ActionKind::Denunciation => "denunciation",
        }
    }
}

/// One action of one state under one treaty, with its date as precisely as the sources give it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TreatyAction {
    /// The state.
    pub state: CountryCode,
    /// The treaty.
    pub treaty: TreatyNumber,
    /// What it did.
    pub kind: ActionKind,
    /// When.
    pub date: ApproxDate,
    /// For a consent: the entry into force for this state that the sources record (checked against the rule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_into_force: Option<NaiveDate>,
    /// Where the facts come from.
    pub source: SourceRef,
    /// Free text, e.g. how a bound was derived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl TreatyAction {
    /// Checks the sizes and characters of its text ([`crate::limits`]): its citations and its note. The treaty
    /// rules, which need the other actions, are checked with the dataset or the store.
    /// Every problem is reported, not only the first.
    pub fn check_limits(&self) -> Result<(), crate::ModelError> {
        let mut problems = self.source.problems("source");
        if let Some(note) = &self.note {
            problems.extend(crate::limits::check_lines("note", note, crate::limits::NOTE).err());
        }
        crate::ModelError::all(problems)
    }
}

/// What a derived bound of a consent's date rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DerivedKind {
    /// The entry into force a source records for the state, and the treaty's rule ("the first day of the month
    /// following N months after the deposit"): the deposit lies in one calendar month.
    EntryIntoForce,
    /// The consents per year a report states: once every other consent is placed within its bounds, the series
    /// admits exactly one year for this one.
    ReportedSeries,
}

/// A consent's date narrowed by inference from other recorded facts, never to a day no source gives. The recorded
/// date ([`TreatyAction::date`]) stays as the sources give it; every question asked of the consent's date (status,
/// entry into force, consents per year) uses the derived one, which always lies within the recorded bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DerivedBound {
    /// The narrowed date: the recorded bounds intersected with what the inference allows.
    pub date: ApproxDate,
    /// What the inference rests on (the last one applied, when two narrowed the date in turn).
    pub kind: DerivedKind,
    /// How the bound was derived, in plain words.
    pub note: String,
}
