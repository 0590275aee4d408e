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
//!   other escape is allowed), an integer (`2`), or `true` or `false`. Any other bare word is an error: write
//!   `status = "COMPLETED"`, not `status = COMPLETED`.
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

use std::fmt::{self, Write as _};

use chrono::NaiveDate;

use crate::{Activity, ActivityKind, ActivityStatus, ApproxDate, CountryCode, OUTPUTS, Region, Vocabulary, names};

/// The longest filter text accepted, in bytes.
pub const MAX_FILTER_LEN: usize = 2048;

/// The deepest nesting of parentheses accepted.
pub const MAX_FILTER_DEPTH: usize = 32;

/// The forms a date value takes, for error messages.
const DATE_FORMS: &str = "a day, a month or a year, e.g. \"2007-03-01\", \"2007-03\" or \"2007\"";

/// The fields of an activity a filter can name, in the order error messages list them.
const FIELD_NAMES: &str = "status, kind, country, region, output, organisation, funding, plan, start, end, tentative";

/// A parsed filter on activities, in a subset of the AIP-160 filter language, e.g.
/// `status = "COMPLETED" AND start >= "2007-03-01" AND country = "countries/BR"`.
///
/// Comparisons `field OPERATOR value` are joined with `AND`, `OR` (which binds tighter than `AND`, as in
/// AIP-160: `a AND b OR c` is `a AND (b OR c)`), `NOT` (or `-`) and parentheses. The fields are `status`, `kind`,
/// `country`, `region`, `output`, `organisation`, `funding`, `plan`, `start`, `end` and `tentative`; the
/// documentation at the top of `crates/core-model/src/filter.rs` describes the syntax and every field.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Filter {
    /// The expression; `None` (an empty filter) matches every activity.
    pub expr: Option<Expr>,
}

/// A filter expression.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Expr {
    /// Both hold.
    And(Box<Expr>, Box<Expr>),
    /// Either holds.
    Or(Box<Expr>, Box<Expr>),
    /// The expression does not hold (`NOT` or `-`).
    Not(Box<Expr>),
    /// A comparison of one field with a value.
    Cmp(Comparison),
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
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("filter: at position {position}{}: {message}", field_suffix(.field.as_deref()))]
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
    /// Parses a filter text; an empty text (or only spaces) gives the filter that matches everything.
    pub fn parse(text: &str) -> Result<Filter, FilterError> {
        if text.len() > MAX_FILTER_LEN {
            return Err(FilterError::new(
                MAX_FILTER_LEN,
                format!("the filter is {} bytes long; at most {MAX_FILTER_LEN} are allowed", text.len()),
            ));
        }
        if text.trim().is_empty() {
            return Ok(Filter { expr: None });
        }
        let mut parser = Parser { lexer: Lexer { text, pos: 0 }, peeked: None, depth: 0 };
        let expr = parser.expression()?;
        let next = parser.bump()?;
        match next.tok {
            Tok::End => Ok(Filter { expr: Some(expr) }),
            Tok::RParen => Err(FilterError::new(next.pos, "unbalanced parentheses: this `)` has no matching `(`")),
            other => Err(FilterError::new(
                next.pos,
                format!("expected AND, OR or the end of the filter, found {}", describe(other)),
            )),
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

// ---------------------------------------------------------------------------------------------------------------
// Canonical text
// ---------------------------------------------------------------------------------------------------------------

/// The canonical text: enum values in capitals, `countries/` and `organisations/` resource names, `=` for "has",
/// `NOT` for `-`, one space around operators and keywords, and only the parentheses the precedence needs. It
/// parses back to the same filter, unless it is longer than [`MAX_FILTER_LEN`] (as the canonical text of a filter
/// near the limit can be: `-country:"BR"` becomes `NOT country = "countries/BR"`); the empty filter prints as the
/// empty text.
impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.expr {
            Some(e) => write!(f, "{e}"),
            None => Ok(()),
        }
    }
}

