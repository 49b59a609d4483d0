/* SPDX-License-Identifier: MIT */
/*
 * test_misuse.c: API misuse and failure paths. Every bad call must return
 * its MT_E* code, change nothing, and never abort; allocation failure at
 * any point must return MT_ENOMEM, leak nothing and leave the context
 * usable. Public API only.
 */
#include "mt_testutil.h"

#include <limits.h>

/* ------------------------------------------------------------------------ */
/* Mapping errors                                                            */
/* ------------------------------------------------------------------------ */

static void test_add_already_mapped_is_ebusy(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *c1 = t_container(ctx, "c1", 0x1000);
    mt_region *c2 = t_container(ctx, "c2", 0x1000);
    mt_region *k = t_io(ctx, "k", 0x10);
    t_map(c1, 0x10, k);
    MT_EXPECT(mt_region_add_subregion(c2, 0, k), MT_EBUSY);
    MT_EXPECT(mt_region_add_subregion_overlap(c2, 0, k, 3), MT_EBUSY);
    MT_EXPECT(mt_region_add_subregion(c1, 0x20, k), MT_EBUSY);
    assert_ptr_equal(mt_region_container(k), c1);
    assert_int_equal(mt_region_addr(k), 0x10);
    assert_int_equal(mt_region_priority(k), 0);
    assert_int_equal(mt_region_nr_subregions(c1), 1);
    assert_int_equal(mt_region_nr_subregions(c2), 0);
    mt_ctx_free(ctx);
}

static void test_add_self_or_ancestor_is_eloop(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *a = t_container(ctx, "a", 0x10000);
    mt_region *b = t_container(ctx, "b", 0x1000);
    mt_region *c = t_io(ctx, "c", 0x100); /* an I/O region may have children */
    MT_EXPECT(mt_region_add_subregion(a, 0, a), MT_ELOOP);
    MT_EXPECT(mt_region_add_subregion(c, 0, c), MT_ELOOP);
    t_map(a, 0x100, b);
    t_map(b, 0x10, c);
    MT_EXPECT(mt_region_add_subregion(c, 0, a), MT_ELOOP);
    MT_EXPECT(mt_region_add_subregion_overlap(b, 0, a, 1), MT_ELOOP);
    assert_null(mt_region_container(a));
    assert_int_equal(mt_region_nr_subregions(c), 0);
    assert_int_equal(mt_region_nr_subregions(b), 1);
    mt_as *as = t_as(ctx, a, "as");
    CHECK_AS(as, { 0x110, 0x20f, c, 0, 0 });
    mt_ctx_free(ctx);
}

/*
 * Containment can never be cyclic (MT_ELOOP above), but a cycle through an
 * alias is allowed, as in QEMU: Arm SSE machines map an alias of a
 * container inside that same container, at a window that excludes the
 * alias itself, so rendering terminates once the clip runs out.
 */
static void test_alias_cycle_through_window_renders_like_qemu(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *x = t_container(ctx, "x", MT_SIZE_FULL);
    mt_region *dev = t_io(ctx, "dev", 0x1000);
    t_map(x, 0x40000000, dev);
    /* alias of x at 0x50000000 showing x's [0x40000000, 0x50000000) */
    mt_region *a = t_alias(ctx, "a", x, 0x40000000, 0x10000000);
    MT_OK(mt_region_add_subregion_overlap(x, 0x50000000, a, -1500));
    mt_as *as = t_as(ctx, x, "as");
    CHECK_AS(as, { 0x40000000, 0x40000fff, dev, 0, 0 },
                 { 0x50000000, 0x50000fff, dev, 0, 0 });
    mt_ctx_free(ctx);
}

/*
 * A window that covers the alias itself would recurse forever (QEMU
 * overflows its stack). memtree bounds the nesting: the map stays usable
 * and what lies deeper than the bound is simply not rendered.
 */
