//! Test helpers: building guest programs (once per test run), fresh directories, and running
//! the `wasock` CLI with a hard time limit.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::thread;
use std::time::{Duration, Instant};

/// No run of the CLI may take longer than this; the child is killed after it.
pub const RUN_LIMIT: Duration = Duration::from_secs(30);

const INSTALL_C: &str = "apt-get install -y clang lld wasi-libc libclang-rt-14-dev-wasm32";
const WASI_LIBC_INCLUDE: &str = "/usr/include/wasm32-wasi";
const WASI_LIBC_LIB: &str = "/usr/lib/wasm32-wasi";

/// The language a guest program is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    C,
    Rust,
    /// Rust built for wasm32-wasip1-threads (shared memory, `wasi::thread-spawn`).
    RustThreads,
    /// Rust from the cargo project tests/programs/PROJECT (built for wasm32-wasip1), for guests
    /// with dependencies of their own (other runtimes' socket crates).
    RustIn(&'static str),
    /// Rust from the cargo project tests/programs/p2, built for wasm32-wasip2: rustc links
    /// each program into a component (WASI preview 2).
    RustP2,
    Wat,
}

/// One guest program under tests/programs, built on first use.
#[derive(Clone, Copy, Debug)]
pub struct Guest {
    pub lang: Lang,
    pub name: &'static str,
}

/// The C program tests/programs/c/NAME.c.
pub fn c(name: &'static str) -> Guest {
    Guest { lang: Lang::C, name }
}

/// The Rust program tests/programs/rust/src/bin/NAME.rs.
pub fn rust(name: &'static str) -> Guest {
    Guest { lang: Lang::Rust, name }
}

/// The Rust program tests/programs/rust/src/bin/NAME.rs built for wasm32-wasip1-threads.
pub fn rust_threads(name: &'static str) -> Guest {
    Guest { lang: Lang::RustThreads, name }
}

/// The Rust program tests/programs/PROJECT/src/bin/NAME.rs, from that cargo project (its own
/// Cargo.toml and Cargo.lock, outside the wasock workspace), built for wasm32-wasip1.
pub fn rust_in(project: &'static str, name: &'static str) -> Guest {
    Guest { lang: Lang::RustIn(project), name }
}

/// The Rust program tests/programs/p2/src/bin/NAME.rs, from that cargo project (std only,
/// outside the wasock workspace), built for wasm32-wasip2: a component, not a core module.
pub fn rust_p2(name: &'static str) -> Guest {
    Guest { lang: Lang::RustP2, name }
}

/// The WAT fixture tests/programs/wat/NAME.wat (the CLI reads .wat files itself).
pub fn wat(name: &'static str) -> Guest {
    Guest { lang: Lang::Wat, name }
}

/// The C and the Rust program called NAME.
pub fn both(name: &'static str) -> [Guest; 2] {
    [c(name), rust(name)]
}

impl fmt::Display for Guest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lang = match self.lang {
            Lang::C => "C",
            Lang::Rust => "Rust",
            Lang::RustThreads => "Rust (wasi-threads)",
            Lang::RustIn(project) => return write!(f, "Rust guest {project}/{}", self.name),
            Lang::RustP2 => "Rust (WASI preview 2 component)",
            Lang::Wat => "WAT",
        };
        write!(f, "{lang} guest {}", self.name)
    }
}

impl Guest {
    /// The module file to run, building it first if needed. Panics with the build error.
    pub fn path(&self) -> PathBuf {
        let built = match self.lang {
            Lang::C => build_c(self.name),
            Lang::Rust => build_rust(self.name, RustTarget::P1),
            Lang::RustThreads => build_rust(self.name, RustTarget::P1Threads),
            Lang::RustIn(project) => build_rust_in(RustTarget::P1, project, self.name),
            Lang::RustP2 => build_rust_in(RustTarget::P2, "p2", self.name),
            Lang::Wat => {
                let path = programs_dir().join("wat").join(format!("{}.wat", self.name));
                if path.is_file() { Ok(path) } else { Err(format!("{} does not exist", path.display())) }
            }
        };
        built.unwrap_or_else(|err| panic!("cannot build {self}: {err}"))
    }

    /// A `wasock` command for this guest: options go before the module, guest args after it.
    pub fn cmd(&self) -> Wasock {
        Wasock::new().module(self.path())
    }
}

/// The repository root (this test belongs to crates/wasock).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// tests/programs.
pub fn programs_dir() -> PathBuf {
    repo_root().join("tests/programs")
}

