//! Rewrites a threaded module at load so that each of its threads can be an instance of
//! its own, as wasock runs threads (one store and instance per thread, one shared memory):
//!
//! - a module that *defines* its shared memory (linked with `--shared-memory` but without
//!   `--import-memory`) gets it as an import instead, with the same type and its export
//!   kept, so that every thread's instance is given the same memory. Its data must be in
//!   passive segments (wasm-ld's shared-memory output: `__wasm_init_memory`, run as the start
//!   function of every instance, copies them once, guarded by an atomic flag); a module
//!   with active segments would re-initialise its data in every thread and is refused.
//! - a module that imports WAMR's lib-pthread (`env.pthread_*`) also exports, under names
//!   of wasock's own, what the host needs to start a thread: its function table (the start
//!   routine is a table index), its stack pointer global (found as WAMR finds it, from the
//!   exported `__heap_base` and `__data_end`) and the size of the stack the linker gave the
//!   main thread, which each new thread gets too.
//!
//! Everything else is copied unchanged; exports and globals are appended, so no index moves.

use std::borrow::Cow;

use wasm_encoder::reencode::{self, Reencode};
use wasm_encoder::{ConstExpr, EntityType, ExportKind, GlobalType, MemoryType, ValType};
use wasmparser::{DataKind, ExternalKind, Operator, Parser, Payload, TypeRef};

/// The export of the function table, added to lib-pthread modules.
pub(crate) const TABLE_EXPORT: &str = "__wasock_function_table";
/// The export of the stack pointer global, added to lib-pthread modules.
pub(crate) const STACK_POINTER_EXPORT: &str = "__wasock_stack_pointer";
/// An exported constant global: the bytes of stack each lib-pthread thread gets.
pub(crate) const STACK_SIZE_EXPORT: &str = "__wasock_thread_stack_size";

/// A thread's stack is at least this (one wasm page) and at most [`MAX_THREAD_STACK`].
pub(crate) const MIN_THREAD_STACK: u32 = 64 << 10;
pub(crate) const MAX_THREAD_STACK: u32 = 8 << 20;

/// What the first pass found.
#[derive(Default)]
struct Survey {
    threaded: bool,
    lib_pthread: bool,
    imported_memories: u32,
    imported_globals: u32,
    imported_tables: u32,
    defined_memories: Vec<wasmparser::MemoryType>,
    /// Defined globals: (mutable i32, its i32.const initial value if it has one).
    globals: Vec<(bool, Option<i32>)>,
    exports: Vec<(String, ExternalKind, u32)>,
    tables: u32,
    active_data: bool,
    has_import_section: bool,
    has_export_section: bool,
    has_global_section: bool,
}

impl Survey {
    fn of(bytes: &[u8]) -> wasmparser::Result<Survey> {
        let mut s = Survey::default();
        for payload in Parser::new(0).parse_all(bytes) {
            match payload? {
                Payload::ImportSection(reader) => {
                    s.has_import_section = true;
                    for import in reader.into_imports() {
                        let import = import?;
                        match import.ty {
                            TypeRef::Func(_) | TypeRef::FuncExact(_) => {
                                if import.module == "wasi" && import.name == "thread-spawn" {
                                    s.threaded = true;
                                }
                                if import.module == "env" && crate::pthread::is_lib_pthread(import.name) {
                                    s.lib_pthread = true;
                                    s.threaded |= import.name == "pthread_create";
                                }
                            }
                            TypeRef::Memory(_) => s.imported_memories += 1,
                            TypeRef::Global(_) => s.imported_globals += 1,
                            TypeRef::Table(_) => s.imported_tables += 1,
                            TypeRef::Tag(_) => {}
                        }
                    }
                }
                Payload::MemorySection(reader) => {
                    for memory in reader {
                        s.defined_memories.push(memory?);
                    }
                }
                Payload::TableSection(reader) => s.tables += reader.count(),
                Payload::GlobalSection(reader) => {
                    s.has_global_section = true;
                    for global in reader {
                        let global = global?;
                        let mut ops = global.init_expr.get_operators_reader();
                        let init = match ops.read()? {
                            Operator::I32Const { value } => Some(value),
                            _ => None,
                        };
                        let mutable_i32 =
                            global.ty.mutable && global.ty.content_type == wasmparser::ValType::I32;
                        s.globals.push((mutable_i32, init));
                    }
                }
                Payload::ExportSection(reader) => {
                    s.has_export_section = true;
                    for export in reader {
                        let export = export?;
                        s.exports.push((export.name.to_string(), export.kind, export.index));
                    }
                }
                Payload::DataSection(reader) => {
                    for data in reader {
                        s.active_data |= matches!(data?.kind, DataKind::Active { .. });
                    }
                }
                _ => {}
            }
        }
        Ok(s)
    }

