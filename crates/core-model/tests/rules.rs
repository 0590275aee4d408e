//! Each rule that rejects impossible data, with the exact error; and dataset errors that name the file, the
//! record and the field.

use core_model::{
    ActionKind, ApproxDate, CountryCode, Dataset, DatasetError, ModelError, SourceRef, TreatyAction, TreatyNumber,
};

fn action(state: &str, treaty: u32, kind: ActionKind, date: &str) -> TreatyAction {
    TreatyAction {
        state: state.parse().unwrap(),
        treaty: TreatyNumber(treaty),
        kind,
        date: date.parse().unwrap(),
        entry_into_force: None,
        source: SourceRef::new("report-2007-11", None),
        note: None,
    }
}

fn code(s: &str) -> CountryCode {
    s.parse().unwrap()
}

fn d(s: &str) -> ApproxDate {
    s.parse().unwrap()
}

/// Records `actions` one after the other, each checked first, and returns the last one's check.
fn record(actions: &[TreatyAction]) -> Result<(), ModelError> {
    let mut ds = Dataset::bundled();
    let (last, before) = actions.split_last().unwrap();
    for a in before {
        ds.check_new_action(a).unwrap_or_else(|e| panic!("setting up {a:?}: {e}"));
        ds.treaty_actions.push(a.clone());
    }
    ds.check_new_action(last)
}

#[test]
fn a_valid_action_passes() {
    // Germany's parliament ratified in 2007 (§3.1); a deposit in 2009 is possible data.
    assert_eq!(record(&[action("DE", 185, ActionKind::Ratification, "2009-03-09")]), Ok(()));
}

#[test]
fn ratifying_before_signing_is_rejected() {
    let err = record(&[action("IE", 185, ActionKind::Ratification, "2002-01-01")]).unwrap_err();
    assert_eq!(
        err,
        ModelError::RatificationBeforeSignature {
            state: code("IE"),
            treaty: TreatyNumber(185),
            signed: d("2002-02-28"),
            ratified: d("2002-01-01"),
        }
    );
    assert_eq!(err.to_string(), "IE: ratification of ETS 185 (2002-01-01) is before its signature (2002-02-28)");
}

#[test]
fn ratifying_without_signing_is_rejected() {
    let err = record(&[action("RU", 185, ActionKind::Ratification, "2007-01-01")]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "RU: ratification of ETS 185 on 2007-01-01 without a signature; a state eligible to sign ratifies only what it signed"
    );
}

#[test]
fn a_bounded_signature_does_not_break_the_rule() {
    // Serbia's signature is known only to lie between 2001-11-23 and 2007-11-30: a ratification in 2005 may
    // come after it, so it is not rejected.
    assert_eq!(record(&[action("RS", 185, ActionKind::Ratification, "2005-01-01")]), Ok(()));
}

#[test]
fn accession_without_invitation_is_rejected() {
    let err = record(&[action("IN", 185, ActionKind::Accession, "2008-01-01")]).unwrap_err();
    assert_eq!(
        err,
        ModelError::AccessionWithoutInvitation {
            state: code("IN"),
            treaty: TreatyNumber(185),
            date: "2008-01-01".parse().unwrap()
        }
    );
    assert_eq!(err.to_string(), "IN: accession to ETS 185 on 2008-01-01 without an invitation to accede");
}

#[test]
fn accession_before_invitation_is_rejected() {
    let err = record(&[
        action("IN", 185, ActionKind::Invitation, "2008-03-01"),
        action("IN", 185, ActionKind::Accession, "2008-01-15"),
    ])
    .unwrap_err();
    assert_eq!(
        err,
        ModelError::AccessionBeforeInvitation {
            state: code("IN"),
            treaty: TreatyNumber(185),
            invited: d("2008-03-01"),
            acceded: d("2008-01-15"),
        }
    );
    // In the right order it is accepted.
    assert_eq!(
        record(&[
            action("IN", 185, ActionKind::Invitation, "2008-03-01"),
            action("IN", 185, ActionKind::Accession, "2008-06-01"),
        ]),
        Ok(())
    );
}

