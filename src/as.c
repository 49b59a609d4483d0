/* SPDX-License-Identifier: MIT */
/*
 * as.c: address spaces, and publishing their flat views at the outermost
 * commit. Address spaces whose roots reduce to the same region share one
 * view; the views are rendered first and published only once every one of
 * them succeeded, so a failed commit leaves the old views in place.
 */
#include <string.h>

#include "internal.h"

int mt_as_new(mt_ctx *ctx, mt_region *root, const char *name, mt_as **out)
{
    mt_as *as;
    int rc;

    if (!ctx || !root || !out || root->ctx != ctx)
        return MT_EINVAL;
    *out = NULL;
    rc = mt__grow(ctx, (void **)&ctx->as, &ctx->cap_as, ctx->nr_as + 1,
                  sizeof(*ctx->as));
    if (rc)
        return rc;
    as = mt__zalloc(ctx, sizeof(*as));
    if (!as)
        return MT_ENOMEM;
    as->name = mt__strdup(ctx, name ? name : "anonymous");
    if (!as->name) {
        mt__free(ctx, as);
        return MT_ENOMEM;
    }
    as->ctx = ctx;
    as->root = mt_region_ref(root);
    mt__flatview_ref(ctx->empty_view);
    as->view = ctx->empty_view;
    as->bounce_budget = 4096;
    ctx->as[ctx->nr_as++] = as;
    *out = as;
    /* Render now (or at the outermost commit). A failed render leaves the
     * address space valid, showing the empty view until a later commit. */
    mt_begin(ctx);
    mt__mark_pending(ctx);
    return mt_commit(ctx);
}

void mt_as_free(mt_as *as)
{
    mt_ctx *ctx;
    size_t i;

    if (!as)
        return;
    ctx = as->ctx;
    for (i = 0; i < ctx->nr_as; i++) {
        if (ctx->as[i] == as) {
            memmove(&ctx->as[i], &ctx->as[i + 1],
                    (ctx->nr_as - i - 1) * sizeof(*ctx->as));
            ctx->nr_as--;
            break;
        }
    }
    mt__as_drop_listeners(as);
    mt__as_drop_mappings(as);
    mt__free(ctx, as->ioeventfds);
    mt_flatview_unref(as->view);
    mt_region_unref(as->root);
    mt__free(ctx, as->name);
    mt__free(ctx, as);
}

const char *mt_as_name(const mt_as *as)
{
    return as ? as->name : NULL;
}

mt_region *mt_as_root(const mt_as *as)
{
    return as ? as->root : NULL;
}

size_t mt_ctx_nr_as(const mt_ctx *ctx)
{
    return ctx ? ctx->nr_as : 0;
}

mt_as *mt_ctx_as(const mt_ctx *ctx, size_t i)
{
    if (!ctx || i >= ctx->nr_as)
        return NULL;
    return ctx->as[i];
}

mt_flatview *mt_as_flatview(mt_as *as)
{
    if (!as)
        return NULL;
    mt__flatview_ref(as->view);
    return as->view;
}

/* Views rendered during one update, one per distinct physical root. */
typedef struct view_cache {
    mt_region **roots;
    mt_flatview **views;
    size_t n;
} view_cache;

static int cached_render(mt_ctx *ctx, view_cache *vc, mt_region *root,
                         mt_flatview **out)
{
    mt_region *phys = mt__physical_root(root);
    size_t i;
    int rc;

    for (i = 0; i < vc->n; i++) {
        if (vc->roots[i] == phys) {
            *out = vc->views[i];
            return 0;
        }
    }
    rc = mt__flatview_render(ctx, phys, out);
    if (rc)
        return rc;
    vc->roots[vc->n] = phys;
    vc->views[vc->n++] = *out;
    return 0;
}

int mt__as_update_all(mt_ctx *ctx)
{
    view_cache vc = { NULL, NULL, 0 };
    mt_flatview **next;
    size_t i;
    int rc = MT_ENOMEM;

    if (ctx->nr_as == 0)
        return 0;
    vc.roots = mt__alloc(ctx, ctx->nr_as * sizeof(*vc.roots));
    vc.views = mt__alloc(ctx, ctx->nr_as * sizeof(*vc.views));
    next = mt__alloc(ctx, ctx->nr_as * sizeof(*next));
    if (!vc.roots || !vc.views || !next)
        goto out;
    for (i = 0; i < ctx->nr_as; i++) {
        rc = cached_render(ctx, &vc, ctx->as[i]->root, &next[i]);
        if (rc)
            goto out;
    }
    /* Publish and tell the listeners, as QEMU does: begin for everyone,
     * then address space by address space, then commit for everyone. */
    for (i = 0; i < ctx->nr_listeners; i++)
        if (ctx->listeners[i]->ops.begin)
            ctx->listeners[i]->ops.begin(ctx->listeners[i]->opaque);
    rc = 0;
    for (i = 0; i < ctx->nr_as; i++) {
        mt_as *as = ctx->as[i];
        mt_flatview *old = as->view;

        mt__flatview_ref(next[i]);
        as->view = next[i];
        mt__as_diff(as, old, next[i]);
        mt_flatview_unref(old);
        if (mt__as_update_ioeventfds(as))
            rc = MT_ENOMEM; /* the views are published; eventfds retry */
    }
    for (i = 0; i < ctx->nr_listeners; i++)
        if (ctx->listeners[i]->ops.commit)
            ctx->listeners[i]->ops.commit(ctx->listeners[i]->opaque);
out:
    /* Drop the cache's own references (the published views keep theirs). */
    for (i = 0; i < vc.n; i++)
        mt_flatview_unref(vc.views[i]);
    mt__free(ctx, vc.roots);
    mt__free(ctx, vc.views);
    mt__free(ctx, next);
    return rc;
}
