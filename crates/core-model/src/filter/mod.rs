//! Filters for listing activities: a small, documented subset of the AIP-160 filter language.
//!
//! A filter is a text such as `status = "COMPLETED" AND start >= "2007-03-01" AND country = "countries/BR"`.
//! [`Filter::parse`] turns it into a typed expression ([`Expr`]) or into a [`FilterError`] giving the byte
//! position of the problem; [`Filter::matches`] evaluates the expression against an [`Activity`]; a storage
//! layer translates the same expression into its query language. A filter's [`Display`](fmt::Display) form is
//! its canonical text, which parses back to the same filter when it is at most [`MAX_FILTER_LEN`] bytes long (it
//! spells out what a text may abbreviate, so the canonical text of a filter near the limit can be over it).
//!
//! # Syntax
//!
//! - A comparison is `field OPERATOR value`: `kind = "WORKSHOP"`, `output:2`, `start < "2008"`. The operators
//!   are `=`, `!=`, `<`, `<=`, `>`, `>=` and `:` ("has"); each field allows some of them (see the fields below).
//! - A value is a text in double quotes (`"COMPLETED"`; inside it `\"` stands for `"` and `\\` for `\`, and no
//!   other escape is allowed), an integer (`2`), or `true` or `false`. The value of `status`, `kind` and
//!   `region` may also be written bare, without quotes, as AIP-160 writes enum values: `status = COMPLETED`.
//!   Any other bare word is an error: write `plan = "2007-12..2008-06"`.
//! - The values of `status`, `kind` and `region` may be written as the responses print them, with their enum's
//!   prefix: `status = ACTIVITY_STATUS_COMPLETED` (or quoted) is `status = "COMPLETED"`, `kind =
//!   ACTIVITY_KIND_WORKSHOP` is `kind = "WORKSHOP"`, `region = REGION_EUROPE` is `region = "EUROPE"`. The short
//!   names (`COMPLETED`), quoted or not, stay accepted.
//! - `AND`, `OR` and `NOT` combine comparisons, and parentheses group them. `-` before a comparison or a
//!   parenthesis is `NOT`: `-country = "FR"` is `NOT country = "FR"`. The keywords are uppercase; `and` is not
//!   a keyword.
//! - Precedence, as in AIP-160: **`OR` binds tighter than `AND`**, the opposite of SQL and most programming
//!   languages, and `NOT` binds tighter than both. `a AND b OR c` means `a AND (b OR c)`; `a OR b AND c` means
//!   `(a OR b) AND c`; `NOT a OR b` means `(NOT a) OR b`. Use parentheses to group otherwise.
//! - `NOT` applies to one comparison or one parenthesised group: write `NOT (NOT a)`, not `NOT NOT a`.
//! - Two comparisons side by side (`a b`, AIP-160's implicit AND) are an error: write `a AND b`.
//! - Parentheses nest at most 32 deep and a filter is at most 2048 bytes long.
//! - An empty filter, or one of only spaces, matches every activity.
//! - Not supported from AIP-160: implicit AND, a bare value searched in every field, traversal with `.`,
//!   functions and wildcards.
//!
//! `NOT` negates whether an activity matches: an activity that does not match a comparison (for example
//! because it has no date) matches its `NOT`.
//!
//! # Fields
//!
//! - `status`: the activity's status, one of `PIPELINE`, `IMPLEMENTATION`, `COMPLETED`, `CLOSED`, `CANCELLED`
//!   and `SUSPENDED` (the IATI activity statuses). Operators `=` and `!=`. The value is matched regardless of
//!   case, and `-` may stand for `_`: `"COMPLETED"` and `"completed"` are the same value.
//!   Examples: `status = "COMPLETED"`, `status != "PIPELINE"`.
//! - `kind`: what kind of activity it is, one of `CONFERENCE`, `WORKSHOP`, `TRAINING`, `LEGISLATIVE_ANALYSIS`,
//!   `MEETING`, `STUDY` and `MISSION`. Operators `=` and `!=`; the value is matched as for `status`.
//!   Examples: `kind = "WORKSHOP"`, `kind != "legislative-analysis"`.
//! - `country`: the countries the activity concerns: the country of its place and the countries it names (a
//!   repeated field). The value is a country's resource name or its code, `"countries/BR"` or `"BR"` (ISO
//!   3166-1 alpha-2 in capital letters; `XK` is Kosovo). `=` and `:` mean "is one of them", `!=` means "is none
//!   of them" (so an activity that concerns no country matches every `!=`).
//!   Examples: `country = "countries/BR"`, `country:"BR"`, `country != "FR"`.
//! - `region`: the region of the activity's place: the region the place names (e.g. a workshop "somewhere in
//!   Africa"), or else the region of the place's country. One of `EUROPE`, `AFRICA`, `AMERICAS`, `ASIA_PACIFIC`
//!   and `ARAB_REGION`, matched as for `status`. Operators `=` and `!=`; `!=` is the negation of `=`, so an
//!   activity whose place has no region (a "global" activity) matches `region != "EUROPE"`. It is the region
//!   of the place, not of the countries the activity concerns.
//!   Examples: `region = "ASIA_PACIFIC"`, `region != "EUROPE"`.
//! - `output`: the outputs of the project the activity serves, the integers 1, 2 and 3 (a repeated field;
//!   the value is not quoted). `=` and `:` mean "is one of them", `!=` means "is none of them".
//!   Examples: `output = 2`, `output:3`, `output != 1`.
//! - `organisation`: the activity's partner organisations, whatever their role (a repeated field). The value
//!   is an organisation's resource name or identifier, `"organisations/itu"` or `"itu"`. `=` and `:` mean "is
//!   one of them", `!=` means "is none of them".
//!   Examples: `organisation = "organisations/itu"`, `organisation:"microsoft"`.
//! - `funding`: the identifiers of the funding sources that pay for the activity (a repeated field). `=` and
//!   `:` mean "is one of them", `!=` means "is none of them".
//!   Examples: `funding = "project-budget"`, `funding != "upic"`.
//! - `plan`: the identifier of the plan the activity belongs to. Operators `=` and `!=`; `!=` is the negation
//!   of `=`, so an activity that belongs to no plan matches every `!=`.
//!   Example: `plan = "2007-12..2008-06"`.
//! - `start`: the activity's first day (or its only date). `end`: its last day; the end of an activity given a
//!   single date is its start. Operators `=`, `!=`, `<`, `<=`, `>` and `>=`. The value is a quoted day, month
//!   or year: `"2007-03-01"`, `"2007-03"` or `"2007"` (not a range); it stands for every day in it. The
//!   activity's own date may be known only to the month (`"Feb 2008 (tbc)"`) or within bounds, and a
//!   comparison holds only when it certainly holds, wherever in its bounds the date lies:
//!   - `start >= v`: the start is certainly on or after the first day of `v`;
//!   - `start > v`: the start is certainly after the last day of `v`;
//!   - `start <= v`: the start is certainly on or before the last day of `v`;
//!   - `start < v`: the start is certainly before the first day of `v`;
//!   - `start = v`: the start certainly lies within `v` (`start = "2007"`: it started in 2007);
//!   - `start != v`: the negation of `start = v`: the start does not certainly lie within `v`.
//!
//!   So an activity dated "Feb 2008" matches `start = "2008-02"`, `start >= "2008-02-01"`, `start < "2008-03"`
//!   and `start != "2008-02-15"`, but not `start = "2008-02-15"`, `start > "2008-02-01"` or
//!   `start <= "2008-02-28"`. An activity with no date matches no comparison of `start` or `end`, not even
//!   `!=` (but it matches `NOT start = v`).
//!   Examples: `start >= "2007-03-01"`, `end < "2008"`, `start = "2008-02"`.
//! - `tentative`: whether the activity's date is still to be confirmed (the report's "tbc"); `true` or `false`,
//!   not quoted. Operators `=` and `!=`.
//!   Examples: `tentative = true`, `tentative != true`.
//!
//! A field not listed, an operator the field does not allow, or a value of the wrong type or out of range
//! (`output = 4`, `start = "2007-13"`, `status = "DONE"`) is an error.

