//! The 2007 progress report generated from the bundled data: its tables, exactly as the report prints them.

use core_model::{ActivityStatus, Dataset};
use reporting::{CountryBrief, Format, Period, ProgressReport, ReportError, render_brief, render_progress};

fn day(s: &str) -> chrono::NaiveDate {
    s.parse().unwrap()
}

fn report_2007() -> ProgressReport {
    ProgressReport::build(
        &Dataset::bundled(),
        day("2007-11-30"),
        Period::new(day("2006-09-01"), day("2007-11-30")).unwrap(),
    )
    .unwrap()
}

fn markdown() -> String {
    render_progress(&report_2007(), Format::Markdown).unwrap().body
}

/// The lines after `heading` up to the next blank line following at least one item.
fn list_after<'a>(text: &'a str, heading: &str) -> Vec<&'a str> {
    let mut lines = text.lines().skip_while(|l| l.trim() != heading).skip(1).skip_while(|l| l.trim().is_empty());
    let mut out = Vec::new();
    for l in lines.by_ref() {
        if l.trim().is_empty() {
            break;
        }
        out.push(l.trim_start_matches("- "));
    }
    out
}

#[test]
fn the_ratifications_per_year() {
    let md = markdown();
    assert!(md.contains("| Year | 2002 | 2003 | 2004 | 2005 | 2006 | 2007 |\n"), "{md}");
    assert!(md.contains("| Add. ratif. | +2 | +2 | +4 | +3 | +7 | +3 |\n"));
    assert!(md.contains("| Total | 2 | 4 | 8 | 11 | 18 | 21 |\n"));
    // Beside them, what the data places in each year: all of it, with the bounds derived from the recorded entries
    // into force and from the reported series (Slovenia, "the former Yugoslav Republic of Macedonia", Iceland and
    // Norway have no day in any source, but their years are fixed), 2007 counted to the report's date.
    // Every one of them is placed in its year (no figure is a range), so no sentence on undated ratifications, and
    // no jargon row: the JSON keeps what the data dates certainly in each year.
    let r = report_2007();
    let dated: Vec<u32> = r.treaties[0].years.iter().map(|y| y.dated).collect();
    assert_eq!(dated, [2, 2, 4, 3, 7, 3]);
    assert!(r.treaties[0].years.iter().all(|y| y.undated == 0));
    assert!(!md.contains("No source gives the day of the ratifications of Slovenia, \"the former"), "{md}");
    assert!(!md.contains("Undated (may fall in the year)") && !md.contains("consistent with the data"), "{md}");
}

#[test]
fn the_status_table_with_its_state_names() {
    let md = markdown();
    assert_eq!(
        list_after(&md, "**Ratified (21)**"),
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
        list_after(&md, "**Signed (22)**"),
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
        list_after(&md, "**Not signed (8)**"),
        ["Andorra", "Azerbaijan", "Georgia", "Liechtenstein", "Monaco", "Russian Federation", "San Marino", "Turkey"]
    );
    assert_eq!(list_after(&md, "**Invited to accede (2)**"), ["Costa Rica", "Mexico"]);
    assert_eq!(list_after(&md, "**Request for accession (1)**"), ["Philippines"]);
    // The Protocol: the report's figures beside the computed ones, where they differ. The sources name the
    // report's eleven parties; of its 20 further signatories, fourteen. A column with uncertain states would give
    // its certain and uncertain counts apart.
    let protocol = Dataset::bundled().treaty_status(core_model::TreatyNumber(189), day("2007-11-30")).unwrap();
    let heading = |status: core_model::StateStatus, label: &str| {
        let g = protocol.group(status);
        let uncertain = g.iter().filter(|e| e.uncertain).count();
        if uncertain == 0 {
            format!("**{label} ({})**", g.len())
        } else {
            format!("**{label} ({} certain, {uncertain} uncertain)**", g.len() - uncertain)
        }
    };
    assert_eq!(heading(core_model::StateStatus::Party, "Ratified"), "**Ratified (11)**");
    assert!(md.contains("**Ratified (11)**\n"), "{md}");
    assert!(!md.contains("**Ratified (11)** — the report states"), "{md}");
    assert_eq!(protocol.group(core_model::StateStatus::Signatory).len(), 14);
    let signed = heading(core_model::StateStatus::Signatory, "Signed");
    assert!(md.contains(&format!("{signed} — the report states 20\n")), "{signed}: {md}");
    // The report's "four additional countries ratified this instrument in 2007" is not what the sources date
    // (Latvia's deposit alone is of 2007; Armenia's, Lithuania's and Ukraine's are of 2006), and the report says so.
    assert!(md.contains("The figures the report states do not match the ratifications the sources date."), "{md}");
}

