//! `--max-threads`: `threads_limit COUNT` tries to start COUNT threads that all stay alive
//! until every attempt is made, printing `spawn I: ok` or `spawn I: failed: ERROR` for each,
//! then `started=S failed=F`. Then it lets them end, joins them, and starts one more thread
//! (retrying for up to 2 s, since the runtime may count a joined thread as live for a moment
//! after it ends) to show that the limit counts live threads: `respawn: ok` or
//! `respawn: failed: ERROR`. Exits 0 unless a thread could not be joined.

use std::process::ExitCode;
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn main() -> ExitCode {
    let Some(Ok(count)) = std::env::args().nth(1).map(|a| a.parse::<usize>()) else {
        eprintln!("usage: threads_limit COUNT");
        return ExitCode::from(2);
    };
    let mut running = Vec::new();
    let mut failed = 0;
    for i in 1..=count {
        let (release, released) = mpsc::channel::<()>();
        // Blocks until the sender is dropped.
        match std::thread::Builder::new().spawn(move || released.recv().is_err()) {
            Ok(handle) => {
                println!("spawn {i}: ok");
                running.push((release, handle));
            }
            Err(err) => {
                println!("spawn {i}: failed: {err}");
                failed += 1;
            }
        }
    }
    println!("started={} failed={failed}", running.len());

    let mut status = ExitCode::SUCCESS;
    for (release, handle) in running {
        drop(release);
        if !matches!(handle.join(), Ok(true)) {
            println!("a thread did not end as expected");
            status = ExitCode::FAILURE;
        }
    }

    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        match std::thread::Builder::new().spawn(|| 42) {
            Ok(handle) => {
                let answer = handle.join().unwrap_or(0);
                println!("respawn: ok ({answer})");
                break;
            }
            Err(err) if Instant::now() >= deadline => {
                println!("respawn: failed: {err}");
                break;
            }
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    status
}
