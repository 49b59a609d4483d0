/* SPDX-License-Identifier: MIT */
/*
 * test_snapshot_alloc.c: every snapshot call under every allocation
 * failure (the counting allocator of mt_testutil.h): it fails with
 * MT_ENOMEM, leaks nothing, leaves no logging on that it started, and a
 * retry with memory succeeds and gives the right result.
 */
#include <sys/mman.h>
#include <unistd.h>

#include "mt_testutil.h"
#include "snapshot_world.h"

static t_alloc_state st = { 0, 0, -1, 0 };

static void build(world *w)
{
    mt_allocator a = t_allocator(&st);
    mt_ctx *ctx;

    MT_OK(mt_ctx_new(&ctx, &a));
    w_build_with(w, ctx, W_RAM_SIZE);
    w_fill_all(w, 11);
}

/* A fresh machine for each budget: what a failed take leaves behind must
 * go with the context (views retired by commits are freed only after an
 * RCU grace period, so counts within one context drift). */
static void test_take(void **state)
{
    world w;
    mt_snapshot *s;
    long k;

    (void)state;
    for (unsigned flags = 0; flags <= MT_SNAPSHOT_TRACK; flags++) {
        for (k = 0;; k++) {
            long base;
            int rc;

            build(&w);
            base = st.live;
            st.budget = k;
            rc = mt_snapshot_take(w.ctx, flags, &s, NULL);
            st.budget = -1;
            if (rc == 0)
                break;
            MT_EXPECT(rc, MT_ENOMEM);
            assert_null(s);
            if (!flags)
                assert_int_equal(st.live, base);
            /* No logging left on. */
            MT_EXPECT(mt_ctx_dirty_log_stop(w.ctx), MT_ESTATE);
            mt_ctx_free(w.ctx);
            assert_int_equal(st.live, 0);
        }
        assert_true(k > 3);
        assert_memory_equal(mt_snapshot_block_data(s, 0),
                            mt_region_ram_ptr(w.ram), W_RAM_SIZE);
        assert_ptr_equal(mt_snapshot_armed(s), flags ? w.ctx : NULL);
        mt_snapshot_free(s);
        mt_ctx_free(w.ctx);
        assert_int_equal(st.live, 0);
    }
}

static void test_restore_and_reset(void **state)
{
    world w;
    mt_snapshot *s;
    w_mem m;
    char *topo;
    long k;

    (void)state;
    build(&w);
    m = w_save(&w);
    topo = w_topology(&w);
    MT_OK(mt_snapshot_take(w.ctx, MT_SNAPSHOT_TRACK, &s, NULL));
    for (int which = 0; which < 2; which++) {
        for (k = 0;; k++) {
            int rc;

            memset(mt_region_ram_ptr(w.ram), 0x11, 3 * 4096);
            MT_OK(mt_region_dirty_set(w.ram, 0, 3 * 4096,
                                      MT_DIRTY_MIGRATION));
            MT_OK(mt_region_set_enabled(w.win, true));
            st.budget = k;
            rc = which ? mt_snapshot_reset(w.ctx, s, NULL, NULL)
                       : mt_snapshot_restore(w.ctx, s, 0, NULL);
            st.budget = -1;
            if (rc == 0)
                break;
            MT_EXPECT(rc, MT_ENOMEM);
            assert_ptr_equal(mt_snapshot_armed(s), w.ctx);
            /* A retry with memory finishes the job. */
            MT_OK(which ? mt_snapshot_reset(w.ctx, s, NULL, NULL)
                        : mt_snapshot_restore(w.ctx, s, 0, NULL));
            w_check_mem(&w, &m);
            w_check_topology(&w, topo);
        }
        assert_true(k > 1);
        w_check_mem(&w, &m);
        w_check_topology(&w, topo);
    }
    free(topo);
    w_mem_free(&m);
    mt_snapshot_free(s);
    mt_ctx_free(w.ctx);
    assert_int_equal(st.live, 0);
}

static void test_save(void **state)
{
    world w;
    mt_snapshot *s;
    long base;
    int fd = memfd_create("snap", 0);

    (void)state;
    build(&w);
    MT_OK(mt_snapshot_take(w.ctx, 0, &s, NULL));
    base = st.live;
    st.budget = 0;
    MT_EXPECT(mt_snapshot_save(s, fd, NULL), MT_ENOMEM);
    st.budget = -1;
    assert_int_equal(st.live, base);
    assert_int_equal(lseek(fd, 0, SEEK_END), 0);
    MT_OK(mt_snapshot_save(s, fd, NULL));
    close(fd);
    mt_snapshot_free(s);
    mt_ctx_free(w.ctx);
    assert_int_equal(st.live, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_take),
        cmocka_unit_test(test_restore_and_reset),
        cmocka_unit_test(test_save),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
