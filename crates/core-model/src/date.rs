//! Dates known to the day, to the month, to the year, or only within bounds.
//!
//! The system of record never turns a bound into an invented day: a ratification the sources place "in 2007,
//! on or before 2007-11-30" stays exactly that, and every question asked of it ("was it a party on 2007-06-01?")
//! can answer "uncertain".

use std::{fmt, str::FromStr};

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A date as precisely as the sources give it.
///
/// Text form (used in the dataset files): `2002-06-20` (a day), `2007-09` (a month), `2007` (a year),
/// `2004-01-01..2007-11-30` (between two days, both included), `..2007-11-30` (on or before),
/// `2001-11-23..` (on or after).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApproxDate {
    /// Known to the day.
    Day(NaiveDate),
    /// Known to the month.
    Month {
        /// The year.
        year: i32,
        /// The month, 1 to 12.
        month: u32,
    },
    /// Known to the year.
    Year(i32),
    /// Known only to lie within bounds; either bound may be open.
    Between {
        /// The earliest possible day, if any is known.
        earliest: Option<NaiveDate>,
        /// The latest possible day, if any is known.
        latest: Option<NaiveDate>,
    },
}

/// How precisely a date is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DatePrecision {
    /// To the day.
    Day,
    /// To the month.
    Month,
    /// To the year.
    Year,
    /// Only within bounds.
    Bounded,
}

/// Why a text is not an [`ApproxDate`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a date: {reason}")]
pub struct DateParseError {
    /// The text that was given.
    pub text: String,
    /// What is wrong with it.
    pub reason: String,
}

impl ApproxDate {
    /// A date known to the day.
    pub fn day(y: i32, m: u32, d: u32) -> Option<Self> {
        NaiveDate::from_ymd_opt(y, m, d).map(ApproxDate::Day)
    }

    /// The earliest day the date can be, if known.
    pub fn earliest(&self) -> Option<NaiveDate> {
        match *self {
            ApproxDate::Day(d) => Some(d),
            ApproxDate::Month { year, month } => NaiveDate::from_ymd_opt(year, month, 1),
            ApproxDate::Year(y) => NaiveDate::from_ymd_opt(y, 1, 1),
            ApproxDate::Between { earliest, .. } => earliest,
        }
    }

    /// The latest day the date can be, if known.
    pub fn latest(&self) -> Option<NaiveDate> {
        match *self {
            ApproxDate::Day(d) => Some(d),
            ApproxDate::Month { year, month } => last_day_of_month(year, month),
            ApproxDate::Year(y) => NaiveDate::from_ymd_opt(y, 12, 31),
            ApproxDate::Between { latest, .. } => latest,
        }
    }

    /// The day, when the date is known to the day.
    pub fn exact(&self) -> Option<NaiveDate> {
        match *self {
            ApproxDate::Day(d) => Some(d),
            _ => None,
        }
    }

    /// How precisely the date is known.
    pub fn precision(&self) -> DatePrecision {
        match self {
            ApproxDate::Day(_) => DatePrecision::Day,
            ApproxDate::Month { .. } => DatePrecision::Month,
            ApproxDate::Year(_) => DatePrecision::Year,
            ApproxDate::Between { .. } => DatePrecision::Bounded,
        }
    }

    /// True when the date is certainly on or before `day`.
    pub fn certainly_on_or_before(&self, day: NaiveDate) -> bool {
        self.latest().is_some_and(|l| l <= day)
    }

    /// True when the date may be on or before `day` (the sources do not exclude it).
    pub fn possibly_on_or_before(&self, day: NaiveDate) -> bool {
        self.earliest().is_none_or(|e| e <= day)
    }

    /// True when the date is certainly before the other date (every day it can be comes before every day the
    /// other can be).
    pub fn certainly_before(&self, other: &ApproxDate) -> bool {
        match (self.latest(), other.earliest()) {
            (Some(l), Some(e)) => l < e,
            _ => false,
        }
    }

