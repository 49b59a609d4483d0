/* SPDX-License-Identifier: MIT */
/*
 * migrate_dst.c: the destination side of a migration
 * (include/memtree/migrate.h).
 *
 * The stream is untrusted. Its header and first region table are read and
 * checked (mt_migrate_dst_open) before anything else; the table is then
 * matched against the context (the snapshot code's matching: names,
 * kinds, alias targets; block sizes must be equal) before any page is
 * written. Each PAGE section is read whole into a staging buffer and its
 * checksum verified before its pages are copied into the block, so guest
 * memory only ever receives verified bytes. The final region table (STAT)
 * must describe the same regions as the first, every page of every block
 * must have arrived at least once, and the end record's count and chained
 * checksum must hold; only then is the region state applied, in one
 * transaction. Extension records are kept for the VMM.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "migrate_int.h"

#define OTHER_CLIENTS (MT_DIRTY_VGA | MT_DIRTY_CODE)
#define STAGE_BYTES ((size_t)MT__SNAP_RUN_PAGES * MT__SNAP_PAGE)

typedef struct mt__mig_ext {
    uint32_t tag;
    size_t len;
    uint8_t *data;
} mt__mig_ext;

struct mt_migrate_dst {
    mt_allocator alloc;
    int state;                  /* NEW, RUNNING (opened), DONE, FAILED */
    mt__snapr r;
    mt_snapshot *snap;          /* the first table; block bits: pages seen */
    mt__mig_ext *ext;
    size_t nr_ext, cap_ext;
    uint64_t ext_bytes;
    uint8_t *stage;             /* one PAGE section's pages, while loading */
    mt_migrate_stats stats;
};

/* ---- allocation ------------------------------------------------------------ */

static void *std_alloc(void *opaque, size_t size)
{
    (void)opaque;
    return malloc(size);
}

static void *std_realloc(void *opaque, void *p, size_t size)
{
    (void)opaque;
    return realloc(p, size);
}

static void std_free(void *opaque, void *p)
{
    (void)opaque;
    free(p);
}

static void *dalloc(const mt_migrate_dst *d, size_t size)
{
    return d->alloc.alloc(d->alloc.opaque, size ? size : 1);
}

static void dfree(const mt_migrate_dst *d, void *p)
{
    if (p)
        d->alloc.free(d->alloc.opaque, p);
}

static int new_dst(const mt_allocator *alloc, mt_migrate_dst **out)
{
    static const mt_allocator std = { std_alloc, std_realloc, std_free, NULL };
    mt_migrate_dst *d;

    if (alloc && (!alloc->alloc || !alloc->realloc || !alloc->free))
        return MT_EINVAL;
    if (!alloc)
        alloc = &std;
    d = alloc->alloc(alloc->opaque, sizeof(*d));
    if (!d)
        return MT_ENOMEM;
    memset(d, 0, sizeof(*d));
    d->alloc = *alloc;
    d->state = MT__MIG_NEW;
    *out = d;
    return 0;
}

int mt_migrate_dst_new(int fd, const mt_allocator *alloc,
                       mt_migrate_dst **out)
{
    int rc;

    if (out)
        *out = NULL;
    if (fd < 0 || !out)
        return MT_EINVAL;
    rc = new_dst(alloc, out);
    if (rc)
        return rc;
    (*out)->r.fd = fd;
    (*out)->r.verify = true;
    return 0;
}

int mt__mig_dst_new_mem(const void *buf, size_t len, bool verify,
                        const mt_allocator *alloc, mt_migrate_dst **out)
{
    int rc;

    if (out)
        *out = NULL;
    if ((!buf && len) || !out)
        return MT_EINVAL;
    rc = new_dst(alloc, out);
    if (rc)
        return rc;
    (*out)->r.fd = -1;
    (*out)->r.mem = buf ? buf : (const void *)"";
    (*out)->r.mem_len = len;
    (*out)->r.verify = verify;
    return 0;
}

int mt_migrate_dst_new_buffer(const void *buf, size_t len,
                              const mt_allocator *alloc, mt_migrate_dst **out)
{
    return mt__mig_dst_new_mem(buf, len, true, alloc, out);
}

