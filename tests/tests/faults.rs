//! Faults injected into a running server: SIGKILL under a write load (SQLite and PostgreSQL), a disk that fills
//! up under writes (SQLite, on a small tmpfs), a PostgreSQL database that turns read-only under writes. (A file
//! system cannot be remounted read-only under a process that has a file open for writing, EBUSY: a SQLite store
//! that is read-only when opened is refused at open, see `crates/storage/tests/faults.rs`.) Each checks that no acknowledged write is lost, none is half-applied, the store passes its
//! checks, reads keep working, and writes fail with UNAVAILABLE and a clear message.

#![allow(clippy::print_stderr)] // the figures (writes acknowledged, lost: zero) are printed for RELIABILITY.md

use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
    process::Command,
    sync::{Arc, Mutex},
    time::Duration,
};

use e2e_tests::{
    TestServer, api,
    builders::{self, create_activity as create},
    date,
};
use storage::{
    PageRequest,
    testing::{PgSchema, pg_base_url, pg_connection},
};
use tonic::{Code, transport::Channel};

use api::{activity_service_client::ActivityServiceClient, treaty_service_client::TreatyServiceClient};

/// An activity whose description takes about `description_len` bytes: ASCII up to the limit of 16,384
/// characters, four-byte characters beyond (at most 64 KiB, the largest description there is).
fn activity(name: &str, description_len: usize) -> api::Activity {
    let description = if description_len <= 16_384 {
        "d".repeat(description_len)
    } else {
        "𝄞".repeat((description_len / 4).min(16_384))
    };
    api::Activity {
        title: format!("Fault test {name}"),
        description,
        countries: vec!["countries/AL".into(), "countries/RO".into()],
        outputs: vec![1, 3],
        ..builders::activity(name)
    }
}

/// The writes acknowledged so far, by name, as they were sent.
type Acknowledged = Arc<Mutex<BTreeMap<String, api::Activity>>>;

