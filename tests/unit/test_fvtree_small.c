/* SPDX-License-Identifier: MIT */
/*
 * test_fvtree_small.c: test_fvtree.c over a private copy of src/fvtree.c
 * built with 4-entry nodes, so that a few thousand ranges make trees of
 * height 6 and more: every rebalancing path (neighbours found several
 * levels up, underflow cascades, root growth and collapse) runs often.
 * The copy's functions are renamed so that they cannot clash with the
 * library's own (which keeps its default node size).
 */
#define MT_FVT_LEAF_MAX 4
#define MT_FVT_INNER_MAX 4
#define mt__fvt_new mt__fvt4_new
#define mt__fvt_free mt__fvt4_free
#define mt__fvt_at mt__fvt4_at
#define mt__fvt_lower mt__fvt4_lower
#define mt__fvt_replace mt__fvt4_replace
#define mt__fvt_check mt__fvt4_check
#define mt__fvt_iter_init mt__fvt4_iter_init
#define mt__fvt_iter_next_leaf mt__fvt4_iter_next_leaf
#define FVT_TEST_SMALL 1
#include "test_fvtree.c"
