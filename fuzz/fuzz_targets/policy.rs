//! The `--addr-pool` and `--allow-resolve` parsers (see wasock_core::fuzzing::policy).
#![no_main]

libfuzzer_sys::fuzz_target!(|input: &[u8]| {
    wasock_core::fuzzing::policy(input);
});
