/* SPDX-License-Identifier: MIT */
/*
 * snapshot_stream.c: the framing of snapshot streams, over a file
 * descriptor (pipes and sockets too: strictly sequential, no seeking) or,
 * for reading, a buffer.
 *
 *   file header   magic "MTSNAP\r\n", version, header size, page size,
 *                 flags, checksum of the 24 bytes before it
 *   section *     type, sequence number, payload length (16 bytes),
 *                 payload, checksum of header and payload (8 bytes)
 *   END section   count of sections before it, chain checksum over the
 *                 file header's checksum and every section checksum
 *
 * The writer buffers small pieces and writes large ones (page data)
 * directly. The reader checks every length against what remains before
 * trusting it and reports the file offset of what it rejects.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "snapshot_int.h"

const mt__snap_format mt__snap_file_format = {
    .magic = { 'M', 'T', 'S', 'N', 'A', 'P', '\r', '\n' },
    .version = MT_SNAPSHOT_FORMAT_VERSION,
    .header_seed = MT__SNAP_SEED_HEADER,
    .noun = "memtree snapshot",
};

/* ---- writing ------------------------------------------------------------- */

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t k = write(fd, p, n);

        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return MT_EIO;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static int flush(mt__snapw *w)
{
    if (!w->rc && w->nbuf)
        w->rc = write_all(w->fd, w->buf, w->nbuf);
    w->nbuf = 0;
    return w->rc;
}

/* Bytes out, outside any checksum bookkeeping. */
static int emit(mt__snapw *w, const void *data, size_t n)
{
    const uint8_t *p = data;

    if (w->rc)
        return w->rc;
    if (n >= sizeof(w->buf) / 2) {
        if (flush(w))
            return w->rc;
        w->rc = write_all(w->fd, p, n);
        return w->rc;
    }
    if (n > sizeof(w->buf) - w->nbuf && flush(w))
        return w->rc;
    memcpy(w->buf + w->nbuf, p, n);
    w->nbuf += n;
    return 0;
}

int mt__snapw_start_as(mt__snapw *w, int fd, const mt__snap_format *f)
{
    uint8_t h[MT__SNAP_HEADER_SIZE];
    uint64_t sum;

    memset(w, 0, offsetof(mt__snapw, buf));
    w->fd = fd;
    memcpy(h, f->magic, 8);
    mt__put32(h + 8, f->version);
    mt__put32(h + 12, MT__SNAP_HEADER_SIZE);
    mt__put32(h + 16, (uint32_t)MT__SNAP_PAGE);
    mt__put32(h + 20, 0);
    sum = mt__sum64(f->header_seed, h, 24);
    mt__put64(h + 24, sum);
    mt__sum_init(&w->chain, MT__SNAP_SEED_CHAIN);
    mt__sum_add(&w->chain, h + 24, 8);
    return emit(w, h, sizeof(h));
}

int mt__snapw_start(mt__snapw *w, int fd)
{
    return mt__snapw_start_as(w, fd, &mt__snap_file_format);
}

int mt__snapw_flush(mt__snapw *w)
{
    if (w->open)
        return w->rc ? w->rc : MT_EINVAL;
    return flush(w);
}

int mt__snapw_begin(mt__snapw *w, uint32_t type, uint64_t len)
{
    uint8_t h[MT__SNAP_SECTION_HEAD];

    if (w->open && !w->rc)
        w->rc = MT_EINVAL;
    mt__put32(h, type);
    mt__put32(h + 4, w->seq);
    mt__put64(h + 8, len);
    mt__sum_init(&w->sec, MT__SNAP_SEED_SECTION);
    mt__sum_add(&w->sec, h, sizeof(h));
    w->left = len;
    w->open = true;
    return emit(w, h, sizeof(h));
}

int mt__snapw_put(mt__snapw *w, const void *p, size_t n)
{
    if (!w->rc && (!w->open || n > w->left))
        w->rc = MT_EINVAL;
    if (w->rc)
        return w->rc;
    mt__sum_add(&w->sec, p, n);
    w->left -= n;
    return emit(w, p, n);
}

