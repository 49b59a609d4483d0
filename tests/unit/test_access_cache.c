/* SPDX-License-Identifier: MIT */
/*
 * test_access_cache.c: the access fast paths of large views. A view of 64
 * ranges or more gets a lookup cache of 4 KiB pages whose entries hold
 * either the host address of a page of direct memory or a range record;
 * readers fill it concurrently. These tests check that the rules of the
 * access path hold through it (direct copies, ROM refusals, ROM devices,
 * attrs.memory, dirty logging, sub-page ranges, page-crossing accesses,
 * simple and non-simple device accesses) and that concurrent readers
 * hammering colliding pages never read one page's memory for another.
 * Public API only.
 */
#include <pthread.h>

#include "access_testdev.h"

#define PAD_BASE  UINT64_C(0x100000000)
#define PAD_N     80u                /* > 64: the view gets a page cache */

/* Pad @root with PAD_N one-page RAM regions at 4 GiB, one page apart. */
static void pad_view(mt_ctx *ctx, mt_region *root)
{
    for (unsigned i = 0; i < PAD_N; i++) {
        char name[32];

        snprintf(name, sizeof(name), "pad%u", i);
        t_map(root, PAD_BASE + (uint64_t)i * 0x2000, t_ram(ctx, name, 0x1000));
    }
}

static const mt_attrs U = { .unspecified = 1 };
static const mt_attrs MEM = { .memory = 1 };

/* Run every access twice: the first fills the cache, the second hits it. */
#define TWICE for (int pass_ = 0; pass_ < 2; pass_++)

static void test_ram_rom_romd_through_cache(void **state)
{
    mt_ctx *ctx = t_ctx();
    mt_region *root = t_container(ctx, "root", MT_SIZE_FULL);
    mt_region *ram = t_ram(ctx, "ram", 0x4000);
    mt_region *rom = t_rom(ctx, "rom", 0x2000);
    t_dev dev;
    mt_ops ops = t_dev_ops(MT_ENDIAN_LITTLE, 1, 8, false, 1, 8, false);
    mt_region *romd = t_rom_dev_region(ctx, "romd", 0x2000, &ops, &dev);
    uint8_t *rp = mt_region_ram_ptr(ram), *op = mt_region_ram_ptr(rom);
    uint8_t *dp = mt_region_ram_ptr(romd);
    uint8_t buf[0x3000];
    uint64_t v;
    mt_as *as;

    (void)state;
    t_dev_init(&dev, MT_ENDIAN_LITTLE);
    pad_view(ctx, root);
    t_map(root, 0x10000, ram);
    t_map(root, 0x20000, rom);
    t_map(root, 0x30000, romd);
    as = t_as(ctx, root, "as");
    for (unsigned i = 0; i < 0x4000; i++)
        rp[i] = (uint8_t)(i * 7);
    memset(op, 0x5a, 0x2000);
    memset(dp, 0x3c, 0x2000);

    TWICE {
        /* RAM: whole pages, a piece inside one, and one crossing pages. */
        assert_int_equal(mt_as_read(as, 0x11000, U, buf, 0x1000), MT_TX_OK);
        assert_memory_equal(buf, rp + 0x1000, 0x1000);
        assert_int_equal(mt_as_read(as, 0x10ffc, U, buf, 8), MT_TX_OK);
        assert_memory_equal(buf, rp + 0xffc, 8);
        assert_int_equal(mt_as_read(as, 0x10800, U, buf, 0x3000), MT_TX_OK);
        assert_memory_equal(buf, rp + 0x800, 0x3000);
        assert_int_equal(mt_as_load(as, 0x12ffe, 4, MT_ENDIAN_BIG, U, &v),
                         MT_TX_OK);
        assert_int_equal(v, (uint64_t)rp[0x2ffe] << 24 | rp[0x2fff] << 16 |
                                rp[0x3000] << 8 | rp[0x3001]);
        assert_int_equal(mt_as_load(as, 0x12000, 8, MT_ENDIAN_LITTLE, MEM,
                                    &v), MT_TX_OK);
        assert_memory_equal(&v, rp + 0x2000, 8);
        assert_int_equal(mt_as_store(as, 0x13008, 2, MT_ENDIAN_BIG, U,
                                     0x1234), MT_TX_OK);
        assert_int_equal(rp[0x3008], 0x12);
        assert_int_equal(rp[0x3009], 0x34);
        assert_int_equal(mt_as_write(as, 0x13ff0, MEM, "0123456789abcdef",
                                     16), MT_TX_OK);
        assert_memory_equal(rp + 0x3ff0, "0123456789abcdef", 16);

        /* ROM: read directly, writes refused and memory unchanged. */
        assert_int_equal(mt_as_load(as, 0x20010, 1, MT_ENDIAN_LITTLE, U, &v),
                         MT_TX_OK);
        assert_int_equal(v, 0x5a);
        assert_int_equal(mt_as_store(as, 0x20010, 4, MT_ENDIAN_LITTLE, U, 1),
                         MT_TX_DECODE_ERROR);
        assert_int_equal(mt_as_write(as, 0x21000, U, "x", 1),
                         MT_TX_DECODE_ERROR);
        assert_int_equal(op[0x10], 0x5a);
        assert_int_equal(op[0x1000], 0x5a);

        /* ROM device in ROMD mode: reads direct, but not RAM for
         * attrs.memory; writes go to the callbacks. */
        t_dev_clear_log(&dev);
        assert_int_equal(mt_as_load(as, 0x30100, 4, MT_ENDIAN_LITTLE, U, &v),
                         MT_TX_OK);
        assert_int_equal(v, 0x3c3c3c3c);
        assert_int_equal(mt_as_load(as, 0x30100, 4, MT_ENDIAN_LITTLE, MEM,
                                    &v), MT_TX_ACCESS_ERROR);
        assert_int_equal(v, 0);
        assert_int_equal(mt_as_read(as, 0x30100, MEM, buf, 4),
                         MT_TX_ACCESS_ERROR);
        assert_int_equal(mt_as_store(as, 0x30104, 4, MT_ENDIAN_LITTLE, U,
                                     0xdeadbeef), MT_TX_OK);
        assert_int_equal(dev.n, 1);
        assert_true(dev.log[0].write);
        assert_int_equal(dev.log[0].off, 0x104);
        assert_int_equal(dev.log[0].size, 4);
        assert_int_equal(dev.log[0].val, 0xdeadbeef);
        assert_int_equal(dp[0x104], 0x3c);
    }
    mt_ctx_free(ctx);
}

