/* SPDX-License-Identifier: MIT */
/*
 * bench_access.c: workloads C1, C2, C3 and D of the peer benchmarks
 * (docs/benchmarks.md), run through memtree's access API.
 *
 *  C1  N RAM regions of 4 KiB at BASE + i*64 KiB in one container root;
 *      1e6 mt_as_write of 8 bytes, then 1e6 mt_as_read of 8 bytes, at
 *      pre-generated random 8-byte-aligned addresses. ns per access. Also
 *      the same accesses as plain host loads/stores (host_*: the floor set
 *      by the caches and TLB, no lookup at all).
 *  C2  Same layout, N = 2000: 2e5 mt_as_read of a whole 4 KiB region, random
 *      region each time (GB/s), against plain memcpy of the same blocks
 *      from the same host memory (the ceiling), host pointers precomputed
 *      in access order. memcpy4k_idx: the same copies with the pointer
 *      read from a table of the N regions indexed by the address (the
 *      cheapest lookup there is: what any lookup costs on top of memcpy).
 *  C3  One 64 MiB RAM region, pre-touched: 2e5 4 KiB reads at random
 *      4 KiB-aligned offsets (GB/s), plus 1e6 8-byte writes and reads.
 *  D   4-byte mt_as_store / mt_as_load in a host-side loop (5e6 iterations,
 *      median of 7 after one discarded warm-up) to an I/O region whose
 *      callbacks only bump a counter, and to a RAM page; also the same
 *      through mt_as_write / mt_as_read of a 4-byte buffer.
 *
 * Layout, counts, generator and seeds are those of the Unicorn programs
 * (bench/peers/unicorn/bench_rw.c, bench_mmio.c), so the addresses touched
 * are the same. Engine setup is never timed.
 */
#include <string.h>

#include <memtree.h>

#include "bench.h"

#define BASE    0x10000000ull
#define STRIDE  0x10000ull
#define RSIZE   0x1000ull
#define NACC    1000000u
#define NBIG    200000u
#define REPS    5u
#define D_RAM   0x600000ull
#define D_MMIO  0x10000000ull
#define D_ITER  5000000u
#define D_REPS  7u

/* Pre-generated addresses, shared by the workloads (one runs at a time). */
static uint64_t addrs[NACC];
/* The destination of 4 KiB reads: cache-line aligned, and half a page away
 * from the (page-aligned) sources' offsets in the page, so that neither
 * split stores nor 4K aliasing depend on where the linker put it. */
static uint8_t blk_mem[2 * RSIZE] __attribute__((aligned(4096)));
#define blk (blk_mem + RSIZE / 2)
static volatile uint64_t sink;

/* A real call to memcpy, as the library makes (never inlined or elided). */
static void *(*volatile bench_memcpy)(void *, const void *, size_t) = memcpy;

/* ------------------------------------------------------------------------ */
/* Many 4 KiB regions (C1, C2)                                               */
/* ------------------------------------------------------------------------ */

struct many {
    mt_ctx *ctx;
    mt_as *as;
    unsigned n;
    uint8_t **host; /* host memory of region i */
};

static void many_new(struct many *m, unsigned n)
{
    mt_region *root, *r;
    unsigned i;

    m->n = n;
    m->host = calloc(n, sizeof(*m->host));
    if (!m->host)
        BENCH_FAIL("out of memory");
    BENCH_CHECK(mt_ctx_new(&m->ctx, NULL));
    BENCH_CHECK(mt_region_new_container(m->ctx, "system", MT_SIZE_FULL,
                                        &root));
    for (i = 0; i < n; i++) {
        char name[32];

        snprintf(name, sizeof(name), "ram%u", i);
        BENCH_CHECK(mt_region_new_ram(m->ctx, name, RSIZE, &r));
        BENCH_CHECK(mt_region_add_subregion(root, BASE + (uint64_t)i * STRIDE,
                                            r));
        m->host[i] = mt_region_ram_ptr(r);
        if (!m->host[i])
            BENCH_FAIL("RAM region %u has no host memory", i);
        mt_region_unref(r);
    }
    BENCH_CHECK(mt_as_new(m->ctx, root, "memory", &m->as));
    mt_region_unref(root);
}

