/* SPDX-License-Identifier: MIT */
/*
 * test_snapshot.c: snapshots in memory: take and restore (same context and
 * a fresh one built the same way), region state, layout mismatches refused
 * with nothing changed, the block-name rule, and what is not captured.
 */
#include "mt_testutil.h"
#include "snapshot_world.h"

static void test_take_getters(void **state)
{
    world w;
    mt_snapshot *s;
    mt_snapshot_error err;

    (void)state;
    w_build(&w);
    w_fill_all(&w, 1);
    MT_OK(mt_snapshot_take(w.ctx, 0, &s, &err));
    assert_string_equal(err.msg, "");
    assert_null(mt_snapshot_armed(s));
    assert_int_equal(mt_snapshot_nr_regions(s), 8);
    /* ram, rom, flash, vram in creation order. */
    assert_int_equal(mt_snapshot_nr_blocks(s), 4);
    assert_string_equal(mt_snapshot_block_name(s, 0), "ram");
    assert_string_equal(mt_snapshot_block_name(s, 1), "rom");
    assert_string_equal(mt_snapshot_block_name(s, 2), "flash");
    assert_string_equal(mt_snapshot_block_name(s, 3), "vram");
    assert_null(mt_snapshot_block_name(s, 4));
    assert_int_equal(mt_snapshot_block_size(s, 0), W_RAM_SIZE);
    assert_int_equal(mt_snapshot_block_size(s, 3), 8192);
    assert_int_equal(mt_snapshot_block_size(s, 9), 0);
    assert_memory_equal(mt_snapshot_block_data(s, 0),
                        mt_region_ram_ptr(w.ram), W_RAM_SIZE);
    assert_memory_equal(mt_snapshot_block_data(s, 2),
                        mt_region_ram_ptr(w.flash), W_SMALL);
    assert_null(mt_snapshot_block_data(s, 4));
    assert_int_equal(mt_snapshot_nr_blocks(NULL), 0);
    assert_null(mt_snapshot_block_data(NULL, 0));
    mt_snapshot_free(s);
    mt_snapshot_free(NULL);
    mt_ctx_free(w.ctx);
}

static void test_bad_arguments(void **state)
{
    world w;
    mt_snapshot *s = (mt_snapshot *)&w;
    mt_snapshot_error err;

    (void)state;
    w_build(&w);
    MT_EXPECT(mt_snapshot_take(NULL, 0, &s, &err), MT_EINVAL);
    assert_null(s);
    MT_EXPECT(mt_snapshot_take(w.ctx, 0, NULL, NULL), MT_EINVAL);
    MT_EXPECT(mt_snapshot_take(w.ctx, 0x10, &s, NULL), MT_EINVAL);
    MT_OK(mt_snapshot_take(w.ctx, 0, &s, NULL));
    MT_EXPECT(mt_snapshot_restore(NULL, s, 0, NULL), MT_EINVAL);
    MT_EXPECT(mt_snapshot_restore(w.ctx, NULL, 0, NULL), MT_EINVAL);
    MT_EXPECT(mt_snapshot_restore(w.ctx, s, 0x2, NULL), MT_EINVAL);
    MT_EXPECT(mt_snapshot_reset(w.ctx, NULL, NULL, NULL), MT_EINVAL);
    MT_EXPECT(mt_snapshot_reset(w.ctx, s, NULL, &err), MT_ESTATE);
    assert_non_null(strstr(err.msg, "not armed"));
    MT_EXPECT(mt_snapshot_disarm(s), MT_ESTATE);
    MT_EXPECT(mt_snapshot_disarm(NULL), MT_EINVAL);
    MT_EXPECT(mt_snapshot_save(NULL, 1, NULL), MT_EINVAL);
    MT_EXPECT(mt_snapshot_save(s, -1, NULL), MT_EINVAL);
    mt_snapshot_free(s);
    mt_ctx_free(w.ctx);
}

