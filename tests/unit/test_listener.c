/* SPDX-License-Identifier: MIT */
/*
 * test_listener.c: listener events, checklist items 18-25 of the QEMU
 * reference §10 (event order of §5.2-§5.6). Public API only.
 *
 * Every listener records every hook into one log (listener_log.h); each
 * test compares the whole delivered sequence, across all listeners, with
 * the sequence QEMU 7.2 delivers: begin (forward) for every listener of the
 * context, then per address space in creation order all region_del
 * (reverse) before region_add / region_nop (forward) with log_start
 * (forward) / log_stop (reverse), then eventfd_del (forward) / eventfd_add
 * (reverse), then commit (forward) for every listener.
 */
#include "listener_log.h"

#define K 0x1000ull

/* ------------------------------------------------------------------------ */
/* Item 18: all deletions before all additions, address space by address    */
/* space, begin/commit around everything                                    */
/* ------------------------------------------------------------------------ */

static void test_item18_del_before_add_per_as(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *root1 = t_container(ctx, "root1", 0x10000);
    mt_region *root2 = t_container(ctx, "root2", 0x10000);
    mt_region *a = t_ram(ctx, "a", K), *a2 = t_ram(ctx, "a2", K);
    mt_region *b = t_ram(ctx, "b", K), *b2 = t_ram(ctx, "b2", K);
    mt_region *c = t_ram(ctx, "c", K);
    t_map(root1, 0x1000, a);
    t_map(root1, 0x4000, a2);
    t_map(root2, 0x2000, b);
    t_map(root2, 0x8000, b2);
    mt_as *as1 = t_as(ctx, root1, "as1");
    mt_as *as2 = t_as(ctx, root2, "as2");

    /* Ids 1, 2 on as1 (priorities 0, 5), 3, 4 on as2 (0, 5). */
    t_listen(as1, 1, 0, NO_NOP);
    t_listen(as1, 2, 5, NO_NOP);
    t_listen(as2, 3, 0, NO_NOP);
    t_listen(as2, 4, 5, NO_NOP);
    t_log_clear();

    static const int all_f[] = { 1, 3, 2, 4 };
    static const int as1_f[] = { 1, 2 }, as1_r[] = { 2, 1 };
    static const int as2_f[] = { 3, 4 }, as2_r[] = { 4, 3 };

    /* In address order the changes interleave (add 0, del 0x1000, del
     * 0x4000, add 0x6000); QEMU still removes everything first. */
    mt_begin(ctx);
    MT_OK(mt_region_set_address(a, 0x6000));
    MT_OK(mt_region_set_address(a2, 0x0));
    MT_OK(mt_region_set_address(b, 0x9000));
    MT_OK(mt_region_del_subregion(root2, b2));
    t_map(root2, 0x0, c);
    CHECK_NO_EVENTS();
    MT_OK(mt_commit(ctx));

    evbuf *eb = t_evbuf();
    EB_EACH(eb, all_f, ev_b(0));
    EB_EACH(eb, as1_r, ev_del(0, 0x1000, 0x1fff, a, 0));
    EB_EACH(eb, as1_r, ev_del(0, 0x4000, 0x4fff, a2, 0));
    EB_EACH(eb, as1_f, ev_add(0, 0x0000, 0x0fff, a2, 0));
    EB_EACH(eb, as1_f, ev_add(0, 0x6000, 0x6fff, a, 0));
    EB_EACH(eb, as2_r, ev_del(0, 0x2000, 0x2fff, b, 0));
    EB_EACH(eb, as2_r, ev_del(0, 0x8000, 0x8fff, b2, 0));
    EB_EACH(eb, as2_f, ev_add(0, 0x0000, 0x0fff, c, 0));
    EB_EACH(eb, as2_f, ev_add(0, 0x9000, 0x9fff, b, 0));
    EB_EACH(eb, all_f, ev_c(0));
    CHECK_EB(eb);

    /* A change in as1 only: as2's listeners still hear begin and commit
     * (they are called for every listener), nothing else. */
    MT_OK(mt_region_set_address(a, 0x7000));
    EB_EACH(eb, all_f, ev_b(0));
    EB_EACH(eb, as1_r, ev_del(0, 0x6000, 0x6fff, a, 0));
    EB_EACH(eb, as1_f, ev_add(0, 0x7000, 0x7fff, a, 0));
    EB_EACH(eb, all_f, ev_c(0));
    CHECK_EB(eb);

    /* Only as2 changes: as1's listeners hear begin/commit. */
    MT_OK(mt_region_del_subregion(root2, c));
    EB_EACH(eb, all_f, ev_b(0));
    EB_EACH(eb, as2_r, ev_del(0, 0x0000, 0x0fff, c, 0));
    EB_EACH(eb, all_f, ev_c(0));
    CHECK_EB(eb);

    free(eb);
    mt_ctx_free(ctx);
}

/* ------------------------------------------------------------------------ */
/* Item 19: attribute change = del + add; dirty-mask change = nop + log     */
/* ------------------------------------------------------------------------ */

