//! WAMR binaries as WAMR's own CMake builds them (issue 11): the CMake project
//! tests/programs/wamr_cmake compiles its guests with the link options of WAMR's
//! samples/socket-api (wasm32-wasi, `--shared-memory` without `--import-memory`,
//! `--allow-undefined`, `__heap_base`/`__data_end` exported) and our socket_wasi_ext target,
//! so they import WAMR's lib-pthread (`env.pthread_*`) and define their own shared memory.
//! Also a wasi-threads guest that defines its own shared memory.
//!
//! Native peers are this test process, on loopback, with every socket operation and every
//! wait bounded.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Barrier, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use crate::util::{Output, Wasock, repo_root, wat};

const IO_LIMIT: Duration = Duration::from_secs(15);
const START_LIMIT: Duration = Duration::from_secs(20);
const LOOPBACK_POOL: &str = "--addr-pool=127.0.0.1/32";

/// tests/programs/wamr_cmake, configured and built once per test run with
/// guest/c/wasi-toolchain-debian.cmake into <target>/wasock-guests/wamr-cmake.
fn build_dir() -> &'static Path {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let target =
            Path::new(env!("CARGO_TARGET_TMPDIR")).parent().expect("target dir").join("wasock-guests");
        std::fs::create_dir_all(&target).map_err(|e| format!("cannot create {}: {e}", target.display()))?;
        // Another test process may build the same directory: one at a time.
        let lock = std::fs::File::create(target.join("wamr-cmake.lock")).map_err(|e| e.to_string())?;
        lock.lock().map_err(|e| format!("cannot lock the build: {e}"))?;
        let build = target.join("wamr-cmake");
        let root = repo_root();
        let toolchain = root.join("guest/c/wasi-toolchain-debian.cmake");
        let configure = Command::new("cmake")
            .arg("-S")
            .arg(root.join("tests/programs/wamr_cmake"))
            .arg("-B")
            .arg(&build)
            .arg(format!("-DCMAKE_TOOLCHAIN_FILE={}", toolchain.display()))
            .output();
        let compile = || Command::new("cmake").arg("--build").arg(&build).args(["--parallel", "2"]).output();
        for step in [configure, compile()] {
            let out = step.map_err(|e| format!("cannot run cmake ({e}); run scripts/install-deps.sh"))?;
            if !out.status.success() {
                return Err(format!(
                    "cmake failed:\n{}\n{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
        Ok(build)
    });
    match built {
        Ok(dir) => dir,
        Err(err) => panic!("cannot build tests/programs/wamr_cmake: {err}"),
    }
}

/// The guest tests/programs/wamr_cmake/NAME.c, built by the CMake project.
fn wamr_cmake(name: &str) -> PathBuf {
    let path = build_dir().join(format!("{name}.wasm"));
    assert!(path.is_file(), "the CMake build made no {}", path.display());
    path
}

fn wasock(name: &str) -> Wasock {
    Wasock::new().module(wamr_cmake(name))
}

/// What the module imports and defines, read from its bytes.
#[derive(Debug, Default)]
struct Shape {
    imports: Vec<String>,
    imported_memory: bool,
    defined_shared_memory: bool,
    active_data: usize,
    passive_data: usize,
}

fn shape(path: &Path) -> Shape {
    let bytes = std::fs::read(path).expect("read the module");
    let mut shape = Shape::default();
    for payload in wasmparser::Parser::new(0).parse_all(&bytes) {
        match payload.expect("a valid module") {
            wasmparser::Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import.expect("an import");
                    shape.imports.push(format!("{}.{}", import.module, import.name));
                    shape.imported_memory |= matches!(import.ty, wasmparser::TypeRef::Memory(_));
                }
            }
            wasmparser::Payload::MemorySection(reader) => {
                for memory in reader {
                    shape.defined_shared_memory |= memory.expect("a memory").shared;
                }
            }
            wasmparser::Payload::DataSection(reader) => {
                for data in reader {
                    match data.expect("a segment").kind {
                        wasmparser::DataKind::Active { .. } => shape.active_data += 1,
                        wasmparser::DataKind::Passive => shape.passive_data += 1,
                    }
                }
            }
            _ => {}
        }
    }
    shape
}

