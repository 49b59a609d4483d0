/* SPDX-License-Identifier: MIT */
/*
 * region.c: creating, referencing and freeing regions, and reading their
 * attributes. Mapping and attribute changes live in region_map.c.
 */
#include <string.h>

#include "internal.h"

static int region_alloc(mt_ctx *ctx, const char *name, uint64_t size,
                        mt_region_kind kind, mt_region **out)
{
    mt_region *r;

    if (!ctx || !out)
        return MT_EINVAL;
    *out = NULL;
    r = mt__zalloc(ctx, sizeof(*r));
    if (!r)
        return MT_ENOMEM;
    if (name) {
        r->name = mt__strdup(ctx, name);
        if (!r->name) {
            mt__free(ctx, r);
            return MT_ENOMEM;
        }
    }
    r->ctx = ctx;
    r->kind = kind;
    r->refcount = 1;
    r->size = mt__size_from_api(size);
    r->enabled = true;
    r->romd_mode = true;
    r->terminates = kind != MT_REGION_CONTAINER && kind != MT_REGION_ALIAS;
    mt__lock(ctx);
    r->all_next = ctx->regions;
    if (ctx->regions)
        ctx->regions->all_prev = r;
    ctx->regions = r;
    ctx->nr_regions++;
    mt__unlock(ctx);
    *out = r;
    return 0;
}

/* Undo region_alloc() of a region nothing points at yet. */
static void region_discard(mt_region *r)
{
    MT_LOCKED(r->ctx);
    mt__region_destroy(r);
}

int mt_region_new_container(mt_ctx *ctx, const char *name, uint64_t size,
                            mt_region **out)
{
    return region_alloc(ctx, name, size, MT_REGION_CONTAINER, out);
}

static void set_ops(mt_region *r, const mt_ops *ops, void *opaque)
{
    if (ops) {
        r->ops = *ops;
        r->has_ops = true;
    }
    r->opaque = opaque;
}

int mt_region_new_io(mt_ctx *ctx, const char *name, uint64_t size,
                     const mt_ops *ops, void *opaque, mt_region **out)
{
    int rc = region_alloc(ctx, name, size, MT_REGION_IO, out);

    if (rc == 0)
        set_ops(*out, ops, opaque);
    return rc;
}

int mt__region_new_backed(mt_ctx *ctx, const char *name, uint64_t size,
                          mt_region_kind kind, const mt_ram_opts *o,
                          mt_region **out)
{
    int rc;

    if (!ctx || !out)
        return MT_EINVAL;
    *out = NULL;
    MT_LOCKED(ctx);
    if (size == MT_SIZE_FULL)
        return MT_EINVAL;
    rc = region_alloc(ctx, name, size, kind, out);
    if (rc)
        return rc;
    rc = mt__ram_block_new(*out, size, o);
    if (rc) {
        region_discard(*out);
        *out = NULL;
        return rc;
    }
    (*out)->readonly = o->readonly;
    return 0;
}

static const mt_ram_opts anon_opts = { .backend = MT_RAM_ANON };

int mt_region_new_ram(mt_ctx *ctx, const char *name, uint64_t size,
                      mt_region **out)
{
    return mt__region_new_backed(ctx, name, size, MT_REGION_RAM, &anon_opts,
                                 out);
}

int mt_region_new_rom(mt_ctx *ctx, const char *name, uint64_t size,
                      mt_region **out)
{
    mt_ram_opts o = { .backend = MT_RAM_ANON, .readonly = true };

    return mt__region_new_backed(ctx, name, size, MT_REGION_RAM, &o, out);
}

int mt_region_new_rom_device(mt_ctx *ctx, const char *name, uint64_t size,
                             const mt_ops *ops, void *opaque, mt_region **out)
{
    int rc = mt__region_new_backed(ctx, name, size, MT_REGION_ROM_DEVICE,
                                   &anon_opts, out);

    if (rc == 0)
        set_ops(*out, ops, opaque);
    return rc;
}

static int new_over_ptr(mt_ctx *ctx, const char *name, uint64_t size,
                        void *host, mt_region_kind kind, mt_region **out)
{
    mt_ram_opts o = { .backend = MT_RAM_PTR, .host = host };

    if (!host && size)
        return MT_EINVAL;
    return mt__region_new_backed(ctx, name, size, kind, &o, out);
}

int mt_region_new_ram_ptr(mt_ctx *ctx, const char *name, uint64_t size,
                          void *host, mt_region **out)
{
    return new_over_ptr(ctx, name, size, host, MT_REGION_RAM, out);
}

int mt_region_new_ram_device(mt_ctx *ctx, const char *name, uint64_t size,
                             void *host, mt_region **out)
{
    return new_over_ptr(ctx, name, size, host, MT_REGION_RAM_DEVICE, out);
}

int mt_region_new_alias(mt_ctx *ctx, const char *name, mt_region *target,
                        uint64_t offset, uint64_t size, mt_region **out)
{
    int rc;

    if (!ctx || !out)
        return MT_EINVAL;
    *out = NULL;
    if (!target || target->ctx != ctx)
        return MT_EINVAL;
    if (mt__alias_window_overflows(offset, mt__size_from_api(size)))
        return MT_ERANGE;
    MT_LOCKED(ctx);
    if (mt__grow(ctx, (void **)&target->aliased_by, &target->cap_aliased_by,
                 target->nr_aliased_by + 1, sizeof(*target->aliased_by)))
        return MT_ENOMEM;
    rc = region_alloc(ctx, name, size, MT_REGION_ALIAS, out);
    if (rc)
        return rc;
    (*out)->alias = mt_region_ref(target);
    (*out)->alias_offset = offset;
    (*out)->alias_slot = target->nr_aliased_by;
    target->aliased_by[target->nr_aliased_by++] = *out;
    return 0;
}

