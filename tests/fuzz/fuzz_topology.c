/* SPDX-License-Identifier: MIT */
/*
 * fuzz_topology.c: differential fuzz target for incremental commits.
 *
 * The input is decoded as a sequence of API operations on a small world of
 * regions (containers, I/O regions, RAM over caller memory, ROM devices,
 * aliases, two address spaces, nested transactions). After every outermost
 * commit three oracles must agree:
 *  1. each address space's published view equals a from-scratch render of
 *     its root (the incremental path against the plain one);
 *  2. the listener events delivered so far, applied to a shadow copy of the
 *     previous view, give exactly the new view (dirty masks included);
 *  3. lookups (mt_as_translate) agree with the view at every range edge and
 *     at probe addresses taken from the input.
 * A violation aborts (libFuzzer then saves the input). Built as a libFuzzer
 * target with -DMEMTREE_FUZZ=ON and clang; otherwise fuzz_driver.c replays
 * a corpus and random inputs (make check).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAX_REGIONS 48
#define NR_AS 2

typedef struct shadow {
    mt_flat_range *r;
    size_t n, cap;
    int bad;
} shadow;

typedef struct world {
    const uint8_t *in;
    size_t len, pos;
    mt_ctx *ctx;
    mt_region *root[NR_AS];
    mt_as *as[NR_AS];
    shadow sh[NR_AS];
    mt_listener *l[NR_AS];
    mt_region *r[MAX_REGIONS];
    size_t n;
    unsigned depth;
    uint8_t mem[0x4000];
} world;

static void fail(const char *what, size_t as)
{
    fprintf(stderr, "fuzz_topology: oracle failed: %s (address space %zu)\n",
            what, as);
    abort();
}

static uint8_t byte(world *w)
{
    return w->pos < w->len ? w->in[w->pos++] : 0;
}

static uint64_t pick_addr(world *w)
{
    uint8_t b = byte(w);

    switch (b >> 6) {
    case 0: return (uint64_t)(b & 0x3f) * 0x100;
    case 1: return (uint64_t)byte(w) * 0x10 + (b & 0xf);
    case 2: return UINT64_MAX - (uint64_t)(b & 0x3f) * 0x100 - 0xff;
    default: return (uint64_t)byte(w) << 8 | byte(w);
    }
}

static uint64_t pick_size(world *w)
{
    uint8_t b = byte(w);

    switch (b >> 6) {
    case 0: return (uint64_t)(b & 0x3f) * 0x100 + 0x100;
    case 1: return (uint64_t)(b & 0x3f) + 1;
    case 2: return b & 1 ? MT_SIZE_FULL : 0x10000;
    default: return (uint64_t)byte(w) * 0x40 + 0x40;
    }
}

/* ---- shadow views maintained from listener events ---------------------- */

static bool same(const mt_flat_range *a, const mt_flat_range *b)
{
    return a->start == b->start && a->last == b->last &&
           a->region == b->region && a->offset == b->offset &&
           a->readonly == b->readonly && a->nonvolatile == b->nonvolatile &&
           a->romd == b->romd;
}

static void sh_add(void *opaque, const mt_flat_range *fr)
{
    shadow *s = opaque;
    size_t i = 0;

    while (i < s->n && s->r[i].start < fr->start)
        i++;
    if ((i < s->n && s->r[i].start <= fr->last) ||
        (i > 0 && s->r[i - 1].last >= fr->start)) {
        s->bad = 1; /* added over something never removed */
        return;
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 16;
        s->r = realloc(s->r, s->cap * sizeof(*s->r));
        if (!s->r)
            abort();
    }
    memmove(&s->r[i + 1], &s->r[i], (s->n - i) * sizeof(*s->r));
    s->r[i] = *fr;
    s->n++;
}

static mt_flat_range *sh_find(shadow *s, const mt_flat_range *fr)
{
    for (size_t i = 0; i < s->n; i++)
        if (same(&s->r[i], fr))
            return &s->r[i];
    return NULL;
}

static void sh_del(void *opaque, const mt_flat_range *fr)
{
    shadow *s = opaque;
    mt_flat_range *x = sh_find(s, fr);

    if (!x) {
        s->bad = 2; /* removed something never added */
        return;
    }
    memmove(x, x + 1, (size_t)(s->r + s->n - x - 1) * sizeof(*x));
    s->n--;
}

static void sh_log(void *opaque, const mt_flat_range *fr, unsigned om,
                   unsigned nm)
{
    shadow *s = opaque;
    mt_flat_range *x = sh_find(s, fr);

    (void)om; /* replay on registration starts from 0 after region_add */
    if (!x)
        s->bad = 3;
    else
        x->dirty_log_mask = (uint8_t)nm;
}

static void sh_log_stop(void *opaque, const mt_flat_range *fr, unsigned om,
                        unsigned nm)
{
    sh_log(opaque, fr, om, nm);
}

static const mt_listener_ops shadow_ops = {
    .region_add = sh_add,
    .region_del = sh_del,
    .log_start = sh_log,
    .log_stop = sh_log_stop,
};

/* ---- oracles ------------------------------------------------------------- */

static bool range_eq_full(const mt_flat_range *a, const mt_flat_range *b)
{
    return same(a, b) && a->dirty_log_mask == b->dirty_log_mask;
}

