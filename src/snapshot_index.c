/* SPDX-License-Identifier: MIT */
/*
 * snapshot_index.c: the region records of a snapshot: their storage, the
 * blocks of the records that have memory, the index by name (records of
 * one name are chained in creation order) and the structure checks that
 * records read from a file must pass before anything trusts them.
 */
#include <string.h>
#include <sys/mman.h>

#include "snapshot_int.h"

int mt__snap_alloc_regions(mt_snapshot *s, uint32_t n, size_t name_bytes)
{
    s->regions = mt__snap_zalloc(s, (size_t)n * sizeof(*s->regions));
    s->names = mt__snap_alloc(s, name_bytes);
    if (!s->regions || !s->names)
        return MT_ENOMEM;
    s->nr_regions = n;
    return 0;
}

int mt__snap_alloc_blocks(mt_snapshot *s, bool map, mt_snapshot_error *err)
{
    uint32_t nb = 0, i, b;
    uint64_t words = 0, at = 0;

    for (i = 0; i < s->nr_regions; i++) {
        mt__snap_region *sr = &s->regions[i];

        if (!mt__snap_kind_has_block(sr->kind))
            continue;
        if (sr->size > MT__SNAP_MAX_BYTES)
            return mt__snap_fail(err, MT_EINVAL,
                                 "RAM block '%s' is larger than 1 TiB",
                                 mt__snap_show(sr->name));
        nb++;
        words += mt__snap_words((sr->size + MT__SNAP_PAGE - 1) /
                                MT__SNAP_PAGE);
    }
    if (words > SIZE_MAX / 8)
        return mt__snap_fail(err, MT_ENOMEM, "out of memory");
    s->blocks = mt__snap_zalloc(s, (size_t)nb * sizeof(*s->blocks));
    s->bitmaps = mt__snap_zalloc(s, (size_t)words * 8);
    if (!s->blocks || !s->bitmaps)
        return mt__snap_fail(err, MT_ENOMEM, "out of memory");
    s->nr_blocks = nb;
    for (i = 0, b = 0; i < s->nr_regions; i++) {
        mt__snap_region *sr = &s->regions[i];
        mt__snap_block *bl;

        if (!mt__snap_kind_has_block(sr->kind))
            continue;
        bl = &s->blocks[b];
        sr->block = b++;
        bl->region = i;
        bl->npages = (sr->size + MT__SNAP_PAGE - 1) / MT__SNAP_PAGE;
        bl->bytes = bl->npages * MT__SNAP_PAGE;
        bl->present = s->bitmaps + at;
        at += mt__snap_words(bl->npages);
    }
    if (!map)
        return 0;
    for (b = 0; b < nb; b++) {
        mt__snap_block *bl = &s->blocks[b];

        bl->data = mt__snap_map(bl->bytes);
        if (bl->data == MAP_FAILED) {
            bl->data = NULL;
            return mt__snap_fail(err, MT_ENOMEM,
                                 "cannot map %llu bytes for RAM block '%s'",
                                 (unsigned long long)bl->bytes,
                                 mt__snap_show(s->regions[bl->region].name));
        }
    }
    return 0;
}

/* FNV-1a over the name; unnamed regions hash apart from "". */
static uint32_t name_hash(const char *name)
{
    uint32_t h = 2166136261u;

    if (!name)
        return 0x9e3779b9u;
    for (; *name; name++)
        h = (h ^ (uint8_t)*name) * 16777619u;
    return h;
}

