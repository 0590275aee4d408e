//! The progress report generated for the seed's own period (1 September 2006 to 30 November 2007), held section by
//! section against the report it is built from: `tests/data/progress-report-2007-11-30.txt`, a verbatim copy of
//! `shared/seed/progress-report-2007-11-30.txt`. Each test reads that text and takes its names, counts and dates
//! from it; the generated report must give them back, in the same sections and order.

use chrono::{Datelike, NaiveDate};
use core_model::Dataset;
use reporting::{Format, Period, ProgressReport, render_progress};

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn seed() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/progress-report-2007-11-30.txt"))
        .expect("the seed report")
}

/// The seed's text from the line that is exactly `from` to the line that is exactly `to` (the table of contents,
/// whose lines carry page numbers, is never matched).
fn seed_section(seed: &str, from: &str, to: &str) -> String {
    let lines: Vec<&str> = seed.lines().collect();
    let start = lines.iter().position(|l| l.trim() == from).unwrap_or_else(|| panic!("seed: no `{from}`"));
    let end = lines[start + 1..].iter().position(|l| l.trim() == to).unwrap_or_else(|| panic!("seed: no `{to}`"));
    lines[start + 1..start + 1 + end].join("\n")
}

fn report_2007() -> ProgressReport {
    ProgressReport::build_on(
        &Dataset::bundled(),
        day("2007-11-30"),
        Period::new(day("2006-09-01"), day("2007-11-30")).unwrap(),
        day("2026-12-04"),
    )
    .unwrap()
}

fn markdown(r: &ProgressReport) -> String {
    render_progress(r, Format::Markdown).unwrap().body
}

/// The generated Markdown from the heading line `from` to the next heading of the same or a higher level.
fn md_section<'a>(md: &'a str, from: &str) -> &'a str {
    let start = md.find(&format!("\n{from}\n")).unwrap_or_else(|| panic!("no heading `{from}` in\n{md}")) + 1;
    let level = from.chars().take_while(|&c| c == '#').count();
    let rest = &md[start + from.len()..];
    let end = rest
        .match_indices("\n#")
        .find(|(i, _)| rest[i + 1..].chars().take_while(|&c| c == '#').count() <= level)
        .map_or(rest.len(), |(i, _)| i);
    &md[start..start + from.len() + end]
}

/// Whitespace collapsed, a word broken at a line's end ("re- enforced") joined, Markdown's escapes dropped.
fn norm(s: &str) -> String {
    let s = s.replace('\\', "");
    let s: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    s.replace("re- enforced", "re-enforced")
}

const MONTHS: [(&str, u32); 21] = [
    ("January", 1),
    ("February", 2),
    ("March", 3),
    ("April", 4),
    ("June", 6),
    ("July", 7),
    ("August", 8),
    ("September", 9),
    ("Sept", 9),
    ("October", 10),
    ("November", 11),
    ("December", 12),
    ("Jan", 1),
    ("Feb", 2),
    ("Mar", 3),
    ("Apr", 4),
    ("May", 5),
    ("Aug", 8),
    ("Sep", 9),
    ("Oct", 10),
    ("Nov", 11),
];

fn month_of(word: &str) -> Option<u32> {
    let w = word.trim_matches(|c: char| !c.is_alphabetic());
    MONTHS.iter().find(|(name, _)| *name == w).map(|(_, m)| *m).or(match w {
        "Dec" => Some(12),
        "Jun" => Some(6),
        "Jul" => Some(7),
        _ => None,
    })
}

