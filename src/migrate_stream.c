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
#include <string.h>

#include "migrate_int.h"

/* The header is the only framing of its own (snapshot_stream.c does the
 * rest); a snapshot file given as a stream is named as such. */
const mt__snap_format mt__mig_stream_format = {
    .magic = { 'M', 'T', 'M', 'I', 'G', 'R', '\r', '\n' },
    .version = MT_MIGRATE_FORMAT_VERSION,
    .header_seed = MT__MIG_SEED_HEADER,
    .noun = "memtree migration stream",
    .other_magic = mt__snap_file_format.magic,
    .other_noun = "memtree snapshot file (mt_snapshot_load reads it)",
};

/* ---- sections ----------------------------------------------------------------- */

int mt__mig_put_run(mt__snapw *w, uint32_t block, const uint8_t *host,
                    uint64_t first, uint32_t n, uint8_t *stage,
                    mt_migrate_stats *st)
{
    uint64_t bits[MT__SNAP_RUN_PAGES / 64] = { 0 };
    uint64_t words = mt__snap_words(n), stored = 0;

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
    st->bytes += mt__mig_section_bytes(MT__SNAP_PAGES_HEAD + words * 8 +
                                       stored * MT__SNAP_PAGE);
    mt__snapw_pages_head(w, block, first, n, bits, stored);
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