mt_region *mt_region_ref(mt_region *r)
{
    if (r)
        atomic_fetch_add_explicit(&r->refcount, 1, memory_order_relaxed);
    return r;
}

/*
 * Free @r and drop the references it holds. Nothing can reach a region
 * whose count fell to zero (no container, alias, view or address space
 * holds it), so no address space changes and no render is needed.
 */
static void region_release(mt_region *r)
{
    mt_region *target = r->alias;

    while (r->nr_slots) {
        mt_region *sub = r->subs[--r->nr_slots].r;

        if (sub) {
            sub->container = NULL;
            mt_region_unref(sub);
        }
    }
    r->nr_subs = r->nr_enabled_subs = 0;
    if (target) {
        /* Swap-remove from the target's list of aliases. */
        mt_region *last = target->aliased_by[--target->nr_aliased_by];

        target->aliased_by[r->alias_slot] = last;
        last->alias_slot = r->alias_slot;
    }
    r->alias = NULL;
    mt__region_destroy(r);
    mt_region_unref(target);
}

void mt_region_unref(mt_region *r)
{
    unsigned n;

    if (!r)
        return;
    /* Never below zero: an unref too many is ignored, not a double free. */
    n = atomic_load_explicit(&r->refcount, memory_order_relaxed);
    do {
        if (n == 0)
            return;
    } while (!atomic_compare_exchange_weak_explicit(&r->refcount, &n, n - 1,
                                                    memory_order_acq_rel,
                                                    memory_order_relaxed));
    if (n == 1) {
        /* Readers reach regions only through views, which hold
         * references: none can see this one. Writers may. */
        MT_LOCKED(r->ctx);
        region_release(r);
    }
}

void mt__region_destroy(mt_region *r)
{
    mt_ctx *ctx = r->ctx;
    size_t i;

    /* Only mt_ctx_free destroys regions that are still linked; it unlinks
     * containment first, so nothing is left here but a safety net. */
    for (i = 0; i < r->nr_slots; i++)
        if (r->subs[i].r)
            r->subs[i].r->container = NULL;
    if (r->container)
        mt__subs_unlink(r->container, r);
    if (r->all_prev)
        r->all_prev->all_next = r->all_next;
    else
        ctx->regions = r->all_next;
    if (r->all_next)
        r->all_next->all_prev = r->all_prev;
    ctx->nr_regions--;
    mt__ram_block_free(r);
    mt__region_free_eventfds(r);
    mt__subs_free(r);
    mt__free(ctx, r->aliased_by);
    mt__free(ctx, r->name);
    mt__free(ctx, r);
}

/* ---- inspection ---------------------------------------------------------- */

mt_ctx *mt_region_ctx(const mt_region *r)
{
    return r ? r->ctx : NULL;
}

const char *mt_region_name(const mt_region *r)
{
    return r ? r->name : NULL;
}

mt_region_kind mt_region_kind_of(const mt_region *r)
{
    return r ? r->kind : MT_REGION_CONTAINER;
}

uint64_t mt_region_size(const mt_region *r)
{
    if (!r)
        return 0;
    MT_LOCKED(r->ctx);
    return mt__size_to_api(r->size);
}

uint64_t mt_region_addr(const mt_region *r)
{
    if (!r)
        return 0;
    MT_LOCKED(r->ctx);
    return r->addr;
}

int mt_region_priority(const mt_region *r)
{
    if (!r)
        return 0;
    MT_LOCKED(r->ctx);
    return r->priority;
}

bool mt_region_enabled(const mt_region *r)
{
    if (!r)
        return false;
    MT_LOCKED(r->ctx);
    return r->enabled;
}

bool mt_region_readonly(const mt_region *r)
{
    if (!r)
        return false;
    MT_LOCKED(r->ctx);
    return r->readonly;
}

bool mt_region_nonvolatile(const mt_region *r)
{
    if (!r)
        return false;
    MT_LOCKED(r->ctx);
    return r->nonvolatile;
}

bool mt_region_romd(const mt_region *r)
{
    if (!r)
        return false;
    MT_LOCKED(r->ctx);
    return r->romd_mode;
}

bool mt_region_dirty_log(const mt_region *r)
{
    if (!r)
        return false;
    MT_LOCKED(r->ctx);
    return r->dirty_log_count > 0;
}

bool mt_region_terminates(const mt_region *r)
{
    return r && r->terminates;
}

mt_region *mt_region_container(const mt_region *r)
{
    if (!r)
        return NULL;
    MT_LOCKED(r->ctx);
    return r->container;
}

mt_region *mt_region_alias_target(const mt_region *r)
{
    return r ? r->alias : NULL;
}

uint64_t mt_region_alias_offset(const mt_region *r)
{
    if (!r)
        return 0;
    MT_LOCKED(r->ctx);
    return r->alias_offset;
}

void *mt_region_ram_ptr(const mt_region *r)
{
    return r ? r->host : NULL;
}

size_t mt_region_nr_subregions(const mt_region *r)
{
    if (!r)
        return 0;
    MT_LOCKED(r->ctx);
    return r->nr_subs;
}

mt_region *mt_region_subregion(const mt_region *r, size_t i)
{
    if (!r)
        return NULL;
    MT_LOCKED(r->ctx);
    if (i >= r->nr_subs)
        return NULL;
    return mt__sub_at(r, i);
}
