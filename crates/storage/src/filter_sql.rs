//! Translates a parsed [`Filter`] into a SQL condition over the `activities` table (aliased `a`) and its
//! reference tables, with the same meaning as [`Filter::matches`]: every comparison is a true boolean (never
//! NULL), so `NOT` and `!=` behave as they do in memory.

use core_model::{ApproxDate, Comparison, DateOp, EqOp, Expr, Filter, HasOp};

use crate::sql::Param;

/// The condition (`TRUE`-equivalent for an empty filter) and its parameters, numbered `$1`, `$2`...
pub(crate) fn to_sql(filter: &Filter) -> (String, Vec<Param>) {
    let mut params = Vec::new();
    let sql = match &filter.expr {
        None => "1 = 1".to_owned(),
        Some(e) => expr(e, &mut params),
    };
    (sql, params)
}

fn bind(params: &mut Vec<Param>, p: Param) -> String {
    params.push(p);
    format!("${}", params.len())
}

fn expr(e: &Expr, params: &mut Vec<Param>) -> String {
    match e {
        Expr::And(a, b) => format!("({} AND {})", expr(a, params), expr(b, params)),
        Expr::Or(a, b) => format!("({} OR {})", expr(a, params), expr(b, params)),
        Expr::Not(a) => format!("(NOT {})", expr(a, params)),
        Expr::Cmp(c) => comparison(c, params),
    }
}

fn eq(column: &str, op: EqOp, value: Param, params: &mut Vec<Param>) -> String {
    let p = bind(params, value);
    // `IS NOT NULL AND` rather than `COALESCE(.., FALSE)`: the same two-valued answer (an absent value is not
    // equal), and the database can still use an index on the column (it cannot through COALESCE).
    let equal = format!("({column} IS NOT NULL AND {column} = {p})");
    match op {
        EqOp::Eq => equal,
        EqOp::Ne => format!("(NOT {equal})"),
    }
}

fn has(table: &str, column: &str, op: HasOp, value: Param, params: &mut Vec<Param>) -> String {
    let p = bind(params, value);
    let exists = format!("EXISTS (SELECT 1 FROM {table} r WHERE r.activity_id = a.id AND r.{column} = {p})");
    match op {
        HasOp::Has => exists,
        HasOp::NotHas => format!("(NOT {exists})"),
    }
}

fn date(prefix: &str, op: DateOp, value: &ApproxDate, params: &mut Vec<Param>) -> String {
    let (e, l) = (format!("a.{prefix}_earliest"), format!("a.{prefix}_latest"));
    let mut day = |d: Option<chrono::NaiveDate>| d.map(|d| bind(params, Param::Text(d.to_string())));
    // A comparison with an absent bound is false, never NULL (so that NOT keeps its meaning), written so that
    // an index on the column can serve it.
    let certain = |column: &str, cond: Option<String>| {
        cond.map_or_else(|| "FALSE".to_owned(), |c| format!("({column} IS NOT NULL AND {c})"))
    };
    match op {
        DateOp::Ge => certain(&e, day(value.earliest()).map(|v| format!("{e} >= {v}"))),
        DateOp::Gt => certain(&e, day(value.latest()).map(|v| format!("{e} > {v}"))),
        DateOp::Le => certain(&l, day(value.latest()).map(|v| format!("{l} <= {v}"))),
        DateOp::Lt => certain(&l, day(value.earliest()).map(|v| format!("{l} < {v}"))),
        DateOp::Eq | DateOp::Ne => {
            let within = match (day(value.earliest()), day(value.latest())) {
                (Some(a), Some(b)) => format!("({e} IS NOT NULL AND {l} IS NOT NULL AND {e} >= {a} AND {l} <= {b})"),
                _ => "FALSE".to_owned(),
            };
            if op == DateOp::Eq { within } else { format!("(({e} IS NOT NULL OR {l} IS NOT NULL) AND NOT {within})") }
        }
    }
}

fn comparison(c: &Comparison, params: &mut Vec<Param>) -> String {
    match c {
        Comparison::Status { op, value } => eq("a.status", *op, Param::Text(value.as_str().to_owned()), params),
        Comparison::Kind { op, value } => eq("a.kind", *op, Param::Text(value.as_str().to_owned()), params),
        Comparison::Region { op, value } => eq("a.region", *op, Param::Text(value.as_str().to_owned()), params),
        Comparison::Plan { op, value } => eq("a.plan", *op, Param::Text(value.clone()), params),
        Comparison::Tentative { op, value } => eq("a.tentative", *op, Param::Bool(*value), params),
        Comparison::Country { op, value } => {
            has("activity_countries", "country", *op, Param::Text(value.to_string()), params)
        }
        Comparison::Output { op, value } => {
            has("activity_outputs", "output", *op, Param::Int(i64::from(*value)), params)
        }
        Comparison::Organisation { op, value } => {
            has("activity_partners", "organisation", *op, Param::Text(value.clone()), params)
        }
        Comparison::Funding { op, value } => {
            has("activity_funding", "funding", *op, Param::Text(value.clone()), params)
        }
        Comparison::Start { op, value } => date("start", *op, value, params),
        Comparison::End { op, value } => date("end", *op, value, params),
    }
}
