/* SPDX-License-Identifier: MIT */
/*
 * snapshot.c: the snapshot object: taking one, arming it for fast reset,
 * freeing it, its getters and the helpers every snapshot file uses.
 *
 * Taking: every region of the context is recorded in creation order (its
 * identity: name, kind, size; its state: container, priority, rank,
 * address, flags, alias offset), then the memory of every RAM, ROM and
 * ROM-device block is copied into an anonymous mapping of the snapshot's
 * own, page by page, skipping pages that are all zeros (they stay
 * unallocated in the copy). With MT_SNAPSHOT_TRACK, global dirty logging
 * is started and committed first, and the dirty logs pulled and cleared,
 * so every page written after the copy started is reset later.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "snapshot_int.h"

/* ---- helpers ------------------------------------------------------------- */

int mt__snap_fail(mt_snapshot_error *err, int code, const char *fmt, ...)
{
    va_list ap;

    if (err) {
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
    }
    return code;
}

void mt__snap_ok(mt_snapshot_error *err)
{
    if (err)
        err->msg[0] = '\0';
}

const char *mt__snap_show(const char *name)
{
    return name ? name : "(null)";
}

void *mt__snap_alloc(const mt_snapshot *s, size_t size)
{
    return s->alloc.alloc(s->alloc.opaque, size ? size : 1);
}

void *mt__snap_zalloc(const mt_snapshot *s, size_t size)
{
    void *p = mt__snap_alloc(s, size);

    if (p)
        memset(p, 0, size);
    return p;
}

void mt__snap_free(const mt_snapshot *s, void *p)
{
    if (p)
        s->alloc.free(s->alloc.opaque, p);
}

mt_snapshot *mt__snap_new(const mt_allocator *alloc)
{
    mt_snapshot *s = alloc->alloc(alloc->opaque, sizeof(*s));

    if (!s)
        return NULL;
    memset(s, 0, sizeof(*s));
    s->alloc = *alloc;
    return s;
}

uint8_t *mt__snap_map(uint64_t bytes)
{
    void *p;

    if (bytes == 0)
        return NULL;
    if (bytes > SIZE_MAX)
        return MAP_FAILED;
    p = mmap(NULL, (size_t)bytes, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? MAP_FAILED : p;
}

void mt__snap_unmap(uint8_t *p, uint64_t bytes)
{
    if (p && p != MAP_FAILED)
        munmap(p, (size_t)bytes);
}

bool mt__snap_page_zero(const uint8_t *p)
{
    const uint64_t *w = (const void *)p;

    /* Eight words (a cache line) per test: cheap on zero pages, which
     * are the common case (untouched guest memory reads the zero page). */
    for (size_t i = 0; i < MT__SNAP_PAGE / 8; i += 8)
        if (w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] | w[i + 5] |
            w[i + 6] | w[i + 7])
            return false;
    return true;
}

/* ---- lifetime ------------------------------------------------------------ */

static void snap_destroy(mt_snapshot *s)
{
    for (uint32_t i = 0; s->blocks && i < s->nr_blocks; i++)
        mt__snap_unmap(s->blocks[i].data, s->blocks[i].bytes);
    mt__snap_free(s, s->blocks);
    mt__snap_free(s, s->bitmaps);
    mt__snap_free(s, s->index);
    mt__snap_free(s, s->names);
    mt__snap_free(s, s->regions);
    mt__snap_free(s, s);
}

void mt_snapshot_free(mt_snapshot *snap)
{
    if (!snap)
        return;
    if (snap->armed)
        mt_snapshot_disarm(snap);
    snap_destroy(snap);
}

mt_ctx *mt_snapshot_armed(const mt_snapshot *snap)
{
    return snap ? snap->armed : NULL;
}

int mt_snapshot_disarm(mt_snapshot *snap)
{
    mt_ctx *ctx;

    if (!snap)
        return MT_EINVAL;
    if (!snap->armed)
        return MT_ESTATE;
    ctx = snap->armed;
    snap->armed = NULL;
    return mt_ctx_dirty_log_stop(ctx);
}

/* ---- getters ------------------------------------------------------------- */

size_t mt_snapshot_nr_blocks(const mt_snapshot *snap)
{
    return snap ? snap->nr_blocks : 0;
}

size_t mt_snapshot_nr_regions(const mt_snapshot *snap)
{
    return snap ? snap->nr_regions : 0;
}

static const mt__snap_block *block_at(const mt_snapshot *snap, size_t i)
{
    return snap && i < snap->nr_blocks ? &snap->blocks[i] : NULL;
}

