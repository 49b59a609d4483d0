/* SPDX-License-Identifier: MIT */
/*
 * mtree_load_identify.c: phase 3 of mt_mtree_load(), which printed lines
 * are the same object.
 *
 * Every printed line is its own object, except a block root printed again
 * as a node elsewhere (an address-space root mapped in another tree, a
 * memory-region block of a mapped region). This file gives every node its
 * children array and a structural hash of its subtree, then merges each
 * block root with a structurally equal subtree printed elsewhere, through
 * a union-find over nodes that undoes a failed merge. The first print of
 * each object becomes its class primary (ml_node.cls).
 */
#include <stdlib.h>
#include <string.h>

#include "mtree_load.h"

/* Bounds on heuristic work for pathological input (results stay valid). */
#define MATCH_TRIES_PER_ROOT 64
#define MATCH_SCAN_PER_ROOT 8192

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
    return mix(h, mt__ml_rev_hash(str, strlen(str)));
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

int mt__ml_compute_structure(ml_state *s)
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
int mt__ml_identify(ml_state *s)
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
    mt__ml_sort(byhash, nin, cmp_hash_idx, s);
    mt__ml_sort(byhash + nin, nall - nin, cmp_hash_idx, s);

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