#[test]
fn non_members_accede_and_members_sign() {
    assert_eq!(
        record(&[action("IN", 185, ActionKind::Ratification, "2008-01-01")]).unwrap_err().to_string(),
        "IN is not eligible to sign ETS 185: it can only accede, once invited (no ratification)"
    );
    assert_eq!(
        record(&[action("IN", 185, ActionKind::Signature, "2008-01-01")]).unwrap_err(),
        ModelError::MustAccede { state: code("IN"), treaty: TreatyNumber(185), kind: "signature" }
    );
    assert_eq!(
        record(&[action("TR", 185, ActionKind::Accession, "2008-01-01")]).unwrap_err().to_string(),
        "TR is eligible to sign ETS 185: it signs and ratifies, so an accession does not apply to it"
    );
    // Japan took part in the elaboration: it signs.
    assert_eq!(
        record(&[action("JP", 185, ActionKind::AccessionRequest, "2008-01-01")]).unwrap_err(),
        ModelError::MustSign { state: code("JP"), treaty: TreatyNumber(185), kind: "accession request" }
    );
}

#[test]
fn protocol_consent_before_the_conventions_is_rejected() {
    // Bulgaria deposited its ratification of ETS 185 on 2005-04-07 and has no action under the Protocol in the
    // data; a Protocol ratification in January 2005 breaks Article 9 of ETS 189.
    let err = record(&[
        action("BG", 189, ActionKind::Signature, "2003-02-01"),
        action("BG", 189, ActionKind::Ratification, "2005-01-01"),
    ])
    .unwrap_err();
    assert_eq!(
        err,
        ModelError::ProtocolBeforeConvention {
            state: code("BG"),
            protocol: TreatyNumber(189),
            convention: TreatyNumber(185),
            protocol_date: d("2005-01-01"),
            convention_date: d("2005-04-07"),
        }
    );
    assert_eq!(
        err.to_string(),
        "BG: consent to ETS 189 (2005-01-01) is before consent to ETS 185 (2005-04-07); it must come first or at the same time"
    );
    // The same day is allowed ("already, or at the same time").
    assert_eq!(
        record(&[
            action("BG", 189, ActionKind::Signature, "2003-02-01"),
            action("BG", 189, ActionKind::Ratification, "2005-04-07"),
        ]),
        Ok(())
    );
    // Germany signed the Protocol on 2003-01-28 (S6) but has not consented to ETS 185 in the data at all.
    assert_eq!(
        record(&[action("DE", 189, ActionKind::Ratification, "2006-01-01")]).unwrap_err(),
        ModelError::ProtocolWithoutConvention {
            state: code("DE"),
            protocol: TreatyNumber(189),
            convention: TreatyNumber(185),
            date: d("2006-01-01"),
        }
    );
    // Only signatories of the Convention may sign the Protocol.
    assert_eq!(
        record(&[action("RU", 189, ActionKind::Signature, "2005-01-01")]).unwrap_err(),
        ModelError::MustAccede { state: code("RU"), treaty: TreatyNumber(189), kind: "signature" }
    );
}

#[test]
fn a_second_ratification_is_rejected() {
    let err = record(&[action("AL", 185, ActionKind::Ratification, "2003-01-01")]).unwrap_err();
    assert_eq!(
        err,
        ModelError::DuplicateAction {
            state: code("AL"),
            treaty: TreatyNumber(185),
            kind: "consent",
            date: d("2003-01-01"),
            first: d("2002-06-20"),
        }
    );
    assert_eq!(err.to_string(), "AL: a second consent of ETS 185 (2003-01-01); the first is dated 2002-06-20");
}

#[test]
fn an_action_before_the_treaty_opened_is_rejected() {
    let err = record(&[action("RU", 185, ActionKind::Signature, "2001-11-22")]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "RU: signature of ETS 185 on 2001-11-22 is before the treaty was opened for signature (2001-11-23)"
    );
    // A bound that may reach the opening day is not rejected.
    assert_eq!(record(&[action("RU", 185, ActionKind::Signature, "2001-11")]), Ok(()));
}

#[test]
fn unknown_state_and_treaty() {
    assert_eq!(
        record(&[action("QQ", 185, ActionKind::Signature, "2005-01-01")]),
        Err(ModelError::UnknownState(code("QQ")))
    );
    assert_eq!(
        record(&[action("FR", 999, ActionKind::Signature, "2005-01-01")]),
        Err(ModelError::UnknownTreaty(TreatyNumber(999)))
    );
}

// ---- the same rules through the dataset files: errors name the file, the record and the field ----

