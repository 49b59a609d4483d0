/* SPDX-License-Identifier: MIT */
/*
 * bench_ram.c: the guest-RAM workloads.
 *  dirty: collect and clear the dirty pages of a 16 GiB RAM block in which
 *         1% of the pages (random, fixed seed) are dirty: one snapshot
 *         (atomic take of the MIGRATION bitmap) and the count of pages in
 *         it. Walking the pages one by one (mt_dirty_snapshot_next) is
 *         reported apart: that is the consumer's work.
 *  hva:   host address -> (block, offset) among 1,000 RAM blocks at random
 *         host addresses inside them.
 * The block is reserved, not touched: the figure is the bitmap work.
 */
#include <memtree.h>

#include "bench.h"

#define GIB (1ull << 30)

static double dirty_once(mt_region *r, uint64_t size, uint64_t npages,
                         double *walk_ms)
{
    uint64_t seed = 0x5eed, t0, t1, t2, found, walked = 0, off;
    mt_dirty_snapshot *s;

    for (uint64_t i = 0; i < npages / 100; i++) {
        uint64_t p = bench_rng(&seed) % npages;

        mt_region_dirty_set(r, p * MT_DIRTY_PAGE_SIZE, 1,
                            MT_DIRTY_MIGRATION);
    }
    t0 = bench_now_ns();
    if (mt_region_dirty_snapshot(r, 0, size, MT_DIRTY_CLIENT_MIGRATION, &s))
        BENCH_FAIL("snapshot");
    found = mt_dirty_snapshot_count(s);
    t1 = bench_now_ns();
    for (off = mt_dirty_snapshot_next(s, 0); off != UINT64_MAX;
         off = mt_dirty_snapshot_next(s, off + MT_DIRTY_PAGE_SIZE))
        walked++;
    t2 = bench_now_ns();
    mt_dirty_snapshot_free(s);
    if (!found || found > npages / 100 || walked != found)
        BENCH_FAIL("dirty pages found: %llu", (unsigned long long)found);
    *walk_ms = (double)(t2 - t1) / 1e6;
    return (double)(t1 - t0) / 1e6;
}

void bench_dirty(void)
{
    uint64_t size = bench_div > 1 ? GIB : 16 * GIB;
    uint64_t npages = size / MT_DIRTY_PAGE_SIZE, v[7], w[7];
    mt_region *r;
    mt_ctx *ctx;

    printf("# dirty: collect and clear the MIGRATION dirty pages of a %llu GiB "
           "block, 1%% dirty (snapshot + count; the walk apart), median of 7, ms\n",
           (unsigned long long)(size / GIB));
    if (mt_ctx_new(&ctx, NULL) || mt_region_new_ram(ctx, "ram", size, &r))
        BENCH_FAIL("cannot reserve %llu GiB", (unsigned long long)(size / GIB));
    /* New blocks start dirty: clear that first. */
    bool was;
    if (mt_region_dirty_test_and_clear(r, 0, size, MT_DIRTY_CLIENT_MIGRATION,
                                       &was))
        BENCH_FAIL("clear");
    for (int i = 0; i < 7; i++) {
        double walk;

        v[i] = (uint64_t)(dirty_once(r, size, npages, &walk) * 1e6);
        w[i] = (uint64_t)(walk * 1e6);
    }
    bench_report("dirty_sync_ms_16g", (double)bench_median(v, 7) / 1e6, "ms");
    bench_report("dirty_walk_ms_16g", (double)bench_median(w, 7) / 1e6, "ms");
    mt_ctx_free(ctx);
}

void bench_hva(void)
{
    enum { NB = 1000 };
    uint64_t n = bench_count(10000000), seed = 42, v[5], sink = 0;
    mt_region *r[NB];
    uintptr_t *addr = malloc(n * sizeof(*addr));
    mt_ctx *ctx;

    printf("# hva: HVA -> (block, offset) among %d blocks of 64 KiB, random "
           "addresses, median of 5, ns\n", NB);
    if (!addr || mt_ctx_new(&ctx, NULL))
        BENCH_FAIL("setup");
    for (int i = 0; i < NB; i++)
        if (mt_region_new_ram(ctx, "ram", 64 << 10, &r[i]))
            BENCH_FAIL("block %d", i);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t x = bench_rng(&seed);

        addr[i] = (uintptr_t)mt_region_ram_ptr(r[x % NB]) + (x >> 32) % (64 << 10);
    }
    for (int rep = 0; rep < 5; rep++) {
        uint64_t t0 = bench_now_ns();

        for (uint64_t i = 0; i < n; i++) {
            mt_region *hit;
            uint64_t off;

            if (mt_ctx_hva_to_ram(ctx, (void *)addr[i], &hit, &off))
                BENCH_FAIL("lookup missed");
            sink += off;
        }
        v[rep] = (bench_now_ns() - t0) * 1000 / n;
    }
    bench_report("hva_lookup_ns_n1000", (double)bench_median(v, 5) / 1000.0,
                 "ns");
    printf("# (checksum %llu)\n", (unsigned long long)(sink & 0xff));
    mt_ctx_free(ctx);
    free(addr);
}