void mt_migrate_dst_free(mt_migrate_dst *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->nr_ext; i++)
        dfree(d, d->ext[i].data);
    dfree(d, d->ext);
    mt_snapshot_free(d->snap);
    /* Unmapped here, not at the end of the load, whose return ends the
     * guest's downtime. */
    if (d->stage)
        munmap(d->stage, STAGE_BYTES);
    d->alloc.free(d->alloc.opaque, d);
}

/* ---- records ------------------------------------------------------------------ */

/* ABRT: the source gave up; its message, made printable. */
static int read_cancel(mt_migrate_dst *d, uint64_t len, mt_migrate_error *err)
{
    char why[MT__MIG_MAX_WHY + 1];
    int rc;

    if (len > MT__MIG_MAX_WHY)
        return mt__snap_fail(err, MT_EPARSE,
                             "cancel record at offset %llu of %llu bytes",
                             (unsigned long long)d->r.sec_start,
                             (unsigned long long)len);
    rc = mt__snapr_get(&d->r, why, (size_t)len);
    if (!rc)
        rc = mt__snapr_end(&d->r);
    if (rc)
        return rc;
    why[len] = '\0';
    for (uint64_t i = 0; i < len; i++)
        if ((unsigned char)why[i] < 0x20 || why[i] == 0x7f)
            why[i] = '?';
    return mt__snap_fail(err, MT_EIO, "the source cancelled the migration: "
                         "%s", len ? why : "(no reason given)");
}

static int read_ext(mt_migrate_dst *d, uint64_t len, mt_migrate_error *err)
{
    mt__mig_ext e = { 0 };
    uint8_t h[8];
    int rc;

    if (len < 8 || len - 8 > MT_MIGRATE_MAX_EXT ||
        d->nr_ext >= MT_MIGRATE_MAX_EXTS ||
        d->ext_bytes + len > MT__MIG_MAX_EXT_TOTAL)
        return mt__snap_fail(err, MT_EPARSE,
                             "extension record at offset %llu: %llu bytes "
                             "(record %zu)", (unsigned long long)d->r.sec_start,
                             (unsigned long long)len, d->nr_ext);
    rc = mt__snapr_get(&d->r, h, sizeof(h));
    if (rc)
        return rc;
    if (mt__get32(h + 4))
        return mt__snap_fail(err, MT_EPARSE,
                             "extension record at offset %llu: reserved "
                             "field set", (unsigned long long)d->r.sec_start);
    e.tag = mt__get32(h);
    e.len = (size_t)(len - 8);
    if (d->nr_ext == d->cap_ext) {
        size_t cap = d->cap_ext ? 2 * d->cap_ext : 8;
        mt__mig_ext *n = dalloc(d, cap * sizeof(*n));

        if (!n)
            return mt__snap_fail(err, MT_ENOMEM, "out of memory");
        if (d->nr_ext)
            memcpy(n, d->ext, d->nr_ext * sizeof(*n));
        dfree(d, d->ext);
        d->ext = n;
        d->cap_ext = cap;
    }
    e.data = dalloc(d, e.len);
    if (!e.data)
        return mt__snap_fail(err, MT_ENOMEM, "out of memory");
    rc = mt__snapr_get(&d->r, e.data, e.len);
    if (!rc)
        rc = mt__snapr_end(&d->r);
    if (rc) {
        dfree(d, e.data);
        return rc;
    }
    d->ext[d->nr_ext++] = e;
    d->ext_bytes += len;
    return 0;
}