const char *mt_snapshot_block_name(const mt_snapshot *snap, size_t i)
{
    const mt__snap_block *b = block_at(snap, i);

    return b ? snap->regions[b->region].name : NULL;
}

uint64_t mt_snapshot_block_size(const mt_snapshot *snap, size_t i)
{
    const mt__snap_block *b = block_at(snap, i);

    return b ? b->bytes : 0;
}

const void *mt_snapshot_block_data(const mt_snapshot *snap, size_t i)
{
    const mt__snap_block *b = block_at(snap, i);

    return b ? b->data : NULL;
}

/* ---- arming -------------------------------------------------------------- */

/*
 * Start global dirty logging for @snap on @ctx and commit it, so the views
 * (and KVM's memslots) log before any memory is copied. The caller then
 * pulls and clears the logs under its own lock.
 */
int mt__snap_arm(mt_ctx *ctx, mt_snapshot *snap, mt_snapshot_error *err)
{
    int rc;

    mt_begin(ctx);
    if (ctx->depth > 1) {
        mt_commit(ctx);
        return mt__snap_fail(err, MT_ESTATE,
                             "cannot arm a snapshot inside a transaction");
    }
    if (ctx->dirty_log_users) {
        mt_commit(ctx);
        return mt__snap_fail(err, MT_EBUSY,
                             "global dirty logging is already on (another "
                             "armed snapshot or a migration)");
    }
    rc = mt_ctx_dirty_log_start(ctx);
    if (rc) {
        mt_commit(ctx);
        return mt__snap_fail(err, rc, "cannot start dirty logging: %s",
                             mt_strerror(rc));
    }
    rc = mt_commit(ctx);
    if (rc) {
        mt_ctx_dirty_log_stop(ctx);
        return mt__snap_fail(err, rc, "cannot start dirty logging: %s",
                             mt_strerror(rc));
    }
    snap->armed = ctx;
    return 0;
}

/* ---- take ---------------------------------------------------------------- */

/* Pointer -> record index, open addressing (take only). */
typedef struct ptr_map {
    const mt_region **keys;
    uint32_t *vals;
    size_t mask;
} ptr_map;

static size_t ptr_slot(const ptr_map *m, const mt_region *r)
{
    uint64_t h = (uint64_t)(uintptr_t)r * UINT64_C(0x9e3779b97f4a7c15);

    return (size_t)(h >> 17) & m->mask;
}

static void ptr_put(ptr_map *m, const mt_region *r, uint32_t v)
{
    size_t i = ptr_slot(m, r);

    while (m->keys[i])
        i = (i + 1) & m->mask;
    m->keys[i] = r;
    m->vals[i] = v;
}

static uint32_t ptr_get(const ptr_map *m, const mt_region *r)
{
    size_t i;

    if (!r)
        return MT__SNAP_NONE;
    for (i = ptr_slot(m, r); m->keys[i]; i = (i + 1) & m->mask)
        if (m->keys[i] == r)
            return m->vals[i];
    return MT__SNAP_NONE;
}

/* Record every live region of @ctx (creation order) into @s; @live gets
 * the regions (the caller frees it). */
