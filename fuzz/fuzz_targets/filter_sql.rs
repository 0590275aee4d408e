//! The SQL a filter becomes selects exactly what `Filter::matches` selects in memory (an invariant of
//! ARCHITECTURE.md): arbitrary UTF-8 text is parsed with `core_model::Filter::parse` and, when it parses, the
//! activities `SqlStore::list_activities_from_database` returns (every page, 37 at a time), and those
//! `Store::list_activities` walks from the store's in-memory index, are compared with those the filter matches, on a store on a temporary SQLite file holding the bundled 2007 dataset and 300 synthetic
//! activities (made once per process; this target writes nothing after that).

#![no_main]

use std::sync::OnceLock;

use core_model::{Activity, Filter};
use cybercrime_fuzz::harness;
use libfuzzer_sys::{Corpus, fuzz_target};
use storage::{OpenOptions, PageRequest, SqlStore, Store, WriteContext};

/// Every page of the activities the store selects with `filter`, in its order: by the database's query (on
/// `database`, the same store opened a second time), or from the store's in-memory index.
async fn list(
    store: &dyn Store,
    database: &SqlStore,
    filter: &Filter,
    from_database: bool,
) -> Result<Vec<Activity>, storage::StorageError> {
    let mut all = Vec::new();
    let mut page = PageRequest::first(37);
    loop {
        let p = if from_database {
            database.list_activities_from_database(filter, &page).await?
        } else {
            store.list_activities(filter, &page).await?
        };
        all.extend(p.items.iter().map(|v| v.record.clone()));
        if p.next_page_token.is_empty() {
            return Ok(all);
        }
        page.page_token = p.next_page_token;
    }
}

/// The store's activities, after adding the synthetic ones, and the harness's store opened a second time on
/// its file (the harness holds it as `dyn Store`; the database's list is a `SqlStore` method, of storage's
/// `test-support` feature).
fn setup() -> &'static (Vec<Activity>, SqlStore) {
    static SETUP: OnceLock<(Vec<Activity>, SqlStore)> = OnceLock::new();
    SETUP.get_or_init(|| {
        let h = harness();
        let store = &*h.services.0.store;
        h.runtime.block_on(async {
            let base = store.export().await.expect("export");
            for a in core_model::synthetic::activities(&base, 300, 2007) {
                store.create_activity(&WriteContext::by("fuzz"), a).await.expect("a synthetic activity");
            }
            let url = format!("sqlite://{}", h.dir.join("store.sqlite").display());
            let options = OpenOptions { load_bundled_if_empty: false, ..OpenOptions::default() };
            let database = SqlStore::open(&url, options).await.expect("the store, opened again");
            let all = list(store, &database, &Filter::default(), true).await.expect("every activity");
            (all, database)
        })
    })
}

fuzz_target!(|data: &[u8]| -> Corpus {
    let Ok(text) = std::str::from_utf8(data) else { return Corpus::Reject };
    let Ok(filter) = Filter::parse(text) else { return Corpus::Keep };
    let (all, database) = setup();
    let h = harness();
    let store = &*h.services.0.store;
    let snapshot = store.snapshot();
    let region_of = |code: &core_model::CountryCode| snapshot.state(code).map(|s| s.region);
    let expected: Vec<&str> = all.iter().filter(|a| filter.matches(a, region_of)).map(|a| a.id.as_str()).collect();
    for from_database in [true, false] {
        let selected = h
            .runtime
            .block_on(list(store, database, &filter, from_database))
            .unwrap_or_else(|e| panic!("the store refused the filter {text:?} ({filter}): {e}"));
        let selected: Vec<&str> = selected.iter().map(|a| a.id.as_str()).collect();
        let how = if from_database { "SQL" } else { "The activity index" };
        assert_eq!(selected, expected, "{how} and Filter::matches disagree on {text:?} ({filter})");
    }
    Corpus::Keep
});
