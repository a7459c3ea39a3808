//! WAMR's lib-pthread ABI (`env.pthread_*`), the engine-agnostic half: the registry of one
//! instance's threads, mutexes, condition variables and keys.
//!
//! A guest built against WAMR's `pthread.h` keeps a 32-bit *handle* in each `pthread_t`,
//! `pthread_mutex_t` and `pthread_cond_t`; the objects themselves live here, keyed by handle.
//! As in WAMR, threads, mutexes and condition variables draw their handles from one counter
//! starting at 1, and the main thread's `pthread_self()` is 0. docs/wamr-pthread-abi.md has
//! the whole ABI and where wasock differs from WAMR.
//!
//! Everything a guest can create is bounded: threads by the caller (`--max-threads`) and
//! ended threads waiting for a join by [`MAX_UNJOINED_THREADS`],
//! mutexes and condition variables together by [`MAX_SYNC_OBJECTS`], keys by [`MAX_KEYS`]
//! (EAGAIN past them). Every wait (a contended mutex, a condition variable, a join) waits on
//! a host condition variable, so no host lock is held while blocked, and in slices of at
//! most [`WAIT_SLICE`], checking the instance's [`Interrupt`] after each: `--timeout`, a
//! `proc_exit` or a trap in another thread ends the wait with the stop reason.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::errno::{Errno, Error, Result};
use crate::interrupt::Interrupt;
use crate::memory::GuestMemory;

/// A handle as the guest sees it (`pthread_t`, and the contents of `pthread_mutex_t` and
/// `pthread_cond_t`).
pub type Handle = u32;

/// The main thread's `pthread_self()`, as in WAMR.
pub const MAIN_THREAD: Handle = 0;

/// Keys per instance: WAMR's `WAMR_PTHREAD_KEYS_MAX`.
pub const MAX_KEYS: usize = 32;

/// Mutexes and condition variables that may exist at once (initialised, not destroyed).
pub const MAX_SYNC_OBJECTS: usize = 16384;

/// Ended threads that were neither joined nor detached, kept for a join that may come:
/// past this many `pthread_create` fails (EAGAIN) until some are joined.
pub const MAX_UNJOINED_THREADS: usize = 16384;

/// The longest a blocked thread waits before it looks at the instance's interrupt again.
pub const WAIT_SLICE: Duration = Duration::from_millis(20);

/// A thread the guest created with `pthread_create`.
#[derive(Debug)]
struct ThreadEntry {
    joinable: bool,
    /// `Some(retval)` once the thread has ended.
    ended: Option<u32>,
}

/// A condition variable. Each waiter takes a ticket; a signal wakes the oldest waiter that
/// is not woken yet, a broadcast all of them, so a wake-up only ever goes to a thread that
/// was waiting when it was given (never to one that starts waiting afterwards).
#[derive(Debug, Default)]
struct CondEntry {
    next_ticket: u64,
    /// Tickets of threads waiting and not yet woken, oldest first.
    waiting: BTreeSet<u64>,
    /// Tickets of threads woken that have not left the wait yet.
    woken: BTreeSet<u64>,
}

impl CondEntry {
    fn busy(&self) -> bool {
        !self.waiting.is_empty() || !self.woken.is_empty()
    }
}

#[derive(Debug)]
enum Object {
    Mutex { owner: Option<Handle> },
    Cond(CondEntry),
}

#[derive(Default)]
struct State {
    next_handle: Handle,
    threads: HashMap<Handle, ThreadEntry>,
    /// Entries of `threads` whose thread has not ended.
    running: usize,
    /// Running threads `pthread_cancel` was called for.
    cancelled: HashSet<Handle>,
    objects: HashMap<Handle, Object>,
    /// Each key's destructor (a function table index, 0 for none), `None` if free.
    keys: [Option<u32>; MAX_KEYS],
    /// Each thread's key values (only threads that set one).
    values: HashMap<Handle, [u32; MAX_KEYS]>,
}

impl State {
    /// A handle in use by nothing: the counter wraps past `u32::MAX` and skips 0.
    fn new_handle(&mut self) -> Handle {
        loop {
            self.next_handle = self.next_handle.wrapping_add(1);
            let h = self.next_handle;
            if h != MAIN_THREAD && !self.threads.contains_key(&h) && !self.objects.contains_key(&h) {
                return h;
            }
        }
    }

