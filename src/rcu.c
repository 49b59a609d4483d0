/* SPDX-License-Identifier: MIT */
/*
 * rcu.c: the writer lock and the reclamation of flat views.
 *
 * Readers (accesses, translations, maps) take no lock: they enter an RCU
 * read-side section (liburcu's bulletproof flavour, so threads need no
 * registration), load the address space's view and use it. Writers hold
 * the context's recursive writer lock (its outermost level is the fair
 * lock of wlock.c); a commit publishes new views with a release store and
 * drops the old ones.
 *
 * A view whose count falls to zero goes on ctx->retired. When a thread lets
 * go of the last level of the writer lock, the retired views become one
 * batch, handed to call_rcu(); its callback only marks the batch done (it
 * never touches the context), and the next writer to let go of the lock
 * frees the views of done batches, oldest first. Writers therefore never
 * wait for readers: a reader may block on a writer (a device callback
 * waiting for the main loop to remap something) without deadlock.
 *
 * mt_ctx_synchronize() and mt_ctx_free() do wait, for one grace period,
 * then free everything retired before it themselves: a batch whose
 * callback has not run yet is marked orphaned and the callback frees just
 * its small record (libc memory, so it may outlive the context).
 */
#include <errno.h>
#include <stdlib.h>

#include "internal.h"

enum { BATCH_PENDING, BATCH_DONE, BATCH_ORPHANED };

struct mt_rcu_batch {
    struct rcu_head head;
    _Atomic int state;
    uint64_t seq;
    mt_flatview *views;             /* chained by retired_next */
    struct mt_rcu_batch *next;      /* ctx->batches, under the lock */
};

void mt__lock(mt_ctx *ctx)
{
    if (!mt__wlock_mine(&ctx->lock))
        mt__wlock_acquire(&ctx->lock);
    ctx->lock_depth++;
}

/* Let go of one level, without the batching of mt__unlock(). */
static void lock_drop(mt_ctx *ctx)
{
    if (--ctx->lock_depth == 0)
        mt__wlock_release(&ctx->lock);
}

mt_ctx *mt__lock_get(mt_ctx *ctx)
{
    if (ctx)
        mt__lock(ctx);
    return ctx;
}

#ifdef MT_TSAN
#include <sanitizer/tsan_interface.h>
/* The batch record reaches liburcu's thread through a queue TSan cannot
 * see: tell it the hand-off orders the record's setup before the callback. */
#define TSAN_HANDOFF(b) __tsan_release(b)
#define TSAN_RECEIVED(b) __tsan_acquire(b)

/* Every reader section that could see the views about to be freed ended
 * before the grace period did; this acquire shows TSan that order. */
static void tsan_grace_passed(mt_ctx *ctx)
{
    (void)atomic_load_explicit(&ctx->tsan_epoch, memory_order_acquire);
}
#else
#define TSAN_HANDOFF(b) ((void)(b))
#define TSAN_RECEIVED(b) ((void)(b))
static void tsan_grace_passed(mt_ctx *ctx)
{
    (void)ctx;
}
#endif

static void destroy_list(mt_flatview *fv)
{
    while (fv) {
        mt_flatview *next = fv->retired_next;

        mt__view_destroy(fv);
        fv = next;
    }
}

/* call_rcu callback, on liburcu's thread: the batch's readers are gone. */
static void batch_grace_done(struct rcu_head *head)
{
    struct mt_rcu_batch *b = caa_container_of(head, struct mt_rcu_batch,
                                              head);
    int expected = BATCH_PENDING;

    TSAN_RECEIVED(b);
    if (!atomic_compare_exchange_strong_explicit(&b->state, &expected,
                                                 BATCH_DONE,
                                                 memory_order_acq_rel,
                                                 memory_order_acquire))
        free(b); /* orphaned: its views were freed without waiting for us */
}

/* Turn ctx->retired into a batch waiting for a grace period (lock held).
 * Without memory for the record, the views wait for a later try. */
