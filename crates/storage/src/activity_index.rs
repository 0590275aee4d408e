//! The in-memory copy of the `activities` table that filtered lists are served from.
//!
//! Lists are the hot read of the activity service; through the database each page costs a query whose rows cross
//! from sqlx's SQLite worker thread to tokio one by one and are decoded from JSON. The index holds every activity
//! already decoded, keyed by its `seq` (the list order), so a page is a walk from the page token's position that
//! evaluates [`Filter::matches`], the same evaluator the SQL translation is checked against. A filter that
//! requires a value the index keeps postings for (`plan = "…"`, `country = "…"`, `status = "…"`...: a comparison
//! that must hold, alone or under `AND`) walks only the activities with that value, as the database would use
//! its index.
//!
//! A walk is bounded in cost: it evaluates at most [`SCAN_BUDGET`] comparisons (the filter's comparisons
//! times the activities it looks at). A filter that costs more is answered a page at a time: the walk stops
//! at its budget and returns what it found so far, possibly nothing, with the token of the position it reached
//! (a short page, as AIP-158 allows). Paging on gives exactly the activities of an unbounded walk, and no
//! call holds a runtime thread (nor the index's lock, which writes wait for) longer than its budget takes.
//! Below the budget, pages and tokens are those of the database's query.
//!
//! It is kept current by [`crate::sql`]: built at open, brought up to date from the audit log after every
//! group commit of this process (before the writes are answered), and on PostgreSQL after every notification
//! from another replica. Catching up re-reads the activities the audit entries name, so it always converges
//! to what the database holds, whatever order notifications and commits interleave in.

use std::{
    collections::{BTreeMap, HashMap},
    ops::Bound,
    sync::Arc,
};

use core_model::{Activity, ActivityKind, ActivityStatus, Comparison, CountryCode, EqOp, Expr, Filter, HasOp, Region};

use crate::{Page, PageRequest, Result, Versioned, token};

/// A value of an activity the index keeps postings for: the `seq` of every activity that has it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Status(ActivityStatus),
    Kind(ActivityKind),
    Country(CountryCode),
    Output(u8),
    Organisation(String),
    Funding(String),
    Plan(String),
}

impl Key {
    /// The values of `a`, one key each.
    fn all_of(a: &Activity) -> Vec<Key> {
        let mut keys = vec![Key::Status(a.status), Key::Kind(a.kind)];
        keys.extend(a.countries().map(|c| Key::Country(c.clone())));
        keys.extend(a.outputs.iter().map(|o| Key::Output(*o)));
        keys.extend(a.partners.iter().map(|p| Key::Organisation(p.organisation.clone())));
        keys.extend(a.funding.iter().map(|f| Key::Funding(f.clone())));
        keys.extend(a.plan.iter().map(|p| Key::Plan(p.clone())));
        keys
    }

    /// The value a comparison requires an activity to have, if it is one the index keeps postings for.
    fn required_by(c: &Comparison) -> Option<Key> {
        Some(match c {
            Comparison::Status { op: EqOp::Eq, value } => Key::Status(*value),
            Comparison::Kind { op: EqOp::Eq, value } => Key::Kind(*value),
            Comparison::Country { op: HasOp::Has, value } => Key::Country(value.clone()),
            Comparison::Output { op: HasOp::Has, value } => Key::Output(*value),
            Comparison::Organisation { op: HasOp::Has, value } => Key::Organisation(value.clone()),
            Comparison::Funding { op: HasOp::Has, value } => Key::Funding(value.clone()),
            Comparison::Plan { op: EqOp::Eq, value } => Key::Plan(value.clone()),
            _ => return None,
        })
    }
}

/// The most comparisons one walk evaluates (comparisons in the filter, at least 1, times activities looked at).
/// A filter of 100 comparisons looks at 655 activities per call; one comparison, 65,536.
pub(crate) const SCAN_BUDGET: u64 = 65_536;

/// The comparisons in `e`: what evaluating it against one activity costs at most.
fn comparisons(e: &Expr) -> u64 {
    match e {
        Expr::Cmp(_) => 1,
        Expr::And(a, b) | Expr::Or(a, b) => comparisons(a) + comparisons(b),
        Expr::Not(a) => comparisons(a),
    }
}

