/* SPDX-License-Identifier: MIT */
/*
 * migrate_stream.c: the pieces of a migration stream that are not those of
 * a snapshot file (docs/migration.md):
 *
 *   header    magic "MTMIGR\r\n", version, header size, page size, flags,
 *             checksum; the sections after it are framed by the snapshot
 *             stream code (section checksums, END with a chained checksum)
 *   PAGE      a run of pages read from live guest memory: each page is
 *             read once, into a staging buffer, so that the checksum and
 *             the bytes sent are the same bytes even while a vCPU writes
 *   EXT.      an extension record of the VMM: tag, reserved word, bytes
 *   ABRT      the source gave up: a message
 *
 * and the layout comparison of two region tables (a stream's first and
 * final ones must describe the same regions).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "migrate_int.h"

static const uint8_t mig_magic[8] = { 'M', 'T', 'M', 'I', 'G', 'R', '\r', '\n' };
static const uint8_t snap_magic[8] = { 'M', 'T', 'S', 'N', 'A', 'P', '\r', '\n' };

/* ---- header ----------------------------------------------------------------- */

int mt__mig_write_header(mt__snapw *w, int fd)
{
    uint8_t h[MT__SNAP_HEADER_SIZE];
    const uint8_t *p = h;
    size_t n = sizeof(h);

    memcpy(h, mig_magic, 8);
    mt__put32(h + 8, MT_MIGRATE_FORMAT_VERSION);
    mt__put32(h + 12, MT__SNAP_HEADER_SIZE);
    mt__put32(h + 16, (uint32_t)MT__SNAP_PAGE);
    mt__put32(h + 20, 0);
    mt__put64(h + 24, mt__sum64(MT__MIG_SEED_HEADER, h, 24));
    /* The same bookkeeping as a snapshot stream, whose section writer
     * then takes over (its buffer is empty: the header goes first). */
    memset(w, 0, offsetof(mt__snapw, buf));
    w->fd = fd;
    mt__sum_init(&w->chain, MT__SNAP_SEED_CHAIN);
    mt__sum_add(&w->chain, h + 24, 8);
    while (n) {
        ssize_t k = write(fd, p, n);

        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            w->rc = MT_EIO;
            return w->rc;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Exactly @n bytes of the header (outside any section). */
static int take_header(mt__snapr *r, uint8_t *p, size_t n)
{
    if (r->fd < 0) {
        if (n > r->mem_len - (size_t)r->pos)
            return MT_ECORRUPT;
        memcpy(p, r->mem + r->pos, n);
        r->pos += n;
        return 0;
    }
    while (n) {
        ssize_t got = read(r->fd, p, n);

        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return mt__snap_fail(r->err, MT_EIO,
                                 "read error in the stream header: %s",
                                 strerror(errno));
        if (got == 0)
            return MT_ECORRUPT;
        p += got;
        n -= (size_t)got;
        r->pos += (uint64_t)got;
    }
    return 0;
}

int mt__mig_read_header(mt__snapr *r)
{
    uint8_t h[MT__SNAP_HEADER_SIZE];
    uint32_t version;
    int rc;

    r->pos = 0;
    r->seq = 0;
    r->left = 0;
    rc = take_header(r, h, 8);
    if (rc == MT_ECORRUPT)
        return mt__snap_fail(r->err, MT_EPARSE,
                             "not a memtree migration stream (%s)",
                             r->pos ? "too short" : "empty");
    if (rc)
        return rc;
    if (!memcmp(h, snap_magic, 8))
        return mt__snap_fail(r->err, MT_EPARSE,
                             "this is a memtree snapshot file "
                             "(mt_snapshot_load reads it), not a migration "
                             "stream");
    if (memcmp(h, mig_magic, 8))
        return mt__snap_fail(r->err, MT_EPARSE,
                             "not a memtree migration stream (bad magic)");
    rc = take_header(r, h + 8, sizeof(h) - 8);
    if (rc == MT_ECORRUPT)
        return mt__snap_fail(r->err, MT_ECORRUPT,
                             "truncated: the input ends in the stream "
                             "header, at offset %llu",
                             (unsigned long long)r->pos);
    if (rc)
        return rc;
    version = mt__get32(h + 8);
    if (r->verify &&
        mt__get64(h + 24) != mt__sum64(MT__MIG_SEED_HEADER, h, 24))
        return mt__snap_fail(r->err, MT_ECORRUPT,
                             "stream header checksum mismatch");
    if (version != MT_MIGRATE_FORMAT_VERSION)
        return mt__snap_fail(r->err, MT_EPARSE,
                             "migration stream version %u is not supported "
                             "(this library reads version %u)", version,
                             MT_MIGRATE_FORMAT_VERSION);
    if (mt__get32(h + 12) != MT__SNAP_HEADER_SIZE ||
        mt__get32(h + 16) != MT__SNAP_PAGE || mt__get32(h + 20) != 0)
        return mt__snap_fail(r->err, MT_EPARSE,
                             "unsupported header size, page size or flags "
                             "in the stream header");
    mt__sum_init(&r->chain, MT__SNAP_SEED_CHAIN);
    mt__sum_add(&r->chain, h + 24, 8);
    return 0;
}

int mt__mig_flush(mt__snapw *w)
{
    const uint8_t *p = w->buf;
    size_t n = w->nbuf;

    if (w->rc || w->open)
        return w->rc ? w->rc : MT_EINVAL;
    while (n) {
        ssize_t k = write(w->fd, p, n);

        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            w->rc = MT_EIO;
            return w->rc;
        }
        p += k;
        n -= (size_t)k;
    }
    w->nbuf = 0;
    return 0;
}

/* ---- sections ----------------------------------------------------------------- */

int mt__mig_put_run(mt__snapw *w, uint32_t block, const uint8_t *host,
                    uint64_t first, uint32_t n, uint8_t *stage,
                    mt_migrate_stats *st)
{
    uint64_t bits[MT__SNAP_RUN_PAGES / 64] = { 0 };
    uint64_t words = mt__snap_words(n), stored = 0;
    uint8_t h[16];

    if (n == 0 || n > MT__SNAP_RUN_PAGES) {
        if (!w->rc)
            w->rc = MT_EINVAL;
        return w->rc;
    }
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *src = host + (first + i) * MT__SNAP_PAGE;

        /* Zero now: sent as zero; a later write is in the next pass. */
        if (mt__snap_page_zero(src))
            continue;
        memcpy(stage + stored * MT__SNAP_PAGE, src, MT__SNAP_PAGE);
        bits[i / 64] |= UINT64_C(1) << (i % 64);
        stored++;
    }
    st->zero_pages += n - stored;
    st->bytes += mt__mig_section_bytes(sizeof(h) + words * 8 +
                                       stored * MT__SNAP_PAGE);
    mt__put32(h, block);
    mt__put32(h + 4, n);
    mt__put64(h + 8, first);
    mt__snapw_begin(w, MT__SNAP_SEC_PAGES,
                    sizeof(h) + words * 8 + stored * MT__SNAP_PAGE);
    mt__snapw_put(w, h, sizeof(h));
    for (uint64_t i = 0; i < words; i++) {
        uint8_t le[8];

        mt__put64(le, bits[i]);
        mt__snapw_put(w, le, 8);
    }
    if (stored)
        mt__snapw_put(w, stage, (size_t)(stored * MT__SNAP_PAGE));
    return mt__snapw_end(w);
}

