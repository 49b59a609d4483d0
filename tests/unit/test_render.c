/* SPDX-License-Identifier: MIT */
/*
 * test_render.c: rendering of flat views, checklist items 2-13 of the QEMU
 * reference §10 (priorities, ties, disabled subtrees, holes, aliases,
 * attribute propagation, merging). Public API only.
 */
#include "mt_testutil.h"

/*
 * Item 2: a higher-priority sibling wins; priorities are only compared
 * among siblings of one container (a priority -100 region inside a
 * priority-2 container beats a priority-100 region inside a priority-1
 * container).
 */
static void test_item02_higher_priority_wins_within_container(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_container(ctx, "sys", MT_SIZE_FULL);
    mt_region *hi = t_io(ctx, "hi", 0x800);
    mt_region *lo = t_io(ctx, "lo", 0x1000);
    t_map_prio(sys, 0x400, hi, 2);
    t_map_prio(sys, 0, lo, 1); /* added later, lower priority: loses */

    mt_region *c1 = t_container(ctx, "c1", 0x1000);
    mt_region *c2 = t_container(ctx, "c2", 0x1000);
    mt_region *x = t_io(ctx, "x", 0x1000);
    mt_region *y = t_io(ctx, "y", 0x800);
    t_map_prio(c1, 0, x, 100);
    t_map_prio(c2, 0x800, y, -100);
    t_map_prio(sys, 0x10000, c2, 2);
    t_map_prio(sys, 0x10000, c1, 1);

    mt_as *as = t_as(ctx, sys, "as");
    CHECK_AS(as,
             { 0x0, 0x3ff, lo, 0, 0 },
             { 0x400, 0xbff, hi, 0, 0 },
             { 0xc00, 0xfff, lo, 0xc00, 0 },
             { 0x10000, 0x107ff, x, 0, 0 },
             { 0x10800, 0x10fff, y, 0, 0 });

    /* Swap the containers' priorities: now c1 covers everything. */
    MT_OK(mt_region_del_subregion(sys, c1));
    t_map_prio(sys, 0x10000, c1, 3);
    CHECK_AS(as,
             { 0x0, 0x3ff, lo, 0, 0 },
             { 0x400, 0xbff, hi, 0, 0 },
             { 0xc00, 0xfff, lo, 0xc00, 0 },
             { 0x10000, 0x10fff, x, 0, 0 });
    mt_ctx_free(ctx);
}

/* Item 3: equal-priority overlap: the most recently added sibling wins. */
static void test_item03_equal_priority_later_wins(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_container(ctx, "sys", MT_SIZE_FULL);
    mt_region *a = t_io(ctx, "a", 0x1000);
    mt_region *b = t_io(ctx, "b", 0x1000);
    mt_region *c = t_io(ctx, "c", 0x100);
    t_map(sys, 0, a);
    t_map(sys, 0x800, b);
    mt_as *as = t_as(ctx, sys, "as");
    CHECK_AS(as, { 0, 0x7ff, a, 0, 0 }, { 0x800, 0x17ff, b, 0, 0 });

    t_map(sys, 0x700, c);
    CHECK_AS(as,
             { 0, 0x6ff, a, 0, 0 },
             { 0x700, 0x7ff, c, 0, 0 },
             { 0x800, 0x17ff, b, 0, 0 });

    /* The same among equal non-zero priorities. */
    mt_region *p1 = t_io(ctx, "p1", 0x100);
    mt_region *p2 = t_io(ctx, "p2", 0x100);
    t_map_prio(sys, 0x10000, p1, 5);
    t_map_prio(sys, 0x10080, p2, 5);
    CHECK_AS(as,
             { 0, 0x6ff, a, 0, 0 },
             { 0x700, 0x7ff, c, 0, 0 },
             { 0x800, 0x17ff, b, 0, 0 },
             { 0x10000, 0x1007f, p1, 0, 0 },
             { 0x10080, 0x1017f, p2, 0, 0 });

    /* Re-adding a after the others makes it win everywhere it overlaps. */
    MT_OK(mt_region_del_subregion(sys, a));
    t_map(sys, 0, a);
    CHECK_AS(as,
             { 0, 0xfff, a, 0, 0 },
             { 0x1000, 0x17ff, b, 0x800, 0 },
             { 0x10000, 0x1007f, p1, 0, 0 },
             { 0x10080, 0x1017f, p2, 0, 0 });
    mt_ctx_free(ctx);
}