static void test_item19_attr_change_del_add_mask_change_nop_log(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *root = t_container(ctx, "root", 0x10000);
    mt_region *r1 = t_ram(ctx, "r1", K), *r2 = t_ram(ctx, "r2", K);
    t_map(root, 0x1000, r1);
    t_map(root, 0x3000, r2);
    mt_as *as = t_as(ctx, root, "as");
    t_listen(as, 1, 0, 0);
    t_log_clear();

    /* Readonly changes the range: removed and added again, then the
     * unchanged neighbour is a nop. */
    MT_OK(mt_region_set_readonly(r1, true));
    CHECK_EVENTS(ev_b(1),
                 ev_del(1, 0x1000, 0x1fff, r1, 0),
                 ev_rx(EV_ADD, 1, 0x1000, 0x1fff, r1, 0, XF_RO, 0),
                 ev_nop(1, 0x3000, 0x3fff, r2, 0),
                 ev_c(1));

    /* Same value again: no transaction at all. */
    MT_OK(mt_region_set_readonly(r1, true));
    CHECK_NO_EVENTS();

    /* Dirty logging on: the range is unchanged but for its mask. */
    MT_OK(mt_region_set_dirty_log(r2, true));
    CHECK_EVENTS(ev_b(1),
                 ev_rx(EV_NOP, 1, 0x1000, 0x1fff, r1, 0, XF_RO, 0),
                 ev_rx(EV_NOP, 1, 0x3000, 0x3fff, r2, 0, 0, MT_DIRTY_VGA),
                 ev_log(EV_LOG_START, 1, 0x3000, 0x3fff, r2, 0, 0,
                        MT_DIRTY_VGA),
                 ev_c(1));

    /* Counted: a second user and the first one leaving change nothing. */
    MT_OK(mt_region_set_dirty_log(r2, true));
    CHECK_NO_EVENTS();
    MT_OK(mt_region_set_dirty_log(r2, false));
    CHECK_NO_EVENTS();

    /* An attribute change of a logged range: del + add, the new range
     * carrying the mask; no log_start/log_stop. */
    MT_OK(mt_region_set_readonly(r2, true));
    CHECK_EVENTS(ev_b(1),
                 ev_rx(EV_DEL, 1, 0x3000, 0x3fff, r2, 0, 0, MT_DIRTY_VGA),
                 ev_rx(EV_NOP, 1, 0x1000, 0x1fff, r1, 0, XF_RO, 0),
                 ev_rx(EV_ADD, 1, 0x3000, 0x3fff, r2, 0, XF_RO, MT_DIRTY_VGA),
                 ev_c(1));

    /* Last user gone: nop + log_stop. */
    MT_OK(mt_region_set_dirty_log(r2, false));
    CHECK_EVENTS(ev_b(1),
                 ev_rx(EV_NOP, 1, 0x1000, 0x1fff, r1, 0, XF_RO, 0),
                 ev_rx(EV_NOP, 1, 0x3000, 0x3fff, r2, 0, XF_RO, 0),
                 ev_log(EV_LOG_STOP, 1, 0x3000, 0x3fff, r2, 0, MT_DIRTY_VGA,
                        0),
                 ev_c(1));

    MT_EXPECT(mt_region_set_dirty_log(r2, false), MT_ESTATE);
    CHECK_NO_EVENTS();

    /* Nonvolatile and back to writable: del + add each time. */
    MT_OK(mt_region_set_nonvolatile(r1, true));
    CHECK_EVENTS(ev_b(1),
                 ev_rx(EV_DEL, 1, 0x1000, 0x1fff, r1, 0, XF_RO, 0),
                 ev_rx(EV_ADD, 1, 0x1000, 0x1fff, r1, 0, XF_RO | XF_NV, 0),
                 ev_rx(EV_NOP, 1, 0x3000, 0x3fff, r2, 0, XF_RO, 0),
                 ev_c(1));
    MT_OK(mt_region_set_readonly(r2, false));
    CHECK_EVENTS(ev_b(1),
                 ev_rx(EV_DEL, 1, 0x3000, 0x3fff, r2, 0, XF_RO, 0),
                 ev_rx(EV_NOP, 1, 0x1000, 0x1fff, r1, 0, XF_RO | XF_NV, 0),
                 ev_add(1, 0x3000, 0x3fff, r2, 0),
                 ev_c(1));

    mt_ctx_free(ctx);
}

static void test_item19_without_nop_listener_only_log_events(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *root = t_container(ctx, "root", 0x10000);
    mt_region *r1 = t_ram(ctx, "r1", K), *r2 = t_ram(ctx, "r2", K);
    mt_region *rd = t_romd(ctx, "romd", K);
    t_map(root, 0x1000, r1);
    t_map(root, 0x3000, r2);
    t_map(root, 0x5000, rd);
    mt_as *as = t_as(ctx, root, "as");
    t_listen(as, 1, 0, NO_NOP);
    t_log_clear();

    MT_OK(mt_region_set_dirty_log(r2, true));
    CHECK_EVENTS(ev_b(1),
                 ev_log(EV_LOG_START, 1, 0x3000, 0x3fff, r2, 0, 0,
                        MT_DIRTY_VGA),
                 ev_c(1));

    MT_OK(mt_region_set_dirty_log(r1, true));
    CHECK_EVENTS(ev_b(1),
                 ev_log(EV_LOG_START, 1, 0x1000, 0x1fff, r1, 0, 0,
                        MT_DIRTY_VGA),
                 ev_c(1));

    MT_OK(mt_region_set_dirty_log(r2, false));
    CHECK_EVENTS(ev_b(1),
                 ev_log(EV_LOG_STOP, 1, 0x3000, 0x3fff, r2, 0, MT_DIRTY_VGA,
                        0),
                 ev_c(1));

    /* Both in one transaction: in address order, one commit. */
    mt_begin(ctx);
    MT_OK(mt_region_set_dirty_log(r1, false));
    MT_OK(mt_region_set_dirty_log(r2, true));
    MT_OK(mt_commit(ctx));
    CHECK_EVENTS(ev_b(1),
                 ev_log(EV_LOG_STOP, 1, 0x1000, 0x1fff, r1, 0, MT_DIRTY_VGA,
                        0),
                 ev_log(EV_LOG_START, 1, 0x3000, 0x3fff, r2, 0, 0,
                        MT_DIRTY_VGA),
                 ev_c(1));

    /* Attribute changes stay del + add without a nop listener: readonly,
     * and a ROM device leaving ROMD mode. */
    MT_OK(mt_region_set_readonly(r1, true));
    CHECK_EVENTS(ev_b(1),
                 ev_del(1, 0x1000, 0x1fff, r1, 0),
                 ev_rx(EV_ADD, 1, 0x1000, 0x1fff, r1, 0, XF_RO, 0),
                 ev_c(1));
    MT_OK(mt_region_set_romd(rd, false));
    CHECK_EVENTS(ev_b(1),
                 ev_del(1, 0x5000, 0x5fff, rd, 0),
                 ev_rx(EV_ADD, 1, 0x5000, 0x5fff, rd, 0, XF_NOROMD, 0),
                 ev_c(1));

    mt_ctx_free(ctx);
}

