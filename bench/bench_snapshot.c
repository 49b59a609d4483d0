/* SPDX-License-Identifier: MIT */
/*
 * bench_snapshot.c: the snapshot workload.
 *  reset: a 1 GiB guest (every page touched) with an armed snapshot; 1% of
 *         its pages (random, fixed seed) are written through the access
 *         path, then mt_snapshot_reset() copies back only those
 *         (reset_us_1g_1pct), against mt_snapshot_restore(), which copies
 *         the whole 1 GiB back (reset_full_us_1g). Also: taking the
 *         snapshot, and saving it (checksums and format) to /dev/null.
 * --quick uses 64 MiB (the names stay; the figures then mean nothing).
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <memtree.h>

#include "bench.h"

#define MIB (1ull << 20)
#define REPS 7

static void dirty_some(mt_as *as, uint64_t npages, uint64_t n, uint64_t *seed)
{
    for (uint64_t i = 0; i < n; i++) {
        uint64_t x = bench_rng(seed);
        uint64_t addr = (x % npages) * MT_DIRTY_PAGE_SIZE + (x >> 52) * 8 % 4096;

        if (mt_as_store(as, addr, 8, MT_ENDIAN_LITTLE, MT_ATTRS_UNSPECIFIED,
                        x) != MT_TX_OK)
            BENCH_FAIL("store at %#llx", (unsigned long long)addr);
    }
}

void bench_reset(void)
{
    uint64_t size = bench_div > 1 ? 64 * MIB : 1024 * MIB;
    uint64_t npages = size / MT_DIRTY_PAGE_SIZE, seed = 0x5eed;
    uint64_t v[REPS], f[REPS], t0, take_ns, save_ns, copied = 0;
    mt_region *sys, *ram;
    mt_snapshot *snap;
    mt_snapshot_error err;
    uint8_t *host;
    mt_ctx *ctx;
    mt_as *as;
    int null;

    printf("# reset: %llu MiB guest, every page touched; reset after 1%% of "
           "pages were written vs full restore; median of %d, us\n",
           (unsigned long long)(size / MIB), REPS);
    if (mt_ctx_new(&ctx, NULL) ||
        mt_region_new_container(ctx, "system", MT_SIZE_FULL, &sys) ||
        mt_region_new_ram(ctx, "ram", size, &ram) ||
        mt_region_add_subregion(sys, 0, ram) ||
        mt_as_new(ctx, sys, "memory", &as))
        BENCH_FAIL("setup");
    host = mt_region_ram_ptr(ram);
    for (uint64_t p = 0; p < npages; p++)
        memset(host + p * MT_DIRTY_PAGE_SIZE, (int)(p % 251) + 1, 64);

    t0 = bench_now_ns();
    if (mt_snapshot_take(ctx, MT_SNAPSHOT_TRACK, &snap, &err))
        BENCH_FAIL("take: %s", err.msg);
    take_ns = bench_now_ns() - t0;

    for (int i = 0; i < REPS; i++) {
        uint64_t pages;

        dirty_some(as, npages, npages / 100, &seed);
        t0 = bench_now_ns();
        BENCH_CHECK(mt_snapshot_reset(ctx, snap, &pages, NULL));
        v[i] = bench_now_ns() - t0;
        if (pages == 0 || pages > npages / 100)
            BENCH_FAIL("reset copied %llu pages", (unsigned long long)pages);
        copied = pages;
    }
    if (memcmp(host, mt_snapshot_block_data(snap, 0), (size_t)size))
        BENCH_FAIL("memory differs from the snapshot after a reset");
    for (int i = 0; i < REPS; i++) {
        dirty_some(as, npages, npages / 100, &seed);
        t0 = bench_now_ns();
        BENCH_CHECK(mt_snapshot_restore(ctx, snap, 0, NULL));
        f[i] = bench_now_ns() - t0;
    }
    if (memcmp(host, mt_snapshot_block_data(snap, 0), (size_t)size))
        BENCH_FAIL("memory differs from the snapshot after a restore");

    null = open("/dev/null", O_WRONLY);
    if (null < 0)
        BENCH_FAIL("/dev/null");
    t0 = bench_now_ns();
    BENCH_CHECK(mt_snapshot_save(snap, null, NULL));
    save_ns = bench_now_ns() - t0;
    close(null);

    {
        double dirty = (double)bench_median(v, REPS) / 1e3;
        double full = (double)bench_median(f, REPS) / 1e3;

        bench_report("reset_us_1g_1pct", dirty, "us");
        bench_report("reset_full_us_1g", full, "us");
        bench_report("reset_speedup_1g", full / dirty, "x");
    }
    bench_report("reset_pages_1g_1pct", (double)copied, "pages");
    bench_report("snapshot_take_ms_1g", (double)take_ns / 1e6, "ms");
    bench_report("snapshot_save_ms_1g", (double)save_ns / 1e6, "ms");
    mt_snapshot_free(snap);
    mt_ctx_free(ctx);
}
