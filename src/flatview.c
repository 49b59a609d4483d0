/* SPDX-License-Identifier: MIT */
/*
 * flatview.c: flat view objects (immutable once published, reference
 * counted, holding a reference on every region they show) and the
 * reduction of an address-space root to the region actually rendered,
 * which lets address spaces share one view.
 */
#include <sched.h>
#include <string.h>

#include "internal.h"

static mt_flatview *view_alloc(mt_ctx *ctx)
{
    mt_flatview *fv = mt__zalloc(ctx, sizeof(*fv));

    if (!fv)
        return NULL;
    fv->ctx = ctx;
    fv->refcount = 1;
    fv->gen = ++ctx->view_gen;
    fv->all_next = ctx->views;
    if (ctx->views)
        ctx->views->all_prev = fv;
    ctx->views = fv;
    return fv;
}

int mt__flatview_new_empty(mt_ctx *ctx, mt_flatview **out)
{
    mt_flatview *fv = view_alloc(ctx);

    if (!fv || mt__fvt_new(ctx, NULL, 0, &fv->tree)) {
        mt_flatview_unref(fv);
        return MT_ENOMEM;
    }
    *out = fv;
    return 0;
}

int mt__flatview_render(mt_ctx *ctx, mt_region *phys_root, mt_flatview **out)
{
    mt_flat_range *r;
    mt_flatview *fv;
    size_t n;
    int rc;

    if (!phys_root) {
        mt__flatview_ref(ctx->empty_view);
        *out = ctx->empty_view;
        return 0;
    }
    rc = mt__render_ranges(ctx, phys_root, 0, MT_2_64, &r, &n);
    if (rc)
        return rc;
    fv = view_alloc(ctx);
    if (!fv || mt__fvt_new(ctx, r, n, &fv->tree)) {
        mt__free(ctx, r);
        mt_flatview_unref(fv);
        return MT_ENOMEM;
    }
    mt__free(ctx, r);
    fv->root = mt_region_ref(phys_root);
    *out = fv;
    return 0;
}

void mt__flatview_ref(mt_flatview *fv)
{
    atomic_fetch_add_explicit(&fv->refcount, 1, memory_order_relaxed);
}

/* A reference on a view a reader found published, unless its count has
 * already fallen to zero (it is then waiting for its grace period). */
bool mt__flatview_tryref(mt_flatview *fv)
{
    unsigned n = atomic_load_explicit(&fv->refcount, memory_order_relaxed);

    while (n)
        if (atomic_compare_exchange_weak_explicit(&fv->refcount, &n, n + 1,
                                                  memory_order_acquire,
                                                  memory_order_relaxed))
            return true;
    return false;
}

void mt_flatview_unref(mt_flatview *fv)
{
    if (!fv || atomic_fetch_sub_explicit(&fv->refcount, 1,
                                         memory_order_acq_rel) != 1)
        return;
    /* Readers may still be inside it: free after a grace period. */
    mt__view_retire(fv);
}

void mt__view_destroy(mt_flatview *fv)
{
    mt_ctx *ctx = fv->ctx;

    if (fv->all_prev)
        fv->all_prev->all_next = fv->all_next;
    else
        ctx->views = fv->all_next;
    if (fv->all_next)
        fv->all_next->all_prev = fv->all_prev;
    mt__fvt_free(fv->tree);
    mt__tlb_unref(ctx, atomic_load_explicit(&fv->tlb, memory_order_relaxed));
    if (fv->root && fv->root->phys_view == fv)
        fv->root->phys_view = NULL;
    mt_flatview_unref(fv->derived_from);
    mt_region_unref(fv->root);
    mt__free(ctx, fv->pend);
    mt__free(ctx, fv->spans);
    mt__free(ctx, fv);
}

void mt__tlb_unref(mt_ctx *ctx, mt_tlb *tlb)
{
    if (tlb && atomic_fetch_sub_explicit(&tlb->refs, 1,
                                         memory_order_acq_rel) == 1)
        mt__free(ctx, tlb);
}