/*
 * Item 4: mt_region_set_address on a mapped region re-inserts it, so it
 * then wins equal-priority ties; setting the address it already has is a
 * no-op and does not re-insert.
 */
static void test_item04_set_address_reinserts_and_wins_ties(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_container(ctx, "sys", MT_SIZE_FULL);
    mt_region *a = t_io(ctx, "a", 0x100);
    mt_region *b = t_io(ctx, "b", 0x200);
    t_map(sys, 0x100, a);
    t_map(sys, 0, b);
    mt_as *as = t_as(ctx, sys, "as");
    CHECK_AS(as, { 0, 0x1ff, b, 0, 0 });

    MT_OK(mt_region_set_address(a, 0x80));
    CHECK_AS(as,
             { 0, 0x7f, b, 0, 0 },
             { 0x80, 0x17f, a, 0, 0 },
             { 0x180, 0x1ff, b, 0x180, 0 });
    assert_ptr_equal(mt_region_subregion(sys, 0), a);

    /* Unchanged address: nothing moves, a still wins. */
    MT_OK(mt_region_set_address(b, 0));
    assert_ptr_equal(mt_region_subregion(sys, 0), a);
    CHECK_AS(as,
             { 0, 0x7f, b, 0, 0 },
             { 0x80, 0x17f, a, 0, 0 },
             { 0x180, 0x1ff, b, 0x180, 0 });

    /* A real move re-inserts b, which now covers a entirely. */
    MT_OK(mt_region_set_address(b, 0x10));
    assert_ptr_equal(mt_region_subregion(sys, 0), b);
    CHECK_AS(as, { 0x10, 0x20f, b, 0, 0 });
    mt_ctx_free(ctx);
}

/*
 * Item 6: a disabled region hides its entire subtree when rendering, yet
 * `info mtree` still prints its enabled children (one level deeper, as if
 * the disabled line were there); `-D` prints the line with " [disabled]".
 */
static void test_item06_disabled_hides_subtree_but_prints_children(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_container(ctx, "sys", MT_SIZE_FULL);
    mt_region *c = t_container(ctx, "c", 0x1000);
    mt_region *kid = t_io(ctx, "kid", 0x100);
    mt_region *bg = t_io(ctx, "bg", 0x1000);
    t_map(c, 0x100, kid);
    t_map(sys, 0x1000, c);
    t_map_prio(sys, 0x1000, bg, -1);
    mt_as *as = t_as(ctx, sys, "as");
    CHECK_AS(as,
             { 0x1000, 0x10ff, bg, 0, 0 },
             { 0x1100, 0x11ff, kid, 0, 0 },
             { 0x1200, 0x1fff, bg, 0x200, 0 });

    MT_OK(mt_region_set_enabled(c, false));
    assert_true(mt_region_enabled(kid));
    CHECK_AS(as, { 0x1000, 0x1fff, bg, 0, 0 });

    CHECK_MTREE(ctx, 0,
                "address-space: as\n"
                "  0000000000000000-ffffffffffffffff (prio 0, i/o): sys\n"
                "      0000000000001100-00000000000011ff (prio 0, i/o): kid\n"
                "    0000000000001000-0000000000001fff (prio -1, i/o): bg\n"
                "\n");
    CHECK_MTREE(ctx, MT_MTREE_DISABLED,
                "address-space: as\n"
                "  0000000000000000-ffffffffffffffff (prio 0, i/o): sys\n"
                "    0000000000001000-0000000000001fff (prio 0, i/o): c [disabled]\n"
                "      0000000000001100-00000000000011ff (prio 0, i/o): kid\n"
                "    0000000000001000-0000000000001fff (prio -1, i/o): bg\n"
                "\n");

    /* A disabled leaf disappears; re-enabling brings everything back. */
    MT_OK(mt_region_set_enabled(bg, false));
    CHECK_AS_EMPTY(as);
    MT_OK(mt_region_set_enabled(c, true));
    CHECK_AS(as, { 0x1100, 0x11ff, kid, 0, 0 });
    MT_OK(mt_region_set_enabled(bg, true));
    CHECK_AS(as,
             { 0x1000, 0x10ff, bg, 0, 0 },
             { 0x1100, 0x11ff, kid, 0, 0 },
             { 0x1200, 0x1fff, bg, 0x200, 0 });
    mt_ctx_free(ctx);
}

/*
 * Item 7: a disabled alias still queues its target for a `memory-region:`
 * block, also without -D where the alias line itself is hidden.
 */
