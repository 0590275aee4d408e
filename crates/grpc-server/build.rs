//! Generates the echo service of the load benchmark with protox (pure Rust, no system protoc) and
//! tonic-prost-build. The contract's code is the `cybercrime-api` crate's (checked in there).

use std::{env, path::PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    println!("cargo:rerun-if-changed={}", proto.join("coe/cybercrime/bench").display());
    let _ = env::var("OUT_DIR")?;
    // The echo service of the load benchmark: generated, but kept out of the descriptor set reflection serves.
    let echo = protox::compile(["coe/cybercrime/bench/v1/echo.proto"], [&proto])?;
    tonic_prost_build::configure().build_client(true).build_server(true).compile_fds(echo)?;
    Ok(())
}