    /// The date between two bounds (either may be open), in its most precise form: a day, a whole month or a
    /// whole year when the bounds are exactly that, else bounds.
    pub fn from_bounds(earliest: Option<NaiveDate>, latest: Option<NaiveDate>) -> ApproxDate {
        match (earliest, latest) {
            (Some(e), Some(l)) if e == l => ApproxDate::Day(e),
            (Some(e), Some(l)) if e.day() == 1 && last_day_of_month(e.year(), e.month()) == Some(l) => {
                ApproxDate::Month { year: e.year(), month: e.month() }
            }
            (Some(e), Some(l))
                if (e.month(), e.day(), l.month(), l.day()) == (1, 1, 12, 31) && e.year() == l.year() =>
            {
                ApproxDate::Year(e.year())
            }
            (earliest, latest) => ApproxDate::Between { earliest, latest },
        }
    }

    /// The days both dates may be, `None` when they share none.
    pub fn intersect(&self, other: &ApproxDate) -> Option<ApproxDate> {
        let earliest = self.earliest().max(other.earliest());
        let latest = match (self.latest(), other.latest()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        match (earliest, latest) {
            (Some(e), Some(l)) if e > l => None,
            (None, None) => Some(ApproxDate::Between { earliest: None, latest: None }),
            (e, l) => Some(ApproxDate::from_bounds(e, l)),
        }
    }

    /// A sentence fragment for people: "on 2002-06-20", "in September 2007", "between 2004-01-01 and 2007-11-30".
    pub fn describe(&self) -> String {
        match *self {
            ApproxDate::Day(d) => format!("on {d}"),
            ApproxDate::Month { year, month } => format!("in {} {year}", month_name(month)),
            ApproxDate::Year(y) => format!("in {y}"),
            ApproxDate::Between { earliest: Some(e), latest: Some(l) } => format!("between {e} and {l}"),
            ApproxDate::Between { earliest: None, latest: Some(l) } => format!("on or before {l}"),
            ApproxDate::Between { earliest: Some(e), latest: None } => format!("on or after {e}"),
            ApproxDate::Between { earliest: None, latest: None } => "on an unknown date".to_owned(),
        }
    }
}

/// The last day of a month, `None` for an impossible month.
pub fn last_day_of_month(year: i32, month: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, 1)?.checked_add_months(Months::new(1))?.pred_opt()
}

/// The first day of the month following the expiration of `months` months after `day`: the entry-into-force
/// rule of Council of Europe treaties (e.g. ETS 185 Article 36).
pub fn first_day_of_month_after(day: NaiveDate, months: u32) -> Option<NaiveDate> {
    // The period expires on the same day number `months` months later (or the month's last day); the month
    // after that is the one in which the treaty enters into force. Clamping never changes the month.
    let first = NaiveDate::from_ymd_opt(day.year(), day.month(), 1)?;
    first.checked_add_months(Months::new(months + 1))
}

/// The months' names in English, January first.
pub const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn month_name(month: u32) -> &'static str {
    MONTH_NAMES.get(month.wrapping_sub(1) as usize).copied().unwrap_or("?")
}

impl fmt::Display for ApproxDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ApproxDate::Day(d) => write!(f, "{d}"),
            ApproxDate::Month { year, month } => write!(f, "{year:04}-{month:02}"),
            ApproxDate::Year(y) => write!(f, "{y:04}"),
            ApproxDate::Between { earliest, latest } => {
                if let Some(e) = earliest {
                    write!(f, "{e}")?;
                }
                f.write_str("..")?;
                if let Some(l) = latest {
                    write!(f, "{l}")?;
                }
                Ok(())
            }
        }
    }
}

fn parse_day(text: &str, whole: &str) -> Result<NaiveDate, DateParseError> {
    let err = |reason: String| DateParseError { text: whole.to_owned(), reason };
    let parts: Vec<&str> = text.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return Err(err(format!("`{text}` is not of the form YYYY-MM-DD")));
    };
    let (y, m, d) = (parse_num(y, "year", whole)?, parse_num(m, "month", whole)?, parse_num(d, "day", whole)?);
    check_month(m, whole)?;
    let y = i32::try_from(y).map_err(|_| err(format!("year {y} is out of range")))?;
    NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| err(format!("day {d} does not exist in {y:04}-{m:02}")))
}