/// Writers creating activities until told to stop or until the server stops answering; what was acknowledged.
fn start_writers(
    ch: &Channel,
    writers: usize,
    description_len: usize,
    stop: &Arc<std::sync::atomic::AtomicBool>,
) -> (Acknowledged, Vec<tokio::task::JoinHandle<Vec<tonic::Status>>>) {
    let acknowledged = Arc::new(Mutex::new(BTreeMap::new()));
    let mut tasks = Vec::new();
    for w in 0..writers {
        let (ch, stop, acknowledged) = (ch.clone(), stop.clone(), acknowledged.clone());
        tasks.push(tokio::spawn(async move {
            let mut errors = Vec::new();
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && errors.len() < 20 {
                let name = format!("activities/fault-{w}-{n}");
                let sent = activity(&name, description_len);
                match create(&ch, sent.clone(), &format!("fault-{w}-{n}")).await {
                    Ok(answer) => {
                        assert_eq!(answer.name, name);
                        acknowledged.lock().expect("lock").insert(name, sent);
                    }
                    Err(e) => {
                        errors.push(e);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
                n += 1;
            }
            errors
        }));
    }
    (acknowledged, tasks)
}

/// Every acknowledged activity is there as it was sent; every activity of the test that is there is whole and
/// audited exactly once (none half-applied); the store passes its integrity check and its data its validation.
async fn check_nothing_lost(store_url: &str, ch: &Channel, acknowledged: &BTreeMap<String, api::Activity>) {
    for (name, sent) in acknowledged {
        let got = ActivityServiceClient::new(ch.clone())
            .get_activity(api::GetActivityRequest { name: name.clone() })
            .await
            .unwrap_or_else(|e| panic!("acknowledged {name} is lost: {e:?}"))
            .into_inner();
        assert_eq!(
            (&got.title, got.description.len(), &got.countries, &got.outputs),
            (&sent.title, sent.description.len(), &sent.countries, &sent.outputs),
            "{name}"
        );
    }
    let store = storage::open(store_url).await.expect("open the store after the fault");
    store.integrity_check().await.expect("integrity check");
    let data = store.export().await.expect("export");
    assert!(data.validate().is_empty(), "the data no longer validates: {:?}", data.validate());
    let present: BTreeSet<String> =
        data.activities.iter().filter(|a| a.id.starts_with("fault-")).map(|a| a.id.clone()).collect();
    let mut audited = BTreeMap::<String, usize>::new();
    let mut page = PageRequest::first(PageRequest::MAX_SIZE);
    loop {
        let p = store.audit_log(&page).await.expect("audit log");
        for e in p.items {
            if let Some(id) = e.resource.strip_prefix("activities/").filter(|id| id.starts_with("fault-")) {
                *audited.entry(id.to_owned()).or_default() += 1;
            }
        }
        if p.next_page_token.is_empty() {
            break;
        }
        page.page_token = p.next_page_token;
    }
    assert_eq!(audited.keys().cloned().collect::<BTreeSet<_>>(), present, "an activity without its audit entry");
    assert!(audited.values().all(|n| *n == 1), "audited twice: {audited:?}");
    for name in acknowledged.keys() {
        assert!(present.contains(name.trim_start_matches("activities/")));
    }
}

async fn sigkill_under_write_load(store_url: &str) {
    let mut server = TestServer::builder().store(store_url).start();
    let ch = server.channel().await;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (acknowledged, tasks) = start_writers(&ch, 16, 200, &stop);
    // Let the load run, then kill the server in the middle of it.
    while acknowledged.lock().expect("lock").len() < 300 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.kill();
    let mut refused = 0;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for t in tasks {
        refused += t.await.expect("writer").len();
    }
    let acknowledged = acknowledged.lock().expect("lock").clone();
    eprintln!("SIGKILL: {} writes acknowledged before the kill, {refused} failed with it", acknowledged.len());

    let restarted = TestServer::builder().store(store_url).start();
    let ch = restarted.channel().await;
    check_nothing_lost(store_url, &ch, &acknowledged).await;
    // A write repeated with its request id after the restart is not applied twice.
    let (name, sent) = acknowledged.iter().next().expect("a write");
    let id = name.trim_start_matches("activities/");
    let again = create(&ch, sent.clone(), id).await.expect("the repeated write gets its first answer");
    assert_eq!(&again.name, name);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_write_load_loses_no_acknowledged_write_sqlite() {
    let dir = tempfile::tempdir().expect("folder");
    sigkill_under_write_load(&format!("sqlite://{}", dir.path().join("store.sqlite").display())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_write_load_loses_no_acknowledged_write_postgres() {
    let Some(schema) = PgSchema::create().await else { return };
    sigkill_under_write_load(&schema.url).await;
}

/// A small tmpfs mounted for one test, or `None` (outside CI only) where this process may not mount.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().expect("folder");
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status();
        match status {
            Ok(s) if s.success() => Some(Tmpfs { dir }),
            other if std::env::var_os("CI").is_none() => {
                eprintln!(
                    "\n!!!!!!!! SKIPPED: cannot mount a tmpfs here ({other:?}; it needs root). Under CI this test FAILS. !!!!!!!!\n"
                );
                None
            }
            other => panic!("cannot mount a tmpfs ({other:?}): the fault tests need root, as CI has"),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

async fn status_still_read(ch: &Channel) {
    let s = TreatyServiceClient::new(ch.clone())
        .get_treaty_status(api::GetTreatyStatusRequest {
            name: "treaties/185".into(),
            as_of: Some(date(2007, 11, 30)),
            ..Default::default()
        })
        .await
        .expect("status still read")
        .into_inner();
    assert_eq!(s.groups[0].count, 21);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_fails_writes_with_unavailable_and_keeps_reads_and_earlier_writes() {
    let Some(fs) = Tmpfs::mount("24m") else { return };
    let url = format!("sqlite://{}", fs.path().join("store.sqlite").display());
    let server = TestServer::builder().store(&url).start();
    let ch = server.channel().await;
    // A balloon takes most of the space left, so that writes of 64 KiB (the largest description) fill the rest
    // quickly.
    let balloon = fs.path().join("balloon");
    let free = |p: &Path| -> u64 {
        let out = Command::new("df").args(["--output=avail", "-B1"]).arg(p).output().expect("df");
        String::from_utf8_lossy(&out.stdout).lines().nth(1).and_then(|l| l.trim().parse().ok()).expect("df output")
    };
    let leave = 4 * 1024 * 1024;
    std::fs::write(&balloon, vec![0u8; (free(fs.path()).saturating_sub(leave)) as usize]).expect("balloon");
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (acknowledged, tasks) = start_writers(&ch, 4, 64 * 1024, &stop);
    let mut errors = Vec::new();
    for t in tasks {
        errors.extend(t.await.expect("writer"));
    }
    let acknowledged = acknowledged.lock().expect("lock").clone();
    eprintln!("disk full: {} writes acknowledged, then {} refused", acknowledged.len(), errors.len());
    assert!(!errors.is_empty(), "the disk never filled up");
    for e in &errors {
        assert_eq!(e.code(), Code::Unavailable, "{e:?}");
    }
    assert!(errors.iter().any(|e| e.message().contains("disk is full")), "{:?}", errors[0]);
    // Reads keep working, and nothing acknowledged is lost.
    status_still_read(&ch).await;
    for name in acknowledged.keys() {
        ActivityServiceClient::new(ch.clone())
            .get_activity(api::GetActivityRequest { name: name.clone() })
            .await
            .unwrap_or_else(|e| panic!("{name} lost on a full disk: {e:?}"));
    }
    // Space again: writes work again, without a restart.
    std::fs::remove_file(&balloon).expect("deflate");
    create(&ch, activity("activities/fault-after-space", 10), "").await.expect("a write once there is space");
    let mut acknowledged = acknowledged;
    acknowledged.insert("activities/fault-after-space".into(), activity("activities/fault-after-space", 10));
    drop(server);
    let restarted = TestServer::builder().store(&url).start();
    check_nothing_lost(&url, &restarted.channel().await, &acknowledged).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_database_turned_read_only_fails_writes_with_unavailable_and_keeps_reads() {
    use sqlx::Connection;
    // A database of its own, so that turning it read-only touches no other test.
    let base = pg_base_url();
    let Some(mut admin) = pg_connection().await else { return };
    let db = format!("e2e_ro_{}", std::process::id());
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).execute(&mut admin).await;
    sqlx::query(&format!("CREATE DATABASE {db}")).execute(&mut admin).await.expect("create database");
    let url = base.rsplit_once('/').map(|(head, _)| format!("{head}/{db}")).expect("a database in the URL");
    let set_read_only = |on: bool| {
        let (db, base) = (db.clone(), base.clone());
        async move {
            let mut admin = sqlx::PgConnection::connect(&base).await.expect("admin");
            sqlx::query(&format!("ALTER DATABASE {db} SET default_transaction_read_only = {on}"))
                .execute(&mut admin)
                .await
                .expect("alter database");
            // Sessions take the setting when they start: end the server's.
            sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
                .bind(&db)
                .execute(&mut admin)
                .await
                .expect("terminate sessions");
        }
    };
    {
        let server = TestServer::builder().store(&url).start();
        let ch = server.channel().await;
        let before = create(&ch, activity("activities/fault-before-ro", 10), "").await.expect("a write");
        set_read_only(true).await;
        // The pool notices its connections were ended: the first calls may fail with UNAVAILABLE too.
        let mut err = None;
        for _ in 0..20 {
            match create(&ch, activity("activities/fault-during-ro", 10), "").await {
                Err(e) if e.message().contains("read-only") => {
                    err = Some(e);
                    break;
                }
                Err(e) => {
                    assert_eq!(e.code(), Code::Unavailable, "{e:?}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Ok(a) => panic!("written to a read-only database: {a:?}"),
            }
        }
        let err = err.expect("a read-only refusal");
        eprintln!("read-only PostgreSQL: {err:?}");
        assert_eq!(err.code(), Code::Unavailable);
        status_still_read(&ch).await;
        let mut read = None;
        for _ in 0..20 {
            match ActivityServiceClient::new(ch.clone())
                .get_activity(api::GetActivityRequest { name: before.name.clone() })
                .await
            {
                Ok(a) => {
                    read = Some(a.into_inner());
                    break;
                }
                Err(e) => {
                    assert_eq!(e.code(), Code::Unavailable, "{e:?}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        assert_eq!(read.expect("a read from the read-only database").name, before.name);
        set_read_only(false).await;
        let mut written = false;
        for _ in 0..20 {
            if create(&ch, activity("activities/fault-after-ro", 10), "fault-after-ro").await.is_ok() {
                written = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(written, "no write once the database was writable again");
        let acknowledged: BTreeMap<String, api::Activity> = [
            ("activities/fault-before-ro".to_owned(), activity("activities/fault-before-ro", 10)),
            ("activities/fault-after-ro".to_owned(), activity("activities/fault-after-ro", 10)),
        ]
        .into();
        check_nothing_lost(&url, &ch, &acknowledged).await;
    }
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).execute(&mut admin).await;
}
