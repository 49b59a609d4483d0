/* SPDX-License-Identifier: MIT */
/*
 * test_flatview_share.c: flat view sharing between address spaces,
 * checklist items 14 and 15 of the QEMU reference §10. Public API only.
 *
 * QEMU reduces each address-space root to a "physical root" (while enabled:
 * follow an alias with offset 0 that is at least as large as its target;
 * follow a non-terminating region to its single enabled child when that
 * child sits at address 0 and fits; a container with no enabled child, or a
 * disabled region, gives no root at all) and renders one view per distinct
 * physical root. memtree exposes this as pointer equality of the views
 * returned by mt_as_flatview() and as mt_flatview_root().
 */
#include "mt_testutil.h"

static bool same_view(mt_as *a, mt_as *b)
{
    mt_flatview *fa = mt_as_flatview(a);
    mt_flatview *fb = mt_as_flatview(b);
    assert_non_null(fa);
    assert_non_null(fb);
    bool same = fa == fb;
    mt_flatview_unref(fa);
    mt_flatview_unref(fb);
    return same;
}

static mt_region *view_root(mt_as *as)
{
    mt_flatview *fv = mt_as_flatview(as);
    assert_non_null(fv);
    mt_region *root = mt_flatview_root(fv);
    mt_flatview_unref(fv);
    return root;
}

/*
 * Item 14: address spaces whose roots reduce (through offset-0 covering
 * aliases, or a single covering child at address 0) to the same region
 * share one flat view object.
 */
static void test_item14_reducible_roots_share_one_view(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_container(ctx, "sys", MT_SIZE_FULL);
    mt_region *ram = t_ram(ctx, "ram", 0x1000);
    mt_region *dev = t_io(ctx, "dev", 0x100);
    t_map(sys, 0, ram);
    t_map(sys, 0x10000, dev);

    mt_as *mem = t_as(ctx, sys, "memory");
    assert_ptr_equal(view_root(mem), sys);

    /* An offset-0 alias as large as its target. */
    mt_as *cpu = t_as(ctx, t_alias(ctx, "cpu-alias", sys, 0, MT_SIZE_FULL),
                      "cpu-memory-0");
    assert_true(same_view(mem, cpu));

    /* A container whose single enabled child sits at 0 and fits. */
    mt_region *wrap = t_container(ctx, "wrap", MT_SIZE_FULL);
    mt_region *off = t_io(ctx, "off", 0x10);
    t_map(wrap, 0, sys);
    t_map(wrap, 0x100000, off);
    MT_OK(mt_region_set_enabled(off, false)); /* disabled: not counted */
    mt_as *wr = t_as(ctx, wrap, "wrapped");
    assert_true(same_view(mem, wr));
    assert_ptr_equal(view_root(wr), sys);

    /* An alias larger than its target also reduces. */
    mt_region *small = t_container(ctx, "small", 0x10000);
    t_map(small, 0, t_io(ctx, "s1", 0x10));
    t_map(small, 0x20, t_io(ctx, "s2", 0x10));
    mt_as *sm = t_as(ctx, small, "small");
    mt_as *cov = t_as(ctx, t_alias(ctx, "cover", small, 0, 0x20000),
                      "cover");
    assert_true(same_view(sm, cov));
    assert_ptr_equal(view_root(cov), small);
    assert_false(same_view(sm, mem));

    /* Not reducible: offset != 0, alias smaller than its target, child not
     * at 0, child larger than its container. */
    mt_region *shifted = t_alias(ctx, "shifted", sys, 0x10, 0x1000);
    mt_as *a1 = t_as(ctx, shifted, "a1");
    assert_false(same_view(a1, mem));
    assert_ptr_equal(view_root(a1), shifted);
    CHECK_AS(a1, { 0, 0xfef, ram, 0x10, 0 });

    mt_region *part = t_alias(ctx, "part", sys, 0, 0x1000);
    mt_as *a2 = t_as(ctx, part, "a2");
    assert_false(same_view(a2, mem));
    assert_ptr_equal(view_root(a2), part);

    mt_region *box = t_container(ctx, "box", MT_SIZE_FULL);
    mt_region *inner = t_container(ctx, "inner", 0x2000);
    t_map(inner, 0, t_io(ctx, "i1", 0x10));
    t_map(inner, 0x10, t_io(ctx, "i2", 0x10));
    t_map(box, 0x1000, inner);
    mt_as *a3 = t_as(ctx, box, "a3");
    mt_as *a4 = t_as(ctx, inner, "a4");
    assert_false(same_view(a3, a4));
    assert_ptr_equal(view_root(a3), box);

    mt_region *tight = t_container(ctx, "tight", 0x10);
    mt_region *wide = t_container(ctx, "wide", 0x100);
    t_map(wide, 0, t_io(ctx, "w1", 0x10));
    t_map(wide, 0x20, t_io(ctx, "w2", 0x10));
    t_map(tight, 0, wide);
    mt_as *a5 = t_as(ctx, tight, "a5");
    mt_as *a6 = t_as(ctx, wide, "a6");
    assert_false(same_view(a5, a6));
    assert_ptr_equal(view_root(a5), tight);

    /* Sharing survives re-rendering. */
    MT_OK(mt_region_set_enabled(dev, false));
    assert_true(same_view(mem, cpu));
    assert_true(same_view(mem, wr));
    CHECK_AS(cpu, { 0, 0xfff, ram, 0, 0 });
    mt_ctx_free(ctx);
}