/// Where built guests go: <cargo target dir>/wasock-guests.
fn guests_dir() -> PathBuf {
    // CARGO_TARGET_TMPDIR is <target>/tmp.
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().expect("CARGO_TARGET_TMPDIR has a parent");
    target.join("wasock-guests")
}

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    path.metadata().and_then(|m| m.modified()).ok()
}

type BuildResult = Result<PathBuf, String>;

/// One build per key (a program or a project) per test run.
type BuildSlots<K> = OnceLock<Mutex<HashMap<K, Arc<OnceLock<BuildResult>>>>>;

/// Builds tests/programs/c/NAME.c once per test run (and only if the source is newer than the
/// output left by an earlier run).
fn build_c(name: &str) -> BuildResult {
    static BUILDS: BuildSlots<String> = OnceLock::new();
    let slot = {
        let mut builds = BUILDS.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
        builds.entry(name.to_string()).or_default().clone()
    };
    slot.get_or_init(|| compile_c(name)).clone()
}

fn compile_c(name: &str) -> BuildResult {
    let source = programs_dir().join("c").join(format!("{name}.c"));
    if !source.is_file() {
        return Err(format!("{} does not exist", source.display()));
    }
    let out_dir = guests_dir().join("c");
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("cannot create {}: {e}", out_dir.display()))?;
    let output = out_dir.join(format!("{name}.wasm"));
    // The program's headers (tests/programs/c/*.h) count as its source too.
    let headers = std::fs::read_dir(programs_dir().join("c"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "h"));
    let src_time = headers.chain([source.clone()]).filter_map(|p| modified(&p)).max();
    if let (Some(src_time), Some(out_time)) = (src_time, modified(&output))
        && out_time > src_time
    {
        return Ok(output);
    }
    let clang = clang()?;
    let sysroot = sysroot()?;
    // A private name first, then a rename, so that concurrent test processes never see half a file.
    let partial = out_dir.join(format!("{name}.wasm.{}.partial", std::process::id()));
    let result = Command::new(clang)
        .arg("--target=wasm32-wasi")
        .arg(format!("--sysroot={}", sysroot.display()))
        .args(["-O1", "-Wall", "-o"])
        .arg(&partial)
        .arg(&source)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", clang.display()))?;
    if !result.status.success() {
        let _ = std::fs::remove_file(&partial);
        return Err(format!(
            "{} failed to compile {} ({}):\n{}\nIf wasi-libc or the wasm32 runtime library is missing, run `{INSTALL_C}`.",
            clang.display(),
            source.display(),
            result.status,
            String::from_utf8_lossy(&result.stderr)
        ));
    }
    std::fs::rename(&partial, &output).map_err(|e| format!("cannot rename {}: {e}", partial.display()))?;
    Ok(output)
}

/// The first clang found on PATH (WASOCK_TEST_CLANG overrides the search).
fn clang() -> Result<&'static Path, String> {
    static CLANG: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let found = CLANG.get_or_init(|| {
        let candidates: Vec<OsString> = match std::env::var_os("WASOCK_TEST_CLANG") {
            Some(clang) => vec![clang],
            None => ["clang", "clang-19", "clang-18", "clang-17", "clang-16", "clang-15", "clang-14"]
                .iter()
                .map(OsString::from)
                .collect(),
        };
        for candidate in &candidates {
            let works = Command::new(candidate)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if works {
                return Ok(PathBuf::from(candidate));
            }
        }
        Err(format!("no clang found (tried {candidates:?}); run `{INSTALL_C}`"))
    });
    found.as_deref().map_err(Clone::clone)
}

/// A sysroot holding only wasi-libc, so that a header wasi-libc lacks is an error instead of
/// falling through to glibc's: <guests>/sysroot/{include, lib/wasm32-wasi} as symlinks.
fn sysroot() -> Result<&'static Path, String> {
    static SYSROOT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let made = SYSROOT.get_or_init(|| {
        if !Path::new(WASI_LIBC_INCLUDE).join("stdio.h").is_file() || !Path::new(WASI_LIBC_LIB).is_dir() {
            return Err(format!(
                "wasi-libc is not installed ({WASI_LIBC_INCLUDE}/stdio.h or {WASI_LIBC_LIB} is missing); run `{INSTALL_C}`"
            ));
        }
        let root = guests_dir().join("sysroot");
        let lib = root.join("lib");
        std::fs::create_dir_all(&lib).map_err(|e| format!("cannot create {}: {e}", lib.display()))?;
        link(Path::new(WASI_LIBC_INCLUDE), &root.join("include"))?;
        link(Path::new(WASI_LIBC_LIB), &lib.join("wasm32-wasi"))?;
        Ok(root)
    });
    made.as_deref().map_err(Clone::clone)
}

