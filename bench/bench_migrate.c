/* SPDX-License-Identifier: MIT */
/*
 * bench_migrate.c: the migrate workload. A 1 GiB guest (every page holding
 * data) is migrated live to a second context of the same process through
 * a Unix socket, received on a thread of its own, while a "guest" thread
 * dirties memory at a steady rate: 8-byte stores through the access path
 * to random pages, RATE_MIB MiB of pages a second, paced every
 * millisecond. The source runs the full pass, then passes of dirtied
 * pages until at most SMALL_PAGES remain (or MAX_PASSES passes), then
 * pauses the guest thread (the stop point), sends a 2 KiB record standing
 * for the vCPU state and completes. Figures, medians of ROUNDS rounds:
 *
 *   migrate_downtime_ms_1g    stop point -> destination loaded (the time
 *                             the guest is stopped)
 *   migrate_dirty_rate_mib_s  the rate the guest thread reached
 *   migrate_total_ms_1g       start -> destination loaded
 *   migrate_passes_1g         passes, the full and the last one included
 *   migrate_last_pages_1g     pages of the last pass (during the downtime)
 *   migrate_full_pass_mib_s   throughput of the full pass
 *   migrate_downtime_ms_1g_idle  the same downtime with an idle guest
 *
 * After every round the destination's memory must equal the source's.
 * --quick uses 16 MiB and one round (the names stay; the figures then mean
 * nothing).
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memtree.h>

#include "bench.h"

#define MIB (1ull << 20)
#define ROUNDS 5
#define RATE_MIB 128u
#define SMALL_PAGES 256u
#define MAX_PASSES 30u

typedef struct guest {
    mt_ctx *ctx;
    mt_region *ram;
    mt_as *as;
    uint64_t npages;
} guest;

static void build(guest *g, uint64_t size)
{
    mt_region *sys;

    g->npages = size / MT_DIRTY_PAGE_SIZE;
    if (mt_ctx_new(&g->ctx, NULL) ||
        mt_region_new_container(g->ctx, "system", MT_SIZE_FULL, &sys) ||
        mt_region_new_ram(g->ctx, "ram", size, &g->ram) ||
        mt_region_add_subregion(sys, 0, g->ram) ||
        mt_as_new(g->ctx, sys, "memory", &g->as))
        BENCH_FAIL("setup");
    mt_region_unref(sys);
}

/* ---- the guest thread ------------------------------------------------------- */

typedef struct writer {
    pthread_t thread;
    guest *g;
    uint64_t pages_per_ms;
    atomic_bool quit;
    atomic_bool pause_req;      /* stop at once, and say so in paused */
    atomic_bool paused;
    atomic_ullong written;      /* pages written while running */
    atomic_ullong run_ns;       /* time spent running */
} writer;

static void *writer_main(void *arg)
{
    writer *w = arg;
    uint64_t seed = 0x6d696772, next = bench_now_ns(), since = next;

    while (!atomic_load(&w->quit)) {
        if (atomic_load(&w->pause_req)) {
            atomic_fetch_add(&w->run_ns, bench_now_ns() - since);
            atomic_store(&w->paused, true);
            while (atomic_load(&w->pause_req) && !atomic_load(&w->quit))
                usleep(50);
            atomic_store(&w->paused, false);
            next = since = bench_now_ns();
            continue;
        }
        for (uint64_t i = 0; i < w->pages_per_ms; i++) {
            uint64_t x = bench_rng(&seed);
            uint64_t addr = (x % w->g->npages) * MT_DIRTY_PAGE_SIZE +
                            (x >> 55) * 8;

            if (mt_as_store(w->g->as, addr, 8, MT_ENDIAN_LITTLE,
                            MT_ATTRS_UNSPECIFIED, x) != MT_TX_OK)
                BENCH_FAIL("store at %#llx", (unsigned long long)addr);
        }
        atomic_fetch_add(&w->written, w->pages_per_ms);
        next += 1000000;
        for (uint64_t t = bench_now_ns(); t < next && !atomic_load(&w->pause_req);
             t = bench_now_ns())
            usleep(next - t > 200000 ? 200 : (unsigned)((next - t) / 1000));
    }
    return NULL;
}

static void writer_pause(writer *w)
{
    atomic_store(&w->pause_req, true);
    while (!atomic_load(&w->paused))
        ;
}

static void writer_resume(writer *w)
{
    atomic_store(&w->pause_req, false);
    while (atomic_load(&w->paused))
        usleep(10);
}

/* ---- the destination thread ------------------------------------------------- */

typedef struct receiver {
    pthread_t thread;
    int fd;
    guest *g;
    int rc;
    mt_migrate_error err;
} receiver;

static void *receiver_main(void *arg)
{
    receiver *r = arg;
    mt_migrate_dst *dst;

    r->rc = mt_migrate_dst_new(r->fd, NULL, &dst);
    if (!r->rc)
        r->rc = mt_migrate_dst_load(dst, r->g->ctx, &r->err);
    mt_migrate_dst_free(dst);
    return NULL;
}

/* ---- one migration ----------------------------------------------------------- */

typedef struct result {
    uint64_t downtime_ns, total_ns, full_ns, passes, last_pages;
} result;

