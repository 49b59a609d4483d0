/* SPDX-License-Identifier: MIT */
/*
 * test_model_property.c: differential test of memtree's flat views against
 * the naive model (naive.h).
 *
 * With a fixed-seed PRNG it builds thousands of random region trees
 * (containers, I/O, RAM, ROM, ROM devices, RAM devices, aliases including
 * alias chains and aliases of containers; random priorities including
 * negative and extreme ones, overlaps, disabled regions, read-only and
 * non-volatile flags, ROMD mode, dirty logging, 2^64-sized regions and
 * regions near or past the top of the address space), then mutates them
 * inside and outside (nested) transactions. After every outermost commit it
 * checks each address space:
 *  (a) at every range boundary +-1, at every region's absolute boundaries
 *      and at random addresses, the flat range containing the address (or a
 *      hole) gives the same answer as the naive model;
 *  (b) the view is sorted, disjoint, made of non-empty ranges of terminal
 *      regions inside their size, and no two adjacent ranges could merge;
 *  (c) the view's root is the naive physical root, and two address spaces
 *      share a view object exactly when their physical roots are equal;
 * and inside a transaction, that no published view changes.
 *
 * Environment: MT_SEED (base seed, default below; printed), MT_TREES
 * (number of trees, default 3000), MT_TREE_FIRST (first tree index, to
 * replay one failing tree quickly: MT_SEED=s MT_TREE_FIRST=i MT_TREES=1),
 * MT_DUMP (print every generated tree and its views, to tune the generator).
 *
 * A few calls change a region's address without re-rendering, as in QEMU;
 * see kick() for how the test keeps the model comparable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>

#include <cmocka.h>

#include "memtree.h"
#include "naive.h"

__extension__ typedef unsigned __int128 u128;

#define DEFAULT_SEED 0x6d656d7472656531ull /* "memtree1" */
#define DEFAULT_TREES 3000u
#define MAX_REGIONS 40
#define MAX_AS 4

static uint8_t ram_buf[0x2000]; /* backing of every RAM-pointer region */

typedef struct world {
    mt_ctx *ctx;
    mt_region *r[MAX_REGIONS]; /* regions we hold a reference on */
    int dirty[MAX_REGIONS];    /* our dirty-log count on r[i] */
    size_t n;
    mt_as *as[MAX_AS];
    size_t nas;
    mt_region *kick;           /* unmapped scratch region, see kick() */
    uint64_t rng;
    unsigned long long seed;
    unsigned tree;
    unsigned step;
    unsigned names;
} world;

/* Coverage counters, printed at the end. */
static struct {
    unsigned long trees, regions, aliases, full, near_top, checks, probes,
        ranges, txns, nested, eloop, ebusy, ekind, erange, estate, enoent,
        freed, shared, empty, rich, alias_cycles_avoided;
} stats;

/* ------------------------------------------------------------------------ */
/* PRNG (splitmix64)                                                         */
/* ------------------------------------------------------------------------ */

static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t next(world *w)
{
    w->rng += 0x9e3779b97f4a7c15ull;
    return mix(w->rng);
}

static uint64_t below(world *w, uint64_t n)
{
    return next(w) % n;
}

static bool chance(world *w, unsigned pct)
{
    return below(w, 100) < pct;
}

/* ------------------------------------------------------------------------ */
/* Failure reporting                                                         */
/* ------------------------------------------------------------------------ */

static const char *nm(const mt_region *r)
{
    if (!r)
        return "(none)";
    const char *s = mt_region_name(r);
    return s ? s : "(null)";
}

static const char *kind_name(mt_region_kind k)
{
    switch (k) {
    case MT_REGION_CONTAINER: return "container";
    case MT_REGION_IO: return "io";
    case MT_REGION_RAM: return "ram";
    case MT_REGION_ROM_DEVICE: return "romdev";
    case MT_REGION_RAM_DEVICE: return "ramdev";
    case MT_REGION_ALIAS: return "alias";
    }
    return "?";
}

