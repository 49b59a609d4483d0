/* SPDX-License-Identifier: MIT */
/*
 * test_listener_events.c: listener events beyond checklist items 18-25:
 * unregistering and address-space destruction, coalesced I/O, global dirty
 * logging, log_sync, empty and nested transactions, and a large
 * incremental commit. Public API only; the whole delivered sequence is
 * compared each time (listener_log.h).
 */
#include "listener_log.h"

#define K 0x1000ull

#define CHECK_NO_EVENTS_OF(id)                                               \
    t_check_events_(NULL, 0, (id), false, __FILE__, __LINE__)

/* ------------------------------------------------------------------------ */
/* Unregistering, destroying the address space                               */
/* ------------------------------------------------------------------------ */

/* r1 RAM at 0, io at 0x1000 (coalesced part, one ioeventfd), r2 RAM at
 * 0x2000 with VGA logging. */
typedef struct world {
    mt_ctx *ctx;
    mt_region *root, *r1, *io, *r2;
    mt_as *as;
} world;

static void world_init(world *w)
{
    w->ctx = t_ctx();
    w->root = t_container(w->ctx, "root", 0x10000);
    w->r1 = t_ram(w->ctx, "r1", K);
    w->io = t_io(w->ctx, "io", K);
    w->r2 = t_ram(w->ctx, "r2", K);
    t_map(w->root, 0x0000, w->r1);
    t_map(w->root, 0x1000, w->io);
    t_map(w->root, 0x2000, w->r2);
    MT_OK(mt_region_set_dirty_log(w->r2, true));
    MT_OK(mt_region_add_coalescing(w->io, 0x100, 0x100));
    MT_OK(mt_region_add_eventfd(w->io, 0x8, 4, false, 0, 5));
    w->as = t_as(w->ctx, w->root, "as");
}

static void test_unregister_deletes_everything(void **state)
{
    (void)state;
    world w;
    world_init(&w);
    /* (No eventfd hooks on 1: when an ioeventfd that predates the
     * listener is reported is item 23's business, test_listener.c.) */
    t_listen(w.as, 1, 0, NO_NOP | NO_EFD);
    mt_listener *l2 = t_listen(w.as, 2, 0, 0);
    t_log_clear();

    /* Only the leaving listener hears anything: begin, then per range in
     * address order log_stop (to 0, where logged) and region_del, then
     * commit. No coalesced_io_del, no eventfd_del, no log_global_stop. */
    mt_listener_unregister(l2);
    CHECK_EVENTS(ev_b(2),
                 ev_del(2, 0x0000, 0x0fff, w.r1, 0),
                 ev_del(2, 0x1000, 0x1fff, w.io, 0),
                 ev_log(EV_LOG_STOP, 2, 0x2000, 0x2fff, w.r2, 0,
                        MT_DIRTY_VGA, 0),
                 ev_rx(EV_DEL, 2, 0x2000, 0x2fff, w.r2, 0, 0, MT_DIRTY_VGA),
                 ev_c(2));

    /* Gone: later commits reach only the remaining listener. */
    mt_region *r3 = t_ram(w.ctx, "r3", K);
    t_map(w.root, 0x3000, r3);
    CHECK_EVENTS(ev_b(1), ev_add(1, 0x3000, 0x3fff, r3, 0), ev_c(1));

    mt_listener_unregister(NULL);
    CHECK_NO_EVENTS();

    /* With global dirty logging on, every RAM range is stopped from its
     * full mask. */
    MT_OK(mt_ctx_dirty_log_start(w.ctx));
    mt_listener *l3 = t_listen(w.as, 3, 0, NO_NOP);
    t_log_clear();
    mt_listener_unregister(l3);
    CHECK_EVENTS(ev_b(3),
                 ev_log(EV_LOG_STOP, 3, 0x0000, 0x0fff, w.r1, 0,
                        MT_DIRTY_MIGRATION, 0),
                 ev_rx(EV_DEL, 3, 0x0000, 0x0fff, w.r1, 0, 0,
                       MT_DIRTY_MIGRATION),
                 ev_del(3, 0x1000, 0x1fff, w.io, 0),
                 ev_log(EV_LOG_STOP, 3, 0x2000, 0x2fff, w.r2, 0,
                        MT_DIRTY_VGA | MT_DIRTY_MIGRATION, 0),
                 ev_rx(EV_DEL, 3, 0x2000, 0x2fff, w.r2, 0, 0,
                       MT_DIRTY_VGA | MT_DIRTY_MIGRATION),
                 ev_log(EV_LOG_STOP, 3, 0x3000, 0x3fff, r3, 0,
                        MT_DIRTY_MIGRATION, 0),
                 ev_rx(EV_DEL, 3, 0x3000, 0x3fff, r3, 0, 0,
                       MT_DIRTY_MIGRATION),
                 ev_c(3));

    mt_ctx_free(w.ctx);
}