static result migrate(guest *a, guest *b, writer *w)
{
    static uint8_t vcpu[2048];
    receiver rcv = { .g = b };
    mt_migrate_src *src;
    mt_migrate_error err;
    mt_migrate_stats st;
    uint64_t remaining = UINT64_MAX, t0, t_stop;
    result res;
    int sv[2];

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
        BENCH_FAIL("socketpair");
    rcv.fd = sv[1];
    if (pthread_create(&rcv.thread, NULL, receiver_main, &rcv))
        BENCH_FAIL("pthread_create");
    t0 = bench_now_ns();
    if (mt_migrate_src_start(a->ctx, sv[0], 0, &src, &err))
        BENCH_FAIL("migrate start: %s", err.msg);
    res.full_ns = bench_now_ns() - t0;
    for (unsigned i = 1; i < MAX_PASSES && remaining > SMALL_PAGES; i++)
        if (mt_migrate_src_iterate(src, &remaining, &err))
            BENCH_FAIL("migrate pass: %s", err.msg);

    t_stop = bench_now_ns();
    if (w)
        writer_pause(w);
    if (mt_migrate_src_put_ext(src, 1, vcpu, sizeof(vcpu), &err) ||
        mt_migrate_src_complete(src, &err))
        BENCH_FAIL("migrate complete: %s", err.msg);
    pthread_join(rcv.thread, NULL);
    res.downtime_ns = bench_now_ns() - t_stop;
    res.total_ns = bench_now_ns() - t0;
    if (rcv.rc)
        BENCH_FAIL("migrate destination: %s", rcv.err.msg);
    BENCH_CHECK(mt_migrate_src_stats(src, &st));
    res.passes = st.passes;
    res.last_pages = st.last_pages;
    mt_migrate_src_free(src);
    close(sv[0]);
    close(sv[1]);
    if (memcmp(mt_region_ram_ptr(a->ram), mt_region_ram_ptr(b->ram),
               (size_t)(a->npages * MT_DIRTY_PAGE_SIZE)))
        BENCH_FAIL("migrate: the destination differs from the source");
    return res;
}

void bench_migrate(void)
{
    uint64_t size = bench_div > 1 ? 16 * MIB : 1024 * MIB;
    unsigned rounds = bench_div > 1 ? 1 : ROUNDS;
    uint64_t down[ROUNDS], total[ROUNDS], full[ROUNDS], passes[ROUNDS],
        last[ROUNDS], idle[ROUNDS], written, run_ns;
    writer w = { 0 };
    guest a, b;
    uint8_t *host;

    signal(SIGPIPE, SIG_IGN);
    printf("# migrate: %llu MiB guest, every page holding data, to another "
           "context through a Unix socket while a thread stores to random "
           "pages at %u MiB/s; passes until <= %u pages remain (at most %u); "
           "median of %u\n", (unsigned long long)(size / MIB), RATE_MIB,
           SMALL_PAGES, MAX_PASSES, rounds);
    build(&a, size);
    build(&b, size);
    host = mt_region_ram_ptr(a.ram);
    for (uint64_t p = 0; p < a.npages; p++)
        memset(host + p * MT_DIRTY_PAGE_SIZE, (int)(p % 251) + 1,
               MT_DIRTY_PAGE_SIZE);

    for (unsigned r = 0; r < rounds; r++)
        idle[r] = migrate(&a, &b, NULL).downtime_ns;

    w.g = &a;
    w.pages_per_ms = (uint64_t)RATE_MIB * MIB / MT_DIRTY_PAGE_SIZE / 1000;
    atomic_store(&w.pause_req, true);
    if (pthread_create(&w.thread, NULL, writer_main, &w))
        BENCH_FAIL("pthread_create");
    for (unsigned r = 0; r < rounds; r++) {
        result res;

        writer_resume(&w);
        usleep(20000); /* a steady rate before the start */
        res = migrate(&a, &b, &w);
        down[r] = res.downtime_ns;
        total[r] = res.total_ns;
        full[r] = res.full_ns;
        passes[r] = res.passes;
        last[r] = res.last_pages;
    }
    atomic_store(&w.quit, true);
    pthread_join(w.thread, NULL);
    written = atomic_load(&w.written);
    run_ns = atomic_load(&w.run_ns);

    bench_report("migrate_downtime_ms_1g", bench_median(down, rounds) / 1e6,
                 "ms");
    bench_report("migrate_dirty_rate_mib_s",
                 run_ns ? written * (double)MT_DIRTY_PAGE_SIZE / MIB /
                              (run_ns / 1e9)
                        : 0.0,
                 "MiB/s");
    bench_report("migrate_total_ms_1g", bench_median(total, rounds) / 1e6,
                 "ms");
    bench_report("migrate_passes_1g", (double)bench_median(passes, rounds),
                 "passes");
    bench_report("migrate_last_pages_1g", (double)bench_median(last, rounds),
                 "pages");
    bench_report("migrate_full_pass_mib_s",
                 size / (double)MIB / (bench_median(full, rounds) / 1e9),
                 "MiB/s");
    bench_report("migrate_downtime_ms_1g_idle",
                 bench_median(idle, rounds) / 1e6, "ms");
    mt_ctx_free(a.ctx);
    mt_ctx_free(b.ctx);
}
