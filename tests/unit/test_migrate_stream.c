/* SPDX-License-Identifier: MIT */
/*
 * test_migrate_stream.c: the migration stream as hostile input. A valid
 * stream (three passes, extension records) is cut at every section
 * boundary and at every byte of its header, and bytes all over it are
 * flipped three ways: every such stream is refused (MT_ECORRUPT or
 * MT_EPARSE, never accepted), leaves the destination's region state as it
 * was, and leaks nothing. Hand-made streams break one rule each: a page
 * that never arrives, another version, a snapshot file, data after the
 * end, a final table of other regions, pages outside the blocks, unknown
 * or misplaced sections, a reserved field.
 */
#include "mt_testutil.h"
#include "snapshot_world.h"
#include "migrate_util.h"
#include "migrate_int.h"

#define PG 4096u
#define SMALL_RAM (8 * PG)

static void small_world(world *w)
{
    w_build_with(w, t_ctx(), SMALL_RAM);
}

/* The valid stream: a small world, three passes, two records. */
static uint8_t *valid_stream(size_t *len, world *src_out)
{
    world a;
    mt_migrate_src *src;
    uint64_t v = 0x0123456789abcdefull;
    int fd = new_memfd();
    uint8_t *ram;

    small_world(&a);
    ram = mt_region_ram_ptr(a.ram);
    for (unsigned p = 0; p < 8; p += 2)
        w_fill(ram + p * PG, PG, p);
    w_fill(mt_region_ram_ptr(a.rom), W_SMALL, 1);
    w_fill(mt_region_ram_ptr(a.vram), 8192, 2);
    MT_OK(mt_migrate_src_start(a.ctx, fd, 0, &src, NULL));
    mt_as_write(a.as, 3 * PG + 24, MT_ATTRS_UNSPECIFIED, &v, 8);
    mt_as_write(a.as, 4 * PG, MT_ATTRS_UNSPECIFIED, &v, 8);
    MT_OK(mt_migrate_src_iterate(src, NULL, NULL));
    memset(ram + 6 * PG, 0, PG);
    MT_OK(mt_region_dirty_set(a.ram, 6 * PG, PG, MT_DIRTY_MIGRATION));
    MT_OK(mt_region_set_enabled(a.hole, true));
    MT_OK(mt_migrate_src_put_ext(src, MT_MIGRATE_TAG('V', 'C', 'P', 'U'),
                                 "rip=0xfff0", 10, NULL));
    MT_OK(mt_migrate_src_put_ext(src, 7, NULL, 0, NULL));
    MT_OK(mt_migrate_src_complete(src, NULL));
    mt_migrate_src_free(src);
    *src_out = a;
    return memfd_contents(fd, len);
}

/* Load @s into a fresh small world; returns the code. On failure the
 * world's region state must be unchanged. */
static int try_load(const uint8_t *s, size_t len, mt_migrate_error *err)
{
    world b;
    mt_migrate_dst *dst;
    char *topo;
    int rc;

    small_world(&b);
    topo = w_topology(&b);
    MT_OK(mt_migrate_dst_new_buffer(s, len, NULL, &dst));
    rc = mt_migrate_dst_load(dst, b.ctx, err);
    if (rc)
        w_check_topology(&b, topo);
    mt_migrate_dst_free(dst);
    free(topo);
    mt_ctx_free(b.ctx);
    return rc;
}

static void expect_refused(const uint8_t *s, size_t len, const char *what,
                           size_t at)
{
    mt_migrate_error err;
    int rc = try_load(s, len, &err);

    if (rc != MT_ECORRUPT && rc != MT_EPARSE)
        fail_msg("%s at %zu: %s (%s)", what, at, mt_err_name(rc),
                 rc ? err.msg : "accepted");
    assert_true(err.msg[0] != '\0');
}

static void test_valid_stream_loads(void **state)
{
    world a, b;
    mt_migrate_dst *dst;
    uint8_t *s;
    size_t len;

    (void)state;
    s = valid_stream(&len, &a);
    small_world(&b);
    MT_OK(mt_migrate_dst_new_buffer(s, len, NULL, &dst));
    MT_OK(mt_migrate_dst_load(dst, b.ctx, NULL));
    assert_memory_equal(mt_region_ram_ptr(a.ram), mt_region_ram_ptr(b.ram),
                        SMALL_RAM);
    assert_memory_equal(mt_region_ram_ptr(a.rom), mt_region_ram_ptr(b.rom),
                        W_SMALL);
    assert_memory_equal(mt_region_ram_ptr(a.vram), mt_region_ram_ptr(b.vram),
                        8192);
    {
        char *want = w_topology(&a);

        w_check_topology(&b, want);
        free(want);
    }
    assert_int_equal(mt_migrate_dst_nr_ext(dst), 2);
    mt_migrate_dst_free(dst);
    mt_ctx_free(b.ctx);
    mt_ctx_free(a.ctx);
    free(s);
}

