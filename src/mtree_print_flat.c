/* SPDX-License-Identifier: MIT */
/*
 * mtree_print_flat.c: `info mtree -f`, the flat views.
 *
 * One `FlatView #N` block per distinct view object, numbered from 0 in the
 * order of the first address space showing it; each block lists every
 * address space sharing the view (creation order), the region the view was
 * rendered from, and its ranges.
 */
#include "mtree_print.h"

#include <inttypes.h>
#include <stdlib.h>

/* ` AS "NAME", root: ROOT[, alias TARGET]` for one address space. */
static void print_as_line(struct mt__printer *p, const mt_as *as)
{
    const mt_region *root = mt_as_root(as);
    const mt_region *target = root ? mt_region_alias_target(root) : NULL;

    mt__pr_printf(p, " AS \"%s\", root: %s", mt__pr_name(mt_as_name(as)),
                  root ? mt__pr_name(mt_region_name(root)) : "(null)");
    if (target)
        mt__pr_printf(p, ", alias %s", mt__pr_name(mt_region_name(target)));
    mt__pr_printf(p, "\n");
}

/* The address spaces showing one view: @as[@idx[0..n)], creation order. */
struct view_users {
    mt_as *const *as;
    const size_t *idx;
    size_t n;
};

static void print_range(struct mt__printer *p, const struct view_users *u,
                        const mt_flat_range *fr)
{
    const mt_region *mr = fr->region;

    mt__pr_printf(p, MT__MTREE_INDENT "%016" PRIx64 "-%016" PRIx64
                  " (prio %d, %s%s): %s",
                  fr->start, fr->last, mt_region_priority(mr),
                  fr->nonvolatile ? "nv-" : "",
                  fr->readonly ? "rom" : mt__pr_type(mr),
                  mt__pr_name(mt_region_name(mr)));
    if (fr->offset)
        mt__pr_printf(p, " @%016" PRIx64, fr->offset);
    /* Accelerator notes (QEMU's " KVM"), once per address space showing
     * the view, in creation order. */
    for (size_t k = 0; p->note && k < u->n; k++) {
        const char *n = p->note(p->note_opaque, u->as[u->idx[k]], fr);

        if (n)
            mt__pr_printf(p, "%s", n);
    }
    mt__pr_printf(p, "\n");
}

/* The block of view @fv, shown by the address spaces @u. */
static void print_view(struct mt__printer *p, mt_flatview *fv,
                       const struct view_users *u, unsigned number)
{
    const mt_region *root = fv ? mt_flatview_root(fv) : NULL;
    size_t nr_ranges = fv ? mt_flatview_nr_ranges(fv) : 0;

    mt__pr_printf(p, "FlatView #%u\n", number);
    for (size_t k = 0; k < u->n; k++)
        print_as_line(p, u->as[u->idx[k]]);
    mt__pr_printf(p, " Root memory region: %s\n",
                  root ? mt__pr_name(mt_region_name(root)) : "(none)");
    if (!nr_ranges) {
        mt__pr_printf(p, MT__MTREE_INDENT "No rendered FlatView\n\n");
        return;
    }
    for (size_t i = 0; i < nr_ranges; i++)
        print_range(p, u, mt_flatview_range(fv, i));
    mt__pr_printf(p, "\n");
}

int mt__print_flatviews(mt_ctx *ctx, struct mt__printer *p)
{
    size_t nr = mt_ctx_nr_as(ctx);
    mt_flatview **views = calloc(nr ? nr : 1, sizeof(*views));
    mt_as **as = calloc(nr ? nr : 1, sizeof(*as));
    const void **key = calloc(nr ? nr : 1, sizeof(*key));
    struct mt__pr_groups g = { NULL, NULL, NULL };
    unsigned number = 0;
    int rc = views && as && key ? 0 : MT_ENOMEM;

    /* Hold a reference on every view so that pointer identity is stable. */
    for (size_t i = 0; i < nr && !rc; i++) {
        as[i] = mt_ctx_as(ctx, i);
        views[i] = mt_as_flatview(as[i]);
        key[i] = views[i];
    }
    if (!rc)
        rc = mt__pr_group(key, nr, &g);
    for (size_t i = 0; i < nr && !rc && !p->err; i++) {
        struct view_users u = { as, &g.idx[g.at[i]], g.cnt[i] };

        if (g.idx[g.at[i]] == i) /* the first address space showing it */
            print_view(p, views[i], &u, number++);
    }
    if (rc)
        p->err = rc;
    for (size_t i = 0; views && i < nr; i++)
        mt_flatview_unref(views[i]);
    mt__pr_groups_free(&g);
    free(views);
    free(as);
    free(key);
    return p->err;
}