static void test_as_free_unregisters_its_listeners(void **state)
{
    (void)state;
    world w;
    world_init(&w);
    mt_region *root2 = t_container(w.ctx, "root2", 0x10000);
    mt_region *x = t_ram(w.ctx, "x", K);
    t_map(root2, 0, x);
    mt_as *as2 = t_as(w.ctx, root2, "as2");
    t_listen(w.as, 1, 0, NO_NOP);
    t_listen(w.as, 2, 4, 0);
    t_listen(as2, 3, 0, NO_NOP);
    t_log_clear();

    mt_as_free(w.as);
    CHECK_EVENTS_OF(1, ev_b(1),
                    ev_del(1, 0x0000, 0x0fff, w.r1, 0),
                    ev_del(1, 0x1000, 0x1fff, w.io, 0),
                    ev_log(EV_LOG_STOP, 1, 0x2000, 0x2fff, w.r2, 0,
                           MT_DIRTY_VGA, 0),
                    ev_rx(EV_DEL, 1, 0x2000, 0x2fff, w.r2, 0, 0,
                          MT_DIRTY_VGA),
                    ev_c(1));
    CHECK_EVENTS_OF(2, ev_b(2),
                    ev_del(2, 0x0000, 0x0fff, w.r1, 0),
                    ev_del(2, 0x1000, 0x1fff, w.io, 0),
                    ev_log(EV_LOG_STOP, 2, 0x2000, 0x2fff, w.r2, 0,
                           MT_DIRTY_VGA, 0),
                    ev_rx(EV_DEL, 2, 0x2000, 0x2fff, w.r2, 0, 0,
                          MT_DIRTY_VGA),
                    ev_c(2));
    /* Each listener hears its own begin..commit block whole. */
    for (size_t i = 1; i < g_nev; i++)
        if (g_ev[i - 1].kind != EV_COMMIT && g_ev[i - 1].id != 3)
            assert_int_equal(g_ev[i].id, g_ev[i - 1].id);
    assert_int_equal(mt_ctx_nr_as(w.ctx), 1);
    t_log_clear();

    /* The destroyed address space's listeners are gone; the other one
     * still hears its address space. */
    MT_OK(mt_region_del_subregion(root2, x));
    CHECK_EVENTS(ev_b(3), ev_del(3, 0, 0xfff, x, 0), ev_c(3));
    mt_ctx_free(w.ctx);
}

/* mt_ctx_free destroys the address spaces the same way. */
static void test_ctx_free_unregisters_listeners(void **state)
{
    (void)state;
    world w;
    world_init(&w);
    t_listen(w.as, 1, 0, NO_NOP);
    t_log_clear();
    mt_ctx_free(w.ctx);
    g_print_ptrs = true; /* the regions are gone */
    CHECK_EVENTS(ev_b(1),
                 ev_del(1, 0x0000, 0x0fff, w.r1, 0),
                 ev_del(1, 0x1000, 0x1fff, w.io, 0),
                 ev_log(EV_LOG_STOP, 1, 0x2000, 0x2fff, w.r2, 0,
                        MT_DIRTY_VGA, 0),
                 ev_rx(EV_DEL, 1, 0x2000, 0x2fff, w.r2, 0, 0, MT_DIRTY_VGA),
                 ev_c(1));
    g_print_ptrs = false;
}

