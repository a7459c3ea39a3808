//! `containerd-shim-wasock-v1`: containerd's runtime `io.containerd.wasock.v1`. It runs a
//! container's wasm entry point on wasock, with the network policy taken from the `wasock.*`
//! OCI annotations (docs/kubernetes.md). runwasi's `containerd-shim-wasm` does the rest:
//! containerd's shim protocol and the container itself (youki: namespaces, rootfs, cgroups).

mod annotations;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use containerd_shim_wasm::sandbox::Sandbox;
use containerd_shim_wasm::sandbox::context::{RuntimeContext, Source};
use containerd_shim_wasm::shim::{Cli, Shim, Version, version};
use wasock::{CtxBuilder, Error, Runtime, RuntimeConfig};

/// The exit status of a bad annotation, a trap or a timeout: the `wasock` command's.
const EXIT_FAILURE: i32 = 1;
/// The exit status when the module cannot be loaded or started: the `wasock` command's.
const EXIT_CANNOT_START: i32 = 255;

/// The `wasock.*` annotations of the bundle this shim process was started for, or why there
/// are none (which means no network).
///
/// `RuntimeContext` offers no annotations, and `run_wasi` runs after `pivot_root`, where the
/// bundle is out of sight. But containerd starts the shim in the bundle's directory, and
/// `main` reads its config.json before `Cli::run` forks the zygote from which every container
/// process of this shim is forked: they inherit this value. So the policy is that of the
/// first container the shim serves (under Kubernetes, the pod sandbox: one policy per pod).
static BUNDLE_POLICY: OnceLock<Result<Vec<(String, String)>, String>> = OnceLock::new();

struct WasockShim;

#[derive(Default)]
struct WasockSandbox;

impl Shim for WasockShim {
    type Sandbox = WasockSandbox;

    fn name() -> &'static str {
        "wasock"
    }

    fn version() -> Version {
        version!()
    }
}

/// What the container runs, copied out of the shim's context for the wasock thread.
struct Job {
    /// argv[0]: the entry point as the image gives it, without `#function`.
    arg0: String,
    args: Vec<String>,
    envs: Vec<String>,
    /// The export to call; `_start` runs the program.
    func: String,
    /// The module, from a file in the rootfs or from the image's wasm layer.
    bytes: Vec<u8>,
}

impl Sandbox for WasockSandbox {
    async fn run_wasi(&self, ctx: &impl RuntimeContext) -> anyhow::Result<i32> {
        let entry = ctx.entrypoint();
        let raw_arg0 = ctx.args().first().map(String::as_str).unwrap_or_default();
        let arg0 = raw_arg0.split_once('#').map_or(raw_arg0, |(path, _)| path).to_string();
        // The same lookup as `can_handle` made (a file in $PATH or the working directory), or
        // the image's one wasm layer.
        let bytes = match &entry.source {
            Source::File(path) => entry
                .source
                .as_bytes()
                .map_err(|e| anyhow::anyhow!("cannot read the module {}: {e:#}", path.display()))?,
            Source::Oci(_) => entry.source.as_bytes()?,
        }
        .into_owned();
        let job = Job {
            arg0,
            args: ctx.args().iter().skip(1).cloned().collect(),
            envs: ctx.envs().to_vec(),
            func: entry.func,
            bytes,
        };
        exit_on_stop_signals();
        raise_fd_limit();
        // The shim drives run_wasi inside a tokio runtime, and wasock makes its own for
        // components: run it on a plain thread. 16 MiB: wasm frames run on this thread's stack.
        let thread =
            std::thread::Builder::new().name("wasock".into()).stack_size(16 << 20).spawn(move || run(job))?;
        Ok(thread.join().unwrap_or(EXIT_FAILURE))
    }
}