#[test]
fn the_nine_countries_of_specific_legislative_advice() {
    let md = markdown();
    let advised: Vec<&str> = list_after(&md, "Specific advice on draft laws was provided to:")
        .iter()
        .map(|l| l.split(':').next().unwrap())
        .collect();
    assert_eq!(
        advised,
        ["Argentina", "Brazil", "Colombia", "Egypt", "India", "Indonesia", "Pakistan", "Philippines", "Serbia"]
    );
    assert!(md.contains("- European countries: 1 of the target of 10 (Serbia)"));
    assert!(md.contains("- non-European countries: 8 of the target of 5 (Argentina, Brazil, Colombia, Egypt, India, Indonesia, Pakistan, Philippines)"));
}

#[test]
fn the_five_studies_and_the_planned_activities() {
    let md = markdown();
    for (i, title) in [
        "Cybercrime situation report",
        "Study on cybercrime legislation",
        "Study on the role of service providers",
        "Study on international cooperation",
        "Study on data protection",
    ]
    .iter()
    .enumerate()
    {
        assert!(md.contains(&format!("{}. {title} (", i + 1)), "{title}");
    }
    let r = report_2007();
    let ds = Dataset::bundled();
    let planned: Vec<&str> = ds.activities.iter().filter(|a| a.plan.is_some()).map(|a| a.id.as_str()).collect();
    let proposed: Vec<&str> = r.proposed.iter().map(|a| a.id.as_str()).collect();
    // The 24 of §4.2 and the specialised trainings planned in Serbia "in the coming months" (§2.2.12).
    assert_eq!(proposed.len(), 25);
    for id in &planned {
        assert!(proposed.contains(id), "{id} is not proposed");
    }
    assert!(proposed.contains(&"serbia-paco-specialised-training-sessions"));
    // The table of §4.2, one row per activity: e.g. the tentative Senegal workshop and the undated Albania one.
    let way_ahead = &md[md.find("## 4 The way ahead").unwrap()..];
    assert!(way_ahead.contains("| Feb 2008 (tbc) | Senegal | Legislative assistance workshop |"), "{way_ahead}");
    // The source's misprint, marked, with the correction beside it.
    assert!(
        way_ahead.contains("| Dec 2007 – June 2007 \\[sic\\]: Dec 2007 – Jun 2008 | Global | Participation in events"),
        "{way_ahead}"
    );
    assert!(
        way_ahead.contains("| undated | Albania | Workshop on cybercrime legislation and investigation |"),
        "{way_ahead}"
    );
    // And §2.1: the 46 activities done, and the 4 done that the report tells only in its narrative (§2.2.11,
    // §2.2.12), in the order of their first possible day.
    let table: Vec<&str> = ds
        .activities
        .iter()
        .filter(|a| a.status == ActivityStatus::Completed)
        .filter(|a| a.source.0.iter().any(|c| c.locator.as_deref() == Some("§2.1")))
        .map(|a| a.id.as_str())
        .collect();
    assert_eq!(table.len(), 46);
    let listed: Vec<&str> = r.activities.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(listed.iter().filter(|id| table.contains(id)).count(), 46);
    assert_eq!(r.activities.len(), 50);
    assert_eq!(ds.activities.iter().filter(|a| a.status == ActivityStatus::Completed).count(), 50);
    assert!(md.contains("| 31 Aug – 1 Sep 2006 | Geneva, Switzerland | Participation in the Meeting of the International Telecommunication Union"));
}

#[test]
fn json_and_html_carry_the_same_content() {
    let r = report_2007();
    let json: serde_json::Value = serde_json::from_str(&render_progress(&r, Format::Json).unwrap().body).unwrap();
    assert_eq!(json["activities"].as_array().unwrap().len(), r.activities.len());
    assert_eq!(json["treaties"][0]["years"][2]["added"], "+4");
    assert_eq!(json["treaties"][0]["columns"][0]["count"], 21);
    let html = render_progress(&r, Format::Html).unwrap();
    assert_eq!(html.media_type, "text/html; charset=utf-8");
    assert!(html.body.starts_with("<!DOCTYPE html>"));
    assert!(html.body.contains("@page { size: A4;"), "inline CSS");
    assert!(html.body.contains("<svg") && html.body.contains("class=\"cumulative\""));
    assert_eq!(html.body.matches("class=\"bar\"").count(), 6 + json["treaties"][1]["years"].as_array().unwrap().len());
    assert!(html.body.contains("<td>Add. ratif.</td><td class=\"num\">+2</td>"));
    // Text is escaped: the quotation marks of a state's name do not break the HTML.
    assert!(html.body.contains("&quot;the former Yugoslav Republic of Macedonia&quot;"));
}

