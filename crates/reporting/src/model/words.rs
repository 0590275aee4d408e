//! How a document writes dates: one way for a day, a month, a year, a range or bounds, everywhere
//! ([`span`], [`date`], [`day`]); a source's misprinted date shown as printed, marked `[sic]`, with the
//! correction beside it ([`activity_date`], [`mark_misprints`]); and ISO days in the model's own sentences
//! rewritten the same way ([`days_in_words`]).
//!
//! A date known only within bounds (the sources give no day, only the first and the last it can be) is marked
//! with [`BOUND_MARK`]; a document explains the mark once ([`BOUND_FOOTNOTE`]).

use chrono::{Datelike, NaiveDate};
use core_model::{Activity, ApproxDate, MONTH_NAMES, last_day_of_month};

/// The mark after a date known only within bounds.
pub const BOUND_MARK: &str = "†";

/// What the mark means, said once per document.
pub const BOUND_FOOTNOTE: &str = "† Known only within these bounds: the sources give no day, only the first and \
                                  the last day it can be.";

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

fn month(m: u32) -> &'static str {
    MONTHS[(m as usize).clamp(1, 12) - 1]
}

/// A day: "25 Oct 2007".
pub fn day(d: NaiveDate) -> String {
    format!("{} {} {}", d.day(), month(d.month()), d.year())
}

/// What a date covers, as a first and a last day, and whether those are exact (a day, a month or a year) or only
/// bounds.
#[derive(Clone, Copy)]
enum Piece {
    Day(NaiveDate),
    Month(i32, u32),
    Year(i32),
}

fn piece(d: ApproxDate) -> Option<(Piece, Piece, bool)> {
    match d {
        ApproxDate::Day(x) => Some((Piece::Day(x), Piece::Day(x), false)),
        ApproxDate::Month { year, month } => Some((Piece::Month(year, month), Piece::Month(year, month), false)),
        ApproxDate::Year(y) => Some((Piece::Year(y), Piece::Year(y), false)),
        ApproxDate::Between { earliest: Some(e), latest: Some(l) } => {
            let whole_months = e.day() == 1 && last_day_of_month(l.year(), l.month()) == Some(l);
            let whole_years = whole_months && e.month() == 1 && l.month() == 12;
            Some(if whole_years {
                (Piece::Year(e.year()), Piece::Year(l.year()), true)
            } else if whole_months {
                (Piece::Month(e.year(), e.month()), Piece::Month(l.year(), l.month()), true)
            } else {
                (Piece::Day(e), Piece::Day(l), true)
            })
        }
        ApproxDate::Between { .. } => None,
    }
}

/// Two pieces as one range, the shared month or year written once: "25–26 Oct 2007", "27 Feb – 2 Mar 2007",
/// "Apr – Jun 2008", "Oct 2007 – Apr 2008".
fn range(a: Piece, b: Piece) -> String {
    match (a, b) {
        (Piece::Day(x), Piece::Day(y)) if x == y => day(x),
        (Piece::Day(x), Piece::Day(y)) if (x.year(), x.month()) == (y.year(), y.month()) => {
            format!("{}–{} {} {}", x.day(), y.day(), month(x.month()), x.year())
        }
        (Piece::Day(x), Piece::Day(y)) if x.year() == y.year() => {
            format!("{} {} – {} {} {}", x.day(), month(x.month()), y.day(), month(y.month()), x.year())
        }
        (Piece::Month(y1, m1), Piece::Month(y2, m2)) if (y1, m1) == (y2, m2) => format!("{} {y1}", month(m1)),
        (Piece::Month(y1, m1), Piece::Month(y2, m2)) if y1 == y2 => format!("{} – {} {y1}", month(m1), month(m2)),
        (Piece::Year(x), Piece::Year(y)) if x == y => x.to_string(),
        (a, b) => format!("{} – {}", single(a), single(b)),
    }
}

fn single(p: Piece) -> String {
    match p {
        Piece::Day(d) => day(d),
        Piece::Month(y, m) => format!("{} {y}", month(m)),
        Piece::Year(y) => y.to_string(),
    }
}

/// A date: "25 Oct 2007", "Oct 2007", "2007", "1–7 Apr 2008†" (bounds), "on or before 30 Nov 2007†".
pub fn date(d: ApproxDate) -> String {
    span(Some(d), None)
}

