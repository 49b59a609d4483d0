/* SPDX-License-Identifier: MIT */
/*
 * listener.c: registering listeners and delivering the difference between
 * two flat views of an address space as region/log events, in QEMU 7.2's
 * order (see mt_listener_ops in memtree.h).
 *
 * Listeners of a context live in one array sorted by ascending priority,
 * equal priorities in registration order. "Forward" walks it up, "reverse"
 * down, each time skipping listeners of other address spaces.
 */
#include <string.h>

#include "internal.h"

/* Ranges equal for the diff: everything but the dirty-log mask. */
static bool range_equal(const mt_flat_range *a, const mt_flat_range *b)
{
    return a->start == b->start && a->last == b->last &&
           a->region == b->region && a->offset == b->offset &&
           a->readonly == b->readonly && a->nonvolatile == b->nonvolatile &&
           a->romd == b->romd;
}

static void region_del(mt_as *as, const mt_flat_range *fr)
{
    mt_ctx *ctx = as->ctx;

    mt__coalesced_del(as, fr);
    for (size_t i = ctx->nr_listeners; i-- > 0;) {
        mt_listener *l = ctx->listeners[i];

        if (mt__listens(l, as) && l->ops.region_del)
            l->ops.region_del(l->opaque, fr);
    }
}

static void region_add(mt_as *as, const mt_flat_range *fr)
{
    mt_ctx *ctx = as->ctx;

    for (size_t i = 0; i < ctx->nr_listeners; i++) {
        mt_listener *l = ctx->listeners[i];

        if (mt__listens(l, as) && l->ops.region_add)
            l->ops.region_add(l->opaque, fr);
    }
    mt__coalesced_add(as, fr);
}

/* An unchanged range: region_nop, then log_start/log_stop where the mask
 * gained or lost clients. */
static void region_nop(mt_as *as, const mt_flat_range *old,
                       const mt_flat_range *fr)
{
    mt_ctx *ctx = as->ctx;
    unsigned om = old->dirty_log_mask, nm = fr->dirty_log_mask;

    for (size_t i = 0; i < ctx->nr_listeners; i++) {
        mt_listener *l = ctx->listeners[i];

        if (mt__listens(l, as) && l->ops.region_nop)
            l->ops.region_nop(l->opaque, fr);
    }
    if (nm & ~om) {
        for (size_t i = 0; i < ctx->nr_listeners; i++) {
            mt_listener *l = ctx->listeners[i];

            if (mt__listens(l, as) && l->ops.log_start)
                l->ops.log_start(l->opaque, fr, om, nm);
        }
    }
    if (om & ~nm) {
        for (size_t i = ctx->nr_listeners; i-- > 0;) {
            mt_listener *l = ctx->listeners[i];

            if (mt__listens(l, as) && l->ops.log_stop)
                l->ops.log_stop(l->opaque, fr, om, nm);
        }
    }
}

/*
 * Merge walk over the ranges of both sorted views that start in [lo, hi),
 * once removing (@adding false) and once adding, so that every removal
 * precedes every addition.
 */
static void diff_pass(mt_as *as, const mt_flatview *old,
                      const mt_flatview *new_, mt_u128 lo, mt_u128 hi,
                      bool adding)
{
    size_t no = old ? mt__fv_count(old) : 0;
    size_t nn = new_ ? mt__fv_count(new_) : 0;
    size_t i = old && lo ? mt__fv_lower(old, (uint64_t)lo) : 0;
    size_t j = new_ && lo ? mt__fv_lower(new_, (uint64_t)lo) : 0;

    for (;;) {
        const mt_flat_range *o = i < no ? mt__fv_at(old, i) : NULL;
        const mt_flat_range *n = j < nn ? mt__fv_at(new_, j) : NULL;

        if (o && (mt_u128)o->start >= hi)
            o = NULL;
        if (n && (mt_u128)n->start >= hi)
            n = NULL;
        if (!o && !n)
            break;
        if (o && (!n || o->start < n->start ||
                  (o->start == n->start && !range_equal(o, n)))) {
            if (!adding)
                region_del(as, o);
            i++;
        } else if (o && n && range_equal(o, n)) {
            if (adding)
                region_nop(as, o, n);
            i++;
            j++;
        } else {
            if (adding)
                region_add(as, n);
            j++;
        }
    }
}

void mt__as_diff(mt_as *as, const mt_flatview *old, const mt_flatview *new_)
{
    if (old == new_)
        return;
    diff_pass(as, old, new_, 0, MT_2_64, false);
    diff_pass(as, old, new_, 0, MT_2_64, true);
}

void mt__as_renew(mt_as *as)
{
    /* QEMU renders every view anew at each commit, so its listeners hear
     * region_nop for every range even when nothing changed. */
    diff_pass(as, as->view, as->view, 0, MT_2_64, true);
}

void mt__as_diff_spans(mt_as *as, const mt_flatview *old,
                       const mt_flatview *new_)
{
    size_t k;

    for (k = 0; k < new_->nr_spans; k++)
        diff_pass(as, old, new_, new_->spans[k].lo, new_->spans[k].hi, false);
    for (k = 0; k < new_->nr_spans; k++)
        diff_pass(as, old, new_, new_->spans[k].lo, new_->spans[k].hi, true);
}

static int listener_pos(const mt_ctx *ctx, int priority)
{
    size_t pos = ctx->nr_listeners;

    while (pos > 0 && ctx->listeners[pos - 1]->ops.priority > priority)
        pos--;
    return (int)pos;
}

