//! Resource names (AIP-122): `treaties/185`, `countries/BR`, `activities/{id}`, `organisations/{id}`,
//! `studies/{id}`. The API names records this way, the filter language accepts them, and the audit log and the
//! unreadable records speak of them.

use crate::{CountryCode, TreatyNumber};

/// The collection of treaties: `treaties/185`.
pub const TREATIES: &str = "treaties";
/// The collection of countries (states and Kosovo): `countries/BR`.
pub const COUNTRIES: &str = "countries";
/// The collection of activities: `activities/2007-03-19-belgrade-regional-conference`.
pub const ACTIVITIES: &str = "activities";
/// The collection of organisations: `organisations/itu`.
pub const ORGANISATIONS: &str = "organisations";
/// The collection of studies: `studies/{id}`.
pub const STUDIES: &str = "studies";

/// `treaties/185`.
pub fn treaty(number: TreatyNumber) -> String {
    format!("{TREATIES}/{number}")
}

/// `countries/BR`.
pub fn country(code: &CountryCode) -> String {
    format!("{COUNTRIES}/{code}")
}

/// `activities/{id}`.
pub fn activity(id: &str) -> String {
    format!("{ACTIVITIES}/{id}")
}

/// `organisations/{id}`.
pub fn organisation(id: &str) -> String {
    format!("{ORGANISATIONS}/{id}")
}

/// `studies/{id}`.
pub fn study(id: &str) -> String {
    format!("{STUDIES}/{id}")
}

/// What follows `collection/` in `name`, if it starts so: `strip(COUNTRIES, "countries/BR")` is `Some("BR")`.
/// The rest is not checked (it may be empty or hold more `/`).
pub fn strip<'a>(collection: &str, name: &'a str) -> Option<&'a str> {
    name.strip_prefix(collection).and_then(|rest| rest.strip_prefix('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_their_ids() {
        let br: CountryCode = "BR".parse().expect("a code");
        assert_eq!(country(&br), "countries/BR");
        assert_eq!(treaty(TreatyNumber(185)), "treaties/185");
        assert_eq!(strip(COUNTRIES, &country(&br)), Some("BR"));
        assert_eq!(strip(ORGANISATIONS, &organisation("itu")), Some("itu"));
        assert_eq!(strip(ACTIVITIES, "activity/x"), None);
        assert_eq!(strip(STUDIES, "studies"), None);
        assert_eq!(strip(STUDIES, "studies/"), Some(""));
    }
}
