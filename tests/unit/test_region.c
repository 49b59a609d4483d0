/* SPDX-License-Identifier: MIT */
/*
 * test_region.c: region creation, getters, reference counting, checklist
 * items 1 and 5 (QEMU reference §10), and simple misuse of region calls.
 * Public API only.
 */
#include "mt_testutil.h"

#include <limits.h>

static uint8_t host_buf[0x4000];

/* ------------------------------------------------------------------------ */
/* Checklist items                                                           */
/* ------------------------------------------------------------------------ */

/*
 * Item 1: a region created with size UINT64_MAX is 2^64 bytes, the size
 * getter gives UINT64_MAX back, and the end prints as ffffffffffffffff (one
 * flat range covering the whole space).
 */
static void test_item01_full_size_is_2_pow_64(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *big = t_io(ctx, "big", MT_SIZE_FULL);
    assert_int_equal(mt_region_size(big), MT_SIZE_FULL);

    mt_as *as = t_as(ctx, big, "as");
    CHECK_AS(as, { 0, UINT64_MAX, big, 0, 0 });
    CHECK_MTREE(ctx, 0,
                "address-space: as\n"
                "  0000000000000000-ffffffffffffffff (prio 0, i/o): big\n"
                "\n");
    CHECK_MTREE(ctx, MT_MTREE_FLAT,
                "FlatView #0\n"
                " AS \"as\", root: big\n"
                " Root memory region: big\n"
                "  0000000000000000-ffffffffffffffff (prio 0, i/o): big\n"
                "\n");

    /* A container of 2^64 bytes, and resizing to 2^64 afterwards. */
    mt_region *sys = t_container(ctx, "sys", MT_SIZE_FULL);
    assert_int_equal(mt_region_size(sys), MT_SIZE_FULL);
    mt_region *dev = t_io(ctx, "dev", 0x1000);
    t_map(sys, 0, dev);
    mt_as *as2 = t_as(ctx, sys, "as2");
    CHECK_AS(as2, { 0, 0xfff, dev, 0, 0 });
    MT_OK(mt_region_set_size(dev, MT_SIZE_FULL));
    assert_int_equal(mt_region_size(dev), MT_SIZE_FULL);
    CHECK_AS(as2, { 0, UINT64_MAX, dev, 0, 0 });

    /* 2^64 - 2 is an ordinary size: the last byte is not covered. */
    MT_OK(mt_region_set_size(dev, UINT64_MAX - 1));
    assert_int_equal(mt_region_size(dev), UINT64_MAX - 1);
    CHECK_AS(as2, { 0, UINT64_MAX - 2, dev, 0, 0 });

    mt_ctx_free(ctx);
}

/*
 * Item 5: negative priorities sort below 0 (even when added later), and
 * mt_region_add_subregion() resets the priority to 0 even if the region
 * had one before.
 */
static void test_item05_negative_priority_and_add_resets_priority(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_container(ctx, "sys", MT_SIZE_FULL);
    mt_region *a = t_io(ctx, "a", 0x100);
    mt_region *b = t_io(ctx, "b", 0x100);
    mt_region *c = t_io(ctx, "c", 0x100);
    t_map(sys, 0, a);
    t_map_prio(sys, 0, b, -1);        /* added later, but negative */
    t_map_prio(sys, 0, c, INT_MIN);
    assert_int_equal(mt_region_priority(b), -1);
    assert_int_equal(mt_region_priority(c), INT_MIN);
    assert_int_equal(mt_region_nr_subregions(sys), 3);
    assert_ptr_equal(mt_region_subregion(sys, 0), a);
    assert_ptr_equal(mt_region_subregion(sys, 1), b);
    assert_ptr_equal(mt_region_subregion(sys, 2), c);
    assert_null(mt_region_subregion(sys, 3));

    mt_as *as = t_as(ctx, sys, "as");
    CHECK_AS(as, { 0, 0xff, a, 0, 0 });

    /* Remove a: b (-1) beats c (INT_MIN). */
    MT_OK(mt_region_del_subregion(sys, a));
    CHECK_AS(as, { 0, 0xff, b, 0, 0 });

    /* b had priority -1; unmapped and re-added with add_subregion() it
     * has priority 0 again, so it sorts first. */
    MT_OK(mt_region_del_subregion(sys, b));
    t_map(sys, 0, b);
    assert_int_equal(mt_region_priority(b), 0);
    assert_ptr_equal(mt_region_subregion(sys, 0), b);

    /* A region given priority 7 once, re-added with add_subregion: 0, so
     * it no longer beats a priority-1 sibling. */
    mt_region *x = t_io(ctx, "x", 0x100);
    mt_region *y = t_io(ctx, "y", 0x100);
    t_map_prio(sys, 0x1000, x, 7);
    t_map_prio(sys, 0x1000, y, 1);
    CHECK_AS(as, { 0, 0xff, b, 0, 0 }, { 0x1000, 0x10ff, x, 0, 0 });
    MT_OK(mt_region_del_subregion(sys, x));
    t_map(sys, 0x1000, x);
    assert_int_equal(mt_region_priority(x), 0);
    CHECK_AS(as, { 0, 0xff, b, 0, 0 }, { 0x1000, 0x10ff, y, 0, 0 });

    mt_ctx_free(ctx);
}