mt_tlb *mt__fv_tlb_alloc(mt_flatview *fv)
{
    mt_tlb *t = mt__zalloc(fv->ctx, sizeof(*t) +
                                        (sizeof(t->e[0]) << MT_TLB_BITS));
    mt_tlb *none = NULL;

    if (!t)
        return NULL; /* no cache: lookups use the tree */
    atomic_init(&t->gen, fv->gen);
    atomic_init(&t->refs, 1);
    if (!atomic_compare_exchange_strong_explicit(&fv->tlb, &none, t,
                                                 memory_order_acq_rel,
                                                 memory_order_acquire)) {
        mt__free(fv->ctx, t); /* another thread won */
        return none;
    }
    return t;
}

/* The key of an empty entry that replaces @k: a new version, so that a
 * reader between its two reads of @k sees the change. */
static uint64_t key_dropped(uint64_t k)
{
    return (k + 2) & MT__TLB_VER;
}

/*
 * What the cache should say about the page of @addr: the page's host
 * address when the whole page is direct memory of @fr without dirty
 * logging (the access paths then need nothing else), otherwise the record
 * itself. Returns whether the entry now holds the page's host address.
 *
 * Only while @tlb serves @fv: the generation is checked again after the
 * entry is marked BUSY, and a commit handing the cache over changes the
 * generation before it looks at the entries (mt__fv_tlb_share). Those two
 * steps are sequentially consistent, so either the filler sees the new
 * generation and backs out, or the commit sees the entry BUSY, waits for
 * the filler to finish (key_settled), and drops the entry if it must.
 */
bool mt__tlb_fill(mt_flatview *fv, mt_tlb *tlb, uint64_t addr,
                  const mt_flat_range *fr)
{
    uint64_t h = mt__tlb_hash(addr);
    mt_tlb_entry *e = mt__tlb_entry(tlb, h);
    size_t slot = (size_t)(e - tlb->e);
    uint64_t page = addr & ~UINT64_C(4095);
    uint64_t key = h << MT__TLB_SHIFT, old, busy;
    unsigned direct = fr->mt__access &
                      (MT__ACCESS_READ | MT__ACCESS_WRITE | MT__ACCESS_RAM);
    uintptr_t data;

    if ((direct & (MT__ACCESS_READ | MT__ACCESS_WRITE)) && fr->host &&
        !fr->dirty_log_mask && fr->start <= page && fr->last - page >= 4095) {
        key |= MT__TLB_PAGE | (uint64_t)direct << MT__TLB_ACCESS_SHIFT;
        data = (uintptr_t)((uint8_t *)fr->host + (page - fr->start));
    } else {
        key |= MT__TLB_RANGE;
        data = (uintptr_t)fr;
    }
    old = atomic_load_explicit(&e->key, memory_order_acquire);
    if (old & MT__TLB_BUSY)
        return false; /* another thread is filling it */
    if ((old & ~MT__TLB_VER) == key &&
        atomic_load_explicit(&e->data, memory_order_relaxed) == data)
        return key & MT__TLB_PAGE; /* already there */
    if (atomic_load_explicit(&tlb->gen, memory_order_relaxed) != fv->gen)
        return false; /* being handed, or handed, to a newer version */
    if (key & MT__TLB_RANGE)
        atomic_fetch_or(&tlb->range_slots[slot / 64],
                        UINT64_C(1) << (slot % 64));
    busy = old | MT__TLB_BUSY;
    if (!atomic_compare_exchange_strong(&e->key, &old, busy))
        return false;
    if (atomic_load(&tlb->gen) != fv->gen) {
        old = busy;
        atomic_compare_exchange_strong(&e->key, &old, key_dropped(busy));
        return false;
    }
    /* Release: readers that see the new data see BUSY, or the new key,
     * when they read the key again (mt__tlb_read). */
    atomic_store_explicit(&e->data, data, memory_order_release);
    return atomic_compare_exchange_strong_explicit(
               &e->key, &busy, key | ((old + 2) & MT__TLB_VER),
               memory_order_release, memory_order_relaxed) &&
           (key & MT__TLB_PAGE);
}

/*
 * @e's key once no filler holds it. Only the filler that set BUSY may end
 * it: its data store is unconditional, so an entry taken from under it
 * could be filled again by another thread and then get this filler's
 * data with the other's key. A filler that set BUSY before the seal
 * either backs out at its second generation check or finishes, in a few
 * instructions and without locks; the writer waits for that (yielding, in
 * case the reader thread was preempted in between).
 */