static void test_self_covering_alias_cycle_is_bounded(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *x = t_container(ctx, "x", 0x10000);
    mt_region *ram = t_ram(ctx, "ram", 0x1000);
    t_map(x, 0, ram);
    mt_region *a = t_alias(ctx, "a", x, 0, 0x10000);
    MT_OK(mt_region_add_subregion_overlap(x, 0x0, a, -1));
    mt_as *as = t_as(ctx, x, "as");
    /* ram wins over the lower-priority alias wherever both are. */
    mt_flatview *fv = mt_as_flatview(as);
    assert_true(mt_flatview_nr_ranges(fv) >= 1);
    assert_ptr_equal(mt_flatview_range(fv, 0)->region, ram);
    mt_flatview_unref(fv);
    /* Several covering aliases of the container inside it: the work of
     * unrolling the cycles multiplies, but stays bounded. */
    mt_region *a2 = t_alias(ctx, "a2", x, 0, 0x10000);
    mt_region *a3 = t_alias(ctx, "a3", x, 0, 0x10000);
    MT_OK(mt_region_add_subregion_overlap(x, 0x0, a2, -2));
    MT_OK(mt_region_add_subregion_overlap(x, 0x0, a3, -3));
    fv = mt_as_flatview(as);
    assert_ptr_equal(mt_flatview_range(fv, 0)->region, ram);
    mt_flatview_unref(fv);
    /* A container whose only child is a covering alias of itself. */
    mt_region *y = t_container(ctx, "y", 0x10000);
    mt_region *b = t_alias(ctx, "b", y, 0, 0x10000);
    t_map(y, 0, b);
    mt_as *as2 = t_as(ctx, y, "as2");
    CHECK_AS_EMPTY(as2);
    mt_ctx_free(ctx);
}

static void test_add_under_ram_is_ekind(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *ram = t_ram(ctx, "ram", 0x1000);
    mt_region *rom = t_rom(ctx, "rom", 0x1000);
    mt_region *k = t_io(ctx, "k", 0x10);
    MT_EXPECT(mt_region_add_subregion(ram, 0, k), MT_EKIND);
    MT_EXPECT(mt_region_add_subregion_overlap(rom, 0, k, 1), MT_EKIND);
    assert_null(mt_region_container(k));
    assert_int_equal(mt_region_nr_subregions(ram), 0);
    mt_ctx_free(ctx);
}

static void test_del_non_child_is_enoent(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *c1 = t_container(ctx, "c1", 0x1000);
    mt_region *c2 = t_container(ctx, "c2", 0x1000);
    mt_region *k = t_io(ctx, "k", 0x10);
    mt_region *lone = t_io(ctx, "lone", 0x10);
    t_map(c1, 0, k);
    t_map(c2, 0, c1);
    MT_EXPECT(mt_region_del_subregion(c2, k), MT_ENOENT);  /* grandchild */
    MT_EXPECT(mt_region_del_subregion(c1, c2), MT_ENOENT); /* parent */
    MT_EXPECT(mt_region_del_subregion(c1, lone), MT_ENOENT);
    MT_EXPECT(mt_region_del_subregion(c1, c1), MT_ENOENT);
    assert_ptr_equal(mt_region_container(k), c1);
    MT_OK(mt_region_del_subregion(c1, k));
    MT_EXPECT(mt_region_del_subregion(c1, k), MT_ENOENT); /* twice */
    mt_ctx_free(ctx);
}

/* ------------------------------------------------------------------------ */
/* Sizes and addresses near 2^64                                             */
/* ------------------------------------------------------------------------ */

