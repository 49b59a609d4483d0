/* SPDX-License-Identifier: MIT */
/*
 * update.c: the outermost commit. Re-render only what changed and tell the
 * listeners.
 *
 * 1. Every mutator records the window it changed, in the coordinates of
 *    the region it changed (mt__dirty). At commit the windows travel up
 *    the final tree: through containers (+ address), through the aliases
 *    that show the region (- alias offset), clipped at each level, and
 *    stop at disabled regions. Where they reach the physical root of a
 *    published view, they become dirty windows of that view.
 *    Why this is enough: take an address whose rendering changed, and the
 *    highest region on its old or new path that changed in any way; that
 *    change recorded a window in its container covering the address, and
 *    everything above is unchanged, so the window reaches the view.
 * 2. Each dirty view is patched window by window: render the root clipped
 *    to the window, cut the old ranges at the window's edges, re-merge at
 *    the seams, and splice the result in, giving a new, separate view
 *    object (published views never change).
 * 3. Listeners hear the difference restricted to the spliced spans, which
 *    is exactly the full old/new difference minus unchanged ranges; when a
 *    listener wants region_nop for every unchanged range, the full walk is
 *    used instead.
 * Anything unusual (too many windows, a propagation that does not settle,
 * global dirty-log changes, an address space whose root now reduces to
 * another region) falls back to a full render, which is always correct.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* More dirty windows than this in one view: render it whole. */
#define MAX_WINDOWS 4096

static void record(mt_region *r, mt_u128 lo, mt_u128 hi, bool outer)
{
    mt_ctx *ctx = r->ctx;
    mt_dirty_rec *d;

    if (ctx->full_update || lo >= hi)
        return;
    if (mt__grow(ctx, (void **)&ctx->recs, &ctx->cap_recs, ctx->nr_recs + 1,
                 sizeof(*ctx->recs))) {
        ctx->full_update = true; /* cannot remember: render everything */
        return;
    }
    d = &ctx->recs[ctx->nr_recs++];
    d->r = mt_region_ref(r);
    d->lo = lo;
    d->hi = hi;
    d->outer = outer;
}

/*
 * Record the change on @r itself (for the views and aliases that show it)
 * and in its current container: containment may change again before the
 * commit, and the window must reach the views through the tree as it was
 * when the region showed there.
 */
void mt__dirty(mt_region *r, mt_u128 lo, mt_u128 hi, bool outer)
{
    r->ctx->update_pending = true;
    record(r, lo, hi, outer);
    if (r->container)
        record(r->container, (mt_u128)r->addr + lo, (mt_u128)r->addr + hi,
               false);
}

void mt__dirty_all(mt_ctx *ctx)
{
    ctx->update_pending = true;
    ctx->full_update = true;
}

/* Add window [lo, hi) (view addresses) to the view rendered from @r. */
static void add_window(mt_ctx *ctx, mt_flatview *fv, mt_i128 lo, mt_i128 hi)
{
    if (lo < 0)
        lo = 0;
    if (hi > (mt_i128)MT_2_64)
        hi = (mt_i128)MT_2_64;
    if (lo >= hi || fv->pend_full)
        return;
    if (fv->nr_pend >= MAX_WINDOWS ||
        mt__grow(ctx, (void **)&fv->pend, &fv->cap_pend, fv->nr_pend + 1,
                 sizeof(*fv->pend))) {
        fv->pend_full = true;
        return;
    }
    fv->pend[fv->nr_pend].lo = (mt_u128)lo;
    fv->pend[fv->nr_pend].hi = (mt_u128)hi;
    fv->nr_pend++;
}

typedef struct work_item {
    mt_region *r;
    mt_i128 lo, hi;   /* in r's own coordinates */
    bool first;
} work_item;