    fn new_object(&mut self, object: Object) -> Result<Handle> {
        if self.objects.len() >= MAX_SYNC_OBJECTS {
            return Err(Errno::Again.into());
        }
        let h = self.new_handle();
        self.objects.insert(h, object);
        Ok(h)
    }

    fn mutex_owner(&mut self, h: Handle) -> Result<&mut Option<Handle>> {
        match self.objects.get_mut(&h) {
            Some(Object::Mutex { owner }) => Ok(owner),
            _ => Err(Errno::Inval.into()),
        }
    }

    fn cond(&mut self, h: Handle) -> Result<&mut CondEntry> {
        match self.objects.get_mut(&h) {
            Some(Object::Cond(c)) => Ok(c),
            _ => Err(Errno::Inval.into()),
        }
    }
}

/// The lib-pthread state of one instance, shared by all its threads.
#[derive(Default)]
pub struct Registry {
    state: Mutex<State>,
    /// Notified (all) whenever something a waiter may wait for changes.
    changed: Condvar,
    max_threads: u32,
}

/// What `pthread_create` reserved: the new thread's handle. Dropping it without
/// [`Registry::started`] (the OS thread could not start) frees the slot.
#[must_use]
pub struct NewThread<'a> {
    registry: &'a Registry,
    handle: Handle,
    started: bool,
}

impl NewThread<'_> {
    /// The handle the guest gets.
    pub fn handle(&self) -> Handle {
        self.handle
    }
}

impl Drop for NewThread<'_> {
    fn drop(&mut self) {
        if !self.started {
            let mut state = self.registry.lock();
            if state.threads.remove(&self.handle).is_some() {
                state.running -= 1;
            }
        }
    }
}

