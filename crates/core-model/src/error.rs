//! The one error type of the domain model, with each variant's reason ([`ModelError::reason`]: one per rule,
//! the `ErrorInfo.reason` the API gives) and the values it names ([`ModelError::metadata`]).

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
    #[error("{state}: {kind} of ETS {treaty} {} is before the treaty was opened for signature ({opened})", date.describe())]
    ActionBeforeOpening {
        /// The state.
        state: CountryCode,
        /// The treaty.
        treaty: TreatyNumber,
        /// The action.
        kind: &'static str,
        /// Its date.
        date: ApproxDate,
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
        "{state}: ratification of ETS {treaty} {} without a signature; a state eligible to sign ratifies only what it signed",
        date.describe()
    )]
    RatificationWithoutSignature {
        /// The state.
        state: CountryCode,
        /// The treaty.
        treaty: TreatyNumber,
        /// The ratification's date.
        date: ApproxDate,
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
    #[error("{state}: accession to ETS {treaty} {} without an invitation to accede", date.describe())]
    AccessionWithoutInvitation {
        /// The state.
        state: CountryCode,
        /// The treaty.
        treaty: TreatyNumber,
        /// The accession's date.
        date: ApproxDate,
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
    /// A signature or consent to a treaty open only to the Parties to another (CETS 224) by a
    /// state that was not a Party to it at the date: its consent to the other is dated later, or the other's
    /// record, complete through the date, holds none.
    #[error(
        "{state}: {kind} of treaty {treaty} {} by a state that was not a Party to treaty {convention} then ({}); only its Parties may sign or consent",
        date.describe(),
        consented.map_or_else(|| "the record of its consents, complete through that date, holds none".to_owned(), |c| format!("its consent is dated {c}"))
    )]
    NotPartyOf {
        /// The state.
        state: CountryCode,
        /// The treaty.
        treaty: TreatyNumber,
        /// The action.
        kind: &'static str,
        /// Its date.
        date: ApproxDate,
        /// The treaty whose Parties alone may act.
        convention: TreatyNumber,
        /// The state's consent to it, when recorded (later than the action).
        consented: Option<ApproxDate>,
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
    /// Several problems with one record, each reported (every field that breaks a limit, not only the first).
    #[error("{}", several(.0))]
    Several(Vec<ModelError>),
    /// Two records with one identifier.
    #[error("duplicate {kind} `{id}`")]
    DuplicateId {
        /// What kind of record.
        kind: &'static str,
        /// The identifier.
        id: String,
    },
    /// An article the treaty does not have (ETS 185 has 48).
    #[error("ETS {treaty} has no {article}: its articles are numbered 1 to {articles}")]
    ArticleNotInTreaty {
        /// The treaty.
        treaty: TreatyNumber,
        /// The article named, as written back (`Article 49(2)`).
        article: String,
        /// How many articles the treaty has.
        articles: u32,
    },
}

impl ModelError {
    /// `Ok` for no problem, the problem itself for one, [`ModelError::Several`] for more: a check that reports
    /// every problem it finds, not only the first.
    pub fn all(mut problems: Vec<ModelError>) -> Result<()> {
        match problems.len() {
            0 => Ok(()),
            1 => Err(problems.remove(0)),
            _ => Err(ModelError::Several(problems)),
        }
    }

