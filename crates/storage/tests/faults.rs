//! Faults and bad stores: a file that is not ours, a newer schema, a read-only store, and a process killed
//! (SIGKILL) while writes are in flight.

use std::{
    io::{BufRead, BufReader, Write},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use core_model::{Activity, ActivityKind, ActivityStatus, ApproxDate, Filter, Place, SourceRef};
use storage::{
    OpenOptions, PageRequest, SqlStore, StorageError, Store, WriteContext,
    testing::{self, TestStore},
};

fn activity(id: &str) -> Activity {
    Activity {
        id: id.to_owned(),
        title: "Durability probe".to_owned(),
        description: "Written by the SIGKILL test".to_owned(),
        date_text: String::new(),
        start: Some(ApproxDate::Month { year: 2008, month: 5 }),
        end: None,
        tentative: false,
        place: Place {
            text: "Strasbourg".to_owned(),
            city: Some("Strasbourg".to_owned()),
            country: "FR".parse().ok(),
            region: None,
            tentative: false,
        },
        countries: Vec::new(),
        kind: ActivityKind::Meeting,
        status: ActivityStatus::Pipeline,
        outputs: vec![3],
        partners: Vec::new(),
        funding: Vec::new(),
        plan: None,
        source: SourceRef::new("report-2007-11", None),
        note: None,
    }
}

async fn open(url: &str) -> Result<SqlStore, StorageError> {
    SqlStore::open(url, OpenOptions::default()).await
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "Project on Cybercrime: meeting notes, not a database").unwrap();
    let err = open(&format!("sqlite://{}", path.display())).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{} is not a store of this system: it is not a SQLite database", path.display())
    );
    // The file is untouched.
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "Project on Cybercrime: meeting notes, not a database");
}

#[tokio::test]
async fn another_applications_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.sqlite");
    let url = format!("sqlite://{}?mode=rwc", path.display());
    {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&url).await.unwrap();
        sqlx::query("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)").execute(&pool).await.unwrap();
        pool.close().await;
    }
    let err = open(&format!("sqlite://{}", path.display())).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{} is not a store of this system: it holds tables (invoices) but no `meta` table of this system",
            path.display()
        )
    );
}

#[tokio::test]
async fn a_store_from_a_newer_version_is_refused() {
    let t = testing::sqlite(false).await;
    let path = t.path().unwrap();
    drop(t.store);
    {
        let pool = sqlx::AnyPool::connect(&format!("sqlite://{}", path.display())).await.unwrap();
        sqlx::query("UPDATE meta SET value = '7' WHERE key = 'schema_version'").execute(&pool).await.unwrap();
        pool.close().await;
    }
    let err = open(&t.url).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{} has schema version 7; this version supports up to {}: upgrade the software",
            path.display(),
            storage::SCHEMA_VERSION
        )
    );
}

#[tokio::test]
async fn a_read_only_store_is_refused_at_open() {
    let t = testing::sqlite(false).await;
    let path = t.path().unwrap();
    drop(t.store);
    let err = open(&format!("sqlite://{}?mode=ro", path.display())).await.unwrap_err();
    assert!(matches!(err, StorageError::ReadOnly { .. }), "{err:?}");
    assert!(err.to_string().starts_with(&format!("{} is read-only: ", path.display())), "{err}");
}

#[tokio::test]
async fn an_unknown_url_is_refused() {
    let err = open("mysql://localhost/x").await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "unsupported store URL `mysql://localhost/x`: use sqlite://PATH, sqlite::memory: or postgres://..."
    );
}

