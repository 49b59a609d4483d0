/* SPDX-License-Identifier: MIT */
/*
 * mtree_load.c: mt_mtree_load(), rebuilding regions and address spaces
 * from a QEMU 7.2 `info mtree` / `info mtree -D` dump through the public
 * API only.
 *
 * This file holds the driver that runs the phases in order and frees their
 * state, the memory-region name table with the alias name split (phase 2)
 * and the index sort the later phases share. Phases (docs/mtree-format.md
 * has the user-level description):
 *  1. parse (mtree_parse.c): blocks and region lines, in print order;
 *  2. split alias names at the rightmost " @" that names a memory-region
 *     block;
 *  3. identity (mtree_load_identify.c): every printed line is its own
 *     object, except a block root printed again as a node elsewhere (an
 *     address-space root mapped in another tree, a memory-region block of
 *     a mapped region). Found by structural equality of the subtrees; the
 *     first print of an object is its "primary";
 *  4. alias targets (mtree_load_alias.c): replay QEMU's print queue: in
 *     print order every alias names a queued memory-region block or the
 *     next one;
 *  5. facts (mtree_load_facts.c): terminates / container / readonly /
 *     dirty-log;
 *  6. build (mtree_load_build.c): create every object, set flags, map
 *     children so that QEMU's subregion list order comes back, create the
 *     address spaces; all in one transaction, undone completely on failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtree_load.h"

/* ------------------------------------------------------------------------ */
/* Memory-region name table                                                  */
/* ------------------------------------------------------------------------ */

uint64_t mt__ml_rev_hash(const char *s, size_t len)
{
    uint64_t h = ML_REV_HASH_SEED;

    while (len)
        h = ml_rev_hash_step(h, (unsigned char)s[--len]);
    return h;
}

/* Name id (first block of that name) of s[0..len) with hash @h, or ML_NONE. */
static uint32_t mr_lookup(const ml_state *s, const char *str, size_t len,
                          uint64_t h)
{
    size_t mask = s->mr_table_cap - 1;

    if (!s->mr_table_cap)
        return ML_NONE;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        uint32_t u = s->mr_table[i];
        const char *n;

        if (u == ML_NONE)
            return ML_NONE;
        n = s->units[u].name;
        if (strlen(n) == len && memcmp(n, str, len) == 0)
            return u;
    }
}

static int build_mr_table(ml_state *s)
{
    size_t nr_mr = s->nr_units - s->nr_as_units, cap = 16;
    uint32_t *last;

    while (cap < 2 * nr_mr + 1)
        cap *= 2;
    s->mr_table = malloc(cap * sizeof(*s->mr_table));
    last = malloc((nr_mr + 1) * sizeof(*last));
    if (!s->mr_table || !last) {
        free(last);
        return MT_ENOMEM;
    }
    s->mr_table_cap = cap;
    memset(s->mr_table, 0xff, cap * sizeof(*s->mr_table));
    for (size_t u = s->nr_as_units; u < s->nr_units; u++) {
        ml_unit *mu = &s->units[u];
        size_t len = strlen(mu->name);
        uint64_t h = mt__ml_rev_hash(mu->name, len);
        uint32_t id = mr_lookup(s, mu->name, len, h);

        if (id == ML_NONE) {
            size_t i = h & (cap - 1);

            while (s->mr_table[i] != ML_NONE)
                i = (i + 1) & (cap - 1);
            s->mr_table[i] = (uint32_t)u;
            id = (uint32_t)u;
        } else {
            s->units[last[id - s->nr_as_units]].next_same = (uint32_t)u;
        }
        mu->nid = id;
        last[id - s->nr_as_units] = (uint32_t)u;
    }
    free(last);
    return 0;
}

/* Root names of memory-region blocks must repeat the header. */
static int check_mr_roots(ml_state *s)
{
    for (size_t u = s->nr_as_units; u < s->nr_units; u++) {
        const ml_unit *mu = &s->units[u];
        const ml_node *r = &s->nodes[mu->root];

        if (r->synth == ML_REAL && strcmp(r->name, mu->name) != 0)
            return ml_error(s, false, r->line, "root region '%.60s' differs from the block header 'memory-region: %.60s'",
                            r->name, mu->name);
    }
    return 0;
}

/*
 * Split "NAME @TARGET" at the rightmost " @" whose right part names a
 * memory-region block (names may contain " @" themselves).
 */
