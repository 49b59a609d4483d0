/* SPDX-License-Identifier: MIT */
/*
 * map.c: mapping guest memory for DMA (QEMU's address_space_map/unmap).
 * RAM is mapped directly, extended while the same region continues with
 * contiguous offsets; anything else goes through a bounce buffer drawn
 * from a per-address-space byte budget. Each open mapping is recorded so
 * that unmap can validate it and release the region reference. A range
 * can also be mapped whole, as a list of segments (mt_as_map_iov).
 */
#include <limits.h>
#include <string.h>

#include "internal.h"

/* Add @m to the table (as->map_lock held). */
static int record(mt_as *as, const mt_mapping *m)
{
    int rc = mt__grow(as->ctx, (void **)&as->maps, &as->cap_maps,
                      as->nr_maps + 1, sizeof(*as->maps));

    if (rc)
        return rc;
    as->maps[as->nr_maps++] = *m;
    return 0;
}

static bool direct_bit(const mt_flat_range *fr, bool is_write)
{
    return fr->mt__access & (is_write ? MT__ACCESS_WRITE : MT__ACCESS_READ);
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
            next->offset != off + avail_m1 + 1 || !direct_bit(next, is_write))
            return done;
        fr = next;
    }
}

/* A bounce buffer for [addr, addr + *len): the budget is taken under the
 * table's lock, the device read (callbacks) runs without it. Takes over
 * the caller's reference on @mr (recorded, or dropped on failure). */
static void *map_bounce(mt_as *as, mt_region *mr, uint64_t addr,
                        uint64_t *len, bool is_write, mt_attrs attrs)
{
    mt_mapping m = { NULL, *len, addr, mr, true, attrs };
    int rc;

    pthread_mutex_lock(&as->map_lock);
    if (as->bounce_used >= as->bounce_budget) {
        pthread_mutex_unlock(&as->map_lock);
        goto fail;
    }
    if (m.len > as->bounce_budget - as->bounce_used)
        m.len = as->bounce_budget - as->bounce_used;
    as->bounce_used += m.len;
    pthread_mutex_unlock(&as->map_lock);

    m.buf = mt__alloc(as->ctx, m.len);
    if (m.buf && !is_write)
        mt_as_read(as, addr, attrs, m.buf, m.len);
    pthread_mutex_lock(&as->map_lock);
    rc = m.buf ? record(as, &m) : MT_ENOMEM;
    if (rc)
        as->bounce_used -= m.len;
    pthread_mutex_unlock(&as->map_lock);
    if (rc) {
        mt__free(as->ctx, m.buf);
        goto fail;
    }
    *len = m.len;
    return m.buf;
fail:
    mt_region_unref(mr);
    *len = 0;
    return NULL;
}

/*
 * mt_as_map with a reason for failures: MT_EKIND (attrs.memory and no
 * RAM), MT_ENOMEM (no bounce budget left, or no memory). *@len > 0.
 */
static int map_one(mt_as *as, uint64_t addr, uint64_t *len, bool is_write,
                   mt_attrs attrs, void **out)
{
    const mt_flat_range *fr;
    mt_flatview *fv;
    mt_region *bounce_mr;
    mt_mapping m;
    int rc;

    *out = NULL;
    mt__read_lock(as->ctx);
    fv = mt__as_view(as);
    fr = mt__lookup(fv, addr);
    if (fr && attrs.memory && !mt__is_ram(fr->region)) {
        mt__read_unlock(as->ctx);
        *len = 0;
        return MT_EKIND;
    }
    if (!fr || !direct_bit(fr, is_write)) {
        /* The region is kept alive by a reference taken inside the
         * read-side section, handed to the mapping. */
        bounce_mr = mt_region_ref(fr ? fr->region : NULL);
        mt__read_unlock(as->ctx);
        *out = map_bounce(as, bounce_mr, addr, len, is_write, attrs);
        return *out ? 0 : MT_ENOMEM;
    }
    m.len = direct_extent(fv, fr, addr, *len, is_write);
    m.buf = (uint8_t *)fr->host + (addr - fr->start);
    m.addr = addr;
    m.region = mt_region_ref(fr->region);
    m.bounce = false;
    m.attrs = attrs;
    mt__read_unlock(as->ctx);
    pthread_mutex_lock(&as->map_lock);
    rc = record(as, &m);
    pthread_mutex_unlock(&as->map_lock);
    if (rc) {
        mt_region_unref(m.region);
        *len = 0;
        return rc;
    }
    *len = m.len;
    *out = m.buf;
    return 0;
}