/// The canonical text of the expression (see [`Filter`]'s `Display`).
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // AND binds loosest, then OR, then NOT. Operators associate to the left, so a right operand of the same
        // precedence needs parentheses; NOT takes a comparison or a parenthesised group.
        match self {
            Expr::And(a, b) => {
                a.fmt_operand(f, false)?;
                f.write_str(" AND ")?;
                b.fmt_operand(f, matches!(**b, Expr::And(..)))
            }
            Expr::Or(a, b) => {
                a.fmt_operand(f, matches!(**a, Expr::And(..)))?;
                f.write_str(" OR ")?;
                b.fmt_operand(f, matches!(**b, Expr::And(..) | Expr::Or(..)))
            }
            Expr::Not(e) => {
                f.write_str("NOT ")?;
                e.fmt_operand(f, !matches!(**e, Expr::Cmp(_)))
            }
            Expr::Cmp(c) => write!(f, "{c}"),
        }
    }
}

/// The canonical text of the comparison, e.g. `country = "countries/BR"`.
impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Comparison::Status { op, value } => write!(f, "status {} \"{}\"", op.symbol(), value.api_name()),
            Comparison::Kind { op, value } => write!(f, "kind {} \"{}\"", op.symbol(), value.api_name()),
            Comparison::Country { op, value } => write!(f, "country {} \"{}\"", op.symbol(), names::country(value)),
            Comparison::Region { op, value } => write!(f, "region {} \"{}\"", op.symbol(), value.api_name()),
            Comparison::Output { op, value } => write!(f, "output {} {value}", op.symbol()),
            Comparison::Organisation { op, value } => {
                write!(f, "organisation {} ", op.symbol())?;
                write_quoted(f, &names::organisation(value))
            }
            Comparison::Funding { op, value } => {
                write!(f, "funding {} ", op.symbol())?;
                write_quoted(f, value)
            }
            Comparison::Plan { op, value } => {
                write!(f, "plan {} ", op.symbol())?;
                write_quoted(f, value)
            }
            Comparison::Start { op, value } => write!(f, "start {} \"{value}\"", op.symbol()),
            Comparison::End { op, value } => write!(f, "end {} \"{value}\"", op.symbol()),
            Comparison::Tentative { op, value } => write!(f, "tentative {} {value}", op.symbol()),
        }
    }
}

fn write_quoted(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in text.chars() {
        if c == '"' || c == '\\' {
            f.write_char('\\')?;
        }
        f.write_char(c)?;
    }
    f.write_char('"')
}

// ---------------------------------------------------------------------------------------------------------------
// Lexer
// ---------------------------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RawOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Has,
}

