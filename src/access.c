/* SPDX-License-Identifier: MIT */
/*
 * access.c: reads and writes of any length through an address space
 * (QEMU's address_space_rw family), fixed-size loads and stores, translate
 * and the validity check. The flat view is walked piece by piece: holes,
 * direct memory copies, and device pieces cut to what the device takes.
 */
#include <string.h>

#include "internal.h"

/* Bytes from @addr to the end of @fr, capped at @len (no 2^64 overflow). */
static uint64_t piece_len(const mt_flat_range *fr, uint64_t addr,
                          uint64_t len)
{
    uint64_t avail_m1 = fr->last - addr;

    return len - 1 <= avail_m1 ? len : avail_m1 + 1;
}

/* Bytes from @addr (in a hole) up to the next range, capped at @len. */
static uint64_t hole_len(const mt_flatview *fv, uint64_t addr, uint64_t len)
{
    size_t i = mt__fv_lower(fv, addr);
    uint64_t next;

    if (i == mt__fv_count(fv))
        return len;
    next = mt__fv_at(fv, i)->start;
    return next - addr < len ? next - addr : len;
}

static uint64_t bytes_to_value(const uint8_t *p, unsigned size, mt_endian e)
{
    uint64_t v = 0;
    unsigned i;

    for (i = 0; i < size; i++) {
        unsigned idx = e == MT_ENDIAN_BIG ? i : size - 1 - i;

        v = (v << 8) | p[idx];
    }
    return v;
}

static void value_to_bytes(uint8_t *p, unsigned size, mt_endian e,
                           uint64_t v)
{
    unsigned i;

    for (i = 0; i < size; i++) {
        unsigned idx = e == MT_ENDIAN_BIG ? size - 1 - i : i;

        p[idx] = (uint8_t)v;
        v >>= 8;
    }
}

/* One device piece of a buffer access; *@l is cut to what the device takes. */
static mt_result device_piece(mt_region *mr, uint64_t xlat, mt_attrs attrs,
                              uint8_t *buf, uint64_t *l, bool is_write)
{
    unsigned size = mt__access_size(mr, *l, xlat);
    mt_endian e = mt__region_endian(mr);
    uint64_t v;
    mt_result res;

    *l = size;
    if (is_write)
        return mt__dispatch_write(mr, xlat, bytes_to_value(buf, size, e),
                                  size, e, attrs);
    res = mt__dispatch_read(mr, xlat, &v, size, e, attrs);
    value_to_bytes(buf, size, e, v);
    return res;
}

static mt_result fv_rw(mt_flatview *fv, uint64_t addr, mt_attrs attrs,
                       uint8_t *buf, uint64_t len, bool is_write)
{
    mt_result res = MT_TX_OK;

    while (len) {
        const mt_flat_range *fr = mt__lookup(fv, addr);
        mt_region *mr;
        uint64_t l, xlat;

        if (!fr) {
            /* A hole is QEMU's unassigned region: not RAM, accepts nothing. */
            l = hole_len(fv, addr, len);
            if (attrs.memory) {
                res |= MT_TX_ACCESS_ERROR;
            } else {
                if (!is_write)
                    memset(buf, 0, l);
                res |= MT_TX_DECODE_ERROR;
            }
        } else {
            /* host is NULL for ranges without memory: only used below
             * when an access bit says the range has memory. */
            uint8_t *host = fr->host;

            mr = fr->region;
            l = piece_len(fr, addr, len);
            if (attrs.memory && !mt__is_ram(mr)) {
                res |= MT_TX_ACCESS_ERROR;
            } else if (is_write && (fr->mt__access & MT__ACCESS_WRITE)) {
                memcpy(host + (addr - fr->start), buf, l);
                if (fr->dirty_log_mask)
                    mt__dirty_mark(mr, fr->offset + (addr - fr->start), l,
                                   fr->dirty_log_mask);
            } else if (!is_write && (fr->mt__access & MT__ACCESS_READ)) {
                memcpy(buf, host + (addr - fr->start), l);
            } else {
                xlat = fr->offset + (addr - fr->start);
                res |= device_piece(mr, xlat, attrs, buf, &l, is_write);
            }
        }
        buf += l;
        addr += l;
        len -= l;
    }
    return res;
}

