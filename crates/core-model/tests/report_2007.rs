//! The tables of the progress report of 30 November 2007, rebuilt from the bundled dataset.
//!
//! The report (`shared/seed/progress-report-2007-11-30.txt`) is the first truth: every expected value below is
//! copied from it, and the data must give it back.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use core_model::{
    ActionKind, Activity, ActivityPrecision, ActivityStatus, ApproxDate, ContactPointStatus, Dataset, DerivedKind,
    Measure, StateStatus, TreatyNumber,
};

const ETS185: TreatyNumber = TreatyNumber(185);
const ETS189: TreatyNumber = TreatyNumber(189);

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn names(ds: &Dataset, treaty: TreatyNumber, as_of: &str, status: StateStatus) -> Vec<String> {
    ds.treaty_status(treaty, day(as_of)).unwrap().group(status).iter().map(|e| e.name.clone()).collect()
}

#[test]
fn status_table_at_30_november_2007() {
    let ds = Dataset::bundled();
    let status = ds.treaty_status(ETS185, day("2007-11-30")).unwrap();
    assert_eq!(
        names(&ds, ETS185, "2007-11-30", StateStatus::Party),
        [
            "Albania",
            "Armenia",
            "Bosnia and Herzegovina",
            "Bulgaria",
            "Croatia",
            "Cyprus",
            "Denmark",
            "Estonia",
            "Finland",
            "France",
            "Hungary",
            "Iceland",
            "Latvia",
            "Lithuania",
            "Netherlands",
            "Norway",
            "Romania",
            "Slovenia",
            "\"the former Yugoslav Republic of Macedonia\"",
            "Ukraine",
            "United States of America",
        ]
    );
    assert_eq!(
        names(&ds, ETS185, "2007-11-30", StateStatus::Signatory),
        [
            "Austria",
            "Belgium",
            "Canada",
            "Czech Republic",
            "Germany",
            "Greece",
            "Ireland",
            "Italy",
            "Japan",
            "Luxembourg",
            "Malta",
            "Moldova",
            "Montenegro",
            "Poland",
            "Portugal",
            "Serbia",
            "Slovakia",
            "South Africa",
            "Spain",
            "Sweden",
            "Switzerland",
            "United Kingdom",
        ]
    );
    assert_eq!(
        names(&ds, ETS185, "2007-11-30", StateStatus::NotSigned),
        ["Andorra", "Azerbaijan", "Georgia", "Liechtenstein", "Monaco", "Russian Federation", "San Marino", "Turkey"]
    );
    assert_eq!(names(&ds, ETS185, "2007-11-30", StateStatus::InvitedToAccede), ["Costa Rica", "Mexico"]);
    assert_eq!(names(&ds, ETS185, "2007-11-30", StateStatus::AccessionRequested), ["Philippines"]);
    // At the report's date nothing is uncertain: every bound falls on one side of it.
    assert!(status.groups.iter().flat_map(|g| &g.states).all(|e| !e.uncertain), "{status:#?}");
    // The 8 not signed are all member states, as the report's heading says.
    for e in status.group(StateStatus::NotSigned) {
        assert!(ds.state(&e.state).unwrap().coe_member, "{}", e.name);
    }
}

#[test]
fn reported_status_figures_equal_the_computed_ones_for_ets_185() {
    let ds = Dataset::bundled();
    let status = ds.treaty_status(ETS185, day("2007-11-30")).unwrap();
    let reported = |m: Measure| {
        ds.reported_figures
            .iter()
            .find(|f| f.measure == m && f.treaty == Some(ETS185) && f.as_of == ApproxDate::Day(day("2007-11-30")))
            .unwrap()
            .value
    };
    for (measure, status_) in [
        (Measure::Parties, StateStatus::Party),
        (Measure::Signatories, StateStatus::Signatory),
        (Measure::MemberStatesNotSigned, StateStatus::NotSigned),
        (Measure::InvitedToAccede, StateStatus::InvitedToAccede),
        (Measure::AccessionRequested, StateStatus::AccessionRequested),
    ] {
        assert_eq!(reported(measure), status.group(status_).len() as i64, "{measure:?}");
    }
}