/* Memory and state changed after the snapshot come back. */
static void test_restore_same_context(void **state)
{
    world w;
    mt_snapshot *s;
    w_mem m;
    char *topo;
    uint8_t buf[64];

    (void)state;
    w_build(&w);
    w_fill_all(&w, 2);
    m = w_save(&w);
    topo = w_topology(&w);
    MT_OK(mt_snapshot_take(w.ctx, 0, &s, NULL));

    memset(buf, 0xab, sizeof(buf));
    assert_int_equal(mt_as_write(w.as, 0x1010, MT_ATTRS_UNSPECIFIED, buf,
                                 sizeof(buf)), MT_TX_OK);
    w_fill(mt_region_ram_ptr(w.ram) + 4096, 4096, 77); /* a zero page */
    w_fill(mt_region_ram_ptr(w.rom), 100, 78);
    w_fill(mt_region_ram_ptr(w.vram), 8192, 79);
    mt_begin(w.ctx);
    MT_OK(mt_region_set_enabled(w.win, true));
    MT_OK(mt_region_set_alias_offset(w.win, 0x1000));
    MT_OK(mt_region_set_address(w.dev, 0x500000));
    MT_OK(mt_region_set_romd(w.flash, false));
    MT_OK(mt_region_set_readonly(w.ram, true));
    MT_OK(mt_region_set_nonvolatile(w.rom, true));
    MT_OK(mt_region_set_enabled(w.hole, true));
    MT_OK(mt_region_set_size(w.dev, 0x2000));
    MT_OK(mt_commit(w.ctx));
    w_check_topology_differs(&w, topo);

    MT_OK(mt_snapshot_restore(w.ctx, s, 0, NULL));
    w_check_mem(&w, &m);
    w_check_topology(&w, topo);
    /* Twice is the same. */
    MT_OK(mt_snapshot_restore(w.ctx, s, 0, NULL));
    w_check_mem(&w, &m);
    w_check_topology(&w, topo);

    free(topo);
    w_mem_free(&m);
    mt_snapshot_free(s);
    mt_ctx_free(w.ctx);
}

/* A snapshot outlives its context and restores into a fresh one. */
static void test_restore_fresh_context(void **state)
{
    world a, b;
    mt_snapshot *s;
    w_mem m;
    char *topo;

    (void)state;
    w_build(&a);
    w_fill_all(&a, 3);
    mt_begin(a.ctx);
    MT_OK(mt_region_set_enabled(a.win, true));
    MT_OK(mt_region_set_alias_offset(a.win, 0x2000));
    MT_OK(mt_region_set_address(a.dev, 0x600000));
    MT_OK(mt_region_set_romd(a.flash, false));
    MT_OK(mt_commit(a.ctx));
    m = w_save(&a);
    topo = w_topology(&a);
    MT_OK(mt_snapshot_take(a.ctx, 0, &s, NULL));
    mt_ctx_free(a.ctx);

    w_build(&b);
    w_fill_all(&b, 99);
    MT_OK(mt_snapshot_restore(b.ctx, s, 0, NULL));
    w_check_mem(&b, &m);
    w_check_topology(&b, topo);

    free(topo);
    w_mem_free(&m);
    mt_snapshot_free(s);
    mt_ctx_free(b.ctx);
}

/* Subregions removed, re-added, moved between containers, re-prioritised
 * and re-ordered among equal priorities are put back exactly. */
static void test_restore_mapping(void **state)
{
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_container(ctx, "sys", MT_SIZE_FULL);
    mt_region *box = t_container(ctx, "box", 0x10000);
    mt_region *a = t_ram(ctx, "a", 0x4000);
    mt_region *b = t_ram(ctx, "b", 0x4000);
    mt_region *c = t_io(ctx, "c", 0x1000);
    mt_as *as;
    mt_snapshot *s;
    char *topo;
    world w = { 0 };

    (void)state;
    t_map(sys, 0x100000, box);
    t_map(box, 0, a);
    t_map(box, 0x2000, b); /* b wins over a where they overlap */
    t_map_prio(sys, 0x100000, c, 2);
    as = t_as(ctx, sys, "memory");
    w.ctx = ctx;
    topo = w_topology(&w);
    MT_OK(mt_snapshot_take(ctx, 0, &s, NULL));

    /* a now wins over b (re-inserted), c moves into box, b is unmapped. */
    mt_begin(ctx);
    MT_OK(mt_region_set_address(a, 0x1000));
    MT_OK(mt_region_set_address(a, 0));
    mt_region_ref(c);
    MT_OK(mt_region_del_subregion(sys, c));
    MT_OK(mt_region_add_subregion_overlap(box, 0x8000, c, -1));
    mt_region_unref(c);
    mt_region_ref(b);
    MT_OK(mt_region_del_subregion(box, b));
    MT_OK(mt_commit(ctx));
    w_check_topology_differs(&w, topo);

    MT_OK(mt_snapshot_restore(ctx, s, 0, NULL));
    w_check_topology(&w, topo);
    mt_region_unref(b);
    CHECK_AS(as, { 0x100000, 0x100fff, c, 0, 0 },
             { 0x101000, 0x101fff, a, 0x1000, 0 },
             { 0x102000, 0x105fff, b, 0, 0 });

    free(topo);
    mt_snapshot_free(s);
    mt_ctx_free(ctx);
}

