/* SPDX-License-Identifier: MIT */
/*
 * bench.h: helpers shared by the mt-bench workloads (timing, medians, the
 * deterministic generator, result lines) and the workload entry points.
 *
 * Output format of mt-bench: one figure per line, "name value unit";
 * lines starting with '#' are comments.
 */
#ifndef MT_BENCH_H
#define MT_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Divisor applied to every access/iteration count: 1, or 100 with --quick. */
extern unsigned bench_div;

/* @n scaled down by bench_div, never below 1. */
static inline uint64_t bench_count(uint64_t n)
{
    uint64_t c = n / bench_div;

    return c ? c : 1;
}

/* Monotonic clock in nanoseconds. */
static inline uint64_t bench_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline int bench_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* Median of @n samples (sorts @v in place); mean of the middle two when @n is even. */
static inline uint64_t bench_median(uint64_t *v, unsigned n)
{
    qsort(v, n, sizeof(*v), bench_cmp_u64);
    if (n & 1)
        return v[n / 2];
    return (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* xorshift64* generator (same as the peer benchmarks'). */
static inline uint64_t bench_rng(uint64_t *s)
{
    uint64_t x = *s;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* Print one figure: "name value unit". */
static inline void bench_report(const char *name, double value,
                                const char *unit)
{
    printf("%s %.3f %s\n", name, value, unit);
    fflush(stdout);
}

/* Exit with status 1 and a message (setup failures, wrong results). */
#define BENCH_FAIL(...)                                                     \
    do {                                                                    \
        fprintf(stderr, "mt-bench: " __VA_ARGS__);                          \
        fputc('\n', stderr);                                                \
        exit(1);                                                            \
    } while (0)

/* Abort the run when a memtree call returns non-zero. */
#define BENCH_CHECK(call)                                                   \
    do {                                                                    \
        long long rc_ = (long long)(call);                                  \
        if (rc_ != 0)                                                       \
            BENCH_FAIL("%s:%d: %s returned %lld", __FILE__, __LINE__,       \
                       #call, rc_);                                         \
    } while (0)

/* Workloads (bench_access.c). Each prints its figures. */
void bench_c1(void);
void bench_c2(void);
void bench_c3(void);
void bench_d(void);
void bench_a(void);
void bench_b(void);
void bench_dirty(void);
void bench_hva(void);
void bench_rcu(void); /* bench_rcu.c */

/* Snapshots (bench_snapshot.c). */
void bench_reset(void);

/* Live migration (bench_migrate.c). */
void bench_migrate(void);

#endif /* MT_BENCH_H */
