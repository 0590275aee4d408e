//! A document built while the store holds records it cannot read names them near its top, in every format, with
//! Markdown kept inert; with none it is exactly the document it was.

use core_model::Dataset;
use reporting::{CountryBrief, Format, MAX_UNREADABLE_NAMED, Period, ProgressReport, render_brief, render_progress};

fn day(s: &str) -> chrono::NaiveDate {
    s.parse().unwrap()
}

fn report() -> ProgressReport {
    ProgressReport::build(
        &Dataset::bundled(),
        day("2007-11-30"),
        Period::new(day("2006-09-01"), day("2007-11-30")).unwrap(),
    )
    .unwrap()
}

fn brief() -> CountryBrief {
    CountryBrief::build(&Dataset::bundled(), "PH", day("2007-11-30")).unwrap()
}

fn two() -> Vec<(String, String)> {
    vec![
        ("activities/bad_one".to_owned(), "expected value at line 1 column 1".to_owned()),
        (
            "records/study/legislation".to_owned(),
            "unknown variant `<b>x</b>\n## Forged [link](javascript:1)`".to_owned(),
        ),
    ]
}

fn all_formats(progress: &ProgressReport, brief: &CountryBrief) -> Vec<(&'static str, Format, String)> {
    let mut out = Vec::new();
    for format in [Format::Markdown, Format::Html, Format::Json] {
        out.push(("progress", format, render_progress(progress, format).unwrap().body));
        out.push(("brief", format, render_brief(brief, format).unwrap().body));
    }
    out
}

#[test]
fn with_none_the_documents_are_unchanged() {
    let (plain_report, plain_brief) = (report(), brief());
    let (report, brief) = (plain_report.clone().with_unreadable([]), plain_brief.clone().with_unreadable([]));
    for ((name, format, plain), (_, _, with)) in
        all_formats(&plain_report, &plain_brief).into_iter().zip(all_formats(&report, &brief))
    {
        assert_eq!(plain, with, "{name} {format:?}");
        assert!(!with.contains("could not be read"), "{name} {format:?}");
        assert!(!with.contains("\"unreadable"), "{name} {format:?}: no JSON field, no HTML notice");
    }
    // Not a line more at the top either: the subtitle, then what the record covers (ETS 189's record is complete
    // through no date, `past_record.rs`), then the first section.
    let md = render_progress(&report, Format::Markdown).unwrap().body;
    assert!(
        md.contains(
            "the first and the last day it can be.\n\n**What the record cannot know at this report's date (30 Nov \
             2007):**"
        ),
        "{md}"
    );
    let md = render_brief(&brief, Format::Markdown).unwrap().body;
    let at = md.find("\n\n## Treaties\n").expect("the treaties");
    // With none unreadable, only the footnote on bounds stands between the date line and the treaties.
    let top = md[..at].strip_suffix(reporting::words::BOUND_FOOTNOTE).expect("the footnote last");
    assert!(top.trim_end().rsplit('\n').next().unwrap().starts_with("As at 30 Nov 2007"), "{md}");
    let html = render_progress(&report, Format::Html).unwrap().body;
    assert!(html.contains("last day it can be.</p></div>\n\n<div class=\"past-record\">"), "{html}");
}

#[test]
fn every_format_names_the_unreadable_records_near_the_top() {
    let (report, brief) = (report().with_unreadable(two()), brief().with_unreadable(two()));
    for (name, format, text) in all_formats(&report, &brief) {
        match format {
            Format::Json => {
                let json: serde_json::Value = serde_json::from_str(&text).unwrap();
                assert_eq!(json["unreadable_count"], 2, "{name}");
                assert_eq!(json["unreadable"][0]["name"], "activities/bad_one", "{name}");
                assert_eq!(json["unreadable"][0]["reason"], "expected value at line 1 column 1", "{name}");
                assert_eq!(json["unreadable"][1]["name"], "records/study/legislation", "{name}");
                assert_eq!(json["unreadable"][1]["reason"], two()[1].1, "{name}");
                // Near the top of the JSON too.
                assert!(text.find("\"unreadable\"").unwrap() < text.find("\"treaties\"").unwrap(), "{name}");
            }
            Format::Markdown => {
                let what = if name == "progress" { "report" } else { "brief" };
                let notice = format!("**2 stored records could not be read and are left out of this {what}:**");
                let at = text.find(&notice).unwrap_or_else(|| panic!("{name}: the notice\n{text}"));
                // Before the first section.
                assert!(at < text.find("\n## ").unwrap(), "{name}\n{text}");
                assert!(text.contains("\n- activities/bad\\_one (expected value at line 1 column 1)\n"), "{text}");
                assert!(
                    text.contains(
                        "\n- records/study/legislation (unknown variant \\`\\<b\\>x\\</b\\> \\#\\# Forged \
                         \\[link\\](javascript:1)\\`)\n"
                    ),
                    "{name}: the reason escaped, on one line\n{text}"
                );
                assert!(!text.lines().any(|l| l.trim_start().starts_with("## Forged")), "{text}");
            }
            Format::Html => {
                let at = text.find("<div class=\"unreadable\">").unwrap_or_else(|| panic!("{name}\n{text}"));
                assert!(at < text.find("<h2>").unwrap(), "{name}");
                assert!(text.contains("2 stored records could not be read and are left out of this"), "{name}");
                assert!(text.contains("<li><code>activities&#x2f;bad_one</code> (expected value at line 1 column 1)"));
                assert!(text.contains("&lt;b&gt;x&lt;&#x2f;b&gt;") && !text.contains("<b>x"), "{name}: escaped");
            }
        }
    }
}

#[test]
fn one_record_is_named_in_the_singular() {
    let report = report().with_unreadable([("activities/x".to_owned(), "bad".to_owned())]);
    let md = render_progress(&report, Format::Markdown).unwrap().body;
    assert!(md.contains("**1 stored record could not be read and is left out of this report:**\n\n- activities/x (bad)\n\n**What the record cannot know"), "{md}");
}

#[test]
fn a_long_list_is_cut_and_counted_and_long_reasons_are_cut() {
    let many: Vec<(String, String)> =
        (0..MAX_UNREADABLE_NAMED + 5).map(|i| (format!("activities/a{i:03}"), "r".repeat(1000))).collect();
    let report = report().with_unreadable(many);
    assert_eq!(report.unreadable.len(), MAX_UNREADABLE_NAMED);
    assert_eq!(report.unreadable_count, MAX_UNREADABLE_NAMED + 5);
    assert!(report.unreadable.iter().all(|u| u.reason.chars().count() == 201 && u.reason.ends_with('…')));
    let md = render_progress(&report, Format::Markdown).unwrap().body;
    assert!(md.contains(&format!("**{} stored records could not be read", MAX_UNREADABLE_NAMED + 5)), "{md}");
    assert!(md.contains(&format!("- activities/a{:03} (", MAX_UNREADABLE_NAMED - 1)));
    assert!(!md.contains(&format!("- activities/a{:03} (", MAX_UNREADABLE_NAMED)));
    assert!(md.contains("- and 5 more (cybercrime check --store names them all)\n"), "{md}");
    let html = render_progress(&report, Format::Html).unwrap().body;
    assert!(html.contains("<li>and 5 more (<code>cybercrime check --store</code> names them all)</li>"));
}