/* Carry one record up the tree (see the file comment). */
static int propagate(mt_ctx *ctx, const mt_dirty_rec *d, uint64_t *budget)
{
    work_item *stack = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;

    if (mt__grow(ctx, (void **)&stack, &cap, 8, sizeof(*stack)))
        return MT_ENOMEM;
    stack[n++] = (work_item){ d->r, (mt_i128)d->lo, (mt_i128)d->hi, true };
    while (n) {
        work_item w = stack[--n];
        mt_region *r = w.r;

        if (!r->enabled && !(w.first && d->outer))
            continue;
        if (!w.first) {
            if (w.lo < 0)
                w.lo = 0;
            if (w.hi > (mt_i128)r->size)
                w.hi = (mt_i128)r->size;
        }
        if (w.lo >= w.hi)
            continue;
        if ((*budget)-- == 0) {
            rc = MT_ERANGE; /* does not settle: render everything */
            break;
        }
        if (r->phys_view)
            add_window(ctx, r->phys_view, w.lo + r->addr, w.hi + r->addr);
        if (mt__grow(ctx, (void **)&stack, &cap, n + 1 + r->nr_aliased_by,
                     sizeof(*stack))) {
            rc = MT_ENOMEM;
            break;
        }
        if (r->container)
            stack[n++] = (work_item){ r->container, w.lo + r->addr,
                                      w.hi + r->addr, false };
        for (size_t k = 0; k < r->nr_aliased_by; k++) {
            mt_region *a = r->aliased_by[k];

            stack[n++] = (work_item){ a, w.lo - (mt_i128)a->alias_offset,
                                      w.hi - (mt_i128)a->alias_offset,
                                      false };
        }
    }
    mt__free(ctx, stack);
    return rc;
}

/* Turn the records into dirty windows of the published views. */
static void propagate_all(mt_ctx *ctx)
{
    uint64_t budget = 64 * (uint64_t)(ctx->nr_regions + 16) + 4096;
    size_t i;

    for (i = 0; i < ctx->nr_recs && !ctx->full_update; i++)
        if (propagate(ctx, &ctx->recs[i], &budget))
            ctx->full_update = true;
    for (i = 0; i < ctx->nr_recs; i++)
        mt_region_unref(ctx->recs[i].r);
    ctx->nr_recs = 0;
}

