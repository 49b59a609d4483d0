/* SPDX-License-Identifier: MIT */
/*
 * test_migrate.c: migrations between two contexts built the same way
 * (snapshot_world.h), through a pipe read by a destination thread:
 * memory and region state byte-identical after writes and remaps between
 * passes; only dirtied pages sent again; extension records; the rules of
 * the source (one migration per context, not in a transaction, regions
 * must not change, RAM not resized) and of the destination (layout
 * mismatch refused with nothing changed, cancellations reported); the
 * block getters before loading; allocation failures.
 */
#include "mt_testutil.h"
#include "snapshot_world.h"
#include "migrate_util.h"

#define PG 4096u

/* Memory and topology of @a and @b are the same. */
static void check_same(const world *a, const world *b)
{
    w_mem m = w_save(a);
    char *topo = w_topology(a);

    w_check_mem(b, &m);
    w_check_topology(b, topo);
    free(topo);
    w_mem_free(&m);
}

static void test_round_trip(void **state)
{
    world a, b;
    dst_thread t;
    mt_migrate_src *src;
    mt_migrate_stats st, ds;
    mt_migrate_error err;
    uint64_t remaining = 99;
    uint8_t *ram;
    int fd;

    (void)state;
    w_build(&a);
    w_build(&b);
    w_fill_all(&a, 3);
    w_fill_all(&b, 40); /* stale contents, all to be overwritten */
    MT_OK(mt_region_set_enabled(b.win, true));
    ram = mt_region_ram_ptr(a.ram);
    dst_spawn(&t, &b, &fd);
    MT_OK(mt_migrate_src_start(a.ctx, fd, 0, &src, &err));
    MT_OK(mt_migrate_src_stats(src, &st));
    assert_int_equal(st.passes, 1);
    assert_int_equal(st.total_pages, W_RAM_SIZE / PG + 2 * W_SMALL / PG + 2);
    assert_int_equal(st.pages, st.total_pages);

    /* Between passes: guest-like writes through the address space, a host
     * write reported by hand, a remap and a ROMD switch. */
    for (unsigned i = 0; i < 10; i++) {
        uint64_t v = 0x1111111111111111ull * i;

        mt_as_write(a.as, (uint64_t)i * 3 * PG + 8 * i, MT_ATTRS_UNSPECIFIED,
                    &v, sizeof(v));
    }
    MT_OK(mt_migrate_src_iterate(src, &remaining, &err));
    assert_int_equal(remaining, 0);
    MT_OK(mt_migrate_src_stats(src, &st));
    assert_int_equal(st.last_pages, 10);
    memset(ram + 17 * PG, 0, PG); /* a page that becomes zero */
    memset(ram + 40 * PG, 0x77, 100);
    MT_OK(mt_region_dirty_set(a.ram, 17 * PG, PG, MT_DIRTY_MIGRATION));
    MT_OK(mt_region_dirty_set(a.ram, 40 * PG, 100, MT_DIRTY_MIGRATION));
    MT_OK(mt_region_set_enabled(a.hole, true));
    MT_OK(mt_region_set_address(a.dev, 0x500000));
    MT_OK(mt_region_set_romd(a.flash, false));
    MT_OK(mt_migrate_src_iterate(src, &remaining, &err));
    MT_OK(mt_migrate_src_stats(src, &st));
    assert_int_equal(st.last_pages, 2);
    assert_int_equal(st.passes, 3);
    /* Nothing dirtied: an empty pass. */
    MT_OK(mt_migrate_src_iterate(src, &remaining, &err));
    MT_OK(mt_migrate_src_stats(src, &st));
    assert_int_equal(st.last_pages, 0);

    /* The stop point: one more write, then complete. */
    memset(ram + 63 * PG + 4000, 0x99, 96);
    MT_OK(mt_region_dirty_set(a.ram, 63 * PG + 4000, 96, MT_DIRTY_MIGRATION));
    MT_OK(mt_migrate_src_complete(src, &err));
    assert_string_equal(err.msg, "");
    MT_OK(mt_migrate_src_stats(src, &st));
    assert_int_equal(st.last_pages, 1);
    assert_int_equal(st.remaining, 0);
    close(fd);
    MT_OK(dst_join(&t));
    check_same(&a, &b);
    MT_OK(mt_migrate_dst_stats(t.dst, &ds));
    assert_int_equal(ds.pages, st.pages);
    assert_int_equal(ds.zero_pages, st.zero_pages);
    assert_int_equal(ds.bytes, st.bytes);
    assert_int_equal(ds.total_pages, st.total_pages);
    /* Logging is off again on the source; completed sessions refuse more. */
    MT_EXPECT(mt_migrate_src_iterate(src, NULL, &err), MT_ESTATE);
    MT_EXPECT(mt_migrate_src_complete(src, NULL), MT_ESTATE);
    MT_EXPECT(mt_migrate_src_cancel(src, NULL), MT_ESTATE);
    MT_EXPECT(mt_migrate_dst_load(t.dst, b.ctx, &err), MT_ESTATE);
    mt_migrate_src_free(src);
    mt_migrate_dst_free(t.dst);
    {
        mt_snapshot *s;

        MT_OK(mt_snapshot_take(a.ctx, MT_SNAPSHOT_TRACK, &s, NULL));
        mt_snapshot_free(s);
    }
    mt_ctx_free(a.ctx);
    mt_ctx_free(b.ctx);
}

