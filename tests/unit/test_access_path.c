/* SPDX-License-Identifier: MIT */
/*
 * test_access_path.c: the access path beyond the checklist items
 * (test_access_checklist.c): fixed-size loads and stores on RAM and
 * devices in both byte orders, bad sizes, translate, the validity check,
 * unmap errors, zero-length accesses, RAM devices, accesses spanning holes
 * and the top of the 64-bit space. Public API only.
 */
#include "access_testdev.h"

static uint64_t t_bswap(uint64_t v, unsigned size)
{
    uint64_t r = 0;
    for (unsigned i = 0; i < size; i++) {
        r = (r << 8) | (v & 0xff);
        v >>= 8;
    }
    return r;
}

static uint64_t t_mask(unsigned size)
{
    return size == 8 ? UINT64_MAX : (UINT64_C(1) << (size * 8)) - 1;
}

static const unsigned t_sizes[] = { 1, 2, 4, 8 };

/* ------------------------------------------------------------------------ */

/* Loads and stores of 1, 2, 4 and 8 bytes, both byte orders, on RAM,
 * aligned and unaligned: check the bytes in host memory. */
static void test_load_store_ram_all_sizes_both_endians(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_sys(ctx);
    mt_region *ram = t_ram(ctx, "ram", 0x1000);
    t_map(sys, 0x10000, ram);
    mt_as *as = t_as(ctx, sys, "memory");
    uint8_t *h = t_ptr(ram);
    const uint64_t V = 0x0123456789abcdefull;

    for (size_t si = 0; si < 4; si++) {
        unsigned size = t_sizes[si];
        uint64_t val = V & t_mask(size);
        for (uint64_t off = 0x100; off < 0x100 + 16; off += 3) {
            for (int e = 0; e < 2; e++) {
                mt_endian end = e ? MT_ENDIAN_BIG : MT_ENDIAN_LITTLE;
                memset(h + off - 1, 0xee, 10);
                CHECK_RES(mt_as_store(as, 0x10000 + off, size, end, U_, val),
                          MT_TX_OK);
                for (unsigned i = 0; i < size; i++) {
                    unsigned sh = e ? (size - 1 - i) * 8 : i * 8;
                    assert_int_equal(h[off + i], (uint8_t)(val >> sh));
                }
                assert_int_equal(h[off - 1], 0xee);
                assert_int_equal(h[off + size], 0xee);
                uint64_t got = 0xdead;
                CHECK_RES(mt_as_load(as, 0x10000 + off, size, end, U_, &got),
                          MT_TX_OK);
                assert_int_equal(got, val);
                mt_endian other = e ? MT_ENDIAN_LITTLE : MT_ENDIAN_BIG;
                CHECK_RES(mt_as_load(as, 0x10000 + off, size, other, U_,
                                     &got),
                          MT_TX_OK);
                assert_int_equal(got, t_bswap(val, size));
            }
        }
    }
    /* Stores take the low bytes of wider values; loads zero-extend. */
    memset(h, 0xff, 16);
    CHECK_RES(mt_as_store(as, 0x10000, 2, MT_ENDIAN_LITTLE, U_, V), MT_TX_OK);
    assert_int_equal(h[0], 0xef);
    assert_int_equal(h[1], 0xcd);
    assert_int_equal(h[2], 0xff);
    uint64_t got = 0;
    CHECK_RES(mt_as_load(as, 0x10002, 4, MT_ENDIAN_LITTLE, U_, &got),
              MT_TX_OK);
    assert_int_equal(got, 0xffffffffu);
    mt_ctx_free(ctx);
}

/* Loads and stores on little- and big-endian devices: the callback sees
 * the value in the device's byte order. */
static void test_load_store_devices_both_endians(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_sys(ctx);
    t_dev le, be;
    t_map_le_be(ctx, sys, &le, &be, 1, 8, 1, 8);
    mt_as *as = t_as(ctx, sys, "memory");
    const uint64_t V = 0x0123456789abcdefull;
    t_dev *devs[2] = { &le, &be };
    const uint64_t base[2] = { 0x1000, 0x2000 };

    for (int d = 0; d < 2; d++) {
        for (size_t si = 0; si < 4; si++) {
            unsigned size = t_sizes[si];
            uint64_t val = V & t_mask(size);
            for (int e = 0; e < 2; e++) {
                mt_endian end = e ? MT_ENDIAN_BIG : MT_ENDIAN_LITTLE;
                uint64_t seen = e == d ? val : t_bswap(val, size);
                uint64_t off = 0x10 * size;
                t_dev_clear_log(devs[d]);
                CHECK_RES(mt_as_store(as, base[d] + off, size, end, U_, val),
                          MT_TX_OK);
                CHECK_LOG(devs[d], { W_, off, size, seen });
                /* Register bytes: the value in the device's order. */
                for (unsigned i = 0; i < size; i++) {
                    unsigned sh = d ? (size - 1 - i) * 8 : i * 8;
                    assert_int_equal(devs[d]->regs[off + i],
                                     (uint8_t)(seen >> sh));
                }
                /* Bytes in address order are the store's byte order. */
                for (unsigned i = 0; i < size; i++) {
                    unsigned sh = e ? (size - 1 - i) * 8 : i * 8;
                    assert_int_equal(devs[d]->regs[off + i],
                                     (uint8_t)(val >> sh));
                }
                uint64_t got = 0;
                t_dev_clear_log(devs[d]);
                CHECK_RES(mt_as_load(as, base[d] + off, size, end, U_, &got),
                          MT_TX_OK);
                assert_int_equal(got, val);
                CHECK_LOG(devs[d], { R_, off, size, seen });
            }
        }
    }
    mt_ctx_free(ctx);
}