/* ------------------------------------------------------------------------ */
/* Creation and getters                                                      */
/* ------------------------------------------------------------------------ */

static void check_fresh(mt_ctx *ctx, mt_region *r, const char *name,
                        mt_region_kind kind, uint64_t size, bool terminates,
                        bool readonly)
{
    assert_ptr_equal(mt_region_ctx(r), ctx);
    assert_string_equal(mt_region_name(r), name);
    assert_int_equal(mt_region_kind_of(r), kind);
    assert_int_equal(mt_region_size(r), size);
    assert_int_equal(mt_region_addr(r), 0);
    assert_int_equal(mt_region_priority(r), 0);
    assert_true(mt_region_enabled(r));
    assert_int_equal(mt_region_readonly(r), readonly);
    assert_false(mt_region_nonvolatile(r));
    assert_true(mt_region_romd(r)); /* ROM devices start in ROMD mode */
    assert_false(mt_region_dirty_log(r));
    assert_int_equal(mt_region_terminates(r), terminates);
    assert_null(mt_region_container(r));
    assert_int_equal(mt_region_nr_subregions(r), 0);
    assert_null(mt_region_subregion(r, 0));
}

static void test_create_every_kind(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *r;

    MT_OK(mt_region_new_container(ctx, "cont", 0x1000, &r));
    check_fresh(ctx, r, "cont", MT_REGION_CONTAINER, 0x1000, false, false);
    assert_null(mt_region_alias_target(r));
    assert_int_equal(mt_region_alias_offset(r), 0);
    assert_null(mt_region_ram_ptr(r));

    MT_OK(mt_region_new_io(ctx, "io", 0x10, NULL, NULL, &r));
    check_fresh(ctx, r, "io", MT_REGION_IO, 0x10, true, false);
    assert_null(mt_region_ram_ptr(r));
    assert_null(mt_region_alias_target(r));

    mt_ops ops = { 0 };
    ops.valid.max_access_size = 4;
    MT_OK(mt_region_new_io(ctx, "io-ops", 0x10, &ops, host_buf, &r));
    check_fresh(ctx, r, "io-ops", MT_REGION_IO, 0x10, true, false);

    MT_OK(mt_region_new_ram(ctx, "ram", 0x2000, &r));
    check_fresh(ctx, r, "ram", MT_REGION_RAM, 0x2000, true, false);
    uint8_t *p = mt_region_ram_ptr(r);
    assert_non_null(p);
    assert_int_equal(p[0], 0);
    assert_int_equal(p[0x1fff], 0);
    p[0x10] = 0xaa; /* writable host memory */

    MT_OK(mt_region_new_ram_ptr(ctx, "ramptr", sizeof(host_buf), host_buf,
                                &r));
    check_fresh(ctx, r, "ramptr", MT_REGION_RAM, sizeof(host_buf), true,
                false);
    assert_ptr_equal(mt_region_ram_ptr(r), host_buf);

    /* ROM is RAM with the read-only flag. */
    MT_OK(mt_region_new_rom(ctx, "rom", 0x1000, &r));
    check_fresh(ctx, r, "rom", MT_REGION_RAM, 0x1000, true, true);
    p = mt_region_ram_ptr(r);
    assert_non_null(p);
    assert_int_equal(p[0xfff], 0);

    MT_OK(mt_region_new_rom_device(ctx, "romdev", 0x1000, &ops, NULL, &r));
    check_fresh(ctx, r, "romdev", MT_REGION_ROM_DEVICE, 0x1000, true, false);
    assert_non_null(mt_region_ram_ptr(r));

    MT_OK(mt_region_new_ram_device(ctx, "ramdev", 0x100, host_buf, &r));
    check_fresh(ctx, r, "ramdev", MT_REGION_RAM_DEVICE, 0x100, true, false);
    assert_ptr_equal(mt_region_ram_ptr(r), host_buf);

    mt_region *target = t_ram(ctx, "target", 0x1000);
    MT_OK(mt_region_new_alias(ctx, "alias", target, 0x100, 0x200, &r));
    check_fresh(ctx, r, "alias", MT_REGION_ALIAS, 0x200, false, false);
    assert_ptr_equal(mt_region_alias_target(r), target);
    assert_int_equal(mt_region_alias_offset(r), 0x100);
    assert_null(mt_region_ram_ptr(r));

    /* Size 0 is allowed. */
    MT_OK(mt_region_new_io(ctx, "zero", 0, NULL, NULL, &r));
    assert_int_equal(mt_region_size(r), 0);

    mt_ctx_free(ctx);
}

