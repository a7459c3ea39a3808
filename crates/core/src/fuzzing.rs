//! Fuzzing support (cargo feature `fuzzing`): turns arbitrary bytes into a short program of
//! host calls and runs it against a real [`Ctx`], so that the fuzz targets in `fuzz/` and the
//! corpus replay in `tests/fuzz_corpus.rs` share one decoder.
//!
//! Every host function is reachable: the call table is generated from
//! [`for_each_import!`](crate::for_each_import), [`for_each_wamr_import!`](crate::for_each_wamr_import),
//! [`for_each_wasmedge_import!`](crate::for_each_wasmedge_import),
//! [`for_each_wasix_import!`](crate::for_each_wasix_import)
//! and [`for_each_unstable_override!`](crate::for_each_unstable_override), plus `proc_exit`.
//!
//! # Input format
//!
//! | bytes | meaning |
//! |---|---|
//! | 0 | the linear memory, [`memory_choice`]`(b)`: by `b & 3`, 64 KiB, [`EXTRA_MEMORIES`]`[(b >> 2) & 7]`, 300 bytes or none |
//! | 1 | number of calls, `b % (MAX_CALLS + 1)` |
//! | then, per call | 1 byte choosing the function (`b %` [`calls`]`().len()`), then its arguments in order: 4 bytes LE per u32, 8 bytes LE per u64 |
//! | the rest | linear memory from offset [`INPUT_AT`] on |
//!
//! Missing bytes read as zero. The extra memories (choice 1, a duplicate 64 KiB before them;
//! fuzz/corpus was rewritten to choice 0 then, so every older input still means what it did)
//! are the ones near 4 GiB, where guest address arithmetic can overflow, plain and shared,
//! and small shared ones (lent buffers are bounce buffers). The 4 GiB ones live in one lazily
//! backed region ([`LazyRegion`]) that is reused and reset between runs: only the pages a run
//! touches become resident. The first [`INPUT_AT`] bytes of memory hold [`Fixture`]
//! values (see [`fixture`]: the fixture sockets' addresses, an iovec, three path names, an
//! address outside the pool) so that small pointers often point at something valid.
//!
//! # What each run gets
//!
//! A fresh [`Ctx`] with stdio on /dev/null (0–2), a fresh preopened directory `sandbox` (3)
//! holding `data.txt`, `sub/` and two symlinks that point out of it, a TCP listener with one
//! pending connection (4) and that connection's client end (5), a connected TCP pair (6, 7)
//! with a few bytes queued each way, a bound UDP socket with a datagram queued (8) and
//! `data.txt` opened read-write (9). The policy allows 127.0.0.1/32 and ::1/128 and resolves
//! no names (no DNS). At most [`MAX_FDS`] fds.
//!
//! Blocking calls are stopped by a watchdog thread that triggers the instance's interrupt
//! [`DEADLINE`] after the run starts, exactly as `--timeout` does. `fd_allocate`'s length is
//! taken modulo 1 MiB, because fallocate really reserves disk space, and on memories larger
//! than [`MAX_FILL`] so is `random_get`'s, which would otherwise make gigabytes resident;
//! everything else is passed through unchanged. Files the process writes are limited to
//! [`MAX_FILE_SIZE`] (RLIMIT_FSIZE, set once for the process): one write from a 4 GiB memory
//! could otherwise put gigabytes on disk.
//!
//! With [`run_checked`], the host process must hold exactly as many fds after a run as
//! before it (nothing leaks); it panics otherwise, which the fuzzer reports as a crash.

use std::fs;
use std::io::{self, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::abi::Filetype;
use crate::ctx::{Ctx, CtxBuilder};
use crate::errno::{Error, Result, Trap};
use crate::memory::GuestMemory;
use crate::net::Socket;
use crate::policy::{AddrPool, Policy};
use crate::sys::LazyRegion;
use crate::table::{Descriptor, File, Kind};

/// The largest wasm32 linear memory.
const FOUR_GIB: usize = 1 << 32;
/// A wasm page.
const PAGE: usize = 65536;

/// A linear memory an input can pick.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryChoice {
    /// Its size in bytes.
    pub size: usize,
    /// Whether host calls see it as a shared (wasi-threads) memory.
    pub shared: bool,
}

const fn plain(size: usize) -> MemoryChoice {
    MemoryChoice { size, shared: false }
}

const fn shared(size: usize) -> MemoryChoice {
    MemoryChoice { size, shared: true }
}

/// The plain memories picked by `b & 3`: a usual one, the extra ones (see below), a tiny one,
/// and none at all.
pub const MEMORY_SIZES: [usize; 4] = [65536, 65536, 300, 0];

