//! Loading modules and running them.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use wasmtime::component::Component;
use wasmtime::{Config, Engine, ExternType, Linker, Module, Store, Val, ValType};
use wasock_core::socket_abi::{self, Detected, ImportSig, MixedAbis, SocketAbi};
use wasock_core::{Ctx, Exit, Trap, escape};

use crate::bind::{self, GuestMemoryHandle, Host, Unlinked, stop_error};
use crate::cache::CodeCache;
use crate::component::{self, ComponentHost};
use crate::limits::{Budget, DEFAULT_MAX_TABLE_ELEMENTS, Limiter};
use crate::{pthread, threads};

/// Engine settings.
#[derive(Clone, Debug)]
pub struct RuntimeConfig {
    /// Stop the guest after this long, even when it is blocked in a host call.
    pub timeout: Option<Duration>,
    /// The most native stack wasm frames may use, in bytes (wasmtime's default when `None`).
    pub max_wasm_stack: Option<usize>,
    /// The most threads a wasi-threads guest may run at once besides its main thread
    /// (`thread-spawn` fails past it). Default [`DEFAULT_MAX_THREADS`].
    pub max_threads: u32,
    /// Keep compiled programs in this directory (an absolute path) and reuse them. Each entry
    /// is keyed by the program's bytes, the engine's version and its settings, so a changed
    /// program or engine never loads stale code. `None`: compile every time.
    pub cache_dir: Option<PathBuf>,
    /// The most bytes of linear memory the instance may hold in all, every memory of every
    /// thread counted (`memory.grow` fails past it, as when the host is out of memory; a
    /// module whose initial memories exceed it cannot start). `None`: 4 GiB, wasm32's
    /// address space.
    pub max_memory: Option<usize>,
    /// The most table elements one store (the instance, or one of its threads) may hold in
    /// all its tables (`table.grow` fails past it). Default [`DEFAULT_MAX_TABLE_ELEMENTS`].
    pub max_table_elements: usize,
}

/// The memory cap when none is given: wasm32's whole address space.
const DEFAULT_MAX_MEMORY: usize = 4 << 30;

/// Threads a guest may spawn by default: enough for a thread-per-connection server with
/// dozens of clients, few enough to bound what a guest can take.
pub const DEFAULT_MAX_THREADS: u32 = 64;

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            timeout: None,
            max_wasm_stack: None,
            max_threads: DEFAULT_MAX_THREADS,
            cache_dir: None,
            max_memory: None,
            max_table_elements: DEFAULT_MAX_TABLE_ELEMENTS,
        }
    }
}