impl RawOp {
    fn text(self) -> &'static str {
        match self {
            RawOp::Eq => "=",
            RawOp::Ne => "!=",
            RawOp::Lt => "<",
            RawOp::Le => "<=",
            RawOp::Gt => ">",
            RawOp::Ge => ">=",
            RawOp::Has => ":",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok<'a> {
    LParen,
    RParen,
    Minus,
    Op(RawOp),
    /// A quoted string, without its quotes and with its escapes (already checked) still in.
    Str(&'a str),
    Int(&'a str),
    Word(&'a str),
    And,
    Or,
    Not,
    End,
}

#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    tok: Tok<'a>,
    pos: usize,
}

fn describe(tok: Tok<'_>) -> String {
    match tok {
        Tok::LParen => "`(`".to_owned(),
        Tok::RParen => "`)`".to_owned(),
        Tok::Minus => "`-`".to_owned(),
        Tok::Op(op) => format!("`{}`", op.text()),
        Tok::Str(_) => "a string".to_owned(),
        Tok::Int(i) => format!("the integer {i}"),
        Tok::Word(w) => format!("`{w}`"),
        Tok::And => "AND".to_owned(),
        Tok::Or => "OR".to_owned(),
        Tok::Not => "NOT".to_owned(),
        Tok::End => "the end of the filter".to_owned(),
    }
}

fn is_word_char(c: char) -> bool {
    !c.is_whitespace() && !matches!(c, '(' | ')' | '"' | '=' | '!' | '<' | '>' | ':')
}

#[derive(Debug)]
struct Lexer<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn next_token(&mut self) -> Result<Token<'a>, FilterError> {
        let rest = &self.text[self.pos..];
        let trimmed = rest.trim_start();
        self.pos += rest.len() - trimmed.len();
        let start = self.pos;
        let rest = trimmed;
        let Some(c) = rest.chars().next() else { return Ok(Token { tok: Tok::End, pos: start }) };
        let (tok, len) = match c {
            '(' => (Tok::LParen, 1),
            ')' => (Tok::RParen, 1),
            '-' => (Tok::Minus, 1),
            ':' => (Tok::Op(RawOp::Has), 1),
            '=' => (Tok::Op(RawOp::Eq), 1),
            '!' if rest.starts_with("!=") => (Tok::Op(RawOp::Ne), 2),
            '!' => {
                return Err(FilterError::new(start, "unexpected `!`; the operators are =, !=, <, <=, >, >= and :"));
            }
            '<' if rest.starts_with("<=") => (Tok::Op(RawOp::Le), 2),
            '<' => (Tok::Op(RawOp::Lt), 1),
            '>' if rest.starts_with(">=") => (Tok::Op(RawOp::Ge), 2),
            '>' => (Tok::Op(RawOp::Gt), 1),
            '"' => {
                let len = string_len(rest, start)?;
                (Tok::Str(&rest[1..len - 1]), len)
            }
            _ => {
                let len = rest.find(|c| !is_word_char(c)).unwrap_or(rest.len());
                let word = &rest[..len];
                let tok = match word {
                    "AND" => Tok::And,
                    "OR" => Tok::Or,
                    "NOT" => Tok::Not,
                    _ if word.bytes().all(|b| b.is_ascii_digit()) => Tok::Int(word),
                    _ => Tok::Word(word),
                };
                (tok, len)
            }
        };
        self.pos += len;
        Ok(Token { tok, pos: start })
    }
}

/// The length in bytes of the quoted string `rest` starts with, quotes included; `start` is its position.
fn string_len(rest: &str, start: usize) -> Result<usize, FilterError> {
    let mut chars = rest.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok(i + 1),
            '\\' => match chars.next() {
                Some((_, '"' | '\\')) => {}
                Some((_, other)) => {
                    return Err(FilterError::new(
                        start + i,
                        format!("unknown escape `\\{other}` in a string; only \\\" and \\\\ are allowed"),
                    ));
                }
                None => break,
            },
            _ => {}
        }
    }
    Err(FilterError::new(start, "unterminated string: no `\"` closes it"))
}

fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(escaped) = chars.next() {
                out.push(escaped);
            }
        } else {
            out.push(c);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------------------------------

/// The fields, with what they accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Status,
    Kind,
    Country,
    Region,
    Output,
    Organisation,
    Funding,
    Plan,
    Start,
    End,
    Tentative,
}

/// Which operators a field accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OpKind {
    /// `=`, `!=`.
    Eq,
    /// `=`, `:`, `!=`.
    Has,
    /// `=`, `!=`, `<`, `<=`, `>`, `>=`.
    Date,
}

impl OpKind {
    fn allowed(self) -> &'static str {
        match self {
            OpKind::Eq => "= or !=",
            OpKind::Has => "=, : or !=",
            OpKind::Date => "=, !=, <, <=, > or >=",
        }
    }
}

/// A value as written.
#[derive(Debug)]
enum Value<'a> {
    Str(String),
    Int(&'a str),
    Bool(bool),
}

impl Value<'_> {
    fn describe(&self) -> String {
        match self {
            Value::Str(_) => "a string".to_owned(),
            Value::Int(i) => format!("the integer {i}"),
            Value::Bool(b) => format!("`{b}`"),
        }
    }
}

