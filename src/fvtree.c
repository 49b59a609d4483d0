/* SPDX-License-Identifier: MIT */
/*
 * fvtree.c: persistent B+tree of flat ranges (see fvtree.h).
 *
 * Replace works level by level, bottom-up, on a "run": at the leaf level
 * the run is the leaves from the one holding position i to the one holding
 * position j - 1; one level up it is their parents, and so on. At each
 * level the surviving entries of the run's end nodes (the prefix of the
 * first, the suffix of the last) plus the new entries coming from below
 * (the k ranges at the leaf level, the freshly built nodes above it) are
 * packed, evenly, into new nodes, which become the new entries of the
 * level above. Nodes strictly inside the run are simply not referenced any
 * more: cost does not depend on j - i. If the packed entries would make an
 * underfull node, the run first swallows a whole neighbour node at that
 * level (left if any, else right), which leaves between F/2 and 2F - 1
 * entries. Above the old root, new levels are added while more than one
 * node remains; an inner root with a single child is replaced by that
 * child. Each level copies at most about 3F entries plus the new ones, so
 * a replace costs O(k + F log n).
 *
 * Node ownership: a node starts with one reference, owned by whoever made
 * it (a temporary node list during a replace); a parent or a version takes
 * its own reference. On any failure the temporary references are dropped,
 * which frees exactly what was built.
 */
#include <string.h>

#include "fvtree.h"
#include "internal.h"

#define LEAF_MAX MT_FVT_LEAF_MAX
#define INNER_MAX MT_FVT_INNER_MAX

/* Node lists this long live on the stack; longer ones are allocated. */
#define INLINE_NODES 16

_Static_assert((LEAF_MAX & (LEAF_MAX - 1)) == 0 && LEAF_MAX >= 4 &&
               LEAF_MAX <= 1024, "leaf capacity: a power of two, 4..1024");
_Static_assert((INNER_MAX & (INNER_MAX - 1)) == 0 && INNER_MAX >= 4 &&
               INNER_MAX <= 1024, "inner capacity: a power of two, 4..1024");

static inline mt_fvt_inner *as_inner(mt_fvt_node *nd)
{
    return (mt_fvt_inner *)nd;
}

static inline mt_fvt_leaf *as_leaf(mt_fvt_node *nd)
{
    return (mt_fvt_leaf *)nd;
}

static inline uint64_t node_first_key(mt_fvt_node *nd)
{
    return nd->leaf ? as_leaf(nd)->keys[0] : as_inner(nd)->keys[0];
}

static inline size_t node_count(mt_fvt_node *nd)
{
    return nd->leaf ? nd->n : as_inner(nd)->cum[nd->n - 1];
}

static inline void node_ref(mt_fvt_node *nd)
{
    atomic_fetch_add_explicit(&nd->ref, 1, memory_order_relaxed);
}

/* Drop a reference; the last one frees the node, its region references and
 * (recursively, at most height deep) its children. */
static void node_unref(mt_ctx *ctx, mt_fvt_node *nd)
{
    unsigned i;

    if (atomic_fetch_sub_explicit(&nd->ref, 1, memory_order_acq_rel) != 1)
        return;
    if (nd->leaf) {
        mt_fvt_leaf *lf = as_leaf(nd);

        for (i = 0; i < nd->n; i++)
            mt_region_unref(lf->r[i].region);
    } else {
        mt_fvt_inner *in = as_inner(nd);

        for (i = 0; i < nd->n; i++)
            __builtin_prefetch(in->child[i], 1);
        for (i = 0; i < nd->n; i++)
            node_unref(ctx, in->child[i]);
    }
    mt__free(ctx, nd);
}

static void nodes_unref(mt_ctx *ctx, mt_fvt_node **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        node_unref(ctx, v[i]);
}

/* ------------------------------------------------------------------------ */
/* Packing entries into new nodes                                            */
/* ------------------------------------------------------------------------ */

/*
 * A run of entries to pack: ranges (leaf level), or child nodes, either
 * children [from, from + n) of an existing inner node @src (whose keys and
 * counts are then copied, so the children themselves are only touched for
 * their reference counts) or, with @src NULL, new nodes at @p.
 */
typedef struct seg {
    const void *p;
    size_t n;
    const mt_fvt_inner *src;
    size_t from;
} seg;

