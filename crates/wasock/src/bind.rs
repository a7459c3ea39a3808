//! The wasmtime binding: registers every host function of wasock-core in a [`Linker`].
//!
//! Each import becomes one closure that splits the caller into linear memory and the
//! instance's [`Ctx`], calls the core function and turns its result into what wasm sees:
//! an errno, a trap, or the guest's exit.

use std::sync::Arc;

use wasmtime::{Caller, Extern, FuncType, Linker, Memory, Module, SharedMemory, Store, ValType};
use wasock_core::socket_abi::{SocketAbi, WASIX_MODULE};
use wasock_core::{Ctx, Errno, Error as CoreError, GuestMemory, escape};

/// The data of every store: the instance's shared context and its memory, once known.
/// Every thread of an instance has its own store, and all of them share one `Ctx`.
pub struct Host {
    pub(crate) cx: Arc<Ctx>,
    pub(crate) memory: Option<GuestMemoryHandle>,
    pub(crate) limits: crate::limits::Limiter,
}

/// Where a store's linear memory is.
#[derive(Clone)]
pub enum GuestMemoryHandle {
    /// An ordinary memory, owned by the store.
    Plain(Memory),
    /// A shared memory (wasi-threads), the same for every thread.
    Shared(SharedMemory),
}

/// The module names of WASI preview 1 (snapshot 1 and snapshot 0), whose imports wasock provides.
pub const MODULES: [&str; 2] = [WASI_P1, "wasi_unstable"];

/// WASI preview 1's module name, which WAMR's and WasmEdge's extensions share.
const WASI_P1: &str = "wasi_snapshot_preview1";

/// How a core argument type travels through wasm.
trait Abi {
    type Wasm: wasmtime::WasmTy;
    fn from_wasm(w: Self::Wasm) -> Self;
}

impl Abi for u32 {
    type Wasm = i32;
    fn from_wasm(w: i32) -> u32 {
        w as u32
    }
}

impl Abi for u64 {
    type Wasm = i64;
    fn from_wasm(w: i64) -> u64 {
        w as u64
    }
}

/// The caller's linear memory and its instance's context, borrowed for one host call (no
/// reference count is touched on this path, which every host call takes).
pub(crate) fn split<'a>(caller: &'a mut Caller<'_, Host>) -> wasmtime::Result<(GuestMemory<'a>, &'a Ctx)> {
    match &caller.data().memory {
        Some(GuestMemoryHandle::Plain(memory)) => {
            let memory = *memory;
            let (bytes, host) = memory.data_and_store_mut(caller);
            Ok((GuestMemory::new(bytes), &*host.cx))
        }
        Some(GuestMemoryHandle::Shared(_)) => {
            let host: &'a Host = caller.data();
            let Some(GuestMemoryHandle::Shared(shared)) = &host.memory else { unreachable!() };
            // `data()` is the memory's current extent. Other guest threads write it while the
            // call runs, so it is never borrowed as a slice: see wasock_core::memory.
            Ok((GuestMemory::from_shared(shared.data()), &*host.cx))
        }
        None => {
            Err(wasmtime::Error::msg("this module has no linear memory named \"memory\", which WASI needs"))
        }
    }
}

/// Converts a core result into the wasm result, tracing the call when asked to.
fn finish(cx: &Ctx, name: &str, args: &[i64], result: wasock_core::Result<()>) -> wasmtime::Result<i32> {
    if cx.tracing() {
        let shown: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let outcome = match &result {
            Ok(()) => "ok".to_string(),
            Err(CoreError::Errno(e)) => format!("errno {e}"),
            Err(CoreError::Trap(t)) => format!("trap: {t}"),
            Err(CoreError::Exit(e)) => format!("exit {}", e.0),
        };
        cx.trace(format_args!("{name}({}) -> {outcome}", shown.join(", ")));
    }
    match result {
        Ok(()) => Ok(0),
        Err(CoreError::Errno(e)) => Ok(i32::from(e.raw())),
        Err(stop) => Err(stop_error(stop)),
    }
}