/* Dirty pages are sent once; a page written in a pass goes in the next. */
static void test_only_dirty_pages(void **state)
{
    world a, b;
    dst_thread t;
    mt_migrate_src *src;
    mt_migrate_stats st;
    uint64_t remaining;
    uint32_t v = 5;
    int fd;

    (void)state;
    w_build(&a);
    w_build(&b);
    dst_spawn(&t, &b, &fd);
    MT_OK(mt_migrate_src_start(a.ctx, fd, 0, &src, NULL));
    MT_OK(mt_migrate_src_stats(src, &st));
    /* Fresh memory is all zeros: every page goes as a bit. */
    assert_int_equal(st.zero_pages, st.total_pages);
    for (unsigned p = 0; p < 64; p += 8)
        mt_as_write(a.as, p * PG, MT_ATTRS_UNSPECIFIED, &v, 4);
    mt_as_write(a.as, 0x100000, MT_ATTRS_UNSPECIFIED, &v, 4); /* ROM: refused */
    mt_as_write_rom(a.as, 0x100000 + PG, MT_ATTRS_UNSPECIFIED, &v, 4);
    MT_OK(mt_migrate_src_iterate(src, &remaining, NULL));
    MT_OK(mt_migrate_src_stats(src, &st));
    assert_int_equal(st.last_pages, 9);
    assert_int_equal(st.pages, st.total_pages + 9);
    MT_OK(mt_migrate_src_iterate(src, &remaining, NULL));
    MT_OK(mt_migrate_src_stats(src, &st));
    assert_int_equal(st.last_pages, 0);
    assert_int_equal(remaining, 0);
    MT_OK(mt_migrate_src_complete(src, NULL));
    close(fd);
    MT_OK(dst_join(&t));
    check_same(&a, &b);
    mt_migrate_src_free(src);
    mt_migrate_dst_free(t.dst);
    mt_ctx_free(a.ctx);
    mt_ctx_free(b.ctx);
}

