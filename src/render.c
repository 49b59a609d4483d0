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
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "itree.h"

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
    mt_flat_range *pieces;  /* painted pieces, in painting order */
    size_t n;
    size_t cap;
    mt_itree painted;       /* the pieces by address (item = index) */
    int err;
} render_state;

/* Attributes accumulated down the path to a leaf. */
typedef struct render_attrs {
    bool readonly;
    bool nonvolatile;
} render_attrs;

static int add_piece(render_state *st, const mt_flat_range *fr)
{
    int rc = mt__grow(st->ctx, (void **)&st->pieces, &st->cap, st->n + 1,
                      sizeof(*st->pieces));

    if (rc)
        return rc;
    if (st->n >= UINT32_MAX)
        return MT_ENOMEM;
    rc = mt__itree_insert(&st->painted, fr->start, (mt_u128)fr->last + 1,
                          (uintptr_t)st->n, NULL);
    if (rc)
        return rc;
    st->pieces[st->n++] = *fr;
    return 0;
}

/* Fill the parts of [cs, ce) not yet painted with pieces of leaf @mr. */
static void paint_leaf(render_state *st, mt_region *mr, mt_i128 base,
                       mt_i128 cs, mt_i128 ce, render_attrs a)
{
    mt_i128 cur = cs;

    while (cur < ce && !st->err) {
        uint32_t i = mt__itree_first_ending_after(&st->painted, (mt_u128)cur);
        const mt_itree_node *n = i ? mt__itree_node(&st->painted, i) : NULL;
        mt_i128 gap_end = ce;
        mt_flat_range fr;

        if (n && (mt_i128)n->start <= cur) {
            cur = (mt_i128)n->end;   /* already painted */
            continue;
        }
        if (n && (mt_i128)n->start < gap_end)
            gap_end = n->start;
        fr.start = (uint64_t)cur;
        fr.last = (uint64_t)(gap_end - 1);
        fr.region = mr;
        fr.offset = (uint64_t)(cur - base);
        fr.readonly = a.readonly;
        fr.nonvolatile = a.nonvolatile;
        fr.romd = mr->romd_mode;
        fr.dirty_log_mask = mt__dirty_mask(mr);
        fr.host = mr->host ? (uint8_t *)mr->host + fr.offset : NULL;
        fr.mt__access = (uint8_t)((fr.host && mt__direct_read(mr)
                                       ? MT__ACCESS_READ : 0) |
                                  (fr.host && mt__direct_write(mr)
                                       ? MT__ACCESS_WRITE : 0) |
                                  (mt__is_ram(mr) ? MT__ACCESS_RAM : 0) |
                                  mt__io_simple_sizes(mr));
        st->err = add_piece(st, &fr);
        cur = gap_end;
    }
}

static void render_region(render_state *st, mt_region *mr, mt_i128 base,
                          mt_i128 cs, mt_i128 ce, render_attrs a);

typedef struct hits {
    mt_ctx *ctx;
    mt_region **r;
    size_t n, cap;
    int err;
} hits;

static bool collect_hit(void *opaque, const mt_itree_node *node)
{
    hits *h = opaque;

    if (mt__grow(h->ctx, (void **)&h->r, &h->cap, h->n + 1, sizeof(*h->r))) {
        h->err = MT_ENOMEM;
        return false;
    }
    h->r[h->n++] = (mt_region *)node->item;
    return true;
}

/* Winning order: priority descending, then most recently added first. */
static int cmp_winning(const void *a, const void *b)
{
    const mt_region *x = *(mt_region *const *)a, *y = *(mt_region *const *)b;

    if (x->priority != y->priority)
        return x->priority > y->priority ? -1 : 1;
    return x->seq > y->seq ? -1 : x->seq < y->seq;
}

/* Render only the children of @mr that meet the clip [cs, ce), found
 * through its address index: a small window costs O(log n + k). */
static void render_indexed(render_state *st, mt_region *mr, mt_i128 base,
                           mt_i128 cs, mt_i128 ce, render_attrs a)
{
    hits h = { st->ctx, NULL, 0, 0, 0 };
    size_t i;

    mt__itree_overlaps(mr->index, (uint64_t)(cs - base), (mt_u128)(ce - base),
                       collect_hit, &h);
    if (h.err) {
        st->err = h.err;
    } else if (h.n) {
        qsort(h.r, h.n, sizeof(*h.r), cmp_winning);
        for (i = 0; i < h.n; i++)
            render_region(st, h.r[i], base, cs, ce, a);
    }
    mt__free(st->ctx, h.r);
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
    } else if (mr->index && (rs > base || re < base + (mt_i128)mr->size)) {
        render_indexed(st, mr, base, rs, re, a);
    } else {
        for (i = mr->nr_slots; i-- > 0;)
            if (mr->subs[i].r)
                render_region(st, mr->subs[i].r, base, rs, re, a);
    }
    mr->render_nesting--;
    st->depth--;
    if (mr->alias)
        return;
    if (mr->terminates)
        paint_leaf(st, mr, base, rs, re, a);
}

typedef struct collect_state {
    const render_state *st;
    mt_flat_range *out;
    size_t n;
} collect_state;

/* In address order, merging adjacent mergeable pieces (QEMU's
 * flatview_simplify). */
static void collect_piece(void *opaque, const mt_itree_node *node)
{
    collect_state *cs = opaque;
    const mt_flat_range *fr = &cs->st->pieces[node->item];

    if (cs->n && mt__can_merge(&cs->out[cs->n - 1], fr))
        cs->out[cs->n - 1].last = fr->last;
    else
        cs->out[cs->n++] = *fr;
}

/*
 * Render @root (its own address included) over addresses [@lo, @hi) into a
 * newly allocated array of merged ranges. On success *@out owns @n ranges.
 */
int mt__render_ranges(mt_ctx *ctx, mt_region *root, mt_u128 lo, mt_u128 hi,
                      mt_flat_range **out, size_t *n)
{
    render_state st;
    uint64_t nregions = ctx->nr_regions ? ctx->nr_regions : 1;
    render_attrs a = { false, false };
    collect_state cs;

    memset(&st, 0, sizeof(st));
    st.ctx = ctx;
    st.budget = nregions * MT_RENDER_BUDGET;
    mt__itree_init(&st.painted, ctx);
    render_region(&st, root, 0, (mt_i128)lo, (mt_i128)hi, a);
    cs.st = &st;
    cs.n = 0;
    cs.out = st.err ? NULL : mt__alloc(ctx, st.n * sizeof(*cs.out));
    if (!cs.out) {
        mt__itree_destroy(&st.painted);
        mt__free(ctx, st.pieces);
        return st.err ? st.err : MT_ENOMEM;
    }
    mt__itree_walk(&st.painted, collect_piece, &cs);
    mt__itree_destroy(&st.painted);
    mt__free(ctx, st.pieces);
    *out = cs.out;
    *n = cs.n;
    return 0;
}