static void dump_subtree(mt_region *r, int level, mt_region **todo,
                         size_t *ntodo)
{
    fprintf(stderr, "%*s%s %s addr=%#llx size=%#llx%s prio=%d%s%s%s%s%s",
            2 * level, "", nm(r), kind_name(mt_region_kind_of(r)),
            (unsigned long long)mt_region_addr(r),
            (unsigned long long)mt_region_size(r),
            mt_region_size(r) == MT_SIZE_FULL ? "(2^64)" : "",
            mt_region_priority(r), mt_region_enabled(r) ? "" : " DISABLED",
            mt_region_readonly(r) ? " ro" : "",
            mt_region_nonvolatile(r) ? " nv" : "",
            mt_region_romd(r) ? "" : " !romd",
            mt_region_dirty_log(r) ? " dirty" : "");
    mt_region *t = mt_region_alias_target(r);
    if (t) {
        fprintf(stderr, " -> %s @%#llx", nm(t),
                (unsigned long long)mt_region_alias_offset(r));
        if (*ntodo < 256)
            todo[(*ntodo)++] = t;
    }
    fputc('\n', stderr);
    for (size_t i = 0; i < mt_region_nr_subregions(r); i++)
        dump_subtree(mt_region_subregion(r, i), level + 1, todo, ntodo);
}

static void dump_world(world *w)
{
    mt_region *todo[256 + MAX_REGIONS + MAX_AS];
    size_t ntodo = 0;
    for (size_t i = 0; i < w->nas; i++) {
        mt_region *root = mt_as_root(w->as[i]);
        fprintf(stderr, "AS %s: root %s, physical root %s\n",
                mt_as_name(w->as[i]), nm(root),
                nm(naive_physical_root(root)));
        todo[ntodo++] = root;
    }
    for (size_t i = 0; i < w->n; i++)
        todo[ntodo++] = w->r[i];
    mt_region *done[sizeof(todo) / sizeof(todo[0])];
    size_t ndone = 0;
    for (size_t i = 0; i < ntodo; i++) {
        mt_region *top = todo[i];
        while (mt_region_container(top))
            top = mt_region_container(top);
        bool seen = false;
        for (size_t j = 0; j < ndone; j++)
            seen = seen || done[j] == top;
        if (seen || ndone == sizeof(done) / sizeof(done[0]))
            continue;
        done[ndone++] = top;
        fprintf(stderr, "tree:\n");
        dump_subtree(top, 1, todo, &ntodo);
    }
}

static void dump_view(const mt_flatview *fv)
{
    size_t n = mt_flatview_nr_ranges(fv);
    fprintf(stderr, "flat view (root %s), %zu range(s):\n",
            nm(mt_flatview_root(fv)), n);
    for (size_t i = 0; i < n; i++) {
        const mt_flat_range *fr = mt_flatview_range(fv, i);
        fprintf(stderr, "  %016llx-%016llx %s @%#llx%s%s%s%s\n",
                (unsigned long long)fr->start, (unsigned long long)fr->last,
                nm(fr->region), (unsigned long long)fr->offset,
                fr->readonly ? " ro" : "", fr->nonvolatile ? " nv" : "",
                fr->romd ? "" : " !romd", fr->dirty_log_mask ? " dirty" : "");
    }
}

#define FAIL(w, fv, ...)                                                     \
    do {                                                                     \
        fprintf(stderr, "\nMODEL MISMATCH (replay: MT_SEED=%#llx "            \
                "MT_TREE_FIRST=%u MT_TREES=1), step %u:\n  ", (w)->seed,      \
                (w)->tree, (w)->step);                                       \
        fprintf(stderr, __VA_ARGS__);                                        \
        fputc('\n', stderr);                                                 \
        dump_world(w);                                                       \
        if (fv)                                                              \
            dump_view(fv);                                                   \
        fail_msg("flat view differs from the naive model (see above)");      \
    } while (0)

/* A call whose result the model predicts. */
#define CALL(w, expr, want)                                                  \
    do {                                                                     \
        int rc_ = (expr);                                                    \
        int want_ = (want);                                                  \
        if (rc_ != want_)                                                    \
            FAIL(w, NULL, "%s returned %s, expected %s", #expr,              \
                 mt_err_name(rc_), mt_err_name(want_));                      \
    } while (0)

/* ------------------------------------------------------------------------ */
/* Random values                                                             */
/* ------------------------------------------------------------------------ */

static uint64_t pick_addr(world *w)
{
    switch (below(w, 20)) {
    case 0: return 0;
    case 1: return next(w);
    case 2:
    case 3: stats.near_top++; return 0 - (1 + below(w, 64)) * 0x10;
    case 4: stats.near_top++; return 0 - below(w, 3);
    case 5:
    case 6: return below(w, 16) * 0x100;
    default: return below(w, 64) * 0x10;
    }
}

