//! What an answer may claim: coverage (`complete_through`), uncertainty with its reason, and derived bounds, on
//! small synthetic datasets whose every fact is written out here.

use chrono::NaiveDate;
use core_model::{
    ActionKind, ApproxDate, CountryKind, Coverage, Dataset, DerivedKind, Eligibility, EntryIntoForceRule, Measure,
    ModelError, Qualifier, Region, ReportedFigure, SourceDocument, SourceRef, State, StateStatus, StateStatusEntry,
    Treaty, TreatyAction, TreatyNumber, TreatySeries,
};

const T: TreatyNumber = TreatyNumber(900);

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn src() -> SourceRef {
    SourceRef::new("chart", None)
}

fn state(code: &str, member: bool) -> State {
    State {
        code: code.parse().unwrap(),
        name: format!("State {code}"),
        region: Region::Europe,
        coe_member: member,
        participated_in: Vec::new(),
        note: None,
        kind: CountryKind::State,
    }
}

fn act(code: &str, kind: ActionKind, date: &str) -> TreatyAction {
    TreatyAction {
        state: code.parse().unwrap(),
        treaty: T,
        kind,
        date: date.parse().unwrap(),
        entry_into_force: None,
        source: src(),
        note: Some("synthetic".to_owned()),
    }
}

fn eif(mut a: TreatyAction, day_: &str) -> TreatyAction {
    a.entry_into_force = Some(day(day_));
    a
}

/// A treaty like ETS 185 (five consents, three by members, then three months; in force 2004-07-01), its record
/// complete through `complete_through`; five member states that ratified 2002-2004 (the fifth on 2004-03-18).
fn dataset(complete_through: Option<&str>) -> Dataset {
    let mut ds = Dataset::empty();
    ds.sources.push(SourceDocument { id: "chart".to_owned(), title: "A chart".to_owned(), note: None });
    ds.treaties.push(Treaty {
        number: T,
        series: TreatySeries::Ets,
        title: "A convention".to_owned(),
        short_title: "A convention".to_owned(),
        opened: "2001-11-23".parse().unwrap(),
        opened_at: None,
        eligibility: Eligibility::MembersAndParticipants,
        entry_into_force_rule: EntryIntoForceRule {
            consents: 5,
            member_states: 3,
            months: Some(3),
            days: None,
            organisations_not_counted: false,
            article: "Article 36".to_owned(),
        },
        entry_into_force: Some(day("2004-07-01")),
        requires_consent_to: None,
        source: src(),
        note: None,
        depositary_reference: None,
        coverage: complete_through.map(|c| Coverage {
            complete_through: day(c),
            kinds: Vec::new(),
            source: src(),
            note: None,
        }),
        articles: Some(48),
        denunciation: None,
    });
    for (code, ratified) in
        [("AL", "2002-06-20"), ("HR", "2002-10-17"), ("EE", "2003-05-12"), ("HU", "2003-12-04"), ("LT", "2004-03-18")]
    {
        ds.states.push(state(code, true));
        ds.treaty_actions.push(act(code, ActionKind::Signature, "2001-11-23"));
        ds.treaty_actions.push(act(code, ActionKind::Ratification, ratified));
    }
    ds
}

fn add(ds: &mut Dataset, code: &str, member: bool, actions: &[TreatyAction]) {
    ds.states.push(state(code, member));
    ds.treaty_actions.extend(actions.iter().cloned());
}

fn entry(ds: &Dataset, code: &str, as_of: &str) -> Option<StateStatusEntry> {
    let s = ds.treaty_status(T, day(as_of)).unwrap();
    s.groups.into_iter().flat_map(|g| g.states).find(|e| e.state.as_str() == code)
}

/// (status, uncertain, possibly) of a state at a date.
fn line(ds: &Dataset, code: &str, as_of: &str) -> Option<(StateStatus, bool, Option<StateStatus>)> {
    entry(ds, code, as_of).map(|e| (e.status, e.uncertain, e.possibly))
}

