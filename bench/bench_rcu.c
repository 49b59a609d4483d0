/* SPDX-License-Identifier: MIT */
/*
 * bench_rcu.c: workload `rcu`, the cost of lock-free readers (issue 7).
 *
 * Layout of C1: N = 1000 RAM regions of 4 KiB at BASE + i * 64 KiB, plus
 * one more 4 KiB RAM region far from them ("toggle"). 1e6 pre-generated
 * random 8-byte-aligned addresses in the N regions.
 *
 *  rcu_read8_ns_idle           mt_as_load of 8 bytes at those addresses,
 *                              nothing else running; ns per load.
 *  rcu_read8_ns_under_updates  the same while another thread commits
 *                              without pause, each commit enabling or
 *                              disabling "toggle" (never read): every
 *                              commit publishes a new view, whose lookup
 *                              caches start cold.
 *  rcu_update_us               mean time of those commits (one
 *                              mt_region_set_enabled call each) while the
 *                              reader runs.
 *  rcu_read8_ns_beside_churn   control: the same reads while the other
 *                              thread runs no memtree code, only a loop of
 *                              malloc, memset and free of 16 KiB (what the
 *                              reader loses to a busy neighbour on this
 *                              machine: shared caches, memory bandwidth,
 *                              the hypervisor).
 *
 * Medians of 7 rounds after one discarded warm-up round; the writer runs
 * during every round of the second series, and its figure covers exactly
 * those rounds. The machine needs two CPUs for the figures to mean much.
 * A comment line gives the same medians by the reader thread's CPU time,
 * which a loaded machine disturbs less (time spent descheduled is not
 * counted).
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#include <memtree.h>

#include "bench.h"

#define BASE     0x10000000ull
#define STRIDE   0x10000ull
#define RSIZE    0x1000ull
#define NREG     1000u
#define TOGGLE   0x80000000ull
#define NACC     1000000u
#define REPS     7u

static uint64_t raddrs[NACC];
static volatile uint64_t rcu_sink;      /* the reader's */
static volatile uint64_t churn_sink;    /* the control thread's */

struct rcu_bench {
    mt_ctx *ctx;
    mt_as *as;
    mt_region *toggle;
    atomic_bool stop;
    atomic_bool started;
    bool churn;              /* the other thread: commits, or the control */
    atomic_ullong commits;
    atomic_ullong commit_ns;
};

static void setup(struct rcu_bench *b)
{
    mt_region *root, *r;
    uint64_t seed = 0x243F6A8885A308D3ull;

    BENCH_CHECK(mt_ctx_new(&b->ctx, NULL));
    BENCH_CHECK(mt_region_new_container(b->ctx, "system", MT_SIZE_FULL,
                                        &root));
    for (unsigned i = 0; i < NREG; i++) {
        char name[32];

        snprintf(name, sizeof(name), "ram%u", i);
        BENCH_CHECK(mt_region_new_ram(b->ctx, name, RSIZE, &r));
        BENCH_CHECK(mt_region_add_subregion(root, BASE + i * STRIDE, r));
        mt_region_unref(r);
    }
    BENCH_CHECK(mt_region_new_ram(b->ctx, "toggle", RSIZE, &b->toggle));
    BENCH_CHECK(mt_region_add_subregion(root, TOGGLE, b->toggle));
    BENCH_CHECK(mt_as_new(b->ctx, root, "memory", &b->as));
    mt_region_unref(root);
    for (unsigned i = 0; i < NACC; i++) {
        uint64_t x = bench_rng(&seed);

        raddrs[i] = BASE + (x % NREG) * STRIDE + ((x >> 32) % (RSIZE / 8)) * 8;
    }
}

/* The control's unit of work: allocator and memory traffic, no memtree. */
static void churn_once(void)
{
    void *p = malloc(16384);

    if (!p)
        BENCH_FAIL("rcu: out of memory");
    memset(p, 0x5a, 16384);
    churn_sink = ((volatile uint8_t *)p)[4096];
    free(p);
}

static void *writer_main(void *arg)
{
    struct rcu_bench *b = arg;
    bool on = true;

    while (!atomic_load_explicit(&b->stop, memory_order_relaxed)) {
        uint64_t t0 = bench_now_ns(), t1;

        if (b->churn) {
            churn_once();
        } else {
            on = !on;
            BENCH_CHECK(mt_region_set_enabled(b->toggle, on));
        }
        t1 = bench_now_ns();
        atomic_fetch_add_explicit(&b->commit_ns, t1 - t0,
                                  memory_order_relaxed);
        atomic_fetch_add_explicit(&b->commits, 1, memory_order_relaxed);
        atomic_store_explicit(&b->started, true, memory_order_relaxed);
    }
    return NULL;
}