static void test_ext_records(void **state)
{
    world a, b;
    dst_thread t;
    mt_migrate_src *src;
    const void *data;
    uint32_t tag;
    size_t len;
    static uint8_t big[100000];
    int fd;

    (void)state;
    w_build(&a);
    w_build(&b);
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i * 7);
    dst_spawn(&t, &b, &fd);
    MT_OK(mt_migrate_src_start(a.ctx, fd, 0, &src, NULL));
    MT_OK(mt_migrate_src_put_ext(src, MT_MIGRATE_TAG('V', 'C', 'P', 'U'),
                                 "registers", 9, NULL));
    MT_OK(mt_migrate_src_put_ext(src, MT_MIGRATE_TAG('E', 'M', 'P', 'T'),
                                 NULL, 0, NULL));
    MT_OK(mt_migrate_src_put_ext(src, MT_MIGRATE_TAG('B', 'I', 'G', ' '),
                                 big, sizeof(big), NULL));
    MT_OK(mt_migrate_src_put_ext(src, MT_MIGRATE_TAG('V', 'C', 'P', 'U'),
                                 "second", 6, NULL));
    MT_EXPECT(mt_migrate_src_put_ext(src, 1, NULL, 3, NULL), MT_EINVAL);
    MT_EXPECT(mt_migrate_src_put_ext(src, 1, big, MT_MIGRATE_MAX_EXT + 1,
                                     NULL), MT_EINVAL);
    MT_OK(mt_migrate_src_complete(src, NULL));
    MT_EXPECT(mt_migrate_src_put_ext(src, 1, "x", 1, NULL), MT_ESTATE);
    close(fd);
    MT_OK(dst_join(&t));
    assert_int_equal(mt_migrate_dst_nr_ext(t.dst), 4);
    MT_OK(mt_migrate_dst_ext(t.dst, 0, &tag, &data, &len));
    assert_int_equal(tag, MT_MIGRATE_TAG('V', 'C', 'P', 'U'));
    assert_int_equal(len, 9);
    assert_memory_equal(data, "registers", 9);
    MT_OK(mt_migrate_dst_ext(t.dst, 1, &tag, &data, &len));
    assert_int_equal(len, 0);
    assert_null(data);
    data = mt_migrate_dst_find_ext(t.dst, MT_MIGRATE_TAG('B', 'I', 'G', ' '),
                                   &len);
    assert_int_equal(len, sizeof(big));
    assert_memory_equal(data, big, sizeof(big));
    /* The first of a tag; absent tags give NULL. */
    data = mt_migrate_dst_find_ext(t.dst, MT_MIGRATE_TAG('V', 'C', 'P', 'U'),
                                   &len);
    assert_memory_equal(data, "registers", 9);
    assert_null(mt_migrate_dst_find_ext(t.dst, 42, &len));
    assert_int_equal(len, 0);
    MT_EXPECT(mt_migrate_dst_ext(t.dst, 4, &tag, &data, &len), MT_EINVAL);
    mt_migrate_src_free(src);
    mt_migrate_dst_free(t.dst);
    mt_ctx_free(a.ctx);
    mt_ctx_free(b.ctx);
}

static void test_source_rules(void **state)
{
    world a;
    mt_migrate_src *src, *other;
    mt_snapshot *snap;
    mt_migrate_error err;
    int fd = new_memfd(), fd2 = new_memfd();

    (void)state;
    w_build(&a);
    MT_EXPECT(mt_migrate_src_start(NULL, fd, 0, &src, &err), MT_EINVAL);
    MT_EXPECT(mt_migrate_src_start(a.ctx, -1, 0, &src, &err), MT_EINVAL);
    MT_EXPECT(mt_migrate_src_start(a.ctx, fd, 1, &src, &err), MT_EINVAL);
    MT_EXPECT(mt_migrate_src_start(a.ctx, fd, 0, NULL, &err), MT_EINVAL);
    /* Not inside a transaction: the logging must be committed. */
    mt_begin(a.ctx);
    MT_EXPECT(mt_migrate_src_start(a.ctx, fd, 0, &src, &err), MT_ESTATE);
    assert_null(src);
    MT_OK(mt_commit(a.ctx));
    /* One user of the MIGRATION bits at a time. */
    MT_OK(mt_snapshot_take(a.ctx, MT_SNAPSHOT_TRACK, &snap, NULL));
    MT_EXPECT(mt_migrate_src_start(a.ctx, fd, 0, &src, &err), MT_EBUSY);
    assert_non_null(strstr(err.msg, "dirty logging is already on"));
    mt_snapshot_free(snap);
    MT_OK(mt_migrate_src_start(a.ctx, fd, 0, &src, &err));
    MT_EXPECT(mt_migrate_src_start(a.ctx, fd2, 0, &other, &err), MT_EBUSY);
    MT_EXPECT(mt_snapshot_take(a.ctx, MT_SNAPSHOT_TRACK, &snap, NULL),
              MT_EBUSY);
    MT_EXPECT(mt_migrate_src_iterate(NULL, NULL, &err), MT_EINVAL);
    MT_EXPECT(mt_migrate_src_stats(src, NULL), MT_EINVAL);
    /* Freeing a running session cancels it and stops the logging. */
    mt_migrate_src_free(src);
    MT_OK(mt_snapshot_take(a.ctx, MT_SNAPSHOT_TRACK, &snap, NULL));
    mt_snapshot_free(snap);
    mt_migrate_src_free(NULL);
    close(fd);
    close(fd2);
    mt_ctx_free(a.ctx);
}