/// The wasmtime error that ends a guest for a core trap or exit (an errno only reaches here
/// as the reason an instance was stopped, which never happens today).
pub(crate) fn stop_error(reason: CoreError) -> wasmtime::Error {
    match reason {
        CoreError::Trap(t) => wasmtime::Error::new(t),
        CoreError::Exit(e) => wasmtime::Error::new(e),
        CoreError::Errno(e) => wasmtime::Error::msg(format!("stopped: {e}")),
    }
}

macro_rules! register {
    ($linker:ident, $module:ident; $($name:ident($($arg:ident: $ty:ty),*) = $path:path;)*) => {$(
        $linker.func_wrap(
            $module,
            stringify!($name),
            |mut caller: Caller<'_, Host>, $($arg: <$ty as Abi>::Wasm),*| -> wasmtime::Result<i32> {
                let (mut mem, cx) = split(&mut caller)?;
                let result = $path(&cx, &mut mem, $(<$ty as Abi>::from_wasm($arg)),*);
                finish(&cx, stringify!($name), &[$($arg as i64),*], result)
            },
        )?;
    )*};
}

/// Adds the host functions a module of socket ABI `abi` gets: WASI preview 1 under both
/// module names, and the socket extension of `abi` (WAMR's for a module without one, since
/// its names clash with no other preview 1 function).
pub fn add_to_linker(linker: &mut Linker<Host>, abi: SocketAbi) -> wasmtime::Result<()> {
    for module in MODULES {
        macro_rules! p1 {
            ($($t:tt)*) => { register!(linker, module; $($t)*); };
        }
        wasock_core::for_each_import!(p1);
        if matches!(abi, SocketAbi::Wasi | SocketAbi::Wamr) {
            wasock_core::for_each_wamr_import!(p1);
        }
        linker.func_wrap(
            module,
            "proc_exit",
            |caller: Caller<'_, Host>, code: i32| -> wasmtime::Result<()> {
                let cx = &caller.data().cx;
                cx.trace(format_args!("proc_exit({code})"));
                let exit = wasock_core::p1::proc::proc_exit(cx, code as u32);
                // Other threads running wasm code notice at the next epoch tick.
                caller.engine().increment_epoch();
                Err(stop_error(exit))
            },
        )?;
    }
    linker.allow_shadowing(true);
    let unstable = "wasi_unstable";
    macro_rules! p0 {
        ($($t:tt)*) => { register!(linker, unstable; $($t)*); };
    }
    wasock_core::for_each_unstable_override!(p0);
    match abi {
        SocketAbi::WasmEdge => {
            macro_rules! wasmedge {
                ($($t:tt)*) => { register!(linker, WASI_P1; $($t)*); };
            }
            wasock_core::for_each_wasmedge_import!(wasmedge);
        }
        SocketAbi::Wasix => {
            macro_rules! wasix {
                ($($t:tt)*) => { register!(linker, WASIX_MODULE; $($t)*); };
            }
            wasock_core::for_each_wasix_import!(wasix);
            // Preview 1's sock_recv/sock_send, with WASIX's don't-wait flags.
            macro_rules! wasix_p1 {
                ($($t:tt)*) => { register!(linker, WASI_P1; $($t)*); };
            }
            wasock_core::for_each_wasix_preview1_override!(wasix_p1);
            add_wasix_void_functions(linker)?;
        }
        SocketAbi::Wasi | SocketAbi::Wamr => {}
    }
    linker.allow_shadowing(false);
    Ok(())
}