/* ------------------------------------------------------------------------ */
/* Item 20: region_nop for every unchanged range on every pending commit    */
/* ------------------------------------------------------------------------ */

static void test_item20_nop_for_every_unchanged_range(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *root1 = t_container(ctx, "root1", 0x10000);
    mt_region *root2 = t_container(ctx, "root2", 0x10000);
    mt_region *r1 = t_ram(ctx, "r1", K), *io = t_io(ctx, "io", K);
    mt_region *r3 = t_ram(ctx, "r3", K), *n = t_ram(ctx, "n", K);
    mt_region *u = t_ram(ctx, "u", K);            /* never mapped */
    mt_region *uc = t_container(ctx, "uc", K);    /* never mapped */
    t_map(root1, 0x1000, r1);
    t_map(root1, 0x2000, io);
    t_map(root2, 0x0, r3);
    mt_as *as1 = t_as(ctx, root1, "as1");
    mt_as *as2 = t_as(ctx, root2, "as2");
    t_listen(as1, 1, 0, 0);
    t_listen(as2, 2, 0, 0);
    t_log_clear();

    /* Everything unchanged, but a change was pending: every range of
     * every address space is a nop (QEMU re-renders everything). */
#define ALL_NOPS                                                             \
    ev_b(1), ev_b(2),                                                        \
    ev_nop(1, 0x1000, 0x1fff, r1, 0), ev_nop(1, 0x2000, 0x2fff, io, 0),      \
    ev_nop(2, 0x0000, 0x0fff, r3, 0),                                        \
    ev_c(1), ev_c(2)

    MT_OK(mt_region_set_enabled(u, false));   /* unmapped region */
    CHECK_EVENTS(ALL_NOPS);

    /* Attribute setter on a disabled region: nothing pending, nothing. */
    MT_OK(mt_region_set_readonly(u, true));
    CHECK_NO_EVENTS();

    MT_OK(mt_region_set_enabled(u, true));
    CHECK_EVENTS(ALL_NOPS);

    /* Attribute setter on an enabled unmapped region: pending. */
    MT_OK(mt_region_set_readonly(u, false));
    CHECK_EVENTS(ALL_NOPS);
    MT_OK(mt_region_set_nonvolatile(u, true));
    CHECK_EVENTS(ALL_NOPS);

    /* Resizing an unmapped region: pending. */
    MT_OK(mt_region_set_size(uc, 2 * K));
    CHECK_EVENTS(ALL_NOPS);

    /* Several changes in one transaction: one set of nops. */
    mt_begin(ctx);
    MT_OK(mt_region_set_enabled(u, false));
    MT_OK(mt_region_set_enabled(u, true));
    MT_OK(mt_region_set_size(uc, K));
    MT_OK(mt_commit(ctx));
    CHECK_EVENTS(ALL_NOPS);
#undef ALL_NOPS

    /* A real change in as1: its add in address order among the nops, and
     * as2's listener hears nops for its unchanged view. */
    t_map(root1, 0x4000, n);
    CHECK_EVENTS(ev_b(1), ev_b(2),
                 ev_nop(1, 0x1000, 0x1fff, r1, 0),
                 ev_nop(1, 0x2000, 0x2fff, io, 0),
                 ev_add(1, 0x4000, 0x4fff, n, 0),
                 ev_nop(2, 0x0000, 0x0fff, r3, 0),
                 ev_c(1), ev_c(2));

    /* A removal in the middle: del first, then the nops. */
    MT_OK(mt_region_del_subregion(root1, io));
    CHECK_EVENTS(ev_b(1), ev_b(2),
                 ev_del(1, 0x2000, 0x2fff, io, 0),
                 ev_nop(1, 0x1000, 0x1fff, r1, 0),
                 ev_nop(1, 0x4000, 0x4fff, n, 0),
                 ev_nop(2, 0x0000, 0x0fff, r3, 0),
                 ev_c(1), ev_c(2));

    mt_ctx_free(ctx);
}

/* ------------------------------------------------------------------------ */
/* Item 21: ascending priority, FIFO among equals; reverse hooks reversed   */
/* ------------------------------------------------------------------------ */