/* Two RAM blocks of one name cannot be told apart: refused. */
static void test_duplicate_block_names(void **state)
{
    mt_ctx *ctx = t_ctx();
    mt_region *r1 = t_ram(ctx, "mem", PG), *r2 = t_ram(ctx, "mem", PG);
    mt_migrate_src *src;
    mt_migrate_error err;
    mt_snapshot *snap;
    int fd = new_memfd();

    (void)state;
    MT_EXPECT(mt_migrate_src_start(ctx, fd, 0, &src, &err), MT_EINVAL);
    assert_non_null(strstr(err.msg, "'mem'"));
    /* Nothing left on: a snapshot can arm. */
    mt_region_unref(r2);
    MT_OK(mt_snapshot_take(ctx, MT_SNAPSHOT_TRACK, &snap, NULL));
    mt_snapshot_free(snap);
    (void)r1;
    close(fd);
    mt_ctx_free(ctx);
}

/* Regions created during the migration: complete refuses, the source may
 * go on, the destination hears that the source cancelled. */
static void test_layout_change_cancels(void **state)
{
    world a, b;
    dst_thread t;
    mt_migrate_src *src;
    mt_migrate_error err;
    mt_region *extra;
    char *topo;
    int fd;

    (void)state;
    w_build(&a);
    w_build(&b);
    topo = w_topology(&b);
    dst_spawn(&t, &b, &fd);
    MT_OK(mt_migrate_src_start(a.ctx, fd, 0, &src, NULL));
    extra = t_ram(a.ctx, "extra", PG);
    MT_EXPECT(mt_migrate_src_complete(src, &err), MT_EMISMATCH);
    assert_non_null(strstr(err.msg, "changed during the migration"));
    MT_EXPECT(mt_migrate_src_iterate(src, NULL, NULL), MT_ESTATE);
    close(fd);
    MT_EXPECT(dst_join(&t), MT_EIO);
    assert_non_null(strstr(t.err.msg, "the source cancelled the migration"));
    assert_non_null(strstr(t.err.msg, "changed during the migration"));
    w_check_topology(&b, topo); /* region state untouched */
    mt_migrate_src_free(src);
    mt_migrate_dst_free(t.dst);
    mt_region_unref(extra);
    free(topo);
    mt_ctx_free(a.ctx);
    mt_ctx_free(b.ctx);
}

static void test_cancel(void **state)
{
    world a, b;
    dst_thread t;
    mt_migrate_src *src;
    int fd;

    (void)state;
    w_build(&a);
    w_build(&b);
    dst_spawn(&t, &b, &fd);
    MT_OK(mt_migrate_src_start(a.ctx, fd, 0, &src, NULL));
    MT_OK(mt_migrate_src_cancel(src, "operator\nsaid stop"));
    MT_EXPECT(mt_migrate_src_cancel(src, NULL), MT_ESTATE);
    close(fd);
    MT_EXPECT(dst_join(&t), MT_EIO);
    assert_string_equal(t.err.msg, "the source cancelled the migration: "
                                   "operator?said stop");
    mt_migrate_src_free(src);
    mt_migrate_dst_free(t.dst);
    mt_ctx_free(a.ctx);
    mt_ctx_free(b.ctx);
}

