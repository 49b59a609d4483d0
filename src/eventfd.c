/* SPDX-License-Identifier: MIT */
/*
 * eventfd.c: ioeventfds. Each region keeps its eventfds sorted; each
 * address space with eventfd listeners keeps the set placed in its flat
 * view and, after every change, delivers the difference: eventfd_del
 * (forward) for entries gone, eventfd_add (reverse) for new ones, with
 * QEMU's ordering and its equality quirks (size 0 equals any size at the
 * same address; without data match the data is ignored).
 */
#include <string.h>

#include "internal.h"

/* QEMU's memory_region_ioeventfd_before, on (addr, size, match, data, fd). */
static bool ev_before(const mt_eventfd *a, const mt_eventfd *b)
{
    if (a->addr != b->addr)
        return a->addr < b->addr;
    if (a->size != b->size)
        return a->size < b->size;
    if (a->match_data != b->match_data)
        return a->match_data < b->match_data;
    if (a->match_data && a->data != b->data)
        return a->data < b->data;
    return a->fd < b->fd;
}

static bool ev_equal(const mt_eventfd *a, const mt_eventfd *b)
{
    if (a->addr != b->addr)
        return false;
    if (!a->size || !b->size)
        return true;
    return a->size == b->size && a->match_data == b->match_data &&
           (!a->match_data || a->data == b->data) && a->fd == b->fd;
}

static mt_eventfd region_ev(const mt_region_eventfd *re)
{
    mt_eventfd e = { re->offset, re->size, re->match_data, re->data, re->fd };

    return e;
}

static uint64_t to_region_order(const mt_region *r, uint64_t data,
                                unsigned size)
{
    if (!size || mt__region_endian(r) != MT_ENDIAN_BIG)
        return data;
    switch (size) {
    case 2: return __builtin_bswap16((uint16_t)data);
    case 4: return __builtin_bswap32((uint32_t)data);
    case 8: return __builtin_bswap64(data);
    default: return data;
    }
}

static void eventfds_changed(mt_region *r)
{
    if (r->enabled)
        r->ctx->ioeventfd_pending = true;
}

int mt_region_add_eventfd(mt_region *r, uint64_t offset, unsigned size,
                          bool match_data, uint64_t data, int fd)
{
    mt_region_eventfd re = { offset, size, match_data, 0, fd };
    mt_eventfd e;
    size_t pos;
    int rc;

    if (!r || (size && size != 1 && size != 2 && size != 4 && size != 8))
        return MT_EINVAL;
    MT_LOCKED(r->ctx);
    re.data = to_region_order(r, data, size);
    rc = mt__grow(r->ctx, (void **)&r->eventfds, &r->cap_eventfds,
                  r->nr_eventfds + 1, sizeof(*r->eventfds));
    if (rc)
        return rc;
    e = region_ev(&re);
    for (pos = r->nr_eventfds; pos > 0; pos--) {
        mt_eventfd prev = region_ev(&r->eventfds[pos - 1]);

        if (!ev_before(&e, &prev))
            break;
    }
    memmove(&r->eventfds[pos + 1], &r->eventfds[pos],
            (r->nr_eventfds - pos) * sizeof(*r->eventfds));
    r->eventfds[pos] = re;
    r->nr_eventfds++;
    r->ctx->nr_eventfds++;
    mt_begin(r->ctx);
    eventfds_changed(r);
    return mt_commit(r->ctx);
}

int mt_region_del_eventfd(mt_region *r, uint64_t offset, unsigned size,
                          bool match_data, uint64_t data, int fd)
{
    mt_eventfd e = { offset, size, match_data, 0, fd };
    size_t i;

    if (!r)
        return MT_EINVAL;
    MT_LOCKED(r->ctx);
    e.data = to_region_order(r, data, size);
    for (i = 0; i < r->nr_eventfds; i++) {
        mt_eventfd cur = region_ev(&r->eventfds[i]);

        if (ev_equal(&e, &cur))
            break;
    }
    if (i == r->nr_eventfds)
        return MT_ENOENT;
    memmove(&r->eventfds[i], &r->eventfds[i + 1],
            (r->nr_eventfds - i - 1) * sizeof(*r->eventfds));
    r->nr_eventfds--;
    r->ctx->nr_eventfds--;
    mt_begin(r->ctx);
    eventfds_changed(r);
    return mt_commit(r->ctx);
}

