/* SPDX-License-Identifier: MIT */
/*
 * snapshot_file.c: the snapshot file format, version 1 (docs/snapshot.md):
 *
 *   file header
 *   RGNS   region table: counts, then one 64-byte record per region in
 *          creation order, each followed by its name padded to 8 bytes
 *   PAGE*  pages of the blocks, block by block, page by page, at most
 *          1024 pages per section: block, count, first page, a bitmap of
 *          the pages stored (clear: all zeros), the stored pages
 *   END    section count and chained checksum
 *
 * Loading treats the input as hostile: every count and length is checked
 * against the limits and against what the section holds before it is
 * used, records must describe a well-formed forest of regions, pages must
 * come in order and cover each block exactly once, and every byte is
 * covered by a checksum.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "snapshot_int.h"

#define RECORD_SIZE 64u
#define MAX_TABLE (UINT64_C(256) << 20)

static uint64_t pad8(uint64_t n)
{
    return (n + 7) & ~UINT64_C(7);
}

/* ---- save ---------------------------------------------------------------- */

static void put_record(uint8_t *p, const mt__snap_region *sr,
                       const mt__snap_block *bl)
{
    memset(p, 0, RECORD_SIZE);
    mt__put32(p, sr->kind);
    mt__put32(p + 4, sr->flags);
    mt__put64(p + 8, sr->size);
    mt__put64(p + 16, sr->addr);
    mt__put64(p + 24, sr->alias_offset);
    mt__put32(p + 32, sr->container);
    mt__put32(p + 36, (uint32_t)sr->priority);
    mt__put32(p + 40, sr->rank);
    mt__put32(p + 44, sr->alias_target);
    mt__put64(p + 48, bl ? bl->bytes : 0);
    mt__put32(p + 56, sr->name_len);
}

int mt__snap_write_table(const mt_snapshot *s, mt__snapw *w, uint32_t type)
{
    uint64_t len = 8;
    uint8_t rec[RECORD_SIZE];
    static const uint8_t zeros[8];

    for (uint32_t i = 0; i < s->nr_regions; i++)
        len += RECORD_SIZE + pad8(s->regions[i].name_len);
    mt__put32(rec, s->nr_regions);
    mt__put32(rec + 4, s->nr_blocks);
    mt__snapw_begin(w, type, len);
    mt__snapw_put(w, rec, 8);
    for (uint32_t i = 0; i < s->nr_regions; i++) {
        const mt__snap_region *sr = &s->regions[i];

        put_record(rec, sr,
                   sr->block != MT__SNAP_NONE ? &s->blocks[sr->block] : NULL);
        mt__snapw_put(w, rec, RECORD_SIZE);
        if (sr->name_len) {
            mt__snapw_put(w, sr->name, sr->name_len);
            mt__snapw_put(w, zeros, pad8(sr->name_len) - sr->name_len);
        }
    }
    return mt__snapw_end(w);
}

static int save(const mt_snapshot *s, mt__snapw *w)
{
    mt__snap_write_table(s, w, MT__SNAP_SEC_REGIONS);
    for (uint32_t b = 0; b < s->nr_blocks; b++) {
        const mt__snap_block *bl = &s->blocks[b];

        for (uint64_t p = 0; p < bl->npages && !w->rc;
             p += MT__SNAP_RUN_PAGES) {
            uint64_t n = bl->npages - p;

            mt__snapw_pages(w, b, bl->data, bl->present, p,
                            n < MT__SNAP_RUN_PAGES ? (uint32_t)n
                                                   : MT__SNAP_RUN_PAGES);
        }
    }
    return mt__snapw_finish(w);
}

int mt_snapshot_save(const mt_snapshot *snap, int fd, mt_snapshot_error *err)
{
    mt__snapw *w;
    int rc;

    if (!snap || fd < 0)
        return mt__snap_fail(err, MT_EINVAL, "invalid argument");
    w = mt__snap_alloc(snap, sizeof(*w));
    if (!w)
        return mt__snap_fail(err, MT_ENOMEM, "out of memory");
    rc = mt__snapw_start(w, fd);
    if (!rc)
        rc = save(snap, w);
    mt__snap_free(snap, w);
    if (rc == MT_EIO)
        return mt__snap_fail(err, rc, "write error: %s", strerror(errno));
    if (rc)
        return mt__snap_fail(err, rc, "cannot write the snapshot: %s",
                             mt_strerror(rc));
    mt__snap_ok(err);
    return 0;
}

/* ---- load ---------------------------------------------------------------- */