/* A PAGE section: staged, verified, then copied into the block. */
static int read_run(mt_migrate_dst *d, mt_region **blk, uint8_t *stage,
                    uint64_t len, mt_migrate_error *err)
{
    mt_snapshot *s = d->snap;
    mt__snap_pages pg;
    mt__snap_block *bl;
    uint64_t stored = 0, k = 0;
    uint8_t *host;
    int rc;

    rc = mt__snapr_pages_head(&d->r, len, &pg);
    if (rc)
        return rc;
    if (pg.block >= s->nr_blocks || pg.first > s->blocks[pg.block].npages ||
        pg.n > s->blocks[pg.block].npages - pg.first)
        return mt__snap_fail(err, MT_EPARSE,
                             "pages at offset %llu: block %u pages %llu+%u "
                             "are outside the blocks",
                             (unsigned long long)d->r.sec_start, pg.block,
                             (unsigned long long)pg.first, pg.n);
    bl = &s->blocks[pg.block];
    for (uint32_t w = 0; w < mt__snap_words(pg.n); w++)
        stored += (uint64_t)__builtin_popcountll(pg.bits[w]);
    rc = mt__snapr_get(&d->r, stage, (size_t)(stored * MT__SNAP_PAGE));
    if (!rc)
        rc = mt__snapr_end(&d->r);
    if (rc)
        return rc;
    host = mt_region_ram_ptr(blk[pg.block]);
    for (uint32_t i = 0; i < pg.n; i++) {
        uint64_t p = pg.first + i;
        uint8_t *dst = host + p * MT__SNAP_PAGE;

        if (mt__snap_bit(pg.bits, i))
            memcpy(dst, stage + k++ * MT__SNAP_PAGE, MT__SNAP_PAGE);
        else if (!mt__snap_page_zero(dst))
            memset(dst, 0, MT__SNAP_PAGE);
        bl->present[p / 64] |= UINT64_C(1) << (p % 64);
    }
    mt_region_dirty_set(blk[pg.block], pg.first * MT__SNAP_PAGE,
                        (uint64_t)pg.n * MT__SNAP_PAGE, OTHER_CLIENTS);
    d->stats.pages += pg.n;
    d->stats.zero_pages += pg.n - stored;
    return 0;
}

/* STAT then END: the final region table, checked against the first; every
 * page arrived; the end record holds. *@fin gets the table. */
static int read_final(mt_migrate_dst *d, uint64_t len, mt_snapshot **fin,
                      mt_migrate_error *err)
{
    mt_snapshot *s = d->snap, *f = mt__snap_new(&d->alloc);
    uint32_t type;
    int rc;

    *fin = NULL;
    if (!f)
        return mt__snap_fail(err, MT_ENOMEM, "out of memory");
    rc = mt__snap_read_table(f, &d->r, len, err);
    if (!rc) {
        rc = mt__mig_same_layout(s, f, "the final region table differs "
                                 "from the first", err);
        if (rc == MT_EMISMATCH)
            rc = MT_EPARSE;
    }
    for (uint32_t b = 0; b < s->nr_blocks && !rc; b++) {
        const mt__snap_block *bl = &s->blocks[b];

        for (uint64_t p = 0; p < bl->npages; p += 64) {
            uint64_t left = bl->npages - p;
            uint64_t want = left >= 64 ? UINT64_MAX
                                       : (UINT64_C(1) << left) - 1;
            uint64_t miss = ~bl->present[p / 64] & want;

            if (miss) {
                rc = mt__snap_fail(err, MT_EPARSE,
                                   "page %llu of block '%s' never arrived",
                                   (unsigned long long)(p + (uint64_t)
                                       __builtin_ctzll(miss)),
                                   mt__snap_show(s->regions[bl->region].name));
                break;
            }
        }
    }
    if (!rc)
        rc = mt__snapr_begin(&d->r, &type, &len);
    if (!rc && type == MT__MIG_SEC_CANCEL)
        rc = read_cancel(d, len, err);
    else if (!rc && type != MT__SNAP_SEC_END)
        rc = mt__snap_fail(err, MT_EPARSE,
                           "section at offset %llu: expected the end record "
                           "after the final region state",
                           (unsigned long long)d->r.sec_start);
    if (!rc)
        rc = mt__snapr_finish(&d->r);
    if (rc) {
        mt_snapshot_free(f);
        return rc;
    }
    *fin = f;
    return 0;
}

/* ---- open and load ---------------------------------------------------------- */

