/* SPDX-License-Identifier: MIT */
/*
 * migrate_int.h: what the migration files share (never installed).
 *
 *   migrate_stream.c  the stream header, staged page runs, extension and
 *                     cancel records, the layout comparison
 *   migrate_src.c     the source session: logging, passes, completion
 *   migrate_dst.c     the destination session: reading, checking, applying
 *
 * A migration stream is framed like a snapshot file (src/snapshot_stream.c:
 * sections with a checksum each, an end section with a chained checksum)
 * under a header of its own; docs/migration.md describes it.
 */
#ifndef MT_MIGRATE_INT_H
#define MT_MIGRATE_INT_H

#include "snapshot_int.h"

#define MT__MIG_SEC_STATE  MT__SNAP_TAG('S', 'T', 'A', 'T')
#define MT__MIG_SEC_EXT    MT__SNAP_TAG('E', 'X', 'T', '.')
#define MT__MIG_SEC_CANCEL MT__SNAP_TAG('A', 'B', 'R', 'T')
#define MT__MIG_SEED_HEADER UINT64_C(0x4d544d4947524844) /* "MTMIGRHD" */
#define MT__MIG_MAX_WHY 1024u       /* bytes of a cancel message */
#define MT__MIG_MAX_EXT_TOTAL (UINT64_C(256) << 20)

/* Lifecycle of a session, either side. */
enum { MT__MIG_NEW, MT__MIG_RUNNING, MT__MIG_DONE, MT__MIG_FAILED };

/* The stream's header (migrate_stream.c): mt__snapw_start_as() and
 * mt__snapr_start_as() with this format write and check it. */
extern const mt__snap_format mt__mig_stream_format;

/*
 * One PAGE section for pages [first, first + n) of block @block whose
 * memory is @host (page 0), n <= MT__SNAP_RUN_PAGES: every page is looked
 * at once: all zeros travels as a clear bit, anything else is copied into
 * @stage (n pages) first, so the checksum and the bytes written agree
 * even while the guest writes the page. Counts zero pages and bytes
 * into @st.
 */
int mt__mig_put_run(mt__snapw *w, uint32_t block, const uint8_t *host,
                    uint64_t first, uint32_t n, uint8_t *stage,
                    mt_migrate_stats *st);

/* An extension record; a cancel record carrying @why. */
int mt__mig_put_ext(mt__snapw *w, uint32_t tag, const void *data,
                    size_t len);
int mt__mig_put_cancel(mt__snapw *w, const char *why);

/* Bytes a section of payload @len takes in the stream. */
static inline uint64_t mt__mig_section_bytes(uint64_t len)
{
    return MT__SNAP_SECTION_HEAD + len + 8;
}

/*
 * Do @a and @b describe the same regions (count, names, kinds, alias
 * targets, block sizes)? The rest is state that may change. MT_EMISMATCH
 * with @err naming the first difference (@what: how to name them).
 */
int mt__mig_same_layout(const mt_snapshot *a, const mt_snapshot *b,
                        const char *what, mt_snapshot_error *err);

/* The destination's reader over a buffer, checksums checked or not (the
 * fuzz target turns them off to reach the parser). */
int mt__mig_dst_new_mem(const void *buf, size_t len, bool verify,
                        const mt_allocator *alloc, mt_migrate_dst **out);

#endif /* MT_MIGRATE_INT_H */