static void test_item07_disabled_alias_queues_target(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_container(ctx, "sys", MT_SIZE_FULL);
    mt_region *tgt = t_ram(ctx, "tgt", 0x1000);
    mt_region *al = t_alias(ctx, "al", tgt, 0, 0x1000);
    t_map(sys, 0x2000, al);
    MT_OK(mt_region_set_enabled(al, false));
    mt_as *as = t_as(ctx, sys, "as");
    CHECK_AS_EMPTY(as);
    CHECK_MTREE(ctx, 0,
                "address-space: as\n"
                "  0000000000000000-ffffffffffffffff (prio 0, i/o): sys\n"
                "\n"
                "memory-region: tgt\n"
                "  0000000000000000-0000000000000fff (prio 0, ram): tgt\n"
                "\n");
    CHECK_MTREE(ctx, MT_MTREE_DISABLED,
                "address-space: as\n"
                "  0000000000000000-ffffffffffffffff (prio 0, i/o): sys\n"
                "    0000000000002000-0000000000002fff (prio 0, ram): "
                "alias al @tgt 0000000000000000-0000000000000fff [disabled]\n"
                "\n"
                "memory-region: tgt\n"
                "  0000000000000000-0000000000000fff (prio 0, ram): tgt\n"
                "\n");
    mt_ctx_free(ctx);
}

/*
 * Item 8: holes in a higher-priority container expose lower-priority
 * siblings; a terminating region (I/O) lies below its own children, whatever
 * their priority, and fills only what they leave.
 */
static void test_item08_holes_expose_lower_and_terminator_below_children(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_container(ctx, "sys", MT_SIZE_FULL);
    mt_region *bg = t_io(ctx, "bg", 0x1000);
    mt_region *c = t_container(ctx, "c", 0x1000);
    mt_region *dev = t_io(ctx, "dev", 0x100);
    t_map(sys, 0, bg);
    t_map(c, 0x100, dev);
    t_map_prio(sys, 0, c, 1);

    mt_region *pio = t_io(ctx, "pio", 0x100);
    mt_region *kid = t_io(ctx, "kid", 0x10);
    mt_region *empty = t_container(ctx, "empty", 0x20);
    t_map_prio(pio, 0x10, kid, -5);
    t_map_prio(pio, 0x40, empty, 7);
    t_map(sys, 0x10000, pio);

    mt_as *as = t_as(ctx, sys, "as");
    CHECK_AS(as,
             { 0x0, 0xff, bg, 0, 0 },
             { 0x100, 0x1ff, dev, 0, 0 },
             { 0x200, 0xfff, bg, 0x200, 0 },
             { 0x10000, 0x1000f, pio, 0, 0 },
             { 0x10010, 0x1001f, kid, 0, 0 },
             { 0x10020, 0x100ff, pio, 0x20, 0 });

    /* An I/O region as the root of an address space, with children. The
     * root is mapped at 0x10000 in sys, and QEMU adds the (physical) root's
     * own address when rendering, so this view is shifted too. */
    mt_as *as2 = t_as(ctx, pio, "pio-space");
    CHECK_AS(as2,
             { 0x10000, 0x1000f, pio, 0, 0 },
             { 0x10010, 0x1001f, kid, 0, 0 },
             { 0x10020, 0x100ff, pio, 0x20, 0 });
    mt_ctx_free(ctx);
}

/*
 * Item 9: alias rendering ignores the target's own address and applies
 * alias_offset; the target's enabled flag still matters.
 */