fn link(target: &Path, at: &Path) -> Result<(), String> {
    if std::fs::read_link(at).is_ok_and(|existing| existing == target) {
        return Ok(());
    }
    let _ = std::fs::remove_file(at);
    match std::os::unix::fs::symlink(target, at) {
        // Another test process made the same link at the same moment.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other.map_err(|e| format!("cannot link {} -> {}: {e}", at.display(), target.display())),
    }
}

/// The Rust targets guests are built for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RustTarget {
    P1,
    P1Threads,
    /// WASI preview 2: the output is a component.
    P2,
}

impl RustTarget {
    fn triple(self) -> &'static str {
        match self {
            RustTarget::P1 => "wasm32-wasip1",
            RustTarget::P1Threads => "wasm32-wasip1-threads",
            RustTarget::P2 => "wasm32-wasip2",
        }
    }

    /// Under guests_dir(); one per target so that the two builds never wait for each other.
    fn target_dir(self) -> &'static str {
        match self {
            RustTarget::P1 => "rust",
            RustTarget::P1Threads => "rust-threads",
            RustTarget::P2 => "rust-p2",
        }
    }
}

/// Builds every Rust program for `target` with one cargo call, once per test run, and returns
/// the path of NAME.wasm. Cargo decides what is stale. The separate target dir keeps the inner
/// cargo from waiting for the lock the outer `cargo test` holds.
fn build_rust(name: &str, target: RustTarget) -> BuildResult {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    static BUILT_THREADS: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let built = match target {
        RustTarget::P1 => &BUILT,
        RustTarget::P1Threads => &BUILT_THREADS,
        RustTarget::P2 => unreachable!("preview 2 guests are built by build_rust_in"),
    };
    let dir = built.get_or_init(|| cargo_build_rust(target)).clone()?;
    let path = dir.join(format!("{name}.wasm"));
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!("{} was not built: is there a tests/programs/rust/src/bin/{name}.rs?", path.display()))
    }
}

/// Builds the cargo project tests/programs/PROJECT for `target` once per test run, and returns
/// the path of NAME.wasm.
fn build_rust_in(target: RustTarget, project: &'static str, name: &str) -> BuildResult {
    static BUILDS: BuildSlots<&'static str> = OnceLock::new();
    let slot = {
        let mut builds = BUILDS.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
        builds.entry(project).or_default().clone()
    };
    let dir = slot
        .get_or_init(|| cargo_build(target, project, &guests_dir().join(format!("project-{project}"))))
        .clone()?;
    let path = dir.join(format!("{name}.wasm"));
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "{} was not built: is there a tests/programs/{project}/src/bin/{name}.rs?",
            path.display()
        ))
    }
}

fn cargo_build_rust(target: RustTarget) -> BuildResult {
    cargo_build(target, "rust", &guests_dir().join(target.target_dir()))
}

/// `cargo build --release` of the project tests/programs/PROJECT for `target`, into
/// `target_dir`; returns where the .wasm files are.
fn cargo_build(target: RustTarget, project: &str, target_dir: &Path) -> BuildResult {
    let triple = target.triple();
    let manifest = programs_dir().join(project).join("Cargo.toml");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(&cargo);
    cmd.args(["build", "--release", "--target", triple, "--manifest-path"])
        .arg(&manifest)
        .arg("--target-dir")
        .arg(target_dir);
    // Settings meant for the outer (host) build must not leak into the guest build.
    for var in [
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_BUILD_TARGET_DIR",
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_MAKEFLAGS",
        "MAKEFLAGS",
        "MFLAGS",
    ] {
        cmd.env_remove(var);
    }
    let result = cmd.output().map_err(|e| format!("cannot run {}: {e}", Path::new(&cargo).display()))?;
    if !result.status.success() {
        let stderr = String::from_utf8_lossy(&result.stderr);
        let hint = if stderr.contains(triple)
            && (stderr.contains("not installed") || stderr.contains("can't find crate"))
        {
            format!("\nThe Rust target is missing: run `rustup target add {triple}`.")
        } else {
            format!("\n(If the {triple} target is missing, run `rustup target add {triple}`.)")
        };
        return Err(format!(
            "`cargo build` of {} failed ({}):\n{stderr}{hint}",
            manifest.display(),
            result.status
        ));
    }
    Ok(target_dir.join(triple).join("release"))
}

