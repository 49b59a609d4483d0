/* SPDX-License-Identifier: MIT */
/*
 * migrate_src.c: the source side of a migration (include/memtree/migrate.h).
 *
 * The session keeps the region records taken at start (the snapshot code's
 * records and blocks, without data), a reference on each block's region,
 * and one "pending" bit per page: pages dirtied and not yet sent. A pass
 * is: pull the accelerators' dirty logs (mt_as_log_sync, which reaches
 * KVM's dirty log through the memslot listener), move each block's
 * MIGRATION dirty bits into the pending bits (mt_region_dirty_snapshot
 * takes them atomically), then send every pending page, in runs of at most
 * 1024, each page copied once into a staging buffer before it is
 * checksummed and written. A page written by the guest after its bits were
 * taken is dirty again and goes in a later pass; complete() runs the last
 * pass with the vCPUs stopped, so nothing is missed.
 *
 * The context's writer lock is held only to record regions and while
 * pulling the logs (mt_as_log_sync takes it); pages are copied and written
 * without it. Logging is the snapshot code's arming (mt__snap_arm):
 * global dirty logging, committed before the first pass, and owned by the
 * session until it completes or fails.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "migrate_int.h"

struct mt_migrate_src {
    mt_ctx *ctx;
    int state;                  /* MT__MIG_* */
    mt_snapshot *snap;          /* records and blocks as at start; armed */
    mt_region **blk;            /* the live region of each block (referenced) */
    uint8_t *stage;             /* one run of pages */
    mt__snapw *w;
    uint32_t nr_ext;
    uint64_t ext_bytes;         /* payloads of the records sent */
    mt_migrate_stats stats;
};

#define STAGE_BYTES ((size_t)MT__SNAP_RUN_PAGES * MT__SNAP_PAGE)

/* ---- errors ---------------------------------------------------------------- */

/* A write error: what the writer saw, with errno. */
static int write_error(mt_migrate_src *src, mt_migrate_error *err, int saved)
{
    int rc = src->w->rc;

    if (rc == MT_EIO)
        return mt__snap_fail(err, rc, "cannot write the migration stream: "
                             "%s", strerror(saved));
    return mt__snap_fail(err, rc, "cannot write the migration stream: %s",
                         mt_strerror(rc));
}

/* Give up: a cancel record when the stream still takes one, logging off. */
static void fail_session(mt_migrate_src *src, const char *why)
{
    if (src->state != MT__MIG_RUNNING)
        return;
    src->state = MT__MIG_FAILED;
    if (!src->w->rc && !src->w->open)
        mt__mig_put_cancel(src->w, why);
    if (mt_snapshot_armed(src->snap))
        mt_snapshot_disarm(src->snap);
}

/* ---- passes ------------------------------------------------------------------ */

/* Move the MIGRATION dirty bits of every block into the pending bits,
 * after pulling the accelerators' logs; under the writer lock, so that no
 * resize slips between the size check and the bits. */
static int collect_locked(mt_migrate_src *src, mt_migrate_error *err)
{
    mt_snapshot *s = src->snap;

    mt__snap_sync(src->ctx);
    for (uint32_t b = 0; b < s->nr_blocks; b++) {
        mt__snap_block *bl = &s->blocks[b];
        mt_region *r = src->blk[b];
        uint64_t size = mt_region_size(r), off;
        mt_dirty_snapshot *ds;
        int rc;

        if (((size + MT__SNAP_PAGE - 1) & ~(MT__SNAP_PAGE - 1)) != bl->bytes)
            return mt__snap_fail(err, MT_EMISMATCH,
                                 "RAM block '%s' was resized during the "
                                 "migration (%llu bytes, now %llu)",
                                 mt__snap_show(s->regions[bl->region].name),
                                 (unsigned long long)bl->bytes,
                                 (unsigned long long)size);
        if (!bl->bytes)
            continue;
        rc = mt_region_dirty_snapshot(r, 0, bl->bytes,
                                      MT_DIRTY_CLIENT_MIGRATION, &ds);
        if (rc)
            return mt__snap_fail(err, rc, "cannot collect the dirty pages "
                                 "of '%s': %s",
                                 mt__snap_show(s->regions[bl->region].name),
                                 mt_strerror(rc));
        for (off = mt_dirty_snapshot_next(ds, 0); off < bl->bytes;
             off = mt_dirty_snapshot_next(ds, off + MT__SNAP_PAGE)) {
            uint64_t p = off / MT__SNAP_PAGE;

            bl->present[p / 64] |= UINT64_C(1) << (p % 64);
        }
        mt_dirty_snapshot_free(ds);
    }
    return 0;
}