impl Field {
    fn from_name(name: &str) -> Option<Field> {
        Some(match name {
            "status" => Field::Status,
            "kind" => Field::Kind,
            "country" => Field::Country,
            "region" => Field::Region,
            "output" => Field::Output,
            "organisation" => Field::Organisation,
            "funding" => Field::Funding,
            "plan" => Field::Plan,
            "start" => Field::Start,
            "end" => Field::End,
            "tentative" => Field::Tentative,
            _ => return None,
        })
    }

    fn op_kind(self) -> OpKind {
        match self {
            Field::Status | Field::Kind | Field::Region | Field::Plan | Field::Tentative => OpKind::Eq,
            Field::Country | Field::Output | Field::Organisation | Field::Funding => OpKind::Has,
            Field::Start | Field::End => OpKind::Date,
        }
    }

    /// What the field's value looks like, for error messages.
    fn expected(self) -> &'static str {
        match self {
            Field::Status => "a status in double quotes, e.g. \"COMPLETED\"",
            Field::Kind => "a kind in double quotes, e.g. \"WORKSHOP\"",
            Field::Country => "a country in double quotes, e.g. \"countries/BR\" or \"BR\"",
            Field::Region => "a region in double quotes, e.g. \"EUROPE\"",
            Field::Output => "an output, 1, 2 or 3, without quotes",
            Field::Organisation => "an organisation in double quotes, e.g. \"organisations/itu\" or \"itu\"",
            Field::Funding => "a funding source in double quotes, e.g. \"project-budget\"",
            Field::Plan => "a plan in double quotes, e.g. \"2007-12..2008-06\"",
            Field::Start | Field::End => "a date in double quotes, e.g. \"2007-03-01\", \"2007-03\" or \"2007\"",
            Field::Tentative => "true or false, without quotes",
        }
    }

    /// The comparison `self op value`; `pos` is the position of the value.
    fn comparison(self, op: RawOp, value: Value<'_>, pos: usize) -> Result<Comparison, FilterError> {
        let eq_op = || if op == RawOp::Ne { EqOp::Ne } else { EqOp::Eq };
        let has_op = || if op == RawOp::Ne { HasOp::NotHas } else { HasOp::Has };
        let wrong_type = |value: &Value<'_>| {
            FilterError::new(pos, format!("expected {}, found {}", self.expected(), value.describe()))
        };
        let text = |value: Value<'_>| match value {
            Value::Str(s) => Ok(s),
            other => Err(wrong_type(&other)),
        };
        let non_empty = |value: Value<'_>| {
            let s = text(value)?;
            if s.is_empty() {
                Err(FilterError::new(pos, format!("expected {}, found an empty string", self.expected())))
            } else {
                Ok(s)
            }
        };
        let unknown = |what: &str, plural: &str, names: String, s: &str| {
            FilterError::new(pos, format!("unknown {what} {}; the {plural} are {names}", quoted(s)))
        };
        Ok(match self {
            Field::Status => {
                let s = text(value)?;
                let value = ActivityStatus::from_name(&s)
                    .ok_or_else(|| unknown("status", "statuses", ActivityStatus::api_names(), &s))?;
                Comparison::Status { op: eq_op(), value }
            }
            Field::Kind => {
                let s = text(value)?;
                let value = ActivityKind::from_name(&s)
                    .ok_or_else(|| unknown("kind", "kinds", ActivityKind::api_names(), &s))?;
                Comparison::Kind { op: eq_op(), value }
            }
            Field::Region => {
                let s = text(value)?;
                let value =
                    Region::from_name(&s).ok_or_else(|| unknown("region", "regions", Region::api_names(), &s))?;
                Comparison::Region { op: eq_op(), value }
            }
            Field::Country => {
                let s = text(value)?;
                let code = names::strip(names::COUNTRIES, &s).unwrap_or(&s);
                let value = code.parse::<CountryCode>().map_err(|message| FilterError::new(pos, message))?;
                Comparison::Country { op: has_op(), value }
            }
            Field::Output => {
                let Value::Int(digits) = value else { return Err(wrong_type(&value)) };
                let value = digits.parse::<u8>().ok().filter(|o| OUTPUTS.contains(o)).ok_or_else(|| {
                    FilterError::new(pos, format!("there is no output {digits}; the outputs are 1, 2 and 3"))
                })?;
                Comparison::Output { op: has_op(), value }
            }
            Field::Organisation => {
                let s = non_empty(value)?;
                let id = names::strip(names::ORGANISATIONS, &s).unwrap_or(&s);
                if id.is_empty() || id.contains('/') || id.contains(char::is_whitespace) {
                    return Err(FilterError::new(
                        pos,
                        format!(
                            "{} is not an organisation: write \"organisations/{{id}}\" or \"{{id}}\", e.g. \"itu\"",
                            quoted(&s)
                        ),
                    ));
                }
                Comparison::Organisation { op: has_op(), value: id.to_owned() }
            }
            Field::Funding => Comparison::Funding { op: has_op(), value: non_empty(value)? },
            Field::Plan => Comparison::Plan { op: eq_op(), value: non_empty(value)? },
            Field::Start | Field::End => {
                let s = text(value)?;
                let date = s.parse::<ApproxDate>().map_err(|e| FilterError::new(pos, e.to_string()))?;
                if matches!(date, ApproxDate::Between { .. }) {
                    return Err(FilterError::new(pos, format!("{} is a range; expected {DATE_FORMS}", quoted(&s))));
                }
                let op = match op {
                    RawOp::Eq => DateOp::Eq,
                    RawOp::Ne => DateOp::Ne,
                    RawOp::Lt => DateOp::Lt,
                    RawOp::Le => DateOp::Le,
                    RawOp::Gt => DateOp::Gt,
                    RawOp::Ge | RawOp::Has => DateOp::Ge,
                };
                if self == Field::Start {
                    Comparison::Start { op, value: date }
                } else {
                    Comparison::End { op, value: date }
                }
            }
            Field::Tentative => {
                let Value::Bool(value) = value else { return Err(wrong_type(&value)) };
                Comparison::Tentative { op: eq_op(), value }
            }
        })
    }
}