static int cmp_win(const void *a, const void *b)
{
    const mt_window *x = a, *y = b;

    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Sort and merge a view's dirty windows (touching ones too). */
static void normalize_windows(mt_flatview *fv)
{
    size_t out = 0, i;

    qsort(fv->pend, fv->nr_pend, sizeof(*fv->pend), cmp_win);
    for (i = 0; i < fv->nr_pend; i++) {
        if (out && fv->pend[i].lo <= fv->pend[out - 1].hi) {
            if (fv->pend[i].hi > fv->pend[out - 1].hi)
                fv->pend[out - 1].hi = fv->pend[i].hi;
        } else {
            fv->pend[out++] = fv->pend[i];
        }
    }
    fv->nr_pend = out;
}

/* Append @fr to @out (capacity ensured), merging with the last entry. */
static void push_merged(mt_flat_range *out, size_t *n, const mt_flat_range *fr)
{
    if (*n && mt__can_merge(&out[*n - 1], fr))
        out[*n - 1].last = fr->last;
    else
        out[(*n)++] = *fr;
}

/*
 * Patch @fv over window [lo, hi) into *@out (a new version); record the
 * address span replaced in @span.
 */
static int patch_window(mt_ctx *ctx, mt_flatview *fv, mt_u128 lo, mt_u128 hi,
                        mt_flatview **out, mt_window *span)
{
    mt_flat_range *pieces = NULL, *repl = NULL;
    size_t np = 0, nr = 0, i, j, count = mt__fv_count(fv), k;
    uint64_t a = (uint64_t)lo, b = (uint64_t)(hi - 1); /* inclusive */
    int rc;

    rc = mt__render_ranges(ctx, fv->root, lo, hi, &pieces, &np);
    if (rc)
        return rc;
    i = mt__fv_lower(fv, a);
    for (j = i; j < count && mt__fv_at(fv, j)->start <= b; j++)
        ;
    repl = mt__alloc(ctx, (np + 2) * sizeof(*repl));
    if (!repl) {
        mt__free(ctx, pieces);
        return MT_ENOMEM;
    }
    if (i < j && mt__fv_at(fv, i)->start < a) {
        mt_flat_range left = *mt__fv_at(fv, i);

        left.last = a - 1;
        push_merged(repl, &nr, &left);
    }
    for (k = 0; k < np; k++)
        push_merged(repl, &nr, &pieces[k]);
    if (i < j && mt__fv_at(fv, j - 1)->last > b) {
        mt_flat_range right = *mt__fv_at(fv, j - 1);

        right.offset += b + 1 - right.start;
        if (right.host)
            right.host = (uint8_t *)right.host + (b + 1 - right.start);
        right.start = b + 1;
        push_merged(repl, &nr, &right);
    }
    /* Seams with the untouched neighbours. */
    if (nr && i > 0 && mt__can_merge(mt__fv_at(fv, i - 1), &repl[0])) {
        uint64_t last = repl[0].last;

        repl[0] = *mt__fv_at(fv, i - 1);
        repl[0].last = last;
        i--;
    }
    if (nr && j < count && mt__can_merge(&repl[nr - 1], mt__fv_at(fv, j))) {
        repl[nr - 1].last = mt__fv_at(fv, j)->last;
        j++;
    }
    span->lo = a;
    span->hi = hi;
    if (i < j && mt__fv_at(fv, i)->start < span->lo)
        span->lo = mt__fv_at(fv, i)->start;
    if (nr && repl[0].start < span->lo)
        span->lo = repl[0].start;
    if (i < j && (mt_u128)mt__fv_at(fv, j - 1)->last + 1 > span->hi)
        span->hi = (mt_u128)mt__fv_at(fv, j - 1)->last + 1;
    if (nr && (mt_u128)repl[nr - 1].last + 1 > span->hi)
        span->hi = (mt_u128)repl[nr - 1].last + 1;
    rc = mt__fv_replace(ctx, fv, i, j, repl, nr, out);
    mt__free(ctx, repl);
    mt__free(ctx, pieces);
    return rc;
}

/* Append @s to @spans, merging with the last one if they meet. */
static int add_span(mt_ctx *ctx, mt_window **spans, size_t *n, size_t *cap,
                    const mt_window *s)
{
    if (*n && s->lo <= (*spans)[*n - 1].hi) {
        if (s->hi > (*spans)[*n - 1].hi)
            (*spans)[*n - 1].hi = s->hi;
        return 0;
    }
    if (mt__grow(ctx, (void **)spans, cap, *n + 1, sizeof(**spans)))
        return MT_ENOMEM;
    (*spans)[(*n)++] = *s;
    return 0;
}

/*
 * The next version of @old, which has dirty windows: a new view object
 * that remembers it was derived from @old and which address spans differ.
 */
static int patch_view(mt_ctx *ctx, mt_flatview *old, mt_flatview **out)
{
    mt_window *spans = NULL;
    size_t ns = 0, cap = 0, w;
    mt_flatview *cur = old;
    int rc = 0;

    normalize_windows(old);
    mt__flatview_ref(cur);
    for (w = 0; w < old->nr_pend && rc == 0; w++) {
        mt_flatview *next;
        mt_window span;

        rc = patch_window(ctx, cur, old->pend[w].lo, old->pend[w].hi, &next,
                          &span);
        if (rc)
            break;
        mt_flatview_unref(cur);
        cur = next;
        rc = add_span(ctx, &spans, &ns, &cap, &span);
    }
    if (rc) {
        mt_flatview_unref(cur);
        mt__free(ctx, spans);
        return rc;
    }
    if (cur != old) {
        mt__flatview_ref(old); /* kept until settle() */
        cur->derived_from = old;
        cur->spans = spans;
        cur->nr_spans = ns;
    } else {
        mt__free(ctx, spans);
    }
    *out = cur;
    return 0;
}

/* The view an address space with physical root @phys shows next. */
static int next_view(mt_ctx *ctx, mt_region *phys, mt_flatview **out)
{
    mt_flatview *old = phys ? phys->phys_view : NULL;

    if (!phys) {
        mt__flatview_ref(ctx->empty_view);
        *out = ctx->empty_view;
        return 0;
    }
    if (old && !ctx->full_update && !old->pend_full) {
        if (old->nr_pend == 0) {
            mt__flatview_ref(old);
            *out = old;
            return 0;
        }
        return patch_view(ctx, old, out);
    }
    return mt__flatview_render(ctx, phys, out);
}

/* Does any listener of @as want region_nop? Then diffs walk everything. */
static bool wants_nops(const mt_as *as)
{
    const mt_ctx *ctx = as->ctx;

    for (size_t i = 0; i < ctx->nr_listeners; i++)
        if (ctx->listeners[i]->as == as && ctx->listeners[i]->ops.region_nop)
            return true;
    return false;
}

/* Views computed for one commit, one per distinct physical root. */
typedef struct view_cache {
    mt_region **roots;
    mt_flatview **views;
    size_t n;
} view_cache;

static int cached_next(mt_ctx *ctx, view_cache *vc, mt_region *phys,
                       mt_flatview **out)
{
    size_t i;
    int rc;

    for (i = 0; i < vc->n; i++) {
        if (vc->roots[i] == phys) {
            *out = vc->views[i];
            return 0;
        }
    }
    rc = next_view(ctx, phys, out);
    if (rc)
        return rc;
    vc->roots[vc->n] = phys;
    vc->views[vc->n++] = *out;
    return 0;
}

static void notify_all(mt_ctx *ctx, bool begin)
{
    for (size_t i = 0; i < ctx->nr_listeners; i++) {
        mt_listener *l = ctx->listeners[i];

        if (begin && l->ops.begin)
            l->ops.begin(l->opaque);
        else if (!begin && l->ops.commit)
            l->ops.commit(l->opaque);
    }
}

/* Forget the per-commit bookkeeping of the views involved. */
static void settle(mt_ctx *ctx, view_cache *vc)
{
    for (size_t i = 0; i < vc->n; i++) {
        mt_flatview *fv = vc->views[i];
        mt_flatview *old = fv->derived_from;

        if (old) {
            old->nr_pend = 0;
            old->pend_full = false;
            mt_flatview_unref(old);
        } else if (vc->roots[i] && vc->roots[i]->phys_view &&
                   vc->roots[i]->phys_view != fv) {
            vc->roots[i]->phys_view->nr_pend = 0;
            vc->roots[i]->phys_view->pend_full = false;
        }
        fv->derived_from = NULL;
        mt__free(ctx, fv->spans);
        fv->spans = NULL;
        fv->nr_spans = 0;
        fv->nr_pend = 0;
        fv->pend_full = false;
        if (vc->roots[i])
            mt__flatview_set_root_link(vc->roots[i], fv);
    }
}

int mt__as_update_all(mt_ctx *ctx)
{
    view_cache vc = { NULL, NULL, 0 };
    mt_flatview **next;
    size_t i;
    int rc = MT_ENOMEM;

    propagate_all(ctx);
    if (ctx->nr_as == 0) {
        ctx->full_update = false;
        return 0;
    }
    vc.roots = mt__alloc(ctx, ctx->nr_as * sizeof(*vc.roots));
    vc.views = mt__alloc(ctx, ctx->nr_as * sizeof(*vc.views));
    next = mt__alloc(ctx, ctx->nr_as * sizeof(*next));
    if (!vc.roots || !vc.views || !next)
        goto out;
    for (i = 0; i < ctx->nr_as; i++) {
        rc = cached_next(ctx, &vc, mt__physical_root(ctx->as[i]->root),
                         &next[i]);
        if (rc)
            goto out;
    }
    /* Publish and tell the listeners, as QEMU does: begin for everyone,
     * then address space by address space, then commit for everyone. */
    notify_all(ctx, true);
    for (i = 0; i < ctx->nr_as; i++) {
        mt_as *as = ctx->as[i];
        mt_flatview *old = as->view;
        bool changed = old != next[i], shared = false;

        mt__flatview_ref(next[i]);
        if (changed) {
            mt__flatview_use(next[i], true);
            mt__flatview_use(old, false);
            /* The lookup cache goes on to the new version. */
            shared = next[i]->derived_from == old &&
                     mt__fv_tlb_share(next[i], old);
        }
        as->view = next[i];
        if (shared)
            mt__fv_tlb_unseal(next[i]);
        if (!changed) {
            if (wants_nops(as))
                mt__as_renew(as);
        } else if (next[i]->derived_from == old && !wants_nops(as)) {
            mt__as_diff_spans(as, old, next[i]);
        } else {
            mt__as_diff(as, old, next[i]);
        }
        mt_flatview_unref(old);
        if ((changed || ctx->ioeventfd_pending) &&
            mt__as_update_ioeventfds(as))
            rc = MT_ENOMEM; /* views are published; eventfds retry */
    }
    notify_all(ctx, false);
    settle(ctx, &vc);
    ctx->full_update = false;
    if (rc == MT_ENOMEM)
        ctx->ioeventfd_pending = true;
    else
        ctx->ioeventfd_pending = false;
    rc = rc == MT_ENOMEM ? rc : 0;
out:
    /* Drop the cache's own references (the published views keep theirs). */
    for (i = 0; i < vc.n; i++)
        mt_flatview_unref(vc.views[i]);
    mt__free(ctx, vc.roots);
    mt__free(ctx, vc.views);
    mt__free(ctx, next);
    return rc;
}