static void test_alias_window_overflow_is_erange(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *t = t_io(ctx, "t", MT_SIZE_FULL);
    mt_region *a = NULL;
    MT_EXPECT(mt_region_new_alias(ctx, "a", t, 0x1000,
                                  0xfffffffffffff001ull, &a), MT_ERANGE);
    assert_null(a);
    MT_EXPECT(mt_region_new_alias(ctx, "a", t, 1, MT_SIZE_FULL, &a),
              MT_ERANGE);
    MT_EXPECT(mt_region_new_alias(ctx, "a", t, UINT64_MAX, 2, &a),
              MT_ERANGE);
    /* Ending exactly at 2^64 is fine. */
    MT_OK(mt_region_new_alias(ctx, "a", t, 0x1000, 0xfffffffffffff000ull,
                              &a));
    mt_region *b = t_alias(ctx, "b", t, 0, MT_SIZE_FULL);
    mt_region *c = t_alias(ctx, "c", t, UINT64_MAX, 1);
    (void)c;

    /* Moving the window or growing it past 2^64: same error, no change. */
    MT_EXPECT(mt_region_set_alias_offset(a, 0x1001), MT_ERANGE);
    assert_int_equal(mt_region_alias_offset(a), 0x1000);
    MT_EXPECT(mt_region_set_alias_offset(b, 1), MT_ERANGE);
    assert_int_equal(mt_region_alias_offset(b), 0);
    MT_EXPECT(mt_region_set_size(a, 0xfffffffffffff001ull), MT_ERANGE);
    MT_EXPECT(mt_region_set_size(a, MT_SIZE_FULL), MT_ERANGE);
    assert_int_equal(mt_region_size(a), 0xfffffffffffff000ull);
    MT_OK(mt_region_set_alias_offset(a, 0));
    MT_OK(mt_region_set_size(a, MT_SIZE_FULL));
    mt_ctx_free(ctx);
}

/*
 * A region mapped so that it extends past 2^64 is allowed (as in QEMU): it
 * renders clipped at 2^64 and the tree prints [DETECTED OVERFLOW!].
 */
static void test_region_past_2_pow_64_is_clipped(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_container(ctx, "sys", MT_SIZE_FULL);
    mt_region *ram = t_ram(ctx, "ram", 0x2000);
    mt_region *full = t_io(ctx, "full", MT_SIZE_FULL);
    MT_OK(mt_region_add_subregion(sys, 0xfffffffffffff000ull, ram));
    MT_OK(mt_region_add_subregion_overlap(sys, 1, full, -1));
    mt_as *as = t_as(ctx, sys, "as");
    CHECK_AS(as,
             { 1, 0xffffffffffffefffull, full, 0, 0 },
             { 0xfffffffffffff000ull, UINT64_MAX, ram, 0, 0 });
    CHECK_MTREE(ctx, 0,
                "address-space: as\n"
                "  0000000000000000-ffffffffffffffff (prio 0, i/o): sys\n"
                "[DETECTED OVERFLOW!]     0000000000000001-0000000000000000 (prio -1, i/o): full\n"
                "[DETECTED OVERFLOW!]     fffffffffffff000-0000000000000fff (prio 0, ram): ram\n"
                "\n");
    mt_ctx_free(ctx);
}

/* ------------------------------------------------------------------------ */
/* NULL arguments, wrong kinds, wrong state, mixed contexts                   */
/* ------------------------------------------------------------------------ */

static void *nop_alloc(void *o, size_t n) { (void)o; return malloc(n); }
static void *nop_realloc(void *o, void *p, size_t n)
{
    (void)o;
    return realloc(p, n);
}
static void nop_free(void *o, void *p) { (void)o; free(p); }

