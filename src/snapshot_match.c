/* SPDX-License-Identifier: MIT */
/*
 * snapshot_match.c: pairing a snapshot's records with a context's live
 * regions, and putting the recorded region state back.
 *
 * Matching: the live regions are walked in creation order; each takes the
 * next unused record of its name (records of a name are chained in
 * creation order), so the k-th region named N pairs with the k-th record
 * named N. Every record and every live region must be paired, with the
 * same kind, the same alias target, the same RAM size (resizeable RAM:
 * within its maximum), so a snapshot restores into the context it came
 * from or into one built the same way, and into nothing else. Nothing is
 * changed before the whole match has passed.
 *
 * Applying: the children of a container are compared with the recorded
 * ones (same regions, in the same winning order, with the same priorities
 * and addresses). Containers that differ are rebuilt: all their children
 * are unmapped, then the recorded ones mapped again in losing order, so
 * equal priorities tie exactly as recorded. Then flags, alias offsets and
 * sizes are set where they differ. Everything runs in the caller's
 * transaction; regions are referenced while unmapped so none is freed
 * half-way (one that ends up unmapped with no other owner is freed at the
 * end, as mt_region_del_subregion() would free it).
 */
#include <string.h>

#include "snapshot_int.h"

static uint64_t page_round(uint64_t size)
{
    return (size + MT__SNAP_PAGE - 1) & ~(MT__SNAP_PAGE - 1);
}

/* Would @r accept being resized to @size by mt_region_ram_resize()? */
static bool resizeable_to(const mt_region *r, uint64_t size)
{
    return r->kind == MT_REGION_RAM && r->block && r->block->resizeable &&
           size != MT_SIZE_FULL && page_round(size) <= r->block->max;
}

static int check_pair(const mt_snapshot *s, uint32_t i, mt_region *live,
                      mt_region **map, mt_snapshot_error *err)
{
    const mt__snap_region *sr = &s->regions[i];
    mt_region_kind kind = mt_region_kind_of(live);
    uint64_t size = mt_region_size(live);
    const char *name = mt__snap_show(sr->name);

    if ((uint32_t)kind != sr->kind)
        return mt__snap_fail(err, MT_EMISMATCH,
                             "region '%s' (record %u): kind %u here, %u in "
                             "the snapshot", name, i, (unsigned)kind,
                             sr->kind);
    if (sr->alias_target != MT__SNAP_NONE &&
        map[sr->alias_target] != mt_region_alias_target(live))
        return mt__snap_fail(err, MT_EMISMATCH,
                             "alias '%s' (record %u) targets another region "
                             "here", name, i);
    if (size == sr->size)
        return 0;
    if (kind == MT_REGION_RAM_DEVICE || kind == MT_REGION_ROM_DEVICE ||
        (kind == MT_REGION_RAM && !resizeable_to(live, sr->size)))
        return mt__snap_fail(err, MT_EMISMATCH,
                             "RAM of '%s' is %llu bytes here, %llu in the "
                             "snapshot", name, (unsigned long long)size,
                             (unsigned long long)sr->size);
    return 0;
}

int mt__snap_match(mt_ctx *ctx, const mt_snapshot *s, mt_region **map,
                   mt_snapshot_error *err)
{
    size_t n = ctx->nr_regions, k;
    mt_region **live = NULL;
    uint32_t *cursor = NULL, i;
    int rc = 0;

    live = mt__snap_alloc(s, (n ? n : 1) * sizeof(*live));
    cursor = mt__snap_alloc(s, ((size_t)s->index_mask + 1) * sizeof(*cursor));
    if (!live || !cursor) {
        rc = mt__snap_fail(err, MT_ENOMEM, "out of memory");
        goto out;
    }
    memcpy(cursor, s->index, ((size_t)s->index_mask + 1) * sizeof(*cursor));
    k = n;
    for (mt_region *r = ctx->regions; r && k; r = r->all_next)
        live[--k] = r;
    for (i = 0; i < s->nr_regions; i++)
        map[i] = NULL;
    for (k = 0; k < n; k++) {
        const char *name = mt_region_name(live[k]);
        uint32_t slot = 0;

        if (mt__snap_lookup(s, name, &slot) == MT__SNAP_NONE ||
            cursor[slot] == MT__SNAP_NONE) {
            rc = mt__snap_fail(err, MT_EMISMATCH,
                               "region '%s' has no counterpart in the "
                               "snapshot", mt__snap_show(name));
            goto out;
        }
        i = cursor[slot];
        cursor[slot] = s->regions[i].next_same;
        map[i] = live[k];
    }
    for (i = 0; i < s->nr_regions; i++) {
        if (!map[i]) {
            rc = mt__snap_fail(err, MT_EMISMATCH,
                               "region '%s' of the snapshot is missing here",
                               mt__snap_show(s->regions[i].name));
            goto out;
        }
    }
    for (i = 0; i < s->nr_regions && !rc; i++)
        rc = check_pair(s, i, map[i], map, err);
out:
    mt__snap_free(s, live);
    mt__snap_free(s, cursor);
    return rc;
}

/* ---- applying the state --------------------------------------------------- */

typedef struct apply {
    const mt_snapshot *s;
    mt_region **map;
    uint32_t *first, *kids;     /* recorded children by container, by rank */
    mt_region **held;           /* regions referenced while remapped */
    size_t nr_held;
    int rc;
} apply;

static void note(apply *a, int rc)
{
    if (rc && !a->rc)
        a->rc = rc;
}

