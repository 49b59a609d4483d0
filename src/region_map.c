/* SPDX-License-Identifier: MIT */
/*
 * region_map.c: mapping regions into containers and changing the
 * attributes that affect rendering. Every call here runs in its own
 * transaction and marks a render pending under QEMU's conditions
 * (docs/guide.md, "When does a change re-render?").
 */
#include <string.h>

#include "internal.h"

/*
 * Is @needle reachable from @from by following subregion edges? That would
 * make containment cyclic. Cycles that pass through an alias are allowed,
 * as in QEMU (Arm SSE machines map an alias of a container inside that
 * container, at a window that excludes the alias); rendering bounds their
 * nesting (render.c). Iterative walk, each region visited once.
 */
static int reaches(mt_region *from, mt_region *needle, bool *found)
{
    mt_ctx *ctx = from->ctx;
    mt_region **stack = NULL;
    size_t n = 0, cap = 0;
    unsigned epoch = ++ctx->visit_epoch;
    int rc = 0;

    *found = false;
    if (mt__grow(ctx, (void **)&stack, &cap, 16, sizeof(*stack)))
        return MT_ENOMEM;
    stack[n++] = from;
    from->visit = epoch;
    while (n && !*found) {
        mt_region *r = stack[--n];
        size_t i;

        if (r == needle) {
            *found = true;
            break;
        }
        if (mt__grow(ctx, (void **)&stack, &cap, n + r->nr_subs + 1,
                     sizeof(*stack))) {
            rc = MT_ENOMEM;
            break;
        }
        for (i = 0; i < r->nr_subs; i++) {
            if (r->subs[i]->visit != epoch) {
                r->subs[i]->visit = epoch;
                stack[n++] = r->subs[i];
            }
        }
    }
    mt__free(ctx, stack);
    return rc;
}

/* Index at which a subregion with key (prio, seq) goes in the losing-order
 * array: after every sibling with a smaller key. */