static void test_item21_listener_order(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *root = t_container(ctx, "root", 0x10000);
    mt_region *r = t_ram(ctx, "r", K), *io = t_io(ctx, "io", K);
    mt_as *as = t_as(ctx, root, "as");

    /* Registered as ids 1..4 with priorities 10, 0, 10, 5. */
    t_listen(as, 1, 10, 0);
    t_listen(as, 2, 0, 0);
    t_listen(as, 3, 10, 0);
    t_listen(as, 4, 5, 0);
    t_log_clear();
    static const int F[] = { 2, 4, 1, 3 };
    static const int R[] = { 3, 1, 4, 2 };
    evbuf *eb = t_evbuf();

    /* begin, region_add, commit: forward. */
    t_map(root, 0x1000, r);
    EB_EACH(eb, F, ev_b(0));
    EB_EACH(eb, F, ev_add(0, 0x1000, 0x1fff, r, 0));
    EB_EACH(eb, F, ev_c(0));
    CHECK_EB(eb);

    /* region_nop and log_start: forward. */
    MT_OK(mt_region_set_dirty_log(r, true));
    EB_EACH(eb, F, ev_b(0));
    EB_EACH(eb, F, ev_rx(EV_NOP, 0, 0x1000, 0x1fff, r, 0, 0, MT_DIRTY_VGA));
    EB_EACH(eb, F, ev_log(EV_LOG_START, 0, 0x1000, 0x1fff, r, 0, 0,
                          MT_DIRTY_VGA));
    EB_EACH(eb, F, ev_c(0));
    CHECK_EB(eb);

    /* log_sync: forward. */
    MT_OK(mt_as_log_sync(as, NULL));
    EB_EACH(eb, F, ev_sync(0, 0x1000, 0x1fff, r, 0));
    CHECK_EB(eb);

    /* log_stop: reverse. */
    MT_OK(mt_region_set_dirty_log(r, false));
    EB_EACH(eb, F, ev_b(0));
    EB_EACH(eb, F, ev_nop(0, 0x1000, 0x1fff, r, 0));
    EB_EACH(eb, R, ev_log(EV_LOG_STOP, 0, 0x1000, 0x1fff, r, 0,
                          MT_DIRTY_VGA, 0));
    EB_EACH(eb, F, ev_c(0));
    CHECK_EB(eb);

    t_map(root, 0x2000, io);
    EB_EACH(eb, F, ev_b(0));
    EB_EACH(eb, F, ev_nop(0, 0x1000, 0x1fff, r, 0));
    EB_EACH(eb, F, ev_add(0, 0x2000, 0x2fff, io, 0));
    EB_EACH(eb, F, ev_c(0));
    CHECK_EB(eb);

    /* eventfd_add: reverse; eventfd_del: forward. */
    MT_OK(mt_region_add_eventfd(io, 0x8, 4, false, 0, 7));
    EB_EACH(eb, R, ev_efd(EV_EFD_ADD, 0, 0x2008, 4, false, 0, 7));
    CHECK_EB(eb);
    MT_OK(mt_region_del_eventfd(io, 0x8, 4, false, 0, 7));
    EB_EACH(eb, F, ev_efd(EV_EFD_DEL, 0, 0x2008, 4, false, 0, 7));
    CHECK_EB(eb);

    /* coalesced_io_add: forward; coalesced_io_del: reverse. */
    MT_OK(mt_region_add_coalescing(io, 0, 0x100));
    EB_EACH(eb, F, ev_cio(EV_CIO_ADD, 0, 0x2000, 0x2fff, 0x2000, 0x100));
    CHECK_EB(eb);
    MT_OK(mt_region_clear_coalescing(io));
    EB_EACH(eb, R, ev_cio(EV_CIO_DEL, 0, 0x2000, 0x2fff, 0x2000, 0x100));
    CHECK_EB(eb);

    /* Unmapping a coalesced range: coalesced_io_del (reverse) for every
     * listener, then region_del (reverse), then the nops. */
    MT_OK(mt_region_add_coalescing(io, 0x10, 0x20));
    t_log_clear();
    MT_OK(mt_region_del_subregion(root, io));
    EB_EACH(eb, F, ev_b(0));
    EB_EACH(eb, R, ev_cio(EV_CIO_DEL, 0, 0x2000, 0x2fff, 0x2010, 0x20));
    EB_EACH(eb, R, ev_del(0, 0x2000, 0x2fff, io, 0));
    EB_EACH(eb, F, ev_nop(0, 0x1000, 0x1fff, r, 0));
    EB_EACH(eb, F, ev_c(0));
    CHECK_EB(eb);

    /* log_global_start: forward; log_global_stop: reverse. */
    MT_OK(mt_ctx_dirty_log_start(ctx));
    EB_EACH(eb, F, ev_gstart(0));
    EB_EACH(eb, F, ev_b(0));
    EB_EACH(eb, F, ev_rx(EV_NOP, 0, 0x1000, 0x1fff, r, 0, 0,
                         MT_DIRTY_MIGRATION));
    EB_EACH(eb, F, ev_log(EV_LOG_START, 0, 0x1000, 0x1fff, r, 0, 0,
                          MT_DIRTY_MIGRATION));
    EB_EACH(eb, F, ev_c(0));
    CHECK_EB(eb);
    MT_OK(mt_ctx_dirty_log_stop(ctx));
    EB_EACH(eb, F, ev_b(0));
    EB_EACH(eb, F, ev_nop(0, 0x1000, 0x1fff, r, 0));
    EB_EACH(eb, R, ev_log(EV_LOG_STOP, 0, 0x1000, 0x1fff, r, 0,
                          MT_DIRTY_MIGRATION, 0));
    EB_EACH(eb, F, ev_c(0));
    EB_EACH(eb, R, ev_gstop(0));
    CHECK_EB(eb);

    /* region_del: reverse. */
    MT_OK(mt_region_del_subregion(root, r));
    EB_EACH(eb, F, ev_b(0));
    EB_EACH(eb, R, ev_del(0, 0x1000, 0x1fff, r, 0));
    EB_EACH(eb, F, ev_c(0));
    CHECK_EB(eb);

    free(eb);
    mt_ctx_free(ctx);
}