impl Registry {
    /// A registry for an instance whose guest may run `max_threads` threads besides its main one.
    pub fn new(max_threads: u32) -> Registry {
        Registry { state: Mutex::default(), changed: Condvar::new(), max_threads }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is consistent between statements: a panic elsewhere does not poison it.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits until `ready` returns `Some`, `deadline` passes (`Ok(None)`), the instance is
    /// stopped (its reason) or, at a cancellation point (`cancel_point` is the waiting
    /// thread), the thread is cancelled (ECANCELED). The state lock is released while waiting.
    fn wait<'a, T>(
        &'a self,
        mut state: MutexGuard<'a, State>,
        interrupt: &Interrupt,
        deadline: Option<Instant>,
        cancel_point: Option<Handle>,
        mut ready: impl FnMut(&mut State) -> Option<T>,
    ) -> Result<(MutexGuard<'a, State>, Option<T>)> {
        loop {
            if let Some(value) = ready(&mut state) {
                return Ok((state, Some(value)));
            }
            interrupt.check()?;
            if cancel_point.is_some_and(|me| state.cancelled.contains(&me)) {
                return Err(Errno::Canceled.into());
            }
            let mut slice = WAIT_SLICE;
            if let Some(d) = deadline {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Ok((state, None));
                }
                slice = slice.min(left);
            }
            state = self.changed.wait_timeout(state, slice).unwrap_or_else(|p| p.into_inner()).0;
        }
    }

    // ---- threads -----------------------------------------------------------------------

    /// Reserves a handle for a new thread: EAGAIN when `max_threads` threads already run
    /// (ended threads not yet joined do not count) or [`MAX_UNJOINED_THREADS`] wait to be joined.
    pub fn create_thread(&self) -> Result<NewThread<'_>> {
        let mut state = self.lock();
        let unjoined = state.threads.len() - state.running;
        if state.running >= self.max_threads as usize || unjoined >= MAX_UNJOINED_THREADS {
            return Err(Errno::Again.into());
        }
        let handle = state.new_handle();
        state.threads.insert(handle, ThreadEntry { joinable: true, ended: None });
        state.running += 1;
        Ok(NewThread { registry: self, handle, started: false })
    }

    /// The thread of `new` runs: its handle stays taken until it ends (and is joined).
    pub fn started(&self, mut new: NewThread<'_>) -> Handle {
        new.started = true;
        new.handle
    }

    /// Thread `me` ended with `retval`. Returns the key values it leaves with a destructor,
    /// as (destructor table index, value), for the caller to call in that thread first.
    pub fn take_destructors(&self, me: Handle) -> Vec<(u32, u32)> {
        let mut state = self.lock();
        let Some(values) = state.values.remove(&me) else { return Vec::new() };
        values
            .iter()
            .zip(state.keys)
            .filter_map(|(&value, key)| match key {
                Some(destructor) if value != 0 && destructor != 0 => Some((destructor, value)),
                _ => None,
            })
            .collect()
    }

    /// Thread `me` ended with `retval`: a joinable thread waits to be joined, a detached
    /// one is forgotten. Mutexes it still holds stay locked (as with native threads).
    pub fn exited(&self, me: Handle, retval: u32) {
        let mut state = self.lock();
        state.values.remove(&me);
        state.cancelled.remove(&me);
        match state.threads.get_mut(&me) {
            Some(t) if t.ended.is_some() => {}
            Some(t) if t.joinable => {
                t.ended = Some(retval);
                state.running -= 1;
            }
            Some(_) => {
                state.threads.remove(&me);
                state.running -= 1;
            }
            None => {}
        }
        drop(state);
        self.changed.notify_all();
    }

    /// `pthread_join(thread, retval_ptr)` from thread `me`: waits for `thread` to end and
    /// writes its return value at `retval_ptr` (unless 0). A handle that names no thread (it
    /// was detached or already joined) returns at once with 0, as in WAMR.
    pub fn join(
        &self,
        interrupt: &Interrupt,
        mem: &mut GuestMemory<'_>,
        me: Handle,
        thread: Handle,
        retval_ptr: u32,
    ) -> Result<()> {
        if retval_ptr != 0 {
            mem.check(retval_ptr, 4)?;
        }
        if thread == me {
            return Err(Errno::Deadlk.into());
        }
        let state = self.lock();
        match state.threads.get(&thread) {
            None => return Ok(()),
            Some(t) if !t.joinable => return Err(Errno::Inval.into()),
            Some(_) => {}
        }
        let (mut state, retval) =
            self.wait(state, interrupt, None, Some(me), |s| match s.threads.get(&thread) {
                Some(t) => t.ended,
                // Joined by another thread meanwhile.
                None => Some(0),
            })?;
        state.threads.remove(&thread);
        drop(state);
        if retval_ptr != 0 {
            mem.write(retval_ptr, retval.unwrap_or(0))?;
        }
        Ok(())
    }

    /// `pthread_detach(thread)`: an ended thread is forgotten now, a running one when it
    /// ends. An unknown handle is not an error, as in WAMR.
    pub fn detach(&self, thread: Handle) -> Result<()> {
        let mut state = self.lock();
        match state.threads.get_mut(&thread) {
            Some(t) if t.ended.is_some() => {
                state.threads.remove(&thread);
            }
            Some(t) => t.joinable = false,
            None => {}
        }
        Ok(())
    }

    /// `pthread_cancel(thread)`: asks a running thread to end. It ends at its next
    /// cancellation point: a `pthread_cond_wait` or `pthread_join` (which then fail with
    /// ECANCELED for the caller to end the thread) or, in the binding, running wasm code.
    /// An unknown or ended thread is not an error, as in WAMR.
    pub fn cancel(&self, thread: Handle) {
        let mut state = self.lock();
        if state.threads.get(&thread).is_some_and(|t| t.ended.is_none()) {
            state.cancelled.insert(thread);
        }
        drop(state);
        self.changed.notify_all();
    }

    /// Whether `pthread_cancel` was called for thread `me`.
    pub fn cancel_requested(&self, me: Handle) -> bool {
        self.lock().cancelled.contains(&me)
    }

    /// Threads created and not yet ended.
    pub fn running_threads(&self) -> usize {
        self.lock().running
    }

    // ---- mutexes -----------------------------------------------------------------------

    /// `pthread_mutex_init(mutex_ptr, attr)`: writes a new handle at `mutex_ptr`.
    pub fn mutex_init(&self, mem: &mut GuestMemory<'_>, mutex_ptr: u32) -> Result<()> {
        mem.check(mutex_ptr, 4)?;
        let handle = self.lock().new_object(Object::Mutex { owner: None })?;
        mem.write(mutex_ptr, handle)?;
        Ok(())
    }

    /// `pthread_mutex_lock(mutex_ptr)` by thread `me`. Locking a mutex `me` holds is
    /// EDEADLK (an error-checking mutex) rather than a deadlock.
    pub fn mutex_lock(
        &self,
        interrupt: &Interrupt,
        mem: &GuestMemory<'_>,
        me: Handle,
        mutex_ptr: u32,
    ) -> Result<()> {
        let mutex = mem.read::<u32>(mutex_ptr)?;
        let mut state = self.lock();
        if *state.mutex_owner(mutex)? == Some(me) {
            return Err(Errno::Deadlk.into());
        }
        self.acquire(state, interrupt, me, mutex)
    }

    /// Waits for `mutex` to be free and takes it for `me`.
    fn acquire(
        &self,
        state: MutexGuard<'_, State>,
        interrupt: &Interrupt,
        me: Handle,
        mutex: Handle,
    ) -> Result<()> {
        let (state, taken) = self.wait(state, interrupt, None, None, |s| match s.mutex_owner(mutex) {
            Ok(owner @ None) => {
                *owner = Some(me);
                Some(Ok(()))
            }
            Ok(Some(_)) => None,
            // Destroyed while we waited.
            Err(e) => Some(Err(e)),
        })?;
        drop(state);
        taken.unwrap_or(Ok(()))
    }

    /// `pthread_mutex_unlock(mutex_ptr)` by thread `me`: EPERM if `me` does not hold it.
    pub fn mutex_unlock(&self, mem: &GuestMemory<'_>, me: Handle, mutex_ptr: u32) -> Result<()> {
        let mutex = mem.read::<u32>(mutex_ptr)?;
        let mut state = self.lock();
        let owner = state.mutex_owner(mutex)?;
        if *owner != Some(me) {
            return Err(Errno::Perm.into());
        }
        *owner = None;
        drop(state);
        self.changed.notify_all();
        Ok(())
    }

    /// `pthread_mutex_destroy(mutex_ptr)`: EBUSY while locked.
    pub fn mutex_destroy(&self, mem: &GuestMemory<'_>, mutex_ptr: u32) -> Result<()> {
        let mutex = mem.read::<u32>(mutex_ptr)?;
        let mut state = self.lock();
        if state.mutex_owner(mutex)?.is_some() {
            return Err(Errno::Busy.into());
        }
        state.objects.remove(&mutex);
        Ok(())
    }

    // ---- condition variables -----------------------------------------------------------

    /// `pthread_cond_init(cond_ptr, attr)`: writes a new handle at `cond_ptr`.
    pub fn cond_init(&self, mem: &mut GuestMemory<'_>, cond_ptr: u32) -> Result<()> {
        mem.check(cond_ptr, 4)?;
        let handle = self.lock().new_object(Object::Cond(CondEntry::default()))?;
        mem.write(cond_ptr, handle)?;
        Ok(())
    }

    /// `pthread_cond_wait` (`timeout` None) and `pthread_cond_timedwait` (a timeout relative
    /// to now, WAMR's `useconds`) by thread `me`, which must hold the mutex (EPERM). The
    /// mutex is released while waiting and held again on return, ETIMEDOUT included; a stop
    /// ends the wait with the stop reason.
    pub fn cond_wait(
        &self,
        interrupt: &Interrupt,
        mem: &GuestMemory<'_>,
        me: Handle,
        cond_ptr: u32,
        mutex_ptr: u32,
        timeout: Option<Duration>,
    ) -> Result<()> {
        let cond = mem.read::<u32>(cond_ptr)?;
        let mutex = mem.read::<u32>(mutex_ptr)?;
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let mut state = self.lock();
        state.cond(cond)?;
        if *state.mutex_owner(mutex)? != Some(me) {
            return Err(Errno::Perm.into());
        }
        *state.mutex_owner(mutex)? = None;
        let c = state.cond(cond)?;
        let ticket = c.next_ticket;
        c.next_ticket += 1;
        c.waiting.insert(ticket);
        self.changed.notify_all();
        let waited = self.wait(state, interrupt, deadline, Some(me), |s| match s.cond(cond) {
            Ok(c) => c.woken.remove(&ticket).then_some(()),
            Err(_) => Some(()), // destroyed meanwhile: nothing left to wait for
        });
        let (mut state, woken) = match waited {
            Ok(waited) => waited,
            // Cancelled or stopped: the ticket leaves, and the mutex stays free.
            Err(e) => {
                if let Ok(c) = self.lock().cond(cond) {
                    c.waiting.remove(&ticket);
                    c.woken.remove(&ticket);
                }
                return Err(e);
            }
        };
        // At the deadline the ticket leaves; a wake-up that came with it still counts.
        let woken = woken.is_some()
            || state.cond(cond).is_ok_and(|c| {
                c.waiting.remove(&ticket);
                c.woken.remove(&ticket)
            });
        self.acquire(state, interrupt, me, mutex)?;
        match woken {
            true => Ok(()),
            false => Err(Errno::TimedOut.into()),
        }
    }

    /// `pthread_cond_signal` (`all` false) and `pthread_cond_broadcast` (`all` true).
    pub fn cond_wake(&self, mem: &GuestMemory<'_>, cond_ptr: u32, all: bool) -> Result<()> {
        let cond = mem.read::<u32>(cond_ptr)?;
        let mut state = self.lock();
        let c = state.cond(cond)?;
        while let Some(ticket) = c.waiting.pop_first() {
            c.woken.insert(ticket);
            if !all {
                break;
            }
        }
        drop(state);
        self.changed.notify_all();
        Ok(())
    }

    /// `pthread_cond_destroy(cond_ptr)`: EBUSY while a thread waits on it.
    pub fn cond_destroy(&self, mem: &GuestMemory<'_>, cond_ptr: u32) -> Result<()> {
        let cond = mem.read::<u32>(cond_ptr)?;
        let mut state = self.lock();
        if state.cond(cond)?.busy() {
            return Err(Errno::Busy.into());
        }
        state.objects.remove(&cond);
        Ok(())
    }

    // ---- keys --------------------------------------------------------------------------

    /// `pthread_key_create(key_ptr, destructor)`: the lowest free key of [`MAX_KEYS`]
    /// (EAGAIN when all are taken), written at `key_ptr`.
    pub fn key_create(&self, mem: &mut GuestMemory<'_>, key_ptr: u32, destructor: u32) -> Result<()> {
        mem.check(key_ptr, 4)?;
        let mut state = self.lock();
        let Some(key) = state.keys.iter().position(Option::is_none) else {
            return Err(Errno::Again.into());
        };
        state.keys[key] = Some(destructor);
        for values in state.values.values_mut() {
            values[key] = 0;
        }
        drop(state);
        mem.write(key_ptr, key as u32)?;
        Ok(())
    }

    /// `pthread_key_delete(key)`: EINVAL for a key not created.
    pub fn key_delete(&self, key: u32) -> Result<()> {
        let mut state = self.lock();
        match state.keys.get_mut(key as usize) {
            Some(slot @ Some(_)) => {
                *slot = None;
                Ok(())
            }
            _ => Err(Errno::Inval.into()),
        }
    }

    /// `pthread_setspecific(key, value)` in thread `me`: EINVAL for a key not created.
    pub fn set_specific(&self, me: Handle, key: u32, value: u32) -> Result<()> {
        let mut state = self.lock();
        if !matches!(state.keys.get(key as usize), Some(Some(_))) {
            return Err(Errno::Inval.into());
        }
        state.values.entry(me).or_insert([0; MAX_KEYS])[key as usize] = value;
        Ok(())
    }

    /// `pthread_getspecific(key)` in thread `me`: 0 for a key not created or not set.
    pub fn get_specific(&self, me: Handle, key: u32) -> u32 {
        let state = self.lock();
        match state.keys.get(key as usize) {
            Some(Some(_)) => state.values.get(&me).map_or(0, |v| v[key as usize]),
            _ => 0,
        }
    }
}

/// The wasm result of a lib-pthread call: 0, or the errno (WASI numbering) as a positive
/// number; a trap or stop stays an error.
pub fn status(result: Result<()>) -> std::result::Result<i32, Error> {
    match result {
        Ok(()) => Ok(0),
        Err(Error::Errno(e)) => Ok(i32::from(e.raw())),
        Err(stop) => Err(stop),
    }
}

#[cfg(test)]
mod tests;