static uint64_t key_settled(mt_tlb_entry *e)
{
    uint64_t k;

    for (unsigned spins = 0;
         (k = atomic_load(&e->key)) & MT__TLB_BUSY; spins++)
        if (spins >= 64)
            sched_yield();
    return k;
}

/* Empty @e if its tag is @tag. */
static void tlb_drop(mt_tlb_entry *e, uint64_t tag)
{
    uint64_t k = key_settled(e);

    /* Nobody fills while the cache is sealed: a failed swap means only a
     * filler that saw the old generation backing out; look again. */
    while ((k & MT__TLB_TAG) == tag &&
           !atomic_compare_exchange_strong(&e->key, &k, key_dropped(k)))
        k = key_settled(e);
}

/* Keep @e, a slot that held a range entry, only if its record is one of
 * @nv's: records of the old version die with it. */
static void tlb_check_range(mt_flatview *nv, mt_tlb_entry *e)
{
    for (;;) {
        uint64_t k = key_settled(e);
        const mt_flat_range *fr;

        if (!(k & MT__TLB_RANGE))
            return;
        fr = (const mt_flat_range *)atomic_load(&e->data);
        if (atomic_load(&e->key) != k)
            continue;
        if (mt__fvt_lookup(nv->tree, fr->start) == fr ||
            atomic_compare_exchange_strong(&e->key, &k, key_dropped(k)))
            return;
    }
}

/*
 * A commit that patches a view would otherwise leave every reader of the
 * new one to refill a cache from cold (commits back to back: a new view
 * every few microseconds), and copying the cache would make each reader
 * miss on every line it touches. So the new version takes the old one's
 * cache: page entries hold host addresses, not records, and stay true
 * outside the spans where @nv differs from @old; those of the spans are
 * dropped by slot (a slot holds one page at a time), and range entries
 * stay only if their record is also @nv's. The generation changes first:
 * from then on readers of @old use their tree, and @nv is not published
 * yet. Too many changed pages: @nv simply starts cold.
 *
 * Readers of @old keep using the cache until @nv is published: the
 * commit first seals it (no fills: what is left is true of both
 * versions), and mt__fv_tlb_unseal() hands it over just after the view
 * pointer is stored, so the readers who find no entry during a commit are
 * only those of the few instructions between the two stores.
 */
#define MT_TLB_SHARE_MAX_PAGES 4096

bool mt__fv_tlb_share(mt_flatview *nv, mt_flatview *old)
{
    mt_tlb *t = atomic_load_explicit(&old->tlb, memory_order_acquire);
    mt_u128 pages = 0;
    size_t i, w;

    if (!t || atomic_load_explicit(&nv->tlb, memory_order_relaxed) ||
        atomic_load_explicit(&t->gen, memory_order_relaxed) != old->gen)
        return false;
    for (i = 0; i < nv->nr_spans; i++) {
        mt_u128 lo = nv->spans[i].lo >> 12, hi = (nv->spans[i].hi + 4095) >> 12;

        pages += hi - lo;
        if (pages > MT_TLB_SHARE_MAX_PAGES)
            return false;
    }
    atomic_store(&t->gen, old->gen | MT__TLB_SEALED);
    for (i = 0; i < nv->nr_spans; i++) {
        uint64_t p = (uint64_t)(nv->spans[i].lo >> 12);
        uint64_t end = (uint64_t)((nv->spans[i].hi + 4095) >> 12);

        for (; p != end; p++) {
            uint64_t h = mt__tlb_hash(p << 12);

            tlb_drop(mt__tlb_entry(t, h), h << MT__TLB_SHIFT);
        }
    }
    for (w = 0; w < sizeof(t->range_slots) / sizeof(t->range_slots[0]); w++) {
        uint64_t bits = atomic_load(&t->range_slots[w]);

        while (bits) {
            tlb_check_range(nv, &t->e[w * 64 + (size_t)__builtin_ctzll(bits)]);
            bits &= bits - 1;
        }
    }
    atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
    /* Published with @nv itself (a release store of the view pointer). */
    atomic_store_explicit(&nv->tlb, t, memory_order_release);
    return true;
}

void mt__fv_tlb_unseal(mt_flatview *nv)
{
    mt_tlb *t = atomic_load_explicit(&nv->tlb, memory_order_relaxed);

    atomic_store(&t->gen, nv->gen);
}