/// A fresh directory for one test, removed when dropped.
pub struct TestDir {
    dir: tempfile::TempDir,
}

impl TestDir {
    pub fn new() -> TestDir {
        let dir = tempfile::Builder::new().prefix("wasock-test-").tempdir().expect("create a temp dir");
        TestDir { dir }
    }

    /// The temp dir itself (the parent of `sandbox()`, outside any preopen).
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `<temp>/NAME`, created as a directory: the usual preopen.
    pub fn subdir(&self, name: &str) -> PathBuf {
        let path = self.path().join(name);
        std::fs::create_dir_all(&path).expect("create a test subdir");
        path
    }

    /// `<temp>/sandbox`, created.
    pub fn sandbox(&self) -> PathBuf {
        self.subdir("sandbox")
    }
}

/// What the child's stdin is.
enum Input {
    Null,
    Bytes(Vec<u8>),
    /// A pipe that stays open but never gets data, until the child ends.
    Silent,
}

/// A `wasock` command line being built: options, then the module, then the guest's args.
pub struct Wasock {
    options: Vec<OsString>,
    module: Option<OsString>,
    guest_args: Vec<OsString>,
    input: Input,
    cwd: Option<PathBuf>,
    env: Vec<(OsString, OsString)>,
    /// A command that runs wasock, e.g. `unshare -n` for a private network namespace.
    wrapper: Vec<OsString>,
}

impl Wasock {
    pub fn new() -> Wasock {
        Wasock {
            options: Vec::new(),
            module: None,
            guest_args: Vec::new(),
            input: Input::Null,
            cwd: None,
            env: Vec::new(),
            wrapper: Vec::new(),
        }
    }

    /// Runs wasock through `command` (e.g. `["unshare", "-n"]`), which gets wasock's path
    /// and arguments after its own.
    pub fn wrapped_in(mut self, command: &[&str]) -> Wasock {
        self.wrapper = command.iter().map(OsString::from).collect();
        self
    }

    /// The process to start: wasock itself, or its wrapper.
    fn command(&self) -> Command {
        match self.wrapper.split_first() {
            None => Command::new(env!("CARGO_BIN_EXE_wasock")),
            Some((program, args)) => {
                let mut cmd = Command::new(program);
                cmd.args(args).arg(env!("CARGO_BIN_EXE_wasock"));
                cmd
            }
        }
    }

    /// A CLI option (goes before the module).
    pub fn opt(mut self, option: impl AsRef<OsStr>) -> Wasock {
        self.options.push(option.as_ref().to_owned());
        self
    }

    /// `--dir=PATH`.
    pub fn dir(self, path: &Path) -> Wasock {
        let mut option = OsString::from("--dir=");
        option.push(path);
        self.opt(option)
    }

    /// The module argument, exactly as given.
    pub fn module(mut self, module: impl AsRef<OsStr>) -> Wasock {
        self.module = Some(module.as_ref().to_owned());
        self
    }

