/* SPDX-License-Identifier: MIT */
/*
 * access_testdev.h: a recording test device for the access-path unit tests
 * (tests/unit/test_access_*.c). Public API only.
 *
 * A t_dev is a register file of bytes. Its read callback returns the bytes
 * at [offset, offset + size) assembled in the device's byte order, its
 * write callback stores them back the same way, and every callback is
 * logged as (write?, offset, size, value). With that layout a buffer
 * access through mt_as_read/mt_as_write sees the register bytes in address
 * order whatever the device's byte order, while the log shows exactly how
 * the access was cut into callbacks.
 *
 * Knobs: a fixed read value (to show masking and widening), an offset
 * whose callbacks fail with MT_TX_ERROR, and a hook run inside each
 * callback (used to re-enter the address space).
 */
#ifndef ACCESS_TESTDEV_H
#define ACCESS_TESTDEV_H

#include "mt_testutil.h"

#define T_DEV_REGS 0x2000u
#define T_DEV_LOG 64u

typedef struct t_call {
    bool write;
    uint64_t off;
    unsigned size;
    uint64_t val;
} t_call;

typedef struct t_dev t_dev;

struct t_dev {
    mt_endian endian;
    uint8_t regs[T_DEV_REGS];
    t_call log[T_DEV_LOG];
    size_t n;                    /* callbacks so far (the log keeps the first T_DEV_LOG) */

    bool fixed;                  /* reads return fixed_val instead of regs */
    uint64_t fixed_val;

    bool fail;                   /* callbacks at fail_off return MT_TX_ERROR */
    uint64_t fail_off;

    /* Run inside every callback, after logging, with the nesting depth. */
    void (*hook)(t_dev *d, bool is_write, uint64_t off, unsigned depth);
    void *hook_arg;
    unsigned depth;              /* callbacks of this device now running */
    unsigned max_depth;
};

/* A system-memory style root: a container covering the 64-bit space. */
static inline mt_region *t_sys(mt_ctx *ctx)
{
    return t_container(ctx, "system", MT_SIZE_FULL);
}

/* The host memory of RAM-backed region @r (never NULL). */
static inline uint8_t *t_ptr(mt_region *r)
{
    uint8_t *p = mt_region_ram_ptr(r);
    assert_non_null(p);
    return p;
}

static inline void t_dev_init(t_dev *d, mt_endian e)
{
    memset(d, 0, sizeof(*d));
    d->endian = e;
}

static inline void t_dev_clear_log(t_dev *d)
{
    d->n = 0;
    memset(d->log, 0, sizeof(d->log));
}

static inline void t_dev_log(t_dev *d, bool w, uint64_t off, unsigned size,
                             uint64_t val)
{
    if (d->n < T_DEV_LOG) {
        d->log[d->n].write = w;
        d->log[d->n].off = off;
        d->log[d->n].size = size;
        d->log[d->n].val = val;
    }
    d->n++;
}

static inline mt_result t_dev_read(void *opaque, uint64_t off,
                                   uint64_t *value, unsigned size,
                                   mt_attrs attrs)
{
    t_dev *d = opaque;
    uint64_t v = 0;
    mt_result res = MT_TX_OK;
    (void)attrs;

    if (d->fixed) {
        v = d->fixed_val;
    } else if (off < T_DEV_REGS && size <= T_DEV_REGS - off) {
        for (unsigned i = 0; i < size; i++) {
            unsigned idx = d->endian == MT_ENDIAN_BIG ? i : size - 1 - i;
            v = (v << 8) | d->regs[off + idx];
        }
    }
    *value = v;
    t_dev_log(d, false, off, size, v);
    if (d->fail && off == d->fail_off)
        res = MT_TX_ERROR;
    d->depth++;
    if (d->depth > d->max_depth)
        d->max_depth = d->depth;
    if (d->hook)
        d->hook(d, false, off, d->depth);
    d->depth--;
    return res;
}

static inline mt_result t_dev_write(void *opaque, uint64_t off,
                                    uint64_t value, unsigned size,
                                    mt_attrs attrs)
{
    t_dev *d = opaque;
    mt_result res = MT_TX_OK;
    (void)attrs;

    t_dev_log(d, true, off, size, value);
    if (off < T_DEV_REGS && size <= T_DEV_REGS - off) {
        uint64_t v = value;
        for (unsigned i = 0; i < size; i++) {
            unsigned idx = d->endian == MT_ENDIAN_BIG ? size - 1 - i : i;
            d->regs[off + idx] = (uint8_t)v;
            v >>= 8;
        }
    }
    if (d->fail && off == d->fail_off)
        res = MT_TX_ERROR;
    d->depth++;
    if (d->depth > d->max_depth)
        d->max_depth = d->depth;
    if (d->hook)
        d->hook(d, true, off, d->depth);
    d->depth--;
    return res;
}