#[test]
fn wamrs_link_options_give_lib_pthread_imports_and_an_own_shared_memory() {
    for name in ["pthread_echo", "pthread_sync", "pthread_blocked"] {
        let s = shape(&wamr_cmake(name));
        assert!(s.imports.iter().any(|i| i == "env.pthread_create"), "{name}: {s:?}");
        assert!(s.imports.iter().any(|i| i == "env.pthread_mutex_lock"), "{name}: {s:?}");
        assert!(!s.imported_memory && s.defined_shared_memory, "{name}: {s:?}");
        // wasm-ld's shared-memory output: passive segments, copied once by __wasm_init_memory.
        assert!(s.active_data == 0 && s.passive_data > 0, "{name}: {s:?}");
    }
    let s = shape(&wamr_cmake("spawn_own_memory"));
    assert!(s.imports.iter().any(|i| i == "wasi.thread-spawn"), "{s:?}");
    assert!(!s.imports.iter().any(|i| i.starts_with("env.pthread")), "{s:?}");
    assert!(!s.imported_memory && s.defined_shared_memory && s.active_data == 0, "{s:?}");
}

/// The bytes client `n` sends: its own pattern, so a mix-up between connections shows.
fn pattern(n: usize, len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + n * 131 + i / 251) as u8).collect()
}

fn connect(port: u16) -> TcpStream {
    let stream = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), IO_LIMIT).expect("connect");
    stream.set_read_timeout(Some(IO_LIMIT)).expect("read timeout");
    stream.set_write_timeout(Some(IO_LIMIT)).expect("write timeout");
    stream
}

fn read_exactly(stream: &mut TcpStream, len: usize) -> Vec<u8> {
    let mut got = vec![0; len];
    stream.read_exact(&mut got).expect("read the echo");
    got
}

#[test]
fn thread_per_client_echo_server_on_lib_pthread_serves_concurrent_clients() {
    const CLIENTS: usize = 8;
    const LEN: usize = 96 * 1024;
    let mut server = wasock("pthread_echo").opt(LOOPBACK_POOL).arg(CLIENTS.to_string()).spawn();
    let port: u16 = server.wait_for_line("listening on ", START_LIMIT).parse().expect("a port");
    // Every client gets its first half echoed, so that all server threads run at once,
    // before any sends the rest.
    let all_echoing = Arc::new(Barrier::new(CLIENTS));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|n| {
            let all_echoing = all_echoing.clone();
            thread::spawn(move || {
                let data = pattern(n, LEN);
                let mut stream = connect(port);
                stream.write_all(&data[..LEN / 2]).expect("send the first half");
                let first = read_exactly(&mut stream, LEN / 2);
                all_echoing.wait();
                stream.write_all(&data[LEN / 2..]).expect("send the second half");
                stream.shutdown(Shutdown::Write).expect("shutdown");
                let mut rest = Vec::new();
                stream.read_to_end(&mut rest).expect("read to the end");
                assert!(first == data[..LEN / 2] && rest == data[LEN / 2..], "client {n}: echo differs");
            })
        })
        .collect();
    for client in clients {
        client.join().expect("a client failed");
    }
    let output = server.finish();
    output.assert_success();
    let served = format!("served {CLIENTS} clients, {} bytes, max {CLIENTS} at once", CLIENTS * LEN);
    assert!(output.stdout.contains(&served), "expected {served:?}\n{output}");
}

#[test]
fn max_threads_refuses_a_pthread_create_too_many() {
    let mut server = wasock("pthread_echo").opt(LOOPBACK_POOL).opt("--max-threads=2").arg("3").spawn();
    let port: u16 = server.wait_for_line("listening on ", START_LIMIT).parse().expect("a port");
    // Two clients keep their threads busy; the third connection's thread is refused.
    let mut held: Vec<TcpStream> = (0..2).map(|_| connect(port)).collect();
    for (n, stream) in held.iter_mut().enumerate() {
        stream.write_all(&[n as u8; 10]).expect("send");
        assert_eq!(read_exactly(stream, 10), vec![n as u8; 10], "the first two are served");
    }
    held.push(connect(port));
    let output = server.finish();
    assert_eq!(output.code(), Some(1), "{output}");
    assert!(output.stdout.contains("failed: pthread_create"), "{output}");
    drop(held);
}

