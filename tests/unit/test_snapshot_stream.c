/* SPDX-License-Identifier: MIT */
/*
 * test_snapshot_stream.c: the stream pieces under the file format
 * (src/snapshot_stream.c), used the way a migration stream would: runs of
 * dirty pages of a live block sent as PAGE sections through a pipe and
 * written into another live block, which changes exactly there (stored
 * pages copied, zero pages cleared); framing errors are caught.
 */
#include <sys/mman.h>
#include <unistd.h>

#include "mt_testutil.h"
#include "snapshot_int.h"

#define PG 4096u
#define NPAGES 64u

static void test_dirty_runs_through_a_pipe(void **state)
{
    mt_ctx *ctx = t_ctx();
    mt_region *src = t_ram(ctx, "src", NPAGES * PG);
    mt_region *dst = t_ram(ctx, "dst", NPAGES * PG);
    uint8_t *s = mt_region_ram_ptr(src), *d = mt_region_ram_ptr(dst);
    /* Runs of "dirty" pages: [3, 6), [10, 11), [20, 24); page 4 and 21
     * are zero in the source and must be cleared in the destination. */
    static const uint32_t runs[3][2] = { { 3, 3 }, { 10, 1 }, { 20, 4 } };
    mt__snapw *w = malloc(sizeof(*w));
    mt__snapr r;
    uint8_t *want = malloc(NPAGES * PG);
    int p[2];

    (void)state;
    assert_non_null(w);
    assert_non_null(want);
    memset(s, 0xaa, NPAGES * PG);
    memset(s + 4 * PG, 0, PG);
    memset(s + 21 * PG, 0, PG);
    memset(d, 0x55, NPAGES * PG);
    memcpy(want, d, NPAGES * PG);
    for (int i = 0; i < 3; i++)
        memcpy(want + runs[i][0] * PG, s + runs[i][0] * PG,
               runs[i][1] * PG);

    assert_int_equal(pipe(p), 0);
    MT_OK(mt__snapw_start(w, p[1]));
    for (int i = 0; i < 3; i++)
        MT_OK(mt__snapw_pages(w, 7, s, NULL, runs[i][0], runs[i][1]));
    MT_OK(mt__snapw_finish(w));
    close(p[1]);
    free(w);

    memset(&r, 0, sizeof(r));
    r.fd = p[0];
    r.verify = true;
    MT_OK(mt__snapr_start(&r));
    for (int i = 0;; i++) {
        mt__snap_pages pg;
        uint32_t type;
        uint64_t len;

        MT_OK(mt__snapr_begin(&r, &type, &len));
        if (type == MT__SNAP_SEC_END) {
            assert_int_equal(i, 3);
            break;
        }
        assert_int_equal(type, MT__SNAP_SEC_PAGES);
        MT_OK(mt__snapr_pages_head(&r, len, &pg));
        assert_int_equal(pg.block, 7);
        assert_int_equal(pg.first, runs[i][0]);
        assert_int_equal(pg.n, runs[i][1]);
        MT_OK(mt__snapr_pages_data(&r, &pg, d, true));
    }
    MT_OK(mt__snapr_finish(&r));
    close(p[0]);
    assert_memory_equal(d, want, NPAGES * PG);
    free(want);
    mt_ctx_free(ctx);
}

/* Misuse of the writer is caught and sticky: a section shorter or longer
 * than announced, a run too long. */
static void test_writer_misuse(void **state)
{
    mt__snapw *w = malloc(sizeof(*w));
    int fd = memfd_create("w", 0);
    static uint8_t page[PG];

    (void)state;
    assert_non_null(w);
    MT_OK(mt__snapw_start(w, fd));
    MT_OK(mt__snapw_begin(w, MT__SNAP_SEC_PAGES, 4));
    MT_EXPECT(mt__snapw_put(w, "12345", 5), MT_EINVAL);
    MT_EXPECT(mt__snapw_finish(w), MT_EINVAL);
    MT_OK(mt__snapw_start(w, fd));
    MT_OK(mt__snapw_begin(w, MT__SNAP_SEC_PAGES, 4));
    MT_EXPECT(mt__snapw_end(w), MT_EINVAL);
    MT_OK(mt__snapw_start(w, fd));
    MT_EXPECT(mt__snapw_pages(w, 0, page, NULL, 0, MT__SNAP_RUN_PAGES + 1),
              MT_EINVAL);
    close(fd);
    free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dirty_runs_through_a_pipe),
        cmocka_unit_test(test_writer_misuse),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
