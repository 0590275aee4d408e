//! Reservations, declarations and designated authorities per article: the questions partners ask of the bundled
//! record, whether a statement stands at a date, every rule that rejects a bad record (naming file, record and
//! field), and a denunciation ending a party's status when it takes effect (ETS 185 Article 47).

use chrono::NaiveDate;
use core_model::{
    ActionKind, ArticleRef, Dataset, DeclarationKind, DeclarationQuery, SourceRef, Standing, StateStatus, TreatyAction,
    TreatyNumber,
};

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn article(s: &str) -> ArticleRef {
    s.parse().unwrap()
}

/// The bundled files with `extra` appended to `file`.
fn with_appended(file: &str, extra: &str) -> Vec<(String, String)> {
    Dataset::bundled_files()
        .iter()
        .map(|(name, text)| {
            let text = if *name == file { format!("{text}\n{extra}") } else { (*text).to_owned() };
            ((*name).to_owned(), text)
        })
        .collect()
}

fn parse(files: &[(String, String)]) -> Result<Dataset, Vec<String>> {
    let borrowed: Vec<(&str, &str)> = files.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    Dataset::parse(&borrowed).map_err(|e| e.0.iter().map(ToString::to_string).collect())
}

fn states(ds: &Dataset, q: &DeclarationQuery) -> Vec<String> {
    let mut s: Vec<String> = ds.declarations_matching(q).iter().map(|d| d.state.to_string()).collect();
    s.dedup();
    s
}

#[test]
fn which_parties_reserved_an_article() {
    let ds = Dataset::bundled();
    let reserved = |a: &str, at: Option<&str>| {
        states(
            &ds,
            &DeclarationQuery {
                treaty: Some(TreatyNumber(185)),
                article: Some(article(a)),
                kinds: vec![DeclarationKind::Reservation],
                standing_at: at.map(day),
                ..Default::default()
            },
        )
    };
    assert_eq!(reserved("Article 6", None), ["AD", "NO"]);
    assert_eq!(reserved("Article 29", None), ["AT", "NO"]);
    // Norway's, dated only between its signature and its deposit in 2006 (Article 42), may stand in 2005 and
    // stands from 2007; Andorra's did not yet exist in 2007.
    assert_eq!(reserved("Article 6", Some("2005-01-01")), ["NO"]);
    assert_eq!(reserved("Article 6", Some("2007-11-30")), ["NO"]);
    let no = ds.declaration("NO-185-reservation-6").unwrap();
    assert_eq!(ds.declaration_standing(no, day("2005-01-01")), Standing::Uncertain);
    assert_eq!(ds.declaration_standing(no, day("2007-01-01")), Standing::Stands);
    // Latvia's reservation to Article 22 stood from its deposit until its withdrawal of 2 December 2011 (S14).
    assert_eq!(reserved("Article 22", None), ["LV"]);
    assert_eq!(reserved("Article 22", Some("2007-02-13")), Vec::<String>::new());
    assert_eq!(reserved("Article 22", Some("2007-02-14")), ["LV"]);
    assert_eq!(reserved("Article 22", Some("2011-12-01")), ["LV"]);
    assert_eq!(reserved("Article 22", Some("2011-12-02")), Vec::<String>::new());
    // A paragraph no reservation names finds nothing; Norway's names no paragraph, so only Andorra's is found
    // under 6(3).
    assert_eq!(reserved("Article 6(1)", None), Vec::<String>::new());
    assert_eq!(reserved("Article 6(3)", None), ["AD"]);
    // Under the Protocol, ETS 189: Denmark's (WIPO Lex), made at its ratification of 2005-06-21.
    let protocol = |a: &str, at: &str| {
        states(
            &ds,
            &DeclarationQuery {
                treaty: Some(TreatyNumber(189)),
                article: Some(article(a)),
                kinds: vec![DeclarationKind::Reservation],
                standing_at: Some(day(at)),
                ..Default::default()
            },
        )
    };
    assert_eq!(protocol("Article 3", "2007-11-30"), ["DK"]);
    assert_eq!(protocol("Article 3(3)", "2007-11-30"), ["DK"]);
    assert_eq!(protocol("Article 3", "2005-06-20"), Vec::<String>::new());
    assert_eq!(protocol("Article 4", "2007-11-30"), Vec::<String>::new());
    // Finland's two reservations under Article 14(3) and Norway's under Article 14.
    assert_eq!(reserved("Article 14", None), ["FI", "NO"]);
}