#[test]
fn ratifications_per_year_2002_to_2007() {
    let ds = Dataset::bundled();
    // The report's table: Add. ratif. +2 +2 +4 +3 +7 +3; Total 2 4 8 11 18 21. It is kept as reported figures...
    let series = |m: Measure| -> Vec<(i32, i64)> {
        let mut v: Vec<(i32, i64)> = ds
            .reported_figures
            .iter()
            .filter(|f| f.measure == m && f.treaty == Some(ETS185))
            .map(|f| (f.year.unwrap(), f.value))
            .collect();
        v.sort();
        v
    };
    let added = series(Measure::ConsentsInYear);
    assert_eq!(added, [(2002, 2), (2003, 2), (2004, 4), (2005, 3), (2006, 7), (2007, 3)]);
    assert_eq!(series(Measure::ConsentsTotal), [(2002, 2), (2003, 4), (2004, 8), (2005, 11), (2006, 18), (2007, 21)]);

    // ...and the data rebuilds it exactly. Latvia's day is sourced (S14). Iceland's, Norway's and "the former
    // Yugoslav Republic of Macedonia"'s deposits have no day in any source, but their entries into force are
    // recorded (2007-05-01, 2006-10-01, 2005-01-01): under Article 36(4) each puts the deposit in one month. Slovenia's
    // is only bounded by the sources (2004-05-20..2007-11-30): once every other consent is placed, the report's
    // series admits 2004 alone for it. Each is a derived bound with its note; the recorded dates stay.
    let derived = ds.derived_bounds(ETS185).unwrap();
    let mut bounds: Vec<(&str, String, DerivedKind)> =
        derived.iter().map(|(s, d)| (s.as_str(), d.date.to_string(), d.kind)).collect();
    bounds.sort();
    // The deposits the sources leave undated after the report (e.g. Italy's, entry into force 2008-10-01, S5) are
    // derived too; the report's years keep these four.
    bounds.retain(|(_, date, _)| date.as_str() < "2008");
    assert_eq!(
        bounds,
        [
            ("IS", "2007-01".to_owned(), DerivedKind::EntryIntoForce),
            ("MK", "2004-09".to_owned(), DerivedKind::EntryIntoForce),
            ("NO", "2006-06".to_owned(), DerivedKind::EntryIntoForce),
            ("SI", "2004-05-20..2004-12-31".to_owned(), DerivedKind::ReportedSeries),
        ]
    );
    for (code, words) in [
        ("IS", "2007-05-01"),
        ("NO", "2006-10-01"),
        ("MK", "2005-01-01"),
        ("SI", "+4 in 2004"),
        ("SI", "+3 in 2007 to 2007-11-30"),
        ("SI", "only 2004 keeps the series exact"),
    ] {
        let note = &derived[&code.parse().unwrap()].note;
        assert!(note.contains(words) && note.contains("The day is in no source"), "{code}: {words:?} in {note}");
    }
    for code in ["IS", "NO", "MK", "SI"] {
        let recorded =
            ds.treaty_actions.iter().find(|a| a.state.as_str() == code && a.treaty == ETS185 && a.kind.is_consent());
        assert_ne!(
            recorded.map(|a| a.date),
            Some(derived[&code.parse().unwrap()].date),
            "{code} keeps its recorded date"
        );
    }

    // The per-year counts and the totals at each year's end come out of the data exactly, 2007 counted to the
    // report's date as the report counts it.
    let mut computed = ds.consents_per_year(ETS185, 2002, 2006).unwrap();
    computed.extend(ds.consents_per_year_until(ETS185, 2007, 2007, day("2007-11-30")).unwrap());
    assert!(computed.iter().all(|c| c.is_exact() && !c.past_record), "{computed:?}");
    let rebuilt: Vec<(i32, i64)> = computed.iter().map(|c| (c.year, i64::from(c.added_min))).collect();
    assert_eq!(rebuilt, added);
    let totals: Vec<(i32, i64)> = computed.iter().map(|c| (c.year, i64::from(c.total_min))).collect();
    assert_eq!(totals, series(Measure::ConsentsTotal));
    // No consent is uncertain at those dates.
    for end in ["2002-12-31", "2003-12-31", "2004-12-31", "2005-12-31", "2006-12-31", "2007-11-30"] {
        let s = ds.treaty_status(ETS185, day(end)).unwrap();
        let unsure: Vec<&str> = s
            .groups
            .iter()
            .flat_map(|g| &g.states)
            .filter(|e| e.uncertain && (e.status == StateStatus::Party || e.possibly == Some(StateStatus::Party)))
            .map(|e| e.state.as_str())
            .collect();
        assert!(unsure.is_empty(), "{end}: {unsure:?}");
    }
    // The calendar year 2007 runs past the record (complete through 2007-11-30): its maxima count every state
    // that may have consented in December.
    let calendar = ds.consents_per_year(ETS185, 2007, 2007).unwrap();
    assert!(calendar[0].past_record && calendar[0].total_max > 21 && calendar[0].total_min == 21, "{calendar:?}");

    // The reconciliation's computed and reported rows agree, and no consent's year is left open.
    let rec = ds.reconcile_consents_per_year(ETS185, &added).unwrap();
    for (count, reported) in &rec.years {
        assert!(count.is_exact() && i64::from(count.added_min) == *reported, "{count:?} vs {reported}");
    }
    assert!(rec.consistent);
    assert!(rec.undated.is_empty(), "{:?}", rec.undated);

    // A series the data excludes is found inconsistent: three ratifications in 2002 would need another consent
    // there, and none may be.
    let wrong = [(2002, 3), (2003, 2), (2004, 3), (2005, 3), (2006, 7), (2007, 3)];
    assert!(!ds.reconcile_consents_per_year(ETS185, &wrong).unwrap().consistent);
    // So is one that leaves a dated ratification out.
    let short = [(2002, 2), (2003, 2), (2004, 4), (2005, 2), (2006, 7), (2007, 3)];
    assert!(!ds.reconcile_consents_per_year(ETS185, &short).unwrap().consistent);
}