/// The two `wasix_32v1` functions of wasix-libc's start-up that return nothing:
/// `callback_signal` and `proc_exit2` (which ends the instance as `proc_exit` does).
fn add_wasix_void_functions(linker: &mut Linker<Host>) -> wasmtime::Result<()> {
    linker.func_wrap(
        WASIX_MODULE,
        "callback_signal",
        |mut caller: Caller<'_, Host>, name: i32, name_len: i32| -> wasmtime::Result<()> {
            let (mut mem, cx) = split(&mut caller)?;
            let result =
                wasock_core::wasix::start::callback_signal(cx, &mut mem, name as u32, name_len as u32);
            finish(cx, "callback_signal", &[name as i64, name_len as i64], result).map(|_| ())
        },
    )?;
    linker.func_wrap(
        WASIX_MODULE,
        "proc_exit2",
        |caller: Caller<'_, Host>, code: i32| -> wasmtime::Result<()> {
            let cx = &caller.data().cx;
            cx.trace(format_args!("proc_exit2({code})"));
            let exit = wasock_core::wasix::start::proc_exit2(cx, code as u32);
            // Other threads running wasm code notice at the next epoch tick.
            caller.engine().increment_epoch();
            Err(stop_error(exit))
        },
    )?;
    Ok(())
}

/// An import the module declares that wasock cannot satisfy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unlinked {
    /// `module::name`.
    pub name: String,
    /// Why: not provided, or provided with another type.
    pub reason: String,
    /// What a call does instead: "calling it traps" or "calling it returns ENOSYS".
    pub outcome: &'static str,
}

/// Links what the module imports under names wasock provides with another type, then lets a
/// module whose imports wasock lacks still run, like iwasm:
/// - WasmEdge picks V1 or V2 per import by its type: a plain-name import (`sock_accept`)
///   whose type only the `_v2` function has is linked to that function;
/// - a `wasix_32v1` function wasock does not provide that returns an errno returns ENOSYS
///   (WASIX programs call many such functions at start-up and cope with ENOSYS);
/// - any other missing (or mistyped) function import becomes a function that traps, naming
///   the import, when called.
///
/// Returns what was not linked, so that `-v` can list it.
pub fn stub_unlinked(
    linker: &mut Linker<Host>,
    store: &mut Store<Host>,
    module: &Module,
) -> wasmtime::Result<Vec<Unlinked>> {
    let mut unlinked = Vec::new();
    linker.allow_shadowing(true);
    for import in module.imports() {
        let wasmtime::ExternType::Func(want) = import.ty() else { continue };
        let reason = match linker.get_by_import(&mut *store, &import) {
            Some(Extern::Func(f)) if FuncType::eq(&f.ty(&*store), &want) => continue,
            Some(Extern::Func(f)) => {
                let v2 = format!("{}_v2", import.name());
                if let Ok(Extern::Func(g)) = linker.get(&mut *store, import.module(), &v2)
                    && FuncType::eq(&g.ty(&*store), &want)
                {
                    linker.define(&*store, import.module(), import.name(), g)?;
                    continue;
                }
                format!("wasock provides it as {} but the module imports it as {want}", f.ty(&*store))
            }
            Some(_) => continue,
            None => "wasock does not provide it".to_string(),
        };
        // Import names are the guest's text: escaped wherever they are shown.
        let name = format!("{}::{}", escape::guest_text(import.module()), escape::guest_text(import.name()));
        let returns_errno = want.params().all(|p| matches!(p, ValType::I32 | ValType::I64))
            && matches!(want.results().collect::<Vec<_>>()[..], [ValType::I32]);
        if import.module() == WASIX_MODULE && returns_errno {
            let message = format!("{name} returns ENOSYS: {reason}");
            linker.func_new(import.module(), import.name(), want, move |caller, _, results| {
                caller.data().cx.trace(format_args!("{message}"));
                results[0] = wasmtime::Val::I32(i32::from(Errno::NoSys.raw()));
                Ok(())
            })?;
            unlinked.push(Unlinked { name, reason, outcome: "calling it returns ENOSYS" });
            continue;
        }
        let message = format!("called unlinked import function {name}: {reason}");
        linker.func_new(import.module(), import.name(), want, move |_, _, _| {
            Err(wasmtime::Error::new(wasock_core::Trap(message.clone())))
        })?;
        unlinked.push(Unlinked { name, reason, outcome: "calling it traps" });
    }
    linker.allow_shadowing(false);
    Ok(unlinked)
}