static void many_free(struct many *m)
{
    mt_ctx_free(m->ctx);
    free(m->host);
}

/* The addresses of bench_rw.c's c1_c2(n): same seed, same formula. */
static void gen_many_addrs(unsigned n, unsigned count)
{
    uint64_t seed = 0x9E3779B97F4A7C15ull ^ (uint64_t)n;
    unsigned i;

    for (i = 0; i < count; i++) {
        uint64_t r = bench_rng(&seed);

        addrs[i] = BASE + (r % n) * STRIDE + ((r >> 32) % (RSIZE / 8)) * 8;
    }
}

static void c1_one(unsigned n)
{
    const mt_attrs attrs = MT_ATTRS_UNSPECIFIED;
    unsigned nacc = (unsigned)bench_count(NACC);
    uint64_t tw[REPS], tr[REPS], thw[REPS], thr[REPS];
    uint64_t v, acc = 0;
    struct many m;
    char name[64];
    unsigned r, i;

    many_new(&m, n);
    gen_many_addrs(n, nacc);
    for (r = 0; r < REPS; r++) {
        mt_result res = MT_TX_OK;
        uint64_t t0, t1, t2, t3, t4;

        t0 = bench_now_ns();
        for (i = 0; i < nacc; i++) {
            v = i;
            res |= mt_as_write(m.as, addrs[i], attrs, &v, 8);
        }
        t1 = bench_now_ns();
        for (i = 0; i < nacc; i++) {
            res |= mt_as_read(m.as, addrs[i], attrs, &v, 8);
            acc += v;
        }
        t2 = bench_now_ns();
        /* The floor: the same accesses as plain host loads and stores. */
        for (i = 0; i < nacc; i++) {
            uint64_t a = addrs[i] - BASE;

            v = i;
            memcpy(m.host[a / STRIDE] + a % STRIDE, &v, 8);
        }
        t3 = bench_now_ns();
        for (i = 0; i < nacc; i++) {
            uint64_t a = addrs[i] - BASE;

            memcpy(&v, m.host[a / STRIDE] + a % STRIDE, 8);
            acc += v;
        }
        t4 = bench_now_ns();
        if (res != MT_TX_OK)
            BENCH_FAIL("c1: an access returned %#x", res);
        tw[r] = t1 - t0;
        tr[r] = t2 - t1;
        thw[r] = t3 - t2;
        thr[r] = t4 - t3;
    }
    sink += acc;
    /* The last write at each address wins; spot-check one. */
    v = 0;
    BENCH_CHECK(mt_as_read(m.as, addrs[nacc - 1], attrs, &v, 8));
    if (v > nacc - 1)
        BENCH_FAIL("c1: read back %llu", (unsigned long long)v);
    snprintf(name, sizeof(name), "c1_write8_ns_n%u", n);
    bench_report(name, (double)bench_median(tw, REPS) / nacc, "ns");
    snprintf(name, sizeof(name), "c1_read8_ns_n%u", n);
    bench_report(name, (double)bench_median(tr, REPS) / nacc, "ns");
    snprintf(name, sizeof(name), "host_write8_ns_n%u", n);
    bench_report(name, (double)bench_median(thw, REPS) / nacc, "ns");
    snprintf(name, sizeof(name), "host_read8_ns_n%u", n);
    bench_report(name, (double)bench_median(thr, REPS) / nacc, "ns");
    many_free(&m);
}

void bench_c1(void)
{
    printf("# c1: N x 4 KiB RAM regions at 0x10000000 + i*0x10000; %u 8-byte "
           "mt_as_write then %u 8-byte mt_as_read at random addresses "
           "(host_*: the same as plain host stores/loads); median of %u\n",
           (unsigned)bench_count(NACC), (unsigned)bench_count(NACC), REPS);
    c1_one(1000);
    c1_one(2000);
}