/* ------------------------------------------------------------------------ */
/* Coalesced I/O                                                             */
/* ------------------------------------------------------------------------ */

static void test_coalesced_io_intersections(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *root = t_container(ctx, "root", 0x10000);
    mt_region *io = t_io(ctx, "io", K);
    mt_region *h = t_ram(ctx, "hider", 0x400);
    mt_region *al = t_alias(ctx, "al", io, 0x600, 0x200);
    t_map(root, 0x4000, io);
    t_map_prio(root, 0x4800, h, 1);
    t_map(root, 0x8000, al);
    mt_as *as = t_as(ctx, root, "as");
    CHECK_AS(as, { 0x4000, 0x47ff, io, 0x000, 0 },
                 { 0x4800, 0x4bff, h, 0, 0 },
                 { 0x4c00, 0x4fff, io, 0xc00, 0 },
                 { 0x8000, 0x81ff, io, 0x600, 0 });
    t_listen(as, 1, 0, NO_NOP);
    t_log_clear();

    /* Region offsets [0x700, 0xd00): one intersection per range showing
     * them, in address-space addresses, at once (no begin/commit). */
    MT_OK(mt_region_add_coalescing(io, 0x700, 0x600));
    CHECK_EVENTS(ev_cio(EV_CIO_ADD, 1, 0x4000, 0x47ff, 0x4700, 0x100),
                 ev_cio(EV_CIO_ADD, 1, 0x4c00, 0x4fff, 0x4c00, 0x100),
                 ev_cio(EV_CIO_ADD, 1, 0x8000, 0x81ff, 0x8100, 0x100));
    MT_OK(mt_region_add_coalescing(io, 0x0, 0x10));
    CHECK_EVENTS(ev_cio(EV_CIO_ADD, 1, 0x4000, 0x47ff, 0x4000, 0x10));

    /* Uncovering the middle: each removed range first loses its parts,
     * then is deleted; the new range is added, then gets its parts. */
    MT_OK(mt_region_del_subregion(root, h));
    CHECK_EVENTS(ev_b(1),
                 ev_cio(EV_CIO_DEL, 1, 0x4000, 0x47ff, 0x4700, 0x100),
                 ev_cio(EV_CIO_DEL, 1, 0x4000, 0x47ff, 0x4000, 0x10),
                 ev_del(1, 0x4000, 0x47ff, io, 0),
                 ev_del(1, 0x4800, 0x4bff, h, 0),
                 ev_cio(EV_CIO_DEL, 1, 0x4c00, 0x4fff, 0x4c00, 0x100),
                 ev_del(1, 0x4c00, 0x4fff, io, 0xc00),
                 ev_add(1, 0x4000, 0x4fff, io, 0),
                 ev_cio(EV_CIO_ADD, 1, 0x4000, 0x4fff, 0x4700, 0x600),
                 ev_cio(EV_CIO_ADD, 1, 0x4000, 0x4fff, 0x4000, 0x10),
                 ev_c(1));

    /* Clearing: part by part, every range showing it. */
    MT_OK(mt_region_clear_coalescing(io));
    CHECK_EVENTS(ev_cio(EV_CIO_DEL, 1, 0x4000, 0x4fff, 0x4700, 0x600),
                 ev_cio(EV_CIO_DEL, 1, 0x8000, 0x81ff, 0x8100, 0x100),
                 ev_cio(EV_CIO_DEL, 1, 0x4000, 0x4fff, 0x4000, 0x10));
    MT_OK(mt_region_clear_coalescing(io));
    CHECK_NO_EVENTS();

    /* The whole region. */
    MT_OK(mt_region_set_coalescing(io));
    CHECK_EVENTS(ev_cio(EV_CIO_ADD, 1, 0x4000, 0x4fff, 0x4000, 0x1000),
                 ev_cio(EV_CIO_ADD, 1, 0x8000, 0x81ff, 0x8000, 0x200));

    /* Unmapped later: with its region_del; mapped again: with its
     * region_add. The alias keeps showing it. */
    MT_OK(mt_region_del_subregion(root, io));
    CHECK_EVENTS(ev_b(1),
                 ev_cio(EV_CIO_DEL, 1, 0x4000, 0x4fff, 0x4000, 0x1000),
                 ev_del(1, 0x4000, 0x4fff, io, 0),
                 ev_c(1));
    t_map(root, 0x2000, io);
    CHECK_EVENTS(ev_b(1),
                 ev_add(1, 0x2000, 0x2fff, io, 0),
                 ev_cio(EV_CIO_ADD, 1, 0x2000, 0x2fff, 0x2000, 0x1000),
                 ev_c(1));

    /* A region coalesced while unmapped: nothing at once, its parts with
     * its region_add when mapped. */
    mt_region *io2 = t_io(ctx, "io2", K);
    MT_OK(mt_region_add_coalescing(io2, 0x10, 0x8));
    CHECK_NO_EVENTS();
    t_map(root, 0xa000, io2);
    CHECK_EVENTS(ev_b(1),
                 ev_add(1, 0xa000, 0xafff, io2, 0),
                 ev_cio(EV_CIO_ADD, 1, 0xa000, 0xafff, 0xa010, 0x8),
                 ev_c(1));

    MT_EXPECT(mt_region_add_coalescing(io2, 0xff8, 0x10), MT_ERANGE);
    MT_EXPECT(mt_region_add_coalescing(io2, 0, 0), MT_EINVAL);
    CHECK_NO_EVENTS();
    mt_ctx_free(ctx);
}