/* A cursor over a list of segments holding at least the entries asked. */
typedef struct seg_cursor {
    const seg *s;
    size_t off;
} seg_cursor;

/* Up to @want contiguous entries at the cursor (at least one): returns
 * their segment, with the first at *@off and *@got of them, and advances
 * past them. */
static const seg *seg_take(seg_cursor *c, size_t want, size_t *off,
                           size_t *got)
{
    while (c->off == c->s->n) {
        c->s++;
        c->off = 0;
    }
    *off = c->off;
    *got = c->s->n - c->off < want ? c->s->n - c->off : want;
    c->off += *got;
    return c->s;
}

/*
 * Pack the @m ranges of @segs into @q leaves (q = 0 iff m = 0), as evenly
 * as possible, into @out. Each leaf takes a reference on its regions.
 */
static int pack_leaves(mt_ctx *ctx, const seg *segs, size_t m, size_t q,
                       mt_fvt_node **out)
{
    seg_cursor c = { segs, 0 };
    size_t x;

    for (x = 0; x < q; x++) {
        size_t cnt = m / q + (x < m % q), f = 0, off, got;
        mt_fvt_leaf *lf = mt__alloc(ctx, offsetof(mt_fvt_leaf, r) +
                                             cnt * sizeof(mt_flat_range));

        if (!lf) {
            nodes_unref(ctx, out, x);
            return MT_ENOMEM;
        }
        atomic_init(&lf->h.ref, 1);
        lf->h.n = (uint16_t)cnt;
        lf->h.leaf = 1;
        while (f < cnt) {
            const seg *sg = seg_take(&c, cnt - f, &off, &got);

            memcpy(&lf->r[f], (const mt_flat_range *)sg->p + off,
                   got * sizeof(mt_flat_range));
            f += got;
        }
        for (f = 0; f < cnt; f++) {
            lf->keys[f] = lf->r[f].start;
            mt_region_ref(lf->r[f].region);
        }
        for (; f < LEAF_MAX; f++)
            lf->keys[f] = UINT64_MAX;
        out[x] = &lf->h;
    }
    return 0;
}

/* Pack the @m nodes of @segs into @q inner nodes, as for pack_leaves(); each
 * new node takes a reference on its children. */
static int pack_inner(mt_ctx *ctx, const seg *segs, size_t m, size_t q,
                      mt_fvt_node **out)
{
    seg_cursor c = { segs, 0 };
    size_t x;

    for (x = 0; x < q; x++) {
        size_t cnt = m / q + (x < m % q), f = 0, e, off, got, sum = 0;
        mt_fvt_inner *in = mt__alloc(ctx, sizeof(*in));

        if (!in) {
            nodes_unref(ctx, out, x);
            return MT_ENOMEM;
        }
        atomic_init(&in->h.ref, 1);
        in->h.n = (uint16_t)cnt;
        in->h.leaf = 0;
        while (f < cnt) {
            const seg *sg = seg_take(&c, cnt - f, &off, &got);

            if (sg->src) {
                const mt_fvt_inner *src = sg->src;
                size_t from = sg->from + off;
                size_t before = from ? src->cum[from - 1] : 0;

                memcpy(&in->child[f], &src->child[from],
                       got * sizeof(mt_fvt_node *));
                memcpy(&in->keys[f], &src->keys[from],
                       got * sizeof(uint64_t));
                for (e = 0; e < got; e++) {
                    sum += src->cum[from + e] - before;
                    before = src->cum[from + e];
                    in->cum[f + e] = sum;
                }
            } else {
                mt_fvt_node *const *v = (mt_fvt_node *const *)sg->p + off;

                for (e = 0; e < got; e++) {
                    in->child[f + e] = v[e];
                    in->keys[f + e] = node_first_key(v[e]);
                    sum += node_count(v[e]);
                    in->cum[f + e] = sum;
                }
            }
            f += got;
        }
        /* Children shared with other versions are likely cold: fetch all
         * their counts at once rather than one locked increment at a
         * time. */
        for (f = 0; f < cnt; f++)
            __builtin_prefetch(in->child[f], 1);
        for (f = 0; f < cnt; f++)
            node_ref(in->child[f]);
        for (; f < INNER_MAX; f++) {
            in->keys[f] = UINT64_MAX;
            in->child[f] = in->child[cnt - 1];  /* not a reference */
            in->cum[f] = sum;
        }
        out[x] = &in->h;
    }
    return 0;
}

