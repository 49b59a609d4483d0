/* SPDX-License-Identifier: MIT */
/*
 * mtree_load_build.c: phase 6 of mt_mtree_load(), creating the regions and
 * address spaces through the public API.
 *
 * Creates every object (alias chains after their targets), sets flags,
 * maps children so that QEMU's subregion list order comes back, adds a
 * disabled placeholder alias for each block queued by a hidden alias, and
 * creates the address spaces. struct build records all of it, so that
 * mt__ml_undo_build() can take everything out again when the driver's
 * transaction fails.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtree_load.h"

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
    if (rc == MT_ENOMEM && mt__ml_ram_backed(n->type)) {
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
        t = s->nodes[mt__ml_mr_unit(s, a->target_mr)->root].cls;
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
        mt_region *t = b->obj[s->nodes[mt__ml_mr_unit(s, a->target_mr)->root].cls];
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
    mt__ml_sort(b->order, n->nr_children, cmp_add_order, s);
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
    uint32_t host = hidden_host(s, h), t = s->nodes[mt__ml_mr_unit(s, h->mr)->root].cls;
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

void mt__ml_undo_build(struct build *b)
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

int mt__ml_build(ml_state *s, struct build *b)
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

void mt__ml_free_build(struct build *b)
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
