/* SPDX-License-Identifier: MIT */
/*
 * naive.h: a deliberately simple reference model of QEMU's flat view
 * rendering, for differential tests.
 *
 * It answers one address at a time by walking the region tree through the
 * public getters of memtree.h only (nothing from src/), following the rules
 * of the QEMU reference (docs/qemu-memory-reference.md §2):
 * - a disabled region shows nothing, its subtree included;
 * - read-only and non-volatile are ORed down through containers and aliases;
 * - an alias shows its target through the window [alias_offset,
 *   alias_offset + size), with the target's own address cancelled out (the
 *   alias's own subregions are never rendered);
 * - subregions are tried in list order (mt_region_subregion index order is
 *   the winning order) and the first that answers wins;
 * - a terminating region answers whatever its subregions leave; a container
 *   answers nothing.
 * An address space renders from its "physical root" (§2.4), so the flags and
 * the clipping of the aliases and containers skipped on the way there are
 * dropped.
 */
#ifndef MT_NAIVE_H
#define MT_NAIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "memtree.h"

/** What answers at one address: a terminal region, or nothing (hole). */
typedef struct naive_answer {
    bool hit;
    mt_region *region;  /* terminal region, when hit */
    uint64_t offset;    /* offset of the address within @region */
    bool readonly;      /* ORed from the path */
    bool nonvolatile;   /* ORed from the path */
    bool romd;          /* the leaf's ROMD mode */
    uint8_t dirty_log_mask; /* MT_DIRTY_VGA when the leaf logs (global
                               dirty logging is not modelled) */
} naive_answer;

/**
 * naive_physical_root - the region an address space rooted at @root renders
 * from (QEMU's flat view sharing key), or NULL for the empty view.
 */
mt_region *naive_physical_root(mt_region *root);

/**
 * naive_render_at - what the tree rooted at @top answers at @addr, @top
 * being rendered at base 0 with the whole 64-bit space as clip (its own
 * address still applies). @top may be NULL (nothing answers).
 */
naive_answer naive_render_at(mt_region *top, uint64_t addr);

/**
 * naive_as_lookup - what an address space with root @as_root shows at
 * @addr: naive_render_at(naive_physical_root(as_root), addr).
 */
naive_answer naive_as_lookup(mt_region *as_root, uint64_t addr);

/**
 * naive_reaches - true when @from is @to or the walk from @from (through
 * subregions and alias targets) can reach @to: mapping @from under @to
 * would then create a cycle, through containment or through an alias.
 */
bool naive_reaches(mt_region *from, mt_region *to);

/**
 * naive_contains - true when @r is @ancestor or lies in @ancestor's
 * subtree (subregions only, no alias targets): mapping @ancestor under @r
 * would make containment cyclic.
 */
bool naive_contains(mt_region *ancestor, mt_region *r);

#endif /* MT_NAIVE_H */