static void test_name_is_copied_and_null_allowed(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    char name[16] = "first";
    mt_region *r = t_container(ctx, name, 0x10);
    strcpy(name, "changed");
    assert_string_equal(mt_region_name(r), "first");

    mt_region *anon = t_io(ctx, NULL, 0x10);
    assert_null(mt_region_name(anon));

    char asname[16] = "space";
    mt_as *as = t_as(ctx, r, asname);
    strcpy(asname, "other");
    assert_string_equal(mt_as_name(as), "space");
    mt_ctx_free(ctx);
}

static void test_ram_creation_limits(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *r = NULL;
    /* mt_region_new_ram: size must be below MT_SIZE_FULL. */
    MT_EXPECT(mt_region_new_ram(ctx, "huge", MT_SIZE_FULL, &r),
              MT_EINVAL);
    assert_null(r);
    /* A zero-sized RAM region is allowed and never renders. */
    MT_OK(mt_region_new_ram(ctx, "empty", 0, &r));
    mt_region *sys = t_container(ctx, "sys", MT_SIZE_FULL);
    t_map(sys, 0x1000, r);
    mt_as *as = t_as(ctx, sys, "as");
    CHECK_AS_EMPTY(as);
    mt_ctx_free(ctx);
}

/* ------------------------------------------------------------------------ */
/* Setters reflected by getters                                              */
/* ------------------------------------------------------------------------ */

static void test_setters_update_getters(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_container(ctx, "sys", MT_SIZE_FULL);
    mt_region *ram = t_ram(ctx, "ram", 0x1000);
    mt_region *rd = t_romd(ctx, "rd", 0x1000);
    mt_region *al = t_alias(ctx, "al", ram, 0, 0x800);

    MT_OK(mt_region_set_enabled(ram, false));
    assert_false(mt_region_enabled(ram));
    MT_OK(mt_region_set_enabled(ram, true));
    assert_true(mt_region_enabled(ram));

    MT_OK(mt_region_set_readonly(ram, true));
    assert_true(mt_region_readonly(ram));
    MT_OK(mt_region_set_readonly(ram, false));
    assert_false(mt_region_readonly(ram));

    MT_OK(mt_region_set_nonvolatile(ram, true));
    assert_true(mt_region_nonvolatile(ram));

    MT_OK(mt_region_set_romd(rd, false));
    assert_false(mt_region_romd(rd));
    MT_OK(mt_region_set_romd(rd, true));
    assert_true(mt_region_romd(rd));

    MT_OK(mt_region_set_alias_offset(al, 0x400));
    assert_int_equal(mt_region_alias_offset(al), 0x400);
    MT_OK(mt_region_set_size(al, 0x100));
    assert_int_equal(mt_region_size(al), 0x100);

    /* Moving an unmapped region just stores the address. */
    MT_OK(mt_region_set_address(al, 0x5000));
    assert_int_equal(mt_region_addr(al), 0x5000);
    assert_null(mt_region_container(al));

    /* Mapping sets container, address and priority. */
    t_map_prio(sys, 0x3000, al, 3);
    assert_ptr_equal(mt_region_container(al), sys);
    assert_int_equal(mt_region_addr(al), 0x3000);
    assert_int_equal(mt_region_priority(al), 3);
    MT_OK(mt_region_set_address(al, 0x4000));
    assert_int_equal(mt_region_addr(al), 0x4000);
    assert_int_equal(mt_region_priority(al), 3);
    MT_OK(mt_region_del_subregion(sys, al));
    assert_null(mt_region_container(al));
    assert_int_equal(mt_region_nr_subregions(sys), 0);

    /* VGA dirty logging is counted. */
    MT_OK(mt_region_set_dirty_log(ram, true));
    MT_OK(mt_region_set_dirty_log(ram, true));
    assert_true(mt_region_dirty_log(ram));
    MT_OK(mt_region_set_dirty_log(ram, false));
    assert_true(mt_region_dirty_log(ram));
    MT_OK(mt_region_set_dirty_log(ram, false));
    assert_false(mt_region_dirty_log(ram));
    MT_EXPECT(mt_region_set_dirty_log(ram, false), MT_ESTATE);
    assert_false(mt_region_dirty_log(ram));

    mt_ctx_free(ctx);
}