fn parse_num(part: &str, what: &str, whole: &str) -> Result<u32, DateParseError> {
    let expected_len = if what == "year" { 4 } else { 2 };
    if part.len() != expected_len || !part.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DateParseError {
            text: whole.to_owned(),
            reason: format!("the {what} `{part}` must be {expected_len} digits"),
        });
    }
    let n =
        part.parse().map_err(|_| DateParseError { text: whole.to_owned(), reason: format!("bad {what} `{part}`") })?;
    if what == "year" && n == 0 {
        // As in google.type.Date, whose year 0 means "no year": years run 1-9999.
        return Err(DateParseError {
            text: whole.to_owned(),
            reason: "year 0000 is out of range 0001-9999".to_owned(),
        });
    }
    Ok(n)
}

fn check_month(m: u32, whole: &str) -> Result<(), DateParseError> {
    if (1..=12).contains(&m) {
        Ok(())
    } else {
        Err(DateParseError { text: whole.to_owned(), reason: format!("month {m} is out of range 1-12") })
    }
}

impl FromStr for ApproxDate {
    type Err = DateParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        if let Some((a, b)) = text.split_once("..") {
            // Each bound may be a day, a month or a year: `2007-04..2007-05` is April to May 2007.
            let bound = |part: &str| -> Result<Option<ApproxDate>, DateParseError> {
                if part.is_empty() {
                    return Ok(None);
                }
                let date: ApproxDate = part
                    .parse()
                    .map_err(|e: DateParseError| DateParseError { text: text.to_owned(), reason: e.reason })?;
                Ok(Some(date))
            };
            let earliest = bound(a)?.and_then(|d| d.earliest());
            let latest = bound(b)?.and_then(|d| d.latest());
            return match (earliest, latest) {
                (None, None) => {
                    Err(DateParseError { text: text.to_owned(), reason: "a range needs at least one bound".to_owned() })
                }
                (Some(e), Some(l)) if e > l => Err(DateParseError {
                    text: text.to_owned(),
                    reason: format!("the earliest day {e} is after the latest day {l}"),
                }),
                (Some(e), Some(l)) if e == l => Ok(ApproxDate::Day(e)),
                _ => Ok(ApproxDate::Between { earliest, latest }),
            };
        }
        match text.matches('-').count() {
            0 => {
                let y = parse_num(text, "year", text)?;
                Ok(ApproxDate::Year(y as i32))
            }
            1 => {
                let (y, m) = text.split_once('-').unwrap_or_default();
                let (y, m) = (parse_num(y, "year", text)?, parse_num(m, "month", text)?);
                check_month(m, text)?;
                Ok(ApproxDate::Month { year: y as i32, month: m })
            }
            _ => parse_day(text, text).map(ApproxDate::Day),
        }
    }
}

