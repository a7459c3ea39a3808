//! A bounded soak: 200 concurrent loopback connections push WASOCK_SOAK_BYTES (default
//! 64 MiB; the full run is 1 GiB: `WASOCK_SOAK_BYTES=1073741824 cargo test -p wasock --test
//! all soak -- --nocapture`) through a wasm echo server (tests/programs/c/soak_echo.c).
//! Every byte is compared with what was sent, nothing may be lost or fail, and the wasock
//! process's resident memory must stay flat: its last sample is within a bound of the one
//! taken after warm-up.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::faults::Process;
use crate::util::c;

const CONNECTIONS: usize = 200;
const DEFAULT_BYTES: u64 = 64 << 20;
/// Each client writes a chunk and reads its echo before the next, so no connection can
/// deadlock on full buffers.
const CHUNK: usize = 32 << 10;
/// A native read or write that takes longer than this fails the test.
const IO_LIMIT: Duration = Duration::from_secs(60);
/// The whole soak may take no longer than this, whatever WASOCK_SOAK_BYTES says.
const SOAK_LIMIT: Duration = Duration::from_secs(600);
/// How much the resident set may grow after warm-up.
const RSS_SLACK_KIB: u64 = 32 << 10;

fn soak_bytes() -> u64 {
    match std::env::var("WASOCK_SOAK_BYTES") {
        Ok(v) => v.trim().parse().unwrap_or_else(|_| panic!("WASOCK_SOAK_BYTES={v:?} is not a byte count")),
        Err(_) => DEFAULT_BYTES,
    }
}

/// A deterministic byte stream per connection (xorshift64*).
struct Pattern(u64);

impl Pattern {
    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            let v = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

/// FNV-1a, 64 bits.
fn fnv(mut hash: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        hash = (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}
const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;

/// One client: sends `total` bytes in chunks, reads every chunk back and compares it.
/// Returns the checksums of what was sent and what came back.
fn client(index: usize, port: u16, total: u64, progress: &AtomicU64) -> (u64, u64) {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = TcpStream::connect_timeout(&addr, IO_LIMIT)
        .unwrap_or_else(|e| panic!("connection {index}: cannot connect: {e}"));
    s.set_read_timeout(Some(IO_LIMIT)).expect("read timeout");
    s.set_write_timeout(Some(IO_LIMIT)).expect("write timeout");
    let mut pattern = Pattern(0x9e37_79b9_7f4a_7c15 ^ (index as u64 + 1));
    let (mut out, mut back) = (vec![0u8; CHUNK], vec![0u8; CHUNK]);
    let (mut sent_sum, mut back_sum) = (FNV_START, FNV_START);
    let mut done = 0u64;
    while done < total {
        let n = (total - done).min(CHUNK as u64) as usize;
        pattern.fill(&mut out[..n]);
        s.write_all(&out[..n]).unwrap_or_else(|e| panic!("connection {index}: send at byte {done}: {e}"));
        s.read_exact(&mut back[..n])
            .unwrap_or_else(|e| panic!("connection {index}: echo at byte {done}: {e}"));
        if out[..n] != back[..n] {
            let at = out[..n].iter().zip(&back[..n]).position(|(a, b)| a != b).unwrap_or(0);
            panic!("connection {index}: echoed byte {} differs", done + at as u64);
        }
        sent_sum = fnv(sent_sum, &out[..n]);
        back_sum = fnv(back_sum, &back[..n]);
        done += n as u64;
        progress.fetch_add(n as u64, Ordering::Relaxed);
    }
    // Our EOF ends the server's side; it must have nothing more to say.
    s.shutdown(std::net::Shutdown::Write).expect("shutdown");
    let mut extra = Vec::new();
    s.read_to_end(&mut extra).unwrap_or_else(|e| panic!("connection {index}: waiting for EOF: {e}"));
    assert!(extra.is_empty(), "connection {index}: {} bytes beyond what was sent", extra.len());
    (sent_sum, back_sum)
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?.trim().trim_end_matches("kB").trim().parse().ok()
}

#[test]
fn soak_200_connections_through_a_wasm_echo_server() {
    let total = soak_bytes();
    let mut server =
        Process::start(c("soak_echo"), &["--addr-pool=127.0.0.1/32"], &[&CONNECTIONS.to_string()]);
    let port: u16 = server.line("listening ", Duration::from_secs(30)).trim().parse().expect("port");
    let pid = server.pid();
    let progress = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let clients: Vec<_> = (0..CONNECTIONS)
        .map(|i| {
            let share = total / CONNECTIONS as u64 + u64::from((i as u64) < total % CONNECTIONS as u64);
            let progress = progress.clone();
            thread::Builder::new()
                .stack_size(256 << 10)
                .spawn(move || client(i, port, share, &progress))
                .expect("start a client thread")
        })
        .collect();

    // Sample the server's RSS until every client is done (bounded by SOAK_LIMIT).
    let mut samples: Vec<(u64, u64)> = Vec::new(); // (bytes so far, RSS KiB)
    let mut warm: Option<(u64, u64)> = None;
    while clients.iter().any(|c| !c.is_finished()) {
        assert!(start.elapsed() < SOAK_LIMIT, "the soak ran past {SOAK_LIMIT:?}");
        if let Some(rss) = rss_kib(pid) {
            let done = progress.load(Ordering::Relaxed);
            samples.push((done, rss));
            if warm.is_none() && done >= total / 10 {
                warm = Some((done, rss));
            }
        }
        thread::sleep(Duration::from_millis(100));
    }
    let elapsed = start.elapsed();
    let mut failures = Vec::new();
    for (i, handle) in clients.into_iter().enumerate() {
        match handle.join() {
            Ok((sent, back)) if sent == back => {}
            Ok((sent, back)) => {
                failures.push(format!("connection {i}: checksum {sent:#x} sent, {back:#x} back"))
            }
            Err(panic) => failures.push(format!("connection {i}: {panic:?}")),
        }
    }
    let moved = progress.load(Ordering::Relaxed);
    let (status, stdout, stderr) = server.finish(Duration::from_secs(30));
    let report = format!(
        "{CONNECTIONS} connections, {moved} of {total} bytes echoed in {elapsed:.2?} ({:.1} MiB/s each way); \
         RSS samples (bytes done, KiB): first {:?}, warm {warm:?}, last {:?}, max {:?}",
        moved as f64 / (1 << 20) as f64 / elapsed.as_secs_f64(),
        samples.first(),
        samples.last(),
        samples.iter().map(|s| s.1).max(),
    );
    eprintln!("soak: {report}");
    assert!(failures.is_empty(), "{} failures:\n{}\n{report}", failures.len(), failures.join("\n"));
    assert_eq!(moved, total, "{report}");
    assert!(status.is_some_and(|s| s.success()), "server: {status:?}\n{stdout}\n{stderr}\n{report}");
    assert!(
        stdout.contains(&format!("served {CONNECTIONS} errors=0 bytes={total}")),
        "the server's own count\n{stdout}\n{stderr}\n{report}"
    );
    let (_, warm_rss) = warm.or(samples.first().copied()).expect("at least one RSS sample");
    let (_, last_rss) = *samples.last().expect("at least one RSS sample");
    assert!(
        last_rss <= warm_rss + RSS_SLACK_KIB,
        "resident memory grew from {warm_rss} KiB after warm-up to {last_rss} KiB\n{report}"
    );
}