fn parse_with(file: &str, edit: impl Fn(&str) -> String) -> Vec<DatasetError> {
    let files: Vec<(&str, String)> = Dataset::bundled_files()
        .iter()
        .map(|(n, t)| (*n, if *n == file { edit(t) } else { (*t).to_owned() }))
        .collect();
    let borrowed: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    Dataset::parse(&borrowed).expect_err("the edit must make the dataset invalid").0
}

fn one_error(errors: Vec<DatasetError>) -> String {
    assert_eq!(errors.len(), 1, "{errors:#?}");
    errors[0].to_string()
}

#[test]
fn a_broken_rule_in_the_files_names_the_record() {
    let errors = parse_with("treaty-actions.toml", |t| {
        format!(
            "{t}\n[[action]]\nstate = \"AL\"\ntreaty = 185\nkind = \"ratification\"\ndate = \"2003-01-01\"\nsource = \"CoE-2015\"\n"
        )
    });
    // The record appended is the file's last.
    let n = Dataset::bundled().treaty_actions.len() + 1;
    assert_eq!(
        one_error(errors),
        format!(
            "treaty-actions.toml: action #{n} (AL ratification of 185): field `kind`: AL: a second consent of ETS 185 (2003-01-01); the first is dated 2002-06-20"
        )
    );
}

#[test]
fn a_recorded_entry_into_force_that_contradicts_the_rule_is_a_data_error() {
    let errors = parse_with("treaties.toml", |t| {
        t.replacen("entry_into_force = \"2004-07-01\"", "entry_into_force = \"2004-08-01\"", 1)
    });
    assert_eq!(
        one_error(errors),
        "treaties.toml: treaty 185: field `entry_into_force`: ETS 185: the sources record entry into force on 2004-08-01, the rule (Article 36) gives on 2004-07-01"
    );
    let errors = parse_with("treaty-actions.toml", |t| {
        t.replacen("entry_into_force = \"2007-02-01\"", "entry_into_force = \"2007-03-01\"", 1)
    });
    assert_eq!(
        one_error(errors),
        "treaty-actions.toml: action #4 (AM ratification of 185): field `entry_into_force`: ETS 185 for AM: the sources record entry into force on 2007-03-01, the rule (Article 36) gives on 2007-02-01"
    );
}

#[test]
fn an_activity_that_ends_before_it_starts_is_rejected() {
    // The report's own "Dec 2007 – June 2007", uncorrected.
    let errors = parse_with("activities.toml", |t| {
        let fixed = "end = \"2008-06\"\nplace = { text = \"Global\" }";
        assert!(t.contains(fixed));
        t.replacen(fixed, "end = \"2007-06\"\nplace = { text = \"Global\" }", 1)
    });
    assert_eq!(
        one_error(errors),
        "activities.toml: activity 2007-12-global-participation-in-events: field `end`: activity `2007-12-global-participation-in-events` ends (2007-06) before it starts (2007-12)"
    );
}

#[test]
fn bad_values_name_the_file_the_record_and_the_field() {
    let errors = parse_with("treaty-actions.toml", |t| t.replacen("date = \"2002-06-20\"", "date = \"2002-13-20\"", 1));
    assert_eq!(
        one_error(errors),
        "treaty-actions.toml: action #2 (AL ratification of 185): field `date`: `2002-13-20` is not a date: month 13 is out of range 1-12"
    );
    let errors = parse_with("states.toml", |t| t.replacen("code = \"AL\"", "code = \"Albania\"", 1));
    assert_eq!(
        one_error(errors),
        "states.toml: state #1 (Albania): field `code`: `Albania` is not a country code: expected two capital letters (ISO 3166-1 alpha-2)"
    );
    let errors = parse_with("studies.toml", |t| {
        t.replacen("launched = \"2007-10\"", "launched = \"2007-10\"\nlaunchd = \"x\"", 1)
    });
    let message = one_error(errors);
    assert!(
        message.starts_with("studies.toml: study #1 (situation-report): field `launchd`: unknown field `launchd`"),
        "{message}"
    );
    let errors = parse_with("profiles.toml", |t| t.replacen("country = \"AL\"", "country = \"QQ\"", 1));
    assert_eq!(one_error(errors), "profiles.toml: profile QQ: field `country`: unknown state `QQ`");
    let errors = parse_with("sources.toml", |t| format!("sauce = 1\n{t}"));
    assert_eq!(one_error(errors), "sources.toml: field `sauce`: unknown key; this file holds source");
    let errors = parse_with("programme.toml", |t| t.replacen("[objective]", "[objective", 1));
    assert!(one_error(errors).starts_with("programme.toml: not valid TOML: "));
}