/*
 * Item 14 (consequence): the flags of skipped aliases and containers are
 * dropped, because the shared view is rendered from the physical root.
 * A read-only covering alias root therefore gives a writable view, and a
 * physical root mapped elsewhere renders at its own address.
 */
static void test_item14_skipped_root_flags_are_dropped(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_container(ctx, "sys", MT_SIZE_FULL);
    mt_region *ram = t_ram(ctx, "ram", 0x1000);
    mt_region *dev = t_io(ctx, "dev", 0x100);
    t_map(sys, 0, ram);
    t_map(sys, 0x10000, dev);
    mt_region *ro = t_alias(ctx, "ro", sys, 0, MT_SIZE_FULL);
    MT_OK(mt_region_set_readonly(ro, true));
    mt_as *mem = t_as(ctx, sys, "memory");
    mt_as *ras = t_as(ctx, ro, "ro-space");
    assert_true(same_view(mem, ras));
    CHECK_AS(ras, { 0, 0xfff, ram, 0, 0 }, { 0x10000, 0x100ff, dev, 0, 0 });

    /* A container root with one child at 0: the child is the physical
     * root; the container's read-only flag is dropped too. */
    mt_region *roc = t_container(ctx, "roc", MT_SIZE_FULL);
    MT_OK(mt_region_set_readonly(roc, true));
    mt_region *blk = t_container(ctx, "blk", 0x10000);
    t_map(blk, 0, t_io(ctx, "b1", 0x10));
    t_map(blk, 0x100, t_io(ctx, "b2", 0x10));
    t_map(roc, 0, blk);
    mt_as *ras2 = t_as(ctx, roc, "roc-space");
    assert_ptr_equal(view_root(ras2), blk);
    mt_flatview *fv = mt_as_flatview(ras2);
    assert_int_equal(mt_flatview_nr_ranges(fv), 2);
    assert_false(mt_flatview_range(fv, 0)->readonly);
    mt_flatview_unref(fv);

    /* Physical root mapped at 0x5000 elsewhere, reached through an
     * offset-0 alias: rendered at its own address. */
    mt_region *elsewhere = t_container(ctx, "elsewhere", MT_SIZE_FULL);
    mt_region *target = t_container(ctx, "target", 0x1000);
    mt_region *leaf = t_io(ctx, "leaf", 0x10);
    t_map(target, 0x10, leaf);
    t_map(target, 0x40, t_io(ctx, "leaf2", 0x10));
    t_map(elsewhere, 0x5000, target);
    mt_as *shifted = t_as(ctx, t_alias(ctx, "via", target, 0, 0x1000),
                          "shifted");
    assert_ptr_equal(view_root(shifted), target);
    fv = mt_as_flatview(shifted);
    assert_int_equal(mt_flatview_nr_ranges(fv), 2);
    assert_int_equal(mt_flatview_range(fv, 0)->start, 0x5010);
    assert_ptr_equal(mt_flatview_range(fv, 0)->region, leaf);
    mt_flatview_unref(fv);
    mt_ctx_free(ctx);
}