int mt__snapw_end(mt__snapw *w)
{
    uint8_t t[8];

    if (!w->rc && (!w->open || w->left))
        w->rc = MT_EINVAL;
    if (w->rc)
        return w->rc;
    mt__put64(t, mt__sum_final(&w->sec));
    mt__sum_add(&w->chain, t, 8);
    w->open = false;
    w->seq++;
    return emit(w, t, 8);
}

int mt__snapw_finish(mt__snapw *w)
{
    uint8_t e[16];

    mt__put64(e, w->seq);
    mt__put64(e + 8, mt__sum_final(&w->chain));
    mt__snapw_begin(w, MT__SNAP_SEC_END, sizeof(e));
    mt__snapw_put(w, e, sizeof(e));
    mt__snapw_end(w);
    return flush(w);
}

void mt__snapw_pages_head(mt__snapw *w, uint32_t block, uint64_t first,
                          uint32_t n, const uint64_t *bits, uint64_t stored)
{
    uint64_t words = mt__snap_words(n);
    uint8_t h[MT__SNAP_PAGES_HEAD];

    mt__put32(h, block);
    mt__put32(h + 4, n);
    mt__put64(h + 8, first);
    mt__snapw_begin(w, MT__SNAP_SEC_PAGES,
                    sizeof(h) + words * 8 + stored * MT__SNAP_PAGE);
    mt__snapw_put(w, h, sizeof(h));
    for (uint64_t i = 0; i < words; i++) {
        uint8_t le[8];

        mt__put64(le, bits[i]);
        mt__snapw_put(w, le, 8);
    }
}

int mt__snapw_pages(mt__snapw *w, uint32_t block, const uint8_t *base,
                    const uint64_t *present, uint64_t first, uint32_t n)
{
    uint64_t data[MT__SNAP_RUN_PAGES / 64] = { 0 };
    uint64_t stored = 0;

    if (n == 0 || n > MT__SNAP_RUN_PAGES) {
        if (!w->rc)
            w->rc = MT_EINVAL;
        return w->rc;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint64_t p = first + i;

        if (base && (!present || mt__snap_bit(present, p)) &&
            !mt__snap_page_zero(base + p * MT__SNAP_PAGE)) {
            data[i / 64] |= UINT64_C(1) << (i % 64);
            stored++;
        }
    }
    mt__snapw_pages_head(w, block, first, n, data, stored);
    /* Runs of stored pages in one piece each. */
    for (uint32_t i = 0; i < n;) {
        uint32_t j = i;

        while (j < n && mt__snap_bit(data, j))
            j++;
        if (j > i)
            mt__snapw_put(w, base + (first + i) * MT__SNAP_PAGE,
                          (size_t)(j - i) * MT__SNAP_PAGE);
        i = j + 1;
    }
    return mt__snapw_end(w);
}

/* ---- reading ------------------------------------------------------------- */

static int truncated(mt__snapr *r)
{
    return mt__snap_fail(r->err, MT_ECORRUPT,
                         "truncated: the input ends at offset %llu",
                         (unsigned long long)r->pos);
}

/* Exactly @n bytes into @p (NULL: discard), outside checksum bookkeeping.
 * A descriptor is read exactly as far as asked, never ahead: a stream may
 * be followed by other data. */
static int take(mt__snapr *r, void *dst, size_t n)
{
    uint8_t *p = dst, tmp[4096];

    if (r->fd < 0) {
        if (n > r->mem_len - (size_t)r->pos)
            return truncated(r);
        if (p)
            memcpy(p, r->mem + r->pos, n);
        r->pos += n;
        return 0;
    }
    while (n) {
        size_t want = p ? n : (n < sizeof(tmp) ? n : sizeof(tmp));
        ssize_t got = read(r->fd, p ? p : tmp, want);

        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return mt__snap_fail(r->err, MT_EIO,
                                 "read error at offset %llu: %s",
                                 (unsigned long long)r->pos, strerror(errno));
        if (got == 0)
            return truncated(r);
        if (p)
            p += got;
        n -= (size_t)got;
        r->pos += (uint64_t)got;
    }
    return 0;
}