#[test]
fn entry_into_force_of_ets_185_from_article_36() {
    let ds = Dataset::bundled();
    let treaty = ds.treaty(ETS185).unwrap();
    assert_eq!(treaty.entry_into_force, Some(day("2004-07-01")), "as the sources record it");

    // On the dated consents alone the rule gives exactly 2004-07-01: the fifth consent is Lithuania's deposit of
    // 2004-03-18 (after Albania, Croatia, Estonia and Hungary, all member states).
    let mut dated = ds.clone();
    dated.treaty_actions.retain(|a| a.date.exact().is_some());
    assert_eq!(dated.treaty_entry_into_force(ETS185), Some(ApproxDate::Day(day("2004-07-01"))));

    // With every consent it is the same day: no ratification without a day can have come before Lithuania's
    // (Slovenia's is on or after 2004-05-20, the sources' bound, and the others later still).
    assert_eq!(ds.treaty_entry_into_force(ETS185), Some(ApproxDate::Day(day("2004-07-01"))));

    // Per state, after the treaty's own entry into force: the first day of the month after three months.
    let eif = |code: &str| {
        let s = ds.treaty_status(ETS185, day("2007-11-30")).unwrap();
        s.group(StateStatus::Party).iter().find(|e| e.state.as_str() == code).unwrap().entry_into_force
    };
    assert_eq!(eif("AM"), Some(ApproxDate::Day(day("2007-02-01"))), "recorded, and equal to the rule");
    // No source records Ukraine's: it is computed from its deposit of 2006-03-10.
    assert_eq!(eif("UA"), Some(ApproxDate::Day(day("2006-07-01"))));
    // "the former Yugoslav Republic of Macedonia": the entry into force is recorded, the deposit only bounded by
    // the sources (2004-06-24..2005-11-14); the rule gives a range from that bound which holds the recorded date.
    let mk = ds
        .treaty_actions
        .iter()
        .find(|a| a.state.as_str() == "MK" && a.treaty == ETS185 && a.kind.is_consent())
        .unwrap();
    assert_eq!(mk.entry_into_force, Some(day("2005-01-01")));
    let computed = ds.state_entry_into_force(ETS185, &mk.date).unwrap();
    assert_eq!((computed.earliest(), computed.latest()), (Some(day("2004-10-01")), Some(day("2006-03-01"))));
    // ETS 189 entered into force on 2006-03-01 as recorded, which its rule (Article 10) does not contradict.
    assert_eq!(ds.treaty(ETS189).unwrap().entry_into_force, Some(day("2006-03-01")));
}

