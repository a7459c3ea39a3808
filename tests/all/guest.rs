//! The guest libraries and their examples, built the way a user builds them: the C library
//! through its CMake include and toolchain file (guest/c), the Rust crate wasock-net with
//! cargo (guest/rust/wasock-net). The examples run on wasock over loopback against native
//! peers (this test process, with std::net) and against each other.
//!
//! Every native socket operation has a timeout, every port is chosen by the OS, and every
//! wait is bounded.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use crate::util::{Output, Running, TestDir, Wasock, repo_root};

/// The limit of every native socket read, write, accept and connect.
const IO_LIMIT: Duration = Duration::from_secs(15);
/// How long a server may take to print its "listening on" line (includes compiling the module).
const START_LIMIT: Duration = Duration::from_secs(20);
/// 1 MiB, the bulk transfer size.
const MIB: usize = 1 << 20;

const INSTALL_HINT: &str = "run `scripts/install-deps.sh` (it installs cmake, clang, lld, llvm (for llvm-ar), \
     wasi-libc, libclang-rt-14-dev-wasm32 and wabt)";

// ---------------------------------------------------------------------------------------------
// Building

/// <cargo target dir>/wasock-guests, next to the guests util.rs builds.
fn guests_dir() -> PathBuf {
    // CARGO_TARGET_TMPDIR is <target>/tmp.
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR has a parent")
        .join("wasock-guests")
}

/// The repository root without `..` components, for readable paths in build files and messages.
fn repo() -> PathBuf {
    let root = repo_root();
    root.canonicalize().unwrap_or(root)
}

/// Serializes the cmake runs of this process (the examples and the user project): two
/// parallel builds on a 2-core machine only slow each other down.
static CMAKE: Mutex<()> = Mutex::new(());

/// Holds an exclusive lock on `<guests>/NAME.lock` until dropped, so that two test processes
/// never build into the same directory at once.
fn build_lock(name: &str) -> Result<File, String> {
    let dir = guests_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join(format!("{name}.lock"));
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    file.lock().map_err(|e| format!("cannot lock {}: {e}", path.display()))?;
    Ok(file)
}

/// Runs a build tool; on failure the error has its output and what to do.
fn run_tool(cmd: &mut Command) -> Result<(), String> {
    // Settings of the outer cargo/make must not leak into a user-style build.
    for var in ["CC", "CFLAGS", "LDFLAGS", "CPPFLAGS", "MAKEFLAGS", "MFLAGS", "CARGO_MAKEFLAGS"] {
        cmd.env_remove(var);
    }
    let shown = std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|arg| arg.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ");
    let output = cmd.output().map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            format!(
                "cannot run `{shown}`: {} is not installed; {INSTALL_HINT}",
                cmd.get_program().to_string_lossy()
            )
        } else {
            format!("cannot run `{shown}`: {e}")
        }
    })?;
    if output.status.success() {
        return Ok(());
    }
    Err(format!(
        "`{shown}` failed ({}).\n--- stdout ---\n{}\n--- stderr ---\n{}\nIf a tool or wasi-libc is missing, {INSTALL_HINT}.",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    ))
}

/// Configures and builds the CMake project `source` into `build` with the Debian toolchain file.
fn cmake_build(source: &Path, build: &Path) -> Result<(), String> {
    cmake_build_with(source, build, &[])
}

/// [`cmake_build`] with more `-D` definitions for the configure step.
fn cmake_build_with(source: &Path, build: &Path, defines: &[String]) -> Result<(), String> {
    let _serial = CMAKE.lock().unwrap_or_else(|e| e.into_inner());
    let toolchain = repo().join("guest/c/wasi-toolchain-debian.cmake");
    run_tool(
        Command::new("cmake")
            .arg("-S")
            .arg(source)
            .arg("-B")
            .arg(build)
            .arg(format!("-DCMAKE_TOOLCHAIN_FILE={}", toolchain.display()))
            .args(defines),
    )?;
    run_tool(Command::new("cmake").arg("--build").arg(build).args(["--parallel", "2"]))
}

/// The C examples' build directory, built once per test run with
/// `cmake -S guest/c/examples -B <guests>/c-examples -DCMAKE_TOOLCHAIN_FILE=...`.
fn c_examples_dir() -> &'static Path {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let _lock = build_lock("c-examples")?;
        let build = guests_dir().join("c-examples");
        cmake_build(&repo().join("guest/c/examples"), &build)?;
        Ok(build)
    });
    match built {
        Ok(dir) => dir,
        Err(err) => panic!("cannot build the C examples with CMake: {err}"),
    }
}

/// guest/c/examples/NAME.c, built.
fn c_example(name: &str) -> PathBuf {
    let path = c_examples_dir().join(format!("{name}.wasm"));
    assert!(
        path.is_file(),
        "{} was not built: is {name} in guest/c/examples/CMakeLists.txt?",
        path.display()
    );
    path
}

/// The wasock-net examples, built once per test run with
/// `cargo build --release --target wasm32-wasip1 --examples` into <guests>/wasock-net.
fn rust_examples_dir() -> &'static Path {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let _lock = build_lock("wasock-net")?;
        let target_dir = guests_dir().join("wasock-net");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "--release", "--target", "wasm32-wasip1", "--examples", "--manifest-path"])
            .arg(repo().join("guest/rust/wasock-net/Cargo.toml"))
            .arg("--target-dir")
            .arg(&target_dir);
        // The outer `cargo test`'s settings are for the host build.
        for var in [
            "CARGO_TARGET_DIR",
            "CARGO_BUILD_TARGET",
            "CARGO_BUILD_TARGET_DIR",
            "RUSTFLAGS",
            "CARGO_ENCODED_RUSTFLAGS",
            "CARGO_BUILD_RUSTFLAGS",
        ] {
            cmd.env_remove(var);
        }
        run_tool(&mut cmd).map_err(|e| {
            format!("{e}\n(If the Rust target is missing, run `rustup target add wasm32-wasip1`.)")
        })?;
        Ok(target_dir.join("wasm32-wasip1/release/examples"))
    });
    match built {
        Ok(dir) => dir,
        Err(err) => panic!("cannot build the wasock-net examples: {err}"),
    }
}

/// guest/rust/wasock-net/examples/NAME.rs, built.
fn rust_example(name: &str) -> PathBuf {
    let path = rust_examples_dir().join(format!("{name}.wasm"));
    assert!(path.is_file(), "{} was not built", path.display());
    path
}

