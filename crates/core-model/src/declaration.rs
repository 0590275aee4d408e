//! Reservations, declarations and designations of authorities that states make under a treaty's articles (the
//! charts' R., D. and A. columns), their withdrawals, and whether a statement stands at a date.
//!
//! A statement concerns one or more articles of its treaty ("Article 24(7)": article 24, paragraph 7), checked
//! against the number of articles the treaty has ([`crate::Treaty::articles`]). It is dated as precisely as its
//! source gives it. It stands from its date until a withdrawal of it takes effect; a designation of an authority
//! also stops standing when the state designates another authority under the same article and paragraph.

use std::{fmt, str::FromStr};

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{ApproxDate, CountryCode, Dataset, ModelError, SourceRef, TreatyNumber};

/// What a statement does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeclarationKind {
    /// A reservation (R.): the state excludes or modifies a provision, where the article allows it.
    Reservation,
    /// A declaration (D.): how the state applies a provision (e.g. ETS 185 Article 2, 27(9)(e)).
    Declaration,
    /// The designation of an authority (A.): e.g. the central authority for mutual assistance (ETS 185 Article
    /// 27(2)), the authority for extradition (Article 24(7)).
    AuthorityDesignation,
    /// The withdrawal of an earlier reservation, declaration or designation (`withdraws` names it).
    Withdrawal,
}

crate::vocabulary::vocabulary!(DeclarationKind {
    Reservation => "reservation",
    Declaration => "declaration",
    AuthorityDesignation => "authority-designation",
    Withdrawal => "withdrawal",
});

impl DeclarationKind {
    /// The noun errors and documents use.
    pub fn noun(self) -> &'static str {
        match self {
            DeclarationKind::Reservation => "reservation",
            DeclarationKind::Declaration => "declaration",
            DeclarationKind::AuthorityDesignation => "designation of an authority",
            DeclarationKind::Withdrawal => "withdrawal",
        }
    }
}

/// An article of a treaty, with its paragraph when the statement names one: `Article 24(7)`, `Article 2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ArticleRef {
    /// The article's number, from 1.
    pub article: u32,
    /// The paragraph's number, from 1, when named.
    pub paragraph: Option<u32>,
}

impl ArticleRef {
    /// True when this reference falls under `other`: the same article, and the same paragraph or `other` names
    /// none (a question about Article 27 finds a statement under Article 27(2)).
    pub fn within(&self, other: &ArticleRef) -> bool {
        self.article == other.article && other.paragraph.is_none_or(|p| self.paragraph == Some(p))
    }
}

impl fmt::Display for ArticleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Article {}", self.article)?;
        if let Some(p) = self.paragraph {
            write!(f, "({p})")?;
        }
        Ok(())
    }
}

/// Why a text is not an [`ArticleRef`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not an article: {reason} (write e.g. `Article 24(7)`, `Article 6`, `24(7)`)")]
pub struct ArticleParseError {
    /// The text given.
    pub text: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl FromStr for ArticleRef {
    type Err = ArticleParseError;

    /// `Article 24(7)`, `Art. 24(7)`, `article 24`, `24(7)`, `24`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let err = |reason| ArticleParseError { text: text.to_owned(), reason };
        let t = text.trim();
        let lower = t.to_ascii_lowercase();
        let rest = ["article", "art."].iter().find_map(|p| lower.strip_prefix(p)).unwrap_or(&lower).trim_start();
        let (number, paragraph) = match rest.split_once('(') {
            Some((n, p)) => {
                let p = p.strip_suffix(')').ok_or_else(|| err("the paragraph's `(` is not closed by `)`"))?;
                (n.trim_end(), Some(p))
            }
            None => (rest, None),
        };
        let positive = |s: &str, what| -> Result<u32, ArticleParseError> {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err(what));
            }
            s.parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(|| err(what))
        };
        let article = positive(number, "the article is not a number from 1")?;
        let paragraph = paragraph.map(|p| positive(p, "the paragraph is not a number from 1")).transpose()?;
        Ok(ArticleRef { article, paragraph })
    }
}