static size_t sub_insert_pos(const mt_region *c, int prio, uint64_t seq)
{
    size_t lo = 0, hi = c->nr_subs;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const mt_region *s = c->subs[mid];

        if (s->priority < prio || (s->priority == prio && s->seq < seq))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Link @sub into @c (capacity already ensured). */
static void sub_link(mt_region *c, mt_region *sub)
{
    size_t pos;

    sub->seq = c->ctx->next_seq++;
    pos = sub_insert_pos(c, sub->priority, sub->seq);
    memmove(&c->subs[pos + 1], &c->subs[pos],
            (c->nr_subs - pos) * sizeof(*c->subs));
    c->subs[pos] = sub;
    c->nr_subs++;
    sub->container = c;
}

static void sub_unlink(mt_region *c, mt_region *sub)
{
    size_t pos = sub_insert_pos(c, sub->priority, sub->seq);

    memmove(&c->subs[pos], &c->subs[pos + 1],
            (c->nr_subs - pos - 1) * sizeof(*c->subs));
    c->nr_subs--;
    sub->container = NULL;
}

static int check_pair(const mt_region *a, const mt_region *b)
{
    if (!a || !b || a->ctx != b->ctx)
        return MT_EINVAL;
    return 0;
}

int mt_region_add_subregion_overlap(mt_region *parent, uint64_t offset,
                                    mt_region *sub, int priority)
{
    bool loop;
    int rc = check_pair(parent, sub);

    if (rc)
        return rc;
    if (parent->kind == MT_REGION_RAM || parent->kind == MT_REGION_RAM_DEVICE)
        return MT_EKIND;
    if (sub->container)
        return MT_EBUSY;
    if (sub == parent)
        return MT_ELOOP;
    rc = reaches(sub, parent, &loop);
    if (rc)
        return rc;
    if (loop)
        return MT_ELOOP;
    rc = mt__grow(parent->ctx, (void **)&parent->subs, &parent->cap_subs,
                  parent->nr_subs + 1, sizeof(*parent->subs));
    if (rc)
        return rc;
    mt_begin(parent->ctx);
    sub->priority = priority;
    sub->addr = offset;
    mt_region_ref(sub);
    sub_link(parent, sub);
    if (parent->enabled && sub->enabled)
        mt__mark_pending(parent->ctx);
    return mt_commit(parent->ctx);
}

int mt_region_add_subregion(mt_region *parent, uint64_t offset,
                            mt_region *sub)
{
    return mt_region_add_subregion_overlap(parent, offset, sub, 0);
}

int mt_region_del_subregion(mt_region *parent, mt_region *sub)
{
    int rc = check_pair(parent, sub);

    if (rc)
        return rc;
    if (sub->container != parent)
        return MT_ENOENT;
    mt_begin(parent->ctx);
    sub_unlink(parent, sub);
    if (parent->enabled && sub->enabled)
        mt__mark_pending(parent->ctx);
    rc = mt_commit(parent->ctx);
    mt_region_unref(sub);
    return rc;
}

int mt_region_set_enabled(mt_region *r, bool enabled)
{
    if (!r)
        return MT_EINVAL;
    if (r->enabled == enabled)
        return 0;
    mt_begin(r->ctx);
    r->enabled = enabled;
    mt__mark_pending(r->ctx);
    return mt_commit(r->ctx);
}

int mt_region_set_address(mt_region *r, uint64_t addr)
{
    mt_region *c;

    if (!r)
        return MT_EINVAL;
    if (r->addr == addr)
        return 0;
    c = r->container;
    mt_begin(r->ctx);
    r->addr = addr;
    if (c) {
        /* Re-insert: the region now wins ties with equal-priority siblings,
         * as in QEMU (delete and re-add). Capacity is unchanged. */
        sub_unlink(c, r);
        sub_link(c, r);
        if (c->enabled && r->enabled)
            mt__mark_pending(r->ctx);
    }
    return mt_commit(r->ctx);
}

int mt_region_set_alias_offset(mt_region *r, uint64_t offset)
{
    if (!r)
        return MT_EINVAL;
    if (r->kind != MT_REGION_ALIAS)
        return MT_EKIND;
    if (mt__alias_window_overflows(offset, r->size))
        return MT_ERANGE;
    if (r->alias_offset == offset)
        return 0;
    mt_begin(r->ctx);
    r->alias_offset = offset;
    if (r->enabled)
        mt__mark_pending(r->ctx);
    return mt_commit(r->ctx);
}

int mt_region_set_size(mt_region *r, uint64_t size)
{
    mt_u128 s = mt__size_from_api(size);

    if (!r)
        return MT_EINVAL;
    if (r->kind == MT_REGION_RAM || r->kind == MT_REGION_ROM_DEVICE ||
        r->kind == MT_REGION_RAM_DEVICE)
        return MT_EKIND;
    if (r->kind == MT_REGION_ALIAS &&
        mt__alias_window_overflows(r->alias_offset, s))
        return MT_ERANGE;
    if (r->size == s)
        return 0;
    mt_begin(r->ctx);
    r->size = s;
    mt__mark_pending(r->ctx);
    return mt_commit(r->ctx);
}

/* Common tail of the boolean attribute setters. */
static int set_flag(mt_region *r, bool *flag, bool value)
{
    if (*flag == value)
        return 0;
    mt_begin(r->ctx);
    *flag = value;
    if (r->enabled)
        mt__mark_pending(r->ctx);
    return mt_commit(r->ctx);
}

int mt_region_set_readonly(mt_region *r, bool readonly)
{
    if (!r)
        return MT_EINVAL;
    return set_flag(r, &r->readonly, readonly);
}

int mt_region_set_nonvolatile(mt_region *r, bool nonvolatile)
{
    if (!r)
        return MT_EINVAL;
    return set_flag(r, &r->nonvolatile, nonvolatile);
}

int mt_region_set_romd(mt_region *r, bool romd)
{
    if (!r)
        return MT_EINVAL;
    if (r->kind != MT_REGION_ROM_DEVICE)
        return MT_EKIND;
    return set_flag(r, &r->romd_mode, romd);
}

int mt_region_set_dirty_log(mt_region *r, bool on)
{
    if (!r)
        return MT_EINVAL;
    if (r->kind != MT_REGION_RAM && r->kind != MT_REGION_ROM_DEVICE &&
        r->kind != MT_REGION_RAM_DEVICE)
        return MT_EKIND;
    if (!on && r->dirty_log_count == 0)
        return MT_ESTATE;
    if (on ? r->dirty_log_count++ > 0 : --r->dirty_log_count > 0)
        return 0; /* the mask bit did not change */
    mt_begin(r->ctx);
    if (r->enabled)
        mt__mark_pending(r->ctx);
    return mt_commit(r->ctx);
}

int mt_region_set_reentrancy_guard(mt_region *r, bool on)
{
    if (!r)
        return MT_EINVAL;
    r->guard_off = !on;
    return 0;
}

int mt_region_set_guard(mt_region *r, mt_guard *guard)
{
    if (!r)
        return MT_EINVAL;
    r->guard = guard;
    return 0;
}
