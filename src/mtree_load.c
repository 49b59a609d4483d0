/* SPDX-License-Identifier: MIT */
/*
 * mtree_load.c: mt_mtree_load(), rebuilding regions and address spaces
 * from a QEMU 7.2 `info mtree` / `info mtree -D` dump through the public
 * API only.
 *
 * Phases (docs/mtree-format.md has the user-level description):
 *  1. parse (mtree_parse.c): blocks and region lines, in print order;
 *  2. split alias names at the rightmost " @" that names a memory-region
 *     block;
 *  3. identity: every printed line is its own object, except a block root
 *     printed again as a node elsewhere (an address-space root mapped in
 *     another tree, a memory-region block of a mapped region). Found by
 *     structural equality of the subtrees; the first print of an object is
 *     its "primary";
 *  4. alias targets: replay QEMU's print queue: in print order every alias
 *     names a queued memory-region block or the next one;
 *  5. facts (terminates / container / readonly / dirty-log);
 *  6. build: create every object, set flags, map children so that QEMU's
 *     subregion list order comes back, create the address spaces; all in
 *     one transaction, undone completely on failure.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtree_load.h"

/* Bounds on heuristic work for pathological input (results stay valid). */
#define MATCH_TRIES_PER_ROOT 64
#define MATCH_SCAN_PER_ROOT 8192
#define QUEUED_CANDIDATES 256
#define FEASIBILITY_BUDGET 4000000u

/* ------------------------------------------------------------------------ */
/* Memory-region name table                                                  */
/* ------------------------------------------------------------------------ */

static uint64_t rev_hash(const char *s, size_t len)
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
        uint64_t h = rev_hash(mu->name, len);
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

typedef int (*ml_cmp)(const ml_state *s, uint32_t a, uint32_t b);

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
static void ml_sort(uint32_t *v, size_t n, ml_cmp cmp, const ml_state *s)
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
/* Structure: hashes, equality, children arrays                              */
/* ------------------------------------------------------------------------ */

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdULL;
}

static uint64_t mix_str(uint64_t h, const char *str)
{
    return mix(h, rev_hash(str, strlen(str)));
}

static uint64_t local_hash(const ml_node *n)
{
    uint64_t h = 0x6d656d74726565ULL;

    if (n->synth)
        return mix(h, 0x5157); /* placeholders: name, size, type unknown */
    h = mix_str(h, n->name);
    h = mix(h, n->size);
    h = mix(h, (uint64_t)(int64_t)n->prio);
    h = mix(h, n->type | (unsigned)n->nv << 4 | (unsigned)n->disabled << 5 |
                   (unsigned)n->alias << 6);
    if (n->alias) {
        h = mix_str(h, n->target);
        h = mix(h, n->aoff);
    }
    return h;
}

static bool local_eq(const ml_node *a, const ml_node *b)
{
    if (a->synth || b->synth)
        return a->synth && b->synth;
    if (a->size != b->size || a->prio != b->prio || a->type != b->type ||
        a->nv != b->nv || a->disabled != b->disabled || a->alias != b->alias ||
        strcmp(a->name, b->name) != 0)
        return false;
    return !a->alias || (a->aoff == b->aoff && strcmp(a->target, b->target) == 0);
}

static int compute_structure(ml_state *s)
{
    size_t off = 0;

    s->kids = malloc((s->nr_nodes ? s->nr_nodes : 1) * sizeof(*s->kids));
    if (!s->kids)
        return MT_ENOMEM;
    for (size_t i = 0; i < s->nr_nodes; i++) {
        ml_node *n = &s->nodes[i];
        uint32_t k = 0;

        n->kids = (uint32_t)off;
        for (uint32_t c = n->first_child; c != ML_NONE; c = s->nodes[c].next_sibling)
            s->kids[off + k++] = c;
        off += k;
    }
    for (size_t i = s->nr_nodes; i-- > 0;) {
        ml_node *n = &s->nodes[i];
        uint64_t h = local_hash(n);

        for (uint32_t k = 0; k < n->nr_children; k++) {
            const ml_node *c = &s->nodes[s->kids[n->kids + k]];

            h = mix(mix(h, c->addr), c->hash);
        }
        n->hash = h;
    }
    return 0;
}

/* Are the subtrees at @a and @b prints of the same structure? */
static bool subtree_eq(const ml_state *s, uint32_t a, uint32_t b)
{
    const ml_node *na = &s->nodes[a], *nb = &s->nodes[b];
    uint32_t cnt = na->end - a;

    if (nb->end - b != cnt || na->hash != nb->hash)
        return false;
    for (uint32_t k = 0; k < cnt; k++) {
        const ml_node *x = &s->nodes[a + k], *y = &s->nodes[b + k];

        if (x->level - na->level != y->level - nb->level ||
            (k && x->addr != y->addr) || !local_eq(x, y))
            return false;
    }
    return true;
}

/* ------------------------------------------------------------------------ */
/* Identity: union-find over nodes, with undo                                */
/* ------------------------------------------------------------------------ */