mod canonical;
mod lexer;
mod parser;

use std::fmt;

use chrono::NaiveDate;

use self::{
    lexer::{Tok, describe},
    parser::{Activities, Countries, Parser, Schema},
};
use crate::{Activity, ActivityKind, ActivityStatus, ApproxDate, CountryCode, Region, State};

/// The longest filter text accepted, in bytes.
pub const MAX_FILTER_LEN: usize = 2048;

/// The deepest nesting of parentheses accepted.
pub const MAX_FILTER_DEPTH: usize = 32;

/// A parsed filter on activities, in a subset of the AIP-160 filter language, e.g.
/// `status = "COMPLETED" AND start >= "2007-03-01" AND country = "countries/BR"`.
///
/// Comparisons `field OPERATOR value` are joined with `AND`, `OR` (which binds tighter than `AND`, as in
/// AIP-160: `a AND b OR c` is `a AND (b OR c)`), `NOT` (or `-`) and parentheses. The fields are `status`, `kind`,
/// `country`, `region`, `output`, `organisation`, `funding`, `plan`, `start`, `end` and `tentative`; the
/// documentation at the top of `crates/core-model/src/filter/mod.rs` describes the syntax and every field.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Filter {
    /// The expression; `None` (an empty filter) matches every activity.
    pub expr: Option<Expr>,
}