/// The file stems in `dir` with extension `ext`, sorted.
fn stems(dir: &Path, ext: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == ext))
        .map(|path| path.file_stem().expect("file stem").to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The `module.name` of every import of a module, read with `wasm-objdump -x -j Import`.
fn imports(wasm: &Path) -> Vec<String> {
    let output = Command::new("wasm-objdump").args(["-x", "-j", "Import"]).arg(wasm).output();
    let output = match output {
        Ok(output) => output,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            panic!("wasm-objdump is not installed (Debian package `wabt`); {INSTALL_HINT}")
        }
        Err(e) => panic!("cannot run wasm-objdump: {e}"),
    };
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "wasm-objdump -x -j Import {} failed ({}): {}",
        wasm.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    // " - func[3] sig=4 <__wasi_sock_connect> <- wasi_snapshot_preview1.sock_connect"
    let mut found = Vec::new();
    let mut declared = 0;
    for line in text.lines() {
        if let Some(count) = line.strip_prefix("Import[").and_then(|rest| rest.strip_suffix("]:")) {
            declared = count.parse().expect("the import count of wasm-objdump");
        } else if let Some((kind, source)) = line.trim().strip_prefix("- ").and_then(|l| l.split_once(" <- "))
        {
            let kind = kind.split('[').next().unwrap_or(kind);
            found.push(format!("{kind} {source}"));
        }
    }
    assert_eq!(found.len(), declared, "could not parse every import of {}:\n{text}", wasm.display());
    found
}

/// Every import of the module is a function of `wasi_snapshot_preview1`.
#[track_caller]
fn assert_only_preview1_functions(wasm: &Path) -> Vec<String> {
    let imports = imports(wasm);
    let foreign: Vec<&String> =
        imports.iter().filter(|import| !import.starts_with("func wasi_snapshot_preview1.")).collect();
    assert!(
        foreign.is_empty(),
        "{} imports more than wasi_snapshot_preview1 functions: {foreign:?}",
        wasm.display()
    );
    imports
}

// ---------------------------------------------------------------------------------------------
// Running and checking

/// `wasock --addr-pool=127.0.0.1/32 MODULE`.
fn v4(module: PathBuf) -> Wasock {
    Wasock::new().opt("--addr-pool=127.0.0.1/32").module(module)
}

/// Waits for the server's `listening on ADDR` line.
#[track_caller]
fn listening_addr(server: &mut Running) -> SocketAddr {
    let text = server.wait_for_line("listening on ", START_LIMIT);
    let addr: SocketAddr =
        text.parse().unwrap_or_else(|e| panic!("bad address {text:?} after `listening on`: {e}"));
    assert_ne!(addr.port(), 0, "the server reports port 0");
    addr
}

/// Matches `line` against `pattern`, where `{}` stands for a decimal number (returned) and
/// `{*}` for any text without spaces.
fn match_line(pattern: &str, line: &str) -> Option<Vec<u64>> {
    let next_placeholder =
        |text: &str| [text.find("{}"), text.find("{*}")].into_iter().flatten().min().unwrap_or(text.len());
    let mut numbers = Vec::new();
    let mut rest = line;
    let mut pattern = pattern;
    loop {
        let at = next_placeholder(pattern);
        rest = rest.strip_prefix(&pattern[..at])?;
        pattern = &pattern[at..];
        if pattern.is_empty() {
            return rest.is_empty().then_some(numbers);
        }
        let end = if let Some(after) = pattern.strip_prefix("{}") {
            pattern = after;
            rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len())
        } else {
            pattern = &pattern[3..];
            // Up to the next literal text of the pattern (or the end of the line).
            let literal = &pattern[..next_placeholder(pattern)];
            if literal.is_empty() { rest.len() } else { rest.find(literal)? }
        };
        if end == 0 {
            return None;
        }
        if let Ok(number) = rest[..end].parse() {
            numbers.push(number);
        }
        rest = &rest[end..];
    }
}

/// Stdout is exactly these lines (see [`match_line`] for the patterns); returns the numbers.
#[track_caller]
fn assert_stdout_lines(output: &Output, patterns: &[&str]) -> Vec<u64> {
    let lines: Vec<&str> = output.stdout.lines().collect();
    let mut numbers = Vec::new();
    let mut diff = String::new();
    let mut ok = lines.len() == patterns.len();
    for i in 0..lines.len().max(patterns.len()) {
        match (patterns.get(i), lines.get(i)) {
            (Some(pattern), Some(line)) => match match_line(pattern, line) {
                Some(found) => {
                    numbers.extend(found);
                    diff.push_str(&format!("  {line}\n"));
                }
                None => {
                    ok = false;
                    diff.push_str(&format!("- {pattern}\n+ {line}\n"));
                }
            },
            (Some(pattern), None) => diff.push_str(&format!("- {pattern}\n")),
            (None, Some(line)) => diff.push_str(&format!("+ {line}\n")),
            (None, None) => {}
        }
    }
    assert!(
        ok,
        "stdout differs from the expected lines (- expected, + got; {{}} is a number)\n{diff}\n{output}"
    );
    numbers
}

/// A self-checking example: exit 0, no FAIL line, some ok lines, and `0 failures` last.
#[track_caller]
fn assert_all_checks_pass(output: &Output) {
    output.assert_success();
    let failed: Vec<&str> = output.stdout.lines().filter(|line| line.starts_with("FAIL")).collect();
    assert!(failed.is_empty(), "failed checks:\n{}\n{output}", failed.join("\n"));
    let passed = output.stdout.lines().filter(|line| line.starts_with("ok")).count();
    assert!(passed > 0, "no `ok` lines at all\n{output}");
    assert_eq!(
        output.stdout.lines().last(),
        Some("0 failures"),
        "the last line is not `0 failures`\n{output}"
    );
}

/// The bytes tcp_client sends for `-n BYTES`: `pattern_byte(i) = (unsigned char)(i * 31 + 7)`
/// in guest/c/examples/tcp_client.c.
fn tcp_client_pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i.wrapping_mul(31).wrapping_add(7)) as u8).collect()
}

/// The checksum tcp_client prints: 32-bit FNV-1a (`fnv1a` in guest/c/examples/common.h).
fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(2166136261u32, |hash, &byte| (hash ^ u32::from(byte)).wrapping_mul(16777619))
}

/// Different bytes everywhere (xorshift), so that a lost, doubled or reordered chunk shows.
fn noise(len: usize) -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

fn with_timeouts(stream: TcpStream) -> io::Result<TcpStream> {
    stream.set_read_timeout(Some(IO_LIMIT))?;
    stream.set_write_timeout(Some(IO_LIMIT))?;
    Ok(stream)
}

fn connect(addr: SocketAddr) -> TcpStream {
    let stream =
        TcpStream::connect_timeout(&addr, IO_LIMIT).unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
    with_timeouts(stream).expect("set socket timeouts")
}

