/* SPDX-License-Identifier: MIT */
/*
 * as.c: address spaces: creation, destruction and inspection. Their views
 * are computed and published at the outermost commit (update.c).
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
    MT_LOCKED(ctx);
    rc = mt__grow(ctx, (void **)&ctx->as, &ctx->cap_as, ctx->nr_as + 1,
                  sizeof(*ctx->as));
    if (rc)
        return rc;
    as = mt__zalloc(ctx, sizeof(*as));
    if (!as)
        return MT_ENOMEM;
    as->name = mt__strdup(ctx, name ? name : "anonymous");
    if (!as->name || pthread_mutex_init(&as->map_lock, NULL)) {
        mt__free(ctx, as->name);
        mt__free(ctx, as);
        return MT_ENOMEM;
    }
    as->ctx = ctx;
    as->root = mt_region_ref(root);
    mt__flatview_ref(ctx->empty_view);
    mt__flatview_use(ctx->empty_view, true);
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
    MT_LOCKED(ctx);
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
    mt__flatview_use(as->view, false);
    mt_flatview_unref(as->view);
    mt_region_unref(as->root);
    pthread_mutex_destroy(&as->map_lock);
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
    if (!ctx)
        return 0;
    MT_LOCKED((mt_ctx *)ctx);
    return ctx->nr_as;
}

mt_as *mt_ctx_as(const mt_ctx *ctx, size_t i)
{
    if (!ctx)
        return NULL;
    MT_LOCKED((mt_ctx *)ctx);
    if (i >= ctx->nr_as)
        return NULL;
    return ctx->as[i];
}

mt_flatview *mt_as_flatview(mt_as *as)
{
    mt_flatview *fv;

    if (!as)
        return NULL;
    /* Lock-free: the view published now, unless a commit retires it
     * between the load and the reference; then the newer one. */
    mt__read_lock(as->ctx);
    do
        fv = mt__as_view(as);
    while (!mt__flatview_tryref(fv));
    mt__read_unlock(as->ctx);
    return fv;
}