/// States at every stage, and some with actions recorded after the record ends.
fn ladder() -> Dataset {
    use ActionKind::*;
    let mut ds = dataset(Some("2007-11-30"));
    add(&mut ds, "DE", true, &[act("DE", Signature, "2001-11-23"), act("DE", Ratification, "2009-03-09")]);
    add(&mut ds, "IT", true, &[act("IT", Signature, "2001-11-23")]);
    add(&mut ds, "TR", true, &[]);
    add(&mut ds, "AZ", true, &[act("AZ", Signature, "2008-06-30")]);
    add(&mut ds, "CR", false, &[act("CR", Invitation, "2007-02-01")]);
    add(&mut ds, "PH", false, &[act("PH", AccessionRequest, "2007-09-01")]);
    add(&mut ds, "CN", false, &[]);
    add(&mut ds, "SK", true, &[act("SK", Signature, "2005-02-04"), act("SK", Ratification, "2008-01-08")]);
    ds
}

#[test]
fn within_the_record_every_status_is_certain() {
    let ds = ladder();
    assert_eq!(ds.validate(), Vec::new());
    let s = ds.treaty_status(T, day("2007-11-30")).unwrap();
    assert!(!s.past_record);
    assert_eq!(s.complete_through, Some(day("2007-11-30")));
    assert_eq!(s.record_note, None);
    assert!(
        s.groups.iter().flat_map(|g| &g.states).all(|e| !e.uncertain && e.possibly.is_none() && e.reason.is_none())
    );
    let counts: Vec<(StateStatus, usize, usize)> =
        s.groups.iter().map(|g| (g.status, g.certain(), g.uncertain())).collect();
    assert_eq!(
        counts,
        [
            (StateStatus::Party, 5, 0),
            (StateStatus::Signatory, 3, 0),
            (StateStatus::NotSigned, 2, 0),
            (StateStatus::InvitedToAccede, 1, 0),
            (StateStatus::AccessionRequested, 1, 0),
        ]
    );
    // A state that may only accede and took no step has no status.
    assert_eq!(line(&ds, "CN", "2007-11-30"), None);
}

#[test]
fn past_the_record_only_parties_are_certain() {
    let ds = ladder();
    use StateStatus::*;
    // (state, as_of, status, uncertain, possibly): the furthest status it may have reached since 2007-11-30.
    let table: [(&str, &str, StateStatus, bool, Option<StateStatus>); 16] = [
        ("AL", "2008-06-30", Party, false, None),
        ("AL", "2026-01-01", Party, false, None),
        ("IT", "2008-06-30", Signatory, true, Some(Party)),
        ("IT", "2026-01-01", Signatory, true, Some(Party)),
        ("TR", "2008-06-30", NotSigned, true, Some(Party)),
        ("CR", "2008-06-30", InvitedToAccede, true, Some(Party)),
        ("PH", "2008-06-30", AccessionRequested, true, Some(Party)),
        // Germany's deposit is recorded on 2009-03-09: before it, a signatory for certain (a state consents
        // once), after it a party.
        ("DE", "2008-06-30", Signatory, false, None),
        ("DE", "2009-03-08", Signatory, false, None),
        ("DE", "2009-03-09", Party, false, None),
        // Azerbaijan signed on 2008-06-30: the day before, it had not (nor ratified, which needs a signature).
        ("AZ", "2008-06-29", NotSigned, false, None),
        ("AZ", "2008-06-30", Signatory, true, Some(Party)),
        // Slovakia's deposit of 2008-01-08 is recorded: used past the record.
        ("SK", "2007-12-31", Signatory, false, None),
        ("SK", "2008-01-08", Party, false, None),
        ("TR", "2007-12-01", NotSigned, true, Some(Party)),
        ("TR", "2007-11-30", NotSigned, false, None),
    ];
    for (code, as_of, status, uncertain, possibly) in table {
        assert_eq!(line(&ds, code, as_of), Some((status, uncertain, possibly)), "{code} at {as_of}");
    }
    // Whatever the date past the record, no non-party is certain unless a recorded action fixes it, and each
    // uncertain state says why and what it may be.
    for as_of in ["2007-12-01", "2010-01-01", "2026-06-30"] {
        let s = ds.treaty_status(T, day(as_of)).unwrap();
        assert!(s.past_record, "{as_of}");
        assert!(s.record_note.as_deref().unwrap().contains("complete through 2007-11-30"), "{as_of}");
        for e in s.groups.iter().flat_map(|g| &g.states) {
            if e.uncertain {
                assert!(e.possibly.is_some(), "{} at {as_of}", e.name);
                assert!(e.reason.as_deref().unwrap().contains("complete through 2007-11-30"), "{e:?}");
            } else {
                assert!(e.status == Party || ["DE", "AZ", "SK"].contains(&e.state.as_str()), "{} at {as_of}", e.name);
            }
        }
    }
    let it = entry(&ds, "IT", "2008-06-30").unwrap();
    assert_eq!(
        it.reason.as_deref(),
        Some(
            "the record of ETS 900 is complete through 2007-11-30 (chart); what the state did after that is in no source here"
        )
    );
    // Still not listed: a state that may only accede and took no step on the record.
    assert_eq!(line(&ds, "CN", "2026-01-01"), None);
}

