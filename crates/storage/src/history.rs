//! What an export keeps beside the dataset, so that a restore keeps the store's guarantees: the audit log, the
//! request ids with their answers, and the etag of every activity, record and treaty action.
//!
//! Three files, written beside the dataset's own (which [`core_model::Dataset::parse`] does not read):
//! `audit.jsonl` and `requests.jsonl` (one JSON object a line, oldest first) and `versions.toml` (the etags). A
//! folder without them (a hand-made dataset such as `data/`) has an empty history: it imports as a new store.

use std::collections::{BTreeMap, BTreeSet};

use core_model::{DatasetError, DatasetErrors};
use serde::{Deserialize, Serialize};

use crate::{AuditEntry, Result, StorageError, resource::Resource};

/// The audit log, one entry a line.
pub(crate) const AUDIT_FILE: &str = "audit.jsonl";
/// The request ids, one a line.
pub(crate) const REQUESTS_FILE: &str = "requests.jsonl";
/// The etag of every activity, record and treaty action.
pub(crate) const VERSIONS_FILE: &str = "versions.toml";

/// A request id recorded by the store: who sent it, for what, and the answer a repeat of it gets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestEntry {
    /// The principal that sent it.
    pub principal: String,
    /// The request id.
    pub request_id: String,
    /// The write's operation, e.g. `update`.
    pub operation: String,
    /// The write's resource, e.g. `activities/2007-03-19-belgrade`.
    pub resource: String,
    /// The fingerprint of the write's input; `None` for ids recorded before schema version 3.
    pub fingerprint: Option<String>,
    /// The answer a repeat gets (the store's own encoding).
    pub response: String,
    /// When (UTC, RFC 3339).
    pub at: String,
}

/// A store's history: what an export keeps beside the dataset.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct History {
    /// The audit log, oldest first.
    pub audit: Vec<AuditEntry>,
    /// The request ids.
    pub requests: Vec<RequestEntry>,
    /// The etag of every activity, record and treaty action, by resource name: `activities/ID`, the record's kind
    /// and id (`organisation/microsoft`), or the action's name (`treaties/185/actions/AL-ratification`), as the
    /// audit log names them. An etag is the audit position of the write that made the version (the API shows it
    /// quoted).
    pub etags: BTreeMap<String, i64>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct VersionsFile {
    #[serde(default)]
    etags: BTreeMap<String, i64>,
}

const VERSIONS_HEAD: &str = "# The etag of every activity, record and treaty action of the store this folder was \
                             exported from (`cybercrime export`).\n# `cybercrime import` restores them, so that an \
                             etag a client holds keeps its meaning after a restore.\n\n";

fn problem(file: &str, line: Option<usize>, message: String) -> StorageError {
    StorageError::Dataset(DatasetErrors(vec![DatasetError {
        file: file.to_owned(),
        record: line.map(|n| format!("line {n}")),
        field: None,
        message,
    }]))
}

fn lines<T: for<'de> Deserialize<'de>>(file: &str, text: &str) -> Result<Vec<T>> {
    let mut items = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        items.push(serde_json::from_str(line).map_err(|e| problem(file, Some(i + 1), e.to_string()))?);
    }
    Ok(items)
}

fn json_lines<T: Serialize>(items: &[T]) -> Result<String> {
    let mut text = String::new();
    for item in items {
        text.push_str(
            &serde_json::to_string(item)
                .map_err(|e| StorageError::Internal(format!("cannot encode the history: {e}")))?,
        );
        text.push('\n');
    }
    Ok(text)
}