int mt_migrate_dst_open(mt_migrate_dst *d, mt_migrate_error *err)
{
    uint32_t type;
    uint64_t len;
    int rc;

    if (!d)
        return mt__snap_fail(err, MT_EINVAL, "invalid argument");
    if (d->state != MT__MIG_NEW)
        return mt__snap_fail(err, MT_ESTATE, "the stream is already open");
    d->r.err = err;
    d->state = MT__MIG_FAILED;
    rc = mt__snapr_start_as(&d->r, &mt__mig_stream_format);
    if (!rc)
        rc = mt__snapr_begin(&d->r, &type, &len);
    if (!rc && type == MT__MIG_SEC_CANCEL)
        rc = read_cancel(d, len, err);
    else if (!rc && type != MT__SNAP_SEC_REGIONS)
        rc = mt__snap_fail(err, MT_EPARSE,
                           "the stream does not start with its region "
                           "table");
    if (!rc) {
        d->snap = mt__snap_new(&d->alloc);
        rc = d->snap ? mt__snap_read_table(d->snap, &d->r, len, err)
                     : mt__snap_fail(err, MT_ENOMEM, "out of memory");
    }
    d->stats.bytes = d->r.pos;
    if (rc)
        return rc;
    for (uint32_t b = 0; b < d->snap->nr_blocks; b++)
        d->stats.total_pages += d->snap->blocks[b].npages;
    d->state = MT__MIG_RUNNING;
    mt__snap_ok(err);
    return 0;
}

/* Match @ctx; reference each block's live region into @blk. Changes
 * nothing of @ctx. */
static int bind(mt_migrate_dst *d, mt_ctx *ctx, mt_region **map,
                mt_region **blk, mt_migrate_error *err)
{
    mt_snapshot *s = d->snap;
    int rc;

    mt_begin(ctx);
    rc = mt__snap_match(ctx, s, map, err);
    for (uint32_t b = 0; b < s->nr_blocks && !rc; b++) {
        const mt__snap_block *bl = &s->blocks[b];
        mt_region *r = map[bl->region];
        uint64_t size = mt_region_size(r);

        if (((size + MT__SNAP_PAGE - 1) & ~(MT__SNAP_PAGE - 1)) != bl->bytes ||
            (bl->bytes && !mt_region_ram_ptr(r)))
            rc = mt__snap_fail(err, MT_EMISMATCH,
                               "RAM of '%s' is %llu bytes here, %llu in the "
                               "stream", mt__snap_show(mt_region_name(r)),
                               (unsigned long long)size,
                               (unsigned long long)bl->bytes);
    }
    for (uint32_t b = 0; b < s->nr_blocks && !rc; b++)
        blk[b] = mt_region_ref(map[s->blocks[b].region]);
    mt_commit(ctx);
    return rc;
}

/* Sections after the first table, up to and including the end record. */
static int receive(mt_migrate_dst *d, mt_region **blk, uint8_t *stage,
                   mt_snapshot **fin, mt_migrate_error *err)
{
    for (;;) {
        uint32_t type;
        uint64_t len;
        int rc = mt__snapr_begin(&d->r, &type, &len);

        if (rc)
            return rc;
        if (type == MT__SNAP_SEC_PAGES)
            rc = read_run(d, blk, stage, len, err);
        else if (type == MT__MIG_SEC_EXT)
            rc = read_ext(d, len, err);
        else if (type == MT__MIG_SEC_CANCEL)
            return read_cancel(d, len, err);
        else if (type == MT__MIG_SEC_STATE)
            return read_final(d, len, fin, err);
        else if (type == MT__SNAP_SEC_END)
            rc = mt__snap_fail(err, MT_EPARSE,
                               "the stream ends at offset %llu without its "
                               "final region state",
                               (unsigned long long)d->r.sec_start);
        else if (type == MT__SNAP_SEC_REGIONS)
            rc = mt__snap_fail(err, MT_EPARSE,
                               "a second region table at offset %llu",
                               (unsigned long long)d->r.sec_start);
        else
            rc = mt__snap_fail(err, MT_EPARSE,
                               "unknown section type %#x at offset %llu",
                               type, (unsigned long long)d->r.sec_start);
        d->stats.bytes = d->r.pos;
        if (rc)
            return rc;
    }
}

