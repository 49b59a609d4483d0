/* SPDX-License-Identifier: MIT */
/*
 * coalesced.c: coalesced MMIO parts of regions. Listeners hear
 * coalesced_io_add (forward) / coalesced_io_del (reverse) for every
 * intersection of a flat range with a coalesced part, in address-space
 * addresses: when ranges enter or leave a view, and at once when a region's
 * parts are added or cleared.
 */
#include "internal.h"

/* Intersection of part @s of @fr's region with @fr, in AS addresses. */
static bool part_in_range(const mt_flat_range *fr, const mt_span *s,
                          uint64_t *addr, uint64_t *len)
{
    /* Region offsets covered by the range: [fr->offset, fr->offset + n). */
    uint64_t lo = s->offset > fr->offset ? s->offset : fr->offset;
    uint64_t range_last = fr->offset + (fr->last - fr->start);
    uint64_t part_last = s->offset + s->size - 1;
    uint64_t hi = part_last < range_last ? part_last : range_last;

    if (!s->size || lo > hi)
        return false;
    *addr = fr->start + (lo - fr->offset);
    *len = hi - lo + 1;
    return true;
}

static void call_part(mt_as *as, const mt_flat_range *fr, const mt_span *s,
                      bool add)
{
    mt_ctx *ctx = as->ctx;
    uint64_t addr, len;
    size_t i;

    if (!part_in_range(fr, s, &addr, &len))
        return;
    if (add) {
        for (i = 0; i < ctx->nr_listeners; i++) {
            mt_listener *l = ctx->listeners[i];

            if (l->as == as && l->ops.coalesced_io_add)
                l->ops.coalesced_io_add(l->opaque, fr, addr, len);
        }
    } else {
        for (i = ctx->nr_listeners; i-- > 0;) {
            mt_listener *l = ctx->listeners[i];

            if (l->as == as && l->ops.coalesced_io_del)
                l->ops.coalesced_io_del(l->opaque, fr, addr, len);
        }
    }
}

void mt__coalesced_add(mt_as *as, const mt_flat_range *fr)
{
    for (size_t k = 0; k < fr->region->nr_coalesced; k++)
        call_part(as, fr, &fr->region->coalesced[k], true);
}

void mt__coalesced_del(mt_as *as, const mt_flat_range *fr)
{
    for (size_t k = 0; k < fr->region->nr_coalesced; k++)
        call_part(as, fr, &fr->region->coalesced[k], false);
}

/* Call for part @s of @r on every range of every view showing @r. */
static void announce(mt_region *r, const mt_span *s, bool add)
{
    mt_ctx *ctx = r->ctx;

    for (size_t a = 0; a < ctx->nr_as; a++) {
        mt_as *as = ctx->as[a];

        for (size_t i = 0; i < mt__fv_count(as->view); i++)
            if (mt__fv_at(as->view, i)->region == r)
                call_part(as, mt__fv_at(as->view, i), s, add);
    }
}

int mt_region_add_coalescing(mt_region *r, uint64_t offset, uint64_t size)
{
    mt_span s = { offset, size };
    int rc;

    if (!r || !size)
        return MT_EINVAL;
    MT_LOCKED(r->ctx);
    if ((mt_u128)offset + size > r->size)
        return MT_ERANGE;
    rc = mt__grow(r->ctx, (void **)&r->coalesced, &r->cap_coalesced,
                  r->nr_coalesced + 1, sizeof(*r->coalesced));
    if (rc)
        return rc;
    r->coalesced[r->nr_coalesced++] = s;
    announce(r, &s, true);
    return 0;
}

int mt_region_clear_coalescing(mt_region *r)
{
    if (!r)
        return MT_EINVAL;
    MT_LOCKED(r->ctx);
    for (size_t k = 0; k < r->nr_coalesced; k++)
        announce(r, &r->coalesced[k], false);
    r->nr_coalesced = 0;
    return 0;
}

int mt_region_set_coalescing(mt_region *r)
{
    if (!r)
        return MT_EINVAL;
    MT_LOCKED(r->ctx);
    if (r->size == 0)
        return 0;
    mt_region_clear_coalescing(r);
    /* A 2^64 region's part is capped at 2^64 - 1 bytes. */
    return mt_region_add_coalescing(r, 0, mt__size_to_api(r->size) ==
                                              MT_SIZE_FULL
                                          ? UINT64_MAX
                                          : (uint64_t)r->size);
}
