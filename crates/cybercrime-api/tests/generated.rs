//! The checked-in generated code (`src/gen/`) is what protox and tonic-prost-build make of `proto/` today.
//!
//! Regenerate after a change to the `.proto` files with
//! `UPDATE_GENERATED=1 cargo test -p cybercrime-api --test generated`; without the variable the test fails when the
//! checked-in files differ from a fresh generation, naming the file.

use std::path::{Path, PathBuf};

use prost::Message;

/// The contract's files, compiled together (their imports, such as `google/type/date.proto`, come along).
const FILES: [&str; 8] = [
    "coe/cybercrime/v1/treaty.proto",
    "coe/cybercrime/v1/activity.proto",
    "coe/cybercrime/v1/country.proto",
    "coe/cybercrime/v1/programme.proto",
    "coe/cybercrime/v1/report.proto",
    "coe/cybercrime/v1/admin.proto",
    "coe/cybercrime/v1/error_reason.proto",
    "coe/cybercrime/v1/changes.proto",
];

/// Generated file name (tonic-prost-build's, from the package) and the checked-in name.
const OUTPUTS: [(&str, &str); 2] =
    [("coe.cybercrime.v1.rs", "coe_cybercrime_v1.rs"), ("google.r#type.rs", "google_type.rs")];

fn generate(into: &Path) -> Vec<(String, Vec<u8>)> {
    let proto = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let fds = protox::compile(FILES, [&proto]).expect("the contract compiles");
    let descriptor = fds.encode_to_vec();
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        // The server side only with the crate's `server` feature: partners need only the clients.
        .server_mod_attribute(".", "#[cfg(feature = \"server\")]")
        // A report's chunks are slices of one shared buffer, not copies.
        .bytes(".coe.cybercrime.v1.ReportChunk.data")
        .out_dir(into)
        .compile_fds(fds)
        .expect("tonic-prost-build generates");
    let mut out = vec![("descriptor.bin".to_owned(), descriptor)];
    for (generated, checked_in) in OUTPUTS {
        let text = std::fs::read(into.join(generated)).expect("generated file");
        out.push((checked_in.to_owned(), text));
    }
    out
}

#[test]
fn checked_in_code_matches_the_protos() {
    let proto = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    if !proto.exists() {
        // A packaged copy of the crate (crates.io) has no `proto/`: nothing to compare with.
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let gen_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/gen");
    let update = std::env::var_os("UPDATE_GENERATED").is_some();
    let mut stale = Vec::new();
    for (name, fresh) in generate(dir.path()) {
        let path = gen_dir.join(&name);
        if update {
            std::fs::write(&path, &fresh).expect("write generated file");
        } else if std::fs::read(&path).ok().as_deref() != Some(fresh.as_slice()) {
            stale.push(name);
        }
    }
    assert!(
        stale.is_empty(),
        "src/gen is stale ({stale:?}); run `UPDATE_GENERATED=1 cargo test -p cybercrime-api --test generated`"
    );
}
