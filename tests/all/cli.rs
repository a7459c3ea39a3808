//! The `wasock` command line: errors a person reads, --version/--help, `-f`, imports the
//! runtime does not provide, --timeout, and traps.

use crate::util::{TestDir, Wasock, c, wat};
use std::time::Duration;

/// "Stops within a few seconds" for --timeout=300.
const TIMEOUT_GRACE: Duration = Duration::from_secs(5);

#[test]
fn missing_module_file_is_an_error_naming_it() {
    let test = TestDir::new();
    let missing = test.path().join("no_such_module.wasm");
    let out = Wasock::new().module(&missing).run();
    out.assert_failure().assert_stderr_contains("no_such_module.wasm");
}

#[test]
fn text_file_that_is_not_wasm_is_a_clear_error() {
    let test = TestDir::new();
    let bogus = test.path().join("not_really.wasm");
    std::fs::write(&bogus, "this is plain text, not a WebAssembly module\n").expect("write the text file");
    let out = Wasock::new().module(&bogus).run();
    out.assert_failure().assert_stderr_contains("not_really.wasm");
    assert!(out.stdout.is_empty(), "nothing may run\n{out}");
}

#[test]
fn version_prints_the_package_version() {
    let out = Wasock::new().opt("--version").run();
    out.assert_success();
    assert!(
        out.stdout.contains("wasock") && out.stdout.contains(env!("CARGO_PKG_VERSION")),
        "--version must print the name and version {}\n{out}",
        env!("CARGO_PKG_VERSION")
    );
}

#[test]
fn help_lists_the_options() {
    let out = Wasock::new().opt("--help").run();
    out.assert_success();
    for option in ["--dir", "--map-dir", "--env", "--addr-pool", "--allow-resolve", "--timeout", "--function"]
    {
        assert!(out.stdout.contains(option), "--help does not mention {option}\n{out}");
    }
}

/// iwasm's rule, stated in --help: 1 when the command line is wrong (whatever option it
/// is), 255 when the module cannot be loaded or started.
#[test]
fn exit_status_follows_one_rule_for_option_errors() {
    use std::os::unix::ffi::OsStringExt;
    let module = wat("cli_add").path();
    let non_utf8 = std::ffi::OsString::from_vec(b"--dir=/tmp/\xff".to_vec());
    for (what, out) in [
        ("an unknown option", Wasock::new().opt("--no-such-option").module(&module).run()),
        ("a malformed number", Wasock::new().opt("--timeout=soon").module(&module).run()),
        ("a malformed --addr-pool", Wasock::new().opt("--addr-pool=127.0.0.1/33").module(&module).run()),
        ("a malformed --allow-resolve", Wasock::new().opt("--allow-resolve=*x").module(&module).run()),
        ("a non-UTF-8 option", Wasock::new().opt(&non_utf8).module(&module).run()),
    ] {
        out.assert_no_host_crash();
        assert_eq!(out.code(), Some(1), "{what} is a usage error\n{out}");
        assert!(!out.stderr.contains("cannot load"), "{what} was taken for the module\n{out}");
    }
    let test = TestDir::new();
    for (what, out) in [
        ("a missing module", Wasock::new().module(test.path().join("none.wasm")).run()),
        ("a --dir that cannot be opened", Wasock::new().opt("--dir=/no/such/dir").module(&module).run()),
    ] {
        out.assert_no_host_crash();
        assert_eq!(out.code(), Some(255), "{what} cannot start\n{out}");
    }
    let help = Wasock::new().opt("--help").run();
    assert!(help.stdout.contains("1 when the command line is wrong"), "{help}");
}

#[test]
fn invoke_exported_function_with_i32_args() {
    let module = wat("cli_add");
    let out = module.cmd().args(["2", "40"]).run_with_function("add");
    out.assert_success();
    assert!(out.stdout.contains("0x2a:i32"), "add(2, 40) must print 0x2a:i32\n{out}");

    let out = module.cmd().args(["7", "8"]).run_with_function("add");
    out.assert_success();
    assert!(out.stdout.contains("0xf:i32"), "add(7, 8) must print 0xf:i32\n{out}");

    let out = Wasock::new().opt("--function").opt("answer").module(module.path()).run();
    out.assert_success();
    assert!(out.stdout.contains("0x2a:i32"), "answer() must print 0x2a:i32\n{out}");

    let out = module.cmd().run_with_function("no_such_export");
    out.assert_failure().assert_stderr_contains("no_such_export");
}

#[test]
fn unprovided_import_is_fine_until_called() {
    let module = wat("cli_missing_import");
    let out = module.cmd().run();
    out.assert_success().assert_stdout("ran without calling it\n");

    let out = module.cmd().run_with_function("call_missing");
    out.assert_failure().assert_stderr_contains("not_provided_anywhere");
}