static void test_truncated(void **state)
{
    world a;
    uint8_t *s;
    size_t len, at[256], n;
    mt_migrate_error err;
    int p[2];

    (void)state;
    s = valid_stream(&len, &a);
    mt_ctx_free(a.ctx);
    n = stream_sections(s, len, at, NULL, 256);
    assert_true(n > 10);
    /* Every byte of the header, then every section boundary, and the
     * middle of every section. */
    for (size_t k = 0; k < 32; k++)
        expect_refused(s, k, "cut", k);
    for (size_t i = 0; i < n; i++) {
        expect_refused(s, at[i], "cut at a section start", at[i]);
        expect_refused(s, at[i] + 8, "cut in a section head", at[i] + 8);
        expect_refused(s, (at[i] + at[i + 1]) / 2, "cut in a section",
                       (at[i] + at[i + 1]) / 2);
        expect_refused(s, at[i + 1] - 1, "cut before a checksum end",
                       at[i + 1] - 1);
    }
    assert_int_equal(try_load(s, 0, &err), MT_EPARSE);
    assert_string_equal(err.msg, "not a memtree migration stream (empty)");
    assert_int_equal(try_load(s, at[n - 1], &err), MT_ECORRUPT);
    assert_non_null(strstr(err.msg, "truncated"));

    /* Through a pipe whose writer stops early. */
    assert_int_equal(pipe(p), 0);
    assert_int_equal(write(p[1], s, at[n / 2] + 100), (ssize_t)(at[n / 2] + 100));
    close(p[1]);
    {
        world b;
        mt_migrate_dst *dst;

        small_world(&b);
        MT_OK(mt_migrate_dst_new(p[0], NULL, &dst));
        MT_EXPECT(mt_migrate_dst_load(dst, b.ctx, &err), MT_ECORRUPT);
        assert_non_null(strstr(err.msg, "truncated"));
        MT_EXPECT(mt_migrate_dst_load(dst, b.ctx, &err), MT_ESTATE);
        mt_migrate_dst_free(dst);
        mt_ctx_free(b.ctx);
    }
    close(p[0]);
    free(s);
}

/* Is byte @pos page data (in a PAGE section, after its bitmap)? */
static bool in_page_data(const uint8_t *s, const size_t *at,
                         const uint32_t *type, size_t n, size_t pos)
{
    for (size_t i = 0; i < n; i++) {
        if (pos < at[i] || pos >= at[i + 1])
            continue;
        if (type[i] != MT__SNAP_SEC_PAGES)
            return false;
        return pos >= at[i] + 16 + 16 +
                          8 * ((le32(s + at[i] + 16 + 4) + 63) / 64) &&
               pos < at[i + 1] - 8;
    }
    return false;
}

static void test_flipped(void **state)
{
    world a;
    uint8_t *s, *t;
    size_t len, at[256], n, tried = 0;
    uint32_t type[256];
    static const uint8_t flips[3] = { 0x01, 0x80, 0xff };

    (void)state;
    s = valid_stream(&len, &a);
    mt_ctx_free(a.ctx);
    n = stream_sections(s, len, at, type, 256);
    t = malloc(len);
    assert_non_null(t);
    /* Every byte but page data; one page-data byte in 97. */
    for (size_t pos = 0; pos < len; pos++) {
        if (in_page_data(s, at, type, n, pos) && pos % 97)
            continue;
        for (int f = 0; f < 3; f++) {
            memcpy(t, s, len);
            t[pos] ^= flips[f];
            expect_refused(t, len, "flipped byte", pos);
            tried++;
        }
    }
    assert_true(tried > 3000);
    free(t);
    free(s);
}

/* ---- hand-made streams ---------------------------------------------------- */

typedef struct forge {
    int fd;
    mt__snapw *w;
    world a;
    mt_snapshot *snap;          /* a's tables and pages */
} forge;

static void forge_start(forge *f)
{
    f->fd = new_memfd();
    f->w = malloc(sizeof(*f->w));
    assert_non_null(f->w);
    small_world(&f->a);
    w_fill(mt_region_ram_ptr(f->a.ram), SMALL_RAM, 5);
    MT_OK(mt_snapshot_take(f->a.ctx, 0, &f->snap, NULL));
    MT_OK(mt__snapw_start_as(f->w, f->fd, &mt__mig_stream_format));
    MT_OK(mt__snap_write_table(f->snap, f->w, MT__SNAP_SEC_REGIONS));
}