#[test]
fn a_treaty_complete_through_no_date_is_uncertain_for_every_non_party_at_every_date() {
    let mut ds = ladder();
    ds.treaties[0].coverage = None;
    for as_of in ["2002-01-01", "2005-06-30", "2007-11-30", "2026-01-01"] {
        let s = ds.treaty_status(T, day(as_of)).unwrap();
        assert_eq!((s.complete_through, s.past_record), (None, true));
        assert!(s.record_note.as_deref().unwrap().contains("through which date the record of ETS 900 is complete"));
        for e in s.groups.iter().flat_map(|g| &g.states) {
            // Only a party, or a state whose next step is recorded after the date (so it had not taken it), is
            // certain.
            let later =
                ds.treaty_actions.iter().any(|a| a.state == e.state && !a.date.possibly_on_or_before(day(as_of)));
            let fixed = e.status == StateStatus::Party || later;
            assert!(e.uncertain || fixed, "{} at {as_of}", e.name);
            assert_eq!(e.uncertain, e.possibly.is_some() && e.reason.is_some(), "{} at {as_of}", e.name);
        }
        assert_eq!(line(&ds, "TR", as_of), Some((StateStatus::NotSigned, true, Some(StateStatus::Party))), "{as_of}");
    }
    // Philippines asked in 2007; before that it may already have been invited (a state need not ask), no more.
    assert_eq!(
        line(&ds, "PH", "2002-01-01"),
        Some((StateStatus::InvitedToAccede, true, Some(StateStatus::Party))),
        "listed in the lowest group it may be in"
    );
    // Before the treaty was opened nobody may have signed.
    assert_eq!(line(&ds, "TR", "2001-11-22"), Some((StateStatus::NotSigned, false, None)));
}