impl History {
    /// The names of the files a history is written to.
    pub const FILES: [&'static str; 3] = [AUDIT_FILE, REQUESTS_FILE, VERSIONS_FILE];

    /// Nothing recorded: what a folder without the history files gives.
    pub fn is_empty(&self) -> bool {
        self.audit.is_empty() && self.requests.is_empty() && self.etags.is_empty()
    }

    /// The history's files, as (name, text).
    pub fn to_files(&self) -> Result<Vec<(String, String)>> {
        let versions = toml::to_string(&VersionsFile { etags: self.etags.clone() })
            .map_err(|e| StorageError::Internal(format!("cannot encode the etags: {e}")))?;
        Ok(vec![
            (AUDIT_FILE.to_owned(), json_lines(&self.audit)?),
            (REQUESTS_FILE.to_owned(), json_lines(&self.requests)?),
            (VERSIONS_FILE.to_owned(), format!("{VERSIONS_HEAD}{versions}")),
        ])
    }

    /// Parses the history files among `files` (name, text); a file that is absent is an empty part. Refuses,
    /// naming the file and the line, what is not well formed, an audit log out of order, a request id twice for
    /// one principal, and a negative etag (0 is the etag migration 0004 gives a row of a store without an audit
    /// log).
    pub fn parse(files: &[(&str, &str)]) -> Result<History> {
        let text = |name: &str| files.iter().find(|(n, _)| *n == name).map(|(_, t)| *t);
        let mut history = History::default();
        if let Some(t) = text(AUDIT_FILE) {
            history.audit = lines(AUDIT_FILE, t)?;
            for (i, pair) in history.audit.windows(2).enumerate() {
                if pair[1].seq <= pair[0].seq {
                    return Err(problem(
                        AUDIT_FILE,
                        Some(i + 2),
                        format!("seq {} does not follow seq {}: the log must be in order", pair[1].seq, pair[0].seq),
                    ));
                }
            }
            if let Some(first) = history.audit.first().filter(|e| e.seq < 1) {
                return Err(problem(AUDIT_FILE, Some(1), format!("seq {} is below 1", first.seq)));
            }
        }
        if let Some(t) = text(REQUESTS_FILE) {
            history.requests = lines(REQUESTS_FILE, t)?;
            let mut seen = BTreeSet::new();
            for (i, r) in history.requests.iter().enumerate() {
                if !seen.insert((r.principal.as_str(), r.request_id.as_str())) {
                    return Err(problem(
                        REQUESTS_FILE,
                        Some(i + 1),
                        format!("request id `{}` of {} is listed twice", r.request_id, r.principal),
                    ));
                }
            }
        }
        if let Some(t) = text(VERSIONS_FILE) {
            let parsed: VersionsFile = toml::from_str(t).map_err(|e| problem(VERSIONS_FILE, None, e.to_string()))?;
            if let Some((resource, etag)) = parsed.etags.iter().find(|(_, etag)| **etag < 0) {
                return Err(problem(VERSIONS_FILE, None, format!("`{resource}`: etag {etag} is negative")));
            }
            history.etags = parsed.etags;
        }
        Ok(history)
    }

    /// Refuses etags that name an activity, record or treaty action `dataset` does not hold (files of different
    /// exports).
    pub fn check_names(&self, dataset: &core_model::Dataset) -> Result<()> {
        let mut names: BTreeSet<String> =
            dataset.activities.iter().map(|a| Resource::Activity(a.id.clone()).to_string()).collect();
        names.extend(crate::record::records_of(dataset).iter().map(|r| Resource::Record(r.kind(), r.id()).to_string()));
        names.extend(dataset.treaty_actions.iter().map(|a| Resource::treaty_action(a).to_string()));
        match self.etags.keys().find(|name| !names.contains(*name)) {
            Some(name) => Err(problem(
                VERSIONS_FILE,
                None,
                format!("`{name}` is not in the dataset: these files are not of one export"),
            )),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_history_is_written_and_parsed_back_equal() {
        let history = History {
            audit: vec![AuditEntry {
                seq: 4,
                at: "2026-12-01T00:00:00.000000Z".into(),
                principal: "editor@coe".into(),
                request_id: Some("r\n1 \"quoted\"".into()),
                operation: "update".into(),
                resource: "activities/x".into(),
                before: Some("{\"a\":1}".into()),
                after: None,
            }],
            requests: vec![RequestEntry {
                principal: "editor@coe".into(),
                request_id: "r\n1 \"quoted\"".into(),
                operation: "update".into(),
                resource: "activities/x".into(),
                fingerprint: Some("ab".into()),
                response: "{\"etag\":\"2\",\"body\":null}".into(),
                at: "2026-12-01T00:00:00.000000Z".into(),
            }],
            etags: [("activities/x".to_owned(), 2), ("organisation/a \"b\"".to_owned(), 7)].into_iter().collect(),
        };
        let files = history.to_files().unwrap();
        let borrowed: Vec<(&str, &str)> = files.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
        assert_eq!(History::parse(&borrowed).unwrap(), history);
        assert!(History::parse(&[]).unwrap().is_empty());
    }

    #[test]
    fn a_bad_history_is_refused_naming_the_file_and_line() {
        let err = History::parse(&[(REQUESTS_FILE, "\n{\"principal\": 3}\n")]).unwrap_err();
        assert!(err.to_string().contains("requests.jsonl: line 2"), "{err}");
        let entry = r#"{"seq":SEQ,"at":"t","principal":"p","request_id":null,"operation":"o","resource":"r","before":null,"after":null}"#;
        let log = format!("{}\n{}\n", entry.replace("SEQ", "2"), entry.replace("SEQ", "2"));
        let err = History::parse(&[(AUDIT_FILE, &log)]).unwrap_err();
        assert!(
            err.to_string().contains("audit.jsonl: line 2") && err.to_string().contains("seq 2 does not follow"),
            "{err}"
        );
        let err = History::parse(&[(VERSIONS_FILE, "[etags]\n\"activities/x\" = -1\n")]).unwrap_err();
        assert!(err.to_string().contains("versions.toml") && err.to_string().contains("negative"), "{err}");
        assert!(History::parse(&[(VERSIONS_FILE, "[etags]\n\"activities/x\" = 0\n")]).is_ok());
        let err = History::parse(&[(VERSIONS_FILE, "[etag]\n")]).unwrap_err();
        assert!(err.to_string().contains("versions.toml"), "{err}");
    }
}
