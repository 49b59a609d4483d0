/* SPDX-License-Identifier: MIT */
/*
 * access_int.h: what the access paths share (access.c: buffers; ldst.c:
 * fixed-size loads and stores). Internal, never installed.
 *
 * The fast paths are shaped for the compiler: an entry point checks its
 * arguments, enters the read-side section and tail-calls an out-of-line
 * function that does the access and leaves the section. With no call
 * before the tail call, the arguments stay in their registers: nothing
 * has to be saved and restored around the lock.
 */
#ifndef MT_ACCESS_INT_H
#define MT_ACCESS_INT_H

#include <string.h>

#include "internal.h"

/* MT__RCU_REGISTERED(): internal.h, next to the read-side primitives. */

/* Bytes from @addr to the end of @fr, capped at @len (no 2^64 overflow). */
static inline uint64_t mt__piece_len(const mt_flat_range *fr, uint64_t addr,
                                     uint64_t len)
{
    uint64_t avail_m1 = fr->last - addr;

    return len - 1 <= avail_m1 ? len : avail_m1 + 1;
}

#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define MT__HOST_ENDIAN MT_ENDIAN_BIG
#else
#define MT__HOST_ENDIAN MT_ENDIAN_LITTLE
#endif

/* The value of @size bytes (1, 2, 4 or 8) at @p, in byte order @e. */
MT_HOT_INLINE uint64_t mt__load_host(const uint8_t *p, unsigned size,
                                     mt_endian e)
{
    bool swap = e != MT__HOST_ENDIAN;

    switch (size) {
    case 1:
        return *p;
    case 2: {
        uint16_t v;

        memcpy(&v, p, 2);
        return swap ? __builtin_bswap16(v) : v;
    }
    case 4: {
        uint32_t v;

        memcpy(&v, p, 4);
        return swap ? __builtin_bswap32(v) : v;
    }
    default: {
        uint64_t v;

        memcpy(&v, p, 8);
        return swap ? __builtin_bswap64(v) : v;
    }
    }
}

/* Store the low @size bytes (1, 2, 4 or 8) of @value at @p, in order @e. */
MT_HOT_INLINE void mt__store_host(uint8_t *p, unsigned size, mt_endian e,
                                  uint64_t value)
{
    bool swap = e != MT__HOST_ENDIAN;

    switch (size) {
    case 1:
        *p = (uint8_t)value;
        break;
    case 2: {
        uint16_t v = (uint16_t)value;

        v = swap ? __builtin_bswap16(v) : v;
        memcpy(p, &v, 2);
        break;
    }
    case 4: {
        uint32_t v = (uint32_t)value;

        v = swap ? __builtin_bswap32(v) : v;
        memcpy(p, &v, 4);
        break;
    }
    default: {
        uint64_t v = swap ? __builtin_bswap64(value) : value;

        memcpy(p, &v, 8);
        break;
    }
    }
}

/* Is an access of @size bytes (1, 2, 4 or 8) at offset @xlat of the region
 * of a range with MT__ACCESS_* bits @acc a simple device access
 * (mt__io_read/write)? Bits IO1..IO8 read as a mask of sizes. */
MT_HOT_INLINE bool mt__io_simple(unsigned acc, unsigned size, uint64_t xlat)
{
    _Static_assert(MT__ACCESS_IO1 == 8, "IO1..IO8 are bits 3..6");
    return ((acc >> 3) & size) && !(xlat & (size - 1));
}

#endif /* MT_ACCESS_INT_H */