/// Accepts one connection within IO_LIMIT.
fn accept(listener: &TcpListener) -> io::Result<(TcpStream, SocketAddr)> {
    listener.set_nonblocking(true)?;
    let deadline = Instant::now() + IO_LIMIT;
    loop {
        match listener.accept() {
            Ok((stream, peer)) => {
                stream.set_nonblocking(false)?;
                return Ok((with_timeouts(stream)?, peer));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && Instant::now() < deadline => {
                thread::sleep(Duration::from_millis(5));
            }
            Err(e) => return Err(e),
        }
    }
}

/// Sends `data` to an echo server on a new connection (writing in a second thread while
/// reading, so neither side's buffers can fill up), shuts down the write side and reads until
/// EOF. Returns what came back and the client's own address.
fn echo_through(addr: SocketAddr, data: &[u8]) -> (Vec<u8>, SocketAddr) {
    let stream = connect(addr);
    let local = stream.local_addr().expect("local_addr");
    let mut writer = stream.try_clone().expect("clone the stream");
    let data_to_send = data.to_vec();
    let sender = thread::spawn(move || -> io::Result<()> {
        writer.write_all(&data_to_send)?;
        writer.shutdown(Shutdown::Write)
    });
    let mut received = Vec::new();
    // One byte more than was sent, so that extra bytes show.
    let read = (&stream).take(data.len() as u64 + 1).read_to_end(&mut received);
    let sent = sender.join().expect("the sender thread");
    sent.unwrap_or_else(|e| panic!("sending {} bytes to {addr}: {e}", data.len()));
    read.unwrap_or_else(|e| panic!("reading the echo from {addr} (after {} bytes): {e}", received.len()));
    (received, local)
}

/// Panics with a short description unless the two byte strings are equal.
#[track_caller]
fn assert_same_bytes(what: &str, got: &[u8], want: &[u8]) {
    if got != want {
        let first = got.iter().zip(want).position(|(a, b)| a != b).unwrap_or(got.len().min(want.len()));
        panic!("{what}: got {} bytes, want {}; first difference at byte {first}", got.len(), want.len());
    }
}

/// A native TCP echo server for one connection, in a thread; the thread returns every byte
/// it received.
fn native_echo_server() -> (SocketAddr, thread::JoinHandle<io::Result<Vec<u8>>>) {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a native listener");
    let addr = listener.local_addr().expect("local_addr");
    let server = thread::spawn(move || {
        let (mut stream, _) = accept(&listener)?;
        let mut all = Vec::new();
        let mut buf = [0u8; 16384];
        // Bounded: at most 64 MiB, and every read has IO_LIMIT.
        while all.len() < 64 * MIB {
            let n = stream.read(&mut buf)?;
            if n == 0 {
                break;
            }
            stream.write_all(&buf[..n])?;
            all.extend_from_slice(&buf[..n]);
        }
        Ok(all)
    });
    (addr, server)
}

/// A native UDP socket on 127.0.0.1 with timeouts.
fn native_udp() -> UdpSocket {
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a native UDP socket");
    socket.set_read_timeout(Some(IO_LIMIT)).expect("set_read_timeout");
    socket.set_write_timeout(Some(IO_LIMIT)).expect("set_write_timeout");
    socket
}

/// Sends one datagram and returns the reply and its source.
fn udp_exchange(socket: &UdpSocket, to: SocketAddr, data: &[u8]) -> (Vec<u8>, SocketAddr) {
    socket.send_to(data, to).unwrap_or_else(|e| panic!("send {} bytes to {to}: {e}", data.len()));
    let mut buf = vec![0u8; 65536];
    let (n, from) = socket.recv_from(&mut buf).unwrap_or_else(|e| panic!("no reply from {to}: {e}"));
    buf.truncate(n);
    (buf, from)
}

// ---------------------------------------------------------------------------------------------
// Building as a user would

#[test]
fn every_example_has_a_test() {
    let source = include_str!("guest.rs");
    let mut untested = Vec::new();
    for name in stems(&repo().join("guest/c/examples"), "c") {
        if !source.contains(&format!("c_example(\"{name}\")")) {
            untested.push(format!("guest/c/examples/{name}.c (use c_example)"));
        }
    }
    for name in stems(&repo().join("guest/rust/wasock-net/examples"), "rs") {
        if !source.contains(&format!("rust_example(\"{name}\")")) {
            untested.push(format!("guest/rust/wasock-net/examples/{name}.rs (use rust_example)"));
        }
    }
    assert!(untested.is_empty(), "examples without a test:\n{}", untested.join("\n"));
}

/// `cmake` with the toolchain file builds every example, and each imports only WASI preview 1
/// functions (the socket extension lives in that module too).
#[test]
fn c_examples_build_with_cmake() {
    for name in stems(&repo().join("guest/c/examples"), "c") {
        let wasm = c_example(&name);
        let imports = assert_only_preview1_functions(&wasm);
        assert!(
            imports.iter().any(|import| import.contains(".sock_")),
            "{} uses no socket import: {imports:?}",
            wasm.display()
        );
    }
}

#[test]
fn rust_examples_build_and_import_only_preview1() {
    for name in stems(&repo().join("guest/rust/wasock-net/examples"), "rs") {
        let imports = assert_only_preview1_functions(&rust_example(&name));
        assert!(
            imports.iter().any(|import| import.contains(".sock_")),
            "{name} uses no socket import: {imports:?}"
        );
    }
}

const USER_MAIN_C: &str = r#"/* A user's program: connect to HOST PORT, say hello, print the reply. */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#ifdef __wasi__
#include <wasi_socket_ext.h>
#else
#include <netdb.h>
#endif

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: app HOST PORT\n");
        return 2;
    }
    struct addrinfo hints, *res;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(argv[1], argv[2], &hints, &res);
    if (rc != 0) {
        printf("getaddrinfo: %s\n", gai_strerror(rc));
        return 1;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) {
        perror("connect");
        return 1;
    }
    const char hello[] = "hello from a user project\n";
    if (send(fd, hello, sizeof(hello) - 1, 0) != (ssize_t)(sizeof(hello) - 1)) {
        perror("send");
        return 1;
    }
    char reply[100];
    ssize_t n = recv(fd, reply, sizeof(reply), 0);
    if (n <= 0) {
        perror("recv");
        return 1;
    }
    printf("reply: %.*s", (int)n, reply);
    close(fd);
    return 0;
}
"#;

/// A project outside the repository that uses the library the documented way: include the
/// CMake file, link `socket_wasi_ext`, include the header under `#ifdef __wasi__`.
#[test]
fn c_user_project_builds_with_the_cmake_include() {
    let dir = TestDir::new();
    let source = dir.subdir("app");
    let include = repo().join("guest/c/lib_socket_wasi.cmake");
    let cmake_lists = format!(
        "cmake_minimum_required(VERSION 3.13)\nproject(app C)\ninclude({})\nadd_executable(app main.c)\n\
         target_link_libraries(app socket_wasi_ext)\n",
        include.display()
    );
    std::fs::write(source.join("CMakeLists.txt"), cmake_lists).expect("write CMakeLists.txt");
    std::fs::write(source.join("main.c"), USER_MAIN_C).expect("write main.c");
    let build = dir.path().join("build");
    if let Err(err) = cmake_build(&source, &build) {
        panic!("the user project does not build: {err}");
    }
    let wasm = build.join("app.wasm");
    assert!(wasm.is_file(), "the build made no {}", wasm.display());
    let imports = assert_only_preview1_functions(&wasm);
    for needed in ["sock_open", "sock_connect", "sock_addr_resolve", "sock_send", "sock_recv"] {
        assert!(
            imports.contains(&format!("func wasi_snapshot_preview1.{needed}")),
            "app.wasm does not import {needed}: {imports:?}"
        );
    }

    // And it works: `localhost` goes through the runtime's resolver.
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    let port = listener.local_addr().expect("local_addr").port();
    let peer = thread::spawn(move || -> io::Result<Vec<u8>> {
        let (mut stream, _) = accept(&listener)?;
        let mut got = vec![0u8; "hello from a user project\n".len()];
        stream.read_exact(&mut got)?;
        stream.write_all(b"welcome\n")?;
        Ok(got)
    });
    let output = Wasock::new()
        .opt("--addr-pool=127.0.0.1/32,::1/128")
        .opt("--allow-resolve=localhost")
        .module(&wasm)
        .args(["localhost", &port.to_string()])
        .run();
    output.assert_success().assert_stdout("reply: welcome\n");
    let got = peer.join().expect("peer thread").expect("the native peer");
    assert_eq!(String::from_utf8_lossy(&got), "hello from a user project\n");
}

