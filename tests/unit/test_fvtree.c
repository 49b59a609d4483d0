/* SPDX-License-Identifier: MIT */
/*
 * test_fvtree.c: the persistent B+tree of flat ranges (src/fvtree.c).
 *
 * - Randomised differential test against a plain sorted array: random
 *   builds, then replaces of every shape (insert, delete, replace runs,
 *   k = 0..50, at the front, middle and end) applied to the current version
 *   or to one of several kept old versions, which are checked to stay
 *   unchanged. Every version is compared through at(), lower(), lookup()
 *   (range boundaries, holes, 0, UINT64_MAX) and iteration, and its
 *   invariants checked (mt__fvt_check).
 * - Region references: a region the caller dropped lives while a version
 *   shows it.
 * - Allocation failure at every allocation of new and replace: MT_ENOMEM,
 *   the old version intact, no block leaked.
 * - A long run of single-range inserts and deletes (1e6) keeps the height
 *   and the memory bounded; a scale test builds 1e6 ranges and applies
 *   1e5 single-range replaces.
 * - Versions retired to another thread, which reads and frees them while
 *   new versions sharing their nodes are derived (atomic node counts).
 *
 * tests/unit/test_fvtree_small.c runs all of it again on a private copy of
 * src/fvtree.c built with nodes of 4 entries, so that small views make
 * deep trees (and the long and scale runs are shortened).
 *
 * Environment: MT_SEED (default below, printed) replays a run.
 */
#include "mt_testutil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#ifdef FVT_TEST_SMALL
/* test_fvtree_small.c: a private copy of the tree with tiny nodes. */
#include "fvtree.c"
#define FVT_TEST_NAME "test_fvtree_small"
#else
#define FVT_TEST_NAME "test_fvtree"
#endif
#include "fvtree.h"
#include "internal.h"

#define DEFAULT_SEED 0x66767472656531ull /* "fvtree1" */

static uint64_t seed;
static uint64_t rng_state;

static uint64_t rnd(void)
{
    /* splitmix64 */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n) (n > 0; the tiny modulo bias does not matter here). */
static uint64_t below(uint64_t n)
{
    return rnd() % n;
}

/* Uniform in [lo, hi]. */
static uint64_t between(uint64_t lo, uint64_t hi)
{
    uint64_t span = hi - lo;

    return span == UINT64_MAX ? rnd() : lo + rnd() % (span + 1);
}

