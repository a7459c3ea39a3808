//! wasock's integration tests: guest programs from tests/programs, compiled from source during
//! the test run (C with clang and wasi-libc; Rust with cargo for wasm32-wasip1, for
//! wasm32-wasip1-threads through `rust_threads`, and for wasm32-wasip2 — components — through
//! `rust_p2`), run through the `wasock` CLI.
//!
//! - `p1`: WASI preview 1 behaviour seen by guests (args, env, exit, stdio, files, dirs,
//!   timestamps, clocks, random, poll, sandboxing, wild pointers).
//! - `cli`: the command line itself (errors, --version, -f, missing imports, --timeout, traps).
//! - `docs`: the documentation's links, paths and spec references, and the README's embedding program.
//! - `sock`: WAMR's socket extension through raw imports, and the capability policy.
//! - `guest`: the guest libraries (C with CMake, Rust wasock-net) and their examples.
//! - `threads`: wasi-threads guests.
//! - `wamr_cmake`: WAMR binaries as WAMR's CMake builds them: lib-pthread (`env.pthread_*`)
//!   and modules that define their own shared memory.
//! - `hostile`: a hostile guest against the network policy and the limits (issue 10).
//! - `faults`: resets, half-closes, refusals, timeouts, full buffers, fd exhaustion, limits.
//! - `blocking`: host calls that could block in the kernel (a full pipe, a lingering close, a
//!   FIFO open) are stopped by --timeout and otherwise behave as on Linux.
//! - `soak`: many connections through a wasm echo server, every byte checked.
//! - `wasmedge`: WasmEdge's socket ABI through guests built with wasmedge_wasi_socket 0.5.
//! - `wasmedge_async`: tokio_wasi and hyper_wasi guests (WasmEdge's socket ABI) against native
//!   peers, and their denials.
//! - `wasix`: WASIX socket guests built from crates.io's `wasix` crate (tests/programs/wasix).
//! - `p2`: WASI preview 2 components (Rust std built for wasm32-wasip2, tests/programs/p2):
//!   TCP and UDP against native peers, name resolution, the policy's denials (the same trace
//!   lines as a preview 1 module's), --timeout, args, env, exit status and --dir.
//! - `util`: building guests and running the CLI with a time limit.
//!
//! `every_program_has_a_test` fails when a file in tests/programs is not used by any test.

mod blocking;
mod cli;
mod docs;
mod faults;
mod guest;
mod hostile;
mod p1;
mod p2;
mod rules;
mod soak;
mod sock;
mod threads;
mod util;
mod wamr_cmake;
mod wasix;
mod wasmedge;
mod wasmedge_async;

use std::path::Path;

/// The file stems in `dir` with extension `ext`, sorted.
fn stems(dir: &Path, ext: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == ext))
        .map(|path| path.file_stem().expect("file stem").to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// wasmtime's rule: a program without a test is a mistake. A test uses a program through
/// `c("NAME")`, `rust("NAME")`, `wat("NAME")`, `both("NAME")` (C and Rust),
/// `rust_in("PROJECT", "NAME")` or, for the preview 2 project tests/programs/p2, `rust_p2("NAME")`
/// in a test module.
#[test]
fn every_program_has_a_test() {
    let here = util::repo_root().join("tests/all");
    let mut sources = String::new();
    for module in stems(&here, "rs") {
        if module != "main" && module != "util" {
            sources.push_str(
                &std::fs::read_to_string(here.join(format!("{module}.rs"))).expect("read a test module"),
            );
        }
    }
    let programs = util::programs_dir();
    let mut untested = Vec::new();
    for (dir, ext, helpers) in [
        ("c", "c", &["c", "both"][..]),
        ("rust/src/bin", "rs", &["rust", "both", "rust_threads"][..]),
        ("wat", "wat", &["wat"][..]),
        // The CMake project built the way WAMR builds its samples (wamr_cmake.rs).
        ("wamr_cmake", "c", &["wamr_cmake", "wasock"][..]),
    ] {
        let found = stems(&programs.join(dir), ext);
        assert!(!found.is_empty(), "no programs found in tests/programs/{dir}");
        for name in found {
            if !helpers.iter().any(|helper| sources.contains(&format!("{helper}(\"{name}\")"))) {
                untested.push(format!("tests/programs/{dir}/{name}.{ext} (use {})", helpers.join(" or ")));
            }
        }
    }
    // Cargo projects of their own (tests/programs/PROJECT/Cargo.toml), used through rust_in,
    // except the preview 2 project, built for wasm32-wasip2 through rust_p2.
    for entry in std::fs::read_dir(&programs).expect("list tests/programs") {
        let project = entry.expect("directory entry").path();
        let project_name = project.file_name().expect("a name").to_string_lossy().into_owned();
        if project_name == "rust" || !project.join("Cargo.toml").is_file() {
            continue;
        }
        let names = stems(&project.join("src/bin"), "rs");
        assert!(!names.is_empty(), "no programs found in tests/programs/{project_name}/src/bin");
        for name in names {
            let (used, helper) = if project_name == "p2" {
                (format!("rust_p2(\"{name}\")"), "rust_p2")
            } else {
                (format!("rust_in(\"{project_name}\", \"{name}\")"), "rust_in")
            };
            if !sources.contains(&used) {
                untested.push(format!("tests/programs/{project_name}/src/bin/{name}.rs (use {helper})"));
            }
        }
    }
    assert!(untested.is_empty(), "programs without a test:\n{}", untested.join("\n"));
}