/* The reader thread's CPU time in nanoseconds. */
static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* One round of @n loads: picoseconds per load (for the median), by the
 * wall clock; *@cpu_ps by the thread's CPU time (what the reader spent,
 * not the time it was descheduled on a loaded machine). */
static uint64_t round_ps(struct rcu_bench *b, unsigned n, uint64_t *cpu_ps)
{
    const mt_attrs attrs = MT_ATTRS_UNSPECIFIED;
    mt_result res = MT_TX_OK;
    uint64_t v, acc = 0, t0, t1, c0, c1;

    c0 = thread_cpu_ns();
    t0 = bench_now_ns();
    for (unsigned i = 0; i < n; i++) {
        res |= mt_as_load(b->as, raddrs[i], 8, MT_ENDIAN_LITTLE, attrs, &v);
        acc += v;
    }
    t1 = bench_now_ns();
    c1 = thread_cpu_ns();
    rcu_sink = acc;
    if (res != MT_TX_OK)
        BENCH_FAIL("rcu: a load returned %#x", res);
    *cpu_ps = (c1 - c0) * 1000 / n;
    return (t1 - t0) * 1000 / n;
}

/* Warm-up, then REPS rounds; median ns per load (wall clock), and in
 * *@cpu the median by CPU time. */
static double series(struct rcu_bench *b, unsigned n, double *cpu)
{
    uint64_t ps[REPS], cps[REPS], dummy;

    (void)round_ps(b, n, &dummy);
    for (unsigned r = 0; r < REPS; r++)
        ps[r] = round_ps(b, n, &cps[r]);
    *cpu = (double)bench_median(cps, REPS) / 1000.0;
    return (double)bench_median(ps, REPS) / 1000.0;
}

/* Start the other thread, run a series of reads beside it, stop it. The
 * thread's work count and time cover exactly the series. */
static double beside(struct rcu_bench *b, unsigned n, bool churn,
                     unsigned long long *works, unsigned long long *ns,
                     double *cpu)
{
    unsigned long long c0, ns0;
    double r;
    pthread_t t;

    b->churn = churn;
    atomic_store(&b->stop, false);
    atomic_store(&b->started, false);
    if (pthread_create(&t, NULL, writer_main, b))
        BENCH_FAIL("rcu: pthread_create failed");
    while (!atomic_load_explicit(&b->started, memory_order_relaxed))
        sched_yield();
    /* On a loaded machine (make check runs tests in parallel) a short
     * series may see the other thread never scheduled: run it again. */
    for (unsigned tries = 0; tries < 20; tries++) {
        c0 = atomic_load(&b->commits);
        ns0 = atomic_load(&b->commit_ns);
        r = series(b, n, cpu);
        *works = atomic_load(&b->commits) - c0;
        *ns = atomic_load(&b->commit_ns) - ns0;
        if (*works)
            break;
    }
    atomic_store(&b->stop, true);
    pthread_join(t, NULL);
    return r;
}

void bench_rcu(void)
{
    struct rcu_bench b = { 0 };
    unsigned n = (unsigned)bench_count(NACC);
    unsigned long long commits, commit_ns, churns, churn_ns;
    double idle, busy, control, idle_cpu, busy_cpu, control_cpu;

    printf("# rcu: 8-byte mt_as_load over %u x 4 KiB RAM regions, idle and "
           "while another thread commits without pause (toggling an "
           "unrelated region); medians of %u rounds of %u loads\n", NREG,
           REPS, n);
    setup(&b);
    idle = series(&b, n, &idle_cpu);
    bench_report("rcu_read8_ns_idle", idle, "ns");

    busy = beside(&b, n, false, &commits, &commit_ns, &busy_cpu);
    bench_report("rcu_read8_ns_under_updates", busy, "ns");
    if (!commits)
        BENCH_FAIL("rcu: the writer never committed during 20 series of "
                   "reads (was it ever scheduled?)");
    bench_report("rcu_update_us", (double)commit_ns / 1e3 / (double)commits,
                 "us");

    control = beside(&b, n, true, &churns, &churn_ns, &control_cpu);
    bench_report("rcu_read8_ns_beside_churn", control, "ns");
    printf("# rcu: %llu commits during the reads; under updates / idle = "
           "%.2f; beside the churn loop (%.2f us per 16 KiB malloc+memset+"
           "free) / idle = %.2f\n", commits, busy / idle,
           churns ? (double)churn_ns / 1e3 / (double)churns : 0.0,
           control / idle);
    printf("# rcu: by the reader's CPU time (what it spent, not the time it "
           "was descheduled): idle %.3f ns, under updates %.3f ns (%.2f x), "
           "beside the churn loop %.3f ns (%.2f x)\n", idle_cpu, busy_cpu,
           busy_cpu / idle_cpu, control_cpu, control_cpu / idle_cpu);
    mt_ctx_free(b.ctx);
}
