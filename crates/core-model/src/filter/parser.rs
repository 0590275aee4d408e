//! The filter language's grammar (AIP-160's, without implicit AND), and each field with the operators and values
//! it accepts.

use std::marker::PhantomData;

use super::{
    Comparison, CountryComparison, DateOp, EqOp, Expr, FilterError, HasOp, MAX_FILTER_DEPTH,
    lexer::{Lexer, RawOp, Tok, Token, describe, unescape},
};
use crate::{ActivityKind, ActivityStatus, ApproxDate, CountryCode, OUTPUTS, Region, Vocabulary, names};

/// The forms a date value takes, for error messages.
const DATE_FORMS: &str = "a day, a month or a year, e.g. \"2007-03-01\", \"2007-03\" or \"2007\"";

/// What a filter selects: the fields it may name and the comparisons they make. The grammar (AND, OR, NOT,
/// parentheses, values, limits, errors) is the same for every schema.
pub(super) trait Schema {
    /// A comparison of one field with a value.
    type Cmp;
    /// The fields, in the order error messages list them.
    const FIELD_NAMES: &'static str;
    /// The field named `name`, if the schema has it.
    fn field(name: &str) -> Option<Field>;
    /// The comparison `field op value` (`pos`: the value's position).
    fn comparison(field: Field, op: RawOp, value: Value<'_>, pos: usize) -> Result<Self::Cmp, FilterError>;
}

/// Filters on activities ([`super::Filter`]).
#[derive(Debug)]
pub(super) struct Activities;

impl Schema for Activities {
    type Cmp = Comparison;
    const FIELD_NAMES: &'static str =
        "status, kind, country, region, output, organisation, funding, plan, start, end, tentative";
    fn field(name: &str) -> Option<Field> {
        Field::from_name(name).filter(|f| *f != Field::CoeMember)
    }
    fn comparison(field: Field, op: RawOp, value: Value<'_>, pos: usize) -> Result<Comparison, FilterError> {
        field.comparison(op, value, pos)
    }
}

/// Filters on countries ([`super::CountryFilter`]).
#[derive(Debug)]
pub(super) struct Countries;

impl Schema for Countries {
    type Cmp = CountryComparison;
    const FIELD_NAMES: &'static str = "region, coe_member";
    fn field(name: &str) -> Option<Field> {
        Field::from_name(name).filter(|f| matches!(f, Field::Region | Field::CoeMember))
    }
    fn comparison(field: Field, op: RawOp, value: Value<'_>, pos: usize) -> Result<CountryComparison, FilterError> {
        let op = if op == RawOp::Ne { EqOp::Ne } else { EqOp::Eq };
        match (field, value) {
            (Field::CoeMember, Value::Bool(value)) => Ok(CountryComparison::CoeMember { op, value }),
            (Field::Region, value) => match field.comparison(RawOp::Eq, value, pos)? {
                Comparison::Region { value, .. } => Ok(CountryComparison::Region { op, value }),
                _ => unreachable!("a region comparison"),
            },
            (field, value) => {
                Err(FilterError::new(pos, format!("expected {}, found {}", field.expected(), value.describe())))
            }
        }
    }
}

/// The fields, with what they accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
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
    /// `coe_member` (countries only): a member State of the Council of Europe.
    CoeMember,
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
pub(super) enum Value<'a> {
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
            "coe_member" => Field::CoeMember,
            _ => return None,
        })
    }

    fn op_kind(self) -> OpKind {
        match self {
            Field::Status | Field::Kind | Field::Region | Field::Plan | Field::Tentative | Field::CoeMember => {
                OpKind::Eq
            }
            Field::Country | Field::Output | Field::Organisation | Field::Funding => OpKind::Has,
            Field::Start | Field::End => OpKind::Date,
        }
    }

    /// The prefix of the field's values in the protobuf enum the responses print (`ACTIVITY_STATUS_`), for the
    /// fields whose values are names of a closed set (they may be written bare, and with that prefix); `None` for
    /// the other fields.
    fn enum_prefix(self) -> Option<&'static str> {
        match self {
            Field::Status => Some("ACTIVITY_STATUS_"),
            Field::Kind => Some("ACTIVITY_KIND_"),
            Field::Region => Some("REGION_"),
            _ => None,
        }
    }

    /// The value `text` less the field's enum prefix ([`Field::enum_prefix`], matched regardless of case, `-`
    /// for `_`), or `text` itself.
    fn unprefixed(self, text: &str) -> String {
        let prefix = self.enum_prefix().unwrap_or_default();
        let normal = |s: &str| s.to_ascii_uppercase().replace('-', "_");
        match text.get(..prefix.len()) {
            Some(head) if !prefix.is_empty() && normal(head) == prefix => text[prefix.len()..].to_owned(),
            _ => text.to_owned(),
        }
    }

    /// What the field's value looks like, for error messages.
    fn expected(self) -> &'static str {
        match self {
            Field::Status => "a status, e.g. COMPLETED, \"COMPLETED\" or ACTIVITY_STATUS_COMPLETED",
            Field::Kind => "a kind, e.g. WORKSHOP, \"WORKSHOP\" or ACTIVITY_KIND_WORKSHOP",
            Field::Country => "a country in double quotes, e.g. \"countries/BR\" or \"BR\"",
            Field::Region => "a region, e.g. EUROPE, \"EUROPE\" or REGION_EUROPE",
            Field::Output => "an output, 1, 2 or 3, without quotes",
            Field::Organisation => "an organisation in double quotes, e.g. \"organisations/itu\" or \"itu\"",
            Field::Funding => "a funding source in double quotes, e.g. \"project-budget\"",
            Field::Plan => "a plan in double quotes, e.g. \"2007-12..2008-06\"",
            Field::Start | Field::End => "a date in double quotes, e.g. \"2007-03-01\", \"2007-03\" or \"2007\"",
            Field::Tentative | Field::CoeMember => "true or false, without quotes",
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
                let value = ActivityStatus::from_name(&self.unprefixed(&s))
                    .ok_or_else(|| unknown("status", "statuses", ActivityStatus::api_names(), &s))?;
                Comparison::Status { op: eq_op(), value }
            }
            Field::Kind => {
                let s = text(value)?;
                let value = ActivityKind::from_name(&self.unprefixed(&s))
                    .ok_or_else(|| unknown("kind", "kinds", ActivityKind::api_names(), &s))?;
                Comparison::Kind { op: eq_op(), value }
            }
            Field::Region => {
                let s = text(value)?;
                let value = Region::from_name(&self.unprefixed(&s))
                    .ok_or_else(|| unknown("region", "regions", Region::api_names(), &s))?;
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
            Field::CoeMember => return Err(FilterError::new(pos, "coe_member is a field of countries")),
        })
    }
}