/* Every page of every block but page @skip of block 0 (-1: none). */
static void forge_pages(forge *f, long skip)
{
    static uint8_t stage[16 * PG];
    mt_migrate_stats st = { 0 };

    for (uint32_t b = 0; b < f->snap->nr_blocks; b++) {
        const mt__snap_block *bl = &f->snap->blocks[b];

        for (uint64_t p = 0; p < bl->npages; p++)
            if (!(b == 0 && (long)p == skip))
                MT_OK(mt__mig_put_run(f->w, b, bl->data ? bl->data
                                                        : stage,
                                      p, 1, stage, &st));
    }
}

/* Final table and end record; load; the code and message. */
static int forge_finish(forge *f, bool state, mt_migrate_error *err)
{
    uint8_t *s;
    size_t len;
    int rc;

    if (state)
        MT_OK(mt__snap_write_table(f->snap, f->w, MT__MIG_SEC_STATE));
    MT_OK(mt__snapw_finish(f->w));
    s = memfd_contents(f->fd, &len);
    rc = try_load(s, len, err);
    free(s);
    free(f->w);
    mt_snapshot_free(f->snap);
    mt_ctx_free(f->a.ctx);
    return rc;
}

static void test_forged_complete_is_accepted(void **state)
{
    forge f;
    mt_migrate_error err;

    (void)state;
    forge_start(&f);
    forge_pages(&f, -1);
    MT_OK(forge_finish(&f, true, &err));
}

static void test_page_never_sent(void **state)
{
    forge f;
    mt_migrate_error err;

    (void)state;
    forge_start(&f);
    forge_pages(&f, 5);
    MT_EXPECT(forge_finish(&f, true, &err), MT_EPARSE);
    assert_string_equal(err.msg, "page 5 of block 'ram' never arrived");
}

static void test_no_final_state(void **state)
{
    forge f;
    mt_migrate_error err;

    (void)state;
    forge_start(&f);
    forge_pages(&f, -1);
    MT_EXPECT(forge_finish(&f, false, &err), MT_EPARSE);
    assert_non_null(strstr(err.msg, "without its final region state"));
}

static void test_misplaced_sections(void **state)
{
    forge f;
    mt_migrate_error err;

    (void)state;
    /* A second region table. */
    forge_start(&f);
    MT_OK(mt__snap_write_table(f.snap, f.w, MT__SNAP_SEC_REGIONS));
    MT_EXPECT(forge_finish(&f, true, &err), MT_EPARSE);
    assert_non_null(strstr(err.msg, "a second region table"));
    /* An unknown section. */
    forge_start(&f);
    MT_OK(mt__snapw_begin(f.w, MT__SNAP_TAG('W', 'H', 'A', 'T'), 0));
    MT_OK(mt__snapw_end(f.w));
    MT_EXPECT(forge_finish(&f, true, &err), MT_EPARSE);
    assert_non_null(strstr(err.msg, "unknown section type"));
    /* Something between the final table and the end record. */
    forge_start(&f);
    forge_pages(&f, -1);
    MT_OK(mt__snap_write_table(f.snap, f.w, MT__MIG_SEC_STATE));
    MT_OK(mt__mig_put_ext(f.w, 1, "x", 1));
    MT_EXPECT(forge_finish(&f, false, &err), MT_EPARSE);
    assert_non_null(strstr(err.msg, "expected the end record"));
    /* Pages first, no table. */
    {
        uint8_t *s;
        size_t len;
        int fd = new_memfd();
        mt__snapw *w = malloc(sizeof(*w));
        static uint8_t page[PG];
        mt_migrate_stats st = { 0 };

        assert_non_null(w);
        MT_OK(mt__snapw_start_as(w, fd, &mt__mig_stream_format));
        MT_OK(mt__mig_put_run(w, 0, page, 0, 1, page, &st));
        MT_OK(mt__snapw_finish(w));
        free(w);
        s = memfd_contents(fd, &len);
        MT_EXPECT(try_load(s, len, &err), MT_EPARSE);
        assert_string_equal(err.msg, "the stream does not start with its "
                                     "region table");
        free(s);
    }
}

static void test_pages_outside_blocks(void **state)
{
    forge f;
    mt_migrate_error err;
    static uint8_t stage[PG], host[9 * PG];
    mt_migrate_stats st = { 0 };

    (void)state;
    forge_start(&f);
    MT_OK(mt__mig_put_run(f.w, 0, host, 8, 1, stage, &st)); /* page 8 of 8 */
    MT_EXPECT(forge_finish(&f, true, &err), MT_EPARSE);
    assert_non_null(strstr(err.msg, "outside the blocks"));
    forge_start(&f);
    MT_OK(mt__mig_put_run(f.w, 9, host, 0, 1, stage, &st));
    MT_EXPECT(forge_finish(&f, true, &err), MT_EPARSE);
    assert_non_null(strstr(err.msg, "block 9"));
}