/// A filter expression, of comparisons `C` (of an activity's fields by default).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Expr<C = Comparison> {
    /// Both hold.
    And(Box<Expr<C>>, Box<Expr<C>>),
    /// Either holds.
    Or(Box<Expr<C>>, Box<Expr<C>>),
    /// The expression does not hold (`NOT` or `-`).
    Not(Box<Expr<C>>),
    /// A comparison of one field with a value.
    Cmp(C),
}

/// The filter of ListCountries, in the same language as [`Filter`] (AND, OR, NOT, parentheses, bare enum
/// values, the same errors): `region = ASIA_PACIFIC AND coe_member = false`. The fields are `region` (the
/// country's region, `=` and `!=`) and `coe_member` (`true` or `false`, `=` and `!=`); the empty text matches
/// every country.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct CountryFilter {
    /// The expression; `None` (an empty filter) matches every country.
    pub expr: Option<Expr<CountryComparison>>,
}

/// A comparison of one field of a country with a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CountryComparison {
    /// `region`: the country's region.
    Region {
        /// `=` or `!=`.
        op: EqOp,
        /// The region compared with.
        value: Region,
    },
    /// `coe_member`: a member State of the Council of Europe.
    CoeMember {
        /// `=` or `!=`.
        op: EqOp,
        /// `true` or `false`.
        value: bool,
    },
}

impl CountryFilter {
    /// Parses a filter text; an empty text (or only spaces) gives the filter that matches every country.
    pub fn parse(text: &str) -> Result<CountryFilter, FilterError> {
        Ok(CountryFilter { expr: parse_expr::<Countries>(text)? })
    }

    /// Whether the filter selects `state`.
    pub fn matches(&self, state: &State) -> bool {
        fn holds(e: &Expr<CountryComparison>, s: &State) -> bool {
            match e {
                Expr::And(a, b) => holds(a, s) && holds(b, s),
                Expr::Or(a, b) => holds(a, s) || holds(b, s),
                Expr::Not(e) => !holds(e, s),
                Expr::Cmp(CountryComparison::Region { op, value }) => op.apply(s.region == *value),
                Expr::Cmp(CountryComparison::CoeMember { op, value }) => op.apply(s.coe_member == *value),
            }
        }
        self.expr.as_ref().is_none_or(|e| holds(e, state))
    }
}

