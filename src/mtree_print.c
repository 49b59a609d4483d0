/* SPDX-License-Identifier: MIT */
/*
 * mtree_print.c: mt_mtree_print(), the entry point of the `info mtree`
 * printers, and the helpers they share (type words, end addresses, output
 * with error tracking). The formats are described in
 * docs/qemu-memory-reference.md section 8.
 */
#include "internal.h"
#include "mtree_print.h"

#include <stdarg.h>
#include <stdlib.h>

void mt__pr_printf(struct mt__printer *p, const char *fmt, ...)
{
    va_list ap;

    if (p->err)
        return;
    va_start(ap, fmt);
    if (vfprintf(p->out, fmt, ap) < 0)
        p->err = MT_EIO;
    va_end(ap);
}

void mt__pr_indent(struct mt__printer *p, unsigned level)
{
    for (unsigned i = 0; i < level; i++)
        mt__pr_printf(p, MT__MTREE_INDENT);
}

const char *mt__pr_name(const char *name)
{
    return name ? name : "(null)";
}

const char *mt__pr_type(const mt_region *r)
{
    /* Aliases may chain but never loop (mt_region_new_alias refuses). */
    while (mt_region_kind_of(r) == MT_REGION_ALIAS && mt_region_alias_target(r))
        r = mt_region_alias_target(r);

    switch (mt_region_kind_of(r)) {
    case MT_REGION_RAM_DEVICE:
        return "ramd";
    case MT_REGION_ROM_DEVICE:
        /* A ROM device is not RAM: out of ROMD mode it is plain I/O. */
        return mt_region_romd(r) ? "romd" : "i/o";
    case MT_REGION_RAM:
        return mt_region_readonly(r) ? "rom" : "ram";
    default:
        return "i/o";
    }
}

uint64_t mt__pr_size_last(uint64_t size)
{
    if (size == 0 || size == MT_SIZE_FULL)
        return size; /* 0 -> 0; 2^64 -> 2^64-1 */
    return size - 1;
}

struct keyed {
    uintptr_t key;
    size_t i;
};

static int cmp_keyed(const void *a, const void *b)
{
    const struct keyed *x = a, *y = b;

    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

int mt__pr_group(const void *const *key, size_t n, struct mt__pr_groups *g)
{
    struct keyed *v = malloc((n ? n : 1) * sizeof(*v));
    size_t k, j;

    g->idx = malloc((n ? n : 1) * sizeof(*g->idx));
    g->at = malloc((n ? n : 1) * sizeof(*g->at));
    g->cnt = malloc((n ? n : 1) * sizeof(*g->cnt));
    if (!v || !g->idx || !g->at || !g->cnt) {
        free(v);
        mt__pr_groups_free(g);
        return MT_ENOMEM;
    }
    for (k = 0; k < n; k++)
        v[k] = (struct keyed){ (uintptr_t)key[k], k };
    qsort(v, n, sizeof(*v), cmp_keyed);
    for (k = 0; k < n; k = j) {
        for (j = k; j < n && v[j].key == v[k].key; j++)
            g->idx[j] = v[j].i;
        for (size_t m = k; m < j; m++) {
            g->at[v[m].i] = k;
            g->cnt[v[m].i] = j - k;
        }
    }
    free(v);
    return 0;
}

void mt__pr_groups_free(struct mt__pr_groups *g)
{
    free(g->idx);
    free(g->at);
    free(g->cnt);
    g->idx = g->at = g->cnt = NULL;
}

int mt_mtree_print(mt_ctx *ctx, FILE *out, unsigned flags)
{
    return mt_mtree_print_notes(ctx, out, flags, NULL, NULL);
}

int mt_mtree_print_notes(mt_ctx *ctx, FILE *out, unsigned flags,
                         mt_range_note_fn note, void *opaque)
{
    struct mt__printer p = { .out = out, .err = 0, .note = note,
                             .note_opaque = opaque };
    int rc;

    if (!ctx || !out || (flags & ~(MT_MTREE_DISABLED | MT_MTREE_FLAT)))
        return MT_EINVAL;
    MT_LOCKED(ctx);

    /* As in QEMU, -f selects the flat views and -D then has no effect. */
    if (flags & MT_MTREE_FLAT)
        rc = mt__print_flatviews(ctx, &p);
    else
        rc = mt__print_trees(ctx, &p, flags & MT_MTREE_DISABLED);
    if (rc == 0 && fflush(out) != 0)
        rc = MT_EIO;
    return rc;
}
