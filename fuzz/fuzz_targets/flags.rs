//! The CLI flag parser. `flags.rs` is a private module of the wasock binary and uses only
//! std, so it is compiled into this target as it is.
#![no_main]

#[allow(dead_code)]
#[path = "../../crates/wasock/src/flags.rs"]
mod flags;

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

libfuzzer_sys::fuzz_target!(|input: &[u8]| {
    // NUL-separated arguments, as in /proc/PID/cmdline; any bytes, UTF-8 or not.
    let args: Vec<OsString> = input.split(|&b| b == 0).map(|a| OsString::from_vec(a.to_vec())).collect();
    if let Ok(low) = flags::LowArgs::parse(args) {
        // Options end at the first argument that is not one: the module never looks like an
        // option (a lone "-" is a file name; an option that is not UTF-8 is an error, never
        // the module).
        if let flags::Mode::Run { module, .. } = &low.mode {
            let bytes = module.as_encoded_bytes();
            assert!(bytes == b"-" || !bytes.starts_with(b"-"), "module {module:?}");
        }
    }
});