static void test_item09_alias_ignores_target_addr_uses_offset(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_container(ctx, "sys", MT_SIZE_FULL);
    mt_region *t = t_io(ctx, "t", 0x1000);
    MT_OK(mt_region_set_address(t, 0x5000)); /* unmapped: just stored */
    mt_region *al = t_alias(ctx, "al", t, 0x200, 0x100);
    t_map(sys, 0x8000, al);
    mt_as *as = t_as(ctx, sys, "as");
    CHECK_AS(as, { 0x8000, 0x80ff, t, 0x200, 0 });

    /* Mapping the target elsewhere (not in sys) changes nothing here. */
    mt_region *other = t_container(ctx, "other", MT_SIZE_FULL);
    t_map(other, 0x7000, t);
    CHECK_AS(as, { 0x8000, 0x80ff, t, 0x200, 0 });

    /* Changing the offset moves the window. */
    MT_OK(mt_region_set_alias_offset(al, 0x10));
    CHECK_AS(as, { 0x8000, 0x80ff, t, 0x10, 0 });

    /* A target with its own address and children. */
    mt_region *t2 = t_container(ctx, "t2", 0x1000);
    mt_region *leaf = t_io(ctx, "leaf", 0x20);
    t_map(t2, 0x10, leaf);
    MT_OK(mt_region_set_address(t2, 0x3000));
    mt_region *al2 = t_alias(ctx, "al2", t2, 0, 0x100);
    t_map(sys, 0x9000, al2);
    CHECK_AS(as,
             { 0x8000, 0x80ff, t, 0x10, 0 },
             { 0x9010, 0x902f, leaf, 0, 0 });

    /* The target's own enabled flag applies through the alias. */
    MT_OK(mt_region_set_enabled(t, false));
    CHECK_AS(as, { 0x9010, 0x902f, leaf, 0, 0 });
    MT_OK(mt_region_set_enabled(t, true));
    MT_OK(mt_region_set_enabled(al, false));
    CHECK_AS(as, { 0x9010, 0x902f, leaf, 0, 0 });
    mt_ctx_free(ctx);
}

/*
 * Item 10: only the part of the target within [alias_offset,
 * alias_offset + alias size) is visible, and nothing beyond the target.
 */
static void test_item10_alias_clips_to_window(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_container(ctx, "sys", MT_SIZE_FULL);
    mt_region *t = t_container(ctx, "t", 0x1000);
    mt_region *k = t_io(ctx, "k", 0x1000);
    mt_region *j = t_io(ctx, "j", 0x10);
    t_map(t, 0, k);
    t_map_prio(t, 0x2f8, j, 1); /* straddles the window's end */
    mt_region *al = t_alias(ctx, "al", t, 0x100, 0x200);
    t_map(sys, 0x10000, al);

    mt_region *s = t_io(ctx, "s", 0x100);
    mt_region *big = t_alias(ctx, "big", s, 0x80, 0x1000); /* > target */
    t_map(sys, 0x20000, big);
    mt_region *past = t_alias(ctx, "past", s, 0x200, 0x100); /* beyond */
    t_map(sys, 0x30000, past);

    mt_as *as = t_as(ctx, sys, "as");
    CHECK_AS(as,
             { 0x10000, 0x101f7, k, 0x100, 0 },
             { 0x101f8, 0x101ff, j, 0, 0 },
             { 0x20000, 0x2007f, s, 0x80, 0 });

    /* The window follows the alias size. */
    MT_OK(mt_region_set_size(al, 0x1f8));
    CHECK_AS(as,
             { 0x10000, 0x101f7, k, 0x100, 0 },
             { 0x20000, 0x2007f, s, 0x80, 0 });
    mt_ctx_free(ctx);
}

/*
 * Item 11: read-only and non-volatile propagate (OR) from containers and
 * aliases down to the leaf's flat ranges; ROMD mode and the dirty-log state
 * come from the leaf alone.
 */
