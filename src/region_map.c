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
 * Would mapping @sub inside @parent make containment cyclic, that is, is
 * @sub @parent itself or one of its ancestors? Containment is a tree, so
 * walking up from @parent is enough: O(depth). Cycles that pass through an
 * alias are allowed, as in QEMU (Arm SSE machines map an alias of a
 * container inside that container, at a window that excludes the alias);
 * rendering bounds their unrolling (render.c).
 */
static bool is_ancestor_or_self(const mt_region *sub, const mt_region *parent)
{
    for (const mt_region *p = parent; p; p = p->container)
        if (p == sub)
            return true;
    return false;
}

/*
 * @r's own address changed. A view rendered from @r places everything at
 * @r's address, so such a view shifts as a whole: render it anew.
 */
static void root_moved(mt_region *r)
{
    if (r->phys_view) {
        r->phys_view->pend_full = true;
        r->ctx->update_pending = true;
    }
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
    int rc = check_pair(parent, sub);

    if (rc)
        return rc;
    MT_LOCKED(parent->ctx);
    if (parent->kind == MT_REGION_RAM || parent->kind == MT_REGION_RAM_DEVICE)
        return MT_EKIND;
    if (sub->container)
        return MT_EBUSY;
    if (is_ancestor_or_self(sub, parent))
        return MT_ELOOP;
    rc = mt__subs_reserve(parent);
    if (rc)
        return rc;
    mt_begin(parent->ctx);
    sub->priority = priority;
    if (sub->addr != offset)
        root_moved(sub);
    sub->addr = offset;
    mt_region_ref(sub);
    mt__subs_link(parent, sub);
    if (parent->enabled && sub->enabled)
        mt__dirty(parent, offset, (mt_u128)offset + sub->size, false);
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
    MT_LOCKED(parent->ctx);
    if (sub->container != parent)
        return MT_ENOENT;
    mt_begin(parent->ctx);
    if (parent->enabled && sub->enabled)
        mt__dirty(parent, sub->addr, (mt_u128)sub->addr + sub->size, false);
    mt__subs_unlink(parent, sub);
    rc = mt_commit(parent->ctx);
    mt_region_unref(sub);
    return rc;
}

int mt_region_set_enabled(mt_region *r, bool enabled)
{
    if (!r)
        return MT_EINVAL;
    MT_LOCKED(r->ctx);
    if (r->enabled == enabled)
        return 0;
    mt_begin(r->ctx);
    r->enabled = enabled;
    if (r->container) {
        if (enabled)
            r->container->nr_enabled_subs++;
        else
            r->container->nr_enabled_subs--;
    }
    mt__dirty(r, 0, r->size, true);
    return mt_commit(r->ctx);
}

int mt_region_set_address(mt_region *r, uint64_t addr)
{
    mt_region *c;

    if (!r)
        return MT_EINVAL;
    MT_LOCKED(r->ctx);
    if (r->addr == addr)
        return 0;
    c = r->container;
    if (c) {
        int rc = mt__subs_reserve(c); /* the re-insert needs a free slot */

        if (rc)
            return rc;
    }
    mt_begin(r->ctx);
    if (c && c->enabled && r->enabled)
        mt__dirty(c, r->addr, (mt_u128)r->addr + r->size, false);
    r->addr = addr;
    if (c) {
        /* Re-insert: the region now wins ties with equal-priority siblings,
         * as in QEMU (delete and re-add). */
        mt__subs_unlink(c, r);
        mt__subs_link(c, r);
        if (c->enabled && r->enabled)
            mt__dirty(c, addr, (mt_u128)addr + r->size, false);
    }
    root_moved(r);
    return mt_commit(r->ctx);
}

int mt_region_set_alias_offset(mt_region *r, uint64_t offset)
{
    if (!r)
        return MT_EINVAL;
    MT_LOCKED(r->ctx);
    if (r->kind != MT_REGION_ALIAS)
        return MT_EKIND;
    if (mt__alias_window_overflows(offset, r->size))
        return MT_ERANGE;
    if (r->alias_offset == offset)
        return 0;
    mt_begin(r->ctx);
    r->alias_offset = offset;
    if (r->enabled)
        mt__dirty(r, 0, r->size, false);
    return mt_commit(r->ctx);
}

