/* SPDX-License-Identifier: MIT */
/*
 * render.c: turning a region tree into the sorted, disjoint ranges of a
 * flat view, with QEMU 7.2's semantics.
 *
 * Painter's algorithm, first writer wins: subregions are visited in
 * winning order (priority descending, later-added first) and a terminating
 * region then fills only what its children left. Aliases shift the base so
 * that the target appears at the alias's address minus alias_offset (the
 * target's own address cancels out) and clip to the alias window.
 * Read-only and non-volatile are ORed down the path. Finally adjacent
 * pieces of one region with contiguous offsets and equal flags merge.
 */
#include <string.h>

#include "internal.h"

/*
 * Bounds for cycles. A region may contain an alias of one of its ancestors
 * (Arm SSE machines do); rendering such a cycle recurses until the clip
 * window runs out, which a window covering the alias itself never does
 * (QEMU then overflows its stack), and several such aliases multiply the
 * work. memtree renders a region at most MT_RENDER_MAX_REENTRY times on one
 * path from the root, keeps the path shorter than MT_RENDER_MAX_DEPTH, and
 * stops a render after MT_RENDER_BUDGET visits per region of the context:
 * what lies beyond is not rendered. Maps without such cycles never come
 * near these bounds.
 */
#define MT_RENDER_MAX_REENTRY 4
#define MT_RENDER_MAX_DEPTH 256
#define MT_RENDER_BUDGET 64

typedef struct render_state {
    mt_ctx *ctx;
    unsigned depth;
    uint64_t budget;        /* region visits left */
    mt_flat_range *ranges;  /* sorted by start, disjoint */
    size_t n;
    size_t cap;
    int err;
} render_state;

/* Attributes accumulated down the path to a leaf. */
typedef struct render_attrs {
    bool readonly;
    bool nonvolatile;
} render_attrs;

/* Index of the first range whose last address is >= @addr. */
static size_t first_ending_at_or_after(const render_state *st, mt_i128 addr)
{
    size_t lo = 0, hi = st->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if ((mt_i128)st->ranges[mid].last < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int insert_range(render_state *st, size_t at, const mt_flat_range *fr)
{
    int rc = mt__grow(st->ctx, (void **)&st->ranges, &st->cap, st->n + 1,
                      sizeof(*st->ranges));

    if (rc)
        return rc;
    memmove(&st->ranges[at + 1], &st->ranges[at],
            (st->n - at) * sizeof(*st->ranges));
    st->ranges[at] = *fr;
    st->n++;
    return 0;
}

/* Fill the parts of [cs, ce) not yet covered with pieces of leaf @mr. */
static void paint_leaf(render_state *st, mt_region *mr, mt_i128 base,
                       mt_i128 cs, mt_i128 ce, render_attrs a)
{
    size_t i = first_ending_at_or_after(st, cs);
    mt_i128 cur = cs;

    while (cur < ce && !st->err) {
        mt_flat_range fr;
        mt_i128 gap_end = ce;

        if (i < st->n && (mt_i128)st->ranges[i].start <= cur) {
            cur = (mt_i128)st->ranges[i].last + 1;   /* already painted */
            i++;
            continue;
        }
        if (i < st->n && (mt_i128)st->ranges[i].start < gap_end)
            gap_end = st->ranges[i].start;
        fr.start = (uint64_t)cur;
        fr.last = (uint64_t)(gap_end - 1);
        fr.region = mr;
        fr.offset = (uint64_t)(cur - base);
        fr.readonly = a.readonly;
        fr.nonvolatile = a.nonvolatile;
        fr.romd = mr->romd_mode;
        fr.dirty_log_mask = mt__dirty_mask(mr);
        st->err = insert_range(st, i, &fr);
        i++;
        cur = gap_end;
    }
}

static void render_region(render_state *st, mt_region *mr, mt_i128 base,
                          mt_i128 cs, mt_i128 ce, render_attrs a)
{
    mt_i128 rs, re;
    size_t i;

    if (!mr->enabled || st->err || st->depth >= MT_RENDER_MAX_DEPTH ||
        mr->render_nesting >= MT_RENDER_MAX_REENTRY || st->budget == 0)
        return;
    st->budget--;
    base += mr->addr;
    a.readonly |= mr->readonly;
    a.nonvolatile |= mr->nonvolatile;
    rs = base > cs ? base : cs;
    re = base + (mt_i128)mr->size;
    if (re > ce)
        re = ce;
    if (rs >= re)
        return;
    st->depth++;
    mr->render_nesting++;
    if (mr->alias) {
        base -= mr->alias->addr;
        base -= mr->alias_offset;
        render_region(st, mr->alias, base, rs, re, a);
    } else {
        for (i = 0; i < mr->nr_subs; i++)
            render_region(st, mt__sub_at(mr, i), base, rs, re, a);
    }
    mr->render_nesting--;
    st->depth--;
    if (mr->alias)
        return;
    if (mr->terminates)
        paint_leaf(st, mr, base, rs, re, a);
}

static bool can_merge(const mt_flat_range *a, const mt_flat_range *b)
{
    return a->last + 1 == b->start && a->region == b->region &&
           a->offset + (a->last - a->start) + 1 == b->offset &&
           a->readonly == b->readonly && a->nonvolatile == b->nonvolatile &&
           a->romd == b->romd && a->dirty_log_mask == b->dirty_log_mask;
}

/* Merge adjacent mergeable ranges in place (QEMU's flatview_simplify). */
static void simplify(render_state *st)
{
    size_t out = 0, i;

    for (i = 0; i < st->n; i++) {
        if (out && can_merge(&st->ranges[out - 1], &st->ranges[i]))
            st->ranges[out - 1].last = st->ranges[i].last;
        else
            st->ranges[out++] = st->ranges[i];
    }
    st->n = out;
}

/*
 * Render @root (its own address included) over the whole 64-bit space into
 * a newly allocated array. On success *@out owns @n ranges (NULL if none).
 */
int mt__render_ranges(mt_ctx *ctx, mt_region *root, mt_flat_range **out,
                      size_t *n)
{
    render_state st = { ctx, 0, 0, NULL, 0, 0, 0 };
    uint64_t nregions = ctx->nr_regions ? ctx->nr_regions : 1;
    render_attrs a = { false, false };

    st.budget = nregions * MT_RENDER_BUDGET;
    render_region(&st, root, 0, 0, (mt_i128)MT_2_64, a);
    if (st.err) {
        mt__free(ctx, st.ranges);
        return st.err;
    }
    simplify(&st);
    *out = st.ranges;
    *n = st.n;
    return 0;
}