static uint64_t pick_mem_size(world *w)
{
    static const uint64_t s[] = { 1,     0x10,  0x20,  0x40,   0x80,
                                  0x100, 0x200, 0x400, 0x1000, 0x2000 };
    if (chance(w, 3))
        return 0;
    if (chance(w, 10))
        return 1 + below(w, sizeof(ram_buf));
    return s[below(w, sizeof(s) / sizeof(s[0]))];
}

static uint64_t pick_size(world *w)
{
    switch (below(w, 20)) {
    case 0:
    case 1: stats.full++; return MT_SIZE_FULL;
    case 2: return 0 - (1 + below(w, 64)) * 0x10;
    case 3: {
        /* one call per statement: argument and operand order is
         * unspecified, and a replay must draw the same numbers */
        uint64_t v = next(w);
        return v >> below(w, 64);
    }
    default: return pick_mem_size(w);
    }
}

/* Containers: mostly room for several children. */
static uint64_t pick_big_size(world *w)
{
    static const uint64_t s[] = { 0x400, 0x1000, 0x4000, 0x10000,
                                  MT_SIZE_FULL };
    if (chance(w, 25))
        return pick_size(w);
    uint64_t size = s[below(w, sizeof(s) / sizeof(s[0]))];
    stats.full += size == MT_SIZE_FULL;
    return size;
}

/* Where to put a child: mostly inside its parent, sometimes anywhere. */
static uint64_t pick_child_addr(world *w, const mt_region *parent)
{
    uint64_t size = mt_region_size(parent);
    if (chance(w, 30) || size < 0x20)
        return pick_addr(w);
    uint64_t room = size > 0x4000 ? 0x4000 : size;
    return below(w, room / 0x10) * 0x10;
}

/* An alias offset: mostly inside the target, sometimes anywhere. */
static uint64_t pick_offset(world *w, const mt_region *target)
{
    uint64_t size = mt_region_size(target);
    switch (below(w, 10)) {
    case 0: case 1: case 2: case 3: return 0;
    case 4: case 5: return pick_addr(w);
    default:
        if (size < 0x20)
            return below(w, 0x10);
        return below(w, (size > 0x4000 ? 0x4000 : size) / 0x10) * 0x10;
    }
}

static int pick_prio(world *w)
{
    static const int p[] = { -2, -1, 0, 0, 0, 1, 2 };
    if (chance(w, 3))
        return chance(w, 50) ? INT_MIN : INT_MAX;
    return p[below(w, sizeof(p) / sizeof(p[0]))];
}

static u128 size128(uint64_t s)
{
    return s == MT_SIZE_FULL ? (u128)1 << 64 : (u128)s;
}

static bool window_overflows(uint64_t offset, uint64_t size)
{
    return (u128)offset + size128(size) > (u128)1 << 64;
}

/* ------------------------------------------------------------------------ */
/* Building                                                                  */
/* ------------------------------------------------------------------------ */

static bool is_ram_kind(const mt_region *r)
{
    return mt_region_kind_of(r) == MT_REGION_RAM;
}

static bool has_memory(const mt_region *r)
{
    mt_region_kind k = mt_region_kind_of(r);
    return k == MT_REGION_RAM || k == MT_REGION_ROM_DEVICE;
}

static bool can_parent(const mt_region *r)
{
    mt_region_kind k = mt_region_kind_of(r);
    return k != MT_REGION_RAM && k != MT_REGION_RAM_DEVICE;
}

static mt_region *new_region(world *w)
{
    char name[16];
    snprintf(name, sizeof(name), "r%u", w->names++);
    mt_region *r = NULL;
    unsigned k = (unsigned)below(w, 100);
    if (k >= 80 && w->n == 0)
        k = 0;
    if (k < 16) {
        CALL(w, mt_region_new_container(w->ctx, name, pick_big_size(w), &r),
             0);
    } else if (k < 38) {
        CALL(w, mt_region_new_io(w->ctx, name, pick_size(w), NULL, NULL, &r),
             0);
    } else if (k < 52) {
        CALL(w, mt_region_new_ram_ptr(w->ctx, name, pick_mem_size(w),
                                      ram_buf, &r), 0);
    } else if (k < 57) {
        CALL(w, mt_region_new_ram(w->ctx, name, pick_mem_size(w), &r), 0);
    } else if (k < 65) {
        CALL(w, mt_region_new_rom(w->ctx, name, pick_mem_size(w), &r), 0);
    } else if (k < 74) {
        CALL(w, mt_region_new_rom_device(w->ctx, name, pick_mem_size(w),
                                         NULL, NULL, &r), 0);
    } else if (k < 80) {
        CALL(w, mt_region_new_ram_device(w->ctx, name, pick_mem_size(w),
                                         ram_buf, &r), 0);
    } else {
        mt_region *target = w->r[below(w, w->n)];
        uint64_t size = chance(w, 50) ? pick_mem_size(w) : pick_size(w);
        uint64_t off = pick_offset(w, target);
        if (window_overflows(off, size)) {
            CALL(w, mt_region_new_alias(w->ctx, name, target, off, size, &r),
                 MT_ERANGE);
            stats.erange++;
            off = 0;
        }
        CALL(w, mt_region_new_alias(w->ctx, name, target, off, size, &r), 0);
        stats.aliases++;
    }
    stats.regions++;
    return r;
}

