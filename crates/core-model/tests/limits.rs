//! The limits every way in shares (API writes, the store, `check` and `import`): what is accepted is what can be
//! written, read back, exported and imported; what is refused names the file, the record and the field.

use core_model::{Citation, Dataset, DatasetError, SourceRef};

fn parse_with(file: &str, edit: impl Fn(&str) -> String) -> Result<Dataset, Vec<DatasetError>> {
    let files: Vec<(&str, String)> = Dataset::bundled_files()
        .iter()
        .map(|(n, t)| (*n, if *n == file { edit(t) } else { (*t).to_owned() }))
        .collect();
    let borrowed: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    Dataset::parse(&borrowed).map_err(|e| e.0)
}

fn messages(result: Result<Dataset, Vec<DatasetError>>) -> Vec<String> {
    match result {
        Ok(_) => panic!("the edit must make the dataset invalid"),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn a_locator_with_a_semicolon_is_stored_structurally_and_read_back_whole() {
    let source = SourceRef(vec![
        Citation { document: "report-2007-11".into(), locator: Some(";".into()) },
        Citation { document: "CoE-2015".into(), locator: Some("§2.1; §2.3 ;; x".into()) },
    ]);
    let json = serde_json::to_string(&source).unwrap();
    assert_eq!(
        json,
        r#"[{"document":"report-2007-11","locator":";"},{"document":"CoE-2015","locator":"§2.1; §2.3 ;; x"}]"#
    );
    assert_eq!(serde_json::from_str::<SourceRef>(&json).unwrap(), source);
    assert!(source.check("source").is_ok(), "a `;` is an ordinary character of a structured locator");
}

#[test]
fn the_text_form_of_stores_written_before_is_still_read() {
    let old: SourceRef = serde_json::from_str(r#""report-2007-11 §2.1; CoE-2015""#).unwrap();
    assert_eq!(
        old,
        SourceRef(vec![
            Citation { document: "report-2007-11".into(), locator: Some("§2.1".into()) },
            Citation { document: "CoE-2015".into(), locator: None },
        ])
    );
    let e = serde_json::from_str::<SourceRef>(r#"[{"document":"x","page":3}]"#).unwrap_err().to_string();
    assert!(e.contains("unknown field `page`"), "{e}");
}

#[test]
fn a_dataset_written_back_keeps_every_citation_as_it_was() {
    let mut ds = Dataset::bundled();
    ds.activities[0].source =
        SourceRef(vec![Citation { document: "report-2007-11".into(), locator: Some("§2.1; table 3".into()) }]);
    let files = ds.to_files();
    let borrowed: Vec<(&str, &str)> = files.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    let back = Dataset::parse(&borrowed).expect("the dataset written back parses");
    assert_eq!(back.activities[0].source, ds.activities[0].source);
    assert_eq!(back, ds);
}

#[test]
fn text_too_long_or_with_control_characters_is_refused_naming_the_record_and_field() {
    let errors = parse_with("activities.toml", |t| {
        t.replacen("source = \"report-2007-11 §2.1\"", "source = \"report-2007-11 §2.1\"\nnote = \"a\\u001b[2Jb\"", 1)
    });
    let m = messages(errors);
    assert_eq!(m.len(), 1, "{m:#?}");
    assert!(m[0].starts_with("activities.toml: activity "), "{}", m[0]);
    assert!(m[0].contains("field `note`: holds a control character (U+001B at character 2)"), "{}", m[0]);

    let long = "x".repeat(301);
    let errors = parse_with("activities.toml", |t| {
        let first = t.find("[[activity]]").unwrap();
        let at = first + t[first..].find("\ntitle = \"").unwrap();
        let end = at + 1 + t[at + 1..].find('\n').unwrap();
        format!("{}\ntitle = \"{long}\"{}", &t[..at], &t[end..])
    });
    let m = messages(errors);
    assert_eq!(m.len(), 1, "{m:#?}");
    assert!(m[0].contains("field `title`: is 301 characters long; at most 300 are allowed"), "{}", m[0]);

    let errors =
        parse_with("treaty-actions.toml", |t| t.replacen("source = \"", "note = \"\\u202Egnp.exe\"\nsource = \"", 1));
    let m = messages(errors);
    assert!(m.iter().any(|m| m.contains("field `note`") && m.contains("bidirectional override")), "{m:#?}");
}

#[test]
fn a_source_id_with_spaces_is_refused() {
    let errors = parse_with("sources.toml", |t| t.replacen("id = \"US\"", "id = \"U S\"", 1));
    let m = messages(errors);
    assert!(m.iter().any(|m| m.starts_with("sources.toml: source U S: field `id`")), "{m:#?}");
}
