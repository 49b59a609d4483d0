/* SPDX-License-Identifier: MIT */
/*
 * access.c: reads and writes of any length through an address space
 * (QEMU's address_space_rw family), translate and the validity check. The
 * flat view is walked piece by piece: holes, direct memory copies, and
 * device pieces cut to what the device takes. Fixed-size loads and stores
 * are in ldst.c.
 */
#include "access_int.h"
#include "mmio_int.h"

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

/* One device piece of a buffer access in range @fr; *@l is cut to what
 * the device takes. */
static mt_result device_piece(const mt_flat_range *fr, uint64_t xlat,
                              mt_attrs attrs, uint8_t *buf, uint64_t *l,
                              bool is_write)
{
    mt_region *mr = fr->region;
    unsigned size = mt__access_size(mr, *l, xlat);
    mt_endian e = mt__region_endian(mr);
    bool simple = mt__io_simple(fr->mt__access, size, xlat);
    uint64_t v;
    mt_result res;

    *l = size;
    if (is_write) {
        v = mt__load_host(buf, size, e);
        return simple ? mt__io_write(fr, xlat, v, size, e, attrs)
                      : mt__dispatch_write(mr, xlat, v, size, e, attrs);
    }
    res = simple ? mt__io_read(fr, xlat, &v, size, e, attrs)
                 : mt__dispatch_read(mr, xlat, &v, size, e, attrs);
    mt__store_host(buf, size, e, v);
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
            l = mt__piece_len(fr, addr, len);
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
                res |= device_piece(fr, xlat, attrs, buf, &l, is_write);
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
 *
 * Reads and writes: the common case first, the whole access in directly
 * accessible memory of one range found from the hints alone (one copy, no
 * per-piece work); anything else, or a miss of the hints, takes fv_rw().
 * The functions below run inside the section and leave it (access_int.h).
 */
static __attribute__((noinline)) mt_result
read_locked(mt_flatview *fv, uint64_t addr, mt_attrs attrs, uint8_t *buf,
            uint64_t len)
{
    uint8_t *host = mt__direct_host(fv, addr, len,
                                    MT__ACCESS_READ |
                                        (attrs.memory ? MT__ACCESS_RAM : 0),
                                    false);
    mt_result res = MT_TX_OK;

    if (host)
        memcpy(buf, host, len);
    else
        res = fv_rw(fv, addr, attrs, buf, len, false);
    mt__read_unlock(fv->ctx);
    return res;
}

static __attribute__((noinline)) mt_result
write_locked(mt_flatview *fv, uint64_t addr, mt_attrs attrs, uint8_t *buf,
             uint64_t len)
{
    /* Direct writes are to RAM: attrs.memory allows them. */
    uint8_t *host = mt__direct_host(fv, addr, len, MT__ACCESS_WRITE, true);
    mt_result res = MT_TX_OK;

    if (host)
        memcpy(host, buf, len);
    else
        res = fv_rw(fv, addr, attrs, buf, len, true);
    mt__read_unlock(fv->ctx);
    return res;
}

MT_HOT_INLINE mt_result rw_enter(mt_as *as, uint64_t addr, mt_attrs attrs,
                                 uint8_t *buf, uint64_t len, bool is_write)
{
    mt__read_lock(as->ctx);
    return is_write ? write_locked(mt__as_view(as), addr, attrs, buf, len)
                    : read_locked(mt__as_view(as), addr, attrs, buf, len);
}

static __attribute__((noinline)) mt_result
rw_registering(mt_as *as, uint64_t addr, mt_attrs attrs, uint8_t *buf,
               uint64_t len, bool is_write)
{
    return rw_enter(as, addr, attrs, buf, len, is_write);
}

mt_result mt_as_read(mt_as *as, uint64_t addr, mt_attrs attrs, void *buf,
                     uint64_t len)
{
    if (!as || (!buf && len))
        return MT_TX_DECODE_ERROR;
    if (__builtin_expect(!MT__RCU_REGISTERED(), 0))
        return rw_registering(as, addr, attrs, buf, len, false);
    return rw_enter(as, addr, attrs, buf, len, false);
}

mt_result mt_as_write(mt_as *as, uint64_t addr, mt_attrs attrs,
                      const void *buf, uint64_t len)
{
    if (!as || (!buf && len))
        return MT_TX_DECODE_ERROR;
    if (__builtin_expect(!MT__RCU_REGISTERED(), 0))
        return rw_registering(as, addr, attrs, (uint8_t *)buf, len, true);
    return rw_enter(as, addr, attrs, (uint8_t *)buf, len, true);
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

            l = mt__piece_len(fr, addr, len);
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
            *len = mt__piece_len(fr, addr, *len);
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
        l = mt__piece_len(fr, addr, len);
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
