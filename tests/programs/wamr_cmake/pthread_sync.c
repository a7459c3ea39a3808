/* WAMR's lib-pthread from a guest: mutexes, condition variables, join, exit, keys, cancel.
 *
 *   pthread_sync THREADS ROUNDS ITEMS
 *
 * Prints one line per check with the value it measured (the test computes what each must be
 * from the arguments) and exits 0; exits 1 with "failed: ..." when a call fails. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <pthread.h>

#define MAX_THREADS 16

static pthread_mutex_t lock;
static volatile unsigned counter;
static int rounds;

static pthread_mutex_t queue_lock;
static pthread_cond_t queue_changed;
static int queue_full;
static unsigned queue_item;

static pthread_key_t key;
static unsigned destructor_sum;
static int keys_own_value = 1;
static pthread_t selves[MAX_THREADS];

static void fail(const char *what, int result)
{
    printf("failed: %s (%d)\n", what, result);
    exit(1);
}

#define CHECK(call)                     \
    do {                                \
        int result_ = (call);           \
        if (result_ != 0)               \
            fail(#call, result_);       \
    } while (0)

/* Adds to the counter in a read-then-write window that loses updates without the mutex. */
static void *count(void *arg)
{
    int index = (int)(intptr_t)arg;
    selves[index] = pthread_self();
    CHECK(pthread_setspecific(key, (void *)(uintptr_t)(index + 1)));
    for (int i = 0; i < rounds; i++) {
        CHECK(pthread_mutex_lock(&lock));
        unsigned seen = counter;
        for (volatile int spin = 0; spin < 50; spin++) {
        }
        counter = seen + 1;
        CHECK(pthread_mutex_unlock(&lock));
    }
    if ((uintptr_t)pthread_getspecific(key) != (uintptr_t)(index + 1)) {
        CHECK(pthread_mutex_lock(&lock));
        keys_own_value = 0;
        CHECK(pthread_mutex_unlock(&lock));
    }
    return (void *)(uintptr_t)(index * 3 + 1);
}

static void add_to_destructor_sum(void *value)
{
    pthread_mutex_lock(&lock);
    destructor_sum += (unsigned)(uintptr_t)value;
    pthread_mutex_unlock(&lock);
}

/* Hands 1..ITEMS to the main thread one at a time through a one-slot queue. */
static void *produce(void *arg)
{
    unsigned items = (unsigned)(uintptr_t)arg;
    for (unsigned i = 1; i <= items; i++) {
        CHECK(pthread_mutex_lock(&queue_lock));
        while (queue_full)
            CHECK(pthread_cond_wait(&queue_changed, &queue_lock));
        queue_item = i;
        queue_full = 1;
        CHECK(pthread_cond_broadcast(&queue_changed));
        CHECK(pthread_mutex_unlock(&queue_lock));
    }
    return NULL;
}

static void leave_early(void)
{
    pthread_exit((void *)99);
}

static void *exit_from_deep_inside(void *arg)
{
    (void)arg;
    leave_early();
    return (void *)1; /* not reached */
}

/* Runs wasm code only, never calling the host: cancelled by the runtime in wasm code. */
static void *spin_forever(void *arg)
{
    (void)arg;
    CHECK(pthread_setspecific(key, (void *)1000));
    for (volatile unsigned spins = 0;; spins++) {
    }
    return NULL;
}

/* Cancelled in pthread_cond_wait, a cancellation point. */
static void *wait_forever(void *arg)
{
    (void)arg;
    CHECK(pthread_setspecific(key, (void *)2000));
    pthread_mutex_lock(&queue_lock);
    for (;;)
        pthread_cond_wait(&queue_changed, &queue_lock);
    return NULL;
}

