//! A country brief: one state's status under each treaty (with what the record cannot know), the legislative
//! assistance it received, its profile, its 24/7 point of contact and the activities that concern it, built
//! from the country page ([`core_model::Dataset::country_page`]) that GetCountry answers from too.

use chrono::NaiveDate;
use core_model::{Activity, ApproxDate, CountryCode, Dataset};
use serde::Serialize;

use super::{
    ActivityLine, PastRecord, UnreadableLine, activity_line, by_date, capitalise, earliest_fact, is_zero,
    possibly_and_reason, record_sentence, step_text, unreadable_lines, words,
};
use crate::{ReportError, Result};

/// One treaty in a country brief.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BriefTreaty {
    /// "ETS 185".
    pub label: String,
    /// "Convention on Cybercrime".
    pub title: String,
    /// "Ratified", "Signed"...
    pub status: String,
    /// The status is uncertain: it depends on a day no source gives, or the brief's date is past the record.
    pub uncertain: bool,
    /// When uncertain, the furthest status the state may have reached, in words ("a party").
    pub possibly: Option<String>,
    /// When uncertain, why, in plain words.
    pub reason: Option<String>,
    /// The last day the treaty's record is complete through; none: complete through no date.
    pub complete_through: Option<NaiveDate>,
    /// The brief's date is after `complete_through` (or the record is complete through no date).
    pub past_record: bool,
    /// The actions, with their dates and sources.
    pub actions: Vec<String>,
    /// Entry into force for the state.
    pub entry_into_force: Option<String>,
}

/// A brief on one state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CountryBrief {
    /// ISO code.
    pub code: String,
    /// Name as the report writes it.
    pub name: String,
    /// Region.
    pub region: String,
    /// Member of the Council of Europe.
    pub coe_member: bool,
    /// The brief's date.
    pub as_of: NaiveDate,
    /// The brief's date written as every document writes a day ("30 Nov 2007").
    pub as_of_text: String,
    /// The footnote explaining the mark of a date known only within bounds, when the brief shows one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bound_footnote: Option<String>,
    /// How many stored records could not be read and are left out of the brief (absent from the JSON when none).
    #[serde(skip_serializing_if = "is_zero")]
    pub unreadable_count: usize,
    /// The first [`MAX_UNREADABLE_NAMED`](super::MAX_UNREADABLE_NAMED) of them, by name, with why (absent from the JSON when none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<UnreadableLine>,
    /// The treaties it has a status under whose record ends before the brief's date; `unknown` names the state
    /// when its status is therefore unknown (absent from the JSON when none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub past_record: Vec<PastRecord>,
    /// Its status under each treaty.
    pub treaties: Vec<BriefTreaty>,
    /// Legislative assistance, step by step.
    pub assistance: Vec<String>,
    /// Its activities up to the brief's date and planned.
    pub activities: Vec<ActivityLine>,
    /// Its country profile.
    pub profile: Option<String>,
    /// Its 24/7 point of contact.
    pub contact_point: Option<String>,
}

impl CountryBrief {
    /// Builds the brief of `code` at `as_of`.
    pub fn build(ds: &Dataset, code: &str, as_of: NaiveDate) -> Result<CountryBrief> {
        let state = code
            .parse::<CountryCode>()
            .ok()
            .and_then(|c| ds.state(&c).cloned())
            .ok_or_else(|| ReportError::UnknownCountry(code.to_owned()))?;
        if let Some(earliest) = earliest_fact(ds).filter(|e| as_of < *e) {
            return Err(ReportError::BeforeAnyData { as_of, earliest });
        }
        let page = ds.country_page(ds, &state, as_of);
        let past_record = page
            .treaties
            .iter()
            .filter(|t| t.treaty.past_record(as_of))
            .map(|t| PastRecord {
                treaty: t.treaty.label(),
                title: t.treaty.short_title.clone(),
                complete_through: t.treaty.complete_through(),
                note: words::days_in_words(&record_sentence(t.treaty, as_of)),
                unknown: if t.entry.uncertain { vec![state.name.clone()] } else { Vec::new() },
            })
            .collect();
        let treaties = page
            .treaties
            .iter()
            .map(|t| {
                let e = &t.entry;
                let (possibly, reason) = if e.uncertain {
                    let (p, r) = possibly_and_reason(e);
                    (Some(p), Some(words::days_in_words(&r)))
                } else {
                    (None, None)
                };
                BriefTreaty {
                    label: t.treaty.label(),
                    title: t.treaty.short_title.clone(),
                    status: e.status.label().to_owned(),
                    uncertain: e.uncertain,
                    possibly,
                    reason,
                    complete_through: t.treaty.complete_through(),
                    past_record: t.treaty.past_record(as_of),
                    actions: t
                        .actions
                        .iter()
                        .filter(|a| a.date.possibly_on_or_before(as_of))
                        .map(|a| {
                            let recorded =
                                format!("{}: {} ({})", capitalise(a.kind.noun()), words::date(a.date), a.source);
                            // A consent's date narrowed by what other facts imply is the one every status uses:
                            // the brief gives it beside the recorded one, with how it was derived.
                            let span = |d: &ApproxDate| (d.earliest(), d.latest());
                            match ds.derived_bound(a).filter(|d| span(&d.date) != span(&a.date)) {
                                Some(d) => format!(
                                    "{recorded}; narrowed to {}: {}",
                                    words::date(d.date),
                                    words::days_in_words(&d.note)
                                ),
                                None => recorded,
                            }
                        })
                        .collect(),
                    entry_into_force: e.entry_into_force.map(words::date),
                }
            })
            .collect();
        let assistance = page
            .legislative_assistance
            .iter()
            .flat_map(|a| a.steps.iter().map(move |s| format!("{}: {}", a.subject, step_text(s))))
            .collect();
        let mut activities: Vec<&Activity> = ds.activities.iter().filter(|a| a.concerns(&state.code)).collect();
        activities.sort_by_key(by_date);
        let profile = page.profile.map(|p| {
            let part = |label: &str, d: &Option<ApproxDate>| d.map(|d| format!("{label} {}", words::date(d)));
            [part("prepared", &p.prepared), part("published", &p.published), part("reviewed", &p.reviewed)]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("; ")
        });
        let contact_point =
            page.contact_point.map(|c| format!("{} (as at {}, {})", c.status.as_str(), words::date(c.as_at), c.source));
        let mut brief = CountryBrief {
            code: state.code.to_string(),
            name: state.name.clone(),
            region: state.region.label().to_owned(),
            coe_member: state.coe_member,
            as_of,
            as_of_text: words::day(as_of),
            bound_footnote: None,
            treaties,
            assistance,
            activities: activities.iter().map(|a| activity_line(a)).collect(),
            profile,
            contact_point,
            unreadable_count: 0,
            unreadable: Vec::new(),
            past_record,
        };
        // The mark of bounds is explained once, where the brief shows one.
        let shown = serde_json::to_string(&brief).unwrap_or_default();
        if shown.contains(words::BOUND_MARK) {
            brief.bound_footnote = Some(words::BOUND_FOOTNOTE.to_owned());
        }
        Ok(brief)
    }

    /// The brief naming the stored records that could not be read (resource name, reason), which the dataset it
    /// was built from lacks: the documents say so near their top. A record that cannot be read cannot be told to
    /// concern the country or not: every one is named.
    pub fn with_unreadable(mut self, records: impl IntoIterator<Item = (String, String)>) -> CountryBrief {
        (self.unreadable, self.unreadable_count) = unreadable_lines(records);
        self
    }
}
