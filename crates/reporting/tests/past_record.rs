//! What the documents say the record can know: a progress report or country brief dated past the date a treaty's
//! record is complete through says so near its top, in every format, and names the states whose status is
//! therefore unknown; uncertain states are shown apart from the certain ones, with why in plain words. What each
//! document must say is computed from the model (`Dataset::treaty_status`), not written here.

use chrono::NaiveDate;
use core_model::{Dataset, StateStatusEntry, TreatyNumber};
use reporting::{CountryBrief, Format, Period, ProgressReport, render_brief, render_progress};

const ETS185: TreatyNumber = TreatyNumber(185);

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn ds() -> &'static Dataset {
    static DS: std::sync::LazyLock<Dataset> = std::sync::LazyLock::new(Dataset::bundled);
    &DS
}

fn report(as_of: &str) -> ProgressReport {
    ProgressReport::build(ds(), day(as_of), Period::new(day("2006-09-01"), day("2007-11-30")).unwrap()).unwrap()
}

/// Every format of a progress report: (Markdown, HTML, JSON).
fn formats(r: &ProgressReport) -> (String, String, serde_json::Value) {
    let md = render_progress(r, Format::Markdown).unwrap().body;
    let html = render_progress(r, Format::Html).unwrap().body;
    let json = serde_json::from_str(&render_progress(r, Format::Json).unwrap().body).unwrap();
    (md, html, json)
}

/// The states of ETS 185 the model holds uncertain at a date.
fn uncertain_185(as_of: &str) -> Vec<StateStatusEntry> {
    let status = ds().treaty_status(ETS185, day(as_of)).unwrap();
    status.groups.into_iter().flat_map(|g| g.states).filter(|e| e.uncertain).collect()
}

/// A name as the Markdown shows it (quotation marks are not escaped) and as the HTML does.
fn html_name(name: &str) -> String {
    name.replace('"', "&quot;")
}

#[test]
fn at_the_reports_date_the_convention_is_within_its_record() {
    let r = report("2007-11-30");
    let (md, html, json) = formats(&r);
    // ETS 185 is complete through 2007-11-30: nothing about it past the record, nothing uncertain.
    assert!(uncertain_185("2007-11-30").is_empty());
    let past: Vec<&str> =
        json["past_record"].as_array().unwrap().iter().map(|p| p["treaty"].as_str().unwrap()).collect();
    // The Protocol's record is complete for its consents only: a signature may be missing from it.
    let protocol = ds().treaty_status(TreatyNumber(189), day("2007-11-30")).unwrap();
    assert!(protocol.past_record);
    assert_eq!(past, ["ETS 189"], "only the Protocol");
    assert!(!md.contains("The record of ETS 185 is complete through"), "{md}");
    assert!(json["treaties"][0]["columns"].as_array().unwrap().iter().all(|c| c["uncertain"] == serde_json::json!([])));
    // The Protocol's banner, in every format, near the top: the model's own words.
    let note = reporting::words::days_in_words(&protocol.record_note.unwrap());
    for (format, text) in [("markdown", &md), ("html", &html)] {
        let at = text.find(&note).unwrap_or_else(|| panic!("{format}: {note}\n{text}"));
        assert!(at < text.find("1 Background").unwrap(), "{format}: before the report's first section");
    }
    assert_eq!(json["past_record"][0]["note"], note.as_str());
    assert_eq!(
        json["past_record"][0]["complete_through"],
        protocol.complete_through.map_or(serde_json::Value::Null, |d| d.to_string().into())
    );
    let unknown: Vec<&str> =
        protocol.groups.iter().flat_map(|g| &g.states).filter(|e| e.uncertain).map(|e| e.name.as_str()).collect();
    assert_eq!(json["past_record"][0]["unknown"].as_array().unwrap().len(), unknown.len());
}