int mt__snapr_start_as(mt__snapr *r, const mt__snap_format *f)
{
    uint8_t h[MT__SNAP_HEADER_SIZE];
    uint32_t version;
    int rc;

    r->pos = 0;
    r->seq = 0;
    r->left = 0;
    rc = take(r, h, 8);
    if (rc == MT_ECORRUPT) {
        bool empty = r->fd < 0 ? r->mem_len == 0 : r->pos == 0;

        return mt__snap_fail(r->err, MT_EPARSE, "not a %s (%s)", f->noun,
                             empty ? "empty" : "too short");
    }
    if (rc)
        return rc;
    if (f->other_magic && !memcmp(h, f->other_magic, 8))
        return mt__snap_fail(r->err, MT_EPARSE, "this is a %s, not a %s",
                             f->other_noun, f->noun);
    if (memcmp(h, f->magic, 8))
        return mt__snap_fail(r->err, MT_EPARSE, "not a %s (bad magic)",
                             f->noun);
    rc = take(r, h + 8, sizeof(h) - 8);
    if (rc)
        return rc;
    version = mt__get32(h + 8);
    if (r->verify && mt__get64(h + 24) != mt__sum64(f->header_seed, h, 24))
        return mt__snap_fail(r->err, MT_ECORRUPT,
                             "%s header checksum mismatch", f->noun);
    if (version != f->version)
        return mt__snap_fail(r->err, MT_EPARSE,
                             "%s format version %u is not supported "
                             "(this library reads version %u)", f->noun,
                             version, f->version);
    if (mt__get32(h + 12) != MT__SNAP_HEADER_SIZE ||
        mt__get32(h + 16) != MT__SNAP_PAGE || mt__get32(h + 20) != 0)
        return mt__snap_fail(r->err, MT_EPARSE,
                             "unsupported header size, page size or flags "
                             "in the %s header", f->noun);
    mt__sum_init(&r->chain, MT__SNAP_SEED_CHAIN);
    mt__sum_add(&r->chain, h + 24, 8);
    return 0;
}

int mt__snapr_start(mt__snapr *r)
{
    return mt__snapr_start_as(r, &mt__snap_file_format);
}

int mt__snapr_begin(mt__snapr *r, uint32_t *type, uint64_t *len)
{
    uint8_t h[MT__SNAP_SECTION_HEAD];
    int rc;

    r->sec_start = r->pos;
    rc = take(r, h, sizeof(h));
    if (rc)
        return rc;
    *type = mt__get32(h);
    *len = mt__get64(h + 8);
    if (mt__get32(h + 4) != r->seq)
        return mt__snap_fail(r->err, MT_EPARSE,
                             "section at offset %llu: number %u, expected %u",
                             (unsigned long long)r->sec_start,
                             mt__get32(h + 4), r->seq);
    if (r->fd < 0 && *len > r->mem_len - r->pos)
        return truncated(r);
    mt__sum_init(&r->sec, MT__SNAP_SEED_SECTION);
    mt__sum_add(&r->sec, h, sizeof(h));
    r->left = *len;
    return 0;
}

int mt__snapr_get(mt__snapr *r, void *p, size_t n)
{
    uint8_t tmp[4096];
    int rc;

    if (n > r->left)
        return mt__snap_fail(r->err, MT_EPARSE,
                             "section at offset %llu is shorter than its "
                             "contents", (unsigned long long)r->sec_start);
    if (p) {
        rc = take(r, p, n);
        if (rc)
            return rc;
        if (r->verify)
            mt__sum_add(&r->sec, p, n);
        r->left -= n;
        return 0;
    }
    while (n) {
        size_t k = n < sizeof(tmp) ? n : sizeof(tmp);

        rc = take(r, tmp, k);
        if (rc)
            return rc;
        if (r->verify)
            mt__sum_add(&r->sec, tmp, k);
        r->left -= k;
        n -= k;
    }
    return 0;
}

int mt__snapr_end(mt__snapr *r)
{
    uint8_t t[8];
    int rc;

    if (r->left)
        return mt__snap_fail(r->err, MT_EPARSE,
                             "section at offset %llu is longer than its "
                             "contents", (unsigned long long)r->sec_start);
    rc = take(r, t, 8);
    if (rc)
        return rc;
    if (r->verify && mt__get64(t) != mt__sum_final(&r->sec))
        return mt__snap_fail(r->err, MT_ECORRUPT,
                             "checksum mismatch in section %u at offset %llu",
                             r->seq, (unsigned long long)r->sec_start);
    mt__sum_add(&r->chain, t, 8);
    r->seq++;
    return 0;
}