/* A listener registered later with a priority equal to existing ones goes
 * after them (FIFO), also when others were unregistered in between. */
static void test_item21_fifo_among_equals_after_churn(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *root = t_container(ctx, "root", 0x10000);
    mt_region *r = t_ram(ctx, "r", K);
    mt_as *as = t_as(ctx, root, "as");

    t_listen(as, 1, 3, NO_NOP);
    mt_listener *l2 = t_listen(as, 2, 3, NO_NOP);
    t_listen(as, 3, -1, NO_NOP);
    t_listen(as, 4, 3, NO_NOP);
    mt_listener_unregister(l2);
    t_listen(as, 5, 3, NO_NOP);
    t_listen(as, 6, 100, NO_NOP);
    t_log_clear();

    static const int F[] = { 3, 1, 4, 5, 6 };
    static const int R[] = { 6, 5, 4, 1, 3 };
    evbuf *eb = t_evbuf();
    t_map(root, 0, r);
    MT_OK(mt_region_del_subregion(root, r));
    EB_EACH(eb, F, ev_b(0));
    EB_EACH(eb, F, ev_add(0, 0, 0xfff, r, 0));
    EB_EACH(eb, F, ev_c(0));
    EB_EACH(eb, F, ev_b(0));
    EB_EACH(eb, R, ev_del(0, 0, 0xfff, r, 0));
    EB_EACH(eb, F, ev_c(0));
    CHECK_EB(eb);
    free(eb);
    mt_ctx_free(ctx);
}

/* ------------------------------------------------------------------------ */
/* Item 22: eventfd_del forward, eventfd_add reverse                         */
/* ------------------------------------------------------------------------ */

static void test_item22_eventfd_order(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *root = t_container(ctx, "root", 0x10000);
    mt_region *io = t_io(ctx, "io", 0x100);
    t_map(root, 0x1000, io);
    mt_as *as = t_as(ctx, root, "as");
    t_listen(as, 1, 0, NO_NOP);   /* X */
    t_listen(as, 2, 1, NO_NOP);   /* Y */
    t_log_clear();

    MT_OK(mt_region_add_eventfd(io, 0x10, 4, true, 5, 3));
    CHECK_EVENTS(ev_efd(EV_EFD_ADD, 2, 0x1010, 4, true, 5, 3),
                 ev_efd(EV_EFD_ADD, 1, 0x1010, 4, true, 5, 3));
    MT_OK(mt_region_add_eventfd(io, 0x20, 2, false, 0, 4));
    CHECK_EVENTS(ev_efd(EV_EFD_ADD, 2, 0x1020, 2, false, 0, 4),
                 ev_efd(EV_EFD_ADD, 1, 0x1020, 2, false, 0, 4));

    /* Moving the region up: region events first, then the eventfds at the
     * old addresses removed and those at the new ones added. */
    MT_OK(mt_region_set_address(io, 0x5000));
    CHECK_EVENTS(ev_b(1), ev_b(2),
                 ev_del(2, 0x1000, 0x10ff, io, 0),
                 ev_del(1, 0x1000, 0x10ff, io, 0),
                 ev_add(1, 0x5000, 0x50ff, io, 0),
                 ev_add(2, 0x5000, 0x50ff, io, 0),
                 ev_efd(EV_EFD_DEL, 1, 0x1010, 4, true, 5, 3),
                 ev_efd(EV_EFD_DEL, 2, 0x1010, 4, true, 5, 3),
                 ev_efd(EV_EFD_DEL, 1, 0x1020, 2, false, 0, 4),
                 ev_efd(EV_EFD_DEL, 2, 0x1020, 2, false, 0, 4),
                 ev_efd(EV_EFD_ADD, 2, 0x5010, 4, true, 5, 3),
                 ev_efd(EV_EFD_ADD, 1, 0x5010, 4, true, 5, 3),
                 ev_efd(EV_EFD_ADD, 2, 0x5020, 2, false, 0, 4),
                 ev_efd(EV_EFD_ADD, 1, 0x5020, 2, false, 0, 4),
                 ev_c(1), ev_c(2));

    MT_OK(mt_region_del_eventfd(io, 0x10, 4, true, 5, 3));
    CHECK_EVENTS(ev_efd(EV_EFD_DEL, 1, 0x5010, 4, true, 5, 3),
                 ev_efd(EV_EFD_DEL, 2, 0x5010, 4, true, 5, 3));

    /* Moving down: the two sets are merged in address order, so the add
     * at the new (lower) address comes before the del at the old one. */
    MT_OK(mt_region_set_address(io, 0x0));
    CHECK_EVENTS(ev_b(1), ev_b(2),
                 ev_del(2, 0x5000, 0x50ff, io, 0),
                 ev_del(1, 0x5000, 0x50ff, io, 0),
                 ev_add(1, 0x0000, 0x00ff, io, 0),
                 ev_add(2, 0x0000, 0x00ff, io, 0),
                 ev_efd(EV_EFD_ADD, 2, 0x0020, 2, false, 0, 4),
                 ev_efd(EV_EFD_ADD, 1, 0x0020, 2, false, 0, 4),
                 ev_efd(EV_EFD_DEL, 1, 0x5020, 2, false, 0, 4),
                 ev_efd(EV_EFD_DEL, 2, 0x5020, 2, false, 0, 4),
                 ev_c(1), ev_c(2));

    /* Unmapping: region_del, then eventfd_del. */
    MT_OK(mt_region_del_subregion(root, io));
    CHECK_EVENTS(ev_b(1), ev_b(2),
                 ev_del(2, 0x0000, 0x00ff, io, 0),
                 ev_del(1, 0x0000, 0x00ff, io, 0),
                 ev_efd(EV_EFD_DEL, 1, 0x0020, 2, false, 0, 4),
                 ev_efd(EV_EFD_DEL, 2, 0x0020, 2, false, 0, 4),
                 ev_c(1), ev_c(2));

    mt_ctx_free(ctx);
}