static void test_null_arguments_are_einval(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *r = t_container(ctx, "r", 0x1000);
    mt_region *k = t_io(ctx, "k", 0x10);
    mt_region *out = NULL;
    mt_as *as = NULL;
    static uint8_t buf[0x100];

    MT_EXPECT(mt_ctx_new(NULL, NULL), MT_EINVAL);
    mt_ctx *c2 = NULL;
    mt_allocator bad = { nop_alloc, nop_realloc, NULL, NULL };
    MT_EXPECT(mt_ctx_new(&c2, &bad), MT_EINVAL);
    bad = (mt_allocator){ NULL, nop_realloc, nop_free, NULL };
    MT_EXPECT(mt_ctx_new(&c2, &bad), MT_EINVAL);
    bad = (mt_allocator){ nop_alloc, NULL, nop_free, NULL };
    MT_EXPECT(mt_ctx_new(&c2, &bad), MT_EINVAL);
    mt_allocator good = { nop_alloc, nop_realloc, nop_free, NULL };
    MT_OK(mt_ctx_new(&c2, &good));
    mt_ctx_free(c2);

    MT_EXPECT(mt_region_new_container(NULL, "x", 1, &out), MT_EINVAL);
    MT_EXPECT(mt_region_new_container(ctx, "x", 1, NULL), MT_EINVAL);
    MT_EXPECT(mt_region_new_io(NULL, "x", 1, NULL, NULL, &out), MT_EINVAL);
    MT_EXPECT(mt_region_new_io(ctx, "x", 1, NULL, NULL, NULL), MT_EINVAL);
    MT_EXPECT(mt_region_new_ram(NULL, "x", 1, &out), MT_EINVAL);
    MT_EXPECT(mt_region_new_ram(ctx, "x", 1, NULL), MT_EINVAL);
    MT_EXPECT(mt_region_new_ram_ptr(NULL, "x", 1, buf, &out), MT_EINVAL);
    MT_EXPECT(mt_region_new_ram_ptr(ctx, "x", 1, buf, NULL), MT_EINVAL);
    MT_EXPECT(mt_region_new_rom(NULL, "x", 1, &out), MT_EINVAL);
    MT_EXPECT(mt_region_new_rom(ctx, "x", 1, NULL), MT_EINVAL);
    MT_EXPECT(mt_region_new_rom_device(NULL, "x", 1, NULL, NULL, &out),
              MT_EINVAL);
    MT_EXPECT(mt_region_new_rom_device(ctx, "x", 1, NULL, NULL, NULL),
              MT_EINVAL);
    MT_EXPECT(mt_region_new_ram_device(NULL, "x", 1, buf, &out), MT_EINVAL);
    MT_EXPECT(mt_region_new_ram_device(ctx, "x", 1, buf, NULL), MT_EINVAL);
    MT_EXPECT(mt_region_new_alias(NULL, "x", r, 0, 1, &out), MT_EINVAL);
    MT_EXPECT(mt_region_new_alias(ctx, "x", NULL, 0, 1, &out), MT_EINVAL);
    MT_EXPECT(mt_region_new_alias(ctx, "x", r, 0, 1, NULL), MT_EINVAL);
    assert_null(out);

    MT_EXPECT(mt_region_add_subregion(NULL, 0, k), MT_EINVAL);
    MT_EXPECT(mt_region_add_subregion(r, 0, NULL), MT_EINVAL);
    MT_EXPECT(mt_region_add_subregion_overlap(NULL, 0, k, 1), MT_EINVAL);
    MT_EXPECT(mt_region_add_subregion_overlap(r, 0, NULL, 1), MT_EINVAL);
    MT_EXPECT(mt_region_del_subregion(NULL, k), MT_EINVAL);
    MT_EXPECT(mt_region_del_subregion(r, NULL), MT_EINVAL);
    MT_EXPECT(mt_region_set_enabled(NULL, false), MT_EINVAL);
    MT_EXPECT(mt_region_set_address(NULL, 1), MT_EINVAL);
    MT_EXPECT(mt_region_set_alias_offset(NULL, 1), MT_EINVAL);
    MT_EXPECT(mt_region_set_size(NULL, 1), MT_EINVAL);
    MT_EXPECT(mt_region_set_readonly(NULL, true), MT_EINVAL);
    MT_EXPECT(mt_region_set_nonvolatile(NULL, true), MT_EINVAL);
    MT_EXPECT(mt_region_set_romd(NULL, true), MT_EINVAL);
    MT_EXPECT(mt_region_set_dirty_log(NULL, true), MT_EINVAL);

    MT_EXPECT(mt_as_new(NULL, r, "as", &as), MT_EINVAL);
    MT_EXPECT(mt_as_new(ctx, NULL, "as", &as), MT_EINVAL);
    MT_EXPECT(mt_as_new(ctx, r, "as", NULL), MT_EINVAL);
    assert_null(as);
    assert_int_equal(mt_ctx_nr_as(ctx), 0);

    MT_EXPECT(mt_commit(NULL), MT_EINVAL);
    FILE *f = tmpfile();
    assert_non_null(f);
    MT_EXPECT(mt_mtree_print(NULL, f, 0), MT_EINVAL);
    MT_EXPECT(mt_mtree_print(ctx, NULL, 0), MT_EINVAL);
    fclose(f);

    /* NULL is a no-op for every release call. */
    mt_region_unref(NULL);
    mt_flatview_unref(NULL);
    mt_as_free(NULL);
    mt_ctx_free(NULL);
    assert_null(mt_region_ref(NULL));

    /* Nothing changed. */
    assert_null(mt_region_container(k));
    assert_int_equal(mt_region_nr_subregions(r), 0);
    mt_ctx_free(ctx);
}