/* Item 14 as printed by `info mtree -f`: one block per shared view, one
 * AS line per address space in creation order, ", alias X" for alias
 * roots. */
static void test_item14_shared_view_printed_once(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_container(ctx, "sys", MT_SIZE_FULL);
    t_map(sys, 0, t_ram(ctx, "ram", 0x1000));
    t_map(sys, 0x10000, t_io(ctx, "dev", 0x100));
    (void)t_as(ctx, sys, "memory");
    (void)t_as(ctx, t_io(ctx, "io", 0x10000), "io-space");
    (void)t_as(ctx, t_alias(ctx, "cpu-alias", sys, 0, MT_SIZE_FULL),
               "cpu-memory-0");
    CHECK_MTREE(ctx, MT_MTREE_FLAT,
                "FlatView #0\n"
                " AS \"memory\", root: sys\n"
                " AS \"cpu-memory-0\", root: cpu-alias, alias sys\n"
                " Root memory region: sys\n"
                "  0000000000000000-0000000000000fff (prio 0, ram): ram\n"
                "  0000000000010000-00000000000100ff (prio 0, i/o): dev\n"
                "\n"
                "FlatView #1\n"
                " AS \"io-space\", root: io\n"
                " Root memory region: io\n"
                "  0000000000000000-000000000000ffff (prio 0, i/o): io\n"
                "\n");
    mt_ctx_free(ctx);
}

/*
 * Item 15: a disabled root, a childless container root and a container
 * whose children are all disabled give the empty view (no physical root,
 * `Root memory region: (none)`); all such address spaces share it. A view
 * with a root but no range prints the root's name and "No rendered
 * FlatView".
 */
static void test_item15_disabled_or_childless_root_gives_empty_view(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *dis = t_io(ctx, "dis", 0x1000);
    MT_OK(mt_region_set_enabled(dis, false));
    mt_region *none = t_container(ctx, "none", MT_SIZE_FULL);
    mt_region *allgone = t_container(ctx, "allgone", MT_SIZE_FULL);
    mt_region *gone = t_io(ctx, "gone", 0x10);
    t_map(allgone, 0x100, gone);
    MT_OK(mt_region_set_enabled(gone, false));
    mt_region *via = t_alias(ctx, "via", dis, 0, 0x1000);

    mt_as *a = t_as(ctx, dis, "a");
    mt_as *b = t_as(ctx, none, "b");
    mt_as *c = t_as(ctx, allgone, "c");
    mt_as *d = t_as(ctx, via, "d");
    mt_as *all[] = { a, b, c, d };
    for (size_t i = 0; i < 4; i++) {
        mt_flatview *fv = mt_as_flatview(all[i]);
        assert_non_null(fv);
        assert_null(mt_flatview_root(fv));
        assert_int_equal(mt_flatview_nr_ranges(fv), 0);
        assert_null(mt_flatview_range(fv, 0));
        mt_flatview_unref(fv);
        assert_true(same_view(a, all[i]));
    }

    /* A zero-sized terminating root: a physical root, but no range. */
    (void)t_as(ctx, t_io(ctx, "zero", 0), "e");

    CHECK_MTREE(ctx, MT_MTREE_FLAT,
                "FlatView #0\n"
                " AS \"a\", root: dis\n"
                " AS \"b\", root: none\n"
                " AS \"c\", root: allgone\n"
                " AS \"d\", root: via, alias dis\n"
                " Root memory region: (none)\n"
                "  No rendered FlatView\n"
                "\n"
                "FlatView #1\n"
                " AS \"e\", root: zero\n"
                " Root memory region: zero\n"
                "  No rendered FlatView\n"
                "\n");

    /* Enabling the child of c gives c its own view again. */
    MT_OK(mt_region_set_enabled(gone, true));
    assert_false(same_view(a, c));
    assert_true(same_view(a, b));
    CHECK_AS(c, { 0x100, 0x10f, gone, 0, 0 });
    mt_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_item14_reducible_roots_share_one_view),
        cmocka_unit_test(test_item14_skipped_root_flags_are_dropped),
        cmocka_unit_test(test_item14_shared_view_printed_once),
        cmocka_unit_test(test_item15_disabled_or_childless_root_gives_empty_view),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
