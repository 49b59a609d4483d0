/* SPDX-License-Identifier: MIT */
/*
 * test_transaction.c: transactions, checklist items 16 and 17 of the QEMU
 * reference §10. Public API only.
 *
 * How rendering is observed through the API: mt_as_flatview() returns the
 * currently published view with a reference for the caller, and a view
 * never changes once published; a commit that re-renders publishes a new
 * view object. While a test holds a reference on the old view, the new one
 * cannot reuse its address, so
 *     "the pointer returned by mt_as_flatview() changed"
 * is exactly "a re-render was published". QEMU's rule (§1.3, §5.1) is that
 * the outermost commit re-renders everything as soon as any change was
 * marked pending, even when the rendered result is identical (changes to
 * unmapped regions, set_enabled/set_size always mark pending); attribute
 * setters only mark pending when the region itself is enabled, and setters
 * given the value the region already has do nothing.
 */
#include "mt_testutil.h"

typedef struct fixture {
    mt_ctx *ctx;
    mt_region *sys;
    mt_region *ram;
    mt_region *dev;
    mt_as *as;
} fixture;

static void fixture_init(fixture *f)
{
    f->ctx = t_ctx();
    f->sys = t_container(f->ctx, "sys", MT_SIZE_FULL);
    f->ram = t_ram(f->ctx, "ram", 0x1000);
    f->dev = t_io(f->ctx, "dev", 0x100);
    t_map(f->sys, 0, f->ram);
    t_map(f->sys, 0x10000, f->dev);
    f->as = t_as(f->ctx, f->sys, "memory");
}

/* Item 16: a mutator inside a transaction renders nothing until the
 * outermost commit; nested begin/commit pairs coalesce. */
static void test_item16_render_only_at_outermost_commit(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f);
    mt_region *extra = t_io(f.ctx, "extra", 0x10);
    mt_flatview *fv0 = mt_as_flatview(f.as);
    assert_non_null(fv0);
    assert_int_equal(mt_transaction_depth(f.ctx), 0);

    mt_begin(f.ctx);
    assert_int_equal(mt_transaction_depth(f.ctx), 1);
    t_map(f.sys, 0x20000, extra);
    /* The tree changed at once ... */
    assert_ptr_equal(mt_region_container(extra), f.sys);
    /* ... the published view did not. */
    CHECK_AS(f.as, { 0, 0xfff, f.ram, 0, 0 }, { 0x10000, 0x100ff, f.dev, 0, 0 });
    mt_flatview *fv = mt_as_flatview(f.as);
    assert_ptr_equal(fv, fv0);
    mt_flatview_unref(fv);

    mt_begin(f.ctx);
    assert_int_equal(mt_transaction_depth(f.ctx), 2);
    MT_OK(mt_region_set_enabled(f.dev, false));
    MT_OK(mt_region_set_address(f.ram, 0x4000));
    MT_OK(mt_commit(f.ctx)); /* inner: still nothing */
    assert_int_equal(mt_transaction_depth(f.ctx), 1);
    fv = mt_as_flatview(f.as);
    assert_ptr_equal(fv, fv0);
    mt_flatview_unref(fv);
    CHECK_AS(f.as, { 0, 0xfff, f.ram, 0, 0 }, { 0x10000, 0x100ff, f.dev, 0, 0 });

    MT_OK(mt_commit(f.ctx)); /* outermost: everything at once */
    assert_int_equal(mt_transaction_depth(f.ctx), 0);
    fv = mt_as_flatview(f.as);
    assert_ptr_not_equal(fv, fv0);
    mt_flatview_unref(fv);
    CHECK_AS(f.as,
             { 0x4000, 0x4fff, f.ram, 0, 0 },
             { 0x20000, 0x2000f, extra, 0, 0 });

    /* The old view is immutable and still readable. */
    t_check_fv_(fv0,
                (const exp_range[]){ { 0, 0xfff, f.ram, 0, 0 },
                                     { 0x10000, 0x100ff, f.dev, 0, 0 } },
                2, __FILE__, __LINE__);
    mt_flatview_unref(fv0);

    /* No transaction open any more. */
    MT_EXPECT(mt_commit(f.ctx), MT_ESTATE);
    assert_int_equal(mt_transaction_depth(f.ctx), 0);
    mt_ctx_free(f.ctx);
}

