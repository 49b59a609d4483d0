/* SPDX-License-Identifier: MIT */
/*
 * mtree_print.h: internals shared by the `info mtree` printers
 * (mtree_print.c dispatches, mtree_print_tree.c prints the region trees,
 * mtree_print_flat.c the flat views). Everything here works through the
 * public API only.
 */
#ifndef MT_MTREE_PRINT_H
#define MT_MTREE_PRINT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "memtree.h"

/** Indentation unit of every `info mtree` format (QEMU's MTREE_INDENT). */
#define MT__MTREE_INDENT "  "

/**
 * struct mt__printer - an output stream plus the first error seen.
 * @out: where text goes.
 * @err: 0, or the first MT_E* code; once set, further output is skipped.
 */
struct mt__printer {
    FILE *out;
    int err;
    mt_range_note_fn note;      /* optional suffix per (address space, range) */
    void *note_opaque;
};

/** mt__pr_printf - printf to @p->out; a failed write sets @p->err = MT_EIO. */
void mt__pr_printf(struct mt__printer *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/** mt__pr_indent - @level indentation units. */
void mt__pr_indent(struct mt__printer *p, unsigned level);

/** mt__pr_name - a region or address-space name, "(null)" for NULL. */
const char *mt__pr_name(const char *name);

/**
 * mt__pr_type - QEMU's type word of @r: "ramd", "romd", "rom", "ram" or
 * "i/o", taken from the final target when @r is an alias (chain).
 */
const char *mt__pr_type(const mt_region *r);

/**
 * mt__pr_size_last - offset of the last byte of a @size-byte region, as
 * QEMU's MR_SIZE(): 0 for size 0, 2^64-1 for MT_SIZE_FULL, else size-1.
 */
uint64_t mt__pr_size_last(uint64_t size);

/**
 * struct mt__pr_groups - address spaces grouped by a key (their root
 * region, or their view), in O(n log n) rather than by pairwise search.
 * @idx: every address-space index, sorted by (key, index): a group's
 *       members are contiguous, in creation order.
 * @at:  per index, where its group begins in @idx (so index i is the
 *       first of its group when @idx[@at[i]] == i).
 * @cnt: per index, the size of its group.
 */
struct mt__pr_groups {
    size_t *idx;
    size_t *at;
    size_t *cnt;
};

/** mt__pr_group - group @n indices by @key[i]. Returns 0 or MT_ENOMEM. */
int mt__pr_group(const void *const *key, size_t n, struct mt__pr_groups *g);

/** mt__pr_groups_free - free what mt__pr_group() made. */
void mt__pr_groups_free(struct mt__pr_groups *g);

/** mt__print_trees - `info mtree` (@disabled: `-D`). Returns 0 or MT_E*. */
int mt__print_trees(mt_ctx *ctx, struct mt__printer *p, bool disabled);

/** mt__print_flatviews - `info mtree -f`. Returns 0 or MT_E*. */
int mt__print_flatviews(mt_ctx *ctx, struct mt__printer *p);

#endif /* MT_MTREE_PRINT_H */