/// The one fenced block with info string `info` whose text contains `containing`, in the
/// section `heading` of the markdown file `file` (relative to the repository root).
fn markdown_block(file: &str, heading: &str, info: &str, containing: &str) -> String {
    let text = std::fs::read_to_string(repo().join(file)).unwrap_or_else(|e| panic!("read {file}: {e}"));
    let (_, fences) = crate::docs::split_markdown(crate::docs::markdown_section(&text, heading));
    let found: Vec<String> = fences
        .into_iter()
        .filter(|fence| fence.info == info && fence.body.contains(containing))
        .map(|fence| fence.body)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "{file}, {heading}: want one `{info}` block with {containing:?}, found {found:?}"
    );
    found.into_iter().next().expect("one block")
}

/// README.md's C program (`app.c`), as a user pastes it.
fn readme_c_program() -> String {
    markdown_block("README.md", "### In C", "c", "int main")
}

/// README.md's C program and its CMakeLists.txt, pasted into a project and built with the
/// README's commands, then run as the README runs it: against a web server on 127.0.0.1 by
/// address and by `localhost`, and without `--allow-resolve`, where it must say why the
/// lookup failed (EAI_SYSTEM's reason is in errno: "Permission denied", not "System error").
#[test]
fn readme_c_program_builds_runs_and_reports_a_refused_lookup() {
    let dir = TestDir::new();
    let app = dir.subdir("app");
    std::fs::write(app.join("app.c"), readme_c_program()).expect("write app.c");
    let cmake_lists = markdown_block("README.md", "### In C", "cmake", "add_executable");
    std::fs::write(app.join("CMakeLists.txt"), cmake_lists).expect("write CMakeLists.txt");
    let build = app.join("build");
    if let Err(err) = cmake_build_with(&app, &build, &[format!("-DWASOCK_SRC={}", repo().display())]) {
        panic!("the README's C program does not build as the README says: {err}");
    }
    let wasm = build.join("app.wasm");

    let servers: [(&[&str], &str); 2] = [
        (&["--addr-pool=127.0.0.1/32"], "127.0.0.1"),
        (&["--addr-pool=127.0.0.1/32,::1/128", "--allow-resolve=localhost"], "localhost"),
    ];
    for (options, host) in servers {
        let (addr, server) = native_http_server(b"HTTP/1.0 200 OK\r\nServer: test\r\n\r\n".to_vec());
        let mut wasock = Wasock::new();
        for option in options {
            wasock = wasock.opt(option);
        }
        let output = wasock.module(&wasm).args([host, &addr.port().to_string()]).run();
        output.assert_success().assert_stdout("HTTP/1.0 200 OK\n");
        let request = server.join().expect("server thread").expect("the native HTTP server");
        assert_eq!(request, "HEAD / HTTP/1.0\r\n\r\n", "{host}");
    }

    let refused = Wasock::new().opt("--addr-pool=127.0.0.1/32").module(&wasm).args(["localhost", "9"]).run();
    refused.assert_no_host_crash();
    assert_eq!(refused.code(), Some(1), "a failed lookup exits with 1\n{refused}");
    refused.assert_stdout("").assert_stderr_contains("getaddrinfo localhost: Permission denied\n");
}

