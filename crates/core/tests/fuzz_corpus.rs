//! Replays the fuzz corpus (fuzz/corpus/) through the same code the fuzz targets run, so
//! that every input the fuzzer kept, and every crash it ever found, runs in every
//! `cargo test`. The imports inputs also check that no host fd leaks.
//!
//! `run_checked` counts this process's open fds, so nothing else may open files while the
//! imports replay runs: the tests here take one lock.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The CLI's flag parser (a private module of the wasock binary, std only), compiled in as
/// the `flags` fuzz target does.
#[allow(dead_code)]
#[path = "../../wasock/src/flags.rs"]
mod flags;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} is empty", dir.display());
    files
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()));
            (p, bytes)
        })
        .collect()
}

/// The watchdog stops blocked calls after 10 ms; an input that takes seconds is a hang.
const PER_INPUT_LIMIT: Duration = Duration::from_secs(5);

#[test]
fn imports_corpus_replays_without_panic_hang_or_leak() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    // Read everything first: reading a file mid-replay would look like a leaked fd.
    let inputs = corpus("imports");
    let start = Instant::now();
    for (path, input) in &inputs {
        let t = Instant::now();
        wasock_core::fuzzing::run_checked(input);
        assert!(t.elapsed() < PER_INPUT_LIMIT, "{} took {:?}", path.display(), t.elapsed());
    }
    eprintln!("replayed {} imports inputs in {:?}", inputs.len(), start.elapsed());
}

#[test]
fn policy_corpus_replays_without_panic() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    for (_, input) in corpus("policy") {
        wasock_core::fuzzing::policy(&input);
    }
}

#[test]
fn flags_corpus_replays_without_panic() {
    use std::ffi::OsString;
    use std::os::unix::ffi::OsStringExt;
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    for (path, input) in corpus("flags") {
        // As in fuzz/fuzz_targets/flags.rs: NUL-separated arguments.
        let args: Vec<OsString> = input.split(|&b| b == 0).map(|a| OsString::from_vec(a.to_vec())).collect();
        if let Ok(flags::LowArgs { mode: flags::Mode::Run { module, .. }, .. }) = flags::LowArgs::parse(args)
        {
            let m = module.to_str();
            assert!(
                m.is_none_or(|m| m == "-" || !m.starts_with('-')),
                "{}: module {module:?}",
                path.display()
            );
        }
    }
}