/* Mismatches are refused with a message, and nothing changes. */
static void check_refused(mt_snapshot *s, world *b, const char *needle)
{
    mt_snapshot_error err;
    char *topo = w_topology(b);
    w_mem m = w_save(b);

    MT_EXPECT(mt_snapshot_restore(b->ctx, s, 0, &err), MT_EMISMATCH);
    if (!strstr(err.msg, needle))
        fail_msg("message '%s' lacks '%s'", err.msg, needle);
    w_check_mem(b, &m);
    w_check_topology(b, topo);
    /* Arming is refused the same way, and leaves logging off. */
    MT_EXPECT(mt_snapshot_restore(b->ctx, s, MT_SNAPSHOT_TRACK, &err),
              MT_EMISMATCH);
    assert_null(mt_snapshot_armed(s));
    MT_EXPECT(mt_ctx_dirty_log_stop(b->ctx), MT_ESTATE);
    w_check_mem(b, &m);
    w_check_topology(b, topo);
    free(topo);
    w_mem_free(&m);
}

static void test_mismatch_refused(void **state)
{
    world a, b;
    mt_snapshot *s;
    mt_region *extra;

    (void)state;
    w_build(&a);
    w_fill_all(&a, 4);
    MT_OK(mt_snapshot_take(a.ctx, 0, &s, NULL));

    /* RAM of another size. */
    w_build_with(&b, t_ctx(), W_RAM_SIZE * 2);
    w_fill_all(&b, 5);
    check_refused(s, &b, "'ram'");
    mt_ctx_free(b.ctx);

    /* One region more. */
    w_build(&b);
    w_fill_all(&b, 6);
    extra = t_io(b.ctx, "extra", 0x10);
    check_refused(s, &b, "'extra'");
    mt_region_unref(extra);
    /* ... and once it is gone, the snapshot fits again. */
    MT_OK(mt_snapshot_restore(b.ctx, s, 0, NULL));
    mt_ctx_free(b.ctx);

    /* One region fewer. */
    w_build(&b);
    mt_region_unref(b.vram);
    b.vram = t_io(b.ctx, "vram2", 8192);
    {
        mt_snapshot_error err;

        MT_EXPECT(mt_snapshot_restore(b.ctx, s, 0, &err), MT_EMISMATCH);
        assert_non_null(strstr(err.msg, "vram2"));
    }
    mt_ctx_free(b.ctx);

    /* Same names, another kind. */
    {
        mt_ctx *ctx = t_ctx();
        world c = { 0 };
        mt_snapshot_error err;

        c.ctx = ctx;
        c.sys = t_container(ctx, "system", MT_SIZE_FULL);
        c.ram = t_ram(ctx, "ram", W_RAM_SIZE);
        c.rom = t_rom(ctx, "rom", W_SMALL);
        c.flash = t_ram(ctx, "flash", W_SMALL); /* not a ROM device */
        c.win = t_alias(ctx, "win", c.ram, 0x8000, 0x4000);
        c.dev = t_io(ctx, "dev", 0x1000);
        c.hole = t_io(ctx, "hole", 0x1000);
        c.vram = t_ram(ctx, "vram", 8192);
        MT_EXPECT(mt_snapshot_restore(ctx, s, 0, &err), MT_EMISMATCH);
        assert_non_null(strstr(err.msg, "flash"));
        mt_ctx_free(ctx);
    }
    /* An alias of another target. */
    {
        mt_ctx *ctx = t_ctx();
        mt_snapshot_error err;
        mt_region *ram, *vram;

        t_container(ctx, "system", MT_SIZE_FULL);
        ram = t_ram(ctx, "ram", W_RAM_SIZE);
        t_rom(ctx, "rom", W_SMALL);
        t_romd(ctx, "flash", W_SMALL);
        vram = t_ram(ctx, "vram", 8192);
        t_alias(ctx, "win", vram, 0, 0x1000);
        t_io(ctx, "dev", 0x1000);
        t_io(ctx, "hole", 0x1000);
        (void)ram;
        MT_EXPECT(mt_snapshot_restore(ctx, s, 0, &err), MT_EMISMATCH);
        mt_ctx_free(ctx);
    }
    mt_snapshot_free(s);
    mt_ctx_free(a.ctx);
}

/* RAM block names must be unique; other regions may share names, and are
 * told apart by creation order. */