static void decorate(world *w, size_t i)
{
    mt_region *r = w->r[i];
    if (chance(w, 10))
        CALL(w, mt_region_set_readonly(r, true), 0);
    if (chance(w, 8))
        CALL(w, mt_region_set_nonvolatile(r, true), 0);
    if (mt_region_kind_of(r) == MT_REGION_ROM_DEVICE && chance(w, 40))
        CALL(w, mt_region_set_romd(r, false), 0);
    if (has_memory(r) && chance(w, 20)) {
        CALL(w, mt_region_set_dirty_log(r, true), 0);
        w->dirty[i]++;
    }
    if (chance(w, 12))
        CALL(w, mt_region_set_enabled(r, false), 0);
}

static void add_region(world *w)
{
    if (w->n == MAX_REGIONS)
        return;
    w->r[w->n] = new_region(w);
    w->dirty[w->n] = 0;
    w->n++;
    decorate(w, w->n - 1);
}

/*
 * A region's address can change without a re-render, as in QEMU (checklist
 * item 17, checked by test_transaction): moving an unmapped region only
 * stores its address, and mapping into (or moving within) a disabled
 * container, or mapping a disabled region, marks nothing pending. Such a
 * region is invisible, unless it is the (physical) root of an address
 * space, which renders at the root's own address: that view stays at the
 * old address until the next re-render. The model has no memory of the
 * past, so after exactly those calls force the re-render: resizing any
 * region always marks the topology as changed.
 */
static void kick(world *w)
{
    CALL(w, mt_region_set_size(w->kick, mt_region_size(w->kick) ^ 1), 0);
}

/* Try to map a random unmapped region under a random parent; the model
 * predicts the outcome. */
static void try_map(world *w)
{
    mt_region *sub = w->r[below(w, w->n)];
    mt_region *parent = w->r[below(w, w->n)];
    if (sub == w->r[0] && chance(w, 90))
        return; /* region 0 mostly stays a top-level "system" */
    if (w->n > 1 && chance(w, 35))
        parent = w->r[0]; /* and gets many children */
    /* Prefer containers, then anything that may have children. */
    for (int tries = 0; tries < 4 && parent != w->r[0] && chance(w, 60) &&
                        mt_region_kind_of(parent) != MT_REGION_CONTAINER;
         tries++)
        parent = w->r[below(w, w->n)];
    for (int tries = 0; tries < 3 && !can_parent(parent); tries++)
        parent = w->r[below(w, w->n)];
    if (mt_region_kind_of(parent) == MT_REGION_RAM_DEVICE)
        return;
    uint64_t off = pick_child_addr(w, parent);
    /*
     * Containment cycles are refused (MT_ELOOP). A cycle through an alias
     * (an alias of a region mapped inside that region) is legal in QEMU and
     * renders finitely only when the alias window excludes the alias
     * itself; a self-covering one recurses without end (QEMU overflows its
     * stack). The generator never builds alias cycles, so the test does not
     * depend on how memtree bounds the latter; unit tests cover the former.
     */
    bool loop = naive_reaches(sub, parent);
    bool contain_loop = naive_contains(sub, parent);
    if (loop && !contain_loop) {
        stats.alias_cycles_avoided++;
        return;
    }
    int want;
    /* Only one thing wrong at a time: the API does not rank errors. */
    if (is_ram_kind(parent)) {
        if (loop || mt_region_container(sub) || !chance(w, 5))
            return;
        want = MT_EKIND;
        stats.ekind++;
    } else if (mt_region_container(sub)) {
        if (loop || !chance(w, 10))
            return;
        want = MT_EBUSY;
        stats.ebusy++;
    } else {
        want = loop ? MT_ELOOP : 0;
        if (loop)
            stats.eloop++;
    }
    if (chance(w, 50))
        CALL(w, mt_region_add_subregion(parent, off, sub), want);
    else
        CALL(w, mt_region_add_subregion_overlap(parent, off, sub,
                                                pick_prio(w)), want);
    if (want == 0 && (!mt_region_enabled(parent) || !mt_region_enabled(sub)))
        kick(w);
}

