//! The in-memory snapshot of treaties, states and treaty actions that treaty reads are served from.

use core_model::{ActionKind, CountryCode, Dataset, State, Treaty, TreatyAction, TreatyNumber};

/// A treaty action's version as the snapshot holds it: its etag and times (AIP-148, AIP-154).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionVersion {
    /// Its etag.
    pub etag: String,
    /// When it was recorded (UTC, RFC 3339), if the store knows.
    pub create_time: Option<String>,
    /// When it was last recorded or corrected (UTC, RFC 3339), if the store knows.
    pub update_time: Option<String>,
}

/// Treaties, states and treaty actions as of the last commit the store has seen.
///
/// It is immutable: a write builds the next snapshot and swaps it in, so a reader holding an `Arc<Snapshot>`
/// sees one consistent state.
#[derive(Debug, Clone)]
pub struct Snapshot {
    dataset: Dataset,
    /// The store's `seq` of each treaty action, parallel to `dataset.treaty_actions`.
    seqs: Vec<i64>,
    /// The version of each treaty action, parallel to `dataset.treaty_actions`.
    versions: Vec<ActionVersion>,
    /// The position in the store's audit log this snapshot reflects.
    version: i64,
    /// Each state's place in `dataset.states` plus one, at its code's [`CountryCode::index`] (0: no state): a
    /// state is found without a walk of the states (a filter on `region` asks for every activity's).
    by_code: Box<[u16]>,
}

impl Snapshot {
    pub(crate) fn new(
        treaties: Vec<Treaty>,
        states: Vec<State>,
        actions: Vec<(i64, TreatyAction, ActionVersion)>,
        version: i64,
    ) -> Self {
        let mut dataset = Dataset::empty();
        dataset.treaties = treaties;
        dataset.states = states;
        let (mut seqs, mut versions) = (Vec::with_capacity(actions.len()), Vec::with_capacity(actions.len()));
        for (seq, action, v) in actions {
            seqs.push(seq);
            dataset.treaty_actions.push(action);
            versions.push(v);
        }
        let mut by_code = vec![0u16; CountryCode::PLACES].into_boxed_slice();
        for (i, state) in dataset.states.iter().enumerate().rev() {
            // The first of two states of one code wins, as a walk of the states would find it.
            by_code[state.code.index()] = u16::try_from(i + 1).unwrap_or(0);
        }
        Snapshot { dataset, seqs, versions, version, by_code }
    }

    /// The snapshot with one more action, reflecting the audit log up to `version`.
    pub(crate) fn with_action(mut self, seq: i64, action: TreatyAction, v: ActionVersion, version: i64) -> Self {
        self.dataset.treaty_actions.push(action);
        self.seqs.push(seq);
        self.versions.push(v);
        self.version = self.version.max(version);
        self
    }

    /// The snapshot's version: the position in the store's audit log it reflects. It grows whenever what the
    /// snapshot holds changes (an action recorded, corrected or withdrawn, a dataset imported), and only then:
    /// an answer computed from a snapshot holds for as long as the version is the same.
    pub fn version(&self) -> i64 {
        self.version
    }

    /// The store's `seq` of the last treaty action it holds (0 when none).
    pub fn last_action_seq(&self) -> i64 {
        self.seqs.last().copied().unwrap_or(0)
    }

    /// The actions recorded after `seq`, with their `seq`, in order.
    pub fn actions_after(&self, seq: i64) -> impl Iterator<Item = (i64, &TreatyAction)> {
        let start = self.seqs.partition_point(|s| *s <= seq);
        self.seqs[start..].iter().copied().zip(&self.dataset.treaty_actions[start..])
    }

    /// The version of the action a treaty, state and kind name, if the snapshot holds it.
    pub fn action_version(
        &self,
        treaty: TreatyNumber,
        state: &CountryCode,
        kind: ActionKind,
    ) -> Option<&ActionVersion> {
        let i = self
            .dataset
            .treaty_actions
            .iter()
            .position(|a| a.treaty == treaty && &a.state == state && a.kind == kind)?;
        self.versions.get(i)
    }

    /// A dataset holding only treaties, states and treaty actions: every treaty question of
    /// [`Dataset`] (status at a date, entry into force, consents per year, a state's history) can be asked of it.
    pub fn dataset(&self) -> &Dataset {
        &self.dataset
    }

    /// One treaty.
    pub fn treaty(&self, number: TreatyNumber) -> Option<&Treaty> {
        self.dataset.treaty(number)
    }

    /// One state.
    pub fn state(&self, code: &CountryCode) -> Option<&State> {
        match self.by_code[code.index()] {
            0 => None,
            place => self.dataset.states.get(usize::from(place) - 1).filter(|s| &s.code == code),
        }
    }

    /// A state's actions under every treaty, in the order they were recorded.
    pub fn history(&self, code: &CountryCode) -> Vec<&TreatyAction> {
        self.dataset.treaty_actions.iter().filter(|a| &a.state == code).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_is_found_by_its_code_as_a_walk_of_the_states_finds_it() {
        let d = Dataset::bundled();
        let snapshot = Snapshot::new(d.treaties.clone(), d.states.clone(), Vec::new(), 1);
        assert!(d.states.len() > 40, "the bundled states");
        for state in &d.states {
            assert_eq!(snapshot.state(&state.code), d.state(&state.code), "{}", state.code);
        }
        // Every code of two capital letters: the ones held, and only those, are found.
        for a in b'A'..=b'Z' {
            for b in b'A'..=b'Z' {
                let code: CountryCode = String::from_utf8(vec![a, b]).unwrap().parse().unwrap();
                assert_eq!(snapshot.state(&code).map(|s| &s.code), d.state(&code).map(|s| &s.code), "{code}");
            }
        }
        let places: std::collections::BTreeSet<usize> = d.states.iter().map(|s| s.code.index()).collect();
        assert_eq!(places.len(), d.states.len(), "one place per code");
    }
}
