// poll_oneoff with timers. Each line prints how long a 50 ms wait took in the guest's monotonic
// clock ("name elapsed_ms=N"); the test checks N >= 50 and that it is not absurdly long. Then
// raw poll_oneoff calls: two relative timers (10 ms and 2 s) must report only the first; an
// absolute timer 50 ms ahead; and stdin readiness (the test pipes data into stdin).
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <wasi/api.h>

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void print_elapsed(const char *name, long long start, int result) {
    printf("%s result=%d elapsed_ms=%lld\n", name, result, (now_ns() - start) / 1000000);
}

static void clock_sub(__wasi_subscription_t *sub, __wasi_userdata_t userdata, __wasi_timestamp_t timeout,
                      __wasi_subclockflags_t flags) {
    memset(sub, 0, sizeof(*sub));
    sub->userdata = userdata;
    sub->u.tag = __WASI_EVENTTYPE_CLOCK;
    sub->u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    sub->u.u.clock.timeout = timeout;
    sub->u.u.clock.flags = flags;
}

int main(void) {
    long long start = now_ns();
    int result = poll(NULL, 0, 50);
    print_elapsed("poll", start, result);

    start = now_ns();
    struct timespec fifty_ms = {0, 50000000};
    result = nanosleep(&fifty_ms, NULL);
    print_elapsed("nanosleep", start, result);

    start = now_ns();
    result = clock_nanosleep(CLOCK_MONOTONIC, 0, &fifty_ms, NULL);
    print_elapsed("clock_nanosleep", start, result);

    start = now_ns();
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_nsec += 50000000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec += 1;
        deadline.tv_nsec -= 1000000000;
    }
    result = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, NULL);
    print_elapsed("clock_nanosleep_abstime", start, result);

    __wasi_subscription_t subs[2];
    __wasi_event_t events[2];
    __wasi_size_t nevents = 0;
    clock_sub(&subs[0], 1, 10000000, 0);
    clock_sub(&subs[1], 2, 2000000000, 0);
    start = now_ns();
    __wasi_errno_t err = __wasi_poll_oneoff(subs, events, 2, &nevents);
    long long elapsed_ms = (now_ns() - start) / 1000000;
    printf("two_timers errno=%d nevents=%lu first_userdata=%llu type=%d fast=%d\n", err, (unsigned long)nevents,
           nevents > 0 ? (unsigned long long)events[0].userdata : 0ULL, nevents > 0 ? events[0].type : -1,
           elapsed_ms < 1500);

    clock_sub(&subs[0], 7, (__wasi_timestamp_t)now_ns() + 50000000, __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME);
    start = now_ns();
    err = __wasi_poll_oneoff(subs, events, 1, &nevents);
    printf("abstime errno=%d nevents=%lu userdata=%llu elapsed_ms=%lld\n", err, (unsigned long)nevents,
           (unsigned long long)events[0].userdata, (now_ns() - start) / 1000000);

    memset(&subs[0], 0, sizeof(subs[0]));
    subs[0].userdata = 3;
    subs[0].u.tag = __WASI_EVENTTYPE_FD_READ;
    subs[0].u.u.fd_read.file_descriptor = 0;
    clock_sub(&subs[1], 4, 5000000000ULL, 0);
    err = __wasi_poll_oneoff(subs, events, 2, &nevents);
    int stdin_ready = 0;
    for (__wasi_size_t i = 0; i < nevents; i++) {
        if (events[i].userdata == 3 && events[i].type == __WASI_EVENTTYPE_FD_READ && events[i].error == 0) {
            stdin_ready = 1;
        }
    }
    printf("stdin errno=%d ready=%d\n", err, stdin_ready);
    return 0;
}