static void test_wrong_kind_is_ekind(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    static uint8_t buf[0x100];
    mt_region *rdev = NULL;
    MT_OK(mt_region_new_ram_device(ctx, "rdev", sizeof(buf), buf, &rdev));
    mt_region *ram = t_ram(ctx, "ram", 0x1000);
    mt_region *kinds[] = {
        t_container(ctx, "cont", 0x100), t_io(ctx, "io", 0x100), ram,
        t_rom(ctx, "rom", 0x100), rdev, t_alias(ctx, "al", ram, 0, 0x10),
    };
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        MT_EXPECT(mt_region_set_romd(kinds[i], false), MT_EKIND);
        MT_EXPECT(mt_region_set_romd(kinds[i], true), MT_EKIND);
        assert_true(mt_region_romd(kinds[i]));
        if (mt_region_kind_of(kinds[i]) != MT_REGION_ALIAS) {
            MT_EXPECT(mt_region_set_alias_offset(kinds[i], 0x10), MT_EKIND);
            assert_int_equal(mt_region_alias_offset(kinds[i]), 0);
        }
    }
    MT_EXPECT(mt_region_set_alias_offset(t_romd(ctx, "rd", 0x100), 1),
              MT_EKIND);
    MT_EXPECT(mt_region_set_size(ram, 0x2000), MT_EKIND);
    mt_ctx_free(ctx);
}

static int sync_rc_in_hook = 1;

static void sync_in_commit_hook(void *opaque)
{
    sync_rc_in_hook = mt_ctx_synchronize(opaque);
}

/* mt_ctx_synchronize waits for readers: refused where that could never
 * end (in a read-side section, or holding the writer lock that a reader's
 * device callback may be waiting for). Nothing is lost: it works after. */
static void test_synchronize_where_it_could_deadlock(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *root = t_container(ctx, "root", MT_SIZE_FULL);
    mt_as *as = t_as(ctx, root, "memory");
    mt_listener_ops ops = { .commit = sync_in_commit_hook };
    mt_listener *l = NULL;

    mt_read_lock(ctx);
    MT_EXPECT(mt_ctx_synchronize(ctx), MT_ESTATE);
    mt_read_unlock(ctx);
    mt_begin(ctx);
    MT_EXPECT(mt_ctx_synchronize(ctx), MT_ESTATE);
    MT_OK(mt_commit(ctx));
    MT_OK(mt_listener_register(as, &ops, ctx, &l));
    assert_int_equal(sync_rc_in_hook, MT_ESTATE);
    mt_listener_unregister(l);
    MT_OK(mt_ctx_synchronize(ctx));
    MT_EXPECT(mt_ctx_synchronize(NULL), MT_EINVAL);
    mt_region_unref(root);
    mt_ctx_free(ctx);
}

