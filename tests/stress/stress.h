/* SPDX-License-Identifier: MIT */
/*
 * stress.h: helpers shared by the concurrency stress tests (tests/stress):
 * failure reporting that works from any thread, the iteration count from
 * the environment, a per-thread generator, thread start/join, and a
 * watchdog that turns a deadlock into a clear failure.
 *
 * These tests are plain C (cmocka's assertions are not thread-safe). A
 * failure prints "FAIL: ..." on stderr and the program exits 1; a skip
 * exits 77.
 */
#ifndef MT_STRESS_H
#define MT_STRESS_H

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "memtree.h"

/* ---- failures ------------------------------------------------------------ */

/* Print "FAIL: file:line: message" and end the process with status 1 at
 * once, from any thread (other threads may be inside memtree: no exit
 * handlers, no leak report of what they hold). */
static inline void stress_fail_at(const char *file, int line,
                                  const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "FAIL: %s:%d: %s\n", file, line, msg);
    fflush(stderr);
    fflush(stdout);
    _exit(1);
}

#define SFAIL(...) stress_fail_at(__FILE__, __LINE__, __VA_ARGS__)

/* A memtree call that must return 0. */
#define SOK(expr)                                                           \
    do {                                                                    \
        int rc_ = (expr);                                                   \
        if (rc_ != 0)                                                       \
            SFAIL("%s returned %d (%s), expected 0", #expr, rc_,            \
                  mt_err_name(rc_));                                        \
    } while (0)

/* Wrong values are counted and the first few printed; the test fails at
 * its end when any was seen (so one run shows several at once). */
static atomic_ulong stress_errors;

#define SERR(...)                                                           \
    do {                                                                    \
        if (atomic_fetch_add(&stress_errors, 1) < 20) {                     \
            fprintf(stderr, "ERROR: %s:%d: ", __FILE__, __LINE__);          \
            fprintf(stderr, __VA_ARGS__);                                   \
            fputc('\n', stderr);                                            \
        }                                                                   \
    } while (0)

/* ---- parameters ---------------------------------------------------------- */

/*
 * The iteration count: MT_STRESS_ITERS when set (the long form, `make
 * stress`, sets 100000), else @dflt (20000 in every program), short
 * enough for `make check`.
 */
static inline unsigned long stress_iters(unsigned long dflt)
{
    const char *s = getenv("MT_STRESS_ITERS");
    char *end;
    unsigned long v;

    if (!s || !*s)
        return dflt;
    v = strtoul(s, &end, 0);
    if (*end || v == 0)
        SFAIL("MT_STRESS_ITERS='%s': expected a positive integer", s);
    return v;
}

/* @v scaled by @num / @den (at least 1): a test's own share of the count. */
static inline unsigned long stress_scale(unsigned long v, unsigned long num,
                                         unsigned long den)
{
    unsigned long r = (unsigned long)((unsigned long long)v * num / den);

    return r ? r : 1;
}

/* ---- randomness, time ------------------------------------------------------ */

/* xorshift64*: each thread owns its state. */
static inline uint64_t stress_rng(uint64_t *s)
{
    uint64_t x = *s;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * UINT64_C(0x2545F4914F6CDD1D);
}

static inline unsigned stress_pick(uint64_t *s, unsigned n)
{
    return (unsigned)(stress_rng(s) % n);
}

/* The seed: MT_STRESS_SEED when set, else the time (printed, to replay). */
static inline uint64_t stress_seed(void)
{
    const char *s = getenv("MT_STRESS_SEED");
    uint64_t seed;

    if (s && *s)
        seed = strtoull(s, NULL, 0);
    else
        seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
    if (!seed)
        seed = 1;
    printf("seed %#" PRIx64 " (MT_STRESS_SEED=%#" PRIx64 " replays the "
           "writer's choices)\n", seed, seed);
    return seed;
}

static inline double stress_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void stress_sleep_us(unsigned us)
{
    struct timespec ts = { us / 1000000, (long)(us % 1000000) * 1000 };

    nanosleep(&ts, NULL);
}

