//! A country brief puts a state's standing under the Budapest Convention beside its standing under the UN
//! Convention against Cybercrime (and CETS 224), once they are open; a brief of 2007 knows nothing of them.

use core_model::Dataset;
use reporting::{CountryBrief, Format, render_brief};

fn day(s: &str) -> chrono::NaiveDate {
    s.parse().unwrap()
}

fn labels(b: &CountryBrief) -> Vec<&str> {
    b.treaties.iter().map(|t| t.label.as_str()).collect()
}

#[test]
fn a_brief_shows_both_conventions_side_by_side() {
    let ds = Dataset::bundled();
    // France: a party to ETS 185, a signatory of the UN Convention (S42, 2025-10-25).
    let fr = CountryBrief::build(&ds, "FR", day("2025-11-16")).unwrap();
    assert_eq!(labels(&fr), ["ETS 185", "ETS 189", "CETS 201", "CETS 224", "UN XVIII-16"]);
    let of = |b: &CountryBrief, label: &str| b.treaties.iter().find(|t| t.label == label).unwrap().clone();
    assert_eq!(of(&fr, "ETS 185").status, "Ratified");
    let un = of(&fr, "UN XVIII-16");
    assert_eq!(un.status, "Signed");
    assert_eq!(un.actions, ["Signature: 25 Oct 2025 (S42)"]);
    // Germany: nothing recorded under the UN Convention; the brief says it may have signed, and why.
    let de = CountryBrief::build(&ds, "DE", day("2025-11-16")).unwrap();
    let un = of(&de, "UN XVIII-16");
    assert_eq!((un.status.as_str(), un.uncertain, un.actions.len()), ("Not signed", true, 0));
    assert!(un.reason.unwrap().contains("UN XVIII-16"));
    let md = render_brief(&de, Format::Markdown).unwrap().body;
    let (bc, un) = (md.find("ETS 185").unwrap(), md.find("UN Convention against Cybercrime").unwrap());
    assert!(bc < un, "{md}");
}

#[test]
fn a_brief_of_2007_knows_nothing_of_the_later_treaties() {
    let ds = Dataset::bundled();
    let fr = CountryBrief::build(&ds, "FR", day("2007-11-30")).unwrap();
    assert_eq!(labels(&fr), ["ETS 185", "ETS 189", "CETS 201"]);
    let page = ds.country_page(&ds, ds.state(&"FR".parse().unwrap()).unwrap(), day("2007-11-30"));
    let without: Vec<u32> = page.treaties_without_steps.iter().map(|t| t.number.0).collect();
    assert_eq!(without, [201]);
}
