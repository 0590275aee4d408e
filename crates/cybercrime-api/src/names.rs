//! Resource names of the contract (AIP-122): build them from their parts and parse them back, with an error that
//! says which part is wrong. Self-contained: the rules here are the contract's, written down again, so a client
//! needs no server crate.
//!
//! ```
//! use cybercrime_api::names::ResourceName;
//!
//! let action = ResourceName::treaty_action(185, "AL", "ratification").unwrap();
//! assert_eq!(action.to_string(), "treaties/185/actions/AL-ratification");
//! assert_eq!("countries/PH".parse::<ResourceName>().unwrap(), ResourceName::country("PH").unwrap());
//! assert!("countries/ph".parse::<ResourceName>().is_err());
//! ```

use std::{fmt, str::FromStr};

/// One resource name of the contract.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ResourceName {
    /// `treaties/{number}`, the CETS number (e.g. `treaties/185`), or for a treaty of another depositary the
    /// system's own key (`treaties/18016`, the UN Convention against Cybercrime, UN XVIII-16).
    Treaty(u32),
    /// `countries/{code}`, ISO 3166-1 alpha-2 (e.g. `countries/PH`; Kosovo is `countries/XK`).
    Country(String),
    /// `activities/{id}` (e.g. `activities/2007-03-19-belgrade-regional-conference`).
    Activity(String),
    /// `treaties/{number}/actions/{state}-{kind}` (e.g. `treaties/185/actions/AL-ratification`).
    TreatyAction {
        /// The treaty's CETS number.
        treaty: u32,
        /// The state's ISO 3166-1 alpha-2 code.
        state: String,
        /// The kind of action (`signature`, `ratification`, ...).
        kind: String,
    },
    /// `studies/{id}` (e.g. `studies/situation-report`).
    Study(String),
    /// `organisations/{id}` (e.g. `organisations/itu`).
    Organisation(String),
}

/// Why a resource name (or one of its parts) is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid resource name {name:?}: {problem}")]
pub struct NameError {
    /// The text given.
    pub name: String,
    /// What is wrong with it.
    pub problem: String,
}

fn err(name: &str, problem: impl Into<String>) -> NameError {
    NameError { name: name.to_owned(), problem: problem.into() }
}

fn treaty_number(name: &str, text: &str) -> Result<u32, NameError> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) || text.starts_with('0') {
        return Err(err(
            name,
            format!("the treaty number {text:?} is not a positive CETS number without leading zeros"),
        ));
    }
    text.parse().map_err(|_| err(name, format!("the treaty number {text:?} is too large")))
}

fn country_code(name: &str, text: &str) -> Result<String, NameError> {
    if text.len() == 2 && text.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(text.to_owned())
    } else {
        Err(err(name, format!("the country code {text:?} is not two uppercase letters (ISO 3166-1 alpha-2)")))
    }
}

fn id(name: &str, what: &str, text: &str) -> Result<String, NameError> {
    let ok = !text.is_empty()
        && text.len() <= 63
        && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !text.starts_with('-')
        && !text.ends_with('-');
    if ok {
        Ok(text.to_owned())
    } else {
        Err(err(name, format!("the {what} id {text:?} is not 1-63 lowercase letters, digits and inner hyphens")))
    }
}

impl ResourceName {
    /// `treaties/{number}`.
    pub fn treaty(number: u32) -> Result<Self, NameError> {
        if number == 0 {
            return Err(err("treaties/0", "the treaty number 0 is not a CETS number"));
        }
        Ok(Self::Treaty(number))
    }

    /// `countries/{code}`.
    pub fn country(code: &str) -> Result<Self, NameError> {
        country_code(&format!("countries/{code}"), code).map(Self::Country)
    }

    /// `activities/{id}`.
    pub fn activity(activity: &str) -> Result<Self, NameError> {
        id(&format!("activities/{activity}"), "activity", activity).map(Self::Activity)
    }

    /// `studies/{id}`.
    pub fn study(study: &str) -> Result<Self, NameError> {
        id(&format!("studies/{study}"), "study", study).map(Self::Study)
    }

    /// `organisations/{id}`.
    pub fn organisation(organisation: &str) -> Result<Self, NameError> {
        id(&format!("organisations/{organisation}"), "organisation", organisation).map(Self::Organisation)
    }

