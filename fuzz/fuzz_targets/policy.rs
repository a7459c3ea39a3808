//! The policy parsers: `--addr-pool`, `--allow-resolve`, `--allow-net`/`--deny-net` and
//! `--allow-peer` rules, and `--policy` files (see wasock_core::fuzzing::policy).
#![no_main]

libfuzzer_sys::fuzz_target!(|input: &[u8]| {
    wasock_core::fuzzing::policy(input);
});