#[test]
fn past_the_record_every_format_says_where_it_ends_and_whose_status_is_unknown() {
    let as_of = "2026-12-01";
    let unknown = uncertain_185(as_of);
    // Every state of the 2007 table that was no party then and whose consent the record does not hold by now (the
    // sources carry many to the present, not all): what it did since may be in no source.
    let now = ds().treaty_status(ETS185, day(as_of)).unwrap();
    let parties_now: Vec<_> = now
        .groups
        .iter()
        .flat_map(|g| &g.states)
        .filter(|e| e.status == core_model::StateStatus::Party && !e.uncertain)
        .map(|e| e.state.clone())
        .collect();
    let then = ds().treaty_status(ETS185, day("2007-11-30")).unwrap();
    let expected: Vec<_> = then
        .groups
        .iter()
        .flat_map(|g| &g.states)
        .filter(|e| e.status != core_model::StateStatus::Party && !parties_now.contains(&e.state))
        .map(|e| e.state.clone())
        .collect();
    assert!(expected.len() >= 10, "{expected:?}");
    for state in &expected {
        assert!(unknown.iter().any(|e| &e.state == state), "{state:?} is not among the unknown: {unknown:#?}");
    }
    let r = report(as_of);
    let (md, html, json) = formats(&r);

    let banner_md = &md[..md.find("## 1 Background").unwrap()];
    assert!(banner_md.contains("**What the record cannot know at this report's date (1 Dec 2026):**"), "{banner_md}");
    assert!(banner_md.contains("The record of ETS 185 is complete through 30 Nov 2007 (report-2007-11 §3.1)"));
    assert!(banner_md.contains(&format!("The status of these {} states at 1 Dec 2026 is unknown: ", unknown.len())));
    let banner_html = &html[..html.find("<h2 id=\"s1\">1 Background</h2>").unwrap()];
    assert!(banner_html.contains("The record of ETS 185 is complete through 30 Nov 2007 (report-2007-11 §3.1)"));
    assert!(banner_html.contains(&format!("The status of these {} states at 1 Dec 2026 is unknown: ", unknown.len())));
    let ets185 = &json["past_record"][0];
    assert_eq!((ets185["treaty"].as_str(), ets185["complete_through"].as_str()), (Some("ETS 185"), Some("2007-11-30")));
    let listed: Vec<&str> = ets185["unknown"].as_array().unwrap().iter().map(|n| n.as_str().unwrap()).collect();
    assert_eq!(listed.len(), unknown.len());
    for e in &unknown {
        assert!(listed.contains(&e.name.as_str()), "JSON lists {}", e.name);
        let line_md = banner_md.lines().find(|l| l.contains("(ETS 185): The record")).unwrap();
        assert!(line_md.contains(&e.name), "Markdown lists {}", e.name);
        assert!(banner_html.contains(&html_name(&e.name)), "HTML lists {}", e.name);
    }
    // No party is among them: a party stays one.
    let parties: Vec<String> = ds()
        .treaty_status(ETS185, day(as_of))
        .unwrap()
        .group(core_model::StateStatus::Party)
        .iter()
        .map(|e| e.name.clone())
        .collect();
    assert!(parties.iter().all(|p| !listed.contains(&p.as_str())));
    assert!(parties.contains(&"Slovakia".to_owned()), "Slovakia's deposit of 2008-01-08 is recorded and used");

    // The years that run past the record are said to.
    assert!(md.contains(
        "From 2007 on, the years run past the day the record of ETS 185 is complete through (30 Nov 2007): the \
         higher figure of a year counts every state that may have ratified without a source here showing it."
    ));
}

#[test]
fn uncertain_states_are_shown_apart_with_why_in_words() {
    // Past the record (2026) and within it (2004-06-30, where bounded dates straddle the date asked).
    for as_of in ["2026-12-01", "2004-06-30"] {
        let uncertain = uncertain_185(as_of);
        assert!(!uncertain.is_empty(), "{as_of}");
        let r = report(as_of);
        let (md, html, json) = formats(&r);
        let table = &md[md.find("#### Status of signatures and ratifications of the Convention").unwrap()..];
        let table = &table[..table.find("#### Ratifications of the Protocol").unwrap()];
        for e in &uncertain {
            let possibly = e.possibly.expect("an uncertain state has a furthest status it may have reached");
            // The model's reason, its days written as the report writes days.
            let reason = &reporting::words::days_in_words(e.reason.as_deref().expect("and a reason"));
            let reason = reason.as_str();
            // In Markdown: under "Uncertain, shown apart", on a line naming it, with the reason in words.
            let line = table
                .lines()
                .find(|l| l.starts_with("- ") && l.contains(&e.name) && l.contains(" — "))
                .unwrap_or_else(|| panic!("{as_of}: no line for {}:\n{table}", e.name));
            assert!(line.ends_with(reason), "{as_of}: {line}");
            assert!(line.contains(": may be "), "{as_of}: {line}");
            assert!(!table.contains(&format!("- {}\n", e.name)), "{as_of}: {} is not listed as certain", e.name);
            assert!(html.contains(&html_name(reason).replace('\'', "&#x27;")) || html.contains(reason), "{as_of}");
            // In JSON: not among the column's certain states; in a group with its reason.
            let columns = json["treaties"][0]["columns"].as_array().unwrap();
            let column = columns.iter().find(|c| c["label"] == label(e.status)).unwrap();
            assert!(!column["states"].as_array().unwrap().iter().any(|s| s == e.name.as_str()));
            assert!(
                column["uncertain"].as_array().unwrap().iter().any(|g| g["reason"] == reason
                    && g["states"].as_array().unwrap().iter().any(|s| s == e.name.as_str())
                    && g["possibly"] == words(possibly)),
                "{as_of}: {}",
                e.name
            );
        }
        // A column's heading gives its certain and uncertain counts apart, never one count for both.
        let status = ds().treaty_status(ETS185, day(as_of)).unwrap();
        for g in status.groups.iter().filter(|g| g.uncertain() > 0) {
            let heading = format!("**{} ({} certain, {} uncertain)**", label(g.status), g.certain(), g.uncertain());
            assert!(table.contains(&heading), "{as_of}: {heading}\n{table}");
        }
    }
    // The example: Costa Rica and Mexico at 2004-06-30 are uncertain, may be invited, and say why.
    let md = render_progress(&report("2004-06-30"), Format::Markdown).unwrap().body;
    assert!(md.contains(
        "- Costa Rica, Mexico: may be invited to accede — invited to accede on or before 30 Nov 2007; the day is in no \
         source"
    ));
}

