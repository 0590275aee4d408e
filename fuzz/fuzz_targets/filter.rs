//! `core_model::Filter::parse` on arbitrary UTF-8 text (input that is not UTF-8 is rejected: the API only ever
//! hands the parser a protobuf `string`).
//!
//! Beyond "never panics", it checks what the filter module documents:
//! - an error's position is a byte offset within the text, on a character boundary (for a text within the
//!   length limit), and the error prints;
//! - a parsed filter's `Display` form (its canonical text) parses back to an equal filter, and is a fixed point
//!   (when it is at most `MAX_FILTER_LEN` bytes long: it may be longer than the text it was parsed from);
//! - evaluating the filter (and the re-parsed one) against the 70 bundled activities and a few hundred
//!   synthetic ones does not panic, gives the same answers for both, and `NOT` negates every answer.

#![no_main]

use std::sync::LazyLock;

use core_model::{Activity, CountryCode, Dataset, Expr, Filter, MAX_FILTER_LEN, Region};
use libfuzzer_sys::{Corpus, fuzz_target};

struct Fixture {
    dataset: Dataset,
    activities: Vec<Activity>,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let dataset = Dataset::bundled();
    let mut activities = dataset.activities.clone();
    activities.extend(core_model::synthetic::activities(&dataset, 300, 2007));
    Fixture { dataset, activities }
});

fn region_of(code: &CountryCode) -> Option<Region> {
    FIXTURE.dataset.states.iter().find(|s| s.code == *code).map(|s| s.region)
}

fuzz_target!(|data: &[u8]| -> Corpus {
    let Ok(text) = std::str::from_utf8(data) else { return Corpus::Reject };
    let filter = match Filter::parse(text) {
        Ok(filter) => filter,
        Err(e) => {
            assert!(e.position <= text.len(), "error position {} past the end ({} bytes): {e}", e.position, text.len());
            if text.len() <= MAX_FILTER_LEN {
                assert!(text.is_char_boundary(e.position), "error position {} inside a character: {e}", e.position);
            }
            assert!(!e.to_string().is_empty());
            return Corpus::Keep;
        }
    };

    // The canonical text parses back to the same filter, when it is within the length limit: it spells out what
    // the text may abbreviate (`NOT` for `-`, `" = "` for `:`, `"countries/BR"` for `"BR"`...), so the canonical
    // text of a filter near the limit may be longer than the limit and rejected for that alone.
    let canonical = filter.to_string();
    let reparsed = if canonical.len() > MAX_FILTER_LEN {
        let e = Filter::parse(&canonical).expect_err("a canonical text over the limit parses");
        assert_eq!(e.position, MAX_FILTER_LEN, "a canonical text over the limit rejected for another reason: {e}");
        filter.clone()
    } else {
        let reparsed = Filter::parse(&canonical)
            .unwrap_or_else(|e| panic!("the canonical text {canonical:?} of {text:?} does not parse: {e}"));
        assert_eq!(reparsed, filter, "the canonical text {canonical:?} of {text:?} parses to another filter");
        assert_eq!(reparsed.to_string(), canonical, "the canonical text of {text:?} is not a fixed point");
        reparsed
    };

    // Evaluation: no panic, and NOT negates.
    let negated = Filter { expr: Some(Expr::Not(Box::new(filter.expr.clone().unwrap_or_else(match_all)))) };
    for a in &FIXTURE.activities {
        let m = filter.matches(a, region_of);
        assert_eq!(m, reparsed.matches(a, region_of), "{text:?} and its canonical text disagree on {}", a.id);
        assert_eq!(!m, negated.matches(a, region_of), "NOT ({text}) does not negate on {}", a.id);
    }
    Corpus::Keep
});

/// An expression every activity matches (for negating the empty filter).
fn match_all() -> Expr {
    use core_model::{Comparison, EqOp};
    let t = |value| Box::new(Expr::Cmp(Comparison::Tentative { op: EqOp::Eq, value }));
    Expr::Or(t(true), t(false))
}
