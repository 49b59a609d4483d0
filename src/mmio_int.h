/* SPDX-License-Identifier: MIT */
/*
 * mmio_int.h: a device access that is one call of the callbacks behind the
 * re-entrancy guard (internal, never installed). mmio.c decides at render
 * time which accesses qualify (mt__io_simple_sizes) and runs every other
 * case; the access paths inline these so that a simple access costs one
 * indirect call.
 */
#ifndef MT_MMIO_INT_H
#define MT_MMIO_INT_H

#include "internal.h"

/* Devices (guard identities) currently inside a callback on this thread,
 * innermost first (mmio.c). Frames live on the stack of the accessing
 * calls. */
typedef struct mt_guard_frame {
    const void *id;
    struct mt_guard_frame *prev;
} mt_guard_frame;

extern _Thread_local mt_guard_frame *mt__active_guards
    __attribute__((tls_model("initial-exec")));

/*
 * Mark @mr's device inside a callback on this thread (@frame on the
 * caller's stack), unless it is already: then false, and the access is
 * refused (MT_TX_ACCESS_ERROR). mt__guard_leave() undoes it.
 */
MT_HOT_INLINE bool mt__guard_enter(const mt_region *mr, mt_guard_frame *frame)
{
    mt_guard *guard = __atomic_load_n(&mr->guard, __ATOMIC_RELAXED);

    frame->id = guard ? (const void *)guard : (const void *)mr;
    for (mt_guard_frame *g = mt__active_guards; g; g = g->prev)
        if (g->id == frame->id)
            return false;
    frame->prev = mt__active_guards;
    mt__active_guards = frame;
    return true;
}

MT_HOT_INLINE void mt__guard_leave(mt_guard_frame *frame)
{
    mt__active_guards = frame->prev;
}

/* The low @size bytes of a value (all of it from 8 bytes up). */
static inline uint64_t mt__size_mask(unsigned size)
{
    return size >= 8 ? UINT64_MAX : (UINT64_C(1) << (size * 8)) - 1;
}

static inline uint64_t mt__bswap(uint64_t v, unsigned size)
{
    switch (size) {
    case 2: return __builtin_bswap16((uint16_t)v);
    case 4: return __builtin_bswap32((uint32_t)v);
    case 8: return __builtin_bswap64(v);
    default: return v;
    }
}

/*
 * Call @mr's read or write callback for @size bytes at offset @addr. With
 * @guard (an I/O region whose guard is on), refuse it with
 * MT_TX_ACCESS_ERROR while the same device is inside a callback on this
 * thread, and mark it inside for the duration of the call.
 */
MT_HOT_INLINE mt_result mt__io_call(mt_region *mr, uint64_t addr,
                                    uint64_t *value, unsigned size,
                                    bool is_write, mt_attrs attrs,
                                    bool guard)
{
    mt_guard_frame frame;
    mt_result res;

    if (!guard)
        return is_write
                   ? mr->ops.write(mr->opaque, addr, *value, size, attrs)
                   : mr->ops.read(mr->opaque, addr, value, size, attrs);
    if (!mt__guard_enter(mr, &frame))
        return MT_TX_ACCESS_ERROR;
    res = is_write ? mr->ops.write(mr->opaque, addr, *value, size, attrs)
                   : mr->ops.read(mr->opaque, addr, value, size, attrs);
    mt__guard_leave(&frame);
    return res;
}

/* Is @mr's guard on? @acc: the MT__ACCESS_* bits of a range of @mr. The
 * flags may change while the access runs (a writer thread): relaxed
 * atomic loads, either value is a valid answer. */
MT_HOT_INLINE bool mt__io_guarded(const mt_region *mr, unsigned acc)
{
    return (acc & MT__ACCESS_GUARD) &&
           !__atomic_load_n(&mr->guard_off, __ATOMIC_RELAXED) &&
           !__atomic_load_n(&mr->readonly, __ATOMIC_RELAXED);
}

/*
 * A simple access to range @fr at offset @addr of its region: the range's
 * MT__ACCESS_IO1 bit for @size is set, @addr is aligned to @size and
 * attrs.memory is clear. Does what mt__dispatch_read/write do, without
 * re-checking what the bit guarantees.
 */
MT_HOT_INLINE mt_result mt__io_read(const mt_flat_range *fr, uint64_t addr,
                                    uint64_t *value, unsigned size,
                                    mt_endian op, mt_attrs attrs)
{
    mt_region *mr = fr->region;
    /* All the value needs after the call, in one register: the shift that
     * masks it to @size bytes (1, 2, 4 or 8) or brings its swapped bytes
     * down, and whether to swap. */
    unsigned post = (64 - 8 * size) | (op != mr->ops.endian ? 0x100 : 0);
    mt_result res;
    uint64_t v;

    *value = 0;
    res = mt__io_call(mr, addr, value, size, false, attrs,
                      mt__io_guarded(mr, fr->mt__access));
    v = *value & (UINT64_MAX >> (post & 63));
    *value = post & 0x100 ? __builtin_bswap64(v) >> (post & 63) : v;
    return res;
}

MT_HOT_INLINE mt_result mt__io_write(const mt_flat_range *fr,
                                     uint64_t addr, uint64_t value,
                                     unsigned size, mt_endian op,
                                     mt_attrs attrs)
{
    mt_region *mr = fr->region;
    unsigned shift = 64 - 8 * size; /* @size is 1, 2, 4 or 8 */

    value &= UINT64_MAX >> shift;
    if (op != mr->ops.endian)
        value = __builtin_bswap64(value) >> shift;
    return mt__io_call(mr, addr, &value, size, true, attrs,
                       mt__io_guarded(mr, fr->mt__access));
}

#endif /* MT_MMIO_INT_H */