fn label(s: core_model::StateStatus) -> &'static str {
    match s {
        core_model::StateStatus::NotSigned => "Not signed",
        s => s.label(),
    }
}

fn words(s: core_model::StateStatus) -> &'static str {
    match s {
        core_model::StateStatus::Party => "a party",
        core_model::StateStatus::Signatory => "a signatory",
        core_model::StateStatus::NotSigned => "not a signatory",
        core_model::StateStatus::InvitedToAccede => "invited to accede",
        core_model::StateStatus::AccessionRequested => "asking to accede",
    }
}

#[test]
fn a_country_brief_past_the_record() {
    let as_of = day("2026-12-01");
    // A signatory of 2007 whose ratification no source here gives: its status now is unknown, and the brief says
    // so at the top and under the treaty.
    let at = CountryBrief::build(ds(), "IE", as_of).unwrap();
    let md = render_brief(&at, Format::Markdown).unwrap().body;
    let top = &md[..md.find("## Treaties").unwrap()];
    assert!(top.contains("**What the record cannot know at this brief's date (1 Dec 2026):**"), "{md}");
    assert!(top.contains(
        "- Convention on Cybercrime (ETS 185): The record of ETS 185 is complete through 30 Nov 2007 (report-2007-11 \
         §3.1); 1 Dec 2026 is after it, so a step taken since may be in no source here. The status of Ireland at 1 \
         Dec 2026 is unknown."
    ));
    let entry =
        ds().state_status(ds().treaty(ETS185).unwrap(), ds().state(&"IE".parse().unwrap()).unwrap(), as_of).unwrap();
    assert!(md.contains(&format!(
        "### Convention on Cybercrime (ETS 185): Signed (uncertain)\n\n- Uncertain: may be a party — {}\n",
        reporting::words::days_in_words(&entry.reason.unwrap())
    )));
    let html = render_brief(&at, Format::Html).unwrap().body;
    assert!(html.contains("The record of ETS 185 is complete through 30 Nov 2007"));
    assert!(html.contains("The status of Ireland at 1 Dec 2026 is unknown."));
    assert!(html.contains("<li class=\"uncertain\">Uncertain: may be a party — "));
    let json: serde_json::Value = serde_json::from_str(&render_brief(&at, Format::Json).unwrap().body).unwrap();
    assert_eq!(json["past_record"][0]["complete_through"], "2007-11-30");
    assert_eq!(json["past_record"][0]["unknown"], serde_json::json!(["Ireland"]));
    assert_eq!(
        (json["treaties"][0]["uncertain"].as_bool(), json["treaties"][0]["possibly"].as_str()),
        (Some(true), Some("a party"))
    );

    // A party stays one: the brief says the record ends, and that its status does not depend on it.
    let ua = CountryBrief::build(ds(), "UA", as_of).unwrap();
    let md = render_brief(&ua, Format::Markdown).unwrap().body;
    assert!(md.contains("### Convention on Cybercrime (ETS 185): Ratified\n"), "{md}");
    let line = md.lines().find(|l| l.starts_with("- Convention on Cybercrime (ETS 185): ")).unwrap();
    assert!(
        line.contains("complete through 30 Nov 2007") && line.ends_with("No status in this brief depends on it."),
        "{line}"
    );

    // Within the record, a brief of ETS 185 says nothing of it.
    let md = render_brief(&CountryBrief::build(ds(), "AT", day("2007-11-30")).unwrap(), Format::Markdown).unwrap().body;
    assert!(!md.contains("ETS 185 is complete through"), "{md}");
    assert!(md.contains("### Convention on Cybercrime (ETS 185): Signed\n"), "{md}");
}