static void new_as(world *w)
{
    if (w->nas == MAX_AS || w->n == 0)
        return;
    mt_region *root = w->r[below(w, w->n)];
    if (w->nas == 0 && chance(w, 90))
        root = w->r[0]; /* the "system" container, if still ours */
    else if (chance(w, 60)) {
        /* prefer the top of a tree */
        while (mt_region_container(root))
            root = mt_region_container(root);
    }
    char name[16];
    snprintf(name, sizeof(name), "as%zu", w->nas);
    mt_as *as = NULL;
    CALL(w, mt_as_new(w->ctx, root, name, &as), 0);
    w->as[w->nas++] = as;
}

/* ------------------------------------------------------------------------ */
/* Checking                                                                  */
/* ------------------------------------------------------------------------ */

static const mt_flat_range *find_range(const mt_flatview *fv, uint64_t a)
{
    size_t lo = 0, hi = mt_flatview_nr_ranges(fv);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const mt_flat_range *fr = mt_flatview_range(fv, mid);
        if (a < fr->start)
            hi = mid;
        else if (a > fr->last)
            lo = mid + 1;
        else
            return fr;
    }
    return NULL;
}

static void check_invariants(world *w, mt_flatview *fv)
{
    size_t n = mt_flatview_nr_ranges(fv);
    const mt_flat_range *prev = NULL;
    for (size_t i = 0; i < n; i++) {
        const mt_flat_range *fr = mt_flatview_range(fv, i);
        if (!fr)
            FAIL(w, fv, "range %zu of %zu is NULL", i, n);
        if (fr->start > fr->last)
            FAIL(w, fv, "range %zu: start > last", i);
        if (!fr->region || !mt_region_terminates(fr->region) ||
            mt_region_kind_of(fr->region) == MT_REGION_ALIAS ||
            mt_region_kind_of(fr->region) == MT_REGION_CONTAINER)
            FAIL(w, fv, "range %zu: region %s is not terminal", i,
                 nm(fr->region));
        if ((u128)fr->offset + (fr->last - fr->start) >=
            size128(mt_region_size(fr->region)))
            FAIL(w, fv, "range %zu: offset past the end of %s", i,
                 nm(fr->region));
        if (prev) {
            if (prev->last >= fr->start)
                FAIL(w, fv, "ranges %zu and %zu overlap or are unsorted",
                     i - 1, i);
            if (prev->last + 1 == fr->start && prev->region == fr->region &&
                prev->offset + (prev->last - prev->start) + 1 == fr->offset &&
                prev->readonly == fr->readonly &&
                prev->nonvolatile == fr->nonvolatile &&
                prev->romd == fr->romd &&
                prev->dirty_log_mask == fr->dirty_log_mask)
                FAIL(w, fv, "ranges %zu and %zu should have been merged",
                     i - 1, i);
        }
        prev = fr;
    }
    if (mt_flatview_range(fv, n) != NULL)
        FAIL(w, fv, "mt_flatview_range(fv, nr) is not NULL");
    stats.ranges += n;
}

static void probe(world *w, mt_flatview *fv, mt_region *phys, uint64_t a)
{
    naive_answer want = naive_render_at(phys, a);
    const mt_flat_range *fr = find_range(fv, a);
    stats.probes++;
    if (!want.hit) {
        if (fr)
            FAIL(w, fv, "at %#llx: model has a hole, view has %s @%#llx",
                 (unsigned long long)a, nm(fr->region),
                 (unsigned long long)(fr->offset + (a - fr->start)));
        return;
    }
    if (!fr)
        FAIL(w, fv, "at %#llx: model has %s @%#llx, view has a hole",
             (unsigned long long)a, nm(want.region),
             (unsigned long long)want.offset);
    uint64_t off = fr->offset + (a - fr->start);
    if (fr->region != want.region || off != want.offset ||
        fr->readonly != want.readonly ||
        fr->nonvolatile != want.nonvolatile || fr->romd != want.romd ||
        fr->dirty_log_mask != want.dirty_log_mask)
        FAIL(w, fv,
             "at %#llx: model has %s @%#llx%s%s%s%s, view has %s "
             "@%#llx%s%s%s%s",
             (unsigned long long)a, nm(want.region),
             (unsigned long long)want.offset, want.readonly ? " ro" : "",
             want.nonvolatile ? " nv" : "", want.romd ? "" : " !romd",
             want.dirty_log_mask ? " dirty" : "", nm(fr->region),
             (unsigned long long)off, fr->readonly ? " ro" : "",
             fr->nonvolatile ? " nv" : "", fr->romd ? "" : " !romd",
             fr->dirty_log_mask ? " dirty" : "");
}