/* ------------------------------------------------------------------------ */
/* Item 23: registering replays the current view                             */
/* ------------------------------------------------------------------------ */

static void test_item23_register_replays_view(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *root = t_container(ctx, "root", 0x10000);
    mt_region *r1 = t_ram(ctx, "r1", K), *io = t_io(ctx, "io", K);
    mt_region *r2 = t_ram(ctx, "r2", K), *r3 = t_ram(ctx, "r3", K);
    t_map(root, 0x0000, r1);
    t_map(root, 0x1000, io);
    t_map(root, 0x2000, r2);
    MT_OK(mt_region_set_dirty_log(r2, true));
    mt_as *as = t_as(ctx, root, "as");

    t_listen(as, 1, 0, NO_NOP);
    CHECK_EVENTS(ev_b(1),
                 ev_add(1, 0x0000, 0x0fff, r1, 0),
                 ev_add(1, 0x1000, 0x1fff, io, 0),
                 ev_rx(EV_ADD, 1, 0x2000, 0x2fff, r2, 0, 0, MT_DIRTY_VGA),
                 ev_log(EV_LOG_START, 1, 0x2000, 0x2fff, r2, 0, 0,
                        MT_DIRTY_VGA),
                 ev_c(1));

    MT_OK(mt_region_add_eventfd(io, 0x4, 4, false, 0, 11));
    CHECK_EVENTS(ev_efd(EV_EFD_ADD, 1, 0x1004, 4, false, 0, 11));

    /* The newcomer hears the view (not the existing ioeventfd); nobody
     * else hears anything. */
    t_listen(as, 2, 0, 0);
    CHECK_EVENTS(ev_b(2),
                 ev_add(2, 0x0000, 0x0fff, r1, 0),
                 ev_add(2, 0x1000, 0x1fff, io, 0),
                 ev_rx(EV_ADD, 2, 0x2000, 0x2fff, r2, 0, 0, MT_DIRTY_VGA),
                 ev_log(EV_LOG_START, 2, 0x2000, 0x2fff, r2, 0, 0,
                        MT_DIRTY_VGA),
                 ev_c(2));

    /* A later commit does not deliver the existing ioeventfd either: the
     * address space's set did not change. */
    t_map(root, 0x3000, r3);
    CHECK_EVENTS(ev_b(1), ev_b(2),
                 ev_nop(2, 0x0000, 0x0fff, r1, 0),
                 ev_nop(2, 0x1000, 0x1fff, io, 0),
                 ev_rx(EV_NOP, 2, 0x2000, 0x2fff, r2, 0, 0, MT_DIRTY_VGA),
                 ev_add(1, 0x3000, 0x3fff, r3, 0),
                 ev_add(2, 0x3000, 0x3fff, r3, 0),
                 ev_c(1), ev_c(2));

    /* Its removal reaches both (forward). */
    MT_OK(mt_region_del_eventfd(io, 0x4, 4, false, 0, 11));
    CHECK_EVENTS(ev_efd(EV_EFD_DEL, 1, 0x1004, 4, false, 0, 11),
                 ev_efd(EV_EFD_DEL, 2, 0x1004, 4, false, 0, 11));

    /* With global dirty logging on: log_global_start first, then every RAM
     * range is logged from mask 0. */
    MT_OK(mt_ctx_dirty_log_start(ctx));
    t_log_clear();
    t_listen(as, 3, 7, NO_NOP);
    CHECK_EVENTS(ev_b(3), ev_gstart(3),
                 ev_rx(EV_ADD, 3, 0x0000, 0x0fff, r1, 0, 0,
                       MT_DIRTY_MIGRATION),
                 ev_log(EV_LOG_START, 3, 0x0000, 0x0fff, r1, 0, 0,
                        MT_DIRTY_MIGRATION),
                 ev_add(3, 0x1000, 0x1fff, io, 0),
                 ev_rx(EV_ADD, 3, 0x2000, 0x2fff, r2, 0, 0,
                       MT_DIRTY_VGA | MT_DIRTY_MIGRATION),
                 ev_log(EV_LOG_START, 3, 0x2000, 0x2fff, r2, 0, 0,
                        MT_DIRTY_VGA | MT_DIRTY_MIGRATION),
                 ev_rx(EV_ADD, 3, 0x3000, 0x3fff, r3, 0, 0,
                       MT_DIRTY_MIGRATION),
                 ev_log(EV_LOG_START, 3, 0x3000, 0x3fff, r3, 0, 0,
                        MT_DIRTY_MIGRATION),
                 ev_c(3));

    /* Registering on an empty view: begin and commit only. */
    mt_region *empty = t_container(ctx, "empty", 0x10000);
    mt_as *as2 = t_as(ctx, empty, "as2");
    t_log_clear();
    t_listen(as2, 4, 0, 0);
    CHECK_EVENTS(ev_b(4), ev_gstart(4), ev_c(4));

    mt_ctx_free(ctx);
}