static void test_item11_attributes_propagate_romd_dirty_from_leaf(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_container(ctx, "sys", MT_SIZE_FULL);
    mt_region *roc = t_container(ctx, "roc", 0x10000);
    mt_region *r1 = t_ram(ctx, "r1", 0x1000);
    mt_region *r2 = t_ram(ctx, "r2", 0x1000);
    mt_region *nva = t_alias(ctx, "nva", r2, 0, 0x1000);
    mt_region *rd2 = t_romd(ctx, "rd2", 0x1000);
    mt_region *rd = t_romd(ctx, "rd", 0x1000);
    mt_region *r3 = t_ram(ctx, "r3", 0x1000);
    mt_region *al3 = t_alias(ctx, "al3", r3, 0, 0x1000);
    MT_OK(mt_region_set_readonly(roc, true));
    MT_OK(mt_region_set_nonvolatile(nva, true));
    MT_OK(mt_region_set_romd(rd, false));
    MT_OK(mt_region_set_dirty_log(r3, true));
    t_map(roc, 0, r1);
    t_map(roc, 0x4000, nva);
    t_map(roc, 0x8000, rd2);
    t_map(sys, 0, roc);
    t_map(sys, 0x30000, rd);
    t_map(sys, 0x50000, r3);
    t_map(sys, 0x60000, al3);

    mt_as *as = t_as(ctx, sys, "as");
    CHECK_AS(as,
             { 0x0, 0xfff, r1, 0, XF_RO },
             { 0x4000, 0x4fff, r2, 0, XF_RO | XF_NV },
             { 0x8000, 0x8fff, rd2, 0, XF_RO },
             { 0x30000, 0x30fff, rd, 0, XF_NOROMD },
             { 0x50000, 0x50fff, r3, 0, XF_DIRTY },
             { 0x60000, 0x60fff, r3, 0, XF_DIRTY });
    /* The leaves' own flags are untouched. */
    assert_false(mt_region_readonly(r1));
    assert_false(mt_region_readonly(r2));
    assert_false(mt_region_nonvolatile(r2));

    /* Flipping the flags re-renders. */
    MT_OK(mt_region_set_readonly(roc, false));
    MT_OK(mt_region_set_romd(rd, true));
    MT_OK(mt_region_set_dirty_log(r3, false));
    MT_OK(mt_region_set_nonvolatile(sys, true));
    CHECK_AS(as,
             { 0x0, 0xfff, r1, 0, XF_NV },
             { 0x4000, 0x4fff, r2, 0, XF_NV },
             { 0x8000, 0x8fff, rd2, 0, XF_NV },
             { 0x30000, 0x30fff, rd, 0, XF_NV },
             { 0x50000, 0x50fff, r3, 0, XF_NV },
             { 0x60000, 0x60fff, r3, 0, XF_NV });

    /* A ROM is read-only by itself. */
    mt_region *rom = t_rom(ctx, "rom", 0x1000);
    mt_region *c2 = t_container(ctx, "c2", MT_SIZE_FULL);
    t_map(c2, 0x1000, rom);
    mt_as *as2 = t_as(ctx, c2, "as2");
    CHECK_AS(as2, { 0x1000, 0x1fff, rom, 0, XF_RO });
    mt_ctx_free(ctx);
}

/*
 * Item 12: adjacent flat ranges merge only with the same region, contiguous
 * offsets and equal attributes (a region split around another one becomes
 * one range again once the other goes away).
 */
static void test_item12_merge_only_when_same_region_contiguous_equal_attrs(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_container(ctx, "sys", MT_SIZE_FULL);

    /* (a) split, then merged again. */
    mt_region *m = t_ram(ctx, "m", 0x3000);
    mt_region *hole = t_io(ctx, "hole", 0x1000);
    t_map(sys, 0, m);
    t_map_prio(sys, 0x1000, hole, 1);
    /* (b) different regions back to back. */
    mt_region *a = t_io(ctx, "a", 0x100);
    mt_region *b = t_io(ctx, "b", 0x100);
    t_map(sys, 0x10000, a);
    t_map(sys, 0x10100, b);
    /* (c) one region, adjacent in the space, offsets not contiguous. */
    mt_region *q = t_ram(ctx, "q", 0x1000);
    t_map(sys, 0x20000, t_alias(ctx, "q1", q, 0, 0x100));
    t_map(sys, 0x20100, t_alias(ctx, "q2", q, 0x200, 0x100));
    /* (d) contiguous, but one half read-only. */
    mt_region *q4 = t_alias(ctx, "q4", q, 0x100, 0x100);
    MT_OK(mt_region_set_readonly(q4, true));
    t_map(sys, 0x30000, t_alias(ctx, "q3", q, 0, 0x100));
    t_map(sys, 0x30100, q4);
    /* (e) contiguous, but one half non-volatile. */
    mt_region *q6 = t_alias(ctx, "q6", q, 0x100, 0x100);
    MT_OK(mt_region_set_nonvolatile(q6, true));
    t_map(sys, 0x40000, t_alias(ctx, "q5", q, 0, 0x100));
    t_map(sys, 0x40100, q6);
    /* (f) contiguous offsets, not adjacent in the space. */
    t_map(sys, 0x50000, t_alias(ctx, "q7", q, 0, 0x100));
    t_map(sys, 0x50200, t_alias(ctx, "q8", q, 0x100, 0x100));

    mt_as *as = t_as(ctx, sys, "as");
    CHECK_AS(as,
             { 0x0, 0xfff, m, 0, 0 },
             { 0x1000, 0x1fff, hole, 0, 0 },
             { 0x2000, 0x2fff, m, 0x2000, 0 },
             { 0x10000, 0x100ff, a, 0, 0 },
             { 0x10100, 0x101ff, b, 0, 0 },
             { 0x20000, 0x200ff, q, 0, 0 },
             { 0x20100, 0x201ff, q, 0x200, 0 },
             { 0x30000, 0x300ff, q, 0, 0 },
             { 0x30100, 0x301ff, q, 0x100, XF_RO },
             { 0x40000, 0x400ff, q, 0, 0 },
             { 0x40100, 0x401ff, q, 0x100, XF_NV },
             { 0x50000, 0x500ff, q, 0, 0 },
             { 0x50200, 0x502ff, q, 0x100, 0 });

    MT_OK(mt_region_del_subregion(sys, hole));
    MT_OK(mt_region_set_readonly(q4, false));
    CHECK_AS(as,
             { 0x0, 0x2fff, m, 0, 0 },
             { 0x10000, 0x100ff, a, 0, 0 },
             { 0x10100, 0x101ff, b, 0, 0 },
             { 0x20000, 0x200ff, q, 0, 0 },
             { 0x20100, 0x201ff, q, 0x200, 0 },
             { 0x30000, 0x301ff, q, 0, 0 },
             { 0x40000, 0x400ff, q, 0, 0 },
             { 0x40100, 0x401ff, q, 0x100, XF_NV },
             { 0x50000, 0x500ff, q, 0, 0 },
             { 0x50200, 0x502ff, q, 0x100, 0 });

    /* The dirty-log state is the leaf's: turning it on keeps m in one
     * range, now marked dirty. */
    MT_OK(mt_region_set_dirty_log(m, true));
    mt_flatview *fv = mt_as_flatview(as);
    const mt_flat_range *fr = mt_flatview_range(fv, 0);
    assert_non_null(fr);
    assert_ptr_equal(fr->region, m);
    assert_int_equal(fr->last, 0x2fff);
    assert_true(fr->dirty_log_mask & MT_DIRTY_VGA);
    mt_flatview_unref(fv);
    mt_ctx_free(ctx);
}

