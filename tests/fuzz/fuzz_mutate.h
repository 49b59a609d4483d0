/* SPDX-License-Identifier: MIT */
/*
 * fuzz_mutate.h: the byte edits fuzz_snapshot and fuzz_migrate apply to a
 * valid file or stream, driven by the fuzzer's input, so that most inputs
 * land near something the reader accepts.
 */
#ifndef MT_FUZZ_MUTATE_H
#define MT_FUZZ_MUTATE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Edit @buf (@len valid bytes) as @data[0..size) says, under @mode: bit 3
 * truncates it first (by data[0] modulo len + 1); then 1 edit, or 4 with
 * bit 5 and up set, each three bytes of @data: an offset (top bits both
 * set: within the first KiB, the header and tables) and a byte, XORed in
 * with bit 2 of @mode, else stored. Returns the new length.
 */
static inline size_t fuzz_mutate(uint8_t *buf, size_t len,
                                 const uint8_t *data, size_t size,
                                 unsigned mode)
{
    size_t i = 0;

    if ((mode & 8) && size) {
        len -= data[0] % (len + 1);
        i = 1;
    }
    for (unsigned edits = 1 + (mode >> 5) * 3u;
         i + 3 <= size && len && edits; i += 3, edits--) {
        size_t at = (data[i] & 0xc0) == 0xc0
                        ? ((size_t)(data[i] & 0x7f) << 8 | data[i + 1]) %
                              (len < 1024 ? len : 1024)
                        : ((size_t)data[i] << 8 | data[i + 1]) % len;

        if (mode & 4)
            buf[at] ^= data[i + 2];
        else
            buf[at] = data[i + 2];
    }
    return len;
}

#endif /* MT_FUZZ_MUTATE_H */