/// The whole record's rules, as a correction or a withdrawal is checked: the bundled record breaks none; taking
/// out a signature a ratification rests on, or moving a consent before the treaty opened, breaks one.
#[test]
fn the_whole_record_is_checked_as_a_correction_or_a_withdrawal_would_leave_it() {
    let ds = Dataset::bundled();
    assert_eq!(ds.treaty_rule_violations(), Vec::new());
    let al = |a: &TreatyAction, kind: ActionKind| a.state.as_str() == "AL" && a.treaty.0 == 185 && a.kind == kind;
    let mut withdrawn = ds.clone();
    withdrawn.treaty_actions.retain(|a| !al(a, ActionKind::Signature));
    assert!(matches!(
        withdrawn.treaty_rule_violations().as_slice(),
        [ModelError::RatificationWithoutSignature { .. }, ..]
    ));
    let mut corrected = ds.clone();
    for a in corrected.treaty_actions.iter_mut().filter(|a| al(a, ActionKind::Signature)) {
        a.date = "2001-01-01".parse().unwrap();
    }
    assert!(corrected.treaty_rule_violations().iter().any(|e| matches!(e, ModelError::ActionBeforeOpening { .. })));
}

// CETS 224 (open to the Parties to ETS 185) and the UN Convention against Cybercrime (open to all states and
// regional economic integration organisations).

const CETS224: u32 = 224;
const UN: u32 = 18016;

#[test]
fn a_step_under_cets_224_before_becoming_a_party_to_ets_185_is_rejected() {
    // Benin acceded to ETS 185 on 2024-06-20 (S34): it could not sign CETS 224 in 2023.
    let err = record(&[action("BJ", CETS224, ActionKind::Signature, "2023-01-01")]).unwrap_err();
    assert_eq!(
        err,
        ModelError::NotPartyOf {
            state: code("BJ"),
            treaty: TreatyNumber(CETS224),
            kind: "signature",
            date: d("2023-01-01"),
            convention: TreatyNumber(185),
            consented: Some(d("2024-06-20")),
        }
    );
    assert_eq!(err.reason(), "NOT_A_PARTY_TO_CONVENTION");
    assert!(err.is_treaty_rule());
    assert!(err.metadata().contains(&("convention", "treaties/185".to_owned())), "{:?}", err.metadata());
    assert_eq!(
        err.to_string(),
        "BJ: signature of treaty 224 on 2023-01-01 by a state that was not a Party to treaty 185 then (its consent \
         is dated 2024-06-20); only its Parties may sign or consent"
    );
    // After its accession it may.
    assert_eq!(record(&[action("BJ", CETS224, ActionKind::Signature, "2024-06-21")]), Ok(()));
}

#[test]
fn a_state_with_no_recorded_consent_to_ets_185_is_rejected_only_where_that_record_is_complete() {
    // The Russian Federation has no recorded consent to ETS 185. Its record is complete through 2007-11-30 only,
    // so a CETS 224 signature of 2023 cannot be checked: Russia may have become a Party on a day no source gives.
    assert_eq!(record(&[action("RU", CETS224, ActionKind::Signature, "2023-01-01")]), Ok(()));
    // Had a complete chart of 2025-12-31 been transcribed, the same signature would break the rule.
    let mut ds = Dataset::bundled();
    let ets185 = ds.treaties.iter_mut().find(|t| t.number == TreatyNumber(185)).unwrap();
    ets185.coverage.as_mut().unwrap().complete_through = "2025-12-31".parse().unwrap();
    let err = ds.check_new_action(&action("RU", CETS224, ActionKind::Signature, "2023-01-01")).unwrap_err();
    assert_eq!(
        err,
        ModelError::NotPartyOf {
            state: code("RU"),
            treaty: TreatyNumber(CETS224),
            kind: "signature",
            date: d("2023-01-01"),
            convention: TreatyNumber(185),
            consented: None,
        }
    );
    assert!(err.to_string().contains("the record of its consents, complete through that date, holds none"), "{err}");
}

#[test]
fn cets_224_has_no_accession_of_its_own() {
    let err = record(&[action("IN", CETS224, ActionKind::Accession, "2024-01-01")]).unwrap_err();
    assert_eq!(err, ModelError::MustSign { state: code("IN"), treaty: TreatyNumber(CETS224), kind: "accession" });
}