#[test]
fn a_country_brief() {
    let b = CountryBrief::build(&Dataset::bundled(), "PH", day("2007-11-30")).unwrap();
    let md = render_brief(&b, Format::Markdown).unwrap().body;
    assert!(md.starts_with("# Philippines: country brief"));
    assert!(md.contains("### Convention on Cybercrime (ETS 185): Request for accession"));
    assert!(md.contains("- Accession request: Sep 2007 (report-2007-11 §2.2.9)"), "{md}");
    assert!(md.contains("Legislators and Experts Workshop on Cybercrime"));
    let al = CountryBrief::build(&Dataset::bundled(), "AL", day("2007-11-30")).unwrap();
    let md = render_brief(&al, Format::Markdown).unwrap().body;
    assert!(md.contains("- Ratification: 20 Jun 2002 (CoE-2015)"), "{md}");
    assert!(md.contains("- In force for Albania from 1 Jul 2004"), "{md}");
    assert!(md.contains("underway (as at 19–21 Mar 2007†, report-2007-11 §2.2.14)"), "{md}");
    // A date known only within bounds is marked, and the mark explained once; no ISO day is left.
    assert_eq!(md.matches(reporting::words::BOUND_FOOTNOTE).count(), 1, "{md}");
    let iso_day =
        |w: &[u8]| w[4] == b'-' && w[7] == b'-' && w[..4].iter().chain(&w[5..7]).chain(&w[8..]).all(u8::is_ascii_digit);
    assert!(!md.as_bytes().windows(10).any(iso_day), "{md}");
    let html = render_brief(&al, Format::Html).unwrap().body;
    assert!(html.contains("<h1>Albania: country brief</h1>"));
    assert!(
        html.contains("None recorded: no source read names one for Albania by this date.") || md.contains("(as at ")
    );
}

#[test]
fn bad_input_and_an_empty_period() {
    let ds = Dataset::bundled();
    assert_eq!(
        Period::new(day("2007-11-30"), day("2006-09-01")).unwrap_err().to_string(),
        "the period ends (2006-09-01) before it starts (2007-11-30)"
    );
    let p = Period::new(day("1990-01-01"), day("1990-12-31")).unwrap();
    assert_eq!(
        ProgressReport::build(&ds, day("1990-12-31"), p).unwrap_err(),
        ReportError::BeforeAnyData { as_of: day("1990-12-31"), earliest: day("2001-11-23") }
    );
    assert_eq!(CountryBrief::build(&ds, "QQ", day("2007-11-30")).unwrap_err().to_string(), "unknown country `QQ`");
    assert_eq!(
        "docx".parse::<Format>().unwrap_err().to_string(),
        "unknown format `docx`: use markdown, html, json or pdf"
    );
    let quiet =
        ProgressReport::build(&ds, day("2010-12-31"), Period::new(day("2010-01-01"), day("2010-12-31")).unwrap())
            .unwrap();
    assert!(quiet.empty_period);
    let md = render_progress(&quiet, Format::Markdown).unwrap().body;
    assert!(md.contains("No activity was completed in this period."));
    // A planned activity the report gives no end for (Serbia's trainings "in the coming months", §2.2.12) is
    // ahead only while the record speaks of plans: up to the end of its last plan (June 2008).
    let ahead =
        ProgressReport::build(&ds, day("2008-05-31"), Period::new(day("2008-01-01"), day("2008-05-31")).unwrap())
            .unwrap();
    assert!(ahead.proposed.iter().any(|a| a.id == "serbia-paco-specialised-training-sessions"));
    assert!(quiet.proposed.is_empty(), "{:?}", quiet.proposed);
    assert!(
        render_progress(&quiet, Format::Markdown)
            .unwrap()
            .body
            .contains("No activity is proposed. The record holds plans up to 30 Jun 2008.")
    );
}

#[test]
fn the_priorities_in_2008_lead_the_way_ahead() {
    let md = markdown();
    let ds = Dataset::bundled();
    let way_ahead = &md[md.find("## 4 The way ahead").unwrap()..];
    let listed = list_after(way_ahead, "### 4.1 Priorities in 2008");
    assert_eq!(listed.len(), ds.priorities.len(), "{way_ahead}");
    // §4.1.1, in the report's words (Markdown-escaped where Markdown would read them).
    assert!(
        listed.contains(&"More emphasis will be put on the implementation of the Protocol on Xenophobia and Racism.")
    );
    assert!(
        listed.contains(&"The project will contribute to the Internet Governance Forum in India in December 2008.")
    );
    assert!(
        way_ahead.find("### 4.1 Priorities in 2008").unwrap() < way_ahead.find("### 4.2 Activities proposed").unwrap()
    );
    let json: serde_json::Value =
        serde_json::from_str(&render_progress(&report_2007(), Format::Json).unwrap().body).unwrap();
    assert_eq!(json["priorities"][0]["year"], 2008);
    // A report of a later year has no priorities of 2008 ahead of it.
    let later =
        ProgressReport::build(&ds, day("2009-06-30"), Period::new(day("2009-01-01"), day("2009-06-30")).unwrap())
            .unwrap();
    assert!(later.priorities.is_empty());
    assert!(!render_progress(&later, Format::Markdown).unwrap().body.contains("Priorities in"));
}