static int collect(mt_migrate_src *src, mt_migrate_error *err)
{
    int rc;

    mt_begin(src->ctx);
    rc = collect_locked(src, err);
    mt_commit(src->ctx);
    return rc;
}

static uint64_t count_pending(const mt_snapshot *s)
{
    uint64_t n = 0;

    for (uint32_t b = 0; b < s->nr_blocks; b++)
        for (uint64_t i = 0; i < mt__snap_words(s->blocks[b].npages); i++)
            n += (uint64_t)__builtin_popcountll(s->blocks[b].present[i]);
    return n;
}

/* Send every pending page, in runs; the bits are cleared as they go. */
static int send_pending(mt_migrate_src *src, mt_migrate_error *err)
{
    mt_snapshot *s = src->snap;
    uint64_t sent = 0;

    for (uint32_t b = 0; b < s->nr_blocks && !src->w->rc; b++) {
        mt__snap_block *bl = &s->blocks[b];
        const uint8_t *host = mt_region_ram_ptr(src->blk[b]);
        uint64_t p = 0;

        while (p < bl->npages && !src->w->rc) {
            uint64_t word = bl->present[p / 64] >> (p % 64);
            uint32_t n = 0;

            if (!word) {
                p = (p / 64 + 1) * 64;
                continue;
            }
            p += (uint64_t)__builtin_ctzll(word);
            while (p + n < bl->npages && n < MT__SNAP_RUN_PAGES &&
                   mt__snap_bit(bl->present, p + n))
                n++;
            mt__mig_put_run(src->w, b, host, p, n, src->stage,
                            &src->stats);
            for (uint32_t i = 0; i < n; i++)
                bl->present[(p + i) / 64] &= ~(UINT64_C(1) << ((p + i) % 64));
            sent += n;
            p += n;
        }
    }
    /* The pass's last bytes go out now, not with the next pass: the
     * destination can apply them before the source stops. */
    mt__snapw_flush(src->w);
    if (src->w->rc)
        return write_error(src, err, errno);
    src->stats.passes++;
    src->stats.pages += sent;
    src->stats.last_pages = sent;
    return 0;
}

/* Stream bytes of a region table section. */
static uint64_t table_bytes(const mt_snapshot *s)
{
    uint64_t len = 8;

    for (uint32_t i = 0; i < s->nr_regions; i++)
        len += 64 + ((s->regions[i].name_len + UINT64_C(7)) & ~UINT64_C(7));
    return mt__mig_section_bytes(len);
}

/* ---- the session -------------------------------------------------------------- */

/* Record the regions and blocks of @ctx into a new snapshot object (no
 * data); with @blk, reference each block's region into it. */