/* A list of new nodes, each holding one (temporary) reference. */
typedef struct node_list {
    mt_fvt_node **v;
    size_t n;
    mt_fvt_node *inl[INLINE_NODES];
} node_list;

static int list_alloc(mt_ctx *ctx, node_list *l, size_t n)
{
    l->n = 0;
    l->v = l->inl;
    if (n > INLINE_NODES) {
        if (n > SIZE_MAX / sizeof(*l->v))
            return MT_ENOMEM;
        l->v = mt__alloc(ctx, n * sizeof(*l->v));
        if (!l->v) {
            l->v = l->inl;
            return MT_ENOMEM;
        }
    }
    return 0;
}

/* Drop the list's references and storage. */
static void list_release(mt_ctx *ctx, node_list *l)
{
    nodes_unref(ctx, l->v, l->n);
    if (l->v != l->inl)
        mt__free(ctx, l->v);
    l->v = l->inl;
    l->n = 0;
}

/* Move @src into @dst (dst empty, storage released). */
static void list_move(node_list *dst, node_list *src)
{
    dst->n = src->n;
    if (src->v == src->inl) {
        memcpy(dst->inl, src->inl, src->n * sizeof(*src->v));
        dst->v = dst->inl;
    } else {
        dst->v = src->v;
    }
    src->v = src->inl;
    src->n = 0;
}

static size_t div_up(size_t a, size_t b)
{
    return a / b + (a % b != 0);
}

/*
 * Pack the @m entries of @segs (ranges when @leaf, else nodes) into new
 * nodes, in @out (empty on entry; filled on success, left empty on
 * failure).
 */
static int pack(mt_ctx *ctx, bool leaf, const seg *segs, size_t m,
                node_list *out)
{
    size_t q = div_up(m, leaf ? LEAF_MAX : INNER_MAX);
    int rc = list_alloc(ctx, out, q);

    if (rc)
        return rc;
    rc = leaf ? pack_leaves(ctx, segs, m, q, out->v)
              : pack_inner(ctx, segs, m, q, out->v);
    if (rc) {
        list_release(ctx, out);
        return rc;
    }
    out->n = q;
    return 0;
}

/*
 * Stack new inner levels on @l until one node remains; *@levels counts the
 * levels added. @l keeps its reference semantics (on failure it is
 * released).
 */