void *mt_as_map(mt_as *as, uint64_t addr, uint64_t *len, bool is_write,
                mt_attrs attrs)
{
    void *buf;

    if (!as || !len)
        return NULL;
    if (*len == 0)
        return NULL;
    (void)map_one(as, addr, len, is_write, attrs, &buf);
    return buf;
}

int mt_as_map_iov(mt_as *as, uint64_t addr, uint64_t len, bool is_write,
                  mt_attrs attrs, struct iovec *iov, size_t max)
{
    uint64_t done = 0;
    size_t n = 0;
    int rc = 0;

    if (!as || (!iov && max))
        return MT_EINVAL;
    if (len && len - 1 > UINT64_MAX - addr)
        return MT_ERANGE;
    if (len > SIZE_MAX)
        return MT_ERANGE; /* segments are size_t */
    if (max > INT_MAX)
        max = INT_MAX; /* the count is returned as an int */
    while (done < len) {
        uint64_t piece = len - done;
        void *buf;

        if (n == max) {
            rc = MT_ERANGE;
            break;
        }
        rc = map_one(as, addr + done, &piece, is_write, attrs, &buf);
        if (rc)
            break;
        iov[n].iov_base = buf;
        iov[n++].iov_len = (size_t)piece;
        done += piece;
    }
    if (rc) {
        /* Nothing stays mapped, nothing is written back. */
        (void)mt_as_unmap_iov(as, iov, n, false, 0);
        return rc;
    }
    return (int)n;
}

int mt_as_unmap_iov(mt_as *as, const struct iovec *iov, size_t n,
                    bool is_write, uint64_t access_len)
{
    int rc = 0;

    if (!as || (!iov && n))
        return MT_EINVAL;
    for (size_t i = 0; i < n; i++) {
        uint64_t seg = iov[i].iov_len;
        uint64_t acc = access_len < seg ? access_len : seg;
        int r = mt_as_unmap(as, iov[i].iov_base, seg, is_write, acc);

        access_len -= acc;
        if (r && !rc)
            rc = r; /* the others are still unmapped */
    }
    return rc;
}

/* Take entry @i out of the table (as->map_lock held). */
static mt_mapping take(mt_as *as, size_t i)
{
    mt_mapping m = as->maps[i];

    as->maps[i] = as->maps[--as->nr_maps];
    return m;
}

/* Free what @m holds (no lock held: the region's last reference may go). */
static void release(mt_as *as, mt_mapping *m)
{
    if (m->bounce) {
        mt__free(as->ctx, m->buf);
        pthread_mutex_lock(&as->map_lock);
        as->bounce_used -= m->len;
        pthread_mutex_unlock(&as->map_lock);
    }
    mt_region_unref(m->region);
}

int mt_as_unmap(mt_as *as, void *buf, uint64_t len, bool is_write,
                uint64_t access_len)
{
    mt_mapping m;
    bool found = false;
    size_t i;

    if (!as || !buf)
        return MT_EINVAL;
    pthread_mutex_lock(&as->map_lock);
    for (i = as->nr_maps; i-- > 0;) {
        if (as->maps[i].buf == buf && as->maps[i].len == len) {
            m = take(as, i);
            found = true;
            break;
        }
    }
    pthread_mutex_unlock(&as->map_lock);
    if (!found)
        return MT_EINVAL;
    if (access_len > m.len)
        access_len = m.len;
    if (m.bounce && is_write) {
        mt_as_write(as, m.addr, m.attrs, m.buf, access_len);
    } else if (is_write && m.region && m.region->host) {
        /* The device wrote straight into RAM: tell the loggers. */
        uint64_t off = (uint64_t)((uint8_t *)m.buf -
                                  (uint8_t *)m.region->host);

        mt__dirty_mark(m.region, off, access_len, mt__dirty_mask(m.region));
    }
    release(as, &m);
    return 0;
}

int mt_as_set_bounce_budget(mt_as *as, uint64_t bytes)
{
    if (!as)
        return MT_EINVAL;
    pthread_mutex_lock(&as->map_lock);
    as->bounce_budget = bytes;
    pthread_mutex_unlock(&as->map_lock);
    return 0;
}

void mt__as_drop_mappings(mt_as *as)
{
    while (as->nr_maps) {
        mt_mapping m = take(as, as->nr_maps - 1);

        release(as, &m);
    }
    mt__free(as->ctx, as->maps);
    as->maps = NULL;
    as->cap_maps = 0;
}