/// The child process of the SIGKILL test: writes activities from four tasks and acknowledges each on stdout
/// once its write has returned. Does nothing unless started by the test.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writer_child() {
    let Ok(url) = std::env::var("CYBERCRIME_WRITER_CHILD_URL") else { return };
    let store = std::sync::Arc::new(open(&url).await.unwrap());
    let mut tasks = Vec::new();
    for task in 0..4 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0.. {
                let id = format!("kill-{task}-{i}");
                store.create_activity(&WriteContext::by("writer"), activity(&id)).await.unwrap();
                let mut out = std::io::stdout().lock();
                writeln!(out, "ack {id}").unwrap();
                out.flush().unwrap();
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_writes_loses_no_acknowledged_write() {
    let t = testing::sqlite(false).await;
    let path = t.path().unwrap();
    drop(t.store);
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "writer_child", "--nocapture", "--test-threads=1"])
        .env("CYBERCRIME_WRITER_CHILD_URL", &t.url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(id) = line.strip_prefix("ack ") {
                let _ = tx.send(id.to_owned());
            }
        }
    });
    let mut acked = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while acked.len() < 40 && Instant::now() < deadline {
        if let Ok(id) = rx.recv_timeout(Duration::from_millis(100)) {
            acked.push(id);
        }
    }
    // SIGKILL, with writes in flight.
    child.kill().unwrap();
    child.wait().unwrap();
    acked.extend(rx.try_iter());
    assert!(acked.len() >= 40, "the writer acknowledged only {} writes", acked.len());

    let store = open(&format!("sqlite://{}", path.display())).await.unwrap();
    store.integrity_check().await.unwrap();
    for id in &acked {
        store.get_activity(id).await.unwrap_or_else(|e| panic!("acknowledged write {id} lost: {e}"));
    }
    // Nothing half-written: every activity written is whole, with its audit entry.
    let written = store
        .list_activities(
            &Filter::parse("kind = \"MEETING\" AND output = 3 AND start = \"2008-05\"").unwrap(),
            &PageRequest::first(1000),
        )
        .await
        .unwrap();
    let audit = store.audit_log(&PageRequest::first(1000)).await.unwrap().items;
    let audited = audit.iter().filter(|e| e.principal == "writer").count();
    assert_eq!(audited, written.items.len());
    assert!(written.items.len() >= acked.len());
}