static int build_up(mt_ctx *ctx, node_list *l, unsigned *levels)
{
    while (l->n > 1) {
        node_list up;
        seg s = { l->v, l->n, NULL, 0 };
        int rc = pack(ctx, false, &s, l->n, &up);

        list_release(ctx, l);
        if (rc)
            return rc;
        list_move(l, &up);
        ++*levels;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Versions                                                                  */
/* ------------------------------------------------------------------------ */

/* Turn the single node (or none) left in @l into version @t's tree of
 * @height levels, dropping inner roots with one child. */
static void set_root(mt_fvtree *t, node_list *l, unsigned height)
{
    mt_fvt_node *root = l->n ? l->v[0] : NULL;

    l->n = 0;
    while (root && !root->leaf && root->n == 1) {
        mt_fvt_node *ch = as_inner(root)->child[0];

        node_ref(ch);
        node_unref(t->ctx, root);
        root = ch;
        height--;
    }
    t->root = root;
    t->height = root ? height : 0;
    t->count = root ? node_count(root) : 0;
}

int mt__fvt_new(mt_ctx *ctx, const mt_flat_range *r, size_t n,
                mt_fvtree **out)
{
    seg s = { r, n, NULL, 0 };
    node_list l;
    unsigned height = 1;
    mt_fvtree *t;
    int rc;

    if (!ctx || !out || (n && !r))
        return MT_EINVAL;
    t = mt__alloc(ctx, sizeof(*t));
    if (!t)
        return MT_ENOMEM;
    t->ctx = ctx;
    rc = pack(ctx, true, &s, n, &l);
    if (!rc)
        rc = build_up(ctx, &l, &height);
    if (rc) {
        mt__free(ctx, t);
        return rc;
    }
    set_root(t, &l, height);
    list_release(ctx, &l);
    *out = t;
    return 0;
}

void mt__fvt_free(mt_fvtree *t)
{
    if (!t)
        return;
    if (t->root)
        node_unref(t->ctx, t->root);
    mt__free(t->ctx, t);
}

/* Child of @in holding position @i (relative to @in): the first c with
 * cum[c] > i, or the last child when i is past the end. */
static unsigned child_at(const mt_fvt_inner *in, size_t i)
{
    unsigned lo = 0, hi = in->h.n - 1u;

    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;

        if (in->cum[mid] > i)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

const mt_flat_range *mt__fvt_at(const mt_fvtree *t, size_t i)
{
    mt_fvt_node *nd;
    unsigned h;

    if (!t || i >= t->count)
        return NULL;
    nd = t->root;
    for (h = t->height; h > 1; h--) {
        mt_fvt_inner *in = as_inner(nd);
        unsigned c = child_at(in, i);

        if (c)
            i -= in->cum[c - 1];
        nd = in->child[c];
    }
    return &as_leaf(nd)->r[i];
}

size_t mt__fvt_lower(const mt_fvtree *t, uint64_t addr)
{
    const mt_fvt_node *nd;
    const mt_fvt_leaf *lf;
    size_t base = 0;
    unsigned h, p;

    if (!t || !t->root)
        return 0;
    nd = t->root;
    for (h = t->height; h > 1; h--) {
        const mt_fvt_inner *in = (const mt_fvt_inner *)nd;

        p = mt__fvt_search(in->keys, INNER_MAX, in->h.n, addr);
        if (p)
            base += in->cum[p - 1];
        nd = in->child[p];
    }
    lf = (const mt_fvt_leaf *)nd;
    p = mt__fvt_search(lf->keys, LEAF_MAX, lf->h.n, addr);
    /* r[p] is the last range starting at or below addr, if any. */
    if (lf->keys[p] > addr || lf->r[p].last >= addr)
        return base + p;
    return base + p + 1;
}

/* ------------------------------------------------------------------------ */
/* Replace                                                                   */
/* ------------------------------------------------------------------------ */

/* A root-to-leaf path: node[lv] at level lv (0: leaf), and for lv >= 1 the
 * index pos[lv] of node[lv - 1] among node[lv]'s children. */
typedef struct path {
    mt_fvt_node *node[MT_FVT_MAX_HEIGHT];
    unsigned pos[MT_FVT_MAX_HEIGHT];
} path;

/* Path to the leaf holding position @i (the last leaf if i >= count);
 * returns the position of that leaf's first range. */
static size_t path_to(const mt_fvtree *t, size_t i, path *p)
{
    mt_fvt_node *nd = t->root;
    size_t base = 0;
    unsigned lv;

    for (lv = t->height - 1; lv > 0; lv--) {
        mt_fvt_inner *in = as_inner(nd);
        unsigned c = child_at(in, i - base);

        if (c)
            base += in->cum[c - 1];
        p->node[lv] = nd;
        p->pos[lv] = c;
        nd = in->child[c];
    }
    p->node[0] = nd;
    return base;
}

/* Move @p to the node left of node[lv] at level lv (levels above follow).
 * False if node[lv] is the first of its level. */
static bool path_prev(path *p, unsigned lv, unsigned height)
{
    unsigned u = lv + 1;

    while (u < height && p->pos[u] == 0)
        u++;
    if (u >= height)
        return false;
    p->pos[u]--;
    for (; u > lv; u--) {
        p->node[u - 1] = as_inner(p->node[u])->child[p->pos[u]];
        if (u - 1 > lv)
            p->pos[u - 1] = p->node[u - 1]->n - 1u;
    }
    return true;
}

/* Move @p to the node right of node[lv]; false if it is the last. */
static bool path_next(path *p, unsigned lv, unsigned height)
{
    unsigned u = lv + 1;

    while (u < height && p->pos[u] + 1u == p->node[u]->n)
        u++;
    if (u >= height)
        return false;
    p->pos[u]++;
    for (; u > lv; u--) {
        p->node[u - 1] = as_inner(p->node[u])->child[p->pos[u]];
        if (u - 1 > lv)
            p->pos[u - 1] = 0;
    }
    return true;
}

/* Entries [from, to) of @nd as a segment. */
static seg node_seg(mt_fvt_node *nd, size_t from, size_t to)
{
    seg s = { NULL, to - from, NULL, 0 };

    if (nd->leaf) {
        s.p = &as_leaf(nd)->r[from];
    } else {
        s.src = as_inner(nd);
        s.from = from;
    }
    return s;
}

int mt__fvt_replace(const mt_fvtree *t, size_t i, size_t j,
                    const mt_flat_range *r, size_t k, mt_fvtree **out)
{
    mt_ctx *ctx;
    mt_fvtree *nt;
    node_list cur, nxt;
    path L, R;
    size_t lp, rp;
    unsigned lv, height;
    int rc;

    if (!t || !out || i > j || j > t->count || (k && !r))
        return MT_EINVAL;
    ctx = t->ctx;
    if (i == 0 && j == t->count)        /* everything goes, empty tree included */
        return mt__fvt_new(ctx, r, k, out);

    nt = mt__alloc(ctx, sizeof(*nt));
    if (!nt)
        return MT_ENOMEM;
    nt->ctx = ctx;
    height = t->height;

    /* The run at the leaf level: leaves L.node[0] .. R.node[0]; the first
     * keeps its ranges [0, lp), the last its ranges [rp, n). */
    lp = i - path_to(t, i, &L);
    if (j > i) {
        rp = j - path_to(t, j - 1, &R);
    } else {
        R = L;
        rp = lp;
    }

    cur.v = cur.inl;
    cur.n = 0;
    for (lv = 0; lv < height; lv++) {
        mt_fvt_node *a = L.node[lv], *b = R.node[lv];
        bool leaf = lv == 0;
        size_t min = leaf ? MT_FVT_LEAF_MIN : MT_FVT_INNER_MIN;
        seg s[5];               /* left neighbour, prefix, new, suffix, right neighbour */
        size_t m;

        s[1] = node_seg(a, 0, lp);
        s[2].p = leaf ? (const void *)r : (const void *)cur.v;
        s[2].n = leaf ? k : cur.n;
        s[2].src = NULL;
        s[2].from = 0;
        s[3] = node_seg(b, rp, b->n);
        m = s[1].n + s[2].n + s[3].n;
        s[0] = s[4] = node_seg(a, 0, 0);
        if (m > 0 && m < min) {
            /* Too few for a node: swallow a neighbour (if the run is not
             * the whole level, in which case it will end up the root). */
            if (path_prev(&L, lv, height))
                s[0] = node_seg(L.node[lv], 0, L.node[lv]->n);
            else if (path_next(&R, lv, height))
                s[4] = node_seg(R.node[lv], 0, R.node[lv]->n);
            m += s[0].n + s[4].n;
        }

        rc = pack(ctx, leaf, s, m, &nxt);
        list_release(ctx, &cur);
        if (rc) {
            mt__free(ctx, nt);
            return rc;
        }
        list_move(&cur, &nxt);
        if (lv + 1 < height) {
            lp = L.pos[lv + 1];
            rp = R.pos[lv + 1] + 1u;
        }
    }

    rc = build_up(ctx, &cur, &height);
    if (rc) {
        mt__free(ctx, nt);
        return rc;
    }
    set_root(nt, &cur, height);
    list_release(ctx, &cur);
    *out = nt;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Iteration                                                                 */
/* ------------------------------------------------------------------------ */

void mt__fvt_iter_init(mt_fvt_iter *it, const mt_fvtree *t, size_t i)
{
    mt_fvt_node *nd = t->root;
    unsigned lv;

    it->height = t->height;
    it->leaf = NULL;
    it->pos = 0;
    if (!nd || i >= t->count)
        return;
    for (lv = t->height - 1; lv > 0; lv--) {
        mt_fvt_inner *in = as_inner(nd);
        unsigned c = child_at(in, i);

        if (c)
            i -= in->cum[c - 1];
        it->node[lv] = in;
        it->idx[lv] = c;
        nd = in->child[c];
    }
    it->leaf = as_leaf(nd);
    it->pos = (unsigned)i;
}

const mt_flat_range *mt__fvt_iter_next_leaf(mt_fvt_iter *it)
{
    unsigned lv = 1;

    if (!it->leaf)
        return NULL;
    /* Climb to the first ancestor with a child to the right... */
    while (lv < it->height && it->idx[lv] + 1u == it->node[lv]->h.n)
        lv++;
    if (lv >= it->height) {
        it->leaf = NULL;
        return NULL;
    }
    /* ... then down its leftmost path. */
    it->idx[lv]++;
    for (; lv > 1; lv--) {
        it->node[lv - 1] =
            (const mt_fvt_inner *)it->node[lv]->child[it->idx[lv]];
        it->idx[lv - 1] = 0;
    }
    it->leaf = (const mt_fvt_leaf *)it->node[1]->child[it->idx[1]];
    it->pos = 1;
    return &it->leaf->r[0];
}

/* ------------------------------------------------------------------------ */
/* Invariant check (tests)                                                   */
/* ------------------------------------------------------------------------ */

typedef struct check_state {
    const char *err;
    bool have_prev;
    uint64_t prev_last;
} check_state;

/* Check the subtree @nd at level @lv (0: leaf); returns its range count.
 * Recursion depth: the height. */
static size_t check_node(check_state *cs, mt_fvt_node *nd, unsigned lv,
                         bool is_root)
{
    unsigned i;

    if (cs->err)
        return 0;
    if (atomic_load(&nd->ref) == 0) {
        cs->err = "node with a zero reference count";
        return 0;
    }
    if (!!nd->leaf != (lv == 0)) {
        cs->err = "leaves not all at the same depth";
        return 0;
    }
    if (nd->leaf) {
        mt_fvt_leaf *lf = as_leaf(nd);

        if (nd->n == 0 || nd->n > LEAF_MAX ||
            (!is_root && nd->n < MT_FVT_LEAF_MIN)) {
            cs->err = "leaf fill out of bounds";
            return 0;
        }
        for (i = 0; i < LEAF_MAX; i++) {
            if (i < nd->n) {
                const mt_flat_range *fr = &lf->r[i];

                if (lf->keys[i] != fr->start) {
                    cs->err = "leaf key differs from range start";
                    return 0;
                }
                if (fr->last < fr->start) {
                    cs->err = "range with last < start";
                    return 0;
                }
                if (cs->have_prev && fr->start <= cs->prev_last) {
                    cs->err = "ranges not sorted and disjoint";
                    return 0;
                }
                cs->have_prev = true;
                cs->prev_last = fr->last;
            } else if (lf->keys[i] != UINT64_MAX) {
                cs->err = "unused leaf key not UINT64_MAX";
                return 0;
            }
        }
        return nd->n;
    } else {
        mt_fvt_inner *in = as_inner(nd);
        size_t sum = 0;

        if (nd->n > INNER_MAX || nd->n < (is_root ? 2 : MT_FVT_INNER_MIN)) {
            cs->err = "inner node fill out of bounds";
            return 0;
        }
        for (i = 0; i < INNER_MAX; i++) {
            if (i < nd->n) {
                mt_fvt_node *ch = in->child[i];

                if (!ch) {
                    cs->err = "NULL child";
                    return 0;
                }
                if (in->keys[i] != node_first_key(ch)) {
                    cs->err = "inner key differs from child's first start";
                    return 0;
                }
                sum += check_node(cs, ch, lv - 1, false);
                if (cs->err)
                    return 0;
                if (in->cum[i] != sum) {
                    cs->err = "cumulative count wrong";
                    return 0;
                }
            } else if (in->keys[i] != UINT64_MAX ||
                       in->child[i] != in->child[nd->n - 1]) {
                cs->err = "unused inner slot not UINT64_MAX / last child";
                return 0;
            }
        }
        return sum;
    }
}

const char *mt__fvt_check(const mt_fvtree *t)
{
    check_state cs = { NULL, false, 0 };
    size_t n;

    if (!t)
        return "NULL version";
    if (!t->root)
        return t->count || t->height ? "empty tree with count or height"
                                     : NULL;
    if (t->height == 0 || t->height > MT_FVT_MAX_HEIGHT)
        return "height out of bounds";
    n = check_node(&cs, t->root, t->height - 1, true);
    if (cs.err)
        return cs.err;
    if (n != t->count)
        return "count differs from the ranges in the tree";
    return NULL;
}
