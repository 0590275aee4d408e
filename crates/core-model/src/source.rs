//! Where a fact comes from: every record of the dataset names its source documents.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A document facts are taken from (declared once in `data/sources.toml`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceDocument {
    /// Short identifier used in `source` fields, e.g. `report-2007-11` or `CoE-2015`.
    pub id: String,
    /// Full citation.
    pub title: String,
    /// Free text, e.g. how the document was obtained or what it covers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One citation: a document and, optionally, where in it (a section, a table).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Citation {
    /// The [`SourceDocument::id`].
    pub document: String,
    /// Where in the document, e.g. `§2.1`.
    pub locator: Option<String>,
}

/// The sources of one fact: one or more citations.
///
/// Text form: `report-2007-11 §2.1` or, for several, `CoE-2015; Finlex`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SourceRef(pub Vec<Citation>);

impl SourceRef {
    /// A single citation of a document at a locator.
    pub fn new(document: &str, locator: Option<&str>) -> Self {
        SourceRef(vec![Citation { document: document.to_owned(), locator: locator.map(str::to_owned) }])
    }

    /// The documents cited.
    pub fn documents(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|c| c.document.as_str())
    }
}

impl fmt::Display for SourceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, c) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            f.write_str(&c.document)?;
            if let Some(l) = &c.locator {
                write!(f, " {l}")?;
            }
        }
        Ok(())
    }
}

impl FromStr for SourceRef {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut citations = Vec::new();
        for part in s.split(';') {
            let part = part.trim();
            if part.is_empty() {
                return Err(format!("`{s}` has an empty citation"));
            }
            let (document, locator) = match part.split_once(char::is_whitespace) {
                Some((d, l)) => (d, Some(l.trim().to_owned())),
                None => (part, None),
            };
            citations.push(Citation { document: document.to_owned(), locator });
        }
        Ok(SourceRef(citations))
    }
}

impl Serialize for SourceRef {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SourceRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?.parse().map_err(serde::de::Error::custom)
    }
}