/// The memories picked by `(b >> 2) & 7` when `b & 3` is 1: near 4 GiB, plain and shared
/// (4 GiB − 1 is no wasm memory, but puts the last byte at u32::MAX − 1), and small shared
/// ones.
pub const EXTRA_MEMORIES: [MemoryChoice; 8] = [
    plain(FOUR_GIB),
    plain(FOUR_GIB - PAGE),
    plain(FOUR_GIB - 1),
    shared(FOUR_GIB),
    shared(FOUR_GIB - PAGE),
    shared(65536),
    shared(300),
    shared(0),
];

/// The memory the first input byte picks.
pub fn memory_choice(b: u8) -> MemoryChoice {
    match b & 3 {
        1 => EXTRA_MEMORIES[(b >> 2) as usize & 7],
        class => plain(MEMORY_SIZES[class as usize]),
    }
}

/// Memories up to this size are heap buffers (ASan sees past their ends); larger ones are
/// the lazily backed region.
const HEAP_MEMORY_MAX: usize = 1 << 20;
/// `random_get` lengths on memories larger than this are reduced modulo it.
pub const MAX_FILL: u32 = 16 << 20;
/// The largest file the fuzzing process may write.
pub const MAX_FILE_SIZE: u64 = 16 << 20;
/// The most calls one input makes.
pub const MAX_CALLS: usize = 16;
/// Where the input's memory bytes start; below it is the fixture data.
pub const INPUT_AT: usize = 128;
/// How long one run may block before the watchdog stops it.
pub const DEADLINE: Duration = Duration::from_millis(10);
/// The fd cap of the fuzz instance (small, so that EMFILE is reachable).
pub const MAX_FDS: u32 = 48;
/// `fd_allocate` lengths are reduced modulo this (see the module docs).
const MAX_ALLOCATE: u64 = 1 << 20;

/// Offsets of the fixture values at the start of memory (when memory is large enough).
pub mod fixture {
    /// `__wasi_addr_t` of the listener at fd 4.
    pub const LISTENER_ADDR: u32 = 0;
    /// `__wasi_addr_t` of the UDP socket at fd 8.
    pub const UDP_ADDR: u32 = 24;
    /// An iovec `{ buf: 256, len: 512 }`.
    pub const IOVEC: u32 = 48;
    /// `"data.txt\0"`.
    pub const DATA_TXT: u32 = 56;
    /// `"sub\0"`.
    pub const SUB: u32 = 72;
    /// `"escape\0"`, a symlink to `..`.
    pub const ESCAPE: u32 = 80;
    /// `__wasi_addr_t` of 127.0.0.2:9 (outside the pool).
    pub const DENIED_ADDR: u32 = 96;
}

/// Decodes the arguments of one call.
pub struct Args<'a> {
    bytes: &'a [u8],
}

impl Args<'_> {
    fn take<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        let n = N.min(self.bytes.len());
        out[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        out
    }

    /// The next u32 argument.
    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.take())
    }

    /// The next u64 argument.
    pub fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.take())
    }

    fn u8(&mut self) -> u8 {
        self.take::<1>()[0]
    }
}

/// One entry of the call table: the import's name, the number of bytes its arguments take,
/// and a function that decodes them and makes the call.
pub struct HostCall {
    /// `module::name`.
    pub name: &'static str,
    /// Bytes of arguments.
    pub arg_bytes: usize,
    /// Decodes the arguments and calls the host function.
    pub call: fn(&Ctx, &mut GuestMemory<'_>, &mut Args<'_>) -> Result<()>,
}

macro_rules! arg_size {
    (u32) => {
        4
    };
    (u64) => {
        8
    };
}

macro_rules! call_table {
    ($($name:ident($($arg:ident: $ty:ident),*) = $path:path;)*) => {
        vec![$(HostCall {
            name: stringify!($name),
            arg_bytes: 0 $(+ arg_size!($ty))*,
            #[allow(unused_variables)] // sched_yield has no arguments
            call: |cx: &Ctx, mem: &mut GuestMemory<'_>, args: &mut Args<'_>| -> Result<()> {
                $(let $arg: $ty = args.$ty();)*
                $path(cx, mem, $($arg),*)
            },
        }),*]
    };
}