/// The top-level entries of a directory, sorted.
fn listing(dir: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {dir}: {e}"))
        .map(|entry| entry.expect("directory entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Everything under `root` without following symlinks: `path/` for a directory,
/// `path -> target` for a link, `path` for anything else; sorted.
fn tree(root: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        assert!(found.len() < 1000, "more than 1000 entries under {}", root.display());
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        {
            let path = entry.expect("directory entry").path();
            let name = path.strip_prefix(root).expect("under root").display().to_string();
            let kind = std::fs::symlink_metadata(&path).expect("lstat").file_type();
            if kind.is_symlink() {
                let target = std::fs::read_link(&path).expect("readlink");
                found.push(format!("{name} -> {}", target.display()));
            } else if kind.is_dir() {
                found.push(format!("{name}/"));
                pending.push(path);
            } else {
                found.push(name);
            }
        }
    }
    found.sort();
    found
}

/// guest/c/README.md's by-hand build, run twice as pasted (from a directory whose `guest` is
/// this repository's): the sysroot is exactly two links, nothing is written through them into
/// wasi-libc's directories (the old `ln -s` recipe put a link inside /usr/include/wasm32-wasi
/// the second time), and the README's C program builds with it.
#[test]
fn c_by_hand_recipe_runs_twice_and_writes_nothing_into_wasi_libc() {
    let recipe = markdown_block("guest/c/README.md", "## Using it", "sh", "--sysroot=");
    // Checked before running: a recipe with `ln` run twice as root would change the system.
    assert!(
        !recipe.split_whitespace().any(|word| word == "ln")
            && recipe.contains("guest/c/make-sysroot.sh sysroot"),
        "the by-hand recipe should make its sysroot with guest/c/make-sysroot.sh, not ln:\n{recipe}"
    );
    let dir = TestDir::new();
    std::os::unix::fs::symlink(repo().join("guest"), dir.path().join("guest")).expect("link guest/");
    std::fs::write(dir.path().join("app.c"), readme_c_program()).expect("write app.c");
    let wasi_libc = ["/usr/include/wasm32-wasi", "/usr/lib/wasm32-wasi"];
    let before: Vec<Vec<String>> = wasi_libc.iter().map(|d| listing(d)).collect();
    for _ in 0..2 {
        let _serial = CMAKE.lock().unwrap_or_else(|e| e.into_inner());
        run_tool(Command::new("sh").arg("-ec").arg(&recipe).current_dir(dir.path()))
            .unwrap_or_else(|err| panic!("the by-hand recipe failed: {err}"));
    }
    let after: Vec<Vec<String>> = wasi_libc.iter().map(|d| listing(d)).collect();
    assert_eq!(before, after, "the recipe changed {wasi_libc:?}");
    assert_eq!(
        tree(&dir.path().join("sysroot")),
        ["include -> /usr/include/wasm32-wasi", "lib/", "lib/wasm32-wasi -> /usr/lib/wasm32-wasi"]
    );
    let imports = assert_only_preview1_functions(&dir.path().join("app.wasm"));
    assert!(imports.contains(&"func wasi_snapshot_preview1.sock_connect".to_string()), "{imports:?}");

    // A DIR/include that is a real directory is reported, not written into.
    let taken = dir.subdir("taken");
    std::fs::create_dir(taken.join("include")).expect("mkdir taken/include");
    let output = Command::new("sh")
        .arg(repo().join("guest/c/make-sysroot.sh"))
        .arg(&taken)
        .output()
        .expect("run make-sysroot.sh");
    assert!(!output.status.success(), "make-sysroot.sh accepted a directory at DIR/include");
    assert!(String::from_utf8_lossy(&output.stderr).contains("is not a symlink"), "{output:?}");
    assert_eq!(tree(&taken.join("include")), Vec::<String>::new(), "it wrote into DIR/include");
}

// ---------------------------------------------------------------------------------------------
// C examples

#[test]
fn tcp_client_checksum_is_reproduced() {
    // The value tcp_client printed for -n 1000000 when the example was written: it pins this
    // file's copy of the pattern and the checksum to the C code.
    assert_eq!(fnv1a(&tcp_client_pattern(1_000_000)), 0x271c7045);
}

/// The wasm tcp_client against the wasm tcp_server: a message, then 1 MiB.
#[test]
fn c_tcp_client_and_server_echo_each_other() {
    let mut server = v4(c_example("tcp_server")).args(["127.0.0.1", "0", "2"]).spawn();
    let addr = listening_addr(&mut server);
    assert_eq!(addr.ip(), Ipv4Addr::LOCALHOST);
    let port = addr.port().to_string();

    let hello = v4(c_example("tcp_client")).args(["127.0.0.1", &port]).run();
    let message = "hello from wasm";
    hello.assert_success().assert_stdout(&format!(
        "connected to {addr}\nreceived: {message}\nsent 15 bytes, received 15 bytes, checksum 0x{:08x}\necho ok\n",
        fnv1a(message.as_bytes())
    ));

    let bulk = v4(c_example("tcp_client")).args(["127.0.0.1", &port, "-n", &MIB.to_string()]).run();
    bulk.assert_success().assert_stdout(&format!(
        "connected to {addr}\nsent {MIB} bytes, received {MIB} bytes, checksum 0x{:08x}\necho ok\n",
        fnv1a(&tcp_client_pattern(MIB))
    ));

    let served = server.finish();
    served.assert_success();
    assert_stdout_lines(
        &served,
        &[
            &format!("listening on {addr}"),
            "connection 1 from 127.0.0.1:{}",
            "connection 1 closed after echoing 15 bytes",
            "connection 2 from 127.0.0.1:{}",
            &format!("connection 2 closed after echoing {MIB} bytes"),
            "served 2 connections",
        ],
    );
}

/// The wasm tcp_client against a native echo server, which checks the bytes itself.
#[test]
fn c_tcp_client_against_a_native_echo_server() {
    let (addr, server) = native_echo_server();
    let output = v4(c_example("tcp_client"))
        .args(["127.0.0.1", &addr.port().to_string(), "-n", &MIB.to_string()])
        .run();
    let expected = tcp_client_pattern(MIB);
    output.assert_success().assert_stdout(&format!(
        "connected to {addr}\nsent {MIB} bytes, received {MIB} bytes, checksum 0x{:08x}\necho ok\n",
        fnv1a(&expected)
    ));
    let received = server.join().expect("server thread").expect("the native echo server");
    assert_same_bytes("bytes at the native server", &received, &expected);
}

/// The wasm tcp_server echoes native clients: a message and 1 MiB, and reports their addresses.
#[test]
fn c_tcp_server_echoes_native_clients() {
    let mut server = v4(c_example("tcp_server")).args(["127.0.0.1", "0", "2"]).spawn();
    let addr = listening_addr(&mut server);
    let (echo, first) = echo_through(addr, b"native hello");
    assert_same_bytes("echo of a message", &echo, b"native hello");
    let data = noise(MIB);
    let (echo, second) = echo_through(addr, &data);
    assert_same_bytes("echo of 1 MiB", &echo, &data);
    let served = server.finish();
    served.assert_success().assert_stdout(&format!(
        "listening on {addr}\nconnection 1 from {first}\nconnection 1 closed after echoing 12 bytes\n\
         connection 2 from {second}\nconnection 2 closed after echoing {MIB} bytes\nserved 2 connections\n"
    ));
}

/// The wasm udp_server answers the wasm udp_client and a native client.
#[test]
fn c_udp_client_and_server() {
    let mut server = v4(c_example("udp_server")).args(["127.0.0.1", "0", "2"]).spawn();
    let addr = listening_addr(&mut server);
    let client = v4(c_example("udp_client")).args(["127.0.0.1", &addr.port().to_string(), "ping"]).run();
    client
        .assert_success()
        .assert_stdout(&format!("sent 4 bytes to {addr}\nreceived 4 bytes from {addr}: ping\necho ok\n"));

    let native = native_udp();
    let (reply, from) = udp_exchange(&native, addr, b"hello from native");
    assert_eq!((reply.as_slice(), from), (&b"hello from native"[..], addr));
    let native_addr = native.local_addr().expect("local_addr");

    let served = server.finish();
    served.assert_success();
    assert_stdout_lines(
        &served,
        &[
            &format!("listening on {addr}"),
            "datagram 1 from 127.0.0.1:{}: 4 bytes: ping",
            &format!("datagram 2 from {native_addr}: 17 bytes: hello from native"),
            "served 2 datagrams",
        ],
    );
}

/// The wasm udp_client against a native UDP echo.
#[test]
fn c_udp_client_against_a_native_echo() {
    let native = native_udp();
    let addr = native.local_addr().expect("local_addr");
    let echo = thread::spawn(move || -> io::Result<(Vec<u8>, SocketAddr)> {
        let mut buf = [0u8; 2048];
        let (n, from) = native.recv_from(&mut buf)?;
        native.send_to(&buf[..n], from)?;
        Ok((buf[..n].to_vec(), from))
    });
    let message = "a datagram from wasm";
    let output = v4(c_example("udp_client")).args(["127.0.0.1", &addr.port().to_string(), message]).run();
    output.assert_success().assert_stdout(&format!(
        "sent 20 bytes to {addr}\nreceived 20 bytes from {addr}: {message}\necho ok\n"
    ));
    let (got, from) = echo.join().expect("echo thread").expect("the native UDP echo");
    assert_eq!(got, message.as_bytes());
    assert_eq!(from.ip(), Ipv4Addr::LOCALHOST);
}

#[test]
fn c_ipv6_echo() {
    let output = Wasock::new().opt("--addr-pool=::1/128").module(c_example("ipv6")).run();
    output.assert_success();
    let numbers = assert_stdout_lines(
        &output,
        &[
            "listening on [::1]:{}",
            "client [::1]:{} connected",
            "server accepted [::1]:{} (address length {})",
            "echoed: hello over ipv6",
            "echo ok",
        ],
    );
    assert_eq!(numbers[1], numbers[2], "the accepted peer is not the client\n{output}");
}

/// Without ::1 in the pool, the example fails at bind with EACCES (errno 2 in WASI).
#[test]
fn c_ipv6_outside_the_pool_is_denied() {
    let output = Wasock::new().opt("--addr-pool=127.0.0.1/32").module(c_example("ipv6")).run();
    output.assert_failure().assert_stdout("error: bind: Permission denied (errno 2)\n");
}

#[test]
fn c_sockopts() {
    // It sets SO_REUSEPORT, which needs --allow-port-sharing (refused otherwise: hostile.rs).
    assert_all_checks_pass(&Wasock::new().opt("--allow-port-sharing").module(c_example("sockopts")).run());
}

#[test]
fn c_api_checks() {
    assert_all_checks_pass(&v4(c_example("api_checks")).run());
}

#[test]
fn c_timeouts() {
    assert_all_checks_pass(&v4(c_example("timeouts")).run());
}

#[test]
fn c_msg() {
    let output = v4(c_example("msg")).run();
    assert_all_checks_pass(&output);
    let lines: Vec<&str> = output.stdout.lines().collect();
    let pattern = "recvmsg got 14 bytes: [scatt][er/gather] from 127.0.0.1:{}, msg_namelen 16, msg_flags 0x0";
    assert!(lines.iter().any(|line| match_line(pattern, line).is_some()), "no line {pattern:?}\n{output}");
    // wasock reports truncation through sock_recv's roflags (iwasm does not).
    assert!(lines.contains(&"info MSG_TRUNC reported: yes"), "MSG_TRUNC was not reported\n{output}");
}

/// resolve's output as (query label, result lines).
fn resolve_blocks(output: &Output) -> Vec<(String, Vec<String>)> {
    let mut blocks: Vec<(String, Vec<String>)> = Vec::new();
    for line in output.stdout.lines() {
        if let Some(label) = line.strip_prefix("query: ") {
            blocks.push((label.to_string(), Vec::new()));
        } else if line == "getnameinfo:" {
            blocks.push((line.to_string(), Vec::new()));
        } else if let Some((_, results)) = blocks.last_mut() {
            results.push(line.trim().to_string());
        } else {
            panic!("resolve printed {line:?} before any query\n{output}");
        }
    }
    blocks
}

#[track_caller]
fn block<'a>(blocks: &'a [(String, Vec<String>)], label: &str, output: &Output) -> &'a [String] {
    match blocks.iter().find(|(l, _)| l == label) {
        Some((_, lines)) => lines,
        None => panic!("no query {label:?} in the output\n{output}"),
    }
}