static void probe_around(world *w, mt_flatview *fv, mt_region *phys,
                         uint64_t a)
{
    probe(w, fv, phys, a - 1);
    probe(w, fv, phys, a);
    probe(w, fv, phys, a + 1);
}

static void check_as(world *w, mt_as *as, mt_flatview *fv)
{
    mt_region *phys = naive_physical_root(mt_as_root(as));
    if (mt_flatview_root(fv) != phys)
        FAIL(w, fv, "AS %s: view root %s, model's physical root %s",
             mt_as_name(as), nm(mt_flatview_root(fv)), nm(phys));
    if (!phys)
        stats.empty++;
    check_invariants(w, fv);
    size_t n = mt_flatview_nr_ranges(fv);
    stats.rich += n >= 4;
    for (size_t i = 0; i < n; i++) {
        const mt_flat_range *fr = mt_flatview_range(fv, i);
        probe_around(w, fv, phys, fr->start);
        probe_around(w, fv, phys, fr->last);
    }
    /* Absolute boundaries of every region we know (container chain). */
    for (size_t i = 0; i < w->n; i++) {
        uint64_t abs = 0;
        for (mt_region *r = w->r[i]; r; r = mt_region_container(r))
            abs += mt_region_addr(r);
        probe_around(w, fv, phys, abs);
        probe_around(w, fv, phys, abs + mt_region_size(w->r[i]));
    }
    probe(w, fv, phys, 0);
    probe(w, fv, phys, UINT64_MAX);
    for (int i = 0; i < 24; i++) {
        uint64_t a = i < 16 ? pick_addr(w) : next(w);
        if (i < 16)
            a += below(w, 0x10);
        probe(w, fv, phys, a);
    }
}

static void check_world(world *w)
{
    mt_flatview *fv[MAX_AS];
    mt_region *phys[MAX_AS];
    stats.checks++;
    for (size_t i = 0; i < w->nas; i++) {
        fv[i] = mt_as_flatview(w->as[i]);
        if (!fv[i])
            FAIL(w, NULL, "mt_as_flatview returned NULL");
        phys[i] = naive_physical_root(mt_as_root(w->as[i]));
        check_as(w, w->as[i], fv[i]);
    }
    for (size_t i = 0; i < w->nas; i++) {
        for (size_t j = i + 1; j < w->nas; j++) {
            bool same_view = fv[i] == fv[j];
            bool same_root = phys[i] == phys[j];
            if (same_view != same_root)
                FAIL(w, fv[i], "AS %s and %s: %s view, %s physical root",
                     mt_as_name(w->as[i]), mt_as_name(w->as[j]),
                     same_view ? "same" : "different",
                     same_root ? "same" : "different");
            stats.shared += same_view;
        }
    }
    for (size_t i = 0; i < w->nas; i++)
        mt_flatview_unref(fv[i]);
}

/* ------------------------------------------------------------------------ */
/* Mutations                                                                 */
/* ------------------------------------------------------------------------ */

static void drop_slot(world *w, size_t i)
{
    mt_region_unref(w->r[i]);
    w->r[i] = w->r[w->n - 1];
    w->dirty[i] = w->dirty[w->n - 1];
    w->n--;
    stats.freed++;
}

