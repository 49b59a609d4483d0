/* SPDX-License-Identifier: MIT */
/*
 * ctx.c: the context (allocation hooks, object lists) and transactions.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static void *libc_alloc(void *opaque, size_t size)
{
    (void)opaque;
    return malloc(size);
}

static void *libc_realloc(void *opaque, void *ptr, size_t size)
{
    (void)opaque;
    return realloc(ptr, size);
}

static void libc_free(void *opaque, void *ptr)
{
    (void)opaque;
    free(ptr);
}

void *mt__alloc(mt_ctx *ctx, size_t size)
{
    return ctx->alloc.alloc(ctx->alloc.opaque, size ? size : 1);
}

void *mt__zalloc(mt_ctx *ctx, size_t size)
{
    void *p = mt__alloc(ctx, size);

    if (p)
        memset(p, 0, size);
    return p;
}

void *mt__realloc(mt_ctx *ctx, void *ptr, size_t size)
{
    return ctx->alloc.realloc(ctx->alloc.opaque, ptr, size ? size : 1);
}

void mt__free(mt_ctx *ctx, void *ptr)
{
    if (ptr)
        ctx->alloc.free(ctx->alloc.opaque, ptr);
}

char *mt__strdup(mt_ctx *ctx, const char *s)
{
    size_t n;
    char *p;

    if (!s)
        return NULL;
    n = strlen(s) + 1;
    p = mt__alloc(ctx, n);
    if (p)
        memcpy(p, s, n);
    return p;
}

int mt__grow(mt_ctx *ctx, void **arr, size_t *cap, size_t need, size_t elem)
{
    size_t ncap;
    void *p;

    if (need <= *cap)
        return 0;
    ncap = *cap ? *cap : 4;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2 / elem)
            return MT_ENOMEM;
        ncap *= 2;
    }
    p = mt__realloc(ctx, *arr, ncap * elem);
    if (!p)
        return MT_ENOMEM;
    *arr = p;
    *cap = ncap;
    return 0;
}

int mt_ctx_new(mt_ctx **out, const mt_allocator *alloc)
{
    mt_allocator a = { libc_alloc, libc_realloc, libc_free, NULL };
    mt_ctx *ctx;
    int rc;

    if (!out)
        return MT_EINVAL;
    *out = NULL;
    if (alloc) {
        if (!alloc->alloc || !alloc->realloc || !alloc->free)
            return MT_EINVAL;
        a = *alloc;
    }
    ctx = a.alloc(a.opaque, sizeof(*ctx));
    if (!ctx)
        return MT_ENOMEM;
    memset(ctx, 0, sizeof(*ctx));
    ctx->alloc = a;
    rc = mt__wlock_init(&ctx->lock);
    if (rc) {
        a.free(a.opaque, ctx);
        return rc;
    }
    rc = mt__flatview_new_empty(ctx, &ctx->empty_view);
    if (rc) {
        mt__reclaim_all(ctx); /* the half-built view's grace period */
        mt__wlock_destroy(&ctx->lock);
        a.free(a.opaque, ctx);
        return rc;
    }
    *out = ctx;
    return 0;
}

void mt_ctx_free(mt_ctx *ctx)
{
    if (!ctx)
        return;
    /* Transactions the calling thread left open are abandoned: their lock
     * levels go (nothing else may use the context now). */
    if (ctx->lock_depth && mt__wlock_mine(&ctx->lock)) {
        ctx->lock_depth = 0;
        mt__wlock_release(&ctx->lock);
    }
    ctx->depth = 0;
    while (ctx->nr_as)
        mt_as_free(ctx->as[ctx->nr_as - 1]);
    /* Views dropped so far (and by the commits before) wait for their
     * grace period: let it pass, then free them the normal way. */
    mt__reclaim_all(ctx);
    mt__free(ctx, ctx->as);
    mt__free(ctx, ctx->listeners);
    for (size_t i = 0; i < ctx->nr_recs; i++)
        mt_region_unref(ctx->recs[i].r);
    mt__free(ctx, ctx->recs);
    /* Views the caller still holds, then regions whatever their counts:
     * everything goes, without reference bookkeeping. */
    while (ctx->views) {
        mt_flatview *fv = ctx->views;

        ctx->views = fv->all_next;
        mt__fvt_free(fv->tree);
        mt__tlb_unref(ctx, atomic_load_explicit(&fv->tlb,
                                                memory_order_relaxed));
        mt__free(ctx, fv->pend);
        mt__free(ctx, fv->spans);
        mt__free(ctx, fv);
    }
    ctx->dying = true;
    mt__fvt_free(ctx->ram_offsets);
    mt__fvt_free(ctx->ram_hosts);
    ctx->ram_offsets = ctx->ram_hosts = NULL;
    /* Unlink all containment first so each destroy is O(1). */
    for (mt_region *r = ctx->regions; r; r = r->all_next) {
        r->container = NULL;
        r->nr_slots = r->nr_subs = 0;
    }
    while (ctx->regions)
        mt__region_destroy(ctx->regions);
    mt__wlock_destroy(&ctx->lock);
    ctx->alloc.free(ctx->alloc.opaque, ctx);
}

void mt__mark_pending(mt_ctx *ctx)
{
    ctx->update_pending = true;
}

/* A transaction holds the writer lock from mt_begin to its mt_commit: one
 * lock level per open transaction. */
void mt_begin(mt_ctx *ctx)
{
    if (!ctx)
        return;
    mt__lock(ctx);
    ctx->depth++;
}

int mt_commit(mt_ctx *ctx)
{
    int rc = 0;

    if (!ctx)
        return MT_EINVAL;
    mt__lock(ctx);
    if (ctx->depth == 0) {
        mt__unlock(ctx);
        return MT_ESTATE;
    }
    if (ctx->depth == 1 && ctx->update_pending) {
        /* Render with the transaction still open, so that nothing done
         * while publishing can start a nested render. */
        rc = mt__as_update_all(ctx);
        if (rc == 0)
            ctx->update_pending = false;
    } else if (ctx->depth == 1 && ctx->ioeventfd_pending) {
        for (size_t i = 0; i < ctx->nr_as && rc == 0; i++)
            rc = mt__as_update_ioeventfds(ctx->as[i]);
        if (rc == 0)
            ctx->ioeventfd_pending = false;
    }
    ctx->depth--;
    mt__unlock(ctx); /* this call's */
    mt__unlock(ctx); /* the transaction's, taken by mt_begin */
    return rc;
}

unsigned mt_transaction_depth(const mt_ctx *ctx)
{
    unsigned d;

    if (!ctx)
        return 0;
    mt__lock((mt_ctx *)ctx);
    d = ctx->depth;
    mt__unlock((mt_ctx *)ctx);
    return d;
}