/// The date of an event that lasted some days (a workshop, a mission, a conference), recorded as its first and
/// last day: "25–26 Oct 2007", without the mark of bounds when they are at most a week apart; any other date as
/// [`date`] writes it.
pub fn event(d: ApproxDate) -> String {
    match d {
        ApproxDate::Between { earliest: Some(e), latest: Some(l) } if (l - e).num_days() <= 6 && e <= l => {
            range(Piece::Day(e), Piece::Day(l))
        }
        d => date(d),
    }
}

/// A date or a range from `start` to `end` (both optional), written the one way every document uses.
pub fn span(start: Option<ApproxDate>, end: Option<ApproxDate>) -> String {
    let Some(start) = start else { return "undated".to_owned() };
    let end = end.unwrap_or(start);
    match (piece(start), piece(end)) {
        (Some((a, _, bound_a)), Some((_, b, bound_b))) => {
            format!("{}{}", range(a, b), if bound_a || bound_b { BOUND_MARK } else { "" })
        }
        _ => {
            let (e, l) = (start.earliest(), end.latest());
            match (e, l) {
                (Some(e), None) => format!("on or after {}{BOUND_MARK}", day(e)),
                (None, Some(l)) => format!("on or before {}{BOUND_MARK}", day(l)),
                (Some(e), Some(l)) => format!("{}{BOUND_MARK}", range(Piece::Day(e), Piece::Day(l))),
                (None, None) => "undated".to_owned(),
            }
        }
    }
}

/// The four-digit numbers of a text, in order.
pub fn four_digit_numbers(text: &str) -> Vec<i32> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let j = (i..b.len()).find(|&j| !b[j].is_ascii_digit()).unwrap_or(b.len());
            if j - i == 4 {
                out.extend(text[i..j].parse::<i32>().ok());
            }
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

/// An activity's date, the one way; where the source printed it wrongly (no year, or years that are not those
/// of the dates the record keeps: "Dec 2007 – June 2007" for December 2007 to June 2008), the source's text
/// marked `[sic]` with the correction beside it.
pub fn activity_date(a: &Activity) -> String {
    let written = span(a.start, a.end);
    let text = a.date_text.trim();
    let (Some(first), Some(last)) = (a.start.and_then(|d| d.earliest()), a.end_or_start().and_then(|d| d.latest()))
    else {
        return written;
    };
    if text.is_empty() {
        return written;
    }
    let printed = four_digit_numbers(text);
    let misprinted = match printed.as_slice() {
        [] => true,
        [only] => *only != first.year() || *only != last.year(),
        [f, .., l] => *f != first.year() || *l != last.year(),
    };
    if misprinted { format!("{text} [sic]: {written}") } else { written }
}

/// `text` with each "Month YYYY" whose month falls in the record's dates (`first` to `last`) only under another
/// year marked as a misprint, with the year it must be: "1-2 April 2007 [sic: 2008]" in a text about a
/// conference of 1-2 April 2008. Other dates of the text are left as they are.
pub fn mark_misprints(text: &str, first: NaiveDate, last: NaiveDate) -> String {
    // Only a text naming a year outside the record's can hold such a misprint.
    if four_digit_numbers(text).iter().all(|y| (first.year()..=last.year()).contains(y)) {
        return text.to_owned();
    }
    let within = |y: i32, m: u32| {
        let start = (first.year(), first.month());
        let end = (last.year(), last.month());
        (y, m) >= start && (y, m) <= end
    };
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'scan: while !rest.is_empty() {
        for (i, name) in MONTH_NAMES.iter().enumerate() {
            let m = i as u32 + 1;
            let Some(after) = rest.strip_prefix(name) else { continue };
            let Some(digits) = after.strip_prefix(' ').and_then(|a| a.get(..4)) else { continue };
            let Ok(y) = digits.parse::<i32>() else { continue };
            if after.as_bytes().get(5).is_some_and(u8::is_ascii_digit) {
                continue;
            }
            let consumed = name.len() + 5;
            out.push_str(&rest[..consumed]);
            if !within(y, m)
                && let Some(right) = (first.year()..=last.year()).find(|&y2| within(y2, m))
            {
                out.push_str(&format!(" [sic: {right}]"));
            }
            rest = &rest[consumed..];
            continue 'scan;
        }
        let c = rest.chars().next().map_or(1, char::len_utf8);
        out.push_str(&rest[..c]);
        rest = &rest[c..];
    }
    out
}

