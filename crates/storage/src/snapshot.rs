//! The in-memory snapshot of treaties, states and treaty actions that treaty reads are served from.

use core_model::{CountryCode, Dataset, State, Treaty, TreatyAction, TreatyNumber};

/// Treaties, states and treaty actions as of the last commit the store has seen.
///
/// It is immutable: a write builds the next snapshot and swaps it in, so a reader holding an `Arc<Snapshot>`
/// sees one consistent state.
#[derive(Debug, Clone)]
pub struct Snapshot {
    dataset: Dataset,
    /// The store's `seq` of each treaty action, parallel to `dataset.treaty_actions`.
    seqs: Vec<i64>,
}

impl Snapshot {
    pub(crate) fn new(treaties: Vec<Treaty>, states: Vec<State>, actions: Vec<TreatyAction>, seqs: Vec<i64>) -> Self {
        let mut dataset = Dataset::empty();
        dataset.treaties = treaties;
        dataset.states = states;
        dataset.treaty_actions = actions;
        Snapshot { dataset, seqs }
    }

    /// The snapshot with one more action.
    pub(crate) fn with_action(mut self, action: TreatyAction, seq: i64) -> Self {
        self.dataset.treaty_actions.push(action);
        self.seqs.push(seq);
        self
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
        self.dataset.state(code)
    }

    /// A state's actions under every treaty, in the order they were recorded.
    pub fn history(&self, code: &CountryCode) -> Vec<&TreatyAction> {
        self.dataset.treaty_actions.iter().filter(|a| &a.state == code).collect()
    }
}