/* Item 16 with several address spaces: all are updated together at the
 * outermost commit, and an address space created inside a transaction is
 * rendered at that commit. */
static void test_item16_all_spaces_update_at_outermost_commit(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f);
    mt_region *io = t_io(f.ctx, "io", 0x10000);
    mt_as *ioas = t_as(f.ctx, io, "io");
    mt_flatview *m0 = mt_as_flatview(f.as);
    mt_flatview *i0 = mt_as_flatview(ioas);

    mt_begin(f.ctx);
    mt_begin(f.ctx);
    MT_OK(mt_region_set_size(io, 0x100));
    MT_OK(mt_region_del_subregion(f.sys, f.dev));
    mt_region *late = t_container(f.ctx, "late", MT_SIZE_FULL);
    t_map(late, 0x100, t_io(f.ctx, "late-dev", 0x10));
    t_map(late, 0x200, t_io(f.ctx, "late-dev2", 0x10));
    mt_as *las = t_as(f.ctx, late, "late");
    MT_OK(mt_commit(f.ctx));
    mt_flatview *m1 = mt_as_flatview(f.as);
    mt_flatview *i1 = mt_as_flatview(ioas);
    assert_ptr_equal(m1, m0);
    assert_ptr_equal(i1, i0);
    mt_flatview_unref(m1);
    mt_flatview_unref(i1);
    MT_OK(mt_commit(f.ctx));

    m1 = mt_as_flatview(f.as);
    i1 = mt_as_flatview(ioas);
    assert_ptr_not_equal(m1, m0);
    assert_ptr_not_equal(i1, i0);
    mt_flatview_unref(m1);
    mt_flatview_unref(i1);
    CHECK_AS(f.as, { 0, 0xfff, f.ram, 0, 0 });
    CHECK_AS(ioas, { 0, 0xff, io, 0, 0 });
    mt_flatview *lv = mt_as_flatview(las);
    assert_int_equal(mt_flatview_nr_ranges(lv), 2);
    mt_flatview_unref(lv);
    mt_flatview_unref(m0);
    mt_flatview_unref(i0);
    mt_ctx_free(f.ctx);
}

/* An empty transaction re-renders nothing. */
static void test_item16_empty_transaction_keeps_view(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f);
    mt_flatview *fv0 = mt_as_flatview(f.as);
    mt_begin(f.ctx);
    mt_begin(f.ctx);
    MT_OK(mt_commit(f.ctx));
    MT_OK(mt_commit(f.ctx));
    mt_flatview *fv = mt_as_flatview(f.as);
    assert_ptr_equal(fv, fv0);
    mt_flatview_unref(fv);
    mt_flatview_unref(fv0);
    mt_ctx_free(f.ctx);
}

/* Run @mutate on @f and report whether a new view was published. */
/*
 * Did @mutate schedule a render? memtree keeps a view object when nothing
 * in it changed, so the observable signal is QEMU's: listeners hear begin
 * (and commit) at an outermost commit with a render pending.
 */
static void count_begin(void *opaque)
{
    (*(unsigned *)opaque)++;
}

static bool rerendered(fixture *f, int (*mutate)(fixture *, void *),
                       void *arg)
{
    mt_listener_ops ops = { .begin = count_begin };
    unsigned begins = 0;
    mt_listener *l;

    MT_OK(mt_listener_register(f->as, &ops, &begins, &l));
    begins = 0; /* forget the replay */
    MT_OK(mutate(f, arg));
    bool pending = begins > 0;
    mt_listener_unregister(l);
    return pending;
}

