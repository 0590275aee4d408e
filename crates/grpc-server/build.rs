//! Generates the gRPC code of `proto/coe/cybercrime/v1` with protox (pure Rust, no system protoc) and
//! tonic-prost-build, and writes the descriptor set server reflection serves.

use std::{env, path::PathBuf};

use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    println!("cargo:rerun-if-changed={}", proto.display());
    let files = [
        "coe/cybercrime/v1/treaty.proto",
        "coe/cybercrime/v1/activity.proto",
        "coe/cybercrime/v1/country.proto",
        "coe/cybercrime/v1/programme.proto",
        "coe/cybercrime/v1/report.proto",
        "coe/cybercrime/v1/admin.proto",
        "coe/cybercrime/v1/error_reason.proto",
        "coe/cybercrime/v1/changes.proto",
    ];
    let fds = protox::compile(files, [&proto])?;
    let out = PathBuf::from(env::var("OUT_DIR")?);
    std::fs::write(out.join("cybercrime_descriptor.bin"), fds.encode_to_vec())?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        // A report's chunks are slices of one shared buffer, not copies.
        .bytes(".coe.cybercrime.v1.ReportChunk.data")
        .compile_fds(fds)?;
    // The echo service of the load benchmark: generated, but kept out of the descriptor set reflection serves.
    let echo = protox::compile(["coe/cybercrime/bench/v1/echo.proto"], [&proto])?;
    tonic_prost_build::configure().build_client(true).build_server(true).compile_fds(echo)?;
    Ok(())
}