/// A date cell of the seed's list ("27 Feb – 2 Mar 2007", "May 2007", "30 Nov-2 Dec"), as its first and last day;
/// a cell without a year is of `year`.
fn seed_dates(cell: &str, year: i32) -> (NaiveDate, NaiveDate) {
    let words: Vec<&str> =
        cell.split(|c: char| c.is_whitespace() || c == '-' || c == '–').filter(|w| !w.is_empty()).collect();
    let y = words.iter().filter_map(|w| w.parse::<i32>().ok()).find(|n| *n > 1900).unwrap_or(year);
    let days: Vec<u32> = words.iter().filter_map(|w| w.parse::<u32>().ok()).filter(|n| *n < 32).collect();
    let months: Vec<u32> = words.iter().filter_map(|w| month_of(w)).collect();
    let (m1, m2) = (months[0], *months.last().unwrap());
    let first = NaiveDate::from_ymd_opt(y, m1, days.first().copied().unwrap_or(1)).unwrap();
    let last = match days.last() {
        Some(d) => NaiveDate::from_ymd_opt(y, m2, *d).unwrap(),
        None => core_model::last_day_of_month(y, m2).unwrap(),
    };
    (first, last)
}

/// The rows of the seed's list of activities (§2.1) done (✓): date cell, place, description.
fn seed_done_rows(seed: &str) -> Vec<(String, String, String)> {
    let list = seed_section(seed, "2.1 List of activities", "2.2 Cooperation with countries and regions");
    list.lines()
        .filter_map(|l| {
            let at = l.find(['✓', '√'])?;
            let date = l[..at].trim().to_owned();
            let mut cells = l[at..].split('\t').skip(1).map(str::trim);
            let place = cells.next().unwrap_or("").trim_end_matches(',').to_owned();
            let description = cells.next().unwrap_or("").to_owned();
            Some((date, place, description))
        })
        .collect()
}

#[test]
fn the_header_contents_and_sections_in_the_reports_order() {
    let seed = seed();
    let r = report_2007();
    let md = markdown(&r);
    assert!(
        md.contains("Status as at 30 Nov 2007. Period reported on: 1 Sep 2006 – 30 Nov 2007. Generated on 4 Dec 2026.")
    );
    assert!(md.contains("- Convention on Cybercrime (ETS 185): the record of signatures and ratifications is complete through 30 Nov 2007"));
    assert!(md.contains("- Activities: the record holds 50 done, from 31 Aug 2006 to 2 Dec 2007"), "{md}");
    assert_eq!(md.matches("† Known only within these bounds").count(), 1, "the footnote on bounds, once");
    // The seed's contents, in its order: "1 Ba\tBackground", "2.1\tList of activities"...; the generated headings
    // follow them, then the sources.
    let contents = &seed[seed.find("Contents").unwrap()..seed.find("Contact").unwrap()];
    let seed_numbers: Vec<String> = contents
        .lines()
        .filter_map(|l| {
            let first = l.split(['\t', ' ']).next()?;
            first.chars().next()?.is_ascii_digit().then(|| first.to_owned())
        })
        .collect();
    assert_eq!(
        seed_numbers,
        ["1", "2", "2.1", "2.2", "2.3", "2.4", "3", "3.1", "3.2", "3.3", "4", "4.1", "4.2", "4.3"]
    );
    let numbers: Vec<&str> = r.contents.iter().map(|h| h.number.as_str()).collect();
    assert_eq!(numbers[..numbers.len() - 1], seed_numbers.iter().map(String::as_str).collect::<Vec<_>>()[..]);
    assert_eq!(numbers.last(), Some(&"5"));
    // Each subsection's title is the seed's (4.3 is about donors: the seed's is its one donor, Microsoft).
    for h in r.contents.iter().filter(|h| h.number != "4.3" && h.level == 2) {
        let line = contents.lines().find(|l| l.starts_with(&format!("{}\t", h.number))).unwrap();
        let title = norm(line.split('\t').nth(1).unwrap());
        assert_eq!(norm(&h.title), title, "{}", h.number);
    }
    // Every heading appears, in order, and the contents link to each.
    let mut at = 0;
    for h in &r.contents {
        let heading = format!("{} {} {}\n", if h.level == 1 { "##" } else { "###" }, h.number, h.title);
        let found = md[at..].find(&heading).unwrap_or_else(|| panic!("{heading} after {at}"));
        at += found;
        assert!(md.contains(&format!("](#{})", h.md_anchor)));
    }
    let html = render_progress(&r, Format::Html).unwrap().body;
    for h in &r.contents {
        assert!(html.contains(&format!("<a href=\"#{}\">", h.anchor)), "{}", h.anchor);
        assert!(html.contains(&format!(" id=\"{}\">{} ", h.anchor, h.number)), "{}", h.anchor);
    }
}