/*
 * QEMU 7.2 keeps every address space's ioeventfd set up to date whether or
 * not it has eventfd listeners (the skip for address spaces without any
 * came with the ioeventfd_notifiers counter in 2023, after 7.2). So an
 * ioeventfd that existed before a listener registered is never announced
 * to it: not at registration, not at any later commit; its removal is.
 */
static void test_item23_existing_ioeventfd_not_replayed_later(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *root = t_container(ctx, "root", 0x10000);
    mt_region *io = t_io(ctx, "io", K), *r = t_ram(ctx, "r", K);
    t_map(root, 0x1000, io);
    MT_OK(mt_region_add_eventfd(io, 0x4, 4, false, 0, 11));
    mt_as *as = t_as(ctx, root, "as");

    t_listen(as, 1, 0, NO_NOP);
    CHECK_EVENTS(ev_b(1), ev_add(1, 0x1000, 0x1fff, io, 0), ev_c(1));

    /* An unrelated change of the view. */
    t_map(root, 0x3000, r);
    CHECK_EVENTS(ev_b(1), ev_add(1, 0x3000, 0x3fff, r, 0), ev_c(1));

    MT_OK(mt_region_del_eventfd(io, 0x4, 4, false, 0, 11));
    CHECK_EVENTS(ev_efd(EV_EFD_DEL, 1, 0x1004, 4, false, 0, 11));
    mt_ctx_free(ctx);
}

/* ------------------------------------------------------------------------ */
/* Item 24: ioeventfd size 0 matches any size; no data match ignores data    */
/* ------------------------------------------------------------------------ */

static void test_item24_eventfd_size0_and_data_ignored(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *root = t_container(ctx, "root", 0x10000);
    mt_region *io = t_io(ctx, "io", 0x100);
    t_map(root, 0x1000, io);
    mt_as *as = t_as(ctx, root, "as");
    t_listen(as, 1, 0, NO_NOP);
    t_log_clear();

    /* del with size 0 removes an entry of size 4 at that address. */
    MT_OK(mt_region_add_eventfd(io, 0x10, 4, false, 0, 9));
    CHECK_EVENTS(ev_efd(EV_EFD_ADD, 1, 0x1010, 4, false, 0, 9));
    MT_OK(mt_region_del_eventfd(io, 0x10, 0, false, 0, 9));
    CHECK_EVENTS(ev_efd(EV_EFD_DEL, 1, 0x1010, 4, false, 0, 9));
    MT_EXPECT(mt_region_del_eventfd(io, 0x10, 0, false, 0, 9), MT_ENOENT);
    CHECK_NO_EVENTS();

    /* Two entries at one address: size 0 matches whatever it meets first
     * (entries are kept sorted, smaller size first), whatever the data
     * match, data and fd asked for. */
    MT_OK(mt_region_add_eventfd(io, 0x10, 4, true, 0x66, 9));
    MT_OK(mt_region_add_eventfd(io, 0x10, 2, true, 0x55, 9));
    CHECK_EVENTS(ev_efd(EV_EFD_ADD, 1, 0x1010, 4, true, 0x66, 9),
                 ev_efd(EV_EFD_ADD, 1, 0x1010, 2, true, 0x55, 9));
    MT_OK(mt_region_del_eventfd(io, 0x10, 0, true, 0x77, 9));
    CHECK_EVENTS(ev_efd(EV_EFD_DEL, 1, 0x1010, 2, true, 0x55, 9));
    MT_OK(mt_region_del_eventfd(io, 0x10, 0, false, 0, 1));
    CHECK_EVENTS(ev_efd(EV_EFD_DEL, 1, 0x1010, 4, true, 0x66, 9));

    /* A size-0 entry ("any size") is removed by a del of any size. */
    MT_OK(mt_region_add_eventfd(io, 0x18, 0, false, 0, 9));
    CHECK_EVENTS(ev_efd(EV_EFD_ADD, 1, 0x1018, 0, false, 0, 9));
    MT_OK(mt_region_del_eventfd(io, 0x18, 8, true, 0x1234, 5));
    CHECK_EVENTS(ev_efd(EV_EFD_DEL, 1, 0x1018, 0, false, 0, 9));

    /* Without data match the data is ignored: added with one value,
     * removed with another; listeners see the stored value both times. */
    MT_OK(mt_region_add_eventfd(io, 0x20, 4, false, 0x1234, 9));
    CHECK_EVENTS(ev_efd(EV_EFD_ADD, 1, 0x1020, 4, false, 0x1234, 9));
    MT_OK(mt_region_del_eventfd(io, 0x20, 4, false, 0xabcd, 9));
    CHECK_EVENTS(ev_efd(EV_EFD_DEL, 1, 0x1020, 4, false, 0x1234, 9));

    /* Otherwise everything has to match. */
    MT_OK(mt_region_add_eventfd(io, 0x30, 4, true, 0x1, 9));
    CHECK_EVENTS(ev_efd(EV_EFD_ADD, 1, 0x1030, 4, true, 0x1, 9));
    MT_EXPECT(mt_region_del_eventfd(io, 0x30, 4, true, 0x2, 9), MT_ENOENT);
    MT_EXPECT(mt_region_del_eventfd(io, 0x30, 4, false, 0x1, 9), MT_ENOENT);
    MT_EXPECT(mt_region_del_eventfd(io, 0x30, 2, true, 0x1, 9), MT_ENOENT);
    MT_EXPECT(mt_region_del_eventfd(io, 0x30, 4, true, 0x1, 8), MT_ENOENT);
    MT_EXPECT(mt_region_del_eventfd(io, 0x34, 0, true, 0x1, 9), MT_ENOENT);
    CHECK_NO_EVENTS();
    MT_OK(mt_region_del_eventfd(io, 0x30, 4, true, 0x1, 9));
    CHECK_EVENTS(ev_efd(EV_EFD_DEL, 1, 0x1030, 4, true, 0x1, 9));

    mt_ctx_free(ctx);
}

