//! WAMR's lib-pthread (`env.pthread_*`), the wasmtime half: what a module built the way
//! WAMR's samples build it (wasm32-wasi with WAMR's `pthread.h`, `--shared-memory`,
//! `--allow-undefined`) imports instead of wasi-threads.
//!
//! Threads run as wasi-threads do here (see `threads.rs`): an OS thread with its own store
//! and instance of the module, the one shared memory and the instance's `Ctx`. Where
//! wasi-threads guests start themselves (`wasi_thread_start` sets their stack pointer),
//! a lib-pthread thread is started by the host: it gets a stack of its own (the size the
//! linker gave the main thread, carved from pages the host adds to the shared memory and
//! reused after the thread ends), its stack pointer set to it, and its start routine called
//! through the function table with its argument. `prepare.rs` exports the table, the stack
//! pointer and the stack size for this. The state of threads, mutexes, condition variables
//! and keys is `wasock_core::pthread::Registry`; docs/wamr-pthread-abi.md has the ABI.

use std::cell::Cell;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use wasmtime::{Caller, Engine, Extern, InstancePre, Linker, Module, SharedMemory, Val};
use wasock_core::pthread::{Handle, MAIN_THREAD, Registry, status};
use wasock_core::{Ctx, Errno, Exit, Trap};

use crate::bind::{GuestMemoryHandle, Host, split, stop_error};
use crate::limits::Budget;
use crate::prepare::{
    MAX_THREAD_STACK, MIN_THREAD_STACK, STACK_POINTER_EXPORT, STACK_SIZE_EXPORT, TABLE_EXPORT,
};
use crate::run::{describe_trap, new_store, stop_instance};

/// The `env` functions of WAMR's lib-pthread that wasock provides (WAMR's
/// `native_symbols_lib_pthread` without `posix_memalign` and the semaphores).
const PROVIDED: [&str; 21] = [
    "pthread_create",
    "pthread_join",
    "pthread_detach",
    "pthread_cancel",
    "pthread_self",
    "__pthread_self",
    "pthread_exit",
    "pthread_mutex_init",
    "pthread_mutex_lock",
    "pthread_mutex_unlock",
    "pthread_mutex_destroy",
    "pthread_cond_init",
    "pthread_cond_wait",
    "pthread_cond_timedwait",
    "pthread_cond_signal",
    "pthread_cond_broadcast",
    "pthread_cond_destroy",
    "pthread_key_create",
    "pthread_setspecific",
    "pthread_getspecific",
    "pthread_key_delete",
];

/// Whether `name` (imported from `env`) is a lib-pthread function wasock provides.
pub(crate) fn is_lib_pthread(name: &str) -> bool {
    PROVIDED.contains(&name)
}

/// Whether the module imports any of them.
pub(crate) fn imports_lib_pthread(module: &Module) -> bool {
    module.imports().any(|i| i.module() == "env" && is_lib_pthread(i.name()))
}

thread_local! {
    /// The lib-pthread handle of the guest thread this OS thread runs: each guest thread
    /// has an OS thread of its own, and the main thread is 0.
    static CURRENT: Cell<Handle> = const { Cell::new(MAIN_THREAD) };
}

fn current() -> Handle {
    CURRENT.with(Cell::get)
}

/// How `pthread_exit` unwinds its thread: not a trap, the thread's end.
#[derive(Debug)]
struct ThreadExit(u32);

impl fmt::Display for ThreadExit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pthread_exit({:#x})", self.0)
    }
}

impl std::error::Error for ThreadExit {}

/// The lib-pthread functions of one instance.
pub(crate) struct PthreadLib {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    cx: Arc<Ctx>,
    /// The shared memory; `None` for a module whose memory is not shared, which can use
    /// mutexes and keys but cannot start threads.
    memory: Option<SharedMemory>,
    budget: Arc<Budget>,
    registry: Registry,
    instance_pre: OnceLock<InstancePre<Host>>,
    native_stack: OnceLock<usize>,
    /// Stacks of ended threads, for the next ones: (top, bytes).
    free_stacks: Mutex<Vec<(u32, u32)>>,
}

impl PthreadLib {
    /// Defines the lib-pthread functions in `linker` for one instance.
    pub(crate) fn install(
        linker: &mut Linker<Host>,
        engine: &Engine,
        cx: &Arc<Ctx>,
        memory: Option<SharedMemory>,
        budget: &Arc<Budget>,
        max_threads: u32,
    ) -> wasmtime::Result<PthreadLib> {
        let inner = Arc::new(Inner {
            engine: engine.clone(),
            cx: cx.clone(),
            memory,
            budget: budget.clone(),
            registry: Registry::new(max_threads),
            instance_pre: OnceLock::new(),
            native_stack: OnceLock::new(),
            free_stacks: Mutex::new(Vec::new()),
        });
        define(linker, &inner)?;
        Ok(PthreadLib { inner })
    }

