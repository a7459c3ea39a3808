/* WAMR's lib-pthread interface as a guest sees it (wasock's own declarations; the ABI is
 * described in docs/wamr-pthread-abi.md). wasi-libc of 2022 has no pthread.h, and these
 * functions are not defined anywhere in the program: linked with --allow-undefined, they
 * become imports from module `env`, which the runtime provides. */
#ifndef WASOCK_TEST_WAMR_PTHREAD_H
#define WASOCK_TEST_WAMR_PTHREAD_H

#include <stdint.h>

/* The object types are wasi-libc's (musl's, from sys/types.h, which socket headers include
 * anyway): pthread_t is a 32-bit value, and the runtime keeps its 32-bit handle in the first
 * word of a pthread_mutex_t or pthread_cond_t. WAMR's own header declares all four as
 * unsigned int; at the wasm level the two are the same. */
#define __NEED_pthread_key_t
#include <sys/types.h>

/* What a cancelled thread returns to its joiner. */
#define PTHREAD_CANCELED ((void *)-1)

int pthread_create(pthread_t *thread, const void *attr, void *(*start)(void *), void *arg);
int pthread_join(pthread_t thread, void **retval);
int pthread_detach(pthread_t thread);
int pthread_cancel(pthread_t thread);
pthread_t pthread_self(void);
void pthread_exit(void *retval);

int pthread_mutex_init(pthread_mutex_t *mutex, const void *attr);
int pthread_mutex_lock(pthread_mutex_t *mutex);
int pthread_mutex_unlock(pthread_mutex_t *mutex);
int pthread_mutex_destroy(pthread_mutex_t *mutex);

int pthread_cond_init(pthread_cond_t *cond, const void *attr);
int pthread_cond_wait(pthread_cond_t *cond, pthread_mutex_t *mutex);
/* Not POSIX's: the timeout is in microseconds from now. */
int pthread_cond_timedwait(pthread_cond_t *cond, pthread_mutex_t *mutex, uint64_t useconds);
int pthread_cond_signal(pthread_cond_t *cond);
int pthread_cond_broadcast(pthread_cond_t *cond);
int pthread_cond_destroy(pthread_cond_t *cond);

int pthread_key_create(pthread_key_t *key, void (*destructor)(void *));
int pthread_setspecific(pthread_key_t key, const void *value);
void *pthread_getspecific(pthread_key_t key);
int pthread_key_delete(pthread_key_t key);

#endif