impl Serialize for ApproxDate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ApproxDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn text_forms_round_trip() {
        let months: ApproxDate = "2007-04..2007-05".parse().unwrap();
        assert_eq!(months.to_string(), "2007-04-01..2007-05-31");
        for text in ["2002-06-20", "2007-09", "2007", "2004-01-01..2007-11-30", "..2007-11-30", "2001-11-23.."] {
            let date: ApproxDate = text.parse().unwrap();
            assert_eq!(date.to_string(), text);
        }
    }

    #[test]
    fn bounds_of_each_precision() {
        let month: ApproxDate = "2008-02".parse().unwrap();
        assert_eq!((month.earliest(), month.latest()), (Some(d("2008-02-01")), Some(d("2008-02-29"))));
        let year: ApproxDate = "2007".parse().unwrap();
        assert_eq!((year.earliest(), year.latest()), (Some(d("2007-01-01")), Some(d("2007-12-31"))));
        let before: ApproxDate = "..2007-11-30".parse().unwrap();
        assert_eq!((before.earliest(), before.latest()), (None, Some(d("2007-11-30"))));
        assert!(before.possibly_on_or_before(d("1990-01-01")));
        assert!(!before.certainly_on_or_before(d("2007-11-29")));
        assert!(before.certainly_on_or_before(d("2007-11-30")));
    }

    #[test]
    fn bad_text_is_rejected_with_the_reason() {
        let cases = [
            ("2007-13", "`2007-13` is not a date: month 13 is out of range 1-12"),
            ("2007-02-30", "`2007-02-30` is not a date: day 30 does not exist in 2007-02"),
            ("2007-00-10", "`2007-00-10` is not a date: month 0 is out of range 1-12"),
            ("07-01-01", "`07-01-01` is not a date: the year `07` must be 4 digits"),
            (
                "2008-01-01..2007-01-01",
                "`2008-01-01..2007-01-01` is not a date: the earliest day 2008-01-01 is after the latest day 2007-01-01",
            ),
            ("..", "`..` is not a date: a range needs at least one bound"),
            ("Feb 2008", "`Feb 2008` is not a date: the year `Feb 2008` must be 4 digits"),
            ("2007-04..2007-13", "`2007-04..2007-13` is not a date: month 13 is out of range 1-12"),
            ("0000", "`0000` is not a date: year 0000 is out of range 0001-9999"),
            ("0000-06", "`0000-06` is not a date: year 0000 is out of range 0001-9999"),
            ("0000-01-01", "`0000-01-01` is not a date: year 0000 is out of range 0001-9999"),
            ("0000-02..0001-03", "`0000-02..0001-03` is not a date: year 0000 is out of range 0001-9999"),
        ];
        for (text, message) in cases {
            let err = text.parse::<ApproxDate>().unwrap_err();
            assert_eq!(err.to_string(), message, "{text}");
        }
    }

    #[test]
    fn bounds_take_their_most_precise_form_and_intersect() {
        let b = |e: &str, l: &str| ApproxDate::from_bounds(Some(d(e)), Some(d(l)));
        assert_eq!(b("2007-01-01", "2007-01-31"), ApproxDate::Month { year: 2007, month: 1 });
        assert_eq!(b("2004-01-01", "2004-12-31"), ApproxDate::Year(2004));
        assert_eq!(b("2004-05-20", "2004-05-20"), ApproxDate::Day(d("2004-05-20")));
        assert_eq!(b("2004-05-20", "2004-12-31").to_string(), "2004-05-20..2004-12-31");
        let wide: ApproxDate = "2004-05-20..2007-11-30".parse().unwrap();
        assert_eq!(wide.intersect(&ApproxDate::Year(2004)).unwrap().to_string(), "2004-05-20..2004-12-31");
        assert_eq!(wide.intersect(&ApproxDate::Year(2003)), None);
        let open: ApproxDate = "..2007-11-30".parse().unwrap();
        assert_eq!(
            open.intersect(&ApproxDate::Month { year: 2007, month: 1 }),
            Some(ApproxDate::Month { year: 2007, month: 1 })
        );
    }

    #[test]
    fn entry_into_force_rule_arithmetic() {
        // ETS 185: fifth consent (Lithuania) 2004-03-18 -> 2004-07-01.
        assert_eq!(first_day_of_month_after(d("2004-03-18"), 3), Some(d("2004-07-01")));
        assert_eq!(first_day_of_month_after(d("2004-03-31"), 3), Some(d("2004-07-01")));
        assert_eq!(first_day_of_month_after(d("2004-03-01"), 3), Some(d("2004-07-01")));
        // Year wrap: deposit in September, entry into force on 1 January.
        assert_eq!(first_day_of_month_after(d("2004-09-30"), 3), Some(d("2005-01-01")));
        assert_eq!(first_day_of_month_after(d("2006-11-16"), 3), Some(d("2007-03-01")));
    }
}