#[test]
fn section_1_background() {
    let seed = seed();
    let background = norm(&seed_section(&seed, "1 Background", "2 Activities"));
    let md = markdown(&report_2007());
    let ours = norm(md_section(&md, "## 1 Background"));
    let objective = background.split("Project objective: ").nth(1).unwrap().split(" Output 1:").next().unwrap();
    assert!(ours.contains(&format!("Project objective: {objective}")), "{ours}");
    for n in 1..=3 {
        let text = background.split(&format!("Output {n}: ")).nth(1).unwrap();
        let text = text.split(" Output ").next().unwrap().split(" Although").next().unwrap();
        assert!(ours.contains(text), "Output {n}: {text}");
    }
    // Euro 1.7 million, Euro 270,000 (US$ 350,000), Euro 360,000.
    assert!(background.contains("Euro 1.7 million") && ours.contains("EUR 1,700,000"));
    for amount in ["270,000", "350,000", "360,000"] {
        assert!(background.contains(amount) && ours.contains(amount), "{amount}");
    }
}

#[test]
fn section_2_1_the_list_of_activities() {
    let seed = seed();
    let rows = seed_done_rows(&seed);
    assert_eq!(rows.len(), 46, "{rows:#?}");
    let ds = Dataset::bundled();
    let r = report_2007();
    for (date, place, description) in &rows {
        let prefix = norm(description);
        let place_word = place.split([' ', ',', '/', '(']).next().unwrap();
        let line = r
            .activities
            .iter()
            .find(|a| norm(&a.description).starts_with(&prefix) && a.place.contains(place_word))
            .unwrap_or_else(|| panic!("§2.1 {date} {place} {description}: not listed"));
        // The dates the report gives lie within the dates the data keeps (which widen where its sections
        // disagree), and the row writes them the one way.
        let a = ds.activities.iter().find(|a| a.id == line.id).unwrap();
        let (first, last) = seed_dates(date, 2007);
        let (earliest, latest) = (a.start.unwrap().earliest().unwrap(), a.end_or_start().unwrap().latest().unwrap());
        assert!(earliest <= first && last <= latest, "{date}: {earliest}..{latest}");
        let written = reporting::words::span(a.start, a.end);
        assert!(line.date.ends_with(&written), "{}: {written}", line.date);
        assert!(line.date.contains(&last.year().to_string()));
    }
    // The cell the seed prints without a year is shown as printed, marked, with the correction beside it.
    let md = markdown(&r);
    assert!(md.contains("| 30 Nov-2 Dec \\[sic\\]: 30 Nov – 2 Dec 2007 | Courmayeur (Italy) |"), "{md}");
    // And the activities the seed tells only in its narrative (§2.2.11, §2.2.12): 46 + 4.
    assert_eq!(r.activities.len(), 50);
}

/// The subsections of §2.2, by the heading the generated report puts their activities under.
const SECTION_2_2: [(&str, &str); 15] = [
    ("Arab region", "Arab region"),
    ("Argentina", "Argentina"),
    ("Brazil", "Brazil"),
    ("Colombia", "Colombia"),
    ("Egypt", "Egypt"),
    ("India", "India"),
    ("Indonesia", "Indonesia"),
    ("Nigeria", "Nigeria"),
    ("Philippines", "Philippines"),
    ("Romania", "Romania"),
    ("Russian Federation", "Russian Federation"),
    ("Serbia", "Serbia"),
    ("South Africa", "South Africa"),
    // The Belgrade conference served 16 countries of Europe, the Kyiv conference nine: more than three, so both
    // are under their region.
    ("South-eastern Europe", "Europe"),
    ("Ukraine", "Europe"),
];

