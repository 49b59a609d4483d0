/* SPDX-License-Identifier: MIT */
/*
 * bench_topology.c: workloads A and B of ../shared/bench/peers (map, then
 * unmap, N RAM regions of 4 KiB at a 64 KiB stride, one transaction per
 * operation) with one registered listener that counts events.
 *
 * At a million regions one mmap per region would exceed the kernel's
 * default limit of 65,530 mappings per process, so every region is RAM over
 * caller memory (mt_region_new_ram_ptr) carved from one arena; the regions
 * are created before the timed loop, as Unicorn's figures exclude nothing
 * but engine creation (its map includes the allocation: see
 * docs/benchmarks.md).
 */
#include <memtree.h>
#include <string.h>

#include "bench.h"

#define BASE 0x10000000ull
#define STRIDE 0x10000ull
#define RSIZE 0x1000ull

static uint64_t events;

static void count_event(void *opaque, const mt_flat_range *r)
{
    (void)opaque, (void)r;
    events++;
}

typedef struct ab_result {
    double map_us;   /* mean per map */
    double unmap_us; /* mean per unmap, in the order mapped */
} ab_result;

static ab_result run_ab(uint64_t n)
{
    mt_listener_ops ops = { .region_add = count_event,
                            .region_del = count_event };
    mt_region *sys, **r;
    mt_listener *l;
    mt_ctx *ctx;
    mt_as *as;
    uint8_t *arena;
    uint64_t t0, t1, t2, i;
    ab_result res;

    r = calloc(n, sizeof(*r));
    arena = calloc(n, RSIZE);
    if (!r || !arena)
        BENCH_FAIL("out of memory for %llu regions", (unsigned long long)n);
    if (mt_ctx_new(&ctx, NULL) ||
        mt_region_new_container(ctx, "system", MT_SIZE_FULL, &sys) ||
        mt_as_new(ctx, sys, "memory", &as) ||
        mt_listener_register(as, &ops, NULL, &l))
        BENCH_FAIL("setup failed");
    for (i = 0; i < n; i++)
        if (mt_region_new_ram_ptr(ctx, "ram", RSIZE, arena + i * RSIZE, &r[i]))
            BENCH_FAIL("region %llu", (unsigned long long)i);
    events = 0;
    t0 = bench_now_ns();
    for (i = 0; i < n; i++)
        if (mt_region_add_subregion(sys, BASE + i * STRIDE, r[i]))
            BENCH_FAIL("map %llu", (unsigned long long)i);
    t1 = bench_now_ns();
    for (i = 0; i < n; i++)
        if (mt_region_del_subregion(sys, r[i]))
            BENCH_FAIL("unmap %llu", (unsigned long long)i);
    t2 = bench_now_ns();
    if (events != 2 * n)
        BENCH_FAIL("expected %llu events, got %llu",
                   (unsigned long long)(2 * n), (unsigned long long)events);
    res.map_us = (double)(t1 - t0) / 1e3 / (double)n;
    res.unmap_us = (double)(t2 - t1) / 1e3 / (double)n;
    mt_ctx_free(ctx);
    free(arena);
    free(r);
    return res;
}

static const uint64_t sizes[] = { 1000, 100000, 1000000 };

/* Medians of 5 runs (1,000), 3 runs (100,000) and 1 run (1,000,000). */
static void run(bool map)
{
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        uint64_t n = bench_count(sizes[k]);
        unsigned reps = sizes[k] <= 1000 ? 5 : sizes[k] <= 100000 ? 3 : 1;
        uint64_t v[5];
        char name[64];

        for (unsigned r = 0; r < reps; r++) {
            ab_result res = run_ab(n);

            v[r] = (uint64_t)((map ? res.map_us : res.unmap_us) * 1000.0);
        }
        snprintf(name, sizeof(name), "%s_n%llu", map ? "a_map_us" : "b_unmap_us",
                 (unsigned long long)sizes[k]);
        bench_report(name, (double)bench_median(v, reps) / 1000.0, "us");
    }
}

void bench_a(void)
{
    printf("# a: map N x 4 KiB RAM regions (64 KiB stride), one transaction "
           "each, one counting listener; mean us per map\n");
    run(true);
}

void bench_b(void)
{
    printf("# b: unmap them in the order mapped, one transaction each; "
           "mean us per unmap\n");
    run(false);
}
