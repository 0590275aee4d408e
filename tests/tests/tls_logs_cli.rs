//! TLS with client certificates, JSON logs, and the `cybercrime` commands other than `serve`.

use std::process::Command;

use e2e_tests::{TestServer, api, binary, date};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

#[tokio::test]
async fn tls_with_client_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "Test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let server_key = KeyPair::generate().unwrap();
    let server_cert =
        CertificateParams::new(vec!["localhost".to_owned()]).unwrap().signed_by(&server_key, &ca, &ca_key).unwrap();
    let client_key = KeyPair::generate().unwrap();
    let client_cert = CertificateParams::new(vec!["partner-system".to_owned()])
        .unwrap()
        .signed_by(&client_key, &ca, &ca_key)
        .unwrap();
    let write = |name: &str, text: String| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let (ca_pem, cert, key) = (
        write("ca.pem", ca.pem()),
        write("server.pem", server_cert.pem()),
        write("server.key", server_key.serialize_pem()),
    );
    let server =
        TestServer::builder().args(&["--tls-cert", &cert, "--tls-key", &key, "--tls-client-ca", &ca_pem]).start();
    let uri = format!("https://{}", server.addr);
    let tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca.pem())).domain_name("localhost");

    // With a client certificate signed by the CA: served.
    let with_identity = tls.clone().identity(Identity::from_pem(client_cert.pem(), client_key.serialize_pem()));
    let channel =
        Channel::from_shared(uri.clone()).unwrap().tls_config(with_identity).unwrap().connect().await.unwrap();
    let mut treaties = api::treaty_service_client::TreatyServiceClient::new(channel);
    let t = treaties.get_treaty(api::GetTreatyRequest { name: "treaties/185".into() }).await.unwrap().into_inner();
    assert_eq!(t.entry_into_force, Some(date(2004, 7, 1)));

    // Without one: refused.
    let refused = async {
        let channel = Channel::from_shared(uri.clone()).unwrap().tls_config(tls).unwrap().connect().await?;
        api::treaty_service_client::TreatyServiceClient::new(channel)
            .get_treaty(api::GetTreatyRequest { name: "treaties/185".into() })
            .await
            .map_err(|s| Box::new(s) as Box<dyn std::error::Error>)?;
        Ok::<(), Box<dyn std::error::Error>>(())
    };
    assert!(refused.await.is_err(), "a client without a certificate was served");
    // In plain text: refused.
    let plain = Channel::from_shared(format!("http://{}", server.addr)).unwrap().connect().await;
    if let Ok(channel) = plain {
        let r = api::treaty_service_client::TreatyServiceClient::new(channel)
            .get_treaty(api::GetTreatyRequest { name: "treaties/185".into() })
            .await;
        assert!(r.is_err());
    }
}

#[tokio::test]
async fn json_logs_have_one_line_per_request() {
    let server = TestServer::builder().args(&["--log-format", "json"]).start();
    let mut treaties = api::treaty_service_client::TreatyServiceClient::new(server.channel().await);
    treaties.get_treaty(api::GetTreatyRequest { name: "treaties/185".into() }).await.unwrap();
    treaties.get_treaty(api::GetTreatyRequest { name: "treaties/999".into() }).await.unwrap_err();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let log = server.log();
    let requests: Vec<&str> = log.lines().filter(|l| l.contains("\"method\":\"GetTreaty\"")).collect();
    assert_eq!(requests.len(), 2, "{log}");
    for line in &requests {
        assert!(line.starts_with('{') && line.ends_with('}'), "{line}");
        assert!(line.contains("\"latency_ms\":") && line.contains("\"principal\":\"anonymous\""), "{line}");
    }
    assert!(requests[0].contains("\"code\":\"Ok\""), "{}", requests[0]);
    assert!(requests[1].contains("\"code\":\"NotFound\""), "{}", requests[1]);
}

#[test]
fn check_export_and_import() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let cli = |args: &[&str]| {
        let out = Command::new(binary()).args(args).output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let data = root.join("data");
    let (ok, out) = cli(&["check", data.to_str().unwrap()]);
    assert!(ok, "{out}");
    // The counts of the bundled data, which the files in `data/` are.
    let ds = core_model::Dataset::bundled();
    let counts = format!(
        "valid ({} treaties, {} states, {} treaty actions, {} activities)",
        ds.treaties.len(),
        ds.states.len(),
        ds.treaty_actions.len(),
        ds.activities.len()
    );
    assert!(out.contains(&counts), "{out}");

    // A broken copy: every problem, with its file, record and field.
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken");
    std::fs::create_dir(&broken).unwrap();
    for entry in std::fs::read_dir(&data).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, broken.join(path.file_name().unwrap())).unwrap();
    }
    let actions = broken.join("treaty-actions.toml");
    let text = std::fs::read_to_string(&actions).unwrap().replacen("date = \"2002-06-20\"", "date = \"2002-06-31\"", 1);
    std::fs::write(&actions, text).unwrap();
    let (ok, out) = cli(&["check", broken.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        out.contains("treaty-actions.toml: action #2 (AL ratification of 185): field `date`: `2002-06-31` is not a date: day 31 does not exist in 2002-06"),
        "{out}"
    );

    // Export a store, import the export into an empty store, export again: the same files.
    let store = format!("sqlite://{}", dir.path().join("a.sqlite").display());
    let first = dir.path().join("first");
    let (ok, out) = cli(&["export", "--create", "--store", &store, first.to_str().unwrap()]);
    assert!(ok, "{out}");
    let other = format!("sqlite://{}", dir.path().join("b.sqlite").display());
    let (ok, out) = cli(&["import", "--store", &other, first.to_str().unwrap()]);
    assert!(ok, "{out}");
    let second = dir.path().join("second");
    let (ok, out) = cli(&["export", "--store", &other, second.to_str().unwrap()]);
    assert!(ok, "{out}");
    for (name, _) in [("activities.toml", ()), ("treaty-actions.toml", ()), ("reported-figures.toml", ())] {
        assert_eq!(
            std::fs::read_to_string(first.join(name)).unwrap(),
            std::fs::read_to_string(second.join(name)).unwrap(),
            "{name}"
        );
    }
    // Importing into a store that holds data is refused.
    let (ok, out) = cli(&["import", "--store", &other, first.to_str().unwrap()]);
    assert!(!ok && out.contains("the store is not empty"), "{out}");
}
