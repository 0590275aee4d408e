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
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Citation {
    /// The [`SourceDocument::id`].
    pub document: String,
    /// Where in the document, e.g. `§2.1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locator: Option<String>,
}

/// The sources of one fact: one or more citations.
///
/// Written structurally, as a list of `{document, locator}` (in the store's JSON bodies and in the dataset files
/// a store exports), so that whatever a locator holds is read back as it was written. Read from that form or
/// from the short text form of hand-written data files and of stores written before: `report-2007-11 §2.1` or,
/// for several, `CoE-2015; Finlex` (a text that [`FromStr`] splits on `;`, so only a structured citation can
/// hold a `;`).
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

    /// Checks the citations' form (not that the documents exist): at least one and at most
    /// [`limits::CITATIONS`](crate::limits::CITATIONS); each document a source id
    /// ([`limits::check_source_id`](crate::limits::check_source_id)); each locator one line of at most
    /// [`limits::LOCATOR`](crate::limits::LOCATOR) characters. `field` names the list in the error, e.g. `source`.
    pub fn check(&self, field: &str) -> Result<(), crate::ModelError> {
        crate::ModelError::all(self.problems(field))
    }

    /// Every problem [`SourceRef::check`] finds: each citation's, not only the first.
    pub fn problems(&self, field: &str) -> Vec<crate::ModelError> {
        use crate::limits;
        if self.0.is_empty() {
            return vec![limits::problem(field, "required: at least one citation of the source")];
        }
        let mut problems: Vec<_> =
            limits::check_count(field, self.0.len(), limits::CITATIONS).err().into_iter().collect();
        for (i, c) in self.0.iter().enumerate() {
            problems.extend(limits::check_source_id(&format!("{field}[{i}].document"), &c.document).err());
            if let Some(l) = &c.locator {
                problems.extend(limits::check_line(&format!("{field}[{i}].locator"), l, limits::LOCATOR).err());
            }
        }
        problems
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
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for SourceRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// Reads either form, with the error of the form found (an untagged enum would only say "no variant").
        struct Forms;
        impl<'de> serde::de::Visitor<'de> for Forms {
            type Value = SourceRef;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of citations `{document, locator}` or a text such as `report-2007-11 §2.1`")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<SourceRef, E> {
                text.parse().map_err(E::custom)
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<SourceRef, A::Error> {
                Vec::<Citation>::deserialize(serde::de::value::SeqAccessDeserializer::new(seq)).map(SourceRef)
            }
        }
        deserializer.deserialize_any(Forms)
    }
}
