//! wasi-threads: the `wasi::thread-spawn` import over a shared linear memory.
//!
//! Each guest thread is an OS thread with its own store and instance of the same module,
//! sharing the memory and the instance's one `Ctx` (fd table, policy, interrupt). A
//! `proc_exit` or a trap in any thread stops every thread (see `run::stop_instance`).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

use wasmtime::{Caller, Engine, ExternType, InstancePre, Linker, MemoryType, Module, SharedMemory};
use wasock_core::{Ctx, Exit, Trap};

use crate::bind::{GuestMemoryHandle, Host};
use crate::limits::Budget;
use crate::run::{describe_trap, new_store, stop_instance};

/// The shared memory a module imports, created for it: (module, name, memory).
///
/// A shared memory grows outside any store, where no limiter sees it, so its declared
/// maximum is cut to what is left of the instance's memory budget and taken from the
/// budget whole, up front.
pub(crate) fn shared_memory_import(
    engine: &Engine,
    module: &Module,
    budget: &Budget,
) -> wasmtime::Result<Option<(String, String, SharedMemory)>> {
    const PAGE: u64 = 65536;
    for import in module.imports() {
        if let ExternType::Memory(ty) = import.ty()
            && ty.is_shared()
        {
            let left = budget.memory_left() as u64 / PAGE;
            let maximum = ty.maximum().unwrap_or(left).min(left);
            if ty.minimum() > maximum || !budget.reserve_memory((maximum * PAGE) as usize) {
                wasmtime::bail!(
                    "the shared memory {}::{} needs {} bytes at least, more than the {} bytes \
                     --max-memory leaves",
                    import.module(),
                    import.name(),
                    ty.minimum() * PAGE,
                    left * PAGE
                );
            }
            let ty = MemoryType::shared(ty.minimum() as u32, maximum as u32);
            let memory = SharedMemory::new(engine, ty)?;
            return Ok(Some((import.module().to_string(), import.name().to_string(), memory)));
        }
    }
    Ok(None)
}

/// Whether the module imports `wasi::thread-spawn`.
pub fn imports_thread_spawn(module: &Module) -> bool {
    module.imports().any(|i| i.module() == "wasi" && i.name() == "thread-spawn")
}

/// Spawns guest threads for one instance.
pub struct Spawner {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    cx: Arc<Ctx>,
    memory: SharedMemory,
    /// The instance's memory budget: each thread's own memories draw from it too.
    budget: Arc<Budget>,
    instance_pre: OnceLock<InstancePre<Host>>,
    stack_size: OnceLock<usize>,
    next_tid: AtomicU32,
    live: AtomicU32,
    max: u32,
}

/// Counts a thread as live until dropped.
struct LiveGuard(Arc<Inner>);

impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.0.live.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The largest thread id wasi-threads allows (ids are positive and fit in 29 bits).
const MAX_TID: u32 = 0x1FFF_FFFF;

impl Spawner {
    /// Defines `wasi::thread-spawn` in `linker` for an instance whose memory is `memory`.
    pub fn install(
        linker: &mut Linker<Host>,
        engine: &Engine,
        cx: &Arc<Ctx>,
        memory: SharedMemory,
        budget: &Arc<Budget>,
        max: u32,
    ) -> wasmtime::Result<Spawner> {
        let inner = Arc::new(Inner {
            engine: engine.clone(),
            cx: cx.clone(),
            memory,
            budget: budget.clone(),
            instance_pre: OnceLock::new(),
            stack_size: OnceLock::new(),
            next_tid: AtomicU32::new(1),
            live: AtomicU32::new(0),
            max,
        });
        let spawner = inner.clone();
        linker.func_wrap("wasi", "thread-spawn", move |_: Caller<'_, Host>, start_arg: i32| -> i32 {
            spawn(&spawner, start_arg)
        })?;
        Ok(Spawner { inner })
    }

    /// Gives the spawner what it instantiates in each new thread; called once the linker
    /// is complete.
    pub fn set_instance_pre(&self, pre: InstancePre<Host>) {
        let _ = self.inner.instance_pre.set(pre);
    }

    /// The native stack of each guest thread: wasm frames may use up to `max_wasm_stack`
    /// of it, and a thread with less would crash instead of trapping on deep recursion.
    pub fn set_stack_size(&self, bytes: usize) {
        let _ = self.inner.stack_size.set(bytes);
    }
}

/// `thread-spawn(start_arg) -> tid`: a positive thread id, or a negative number when no
/// thread can be started (the limit is reached or the OS refused).
fn spawn(inner: &Arc<Inner>, start_arg: i32) -> i32 {
    const EAGAIN: i32 = -(wasock_core::Errno::Again as i32);
    if inner.live.fetch_add(1, Ordering::SeqCst) >= inner.max {
        inner.live.fetch_sub(1, Ordering::SeqCst);
        inner
            .cx
            .trace(format_args!("thread-spawn: refused, {} threads already run (--max-threads)", inner.max));
        return EAGAIN;
    }
    let guard = LiveGuard(inner.clone());
    let tid = inner.next_tid.fetch_add(1, Ordering::SeqCst);
    if tid > MAX_TID || inner.instance_pre.get().is_none() {
        return EAGAIN;
    }
    let mut builder = std::thread::Builder::new().name(format!("wasm-thread-{tid}"));
    if let Some(&bytes) = inner.stack_size.get() {
        builder = builder.stack_size(bytes);
    }
    let thread = builder.spawn(move || {
        let inner = &guard.0;
        let result = run_thread(inner, tid as i32, start_arg);
        if let Err(e) = result {
            let reason = match e.downcast_ref::<Exit>() {
                Some(exit) => wasock_core::Error::Exit(*exit),
                None => {
                    wasock_core::Error::Trap(Trap(format!("thread {tid} trapped: {}", describe_trap(&e))))
                }
            };
            stop_instance(&inner.engine, &inner.cx, reason);
        }
    });
    match thread {
        Ok(_) => tid as i32,
        Err(_) => EAGAIN,
    }
}

fn run_thread(inner: &Inner, tid: i32, start_arg: i32) -> wasmtime::Result<()> {
    let pre = inner.instance_pre.get().expect("checked before spawning");
    let mut store = new_store(
        &inner.engine,
        &inner.cx,
        Some(GuestMemoryHandle::Shared(inner.memory.clone())),
        &inner.budget,
    );
    let instance = pre.instantiate(&mut store)?;
    let start = instance.get_typed_func::<(i32, i32), ()>(&mut store, "wasi_thread_start")?;
    start.call(&mut store, (tid, start_arg))
}
