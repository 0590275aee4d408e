//! Resource names (AIP-122): `treaties/185`, `countries/BR`, `treaties/185/actions/AL-ratification`,
//! `activities/{id}`, `organisations/{id}`, `studies/{id}`. The API names records this way, the filter language accepts them, and the audit log and the
//! unreadable records speak of them.

use crate::{ActionKind, CountryCode, TreatyNumber};

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

/// The collection of a treaty's actions, under the treaty: `treaties/185/actions/AL-ratification`.
pub const ACTIONS: &str = "actions";

/// `treaties/185/actions/AL-ratification`: a treaty action is named by its treaty, its state and its kind (as
/// the dataset writes it), which a state takes once under a treaty (one consent, one signature...). The name is
/// the same across an export and an import, and an audit entry's action is named from its body alone.
pub fn treaty_action(treaty: TreatyNumber, state: &CountryCode, kind: ActionKind) -> String {
    format!("{TREATIES}/{treaty}/{ACTIONS}/{state}-{}", kind.as_str())
}

/// The treaty, state and kind a treaty action's name holds, or `None` if `name` is not one.
pub fn parse_treaty_action(name: &str) -> Option<(TreatyNumber, CountryCode, ActionKind)> {
    let rest = strip(TREATIES, name)?;
    let (number, rest) = rest.split_once('/')?;
    let id = strip(ACTIONS, rest)?;
    let (state, kind) = id.split_once('-')?;
    let number: u32 = number.parse().ok().filter(|n: &u32| n.to_string() == number)?;
    Some((TreatyNumber(number), state.parse().ok()?, ActionKind::from_name(kind).filter(|k| k.as_str() == kind)?))
}

/// `treaties/185/declarations/{id}`: a reservation, declaration or designation of an authority under a treaty.
pub fn declaration(treaty_number: TreatyNumber, id: &str) -> String {
    format!("{}/declarations/{id}", treaty(treaty_number))
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

    #[test]
    fn treaty_action_names_read_back() {
        let al: CountryCode = "AL".parse().expect("a code");
        for kind in ActionKind::ALL {
            let name = treaty_action(TreatyNumber(185), &al, kind);
            assert_eq!(parse_treaty_action(&name), Some((TreatyNumber(185), al.clone(), kind)), "{name}");
        }
        assert_eq!(
            treaty_action(TreatyNumber(185), &al, ActionKind::AccessionRequest),
            "treaties/185/actions/AL-accession-request"
        );
        for bad in [
            "treaties/185/actions/AL",
            "treaties/185/actions/AL-",
            "treaties/0185/actions/AL-signature",
            "treaties/185/actions/al-signature",
            "treaties/185/action/AL-signature",
            "treaties/185/actions/AL-sign",
        ] {
            assert_eq!(parse_treaty_action(bad), None, "{bad}");
        }
    }
}