#[test]
fn the_un_convention_is_open_to_every_state_and_to_accession_without_invitation() {
    // India is neither a member State nor a participant in ETS 185's elaboration: it signs the UN Convention.
    assert_eq!(record(&[action("IN", UN, ActionKind::Signature, "2025-10-26")]), Ok(()));
    // It may accede without an invitation (and without signing).
    assert_eq!(record(&[action("IN", UN, ActionKind::Accession, "2027-01-15")]), Ok(()));
    // Nothing before it was opened in Hanoi on 2025-10-25.
    let err = record(&[action("IN", UN, ActionKind::Signature, "2025-10-24")]).unwrap_err();
    assert_eq!(err.reason(), "ACTION_BEFORE_OPENING");
    // A ratification still needs a signature.
    let err = record(&[action("IN", UN, ActionKind::Ratification, "2026-05-01")]).unwrap_err();
    assert_eq!(err.reason(), "RATIFICATION_WITHOUT_SIGNATURE");
    // Invitations have no place under it.
    let err = record(&[action("IN", UN, ActionKind::Invitation, "2026-05-01")]).unwrap_err();
    assert_eq!(err.reason(), "ACCESSION_BY_ELIGIBLE_STATE");
}

#[test]
fn the_european_union_is_an_organisation_not_a_state() {
    let ds = Dataset::bundled();
    let eu = ds.state(&code("EU")).unwrap();
    assert_eq!(eu.kind, core_model::CountryKind::Reio);
    assert!(!eu.coe_member);
    assert_eq!(ds.states.iter().filter(|s| s.kind == core_model::CountryKind::Reio).count(), 1);
    // It signed the UN Convention on 2025-10-25 (S42).
    let eu_code = code("EU");
    let signed: Vec<_> = ds.actions_of(&eu_code, TreatyNumber(UN)).collect();
    assert_eq!(signed.len(), 1);
    assert_eq!(signed[0].date, d("2025-10-25"));
}

#[test]
fn the_un_convention_enters_into_force_on_the_ninetieth_day_after_the_fortieth_state_instrument() {
    let mut ds = Dataset::bundled();
    let un = TreatyNumber(UN);
    // Nothing is in force on the record: no consent.
    assert_eq!(ds.treaty_entry_into_force(un), None);
    // The European Union ratifies first, then each other signatory one day after the other from 2026-02-01.
    let signatories: Vec<CountryCode> = ds
        .treaty_actions
        .iter()
        .filter(|a| a.treaty == un && a.kind == ActionKind::Signature)
        .map(|a| a.state.clone())
        .collect();
    assert!(signatories.len() >= 41, "{}", signatories.len());
    ds.treaty_actions.push(action("EU", UN, ActionKind::Ratification, "2026-01-15"));
    let first: chrono::NaiveDate = "2026-02-01".parse().unwrap();
    for (i, s) in signatories.iter().filter(|s| s.as_str() != "EU").take(40).enumerate() {
        let day = first + chrono::Days::new(i as u64);
        ds.treaty_actions.push(action(s.as_str(), UN, ActionKind::Ratification, &day.to_string()));
    }
    assert!(ds.treaty_rule_violations().is_empty(), "{:?}", ds.treaty_rule_violations());
    // The 40th state's instrument is of 2026-03-12 (the EU's is not counted as additional to its members'): the
    // ninetieth day after is 2026-06-10. Counting the EU's would give 2026-06-09.
    assert_eq!(ds.treaty_entry_into_force(un), Some(d("2026-06-10")));
    // For a later consent the period (Article 65(2)) is in no source read: on or after the treaty's own, no
    // more precise.
    let later = ds.state_entry_into_force(un, &d("2026-09-01")).unwrap();
    assert_eq!((later.earliest(), later.latest()), (Some("2026-06-10".parse().unwrap()), None));
    let rule = &ds.treaty(un).unwrap().entry_into_force_rule;
    assert_eq!(
        rule.describe(),
        "Article 65(1): 40 consents (an organisation's not counted), then the 90th day after; for a later \
         consent, a period no source here gives"
    );
}