/// A table whose names clash with another's, kept apart by a prefix (`wasi_unstable::`).
macro_rules! call_table_prefixed {
    ($prefix:literal; $($name:ident($($arg:ident: $ty:ident),*) = $path:path;)*) => {
        vec![$(HostCall {
            name: concat!($prefix, "::", stringify!($name)),
            arg_bytes: 0 $(+ arg_size!($ty))*,
            #[allow(unused_variables)] // sched_yield has no arguments
            call: |cx: &Ctx, mem: &mut GuestMemory<'_>, args: &mut Args<'_>| -> Result<()> {
                $(let $arg: $ty = args.$ty();)*
                $path(cx, mem, $($arg),*)
            },
        }),*]
    };
}

/// Every host function: preview 1, WAMR's, WasmEdge's and WASIX's socket functions, the
/// snapshot-0 variants, `proc_exit`.
pub fn calls() -> &'static [HostCall] {
    static CALLS: OnceLock<Vec<HostCall>> = OnceLock::new();
    CALLS.get_or_init(|| {
        let mut all: Vec<HostCall> = crate::for_each_import!(call_table);
        all.extend(crate::for_each_wamr_import!(call_table));
        macro_rules! unstable {
            ($($t:tt)*) => { call_table_prefixed!("wasi_unstable"; $($t)*) };
        }
        macro_rules! wasmedge {
            ($($t:tt)*) => { call_table_prefixed!("wasmedge"; $($t)*) };
        }
        macro_rules! wasix {
            ($($t:tt)*) => { call_table_prefixed!("wasix_32v1"; $($t)*) };
        }
        all.extend(crate::for_each_unstable_override!(unstable));
        all.extend(crate::for_each_wasmedge_import!(wasmedge));
        all.extend(crate::for_each_wasix_import!(wasix));
        all.push(HostCall {
            name: "proc_exit",
            arg_bytes: 4,
            call: |cx, _mem, args| Err(crate::p1::proc::proc_exit(cx, args.u32())),
        });
        // fallocate reserves real disk space: keep the length small (see the module docs).
        for c in all.iter_mut().filter(|c| c.name == "fd_allocate") {
            c.call = |cx, mem, args| {
                let (fd, offset, len) = (args.u32(), args.u64(), args.u64());
                crate::p1::fd::fd_allocate(cx, mem, fd, offset, len % MAX_ALLOCATE)
            };
        }
        // Filling most of a 4 GiB memory would make it resident (see the module docs).
        for c in all.iter_mut().filter(|c| c.name == "random_get") {
            c.call = |cx, mem, args| {
                let (buf, len) = (args.u32(), args.u32());
                let len = if mem.len() > MAX_FILL as usize { len % MAX_FILL } else { len };
                crate::p1::random::random_get(cx, mem, buf, len)
            };
        }
        all
    })
}

/// One decoded call: the table index and its argument bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    /// Index into [`calls`].
    pub index: usize,
    /// Exactly `arg_bytes` bytes.
    pub args: Vec<u8>,
}

/// A decoded input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    /// Linear memory size in bytes.
    pub memory_size: usize,
    /// Whether host calls see the memory as shared.
    pub shared: bool,
    /// The calls, in order.
    pub calls: Vec<Call>,
    /// Bytes copied into memory at [`INPUT_AT`] (as many as fit).
    pub memory: Vec<u8>,
}

impl Program {
    /// Decodes fuzz input (see the module docs). Never fails.
    pub fn decode(input: &[u8]) -> Program {
        let mut r = Args { bytes: input };
        let MemoryChoice { size: memory_size, shared } = memory_choice(r.u8());
        let count = r.u8() as usize % (MAX_CALLS + 1);
        let table = calls();
        let calls = (0..count)
            .map(|_| {
                let index = r.u8() as usize % table.len();
                let n = table[index].arg_bytes.min(r.bytes.len());
                let mut args = r.bytes[..n].to_vec();
                args.resize(table[index].arg_bytes, 0);
                r.bytes = &r.bytes[n..];
                Call { index, args }
            })
            .collect();
        Program { memory_size, shared, calls, memory: r.bytes.to_vec() }
    }

    /// Encodes it back into fuzz input (for writing regression seeds by hand). A memory no
    /// choice offers becomes the usual 64 KiB.
    pub fn encode(&self) -> Vec<u8> {
        let wanted = MemoryChoice { size: self.memory_size, shared: self.shared };
        let choice = (0..=u8::MAX).find(|&b| memory_choice(b) == wanted).unwrap_or(0);
        let mut out = vec![choice, self.calls.len() as u8];
        for c in &self.calls {
            out.push(c.index as u8);
            out.extend_from_slice(&c.args);
        }
        out.extend_from_slice(&self.memory);
        out
    }

