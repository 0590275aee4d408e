//! The store's files: a missing SQLite store is created only when asked (`--create`), a clean shutdown leaves
//! the store as its one file (the WAL checkpointed), and `cybercrime backup` copies a running store under write
//! load, the copy holding every write acknowledged before the backup began.

use std::{
    path::Path,
    process::{Command, Output},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use e2e_tests::{
    TestServer, api, api::activity_service_client::ActivityServiceClient, binary, builders::activity,
    builders::create_activity,
};

fn cli(args: &[&str]) -> Output {
    Command::new(binary()).args(args).env("RUST_LOG", "warn").output().expect("cybercrime")
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).expect("dir").map(|e| e.expect("entry").file_name().to_string_lossy().into()).collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_store_is_refused_unless_asked_to_create_it() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("typo.sqlite");
    let url = format!("sqlite://{}", path.display());
    let to = dir.path().join("copy.sqlite");
    let out_dir = dir.path().join("out");
    let commands: [Vec<&str>; 5] = [
        vec!["serve", "--addr", "127.0.0.1:0", "--store", &url],
        vec!["export", "--store", &url, out_dir.to_str().expect("path")],
        vec!["check", "--store", &url],
        vec!["report", "progress", "--as-of", "2007-11-30", "--from", "2007-01-01", "--store", &url],
        vec!["backup", "--store", &url, "--to", to.to_str().expect("path")],
    ];
    for args in &commands {
        let out = cli(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(stderr.contains(&path.display().to_string()), "{args:?}: the path is named: {stderr}");
        assert!(stderr.contains("pass --create to create a new store"), "{args:?}: {stderr}");
        assert!(files(dir.path()).is_empty(), "{args:?} created {:?}", files(dir.path()));
    }

    // With --create, the store is created; a clean shutdown (SIGTERM) leaves it as one file.
    let mut server = TestServer::builder().store(&url).start();
    assert!(path.exists());
    // A write, so that the write-ahead log holds something to fold into the file.
    create_activity(&server.channel().await, activity("activities/kept"), "").await.expect("a write");
    assert!(files(dir.path()).contains(&"typo.sqlite-wal".to_owned()), "{:?}", files(dir.path()));
    let (_, clean) = tokio::task::block_in_place(|| server.terminate());
    assert!(clean, "{}", server.log());
    // The log is copied from the process's stderr by a thread of its own: give it a moment to catch up.
    for _ in 0..50 {
        if server.log().contains("store closed") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(server.log().contains("store closed"), "{}", server.log());
    assert_eq!(files(dir.path()), ["typo.sqlite"], "the WAL is checkpointed into the store at shutdown");
    // Now it exists, and is opened without --create.
    let out = cli(&["check", "--store", &url]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(files(dir.path()), ["typo.sqlite"], "check leaves the store as it found it");
    let restarted = TestServer::builder().store(&url).start();
    let got = ActivityServiceClient::new(restarted.channel().await)
        .get_activity(api::GetActivityRequest { name: "activities/kept".into() })
        .await;
    assert!(got.is_ok(), "the write is in the one file: {got:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_write_load_holds_every_write_acknowledged_before_it() {
    let server = TestServer::start();
    let url = format!("sqlite://{}", server.dir().join("store.sqlite").display());
    let channel = server.channel().await;
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (acknowledged, stop) = (acknowledged.clone(), stop.clone());
        tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let name = format!("activities/load-{i}");
                create_activity(&channel, activity(&name), "").await.expect("a write");
                acknowledged.lock().expect("lock").push(name);
                i += 1;
            }
        })
    };
    while acknowledged.lock().expect("lock").len() < 20 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let before: Vec<String> = acknowledged.lock().expect("lock").clone();
    let backup_dir = tempfile::tempdir().expect("dir");
    let copy = backup_dir.path().join("backup.sqlite");
    let args = ["backup", "--store", &url, "--to", copy.to_str().expect("path")].map(str::to_owned);
    let out = tokio::task::spawn_blocking(move || Command::new(binary()).args(&args).output().expect("backup"))
        .await
        .expect("backup");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // The server kept writing through the backup.
    let during = acknowledged.lock().expect("lock").len();
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    writer.await.expect("the writer");
    assert!(acknowledged.lock().expect("lock").len() > during, "writes went on after the backup");

    // The copy is one file that passes check; a second backup never overwrites it.
    assert_eq!(files(backup_dir.path()), ["backup.sqlite"]);
    let copy_url = format!("sqlite://{}", copy.display());
    let out = cli(&["check", "--store", &copy_url]);
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let out = cli(&["backup", "--store", &url, "--to", copy.to_str().expect("path")]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("exists already"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Served, the copy holds every write acknowledged before the backup began.
    let restored = TestServer::builder().store(&copy_url).start();
    let mut activities = ActivityServiceClient::new(restored.channel().await);
    for name in &before {
        let got = activities.get_activity(api::GetActivityRequest { name: name.clone() }).await;
        assert!(got.is_ok(), "{name} was acknowledged before the backup began but is not in the copy: {got:?}");
    }

    // A PostgreSQL store is backed up with pg_dump: the command says so.
    let out = cli(&["backup", "--store", "postgres://postgres@127.0.0.1/test", "--to", "/nonexistent/x"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("pg_dump"), "{}", String::from_utf8_lossy(&out.stderr));
}