/* A size other than 1, 2, 4 or 8 is MT_TX_DECODE_ERROR and touches
 * nothing. */
static void test_load_store_bad_size_decode_error(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_sys(ctx);
    mt_region *ram = t_ram(ctx, "ram", 0x1000);
    t_dev d;
    t_dev_init(&d, MT_ENDIAN_LITTLE);
    mt_ops o = t_dev_ops(MT_ENDIAN_LITTLE, 0, 0, true, 1, 8, true);
    t_map(sys, 0x1000, ram);
    t_map(sys, 0x2000, t_dev_region(ctx, "dev", 0x100, &o, &d));
    mt_as *as = t_as(ctx, sys, "memory");
    static const unsigned bad[] = { 0, 3, 5, 6, 7, 9, 16, 32, 1024 };

    memset(t_ptr(ram), 0x5a, 0x20);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t v = 0x77;
        CHECK_RES(mt_as_load(as, 0x1000, bad[i], MT_ENDIAN_LITTLE, U_, &v),
                  MT_TX_DECODE_ERROR);
        assert_int_equal(v, 0);
        v = 0x77;
        CHECK_RES(mt_as_load(as, 0x2000, bad[i], MT_ENDIAN_BIG, U_, &v),
                  MT_TX_DECODE_ERROR);
        assert_int_equal(v, 0);
        CHECK_RES(mt_as_store(as, 0x1000, bad[i], MT_ENDIAN_LITTLE, U_, 0),
                  MT_TX_DECODE_ERROR);
        CHECK_RES(mt_as_store(as, 0x2000, bad[i], MT_ENDIAN_BIG, U_, 0),
                  MT_TX_DECODE_ERROR);
    }
    CHECK_NO_CALLS(&d);
    for (int i = 0; i < 0x20; i++)
        assert_int_equal(t_ptr(ram)[i], 0x5a);
    mt_ctx_free(ctx);
}

/* Offset not checked by check_translate (holes, or not of interest). */
#define T_ANY_OFF UINT64_MAX

/*
 * Translate @len bytes at @addr and check the region (NULL: a hole), the
 * offset in it (unless T_ANY_OFF) and the clipped length. The region is
 * preset to something else, so it must be written.
 */
static void check_translate(mt_as *as, uint64_t addr, uint64_t len,
                            mt_region *want_r, uint64_t want_off,
                            uint64_t want_len)
{
    mt_region *r = want_r ? NULL : mt_as_root(as);
    uint64_t off = 0;
    MT_OK(mt_as_translate(as, addr, U_, &r, &off, &len));
    assert_ptr_equal(r, want_r);
    if (want_off != T_ANY_OFF)
        assert_int_equal(off, want_off);
    assert_int_equal(len, want_len);
}

/* mt_as_translate on RAM, a hole, a device and through an alias. */
static void test_translate_ram_hole_device(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_sys(ctx);
    mt_region *ram = t_ram(ctx, "ram", 0x4000);
    mt_region *dev = t_io(ctx, "dev", 0x100);
    mt_region *al = t_alias(ctx, "hi-ram", ram, 0x2000, 0x1000);
    t_map(sys, 0x10000, ram);
    t_map(sys, 0x20000, dev);
    t_map(sys, 0x30000, al);
    mt_as *as = t_as(ctx, sys, "memory");
    mt_region *r = ram; /* not NULL: the last check must see it written */
    uint64_t off = 0, len = 0x10;

    /* RAM: offset in the region, len clipped to the range. */
    check_translate(as, 0x10100, 0x10, ram, 0x100, 0x10);
    check_translate(as, 0x13ff0, 0x10000, ram, 0x3ff0, 0x10);
    check_translate(as, 0x13fff, 1, ram, T_ANY_OFF, 1);

    /* Hole: NULL region, len clipped at the next range. */
    check_translate(as, 0x14000, 0x100000, NULL, T_ANY_OFF,
                    0x20000 - 0x14000);
    check_translate(as, 0x14000, 0x10, NULL, T_ANY_OFF, 0x10);
    check_translate(as, 0, 0x100, NULL, T_ANY_OFF, 0x100);

    /* Device: the region and the offset; what it answers contiguously. */
    check_translate(as, 0x20010, 4, dev, 0x10, 4);
    check_translate(as, 0x200f0, 0x1000, dev, 0xf0, 0x10);

    /* Through an alias: the terminal region, alias offset applied. */
    check_translate(as, 0x30800, 0x2000, ram, 0x2800, 0x800);

    /* Bad arguments. */
    MT_EXPECT(mt_as_translate(NULL, 0, U_, &r, &off, &len), MT_EINVAL);
    MT_EXPECT(mt_as_translate(as, 0, U_, NULL, &off, &len), MT_EINVAL);
    MT_EXPECT(mt_as_translate(as, 0, U_, &r, NULL, &len), MT_EINVAL);
    MT_EXPECT(mt_as_translate(as, 0, U_, &r, &off, NULL), MT_EINVAL);

    /* The answer follows the current view. */
    MT_OK(mt_region_set_enabled(ram, false));
    len = 0x10;
    MT_OK(mt_as_translate(as, 0x10100, U_, &r, &off, &len));
    assert_null(r);
    mt_ctx_free(ctx);
}

static bool accept_reads(void *opaque, uint64_t off, unsigned size,
                         bool is_write, mt_attrs attrs)
{
    (void)opaque, (void)off, (void)size, (void)attrs;
    return !is_write;
}

