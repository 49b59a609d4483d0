/* SPDX-License-Identifier: MIT */
/*
 * wlock.c: the writer lock's outermost level, a fair (first come, first
 * served) lock.
 *
 * A plain mutex lets the thread that just released it take it straight
 * back: a thread committing back to back (a migration loop, a test) could
 * then keep a vCPU whose device callback wants to move a BAR waiting for
 * as long as it likes. Here every thread that asks takes a ticket and the
 * lock goes to tickets in order; a small mutex and a condition variable
 * guard the counters, and are held only while they change. Uncontended,
 * taking and letting go costs two lock/unlock pairs of that mutex.
 *
 * Nesting (transactions, mutators inside them) is counted by the caller
 * (mt_ctx.lock_depth, rcu.c); only the owner's outermost level comes here.
 */
#include <errno.h>

#include "internal.h"

/* A tag per thread: the address of a thread-local byte. */
static _Thread_local char thread_tag;

int mt__wlock_init(mt_wlock *l)
{
    int rc = pthread_mutex_init(&l->m, NULL);

    if (rc == 0) {
        rc = pthread_cond_init(&l->cv, NULL);
        if (rc)
            pthread_mutex_destroy(&l->m);
    }
    if (rc)
        return rc == ENOMEM ? MT_ENOMEM : MT_EINVAL;
    l->next = l->serving = 0;
    l->sleepers = 0;
    atomic_init(&l->owner, NULL);
    return 0;
}

void mt__wlock_destroy(mt_wlock *l)
{
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->m);
}

bool mt__wlock_mine(mt_wlock *l)
{
    /* Only this thread ever stores its own tag, and it stores NULL before
     * letting go: it cannot read its tag back unless it holds the lock. */
    return atomic_load_explicit(&l->owner, memory_order_relaxed) ==
           &thread_tag;
}

void mt__wlock_acquire(mt_wlock *l)
{
    uint64_t ticket;

    pthread_mutex_lock(&l->m);
    ticket = l->next++;
    while (ticket != l->serving) {
        l->sleepers++;
        pthread_cond_wait(&l->cv, &l->m);
        l->sleepers--;
    }
    pthread_mutex_unlock(&l->m);
    atomic_store_explicit(&l->owner, &thread_tag, memory_order_relaxed);
}

void mt__wlock_release(mt_wlock *l)
{
    atomic_store_explicit(&l->owner, NULL, memory_order_relaxed);
    pthread_mutex_lock(&l->m);
    l->serving++;
    /* Everyone waiting wakes; the holder of the next ticket goes on. */
    if (l->sleepers)
        pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->m);
}
