/* SPDX-License-Identifier: MIT */
/*
 * test_snapshot_reset.c: armed snapshots and fast reset: only dirty pages
 * are copied back (writes through the access path, and through host
 * pointers reported with mt_region_dirty_set), the memory ends up equal to
 * the snapshot, region state comes back too, other dirty clients are told,
 * and the arming rules.
 */
#include "mt_testutil.h"
#include "snapshot_world.h"

#define PG 4096u

static void write8(mt_as *as, uint64_t addr, uint64_t v)
{
    assert_int_equal(mt_as_store(as, addr, 8, MT_ENDIAN_LITTLE,
                                 MT_ATTRS_UNSPECIFIED, v), MT_TX_OK);
}

static void test_reset_dirty_pages(void **state)
{
    world w;
    mt_snapshot *s;
    uint64_t pages = 99;
    w_mem m;
    uint8_t *ram, buf[3 * PG];

    (void)state;
    w_build(&w);
    w_fill_all(&w, 1);
    ram = mt_region_ram_ptr(w.ram);
    m = w_save(&w);
    MT_OK(mt_snapshot_take(w.ctx, MT_SNAPSHOT_TRACK, &s, NULL));
    assert_ptr_equal(mt_snapshot_armed(s), w.ctx);

    /* Nothing written yet: nothing to copy. */
    MT_OK(mt_snapshot_reset(w.ctx, s, &pages, NULL));
    assert_int_equal(pages, 0);

    /* The access path: a store, a write across three pages (one of them
     * a zero page in the snapshot), a write to the ROM device's memory. */
    write8(w.as, 3 * PG + 8, 0x1122334455667788ull);
    memset(buf, 0x5a, sizeof(buf));
    assert_int_equal(mt_as_write(w.as, 10 * PG + 100, MT_ATTRS_UNSPECIFIED,
                                 buf, 2 * PG), MT_TX_OK);
    assert_int_equal(mt_as_write_rom(w.as, 0x200000 + PG,
                                     MT_ATTRS_UNSPECIFIED, buf, 16),
                     MT_TX_OK);
    /* Host pointers, reported. */
    memset(ram + 20 * PG, 0xee, PG);
    MT_OK(mt_region_dirty_set(w.ram, 20 * PG, PG, MT_DIRTY_MIGRATION));
    memset(mt_region_ram_ptr(w.vram), 0x33, 100);
    MT_OK(mt_region_dirty_set(w.vram, 0, 100, MT_DIRTY_MIGRATION));
    /* Host pointers, not reported: left alone by a reset. */
    ram[30 * PG] ^= 0xff;

    MT_OK(mt_snapshot_reset(w.ctx, s, &pages, NULL));
    /* ram 3, 10, 11, 12, 20; flash 1; vram 0. */
    assert_int_equal(pages, 7);
    ram[30 * PG] ^= 0xff;
    w_check_mem(&w, &m);

    /* The bits were consumed. */
    MT_OK(mt_snapshot_reset(w.ctx, s, &pages, NULL));
    assert_int_equal(pages, 0);

    /* Again, many times. */
    for (unsigned round = 0; round < 20; round++) {
        for (unsigned k = 0; k < 5; k++)
            write8(w.as, ((round * 7 + k * 13) % 64) * PG + k * 8, round);
        MT_OK(mt_snapshot_reset(w.ctx, s, &pages, NULL));
        assert_in_range(pages, 1, 5);
        w_check_mem(&w, &m);
    }
    w_mem_free(&m);
    mt_snapshot_free(s);
    /* Freeing it stopped the logging it started. */
    MT_EXPECT(mt_ctx_dirty_log_stop(w.ctx), MT_ESTATE);
    mt_ctx_free(w.ctx);
}

/* Region state changed since the snapshot comes back with a reset. */
static void test_reset_region_state(void **state)
{
    world w;
    mt_snapshot *s;
    char *topo;
    w_mem m;

    (void)state;
    w_build(&w);
    w_fill_all(&w, 2);
    topo = w_topology(&w);
    m = w_save(&w);
    MT_OK(mt_snapshot_take(w.ctx, MT_SNAPSHOT_TRACK, &s, NULL));
    for (int round = 0; round < 3; round++) {
        mt_begin(w.ctx);
        MT_OK(mt_region_set_enabled(w.win, true));
        MT_OK(mt_region_set_alias_offset(w.win, 0x1000 * (round + 1)));
        MT_OK(mt_region_set_address(w.dev, 0x700000));
        MT_OK(mt_region_set_romd(w.flash, false));
        MT_OK(mt_region_set_enabled(w.hole, true));
        MT_OK(mt_commit(w.ctx));
        write8(w.as, 0x300000, 42); /* through the window into ram */
        w_check_topology_differs(&w, topo);
        MT_OK(mt_snapshot_reset(w.ctx, s, NULL, NULL));
        w_check_topology(&w, topo);
        w_check_mem(&w, &m);
    }
    free(topo);
    w_mem_free(&m);
    mt_snapshot_free(s);
    mt_ctx_free(w.ctx);
}

