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

static void print_range(struct mt__printer *p, mt_ctx *ctx,
                        mt_flatview **views, mt_flatview *fv,
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
    for (size_t i = 0; p->note && i < mt_ctx_nr_as(ctx); i++) {
        if (views[i] == fv) {
            const char *n = p->note(p->note_opaque, mt_ctx_as(ctx, i), fr);

            if (n)
                mt__pr_printf(p, "%s", n);
        }
    }
    mt__pr_printf(p, "\n");
}

/* The block of view @views[@first], shared by every @views[i] equal to it. */
static void print_view(mt_ctx *ctx, struct mt__printer *p,
                       mt_flatview **views, size_t first, unsigned number)
{
    mt_flatview *fv = views[first];
    const mt_region *root = fv ? mt_flatview_root(fv) : NULL;
    size_t nr_as = mt_ctx_nr_as(ctx);
    size_t nr_ranges = fv ? mt_flatview_nr_ranges(fv) : 0;

    mt__pr_printf(p, "FlatView #%u\n", number);
    for (size_t i = first; i < nr_as; i++)
        if (views[i] == fv)
            print_as_line(p, mt_ctx_as(ctx, i));
    mt__pr_printf(p, " Root memory region: %s\n",
                  root ? mt__pr_name(mt_region_name(root)) : "(none)");
    if (!nr_ranges) {
        mt__pr_printf(p, MT__MTREE_INDENT "No rendered FlatView\n\n");
        return;
    }
    for (size_t i = 0; i < nr_ranges; i++)
        print_range(p, ctx, views, fv, mt_flatview_range(fv, i));
    mt__pr_printf(p, "\n");
}

static bool view_seen_before(mt_flatview **views, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (views[j] == views[i])
            return true;
    return false;
}

int mt__print_flatviews(mt_ctx *ctx, struct mt__printer *p)
{
    size_t nr = mt_ctx_nr_as(ctx);
    mt_flatview **views = calloc(nr ? nr : 1, sizeof(*views));
    unsigned number = 0;

    if (!views)
        return MT_ENOMEM;
    /* Hold a reference on every view so that pointer identity is stable. */
    for (size_t i = 0; i < nr; i++)
        views[i] = mt_as_flatview(mt_ctx_as(ctx, i));
    for (size_t i = 0; i < nr && !p->err; i++)
        if (!view_seen_before(views, i))
            print_view(ctx, p, views, i, number++);
    for (size_t i = 0; i < nr; i++)
        mt_flatview_unref(views[i]);
    free(views);
    return p->err;
}