    /// The calls as text, for reading a crash: `sock_recv(6, 0x30, 1, 0, 0x100, 0x104)`.
    pub fn describe(&self) -> String {
        let table = calls();
        let kind = if self.shared { "shared" } else { "plain" };
        let mut text = format!("memory: {} bytes, {kind}\n", self.memory_size);
        for c in &self.calls {
            let args: Vec<String> = c.args.chunks(4).map(|w| format!("{:#x}", le(w))).collect();
            text.push_str(&format!("{}({})  [raw 4-byte words]\n", table[c.index].name, args.join(", ")));
        }
        text
    }
}

fn le(w: &[u8]) -> u32 {
    w.iter().rev().fold(0, |acc, &b| acc << 8 | u32::from(b))
}

/// Finds a call by name, for writing regression seeds.
pub fn call_index(name: &str) -> Option<usize> {
    calls().iter().position(|c| c.name == name)
}

/// The fixture sockets and files of one run, and their addresses.
pub struct Fixture {
    /// The context the calls run against.
    pub cx: Arc<Ctx>,
    listener_addr: SocketAddr,
    udp_addr: SocketAddr,
}

/// Per-process state: the scratch directory, the watchdog and the 4 GiB memory region.
struct Harness {
    root: PathBuf,
    watchdog: Arc<Watchdog>,
    /// Backs the memories above [`HEAP_MEMORY_MAX`]; made on first use, reset after each.
    region: Option<LazyRegion>,
}

/// Stops the current run's blocking calls after its deadline, as `--timeout` does.
struct Watchdog {
    current: Mutex<Option<(Arc<Ctx>, Instant)>>,
    changed: Condvar,
}

impl Watchdog {
    fn start() -> Arc<Watchdog> {
        let w = Arc::new(Watchdog { current: Mutex::new(None), changed: Condvar::new() });
        let watcher = w.clone();
        std::thread::Builder::new()
            .name("fuzz-watchdog".into())
            .spawn(move || watcher.watch())
            .expect("start the fuzz watchdog thread");
        w
    }

    fn watch(&self) {
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            let left = match &*current {
                Some((cx, deadline)) => match deadline.saturating_duration_since(Instant::now()) {
                    left if left.is_zero() => {
                        // Sticky: a spurious wakeup triggering it again changes nothing.
                        cx.interrupt.trigger(Error::Trap(Trap("fuzz run deadline".into())));
                        None
                    }
                    left => Some(left),
                },
                None => None,
            };
            current = match left {
                Some(left) => self.changed.wait_timeout(current, left).unwrap_or_else(|p| p.into_inner()).0,
                None => self.changed.wait(current).unwrap_or_else(|p| p.into_inner()),
            };
        }
    }

    fn arm(&self, cx: Arc<Ctx>) {
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = Some((cx, Instant::now() + DEADLINE));
        self.changed.notify_all();
    }

    fn disarm(&self) {
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = None;
        self.changed.notify_all();
    }
}