/* The region table, from its verified bytes. */
static int parse_regions(mt_snapshot *s, const uint8_t *t, uint64_t len,
                         mt_snapshot_error *err)
{
    uint32_t n, nb;
    uint64_t at = 8, names = 0;
    char *np;
    int rc;

    if (len < 8)
        return mt__snap_fail(err, MT_EPARSE, "region table too short");
    n = mt__get32(t);
    nb = mt__get32(t + 4);
    if (n > MT__SNAP_MAX_REGIONS || n > (len - 8) / RECORD_SIZE)
        return mt__snap_fail(err, MT_EPARSE,
                             "region table: %u regions do not fit", n);
    /* First pass: lengths only. */
    for (uint32_t i = 0; i < n; i++) {
        uint32_t nl;

        if (len - at < RECORD_SIZE)
            return mt__snap_fail(err, MT_EPARSE,
                                 "region table: record %u truncated", i);
        nl = mt__get32(t + at + 56);
        if (nl > MT__SNAP_MAX_NAME || pad8(nl) > len - at - RECORD_SIZE)
            return mt__snap_fail(err, MT_EPARSE,
                                 "region table: record %u: name of %u bytes",
                                 i, nl);
        names += nl + 1;
        at += RECORD_SIZE + pad8(nl);
    }
    if (at != len)
        return mt__snap_fail(err, MT_EPARSE,
                             "region table: %llu bytes after the records",
                             (unsigned long long)(len - at));
    if (mt__snap_alloc_regions(s, n, names ? names : 1))
        return mt__snap_fail(err, MT_ENOMEM, "out of memory");
    np = s->names;
    at = 8;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *p = t + at;
        mt__snap_region *sr = &s->regions[i];
        uint64_t bytes = mt__get64(p + 48);

        sr->kind = mt__get32(p);
        sr->flags = mt__get32(p + 4);
        sr->size = mt__get64(p + 8);
        sr->addr = mt__get64(p + 16);
        sr->alias_offset = mt__get64(p + 24);
        sr->container = mt__get32(p + 32);
        sr->priority = (int32_t)mt__get32(p + 36);
        sr->rank = mt__get32(p + 40);
        sr->alias_target = mt__get32(p + 44);
        sr->name_len = mt__get32(p + 56);
        sr->block = MT__SNAP_NONE;
        sr->next_same = MT__SNAP_NONE;
        if (mt__get32(p + 60))
            return mt__snap_fail(err, MT_EPARSE,
                                 "region %u: reserved field set", i);
        if (mt__snap_kind_has_block(sr->kind)
                ? (sr->size > MT__SNAP_MAX_BYTES ||
                   bytes != ((sr->size + MT__SNAP_PAGE - 1) &
                             ~(MT__SNAP_PAGE - 1)))
                : bytes != 0)
            return mt__snap_fail(err, MT_EPARSE,
                                 "region %u: captured size %llu does not "
                                 "match its size", i,
                                 (unsigned long long)bytes);
        if (!(sr->flags & MT__SR_NAMED) && sr->name_len)
            return mt__snap_fail(err, MT_EPARSE,
                                 "region %u: a name without the name flag", i);
        if (sr->flags & MT__SR_NAMED) {
            if (memchr(p + RECORD_SIZE, 0, sr->name_len))
                return mt__snap_fail(err, MT_EPARSE,
                                     "region %u: NUL byte in the name", i);
            memcpy(np, p + RECORD_SIZE, sr->name_len);
            np[sr->name_len] = '\0';
            sr->name = np;
            np += sr->name_len + 1;
        }
        for (uint64_t k = sr->name_len; k < pad8(sr->name_len); k++)
            if (p[RECORD_SIZE + k])
                return mt__snap_fail(err, MT_EPARSE,
                                     "region %u: non-zero name padding", i);
        at += RECORD_SIZE + pad8(sr->name_len);
    }
    rc = mt__snap_check_records(s, err);
    if (rc)
        return rc;
    rc = mt__snap_build_index(s, err);
    if (rc)
        return rc == MT_EINVAL ? MT_EPARSE : rc;
    rc = mt__snap_alloc_blocks(s, false, err);
    if (rc)
        return rc == MT_EINVAL ? MT_EPARSE : rc;
    if (nb != s->nr_blocks)
        return mt__snap_fail(err, MT_EPARSE,
                             "region table: %u blocks announced, %u found",
                             nb, s->nr_blocks);
    return 0;
}

static int read_table(mt_snapshot *s, mt__snapr *r, mt_snapshot_error *err)
{
    uint32_t type;
    uint64_t len;
    int rc;

    rc = mt__snapr_begin(r, &type, &len);
    if (rc)
        return rc;
    if (type != MT__SNAP_SEC_REGIONS)
        return mt__snap_fail(err, MT_EPARSE,
                             "the first section is not the region table");
    return mt__snap_read_table(s, r, len, err);
}

int mt__snap_read_table(mt_snapshot *s, mt__snapr *r, uint64_t len,
                        mt_snapshot_error *err)
{
    uint8_t *t;
    int rc;

    if (len > MAX_TABLE)
        return mt__snap_fail(err, MT_EPARSE,
                             "region table of %llu bytes is too large",
                             (unsigned long long)len);
    t = mt__snap_alloc(s, (size_t)len);
    if (!t)
        return mt__snap_fail(err, MT_ENOMEM, "out of memory");
    rc = mt__snapr_get(r, t, (size_t)len);
    if (!rc)
        rc = mt__snapr_end(r);
    if (!rc)
        rc = parse_regions(s, t, len, err);
    mt__snap_free(s, t);
    return rc;
}