/// Activities by `seq`.
type BySeq = BTreeMap<i64, Arc<Versioned<Activity>>>;

/// No activity.
static NONE: BySeq = BTreeMap::new();

/// Every activity by `seq`, the `seq` of each id, and postings.
#[derive(Debug, Default)]
pub(crate) struct ActivityIndex {
    by_seq: BySeq,
    seq_of: HashMap<String, i64>,
    /// For each value, the activities that have it, by `seq`: the shared values themselves, so that a walk of a
    /// posting list needs no look-up in `by_seq` per candidate.
    postings: HashMap<Key, BySeq>,
    /// The audit log's last `seq` this index has taken into account.
    pub(crate) audit_seq: i64,
}

impl ActivityIndex {
    /// An index of `rows` (`seq` and activity), complete as of audit entry `audit_seq`.
    pub(crate) fn new(rows: impl IntoIterator<Item = (i64, Versioned<Activity>)>, audit_seq: i64) -> Self {
        let mut index = ActivityIndex { audit_seq, ..ActivityIndex::default() };
        for (seq, versioned) in rows {
            index.put(seq, versioned);
        }
        index
    }

    /// How many activities it holds.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.by_seq.len()
    }

    /// Sets the activity at `seq` (replacing what the index held for its id, at whatever `seq`).
    pub(crate) fn put(&mut self, seq: i64, versioned: Versioned<Activity>) {
        self.remove(&versioned.record.id);
        let shared = Arc::new(versioned);
        for key in Key::all_of(&shared.record) {
            self.postings.entry(key).or_default().insert(seq, shared.clone());
        }
        self.seq_of.insert(shared.record.id.clone(), seq);
        self.by_seq.insert(seq, shared);
    }

    /// Forgets the activity `id` (deleted).
    pub(crate) fn remove(&mut self, id: &str) {
        let Some(seq) = self.seq_of.remove(id) else { return };
        let Some(old) = self.by_seq.remove(&seq) else { return };
        for key in Key::all_of(&old.record) {
            if let Some(seqs) = self.postings.get_mut(&key) {
                seqs.remove(&seq);
                if seqs.is_empty() {
                    self.postings.remove(&key);
                }
            }
        }
    }

    /// The activities an expression can match at most, when a comparison it requires has postings: the
    /// smallest such set.
    fn candidates(&self, e: &Expr) -> Option<&BySeq> {
        match e {
            Expr::Cmp(c) => Key::required_by(c).map(|k| self.postings.get(&k).unwrap_or(&NONE)),
            Expr::And(a, b) => match (self.candidates(a), self.candidates(b)) {
                (Some(x), Some(y)) => Some(if x.len() <= y.len() { x } else { y }),
                (x, y) => x.or(y),
            },
            Expr::Or(..) | Expr::Not(_) => None,
        }
    }

    /// The page of activities matching `filter` after the position `page`'s token names, in `seq` order, with
    /// the token of the next page: the same page, token included, as the database's query gives.
    /// `region_of` gives a country's region (for the `region` field).
    pub(crate) fn list(
        &self,
        filter: &Filter,
        page: &PageRequest,
        region_of: impl Fn(&CountryCode) -> Option<Region>,
    ) -> Result<Page<Arc<Versioned<Activity>>>> {
        self.list_within(filter, page, region_of, SCAN_BUDGET)
    }

    /// [`ActivityIndex::list`] with a walk of at most `budget` comparisons: when it runs out, the page ends
    /// short (possibly empty) with the token of the position reached.
    pub(crate) fn list_within(
        &self,
        filter: &Filter,
        page: &PageRequest,
        region_of: impl Fn(&CountryCode) -> Option<Region>,
        budget: u64,
    ) -> Result<Page<Arc<Versioned<Activity>>>> {
        let per_activity = filter.expr.as_ref().map_or(0, comparisons).max(1);
        let mut spent = 0u64;
        let scope = format!("activities?{filter}");
        let after = token::decode(&scope, &page.page_token)?;
        let size = page.size() as usize;
        let mut items = Vec::with_capacity(size.min(self.by_seq.len()));
        let mut last = after;
        let mut more = false;
        let range = (Bound::Excluded(after), Bound::Unbounded);
        let walk: Box<dyn Iterator<Item = (&i64, &Arc<Versioned<Activity>>)>> =
            match filter.expr.as_ref().and_then(|e| self.candidates(e)) {
                Some(postings) => Box::new(postings.range(range)),
                None => Box::new(self.by_seq.range(range)),
            };
        let mut walk = walk.peekable();
        while let Some((seq, entry)) = walk.next() {
            spent += per_activity;
            if !filter.matches(&entry.record, &region_of) {
                if spent >= budget && walk.peek().is_some() {
                    // Out of budget: a short (or full) page, ending where the walk stopped.
                    return Ok(Page { items, next_page_token: token::encode(&scope, *seq) });
                }
                continue;
            }
            if items.len() == size {
                more = true;
                break;
            }
            items.push(entry.clone());
            last = *seq;
            if spent >= budget && walk.peek().is_some() {
                return Ok(Page { items, next_page_token: token::encode(&scope, last) });
            }
        }
        Ok(Page { items, next_page_token: if more { token::encode(&scope, last) } else { String::new() } })
    }
}

