/* SPDX-License-Identifier: MIT */
/*
 * snapshot_restore.c: putting a snapshot back: all of it
 * (mt_snapshot_restore) or only what changed (mt_snapshot_reset).
 *
 * Both first match the snapshot with the context (nothing is changed when
 * that fails), then in one transaction put the region state back and copy
 * memory. A full restore writes every page that holds data in the
 * snapshot and clears the others where they are not already zero. A reset
 * pulls the accelerators' dirty logs (mt_as_log_sync on every address
 * space, which reaches KVM's dirty log or rings), takes the MIGRATION
 * dirty bits of every block atomically (mt_region_dirty_snapshot) and
 * copies back just those pages. While a snapshot is armed it is the only
 * consumer of those bits; if anyone else has global dirty logging on too,
 * a reset cannot trust them and copies everything instead.
 */
#include <string.h>

#include "snapshot_int.h"


#define OTHER_CLIENTS (MT_DIRTY_VGA | MT_DIRTY_CODE)

void mt__snap_sync(mt_ctx *ctx)
{
    size_t n = mt_ctx_nr_as(ctx);

    for (size_t i = 0; i < n; i++)
        mt_as_log_sync(mt_ctx_as(ctx, i), NULL);
}

void mt__snap_clear_tracking(const mt_snapshot *s, mt_region **map)
{
    for (uint32_t b = 0; b < s->nr_blocks; b++) {
        const mt__snap_block *bl = &s->blocks[b];
        bool was;

        if (bl->bytes)
            mt_region_dirty_test_and_clear(map[bl->region], 0, bl->bytes,
                                           MT_DIRTY_CLIENT_MIGRATION, &was);
    }
}

/* Write pages [first, end) of @bl back to @host. */
static void put_pages(const mt__snap_block *bl, uint8_t *host, uint64_t first,
                      uint64_t end, bool check_zero)
{
    uint64_t p = first;

    while (p < end) {
        uint64_t q = p + 1;

        if (mt__snap_bit(bl->present, p)) {
            while (q < end && mt__snap_bit(bl->present, q))
                q++;
            memcpy(host + p * MT__SNAP_PAGE, bl->data + p * MT__SNAP_PAGE,
                   (size_t)((q - p) * MT__SNAP_PAGE));
        } else {
            uint8_t *dst = host + p * MT__SNAP_PAGE;

            if (!check_zero || !mt__snap_page_zero(dst))
                memset(dst, 0, MT__SNAP_PAGE);
        }
        p = q;
    }
}

/* Every page of every block; marks them for @clients. */
static uint64_t copy_all(const mt_snapshot *s, mt_region **map,
                         unsigned clients)
{
    uint64_t pages = 0;

    for (uint32_t b = 0; b < s->nr_blocks; b++) {
        const mt__snap_block *bl = &s->blocks[b];
        mt_region *r = map[bl->region];
        uint8_t *host = mt_region_ram_ptr(r);

        if (!host || !bl->bytes)
            continue;
        put_pages(bl, host, 0, bl->npages, true);
        mt_region_dirty_set(r, 0, bl->bytes, clients);
        pages += bl->npages;
    }
    return pages;
}

/* The pages of each block dirty for MIGRATION (bits taken). */
static int copy_dirty(const mt_snapshot *s, mt_region **map, uint64_t *pages)
{
    for (uint32_t b = 0; b < s->nr_blocks; b++) {
        const mt__snap_block *bl = &s->blocks[b];
        mt_region *r = map[bl->region];
        uint8_t *host = mt_region_ram_ptr(r);
        mt_dirty_snapshot *ds;
        uint64_t off;
        int rc;

        if (!host || !bl->bytes)
            continue;
        rc = mt_region_dirty_snapshot(r, 0, bl->bytes,
                                      MT_DIRTY_CLIENT_MIGRATION, &ds);
        if (rc)
            return rc;
        for (off = mt_dirty_snapshot_next(ds, 0); off < bl->bytes;
             off = mt_dirty_snapshot_next(ds, off)) {
            uint64_t first = off / MT__SNAP_PAGE, end = first + 1;

            while (end < bl->npages &&
                   mt_dirty_snapshot_get(ds, end * MT__SNAP_PAGE))
                end++;
            put_pages(bl, host, first, end, false);
            mt_region_dirty_set(r, first * MT__SNAP_PAGE,
                                (end - first) * MT__SNAP_PAGE, OTHER_CLIENTS);
            *pages += end - first;
            off = end * MT__SNAP_PAGE;
            if (off >= bl->bytes)
                break;
        }
        mt_dirty_snapshot_free(ds);
    }
    return 0;
}

