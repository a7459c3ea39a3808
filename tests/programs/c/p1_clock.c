// Clocks: prints the realtime clock in nanoseconds (the test compares it with the host's),
// checks that 10000 monotonic readings never decrease, prints clock_getres of both clocks,
// and that time() agrees with CLOCK_REALTIME.
#include <stdio.h>
#include <time.h>

static long long ns(struct timespec t) {
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(void) {
    struct timespec t;
    if (clock_gettime(CLOCK_REALTIME, &t) != 0) {
        printf("FAIL clock_gettime(CLOCK_REALTIME)\n");
        return 1;
    }
    printf("realtime_ns=%lld\n", ns(t));
    long long realtime_s = (long long)t.tv_sec;
    long long time_s = (long long)time(NULL);
    printf("time_matches=%d\n", time_s - realtime_s >= 0 && time_s - realtime_s <= 2);

    struct timespec first, prev, cur;
    clock_gettime(CLOCK_MONOTONIC, &first);
    prev = first;
    int decreases = 0;
    for (int i = 0; i < 10000; i++) {
        clock_gettime(CLOCK_MONOTONIC, &cur);
        if (ns(cur) < ns(prev)) {
            decreases++;
        }
        prev = cur;
    }
    printf("monotonic_decreases=%d\n", decreases);
    printf("monotonic_advanced=%d\n", ns(prev) > ns(first));

    struct timespec res;
    if (clock_getres(CLOCK_REALTIME, &res) != 0) {
        printf("FAIL clock_getres(CLOCK_REALTIME)\n");
        return 1;
    }
    printf("res_realtime_ns=%lld\n", ns(res));
    if (clock_getres(CLOCK_MONOTONIC, &res) != 0) {
        printf("FAIL clock_getres(CLOCK_MONOTONIC)\n");
        return 1;
    }
    printf("res_monotonic_ns=%lld\n", ns(res));
    return 0;
}
