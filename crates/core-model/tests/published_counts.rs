//! The counts the Council of Europe published after the report (`reported-figures.toml`, S25, S26, S34) beside
//! what the record computes at the same dates. The record is complete through 2007-11-30 only (the charts read
//! after it are cut off), so a published count is not rebuilt exactly: the test asserts that it lies within the
//! bounds the record allows (the parties the record is sure of, at most) and prints the gap, the states the
//! record does not hold (printed: run with `--nocapture` to see the comparison).
#![allow(clippy::print_stdout)]

use chrono::NaiveDate;
use core_model::{ActionKind, Dataset, Measure, StateStatus, TreatyNumber};

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// (certain, possible): the states the record shows in `group` for certain at `at`, and those it shows there or
/// as possibly there.
fn counted(ds: &Dataset, treaty: TreatyNumber, at: NaiveDate, group: StateStatus) -> (usize, usize) {
    let s = ds.treaty_status(treaty, at).unwrap();
    let all: Vec<_> = s.groups.iter().flat_map(|g| &g.states).collect();
    let certain = all.iter().filter(|e| e.status == group && !e.uncertain).count();
    let possible = all.iter().filter(|e| e.status == group || e.possibly == Some(group)).count();
    (certain, possible)
}

#[test]
fn published_counts_after_the_report_lie_within_what_the_record_allows() {
    let ds = Dataset::bundled();
    let later: Vec<_> = ds
        .reported_figures
        .iter()
        .filter(|f| f.treaty.is_some() && f.id.starts_with("ets") && !f.id.contains("2007-11-30"))
        .filter(|f| matches!(f.measure, Measure::Parties | Measure::Signatories | Measure::InvitedToAccede))
        .filter(|f| f.as_of.earliest().is_some_and(|d| d > day("2007-11-30")))
        .collect();
    // ETS 185 at 2012-06-30 and 2024-02-07 and 2024-06-20; ETS 189 at 2017-05-19, 2023-01-30 and 2024-06-20.
    assert!(later.len() >= 9, "{}", later.len());
    for f in later {
        let at = f.as_of.latest().unwrap();
        let group = match f.measure {
            Measure::Parties => StateStatus::Party,
            Measure::Signatories => StateStatus::Signatory,
            _ => StateStatus::InvitedToAccede,
        };
        let treaty = f.treaty.unwrap();
        let (certain, possible) = counted(&ds, treaty, at, group);
        println!(
            "{} at {at}: published {} ({}), the record: {certain} for certain, {possible} possibly; {} not in the record",
            f.label,
            f.value,
            f.source,
            (f.value - certain as i64).max(0)
        );
        // A party stays one: the record never holds more certain parties than were published.
        if group == StateStatus::Party {
            assert!(certain as i64 <= f.value, "{} at {at}: {certain} certain parties > published {}", f.id, f.value);
        }
    }
}

#[test]
fn ets185_status_at_the_2015_chart_and_at_75_parties() {
    let ds = Dataset::bundled();
    let ets185 = TreatyNumber(185);
    // S1's chart (status as of 03/12/2015) is cut off at Germany: no count of it was read. The record computes
    // the status at that date; Canada (deposit 2015-07-08, S18) is a party, Andorra (signed 2013-04-23, deposit
    // 2016-11-16) a signatory.
    let s = ds.treaty_status(ets185, day("2015-12-03")).unwrap();
    let of = |code: &str| s.groups.iter().flat_map(|g| &g.states).find(|e| e.state.as_str() == code).unwrap();
    assert_eq!((of("CA").status, of("CA").uncertain), (StateStatus::Party, false));
    assert_eq!(of("AD").status, StateStatus::Signatory);
    let (certain, possible) = counted(&ds, ets185, day("2015-12-03"), StateStatus::Party);
    println!("ETS 185 at 2015-12-03: {certain} parties for certain, {possible} possibly (no published count read)");
    assert!(certain <= possible);

    // At 2024-06-20 (S34: 75 parties): Benin, Fiji and Kiribati acceded that day, Côte d'Ivoire not yet.
    let s = ds.treaty_status(ets185, day("2024-06-20")).unwrap();
    let parties: Vec<&str> = s.group(StateStatus::Party).iter().map(|e| e.state.as_str()).collect();
    for code in ["BJ", "FJ", "KI", "AU", "BR"] {
        assert!(parties.contains(&code), "{code}: {parties:?}");
    }
    assert!(!parties.contains(&"CI"));
    let published = ds.reported_figures.iter().find(|f| f.id == "ets185-parties-2024-06-20").unwrap().value;
    let (certain, _) = counted(&ds, ets185, day("2024-06-20"), StateStatus::Party);
    println!(
        "ETS 185 at 2024-06-20: published {published}, {certain} in the record; the gap is the states the cut-off charts do not date"
    );
    assert!(certain as i64 <= published);
}

