/* SPDX-License-Identifier: MIT */
/*
 * naive.c: the reference model (see naive.h). Simple on purpose: one
 * address at a time, 128-bit arithmetic, no caching, public getters only.
 */
#include "naive.h"

#include <stdio.h>
#include <stdlib.h>

__extension__ typedef __int128 i128;

/* Deeper than any tree the tests build; a deeper walk means a cycle got in
 * (which the API must refuse), so stop loudly instead of overflowing the
 * stack. */
#define NAIVE_MAX_DEPTH 256

static i128 size128(const mt_region *r)
{
    uint64_t s = mt_region_size(r);
    return s == MT_SIZE_FULL ? (i128)1 << 64 : (i128)s;
}

static void too_deep(void)
{
    fprintf(stderr, "naive model: region graph deeper than %d: a cycle?\n",
            NAIVE_MAX_DEPTH);
    abort();
}

/*
 * Does @mr (rendered with its container at @base, clipped to [@lo, @hi))
 * answer at @addr? Fills @out when it does.
 */
static bool walk(mt_region *mr, i128 base, i128 lo, i128 hi, uint64_t addr,
                 bool ro, bool nv, naive_answer *out, int depth)
{
    if (depth > NAIVE_MAX_DEPTH)
        too_deep();
    if (!mt_region_enabled(mr))
        return false;
    base += mt_region_addr(mr);
    ro = ro || mt_region_readonly(mr);
    nv = nv || mt_region_nonvolatile(mr);

    i128 rlo = base, rhi = base + size128(mr);
    if (rlo > lo)
        lo = rlo;
    if (rhi < hi)
        hi = rhi;
    if ((i128)addr < lo || (i128)addr >= hi)
        return false;

    if (mt_region_kind_of(mr) == MT_REGION_ALIAS) {
        mt_region *target = mt_region_alias_target(mr);
        base -= mt_region_addr(target);
        base -= mt_region_alias_offset(mr);
        return walk(target, base, lo, hi, addr, ro, nv, out, depth + 1);
    }

    size_t n = mt_region_nr_subregions(mr);
    for (size_t i = 0; i < n; i++) {
        if (walk(mt_region_subregion(mr, i), base, lo, hi, addr, ro, nv, out,
                 depth + 1))
            return true;
    }

    if (!mt_region_terminates(mr))
        return false;
    out->hit = true;
    out->region = mr;
    out->offset = (uint64_t)((i128)addr - base);
    out->readonly = ro;
    out->nonvolatile = nv;
    out->romd = mt_region_romd(mr);
    out->dirty_log_mask = mt_region_dirty_log(mr) ? MT_DIRTY_VGA : 0;
    return true;
}

naive_answer naive_render_at(mt_region *top, uint64_t addr)
{
    naive_answer a = { 0 };
    if (top)
        walk(top, 0, 0, (i128)1 << 64, addr, false, false, &a, 0);
    return a;
}

mt_region *naive_physical_root(mt_region *mr)
{
    for (int steps = 0; mr && mt_region_enabled(mr); steps++) {
        if (steps > NAIVE_MAX_DEPTH)
            too_deep();
        if (mt_region_kind_of(mr) == MT_REGION_ALIAS) {
            mt_region *target = mt_region_alias_target(mr);
            if (mt_region_alias_offset(mr) == 0 &&
                size128(mr) >= size128(target)) {
                mr = target;
                continue;
            }
        } else if (!mt_region_terminates(mr)) {
            unsigned found = 0;
            mt_region *next = NULL;
            size_t n = mt_region_nr_subregions(mr);
            for (size_t i = 0; i < n; i++) {
                mt_region *child = mt_region_subregion(mr, i);
                if (!mt_region_enabled(child))
                    continue;
                if (++found > 1) {
                    next = NULL;
                    break;
                }
                if (mt_region_addr(child) == 0 &&
                    size128(mr) >= size128(child))
                    next = child;
            }
            if (found == 0)
                return NULL;
            if (next) {
                mr = next;
                continue;
            }
        }
        return mr;
    }
    return NULL;
}

naive_answer naive_as_lookup(mt_region *as_root, uint64_t addr)
{
    return naive_render_at(naive_physical_root(as_root), addr);
}

/* Depth-first search with a visited list, so shared subgraphs (several
 * aliases of one target) are walked once. */
typedef struct visit_set {
    mt_region **v;
    size_t n, cap;
} visit_set;

static bool reaches(mt_region *from, mt_region *to, visit_set *seen,
                    int depth)
{
    if (depth > NAIVE_MAX_DEPTH)
        too_deep();
    if (from == to)
        return true;
    for (size_t i = 0; i < seen->n; i++)
        if (seen->v[i] == from)
            return false;
    if (seen->n == seen->cap) {
        seen->cap = seen->cap ? 2 * seen->cap : 64;
        seen->v = realloc(seen->v, seen->cap * sizeof(*seen->v));
        if (!seen->v)
            abort();
    }
    seen->v[seen->n++] = from;
    mt_region *target = mt_region_alias_target(from);
    if (target && reaches(target, to, seen, depth + 1))
        return true;
    size_t n = mt_region_nr_subregions(from);
    for (size_t i = 0; i < n; i++) {
        if (reaches(mt_region_subregion(from, i), to, seen, depth + 1))
            return true;
    }
    return false;
}

bool naive_reaches(mt_region *from, mt_region *to)
{
    visit_set seen = { 0 };
    bool r = reaches(from, to, &seen, 0);
    free(seen.v);
    return r;
}

bool naive_contains(mt_region *ancestor, mt_region *r)
{
    for (; r; r = mt_region_container(r)) {
        if (r == ancestor)
            return true;
    }
    return false;
}