/* Subregions are listed in winning order: descending priority, and among
 * equal priorities the most recently added first. */
static void test_subregion_index_is_winning_order(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_container(ctx, "sys", MT_SIZE_FULL);
    mt_region *r[6];
    static const int prio[6] = { 0, 2, 0, -3, 2, 0 };
    for (int i = 0; i < 6; i++) {
        char n[8];
        snprintf(n, sizeof(n), "r%d", i);
        r[i] = t_io(ctx, n, 0x10);
        t_map_prio(sys, (uint64_t)i * 0x100, r[i], prio[i]);
    }
    /* expected: r4 (2, later), r1 (2), r5, r2, r0 (0), r3 (-3) */
    mt_region *want[6] = { r[4], r[1], r[5], r[2], r[0], r[3] };
    assert_int_equal(mt_region_nr_subregions(sys), 6);
    for (size_t i = 0; i < 6; i++)
        assert_ptr_equal(mt_region_subregion(sys, i), want[i]);

    /* set_address re-inserts at the front of its equal-priority group. */
    MT_OK(mt_region_set_address(r[0], 0x1000));
    assert_ptr_equal(mt_region_subregion(sys, 2), r[0]);
    assert_ptr_equal(mt_region_subregion(sys, 3), r[5]);
    assert_ptr_equal(mt_region_subregion(sys, 4), r[2]);
    mt_ctx_free(ctx);
}

static void test_ctx_as_listing(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    assert_int_equal(mt_ctx_nr_as(ctx), 0);
    assert_null(mt_ctx_as(ctx, 0));
    mt_region *a = t_container(ctx, "a", 0x1000);
    mt_region *b = t_container(ctx, "b", 0x1000);
    mt_as *as1 = t_as(ctx, a, "one");
    mt_as *as2 = t_as(ctx, b, "two");
    mt_as *as3 = t_as(ctx, a, "three");
    assert_int_equal(mt_ctx_nr_as(ctx), 3);
    assert_ptr_equal(mt_ctx_as(ctx, 0), as1);
    assert_ptr_equal(mt_ctx_as(ctx, 1), as2);
    assert_ptr_equal(mt_ctx_as(ctx, 2), as3);
    assert_null(mt_ctx_as(ctx, 3));
    assert_ptr_equal(mt_as_root(as1), a);
    assert_ptr_equal(mt_as_root(as2), b);
    assert_string_equal(mt_as_name(as3), "three");

    mt_as_free(as2);
    assert_int_equal(mt_ctx_nr_as(ctx), 2);
    assert_ptr_equal(mt_ctx_as(ctx, 0), as1);
    assert_ptr_equal(mt_ctx_as(ctx, 1), as3);
    mt_as_free(NULL);
    assert_int_equal(mt_ctx_nr_as(ctx), 2);
    mt_ctx_free(ctx);
    mt_ctx_free(NULL);
}

/* ------------------------------------------------------------------------ */
/* Reference counting, observed through a counting allocator                */
/* ------------------------------------------------------------------------ */

