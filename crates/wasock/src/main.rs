//! The `wasock` command: a drop-in for iwasm's command line. It only parses flags, builds
//! the context and reports; the work is in the library.

mod flags;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use flags::{LowArgs, Mode};
use wasock::{CtxBuilder, Detected, Error, Module, Runtime, RuntimeConfig};

// The exit status rule (iwasm's) is stated in `flags::EXIT_STATUS_HELP`.

/// iwasm's exit status for a usage error, a trap or a timeout.
const EXIT_FAILURE: u8 = 1;
/// iwasm's exit status when the runtime cannot start the module.
const EXIT_CANNOT_START: u8 = 255;
/// wasmtime's default `max_wasm_stack`; `--stack-size` never lowers it.
const MIN_WASM_STACK: usize = 512 * 1024;

fn main() -> ExitCode {
    raise_fd_limit();
    let low = match LowArgs::parse(std::env::args_os().skip(1)) {
        Ok(low) => low,
        Err(e) => {
            eprintln!("wasock: {}", e.0);
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    match &low.mode {
        Mode::Help => {
            print!("{}", flags::help());
            ExitCode::SUCCESS
        }
        Mode::Version => {
            println!(
                "wasock {} (WASI preview 1 with the WAMR, WasmEdge and WASIX socket ABIs, and WASI preview 2 components, on wasmtime 48.0.8)",
                env!("CARGO_PKG_VERSION")
            );
            ExitCode::SUCCESS
        }
        Mode::Run { module, args } => run(&low, module, args),
    }
}

/// Why the run stopped, as the exit status and, if any, a message.
struct Failure(u8, String);

fn run(low: &LowArgs, module: &OsString, args: &[OsString]) -> ExitCode {
    match try_run(low, module, args) {
        Ok(status) => ExitCode::from(status as u8),
        Err(Failure(status, message)) => {
            eprintln!("wasock: {message}");
            ExitCode::from(status)
        }
    }
}

/// A guest may hold up to `--max-fds` sockets (1024 by default) on top of the host's own fds,
/// which the usual soft limit of 1024 would not allow: raise it to the hard limit, as servers do.
fn raise_fd_limit() {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        let _ = setrlimit(Resource::Nofile, rustix::process::Rlimit { current: limit.maximum, ..limit });
    }
}

/// Where compiled modules are kept: `$WASOCK_CACHE_DIR`, `$XDG_CACHE_HOME/wasock` or
/// `~/.cache/wasock` (absolute paths only; none means no cache).
fn default_cache_dir() -> Option<PathBuf> {
    let absolute = |p: PathBuf| p.is_absolute().then_some(p);
    let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    var("WASOCK_CACHE_DIR")
        .and_then(absolute)
        .or_else(|| var("XDG_CACHE_HOME").and_then(absolute).map(|d| d.join("wasock")))
        .or_else(|| var("HOME").and_then(absolute).map(|d| d.join(".cache/wasock")))
}

fn try_run(low: &LowArgs, module: &OsString, args: &[OsString]) -> Result<i32, Failure> {
    let cannot_start = |m: String| Failure(EXIT_CANNOT_START, m);
    let mut cx = CtxBuilder::new();
    cx.arg(module.as_encoded_bytes()).trace(low.trace);
    if let Some(max) = low.max_fds {
        cx.max_fds(max);
    }
    if low.function.is_none() {
        for a in args {
            cx.arg(a.as_encoded_bytes());
        }
    }
    for (k, v) in &low.envs {
        cx.env(k, v);
    }
    for dir in &low.dirs {
        cx.preopen_dir(dir, dir.as_str()).map_err(|e| cannot_start(format!("--dir={dir}: {e}")))?;
    }
    for (guest, host) in &low.map_dirs {
        cx.preopen_dir(host, guest.as_str())
            .map_err(|e| cannot_start(format!("--map-dir={guest}::{host}: {e}")))?;
    }
    // A malformed entry is a usage error (exit 1), as any malformed option value is.
    let usage = |m: String| Failure(EXIT_FAILURE, m);
    for list in &low.addr_pools {
        cx.addr_pool(list).map_err(|e| usage(format!("--addr-pool={list}: {e}")))?;
    }
    for pattern in &low.allow_resolves {
        cx.allow_resolve(pattern).map_err(|e| usage(format!("--allow-resolve={pattern}: {e}")))?;
    }
    for list in &low.allow_nets {
        cx.allow_net(list).map_err(|e| usage(e.to_string()))?;
    }
    for list in &low.deny_nets {
        cx.deny_net(list).map_err(|e| usage(e.to_string()))?;
    }
    for list in &low.allow_peers {
        cx.allow_peer(list).map_err(|e| usage(e.to_string()))?;
    }
    for path in &low.policy_files {
        cx.policy_file(Path::new(path)).map_err(|e| usage(format!("--policy: {e}")))?;
    }
    if low.allow_port_sharing {
        cx.allow_port_sharing(true);
    }
    if let Some(path) = &low.net_log {
        cx.on_decision(net_log(path).map_err(|e| cannot_start(format!("--net-log={path}: {e}")))?);
    }
    let config = RuntimeConfig {
        timeout: low.timeout_ms.map(Duration::from_millis),
        max_wasm_stack: low.stack_size.map(|s| s.max(MIN_WASM_STACK)),
        max_threads: low.max_threads.unwrap_or(wasock::DEFAULT_MAX_THREADS),
        cache_dir: if low.no_cache { None } else { default_cache_dir() },
        max_memory: low.max_memory,
        max_table_elements: low.max_table_elements.unwrap_or(wasock::DEFAULT_MAX_TABLE_ELEMENTS),
    };
    let runtime = Runtime::new(&config).map_err(|e| cannot_start(e.to_string()))?;
    let program = runtime.load_file(Path::new(module)).map_err(|e| cannot_start(e.to_string()))?;
    if low.trace {
        match program.module() {
            Some(module) => trace_module(&runtime, module),
            None => eprintln!("wasock: a component: WASI preview 2, wasi:sockets included"),
        }
    }
    let cx = cx.build().map_err(|e| cannot_start(format!("cannot set up the guest: {e}")))?;
    for warning in cx.policy.addr_pool.grants().iter().filter_map(|cidr| cidr.wamr_warning()) {
        eprintln!("wasock: warning: {warning}");
    }
    let outcome = match &low.function {
        None => runtime.run(&program, cx),
        Some(name) => {
            let texts: Vec<String> = args.iter().map(|a| a.to_string_lossy().into_owned()).collect();
            runtime.call(&program, cx, name, &texts).map(|results| {
                let shown: Vec<String> = results.iter().map(wasock::format_val).collect();
                println!("{}", shown.join(","));
                0
            })
        }
    };
    outcome.map_err(|e| match e {
        Error::Load { .. } | Error::Instantiate(_) => cannot_start(e.to_string()),
        Error::Trap(_) | Error::Timeout(_) | Error::BadArguments(_) => Failure(EXIT_FAILURE, e.to_string()),
    })
}

/// `--net-log=FILE`: a hook appending one JSON line per decision to FILE. A line that cannot
/// be written is dropped rather than stop the guest.
fn net_log(path: &str) -> std::io::Result<wasock_core::policy::DecisionHook> {
    use std::io::Write as _;
    let file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    let file = std::sync::Mutex::new(file);
    Ok(std::sync::Arc::new(move |event: &wasock_core::policy::NetEvent<'_>| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let mut line = event.to_json(now.as_millis());
        line.push('\n');
        let mut file = file.lock().unwrap_or_else(|p| p.into_inner());
        let _ = file.write_all(line.as_bytes());
    }))
}

/// `--trace`: the module's socket ABI and why, and the imports wasock does not provide.
fn trace_module(runtime: &Runtime, module: &Module) {
    match runtime.socket_abi(module) {
        Ok(Detected { abi, because: Some(import) }) => {
            eprintln!("wasock: socket ABI: {abi} (the module imports {import})")
        }
        Ok(Detected { abi, because: None }) => {
            eprintln!("wasock: socket ABI: {abi} (no socket extension imported)")
        }
        Err(mixed) => eprintln!("wasock: {mixed}"),
    }
    for u in runtime.unlinked_imports(module) {
        eprintln!("wasock: import {} is not linked ({}); {}", u.name, u.reason, u.outcome);
    }
}
