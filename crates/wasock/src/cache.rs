//! Compiled programs kept on disk and mapped back in on the next run.
//!
//! wasmtime's own cache does the same but starts a worker thread on every hit, which rewrites
//! a statistics file for its clean-up: a thread and a file write on the start-up path of every
//! run. Here a hit is one `open` and one `mmap`, and a miss compiles and writes the entry once.
//!
//! An entry is named by a SHA-256 of what it was compiled from and of the engine's settings
//! (wasmtime's compatibility hash, which covers its version, the target and every setting
//! that changes code), so a changed program or engine never loads stale code.

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::{Engine, Module};

/// A directory of compiled programs.
#[derive(Clone, Debug)]
pub(crate) struct CodeCache {
    dir: PathBuf,
}

impl CodeCache {
    /// The cache below `dir` (created if needed; `dir` must be absolute).
    pub(crate) fn new(dir: &Path) -> Result<CodeCache, String> {
        if !dir.is_absolute() {
            return Err(format!("the cache directory {} is not an absolute path", dir.display()));
        }
        let dir = dir.join(format!("compiled-{}", env!("CARGO_PKG_VERSION")));
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot use the cache directory {}: {e}", dir.display()))?;
        Ok(CodeCache { dir })
    }

    /// `binary` compiled by `engine` as a core module: from the cache, or compiled and kept.
    pub(crate) fn module(&self, engine: &Engine, binary: &[u8]) -> wasmtime::Result<Module> {
        let path = self.entry(engine, "module", binary);
        // SAFETY: deserialize_file trusts the file to be wasmtime's own output. Entries are
        // written only by `keep` below, completely (a rename publishes them), into the
        // user's own cache directory; whoever can write there can already run code as the
        // user. A file from another engine or wasmtime version is refused by wasmtime's
        // header check, and is then compiled afresh and replaced.
        if let Ok(module) = unsafe { Module::deserialize_file(engine, &path) } {
            return Ok(module);
        }
        let module = Module::new(engine, binary)?;
        if let Ok(code) = module.serialize() {
            keep(&path, &code);
        }
        Ok(module)
    }

    /// `binary` compiled by `engine` as a component: from the cache, or compiled and kept.
    pub(crate) fn component(&self, engine: &Engine, binary: &[u8]) -> wasmtime::Result<Component> {
        let path = self.entry(engine, "component", binary);
        // SAFETY: as in `module`.
        if let Ok(component) = unsafe { Component::deserialize_file(engine, &path) } {
            return Ok(component);
        }
        let component = Component::new(engine, binary)?;
        if let Ok(code) = component.serialize() {
            keep(&path, &code);
        }
        Ok(component)
    }

    fn entry(&self, engine: &Engine, kind: &str, binary: &[u8]) -> PathBuf {
        let mut hasher = Sha256Hasher(Sha256::new());
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let mut sha = hasher.0;
        sha.update(kind.as_bytes());
        sha.update(binary);
        let name: String = sha.finalize().iter().map(|b| format!("{b:02x}")).collect();
        self.dir.join(name)
    }
}

/// Writes an entry: to a temporary file first, then renamed into place, so that a reader
/// never sees half of one. A cache that cannot be written only costs the next run a compile.
fn keep(path: &Path, code: &[u8]) {
    let Some(dir) = path.parent() else { return };
    let Ok(mut tmp) = tempfile::NamedTempFile::new_in(dir) else { return };
    if tmp.write_all(code).is_ok() {
        let _ = tmp.persist(path);
    }
}

/// Feeds a `Hash` into SHA-256 (wasmtime gives its compatibility hash as a `Hash`).
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(&self) -> u64 {
        unreachable!("only written to: the digest is taken from the inner Sha256")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_reused_and_a_changed_program_or_engine_gets_its_own() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let cache = CodeCache::new(dir.path()).expect("a cache");
        let engine = Engine::default();
        let one = wat::parse_str(r#"(module (func (export "f") (result i32) i32.const 1))"#).unwrap();
        let two = wat::parse_str(r#"(module (func (export "f") (result i32) i32.const 2))"#).unwrap();
        let entries = || std::fs::read_dir(&cache.dir).map(|d| d.count()).unwrap_or(0);

        cache.module(&engine, &one).expect("compile");
        assert_eq!(entries(), 1, "a miss keeps the compiled module");
        cache.module(&engine, &one).expect("load");
        assert_eq!(entries(), 1, "a hit writes nothing");
        cache.module(&engine, &two).expect("compile");
        assert_eq!(entries(), 2, "another program, another entry");

        let mut config = wasmtime::Config::new();
        config.epoch_interruption(true);
        let other = Engine::new(&config).expect("engine");
        cache.module(&other, &one).expect("compile");
        assert_eq!(entries(), 3, "another engine setting, another entry");

        // A damaged entry is compiled afresh and replaced, never run.
        let path = cache.entry(&engine, "module", &one);
        std::fs::write(&path, b"not wasmtime's").unwrap();
        let module = cache.module(&engine, &one).expect("recompile");
        let mut store = wasmtime::Store::new(&engine, ());
        let instance = wasmtime::Instance::new(&mut store, &module, &[]).expect("instantiate");
        let f = instance.get_typed_func::<(), i32>(&mut store, "f").expect("f");
        assert_eq!(f.call(&mut store, ()).expect("call"), 1);
        // SAFETY: the entry was just written by `keep`, from this engine's output.
        assert!(unsafe { Module::deserialize_file(&engine, &path) }.is_ok(), "the entry was rewritten");
    }
}