/*
 * Item 13: two aliases to adjacent parts of one RAM region, placed
 * adjacently, merge into one flat range (x86 ram-below-4g + PAM).
 */
static void test_item13_adjacent_aliases_of_one_ram_merge(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_container(ctx, "sys", MT_SIZE_FULL);
    mt_region *ram = t_ram(ctx, "pc.ram", 0x10000);
    mt_region *below = t_alias(ctx, "below", ram, 0, 0x8000);
    mt_region *pam = t_alias(ctx, "pam", ram, 0x8000, 0x4000);
    mt_region *pam2 = t_alias(ctx, "pam2", pam, 0x2000, 0x2000);
    mt_region *rest = t_alias(ctx, "rest", ram, 0xc000, 0x4000);
    t_map(sys, 0, below);
    t_map(sys, 0x8000, pam);
    t_map(sys, 0xc000, rest);
    t_map(sys, 0x20000, pam2); /* alias of an alias */
    mt_as *as = t_as(ctx, sys, "as");
    CHECK_AS(as,
             { 0x0, 0xffff, ram, 0, 0 },
             { 0x20000, 0x21fff, ram, 0xa000, 0 });

    /* Three pieces at a shifted place still merge. */
    mt_region *sys2 = t_container(ctx, "sys2", MT_SIZE_FULL);
    t_map(sys2, 0x100000, t_alias(ctx, "x1", ram, 0x1000, 0x1000));
    t_map(sys2, 0x101000, t_alias(ctx, "x2", ram, 0x2000, 0x800));
    t_map(sys2, 0x101800, t_alias(ctx, "x3", ram, 0x2800, 0x800));
    mt_as *as2 = t_as(ctx, sys2, "as2");
    CHECK_AS(as2, { 0x100000, 0x101fff, ram, 0x1000, 0 });
    mt_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_item02_higher_priority_wins_within_container),
        cmocka_unit_test(test_item03_equal_priority_later_wins),
        cmocka_unit_test(test_item04_set_address_reinserts_and_wins_ties),
        cmocka_unit_test(test_item06_disabled_hides_subtree_but_prints_children),
        cmocka_unit_test(test_item07_disabled_alias_queues_target),
        cmocka_unit_test(test_item08_holes_expose_lower_and_terminator_below_children),
        cmocka_unit_test(test_item09_alias_ignores_target_addr_uses_offset),
        cmocka_unit_test(test_item10_alias_clips_to_window),
        cmocka_unit_test(test_item11_attributes_propagate_romd_dirty_from_leaf),
        cmocka_unit_test(test_item12_merge_only_when_same_region_contiguous_equal_attrs),
        cmocka_unit_test(test_item13_adjacent_aliases_of_one_ram_merge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