static void test_commit_without_begin_is_estate(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    MT_EXPECT(mt_commit(ctx), MT_ESTATE);
    assert_int_equal(mt_transaction_depth(ctx), 0);
    mt_begin(ctx);
    mt_begin(ctx);
    MT_OK(mt_commit(ctx));
    MT_OK(mt_commit(ctx));
    MT_EXPECT(mt_commit(ctx), MT_ESTATE);
    assert_int_equal(mt_transaction_depth(ctx), 0);
    mt_ctx_free(ctx);
}

static void test_mixed_contexts_are_einval(void **state)
{
    (void)state;
    mt_ctx *a = t_ctx();
    mt_ctx *b = t_ctx();
    mt_region *pa = t_container(a, "pa", 0x1000);
    mt_region *sa = t_io(a, "sa", 0x10);
    mt_region *pb = t_container(b, "pb", 0x1000);
    mt_region *sb = t_io(b, "sb", 0x10);
    mt_region *out = NULL;
    mt_as *as = NULL;
    MT_EXPECT(mt_region_add_subregion(pa, 0, sb), MT_EINVAL);
    MT_EXPECT(mt_region_add_subregion_overlap(pb, 0, sa, 1), MT_EINVAL);
    MT_EXPECT(mt_region_new_alias(a, "x", sb, 0, 0x10, &out), MT_EINVAL);
    assert_null(out);
    MT_EXPECT(mt_as_new(a, pb, "x", &as), MT_EINVAL);
    assert_null(as);
    t_map(pb, 0, sb);
    MT_EXPECT(mt_region_del_subregion(pa, sb), MT_EINVAL);
    assert_null(mt_region_container(sa));
    assert_ptr_equal(mt_region_container(sb), pb);
    assert_int_equal(mt_region_nr_subregions(pa), 0);
    assert_int_equal(mt_ctx_nr_as(a), 0);
    mt_ctx_free(a);
    mt_ctx_free(b);
}

/* ------------------------------------------------------------------------ */
/* Error names                                                               */
/* ------------------------------------------------------------------------ */

static void test_every_error_has_name_and_message(void **state)
{
    (void)state;
    static const struct {
        const char *sym;
        int val;
        const char *msg;
    } table[] = {
#define ROW(sym, val, msg) { #sym, val, msg },
        MT_ERRNO_MAP(ROW)
#undef ROW
    };
    size_t n = sizeof(table) / sizeof(table[0]);
    assert_int_equal(n, 13);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(mt_err_name(table[i].val), table[i].sym);
        assert_string_equal(mt_strerror(table[i].val), table[i].msg);
        assert_int_equal(table[i].val, -(int)(i + 1)); /* dense, stable */
    }
    static const int unknown[] = { MT__ERRNO_LAST, -100, 1, 42, INT_MIN,
                                   INT_MAX };
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        assert_string_equal(mt_err_name(unknown[i]), "MT_EUNKNOWN");
        assert_string_equal(mt_strerror(unknown[i]), "unknown error");
    }
    assert_non_null(mt_err_name(0));
    assert_non_null(mt_strerror(0));
    assert_true(mt_strerror(0)[0] != '\0');
}

/* ------------------------------------------------------------------------ */
/* Allocation failure                                                        */
/* ------------------------------------------------------------------------ */

static uint8_t scen_buf[0x2000];

/* A scenario touching every allocating path: creation of each kind,
 * mapping, address spaces, a transaction, re-rendering, printing. Returns
 * the first error. */
