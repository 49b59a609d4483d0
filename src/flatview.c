/* SPDX-License-Identifier: MIT */
/*
 * flatview.c: flat view objects (immutable once published, reference
 * counted, holding a reference on every region they show) and the
 * reduction of an address-space root to the region actually rendered,
 * which lets address spaces share one view.
 */
#include <string.h>

#include "internal.h"

static mt_flatview *view_alloc(mt_ctx *ctx)
{
    mt_flatview *fv = mt__zalloc(ctx, sizeof(*fv));

    if (!fv)
        return NULL;
    fv->ctx = ctx;
    fv->refcount = 1;
    fv->all_next = ctx->views;
    if (ctx->views)
        ctx->views->all_prev = fv;
    ctx->views = fv;
    return fv;
}

int mt__flatview_new_empty(mt_ctx *ctx, mt_flatview **out)
{
    *out = view_alloc(ctx);
    return *out ? 0 : MT_ENOMEM;
}

int mt__flatview_render(mt_ctx *ctx, mt_region *phys_root, mt_flatview **out)
{
    mt_flatview *fv;
    size_t i;
    int rc;

    if (!phys_root) {
        mt__flatview_ref(ctx->empty_view);
        *out = ctx->empty_view;
        return 0;
    }
    fv = view_alloc(ctx);
    if (!fv)
        return MT_ENOMEM;
    rc = mt__render_ranges(ctx, phys_root, 0, MT_2_64, &fv->ranges,
                           &fv->nr_ranges);
    if (rc) {
        fv->nr_ranges = 0;
        mt_flatview_unref(fv);
        return rc;
    }
    fv->starts = mt__alloc(ctx, fv->nr_ranges * sizeof(*fv->starts));
    if (!fv->starts) {
        mt__free(ctx, fv->ranges);
        fv->ranges = NULL;
        fv->nr_ranges = 0;
        mt_flatview_unref(fv);
        return MT_ENOMEM;
    }
    fv->root = mt_region_ref(phys_root);
    for (i = 0; i < fv->nr_ranges; i++) {
        fv->starts[i] = fv->ranges[i].start;
        mt_region_ref(fv->ranges[i].region);
    }
    *out = fv;
    return 0;
}

void mt__flatview_ref(mt_flatview *fv)
{
    fv->refcount++;
}

void mt_flatview_unref(mt_flatview *fv)
{
    mt_ctx *ctx;
    size_t i;

    if (!fv || --fv->refcount)
        return;
    ctx = fv->ctx;
    if (fv->all_prev)
        fv->all_prev->all_next = fv->all_next;
    else
        ctx->views = fv->all_next;
    if (fv->all_next)
        fv->all_next->all_prev = fv->all_prev;
    for (i = 0; i < fv->nr_ranges; i++)
        mt_region_unref(fv->ranges[i].region);
    if (fv->root && fv->root->phys_view == fv)
        fv->root->phys_view = NULL;
    mt_flatview_unref(fv->derived_from);
    mt_region_unref(fv->root);
    mt__free(ctx, fv->starts);
    mt__free(ctx, fv->ranges);
    mt__free(ctx, fv->pend);
    mt__free(ctx, fv->spans);
    mt__free(ctx, fv);
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

/*
 * A new view with the ranges of @fv but [i, j) replaced by @r[0..k).
 * Array storage: O(n) copy.
 */
int mt__fv_replace(mt_ctx *ctx, mt_flatview *fv, size_t i, size_t j,
                   const mt_flat_range *r, size_t k, mt_flatview **out)
{
    size_t n = fv->nr_ranges - (j - i) + k, x;
    mt_flatview *nv = view_alloc(ctx);

    if (!nv)
        return MT_ENOMEM;
    nv->ranges = mt__alloc(ctx, n * sizeof(*nv->ranges));
    nv->starts = mt__alloc(ctx, n * sizeof(*nv->starts));
    if (!nv->ranges || !nv->starts) {
        mt_flatview_unref(nv);
        return MT_ENOMEM;
    }
    memcpy(nv->ranges, fv->ranges, i * sizeof(*nv->ranges));
    memcpy(nv->ranges + i, r, k * sizeof(*nv->ranges));
    memcpy(nv->ranges + i + k, fv->ranges + j,
           (fv->nr_ranges - j) * sizeof(*nv->ranges));
    nv->nr_ranges = n;
    nv->root = mt_region_ref(fv->root);
    for (x = 0; x < n; x++) {
        nv->starts[x] = nv->ranges[x].start;
        mt_region_ref(nv->ranges[x].region);
    }
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

size_t mt__fv_lower(const mt_flatview *fv, uint64_t addr)
{
    size_t lo = 0, hi = fv->nr_ranges;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (fv->ranges[mid].last < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

size_t mt_flatview_nr_ranges(const mt_flatview *fv)
{
    return fv ? fv->nr_ranges : 0;
}

const mt_flat_range *mt_flatview_range(const mt_flatview *fv, size_t i)
{
    if (!fv || i >= fv->nr_ranges)
        return NULL;
    return &fv->ranges[i];
}

mt_region *mt_flatview_root(const mt_flatview *fv)
{
    return fv ? fv->root : NULL;
}
