//! Test support, built with the `test-support` feature: the one place the storage tests and the end-to-end tests
//! get their stores and databases from.
//!
//! - [`sqlite`] and [`postgres`] open a [`TestStore`]: a fresh SQLite file in a temporary folder, or a store in
//!   a fresh schema of its own ([`PgSchema`]) in the PostgreSQL database of this machine
//!   (`CYBERCRIME_TEST_DATABASE_URL`, default `postgres://postgres@127.0.0.1:5432/test`), removed when the test
//!   ends. [`both_backends!`](crate::both_backends) runs a test on each.
//! - [`PgSchema`] alone gives a schema and its store URL, for a server the end-to-end tests start.
//! - [`execute_by_hand`] edits a database as someone with a SQL shell would.
//! - [`activity_pages`] lists every page of activities, from memory or from the database, to compare them.
//! - [`action`] builds a treaty action citing the 2007 report.
//!
//! When PostgreSQL is unreachable, a test that needs it fails under CI (`CI` set) and, elsewhere, is skipped
//! with a loud message.

#![allow(clippy::print_stderr)]

use std::sync::{
    Arc,
    atomic::{AtomicU32, Ordering},
};

use core_model::{ActionKind, Filter, SourceRef, TreatyAction, TreatyNumber};

use crate::{OpenOptions, PageRequest, SqlStore, Store};

/// Runs each named `async fn(TestStore)` of the calling test file twice: in a module `sqlite` on a fresh SQLite
/// file ([`testing::sqlite`](crate::testing::sqlite)), and in a module `postgres` on a fresh schema
/// ([`testing::postgres`](crate::testing::postgres): skipped with a loud message outside CI when PostgreSQL is
/// unreachable).
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::testing::sqlite(false).await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(store) = $crate::testing::postgres(false).await {
                        super::$name(store).await;
                    }
                }
            )*
        }
    };
}

/// The base URL of the PostgreSQL server the tests use (`CYBERCRIME_TEST_DATABASE_URL`, or this machine's).
pub fn pg_base_url() -> String {
    std::env::var("CYBERCRIME_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A connection to the test PostgreSQL database, or `None` outside CI when it is unreachable (with a loud
/// message); under CI an unreachable PostgreSQL fails the test.
pub async fn pg_connection() -> Option<sqlx::PgConnection> {
    use sqlx::Connection;
    let base = pg_base_url();
    match sqlx::PgConnection::connect(&base).await {
        Ok(conn) => Some(conn),
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!(
                "\n!!!!!!!! SKIPPED: PostgreSQL is unreachable at {base}: {e}. Under CI this test FAILS. !!!!!!!!\n"
            );
            None
        }
        Err(e) => panic!("PostgreSQL is unreachable at {base}: {e}"),
    }
}

/// A fresh schema of its own in the test PostgreSQL database, dropped with this value.
#[derive(Debug)]
pub struct PgSchema {
    /// The schema's name.
    pub name: String,
    /// A store URL that puts the store in this schema.
    pub url: String,
}

impl PgSchema {
    /// A new schema, or `None` outside CI when PostgreSQL is unreachable (see [`pg_connection`]).
    pub async fn create() -> Option<PgSchema> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let mut conn = pg_connection().await?;
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        let name = format!("t_{}_{n}_{nanos}", std::process::id());
        sqlx::query(&format!("CREATE SCHEMA {name}")).execute(&mut conn).await.expect("create schema");
        let base = pg_base_url();
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-c%20search_path%3D{name}");
        Some(PgSchema { name, url })
    }

    /// The same store URL with another host and port (through a proxy, say).
    pub fn url_via(&self, host_port: &str) -> String {
        self.url.replacen("127.0.0.1:5432", host_port, 1)
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let (base, name) = (pg_base_url(), self.name.clone());
        // Dropped from a thread of its own, with a runtime of its own: a test's runtime may be shutting down,
        // and `drop` cannot wait on it.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            rt.block_on(async {
                use sqlx::Connection;
                if let Ok(mut conn) = sqlx::PgConnection::connect(&base).await {
                    // A connection a test left idle in a transaction holds locks the DROP waits on, for ever
                    // (seen once in the faults tests): give up after a while and leave the schema behind,
                    // saying so, rather than hang the test binary.
                    let _ = sqlx::query("SET lock_timeout = '10s'").execute(&mut conn).await;
                    if let Err(e) =
                        sqlx::query(&format!("DROP SCHEMA IF EXISTS {name} CASCADE")).execute(&mut conn).await
                    {
                        eprintln!("!! test schema {name} left behind: {e}");
                    }
                }
            });
        })
        .join();
    }
}

/// Where a test store lives; dropping it removes the file or the schema.
#[derive(Debug)]
pub enum Place {
    /// A SQLite file (`store.sqlite`) in a temporary folder.
    Sqlite(tempfile::TempDir),
    /// A PostgreSQL schema.
    Postgres(PgSchema),
}

/// A test store and how to open it again.
#[derive(Debug)]
pub struct TestStore {
    /// The store.
    pub store: Arc<SqlStore>,
    /// The URL it was opened from.
    pub url: String,
    /// Where it lives (kept for as long as the test store).
    pub place: Place,
}