#[cfg(test)]
mod tests {
    use core_model::Dataset;

    use super::*;

    fn bundled() -> (ActivityIndex, Dataset) {
        let d = Dataset::bundled();
        let rows =
            d.activities.iter().enumerate().map(|(i, a)| (i as i64 * 2 + 1, Versioned::new(a.clone(), "1".to_owned())));
        (ActivityIndex::new(rows, 1), d)
    }

    fn ids(p: &Page<Arc<Versioned<Activity>>>) -> Vec<&str> {
        p.items.iter().map(|e| e.record.id.as_str()).collect()
    }

    #[test]
    fn pages_walk_the_matching_activities_in_order() {
        let (index, d) = bundled();
        let filter = Filter::parse("status = \"COMPLETED\"").unwrap();
        let region_of = |c: &CountryCode| d.state(c).map(|s| s.region);
        let expected: Vec<&str> =
            d.activities.iter().filter(|a| filter.matches(a, region_of)).map(|a| a.id.as_str()).collect();
        assert!(expected.len() > 7, "the 2007 data has completed activities: {expected:?}");
        let mut seen = Vec::new();
        let mut page = PageRequest::first(3);
        loop {
            let p = index.list(&filter, &page, region_of).unwrap();
            assert!(p.items.len() <= 3);
            seen.extend(ids(&p).into_iter().map(str::to_owned));
            if p.next_page_token.is_empty() {
                break;
            }
            page.page_token = p.next_page_token;
        }
        assert_eq!(seen, expected);
    }

    #[test]
    fn a_put_moves_an_id_and_a_remove_forgets_it() {
        let (mut index, d) = bundled();
        let all = Filter::parse("").unwrap();
        let region_of = |c: &CountryCode| d.state(c).map(|s| s.region);
        let n = index.len();
        let first = d.activities[0].clone();
        index.put(1_000_000, Versioned::new(first.clone(), "2".to_owned()));
        assert_eq!(index.len(), n, "the id moved, it was not copied");
        let p = index.list(&all, &PageRequest::first(1000), region_of).unwrap();
        assert_eq!(ids(&p).last(), Some(&first.id.as_str()));
        assert_eq!(p.items.last().unwrap().etag, "2");
        index.remove(&first.id);
        index.remove("no-such-activity");
        assert_eq!(index.len(), n - 1);
        assert!(!ids(&index.list(&all, &PageRequest::first(1000), region_of).unwrap()).contains(&first.id.as_str()));
    }

