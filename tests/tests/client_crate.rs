//! The client crate (`cybercrime-api`) against the real server: its example's code path gives the status table
//! of 30 November 2007, its connect helper retries reads on UNAVAILABLE (a server out of reach for a moment) and
//! does not retry writes, and its bearer token is sent.

#![allow(clippy::print_stdout)]

use std::time::{Duration, Instant};

use cybercrime_api::{
    coe::cybercrime::v1::{CreateActivityRequest, GetActivityRequest, GetTreatyRequest, StateStatus},
    connect::{Compression, Connector},
};
use e2e_tests::{
    Proxy, TestServer,
    builders::{activity, ets185_on_2007_11_30, group_counts},
};
use tonic::Code;

#[allow(dead_code, unreachable_pub)]
#[path = "../../crates/cybercrime-api/examples/treaty_status.rs"]
mod status_example;

#[tokio::test]
async fn the_example_gives_the_status_table_of_30_november_2007() {
    let server = TestServer::start();
    let url = format!("http://{}", server.addr);
    let status = status_example::treaty_status(&url, None, 185, (2007, 11, 30)).await.unwrap();
    assert_eq!(status.name, "treaties/185");
    assert_eq!(group_counts(&status), ets185_on_2007_11_30());
    // The report's "Ratified" column: 21 parties.
    assert_eq!(status_example::count(&status, StateStatus::Party), 21);
}

#[tokio::test]
async fn reads_are_retried_while_the_server_is_out_of_reach() {
    let server = TestServer::start();
    let mut proxy = Proxy::start(&server.addr).await;
    let connection = Connector::new(format!("http://{}", proxy.addr))
        .unwrap()
        .compression(Compression::Gzip)
        .connect_lazy()
        .unwrap();
    // Nothing listens on the port now; it comes back 300 ms later, within the retries' backoff (0.2 + 0.4 s).
    proxy.cut().await;
    let restore = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        proxy.restore().await;
        proxy
    });
    let started = Instant::now();
    let treaty = connection
        .treaties()
        .get_treaty(GetTreatyRequest { name: "treaties/185".into() })
        .await
        .expect("the read is retried until the server is back")
        .into_inner();
    assert_eq!(treaty.name, "treaties/185");
    assert!(started.elapsed() >= Duration::from_millis(150), "it did wait: {:?}", started.elapsed());
    let mut proxy = restore.await.unwrap();

    // A write without request_id is not retried: out of reach for 300 ms, it fails at once with UNAVAILABLE,
    // though a retry would have reached the server.
    let editor =
        Connector::new(format!("http://{}", proxy.addr)).unwrap().bearer_token("editor-token").connect_lazy().unwrap();
    proxy.cut().await;
    let restore = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        proxy.restore().await;
        proxy
    });
    let name = "activities/client-crate-retry";
    let started = Instant::now();
    let error = editor
        .activities()
        .create_activity(CreateActivityRequest { activity: Some(activity(name)), ..Default::default() })
        .await
        .expect_err("the write is not retried");
    assert_eq!(error.code(), Code::Unavailable, "{error:?}");
    assert!(started.elapsed() < Duration::from_millis(300), "no retry: {:?}", started.elapsed());
    let _proxy = restore.await.unwrap();
    // Nothing was stored; the same connection works again now, with the editor's token.
    let missing = editor.activities().get_activity(GetActivityRequest { name: name.into() }).await.unwrap_err();
    assert_eq!(missing.code(), Code::NotFound, "{missing:?}");
    let created = editor
        .activities()
        .create_activity(CreateActivityRequest { activity: Some(activity(name)), ..Default::default() })
        .await
        .expect("the bearer token is sent: an editor may create")
        .into_inner();
    assert_eq!(created.name, name);
}

#[tokio::test]
async fn without_a_token_a_write_is_refused() {
    let server = TestServer::start();
    let connection = Connector::new(format!("http://{}", server.addr)).unwrap().connect().await.unwrap();
    let error = connection
        .activities()
        .create_activity(CreateActivityRequest {
            activity: Some(activity("activities/client-crate-no-token")),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::Unauthenticated, "{error:?}");
    assert!(Connector::new("http://127.0.0.1:1").unwrap().bearer_token("a\nb").connect_lazy().is_err());
}
