/* SPDX-License-Identifier: MIT */
/*
 * stress_readlock.c: the mt_read_lock() contract. What a lock-free call
 * returned inside a read-side section stays usable until the section
 * ends, even when another thread deletes and frees it meanwhile:
 *
 *   1. the reader enters mt_read_lock (sometimes twice, nested), then
 *      translates the address of region "x-N" and takes a range record of
 *      the address space's view (dropping its view reference at once), and
 *      the host address of the region's memory;
 *   2. the writer unmaps "x-N", drops the last reference it holds, and
 *      commits more changes (which reclaims what no reader can see), all
 *      while the reader is still inside its section;
 *   3. the reader waits (at most MT_READLOCK_WAIT_MS, default 10 ms) for
 *      the writer's calls to return, then checks the region's name, size
 *      and kind, the range record and the memory's contents, and leaves
 *      the section.
 *
 * When the writer's calls return while the reader is inside, x was freed
 * as far as the writer knows: the contract is then tested at its hardest.
 * When they wait for the grace period instead (a writer may wait for
 * readers to leave), the reader checks while the deletion is under way;
 * the program prints how many rounds were of each sort.
 *
 * Under ASan a region or view freed too early is a use-after-free; in any
 * tree a wrong name or tag fails the test. Each round uses a new region,
 * so MT_STRESS_ITERS / 20 rounds (at least 50).
 */
#include "stress.h"

#define X_ADDR   UINT64_C(0x10000)
#define X_SIZE   UINT64_C(0x2000)

static const mt_attrs ATTRS = { .unspecified = 1 };

typedef struct shared {
    mt_ctx *ctx;
    mt_as *as;
    mt_region *sys, *other;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    /* Rounds completed at each step (round N is done at N + 1). */
    unsigned long mapped;    /* writer: x-N is mapped */
    unsigned long holding;   /* reader: inside its section, holding x-N */
    unsigned long freed;     /* writer: its deletion calls returned */
    unsigned long checked;   /* reader: checked and left the section */
} shared;

static shared S = { .lock = PTHREAD_MUTEX_INITIALIZER,
                    .cond = PTHREAD_COND_INITIALIZER };

static void post(unsigned long *step, unsigned long v)
{
    pthread_mutex_lock(&S.lock);
    *step = v;
    pthread_cond_broadcast(&S.cond);
    pthread_mutex_unlock(&S.lock);
}

/* Wait until *@step >= @v; give up after @ms milliseconds (0: never).
 * Returns whether it got there. */
static bool wait_for(const unsigned long *step, unsigned long v, unsigned ms)
{
    struct timespec dl;
    bool ok = true;

    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += ms / 1000;
    dl.tv_nsec += (long)(ms % 1000) * 1000000;
    if (dl.tv_nsec >= 1000000000) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&S.lock);
    while (*step < v && ok)
        ok = ms ? pthread_cond_timedwait(&S.cond, &S.lock, &dl) == 0 ||
                  *step >= v
                : pthread_cond_wait(&S.cond, &S.lock) == 0;
    ok = *step >= v;
    pthread_mutex_unlock(&S.lock);
    return ok;
}

static uint64_t tag(unsigned round, uint64_t off)
{
    return UINT64_C(0x7A00000000000000) | (uint64_t)round << 24 | off;
}

typedef struct reader {
    unsigned long rounds;
    unsigned wait_ms;
    stress_beat *beat;
    unsigned long after_free;    /* rounds checked after the writer returned */
} reader;