static void test_ref_unref_basics(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *r = t_io(ctx, "r", 0x10);
    assert_ptr_equal(mt_region_ref(r), r);
    mt_region_unref(r); /* back to one reference */
    assert_string_equal(mt_region_name(r), "r");
    assert_null(mt_region_ref(NULL));
    mt_region_unref(NULL);
    mt_region_unref(r); /* freed */
    mt_ctx_free(ctx);
}

/* A context allocating through a counting allocator that never fails;
 * @st (overwritten) counts its blocks. */
static mt_ctx *counted_ctx(t_alloc_state *st)
{
    *st = (t_alloc_state){ .budget = -1 };
    mt_allocator al = t_allocator(st);
    mt_ctx *ctx = NULL;
    MT_OK(mt_ctx_new(&ctx, &al));
    return ctx;
}

/* Free @ctx and check that it gave back every block it allocated. */
static void free_ctx_no_leak(mt_ctx *ctx, const t_alloc_state *st)
{
    mt_ctx_free(ctx);
    assert_int_equal(st->live, 0);
}

/* Create and free one region to warm up any lazily grown context state,
 * then return the number of live blocks. */
static long settled_live(mt_ctx *ctx, t_alloc_state *st)
{
    mt_region *w = t_container(ctx, "warm", 0x10);
    mt_region *w2 = t_io(ctx, "warm2", 0x10);
    t_map(w, 0, w2);
    mt_region_unref(w2);
    mt_region_unref(w);
    return st->live;
}

static void test_unref_frees_region(void **state)
{
    (void)state;
    t_alloc_state st;
    mt_ctx *ctx = counted_ctx(&st);
    long base = settled_live(ctx, &st);

    mt_region *r = t_io(ctx, "r", 0x10);
    assert_true(st.live > base);
    mt_region_ref(r);
    mt_region_unref(r);
    assert_true(st.live > base); /* still one reference */
    mt_region_unref(r);
    assert_int_equal(st.live, base);

    free_ctx_no_leak(ctx, &st);
}

static void test_container_holds_reference(void **state)
{
    (void)state;
    t_alloc_state st;
    mt_ctx *ctx = counted_ctx(&st);
    long base = settled_live(ctx, &st);

    mt_region *c = t_container(ctx, "c", 0x1000);
    mt_region *k = t_io(ctx, "k", 0x10);
    t_map(c, 0x10, k);
    long with_both = st.live;
    mt_region_unref(k); /* container keeps it */
    assert_int_equal(st.live, with_both);
    assert_ptr_equal(mt_region_subregion(c, 0), k);
    assert_string_equal(mt_region_name(k), "k");
    assert_ptr_equal(mt_region_container(k), c);
    MT_OK(mt_region_del_subregion(c, k)); /* last reference: freed */
    assert_true(st.live < with_both);
    assert_int_equal(mt_region_nr_subregions(c), 0);
    mt_region_unref(c);
    assert_int_equal(st.live, base);

    free_ctx_no_leak(ctx, &st);
}

static void test_alias_holds_target_reference(void **state)
{
    (void)state;
    t_alloc_state st;
    mt_ctx *ctx = counted_ctx(&st);
    long base = settled_live(ctx, &st);

    mt_region *t = t_io(ctx, "t", 0x100);
    mt_region *a = t_alias(ctx, "a", t, 0x10, 0x10);
    long both = st.live;
    mt_region_unref(t);
    assert_int_equal(st.live, both);
    assert_ptr_equal(mt_region_alias_target(a), t);
    assert_string_equal(mt_region_name(mt_region_alias_target(a)), "t");
    mt_region_unref(a); /* frees a, then t */
    assert_int_equal(st.live, base);

    free_ctx_no_leak(ctx, &st);
}

static void test_unref_container_unmaps_children(void **state)
{
    (void)state;
    t_alloc_state st;
    mt_ctx *ctx = counted_ctx(&st);

    mt_region *c = t_container(ctx, "c", 0x1000);
    mt_region *k1 = t_io(ctx, "k1", 0x10);
    mt_region *k2 = t_io(ctx, "k2", 0x10);
    t_map(c, 0, k1);
    t_map(c, 0x10, k2);
    mt_region_unref(k2);      /* only c holds k2 now */
    mt_region_unref(c);       /* frees c, unmaps k1, frees k2 */
    assert_null(mt_region_container(k1));
    /* k1 is free to be mapped again. */
    mt_region *d = t_container(ctx, "d", 0x1000);
    t_map(d, 0x20, k1);
    assert_ptr_equal(mt_region_container(k1), d);

    free_ctx_no_leak(ctx, &st);
}

