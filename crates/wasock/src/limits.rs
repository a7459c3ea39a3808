//! What the stores of one instance may take: linear memory for the whole instance (every
//! memory of every thread, the shared one included), table elements per store.
//!
//! wasmtime's `StoreLimits` caps each memory and each table on its own, so a module with
//! eight memories, or a table grown element by element, could take far more than the cap.
//! Here every store of an instance draws memory from one [`Budget`]; table elements are
//! summed over the tables of a store (one per thread, and threads are bounded by
//! `--max-threads`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use wasmtime::ResourceLimiter;

/// The default cap on table elements per store: enough for the function tables of very
/// large programs, while a guest growing tables on purpose stops at a few MiB of host memory.
pub const DEFAULT_MAX_TABLE_ELEMENTS: usize = 1_000_000;

/// The limits of one instance, shared by the stores of all its threads.
pub(crate) struct Budget {
    max_memory: usize,
    memory_used: AtomicUsize,
    max_table_elements: usize,
}

impl Budget {
    pub(crate) fn new(max_memory: usize, max_table_elements: usize) -> Arc<Budget> {
        Arc::new(Budget { max_memory, memory_used: AtomicUsize::new(0), max_table_elements })
    }

    /// Takes `bytes` of the memory budget; false if they are not left.
    pub(crate) fn reserve_memory(&self, bytes: usize) -> bool {
        self.memory_used
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |used| {
                used.checked_add(bytes).filter(|&total| total <= self.max_memory)
            })
            .is_ok()
    }

    fn release_memory(&self, bytes: usize) {
        self.memory_used.fetch_sub(bytes, Ordering::SeqCst);
    }

    /// The most a memory created now could take: what is left of the budget.
    pub(crate) fn memory_left(&self) -> usize {
        self.max_memory.saturating_sub(self.memory_used.load(Ordering::SeqCst))
    }
}

/// The limiter of one store: draws memory from the instance's budget, counts its own
/// table elements, and gives its memory back when the store (a finished thread) is dropped.
pub(crate) struct Limiter {
    budget: Arc<Budget>,
    memory_reserved: usize,
    table_elements: usize,
    /// What the last permitted growth took, given back if the growth then fails.
    last_memory_growth: usize,
    last_table_growth: usize,
}

impl Limiter {
    pub(crate) fn new(budget: Arc<Budget>) -> Limiter {
        Limiter { budget, memory_reserved: 0, table_elements: 0, last_memory_growth: 0, last_table_growth: 0 }
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let growth = desired.saturating_sub(current);
        if maximum.is_some_and(|max| desired > max) || !self.budget.reserve_memory(growth) {
            return Ok(false);
        }
        self.memory_reserved += growth;
        self.last_memory_growth = growth;
        Ok(true)
    }

    fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        self.budget.release_memory(self.last_memory_growth);
        self.memory_reserved -= self.last_memory_growth;
        self.last_memory_growth = 0;
        Ok(())
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let growth = desired.saturating_sub(current);
        let total = self.table_elements.saturating_add(growth);
        if maximum.is_some_and(|max| desired > max) || total > self.budget.max_table_elements {
            return Ok(false);
        }
        self.table_elements = total;
        self.last_table_growth = growth;
        Ok(true)
    }

    fn table_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        self.table_elements -= self.last_table_growth;
        self.last_table_growth = 0;
        Ok(())
    }
}

impl Drop for Limiter {
    fn drop(&mut self) {
        self.budget.release_memory(self.memory_reserved);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_is_one_budget_for_every_store() {
        let budget = Budget::new(100, 10);
        let mut a = Limiter::new(budget.clone());
        let mut b = Limiter::new(budget.clone());
        assert!(a.memory_growing(0, 60, None).unwrap());
        assert!(!b.memory_growing(0, 60, None).unwrap(), "the two together would exceed 100");
        assert!(b.memory_growing(0, 40, None).unwrap());
        assert!(!a.memory_growing(60, 61, None).unwrap());
        drop(b);
        assert_eq!(budget.memory_left(), 40, "a dropped store gives its memory back");
        assert!(a.memory_growing(60, 70, None).unwrap());
        a.memory_grow_failed(wasmtime::Error::msg("mmap failed")).unwrap();
        assert_eq!(budget.memory_left(), 40, "a failed growth gives its reservation back");
        assert!(!a.memory_growing(60, 90, Some(80)).unwrap(), "the memory's own maximum holds");
    }

    #[test]
    fn table_elements_are_summed_over_a_stores_tables() {
        let budget = Budget::new(0, 10);
        let mut a = Limiter::new(budget);
        assert!(a.table_growing(0, 6, None).unwrap());
        assert!(!a.table_growing(0, 5, None).unwrap(), "a second table shares the cap");
        assert!(a.table_growing(0, 4, None).unwrap());
        assert!(!a.table_growing(6, 7, None).unwrap());
    }
}