#[tokio::test]
async fn a_store_of_schema_version_1_is_migrated_on_open_and_keeps_its_data() {
    let t = testing::sqlite(false).await;
    let path = t.path().unwrap();
    let before = t.store.export().await.unwrap();
    drop(t.store);
    back_to_schema_version_2(&t.url).await;
    // Take the file back to version 1: without the indexes of migration 2 and its record.
    {
        let pool = sqlx::AnyPool::connect(&format!("sqlite://{}", path.display())).await.unwrap();
        for sql in [
            "DROP INDEX activities_plan",
            "DROP INDEX activities_end",
            "DROP INDEX activities_region",
            "UPDATE meta SET value = '1' WHERE key = 'schema_version'",
            "DELETE FROM _sqlx_migrations WHERE version = 2",
        ] {
            sqlx::query(sql).execute(&pool).await.unwrap();
        }
        pool.close().await;
    }
    let store = open(&t.url).await.unwrap();
    assert_eq!(store.export().await.unwrap(), before);
    drop(store);
    let pool = sqlx::AnyPool::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    let (version,): (String,) =
        sqlx::query_as("SELECT value FROM meta WHERE key = 'schema_version'").fetch_one(&pool).await.unwrap();
    assert_eq!(version, storage::SCHEMA_VERSION.to_string());
    let (indexes,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name IN \
         ('activities_plan', 'activities_end', 'activities_region')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(indexes, 3);
}

/// Takes a store of this version back to schema version 2: treaty actions without etags and times (as before version
/// 5), etags as per-row counters and no times (as before version 4), and request ids keyed by id alone, without
/// principal and fingerprint.
async fn back_to_schema_version_2(url: &str) {
    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    let mut conn = pool.acquire().await.unwrap();
    for sql in [
        "ALTER TABLE treaty_actions DROP COLUMN etag",
        "ALTER TABLE treaty_actions DROP COLUMN create_time",
        "ALTER TABLE treaty_actions DROP COLUMN update_time",
        "DELETE FROM _sqlx_migrations WHERE version = 5",
        "DROP INDEX audit_resource",
        "ALTER TABLE activities DROP COLUMN create_time",
        "ALTER TABLE activities DROP COLUMN update_time",
        "ALTER TABLE records DROP COLUMN create_time",
        "ALTER TABLE records DROP COLUMN update_time",
        "UPDATE activities SET etag = 1",
        "UPDATE records SET etag = 1",
        "DELETE FROM _sqlx_migrations WHERE version = 4",
        "CREATE TABLE requests_v2 (request_id TEXT PRIMARY KEY, operation TEXT NOT NULL, resource TEXT NOT NULL, \
         response TEXT NOT NULL, at TEXT NOT NULL)",
        "INSERT INTO requests_v2 (request_id, operation, resource, response, at) \
         SELECT request_id, operation, resource, response, at FROM requests",
        "DROP TABLE requests",
        "ALTER TABLE requests_v2 RENAME TO requests",
        "UPDATE meta SET value = '2' WHERE key = 'schema_version'",
        "DELETE FROM _sqlx_migrations WHERE version = 3",
    ] {
        sqlx::query(sql).execute(&mut *conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    drop(conn);
    pool.close().await;
}

/// A store of schema version 2 (request ids keyed by id alone) with ids of two principals and one whose audit
/// entry cannot be found, opened by this version: each id belongs to the principal of its audit entry, or to
/// "unknown"; a retry by that principal is still answered once, another principal's same id is a request of its
/// own.
async fn a_store_of_schema_version_2_keeps_its_request_ids_each_with_its_principal(t: TestStore) {
    let editor = WriteContext::by("editor@coe").with_request_id("rid-1");
    let first = t.store.create_activity(&editor, activity("migrated-1")).await.unwrap();
    let admin = WriteContext::by("admin@coe").with_request_id("rid-2");
    t.store.create_activity(&admin, activity("migrated-2")).await.unwrap();
    drop(t.store);
    back_to_schema_version_2(&t.url).await;
    // And one id whose audit entry cannot be found.
    {
        let pool = sqlx::AnyPool::connect(&t.url).await.unwrap();
        sqlx::query(
            "INSERT INTO requests (request_id, operation, resource, response, at) VALUES \
             ('orphan', 'create', 'activities/nowhere', '{\"etag\":\"1\",\"body\":null}', '2026-01-01T00:00:00Z')",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
    }
    let store = SqlStore::open(&t.url, OpenOptions { max_connections: 2, ..OpenOptions::default() }).await.unwrap();
    let pool = sqlx::AnyPool::connect(&t.url).await.unwrap();
    let (version,): (String,) =
        sqlx::query_as("SELECT value FROM meta WHERE key = 'schema_version'").fetch_one(&pool).await.unwrap();
    assert_eq!(version, storage::SCHEMA_VERSION.to_string());
    let rows: Vec<(String, String, Option<String>)> =
        sqlx::query_as("SELECT principal, request_id, fingerprint FROM requests ORDER BY request_id")
            .fetch_all(&pool)
            .await
            .unwrap();
    let expected = [("unknown", "orphan"), ("editor@coe", "rid-1"), ("admin@coe", "rid-2")];
    assert_eq!(rows.iter().map(|r| (r.0.as_str(), r.1.as_str())).collect::<Vec<_>>(), expected);
    assert!(rows.iter().all(|r| r.2.is_none()), "ids of version 2 have no fingerprint");
    pool.close().await;
    // The editor's retry is answered as before, and not applied again.
    assert_eq!(store.create_activity(&editor, activity("migrated-1")).await.unwrap(), first);
    // The same id on another resource is refused; another principal's rid-1 is a request of its own.
    let err = store.create_activity(&editor, activity("migrated-3")).await.unwrap_err();
    assert!(matches!(err, StorageError::RequestIdReused { .. }), "{err:?}");
    let other = WriteContext::by("admin@coe").with_request_id("rid-1");
    store.create_activity(&other, activity("migrated-3")).await.unwrap();
    let audit = store.audit_log(&PageRequest::first(1000)).await.unwrap().items;
    let rid_1: Vec<&str> =
        audit.iter().filter(|e| e.request_id.as_deref() == Some("rid-1")).map(|e| e.resource.as_str()).collect();
    assert_eq!(rid_1, ["activities/migrated-1", "activities/migrated-3"]);
}

#[tokio::test]
async fn a_store_of_schema_version_2_is_migrated_keeping_request_ids_sqlite() {
    a_store_of_schema_version_2_keeps_its_request_ids_each_with_its_principal(testing::sqlite(false).await).await;
}

#[tokio::test]
async fn a_store_of_schema_version_2_is_migrated_keeping_request_ids_postgres() {
    if let Some(t) = testing::postgres(false).await {
        a_store_of_schema_version_2_keeps_its_request_ids_each_with_its_principal(t).await;
    }
}

/// A store opened without `create_if_missing` on a path that does not exist is refused, and nothing is created:
/// no database, no `-wal` or `-shm` file.
#[tokio::test]
async fn a_missing_store_is_not_created_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("typo.sqlite").display());
    let options = OpenOptions { create_if_missing: false, ..OpenOptions::default() };
    let err = SqlStore::open(&url, options).await.unwrap_err();
    assert!(matches!(err, StorageError::NotOurs { .. }), "{err:?}");
    assert!(err.to_string().contains("typo.sqlite"), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing created");
    let err = storage::backup(&url, &dir.path().join("copy.sqlite")).await.unwrap_err();
    assert!(matches!(err, StorageError::NotOurs { .. }), "{err:?}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing created");
    // Asked, it is created.
    SqlStore::open(&url, OpenOptions::default()).await.expect("created").close().await.expect("closed");
    assert!(dir.path().join("typo.sqlite").exists());
}

/// A backup is a store of its own with the same data; it never overwrites a file.
#[tokio::test]
async fn a_backup_is_a_copy_that_overwrites_nothing() {
    let t = testing::sqlite(false).await;
    t.store.create_activity(&WriteContext::by("test"), activity("backed-up")).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("copy.sqlite");
    storage::backup(&t.url, &to).await.expect("backup");
    let err = storage::backup(&t.url, &to).await.unwrap_err();
    assert!(matches!(err, StorageError::AlreadyExists { .. }), "{err:?}");
    let copy = SqlStore::open(&format!("sqlite://{}", to.display()), OpenOptions::default()).await.unwrap();
    assert_eq!(copy.get_activity("backed-up").await.unwrap(), t.store.get_activity("backed-up").await.unwrap());
    assert_eq!(copy.export().await.unwrap(), t.store.export().await.unwrap());
}

/// A store closed while reads are still running is left as its one file, every round. Two faults left the
/// `-wal` and `-shm` behind (seen in CI after `cybercrime check` and a server's shutdown): sqlx's pool could
/// return from its close with a connection handed back during it still open, and two connections closing at
/// once can each leave the files to the other. Both show within a few runs of this test on a loaded machine
/// (four busy loops beside it on two cores); never alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_closed_under_reads_is_left_as_its_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.sqlite");
    let url = format!("sqlite://{}", path.display());
    let files = || {
        let mut names: Vec<String> =
            std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
        names.sort();
        names
    };
    for round in 0..25 {
        let store = std::sync::Arc::new(SqlStore::open(&url, OpenOptions::default()).await.unwrap());
        let readers: Vec<_> = (0..6)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move { while store.change_sequence().await.is_ok() {} })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(20)).await;
        // As a server stops: its store monitor is aborted, its query perhaps half done, and the store closed.
        for reader in &readers {
            reader.abort();
        }
        store.close().await.expect("closed");
        assert_eq!(files(), ["store.sqlite"], "round {round}: the store is its one file once closed");
    }
}