void bench_c2(void)
{
    const mt_attrs attrs = MT_ATTRS_UNSPECIFIED;
    const unsigned n = 2000;
    unsigned nbig = (unsigned)bench_count(NBIG);
    uint64_t tm[REPS], tc[REPS], ti[REPS], mm, mc, mi;
    const uint8_t **src;
    uint64_t acc = 0;
    struct many m;
    unsigned r, i;

    printf("# c2: %u x 4 KiB RAM regions; %u mt_as_read of a whole region "
           "(random region) vs memcpy of the same blocks (pointers "
           "precomputed; _idx: read from a per-region table); median of "
           "%u\n",
           n, nbig, REPS);
    many_new(&m, n);
    gen_many_addrs(n, nbig);
    /* Host pointers for the memcpy ceiling, looked up beforehand. */
    src = calloc(nbig, sizeof(*src));
    if (!src)
        BENCH_FAIL("out of memory");
    for (i = 0; i < nbig; i++) {
        addrs[i] &= ~(RSIZE - 1);
        src[i] = m.host[(addrs[i] - BASE) / STRIDE];
    }
    /* Fill every region (pages faulted in, contents distinct). */
    for (i = 0; i < n; i++)
        memset(m.host[i], (int)(i & 0xff), RSIZE);
    for (r = 0; r < REPS; r++) {
        mt_result res = MT_TX_OK;
        uint64_t t0, t1, t2, t3;

        t0 = bench_now_ns();
        for (i = 0; i < nbig; i++) {
            res |= mt_as_read(m.as, addrs[i], attrs, blk, RSIZE);
            acc += blk[i & (RSIZE - 1)];
        }
        t1 = bench_now_ns();
        for (i = 0; i < nbig; i++) {
            bench_memcpy(blk, src[i], RSIZE);
            acc += blk[i & (RSIZE - 1)];
        }
        t2 = bench_now_ns();
        for (i = 0; i < nbig; i++) {
            bench_memcpy(blk, m.host[(addrs[i] - BASE) / STRIDE], RSIZE);
            acc += blk[i & (RSIZE - 1)];
        }
        t3 = bench_now_ns();
        if (res != MT_TX_OK)
            BENCH_FAIL("c2: an access returned %#x", res);
        tm[r] = t1 - t0;
        tc[r] = t2 - t1;
        ti[r] = t3 - t2;
    }
    sink += acc;
    mm = bench_median(tm, REPS);
    mc = bench_median(tc, REPS);
    mi = bench_median(ti, REPS);
    bench_report("c2_read4k_ns_n2000", (double)mm / nbig, "ns");
    bench_report("c2_read4k_gbps_n2000", (double)nbig * RSIZE / (double)mm,
                 "GB/s");
    bench_report("memcpy4k_gbps_n2000", (double)nbig * RSIZE / (double)mc,
                 "GB/s");
    bench_report("memcpy4k_idx_gbps_n2000", (double)nbig * RSIZE / (double)mi,
                 "GB/s");
    printf("# c2: mt_as_read at %.1f%% of memcpy; memcpy with an indexed "
           "table lookup at %.1f%%\n", 100.0 * mc / mm, 100.0 * mc / mi);
    free(src);
    many_free(&m);
}

/* ------------------------------------------------------------------------ */
/* One 64 MiB region (C3)                                                    */
/* ------------------------------------------------------------------------ */