/* One random mutation; @in_txn forbids creating/freeing address spaces. */
static void mutate(world *w, bool in_txn)
{
    if (w->n == 0) {
        add_region(w);
        return;
    }
    size_t i = below(w, w->n);
    mt_region *r = w->r[i];
    mt_region_kind k = mt_region_kind_of(r);
    switch (below(w, 16)) {
    case 0:
        CALL(w, mt_region_set_enabled(r, !mt_region_enabled(r)), 0);
        break;
    case 1: {
        mt_region *c = mt_region_container(r);
        CALL(w, mt_region_set_address(r, c ? pick_child_addr(w, c)
                                           : pick_addr(w)), 0);
        if (!c || !mt_region_enabled(c) || !mt_region_enabled(r))
            kick(w);
        break;
    }
    case 2:
        if (k != MT_REGION_ALIAS) {
            stats.ekind++;
            CALL(w, mt_region_set_alias_offset(r, 0x10), MT_EKIND);
        } else {
            uint64_t off = pick_offset(w, mt_region_alias_target(r));
            bool bad = window_overflows(off, mt_region_size(r));
            stats.erange += bad;
            CALL(w, mt_region_set_alias_offset(r, off), bad ? MT_ERANGE : 0);
        }
        break;
    case 3: {
        uint64_t size = pick_size(w);
        if (k == MT_REGION_RAM) {
            stats.ekind++;
            CALL(w, mt_region_set_size(r, size), MT_EKIND);
        } else if (k == MT_REGION_ALIAS) {
            bool bad = window_overflows(mt_region_alias_offset(r), size);
            stats.erange += bad;
            CALL(w, mt_region_set_size(r, size), bad ? MT_ERANGE : 0);
        } else if (k == MT_REGION_CONTAINER || k == MT_REGION_IO) {
            CALL(w, mt_region_set_size(r, size), 0);
        }
        break;
    }
    case 4:
        CALL(w, mt_region_set_readonly(r, !mt_region_readonly(r)), 0);
        break;
    case 5:
        CALL(w, mt_region_set_nonvolatile(r, !mt_region_nonvolatile(r)), 0);
        break;
    case 6:
        if (k == MT_REGION_ROM_DEVICE) {
            CALL(w, mt_region_set_romd(r, !mt_region_romd(r)), 0);
        } else {
            stats.ekind++;
            CALL(w, mt_region_set_romd(r, false), MT_EKIND);
        }
        break;
    case 7:
        if (!has_memory(r))
            break;
        if (chance(w, 50)) {
            CALL(w, mt_region_set_dirty_log(r, true), 0);
            w->dirty[i]++;
        } else if (w->dirty[i] > 0) {
            CALL(w, mt_region_set_dirty_log(r, false), 0);
            w->dirty[i]--;
        } else {
            stats.estate++;
            CALL(w, mt_region_set_dirty_log(r, false), MT_ESTATE);
        }
        break;
    case 8:
    case 9:
        try_map(w);
        break;
    case 10: {
        mt_region *c = mt_region_container(r);
        if (c) {
            CALL(w, mt_region_del_subregion(c, r), 0);
        } else {
            mt_region *other = w->r[below(w, w->n)];
            stats.enoent++;
            CALL(w, mt_region_del_subregion(other, r), MT_ENOENT);
        }
        break;
    }
    case 11:
        add_region(w);
        if (chance(w, 70))
            try_map(w);
        break;
    case 12:
        if (chance(w, 50))
            drop_slot(w, i);
        break;
    case 13:
        /* unchanged address: a no-op, the region keeps its place */
        CALL(w, mt_region_set_address(r, mt_region_addr(r)), 0);
        break;
    case 14:
        if (!in_txn)
            new_as(w);
        break;
    case 15:
        if (!in_txn && w->nas > 1) {
            size_t j = below(w, w->nas);
            mt_as_free(w->as[j]);
            w->as[j] = w->as[--w->nas];
        }
        break;
    }
}

/* A (possibly nested) transaction of several mutations: nothing may be
 * published before the outermost commit. */
static void transaction(world *w)
{
    mt_flatview *held[MAX_AS];
    size_t nas = w->nas;
    for (size_t i = 0; i < nas; i++)
        held[i] = mt_as_flatview(w->as[i]);
    unsigned depth = chance(w, 30) ? 2 : 1;
    stats.txns++;
    stats.nested += depth > 1;
    for (unsigned d = 0; d < depth; d++)
        mt_begin(w->ctx);
    unsigned ops = 1 + (unsigned)below(w, 6);
    for (unsigned o = 0; o < ops; o++) {
        mutate(w, true);
        if (depth > 1 && o == ops / 2) {
            CALL(w, mt_commit(w->ctx), 0);
            depth--;
        }
        for (size_t i = 0; i < nas; i++) {
            mt_flatview *fv = mt_as_flatview(w->as[i]);
            if (fv != held[i])
                FAIL(w, fv, "a view was published inside a transaction");
            mt_flatview_unref(fv);
        }
    }
    if (mt_transaction_depth(w->ctx) != depth)
        FAIL(w, NULL, "transaction depth %u, expected %u",
             mt_transaction_depth(w->ctx), depth);
    while (depth--)
        CALL(w, mt_commit(w->ctx), 0);
    for (size_t i = 0; i < nas; i++)
        mt_flatview_unref(held[i]);
}

