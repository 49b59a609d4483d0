/* SPDX-License-Identifier: MIT */
/*
 * fvtree.h: a persistent (copy-on-write, path-copying) B+tree of flat
 * ranges, the storage of a flat view that can be updated incrementally
 * (internal, never installed).
 *
 * A version (mt_fvtree) is immutable once built. mt__fvt_replace() makes a
 * new version that shares every node it did not touch with the old one;
 * both stay valid until each is dropped with mt__fvt_free(), in any order
 * and on any thread (node reference counts are atomic). Readers need no
 * lock: lookups write nothing.
 *
 * Shape:
 * - Leaves hold up to MT_FVT_LEAF_MAX ranges: the range starts in a packed
 *   key array (searched) and the full records beside it (read once, on a
 *   hit). Inner nodes hold up to MT_FVT_INNER_MAX children with, per
 *   child, the first range start below it (searched) and the cumulative
 *   number of ranges up to and including it (positional access).
 * - Every node but the root is at least half full; an inner root has at
 *   least two children. All leaves are at the same depth. A view of at
 *   most MT_FVT_LEAF_MAX ranges is a single leaf (height 1).
 * - Unused key slots hold UINT64_MAX, so a node is always searched over its
 *   full, power-of-two capacity with a fixed number of branch-free steps.
 * - Each leaf holds a region reference (mt_region_ref) on every range it
 *   contains, dropped when the leaf is freed: a region stays alive while
 *   any live version shows it. Note that region reference counts are not
 *   atomic (region.c): whoever frees a version on another thread must make
 *   sure no other thread touches those regions' counts meanwhile.
 *
 * Records returned by mt__fvt_at/lookup/iter_next are borrowed: they stay
 * valid, at the same address, as long as the version they came from lives
 * (also across replaces that produce other versions).
 *
 * The structures are visible only so that the hot calls (lookup, count,
 * iteration steps) can be inlined; nothing outside fvtree.c should touch
 * them.
 */
#ifndef MT_FVTREE_H
#define MT_FVTREE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "memtree.h"

/*
 * Node capacities; powers of two (the node search relies on it), 4..1024.
 * 64/64 (measured, bench/fvtree_perf.c): any view of up to 2048 ranges is
 * at most two levels whatever its history (leaves are at least half full),
 * and a two-level lookup costs about what a binary search over a plain
 * array does (~11 ns); three levels cost ~6 ns more. A single-range
 * replace costs ~1 us at 2,000 ranges (mostly the locked reference counts
 * of the copied nodes' children), ~4 us at 1e6 (cache misses).
 * Overridable for tests (every user of this header must agree).
 */
#ifndef MT_FVT_LEAF_MAX
#define MT_FVT_LEAF_MAX 64
#endif
#ifndef MT_FVT_INNER_MAX
#define MT_FVT_INNER_MAX 64
#endif
#define MT_FVT_LEAF_MIN (MT_FVT_LEAF_MAX / 2)
#define MT_FVT_INNER_MIN (MT_FVT_INNER_MAX / 2)

/* Height bound: every node but the root holds at least 2 entries and the
 * root at least 2, so n >= 2^(height - 1): 64 levels hold any count. */
#define MT_FVT_MAX_HEIGHT 64

/* Common head of both node kinds. */
typedef struct mt_fvt_node {
    atomic_uint ref;            /* versions and parents pointing here */
    uint16_t n;                 /* entries in use */
    uint8_t leaf;
} mt_fvt_node;

typedef struct mt_fvt_inner {
    mt_fvt_node h;
    uint64_t keys[MT_FVT_INNER_MAX];   /* first start under child c; UINT64_MAX unused */
    mt_fvt_node *child[MT_FVT_INNER_MAX]; /* unused: repeat the last child */
    size_t cum[MT_FVT_INNER_MAX];      /* ranges under children 0..c */
} mt_fvt_inner;

/* Allocated with room for exactly h.n records (nodes never grow). */
typedef struct mt_fvt_leaf {
    mt_fvt_node h;
    uint64_t keys[MT_FVT_LEAF_MAX];    /* r[i].start; UINT64_MAX unused */
    mt_flat_range r[];
} mt_fvt_leaf;

/* One immutable version. */
typedef struct mt_fvtree {
    mt_ctx *ctx;
    mt_fvt_node *root;          /* NULL iff count == 0 */
    size_t count;               /* ranges */
    unsigned height;            /* levels: 0 empty, 1 a single leaf */
} mt_fvtree;

/*
 * mt__fvt_new - build a version from @n ranges @r (sorted by start,
 * disjoint, start <= last; not checked), copied. @n may be 0 (@r may then
 * be NULL). Returns 0, MT_EINVAL (NULL @ctx/@out, or NULL @r with n > 0) or
 * MT_ENOMEM (nothing leaked). O(n).
 */
int mt__fvt_new(mt_ctx *ctx, const mt_flat_range *r, size_t n,
                mt_fvtree **out);

/* mt__fvt_free - drop version @t (NULL: no-op). Nodes that other live
 * versions share survive. */
void mt__fvt_free(mt_fvtree *t);

static inline size_t mt__fvt_count(const mt_fvtree *t)
{
    return t->count;
}