#[test]
fn an_uncertain_state_always_says_what_it_may_be_and_why() {
    use ActionKind::*;
    let mut ds = dataset(Some("2007-11-30"));
    // Invited on a day no source gives, on or before the record's end (Costa Rica and Mexico in 2007).
    add(&mut ds, "CR", false, &[act("CR", Invitation, "..2007-11-30")]);
    // Signed in a month whose day no source gives.
    add(&mut ds, "LV", true, &[act("LV", Signature, "2004-05")]);
    // Signed within years.
    add(&mut ds, "SI", true, &[act("SI", Signature, "2001-11-23..2004-12-31")]);
    assert_eq!(ds.validate(), Vec::new());

    let cr = entry(&ds, "CR", "2004-06-30").unwrap();
    assert_eq!(
        (cr.status, cr.uncertain, cr.possibly),
        (StateStatus::InvitedToAccede, true, Some(StateStatus::InvitedToAccede))
    );
    assert_eq!(cr.reason.as_deref(), Some("invited to accede on or before 2007-11-30; the day is in no source"));

    let lv = entry(&ds, "LV", "2004-05-15").unwrap();
    assert_eq!((lv.status, lv.uncertain, lv.possibly), (StateStatus::NotSigned, true, Some(StateStatus::Signatory)));
    assert_eq!(lv.signed, Some(ApproxDate::Month { year: 2004, month: 5 }));
    assert_eq!(lv.reason.as_deref(), Some("signed in May 2004; the day is in no source"));
    assert_eq!(line(&ds, "LV", "2004-05-31"), Some((StateStatus::Signatory, false, None)));

    let si = entry(&ds, "SI", "2003-01-01").unwrap();
    assert_eq!(si.reason.as_deref(), Some("signed between 2001-11-23 and 2004-12-31; the day is in no source"));

    let s = ds.treaty_status(T, day("2004-05-15")).unwrap();
    let counts: Vec<(usize, usize)> = s.groups.iter().map(|g| (g.certain(), g.uncertain())).collect();
    assert_eq!(counts, [(5, 0), (0, 0), (0, 2), (0, 1), (0, 0)]);
}

#[test]
fn entry_into_force_bounds_the_deposit_to_a_month() {
    use ActionKind::*;
    let mut ds = dataset(Some("2007-11-30"));
    let wide = "2004-01-01..2007-11-30";
    add(&mut ds, "IS", true, &[act("IS", Signature, "2001-11-30"), eif(act("IS", Ratification, wide), "2007-05-01")]);
    add(&mut ds, "NO", true, &[act("NO", Signature, "2001-11-23"), eif(act("NO", Ratification, wide), "2006-10-01")]);
    // Bounds that already say the month: nothing to derive.
    add(
        &mut ds,
        "MK",
        true,
        &[act("MK", Signature, "2001-11-23"), eif(act("MK", Ratification, "2004-09"), "2005-01-01")],
    );
    // Entry into force on the treaty's own day: the deposit may be any day before; nothing derived.
    add(
        &mut ds,
        "RO",
        true,
        &[act("RO", Signature, "2001-11-23"), eif(act("RO", Ratification, "2002-01-01..2004-03-31"), "2004-07-01")],
    );
    assert_eq!(ds.validate(), Vec::new());

    let derived = ds.derived_bounds(T).unwrap();
    let mut narrowed: Vec<(&str, String, DerivedKind)> =
        derived.iter().map(|(s, d)| (s.as_str(), d.date.to_string(), d.kind)).collect();
    narrowed.sort();
    assert_eq!(
        narrowed,
        [
            ("IS", "2007-01".to_owned(), DerivedKind::EntryIntoForce),
            ("NO", "2006-06".to_owned(), DerivedKind::EntryIntoForce)
        ]
    );
    let note = &derived[&"IS".parse().unwrap()].note;
    for words in ["2007-05-01", "Article 36", "3 months", "in January 2007", "recorded date is 2004-01-01..2007-11-30"]
    {
        assert!(note.contains(words), "{words:?} in {note}");
    }
    // The recorded date stays; every use of the consent's date sees the derived one.
    let is = ds.treaty_actions.iter().find(|a| a.state.as_str() == "IS" && a.kind == Ratification).unwrap();
    assert_eq!(is.date.to_string(), wide);
    assert_eq!(ds.derived_bound(is).map(|d| d.date), Some(ApproxDate::Month { year: 2007, month: 1 }));
    assert_eq!(line(&ds, "IS", "2006-12-31"), Some((StateStatus::Signatory, false, None)));
    assert_eq!(line(&ds, "IS", "2007-01-15"), Some((StateStatus::Signatory, true, Some(StateStatus::Party))));
    let e = entry(&ds, "IS", "2007-01-31").unwrap();
    assert_eq!(
        (e.status, e.uncertain, e.consented),
        (StateStatus::Party, false, Some(ApproxDate::Month { year: 2007, month: 1 }))
    );
    assert_eq!(e.consent_derived.as_ref().map(|d| d.kind), Some(DerivedKind::EntryIntoForce));
    let years = ds.consents_per_year(T, 2006, 2007).unwrap();
    assert_eq!((years[0].added_min, years[0].added_max, years[1].added_min, years[1].added_max), (1, 1, 1, 1));
    assert_eq!(
        entry(&ds, "IS", "2007-01-15").unwrap().reason.as_deref(),
        Some("ratified in January 2007 (a bound derived from its recorded entry into force); the day is in no source")
    );
}

