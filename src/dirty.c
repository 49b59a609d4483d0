/* SPDX-License-Identifier: MIT */
/*
 * dirty.c: dirty bitmaps of RAM blocks. One bitmap per client (VGA, CODE,
 * MIGRATION), one bit per 4 KiB page, least significant bit first. Every
 * operation is atomic per 64-bit word (fetch-or, fetch-and, exchange), so
 * writers on vCPU threads and a collector on another thread never lose a
 * bit: a page dirtied while a snapshot is taken is either in the snapshot
 * or still set afterwards.
 */
#include <string.h>

#include "internal.h"

#define PAGE_SHIFT 12 /* MT_DIRTY_PAGE_SIZE */

struct mt_dirty_snapshot {
    mt_ctx *ctx;
    uint64_t first_page;    /* page index (in the region) of bit 0 */
    uint64_t npages;
    uint64_t bits[];        /* (npages + 63) / 64 words */
};

static uint64_t *client_map(mt_ramblock *b, unsigned client)
{
    return b->dirty + (size_t)client * b->words;
}

/* Pages [*first, *first + *n) holding bytes [off, off + len), within the
 * block; false when the span is empty or outside. */
static bool page_span(const mt_ramblock *b, uint64_t off, uint64_t len,
                      uint64_t *first, uint64_t *n)
{
    uint64_t last;

    if (len == 0 || off >= b->max)
        return false;
    if (len > b->max - off)
        len = b->max - off;
    *first = off >> PAGE_SHIFT;
    last = (off + len - 1) >> PAGE_SHIFT;
    *n = last - *first + 1;
    return true;
}

/* Mask of bits [from, to) within one word (0 <= from < to <= 64). */
static uint64_t word_mask(unsigned from, unsigned to)
{
    uint64_t hi = to == 64 ? UINT64_MAX : (UINT64_C(1) << to) - 1;

    return hi & ~((UINT64_C(1) << from) - 1);
}

/*
 * Apply @op to every word of @map covering pages [first, first + n):
 * 0 = set, 1 = clear, 2 = test (returns whether any bit was set),
 * 3 = test and clear.
 */
static bool span_op(uint64_t *map, uint64_t first, uint64_t n, int op)
{
    uint64_t end = first + n;
    bool any = false;

    while (first < end) {
        uint64_t w = first / 64;
        unsigned from = (unsigned)(first % 64);
        unsigned to = end - w * 64 >= 64 ? 64 : (unsigned)(end - w * 64);
        uint64_t m = word_mask(from, to), old;

        switch (op) {
        case 0:
            __atomic_fetch_or(&map[w], m, __ATOMIC_RELAXED);
            break;
        case 1:
            __atomic_fetch_and(&map[w], ~m, __ATOMIC_RELAXED);
            break;
        case 2:
            old = __atomic_load_n(&map[w], __ATOMIC_RELAXED);
            any |= (old & m) != 0;
            break;
        default:
            old = __atomic_fetch_and(&map[w], ~m, __ATOMIC_ACQ_REL);
            any |= (old & m) != 0;
            break;
        }
        first = w * 64 + to;
    }
    return any;
}

void mt__dirty_mark(mt_region *r, uint64_t off, uint64_t len, unsigned mask)
{
    mt_ramblock *b = r->block;
    uint64_t first, n;

    if (!b || !mask || !page_span(b, off, len, &first, &n))
        return;
    for (unsigned c = 0; c < MT_DIRTY_NR_CLIENTS; c++)
        if (mask & (1u << c))
            span_op(client_map(b, c), first, n, 0);
}

void mt__dirty_clear(mt_region *r, uint64_t off, uint64_t len)
{
    mt_ramblock *b = r->block;
    uint64_t first, n;

    if (!b || !page_span(b, off, len, &first, &n))
        return;
    for (unsigned c = 0; c < MT_DIRTY_NR_CLIENTS; c++)
        span_op(client_map(b, c), first, n, 1);
}