static void reseed(uint64_t salt)
{
    rng_state = seed ^ (salt * 0xD1B54A32D192ED03ull);
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------------------------------ */
/* The model: a plain sorted array                                           */
/* ------------------------------------------------------------------------ */

typedef struct model {
    mt_flat_range *r;
    size_t n;
    size_t cap;
} model;

static void model_reserve(model *m, size_t need)
{
    size_t old = m->r ? m->cap : 0;

    if (m->r && need <= m->cap)
        return;
    m->cap = need * 2 + 16;
    m->r = realloc(m->r, m->cap * sizeof(*m->r));
    assert_non_null(m->r);
    /* Zeroed, so records filled field by field have defined flags. */
    memset(m->r + old, 0, (m->cap - old) * sizeof(*m->r));
}

static void model_copy(model *dst, const model *src)
{
    dst->n = 0;
    model_reserve(dst, src->n);
    if (src->n)
        memcpy(dst->r, src->r, src->n * sizeof(*src->r));
    dst->n = src->n;
}

static void model_replace(model *m, size_t i, size_t j,
                          const mt_flat_range *r, size_t k)
{
    model_reserve(m, m->n - (j - i) + k);
    memmove(&m->r[i + k], &m->r[j], (m->n - j) * sizeof(*m->r));
    if (k)
        memcpy(&m->r[i], r, k * sizeof(*r));
    m->n = m->n - (j - i) + k;
}

static size_t model_lower(const model *m, uint64_t addr)
{
    size_t lo = 0, hi = m->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (m->r[mid].last >= addr)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static const mt_flat_range *model_lookup(const model *m, uint64_t addr)
{
    size_t i = model_lower(m, addr);

    return i < m->n && m->r[i].start <= addr ? &m->r[i] : NULL;
}

/* ------------------------------------------------------------------------ */
/* Range generation                                                          */
/* ------------------------------------------------------------------------ */

/* Regions the ranges point at (index 0: NULL), real ones to exercise the
 * references leaves hold. */
#define NREG 5
static mt_region *regs[NREG];

static void make_regions(mt_ctx *ctx)
{
    regs[0] = NULL;
    for (int i = 1; i < NREG; i++) {
        char name[16];

        snprintf(name, sizeof(name), "r%d", i);
        MT_OK(mt_region_new_io(ctx, name, 0x1000, NULL, NULL, &regs[i]));
    }
}

static void check_region_refs(unsigned want)
{
    for (int i = 1; i < NREG; i++)
        assert_int_equal(regs[i]->refcount, want);
}

static void drop_regions(void)
{
    for (int i = 1; i < NREG; i++) {
        mt_region_unref(regs[i]);
        regs[i] = NULL;
    }
}

static void fill_attrs(mt_flat_range *fr)
{
    uint64_t x = rnd();

    fr->region = regs[x % NREG];
    fr->offset = rnd();
    fr->readonly = (x >> 8) & 1;
    fr->nonvolatile = (x >> 9) & 1;
    fr->romd = (x >> 10) & 1;
    fr->dirty_log_mask = (uint8_t)((x >> 11) & 7);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/*
 * Up to @k sorted, disjoint random ranges inside [lo, hi] (lo <= hi) into
 * @out; returns how many. Values cluster sometimes (1-byte ranges, ranges
 * abutting each other and the bounds, which may be 0 and UINT64_MAX).
 */
static size_t gen_ranges(uint64_t lo, uint64_t hi, size_t k,
                         mt_flat_range *out)
{
    uint64_t *v;
    size_t nv = 2 * k, x, n = 0;
    bool have_prev = false;
    uint64_t prev = 0;

    if (k == 0)
        return 0;
    v = malloc(nv * sizeof(*v));
    assert_non_null(v);
    /* Narrow the window now and then so that ranges come out small and
     * gaps stay for later inserts. */
    if (below(4) == 0 && hi - lo > 1000000) {
        uint64_t w = (hi - lo) / (1 + below(1000));

        lo = between(lo, hi - w);
        hi = lo + w;
    }
    for (x = 0; x < nv; x++)
        v[x] = between(lo, hi);
    if (below(4) == 0)
        v[0] = lo;
    if (below(4) == 0)
        v[nv - 1] = hi;
    qsort(v, nv, sizeof(*v), cmp_u64);
    for (x = 0; x + 1 < nv; x += 2) {
        uint64_t s = v[x], l = v[x + 1];

        if (below(8) == 0)
            l = s;                      /* 1-byte range */
        if (have_prev && s <= prev)
            continue;
        out[n].start = s;
        out[n].last = l;
        fill_attrs(&out[n]);
        n++;
        have_prev = true;
        prev = l;
    }
    free(v);
    return n;
}

/* ------------------------------------------------------------------------ */
/* Comparing a version with a model                                          */
/* ------------------------------------------------------------------------ */

static bool same_range(const mt_flat_range *a, const mt_flat_range *b)
{
    return a->start == b->start && a->last == b->last &&
           a->region == b->region && a->offset == b->offset &&
           a->readonly == b->readonly && a->nonvolatile == b->nonvolatile &&
           a->romd == b->romd && a->dirty_log_mask == b->dirty_log_mask;
}

static void fail_range(const char *what, size_t i, const mt_flat_range *got,
                       const mt_flat_range *want)
{
    print_message("MT_SEED=%#llx: %s mismatch at %zu\n",
                  (unsigned long long)seed, what, i);
    if (got)
        print_message("  got  %016llx-%016llx off %llx\n",
                      (unsigned long long)got->start,
                      (unsigned long long)got->last,
                      (unsigned long long)got->offset);
    else
        print_message("  got  NULL\n");
    if (want)
        print_message("  want %016llx-%016llx off %llx\n",
                      (unsigned long long)want->start,
                      (unsigned long long)want->last,
                      (unsigned long long)want->offset);
    else
        print_message("  want NULL\n");
    fail();
}

static void check_addr(const mt_fvtree *t, const model *m, uint64_t addr)
{
    const mt_flat_range *got = mt__fvt_lookup(t, addr);
    const mt_flat_range *want = model_lookup(m, addr);
    size_t lg = mt__fvt_lower(t, addr), lw = model_lower(m, addr);

    if ((got == NULL) != (want == NULL) || (got && !same_range(got, want)))
        fail_range("lookup", (size_t)addr, got, want);
    if (lg != lw) {
        print_message("MT_SEED=%#llx: lower(%#llx) = %zu, want %zu\n",
                      (unsigned long long)seed, (unsigned long long)addr, lg,
                      lw);
        fail();
    }
}

/* Addresses around range @i of @m: its bounds and the holes beside it. */
static void check_around(const mt_fvtree *t, const model *m, size_t i)
{
    const mt_flat_range *fr = &m->r[i];

    check_addr(t, m, fr->start);
    check_addr(t, m, fr->last);
    check_addr(t, m, fr->start + (fr->last - fr->start) / 2);
    if (fr->start > 0)
        check_addr(t, m, fr->start - 1);
    if (fr->last < UINT64_MAX)
        check_addr(t, m, fr->last + 1);
}

/*
 * Compare @t with @m. thorough: every range, at every index, and the
 * addresses around every range; otherwise a sample (plus the full
 * iteration, which is cheap).
 */
static void verify(const mt_fvtree *t, const model *m, bool thorough)
{
    const char *err = mt__fvt_check(t);
    mt_fvt_iter it;
    const mt_flat_range *fr;
    size_t i, samples;

    if (err) {
        print_message("MT_SEED=%#llx: invariant broken: %s\n",
                      (unsigned long long)seed, err);
        fail();
    }
    assert_int_equal(mt__fvt_count(t), m->n);

    /* Full iteration from 0. */
    mt__fvt_iter_init(&it, t, 0);
    for (i = 0; i < m->n; i++) {
        fr = mt__fvt_iter_next(&it);
        if (!fr || !same_range(fr, &m->r[i]))
            fail_range("iteration", i, fr, &m->r[i]);
    }
    assert_null(mt__fvt_iter_next(&it));
    assert_null(mt__fvt_iter_next(&it));

    /* Iteration from a few positions, for a few steps. */
    for (int x = 0; x < 4; x++) {
        size_t from = (size_t)below(m->n + 2);

        mt__fvt_iter_init(&it, t, from);
        for (i = from; i < from + 40; i++) {
            fr = mt__fvt_iter_next(&it);
            if (i >= m->n) {
                if (fr)
                    fail_range("iteration past the end", i, fr, NULL);
                break;
            }
            if (!fr || !same_range(fr, &m->r[i]))
                fail_range("iteration from the middle", i, fr, &m->r[i]);
        }
    }

    assert_null(mt__fvt_at(t, m->n));
    assert_null(mt__fvt_at(t, m->n + 1));
    assert_null(mt__fvt_at(t, SIZE_MAX));
    samples = thorough ? m->n : (m->n < 64 ? m->n : 64);
    for (size_t x = 0; x < samples; x++) {
        i = thorough ? x : (size_t)below(m->n);
        fr = mt__fvt_at(t, i);
        if (!fr || !same_range(fr, &m->r[i]))
            fail_range("at", i, fr, &m->r[i]);
        check_around(t, m, i);
    }
    if (m->n) {
        check_around(t, m, 0);
        check_around(t, m, m->n - 1);
    }
    check_addr(t, m, 0);
    check_addr(t, m, 1);
    check_addr(t, m, UINT64_MAX);
    check_addr(t, m, UINT64_MAX - 1);
    for (int x = 0; x < 16; x++)
        check_addr(t, m, rnd());
}

/* A random build of @n ranges (fewer if the generator collides). */
static void random_model(model *m, size_t n)
{
    m->n = 0;
    model_reserve(m, n);
    m->n = gen_ranges(0, UINT64_MAX, n, m->r);
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                     */
/* ------------------------------------------------------------------------ */

static void test_empty(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_fvtree *t = NULL, *u = NULL, *v = NULL;
    mt_fvt_iter it;
    mt_flat_range fr = { 0, UINT64_MAX, NULL, 7, false, false, true, 0, 0, NULL };

    MT_OK(mt__fvt_new(ctx, NULL, 0, &t));
    assert_null(mt__fvt_check(t));
    assert_int_equal(mt__fvt_count(t), 0);
    assert_int_equal(mt__fvt_height(t), 0);
    assert_null(mt__fvt_at(t, 0));
    assert_null(mt__fvt_lookup(t, 0));
    assert_null(mt__fvt_lookup(t, UINT64_MAX));
    assert_int_equal(mt__fvt_lower(t, 0), 0);
    assert_int_equal(mt__fvt_lower(t, UINT64_MAX), 0);
    mt__fvt_iter_init(&it, t, 0);
    assert_null(mt__fvt_iter_next(&it));

    /* One range covering everything. */
    MT_OK(mt__fvt_replace(t, 0, 0, &fr, 1, &u));
    assert_null(mt__fvt_check(u));
    assert_int_equal(mt__fvt_height(u), 1);
    assert_ptr_equal(mt__fvt_lookup(u, 0), mt__fvt_at(u, 0));
    assert_ptr_equal(mt__fvt_lookup(u, UINT64_MAX), mt__fvt_at(u, 0));
    assert_int_equal(mt__fvt_lower(u, UINT64_MAX), 0);
    assert_int_equal(mt__fvt_count(t), 0);

    /* And back to nothing. */
    MT_OK(mt__fvt_replace(u, 0, 1, NULL, 0, &v));
    assert_int_equal(mt__fvt_count(v), 0);
    assert_null(mt__fvt_check(v));
    assert_int_equal(mt__fvt_count(u), 1);

    /* Bad arguments. */
    MT_EXPECT(mt__fvt_new(NULL, NULL, 0, &t), MT_EINVAL);
    MT_EXPECT(mt__fvt_new(ctx, NULL, 1, &t), MT_EINVAL);
    MT_EXPECT(mt__fvt_new(ctx, NULL, 0, NULL), MT_EINVAL);
    MT_EXPECT(mt__fvt_replace(u, 1, 0, NULL, 0, &v), MT_EINVAL);
    MT_EXPECT(mt__fvt_replace(u, 0, 2, NULL, 0, &v), MT_EINVAL);
    MT_EXPECT(mt__fvt_replace(u, 0, 1, NULL, 1, &v), MT_EINVAL);
    MT_EXPECT(mt__fvt_replace(NULL, 0, 0, NULL, 0, &v), MT_EINVAL);
    MT_EXPECT(mt__fvt_replace(u, 0, 0, NULL, 0, NULL), MT_EINVAL);

    mt__fvt_free(NULL);
    mt__fvt_free(t);
    mt__fvt_free(u);
    mt__fvt_free(v);
    mt_ctx_free(ctx);
}

/* Builds of every interesting size: a single leaf up to LEAF_MAX, one more,
 * full two- and three-level trees and their neighbours, random sizes. */
static void test_builds(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    const size_t L = MT_FVT_LEAF_MAX, I = MT_FVT_INNER_MAX;
    size_t sizes[] = { 1, 2, 3, L / 2, L - 1, L, L + 1, 2 * L, 2 * L + 1,
                       L * I - 1, L * I, L * I + 1, L * I * I, L * I * I + 1,
                       3 * L * I + 7 };
    model m = { 0 };

    reseed(1);
    make_regions(ctx);
    for (size_t x = 0; x < sizeof(sizes) / sizeof(sizes[0]) + 60; x++) {
        size_t want = x < sizeof(sizes) / sizeof(sizes[0])
                          ? sizes[x] : (size_t)below(5000);
        mt_fvtree *t = NULL;

        /* Exact sizes: equal, abutting ranges of 16 bytes from 0. */
        m.n = 0;
        model_reserve(&m, want);
        if (x < sizeof(sizes) / sizeof(sizes[0])) {
            for (size_t i = 0; i < want; i++) {
                m.r[i].start = i * 16;
                m.r[i].last = i * 16 + 15;
                fill_attrs(&m.r[i]);
            }
            m.n = want;
        } else {
            random_model(&m, want);
        }
        MT_OK(mt__fvt_new(ctx, m.r, m.n, &t));
        verify(t, &m, true);
        if (m.n <= L)
            assert_int_equal(mt__fvt_height(t), m.n ? 1 : 0);
        else
            assert_true(mt__fvt_height(t) >= 2);
        mt__fvt_free(t);
    }
    check_region_refs(1);
    drop_regions();
    free(m.r);
    mt_ctx_free(ctx);
}

/* Ranges at the very ends of the address space. */
static void test_extremes(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_flat_range r[4] = {
        { 0, 0, NULL, 1, false, false, true, 0, 0, NULL },
        { 1, 0xfff, NULL, 2, false, false, true, 0, 0, NULL },
        { 0xfffffffffffff000ull, 0xfffffffffffffffeull, NULL, 3, false, false, true, 0, 0, NULL },
        { UINT64_MAX, UINT64_MAX, NULL, 4, false, false, true, 0, 0, NULL },
    };
    model m = { 0 };
    mt_fvtree *t = NULL, *u = NULL;

    m.n = 0;
    model_reserve(&m, 4);
    memcpy(m.r, r, sizeof(r));
    m.n = 4;
    MT_OK(mt__fvt_new(ctx, r, 4, &t));
    verify(t, &m, true);
    assert_int_equal(mt__fvt_lookup(t, UINT64_MAX)->offset, 4);
    assert_int_equal(mt__fvt_lookup(t, UINT64_MAX - 1)->offset, 3);
    assert_int_equal(mt__fvt_lookup(t, 0)->offset, 1);
    assert_null(mt__fvt_lookup(t, 0x1000));
    assert_int_equal(mt__fvt_lower(t, 0x1000), 2);

    /* Drop the last range: UINT64_MAX is then a hole past the end. */
    MT_OK(mt__fvt_replace(t, 3, 4, NULL, 0, &u));
    model_replace(&m, 3, 4, NULL, 0);
    verify(u, &m, true);
    assert_int_equal(mt__fvt_lower(u, UINT64_MAX), 3);
    assert_null(mt__fvt_lookup(u, UINT64_MAX));
    assert_int_equal(mt__fvt_lookup(t, UINT64_MAX)->offset, 4);
    mt__fvt_free(t);
    mt__fvt_free(u);

    /* A big tree whose last range reaches UINT64_MAX: lookups of UINT64_MAX
     * meet the UINT64_MAX padding of unused key slots at every level. */
    {
        size_t n = MT_FVT_LEAF_MAX * MT_FVT_INNER_MAX + 5;

        m.n = 0;
        model_reserve(&m, n);
        for (size_t i = 0; i < n; i++) {
            m.r[i].start = UINT64_MAX - (n - i) * 0x100 + 1;
            m.r[i].last = m.r[i].start + 0xff;
            m.r[i].region = NULL;
            m.r[i].offset = i;
        }
        m.n = n;
        assert_true(m.r[n - 1].last == UINT64_MAX);
        MT_OK(mt__fvt_new(ctx, m.r, n, &t));
        verify(t, &m, true);
        assert_int_equal(mt__fvt_lookup(t, UINT64_MAX)->offset, n - 1);
        mt__fvt_free(t);
    }
    free(m.r);
    mt_ctx_free(ctx);
}

/* Choose the run [*i, *j) to replace: at the front, the end or anywhere,
 * 0..50 ranges long (biased to short). */
static void pick_run(size_t n, size_t *i, size_t *j)
{
    size_t len = below(3) == 0 ? (size_t)below(51) : (size_t)below(3);

    switch (below(4)) {
    case 0:
        *i = (size_t)below(n < 3 ? n + 1 : 3);
        break;
    case 1:
        *i = n - (size_t)below(n < 3 ? n + 1 : 3);
        break;
    default:
        *i = (size_t)below(n + 1);
        break;
    }
    if (len > n - *i)
        len = n - *i;
    *j = *i + len;
}

/* New ranges that fit where [i, j) of @m was. */
static size_t pick_new(const model *m, size_t i, size_t j, size_t k,
                       mt_flat_range *out)
{
    uint64_t lo = 0, hi = UINT64_MAX;

    if (i > 0) {
        if (m->r[i - 1].last == UINT64_MAX)
            return 0;
        lo = m->r[i - 1].last + 1;
    }
    if (j < m->n) {
        if (m->r[j].start == 0)
            return 0;
        hi = m->r[j].start - 1;
    }
    if (lo > hi)
        return 0;
    return gen_ranges(lo, hi, k, out);
}

#define KEEP 6

static void test_random_replace(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_fvtree *cur = NULL, *kept[KEEP] = { NULL };
    model mcur = { 0 }, mkept[KEEP];
    mt_flat_range buf[64];
    unsigned rounds = 12, ops = 1500;
    unsigned long replaces = 0, heights[8] = { 0 };

    memset(mkept, 0, sizeof(mkept));
    reseed(2);
    make_regions(ctx);
    for (unsigned round = 0; round < rounds; round++) {
        /* Sizes from empty to a few thousand; the last rounds large
         * enough for three levels of 64-entry nodes. */
        bool big = round >= rounds - 3;
        size_t n0 = round == 0 ? 0 : round == 1 ? 5
                    : (size_t)below(big ? 12000 : 4000);
        size_t target = big ? 6000 + (size_t)below(6000)
                            : 20 + (size_t)below(3000);

        random_model(&mcur, n0);
        MT_OK(mt__fvt_new(ctx, mcur.r, mcur.n, &cur));
        verify(cur, &mcur, true);
        for (unsigned op = 0; op < ops; op++) {
            mt_fvtree *base = cur, *nt = NULL;
            model *mb = &mcur;
            int slot = -1;
            size_t i, j, k, want;

            /* Sometimes branch off an old version instead. */
            if (below(8) == 0) {
                slot = (int)below(KEEP);
                if (kept[slot]) {
                    base = kept[slot];
                    mb = &mkept[slot];
                } else {
                    slot = -1;
                }
            }
            pick_run(mb->n, &i, &j);
            want = below(3) == 0 ? (size_t)below(51) : (size_t)below(3);
            if (mb->n > target && want > j - i)
                want = j - i;           /* shrink back towards the target */
            k = pick_new(mb, i, j, want, buf);
            MT_OK(mt__fvt_replace(base, i, j, buf, k, &nt));
            replaces++;

            /* The base version must not have changed. */
            if (below(16) == 0)
                verify(base, mb, false);

            if (slot >= 0) {
                /* The result replaces that kept version. */
                model_replace(&mkept[slot], i, j, buf, k);
                mt__fvt_free(kept[slot]);
                kept[slot] = nt;
                verify(nt, &mkept[slot], below(8) == 0);
            } else {
                /* Keep the version it came from, now and then. */
                if (below(16) == 0) {
                    int s = (int)below(KEEP);

                    mt__fvt_free(kept[s]);
                    kept[s] = cur;
                    model_copy(&mkept[s], &mcur);
                } else {
                    mt__fvt_free(cur);
                }
                cur = nt;
                model_replace(&mcur, i, j, buf, k);
                verify(cur, &mcur, below(32) == 0);
            }
            heights[mt__fvt_height(cur) < 8 ? mt__fvt_height(cur) : 7]++;
        }
        /* Every kept version still shows exactly what it did. */
        for (int s = 0; s < KEEP; s++)
            if (kept[s])
                verify(kept[s], &mkept[s], true);
        verify(cur, &mcur, true);
        mt__fvt_free(cur);
        cur = NULL;
    }
    for (int s = 0; s < KEEP; s++) {
        mt__fvt_free(kept[s]);
        free(mkept[s].r);
    }
    print_message("random replace: %lu replaces; heights 0:%lu 1:%lu 2:%lu "
                  "3:%lu 4+:%lu\n", replaces, heights[0], heights[1],
                  heights[2], heights[3],
                  heights[4] + heights[5] + heights[6] + heights[7]);
    /* Every version gone: the regions are back to the caller's reference. */
    check_region_refs(1);
    drop_regions();
    free(mcur.r);
    mt_ctx_free(ctx);
}

/* Runs replaced by many ranges (node lists longer than the inline ones),
 * whole-tree replacements, big deletions collapsing the tree. */
static void test_big_runs(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    model m = { 0 };
    mt_fvtree *t = NULL;
    mt_flat_range *buf = malloc(20000 * sizeof(*buf));

    assert_non_null(buf);
    reseed(3);
    make_regions(ctx);
    random_model(&m, 3000);
    MT_OK(mt__fvt_new(ctx, m.r, m.n, &t));
    for (int op = 0; op < 200; op++) {
        size_t i = (size_t)below(m.n + 1), j, k;
        mt_fvtree *nt = NULL;

        switch (below(4)) {
        case 0:         /* delete a long run */
            j = i + (size_t)below(m.n - i + 1);
            k = pick_new(&m, i, j, below(3), buf);
            break;
        case 1:         /* insert a lot */
            j = i + (size_t)below(m.n - i < 3 ? m.n - i + 1 : 3);
            k = pick_new(&m, i, j, 1000 + below(19000), buf);
            break;
        case 2:         /* everything */
            i = 0;
            j = m.n;
            k = pick_new(&m, i, j, below(5000), buf);
            break;
        default:        /* long run for a long run */
            j = i + (size_t)below(m.n - i + 1);
            k = pick_new(&m, i, j, below(3000), buf);
            break;
        }
        if (m.n > 40000) {
            i = 0;
            j = m.n;
            k = pick_new(&m, i, j, below(100), buf);
        }
        MT_OK(mt__fvt_replace(t, i, j, buf, k, &nt));
        verify(t, &m, false);
        model_replace(&m, i, j, buf, k);
        mt__fvt_free(t);
        t = nt;
        verify(t, &m, below(8) == 0);
    }
    mt__fvt_free(t);
    check_region_refs(1);
    drop_regions();
    free(buf);
    free(m.r);
    mt_ctx_free(ctx);
}

static bool region_alive(mt_ctx *ctx, const mt_region *r)
{
    for (mt_region *x = ctx->regions; x; x = x->all_next)
        if (x == r)
            return true;
    return false;
}

/* A region the caller dropped lives on while a version shows it. */
static void test_region_lifetime(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
    mt_region *a = t_io(ctx, "survivor", 0x1000);
    mt_region *b = t_io(ctx, "other", 0x1000);
    mt_flat_range ra = { 0x1000, 0x1fff, a, 0, false, false, true, 0, 0, NULL };
    mt_flat_range rb = { 0x1000, 0x1fff, b, 0, false, false, true, 0, 0, NULL };
    mt_flat_range *big;
    mt_fvtree *v1 = NULL, *v2 = NULL, *v3 = NULL;
    size_t n = 5000;

    /* Small: one leaf. */
    MT_OK(mt__fvt_new(ctx, &ra, 1, &v1));
    assert_int_equal(a->refcount, 2);
    mt_region_unref(a);                 /* the caller is done with it */
    assert_true(region_alive(ctx, a));
    assert_int_equal(a->refcount, 1);
    assert_string_equal(mt_region_name(mt__fvt_lookup(v1, 0x1800)->region),
                        "survivor");
    MT_OK(mt__fvt_replace(v1, 0, 1, &rb, 1, &v2)); /* v2 no longer shows a */
    assert_int_equal(a->refcount, 1);
    MT_OK(mt__fvt_replace(v1, 1, 1, NULL, 0, &v3)); /* a copy that still does */
    assert_int_equal(a->refcount, 2);
    mt__fvt_free(v1);
    assert_true(region_alive(ctx, a));
    assert_string_equal(mt_region_name(mt__fvt_lookup(v3, 0x1000)->region),
                        "survivor");
    mt__fvt_free(v3);
    assert_false(region_alive(ctx, a));  /* last version gone: freed */
    mt__fvt_free(v2);

    /* Big: the region's leaf is shared, untouched, by a later version. */
    a = t_io(ctx, "survivor2", 0x1000);
    big = calloc(n, sizeof(*big));
    assert_non_null(big);
    for (size_t i = 0; i < n; i++) {
        big[i].start = i << 16;
        big[i].last = (i << 16) + 0xfff;
        big[i].region = i == 7 ? a : b;
        big[i].romd = true;
    }
    MT_OK(mt__fvt_new(ctx, big, n, &v1));
    assert_true(mt__fvt_height(v1) >= 2);
    mt_region_unref(a);
    assert_int_equal(a->refcount, 1);
    MT_OK(mt__fvt_replace(v1, n - 1, n, NULL, 0, &v2)); /* far from range 7 */
    assert_int_equal(a->refcount, 1);   /* the leaf is shared, not copied */
    mt__fvt_free(v1);
    assert_true(region_alive(ctx, a));
    assert_ptr_equal(mt__fvt_lookup(v2, 7 << 16)->region, a);
    assert_string_equal(mt_region_name(a), "survivor2");
    MT_OK(mt__fvt_replace(v2, 7, 8, NULL, 0, &v3));
    mt__fvt_free(v2);
    assert_false(region_alive(ctx, a));
    assert_int_equal(b->refcount, 1 + (n - 2));
    mt__fvt_free(v3);
    assert_int_equal(b->refcount, 1);
    free(big);
    mt_ctx_free(ctx);
}

/* Allocation failure at every allocation of mt__fvt_new and replace. */
static void test_alloc_failure(void **state)
{
    (void)state;
    t_alloc_state st = { .budget = -1 };
    mt_allocator al = t_allocator(&st);
    mt_ctx *ctx = NULL;
    mt_fvtree *t = NULL;
    model m = { 0 };
    mt_flat_range *buf = malloc(3000 * sizeof(*buf));
    unsigned long failures = 0, ops = 0;

    assert_non_null(buf);
    MT_OK(mt_ctx_new(&ctx, &al));
    reseed(4);
    make_regions(ctx);

    /* Build, failing at each allocation in turn. */
    random_model(&m, 2500);
    for (long b = 0;; b++) {
        long live = st.live;
        int rc;

        st.budget = b;
        t = (mt_fvtree *)&st;          /* must stay untouched on failure */
        rc = mt__fvt_new(ctx, m.r, m.n, &t);
        st.budget = -1;
        if (rc == 0)
            break;
        MT_EXPECT(rc, MT_ENOMEM);
        assert_ptr_equal(t, (mt_fvtree *)&st);
        assert_int_equal(st.live, live);
        check_region_refs(1);
        failures++;
    }
    verify(t, &m, true);

    for (int op = 0; op < 120; op++) {
        size_t i, j, k, want;
        mt_fvtree *nt = NULL;

        pick_run(m.n, &i, &j);
        if (op % 10 == 9) {             /* big insert: long node lists */
            want = 500 + below(2500);
        } else if (op % 10 == 8) {      /* long delete */
            i = (size_t)below(m.n + 1);
            j = i + (size_t)below(m.n - i + 1);
            want = below(2);
        } else {
            want = below(3) == 0 ? below(51) : below(3);
        }
        k = pick_new(&m, i, j, want, buf);
        for (long b = 0;; b++) {
            long live = st.live;
            unsigned refs = regs[1]->refcount;
            int rc;

            st.budget = b;
            nt = (mt_fvtree *)&st;
            rc = mt__fvt_replace(t, i, j, buf, k, &nt);
            st.budget = -1;
            if (rc == 0)
                break;
            MT_EXPECT(rc, MT_ENOMEM);
            assert_ptr_equal(nt, (mt_fvtree *)&st);
            assert_int_equal(st.live, live);
            assert_int_equal(regs[1]->refcount, refs);
            failures++;
            if (b % 4 == 0)
                verify(t, &m, false);
        }
        ops++;
        verify(t, &m, false);            /* the old version is intact */
        model_replace(&m, i, j, buf, k);
        mt__fvt_free(t);
        t = nt;
        verify(t, &m, op % 16 == 0);
        if (m.n > 6000) {                /* keep it small */
            MT_OK(mt__fvt_replace(t, 0, m.n - 2000, NULL, 0, &nt));
            model_replace(&m, 0, m.n - 2000, NULL, 0);
            mt__fvt_free(t);
            t = nt;
        }
    }
    mt__fvt_free(t);
    check_region_refs(1);
    drop_regions();
    print_message("allocation failure: %lu injected failures over %lu "
                  "replaces (and the build)\n", failures, ops);
    assert_true(failures > ops);
    mt_ctx_free(ctx);
    assert_int_equal(st.live, 0);
    free(buf);
    free(m.r);
}

/*
 * 1e6 single-range inserts and deletes at random positions: height and
 * memory stay bounded (every non-root node at least half full) and lookups
 * still find every range.
 */
static void test_long_sequence(void **state)
{
    (void)state;
    t_alloc_state st = { .budget = -1 };
    mt_allocator al = t_allocator(&st);
    mt_ctx *ctx = NULL;
    mt_fvtree *t = NULL;
#ifdef FVT_TEST_SMALL
    size_t n = 10000, ops = 200000, maxn = 0;
#else
    size_t n = 10000, ops = 1000000, maxn = 0;
#endif
    mt_flat_range *init = calloc(n, sizeof(*init));
    double t0;
    long maxlive = 0;

    assert_non_null(init);
    MT_OK(mt_ctx_new(&ctx, &al));
    reseed(5);
    make_regions(ctx);
    for (size_t i = 0; i < n; i++) {
        init[i].start = (uint64_t)i << 40;
        init[i].last = init[i].start + 0xfff;
        fill_attrs(&init[i]);
    }
    MT_OK(mt__fvt_new(ctx, init, n, &t));
    t0 = now_s();
    for (size_t op = 0; op < ops; op++) {
        size_t cnt = mt__fvt_count(t), i;
        mt_fvtree *nt = NULL;
        bool insert = cnt < 5000 || (cnt < 15000 && below(2));

        if (insert) {
            /* A 1-byte range somewhere in the gap before range i. */
            const mt_flat_range *prev, *next;
            uint64_t lo, hi;
            mt_flat_range fr;

            i = (size_t)below(cnt + 1);
            prev = i ? mt__fvt_at(t, i - 1) : NULL;
            next = mt__fvt_at(t, i);
            lo = prev ? prev->last + 1 : 0;
            hi = next ? next->start - 1 : UINT64_MAX - 1;
            if (next && next->start == 0)
                insert = false;
            else if (lo > hi)
                insert = false;
            if (insert) {
                fr.start = fr.last = between(lo, hi);
                fill_attrs(&fr);
                MT_OK(mt__fvt_replace(t, i, i, &fr, 1, &nt));
                assert_true(same_range(mt__fvt_lookup(nt, fr.start), &fr));
            }
        }
        if (!insert) {
            uint64_t a;

            i = (size_t)below(cnt);
            a = mt__fvt_at(t, i)->start;
            MT_OK(mt__fvt_replace(t, i, i + 1, NULL, 0, &nt));
            assert_null(mt__fvt_lookup(nt, a));
        }
        mt__fvt_free(t);
        t = nt;
        if (st.live > maxlive)
            maxlive = st.live;
        if (mt__fvt_count(t) > maxn)
            maxn = mt__fvt_count(t);
        if (op % 100000 == 0) {
            const char *err = mt__fvt_check(t);

            if (err)
                fail_msg("MT_SEED=%#llx op %zu: %s", (unsigned long long)seed,
                         op, err);
        }
    }
    {
        const char *err = mt__fvt_check(t);
        size_t cnt = mt__fvt_count(t);
        /* Height of a tree of half-full nodes holding maxn ranges. */
        size_t cap = MT_FVT_LEAF_MIN;
        unsigned hmax = 1;

        if (err)
            fail_msg("MT_SEED=%#llx: %s", (unsigned long long)seed, err);
        while (cap < maxn) {
            cap *= MT_FVT_INNER_MIN;
            hmax++;
        }
        print_message("long sequence: %zu ops in %.2f s, %zu ranges, height "
                      "%u (bound %u), peak %ld live blocks for at most %zu "
                      "ranges\n", ops, now_s() - t0, cnt, mt__fvt_height(t),
                      hmax, maxlive, maxn);
        assert_true(mt__fvt_height(t) <= hmax);
        /* Leaves at least half full, inner nodes fewer still; plus the two
         * versions alive at once and a few blocks of the context. */
        assert_true((size_t)maxlive <=
                    2 * (2 * (maxn / MT_FVT_LEAF_MIN + 1) + 2 * hmax) + 16);
        for (size_t i = 0; i < cnt; i += 1 + below(50)) {
            const mt_flat_range *fr = mt__fvt_at(t, i);

            assert_ptr_equal(mt__fvt_lookup(t, fr->start), fr);
            assert_ptr_equal(mt__fvt_lookup(t, fr->last), fr);
            assert_int_equal(mt__fvt_lower(t, fr->start), i);
        }
    }
    mt__fvt_free(t);
    check_region_refs(1);
    drop_regions();
    free(init);
    mt_ctx_free(ctx);
    assert_int_equal(st.live, 0);
}

/* 1e6 ranges, then 1e5 single-range replaces (in place, insert, delete). */
static void test_scale(void **state)
{
    (void)state;
    mt_ctx *ctx = t_ctx();
#ifdef FVT_TEST_SMALL
    size_t n = 100000, ops = 20000;
#else
    size_t n = 1000000, ops = 100000;
#endif
    mt_flat_range *r = calloc(n, sizeof(*r));
    mt_fvtree *t = NULL, *first = NULL;
    double t0, t1, t2;

    assert_non_null(r);
    reseed(6);
    make_regions(ctx);
    for (size_t i = 0; i < n; i++) {
        r[i].start = (uint64_t)i << 24;
        r[i].last = r[i].start + 0xffff;
        fill_attrs(&r[i]);
    }
    t0 = now_s();
    MT_OK(mt__fvt_new(ctx, r, n, &t));
    t1 = now_s();
    assert_int_equal(mt__fvt_count(t), n);
    assert_null(mt__fvt_check(t));
    first = t;                          /* kept to the end: all shared */
    for (size_t op = 0; op < ops; op++) {
        size_t cnt = mt__fvt_count(t), i = (size_t)below(cnt);
        const mt_flat_range *old = mt__fvt_at(t, i);
        mt_fvtree *nt = NULL;
        mt_flat_range fr = *old;

        switch (below(3)) {
        case 0:                         /* same place, new attributes */
            fill_attrs(&fr);
            MT_OK(mt__fvt_replace(t, i, i + 1, &fr, 1, &nt));
            assert_true(same_range(mt__fvt_lookup(nt, fr.start), &fr));
            assert_true(same_range(mt__fvt_at(nt, i), &fr));
            break;
        case 1:                         /* insert right after range i */
            if (old->last + 2 >= (i + 1 < cnt ? mt__fvt_at(t, i + 1)->start
                                              : UINT64_MAX)) {
                MT_OK(mt__fvt_replace(t, i, i, NULL, 0, &nt));
                break;
            }
            fr.start = old->last + 2;
            fr.last = fr.start;
            fill_attrs(&fr);
            MT_OK(mt__fvt_replace(t, i + 1, i + 1, &fr, 1, &nt));
            assert_true(same_range(mt__fvt_at(nt, i + 1), &fr));
            assert_int_equal(mt__fvt_count(nt), cnt + 1);
            break;
        default:                        /* delete range i */
            MT_OK(mt__fvt_replace(t, i, i + 1, NULL, 0, &nt));
            assert_null(mt__fvt_lookup(nt, fr.start));
            assert_int_equal(mt__fvt_count(nt), cnt - 1);
            break;
        }
        if (t != first)
            mt__fvt_free(t);
        t = nt;
    }
    t2 = now_s();
    {
        const char *err = mt__fvt_check(t);

        if (err)
            fail_msg("MT_SEED=%#llx: %s", (unsigned long long)seed, err);
    }
    print_message("scale: build of %zu ranges %.3f s (height %u), %zu "
                  "single-range replaces %.3f s (%.2f us each)\n",
                  n, t1 - t0, mt__fvt_height(first), ops, t2 - t1,
                  (t2 - t1) * 1e6 / (double)ops);
    /* The first version is untouched. */
    for (size_t i = 0; i < n; i += 997)
        assert_true(same_range(mt__fvt_at(first, i), &r[i]));
    {
        mt_fvt_iter it;
        size_t i = 0;
        const mt_flat_range *fr;

        mt__fvt_iter_init(&it, first, 0);
        while ((fr = mt__fvt_iter_next(&it)) != NULL) {
            assert_true(i < n && fr->start == r[i].start);
            i++;
        }
        assert_int_equal(i, n);
    }
    mt__fvt_free(first);
    mt__fvt_free(t);
    check_region_refs(1);
    drop_regions();
    free(r);
    mt_ctx_free(ctx);
}

/* ------------------------------------------------------------------------ */
/* Versions freed on another thread                                          */
/* ------------------------------------------------------------------------ */

/* An allocator that counts live blocks atomically (two threads use it). */
static atomic_long mt_live;

static void *mt_alloc_fn(void *o, size_t n)
{
    void *p = malloc(n ? n : 1);

    (void)o;
    if (p)
        atomic_fetch_add(&mt_live, 1);
    return p;
}

static void *mt_realloc_fn(void *o, void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);

    (void)o;
    if (q && !p)
        atomic_fetch_add(&mt_live, 1);
    return q;
}

static void mt_free_fn(void *o, void *p)
{
    (void)o;
    if (p)
        atomic_fetch_sub(&mt_live, 1);
    free(p);
}

#define QLEN 64

typedef struct handoff {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    mt_fvtree *q[QLEN];
    size_t head, tail;          /* tail - head versions queued */
    bool done;
    unsigned long checked;
    bool bad;
} handoff;

/* The "RCU reclaimer": reads each retired version once more, then frees
 * it, while the producer keeps deriving versions that share its nodes. */
static void *reclaimer(void *arg)
{
    handoff *h = arg;

    for (;;) {
        mt_fvtree *t;

        pthread_mutex_lock(&h->lock);
        while (h->head == h->tail && !h->done)
            pthread_cond_wait(&h->cond, &h->lock);
        if (h->head == h->tail) {
            pthread_mutex_unlock(&h->lock);
            break;
        }
        t = h->q[h->head++ % QLEN];
        pthread_cond_broadcast(&h->cond);
        pthread_mutex_unlock(&h->lock);

        for (size_t i = 0; i < mt__fvt_count(t); i += 499) {
            const mt_flat_range *fr = mt__fvt_at(t, i);

            if (mt__fvt_lookup(t, fr->start) != fr ||
                mt__fvt_lookup(t, fr->last) != fr)
                h->bad = true;
            h->checked++;
        }
        mt__fvt_free(t);
    }
    return NULL;
}

static void test_free_on_other_thread(void **state)
{
    (void)state;
    mt_allocator al = { mt_alloc_fn, mt_realloc_fn, mt_free_fn, NULL };
    mt_ctx *ctx = NULL;
    handoff h;
    pthread_t th;
    mt_fvtree *cur = NULL;
    size_t n = 20000;
    mt_flat_range *r = calloc(n, sizeof(*r));
    long base;

    assert_non_null(r);
    memset(&h, 0, sizeof(h));
    pthread_mutex_init(&h.lock, NULL);
    pthread_cond_init(&h.cond, NULL);
    MT_OK(mt_ctx_new(&ctx, &al));
    base = atomic_load(&mt_live);
    reseed(7);
    /* No regions: their reference counts are not atomic (fvtree.h). */
    for (size_t i = 0; i < n; i++) {
        r[i].start = (uint64_t)i << 20;
        r[i].last = r[i].start + 0xfff;
        r[i].offset = i;
    }
    MT_OK(mt__fvt_new(ctx, r, n, &cur));
    assert_int_equal(pthread_create(&th, NULL, reclaimer, &h), 0);
    for (int op = 0; op < 20000; op++) {
        size_t cnt = mt__fvt_count(cur), i = (size_t)below(cnt);
        mt_flat_range fr = *mt__fvt_at(cur, i);
        mt_fvtree *nt = NULL;

        fr.offset = (uint64_t)op;
        if (below(2))
            MT_OK(mt__fvt_replace(cur, i, i + 1, &fr, 1, &nt));
        else if (cnt > n / 2 && below(2))
            MT_OK(mt__fvt_replace(cur, i, i + 1, NULL, 0, &nt));
        else if (i + 1 < cnt && fr.last + 2 < mt__fvt_at(cur, i + 1)->start) {
            fr.start = fr.last = fr.last + 2;
            MT_OK(mt__fvt_replace(cur, i + 1, i + 1, &fr, 1, &nt));
        } else {
            MT_OK(mt__fvt_replace(cur, i, i, NULL, 0, &nt));
        }
        pthread_mutex_lock(&h.lock);
        while (h.tail - h.head == QLEN)
            pthread_cond_wait(&h.cond, &h.lock);
        h.q[h.tail++ % QLEN] = cur;
        pthread_cond_broadcast(&h.cond);
        pthread_mutex_unlock(&h.lock);
        cur = nt;
    }
    pthread_mutex_lock(&h.lock);
    h.done = true;
    pthread_cond_broadcast(&h.cond);
    pthread_mutex_unlock(&h.lock);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_false(h.bad);
    assert_null(mt__fvt_check(cur));
    mt__fvt_free(cur);
    assert_int_equal(atomic_load(&mt_live), base);
    print_message("other thread: %lu lookups in retired versions\n",
                  h.checked);
    pthread_cond_destroy(&h.cond);
    pthread_mutex_destroy(&h.lock);
    free(r);
    mt_ctx_free(ctx);
}

int main(void)
{
    const char *s = getenv("MT_SEED");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_builds),
        cmocka_unit_test(test_extremes),
        cmocka_unit_test(test_random_replace),
        cmocka_unit_test(test_big_runs),
        cmocka_unit_test(test_region_lifetime),
        cmocka_unit_test(test_alloc_failure),
        cmocka_unit_test(test_long_sequence),
        cmocka_unit_test(test_scale),
        cmocka_unit_test(test_free_on_other_thread),
    };

    seed = s && *s ? strtoull(s, NULL, 0) : DEFAULT_SEED;
    print_message(FVT_TEST_NAME ": MT_SEED=%#llx (leaf %d, inner %d)\n",
                  (unsigned long long)seed, MT_FVT_LEAF_MAX,
                  MT_FVT_INNER_MAX);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