#[test]
fn status_at_other_dates_says_what_is_uncertain() {
    let ds = Dataset::bundled();
    // Mid-2004: six dated ratifications; the two whose year no source gives may already have happened (their
    // sources' lower bounds are 2004-05-20 and 2004-06-24); Iceland (2007), Latvia (2007) and Norway (2006) had
    // certainly not ratified.
    let s = ds.treaty_status(ETS185, day("2004-06-30")).unwrap();
    let certain: Vec<&str> =
        s.group(StateStatus::Party).iter().filter(|e| !e.uncertain).map(|e| e.state.as_str()).collect();
    assert_eq!(certain, ["AL", "HR", "EE", "HU", "LT", "RO"]);
    let entry = |code: &str| s.groups.iter().flat_map(|g| &g.states).find(|e| e.state.as_str() == code).unwrap();
    // Slovenia's deposit is in 2004 from 2004-05-20 (the series' derived bound): it may have happened.
    assert!(entry("SI").uncertain);
    assert_eq!(entry("SI").possibly, Some(StateStatus::Party));
    assert!(entry("SI").reason.as_deref().unwrap().contains("between 2004-05-20 and 2004-12-31"));
    // "the former Yugoslav Republic of Macedonia" deposited in September 2004 (its entry into force): not yet.
    for code in ["IS", "LV", "NO", "MK"] {
        assert_eq!((entry(code).status, entry(code).uncertain), (StateStatus::Signatory, false), "{code}");
    }
    // Every signature the sources date is dated: the United Kingdom, Japan, Canada, Italy, Spain and the others
    // who signed on the opening day are signatories in mid-2004, not "possibly" so. Only Montenegro's, Serbia's
    // and Slovakia's signatures are in no source here, so they alone stay uncertain.
    let signed: BTreeSet<&str> =
        s.group(StateStatus::Signatory).iter().filter(|e| !e.uncertain).map(|e| e.state.as_str()).collect();
    for code in ["GB", "JP", "CA", "IT", "ES", "DE", "ZA", "MT", "IE", "LU", "NL", "IS", "LV", "NO"] {
        assert!(signed.contains(code), "{code} signed by 2004-06-30: {signed:?}");
    }
    let unsure: Vec<&str> = s
        .groups
        .iter()
        .flat_map(|g| &g.states)
        .filter(|e| e.uncertain && e.possibly == Some(StateStatus::Signatory))
        .map(|e| e.state.as_str())
        .collect();
    assert_eq!(unsure, ["ME", "RS", "SK"]);

    // Costa Rica and Mexico were invited on a day no source gives, on or before the report's date: in mid-2004
    // they may not have been yet, and say so.
    for code in ["CR", "MX"] {
        let e = entry(code);
        assert_eq!(
            (e.status, e.uncertain, e.possibly),
            (StateStatus::InvitedToAccede, true, Some(StateStatus::InvitedToAccede))
        );
        assert!(e.reason.as_deref().unwrap().starts_with("invited to accede"), "{e:?}");
    }
    // Every uncertain state says what it may be and why.
    assert!(
        s.groups.iter().flat_map(|g| &g.states).all(|e| e.uncertain == (e.possibly.is_some() && e.reason.is_some()))
    );

    // Latvia signed on 2004-05-05 (S4, S11, S32) and deposited on 2007-02-14 (S14): not signed the day before.
    let status_of = |code: &str, d: &str| {
        let s = ds.treaty_status(ETS185, day(d)).unwrap();
        s.groups.iter().flat_map(|g| &g.states).find(|e| e.state.as_str() == code).map(|e| (e.status, e.uncertain))
    };
    assert_eq!(status_of("LV", "2004-05-04"), Some((StateStatus::NotSigned, false)));
    assert_eq!(status_of("LV", "2004-05-05"), Some((StateStatus::Signatory, false)));
    assert_eq!(status_of("LV", "2007-02-14"), Some((StateStatus::Party, false)));
    // "the former Yugoslav Republic of Macedonia": its deposit is bounded by the sources to 2004-06-24..2005-11-14
    // (the ratification law; its Protocol deposit): not yet the day before, surely on the last day, uncertain
    // in between.
    assert_eq!(status_of("MK", "2004-06-23"), Some((StateStatus::Signatory, false)));
    assert_eq!(status_of("MK", "2004-08-31"), Some((StateStatus::Signatory, false)));
    assert_eq!(status_of("MK", "2004-09-15").map(|m| m.1), Some(true));
    assert_eq!(status_of("MK", "2004-09-30"), Some((StateStatus::Party, false)));
    assert_eq!(status_of("MK", "2005-11-14"), Some((StateStatus::Party, false)));

    // After the report: Slovakia deposited on 2008-01-08, Georgia signed on 2008-04-01, Azerbaijan on 2008-06-30;
    // Italy's deposit, undated in the sources, lies in June 2008 by its entry into force on 2008-10-01 (S5).
    let parties = names(&ds, ETS185, "2008-06-30", StateStatus::Party);
    assert!(parties.contains(&"Slovakia".to_owned()) && parties.contains(&"Italy".to_owned()), "{parties:?}");
    assert_eq!(parties.len(), 23);
    assert!(!names(&ds, ETS185, "2008-05-31", StateStatus::Party).contains(&"Italy".to_owned()));
    let not_signed = names(&ds, ETS185, "2008-06-30", StateStatus::NotSigned);
    assert!(!not_signed.contains(&"Georgia".to_owned()) && !not_signed.contains(&"Azerbaijan".to_owned()));
    assert!(names(&ds, ETS185, "2008-06-29", StateStatus::NotSigned).contains(&"Azerbaijan".to_owned()));

    // Before the Convention was opened, every eligible state is "not signed" and no one is a party.
    assert!(names(&ds, ETS185, "2001-01-01", StateStatus::Party).is_empty());
}