    /// What each new thread instantiates; called once the linker is complete.
    pub(crate) fn set_instance_pre(&self, pre: InstancePre<Host>) {
        let _ = self.inner.instance_pre.set(pre);
    }

    /// The native stack of each thread (see `Spawner::set_stack_size`).
    pub(crate) fn set_stack_size(&self, bytes: usize) {
        let _ = self.inner.native_stack.set(bytes);
    }
}

/// Traces one call and turns its result into the wasm result (0 or an errno).
fn finish(cx: &Ctx, call: fmt::Arguments<'_>, result: wasock_core::Result<()>) -> wasmtime::Result<i32> {
    if cx.tracing() {
        let outcome = match &result {
            Ok(()) => "ok".to_string(),
            Err(wasock_core::Error::Errno(e)) => format!("errno {e}"),
            Err(other) => format!("{other:?}"),
        };
        cx.trace(format_args!("{call} -> {outcome}"));
    }
    status(result).map_err(stop_error)
}

/// What a cancelled thread returns (POSIX's `PTHREAD_CANCELED`, `(void *)-1`).
const CANCELED: u32 = u32::MAX;

/// [`finish`] for a call that is a cancellation point: once the calling thread is
/// cancelled, it ends there (as if by `pthread_exit(PTHREAD_CANCELED)`).
fn at_cancel_point(
    cx: &Ctx,
    call: fmt::Arguments<'_>,
    result: wasock_core::Result<()>,
) -> wasmtime::Result<i32> {
    if result == Err(Errno::Canceled.into()) {
        cx.trace(format_args!("{call} -> the thread was cancelled: it ends"));
        return Err(wasmtime::Error::new(ThreadExit(CANCELED)));
    }
    finish(cx, call, result)
}