/* Ops of a t_dev with the given valid/impl rules (accepts: none). */
static inline mt_ops t_dev_ops(mt_endian e, unsigned valid_min,
                               unsigned valid_max, bool valid_unaligned,
                               unsigned impl_min, unsigned impl_max,
                               bool impl_unaligned)
{
    mt_ops ops;
    memset(&ops, 0, sizeof(ops));
    ops.read = t_dev_read;
    ops.write = t_dev_write;
    ops.endian = e;
    ops.valid.min_access_size = valid_min;
    ops.valid.max_access_size = valid_max;
    ops.valid.unaligned = valid_unaligned;
    ops.impl.min_access_size = impl_min;
    ops.impl.max_access_size = impl_max;
    ops.impl.unaligned = impl_unaligned;
    return ops;
}

static inline mt_region *t_dev_region(mt_ctx *ctx, const char *name,
                                      uint64_t size, const mt_ops *ops,
                                      t_dev *d)
{
    mt_region *r = NULL;
    MT_OK(mt_region_new_io(ctx, name, size, ops, d, &r));
    assert_non_null(r);
    return r;
}

static inline mt_region *t_rom_dev_region(mt_ctx *ctx, const char *name,
                                          uint64_t size, const mt_ops *ops,
                                          t_dev *d)
{
    mt_region *r = NULL;
    MT_OK(mt_region_new_rom_device(ctx, name, size, ops, d, &r));
    assert_non_null(r);
    return r;
}

/* Initialise @d as a little-endian device taking aligned accesses of 1 to
 * 4 bytes (valid and impl) and return its I/O region @name, @size bytes. */
static inline mt_region *t_dev_le14(mt_ctx *ctx, const char *name,
                                    uint64_t size, t_dev *d)
{
    mt_ops ops = t_dev_ops(MT_ENDIAN_LITTLE, 1, 4, false, 1, 4, false);
    t_dev_init(d, MT_ENDIAN_LITTLE);
    return t_dev_region(ctx, name, size, &ops, d);
}

/* Initialise @le (little-endian) and @be (big-endian) and map them in @sys
 * as I/O regions "le" at 0x1000 and "be" at 0x2000, 0x100 bytes each, both
 * with valid sizes @valid_min..@valid_max and impl sizes
 * @impl_min..@impl_max, aligned only. */
static inline void t_map_le_be(mt_ctx *ctx, mt_region *sys, t_dev *le,
                               t_dev *be, unsigned valid_min,
                               unsigned valid_max, unsigned impl_min,
                               unsigned impl_max)
{
    mt_ops o_le = t_dev_ops(MT_ENDIAN_LITTLE, valid_min, valid_max, false,
                            impl_min, impl_max, false);
    mt_ops o_be = t_dev_ops(MT_ENDIAN_BIG, valid_min, valid_max, false,
                            impl_min, impl_max, false);
    t_dev_init(le, MT_ENDIAN_LITTLE);
    t_dev_init(be, MT_ENDIAN_BIG);
    t_map(sys, 0x1000, t_dev_region(ctx, "le", 0x100, &o_le, le));
    t_map(sys, 0x2000, t_dev_region(ctx, "be", 0x100, &o_be, be));
}

/* Assert the log holds exactly the given calls. */
static inline void t_check_log_(const t_dev *d, const t_call *e, size_t n,
                                const char *file, int line)
{
    bool bad = d->n != n;
    for (size_t i = 0; !bad && i < n && i < T_DEV_LOG; i++)
        if (d->log[i].write != e[i].write || d->log[i].off != e[i].off ||
            d->log[i].size != e[i].size || d->log[i].val != e[i].val)
            bad = true;
    if (!bad)
        return;
    print_message("%s:%d: callback log mismatch\nexpected %zu call(s):\n",
                  file, line, n);
    for (size_t i = 0; i < n; i++)
        print_message("  %s off %#llx size %u val %#llx\n",
                      e[i].write ? "W" : "R", (unsigned long long)e[i].off,
                      e[i].size, (unsigned long long)e[i].val);
    print_message("got %zu call(s):\n", d->n);
    for (size_t i = 0; i < d->n && i < T_DEV_LOG; i++)
        print_message("  %s off %#llx size %u val %#llx\n",
                      d->log[i].write ? "W" : "R",
                      (unsigned long long)d->log[i].off, d->log[i].size,
                      (unsigned long long)d->log[i].val);
    _fail(file, line);
}

/* CHECK_LOG(dev, {write, off, size, val}, ...) */
#define CHECK_LOG(d, ...)                                                    \
    do {                                                                     \
        const t_call e_[] = { __VA_ARGS__ };                                 \
        t_check_log_((d), e_, sizeof(e_) / sizeof(e_[0]), __FILE__,          \
                     __LINE__);                                              \
    } while (0)

#define CHECK_NO_CALLS(d) assert_int_equal((d)->n, 0)

#define R_ false
#define W_ true

/* Assert an access result, naming both values on failure. */
#define CHECK_RES(expr, want)                                                \
    do {                                                                     \
        mt_result got_ = (expr);                                             \
        mt_result want_ = (want);                                            \
        if (got_ != want_)                                                   \
            fail_msg("%s returned %#x, expected %#x", #expr, got_, want_);  \
    } while (0)

#define U_ MT_ATTRS_UNSPECIFIED

#endif /* ACCESS_TESTDEV_H */
