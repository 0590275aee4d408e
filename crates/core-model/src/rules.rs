//! The rules that reject impossible treaty data, and the checks of recorded entry-into-force dates against
//! the treaties' rules.
//!
//! A rule is broken only when the dates *certainly* break it: a ratification known only to lie "between
//! 2004-01-01 and 2007-11-30" does not break "ratify after signing" against a signature of unknown date.

use std::collections::HashMap;

use crate::{
    ActionKind, ApproxDate, CountryCode, Dataset, Eligibility, ModelError, Result, State, Treaty, TreatyAction,
    TreatyNumber,
    dataset::{Validator, action_label},
};

impl Dataset {
    /// The treaty with this number.
    pub fn treaty(&self, number: TreatyNumber) -> Option<&Treaty> {
        self.treaties.iter().find(|t| t.number == number)
    }

    /// The state with this code.
    pub fn state(&self, code: &CountryCode) -> Option<&State> {
        self.states.iter().find(|s| &s.code == code)
    }

    /// The actions of one state under one treaty, in dataset order.
    pub fn actions_of<'a>(
        &'a self,
        state: &'a CountryCode,
        treaty: TreatyNumber,
    ) -> impl Iterator<Item = &'a TreatyAction> + 'a {
        self.treaty_actions.iter().filter(move |a| &a.state == state && a.treaty == treaty)
    }

    /// Whether `state` may sign `treaty` (otherwise it can only accede, once invited), at a date or, with
    /// `None`, at any date. For a treaty open to the signatories of another, a signature that may be on or
    /// before the date counts; for one open to the Parties to another, a consent to it that may be on or before
    /// the date (and not certainly denounced by then), or a recorded step under the treaty itself (which only a
    /// Party may take).
    pub fn may_sign(&self, state: &State, treaty: &Treaty, at: Option<chrono::NaiveDate>) -> bool {
        match treaty.eligibility {
            Eligibility::MembersAndParticipants => state.coe_member || state.participated_in.contains(&treaty.number),
            Eligibility::SignatoriesOf { treaty: other } => self
                .actions_of(&state.code, other)
                .any(|a| a.kind == ActionKind::Signature && at.is_none_or(|day| a.date.possibly_on_or_before(day))),
            Eligibility::PartiesOf { treaty: other } => {
                let consented = self
                    .actions_of(&state.code, other)
                    .any(|a| a.kind.is_consent() && at.is_none_or(|day| a.date.possibly_on_or_before(day)));
                let denounced = self.actions_of(&state.code, other).any(|a| {
                    a.kind == ActionKind::Denunciation && at.is_some_and(|day| a.date.certainly_on_or_before(day))
                });
                (consented && !denounced) || self.actions_of(&state.code, treaty.number).next().is_some()
            }
            Eligibility::AllStatesAndOrganisations => true,
        }
    }

    /// Checks a new action against the treaty, the state and every action already recorded: the check a write
    /// must pass before it is stored.
    pub fn check_new_action(&self, action: &TreatyAction) -> Result<()> {
        let others: Vec<&TreatyAction> = self.treaty_actions.iter().filter(|a| a.state == action.state).collect();
        if let Some(first) = others.iter().find(|o| o.treaty == action.treaty && same_kind(o.kind, action.kind)) {
            return Err(duplicate(action, first));
        }
        check_action(self, action, &others)?;
        // A consent that comes after a step the state already took under a treaty open only to the Parties to
        // this one (a CETS 224 signature recorded past ETS 185's record) would leave that step taken by a
        // non-Party.
        if action.kind.is_consent() {
            for o in &others {
                let Some(t) = self.treaty(o.treaty) else { continue };
                if t.eligibility == (Eligibility::PartiesOf { treaty: action.treaty })
                    && matches!(o.kind, ActionKind::Signature | ActionKind::Ratification | ActionKind::Accession)
                    && o.date.certainly_before(&action.date)
                {
                    return Err(ModelError::NotPartyOf {
                        state: o.state.clone(),
                        treaty: o.treaty,
                        kind: o.kind.noun(),
                        date: o.date,
                        convention: action.treaty,
                        consented: Some(action.date),
                    });
                }
            }
        }
        Ok(())
    }
}

