/* SPDX-License-Identifier: MIT */
/*
 * test_map_iov.c: mapping a guest range whole as host segments
 * (mt_as_map_iov / mt_as_unmap_iov): one segment per run of RAM, bounce
 * buffers for devices, writes reaching both on unmap, dirty logging of
 * what was accessed, and every failure leaving nothing mapped.
 *
 * Layout: RAM "a" [0, 0x2000), device "dev" [0x2000, 0x3000), RAM "b"
 * [0x3000, 0x5000), RAM "c" [0x5000, 0x6000) (a different region right
 * after "b": a segment of its own), a hole after.
 */
#include "mt_testutil.h"

#include <sys/uio.h>

static const mt_attrs ANY = { .unspecified = 1 };

typedef struct world {
    mt_ctx *ctx;
    mt_region *root, *a, *dev, *b, *c;
    mt_as *as;
    uint8_t regs[0x1000]; /* what the device holds */
    unsigned writes;      /* callback calls */
} world;

static mt_result dev_read(void *opaque, uint64_t off, uint64_t *value,
                          unsigned size, mt_attrs attrs)
{
    world *w = opaque;
    uint64_t v = 0;

    (void)attrs;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)w->regs[off + i] << (8 * i);
    *value = v;
    return MT_TX_OK;
}

static mt_result dev_write(void *opaque, uint64_t off, uint64_t value,
                           unsigned size, mt_attrs attrs)
{
    world *w = opaque;

    (void)attrs;
    for (unsigned i = 0; i < size; i++)
        w->regs[off + i] = (uint8_t)(value >> (8 * i));
    w->writes++;
    return MT_TX_OK;
}

static const mt_ops dev_ops = {
    .read = dev_read,
    .write = dev_write,
    .endian = MT_ENDIAN_LITTLE,
    .valid = { .min_access_size = 1, .max_access_size = 8 },
    .impl = { .min_access_size = 1, .max_access_size = 8 },
};

static int setup(void **state)
{
    world *w = calloc(1, sizeof(*w));

    assert_non_null(w);
    w->ctx = t_ctx();
    w->root = t_container(w->ctx, "root", MT_SIZE_FULL);
    w->a = t_ram(w->ctx, "a", 0x2000);
    w->b = t_ram(w->ctx, "b", 0x2000);
    w->c = t_ram(w->ctx, "c", 0x1000);
    MT_OK(mt_region_new_io(w->ctx, "dev", 0x1000, &dev_ops, w, &w->dev));
    t_map(w->root, 0, w->a);
    t_map(w->root, 0x2000, w->dev);
    t_map(w->root, 0x3000, w->b);
    t_map(w->root, 0x5000, w->c);
    w->as = t_as(w->ctx, w->root, "memory");
    for (unsigned i = 0; i < sizeof(w->regs); i++)
        w->regs[i] = (uint8_t)(i * 7);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;

    mt_region_unref(w->a);
    mt_region_unref(w->b);
    mt_region_unref(w->c);
    mt_region_unref(w->dev);
    mt_region_unref(w->root);
    mt_ctx_free(w->ctx);
    free(w);
    return 0;
}

static uint8_t *host(mt_region *r, uint64_t off)
{
    return (uint8_t *)mt_region_ram_ptr(r) + off;
}

/* Is the bounce budget whole again (nothing left mapped)? A map of the
 * full default budget (4 KiB) of the device must succeed. */
static void assert_budget_whole(world *w)
{
    uint64_t len = 0x1000;
    void *p = mt_as_map(w->as, 0x2000, &len, false, ANY);

    assert_non_null(p);
    assert_int_equal(len, 0x1000);
    MT_OK(mt_as_unmap(w->as, p, len, false, 0));
}

/* RAM, device, RAM, RAM: four segments, the RAM ones in place. */
static void test_segments_follow_the_map(void **state)
{
    world *w = *state;
    struct iovec iov[8];
    int n;

    n = mt_as_map_iov(w->as, 0x1000, 0x4800, false, ANY, iov, 8);
    assert_int_equal(n, 4);
    assert_ptr_equal(iov[0].iov_base, host(w->a, 0x1000));
    assert_int_equal(iov[0].iov_len, 0x1000);
    /* The device piece: a bounce buffer holding what the device reads. */
    assert_int_equal(iov[1].iov_len, 0x1000);
    assert_memory_equal(iov[1].iov_base, w->regs, 0x1000);
    assert_ptr_equal(iov[2].iov_base, host(w->b, 0));
    assert_int_equal(iov[2].iov_len, 0x2000);
    assert_ptr_equal(iov[3].iov_base, host(w->c, 0));
    assert_int_equal(iov[3].iov_len, 0x800);
    MT_OK(mt_as_unmap_iov(w->as, iov, (size_t)n, false, 0x4800));
    assert_budget_whole(w);
}

/* Writing through the segments: RAM in place, the device on unmap, and
 * only the bytes accessed. */
static void test_writes_reach_ram_and_device(void **state)
{
    world *w = *state;
    struct iovec iov[4];
    uint8_t *p;
    int n;

    n = mt_as_map_iov(w->as, 0x1800, 0x2000, true, ANY, iov, 4);
    assert_int_equal(n, 3);
    for (int i = 0; i < n; i++)
        memset(iov[i].iov_base, 0xA0 + i, iov[i].iov_len);
    /* 0x800 of "a", then 0x400 of the device's 0x1000 were written. */
    MT_OK(mt_as_unmap_iov(w->as, iov, (size_t)n, true, 0xC00));
    p = host(w->a, 0x1800);
    for (int i = 0; i < 0x800; i++)
        assert_int_equal(p[i], 0xA0);
    for (int i = 0; i < 0x400; i++)
        assert_int_equal(w->regs[i], 0xA1);
    assert_int_equal(w->regs[0x400], (uint8_t)(0x400 * 7)); /* untouched */
    assert_true(w->writes > 0);
    assert_budget_whole(w);
}

