//! What the preview 2 guests share: their arguments, `key=value` output, failing with an
//! error kind, and the test stream.

use std::io::{self, Write};

/// The guest's arguments after argv[0].
pub fn args() -> Vec<String> {
    std::env::args().skip(1).collect()
}

/// Argument `i`, or exit 2 naming what is missing.
pub fn arg(i: usize, what: &str) -> String {
    args().get(i).cloned().unwrap_or_else(|| {
        eprintln!("missing argument {}: {what}", i + 1);
        std::process::exit(2)
    })
}

/// Prints `key=value` and flushes, so that a test waiting for the line sees it at once.
pub fn say(key: &str, value: impl std::fmt::Display) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{key}={value}");
    let _ = out.flush();
}

/// The error's kind as Rust names it (`PermissionDenied`), then its OS error code if any.
pub fn kind(e: &io::Error) -> String {
    format!("{:?}", e.kind())
}

/// Prints `STEP_error=KIND`, `STEP_os_error=N` and `STEP_message=...`, then exits 3 (which
/// wasi:cli/exit@0.2.0 carries only as an error: the run's status is 1).
pub fn fail(step: &str, e: io::Error) -> ! {
    report(step, &e);
    std::process::exit(3)
}

/// Prints `STEP_error=KIND`, `STEP_os_error=N` (or none) and `STEP_message=...`.
pub fn report(step: &str, e: &io::Error) {
    say(&format!("{step}_error"), kind(e));
    match e.raw_os_error() {
        Some(code) => say(&format!("{step}_os_error"), code),
        None => say(&format!("{step}_os_error"), "none"),
    }
    say(&format!("{step}_message"), e.to_string().replace('\n', " "));
}

/// The byte at offset `i` of the test stream (the same as in tests/all/p2.rs).
pub fn pattern(i: u64) -> u8 {
    (i.wrapping_mul(7) ^ (i >> 10)) as u8
}
