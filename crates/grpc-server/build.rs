//! Generates the echo service of the load benchmark with protox (pure Rust, no system protoc) and
//! tonic-prost-build (the contract's code is the `cybercrime-api` crate's, checked in there), and records the git
//! commit built (`git_commit`) for `cybercrime --version`.

use std::{env, path::PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    git_commit();
    let proto = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    println!("cargo:rerun-if-changed={}", proto.join("coe/cybercrime/bench").display());
    let _ = env::var("OUT_DIR")?;
    // The echo service of the load benchmark: generated, but kept out of the descriptor set reflection serves.
    let echo = protox::compile(["coe/cybercrime/bench/v1/echo.proto"], [&proto])?;
    tonic_prost_build::configure().build_client(true).build_server(true).compile_fds(echo)?;
    Ok(())
}

/// Sets `CYBERCRIME_COMMIT` for `cybercrime --version`: the commit's short hash and date (`835bb17 2026-12-03`),
/// `-dirty` after the hash when tracked files differed from it at build time, or `unknown` without git (a
/// tarball). Reruns when HEAD moves (a checkout, or a commit on the current branch).
fn git_commit() {
    let git = |args: &[&str]| -> Option<String> {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .ok()
            .filter(|o| o.status.success())?;
        Some(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let described = git(&["log", "-1", "--format=%h %cs"]).filter(|s| !s.is_empty()).map(|hash_date| {
        let dirty = git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
        match hash_date.split_once(' ') {
            Some((hash, date)) if dirty => format!("{hash}-dirty {date}"),
            _ => hash_date,
        }
    });
    println!("cargo:rustc-env=CYBERCRIME_COMMIT={}", described.as_deref().unwrap_or("unknown"));
    // HEAD, and the branch file it names (a worktree's HEAD is in its own git dir, the branches in the common one).
    if let Some(dir) = git(&["rev-parse", "--absolute-git-dir"]) {
        let dir = PathBuf::from(dir);
        println!("cargo:rerun-if-changed={}", dir.join("HEAD").display());
        // `--git-common-dir` may be relative to the folder git ran in.
        let common = git(&["rev-parse", "--git-common-dir"])
            .map(|c| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(c))
            .unwrap_or_else(|| dir.clone());
        if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
            for base in [&dir, &common] {
                let file = base.join(&branch);
                if file.exists() {
                    println!("cargo:rerun-if-changed={}", file.display());
                }
            }
            // A missing file would rerun this script at every build: only existing ones are named.
            let packed = common.join("packed-refs");
            if packed.exists() {
                println!("cargo:rerun-if-changed={}", packed.display());
            }
        }
    }
}