static void test_block_names(void **state)
{
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_container(ctx, "sys", MT_SIZE_FULL);
    mt_region *io1 = t_io(ctx, "port", 1), *io2 = t_io(ctx, "port", 1);
    mt_region *r1 = t_ram(ctx, "mem", 4096);
    mt_snapshot *s = NULL;
    mt_snapshot_error err;
    mt_region *r2;

    (void)state;
    t_map(sys, 0x10, io1);
    t_map(sys, 0x20, io2);
    t_map(sys, 0x1000, r1);
    MT_OK(mt_snapshot_take(ctx, 0, &s, NULL));
    MT_OK(mt_region_set_address(io1, 0x30));
    MT_OK(mt_region_set_address(io2, 0x40));
    MT_OK(mt_snapshot_restore(ctx, s, 0, NULL));
    assert_int_equal(mt_region_addr(io1), 0x10);
    assert_int_equal(mt_region_addr(io2), 0x20);
    mt_snapshot_free(s);

    r2 = t_rom(ctx, "mem", 4096);
    MT_EXPECT(mt_snapshot_take(ctx, 0, &s, &err), MT_EINVAL);
    assert_null(s);
    assert_non_null(strstr(err.msg, "'mem'"));
    assert_non_null(strstr(err.msg, "unique"));
    mt_region_unref(r2);
    /* Unnamed RAM counts as one name too. */
    r2 = t_ram(ctx, NULL, 4096);
    MT_OK(mt_snapshot_take(ctx, 0, &s, NULL));
    mt_snapshot_free(s);
    t_ram(ctx, NULL, 4096);
    MT_EXPECT(mt_snapshot_take(ctx, 0, &s, &err), MT_EINVAL);
    (void)r2;
    mt_ctx_free(ctx);
}

/* RAM devices are identified but their memory is not captured. */
static void test_ram_device_not_captured(void **state)
{
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_container(ctx, "sys", MT_SIZE_FULL);
    static uint8_t bar[4096];
    mt_region *dev;
    mt_snapshot *s;

    (void)state;
    MT_OK(mt_region_new_ram_device(ctx, "bar", sizeof(bar), bar, &dev));
    t_map(sys, 0, dev);
    bar[0] = 1;
    MT_OK(mt_snapshot_take(ctx, 0, &s, NULL));
    assert_int_equal(mt_snapshot_nr_blocks(s), 0);
    assert_int_equal(mt_snapshot_nr_regions(s), 2);
    bar[0] = 2;
    MT_OK(mt_region_set_address(dev, 0x1000));
    MT_OK(mt_snapshot_restore(ctx, s, 0, NULL));
    assert_int_equal(bar[0], 2);
    assert_int_equal(mt_region_addr(dev), 0);
    mt_snapshot_free(s);
    mt_ctx_free(ctx);
}

/* Resizeable RAM goes back to the snapshot's size (within its maximum). */
static void test_resizeable(void **state)
{
    mt_ctx *ctx = t_ctx();
    mt_ram_opts o = { .max_size = 64 << 10 };
    mt_region *sys = t_container(ctx, "sys", MT_SIZE_FULL), *r;
    mt_as *as;
    mt_snapshot *s;
    uint8_t want[16 << 10];

    (void)state;
    MT_OK(mt_region_new_ram_opts(ctx, "rs", 16 << 10, &o, &r));
    t_map(sys, 0, r);
    as = t_as(ctx, sys, "memory");
    w_fill(mt_region_ram_ptr(r), sizeof(want), 5);
    memcpy(want, mt_region_ram_ptr(r), sizeof(want));
    MT_OK(mt_snapshot_take(ctx, MT_SNAPSHOT_TRACK, &s, NULL));
    MT_OK(mt_region_ram_resize(r, 48 << 10));
    w_fill(mt_region_ram_ptr(r), 48 << 10, 6);
    MT_OK(mt_snapshot_reset(ctx, s, NULL, NULL));
    assert_int_equal(mt_region_size(r), 16 << 10);
    assert_memory_equal(mt_region_ram_ptr(r), want, sizeof(want));
    CHECK_AS(as, { 0, 0x3fff, r, 0, 0 });
    MT_OK(mt_region_ram_resize(r, 32 << 10));
    MT_OK(mt_snapshot_restore(ctx, s, 0, NULL));
    assert_int_equal(mt_region_size(r), 16 << 10);
    mt_snapshot_free(s);
    mt_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_take_getters),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_restore_same_context),
        cmocka_unit_test(test_restore_fresh_context),
        cmocka_unit_test(test_restore_mapping),
        cmocka_unit_test(test_mismatch_refused),
        cmocka_unit_test(test_block_names),
        cmocka_unit_test(test_ram_device_not_captured),
        cmocka_unit_test(test_resizeable),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