#[test]
fn bounds_that_exclude_the_month_the_entry_into_force_gives_are_an_error() {
    use ActionKind::*;
    let mut ds = dataset(Some("2007-11-30"));
    add(&mut ds, "IS", true, &[act("IS", Signature, "2001-11-30"), eif(act("IS", Ratification, "2005"), "2007-05-01")]);
    let errors = ds.validate();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].file, "treaty-actions.toml");
    assert_eq!(errors[0].record.as_deref(), Some("action #12 (IS ratification of 900)"));
    assert_eq!(errors[0].field.as_deref(), Some("entry_into_force"));
    assert_eq!(
        errors[0].message,
        ModelError::DepositOutsideEntryIntoForce {
            state: "IS".parse().unwrap(),
            treaty: T,
            entry_into_force: day("2007-05-01"),
            article: "Article 36".to_owned(),
            month: "in January 2007".to_owned(),
            date: "2005".parse().unwrap(),
        }
        .to_string()
    );
    // Nothing is derived from it.
    assert!(ds.derived_bounds(T).unwrap().is_empty());
}

fn figure(year: i32, value: i64, as_of: &str) -> ReportedFigure {
    ReportedFigure {
        id: format!("added-{year}"),
        measure: Measure::ConsentsInYear,
        treaty: Some(T),
        year: Some(year),
        label: format!("Add. ratif. {year}"),
        value,
        qualifier: Qualifier::Exact,
        as_of: as_of.parse().unwrap(),
        source: src(),
        note: None,
    }
}

/// The base five (2002: 2, 2003: 2, 2004: 1) plus `more`, against a reported series.
fn series_dataset(more: &[(&str, &str)], series: &[(i32, i64, &str)]) -> Dataset {
    let mut ds = dataset(Some("2007-11-30"));
    for (code, date) in more {
        add(
            &mut ds,
            code,
            true,
            &[act(code, ActionKind::Signature, "2001-11-23"), act(code, ActionKind::Ratification, date)],
        );
    }
    ds.reported_figures = series.iter().map(|(y, v, as_of)| figure(*y, *v, as_of)).collect();
    assert_eq!(ds.validate(), Vec::new());
    ds
}

