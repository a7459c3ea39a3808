/* wasi-threads in a module that defines its shared memory (linked with --shared-memory but
 * without --import-memory, like WAMR's samples): the main thread calls wasi::thread-spawn
 * THREADS times, each thread runs on a stack the main thread allocated for it
 * (thread_start.s), fills and checks a 16 KiB stack buffer, and records what it saw of a
 * global that lives in the module's data.
 *
 *   spawn_own_memory THREADS
 *
 * Prints "data seen by every thread: N" (the global's value as the main thread set it) and
 * "stacks intact: yes|no", then exits 0. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define MAX_THREADS 16
#define STACK_BYTES (64 * 1024)

int32_t thread_spawn(void *start_arg) __attribute__((import_module("wasi"), import_name("thread-spawn")));

struct start {
    uintptr_t stack_top; /* read by thread_start.s: keep it first */
    int index;
};

/* In the module's data: an instance that applied the data again would put 1234 back. */
static int shared_value = 1234;
static int seen[MAX_THREADS];
static int stack_ok[MAX_THREADS];
static int32_t finished;

void thread_main(int32_t tid, struct start *start)
{
    (void)tid;
    volatile unsigned char scratch[16 * 1024];
    for (unsigned i = 0; i < sizeof(scratch); i++)
        scratch[i] = (unsigned char)(start->index * 31 + i);
    int ok = 1;
    for (unsigned i = 0; i < sizeof(scratch); i++)
        if (scratch[i] != (unsigned char)(start->index * 31 + i))
            ok = 0;
    seen[start->index] = shared_value;
    stack_ok[start->index] = ok;
    __atomic_fetch_add(&finished, 1, __ATOMIC_SEQ_CST);
    __builtin_wasm_memory_atomic_notify((int32_t *)&finished, 1);
}

int main(int argc, char **argv)
{
    static struct start starts[MAX_THREADS];
    int threads = argc > 1 ? atoi(argv[1]) : 4;
    if (threads < 1 || threads > MAX_THREADS) {
        printf("failed: THREADS must be 1 to 16\n");
        return 1;
    }
    shared_value = 5678;
    for (int i = 0; i < threads; i++) {
        unsigned char *stack = malloc(STACK_BYTES);
        if (!stack) {
            printf("failed: malloc\n");
            return 1;
        }
        starts[i].stack_top = (uintptr_t)(stack + STACK_BYTES);
        starts[i].index = i;
        int32_t tid = thread_spawn(&starts[i]);
        if (tid <= 0) {
            printf("failed: thread-spawn returned %d\n", (int)tid);
            return 1;
        }
    }
    /* Bounded: 100 waits of at most 100 ms. */
    for (int round = 0; round < 100; round++) {
        int32_t now = __atomic_load_n(&finished, __ATOMIC_SEQ_CST);
        if (now >= threads)
            break;
        __builtin_wasm_memory_atomic_wait32((int32_t *)&finished, now, 100 * 1000 * 1000);
    }
    if (__atomic_load_n(&finished, __ATOMIC_SEQ_CST) != threads) {
        printf("failed: only %d of %d threads finished\n", (int)finished, threads);
        return 1;
    }
    int agreed = 1, intact = 1;
    for (int i = 0; i < threads; i++) {
        agreed &= seen[i] == shared_value;
        intact &= stack_ok[i];
    }
    /* One write(2), not stdio: wasm-ld wraps wasi_thread_start of a command module in
     * __wasm_call_ctors/__wasm_call_dtors, so each thread runs libc's exit-time flush of
     * stdout as it ends, possibly while main is inside printf (unlocked: the libc is not
     * built for threads), which printed lines twice now and then. */
    char report[128];
    int len = snprintf(report, sizeof(report), "data seen by every thread: %d\nmain still sees: %d\nstacks intact: %s\n",
                       agreed ? shared_value : -1, shared_value, intact ? "yes" : "no");
    if (write(1, report, (size_t)len) != len)
        return 1;
    return 0;
}