impl Dataset {
    /// Every treaty rule the record of treaty actions breaks as a whole: each action against the treaty, its
    /// state and the state's other actions (no step taken twice, ratify after signing, accede once invited, a
    /// protocol after its convention, ETS 189's signatories among ETS 185's, nothing before a treaty opened), and
    /// every recorded entry into force against the rules (which the consents of every state decide). A correction
    /// or a withdrawal is checked by comparing this list before and after the change: it may bring no new one.
    pub fn treaty_rule_violations(&self) -> Vec<ModelError> {
        let mut found = Vec::new();
        let mut by_state: HashMap<&CountryCode, Vec<&TreatyAction>> = HashMap::new();
        for a in &self.treaty_actions {
            by_state.entry(&a.state).or_default().push(a);
        }
        for (i, a) in self.treaty_actions.iter().enumerate() {
            let earlier = self.treaty_actions[..i]
                .iter()
                .find(|o| o.state == a.state && o.treaty == a.treaty && same_kind(o.kind, a.kind));
            if let Some(first) = earlier {
                found.push(duplicate(a, first));
            } else if let Err(e) = check_action(self, a, &by_state[&a.state]) {
                found.push(e);
            }
        }
        let mut v = Validator { errors: Vec::new() };
        check_entry_into_force(self, &mut v, |e| found.push(e));
        found
    }
}

/// Two actions a state takes only once under a treaty (the two consents count as one).
fn same_kind(a: ActionKind, b: ActionKind) -> bool {
    a == b || (a.is_consent() && b.is_consent())
}

fn duplicate(action: &TreatyAction, first: &TreatyAction) -> ModelError {
    ModelError::DuplicateAction {
        state: action.state.clone(),
        treaty: action.treaty,
        kind: if action.kind.is_consent() { "consent" } else { action.kind.noun() },
        date: action.date,
        first: first.date,
    }
}