#[test]
fn a_series_that_admits_one_year_narrows_the_consent_to_it() {
    // 2004 needs two consents: LT and one more; 2005 needs one, dated; Slovenia, known only from 2004-05-20 to
    // 2007-11-30, can only be 2004's second. 2007 is counted to the end of November, as the report does.
    let ds = series_dataset(
        &[("SI", "2004-05-20..2007-11-30"), ("BG", "2005-04-07")],
        &[
            (2002, 2, "2002-12-31"),
            (2003, 2, "2003-12-31"),
            (2004, 2, "2004-12-31"),
            (2005, 1, "2005-12-31"),
            (2006, 0, "2006-12-31"),
            (2007, 0, "2007-11-30"),
        ],
    );
    let derived = ds.derived_bounds(T).unwrap();
    let si = &derived[&"SI".parse().unwrap()];
    assert_eq!((si.date.to_string().as_str(), si.kind), ("2004-05-20..2004-12-31", DerivedKind::ReportedSeries));
    for words in [
        "+2 in 2004",
        "+0 in 2007 to 2007-11-30",
        "only 2004 keeps the series exact",
        "recorded date is 2004-05-20..2007-11-30",
    ] {
        assert!(si.note.contains(words), "{words:?} in {}", si.note);
    }
    assert_eq!(derived.len(), 1);
    // The per-year counts and the totals at each year's end come out exact, nothing uncertain at those dates.
    let years = ds.consents_per_year(T, 2002, 2006).unwrap();
    let exact: Vec<(i32, u32, u32)> = years.iter().map(|y| (y.year, y.added_min, y.total_min)).collect();
    assert_eq!(exact, [(2002, 2, 2), (2003, 2, 4), (2004, 2, 6), (2005, 1, 7), (2006, 0, 7)]);
    assert!(years.iter().all(|y| y.is_exact() && !y.past_record), "{years:?}");
    for end in ["2002-12-31", "2003-12-31", "2004-12-31", "2005-12-31", "2006-12-31", "2007-11-30"] {
        let s = ds.treaty_status(T, day(end)).unwrap();
        assert!(s.groups.iter().flat_map(|g| &g.states).all(|e| !e.uncertain), "{end}");
    }
    let rec =
        ds.reconcile_consents_per_year(T, &[(2002, 2), (2003, 2), (2004, 2), (2005, 1), (2006, 0), (2007, 0)]).unwrap();
    assert!(rec.consistent);
    assert!(rec.undated.is_empty(), "{:?}", rec.undated);
    assert!(rec.years.iter().all(|(c, reported)| c.is_exact() && i64::from(c.added_min) == *reported));
    assert!(!rec.years.last().unwrap().0.past_record, "2007 is counted to the end of November");
}

#[test]
fn a_series_that_admits_two_placements_narrows_nothing() {
    // Two consents known only within 2004-2005, one place in each year: either order gives the series.
    let ds = series_dataset(
        &[("SI", "2004-01-01..2005-12-31"), ("LV", "2004-01-01..2005-12-31")],
        &[(2002, 2, "2002-12-31"), (2003, 2, "2003-12-31"), (2004, 2, "2004-12-31"), (2005, 1, "2005-12-31")],
    );
    assert!(ds.derived_bounds(T).unwrap().is_empty());
    let rec = ds.reconcile_consents_per_year(T, &[(2002, 2), (2003, 2), (2004, 2), (2005, 1)]).unwrap();
    assert!(rec.consistent);
    let undated: Vec<&str> = rec.undated.iter().map(|c| c.as_str()).collect();
    assert_eq!(undated, ["SI", "LV"]);
    // A series the bounds exclude narrows nothing either, and is found inconsistent.
    let ds = series_dataset(
        &[("SI", "2004-05-20..2007-11-30")],
        &[(2002, 3, "2002-12-31"), (2003, 2, "2003-12-31"), (2004, 1, "2004-12-31")],
    );
    assert!(ds.derived_bounds(T).unwrap().is_empty());
    assert!(!ds.reconcile_consents_per_year(T, &[(2002, 3), (2003, 2), (2004, 1)]).unwrap().consistent);
    // Past the record the series pins nothing: a state the record does not show may fill the year.
    let mut ds = series_dataset(
        &[("SI", "2004-05-20..2008-12-31")],
        &[(2002, 2, "2002-12-31"), (2003, 2, "2003-12-31"), (2004, 1, "2004-12-31"), (2008, 1, "2008-12-31")],
    );
    assert!(ds.derived_bounds(T).unwrap().is_empty());
    ds.treaties[0].coverage.as_mut().unwrap().complete_through = day("2008-12-31");
    assert_eq!(ds.derived_bounds(T).unwrap()[&"SI".parse().unwrap()].date.to_string(), "2008");
}

