//! Answers computed once per version of the snapshot they were computed from.
//!
//! A treaty's status table or a country's page at a date depends only on the snapshot (treaties, states,
//! treaty actions) and on the records read at start-up; the snapshot changes only when a treaty action is
//! recorded, corrected or withdrawn (or a dataset imported), and then its `version` (the audit position it reflects)
//! grows. So an answer kept with the version it was computed at is the answer for as long as the snapshot's version
//! is the same, on this replica and, once caught up, on any other.

use std::{
    collections::HashMap,
    hash::Hash,
    sync::{Arc, Mutex},
};

/// A bounded map from a question to its answer and the snapshot version the answer holds for.
#[derive(Debug)]
pub(crate) struct Memo<K, V> {
    /// Looked up on every request: hashed with foldhash (seeded per process) rather than SipHash.
    entries: Mutex<HashMap<K, (i64, Arc<V>), foldhash::fast::RandomState>>,
    capacity: usize,
}

impl<K: Eq + Hash + Clone, V> Memo<K, V> {
    /// A memo of at most `capacity` answers; when full it starts again empty (questions are few: a treaty or a
    /// country at a date, most of them at today's date).
    pub(crate) fn new(capacity: usize) -> Self {
        Memo { entries: Mutex::new(HashMap::default()), capacity }
    }

    /// The answer to `key` at snapshot `version`, computed by `compute` if none is kept for that version.
    pub(crate) fn get_or_compute<E>(
        &self,
        key: &K,
        version: i64,
        compute: impl FnOnce() -> Result<V, E>,
    ) -> Result<Arc<V>, E> {
        if let Some((v, answer)) = self.lock().get(key)
            && *v == version
        {
            return Ok(answer.clone());
        }
        // Computed outside the lock: two callers may compute the same answer once each, never block each other.
        let answer = Arc::new(compute()?);
        let mut entries = self.lock();
        if entries.len() >= self.capacity && !entries.contains_key(key) {
            entries.clear();
        }
        match entries.get(key) {
            // Another caller kept an answer for a newer snapshot meanwhile: keep that one.
            Some((v, _)) if *v > version => {}
            _ => {
                entries.insert(key.clone(), (version, answer.clone()));
            }
        }
        Ok(answer)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, (i64, Arc<V>), foldhash::fast::RandomState>> {
        // A panic while holding the lock leaves a map that is still consistent (inserts are single calls).
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_kept_for_its_version_only() {
        let memo: Memo<&str, i32> = Memo::new(2);
        let calls = std::cell::Cell::new(0);
        let get = |key, version, value| {
            *memo
                .get_or_compute::<()>(&key, version, || {
                    calls.set(calls.get() + 1);
                    Ok(value)
                })
                .expect("answer")
        };
        assert_eq!(get("a", 1, 10), 10);
        assert_eq!(get("a", 1, 11), 10, "kept for version 1");
        assert_eq!(get("a", 2, 12), 12, "recomputed for version 2");
        assert_eq!(get("b", 2, 20), 20);
        assert_eq!(get("c", 2, 30), 30, "full: started again");
        assert_eq!(get("a", 2, 13), 13, "forgotten when the memo was full");
        assert_eq!(calls.get(), 5);
    }

    #[test]
    fn an_error_is_not_kept() {
        let memo: Memo<u8, u8> = Memo::new(4);
        assert!(memo.get_or_compute(&1, 1, || Err("no")).is_err());
        assert_eq!(*memo.get_or_compute::<()>(&1, 1, || Ok(7)).expect("answer"), 7);
    }
}