/* ------------------------------------------------------------------------ */
/* Driver                                                                    */
/* ------------------------------------------------------------------------ */

static unsigned long long env_ull(const char *name, unsigned long long def)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return def;
    return strtoull(s, NULL, 0);
}

static void run_tree(world *w)
{
    if (mt_ctx_new(&w->ctx, NULL) != 0)
        fail_msg("mt_ctx_new failed");
    if (mt_region_new_io(w->ctx, "kick", 0x10, NULL, NULL, &w->kick) != 0)
        fail_msg("mt_region_new_io failed");
    w->n = 0;
    w->nas = 0;
    w->names = 0;
    w->step = 0;
    stats.trees++;

    /* Region 0 is a big container, like QEMU's "system". */
    char name[16];
    snprintf(name, sizeof(name), "r%u", w->names++);
    CALL(w, mt_region_new_container(w->ctx, name,
                                    chance(w, 80) ? MT_SIZE_FULL
                                                  : pick_big_size(w),
                                    &w->r[0]), 0);
    w->dirty[0] = 0;
    w->n = 1;
    stats.regions++;
    size_t want = 2 + below(w, 28);
    while (w->n < want)
        add_region(w);
    size_t attempts = 2 * want + below(w, want + 1);
    for (size_t a = 0; a < attempts; a++)
        try_map(w);
    size_t nas = 1 + below(w, 3);
    while (w->nas < nas)
        new_as(w);
    check_world(w);
    if (getenv("MT_DUMP")) {
        /* MT_DUMP=1: show each generated world (to tune the generator) */
        fprintf(stderr, "=== tree %u\n", w->tree);
        dump_world(w);
        for (size_t i = 0; i < w->nas; i++) {
            mt_flatview *fv = mt_as_flatview(w->as[i]);
            dump_view(fv);
            mt_flatview_unref(fv);
        }
    }

    unsigned steps = 4 + (unsigned)below(w, 12);
    for (w->step = 1; w->step <= steps; w->step++) {
        if (chance(w, 25))
            transaction(w);
        else
            mutate(w, false);
        check_world(w);
    }
    /* Finally drop every reference we hold, checking as regions go. */
    while (w->n > 0 && chance(w, 50)) {
        drop_slot(w, below(w, w->n));
        check_world(w);
    }
    mt_ctx_free(w->ctx);
    w->ctx = NULL;
}

static void test_flat_view_matches_naive_model(void **state)
{
    (void)state;
    unsigned long long seed = env_ull("MT_SEED", DEFAULT_SEED);
    unsigned long long trees = env_ull("MT_TREES", DEFAULT_TREES);
    unsigned long long first = env_ull("MT_TREE_FIRST", 0);
    print_message("test_model_property: MT_SEED=%#llx MT_TREES=%llu "
                  "MT_TREE_FIRST=%llu\n", seed, trees, first);
    world w;
    memset(&w, 0, sizeof(w));
    w.seed = seed;
    for (unsigned long long t = first; t < first + trees; t++) {
        w.tree = (unsigned)t;
        w.rng = mix(seed ^ mix(t + 1));
        run_tree(&w);
    }
    print_message("trees %lu, regions %lu (aliases %lu, 2^64-sized %lu, "
                  "near-top addresses %lu), checks %lu, ranges %lu, "
                  "probes %lu, transactions %lu (nested %lu), shared views "
                  "%lu, empty views %lu, views with 4+ ranges %lu, refs "
                  "dropped %lu; expected errors: "
                  "ELOOP %lu EBUSY %lu EKIND %lu ERANGE %lu ESTATE %lu "
                  "ENOENT %lu; alias cycles avoided %lu\n",
                  stats.trees, stats.regions, stats.aliases, stats.full,
                  stats.near_top, stats.checks, stats.ranges, stats.probes,
                  stats.txns, stats.nested, stats.shared, stats.empty,
                  stats.rich, stats.freed, stats.eloop, stats.ebusy, stats.ekind,
                  stats.erange, stats.estate, stats.enoent,
                  stats.alias_cycles_avoided);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flat_view_matches_naive_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