/* Resizeable RAM resized mid-migration: the pass refuses. */
static void test_resize_refused(void **state)
{
    mt_ctx *ctx = t_ctx();
    mt_ram_opts o = { .max_size = 16 * PG };
    mt_region *r;
    mt_migrate_src *src;
    mt_migrate_error err;
    int fd = new_memfd();

    (void)state;
    MT_OK(mt_region_new_ram_opts(ctx, "grow", 4 * PG, &o, &r));
    MT_OK(mt_migrate_src_start(ctx, fd, 0, &src, NULL));
    MT_OK(mt_region_ram_resize(r, 8 * PG));
    MT_EXPECT(mt_migrate_src_iterate(src, NULL, &err), MT_EMISMATCH);
    assert_non_null(strstr(err.msg, "'grow' was resized"));
    mt_migrate_src_free(src);
    mt_region_unref(r);
    close(fd);
    mt_ctx_free(ctx);
}

/* A whole migration of @a (one pass, then complete) as a buffer. */
static uint8_t *whole_stream(world *a, size_t *len)
{
    mt_migrate_src *src;
    int fd = new_memfd();

    MT_OK(mt_migrate_src_start(a->ctx, fd, 0, &src, NULL));
    MT_OK(mt_migrate_src_complete(src, NULL));
    mt_migrate_src_free(src);
    return memfd_contents(fd, len);
}

/* A destination laid out differently is refused before anything changes. */
static void test_destination_mismatch(void **state)
{
    world a, b, c;
    mt_migrate_dst *dst;
    mt_migrate_error err;
    uint8_t *buf;
    size_t len;
    w_mem m;
    char *topo;

    (void)state;
    w_build(&a);
    w_fill_all(&a, 9);
    buf = whole_stream(&a, &len);

    /* b: RAM of another size; c: one region more than the stream. */
    w_build_with(&b, t_ctx(), W_RAM_SIZE / 2);
    w_build(&c);
    w_fill_all(&c, 11);
    t_io(c.ctx, "x", 1);
    m = w_save(&c);
    topo = w_topology(&c);
    MT_OK(mt_migrate_dst_new_buffer(buf, len, NULL, &dst));
    MT_EXPECT(mt_migrate_dst_load(dst, b.ctx, &err), MT_EMISMATCH);
    assert_non_null(strstr(err.msg, "'ram'"));
    /* Nothing was consumed: another context can be tried. */
    MT_EXPECT(mt_migrate_dst_load(dst, c.ctx, &err), MT_EMISMATCH);
    assert_non_null(strstr(err.msg, "'x'"));
    w_check_mem(&c, &m);
    w_check_topology(&c, topo);
    mt_ctx_free(c.ctx);
    w_build(&c);
    MT_OK(mt_migrate_dst_load(dst, c.ctx, &err));
    check_same(&a, &c);
    mt_migrate_dst_free(dst);
    w_mem_free(&m);
    free(topo);
    free(buf);
    mt_ctx_free(a.ctx);
    mt_ctx_free(b.ctx);
    mt_ctx_free(c.ctx);
}

/* The blocks are known after open, before any context exists. */
static void test_open_then_load(void **state)
{
    world a, b;
    mt_migrate_dst *dst;
    uint8_t *buf;
    size_t len;

    (void)state;
    w_build(&a);
    w_fill_all(&a, 1);
    buf = whole_stream(&a, &len);

    MT_OK(mt_migrate_dst_new_buffer(buf, len, NULL, &dst));
    assert_int_equal(mt_migrate_dst_nr_blocks(dst), 0);
    MT_OK(mt_migrate_dst_open(dst, NULL));
    MT_EXPECT(mt_migrate_dst_open(dst, NULL), MT_ESTATE);
    assert_int_equal(mt_migrate_dst_nr_blocks(dst), 4);
    assert_string_equal(mt_migrate_dst_block_name(dst, 0), "ram");
    assert_int_equal(mt_migrate_dst_block_size(dst, 0), W_RAM_SIZE);
    assert_string_equal(mt_migrate_dst_block_name(dst, 3), "vram");
    assert_int_equal(mt_migrate_dst_block_size(dst, 3), 8192);
    assert_null(mt_migrate_dst_block_name(dst, 4));
    assert_int_equal(mt_migrate_dst_block_size(dst, 4), 0);
    w_build(&b);
    MT_OK(mt_migrate_dst_load(dst, b.ctx, NULL));
    check_same(&a, &b);
    mt_migrate_dst_free(dst);
    mt_migrate_dst_free(NULL);
    MT_EXPECT(mt_migrate_dst_new(-1, NULL, &dst), MT_EINVAL);
    MT_EXPECT(mt_migrate_dst_new_buffer(NULL, 3, NULL, &dst), MT_EINVAL);
    {
        mt_allocator bad = { 0 };

        MT_EXPECT(mt_migrate_dst_new(0, &bad, &dst), MT_EINVAL);
    }
    free(buf);
    mt_ctx_free(a.ctx);
    mt_ctx_free(b.ctx);
}