void mt__region_free_eventfds(mt_region *r)
{
    r->ctx->nr_eventfds -= r->nr_eventfds;
    mt__free(r->ctx, r->eventfds);
    mt__free(r->ctx, r->coalesced);
}

/* Does [a, a+asz) meet [b, b+bsz)? Sizes 0 count as 1 byte. */
static bool meets(uint64_t a, uint64_t asz, const mt_flat_range *fr)
{
    uint64_t last = a + (asz ? asz : 1) - 1;

    return a <= fr->last && last >= fr->start;
}

/* The eventfds placed in @fv, in range order x region order. */
static int collect(mt_ctx *ctx, const mt_flatview *fv, mt_as_eventfd **out,
                   size_t *n)
{
    mt_as_eventfd *arr = NULL;
    size_t cap = 0, cnt = 0, i, k;

    for (i = 0; i < mt__fv_count(fv); i++) {
        const mt_flat_range *fr = mt__fv_at(fv, i);
        mt_region *r = fr->region;

        for (k = 0; k < r->nr_eventfds; k++) {
            const mt_region_eventfd *re = &r->eventfds[k];
            mt_as_eventfd ae;

            ae.e = region_ev(re);
            ae.e.addr = re->offset + (fr->start - fr->offset);
            ae.region = r;
            ae.offset = re->offset;
            if (!meets(ae.e.addr, re->size, fr))
                continue;
            if (mt__grow(ctx, (void **)&arr, &cap, cnt + 1, sizeof(*arr))) {
                mt__free(ctx, arr);
                return MT_ENOMEM;
            }
            arr[cnt++] = ae;
        }
    }
    *out = arr;
    *n = cnt;
    return 0;
}

/* The range handed to eventfd hooks: the eventfd's own span. */
static mt_flat_range ev_range(const mt_as_eventfd *ae)
{
    mt_flat_range fr;

    memset(&fr, 0, sizeof(fr));
    fr.start = ae->e.addr;
    fr.last = ae->e.addr + (ae->e.size ? ae->e.size : 1) - 1;
    fr.region = ae->region;
    fr.offset = ae->offset;
    return fr;
}

static void deliver(mt_as *as, const mt_as_eventfd *ae, bool add)
{
    mt_ctx *ctx = as->ctx;
    mt_flat_range fr = ev_range(ae);
    size_t i;

    if (add) {
        for (i = ctx->nr_listeners; i-- > 0;) {
            mt_listener *l = ctx->listeners[i];

            if (l->as == as && l->ops.eventfd_add)
                l->ops.eventfd_add(l->opaque, &fr, &ae->e);
        }
    } else {
        for (i = 0; i < ctx->nr_listeners; i++) {
            mt_listener *l = ctx->listeners[i];

            if (l->as == as && l->ops.eventfd_del)
                l->ops.eventfd_del(l->opaque, &fr, &ae->e);
        }
    }
}

int mt__as_update_ioeventfds(mt_as *as)
{
    mt_as_eventfd *nw;
    size_t nn, io = 0, in = 0;
    int rc;

    /* QEMU 7.2 keeps every address space's set current, listeners or
     * not, so one that registers later hears only later changes. Nothing
     * to do while no region has eventfds and the set is empty. */
    if (!as->ctx->nr_eventfds && !as->nr_ioeventfds)
        return 0;
    rc = collect(as->ctx, as->view, &nw, &nn);
    if (rc)
        return rc;
    while (io < as->nr_ioeventfds || in < nn) {
        const mt_as_eventfd *o = io < as->nr_ioeventfds
                                     ? &as->ioeventfds[io] : NULL;
        const mt_as_eventfd *n = in < nn ? &nw[in] : NULL;

        if (o && (!n || ev_before(&o->e, &n->e))) {
            deliver(as, o, false);
            io++;
        } else if (n && (!o || ev_before(&n->e, &o->e))) {
            deliver(as, n, true);
            in++;
        } else {
            io++;
            in++;
        }
    }
    mt__free(as->ctx, as->ioeventfds);
    as->ioeventfds = nw;
    as->nr_ioeventfds = nn;
    return 0;
}