/* mt_ctx_free reclaims everything whatever the reference counts. */
static void test_ctx_free_reclaims_everything(void **state)
{
    (void)state;
    t_alloc_state st;
    mt_ctx *ctx = counted_ctx(&st);
    mt_region *sys = t_container(ctx, "sys", MT_SIZE_FULL);
    mt_region *ram = t_ram(ctx, "ram", 0x10000);
    mt_region *io = t_io(ctx, "io", 0x100);
    mt_region *al1 = t_alias(ctx, "al1", ram, 0x1000, 0x1000);
    mt_region_ref(ram);
    mt_region_ref(ram);
    t_map(sys, 0, ram);
    t_map_prio(sys, 0x800, io, 1);
    t_map(sys, 0x100000, al1);
    (void)t_as(ctx, sys, "memory");
    (void)t_as(ctx, al1, "other");
    mt_begin(ctx); /* even with a transaction left open */
    MT_OK(mt_region_set_enabled(io, false));
    free_ctx_no_leak(ctx, &st);
}

/* ------------------------------------------------------------------------ */
/* Simple misuse of region calls (the full list is in test_misuse.c)         */
/* ------------------------------------------------------------------------ */

static void test_region_kind_checks(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *ram = t_ram(ctx, "ram", 0x1000);
    mt_region *rom = t_rom(ctx, "rom", 0x1000);
    mt_region *io = t_io(ctx, "io", 0x100);
    mt_region *cont = t_container(ctx, "cont", 0x100);
    mt_region *al = t_alias(ctx, "al", ram, 0, 0x100);
    mt_region *rd = t_romd(ctx, "rd", 0x1000);

    /* RAM is resized through the RAM API only. */
    MT_EXPECT(mt_region_set_size(ram, 0x2000), MT_EKIND);
    assert_int_equal(mt_region_size(ram), 0x1000);
    /* ROMD mode only for ROM devices. */
    MT_EXPECT(mt_region_set_romd(ram, false), MT_EKIND);
    MT_EXPECT(mt_region_set_romd(io, false), MT_EKIND);
    assert_true(mt_region_romd(io));
    /* Alias offset only for aliases. */
    MT_EXPECT(mt_region_set_alias_offset(io, 0x10), MT_EKIND);
    MT_EXPECT(mt_region_set_alias_offset(cont, 0x10), MT_EKIND);
    assert_int_equal(mt_region_alias_offset(io), 0);
    /* Dirty logging only for regions with memory. */
    MT_EXPECT(mt_region_set_dirty_log(io, true), MT_EKIND);
    MT_EXPECT(mt_region_set_dirty_log(cont, true), MT_EKIND);
    assert_false(mt_region_dirty_log(io));
    MT_OK(mt_region_set_dirty_log(rom, true));
    MT_OK(mt_region_set_dirty_log(rd, true));
    assert_true(mt_region_dirty_log(rd));
    MT_EXPECT(mt_region_set_dirty_log(rom, false), 0);
    MT_EXPECT(mt_region_set_dirty_log(rom, false), MT_ESTATE);
    (void)al;
    mt_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_item01_full_size_is_2_pow_64),
        cmocka_unit_test(test_item05_negative_priority_and_add_resets_priority),
        cmocka_unit_test(test_create_every_kind),
        cmocka_unit_test(test_name_is_copied_and_null_allowed),
        cmocka_unit_test(test_ram_creation_limits),
        cmocka_unit_test(test_setters_update_getters),
        cmocka_unit_test(test_subregion_index_is_winning_order),
        cmocka_unit_test(test_ctx_as_listing),
        cmocka_unit_test(test_ref_unref_basics),
        cmocka_unit_test(test_unref_frees_region),
        cmocka_unit_test(test_container_holds_reference),
        cmocka_unit_test(test_alias_holds_target_reference),
        cmocka_unit_test(test_unref_container_unmaps_children),
        cmocka_unit_test(test_ctx_free_reclaims_everything),
        cmocka_unit_test(test_region_kind_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