static int record(mt_ctx *ctx, mt_snapshot **out, mt_region ***blk,
                  mt_migrate_error *err)
{
    mt_snapshot *s = mt__snap_new(&ctx->alloc);
    mt_region **live = NULL;
    int rc;

    *out = NULL;
    if (!s)
        return mt__snap_fail(err, MT_ENOMEM, "out of memory");
    mt_begin(ctx);
    rc = mt__snap_capture(ctx, s, false, &live, err);
    if (!rc && blk) {
        *blk = mt__snap_zalloc(s, ((size_t)s->nr_blocks + 1) *
                                      sizeof(mt_region *));
        if (!*blk) {
            rc = mt__snap_fail(err, MT_ENOMEM, "out of memory");
        } else {
            for (uint32_t b = 0; b < s->nr_blocks; b++)
                (*blk)[b] = mt_region_ref(live[s->blocks[b].region]);
            /* Logging is committed: what was dirtied before now is in
             * the full pass anyway. */
            mt__snap_sync(ctx);
            mt__snap_clear_tracking(s, live);
        }
    }
    mt_commit(ctx);
    if (live)
        mt__snap_free(s, live);
    if (rc) {
        mt_snapshot_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

static void destroy(mt_migrate_src *src)
{
    mt_snapshot *s = src->snap;

    if (s && src->blk) {
        for (uint32_t b = 0; b < s->nr_blocks; b++)
            mt_region_unref(src->blk[b]);
        mt__snap_free(s, src->blk);
    }
    if (src->stage)
        munmap(src->stage, STAGE_BYTES);
    if (s) {
        mt__snap_free(s, src->w);
        mt_snapshot_free(s); /* disarms: logging off */
    }
    src->ctx->alloc.free(src->ctx->alloc.opaque, src);
}

int mt_migrate_src_start(mt_ctx *ctx, int fd, unsigned flags,
                         mt_migrate_src **out, mt_migrate_error *err)
{
    mt_migrate_src *src;
    mt_snapshot *arm;
    int rc;

    if (out)
        *out = NULL;
    if (!ctx || fd < 0 || !out || flags)
        return mt__snap_fail(err, MT_EINVAL, "invalid argument");
    src = ctx->alloc.alloc(ctx->alloc.opaque, sizeof(*src));
    if (!src)
        return mt__snap_fail(err, MT_ENOMEM, "out of memory");
    memset(src, 0, sizeof(*src));
    src->ctx = ctx;
    src->state = MT__MIG_RUNNING;
    /* Logging first (committed), then the records and the cleared bits:
     * every page written after that is dirty again. The arming lives on
     * an empty snapshot object until the records exist. */
    arm = mt__snap_new(&ctx->alloc);
    if (!arm) {
        destroy(src);
        return mt__snap_fail(err, MT_ENOMEM, "out of memory");
    }
    rc = mt__snap_arm(ctx, arm, err);
    if (!rc)
        rc = record(ctx, &src->snap, &src->blk, err);
    if (rc) {
        mt_snapshot_free(arm);
        destroy(src);
        return rc;
    }
    /* Hand the arming over to the records. */
    src->snap->armed = arm->armed;
    arm->armed = NULL;
    mt_snapshot_free(arm);

    src->w = mt__snap_alloc(src->snap, sizeof(*src->w));
    src->stage = mt__snap_map(STAGE_BYTES);
    if (src->stage == MAP_FAILED)
        src->stage = NULL;
    if (!src->w || !src->stage) {
        destroy(src);
        return mt__snap_fail(err, MT_ENOMEM, "out of memory");
    }
    for (uint32_t b = 0; b < src->snap->nr_blocks; b++) {
        mt__snap_block *bl = &src->snap->blocks[b];

        src->stats.total_pages += bl->npages;
        for (uint64_t p = 0; p < bl->npages; p++)
            bl->present[p / 64] |= UINT64_C(1) << (p % 64);
    }
    if (mt__snapw_start_as(src->w, fd, &mt__mig_stream_format)) {
        rc = mt__snap_fail(err, MT_EIO, "cannot write the migration stream: "
                           "%s", strerror(errno));
        destroy(src);
        return rc;
    }
    mt__snap_write_table(src->snap, src->w, MT__SNAP_SEC_REGIONS);
    src->stats.bytes = MT__SNAP_HEADER_SIZE + table_bytes(src->snap);
    rc = src->w->rc ? write_error(src, err, errno)
                    : send_pending(src, err);
    if (rc) {
        fail_session(src, "the source failed in its first pass");
        destroy(src);
        return rc;
    }
    mt__snap_ok(err);
    *out = src;
    return 0;
}

static int check_running(const mt_migrate_src *src, mt_migrate_error *err)
{
    if (!src)
        return mt__snap_fail(err, MT_EINVAL, "invalid argument");
    if (src->state != MT__MIG_RUNNING)
        return mt__snap_fail(err, MT_ESTATE,
                             src->state == MT__MIG_DONE
                                 ? "the migration is complete"
                                 : "the migration has failed or was "
                                   "cancelled");
    return 0;
}

int mt_migrate_src_iterate(mt_migrate_src *src, uint64_t *remaining,
                           mt_migrate_error *err)
{
    int rc = check_running(src, err);

    if (remaining)
        *remaining = 0;
    if (rc)
        return rc;
    rc = collect(src, err);
    if (!rc)
        rc = send_pending(src, err);
    if (!rc)
        rc = collect(src, err);
    if (rc) {
        fail_session(src, err ? err->msg : "the source failed");
        return rc;
    }
    src->stats.remaining = count_pending(src->snap);
    if (remaining)
        *remaining = src->stats.remaining;
    mt__snap_ok(err);
    return 0;
}

int mt_migrate_src_put_ext(mt_migrate_src *src, uint32_t tag,
                           const void *data, size_t len,
                           mt_migrate_error *err)
{
    int rc = check_running(src, err);

    if (rc)
        return rc;
    if ((!data && len) || len > MT_MIGRATE_MAX_EXT)
        return mt__snap_fail(err, MT_EINVAL,
                             "invalid extension record (%zu bytes; at most "
                             "%u)", len, MT_MIGRATE_MAX_EXT);
    if (src->nr_ext >= MT_MIGRATE_MAX_EXTS ||
        src->ext_bytes + 8 + len > MT__MIG_MAX_EXT_TOTAL)
        return mt__snap_fail(err, MT_EINVAL,
                             "too many extension records (at most %u, "
                             "256 MiB in all)", MT_MIGRATE_MAX_EXTS);
    if (mt__mig_put_ext(src->w, tag, data, len)) {
        rc = write_error(src, err, errno);
        fail_session(src, "the source failed");
        return rc;
    }
    src->nr_ext++;
    src->ext_bytes += 8 + (uint64_t)len;
    src->stats.bytes += mt__mig_section_bytes(8 + (uint64_t)len);
    mt__snap_ok(err);
    return 0;
}

int mt_migrate_src_complete(mt_migrate_src *src, mt_migrate_error *err)
{
    mt_snapshot *fin = NULL;
    int rc = check_running(src, err);

    if (rc)
        return rc;
    rc = collect(src, err);
    if (!rc)
        rc = send_pending(src, err);
    if (!rc)
        rc = record(src->ctx, &fin, NULL, err);
    if (!rc)
        rc = mt__mig_same_layout(src->snap, fin,
                                 "the regions changed during the migration",
                                 err);
    if (!rc) {
        mt__snap_write_table(fin, src->w, MT__MIG_SEC_STATE);
        mt__snapw_finish(src->w);
        if (src->w->rc)
            rc = write_error(src, err, errno);
        src->stats.bytes += table_bytes(fin) + mt__mig_section_bytes(16);
    }
    mt_snapshot_free(fin);
    if (rc) {
        fail_session(src, err ? err->msg : "the source failed");
        return rc;
    }
    src->state = MT__MIG_DONE;
    src->stats.remaining = 0;
    mt_snapshot_disarm(src->snap);
    mt__snap_ok(err);
    return 0;
}

int mt_migrate_src_cancel(mt_migrate_src *src, const char *why)
{
    int rc = check_running(src, NULL);

    if (rc)
        return rc;
    fail_session(src, why ? why : "cancelled by the source");
    return 0;
}

int mt_migrate_src_stats(const mt_migrate_src *src, mt_migrate_stats *out)
{
    if (!src || !out)
        return MT_EINVAL;
    *out = src->stats;
    return 0;
}

void mt_migrate_src_free(mt_migrate_src *src)
{
    if (!src)
        return;
    fail_session(src, "the source gave up the migration");
    destroy(src);
}