/*
 * Every entry point below is a reader: it runs inside an RCU read-side
 * section and uses the one view it loaded there, so a commit on another
 * thread neither blocks it nor frees what it reads (rcu.c). Device
 * callbacks run inside that section too, without any lock held.
 */
static mt_result as_rw(mt_as *as, uint64_t addr, mt_attrs attrs,
                       uint8_t *buf, uint64_t len, bool is_write)
{
    mt_result res;

    mt__read_lock(as->ctx);
    res = fv_rw(mt__as_view(as), addr, attrs, buf, len, is_write);
    mt__read_unlock(as->ctx);
    return res;
}

mt_result mt_as_read(mt_as *as, uint64_t addr, mt_attrs attrs, void *buf,
                     uint64_t len)
{
    if (!as || (!buf && len))
        return MT_TX_DECODE_ERROR;
    return as_rw(as, addr, attrs, buf, len, false);
}

mt_result mt_as_write(mt_as *as, uint64_t addr, mt_attrs attrs,
                      const void *buf, uint64_t len)
{
    if (!as || (!buf && len))
        return MT_TX_DECODE_ERROR;
    return as_rw(as, addr, attrs, (uint8_t *)buf, len, true);
}

mt_result mt_as_rw(mt_as *as, uint64_t addr, mt_attrs attrs, void *buf,
                   uint64_t len, bool is_write)
{
    return is_write ? mt_as_write(as, addr, attrs, buf, len)
                    : mt_as_read(as, addr, attrs, buf, len);
}

mt_result mt_as_write_rom(mt_as *as, uint64_t addr, mt_attrs attrs,
                          const void *buf, uint64_t len)
{
    const uint8_t *p = buf;

    mt_flatview *fv;

    (void)attrs;
    if (!as || (!buf && len))
        return MT_TX_DECODE_ERROR;
    mt__read_lock(as->ctx);
    fv = mt__as_view(as);
    while (len) {
        const mt_flat_range *fr = mt__lookup(fv, addr);
        uint64_t l;

        if (!fr) {
            l = hole_len(fv, addr, len);
        } else {
            mt_region *mr = fr->region;

            l = piece_len(fr, addr, len);
            if (mt__is_ram(mr) || (mr->kind == MT_REGION_ROM_DEVICE &&
                                   fr->romd)) {
                uint64_t xlat = fr->offset + (addr - fr->start);

                memcpy((uint8_t *)mr->host + xlat, p, l);
                if (fr->dirty_log_mask)
                    mt__dirty_mark(mr, xlat, l, fr->dirty_log_mask);
            }
        }
        p += l;
        addr += l;
        len -= l;
    }
    mt__read_unlock(as->ctx);
    return MT_TX_OK;
}

static bool valid_size(unsigned size)
{
    return size == 1 || size == 2 || size == 4 || size == 8;
}

/*
 * The part load and store share: find the range of a fixed-size access at
 * @addr. Returns MT_TX_OK with *@fr set when the caller should go on, or
 * the result to return (holes, attrs.memory refusals, bad sizes).
 */
static mt_result ldst_range(mt_flatview *fv, uint64_t addr, unsigned size,
                            mt_attrs attrs, const mt_flat_range **fr)
{
    if (!valid_size(size))
        return MT_TX_DECODE_ERROR;
    *fr = mt__lookup(fv, addr);
    if (!*fr)
        return attrs.memory ? MT_TX_ACCESS_ERROR : MT_TX_DECODE_ERROR;
    if (attrs.memory && !mt__is_ram((*fr)->region))
        return MT_TX_ACCESS_ERROR;
    return MT_TX_OK;
}

/* Is the whole access directly reachable memory with @bit (MT__ACCESS_*)? */
static bool ldst_direct(const mt_flat_range *fr, uint64_t addr,
                        unsigned size, unsigned bit)
{
    return piece_len(fr, addr, size) == size && (fr->mt__access & bit);
}

