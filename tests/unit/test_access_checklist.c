/* SPDX-License-Identifier: MIT */
/*
 * test_access_checklist.c: the access path against checklist items 26-40
 * of the QEMU reference §10 (unassigned memory, ROM, read-only aliases,
 * ROMD, valid/impl rules, splitting, result ORing, re-entrancy guard,
 * ld/st, sub-page lookup, DMA map/unmap). Item 38 (no section limit) is in
 * test_access_scale.c. Public API only; the expected values encode QEMU
 * 7.2's behaviour (plus 9.x attrs.memory and per-AS bounce budgets, which
 * memtree adopts).
 */
#include "access_testdev.h"

/* ------------------------------------------------------------------------ */
/* Item 26                                                                   */
/* ------------------------------------------------------------------------ */

/*
 * Item 26: a hole in a memory address space reads as zeros with
 * MT_TX_DECODE_ERROR (QEMU's io_mem_unassigned accepts nothing) and drops
 * writes; a port space whose root is an I/O region with unassigned-I/O
 * ops reads all-ones with MT_TX_OK at every width.
 */
static void test_item26_unassigned_memory_read_zero_decode_error(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_sys(ctx);
    mt_region *ram = t_ram(ctx, "ram", 0x1000);
    t_map(sys, 0x1000, ram);
    mt_as *as = t_as(ctx, sys, "memory");

    static const unsigned sizes[] = { 1, 2, 4, 8 };
    for (size_t i = 0; i < 4; i++) {
        uint8_t buf[16];
        memset(buf, 0xaa, sizeof(buf));
        CHECK_RES(mt_as_read(as, 0x10000, U_, buf, sizes[i]),
                  MT_TX_DECODE_ERROR);
        for (unsigned j = 0; j < sizes[i]; j++)
            assert_int_equal(buf[j], 0);
        assert_int_equal(buf[sizes[i]], 0xaa); /* nothing past the access */

        uint64_t v = 0x1234;
        CHECK_RES(mt_as_load(as, 0x10000, sizes[i], MT_ENDIAN_LITTLE, U_, &v),
                  MT_TX_DECODE_ERROR);
        assert_int_equal(v, 0);
        CHECK_RES(mt_as_store(as, 0x10000, sizes[i], MT_ENDIAN_LITTLE, U_,
                              0x1234),
                  MT_TX_DECODE_ERROR);
        CHECK_RES(mt_as_write(as, 0x10000, U_, buf, sizes[i]),
                  MT_TX_DECODE_ERROR);
    }
    /* Address 0 (below the RAM) and the very last address are holes too. */
    uint8_t b = 0x55;
    CHECK_RES(mt_as_read(as, 0, U_, &b, 1), MT_TX_DECODE_ERROR);
    assert_int_equal(b, 0);
    b = 0x55;
    CHECK_RES(mt_as_read(as, UINT64_MAX, U_, &b, 1), MT_TX_DECODE_ERROR);
    assert_int_equal(b, 0);

    /* An empty address space is one big hole. */
    mt_region *empty = t_container(ctx, "empty", MT_SIZE_FULL);
    mt_as *eas = t_as(ctx, empty, "empty");
    uint32_t w = 0xdeadbeef;
    CHECK_RES(mt_as_read(eas, 0x1234, U_, &w, 4), MT_TX_DECODE_ERROR);
    assert_int_equal(w, 0);

    /* Port I/O space: root is an I/O region with unassigned-I/O ops. */
    mt_region *io = NULL;
    MT_OK(mt_region_new_io(ctx, "io", 0x10000, mt_ops_unassigned_io(), NULL,
                           &io));
    t_dev kbd;
    t_dev_init(&kbd, MT_ENDIAN_LITTLE);
    kbd.regs[0] = 0x1c;
    mt_ops kops = t_dev_ops(MT_ENDIAN_LITTLE, 1, 1, false, 1, 1, false);
    mt_region *kr = t_dev_region(ctx, "kbd", 1, &kops, &kbd);
    t_map(io, 0x60, kr);
    mt_as *pio = t_as(ctx, io, "I/O");

    uint8_t b1 = 0;
    CHECK_RES(mt_as_read(pio, 0x80, U_, &b1, 1), MT_TX_OK);
    assert_int_equal(b1, 0xff);
    uint16_t b2 = 0;
    CHECK_RES(mt_as_read(pio, 0x80, U_, &b2, 2), MT_TX_OK);
    assert_int_equal(b2, 0xffff);
    uint32_t b4 = 0;
    CHECK_RES(mt_as_read(pio, 0x80, U_, &b4, 4), MT_TX_OK);
    assert_int_equal(b4, 0xffffffffu);
    /* Unaligned and odd ports too (the access is cut at alignment). */
    b4 = 0;
    CHECK_RES(mt_as_read(pio, 0x3f9, U_, &b4, 4), MT_TX_OK);
    assert_int_equal(b4, 0xffffffffu);

    for (size_t i = 0; i < 3; i++) {
        uint64_t v = 0;
        CHECK_RES(mt_as_load(pio, 0xcf8, sizes[i], MT_ENDIAN_LITTLE, U_, &v),
                  MT_TX_OK);
        assert_int_equal(v, (UINT64_C(1) << (sizes[i] * 8)) - 1);
    }
    /* Writes to unassigned ports are ignored with MT_TX_OK. */
    CHECK_RES(mt_as_write(pio, 0x80, U_, &b4, 4), MT_TX_OK);
    CHECK_RES(mt_as_store(pio, 0x80, 1, MT_ENDIAN_LITTLE, U_, 0x12), MT_TX_OK);

    /* The mapped port answers with its own value. */
    b1 = 0;
    CHECK_RES(mt_as_read(pio, 0x60, U_, &b1, 1), MT_TX_OK);
    assert_int_equal(b1, 0x1c);
    CHECK_LOG(&kbd, { R_, 0, 1, 0x1c });

    mt_ctx_free(ctx);
}

/* ------------------------------------------------------------------------ */
/* Item 27                                                                   */
/* ------------------------------------------------------------------------ */

/*
 * Item 27: ROM refuses mt_as_write (and stores) with MT_TX_DECODE_ERROR and
 * keeps its contents; mt_as_write_rom loads it.
 */