static int split_aliases(ml_state *s)
{
    for (size_t i = 0; i < s->nr_nodes; i++) {
        ml_node *n = &s->nodes[i];
        char *raw = (char *)n->name;
        size_t len = n->alias_len, last_at = SIZE_MAX;
        uint64_t h1 = ML_REV_HASH_SEED, h2 = ML_REV_HASH_SEED;

        if (!n->alias)
            continue;
        /* h1 = hash of raw[j+1..len), h2 = hash of raw[j+2..len). */
        for (size_t j = len; j-- > 0;) {
            uint64_t h = h2;

            h2 = h1;
            h1 = ml_rev_hash_step(h1, (unsigned char)raw[j]);
            if (j + 1 < len && raw[j] == ' ' && raw[j + 1] == '@') {
                uint32_t id;

                if (last_at == SIZE_MAX)
                    last_at = j;
                id = mr_lookup(s, raw + j + 2, len - j - 2, h);
                if (id != ML_NONE) {
                    raw[j] = '\0';
                    n->target = raw + j + 2;
                    n->target_nid = id;
                    break;
                }
            }
        }
        if (n->target_nid == ML_NONE)
            return ml_error(s, false, n->line, "alias target '%.80s' has no 'memory-region: %.80s' block",
                            last_at == SIZE_MAX ? "" : raw + last_at + 2,
                            last_at == SIZE_MAX ? "" : raw + last_at + 2);
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Sorting node indices (heapsort: in place, no allocation)                  */
/* ------------------------------------------------------------------------ */

static void sift_down(uint32_t *v, size_t root, size_t n, ml_cmp cmp,
                      const ml_state *s)
{
    for (;;) {
        size_t c = 2 * root + 1;
        uint32_t t;

        if (c >= n)
            return;
        if (c + 1 < n && cmp(s, v[c], v[c + 1]) < 0)
            c++;
        if (cmp(s, v[root], v[c]) >= 0)
            return;
        t = v[root];
        v[root] = v[c];
        v[c] = t;
        root = c;
    }
}

/* Sort @v by @cmp, which must be a total order (ties broken by index). */
void mt__ml_sort(uint32_t *v, size_t n, ml_cmp cmp, const ml_state *s)
{
    for (size_t i = n / 2; i-- > 0;)
        sift_down(v, i, n, cmp, s);
    for (size_t i = n; i-- > 1;) {
        uint32_t t = v[0];

        v[0] = v[i];
        v[i] = t;
        sift_down(v, 0, i, cmp, s);
    }
}

/* ------------------------------------------------------------------------ */
/* Entry point                                                               */
/* ------------------------------------------------------------------------ */

static void free_state(ml_state *s)
{
    free(s->arena);
    free(s->nodes);
    free(s->units);
    free(s->as_names);
    free(s->mr_table);
    free(s->kids);
    free(s->facts);
    free(s->byname);
    free(s->hidden);
}

int mt_mtree_load(mt_ctx *ctx, const char *dump, size_t dump_len,
                  const char *facts, size_t facts_len, mt_load_error *err)
{
    ml_state s = { .ctx = ctx, .err = err };
    struct build b = { 0 };
    int rc;

    if (err)
        memset(err, 0, sizeof(*err));
    if (!ctx || (!dump && dump_len) || (!facts && facts_len)) {
        if (err)
            snprintf(err->msg, sizeof(err->msg), "invalid argument: NULL context or text with a non-zero length");
        return MT_EINVAL;
    }
    rc = ml_parse_dump(&s, dump ? dump : "", dump_len);
    if (!rc)
        rc = build_mr_table(&s);
    if (!rc)
        rc = split_aliases(&s);
    if (!rc)
        rc = check_mr_roots(&s);
    if (!rc)
        rc = mt__ml_compute_structure(&s);
    if (!rc)
        rc = mt__ml_identify(&s);
    if (!rc)
        rc = mt__ml_resolve_alias_targets(&s);
    if (!rc)
        rc = mt__ml_load_facts(&s, facts, facts_len);
    if (!rc) {
        mt_begin(ctx);
        rc = mt__ml_build(&s, &b);
        if (!rc) {
            rc = mt_commit(ctx);
            if (rc)
                mt_begin(ctx); /* could not render: take everything out again */
        }
        if (rc) {
            mt__ml_undo_build(&b);
            mt_commit(ctx);
        } else {
            /* The trees, aliases and address spaces hold what they need. */
            while (b.nr_created)
                mt_region_unref(b.created[--b.nr_created]);
        }
    }
    if (rc == MT_ENOMEM && err && !err->msg[0])
        snprintf(err->msg, sizeof(err->msg), "out of memory");
    mt__ml_free_build(&b);
    free_state(&s);
    return rc;
}