static mt_result as_load(mt_flatview *fv, uint64_t addr, unsigned size,
                         mt_endian endian, mt_attrs attrs, uint64_t *value)
{
    const mt_flat_range *fr;
    mt_result res = ldst_range(fv, addr, size, attrs, &fr);

    if (res != MT_TX_OK)
        return res;
    if (!ldst_direct(fr, addr, size, MT__ACCESS_READ))
        return mt__dispatch_read(fr->region, fr->offset + (addr - fr->start),
                                 value, size, endian, attrs);
    *value = bytes_to_value((uint8_t *)fr->host + (addr - fr->start), size,
                            endian);
    return MT_TX_OK;
}

mt_result mt_as_load(mt_as *as, uint64_t addr, unsigned size,
                     mt_endian endian, mt_attrs attrs, uint64_t *value)
{
    mt_result res;

    if (!value)
        return MT_TX_DECODE_ERROR;
    *value = 0;
    if (!as)
        return MT_TX_DECODE_ERROR;
    mt__read_lock(as->ctx);
    res = as_load(mt__as_view(as), addr, size, endian, attrs, value);
    mt__read_unlock(as->ctx);
    return res;
}

static mt_result as_store(mt_flatview *fv, uint64_t addr, unsigned size,
                          mt_endian endian, mt_attrs attrs, uint64_t value)
{
    const mt_flat_range *fr;
    uint64_t xlat;
    mt_result res = ldst_range(fv, addr, size, attrs, &fr);

    if (res != MT_TX_OK)
        return res;
    xlat = fr->offset + (addr - fr->start);
    if (!ldst_direct(fr, addr, size, MT__ACCESS_WRITE))
        return mt__dispatch_write(fr->region, xlat, value, size, endian,
                                  attrs);
    value_to_bytes((uint8_t *)fr->host + (addr - fr->start), size, endian,
                   value);
    if (fr->dirty_log_mask)
        mt__dirty_mark(fr->region, xlat, size, fr->dirty_log_mask);
    return MT_TX_OK;
}

mt_result mt_as_store(mt_as *as, uint64_t addr, unsigned size,
                      mt_endian endian, mt_attrs attrs, uint64_t value)
{
    mt_result res;

    if (!as)
        return MT_TX_DECODE_ERROR;
    mt__read_lock(as->ctx);
    res = as_store(mt__as_view(as), addr, size, endian, attrs, value);
    mt__read_unlock(as->ctx);
    return res;
}

int mt_as_translate(mt_as *as, uint64_t addr, mt_attrs attrs,
                    mt_region **region, uint64_t *offset, uint64_t *len)
{
    const mt_flat_range *fr;
    mt_flatview *fv;

    (void)attrs;
    if (!as || !region || !offset || !len)
        return MT_EINVAL;
    mt__read_lock(as->ctx);
    fv = mt__as_view(as);
    fr = mt__lookup(fv, addr);
    if (!fr) {
        *region = NULL;
        *offset = 0;
        if (*len)
            *len = hole_len(fv, addr, *len);
    } else {
        *region = fr->region;
        *offset = fr->offset + (addr - fr->start);
        if (*len)
            *len = piece_len(fr, addr, *len);
    }
    mt__read_unlock(as->ctx);
    return 0;
}

static bool fv_access_valid(mt_flatview *fv, uint64_t addr, uint64_t len,
                            bool is_write, mt_attrs attrs)
{
    while (len) {
        const mt_flat_range *fr = mt__lookup(fv, addr);
        mt_region *mr;
        uint64_t l, xlat;

        if (!fr)
            return false;
        mr = fr->region;
        l = piece_len(fr, addr, len);
        xlat = fr->offset + (addr - fr->start);
        if (attrs.memory && !mt__is_ram(mr))
            return false;
        if (!(fr->mt__access &
              (is_write ? MT__ACCESS_WRITE : MT__ACCESS_READ))) {
            l = mt__access_size(mr, l, xlat);
            if (!mt__access_valid(mr, xlat, (unsigned)l, is_write, attrs))
                return false;
        }
        addr += l;
        len -= l;
    }
    return true;
}

bool mt_as_access_valid(mt_as *as, uint64_t addr, uint64_t len,
                        bool is_write, mt_attrs attrs)
{
    bool ok;

    if (!as)
        return false;
    mt__read_lock(as->ctx);
    ok = fv_access_valid(mt__as_view(as), addr, len, is_write, attrs);
    mt__read_unlock(as->ctx);
    return ok;
}