/// The expression of a filter text in schema `S`; `None` for an empty text (or only spaces).
fn parse_expr<S: Schema>(text: &str) -> Result<Option<Expr<S::Cmp>>, FilterError> {
    if text.len() > MAX_FILTER_LEN {
        return Err(FilterError::new(
            MAX_FILTER_LEN,
            format!("the filter is {} bytes long; at most {MAX_FILTER_LEN} are allowed", text.len()),
        ));
    }
    if text.trim().is_empty() {
        return Ok(None);
    }
    let mut parser = Parser::<S>::new(text);
    let expr = parser.expression()?;
    let next = parser.bump()?;
    match next.tok {
        Tok::End => Ok(Some(expr)),
        Tok::RParen => Err(FilterError::new(next.pos, "unbalanced parentheses: this `)` has no matching `(`")),
        other => Err(FilterError::new(
            next.pos,
            format!("expected AND, OR or the end of the filter, found {}", describe(other)),
        )),
    }
}

/// A comparison of one field of an activity with a value, e.g. `status = "COMPLETED"`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Comparison {
    /// `status`: the activity's status.
    Status {
        /// `=` or `!=`.
        op: EqOp,
        /// The status compared with.
        value: ActivityStatus,
    },
    /// `kind`: what kind of activity it is.
    Kind {
        /// `=` or `!=`.
        op: EqOp,
        /// The kind compared with.
        value: ActivityKind,
    },
    /// `country`: the place's country and the activity's countries (repeated).
    Country {
        /// Is (or is not) one of them.
        op: HasOp,
        /// The country looked for.
        value: CountryCode,
    },
    /// `region`: the region the place names, or else the region of the place's country.
    Region {
        /// `=` or `!=` (an activity with no region matches `!=`).
        op: EqOp,
        /// The region compared with.
        value: Region,
    },
    /// `output`: the outputs (1, 2, 3) the activity serves (repeated).
    Output {
        /// Is (or is not) one of them.
        op: HasOp,
        /// The output looked for, 1 to 3.
        value: u8,
    },
    /// `organisation`: the partner organisations, whatever their role (repeated).
    Organisation {
        /// Is (or is not) one of them.
        op: HasOp,
        /// The [`crate::Organisation::id`] looked for.
        value: String,
    },
    /// `funding`: the funding sources (repeated).
    Funding {
        /// Is (or is not) one of them.
        op: HasOp,
        /// The [`crate::FundingSource::id`] looked for.
        value: String,
    },
    /// `plan`: the plan the activity belongs to.
    Plan {
        /// `=` or `!=` (an activity with no plan matches `!=`).
        op: EqOp,
        /// The [`crate::Plan::id`] compared with.
        value: String,
    },
    /// `start`: the activity's start; never matches an activity with no date.
    Start {
        /// How the date compares with the value ([`DateOp::holds`]).
        op: DateOp,
        /// A day, a month or a year.
        value: ApproxDate,
    },
    /// `end`: the activity's end, or its start when it has a single date; never matches an activity with no
    /// date.
    End {
        /// How the date compares with the value ([`DateOp::holds`]).
        op: DateOp,
        /// A day, a month or a year.
        value: ApproxDate,
    },
    /// `tentative`: the date is still to be confirmed.
    Tentative {
        /// `=` or `!=`.
        op: EqOp,
        /// `true` or `false`.
        value: bool,
    },
}

/// The operator of a comparison of a single value: `=` or `!=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EqOp {
    /// `=`: the value is equal.
    Eq,
    /// `!=`: the value is not equal (the negation of `=`).
    Ne,
}

/// The operator of a comparison of a repeated field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HasOp {
    /// `=` or `:`: the value is one of the field's values.
    Has,
    /// `!=`: the value is none of the field's values.
    NotHas,
}

/// The operator of a comparison of a date; see [`DateOp::holds`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DateOp {
    /// `=`: the date certainly lies within the value.
    Eq,
    /// `!=`: the date does not certainly lie within the value.
    Ne,
    /// `<`: the date is certainly before the value's first day.
    Lt,
    /// `<=`: the date is certainly on or before the value's last day.
    Le,
    /// `>`: the date is certainly after the value's last day.
    Gt,
    /// `>=`: the date is certainly on or after the value's first day.
    Ge,
}

