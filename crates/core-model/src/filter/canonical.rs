//! The canonical text of a filter: enum values in capitals, resource names, `=` for "has", `NOT` for `-`, one
//! space around operators and keywords, and only the parentheses the precedence needs.

use std::fmt::{self, Write as _};

use super::{Comparison, Expr, Filter};
use crate::names;

/// The canonical text: enum values in capitals, `countries/` and `organisations/` resource names, `=` for "has",
/// `NOT` for `-`, one space around operators and keywords, and only the parentheses the precedence needs. It
/// parses back to the same filter, unless it is longer than [`MAX_FILTER_LEN`](super::MAX_FILTER_LEN) (as the canonical text of a filter
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
