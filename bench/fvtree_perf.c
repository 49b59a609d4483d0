/* SPDX-License-Identifier: MIT */
/*
 * fvtree_perf.c: hand-run micro-check of the flat-range tree (src/fvtree.c):
 * lookup ns for the C1 layout (N ranges of 4 KiB every 64 KiB, random
 * 8-byte-aligned addresses inside them) at N = 1000, 2000 and 1e6, against
 * the plain sorted-array binary search flat views use today; plus the cost
 * of single-range replaces. Each size is built three ways: bulk (one
 * mt__fvt_new), by appending one range at a time, and by inserting one at
 * a time in random order (the shapes incremental commits leave). Not built by CMake; build against a build tree:
 *
 *   cc -O2 -std=c11 -D_GNU_SOURCE -Iinclude -Isrc bench/fvtree_perf.c \
 *      build/libmemtree.a -o /tmp/fvtree_perf && /tmp/fvtree_perf
 *
 * Times are thread CPU time (robust on a loaded machine).
 * "indep": lookups whose addresses are known in advance (what C1 does; the
 * CPU overlaps consecutive lookups). "chain": each address depends on the
 * previous result (pure latency).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fvtree.h"
#include "internal.h"

#define BASE 0x100000000ull
#define STRIDE 0x10000ull
#define RSIZE 0x1000ull
#define NACC 1000000u
#define REPS 7

static uint64_t rng(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Today's flat view lookup (internal.h mt__lookup without the MRU hint). */
static inline const mt_flat_range *array_lookup(const uint64_t *starts,
                                                const mt_flat_range *ranges,
                                                size_t nr, uint64_t addr)
{
    size_t lo = 0, n = nr;

    while (n > 1) {
        size_t half = n / 2;

        if (starts[lo + half] <= addr)
            lo += half;
        n -= half;
    }
    if (nr == 0 || starts[lo] > addr || addr > ranges[lo].last)
        return NULL;
    return &ranges[lo];
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double median(double *v)
{
    qsort(v, REPS, sizeof(*v), cmp_d);
    return v[REPS / 2];
}

static void one(mt_ctx *ctx, size_t n, int mode)
{
    mt_flat_range *r = calloc(n, sizeof(*r));
    uint64_t *starts = malloc(n * sizeof(*starts));
    uint64_t *addrs = malloc(NACC * sizeof(*addrs));
    uint64_t seed = 0x9E3779B97F4A7C15ull ^ (uint64_t)n, acc = 0;
    double ti[REPS], tc[REPS], ai[REPS], ac[REPS], t0;
    mt_fvtree *t = NULL;
    unsigned rep, i;

    for (size_t x = 0; x < n; x++) {
        r[x].start = BASE + x * STRIDE;
        r[x].last = r[x].start + RSIZE - 1;
        r[x].offset = x;
        starts[x] = r[x].start;
    }
    for (i = 0; i < NACC; i++) {
        uint64_t v = rng(&seed);

        addrs[i] = BASE + (v % n) * STRIDE + ((v >> 32) % (RSIZE / 8)) * 8;
    }
    if (mode == 0) {
        if (mt__fvt_new(ctx, r, n, &t)) {
            fprintf(stderr, "build failed\n");
            exit(1);
        }
    } else {
        /* One range at a time: appended in order, or in random order. */
        size_t *ord = malloc(n * sizeof(*ord));
        mt_fvtree *nt;

        for (size_t x = 0; x < n; x++)
            ord[x] = x;
        for (size_t x = n - 1; mode == 2 && x > 0; x--) {
            size_t y = rng(&seed) % (x + 1), tmp = ord[x];

            ord[x] = ord[y];
            ord[y] = tmp;
        }
        mt__fvt_new(ctx, NULL, 0, &t);
        for (size_t x = 0; x < n; x++) {
            size_t at = mt__fvt_lower(t, r[ord[x]].start);

            if (mt__fvt_replace(t, at, at, &r[ord[x]], 1, &nt)) {
                fprintf(stderr, "insert failed\n");
                exit(1);
            }
            mt__fvt_free(t);
            t = nt;
        }
        free(ord);
    }
    for (rep = 0; rep < REPS; rep++) {
        uint64_t dep = 0;

        t0 = now_ns();
        for (i = 0; i < NACC; i++)
            acc += mt__fvt_lookup(t, addrs[i])->offset;
        ti[rep] = (now_ns() - t0) / NACC;

        t0 = now_ns();
        for (i = 0; i < NACC; i++)
            dep = mt__fvt_lookup(t, addrs[i] + (dep & 0x10000000000ull))->offset;
        tc[rep] = (now_ns() - t0) / NACC;
        acc += dep;

        t0 = now_ns();
        for (i = 0; i < NACC; i++)
            acc += array_lookup(starts, r, n, addrs[i])->offset;
        ai[rep] = (now_ns() - t0) / NACC;

        dep = 0;
        t0 = now_ns();
        for (i = 0; i < NACC; i++)
            dep = array_lookup(starts, r, n,
                               addrs[i] + (dep & 0x10000000000ull))->offset;
        ac[rep] = (now_ns() - t0) / NACC;
        acc += dep;
    }
    printf("%8zu ranges, %-6s height %u: tree %5.1f ns indep %5.1f ns chain | "
           "array %5.1f ns indep %5.1f ns chain  (%llu)\n",
           n, mode == 0 ? "bulk" : mode == 1 ? "append" : "random",
           mt__fvt_height(t), median(ti), median(tc), median(ai),
           median(ac), (unsigned long long)(acc & 1));

    /* Single-range replaces (each version freed after the next is made). */
    {
        unsigned nrep = n > 100000 ? 100000 : 200000;
        mt_fvtree *cur = t, *nt;

        t0 = now_ns();
        for (i = 0; i < nrep; i++) {
            size_t x = rng(&seed) % n;
            mt_flat_range fr = r[x];

            fr.offset = i;
            if (mt__fvt_replace(cur, x, x + 1, &fr, 1, &nt)) {
                fprintf(stderr, "replace failed\n");
                exit(1);
            }
            if (cur != t)
                mt__fvt_free(cur);
            cur = nt;
        }
        printf("%8zu ranges: single-range replace %.0f ns\n", n,
               (now_ns() - t0) / nrep);
        if (cur != t)
            mt__fvt_free(cur);
    }
    mt__fvt_free(t);
    free(r);
    free(starts);
    free(addrs);
}

int main(int argc, char **argv)
{
    mt_ctx *ctx = NULL;

    if (mt_ctx_new(&ctx, NULL))
        return 1;
    if (argc > 1) {
        for (int a = 1; a < argc; a++)
            for (int mode = 0; mode < 3; mode++)
                one(ctx, strtoull(argv[a], NULL, 0), mode);
    } else {
        for (int mode = 0; mode < 3; mode++) {
            one(ctx, 1000, mode);
            one(ctx, 2000, mode);
            one(ctx, 1000000, mode);
        }
    }
    mt_ctx_free(ctx);
    return 0;
}
