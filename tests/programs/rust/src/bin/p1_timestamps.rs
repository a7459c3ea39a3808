//! File timestamps under the preopen argv[1], printing what tests/programs/c/p1_timestamps.c
//! prints: File::set_times round trip with nanoseconds, set_modified alone (atime omitted),
//! mtime moving after a write, and path_filestat_set_times (raw: std has no path variant)
//! leaving "stamped.txt" with atime 1300000000.5 and mtime 1400000000.25.

use std::fs::{File, FileTimes, OpenOptions};
use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use wasock_test_programs::{preopen_fd, raw};

/// The times left on stamped.txt: 1300000000.5 s and 1400000000.25 s since the epoch.
const ATIME_NS: u64 = 1_300_000_000 * 1_000_000_000 + 500_000_000;
const MTIME_NS: u64 = 1_400_000_000 * 1_000_000_000 + 250_000_000;

fn at(secs: u64, nanos: u32) -> SystemTime {
    UNIX_EPOCH + Duration::new(secs, nanos)
}

fn stamp(t: SystemTime) -> String {
    let since = t.duration_since(UNIX_EPOCH).expect("time before 1970");
    format!("{}.{:09}", since.as_secs(), since.subsec_nanos())
}

fn is_recent(t: SystemTime) -> u32 {
    let now = SystemTime::now();
    let diff = match now.duration_since(t) {
        Ok(ahead) => ahead,
        Err(behind) => behind.duration(),
    };
    u32::from(diff <= Duration::from_secs(10))
}

fn print_times(label: &str, file: &File) {
    let meta = file.metadata().expect("fstat");
    println!(
        "{label} atime={} mtime={}",
        stamp(meta.accessed().expect("atime")),
        stamp(meta.modified().expect("mtime"))
    );
}

fn set_path_times(fd: u32, name: &str, atim_ns: u64, mtim_ns: u64) -> i32 {
    let flags = raw::FSTFLAGS_ATIM | raw::FSTFLAGS_MTIM;
    // SAFETY: `name` is valid for its length during the call.
    unsafe { raw::path_filestat_set_times(fd, 1, name.as_ptr(), name.len(), atim_ns, mtim_ns, flags) }
}

fn main() {
    let dir = std::env::args().nth(1).expect("usage: p1_timestamps DIR");
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(format!("{dir}/touched.txt"))
        .expect("create touched.txt");
    let times =
        FileTimes::new().set_accessed(at(1000000000, 123456789)).set_modified(at(1200000000, 987654321));
    file.set_times(times).expect("set_times");
    print_times("futimens", &file);

    file.set_modified(SystemTime::now()).expect("set_modified");
    let meta = file.metadata().expect("fstat");
    println!(
        "omit/now atime={} mtime_recent={}",
        stamp(meta.accessed().expect("atime")),
        is_recent(meta.modified().expect("mtime"))
    );

    file.set_times(FileTimes::new().set_accessed(at(1000000000, 0)).set_modified(at(1000000000, 0)))
        .expect("set_times old");
    file.write_all(b"x").expect("write");
    let meta = file.metadata().expect("fstat");
    let mtime = meta.modified().expect("mtime");
    println!(
        "after write mtime_changed={} mtime_recent={} size={}",
        u32::from(mtime > at(1000000000, 0)),
        is_recent(mtime),
        meta.len()
    );
    drop(file);

    let stamped = File::create(format!("{dir}/stamped.txt")).expect("create stamped.txt");
    drop(stamped);
    let fd = preopen_fd(&dir).expect("preopen fd for DIR");
    let err = set_path_times(fd, "stamped.txt", ATIME_NS, MTIME_NS);
    if err != 0 {
        println!("FAIL path_filestat_set_times: errno {err}");
        std::process::exit(1);
    }
    print_times("utimensat", &File::open(format!("{dir}/stamped.txt")).expect("open stamped.txt"));

    let err = set_path_times(fd, "missing.txt", ATIME_NS, MTIME_NS);
    println!("utimensat missing={} errno={err}", if err == 0 { 0 } else { -1 });
}