void bench_c3(void)
{
    const mt_attrs attrs = MT_ATTRS_UNSPECIFIED;
    const uint64_t big = 64ull << 20;
    unsigned nbig = (unsigned)bench_count(NBIG);
    unsigned nacc = (unsigned)bench_count(NACC);
    uint64_t tb[REPS], tw[REPS], tr[REPS], tc[REPS];
    uint64_t seed = 12345, v = 0, acc = 0, off;
    mt_region *root, *ram;
    uint8_t *host;
    mt_ctx *ctx;
    mt_as *as;
    unsigned r, i;

    printf("# c3: one 64 MiB RAM region, pre-touched; %u random 4 KiB reads "
           "(and memcpy of the same blocks), %u 8-byte writes and reads; "
           "median of %u\n", nbig, nacc, REPS);
    BENCH_CHECK(mt_ctx_new(&ctx, NULL));
    BENCH_CHECK(mt_region_new_container(ctx, "system", MT_SIZE_FULL, &root));
    BENCH_CHECK(mt_region_new_ram(ctx, "ram", big, &ram));
    BENCH_CHECK(mt_region_add_subregion(root, BASE, ram));
    host = mt_region_ram_ptr(ram);
    mt_region_unref(ram);
    BENCH_CHECK(mt_as_new(ctx, root, "memory", &as));
    mt_region_unref(root);
    for (i = 0; i < nacc; i++)
        addrs[i] = BASE + (bench_rng(&seed) % (big / RSIZE)) * RSIZE;
    /* Touch every page once so that first-touch faults are not timed. */
    memset(blk, 0xa5, RSIZE);
    for (off = 0; off < big; off += RSIZE)
        BENCH_CHECK(mt_as_write(as, BASE + off, attrs, blk, RSIZE));
    for (r = 0; r < REPS; r++) {
        mt_result res = MT_TX_OK;
        uint64_t t0, t1, t2, t3, t4;

        t0 = bench_now_ns();
        for (i = 0; i < nbig; i++) {
            res |= mt_as_read(as, addrs[i], attrs, blk, RSIZE);
            acc += blk[i & (RSIZE - 1)];
        }
        t1 = bench_now_ns();
        for (i = 0; i < nacc; i++)
            res |= mt_as_write(as, addrs[i] + 8 * (i & 511), attrs, &v, 8);
        t2 = bench_now_ns();
        for (i = 0; i < nacc; i++) {
            res |= mt_as_read(as, addrs[i] + 8 * (i & 511), attrs, &v, 8);
            acc += v;
        }
        t3 = bench_now_ns();
        for (i = 0; i < nbig; i++) {
            bench_memcpy(blk, host + (addrs[i] - BASE), RSIZE);
            acc += blk[i & (RSIZE - 1)];
        }
        t4 = bench_now_ns();
        if (res != MT_TX_OK)
            BENCH_FAIL("c3: an access returned %#x", res);
        tb[r] = t1 - t0;
        tw[r] = t2 - t1;
        tr[r] = t3 - t2;
        tc[r] = t4 - t3;
    }
    sink += acc;
    bench_report("c3_read4k_gbps_64m",
                 (double)nbig * RSIZE / (double)bench_median(tb, REPS), "GB/s");
    bench_report("memcpy4k_gbps_64m",
                 (double)nbig * RSIZE / (double)bench_median(tc, REPS), "GB/s");
    bench_report("c3_write8_ns_64m", (double)bench_median(tw, REPS) / nacc,
                 "ns");
    bench_report("c3_read8_ns_64m", (double)bench_median(tr, REPS) / nacc,
                 "ns");
    mt_ctx_free(ctx);
}

/* ------------------------------------------------------------------------ */
/* MMIO vs RAM, 4-byte accesses (D)                                          */
/* ------------------------------------------------------------------------ */

static uint64_t mmio_reads, mmio_writes;

static mt_result mmio_rd(void *opaque, uint64_t offset, uint64_t *value,
                         unsigned size, mt_attrs attrs)
{
    (void)opaque;
    (void)offset;
    (void)size;
    (void)attrs;
    mmio_reads++;
    *value = 0x1234;
    return MT_TX_OK;
}

static mt_result mmio_wr(void *opaque, uint64_t offset, uint64_t value,
                         unsigned size, mt_attrs attrs)
{
    (void)opaque;
    (void)offset;
    (void)value;
    (void)size;
    (void)attrs;
    mmio_writes++;
    return MT_TX_OK;
}

enum d_kind { D_STORE, D_LOAD, D_WRITE_BUF, D_READ_BUF };

/* One timed loop of @iters accesses of kind @k at @addr; returns ns. */
static uint64_t d_loop(mt_as *as, uint64_t addr, enum d_kind k,
                       unsigned iters)
{
    const mt_attrs attrs = MT_ATTRS_UNSPECIFIED;
    mt_result res = MT_TX_OK;
    uint64_t t0, t1, v = 0, acc = 0;
    uint32_t w;
    unsigned i;

    t0 = bench_now_ns();
    switch (k) {
    case D_STORE:
        for (i = 0; i < iters; i++)
            res |= mt_as_store(as, addr, 4, MT_ENDIAN_LITTLE, attrs, i);
        break;
    case D_LOAD:
        for (i = 0; i < iters; i++) {
            res |= mt_as_load(as, addr, 4, MT_ENDIAN_LITTLE, attrs, &v);
            acc += v;
        }
        break;
    case D_WRITE_BUF:
        for (i = 0; i < iters; i++) {
            w = i;
            res |= mt_as_write(as, addr, attrs, &w, 4);
        }
        break;
    case D_READ_BUF:
        for (i = 0; i < iters; i++) {
            res |= mt_as_read(as, addr, attrs, &w, 4);
            acc += w;
        }
        break;
    }
    t1 = bench_now_ns();
    if (res != MT_TX_OK)
        BENCH_FAIL("d: an access returned %#x", res);
    sink += acc;
    return t1 - t0;
}