/* Levels of @t: 0 when empty, 1 for a single leaf. */
static inline unsigned mt__fvt_height(const mt_fvtree *t)
{
    return t->height;
}

/* mt__fvt_at - range @i (0-based), or NULL when @i >= count. O(log n). */
const mt_flat_range *mt__fvt_at(const mt_fvtree *t, size_t i);

/* mt__fvt_lower - index of the first range with last >= @addr, count if
 * none. O(log n). */
size_t mt__fvt_lower(const mt_fvtree *t, uint64_t addr);

/*
 * mt__fvt_replace - new version *@out = @t with ranges [@i, @j) replaced by
 * the @k ranges @r (copied). @t stays valid and unchanged. The caller
 * guarantees that the result is sorted and disjoint (not checked).
 * Cost O(k + F log n) time and new memory, whatever j - i.
 * Returns 0, MT_EINVAL (NULL @t/@out, i > j, j > count, NULL @r with k > 0)
 * or MT_ENOMEM (nothing leaked, @t intact, *@out untouched).
 */
int mt__fvt_replace(const mt_fvtree *t, size_t i, size_t j,
                    const mt_flat_range *r, size_t k, mt_fvtree **out);

/*
 * mt__fvt_check - verify every structural invariant of @t (order, keys,
 * counts, fill, uniform depth, reference counts). Returns NULL when all
 * hold, else a static description of the first violation. O(n); for tests.
 */
const char *mt__fvt_check(const mt_fvtree *t);

/* ------------------------------------------------------------------------ */
/* Lookup (the hot path of every access)                                     */
/* ------------------------------------------------------------------------ */

/*
 * Index of the last key <= @addr among keys[1..cap-1], or 0 when there is
 * none. @cap is a power of two (a constant), so this unrolls to log2(cap)
 * compare-and-select steps with no data-dependent branch. Unused slots
 * hold UINT64_MAX, so the result is past the used entries only when @addr
 * is UINT64_MAX itself: inner nodes repeat their last child in the unused
 * slots for that case, leaves clamp (mt__fvt_search).
 */
#define MT__FVT_STEP(s)                                                      \
    if (cap > (s))                                                           \
        p = keys[p + (s)] <= addr ? p + (s) : p
static inline unsigned mt__fvt_search_raw(const uint64_t *keys, unsigned cap,
                                          uint64_t addr)
{
    unsigned p = 0;

    MT__FVT_STEP(512);
    MT__FVT_STEP(256);
    MT__FVT_STEP(128);
    MT__FVT_STEP(64);
    MT__FVT_STEP(32);
    MT__FVT_STEP(16);
    MT__FVT_STEP(8);
    MT__FVT_STEP(4);
    MT__FVT_STEP(2);
    MT__FVT_STEP(1);
    return p;
}
#undef MT__FVT_STEP

/* As mt__fvt_search_raw(), clamped to the @n (>= 1) entries in use. */
static inline unsigned mt__fvt_search(const uint64_t *keys, unsigned cap,
                                      unsigned n, uint64_t addr)
{
    unsigned p = mt__fvt_search_raw(keys, cap, addr);

    return p < n - 1 ? p : n - 1;
}

/*
 * mt__fvt_lookup - the range of @t containing @addr, or NULL (a hole).
 * Inline so that the access path pays no call. Writes nothing: any number
 * of threads may look up one version at once.
 */
static inline const mt_flat_range *mt__fvt_lookup(const mt_fvtree *t,
                                                  uint64_t addr)
{
    const mt_fvt_node *nd = t->root;
    const mt_fvt_leaf *lf;
    unsigned h = t->height, p;

    if (!nd)
        return NULL;
    while (--h) {
        const mt_fvt_inner *in = (const mt_fvt_inner *)nd;

        nd = in->child[mt__fvt_search_raw(in->keys, MT_FVT_INNER_MAX, addr)];
    }
    lf = (const mt_fvt_leaf *)nd;
    p = mt__fvt_search(lf->keys, MT_FVT_LEAF_MAX, lf->h.n, addr);
    if (lf->keys[p] <= addr && addr <= lf->r[p].last)
        return &lf->r[p];
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Forward iteration, amortised O(1) per step                                */
/* ------------------------------------------------------------------------ */

typedef struct mt_fvt_iter {
    const mt_fvt_leaf *leaf;    /* NULL at end */
    unsigned pos;               /* next record in leaf */
    unsigned height;
    const mt_fvt_inner *node[MT_FVT_MAX_HEIGHT]; /* path, by level (1..) */
    unsigned idx[MT_FVT_MAX_HEIGHT];             /* child taken at each level */
} mt_fvt_iter;

/* Position @it before range @i of @t (i >= count: at the end). @t must
 * outlive the iteration. */
void mt__fvt_iter_init(mt_fvt_iter *it, const mt_fvtree *t, size_t i);

const mt_flat_range *mt__fvt_iter_next_leaf(mt_fvt_iter *it);

/* Next range, or NULL at the end. */
static inline const mt_flat_range *mt__fvt_iter_next(mt_fvt_iter *it)
{
    if (it->leaf && it->pos < it->leaf->h.n)
        return &it->leaf->r[it->pos++];
    return mt__fvt_iter_next_leaf(it);
}

#endif /* MT_FVTREE_H */