static void test_item27_rom_write_decode_error_write_rom_succeeds(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_sys(ctx);
    mt_region *rom = t_rom(ctx, "rom", 0x1000);
    mt_region *ram = t_ram(ctx, "ram", 0x1000);
    t_map(sys, 0xf0000, rom);
    t_map(sys, 0xef000, ram); /* just below the ROM */
    mt_as *as = t_as(ctx, sys, "memory");
    uint8_t *host = t_ptr(rom);

    static const uint8_t fw[8] = { 0xea, 0x5b, 0xe0, 0x00, 0xf0, 1, 2, 3 };
    CHECK_RES(mt_as_write_rom(as, 0xf0010, U_, fw, sizeof(fw)), MT_TX_OK);
    assert_memory_equal(host + 0x10, fw, sizeof(fw));

    uint8_t junk[8];
    memset(junk, 0x77, sizeof(junk));
    CHECK_RES(mt_as_write(as, 0xf0010, U_, junk, sizeof(junk)),
              MT_TX_DECODE_ERROR);
    assert_memory_equal(host + 0x10, fw, sizeof(fw));
    CHECK_RES(mt_as_store(as, 0xf0010, 4, MT_ENDIAN_LITTLE, U_, 0x77777777),
              MT_TX_DECODE_ERROR);
    CHECK_RES(mt_as_store(as, 0xf0010, 8, MT_ENDIAN_BIG, U_, 0),
              MT_TX_DECODE_ERROR);
    assert_memory_equal(host + 0x10, fw, sizeof(fw));

    /* Reads are direct and fine. */
    uint8_t back[8];
    CHECK_RES(mt_as_read(as, 0xf0010, U_, back, sizeof(back)), MT_TX_OK);
    assert_memory_equal(back, fw, sizeof(fw));
    uint64_t v = 0;
    CHECK_RES(mt_as_load(as, 0xf0010, 2, MT_ENDIAN_LITTLE, U_, &v), MT_TX_OK);
    assert_int_equal(v, 0x5bea);

    /* A write spanning RAM then ROM: the RAM part lands, the ROM part is
     * refused, and the result says so. */
    CHECK_RES(mt_as_write(as, 0xefffc, U_, junk, 8), MT_TX_DECODE_ERROR);
    uint8_t *rhost = t_ptr(ram);
    for (int i = 0; i < 4; i++)
        assert_int_equal(rhost[0xffc + i], 0x77);
    for (int i = 0; i < 4; i++)
        assert_int_equal(host[i], 0);

    /* write_rom writes both RAM and ROM. */
    static const uint8_t two[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    CHECK_RES(mt_as_write_rom(as, 0xefffc, U_, two, 8), MT_TX_OK);
    assert_memory_equal(rhost + 0xffc, two, 4);
    assert_memory_equal(host, two + 4, 4);

    mt_ctx_free(ctx);
}

/* ------------------------------------------------------------------------ */
/* Item 28                                                                   */
/* ------------------------------------------------------------------------ */

/*
 * Item 28: RAM seen through a read-only alias (or read-only container) is
 * rendered read-only, but mt_as_write still writes it: QEMU checks the
 * region's own flag, not the flat range's.
 */
static void test_item28_ram_through_readonly_alias_still_writable(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_sys(ctx);
    mt_region *ram = t_ram(ctx, "ram", 0x2000);
    mt_region *ro = t_alias(ctx, "ro-alias", ram, 0x1000, 0x1000);
    MT_OK(mt_region_set_readonly(ro, true));
    t_map(sys, 0x100000, ro);

    mt_region *box = t_container(ctx, "ro-box", 0x1000);
    mt_region *ram2 = t_ram(ctx, "ram2", 0x1000);
    t_map(box, 0, ram2);
    MT_OK(mt_region_set_readonly(box, true));
    t_map(sys, 0x200000, box);

    mt_as *as = t_as(ctx, sys, "memory");
    CHECK_AS(as, { 0x100000, 0x100fff, ram, 0x1000, XF_RO },
             { 0x200000, 0x200fff, ram2, 0, XF_RO });

    uint32_t v = 0xcafef00d;
    CHECK_RES(mt_as_write(as, 0x100010, U_, &v, 4), MT_TX_OK);
    assert_memory_equal(t_ptr(ram) + 0x1010, &v, 4);
    CHECK_RES(mt_as_store(as, 0x100020, 8, MT_ENDIAN_BIG, U_,
                          0x0102030405060708ull),
              MT_TX_OK);
    static const uint8_t be[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    assert_memory_equal(t_ptr(ram) + 0x1020, be, 8);

    CHECK_RES(mt_as_write(as, 0x200ffc, U_, &v, 4), MT_TX_OK);
    assert_memory_equal(t_ptr(ram2) + 0xffc, &v, 4);

    /* DMA mapping for write is direct as well. */
    uint64_t len = 0x100;
    void *p = mt_as_map(as, 0x100100, &len, true, U_);
    assert_ptr_equal(p, t_ptr(ram) + 0x1100);
    assert_int_equal(len, 0x100);
    MT_OK(mt_as_unmap(as, p, len, true, len));

    /* For contrast: the region's own read-only flag makes it ROM. */
    MT_OK(mt_region_set_readonly(ram2, true));
    uint32_t z = 0;
    CHECK_RES(mt_as_write(as, 0x200ffc, U_, &z, 4), MT_TX_DECODE_ERROR);
    assert_memory_equal(t_ptr(ram2) + 0xffc, &v, 4);

    mt_ctx_free(ctx);
}

/* ------------------------------------------------------------------------ */
/* Item 29                                                                   */
/* ------------------------------------------------------------------------ */

/*
 * Item 29: a ROM device in ROMD mode reads its backing memory directly
 * and sends writes to its callbacks; in MMIO mode both go to the
 * callbacks.
 * The other half of item 29 (the KVM slot is removed when ROMD mode is
 * off) belongs to the KVM backend, a later issue; not tested here.
 */
static void test_item29_romd_modes(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_sys(ctx);
    t_dev d;
    t_dev_init(&d, MT_ENDIAN_LITTLE);
    for (unsigned i = 0; i < 0x100; i++)
        d.regs[i] = (uint8_t)(0x80 + i); /* what the callbacks return */
    mt_ops ops = t_dev_ops(MT_ENDIAN_LITTLE, 1, 4, false, 1, 4, false);
    mt_region *flash = t_rom_dev_region(ctx, "flash", 0x1000, &ops, &d);
    uint8_t *backing = t_ptr(flash);
    for (unsigned i = 0; i < 0x1000; i++)
        backing[i] = (uint8_t)i;
    t_map(sys, 0xfff00000, flash);
    mt_as *as = t_as(ctx, sys, "memory");

    /* ROMD mode (the initial mode). */
    assert_true(mt_region_romd(flash));
    CHECK_AS(as, { 0xfff00000, 0xfff00fff, flash, 0, 0 });
    uint8_t buf[8];
    CHECK_RES(mt_as_read(as, 0xfff00010, U_, buf, 8), MT_TX_OK);
    for (int i = 0; i < 8; i++)
        assert_int_equal(buf[i], 0x10 + i);
    uint64_t v = 0;
    CHECK_RES(mt_as_load(as, 0xfff00020, 4, MT_ENDIAN_LITTLE, U_, &v),
              MT_TX_OK);
    assert_int_equal(v, 0x23222120);
    CHECK_NO_CALLS(&d);

    uint32_t cmd = 0x00ff00ff;
    CHECK_RES(mt_as_write(as, 0xfff00040, U_, &cmd, 4), MT_TX_OK);
    CHECK_RES(mt_as_store(as, 0xfff00044, 2, MT_ENDIAN_LITTLE, U_, 0x90),
              MT_TX_OK);
    CHECK_LOG(&d, { W_, 0x40, 4, 0x00ff00ff }, { W_, 0x44, 2, 0x90 });
    for (unsigned i = 0x40; i < 0x46; i++)
        assert_int_equal(backing[i], (uint8_t)i); /* backing untouched */

    /* MMIO mode: reads go to the callbacks too. */
    t_dev_clear_log(&d);
    MT_OK(mt_region_set_romd(flash, false));
    assert_false(mt_region_romd(flash));
    CHECK_AS(as, { 0xfff00000, 0xfff00fff, flash, 0, XF_NOROMD });
    CHECK_RES(mt_as_read(as, 0xfff00010, U_, buf, 4), MT_TX_OK);
    for (int i = 0; i < 4; i++)
        assert_int_equal(buf[i], 0x90 + i);
    v = 0;
    CHECK_RES(mt_as_load(as, 0xfff00020, 2, MT_ENDIAN_LITTLE, U_, &v),
              MT_TX_OK);
    assert_int_equal(v, 0xa1a0);
    CHECK_RES(mt_as_store(as, 0xfff00030, 1, MT_ENDIAN_LITTLE, U_, 0x70),
              MT_TX_OK);
    CHECK_LOG(&d, { R_, 0x10, 4, 0x93929190 }, { R_, 0x20, 2, 0xa1a0 },
              { W_, 0x30, 1, 0x70 });
    assert_int_equal(backing[0x30], 0x30);

    /* Firmware loading skips a ROM device in MMIO mode (QEMU only copies
     * into RAM and ROMD-mode ROM devices)... */
    static const uint8_t img[4] = { 0xde, 0xad, 0xbe, 0xef };
    t_dev_clear_log(&d);
    CHECK_RES(mt_as_write_rom(as, 0xfff00000, U_, img, 4), MT_TX_OK);
    assert_int_equal(backing[0], 0);
    CHECK_NO_CALLS(&d);
    /* ...and writes the backing memory in ROMD mode. */
    MT_OK(mt_region_set_romd(flash, true));
    CHECK_RES(mt_as_write_rom(as, 0xfff00000, U_, img, 4), MT_TX_OK);
    assert_memory_equal(backing, img, 4);
    CHECK_RES(mt_as_read(as, 0xfff00000, U_, buf, 4), MT_TX_OK);
    assert_memory_equal(buf, img, 4);
    CHECK_NO_CALLS(&d);

    mt_ctx_free(ctx);
}

/* ------------------------------------------------------------------------ */
/* Item 30                                                                   */
/* ------------------------------------------------------------------------ */

static bool accept_below_0x80(void *opaque, uint64_t off, unsigned size,
                              bool is_write, mt_attrs attrs)
{
    (void)opaque, (void)size, (void)attrs;
    return off < 0x80 || (!is_write && off >= 0x100);
}

/*
 * Item 30: valid.max_access_size 0 means any size is valid (even below a
 * non-zero valid.min); valid.accepts can veto; unaligned accesses are
 * rejected unless valid.unaligned. A rejected access is
 * MT_TX_DECODE_ERROR, reads 0 and never reaches a callback.
 */
static void test_item30_valid_rules(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_sys(ctx);
    t_dev any, veto, strict, loose, sized;
    t_dev_init(&any, MT_ENDIAN_LITTLE);
    t_dev_init(&veto, MT_ENDIAN_LITTLE);
    t_dev_init(&strict, MT_ENDIAN_LITTLE);
    t_dev_init(&loose, MT_ENDIAN_LITTLE);
    t_dev_init(&sized, MT_ENDIAN_LITTLE);

    /* valid.min 4, valid.max 0: the max of 0 makes every size valid. */
    mt_ops o_any = t_dev_ops(MT_ENDIAN_LITTLE, 4, 0, false, 1, 8, false);
    mt_ops o_veto = t_dev_ops(MT_ENDIAN_LITTLE, 1, 4, false, 1, 4, false);
    o_veto.valid.accepts = accept_below_0x80;
    mt_ops o_strict = t_dev_ops(MT_ENDIAN_LITTLE, 1, 4, false, 1, 4, false);
    mt_ops o_loose = t_dev_ops(MT_ENDIAN_LITTLE, 1, 4, true, 1, 4, false);
    mt_ops o_sized = t_dev_ops(MT_ENDIAN_LITTLE, 2, 4, false, 1, 4, false);
    t_map(sys, 0x10000, t_dev_region(ctx, "any", 0x1000, &o_any, &any));
    t_map(sys, 0x20000, t_dev_region(ctx, "veto", 0x1000, &o_veto, &veto));
    t_map(sys, 0x30000, t_dev_region(ctx, "strict", 0x1000, &o_strict,
                                     &strict));
    t_map(sys, 0x40000, t_dev_region(ctx, "loose", 0x1000, &o_loose, &loose));
    t_map(sys, 0x50000, t_dev_region(ctx, "sized", 0x1000, &o_sized, &sized));
    mt_as *as = t_as(ctx, sys, "memory");
    uint64_t v;

    /* max 0: 1 and 8 bytes both accepted, each one callback. */
    any.regs[0] = 0x11;
    memcpy(any.regs + 8, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    CHECK_RES(mt_as_load(as, 0x10000, 1, MT_ENDIAN_LITTLE, U_, &v), MT_TX_OK);
    assert_int_equal(v, 0x11);
    CHECK_RES(mt_as_load(as, 0x10008, 8, MT_ENDIAN_LITTLE, U_, &v), MT_TX_OK);
    assert_int_equal(v, 0x0807060504030201ull);
    CHECK_RES(mt_as_store(as, 0x10002, 2, MT_ENDIAN_LITTLE, U_, 0xbeef),
              MT_TX_OK);
    CHECK_LOG(&any, { R_, 0, 1, 0x11 }, { R_, 8, 8, 0x0807060504030201ull },
              { W_, 2, 2, 0xbeef });
    assert_true(mt_as_access_valid(as, 0x10000, 1, false, U_));

    /* accepts vetoes: reads and writes at 0x80..0xff, writes from 0x100. */
    veto.regs[0x80] = 0x42;
    v = 0x55;
    CHECK_RES(mt_as_load(as, 0x20080, 1, MT_ENDIAN_LITTLE, U_, &v),
              MT_TX_DECODE_ERROR);
    assert_int_equal(v, 0);
    uint8_t b = 0x55;
    CHECK_RES(mt_as_read(as, 0x20080, U_, &b, 1), MT_TX_DECODE_ERROR);
    assert_int_equal(b, 0);
    CHECK_RES(mt_as_store(as, 0x20084, 4, MT_ENDIAN_LITTLE, U_, 1),
              MT_TX_DECODE_ERROR);
    CHECK_RES(mt_as_write(as, 0x20100, U_, &b, 1), MT_TX_DECODE_ERROR);
    CHECK_NO_CALLS(&veto);
    assert_int_equal(veto.regs[0x84], 0);
    CHECK_RES(mt_as_load(as, 0x20100, 1, MT_ENDIAN_LITTLE, U_, &v), MT_TX_OK);
    CHECK_RES(mt_as_store(as, 0x2007c, 4, MT_ENDIAN_LITTLE, U_, 7), MT_TX_OK);
    CHECK_LOG(&veto, { R_, 0x100, 1, 0 }, { W_, 0x7c, 4, 7 });
    assert_false(mt_as_access_valid(as, 0x20080, 1, false, U_));
    assert_true(mt_as_access_valid(as, 0x20100, 1, false, U_));
    assert_false(mt_as_access_valid(as, 0x20100, 1, true, U_));
    /* A buffer access whose second piece is vetoed: first piece done. */
    uint8_t two[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    t_dev_clear_log(&veto);
    CHECK_RES(mt_as_write(as, 0x2007c, U_, two, 8), MT_TX_DECODE_ERROR);
    CHECK_LOG(&veto, { W_, 0x7c, 4, 0x04030201 });

    /* Unaligned: rejected unless valid.unaligned. */
    strict.regs[2] = 0x99;
    v = 0x55;
    CHECK_RES(mt_as_load(as, 0x30002, 4, MT_ENDIAN_LITTLE, U_, &v),
              MT_TX_DECODE_ERROR);
    assert_int_equal(v, 0);
    CHECK_RES(mt_as_load(as, 0x30001, 2, MT_ENDIAN_LITTLE, U_, &v),
              MT_TX_DECODE_ERROR);
    CHECK_RES(mt_as_store(as, 0x30003, 4, MT_ENDIAN_LITTLE, U_, 1),
              MT_TX_DECODE_ERROR);
    CHECK_NO_CALLS(&strict);
    CHECK_RES(mt_as_load(as, 0x30002, 2, MT_ENDIAN_LITTLE, U_, &v), MT_TX_OK);
    assert_int_equal(v, 0x99);
    CHECK_LOG(&strict, { R_, 2, 2, 0x99 });

    loose.regs[2] = 0x99;
    CHECK_RES(mt_as_load(as, 0x40002, 4, MT_ENDIAN_LITTLE, U_, &v), MT_TX_OK);
    assert_int_equal(v, 0x99);
    CHECK_RES(mt_as_store(as, 0x40003, 4, MT_ENDIAN_LITTLE, U_, 0x01020304),
              MT_TX_OK);
    CHECK_LOG(&loose, { R_, 2, 4, 0x99 }, { W_, 3, 4, 0x01020304 });

    /* Sizes outside [valid.min, valid.max] are rejected. */
    CHECK_RES(mt_as_load(as, 0x50000, 1, MT_ENDIAN_LITTLE, U_, &v),
              MT_TX_DECODE_ERROR);
    CHECK_RES(mt_as_load(as, 0x50000, 8, MT_ENDIAN_LITTLE, U_, &v),
              MT_TX_DECODE_ERROR);
    CHECK_RES(mt_as_read(as, 0x50001, U_, &b, 1), MT_TX_DECODE_ERROR);
    CHECK_NO_CALLS(&sized);
    CHECK_RES(mt_as_load(as, 0x50000, 2, MT_ENDIAN_LITTLE, U_, &v), MT_TX_OK);
    CHECK_RES(mt_as_load(as, 0x50000, 4, MT_ENDIAN_LITTLE, U_, &v), MT_TX_OK);
    CHECK_LOG(&sized, { R_, 0, 2, 0 }, { R_, 0, 4, 0 });

    mt_ctx_free(ctx);
}

/* ------------------------------------------------------------------------ */
/* Item 31                                                                   */
/* ------------------------------------------------------------------------ */

/*
 * Item 31: impl.min/max default to 1/4. An 8-byte access to a device with
 * impl.max 4 (valid.max 8) becomes two 4-byte callbacks at increasing
 * addresses: the least significant half first for a little-endian device,
 * the most significant half first for a big-endian one.
 */
static void test_item31_impl_defaults_and_split_order(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_sys(ctx);
    t_dev le, be, def;
    t_map_le_be(ctx, sys, &le, &be, 1, 8, 1, 4);
    t_dev_init(&def, MT_ENDIAN_LITTLE);
    mt_ops o_def = t_dev_ops(MT_ENDIAN_LITTLE, 1, 8, false, 0, 0, false);
    t_map(sys, 0x3000, t_dev_region(ctx, "def", 0x100, &o_def, &def));
    mt_as *as = t_as(ctx, sys, "memory");
    const uint64_t V = 0x1122334455667788ull;
    uint64_t v = 0;

    /* Stores in the device's own byte order: the value is not swapped. */
    CHECK_RES(mt_as_store(as, 0x1008, 8, MT_ENDIAN_LITTLE, U_, V), MT_TX_OK);
    CHECK_LOG(&le, { W_, 8, 4, 0x55667788 }, { W_, 12, 4, 0x11223344 });
    CHECK_RES(mt_as_store(as, 0x2008, 8, MT_ENDIAN_BIG, U_, V), MT_TX_OK);
    CHECK_LOG(&be, { W_, 8, 4, 0x11223344 }, { W_, 12, 4, 0x55667788 });

    /* Loads are assembled the same way. */
    t_dev_clear_log(&le);
    t_dev_clear_log(&be);
    CHECK_RES(mt_as_load(as, 0x1008, 8, MT_ENDIAN_LITTLE, U_, &v), MT_TX_OK);
    assert_int_equal(v, V);
    CHECK_LOG(&le, { R_, 8, 4, 0x55667788 }, { R_, 12, 4, 0x11223344 });
    CHECK_RES(mt_as_load(as, 0x2008, 8, MT_ENDIAN_BIG, U_, &v), MT_TX_OK);
    assert_int_equal(v, V);
    CHECK_LOG(&be, { R_, 8, 4, 0x11223344 }, { R_, 12, 4, 0x55667788 });

    /* Buffer accesses: one 8-byte access (valid.max 8), split the same
     * way; the buffer holds the bytes in address order. */
    static const uint8_t bytes[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    t_dev_clear_log(&le);
    t_dev_clear_log(&be);
    CHECK_RES(mt_as_write(as, 0x1010, U_, bytes, 8), MT_TX_OK);
    CHECK_LOG(&le, { W_, 0x10, 4, 0x04030201 }, { W_, 0x14, 4, 0x08070605 });
    CHECK_RES(mt_as_write(as, 0x2010, U_, bytes, 8), MT_TX_OK);
    CHECK_LOG(&be, { W_, 0x10, 4, 0x01020304 }, { W_, 0x14, 4, 0x05060708 });
    uint8_t back[8];
    CHECK_RES(mt_as_read(as, 0x1010, U_, back, 8), MT_TX_OK);
    assert_memory_equal(back, bytes, 8);
    CHECK_RES(mt_as_read(as, 0x2010, U_, back, 8), MT_TX_OK);
    assert_memory_equal(back, bytes, 8);

    /* A load in the other byte order is the byte-swapped value. */
    CHECK_RES(mt_as_load(as, 0x2008, 8, MT_ENDIAN_LITTLE, U_, &v), MT_TX_OK);
    assert_int_equal(v, 0x8877665544332211ull);

    /* impl 0/0 means 1..4: 8 bytes -> two 4-byte calls, 1 and 2 as is. */
    CHECK_RES(mt_as_store(as, 0x3000, 8, MT_ENDIAN_LITTLE, U_, V), MT_TX_OK);
    CHECK_RES(mt_as_store(as, 0x3008, 1, MT_ENDIAN_LITTLE, U_, 0xab),
              MT_TX_OK);
    CHECK_RES(mt_as_store(as, 0x300a, 2, MT_ENDIAN_LITTLE, U_, 0xabcd),
              MT_TX_OK);
    CHECK_RES(mt_as_load(as, 0x300c, 4, MT_ENDIAN_LITTLE, U_, &v), MT_TX_OK);
    CHECK_LOG(&def, { W_, 0, 4, 0x55667788 }, { W_, 4, 4, 0x11223344 },
              { W_, 8, 1, 0xab }, { W_, 0xa, 2, 0xabcd }, { R_, 0xc, 4, 0 });

    mt_ctx_free(ctx);
}

/* ------------------------------------------------------------------------ */
/* Item 32                                                                   */
/* ------------------------------------------------------------------------ */

/*
 * Item 32: an access narrower than impl.min becomes one wider callback at
 * the original, unaligned address (QEMU does not round down), and the
 * result is masked to the requested size. For a big-endian device the
 * requested bytes are the most significant ones of the wider access.
 */
static void test_item32_narrow_access_widened_at_original_address(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_sys(ctx);
    t_dev le, be;
    t_map_le_be(ctx, sys, &le, &be, 1, 4, 4, 4);
    le.fixed = be.fixed = true;
    le.fixed_val = be.fixed_val = 0xaabbccdd;
    mt_as *as = t_as(ctx, sys, "memory");

    uint8_t b = 0;
    CHECK_RES(mt_as_read(as, 0x1001, U_, &b, 1), MT_TX_OK);
    assert_int_equal(b, 0xdd);
    uint64_t v = 0;
    CHECK_RES(mt_as_load(as, 0x1002, 2, MT_ENDIAN_LITTLE, U_, &v), MT_TX_OK);
    assert_int_equal(v, 0xccdd);
    CHECK_RES(mt_as_load(as, 0x1003, 1, MT_ENDIAN_LITTLE, U_, &v), MT_TX_OK);
    assert_int_equal(v, 0xdd);
    CHECK_RES(mt_as_store(as, 0x1003, 1, MT_ENDIAN_LITTLE, U_, 0x5a),
              MT_TX_OK);
    CHECK_RES(mt_as_store(as, 0x1006, 2, MT_ENDIAN_LITTLE, U_, 0x1234),
              MT_TX_OK);
    CHECK_LOG(&le, { R_, 1, 4, 0xaabbccdd }, { R_, 2, 4, 0xaabbccdd },
              { R_, 3, 4, 0xaabbccdd }, { W_, 3, 4, 0x5a },
              { W_, 6, 4, 0x1234 });

    b = 0;
    CHECK_RES(mt_as_read(as, 0x2001, U_, &b, 1), MT_TX_OK);
    assert_int_equal(b, 0xaa);
    CHECK_RES(mt_as_load(as, 0x2002, 2, MT_ENDIAN_BIG, U_, &v), MT_TX_OK);
    assert_int_equal(v, 0xaabb);
    CHECK_RES(mt_as_store(as, 0x2003, 1, MT_ENDIAN_BIG, U_, 0x5a), MT_TX_OK);
    CHECK_RES(mt_as_store(as, 0x2006, 2, MT_ENDIAN_BIG, U_, 0x1234),
              MT_TX_OK);
    CHECK_LOG(&be, { R_, 1, 4, 0xaabbccdd }, { R_, 2, 4, 0xaabbccdd },
              { W_, 3, 4, 0x5a000000 }, { W_, 6, 4, 0x12340000 });

    mt_ctx_free(ctx);
}

/* ------------------------------------------------------------------------ */
/* Item 33                                                                   */
/* ------------------------------------------------------------------------ */

/*
 * Item 33: buffer accesses are cut by valid.max_access_size (0 counts as
 * 4) and, unless impl.unaligned, by the natural alignment of the offset
 * in the region: 4 bytes at offset 1 become 1, 2, 1.
 */
static void test_item33_buffer_access_split_by_valid_max_and_alignment(
    void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_sys(ctx);
    t_dev d4, d0, d2, d8, du, odd;
    mt_ops o4 = t_dev_ops(MT_ENDIAN_LITTLE, 1, 4, false, 1, 4, false);
    mt_ops o0 = t_dev_ops(MT_ENDIAN_LITTLE, 0, 0, false, 1, 8, false);
    mt_ops o2 = t_dev_ops(MT_ENDIAN_LITTLE, 1, 2, false, 1, 2, false);
    mt_ops o8 = t_dev_ops(MT_ENDIAN_LITTLE, 1, 8, false, 1, 8, false);
    mt_ops ou = t_dev_ops(MT_ENDIAN_LITTLE, 1, 4, true, 1, 4, true);
    t_dev *devs[] = { &d4, &d0, &d2, &d8, &du, &odd };
    for (size_t i = 0; i < 6; i++) {
        t_dev_init(devs[i], MT_ENDIAN_LITTLE);
        for (unsigned j = 0; j < 0x100; j++)
            devs[i]->regs[j] = (uint8_t)j;
    }
    t_map(sys, 0x10000, t_dev_region(ctx, "d4", 0x100, &o4, &d4));
    t_map(sys, 0x20000, t_dev_region(ctx, "d0", 0x100, &o0, &d0));
    t_map(sys, 0x30000, t_dev_region(ctx, "d2", 0x100, &o2, &d2));
    t_map(sys, 0x40000, t_dev_region(ctx, "d8", 0x100, &o8, &d8));
    t_map(sys, 0x50000, t_dev_region(ctx, "du", 0x100, &ou, &du));
    /* Mapped at an odd address: alignment is of the offset in the region. */
    t_map(sys, 0x60001, t_dev_region(ctx, "odd", 0x100, &o4, &odd));
    mt_as *as = t_as(ctx, sys, "memory");
    uint8_t buf[16];

    CHECK_RES(mt_as_read(as, 0x10001, U_, buf, 4), MT_TX_OK);
    for (int i = 0; i < 4; i++)
        assert_int_equal(buf[i], 1 + i);
    CHECK_LOG(&d4, { R_, 1, 1, 0x01 }, { R_, 2, 2, 0x0302 },
              { R_, 4, 1, 0x04 });
    t_dev_clear_log(&d4);
    static const uint8_t w[4] = { 0xa1, 0xa2, 0xa3, 0xa4 };
    CHECK_RES(mt_as_write(as, 0x10001, U_, w, 4), MT_TX_OK);
    CHECK_LOG(&d4, { W_, 1, 1, 0xa1 }, { W_, 2, 2, 0xa3a2 },
              { W_, 4, 1, 0xa4 });
    assert_memory_equal(d4.regs + 1, w, 4);
    /* 8 bytes aligned on a valid.max 4 device: 4 + 4. */
    t_dev_clear_log(&d4);
    CHECK_RES(mt_as_read(as, 0x10008, U_, buf, 8), MT_TX_OK);
    CHECK_LOG(&d4, { R_, 8, 4, 0x0b0a0908 }, { R_, 12, 4, 0x0f0e0d0c });
    /* 7 bytes at 0x13: 1, 4, 2. */
    t_dev_clear_log(&d4);
    CHECK_RES(mt_as_read(as, 0x10013, U_, buf, 7), MT_TX_OK);
    CHECK_LOG(&d4, { R_, 0x13, 1, 0x13 }, { R_, 0x14, 4, 0x17161514 },
              { R_, 0x18, 2, 0x1918 });

    /* valid.max 0 is treated as 4 for cutting (even with impl.max 8). */
    CHECK_RES(mt_as_read(as, 0x20000, U_, buf, 8), MT_TX_OK);
    CHECK_LOG(&d0, { R_, 0, 4, 0x03020100 }, { R_, 4, 4, 0x07060504 });

    /* valid.max 2: four 2-byte accesses. */
    CHECK_RES(mt_as_read(as, 0x30000, U_, buf, 8), MT_TX_OK);
    CHECK_LOG(&d2, { R_, 0, 2, 0x0100 }, { R_, 2, 2, 0x0302 },
              { R_, 4, 2, 0x0504 }, { R_, 6, 2, 0x0706 });

    /* valid.max 8: 16 bytes at 1 -> 1, 2, 4, 8, 1. */
    CHECK_RES(mt_as_read(as, 0x40001, U_, buf, 16), MT_TX_OK);
    for (int i = 0; i < 16; i++)
        assert_int_equal(buf[i], 1 + i);
    CHECK_LOG(&d8, { R_, 1, 1, 0x01 }, { R_, 2, 2, 0x0302 },
              { R_, 4, 4, 0x07060504 }, { R_, 8, 8, 0x0f0e0d0c0b0a0908ull },
              { R_, 16, 1, 0x10 });
    /* 3 bytes at 0: 2 + 1 (sizes are powers of two). */
    t_dev_clear_log(&d8);
    CHECK_RES(mt_as_read(as, 0x40000, U_, buf, 3), MT_TX_OK);
    CHECK_LOG(&d8, { R_, 0, 2, 0x0100 }, { R_, 2, 1, 0x02 });

    /* impl.unaligned: no cut by alignment. */
    CHECK_RES(mt_as_read(as, 0x50001, U_, buf, 4), MT_TX_OK);
    CHECK_LOG(&du, { R_, 1, 4, 0x04030201 });

    /* Region at an odd guest address, offset 0: one 4-byte access. */
    CHECK_RES(mt_as_read(as, 0x60001, U_, buf, 4), MT_TX_OK);
    CHECK_LOG(&odd, { R_, 0, 4, 0x03020100 });

    mt_ctx_free(ctx);
}

/* ------------------------------------------------------------------------ */
/* Item 34                                                                   */
/* ------------------------------------------------------------------------ */

/*
 * Item 34: the results of the pieces of one access are ORed; an access
 * with attrs.memory set is refused with MT_TX_ACCESS_ERROR where it is
 * not RAM (ROM and RAM devices count as RAM; ROM devices do not).
 */
static void test_item34_results_ored_and_memory_attr(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_sys(ctx);
    t_dev d, rd;
    t_dev_init(&d, MT_ENDIAN_LITTLE);
    t_dev_init(&rd, MT_ENDIAN_LITTLE);
    for (unsigned j = 0; j < 0x10; j++)
        d.regs[j] = (uint8_t)(0x40 + j);
    d.fail = true;
    d.fail_off = 4;
    mt_ops o = t_dev_ops(MT_ENDIAN_LITTLE, 1, 4, false, 1, 4, false);
    mt_region *dev = t_dev_region(ctx, "dev", 0x10, &o, &d);
    mt_region *ram = t_ram(ctx, "ram", 0x1000);
    mt_region *rom = t_rom(ctx, "rom", 0x1000);
    mt_region *flash = t_rom_dev_region(ctx, "flash", 0x1000, &o, &rd);
    t_map(sys, 0x1000, ram);
    t_map(sys, 0x2000, dev); /* a hole follows at 0x2010 */
    t_map(sys, 0x3000, rom);
    t_map(sys, 0x4000, flash);
    mt_as *as = t_as(ctx, sys, "memory");
    uint8_t buf[32];

    /* Two pieces, the second fails: ERROR overall, both were called. */
    memset(buf, 0, sizeof(buf));
    CHECK_RES(mt_as_read(as, 0x2000, U_, buf, 8), MT_TX_ERROR);
    CHECK_LOG(&d, { R_, 0, 4, 0x43424140 }, { R_, 4, 4, 0x47464544 });
    for (int i = 0; i < 8; i++)
        assert_int_equal(buf[i], 0x40 + i);
    /* Device error + hole: both bits. */
    t_dev_clear_log(&d);
    CHECK_RES(mt_as_read(as, 0x2000, U_, buf, 0x20),
              MT_TX_ERROR | MT_TX_DECODE_ERROR);
    assert_int_equal(d.n, 4);
    for (int i = 0x10; i < 0x20; i++)
        assert_int_equal(buf[i], 0);
    /* Device pieces (ok) + hole: DECODE_ERROR only. */
    CHECK_RES(mt_as_write(as, 0x2008, U_, buf, 0x10), MT_TX_DECODE_ERROR);

    /* attrs.memory */
    mt_attrs mem = { .memory = 1 };
    t_dev_clear_log(&d);
    memset(buf, 0x11, sizeof(buf));
    CHECK_RES(mt_as_read(as, 0x2000, mem, buf, 4), MT_TX_ACCESS_ERROR);
    CHECK_RES(mt_as_write(as, 0x2000, mem, buf, 4), MT_TX_ACCESS_ERROR);
    CHECK_NO_CALLS(&d);
    CHECK_RES(mt_as_write(as, 0x1000, mem, buf, 4), MT_TX_OK);
    CHECK_RES(mt_as_read(as, 0x1000, mem, buf, 4), MT_TX_OK);
    CHECK_RES(mt_as_read(as, 0x3000, mem, buf, 4), MT_TX_OK);    /* ROM is RAM */
    CHECK_RES(mt_as_read(as, 0x4000, mem, buf, 4), MT_TX_ACCESS_ERROR);
    CHECK_RES(mt_as_write(as, 0x4000, mem, buf, 4), MT_TX_ACCESS_ERROR);
    CHECK_NO_CALLS(&rd);
    /* A RAM piece then a device piece: the RAM part is done. */
    static const uint8_t pat[8] = { 9, 8, 7, 6, 5, 4, 3, 2 };
    CHECK_RES(mt_as_write(as, 0x1ffc, mem, pat, 8), MT_TX_ACCESS_ERROR);
    assert_memory_equal(t_ptr(ram) + 0xffc, pat, 4);
    CHECK_NO_CALLS(&d);
    uint64_t v;
    CHECK_RES(mt_as_load(as, 0x2000, 4, MT_ENDIAN_LITTLE, mem, &v),
              MT_TX_ACCESS_ERROR);
    CHECK_RES(mt_as_store(as, 0x2000, 4, MT_ENDIAN_LITTLE, mem, 0),
              MT_TX_ACCESS_ERROR);
    CHECK_NO_CALLS(&d);

    mt_ctx_free(ctx);
}

/*
 * Item 34, holes: with attrs.memory a hole is refused with
 * MT_TX_ACCESS_ERROR too, since in QEMU a hole resolves to
 * io_mem_unassigned, which is not RAM, and flatview_access_allowed() runs
 * before the access is dispatched.
 */
static void test_item34_memory_attr_hole_is_access_error(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_sys(ctx);
    t_map(sys, 0x1000, t_ram(ctx, "ram", 0x1000));
    mt_as *as = t_as(ctx, sys, "memory");
    mt_attrs mem = { .memory = 1 };
    uint8_t buf[4] = { 0 };

    mt_result hole_read = mt_as_read(as, 0x8000, mem, buf, 4);
    mt_result hole_write = mt_as_write(as, 0x8000, mem, buf, 4);
    mt_ctx_free(ctx); /* before asserting: no leak report on failure */
    CHECK_RES(hole_read, MT_TX_ACCESS_ERROR);
    CHECK_RES(hole_write, MT_TX_ACCESS_ERROR);
}

/* ------------------------------------------------------------------------ */
/* Item 35                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct reent {
    mt_as *as;
    uint64_t target;    /* guest address the hook accesses */
    bool use_load;      /* mt_as_load instead of mt_as_write */
    unsigned max_depth; /* hook only acts at this callback depth or less */
    mt_result inner;    /* result of the last inner access */
    unsigned inner_calls;
} reent;

static void reent_hook(t_dev *d, bool is_write, uint64_t off, unsigned depth)
{
    reent *r = d->hook_arg;
    (void)is_write, (void)off;
    if (depth > r->max_depth)
        return;
    r->inner_calls++;
    if (r->use_load) {
        uint64_t v;
        r->inner = mt_as_load(r->as, r->target, 4, MT_ENDIAN_LITTLE, U_, &v);
    } else {
        uint32_t v = 0x600d;
        r->inner = mt_as_write(r->as, r->target, U_, &v, 4);
    }
}

/*
 * Item 35: a device whose callback accesses its own registers (the DMA
 * re-entrancy bug class) gets MT_TX_ACCESS_ERROR for the inner access and
 * is not re-entered. Regions sharing an mt_guard are one device; the
 * guard can be turned off per region; RAM is never guarded, nor are ROM
 * devices or read-only I/O regions (QEMU 8.1+ rules).
 */
static void test_item35_reentrancy_guard(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_sys(ctx);
    t_dev a, b, c;
    t_dev_init(&a, MT_ENDIAN_LITTLE);
    t_dev_init(&b, MT_ENDIAN_LITTLE);
    t_dev_init(&c, MT_ENDIAN_LITTLE);
    mt_ops o = t_dev_ops(MT_ENDIAN_LITTLE, 1, 4, false, 1, 4, false);
    mt_region *ra = t_dev_region(ctx, "a", 0x100, &o, &a);
    mt_region *rb = t_dev_region(ctx, "b", 0x100, &o, &b);
    mt_region *rc = t_dev_region(ctx, "c", 0x100, &o, &c);
    mt_region *ram = t_ram(ctx, "ram", 0x1000);
    t_map(sys, 0x1000, ra);
    t_map(sys, 0x2000, rb);
    t_map(sys, 0x3000, rc);
    t_map(sys, 0x10000, ram);
    mt_as *as = t_as(ctx, sys, "memory");
    reent r = { .as = as, .max_depth = 1 };
    a.hook = reent_hook;
    a.hook_arg = &r;

    /* a's write callback writes into a itself. */
    r.target = 0x1010;
    uint32_t v = 1;
    CHECK_RES(mt_as_write(as, 0x1000, U_, &v, 4), MT_TX_OK);
    assert_int_equal(r.inner_calls, 1);
    CHECK_RES(r.inner, MT_TX_ACCESS_ERROR);
    assert_int_equal(a.max_depth, 1);
    CHECK_LOG(&a, { W_, 0, 4, 1 }); /* the inner write never arrived */
    assert_int_equal(a.regs[0x10], 0);
    /* Same for a read callback that loads from its own registers. */
    t_dev_clear_log(&a);
    r.use_load = true;
    uint32_t rv;
    CHECK_RES(mt_as_read(as, 0x1004, U_, &rv, 4), MT_TX_OK);
    CHECK_RES(r.inner, MT_TX_ACCESS_ERROR);
    assert_int_equal(a.n, 1);
    r.use_load = false;
    /* The guard is released afterwards: a plain access works again. */
    a.hook = NULL;
    CHECK_RES(mt_as_write(as, 0x1010, U_, &v, 4), MT_TX_OK);
    a.hook = reent_hook;

    /* a -> b (another device) is fine. */
    r.target = 0x2000;
    r.inner_calls = 0;
    CHECK_RES(mt_as_write(as, 0x1000, U_, &v, 4), MT_TX_OK);
    CHECK_RES(r.inner, MT_TX_OK);
    assert_int_equal(b.n, 1);
    /* a -> b -> a: a is still engaged, so b's access to a is refused. */
    reent rb_hook = { .as = as, .target = 0x1020, .max_depth = 1 };
    b.hook = reent_hook;
    b.hook_arg = &rb_hook;
    t_dev_clear_log(&a);
    t_dev_clear_log(&b);
    CHECK_RES(mt_as_write(as, 0x1000, U_, &v, 4), MT_TX_OK);
    CHECK_RES(rb_hook.inner, MT_TX_ACCESS_ERROR);
    assert_int_equal(a.n, 1);
    assert_int_equal(b.n, 1);
    b.hook = NULL;

    /* a and b share a guard: a's access to b is now re-entrant. */
    mt_guard g;
    memset(&g, 0, sizeof(g));
    MT_OK(mt_region_set_guard(ra, &g));
    MT_OK(mt_region_set_guard(rb, &g));
    t_dev_clear_log(&b);
    CHECK_RES(mt_as_write(as, 0x1000, U_, &v, 4), MT_TX_OK);
    CHECK_RES(r.inner, MT_TX_ACCESS_ERROR);
    CHECK_NO_CALLS(&b);
    /* a -> c (own guard) still fine. */
    r.target = 0x3000;
    CHECK_RES(mt_as_write(as, 0x1000, U_, &v, 4), MT_TX_OK);
    CHECK_RES(r.inner, MT_TX_OK);
    assert_int_equal(c.n, 1);
    /* Back to separate guards. */
    MT_OK(mt_region_set_guard(rb, NULL));
    r.target = 0x2000;
    CHECK_RES(mt_as_write(as, 0x1000, U_, &v, 4), MT_TX_OK);
    CHECK_RES(r.inner, MT_TX_OK);
    assert_int_equal(b.n, 1);
    MT_OK(mt_region_set_guard(ra, NULL));

    /* RAM is never guarded: a callback DMAs into RAM. */
    r.target = 0x10000;
    CHECK_RES(mt_as_write(as, 0x1000, U_, &v, 4), MT_TX_OK);
    CHECK_RES(r.inner, MT_TX_OK);
    assert_int_equal(t_ptr(ram)[0], 0x0d);

    /* Opt-out: the inner access reaches the callback (depth 2). */
    MT_OK(mt_region_set_reentrancy_guard(ra, false));
    r.target = 0x1010;
    r.inner_calls = 0;
    a.max_depth = 0;
    t_dev_clear_log(&a);
    CHECK_RES(mt_as_write(as, 0x1000, U_, &v, 4), MT_TX_OK);
    CHECK_RES(r.inner, MT_TX_OK);
    assert_int_equal(a.max_depth, 2);
    CHECK_LOG(&a, { W_, 0, 4, 1 }, { W_, 0x10, 4, 0x600d });
    /* And back on. */
    MT_OK(mt_region_set_reentrancy_guard(ra, true));
    a.max_depth = 0;
    CHECK_RES(mt_as_write(as, 0x1000, U_, &v, 4), MT_TX_OK);
    CHECK_RES(r.inner, MT_TX_ACCESS_ERROR);
    assert_int_equal(a.max_depth, 1);

    /* A read-only I/O region is not guarded (QEMU skips mr->readonly). */
    MT_OK(mt_region_set_readonly(ra, true));
    a.max_depth = 0;
    CHECK_RES(mt_as_write(as, 0x1000, U_, &v, 4), MT_TX_OK);
    CHECK_RES(r.inner, MT_TX_OK);
    assert_int_equal(a.max_depth, 2);
    MT_OK(mt_region_set_readonly(ra, false));

    mt_ctx_free(ctx);
}

/*
 * Item 35, ROM devices: QEMU's guard skips rom_device regions, so a ROM
 * device in MMIO mode may access its own registers from a callback.
 */
static void test_item35_rom_device_not_guarded(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_sys(ctx);
    t_dev d;
    t_dev_init(&d, MT_ENDIAN_LITTLE);
    mt_ops o = t_dev_ops(MT_ENDIAN_LITTLE, 1, 4, false, 1, 4, false);
    mt_region *flash = t_rom_dev_region(ctx, "flash", 0x1000, &o, &d);
    t_map(sys, 0x100000, flash);
    MT_OK(mt_region_set_romd(flash, false));
    mt_as *as = t_as(ctx, sys, "memory");
    reent r = { .as = as, .target = 0x100010, .max_depth = 1 };
    d.hook = reent_hook;
    d.hook_arg = &r;

    uint32_t v = 1;
    CHECK_RES(mt_as_write(as, 0x100000, U_, &v, 4), MT_TX_OK);
    CHECK_RES(r.inner, MT_TX_OK);
    assert_int_equal(d.max_depth, 2);
    mt_ctx_free(ctx);
}

/* ------------------------------------------------------------------------ */
/* Item 36                                                                   */
/* ------------------------------------------------------------------------ */

/*
 * Item 36: mt_as_load/mt_as_store never split. An access that straddles
 * two ranges goes whole to the region at its first byte: a device sees one
 * callback even past its end; RAM (which has no callbacks) refuses it with
 * MT_TX_DECODE_ERROR, as QEMU's ld*_phys do.
 */
static void test_item36_load_store_never_split(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_sys(ctx);
    t_dev d, u, n;
    t_dev_init(&d, MT_ENDIAN_LITTLE);
    t_dev_init(&u, MT_ENDIAN_LITTLE);
    t_dev_init(&n, MT_ENDIAN_LITTLE);
    memcpy(d.regs, "\x11\x22\x33\x44", 4);
    memcpy(u.regs + 0xe, "\xaa\xbb\xcc\xdd", 4);
    mt_ops o = t_dev_ops(MT_ENDIAN_LITTLE, 1, 4, false, 1, 4, false);
    mt_ops ou = t_dev_ops(MT_ENDIAN_LITTLE, 1, 4, true, 1, 4, false);
    mt_region *dev = t_dev_region(ctx, "dev", 2, &o, &d);
    mt_region *udev = t_dev_region(ctx, "udev", 0x10, &ou, &u);
    mt_region *next = t_dev_region(ctx, "next", 0x10, &o, &n);
    mt_region *ram_a = t_ram(ctx, "ram-a", 0x1000);
    mt_region *ram_b = t_ram(ctx, "ram-b", 0x1000);
    mt_region *ram_c = t_ram(ctx, "ram-c", 0x1000);
    mt_region *tail = t_ram(ctx, "tail", 0x10);
    t_map(sys, 0x1000, dev);       /* [0x1000, 0x1001] */
    t_map(sys, 0x1002, tail);      /* RAM right after it */
    t_map(sys, 0x2000, udev);      /* [0x2000, 0x200f] */
    t_map(sys, 0x2010, next);      /* another device right after */
    t_map(sys, 0x10000, ram_a);    /* ram-a, ram-b adjacent */
    t_map(sys, 0x11000, ram_b);
    t_map(sys, 0x20000, ram_c);    /* hole after ram-c */
    mt_as *as = t_as(ctx, sys, "memory");
    uint64_t v = 0;

    /* Device then RAM: one 4-byte callback at offset 0. */
    CHECK_RES(mt_as_load(as, 0x1000, 4, MT_ENDIAN_LITTLE, U_, &v), MT_TX_OK);
    assert_int_equal(v, 0x44332211);
    CHECK_RES(mt_as_store(as, 0x1000, 4, MT_ENDIAN_LITTLE, U_, 0x01020304),
              MT_TX_OK);
    CHECK_LOG(&d, { R_, 0, 4, 0x44332211 }, { W_, 0, 4, 0x01020304 });
    for (int i = 0; i < 0x10; i++)
        assert_int_equal(t_ptr(tail)[i], 0);

    /* Device then device, unaligned: one callback, to the first. */
    CHECK_RES(mt_as_load(as, 0x200e, 4, MT_ENDIAN_LITTLE, U_, &v), MT_TX_OK);
    assert_int_equal(v, 0xddccbbaa);
    CHECK_RES(mt_as_store(as, 0x200e, 4, MT_ENDIAN_LITTLE, U_, 0x01020304),
              MT_TX_OK);
    CHECK_LOG(&u, { R_, 0xe, 4, 0xddccbbaa }, { W_, 0xe, 4, 0x01020304 });
    CHECK_NO_CALLS(&n);

    /* For contrast, a buffer access there is split between the two. */
    uint8_t buf[4];
    t_dev_clear_log(&u);
    CHECK_RES(mt_as_read(as, 0x200e, U_, buf, 4), MT_TX_OK);
    CHECK_LOG(&u, { R_, 0xe, 2, 0x0304 });
    CHECK_LOG(&n, { R_, 0, 2, 0 });

    /* RAM then other RAM, RAM then hole: refused, nothing written. */
    memset(t_ptr(ram_a) + 0xff8, 0x5a, 8);
    v = 7;
    CHECK_RES(mt_as_load(as, 0x10ffe, 4, MT_ENDIAN_LITTLE, U_, &v),
              MT_TX_DECODE_ERROR);
    assert_int_equal(v, 0);
    CHECK_RES(mt_as_store(as, 0x10ffc, 8, MT_ENDIAN_LITTLE, U_, 0),
              MT_TX_DECODE_ERROR);
    for (int i = 0; i < 8; i++)
        assert_int_equal(t_ptr(ram_a)[0xff8 + i], 0x5a);
    assert_int_equal(t_ptr(ram_b)[0], 0);
    CHECK_RES(mt_as_load(as, 0x20fff, 2, MT_ENDIAN_BIG, U_, &v),
              MT_TX_DECODE_ERROR);
    CHECK_RES(mt_as_store(as, 0x20ffc, 8, MT_ENDIAN_BIG, U_, 1),
              MT_TX_DECODE_ERROR);
    assert_int_equal(t_ptr(ram_c)[0xfff], 0);
    /* Fully inside: direct. */
    CHECK_RES(mt_as_load(as, 0x10ff8, 8, MT_ENDIAN_LITTLE, U_, &v), MT_TX_OK);
    assert_int_equal(v, 0x5a5a5a5a5a5a5a5aull);

    mt_ctx_free(ctx);
}

/* ------------------------------------------------------------------------ */
/* Item 37                                                                   */
/* ------------------------------------------------------------------------ */

/*
 * Item 37: lookups inside one page holding many tiny ranges (1 to 3 bytes,
 * some holes) resolve to the exact range at every byte.
 */
static void test_item37_subpage_lookup_exact(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_sys(ctx);
    enum { PAGE = 0x1000, BASE = 0x40000 };
    static uint8_t arena[PAGE];
    static mt_region *owner[PAGE];   /* expected region per byte, NULL: hole */
    static uint64_t first[PAGE];     /* its first byte in the page */
    static uint64_t last[PAGE];      /* its (or the hole's) last byte */
    memset(owner, 0, sizeof(owner));
    for (unsigned i = 0; i < PAGE; i++)
        arena[i] = (uint8_t)(i * 7 + 3);

    /* Pages on both sides: RAM before, a device after. */
    t_map(sys, BASE - PAGE, t_ram(ctx, "before", PAGE));
    t_map(sys, BASE + PAGE, t_io(ctx, "after", PAGE));

    mt_begin(ctx);
    unsigned pos = 0, k = 0, nr = 0;
    while (pos < PAGE) {
        unsigned size = 1 + k % 3;
        if (pos + size > PAGE)
            size = PAGE - pos;
        if (k % 7 == 6) { /* leave a hole of `size` bytes */
            pos += size;
            k++;
            continue;
        }
        mt_region *r = NULL;
        MT_OK(mt_region_new_ram_ptr(ctx, NULL, size, arena + pos, &r));
        t_map(sys, BASE + pos, r);
        for (unsigned j = 0; j < size; j++) {
            owner[pos + j] = r;
            first[pos + j] = pos;
            last[pos + j] = pos + size - 1;
        }
        pos += size;
        k++;
        nr++;
    }
    MT_OK(mt_commit(ctx));
    assert_true(nr > 1000);
    /* Holes: last byte of each hole. */
    for (int i = PAGE - 1; i >= 0; i--)
        if (!owner[i])
            last[i] = (i + 1 < PAGE && !owner[i + 1]) ? last[i + 1]
                                                       : (uint64_t)i;

    mt_as *as = t_as(ctx, sys, "memory");
    for (unsigned i = 0; i < PAGE; i++) {
        mt_region *r = (mt_region *)1;
        uint64_t off = 99, len = 0x100;
        MT_OK(mt_as_translate(as, BASE + i, U_, &r, &off, &len));
        if (r != owner[i])
            fail_msg("byte %#x: got region %p, expected %p", i, (void *)r,
                     (void *)owner[i]);
        uint64_t want = last[i] - i + 1;
        if (want > 0x100)
            want = 0x100;
        if (owner[i])
            assert_int_equal(off, i - first[i]);
        if (len != want)
            fail_msg("byte %#x: len %llu, expected %llu", i,
                     (unsigned long long)len, (unsigned long long)want);
    }

    /* Reading the whole page: arena bytes where mapped, 0 in the holes. */
    static uint8_t page[PAGE];
    CHECK_RES(mt_as_read(as, BASE, U_, page, PAGE), MT_TX_DECODE_ERROR);
    for (unsigned i = 0; i < PAGE; i++)
        assert_int_equal(page[i], owner[i] ? arena[i] : 0);

    mt_ctx_free(ctx);
}

/* ------------------------------------------------------------------------ */
/* Item 39                                                                   */
/* ------------------------------------------------------------------------ */

/*
 * Item 39: mapping MMIO gives a bounce buffer of at most the budget
 * (default 4096, one target page as in QEMU 7.2). With the default budget
 * spent, a second bounce map fails (NULL, *len 0) until the first is
 * unmapped; a larger budget (QEMU 9.1's per-AS bounce buffering) allows
 * both. Read maps are pre-filled; write maps are written back on unmap,
 * access_len bytes.
 */
static void test_item39_map_mmio_bounce_buffer(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_sys(ctx);
    t_dev d;
    t_dev_init(&d, MT_ENDIAN_LITTLE);
    for (unsigned i = 0; i < T_DEV_REGS; i++)
        d.regs[i] = (uint8_t)(i ^ (i >> 8));
    mt_ops o = t_dev_ops(MT_ENDIAN_LITTLE, 1, 4, false, 1, 4, false);
    mt_region *dev = t_dev_region(ctx, "dev", T_DEV_REGS, &o, &d);
    mt_region *rom = t_rom(ctx, "rom", 0x1000);
    t_map(sys, 0x100000, dev);
    t_map(sys, 0x200000, rom);
    mt_as *as = t_as(ctx, sys, "memory");

    /* Read map: at most 4096 bytes, pre-filled from the device. */
    uint64_t len = 0x2000;
    uint8_t *p = mt_as_map(as, 0x100000, &len, false, U_);
    assert_non_null(p);
    assert_true(len > 0 && len <= 4096);
    for (uint64_t i = 0; i < len; i++)
        if (p[i] != d.regs[i])
            fail_msg("bounce byte %llu: %#x, expected %#x",
                     (unsigned long long)i, p[i], d.regs[i]);
    assert_true(d.n >= len / 4);

    /* A second bounce map while the first holds the whole budget fails. */
    assert_int_equal(len, 4096);
    uint64_t len2 = 16;
    assert_null(mt_as_map(as, 0x100100, &len2, false, U_));
    assert_int_equal(len2, 0);
    len2 = 16;
    assert_null(mt_as_map(as, 0x100100, &len2, true, U_));
    assert_int_equal(len2, 0);
    MT_OK(mt_as_unmap(as, p, len, false, len));
    /* Freed: mapping works again. */
    len2 = 16;
    p = mt_as_map(as, 0x100100, &len2, false, U_);
    assert_non_null(p);
    assert_int_equal(len2, 16);
    assert_memory_equal(p, d.regs + 0x100, 16);
    MT_OK(mt_as_unmap(as, p, len2, false, 0));

    /* A larger budget allows two at once. */
    MT_OK(mt_as_set_bounce_budget(as, 8192));
    len = 4096;
    p = mt_as_map(as, 0x100000, &len, false, U_);
    len2 = 4096;
    uint8_t *p2 = mt_as_map(as, 0x101000, &len2, false, U_);
    assert_non_null(p);
    assert_non_null(p2);
    assert_int_equal(len, 4096);
    assert_int_equal(len2, 4096);
    assert_memory_equal(p2, d.regs + 0x1000, 4096);
    uint64_t len3 = 1;
    assert_null(mt_as_map(as, 0x100000, &len3, false, U_));
    assert_int_equal(len3, 0);
    MT_OK(mt_as_unmap(as, p, len, false, 0));
    MT_OK(mt_as_unmap(as, p2, len2, false, 0));
    MT_OK(mt_as_set_bounce_budget(as, 4096));

    /* Write map: written back on unmap, access_len bytes only. */
    t_dev_clear_log(&d);
    len = 16;
    p = mt_as_map(as, 0x100020, &len, true, U_);
    assert_non_null(p);
    assert_int_equal(len, 16);
    CHECK_NO_CALLS(&d); /* a write map is not pre-filled */
    uint8_t before[16];
    memcpy(before, d.regs + 0x20, 16);
    for (int i = 0; i < 16; i++)
        p[i] = (uint8_t)(0xc0 + i);
    CHECK_NO_CALLS(&d);
    MT_OK(mt_as_unmap(as, p, len, true, 6));
    CHECK_LOG(&d, { W_, 0x20, 4, 0xc3c2c1c0 }, { W_, 0x24, 2, 0xc5c4 });
    for (int i = 0; i < 6; i++)
        assert_int_equal(d.regs[0x20 + i], 0xc0 + i);
    assert_memory_equal(d.regs + 0x26, before + 6, 10);

    /* A hole is bounced too, and reads as zeros. */
    len = 32;
    p = mt_as_map(as, 0x900000, &len, false, U_);
    assert_non_null(p);
    assert_int_equal(len, 32);
    for (int i = 0; i < 32; i++)
        assert_int_equal(p[i], 0);
    MT_OK(mt_as_unmap(as, p, len, false, 0));

    /* ROM mapped for writing is not direct: bounce, and the write-back is
     * refused like any ROM write. */
    len = 8;
    p = mt_as_map(as, 0x200000, &len, true, U_);
    assert_non_null(p);
    assert_true(p < t_ptr(rom) || p >= t_ptr(rom) + 0x1000);
    memset(p, 0xee, 8);
    MT_OK(mt_as_unmap(as, p, len, true, 8));
    assert_int_equal(t_ptr(rom)[0], 0);
    /* ...while ROM mapped for reading is direct. */
    len = 8;
    p = mt_as_map(as, 0x200000, &len, false, U_);
    assert_ptr_equal(p, t_ptr(rom));
    MT_OK(mt_as_unmap(as, p, len, false, 8));

    mt_ctx_free(ctx);
}

/* ------------------------------------------------------------------------ */
/* Item 40                                                                   */
/* ------------------------------------------------------------------------ */

/*
 * Item 40: a direct map of RAM extends while the same region continues at
 * contiguous offsets, and stops at any other boundary.
 */
static void test_item40_map_ram_extends_only_within_region(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_sys(ctx);
    mt_region *ram = t_ram(ctx, "ram", 0x4000);
    mt_region *lo = t_alias(ctx, "lo", ram, 0, 0x1000);
    mt_region *hi = t_alias(ctx, "hi", ram, 0x1000, 0x1000);
    t_map(sys, 0x10000, lo);
    t_map(sys, 0x11000, hi);
    /* Same RAM, contiguous offsets, but a read-only alias: two ranges. */
    mt_region *rw = t_alias(ctx, "rw", ram, 0x2000, 0x1000);
    mt_region *ro = t_alias(ctx, "ro", ram, 0x3000, 0x1000);
    MT_OK(mt_region_set_readonly(ro, true));
    t_map(sys, 0x20000, rw);
    t_map(sys, 0x21000, ro);
    /* Same RAM, non-contiguous offsets. */
    mt_region *x = t_alias(ctx, "x", ram, 0x1000, 0x1000);
    mt_region *y = t_alias(ctx, "y", ram, 0x3000, 0x1000);
    t_map(sys, 0x30000, x);
    t_map(sys, 0x31000, y);
    /* Two different RAM regions, adjacent. */
    mt_region *r1 = t_ram(ctx, "r1", 0x1000);
    mt_region *r2 = t_ram(ctx, "r2", 0x1000);
    t_map(sys, 0x40000, r1);
    t_map(sys, 0x41000, r2);
    /* RAM followed by a hole. */
    mt_region *r3 = t_ram(ctx, "r3", 0x1000);
    t_map(sys, 0x50000, r3);
    mt_as *as = t_as(ctx, sys, "memory");
    uint8_t *h = t_ptr(ram);

    CHECK_AS(as, { 0x10000, 0x11fff, ram, 0, 0 },
             { 0x20000, 0x20fff, ram, 0x2000, 0 },
             { 0x21000, 0x21fff, ram, 0x3000, XF_RO },
             { 0x30000, 0x30fff, ram, 0x1000, 0 },
             { 0x31000, 0x31fff, ram, 0x3000, 0 },
             { 0x40000, 0x40fff, r1, 0, 0 },
             { 0x41000, 0x41fff, r2, 0, 0 },
             { 0x50000, 0x50fff, r3, 0, 0 });

    /* Merged aliases: one range, the map crosses the alias boundary. */
    uint64_t len = 0x1000;
    void *p = mt_as_map(as, 0x10800, &len, true, U_);
    assert_ptr_equal(p, h + 0x800);
    assert_int_equal(len, 0x1000);
    MT_OK(mt_as_unmap(as, p, len, true, len));

    /* Two ranges of one region with contiguous offsets: extends. */
    for (int w = 0; w < 2; w++) {
        len = 0x1000;
        p = mt_as_map(as, 0x20800, &len, w, U_);
        assert_ptr_equal(p, h + 0x2800);
        assert_int_equal(len, 0x1000);
        MT_OK(mt_as_unmap(as, p, len, w, len));
        len = 0x10000; /* up to the end of the second range */
        p = mt_as_map(as, 0x20800, &len, w, U_);
        assert_ptr_equal(p, h + 0x2800);
        assert_int_equal(len, 0x1800);
        MT_OK(mt_as_unmap(as, p, len, w, 0));
    }

    /* Non-contiguous offsets: stops at the boundary. */
    len = 0x1000;
    p = mt_as_map(as, 0x30800, &len, false, U_);
    assert_ptr_equal(p, h + 0x1800);
    assert_int_equal(len, 0x800);
    MT_OK(mt_as_unmap(as, p, len, false, len));

    /* Different regions: stops at the boundary. */
    len = 0x1000;
    p = mt_as_map(as, 0x40800, &len, true, U_);
    assert_ptr_equal(p, t_ptr(r1) + 0x800);
    assert_int_equal(len, 0x800);
    MT_OK(mt_as_unmap(as, p, len, true, len));

    /* RAM then hole: stops at the end of the RAM. */
    len = 0x2000;
    p = mt_as_map(as, 0x50ff0, &len, false, U_);
    assert_ptr_equal(p, t_ptr(r3) + 0xff0);
    assert_int_equal(len, 0x10);
    MT_OK(mt_as_unmap(as, p, len, false, len));

    /* Direct maps do not consume the bounce budget. */
    len = 0x1000;
    p = mt_as_map(as, 0x40000, &len, false, U_);
    uint64_t len2 = 0x1000;
    void *p2 = mt_as_map(as, 0x41000, &len2, false, U_);
    assert_ptr_equal(p, t_ptr(r1));
    assert_ptr_equal(p2, t_ptr(r2));
    MT_OK(mt_as_unmap(as, p2, len2, false, 0));
    MT_OK(mt_as_unmap(as, p, len, false, 0));

    mt_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_item26_unassigned_memory_read_zero_decode_error),
        cmocka_unit_test(test_item27_rom_write_decode_error_write_rom_succeeds),
        cmocka_unit_test(test_item28_ram_through_readonly_alias_still_writable),
        cmocka_unit_test(test_item29_romd_modes),
        cmocka_unit_test(test_item30_valid_rules),
        cmocka_unit_test(test_item31_impl_defaults_and_split_order),
        cmocka_unit_test(test_item32_narrow_access_widened_at_original_address),
        cmocka_unit_test(
            test_item33_buffer_access_split_by_valid_max_and_alignment),
        cmocka_unit_test(test_item34_results_ored_and_memory_attr),
        cmocka_unit_test(test_item34_memory_attr_hole_is_access_error),
        cmocka_unit_test(test_item35_reentrancy_guard),
        cmocka_unit_test(test_item35_rom_device_not_guarded),
        cmocka_unit_test(test_item36_load_store_never_split),
        cmocka_unit_test(test_item37_subpage_lookup_exact),
        cmocka_unit_test(test_item39_map_mmio_bounce_buffer),
        cmocka_unit_test(test_item40_map_ram_extends_only_within_region),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
