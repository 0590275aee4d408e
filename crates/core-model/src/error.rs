//! The one error type of the domain model.

use crate::{ApproxDate, CountryCode, TreatyNumber};

/// A result whose error is a [`ModelError`].
pub type Result<T, E = ModelError> = std::result::Result<T, E>;

/// Data the model rejects, with what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// No state has this code.
    #[error("unknown state `{0}`")]
    UnknownState(CountryCode),
    /// No treaty has this number.
    #[error("unknown treaty {0}")]
    UnknownTreaty(TreatyNumber),
    /// An action dated before the treaty was opened for signature.
    #[error("{state}: {kind} of ETS {treaty} {date} is before the treaty was opened for signature ({opened})")]
    ActionBeforeOpening {
        /// The state.
        state: CountryCode,
        /// The treaty.
        treaty: TreatyNumber,
        /// The action.
        kind: &'static str,
        /// Its date, described.
        date: String,
        /// The opening date.
        opened: ApproxDate,
    },
    /// The same action twice (two signatures, two consents...).
    #[error("{state}: a second {kind} of ETS {treaty} ({date}); the first is dated {first}")]
    DuplicateAction {
        /// The state.
        state: CountryCode,
        /// The treaty.
        treaty: TreatyNumber,
        /// The action (consents count as one kind: a state consents once).
        kind: &'static str,
        /// The second one's date.
        date: ApproxDate,
        /// The first one's date.
        first: ApproxDate,
    },
    /// A ratification by a state that has not signed.
    #[error(
        "{state}: ratification of ETS {treaty} {date} without a signature; a state eligible to sign ratifies only what it signed"
    )]
    RatificationWithoutSignature {
        /// The state.
        state: CountryCode,
        /// The treaty.
        treaty: TreatyNumber,
        /// The ratification's date, described.
        date: String,
    },
    /// A ratification dated before the state's signature.
    #[error("{state}: ratification of ETS {treaty} ({ratified}) is before its signature ({signed})")]
    RatificationBeforeSignature {
        /// The state.
        state: CountryCode,
        /// The treaty.
        treaty: TreatyNumber,
        /// The signature's date.
        signed: ApproxDate,
        /// The ratification's date.
        ratified: ApproxDate,
    },
    /// A state that may not sign the treaty signed or ratified it: it can only accede.
    #[error("{state} is not eligible to sign ETS {treaty}: it can only accede, once invited (no {kind})")]
    MustAccede {
        /// The state.
        state: CountryCode,
        /// The treaty.
        treaty: TreatyNumber,
        /// The action that was attempted.
        kind: &'static str,
    },
    /// A state eligible to sign the treaty acceded or asked to accede: it signs and ratifies instead.
    #[error("{state} is eligible to sign ETS {treaty}: it signs and ratifies, so an {kind} does not apply to it")]
    MustSign {
        /// The state.
        state: CountryCode,
        /// The treaty.
        treaty: TreatyNumber,
        /// The action that was attempted.
        kind: &'static str,
    },
    /// An accession without an invitation to accede.
    #[error("{state}: accession to ETS {treaty} {date} without an invitation to accede")]
    AccessionWithoutInvitation {
        /// The state.
        state: CountryCode,
        /// The treaty.
        treaty: TreatyNumber,
        /// The accession's date, described.
        date: String,
    },
    /// An accession dated before the invitation.
    #[error("{state}: accession to ETS {treaty} ({acceded}) is before the invitation to accede ({invited})")]
    AccessionBeforeInvitation {
        /// The state.
        state: CountryCode,
        /// The treaty.
        treaty: TreatyNumber,
        /// The invitation's date.
        invited: ApproxDate,
        /// The accession's date.
        acceded: ApproxDate,
    },
    /// Consent to a protocol by a state that has not consented to its convention.
    #[error(
        "{state}: consent to ETS {protocol} ({date}) without consent to ETS {convention}, which must come first or at the same time"
    )]
    ProtocolWithoutConvention {
        /// The state.
        state: CountryCode,
        /// The protocol.
        protocol: TreatyNumber,
        /// The convention.
        convention: TreatyNumber,
        /// The protocol consent's date.
        date: ApproxDate,
    },
    /// Consent to a protocol dated before consent to its convention.
    #[error(
        "{state}: consent to ETS {protocol} ({protocol_date}) is before consent to ETS {convention} ({convention_date}); it must come first or at the same time"
    )]
    ProtocolBeforeConvention {
        /// The state.
        state: CountryCode,
        /// The protocol.
        protocol: TreatyNumber,
        /// The convention.
        convention: TreatyNumber,
        /// The protocol consent's date.
        protocol_date: ApproxDate,
        /// The convention consent's date.
        convention_date: ApproxDate,
    },
    /// A denunciation of a treaty the state had not consented to.
    #[error("{state}: denunciation of ETS {treaty} without consent to it")]
    DenunciationWithoutConsent {
        /// The state.
        state: CountryCode,
        /// The treaty.
        treaty: TreatyNumber,
    },
    /// The entry into force the sources record differs from the one the treaty's rule gives.
    #[error("ETS {treaty}{}: the sources record entry into force on {recorded}, the rule ({article}) gives {computed}", for_state(.state))]
    EntryIntoForceMismatch {
        /// The treaty.
        treaty: TreatyNumber,
        /// The state, for a per-state entry into force; `None` for the treaty's own.
        state: Option<CountryCode>,
        /// What the sources record.
        recorded: chrono::NaiveDate,
        /// What the rule gives, described.
        computed: String,
        /// The article of the rule.
        article: String,
    },
    /// A consent's recorded bounds exclude the month its recorded entry into force puts the deposit in.
    #[error(
        "{state}: the entry into force of ETS {treaty} recorded for it, {entry_into_force}, puts the deposit {month} under {article}; its recorded date, {date}, excludes that month"
    )]
    DepositOutsideEntryIntoForce {
        /// The state.
        state: CountryCode,
        /// The treaty.
        treaty: TreatyNumber,
        /// The entry into force recorded for the state.
        entry_into_force: chrono::NaiveDate,
        /// The article of the rule.
        article: String,
        /// The month the rule puts the deposit in, described ("in January 2007").
        month: String,
        /// The consent's recorded date.
        date: ApproxDate,
    },
    /// An activity that ends before it starts.
    #[error("activity `{id}` ends ({end}) before it starts ({start})")]
    EndBeforeStart {
        /// The activity.
        id: String,
        /// Its start.
        start: ApproxDate,
        /// Its end.
        end: ApproxDate,
    },
    /// An activity with an end but no start.
    #[error("activity `{id}` has an end but no start")]
    EndWithoutStart {
        /// The activity.
        id: String,
    },
    /// An output number other than 1, 2 or 3.
    #[error("output {0} does not exist: the project has outputs 1, 2 and 3")]
    UnknownOutput(u8),
    /// A field that breaks a limit of [`crate::limits`] (its size, or a character it may not hold).
    #[error("field `{field}`: {reason}")]
    Field {
        /// The field, by its name in the dataset (`title`, `source[0].locator`, `place.city`).
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A reference to a record that does not exist.
    #[error("unknown {kind} `{id}`")]
    UnknownReference {
        /// What kind of record, e.g. `organisation`.
        kind: &'static str,
        /// The identifier given.
        id: String,
    },
    /// Two records with one identifier.
    #[error("duplicate {kind} `{id}`")]
    DuplicateId {
        /// What kind of record.
        kind: &'static str,
        /// The identifier.
        id: String,
    },
}

fn for_state(state: &Option<CountryCode>) -> String {
    state.as_ref().map(|s| format!(" for {s}")).unwrap_or_default()
}
