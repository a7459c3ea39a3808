//! std::thread::sleep (poll_oneoff with a clock subscription) for 50 ms, three times, each
//! printing "sleep result=0 elapsed_ms=N" measured with Instant.

use std::time::{Duration, Instant};

fn main() {
    for _ in 0..3 {
        let start = Instant::now();
        std::thread::sleep(Duration::from_millis(50));
        println!("sleep result=0 elapsed_ms={}", start.elapsed().as_millis());
    }
}