/// A text in double quotes, escaped as in a filter.
fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

#[derive(Debug)]
pub(super) struct Parser<'a, S> {
    lexer: Lexer<'a>,
    peeked: Option<Token<'a>>,
    depth: usize,
    schema: PhantomData<S>,
}

impl<'a, S: Schema> Parser<'a, S> {
    /// A parser of `text`, at its start.
    pub(super) fn new(text: &'a str) -> Parser<'a, S> {
        Parser { lexer: Lexer { text, pos: 0 }, peeked: None, depth: 0, schema: PhantomData }
    }

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

    pub(super) fn bump(&mut self) -> Result<Token<'a>, FilterError> {
        let t = self.peek()?;
        self.peeked = None;
        Ok(t)
    }

    /// `expression := sequence {AND sequence}`
    pub(super) fn expression(&mut self) -> Result<Expr<S::Cmp>, FilterError> {
        let mut left = self.sequence()?;
        while self.peek()?.tok == Tok::And {
            self.bump()?;
            let right = self.sequence()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    /// `sequence := factor`: AIP-160's `factor {factor}` (implicit AND) is rejected.
    fn sequence(&mut self) -> Result<Expr<S::Cmp>, FilterError> {
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
    fn factor(&mut self) -> Result<Expr<S::Cmp>, FilterError> {
        let mut left = self.term()?;
        while self.peek()?.tok == Tok::Or {
            self.bump()?;
            let right = self.term()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    /// `term := [NOT | -] simple`
    fn term(&mut self) -> Result<Expr<S::Cmp>, FilterError> {
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
    fn simple(&mut self, negation: Option<Tok<'a>>) -> Result<Expr<S::Cmp>, FilterError> {
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
    fn restriction(&mut self, name: &'a str, pos: usize) -> Result<S::Cmp, FilterError> {
        let Some(field) = S::field(name) else {
            let hint = if ["and", "or", "not"].iter().any(|k| name.eq_ignore_ascii_case(k)) {
                " (the keywords AND, OR and NOT are uppercase)"
            } else {
                ""
            };
            return Err(
                FilterError::new(pos, format!("unknown field; fields are {}{hint}", S::FIELD_NAMES)).in_field(name)
            );
        };
        self.restriction_of(field).map_err(|e| e.in_field(name))
    }

    fn restriction_of(&mut self, field: Field) -> Result<S::Cmp, FilterError> {
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
            Tok::Word(w) if field.enum_prefix().is_some() => Value::Str(w.to_owned()),
            Tok::Word(w) => {
                return Err(FilterError::new(
                    value_tok.pos,
                    format!(
                        "expected {}, found the bare word `{w}` (only integers, true, false and the values of status, kind \
                         and region go without quotes)",
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
        S::comparison(field, op, value, value_tok.pos)
    }
}
