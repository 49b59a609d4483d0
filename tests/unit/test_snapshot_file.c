/* SPDX-License-Identifier: MIT */
/*
 * test_snapshot_file.c: the snapshot file format: round trips through a
 * file, a pipe and a buffer; zero pages not stored; and a hostile input:
 * every truncation and every flipped byte of a small file is refused
 * cleanly (with MT_ECORRUPT or MT_EPARSE, leaking nothing), as are other
 * versions and trailing data.
 */
#include <errno.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mt_testutil.h"
#include "snapshot_world.h"

/* The file checksum (src/snapshot_sum.c), to forge a header. */
uint64_t mt__sum64(uint64_t seed, const void *p, size_t n);

/* The file of @s, in a malloc'd buffer. */
static uint8_t *save_to_buffer(const mt_snapshot *s, size_t *len)
{
    int fd = memfd_create("snap", 0);
    off_t end;
    uint8_t *buf;

    assert_true(fd >= 0);
    MT_OK(mt_snapshot_save(s, fd, NULL));
    end = lseek(fd, 0, SEEK_END);
    assert_true(end > 0);
    buf = malloc((size_t)end);
    assert_non_null(buf);
    assert_int_equal(pread(fd, buf, (size_t)end, 0), end);
    close(fd);
    *len = (size_t)end;
    return buf;
}

static void test_round_trip_file(void **state)
{
    world a, b;
    mt_snapshot *s, *t;
    char *topo;
    w_mem m;
    int fd;

    (void)state;
    w_build(&a);
    w_fill_all(&a, 7);
    MT_OK(mt_region_set_enabled(a.hole, true));
    MT_OK(mt_region_set_romd(a.flash, false));
    topo = w_topology(&a);
    m = w_save(&a);
    MT_OK(mt_snapshot_take(a.ctx, 0, &s, NULL));
    fd = memfd_create("snap", 0);
    assert_true(fd >= 0);
    MT_OK(mt_snapshot_save(s, fd, NULL));
    mt_snapshot_free(s);
    mt_ctx_free(a.ctx);

    w_build(&b);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    MT_OK(mt_snapshot_load(b.ctx, fd, &t, NULL));
    close(fd);
    assert_int_equal(mt_snapshot_nr_blocks(t), 4);
    assert_int_equal(mt_snapshot_nr_regions(t), 8);
    assert_null(mt_snapshot_armed(t));
    MT_OK(mt_snapshot_restore(b.ctx, t, MT_SNAPSHOT_TRACK, NULL));
    w_check_mem(&b, &m);
    w_check_topology(&b, topo);
    /* A loaded snapshot is a reset base like any other. */
    memset(mt_region_ram_ptr(b.ram), 1, 4096);
    MT_OK(mt_region_dirty_set(b.ram, 0, 1, MT_DIRTY_MIGRATION));
    MT_OK(mt_snapshot_reset(b.ctx, t, NULL, NULL));
    w_check_mem(&b, &m);
    mt_snapshot_free(t);
    free(topo);
    w_mem_free(&m);
    mt_ctx_free(b.ctx);
}