/* ---- threads ----------------------------------------------------------------- */

static inline pthread_t stress_start(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    int rc = pthread_create(&t, NULL, fn, arg);

    if (rc)
        SFAIL("pthread_create: %s", strerror(rc));
    return t;
}

static inline void stress_join(pthread_t t)
{
    int rc = pthread_join(t, NULL);

    if (rc)
        SFAIL("pthread_join: %s", strerror(rc));
}

/* ---- the watchdog -------------------------------------------------------------- */

/*
 * Threads bump their heartbeat as they go and say what they are doing;
 * when no heartbeat moves for MT_STRESS_WATCHDOG seconds (default 60) the
 * watchdog prints every thread's last step and fails the test: a deadlock
 * shows as a message naming the call that never returned, not as a CTest
 * timeout.
 */
#define STRESS_MAX_THREADS 8

typedef struct stress_beat {
    const char *name;
    atomic_ulong count;
    _Atomic(const char *) doing;
} stress_beat;

static stress_beat stress_beats[STRESS_MAX_THREADS];
static atomic_uint stress_nbeats;
static atomic_bool stress_watch_stop;
static pthread_t stress_watch_thread;

/* Register a thread (from the thread that starts it, before it starts). */
static inline stress_beat *stress_beat_new(const char *name)
{
    unsigned i = atomic_fetch_add(&stress_nbeats, 1);

    if (i >= STRESS_MAX_THREADS)
        SFAIL("too many threads for the watchdog");
    stress_beats[i].name = name;
    atomic_store(&stress_beats[i].doing, "starting");
    return &stress_beats[i];
}

static inline void stress_step(stress_beat *b, const char *doing)
{
    atomic_store_explicit(&b->doing, doing, memory_order_relaxed);
    atomic_fetch_add_explicit(&b->count, 1, memory_order_relaxed);
}

static inline void *stress_watch_main(void *arg)
{
    double limit = *(double *)arg;
    unsigned long last[STRESS_MAX_THREADS] = { 0 };
    double still = stress_now();

    free(arg);
    while (!atomic_load(&stress_watch_stop)) {
        unsigned n = atomic_load(&stress_nbeats);
        bool moved = false;

        stress_sleep_us(100000);
        for (unsigned i = 0; i < n; i++) {
            unsigned long c = atomic_load_explicit(&stress_beats[i].count,
                                                   memory_order_relaxed);

            if (c != last[i])
                moved = true;
            last[i] = c;
        }
        if (moved) {
            still = stress_now();
            continue;
        }
        if (stress_now() - still < limit)
            continue;
        fprintf(stderr, "FAIL: no thread made progress for %.0f s "
                        "(deadlock?); last step of each thread:\n", limit);
        for (unsigned i = 0; i < n; i++)
            fprintf(stderr, "  %-10s %lu steps, last: %s\n",
                    stress_beats[i].name, last[i],
                    atomic_load(&stress_beats[i].doing));
        fflush(stderr);
        _exit(1);
    }
    return NULL;
}

static inline void stress_watchdog_start(void)
{
    const char *s = getenv("MT_STRESS_WATCHDOG");
    double *limit = malloc(sizeof(*limit));

    if (!limit)
        SFAIL("out of memory");
    *limit = s && *s ? strtod(s, NULL) : 60.0;
    stress_watch_thread = stress_start(stress_watch_main, limit);
}

static inline void stress_watchdog_stop(void)
{
    atomic_store(&stress_watch_stop, true);
    stress_join(stress_watch_thread);
}

/* End of a test: status 1 when any wrong value was seen. */
static inline int stress_result(const char *test)
{
    unsigned long e = atomic_load(&stress_errors);

    if (e) {
        fprintf(stderr, "FAIL: %s: %lu wrong value(s) (the first ones are "
                        "printed above)\n", test, e);
        return 1;
    }
    printf("PASS: %s\n", test);
    return 0;
}

#endif /* MT_STRESS_H */
