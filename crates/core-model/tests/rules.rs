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