/* Dirty logging sees the RAM pages written through a segment, as far as
 * the access went. */
static void test_ram_writes_are_logged(void **state)
{
    world *w = *state;
    struct iovec iov[2];
    bool d;
    int n;

    MT_OK(mt_region_set_dirty_log(w->b, true));
    MT_OK(mt_region_dirty_test_and_clear(w->b, 0, 0x2000,
                                         MT_DIRTY_CLIENT_VGA, &d));
    n = mt_as_map_iov(w->as, 0x3000, 0x2000, true, ANY, iov, 2);
    assert_int_equal(n, 1);
    memset(iov[0].iov_base, 1, 0x10);
    MT_OK(mt_as_unmap_iov(w->as, iov, 1, true, 0x10));
    MT_OK(mt_region_dirty_get(w->b, 0, 1, MT_DIRTY_CLIENT_VGA, &d));
    assert_true(d);
    MT_OK(mt_region_dirty_get(w->b, 0x1000, 1, MT_DIRTY_CLIENT_VGA, &d));
    assert_false(d);
    MT_OK(mt_region_set_dirty_log(w->b, false));
}

/* More segments than room: nothing stays mapped. */
static void test_too_many_segments(void **state)
{
    world *w = *state;
    struct iovec iov[2];

    assert_int_equal(mt_as_map_iov(w->as, 0x1000, 0x3000, false, ANY, iov, 2),
                     MT_ERANGE);
    assert_budget_whole(w);
    /* The first segment was RAM: not an open mapping any more. */
    assert_int_equal(mt_as_unmap(w->as, host(w->a, 0x1000), 0x1000, false, 0),
                     MT_EINVAL);
    assert_int_equal(mt_as_map_iov(w->as, 0x1000, 0x1000, false, ANY, iov, 0),
                     MT_ERANGE);
}

/* The bounce budget runs out half-way through the device: MT_ENOMEM, and
 * the half that was mapped is released. */
static void test_budget_runs_out(void **state)
{
    world *w = *state;
    struct iovec iov[4];

    MT_OK(mt_as_set_bounce_budget(w->as, 0x800));
    assert_int_equal(mt_as_map_iov(w->as, 0x1000, 0x3000, false, ANY, iov, 4),
                     MT_ENOMEM);
    MT_OK(mt_as_set_bounce_budget(w->as, 0x1000));
    assert_budget_whole(w);
}

/* attrs.memory: devices refuse it. Holes bounce (they read as zeros). */
static void test_memory_attrs_and_holes(void **state)
{
    world *w = *state;
    const mt_attrs mem = { .memory = 1 };
    struct iovec iov[4];
    int n;

    assert_int_equal(mt_as_map_iov(w->as, 0x1000, 0x2000, false, mem, iov, 4),
                     MT_EKIND);
    n = mt_as_map_iov(w->as, 0x3000, 0x2000, false, mem, iov, 4);
    assert_int_equal(n, 1);
    MT_OK(mt_as_unmap_iov(w->as, iov, 1, false, 0));
    n = mt_as_map_iov(w->as, 0x5800, 0x1000, false, ANY, iov, 4);
    assert_int_equal(n, 2);
    assert_ptr_equal(iov[0].iov_base, host(w->c, 0x800));
    assert_int_equal(iov[1].iov_len, 0x800);
    for (int i = 0; i < 0x800; i++)
        assert_int_equal(((uint8_t *)iov[1].iov_base)[i], 0);
    MT_OK(mt_as_unmap_iov(w->as, iov, 2, false, 0x1000));
    assert_budget_whole(w);
}

static void test_bad_arguments(void **state)
{
    world *w = *state;
    struct iovec iov[1];

    assert_int_equal(mt_as_map_iov(w->as, 0, 0, false, ANY, iov, 1), 0);
    assert_int_equal(mt_as_map_iov(NULL, 0, 1, false, ANY, iov, 1),
                     MT_EINVAL);
    assert_int_equal(mt_as_map_iov(w->as, 0, 1, false, ANY, NULL, 1),
                     MT_EINVAL);
    assert_int_equal(mt_as_map_iov(w->as, UINT64_MAX, 2, false, ANY, iov, 1),
                     MT_ERANGE);
    MT_OK(mt_as_unmap_iov(w->as, NULL, 0, false, 0));
    assert_int_equal(mt_as_unmap_iov(NULL, iov, 0, false, 0), MT_EINVAL);
    iov[0].iov_base = w;
    iov[0].iov_len = 8;
    assert_int_equal(mt_as_unmap_iov(w->as, iov, 1, false, 0), MT_EINVAL);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_segments_follow_the_map),
        T(test_writes_reach_ram_and_device),
        T(test_ram_writes_are_logged),
        T(test_too_many_segments),
        T(test_budget_runs_out),
        T(test_memory_attrs_and_holes),
        T(test_bad_arguments),
    };
#undef T

    return cmocka_run_group_tests(tests, NULL, NULL);
}