struct uf {
    uint32_t *parent, *size;
    uint8_t *as_roots, *mr_roots; /* per class: how many block roots */
    uint32_t *undo;               /* merged class roots of the current batch */
    size_t nr_undo, cap_undo;
};

static uint32_t uf_find(const struct uf *u, uint32_t x)
{
    while (u->parent[x] != x)
        x = u->parent[x];
    return x;
}

/* Merge the classes of @a and @b unless a class would get two roots of one kind. */
static int uf_union(struct uf *u, uint32_t a, uint32_t b, bool *ok)
{
    uint32_t ra = uf_find(u, a), rb = uf_find(u, b), t;

    *ok = true;
    if (ra == rb)
        return 0;
    if (u->as_roots[ra] + u->as_roots[rb] > 1 || u->mr_roots[ra] + u->mr_roots[rb] > 1) {
        *ok = false;
        return 0;
    }
    if (u->size[ra] < u->size[rb]) {
        t = ra;
        ra = rb;
        rb = t;
    }
    if (ml_grow((void **)&u->undo, &u->cap_undo, u->nr_undo + 1, sizeof(*u->undo)))
        return MT_ENOMEM;
    u->undo[u->nr_undo++] = rb;
    u->parent[rb] = ra;
    u->size[ra] += u->size[rb];
    u->as_roots[ra] += u->as_roots[rb];
    u->mr_roots[ra] += u->mr_roots[rb];
    return 0;
}

static void uf_rollback(struct uf *u)
{
    while (u->nr_undo) {
        uint32_t rb = u->undo[--u->nr_undo], ra = u->parent[rb];

        u->size[ra] -= u->size[rb];
        u->as_roots[ra] -= u->as_roots[rb];
        u->mr_roots[ra] -= u->mr_roots[rb];
        u->parent[rb] = rb;
    }
}

/* Try to make subtree @n the same object as block root @r. */
static int try_identify(const ml_state *s, struct uf *u, uint32_t r, uint32_t n,
                        bool *ok)
{
    uint32_t cnt = s->nodes[r].end - r;
    int rc = 0;

    u->nr_undo = 0;
    *ok = true;
    for (uint32_t k = 0; k < cnt && *ok && !rc; k++)
        rc = uf_union(u, r + k, n + k, ok);
    if (rc || !*ok)
        uf_rollback(u);
    u->nr_undo = 0;
    return rc;
}

static int cmp_hash_idx(const ml_state *s, uint32_t a, uint32_t b)
{
    uint64_t ha = s->nodes[a].hash, hb = s->nodes[b].hash;

    if (ha != hb)
        return ha < hb ? -1 : 1;
    return a < b ? -1 : a > b;
}

static bool is_block_root(const ml_state *s, uint32_t n)
{
    return s->nodes[n].parent == ML_NONE;
}