static int capture_regions(mt_ctx *ctx, mt_snapshot *s, mt_region ***live_out,
                           mt_snapshot_error *err)
{
    size_t n = ctx->nr_regions, names = 0, slots = 4, k;
    mt_region **live, *r;
    ptr_map pm = { 0 };
    char *np;
    int rc = MT_ENOMEM;

    if (n > MT__SNAP_MAX_REGIONS)
        return mt__snap_fail(err, MT_EINVAL, "too many regions (%zu)", n);
    live = mt__snap_alloc(s, (n ? n : 1) * sizeof(*live));
    if (!live)
        goto nomem;
    /* ctx->regions is newest first. */
    k = n;
    for (r = ctx->regions; r && k; r = r->all_next)
        live[--k] = r;
    for (k = 0; k < n; k++) {
        const char *name = mt_region_name(live[k]);

        if (name && strlen(name) > MT__SNAP_MAX_NAME) {
            mt__snap_free(s, live);
            return mt__snap_fail(err, MT_EINVAL,
                                 "region name longer than %u bytes",
                                 MT__SNAP_MAX_NAME);
        }
        names += name ? strlen(name) + 1 : 0;
    }
    while (slots < 2 * n)
        slots *= 2;
    pm.keys = mt__snap_zalloc(s, slots * sizeof(*pm.keys));
    pm.vals = mt__snap_alloc(s, slots * sizeof(*pm.vals));
    pm.mask = slots - 1;
    if (!pm.keys || !pm.vals)
        goto out;
    if (mt__snap_alloc_regions(s, (uint32_t)n, names))
        goto out;
    for (k = 0; k < n; k++)
        ptr_put(&pm, live[k], (uint32_t)k);
    np = s->names;
    for (k = 0; k < n; k++) {
        mt__snap_region *sr = &s->regions[k];
        const char *name = mt_region_name(r = live[k]);
        mt_region *c = mt_region_container(r);

        if (name) {
            sr->name_len = (uint32_t)strlen(name);
            memcpy(np, name, sr->name_len + 1);
            sr->name = np;
            np += sr->name_len + 1;
            sr->flags |= MT__SR_NAMED;
        }
        sr->kind = mt_region_kind_of(r);
        sr->flags |= (mt_region_enabled(r) ? MT__SR_ENABLED : 0) |
                     (mt_region_readonly(r) ? MT__SR_READONLY : 0) |
                     (mt_region_nonvolatile(r) ? MT__SR_NONVOLATILE : 0) |
                     (mt_region_romd(r) ? MT__SR_ROMD : 0);
        sr->size = mt_region_size(r);
        sr->addr = mt_region_addr(r);
        sr->alias_offset = mt_region_alias_offset(r);
        sr->container = ptr_get(&pm, c);
        sr->priority = c ? mt_region_priority(r) : 0;
        sr->alias_target = ptr_get(&pm, mt_region_alias_target(r));
        sr->block = MT__SNAP_NONE;
        sr->next_same = MT__SNAP_NONE;
    }
    for (k = 0; k < n; k++) {
        size_t nsub = mt_region_nr_subregions(live[k]);

        for (size_t j = 0; j < nsub; j++) {
            uint32_t ci = ptr_get(&pm, mt_region_subregion(live[k], j));

            if (ci != MT__SNAP_NONE)
                s->regions[ci].rank = (uint32_t)j;
        }
    }
    rc = 0;
out:
    mt__snap_free(s, pm.keys);
    mt__snap_free(s, pm.vals);
    if (rc) {
        mt__snap_free(s, live);
        goto nomem;
    }
    *live_out = live;
    return 0;
nomem:
    return mt__snap_fail(err, MT_ENOMEM, "out of memory");
}

/* Copy @bytes of block memory at @host into @b, skipping zero pages. */
static void copy_block(mt__snap_block *b, const uint8_t *host)
{
    for (uint64_t p = 0; p < b->npages; p++) {
        const uint8_t *src = host + p * MT__SNAP_PAGE;

        if (mt__snap_page_zero(src))
            continue;
        memcpy(b->data + p * MT__SNAP_PAGE, src, MT__SNAP_PAGE);
        b->present[p / 64] |= UINT64_C(1) << (p % 64);
    }
}

int mt_snapshot_take(mt_ctx *ctx, unsigned flags, mt_snapshot **out,
                     mt_snapshot_error *err)
{
    mt_snapshot *s;
    mt_region **live = NULL;
    int rc;

    if (out)
        *out = NULL;
    if (!ctx || !out || (flags & ~MT_SNAPSHOT_TRACK))
        return mt__snap_fail(err, MT_EINVAL, "invalid argument");
    s = mt__snap_new(&ctx->alloc);
    if (!s)
        return mt__snap_fail(err, MT_ENOMEM, "out of memory");
    if (flags & MT_SNAPSHOT_TRACK) {
        rc = mt__snap_arm(ctx, s, err);
        if (rc) {
            snap_destroy(s);
            return rc;
        }
    }
    mt_begin(ctx);
    rc = mt__snap_capture(ctx, s, true, &live, err);
    if (!rc) {
        if (s->armed) {
            /* Logging is committed: whatever was dirtied before now is
             * about to be copied, so drop it. */
            mt__snap_sync(ctx);
            mt__snap_clear_tracking(s, live);
        }
        for (uint32_t i = 0; i < s->nr_blocks; i++) {
            mt__snap_block *b = &s->blocks[i];
            const uint8_t *host = mt_region_ram_ptr(live[b->region]);

            if (host)
                copy_block(b, host);
        }
    }
    mt_commit(ctx);
    if (live)
        mt__snap_free(s, live);
    if (rc) {
        mt_snapshot_free(s);
        return rc;
    }
    mt__snap_ok(err);
    *out = s;
    return 0;
}

/* ---- shared with migration streams (src/migrate*.c) ----------------------- */

int mt__snap_capture(mt_ctx *ctx, mt_snapshot *s, bool data,
                     mt_region ***live, mt_snapshot_error *err)
{
    int rc = capture_regions(ctx, s, live, err);

    if (!rc)
        rc = mt__snap_build_index(s, err);
    if (!rc)
        rc = mt__snap_alloc_blocks(s, data, err);
    return rc;
}
