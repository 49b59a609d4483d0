/* SPDX-License-Identifier: MIT */
/*
 * mtree_print_tree.c: `info mtree` and `info mtree -D`, the region trees.
 *
 * One block per distinct address-space root (in order of first
 * appearance), headed by the `address-space:` lines of every address space
 * on that root sorted by name; then one `memory-region:` block per alias
 * target met while printing, in the order they were first met (the queue
 * grows while those blocks are printed). Children print sorted by address,
 * higher priority first on equal addresses, list order otherwise.
 */
#include "mtree_print.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/** A growable array of region pointers (the alias-target queue). */
struct region_vec {
    mt_region **v;
    size_t n, cap;
};

struct tree_printer {
    struct mt__printer *p;
    bool disabled;           /* -D: print disabled regions */
    struct region_vec queue; /* alias targets, first-seen order */
};

static int vec_push(struct region_vec *q, mt_region *r)
{
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 16;
        mt_region **v = realloc(q->v, cap * sizeof(*v));

        if (!v)
            return MT_ENOMEM;
        q->v = v;
        q->cap = cap;
    }
    q->v[q->n++] = r;
    return 0;
}

static bool vec_has(const struct region_vec *q, const mt_region *r)
{
    for (size_t i = 0; i < q->n; i++)
        if (q->v[i] == r)
            return true;
    return false;
}

/** Queue @target for a `memory-region:` block unless already queued. */
static void queue_target(struct tree_printer *tp, mt_region *target)
{
    if (!target || vec_has(&tp->queue, target))
        return;
    if (vec_push(&tp->queue, target) && !tp->p->err)
        tp->p->err = MT_ENOMEM;
}

/* True when @a prints before @b: lower address, or same and higher priority. */
static bool prints_before(const mt_region *a, const mt_region *b)
{
    uint64_t aa = mt_region_addr(a), ba = mt_region_addr(b);

    return aa < ba || (aa == ba && mt_region_priority(a) > mt_region_priority(b));
}

/*
 * The subregions of @r in print order: a stable sort of the list by
 * (address ascending, priority descending). Each element goes after every
 * element that does not print after it (binary search for the upper
 * bound), which keeps list order among ties. Returns NULL (with *@n 0 when
 * there are no children) or a malloc'ed array.
 */
static mt_region **sorted_children(const mt_region *r, size_t *n)
{
    size_t cnt = mt_region_nr_subregions(r);
    mt_region **v;

    *n = 0;
    if (!cnt)
        return NULL;
    v = malloc(cnt * sizeof(*v));
    if (!v)
        return NULL;
    for (size_t i = 0; i < cnt; i++) {
        mt_region *sub = mt_region_subregion(r, i);
        size_t lo = 0, hi = *n;

        if (!sub)
            break;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;

            if (prints_before(sub, v[mid]))
                hi = mid;
            else
                lo = mid + 1;
        }
        memmove(&v[lo + 1], &v[lo], (*n - lo) * sizeof(*v));
        v[lo] = sub;
        (*n)++;
    }
    return v;
}

/* The line of @r itself (without the leading overflow marker). */
static void print_line(struct tree_printer *tp, const mt_region *r,
                       unsigned level, uint64_t start, uint64_t end)
{
    struct mt__printer *p = tp->p;
    mt_region *target = mt_region_alias_target(r);

    mt__pr_indent(p, level);
    mt__pr_printf(p, "%016" PRIx64 "-%016" PRIx64 " (prio %d, %s%s): ",
                  start, end, mt_region_priority(r),
                  mt_region_nonvolatile(r) ? "nv-" : "", mt__pr_type(r));
    if (mt_region_kind_of(r) == MT_REGION_ALIAS && target) {
        uint64_t aoff = mt_region_alias_offset(r);

        mt__pr_printf(p, "alias %s @%s %016" PRIx64 "-%016" PRIx64,
                      mt__pr_name(mt_region_name(r)),
                      mt__pr_name(mt_region_name(target)), aoff,
                      aoff + mt__pr_size_last(mt_region_size(r)));
    } else {
        mt__pr_printf(p, "%s", mt__pr_name(mt_region_name(r)));
    }
    mt__pr_printf(p, "%s\n", mt_region_enabled(r) ? "" : " [disabled]");
}

/*
 * Print @r at @level, its container starting at @base, then its children
 * one level deeper. A hidden (disabled, no -D) region still has its
 * children printed and its alias target queued, as QEMU does.
 */