#[test]
fn a_withdrawal_ends_the_reservation_it_names() {
    let ds = Dataset::bundled();
    let r = ds.declaration("LV-185-reservation-22").expect("Latvia's reservation");
    assert_eq!(ds.declaration_standing(r, day("2010-06-01")), Standing::Stands);
    assert_eq!(ds.declaration_standing(r, day("2011-12-02")), Standing::Withdrawn);
    assert_eq!(ds.declaration_standing(r, day("2006-01-01")), Standing::NotYetMade);
    let w = ds.declaration("LV-185-withdrawal-22").expect("its withdrawal");
    assert_eq!(w.withdraws.as_deref(), Some("LV-185-reservation-22"));
    assert_eq!(ds.declaration_standing(w, day("2012-01-01")), Standing::NotAStatement);
    // Asked by article, the withdrawal is found with what it withdrew.
    let q = DeclarationQuery { state: Some("LV".parse().unwrap()), article: Some(article("22")), ..Default::default() };
    let ids: Vec<&str> = ds.declarations_matching(&q).iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["LV-185-reservation-22", "LV-185-withdrawal-22"]);
}

#[test]
fn a_central_authority_at_a_date() {
    let ds = Dataset::bundled();
    let central = |state: &str, at: &str| -> Vec<String> {
        ds.declarations_matching(&DeclarationQuery {
            treaty: Some(TreatyNumber(185)),
            article: Some(article("Article 27(2)")),
            state: Some(state.parse().unwrap()),
            kinds: vec![DeclarationKind::AuthorityDesignation],
            standing_at: Some(day(at)),
        })
        .iter()
        .filter_map(|d| d.authority.clone())
        .collect()
    };
    assert_eq!(central("AL", "2007-11-30"), ["Ministry of Justice, Tirana"]);
    assert_eq!(central("AL", "2006-06-18"), Vec::<String>::new());
    // The Netherlands' is dated only between its signature and its deposit (Article 27(2)(c), Finlex): certain after
    // the deposit, possible before it.
    assert!(central("NL", "2007-11-30")[0].starts_with("Landelijk Parket"));
    let nl = ds.declaration("NL-185-authority-27").unwrap();
    assert_eq!(ds.declaration_standing(nl, day("2006-01-01")), Standing::Uncertain);
    assert_eq!(ds.declaration_standing(nl, day("2006-11-16")), Standing::Stands);
    // Finland's was made between 14 and 22 June 2007 (WIPO Lex, Finlex 61/2007).
    assert_eq!(central("FI", "2007-06-30"), ["Ministry of Justice, Eteläesplanadi 10, FIN-00130 Helsinki"]);
    let fi = ds.declaration("FI-185-authority-27").unwrap();
    assert_eq!(ds.declaration_standing(fi, day("2007-06-15")), Standing::Uncertain);
    assert_eq!(ds.declaration_standing(fi, day("2007-06-13")), Standing::NotYetMade);
    assert!(central("AT", "2012-06-13")[0].contains("Federal Ministry of Justice"));
    // Malta's was deposited on 12 or 13 April 2012 (S17): on the 12th it may stand, so it is listed.
    let mt = ds.declaration("MT-185-authority-27").unwrap();
    assert_eq!(ds.declaration_standing(mt, day("2012-04-12")), Standing::Uncertain);
    assert_eq!(central("MT", "2012-04-12"), ["Office of the Attorney General, The Palace, Valletta"]);
}

#[test]
fn a_later_designation_under_the_same_article_replaces_the_earlier() {
    let extra = r#"
[[declaration]]
id = "AL-185-authority-27-later"
state = "AL"
treaty = 185
kind = "authority-designation"
articles = ["Article 27(2)"]
date = "2015-03-01"
authority = "A later authority"
summary = "Synthetic: a later designation."
source = "CoE-decl-185"
"#;
    let ds = parse(&with_appended("declarations.toml", extra)).expect("valid");
    let first = ds.declaration("AL-185-authority-27").unwrap();
    assert_eq!(ds.declaration_standing(first, day("2015-02-28")), Standing::Stands);
    assert_eq!(ds.declaration_standing(first, day("2015-03-01")), Standing::Superseded);
    // Article 24(7)'s designation, made the same day as the first, is untouched.
    let other = ds.declaration("AL-185-authority-24").unwrap();
    assert_eq!(ds.declaration_standing(other, day("2020-01-01")), Standing::Stands);
}