#[test]
fn protocol_status_beside_the_reported_figures() {
    let ds = Dataset::bundled();
    let treaty = ds.treaty(ETS189).unwrap();
    assert_eq!(
        (treaty.opened, treaty.opened_at.as_deref()),
        (ApproxDate::day(2003, 1, 28).unwrap(), Some("Strasbourg"))
    );
    let s = ds.treaty_status(ETS189, day("2007-11-30")).unwrap();
    let reported = |id: &str| ds.reported_figures.iter().find(|f| f.id == id).unwrap().value;
    // The report's eleven parties: ten deposits the sources date (S6, S48), and Slovenia, whose deposit no source
    // dates but which the sources bound to 2004-05-20..2007-11-30.
    let parties: Vec<&str> = s.group(StateStatus::Party).iter().map(|e| e.state.as_str()).collect();
    assert_eq!(parties, ["AL", "AM", "BA", "CY", "DK", "FR", "LV", "LT", "SI", "MK", "UA"]);
    assert_eq!(reported("ets189-parties-2007-11-30"), parties.len() as i64);
    assert!(s.group(StateStatus::Party).iter().all(|e| !e.uncertain));
    let dated = s.group(StateStatus::Party).iter().filter(|e| e.consented.is_some_and(|c| c.exact().is_some()));
    assert_eq!(dated.count(), 10);
    // Fourteen of the report's 20 further signatories are named by the sources; the other six are not, and the
    // data does not invent them.
    let signed: Vec<&str> = s.group(StateStatus::Signatory).iter().map(|e| e.state.as_str()).collect();
    assert_eq!(signed, ["BE", "CA", "HR", "EE", "FI", "DE", "GR", "IS", "LU", "MT", "MD", "ME", "NL", "PT"]);
    assert_eq!(reported("ets189-signatories-2007-11-30"), 20);
    // The record of consents is complete through the report's date, that of signatures is not: a state shown as
    // not signed may be one of the six the sources do not name, so it is uncertain, possibly a signatory (not a
    // party: every consent is recorded), and says why.
    assert_eq!((s.complete_through, s.past_record), (Some(day("2007-11-30")), true));
    assert!(
        s.groups.iter().flat_map(|g| &g.states).filter(|e| e.status != StateStatus::NotSigned).all(|e| !e.uncertain)
    );
    let not_signed = s.group(StateStatus::NotSigned);
    assert!(!not_signed.is_empty());
    // South Africa's and Norway's signatures are recorded after the report (2007-12-01..2008-04-26, 2008-04-29):
    // they had not signed.
    // The Czech Republic and Slovakia ratified later (2014-08-07, S19; 2023-06-28, S35) after a signature no source
    // dates: signed between the opening and their deposit, so possibly signatories at the report's date, and
    // the reason says so.
    // Those whose signature is recorded after the report (Norway, South Africa above; Liechtenstein 2008-11-17,
    // Italy 2011-11-09, Andorra 2013-04-23, Monaco 2017-03-17, San Marino 2017-05-19: S6, S34) had not signed.
    let signed_later = |code: &str| {
        ds.treaty_actions.iter().any(|a| {
            a.state.as_str() == code
                && a.treaty == ETS189
                && a.kind == ActionKind::Signature
                && a.date.earliest().is_some_and(|d| d > day("2007-11-30"))
        })
    };
    for code in ["ZA", "NO", "LI", "IT", "AD", "MC", "SM"] {
        assert!(signed_later(code), "{code}");
        // (Andorra, Monaco and San Marino had not signed the Convention either, so are not listed at all.)
        if let Some(e) = not_signed.iter().find(|e| e.state.as_str() == code) {
            assert_eq!((e.uncertain, e.possibly), (false, None), "{e:?}");
        }
    }
    for e in not_signed.iter().filter(|e| !signed_later(e.state.as_str())) {
        assert_eq!((e.uncertain, e.possibly), (true, Some(StateStatus::Signatory)), "{e:?}");
        let reason = e.reason.as_deref().unwrap();
        if ["CZ", "SK"].contains(&e.state.as_str()) {
            assert!(reason.contains("the day is in no source"), "{e:?}");
        } else {
            assert!(reason.contains("for ratifications and accessions only"), "{e:?}");
        }
    }
    // South Africa had not signed at the report's date (§2.2.13), but had by April 2008 (S33).
    let za = |d: &str| {
        let s = ds.treaty_status(ETS189, day(d)).unwrap();
        s.groups.iter().flat_map(|g| &g.states).find(|e| e.state.as_str() == "ZA").map(|e| (e.status, e.uncertain))
    };
    assert_eq!(za("2007-11-30"), Some((StateStatus::NotSigned, false)));
    // ...a signatory for certain then, and, past the record, possibly a party since.
    assert_eq!(za("2008-04-26"), Some((StateStatus::Signatory, true)));
    // Before the opening on 2003-01-28, no one had signed; on that day France, Germany and others did.
    assert!(ds.treaty_status(ETS189, day("2003-01-27")).unwrap().group(StateStatus::Signatory).is_empty());
    let at_opening = ds.treaty_status(ETS189, day("2003-01-28")).unwrap();
    let opening: Vec<&str> =
        at_opening.group(StateStatus::Signatory).iter().filter(|e| !e.uncertain).map(|e| e.state.as_str()).collect();
    assert_eq!(opening, ["AM", "BE", "EE", "FI", "FR", "DE", "GR", "LU", "MT", "NL"]);
    // The rule of Article 10 does not contradict the recorded entry into force (2006-03-01): the fifth consent
    // the sources date is France's (2006-01-10), but Slovenia's may have come before Macedonia's of 2005-11-14.
    let eif = ds.treaty_entry_into_force(ETS189).unwrap();
    assert_eq!((eif.earliest(), eif.latest()), (Some(day("2006-03-01")), Some(day("2006-05-01"))));
    // Norway's signature and ratification of 2008-04-29, after the report, are recorded too.
    assert!(names(&ds, ETS189, "2008-04-29", StateStatus::Party).contains(&"Norway".to_owned()));
}