/// Why a guest did not run to an exit status.
#[derive(Debug)]
pub enum Error {
    /// The file could not be read or is not a wasm module.
    Load {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The module or component could not be instantiated or has no entry point.
    Instantiate(String),
    /// The guest trapped; the message includes the wasm backtrace.
    Trap(String),
    /// The guest ran past [`RuntimeConfig::timeout`].
    Timeout(Duration),
    /// An `-f` argument did not fit the function.
    BadArguments(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // wasmtime's one-line messages may quote names from the module: escaped.
            Error::Load { path, reason } => {
                write!(f, "cannot load {}: {}", path.display(), escape::guest_text(reason))
            }
            Error::Instantiate(m) => write!(f, "cannot start the program: {}", escape::guest_text(m)),
            Error::Trap(m) => write!(f, "the guest trapped: {m}"),
            Error::Timeout(t) => {
                write!(f, "the guest was stopped after the --timeout of {} ms", t.as_millis())
            }
            Error::BadArguments(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

/// Configured engines and the host functions of every socket ABI and of WASI preview 2.
/// Reusable: load and run any number of programs with it.
pub struct Runtime {
    /// The engines, by [`Epochs`], each made when a program first needs it.
    engines: [Lazy<Engine>; 2],
    /// Per engine, one linker per socket ABI, made when a module of that ABI first runs.
    linkers: [[Lazy<Linker<Host>>; 4]; 2],
    /// Per engine, the linker of components, made when the first one runs.
    component_linkers: [Lazy<wasmtime::component::Linker<ComponentHost>>; 2],
    /// The compiled-code cache both engines share.
    cache: Option<CodeCache>,
    config: RuntimeConfig,
}

/// Something made on first use, or why it could not be.
type Lazy<T> = OnceLock<Result<T, String>>;

/// Whether a program's compiled code checks the engine's epoch. Epoch checks let the host
/// stop wasm code that never calls it (on `--timeout`, and in every thread when one exits or
/// traps), and cost up to 40 % in tight loops; so a program gets them only when something
/// may need to stop it: a timeout is set, or it runs threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Epochs {
    On = 0,
    Off = 1,
}

/// A compiled program: a core module (WASI preview 1 and a socket ABI) or a component
/// (WASI preview 2, `wasi:sockets` included). [`Runtime::load_file`] tells them apart by
/// the binary's header.
#[derive(Clone)]
pub enum Program {
    /// A core WebAssembly module.
    Module(Module),
    /// A component of the component model.
    Component(Component),
}

impl Program {
    /// The core module, if this is one.
    pub fn module(&self) -> Option<&Module> {
        match self {
            Program::Module(m) => Some(m),
            Program::Component(_) => None,
        }
    }
}

/// How a run ended normally.
enum Ended {
    Exit(i32),
    Results(Vec<Val>),
}

impl Runtime {
    /// A runtime with wasock's settings. Fails only for a cache directory that cannot be used.
    pub fn new(config: &RuntimeConfig) -> Result<Runtime, Error> {
        let cache = match &config.cache_dir {
            Some(dir) => Some(CodeCache::new(dir).map_err(Error::Instantiate)?),
            None => None,
        };
        Ok(Runtime {
            engines: Default::default(),
            linkers: Default::default(),
            component_linkers: Default::default(),
            cache,
            config: config.clone(),
        })
    }

    /// The engine whose code checks epochs or not, made on first use.
    fn engine(&self, epochs: Epochs) -> Result<&Engine, Error> {
        let made = self.engines[epochs as usize].get_or_init(|| {
            let mut wt = Config::new();
            // Each store checks its own instance's state when the epoch ticks, so programs
            // sharing an engine do not stop each other.
            wt.epoch_interruption(epochs == Epochs::On);
            wt.wasm_threads(true);
            wt.shared_memory(true);
            if let Some(stack) = self.config.max_wasm_stack {
                // wasmtime requires room for the same stack on its (unused) async fibers.
                wt.async_stack_size(stack.saturating_add(1 << 20));
                wt.max_wasm_stack(stack);
            }
            Engine::new(&wt).map_err(|e| format!("{e:#}"))
        });
        made.as_ref().map_err(|e| Error::Instantiate(e.clone()))
    }

    /// Which of the runtime's engines `engine` is.
    fn epochs_of(&self, engine: &Engine) -> Epochs {
        match self.engines[Epochs::Off as usize].get() {
            Some(Ok(off)) if Engine::same(off, engine) => Epochs::Off,
            _ => Epochs::On,
        }
    }

    /// Whether a program loaded now must be stoppable while it runs wasm code: with a
    /// timeout, or when `binary` is a threaded module.
    fn epochs_for(&self, binary: &[u8]) -> Epochs {
        match self.config.timeout.is_some() || runs_threads(binary) {
            true => Epochs::On,
            false => Epochs::Off,
        }
    }

    /// The socket ABI `module` was built for, chosen by its imports (see
    /// [`wasock_core::socket_abi`]), or why it has none: it names two.
    pub fn socket_abi(&self, module: &Module) -> Result<Detected, MixedAbis> {
        socket_abi::detect(module.imports().filter_map(|import| match import.ty() {
            ExternType::Func(f) => {
                Some(ImportSig { module: import.module(), name: import.name(), params: f.params().len() })
            }
            _ => None,
        }))
    }

    /// A linker, for `engine`, with the host functions a module of socket ABI `abi` gets.
    fn linker(&self, engine: &Engine, abi: SocketAbi) -> Result<Linker<Host>, Error> {
        let slot = &self.linkers[self.epochs_of(engine) as usize][abi as usize];
        let made = slot.get_or_init(|| {
            let mut linker = Linker::new(engine);
            bind::add_to_linker(&mut linker, abi).map(|()| linker).map_err(|e| format!("{e:#}"))
        });
        made.clone().map_err(Error::Instantiate)
    }

    /// Compiles a `.wasm` (or `.wat`) file: a core module or a component.
    pub fn load_file(&self, path: &Path) -> Result<Program, Error> {
        let bytes = std::fs::read(path)
            .map_err(|e| Error::Load { path: path.to_path_buf(), reason: e.to_string() })?;
        self.load_bytes(&bytes, path)
    }

    /// Compiles a program held in memory (a `.wasm` or `.wat` text), as [`Runtime::load_file`]
    /// does a file's; `path` is only what a load error names (an OCI layer's, say).
    pub fn load_bytes(&self, bytes: &[u8], path: &Path) -> Result<Program, Error> {
        let load_err = |reason: String| Error::Load { path: path.to_path_buf(), reason };
        let looks_like_wat = bytes.iter().take_while(|b| b.is_ascii_whitespace()).count() < bytes.len()
            && matches!(bytes.iter().find(|b| !b.is_ascii_whitespace()), Some(b'(' | b';'));
        if !bytes.starts_with(b"\0asm") && !looks_like_wat {
            return Err(load_err(
                "not a WebAssembly module (a .wasm file starts with the bytes \\0asm)".to_string(),
            ));
        }
        let binary = if bytes.starts_with(b"\0asm") {
            std::borrow::Cow::Borrowed(bytes)
        } else {
            std::borrow::Cow::Owned(
                wat::parse_bytes(bytes).map_err(|e| load_err(format!("{e:#}")))?.into_owned(),
            )
        };
        let engine = self.engine(self.epochs_for(&binary))?;
        if wasmparser::Parser::is_component(&binary) {
            let component = match &self.cache {
                Some(cache) => cache.component(engine, &binary),
                None => Component::new(engine, &binary),
            };
            return Ok(Program::Component(component.map_err(|e| load_err(format!("{e:#}")))?));
        }
        // A threaded module may need rewriting to run one instance per thread (prepare.rs).
        let prepared = crate::prepare::prepare(&binary).map_err(load_err)?;
        let module = match &self.cache {
            Some(cache) => cache.module(engine, &prepared),
            None => Module::new(engine, &prepared),
        };
        let module = module.map_err(|e| load_err(format!("{e:#}")))?;
        self.socket_abi(&module).map_err(|mixed| load_err(mixed.to_string()))?;
        Ok(Program::Module(module))
    }

    /// The function imports of `module` that wasock does not provide (they trap if called).
    pub fn unlinked_imports(&self, module: &Module) -> Vec<Unlinked> {
        let Ok(cx) = wasock_core::CtxBuilder::new().build() else { return Vec::new() };
        let mut store = new_store(module.engine(), &Arc::new(cx), None, &self.budget());
        let Ok(abi) = self.socket_abi(module) else { return Vec::new() };
        let Ok(mut linker) = self.linker(module.engine(), abi.abi) else { return Vec::new() };
        if pthread::imports_lib_pthread(module) {
            let budget = self.budget();
            let _ = pthread::PthreadLib::install(
                &mut linker,
                module.engine(),
                &store.data().cx.clone(),
                None,
                &budget,
                0,
            );
        }
        bind::stub_unlinked(&mut linker, &mut store, module).unwrap_or_default()
    }

    /// Runs a program and returns its exit status. A command module's `_start` (after
    /// `_initialize` for a reactor): 0 when it returns, else the `proc_exit` code. A
    /// component's `wasi:cli/run`: 0 when it returns ok, 1 when err, else the
    /// `exit-with-code` code. A component's stdio is always the host's (see SECURITY.md).
    pub fn run(&self, program: &Program, cx: Ctx) -> Result<i32, Error> {
        match program {
            Program::Module(module) => match self.execute(module, cx, None)? {
                Ended::Exit(code) => Ok(code),
                Ended::Results(_) => Ok(0),
            },
            Program::Component(component) => self.run_component(component, cx),
        }
    }

    fn run_component(&self, component: &Component, cx: Ctx) -> Result<i32, Error> {
        let engine = component.engine();
        let linker = self.component_linkers[self.epochs_of(engine) as usize]
            .get_or_init(|| component::linker(engine).map_err(|e| format!("{e:#}")))
            .clone()
            .map_err(Error::Instantiate)?;
        let cx = Arc::new(cx);
        let watchdog = self.config.timeout.map(|t| Watchdog::start(engine.clone(), cx.clone(), t));
        let result = component::run(engine, &linker, component, cx, &self.budget(), self.config.timeout);
        match watchdog.is_some_and(Watchdog::stop) {
            true => Err(Error::Timeout(self.config.timeout.unwrap_or_default())),
            false => result,
        }
    }

    /// Calls the export `name` of a module with arguments parsed from text by its parameter
    /// types, as iwasm's `-f` does, and returns its results. Components have no such calls.
    pub fn call(&self, program: &Program, cx: Ctx, name: &str, args: &[String]) -> Result<Vec<Val>, Error> {
        let Program::Module(module) = program else {
            return Err(Error::BadArguments(format!(
                "-f {name}: a component is run through wasi:cli/run; -f calls functions of core modules only"
            )));
        };
        match self.execute(module, cx, Some((name, args)))? {
            Ended::Results(r) => Ok(r),
            Ended::Exit(code) => Err(Error::Trap(format!("the function exited with status {code}"))),
        }
    }

    /// A fresh budget for one instance.
    fn budget(&self) -> Arc<Budget> {
        Budget::new(self.config.max_memory.unwrap_or(DEFAULT_MAX_MEMORY), self.config.max_table_elements)
    }

    fn execute(&self, module: &Module, cx: Ctx, call: Option<(&str, &[String])>) -> Result<Ended, Error> {
        let setup = |e: wasmtime::Error| Error::Instantiate(format!("{e:#}"));
        let cx = Arc::new(cx);
        let abi = self.socket_abi(module).map_err(|mixed| Error::Instantiate(mixed.to_string()))?;
        cx.set_socket_abi(abi.abi.name());
        let engine = module.engine();
        let mut linker = self.linker(engine, abi.abi)?;
        let budget = self.budget();
        let shared = threads::shared_memory_import(engine, module, &budget).map_err(setup)?;
        let memory = shared.as_ref().map(|(_, _, m)| GuestMemoryHandle::Shared(m.clone()));
        let mut store = new_store(engine, &cx, memory.clone(), &budget);
        if let Some((module_name, name, mem)) = &shared {
            linker.define(&store, module_name, name, mem.clone()).map_err(setup)?;
        }
        let spawner = match &shared {
            Some((_, _, mem)) if threads::imports_thread_spawn(module) => Some(
                threads::Spawner::install(
                    &mut linker,
                    engine,
                    &cx,
                    mem.clone(),
                    &budget,
                    self.config.max_threads,
                )
                .map_err(setup)?,
            ),
            _ => None,
        };
        let pthreads = match pthread::imports_lib_pthread(module) {
            true => Some(
                pthread::PthreadLib::install(
                    &mut linker,
                    engine,
                    &cx,
                    shared.as_ref().map(|(_, _, m)| m.clone()),
                    &budget,
                    self.config.max_threads,
                )
                .map_err(setup)?,
            ),
            false => None,
        };
        bind::stub_unlinked(&mut linker, &mut store, module).map_err(setup)?;
        if let Some(pthreads) = &pthreads {
            pthreads.set_instance_pre(linker.instantiate_pre(module).map_err(setup)?);
            pthreads.set_stack_size(thread_stack_size(self.config.max_wasm_stack));
        }
        if let Some(spawner) = &spawner {
            spawner.set_instance_pre(linker.instantiate_pre(module).map_err(setup)?);
            spawner.set_stack_size(thread_stack_size(self.config.max_wasm_stack));
        }
        let watchdog = self.config.timeout.map(|t| Watchdog::start(engine.clone(), cx.clone(), t));
        // A caller's thread may have too little native stack for a large --stack-size.
        let big_stack = self.config.max_wasm_stack.is_some_and(|s| s > 4 << 20);
        let result = if spawner.is_some() || pthreads.is_some() || big_stack {
            let (module, call) = (module.clone(), call.map(|(n, a)| (n.to_string(), a.to_vec())));
            let stack = thread_stack_size(self.config.max_wasm_stack);
            run_beside(&cx, stack, move || {
                let call = call.as_ref().map(|(n, a)| (n.as_str(), a.as_slice()));
                instantiate_and_call(&mut linker, &mut store, &module, memory, call)
            })
        } else {
            instantiate_and_call(&mut linker, &mut store, module, memory, call)
        };
        let timed_out = watchdog.is_some_and(Watchdog::stop);
        let stopped_before = cx.interrupt.check();
        // The main thread is done: whatever other threads remain must stop too.
        stop_instance(engine, &cx, wasock_core::Error::Exit(Exit(0)));
        let result = result.map_err(|e| match stopped_before {
            // Another thread exited or trapped first: that is the program's outcome.
            Err(wasock_core::Error::Exit(exit)) if e.downcast_ref::<Exit>().is_none() => {
                wasmtime::Error::new(exit)
            }
            _ => e,
        });
        if timed_out {
            // Whatever the guest did after the watchdog fired (returned, exited 0), the run
            // hit its --timeout.
            return Err(Error::Timeout(self.config.timeout.unwrap_or_default()));
        }
        match result {
            Ok(ended) => Ok(ended),
            Err(e) => match e.downcast_ref::<Exit>() {
                Some(exit) => Ok(Ended::Exit(exit.0)),
                None if e.is::<CannotStart>() => Err(Error::Instantiate(e.to_string())),
                None if e.is::<BadArguments>() => Err(Error::BadArguments(e.to_string())),
                None => Err(Error::Trap(describe_trap(&e))),
            },
        }
    }
}

/// Whether a core module runs threads: it imports wasi-threads' `thread-spawn` or WAMR's
/// lib-pthread, or has a shared memory. What cannot be parsed counts as threaded (it fails
/// to compile anyway); a component never is.
fn runs_threads(binary: &[u8]) -> bool {
    use wasmparser::{Parser, Payload, TypeRef};
    if Parser::is_component(binary) {
        return false;
    }
    for payload in Parser::new(0).parse_all(binary) {
        let threaded = match payload {
            Ok(Payload::ImportSection(imports)) => imports.into_imports().any(|import| match import {
                Ok(i) => match i.ty {
                    TypeRef::Memory(m) => m.shared,
                    TypeRef::Func(_) => {
                        (i.module == "wasi" && i.name == "thread-spawn")
                            || (i.module == "env" && pthread::is_lib_pthread(i.name))
                    }
                    _ => false,
                },
                Err(_) => true,
            }),
            Ok(Payload::MemorySection(memories)) => {
                memories.into_iter().any(|m| m.map_or(true, |m| m.shared))
            }
            Ok(Payload::CodeSectionStart { .. }) => return false,
            Ok(_) => false,
            Err(_) => true,
        };
        if threaded {
            return true;
        }
    }
    false
}

fn instantiate_and_call(
    linker: &mut Linker<Host>,
    store: &mut Store<Host>,
    module: &Module,
    memory: Option<GuestMemoryHandle>,
    call: Option<(&str, &[String])>,
) -> wasmtime::Result<Ended> {
    let instance = linker
        .instantiate(&mut *store, module)
        .map_err(|e| wasmtime::Error::msg(CannotStart(format!("{e:#}"))))?;
    store.data_mut().memory = memory.or_else(|| {
        instance
            .get_memory(&mut *store, "memory")
            .map(GuestMemoryHandle::Plain)
            .or_else(|| instance.get_shared_memory(&mut *store, "memory").map(GuestMemoryHandle::Shared))
    });
    if let Some(init) = instance.get_func(&mut *store, "_initialize")
        && (call.is_some() || instance.get_func(&mut *store, "_start").is_none())
    {
        init.call(&mut *store, &[], &mut [])?;
    }
    let (name, args) = call.unwrap_or(("_start", &[]));
    let Some(func) = instance.get_func(&mut *store, name) else {
        let hint = if call.is_some() { "" } else { "; use -f NAME to call one of its exports" };
        return Err(wasmtime::Error::msg(CannotStart(format!(
            "the module exports no function named {name}{hint}"
        ))));
    };
    let ty = func.ty(&*store);
    let params: Vec<ValType> = ty.params().collect();
    if params.len() != args.len() {
        return Err(wasmtime::Error::msg(BadArguments(format!(
            "{name} takes {} argument(s) but {} were given",
            params.len(),
            args.len()
        ))));
    }
    let vals = params
        .iter()
        .zip(args)
        .map(|(t, a)| parse_val(t, a))
        .collect::<Result<Vec<Val>, String>>()
        .map_err(|m| wasmtime::Error::msg(BadArguments(m)))?;
    let mut results = vec![Val::I32(0); ty.results().len()];
    func.call(&mut *store, &vals, &mut results)?;
    Ok(Ended::Results(results))
}

/// Marks an error as "the module could not start" (not a trap), for [`Error::Instantiate`].
#[derive(Debug)]
struct CannotStart(String);

/// Marks an error as "the `-f` arguments do not fit", for [`Error::BadArguments`].
#[derive(Debug)]
struct BadArguments(String);

macro_rules! message_display {
    ($($t:ident),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    )*};
}
message_display!(CannotStart, BadArguments);

/// The trap's message, then where the guest was. Module and function names come from the
/// guest's binary, so a backtrace whose names are not plain text is written with them
/// escaped, one frame a line, instead of wasmtime's (demangling) rendering.
pub(crate) fn describe_trap(e: &wasmtime::Error) -> String {
    let message = match (e.downcast_ref::<Trap>(), e.downcast_ref::<wasmtime::Trap>()) {
        // wasock's own message: guest text in it was escaped where it was written.
        (Some(t), _) => t.to_string(),
        (None, Some(code)) => code.to_string(),
        (None, None) => escape::guest_text(e.root_cause().to_string()),
    };
    let Some(bt) = e.downcast_ref::<wasmtime::WasmBacktrace>() else { return message };
    let plain = |name: Option<&str>| name.is_none_or(|n| escape::guest_text(n) == n);
    if bt.frames().iter().all(|f| plain(f.func_name()) && plain(f.module().name())) {
        return format!("{message}\n{bt}");
    }
    let mut out = format!("{message}\nerror while executing at wasm backtrace:");
    for (i, frame) in bt.frames().iter().enumerate() {
        let offset = frame.module_offset().map(|o| format!("{o:#8x} - ")).unwrap_or_default();
        let module = escape::guest_text(frame.module().name().unwrap_or("<unknown>"));
        let func = match frame.func_name() {
            Some(name) => escape::guest_text(name),
            None => format!("<wasm function {}>", frame.func_index()),
        };
        out.push_str(&format!("\n  {i:>3}: {offset}{module}!{func}"));
    }
    out
}

/// Parses one `-f` argument for a parameter of type `ty`.
fn parse_val(ty: &ValType, text: &str) -> Result<Val, String> {
    let bad = |what: &str| format!("argument '{text}' is not {what}");
    fn int<T: TryFrom<i128>>(text: &str) -> Option<T> {
        let t = text.trim();
        let (neg, digits) = match t.strip_prefix('-') {
            Some(d) => (true, d),
            None => (false, t),
        };
        let v = match digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
            Some(hex) => i128::from_str_radix(hex, 16).ok()?,
            None => digits.parse::<i128>().ok()?,
        };
        T::try_from(if neg { -v } else { v }).ok()
    }
    Ok(match ty {
        // iwasm accepts unsigned spellings too (e.g. 4294967295 for -1).
        ValType::I32 => Val::I32(
            int::<i32>(text).or_else(|| int::<u32>(text).map(|v| v as i32)).ok_or_else(|| bad("an i32"))?,
        ),
        ValType::I64 => Val::I64(
            int::<i64>(text).or_else(|| int::<u64>(text).map(|v| v as i64)).ok_or_else(|| bad("an i64"))?,
        ),
        ValType::F32 => Val::F32(text.trim().parse::<f32>().map_err(|_| bad("an f32"))?.to_bits()),
        ValType::F64 => Val::F64(text.trim().parse::<f64>().map_err(|_| bad("an f64"))?.to_bits()),
        other => return Err(format!("parameters of type {other} cannot be given on the command line")),
    })
}

/// Formats a result as iwasm does: `0x2a:i32`, `1.5:f64`.
pub fn format_val(v: &Val) -> String {
    match v {
        Val::I32(i) => format!("{:#x}:i32", *i as u32),
        Val::I64(i) => format!("{:#x}:i64", *i as u64),
        Val::F32(b) => format!("{}:f32", f32::from_bits(*b)),
        Val::F64(b) => format!("{}:f64", f64::from_bits(*b)),
        other => format!("{other:?}"),
    }
}

/// Stops a guest after its timeout: wasm code through the epoch, host calls through the
/// instance's interrupt.
struct Watchdog {
    done: mpsc::Sender<()>,
    thread: std::thread::JoinHandle<bool>,
}

impl Watchdog {
    fn start(engine: Engine, cx: Arc<Ctx>, timeout: Duration) -> Watchdog {
        let (done, finished) = mpsc::channel::<()>();
        let thread = std::thread::spawn(move || match finished.recv_timeout(timeout) {
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let ms = timeout.as_millis();
                stop_instance(
                    &engine,
                    &cx,
                    wasock_core::Error::Trap(Trap(format!("stopped by --timeout={ms}"))),
                );
                true
            }
            _ => false,
        });
        Watchdog { done, thread }
    }