/* ------------------------------------------------------------------------ */
/* Global dirty logging                                                      */
/* ------------------------------------------------------------------------ */

static void test_global_dirty_log_start_stop(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *root = t_container(ctx, "root", 0x10000);
    mt_region *r1 = t_ram(ctx, "r1", K), *io = t_io(ctx, "io", K);
    mt_region *r2 = t_ram(ctx, "r2", K);
    t_map(root, 0x0000, r1);
    t_map(root, 0x1000, io);
    t_map(root, 0x2000, r2);
    MT_OK(mt_region_set_dirty_log(r2, true));
    mt_as *as = t_as(ctx, root, "as");
    t_listen(as, 1, 0, NO_NOP);
    t_listen(as, 2, 3, NO_NOP);
    t_log_clear();

    MT_OK(mt_ctx_dirty_log_start(ctx));
    CHECK_EVENTS(ev_gstart(1), ev_gstart(2),
                 ev_b(1), ev_b(2),
                 ev_log(EV_LOG_START, 1, 0x0000, 0x0fff, r1, 0, 0,
                        MT_DIRTY_MIGRATION),
                 ev_log(EV_LOG_START, 2, 0x0000, 0x0fff, r1, 0, 0,
                        MT_DIRTY_MIGRATION),
                 ev_log(EV_LOG_START, 1, 0x2000, 0x2fff, r2, 0, MT_DIRTY_VGA,
                        MT_DIRTY_VGA | MT_DIRTY_MIGRATION),
                 ev_log(EV_LOG_START, 2, 0x2000, 0x2fff, r2, 0, MT_DIRTY_VGA,
                        MT_DIRTY_VGA | MT_DIRTY_MIGRATION),
                 ev_c(1), ev_c(2));
    mt_flatview *fv = mt_as_flatview(as);
    assert_int_equal(mt_flatview_nr_ranges(fv), 3);
    assert_int_equal(mt_flatview_range(fv, 0)->dirty_log_mask,
                     MT_DIRTY_MIGRATION);
    assert_int_equal(mt_flatview_range(fv, 1)->dirty_log_mask, 0);
    assert_int_equal(mt_flatview_range(fv, 2)->dirty_log_mask,
                     MT_DIRTY_VGA | MT_DIRTY_MIGRATION);
    mt_flatview_unref(fv);

    /* Counted. */
    MT_OK(mt_ctx_dirty_log_start(ctx));
    CHECK_NO_EVENTS();
    MT_OK(mt_ctx_dirty_log_stop(ctx));
    CHECK_NO_EVENTS();

    /* A RAM range mapped while logging is on arrives logged. */
    mt_region *r3 = t_ram(ctx, "r3", K);
    t_map(root, 0x3000, r3);
    CHECK_EVENTS(ev_b(1), ev_b(2),
                 ev_rx(EV_ADD, 1, 0x3000, 0x3fff, r3, 0, 0,
                       MT_DIRTY_MIGRATION),
                 ev_rx(EV_ADD, 2, 0x3000, 0x3fff, r3, 0, 0,
                       MT_DIRTY_MIGRATION),
                 ev_c(1), ev_c(2));

    /* The last stop: the ranges lose the bit (log_stop, reverse), then
     * log_global_stop (reverse) after the commit. */
    MT_OK(mt_ctx_dirty_log_stop(ctx));
    CHECK_EVENTS(ev_b(1), ev_b(2),
                 ev_log(EV_LOG_STOP, 2, 0x0000, 0x0fff, r1, 0,
                        MT_DIRTY_MIGRATION, 0),
                 ev_log(EV_LOG_STOP, 1, 0x0000, 0x0fff, r1, 0,
                        MT_DIRTY_MIGRATION, 0),
                 ev_log(EV_LOG_STOP, 2, 0x2000, 0x2fff, r2, 0,
                        MT_DIRTY_VGA | MT_DIRTY_MIGRATION, MT_DIRTY_VGA),
                 ev_log(EV_LOG_STOP, 1, 0x2000, 0x2fff, r2, 0,
                        MT_DIRTY_VGA | MT_DIRTY_MIGRATION, MT_DIRTY_VGA),
                 ev_log(EV_LOG_STOP, 2, 0x3000, 0x3fff, r3, 0,
                        MT_DIRTY_MIGRATION, 0),
                 ev_log(EV_LOG_STOP, 1, 0x3000, 0x3fff, r3, 0,
                        MT_DIRTY_MIGRATION, 0),
                 ev_c(1), ev_c(2),
                 ev_gstop(2), ev_gstop(1));

    MT_EXPECT(mt_ctx_dirty_log_stop(ctx), MT_ESTATE);
    CHECK_NO_EVENTS();
    MT_EXPECT(mt_ctx_dirty_log_start(NULL), MT_EINVAL);
    mt_ctx_free(ctx);
}