/* One PAGE section (begun by the caller) of block @b from page @next. */
static int read_pages(mt_snapshot *s, mt__snapr *r, uint64_t len, uint32_t b,
                      uint64_t next, uint32_t *count, mt_snapshot_error *err)
{
    mt__snap_pages pg;
    mt__snap_block *bl = &s->blocks[b];
    int rc;

    rc = mt__snapr_pages_head(r, len, &pg);
    if (rc)
        return rc;
    if (pg.block != b || pg.first != next || pg.n > bl->npages - next)
        return mt__snap_fail(err, MT_EPARSE,
                             "pages at offset %llu: block %u pages %llu+%u, "
                             "expected block %u from page %llu",
                             (unsigned long long)r->sec_start, pg.block,
                             (unsigned long long)pg.first, pg.n, b,
                             (unsigned long long)next);
    if (!bl->data) {
        bl->data = mt__snap_map(bl->bytes);
        if (bl->data == MAP_FAILED) {
            bl->data = NULL;
            return mt__snap_fail(err, MT_ENOMEM,
                                 "cannot map %llu bytes for block %u",
                                 (unsigned long long)bl->bytes, b);
        }
    }
    /* Fresh mappings are zero already: only stored pages are written. */
    rc = mt__snapr_pages_data(r, &pg, bl->data, false);
    if (rc)
        return rc;
    for (uint32_t k = 0; k < pg.n; k++)
        if (mt__snap_bit(pg.bits, k))
            bl->present[(pg.first + k) / 64] |= UINT64_C(1)
                                                << ((pg.first + k) % 64);
    *count = pg.n;
    return 0;
}

int mt__snap_load(const mt_allocator *alloc, mt__snapr *r, mt_snapshot **out,
                  mt_snapshot_error *err)
{
    mt_snapshot *s = mt__snap_new(alloc);
    uint32_t b = 0, type;
    uint64_t next = 0, len;
    int rc;

    *out = NULL;
    if (!s)
        return mt__snap_fail(err, MT_ENOMEM, "out of memory");
    r->err = err;
    rc = mt__snapr_start(r);
    if (!rc)
        rc = read_table(s, r, err);
    while (!rc) {
        uint32_t n = 0;

        while (b < s->nr_blocks && s->blocks[b].npages == 0)
            b++;
        rc = mt__snapr_begin(r, &type, &len);
        if (rc || type == MT__SNAP_SEC_END)
            break;
        if (type != MT__SNAP_SEC_PAGES) {
            rc = mt__snap_fail(err, MT_EPARSE,
                               "unknown section type %#x at offset %llu",
                               type, (unsigned long long)r->sec_start);
            break;
        }
        if (b == s->nr_blocks) {
            rc = mt__snap_fail(err, MT_EPARSE,
                               "pages at offset %llu after the last block",
                               (unsigned long long)r->sec_start);
            break;
        }
        rc = read_pages(s, r, len, b, next, &n, err);
        next += n;
        if (!rc && next == s->blocks[b].npages) {
            b++;
            next = 0;
        }
    }
    if (!rc) {
        while (b < s->nr_blocks && s->blocks[b].npages == 0)
            b++;
        if (b < s->nr_blocks)
            rc = mt__snap_fail(err, MT_EPARSE,
                               "block '%s' is incomplete at the end section",
                               mt__snap_show(
                                   s->regions[s->blocks[b].region].name));
    }
    if (!rc)
        rc = mt__snapr_finish(r);
    if (rc) {
        mt_snapshot_free(s);
        return rc;
    }
    mt__snap_ok(err);
    *out = s;
    return 0;
}

int mt_snapshot_load(mt_ctx *ctx, int fd, mt_snapshot **out,
                     mt_snapshot_error *err)
{
    mt__snapr r;

    if (out)
        *out = NULL;
    if (!ctx || fd < 0 || !out)
        return mt__snap_fail(err, MT_EINVAL, "invalid argument");
    memset(&r, 0, sizeof(r));
    r.fd = fd;
    r.verify = true;
    return mt__snap_load(&ctx->alloc, &r, out, err);
}

int mt_snapshot_load_buffer(mt_ctx *ctx, const void *buf, size_t len,
                            mt_snapshot **out, mt_snapshot_error *err)
{
    mt__snapr r;

    if (out)
        *out = NULL;
    if (!ctx || (!buf && len) || !out)
        return mt__snap_fail(err, MT_EINVAL, "invalid argument");
    memset(&r, 0, sizeof(r));
    r.fd = -1;
    r.mem = buf ? buf : (const void *)"";
    r.mem_len = len;
    r.verify = true;
    return mt__snap_load(&ctx->alloc, &r, out, err);
}