fn define(linker: &mut Linker<Host>, inner: &Arc<Inner>) -> wasmtime::Result<()> {
    const ENV: &str = "env";
    let i = inner.clone();
    linker.func_wrap(
        ENV,
        "pthread_create",
        move |mut caller: Caller<'_, Host>, thread_ptr: i32, _attr: i32, start: i32, arg: i32| {
            let result = create(&i, &mut caller, thread_ptr as u32, start as u32, arg as u32);
            let result = match result {
                Err(CreateError::Stop(e)) => return Err(e),
                Err(CreateError::Errno(e)) => Err(e.into()),
                Ok(()) => Ok(()),
            };
            finish(&i.cx, format_args!("pthread_create(start {start}, arg {arg:#x})"), result)
        },
    )?;
    let i = inner.clone();
    linker.func_wrap(
        ENV,
        "pthread_join",
        move |mut caller: Caller<'_, Host>, thread: i32, retval: i32| {
            let (mut mem, cx) = split(&mut caller)?;
            let result = i.registry.join(&cx.interrupt, &mut mem, current(), thread as u32, retval as u32);
            at_cancel_point(cx, format_args!("pthread_join({thread})"), result)
        },
    )?;
    let i = inner.clone();
    linker.func_wrap(ENV, "pthread_detach", move |thread: i32| {
        finish(&i.cx, format_args!("pthread_detach({thread})"), i.registry.detach(thread as u32))
    })?;
    let i = inner.clone();
    linker.func_wrap(ENV, "pthread_cancel", move |caller: Caller<'_, Host>, thread: i32| {
        i.registry.cancel(thread as u32);
        // Threads running wasm code look at the request when the epoch ticks.
        caller.engine().increment_epoch();
        finish(&i.cx, format_args!("pthread_cancel({thread})"), Ok(()))
    })?;
    for name in ["pthread_self", "__pthread_self"] {
        linker.func_wrap(ENV, name, || current() as i32)?;
    }
    let i = inner.clone();
    linker.func_wrap(ENV, "pthread_exit", move |retval: i32| -> wasmtime::Result<()> {
        i.cx.trace(format_args!("pthread_exit({:#x})", retval as u32));
        if current() == MAIN_THREAD {
            return Ok(()); // as in WAMR: the main thread cannot exit this way
        }
        Err(wasmtime::Error::new(ThreadExit(retval as u32)))
    })?;

    let i = inner.clone();
    linker.func_wrap(
        ENV,
        "pthread_mutex_init",
        move |mut caller: Caller<'_, Host>, ptr: i32, _attr: i32| {
            let (mut mem, cx) = split(&mut caller)?;
            finish(
                cx,
                format_args!("pthread_mutex_init({ptr:#x})"),
                i.registry.mutex_init(&mut mem, ptr as u32),
            )
        },
    )?;
    let i = inner.clone();
    linker.func_wrap(ENV, "pthread_mutex_lock", move |mut caller: Caller<'_, Host>, ptr: i32| {
        let (mem, cx) = split(&mut caller)?;
        let result = i.registry.mutex_lock(&cx.interrupt, &mem, current(), ptr as u32);
        finish(cx, format_args!("pthread_mutex_lock({ptr:#x})"), result)
    })?;
    let i = inner.clone();
    linker.func_wrap(ENV, "pthread_mutex_unlock", move |mut caller: Caller<'_, Host>, ptr: i32| {
        let (mem, cx) = split(&mut caller)?;
        let result = i.registry.mutex_unlock(&mem, current(), ptr as u32);
        finish(cx, format_args!("pthread_mutex_unlock({ptr:#x})"), result)
    })?;
    let i = inner.clone();
    linker.func_wrap(ENV, "pthread_mutex_destroy", move |mut caller: Caller<'_, Host>, ptr: i32| {
        let (mem, cx) = split(&mut caller)?;
        finish(
            cx,
            format_args!("pthread_mutex_destroy({ptr:#x})"),
            i.registry.mutex_destroy(&mem, ptr as u32),
        )
    })?;

    let i = inner.clone();
    linker.func_wrap(
        ENV,
        "pthread_cond_init",
        move |mut caller: Caller<'_, Host>, ptr: i32, _attr: i32| {
            let (mut mem, cx) = split(&mut caller)?;
            finish(
                cx,
                format_args!("pthread_cond_init({ptr:#x})"),
                i.registry.cond_init(&mut mem, ptr as u32),
            )
        },
    )?;
    let i = inner.clone();
    linker.func_wrap(
        ENV,
        "pthread_cond_wait",
        move |mut caller: Caller<'_, Host>, cond: i32, mutex: i32| {
            let (mem, cx) = split(&mut caller)?;
            let result =
                i.registry.cond_wait(&cx.interrupt, &mem, current(), cond as u32, mutex as u32, None);
            at_cancel_point(cx, format_args!("pthread_cond_wait({cond:#x}, {mutex:#x})"), result)
        },
    )?;
    let i = inner.clone();
    linker.func_wrap(
        ENV,
        "pthread_cond_timedwait",
        move |mut caller: Caller<'_, Host>, cond: i32, mutex: i32, useconds: i64| {
            let (mem, cx) = split(&mut caller)?;
            // WAMR's time argument: microseconds from now (not a timespec).
            let timeout = Some(Duration::from_micros(useconds as u64));
            let result =
                i.registry.cond_wait(&cx.interrupt, &mem, current(), cond as u32, mutex as u32, timeout);
            at_cancel_point(
                cx,
                format_args!("pthread_cond_timedwait({cond:#x}, {mutex:#x}, {} us)", useconds as u64),
                result,
            )
        },
    )?;
    for (name, all) in [("pthread_cond_signal", false), ("pthread_cond_broadcast", true)] {
        let i = inner.clone();
        linker.func_wrap(ENV, name, move |mut caller: Caller<'_, Host>, cond: i32| {
            let (mem, cx) = split(&mut caller)?;
            finish(cx, format_args!("{name}({cond:#x})"), i.registry.cond_wake(&mem, cond as u32, all))
        })?;
    }
    let i = inner.clone();
    linker.func_wrap(ENV, "pthread_cond_destroy", move |mut caller: Caller<'_, Host>, ptr: i32| {
        let (mem, cx) = split(&mut caller)?;
        finish(cx, format_args!("pthread_cond_destroy({ptr:#x})"), i.registry.cond_destroy(&mem, ptr as u32))
    })?;

    let i = inner.clone();
    linker.func_wrap(
        ENV,
        "pthread_key_create",
        move |mut caller: Caller<'_, Host>, ptr: i32, destructor: i32| {
            let (mut mem, cx) = split(&mut caller)?;
            let result = i.registry.key_create(&mut mem, ptr as u32, destructor as u32);
            finish(cx, format_args!("pthread_key_create({ptr:#x}, destructor {destructor})"), result)
        },
    )?;
    let i = inner.clone();
    linker.func_wrap(ENV, "pthread_setspecific", move |key: i32, value: i32| {
        let result = i.registry.set_specific(current(), key as u32, value as u32);
        finish(&i.cx, format_args!("pthread_setspecific({key}, {value:#x})"), result)
    })?;
    let i = inner.clone();
    linker.func_wrap(ENV, "pthread_getspecific", move |key: i32| {
        i.registry.get_specific(current(), key as u32) as i32
    })?;
    let i = inner.clone();
    linker.func_wrap(ENV, "pthread_key_delete", move |key: i32| {
        finish(&i.cx, format_args!("pthread_key_delete({key})"), i.registry.key_delete(key as u32))
    })?;
    Ok(())
}