    /// A guest argument (goes after the module).
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Wasock {
        self.guest_args.push(arg.as_ref().to_owned());
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(mut self, args: I) -> Wasock {
        self.guest_args.extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    pub fn stdin(mut self, data: impl Into<Vec<u8>>) -> Wasock {
        self.input = Input::Bytes(data.into());
        self
    }

    /// Gives the guest a stdin pipe that never receives data and is never closed while it runs.
    pub fn silent_stdin(mut self) -> Wasock {
        self.input = Input::Silent;
        self
    }

    pub fn current_dir(mut self, dir: &Path) -> Wasock {
        self.cwd = Some(dir.to_owned());
        self
    }

    /// An environment variable of the wasock process itself (not of the guest).
    pub fn host_env(mut self, key: &str, value: &str) -> Wasock {
        self.env.push((key.into(), value.into()));
        self
    }

    fn argv(&self) -> Vec<OsString> {
        let mut argv = self.options.clone();
        argv.extend(self.module.clone());
        argv.extend(self.guest_args.iter().cloned());
        argv
    }

    /// Runs the CLI, killing it after RUN_LIMIT.
    pub fn run(self) -> Output {
        let argv = self.argv();
        let mut cmd = self.command();
        cmd.args(&argv).stdout(Stdio::piped()).stderr(Stdio::piped());
        cmd.stdin(match self.input {
            Input::Null => Stdio::null(),
            Input::Bytes(_) | Input::Silent => Stdio::piped(),
        });
        if let Some(cwd) = &self.cwd {
            cmd.current_dir(cwd);
        }
        for (key, value) in &self.env {
            cmd.env(key, value);
        }
        let start = Instant::now();
        let mut child = cmd.spawn().expect("start the wasock binary");
        // Held until the child ends, for Input::Silent.
        let mut held_stdin = None;
        let writer = match self.input {
            Input::Bytes(data) => {
                let mut stdin = child.stdin.take().expect("piped stdin");
                Some(thread::spawn(move || {
                    // The guest may exit without reading everything: a broken pipe is fine.
                    let _ = stdin.write_all(&data);
                }))
            }
            Input::Silent => {
                held_stdin = child.stdin.take();
                None
            }
            Input::Null => None,
        };
        let stdout = read_in_background(child.stdout.take().expect("piped stdout"));
        let stderr = read_in_background(child.stderr.take().expect("piped stderr"));
        let (status, timed_out) = wait_with_limit(&mut child, RUN_LIMIT);
        let elapsed = start.elapsed();
        drop(held_stdin);
        if let Some(writer) = writer {
            let _ = writer.join();
        }
        Output {
            argv,
            status,
            timed_out,
            elapsed,
            stdout: String::from_utf8_lossy(&stdout.join().unwrap_or_default()).into_owned(),
            stderr: String::from_utf8_lossy(&stderr.join().unwrap_or_default()).into_owned(),
        }
    }
}

/// A wasock process left running (a server), with its stdout readable line by line.
pub struct Running {
    argv: Vec<OsString>,
    child: Child,
    start: Instant,
    lines: mpsc::Receiver<String>,
    stdout: thread::JoinHandle<Vec<u8>>,
    stderr: thread::JoinHandle<Vec<u8>>,
}

impl Wasock {
    /// Starts the CLI without waiting for it (stdin is /dev/null). Finish it with
    /// [`Running::finish`] or [`Running::kill`]; dropping it kills it.
    pub fn spawn(self) -> Running {
        let argv = self.argv();
        let mut cmd = self.command();
        cmd.args(&argv).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        if let Some(cwd) = &self.cwd {
            cmd.current_dir(cwd);
        }
        for (key, value) in &self.env {
            cmd.env(key, value);
        }
        let start = Instant::now();
        let mut child = cmd.spawn().expect("start the wasock binary");
        let (tx, lines) = mpsc::channel();
        let mut pipe = BufReader::new(child.stdout.take().expect("piped stdout"));
        let stdout = thread::spawn(move || {
            let mut all = Vec::new();
            let mut line = Vec::new();
            while matches!(pipe.read_until(b'\n', &mut line), Ok(n) if n > 0) {
                let _ = tx.send(String::from_utf8_lossy(&line).trim_end().to_string());
                all.append(&mut line);
            }
            all
        });
        let stderr = read_in_background(child.stderr.take().expect("piped stderr"));
        Running { argv, child, start, lines, stdout, stderr }
    }
}

impl Running {
    /// Waits up to `limit` for a stdout line starting with `prefix` and returns the rest of
    /// it. Panics (with everything the process printed) if none comes.
    #[track_caller]
    pub fn wait_for_line(&mut self, prefix: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix(prefix) {
                        return rest.to_string();
                    }
                }
                Err(_) => {
                    let _ = self.child.kill();
                    let output = self.collect(true);
                    panic!("no stdout line starting with {prefix:?} within {limit:?}\n{output}");
                }
            }
        }
    }

    /// Waits for the process to end by itself (killing it after RUN_LIMIT).
    pub fn finish(mut self) -> Output {
        let (_, timed_out) = wait_with_limit(&mut self.child, RUN_LIMIT);
        self.collect(timed_out)
    }

    /// Kills the process and returns what it printed.
    pub fn kill(mut self) -> Output {
        let _ = self.child.kill();
        self.collect(false)
    }

    fn collect(&mut self, timed_out: bool) -> Output {
        let status = self.child.wait().expect("wait for wasock");
        let join = |h: thread::JoinHandle<Vec<u8>>| {
            String::from_utf8_lossy(&h.join().unwrap_or_default()).into_owned()
        };
        let stdout = std::mem::replace(&mut self.stdout, thread::spawn(Vec::new));
        let stderr = std::mem::replace(&mut self.stderr, thread::spawn(Vec::new));
        Output {
            argv: self.argv.clone(),
            status,
            timed_out,
            elapsed: self.start.elapsed(),
            stdout: join(stdout),
            stderr: join(stderr),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_in_background(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut data = Vec::new();
        let _ = pipe.read_to_end(&mut data);
        data
    })
}