static void test_arming_rules(void **state)
{
    world w;
    mt_snapshot *s, *t;
    mt_snapshot_error err;
    mt_ctx *other;

    (void)state;
    w_build(&w);
    MT_OK(mt_snapshot_take(w.ctx, MT_SNAPSHOT_TRACK, &s, NULL));
    /* One armed snapshot per context. */
    MT_EXPECT(mt_snapshot_take(w.ctx, MT_SNAPSHOT_TRACK, &t, &err), MT_EBUSY);
    assert_null(t);
    assert_non_null(strstr(err.msg, "dirty logging"));
    MT_OK(mt_snapshot_take(w.ctx, 0, &t, NULL));
    MT_EXPECT(mt_snapshot_restore(w.ctx, t, MT_SNAPSHOT_TRACK, NULL),
              MT_EBUSY);
    assert_null(mt_snapshot_armed(t));
    /* Restoring another snapshot marks its pages for the armed one. */
    write8(w.as, 0, 1);
    MT_OK(mt_snapshot_restore(w.ctx, t, 0, NULL));
    {
        uint64_t pages;

        MT_OK(mt_snapshot_reset(w.ctx, s, &pages, NULL));
        assert_int_equal(pages, (W_RAM_SIZE + 2 * W_SMALL + 8192) / PG);
    }
    /* Armed elsewhere. */
    other = t_ctx();
    MT_EXPECT(mt_snapshot_reset(other, s, NULL, NULL), MT_EINVAL);
    MT_EXPECT(mt_snapshot_restore(other, s, 0, &err), MT_EBUSY);
    mt_ctx_free(other);
    /* Disarm, re-arm by a restore. */
    MT_OK(mt_snapshot_disarm(s));
    assert_null(mt_snapshot_armed(s));
    MT_EXPECT(mt_snapshot_disarm(s), MT_ESTATE);
    MT_EXPECT(mt_snapshot_reset(w.ctx, s, NULL, NULL), MT_ESTATE);
    MT_OK(mt_snapshot_restore(w.ctx, s, MT_SNAPSHOT_TRACK, NULL));
    assert_ptr_equal(mt_snapshot_armed(s), w.ctx);
    /* An armed snapshot restored again stays armed and clean. */
    MT_OK(mt_snapshot_restore(w.ctx, s, 0, NULL));
    {
        uint64_t pages;

        MT_OK(mt_snapshot_reset(w.ctx, s, &pages, NULL));
        assert_int_equal(pages, 0);
    }
    mt_snapshot_free(s);
    /* Not while someone else logs, nor inside a transaction. */
    MT_OK(mt_ctx_dirty_log_start(w.ctx));
    MT_EXPECT(mt_snapshot_take(w.ctx, MT_SNAPSHOT_TRACK, &s, NULL), MT_EBUSY);
    MT_OK(mt_ctx_dirty_log_stop(w.ctx));
    mt_begin(w.ctx);
    MT_EXPECT(mt_snapshot_take(w.ctx, MT_SNAPSHOT_TRACK, &s, &err),
              MT_ESTATE);
    MT_EXPECT(mt_snapshot_restore(w.ctx, t, MT_SNAPSHOT_TRACK, NULL),
              MT_ESTATE);
    /* Plain ones are fine there. */
    MT_OK(mt_snapshot_restore(w.ctx, t, 0, NULL));
    MT_OK(mt_commit(w.ctx));
    assert_int_equal(mt_transaction_depth(w.ctx), 0);
    MT_EXPECT(mt_ctx_dirty_log_stop(w.ctx), MT_ESTATE);
    mt_snapshot_free(t);
    mt_ctx_free(w.ctx);
}

/* If another user turns global logging on while a snapshot is armed, a
 * reset can no longer trust the bits and copies everything. */
static void test_shared_logging_falls_back(void **state)
{
    world w;
    mt_snapshot *s;
    uint64_t pages;
    w_mem m;

    (void)state;
    w_build(&w);
    w_fill_all(&w, 3);
    m = w_save(&w);
    MT_OK(mt_snapshot_take(w.ctx, MT_SNAPSHOT_TRACK, &s, NULL));
    MT_OK(mt_ctx_dirty_log_start(w.ctx));
    write8(w.as, 5 * PG, 7);
    w_clear_dirty(w.ram, W_RAM_SIZE); /* the other user takes the bits */
    MT_OK(mt_snapshot_reset(w.ctx, s, &pages, NULL));
    assert_int_equal(pages, (W_RAM_SIZE + 2 * W_SMALL + 8192) / PG);
    w_check_mem(&w, &m);
    MT_OK(mt_ctx_dirty_log_stop(w.ctx));
    write8(w.as, 5 * PG, 7);
    MT_OK(mt_snapshot_reset(w.ctx, s, &pages, NULL));
    /* Everything was marked for the other user: copied once more. */
    assert_int_equal(pages, (W_RAM_SIZE + 2 * W_SMALL + 8192) / PG);
    write8(w.as, 5 * PG, 7);
    MT_OK(mt_snapshot_reset(w.ctx, s, &pages, NULL));
    assert_int_equal(pages, 1);
    w_check_mem(&w, &m);
    w_mem_free(&m);
    mt_snapshot_free(s);
    mt_ctx_free(w.ctx);
}