#[test]
fn timeout_stops_a_spinning_guest() {
    let out = c("cli_spin").cmd().opt("--timeout=300").run();
    out.assert_failure();
    assert!(out.elapsed < TIMEOUT_GRACE, "--timeout=300 took {:?} to stop the guest\n{out}", out.elapsed);
    assert_eq!(out.stdout, "spinning\n", "the guest must have started\n{out}");
    assert!(!out.stderr.trim().is_empty(), "a timeout must be reported on stderr\n{out}");
}

#[test]
fn timeout_stops_a_guest_blocked_on_stdin() {
    let out = c("p1_stdio").cmd().opt("--timeout=300").arg("echo").silent_stdin().run();
    out.assert_failure();
    assert!(
        out.elapsed < TIMEOUT_GRACE,
        "--timeout=300 took {:?} to stop a blocked read\n{out}",
        out.elapsed
    );
    assert!(!out.stderr.trim().is_empty(), "a timeout must be reported on stderr\n{out}");
}

#[test]
fn timeout_leaves_a_guest_that_finishes_in_time_alone() {
    let out = c("p1_exit").cmd().opt("--timeout=20000").args(["exit", "7"]).run();
    out.assert_no_host_crash();
    assert_eq!(out.code(), Some(7), "the guest's own exit code must survive an unexpired --timeout\n{out}");
    out.assert_stdout("stdout: exit 7\n");
}

#[test]
fn trap_exits_non_zero_with_a_message() {
    let out = c("cli_trap").cmd().run();
    out.assert_failure();
    assert_eq!(out.code(), Some(1), "a trap exits with 1\n{out}");
    assert_eq!(out.stdout, "before trap\n");
    assert!(
        out.stderr.to_lowercase().contains("unreachable"),
        "the trap message must say what trapped\n{out}"
    );
}

trait FunctionExt {
    fn run_with_function(self, name: &str) -> crate::util::Output;
}

impl FunctionExt for Wasock {
    /// Runs with `-f NAME` (an option, so it goes before the module).
    fn run_with_function(self, name: &str) -> crate::util::Output {
        self.opt("-f").opt(name).run()
    }
}

/// The compiled-module cache is keyed by the module's bytes: a module changed in place
/// under the same name must never run its old compiled code.
#[test]
fn cache_never_serves_a_stale_module() {
    let dir = TestDir::new();
    let cache = dir.subdir("cache");
    let module = dir.path().join("answer.wat");
    let run = |answer: i32| {
        std::fs::write(
            &module,
            format!("(module (func (export \"answer\") (result i32) (i32.const {answer})))"),
        )
        .expect("write the module");
        let out = Wasock::new()
            .host_env("WASOCK_CACHE_DIR", cache.to_str().expect("utf-8 temp path"))
            .opt("-f")
            .opt("answer")
            .module(&module)
            .run();
        out.assert_success();
        out.stdout.trim().to_string()
    };
    assert_eq!(run(1), "0x1:i32");
    assert!(
        std::fs::read_dir(&cache).map(|d| d.count()).unwrap_or(0) > 0,
        "the cache directory was not used"
    );
    assert_eq!(run(1), "0x1:i32", "cached run");
    assert_eq!(run(2), "0x2:i32", "a changed module must be recompiled");
    let uncached = Wasock::new().opt("--no-cache").opt("-f").opt("answer").module(&module).run();
    uncached.assert_success();
    assert_eq!(uncached.stdout.trim(), "0x2:i32");
}

/// One socket ABI per module: a module naming WAMR's and WasmEdge's is refused at load
/// (exit 255) with both imports named, before anything runs.
#[test]
fn a_module_mixing_socket_abis_is_refused_naming_both_imports() {
    let out = wat("abi_mixed").cmd().run();
    assert_eq!(out.status.code(), Some(255), "{out}");
    out.assert_stderr_contains("wasi_snapshot_preview1::sock_open")
        .assert_stderr_contains("wasi_snapshot_preview1::sock_getaddrinfo")
        .assert_stderr_contains("one socket ABI per module");
}

/// `--trace` names the socket ABI chosen at load, and the import that chose it.
#[test]
fn trace_names_the_socket_abi_chosen_at_load() {
    let wamr = c("sock_tcp").cmd().opt("--trace").opt("--timeout=5000").run();
    wamr.assert_stderr_contains("socket ABI: WAMR (the module imports wasi_snapshot_preview1::sock_");
    let plain = wat("cli_missing_import").cmd().opt("--trace").run();
    plain.assert_stderr_contains("socket ABI: WASI preview 1 (no socket extension imported)");
}
