/* SPDX-License-Identifier: MIT */
/*
 * itree.c: the interval treap of itree.h. Insert and remove are written
 * with split and merge on the key (start, node index), which is unique, so
 * equal starts are allowed. Recursion depth is the tree height, expected
 * O(log n).
 */
#include <string.h>

#include "itree.h"

void mt__itree_init(mt_itree *t, mt_ctx *ctx)
{
    memset(t, 0, sizeof(*t));
    t->ctx = ctx;
    t->seed = 0x9e3779b9u;
}

void mt__itree_destroy(mt_itree *t)
{
    mt__free(t->ctx, t->pool);
    t->pool = NULL;
    t->cap = t->used = t->free_list = t->root = t->count = 0;
}

static uint32_t next_prio(mt_itree *t)
{
    /* xorshift32: deterministic, so renders are reproducible */
    uint32_t x = t->seed;

    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    t->seed = x;
    return x;
}

static void pull(mt_itree *t, uint32_t i)
{
    mt_itree_node *n = &t->pool[i];
    mt_u128 m = n->end;

    if (n->left && t->pool[n->left].max_end > m)
        m = t->pool[n->left].max_end;
    if (n->right && t->pool[n->right].max_end > m)
        m = t->pool[n->right].max_end;
    n->max_end = m;
}

static bool key_less(const mt_itree *t, uint32_t a, uint32_t b)
{
    const mt_itree_node *x = &t->pool[a], *y = &t->pool[b];

    return x->start < y->start || (x->start == y->start && a < b);
}

/* Split @i into nodes with key < key(@k) (*l) and the rest (*r). */
static void split(mt_itree *t, uint32_t i, uint32_t k, uint32_t *l,
                  uint32_t *r)
{
    if (!i) {
        *l = *r = 0;
        return;
    }
    if (key_less(t, i, k)) {
        split(t, t->pool[i].right, k, &t->pool[i].right, r);
        *l = i;
    } else {
        split(t, t->pool[i].left, k, l, &t->pool[i].left);
        *r = i;
    }
    pull(t, i);
}

/* Merge @l and @r, every key of @l below every key of @r. */
static uint32_t merge(mt_itree *t, uint32_t l, uint32_t r)
{
    if (!l || !r)
        return l ? l : r;
    if (t->pool[l].prio >= t->pool[r].prio) {
        t->pool[l].right = merge(t, t->pool[l].right, r);
        pull(t, l);
        return l;
    }
    t->pool[r].left = merge(t, l, t->pool[r].left);
    pull(t, r);
    return r;
}

static int alloc_node(mt_itree *t, uint32_t *out)
{
    if (t->free_list) {
        *out = t->free_list;
        t->free_list = t->pool[*out].left;
        return 0;
    }
    if (t->used + 1 >= t->cap) {
        size_t cap = t->cap;
        void *p = t->pool;

        if (t->cap >= UINT32_MAX / 2)
            return MT_ENOMEM;
        if (mt__grow(t->ctx, &p, &cap, (size_t)t->used + 2, sizeof(*t->pool)))
            return MT_ENOMEM;
        t->pool = p;
        t->cap = (uint32_t)(cap < UINT32_MAX ? cap : UINT32_MAX);
        if (t->used == 0)
            t->used = 1; /* reserve index 0 */
    }
    *out = t->used++;
    return 0;
}

int mt__itree_insert(mt_itree *t, uint64_t start, mt_u128 end, uintptr_t item,
                     uint32_t *node)
{
    uint32_t i, l, r;

    if (alloc_node(t, &i))
        return MT_ENOMEM;
    t->pool[i].start = start;
    t->pool[i].end = end;
    t->pool[i].max_end = end;
    t->pool[i].left = t->pool[i].right = 0;
    t->pool[i].prio = next_prio(t);
    t->pool[i].item = item;
    split(t, t->root, i, &l, &r);
    t->root = merge(t, merge(t, l, i), r);
    t->count++;
    if (node)
        *node = i;
    return 0;
}

/* Remove @k from the subtree @i; returns the new subtree root. */
static uint32_t remove_rec(mt_itree *t, uint32_t i, uint32_t k)
{
    if (!i)
        return 0;
    if (i == k)
        return merge(t, t->pool[i].left, t->pool[i].right);
    if (key_less(t, k, i))
        t->pool[i].left = remove_rec(t, t->pool[i].left, k);
    else
        t->pool[i].right = remove_rec(t, t->pool[i].right, k);
    pull(t, i);
    return i;
}

void mt__itree_remove(mt_itree *t, uint32_t node)
{
    t->root = remove_rec(t, t->root, node);
    t->pool[node].left = t->free_list;
    t->free_list = node;
    t->count--;
}

static bool overlaps_rec(const mt_itree *t, uint32_t i, uint64_t a, mt_u128 b,
                         bool (*fn)(void *, const mt_itree_node *),
                         void *opaque)
{
    const mt_itree_node *n;

    if (!i)
        return true;
    n = &t->pool[i];
    if (n->max_end <= a)
        return true; /* everything here ends before a */
    if (!overlaps_rec(t, n->left, a, b, fn, opaque))
        return false;
    if ((mt_u128)n->start >= b)
        return true; /* this and everything right starts at or after b */
    if (n->end > a && !fn(opaque, n))
        return false;
    return overlaps_rec(t, n->right, a, b, fn, opaque);
}

void mt__itree_overlaps(const mt_itree *t, uint64_t a, mt_u128 b,
                        bool (*fn)(void *opaque, const mt_itree_node *n),
                        void *opaque)
{
    if ((mt_u128)a < b)
        overlaps_rec(t, t->root, a, b, fn, opaque);
}

uint32_t mt__itree_first_ending_after(const mt_itree *t, mt_u128 x)
{
    uint32_t i = t->root;

    while (i) {
        const mt_itree_node *n = &t->pool[i];

        if (n->left && t->pool[n->left].max_end > x)
            i = n->left;
        else if (n->end > x)
            return i;
        else
            i = n->right;
    }
    return 0;
}

static void walk_rec(const mt_itree *t, uint32_t i,
                     void (*fn)(void *, const mt_itree_node *), void *opaque)
{
    while (i) {
        walk_rec(t, t->pool[i].left, fn, opaque);
        fn(opaque, &t->pool[i]);
        i = t->pool[i].right;
    }
}

void mt__itree_walk(const mt_itree *t,
                    void (*fn)(void *opaque, const mt_itree_node *n),
                    void *opaque)
{
    walk_rec(t, t->root, fn, opaque);
}
