//! Clocks, printing the keys tests/programs/c/p1_clock.c prints: SystemTime (realtime),
//! 10000 Instant readings that must never decrease, and clock_res_get (raw: std has none).

use std::time::{Instant, SystemTime, UNIX_EPOCH};
use wasock_test_programs::raw;

fn resolution(clock_id: u32) -> u64 {
    let mut res = 0u64;
    // SAFETY: `res` is a valid out pointer for a u64.
    let err = unsafe { raw::clock_res_get(clock_id, &mut res) };
    if err != 0 {
        println!("FAIL clock_res_get({clock_id}): errno {err}");
        std::process::exit(1);
    }
    res
}

fn main() {
    let realtime = SystemTime::now().duration_since(UNIX_EPOCH).expect("realtime before 1970");
    println!("realtime_ns={}", realtime.as_nanos());
    let again = SystemTime::now().duration_since(UNIX_EPOCH).expect("realtime before 1970");
    let diff = again.as_secs() as i64 - realtime.as_secs() as i64;
    println!("time_matches={}", u32::from((0..=2).contains(&diff)));

    let first = Instant::now();
    let mut prev = first;
    let mut decreases = 0;
    for _ in 0..10000 {
        let cur = Instant::now();
        if cur < prev {
            decreases += 1;
        }
        prev = cur;
    }
    println!("monotonic_decreases={decreases}");
    println!("monotonic_advanced={}", u32::from(prev > first));
    println!("res_realtime_ns={}", resolution(0));
    println!("res_monotonic_ns={}", resolution(1));
}