static void queue_batch(mt_ctx *ctx)
{
    struct mt_rcu_batch *b = malloc(sizeof(*b));

    if (!b)
        return;
    /* An atomic store (not atomic_init): the callback thread gets the
     * record through liburcu's queue, which TSan cannot see. */
    atomic_store_explicit(&b->state, BATCH_PENDING, memory_order_release);
    b->seq = ++ctx->batch_seq;
    b->views = ctx->retired;
    b->next = NULL;
    ctx->retired = NULL;
    if (ctx->batches_tail)
        ctx->batches_tail->next = b;
    else
        ctx->batches = b;
    ctx->batches_tail = b;
    TSAN_HANDOFF(b);
    urcu_bp_call_rcu(&b->head, batch_grace_done);
}

static void unlink_head(mt_ctx *ctx)
{
    ctx->batches = ctx->batches->next;
    if (!ctx->batches)
        ctx->batches_tail = NULL;
}

static bool head_done(mt_ctx *ctx)
{
    return ctx->batches &&
           atomic_load_explicit(&ctx->batches->state,
                                memory_order_acquire) == BATCH_DONE;
}

/* Free the views of the batches whose grace period has passed, oldest
 * first (lock held). Returns whether anything was freed. */
static bool free_done_batches(mt_ctx *ctx)
{
    bool any = false;

    while (head_done(ctx)) {
        struct mt_rcu_batch *b = ctx->batches;

        unlink_head(ctx);
        tsan_grace_passed(ctx);
        destroy_list(b->views);
        free(b);
        any = true;
    }
    return any;
}

void mt__unlock(mt_ctx *ctx)
{
    if (ctx->lock_depth > 1 || (!ctx->retired && !head_done(ctx))) {
        lock_drop(ctx);
        return;
    }
    /* The last level, with work. The depth stays 1 meanwhile, so the
     * lock/unlock pairs of the destroy paths do not come back here. */
    do {
        if (ctx->retired)
            queue_batch(ctx);
    } while (free_done_batches(ctx)); /* freeing may retire more views */
    lock_drop(ctx);
}

void mt_read_lock(mt_ctx *ctx)
{
    if (ctx)
        mt__read_lock(ctx);
}

void mt_read_unlock(mt_ctx *ctx)
{
    if (ctx)
        mt__read_unlock(ctx);
}

void mt__view_retire(mt_flatview *fv)
{
    mt_ctx *ctx = fv->ctx;

    mt__lock(ctx);
    fv->retired_next = ctx->retired;
    ctx->retired = fv;
    mt__unlock(ctx);
}

void mt__reclaim_all(mt_ctx *ctx)
{
    for (;;) {
        mt_flatview *loose;
        uint64_t upto;
        bool pending;

        /* What is retired now is what this grace period covers. */
        mt__lock(ctx);
        loose = ctx->retired;
        ctx->retired = NULL;
        upto = ctx->batch_seq;
        pending = ctx->batches != NULL;
        lock_drop(ctx); /* without batching: nothing is retired */
        if (!loose && !pending)
            return;
        urcu_bp_synchronize_rcu();
        mt__lock(ctx);
        tsan_grace_passed(ctx);
        destroy_list(loose);
        while (ctx->batches && ctx->batches->seq <= upto) {
            struct mt_rcu_batch *b = ctx->batches;
            mt_flatview *views = b->views;
            int expected = BATCH_PENDING;

            unlink_head(ctx);
            /* After a successful orphaning the callback owns the record. */
            if (!atomic_compare_exchange_strong_explicit(
                    &b->state, &expected, BATCH_ORPHANED,
                    memory_order_acq_rel, memory_order_acquire))
                free(b);
            destroy_list(views);
        }
        mt__unlock(ctx); /* may batch views the frees retired: go again */
    }
}

int mt_ctx_synchronize(mt_ctx *ctx)
{
    if (!ctx)
        return MT_EINVAL;
    if (urcu_bp_read_ongoing())
        return MT_ESTATE; /* the grace period would include our section */
    /* Inside a transaction or a listener hook the writer lock would be
     * held while waiting: a device callback of another thread waiting for
     * it (a BAR move) would hold its read-side section open for ever. */
    if (mt__wlock_mine(&ctx->lock))
        return MT_ESTATE;
    mt__reclaim_all(ctx);
    return 0;
}