int mt_migrate_dst_load(mt_migrate_dst *d, mt_ctx *ctx, mt_migrate_error *err)
{
    mt_region **map = NULL, **blk = NULL;
    mt_snapshot *fin = NULL;
    uint8_t *stage = NULL;
    size_t n;
    int rc, crc;

    if (!d || !ctx)
        return mt__snap_fail(err, MT_EINVAL, "invalid argument");
    if (d->state == MT__MIG_NEW) {
        rc = mt_migrate_dst_open(d, err);
        if (rc)
            return rc;
    }
    if (d->state != MT__MIG_RUNNING)
        return mt__snap_fail(err, MT_ESTATE,
                             d->state == MT__MIG_DONE
                                 ? "the stream was loaded already"
                                 : "the stream failed before");
    d->r.err = err;
    n = (size_t)d->snap->nr_regions + 1;
    map = dalloc(d, n * sizeof(*map));
    blk = dalloc(d, ((size_t)d->snap->nr_blocks + 1) * sizeof(*blk));
    if (!map || !blk) {
        dfree(d, map);
        dfree(d, blk);
        return mt__snap_fail(err, MT_ENOMEM, "out of memory");
    }
    memset(blk, 0, ((size_t)d->snap->nr_blocks + 1) * sizeof(*blk));
    rc = bind(d, ctx, map, blk, err);
    if (rc) {
        /* Nothing was read or changed: another context may be tried. */
        dfree(d, map);
        dfree(d, blk);
        return rc;
    }
    d->state = MT__MIG_FAILED;
    stage = mt__snap_map(STAGE_BYTES);
    if (stage == MAP_FAILED) {
        stage = NULL;
        rc = mt__snap_fail(err, MT_ENOMEM, "out of memory");
    }
    d->stage = stage;
    if (!rc)
        rc = receive(d, blk, stage, &fin, err);
    d->stats.bytes = d->r.pos;
    if (!rc) {
        mt_begin(ctx);
        rc = mt__snap_match(ctx, fin, map, err);
        if (!rc) {
            rc = mt__snap_apply_state(ctx, fin, map);
            if (rc)
                mt__snap_fail(err, rc, "cannot apply the region state: %s",
                              mt_strerror(rc));
        }
        crc = mt_commit(ctx);
        if (!rc && crc)
            rc = mt__snap_fail(err, crc, "commit failed: %s",
                               mt_strerror(crc));
    }
    for (uint32_t b = 0; b < d->snap->nr_blocks; b++)
        mt_region_unref(blk[b]);
    dfree(d, blk);
    dfree(d, map);
    mt_snapshot_free(fin);
    if (rc)
        return rc;
    d->state = MT__MIG_DONE;
    mt__snap_ok(err);
    return 0;
}

/* ---- getters ------------------------------------------------------------------ */

size_t mt_migrate_dst_nr_blocks(const mt_migrate_dst *d)
{
    return d && d->snap ? d->snap->nr_blocks : 0;
}

const char *mt_migrate_dst_block_name(const mt_migrate_dst *d, size_t i)
{
    return mt_snapshot_block_name(d ? d->snap : NULL, i);
}

uint64_t mt_migrate_dst_block_size(const mt_migrate_dst *d, size_t i)
{
    return mt_snapshot_block_size(d ? d->snap : NULL, i);
}

size_t mt_migrate_dst_nr_ext(const mt_migrate_dst *d)
{
    return d ? d->nr_ext : 0;
}

int mt_migrate_dst_ext(const mt_migrate_dst *d, size_t i, uint32_t *tag,
                       const void **data, size_t *len)
{
    if (!d || i >= d->nr_ext)
        return MT_EINVAL;
    if (tag)
        *tag = d->ext[i].tag;
    if (data)
        *data = d->ext[i].len ? d->ext[i].data : NULL;
    if (len)
        *len = d->ext[i].len;
    return 0;
}

const void *mt_migrate_dst_find_ext(const mt_migrate_dst *d, uint32_t tag,
                                    size_t *len)
{
    for (size_t i = 0; d && i < d->nr_ext; i++) {
        if (d->ext[i].tag == tag) {
            if (len)
                *len = d->ext[i].len;
            return d->ext[i].data;
        }
    }
    if (len)
        *len = 0;
    return NULL;
}

int mt_migrate_dst_stats(const mt_migrate_dst *d, mt_migrate_stats *out)
{
    if (!d || !out)
        return MT_EINVAL;
    *out = d->stats;
    return 0;
}