#[test]
fn bad_records_are_rejected_naming_file_record_and_field() {
    let cases = [
        (
            r#"id = "x1"
state = "AL"
treaty = 185
kind = "reservation"
articles = ["Article 6", "Article 49(2)"]
date = "2006-06-19"
summary = "s"
source = "S14""#,
            "declarations.toml: declaration x1: field `articles[1]`: ETS 185 has no Article 49(2): its articles are numbered 1 to 48",
        ),
        (
            r#"id = "x2"
state = "AL"
treaty = 189
kind = "reservation"
articles = ["Article 17"]
date = "2006-06-19"
summary = "s"
source = "S14""#,
            "declarations.toml: declaration x2: field `articles[0]`: ETS 189 has no Article 17: its articles are numbered 1 to 16",
        ),
        (
            r#"id = "x3"
state = "AL"
treaty = 185
kind = "withdrawal"
articles = ["Article 22"]
date = "2006-06-19"
summary = "s"
source = "S14""#,
            "declarations.toml: declaration x3: field `withdraws`: required for a withdrawal: the id of what it withdraws",
        ),
        (
            r#"id = "x4"
state = "AL"
treaty = 185
kind = "withdrawal"
withdraws = "no-such-statement"
articles = ["Article 22"]
date = "2006-06-19"
summary = "s"
source = "S14""#,
            "declarations.toml: declaration x4: field `withdraws`: unknown declaration `no-such-statement`",
        ),
        (
            r#"id = "x5"
state = "AL"
treaty = 185
kind = "withdrawal"
withdraws = "LV-185-reservation-22"
articles = ["Article 22"]
date = "2012-01-01"
summary = "s"
source = "S14""#,
            "declarations.toml: declaration x5: field `withdraws`: `LV-185-reservation-22` is LV's under 185; a state withdraws only its own statement under the same treaty",
        ),
        (
            r#"id = "x6"
state = "LV"
treaty = 185
kind = "withdrawal"
withdraws = "LV-185-reservation-22"
articles = ["Article 22"]
date = "2006-01-01"
summary = "s"
source = "S14""#,
            "declarations.toml: declaration x6: field `withdraws`: the withdrawal (2006-01-01) is before the statement it withdraws (2007-02-14)",
        ),
        (
            r#"id = "x7"
state = "AL"
treaty = 185
kind = "authority-designation"
articles = ["Article 27(2)"]
date = "2006-06-19"
summary = "s"
source = "S14""#,
            "declarations.toml: declaration x7: field `authority`: required for a designation: the authority designated",
        ),
        (
            r#"id = "x8"
state = "AL"
treaty = 185
kind = "reservation"
articles = ["Article 2a"]
date = "2006-06-19"
summary = "s"
source = "S14""#,
            "declarations.toml: declaration #{N} (x8): field `articles[0]`: `Article 2a` is not an article: the article is not a number from 1 (write e.g. `Article 24(7)`, `Article 6`, `24(7)`)",
        ),
        (
            r#"id = "x9"
state = "AL"
treaty = 185
kind = "reservation"
articles = []
date = "2000-01-01"
summary = "s"
source = "S14""#,
            "declarations.toml: declaration x9: field `articles`: names no article: a statement concerns at least one",
        ),
        (
            r#"id = "AL-185-authority-24"
state = "ZZ"
treaty = 185
kind = "reservation"
articles = ["Article 6"]
date = "2006-06-19"
summary = "s"
source = "S14""#,
            "declarations.toml: declaration AL-185-authority-24: field `state`: unknown state `ZZ`",
        ),
    ];
    // The record's place in the file: after the bundled ones.
    let n = Dataset::bundled().declarations.len() + 1;
    for (record, expected) in cases {
        let expected = &expected.replace("{N}", &n.to_string());
        let errors =
            parse(&with_appended("declarations.toml", &format!("[[declaration]]\n{record}\n"))).expect_err(expected);
        assert!(errors.iter().any(|e| e == expected), "expected {expected}\ngot {errors:#?}");
    }
    // The empty list of articles and the date before the opening are both reported.
    let errors = parse(&with_appended(
        "declarations.toml",
        "[[declaration]]\nid = \"x9\"\nstate = \"AL\"\ntreaty = 185\nkind = \"reservation\"\narticles = []\ndate = \"2000-01-01\"\nsummary = \"s\"\nsource = \"S14\"\n",
    ))
    .unwrap_err();
    assert!(
        errors.iter().any(|e| e
            == "declarations.toml: declaration x9: field `date`: 2000-01-01 is before ETS 185 was opened for signature (2001-11-23)"),
        "{errors:#?}"
    );
}