/* The destination gone: the source sees MT_EIO (EPIPE), not a signal. */
static void test_destination_gone(void **state)
{
    world a;
    mt_migrate_src *src;
    mt_migrate_error err;
    int p[2];

    (void)state;
    signal(SIGPIPE, SIG_IGN);
    w_build(&a);
    w_fill_all(&a, 2);
    assert_int_equal(pipe(p), 0);
    close(p[0]);
    MT_EXPECT(mt_migrate_src_start(a.ctx, p[1], 0, &src, &err), MT_EIO);
    assert_non_null(strstr(err.msg, "Broken pipe"));
    close(p[1]);
    mt_ctx_free(a.ctx);
}

/* Every allocation of a whole migration may fail: clean errors, no leak,
 * and the next try works. */
static void test_alloc_failures(void **state)
{
    unsigned worked = 0;

    (void)state;
    for (long budget = 0; budget < 400 && worked < 3; budget++) {
        t_alloc_state as = { .budget = -1 };
        mt_allocator al = t_allocator(&as);
        mt_ctx *ctx;
        world a, b;
        mt_migrate_src *src = NULL;
        mt_migrate_dst *dst = NULL;
        uint8_t *buf;
        size_t len;
        int fd = new_memfd(), rc;

        MT_OK(mt_ctx_new(&ctx, &al));
        w_build_with(&a, ctx, W_RAM_SIZE);
        w_fill_all(&a, 4);
        w_build(&b);
        as.budget = budget;
        rc = mt_migrate_src_start(a.ctx, fd, 0, &src, NULL);
        if (!rc) {
            uint32_t v = 1;

            mt_as_write(a.as, 0, MT_ATTRS_UNSPECIFIED, &v, 4);
            rc = mt_migrate_src_iterate(src, NULL, NULL);
            if (!rc)
                rc = mt_migrate_src_complete(src, NULL);
        }
        assert_true(rc == 0 || rc == MT_ENOMEM);
        mt_migrate_src_free(src);
        as.budget = -1;
        buf = memfd_contents(fd, &len);
        if (rc == 0) {
            /* The destination too, with failures of its own. */
            mt_allocator al2 = t_allocator(&as);

            as.budget = budget;
            rc = mt_migrate_dst_new_buffer(buf, len, &al2, &dst);
            if (!rc)
                rc = mt_migrate_dst_load(dst, b.ctx, NULL);
            assert_true(rc == 0 || rc == MT_ENOMEM);
            if (rc == 0) {
                check_same(&a, &b);
                worked++;
            }
            mt_migrate_dst_free(dst);
            as.budget = -1;
        } else {
            /* A failed source leaves nothing on: a snapshot can arm. */
            mt_snapshot *s;

            MT_OK(mt_snapshot_take(a.ctx, MT_SNAPSHOT_TRACK, &s, NULL));
            mt_snapshot_free(s);
        }
        free(buf);
        mt_ctx_free(a.ctx);
        mt_ctx_free(b.ctx);
        assert_int_equal(as.live, 0);
    }
    assert_true(worked >= 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_only_dirty_pages),
        cmocka_unit_test(test_ext_records),
        cmocka_unit_test(test_source_rules),
        cmocka_unit_test(test_duplicate_block_names),
        cmocka_unit_test(test_layout_change_cancels),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_resize_refused),
        cmocka_unit_test(test_destination_mismatch),
        cmocka_unit_test(test_open_then_load),
        cmocka_unit_test(test_destination_gone),
        cmocka_unit_test(test_alloc_failures),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
