//! The activity filter language (a subset of AIP-160): parsed filters evaluated on the 76 bundled activities,
//! each count checked against an oracle written as plain iterator code; the canonical text; every rejection.

use std::sync::LazyLock;

use chrono::NaiveDate;
use core_model::{
    Activity, ActivityKind, ActivityStatus, ApproxDate, Comparison, CountryCode, Dataset, DateOp, EqOp, Expr, Filter,
    HasOp, MAX_FILTER_DEPTH, MAX_FILTER_LEN, Region,
};

static DATASET: LazyLock<Dataset> = LazyLock::new(Dataset::bundled);

fn activities() -> &'static [Activity] {
    &DATASET.activities
}

fn region_of(code: &CountryCode) -> Option<Region> {
    DATASET.states.iter().find(|s| s.code == *code).map(|s| s.region)
}

/// The ids of the activities the filter matches, in dataset order.
fn matching(filter: &str) -> Vec<String> {
    let filter = Filter::parse(filter).unwrap_or_else(|e| panic!("{filter}: {e}"));
    activities().iter().filter(|a| filter.matches(a, region_of)).map(|a| a.id.clone()).collect()
}

/// The ids of the activities the oracle accepts, in dataset order.
fn oracle(pred: impl Fn(&Activity) -> bool) -> Vec<String> {
    activities().iter().filter(|a| pred(a)).map(|a| a.id.clone()).collect()
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn date(s: &str) -> ApproxDate {
    s.parse().unwrap()
}

fn code(s: &str) -> CountryCode {
    s.parse().unwrap()
}

fn concerns(a: &Activity, country: &str) -> bool {
    a.place.country.as_ref().is_some_and(|c| c.as_str() == country) || a.countries.iter().any(|c| c.as_str() == country)
}

fn place_region(a: &Activity) -> Option<Region> {
    a.place.region.or_else(|| a.place.country.as_ref().and_then(region_of))
}

fn error(filter: &str) -> String {
    match Filter::parse(filter) {
        Ok(f) => panic!("{filter} parsed as {f:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_dataset_has_the_76_activities() {
    // 46 done (§2.1), 24 proposed (§4.2), and 6 the report tells only in its narrative (§2.2.11, §2.2.12,
    // §2.3.13).
    assert_eq!(activities().len(), 76);
}

#[test]
fn completed_activities_in_brazil_from_march_2007() {
    let found = matching(r#"status = "COMPLETED" AND start >= "2007-03-01" AND country = "countries/BR""#);
    let expected = oracle(|a| {
        a.status == ActivityStatus::Completed
            && a.start.and_then(|s| s.earliest()).is_some_and(|s| s >= day("2007-03-01"))
            && concerns(a, "BR")
    });
    assert_eq!(found, expected);
    // The Brasilia mission (27 February - 2 March 2007) starts before March; Brazil took part in the Octopus
    // conference (§2.2.3).
    assert_eq!(
        found,
        [
            "2007-06-11-strasbourg-octopus-conference",
            "2007-09-26-sao-paulo-iccyber-conference",
            "2007-09-28-sao-paulo-internet-steering-group-meeting",
            "2007-09-28-sao-paulo-prosecutor-training-workshop",
            "2007-11-12-rio-internet-governance-forum",
        ]
    );
    // The code alone is the same country; `:` is the same as `=` on a repeated field.
    assert_eq!(matching(r#"status = "completed" AND start >= "2007-03-01" AND country:"BR""#), found);
    assert_eq!(matching(r#"country = "BR""#).len(), 6);
}

#[test]
fn empty_filter_matches_everything() {
    for text in ["", "   ", "\t\n"] {
        let filter = Filter::parse(text).unwrap();
        assert_eq!(filter, Filter { expr: None });
        assert_eq!(filter.to_string(), "");
        assert_eq!(matching(text).len(), 76);
    }
}

#[test]
fn or_binds_tighter_than_and() {
    // AIP-160: `a AND b OR c` is `a AND (b OR c)`.
    let aip = matching(r#"kind = "WORKSHOP" AND status = "COMPLETED" OR output = 3"#);
    let expected = oracle(|a| {
        a.kind == ActivityKind::Workshop && (a.status == ActivityStatus::Completed || a.outputs.contains(&3))
    });
    assert_eq!(aip, expected);
    assert_eq!(aip.len(), 10);
    assert_eq!(aip, matching(r#"kind = "WORKSHOP" AND (status = "COMPLETED" OR output = 3)"#));

    // Grouped the other way, the result differs.
    let sql_like = matching(r#"(kind = "WORKSHOP" AND status = "COMPLETED") OR output = 3"#);
    let expected = oracle(|a| {
        (a.kind == ActivityKind::Workshop && a.status == ActivityStatus::Completed) || a.outputs.contains(&3)
    });
    assert_eq!(sql_like, expected);
    assert_eq!(sql_like.len(), 24);

    // `a OR b AND c` is `(a OR b) AND c`.
    let found = matching(r#"kind = "MISSION" OR kind = "TRAINING" AND start < "2007-06""#);
    let expected = oracle(|a| {
        matches!(a.kind, ActivityKind::Mission | ActivityKind::Training)
            && a.start.is_some_and(|s| s.certainly_before(&date("2007-06")))
    });
    assert_eq!(found, expected);
    assert_eq!(found.len(), 7);

    // AND and OR chains.
    let found = matching(r#"output = 1 AND output = 2 AND output = 3 OR kind = "STUDY""#);
    let expected = oracle(|a| {
        a.outputs.contains(&1) && a.outputs.contains(&2) && (a.outputs.contains(&3) || a.kind == ActivityKind::Study)
    });
    assert_eq!(found, expected);
    assert_eq!(found.len(), 8);
}

#[test]
fn not_minus_and_parentheses() {
    let not_completed = matching(r#"NOT status = "COMPLETED""#);
    assert_eq!(not_completed, oracle(|a| a.status != ActivityStatus::Completed));
    assert_eq!(not_completed.len(), 26);
    assert_eq!(matching(r#"-status = "COMPLETED""#), not_completed);
    assert_eq!(matching(r#"status != "COMPLETED""#), not_completed);

    // NOT binds tighter than OR: `NOT a OR b` is `(NOT a) OR b`.
    let found = matching(r#"NOT kind = "CONFERENCE" OR output = 3"#);
    assert_eq!(found, oracle(|a| a.kind != ActivityKind::Conference || a.outputs.contains(&3)));
    assert_eq!(found.len(), 66);
    let found = matching(r#"NOT (kind = "CONFERENCE" OR output = 3)"#);
    assert_eq!(found, oracle(|a| !(a.kind == ActivityKind::Conference || a.outputs.contains(&3))));
    assert_eq!(found.len(), 49);
    assert_eq!(matching(r#"-(kind = "CONFERENCE" OR output = 3)"#), found);
    assert_eq!(matching(r#"NOT (NOT (kind = "CONFERENCE" OR output = 3))"#).len(), 27);

    let found = matching(r#"((status = "PIPELINE") AND (NOT (region = "EUROPE")))"#);
    assert_eq!(found, oracle(|a| a.status == ActivityStatus::Pipeline && place_region(a) != Some(Region::Europe)));
    assert_eq!(found.len(), 10);
}

#[test]
fn repeated_fields() {
    let found = matching("output:2");
    assert_eq!(found, oracle(|a| a.outputs.contains(&2)));
    assert_eq!(found.len(), 29);
    assert_eq!(matching("output = 2"), found);
    let found = matching("output != 1");
    assert_eq!(found, oracle(|a| !a.outputs.contains(&1)));
    assert_eq!(found.len(), 21);

    let found = matching(r#"organisation:"microsoft""#);
    assert_eq!(found, oracle(|a| a.partners.iter().any(|p| p.organisation == "microsoft")));
    assert_eq!(found.len(), 13);
    assert_eq!(matching(r#"organisation = "organisations/microsoft""#), found);
    let found = matching(r#"organisation = "organisations/itu" OR organisation = "interpol""#);
    assert_eq!(found, oracle(|a| a.partners.iter().any(|p| p.organisation == "itu" || p.organisation == "interpol")));
    assert_eq!(found.len(), 9);

    assert_eq!(matching(r#"funding:"upic""#), ["2007-02-06-kyiv-regional-conference"]);
    let found = matching(r#"funding != "project-budget""#);
    assert_eq!(found, oracle(|a| !a.funding.iter().any(|f| f == "project-budget")));
    // UPIC and PACO Serbia paid for these, and the report names no funding for the discussions in Strasbourg
    // and the cancelled event in Vietnam.
    assert_eq!(
        found,
        [
            "2007-02-06-kyiv-regional-conference",
            "2007-03-19-belgrade-regional-conference",
            "serbia-paco-technical-trainings-cybercrime",
            "serbia-paco-manual-investigation-cybercrime",
            "2007-10-15-switzerland-seminar-financing-of-terrorism",
            "serbia-paco-specialised-training-sessions",
            "2007-strasbourg-discussions-russian-federation-article-32",
            "2007-08-vietnam-joint-coe-unodc-itu-event",
        ]
    );

    // The place's country and the activity's countries: Romania hosted two events, sent people to Rome and
    // Bulgaria, and took part in the conferences of Kyiv and Belgrade.
    let found = matching(r#"country:"RO""#);
    assert_eq!(found, oracle(|a| concerns(a, "RO")));
    assert_eq!(found.len(), 6);
    let found = matching(r#"country != "countries/FR""#);
    assert_eq!(found, oracle(|a| !concerns(a, "FR")));
    assert_eq!(found.len(), 64);
}

#[test]
fn scalar_fields() {
    let found = matching(r#"kind = "legislative-analysis""#);
    assert_eq!(found, oracle(|a| a.kind == ActivityKind::LegislativeAnalysis));
    assert_eq!(found.len(), 3);
    assert_eq!(matching(r#"kind = "LEGISLATIVE_ANALYSIS""#), found);

    // The place's region, or the region of its country; the "Global" activity has none.
    let found = matching(r#"region = "ARAB_REGION""#);
    assert_eq!(found, oracle(|a| place_region(a) == Some(Region::ArabRegion)));
    assert_eq!(found.len(), 7);
    let found = matching(r#"region = "asia-pacific""#);
    assert_eq!(found, oracle(|a| place_region(a) == Some(Region::AsiaPacific)));
    assert_eq!(found.len(), 10);
    let found = matching(r#"region != "EUROPE""#);
    assert_eq!(found, oracle(|a| place_region(a) != Some(Region::Europe)));
    assert!(found.contains(&"2007-12-global-participation-in-events".to_owned()));
    assert_eq!(found.len(), 33);

    let found = matching(r#"plan = "2007-12..2008-06""#);
    assert_eq!(found, oracle(|a| a.plan.as_deref() == Some("2007-12..2008-06")));
    assert_eq!(found.len(), 24);
    assert_eq!(matching(r#"plan != "2007-12..2008-06""#).len(), 52);
}

#[test]
fn tentative() {
    let found = matching("tentative = true");
    assert_eq!(found, oracle(|a| a.tentative));
    // "Feb 2008 (tbc)" and "June 2008 | Colombia (TBC)"; the 24/7 workshop's "Europe (place tbc)" is a
    // tentative place, not a tentative date.
    assert_eq!(
        found,
        ["2008-02-senegal-legislative-assistance-workshop", "2008-06-colombia-oas-coe-regional-conference"]
    );
    assert_eq!(matching("tentative != true"), oracle(|a| !a.tentative));
    assert_eq!(matching("tentative = false").len(), 74);
    let workshop = activities().iter().find(|a| a.id == "2008-05-europe-workshop-24-7-contact-points").unwrap();
    assert!(workshop.place.tentative && !workshop.tentative);
    assert_eq!(
        activities().iter().filter(|a| a.place.tentative).map(|a| a.id.as_str()).collect::<Vec<_>>(),
        ["2008-05-europe-workshop-24-7-contact-points"]
    );
}

#[test]
fn imprecise_dates() {
    // "Feb 2008 (tbc)" (Senegal) and "Feb 2008" (Morocco, Montenegro) are known to the month.
    let feb_2008 = [
        "2008-02-senegal-legislative-assistance-workshop",
        "2008-02-morocco-workshop-legislation-investigation",
        "2008-02-montenegro-legislative-assistance-workshop",
    ];
    let months: Vec<_> =
        matching(r#"start = "2008-02""#).into_iter().filter(|id| feb_2008.contains(&id.as_str())).collect();
    assert_eq!(months, feb_2008);
    // Lying within February: the three months and the days 7 and 20-21 February.
    let found = matching(r#"start = "2008-02""#);
    let expected = oracle(|a| {
        a.start.is_some_and(|s| {
            s.earliest().is_some_and(|e| e >= day("2008-02-01")) && s.latest().is_some_and(|l| l <= day("2008-02-29"))
        })
    });
    assert_eq!(found, expected);
    assert_eq!(found.len(), 5);

    let senegal = "2008-02-senegal-legislative-assistance-workshop".to_owned();
    let matches_senegal = |filter: &str| matching(filter).contains(&senegal);
    // Certainly on or after 1 February, certainly before March, within 2008.
    assert!(matches_senegal(r#"start >= "2008-02-01""#));
    assert!(matches_senegal(r#"start < "2008-03""#));
    assert!(matches_senegal(r#"start <= "2008-02-29""#));
    assert!(matches_senegal(r#"start = "2008""#));
    assert!(matches_senegal(r#"start > "2008-01""#));
    // Not certainly on 15 February, nor after 1 February, nor by 28 February.
    assert!(!matches_senegal(r#"start = "2008-02-15""#));
    assert!(matches_senegal(r#"start != "2008-02-15""#));
    assert!(!matches_senegal(r#"start > "2008-02-01""#));
    assert!(!matches_senegal(r#"start <= "2008-02-28""#));
    assert!(!matches_senegal(r#"start < "2008-02-29""#));
    assert!(!matches_senegal(r#"start >= "2008-02-02""#));

    let found = matching(r#"start < "2008-03" AND start > "2007-12-31""#);
    let expected = oracle(|a| {
        a.start.is_some_and(|s| {
            s.latest().is_some_and(|l| l < day("2008-03-01")) && s.earliest().is_some_and(|e| e > day("2007-12-31"))
        })
    });
    assert_eq!(found, expected);
    assert_eq!(found.len(), 7);
}

#[test]
fn undated_activities_and_end_dates() {
    let undated = "2008-albania-workshop-legislation-investigation".to_owned();
    // No date: no date comparison holds, not even `!=`, but its NOT does.
    for filter in [r#"start >= "1900""#, r#"start != "2008""#, r#"end < "2100""#, r#"end != "1900""#] {
        assert!(!matching(filter).contains(&undated), "{filter}");
    }
    assert!(matching(r#"NOT start = "2008""#).contains(&undated));
    let dated = matching(r#"start >= "1900""#);
    assert_eq!(dated, oracle(|a| a.start.is_some()));
    assert_eq!(dated.len(), 75);

    // The end of an activity with a single date is its start.
    let found = matching(r#"end = "2007-09-28""#);
    assert_eq!(found, oracle(|a| a.end_or_start() == Some(date("2007-09-28"))));
    assert_eq!(
        found,
        [
            "2007-09-26-sao-paulo-iccyber-conference",
            "2007-09-28-sao-paulo-internet-steering-group-meeting",
            "2007-09-28-sao-paulo-prosecutor-training-workshop",
        ]
    );
    // Ends certainly in April 2008 or later: the studies (to April 2008) and the plan's later activities.
    let found = matching(r#"end >= "2008-04""#);
    let expected = oracle(|a| a.end_or_start().and_then(|e| e.earliest()).is_some_and(|e| e >= day("2008-04-01")));
    assert_eq!(found, expected);
    assert!(found.contains(&"2007-10-strasbourg-studies-on-cybercrime".to_owned()));
    assert_eq!(found.len(), 10);
    // Ongoing over the turn of the year: started in 2007 and ends in 2008.
    let found = matching(r#"start = "2007" AND end = "2008""#);
    assert_eq!(
        found,
        oracle(|a| {
            a.start.is_some_and(|s| DateOp::Eq.holds(&s, &date("2007")))
                && a.end_or_start().is_some_and(|e| DateOp::Eq.holds(&e, &date("2008")))
        })
    );
    assert_eq!(found.len(), 2);
}

#[test]
fn date_semantics() {
    let march = date("2007-03");
    let cases = [
        // (date, op, value, holds)
        ("2007-03-05", DateOp::Ge, march, true),
        ("2007-03-05", DateOp::Gt, march, false),
        ("2007-04-01", DateOp::Gt, march, true),
        ("2007-03-31", DateOp::Le, march, true),
        ("2007-03-31", DateOp::Lt, march, false),
        ("2007-02-28", DateOp::Lt, march, true),
        ("2007-03-05", DateOp::Eq, march, true),
        ("2007-03-05", DateOp::Ne, march, false),
        ("2007-03", DateOp::Eq, march, true),
        ("2007", DateOp::Eq, march, false),
        ("2007", DateOp::Ne, march, true),
        ("2007", DateOp::Ge, march, false),
        ("2007", DateOp::Le, march, false),
        ("2007-02..2007-03", DateOp::Le, march, true),
        ("2007-02..2007-03", DateOp::Lt, march, false),
        ("..2007-02-28", DateOp::Lt, march, true),
        ("..2007-03-10", DateOp::Ge, march, false),
        ("2007-03-10..", DateOp::Ge, march, true),
        ("2007-03-10..", DateOp::Le, march, false),
        ("2007-03-10..", DateOp::Eq, march, false),
        ("2007-03-10..", DateOp::Ne, march, true),
    ];
    for (d, op, value, holds) in cases {
        assert_eq!(op.holds(&date(d), &value), holds, "{d} {op:?} {value}");
    }
}

#[test]
fn typed_expression() {
    let filter = Filter::parse(r#"status = "COMPLETED" AND -country:"BR" OR output != 2"#).unwrap();
    let cmp = |c| Box::new(Expr::Cmp(c));
    assert_eq!(
        filter.expr,
        Some(Expr::And(
            cmp(Comparison::Status { op: EqOp::Eq, value: ActivityStatus::Completed }),
            Box::new(Expr::Or(
                Box::new(Expr::Not(cmp(Comparison::Country { op: HasOp::Has, value: code("BR") }))),
                cmp(Comparison::Output { op: HasOp::NotHas, value: 2 }),
            )),
        ))
    );
    let filter = Filter::parse(r#"start <= "2007" AND tentative != false AND organisation = "itu""#).unwrap();
    assert_eq!(
        filter.expr,
        Some(Expr::And(
            Box::new(Expr::And(
                cmp(Comparison::Start { op: DateOp::Le, value: ApproxDate::Year(2007) }),
                cmp(Comparison::Tentative { op: EqOp::Ne, value: false }),
            )),
            cmp(Comparison::Organisation { op: HasOp::Has, value: "itu".to_owned() }),
        ))
    );
    // A string may hold escaped quotes and backslashes.
    let filter = Filter::parse(r#"plan = "a \"b\" \\ c""#).unwrap();
    assert_eq!(filter.expr, Some(Expr::Cmp(Comparison::Plan { op: EqOp::Eq, value: r#"a "b" \ c"#.to_owned() })));
    assert_eq!(filter.to_string(), r#"plan = "a \"b\" \\ c""#);
}

#[test]
fn canonical_text_parses_back() {
    let cases = [
        (
            r#"status="completed" AND start>="2007-03-01" AND country:"BR""#,
            r#"status = "COMPLETED" AND start >= "2007-03-01" AND country = "countries/BR""#,
        ),
        (r#"-kind = "legislative-analysis""#, r#"NOT kind = "LEGISLATIVE_ANALYSIS""#),
        (r#"(output:1 AND output:2) OR output:3"#, r#"(output = 1 AND output = 2) OR output = 3"#),
        (r#"output:1 AND (output:2 OR output:3)"#, r#"output = 1 AND output = 2 OR output = 3"#),
        (r#"output:1 AND (output:2 AND output:3)"#, r#"output = 1 AND (output = 2 AND output = 3)"#),
        (r#"(output:1 OR output:2) OR output:3"#, r#"output = 1 OR output = 2 OR output = 3"#),
        (r#"output:1 OR (output:2 OR output:3)"#, r#"output = 1 OR (output = 2 OR output = 3)"#),
        (r#"NOT (NOT tentative = true)"#, r#"NOT (NOT tentative = true)"#),
        (
            r#"-(region = "asia-pacific" OR region="ARAB_REGION")"#,
            r#"NOT (region = "ASIA_PACIFIC" OR region = "ARAB_REGION")"#,
        ),
        (
            r#"organisation != "organisations/itu" AND funding = "upic" AND plan != "2007-12..2008-06""#,
            r#"organisation != "organisations/itu" AND funding = "upic" AND plan != "2007-12..2008-06""#,
        ),
        (
            r#"end < "2008-02" AND end > "2007" AND end <= "2008-01-31""#,
            r#"end < "2008-02" AND end > "2007" AND end <= "2008-01-31""#,
        ),
        (r#"(((start = "2007")))"#, r#"start = "2007""#),
    ];
    for (text, canonical) in cases {
        let filter = Filter::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(filter.to_string(), canonical, "{text}");
        assert_eq!(Filter::parse(&filter.to_string()).unwrap(), filter, "{text}");
    }
}

/// Found by the `filter` fuzz target (`fuzz/regressions/filter/canonical-text-over-the-length-limit`): the
/// canonical text spells out what the text abbreviates, so a filter within the length limit can have a canonical
/// text over it, which is then rejected for its length alone (and only for that).
#[test]
fn canonical_text_of_a_filter_near_the_length_limit() {
    let text = vec![r#"organisation:"x""#; 102].join(" OR ");
    assert_eq!(text.len(), 2036);
    let filter = Filter::parse(&text).unwrap();
    let canonical = filter.to_string();
    assert_eq!(canonical, vec![r#"organisation = "organisations/x""#; 102].join(" OR "));
    assert!(canonical.len() > MAX_FILTER_LEN);
    assert_eq!(
        error(&canonical),
        format!("at position 2048: the filter is {} bytes long; at most 2048 are allowed", canonical.len())
    );
    // Within the limit, it parses back.
    let text = vec![r#"organisation:"x""#; 50].join(" OR ");
    let filter = Filter::parse(&text).unwrap();
    assert!(filter.to_string().len() <= MAX_FILTER_LEN);
    assert_eq!(Filter::parse(&filter.to_string()).unwrap(), filter);
}

#[test]
fn limits() {
    let nested = |depth: usize| format!("{}tentative = true{}", "(".repeat(depth), ")".repeat(depth));
    assert!(Filter::parse(&nested(MAX_FILTER_DEPTH)).is_ok());
    assert_eq!(error(&nested(MAX_FILTER_DEPTH + 1)), "at position 32: parentheses nest more than 32 deep");
    let negated = format!("{}tentative = true{}", "NOT (".repeat(33), ")".repeat(33));
    assert_eq!(error(&negated), "at position 164: parentheses nest more than 32 deep");

    let long = |len: usize| format!(r#"plan = "{}""#, "x".repeat(len - 9));
    assert_eq!(long(MAX_FILTER_LEN).len(), 2048);
    assert!(Filter::parse(&long(MAX_FILTER_LEN)).is_ok());
    assert_eq!(
        error(&long(MAX_FILTER_LEN + 1)),
        "at position 2048: the filter is 2049 bytes long; at most 2048 are allowed"
    );
    // A long AND chain is not nesting.
    let chain = vec!["output = 1"; 100].join(" AND ");
    assert_eq!(matching(&chain), oracle(|a| a.outputs.contains(&1)));
    assert_eq!(matching(&chain).len(), 55);
}

#[test]
fn rejections() {
    let fields = "status, kind, country, region, output, organisation, funding, plan, start, end, tentative";
    let cases = [
        (
            r#"status = "COMPLETED" AND stat = "x""#.to_owned(),
            format!("at position 25, field `stat`: unknown field; fields are {fields}"),
        ),
        (
            r#"tentative = true OR Status = "COMPLETED""#.to_owned(),
            format!("at position 20, field `Status`: unknown field; fields are {fields}"),
        ),
        (
            r#"status < "COMPLETED""#.to_owned(),
            "at position 7, field `status`: operator `<` is not allowed here; use = or !=".to_owned(),
        ),
        (
            r#"start:"2007""#.to_owned(),
            "at position 5, field `start`: operator `:` is not allowed here; use =, !=, <, <=, > or >=".to_owned(),
        ),
        (
            r#"country >= "BR""#.to_owned(),
            "at position 8, field `country`: operator `>=` is not allowed here; use =, : or !=".to_owned(),
        ),
        (
            r#"start >= "2007-13""#.to_owned(),
            "at position 9, field `start`: `2007-13` is not a date: month 13 is out of range 1-12".to_owned(),
        ),
        (
            r#"end = "2007-01..2007-03""#.to_owned(),
            "at position 6, field `end`: \"2007-01..2007-03\" is a range; expected a day, a month or a year, \
             e.g. \"2007-03-01\", \"2007-03\" or \"2007\""
                .to_owned(),
        ),
        (
            "output = 4".to_owned(),
            "at position 9, field `output`: there is no output 4; the outputs are 1, 2 and 3".to_owned(),
        ),
        (
            r#"output = "2""#.to_owned(),
            "at position 9, field `output`: expected an output, 1, 2 or 3, without quotes, found a string".to_owned(),
        ),
        (
            r#"status = "DONE""#.to_owned(),
            "at position 9, field `status`: unknown status \"DONE\"; the statuses are PIPELINE, \
             IMPLEMENTATION, COMPLETED, CLOSED, CANCELLED, SUSPENDED"
                .to_owned(),
        ),
        (
            r#"region = "OCEANIA""#.to_owned(),
            "at position 9, field `region`: unknown region \"OCEANIA\"; the regions are EUROPE, AFRICA, \
             AMERICAS, ASIA_PACIFIC, ARAB_REGION"
                .to_owned(),
        ),
        (
            "plan = next".to_owned(),
            "at position 7, field `plan`: expected a plan in double quotes, e.g. \"2007-12..2008-06\", found \
             the bare word `next` (only integers, true, false and the values of status, kind and region go \
             without quotes)"
                .to_owned(),
        ),
        (
            "status = DONE".to_owned(),
            "at position 9, field `status`: unknown status \"DONE\"; the statuses are PIPELINE, \
             IMPLEMENTATION, COMPLETED, CLOSED, CANCELLED, SUSPENDED"
                .to_owned(),
        ),
        (
            "status = ACTIVITY_STATUS_UNSPECIFIED".to_owned(),
            "at position 9, field `status`: unknown status \"ACTIVITY_STATUS_UNSPECIFIED\"; the statuses are \
             PIPELINE, IMPLEMENTATION, COMPLETED, CLOSED, CANCELLED, SUSPENDED"
                .to_owned(),
        ),
        (
            "kind = ACTIVITY_STATUS_COMPLETED".to_owned(),
            "at position 7, field `kind`: unknown kind \"ACTIVITY_STATUS_COMPLETED\"; the kinds are CONFERENCE, \
             WORKSHOP, TRAINING, LEGISLATIVE_ANALYSIS, MEETING, STUDY, MISSION"
                .to_owned(),
        ),
        (
            "status = true".to_owned(),
            "at position 9, field `status`: expected a status, e.g. COMPLETED, \"COMPLETED\" or \
             ACTIVITY_STATUS_COMPLETED, found `true`"
                .to_owned(),
        ),
        (
            r#"tentative = "true""#.to_owned(),
            "at position 12, field `tentative`: expected true or false, without quotes, found a string".to_owned(),
        ),
        (
            r#"country = "br""#.to_owned(),
            "at position 10, field `country`: `br` is not a country code: expected two capital letters \
             (ISO 3166-1 alpha-2)"
                .to_owned(),
        ),
        (
            r#"status = "COMPLETED"#.to_owned(),
            "at position 9, field `status`: unterminated string: no `\"` closes it".to_owned(),
        ),
        (
            r#"plan = "a\nb""#.to_owned(),
            "at position 9, field `plan`: unknown escape `\\n` in a string; only \\\" and \\\\ are allowed".to_owned(),
        ),
        (
            r#"(status = "COMPLETED" OR output = 1"#.to_owned(),
            "at position 0: unbalanced parentheses: this `(` is never closed".to_owned(),
        ),
        (
            r#"status = "COMPLETED")"#.to_owned(),
            "at position 20: unbalanced parentheses: this `)` has no matching `(`".to_owned(),
        ),
        (
            r#"status = "COMPLETED" kind = "MEETING""#.to_owned(),
            "at position 21: implicit AND (two terms side by side) is not supported: join them with AND or OR"
                .to_owned(),
        ),
        (
            r#"status = "COMPLETED" and kind = "MEETING""#.to_owned(),
            "at position 21: `and` is not a keyword: AND, OR and NOT are uppercase".to_owned(),
        ),
        (
            r#"status = "COMPLETED" AND"#.to_owned(),
            "at position 24: expected a field, `(`, NOT or `-`, found the end of the filter".to_owned(),
        ),
        (
            r#"NOT NOT tentative = true"#.to_owned(),
            "at position 4: expected a field or `(` after NOT, found NOT".to_owned(),
        ),
        (
            "status".to_owned(),
            "at position 6, field `status`: expected an operator (= or !=) after the field, found the end of \
             the filter"
                .to_owned(),
        ),
        (
            "tentative =".to_owned(),
            "at position 11, field `tentative`: expected true or false, without quotes, found the end of the \
             filter"
                .to_owned(),
        ),
        (r#""COMPLETED""#.to_owned(), "at position 0: expected a field, `(`, NOT or `-`, found a string".to_owned()),
        ("()".to_owned(), "at position 1: expected a field, `(`, NOT or `-`, found `)`".to_owned()),
        (
            "tentative ! true".to_owned(),
            "at position 10, field `tentative`: unexpected `!`; the operators are =, !=, <, <=, >, >= and :".to_owned(),
        ),
        (
            r#"organisation = "states/FR""#.to_owned(),
            "at position 15, field `organisation`: \"states/FR\" is not an organisation: write \
             \"organisations/{id}\" or \"{id}\", e.g. \"itu\""
                .to_owned(),
        ),
        (
            r#"funding = """#.to_owned(),
            "at position 10, field `funding`: expected a funding source in double quotes, e.g. \
             \"project-budget\", found an empty string"
                .to_owned(),
        ),
    ];
    for (text, message) in cases {
        assert_eq!(error(&text), message, "{text}");
    }
    let err = Filter::parse(r#"status = "COMPLETED" AND stat = "x""#).unwrap_err();
    assert_eq!((err.position, err.field.as_deref()), (25, Some("stat")));
}

#[test]
fn a_filter_and_the_activities_that_may_fall_within_a_period() {
    let (start, end) = (day("2007-12-01"), day("2008-06-30"));
    let filter = Filter::parse("kind = \"WORKSHOP\"").expect("a filter").and_may_fall_within(start, end);
    let found: Vec<String> =
        activities().iter().filter(|a| filter.matches(a, region_of)).map(|a| a.id.clone()).collect();
    // Not certainly starting after the period, nor certainly ending before it (undated ones pass: no comparison
    // of their dates holds).
    let expected = oracle(|a| {
        a.kind == ActivityKind::Workshop
            && a.start.and_then(|d| d.earliest()).is_none_or(|s| s <= end)
            && a.end_or_start().and_then(|d| d.latest()).is_none_or(|e| e >= start)
    });
    assert_eq!(found, expected);
    let workshops = oracle(|a| a.kind == ActivityKind::Workshop);
    assert!(!expected.is_empty() && expected.len() < workshops.len(), "{} of {}", expected.len(), workshops.len());
    let everything = Filter::default().and_may_fall_within(start, end);
    assert!(activities().iter().any(|a| !everything.matches(a, region_of)), "activities of 2007 are outside");
}

/// The enum names the responses print (`ACTIVITY_STATUS_COMPLETED`), quoted or bare, and the short names bare,
/// are the same values as the short names quoted: the same filter, the same canonical text, the same activities.
#[test]
fn enum_values_are_read_in_the_words_responses_print() {
    let same = [
        (
            r#"status = "COMPLETED""#,
            &[
                "status = COMPLETED",
                "status = ACTIVITY_STATUS_COMPLETED",
                r#"status = "ACTIVITY_STATUS_COMPLETED""#,
                "status = activity_status_completed",
                "status = completed",
            ][..],
        ),
        (
            r#"kind != "LEGISLATIVE_ANALYSIS""#,
            &[
                "kind != LEGISLATIVE_ANALYSIS",
                "kind != ACTIVITY_KIND_LEGISLATIVE_ANALYSIS",
                r#"kind != "ACTIVITY_KIND_LEGISLATIVE_ANALYSIS""#,
                "kind != legislative-analysis",
            ][..],
        ),
        (r#"region = "ASIA_PACIFIC""#, &["region = ASIA_PACIFIC", "region = asia-pacific"][..]),
        (
            r#"status = "PIPELINE" OR kind = "WORKSHOP""#,
            &["status = ACTIVITY_STATUS_PIPELINE OR kind = ACTIVITY_KIND_WORKSHOP"][..],
        ),
    ];
    for (quoted, forms) in same {
        let expected = Filter::parse(quoted).unwrap();
        assert!(!matching(quoted).is_empty() || quoted.starts_with("region"), "{quoted} selects something");
        for form in forms {
            let filter = Filter::parse(form).unwrap_or_else(|e| panic!("{form}: {e}"));
            assert_eq!(filter, expected, "{form}");
            assert_eq!(filter.to_string(), expected.to_string(), "{form}");
            assert_eq!(matching(form), matching(quoted), "{form}");
        }
    }
}

/// The countries a filter names, wherever they are in it, for the service to check against the record.
#[test]
fn the_countries_a_filter_names() {
    let filter =
        Filter::parse(r#"country = "countries/BR" AND (status = COMPLETED OR -country:"XX") AND output = 2"#).unwrap();
    assert_eq!(filter.countries(), [&code("BR"), &code("XX")]);
    assert!(Filter::parse("status = COMPLETED").unwrap().countries().is_empty());
    assert!(Filter::parse("").unwrap().countries().is_empty());
}

/// ListCountries' filter is the same language: OR, NOT, parentheses, bare enum values, the same errors.
#[test]
fn the_country_filter_speaks_the_one_grammar() {
    use core_model::{CountryComparison, CountryFilter, EqOp};
    let region = |value| Expr::Cmp(CountryComparison::Region { op: EqOp::Eq, value });
    let member = |value| Expr::Cmp(CountryComparison::CoeMember { op: EqOp::Eq, value });
    assert_eq!(CountryFilter::parse(" "), Ok(CountryFilter::default()));
    assert_eq!(
        CountryFilter::parse(r#"region = "ASIA_PACIFIC" AND coe_member = false"#).unwrap(),
        CountryFilter { expr: Some(Expr::And(Box::new(region(Region::AsiaPacific)), Box::new(member(false)))) }
    );
    assert_eq!(
        CountryFilter::parse("region = AFRICA OR region = asia-pacific").unwrap(),
        CountryFilter { expr: Some(Expr::Or(Box::new(region(Region::Africa)), Box::new(region(Region::AsiaPacific)))) }
    );
    assert!(CountryFilter::parse("NOT coe_member = true AND -(region = EUROPE)").is_ok());
    let error = |text: &str| CountryFilter::parse(text).unwrap_err().to_string();
    assert_eq!(
        error(r#"region = "MARS""#),
        "at position 9, field `region`: unknown region \"MARS\"; the regions are EUROPE, AFRICA, AMERICAS, \
         ASIA_PACIFIC, ARAB_REGION"
    );
    assert_eq!(
        error("coe_member = yes"),
        "at position 13, field `coe_member`: expected true or false, without quotes, found the bare word `yes` \
         (only integers, true, false and the values of status, kind and region go without quotes)"
    );
    assert_eq!(error(r#"name = "x""#), "at position 0, field `name`: unknown field; fields are region, coe_member");
    assert_eq!(
        error("status = COMPLETED"),
        "at position 0, field `status`: unknown field; fields are region, coe_member"
    );
    assert_eq!(
        error("region = EUROPE and coe_member = true"),
        "at position 16: `and` is not a keyword: AND, OR and NOT are uppercase"
    );
    // And the activity filter has no coe_member.
    assert_eq!(
        Filter::parse("coe_member = true").unwrap_err().to_string(),
        "at position 0, field `coe_member`: unknown field; fields are status, kind, country, region, output, \
         organisation, funding, plan, start, end, tentative"
    );
}