static const char *cancelled(void *(*body)(void *))
{
    pthread_t thread;
    void *retval = NULL;
    CHECK(pthread_create(&thread, NULL, body, NULL));
    usleep(50 * 1000); /* let it get going (or waiting) */
    CHECK(pthread_cancel(thread));
    CHECK(pthread_join(thread, &retval));
    return retval == PTHREAD_CANCELED ? "PTHREAD_CANCELED" : "something else";
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
    if (argc != 4)
        fail("usage: pthread_sync THREADS ROUNDS ITEMS", argc);
    int threads = atoi(argv[1]);
    rounds = atoi(argv[2]);
    unsigned items = (unsigned)atoi(argv[3]);
    if (threads < 1 || threads > MAX_THREADS)
        fail("THREADS must be 1 to 16", threads);
    setvbuf(stdout, NULL, _IOLBF, 0);

    CHECK(pthread_mutex_init(&lock, NULL));
    CHECK(pthread_mutex_init(&queue_lock, NULL));
    CHECK(pthread_cond_init(&queue_changed, NULL));
    CHECK(pthread_key_create(&key, add_to_destructor_sum));
    CHECK(pthread_setspecific(key, (void *)7));

    pthread_t workers[MAX_THREADS];
    for (int i = 0; i < threads; i++)
        CHECK(pthread_create(&workers[i], NULL, count, (void *)(intptr_t)i));
    unsigned retval_sum = 0;
    for (int i = 0; i < threads; i++) {
        void *retval;
        CHECK(pthread_join(workers[i], &retval));
        retval_sum += (unsigned)(uintptr_t)retval;
    }
    printf("counter %u\n", counter);
    printf("retval sum %u\n", retval_sum);
    printf("destructor sum %u\n", destructor_sum);
    printf("own key values %s\n", keys_own_value ? "yes" : "no");
    printf("main key value %u\n", (unsigned)(uintptr_t)pthread_getspecific(key));
    int distinct = pthread_self() == 0;
    for (int i = 0; i < threads; i++)
        for (int j = 0; j < threads; j++)
            if (selves[i] == 0 || (i != j && selves[i] == selves[j]))
                distinct = 0;
    printf("thread ids distinct %s\n", distinct ? "yes" : "no");

    pthread_t producer;
    CHECK(pthread_create(&producer, NULL, produce, (void *)(uintptr_t)items));
    unsigned sum = 0;
    for (unsigned got = 0; got < items; got++) {
        CHECK(pthread_mutex_lock(&queue_lock));
        while (!queue_full)
            CHECK(pthread_cond_wait(&queue_changed, &queue_lock));
        sum += queue_item;
        queue_full = 0;
        CHECK(pthread_cond_broadcast(&queue_changed));
        CHECK(pthread_mutex_unlock(&queue_lock));
    }
    CHECK(pthread_join(producer, NULL));
    printf("queue sum %u\n", sum);

    CHECK(pthread_mutex_lock(&queue_lock));
    double start = now_ms();
    int timed = pthread_cond_timedwait(&queue_changed, &queue_lock, 50000);
    double waited = now_ms() - start;
    CHECK(pthread_mutex_unlock(&queue_lock)); /* held again after the timeout */
    printf("timedwait %s after %s 50 ms\n", timed == ETIMEDOUT ? "ETIMEDOUT" : "something else",
           waited >= 50.0 ? ">=" : "<");

    pthread_t leaver;
    void *left_with;
    CHECK(pthread_create(&leaver, NULL, exit_from_deep_inside, NULL));
    CHECK(pthread_join(leaver, &left_with));
    printf("pthread_exit value %u\n", (unsigned)(uintptr_t)left_with);

    printf("cancel spinning: %s\n", cancelled(spin_forever));
    printf("cancel waiting: %s\n", cancelled(wait_forever));
    /* Cancelled threads' key destructors ran (with 1000 and 2000). */
    printf("destructor sum after cancels %u\n", destructor_sum);
    /* The cancelled waiter left the mutex free (its wait had released it). */
    CHECK(pthread_mutex_lock(&queue_lock));
    CHECK(pthread_mutex_unlock(&queue_lock));

    printf("relock %s\n", pthread_mutex_lock(&lock) == 0 && pthread_mutex_lock(&lock) != 0 ? "refused" : "allowed");
    CHECK(pthread_mutex_unlock(&lock));
    CHECK(pthread_cond_destroy(&queue_changed));
    CHECK(pthread_mutex_destroy(&queue_lock));
    CHECK(pthread_key_delete(key));
    return 0;
}