/// Why a filter text was rejected.
///
/// Its text (`at position 7, field `status`: ...`) does not name the request field that held the filter: the
/// layer that knows it (the service's `filter: ` violation, the storage error) says it, once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at position {position}{}: {message}", field_suffix(.field.as_deref()))]
pub struct FilterError {
    /// The byte offset (from 0) in the filter text where the problem is.
    pub position: usize,
    /// The field the problem concerns, when it concerns one (as written, e.g. an unknown field's name).
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

fn field_suffix(field: Option<&str>) -> String {
    field.map(|f| format!(", field `{f}`")).unwrap_or_default()
}

impl FilterError {
    fn new(position: usize, message: impl Into<String>) -> FilterError {
        FilterError { position, field: None, message: message.into() }
    }

    fn in_field(mut self, field: &str) -> FilterError {
        if self.field.is_none() {
            self.field = Some(field.to_owned());
        }
        self
    }
}

impl Filter {
    /// The countries the filter's `country` comparisons name, in the order they are written (a caller checks
    /// them against the record: a well-formed code that names no country is refused, not an empty page).
    pub fn countries(&self) -> Vec<&CountryCode> {
        fn walk<'a>(expr: &'a Expr, out: &mut Vec<&'a CountryCode>) {
            match expr {
                Expr::And(a, b) | Expr::Or(a, b) => {
                    walk(a, out);
                    walk(b, out);
                }
                Expr::Not(e) => walk(e, out),
                Expr::Cmp(Comparison::Country { value, .. }) => out.push(value),
                Expr::Cmp(_) => {}
            }
        }
        let mut out = Vec::new();
        if let Some(expr) = &self.expr {
            walk(expr, &mut out);
        }
        out
    }

    /// Parses a filter text; an empty text (or only spaces) gives the filter that matches everything.
    pub fn parse(text: &str) -> Result<Filter, FilterError> {
        Ok(Filter { expr: parse_expr::<Activities>(text)? })
    }

    /// This filter, and the activity's dates may fall within the days `start` to `end`: it does not certainly
    /// start after `end` (`NOT start > end`) nor certainly end before `start` (`NOT end < start`). An undated
    /// activity matches both (it matches no comparison of its dates, so their negations), and is for the caller to
    /// sort out (the plan of a period takes those of a plan that may overlap it).
    pub fn and_may_fall_within(self, start: NaiveDate, end: NaiveDate) -> Filter {
        let not = |c: Comparison| Expr::Not(Box::new(Expr::Cmp(c)));
        let within = Expr::And(
            Box::new(not(Comparison::Start { op: DateOp::Gt, value: ApproxDate::Day(end) })),
            Box::new(not(Comparison::End { op: DateOp::Lt, value: ApproxDate::Day(start) })),
        );
        Filter {
            expr: Some(match self.expr {
                Some(e) => Expr::And(Box::new(e), Box::new(within)),
                None => within,
            }),
        }
    }

    /// Whether the activity matches the filter. `region_of` gives the region of a country (for the `region`
    /// field, when the place names a country but no region).
    pub fn matches(&self, activity: &Activity, region_of: impl Fn(&CountryCode) -> Option<Region>) -> bool {
        self.expr.as_ref().is_none_or(|e| e.matches(activity, &region_of))
    }
}

impl Expr {
    /// Whether the activity matches the expression; see [`Filter::matches`].
    pub fn matches<F: Fn(&CountryCode) -> Option<Region>>(&self, activity: &Activity, region_of: &F) -> bool {
        match self {
            Expr::And(a, b) => a.matches(activity, region_of) && b.matches(activity, region_of),
            Expr::Or(a, b) => a.matches(activity, region_of) || b.matches(activity, region_of),
            Expr::Not(e) => !e.matches(activity, region_of),
            Expr::Cmp(c) => c.matches(activity, region_of),
        }
    }

    fn fmt_operand(&self, f: &mut fmt::Formatter<'_>, parenthesise: bool) -> fmt::Result {
        if parenthesise { write!(f, "({self})") } else { write!(f, "{self}") }
    }
}