/* log_global_start/stop reach the listeners of every address space. */
static void test_global_dirty_log_all_address_spaces(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *root1 = t_container(ctx, "root1", 0x10000);
    mt_region *root2 = t_container(ctx, "root2", 0x10000);
    mt_region *r1 = t_ram(ctx, "r1", K), *r2 = t_ram(ctx, "r2", K);
    t_map(root1, 0x1000, r1);
    t_map(root2, 0x2000, r2);
    mt_as *as1 = t_as(ctx, root1, "as1");
    mt_as *as2 = t_as(ctx, root2, "as2");
    t_listen(as2, 2, 0, NO_NOP);
    t_listen(as1, 1, 0, NO_NOP);
    t_log_clear();

    MT_OK(mt_ctx_dirty_log_start(ctx));
    CHECK_EVENTS(ev_gstart(2), ev_gstart(1),
                 ev_b(2), ev_b(1),
                 ev_log(EV_LOG_START, 1, 0x1000, 0x1fff, r1, 0, 0,
                        MT_DIRTY_MIGRATION),
                 ev_log(EV_LOG_START, 2, 0x2000, 0x2fff, r2, 0, 0,
                        MT_DIRTY_MIGRATION),
                 ev_c(2), ev_c(1));
    MT_OK(mt_ctx_dirty_log_stop(ctx));
    CHECK_EVENTS(ev_b(2), ev_b(1),
                 ev_log(EV_LOG_STOP, 1, 0x1000, 0x1fff, r1, 0,
                        MT_DIRTY_MIGRATION, 0),
                 ev_log(EV_LOG_STOP, 2, 0x2000, 0x2fff, r2, 0,
                        MT_DIRTY_MIGRATION, 0),
                 ev_c(2), ev_c(1),
                 ev_gstop(1), ev_gstop(2));
    mt_ctx_free(ctx);
}

/* ------------------------------------------------------------------------ */
/* log_sync                                                                  */
/* ------------------------------------------------------------------------ */