enum CreateError {
    /// The guest gets this errno.
    Errno(Errno),
    /// A trap or the instance's stop.
    Stop(wasmtime::Error),
}

impl From<wasmtime::Error> for CreateError {
    fn from(e: wasmtime::Error) -> Self {
        CreateError::Stop(e)
    }
}

fn trap(message: String) -> CreateError {
    CreateError::Stop(wasmtime::Error::new(Trap(message)))
}

/// `pthread_create(thread_ptr, attr, start, arg)`: `start` is a function table index of
/// type `(i32) -> i32`; attributes are ignored, as in WAMR.
fn create(
    inner: &Arc<Inner>,
    caller: &mut Caller<'_, Host>,
    thread_ptr: u32,
    start: u32,
    arg: u32,
) -> Result<(), CreateError> {
    let Some(memory) = &inner.memory else {
        return Err(trap(
            "pthread_create: the module's memory is not shared, so no other thread can use it; \
             link the module with -Wl,--shared-memory (as WAMR's samples do)"
                .to_string(),
        ));
    };
    let stack_bytes = match caller.get_export(STACK_SIZE_EXPORT) {
        // prepare.rs computed it within these bounds; a module's own global of that name
        // (then prepare.rs added none) is held to them too.
        Some(Extern::Global(g)) => {
            (g.get(&mut *caller).i32().unwrap_or(0) as u32).clamp(MIN_THREAD_STACK, MAX_THREAD_STACK)
        }
        _ => {
            return Err(trap(
                "pthread_create: the module has no stack pointer global that wasock could find \
                 (wasm-ld makes one; export __heap_base and __data_end as WAMR asks)"
                    .to_string(),
            ));
        }
    };
    {
        let (mut mem, _) = split(caller)?;
        if thread_ptr != 0 {
            mem.check(thread_ptr, 4).map_err(|t| CreateError::Stop(wasmtime::Error::new(t)))?;
        }
        inner.cx.interrupt.check().map_err(|e| CreateError::Stop(stop_error(e)))?;
        let new = inner.registry.create_thread().map_err(|_| {
            inner.cx.trace(format_args!(
                "pthread_create: refused, {} threads already run (--max-threads), or {} ended threads \
                 wait to be joined",
                inner.registry.running_threads(),
                wasock_core::pthread::MAX_UNJOINED_THREADS
            ));
            CreateError::Errno(Errno::Again)
        })?;
        let handle = new.handle();
        let Some(stack_top) = take_stack(inner, memory, stack_bytes) else {
            inner
                .cx
                .trace(format_args!("pthread_create: no memory left for a {stack_bytes}-byte thread stack"));
            return Err(CreateError::Errno(Errno::Again));
        };
        if thread_ptr != 0 {
            mem.write(thread_ptr, handle).map_err(|t| CreateError::Stop(wasmtime::Error::new(t)))?;
        }
        let mut builder = std::thread::Builder::new().name(format!("wasm-pthread-{handle}"));
        if let Some(&bytes) = inner.native_stack.get() {
            builder = builder.stack_size(bytes);
        }
        let runner = inner.clone();
        let spawned = builder.spawn(move || {
            CURRENT.with(|c| c.set(handle));
            let result = run_thread(&runner, handle, start, arg, stack_top);
            // The stack is free before a joiner can start the next thread.
            runner.free_stacks.lock().unwrap_or_else(|p| p.into_inner()).push((stack_top, stack_bytes));
            match result {
                Ok(retval) => runner.registry.exited(handle, retval),
                // The instance stops; the thread never ends normally, so a joiner gets the
                // stop reason (within a wait slice), not a return value.
                Err(e) => {
                    let reason = match e.downcast_ref::<Exit>() {
                        Some(exit) => wasock_core::Error::Exit(*exit),
                        None => wasock_core::Error::Trap(Trap(format!(
                            "thread {handle} trapped: {}",
                            describe_trap(&e)
                        ))),
                    };
                    stop_instance(&runner.engine, &runner.cx, reason);
                }
            }
        });
        if spawned.is_err() {
            inner.free_stacks.lock().unwrap_or_else(|p| p.into_inner()).push((stack_top, stack_bytes));
            return Err(CreateError::Errno(Errno::Again));
        }
        inner.registry.started(new);
    }
    Ok(())
}