#[test]
fn countries_that_received_specific_legislative_advice() {
    let ds = Dataset::bundled();
    let report_date = day("2007-11-30");
    let name = |c: &core_model::CountryCode| ds.state(c).unwrap().name.clone();
    // The nine of §3.1, derived from the steps: a written analysis or a workshop on a draft law, done by the
    // report's date.
    let advised: BTreeSet<String> = ds.countries_advised(report_date).iter().map(name).collect();
    let expected =
        ["Argentina", "Brazil", "Colombia", "Egypt", "India", "Indonesia", "Pakistan", "Philippines", "Serbia"];
    assert_eq!(advised.iter().map(String::as_str).collect::<Vec<_>>(), expected);
    // The flag that marks the report's own list agrees.
    let flagged: BTreeSet<String> =
        ds.legislative_assistance.iter().filter(|a| a.specific_advice).map(|a| name(&a.country)).collect();
    assert_eq!(flagged, advised);
    // Morocco's and Nigeria's analyses were under way, Bulgaria's workshop planned.
    for code in ["MA", "NG", "BG"] {
        assert!(ds.legislative_assistance.iter().any(|a| a.country.as_str() == code && !a.specific_advice));
    }
    // Output 1's indicator counts European and non-European countries against 10 and 5.
    let output1 = ds.outputs.iter().find(|o| o.number == 1).unwrap();
    let targets: Vec<(u32, bool)> = output1.indicators[0].targets.iter().map(|t| (t.value, t.outside_region)).collect();
    assert_eq!(targets, [(10, false), (5, true)]);
    let values = ds.indicator_values(&output1.indicators[0], report_date);
    let counts: Vec<(u32, usize)> = values.iter().map(|v| (v.target.value, v.countries.len())).collect();
    assert_eq!(counts, [(10, 1), (5, 8)], "Serbia in Europe; eight elsewhere");
    assert_eq!(values[0].countries[0].as_str(), "RS");
    // Before the first advice (February 2007), nothing counts.
    assert!(ds.countries_advised(day("2007-01-31")).is_empty());
}