impl Comparison {
    /// Whether the activity matches the comparison; see [`Filter::matches`].
    pub fn matches<F: Fn(&CountryCode) -> Option<Region>>(&self, activity: &Activity, region_of: &F) -> bool {
        let a = activity;
        match self {
            Comparison::Status { op, value } => op.apply(a.status == *value),
            Comparison::Kind { op, value } => op.apply(a.kind == *value),
            Comparison::Country { op, value } => op.apply(a.concerns(value)),
            Comparison::Region { op, value } => op.apply(a.region(region_of) == Some(*value)),
            Comparison::Output { op, value } => op.apply(a.outputs.contains(value)),
            Comparison::Organisation { op, value } => op.apply(a.partners.iter().any(|p| p.organisation == *value)),
            Comparison::Funding { op, value } => op.apply(a.funding.contains(value)),
            Comparison::Plan { op, value } => op.apply(a.plan.as_ref() == Some(value)),
            Comparison::Start { op, value } => a.start.is_some_and(|d| op.holds(&d, value)),
            Comparison::End { op, value } => a.end_or_start().is_some_and(|d| op.holds(&d, value)),
            Comparison::Tentative { op, value } => op.apply(a.tentative == *value),
        }
    }
}

impl EqOp {
    /// The result of the comparison, given whether the values are equal.
    pub fn apply(self, equal: bool) -> bool {
        match self {
            EqOp::Eq => equal,
            EqOp::Ne => !equal,
        }
    }

    /// The operator as the canonical text writes it.
    pub fn symbol(self) -> &'static str {
        match self {
            EqOp::Eq => "=",
            EqOp::Ne => "!=",
        }
    }
}

impl HasOp {
    /// The result of the comparison, given whether the field contains the value.
    pub fn apply(self, contains: bool) -> bool {
        match self {
            HasOp::Has => contains,
            HasOp::NotHas => !contains,
        }
    }

    /// The operator as the canonical text writes it (`=` for "has"; `:` is a synonym).
    pub fn symbol(self) -> &'static str {
        match self {
            HasOp::Has => "=",
            HasOp::NotHas => "!=",
        }
    }
}

impl DateOp {
    /// Whether `date` certainly compares with `value` as the operator says, `value` standing for every day
    /// between its first and its last:
    ///
    /// - `>=`: `date.earliest >= value.earliest`;
    /// - `>`: `date.earliest > value.latest`;
    /// - `<=`: `date.latest <= value.latest`;
    /// - `<`: `date.latest < value.earliest`;
    /// - `=`: `value.earliest <= date.earliest` and `date.latest <= value.latest` (the date lies within the
    ///   value);
    /// - `!=`: not `=`.
    ///
    /// A comparison that needs a bound that is not known (an open bound of [`ApproxDate::Between`]) does not
    /// hold (and so its `!=` does).
    pub fn holds(self, date: &ApproxDate, value: &ApproxDate) -> bool {
        fn le(a: Option<NaiveDate>, b: Option<NaiveDate>) -> bool {
            matches!((a, b), (Some(a), Some(b)) if a <= b)
        }
        fn lt(a: Option<NaiveDate>, b: Option<NaiveDate>) -> bool {
            matches!((a, b), (Some(a), Some(b)) if a < b)
        }
        match self {
            DateOp::Ge => le(value.earliest(), date.earliest()),
            DateOp::Gt => lt(value.latest(), date.earliest()),
            DateOp::Le => le(date.latest(), value.latest()),
            DateOp::Lt => lt(date.latest(), value.earliest()),
            DateOp::Eq => le(value.earliest(), date.earliest()) && le(date.latest(), value.latest()),
            DateOp::Ne => !DateOp::Eq.holds(date, value),
        }
    }

    /// The operator as the canonical text writes it.
    pub fn symbol(self) -> &'static str {
        match self {
            DateOp::Eq => "=",
            DateOp::Ne => "!=",
            DateOp::Lt => "<",
            DateOp::Le => "<=",
            DateOp::Gt => ">",
            DateOp::Ge => ">=",
        }
    }
}