#[test]
fn published_counts_within_the_complete_record_are_rebuilt() {
    let ds = Dataset::bundled();
    let ets185 = TreatyNumber(185);
    let value = |id: &str| ds.reported_figures.iter().find(|f| f.id == id).unwrap().value;
    // At 2006-03-01 (S29), inside the record complete through 2007-11-30: 12 parties, all of them certain.
    let (certain, possible) = counted(&ds, ets185, day("2006-03-01"), StateStatus::Party);
    assert_eq!((certain as i64, possible as i64), (value("ets185-parties-2006-03-01"), 12));
    // S29's 38 member states that had signed (parties included).
    let s = ds.treaty_status(ets185, day("2006-03-01")).unwrap();
    // Serbia's and Slovakia's signatures are bounded only by the report's date, so they may or may not count.
    let members: Vec<_> = s
        .groups
        .iter()
        .flat_map(|g| &g.states)
        .filter(|e| ds.state(&e.state).is_some_and(|st| st.coe_member))
        .collect();
    let signed = |e: &&&core_model::StateStatusEntry| matches!(e.status, StateStatus::Party | StateStatus::Signatory);
    let sure = members.iter().filter(|e| signed(e) && !e.uncertain).count() as i64;
    let maybe = members.iter().filter(|e| signed(e) || e.possibly == Some(StateStatus::Signatory)).count() as i64;
    let published = value("ets185-member-signatures-2006-03-01");
    println!("ETS 185 at 2006-03-01: member states signed: {sure} for certain, {maybe} possibly (S29: {published})");
    assert!(sure <= published && published <= maybe, "{sure}..{maybe} vs {published}");
    // S25's "15 parties" came with the US deposit of 2006-09-29; the record has 15 the day before and 16 on it,
    // so the news counted the parties before the US's (or without it).
    let before = counted(&ds, ets185, day("2006-09-28"), StateStatus::Party).0;
    let on = counted(&ds, ets185, day("2006-09-29"), StateStatus::Party).0;
    println!("ETS 185: {before} parties on 2006-09-28, {on} on 2006-09-29 (S25: 15)");
    assert_eq!(
        (before as i64, on as i64),
        (value("ets185-parties-2006-09-29"), value("ets185-parties-2006-09-29") + 1)
    );
}

/// The published counts of CETS 224 (S34, S26) rebuilt from the record (S7: every signature and consent, each
/// dated to the day). The record has no coverage (S7 shows no status date), so a signatory is shown as possibly
/// a party since (uncertain); its signature itself is certain, and the states in each group are the ones counted.
#[test]
fn cets224_published_counts_are_rebuilt() {
    let ds = Dataset::bundled();
    let cets224 = TreatyNumber(224);
    let figures: Vec<_> = ds.reported_figures.iter().filter(|f| f.treaty == Some(cets224)).collect();
    assert_eq!(figures.len(), 4);
    for f in figures {
        let at = f.as_of.exact().unwrap();
        let s = ds.treaty_status(cets224, at).unwrap();
        let (signatories, parties) = (s.group(StateStatus::Signatory), s.group(StateStatus::Party));
        // Every one of them is there for certain or, being a signatory past the record, possibly a party.
        assert!(signatories.iter().all(|e| !e.uncertain || e.possibly == Some(StateStatus::Party)));
        assert!(parties.iter().all(|e| !e.uncertain));
        let (signatories, parties) = (signatories.len() as i64, parties.len() as i64);
        let computed = match f.measure {
            // At 2022-11-30 the news counted every state that had signed (none had yet consented).
            Measure::Signatories if f.id.ends_with("2022-11-30") => signatories + parties,
            Measure::Signatories => signatories,
            Measure::Parties => parties,
            other => panic!("{other:?}"),
        };
        println!("CETS 224 {} at {at}: published {} ({}), computed {computed}", f.label, f.value, f.source);
        assert_eq!(computed, f.value, "{}", f.id);
        // The record has no coverage: a Party to ETS 185 with no recorded signature by then is shown as not
        // signed, uncertain, unless its recorded signature is later (which rules an earlier one out).
        assert!(s.past_record);
        for e in s.group(StateStatus::NotSigned) {
            let signed_later = ds.actions_of(&e.state, cets224).any(|a| a.kind == ActionKind::Signature);
            assert_eq!(e.uncertain, !signed_later, "{} at {at}", e.state);
        }
    }
    // The three consents: Serbia, Japan, Hungary; not in force (five are needed; the period after is unknown).
    let s = ds.treaty_status(cets224, day("2026-03-01")).unwrap();
    let parties: Vec<&str> = s.group(StateStatus::Party).iter().map(|e| e.state.as_str()).collect();
    assert_eq!(parties, ["HU", "JP", "RS"]);
    assert!(s.group(StateStatus::Party).iter().all(|e| e.entry_into_force.is_none()));
}

/// The UN Convention's published count (72 signatories, S42) cannot be rebuilt: the depositary's list was read
/// only up to Ireland, and two news reports name 24 more. The record holds 54; the other 18 are unnamed here.
#[test]
fn un_convention_published_count_is_shown_beside_the_record() {
    let ds = Dataset::bundled();
    let un = TreatyNumber(18016);
    let f = ds.reported_figures.iter().find(|f| f.treaty == Some(un)).unwrap();
    let at = f.as_of.exact().unwrap();
    let s = ds.treaty_status(un, at).unwrap();
    // Each signatory is there for certain, possibly a party since (the record is complete through no date).
    let certain = s.group(StateStatus::Signatory).len() as i64;
    let recorded = ds.treaty_actions.iter().filter(|a| a.treaty == un && a.kind == ActionKind::Signature).count();
    println!(
        "UN Convention signatories at {at}: published {} ({}), the record names {certain}; {} not named in any \
         source read",
        f.value,
        f.source,
        f.value - certain
    );
    assert_eq!(certain as usize, recorded);
    assert!(certain < f.value);
    // Every other state may have signed: the record is complete through no date.
    assert!(s.past_record);
    let not_signed = s.group(StateStatus::NotSigned);
    assert!(not_signed.len() > 50);
    assert!(not_signed.iter().all(|e| e.uncertain && e.possibly.is_some()), "{not_signed:?}");
    // Before the Hanoi ceremony nobody had signed: the opening day rules it out.
    let before = ds.treaty_status(un, day("2025-10-24")).unwrap();
    assert!(before.group(StateStatus::Signatory).is_empty());
    assert!(before.group(StateStatus::NotSigned).iter().all(|e| !e.uncertain));
}
