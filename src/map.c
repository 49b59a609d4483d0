/* SPDX-License-Identifier: MIT */
/*
 * map.c: mapping guest memory for DMA (QEMU's address_space_map/unmap).
 * RAM is mapped directly, extended while the same region continues with
 * contiguous offsets; anything else goes through a bounce buffer drawn
 * from a per-address-space byte budget. Each open mapping is recorded so
 * that unmap can validate it and release the region reference.
 */
#include <string.h>

#include "internal.h"

static int record(mt_as *as, const mt_mapping *m)
{
    int rc = mt__grow(as->ctx, (void **)&as->maps, &as->cap_maps,
                      as->nr_maps + 1, sizeof(*as->maps));

    if (rc)
        return rc;
    as->maps[as->nr_maps++] = *m;
    return 0;
}

/* Length mapped directly from the range at @addr, following the same
 * region across ranges with contiguous offsets. */
static uint64_t direct_extent(mt_flatview *fv, const mt_flat_range *fr,
                              uint64_t addr, uint64_t len, bool is_write)
{
    uint64_t done = 0;

    for (;;) {
        uint64_t avail_m1 = fr->last - addr;
        uint64_t want = len - done;
        uint64_t off = fr->offset + (addr - fr->start);
        const mt_flat_range *next;

        if (want - 1 <= avail_m1)
            return len;
        done += avail_m1 + 1;
        if (fr->last == UINT64_MAX)
            return done;
        addr = fr->last + 1;
        next = mt__lookup(fv, addr);
        if (!next || next->region != fr->region ||
            next->offset != off + avail_m1 + 1 ||
            !(is_write ? mt__direct_write(next->region)
                       : mt__direct_read(next->region)))
            return done;
        fr = next;
    }
}

static void *map_bounce(mt_as *as, mt_region *mr, uint64_t addr,
                        uint64_t *len, bool is_write, mt_attrs attrs)
{
    mt_mapping m = { NULL, *len, addr, mr, true, attrs };

    if (as->bounce_used >= as->bounce_budget)
        goto fail;
    if (m.len > as->bounce_budget - as->bounce_used)
        m.len = as->bounce_budget - as->bounce_used;
    m.buf = mt__alloc(as->ctx, m.len);
    if (!m.buf)
        goto fail;
    if (!is_write)
        mt_as_read(as, addr, attrs, m.buf, m.len);
    if (record(as, &m)) {
        mt__free(as->ctx, m.buf);
        goto fail;
    }
    mt_region_ref(mr);
    as->bounce_used += m.len;
    *len = m.len;
    return m.buf;
fail:
    *len = 0;
    return NULL;
}

void *mt_as_map(mt_as *as, uint64_t addr, uint64_t *len, bool is_write,
                mt_attrs attrs)
{
    const mt_flat_range *fr;
    mt_mapping m;

    if (!as || !len)
        return NULL;
    if (*len == 0)
        return NULL;
    fr = mt__lookup(as->view, addr);
    if (fr && attrs.memory && !mt__is_ram(fr->region)) {
        *len = 0;
        return NULL;
    }
    if (!fr || !(is_write ? mt__direct_write(fr->region)
                          : mt__direct_read(fr->region)))
        return map_bounce(as, fr ? fr->region : NULL, addr, len, is_write,
                          attrs);
    m.len = direct_extent(as->view, fr, addr, *len, is_write);
    m.buf = (uint8_t *)fr->region->host + fr->offset + (addr - fr->start);
    m.addr = addr;
    m.region = fr->region;
    m.bounce = false;
    m.attrs = attrs;
    if (record(as, &m)) {
        *len = 0;
        return NULL;
    }
    mt_region_ref(m.region);
    *len = m.len;
    return m.buf;
}

static void release(mt_as *as, size_t i)
{
    mt_mapping m = as->maps[i];

    as->maps[i] = as->maps[--as->nr_maps];
    if (m.bounce) {
        as->bounce_used -= m.len;
        mt__free(as->ctx, m.buf);
    }
    mt_region_unref(m.region);
}

int mt_as_unmap(mt_as *as, void *buf, uint64_t len, bool is_write,
                uint64_t access_len)
{
    size_t i;

    if (!as || !buf)
        return MT_EINVAL;
    for (i = as->nr_maps; i-- > 0;) {
        mt_mapping *m = &as->maps[i];

        if (m->buf != buf || m->len != len)
            continue;
        if (access_len > m->len)
            access_len = m->len;
        if (m->bounce && is_write) {
            mt_as_write(as, m->addr, m->attrs, m->buf, access_len);
        } else if (is_write && m->region && m->region->host) {
            /* The device wrote straight into RAM: tell the loggers. */
            uint64_t off = (uint64_t)((uint8_t *)m->buf -
                                      (uint8_t *)m->region->host);

            mt__dirty_mark(m->region, off, access_len,
                           mt__dirty_mask(m->region));
        }
        release(as, i);
        return 0;
    }
    return MT_EINVAL;
}

int mt_as_set_bounce_budget(mt_as *as, uint64_t bytes)
{
    if (!as)
        return MT_EINVAL;
    as->bounce_budget = bytes;
    return 0;
}

void mt__as_drop_mappings(mt_as *as)
{
    while (as->nr_maps)
        release(as, as->nr_maps - 1);
    mt__free(as->ctx, as->maps);
    as->maps = NULL;
    as->cap_maps = 0;
}