/* Region-indexed map for @s (freed by the caller). */
static mt_region **new_map(const mt_snapshot *s)
{
    return mt__snap_alloc(s, ((size_t)s->nr_regions + 1) * sizeof(mt_region *));
}

/* Check @snap against @ctx in a transaction of its own, changing nothing. */
static int check_only(mt_ctx *ctx, const mt_snapshot *snap, mt_region **map,
                      mt_snapshot_error *err)
{
    int rc;

    mt_begin(ctx);
    rc = mt__snap_match(ctx, snap, map, err);
    mt_commit(ctx);
    return rc;
}

int mt_snapshot_restore(mt_ctx *ctx, mt_snapshot *snap, unsigned flags,
                        mt_snapshot_error *err)
{
    mt_region **map;
    bool own, armed_here;
    int rc, crc;

    if (!ctx || !snap || (flags & ~MT_SNAPSHOT_TRACK))
        return mt__snap_fail(err, MT_EINVAL, "invalid argument");
    if (snap->armed && snap->armed != ctx)
        return mt__snap_fail(err, MT_EBUSY,
                             "the snapshot is armed on another context");
    map = new_map(snap);
    if (!map)
        return mt__snap_fail(err, MT_ENOMEM, "out of memory");
    armed_here = (flags & MT_SNAPSHOT_TRACK) && !snap->armed;
    if (armed_here) {
        /* Check first, so a mismatch leaves even the logging alone. */
        rc = check_only(ctx, snap, map, err);
        if (!rc)
            rc = mt__snap_arm(ctx, snap, err);
        if (rc) {
            mt__snap_free(snap, map);
            return rc;
        }
    }
    mt_begin(ctx);
    /* The bits are ours to reset only while nobody else logs. */
    own = snap->armed == ctx && ctx->dirty_log_users == 1;
    rc = mt__snap_match(ctx, snap, map, err);
    if (!rc) {
        rc = mt__snap_apply_state(ctx, snap, map);
        if (rc)
            mt__snap_fail(err, rc, "cannot restore the region state: %s",
                          mt_strerror(rc));
        if (own) {
            mt__snap_sync(ctx);
            mt__snap_clear_tracking(snap, map);
        }
        copy_all(snap, map, OTHER_CLIENTS | (own ? 0 : MT_DIRTY_MIGRATION));
    }
    crc = mt_commit(ctx);
    if (!rc && crc)
        rc = mt__snap_fail(err, crc, "commit failed: %s", mt_strerror(crc));
    /* Another thread changed the regions between the check and now. */
    if (rc == MT_EMISMATCH && armed_here)
        mt_snapshot_disarm(snap);
    mt__snap_free(snap, map);
    if (!rc)
        mt__snap_ok(err);
    return rc;
}

int mt_snapshot_reset(mt_ctx *ctx, mt_snapshot *snap, uint64_t *pages,
                      mt_snapshot_error *err)
{
    mt_region **map;
    uint64_t n = 0;
    int rc, crc;

    if (pages)
        *pages = 0;
    if (!ctx || !snap)
        return mt__snap_fail(err, MT_EINVAL, "invalid argument");
    if (!snap->armed)
        return mt__snap_fail(err, MT_ESTATE,
                             "the snapshot is not armed (take or restore it "
                             "with MT_SNAPSHOT_TRACK)");
    if (snap->armed != ctx)
        return mt__snap_fail(err, MT_EINVAL,
                             "the snapshot is armed on another context");
    map = new_map(snap);
    if (!map)
        return mt__snap_fail(err, MT_ENOMEM, "out of memory");
    mt_begin(ctx);
    rc = mt__snap_match(ctx, snap, map, err);
    if (!rc) {
        rc = mt__snap_apply_state(ctx, snap, map);
        if (rc)
            mt__snap_fail(err, rc, "cannot restore the region state: %s",
                          mt_strerror(rc));
        mt__snap_sync(ctx);
        if (ctx->dirty_log_users != 1) {
            /* Someone else has global logging on and may have taken bits:
             * only a full copy is sure to be right. */
            n = copy_all(snap, map, OTHER_CLIENTS | MT_DIRTY_MIGRATION);
        } else {
            int crc2 = copy_dirty(snap, map, &n);

            if (crc2 && !rc)
                rc = mt__snap_fail(err, crc2, "cannot collect dirty pages: %s",
                                   mt_strerror(crc2));
        }
    }
    crc = mt_commit(ctx);
    if (!rc && crc)
        rc = mt__snap_fail(err, crc, "commit failed: %s", mt_strerror(crc));
    mt__snap_free(snap, map);
    if (pages)
        *pages = n;
    if (!rc)
        mt__snap_ok(err);
    return rc;
}