fn wait_with_limit(child: &mut Child, limit: Duration) -> (ExitStatus, bool) {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("wait for wasock") {
            return (status, false);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            return (child.wait().expect("wait for the killed wasock"), true);
        }
        thread::sleep(Duration::from_millis(5));
    }
}

/// The result of one CLI run. `Display` shows everything, for assertion messages.
pub struct Output {
    pub argv: Vec<OsString>,
    pub status: ExitStatus,
    /// Killed by the harness after RUN_LIMIT.
    pub timed_out: bool,
    pub elapsed: Duration,
    pub stdout: String,
    pub stderr: String,
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn clip(s: &str) -> &str {
            let mut end = s.len().min(6000);
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            &s[..end]
        }
        writeln!(f, "command: wasock {:?}", self.argv)?;
        writeln!(f, "status: {} (timed out: {}, after {:?})", self.status, self.timed_out, self.elapsed)?;
        writeln!(f, "--- stdout ({} bytes) ---\n{}", self.stdout.len(), clip(&self.stdout))?;
        write!(f, "--- stderr ({} bytes) ---\n{}", self.stderr.len(), clip(&self.stderr))
    }
}

impl Output {
    /// The exit code, or None if a signal ended the process.
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// The run must not have panicked in the host, died of a signal, or hung.
    #[track_caller]
    pub fn assert_no_host_crash(&self) -> &Output {
        assert!(!self.timed_out, "wasock did not finish within {RUN_LIMIT:?}\n{self}");
        assert!(
            self.status.signal().is_none(),
            "wasock died of signal {:?} (a host crash)\n{self}",
            self.status.signal()
        );
        assert_ne!(self.code(), Some(101), "wasock exited with 101, Rust's panic code\n{self}");
        assert!(!self.stderr.contains("panicked"), "the host panicked\n{self}");
        self
    }

    /// Exit code 0.
    #[track_caller]
    pub fn assert_success(&self) -> &Output {
        self.assert_no_host_crash();
        assert_eq!(self.code(), Some(0), "expected exit code 0\n{self}");
        self
    }

    /// A non-zero exit code without a host crash.
    #[track_caller]
    pub fn assert_failure(&self) -> &Output {
        self.assert_no_host_crash();
        assert_ne!(self.code(), Some(0), "expected a non-zero exit code\n{self}");
        self
    }

    /// The exact stdout.
    #[track_caller]
    pub fn assert_stdout(&self, expected: &str) -> &Output {
        if self.stdout != expected {
            panic!(
                "stdout differs\n--- expected ---\n{expected}\n--- diff (- expected, + got) ---\n{}\n{self}",
                line_diff(expected, &self.stdout)
            );
        }
        self
    }

    #[track_caller]
    pub fn assert_stderr_contains(&self, needle: &str) -> &Output {
        assert!(self.stderr.contains(needle), "stderr does not contain {needle:?}\n{self}");
        self
    }

    /// The value of the first stdout line "KEY=VALUE" (VALUE up to the next space).
    #[track_caller]
    pub fn value(&self, key: &str) -> String {
        let prefix = format!("{key}=");
        for line in self.stdout.lines() {
            if let Some(rest) = line.strip_prefix(&prefix) {
                return rest.split(' ').next().unwrap_or("").to_string();
            }
        }
        panic!("no line starting with {prefix:?} in stdout\n{self}");
    }
}

/// A line-by-line comparison that marks lines only in `expected` with - and only in `got` with +.
fn line_diff(expected: &str, got: &str) -> String {
    let expected: Vec<&str> = expected.lines().collect();
    let got: Vec<&str> = got.lines().collect();
    let mut out = String::new();
    for i in 0..expected.len().max(got.len()) {
        match (expected.get(i), got.get(i)) {
            (Some(e), Some(g)) if e == g => out.push_str(&format!("  {e}\n")),
            (e, g) => {
                if let Some(e) = e {
                    out.push_str(&format!("- {e}\n"));
                }
                if let Some(g) = g {
                    out.push_str(&format!("+ {g}\n"));
                }
            }
        }
    }
    out
}