    /// Ends the watchdog; true if it had fired.
    fn stop(self) -> bool {
        let _ = self.done.send(());
        self.thread.join().unwrap_or(false)
    }
}

/// A store for one thread of an instance. When the engine's epoch ticks, the store checks
/// its instance: once stopped, the thread's wasm code traps with the stop reason.
pub(crate) fn new_store(
    engine: &Engine,
    cx: &Arc<Ctx>,
    memory: Option<GuestMemoryHandle>,
    budget: &Arc<Budget>,
) -> Store<Host> {
    let limits = Limiter::new(budget.clone());
    let mut store = Store::new(engine, Host { cx: cx.clone(), memory, limits });
    store.limiter(|host| &mut host.limits);
    stop_with_instance(&mut store, cx);
    store
}

/// Makes wasm code in `store` trap with the instance's stop reason at the first epoch tick
/// after the instance is stopped.
pub(crate) fn stop_with_instance<T>(store: &mut Store<T>, cx: &Arc<Ctx>) {
    store.set_epoch_deadline(1);
    let watched = cx.clone();
    store.epoch_deadline_callback(move |_| match watched.interrupt.check() {
        Ok(()) => Ok(wasmtime::UpdateDeadline::Continue(1)),
        Err(reason) => Err(stop_error(reason)),
    });
}

