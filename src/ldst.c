/* SPDX-License-Identifier: MIT */
/*
 * ldst.c: fixed-size loads and stores through an address space (QEMU's
 * ld*_phys / st*_phys): 1, 2, 4 or 8 bytes in either byte order, never
 * split. Directly accessible memory is read or written in place; anything
 * else goes whole to the callbacks of the region at the address.
 *
 * Each access has three tiers: the entry point (argument checks, the
 * read-side section entered, a tail call); *_locked, which settles the
 * common cases from the lookup hints alone (a page of the view's cache, a
 * range of direct memory, a simple device access: mmio_int.h); and *_slow,
 * every case, for whatever the hints did not settle. Both leave the
 * section (access_int.h says why it is split this way).
 */
#include "access_int.h"
#include "mmio_int.h"

static bool valid_size(unsigned size)
{
    return size == 1 || size == 2 || size == 4 || size == 8;
}

/*
 * The range of a fixed-size access at @addr. Returns MT_TX_OK with *@fr set
 * when the caller should go on, or the result to return (holes,
 * attrs.memory refusals).
 */
static mt_result ldst_range(mt_flatview *fv, uint64_t addr, mt_attrs attrs,
                            const mt_flat_range **fr)
{
    *fr = mt__lookup(fv, addr);
    if (!*fr)
        return attrs.memory ? MT_TX_ACCESS_ERROR : MT_TX_DECODE_ERROR;
    if (attrs.memory && !((*fr)->mt__access & MT__ACCESS_RAM))
        return MT_TX_ACCESS_ERROR;
    return MT_TX_OK;
}

/* Is the whole access directly reachable memory with @bit (MT__ACCESS_*)? */
MT_HOT_INLINE bool ldst_direct(const mt_flat_range *fr, uint64_t addr,
                               unsigned size, unsigned bit)
{
    return (fr->mt__access & bit) && size - 1 <= fr->last - addr;
}

/*
 * From the hints alone: the host address of the access when a page entry
 * of the view's cache with the MT__ACCESS_* bits @need holds it (*@host
 * set, NULL returned), else the range of @addr, or NULL (*@host NULL) when
 * the hints missed.
 */
