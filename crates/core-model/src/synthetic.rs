//! Synthetic data for benchmarks and load tests: deterministic for a seed, and valid against the dataset it
//! extends (every country, organisation, funding source and plan it names exists there).

use crate::{
    Activity, ActivityKind, ActivityStatus, ApproxDate, CountryCode, Dataset, Partner, PartnerRole, Place, SourceRef,
    State,
};

/// A small deterministic pseudo-random generator (xorshift64*), so that a seed always gives the same data.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed` (any value; 0 is mapped to a fixed non-zero state).
    pub fn new(seed: u64) -> Self {
        Rng(if seed == 0 { 0x9E37_79B9_7F4A_7C15 } else { seed })
    }

    /// The next value.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A value in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// `count` activities in the manner of the report's: spread over 1990-2029, of every kind and status, in the
/// countries, with the organisations and funding sources of `base`. Ids are `synthetic-{seed}-{n}`.
pub fn activities(base: &Dataset, count: usize, seed: u64) -> Vec<Activity> {
    const KINDS: [ActivityKind; 7] = [
        ActivityKind::Conference,
        ActivityKind::Workshop,
        ActivityKind::Training,
        ActivityKind::LegislativeAnalysis,
        ActivityKind::Meeting,
        ActivityKind::Study,
        ActivityKind::Mission,
    ];
    const STATUSES: [ActivityStatus; 4] = [
        ActivityStatus::Completed,
        ActivityStatus::Pipeline,
        ActivityStatus::Implementation,
        ActivityStatus::Cancelled,
    ];
    let mut rng = Rng::new(seed);
    let countries: Vec<&CountryCode> = base.states.iter().map(|s| &s.code).collect();
    let orgs: Vec<&str> = base.organisations.iter().map(|o| o.id.as_str()).collect();
    let funding: Vec<&str> = base.funding_sources.iter().map(|f| f.id.as_str()).collect();
    (0..count)
        .map(|n| {
            let country = (*rng.pick(&countries)).clone();
            let year = 1990 + rng.below(40) as i32;
            let month = 1 + rng.below(12) as u32;
            let (start, end, date_text) = match rng.below(3) {
                0 => {
                    let day = 1 + rng.below(27) as u32;
                    let start = ApproxDate::day(year, month, day);
                    (start, ApproxDate::day(year, month, day + 1), format!("{day}-{} {month}/{year}", day + 1))
                }
                1 => (Some(ApproxDate::Month { year, month }), None, format!("{month}/{year}")),
                _ => {
                    let last = (month + 2).min(12);
                    (
                        Some(ApproxDate::Month { year, month }),
                        Some(ApproxDate::Month { year, month: last }),
                        format!("{month}-{last}/{year}"),
                    )
                }
            };
            let kind = *rng.pick(&KINDS);
            let mut outputs = vec![1 + rng.below(3) as u8];
            if rng.below(3) == 0 {
                outputs.push(1 + (outputs[0] % 3));
            }
            let partners = (0..rng.below(3))
                .map(|_| Partner { organisation: (*rng.pick(&orgs)).to_owned(), role: PartnerRole::Participant })
                .collect();
            Activity {
                id: format!("synthetic-{seed}-{n}"),
                title: format!("Synthetic {kind:?} {n}"),
                description: format!("Synthetic activity {n} for benchmarks ({kind:?} in {country})"),
                date_text,
                start,
                end,
                tentative: rng.below(10) == 0,
                place: Place {
                    text: country.to_string(),
                    city: None,
                    country: Some(country.clone()),
                    region: None,
                    tentative: false,
                },
                countries: vec![country],
                kind,
                status: *rng.pick(&STATUSES),
                outputs,
                partners,
                funding: if funding.is_empty() { Vec::new() } else { vec![(*rng.pick(&funding)).to_owned()] },
                plan: None,
                source: SourceRef::new("report-2007-11", Some("synthetic")),
                note: None,
            }
        })
        .collect()
}

/// `base`'s states plus synthetic ones up to `count` in all (codes from the two-letter combinations not taken,
/// names `Synthetic state XX`, non-members in every region), for benchmarks of lists and reports.
pub fn states(base: &Dataset, count: usize, seed: u64) -> Vec<State> {
    let mut rng = Rng::new(seed);
    let mut states = base.states.clone();
    let taken: std::collections::HashSet<String> = states.iter().map(|s| s.code.to_string()).collect();
    let mut codes = (b'A'..=b'Z').flat_map(|a| (b'A'..=b'Z').map(move |b| format!("{}{}", a as char, b as char)));
    while states.len() < count {
        let Some(code) = codes.next() else { break };
        if taken.contains(&code) {
            continue;
        }
        let Ok(parsed) = code.parse() else { continue };
        states.push(State {
            code: parsed,
            name: format!("Synthetic state {code}"),
            region: *rng.pick(&crate::Region::ALL),
            coe_member: false,
            participated_in: Vec::new(),
            note: None,
            kind: crate::CountryKind::State,
        });
    }
    states
}