int mt_listener_register(mt_as *as, const mt_listener_ops *ops, void *opaque,
                         mt_listener **out)
{
    mt_ctx *ctx;
    mt_listener *l;
    size_t pos, i;
    int rc;

    if (!as || !ops || !out)
        return MT_EINVAL;
    MT_LOCKED(as->ctx);
    ctx = as->ctx;
    rc = mt__grow(ctx, (void **)&ctx->listeners, &ctx->cap_listeners,
                  ctx->nr_listeners + 1, sizeof(*ctx->listeners));
    if (rc)
        return rc;
    l = mt__zalloc(ctx, sizeof(*l));
    if (!l)
        return MT_ENOMEM;
    l->ctx = ctx;
    l->as = as;
    l->ops = *ops;
    l->opaque = opaque;
    pos = (size_t)listener_pos(ctx, ops->priority);
    memmove(&ctx->listeners[pos + 1], &ctx->listeners[pos],
            (ctx->nr_listeners - pos) * sizeof(*ctx->listeners));
    ctx->listeners[pos] = l;
    ctx->nr_listeners++;

    /* Replay the current view to this listener alone. */
    if (ops->begin)
        ops->begin(opaque);
    if (ctx->dirty_log_users && ops->log_global_start)
        ops->log_global_start(opaque);
    for (i = 0; i < mt__fv_count(as->view); i++) {
        const mt_flat_range *fr = mt__fv_at(as->view, i);

        if (ops->region_add)
            ops->region_add(opaque, fr);
        if (fr->dirty_log_mask && ops->log_start)
            ops->log_start(opaque, fr, 0, fr->dirty_log_mask);
    }
    if (ops->commit)
        ops->commit(opaque);
    *out = l;
    return 0;
}

void mt_listener_unregister(mt_listener *l)
{
    mt_ctx *ctx;
    mt_as *as;
    size_t i;

    if (!l)
        return;
    MT_LOCKED(l->ctx);
    ctx = l->ctx;
    as = l->as;
    if (l->ops.begin)
        l->ops.begin(l->opaque);
    for (i = 0; i < mt__fv_count(as->view); i++) {
        const mt_flat_range *fr = mt__fv_at(as->view, i);

        if (fr->dirty_log_mask && l->ops.log_stop)
            l->ops.log_stop(l->opaque, fr, fr->dirty_log_mask, 0);
        if (l->ops.region_del)
            l->ops.region_del(l->opaque, fr);
    }
    if (l->ops.commit)
        l->ops.commit(l->opaque);
    for (i = 0; i < ctx->nr_listeners; i++) {
        if (ctx->listeners[i] == l) {
            memmove(&ctx->listeners[i], &ctx->listeners[i + 1],
                    (ctx->nr_listeners - i - 1) * sizeof(*ctx->listeners));
            ctx->nr_listeners--;
            break;
        }
    }
    mt__free(ctx, l);
}

void mt__as_drop_listeners(mt_as *as)
{
    mt_ctx *ctx = as->ctx;
    size_t i = ctx->nr_listeners;

    /* Highest priority first, like QEMU's reverse order for removals. */
    while (i-- > 0) {
        if (i < ctx->nr_listeners && ctx->listeners[i]->as == as)
            mt_listener_unregister(ctx->listeners[i]);
    }
}

int mt_as_log_sync(mt_as *as, mt_region *r)
{
    mt_ctx *ctx;
    size_t i, k;

    if (!as)
        return MT_EINVAL;
    MT_LOCKED(as->ctx);
    ctx = as->ctx;
    /* Listener by listener, each over all its logged ranges (QEMU's
     * memory_region_sync_dirty_bitmap). */
    for (k = 0; k < ctx->nr_listeners; k++) {
        mt_listener *l = ctx->listeners[k];

        if (!mt__listens(l, as) || !l->ops.log_sync)
            continue;
        for (i = 0; i < mt__fv_count(as->view); i++) {
            const mt_flat_range *fr = mt__fv_at(as->view, i);

            if (fr->dirty_log_mask && (!r || fr->region == r))
                l->ops.log_sync(l->opaque, fr);
        }
    }
    return 0;
}

static int set_global_log(mt_ctx *ctx, bool start)
{
    size_t i;
    int rc;

    mt_begin(ctx);
    if (start) {
        for (i = 0; i < ctx->nr_listeners; i++)
            if (ctx->listeners[i]->ops.log_global_start)
                ctx->listeners[i]->ops.log_global_start(
                    ctx->listeners[i]->opaque);
    }
    __atomic_store_n(&ctx->global_dirty_log, start, __ATOMIC_RELAXED);
    mt__dirty_all(ctx);
    rc = mt_commit(ctx);
    if (!start) {
        for (i = ctx->nr_listeners; i-- > 0;)
            if (ctx->listeners[i]->ops.log_global_stop)
                ctx->listeners[i]->ops.log_global_stop(
                    ctx->listeners[i]->opaque);
    }
    return rc;
}

int mt_ctx_dirty_log_start(mt_ctx *ctx)
{
    if (!ctx)
        return MT_EINVAL;
    MT_LOCKED(ctx);
    if (ctx->dirty_log_users++ > 0)
        return 0;
    return set_global_log(ctx, true);
}

int mt_ctx_dirty_log_stop(mt_ctx *ctx)
{
    if (!ctx)
        return MT_EINVAL;
    MT_LOCKED(ctx);
    if (ctx->dirty_log_users == 0)
        return MT_ESTATE;
    if (--ctx->dirty_log_users > 0)
        return 0;
    return set_global_log(ctx, false);
}