static void test_log_sync_logged_ranges_only(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *root = t_container(ctx, "root", 0x10000);
    mt_region *root2 = t_container(ctx, "root2", 0x10000);
    mt_region *r1 = t_ram(ctx, "r1", K), *r2 = t_ram(ctx, "r2", K);
    mt_region *r3 = t_ram(ctx, "r3", K), *r4 = t_ram(ctx, "r4", K);
    mt_region *io = t_io(ctx, "io", K);
    mt_region *a1 = t_alias(ctx, "a1", r1, 0x800, 0x800);
    t_map(root, 0x0000, r1);
    t_map(root, 0x1000, r2);
    t_map(root, 0x2000, r3);
    t_map(root, 0x3000, io);
    t_map(root, 0x4000, a1);
    t_map(root2, 0x0, r4);
    MT_OK(mt_region_set_dirty_log(r1, true));
    MT_OK(mt_region_set_dirty_log(r3, true));
    MT_OK(mt_region_set_dirty_log(r4, true));
    mt_as *as = t_as(ctx, root, "as");
    mt_as *as2 = t_as(ctx, root2, "as2");
    t_listen(as, 1, 0, 0);
    t_listen(as, 2, 0, NO_SYNC);
    t_listen(as2, 3, 0, 0);
    t_log_clear();

    MT_OK(mt_as_log_sync(as, NULL));
    CHECK_EVENTS(ev_sync(1, 0x0000, 0x0fff, r1, 0),
                 ev_sync(1, 0x2000, 0x2fff, r3, 0),
                 ev_sync(1, 0x4000, 0x47ff, r1, 0x800));
    MT_OK(mt_as_log_sync(as, r1));
    CHECK_EVENTS(ev_sync(1, 0x0000, 0x0fff, r1, 0),
                 ev_sync(1, 0x4000, 0x47ff, r1, 0x800));
    MT_OK(mt_as_log_sync(as, r3));
    CHECK_EVENTS(ev_sync(1, 0x2000, 0x2fff, r3, 0));
    MT_OK(mt_as_log_sync(as, r2));   /* mapped, not logged */
    CHECK_NO_EVENTS();
    MT_OK(mt_as_log_sync(as, io));
    CHECK_NO_EVENTS();
    MT_OK(mt_as_log_sync(as, r4));   /* logged, other address space */
    CHECK_NO_EVENTS();
    MT_OK(mt_as_log_sync(as2, NULL));
    CHECK_EVENTS(ev_sync(3, 0x0000, 0x0fff, r4, 0));
    MT_EXPECT(mt_as_log_sync(NULL, NULL), MT_EINVAL);

    MT_OK(mt_region_set_dirty_log(r1, false));
    t_log_clear();
    MT_OK(mt_as_log_sync(as, NULL));
    CHECK_EVENTS(ev_sync(1, 0x2000, 0x2fff, r3, 0));

    /* Global dirty logging makes every RAM range logged. */
    MT_OK(mt_ctx_dirty_log_start(ctx));
    t_log_clear();
    MT_OK(mt_as_log_sync(as, NULL));
    CHECK_EVENTS(ev_sync(1, 0x0000, 0x0fff, r1, 0),
                 ev_sync(1, 0x1000, 0x1fff, r2, 0),
                 ev_sync(1, 0x2000, 0x2fff, r3, 0),
                 ev_sync(1, 0x4000, 0x47ff, r1, 0x800));
    mt_ctx_free(ctx);
}

/* QEMU (memory_region_sync_dirty_bitmap) walks the listener list and, for
 * each listener with log_sync, every logged range of its address space:
 * listener-major order. */
static void test_log_sync_listener_major_order(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *root = t_container(ctx, "root", 0x10000);
    mt_region *r1 = t_ram(ctx, "r1", K), *r2 = t_ram(ctx, "r2", K);
    t_map(root, 0x0000, r1);
    t_map(root, 0x1000, r2);
    MT_OK(mt_region_set_dirty_log(r1, true));
    MT_OK(mt_region_set_dirty_log(r2, true));
    mt_as *as = t_as(ctx, root, "as");
    t_listen(as, 1, 0, 0);
    t_listen(as, 2, 1, 0);
    t_log_clear();

    MT_OK(mt_as_log_sync(as, NULL));
    CHECK_EVENTS(ev_sync(1, 0x0000, 0x0fff, r1, 0),
                 ev_sync(1, 0x1000, 0x1fff, r2, 0),
                 ev_sync(2, 0x0000, 0x0fff, r1, 0),
                 ev_sync(2, 0x1000, 0x1fff, r2, 0));
    mt_ctx_free(ctx);
}