impl Serialize for ArticleRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ArticleRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A reservation, declaration, designation of an authority, or the withdrawal of one, by one state under one
/// treaty, as its source gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Declaration {
    /// Its id, unique in the dataset, e.g. `LV-185-reservation-22`.
    pub id: String,
    /// The state that made it.
    pub state: CountryCode,
    /// The treaty.
    pub treaty: TreatyNumber,
    /// What it does.
    pub kind: DeclarationKind,
    /// The articles it concerns, as the source names them (at least one).
    pub articles: Vec<ArticleRef>,
    /// When it was made (deposited or registered), as precisely as the source gives it.
    pub date: ApproxDate,
    /// For a withdrawal: the id of the statement it withdraws (of the same state and treaty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdraws: Option<String>,
    /// For a designation: the authority designated, as the source names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authority: Option<String>,
    /// What it says, in short.
    pub summary: String,
    /// Where it comes from.
    pub source: SourceRef,
    /// Free text, e.g. a date a source gives differently.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Declaration {
    /// True when it concerns `article` (or a paragraph of it, when `article` names none).
    pub fn concerns(&self, article: &ArticleRef) -> bool {
        self.articles.iter().any(|a| a.within(article))
    }

    /// The problems of its own fields: no article, a withdrawal without `withdraws` or another statement with
    /// one, a designation without its authority, sizes and characters ([`crate::limits`]). Every problem is
    /// reported, not only the first.
    pub fn check_fields(&self) -> Result<(), ModelError> {
        let field = |field: &str, reason: String| ModelError::Field { field: field.to_owned(), reason };
        let mut problems = self.source.problems("source");
        if self.articles.is_empty() {
            problems.push(field("articles", "names no article: a statement concerns at least one".to_owned()));
        }
        match (self.kind, &self.withdraws) {
            (DeclarationKind::Withdrawal, None) => {
                problems.push(field("withdraws", "required for a withdrawal: the id of what it withdraws".to_owned()));
            }
            (k, Some(_)) if k != DeclarationKind::Withdrawal => {
                problems.push(field("withdraws", format!("only a withdrawal withdraws; this is a {}", k.noun())));
            }
            _ => {}
        }
        if self.kind == DeclarationKind::AuthorityDesignation && self.authority.as_deref().is_none_or(str::is_empty) {
            problems.push(field("authority", "required for a designation: the authority designated".to_owned()));
        }
        problems.extend(crate::limits::check_reference("id", &self.id).err());
        if let Some(w) = &self.withdraws {
            problems.extend(crate::limits::check_reference("withdraws", w).err());
        }
        problems.extend(crate::limits::check_lines("summary", &self.summary, crate::limits::NOTE).err());
        if let Some(a) = &self.authority {
            problems.extend(crate::limits::check_lines("authority", a, crate::limits::NOTE).err());
        }
        if let Some(n) = &self.note {
            problems.extend(crate::limits::check_lines("note", n, crate::limits::NOTE).err());
        }
        ModelError::all(problems)
    }
}

/// Whether a statement stands at a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Standing {
    /// Made on or before the date, and not withdrawn or superseded by then.
    Stands,
    /// Not yet made at the date.
    NotYetMade,
    /// Withdrawn on or before the date.
    Withdrawn,
    /// A designation replaced, on or before the date, by a later one under the same article and paragraph.
    Superseded,
    /// The sources' dates straddle the date: it may or may not stand.
    Uncertain,
    /// A withdrawal: it is an act, not a statement that stands.
    NotAStatement,
}

crate::vocabulary::vocabulary!(Standing {
    Stands => "stands",
    NotYetMade => "not-yet-made",
    Withdrawn => "withdrawn",
    Superseded => "superseded",
    Uncertain => "uncertain",
    NotAStatement => "not-a-statement",
});

/// The questions a list of declarations answers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeclarationQuery {
    /// Only statements under this treaty.
    pub treaty: Option<TreatyNumber>,
    /// Only statements concerning this article (a paragraph of it, when it names none).
    pub article: Option<ArticleRef>,
    /// Only statements of this state.
    pub state: Option<CountryCode>,
    /// Only statements of these kinds (empty: every kind).
    pub kinds: Vec<DeclarationKind>,
    /// Only statements that stand, or may stand, at this date.
    pub standing_at: Option<NaiveDate>,
}