/* Are @c's live children exactly the recorded ones of record @ci? */
static bool children_match(apply *a, uint32_t ci)
{
    mt_region *c = a->map[ci];
    size_t n = mt_region_nr_subregions(c);
    uint32_t want = a->first[ci + 1] - a->first[ci];

    if (n != want)
        return false;
    for (size_t j = 0; j < n; j++) {
        uint32_t ri = a->kids[a->first[ci] + j];
        const mt__snap_region *sr = &a->s->regions[ri];
        mt_region *sub = mt_region_subregion(c, j);

        if (sub != a->map[ri] || mt_region_priority(sub) != sr->priority ||
            mt_region_addr(sub) != sr->addr)
            return false;
    }
    return true;
}

static void set_flags(apply *a, uint32_t i)
{
    const mt__snap_region *sr = &a->s->regions[i];
    mt_region *r = a->map[i];
    bool on;

    on = sr->flags & MT__SR_ENABLED;
    if (mt_region_enabled(r) != on)
        note(a, mt_region_set_enabled(r, on));
    on = sr->flags & MT__SR_READONLY;
    if (mt_region_readonly(r) != on)
        note(a, mt_region_set_readonly(r, on));
    on = sr->flags & MT__SR_NONVOLATILE;
    if (mt_region_nonvolatile(r) != on)
        note(a, mt_region_set_nonvolatile(r, on));
    on = sr->flags & MT__SR_ROMD;
    if (sr->kind == MT_REGION_ROM_DEVICE && mt_region_romd(r) != on)
        note(a, mt_region_set_romd(r, on));
}

/* Size and alias offset, in an order that never passes 2^64 on the way
 * (the shrinking one first). */
static void set_window(apply *a, uint32_t i)
{
    const mt__snap_region *sr = &a->s->regions[i];
    mt_region *r = a->map[i];
    uint64_t size = mt_region_size(r);
    bool shrink = mt__size_from_api(sr->size) < mt__size_from_api(size);

    if (mt__snap_kind_has_block(sr->kind) ||
        sr->kind == MT_REGION_RAM_DEVICE) {
        if (size != sr->size)
            note(a, mt_region_ram_resize(r, sr->size));
        return;
    }
    if (shrink)
        note(a, mt_region_set_size(r, sr->size));
    if (sr->kind == MT_REGION_ALIAS &&
        mt_region_alias_offset(r) != sr->alias_offset)
        note(a, mt_region_set_alias_offset(r, sr->alias_offset));
    if (!shrink && size != sr->size)
        note(a, mt_region_set_size(r, sr->size));
}

int mt__snap_apply_state(mt_ctx *ctx, const mt_snapshot *s, mt_region **map)
{
    uint32_t n = s->nr_regions, i;
    bool *rebuild = NULL;
    apply a = { s, map, NULL, NULL, NULL, 0, 0 };

    (void)ctx;
    a.first = mt__snap_zalloc(s, ((size_t)n + 1) * sizeof(*a.first));
    a.kids = mt__snap_alloc(s, ((size_t)n + 1) * sizeof(*a.kids));
    a.held = mt__snap_alloc(s, ((size_t)n + 1) * sizeof(*a.held));
    rebuild = mt__snap_zalloc(s, (size_t)n + 1);
    if (!a.first || !a.kids || !a.held || !rebuild) {
        a.rc = MT_ENOMEM;
        goto out;
    }
    /* Recorded children of record c: kids[first[c] .. first[c + 1]), by
     * rank (ranks are 0..k-1: checked at load, live at take). */
    for (i = 0; i < n; i++)
        if (s->regions[i].container != MT__SNAP_NONE)
            a.first[s->regions[i].container + 1]++;
    for (i = 0; i < n; i++)
        a.first[i + 1] += a.first[i];
    for (i = 0; i < n; i++) {
        const mt__snap_region *sr = &s->regions[i];

        if (sr->container != MT__SNAP_NONE)
            a.kids[a.first[sr->container] + sr->rank] = i;
    }
    for (i = 0; i < n; i++)
        rebuild[i] = !children_match(&a, i);

    /* Unmap every child of a container being rebuilt. */
    for (i = 0; i < n; i++) {
        mt_region *c = map[i];

        if (!rebuild[i])
            continue;
        while (mt_region_nr_subregions(c)) {
            mt_region *sub = mt_region_subregion(c, 0);

            a.held[a.nr_held++] = mt_region_ref(sub);
            note(&a, mt_region_del_subregion(c, sub));
        }
    }
    /* Addresses of regions left unmapped (no re-insertion then). */
    for (i = 0; i < n; i++)
        if (s->regions[i].container == MT__SNAP_NONE &&
            !mt_region_container(map[i]) &&
            mt_region_addr(map[i]) != s->regions[i].addr)
            note(&a, mt_region_set_address(map[i], s->regions[i].addr));
    /* Map the recorded children again, losing order first. */
    for (i = 0; i < n; i++) {
        if (!rebuild[i])
            continue;
        for (uint32_t j = a.first[i + 1]; j-- > a.first[i];) {
            const mt__snap_region *sr = &s->regions[a.kids[j]];

            note(&a, mt_region_add_subregion_overlap(map[i], sr->addr,
                                                     map[a.kids[j]],
                                                     sr->priority));
        }
    }
    for (i = 0; i < n; i++) {
        set_flags(&a, i);
        set_window(&a, i);
    }
out:
    for (size_t h = 0; h < a.nr_held; h++)
        mt_region_unref(a.held[h]);
    mt__snap_free(s, a.first);
    mt__snap_free(s, a.kids);
    mt__snap_free(s, a.held);
    mt__snap_free(s, rebuild);
    return a.rc;
}