static void test_final_table_of_other_regions(void **state)
{
    forge f;
    world other;
    mt_snapshot *s2;
    mt_migrate_error err;

    (void)state;
    forge_start(&f);
    forge_pages(&f, -1);
    w_build(&other); /* RAM of another size */
    MT_OK(mt_snapshot_take(other.ctx, 0, &s2, NULL));
    MT_OK(mt__snap_write_table(s2, f.w, MT__MIG_SEC_STATE));
    mt_snapshot_free(s2);
    mt_ctx_free(other.ctx);
    MT_EXPECT(forge_finish(&f, false, &err), MT_EPARSE);
    assert_non_null(strstr(err.msg, "final region table differs"));
}

static void test_ext_reserved_field(void **state)
{
    forge f;
    mt_migrate_error err;
    static const uint8_t rec[9] = { 1, 0, 0, 0, 1, 0, 0, 0, 'x' };

    (void)state;
    forge_start(&f);
    MT_OK(mt__snapw_begin(f.w, MT__MIG_SEC_EXT, sizeof(rec)));
    MT_OK(mt__snapw_put(f.w, rec, sizeof(rec)));
    MT_OK(mt__snapw_end(f.w));
    MT_EXPECT(forge_finish(&f, true, &err), MT_EPARSE);
    assert_non_null(strstr(err.msg, "reserved field"));
    forge_start(&f);
    MT_OK(mt__snapw_begin(f.w, MT__MIG_SEC_EXT, 4));
    MT_OK(mt__snapw_put(f.w, rec, 4));
    MT_OK(mt__snapw_end(f.w));
    MT_EXPECT(forge_finish(&f, true, &err), MT_EPARSE);
    assert_non_null(strstr(err.msg, "extension record"));
}

/* Other versions, snapshot files, data after the end. */
static void test_headers(void **state)
{
    world a;
    uint8_t *s, *t;
    size_t len;
    mt_migrate_error err;
    mt_snapshot *snap;
    mt_snapshot_error serr;

    (void)state;
    s = valid_stream(&len, &a);
    t = malloc(len + 1);
    assert_non_null(t);
    /* Version 2, with a checksum that holds. */
    memcpy(t, s, len);
    t[8] = 2;
    {
        uint64_t sum = mt__sum64(MT__MIG_SEED_HEADER, t, 24);

        for (int i = 0; i < 8; i++)
            t[24 + i] = (uint8_t)(sum >> (8 * i));
    }
    MT_EXPECT(try_load(t, len, &err), MT_EPARSE);
    assert_string_equal(err.msg, "memtree migration stream format version 2 "
                                 "is not supported (this library reads "
                                 "version 1)");
    /* Trailing data in a buffer. */
    memcpy(t, s, len);
    t[len] = 0;
    MT_EXPECT(try_load(t, len + 1, &err), MT_EPARSE);
    assert_non_null(strstr(err.msg, "data after the end section"));
    /* A snapshot file is not a stream, and the other way round. */
    {
        int fd = new_memfd();
        uint8_t *f;
        size_t flen;

        MT_OK(mt_snapshot_take(a.ctx, 0, &snap, NULL));
        MT_OK(mt_snapshot_save(snap, fd, NULL));
        mt_snapshot_free(snap);
        f = memfd_contents(fd, &flen);
        MT_EXPECT(try_load(f, flen, &err), MT_EPARSE);
        assert_non_null(strstr(err.msg, "memtree snapshot file"));
        free(f);
    }
    MT_EXPECT(mt_snapshot_load_buffer(a.ctx, s, len, &snap, &serr),
              MT_EPARSE);
    assert_non_null(strstr(serr.msg, "bad magic"));
    memcpy(t, "NOTMTMIG", 8);
    MT_EXPECT(try_load(t, len, &err), MT_EPARSE);
    assert_string_equal(err.msg, "not a memtree migration stream (bad magic)");
    free(t);
    free(s);
    mt_ctx_free(a.ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_stream_loads),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_flipped),
        cmocka_unit_test(test_forged_complete_is_accepted),
        cmocka_unit_test(test_page_never_sent),
        cmocka_unit_test(test_no_final_state),
        cmocka_unit_test(test_misplaced_sections),
        cmocka_unit_test(test_pages_outside_blocks),
        cmocka_unit_test(test_final_table_of_other_regions),
        cmocka_unit_test(test_ext_reserved_field),
        cmocka_unit_test(test_headers),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
