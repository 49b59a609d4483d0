/* SPDX-License-Identifier: MIT */
/*
 * subs.c: the subregions of a region.
 *
 * Slots are kept in *losing* order, ascending (priority, insertion stamp),
 * so the winning order QEMU renders and prints in is the array read
 * backwards, and adding at equal priority is an append. Removal leaves a
 * tombstone (region NULL, key kept for the binary search); tombstones are
 * squeezed out once they outnumber the live slots, or before an index
 * lookup. So both adding and removing cost O(log n) amortised, even with a
 * million siblings.
 *
 * Containers with many children also keep an address index (an interval
 * treap over [addr, addr + size)), so a render clipped to a small window
 * visits only the children it meets. The index is an optimisation: if it
 * cannot be allocated the region simply has none.
 */
#include <string.h>

#include "internal.h"
#include "itree.h"

#define INDEX_MIN_CHILDREN 8

static mt_u128 child_end(const mt_region *s)
{
    return (mt_u128)s->addr + s->size;
}

static void drop_index(mt_region *c)
{
    if (!c->index)
        return;
    mt__itree_destroy(c->index);
    mt__free(c->ctx, c->index);
    c->index = NULL;
}

static void index_add(mt_region *c, mt_region *s)
{
    if (c->index && mt__itree_insert(c->index, s->addr, child_end(s),
                                     (uintptr_t)s, &s->index_node))
        drop_index(c);
}

static void index_del(mt_region *c, mt_region *s)
{
    if (c->index)
        mt__itree_remove(c->index, s->index_node);
}

/* Build the index once a container has enough children. */
static void maybe_build_index(mt_region *c)
{
    size_t k;

    if (c->index || c->nr_subs < INDEX_MIN_CHILDREN)
        return;
    c->index = mt__alloc(c->ctx, sizeof(*c->index));
    if (!c->index)
        return;
    mt__itree_init(c->index, c->ctx);
    for (k = 0; k < c->nr_slots && c->index; k++)
        if (c->subs[k].r)
            index_add(c, c->subs[k].r);
}

/* Squeeze out tombstones. */
static void compact(mt_region *c)
{
    size_t k, out = 0;

    for (k = 0; k < c->nr_slots; k++)
        if (c->subs[k].r)
            c->subs[out++] = c->subs[k];
    c->nr_slots = out;
}

/* Slot of key (prio, seq): the first slot not below it. */
static size_t slot_pos(const mt_region *c, int prio, uint64_t seq)
{
    size_t lo = 0, hi = c->nr_slots;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const mt_sub_slot *s = &c->subs[mid];

        if (s->prio < prio || (s->prio == prio && s->seq < seq))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int mt__subs_reserve(mt_region *c)
{
    if (c->nr_slots > c->nr_subs && c->nr_slots == c->cap_subs)
        compact(c);
    return mt__grow(c->ctx, (void **)&c->subs, &c->cap_subs, c->nr_slots + 1,
                    sizeof(*c->subs));
}

void mt__subs_link(mt_region *c, mt_region *sub)
{
    size_t pos;

    sub->seq = c->ctx->next_seq++;
    pos = slot_pos(c, sub->priority, sub->seq);
    memmove(&c->subs[pos + 1], &c->subs[pos],
            (c->nr_slots - pos) * sizeof(*c->subs));
    c->subs[pos].r = sub;
    c->subs[pos].prio = sub->priority;
    c->subs[pos].seq = sub->seq;
    c->nr_slots++;
    c->nr_subs++;
    if (sub->enabled)
        c->nr_enabled_subs++;
    sub->container = c;
    index_add(c, sub);
    maybe_build_index(c);
}

void mt__subs_unlink(mt_region *c, mt_region *sub)
{
    size_t pos = slot_pos(c, sub->priority, sub->seq);

    index_del(c, sub);
    c->subs[pos].r = NULL;
    c->nr_subs--;
    if (sub->enabled)
        c->nr_enabled_subs--;
    sub->container = NULL;
    if (c->nr_slots > 2 * c->nr_subs + 16)
        compact(c);
    if (c->nr_subs == 0)
        drop_index(c);
}

/* The extent of @sub changed (address or size): refresh the index. */
void mt__subs_moved(mt_region *sub)
{
    mt_region *c = sub->container;

    if (c && c->index) {
        index_del(c, sub);
        index_add(c, sub);
    }
}

mt_region *mt__sub_at(const mt_region *r, size_t i)
{
    mt_region *c = (mt_region *)r;

    if (c->nr_slots != c->nr_subs)
        compact(c);
    return c->subs[c->nr_subs - 1 - i].r;
}

void mt__subs_free(mt_region *c)
{
    drop_index(c);
    mt__free(c->ctx, c->subs);
    c->subs = NULL;
    c->nr_slots = c->nr_subs = c->cap_subs = c->nr_enabled_subs = 0;
}