static void *reader_main(void *arg)
{
    reader *r = arg;

    for (unsigned long n = 0; n < r->rounds; n++) {
        char want[32];
        bool nested = n % 3 == 1;
        mt_region *x = NULL;
        const mt_flat_range *fr = NULL;
        mt_flatview *fv;
        uint64_t off = 0, len = 8, hlen = 8;
        void *hva = NULL;
        const char *name;

        stress_step(r->beat, "waiting for the writer to map x");
        wait_for(&S.mapped, n + 1, 0);
        snprintf(want, sizeof(want), "x-%lu", n);

        stress_step(r->beat, "translate, view range, hva in mt_read_lock");
        mt_read_lock(S.ctx);
        if (nested)
            mt_read_lock(S.ctx);
        SOK(mt_as_translate(S.as, X_ADDR + 8, ATTRS, &x, &off, &len));
        if (!x || off != 8)
            SFAIL("round %lu: translate(%#" PRIx64 ") gave %s offset %#"
                  PRIx64 ", expected %s offset 8", n, X_ADDR + 8,
                  x ? mt_region_name(x) : "a hole", off, want);
        fv = mt_as_flatview(S.as);
        for (size_t i = 0; i < mt_flatview_nr_ranges(fv); i++) {
            const mt_flat_range *c = mt_flatview_range(fv, i);

            if (c->start <= X_ADDR && X_ADDR <= c->last)
                fr = c;
        }
        mt_flatview_unref(fv); /* the section, not the reference, keeps fr */
        if (!fr || fr->region != x)
            SFAIL("round %lu: the view has no range of %s at %#" PRIx64, n,
                  want, X_ADDR);
        SOK(mt_as_gpa_to_hva(S.as, X_ADDR, &hva, &hlen));

        post(&S.holding, n + 1);
        stress_step(r->beat, "in mt_read_lock, waiting a little for the "
                             "writer to free x");
        if (wait_for(&S.freed, n + 1, r->wait_ms))
            r->after_free++;

        stress_step(r->beat, "checking x after it was freed");
        name = mt_region_name(x);
        if (!name || strcmp(name, want))
            SERR("round %lu: the region translated inside mt_read_lock is "
                 "named '%s' once deleted, expected '%s'", n,
                 name ? name : "(null)", want);
        if (mt_region_size(x) != X_SIZE ||
            mt_region_kind_of(x) != MT_REGION_RAM)
            SERR("round %lu: %s: size %#" PRIx64 " kind %d once deleted",
                 n, want, mt_region_size(x), (int)mt_region_kind_of(x));
        if (fr->region != x || fr->start != X_ADDR ||
            fr->last != X_ADDR + X_SIZE - 1 || fr->offset != 0)
            SERR("round %lu: the range record changed once %s was deleted: "
                 "%#" PRIx64 "-%#" PRIx64 " offset %#" PRIx64, n, want,
                 fr->start, fr->last, fr->offset);
        for (uint64_t o = 0; o < X_SIZE; o += 512) {
            uint64_t v;

            memcpy(&v, (uint8_t *)hva + o, 8);
            if (v != tag((unsigned)n, o)) {
                SERR("round %lu: %s's memory at %#" PRIx64 " holds %#"
                     PRIx64 " once deleted, expected %#" PRIx64, n, want,
                     o, v, tag((unsigned)n, o));
                break;
            }
        }
        if (nested) {
            mt_read_unlock(S.ctx);
            if (strcmp(mt_region_name(x), want))
                SERR("round %lu: %s renamed after the inner unlock", n,
                     want);
        }
        mt_read_unlock(S.ctx);
        post(&S.checked, n + 1);
    }
    stress_step(r->beat, "done");
    return NULL;
}

int main(void)
{
    unsigned long rounds = stress_iters(20000) / 20;
    reader r;
    pthread_t rt;
    stress_beat *beat;
    double t0 = stress_now();

    if (rounds < 50)
        rounds = 50;
    SOK(mt_ctx_new(&S.ctx, NULL));
    SOK(mt_region_new_container(S.ctx, "sys", MT_SIZE_FULL, &S.sys));
    SOK(mt_region_new_ram(S.ctx, "other", 0x1000, &S.other));
    SOK(mt_region_add_subregion(S.sys, 0x100000, S.other));
    SOK(mt_as_new(S.ctx, S.sys, "memory", &S.as));

    stress_watchdog_start();
    beat = stress_beat_new("writer");
    r = (reader){ .rounds = rounds, .wait_ms = 10 };
    if (getenv("MT_READLOCK_WAIT_MS"))
        r.wait_ms = (unsigned)strtoul(getenv("MT_READLOCK_WAIT_MS"), NULL, 0);
    if (!r.wait_ms)
        r.wait_ms = 1;
    r.beat = stress_beat_new("reader");
    rt = stress_start(reader_main, &r);

    for (unsigned long n = 0; n < rounds; n++) {
        char name[32];
        mt_region *x;
        uint64_t *p;

        stress_step(beat, "mapping x");
        snprintf(name, sizeof(name), "x-%lu", n);
        SOK(mt_region_new_ram(S.ctx, name, X_SIZE, &x));
        p = mt_region_ram_ptr(x);
        for (uint64_t o = 0; o < X_SIZE; o += 8)
            p[o / 8] = tag((unsigned)n, o);
        SOK(mt_region_add_subregion(S.sys, X_ADDR, x));
        post(&S.mapped, n + 1);

        stress_step(beat, "waiting for the reader to enter its section");
        wait_for(&S.holding, n + 1, 0);
        /* Delete and free x while the reader holds it, then commit more:
         * each commit reclaims views whose grace period has passed. */
        stress_step(beat, "deleting x, dropping it, committing");
        SOK(mt_region_del_subregion(S.sys, x));
        mt_region_unref(x);
        for (unsigned k = 0; k < 4; k++)
            SOK(mt_region_set_enabled(S.other, k & 1));
        post(&S.freed, n + 1);
        stress_step(beat, "waiting for the reader's checks");
        wait_for(&S.checked, n + 1, 0);
        /* Out of the section, x must be gone from the map. */
        {
            mt_region *h = NULL;
            uint64_t off, len = 8;

            SOK(mt_as_translate(S.as, X_ADDR, ATTRS, &h, &off, &len));
            if (h)
                SERR("round %lu: x still mapped after deletion: '%s'", n,
                     mt_region_name(h));
        }
    }
    stress_join(rt);
    stress_watchdog_stop();
    printf("%lu rounds in %.2f s: in %lu the writer's calls returned while "
           "the reader was inside mt_read_lock (x freed as far as the "
           "writer knew), in %lu they waited for the reader to leave\n",
           rounds, stress_now() - t0, r.after_free, rounds - r.after_free);
    mt_ctx_free(S.ctx);
    return stress_result("stress_readlock");
}