/* First position in v[lo, hi) (sorted by hash) whose node hash is >= @h. */
static size_t first_hash(const ml_state *s, const uint32_t *v, size_t lo,
                         size_t hi, uint64_t h)
{
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (s->nodes[v[mid]].hash < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/*
 * Identify block roots printed again elsewhere. An address-space root may
 * be a node inside another tree; a memory-region block root may be any
 * node printed elsewhere (another tree, an address-space root, a node of
 * another memory-region block). Two address-space roots, or two
 * memory-region blocks, are always distinct objects. The address a root
 * prints (its own address) must equal the node's address in its parent.
 */
static int identify(ml_state *s)
{
    size_t n = s->nr_nodes;
    struct uf u = { 0 };
    uint32_t *byhash = malloc((n ? n : 1) * sizeof(*byhash));
    uint32_t *minidx = malloc((n ? n : 1) * sizeof(*minidx));
    size_t nin = 0, nall;
    int rc = 0;

    u.parent = malloc((n ? n : 1) * sizeof(*u.parent));
    u.size = malloc((n ? n : 1) * sizeof(*u.size));
    u.as_roots = calloc(n ? n : 1, 1);
    u.mr_roots = calloc(n ? n : 1, 1);
    if (!byhash || !minidx || !u.parent || !u.size || !u.as_roots || !u.mr_roots) {
        rc = MT_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        u.parent[i] = (uint32_t)i;
        u.size[i] = 1;
    }
    for (size_t k = 0; k < s->nr_units; k++) {
        if (s->units[k].mr)
            u.mr_roots[s->units[k].root] = 1;
        else
            u.as_roots[s->units[k].root] = 1;
    }
    /* Candidates: nodes inside trees [0, nin), then address-space roots. */
    for (size_t i = 0; i < n; i++)
        if (!is_block_root(s, (uint32_t)i))
            byhash[nin++] = (uint32_t)i;
    nall = nin;
    for (size_t k = 0; k < s->nr_as_units; k++)
        byhash[nall++] = s->units[k].root;
    ml_sort(byhash, nin, cmp_hash_idx, s);
    ml_sort(byhash + nin, nall - nin, cmp_hash_idx, s);

    for (size_t k = 0; k < s->nr_units && !rc; k++) {
        const ml_unit *unit = &s->units[k];
        uint32_t r = unit->root, tries = 0, scanned = 0;
        uint64_t h = s->nodes[r].hash;
        size_t ja = first_hash(s, byhash, 0, nin, h);
        size_t jb = unit->mr ? first_hash(s, byhash, nin, nall, h) : nall;

        /* Both runs of this hash, merged in print order. */
        for (;;) {
            bool a_ok = ja < nin && s->nodes[byhash[ja]].hash == h;
            bool b_ok = jb < nall && s->nodes[byhash[jb]].hash == h;
            uint32_t c;
            const ml_node *cn;
            bool ok;

            if ((!a_ok && !b_ok) || ++scanned > MATCH_SCAN_PER_ROOT)
                break;
            if (a_ok && (!b_ok || byhash[ja] < byhash[jb]))
                c = byhash[ja++];
            else
                c = byhash[jb++];
            cn = &s->nodes[c];
            if (cn->unit == k || cn->addr != s->nodes[r].start || !subtree_eq(s, r, c))
                continue;
            if (++tries > MATCH_TRIES_PER_ROOT)
                break;
            rc = try_identify(s, &u, r, c, &ok);
            if (rc || ok)
                break;
        }
    }
    if (rc)
        goto out;
    /* Class primary: the first print (lowest index) of each object. */
    for (size_t i = 0; i < n; i++)
        minidx[i] = ML_NONE;
    for (size_t i = 0; i < n; i++) {
        uint32_t root = uf_find(&u, (uint32_t)i);

        if (minidx[root] == ML_NONE)
            minidx[root] = (uint32_t)i;
        s->nodes[i].cls = minidx[root];
    }
out:
    free(byhash);
    free(minidx);
    free(u.parent);
    free(u.size);
    free(u.as_roots);
    free(u.mr_roots);
    free(u.undo);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Alias targets: replaying QEMU's memory-region print queue                 */
/* ------------------------------------------------------------------------ */

static uint32_t nr_mr(const ml_state *s)
{
    return (uint32_t)(s->nr_units - s->nr_as_units);
}

static const ml_unit *mr_unit(const ml_state *s, uint32_t k)
{
    return &s->units[s->nr_as_units + k];
}

/* Memory-region block number of the first block named like alias @a. */
static uint32_t first_of_name(const ml_state *s, const ml_node *a)
{
    return a->target_nid - (uint32_t)s->nr_as_units;
}

static uint32_t next_of_name(const ml_state *s, uint32_t k)
{
    uint32_t nx = mr_unit(s, k)->next_same;

    return nx == ML_NONE ? ML_NONE : nx - (uint32_t)s->nr_as_units;
}

/* Can block @k be the target of alias @a (the alias prints its target's type)? */
static bool type_ok(const ml_state *s, uint32_t k, const ml_node *a)
{
    const ml_node *r = &s->nodes[mr_unit(s, k)->root];

    return r->synth || r->type == a->type;
}

/* Does block @k's root have a subregion inside the window of alias @a? */
static bool window_has_child(const ml_state *s, uint32_t k, const ml_node *a)
{
    const ml_node *r = &s->nodes[mr_unit(s, k)->root];
    uint64_t wlast = a->size == MT_SIZE_FULL || a->aoff > UINT64_MAX - (a->size - 1)
                         ? UINT64_MAX : a->aoff + (a->size - 1);
    uint32_t lo = 0, hi = r->nr_children;

    while (lo < hi) { /* children print in address order */
        uint32_t mid = lo + (hi - lo) / 2;

        if (s->nodes[s->kids[r->kids + mid]].addr < a->aoff)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (uint32_t i = lo; i < r->nr_children && i < lo + 16; i++) {
        const ml_node *c = &s->nodes[s->kids[r->kids + i]];

        if (c->addr < a->aoff || c->addr > wlast)
            continue;
        if (c->size != MT_SIZE_FULL && c->size - 1 <= wlast - c->addr)
            return true;
    }
    return false;
}

/* Is node @i the first print of an alias (a re-print names the same target)? */
static bool primary_alias(const ml_state *s, uint32_t i)
{
    return s->nodes[i].alias && s->nodes[i].cls == i;
}

/*
 * Strict dumps only: can the replay finish from node @from with @q blocks
 * queued, when every later alias takes the next block whenever it can?
 * (Taking the next block as early as possible is always the most
 * permissive choice.) Gives up -- answering yes -- past the budget.
 */
static bool feasible(const ml_state *s, uint32_t from, uint32_t q, unsigned *budget)
{
    for (uint32_t i = from; i < s->nr_nodes; i++) {
        const ml_node *n = &s->nodes[i];

        if (!*budget)
            return true;
        --*budget;
        if (n->parent == ML_NONE && s->units[n->unit].mr &&
            n->unit - s->nr_as_units >= q)
            return false; /* printed before anything queued it */
        if (!primary_alias(s, i))
            continue;
        if (q < nr_mr(s) && mr_unit(s, q)->nid == n->target_nid && type_ok(s, q, n)) {
            q++;
            continue;
        }
        if (first_of_name(s, n) >= q)
            return false;
    }
    return true;
}

/*
 * Plain dumps: blocks [from, to) were queued by aliases the dump hides,
 * between the queueing line @after (ML_NONE: the start) and line @before.
 * The builder gives each a disabled placeholder alias there, so that the
 * block stays an alias target and prints in the same queue position.
 */
static int hidden_refs(ml_state *s, uint32_t after, uint32_t before,
                       uint32_t from, uint32_t to)
{
    if (s->strict)
        return 0;
    for (uint32_t k = from; k < to; k++) {
        if (ml_grow((void **)&s->hidden, &s->cap_hidden, s->nr_hidden + 1, sizeof(*s->hidden)))
            return MT_ENOMEM;
        s->hidden[s->nr_hidden].after = after;
        s->hidden[s->nr_hidden].before = before;
        s->hidden[s->nr_hidden].mr = k;
        s->nr_hidden++;
    }
    return 0;
}

static int resolve_alias_targets(ml_state *s)
{
    uint32_t q = 0, total = nr_mr(s), last = ML_NONE;
    unsigned budget = FEASIBILITY_BUDGET;
    int rc;

    for (uint32_t i = 0; i < s->nr_nodes; i++) {
        ml_node *a = &s->nodes[i];
        uint32_t best = ML_NONE, seen = 0;
        int best_score = -1, new_score = -1;
        bool can_new;

        if (a->parent == ML_NONE && s->units[a->unit].mr &&
            a->unit - s->nr_as_units >= q) {
            /* Printed, so queued: by aliases a plain dump hides. */
            rc = hidden_refs(s, last, i, q, a->unit - (uint32_t)s->nr_as_units + 1);
            if (rc)
                return rc;
            q = a->unit - (uint32_t)s->nr_as_units + 1;
        }
        if (!primary_alias(s, i))
            continue;
        can_new = q < total && mr_unit(s, q)->nid == a->target_nid && type_ok(s, q, a);
        if (can_new)
            new_score = 2 * window_has_child(s, q, a) + 1;
        for (uint32_t k = first_of_name(s, a); k != ML_NONE && k < q && seen < QUEUED_CANDIDATES;
             k = next_of_name(s, k), seen++) {
            int score;

            if (!type_ok(s, k, a))
                continue;
            score = 2 * window_has_child(s, k, a);
            if (score > best_score) {
                best_score = score;
                best = k;
            }
        }
        if (can_new && (new_score > best_score ||
                        (s->strict && !feasible(s, i + 1, q, &budget)))) {
            a->target_mr = q++;
            last = i;
            continue;
        }
        if (best != ML_NONE) {
            a->target_mr = best;
            continue;
        }
        /* Not queued yet and not next: blocks in between were queued by
         * aliases a plain dump hides. */
        for (uint32_t k = first_of_name(s, a); k != ML_NONE; k = next_of_name(s, k)) {
            if (k >= q && type_ok(s, k, a)) {
                rc = hidden_refs(s, last, i, q, k);
                if (rc)
                    return rc;
                a->target_mr = k;
                q = k + 1;
                last = i;
                break;
            }
        }
        if (a->target_mr == ML_NONE) {
            static const char *const tn[] = { "i/o", "ram", "rom", "romd", "ramd" };
            const ml_node *r = &s->nodes[s->units[a->target_nid].root];

            return ml_error(s, false, a->line, "alias '%.60s' prints type %s, but its target 'memory-region: %.60s' prints %s",
                            a->name, tn[a->type], a->target, tn[r->type]);
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Facts                                                                     */
/* ------------------------------------------------------------------------ */

/* Order of nodes by name then index, for fact lookups. */
static int cmp_name_idx(const ml_state *s, uint32_t a, uint32_t b)
{
    int c = strcmp(s->nodes[a].name, s->nodes[b].name);

    return c ? c : (a < b ? -1 : a > b);
}

/* strcmp(@n, s[0..len)) for a NUL-terminated @n. */
static int cmp_name_str(const char *n, const char *str, size_t len)
{
    int c = strncmp(n, str, len);

    if (c == 0 && n[len] != '\0')
        c = 1;
    return c;
}

/* First position in s->byname of nodes named s[0..len), and their count. */
static size_t name_range(const ml_state *s, const char *str, size_t len,
                         size_t *count)
{
    size_t lo = 0, hi = s->nr_byname, first;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (cmp_name_str(s->nodes[s->byname[mid]].name, str, len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    first = lo;
    while (lo < s->nr_byname && cmp_name_str(s->nodes[s->byname[lo]].name, str, len) == 0)
        lo++;
    *count = lo - first;
    return first;
}

/* Does node @x match "A>B>...>NAME" (each '>' steps to the printed parent)? */
static bool spec_matches(const ml_state *s, uint32_t x, const char *spec, size_t len)
{
    while (x != ML_NONE) {
        const char *name = s->nodes[x].name;
        size_t nl = strlen(name);

        if (nl == len && memcmp(name, spec, len) == 0)
            return true;
        if (nl >= len || spec[len - nl - 1] != '>' || memcmp(spec + len - nl, name, nl) != 0)
            return false;
        len -= nl + 1;
        x = s->nodes[x].parent;
    }
    return false;
}

static bool ram_backed(uint8_t t)
{
    return t == ML_T_RAM || t == ML_T_ROM || t == ML_T_ROMD || t == ML_T_RAMD;
}

/*
 * Apply one fact to every object with a print that matches @spec:
 * - terminates / container: to non-alias i/o regions (terminates is
 *   accepted and has no effect on RAM kinds, which always terminate);
 * - readonly: to any region or alias;
 * - dirty-log: to non-alias RAM-backed regions.
 * A name that matches nothing is an error in an `info mtree -D` dump; in a
 * plain dump it is ignored, as it may name a hidden disabled region.
 */
static int apply_fact(ml_state *s, int kind, const char *spec, uint32_t line)
{
    static const char *const kn[] = { "", "terminates", "container", "readonly", "dirty-log" };
    size_t len = strlen(spec), matched = 0, applied = 0;
    bool only_alias = true;

    /* Candidates: nodes named like the whole spec or a part after a '>'. */
    for (size_t cut = 0; cut <= len; cut++) {
        size_t first, count;

        if (cut && spec[cut - 1] != '>')
            continue;
        first = name_range(s, spec + cut, len - cut, &count);
        for (size_t j = first; j < first + count; j++) {
            uint32_t x = s->byname[j];
            const ml_node *n = &s->nodes[x];
            ml_fact *fa = &s->facts[n->cls];

            if (!spec_matches(s, x, spec, len))
                continue;
            matched++;
            if (!n->alias)
                only_alias = false;
            if (kind == ML_F_READONLY) {
                fa->readonly = true;
                applied++;
            } else if (kind == ML_F_DIRTY_LOG) {
                if (!n->alias && ram_backed(n->type)) {
                    fa->dirty_log = true;
                    applied++;
                }
            } else if (!n->alias && n->type != ML_T_IO) {
                if (kind == ML_F_TERMINATES)
                    applied++; /* RAM kinds always terminate */
            } else if (!n->alias) {
                uint8_t want = kind == ML_F_TERMINATES ? 1 : 2;

                if (fa->io && fa->io != want)
                    return ml_error(s, true, line, "'%s %.60s' contradicts '%s' on line %u",
                                    kn[kind], spec, kn[fa->io], fa->io_line);
                fa->io = want;
                fa->io_line = line;
                applied++;
            }
        }
    }
    if (applied)
        return 0;
    if (!matched) {
        if (!s->strict)
            return 0;
        return ml_error(s, true, line, "no region named '%.80s' in the dump", spec);
    }
    if (only_alias)
        return ml_error(s, true, line, "'%.60s' names only aliases: '%s' applies to %s", spec, kn[kind],
                        kind == ML_F_DIRTY_LOG ? "RAM regions" : "i/o regions");
    if (kind == ML_F_DIRTY_LOG)
        return ml_error(s, true, line, "'%.60s' is not a RAM region: dirty-log applies to ram, rom, romd and ramd regions", spec);
    return ml_error(s, true, line, "'%.60s' is not an i/o region: only i/o regions can be containers", spec);
}

static int load_facts(ml_state *s, const char *facts, size_t len)
{
    s->facts = calloc(s->nr_nodes ? s->nr_nodes : 1, sizeof(*s->facts));
    s->byname = malloc((s->nr_nodes ? s->nr_nodes : 1) * sizeof(*s->byname));
    if (!s->facts || !s->byname)
        return MT_ENOMEM;
    for (size_t i = 0; i < s->nr_nodes; i++)
        if (s->nodes[i].synth != ML_HIDDEN)
            s->byname[s->nr_byname++] = (uint32_t)i;
    ml_sort(s->byname, s->nr_byname, cmp_name_idx, s);
    if (!facts || !len)
        return 0;
    return ml_parse_facts(s, facts, len, apply_fact);
}

/* ------------------------------------------------------------------------ */
/* Building regions through the public API                                   */
/* ------------------------------------------------------------------------ */

struct mapping {
    mt_region *parent, *child;
};

struct build {
    mt_region **obj;          /* per node: the region of a class primary */
    bool *mapped;             /* per class primary: printed inside a parent */
    uint32_t *mark;           /* per node: alias chain being walked (p + 1) */
    mt_region **created;      /* creation order, for the undo */
    size_t nr_created, cap_created;
    mt_region **backing;      /* hidden RAM behind ramd regions (kept) */
    size_t nr_backing, cap_backing;
    struct mapping *maps;
    size_t nr_maps, cap_maps;
    mt_as **as;
    size_t nr_as, cap_as;
    uint32_t *order;          /* scratch: children in add order */
    size_t cap_order;
};

/* Record @r for the undo; on failure @r is dropped at once. */
static int push_created(struct build *b, mt_region *r)
{
    if (ml_grow((void **)&b->created, &b->cap_created, b->nr_created + 1, sizeof(*b->created))) {
        mt_region_unref(r);
        return MT_ENOMEM;
    }
    b->created[b->nr_created++] = r;
    return 0;
}

/* Turn a core error on line @line into the loader's contract. */
static int api_error(ml_state *s, int rc, uint32_t line, const char *what,
                     const char *name)
{
    if (rc == MT_ENOMEM) {
        if (s->err) {
            s->err->in_facts = false;
            s->err->line = line;
            snprintf(s->err->msg, sizeof(s->err->msg), "out of memory (cannot %s '%.80s')", what, name);
        }
        return MT_ENOMEM;
    }
    return ml_error(s, false, line, "cannot %s '%.80s': %s", what, name, mt_strerror(rc));
}

static const char *class_name(const ml_state *s, uint32_t p)
{
    const ml_node *n = &s->nodes[p];

    if (n->synth == ML_HIDDEN) {
        /* A placeholder identified with a memory-region block takes its name. */
        for (size_t u = s->nr_as_units; u < s->nr_units; u++) {
            const ml_node *r = &s->nodes[s->units[u].root];

            if (r->synth == ML_HEADER && r->cls == p)
                return r->name;
        }
    }
    return n->name;
}

/*
 * Plain dumps hide disabled children, so some pure containers print
 * childless. These QEMU 7.2 regions are always containers whose children
 * may all be disabled: PCI's "bus master container" (its "bus master" alias
 * stays disabled until the guest enables bus mastering) and the SMRAM
 * container of i440FX and Q35 ("smram", its windows disabled at reset).
 * Only for plain dumps, only without a fact.
 */
static bool plain_default_container(const ml_state *s, const ml_node *n)
{
    static const char *const names[] = { "bus master container", "smram" };

    if (s->strict || n->nr_children)
        return false;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (!strcmp(n->name, names[i]))
            return true;
    return false;
}

static int create_plain(ml_state *s, struct build *b, uint32_t p)
{
    const ml_node *n = &s->nodes[p];
    const ml_fact *f = &s->facts[p];
    const char *name = class_name(s, p);
    mt_region *r = NULL, *bk = NULL;
    int rc;

    switch (n->synth ? ML_T_IO : n->type) {
    case ML_T_IO:
        if (n->synth || f->io == 2 ||
            (f->io == 0 && (n->nr_children || plain_default_container(s, n))))
            rc = mt_region_new_container(s->ctx, name, n->size, &r);
        else
            rc = mt_region_new_io(s->ctx, name, n->size, NULL, NULL, &r);
        break;
    case ML_T_RAM:
        rc = mt_region_new_ram(s->ctx, name, n->size, &r);
        break;
    case ML_T_ROM:
        rc = mt_region_new_rom(s->ctx, name, n->size, &r);
        break;
    case ML_T_ROMD:
        rc = mt_region_new_rom_device(s->ctx, name, n->size, NULL, NULL, &r);
        break;
    default: /* ML_T_RAMD: device memory over a hidden, lazily reserved RAM block */
        rc = mt_region_new_ram(s->ctx, name, n->size, &bk);
        if (rc == 0) {
            if (ml_grow((void **)&b->backing, &b->cap_backing, b->nr_backing + 1,
                        sizeof(*b->backing))) {
                mt_region_unref(bk);
                return api_error(s, MT_ENOMEM, n->line, "create", name);
            }
            b->backing[b->nr_backing++] = bk;
            rc = mt_region_new_ram_device(s->ctx, name, n->size, mt_region_ram_ptr(bk), &r);
        }
        break;
    }
    if (rc == MT_ERANGE && n->size == MT_SIZE_FULL)
        return ml_error(s, false, n->line, "a %s region cannot span the whole 64-bit space", n->type == ML_T_RAMD ? "ramd" : "RAM-backed");
    if (rc == MT_ENOMEM && ram_backed(n->type)) {
        if (s->err) {
            s->err->in_facts = false;
            s->err->line = n->line;
            snprintf(s->err->msg, sizeof(s->err->msg),
                     "cannot reserve 0x%llx bytes of host memory for '%.80s'",
                     (unsigned long long)n->size, name);
        }
        return MT_ENOMEM;
    }
    if (rc)
        return api_error(s, rc, n->line, "create", name);
    b->obj[p] = r;
    return push_created(b, r);
}

/* Create alias @p, after the alias chain it points through. */
static int create_alias_chain(ml_state *s, struct build *b, uint32_t p)
{
    uint32_t *chain = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;

    /* Walk to the first target that exists; a repeat means a cycle. */
    for (uint32_t x = p;;) {
        const ml_node *a = &s->nodes[x];
        uint32_t t;

        if (ml_grow((void **)&chain, &cap, n + 1, sizeof(*chain))) {
            free(chain);
            return MT_ENOMEM;
        }
        chain[n++] = x;
        b->mark[x] = p + 1;
        t = s->nodes[mr_unit(s, a->target_mr)->root].cls;
        if (b->obj[t])
            break;
        if (!s->nodes[t].alias) {
            free(chain);
            return ml_error(s, false, a->line, "internal: alias target not created");
        }
        if (b->mark[t] == p + 1) {
            rc = ml_error(s, false, s->nodes[p].line, "alias '%.60s' reaches itself through its targets (alias cycle)",
                          s->nodes[p].name);
            free(chain);
            return rc;
        }
        x = t;
    }
    while (n && !rc) {
        uint32_t x = chain[--n];
        const ml_node *a = &s->nodes[x];
        mt_region *t = b->obj[s->nodes[mr_unit(s, a->target_mr)->root].cls];
        mt_region *r = NULL;

        rc = mt_region_new_alias(s->ctx, a->name, t, a->aoff, a->size, &r);
        if (rc) {
            rc = api_error(s, rc, a->line, "create alias", a->name);
            break;
        }
        b->obj[x] = r;
        rc = push_created(b, r);
    }
    free(chain);
    return rc;
}

static int set_flags(ml_state *s, struct build *b, uint32_t p)
{
    const ml_node *n = &s->nodes[p];
    const ml_fact *f = &s->facts[p];
    mt_region *r = b->obj[p];
    int rc = 0;

    if (n->nv)
        rc = mt_region_set_nonvolatile(r, true);
    if (!rc && f->readonly)
        rc = mt_region_set_readonly(r, true);
    if (!rc && f->dirty_log)
        rc = mt_region_set_dirty_log(r, true);
    if (!rc && n->disabled)
        rc = mt_region_set_enabled(r, false);
    if (rc)
        return api_error(s, rc, n->line, "set the flags of", n->name);
    return 0;
}

/*
 * QEMU keeps subregions sorted by priority, the most recently added first
 * among equals, and prints them stably sorted by (address, -priority).
 * Adding in (address ascending, print order descending) reproduces the
 * list: for equal (address, priority) the first printed is added last and
 * wins; at different addresses the higher one is added later and wins.
 */
static int cmp_add_order(const ml_state *s, uint32_t a, uint32_t b)
{
    uint64_t xa = s->nodes[a].addr, xb = s->nodes[b].addr;

    if (xa != xb)
        return xa < xb ? -1 : 1;
    return a > b ? -1 : a < b;
}

static int map_children(ml_state *s, struct build *b, uint32_t p)
{
    const ml_node *n = &s->nodes[p];
    int rc;

    if (!n->nr_children)
        return 0;
    if (ml_grow((void **)&b->order, &b->cap_order, n->nr_children, sizeof(*b->order)))
        return MT_ENOMEM;
    memcpy(b->order, &s->kids[n->kids], n->nr_children * sizeof(*b->order));
    ml_sort(b->order, n->nr_children, cmp_add_order, s);
    for (uint32_t i = 0; i < n->nr_children; i++) {
        const ml_node *c = &s->nodes[b->order[i]];
        mt_region *cr = b->obj[c->cls];

        if (ml_grow((void **)&b->maps, &b->cap_maps, b->nr_maps + 1, sizeof(*b->maps)))
            return MT_ENOMEM;
        rc = mt_region_add_subregion_overlap(b->obj[p], c->addr, cr, c->prio);
        if (rc == MT_ELOOP)
            return ml_error(s, false, c->line, "cannot map '%.60s' into '%.60s': the core rejects the loop (the region reaches its container through aliases)",
                            c->name, n->name);
        if (rc == MT_EKIND)
            return ml_error(s, false, c->line, "'%.60s' is a %s region and cannot have subregions",
                            n->name, n->type == ML_T_RAMD ? "ramd" : "RAM");
        if (rc == MT_EBUSY)
            return ml_error(s, false, c->line, "region '%.60s' is printed in two different places", c->name);
        if (rc)
            return api_error(s, rc, c->line, "map", c->name);
        b->maps[b->nr_maps].parent = b->obj[p];
        b->maps[b->nr_maps].child = cr;
        b->nr_maps++;
    }
    return 0;
}

/* Can node @x (a class primary) have subregions? */
static bool can_host(const ml_state *s, uint32_t x)
{
    const ml_node *n = &s->nodes[x];

    return n->alias || n->synth || n->type == ML_T_IO || n->type == ML_T_ROMD;
}

/*
 * Where a placeholder for a hidden alias goes: under the line that queued
 * the previous block (walked right after it), else under the first line
 * after it that can have subregions, else under an ancestor, else anywhere.
 */
static uint32_t hidden_host(const ml_state *s, const struct ml_hidden *h)
{
    uint32_t start = h->after == ML_NONE ? 0 : h->after;

    for (uint32_t x = start; x < h->before && x < s->nr_nodes; x++)
        if (can_host(s, s->nodes[x].cls))
            return s->nodes[x].cls;
    for (uint32_t x = start; x != ML_NONE && x < s->nr_nodes; x = s->nodes[x].parent)
        if (can_host(s, s->nodes[x].cls))
            return s->nodes[x].cls;
    for (uint32_t x = 0; x < s->nr_nodes; x++)
        if (can_host(s, s->nodes[x].cls))
            return s->nodes[x].cls;
    return ML_NONE;
}

static int add_hidden_ref(ml_state *s, struct build *b, const struct ml_hidden *h)
{
    uint32_t host = hidden_host(s, h), t = s->nodes[mr_unit(s, h->mr)->root].cls;
    mt_region *r = NULL;
    int rc;

    if (host == ML_NONE)
        return 0; /* nothing can hold it: the block is just not printed */
    if (ml_grow((void **)&b->maps, &b->cap_maps, b->nr_maps + 1, sizeof(*b->maps)))
        return MT_ENOMEM;
    /* Size 1: a wider window could wrap and print QEMU's overflow marker. */
    rc = mt_region_new_alias(s->ctx, "(hidden)", b->obj[t], 0, 1, &r);
    if (!rc) {
        rc = push_created(b, r);
        if (rc)
            return rc;
        rc = mt_region_set_enabled(r, false);
    }
    if (!rc)
        rc = mt_region_add_subregion_overlap(b->obj[host], 0, r, INT_MAX);
    if (rc)
        return api_error(s, rc, s->nodes[host].line, "add a hidden alias to", s->nodes[t].name);
    b->maps[b->nr_maps].parent = b->obj[host];
    b->maps[b->nr_maps].child = r;
    b->nr_maps++;
    return 0;
}

static void undo_build(struct build *b)
{
    while (b->nr_as)
        mt_as_free(b->as[--b->nr_as]);
    while (b->nr_maps) {
        b->nr_maps--;
        mt_region_del_subregion(b->maps[b->nr_maps].parent, b->maps[b->nr_maps].child);
    }
    while (b->nr_created)
        mt_region_unref(b->created[--b->nr_created]);
    while (b->nr_backing)
        mt_region_unref(b->backing[--b->nr_backing]);
}

static int build(ml_state *s, struct build *b)
{
    int rc = 0;

    b->obj = calloc(s->nr_nodes ? s->nr_nodes : 1, sizeof(*b->obj));
    b->mapped = calloc(s->nr_nodes ? s->nr_nodes : 1, sizeof(*b->mapped));
    b->mark = calloc(s->nr_nodes ? s->nr_nodes : 1, sizeof(*b->mark));
    if (!b->obj || !b->mapped || !b->mark)
        return MT_ENOMEM;
    for (uint32_t i = 0; i < s->nr_nodes; i++)
        if (s->nodes[i].parent != ML_NONE)
            b->mapped[s->nodes[i].cls] = true;
    for (uint32_t i = 0; i < s->nr_nodes && !rc; i++)
        if (s->nodes[i].cls == i && !s->nodes[i].alias)
            rc = create_plain(s, b, i);
    for (uint32_t i = 0; i < s->nr_nodes && !rc; i++)
        if (s->nodes[i].cls == i && s->nodes[i].alias && !b->obj[i])
            rc = create_alias_chain(s, b, i);
    for (uint32_t i = 0; i < s->nr_nodes && !rc; i++) {
        if (s->nodes[i].cls != i)
            continue;
        rc = set_flags(s, b, i);
        /* A block root printed only as a root keeps its own address. */
        if (!rc && s->nodes[i].parent == ML_NONE && s->nodes[i].start) {
            if (!b->mapped[i]) {
                rc = mt_region_set_address(b->obj[i], s->nodes[i].start);
                if (rc)
                    rc = api_error(s, rc, s->nodes[i].line, "set the address of", s->nodes[i].name);
            }
        }
    }
    for (uint32_t i = 0; i < s->nr_nodes && !rc; i++)
        if (s->nodes[i].cls == i)
            rc = map_children(s, b, i);
    /* Reverse order: among equal (address, priority) the last added prints first. */
    for (size_t j = s->nr_hidden; j-- > 0 && !rc;)
        rc = add_hidden_ref(s, b, &s->hidden[j]);
    for (size_t u = 0; u < s->nr_as_units && !rc; u++) {
        const ml_unit *unit = &s->units[u];
        mt_region *root = b->obj[s->nodes[unit->root].cls];

        for (uint32_t k = 0; k < unit->nr_names && !rc; k++) {
            const ml_as_name *an = &s->as_names[unit->names + k];
            mt_as *as = NULL;

            if (ml_grow((void **)&b->as, &b->cap_as, b->nr_as + 1, sizeof(*b->as)))
                return MT_ENOMEM;
            rc = mt_as_new(s->ctx, root, an->name, &as);
            if (rc)
                rc = api_error(s, rc, an->line, "create address space", an->name);
            else
                b->as[b->nr_as++] = as;
        }
    }
    return rc;
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

static void free_build(struct build *b)
{
    free(b->obj);
    free(b->mapped);
    free(b->mark);
    free(b->created);
    free(b->backing);
    free(b->maps);
    free(b->as);
    free(b->order);
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
        rc = compute_structure(&s);
    if (!rc)
        rc = identify(&s);
    if (!rc)
        rc = resolve_alias_targets(&s);
    if (!rc)
        rc = load_facts(&s, facts, facts_len);
    if (!rc) {
        mt_begin(ctx);
        rc = build(&s, &b);
        if (!rc) {
            rc = mt_commit(ctx);
            if (rc)
                mt_begin(ctx); /* could not render: take everything out again */
        }
        if (rc) {
            undo_build(&b);
            mt_commit(ctx);
        } else {
            /* The trees, aliases and address spaces hold what they need. */
            while (b.nr_created)
                mt_region_unref(b.created[--b.nr_created]);
        }
    }
    if (rc == MT_ENOMEM && err && !err->msg[0])
        snprintf(err->msg, sizeof(err->msg), "out of memory");
    free_build(&b);
    free_state(&s);
    return rc;
}