/* ------------------------------------------------------------------------ */
/* Transactions                                                              */
/* ------------------------------------------------------------------------ */

static void test_empty_commit_no_events(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *root = t_container(ctx, "root", 0x10000);
    mt_region *r = t_ram(ctx, "r", K), *u = t_ram(ctx, "u", K);
    t_map(root, 0, r);
    mt_as *as = t_as(ctx, root, "as");
    t_listen(as, 1, 0, 0);   /* even a region_nop listener */
    t_listen(as, 2, 0, NO_NOP);
    t_log_clear();

    mt_begin(ctx);
    MT_OK(mt_commit(ctx));
    CHECK_NO_EVENTS();

    mt_begin(ctx);
    mt_begin(ctx);
    MT_OK(mt_commit(ctx));
    MT_OK(mt_commit(ctx));
    CHECK_NO_EVENTS();
    MT_EXPECT(mt_commit(ctx), MT_ESTATE);
    CHECK_NO_EVENTS();

    /* Setters that change nothing open no transaction worth a commit. */
    MT_OK(mt_region_set_enabled(r, true));
    MT_OK(mt_region_set_readonly(r, false));
    MT_OK(mt_region_set_address(r, 0));
    CHECK_NO_EVENTS();

    /* A change undone within the transaction is still a pending change
     * (QEMU only knows "something changed"): begin, the nops, commit. */
    mt_begin(ctx);
    t_map(root, 0x1000, u);
    MT_OK(mt_region_del_subregion(root, u));
    MT_OK(mt_commit(ctx));
    CHECK_EVENTS(ev_b(1), ev_b(2), ev_nop(1, 0, 0xfff, r, 0), ev_c(1),
                 ev_c(2));
    mt_ctx_free(ctx);
}

static void test_nested_transaction_events_at_outermost_commit(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *root = t_container(ctx, "root", 0x10000);
    mt_region *r1 = t_ram(ctx, "r1", K), *r2 = t_ram(ctx, "r2", K);
    mt_region *io = t_io(ctx, "io", 0x100);
    t_map(root, 0, r1);
    mt_as *as = t_as(ctx, root, "as");
    t_listen(as, 1, 0, NO_NOP);
    t_log_clear();

    mt_begin(ctx);
    t_map(root, 0x1000, r2);
    CHECK_NO_EVENTS();
    mt_begin(ctx);
    MT_OK(mt_region_set_address(r1, 0x3000));
    t_map(root, 0x5000, io);
    MT_OK(mt_region_add_eventfd(io, 0x4, 2, true, 0x7, 12));
    MT_OK(mt_region_add_coalescing(r2, 0x10, 0x10));
    MT_OK(mt_region_set_dirty_log(r2, true));
    MT_OK(mt_commit(ctx));
    CHECK_NO_EVENTS();
    assert_int_equal(mt_transaction_depth(ctx), 1);
    CHECK_AS(as, { 0, 0xfff, r1, 0, 0 });
    MT_OK(mt_commit(ctx));
    assert_int_equal(mt_transaction_depth(ctx), 0);
    CHECK_EVENTS(ev_b(1),
                 ev_del(1, 0x0000, 0x0fff, r1, 0),
                 ev_rx(EV_ADD, 1, 0x1000, 0x1fff, r2, 0, 0, MT_DIRTY_VGA),
                 ev_cio(EV_CIO_ADD, 1, 0x1000, 0x1fff, 0x1010, 0x10),
                 ev_add(1, 0x3000, 0x3fff, r1, 0),
                 ev_add(1, 0x5000, 0x50ff, io, 0),
                 ev_efd(EV_EFD_ADD, 1, 0x5004, 2, true, 0x7, 12),
                 ev_c(1));
    CHECK_AS(as, { 0x1000, 0x1fff, r2, 0, XF_DIRTY },
                 { 0x3000, 0x3fff, r1, 0, 0 },
                 { 0x5000, 0x50ff, io, 0, 0 });

    /* Only eventfds changed: no begin/commit, just the eventfd event, and
     * that only at the outermost commit too. */
    mt_begin(ctx);
    MT_OK(mt_region_del_eventfd(io, 0x4, 2, true, 0x7, 12));
    CHECK_NO_EVENTS();
    MT_OK(mt_commit(ctx));
    CHECK_EVENTS(ev_efd(EV_EFD_DEL, 1, 0x5004, 2, true, 0x7, 12));
    mt_ctx_free(ctx);
}