int mt__snapr_finish(mt__snapr *r)
{
    uint8_t e[16];
    uint64_t chain = mt__sum_final(&r->chain);
    uint32_t seq = r->seq;
    int rc;

    if (r->left != sizeof(e))
        return mt__snap_fail(r->err, MT_EPARSE,
                             "end section at offset %llu has %llu bytes",
                             (unsigned long long)r->sec_start,
                             (unsigned long long)r->left);
    rc = mt__snapr_get(r, e, sizeof(e));
    if (!rc)
        rc = mt__snapr_end(r);
    if (rc)
        return rc;
    if (mt__get64(e) != seq)
        return mt__snap_fail(r->err, MT_ECORRUPT,
                             "end section counts %llu sections, %u were read",
                             (unsigned long long)mt__get64(e), seq);
    if (r->verify && mt__get64(e + 8) != chain)
        return mt__snap_fail(r->err, MT_ECORRUPT,
                             "chained checksum mismatch in the end section");
    /* A buffer holds exactly one snapshot; a descriptor is left just
     * after it. */
    if (r->fd < 0 && r->pos != r->mem_len)
        return mt__snap_fail(r->err, MT_EPARSE,
                             "data after the end section at offset %llu",
                             (unsigned long long)r->pos);
    return 0;
}

int mt__snapr_pages_head(mt__snapr *r, uint64_t len, mt__snap_pages *pg)
{
    uint8_t h[16], le[8];
    uint64_t words, stored = 0;
    int rc;

    rc = mt__snapr_get(r, h, sizeof(h));
    if (rc)
        return rc;
    pg->block = mt__get32(h);
    pg->n = mt__get32(h + 4);
    pg->first = mt__get64(h + 8);
    if (pg->n == 0 || pg->n > MT__SNAP_RUN_PAGES)
        return mt__snap_fail(r->err, MT_EPARSE,
                             "pages at offset %llu: a run of %u pages",
                             (unsigned long long)r->sec_start, pg->n);
    words = mt__snap_words(pg->n);
    memset(pg->bits, 0, sizeof(pg->bits));
    for (uint64_t i = 0; i < words; i++) {
        rc = mt__snapr_get(r, le, 8);
        if (rc)
            return rc;
        pg->bits[i] = mt__get64(le);
        stored += (uint64_t)__builtin_popcountll(pg->bits[i]);
    }
    if (pg->n % 64 && pg->bits[words - 1] >> (pg->n % 64))
        return mt__snap_fail(r->err, MT_EPARSE,
                             "pages at offset %llu: bits past the run",
                             (unsigned long long)r->sec_start);
    if (len != sizeof(h) + words * 8 + stored * MT__SNAP_PAGE)
        return mt__snap_fail(r->err, MT_EPARSE,
                             "pages at offset %llu: %llu bytes for %llu "
                             "stored pages", (unsigned long long)r->sec_start,
                             (unsigned long long)len,
                             (unsigned long long)stored);
    return 0;
}

int mt__snapr_pages_data(mt__snapr *r, const mt__snap_pages *pg,
                         uint8_t *base, bool clear_zero)
{
    for (uint32_t i = 0; i < pg->n;) {
        uint32_t j = i;
        int rc;

        while (j < pg->n && mt__snap_bit(pg->bits, j) ==
                                mt__snap_bit(pg->bits, i))
            j++;
        if (mt__snap_bit(pg->bits, i)) {
            rc = mt__snapr_get(r, base + (pg->first + i) * MT__SNAP_PAGE,
                               (size_t)(j - i) * MT__SNAP_PAGE);
            if (rc)
                return rc;
        } else if (clear_zero) {
            memset(base + (pg->first + i) * MT__SNAP_PAGE, 0,
                   (size_t)(j - i) * MT__SNAP_PAGE);
        }
        i = j;
    }
    return mt__snapr_end(r);
}