/* mt_as_access_valid: mapped everywhere and accepted by every device
 * piece; nothing is accessed. */
static void test_access_valid(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_sys(ctx);
    t_dev d4, dmin, dro;
    t_dev_init(&d4, MT_ENDIAN_LITTLE);
    t_dev_init(&dmin, MT_ENDIAN_LITTLE);
    t_dev_init(&dro, MT_ENDIAN_LITTLE);
    mt_ops o4 = t_dev_ops(MT_ENDIAN_LITTLE, 1, 4, false, 1, 4, false);
    mt_ops omin = t_dev_ops(MT_ENDIAN_LITTLE, 4, 4, false, 4, 4, false);
    mt_ops oro = t_dev_ops(MT_ENDIAN_LITTLE, 1, 4, false, 1, 4, false);
    oro.valid.accepts = accept_reads;
    t_map(sys, 0x1000, t_ram(ctx, "ram", 0x1000));
    t_map(sys, 0x2000, t_dev_region(ctx, "d4", 0x100, &o4, &d4));
    t_map(sys, 0x3000, t_dev_region(ctx, "dmin", 0x100, &omin, &dmin));
    t_map(sys, 0x4000, t_dev_region(ctx, "dro", 0x100, &oro, &dro));
    t_map(sys, 0x5000, t_rom(ctx, "rom", 0x1000));
    t_map(sys, 0x6000, t_romd(ctx, "flash", 0x1000)); /* no ops */
    mt_as *as = t_as(ctx, sys, "memory");

    assert_true(mt_as_access_valid(as, 0x1000, 0x1000, false, U_));
    assert_true(mt_as_access_valid(as, 0x1000, 0x1000, true, U_));
    assert_false(mt_as_access_valid(as, 0x1800, 0x1000, false, U_)); /* hole */
    assert_false(mt_as_access_valid(as, 0x8000, 1, false, U_));
    assert_true(mt_as_access_valid(as, 0x8000, 0, false, U_));
    /* Device pieces: 4 at offset 1 is cut 1, 2, 1, each acceptable. */
    assert_true(mt_as_access_valid(as, 0x2001, 4, false, U_));
    assert_true(mt_as_access_valid(as, 0x2000, 0x100, true, U_));
    assert_false(mt_as_access_valid(as, 0x2000, 0x101, true, U_));
    /* valid.min 4: any access cut below 4 bytes is invalid. */
    assert_true(mt_as_access_valid(as, 0x3000, 8, false, U_));
    assert_false(mt_as_access_valid(as, 0x3000, 2, false, U_));
    assert_false(mt_as_access_valid(as, 0x3002, 4, false, U_));
    /* accepts() vetoes writes. */
    assert_true(mt_as_access_valid(as, 0x4000, 4, false, U_));
    assert_false(mt_as_access_valid(as, 0x4000, 4, true, U_));
    /* ROM: reads direct, writes refused. */
    assert_true(mt_as_access_valid(as, 0x5000, 0x1000, false, U_));
    assert_false(mt_as_access_valid(as, 0x5000, 4, true, U_));
    /* ROM device without ops: ROMD-mode reads are direct, writes refused. */
    assert_true(mt_as_access_valid(as, 0x6000, 0x10, false, U_));
    assert_false(mt_as_access_valid(as, 0x6000, 4, true, U_));
    /* RAM then device. */
    assert_true(mt_as_access_valid(as, 0x1ff0, 0x20, false, U_));

    CHECK_NO_CALLS(&d4);
    CHECK_NO_CALLS(&dmin);
    CHECK_NO_CALLS(&dro);
    mt_ctx_free(ctx);
}

/* mt_as_unmap of anything that is not an open mapping is MT_EINVAL. */
static void test_unmap_bogus_pointer_einval(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_sys(ctx);
    mt_region *ram = t_ram(ctx, "ram", 0x1000);
    t_map(sys, 0x1000, ram);
    mt_as *as = t_as(ctx, sys, "memory");
    mt_as *as2 = t_as(ctx, sys, "memory-2");
    uint8_t local[16];

    MT_EXPECT(mt_as_unmap(as, local, sizeof(local), false, 0), MT_EINVAL);
    MT_EXPECT(mt_as_unmap(as, NULL, 0, false, 0), MT_EINVAL);
    MT_EXPECT(mt_as_unmap(as, t_ptr(ram), 0x10, true, 0x10), MT_EINVAL);
    MT_EXPECT(mt_as_unmap(NULL, local, 1, false, 0), MT_EINVAL);

    uint64_t len = 0x10;
    void *p = mt_as_map(as, 0x1000, &len, true, U_);
    assert_ptr_equal(p, t_ptr(ram));
    /* Not a mapping of the other address space. */
    MT_EXPECT(mt_as_unmap(as2, p, len, true, len), MT_EINVAL);
    MT_OK(mt_as_unmap(as, p, len, true, len));
    /* Not open any more. */
    MT_EXPECT(mt_as_unmap(as, p, len, true, len), MT_EINVAL);

    /* Same for a bounce buffer. */
    len = 0x10;
    p = mt_as_map(as, 0x9000, &len, false, U_);
    assert_non_null(p);
    MT_EXPECT(mt_as_unmap(as, (uint8_t *)p + 1, len - 1, false, 0),
              MT_EINVAL);
    MT_OK(mt_as_unmap(as, p, len, false, 0));
    MT_EXPECT(mt_as_unmap(as, p, len, false, 0), MT_EINVAL);
    mt_ctx_free(ctx);
}