    #[test]
    fn postings_select_what_a_walk_of_everything_selects() {
        let (mut index, d) = bundled();
        let region_of = |c: &CountryCode| d.state(c).map(|s| s.region);
        // An update that changes every posted value, and a delete, leave no stale posting behind.
        let mut changed = d.activities[1].clone();
        changed.status = ActivityStatus::Cancelled;
        changed.plan = Some("another-plan".to_owned());
        changed.countries = vec!["BR".parse().unwrap()];
        index.put(3, Versioned::new(changed, "2".to_owned()));
        index.remove(&d.activities[2].id);
        let everything = Filter::parse("").unwrap();
        let all = index.list(&everything, &PageRequest::first(1000), region_of).unwrap();
        for text in [
            "status = \"COMPLETED\"",
            "status = \"CANCELLED\" AND plan = \"another-plan\"",
            "plan = \"2007-12..2008-06\" AND start >= \"2008-02\"",
            "country = \"BR\" AND output: 2",
            "organisation = \"microsoft\" AND NOT kind = \"WORKSHOP\"",
            "funding = \"upic\" OR status = \"PIPELINE\"",
            "plan = \"no-such-plan\"",
        ] {
            let filter = Filter::parse(text).unwrap();
            let expected: Vec<&str> = all
                .items
                .iter()
                .filter(|v| filter.matches(&v.record, region_of))
                .map(|v| v.record.id.as_str())
                .collect();
            let mut got = Vec::new();
            let mut page = PageRequest::first(2);
            loop {
                let p = index.list(&filter, &page, region_of).unwrap();
                got.extend(p.items.iter().map(|v| v.record.id.clone()));
                if p.next_page_token.is_empty() {
                    break;
                }
                page.page_token = p.next_page_token;
            }
            assert_eq!(got, expected, "{text}");
        }
        assert!(index.postings.values().all(|s| !s.is_empty()));
        assert!(
            index.postings.values().flatten().all(|(seq, v)| index.by_seq.get(seq).is_some_and(|w| Arc::ptr_eq(v, w))),
            "no stale posting: each holds the version by_seq holds"
        );
    }

    #[test]
    fn a_walk_out_of_budget_ends_short_and_paging_on_gives_the_same_activities() {
        let (index, d) = bundled();
        let region_of = |c: &CountryCode| d.state(c).map(|s| s.region);
        for text in [
            "status = \"COMPLETED\" OR status = \"PIPELINE\" OR kind = \"WORKSHOP\" OR start > \"9999\"",
            "NOT country = \"ZW\" AND NOT funding = \"nope\"",
            "start > \"9999\" OR region = \"ARAB_REGION\"",
            "",
        ] {
            let filter = Filter::parse(text).unwrap();
            let expected: Vec<String> =
                d.activities.iter().filter(|a| filter.matches(a, region_of)).map(|a| a.id.clone()).collect();
            for budget in [1, 5, 17, 1_000_000] {
                let (mut got, mut short, mut calls) = (Vec::new(), 0, 0);
                let mut page = PageRequest::first(4);
                loop {
                    let p = index.list_within(&filter, &page, region_of, budget).unwrap();
                    calls += 1;
                    assert!(p.items.len() <= 4);
                    if p.items.len() < 4 && !p.next_page_token.is_empty() {
                        short += 1;
                    }
                    got.extend(p.items.iter().map(|v| v.record.id.clone()));
                    if p.next_page_token.is_empty() {
                        break;
                    }
                    page.page_token = p.next_page_token;
                }
                assert_eq!(got, expected, "{text} within {budget}");
                if budget == 1_000_000 {
                    assert_eq!(short, 0, "{text}: no short page within a large budget");
                    assert_eq!(calls, expected.len().div_ceil(4).max(1), "{text}");
                } else if budget < 5 {
                    assert!(calls >= d.activities.len() / 4, "{text}: {calls} calls within {budget}");
                }
            }
        }
    }

    #[test]
    fn a_token_of_another_filter_is_refused() {
        let (index, d) = bundled();
        let region_of = |c: &CountryCode| d.state(c).map(|s| s.region);
        let a = Filter::parse("status = \"COMPLETED\"").unwrap();
        let b = Filter::parse("status = \"PIPELINE\"").unwrap();
        let p = index.list(&a, &PageRequest::first(1), region_of).unwrap();
        let err = index.list(&b, &PageRequest { page_size: 1, page_token: p.next_page_token }, region_of);
        assert!(err.unwrap_err().to_string().contains("another list or filter"));
    }
}