/* Pages put back are reported to the VGA and CODE clients. */
static void test_other_clients_told(void **state)
{
    world w;
    mt_snapshot *s;
    bool dirty;

    (void)state;
    w_build(&w);
    MT_OK(mt_snapshot_take(w.ctx, MT_SNAPSHOT_TRACK, &s, NULL));
    MT_OK(mt_region_dirty_test_and_clear(w.ram, 0, W_RAM_SIZE,
                                         MT_DIRTY_CLIENT_VGA, &dirty));
    MT_OK(mt_region_dirty_test_and_clear(w.ram, 0, W_RAM_SIZE,
                                         MT_DIRTY_CLIENT_CODE, &dirty));
    write8(w.as, 9 * PG, 1);
    MT_OK(mt_snapshot_reset(w.ctx, s, NULL, NULL));
    MT_OK(mt_region_dirty_get(w.ram, 9 * PG, PG, MT_DIRTY_CLIENT_CODE,
                              &dirty));
    assert_true(dirty);
    MT_OK(mt_region_dirty_get(w.ram, 9 * PG, PG, MT_DIRTY_CLIENT_VGA,
                              &dirty));
    assert_true(dirty);
    MT_OK(mt_region_dirty_get(w.ram, 8 * PG, PG, MT_DIRTY_CLIENT_CODE,
                              &dirty));
    assert_false(dirty);
    MT_OK(mt_region_dirty_get(w.ram, 0, W_RAM_SIZE,
                              MT_DIRTY_CLIENT_MIGRATION, &dirty));
    assert_false(dirty);
    mt_snapshot_free(s);
    mt_ctx_free(w.ctx);
}

/* A reset after regions were created or freed is refused, unchanged. */
static void test_reset_mismatch(void **state)
{
    world w;
    mt_snapshot *s;
    mt_snapshot_error err;
    mt_region *extra;
    uint64_t pages = 5;

    (void)state;
    w_build(&w);
    MT_OK(mt_snapshot_take(w.ctx, MT_SNAPSHOT_TRACK, &s, NULL));
    write8(w.as, 0, 0xdead);
    extra = t_ram(w.ctx, "extra", PG);
    MT_EXPECT(mt_snapshot_reset(w.ctx, s, &pages, &err), MT_EMISMATCH);
    assert_int_equal(pages, 0);
    assert_non_null(strstr(err.msg, "extra"));
    assert_int_equal(*(uint64_t *)mt_region_ram_ptr(w.ram), 0xdead);
    mt_region_unref(extra);
    MT_OK(mt_snapshot_reset(w.ctx, s, &pages, NULL));
    assert_int_equal(pages, 1);
    assert_int_equal(*(uint64_t *)mt_region_ram_ptr(w.ram), 0);
    mt_snapshot_free(s);
    mt_ctx_free(w.ctx);
}

/* DMA writes through a write mapping are reset too. */
static void test_reset_after_dma(void **state)
{
    world w;
    mt_snapshot *s;
    uint64_t len = 2 * PG, pages;
    uint8_t *p;

    (void)state;
    w_build(&w);
    MT_OK(mt_snapshot_take(w.ctx, MT_SNAPSHOT_TRACK, &s, NULL));
    p = mt_as_map(w.as, 40 * PG, &len, true, MT_ATTRS_UNSPECIFIED);
    assert_non_null(p);
    memset(p, 0x77, (size_t)len);
    MT_OK(mt_as_unmap(w.as, p, len, true, len));
    MT_OK(mt_snapshot_reset(w.ctx, s, &pages, NULL));
    assert_int_equal(pages, 2);
    assert_int_equal(((uint8_t *)mt_region_ram_ptr(w.ram))[40 * PG], 0);
    mt_snapshot_free(s);
    mt_ctx_free(w.ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reset_dirty_pages),
        cmocka_unit_test(test_reset_region_state),
        cmocka_unit_test(test_arming_rules),
        cmocka_unit_test(test_shared_logging_falls_back),
        cmocka_unit_test(test_other_clients_told),
        cmocka_unit_test(test_reset_mismatch),
        cmocka_unit_test(test_reset_after_dma),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