int mt_region_set_size(mt_region *r, uint64_t size)
{
    mt_u128 s = mt__size_from_api(size);

    if (!r)
        return MT_EINVAL;
    MT_LOCKED(r->ctx);
    if (r->kind == MT_REGION_RAM || r->kind == MT_REGION_ROM_DEVICE ||
        r->kind == MT_REGION_RAM_DEVICE)
        return MT_EKIND;
    if (r->kind == MT_REGION_ALIAS &&
        mt__alias_window_overflows(r->alias_offset, s))
        return MT_ERANGE;
    return mt__region_set_size(r, size);
}

int mt__region_set_size(mt_region *r, uint64_t size)
{
    mt_u128 s = mt__size_from_api(size);

    if (r->size == s)
        return 0;
    mt_begin(r->ctx);
    mt__dirty(r, 0, s > r->size ? s : r->size, true);
    r->size = s;
    mt__subs_moved(r);
    return mt_commit(r->ctx);
}

/* Common tail of the boolean attribute setters. */
static int set_flag(mt_region *r, bool *flag, bool value)
{
    if (*flag == value)
        return 0;
    mt_begin(r->ctx);
    /* Atomic: accesses read the read-only flag without the lock (the
     * re-entrancy guard, mmio.c). */
    __atomic_store_n(flag, value, __ATOMIC_RELAXED);
    if (r->enabled)
        mt__dirty(r, 0, r->size, false);
    return mt_commit(r->ctx);
}

int mt_region_set_readonly(mt_region *r, bool readonly)
{
    if (!r)
        return MT_EINVAL;
    MT_LOCKED(r->ctx);
    return set_flag(r, &r->readonly, readonly);
}

int mt_region_set_nonvolatile(mt_region *r, bool nonvolatile)
{
    if (!r)
        return MT_EINVAL;
    MT_LOCKED(r->ctx);
    return set_flag(r, &r->nonvolatile, nonvolatile);
}

int mt_region_set_romd(mt_region *r, bool romd)
{
    if (!r)
        return MT_EINVAL;
    MT_LOCKED(r->ctx);
    if (r->kind != MT_REGION_ROM_DEVICE)
        return MT_EKIND;
    return set_flag(r, &r->romd_mode, romd);
}

int mt_region_set_dirty_log(mt_region *r, bool on)
{
    if (!r)
        return MT_EINVAL;
    MT_LOCKED(r->ctx);
    if (r->kind != MT_REGION_RAM && r->kind != MT_REGION_ROM_DEVICE &&
        r->kind != MT_REGION_RAM_DEVICE)
        return MT_EKIND;
    if (!on && r->dirty_log_count == 0)
        return MT_ESTATE;
    /* Atomic: DMA unmaps read the count without the lock (mt__dirty_mask). */
    if (on ? __atomic_fetch_add(&r->dirty_log_count, 1, __ATOMIC_RELAXED) > 0
           : __atomic_sub_fetch(&r->dirty_log_count, 1, __ATOMIC_RELAXED) > 0)
        return 0; /* the mask bit did not change */
    mt_begin(r->ctx);
    if (r->enabled)
        mt__dirty(r, 0, r->size, false);
    return mt_commit(r->ctx);
}

int mt_region_set_reentrancy_guard(mt_region *r, bool on)
{
    if (!r)
        return MT_EINVAL;
    MT_LOCKED(r->ctx);
    /* Read by accesses without the lock (mmio.c). */
    __atomic_store_n(&r->guard_off, !on, __ATOMIC_RELAXED);
    return 0;
}

int mt_region_set_guard(mt_region *r, mt_guard *guard)
{
    if (!r)
        return MT_EINVAL;
    MT_LOCKED(r->ctx);
    __atomic_store_n(&r->guard, guard, __ATOMIC_RELAXED); /* as guard_off */
    return 0;
}