static int do_set_enabled(fixture *f, void *r)
{
    (void)f;
    return mt_region_set_enabled(r, !mt_region_enabled(r));
}
static int do_set_size(fixture *f, void *r)
{
    (void)f;
    return mt_region_set_size(r, mt_region_size(r) + 0x10);
}
static int do_set_readonly(fixture *f, void *r)
{
    (void)f;
    return mt_region_set_readonly(r, !mt_region_readonly(r));
}
static int do_set_readonly_same(fixture *f, void *r)
{
    (void)f;
    return mt_region_set_readonly(r, mt_region_readonly(r));
}
static int do_set_enabled_same(fixture *f, void *r)
{
    (void)f;
    return mt_region_set_enabled(r, mt_region_enabled(r));
}
static int do_set_size_same(fixture *f, void *r)
{
    (void)f;
    return mt_region_set_size(r, mt_region_size(r));
}
static int do_set_nonvolatile(fixture *f, void *r)
{
    (void)f;
    return mt_region_set_nonvolatile(r, !mt_region_nonvolatile(r));
}
static int do_set_romd(fixture *f, void *r)
{
    (void)f;
    return mt_region_set_romd(r, !mt_region_romd(r));
}
static int do_set_alias_offset(fixture *f, void *r)
{
    (void)f;
    return mt_region_set_alias_offset(r, mt_region_alias_offset(r) + 0x10);
}
static int do_set_address(fixture *f, void *r)
{
    (void)f;
    return mt_region_set_address(r, mt_region_addr(r) + 0x1000);
}
static int do_dirty_on(fixture *f, void *r)
{
    (void)f;
    return mt_region_set_dirty_log(r, true);
}
static int do_dirty_off(fixture *f, void *r)
{
    (void)f;
    return mt_region_set_dirty_log(r, false);
}

typedef struct add_args {
    mt_region *parent;
    mt_region *sub;
} add_args;
static int do_add(fixture *f, void *arg)
{
    (void)f;
    add_args *a = arg;
    return mt_region_add_subregion(a->parent, 0x100, a->sub);
}
static int do_del(fixture *f, void *arg)
{
    (void)f;
    add_args *a = arg;
    return mt_region_del_subregion(a->parent, a->sub);
}

/*
 * Item 17: set_enabled and set_size re-render even for regions that are
 * not mapped anywhere (or hidden under a disabled container); attribute
 * setters (readonly, nonvolatile, romd, alias offset, dirty log) only when
 * the region itself is enabled, whether or not it is visible.
 */