/* Saving a loaded snapshot gives the same bytes; zero pages take no room. */
static void test_stable_and_sparse(void **state)
{
    world w;
    mt_snapshot *s, *t;
    uint8_t *f1, *f2;
    size_t n1, n2;

    (void)state;
    w_build(&w);
    w_fill_all(&w, 8);
    MT_OK(mt_snapshot_take(w.ctx, 0, &s, NULL));
    f1 = save_to_buffer(s, &n1);
    /* Half of ram plus rom, flash and vram are stored: 32 + 4 + 4 + 2
     * pages, and a little more for tables and headers. */
    assert_in_range(n1, 42 * 4096, 42 * 4096 + 2048);
    MT_OK(mt_snapshot_load_buffer(w.ctx, f1, n1, &t, NULL));
    f2 = save_to_buffer(t, &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(f1, f2, n1);
    for (size_t i = 0; i < 4; i++)
        assert_memory_equal(mt_snapshot_block_data(s, i),
                            mt_snapshot_block_data(t, i),
                            mt_snapshot_block_size(s, i));
    free(f1);
    free(f2);
    mt_snapshot_free(s);
    mt_snapshot_free(t);
    mt_ctx_free(w.ctx);
}

/* Through a pipe (no seeking), and the reader stops right after the end
 * section, leaving what follows for the caller. */
static void test_pipe_and_what_follows(void **state)
{
    world w;
    mt_snapshot *s, *t;
    int p[2];
    char tail[8] = { 0 };
    uint8_t *f;
    size_t n;

    (void)state;
    w_build(&w); /* all zeros: the file fits in a pipe's buffer */
    MT_OK(mt_snapshot_take(w.ctx, 0, &s, NULL));
    f = save_to_buffer(s, &n);
    assert_true(n < 60000);
    assert_int_equal(pipe(p), 0);
    MT_OK(mt_snapshot_save(s, p[1], NULL));
    assert_int_equal(write(p[1], "tail", 4), 4);
    close(p[1]);
    MT_OK(mt_snapshot_load(w.ctx, p[0], &t, NULL));
    assert_int_equal(read(p[0], tail, sizeof(tail)), 4);
    assert_string_equal(tail, "tail");
    close(p[0]);
    mt_snapshot_free(t);
    /* A buffer must hold the snapshot and nothing else. */
    {
        uint8_t *g = malloc(n + 1);
        mt_snapshot_error err;

        memcpy(g, f, n);
        g[n] = 0;
        MT_EXPECT(mt_snapshot_load_buffer(w.ctx, g, n + 1, &t, &err),
                  MT_EPARSE);
        assert_null(t);
        assert_non_null(strstr(err.msg, "after the end"));
        free(g);
    }
    free(f);
    mt_snapshot_free(s);
    mt_ctx_free(w.ctx);
}

static void test_write_errors(void **state)
{
    world w;
    mt_snapshot *s;
    mt_snapshot_error err;
    int p[2];

    (void)state;
    signal(SIGPIPE, SIG_IGN);
    w_build(&w);
    MT_OK(mt_snapshot_take(w.ctx, 0, &s, NULL));
    assert_int_equal(pipe(p), 0);
    close(p[0]);
    MT_EXPECT(mt_snapshot_save(s, p[1], &err), MT_EIO);
    assert_non_null(strstr(err.msg, "write error"));
    close(p[1]);
    MT_EXPECT(mt_snapshot_save(s, p[1], &err), MT_EIO);
    {
        mt_snapshot *t;

        MT_EXPECT(mt_snapshot_load(w.ctx, p[1], &t, &err), MT_EIO);
        assert_null(t);
    }
    mt_snapshot_free(s);
    mt_ctx_free(w.ctx);
}

/* A small snapshot: two regions, 3 pages of which one holds data. */
static uint8_t *small_file(size_t *len)
{
    mt_ctx *ctx = t_ctx();
    mt_region *sys = t_container(ctx, "sys", 0x10000);
    mt_region *r = t_ram(ctx, "r", 3 * 4096);
    mt_snapshot *s;
    uint8_t *f;

    t_map(sys, 0x1000, r);
    memset((uint8_t *)mt_region_ram_ptr(r) + 4096, 0x42, 10);
    MT_OK(mt_snapshot_take(ctx, 0, &s, NULL));
    f = save_to_buffer(s, len);
    mt_snapshot_free(s);
    mt_ctx_free(ctx);
    return f;
}

static void test_truncated(void **state)
{
    t_alloc_state st = { 0, 0, -1, 0 };
    mt_allocator a = t_allocator(&st);
    mt_ctx *ctx;
    mt_snapshot *s;
    mt_snapshot_error err;
    size_t n;
    uint8_t *f = small_file(&n);
    long base;

    (void)state;
    MT_OK(mt_ctx_new(&ctx, &a));
    base = st.live;
    MT_OK(mt_snapshot_load_buffer(ctx, f, n, &s, NULL));
    mt_snapshot_free(s);
    for (size_t len = 0; len < n; len++) {
        int rc = mt_snapshot_load_buffer(ctx, f, len, &s, &err);

        if (rc != MT_ECORRUPT && rc != MT_EPARSE)
            fail_msg("length %zu: %s (%s)", len, mt_err_name(rc), err.msg);
        assert_null(s);
        assert_int_equal(st.live, base);
        assert_true(err.msg[0] != '\0');
    }
    /* Through a descriptor too, at a few lengths. */
    for (size_t len = 0; len < n; len += 97) {
        int fd = memfd_create("cut", 0);
        int rc;

        assert_int_equal(write(fd, f, len), (ssize_t)len);
        lseek(fd, 0, SEEK_SET);
        rc = mt_snapshot_load(ctx, fd, &s, &err);
        close(fd);
        if (rc != MT_ECORRUPT && rc != MT_EPARSE)
            fail_msg("fd, length %zu: %s", len, mt_err_name(rc));
    }
    assert_int_equal(st.live, base);
    free(f);
    mt_ctx_free(ctx);
    assert_int_equal(st.live, 0);
}

/* Every byte flipped (each bit pattern that changes it: one bit, all
 * bits): the load fails cleanly, whatever field or padding it hit; where
 * only the checksum can tell (page data, name padding) it does. */
static void test_every_byte_flipped(void **state)
{
    t_alloc_state st = { 0, 0, -1, 0 };
    mt_allocator a = t_allocator(&st);
    mt_ctx *ctx;
    mt_snapshot *s;
    mt_snapshot_error err;
    size_t n, data, pad;
    uint8_t *f = small_file(&n), *hit;
    long base;
    static const uint8_t masks[] = { 0x01, 0x80, 0xff };
    static const uint8_t page_start[10] = { 0x42, 0x42, 0x42, 0x42, 0x42,
                                            0x42, 0x42, 0x42, 0x42, 0x42 };

    (void)state;
    hit = memmem(f, n, page_start, sizeof(page_start));
    assert_non_null(hit);
    data = (size_t)(hit - f);
    hit = memmem(f, n, "sys\0\0\0\0\0", 8);
    assert_non_null(hit);
    pad = (size_t)(hit - f) + 3;
    MT_OK(mt_ctx_new(&ctx, &a));
    base = st.live;
    for (size_t i = 0; i < n; i++) {
        for (size_t m = 0; m < sizeof(masks); m++) {
            int rc;

            f[i] ^= masks[m];
            rc = mt_snapshot_load_buffer(ctx, f, n, &s, &err);
            f[i] ^= masks[m];
            if (rc != MT_ECORRUPT && rc != MT_EPARSE)
                fail_msg("byte %zu ^ %#x: %s (%s)", i, masks[m],
                         mt_err_name(rc), err.msg);
            if ((i < 8) != (rc == MT_EPARSE && strstr(err.msg, "magic")))
                fail_msg("byte %zu ^ %#x: %s", i, masks[m], err.msg);
            if (((i >= data && i < data + 4096) || (i >= pad && i < pad + 5))
                && rc != MT_ECORRUPT)
                fail_msg("byte %zu ^ %#x: %s (%s), not caught by the "
                         "checksum", i, masks[m], mt_err_name(rc), err.msg);
            assert_null(s);
            assert_int_equal(st.live, base);
        }
    }
    MT_OK(mt_snapshot_load_buffer(ctx, f, n, &s, NULL));
    mt_snapshot_free(s);
    free(f);
    mt_ctx_free(ctx);
    assert_int_equal(st.live, 0);
}

/* Another version, with a good checksum, is named as such. */
static void test_other_version(void **state)
{
    mt_ctx *ctx = t_ctx();
    mt_snapshot *s;
    mt_snapshot_error err;
    size_t n;
    uint8_t *f = small_file(&n);
    uint64_t sum;

    (void)state;
    f[8] = 2;
    sum = mt__sum64(0x4d54534e41504844ull, f, 24);
    for (int i = 0; i < 8; i++)
        f[24 + i] = (uint8_t)(sum >> (8 * i));
    MT_EXPECT(mt_snapshot_load_buffer(ctx, f, n, &s, &err), MT_EPARSE);
    assert_non_null(strstr(err.msg, "version 2"));
    memcpy(f, "NOTSNAP!", 8);
    MT_EXPECT(mt_snapshot_load_buffer(ctx, f, n, &s, &err), MT_EPARSE);
    assert_non_null(strstr(err.msg, "not a memtree snapshot"));
    MT_EXPECT(mt_snapshot_load_buffer(ctx, NULL, 0, &s, &err), MT_EPARSE);
    MT_EXPECT(mt_snapshot_load_buffer(ctx, NULL, 5, &s, &err), MT_EINVAL);
    MT_EXPECT(mt_snapshot_load_buffer(NULL, f, n, &s, &err), MT_EINVAL);
    MT_EXPECT(mt_snapshot_load(ctx, -1, &s, &err), MT_EINVAL);
    free(f);
    mt_ctx_free(ctx);
}

/* Loading under every allocation failure: MT_ENOMEM, nothing leaked. */
static void test_load_alloc_failures(void **state)
{
    t_alloc_state st = { 0, 0, -1, 0 };
    mt_allocator a = t_allocator(&st);
    mt_ctx *ctx;
    mt_snapshot *s;
    size_t n;
    uint8_t *f = small_file(&n);
    long base, k;

    (void)state;
    MT_OK(mt_ctx_new(&ctx, &a));
    base = st.live;
    for (k = 0;; k++) {
        int rc;

        st.budget = k;
        rc = mt_snapshot_load_buffer(ctx, f, n, &s, NULL);
        st.budget = -1;
        if (rc == 0) {
            mt_snapshot_free(s);
            break;
        }
        MT_EXPECT(rc, MT_ENOMEM);
        assert_int_equal(st.live, base);
    }
    assert_true(k > 3);
    free(f);
    mt_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_file),
        cmocka_unit_test(test_stable_and_sparse),
        cmocka_unit_test(test_pipe_and_what_follows),
        cmocka_unit_test(test_write_errors),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_every_byte_flipped),
        cmocka_unit_test(test_other_version),
        cmocka_unit_test(test_load_alloc_failures),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
