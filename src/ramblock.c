/* SPDX-License-Identifier: MIT */
/*
 * ramblock.c: RAM blocks, the host memory behind memory-backed regions.
 *
 * Backends: private anonymous memory (reserved with MAP_NORESERVE, 2 MiB
 * aligned, one PROT_NONE guard page after the block, as QEMU's
 * qemu_ram_mmap), a memfd, a file or a directory for a new unlinked file
 * (hugetlbfs page size honoured), a caller's descriptor, caller memory.
 * Every block also has a place in the context's block offset space (QEMU's
 * ram_addr_t: best fit, 256 KiB aligned, while there are few blocks) and is
 * indexed by host address, both in persistent B+trees so lookups are
 * O(log n) however many blocks there are.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "internal.h"

#define ANON_ALIGN (2u << 20)          /* QEMU_VMALLOC_ALIGN on x86-64 hosts */
#define OFFSET_ALIGN (256u << 10)      /* block offset space granule */
#define BEST_FIT_MAX 1024              /* beyond this many blocks: append */
#define HUGETLBFS_MAGIC_NR 0x958458f6

static uint64_t host_page(void)
{
    long p = sysconf(_SC_PAGESIZE);

    return p > 0 ? (uint64_t)p : 4096;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

/* ---- indexes: block offset space and host addresses --------------------- */

/* An index entry: [start, last] mapped to the region, kept in the offset
 * field (region NULL so the tree holds no reference: the block's own
 * lifetime bounds the entry's). */
static mt_flat_range index_entry(uint64_t start, uint64_t len, mt_region *r)
{
    mt_flat_range e;

    memset(&e, 0, sizeof(e));
    e.start = start;
    e.last = start + len - 1;
    e.offset = (uint64_t)(uintptr_t)r;
    return e;
}

static int index_insert(mt_ctx *ctx, mt_fvtree **t, const mt_flat_range *e)
{
    mt_fvtree *nt;
    size_t i;

    if (!*t && mt__fvt_new(ctx, NULL, 0, t))
        return MT_ENOMEM;
    i = mt__fvt_lower(*t, e->start);
    if (mt__fvt_replace(*t, i, i, e, 1, &nt))
        return MT_ENOMEM;
    mt__fvt_free(*t);
    *t = nt;
    return 0;
}

/* Would @e overlap an entry of @t? (Caller memory may back several
 * regions: only the first is indexed by host address.) */
static bool index_overlaps(const mt_fvtree *t, const mt_flat_range *e)
{
    size_t i;

    if (!t)
        return false;
    i = mt__fvt_lower(t, e->start);
    return i < mt__fvt_count(t) && mt__fvt_at(t, i)->start <= e->last;
}

static void index_remove(mt_ctx *ctx, mt_fvtree **t, uint64_t start,
                         const mt_region *r)
{
    const mt_flat_range *e;
    mt_fvtree *nt;
    size_t i;

    if (!*t)
        return;
    i = mt__fvt_lower(*t, start);
    e = i < mt__fvt_count(*t) ? mt__fvt_at(*t, i) : NULL;
    if (!e || e->start != start || e->offset != (uint64_t)(uintptr_t)r)
        return;
    if (mt__fvt_replace(*t, i, i + 1, NULL, 0, &nt)) {
        /* Out of memory while removing: drop both indexes rather than
         * keep an entry for a freed block; they are rebuilt when needed. */
        mt__fvt_free(ctx->ram_offsets);
        mt__fvt_free(ctx->ram_hosts);
        ctx->ram_offsets = ctx->ram_hosts = NULL;
        ctx->ram_index_stale = true;
        return;
    }
    mt__fvt_free(*t);
    *t = nt;
}

/* Rebuild both indexes from the live blocks (after a failed removal). */
static int ensure_indexes(mt_ctx *ctx)
{
    if (!ctx->ram_index_stale)
        return 0;
    ctx->nr_unindexed = 0;
    for (mt_region *r = ctx->regions; r; r = r->all_next) {
        mt_ramblock *b = r->block;
        mt_flat_range e;

        if (!b || !b->max)
            continue;
        e = index_entry(b->offset, b->max, r);
        if (index_insert(ctx, &ctx->ram_offsets, &e))
            goto fail;
        if (b->host) {
            e = index_entry((uint64_t)(uintptr_t)b->host, b->max, r);
            b->host_indexed = !index_overlaps(ctx->ram_hosts, &e);
            if (b->host_indexed && index_insert(ctx, &ctx->ram_hosts, &e))
                goto fail;
            ctx->nr_unindexed += !b->host_indexed;
        }
    }
    ctx->ram_index_stale = false;
    return 0;
fail:
    mt__fvt_free(ctx->ram_offsets);
    mt__fvt_free(ctx->ram_hosts);
    ctx->ram_offsets = ctx->ram_hosts = NULL;
    return MT_ENOMEM;
}

static mt_region *index_lookup(const mt_fvtree *t, uint64_t addr,
                               uint64_t *off)
{
    const mt_flat_range *e = t ? mt__fvt_lookup(t, addr) : NULL;

    if (!e)
        return NULL;
    *off = addr - e->start;
    return (mt_region *)(uintptr_t)e->offset;
}

/* Best fit among the gaps of the offset space (QEMU's find_ram_offset),
 * or after the last block once there are many. */
static uint64_t find_offset(mt_ctx *ctx, uint64_t size)
{
    const mt_fvtree *t = ctx->ram_offsets;
    uint64_t best = UINT64_MAX, best_gap = UINT64_MAX, prev_end = 0;
    size_t n = t ? mt__fvt_count(t) : 0;
    mt_fvt_iter it;
    const mt_flat_range *e;

    if (n == 0)
        return 0;
    if (n > BEST_FIT_MAX)
        return align_up(mt__fvt_at(t, n - 1)->last + 1, OFFSET_ALIGN);
    /* Candidates are the (aligned) ends of existing blocks, as in QEMU:
     * the space before the first block is never reused. */
    mt__fvt_iter_init(&it, t, 0);
    for (bool first = true; (e = mt__fvt_iter_next(&it)); first = false) {
        uint64_t cand = align_up(prev_end, OFFSET_ALIGN);

        if (!first && e->start >= cand && e->start - cand >= size &&
            e->start - cand < best_gap) {
            best = cand;
            best_gap = e->start - cand;
        }
        prev_end = e->last + 1;
    }
    if (best == UINT64_MAX)
        best = align_up(prev_end, OFFSET_ALIGN);
    return best;
}

/* ---- mapping ------------------------------------------------------------- */

/*
 * Reserve @len + @align + a guard page, place the block at an @align
 * boundary inside (anonymous or from @fd), keep one PROT_NONE guard page
 * after it and give back the rest.
 */
static int map_block(mt_ramblock *b, uint64_t len, uint64_t align, int fd,
                     uint64_t fd_off)
{
    uint64_t guard = b->page_size;
    size_t total = (size_t)(len + align + guard);
    uint8_t *base, *start, *p;
    int flags = fd >= 0 ? MAP_SHARED : MAP_PRIVATE | MAP_ANONYMOUS;

    if (len + align + guard < len || len > SIZE_MAX / 2)
        return MT_ENOMEM;
    base = mmap(NULL, total, PROT_NONE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED)
        return MT_ENOMEM;
    start = (uint8_t *)(uintptr_t)align_up((uintptr_t)base, align);
    p = mmap(start, (size_t)len, PROT_READ | PROT_WRITE,
             flags | MAP_FIXED | MAP_NORESERVE, fd, (off_t)fd_off);
    if (p == MAP_FAILED) {
        munmap(base, total);
        return fd >= 0 ? MT_EIO : MT_ENOMEM;
    }
    if (start > base)
        munmap(base, (size_t)(start - base));
    if (start + len + guard < base + total)
        munmap(start + len + guard,
               (size_t)(base + total - (start + len + guard)));
    b->host = start;
    b->map_base = start;
    b->map_len = (size_t)(len + guard);
    return 0;
}

static int open_backing(mt_ramblock *b, const char *name,
                        const mt_ram_opts *o)
{
    struct stat st;
    struct statfs sfs;

    switch (o->backend) {
    case MT_RAM_MEMFD:
        b->fd = memfd_create(name && *name ? name : "memtree", MFD_CLOEXEC);
        b->fd_owned = true;
        break;
    case MT_RAM_FILE:
        if (!o->path)
            return MT_EINVAL;
        if (stat(o->path, &st) == 0 && S_ISDIR(st.st_mode)) {
            char tmpl[4096];

            snprintf(tmpl, sizeof(tmpl), "%s/memtree.XXXXXX", o->path);
            b->fd = mkstemp(tmpl);
            if (b->fd >= 0)
                unlink(tmpl);
        } else {
            b->fd = open(o->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        }
        b->fd_owned = true;
        break;
    case MT_RAM_FD:
        if (o->fd < 0)
            return MT_EINVAL;
        b->fd = o->fd;
        b->fd_owned = false;
        break;
    default:
        return 0;
    }
    if (b->fd < 0)
        return MT_EIO;
    if (fstatfs(b->fd, &sfs) == 0 && (unsigned long)sfs.f_type ==
                                         HUGETLBFS_MAGIC_NR)
        b->page_size = (uint64_t)sfs.f_bsize;
    return 0;
}

/* Size the file behind @b for [fd_off, fd_off + len): create it if empty,
 * refuse one that ends inside the block (QEMU's rule). */
static int size_backing(mt_ramblock *b, uint64_t fd_off, uint64_t len)
{
    struct stat st;

    if (fstat(b->fd, &st))
        return MT_EIO;
    if (st.st_size == 0 || (uint64_t)st.st_size <= fd_off) {
        if (ftruncate(b->fd, (off_t)(fd_off + len)))
            return MT_EIO;
    } else if ((uint64_t)st.st_size < fd_off + len) {
        return MT_EINVAL;
    }
    return 0;
}

static void release_memory(mt_ramblock *b)
{
    if (b->map_len)
        munmap(b->map_base, b->map_len);
    if (b->fd >= 0 && b->fd_owned)
        close(b->fd);
    b->map_len = 0;
    b->fd = -1;
}

static int map_backing(mt_ramblock *b, const char *name, const mt_ram_opts *o)
{
    int rc;

    if (o->backend == MT_RAM_PTR) {
        if (!o->host && b->max)
            return MT_EINVAL;
        b->host = o->host;
        return 0;
    }
    rc = open_backing(b, name, o);
    if (rc)
        return rc;
    b->used = align_up(b->used, b->page_size);
    b->max = align_up(b->max, b->page_size);
    if (b->max == 0)
        return 0;
    if (b->fd >= 0) {
        if (o->fd_offset % b->page_size)
            return MT_EINVAL;
        b->fd_offset = o->fd_offset;
        rc = size_backing(b, o->fd_offset, b->max);
        if (rc)
            return rc;
    }
    return map_block(b, b->max,
                     b->page_size > ANON_ALIGN ? b->page_size : ANON_ALIGN,
                     b->fd, o->fd_offset);
}

int mt__ram_block_new(mt_region *r, uint64_t size, const mt_ram_opts *o)
{
    mt_ctx *ctx = r->ctx;
    mt_ramblock *b;
    mt_flat_range e;
    uint64_t words;
    int rc;

    if (size == MT_SIZE_FULL || (o->max_size && o->max_size < size) ||
        o->backend > MT_RAM_PTR)
        return MT_EINVAL;
    b = mt__zalloc(ctx, sizeof(*b));
    if (!b)
        return MT_ENOMEM;
    b->fd = -1;
    b->page_size = host_page();
    b->backend = o->backend;
    b->resizeable = o->max_size != 0;
    b->resized = o->resized;
    b->resized_opaque = o->opaque;
    b->used = align_up(size, MT_DIRTY_PAGE_SIZE);
    b->max = align_up(o->max_size ? o->max_size : size, MT_DIRTY_PAGE_SIZE);
    if (b->used < size || b->max < b->used) {
        mt__free(ctx, b);
        return MT_EINVAL;
    }
    rc = map_backing(b, r->name, o);
    if (rc)
        goto fail;
    b->nr_pages = b->max / MT_DIRTY_PAGE_SIZE;
    words = (b->nr_pages + 63) / 64;
    rc = MT_ENOMEM;
    if (words > SIZE_MAX / (MT_DIRTY_NR_CLIENTS * 8))
        goto fail;
    b->dirty = mt__zalloc(ctx, (size_t)(words * MT_DIRTY_NR_CLIENTS * 8));
    if (!b->dirty)
        goto fail;
    b->words = words;
    if (b->max) {
        if (ensure_indexes(ctx))
            goto fail;
        b->offset = find_offset(ctx, b->max);
        e = index_entry(b->offset, b->max, r);
        if (index_insert(ctx, &ctx->ram_offsets, &e))
            goto fail;
        if (b->host) {
            e = index_entry((uint64_t)(uintptr_t)b->host, b->max, r);
            b->host_indexed = !index_overlaps(ctx->ram_hosts, &e);
            if (b->host_indexed && index_insert(ctx, &ctx->ram_hosts, &e)) {
                index_remove(ctx, &ctx->ram_offsets, b->offset, r);
                goto fail;
            }
            ctx->nr_unindexed += !b->host_indexed;
        }
    }
    r->block = b;
    r->host = b->host;
    /* New blocks start dirty for every client (QEMU ram_block_add). */
    mt__dirty_mark(r, 0, b->used, (1u << MT_DIRTY_NR_CLIENTS) - 1);
    return 0;
fail:
    release_memory(b);
    mt__free(ctx, b->dirty);
    mt__free(ctx, b);
    return rc;
}

void mt__ram_block_free(mt_region *r)
{
    mt_ramblock *b = r->block;
    mt_ctx *ctx = r->ctx;

    if (!b)
        return;
    if (b->max && b->host && !b->host_indexed)
        ctx->nr_unindexed--;
    if (b->max && !ctx->dying && !ctx->ram_index_stale) {
        index_remove(ctx, &ctx->ram_offsets, b->offset, r);
        if (b->host_indexed)
            index_remove(ctx, &ctx->ram_hosts, (uint64_t)(uintptr_t)b->host,
                         r);
    }
    release_memory(b);
    mt__free(ctx, b->dirty);
    mt__free(ctx, b);
    r->block = NULL;
    r->host = NULL;
}

/* ---- public calls -------------------------------------------------------- */

int mt_region_new_ram_opts(mt_ctx *ctx, const char *name, uint64_t size,
                           const mt_ram_opts *opts, mt_region **out)
{
    mt_ram_opts anon;

    if (!opts) {
        memset(&anon, 0, sizeof(anon));
        opts = &anon;
    }
    return mt__region_new_backed(ctx, name, size, MT_REGION_RAM, opts, out);
}

int mt_region_ram_resize(mt_region *r, uint64_t new_size)
{
    mt_ramblock *b;
    uint64_t aligned, old;
    int rc = 0;

    if (!r)
        return MT_EINVAL;
    MT_LOCKED(r->ctx);
    b = r->block;
    if (r->kind != MT_REGION_RAM || !b)
        return MT_EKIND;
    if (new_size == MT_SIZE_FULL)
        return MT_EINVAL;
    aligned = align_up(align_up(new_size, MT_DIRTY_PAGE_SIZE), b->page_size);
    if (aligned < new_size)
        return MT_EINVAL;
    if (aligned == b->used) {
        if ((uint64_t)r->size != new_size) {
            rc = mt__region_set_size(r, new_size);
            if (b->resized)
                b->resized(b->resized_opaque, r, new_size);
        }
        return rc;
    }
    if (!b->resizeable || aligned > b->max)
        return MT_EINVAL;
    old = b->used;
    mt__dirty_clear(r, 0, old);
    b->used = aligned;
    mt__dirty_mark(r, 0, aligned, (1u << MT_DIRTY_NR_CLIENTS) - 1);
    rc = mt__region_set_size(r, new_size); /* MT_ENOMEM: the view follows
                                               at the next commit */
    if (b->resized)
        b->resized(b->resized_opaque, r, new_size);
    return rc;
}

uint64_t mt_region_ram_max_size(const mt_region *r)
{
    return r && r->block ? r->block->max : 0;
}

int mt_region_ram_fd(const mt_region *r)
{
    return r && r->block ? r->block->fd : -1;
}

uint64_t mt_region_ram_page_size(const mt_region *r)
{
    return r && r->block ? r->block->page_size : 0;
}

uint64_t mt_region_ram_offset(const mt_region *r)
{
    return r && r->block && r->block->max ? r->block->offset : UINT64_MAX;
}

/*
 * The slow path of host lookups: every block, oldest first, skipping those
 * the index answers for (unless the index is gone). Used for caller memory
 * that overlaps another block (not indexed) and while the indexes cannot
 * be rebuilt.
 */
static mt_region *scan_hosts(mt_ctx *ctx, uint64_t hva, uint64_t *off,
                             bool all)
{
    for (mt_region *r = ctx->regions; r; r = r->all_next) {
        mt_ramblock *b = r->block;
        uint64_t h = b ? (uint64_t)(uintptr_t)b->host : 0;

        if (!b || !b->host || (!all && b->host_indexed))
            continue;
        if (hva - h < b->max) { /* unsigned: below the start fails */
            *off = hva - h;
            return r;
        }
    }
    return NULL;
}

int mt_ctx_hva_to_ram(mt_ctx *ctx, const void *hva, mt_region **region,
                      uint64_t *offset)
{
    uint64_t addr = (uint64_t)(uintptr_t)hva, off = 0;
    mt_region *r;

    if (!ctx || !region || !offset)
        return MT_EINVAL;
    MT_LOCKED(ctx);
    if (ensure_indexes(ctx))
        r = scan_hosts(ctx, addr, &off, true);
    else if (!(r = index_lookup(ctx->ram_hosts, addr, &off)) &&
             ctx->nr_unindexed)
        r = scan_hosts(ctx, addr, &off, false);
    if (!r)
        return MT_ENOENT;
    *region = r;
    *offset = off;
    return 0;
}

int mt_ctx_ram_addr_to_ram(mt_ctx *ctx, uint64_t ram_addr,
                           mt_region **region, uint64_t *offset)
{
    mt_region *r = NULL;
    uint64_t off = 0;

    if (!ctx || !region || !offset)
        return MT_EINVAL;
    MT_LOCKED(ctx);
    if (ensure_indexes(ctx)) {
        for (mt_region *x = ctx->regions; x && !r; x = x->all_next) {
            mt_ramblock *b = x->block;

            if (b && b->max && ram_addr - b->offset < b->max) {
                r = x;
                off = ram_addr - b->offset;
            }
        }
    } else {
        r = index_lookup(ctx->ram_offsets, ram_addr, &off);
    }
    if (!r)
        return MT_ENOENT;
    *region = r;
    *offset = off;
    return 0;
}

int mt_as_gpa_to_hva(mt_as *as, uint64_t gpa, void **hva, uint64_t *len)
{
    const mt_flat_range *fr;
    uint64_t avail_m1;

    int rc = MT_ENOENT;

    if (!as || !hva || !len)
        return MT_EINVAL;
    mt__read_lock(as->ctx);
    fr = mt__lookup(mt__as_view(as), gpa);
    if (fr && fr->region->block && fr->region->host) {
        *hva = (uint8_t *)fr->region->host + fr->offset + (gpa - fr->start);
        avail_m1 = fr->last - gpa;
        if (*len == 0 || *len - 1 > avail_m1)
            *len = avail_m1 + 1;
        rc = 0;
    }
    mt__read_unlock(as->ctx);
    return rc;
}

int mt_region_ram_discard(mt_region *r, uint64_t offset, uint64_t len)
{
    mt_ramblock *b;
    uint8_t *p;

    if (!r)
        return MT_EINVAL;
    MT_LOCKED(r->ctx);
    b = r->block;
    if (!b)
        return MT_EKIND;
    if (offset % b->page_size || len % b->page_size)
        return MT_EINVAL;
    if (offset > b->max || len > b->max - offset)
        return MT_ERANGE;
    if (len == 0)
        return 0;
    p = (uint8_t *)b->host + offset;
    if (b->backend == MT_RAM_PTR) {
        memset(p, 0, (size_t)len); /* not ours to unmap */
        return 0;
    }
    if (b->fd >= 0) {
        if (fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                      (off_t)(b->fd_offset + offset), (off_t)len))
            return MT_EIO;
        return 0;
    }
    return madvise(p, (size_t)len, MADV_DONTNEED) ? MT_EIO : 0;
}