/* Accesses of length 0 succeed without doing anything, even at holes and
 * devices, even with a NULL buffer. */
static void test_zero_length_accesses_ok(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_sys(ctx);
    t_dev d;
    t_map(sys, 0x1000, t_ram(ctx, "ram", 0x1000));
    t_map(sys, 0x2000, t_dev_le14(ctx, "dev", 0x100, &d));
    t_map(sys, 0x3000, t_rom(ctx, "rom", 0x1000));
    mt_as *as = t_as(ctx, sys, "memory");
    static const uint64_t addrs[] = { 0x1000, 0x2000, 0x3000, 0x9000,
                                      UINT64_MAX };
    uint8_t buf[4] = { 1, 2, 3, 4 };

    for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
        CHECK_RES(mt_as_read(as, addrs[i], U_, buf, 0), MT_TX_OK);
        CHECK_RES(mt_as_write(as, addrs[i], U_, buf, 0), MT_TX_OK);
        CHECK_RES(mt_as_rw(as, addrs[i], U_, buf, 0, true), MT_TX_OK);
        CHECK_RES(mt_as_rw(as, addrs[i], U_, buf, 0, false), MT_TX_OK);
        CHECK_RES(mt_as_write_rom(as, addrs[i], U_, buf, 0), MT_TX_OK);
        CHECK_RES(mt_as_read(as, addrs[i], U_, NULL, 0), MT_TX_OK);
        CHECK_RES(mt_as_write(as, addrs[i], U_, NULL, 0), MT_TX_OK);
        assert_true(mt_as_access_valid(as, addrs[i], 0, true, U_));
        mt_attrs mem = { .memory = 1 };
        CHECK_RES(mt_as_read(as, addrs[i], mem, buf, 0), MT_TX_OK);
        /* A zero-length map maps nothing (QEMU returns NULL). */
        uint64_t len = 0;
        assert_null(mt_as_map(as, addrs[i], &len, false, U_));
        assert_int_equal(len, 0);
    }
    assert_int_equal(buf[0], 1);
    assert_int_equal(buf[3], 4);
    CHECK_NO_CALLS(&d);
    mt_ctx_free(ctx);
}

/* A RAM device is reached through loads and stores into its host memory. */
static void test_ram_device_host_loads_stores(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_sys(ctx);
    static uint8_t bar[0x100];
    memset(bar, 0, sizeof(bar));
    mt_region *rd = NULL;
    MT_OK(mt_region_new_ram_device(ctx, "bar0", sizeof(bar), bar, &rd));
    assert_int_equal(mt_region_kind_of(rd), MT_REGION_RAM_DEVICE);
    assert_ptr_equal(mt_region_ram_ptr(rd), bar);
    t_map(sys, 0xfe000000, rd);
    mt_as *as = t_as(ctx, sys, "memory");

    static const uint8_t pat[16] = { 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
                                     0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b,
                                     0x1c, 0x1d, 0x1e, 0x1f };
    CHECK_RES(mt_as_write(as, 0xfe000000, U_, pat, 16), MT_TX_OK);
    assert_memory_equal(bar, pat, 16);
    /* Unaligned, odd length. */
    CHECK_RES(mt_as_write(as, 0xfe000021, U_, pat, 7), MT_TX_OK);
    assert_memory_equal(bar + 0x21, pat, 7);
    assert_int_equal(bar[0x20], 0);
    assert_int_equal(bar[0x28], 0);
    uint8_t back[16];
    memset(back, 0, sizeof(back));
    CHECK_RES(mt_as_read(as, 0xfe000003, U_, back, 13), MT_TX_OK);
    assert_memory_equal(back, pat + 3, 13);

    for (size_t si = 0; si < 4; si++) {
        unsigned size = t_sizes[si];
        uint64_t val = 0x8877665544332211ull & t_mask(size);
        memset(bar + 0x40, 0, 16);
        CHECK_RES(mt_as_store(as, 0xfe000040, size, MT_ENDIAN_BIG, U_, val),
                  MT_TX_OK);
        for (unsigned i = 0; i < size; i++)
            assert_int_equal(bar[0x40 + i], (uint8_t)(val >> ((size - 1 - i) * 8)));
        uint64_t got = 0;
        CHECK_RES(mt_as_load(as, 0xfe000040, size, MT_ENDIAN_BIG, U_, &got),
                  MT_TX_OK);
        assert_int_equal(got, val);
        CHECK_RES(mt_as_load(as, 0xfe000040, size, MT_ENDIAN_LITTLE, U_, &got),
                  MT_TX_OK);
        assert_int_equal(got, t_bswap(val, size));
        CHECK_RES(mt_as_store(as, 0xfe000040, size, MT_ENDIAN_LITTLE, U_, val),
                  MT_TX_OK);
        for (unsigned i = 0; i < size; i++)
            assert_int_equal(bar[0x40 + i], (uint8_t)(val >> (i * 8)));
    }

    /* It is RAM for attrs.memory. */
    mt_attrs mem = { .memory = 1 };
    CHECK_RES(mt_as_read(as, 0xfe000000, mem, back, 4), MT_TX_OK);
    CHECK_RES(mt_as_write(as, 0xfe000000, mem, pat, 4), MT_TX_OK);

    /* Translate names it; firmware loading writes it. */
    mt_region *r = NULL;
    uint64_t off = 0, len = 8;
    MT_OK(mt_as_translate(as, 0xfe000010, U_, &r, &off, &len));
    assert_ptr_equal(r, rd);
    assert_int_equal(off, 0x10);
    CHECK_RES(mt_as_write_rom(as, 0xfe000080, U_, pat, 16), MT_TX_OK);
    assert_memory_equal(bar + 0x80, pat, 16);

    /* Not directly mappable (QEMU: ram_device is never direct): bounce,
     * pre-filled, written back. */
    len = 16;
    uint8_t *p = mt_as_map(as, 0xfe000080, &len, false, U_);
    assert_non_null(p);
    assert_true(p < bar || p >= bar + sizeof(bar));
    assert_memory_equal(p, pat, 16);
    MT_OK(mt_as_unmap(as, p, len, false, 16));
    len = 4;
    p = mt_as_map(as, 0xfe0000f0, &len, true, U_);
    assert_non_null(p);
    memcpy(p, "\xa0\xa1\xa2\xa3", 4);
    MT_OK(mt_as_unmap(as, p, len, true, 4));
    assert_memory_equal(bar + 0xf0, "\xa0\xa1\xa2\xa3", 4);
    mt_ctx_free(ctx);
}

