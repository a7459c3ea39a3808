//! Every host import with arbitrary arguments and guest memory (see wasock_core::fuzzing).
#![no_main]

libfuzzer_sys::fuzz_target!(|input: &[u8]| {
    wasock_core::fuzzing::run_checked(input);
});
