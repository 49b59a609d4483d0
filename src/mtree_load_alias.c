/* SPDX-License-Identifier: MIT */
/*
 * mtree_load_alias.c: phase 4 of mt_mtree_load(), the memory-region block
 * each alias points to.
 *
 * Replays QEMU's memory-region print queue: in print order every alias
 * names a queued memory-region block of its target name and printed type,
 * or the next block to queue. The next block is taken unless only a queued
 * one has a subregion inside the alias window (in strict dumps, then too
 * when the rest of the replay could not finish otherwise). In plain dumps,
 * blocks queued by aliases the dump hides are recorded (ml_state.hidden)
 * for the builder.
 */
#include "mtree_load.h"

/* Bounds on heuristic work for pathological input (results stay valid). */
#define QUEUED_CANDIDATES 256
#define FEASIBILITY_BUDGET 4000000u

static uint32_t nr_mr(const ml_state *s)
{
    return (uint32_t)(s->nr_units - s->nr_as_units);
}

const ml_unit *mt__ml_mr_unit(const ml_state *s, uint32_t k)
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
    uint32_t nx = mt__ml_mr_unit(s, k)->next_same;

    return nx == ML_NONE ? ML_NONE : nx - (uint32_t)s->nr_as_units;
}

/* Can block @k be the target of alias @a (the alias prints its target's type)? */
static bool type_ok(const ml_state *s, uint32_t k, const ml_node *a)
{
    const ml_node *r = &s->nodes[mt__ml_mr_unit(s, k)->root];

    return r->synth || r->type == a->type;
}

/* Does block @k's root have a subregion inside the window of alias @a? */
static bool window_has_child(const ml_state *s, uint32_t k, const ml_node *a)
{
    const ml_node *r = &s->nodes[mt__ml_mr_unit(s, k)->root];
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
        if (q < nr_mr(s) && mt__ml_mr_unit(s, q)->nid == n->target_nid && type_ok(s, q, n)) {
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

int mt__ml_resolve_alias_targets(ml_state *s)
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
        can_new = q < total && mt__ml_mr_unit(s, q)->nid == a->target_nid && type_ok(s, q, a);
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