/* An access spanning RAM, a hole and RAM: MT_TX_DECODE_ERROR, zeros for
 * the hole, the RAM parts done. */
static void test_span_ram_hole_ram(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_sys(ctx);
    mt_region *a = t_ram(ctx, "a", 0x1000);
    mt_region *b = t_ram(ctx, "b", 0x1000);
    t_map(sys, 0x1000, a);
    t_map(sys, 0x3000, b); /* hole [0x2000, 0x2fff] */
    mt_as *as = t_as(ctx, sys, "memory");
    for (int i = 0; i < 0x1000; i++) {
        t_ptr(a)[i] = (uint8_t)(i + 1);
        t_ptr(b)[i] = (uint8_t)(0x80 + i);
    }

    enum { LEN = 0x1020 };
    static uint8_t buf[LEN];
    memset(buf, 0xcc, sizeof(buf));
    CHECK_RES(mt_as_read(as, 0x1ff0, U_, buf, LEN), MT_TX_DECODE_ERROR);
    for (int i = 0; i < 0x10; i++)
        assert_int_equal(buf[i], t_ptr(a)[0xff0 + i]);
    for (int i = 0x10; i < 0x1010; i++)
        assert_int_equal(buf[i], 0);
    for (int i = 0x1010; i < LEN; i++)
        assert_int_equal(buf[i], t_ptr(b)[i - 0x1010]);

    for (int i = 0; i < LEN; i++)
        buf[i] = (uint8_t)(i * 3);
    CHECK_RES(mt_as_write(as, 0x1ff0, U_, buf, LEN), MT_TX_DECODE_ERROR);
    assert_memory_equal(t_ptr(a) + 0xff0, buf, 0x10);
    assert_memory_equal(t_ptr(b), buf + 0x1010, 0x10);
    assert_int_equal(t_ptr(b)[0x10], (uint8_t)(0x80 + 0x10));

    /* A read starting in the hole. */
    memset(buf, 0xcc, 0x20);
    CHECK_RES(mt_as_read(as, 0x2ff0, U_, buf, 0x20), MT_TX_DECODE_ERROR);
    for (int i = 0; i < 0x10; i++)
        assert_int_equal(buf[i], 0);
    assert_memory_equal(buf + 0x10, t_ptr(b), 0x10);
    mt_ctx_free(ctx);
}

