//! The domain's vocabulary: each enum's values with their one text form, declared once beside the enum with
//! `vocabulary!`.
//!
//! A value has one name, in kebab-case, as the data files, the stored records and the reports spell it
//! (`completed`, `asia-pacific`, `co-organiser`): [`Vocabulary::as_str`]. The API and the filter language spell
//! the same name in capitals with `_` (`COMPLETED`, `ASIA_PACIFIC`): [`Vocabulary::api_name`]. Both parse back
//! through [`Vocabulary::from_name`], which takes either spelling regardless of case, with `-` or `_` between the
//! words. The list of values, for error messages and for whatever walks them, is [`Vocabulary::ALL`].
//!
//! serde's derive spells the same names (`rename_all = "kebab-case"`); a test holds the two together.

/// A domain enum whose values each have one name.
pub trait Vocabulary: Copy + Eq + Sized + 'static {
    /// Every value, in the order lists and error messages show them.
    const ALL: &'static [Self];

    /// The name, in kebab-case: `completed`, `asia-pacific`.
    fn as_str(self) -> &'static str;

    /// The name as the API and the filter language write it: `COMPLETED`, `ASIA_PACIFIC`.
    fn api_name(self) -> String {
        self.as_str().to_ascii_uppercase().replace('-', "_")
    }

    /// The value named `text`, in either spelling, regardless of case, with `-` or `_` between the words.
    fn from_name(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| same_name(v.as_str(), text))
    }

    /// The names, as `as_str` writes them, joined with `, `: `organiser, co-organiser, funder`.
    fn names() -> String {
        Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
    }

    /// The names, as `api_name` writes them, joined with `, `: `EUROPE, AFRICA, AMERICAS`.
    fn api_names() -> String {
        Self::ALL.iter().map(|v| v.api_name()).collect::<Vec<_>>().join(", ")
    }
}

/// `name` (kebab-case) and `text` are the same name: ASCII letters regardless of case, `_` for `-`.
fn same_name(name: &str, text: &str) -> bool {
    let normal = |b: u8| if b == b'_' { b'-' } else { b.to_ascii_lowercase() };
    name.len() == text.len() && name.bytes().zip(text.bytes()).all(|(a, b)| normal(a) == normal(b))
}

/// Declares the names of an enum's values, in the order of its [`Vocabulary::ALL`]:
///
/// ```text
/// vocabulary!(Region { Europe => "europe", AsiaPacific => "asia-pacific" });
/// ```
///
/// It implements [`Vocabulary`] and gives the enum the same items inherently (`Region::ALL`, `as_str`,
/// `api_name`, `from_name`), so that they need no import. The `match` in `as_str` makes a new variant a
/// compile error until it has a name.
macro_rules! vocabulary {
    ($ty:ident { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// Every value, in the order lists and error messages show them.
            pub const ALL: [$ty; [$($name),+].len()] = [$($ty::$variant),+];

            /// The name, in kebab-case, as the data and the store write it ([`Vocabulary`](crate::Vocabulary)).
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name),+
                }
            }

            /// The name as the API and the filter language write it (`ASIA_PACIFIC`).
            pub fn api_name(self) -> String {
                <$ty as $crate::Vocabulary>::api_name(self)
            }

            /// The value named `text`, in either spelling, regardless of case, with `-` or `_` between words.
            pub fn from_name(text: &str) -> Option<$ty> {
                <$ty as $crate::Vocabulary>::from_name(text)
            }
        }

        impl $crate::Vocabulary for $ty {
            const ALL: &'static [$ty] = &$ty::ALL;

            fn as_str(self) -> &'static str {
                $ty::as_str(self)
            }
        }
    };
}
pub(crate) use vocabulary;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        ActionKind, ActivityKind, ActivityStatus, AssistanceMethod, ContactPointStatus, DeclarationKind, Measure,
        OrganisationKind, PartnerRole, Qualifier, Region, StepStatus,
    };

    /// Every value's name is the one serde writes and reads, and parses back in both spellings.
    fn agrees_with_serde<T: Vocabulary + serde::Serialize + serde::de::DeserializeOwned + std::fmt::Debug>() {
        for &v in T::ALL {
            let serde_name = serde_json::to_value(v).expect("serialises");
            assert_eq!(serde_name.as_str(), Some(v.as_str()), "{v:?}");
            let back: T = serde_json::from_value(serde_json::Value::String(v.as_str().to_owned())).expect("parses");
            assert_eq!(back, v);
            assert_eq!(T::from_name(v.as_str()), Some(v));
            assert_eq!(T::from_name(&v.api_name()), Some(v));
            assert_eq!(T::from_name(&v.as_str().to_ascii_uppercase()), Some(v));
        }
        let mut names: Vec<_> = T::ALL.iter().map(|v| v.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), T::ALL.len(), "names are distinct");
        assert_eq!(T::from_name(""), None);
        assert_eq!(T::from_name("not-a-name-of-anything"), None);
    }

    #[test]
    fn every_vocabulary_is_what_serde_spells() {
        agrees_with_serde::<ActivityKind>();
        agrees_with_serde::<ActivityStatus>();
        agrees_with_serde::<PartnerRole>();
        agrees_with_serde::<Region>();
        agrees_with_serde::<ActionKind>();
        agrees_with_serde::<OrganisationKind>();
        agrees_with_serde::<AssistanceMethod>();
        agrees_with_serde::<StepStatus>();
        agrees_with_serde::<ContactPointStatus>();
        agrees_with_serde::<Qualifier>();
        agrees_with_serde::<Measure>();
        agrees_with_serde::<DeclarationKind>();
    }

    #[test]
    fn names_in_both_spellings() {
        assert_eq!(Region::AsiaPacific.as_str(), "asia-pacific");
        assert_eq!(Region::AsiaPacific.api_name(), "ASIA_PACIFIC");
        assert_eq!(Region::from_name("Asia_Pacific"), Some(Region::AsiaPacific));
        assert_eq!(Region::api_names(), "EUROPE, AFRICA, AMERICAS, ASIA_PACIFIC, ARAB_REGION");
        assert_eq!(PartnerRole::names(), "organiser, co-organiser, funder, host, supporter, participant");
        assert_eq!(ActivityStatus::from_name("asia-pacific"), None);
    }
}