/* RAM writes are logged for the clients logging the region, through the
 * page cache or not: logging changes the view, whose cache is new. */
static void test_dirty_logging_through_cache(void **state)
{
    mt_ctx *ctx = t_ctx();
    mt_region *root = t_container(ctx, "root", MT_SIZE_FULL);
    mt_region *ram = t_ram(ctx, "ram", 0x10000);
    bool dirty;
    mt_as *as;

    (void)state;
    pad_view(ctx, root);
    t_map(root, 0x40000, ram);
    as = t_as(ctx, root, "as");
    /* Fill page entries for the pages while nothing logs. */
    TWICE {
        assert_int_equal(mt_as_store(as, 0x41000, 8, MT_ENDIAN_LITTLE, U, 1),
                         MT_TX_OK);
        assert_int_equal(mt_as_write(as, 0x45000, U, "ab", 2), MT_TX_OK);
    }
    MT_OK(mt_region_set_dirty_log(ram, true));
    TWICE {
        MT_OK(mt_region_dirty_test_and_clear(ram, 0, 0x10000,
                                             MT_DIRTY_CLIENT_VGA, &dirty));
        assert_int_equal(mt_as_store(as, 0x41000, 8, MT_ENDIAN_LITTLE, U, 2),
                         MT_TX_OK);
        MT_OK(mt_region_dirty_get(ram, 0x1000, 0x1000, MT_DIRTY_CLIENT_VGA,
                                  &dirty));
        assert_true(dirty);
        assert_int_equal(mt_as_write(as, 0x45000, U, "cd", 2), MT_TX_OK);
        MT_OK(mt_region_dirty_get(ram, 0x5000, 0x1000, MT_DIRTY_CLIENT_VGA,
                                  &dirty));
        assert_true(dirty);
        MT_OK(mt_region_dirty_get(ram, 0x9000, 0x1000, MT_DIRTY_CLIENT_VGA,
                                  &dirty));
        assert_false(dirty);
    }
    MT_OK(mt_ctx_dirty_log_start(ctx));
    MT_OK(mt_region_set_dirty_log(ram, false));
    TWICE {
        assert_int_equal(mt_as_store(as, 0x49000, 4, MT_ENDIAN_LITTLE, U, 3),
                         MT_TX_OK);
        MT_OK(mt_region_dirty_test_and_clear(ram, 0x9000, 0x1000,
                                             MT_DIRTY_CLIENT_MIGRATION,
                                             &dirty));
        assert_true(dirty);
    }
    MT_OK(mt_ctx_dirty_log_stop(ctx));
    mt_ctx_free(ctx);
}