static int scenario(mt_ctx *ctx)
{
    mt_region *sys, *ram, *rp, *dev, *rom, *rd, *al, *al2, *box;
    mt_as *as;
    int rc;
#define TRY(x)                                                               \
    do {                                                                     \
        if ((rc = (x)) != 0)                                                 \
            return rc;                                                       \
    } while (0)
    TRY(mt_region_new_container(ctx, "sys", MT_SIZE_FULL, &sys));
    TRY(mt_region_new_ram(ctx, "ram", 0x10000, &ram));
    TRY(mt_region_new_ram_ptr(ctx, "rp", sizeof(scen_buf), scen_buf, &rp));
    TRY(mt_region_new_io(ctx, "dev", 0x100, NULL, NULL, &dev));
    TRY(mt_region_new_rom(ctx, "rom", 0x1000, &rom));
    TRY(mt_region_new_rom_device(ctx, "rd", 0x1000, NULL, NULL, &rd));
    TRY(mt_region_new_alias(ctx, "al", ram, 0x8000, 0x8000, &al));
    TRY(mt_region_new_alias(ctx, "al2", sys, 0, MT_SIZE_FULL, &al2));
    TRY(mt_region_new_container(ctx, "box", 0x10000, &box));
    TRY(mt_region_add_subregion(sys, 0, ram));
    TRY(mt_region_add_subregion_overlap(sys, 0x1000, dev, 1));
    TRY(mt_region_add_subregion(box, 0x100, rom));
    TRY(mt_region_add_subregion(box, 0x2000, rd));
    TRY(mt_region_add_subregion(sys, 0x100000, box));
    TRY(mt_region_add_subregion(sys, 0x200000, al));
    TRY(mt_region_add_subregion(sys, 0x300000, rp));
    TRY(mt_as_new(ctx, sys, "memory", &as));
    TRY(mt_as_new(ctx, al2, "cpu", &as));
    TRY(mt_as_new(ctx, box, "box", &as));
    TRY(mt_region_set_readonly(al, true));
    mt_begin(ctx);
    TRY(mt_region_set_enabled(dev, false));
    TRY(mt_region_set_address(box, 0x110000));
    TRY(mt_region_del_subregion(sys, rp));
    TRY(mt_region_set_romd(rd, false));
    TRY(mt_region_set_dirty_log(ram, true));
    TRY(mt_commit(ctx));
    TRY(mt_region_set_size(dev, 0x200));
    TRY(mt_region_set_enabled(dev, true));
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    rc = mt_mtree_print(ctx, f, 0);
    if (!rc)
        rc = mt_mtree_print(ctx, f, MT_MTREE_FLAT);
    if (!rc)
        rc = mt_mtree_print(ctx, f, MT_MTREE_DISABLED);
    fclose(f);
    free(buf);
    return rc;
#undef TRY
}

/* After a failure, with memory available again, the context must work. */
static void check_usable(mt_ctx *ctx)
{
    while (mt_transaction_depth(ctx) > 0)
        MT_OK(mt_commit(ctx));
    mt_begin(ctx);
    MT_OK(mt_commit(ctx)); /* retries any pending render */
    for (size_t i = 0; i < mt_ctx_nr_as(ctx); i++) {
        mt_flatview *fv = mt_as_flatview(mt_ctx_as(ctx, i));
        assert_non_null(fv);
        size_t n = mt_flatview_nr_ranges(fv);
        for (size_t j = 0; j + 1 < n; j++)
            assert_true(mt_flatview_range(fv, j)->last <
                        mt_flatview_range(fv, j + 1)->start);
        mt_flatview_unref(fv);
    }
    mt_region *c = t_container(ctx, "check", MT_SIZE_FULL);
    mt_region *k = t_io(ctx, "check-dev", 0x10);
    t_map(c, 0x40, k);
    mt_as *as = t_as(ctx, c, "check");
    CHECK_AS(as, { 0x40, 0x4f, k, 0, 0 });
    char *s = t_mtree(ctx, MT_MTREE_FLAT);
    free(s);
}