#[test]
fn section_2_2_cooperation_with_countries_by_the_countries_served() {
    let seed = seed();
    let text =
        seed_section(&seed, "2.2 Cooperation with countries and regions", "2.3 Cooperation with other organisations");
    let headings: Vec<String> = text
        .lines()
        .filter(|l| l.starts_with("2.2."))
        .map(|l| l.split_once(' ').unwrap().1.replace("**", "").trim().to_owned())
        .collect();
    assert_eq!(headings, SECTION_2_2.iter().map(|(s, _)| *s).collect::<Vec<_>>());
    let md = markdown(&report_2007());
    let ours = md_section(&md, "### 2.2 Cooperation with countries and regions");
    let mut checked = 0;
    for (i, (seed_heading, heading)) in SECTION_2_2.iter().enumerate() {
        let body = md_section(ours, &format!("#### {heading}"));
        // Each multi-day date the seed's subsection gives ("15-16 November 2007") is under its heading, written
        // the one way ("15–16 Nov 2007").
        let sub = text.split("\n2.2.").nth(i + 1).unwrap();
        let words: Vec<&str> = sub.split_whitespace().collect();
        for w in words.windows(2).enumerate() {
            let (j, pair) = w;
            let Some(m) = month_of(pair[1]) else { continue };
            let Some(y) =
                words.get(j + 2).and_then(|y| y.trim_matches(|c: char| !c.is_ascii_digit()).parse::<i32>().ok())
            else {
                continue;
            };
            let days: Vec<u32> = pair[0].split(['-', '–']).filter_map(|d| d.parse().ok()).collect();
            if days.len() != 2 || !(2000..2010).contains(&y) {
                continue;
            }
            let written = format!(
                "{}–{} {} {y}",
                days[0],
                days[1],
                &["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][m as usize - 1]
            );
            assert!(body.contains(&written), "§2.2 {seed_heading}: {written} not under {heading}:\n{body}");
            checked += 1;
        }
    }
    // Argentina, Colombia, Egypt, the Philippines, Romania (two).
    assert!(checked >= 6, "{checked}");
    // Attributed to the countries served, never to the venue's.
    for venue_only in ["France", "Belgium", "Switzerland", "Netherlands", "Italy", "Portugal", "Thailand"] {
        assert!(!ours.contains(&format!("#### {venue_only}\n")), "{venue_only}:\n{ours}");
    }
    let pakistan = md_section(ours, "#### Pakistan");
    assert!(
        pakistan.contains("Feb 2007, Strasbourg: Analysis of the draft law on cybercrime of Pakistan"),
        "{pakistan}"
    );
    let philippines = md_section(ours, "#### Philippines");
    assert!(
        philippines.contains("May – Jun 2007†, Strasbourg: Analysis of the draft law on cybercrime of the Philippines")
    );
    assert!(philippines.contains("25–26 Oct 2007, Makati City (Philippines): Legislators and Experts Workshop"));
    // Nigeria (§2.2.8): the analysis initiated at the end of November 2007, under way.
    assert!(
        md_section(ours, "#### Nigeria")
            .contains("(Nov 2007): Analysis of the draft law, initiated at the end of November 2007 — under way")
    );
    // eBay is not a country: the meeting served none, so it is in the list (§2.1) only.
    assert!(!ours.contains("Meeting with eBay"));
    assert!(md_section(ours, "#### Several countries").contains("Octopus Interface Conference"));
}

#[test]
fn section_2_3_cooperation_with_organisations() {
    let seed = seed();
    let text = seed_section(&seed, "2.3 Cooperation with other organisations", "2.4 Studies");
    let titles: Vec<String> =
        text.lines().filter(|l| l.starts_with("2.3.")).map(|l| norm(l.split_once(' ').unwrap().1)).collect();
    assert_eq!(titles.len(), 13);
    let md = markdown(&report_2007());
    let ours = md_section(&md, "### 2.3 Cooperation with other organisations");
    let generated: Vec<String> = ours.lines().filter_map(|l| l.strip_prefix("#### ")).map(norm).collect();
    assert_eq!(generated, titles);
    // Each with its dates: the Octopus conference of 11-12 June 2007, the IGF of 12-16 November 2007.
    assert!(
        md_section(
            ours,
            "#### Global: Octopus Interface conference on \"Cooperation against Cybercrime\" (Strasbourg, June 2007)"
        )
        .contains("\n11–12 Jun 2007 — ")
    );
    assert!(
        md_section(ours, "#### Internet Governance Forum").contains("\n12–16 Nov 2007 — Internet Governance Forum")
    );
}

#[test]
fn section_2_4_the_five_studies() {
    let seed = seed();
    let text = norm(&seed_section(&seed, "2.4 Studies", "3 Results"));
    let md = markdown(&report_2007());
    let ours = norm(md_section(&md, "### 2.4 Studies"));
    assert!(text.contains("In October 2007, five studies were launched"));
    assert!(text.contains("in the first week of April 2008"));
    for n in 1..=5 {
        let after = text.split(&format!("{n}. ")).nth(1).unwrap();
        let title = after.split(" (\"").next().unwrap();
        let question = after.split("(\"").nth(1).unwrap().split("\")").next().unwrap();
        assert!(ours.contains(&format!("{n}. {title} (\"{question}\"): ")), "study {n}: {title} / {question}\n{ours}");
    }
    assert_eq!(ours.matches("launched Oct 2007, due 1–7 Apr 2008†").count(), 5);
}

#[test]
fn section_3_1_output_1_with_the_advice_and_the_treaty_tables() {
    let seed = seed();
    let text = norm(&seed_section(&seed, "3.1 Output 1: Legislation", "3.2 Output 2: Criminal justice capacities"));
    let r = report_2007();
    let md = markdown(&r);
    let ours = md_section(&md, "### 3.1 Output 1: Legislation");
    // The nine countries advised, each with the months the seed gives.
    let list = text.split("Specific advice on draft laws was provided to: ").nth(1).unwrap();
    let list = list.split(" Cooperation with Morocco").next().unwrap();
    let advised: Vec<&str> = list.split("- ").filter(|s| !s.is_empty()).collect();
    assert_eq!(advised.len(), 9);
    for item in advised {
        let country = item.split(" (").next().unwrap();
        let line = ours
            .lines()
            .find(|l| l.starts_with(&format!("- {country}: ")))
            .unwrap_or_else(|| panic!("{country} advised"));
        let words: Vec<&str> = item.split_whitespace().collect();
        for pair in words.windows(2) {
            if let (Some(m), Ok(y)) =
                (month_of(pair[0]), pair[1].trim_matches(|c: char| !c.is_ascii_digit()).parse::<i32>())
            {
                let short = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
                    [m as usize - 1];
                assert!(line.contains(&format!("{short} {y}")), "{country}: {short} {y} in {line}");
            }
        }
    }
    // The indicator: 10 European and 5 non-European countries.
    assert!(text.contains("at least 10 European and 5 non-European countries"));
    assert!(ours.contains("- European countries: 1 of the target of 10 (Serbia)"));
    assert!(ours.contains("- non-European countries: 8 of the target of 5"));
    // Ratifications per year, as the seed's table.
    let row = |label: &str| -> Vec<String> {
        let line = seed.lines().find(|l| l.starts_with(label)).unwrap();
        line.split('\t').skip(1).map(|c| c.replace(' ', "")).filter(|c| !c.is_empty()).collect()
    };
    let years: Vec<String> = seed
        .lines()
        .find(|l| l.trim_start().starts_with("2002\t"))
        .unwrap()
        .split('\t')
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .collect();
    assert!(ours.contains(&format!("| Year | {} |\n", years.join(" | "))), "{ours}");
    assert!(ours.contains(&format!("| Add. ratif. | {} |\n", row("Add. ratif.").join(" | "))));
    assert!(ours.contains(&format!("| Total | {} |\n", row("Total").join(" | "))));
    // The status table: the seed's counts, then every state it names.
    let table = seed_section(
        &seed,
        "Status of signatures and ratifications of the Convention on Cybercrime (November 2007)",
        "3.2 Output 2: Criminal justice capacities",
    );
    let counts: Vec<usize> = table
        .lines()
        .find(|l| l.contains("Ratified ("))
        .unwrap()
        .split('(')
        .skip(1)
        .map(|c| c.split(|ch: char| !ch.is_ascii_digit()).next().unwrap().parse().unwrap())
        .collect();
    let request = table.lines().find(|l| l.contains("ccession (")).unwrap();
    let request: usize = request.split("ccession (").nth(1).unwrap()[..1].parse().unwrap();
    let ets185 = &r.treaties[0];
    let ours_counts: Vec<usize> = ets185.columns.iter().map(|c| c.count).collect();
    assert_eq!(ours_counts, [counts[0], counts[1], counts[2], counts[3], request]);
    for c in &ets185.columns {
        assert_eq!(c.count, c.states.len(), "{}: every state certain", c.label);
        for s in &c.states {
            let word = s.trim_start_matches('"').trim_start_matches("the ").split(' ').next().unwrap();
            assert!(table.contains(word), "{s} is not in the seed's table");
        }
    }
    // The Protocol: eleven parties, four added in 2007, 20 signatories as the report states.
    assert!(text.contains("four additional countries ratified this instrument in 2007 and the total number now stands at eleven, while 20 others have signed it"));
    let protocol = &r.treaties[1];
    assert_eq!((protocol.columns[0].count, protocol.columns[1].reported), (11, Some(20)));
    assert_eq!(protocol.years.last().map(|y| (y.added.as_str(), y.total.as_str())), Some(("+4", "11")));
}

#[test]
fn sections_3_2_and_3_3_with_what_served_each_output() {
    let seed = seed();
    let md = markdown(&report_2007());
    let s32 = norm(&seed_section(
        &seed,
        "3.2 Output 2: Criminal justice capacities",
        "3.3 Output 3: International cooperation",
    ));
    let ours = md_section(&md, "### 3.2 Output 2: Criminal justice capacities");
    // "A study has been launched and a working group has been created": the working group's first meeting and the
    // study; the training events for prosecutors.
    assert!(s32.contains("study has been launched and a working group has been created"));
    assert!(ours.contains("22 Oct 2007, Paris: Law enforcement–service provider study: 1st working group meeting"));
    assert!(ours.contains("Studies serving Output 2: ") && ours.contains("Study on the role of service providers"));
    assert!(ours.contains("26–27 Mar 2007, Bucharest, Romania: Training seminars for prosecutors in Romania"));
    let s33 = norm(&seed_section(&seed, "3.3 Output 3: International cooperation", "4 The way ahead"));
    let ours = md_section(&md, "### 3.3 Output 3: International cooperation");
    // "The regional conferences organised in Serbia and Ukraine, the global Octopus Conference held in Strasbourg
    // in June 2007"; the study launched in October 2007; the G8 24/7 network.
    assert!(s33.contains("regional conferences organised in Serbia and Ukraine, the global Octopus Conference held in Strasbourg in June 2007"));
    for line in [
        "19–21 Mar 2007, Belgrade, Serbia",
        "6–7 Feb 2007, Kyiv, Ukraine",
        "11–12 Jun 2007, Strasbourg: Octopus",
        "17–19 Oct 2006, Rome, Italy: 2nd Training Conference of the G8 Network of 24/7 contact points",
    ] {
        assert!(ours.contains(line), "{line}\n{ours}");
    }
    assert!(s33.contains("In October 2007, a study was launched"));
    assert!(ours.contains("Study on international cooperation"));
}

#[test]
fn section_4_the_way_ahead() {
    let seed = seed();
    let r = report_2007();
    let md = markdown(&r);
    let s41 =
        norm(&seed_section(&seed, "4.1 Priorities in 2008²", "4.2 Activities proposed (December 2007 – June 2008)"));
    let ours = md_section(&md, "### 4.1 Priorities in 2008");
    // The seed's misprint (1-2 April 2007 for the 2008 conference) shown as printed, with the correction.
    assert!(s41.contains("Strasbourg on 1-2 April 2007 which"));
    assert!(ours.contains("Strasbourg on 1-2 April 2007 \\[sic: 2008\\] which"), "{ours}");
    let s42 =
        seed_section(&seed, "4.2 Activities proposed (December 2007 – June 2008)", "4.3 Cooperation with Microsoft");
    let ours = md_section(&md, "### 4.2 Activities proposed (December 2007 – June 2008)");
    // Every row of the seed's table (24), each by the first words of its description; and the trainings of
    // §2.2.12, planned "in the coming months".
    let seed_norm = norm(&s42);
    let rows: Vec<&str> = ours.lines().filter(|l| l.starts_with("| ") && !l.starts_with("| Date")).collect();
    assert_eq!(rows.len(), 25);
    for row in rows.iter().filter(|r| !r.contains("| Serbia |")) {
        let description = norm(row.trim_end_matches(" |").rsplit(" | ").next().unwrap());
        let first: String = description.split(' ').take(3).collect::<Vec<_>>().join(" ");
        assert!(seed_norm.contains(&first), "{first}");
    }
    assert!(s42.contains("Dec 2007 – June") && s42.contains("2007\t\torganisations"));
    assert!(ours.contains("| Dec 2007 – June 2007 \\[sic\\]: Dec 2007 – Jun 2008 | Global |"));
    assert!(ours.contains("3-4 April 2007 \\[sic: 2008\\]"));
    // §4.3: Microsoft's contribution, beside the Council of Europe's.
    let s43 = norm(&seed_section(
        &seed,
        "4.3 Cooperation with Microsoft",
        "³ In addition to Microsoft, eBay, British Telecom, Telefonica and different service provider associations also participate in this working group.",
    ));
    assert!(s43.contains("voluntary contributions from Microsoft"));
    let ours = md_section(&md, "### 4.3 Cooperation with donors");
    assert!(ours.contains("- Microsoft (2006 and 2007): EUR 270,000 (USD 350,000)"), "{ours}");
}

#[test]
fn section_5_the_sources_and_one_way_of_writing_dates() {
    let r = report_2007();
    let md = markdown(&r);
    let sources = md_section(&md, "## 5 Sources");
    let body = &md[..md.find("## 5 Sources").unwrap()];
    // Every document cited in the body is listed with its full reference.
    assert!(sources.contains("- report-2007-11: Council of Europe, Economic Crime Division: Project on Cybercrime, Progress report, status as at 30 November 2007 (Strasbourg, 12 December 2007, final/public)"));
    let ids: Vec<&str> = r.sources.iter().map(|s| s.id.as_str()).collect();
    for cited in body.split(['(', ' ']).filter(|w| {
        w.starts_with("report-") || (w.starts_with('S') && w[1..].chars().all(|c| c.is_ascii_digit()) && w.len() > 1)
    }) {
        assert!(ids.contains(&cited), "{cited} is cited but not listed");
    }
    // No ISO day in the body: every date is written the one way.
    let b = body.as_bytes();
    for i in 0..b.len().saturating_sub(10) {
        let iso = b[i..i + 4].iter().all(u8::is_ascii_digit)
            && b[i + 4] == b'-'
            && b[i + 5..i + 7].iter().all(u8::is_ascii_digit)
            && b[i + 7] == b'-'
            && b[i + 8..i + 10].iter().all(u8::is_ascii_digit);
        assert!(!iso, "an ISO date: {}", &body[i.saturating_sub(60)..i + 20]);
    }
    for jargon in ["Undated (may fall in the year)", "consistent with the data", "Dated in the data"] {
        assert!(!md.contains(jargon), "{jargon}");
    }
}

#[test]
fn a_report_of_2022_to_2025_has_no_activities_and_the_treaty_status() {
    let ds = Dataset::bundled();
    let r = ProgressReport::build_on(
        &ds,
        day("2025-12-31"),
        Period::new(day("2022-01-01"), day("2025-12-31")).unwrap(),
        day("2026-12-04"),
    )
    .unwrap();
    let md = markdown(&r);
    assert!(md.contains("Status as at 31 Dec 2025. Period reported on: 1 Jan 2022 – 31 Dec 2025."));
    assert!(md.contains("This report's period begins after the last activity recorded, so it lists none."));
    assert!(md_section(&md, "### 2.1 List of activities").contains("No activity was completed in this period."));
    assert!(
        md_section(&md, "### 2.2 Cooperation with countries and regions")
            .contains("No cooperation with countries in this period.")
    );
    // No 2007 narrative: nothing of 2.3 belongs to these years.
    assert!(
        md_section(&md, "### 2.3 Cooperation with other organisations")
            .contains("No cooperation with other organisations is recorded in this period.")
    );
    assert!(!md.contains("Octopus Interface conference on"));
    assert!(md_section(&md, "### 2.4 Studies").contains("No study was under way in this period."));
    assert!(md_section(&md, "### 3.1 Output 1: Legislation").contains("- no country in this period"));
    assert!(!md.contains("Priorities in 2008"));
    assert!(
        md_section(&md, "### 4.3 Cooperation with donors")
            .contains("No contribution is recorded for the years of this period.")
    );
    // The treaty status is there: parties the record knows by 2025, more than 2007's 21, and a published count
    // beside it is said to be one, with its date, not "the report".
    let ets185 = &r.treaties[0];
    assert!(ets185.columns[0].count > 21, "{}", ets185.columns[0].count);
    assert!(md.contains(
        "#### Status of signatures and ratifications of the Convention on Cybercrime (ETS 185) as at 31 Dec 2025"
    ));
    assert!(md.contains("**Ratified ("));
    assert!(!md.contains("the report states 21"));
    assert_eq!(ets185.years.last().map(|y| y.year), Some(2025));
    assert!(md.contains("**What the record cannot know at this report's date (31 Dec 2025):**"));
    // Nothing of the 2007 plan is proposed in 2025.
    assert!(
        md_section(&md, "### 4.2 Activities proposed after 31 Dec 2025")
            .contains("No activity is proposed. The record holds plans up to 30 Jun 2008.")
    );
}

#[test]
fn a_cited_document_the_record_does_not_describe_is_listed_as_such() {
    let mut ds = Dataset::bundled();
    let mut a =
        ds.activities.iter().find(|a| a.id == "2007-10-25-makati-legislators-experts-workshop").cloned().unwrap();
    a.id = "cites-my-notes".into();
    a.source = "my-notes §1".parse().unwrap();
    ds.activities.push(a);
    let r = ProgressReport::build_on(
        &ds,
        day("2007-11-30"),
        Period::new(day("2006-09-01"), day("2007-11-30")).unwrap(),
        day("2026-12-04"),
    )
    .unwrap();
    let md = markdown(&r);
    assert!(
        md_section(&md, "## 5 Sources")
            .contains("- my-notes: a document this record does not describe (it is not in its list of sources)")
    );
    assert!(r.sources.iter().any(|s| s.id == "report-2007-11"));
}
