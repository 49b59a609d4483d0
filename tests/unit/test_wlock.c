/* SPDX-License-Identifier: MIT */
/*
 * test_wlock.c: the writer lock is fair (src/wlock.c). A thread that lets
 * go of it and asks again at once comes after a thread already waiting;
 * through the public API, a thread committing back to back does not keep
 * another thread's transaction waiting.
 */
#include "mt_testutil.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

#include "internal.h" /* mt_wlock */

static unsigned sleepers(mt_wlock *l)
{
    unsigned n;

    pthread_mutex_lock(&l->m);
    n = l->sleepers;
    pthread_mutex_unlock(&l->m);
    return n;
}

/* cmocka's assertions belong to the main thread: other threads record. */
typedef struct order_log {
    mt_wlock *lock;
    atomic_uint next;
    char who[4];
    atomic_bool b_not_owner;    /* B did not see itself as the owner */
} order_log;

static void log_turn(order_log *o, char who)
{
    o->who[atomic_fetch_add(&o->next, 1)] = who;
}

static void *waiter_main(void *arg)
{
    order_log *o = arg;

    mt__wlock_acquire(o->lock);
    if (!mt__wlock_mine(o->lock))
        atomic_store(&o->b_not_owner, true);
    log_turn(o, 'B');
    mt__wlock_release(o->lock);
    return NULL;
}

/* A holds the lock, B waits; A lets go and asks again at once: B first. */
static void test_waiting_thread_goes_first(void **state)
{
    mt_wlock lock;
    order_log o = { .lock = &lock };
    pthread_t b;

    (void)state;
    MT_OK(mt__wlock_init(&lock));
    assert_false(mt__wlock_mine(&lock));
    mt__wlock_acquire(&lock);
    assert_true(mt__wlock_mine(&lock));
    assert_int_equal(pthread_create(&b, NULL, waiter_main, &o), 0);
    while (sleepers(&lock) != 1)
        sched_yield();
    mt__wlock_release(&lock);
    assert_false(mt__wlock_mine(&lock));
    mt__wlock_acquire(&lock);
    log_turn(&o, 'A');
    mt__wlock_release(&lock);
    assert_int_equal(pthread_join(b, NULL), 0);
    assert_int_equal(atomic_load(&o.next), 2);
    assert_memory_equal(o.who, "BA", 2);
    assert_false(atomic_load(&o.b_not_owner));
    mt__wlock_destroy(&lock);
}

/* ---- the same through the API ------------------------------------------ */

typedef struct race {
    mt_ctx *ctx;
    mt_region *toggle;
    atomic_bool stop;
    atomic_ulong commits;   /* the back-to-back committer's */
    atomic_int failed;      /* its first error */
} race;

static void *committer_main(void *arg)
{
    race *r = arg;
    bool on = false;

    while (!atomic_load(&r->stop)) {
        int rc = mt_region_set_enabled(r->toggle, on);

        if (rc) {
            atomic_store(&r->failed, rc);
            break;
        }
        on = !on;
        atomic_fetch_add(&r->commits, 1);
    }
    return NULL;
}

/* Spin for about @ns nanoseconds, outside any lock. */
static void busy_ns(long ns)
{
    struct timespec t0, t;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    do
        clock_gettime(CLOCK_MONOTONIC, &t);
    while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) <
           ns);
}

/*
 * One thread commits without pause (each commit one hold of the lock).
 * This one, now and then, opens a transaction: it must get its turn after
 * the hold in progress (and at most one more that asked at the same
 * moment), not after however many the committer manages to take back
 * first. Counted in the committer's commits while mt_begin waits, over 200
 * transactions; a moment descheduled can spoil a few, so the check is on
 * the nine-tenths of them.
 */
static void test_back_to_back_committer_does_not_starve_others(void **state)
{
    enum { N = 200 };
    unsigned long waited[N], c0;
    race r = { 0 };
    mt_region *root, *mine;
    unsigned quick = 0;
    pthread_t t;
    mt_as *as;

    (void)state;
    r.ctx = t_ctx();
    root = t_container(r.ctx, "root", MT_SIZE_FULL);
    r.toggle = t_ram(r.ctx, "toggle", 0x1000);
    t_map(root, 0x100000, r.toggle);
    mine = t_ram(r.ctx, "mine", 0x1000);
    t_map(root, 0x200000, mine);
    as = t_as(r.ctx, root, "memory");
    assert_int_equal(pthread_create(&t, NULL, committer_main, &r), 0);
    while (atomic_load(&r.commits) < 10 && !atomic_load(&r.failed))
        sched_yield();
    for (int i = 0; i < N; i++) {
        busy_ns(20000); /* the committer has the lock by now */
        c0 = atomic_load(&r.commits);
        mt_begin(r.ctx);
        waited[i] = atomic_load(&r.commits) - c0;
        MT_OK(mt_region_set_address(mine, 0x200000 + (i & 1) * 0x1000));
        MT_OK(mt_commit(r.ctx));
    }
    atomic_store(&r.stop, true);
    assert_int_equal(pthread_join(t, NULL), 0);
    MT_OK(atomic_load(&r.failed));
    for (int i = 0; i < N; i++)
        quick += waited[i] <= 2;
    print_message("%u of %d transactions waited for at most 2 commits of a "
                  "back-to-back committer\n", quick, N);
    assert_true(quick >= N * 9 / 10);
    (void)as;
    mt_region_unref(r.toggle);
    mt_region_unref(mine);
    mt_region_unref(root);
    mt_ctx_free(r.ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_waiting_thread_goes_first),
        cmocka_unit_test(test_back_to_back_committer_does_not_starve_others),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
