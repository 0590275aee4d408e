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
}

/// Who may sign a treaty; everyone else may only accede, once invited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", deny_unknown_fields)]
pub enum Eligibility {
    /// Member states of the Council of Europe and the non-member states that took part in the treaty's
    /// elaboration ([`crate::State::participated_in`]); e.g. ETS 185 Article 36.
    MembersAndParticipants,
    /// The states that signed another treaty; e.g. ETS 189 Article 11 (signatories of the Convention).
    SignatoriesOf {
        /// The other treaty.
        treaty: TreatyNumber,
    },
}

/// "This treaty shall enter into force on the first day of the month following the expiration of a period of
/// `months` months after the date on which `consents` States, including at least `member_states` member
/// States of the Council of Europe, have expressed their consent to be bound"; and for each later state, the
/// first day of the month following `months` months after its own deposit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryIntoForceRule {
    /// Consents needed for the treaty to enter into force.
    pub consents: u32,
    /// Of which at least this many by member states of the Council of Europe.
    pub member_states: u32,
    /// Months after the deciding consent (or after a later state's deposit).
    pub months: u32,
    /// The article that lays the rule down, e.g. `Article 36`.
    pub article: String,
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
}

impl Treaty {
    /// `ETS 185`, `CETS 201`.
    pub fn label(&self) -> String {
        let series = match self.series {
            TreatySeries::Ets => "ETS",
            TreatySeries::Cets => "CETS",
        };
        format!("{series} {}", self.number)
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
    pub fn check_limits(&self) -> Result<(), crate::ModelError> {
        self.source.check("source")?;
        if let Some(note) = &self.note {
            crate::limits::check_lines("note", note, crate::limits::NOTE)?;
        }
        Ok(())
    }
}