    /// The rule or failure, in UPPER_SNAKE_CASE: one per variant, never shared (the API's `ErrorInfo.reason`,
    /// listed in `proto/coe/cybercrime/v1/error_reason.proto`).
    pub fn reason(&self) -> &'static str {
        use ModelError as M;
        match self {
            M::UnknownState(_) => "UNKNOWN_STATE",
            M::UnknownTreaty(_) => "UNKNOWN_TREATY",
            M::ActionBeforeOpening { .. } => "ACTION_BEFORE_OPENING",
            M::DuplicateAction { .. } => "DUPLICATE_ACTION",
            M::RatificationWithoutSignature { .. } => "RATIFICATION_WITHOUT_SIGNATURE",
            M::RatificationBeforeSignature { .. } => "RATIFICATION_BEFORE_SIGNATURE",
            M::MustAccede { .. } => "SIGNATURE_BY_INELIGIBLE_STATE",
            M::MustSign { .. } => "ACCESSION_BY_ELIGIBLE_STATE",
            M::AccessionWithoutInvitation { .. } => "ACCESSION_WITHOUT_INVITATION",
            M::AccessionBeforeInvitation { .. } => "ACCESSION_BEFORE_INVITATION",
            M::ProtocolWithoutConvention { .. } => "PROTOCOL_WITHOUT_CONVENTION",
            M::ProtocolBeforeConvention { .. } => "PROTOCOL_BEFORE_CONVENTION",
            M::DenunciationWithoutConsent { .. } => "DENUNCIATION_WITHOUT_CONSENT",
            M::EntryIntoForceMismatch { .. } => "ENTRY_INTO_FORCE_MISMATCH",
            M::DepositOutsideEntryIntoForce { .. } => "DEPOSIT_OUTSIDE_ENTRY_INTO_FORCE",
            M::EndBeforeStart { .. } => "END_BEFORE_START",
            M::EndWithoutStart { .. } => "END_WITHOUT_START",
            M::UnknownOutput(_) => "UNKNOWN_OUTPUT",
            M::Field { .. } | M::Several(_) => "INVALID_FIELD",
            M::UnknownReference { .. } => "UNKNOWN_REFERENCE",
            M::DuplicateId { .. } => "DUPLICATE_ID",
            M::ArticleNotInTreaty { .. } => "ARTICLE_NOT_IN_TREATY",
            M::NotPartyOf { .. } => "NOT_A_PARTY_TO_CONVENTION",
        }
    }

    /// Every reason [`ModelError::reason`] can give.
    pub const REASONS: &[&str] = &[
        "UNKNOWN_STATE",
        "UNKNOWN_TREATY",
        "ACTION_BEFORE_OPENING",
        "DUPLICATE_ACTION",
        "RATIFICATION_WITHOUT_SIGNATURE",
        "RATIFICATION_BEFORE_SIGNATURE",
        "SIGNATURE_BY_INELIGIBLE_STATE",
        "ACCESSION_BY_ELIGIBLE_STATE",
        "ACCESSION_WITHOUT_INVITATION",
        "ACCESSION_BEFORE_INVITATION",
        "PROTOCOL_WITHOUT_CONVENTION",
        "PROTOCOL_BEFORE_CONVENTION",
        "DENUNCIATION_WITHOUT_CONSENT",
        "ENTRY_INTO_FORCE_MISMATCH",
        "DEPOSIT_OUTSIDE_ENTRY_INTO_FORCE",
        "END_BEFORE_START",
        "END_WITHOUT_START",
        "UNKNOWN_OUTPUT",
        "INVALID_FIELD",
        "UNKNOWN_REFERENCE",
        "DUPLICATE_ID",
        "ARTICLE_NOT_IN_TREATY",
        "NOT_A_PARTY_TO_CONVENTION",
    ];

    /// Whether this is a rule of the treaties (the record of a state's actions under a treaty breaks it), as
    /// opposed to a problem of one record's own fields or references.
    pub fn is_treaty_rule(&self) -> bool {
        use ModelError as M;
        matches!(
            self,
            M::ActionBeforeOpening { .. }
                | M::RatificationWithoutSignature { .. }
                | M::RatificationBeforeSignature { .. }
                | M::MustAccede { .. }
                | M::MustSign { .. }
                | M::AccessionWithoutInvitation { .. }
                | M::AccessionBeforeInvitation { .. }
                | M::ProtocolWithoutConvention { .. }
                | M::ProtocolBeforeConvention { .. }
                | M::DenunciationWithoutConsent { .. }
                | M::EntryIntoForceMismatch { .. }
                | M::DepositOutsideEntryIntoForce { .. }
                | M::NotPartyOf { .. }
        )
    }

    /// Every value the message names, by key (`treaty` and `country` as resource names, `treaties/185` and
    /// `countries/AL`; dates as the message writes them): what a client reads instead of parsing the message.
    pub fn metadata(&self) -> Vec<(&'static str, String)> {
        use ModelError as M;
        let treaty = |t: &TreatyNumber| ("treaty", crate::names::treaty(*t));
        let country = |c: &CountryCode| ("country", crate::names::country(c));
        match self {
            M::UnknownState(c) => vec![country(c)],
            M::UnknownTreaty(t) => vec![treaty(t)],
            M::ActionBeforeOpening { state, treaty: t, kind, date, opened } => vec![
                country(state),
                treaty(t),
                ("action", (*kind).to_owned()),
                ("date", date.to_string()),
                ("opened", opened.to_string()),
            ],
            M::DuplicateAction { state, treaty: t, kind, date, first } => {
                let mut m = vec![
                    country(state),
                    treaty(t),
                    ("action", (*kind).to_owned()),
                    ("date", date.to_string()),
                    ("first_date", first.to_string()),
                ];
                // The action that exists, when its kind is known (a second consent may meet a ratification or an
                // accession).
                if let Some(k) = crate::ActionKind::ALL.iter().find(|k| k.noun() == *kind) {
                    m.push(("resource", crate::names::treaty_action(*t, state, *k)));
                }
                m
            }
            M::RatificationWithoutSignature { state, treaty: t, date }
            | M::AccessionWithoutInvitation { state, treaty: t, date } => {
                vec![country(state), treaty(t), ("date", date.to_string())]
            }
            M::RatificationBeforeSignature { state, treaty: t, signed, ratified } => vec![
                country(state),
                treaty(t),
                ("signature_date", signed.to_string()),
                ("ratification_date", ratified.to_string()),
            ],
            M::MustAccede { state, treaty: t, kind } | M::MustSign { state, treaty: t, kind } => {
                vec![country(state), treaty(t), ("action", (*kind).to_owned())]
            }
            M::AccessionBeforeInvitation { state, treaty: t, invited, acceded } => vec![
                country(state),
                treaty(t),
                ("invitation_date", invited.to_string()),
                ("accession_date", acceded.to_string()),
            ],
            M::ProtocolWithoutConvention { state, protocol, convention, date } => vec![
                country(state),
                treaty(protocol),
                ("convention", crate::names::treaty(*convention)),
                ("date", date.to_string()),
            ],
            M::ProtocolBeforeConvention { state, protocol, convention, protocol_date, convention_date } => vec![
                country(state),
                treaty(protocol),
                ("convention", crate::names::treaty(*convention)),
                ("date", protocol_date.to_string()),
                ("convention_date", convention_date.to_string()),
            ],
            M::DenunciationWithoutConsent { state, treaty: t } => vec![country(state), treaty(t)],
            M::EntryIntoForceMismatch { treaty: t, state, recorded, computed, article } => {
                let mut m = vec![treaty(t)];
                m.extend(state.as_ref().map(country));
                m.extend([
                    ("recorded", recorded.to_string()),
                    ("computed", computed.clone()),
                    ("article", article.clone()),
                ]);
                m
            }
            M::DepositOutsideEntryIntoForce { state, treaty: t, entry_into_force, article, month, date } => vec![
                country(state),
                treaty(t),
                ("entry_into_force", entry_into_force.to_string()),
                ("article", article.clone()),
                ("month", month.clone()),
                ("date", date.to_string()),
            ],
            M::EndBeforeStart { id, start, end } => {
                vec![("resource", crate::names::activity(id)), ("start", start.to_string()), ("end", end.to_string())]
            }
            M::EndWithoutStart { id } => vec![("resource", crate::names::activity(id))],
            M::UnknownOutput(o) => vec![("output", o.to_string())],
            M::Field { field, .. } => vec![("field", field.clone())],
            M::Several(all) => {
                let fields: Vec<String> = all.iter().flat_map(ModelError::violations).map(|(f, _)| f).collect();
                vec![("fields", fields.join(","))]
            }
            M::UnknownReference { kind, id } => vec![("kind", (*kind).to_owned()), ("id", id.clone())],
            M::DuplicateId { kind, id } => vec![("kind", (*kind).to_owned()), ("id", id.clone())],
            M::ArticleNotInTreaty { treaty: t, article, articles } => {
                vec![treaty(t), ("article", article.clone()), ("articles", articles.to_string())]
            }
            M::NotPartyOf { state, treaty: t, kind, date, convention, consented } => {
                let mut m = vec![
                    country(state),
                    treaty(t),
                    ("action", (*kind).to_owned()),
                    ("date", date.to_string()),
                    ("convention", crate::names::treaty(*convention)),
                ];
                m.extend(consented.map(|c| ("convention_date", c.to_string())));
                m
            }
        }
    }

    /// The fields of its record this problem is about, each with what is wrong (by the dataset's field names:
    /// `title`, `source[0].locator`, `end`), for a problem of a record's own fields; empty for the others
    /// (treaty rules, references).
    pub fn violations(&self) -> Vec<(String, String)> {
        use ModelError as M;
        match self {
            M::Field { field, reason } => vec![(field.clone(), reason.clone())],
            M::EndBeforeStart { .. } => vec![("end".to_owned(), self.to_string())],
            M::EndWithoutStart { .. } => vec![("start".to_owned(), self.to_string())],
            M::UnknownOutput(_) => vec![("outputs".to_owned(), self.to_string())],
            M::ArticleNotInTreaty { .. } => vec![("article".to_owned(), self.to_string())],
            M::Several(all) => all.iter().flat_map(ModelError::violations).collect(),
            _ => Vec::new(),
        }
    }
}