#[test]
fn every_recorded_action_under_cets_224_and_the_un_convention_keeps_the_rules() {
    let ds = Dataset::bundled();
    for n in [CETS224, UN] {
        let actions: Vec<_> = ds.treaty_actions.iter().filter(|a| a.treaty == TreatyNumber(n)).collect();
        assert!(!actions.is_empty());
        for a in actions {
            assert!(!a.source.to_string().is_empty(), "{a:?}");
            let others: Vec<_> = ds.treaty_actions.iter().filter(|o| o.state == a.state).collect();
            assert_eq!(others.iter().filter(|o| o.treaty == a.treaty && o.kind == a.kind).count(), 1, "{a:?}");
        }
    }
    assert!(ds.treaty_rule_violations().is_empty(), "{:?}", ds.treaty_rule_violations());
    // 52 signatures and 3 consents of CETS 224 (S7); CETS 224's period after the fifth consent is unknown.
    let count =
        |n: u32, k: ActionKind| ds.treaty_actions.iter().filter(|a| a.treaty == TreatyNumber(n) && a.kind == k).count();
    assert_eq!((count(CETS224, ActionKind::Signature), count(CETS224, ActionKind::Ratification)), (52, 3));
    let t224 = ds.treaty(TreatyNumber(CETS224)).unwrap();
    assert_eq!(t224.entry_into_force_rule.general_after("2026-01-01".parse().unwrap()), None);
    assert_eq!(ds.treaty_entry_into_force(TreatyNumber(CETS224)), None);
}

#[test]
fn a_consent_to_ets_185_after_a_recorded_cets_224_signature_is_rejected() {
    // Sierra Leone signed CETS 224 on 2024-06-20 (S7, S34); no consent of it to ETS 185 is recorded (its record
    // is complete through 2007-11-30 only). A consent dated after that signature would make it a signature by a
    // non-Party.
    let err = record(&[action("SL", 185, ActionKind::Accession, "2025-01-01")]);
    // (Sierra Leone may not sign ETS 185: its consent is an accession, which needs an invitation first.)
    assert_eq!(err.unwrap_err().reason(), "ACCESSION_WITHOUT_INVITATION");
    let err = record(&[
        action("SL", 185, ActionKind::Invitation, "2020-01-01"),
        action("SL", 185, ActionKind::Accession, "2025-01-01"),
    ])
    .unwrap_err();
    assert_eq!(
        err,
        ModelError::NotPartyOf {
            state: code("SL"),
            treaty: TreatyNumber(CETS224),
            kind: "signature",
            date: d("2024-06-20"),
            convention: TreatyNumber(185),
            consented: Some(d("2025-01-01")),
        }
    );
    // Dated on or before the signature, it is recorded.
    let ok = record(&[
        action("SL", 185, ActionKind::Invitation, "2020-01-01"),
        action("SL", 185, ActionKind::Accession, "2021-01-01"),
    ]);
    assert_eq!(ok, Ok(()));
}

#[test]
fn an_entry_into_force_rule_counts_in_months_in_days_or_not_at_all() {
    use core_model::{DaysAfter, EntryIntoForceRule};
    let day = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
    let rule = |months, days| EntryIntoForceRule {
        consents: 5,
        member_states: 0,
        months,
        days,
        organisations_not_counted: false,
        article: "Article X".to_owned(),
    };
    // ETS 185's kind: the first day of the month after three months, for the treaty and for a later state.
    let months = rule(Some(3), None);
    assert_eq!(months.general_after(day("2004-03-18")), Some(day("2004-07-01")));
    assert_eq!(months.later_after(day("2006-11-16")), Some(day("2007-03-01")));
    assert_eq!(months.describe(), "Article X: 5 consents, then 3 months");
    // Counted in days: the ninetieth day after, and the thirtieth for a later consent.
    let days = rule(None, Some(DaysAfter { first: 90, later: Some(30) }));
    assert_eq!(days.general_after(day("2026-03-12")), Some(day("2026-06-10")));
    assert_eq!(days.later_after(day("2026-12-31")), Some(day("2027-01-30")));
    assert_eq!(
        days.describe(),
        "Article X: 5 consents, then the 90th day after; for a later consent, the 30th day after it"
    );
    // A later period no source gives, or no period at all: nothing is computed, nothing invented.
    let first_only = rule(None, Some(DaysAfter { first: 90, later: None }));
    assert_eq!(first_only.later_after(day("2026-12-31")), None);
    let unknown = rule(None, None);
    assert_eq!((unknown.general_after(day("2026-01-01")), unknown.later_after(day("2026-01-01"))), (None, None));
    assert_eq!(unknown.describe(), "Article X: 5 consents, then a period no source here gives");
}