#[test]
fn activities_done_and_planned() {
    let ds = Dataset::bundled();
    let cites = |a: &Activity, locator: &str| a.source.0.iter().any(|c| c.locator.as_deref() == Some(locator));
    let completed: Vec<_> = ds.activities.iter().filter(|a| a.status == ActivityStatus::Completed).collect();
    let done: Vec<_> = completed.iter().copied().filter(|a| cites(a, "§2.1")).collect();
    let planned: Vec<_> = ds.activities.iter().filter(|a| a.plan.as_deref() == Some("2007-12..2008-06")).collect();
    assert_eq!(done.len(), 46, "section 2.1");
    assert_eq!(planned.len(), 24, "section 4.2");
    assert!(planned.iter().all(|a| cites(a, "§4.2")));
    assert!(completed.iter().all(|a| a.plan.is_none() && a.start.is_some()));
    // The activities done that the report tells only in its narrative: Serbia's (§2.2.12) and the discussions
    // with the Russian Federation in Strasbourg (§2.2.11).
    let narrative: Vec<&str> = completed.iter().filter(|a| !cites(a, "§2.1")).map(|a| a.id.as_str()).collect();
    assert_eq!(
        narrative,
        [
            "serbia-paco-technical-trainings-cybercrime",
            "serbia-paco-manual-investigation-cybercrime",
            "2007-10-15-switzerland-seminar-financing-of-terrorism",
            "2007-strasbourg-discussions-russian-federation-article-32",
        ]
    );
    // The first and last of §2.1.
    let first = done.iter().min_by_key(|a| a.start.unwrap().earliest()).unwrap();
    assert_eq!(first.date_text, "31 Aug - 1 Sep 2006");
    assert_eq!((first.start, first.end), (ApproxDate::day(2006, 8, 31), ApproxDate::day(2006, 9, 1)));
    // One planned activity is undated within the plan's period (Albania), one is tentative ("Feb 2008 (tbc)").
    let undated: Vec<_> = planned.iter().filter(|a| a.precision() == ActivityPrecision::Undated).collect();
    assert_eq!(undated.len(), 1);
    assert_eq!(undated[0].place.country.as_ref().map(|c| c.as_str()), Some("AL"));
    let senegal = planned.iter().find(|a| a.date_text == "Feb 2008 (tbc)").unwrap();
    assert!(senegal.tentative);
    assert_eq!(senegal.start, Some(ApproxDate::Month { year: 2008, month: 2 }), "a month stays a month");
    // "Apr – June 2008": ranges of months for the regional workshops.
    let ranges: Vec<&str> = planned
        .iter()
        .filter(|a| a.precision() == ActivityPrecision::MonthRange)
        .map(|a| a.date_text.as_str())
        .collect();
    assert_eq!(ranges.iter().filter(|t| **t == "Apr – June 2008").count(), 4, "{ranges:?}");
    assert_eq!(ranges.len(), 6, "with the studies (Oct 2007 – April 2008) and the global row: {ranges:?}");
    // The report's "Dec 2007 – June 2007" is corrected, with a note saying so.
    let global = planned.iter().find(|a| a.date_text.contains("June 2007")).unwrap();
    assert_eq!(global.end, Some(ApproxDate::Month { year: 2008, month: 6 }));
    assert!(global.note.as_deref().unwrap_or_default().contains("end is before the start"));
}