    /// The i32.const value of the exported immutable global `name`, if it is one.
    fn exported_constant(&self, name: &str) -> Option<u32> {
        let (_, _, index) = self.exports.iter().find(|(n, k, _)| n == name && *k == ExternalKind::Global)?;
        let defined = index.checked_sub(self.imported_globals)? as usize;
        match self.globals.get(defined)? {
            (false, Some(value)) => Some(*value as u32),
            _ => None,
        }
    }

    /// The stack pointer as WAMR finds it: with `__heap_base` and `__data_end` exported, the
    /// first mutable i32 global whose constant initial value is at most `__heap_base`.
    /// Without them (WAMR then cannot start threads) the first mutable i32 global, which is
    /// where wasm-ld puts `__stack_pointer`. Returns (defined global index, initial value).
    fn stack_pointer(&self) -> Option<(u32, u32)> {
        let heap_base = self.exported_constant("__heap_base");
        self.globals.iter().enumerate().find_map(|(i, (mutable_i32, init))| match (mutable_i32, init) {
            (true, Some(v)) if heap_base.is_none_or(|h| *v as u32 <= h) => Some((i as u32, *v as u32)),
            _ => None,
        })
    }

    /// The stack each new thread gets: what the linker gave the main thread (from
    /// `__data_end`, 16-aligned, to the stack pointer's initial value), within bounds and
    /// in whole pages.
    fn thread_stack_size(&self, stack_top: u32) -> u32 {
        let data_end = self.exported_constant("__data_end").map(|d| d.div_ceil(16) * 16);
        let size = match data_end {
            Some(end) if stack_top > end => stack_top - end,
            // The stack comes first (or nothing says where data ends): it starts at 0.
            _ => stack_top,
        };
        size.clamp(MIN_THREAD_STACK, MAX_THREAD_STACK).div_ceil(65536) * 65536
    }

    fn export_name_free(&self, name: &str) -> bool {
        !self.exports.iter().any(|(n, _, _)| n == name)
    }
}

/// The module to compile for `bytes`: `bytes` themselves when nothing needs rewriting.
/// An error says why the module cannot run threads as built.
pub(crate) fn prepare(bytes: &[u8]) -> Result<Cow<'_, [u8]>, String> {
    // An invalid module is left for the compiler to describe.
    let Ok(survey) = Survey::of(bytes) else { return Ok(Cow::Borrowed(bytes)) };
    let import_memory = survey.threaded
        && survey.imported_memories == 0
        && matches!(survey.defined_memories[..], [m] if m.shared && !m.memory64);
    if import_memory && survey.active_data {
        return Err("the module defines a shared memory and initialises it with active data segments, \
                    which every thread would apply again; link it with wasm-ld --shared-memory \
                    (which makes the segments passive) or with --import-memory"
            .to_string());
    }
    let stack = if survey.lib_pthread { survey.stack_pointer() } else { None };
    let exports = survey.lib_pthread
        && survey.has_export_section
        && [TABLE_EXPORT, STACK_POINTER_EXPORT, STACK_SIZE_EXPORT].iter().all(|n| survey.export_name_free(n));
    if !import_memory && !exports {
        return Ok(Cow::Borrowed(bytes));
    }
    let mut rewriter =
        Rewriter { survey: &survey, import_memory, exports, stack, import_section_done: false };
    let mut module = wasm_encoder::Module::new();
    rewriter
        .parse_core_module(&mut module, Parser::new(0), bytes)
        .map_err(|e| format!("cannot prepare the module for threads: {e}"))?;
    Ok(Cow::Owned(module.finish()))
}