/* One page shared by RAM, an I/O region and a hole: every address gets its
 * own range, whatever the cache entry of the page says. */
static void test_sub_page_ranges(void **state)
{
    mt_ctx *ctx = t_ctx();
    mt_region *root = t_container(ctx, "root", MT_SIZE_FULL);
    mt_region *ram = t_ram(ctx, "ram", 0x800);
    t_dev dev;
    mt_ops ops = t_dev_ops(MT_ENDIAN_BIG, 1, 4, false, 2, 4, false);
    mt_region *io = t_dev_region(ctx, "io", 0x400, &ops, &dev);
    uint8_t *rp = mt_region_ram_ptr(ram);
    uint8_t buf[4];
    uint64_t v;
    mt_region *r;
    uint64_t off, len;
    mt_as *as;

    (void)state;
    t_dev_init(&dev, MT_ENDIAN_BIG);
    pad_view(ctx, root);
    t_map(root, 0x50000, ram);
    t_map(root, 0x50800, io);      /* 0x50c00..0x50fff: a hole */
    as = t_as(ctx, root, "as");
    memset(rp, 0x11, 0x800);
    dev.regs[0x10] = 0xab;
    dev.regs[0x11] = 0xcd;

    for (int pass = 0; pass < 3; pass++) {
        assert_int_equal(mt_as_load(as, 0x507fc, 4, MT_ENDIAN_LITTLE, U, &v),
                         MT_TX_OK);
        assert_int_equal(v, 0x11111111);
        /* A simple device access (2 bytes, aligned, implemented). */
        t_dev_clear_log(&dev);
        assert_int_equal(mt_as_load(as, 0x50810, 2, MT_ENDIAN_BIG, U, &v),
                         MT_TX_OK);
        assert_int_equal(v, 0xabcd);
        assert_int_equal(dev.n, 1);
        /* Widened to impl.min: one access of 2 bytes, masked. */
        t_dev_clear_log(&dev);
        assert_int_equal(mt_as_load(as, 0x50810, 1, MT_ENDIAN_BIG, U, &v),
                         MT_TX_OK);
        assert_int_equal(v, 0xab);
        assert_int_equal(dev.n, 1);
        assert_int_equal(dev.log[0].size, 2);
        /* Unaligned and not valid.unaligned: refused, no callback. */
        t_dev_clear_log(&dev);
        assert_int_equal(mt_as_load(as, 0x50811, 2, MT_ENDIAN_BIG, U, &v),
                         MT_TX_DECODE_ERROR);
        assert_int_equal(dev.n, 0);
        /* Too wide for valid.max: refused. */
        assert_int_equal(mt_as_store(as, 0x50810, 8, MT_ENDIAN_BIG, U, 0),
                         MT_TX_DECODE_ERROR);
        assert_int_equal(dev.n, 0);
        /* The hole, and a buffer read straddling RAM and the device. */
        assert_int_equal(mt_as_load(as, 0x50c00, 4, MT_ENDIAN_LITTLE, U, &v),
                         MT_TX_DECODE_ERROR);
        assert_int_equal(mt_as_read(as, 0x507fe, U, buf, 4), MT_TX_OK);
        assert_int_equal(buf[0], 0x11);
        assert_int_equal(buf[1], 0x11);
        MT_OK(mt_as_translate(as, 0x50812, U, &r, &off, &len));
        assert_ptr_equal(r, io);
        assert_int_equal(off, 0x12);
        MT_OK(mt_as_translate(as, 0x50012, U, &r, &off, &len));
        assert_ptr_equal(r, ram);
        assert_int_equal(off, 0x12);
    }
    mt_ctx_free(ctx);
}

/*
 * Byte order and width of simple device accesses (one callback each), in
 * a small view and a large one: every size, both orders, both device
 * orders. The register bytes must be the value in the access's order, and
 * a load must give back what was stored.
 */