/// A text in double quotes, escaped as in a filter.
fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

#[derive(Debug)]
struct Parser<'a> {
    lexer: Lexer<'a>,
    peeked: Option<Token<'a>>,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn peek(&mut self) -> Result<Token<'a>, FilterError> {
        match self.peeked {
            Some(t) => Ok(t),
            None => {
                let t = self.lexer.next_token()?;
                self.peeked = Some(t);
                Ok(t)
            }
        }
    }

    fn bump(&mut self) -> Result<Token<'a>, FilterError> {
        let t = self.peek()?;
        self.peeked = None;
        Ok(t)
    }

    /// `expression := sequence {AND sequence}`
    fn expression(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.sequence()?;
        while self.peek()?.tok == Tok::And {
            self.bump()?;
            let right = self.sequence()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    /// `sequence := factor`: AIP-160's `factor {factor}` (implicit AND) is rejected.
    fn sequence(&mut self) -> Result<Expr, FilterError> {
        let factor = self.factor()?;
        let next = self.peek()?;
        match next.tok {
            Tok::Word(w) if ["and", "or", "not"].iter().any(|k| w.eq_ignore_ascii_case(k)) => {
                Err(FilterError::new(next.pos, format!("`{w}` is not a keyword: AND, OR and NOT are uppercase")))
            }
            Tok::Word(_) | Tok::LParen | Tok::Minus | Tok::Not | Tok::Str(_) | Tok::Int(_) => Err(FilterError::new(
                next.pos,
                "implicit AND (two terms side by side) is not supported: join them with AND or OR",
            )),
            _ => Ok(factor),
        }
    }

    /// `factor := term {OR term}`
    fn factor(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.term()?;
        while self.peek()?.tok == Tok::Or {
            self.bump()?;
            let right = self.term()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    /// `term := [NOT | -] simple`
    fn term(&mut self) -> Result<Expr, FilterError> {
        let t = self.peek()?;
        match t.tok {
            Tok::Not | Tok::Minus => {
                self.bump()?;
                let negated = self.simple(Some(t.tok))?;
                Ok(Expr::Not(Box::new(negated)))
            }
            _ => self.simple(None),
        }
    }

    /// `simple := restriction | "(" expression ")"`
    fn simple(&mut self, negation: Option<Tok<'a>>) -> Result<Expr, FilterError> {
        let t = self.bump()?;
        match t.tok {
            Tok::LParen => {
                if self.depth >= MAX_FILTER_DEPTH {
                    return Err(FilterError::new(t.pos, format!("parentheses nest more than {MAX_FILTER_DEPTH} deep")));
                }
                self.depth += 1;
                let expr = self.expression()?;
                let close = self.bump()?;
                match close.tok {
                    Tok::RParen => {}
                    Tok::End => {
                        return Err(FilterError::new(t.pos, "unbalanced parentheses: this `(` is never closed"));
                    }
                    other => {
                        return Err(FilterError::new(close.pos, format!("expected `)`, found {}", describe(other))));
                    }
                }
                self.depth -= 1;
                Ok(expr)
            }
            Tok::Word(name) => self.restriction(name, t.pos).map(Expr::Cmp),
            other => Err(FilterError::new(
                t.pos,
                match negation {
                    Some(n) => format!("expected a field or `(` after {}, found {}", describe(n), describe(other)),
                    None => format!("expected a field, `(`, NOT or `-`, found {}", describe(other)),
                },
            )),
        }
    }

    /// `restriction := field operator value`
    fn restriction(&mut self, name: &'a str, pos: usize) -> Result<Comparison, FilterError> {
        let Some(field) = Field::from_name(name) else {
            let hint = if ["and", "or", "not"].iter().any(|k| name.eq_ignore_ascii_case(k)) {
                " (the keywords AND, OR and NOT are uppercase)"
            } else {
                ""
            };
            return Err(FilterError::new(pos, format!("unknown field; fields are {FIELD_NAMES}{hint}")).in_field(name));
        };
        self.restriction_of(field).map_err(|e| e.in_field(name))
    }

    fn restriction_of(&mut self, field: Field) -> Result<Comparison, FilterError> {
        let kind = field.op_kind();
        let op_tok = self.bump()?;
        let Tok::Op(op) = op_tok.tok else {
            return Err(FilterError::new(
                op_tok.pos,
                format!("expected an operator ({}) after the field, found {}", kind.allowed(), describe(op_tok.tok)),
            ));
        };
        let allowed = match kind {
            OpKind::Eq => matches!(op, RawOp::Eq | RawOp::Ne),
            OpKind::Has => matches!(op, RawOp::Eq | RawOp::Ne | RawOp::Has),
            OpKind::Date => op != RawOp::Has,
        };
        if !allowed {
            return Err(FilterError::new(
                op_tok.pos,
                format!("operator `{}` is not allowed here; use {}", op.text(), kind.allowed()),
            ));
        }
        let value_tok = self.bump()?;
        let value = match value_tok.tok {
            Tok::Str(raw) => Value::Str(unescape(raw)),
            Tok::Int(digits) => Value::Int(digits),
            Tok::Word("true") => Value::Bool(true),
            Tok::Word("false") => Value::Bool(false),
            Tok::Word(w) => {
                return Err(FilterError::new(
                    value_tok.pos,
                    format!(
                        "expected {}, found the bare word `{w}` (only integers, true and false go without quotes)",
                        field.expected()
                    ),
                ));
            }
            other => {
                return Err(FilterError::new(
                    value_tok.pos,
                    format!("expected {}, found {}", field.expected(), describe(other)),
                ));
            }
        };
        field.comparison(op, value, value_tok.pos)
    }
}