/* ------------------------------------------------------------------------ */
/* Large incremental commit                                                  */
/* ------------------------------------------------------------------------ */

#define NBIG 10000u

static void test_large_move_one_of_10000(void **state)
{
    (void)state;
    static unsigned char backing[0x1000];
    mt_ctx *ctx = t_ctx();
    mt_region *root = t_container(ctx, "root", 0x40000000);
    mt_region **r = calloc(NBIG, sizeof(*r));
    assert_non_null(r);
    mt_begin(ctx);
    for (unsigned i = 0; i < NBIG; i++) {
        MT_OK(mt_region_new_ram_ptr(ctx, "r", 0x1000, backing, &r[i]));
        t_map(root, (uint64_t)i * 0x2000, r[i]);
    }
    MT_OK(mt_commit(ctx));
    mt_as *as = t_as(ctx, root, "as");
    t_listen(as, 1, 0, NO_NOP);
    assert_int_equal(g_nev, NBIG + 2);   /* begin, NBIG adds, commit */
    t_log_clear();

    const unsigned mv = NBIG / 2;
    const uint64_t to = (uint64_t)NBIG * 0x2000 + 0x10000;
    MT_OK(mt_region_set_address(r[mv], to));
    CHECK_EVENTS(ev_b(1),
                 ev_del(1, (uint64_t)mv * 0x2000, (uint64_t)mv * 0x2000 + 0xfff,
                        r[mv], 0),
                 ev_add(1, to, to + 0xfff, r[mv], 0),
                 ev_c(1));

    exp_range *e = calloc(NBIG, sizeof(*e));
    assert_non_null(e);
    size_t n = 0;
    for (unsigned i = 0; i < NBIG; i++) {
        if (i == mv)
            continue;
        e[n].start = (uint64_t)i * 0x2000;
        e[n].last = e[n].start + 0xfff;
        e[n].region = r[i];
        n++;
    }
    e[n].start = to;
    e[n].last = to + 0xfff;
    e[n].region = r[mv];
    n++;
    t_check_as_(as, e, n, __FILE__, __LINE__);

    /* And back into its hole, between its old neighbours. */
    MT_OK(mt_region_set_address(r[mv], (uint64_t)mv * 0x2000 + 0x1000));
    CHECK_EVENTS(ev_b(1),
                 ev_del(1, to, to + 0xfff, r[mv], 0),
                 ev_add(1, (uint64_t)mv * 0x2000 + 0x1000,
                        (uint64_t)mv * 0x2000 + 0x1fff, r[mv], 0),
                 ev_c(1));
    free(e);
    free(r);
    mt_ctx_free(ctx);
}

/* Every test starts with an empty log. */
#define T(f) cmocka_unit_test_setup(f, t_log_setup)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_unregister_deletes_everything),
        T(test_as_free_unregisters_its_listeners),
        T(test_ctx_free_unregisters_listeners),
        T(test_coalesced_io_intersections),
        T(test_global_dirty_log_start_stop),
        T(test_global_dirty_log_all_address_spaces),
        T(test_log_sync_logged_ranges_only),
        T(test_log_sync_listener_major_order),
        T(test_empty_commit_no_events),
        T(test_nested_transaction_events_at_outermost_commit),
        T(test_large_move_one_of_10000),
    };
    return cmocka_run_group_tests(tests, NULL, t_log_teardown);
}