struct Rewriter<'a> {
    survey: &'a Survey,
    import_memory: bool,
    exports: bool,
    /// The stack pointer: (defined global index, initial value).
    stack: Option<(u32, u32)>,
    import_section_done: bool,
}

impl Rewriter<'_> {
    fn memory_import(&self, imports: &mut wasm_encoder::ImportSection) -> Result<(), reencode::Error> {
        let memory = self.survey.defined_memories[0];
        let ty = MemoryType {
            minimum: memory.initial,
            maximum: memory.maximum,
            memory64: false,
            shared: true,
            page_size_log2: memory.page_size_log2,
        };
        imports.import("env", "memory", EntityType::Memory(ty));
        Ok(())
    }
}

impl Reencode for Rewriter<'_> {
    type Error = std::convert::Infallible;

    fn parse_import_section(
        &mut self,
        imports: &mut wasm_encoder::ImportSection,
        section: wasmparser::ImportSectionReader<'_>,
    ) -> Result<(), reencode::Error> {
        reencode::utils::parse_import_section(self, imports, section)?;
        if self.import_memory {
            self.memory_import(imports)?;
        }
        self.import_section_done = true;
        Ok(())
    }

    fn intersperse_section_hook(
        &mut self,
        module: &mut wasm_encoder::Module,
        after: Option<wasm_encoder::SectionId>,
        before: Option<wasm_encoder::SectionId>,
    ) -> Result<(), reencode::Error> {
        use wasm_encoder::SectionId;
        // A module without imports gets an import section for its memory, right after the
        // type section (or first of all).
        let at_import_slot = matches!(after, None | Some(SectionId::Type))
            && !matches!(before, Some(SectionId::Type | SectionId::Import));
        if self.import_memory
            && !self.survey.has_import_section
            && !self.import_section_done
            && at_import_slot
        {
            let mut imports = wasm_encoder::ImportSection::new();
            self.memory_import(&mut imports)?;
            module.section(&imports);
            self.import_section_done = true;
        }
        Ok(())
    }

    fn parse_memory_section(
        &mut self,
        memories: &mut wasm_encoder::MemorySection,
        section: wasmparser::MemorySectionReader<'_>,
    ) -> Result<(), reencode::Error> {
        if self.import_memory {
            return Ok(()); // now imported: the section stays, empty
        }
        reencode::utils::parse_memory_section(self, memories, section)
    }

    fn parse_global_section(
        &mut self,
        globals: &mut wasm_encoder::GlobalSection,
        section: wasmparser::GlobalSectionReader<'_>,
    ) -> Result<(), reencode::Error> {
        reencode::utils::parse_global_section(self, globals, section)?;
        if self.exports
            && let Some((_, top)) = self.stack
        {
            let ty = GlobalType { val_type: ValType::I32, mutable: false, shared: false };
            let size = self.survey.thread_stack_size(top);
            globals.global(ty, &ConstExpr::i32_const(size as i32));
        }
        Ok(())
    }

    fn parse_export_section(
        &mut self,
        exports: &mut wasm_encoder::ExportSection,
        section: wasmparser::ExportSectionReader<'_>,
    ) -> Result<(), reencode::Error> {
        reencode::utils::parse_export_section(self, exports, section)?;
        if !self.exports {
            return Ok(());
        }
        let s = self.survey;
        if s.imported_tables + s.tables > 0 {
            exports.export(TABLE_EXPORT, ExportKind::Table, 0);
        }
        if let Some((index, _)) = self.stack {
            exports.export(STACK_POINTER_EXPORT, ExportKind::Global, s.imported_globals + index);
            let size_global = s.imported_globals + s.globals.len() as u32;
            exports.export(STACK_SIZE_EXPORT, ExportKind::Global, size_global);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wat(text: &str) -> Vec<u8> {
        wat::parse_str(text).expect("valid wat")
    }

    #[test]
    fn a_defined_shared_memory_becomes_an_import_and_stays_exported() {
        let module = wat(r#"(module
            (import "wasi" "thread-spawn" (func (param i32) (result i32)))
            (memory (export "memory") 2 10 shared)
            (data "hello"))"#);
        let out = prepare(&module).unwrap();
        let engine = wasmtime::Engine::default();
        let compiled = wasmtime::Module::new(&engine, &out).unwrap();
        let memory = compiled.imports().find(|i| matches!(i.ty(), wasmtime::ExternType::Memory(_))).unwrap();
        let wasmtime::ExternType::Memory(ty) = memory.ty() else { unreachable!() };
        assert_eq!((memory.module(), memory.name()), ("env", "memory"));
        assert_eq!((ty.minimum(), ty.maximum(), ty.is_shared()), (2, Some(10), true));
        assert!(compiled.exports().any(|e| e.name() == "memory"));
    }

    #[test]
    fn active_data_in_a_defined_shared_memory_is_refused() {
        let module = wat(r#"(module
            (import "wasi" "thread-spawn" (func (param i32) (result i32)))
            (memory 1 1 shared)
            (data (i32.const 8) "hello"))"#);
        assert!(prepare(&module).unwrap_err().contains("active data segments"));
    }

    #[test]
    fn modules_without_threads_are_left_alone() {
        let plain = wat(r#"(module (memory 1 1 shared) (data (i32.const 8) "x"))"#);
        assert!(matches!(prepare(&plain).unwrap(), Cow::Borrowed(_)));
        let imported = wat(r#"(module
            (import "env" "memory" (memory 1 1 shared))
            (import "wasi" "thread-spawn" (func (param i32) (result i32))))"#);
        assert!(matches!(prepare(&imported).unwrap(), Cow::Borrowed(_)));
    }

    #[test]
    fn lib_pthread_modules_export_table_stack_pointer_and_stack_size() {
        // wasm-ld's layout: data, then a 64 KiB stack, then the heap.
        let module = wat(r#"(module
            (import "env" "pthread_create" (func (param i32 i32 i32 i32) (result i32)))
            (memory (export "memory") 2 10 shared)
            (table 2 funcref)
            (global $sp (mut i32) (i32.const 70816))
            (global $heap_base i32 (i32.const 70816))
            (global $data_end i32 (i32.const 5272))
            (export "__heap_base" (global $heap_base))
            (export "__data_end" (global $data_end)))"#);
        let out = prepare(&module).unwrap();
        let engine = wasmtime::Engine::new(wasmtime::Config::new().shared_memory(true)).unwrap();
        let compiled = wasmtime::Module::new(&engine, &out).unwrap();
        let mut linker = wasmtime::Linker::new(&engine);
        let mut store = wasmtime::Store::new(&engine, ());
        let memory = wasmtime::SharedMemory::new(&engine, wasmtime::MemoryType::shared(2, 10)).unwrap();
        linker.define(&store, "env", "memory", memory).unwrap();
        linker.func_wrap("env", "pthread_create", |_: i32, _: i32, _: i32, _: i32| 0).unwrap();
        let instance = linker.instantiate(&mut store, &compiled).unwrap();
        assert!(instance.get_table(&mut store, TABLE_EXPORT).is_some());
        let sp = instance.get_global(&mut store, STACK_POINTER_EXPORT).unwrap();
        assert_eq!(sp.get(&mut store).i32(), Some(70816));
        let size = instance.get_global(&mut store, STACK_SIZE_EXPORT).unwrap();
        // 70816 - 5280 = 65536.
        assert_eq!(size.get(&mut store).i32(), Some(65536));
    }
}