#[test]
fn lib_pthread_mutexes_conds_join_exit_keys_and_cancel() {
    const THREADS: u32 = 6;
    const ROUNDS: u32 = 3000;
    const ITEMS: u32 = 500;
    let output =
        wasock("pthread_sync").args([THREADS.to_string(), ROUNDS.to_string(), ITEMS.to_string()]).run();
    output.assert_success();
    let retvals: u32 = (0..THREADS).map(|i| i * 3 + 1).sum();
    let key_values: u32 = (1..=THREADS).sum();
    let expected = [
        format!("counter {}", THREADS * ROUNDS),
        format!("retval sum {retvals}"),
        format!("destructor sum {key_values}"),
        "own key values yes".to_string(),
        "main key value 7".to_string(),
        "thread ids distinct yes".to_string(),
        format!("queue sum {}", ITEMS * (ITEMS + 1) / 2),
        "timedwait ETIMEDOUT after >= 50 ms".to_string(),
        "pthread_exit value 99".to_string(),
        "cancel spinning: PTHREAD_CANCELED".to_string(),
        "cancel waiting: PTHREAD_CANCELED".to_string(),
        format!("destructor sum after cancels {}", key_values + 1000 + 2000),
        "relock refused".to_string(),
    ];
    output.assert_stdout(&(expected.join("\n") + "\n"));
}

#[test]
fn wasi_threads_in_a_module_that_defines_its_shared_memory() {
    let output = wasock("spawn_own_memory").arg("6").run();
    output.assert_success();
    // The threads saw the value the main thread wrote over the module's data, and their
    // instances did not copy the data again (which would have put 1234 back).
    output.assert_stdout("data seen by every thread: 5678\nmain still sees: 5678\nstacks intact: yes\n");
}

fn timeout_stops(what: &str) {
    let start = Instant::now();
    let mut guest = wasock("pthread_blocked").opt("--timeout=400").arg(what).spawn();
    guest.wait_for_line(&format!("blocked in {what}"), START_LIMIT);
    let output: Output = guest.finish();
    assert_eq!(output.code(), Some(1), "{output}");
    output.assert_stderr_contains("--timeout of 400 ms");
    assert!(!output.stdout.contains("unblocked"), "{output}");
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "stopped by the timeout, not the test's limit: {output}"
    );
}

#[test]
fn timeout_stops_a_thread_blocked_in_pthread_cond_wait() {
    timeout_stops("cond");
}

#[test]
fn timeout_stops_a_main_thread_blocked_in_pthread_join() {
    timeout_stops("join");
}

#[test]
fn a_start_routine_that_is_no_function_of_the_right_type_traps_with_a_message() {
    for (index, why) in [("1", "the wrong type"), ("2", "past the table's end")] {
        let output = wat("pthread_bad_start").cmd().opt("-f").opt("start_at").arg(index).run();
        output.assert_no_host_crash();
        assert_eq!(output.code(), Some(1), "{why}: {output}");
        output.assert_stderr_contains(&format!(
            "pthread_create: the start routine (function table index {index}) is not a function (i32) -> i32"
        ));
    }
    // The control: a start routine of the right type runs, and join returns its value.
    let output = wat("pthread_bad_start").cmd().opt("-f").opt("start_at").arg("3").run();
    output.assert_success().assert_stdout("0x2a:i32\n");
}

#[test]
fn a_lib_pthread_module_without_shared_memory_locks_but_cannot_create_threads() {
    let locks = wat("pthread_plain_memory").cmd().opt("-f").opt("locks").run();
    locks.assert_success().assert_stdout("0x10:i32\n"); // EDEADLK: the lock is held
    let creates = wat("pthread_plain_memory").cmd().opt("-f").opt("creates").run();
    creates.assert_no_host_crash();
    assert_eq!(creates.code(), Some(1), "{creates}");
    creates.assert_stderr_contains("the module's memory is not shared");
    creates.assert_stderr_contains("--shared-memory");
}