static bool same_name(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

uint32_t mt__snap_lookup(const mt_snapshot *s, const char *name,
                         uint32_t *slot)
{
    uint32_t i;

    if (!s->index)
        return MT__SNAP_NONE;
    for (i = name_hash(name) & s->index_mask; s->index[i] != MT__SNAP_NONE;
         i = (i + 1) & s->index_mask) {
        if (same_name(s->regions[s->index[i]].name, name)) {
            if (slot)
                *slot = i;
            return s->index[i];
        }
    }
    return MT__SNAP_NONE;
}

int mt__snap_build_index(mt_snapshot *s, mt_snapshot_error *err)
{
    uint32_t slots = 4, i, *tail;

    while (slots < 2 * (uint64_t)s->nr_regions)
        slots *= 2;
    s->index = mt__snap_alloc(s, (size_t)slots * sizeof(*s->index));
    /* Last record of each name so far, by slot (chains in creation order). */
    tail = mt__snap_alloc(s, (size_t)slots * sizeof(*tail));
    if (!s->index || !tail) {
        mt__snap_free(s, tail);
        return mt__snap_fail(err, MT_ENOMEM, "out of memory");
    }
    memset(s->index, 0xff, (size_t)slots * sizeof(*s->index));
    s->index_mask = slots - 1;
    for (i = 0; i < s->nr_regions; i++) {
        mt__snap_region *sr = &s->regions[i];
        uint32_t j = name_hash(sr->name) & s->index_mask;

        sr->next_same = MT__SNAP_NONE;
        while (s->index[j] != MT__SNAP_NONE &&
               !same_name(s->regions[s->index[j]].name, sr->name))
            j = (j + 1) & s->index_mask;
        if (s->index[j] == MT__SNAP_NONE) {
            s->index[j] = i;
        } else {
            mt__snap_region *prev = &s->regions[tail[j]];

            prev->next_same = i;
        }
        tail[j] = i;
    }
    /* RAM block ids must be unique (QEMU's rule): a block is found by its
     * name alone. */
    for (i = 0; i <= s->index_mask; i++) {
        uint32_t blocks = 0;

        if (s->index[i] == MT__SNAP_NONE)
            continue;
        for (uint32_t r = s->index[i]; r != MT__SNAP_NONE;
             r = s->regions[r].next_same)
            blocks += mt__snap_kind_has_block(s->regions[r].kind);
        if (blocks > 1) {
            mt__snap_free(s, tail);
            return mt__snap_fail(err, MT_EINVAL,
                                 "%u RAM-backed regions are named '%s'; RAM "
                                 "block names must be unique",
                                 blocks,
                                 mt__snap_show(s->regions[s->index[i]].name));
        }
    }
    mt__snap_free(s, tail);
    return 0;
}

/*
 * Records from a file: kinds, flags, indexes and sizes in range; aliases
 * and only aliases have a target; parents are kinds that may hold
 * subregions; containment is a forest; ranks of each container's children
 * are 0..k-1 with priorities not increasing along them.
 */
int mt__snap_check_records(const mt_snapshot *s, mt_snapshot_error *err)
{
    uint32_t n = s->nr_regions, i;
    uint32_t *count = NULL, *first = NULL, *slot = NULL;
    uint8_t *state = NULL;
    int rc = MT_EPARSE;

    for (i = 0; i < n; i++) {
        const mt__snap_region *sr = &s->regions[i];

        if (sr->kind > MT_REGION_ALIAS || (sr->flags & ~MT__SR_ALL))
            return mt__snap_fail(err, MT_EPARSE,
                                 "region %u: bad kind %u or flags %#x", i,
                                 sr->kind, sr->flags);
        if (sr->kind != MT_REGION_ROM_DEVICE && !(sr->flags & MT__SR_ROMD))
            return mt__snap_fail(err, MT_EPARSE,
                                 "region %u: ROMD off on a region that is "
                                 "not a ROM device", i);
        if ((sr->kind == MT_REGION_ALIAS) !=
            (sr->alias_target != MT__SNAP_NONE) ||
            (sr->alias_target != MT__SNAP_NONE && sr->alias_target >= n) ||
            sr->alias_target == i)
            return mt__snap_fail(err, MT_EPARSE,
                                 "region %u: bad alias target", i);
        if (sr->kind != MT_REGION_ALIAS && sr->alias_offset)
            return mt__snap_fail(err, MT_EPARSE,
                                 "region %u: alias offset on a non-alias", i);
        if (sr->kind == MT_REGION_ALIAS &&
            mt__alias_window_overflows(sr->alias_offset,
                                       mt__size_from_api(sr->size)))
            return mt__snap_fail(err, MT_EPARSE,
                                 "region %u: alias window past 2^64", i);
        if (mt__snap_kind_has_block(sr->kind) &&
            sr->size > MT__SNAP_MAX_BYTES)
            return mt__snap_fail(err, MT_EPARSE,
                                 "region %u: RAM block larger than 1 TiB", i);
        if (sr->kind == MT_REGION_RAM_DEVICE && sr->size == MT_SIZE_FULL)
            return mt__snap_fail(err, MT_EPARSE,
                                 "region %u: RAM device of 2^64 bytes", i);
        if (sr->container != MT__SNAP_NONE &&
            (sr->container >= n || sr->container == i ||
             !mt__snap_kind_is_parent(s->regions[sr->container].kind)))
            return mt__snap_fail(err, MT_EPARSE,
                                 "region %u: bad container", i);
        if (sr->container == MT__SNAP_NONE && (sr->rank || sr->priority))
            return mt__snap_fail(err, MT_EPARSE,
                                 "region %u: rank or priority while unmapped",
                                 i);
    }
    count = mt__snap_zalloc(s, ((size_t)n + 1) * sizeof(*count));
    first = mt__snap_alloc(s, ((size_t)n + 1) * sizeof(*first));
    slot = mt__snap_alloc(s, ((size_t)n + 1) * sizeof(*slot));
    state = mt__snap_zalloc(s, (size_t)n + 1);
    if (!count || !first || !slot || !state) {
        rc = mt__snap_fail(err, MT_ENOMEM, "out of memory");
        goto out;
    }
    /* Children by container, placed by rank: each rank exactly once. */
    for (i = 0; i < n; i++)
        if (s->regions[i].container != MT__SNAP_NONE)
            count[s->regions[i].container]++;
    for (i = 0, first[0] = 0; i < n; i++)
        first[i + 1] = first[i] + count[i];
    memset(slot, 0xff, ((size_t)n + 1) * sizeof(*slot));
    for (i = 0; i < n; i++) {
        const mt__snap_region *sr = &s->regions[i];
        uint32_t at;

        if (sr->container == MT__SNAP_NONE)
            continue;
        if (sr->rank >= count[sr->container]) {
            rc = mt__snap_fail(err, MT_EPARSE, "region %u: rank %u of %u",
                               i, sr->rank, count[sr->container]);
            goto out;
        }
        at = first[sr->container] + sr->rank;
        if (slot[at] != MT__SNAP_NONE) {
            rc = mt__snap_fail(err, MT_EPARSE,
                               "regions %u and %u: same rank", slot[at], i);
            goto out;
        }
        slot[at] = i;
    }
    for (i = 0; i < n; i++)
        for (uint32_t j = first[i] + 1; j < first[i + 1]; j++)
            if (s->regions[slot[j]].priority >
                s->regions[slot[j - 1]].priority) {
                rc = mt__snap_fail(err, MT_EPARSE,
                                   "region %u: ranks disagree with "
                                   "priorities", slot[j]);
                goto out;
            }
    /* No containment cycle: walk up from each region; 1 = on the current
     * path, 2 = known to reach a root. */
    for (i = 0; i < n; i++) {
        uint32_t r = i;

        while (r != MT__SNAP_NONE && state[r] == 0) {
            state[r] = 1;
            r = s->regions[r].container;
        }
        if (r != MT__SNAP_NONE && state[r] == 1) {
            rc = mt__snap_fail(err, MT_EPARSE,
                               "region %u: containment cycle", r);
            goto out;
        }
        for (r = i; r != MT__SNAP_NONE && state[r] == 1;
             r = s->regions[r].container)
            state[r] = 2;
    }
    rc = 0;
out:
    mt__snap_free(s, count);
    mt__snap_free(s, first);
    mt__snap_free(s, slot);
    mt__snap_free(s, state);
    return rc;
}