fn several(all: &[ModelError]) -> String {
    all.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

fn for_state(state: &Option<CountryCode>) -> String {
    state.as_ref().map(|s| format!(" for {s}")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One error of each variant: `match` below is exhaustive, so a new variant must be added here.
    fn one_of_each() -> Vec<ModelError> {
        let s: CountryCode = "AL".parse().expect("a code");
        let t = TreatyNumber(185);
        let d = ApproxDate::Year(2007);
        let day = chrono::NaiveDate::from_ymd_opt(2007, 1, 1).expect("a day");
        let all = vec![
            ModelError::UnknownState(s.clone()),
            ModelError::UnknownTreaty(t),
            ModelError::ActionBeforeOpening { state: s.clone(), treaty: t, kind: "signature", date: d, opened: d },
            ModelError::DuplicateAction { state: s.clone(), treaty: t, kind: "signature", date: d, first: d },
            ModelError::RatificationWithoutSignature { state: s.clone(), treaty: t, date: d },
            ModelError::RatificationBeforeSignature { state: s.clone(), treaty: t, signed: d, ratified: d },
            ModelError::MustAccede { state: s.clone(), treaty: t, kind: "signature" },
            ModelError::MustSign { state: s.clone(), treaty: t, kind: "accession" },
            ModelError::AccessionWithoutInvitation { state: s.clone(), treaty: t, date: d },
            ModelError::AccessionBeforeInvitation { state: s.clone(), treaty: t, invited: d, acceded: d },
            ModelError::ProtocolWithoutConvention { state: s.clone(), protocol: t, convention: t, date: d },
            ModelError::ProtocolBeforeConvention {
                state: s.clone(),
                protocol: t,
                convention: t,
                protocol_date: d,
                convention_date: d,
            },
            ModelError::DenunciationWithoutConsent { state: s.clone(), treaty: t },
            ModelError::EntryIntoForceMismatch {
                treaty: t,
                state: None,
                recorded: day,
                computed: "x".into(),
                article: "x".into(),
            },
            ModelError::DepositOutsideEntryIntoForce {
                state: s,
                treaty: t,
                entry_into_force: day,
                article: "x".into(),
                month: "x".into(),
                date: d,
            },
            ModelError::EndBeforeStart { id: "a".into(), start: d, end: d },
            ModelError::EndWithoutStart { id: "a".into() },
            ModelError::UnknownOutput(4),
            ModelError::Field { field: "title".into(), reason: "required".into() },
            ModelError::Several(Vec::new()),
            ModelError::UnknownReference { kind: "organisation", id: "x".into() },
            ModelError::DuplicateId { kind: "organisation", id: "x".into() },
            ModelError::ArticleNotInTreaty { treaty: t, article: "Article 49".into(), articles: 48 },
            ModelError::NotPartyOf {
                state: "RS".parse().expect("a code"),
                treaty: TreatyNumber(224),
                kind: "ratification",
                date: d,
                convention: t,
                consented: None,
            },
        ];
        for e in &all {
            match e {
                ModelError::UnknownState(_)
                | ModelError::UnknownTreaty(_)
                | ModelError::ActionBeforeOpening { .. }
                | ModelError::DuplicateAction { .. }
                | ModelError::RatificationWithoutSignature { .. }
                | ModelError::RatificationBeforeSignature { .. }
                | ModelError::MustAccede { .. }
                | ModelError::MustSign { .. }
                | ModelError::AccessionWithoutInvitation { .. }
                | ModelError::AccessionBeforeInvitation { .. }
                | ModelError::ProtocolWithoutConvention { .. }
                | ModelError::ProtocolBeforeConvention { .. }
                | ModelError::DenunciationWithoutConsent { .. }
                | ModelError::EntryIntoForceMismatch { .. }
                | ModelError::DepositOutsideEntryIntoForce { .. }
                | ModelError::EndBeforeStart { .. }
                | ModelError::EndWithoutStart { .. }
                | ModelError::UnknownOutput(_)
                | ModelError::Field { .. }
                | ModelError::Several(_)
                | ModelError::UnknownReference { .. }
                | ModelError::DuplicateId { .. }
                | ModelError::ArticleNotInTreaty { .. }
                | ModelError::NotPartyOf { .. } => {}
            }
        }
        all
    }

    #[test]
    fn reasons_lists_every_reason_given() {
        let mut given: Vec<&str> = one_of_each().iter().map(ModelError::reason).collect();
        given.sort_unstable();
        given.dedup();
        let mut listed = ModelError::REASONS.to_vec();
        listed.sort_unstable();
        assert_eq!(given, listed);
    }

    #[test]
    fn every_problem_is_reported() {
        assert_eq!(ModelError::all(Vec::new()), Ok(()));
        let one = ModelError::Field { field: "title".into(), reason: "required".into() };
        assert_eq!(ModelError::all(vec![one.clone()]), Err(one.clone()));
        let two = ModelError::Field { field: "note".into(), reason: "too long".into() };
        let both = ModelError::all(vec![one, two]).unwrap_err();
        assert_eq!(both.to_string(), "field `title`: required; field `note`: too long");
        assert_eq!(both.violations().len(), 2);
    }
}