static void test_item17_pending_rules_for_unmapped_and_disabled(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f);
    mt_region *lone = t_io(f.ctx, "lone", 0x100);        /* unmapped */
    mt_region *lram = t_ram(f.ctx, "lone-ram", 0x1000);  /* unmapped */
    mt_region *lrd = t_romd(f.ctx, "lone-romd", 0x1000); /* unmapped */
    mt_region *lal = t_alias(f.ctx, "lone-alias", f.ram, 0, 0x100);
    mt_region *off = t_io(f.ctx, "off", 0x100);          /* disabled */
    mt_region *offram = t_ram(f.ctx, "off-ram", 0x1000);
    mt_region *offrd = t_romd(f.ctx, "off-romd", 0x1000);
    mt_region *offal = t_alias(f.ctx, "off-alias", f.ram, 0, 0x100);
    mt_region *offs[] = { off, offram, offrd, offal };
    for (size_t i = 0; i < 4; i++)
        MT_OK(mt_region_set_enabled(offs[i], false));

    /* set_enabled / set_size: always pending. */
    assert_true(rerendered(&f, do_set_enabled, lone));
    assert_true(rerendered(&f, do_set_enabled, lone));
    assert_true(rerendered(&f, do_set_size, lone));
    assert_true(rerendered(&f, do_set_size, off));
    assert_true(rerendered(&f, do_set_enabled, off));
    assert_true(rerendered(&f, do_set_enabled, off));
    CHECK_AS(f.as, { 0, 0xfff, f.ram, 0, 0 }, { 0x10000, 0x100ff, f.dev, 0, 0 });

    /* Unchanged values: no-ops. */
    assert_false(rerendered(&f, do_set_enabled_same, lone));
    assert_false(rerendered(&f, do_set_size_same, lone));
    assert_false(rerendered(&f, do_set_readonly_same, lone));
    assert_false(rerendered(&f, do_set_readonly_same, f.ram));

    /* Attribute setters on enabled (though unmapped) regions: pending. */
    assert_true(rerendered(&f, do_set_readonly, lone));
    assert_true(rerendered(&f, do_set_nonvolatile, lone));
    assert_true(rerendered(&f, do_set_romd, lrd));
    assert_true(rerendered(&f, do_set_alias_offset, lal));
    assert_true(rerendered(&f, do_dirty_on, lram));
    assert_true(rerendered(&f, do_dirty_off, lram));

    /* The same setters on disabled regions: nothing. */
    assert_false(rerendered(&f, do_set_readonly, off));
    assert_false(rerendered(&f, do_set_nonvolatile, off));
    assert_false(rerendered(&f, do_set_romd, offrd));
    assert_false(rerendered(&f, do_set_alias_offset, offal));
    assert_false(rerendered(&f, do_dirty_on, offram));
    assert_false(rerendered(&f, do_dirty_off, offram));
    /* ... even though they took effect. */
    assert_true(mt_region_readonly(off));
    assert_false(mt_region_romd(offrd));
    assert_int_equal(mt_region_alias_offset(offal), 0x10);

    /* A dirty-log count change that does not flip the state: nothing. */
    assert_true(rerendered(&f, do_dirty_on, f.ram));
    assert_false(rerendered(&f, do_dirty_on, f.ram));
    assert_false(rerendered(&f, do_dirty_off, f.ram));
    assert_true(rerendered(&f, do_dirty_off, f.ram));

    /* Moving an unmapped region only stores its address. */
    assert_false(rerendered(&f, do_set_address, lone));
    assert_int_equal(mt_region_addr(lone), 0x1000);

    /* Mapping into / unmapping from a disabled container, or mapping a
     * disabled region: not pending (both must be enabled). */
    mt_region *dc = t_container(f.ctx, "dc", 0x10000);
    MT_OK(mt_region_set_enabled(dc, false));
    add_args a1 = { dc, lone };
    assert_false(rerendered(&f, do_add, &a1));
    assert_false(rerendered(&f, do_set_address, lone)); /* re-add in dc */
    assert_false(rerendered(&f, do_del, &a1));
    add_args a2 = { f.sys, off };
    assert_false(rerendered(&f, do_add, &a2));
    assert_false(rerendered(&f, do_del, &a2));
    /* Enabled into enabled, even an unmapped container: pending. */
    mt_region *uc = t_container(f.ctx, "uc", 0x10000);
    add_args a3 = { uc, lone };
    assert_true(rerendered(&f, do_add, &a3));
    assert_true(rerendered(&f, do_del, &a3));

    CHECK_AS(f.as, { 0, 0xfff, f.ram, 0, 0 }, { 0x10000, 0x100ff, f.dev, 0, 0 });
    mt_ctx_free(f.ctx);
}

/* Item 17 inside a transaction: a pending change made by an unmapped
 * region is carried to the outermost commit. */
static void test_item17_pending_carried_to_outermost_commit(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f);
    mt_region *lone = t_io(f.ctx, "lone", 0x100);
    mt_listener_ops ops = { .begin = count_begin };
    unsigned begins = 0;
    mt_listener *l;

    MT_OK(mt_listener_register(f.as, &ops, &begins, &l));
    begins = 0;
    mt_begin(f.ctx);
    MT_OK(mt_region_set_enabled(lone, false));
    assert_int_equal(begins, 0);
    MT_OK(mt_commit(f.ctx));
    assert_int_equal(begins, 1);
    mt_listener_unregister(l);
    mt_ctx_free(f.ctx);
}

