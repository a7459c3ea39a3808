/* Threads blocked for good in WAMR's lib-pthread, for --timeout to stop.
 *
 *   pthread_blocked cond   the main thread waits on a condition variable nobody signals
 *   pthread_blocked join   the main thread joins a thread that waits on one
 *
 * Prints "blocked in WHAT" just before blocking. Never exits by itself. */
#include <stdio.h>
#include <string.h>

#include <pthread.h>

static pthread_mutex_t lock;
static pthread_cond_t never;

static void *wait_forever(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    for (;;)
        pthread_cond_wait(&never, &lock);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "cond";
    setvbuf(stdout, NULL, _IOLBF, 0);
    pthread_mutex_init(&lock, NULL);
    pthread_cond_init(&never, NULL);
    if (strcmp(what, "join") == 0) {
        pthread_t waiter;
        if (pthread_create(&waiter, NULL, wait_forever, NULL) != 0) {
            printf("failed: pthread_create\n");
            return 1;
        }
        printf("blocked in join\n");
        pthread_join(waiter, NULL);
    } else {
        printf("blocked in cond\n");
        wait_forever(NULL);
    }
    printf("unblocked\n");
    return 0;
}