/*
 * In large views the last range found here for a page whose cache entry
 * holds its host address (so no range) is a second hint, for the callers
 * that need the range (translate, map, GPA to HVA). It is written only
 * when it changes: every accessor reads the view's first cache line.
 */
const mt_flat_range *mt__lookup_miss(mt_flatview *fv, uint64_t addr)
{
    mt_tlb *tlb = atomic_load_explicit(&fv->tlb, memory_order_acquire);
    const mt_flat_range *fr;

    if (tlb) {
        fr = atomic_load_explicit(&fv->mru, memory_order_relaxed);
        if (fr && fr->start <= addr && addr <= fr->last) {
            /* Next time the cache answers (pages of one range in turn). */
            mt__tlb_fill(fv, tlb, addr, fr);
            return fr;
        }
    }
    fr = mt__fvt_lookup(fv->tree, addr);
    if (!fr)
        return NULL;
    if (!tlb && mt__fvt_count(fv->tree) >= MT_TLB_MIN_RANGES &&
        atomic_fetch_add_explicit(&fv->misses, 1, memory_order_relaxed) >=
            MT_TLB_MIN_MISSES)
        tlb = mt__fv_tlb_alloc(fv);
    if (!tlb || (mt__tlb_fill(fv, tlb, addr, fr) &&
                 atomic_load_explicit(&fv->mru, memory_order_relaxed) != fr))
        atomic_store_explicit(&fv->mru, fr, memory_order_relaxed);
    return fr;
}

void mt__flatview_use(mt_flatview *fv, bool use)
{
    if (use) {
        fv->nr_as_users++;
        return;
    }
    /* No address space shows it any more: later changes are not tracked
     * for it, so it must not be patched again. */
    if (--fv->nr_as_users == 0 && fv->root && fv->root->phys_view == fv)
        fv->root->phys_view = NULL;
}

void mt__flatview_set_root_link(mt_region *root, mt_flatview *fv)
{
    root->phys_view = fv;
}

/* A new view with the ranges of @fv but [i, j) replaced by @r[0..k),
 * sharing everything else with @fv (O(k + log n)). */
int mt__fv_replace(mt_ctx *ctx, mt_flatview *fv, size_t i, size_t j,
                   const mt_flat_range *r, size_t k, mt_flatview **out)
{
    mt_flatview *nv = view_alloc(ctx);

    if (!nv || mt__fvt_replace(fv->tree, i, j, r, k, &nv->tree)) {
        mt_flatview_unref(nv);
        return MT_ENOMEM;
    }
    nv->root = mt_region_ref(fv->root);
    *out = nv;
    return 0;
}

/*
 * The region an address space rooted at @root actually renders, so that
 * equal results share one view (QEMU's memory_region_get_flatview_root):
 * follow an enabled alias with offset 0 at least as large as its target,
 * and an enabled container with a single enabled child at address 0 that
 * fits. NULL when nothing can show (disabled, or no enabled child).
 */
mt_region *mt__physical_root(mt_region *mr)
{
    unsigned steps = 0;

    /* Bounded: a container whose only child is a covering alias of the
     * container itself would otherwise loop. */
    while (mr && mr->enabled && steps++ < 64) {
        if (mr->alias) {
            if (mr->alias_offset == 0 && mr->size >= mr->alias->size) {
                mr = mr->alias;
                continue;
            }
        } else if (!mr->terminates) {
            mt_region *child = NULL;
            size_t k;

            if (mr->nr_enabled_subs == 0)
                return NULL;
            if (mr->nr_enabled_subs == 1) {
                for (k = 0; k < mr->nr_slots && !child; k++)
                    if (mr->subs[k].r && mr->subs[k].r->enabled)
                        child = mr->subs[k].r;
                if (child->addr == 0 && mr->size >= child->size) {
                    mr = child;
                    continue;
                }
            }
        }
        return mr;
    }
    return mr && mr->enabled ? mr : NULL;
}

size_t mt_flatview_nr_ranges(const mt_flatview *fv)
{
    return fv ? mt__fv_count(fv) : 0;
}

const mt_flat_range *mt_flatview_range(const mt_flatview *fv, size_t i)
{
    if (!fv)
        return NULL;
    return mt__fvt_at(fv->tree, i);
}

mt_region *mt_flatview_root(const mt_flatview *fv)
{
    return fv ? fv->root : NULL;
}