/*
 * Items 16 and 17 seen by a listener (memtree.h: at the outermost commit
 * that changed anything, @begin, then removals/additions and @region_nop
 * for every unchanged range, then @commit). A re-render whose result is
 * identical is a begin, one nop per range, and a commit.
 */
typedef struct counts {
    unsigned begin, commit, add, del, nop;
} counts;

static void l_begin(void *o) { ((counts *)o)->begin++; }
static void l_commit(void *o) { ((counts *)o)->commit++; }
static void l_add(void *o, const mt_flat_range *r)
{
    (void)r;
    ((counts *)o)->add++;
}
static void l_del(void *o, const mt_flat_range *r)
{
    (void)r;
    ((counts *)o)->del++;
}
static void l_nop(void *o, const mt_flat_range *r)
{
    (void)r;
    ((counts *)o)->nop++;
}

static void test_item16_17_observed_by_listener(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f);
    mt_region *lone = t_io(f.ctx, "lone", 0x100);
    mt_region *off = t_io(f.ctx, "off", 0x100);
    MT_OK(mt_region_set_enabled(off, false));
    counts c = { 0 };
    mt_listener_ops ops = { 0 };
    ops.begin = l_begin;
    ops.commit = l_commit;
    ops.region_add = l_add;
    ops.region_del = l_del;
    ops.region_nop = l_nop;
    mt_listener *l = NULL;
    MT_OK(mt_listener_register(f.as, &ops, &c, &l));
    assert_non_null(l);
    /* the replay of the current view */
    assert_int_equal(c.begin, 1);
    assert_int_equal(c.add, 2);
    assert_int_equal(c.commit, 1);
    c = (counts){ 0 };

    /* Item 17: an unmapped region's set_enabled re-renders: begin, a nop
     * for each of the two unchanged ranges, commit. */
    MT_OK(mt_region_set_enabled(lone, false));
    assert_int_equal(c.begin, 1);
    assert_int_equal(c.nop, 2);
    assert_int_equal(c.add + c.del, 0);
    assert_int_equal(c.commit, 1);
    c = (counts){ 0 };

    /* An attribute of a disabled region: nothing at all. */
    MT_OK(mt_region_set_readonly(off, true));
    assert_int_equal(c.begin + c.nop + c.add + c.del + c.commit, 0);

    /* Item 16: three changes in nested transactions, one commit pass. */
    mt_begin(f.ctx);
    MT_OK(mt_region_set_enabled(f.dev, false));
    mt_begin(f.ctx);
    MT_OK(mt_region_set_address(f.ram, 0x4000));
    MT_OK(mt_region_set_size(lone, 0x200));
    MT_OK(mt_commit(f.ctx));
    assert_int_equal(c.begin + c.nop + c.add + c.del + c.commit, 0);
    MT_OK(mt_commit(f.ctx));
    assert_int_equal(c.begin, 1);
    assert_int_equal(c.del, 2); /* ram at 0, dev */
    assert_int_equal(c.add, 1); /* ram at 0x4000 */
    assert_int_equal(c.nop, 0);
    assert_int_equal(c.commit, 1);

    mt_listener_unregister(l);
    mt_ctx_free(f.ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_item16_render_only_at_outermost_commit),
        cmocka_unit_test(test_item16_all_spaces_update_at_outermost_commit),
        cmocka_unit_test(test_item16_empty_transaction_keeps_view),
        cmocka_unit_test(test_item17_pending_rules_for_unmapped_and_disabled),
        cmocka_unit_test(test_item17_pending_carried_to_outermost_commit),
        cmocka_unit_test(test_item16_17_observed_by_listener),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