/// Checks one action against the treaty, the state and the state's other actions (`others`, which may or may
/// not include the action itself).
pub(crate) fn check_action(ds: &Dataset, a: &TreatyAction, others: &[&TreatyAction]) -> Result<()> {
    let treaty = ds.treaty(a.treaty).ok_or(ModelError::UnknownTreaty(a.treaty))?;
    let state = ds.state(&a.state).ok_or_else(|| ModelError::UnknownState(a.state.clone()))?;
    let find = |treaty: TreatyNumber, pred: fn(ActionKind) -> bool| {
        others.iter().copied().find(|o| !std::ptr::eq(*o, a) && o.treaty == treaty && pred(o.kind))
    };

    if treaty.opened.earliest().is_some() && a.date.certainly_before(&treaty.opened) {
        return Err(ModelError::ActionBeforeOpening {
            state: a.state.clone(),
            treaty: a.treaty,
            kind: a.kind.noun(),
            date: a.date,
            opened: treaty.opened,
        });
    }

    if let Eligibility::PartiesOf { treaty: convention } = treaty.eligibility {
        check_party_of(ds, a, convention, &find)?;
    }
    let open_to_all = treaty.eligibility == Eligibility::AllStatesAndOrganisations;
    let may_sign = ds.may_sign(state, treaty, None) || matches!(treaty.eligibility, Eligibility::PartiesOf { .. });
    match a.kind {
        // Open to all: accession needs no invitation (the UN Convention against Cybercrime, S42: article 64).
        ActionKind::Accession if open_to_all => {}
        ActionKind::Signature | ActionKind::Ratification if !may_sign => {
            return Err(ModelError::MustAccede { state: a.state.clone(), treaty: a.treaty, kind: a.kind.noun() });
        }
        ActionKind::AccessionRequest | ActionKind::Invitation | ActionKind::Accession if may_sign => {
            return Err(ModelError::MustSign { state: a.state.clone(), treaty: a.treaty, kind: a.kind.noun() });
        }
        ActionKind::Ratification => match find(a.treaty, |k| k == ActionKind::Signature) {
            None => {
                return Err(ModelError::RatificationWithoutSignature {
                    state: a.state.clone(),
                    treaty: a.treaty,
                    date: a.date,
                });
            }
            Some(sig) if a.date.certainly_before(&sig.date) => {
                return Err(ModelError::RatificationBeforeSignature {
                    state: a.state.clone(),
                    treaty: a.treaty,
                    signed: sig.date,
                    ratified: a.date,
                });
            }
            Some(_) => {}
        },
        ActionKind::Accession => match find(a.treaty, |k| k == ActionKind::Invitation) {
            None => {
                return Err(ModelError::AccessionWithoutInvitation {
                    state: a.state.clone(),
                    treaty: a.treaty,
                    date: a.date,
                });
            }
            Some(inv) if a.date.certainly_before(&inv.date) => {
                return Err(ModelError::AccessionBeforeInvitation {
                    state: a.state.clone(),
                    treaty: a.treaty,
                    invited: inv.date,
                    acceded: a.date,
                });
            }
            Some(_) => {}
        },
        ActionKind::Denunciation => {
            if find(a.treaty, ActionKind::is_consent).is_none() {
                return Err(ModelError::DenunciationWithoutConsent { state: a.state.clone(), treaty: a.treaty });
            }
        }
        ActionKind::Signature | ActionKind::AccessionRequest | ActionKind::Invitation => {}
    }

    if let (true, Some(convention)) = (a.kind.is_consent(), treaty.requires_consent_to) {
        match find(convention, ActionKind::is_consent) {
            None => {
                return Err(ModelError::ProtocolWithoutConvention {
                    state: a.state.clone(),
                    protocol: a.treaty,
                    convention,
                    date: a.date,
                });
            }
            Some(c) if a.date.certainly_before(&c.date) => {
                return Err(ModelError::ProtocolBeforeConvention {
                    state: a.state.clone(),
                    protocol: a.treaty,
                    convention,
                    protocol_date: a.date,
                    convention_date: c.date,
                });
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// For a treaty open to the Parties to `convention` (CETS 224): a signature or consent by a state
/// that certainly was not a Party at its date. A consent to the convention recorded after the action breaks it;
/// one not recorded at all breaks it only where the convention's record of consents is complete through the
/// action's latest possible day (its coverage): past that, the state may have become a Party on a day no source
/// here gives, which cannot be checked.
fn check_party_of<'a>(
    ds: &Dataset,
    a: &TreatyAction,
    convention: TreatyNumber,
    find: &impl Fn(TreatyNumber, fn(ActionKind) -> bool) -> Option<&'a TreatyAction>,
) -> Result<()> {
    if !matches!(a.kind, ActionKind::Signature | ActionKind::Ratification | ActionKind::Accession) {
        return Ok(());
    }
    let not_party = |consented: Option<ApproxDate>| ModelError::NotPartyOf {
        state: a.state.clone(),
        treaty: a.treaty,
        kind: a.kind.noun(),
        date: a.date,
        convention,
        consented,
    };
    match find(convention, ActionKind::is_consent) {
        Some(c) if a.date.certainly_before(&c.date) => Err(not_party(Some(c.date))),
        Some(_) => Ok(()),
        None => {
            let complete = ds
                .treaty(convention)
                .zip(a.date.latest())
                .is_some_and(|(t, latest)| t.consents_recorded_through(latest));
            if complete { Err(not_party(None)) } else { Ok(()) }
        }
    }
}

/// Every domain rule over a whole dataset.
pub(crate) fn check_dataset(ds: &Dataset, v: &mut Validator) {
    const FILE: &str = "treaty-actions.toml";
    let mut by_state: HashMap<&CountryCode, Vec<&TreatyAction>> = HashMap::new();
    for a in &ds.treaty_actions {
        by_state.entry(&a.state).or_default().push(a);
    }
    for (i, a) in ds.treaty_actions.iter().enumerate() {
        if let Err(e) = a.check_limits() {
            push_field_error(v, FILE, action_label(i, a), e);
        }
        let others = &by_state[&a.state];
        let earlier = ds.treaty_actions[..i]
            .iter()
            .find(|o| o.state == a.state && o.treaty == a.treaty && same_kind(o.kind, a.kind));
        if let Some(first) = earlier {
            v.push(FILE, action_label(i, a), "kind", duplicate(a, first));
        } else if let Err(e) = check_action(ds, a, others) {
            let field = match e {
                ModelError::UnknownTreaty(_) => "treaty",
                ModelError::UnknownState(_) => "state",
                ModelError::MustAccede { .. } | ModelError::MustSign { .. } => "kind",
                ModelError::NotPartyOf { .. } => "state",
                _ => "date",
            };
            v.push(FILE, action_label(i, a), field, e);
        }
    }
    check_entry_into_force(ds, v, |_| {});
    for a in &ds.activities {
        for e in a.problems() {
            let field = if matches!(e, ModelError::UnknownOutput(_)) { "outputs" } else { "end" };
            match e {
                ModelError::Field { .. } => push_field_error(v, "activities.toml", format!("activity {}", a.id), e),
                e => v.push("activities.toml", format!("activity {}", a.id), field, e),
            }
        }
    }
    for p in &ds.priorities {
        match p.check() {
            Ok(()) => {}
            Err(e @ ModelError::Field { .. }) => {
                push_field_error(v, "programme.toml", format!("priority {}", p.id), e);
            }
            Err(e) => v.push("programme.toml", format!("priority {}", p.id), "output", e),
        }
    }
}

/// Pushes a [`ModelError::Field`] under its own field (`title`, `source[0].locator`).
pub(crate) fn push_field_error(v: &mut Validator, file: &str, record: String, e: ModelError) {
    match e {
        ModelError::Field { field, reason } => v.errors.push(crate::DatasetError {
            file: file.to_owned(),
            record: Some(record),
            field: Some(field),
            message: reason,
        }),
        ModelError::Several(all) => {
            for e in all {
                push_field_error(v, file, record.clone(), e);
            }
        }
        other => v.push(file, record, "", other),
    }
}

/// Checks the entry-into-force dates the sources record against the ones the treaties' rules give, and that a
/// consent's recorded bounds hold the deposit month its recorded entry into force implies.
/// Each problem is pushed to `v` and handed to `broken`.
fn check_entry_into_force(ds: &Dataset, v: &mut Validator, mut broken: impl FnMut(ModelError)) {
    let mut general: HashMap<TreatyNumber, (Option<ApproxDate>, Option<ApproxDate>)> = HashMap::new();
    for t in &ds.treaties {
        let computed = ds.treaty_entry_into_force(t.number);
        general.insert(t.number, (computed, ds.recorded_entry_into_force(t)));
        if let Some(recorded) = t.entry_into_force
            && !contains(computed.as_ref(), recorded)
        {
            let e = mismatch(t, None, recorded, computed);
            broken(e.clone());
            v.push("treaties.toml", format!("treaty {}", t.number), "entry_into_force", e);
        }
    }
    for (i, a) in ds.treaty_actions.iter().enumerate() {
        let (Some(recorded), Some(t)) = (a.entry_into_force, ds.treaty(a.treaty)) else { continue };
        let (computed_general, recorded_general) = general.get(&t.number).copied().unwrap_or_default();
        let month = recorded_general
            .and_then(|g| g.latest())
            .and_then(|g| crate::derive::deposit_month(t, g, recorded))
            // A consent known to the day gets the rule's own day in the message below.
            .filter(|_| a.kind.is_consent() && a.date.exact().is_none());
        if let Some(month) = month
            && a.date.intersect(&month).is_none()
        {
            let e = ModelError::DepositOutsideEntryIntoForce {
                state: a.state.clone(),
                treaty: t.number,
                entry_into_force: recorded,
                article: t.entry_into_force_rule.article.clone(),
                month: month.describe(),
                date: a.date,
            };
            broken(e.clone());
            v.push(FILE_ACTIONS, action_label(i, a), "entry_into_force", e);
            continue;
        }
        let computed = computed_general.and_then(|g| crate::status::state_entry_into_force(t, g, &a.date));
        if !a.kind.is_consent() || !contains(computed.as_ref(), recorded) {
            let e = mismatch(t, Some(&a.state), recorded, computed);
            broken(e.clone());
            v.push(FILE_ACTIONS, action_label(i, a), "entry_into_force", e);
        }
    }
}

const FILE_ACTIONS: &str = "treaty-actions.toml";

fn contains(range: Option<&ApproxDate>, day: chrono::NaiveDate) -> bool {
    range.is_some_and(|r| r.earliest().is_none_or(|e| e <= day) && r.latest().is_none_or(|l| day <= l))
}

fn mismatch(
    t: &Treaty,
    state: Option<&CountryCode>,
    recorded: chrono::NaiveDate,
    computed: Option<ApproxDate>,
) -> ModelError {
    ModelError::EntryIntoForceMismatch {
        treaty: t.number,
        state: state.cloned(),
        recorded,
        computed: computed.map_or_else(|| "no entry into force yet".to_owned(), |c| c.describe()),
        article: t.entry_into_force_rule.article.clone(),
    }
}