static void check_orders(mt_as *as, uint64_t base, t_dev *dev)
{
    static const unsigned sizes[] = { 1, 2, 4, 8 };
    const uint64_t val = UINT64_C(0x1122334455667788);

    for (unsigned i = 0; i < 4; i++) {
        for (int o = 0; o < 2; o++) {
            mt_endian op = o ? MT_ENDIAN_BIG : MT_ENDIAN_LITTLE;
            unsigned size = sizes[i];
            uint64_t off = 8 * (i + 1), v = 0, want;

            want = size == 8 ? val : val & ((UINT64_C(1) << (8 * size)) - 1);
            memset(dev->regs, 0, 64);
            t_dev_clear_log(dev);
            assert_int_equal(mt_as_store(as, base + off, size, op, U, val),
                             MT_TX_OK);
            assert_int_equal(dev->n, 1);
            assert_int_equal(dev->log[0].size, size);
            /* The bytes in memory order are the value in the access's
             * order, whatever the device's (the device stores its value
             * in its own order). */
            for (unsigned b = 0; b < size; b++) {
                unsigned shift = op == MT_ENDIAN_BIG ? 8 * (size - 1 - b)
                                                     : 8 * b;

                assert_int_equal(dev->regs[off + b],
                                 (uint8_t)(want >> shift));
            }
            assert_int_equal(mt_as_load(as, base + off, size, op, U, &v),
                             MT_TX_OK);
            assert_int_equal(v, want);
            /* The same bytes read in the other order: swapped. */
            assert_int_equal(mt_as_load(as, base + off, size,
                                        o ? MT_ENDIAN_LITTLE
                                          : MT_ENDIAN_BIG, U, &v),
                             MT_TX_OK);
            assert_int_equal(v, size == 1   ? want
                                : size == 2 ? __builtin_bswap16(
                                                  (uint16_t)want)
                                : size == 4 ? __builtin_bswap32(
                                                  (uint32_t)want)
                                            : __builtin_bswap64(want));
        }
    }
}

static void test_simple_device_orders(void **state)
{
    for (int large = 0; large < 2; large++) {
        for (int o = 0; o < 2; o++) {
            mt_endian e = o ? MT_ENDIAN_BIG : MT_ENDIAN_LITTLE;
            mt_ctx *ctx = t_ctx();
            mt_region *root = t_container(ctx, "root", MT_SIZE_FULL);
            t_dev dev;
            mt_ops ops = t_dev_ops(e, 1, 8, false, 1, 8, false);
            mt_as *as;

            (void)state;
            t_dev_init(&dev, e);
            if (large)
                pad_view(ctx, root);
            t_map(root, 0x70000, t_dev_region(ctx, "io", 0x1000, &ops, &dev));
            as = t_as(ctx, root, "as");
            check_orders(as, 0x70000, &dev);
            check_orders(as, 0x70000, &dev);
            mt_ctx_free(ctx);
        }
    }
}

/* The re-entrancy guard works on the fast path: a device writing to
 * itself from its callback is refused, and it can be turned off. */
static t_dev *reenter_dev;
static mt_as *reenter_as;
static mt_result reenter_res;

static void reenter_hook(t_dev *d, bool is_write, uint64_t off,
                         unsigned depth)
{
    (void)d, (void)off;
    if (is_write && depth == 1)
        reenter_res = mt_as_store(reenter_as, 0x60000, 4, MT_ENDIAN_LITTLE,
                                  U, 7);
}

static void test_guard_on_fast_path(void **state)
{
    mt_ctx *ctx = t_ctx();
    mt_region *root = t_container(ctx, "root", MT_SIZE_FULL);
    t_dev dev;
    mt_ops ops = t_dev_ops(MT_ENDIAN_LITTLE, 1, 8, false, 1, 8, false);
    mt_region *io = t_dev_region(ctx, "io", 0x1000, &ops, &dev);

    (void)state;
    t_dev_init(&dev, MT_ENDIAN_LITTLE);
    dev.hook = reenter_hook;
    reenter_dev = &dev;
    pad_view(ctx, root);
    t_map(root, 0x60000, io);
    reenter_as = t_as(ctx, root, "as");
    TWICE {
        t_dev_clear_log(&dev);
        reenter_res = MT_TX_OK;
        assert_int_equal(mt_as_store(reenter_as, 0x60008, 4,
                                     MT_ENDIAN_LITTLE, U, 1), MT_TX_OK);
        assert_int_equal(reenter_res, MT_TX_ACCESS_ERROR);
        assert_int_equal(dev.n, 1);
    }
    MT_OK(mt_region_set_reentrancy_guard(io, false));
    t_dev_clear_log(&dev);
    assert_int_equal(mt_as_store(reenter_as, 0x60008, 4, MT_ENDIAN_LITTLE, U,
                                 1), MT_TX_OK);
    assert_int_equal(reenter_res, MT_TX_OK);
    assert_int_equal(dev.n, 2);
    mt_ctx_free(ctx);
}