#[test]
fn years_past_the_record_count_every_state_that_may_have_consented() {
    let ds = ladder();
    let years = ds.consents_per_year(T, 2006, 2009).unwrap();
    // Within the record (2006): exact. 2007 ends after 2007-11-30: IT, TR, CR, PH (and AZ? not before its
    // signature of 2008-06-30) may have consented in December; DE's and SK's deposits are recorded later.
    let rows: Vec<(i32, u32, u32, u32, u32, bool)> =
        years.iter().map(|y| (y.year, y.added_min, y.added_max, y.total_min, y.total_max, y.past_record)).collect();
    assert_eq!(
        rows,
        [(2006, 0, 0, 5, 5, false), (2007, 0, 4, 5, 9, true), (2008, 1, 6, 6, 11, true), (2009, 1, 6, 7, 12, true),]
    );
    // Counted up to the end of November 2007, as the report does, 2007 is exact.
    let to_november = ds.consents_per_year_until(T, 2007, 2007, day("2007-11-30")).unwrap();
    assert_eq!((to_november[0].added_max, to_november[0].total_max, to_november[0].past_record), (0, 5, false));
}

#[test]
fn a_record_complete_for_consents_only_leaves_signatures_uncertain() {
    let mut ds = ladder();
    ds.treaties[0].coverage.as_mut().unwrap().kinds = vec![ActionKind::Ratification, ActionKind::Accession];
    // At the record's date the parties are the record's, a signatory is certainly not a party, and a member state
    // that had not signed on the record may have signed on a day no source gives (but not ratified).
    let s = ds.treaty_status(T, day("2007-11-30")).unwrap();
    assert!(s.past_record);
    assert!(s.record_note.as_deref().unwrap().contains("for ratifications and accessions only"), "{:?}", s.record_note);
    assert_eq!(line(&ds, "IT", "2007-11-30"), Some((StateStatus::Signatory, false, None)));
    let tr = entry(&ds, "TR", "2007-11-30").unwrap();
    assert_eq!((tr.status, tr.uncertain, tr.possibly), (StateStatus::NotSigned, true, Some(StateStatus::Signatory)));
    assert_eq!(
        tr.reason.as_deref(),
        Some(
            "the record of ETS 900 is complete through 2007-11-30 for ratifications and accessions only (chart): a signature no source here names may have taken place"
        )
    );
    // Counting consents, the record is complete: 2007 to the end of November is exact.
    let to_november = ds.consents_per_year_until(T, 2007, 2007, day("2007-11-30")).unwrap();
    assert!(to_november[0].is_exact() && !to_november[0].past_record);
    // After it, as for a whole record.
    assert_eq!(line(&ds, "IT", "2008-06-30"), Some((StateStatus::Signatory, true, Some(StateStatus::Party))));
}

#[test]
fn a_coverage_names_a_source_the_dataset_holds() {
    let mut ds = dataset(Some("2007-11-30"));
    ds.treaties[0].coverage.as_mut().unwrap().source = SourceRef::new("no-such-chart", Some("§1"));
    let errors = ds.validate();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        (errors[0].file.as_str(), errors[0].record.as_deref(), errors[0].field.as_deref()),
        ("treaties.toml", Some("treaty 900"), Some("coverage.source"))
    );
    assert!(errors[0].message.contains("no-such-chart"), "{}", errors[0].message);
    // And it is written back and read again with the dataset's files.
    let mut ds = Dataset::bundled();
    // CETS 201, CETS 224 and the UN Convention have no source listing all their actions at a date.
    let without: Vec<u32> = ds.treaties.iter().filter(|t| t.coverage.is_none()).map(|t| t.number.0).collect();
    assert_eq!(without, [201, 224, 18016]);
    ds.treaties[0].coverage.as_mut().unwrap().note = None;
    let files = ds.to_files();
    let borrowed: Vec<(&str, &str)> = files.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    assert_eq!(Dataset::parse(&borrowed).unwrap(), ds);
}