/// Runs the job as the `wasock` command would, with the rootfs as `/`, and returns the exit
/// status; wasock's messages go to the container's stderr, as the command's to its own.
fn run(job: Job) -> i32 {
    let policy = match BUNDLE_POLICY.get() {
        Some(Ok(pairs)) => pairs.clone(),
        Some(Err(why)) => {
            eprintln!("wasock: warning: {why}; the guest gets no network");
            Vec::new()
        }
        None => Vec::new(),
    };
    let mut cx = CtxBuilder::new();
    let settings = match annotations::apply(&policy, &mut cx) {
        Ok(settings) => settings,
        Err(message) => {
            eprintln!("wasock: {message}");
            return EXIT_FAILURE;
        }
    };
    cx.arg(&job.arg0);
    if job.func == "_start" {
        for a in &job.args {
            cx.arg(a);
        }
    }
    for kv in &job.envs {
        if let Some((k, v)) = kv.split_once('=') {
            cx.env(k, v);
        }
    }
    // The container's rootfs, with the spec's mounts under it: the container's whole view.
    if let Err(e) = cx.preopen_dir("/", "/") {
        eprintln!("wasock: --dir=/: {e}");
        return EXIT_CANNOT_START;
    }
    // No compiled-code cache: the rootfs may be read-only, and a cache there would not outlive
    // the container.
    let config = RuntimeConfig { timeout: settings.timeout, cache_dir: None, ..RuntimeConfig::default() };
    let outcome = Runtime::new(&config).and_then(|runtime| {
        let program = runtime.load_bytes(&job.bytes, Path::new(&job.arg0))?;
        let cx = cx.build().map_err(|e| Error::Instantiate(format!("cannot set up the guest: {e}")))?;
        if job.func == "_start" {
            runtime.run(&program, cx)
        } else {
            let results = runtime.call(&program, cx, &job.func, &job.args)?;
            let shown: Vec<String> = results.iter().map(wasock::format_val).collect();
            println!("{}", shown.join(","));
            Ok(0)
        }
    });
    match outcome {
        Ok(status) => status,
        Err(e) => {
            eprintln!("wasock: {e}");
            match e {
                Error::Load { .. } | Error::Instantiate(_) => EXIT_CANNOT_START,
                Error::Trap(_) | Error::Timeout(_) | Error::BadArguments(_) => EXIT_FAILURE,
            }
        }
    }
}

/// The guest is PID 1 of the container's PID namespace, where the kernel drops every signal
/// without a handler (SIGKILL aside): without these, `ctr task kill` (SIGTERM) and a pod's
/// termination would wait for the grace period and a SIGKILL.
fn exit_on_stop_signals() {
    extern "C" fn exit_on_signal(signal: libc::c_int) {
        // SAFETY: _exit is async-signal-safe and ends the process at once, as the default
        // action would, with the status a shell gives a death by that signal.
        unsafe { libc::_exit(128 + signal) }
    }
    for signal in [libc::SIGTERM, libc::SIGINT] {
        // SAFETY: the handler above only calls _exit; nothing else in this process (the
        // container's init, which only runs the guest) relies on these two signals.
        unsafe {
            libc::signal(signal, exit_on_signal as *const () as libc::sighandler_t);
        }
    }
}

/// As the `wasock` command does: a guest may hold up to `--max-fds` sockets.
fn raise_fd_limit() {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        let _ = setrlimit(Resource::Nofile, Rlimit { current: limit.maximum, ..limit });
    }
}

/// Reads the `wasock.*` annotations of the bundle in the working directory (see
/// [`BUNDLE_POLICY`]).
fn read_bundle_policy() -> Result<Vec<(String, String)>, String> {
    let dir = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let path = dir.join("config.json");
    let text = std::fs::read(&path).map_err(|e| {
        format!(
            "cannot read the OCI spec {} (the shim's directory should be the bundle's): {e}",
            path.display()
        )
    })?;
    annotations::from_config_json(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn main() {
    let _ = BUNDLE_POLICY.set(read_bundle_policy());
    WasockShim::run(None);
}
