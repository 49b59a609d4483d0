/* SPDX-License-Identifier: MIT */
/*
 * itree.h: an interval treap (randomised balanced search tree keyed by
 * interval start, each node knowing the largest end in its subtree).
 * Nodes live in one pool and are named by 32-bit indices (0 = none), so the
 * pool can grow by realloc. Used for the address index of large containers
 * and for the painted set while rendering.
 *
 * Intervals are [start, end) with a 128-bit end, so one may reach 2^64.
 * Expected cost: O(log n) per insert/remove, O(log n + k) per query.
 */
#ifndef MT_ITREE_H
#define MT_ITREE_H

#include "internal.h"

typedef struct mt_itree_node {
    uint64_t start;
    mt_u128 end;        /* exclusive */
    mt_u128 max_end;    /* largest end in this subtree */
    uint32_t left, right;
    uint32_t prio;      /* heap order: parent prio >= child prio */
    uintptr_t item;     /* caller's payload */
} mt_itree_node;

typedef struct mt_itree {
    mt_ctx *ctx;
    mt_itree_node *pool; /* pool[0] is unused: index 0 means "none" */
    uint32_t cap;
    uint32_t used;       /* high-water mark of the pool */
    uint32_t free_list;  /* freed nodes, linked through .left */
    uint32_t root;
    uint32_t count;
    uint32_t seed;
} mt_itree;

void mt__itree_init(mt_itree *t, mt_ctx *ctx);
void mt__itree_destroy(mt_itree *t);

/* Insert [start, end) carrying @item; *@node receives its index.
 * Returns 0 or MT_ENOMEM (the tree is unchanged). */
int mt__itree_insert(mt_itree *t, uint64_t start, mt_u128 end, uintptr_t item,
                     uint32_t *node);

/* Remove node @node (an index returned by insert). */
void mt__itree_remove(mt_itree *t, uint32_t node);

/* Visit every interval meeting [a, b), in start order; stop early when
 * @fn returns false. */
void mt__itree_overlaps(const mt_itree *t, uint64_t a, mt_u128 b,
                        bool (*fn)(void *opaque, const mt_itree_node *n),
                        void *opaque);

/* The interval with the smallest start among those ending after @x, or 0.
 * (For disjoint intervals: the first one not entirely below @x.) */
uint32_t mt__itree_first_ending_after(const mt_itree *t, mt_u128 x);

/* Visit every node in start order. */
void mt__itree_walk(const mt_itree *t,
                    void (*fn)(void *opaque, const mt_itree_node *n),
                    void *opaque);

static inline const mt_itree_node *mt__itree_node(const mt_itree *t,
                                                  uint32_t i)
{
    return &t->pool[i];
}

#endif /* MT_ITREE_H */