MT_HOT_INLINE const mt_flat_range *ldst_hint(mt_flatview *fv, uint64_t addr,
                                             unsigned size, unsigned need,
                                             uint8_t **host)
{
    mt_tlb *tlb = atomic_load_explicit(&fv->tlb, memory_order_acquire);
    const mt_flat_range *fr;

    *host = NULL;
    if (tlb) {
        uint64_t h = mt__tlb_hash(addr);
        mt_tlb_entry *e = mt__tlb_entry(tlb, h);
        uint64_t bits = (uint64_t)need << MT__TLB_ACCESS_SHIFT;
        uintptr_t page;

        if (size - 1 <= 4095 - (addr & 4095)) {
            page = mt__tlb_read(tlb, e, MT__TLB_TAG | MT__TLB_PAGE | bits |
                                            MT__TLB_BUSY,
                                (h << MT__TLB_SHIFT) | MT__TLB_PAGE | bits,
                                fv->gen);
            if (page) {
                *host = (uint8_t *)page + (addr & 4095);
                return NULL;
            }
        }
        fr = (const mt_flat_range *)mt__tlb_read(
            tlb, e, MT__TLB_TAG | MT__TLB_RANGE | MT__TLB_BUSY,
            (h << MT__TLB_SHIFT) | MT__TLB_RANGE, fv->gen);
    } else {
        fr = atomic_load_explicit(&fv->mru, memory_order_relaxed);
    }
    if (fr && fr->start <= addr && addr <= fr->last)
        return fr;
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Loads                                                                     */
/* ------------------------------------------------------------------------ */

/* Every case of a load, inside the section, which it leaves. */
static __attribute__((noinline)) mt_result
load_slow(mt_flatview *fv, uint64_t addr, unsigned size, mt_endian endian,
          mt_attrs attrs, uint64_t *value)
{
    const mt_flat_range *fr;
    uint64_t xlat;
    mt_result res = ldst_range(fv, addr, attrs, &fr);

    if (res == MT_TX_OK) {
        xlat = fr->offset + (addr - fr->start);
        if (ldst_direct(fr, addr, size, MT__ACCESS_READ))
            *value = mt__load_host((uint8_t *)fr->host + (addr - fr->start),
                                   size, endian);
        else if (mt__io_simple(fr->mt__access, size, xlat) && !attrs.memory)
            res = mt__io_read(fr, xlat, value, size, endian, attrs);
        else
            res = mt__dispatch_read(fr->region, xlat, value, size, endian,
                                    attrs);
    }
    mt__read_unlock(fv->ctx);
    return res;
}

/* Inside the section entered by mt_as_load: the cases the hints settle,
 * else load_slow(); every path leaves the section. */
static __attribute__((noinline)) mt_result
load_locked(mt_flatview *fv, uint64_t addr, unsigned size, mt_endian endian,
            mt_attrs attrs, uint64_t *value)
{
    uint8_t *host;
    const mt_flat_range *fr = ldst_hint(fv, addr, size, MT__ACCESS_READ |
                                        (attrs.memory ? MT__ACCESS_RAM : 0),
                                        &host);
    uint64_t xlat;
    mt_result res;

    if (!host) {
        if (!fr || attrs.memory)
            return load_slow(fv, addr, size, endian, attrs, value);
        if (!ldst_direct(fr, addr, size, MT__ACCESS_READ)) {
            xlat = fr->offset + (addr - fr->start);
            if (!mt__io_simple(fr->mt__access, size, xlat))
                return load_slow(fv, addr, size, endian, attrs, value);
            res = mt__io_read(fr, xlat, value, size, endian, attrs);
            mt__read_unlock(fv->ctx);
            return res;
        }
        host = (uint8_t *)fr->host + (addr - fr->start);
    }
    *value = mt__load_host(host, size, endian);
    mt__read_unlock(fv->ctx);
    return MT_TX_OK;
}

MT_HOT_INLINE mt_result load_enter(mt_as *as, uint64_t addr, unsigned size,
                                   mt_endian endian, mt_attrs attrs,
                                   uint64_t *value)
{
    mt__read_lock(as->ctx);
    return load_locked(mt__as_view(as), addr, size, endian, attrs, value);
}

/* mt_as_load on a thread's first read-side section (access_int.h). */
static __attribute__((noinline)) mt_result
load_registering(mt_as *as, uint64_t addr, unsigned size, mt_endian endian,
                 mt_attrs attrs, uint64_t *value)
{
    return load_enter(as, addr, size, endian, attrs, value);
}

mt_result mt_as_load(mt_as *as, uint64_t addr, unsigned size,
                     mt_endian endian, mt_attrs attrs, uint64_t *value)
{
    if (!value)
        return MT_TX_DECODE_ERROR;
    *value = 0;
    if (!as || !valid_size(size))
        return MT_TX_DECODE_ERROR;
    if (__builtin_expect(!MT__RCU_REGISTERED(), 0))
        return load_registering(as, addr, size, endian, attrs, value);
    return load_enter(as, addr, size, endian, attrs, value);
}

/* ------------------------------------------------------------------------ */
/* Stores                                                                    */
/* ------------------------------------------------------------------------ */

/* Every case of a store, inside the section, which it leaves. */
static __attribute__((noinline)) mt_result
store_slow(mt_flatview *fv, uint64_t addr, unsigned size, mt_endian endian,
           mt_attrs attrs, uint64_t value)
{
    const mt_flat_range *fr;
    uint64_t xlat;
    mt_result res = ldst_range(fv, addr, attrs, &fr);

    if (res == MT_TX_OK) {
        xlat = fr->offset + (addr - fr->start);
        if (ldst_direct(fr, addr, size, MT__ACCESS_WRITE)) {
            mt__store_host((uint8_t *)fr->host + (addr - fr->start), size,
                           endian, value);
            if (fr->dirty_log_mask)
                mt__dirty_mark(fr->region, xlat, size, fr->dirty_log_mask);
        } else if (mt__io_simple(fr->mt__access, size, xlat) &&
                   !attrs.memory) {
            res = mt__io_write(fr, xlat, value, size, endian, attrs);
        } else {
            res = mt__dispatch_write(fr->region, xlat, value, size, endian,
                                     attrs);
        }
    }
    mt__read_unlock(fv->ctx);
    return res;
}

/* Inside the section entered by mt_as_store (see load_locked). */
static __attribute__((noinline)) mt_result
store_locked(mt_flatview *fv, uint64_t addr, unsigned size, mt_endian endian,
             mt_attrs attrs, uint64_t value)
{
    uint8_t *host;
    /* Direct writes are to RAM: attrs.memory allows them. */
    const mt_flat_range *fr = ldst_hint(fv, addr, size, MT__ACCESS_WRITE,
                                        &host);
    uint64_t xlat;
    mt_result res;

    if (!host) {
        if (!fr || attrs.memory)
            return store_slow(fv, addr, size, endian, attrs, value);
        if (!ldst_direct(fr, addr, size, MT__ACCESS_WRITE) ||
            fr->dirty_log_mask) {
            xlat = fr->offset + (addr - fr->start);
            if (!mt__io_simple(fr->mt__access, size, xlat))
                return store_slow(fv, addr, size, endian, attrs, value);
            res = mt__io_write(fr, xlat, value, size, endian, attrs);
            mt__read_unlock(fv->ctx);
            return res;
        }
        host = (uint8_t *)fr->host + (addr - fr->start);
    }
    mt__store_host(host, size, endian, value);
    mt__read_unlock(fv->ctx);
    return MT_TX_OK;
}

MT_HOT_INLINE mt_result store_enter(mt_as *as, uint64_t addr, unsigned size,
                                    mt_endian endian, mt_attrs attrs,
                                    uint64_t value)
{
    mt__read_lock(as->ctx);
    return store_locked(mt__as_view(as), addr, size, endian, attrs, value);
}

/* mt_as_store on a thread's first read-side section (access_int.h). */
static __attribute__((noinline)) mt_result
store_registering(mt_as *as, uint64_t addr, unsigned size, mt_endian endian,
                  mt_attrs attrs, uint64_t value)
{
    return store_enter(as, addr, size, endian, attrs, value);
}

mt_result mt_as_store(mt_as *as, uint64_t addr, unsigned size,
                      mt_endian endian, mt_attrs attrs, uint64_t value)
{
    if (!as || !valid_size(size))
        return MT_TX_DECODE_ERROR;
    if (__builtin_expect(!MT__RCU_REGISTERED(), 0))
        return store_registering(as, addr, size, endian, attrs, value);
    return store_enter(as, addr, size, endian, attrs, value);
}