#[test]
fn contact_points_studies_and_funding() {
    let ds = Dataset::bundled();
    let established: BTreeSet<&str> = ds
        .contact_points
        .iter()
        .filter(|c| c.status == ContactPointStatus::Established && c.as_at.certainly_on_or_before(day("2007-11-30")))
        .map(|c| c.country.as_str())
        .collect();
    assert_eq!(established, BTreeSet::from(["BG", "FR", "GB", "HR", "HU", "IT", "MK", "RO", "SI"]));
    let at = |code: &str, d: &str| ds.contact_point_at(&code.parse().unwrap(), day(d)).map(|c| c.status);
    assert_eq!(at("RS", "2007-11-30"), Some(ContactPointStatus::Temporary));
    assert_eq!(at("UA", "2007-11-30"), Some(ContactPointStatus::None));
    assert_eq!(at("AL", "2007-03-20"), None, "the Belgrade conference had not ended");
    assert_eq!(at("AL", "2007-03-21"), Some(ContactPointStatus::Underway));
    assert_eq!(ds.studies.len(), 5);
    assert!(ds.studies.iter().all(|s| s.launched == ApproxDate::Month { year: 2007, month: 10 }));
    let microsoft = ds.contributions.iter().find(|c| c.donor == "microsoft").unwrap();
    assert_eq!((microsoft.amount.amount, microsoft.amount.currency.as_str()), (270_000, "EUR"));
    assert_eq!(microsoft.original_amount.as_ref().map(|m| m.amount), Some(350_000));
}

#[test]
fn every_record_names_its_source() {
    let ds = Dataset::bundled();
    let known: BTreeSet<&str> = ds.sources.iter().map(|s| s.id.as_str()).collect();
    let mut seen = 0;
    for source in ds
        .treaty_actions
        .iter()
        .map(|a| &a.source)
        .chain(ds.activities.iter().map(|a| &a.source))
        .chain(ds.legislative_assistance.iter().map(|a| &a.source))
        .chain(ds.reported_figures.iter().map(|a| &a.source))
        .chain(ds.organisations.iter().map(|a| &a.source))
        .chain(ds.cooperation.iter().map(|a| &a.source))
    {
        assert!(!source.0.is_empty());
        assert!(source.documents().all(|d| known.contains(d)), "{source}");
        seen += 1;
    }
    assert!(seen > 200);
    // Every bounded treaty date explains itself.
    for a in ds.treaty_actions.iter().filter(|a| a.date.exact().is_none()) {
        assert!(a.note.is_some(), "{} {:?} of {} has a bounded date and no note", a.state, a.kind, a.treaty);
    }
}

#[test]
fn export_then_parse_gives_the_same_dataset() {
    let ds = Dataset::bundled();
    let files = ds.to_files();
    let borrowed: Vec<(&str, &str)> = files.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    let again = Dataset::parse(&borrowed).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again, ds);
}

#[test]
fn synthetic_activities_are_deterministic_and_valid() {
    let mut ds = Dataset::bundled();
    let a = core_model::synthetic::activities(&ds, 500, 7);
    assert_eq!(a, core_model::synthetic::activities(&ds, 500, 7));
    assert_ne!(a, core_model::synthetic::activities(&ds, 500, 8));
    ds.activities.extend(a);
    assert_eq!(ds.validate(), Vec::new());
}

#[test]
fn synthetic_states_fill_up_to_the_count_with_new_codes() {
    let mut ds = Dataset::bundled();
    let states = core_model::synthetic::states(&ds, 200, 1);
    assert_eq!(states.len(), 200);
    assert_eq!(states.iter().map(|s| s.code.clone()).collect::<BTreeSet<_>>().len(), 200);
    assert_eq!(states[..ds.states.len()], ds.states[..]);
    ds.states = states;
    assert_eq!(ds.validate(), Vec::new());
}
