//! Test stores: a fresh SQLite file in a temporary folder, or a fresh schema of its own in the PostgreSQL
//! database of this machine (`CYBERCRIME_TEST_DATABASE_URL`, default `postgres://postgres@127.0.0.1:5432/test`),
//! dropped when the test ends.
//!
//! When PostgreSQL is unreachable the PostgreSQL tests fail under CI (`CI` set) and, elsewhere, are skipped with
//! a loud message.

#![allow(dead_code, unused_macros, clippy::print_stderr)]

use std::sync::{
    Arc,
    atomic::{AtomicU32, Ordering},
};

use storage::{OpenOptions, SqlStore, Store};

/// Runs each named `async fn(TestStore)` of the calling test file twice: in a module `sqlite` on a fresh SQLite
/// file, and in a module `postgres` on a fresh schema (skipped with a loud message outside CI when PostgreSQL is
/// unreachable).
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::common::sqlite(false).await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(store) = super::common::postgres(false).await {
                        super::$name(store).await;
                    }
                }
            )*
        }
    };
}

/// The PostgreSQL server tests use.
pub(crate) fn pg_base_url() -> String {
    std::env::var("CYBERCRIME_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// Where a test store lives; dropping it removes the file or the schema.
pub(crate) enum Place {
    /// A SQLite file in a temporary folder.
    Sqlite(tempfile::TempDir),
    /// A PostgreSQL schema.
    Postgres { schema: String },
}

/// A test store and how to open it again.
pub(crate) struct TestStore {
    /// The store.
    pub(crate) store: Arc<dyn Store>,
    /// The URL it was opened from.
    pub(crate) url: String,
    /// Where it lives.
    pub(crate) place: Place,
}

impl TestStore {
    /// Opens another instance on the same database (another "replica").
    pub(crate) async fn reopen(&self) -> Arc<dyn Store> {
        Arc::new(SqlStore::open(&self.url, OpenOptions::default()).await.expect("reopen"))
    }

    /// Runs a statement on the store's database directly, as someone editing it by hand would.
    pub(crate) async fn execute_by_hand(&self, sql: &str) {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&self.url).await.expect("connect by hand");
        sqlx::query(sql).execute(&mut conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        conn.close().await.expect("close");
    }

    /// The SQLite file, for SQLite stores.
    pub(crate) fn path(&self) -> Option<std::path::PathBuf> {
        match &self.place {
            Place::Sqlite(dir) => Some(dir.path().join("store.sqlite")),
            Place::Postgres { .. } => None,
        }
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        if let Place::Postgres { schema } = self {
            let schema = schema.clone();
            // Drop is synchronous: clean up on a thread with a runtime of its own.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
                rt.block_on(async move {
                    use sqlx::Connection;
                    if let Ok(mut conn) = sqlx::PgConnection::connect(&pg_base_url()).await {
                        let _ =
                            sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).execute(&mut conn).await;
                    }
                });
            })
            .join();
        }
    }
}

/// A fresh SQLite store (with the bundled dataset loaded, unless `empty`).
pub(crate) async fn sqlite(empty: bool) -> TestStore {
    let dir = tempfile::tempdir().expect("temporary folder");
    let url = format!("sqlite://{}", dir.path().join("store.sqlite").display());
    let options = OpenOptions { load_bundled_if_empty: !empty, ..OpenOptions::default() };
    let store = Arc::new(SqlStore::open(&url, options).await.expect("open SQLite store"));
    TestStore { store, url, place: Place::Sqlite(dir) }
}

/// A fresh PostgreSQL store in a schema of its own, or `None` (outside CI only) when PostgreSQL is unreachable.
pub(crate) async fn postgres(empty: bool) -> Option<TestStore> {
    use sqlx::Connection;
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let base = pg_base_url();
    let mut conn = match sqlx::PgConnection::connect(&base).await {
        Ok(conn) => conn,
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!(
                "\n!!!!!!!! SKIPPED: PostgreSQL is unreachable at {base}: {e}. Under CI this test FAILS. !!!!!!!!\n"
            );
            return None;
        }
        Err(e) => panic!("PostgreSQL is unreachable at {base}: {e}"),
    };
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let schema = format!("t_{}_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst), nanos);
    sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&mut conn).await.expect("create schema");
    let place = Place::Postgres { schema: schema.clone() };
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
    let options = OpenOptions { load_bundled_if_empty: !empty, max_connections: 4, ..OpenOptions::default() };
    let store = Arc::new(SqlStore::open(&url, options).await.expect("open PostgreSQL store"));
    Some(TestStore { store, url, place })
}