/* ------------------------------------------------------------------------ */
/* Item 25: ioeventfd data in the region's byte order                        */
/* ------------------------------------------------------------------------ */

static void test_item25_eventfd_data_endianness(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *root = t_container(ctx, "root", 0x10000);
    mt_ops be_ops, le_ops;
    memset(&be_ops, 0, sizeof(be_ops));
    memset(&le_ops, 0, sizeof(le_ops));
    be_ops.endian = MT_ENDIAN_BIG;
    le_ops.endian = MT_ENDIAN_LITTLE;
    mt_region *be = NULL, *le = NULL;
    MT_OK(mt_region_new_io(ctx, "be", 0x100, &be_ops, NULL, &be));
    MT_OK(mt_region_new_io(ctx, "le", 0x100, &le_ops, NULL, &le));
    t_map(root, 0x1000, be);
    t_map(root, 0x2000, le);
    mt_as *as = t_as(ctx, root, "as");
    t_listen(as, 1, 0, NO_NOP);
    t_log_clear();

    MT_OK(mt_region_add_eventfd(be, 0x0, 4, true, 0x11223344, 3));
    CHECK_EVENTS(ev_efd(EV_EFD_ADD, 1, 0x1000, 4, true, 0x44332211, 3));
    MT_OK(mt_region_add_eventfd(be, 0x8, 2, true, 0x1122, 3));
    CHECK_EVENTS(ev_efd(EV_EFD_ADD, 1, 0x1008, 2, true, 0x2211, 3));
    MT_OK(mt_region_add_eventfd(be, 0x10, 8, true, 0x1122334455667788ull,
                                3));
    CHECK_EVENTS(ev_efd(EV_EFD_ADD, 1, 0x1010, 8, true,
                        0x8877665544332211ull, 3));
    MT_OK(mt_region_add_eventfd(be, 0x18, 1, true, 0x11, 3));
    CHECK_EVENTS(ev_efd(EV_EFD_ADD, 1, 0x1018, 1, true, 0x11, 3));

    MT_OK(mt_region_add_eventfd(le, 0x0, 4, true, 0x11223344, 3));
    CHECK_EVENTS(ev_efd(EV_EFD_ADD, 1, 0x2000, 4, true, 0x11223344, 3));
    MT_OK(mt_region_add_eventfd(le, 0x8, 2, true, 0x1122, 3));
    CHECK_EVENTS(ev_efd(EV_EFD_ADD, 1, 0x2008, 2, true, 0x1122, 3));

    /* Deleting converts the same way: the host-order value removes it, the
     * pre-swapped value does not. */
    MT_EXPECT(mt_region_del_eventfd(be, 0x0, 4, true, 0x44332211, 3),
              MT_ENOENT);
    CHECK_NO_EVENTS();
    MT_OK(mt_region_del_eventfd(be, 0x0, 4, true, 0x11223344, 3));
    CHECK_EVENTS(ev_efd(EV_EFD_DEL, 1, 0x1000, 4, true, 0x44332211, 3));
    MT_OK(mt_region_del_eventfd(be, 0x10, 8, true, 0x1122334455667788ull,
                                3));
    CHECK_EVENTS(ev_efd(EV_EFD_DEL, 1, 0x1010, 8, true,
                        0x8877665544332211ull, 3));
    MT_OK(mt_region_del_eventfd(le, 0x0, 4, true, 0x11223344, 3));
    CHECK_EVENTS(ev_efd(EV_EFD_DEL, 1, 0x2000, 4, true, 0x11223344, 3));

    mt_ctx_free(ctx);
}

/* Every test starts with an empty log. */
#define T(f) cmocka_unit_test_setup(f, t_log_setup)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_item18_del_before_add_per_as),
        T(test_item19_attr_change_del_add_mask_change_nop_log),
        T(test_item19_without_nop_listener_only_log_events),
        T(test_item20_nop_for_every_unchanged_range),
        T(test_item21_listener_order),
        T(test_item21_fifo_among_equals_after_churn),
        T(test_item22_eventfd_order),
        T(test_item23_register_replays_view),
        T(test_item23_existing_ioeventfd_not_replayed_later),
        T(test_item24_eventfd_size0_and_data_ignored),
        T(test_item25_eventfd_data_endianness),
    };
    return cmocka_run_group_tests(tests, NULL, t_log_teardown);
}