/* Accesses at the very top of the 64-bit space. */
static void test_top_of_address_space(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_sys(ctx);
    mt_region *ram = t_ram(ctx, "top-ram", 0x10000);
    t_map(sys, 0xffffffffffff0000ull, ram);
    t_dev d;
    mt_region *dev = t_dev_le14(ctx, "top-dev", 0x1000, &d);
    mt_region *sys2 = t_sys(ctx);
    t_map(sys2, 0xfffffffffffff000ull, dev);
    mt_as *as = t_as(ctx, sys, "memory");
    mt_as *as2 = t_as(ctx, sys2, "memory-2");
    uint8_t *h = t_ptr(ram);

    CHECK_AS(as, { 0xffffffffffff0000ull, UINT64_MAX, ram, 0, 0 });

    static const uint8_t pat[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    CHECK_RES(mt_as_write(as, 0xfffffffffffffff8ull, U_, pat, 8), MT_TX_OK);
    assert_memory_equal(h + 0xfff8, pat, 8);
    uint8_t back[8] = { 0 };
    CHECK_RES(mt_as_read(as, 0xfffffffffffffff8ull, U_, back, 8), MT_TX_OK);
    assert_memory_equal(back, pat, 8);
    uint8_t last = 0;
    CHECK_RES(mt_as_read(as, UINT64_MAX, U_, &last, 1), MT_TX_OK);
    assert_int_equal(last, 8);
    uint64_t v = 0;
    CHECK_RES(mt_as_load(as, 0xfffffffffffffff8ull, 8, MT_ENDIAN_BIG, U_, &v),
              MT_TX_OK);
    assert_int_equal(v, 0x0102030405060708ull);
    CHECK_RES(mt_as_store(as, UINT64_MAX, 1, MT_ENDIAN_BIG, U_, 0x99),
              MT_TX_OK);
    assert_int_equal(h[0xffff], 0x99);

    mt_region *r = NULL;
    uint64_t off = 0, len = 0x100;
    MT_OK(mt_as_translate(as, UINT64_MAX, U_, &r, &off, &len));
    assert_ptr_equal(r, ram);
    assert_int_equal(off, 0xffff);
    assert_int_equal(len, 1);
    len = UINT64_MAX;
    MT_OK(mt_as_translate(as, 0xffffffffffff0000ull, U_, &r, &off, &len));
    assert_ptr_equal(r, ram);
    assert_int_equal(len, 0x10000);
    assert_true(mt_as_access_valid(as, 0xfffffffffffffff0ull, 0x10, true, U_));

    len = 0x100;
    void *p = mt_as_map(as, 0xfffffffffffffff0ull, &len, true, U_);
    assert_ptr_equal(p, h + 0xfff0);
    assert_int_equal(len, 0x10);
    MT_OK(mt_as_unmap(as, p, len, true, len));

    /* A hole just below the RAM. */
    uint32_t z = 1;
    CHECK_RES(mt_as_read(as, 0xfffffffffffefffcull, U_, &z, 4),
              MT_TX_DECODE_ERROR);
    assert_int_equal(z, 0);

    /* A device ending at 2^64 - 1. */
    for (int i = 0; i < 8; i++)
        d.regs[0xff8 + i] = (uint8_t)(0xf0 + i);
    CHECK_RES(mt_as_load(as2, 0xfffffffffffffffcull, 4, MT_ENDIAN_LITTLE, U_,
                         &v),
              MT_TX_OK);
    assert_int_equal(v, 0xf7f6f5f4);
    CHECK_RES(mt_as_read(as2, 0xfffffffffffffff8ull, U_, back, 8), MT_TX_OK);
    for (int i = 0; i < 8; i++)
        assert_int_equal(back[i], 0xf0 + i);
    CHECK_RES(mt_as_write(as2, UINT64_MAX, U_, pat, 1), MT_TX_OK);
    CHECK_LOG(&d, { R_, 0xffc, 4, 0xf7f6f5f4 }, { R_, 0xff8, 4, 0xf3f2f1f0 },
              { R_, 0xffc, 4, 0xf7f6f5f4 }, { W_, 0xfff, 1, 1 });
    len = 0x100;
    MT_OK(mt_as_translate(as2, 0xfffffffffffffff0ull, U_, &r, &off, &len));
    assert_ptr_equal(r, dev);
    assert_int_equal(off, 0xff0);
    assert_int_equal(len, 0x10);

    /* A port-style root of the full 2^64 size answers everywhere. */
    mt_region *all = NULL;
    MT_OK(mt_region_new_io(ctx, "all", MT_SIZE_FULL, mt_ops_unassigned_io(),
                           NULL, &all));
    mt_as *as3 = t_as(ctx, all, "all");
    CHECK_RES(mt_as_read(as3, UINT64_MAX, U_, &last, 1), MT_TX_OK);
    assert_int_equal(last, 0xff);
    CHECK_RES(mt_as_load(as3, 0xfffffffffffffff8ull, 8, MT_ENDIAN_LITTLE, U_,
                         &v),
              MT_TX_OK);
    assert_int_equal(v, UINT64_MAX);
    CHECK_RES(mt_as_load(as3, 0, 8, MT_ENDIAN_LITTLE, U_, &v), MT_TX_OK);
    assert_int_equal(v, UINT64_MAX);
    mt_ctx_free(ctx);
}

/* mt_as_rw is mt_as_write or mt_as_read. */
static void test_rw_dispatches_on_direction(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_sys(ctx);
    mt_region *ram = t_ram(ctx, "ram", 0x1000);
    mt_region *rom = t_rom(ctx, "rom", 0x1000);
    t_map(sys, 0x1000, ram);
    t_map(sys, 0x2000, rom);
    mt_as *as = t_as(ctx, sys, "memory");
    uint8_t buf[4] = { 9, 8, 7, 6 };

    CHECK_RES(mt_as_rw(as, 0x1000, U_, buf, 4, true), MT_TX_OK);
    assert_memory_equal(t_ptr(ram), buf, 4);
    CHECK_RES(mt_as_rw(as, 0x2000, U_, buf, 4, true), MT_TX_DECODE_ERROR);
    assert_int_equal(t_ptr(rom)[0], 0);
    uint8_t back[4] = { 0 };
    CHECK_RES(mt_as_rw(as, 0x1000, U_, back, 4, false), MT_TX_OK);
    assert_memory_equal(back, buf, 4);
    CHECK_RES(mt_as_rw(as, 0x2000, U_, back, 4, false), MT_TX_OK);
    CHECK_RES(mt_as_rw(as, 0x3000, U_, back, 4, false), MT_TX_DECODE_ERROR);
    assert_int_equal(back[0], 0);
    mt_ctx_free(ctx);
}

/* mt_as_write_rom writes RAM and ROM, skips device pieces and holes, and
 * always returns MT_TX_OK. */
static void test_write_rom_skips_io_and_holes(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_sys(ctx);
    t_dev d;
    mt_region *ram = t_ram(ctx, "ram", 0x10);
    mt_region *rom = t_rom(ctx, "rom", 0x10);
    t_map(sys, 0x1000, ram);
    t_map(sys, 0x1010, t_dev_le14(ctx, "dev", 0x10, &d));
    /* hole [0x1020, 0x102f] */
    t_map(sys, 0x1030, rom);
    mt_as *as = t_as(ctx, sys, "memory");
    uint8_t img[0x40];
    for (int i = 0; i < 0x40; i++)
        img[i] = (uint8_t)(0xa0 + i);

    CHECK_RES(mt_as_write_rom(as, 0x1000, U_, img, 0x40), MT_TX_OK);
    assert_memory_equal(t_ptr(ram), img, 0x10);
    assert_memory_equal(t_ptr(rom), img + 0x30, 0x10);
    CHECK_NO_CALLS(&d);
    mt_ctx_free(ctx);
}

/* I/O regions without ops, or with a missing callback, refuse accesses
 * with MT_TX_DECODE_ERROR (reads give 0). */
static void test_io_without_callbacks_decode_error(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_sys(ctx);
    t_dev d;
    t_dev_init(&d, MT_ENDIAN_LITTLE);
    d.regs[0] = 0x42;
    mt_ops wo = t_dev_ops(MT_ENDIAN_LITTLE, 1, 4, false, 1, 4, false);
    wo.read = NULL;
    mt_ops ro = t_dev_ops(MT_ENDIAN_LITTLE, 1, 4, false, 1, 4, false);
    ro.write = NULL;
    t_map(sys, 0x1000, t_io(ctx, "none", 0x100));
    t_map(sys, 0x2000, t_dev_region(ctx, "wo", 0x100, &wo, &d));
    t_map(sys, 0x3000, t_dev_region(ctx, "ro", 0x100, &ro, &d));
    mt_as *as = t_as(ctx, sys, "memory");
    uint32_t v = 0x12345678;
    uint64_t q = 7;

    CHECK_RES(mt_as_read(as, 0x1000, U_, &v, 4), MT_TX_DECODE_ERROR);
    assert_int_equal(v, 0);
    CHECK_RES(mt_as_write(as, 0x1000, U_, &v, 4), MT_TX_DECODE_ERROR);
    CHECK_RES(mt_as_load(as, 0x1000, 4, MT_ENDIAN_LITTLE, U_, &q),
              MT_TX_DECODE_ERROR);
    assert_int_equal(q, 0);

    v = 0x12345678;
    CHECK_RES(mt_as_read(as, 0x2000, U_, &v, 4), MT_TX_DECODE_ERROR);
    assert_int_equal(v, 0);
    CHECK_RES(mt_as_store(as, 0x2004, 4, MT_ENDIAN_LITTLE, U_, 0x11),
              MT_TX_OK);
    CHECK_RES(mt_as_load(as, 0x3000, 1, MT_ENDIAN_LITTLE, U_, &q), MT_TX_OK);
    assert_int_equal(q, 0x42);
    CHECK_RES(mt_as_store(as, 0x3000, 1, MT_ENDIAN_LITTLE, U_, 0x11),
              MT_TX_DECODE_ERROR);
    CHECK_LOG(&d, { W_, 4, 4, 0x11 }, { R_, 0, 1, 0x42 });
    mt_ctx_free(ctx);
}

/* A direct map of RAM is the RAM itself: writes through it are seen by
 * reads through the address space, and the reverse. */
static void test_map_ram_is_host_memory(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_sys(ctx);
    mt_region *ram = t_ram(ctx, "ram", 0x10000);
    t_map(sys, 0x100000, ram);
    mt_as *as = t_as(ctx, sys, "memory");

    uint64_t len = 0x2000;
    uint8_t *p = mt_as_map(as, 0x101000, &len, true, U_);
    assert_ptr_equal(p, t_ptr(ram) + 0x1000);
    assert_int_equal(len, 0x2000);
    memcpy(p + 0x10, "hello", 5);
    char s[6] = { 0 };
    CHECK_RES(mt_as_read(as, 0x101010, U_, s, 5), MT_TX_OK);
    assert_string_equal(s, "hello");
    CHECK_RES(mt_as_write(as, 0x101020, U_, "world", 5), MT_TX_OK);
    assert_memory_equal(p + 0x20, "world", 5);
    MT_OK(mt_as_unmap(as, p, len, true, 0x30));
    /* Many direct maps at once: no budget involved. */
    void *maps[8];
    for (int i = 0; i < 8; i++) {
        len = 0x1000;
        maps[i] = mt_as_map(as, 0x100000 + (uint64_t)i * 0x1000, &len, false,
                            U_);
        assert_non_null(maps[i]);
    }
    for (int i = 0; i < 8; i++)
        MT_OK(mt_as_unmap(as, maps[i], 0x1000, false, 0));
    mt_ctx_free(ctx);
}

/* A mapping holds a reference: the RAM stays valid after the region is
 * unmapped from the tree and its last other reference dropped. */
static void test_map_keeps_region_alive(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_sys(ctx);
    mt_region *ram = t_ram(ctx, "ram", 0x2000);
    t_map(sys, 0x1000, ram);
    mt_as *as = t_as(ctx, sys, "memory");

    uint64_t len = 0x2000;
    uint8_t *p = mt_as_map(as, 0x1000, &len, true, U_);
    assert_ptr_equal(p, t_ptr(ram));
    assert_int_equal(len, 0x2000);
    MT_OK(mt_region_del_subregion(sys, ram));
    mt_region_unref(ram); /* only the mapping holds it now */
    uint8_t b = 1;
    CHECK_RES(mt_as_read(as, 0x1000, U_, &b, 1), MT_TX_DECODE_ERROR);
    memset(p, 0x3c, 0x2000); /* still valid host memory */
    assert_int_equal(p[0x1fff], 0x3c);
    MT_OK(mt_as_unmap(as, p, len, true, len));
    mt_ctx_free(ctx);
}

/* A load straddling the end of a ROM device in ROMD mode is not direct:
 * it goes whole to the device's callbacks (QEMU's ld*_phys). */
static void test_load_straddling_romd_goes_to_callbacks(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_sys(ctx);
    t_dev d;
    t_dev_init(&d, MT_ENDIAN_LITTLE);
    d.fixed = true;
    d.fixed_val = 0xcafe;
    mt_ops o = t_dev_ops(MT_ENDIAN_LITTLE, 1, 4, true, 1, 4, false);
    mt_region *flash = t_rom_dev_region(ctx, "flash", 0x1000, &o, &d);
    memset(t_ptr(flash), 0x11, 0x1000);
    t_map(sys, 0x10000, flash);
    t_map(sys, 0x11000, t_ram(ctx, "ram", 0x1000));
    mt_as *as = t_as(ctx, sys, "memory");
    uint64_t v = 0;

    CHECK_RES(mt_as_load(as, 0x10ffc, 4, MT_ENDIAN_LITTLE, U_, &v), MT_TX_OK);
    assert_int_equal(v, 0x11111111); /* inside: direct */
    CHECK_NO_CALLS(&d);
    CHECK_RES(mt_as_load(as, 0x10ffe, 4, MT_ENDIAN_LITTLE, U_, &v), MT_TX_OK);
    assert_int_equal(v, 0xcafe);
    CHECK_LOG(&d, { R_, 0xffe, 4, 0xcafe });
    t_dev_clear_log(&d);
    CHECK_RES(mt_as_load(as, 0x10ffc, 8, MT_ENDIAN_LITTLE, U_, &v),
              MT_TX_DECODE_ERROR); /* whole: 8 > valid.max 4 */
    assert_int_equal(v, 0);
    CHECK_NO_CALLS(&d);
    mt_ctx_free(ctx);
}

/* Accesses read the published view: changes inside an open transaction
 * are not seen until the outermost commit. */
static void test_access_sees_published_view_only(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_sys(ctx);
    mt_as *as = t_as(ctx, sys, "memory");
    mt_region *ram = t_ram(ctx, "ram", 0x1000);
    t_ptr(ram)[0] = 0x42;

    mt_begin(ctx);
    t_map(sys, 0x1000, ram);
    uint8_t b = 7;
    CHECK_RES(mt_as_read(as, 0x1000, U_, &b, 1), MT_TX_DECODE_ERROR);
    assert_int_equal(b, 0);
    MT_OK(mt_commit(ctx));
    CHECK_RES(mt_as_read(as, 0x1000, U_, &b, 1), MT_TX_OK);
    assert_int_equal(b, 0x42);

    mt_begin(ctx);
    MT_OK(mt_region_set_address(ram, 0x5000));
    CHECK_RES(mt_as_read(as, 0x1000, U_, &b, 1), MT_TX_OK);
    MT_OK(mt_commit(ctx));
    CHECK_RES(mt_as_read(as, 0x1000, U_, &b, 1), MT_TX_DECODE_ERROR);
    CHECK_RES(mt_as_read(as, 0x5000, U_, &b, 1), MT_TX_OK);
    assert_int_equal(b, 0x42);
    mt_ctx_free(ctx);
}

/* A big-endian device cut into several pieces: each piece is laid out in
 * the device's byte order, so the buffer holds the registers in address
 * order. */
static void test_be_device_buffer_layout(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_sys(ctx);
    t_dev d;
    t_dev_init(&d, MT_ENDIAN_BIG);
    for (int i = 0; i < 16; i++)
        d.regs[i] = (uint8_t)(0x30 + i);
    mt_ops o = t_dev_ops(MT_ENDIAN_BIG, 1, 4, false, 1, 4, false);
    t_map(sys, 0x1000, t_dev_region(ctx, "be", 0x100, &o, &d));
    mt_as *as = t_as(ctx, sys, "memory");
    uint8_t buf[16];

    CHECK_RES(mt_as_read(as, 0x1001, U_, buf, 11), MT_TX_OK);
    for (int i = 0; i < 11; i++)
        assert_int_equal(buf[i], 0x31 + i);
    CHECK_LOG(&d, { R_, 1, 1, 0x31 }, { R_, 2, 2, 0x3233 },
              { R_, 4, 4, 0x34353637 }, { R_, 8, 4, 0x38393a3b });
    t_dev_clear_log(&d);
    static const uint8_t w[6] = { 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5 };
    CHECK_RES(mt_as_write(as, 0x1002, U_, w, 6), MT_TX_OK);
    CHECK_LOG(&d, { W_, 2, 2, 0xa0a1 }, { W_, 4, 4, 0xa2a3a4a5 });
    assert_memory_equal(d.regs + 2, w, 6);
    mt_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_store_ram_all_sizes_both_endians),
        cmocka_unit_test(test_load_store_devices_both_endians),
        cmocka_unit_test(test_load_store_bad_size_decode_error),
        cmocka_unit_test(test_translate_ram_hole_device),
        cmocka_unit_test(test_access_valid),
        cmocka_unit_test(test_unmap_bogus_pointer_einval),
        cmocka_unit_test(test_zero_length_accesses_ok),
        cmocka_unit_test(test_ram_device_host_loads_stores),
        cmocka_unit_test(test_span_ram_hole_ram),
        cmocka_unit_test(test_top_of_address_space),
        cmocka_unit_test(test_rw_dispatches_on_direction),
        cmocka_unit_test(test_write_rom_skips_io_and_holes),
        cmocka_unit_test(test_io_without_callbacks_decode_error),
        cmocka_unit_test(test_map_ram_is_host_memory),
        cmocka_unit_test(test_map_keeps_region_alive),
        cmocka_unit_test(test_load_straddling_romd_goes_to_callbacks),
        cmocka_unit_test(test_access_sees_published_view_only),
        cmocka_unit_test(test_be_device_buffer_layout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