/// The queries that never reach the runtime: numeric hosts, NULL nodes, bad hints.
const RESOLVE_LOCAL_QUERIES: [&str; 9] = [
    "NULL node port 8080, AI_PASSIVE",
    "NULL node port 8080",
    "127.0.0.1 port 9, datagram",
    "::1 port 443, any socket type",
    "127.0.0.1 as IPv6 with AI_V4MAPPED",
    "127.0.0.1 service \"http\"",
    "127.0.0.1 service \"http\", AI_NUMERICSERV",
    "bad socket type",
    "getnameinfo:",
];

/// `localhost` resolves through the runtime to what the host's resolver says.
#[test]
fn c_resolve_allowed() {
    let output = Wasock::new().opt("--allow-resolve=localhost").module(c_example("resolve")).run();
    output.assert_success();
    let blocks = resolve_blocks(&output);
    let native: Vec<SocketAddr> =
        ("localhost", 80).to_socket_addrs().expect("resolve localhost natively").collect();
    let text = |addr: &SocketAddr| {
        let family = if addr.is_ipv4() { "AF_INET" } else { "AF_INET6" };
        (family, addr.to_string())
    };
    let want: BTreeSet<String> =
        native.iter().map(text).map(|(family, a)| format!("{family} SOCK_STREAM {a}")).collect();
    let got: BTreeSet<String> =
        block(&blocks, "localhost port 80, any family, stream", &output).iter().cloned().collect();
    assert_eq!(got, want, "localhost, any family: the guest's results differ from the host's\n{output}");

    let ipv4: Vec<&SocketAddr> = native.iter().filter(|a| a.is_ipv4()).collect();
    assert!(!ipv4.is_empty(), "localhost has no IPv4 address on this host: {native:?}");
    let mut want = BTreeSet::new();
    for addr in &ipv4 {
        want.insert(format!("AF_INET SOCK_STREAM {addr}"));
        want.insert(format!("AF_INET SOCK_DGRAM {addr}"));
    }
    let got: BTreeSet<String> =
        block(&blocks, "localhost port 80, IPv4, any socket type", &output).iter().cloned().collect();
    assert_eq!(got, want, "localhost, IPv4, both socket types\n{output}");

    let canon = block(&blocks, "localhost, IPv4 datagram, AI_CANONNAME", &output);
    assert_eq!(
        canon.first().map(String::as_str),
        Some(format!("AF_INET SOCK_DGRAM {}:0 canonname localhost", ipv4[0].ip()).as_str()),
        "AI_CANONNAME\n{output}"
    );
    assert_eq!(block(&blocks, "localhost with AI_NUMERICHOST", &output), ["error -2: Name does not resolve"]);
    assert_eq!(
        block(&blocks, "NULL node port 8080, AI_PASSIVE", &output),
        ["AF_INET SOCK_STREAM 0.0.0.0:8080", "AF_INET6 SOCK_STREAM [::]:8080"]
    );
    assert_eq!(
        block(&blocks, "127.0.0.1 as IPv6 with AI_V4MAPPED", &output),
        ["AF_INET6 SOCK_STREAM [::ffff:127.0.0.1]:1"]
    );
    assert_eq!(
        block(&blocks, "getnameinfo:", &output),
        [
            "127.0.0.1:8080 numeric: rc 0 host 127.0.0.1 serv 8080",
            "[::1]:22 numeric: rc 0 host ::1 serv 22",
            "[::1] into 2 bytes: Overflow"
        ]
    );
}

/// Without --allow-resolve, name queries fail with EAI_SYSTEM + EACCES; numeric ones still work.
#[test]
fn c_resolve_denied() {
    let allowed = Wasock::new().opt("--allow-resolve=localhost").module(c_example("resolve")).run();
    allowed.assert_success();
    let denied = Wasock::new().module(c_example("resolve")).run();
    denied.assert_success();
    let denied_blocks = resolve_blocks(&denied);
    let denial = "error -11: System error (see errno): Permission denied (errno 2)";
    for label in [
        "localhost port 80, any family, stream",
        "localhost port 80, IPv4, any socket type",
        "localhost, IPv4 datagram, AI_CANONNAME",
    ] {
        assert_eq!(block(&denied_blocks, label, &denied), [denial], "{label}");
    }
    assert_eq!(
        block(&denied_blocks, "localhost with AI_NUMERICHOST", &denied),
        ["error -2: Name does not resolve"]
    );
    let allowed_blocks = resolve_blocks(&allowed);
    for label in RESOLVE_LOCAL_QUERIES {
        let with = block(&allowed_blocks, label, &allowed);
        assert!(!with.is_empty(), "query {label:?} printed nothing\n{allowed}");
        assert_eq!(block(&denied_blocks, label, &denied), with, "{label}: the policy changed a local query");
    }
}

