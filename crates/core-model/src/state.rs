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
}

/// The filter of a list of countries: `region = "X"` and `coe_member = true|false`, joined with ` AND `; the
/// empty text matches every country.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CountryFilter {
    /// Only the countries of this region.
    pub region: Option<Region>,
    /// Only the members of the Council of Europe (`true`) or only the others (`false`).
    pub coe_member: Option<bool>,
}

impl CountryFilter {
    /// Parses a filter text; the error says what is wrong in it.
    pub fn parse(text: &str) -> Result<CountryFilter, String> {
        let mut filter = CountryFilter::default();
        if text.trim().is_empty() {
            return Ok(filter);
        }
        for term in text.split(" AND ") {
            let (field, value) =
                term.split_once('=').ok_or_else(|| format!("`{}` is not `field = value`", term.trim()))?;
            let value = value.trim();
            match field.trim() {
                "region" => {
                    let name = value.trim_matches('"');
                    let region = Region::from_name(name.trim()).ok_or_else(|| {
                        format!("`{name}` is not one of {}", <Region as crate::Vocabulary>::api_names())
                    })?;
                    filter.region = Some(region);
                }
                "coe_member" => {
                    filter.coe_member = Some(match value {
                        "true" => true,
                        "false" => false,
                        _ => return Err(format!("coe_member is true or false, not {value}")),
                    })
                }
                other => return Err(format!("unknown field `{other}`; fields are region, coe_member")),
            }
        }
        Ok(filter)
    }

    /// Whether the filter selects `state`.
    pub fn matches(&self, state: &State) -> bool {
        self.region.is_none_or(|r| state.region == r) && self.coe_member.is_none_or(|m| state.coe_member == m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_country_filter_and_its_refusals() {
        assert_eq!(CountryFilter::parse(" "), Ok(CountryFilter::default()));
        assert_eq!(
            CountryFilter::parse("region = \"ASIA_PACIFIC\" AND coe_member = false"),
            Ok(CountryFilter { region: Some(Region::AsiaPacific), coe_member: Some(false) })
        );
        assert_eq!(
            CountryFilter::parse("region = \"MARS\""),
            Err("`MARS` is not one of EUROPE, AFRICA, AMERICAS, ASIA_PACIFIC, ARAB_REGION".to_owned())
        );
        assert_eq!(CountryFilter::parse("coe_member = yes"), Err("coe_member is true or false, not yes".to_owned()));
        assert_eq!(
            CountryFilter::parse("name = \"x\""),
            Err("unknown field `name`; fields are region, coe_member".to_owned())
        );
        assert_eq!(CountryFilter::parse("region"), Err("`region` is not `field = value`".to_owned()));
    }
}
