//! Reservations, declarations and designated authorities, stored as a record kind of their own on both backends:
//! loaded with the bundled dataset, listed, written, exported and imported; an export made before the kind existed
//! (without `declarations.toml`) still imports.

use core_model::{Dataset, Declaration, DeclarationKind};
use storage::{PageRequest, Record, RecordKind, Store, WriteContext, both_backends, testing::TestStore};

both_backends!(
    the_bundled_declarations_are_stored_and_listed_in_order,
    a_declaration_written_reads_back_and_is_exported,
    an_export_without_the_declarations_file_still_imports
);

fn editor() -> WriteContext {
    WriteContext::by("editor@coe")
}

async fn stored(store: &dyn Store) -> Vec<Declaration> {
    let page = store.list_records(RecordKind::Declaration, &PageRequest::first(PageRequest::MAX_SIZE)).await.unwrap();
    assert!(page.next_page_token.is_empty());
    page.items
        .into_iter()
        .map(|v| match v.record {
            Record::Declaration(d) => d,
            other => panic!("a {:?} listed as a declaration", other.kind()),
        })
        .collect()
}

async fn the_bundled_declarations_are_stored_and_listed_in_order(t: TestStore) {
    let bundled = Dataset::bundled().declarations;
    assert!(bundled.iter().any(|d| d.id == "LV-185-withdrawal-22"));
    assert_eq!(stored(&*t.store).await, bundled);
    let latvia = t.store.get_record(RecordKind::Declaration, "LV-185-reservation-22").await.unwrap();
    assert!(matches!(&latvia.record, Record::Declaration(d) if d.kind == DeclarationKind::Reservation));
    assert_eq!(t.store.export().await.unwrap().declarations, bundled);
}

async fn a_declaration_written_reads_back_and_is_exported(t: TestStore) {
    let mut d = Dataset::bundled().declarations.into_iter().find(|d| d.id == "AL-185-authority-27").unwrap();
    d.id = "AL-185-authority-27-2026".to_owned();
    d.date = "2026-01-15".parse().unwrap();
    d.authority = Some("Ministry of Justice (a synthetic later designation), Tirana — «ü»".to_owned());
    let created = t.store.create_record(&editor(), Record::Declaration(d.clone())).await.unwrap();
    assert_eq!(created.record, Record::Declaration(d.clone()));
    let read = t.store.get_record(RecordKind::Declaration, &d.id).await.unwrap();
    assert_eq!(read.record, Record::Declaration(d.clone()));
    let exported = t.store.export().await.unwrap();
    assert_eq!(exported.declarations.last(), Some(&d));
    // The export's files parse back, and the later designation replaces the first from its date.
    let files = exported.to_files();
    let borrowed: Vec<(&str, &str)> = files.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    let parsed = Dataset::parse(&borrowed).unwrap();
    let first = parsed.declaration("AL-185-authority-27").unwrap();
    assert_eq!(parsed.declaration_standing(first, "2026-01-15".parse().unwrap()), core_model::Standing::Superseded);
    // And it is reopened unchanged.
    let again = t.reopen().await;
    assert_eq!(stored(&*again).await, exported.declarations);
}

async fn an_export_without_the_declarations_file_still_imports(t: TestStore) {
    let exported = t.store.export().await.unwrap();
    let files: Vec<(String, String)> =
        exported.to_files().into_iter().filter(|(name, _)| name != "declarations.toml").collect();
    let borrowed: Vec<(&str, &str)> = files.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    let old = Dataset::parse(&borrowed).expect("an export made before declarations.toml existed parses");
    assert!(old.declarations.is_empty());
    let empty = t.new_empty().await;
    empty.store.import(&editor(), &old).await.unwrap();
    let imported = empty.store.export().await.unwrap();
    assert!(imported.declarations.is_empty());
    assert!(stored(&*empty.store).await.is_empty());
    assert_eq!(Dataset { declarations: exported.declarations.clone(), ..imported }, exported);
}