static void test_allocation_failure_everywhere(void **state)
{
    (void)state;
    t_alloc_state st;
    mt_allocator al = t_allocator(&st);
    long n;
    long failed_steps = 0;
    for (n = 0; n < 100000; n++) {
        st = (t_alloc_state){ .budget = n };
        mt_ctx *ctx = NULL;
        int rc = mt_ctx_new(&ctx, &al);
        if (rc != 0) {
            if (rc != MT_ENOMEM)
                fail_msg("budget %ld: mt_ctx_new returned %s", n,
                         mt_err_name(rc));
            assert_int_equal(st.live, 0);
            failed_steps++;
            continue;
        }
        rc = scenario(ctx);
        if (rc == 0) {
            assert_int_equal(st.failures, 0);
            mt_ctx_free(ctx);
            assert_int_equal(st.live, 0);
            break;
        }
        if (rc != MT_ENOMEM)
            fail_msg("budget %ld: scenario failed with %s, expected "
                     "MT_ENOMEM", n, mt_err_name(rc));
        if (st.failures == 0)
            fail_msg("budget %ld: MT_ENOMEM without a failed allocation", n);
        failed_steps++;
        st.budget = -1;
        check_usable(ctx);
        mt_ctx_free(ctx);
        if (st.live != 0)
            fail_msg("budget %ld: %ld block(s) leaked", n, st.live);
    }
    assert_true(n < 100000);
    assert_true(failed_steps > 10);
    print_message("allocation failure: scenario succeeded with budget %ld "
                  "(%ld failing budgets tested)\n", n, failed_steps);
}

/* mt_commit under memory pressure: MT_ENOMEM, the old views stay
 * published, and a later commit publishes the change. */
static void test_commit_enomem_keeps_old_view_and_retries(void **state)
{
    (void)state;
    t_alloc_state st = { .budget = -1 };
    mt_allocator al = t_allocator(&st);
    mt_ctx *ctx = NULL;
    MT_OK(mt_ctx_new(&ctx, &al));
    mt_region *sys = t_container(ctx, "sys", MT_SIZE_FULL);
    mt_region *a = t_io(ctx, "a", 0x100);
    mt_region *b = t_io(ctx, "b", 0x100);
    t_map(sys, 0, a);
    mt_as *as = t_as(ctx, sys, "as");
    mt_flatview *fv0 = mt_as_flatview(as);

    mt_begin(ctx);
    t_map(sys, 0x1000, b);
    st.budget = 0;
    MT_EXPECT(mt_commit(ctx), MT_ENOMEM);
    st.budget = -1;
    mt_flatview *fv = mt_as_flatview(as);
    assert_ptr_equal(fv, fv0);
    mt_flatview_unref(fv);
    CHECK_AS(as, { 0, 0xff, a, 0, 0 });
    /* memtree.h does not say whether the failed commit closed the
     * transaction; either way the next outermost commit must retry. */
    if (mt_transaction_depth(ctx) == 0)
        mt_begin(ctx);
    assert_int_equal(mt_transaction_depth(ctx), 1);
    MT_OK(mt_commit(ctx));
    CHECK_AS(as, { 0, 0xff, a, 0, 0 }, { 0x1000, 0x10ff, b, 0, 0 });
    mt_flatview_unref(fv0);
    mt_ctx_free(ctx);
    assert_int_equal(st.live, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_already_mapped_is_ebusy),
        cmocka_unit_test(test_add_self_or_ancestor_is_eloop),
        cmocka_unit_test(test_alias_cycle_through_window_renders_like_qemu),
        cmocka_unit_test(test_self_covering_alias_cycle_is_bounded),
        cmocka_unit_test(test_add_under_ram_is_ekind),
        cmocka_unit_test(test_del_non_child_is_enoent),
        cmocka_unit_test(test_alias_window_overflow_is_erange),
        cmocka_unit_test(test_region_past_2_pow_64_is_clipped),
        cmocka_unit_test(test_null_arguments_are_einval),
        cmocka_unit_test(test_wrong_kind_is_ekind),
        cmocka_unit_test(test_commit_without_begin_is_estate),
        cmocka_unit_test(test_mixed_contexts_are_einval),
        cmocka_unit_test(test_every_error_has_name_and_message),
        cmocka_unit_test(test_allocation_failure_everywhere),
        cmocka_unit_test(test_commit_enomem_keeps_old_view_and_retries),
        cmocka_unit_test(test_synchronize_where_it_could_deadlock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