fn harness() -> &'static Mutex<Harness> {
    static HARNESS: OnceLock<Mutex<Harness>> = OnceLock::new();
    HARNESS.get_or_init(|| {
        // One scratch directory per process; those of processes that have ended are removed.
        let tmp = std::env::temp_dir();
        for entry in fs::read_dir(&tmp).into_iter().flatten().flatten() {
            let name = entry.file_name();
            let pid = name.to_str().and_then(|n| n.strip_prefix("wasock-fuzz-"));
            if pid.is_some_and(|pid| !std::path::Path::new("/proc").join(pid).exists()) {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
        let root = tmp.join(format!("wasock-fuzz-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root).unwrap_or_else(|e| panic!("cannot create {}: {e}", root.display()));
        crate::sys::limit_file_size(MAX_FILE_SIZE)
            .unwrap_or_else(|e| panic!("cannot limit the size of files to {MAX_FILE_SIZE}: {e}"));
        Mutex::new(Harness { root, watchdog: Watchdog::start(), region: None })
    })
}

fn open_fds() -> usize {
    fs::read_dir("/proc/self/fd").map(|d| d.count()).unwrap_or(0)
}

impl Harness {
    fn fixture(&self) -> io::Result<Fixture> {
        let dir = self.root.join("sandbox");
        // Each run starts from the same files, so that an input replays the same way.
        match fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        fs::create_dir(&dir)?;
        fs::write(dir.join("data.txt"), b"0123456789abcdef")?;
        fs::create_dir(dir.join("sub"))?;
        fs::write(dir.join("sub/inner.txt"), b"inner")?;
        std::os::unix::fs::symlink("..", dir.join("escape"))?;
        std::os::unix::fs::symlink("/etc/passwd", dir.join("absolute"))?;

        let devnull = || fs::OpenOptions::new().read(true).write(true).open("/dev/null");
        let mut policy = Policy::default();
        for cidr in AddrPool::parse_list("127.0.0.1/32,::1/128").map_err(io::Error::other)? {
            policy.addr_pool.insert(cidr);
        }
        let cx = CtxBuilder::new()
            .arg("fuzz.wasm")
            .arg("an argument")
            .env("KEY", "value")
            .stdio(0, devnull()?)
            .stdio(1, devnull()?)
            .stdio(2, devnull()?)
            .preopen_dir(&dir, "sandbox")?
            .policy(policy)
            .max_fds(MAX_FDS)
            .build()?;

        let localhost = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        // 4 and 5: a listener with one pending connection, and that connection's client.
        let listener = TcpListener::bind(localhost)?;
        let listener_addr = listener.local_addr()?;
        let client = TcpStream::connect(listener_addr)?;
        // 6 and 7: a connected pair (through a listener that is closed at once).
        let pair_listener = TcpListener::bind(localhost)?;
        let mut a = TcpStream::connect(pair_listener.local_addr()?)?;
        let (mut b, _) = pair_listener.accept()?;
        drop(pair_listener);
        a.write_all(b"from six")?;
        b.write_all(b"from seven")?;
        // 8: UDP with a datagram to itself queued.
        let udp = UdpSocket::bind(localhost)?;
        let udp_addr = udp.local_addr()?;
        udp.send_to(b"datagram", udp_addr)?;
        // 9: data.txt, read-write.
        let file = fs::OpenOptions::new().read(true).write(true).open(dir.join("data.txt"))?;

        let push = |kind: Kind| cx.push(Descriptor::new(kind)).map_err(io::Error::other);
        push(Kind::Socket(Socket::new(listener.into(), true)?))?;
        push(Kind::Socket(Socket::new(client.into(), true)?))?;
        push(Kind::Socket(Socket::new(a.into(), true)?))?;
        push(Kind::Socket(Socket::new(b.into(), true)?))?;
        push(Kind::Socket(Socket::new(udp.into(), false)?))?;
        push(Kind::File(File::new(file, Filetype::RegularFile)))?;
        Ok(Fixture { cx: Arc::new(cx), listener_addr, udp_addr })
    }
}

/// Fills the fixture area and the input bytes into a fresh (all-zero) linear memory.
fn fill(mem: &mut GuestMemory<'_>, program: &Program, fixture: &Fixture) {
    if mem.len() >= INPUT_AT {
        let denied = SocketAddr::from(([127, 0, 0, 2], 9));
        // In bounds by the size check above; a failure here is a bug in this harness.
        let fill = |mem: &mut GuestMemory<'_>| -> Result<(), Trap> {
            crate::wamr::abi::write_addr(mem, fixture::LISTENER_ADDR, fixture.listener_addr)?;
            crate::wamr::abi::write_addr(mem, fixture::UDP_ADDR, fixture.udp_addr)?;
            mem.write(fixture::IOVEC, 256u32)?;
            mem.write(fixture::IOVEC + 4, 512u32)?;
            mem.write_bytes(fixture::DATA_TXT, b"data.txt\0")?;
            mem.write_bytes(fixture::SUB, b"sub\0")?;
            mem.write_bytes(fixture::ESCAPE, b"escape\0")?;
            crate::wamr::abi::write_addr(mem, fixture::DENIED_ADDR, denied)
        };
        fill(mem).expect("the fixture area fits in memory");
        let n = (mem.len() - INPUT_AT).min(program.memory.len());
        mem.write_bytes(INPUT_AT as u32, &program.memory[..n]).expect("the input bytes fit in memory");
    }
}

/// What one run did: each call's name and result.
pub type Outcome = Vec<(&'static str, Result<()>)>;

/// Runs one fuzz input: decodes it, builds a fresh fixture and makes the calls. A panic in
/// a host function propagates (the fuzzer reports it as a crash).
pub fn run(input: &[u8]) -> Outcome {
    let program = Program::decode(input);
    let mut h = harness().lock().unwrap_or_else(|p| p.into_inner());
    let fixture = h.fixture().unwrap_or_else(|e| panic!("cannot set up the fuzz fixture: {e}"));
    let Harness { watchdog, region, .. } = &mut *h;
    let mut heap;
    let in_region = program.memory_size > HEAP_MEMORY_MAX;
    let mut mem = if in_region {
        let region = region.get_or_insert_with(|| {
            LazyRegion::new(FOUR_GIB).unwrap_or_else(|e| panic!("cannot map a 4 GiB fuzz memory: {e}"))
        });
        region.memory(program.memory_size, program.shared)
    } else {
        heap = vec![0u8; program.memory_size];
        match program.shared {
            false => GuestMemory::new(&mut heap),
            true => GuestMemory::shared_view(&mut heap),
        }
    };
    fill(&mut mem, &program, &fixture);
    watchdog.arm(fixture.cx.clone());
    let table = calls();
    let outcome: Outcome = program
        .calls
        .iter()
        .map(|c| {
            let entry = &table[c.index];
            (entry.name, (entry.call)(&fixture.cx, &mut mem, &mut Args { bytes: &c.args }))
        })
        .collect();
    watchdog.disarm();
    assert_eq!(mem.len(), program.memory_size, "a host call changed the size of linear memory");
    if let Some(region) = region.as_mut().filter(|_| in_region) {
        region.reset().unwrap_or_else(|e| panic!("cannot reset the 4 GiB fuzz memory: {e}"));
    }
    outcome
}

/// [`run`], then checks that the process holds exactly as many fds as before: everything
/// the calls opened was closed with the instance. Only meaningful when no other thread
/// opens files meanwhile (a fuzz target, a test binary with one test).
pub fn run_checked(input: &[u8]) -> Outcome {
    let before = open_fds();
    let outcome = run(input);
    let after = open_fds();
    assert_eq!(
        after,
        before,
        "host fds leaked by this program (before {before}, after {after}):\n{}",
        Program::decode(input).describe()
    );
    outcome
}

/// Checks the policy parsers on arbitrary text: no panic, and what parses prints back to
/// itself and matches what it should.
pub fn policy(input: &[u8]) {
    use crate::policy::{Cidr, ResolvePattern};
    use std::net::IpAddr;

    let text = String::from_utf8_lossy(input);
    if let Ok(cidr) = text.parse::<Cidr>() {
        let shown = cidr.to_string();
        let again: Cidr =
            shown.parse().unwrap_or_else(|e| panic!("{text:?} parsed, its text {shown:?} not: {e}"));
        assert_eq!(again, cidr, "{text:?} → {shown:?} does not parse back to the same network");
        // It contains its own base address, unless the base is an IPv4-mapped IPv6 address
        // in an IPv6 network (mask below 96): mapped addresses are judged as IPv4, which an
        // IPv6 grant never covers (see policy/pool.rs).
        let base: IpAddr =
            shown.split('/').next().and_then(|a| a.parse().ok()).expect("Display gives ADDR/MASK");
        let judged_as_ipv4 = matches!(base, IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some());
        assert_eq!(cidr.contains(base), !judged_as_ipv4, "{shown}: contains its own base?");
    }
    if let Ok(pattern) = text.parse::<ResolvePattern>() {
        match &pattern {
            ResolvePattern::Any => assert!(pattern.matches(&text)),
            ResolvePattern::Exact(name) => {
                assert!(pattern.matches(name), "{text:?} does not match its own name {name:?}");
                assert!(pattern.matches(&text), "{text:?} does not match itself");
            }
            ResolvePattern::Suffix(suffix) => {
                let host = format!("a{suffix}");
                assert!(pattern.matches(&host), "{text:?} does not match {host:?}");
                assert!(!pattern.matches(suffix.trim_start_matches('.')), "{text:?} matches its bare domain");
            }
        }
    }
    if let Ok(rules) = crate::policy::Rule::parse_list(crate::policy::ALLOW_NET, &text) {
        use crate::policy::{Call, Proto, Rule};
        let mut octets = [0u8; 16];
        for (o, b) in octets.iter_mut().zip(input.iter().rev()) {
            *o = *b;
        }
        let port = u16::from_le_bytes([octets[0], octets[1]]);
        let mut policy = Policy { allow_net: rules.clone(), deny_net: rules.clone(), ..Policy::default() };
        for rule in &rules {
            let shown = rule.to_string();
            let again = Rule::parse(&shown)
                .unwrap_or_else(|e| panic!("{text:?} parsed, its rule {shown:?} not: {e}"));
            assert_eq!(&again, rule, "{text:?} → {shown:?} does not parse back to the same rule");
        }
        // Deny rules win: with the same rules on both sides, only an address learned for a
        // name rule can be allowed (deny name rules refuse lookups, not addresses).
        for addr in [IpAddr::from(octets), IpAddr::from([octets[0], octets[1], octets[2], octets[3]])] {
            policy.learn("a.example.com", [addr]);
            for call in [Call::Bind, Call::Listen, Call::Connect, Call::SendTo] {
                for proto in [Proto::Tcp, Proto::Udp] {
                    let d = policy.decide(call, proto, addr, port);
                    let learned = matches!(d.by, crate::policy::DecidedBy::Learned { .. });
                    assert!(!d.allowed() || learned, "{text:?}: {call} {addr} {d}");
                }
            }
        }
        policy.deny_net.clear();
        let _ = policy.decide(Call::Connect, Proto::Tcp, IpAddr::from(octets), port);
    }
    if let Ok(peers) = crate::policy::Rule::parse_peer_list(&text) {
        // Peer rules are rules without a direction or a name, and print back to themselves.
        for rule in &peers {
            assert!(
                rule.direction.is_none() && !matches!(rule.host, crate::policy::Host::Name(_)),
                "{text:?}"
            );
            assert_eq!(
                crate::policy::Rule::parse_peer_list(&rule.to_string()).as_deref(),
                Ok(std::slice::from_ref(rule))
            );
        }
    }
    if let Ok(cidrs) = AddrPool::parse_list(&text) {
        let mut pool = AddrPool::default();
        for c in cidrs {
            pool.insert(c);
        }
        // Any 16 input bytes as an address: no panic either way.
        let mut octets = [0u8; 16];
        for (o, b) in octets.iter_mut().zip(input.iter().rev()) {
            *o = *b;
        }
        let _ = pool.allows(IpAddr::from(octets));
        let _ = pool.allows(IpAddr::from([octets[0], octets[1], octets[2], octets[3]]));
    }
    policy_file(&text);
}

/// The `--policy=FILE` parser on the same text: no panic (its error message included), an
/// error adds nothing, and what parses parses the same way twice.
fn policy_file(text: &str) {
    let mut first = Policy::default();
    match first.merge_file_text(text, "fuzz.toml") {
        Ok(()) => {
            let mut second = Policy::default();
            second.merge_file_text(text, "fuzz.toml").expect("the same text parsed once");
            assert_eq!(first.allow_net, second.allow_net, "{text:?}: allow-net differs between two parses");
            assert_eq!(first.deny_net, second.deny_net, "{text:?}: deny-net differs between two parses");
            assert_eq!(
                first.allow_peer, second.allow_peer,
                "{text:?}: allow-peer differs between two parses"
            );
            assert_eq!(first.addr_pool, second.addr_pool, "{text:?}: addr-pool differs between two parses");
            assert_eq!(first.allow_resolve, second.allow_resolve, "{text:?}: allow-resolve differs");
        }
        Err(e) => {
            let _ = e.to_string();
            let untouched = first.allow_net.is_empty()
                && first.deny_net.is_empty()
                && first.allow_peer.is_empty()
                && first.addr_pool == AddrPool::default()
                && first.allow_resolve == crate::policy::ResolveAllowList::default()
                && !first.allow_port_sharing;
            assert!(untouched, "{text:?}: a file with an error ({e}) changed the policy");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_import_is_in_the_table_once() {
        let names: Vec<&str> = calls().iter().map(|c| c.name).collect();
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "a name appears twice");
        // 45 preview 1 + 48 WAMR + 4 snapshot-0 variants + proc_exit, then the tables of the
        // other socket ABIs, each under its prefix.
        let socket_abis = ["wasmedge::", "wasix_32v1::"];
        let unprefixed = names.iter().filter(|n| !socket_abis.iter().any(|p| n.starts_with(p))).count();
        assert_eq!(unprefixed, 45 + 48 + 4 + 1, "{names:?}");
        macro_rules! count {
            ($($name:ident($($arg:ident: $ty:ty),*) = $path:path;)*) => { [$(stringify!($name)),*].len() };
        }
        let wasmedge = names.iter().filter(|n| n.starts_with("wasmedge::")).count();
        assert_eq!(wasmedge, crate::for_each_wasmedge_import!(count));
        let wasix = names.iter().filter(|n| n.starts_with("wasix_32v1::")).count();
        assert_eq!(wasix, crate::for_each_wasix_import!(count));
        for n in ["sock_open", "sock_addr_resolve", "poll_oneoff", "wasi_unstable::poll_oneoff", "path_open"]
        {
            assert!(names.contains(&n), "{n} missing");
        }
    }

    #[test]
    fn encode_inverts_decode() {
        for (memory_size, shared) in
            [(65536, false), (0, false), (1 << 32, false), (300, true), (1 << 32, true)]
        {
            let p = Program {
                memory_size,
                shared,
                calls: vec![Call {
                    index: call_index("fd_close").unwrap(),
                    args: 7u32.to_le_bytes().to_vec(),
                }],
                memory: b"xyz".to_vec(),
            };
            assert_eq!(Program::decode(&p.encode()), p);
        }
    }

    fn words(args: &[u64], sizes: &[usize]) -> Vec<u8> {
        args.iter().zip(sizes).flat_map(|(a, &n)| a.to_le_bytes()[..n].to_vec()).collect()
    }

    #[test]
    fn older_inputs_pick_the_memories_they_always_did() {
        // Every first byte but those of choice 1 (64 KiB before; none is left in fuzz/corpus).
        for b in (0..=u8::MAX).filter(|b| b & 3 != 1) {
            assert_eq!(
                memory_choice(b),
                MemoryChoice { size: MEMORY_SIZES[(b & 3) as usize], shared: false }
            );
        }
        let sizes: Vec<usize> = EXTRA_MEMORIES.iter().map(|m| m.size).collect();
        assert!(sizes.contains(&(1 << 32)) && sizes.contains(&((1 << 32) - 65536)));
    }

    #[test]
    fn memories_near_4_gib_run_and_are_reset_between_runs() {
        let args_get = Call {
            index: call_index("args_get").unwrap(),
            // "fuzz.wasm\0" ends on the last byte of 4 GiB: the next string would wrap.
            args: words(&[0x100, u64::from(u32::MAX) - 9], &[4, 4]),
        };
        let fill = Call {
            index: call_index("args_get").unwrap(),
            args: words(&[0x2000_0000, 0x3000_0000], &[4, 4]),
        };
        // Opening the path left at 0x3000_0000: "fuzz" does not exist (ENOENT), and the
        // zeros of a reset memory are no path (EINVAL).
        let open = Call {
            index: call_index("path_open").unwrap(),
            args: words(&[3, 0, 0x3000_0000, 4, 0, 0, 0, 0, 0x100], &[4, 4, 4, 4, 4, 8, 8, 4, 4]),
        };
        for memory in EXTRA_MEMORIES.into_iter().filter(|m| m.size > HEAP_MEMORY_MAX) {
            let program =
                |calls| Program { memory_size: memory.size, shared: memory.shared, calls, memory: vec![] };
            let outcome = run(&program(vec![args_get.clone(), fill.clone(), open.clone()]).encode());
            let results: Vec<_> = outcome.iter().map(|(_, r)| r.clone()).collect();
            if memory.size == 1 << 32 {
                assert!(matches!(results[0], Err(Error::Trap(_))), "{memory:?}: {outcome:?}");
            }
            assert_eq!(results[1..], [Ok(()), Err(crate::Errno::NoEnt.into())], "{memory:?}");
            let outcome = run(&program(vec![open.clone()]).encode());
            assert_eq!(outcome[0].1, Err(crate::Errno::Inval.into()), "{memory:?}: not reset");
        }
    }

    #[test]
    fn a_program_runs_against_the_fixture() {
        // sock_recv(6, IOVEC, 1, 0, 0x200, 0x204) reads what fd 7 queued; then fd_close(6).
        let mut args = Vec::new();
        for w in [6u32, fixture::IOVEC, 1, 0, 0x400, 0x404] {
            args.extend_from_slice(&w.to_le_bytes());
        }
        let p = Program {
            memory_size: 65536,
            shared: false,
            calls: vec![
                Call { index: call_index("sock_recv").unwrap(), args },
                Call { index: call_index("fd_close").unwrap(), args: 6u32.to_le_bytes().to_vec() },
                Call { index: call_index("fd_close").unwrap(), args: 6u32.to_le_bytes().to_vec() },
            ],
            memory: Vec::new(),
        };
        let outcome = run(&p.encode());
        assert_eq!(outcome[0], ("sock_recv", Ok(())));
        assert_eq!(outcome[1], ("fd_close", Ok(())));
        assert_eq!(outcome[2], ("fd_close", Err(crate::Errno::Badf.into())));
    }

    #[test]
    fn a_blocked_call_is_stopped_by_the_watchdog() {
        // accept twice on the listener: the second has nothing pending and blocks.
        let mut args = Vec::new();
        for w in [4u32, 0, 0x200] {
            args.extend_from_slice(&w.to_le_bytes());
        }
        let accept = Call { index: call_index("sock_accept").unwrap(), args };
        let p = Program {
            memory_size: 65536,
            shared: false,
            calls: vec![accept.clone(), accept],
            memory: Vec::new(),
        };
        let start = Instant::now();
        let outcome = run(&p.encode());
        assert_eq!(outcome[0].1, Ok(()));
        assert!(matches!(outcome[1].1, Err(Error::Trap(_))), "{outcome:?}");
        assert!(start.elapsed() < Duration::from_secs(5), "took {:?}", start.elapsed());
    }
}