/* One discarded warm-up run, then the median of D_REPS runs, per access. */
static void d_figure(mt_as *as, uint64_t addr, enum d_kind k,
                     const char *name)
{
    unsigned iters = (unsigned)bench_count(D_ITER);
    uint64_t t[D_REPS];
    unsigned r;

    d_loop(as, addr, k, iters);
    for (r = 0; r < D_REPS; r++)
        t[r] = d_loop(as, addr, k, iters);
    bench_report(name, (double)bench_median(t, D_REPS) / iters, "ns");
}

void bench_d(void)
{
    static const mt_ops ops = {
        .read = mmio_rd,
        .write = mmio_wr,
        .endian = MT_ENDIAN_LITTLE,
        .valid = { .min_access_size = 1, .max_access_size = 8 },
        .impl = { .min_access_size = 1, .max_access_size = 8 },
    };
    unsigned iters = (unsigned)bench_count(D_ITER);
    /* Two MMIO figures each for writes and reads, (D_REPS + 1) runs each. */
    uint64_t expect = 2ull * (D_REPS + 1) * iters;
    mt_region *root, *ram, *io;
    mt_ctx *ctx;
    mt_as *as;

    printf("# d: host-side loop of %u 4-byte accesses to one address, median "
           "of %u (+1 warm-up); *_ns: mt_as_store/mt_as_load (size 4, little "
           "endian); *_buf_ns: mt_as_write/mt_as_read of a 4-byte buffer\n",
           iters, D_REPS);
    BENCH_CHECK(mt_ctx_new(&ctx, NULL));
    BENCH_CHECK(mt_region_new_container(ctx, "system", MT_SIZE_FULL, &root));
    BENCH_CHECK(mt_region_new_ram(ctx, "ram", 0x1000, &ram));
    BENCH_CHECK(mt_region_add_subregion(root, D_RAM, ram));
    mt_region_unref(ram);
    BENCH_CHECK(mt_region_new_io(ctx, "mmio", 0x1000, &ops, NULL, &io));
    BENCH_CHECK(mt_region_add_subregion(root, D_MMIO, io));
    mt_region_unref(io);
    BENCH_CHECK(mt_as_new(ctx, root, "memory", &as));
    mt_region_unref(root);

    mmio_reads = mmio_writes = 0;
    d_figure(as, D_MMIO, D_STORE, "d_mmio_write_ns");
    d_figure(as, D_MMIO, D_LOAD, "d_mmio_read_ns");
    d_figure(as, D_RAM, D_STORE, "d_ram_write_ns");
    d_figure(as, D_RAM, D_LOAD, "d_ram_read_ns");
    d_figure(as, D_MMIO, D_WRITE_BUF, "d_mmio_write_buf_ns");
    d_figure(as, D_MMIO, D_READ_BUF, "d_mmio_read_buf_ns");
    d_figure(as, D_RAM, D_WRITE_BUF, "d_ram_write_buf_ns");
    d_figure(as, D_RAM, D_READ_BUF, "d_ram_read_buf_ns");
    /* Every MMIO access must have reached its callback exactly once. */
    if (mmio_writes != expect || mmio_reads != expect)
        BENCH_FAIL("d: callbacks ran %llu writes, %llu reads; expected %llu "
                   "each", (unsigned long long)mmio_writes,
                   (unsigned long long)mmio_reads, (unsigned long long)expect);
    printf("# d: callback counts: %llu writes, %llu reads\n",
           (unsigned long long)mmio_writes, (unsigned long long)mmio_reads);
    mt_ctx_free(ctx);
}