impl TestStore {
    /// Opens another instance on the same database (another "replica").
    pub async fn reopen(&self) -> Arc<SqlStore> {
        Arc::new(SqlStore::open(&self.url, OpenOptions::default()).await.expect("reopen"))
    }

    /// A new, empty store on the same backend (another file, or another schema).
    pub async fn new_empty(&self) -> TestStore {
        match &self.place {
            Place::Sqlite(_) => sqlite(true).await,
            Place::Postgres(_) => postgres(true).await.expect("PostgreSQL answered a moment ago"),
        }
    }

    /// Runs a statement on the store's database directly, as someone editing it by hand would.
    pub async fn execute_by_hand(&self, sql: &str) {
        execute_by_hand(&self.url, sql).await;
    }

    /// The SQLite file, for SQLite stores.
    pub fn path(&self) -> Option<std::path::PathBuf> {
        match &self.place {
            Place::Sqlite(dir) => Some(dir.path().join("store.sqlite")),
            Place::Postgres(_) => None,
        }
    }
}

/// Runs a statement on the database of the store at `url` directly, as someone editing it by hand would.
pub async fn execute_by_hand(url: &str, sql: &str) {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await.expect("connect by hand");
    sqlx::query(sql).execute(&mut conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    conn.close().await.expect("close");
}

/// A fresh SQLite store (with the bundled dataset loaded, unless `empty`).
pub async fn sqlite(empty: bool) -> TestStore {
    let dir = tempfile::tempdir().expect("temporary folder");
    let url = format!("sqlite://{}", dir.path().join("store.sqlite").display());
    let options = OpenOptions { load_bundled_if_empty: !empty, ..OpenOptions::default() };
    let store = Arc::new(SqlStore::open(&url, options).await.expect("open SQLite store"));
    TestStore { store, url, place: Place::Sqlite(dir) }
}

/// A fresh PostgreSQL store in a schema of its own (with the bundled dataset loaded, unless `empty`), or `None`
/// (outside CI only) when PostgreSQL is unreachable.
pub async fn postgres(empty: bool) -> Option<TestStore> {
    let schema = PgSchema::create().await?;
    let url = schema.url.clone();
    let options = OpenOptions { load_bundled_if_empty: !empty, max_connections: 4, ..OpenOptions::default() };
    let store = Arc::new(SqlStore::open(&url, options).await.expect("open PostgreSQL store"));
    Some(TestStore { store, url, place: Place::Postgres(schema) })
}

/// Every page of `filter`'s activity list, `page_size` at a time, from the store's memory or from the database's
/// query (`SqlStore::list_activities_from_database`): each item as `id@etag`, and the token after each page.
pub async fn activity_pages(
    store: &SqlStore,
    filter: &Filter,
    page_size: u32,
    from_database: bool,
) -> Vec<(Vec<String>, String)> {
    let mut pages = Vec::new();
    let mut page = PageRequest::first(page_size);
    loop {
        let p = if from_database {
            store.list_activities_from_database(filter, &page).await
        } else {
            store.list_activities(filter, &page).await
        };
        let p =
            p.unwrap_or_else(|e| panic!("{filter} (from the database: {from_database}, pages of {page_size}): {e}"));
        let items = p.items.iter().map(|v| format!("{}@{}", v.record.id, v.etag)).collect();
        pages.push((items, p.next_page_token.clone()));
        if p.next_page_token.is_empty() {
            return pages;
        }
        page.page_token = p.next_page_token;
    }
}

/// The etag of a version made by the write of audit position `seq` (treaty actions; see `sql/rows.rs`).
pub fn etag_at(seq: i64) -> String {
    crate::sql::etag_of(seq)
}

/// A workshop in Tirana in March 2008 for Albania, of output 1, citing the 2007 report: an activity every
/// reference of which the bundled dataset holds.
pub fn activity(id: &str) -> core_model::Activity {
    use core_model::{Activity, ActivityKind, ActivityStatus, ApproxDate, Place};
    Activity {
        id: id.to_owned(),
        title: "Workshop on cybercrime legislation".to_owned(),
        description: "A workshop to review draft legislation".to_owned(),
        date_text: "March 2008".to_owned(),
        start: Some(ApproxDate::Month { year: 2008, month: 3 }),
        end: None,
        tentative: false,
        place: Place {
            text: "Tirana, Albania".to_owned(),
            city: Some("Tirana".to_owned()),
            country: "AL".parse().ok(),
            region: None,
            tentative: false,
        },
        countries: vec!["AL".parse().expect("a country code")],
        kind: ActivityKind::Workshop,
        status: ActivityStatus::Pipeline,
        outputs: vec![1],
        partners: Vec::new(),
        funding: Vec::new(),
        plan: None,
        source: SourceRef::new("report-2007-11", None),
        note: None,
    }
}

/// A treaty action of `state` under `treaty` on `date` (an `ApproxDate`'s text), citing the 2007 report.
pub fn action(state: &str, treaty: u32, kind: ActionKind, date: &str) -> TreatyAction {
    TreatyAction {
        state: state.parse().expect("a country code"),
        treaty: TreatyNumber(treaty),
        kind,
        date: date.parse().expect("a date"),
        entry_into_force: None,
        source: SourceRef::new("report-2007-11", None),
        note: None,
    }
}