/// Stops every thread of an instance: host calls through its interrupt, wasm code through
/// the epoch. The first reason given wins.
pub(crate) fn stop_instance(engine: &Engine, cx: &Ctx, reason: wasock_core::Error) {
    cx.interrupt.trigger(reason);
    engine.increment_epoch();
}

/// How long a stopped main thread gets to unwind by itself before the run ends without it.
const MAIN_THREAD_GRACE: Duration = Duration::from_millis(200);

/// A native stack comfortably larger than what wasm frames may use (wasmtime's default
/// `max_wasm_stack` is 512 KiB), for the OS threads that run guest threads.
pub(crate) fn thread_stack_size(max_wasm_stack: Option<usize>) -> usize {
    max_wasm_stack.unwrap_or(512 * 1024).saturating_add(8 << 20)
}

/// Runs the main thread of a threaded guest on an OS thread of its own and waits for it to
/// finish or for the instance to stop. A thread parked in `memory.atomic.wait` (a
/// `pthread_join`, a mutex) cannot be woken by anything but a notify on its address, so
/// after a stop (an exit or trap in another thread, `--timeout`) the run ends with the stop
/// reason and leaves such a thread parked; the CLI then exits the process.
fn run_beside(
    cx: &Ctx,
    stack_size: usize,
    main: impl FnOnce() -> wasmtime::Result<Ended> + Send + 'static,
) -> wasmtime::Result<Ended> {
    let (done, finished) = mpsc::channel();
    std::thread::Builder::new()
        .name("wasm-main".into())
        .stack_size(stack_size)
        .spawn(move || {
            let _ = done.send(main());
        })
        .map_err(|e| {
            wasmtime::Error::msg(CannotStart(format!("cannot start the guest's main thread: {e}")))
        })?;
    loop {
        match finished.recv_timeout(Duration::from_millis(20)) {
            Ok(result) => return result,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(wasmtime::Error::msg("the guest's main thread ended without a result"));
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        if let Err(reason) = cx.interrupt.check() {
            return finished.recv_timeout(MAIN_THREAD_GRACE).unwrap_or_else(|_| Err(stop_error(reason)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module that makes a host call the watchdog cannot cut short, then returns or exits 0.
    fn after_a_slow_host_call(runtime: &mut Runtime, then: &str) -> Module {
        let binary = wat::parse_str(format!(
            r#"(module
                (import "test" "sleep_uninterruptibly" (func $sleep))
                (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
                (memory (export "memory") 1)
                (func (export "_start") (call $sleep) {then}))"#
        ))
        .expect("valid WAT");
        // The engine `load_file` would choose for this module.
        let epochs = runtime.epochs_for(&binary);
        let engine = runtime.engine(epochs).expect("an engine").clone();
        let mut linker = runtime.linker(&engine, SocketAbi::Wasi).expect("a linker");
        linker
            .func_wrap("test", "sleep_uninterruptibly", || std::thread::sleep(Duration::from_millis(300)))
            .expect("define the test import");
        runtime.linkers[epochs as usize][SocketAbi::Wasi as usize] = OnceLock::from(Ok(linker));
        Module::new(&engine, binary).expect("compile the test module")
    }

    #[test]
    fn only_programs_that_may_need_stopping_get_epoch_checks() {
        let wat = |text: &str| wat::parse_str(text).expect("valid WAT");
        let plain = wat(r#"(module (memory 1) (func (export "_start")))"#);
        let spawns = wat(r#"(module (import "wasi" "thread-spawn" (func (param i32) (result i32))))"#);
        let pthreads =
            wat(r#"(module (import "env" "pthread_create" (func (param i32 i32 i32 i32) (result i32))))"#);
        let shared = wat(r#"(module (memory 1 1 shared))"#);
        let imports_shared = wat(r#"(module (import "env" "memory" (memory 1 1 shared)))"#);
        assert!(!runs_threads(&plain));
        for threaded in [&spawns, &pthreads, &shared, &imports_shared] {
            assert!(runs_threads(threaded));
        }
        assert!(runs_threads(b"\0asm garbage"), "what cannot be parsed is taken as threaded");

        let free = Runtime::new(&RuntimeConfig::default()).expect("runtime");
        assert_eq!(free.epochs_for(&plain), Epochs::Off);
        assert_eq!(free.epochs_for(&spawns), Epochs::On);
        let timed = RuntimeConfig { timeout: Some(Duration::from_secs(1)), ..RuntimeConfig::default() };
        assert_eq!(Runtime::new(&timed).expect("runtime").epochs_for(&plain), Epochs::On);

        // A module is run with the linkers of the engine that compiled it.
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("plain.wasm");
        std::fs::write(&path, &plain).expect("write the module");
        let Program::Module(module) = free.load_file(&path).expect("load") else { panic!("a module") };
        assert_eq!(free.epochs_of(module.engine()), Epochs::Off);
        let cx = wasock_core::CtxBuilder::new().build().expect("ctx");
        assert_eq!(free.run(&Program::Module(module), cx).expect("run"), 0);
    }

    #[test]
    fn a_run_that_hit_its_timeout_fails_whatever_the_guest_does_next() {
        let config = RuntimeConfig { timeout: Some(Duration::from_millis(50)), ..RuntimeConfig::default() };
        for then in ["(call $exit (i32.const 0))", ""] {
            let mut runtime = Runtime::new(&config).expect("runtime");
            let module = after_a_slow_host_call(&mut runtime, then);
            let cx = wasock_core::CtxBuilder::new().build().expect("ctx");
            match runtime.run(&Program::Module(module), cx) {
                Err(Error::Timeout(t)) => assert_eq!(t, Duration::from_millis(50)),
                other => panic!("{then:?}: expected the timeout, got {other:?}"),
            }
        }
        // The control: without a timeout the same module ends with status 0.
        let mut runtime = Runtime::new(&RuntimeConfig::default()).expect("runtime");
        let module = after_a_slow_host_call(&mut runtime, "(call $exit (i32.const 0))");
        let cx = wasock_core::CtxBuilder::new().build().expect("ctx");
        assert_eq!(runtime.run(&Program::Module(module), cx).expect("run"), 0);
    }
}