static void check(world *w)
{
    for (size_t a = 0; a < NR_AS; a++) {
        mt_flatview *fv = mt_as_flatview(w->as[a]);
        size_t n = mt_flatview_nr_ranges(fv), nf = 0;
        mt_region *phys = mt__physical_root(w->root[a]);
        mt_flat_range *full = NULL;

        /* 1: incremental == from scratch */
        if (phys) {
            if (mt__render_ranges(w->ctx, phys, 0, MT_2_64, &full, &nf))
                abort();
        }
        if (nf != n)
            fail("view size differs from a full render", a);
        for (size_t i = 0; i < n; i++)
            if (!range_eq_full(mt_flatview_range(fv, i), &full[i]))
                fail("view differs from a full render", a);
        mt__free(w->ctx, full);
        /* 2: events replayed == view */
        if (w->sh[a].bad)
            fail("inconsistent listener event", a);
        if (w->sh[a].n != n)
            fail("events do not add up to the view (count)", a);
        for (size_t i = 0; i < n; i++)
            if (!range_eq_full(&w->sh[a].r[i], mt_flatview_range(fv, i)))
                fail("events do not add up to the view", a);
        /* 3: lookups agree with the view */
        for (size_t i = 0; i < n; i++) {
            const mt_flat_range *fr = mt_flatview_range(fv, i);
            uint64_t probes[3] = { fr->start, fr->last,
                                   fr->start + (fr->last - fr->start) / 2 };

            for (int p = 0; p < 3; p++) {
                mt_region *r;
                uint64_t off, len = 1;

                mt_as_translate(w->as[a], probes[p], MT_ATTRS_UNSPECIFIED, &r,
                                &off, &len);
                if (r != fr->region || off != fr->offset +
                                                   (probes[p] - fr->start))
                    fail("lookup disagrees with the view", a);
            }
        }
        mt_flatview_unref(fv);
    }
}

/* ---- operations ---------------------------------------------------------- */

static mt_region *pick(world *w)
{
    return w->n ? w->r[byte(w) % w->n] : w->root[0];
}

static void create(world *w)
{
    mt_region *r = NULL;
    uint64_t size = pick_size(w);
    uint8_t k = byte(w) % 6;

    if (w->n == MAX_REGIONS)
        return;
    switch (k) {
    case 0: mt_region_new_container(w->ctx, "c", size, &r); break;
    case 1: mt_region_new_io(w->ctx, "io", size, NULL, NULL, &r); break;
    case 2:
        mt_region_new_ram_ptr(w->ctx, "ram", byte(w) % 64 * 0x100 + 0x100,
                              w->mem, &r);
        break;
    case 3: mt_region_new_rom_device(w->ctx, "romd", 0x1000, NULL, NULL, &r);
        break;
    default: {
        mt_region *t = pick(w);
        uint64_t off = pick_addr(w) & 0xffff;

        if (mt_region_new_alias(w->ctx, "alias", t, off, size, &r))
            r = NULL;
        break;
    }
    }
    if (r)
        w->r[w->n++] = r;
}

static void op(world *w)
{
    mt_region *r = pick(w), *p = pick(w);
    uint8_t code = byte(w) % 16;

    switch (code) {
    case 0: case 1: create(w); break;
    case 2: case 3:
        mt_region_add_subregion_overlap(byte(w) & 1 ? w->root[0] : p,
                                        pick_addr(w), r,
                                        (int8_t)byte(w) % 4);
        break;
    case 4:
        if (mt_region_container(r))
            mt_region_del_subregion(mt_region_container(r), r);
        break;
    case 5: mt_region_set_enabled(r, !mt_region_enabled(r)); break;
    case 6: mt_region_set_address(r, pick_addr(w)); break;
    case 7: mt_region_set_size(r, pick_size(w)); break;
    case 8: mt_region_set_alias_offset(r, pick_addr(w) & 0xffff); break;
    case 9: mt_region_set_readonly(r, !mt_region_readonly(r)); break;
    case 10: mt_region_set_nonvolatile(r, !mt_region_nonvolatile(r)); break;
    case 11: mt_region_set_romd(r, !mt_region_romd(r)); break;
    case 12: mt_region_set_dirty_log(r, !mt_region_dirty_log(r)); break;
    case 13:
        if (w->depth < 3) {
            mt_begin(w->ctx);
            w->depth++;
        }
        break;
    case 14:
        if (w->depth) {
            if (mt_commit(w->ctx))
                abort();
            if (--w->depth == 0)
                check(w);
        }
        break;
    default:
        if (byte(w) & 1)
            mt_ctx_dirty_log_start(w->ctx);
        else
            mt_ctx_dirty_log_stop(w->ctx);
        break;
    }
    if (w->depth == 0)
        check(w);
}

int mt_fuzz_topology_one(const uint8_t *data, size_t size);

int mt_fuzz_topology_one(const uint8_t *data, size_t size)
{
    world *w = calloc(1, sizeof(*w));
    mt_region *a1;

    if (!w)
        return 0;
    w->in = data;
    w->len = size;
    if (mt_ctx_new(&w->ctx, NULL))
        abort();
    mt_region_new_container(w->ctx, "root", MT_SIZE_FULL, &w->root[0]);
    /* The second address space looks through an alias at part of the first. */
    mt_region_new_alias(w->ctx, "window", w->root[0], 0x1000, 0x8000, &a1);
    mt_region_new_container(w->ctx, "root2", MT_SIZE_FULL, &w->root[1]);
    mt_region_add_subregion(w->root[1], 0x100, a1);
    mt_region_unref(a1);
    for (size_t a = 0; a < NR_AS; a++) {
        mt_as_new(w->ctx, w->root[a], a ? "second" : "first", &w->as[a]);
        mt_listener_register(w->as[a], &shadow_ops, &w->sh[a], &w->l[a]);
    }
    while (w->pos < w->len)
        op(w);
    while (w->depth) {
        mt_commit(w->ctx);
        w->depth--;
    }
    check(w);
    mt_ctx_free(w->ctx);
    for (size_t a = 0; a < NR_AS; a++)
        free(w->sh[a].r);
    free(w);
    return 0;
}

#ifdef MT_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return mt_fuzz_topology_one(data, size);
}
#endif