/// Whether this host loops multicast back to itself: the same steps as the example, natively.
fn native_multicast_works() -> Result<(), String> {
    let group = Ipv4Addr::new(239, 255, 0, 2);
    let socket = UdpSocket::bind((group, 0)).map_err(|e| format!("bind {group}: {e}"))?;
    socket.join_multicast_v4(&group, &Ipv4Addr::UNSPECIFIED).map_err(|e| format!("join: {e}"))?;
    socket.set_multicast_ttl_v4(0).map_err(|e| format!("ttl: {e}"))?;
    socket.set_multicast_loop_v4(true).map_err(|e| format!("loop: {e}"))?;
    socket.set_read_timeout(Some(Duration::from_secs(2))).map_err(|e| format!("timeout: {e}"))?;
    let addr = socket.local_addr().map_err(|e| format!("local_addr: {e}"))?;
    socket.send_to(b"probe", addr).map_err(|e| format!("send: {e}"))?;
    let mut buf = [0u8; 16];
    let (n, _) = socket.recv_from(&mut buf).map_err(|e| format!("receive: {e}"))?;
    if &buf[..n] == b"probe" { Ok(()) } else { Err(format!("got {:?}", &buf[..n])) }
}

/// multicast works exactly when it works natively (exit 77 only on hosts without a route).
#[test]
fn c_multicast() {
    let output = Wasock::new().opt("--addr-pool=239.255.0.0/16").module(c_example("multicast")).run();
    let received = [
        "bound to 239.255.0.1:{}",
        "joined 239.255.0.1",
        "sent 12 bytes to 239.255.0.1:{}",
        "received 12 bytes from {*}: hello, group",
        "left 239.255.0.1",
        "multicast ok",
    ];
    match native_multicast_works() {
        Ok(()) => {
            // SO_REUSEADDR on UDP needs --allow-port-sharing: without it the example goes on
            // alone on the port.
            output.assert_success();
            let refused = "note: SO_REUSEADDR refused (Permission denied); receiving alone on the port";
            assert_stdout_lines(&output, &[&[refused][..], &received[..]].concat());
            let shared = Wasock::new()
                .opt("--addr-pool=239.255.0.0/16")
                .opt("--allow-port-sharing")
                .module(c_example("multicast"))
                .run();
            shared.assert_success();
            assert_stdout_lines(&shared, &received);
        }
        Err(why) => {
            output.assert_no_host_crash();
            assert_eq!(
                output.code(),
                Some(77),
                "multicast fails natively ({why}): expected exit 77\n{output}"
            );
            assert!(output.stdout.contains("multicast unavailable here: "), "{output}");
        }
    }
}

/// poll_server serves three native clients that stay connected together and a wasm
/// tcp_client (1 MiB) that comes and goes while they wait.
#[test]
fn c_poll_server_serves_concurrent_clients() {
    let mut server = v4(c_example("poll_server")).args(["127.0.0.1", "0", "4"]).spawn();
    let addr = listening_addr(&mut server);
    let mut natives: Vec<TcpStream> = (0..3).map(|_| connect(addr)).collect();
    server.wait_for_line("client 3 connected from ", START_LIMIT);

    let bulk = v4(c_example("tcp_client"))
        .args(["127.0.0.1", &addr.port().to_string(), "-n", &MIB.to_string()])
        .run();
    bulk.assert_success().assert_stdout(&format!(
        "connected to {addr}\nsent {MIB} bytes, received {MIB} bytes, checksum 0x{:08x}\necho ok\n",
        fnv1a(&tcp_client_pattern(MIB))
    ));

    let messages: Vec<String> = (1..=3).map(|i| format!("native client {i} was here")).collect();
    for (stream, message) in natives.iter_mut().zip(&messages) {
        stream.write_all(message.as_bytes()).expect("write to the poll server");
    }
    for (stream, message) in natives.iter_mut().zip(&messages) {
        let mut echo = vec![0u8; message.len()];
        stream.read_exact(&mut echo).expect("read the echo");
        assert_eq!(echo, message.as_bytes());
        stream.shutdown(Shutdown::Write).expect("shutdown");
        let mut rest = Vec::new();
        stream.take(1).read_to_end(&mut rest).expect("read until the server closes");
        assert!(rest.is_empty(), "extra bytes after the echo: {rest:?}");
    }
    let locals: Vec<SocketAddr> = natives.iter().map(|s| s.local_addr().expect("local_addr")).collect();

    let served = server.finish();
    served.assert_success();
    let lines: Vec<&str> = served.stdout.lines().collect();
    for (i, local) in locals.iter().enumerate() {
        let want = format!("client {} connected from {local}", i + 1);
        assert!(lines.contains(&want.as_str()), "no line {want:?}\n{served}");
        let want = format!("client {} closed after echoing {} bytes", i + 1, messages[i].len());
        assert!(lines.contains(&want.as_str()), "no line {want:?}\n{served}");
    }
    assert!(
        lines.iter().any(|l| match_line("client 4 connected from 127.0.0.1:{}", l).is_some()),
        "{served}"
    );
    let want = format!("client 4 closed after echoing {MIB} bytes");
    assert!(lines.contains(&want.as_str()), "no line {want:?}\n{served}");
    assert_eq!(lines.last(), Some(&"served 4 clients, at most 4 at once"), "{served}");
}

// ---------------------------------------------------------------------------------------------
// Rust examples (wasock-net)

/// net_selftest runs every check it has and all pass.
#[test]
fn rust_net_selftest() {
    let source = std::fs::read_to_string(repo().join("guest/rust/wasock-net/examples/net_selftest.rs"))
        .expect("read net_selftest.rs");
    // The checks are listed one per line as `("name", function),` in main.
    let list = source
        .split_once("let checks")
        .and_then(|(_, rest)| rest.split_once("];"))
        .map(|(list, _)| list)
        .expect("the `let checks = &[...];` list in net_selftest.rs");
    let checks = list.lines().filter(|line| line.trim_start().starts_with("(\"")).count();
    assert!(checks > 0, "found no checks in net_selftest.rs");
    let output = Wasock::new()
        .opt("--addr-pool=127.0.0.1/32,::1/128")
        .opt("--allow-resolve=localhost")
        .module(rust_example("net_selftest"))
        .run();
    output.assert_success();
    let failed: Vec<&str> = output.stdout.lines().filter(|line| line.starts_with("FAIL")).collect();
    assert!(failed.is_empty(), "failed checks:\n{}\n{output}", failed.join("\n"));
    let passed = output.stdout.lines().filter(|line| line.starts_with("ok ")).count();
    assert_eq!(passed, checks, "not every check ran\n{output}");
    let summary = format!("{checks} passed, 0 failed");
    assert_eq!(output.stdout.lines().last(), Some(summary.as_str()), "{output}");
}

/// echo_server echoes two native clients byte for byte: a message, then 1 MiB.
#[test]
fn rust_echo_server_echoes_native_clients() {
    let mut server = v4(rust_example("echo_server")).args(["127.0.0.1:0", "2"]).spawn();
    let addr = listening_addr(&mut server);
    assert_eq!(addr.ip(), Ipv4Addr::LOCALHOST);
    let (echo, first) = echo_through(addr, b"hello, echo");
    assert_same_bytes("echo of a message", &echo, b"hello, echo");
    let data = noise(MIB);
    let (echo, second) = echo_through(addr, &data);
    assert_same_bytes("echo of 1 MiB", &echo, &data);
    server.finish().assert_success().assert_stdout(&format!(
        "listening on {addr}\nconnection 1 from {first}\nconnection 1: echoed 11 bytes\n\
         connection 2 from {second}\nconnection 2: echoed {MIB} bytes\n"
    ));
}