int mt__mig_put_ext(mt__snapw *w, uint32_t tag, const void *data,
                    size_t len)
{
    uint8_t h[8];

    mt__put32(h, tag);
    mt__put32(h + 4, 0);
    mt__snapw_begin(w, MT__MIG_SEC_EXT, sizeof(h) + (uint64_t)len);
    mt__snapw_put(w, h, sizeof(h));
    if (len)
        mt__snapw_put(w, data, len);
    return mt__snapw_end(w);
}

int mt__mig_put_cancel(mt__snapw *w, const char *why)
{
    size_t n = strlen(why);

    if (n > MT__MIG_MAX_WHY)
        n = MT__MIG_MAX_WHY;
    mt__snapw_begin(w, MT__MIG_SEC_CANCEL, n);
    if (n)
        mt__snapw_put(w, why, n);
    mt__snapw_end(w);
    /* The end record after it flushes the buffer; the destination stops
     * at the cancel record and never reads it. */
    return mt__snapw_finish(w);
}

/* ---- layout ------------------------------------------------------------------- */

static bool same_name(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

int mt__mig_same_layout(const mt_snapshot *a, const mt_snapshot *b,
                        const char *what, mt_snapshot_error *err)
{
    if (a->nr_regions != b->nr_regions)
        return mt__snap_fail(err, MT_EMISMATCH,
                             "%s: %u regions, then %u", what, a->nr_regions,
                             b->nr_regions);
    for (uint32_t i = 0; i < a->nr_regions; i++) {
        const mt__snap_region *x = &a->regions[i], *y = &b->regions[i];

        if (!same_name(x->name, y->name) || x->kind != y->kind ||
            x->alias_target != y->alias_target)
            return mt__snap_fail(err, MT_EMISMATCH,
                                 "%s: region %u was '%s' (kind %u), then "
                                 "'%s' (kind %u)", what, i,
                                 mt__snap_show(x->name), x->kind,
                                 mt__snap_show(y->name), y->kind);
        if (x->block != MT__SNAP_NONE &&
            a->blocks[x->block].bytes != b->blocks[y->block].bytes)
            return mt__snap_fail(err, MT_EMISMATCH,
                                 "%s: RAM block '%s' was %llu bytes, then "
                                 "%llu", what, mt__snap_show(x->name),
                                 (unsigned long long)a->blocks[x->block].bytes,
                                 (unsigned long long)b->blocks[y->block].bytes);
    }
    return 0;
}
