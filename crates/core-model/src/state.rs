//! States (and Kosovo): the parties, signatories and partners of the project.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{TreatyNumber, vocabulary::vocabulary};

/// An ISO 3166-1 alpha-2 code (Kosovo uses the user-assigned `XK`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CountryCode(String);

impl CountryCode {
    /// The two capital letters.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Its place among the 676 codes of two capital letters (`AA` 0, `AB` 1 .. `ZZ` 675), for tables indexed
    /// by country.
    pub fn index(&self) -> usize {
        // Two capital letters, as parsing ensures; clamped all the same, so that a table lookup cannot go out
        // of bounds.
        let letter = |b: u8| usize::from(b.saturating_sub(b'A')).min(25);
        let b = self.0.as_bytes();
        letter(b[0]) * 26 + letter(b[1])
    }

    /// How many places [`CountryCode::index`] gives.
    pub const PLACES: usize = 26 * 26;
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for CountryCode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(CountryCode(s.to_owned()))
        } else {
            Err(format!("`{s}` is not a country code: expected two capital letters (ISO 3166-1 alpha-2)"))
        }
    }
}

impl Serialize for CountryCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for CountryCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?.parse().map_err(serde::de::Error::custom)
    }
}

/// The regions the project reports by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Region {
    /// Europe.
    Europe,
    /// Africa (south of the Sahara; the report counts Egypt and Morocco with the Arab region).
    Africa,
    /// The Americas.
    Americas,
    /// Asia and Pacific.
    AsiaPacific,
    /// The Arab region (section 2.2.1 of the report).
    ArabRegion,
}

// In the order reports list them.
vocabulary!(Region {
    Europe => "europe",
    Africa => "africa",
    Americas => "americas",
    AsiaPacific => "asia-pacific",
    ArabRegion => "arab-region",
});

impl Region {
    /// The name reports print.
    pub fn label(self) -> &'static str {
        match self {
            Region::Europe => "Europe",
            Region::Africa => "Africa",
            Region::Americas => "Americas",
            Region::AsiaPacific => "Asia and Pacific",
            Region::ArabRegion => "Arab region",
        }
    }
}

/// What kind of party a country record is: a state, or a regional economic integration organisation (the
/// European Union), which some treaties (the UN Convention against Cybercrime) let sign and consent as such.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CountryKind {
    /// A state (or Kosovo).
    #[default]
    State,
    /// A regional economic integration organisation, e.g. the European Union (`EU`).
    Reio,
}

vocabulary!(CountryKind {
    State => "state",
    Reio => "reio",
});

/// A state (or Kosovo) as the system knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    /// ISO 3166-1 alpha-2 code.
    pub code: CountryCode,
    /// The name as the report writes it, e.g. `"the former Yugoslav Republic of Macedonia"`.
    pub name: String,
    /// The region it is reported under.
    pub region: Region,
    /// Member of the Council of Europe at the date of the report (30 November 2007).
    pub coe_member: bool,
    /// Treaties in whose elaboration this non-member state took part: it signs them instead of acceding.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub participated_in: Vec<TreatyNumber>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// A state, or a regional economic integration organisation (`kind = "reio"`: the European Union); a state
    /// when not written.
    #[serde(default, skip_serializing_if = "is_state")]
    pub kind: CountryKind,
}

fn is_state(kind: &CountryKind) -> bool {
    *kind == CountryKind::State
}