/* Common argument checks; *@b receives the block. */
static int check(mt_region *r, uint64_t off, uint64_t len, mt_ramblock **b)
{
    if (!r)
        return MT_EINVAL;
    *b = r->block;
    if (!*b)
        return MT_EKIND;
    if (off > (*b)->max || len > (*b)->max - off)
        return MT_ERANGE;
    return 0;
}

int mt_region_dirty_set(mt_region *r, uint64_t offset, uint64_t len,
                        unsigned clients)
{
    mt_ramblock *b;
    int rc = check(r, offset, len, &b);

    if (rc)
        return rc;
    if (clients >> MT_DIRTY_NR_CLIENTS)
        return MT_EINVAL;
    mt__dirty_mark(r, offset, len, clients);
    return 0;
}

static int test_op(mt_region *r, uint64_t offset, uint64_t len,
                   unsigned client, bool *dirty, int op)
{
    mt_ramblock *b;
    uint64_t first, n;
    int rc = check(r, offset, len, &b);

    if (rc)
        return rc;
    if (client >= MT_DIRTY_NR_CLIENTS || !dirty)
        return MT_EINVAL;
    *dirty = page_span(b, offset, len, &first, &n) &&
             span_op(client_map(b, client), first, n, op);
    return 0;
}

int mt_region_dirty_get(mt_region *r, uint64_t offset, uint64_t len,
                        unsigned client, bool *dirty)
{
    return test_op(r, offset, len, client, dirty, 2);
}

int mt_region_dirty_test_and_clear(mt_region *r, uint64_t offset,
                                   uint64_t len, unsigned client, bool *dirty)
{
    return test_op(r, offset, len, client, dirty, 3);
}

int mt_region_dirty_snapshot(mt_region *r, uint64_t offset, uint64_t len,
                             unsigned client, mt_dirty_snapshot **out)
{
    mt_ramblock *b;
    mt_dirty_snapshot *s;
    uint64_t first = 0, n = 0, words, *map;
    int rc = check(r, offset, len, &b);

    if (rc)
        return rc;
    if (client >= MT_DIRTY_NR_CLIENTS || !out)
        return MT_EINVAL;
    page_span(b, offset, len, &first, &n);
    words = (n + 63) / 64;
    if (words > (SIZE_MAX - sizeof(*s)) / 8)
        return MT_ENOMEM;
    s = first % 64 == 0 ? mt__alloc(r->ctx, sizeof(*s) + (size_t)words * 8)
                        : mt__zalloc(r->ctx, sizeof(*s) + (size_t)words * 8);
    if (!s)
        return MT_ENOMEM;
    s->ctx = r->ctx;
    s->first_page = first;
    s->npages = n;
    map = client_map(b, client);
    if (first % 64 == 0) {
        /* Word aligned: exchange whole words, mask the tail. A word read
         * as zero needs no atomic exchange: a bit set after the read stays
         * in the bitmap for the next collection. */
        for (uint64_t w = 0; w < words; w++) {
            uint64_t left = n - w * 64;
            uint64_t m = left >= 64 ? UINT64_MAX : word_mask(0, (unsigned)left);

            if (!__atomic_load_n(&map[first / 64 + w], __ATOMIC_RELAXED))
                s->bits[w] = 0;
            else if (m == UINT64_MAX)
                s->bits[w] = __atomic_exchange_n(&map[first / 64 + w], 0,
                                                 __ATOMIC_ACQ_REL);
            else
                s->bits[w] = __atomic_fetch_and(&map[first / 64 + w], ~m,
                                                __ATOMIC_ACQ_REL) & m;
        }
    } else {
        for (uint64_t p = 0; p < n; p++) {
            uint64_t pg = first + p, bit = UINT64_C(1) << (pg % 64);

            if (__atomic_fetch_and(&map[pg / 64], ~bit, __ATOMIC_ACQ_REL) &
                bit)
                s->bits[p / 64] |= UINT64_C(1) << (p % 64);
        }
    }
    *out = s;
    return 0;
}

