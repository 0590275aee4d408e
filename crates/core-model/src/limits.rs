//! What a record's text and lists may hold: sizes, and the characters allowed.
//!
//! One set of rules for every way a record comes in (the API's writes, the store's own check inside its
//! transaction, and a dataset read by `check` or `import`), so that whatever is accepted can be stored, exported,
//! imported and shown again. The limits are generous for the data the project keeps (the longest description of
//! the 2007 report is under 1,500 characters) and small enough that a page of records stays far below a message's
//! 4 MiB.
//!
//! Characters refused everywhere: C0 and C1 control characters (but a line feed and a tab in multi-line text) and
//! the bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069), which make a text display
//! as something other than what it holds. One-line fields also refuse line and paragraph separators.

use crate::ModelError;

/// Characters in a title.
pub const TITLE: usize = 300;
/// Characters in a description.
pub const DESCRIPTION: usize = 16_384;
/// Characters in a date as the source writes it (`date_text`).
pub const DATE_TEXT: usize = 200;
/// Characters in a place's text or city.
pub const PLACE: usize = 200;
/// Characters in a note.
pub const NOTE: usize = 4_096;
/// Characters in a citation's locator.
pub const LOCATOR: usize = 200;
/// Characters in a source document's id.
pub const SOURCE_ID: usize = 100;
/// Citations of one fact.
pub const CITATIONS: usize = 20;
/// Countries an activity concerns.
pub const COUNTRIES: usize = 250;
/// Partner organisations of an activity.
pub const PARTNERS: usize = 50;
/// Funding sources of an activity.
pub const FUNDING: usize = 20;
/// Outputs an activity serves (each of 1, 2 and 3 at most once).
pub const OUTPUTS: usize = 3;
/// Characters in an identifier an activity refers to (an organisation, a funding source, a plan).
pub const REFERENCE: usize = 100;

/// A problem with one field.
pub(crate) fn problem(field: &str, reason: impl Into<String>) -> ModelError {
    ModelError::Field { field: field.to_owned(), reason: reason.into() }
}

/// A character no text may hold, or `None`; `multi_line` allows a line feed and a tab.
fn forbidden(c: char, multi_line: bool) -> Option<&'static str> {
    match c {
        '\n' | '\t' if multi_line => None,
        '\r' => Some("a carriage return (U+000D): lines end with a line feed only"),
        '\n' | '\t' => Some("a line break or tab: this field is one line"),
        '\u{2028}' | '\u{2029}' if !multi_line => Some("a line or paragraph separator: this field is one line"),
        c if c.is_control() => Some("a control character"),
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => {
            Some("a bidirectional override or isolate, which makes the text display as something else")
        }
        _ => None,
    }
}

fn check_text(field: &str, value: &str, max: usize, multi_line: bool) -> Result<(), ModelError> {
    let mut count = 0;
    for (i, c) in value.chars().enumerate() {
        if let Some(what) = forbidden(c, multi_line) {
            return Err(problem(field, format!("holds {what} (U+{:04X} at character {})", u32::from(c), i + 1)));
        }
        count += 1;
    }
    if count > max {
        return Err(problem(field, format!("is {count} characters long; at most {max} are allowed")));
    }
    Ok(())
}

/// Checks a one-line text of at most `max` characters.
pub fn check_line(field: &str, value: &str, max: usize) -> Result<(), ModelError> {
    check_text(field, value, max, false)
}

/// Checks a text of several lines (line feeds and tabs allowed) of at most `max` characters.
pub fn check_lines(field: &str, value: &str, max: usize) -> Result<(), ModelError> {
    check_text(field, value, max, true)
}

/// Checks a list's length.
pub fn check_count(field: &str, len: usize, max: usize) -> Result<(), ModelError> {
    if len > max {
        return Err(problem(field, format!("has {len} items; at most {max} are allowed")));
    }
    Ok(())
}

/// Checks a source document's id: 1 to [`SOURCE_ID`] letters, digits and `-`, `_`, `.`, `:`, `/`, `+`.
pub fn check_source_id(field: &str, id: &str) -> Result<(), ModelError> {
    if id.is_empty() {
        return Err(problem(field, "required: the id of a source document"));
    }
    if id.chars().count() > SOURCE_ID
        || !id.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '/' | '+'))
    {
        return Err(problem(
            field,
            format!("`{id}` is not a source id: 1-{SOURCE_ID} letters, digits and - _ . : / +, without spaces"),
        ));
    }
    Ok(())
}

/// Checks an identifier a record refers to: one line of 1 to [`REFERENCE`] characters.
pub fn check_reference(field: &str, id: &str) -> Result<(), ModelError> {
    if id.trim().is_empty() {
        return Err(problem(field, "required: an identifier"));
    }
    check_line(field, id, REFERENCE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_refuses_controls_breaks_and_overrides() {
        assert!(check_line("title", "Octopus Interface conference – Strasbourg (2007)", TITLE).is_ok());
        for bad in
            ["a\nb", "a\rb", "a\tb", "a\u{1b}[31m", "a\u{0}", "a\u{85}", "a\u{2028}b", "gnp\u{202E}.exe", "\u{2066}x"]
        {
            let e = check_line("title", bad, TITLE).unwrap_err();
            assert!(e.to_string().starts_with("field `title`: holds "), "{e}");
        }
        assert!(check_lines("description", "line one\n\tline two\u{2028}", DESCRIPTION).is_ok());
        assert!(check_lines("description", "a\r\nb", DESCRIPTION).is_err());
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        assert!(check_line("title", &"é".repeat(TITLE), TITLE).is_ok());
        let e = check_line("title", &"é".repeat(TITLE + 1), TITLE).unwrap_err();
        assert_eq!(e.to_string(), "field `title`: is 301 characters long; at most 300 are allowed");
    }

    #[test]
    fn source_ids() {
        for ok in ["report-2007-11", "CoE-2015", "ETS-185", "gazette.fr/2006:12"] {
            assert!(check_source_id("source[0].document", ok).is_ok(), "{ok}");
        }
        for bad in ["", "a b", "a;b", "x\u{202E}"] {
            assert!(check_source_id("source[0].document", bad).is_err(), "{bad:?}");
        }
    }
}