/*
 * Threads reading random places of many RAM pages at once: more pages than
 * cache entries, so fills of one entry for different pages race. Page p
 * holds p in each of its 8-byte words; any value read from another page's
 * memory shows. Each thread also stores to its own region and reads back.
 */
#define H_PAGES    12288u            /* 3x the cache's 4096 entries */
#define H_REGIONS  96u
#define H_BASE     UINT64_C(0x200000000)
#define H_THREADS  4
#define H_ITERS    300000u
#define H_OWN      UINT64_C(0x300000000)
#define H_OWN_SIZE UINT64_C(0x100000)

typedef struct hammer {
    mt_as *as;
    unsigned id;
    unsigned seed;
    unsigned bad;
} hammer;

static uint64_t h_rand(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

static void *hammer_thread(void *arg)
{
    hammer *h = arg;

    for (unsigned i = 0; i < H_ITERS; i++) {
        uint64_t page = h_rand(&h->seed) % H_PAGES;
        uint64_t addr = H_BASE + page * 0x1000 + (h_rand(&h->seed) % 512) * 8;
        uint64_t v = 0, w = 0;
        mt_region *r = NULL;
        uint64_t off = 0, len = 8;

        switch (i % 4) {
        case 0:
            if (mt_as_load(h->as, addr, 8, MT_ENDIAN_LITTLE, U, &v) ||
                v != page)
                h->bad++;
            break;
        case 1:
            if (mt_as_read(h->as, addr, U, &w, 8) || w != page)
                h->bad++;
            break;
        case 2:
            /* Stores go to the thread's own region (no race on guest
             * memory), whose pages compete for the same entries. */
            addr = H_OWN + (uint64_t)h->id * H_OWN_SIZE +
                   (h_rand(&h->seed) % (H_OWN_SIZE / 8)) * 8;
            if (mt_as_store(h->as, addr, 8, MT_ENDIAN_LITTLE, U, addr) ||
                mt_as_load(h->as, addr, 8, MT_ENDIAN_LITTLE, U, &v) ||
                v != addr)
                h->bad++;
            break;
        default:
            if (mt_as_translate(h->as, addr, U, &r, &off, &len) || !r ||
                off != (page % (H_PAGES / H_REGIONS)) * 0x1000 +
                           (addr & 0xfff))
                h->bad++;
            break;
        }
    }
    return NULL;
}

static void test_threads_hammer_colliding_pages(void **state)
{
    mt_ctx *ctx = t_ctx();
    mt_region *root = t_container(ctx, "root", MT_SIZE_FULL);
    const uint64_t rsize = (uint64_t)(H_PAGES / H_REGIONS) * 0x1000;
    hammer h[H_THREADS];
    pthread_t t[H_THREADS];
    mt_as *as;

    (void)state;
    for (unsigned i = 0; i < H_REGIONS; i++) {
        char name[32];
        mt_region *r;
        uint64_t *p;

        snprintf(name, sizeof(name), "h%u", i);
        r = t_ram(ctx, name, rsize);
        p = mt_region_ram_ptr(r);
        for (uint64_t w = 0; w < rsize / 8; w++)
            p[w] = i * (H_PAGES / H_REGIONS) + w / 512;
        t_map(root, H_BASE + i * rsize, r);
    }
    for (unsigned i = 0; i < H_THREADS; i++) {
        char name[32];

        snprintf(name, sizeof(name), "own%u", i);
        t_map(root, H_OWN + i * H_OWN_SIZE, t_ram(ctx, name, H_OWN_SIZE));
    }
    as = t_as(ctx, root, "as");
    for (int i = 0; i < H_THREADS; i++) {
        h[i].as = as;
        h[i].id = (unsigned)i;
        h[i].seed = 1234u + (unsigned)i * 77u;
        h[i].bad = 0;
        assert_int_equal(pthread_create(&t[i], NULL, hammer_thread, &h[i]),
                         0);
    }
    for (int i = 0; i < H_THREADS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(h[i].bad, 0);
    }
    mt_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ram_rom_romd_through_cache),
        cmocka_unit_test(test_dirty_logging_through_cache),
        cmocka_unit_test(test_sub_page_ranges),
        cmocka_unit_test(test_simple_device_orders),
        cmocka_unit_test(test_guard_on_fast_path),
        cmocka_unit_test(test_threads_hammer_colliding_pages),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