/// A stack of `bytes` for a new thread: one an ended thread left, or new pages added to
/// the shared memory (None when the memory cannot grow by that much). Returns its top.
fn take_stack(inner: &Inner, memory: &SharedMemory, bytes: u32) -> Option<u32> {
    let mut free = inner.free_stacks.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(at) = free.iter().position(|&(_, b)| b == bytes) {
        return Some(free.swap_remove(at).0);
    }
    drop(free);
    let pages = u64::from(bytes.div_ceil(65536));
    let old = memory.grow(pages).ok()?;
    let end = (old + pages) * 65536;
    // The very top of a 4 GiB memory is not an i32: stay 16 bytes below it.
    u32::try_from(end.min(u64::from(u32::MAX) + 1) - 16).ok()
}

/// Runs one thread in a store of its own: its stack pointer set, its start routine called,
/// then the destructors of the keys it set. Returns its return value.
fn run_thread(
    inner: &Arc<Inner>,
    handle: Handle,
    start: u32,
    arg: u32,
    stack_top: u32,
) -> wasmtime::Result<u32> {
    let pre = inner
        .instance_pre
        .get()
        .ok_or_else(|| wasmtime::Error::msg("the module is not ready for threads"))?;
    let memory = inner.memory.clone().map(GuestMemoryHandle::Shared);
    let mut store = new_store(&inner.engine, &inner.cx, memory, &inner.budget);
    // As new_store's check, plus this thread's cancellation: wasm code is a cancellation
    // point whenever the epoch ticks (pthread_cancel makes it tick).
    let watched = inner.clone();
    let in_routine = Arc::new(AtomicBool::new(true));
    let cancellable = in_routine.clone();
    store.epoch_deadline_callback(move |_| {
        if let Err(reason) = watched.cx.interrupt.check() {
            return Err(stop_error(reason));
        }
        if cancellable.load(Ordering::SeqCst) && watched.registry.cancel_requested(handle) {
            return Err(wasmtime::Error::new(ThreadExit(CANCELED)));
        }
        Ok(wasmtime::UpdateDeadline::Continue(1))
    });
    let instance = pre.instantiate(&mut store)?;
    let sp = instance
        .get_global(&mut store, STACK_POINTER_EXPORT)
        .ok_or_else(|| wasmtime::Error::msg("the module exports no stack pointer for threads"))?;
    sp.set(&mut store, Val::I32(stack_top as i32))?;
    let table = instance.get_table(&mut store, TABLE_EXPORT).ok_or_else(|| {
        wasmtime::Error::new(Trap("pthread_create: the module has no function table".into()))
    })?;
    let func_at = |store: &mut wasmtime::Store<Host>, index: u32| {
        table.get(&mut *store, u64::from(index)).and_then(|r| r.as_func().flatten().copied())
    };
    let routine = func_at(&mut store, start)
        .and_then(|f| f.typed::<i32, i32>(&store).ok())
        .ok_or_else(|| {
            wasmtime::Error::new(Trap(format!(
                "pthread_create: the start routine (function table index {start}) is not a function (i32) -> i32"
            )))
        })?;
    // Cancelled before its store could see the epoch tick: it never starts.
    if inner.registry.cancel_requested(handle) {
        return Ok(CANCELED);
    }
    let retval = match routine.call(&mut store, arg as i32) {
        Ok(v) => v as u32,
        Err(e) => match e.downcast_ref::<ThreadExit>() {
            Some(exit) => exit.0,
            None => return Err(e),
        },
    };
    // Each key value the thread leaves, with a destructor, goes to it once (as in WAMR),
    // cancelled thread or not.
    in_routine.store(false, Ordering::SeqCst);
    store.set_epoch_deadline(1);
    for (destructor, value) in inner.registry.take_destructors(handle) {
        let Some(f) = func_at(&mut store, destructor).and_then(|f| f.typed::<i32, ()>(&store).ok()) else {
            continue;
        };
        if let Err(e) = f.call(&mut store, value as i32)
            && e.downcast_ref::<ThreadExit>().is_none()
        {
            return Err(e);
        }
    }
    Ok(retval)
}
