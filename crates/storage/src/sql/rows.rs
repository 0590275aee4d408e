//! How rows are written and read: bound parameters, records' JSON bodies, etags, and pages in `seq` order.
//!
//! Invariants: a body is written only if it decodes back to an equal record ([`encode_checked`]), so what is
//! accepted can be read back; a row that cannot be decoded is skipped by lists and named apart
//! ([`Inner::page_readable`]), never fatal; a page is in `seq` order, and its token is bound to its list.

use serde::{Serialize, de::DeserializeOwned};
use sqlx::{Any, Row, any::AnyRow};

use super::{Inner, db_error::DbResult};
use crate::{Page, PageRequest, Result, StorageError, token};

/// A parameter bound to a query.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Param {
    Text(String),
    OptText(Option<String>),
    Int(i64),
    Bool(bool),
}

type AnyQuery<'q> = sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>;

/// `q` with `params` bound, in order, to `$1`, `$2`...
pub(super) fn bind_all<'q>(mut q: AnyQuery<'q>, params: &'q [Param]) -> AnyQuery<'q> {
    for p in params {
        q = match p {
            Param::Text(s) => q.bind(s.as_str()),
            Param::OptText(s) => q.bind(s.as_deref()),
            Param::Int(i) => q.bind(*i),
            Param::Bool(b) => q.bind(*b),
        };
    }
    q
}

/// A stored body decoded; a failure is internal (the row was checked when written).
pub(super) fn decode<T: DeserializeOwned>(body: &str) -> Result<T> {
    serde_json::from_str(body).map_err(|e| StorageError::Internal(format!("cannot decode a stored record: {e}")))
}

/// A value encoded as JSON.
pub(super) fn encode<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StorageError::Internal(format!("cannot encode a record: {e}")))
}

/// Encodes a record to be written, after checking that the text decodes back to an equal record: nothing is
/// committed that could not be read again.
pub(super) fn encode_checked<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(
    value: &T,
) -> Result<String> {
    let body = encode(value)?;
    match serde_json::from_str::<T>(&body) {
        Ok(back) if &back == value => Ok(body),
        Ok(back) => Err(StorageError::Internal(format!(
            "refused to write a record that would read back differently: {value:?} would read back as {back:?}"
        ))),
        Err(e) => Err(StorageError::Internal(format!("refused to write a record that would not read back: {e}"))),
    }
}

/// A stored row decoded, or the reason it cannot be.
pub(super) fn try_decode<T: DeserializeOwned>(body: &str) -> std::result::Result<T, String> {
    serde_json::from_str(body).map_err(|e| e.to_string())
}

/// The etag of a row whose version was made by the write at audit position `seq` (the `etag` column): the
/// decimal position in double quotes (`"4711"`, RFC 7232's form). Positions are never given twice, so an etag is
/// unique over a resource's whole life, across a delete and a re-create; the quotes keep it apart from the bare
/// per-resource counters (`1`, `2`) of schema versions before 4, which therefore never match again.
pub(crate) fn etag_of(seq: i64) -> String {
    format!("\"{seq}\"")
}

/// Refuses a write that names an etag (AIP-154) other than the row's current one (its `etag` column, `current`);
/// no etag, or an empty one, means "whatever the current version".
pub(super) fn check_etag(kind: &'static str, id: &str, given: Option<&str>, current: i64) -> Result<()> {
    match given {
        Some(g) if !g.is_empty() && g != etag_of(current) => {
            Err(StorageError::EtagMismatch { kind, id: id.to_owned(), given: g.to_owned(), current: etag_of(current) })
        }
        _ => Ok(()),
    }
}

impl Inner {
    /// A page of the rows `sql_head` selects (a `SELECT ... WHERE condition` with a `seq` column and `params`
    /// numbered from `$1`), in `seq` order, after the position of `page`'s token (bound to `scope`).
    pub(super) async fn page<T>(
        &self,
        sql_head: &str,
        params: Vec<Param>,
        scope: &str,
        page: &PageRequest,
        mut item: impl FnMut(&AnyRow) -> Result<T>,
    ) -> Result<Page<T>> {
        self.page_readable(sql_head, params, scope, page, |row| item(row).map(Some)).await
    }

    /// A page of rows as [`Inner::page`] reads it, without the rows `item` sets aside (`None`: rows that cannot
    /// be decoded, which lists skip and name apart).
    pub(super) async fn page_readable<T>(
        &self,
        sql_head: &str,
        mut params: Vec<Param>,
        scope: &str,
        page: &PageRequest,
        mut item: impl FnMut(&AnyRow) -> Result<Option<T>>,
    ) -> Result<Page<T>> {
        let after = token::decode(scope, &page.page_token)?;
        let size = page.size() as usize;
        let n = params.len();
        let sql = format!("{sql_head} AND seq > ${} ORDER BY seq LIMIT ${}", n + 1, n + 2);
        params.push(Param::Int(after));
        params.push(Param::Int(size as i64 + 1));
        // Read until the page and one more readable item are found, or the rows end: rows set aside do not
        // shorten a page, so pages and tokens are those of a list without them.
        let mut items: Vec<(i64, T)> = Vec::with_capacity(size + 1);
        loop {
            let rows = bind_all(sqlx::query(&sql), &params).fetch_all(&self.pool).await.db(self)?;
            let ended = rows.len() <= size;
            for row in &rows {
                let seq = row.try_get::<i64, _>("seq").db(self)?;
                params[n] = Param::Int(seq);
                if let Some(found) = item(row)? {
                    items.push((seq, found));
                    if items.len() > size {
                        break;
                    }
                }
            }
            if ended || items.len() > size {
                break;
            }
        }
        let more = items.len() > size;
        items.truncate(size);
        let last = items.last().map_or(after, |(seq, _)| *seq);
        Ok(Page {
            items: items.into_iter().map(|(_, item)| item).collect(),
            next_page_token: if more { token::encode(scope, last) } else { String::new() },
        })
    }
}