    /// `treaties/{number}/actions/{state}-{kind}`.
    pub fn treaty_action(treaty: u32, state: &str, kind: &str) -> Result<Self, NameError> {
        format!("treaties/{treaty}/actions/{state}-{kind}").parse()
    }
}

impl fmt::Display for ResourceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Treaty(n) => write!(f, "treaties/{n}"),
            Self::Country(c) => write!(f, "countries/{c}"),
            Self::Activity(id) => write!(f, "activities/{id}"),
            Self::TreatyAction { treaty, state, kind } => write!(f, "treaties/{treaty}/actions/{state}-{kind}"),
            Self::Study(id) => write!(f, "studies/{id}"),
            Self::Organisation(id) => write!(f, "organisations/{id}"),
        }
    }
}

impl FromStr for ResourceName {
    type Err = NameError;

    fn from_str(name: &str) -> Result<Self, NameError> {
        let parts: Vec<&str> = name.split('/').collect();
        match parts.as_slice() {
            ["treaties", n] => Ok(Self::Treaty(treaty_number(name, n)?)),
            ["treaties", n, "actions", action] => {
                let treaty = treaty_number(name, n)?;
                let Some((state, kind)) = action.split_once('-') else {
                    return Err(err(
                        name,
                        format!("the action {action:?} is not {{state}}-{{kind}}, e.g. AL-ratification"),
                    ));
                };
                let state = country_code(name, state)?;
                if kind.is_empty() || !kind.bytes().all(|b| b.is_ascii_lowercase() || b == b'-' || b == b'_') {
                    return Err(err(
                        name,
                        format!("the action kind {kind:?} is not lowercase letters, e.g. ratification"),
                    ));
                }
                Ok(Self::TreatyAction { treaty, state, kind: kind.to_owned() })
            }
            ["countries", c] => Ok(Self::Country(country_code(name, c)?)),
            ["activities", a] => Ok(Self::Activity(id(name, "activity", a)?)),
            ["studies", s] => Ok(Self::Study(id(name, "study", s)?)),
            ["organisations", o] => Ok(Self::Organisation(id(name, "organisation", o)?)),
            _ => Err(err(
                name,
                "not one of treaties/{number}, treaties/{number}/actions/{state}-{kind}, countries/{code}, \
                 activities/{id}, studies/{id}, organisations/{id}",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for text in [
            "treaties/185",
            "treaties/185/actions/AL-ratification",
            "countries/PH",
            "countries/XK",
            "activities/2007-03-19-belgrade-regional-conference",
            "studies/situation-report",
            "organisations/itu",
        ] {
            let name: ResourceName = text.parse().unwrap();
            assert_eq!(name.to_string(), text);
        }
        assert_eq!(ResourceName::treaty(185).unwrap().to_string(), "treaties/185");
        assert_eq!(
            ResourceName::treaty_action(185, "AL", "ratification").unwrap(),
            ResourceName::TreatyAction { treaty: 185, state: "AL".into(), kind: "ratification".into() }
        );
    }

    #[test]
    fn errors_name_the_part() {
        let cases = [
            ("treaties/0185", "treaty number \"0185\""),
            ("treaties/x", "treaty number \"x\""),
            ("treaties/99999999999", "too large"),
            ("countries/ph", "country code \"ph\""),
            ("countries/PHL", "country code \"PHL\""),
            ("activities/Octopus", "activity id \"Octopus\""),
            ("activities/", "activity id \"\""),
            ("treaties/185/actions/AL", "not {state}-{kind}"),
            ("treaties/185/actions/al-ratification", "country code \"al\""),
            ("treaties/185/actions/AL-", "action kind \"\""),
            ("people/x", "not one of"),
            ("", "not one of"),
        ];
        for (text, expected) in cases {
            let e = text.parse::<ResourceName>().unwrap_err();
            assert_eq!(e.name, text);
            assert!(e.to_string().contains(expected), "{text}: {e}");
        }
        assert!(ResourceName::treaty(0).is_err());
        assert!(ResourceName::country("P").is_err());
        assert!(ResourceName::study("-x").is_err());
        assert!(ResourceName::organisation("a/b").is_err());
    }
}
