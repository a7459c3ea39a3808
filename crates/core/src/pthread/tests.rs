use std::sync::Arc;
use std::thread;

use super::*;
use crate::errno::Exit;

fn interrupt() -> Interrupt {
    Interrupt::new().expect("eventfd")
}

/// Runs `f` with a fresh 64-byte guest memory.
fn with_mem<T>(f: impl FnOnce(&mut GuestMemory<'_>) -> T) -> T {
    let mut bytes = vec![0u8; 64];
    let mut mem = GuestMemory::new(&mut bytes);
    f(&mut mem)
}

#[test]
fn handles_start_at_one_and_are_shared_by_threads_mutexes_and_conds() {
    let r = Registry::new(4);
    with_mem(|mem| {
        let t = r.create_thread().unwrap();
        assert_eq!(r.started(t), 1);
        r.mutex_init(mem, 0).unwrap();
        r.cond_init(mem, 4).unwrap();
        assert_eq!(mem.read::<u32>(0).unwrap(), 2);
        assert_eq!(mem.read::<u32>(4).unwrap(), 3);
        // A handle is of one kind: a cond handle is no mutex.
        assert_eq!(r.mutex_lock(&interrupt(), mem, MAIN_THREAD, 4), Err(Errno::Inval.into()));
    });
}

#[test]
fn mutex_owner_rules() {
    let r = Registry::new(4);
    let i = interrupt();
    with_mem(|mem| {
        r.mutex_init(mem, 0).unwrap();
        assert_eq!(r.mutex_unlock(mem, MAIN_THREAD, 0), Err(Errno::Perm.into()), "not locked");
        r.mutex_lock(&i, mem, MAIN_THREAD, 0).unwrap();
        assert_eq!(r.mutex_lock(&i, mem, MAIN_THREAD, 0), Err(Errno::Deadlk.into()));
        assert_eq!(r.mutex_unlock(mem, 7, 0), Err(Errno::Perm.into()), "another thread's");
        assert_eq!(r.mutex_destroy(mem, 0), Err(Errno::Busy.into()));
        r.mutex_unlock(mem, MAIN_THREAD, 0).unwrap();
        r.mutex_destroy(mem, 0).unwrap();
        assert_eq!(r.mutex_lock(&i, mem, MAIN_THREAD, 0), Err(Errno::Inval.into()), "destroyed");
        // A pointer outside memory traps, as WAMR's pointer check does.
        assert!(matches!(r.mutex_lock(&i, mem, MAIN_THREAD, 62), Err(Error::Trap(_))));
    });
}

#[test]
fn a_contended_mutex_serialises_increments() {
    const THREADS: u32 = 4;
    const ROUNDS: u32 = 2000;
    let r = Arc::new(Registry::new(THREADS));
    let i = Arc::new(interrupt());
    let mut bytes = vec![0u8; 8];
    with_mem(|mem| r.mutex_init(mem, 0).unwrap());
    GuestMemory::new(&mut bytes).write(0, 1u32).unwrap();
    let counter = Arc::new(Mutex::new(0u32)); // checked for overlap, not used as the lock
    let inside = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let workers: Vec<_> = (1..=THREADS)
        .map(|me| {
            let (r, i, counter, inside) = (r.clone(), i.clone(), counter.clone(), inside.clone());
            thread::spawn(move || {
                let mut bytes = 1u32.to_le_bytes().to_vec();
                let mem = GuestMemory::new(&mut bytes);
                for _ in 0..ROUNDS {
                    r.mutex_lock(&i, &mem, me, 0).unwrap();
                    assert_eq!(inside.fetch_add(1, std::sync::atomic::Ordering::SeqCst), 0, "two holders");
                    *counter.lock().unwrap() += 1;
                    inside.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                    r.mutex_unlock(&mem, me, 0).unwrap();
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    assert_eq!(*counter.lock().unwrap(), THREADS * ROUNDS);
}

/// Memory holding a mutex handle at 0 and a cond handle at 4, made by `r`.
fn mutex_and_cond(r: &Registry) -> Vec<u8> {
    let mut bytes = vec![0u8; 8];
    let mut mem = GuestMemory::new(&mut bytes);
    r.mutex_init(&mut mem, 0).unwrap();
    r.cond_init(&mut mem, 4).unwrap();
    bytes
}

#[test]
fn cond_signal_wakes_a_waiter_which_holds_the_mutex_again() {
    let r = Arc::new(Registry::new(4));
    let i = Arc::new(interrupt());
    let bytes = mutex_and_cond(&r);
    let (r2, i2, mut b2) = (r.clone(), i.clone(), bytes.clone());
    let waiter = thread::spawn(move || {
        let mem = GuestMemory::new(&mut b2);
        r2.mutex_lock(&i2, &mem, 1, 0).unwrap();
        let result = r2.cond_wait(&i2, &mem, 1, 4, 0, None);
        // It holds the mutex again: the main thread cannot unlock it.
        let still_held = r2.mutex_unlock(&mem, MAIN_THREAD, 0);
        r2.mutex_unlock(&mem, 1, 0).unwrap();
        (result, still_held)
    });
    let mut b = bytes.clone();
    let mem = GuestMemory::new(&mut b);
    // Wait until the waiter waits (it released the mutex), bounded.
    let start = Instant::now();
    while r.lock().cond(2).map(|c| c.waiting.len()).unwrap_or(0) == 0 {
        assert!(start.elapsed() < Duration::from_secs(5), "the waiter never waited");
        thread::sleep(Duration::from_millis(1));
    }
    r.mutex_lock(&i, &mem, MAIN_THREAD, 0).unwrap();
    r.cond_wake(&mem, 4, false).unwrap();
    r.mutex_unlock(&mem, MAIN_THREAD, 0).unwrap();
    let (result, still_held) = waiter.join().unwrap();
    assert_eq!(result, Ok(()));
    assert_eq!(still_held, Err(Errno::Perm.into()));
    // Without a waiter a signal is lost, as in POSIX: a timed wait then times out.
    r.cond_wake(&mem, 4, false).unwrap();
    r.mutex_lock(&i, &mem, MAIN_THREAD, 0).unwrap();
    let start = Instant::now();
    let timed = r.cond_wait(&i, &mem, MAIN_THREAD, 4, 0, Some(Duration::from_millis(60)));
    assert_eq!(timed, Err(Errno::TimedOut.into()));
    assert!(start.elapsed() >= Duration::from_millis(60));
    assert_eq!(r.mutex_lock(&i, &mem, MAIN_THREAD, 0), Err(Errno::Deadlk.into()), "held after the timeout");
    assert_eq!(r.cond_wait(&i, &mem, 5, 4, 0, None), Err(Errno::Perm.into()), "needs the mutex");
}

#[test]
fn broadcast_wakes_every_waiter() {
    const WAITERS: u32 = 3;
    let r = Arc::new(Registry::new(8));
    let i = Arc::new(interrupt());
    let bytes = mutex_and_cond(&r);
    let waiters: Vec<_> = (1..=WAITERS)
        .map(|me| {
            let (r, i, mut b) = (r.clone(), i.clone(), bytes.clone());
            thread::spawn(move || {
                let mem = GuestMemory::new(&mut b);
                r.mutex_lock(&i, &mem, me, 0).unwrap();
                let result = r.cond_wait(&i, &mem, me, 4, 0, Some(Duration::from_secs(10)));
                r.mutex_unlock(&mem, me, 0).unwrap();
                result
            })
        })
        .collect();
    let start = Instant::now();
    while r.lock().cond(2).map(|c| c.waiting.len()).unwrap_or(0) < WAITERS as usize {
        assert!(start.elapsed() < Duration::from_secs(5), "the waiters never waited");
        thread::sleep(Duration::from_millis(1));
    }
    let mut b = bytes.clone();
    let mem = GuestMemory::new(&mut b);
    assert_eq!(r.cond_destroy(&mem, 4), Err(Errno::Busy.into()));
    r.cond_wake(&mem, 4, true).unwrap();
    for w in waiters {
        assert_eq!(w.join().unwrap(), Ok(()));
    }
    assert!(start.elapsed() < Duration::from_secs(5), "woken by the broadcast, not the timeout");
    r.cond_destroy(&mem, 4).unwrap();
}

#[test]
fn a_stop_ends_waits_in_cond_wait_mutex_lock_and_join() {
    let r = Arc::new(Registry::new(4));
    let i = Arc::new(interrupt());
    let bytes = mutex_and_cond(&r);
    let thread = r.create_thread().unwrap();
    let joined = r.started(thread);
    let mut waits = Vec::new();
    for what in ["cond", "lock", "join"] {
        let (r, i, mut b) = (r.clone(), i.clone(), bytes.clone());
        waits.push(thread::spawn(move || {
            let mut mem = GuestMemory::new(&mut b);
            match what {
                "cond" => {
                    r.mutex_lock(&i, &mem, 10, 0).unwrap();
                    r.cond_wait(&i, &mem, 10, 4, 0, None)
                }
                "lock" => {
                    thread::sleep(Duration::from_millis(30)); // after "cond" took and released it
                    r.mutex_lock(&i, &mem, 11, 0).and_then(|()| r.mutex_lock(&i, &mem, 12, 0))
                }
                _ => r.join(&i, &mut mem, 13, joined, 0),
            }
        }));
    }
    thread::sleep(Duration::from_millis(100));
    let start = Instant::now();
    i.trigger(Error::Exit(Exit(3)));
    for w in waits {
        assert_eq!(w.join().unwrap(), Err(Error::Exit(Exit(3))));
    }
    assert!(start.elapsed() < Duration::from_secs(1), "stopped within a few wait slices");
}

#[test]
fn join_returns_the_value_and_detach_forgets() {
    let r = Arc::new(Registry::new(2));
    let i = interrupt();
    let a = r.create_thread().unwrap();
    let a = r.started(a);
    let b = r.create_thread().unwrap();
    let b = r.started(b);
    assert!(r.create_thread().is_err(), "--max-threads is 2");
    let r2 = r.clone();
    let ender = thread::spawn(move || {
        thread::sleep(Duration::from_millis(30));
        r2.exited(a, 0xBEEF);
    });
    with_mem(|mem| {
        assert_eq!(r.join(&i, mem, MAIN_THREAD, MAIN_THREAD, 0), Err(Errno::Deadlk.into()));
        r.join(&i, mem, MAIN_THREAD, a, 8).unwrap();
        assert_eq!(mem.read::<u32>(8).unwrap(), 0xBEEF);
        assert!(matches!(r.join(&i, mem, MAIN_THREAD, a, 70), Err(Error::Trap(_))), "bad retval pointer");
        // Joined: the handle names nothing now.
        mem.write(8, 5u32).unwrap();
        r.join(&i, mem, MAIN_THREAD, a, 8).unwrap();
        assert_eq!(mem.read::<u32>(8).unwrap(), 5, "nothing written for an unknown thread");
        r.detach(b).unwrap();
        assert_eq!(r.join(&i, mem, MAIN_THREAD, b, 0), Err(Errno::Inval.into()), "detached");
        r.exited(b, 1);
    });
    ender.join().unwrap();
    assert_eq!(r.running_threads(), 0);
    // Both slots are free again.
    drop(r.create_thread().unwrap());
    let c = r.create_thread().unwrap();
    drop(c); // never started: the slot is given back
    assert_eq!(r.running_threads(), 0);
}

#[test]
fn keys_are_per_thread_and_bounded() {
    let r = Registry::new(2);
    with_mem(|mem| {
        r.key_create(mem, 0, 77).unwrap();
        let key = mem.read::<u32>(0).unwrap();
        assert_eq!(key, 0);
        r.set_specific(MAIN_THREAD, key, 100).unwrap();
        r.set_specific(1, key, 200).unwrap();
        assert_eq!(r.get_specific(MAIN_THREAD, key), 100);
        assert_eq!(r.get_specific(1, key), 200);
        assert_eq!(r.get_specific(2, key), 0);
        assert_eq!(r.take_destructors(1), vec![(77, 200)]);
        assert_eq!(r.take_destructors(1), vec![], "taken once");
        for n in 1..MAX_KEYS {
            r.key_create(mem, 4, 0).unwrap();
            assert_eq!(mem.read::<u32>(4).unwrap(), n as u32);
        }
        assert_eq!(r.key_create(mem, 4, 0), Err(Errno::Again.into()), "all 32 taken");
        r.key_delete(key).unwrap();
        assert_eq!(r.key_delete(key), Err(Errno::Inval.into()));
        assert_eq!(r.set_specific(MAIN_THREAD, key, 1), Err(Errno::Inval.into()));
        assert_eq!(r.get_specific(MAIN_THREAD, key), 0);
        assert_eq!(r.set_specific(MAIN_THREAD, 9999, 1), Err(Errno::Inval.into()));
        // A key made anew starts with no values.
        r.key_create(mem, 0, 0).unwrap();
        assert_eq!(r.get_specific(MAIN_THREAD, key), 0);
    });
}

#[test]
fn sync_objects_are_capped() {
    let r = Registry::new(1);
    with_mem(|mem| {
        for _ in 0..MAX_SYNC_OBJECTS {
            r.mutex_init(mem, 0).unwrap();
        }
        assert_eq!(r.cond_init(mem, 4), Err(Errno::Again.into()));
        r.mutex_destroy(mem, 0).unwrap();
        r.cond_init(mem, 4).unwrap();
    });
}

#[test]
fn a_wake_up_goes_to_a_thread_that_was_waiting_not_to_a_later_one() {
    let r = Arc::new(Registry::new(4));
    let i = Arc::new(interrupt());
    let bytes = mutex_and_cond(&r);
    let (r2, i2, mut b2) = (r.clone(), i.clone(), bytes.clone());
    let early = thread::spawn(move || {
        let mem = GuestMemory::new(&mut b2);
        r2.mutex_lock(&i2, &mem, 1, 0).unwrap();
        let result = r2.cond_wait(&i2, &mem, 1, 4, 0, Some(Duration::from_secs(10)));
        r2.mutex_unlock(&mem, 1, 0).unwrap();
        result
    });
    let start = Instant::now();
    while r.lock().cond(2).map(|c| c.waiting.len()).unwrap_or(0) == 0 {
        assert!(start.elapsed() < Duration::from_secs(5), "the early waiter never waited");
        thread::sleep(Duration::from_millis(1));
    }
    let mut b = bytes.clone();
    let mem = GuestMemory::new(&mut b);
    r.mutex_lock(&i, &mem, MAIN_THREAD, 0).unwrap();
    r.cond_wake(&mem, 4, false).unwrap();
    // The signaller waits next, before the early waiter could take the mutex back: the
    // signal is not its to take.
    let late = r.cond_wait(&i, &mem, MAIN_THREAD, 4, 0, Some(Duration::from_millis(50)));
    assert_eq!(late, Err(Errno::TimedOut.into()));
    r.mutex_unlock(&mem, MAIN_THREAD, 0).unwrap();
    assert_eq!(early.join().unwrap(), Ok(()));
    assert!(start.elapsed() < Duration::from_secs(5), "woken by the signal, not its timeout");
}

#[test]
fn ended_threads_nobody_joins_are_capped() {
    let r = Registry::new(1);
    let mut first = None;
    for _ in 0..MAX_UNJOINED_THREADS {
        let t = r.create_thread().unwrap();
        let t = r.started(t);
        first.get_or_insert(t);
        r.exited(t, 0);
    }
    assert_eq!(r.create_thread().err(), Some(Errno::Again.into()), "none joined");
    with_mem(|mem| r.join(&interrupt(), mem, MAIN_THREAD, first.unwrap(), 0).unwrap());
    drop(r.create_thread().unwrap());
}

#[test]
fn cancel_ends_waits_at_cancellation_points_only() {
    let r = Arc::new(Registry::new(4));
    let i = Arc::new(interrupt());
    let bytes = mutex_and_cond(&r);
    let t = r.create_thread().unwrap();
    let waiter = r.started(t);
    let (r2, i2, mut b2) = (r.clone(), i.clone(), bytes.clone());
    let blocked = thread::spawn(move || {
        let mem = GuestMemory::new(&mut b2);
        r2.mutex_lock(&i2, &mem, waiter, 0).unwrap();
        r2.cond_wait(&i2, &mem, waiter, 4, 0, None)
    });
    thread::sleep(Duration::from_millis(50));
    assert!(!r.cancel_requested(waiter));
    r.cancel(waiter);
    assert!(r.cancel_requested(waiter));
    assert_eq!(blocked.join().unwrap(), Err(Errno::Canceled.into()));
    // The mutex was left free by the wait, and a mutex lock is no cancellation point.
    let mut b = bytes.clone();
    let mem = GuestMemory::new(&mut b);
    r.mutex_lock(&i, &mem, waiter, 0).unwrap();
    r.mutex_unlock(&mem, waiter, 0).unwrap();
    r.cond_destroy(&mem, 4).expect("the cancelled waiter no longer waits on it");
    r.exited(waiter, u32::MAX);
    assert!(!r.cancel_requested(waiter), "forgotten once ended");
    // An unknown or ended thread: nothing happens.
    r.cancel(9999);
    r.cancel(waiter);
    assert!(!r.cancel_requested(waiter));
}
