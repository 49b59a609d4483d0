/* SPDX-License-Identifier: MIT */
/*
 * snapshot_sum.c: the 64-bit checksum of snapshot files.
 *
 * Four lanes take 8-byte little-endian words in turn (32-byte stripes).
 * A lane step is v = ((v ^ w) * K) ^ ((v ^ w) * K >> 29): for a fixed v it
 * is a bijection of w, and for a fixed w a bijection of v. The final sum
 * folds the length, the four lanes and the tail words into one value with
 * steps of the same kind, then scrambles it with an invertible mix. So a
 * change confined to any one 8-byte word of the input always changes the
 * sum (every step after it is a bijection of the changed state); other
 * changes go unnoticed with probability about 2^-64. Not cryptographic:
 * it catches corruption, not forgery. Throughput is bound by memory
 * (four independent multiply chains).
 */
#include <string.h>

#include "snapshot_int.h"

#define K_LANE UINT64_C(0x9e6c63d0876a9a37)
#define K_FOLD UINT64_C(0xc2b2ae3d27d4eb4f)
#define K_MIX1 UINT64_C(0xd6e8feb86659fd93)
#define K_MIX2 UINT64_C(0xa0761d6478bd642f)

static inline uint64_t load_le64(const uint8_t *p)
{
    uint64_t v;

    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static inline uint64_t step(uint64_t v, uint64_t w, uint64_t k)
{
    v = (v ^ w) * k;
    return v ^ (v >> 29);
}

static void stripe(uint64_t v[4], const uint8_t *p)
{
    v[0] = step(v[0], load_le64(p), K_LANE);
    v[1] = step(v[1], load_le64(p + 8), K_LANE);
    v[2] = step(v[2], load_le64(p + 16), K_LANE);
    v[3] = step(v[3], load_le64(p + 24), K_LANE);
}

void mt__sum_init(mt__sum *s, uint64_t seed)
{
    s->seed = seed;
    s->v[0] = seed ^ UINT64_C(0x243f6a8885a308d3);
    s->v[1] = seed ^ UINT64_C(0x13198a2e03707344);
    s->v[2] = seed ^ UINT64_C(0xa4093822299f31d0);
    s->v[3] = seed ^ UINT64_C(0x082efa98ec4e6c89);
    s->total = 0;
    s->nbuf = 0;
}

void mt__sum_add(mt__sum *s, const void *data, size_t n)
{
    const uint8_t *p = data;

    s->total += n;
    if (s->nbuf) {
        size_t take = sizeof(s->buf) - s->nbuf;

        if (take > n)
            take = n;
        memcpy(s->buf + s->nbuf, p, take);
        s->nbuf += take;
        p += take;
        n -= take;
        if (s->nbuf < sizeof(s->buf))
            return;
        stripe(s->v, s->buf);
        s->nbuf = 0;
    }
    while (n >= 32) {
        stripe(s->v, p);
        p += 32;
        n -= 32;
    }
    memcpy(s->buf, p, n);
    s->nbuf = n;
}

uint64_t mt__sum_final(const mt__sum *s)
{
    uint64_t h = step(s->seed, s->total, K_FOLD);
    size_t i;

    for (i = 0; i < 4; i++)
        h = step(h, s->v[i], K_FOLD);
    for (i = 0; i < s->nbuf; i += 8) {
        uint8_t word[8] = { 0 };

        memcpy(word, s->buf + i, s->nbuf - i < 8 ? s->nbuf - i : 8);
        h = step(h, load_le64(word), K_LANE);
    }
    h ^= h >> 31;
    h *= K_MIX1;
    h ^= h >> 27;
    h *= K_MIX2;
    h ^= h >> 33;
    return h;
}

uint64_t mt__sum64(uint64_t seed, const void *p, size_t n)
{
    mt__sum s;

    mt__sum_init(&s, seed);
    mt__sum_add(&s, p, n);
    return mt__sum_final(&s);
}