/// `text` (a sentence of the model: a reason, a note) with each ISO day ("2007-11-30") written as every document
/// writes a day ("30 Nov 2007"), and bounds "2004-01-01..2007-11-30" as a range.
pub fn days_in_words(text: &str) -> String {
    let iso = |s: &str| -> Option<NaiveDate> {
        let b = s.as_bytes();
        if s.len() >= 10
            && b[4] == b'-'
            && b[7] == b'-'
            && b[..4].iter().chain(&b[5..7]).chain(&b[8..10]).all(u8::is_ascii_digit)
        {
            s[..10].parse().ok()
        } else {
            None
        }
    };
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let boundary = i == 0 || !text.as_bytes()[i - 1].is_ascii_alphanumeric();
        if boundary
            && !rest.as_bytes().get(10).is_some_and(u8::is_ascii_digit)
            && let Some(a) = iso(rest)
        {
            if let Some(b) = rest[10..].strip_prefix("..").and_then(iso) {
                out.push_str(&range(Piece::Day(a), Piece::Day(b)));
                i += 22;
            } else {
                out.push_str(&day(a));
                i += 10;
            }
            continue;
        }
        let c = rest.chars().next().map_or(1, char::len_utf8);
        out.push_str(&rest[..c]);
        i += c;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> ApproxDate {
        s.parse().unwrap()
    }

    #[test]
    fn one_way_for_every_date_and_range() {
        assert_eq!(span(Some(d("2007-10-25")), Some(d("2007-10-26"))), "25–26 Oct 2007");
        assert_eq!(span(Some(d("2007-02-27")), Some(d("2007-03-02"))), "27 Feb – 2 Mar 2007");
        assert_eq!(span(Some(d("2007-11-30")), Some(d("2007-12-02"))), "30 Nov – 2 Dec 2007");
        assert_eq!(span(Some(d("2006-08-31")), Some(d("2006-09-01"))), "31 Aug – 1 Sep 2006");
        assert_eq!(span(Some(d("2007-12")), Some(d("2008-06"))), "Dec 2007 – Jun 2008");
        assert_eq!(span(Some(d("2008-04")), Some(d("2008-06"))), "Apr – Jun 2008");
        assert_eq!(date(d("2007-05")), "May 2007");
        assert_eq!(date(d("2007")), "2007");
        assert_eq!(date(d("2007-05..2007-06")), "May – Jun 2007†");
        assert_eq!(date(d("2008-04-01..2008-04-07")), "1–7 Apr 2008†");
        assert_eq!(date(d("2006-09-01..2007-11-30")), "Sep 2006 – Nov 2007†");
        assert_eq!(date(d("2006-09-02..2007-11-30")), "2 Sep 2006 – 30 Nov 2007†");
        assert_eq!(date(d("..2007-11-30")), "on or before 30 Nov 2007†");
        assert_eq!(span(None, None), "undated");
        assert_eq!(event(d("2007-10-25..2007-10-26")), "25–26 Oct 2007");
        assert_eq!(event(d("2007-04..2007-05")), "Apr – May 2007†");
    }

    #[test]
    fn misprints_are_marked_with_the_correction() {
        let (first, last) = ("2008-04-01".parse().unwrap(), "2008-04-04".parse().unwrap());
        assert_eq!(
            mark_misprints("held on 1-2 April 2007, then 3-4 April.", first, last),
            "held on 1-2 April 2007 [sic: 2008], then 3-4 April."
        );
        let (first, last) = ("2007-02-13".parse().unwrap(), "2007-02-14".parse().unwrap());
        assert_eq!(mark_misprints("a review in April 2007", first, last), "a review in April 2007");
    }

    #[test]
    fn iso_days_in_sentences_are_written_as_days() {
        assert_eq!(
            days_in_words("signed between 2001-11-23 and 2004-12-31; 2004-01-01..2007-11-30, S14"),
            "signed between 23 Nov 2001 and 31 Dec 2004; 1 Jan 2004 – 30 Nov 2007, S14"
        );
        assert_eq!(days_in_words("id 12007-11-300"), "id 12007-11-300");
    }
}