static void print_region(struct tree_printer *tp, const mt_region *r,
                         unsigned level, uint64_t base)
{
    uint64_t start = base + mt_region_addr(r);
    uint64_t end = start + mt__pr_size_last(mt_region_size(r));
    mt_region **kids;
    size_t n;

    if (tp->p->err)
        return;
    /* QEMU prints the marker even when the line itself is hidden. */
    if (start < base || end < start)
        mt__pr_printf(tp->p, "[DETECTED OVERFLOW!] ");
    if (mt_region_kind_of(r) == MT_REGION_ALIAS)
        queue_target(tp, mt_region_alias_target(r));
    if (mt_region_enabled(r) || tp->disabled)
        print_line(tp, r, level, start, end);

    kids = sorted_children(r, &n);
    if (!kids && mt_region_nr_subregions(r)) {
        tp->p->err = tp->p->err ? tp->p->err : MT_ENOMEM;
        return;
    }
    for (size_t i = 0; i < n; i++)
        print_region(tp, kids[i], level + 1, start);
    free(kids);
}

/* An address space and its creation index, for sorting by name. */
struct named_as {
    const mt_as *as;
    size_t i;
};

/* By name (strcmp); among equal names the later-created one first, as
 * GLib's sorted insert does (the text is the same either way). */
static int cmp_as_name(const void *a, const void *b)
{
    const struct named_as *x = a, *y = b;
    int c = strcmp(mt__pr_name(mt_as_name(x->as)),
                   mt__pr_name(mt_as_name(y->as)));

    if (c)
        return c;
    return x->i > y->i ? -1 : x->i < y->i;
}

/* The `address-space:` lines of the @n address spaces @idx[0..n) of @as,
 * which share a root, sorted by name. */
static int print_as_names(struct mt__printer *p, mt_as *const *as,
                          const size_t *idx, size_t n)
{
    struct named_as *v = malloc((n ? n : 1) * sizeof(*v));

    if (!v)
        return MT_ENOMEM;
    for (size_t k = 0; k < n; k++)
        v[k] = (struct named_as){ as[idx[k]], idx[k] };
    qsort(v, n, sizeof(*v), cmp_as_name);
    for (size_t k = 0; k < n; k++)
        mt__pr_printf(p, "address-space: %s\n",
                      mt__pr_name(mt_as_name(v[k].as)));
    free(v);
    return 0;
}

/* One block per distinct root, in the order of the first address space
 * showing it, headed by the names of every address space sharing it. */
static void print_as_blocks(mt_ctx *ctx, struct tree_printer *tp)
{
    size_t nr = mt_ctx_nr_as(ctx);
    mt_as **as = malloc((nr ? nr : 1) * sizeof(*as));
    const void **root = malloc((nr ? nr : 1) * sizeof(*root));
    struct mt__pr_groups g = { NULL, NULL, NULL };
    int rc = as && root ? 0 : MT_ENOMEM;

    for (size_t i = 0; i < nr && !rc; i++) {
        as[i] = mt_ctx_as(ctx, i);
        root[i] = as[i] ? mt_as_root(as[i]) : NULL;
    }
    if (!rc)
        rc = mt__pr_group(root, nr, &g);
    for (size_t i = 0; i < nr && !rc && !tp->p->err; i++) {
        if (!root[i] || g.idx[g.at[i]] != i)
            continue; /* no root, or not the first address space of its root */
        rc = print_as_names(tp->p, as, &g.idx[g.at[i]], g.cnt[i]);
        if (rc)
            break;
        print_region(tp, (mt_region *)root[i], 1, 0);
        mt__pr_printf(tp->p, "\n");
    }
    if (rc)
        tp->p->err = rc;
    mt__pr_groups_free(&g);
    free(as);
    free(root);
}

static void print_alias_blocks(struct tree_printer *tp)
{
    /* The queue may grow (and move) while its entries are printed. */
    for (size_t i = 0; i < tp->queue.n && !tp->p->err; i++) {
        mt_region *r = tp->queue.v[i];

        mt__pr_printf(tp->p, "memory-region: %s\n", mt__pr_name(mt_region_name(r)));
        print_region(tp, r, 1, 0);
        mt__pr_printf(tp->p, "\n");
    }
}

int mt__print_trees(mt_ctx *ctx, struct mt__printer *p, bool disabled)
{
    struct tree_printer tp = { .p = p, .disabled = disabled };

    print_as_blocks(ctx, &tp);
    print_alias_blocks(&tp);
    free(tp.queue.v);
    return p->err;
}