impl Dataset {
    /// Whether the statement stands at `day` ([`Standing`]): made by then, and neither withdrawn nor (for a
    /// designation) replaced by a later designation of the same state under the same article and paragraph.
    pub fn declaration_standing(&self, d: &Declaration, day: NaiveDate) -> Standing {
        if d.kind == DeclarationKind::Withdrawal {
            return Standing::NotAStatement;
        }
        if !d.date.possibly_on_or_before(day) {
            return Standing::NotYetMade;
        }
        let mut uncertain = !d.date.certainly_on_or_before(day);
        let enders = self.declarations.iter().filter(|o| o.state == d.state && o.treaty == d.treaty).filter(|o| {
            o.withdraws.as_deref() == Some(d.id.as_str())
                || (d.kind == DeclarationKind::AuthorityDesignation
                    && o.kind == DeclarationKind::AuthorityDesignation
                    && o.id != d.id
                    && d.date.certainly_before(&o.date)
                    && o.articles.iter().any(|a| d.articles.contains(a)))
        });
        for o in enders {
            if o.date.certainly_on_or_before(day) {
                return if o.kind == DeclarationKind::Withdrawal { Standing::Withdrawn } else { Standing::Superseded };
            }
            uncertain |= o.date.possibly_on_or_before(day);
        }
        if uncertain { Standing::Uncertain } else { Standing::Stands }
    }

    /// The statements the query asks for, in the dataset's order; with `standing_at`, those that stand or may
    /// stand at that date (withdrawals, which are acts and not statements, are then left out).
    pub fn declarations_matching(&self, q: &DeclarationQuery) -> Vec<&Declaration> {
        self.declarations
            .iter()
            .filter(|d| q.treaty.is_none_or(|t| d.treaty == t))
            .filter(|d| q.state.as_ref().is_none_or(|s| &d.state == s))
            .filter(|d| q.kinds.is_empty() || q.kinds.contains(&d.kind))
            .filter(|d| {
                q.article.as_ref().is_none_or(|a| {
                    d.concerns(a)
                        || (d.kind == DeclarationKind::Withdrawal
                            && self
                                .declaration(d.withdraws.as_deref().unwrap_or_default())
                                .is_some_and(|w| w.concerns(a)))
                })
            })
            .filter(|d| {
                q.standing_at.is_none_or(|day| {
                    matches!(self.declaration_standing(d, day), Standing::Stands | Standing::Uncertain)
                })
            })
            .collect()
    }

    /// The statement with this id.
    pub fn declaration(&self, id: &str) -> Option<&Declaration> {
        self.declarations.iter().find(|d| d.id == id)
    }

    /// The statements of one state, every treaty, in the dataset's order.
    pub fn declarations_of<'a>(&'a self, state: &'a CountryCode) -> impl Iterator<Item = &'a Declaration> + 'a {
        self.declarations.iter().filter(move |d| &d.state == state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn articles_parse_in_every_spelling_and_print_one_way() {
        for (text, article, paragraph) in
            [("Article 24(7)", 24, Some(7)), ("art. 27 (2)", 27, Some(2)), ("24", 24, None), ("  Article 6 ", 6, None)]
        {
            let a: ArticleRef = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!((a.article, a.paragraph), (article, paragraph), "{text}");
        }
        let err = "Article 24(x)".parse::<ArticleRef>().unwrap_err();
        assert_eq!(err.reason, "the paragraph is not a number from 1");
        assert!(err.to_string().contains("`Article 24(x)`"), "{err}");
        assert_eq!("Article 24(7)".parse::<ArticleRef>().unwrap().to_string(), "Article 24(7)");
        for bad in ["", "Article", "Article 0", "Article 24(", "Article 24(0)", "Article -1", "Article 2a", "24(x)"] {
            assert!(bad.parse::<ArticleRef>().is_err(), "{bad} parsed");
        }
    }

    #[test]
    fn a_paragraph_falls_within_its_article_not_the_reverse() {
        let a27: ArticleRef = "27".parse().unwrap();
        let a27_2: ArticleRef = "27(2)".parse().unwrap();
        let a27_9: ArticleRef = "27(9)".parse().unwrap();
        assert!(a27_2.within(&a27));
        assert!(a27_2.within(&a27_2));
        assert!(!a27.within(&a27_2));
        assert!(!a27_9.within(&a27_2));
    }
}