#[test]
fn a_dataset_without_the_file_has_no_declarations() {
    let files: Vec<(String, String)> = Dataset::bundled_files()
        .iter()
        .filter(|(name, _)| *name != "declarations.toml")
        .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
        .collect();
    let ds = parse(&files).expect("an export made before declarations.toml existed still parses");
    assert!(ds.declarations.is_empty());
    // Written back and read again, the bundled declarations are the same.
    let bundled = Dataset::bundled();
    assert!(!bundled.declarations.is_empty());
    let back = parse(&bundled.to_files()).expect("written files parse");
    assert_eq!(back.declarations, bundled.declarations);
}

#[test]
fn every_bundled_statement_cites_a_source_and_names_an_article_of_its_treaty() {
    let ds = Dataset::bundled();
    for d in &ds.declarations {
        let treaty = ds.treaties.iter().find(|t| t.number == d.treaty).unwrap();
        let count = treaty.articles.expect("ETS 185 and 189 record their articles");
        assert!(d.articles.iter().all(|a| a.article >= 1 && a.article <= count), "{}", d.id);
        assert!(d.source.documents().count() >= 1, "{}", d.id);
    }
}

/// A denunciation takes effect on the first day of the month following three months after its notification
/// (ETS 185 Article 47(2)): the state is a party until then.
#[test]
fn a_denunciation_ends_a_party_when_it_takes_effect() {
    let treaty = Dataset::bundled().treaties.into_iter().find(|t| t.number == TreatyNumber(185)).unwrap();
    assert_eq!(treaty.denunciation_effect(&"2020-03-15".parse().unwrap()), "2020-07-01".parse().unwrap());
    assert_eq!(treaty.denunciation_effect(&"2020-03".parse().unwrap()), "2020-07-01".parse().unwrap());
    assert_eq!(treaty.denunciation_effect(&"2020".parse().unwrap()), "2020-05-01..2021-04-01".parse().unwrap());

    let mut ds = Dataset::bundled();
    let denunciation = TreatyAction {
        state: "AL".parse().unwrap(),
        treaty: TreatyNumber(185),
        kind: ActionKind::Denunciation,
        date: "2020-03-15".parse().unwrap(),
        entry_into_force: None,
        source: SourceRef::new("S14", None),
        note: Some("synthetic".to_owned()),
    };
    ds.check_new_action(&denunciation).expect("a party may denounce");
    ds.treaty_actions.push(denunciation);
    let al = ds.states.iter().find(|s| s.code.as_str() == "AL").unwrap().clone();
    let status = |ds: &Dataset, at: &str| {
        let e = ds.state_status(&treaty, &al, day(at)).unwrap();
        (e.status, e.uncertain)
    };
    assert_eq!(status(&ds, "2020-03-15"), (StateStatus::Party, false));
    assert_eq!(status(&ds, "2020-06-30"), (StateStatus::Party, false));
    assert_ne!(status(&ds, "2020-07-01").0, StateStatus::Party);

    // Known only to the year, the notification takes effect between 2020-05-01 and 2021-04-01: in between, the
    // state may no longer be a party, and the reason says when the denunciation takes effect.
    let last = ds.treaty_actions.last_mut().unwrap();
    last.date = "2020".parse().unwrap();
    let e = ds.state_status(&treaty, &al, day("2020-12-01")).unwrap();
    assert!(e.uncertain, "{e:?}");
    let reason = e.reason.unwrap_or_default();
    assert!(reason.contains("takes effect between 2020-05-01 and 2021-04-01 (Article 47)"), "{reason}");
    assert_eq!(status(&ds, "2020-04-30"), (StateStatus::Party, false));
}