/// The C tcp_client against the Rust echo_server: two guests, two languages, 1 MiB.
#[test]
fn rust_echo_server_with_the_c_client() {
    let mut server = v4(rust_example("echo_server")).args(["127.0.0.1:0", "1"]).spawn();
    let addr = listening_addr(&mut server);
    let client = v4(c_example("tcp_client"))
        .args(["127.0.0.1", &addr.port().to_string(), "-n", &MIB.to_string()])
        .run();
    client.assert_success().assert_stdout(&format!(
        "connected to {addr}\nsent {MIB} bytes, received {MIB} bytes, checksum 0x{:08x}\necho ok\n",
        fnv1a(&tcp_client_pattern(MIB))
    ));
    let served = server.finish();
    served.assert_success();
    assert_stdout_lines(
        &served,
        &[
            &format!("listening on {addr}"),
            "connection 1 from 127.0.0.1:{}",
            &format!("connection 1: echoed {MIB} bytes"),
        ],
    );
}

/// A native HTTP server for one request, in a thread that returns the request head.
fn native_http_server(response: Vec<u8>) -> (SocketAddr, thread::JoinHandle<io::Result<String>>) {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind the HTTP server");
    let addr = listener.local_addr().expect("local_addr");
    let server = thread::spawn(move || {
        let (mut stream, _) = accept(&listener)?;
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        // Bounded: the request head of http_client is well under 8 KiB.
        while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
            let n = stream.read(&mut buf)?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        stream.write_all(&response)?;
        stream.shutdown(Shutdown::Write)?;
        Ok(String::from_utf8_lossy(&head).into_owned())
    });
    (addr, server)
}

#[test]
fn rust_http_client_gets_a_page() {
    let body = "hello from the native server\n";
    let response =
        format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
    let (addr, server) = native_http_server(response.into_bytes());
    let output = v4(rust_example("http_client")).arg(format!("http://{addr}/hello.txt")).run();
    output.assert_success().assert_stdout(&format!("HTTP/1.1 200 OK\n{body}"));
    output.assert_stderr_contains("Content-Length: 29");
    let request = server.join().expect("server thread").expect("the native HTTP server");
    assert!(request.starts_with("GET /hello.txt HTTP/1.1\r\n"), "request: {request:?}");
    assert!(request.contains(&format!("\r\nHost: {addr}\r\n")), "request: {request:?}");
    assert!(request.ends_with("\r\n\r\n"), "request: {request:?}");
}

/// A chunked body of 200 kB from `localhost` (resolved by the runtime).
#[test]
fn rust_http_client_decodes_a_chunked_body_from_localhost() {
    let body: Vec<u8> = noise(200_000).iter().map(|b| b'a' + b % 26).collect();
    let mut response = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for chunk in body.chunks(70_000) {
        response.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        response.extend_from_slice(chunk);
        response.extend_from_slice(b"\r\n");
    }
    response.extend_from_slice(b"0\r\n\r\n");
    let (addr, server) = native_http_server(response);
    let output = Wasock::new()
        .opt("--addr-pool=127.0.0.1/32,::1/128")
        .opt("--allow-resolve=localhost")
        .module(rust_example("http_client"))
        .arg(format!("http://localhost:{}/big", addr.port()))
        .run();
    output.assert_success();
    let mut want = b"HTTP/1.1 200 OK\n".to_vec();
    want.extend_from_slice(&body);
    assert_same_bytes("http_client's stdout", output.stdout.as_bytes(), &want);
    let request = server.join().expect("server thread").expect("the native HTTP server");
    assert!(request.starts_with("GET /big HTTP/1.1\r\n"), "request: {request:?}");
    assert!(request.contains(&format!("\r\nHost: localhost:{}\r\n", addr.port())), "request: {request:?}");
}

#[test]
fn rust_http_client_reports_a_404() {
    let response = b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nno such\r\n".to_vec();
    let (addr, server) = native_http_server(response);
    let output = v4(rust_example("http_client")).arg(format!("http://{addr}/missing")).run();
    output.assert_no_host_crash();
    assert_eq!(output.code(), Some(1), "a 404 exits with 1\n{output}");
    output.assert_stdout("HTTP/1.1 404 Not Found\nno such\r\n");
    server.join().expect("server thread").expect("the native HTTP server");
}

/// Without --allow-resolve the lookup is refused and the message says which flag to add.
#[test]
fn rust_http_client_needs_allow_resolve() {
    let output = v4(rust_example("http_client")).arg("http://localhost:9/").run();
    output.assert_no_host_crash();
    assert_eq!(output.code(), Some(3), "a failed request exits with 3\n{output}");
    output.assert_stdout("").assert_stderr_contains("--allow-resolve=localhost");
}

/// udp_echo answers a native socket (a small and a 60000-byte datagram) and the C udp_client.
#[test]
fn rust_udp_echo() {
    let mut server = v4(rust_example("udp_echo")).args(["127.0.0.1:0", "3"]).spawn();
    let addr = listening_addr(&mut server);
    let native = native_udp();
    let native_addr = native.local_addr().expect("local_addr");
    let (reply, from) = udp_exchange(&native, addr, b"one");
    assert_eq!((reply.as_slice(), from), (&b"one"[..], addr));
    let big = noise(60_000);
    let (reply, from) = udp_exchange(&native, addr, &big);
    assert_same_bytes("echo of a 60000-byte datagram", &reply, &big);
    assert_eq!(from, addr);

    let client = v4(c_example("udp_client")).args(["127.0.0.1", &addr.port().to_string(), "from c"]).run();
    client
        .assert_success()
        .assert_stdout(&format!("sent 6 bytes to {addr}\nreceived 6 bytes from {addr}: from c\necho ok\n"));

    let served = server.finish();
    served.assert_success();
    assert_stdout_lines(
        &served,
        &[
            &format!("listening on {addr}"),
            &format!("datagram 1: 3 bytes from {native_addr}"),
            &format!("datagram 2: 60000 bytes from {native_addr}"),
            "datagram 3: 6 bytes from 127.0.0.1:{}",
        ],
    );
}

#[test]
fn line_patterns() {
    assert_eq!(match_line("a {} b", "a 12 b"), Some(vec![12]));
    assert_eq!(match_line("a {} b", "a x b"), None);
    assert_eq!(match_line("a {} b", "a 12 bc"), None);
    assert_eq!(match_line("from {*}: x", "from 10.0.0.1:5: x"), Some(vec![]));
    assert_eq!(match_line("[::1]:{} ({})", "[::1]:80 (32)"), Some(vec![80, 32]));
    assert_eq!(match_line("exact", "exact"), Some(vec![]));
    assert_eq!(match_line("exact", "exact2"), None);
}