bool mt_dirty_snapshot_get(const mt_dirty_snapshot *s, uint64_t offset)
{
    uint64_t p;

    if (!s || (offset >> PAGE_SHIFT) < s->first_page)
        return false;
    p = (offset >> PAGE_SHIFT) - s->first_page;
    return p < s->npages && (s->bits[p / 64] >> (p % 64) & 1);
}

uint64_t mt_dirty_snapshot_next(const mt_dirty_snapshot *s, uint64_t offset)
{
    uint64_t p, w;

    if (!s)
        return UINT64_MAX;
    p = (offset >> PAGE_SHIFT) < s->first_page
            ? 0 : (offset >> PAGE_SHIFT) - s->first_page;
    while (p < s->npages) {
        uint64_t word = s->bits[p / 64] >> (p % 64);

        if (word) {
            p += (uint64_t)__builtin_ctzll(word);
            return p < s->npages ? (s->first_page + p) << PAGE_SHIFT
                                 : UINT64_MAX;
        }
        w = p / 64 + 1;
        p = w * 64;
    }
    return UINT64_MAX;
}

uint64_t mt_dirty_snapshot_count(const mt_dirty_snapshot *s)
{
    uint64_t c = 0;

    if (!s)
        return 0;
    for (uint64_t w = 0; w < (s->npages + 63) / 64; w++)
        c += (uint64_t)__builtin_popcountll(s->bits[w]);
    return c;
}

void mt_dirty_snapshot_free(mt_dirty_snapshot *s)
{
    if (s)
        mt__free(s->ctx, s);
}

int mt_region_dirty_merge(mt_region *r, uint64_t offset,
                          const uint64_t *bitmap, uint64_t npages,
                          unsigned clients)
{
    mt_ramblock *b;
    uint64_t first;
    int rc;

    if (!r || (!bitmap && npages))
        return MT_EINVAL;
    b = r->block;
    if (!b)
        return MT_EKIND;
    first = offset >> PAGE_SHIFT;
    if (first > b->nr_pages || npages > b->nr_pages - first)
        return MT_ERANGE;
    if (clients >> MT_DIRTY_NR_CLIENTS)
        return MT_EINVAL;
    rc = 0;
    for (unsigned c = 0; c < MT_DIRTY_NR_CLIENTS; c++) {
        uint64_t *map;

        if (!(clients & (1u << c)))
            continue;
        map = client_map(b, c);
        for (uint64_t w = 0; w < (npages + 63) / 64; w++) {
            uint64_t bits = bitmap[w];

            if (w * 64 + 64 > npages)
                bits &= word_mask(0, (unsigned)(npages - w * 64));
            while (bits) {
                /* Word-aligned fast path: OR the word in at once. */
                if ((first + w * 64) % 64 == 0) {
                    __atomic_fetch_or(&map[(first + w * 64) / 64], bits,
                                      __ATOMIC_RELAXED);
                    break;
                } else {
                    uint64_t p = first + w * 64 +
                                 (uint64_t)__builtin_ctzll(bits);

                    __atomic_fetch_or(&map[p / 64], UINT64_C(1) << (p % 64),
                                      __ATOMIC_RELAXED);
                    bits &= bits - 1;
                }
            }
        }
    }
    return rc;
}

int mt_ctx_set_code_tracking(mt_ctx *ctx, bool on)
{
    if (!ctx)
        return MT_EINVAL;
    MT_LOCKED(ctx);
    if (ctx->code_tracking == on)
        return 0;
    mt_begin(ctx);
    __atomic_store_n(&ctx->code_tracking, on, __ATOMIC_RELAXED);
    mt__dirty_all(ctx); /* every RAM range's mask changes */
    return mt_commit(ctx);
}
